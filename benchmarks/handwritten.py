"""The hand-written LangGraph graphs we compare against.

Each is what a LangGraph user would write for the same topology without this library:
a `messages` state with `add_messages`, plain function nodes, plain edges or `Send`.
They produce the same transcript as ours (agent messages named after the agent) but
none of the governance: no audit trail, usage, exception queue, `final` or routing.
"""

from __future__ import annotations

import operator
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any, NotRequired, cast

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AnyMessage
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.types import Command, Send
from typing_extensions import TypedDict

__all__ = [
    "FanOutState",
    "MessagesState",
    "RoundRobinState",
    "WorkerInput",
    "fan_out",
    "fan_out_per_agent",
    "round_robin",
    "sequential_model",
    "sequential_plain",
]


class MessagesState(TypedDict):
    """The usual LangGraph chat state."""

    messages: Annotated[list[AnyMessage], add_messages]


def _chain(builder: StateGraph[Any, Any, Any, Any], names: Sequence[str]) -> None:
    previous = START
    for name in names:
        builder.add_edge(previous, name)
        previous = name
    builder.add_edge(previous, END)


def sequential_plain(names: Sequence[str]) -> StateGraph[Any, Any, Any, Any]:
    """START -> a0 -> ... -> END, each node answering "ok" as a named `AIMessage`."""
    builder: StateGraph[Any, Any, Any, Any] = StateGraph(MessagesState)
    for name in names:

        def node(state: MessagesState, name: str = name) -> dict[str, Any]:
            return {"messages": [AIMessage("ok", name=name)]}

        builder.add_node(name, node)
    _chain(builder, names)
    return builder


def sequential_model(models: dict[str, BaseChatModel]) -> StateGraph[Any, Any, Any, Any]:
    """START -> a0 -> ... -> END, each node calling its model on the whole transcript.

    The reply is named after the node (`reply.name = name`) so the transcript is the
    same as ours: a multi-agent transcript needs to say who spoke.
    """
    builder: StateGraph[Any, Any, Any, Any] = StateGraph(MessagesState)
    for name, model in models.items():

        def node(
            state: MessagesState, name: str = name, model: BaseChatModel = model
        ) -> dict[str, Any]:
            reply = model.invoke(state["messages"])
            reply.name = name
            return {"messages": [reply]}

        builder.add_node(name, node)
    _chain(builder, list(models))
    return builder


class FanOutState(TypedDict):
    """State of the hand-written fan-out: branch results reduced into a list."""

    messages: Annotated[list[AnyMessage], add_messages]
    results: NotRequired[Annotated[list[str], operator.add]]
    final: NotRequired[str]


class WorkerInput(TypedDict):
    """What `dispatch` sends each worker: its name and the task."""

    name: str
    messages: list[AnyMessage]


Worker = (
    Callable[[WorkerInput], dict[str, Any]] | Callable[[WorkerInput], Awaitable[dict[str, Any]]]
)
"""A worker node: sync or async, returns `{"results": [text]}`."""


def fan_out(names: Sequence[str], worker: Worker) -> StateGraph[Any, Any, Any, Any]:
    """START -> dispatch -(Send x N)-> worker -> join -> END.

    `dispatch` returns one `Send("worker", {...})` per name; each worker appends its
    output to `results` (`operator.add`); `join` runs once all are done and writes the
    concatenated answer to `final`.
    """
    team = list(names)

    def dispatch(state: FanOutState) -> Command[Any]:
        return Command(
            goto=[Send("worker", {"name": name, "messages": state["messages"]}) for name in team]
        )

    def join(state: FanOutState) -> dict[str, Any]:
        return {"final": "\n\n".join(state.get("results", []))}

    builder: StateGraph[Any, Any, Any, Any] = StateGraph(FanOutState)
    builder.add_node("dispatch", dispatch, destinations=("worker",))
    builder.add_node("worker", cast(Any, worker))  # sync or async, LangGraph takes both
    builder.add_node("join", join)
    builder.add_edge(START, "dispatch")
    builder.add_edge("worker", "join")
    builder.add_edge("join", END)
    return builder


def fan_out_per_agent(names: Sequence[str], worker: Worker) -> StateGraph[Any, Any, Any, Any]:
    """START -> dispatch -(Send x N)-> one node per agent -> join -> END.

    The same topology as `create_concurrent`: each agent is its own node (so its run is
    named after it and the drawing shows it). `join` is deferred, as it must be when N
    different nodes lead to it; otherwise as `fan_out`.
    """
    team = list(names)

    def dispatch(state: FanOutState) -> Command[Any]:
        return Command(
            goto=[Send(name, {"name": name, "messages": state["messages"]}) for name in team]
        )

    def join(state: FanOutState) -> dict[str, Any]:
        return {"final": "\n\n".join(state.get("results", []))}

    builder: StateGraph[Any, Any, Any, Any] = StateGraph(FanOutState)
    builder.add_node("dispatch", dispatch, destinations=tuple(team))
    for name in team:
        builder.add_node(name, cast(Any, worker))
        builder.add_edge(name, "join")
    builder.add_node("join", join, defer=True)
    builder.add_edge(START, "dispatch")
    builder.add_edge("join", END)
    return builder


class RoundRobinState(TypedDict):
    """State of the hand-written group chat: the transcript and the rounds spoken."""

    messages: Annotated[list[AnyMessage], add_messages]
    round: NotRequired[int]


def round_robin(names: Sequence[str], max_rounds: int) -> StateGraph[Any, Any, Any, Any]:
    """START -> manager <-> speakers, round robin, until `max_rounds` speaker turns.

    The star `create_group_chat` builds: `manager` picks the next speaker in team order
    with `Command(goto=name)` (counting the round) or ends the run; each speaker appends
    "ok" as a named `AIMessage` and returns to `manager` with `Command(goto="manager")`.
    """
    team = list(names)

    def manager(state: RoundRobinState) -> Command[Any]:
        spoken = state.get("round", 0)
        if spoken >= max_rounds:
            return Command(goto=END)
        return Command(goto=team[spoken % len(team)], update={"round": spoken + 1})

    builder: StateGraph[Any, Any, Any, Any] = StateGraph(RoundRobinState)
    builder.add_node("manager", manager, destinations=(*team, END))
    for name in team:

        def speaker(state: RoundRobinState, name: str = name) -> Command[Any]:
            return Command(goto="manager", update={"messages": [AIMessage("ok", name=name)]})

        builder.add_node(name, speaker, destinations=("manager",))
    builder.add_edge(START, "manager")
    return builder
