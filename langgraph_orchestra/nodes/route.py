"""`Route`: where an agent's turn sits in a pattern, shared by its turn and gate nodes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from langchain_core.messages import BaseMessage
from langgraph.types import Send

from langgraph_orchestra.agents import Agent
from langgraph_orchestra.context import View
from langgraph_orchestra.names import FINALIZE, authorize_node, review_node
from langgraph_orchestra.prompts import DEFAULT_PROMPTS, Prompts
from langgraph_orchestra.records import reading, record_of
from langgraph_orchestra.state.records import AuditRecord, Usage

if TYPE_CHECKING:
    from langgraph_orchestra.nodes.termination import Termination

__all__ = ["FINALIZE", "Route", "Turn", "as_mapping", "record_turn"]


def as_mapping(state: Any) -> Mapping[str, Any]:
    """Return `state` as a mapping (a pydantic state is read field by field)."""
    return state if type(state) is dict or isinstance(state, Mapping) else dict(state)


class Turn(NamedTuple):
    """An accepted agent turn, before it is written to the state."""

    agent: str
    """The agent's name."""
    text: str
    """Its output text (the last message's)."""
    messages: list[BaseMessage]
    """Its new messages, named after it."""
    usage: dict[str, Usage]
    """Its usage by participant (a nested team reports its members)."""
    record: AuditRecord
    """The `turn` audit record."""
    before: list[AuditRecord] = []  # noqa: RUF012 - a NamedTuple default, never mutated
    """Audit records of what happened inside the turn (tool calls a human decided)."""
    fields: dict[str, Any] = {}  # noqa: RUF012 - a NamedTuple default, never mutated
    """The record fields it writes (checked against the agent's `writes`)."""
    writes: list[AuditRecord] = []  # noqa: RUF012 - a NamedTuple default, never mutated
    """One `write` audit record per field written (old and new value)."""


def record_turn(turn: Turn) -> dict[str, Any]:
    """Return the update that writes `turn` into the transcript, usage, audit and round.

    Its record fields are written into the state too.
    """
    return {
        **turn.fields,
        "messages": turn.messages,
        "usage": turn.usage,
        "run_usage": turn.usage,
        "audit": [*turn.before, turn.record, *turn.writes],
        "round": 1,
    }


@dataclass(frozen=True)
class Route:
    """Where an agent's turn sits in a pattern.

    The agent's turn node, its approval gates and the escalation node all read the same
    route, so a decision taken at any of them sends the run to the same place. The turn
    node itself knows no pattern: what a pattern adds is here (where to go next, how an
    accepted turn is written, whether the turn starts the run, when to stop).
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
    """Whether this is a fan-out branch: outcomes are written to `state["results"]`."""
    write: Callable[[Turn], dict[str, Any]] | None = None
    """How an accepted turn without an after-gate is written; `None`: `record_turn` plus
    the outcome (a fan-out holds its branches' turns in an outbox instead)."""
    then: Callable[[Turn], str | None] | None = None
    """Where the run goes after an accepted turn, computed from it (`None`: `next`)."""
    begins: bool = False
    """Whether the agent's entry (its before-gate, else its turn) starts the run."""
    termination: Termination | None = None
    """Asked before a turn that starts from the state: a reason ends the run there."""
    follow_up: View | None = None
    """The agent's context policy for its exchange with a reviewer (its drafts and the
    reviewer's messages; see `approval.follow_up` and `context.follow_up_context`); `None`
    (a callable policy) keeps the whole exchange."""
    prompts: Prompts = DEFAULT_PROMPTS
    """The team's prompt templates (how the record fields the agent reads are shown)."""

    def __post_init__(self) -> None:
        if self.agent.reads:
            # Every place that computes the agent's view (its node, a fan-out, a gate)
            # shows it the record fields it reads.
            object.__setattr__(self, "view", reading(self.view, self.agent.reads, self.prompts))

    @property
    def keeps_record(self) -> bool:
        """Whether the agent's turn needs the record (it writes or requires fields)."""
        return bool(self.agent.writes or self.agent.requires)

    def snapshot(self, state: Mapping[str, Any]) -> dict[str, Any] | None:
        """The record as the agent's turn starts from it (`None`: the turn needs none)."""
        return record_of(state) if self.keeps_record else None

    @property
    def review(self) -> str | None:
        """Name of the agent's after-gate node, if it has one."""
        return review_node(self.agent.name) if self.agent.approves_after else None

    @property
    def authorize(self) -> str | None:
        """Name of the agent's before-gate node, if it has one."""
        return authorize_node(self.agent.name) if self.agent.approves_before else None

    @property
    def entry(self) -> str:
        """The first node of the agent's turn (its before-gate, if any)."""
        return self.authorize or self.node

    def run(
        self,
        view: list[BaseMessage],
        *,
        revision: int = 0,
        retries: int = 0,
        record: Mapping[str, Any] | None = None,
    ) -> Send:
        """Send the agent a turn on an explicit `view`.

        `revision`: how many revisions so far; `retries`: how many times a human has
        retried its failure (the escalation node's `max_retries` bounds them); `record`:
        the record the turn starts from (`snapshot`), for an agent that keeps one.
        """
        payload: dict[str, Any] = {"view": view, "revision": revision}
        if retries:
            payload["retries"] = retries
        if record is not None:
            payload["record"] = dict(record)
        return Send(self.node, payload)

    def start(self, view: list[BaseMessage], record: Mapping[str, Any] | None = None) -> Send:
        """Send the agent a new turn on `view`, through its before-gate if it has one.

        `record`: as for `run`.
        """
        payload: dict[str, Any] = {"view": view}
        if record is not None:
            payload["record"] = dict(record)
        return Send(self.entry, payload)

    def done(self, text: str | None) -> dict[str, Any]:
        """Return the state update that records the agent's outcome (`None`: no output)."""
        return {"results": {self.agent.name: text}} if self.results else {}

    def accept(self, turn: Turn) -> dict[str, Any]:
        """Return the update that writes an accepted turn (no after-gate)."""
        if self.write is not None:
            return self.write(turn)
        return {**record_turn(turn), **self.done(turn.text)}

    def after(self, turn: Turn) -> str:
        """Return where the run goes after the accepted `turn`."""
        if self.then is not None:
            target = self.then(turn)
            if target is not None:
                return target
        return self.next
