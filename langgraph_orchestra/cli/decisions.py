"""Decisions from the command line: flags, answers at a prompt, and the commands to give them.

Each kind of interrupt is decided with its schema's actions (`APPROVAL_ACTIONS`,
`ESCALATION_ACTIONS`, `TOOL_APPROVAL_ACTIONS`, `LIMIT_ACTIONS`, `PLAN_REVIEW_ACTIONS`,
`CONFLICT_ACTIONS`, `SPLIT_ACTIONS`);
each action is a flag of `orchestra resume` named after it, except `respond`, which the
command line calls `--answer`. A flag may fit several kinds: `--approve`, `--reject TEXT`
and `--edit FILE` decide an output's or a tool call's approval, a plan's review and a
plan's approval (for a tool call, the file holds the arguments as a JSON object; for a
magentic manager's plan, its steps, one per line; for a planner-executor's plan, the
plan as JSON, `{"steps": [...]}`; for an agent's typed output, its fields as a JSON
object), and `--answer TEXT` also answers the user at a
handoff limit. A person's message (a group chat's human seat, the user's reply in an
interactive handoff team, the answer to an agent's `escalate_to_human` question) is
`--say TEXT`, a `HumanTurn`. A fan-out's record conflict is settled with `--pick AGENT`
(that branch's value) or `--supply VALUE` (JSON, or the text as is for a field whose
values are text); a split decision with `--pick AGENT` (that branch's answer), `--supply
TEXT` (an answer of your own) or `--abort`.
"""

from __future__ import annotations

import getpass
import json
import shlex
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langgraph.types import Command
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.prompt import Prompt

from langgraph_orchestra.errors import DecisionError
from langgraph_orchestra.nodes.approval import APPROVAL_ACTIONS, ApprovalDecision
from langgraph_orchestra.nodes.conflicts import (
    CONFLICT_ACTIONS,
    SPLIT_ACTIONS,
    ConflictDecision,
    SplitDecision,
)
from langgraph_orchestra.nodes.escalation import ESCALATION_ACTIONS, EscalationDecision
from langgraph_orchestra.nodes.handoff import LIMIT_ACTIONS, HandoffLimitDecision
from langgraph_orchestra.nodes.human import HumanTurn
from langgraph_orchestra.nodes.ledgers import PLAN_REVIEW_ACTIONS, PlanReviewDecision
from langgraph_orchestra.nodes.plans import PlanApprovalDecision
from langgraph_orchestra.nodes.tool_approval import TOOL_APPROVAL_ACTIONS, ToolApprovalDecision
from langgraph_orchestra.threads import Decision, PendingInterrupt, resume_value

__all__ = [
    "FlagDecision",
    "ask_decision",
    "auto_decision",
    "decision_from_flags",
    "resume_commands",
    "resume_from_flags",
    "reviewer_name",
]

_SAY = "say"
"""The action of a person's message."""

_PERSON_KINDS = ("human_turn", "user_turn", "human_help")
"""The kinds of interrupt that wait for a person's message."""

_ACTIONS: Mapping[str, Sequence[str]] = {
    "approval": APPROVAL_ACTIONS,
    "tool_approval": TOOL_APPROVAL_ACTIONS,
    "exception": ESCALATION_ACTIONS,
    "handoff_limit": LIMIT_ACTIONS,
    "plan_review": PLAN_REVIEW_ACTIONS,
    "plan_approval": PLAN_REVIEW_ACTIONS,
    **dict.fromkeys(_PERSON_KINDS, (_SAY,)),
    "conflict": CONFLICT_ACTIONS,
    "disagreement": SPLIT_ACTIONS,
}
"""The actions that decide each kind of interrupt."""

_WORDS = {"respond": "answer"}
"""Actions the command line names otherwise (flag and prompt choice)."""

_FLAG_KINDS = (
    "approval",
    "tool_approval",
    "exception",
    "handoff_limit",
    "human_turn",
    "plan_review",
    "plan_approval",
    "conflict",
    "disagreement",
)
"""The kind a flag is checked for before the thread is read: the first that takes it."""


