"""The finalize node: every run ends here with its real answer and why it stopped."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from langchain_core.messages import AIMessage

from langgraph_orchestra.nodes.route import FINALIZE, as_mapping
from langgraph_orchestra.state.records import audit_record

__all__ = ["FinalizeNode", "closing"]


def closing(final: str | None, reason: str) -> dict[str, Any]:
    """Return the update that ends a run with `final` and `reason`."""
    return {
        "final": final,
        "stop_reason": reason,
        "audit": [audit_record("termination", None, reason=reason)],
    }


class FinalizeNode:
    """Writes `final` and `stop_reason` and the `termination` audit record.

    `final` is the answer already set by the pattern (an aggregator's) or else the latest
    output of a participant: the real last or partial answer, never a canned string.
    `stop_reason` is what stopped the run, `"completed"` when nothing did.
    """

    __name__ = FINALIZE

    def __init__(self, speakers: Collection[str]) -> None:
        """Build the node; `speakers` are the names whose messages can be the answer."""
        self.speakers = frozenset(speakers)

    def __call__(self, state: Any) -> dict[str, Any]:
        """Return the closing update."""
        state = as_mapping(state)
        final = state.get("final")
        if final is None:
            for message in reversed(state["messages"]):
                if isinstance(message, AIMessage) and message.name in self.speakers:
                    final = message.text
                    break
        return closing(final, state.get("stop_reason") or "completed")
