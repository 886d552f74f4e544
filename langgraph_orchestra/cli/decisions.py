"""Decisions from the command line: flags, answers at a prompt, and the commands to give them.

The actions are those of `ApprovalDecision` (`APPROVAL_ACTIONS`) and `EscalationDecision`
(`ESCALATION_ACTIONS`); each is a flag of `orchestra resume` named after it, except
`respond`, which the command line calls `--answer`. A human seat's turn (a group chat's
person) is answered with `--say TEXT`, a `HumanTurn`.
"""

from __future__ import annotations

import getpass
import shlex
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.prompt import Prompt

from langgraph_orchestra.errors import DecisionError
from langgraph_orchestra.nodes.approval import APPROVAL_ACTIONS, ApprovalDecision
from langgraph_orchestra.nodes.escalation import ESCALATION_ACTIONS, EscalationDecision
from langgraph_orchestra.nodes.human import HumanTurn
from langgraph_orchestra.threads import Decision, PendingInterrupt

__all__ = [
    "ask_decision",
    "auto_decision",
    "decision_from_flags",
    "resume_commands",
    "reviewer_name",
]

_SAY = "say"
"""The action of a human seat's turn: say a message."""

_ACTIONS: Mapping[str, Sequence[str]] = {
    "approval": APPROVAL_ACTIONS,
    "exception": ESCALATION_ACTIONS,
    "human_turn": (_SAY,),
}
"""The actions that decide each kind of interrupt."""

_WORDS = {"respond": "answer"}
"""Actions the command line names otherwise (flag and prompt choice)."""


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
    _SAY: _Text("TEXT", "your message", "your message"),
}


def _word(action: str) -> str:
    return _WORDS.get(action, action)


def _flag(action: str) -> str:
    return f"--{_word(action)}"


def _flags(actions: Sequence[str]) -> str:
    return ", ".join(
        f"{_flag(a)} {_TEXTS[a].metavar}" if a in _TEXTS else _flag(a) for a in actions
    )


def _decision(action: str, text: str | None, reviewer: str) -> Decision:
    """Build the decision; the text is a rejection's feedback, else the content."""
    if action == _SAY:
        return HumanTurn(content=text or "")
    fields: dict[str, Any] = {"action": action, "reviewer": reviewer}
    if text is not None:
        fields["feedback" if action == "reject" else "content"] = text
    model = ApprovalDecision if action in APPROVAL_ACTIONS else EscalationDecision
    return model.model_validate(fields)


def decision_from_flags(
    given: Mapping[str, bool | str | Path | None], reviewer: str
) -> Decision | None:
    """Return the decision the `orchestra resume` flags give, or `None` without one.

    Args:
        given: Each action's flag value: `True`/a text/a file (`--edit`; `-` is stdin)
            when given, `False`/`None` when not.
        reviewer: Who decides.

    Raises:
        DecisionError: Several decisions, an empty text, or an unreadable file.
    """
    chosen = [action for action, value in given.items() if value not in (False, None)]
    if len(chosen) > 1:
        raise DecisionError(
            f"give one decision, got {', '.join(_flag(a) for a in chosen)}",
            hint=f"approvals: {_flags(APPROVAL_ACTIONS)}; "
            f"escalated failures: {_flags(ESCALATION_ACTIONS)}; a person's turn: "
            f"{_flags([_SAY])}",
        )
    if not chosen:
        return None
    action = chosen[0]
    value = given[action]
    text: str | None = None
    if isinstance(value, Path):
        try:
            raw = sys.stdin.read() if str(value) == "-" else value.read_text(encoding="utf-8")
        except OSError as error:
            raise DecisionError(
                f"{_flag(action)}: cannot read {value}: {error.strerror}",
                hint="give a readable file",
            ) from None
        text = raw.strip()
    elif isinstance(value, str):
        text = value
    try:
        return _decision(action, text, reviewer)
    except ValidationError as error:
        raise DecisionError(
            f"{_flag(action)}: {error.errors()[0]['msg'].removeprefix('Value error, ')}",
            hint="give a non-empty text (or file) for the decision",
        ) from None


def resume_commands(
    thread_id: str, interrupts: Sequence[PendingInterrupt], store_args: Sequence[str]
) -> list[str]:
    """The `orchestra resume` commands that decide the interrupts, one per action."""
    base = ["orchestra", "resume", thread_id]
    kinds = {i.kind for i in interrupts}
    lines = [
        [*base, _flag(action), *([_TEXTS[action].example] if action in _TEXTS else [])]
        for kind, actions in _ACTIONS.items()
        if kind in kinds
        for action in actions
    ]
    return [shlex.join([*line, *store_args]) for line in lines]


def ask_decision(console: Console, pending: PendingInterrupt, reviewer: str) -> dict[str, Any]:
    """Prompt for a decision on one interrupt; return the resume payload."""
    if pending.kind == "human_turn":
        message = _text(console, f"{escape(pending.agent)} says")
        return _decision(_SAY, message, reviewer).model_dump(exclude_none=True)
    actions = _ACTIONS["exception" if pending.kind == "exception" else "approval"]
    words = {_word(a): a for a in actions}
    word = Prompt.ask(
        f"{escape(pending.agent)}: decision",
        console=console,
        choices=list(words),
        default=_word(actions[0]),
    )
    action = words[word]
    text = _text(console, _TEXTS[action].prompt) if action in _TEXTS else None
    return _decision(action, text, reviewer).model_dump(exclude_none=True)


def _text(console: Console, label: str) -> str:
    """Ask for a non-empty line of text."""
    while True:
        text = Prompt.ask(label, console=console).strip()
        if text:
            return text


def auto_decision(console: Console, pending: PendingInterrupt) -> dict[str, Any]:
    """Decide without a human (the demo): skip a failed agent, approve the rest.

    Raises:
        DecisionError: The interrupt is a person's turn, which only a person can take.
    """
    if pending.kind == "human_turn":
        raise DecisionError(
            f"'{pending.agent}' is a person's seat: the demo can't speak for them",
            hint="run it with --interactive in a terminal",
        )
    if pending.kind == "exception":
        console.print("[yellow]auto-skipping the failed agent (non-interactive)[/yellow]")
        return EscalationDecision(action="skip", reviewer="demo").model_dump(exclude_none=True)
    console.print(
        "[yellow]auto-approving (non-interactive; pass --interactive to decide yourself)[/yellow]"
    )
    return ApprovalDecision(action="approve", reviewer="demo").model_dump(exclude_none=True)


def reviewer_name() -> str:
    """The user's name, for the audit trail (`human` when there is none)."""
    try:
        return getpass.getuser() or "human"
    except (KeyError, OSError):  # no user name in the environment or password database
        return "human"