@dataclass(frozen=True)
class _Text:
    """The text an action takes."""

    metavar: str
    """How the flag's value is named in hints."""
    example: str
    """The value shown in a printed `orchestra resume` command."""
    prompt: str
    """What is asked for at a prompt."""


_TEXTS: Mapping[str, _Text] = {
    "reject": _Text("TEXT", "what to change", "feedback for the agent"),
    "edit": _Text("FILE", "replacement.txt", "replacement text"),
    "respond": _Text("TEXT", "your answer", "your answer"),
    "supply": _Text("TEXT", "the output to use", "output to use"),
    "continue": _Text("AGENT", "AGENT", "who takes over"),
    "answer": _Text("TEXT", "your answer", "your answer to the user"),
    "pick": _Text("AGENT", "AGENT", "whose"),
    _SAY: _Text("TEXT", "your message", "your message"),
}
_KIND_TEXTS: Mapping[tuple[str, str], _Text] = {
    ("tool_approval", "edit"): _Text("FILE", "args.json", "the arguments, as a JSON object"),
    ("plan_review", "edit"): _Text(
        "FILE", "plan.txt", "step {number} (an empty line ends the plan)"
    ),
    ("plan_review", "reject"): _Text("TEXT", "what to change", "feedback for the manager"),
    ("plan_approval", "edit"): _Text("FILE", "plan.json", 'the plan, as JSON {"steps": [...]}'),
    ("plan_approval", "reject"): _Text("TEXT", "what to change", "feedback for the planner"),
    ("conflict", "pick"): _Text("AGENT", "AGENT", "whose value"),
    ("conflict", "supply"): _Text(
        "VALUE", "VALUE", "the value (JSON; text as is when the values are text)"
    ),
    ("disagreement", "pick"): _Text("AGENT", "AGENT", "whose answer"),
    ("disagreement", "supply"): _Text("TEXT", "your answer", "your answer"),
}
"""Texts that differ for one kind of interrupt."""


def _text_of(kind: str, action: str) -> _Text | None:
    return _KIND_TEXTS.get((kind, action)) or _TEXTS.get(action)


def _word(action: str) -> str:
    return _WORDS.get(action, action)


def _flag(action: str) -> str:
    return f"--{_word(action)}"


def _flags(kind: str) -> str:
    return ", ".join(
        f"{_flag(a)} {text.metavar}" if (text := _text_of(kind, a)) else _flag(a)
        for a in _ACTIONS[kind]
    )


def _action(kind: str, word: str) -> str | None:
    """The action of `kind` that the flag `word` gives, if any."""
    return next((a for a in _ACTIONS[kind] if _word(a) == word), None)


def _tool_args(text: str) -> dict[str, Any]:
    try:
        args = json.loads(text)
    except json.JSONDecodeError as error:
        raise DecisionError(
            f"--edit: the tool call's arguments are not valid JSON: {error.msg} (line "
            f"{error.lineno}, column {error.colno})",
            hint='give the arguments as a JSON object, e.g. {"amount": 10}',
        ) from None
    if not isinstance(args, dict):
        raise DecisionError(
            f"--edit: the tool call's arguments must be a JSON object, got {text.strip()}",
            hint='give the arguments as a JSON object, e.g. {"amount": 10}',
        )
    return args


def _plan_json(text: str) -> dict[str, Any]:
    """An edited planner-executor plan: a JSON object `{"steps": [...]}`."""
    hint = (
        'give the plan as JSON, e.g. {"steps": [{"id": "a", "agent": "writer", '
        '"instruction": "...", "depends_on": []}]}'
    )
    try:
        plan = json.loads(text)
    except json.JSONDecodeError as error:
        raise DecisionError(
            f"--edit: the plan is not valid JSON: {error.msg} (line {error.lineno}, "
            f"column {error.colno})",
            hint=hint,
        ) from None
    if not isinstance(plan, dict):
        raise DecisionError(
            f'--edit: the plan must be a JSON object {{"steps": [...]}}, got {text.strip()}',
            hint=hint,
        )
    return plan


