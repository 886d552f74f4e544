"""`Termination`: when a run must stop, and the answer it stops with.

One object per team combines the user's `termination=` condition, the pattern's hard
bound (`max_rounds`) and the default: it is asked before every turn that starts from
the state (an agent's turn or before-gate, a manager's choice, a fan-out's dispatch),
that is after every turn. A stop ends the run with `final` = the real latest answer of
this run (or of `final_from`) and `stop_reason` = the condition's reason.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage

from langgraph_orchestra.conditions import Condition, MaxRounds
from langgraph_orchestra.context import run_task
from langgraph_orchestra.nodes.route import as_mapping
from langgraph_orchestra.state.records import AuditRecord, audit_record

__all__ = ["Termination", "closing", "latest_output"]


def closing(
    final: str | None, reason: str, *, before: Sequence[AuditRecord] = ()
) -> dict[str, Any]:
    """Return the update that ends a run with `final` and `reason`.

    `before` are audit records of the same step, kept ahead of the termination record.
    """
    return {
        "final": final,
        "stop_reason": reason,
        "audit": [*before, audit_record("termination", None, reason=reason)],
    }


def latest_output(state: Mapping[str, Any], speakers: Collection[str]) -> str | None:
    """Return the latest message of one of `speakers` in the current run, if any."""
    messages: Sequence[BaseMessage] = state["messages"]
    task = run_task(state)
    first = -1 if task is None else task
    for i in range(len(messages) - 1, first, -1):
        message = messages[i]
        if isinstance(message, AIMessage) and message.name in speakers and message.text:
            return message.text
    return None


class Termination:
    """The stop rule of a team: a condition, a hard bound on rounds, or both.

    Example:
        ```python
        stop = Termination(TextMention("DONE"), max_rounds=20, speakers=["writer"])
        stop(state)  # -> "completed", "max_rounds" or None
        ```
    """

    def __init__(
        self,
        condition: Condition | None = None,
        *,
        max_rounds: int | None = None,
        speakers: Collection[str] = (),
        final_from: str | None = None,
    ) -> None:
        """Build the rule.

        Args:
            condition: The user's `termination=` condition.
            max_rounds: The pattern's hard bound, always applied (`None`: none).
            speakers: Whose messages can be the answer.
            final_from: Only this participant's messages are the answer.
        """
        parts = [c for c in (condition, MaxRounds(max_rounds) if max_rounds else None) if c]
        self.condition: Condition | None = (
            parts[0] if len(parts) == 1 else (parts[0] | parts[1]) if parts else None
        )
        self.speakers = frozenset([final_from] if final_from else speakers)

    def __call__(self, state: Any) -> str | None:
        """Return why the run must stop now, or `None` to go on."""
        if self.condition is None:
            return None
        return self.condition(as_mapping(state))

    def stop(
        self, state: Any, reason: str, *, before: Sequence[AuditRecord] = ()
    ) -> dict[str, Any]:
        """Return the update ending the run for `reason` with the latest real answer."""
        return closing(self.final(state), reason, before=before)

    def final(self, state: Any) -> str | None:
        """Return the run's answer as it stands: the latest output of a speaker."""
        return latest_output(as_mapping(state), self.speakers)
