"""`Route`: where an agent's turn sits in a pattern, shared by its turn and gate nodes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import BaseMessage
from langgraph.types import Send

from langgraph_orchestra.agents import Agent
from langgraph_orchestra.context import View

__all__ = ["FINALIZE", "Route", "as_mapping"]

FINALIZE = "finalize"
"""Name of the node that ends a run."""


def as_mapping(state: Any) -> Mapping[str, Any]:
    """Return `state` as a mapping (a pydantic state is read field by field)."""
    return state if isinstance(state, Mapping) else dict(state)


@dataclass(frozen=True)
class Route:
    """Where an agent's turn sits in a pattern.

    The agent's turn node, its approval gates and the escalation node all read the same
    route, so a decision taken at any of them sends the run to the same place.
    """

    agent: Agent
    """The agent."""
    node: str
    """Name of the agent's turn node."""
    next: str
    """Where the run goes once the agent's output is accepted (or skipped)."""
    view: View
    """What the agent sees: `(state, agent name) -> messages`."""
    stop: str = FINALIZE
    """Where the run goes when it must stop (rejected, aborted)."""
    results: bool = False
    """Whether this is a fan-out branch: outcomes are written to `state["results"]`, and a
    turn accepted without a gate to `state["outbox"]` (see `ConcurrentState`)."""

    @property
    def review(self) -> str | None:
        """Name of the agent's after-gate node, if it has one."""
        return f"approve_{self.agent.name}" if self.agent.approves_after else None

    @property
    def authorize(self) -> str | None:
        """Name of the agent's before-gate node, if it has one."""
        return f"authorize_{self.agent.name}" if self.agent.approves_before else None

    @property
    def entry(self) -> str:
        """The first node of the agent's turn (its before-gate, if any)."""
        return self.authorize or self.node

    def run(self, view: list[BaseMessage], *, revision: int = 0) -> Send:
        """Send the agent a turn on an explicit `view` (`revision`: how many so far)."""
        return Send(self.node, {"view": view, "revision": revision})

    def start(self, view: list[BaseMessage]) -> Send:
        """Send the agent a new turn on `view`, through its before-gate if it has one."""
        return Send(self.entry, {"view": view})

    def done(self, text: str | None) -> dict[str, Any]:
        """Return the state update that records the agent's outcome (`None`: no output)."""
        return {"results": {self.agent.name: text}} if self.results else {}