def _plan_steps(text: str) -> list[str]:
    """The steps of an edited plan: one per line, blank lines left out."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def _record_fields(text: str) -> dict[str, Any]:
    """The record fields a person supplies: a JSON object `{"field": value}`."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, dict) or not value:
        raise DecisionError(
            f"--supply: {text!r} is not the missing fields as a JSON object",
            hint='give them as JSON, e.g. --supply \'{"owner": "dana"}\'',
        )
    return value


def _branches(pending: PendingInterrupt) -> list[str]:
    """The branches a conflict's or a split decision's `--pick` may name, in team order."""
    if pending.kind == "conflict":
        return [str(agent) for agent in pending.value.get("values") or {}]
    return [str(answer["agent"]) for answer in pending.value.get("answers") or ()]


def _picked(text: str | None, pending: Sequence[PendingInterrupt]) -> str:
    """The branch `--pick` names, checked against each pending conflict or split decision."""
    if not text:
        raise DecisionError("--pick: give the agent whose value or answer wins")
    for request in pending:
        branches = _branches(request)
        if text not in branches:
            what = (
                f"wrote no value to field '{request.value.get('field')}'"
                if request.kind == "conflict"
                else "gave no answer to this split decision"
            )
            raise DecisionError(
                f"--pick: '{text}' {what}; pick one of: {', '.join(branches)}",
                hint="nothing was written and the interrupt is still open",
            )
    return text


def _conflict_value(text: str, pending: Sequence[PendingInterrupt]) -> Any:
    """The value `--supply` gives a conflicting field: JSON, or the text as is.

    Where every branch wrote text, the text is the value as typed; otherwise it is read
    as JSON (`42`, `true`, `["a", "b"]`), falling back to the text (the field's declared
    type then decides).
    """
    values = [v for request in pending for v in (request.value.get("values") or {}).values()]
    if values and all(isinstance(v, str) for v in values):
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _decision(
    kind: str, action: str, text: str | None, reviewer: str, pending: Sequence[PendingInterrupt]
) -> Decision:
    """Build the decision of `kind`; `text` is the action's text, if it takes one."""
    if action == _SAY:
        return HumanTurn(content=text or "")
    fields: dict[str, Any] = {"action": action, "reviewer": reviewer}
    if kind in ("conflict", "disagreement"):
        if action == "pick":
            fields["agent"] = _picked(text, pending)
        elif action == "supply" and not text:
            raise DecisionError(f"--supply: give the {'value' if kind == 'conflict' else 'answer'}")
        elif action == "supply" and kind == "conflict":
            if len(pending) > 1:
                names = ", ".join(str(p.value.get("field")) for p in pending)
                raise DecisionError(
                    f"--supply: {len(pending)} record conflicts are pending (fields {names}) "
                    "and a value fits one field",
                    hint="add --interrupt ID (shown by: orchestra show THREAD) to supply one "
                    "field's value, or settle them all with --pick AGENT",
                )
            fields["value"] = _conflict_value(str(text), pending)
        elif action == "supply":
            fields["content"] = text
        if kind == "conflict":
            return ConflictDecision.model_validate(fields)
        return SplitDecision.model_validate(fields)
    if kind == "tool_approval":
        if action == "reject":
            fields["feedback"] = text or ""
        elif action == "edit":
            fields["args"] = _tool_args(text or "")
        return ToolApprovalDecision.model_validate(fields)
    if kind == "handoff_limit":
        if action == "continue":
            for request in pending:
                agents = list(request.value.get("agents") or ())
                if text not in agents:
                    raise DecisionError(
                        f"--continue: unknown agent '{text}'; agents: {', '.join(agents)}",
                        hint="give one of the team's agents",
                    )
            fields["agent"] = text
        elif text is not None:
            fields["content"] = text
        return HandoffLimitDecision.model_validate(fields)
    if kind == "plan_review":
        if action == "reject":
            fields["feedback"] = text or ""
        elif action == "edit":
            fields["plan"] = _plan_steps(text or "")
        return PlanReviewDecision.model_validate(fields)
    if kind == "plan_approval":
        if action == "reject":
            fields["feedback"] = text or ""
        elif action == "edit":
            fields["plan"] = _plan_json(text or "")
        return PlanApprovalDecision.model_validate(fields)
    if kind == "exception" and action == "supply" and any(p.value.get("missing") for p in pending):
        # An agent whose `requires` failed: the text is the missing fields, as JSON.
        fields["fields"] = _record_fields(text or "")
        return EscalationDecision.model_validate(fields)
    if text is not None:
        fields["feedback" if action == "reject" else "content"] = text
    model = ApprovalDecision if kind == "approval" else EscalationDecision
    return model.model_validate(fields)


