"""The finalize node: every run ends here with its real answer and why it stopped."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from langgraph_orchestra.nodes.route import FINALIZE, as_mapping
from langgraph_orchestra.nodes.termination import closing, latest_output

__all__ = ["FinalizeNode"]


class FinalizeNode:
    """Writes `final` and `stop_reason` and the `termination` audit record.

    `final` is the answer already set by the pattern (an aggregator's) or else the latest
    output of a participant in this run (after the run's input): the real last or partial
    answer, never a canned string, and `None` when the run produced none. `stop_reason`
    is what stopped the run, `"completed"` when nothing did.
    """

    __name__ = FINALIZE

    def __init__(
        self,
        speakers: Collection[str],
        *,
        fallback: Callable[[Mapping[str, Any]], str | None] | None = None,
    ) -> None:
        """Build the node.

        Args:
            speakers: The names whose messages can be the answer.
            fallback: Gives the answer from the state when no speaker answered in this
                run (a fan-out's branch results when its synthesizer gave none).
        """
        self.speakers = frozenset(speakers)
        self.fallback = fallback

    def __call__(self, state: Any) -> dict[str, Any]:
        """Return the closing update."""
        state = as_mapping(state)
        final = state.get("final")
        if final is None:
            final = latest_output(state, self.speakers)
        if final is None and self.fallback is not None:
            final = self.fallback(state)
        return closing(final, state.get("stop_reason") or "completed")
