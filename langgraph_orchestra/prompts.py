"""Every model-facing string of the library, in one place.

Each template is a module constant and a field of `Prompts`; pass
`prompts=Prompts(revision=...)` (or `dataclasses.replace(DEFAULT_PROMPTS, ...)`) to any
factory to override one without touching the others.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "APPROVAL_REQUEST",
    "BRIEF",
    "DEFAULT_PROMPTS",
    "DELEGATE_TOOL",
    "DELEGATION_PENDING",
    "ESCALATE_TOOL",
    "EVALUATION_REQUEST",
    "HANDOFF_ACK",
    "HANDOFF_CONTEXT",
    "HANDOFF_INVALID",
    "HANDOFF_REFUSED",
    "HANDOFF_SECOND",
    "MAGENTIC_FINAL",
    "MAGENTIC_PLAN",
    "MAGENTIC_PROGRESS",
    "MAGENTIC_REPLAN",
    "MANAGER_INSTRUCTIONS",
    "NETWORK_FINISH_ACK",
    "NETWORK_FINISH_EMPTY",
    "NETWORK_FINISH_TOOL",
    "NETWORK_MESSAGE",
    "NETWORK_QUIET",
    "NETWORK_REFUSED",
    "NETWORK_SEND_TOOL",
    "NETWORK_SENT",
    "NETWORK_SENT_NOTE",
    "PARTICIPANT_LINE",
    "PLANNER_INSTRUCTIONS",
    "PLAN_REJECTED",
    "PLAN_REPLAN",
    "PLAN_SCORED",
    "PLAN_STEP_LINE",
    "PLAN_STEP_OUTPUT",
    "PLAN_SYNTHESIS",
    "REASK",
    "RECORD_ITEM",
    "RECORD_OUTPUT",
    "RECORD_VIEW",
    "REDACTED",
    "REVISION_BY_CHECKER",
    "REVISION_REQUEST",
    "SPEAKER_SELECTION",
    "SUMMARY_INSTRUCTIONS",
    "SUMMARY_LINE",
    "SUMMARY_UPDATE",
    "SUMMARY_VIEW",
    "SYNTHESIS_ITEM",
    "SYNTHESIS_REQUEST",
    "TOOL_REJECTED",
    "TRANSFER_TOOL",
    "UNKNOWN_TOOL",
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

REDACTED = "[redacted {kind}]"
"""What replaces a detected e-mail address, phone number, card number or secret
(`kind`: `email`, `phone`, `card`, `secret`); agents see it with `redact_agents=True`."""

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

TOOL_REJECTED = """\
The call was not run: {reviewer} rejected it. Reason: {feedback}
Do not retry it unchanged; continue without it or ask the user."""
"""The tool result a model gets when a reviewer rejects its tool call. Fields: reviewer,
feedback."""

TRANSFER_TOOL = """\
Transfer the conversation to {target}: {description}
Call it when {target} is the right one to continue; you stop talking after it."""
"""Description of a `transfer_to_<agent>` tool. Fields: target, description."""

HANDOFF_ACK = "Transferred to {target}."
"""The tool result of a transfer that went through. Field: target."""

HANDOFF_REFUSED = """\
Transfer refused: you cannot transfer to '{target}'. You may transfer to: {allowed}."""
"""The tool result of a transfer to an undeclared or unknown agent. Fields: target,
allowed."""

HANDOFF_SECOND = """\
Transfer to '{target}' refused: only the first transfer of a message is carried out."""
"""The tool result of a second transfer in one message. Field: target."""

HANDOFF_INVALID = """\
Transfer to '{target}' refused: its details are not valid ({error}). Fix them and call \
the tool again."""
"""The tool result of a transfer whose payload failed the target's schema. Fields:
target, error."""

HANDOFF_CONTEXT = """\
You were handed this conversation by {source}, with these details:
{payload}"""
"""What the target of a transfer with a payload sees after the conversation. Fields:
source, payload (JSON)."""

UNKNOWN_TOOL = "Error: there is no tool '{tool}'. You may call: {tools}."
"""The tool result of a call to a tool the agent does not have. Fields: tool, tools."""

ESCALATE_TOOL = """\
Ask a human operator for help when you cannot go on alone (missing authority, an \
unclear policy, an upset customer). Give your question; the answer comes back as this \
tool's result."""
"""Description of the opt-in `escalate_to_human` tool."""