@dataclass(frozen=True)
class FlagDecision:
    """The decision the `orchestra resume` flags give, before the thread is read."""

    word: str
    """The flag, without its dashes (`approve`, `answer`, `continue`, ...)."""
    text: str | None
    """Its text (a file's content for `--edit`), if it takes one."""
    reviewer: str
    """Who decides."""

    def decision(self, kind: str, pending: Sequence[PendingInterrupt] = ()) -> Decision:
        """The decision of `kind` (the flag must fit it).

        Raises:
            DecisionError: The text does not fit (empty, not JSON, an unknown agent).
        """
        action = _action(kind, self.word)
        assert action is not None  # callers pick kinds the flag fits
        try:
            return _decision(kind, action, self.text, self.reviewer, pending)
        except ValidationError as error:
            raise DecisionError(
                f"--{self.word}: {error.errors()[0]['msg'].removeprefix('Value error, ')}",
                hint="give a non-empty text (or file) for the decision",
            ) from None


def decision_from_flags(
    given: Mapping[str, bool | str | Path | None], reviewer: str
) -> FlagDecision | None:
    """Return the decision the `orchestra resume` flags give, or `None` without one.

    Args:
        given: Each flag's value, by its name without dashes: `True`/a text/a file
            (`--edit`; `-` is stdin) when given, `False`/`None` when not.
        reviewer: Who decides.

    Raises:
        DecisionError: Several decisions, an empty text, or an unreadable file.
    """
    chosen = [word for word, value in given.items() if value not in (False, None)]
    if len(chosen) > 1:
        raise DecisionError(
            f"give one decision, got {', '.join(f'--{w}' for w in chosen)}",
            hint=f"approvals: {_flags('approval')}; tool calls: {_flags('tool_approval')}; "
            f"escalated failures: {_flags('exception')}; handoff limits: "
            f"{_flags('handoff_limit')}; a person's message: {_flags('human_turn')}; plan "
            f"reviews: {_flags('plan_review')}; plan approvals: {_flags('plan_approval')}; "
            f"record conflicts: {_flags('conflict')}; split decisions: "
            f"{_flags('disagreement')}",
        )
    if not chosen:
        return None
    word = chosen[0]
    value = given[word]
    text: str | None = None
    if isinstance(value, Path):
        try:
            raw = sys.stdin.read() if str(value) == "-" else value.read_text(encoding="utf-8")
        except OSError as error:
            raise DecisionError(
                f"--{word}: cannot read {value}: {error.strerror}",
                hint="give a readable file",
            ) from None
        text = raw.strip()
    elif isinstance(value, str):
        text = value
    flag = FlagDecision(word, text, reviewer)
    # Checked for the first kind it fits, before the thread is read: an empty text is
    # refused for every kind (an --edit file may hold a tool call's JSON: any text fits).
    flag.decision(next(k for k in _FLAG_KINDS if _action(k, word) is not None))
    return flag


