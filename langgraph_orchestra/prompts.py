"""Every model-facing string of the library, in one place.

Each template is a module constant and a field of `Prompts`; pass
`prompts=Prompts(revision=...)` (or `dataclasses.replace(DEFAULT_PROMPTS, ...)`) to any
factory to override one without touching the others.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "APPROVAL_REQUEST",
    "DEFAULT_PROMPTS",
    "PARTICIPANT_LINE",
    "REASK",
    "REVISION_BY_CHECKER",
    "REVISION_REQUEST",
    "SPEAKER_SELECTION",
    "SYNTHESIS_ITEM",
    "SYNTHESIS_REQUEST",
    "VERDICT_APPROVED",
    "VERDICT_REQUEST",
    "Prompts",
]

REVISION_REQUEST = """\
{reviewer} did not accept your last answer and asks for a revision.

Feedback:
{feedback}

Reply with the complete revised answer."""
"""Sent to an agent whose output a reviewer rejected, right after that output in its view.
Fields: reviewer, feedback, and draft (the rejected output, unused by default)."""

SYNTHESIS_REQUEST = """\
The task above was given to several agents, who answered independently. \
Write the single best final answer: keep what is correct, resolve disagreements, \
and drop repetition.

{answers}"""
"""Sent to a synthesizing aggregator. Field: answers (the joined `SYNTHESIS_ITEM`s)."""

SYNTHESIS_ITEM = "## Answer from {name}\n{text}"
"""One branch's answer inside `SYNTHESIS_REQUEST`. Fields: name, text."""

REASK = """\
Your last reply could not be used as a {schema}: {error}

Your reply was: {reply}

Answer again, in the requested form, fixing that problem."""
"""Sent after a structured reply that failed its schema or check, before asking again.
Fields: schema (its name), error (what was wrong), reply (the refused reply)."""

SPEAKER_SELECTION = """\
You manage a conversation between these participants:

{participants}

Read the conversation so far and choose who speaks next, so the task moves forward. \
Choose one of: {candidates}. Give a short reason for your choice."""
"""System prompt of a group chat's LLM selector. Fields: participants (one
`PARTICIPANT_LINE` each), candidates (the names allowed this round)."""

PARTICIPANT_LINE = "- {name}: {description}"
"""One participant in `SPEAKER_SELECTION`. Fields: name, description."""

VERDICT_REQUEST = """\
Check the latest draft from {maker} against the task. Approve it if it is ready as it \
is; otherwise ask for a revision and list the reasons, each one specific and actionable."""
"""Sent to a maker-checker's checker model (structured `Verdict`). Field: maker."""

REVISION_BY_CHECKER = """\
{checker} asks for a revision of your last draft.

Reasons:
{reasons}

Reply with the complete revised draft."""
"""Sent to the maker after a checker's `revise` verdict. Fields: checker, reasons (one
per line)."""

VERDICT_APPROVED = """\
Approved.
{reasons}"""
"""How a checker's or approver's approval reads in the transcript. Field: reasons (one
per line)."""

APPROVAL_REQUEST = """\
Review the latest proposal in the conversation. Approve it only if you agree with it as \
it stands; otherwise reject it and say why."""
"""Sent to an approver of a group chat with `approvers=` (structured `Verdict`)."""


@dataclass(frozen=True)
class Prompts:
    """The prompt templates a team uses; override any field."""

    revision: str = REVISION_REQUEST
    """Revision request after a rejected output (`reviewer`, `draft`, `feedback`)."""
    synthesis: str = SYNTHESIS_REQUEST
    """Request to a synthesizing aggregator (`answers`)."""
    synthesis_item: str = SYNTHESIS_ITEM
    """One answer inside the synthesis request (`name`, `text`)."""
    reask: str = REASK
    """Asking again after an invalid structured reply (`schema`, `error`, `reply`)."""
    speaker_selection: str = SPEAKER_SELECTION
    """A group chat selector's instructions (`participants`, `candidates`)."""
    participant_line: str = PARTICIPANT_LINE
    """One participant in the selector's instructions (`name`, `description`)."""
    verdict: str = VERDICT_REQUEST
    """A maker-checker's request for a verdict (`maker`)."""
    checker_revision: str = REVISION_BY_CHECKER
    """The revision request a checker's verdict sends the maker (`checker`, `reasons`)."""
    verdict_approved: str = VERDICT_APPROVED
    """How an approving verdict reads in the transcript (`reasons`)."""
    approval: str = APPROVAL_REQUEST
    """A consensus approver's request for a verdict."""


DEFAULT_PROMPTS = Prompts()
"""The templates used when a factory is given no `prompts`."""