NETWORK_SEND_TOOL = """\
Send a message to {peer}: {description}
The message is delivered at the end of this round; {peer} may answer you with a message."""
"""Description of a network's `send_to_<peer>` tool. Fields: peer, description."""

NETWORK_FINISH_TOOL = """\
Finish the team's work with the final answer to the task. Call it only when the answer \
is complete: the run ends and no further message is delivered."""
"""Description of a network's `finish` tool."""

NETWORK_SENT = "Message to {peer} sent; it is delivered at the end of this round."
"""The tool result of a send that went through. Field: peer."""

NETWORK_FINISH_ACK = "Answer recorded; the run ends."
"""The tool result of a `finish` call that went through."""

NETWORK_FINISH_EMPTY = "Finish refused: the answer is empty. Give the complete answer."
"""The tool result of a `finish` call without an answer."""

NETWORK_REFUSED = """\
Message refused: you cannot send to '{peer}'. You may send to: {allowed}."""
"""The tool result of a send to an unlinked or unknown peer. Fields: peer, allowed."""

NETWORK_MESSAGE = "Message from {sender}:\n{message}"
"""How a delivered message reads to its recipient. Fields: sender, message."""

NETWORK_SENT_NOTE = "Message to {peer}:\n{message}"
"""How an agent's own delivered message reads to it in later rounds. Fields: peer, message."""

NETWORK_QUIET = """\
No one sent a message in the last round. Send a message to a peer if the work needs \
one, or finish with the answer."""
"""What every agent sees after a round without messages (when `quiet_rounds` > 1)."""

MANAGER_INSTRUCTIONS = """\
You manage this team:

{team}

Break the request in the conversation into tasks and delegate them with your tools, one \
task per worker at a time; tasks that do not depend on each other can go out together \
in one message. Each worker sees only the task you write (and the team's brief), so make \
every task complete. Check the results; delegate again with corrections if needed. When \
you have what you need, answer the request yourself without calling a tool."""
"""A hierarchical manager's system prompt. Field: team (one `PARTICIPANT_LINE` each)."""

DELEGATE_TOOL = "Give {worker} a task. {worker}: {description}"
"""Description of a `delegate_to_<worker>` tool. Fields: worker, description."""

DELEGATION_PENDING = "Delegated to {worker}; its result will replace this message."
"""A delegation's tool result while its worker runs (replaced by the result). Field: worker."""

BRIEF = "Context for your task:\n{brief}"
"""The team's brief as a worker sees it before its task. Field: brief."""

MAGENTIC_PLAN = """\
You lead this team:

{team}

Before anyone works on the request in the conversation, write the task ledger: the \
facts given in the request, the facts the team must look up, the facts to derive from \
others, your educated guesses (marked as guesses), and a short plan whose every step \
names the participant for it."""
"""A magentic manager's first task ledger. Field: team (one `PARTICIPANT_LINE` each)."""

MAGENTIC_REPLAN = """\
You lead this team:

{team}

The work so far has stalled or the plan was sent back. Read the whole conversation and \
write the task ledger again: update the facts with what was learned, drop guesses that \
proved wrong, and make a new plan that avoids what did not work.

The ledger so far:
{ledger}

Reviewer's feedback on the plan: {feedback}"""
"""A magentic manager's replan. Fields: team, ledger (the current one as text),
feedback."""

MAGENTIC_PROGRESS = """\
You lead this team:

{team}

The task ledger:
{ledger}

Read the conversation and fill in the progress ledger: is the request fully satisfied; \
is the team in a loop (repeating the same requests or answers); is progress being made; \
who acts next (one of: {names}); the instruction that participant gets, specific and \
self-contained; and your reason."""
"""A magentic manager's progress ledger. Fields: team, ledger, names."""

MAGENTIC_FINAL = """\
Write the final answer to the request in the conversation from what the team produced. \
Use only what is there; where something is missing or uncertain, say so plainly \
instead of guessing.

The task ledger:
{ledger}"""
"""A magentic manager's final answer. Field: ledger."""

APPROVAL_REQUEST = """\
Review the latest proposal in the conversation. Approve it only if you agree with it as \
it stands; otherwise reject it and say why."""
"""Sent to an approver of a group chat with `approvers=` (structured `Verdict`)."""