def resume_from_flags(
    flag: FlagDecision, interrupts: Sequence[PendingInterrupt], interrupt_id: str | None
) -> Command[Any]:
    """The `Command` that applies the flag to the pending interrupts it fits.

    A flag that fits several pending kinds (`--approve` with an output's and a tool
    call's approval pending) decides them all; see `threads.resume_value`.

    Raises:
        DecisionError: Nothing fits, or the flag's text does not fit the interrupts.
    """
    targets = [i for i in interrupts if interrupt_id is None or i.id.startswith(interrupt_id)]
    kinds = [k for k in dict.fromkeys(i.kind for i in targets) if k in _ACTIONS]
    decisions: dict[type[Any], Decision] = {}
    for kind in kinds:
        if _action(kind, flag.word) is not None:
            decision = flag.decision(kind, [i for i in targets if i.kind == kind])
            decisions.setdefault(type(decision), decision)
    if not decisions:  # let resume_value say what the thread waits for
        first = next(k for k in _FLAG_KINDS if _action(k, flag.word) is not None)
        decisions[type(None)] = flag.decision(first)
    resume: dict[str, Any] = {}
    for decision in decisions.values():
        command = resume_value(interrupts, decision, interrupt_id=interrupt_id)
        if isinstance(command.resume, Mapping):  # always: one value per interrupt id
            resume.update(command.resume)
    return Command(resume=resume)


def resume_commands(
    thread_id: str, interrupts: Sequence[PendingInterrupt], store_args: Sequence[str]
) -> list[str]:
    """The `orchestra resume` commands that decide the interrupts, one per action."""
    base = ["orchestra", "resume", thread_id]
    kinds = dict.fromkeys(i.kind for i in interrupts if i.kind in _ACTIONS)
    seen: set[tuple[str, ...]] = set()
    lines: list[list[str]] = []
    for kind in sorted(kinds, key=list(_ACTIONS).index):
        for action in _ACTIONS[kind]:
            text = _text_of(kind, action)
            example: list[str] = []
            missing = [
                f for i in interrupts if i.kind == kind for f in i.value.get("missing") or ()
            ]
            if action == "continue":
                example = [next(str(i.value.get("target")) for i in interrupts if i.kind == kind)]
            elif action == "pick":
                example = [next(_suggested(i) for i in interrupts if i.kind == kind)]
            elif action == "supply" and missing:
                example = [json.dumps(dict.fromkeys(missing, "..."))]
            elif text is not None:
                example = [text.example]
            line = [*base, _flag(action), *example]
            if tuple(line) not in seen:
                seen.add(tuple(line))
                lines.append(line)
    return [shlex.join([*line, *store_args]) for line in lines]


def _suggested(pending: PendingInterrupt) -> str:
    """The branch a printed `--pick` names: a split decision's leader, a conflict's first."""
    leader = pending.value.get("leader")
    return str(leader) if leader else (_branches(pending) or ["AGENT"])[0]


_PERSON_PROMPTS = {
    "human_turn": "{agent} says",
    "user_turn": "your reply to {agent}",
    "human_help": "your answer to {agent}",
}


def ask_decision(console: Console, pending: PendingInterrupt, reviewer: str) -> dict[str, Any]:
    """Prompt for a decision on one interrupt; return the resume payload."""
    kind = pending.kind if pending.kind in _ACTIONS else "approval"
    if kind in _PERSON_PROMPTS:
        message = _text(console, _PERSON_PROMPTS[kind].format(agent=escape(pending.agent)))
        return HumanTurn(content=message).model_dump(exclude_none=True)
    actions = _ACTIONS[kind]
    words = {_word(a): a for a in actions}
    word = Prompt.ask(
        f"{escape(pending.agent)}: decision",
        console=console,
        choices=list(words),
        default=_word(actions[0]),
    )
    action = words[word]
    while True:
        text = _ask_text(console, kind, action, pending)
        try:
            decision = FlagDecision(word, text, reviewer).decision(kind, [pending])
        except DecisionError as error:
            console.print(f"[red]{escape(str(error))}[/red]")
            continue
        return decision.model_dump(exclude_none=True)


