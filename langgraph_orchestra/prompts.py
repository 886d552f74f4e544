"""Every model-facing string of the library, in one place.

Each template is a module constant and a field of `Prompts`; pass
`prompts=Prompts(revision=...)` (or `dataclasses.replace(DEFAULT_PROMPTS, ...)`) to any
factory to override one without touching the others.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "DEFAULT_PROMPTS",
    "REVISION_REQUEST",
    "SYNTHESIS_ITEM",
    "SYNTHESIS_REQUEST",
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


@dataclass(frozen=True)
class Prompts:
    """The prompt templates a team uses; override any field."""

    revision: str = REVISION_REQUEST
    """Revision request after a rejected output (`reviewer`, `draft`, `feedback`)."""
    synthesis: str = SYNTHESIS_REQUEST
    """Request to a synthesizing aggregator (`answers`)."""
    synthesis_item: str = SYNTHESIS_ITEM
    """One answer inside the synthesis request (`name`, `text`)."""


DEFAULT_PROMPTS = Prompts()
"""The templates used when a factory is given no `prompts`."""