PLANNER_INSTRUCTIONS = """\
You plan the work of this team:

{team}

Break the request in the conversation into steps. Give each step a short unique id, \
the agent that does it, a complete instruction, and depends_on: the ids of the steps \
whose outputs it needs. An agent sees only its instruction and the outputs of the steps \
it depends on, so make every instruction self-contained. Steps that do not depend on \
each other run at the same time; dependencies must not loop."""
"""A planner's system prompt (structured `Plan`). Field: team (one `PARTICIPANT_LINE`
each)."""

PLAN_REPLAN = """\
Your previous plan has to be replaced. {why}

What that plan did:
{done}

Write a new plan for the request that fixes this; reuse what was good."""
"""Sent to the planner after the request when it plans again. Fields: why
(`PLAN_REJECTED` or `PLAN_SCORED`), done (one `PLAN_STEP_LINE` per step)."""

PLAN_REJECTED = "A reviewer rejected it: {feedback}"
"""Why a planner replans after a rejected plan. Field: feedback."""

PLAN_SCORED = """\
Its result scored {score:.2f}, below the {threshold:.2f} needed. The evaluator's reasons:
{reasons}"""
"""Why a planner replans after a low score. Fields: score, threshold, reasons (one per
line)."""

PLAN_STEP_LINE = "- {step} ({agent}, {status}): {instruction}\n  Output: {output}"
"""One step of a replaced plan in `PLAN_REPLAN`. Fields: step, agent, status,
instruction, output."""

PLAN_STEP_OUTPUT = "Output of step {step} ({agent}):\n{output}"
"""A finished step's output, as a step that depends on it (or the synthesizer) sees it.
Fields: step, agent, output."""

PLAN_SYNTHESIS = """\
The team carried out a plan for the request above. Write the final answer from the \
outputs of its steps:

{outputs}"""
"""Sent to a planner-executor's synthesizer. Field: outputs (the `PLAN_STEP_OUTPUT`s)."""

EVALUATION_REQUEST = """\
Score this answer to the request above from 0 (useless) to 1 (complete and correct), \
and give your reasons, each specific:

{result}"""
"""Sent to a planner-executor's evaluator (structured `Score`). Field: result."""


SUMMARY_INSTRUCTIONS = """\
You keep the running summary of a team's conversation. Extend the summary with the new \
messages: keep every decision, fact, open question and who said what; drop repetition \
and small talk. Answer with the updated summary only, in at most {words} words."""
"""The summarizer's system prompt (`Summary` context policy). Field: words."""

SUMMARY_UPDATE = """\
Summary so far:
{summary}

New messages:
{messages}"""
"""Sent to the summarizer with the turns that left the window. Fields: summary (the
previous summary, or `(none yet)`), messages (the `SUMMARY_LINE`s)."""

SUMMARY_LINE = "{name}: {text}"
"""One message in `SUMMARY_UPDATE`. Fields: name (the speaker), text."""

SUMMARY_VIEW = "Summary of the earlier conversation:\n{summary}"
"""How an agent with a `Summary` context sees the summary, before the latest turns.
Field: summary."""

RECORD_VIEW = "The record so far:\n{fields}"
"""The record fields an agent reads (`Agent(reads=...)`), shown at the top of its context
(`fields`: one `RECORD_ITEM` per field)."""

RECORD_ITEM = "- {field}: {value}"
"""One field of a rendered record or typed output (`field`, `value`)."""

