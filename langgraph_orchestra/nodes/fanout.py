"""The fan-out node: starts branches with `Send`, at most `max_concurrency` at a time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from langgraph.types import Command, Overwrite

from langgraph_orchestra.nodes.route import Route, as_mapping
from langgraph_orchestra.state.records import audit_record

__all__ = ["AGGREGATE", "DISPATCH", "FANOUT", "FanOutNode", "branch_outcomes"]

FANOUT = "fanout"
"""Name of the node that starts a fan-out run."""
DISPATCH = "dispatch"
"""Name of the node that starts further branches as earlier ones finish."""
AGGREGATE = "aggregate"
"""Name of the (deferred) node that combines the branches' results."""


def branch_outcomes(state: Mapping[str, Any]) -> dict[str, str | None]:
    """Each finished branch's output by agent (`None`: it gave none), held turns included."""
    outbox = state.get("outbox") or {}
    return {**(state.get("results") or {}), **{n: t["text"] for n, t in outbox.items()}}


class FanOutNode:
    """Starts the branches that have not run yet, within the concurrency limit.

    As `fanout` (`first=True`) it also resets the run-scoped state, so a thread can run
    many tasks. As `dispatch` it is reached each time branches finish and fills the
    free slots; with nothing left to start it hands over to `aggregate`, which LangGraph
    defers until every branch (and every gate or escalation of one) is done.
    """

    def __init__(
        self, routes: Sequence[Route], *, max_concurrency: int | None, first: bool
    ) -> None:
        """Build the node over the branches' routes."""
        self.routes = tuple(routes)
        self.max_concurrency = max_concurrency
        self.first = first
        self.__name__ = FANOUT if first else DISPATCH

    def __call__(self, state: Any) -> Command[Any]:
        """Start what can start now."""
        state = as_mapping(state)
        if self.first:
            dispatched: list[str] = []
            in_flight = 0
        else:
            if state.get("stop_reason"):
                return Command(goto=AGGREGATE)
            dispatched = list(state.get("dispatched") or ())
            outcomes = branch_outcomes(state)
            in_flight = sum(1 for name in dispatched if name not in outcomes)
        started = set(dispatched)
        pending = [r for r in self.routes if r.agent.name not in started]
        if not pending:
            return Command(goto=AGGREGATE)
        room = len(pending)
        if self.max_concurrency is not None:
            room = min(room, max(0, self.max_concurrency - in_flight))
        batch = pending[:room]
        names = [r.agent.name for r in batch]
        update: dict[str, Any] = {
            "dispatched": Overwrite(names) if self.first else names,
            "audit": [audit_record("routing", None, dispatched=names)],
        }
        if self.first:
            update.update(results=Overwrite({}), outbox=Overwrite({}), final=None, stop_reason=None)
        return Command(
            update=update,
            goto=[r.start(r.view(state, r.agent.name)) for r in batch],
        )