def _ask_text(console: Console, kind: str, action: str, pending: PendingInterrupt) -> str | None:
    """Ask for the text `action` takes, if any."""
    if action == "continue":
        agents = [str(a) for a in pending.value.get("agents") or ()]
        return Prompt.ask(
            "who takes over",
            console=console,
            choices=agents,
            default=str(pending.value.get("target")),
        )
    text = _text_of(kind, action)
    if action == "pick" and text is not None:
        return Prompt.ask(
            text.prompt, console=console, choices=_branches(pending), default=_suggested(pending)
        )
    if (kind, action) == ("approval", "edit") and pending.value.get("output") is not None:
        return _text(console, "the output's fields, as a JSON object")  # a typed output
    if (kind, action) == ("plan_review", "edit") and text is not None:
        return _ask_steps(console, text.prompt)
    return _text(console, text.prompt) if text is not None else None


def _ask_steps(console: Console, label: str) -> str:
    """Ask for a plan's steps, one per line, until an empty line (one step at least)."""
    steps: list[str] = []
    while True:
        step = Prompt.ask(label.format(number=len(steps) + 1), console=console).strip()
        if step:
            steps.append(step)
        elif steps:
            return "\n".join(steps)


def _text(console: Console, label: str) -> str:
    """Ask for a non-empty line of text."""
    while True:
        text = Prompt.ask(label, console=console).strip()
        if text:
            return text


def auto_decision(
    console: Console, pending: PendingInterrupt, *, fields: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Decide without a human (the demo): skip a failure, end at a limit, approve the rest.

    A record conflict takes the first branch's value, a split decision the leading answer.

    A failure for missing record fields that `fields` has (the team file's
    `example_fields`) is completed with them instead of skipped.

    Raises:
        DecisionError: The interrupt waits for a person's message, which only a person
            can give.
    """
    if pending.kind in _PERSON_KINDS:
        raise DecisionError(
            f"'{pending.agent}' waits for a person's message: the demo can't speak for them",
            hint="run it with --interactive in a terminal",
        )
    missing = list(pending.value.get("missing") or ()) if pending.kind == "exception" else []
    if missing and fields and all(f in fields for f in missing):
        supplied = {f: fields[f] for f in missing}
        console.print(f"[yellow]auto-supplying the missing fields {supplied}[/yellow]")
        decision = EscalationDecision(action="supply", fields=supplied, reviewer="demo")
        return decision.model_dump(exclude_none=True)
    if pending.kind == "exception":
        console.print("[yellow]auto-skipping the failed agent (non-interactive)[/yellow]")
        return EscalationDecision(action="skip", reviewer="demo").model_dump(exclude_none=True)
    if pending.kind in ("conflict", "disagreement"):
        picked = _suggested(pending)
        what = (
            "the leading answer" if pending.kind == "disagreement" else "the first branch's value"
        )
        console.print(f"[yellow]auto-picking {what}, {escape(picked)}'s (non-interactive)[/yellow]")
        return {"action": "pick", "agent": picked, "reviewer": "demo"}
    if pending.kind == "handoff_limit":
        console.print("[yellow]auto-ending the run at the handoff limit (non-interactive)[/yellow]")
        return HandoffLimitDecision(action="end", reviewer="demo").model_dump(exclude_none=True)
    console.print(
        "[yellow]auto-approving (non-interactive; pass --interactive to decide yourself)[/yellow]"
    )
    approvals: Mapping[
        str,
        type[ApprovalDecision | ToolApprovalDecision | PlanReviewDecision | PlanApprovalDecision],
    ]
    approvals = {
        "tool_approval": ToolApprovalDecision,
        "plan_review": PlanReviewDecision,
        "plan_approval": PlanApprovalDecision,
    }
    approve = approvals.get(pending.kind, ApprovalDecision)(action="approve", reviewer="demo")
    return approve.model_dump(exclude_none=True)


def reviewer_name() -> str:
    """The user's name, for the audit trail (`human` when there is none)."""
    try:
        return getpass.getuser() or "human"
    except (KeyError, OSError):  # no user name in the environment or password database
        return "human"