RECORD_OUTPUT = "{name} recorded:\n{fields}"
"""The transcript's rendering of an agent's typed output (`Agent(output=...)`), so agents
that read text see it (`name`, `fields`)."""


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
    tool_rejected: str = TOOL_REJECTED
    """The tool result of a rejected tool call (`reviewer`, `feedback`)."""
    transfer_tool: str = TRANSFER_TOOL
    """A transfer tool's description (`target`, `description`)."""
    handoff_ack: str = HANDOFF_ACK
    """A transfer's tool result (`target`)."""
    handoff_refused: str = HANDOFF_REFUSED
    """A refused transfer's tool result (`target`, `allowed`)."""
    handoff_second: str = HANDOFF_SECOND
    """A second transfer's tool result (`target`)."""
    handoff_invalid: str = HANDOFF_INVALID
    """An invalid payload's tool result (`target`, `error`)."""
    handoff_context: str = HANDOFF_CONTEXT
    """The payload shown to a transfer's target (`source`, `payload`)."""
    unknown_tool: str = UNKNOWN_TOOL
    """The result of a call to a tool the agent does not have (`tool`, `tools`)."""
    escalate_tool: str = ESCALATE_TOOL
    """The `escalate_to_human` tool's description."""
    network_send_tool: str = NETWORK_SEND_TOOL
    """A network's send tool description (`peer`, `description`)."""
    network_finish_tool: str = NETWORK_FINISH_TOOL
    """A network's `finish` tool description."""
    network_sent: str = NETWORK_SENT
    """A send's tool result (`peer`)."""
    network_finish_ack: str = NETWORK_FINISH_ACK
    """A `finish` call's tool result."""
    network_finish_empty: str = NETWORK_FINISH_EMPTY
    """An empty `finish` call's tool result."""
    network_refused: str = NETWORK_REFUSED
    """A refused send's tool result (`peer`, `allowed`)."""
    network_message: str = NETWORK_MESSAGE
    """A delivered message as its recipient sees it (`sender`, `message`)."""
    network_sent_note: str = NETWORK_SENT_NOTE
    """An agent's own delivered message as it sees it in later rounds (`peer`, `message`)."""
    network_quiet: str = NETWORK_QUIET
    """What agents see after a round without messages."""
    manager: str = MANAGER_INSTRUCTIONS
    """A hierarchical manager's system prompt (`team`)."""
    delegate_tool: str = DELEGATE_TOOL
    """A delegation tool's description (`worker`, `description`)."""
    delegation_pending: str = DELEGATION_PENDING
    """A delegation's tool result while its worker runs (`worker`)."""
    brief: str = BRIEF
    """The brief a worker sees (`brief`)."""
    magentic_plan: str = MAGENTIC_PLAN
    """A magentic manager's first task ledger (`team`)."""
    magentic_replan: str = MAGENTIC_REPLAN
    """A magentic manager's replan (`team`, `ledger`, `feedback`)."""
    magentic_progress: str = MAGENTIC_PROGRESS
    """A magentic manager's progress ledger (`team`, `ledger`, `names`)."""
    magentic_final: str = MAGENTIC_FINAL
    """A magentic manager's final answer (`ledger`)."""
    approval: str = APPROVAL_REQUEST
    """A consensus approver's request for a verdict."""
    planner: str = PLANNER_INSTRUCTIONS
    """A planner's system prompt (`team`)."""
    plan_replan: str = PLAN_REPLAN
    """The planner's request to plan again (`why`, `done`)."""
    plan_rejected: str = PLAN_REJECTED
    """Why it replans after a rejection (`feedback`)."""
    plan_scored: str = PLAN_SCORED
    """Why it replans after a low score (`score`, `threshold`, `reasons`)."""
    plan_step_line: str = PLAN_STEP_LINE
    """A replaced plan's step (`step`, `agent`, `status`, `instruction`, `output`)."""
    plan_step_output: str = PLAN_STEP_OUTPUT
    """A finished step's output as others see it (`step`, `agent`, `output`)."""
    plan_synthesis: str = PLAN_SYNTHESIS
    """The synthesizer's request (`outputs`)."""
    evaluation: str = EVALUATION_REQUEST
    """The evaluator's request for a score (`result`)."""
    summary_instructions: str = SUMMARY_INSTRUCTIONS
    """The summarizer's system prompt (`words`)."""
    summary_update: str = SUMMARY_UPDATE
    """The summarizer's request (`summary`, `messages`)."""
    summary_line: str = SUMMARY_LINE
    """One message in the summarizer's request (`name`, `text`)."""
    summary_view: str = SUMMARY_VIEW
    """The summary as agents see it (`summary`)."""
    record_output: str = RECORD_OUTPUT
    """The transcript's rendering of a typed output (`name`, `fields`)."""
    record_item: str = RECORD_ITEM
    """One field of a typed output's or a shown record's rendering (`field`, `value`)."""
    record_view: str = RECORD_VIEW
    """The record fields an agent reads, at the top of its context (`fields`)."""


DEFAULT_PROMPTS = Prompts()
"""The templates used when a factory is given no `prompts`."""
