"""Verdicts: an agent's structured approve-or-revise answer, and the stops they cause.

A checker (maker-checker) or an approver (a group chat's consensus) answers with a
`Verdict`: from a model by structured output, or returned by a runnable. The turn's
message renders it for the others to read and carries its fields, which the audit
records and the conditions below read.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from langchain_core.messages import AIMessage, BaseMessage
from pydantic import BaseModel, ConfigDict, Field

from langgraph_orchestra.agents import OUTPUT_KEY
from langgraph_orchestra.conditions import Condition
from langgraph_orchestra.context import run_task
from langgraph_orchestra.prompts import Prompts

__all__ = ["Consensus", "Verdict", "VerdictStop", "render_verdict", "verdict_of"]


class Verdict(BaseModel):
    """A checker's or approver's answer: approve, or ask for a revision with reasons."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "revise"]
    """`approve`: the latest draft or proposal stands; `revise`: it must change."""
    reasons: list[str] = Field(default_factory=list)
    """Why: for `revise`, each change needed, specific and actionable."""


def render_verdict(prompts: Prompts, name: str) -> Callable[[Verdict], str]:
    """Return how `name`'s verdicts read in the transcript (the revision request's text)."""

    def render(verdict: Verdict) -> str:
        reasons = "\n".join(f"- {r}" for r in verdict.reasons) or "- (no reason given)"
        if verdict.decision == "approve":
            return prompts.verdict_approved.format(reasons=reasons)
        return prompts.checker_revision.format(checker=name, reasons=reasons)

    return render


def verdict_of(message: BaseMessage) -> Verdict | None:
    """Return the verdict a message carries, if it is one."""
    if not isinstance(message, AIMessage):
        return None
    fields = message.response_metadata.get(OUTPUT_KEY)
    if not isinstance(fields, Mapping) or "decision" not in fields:
        return None
    return Verdict.model_validate(fields)


def _run_messages(state: Mapping[str, Any]) -> Sequence[BaseMessage]:
    messages: Sequence[BaseMessage] = state.get("messages") or ()
    task = run_task(state) if messages else None
    return messages[task + 1 :] if task is not None else messages


@dataclass(frozen=True)
class VerdictStop(Condition):
    """Maker-checker's stop: the checker approved, or its revisions are used up.

    Stops with `"approved"` when the checker's latest verdict approves, and with
    `"max_revisions"` when it asks for revision number `max_revisions + 1`.
    """

    checker: str
    """The checker's name."""
    max_revisions: int
    """How many revisions the maker may make."""

    def __call__(self, state: Mapping[str, Any]) -> str | None:
        """Return the stop reason after a checker's verdict, else `None`."""
        messages = _run_messages(state)
        if not messages or messages[-1].name != self.checker:
            return None
        verdict = verdict_of(messages[-1])
        if verdict is None:
            return None
        if verdict.decision == "approve":
            return "approved"
        asked = sum(
            1
            for m in messages
            if m.name == self.checker and (v := verdict_of(m)) and v.decision == "revise"
        )
        return "max_revisions" if asked > self.max_revisions else None


@dataclass(frozen=True)
class Consensus(Condition):
    """Stops (`"approved"`) when every approver approved the latest proposal.

    The latest proposal is the latest message of a participant who is not an approver;
    each approver's latest verdict after it must approve.
    """

    approvers: Collection[str]
    """The approvers' names."""

    def __call__(self, state: Mapping[str, Any]) -> str | None:
        """Return `"approved"` on consensus, else `None`."""
        waiting = set(self.approvers)
        seen: set[str] = set()
        for message in reversed(_run_messages(state)):
            name = message.name
            if name in waiting:
                if name not in seen:
                    seen.add(name)
                    verdict = verdict_of(message)
                    if verdict is None or verdict.decision != "approve":
                        return None
                continue
            if isinstance(message, AIMessage) or message.name is not None:
                # The latest proposal: consensus if every approver approved since.
                return "approved" if seen == waiting else None
        return None
