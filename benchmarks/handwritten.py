"""The hand-written LangGraph graphs we compare against.

Each is what a LangGraph user would write for the same topology without this library:
a `messages` state with `add_messages`, plain function nodes, plain edges or `Send`.
They produce the same transcript as ours (agent messages named after the agent) but
none of the governance: no audit trail, usage, exception queue, `final` or routing.
The handoff relays come in two forms: plain nodes passing control with
`Command(goto=next)`, and `langchain.agents.create_agent` agents whose transfer tool
returns `Command(goto=target, graph=Command.PARENT)` (LangGraph's documented handoff).
The manager-led graphs (`ledger_star`, `delegation`, `plan_fan_out`) make the same model
calls as ours on the same scripted replies: structured output by
`with_structured_output`, tools by `bind_tools`, routing by `Command` and `Send`; so
does the peer mesh (`mailbox`).
"""

from __future__ import annotations

import asyncio
import operator
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Annotated, Any, Literal, NotRequired, cast

from langchain.agents import create_agent
from langchain.tools import ToolRuntime, tool
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AnyMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.tools import BaseTool, StructuredTool
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.types import Command, Overwrite, Send
from pydantic import BaseModel, Field, create_model
from typing_extensions import TypedDict

__all__ = [
    "DelegationState",
    "FanOutState",
    "LedgerState",
    "MailboxState",
    "MessagesState",
    "PlanState",
    "RoundRobinState",
    "WorkerInput",
    "chat",
    "delegation",
    "fan_out",
    "fan_out_per_agent",
    "ledger_star",
    "mailbox",
    "plan_fan_out",
    "relay",
    "relay_create_agent",
    "relay_model",
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


def chat(names: Sequence[str], turns: int, reply: str) -> StateGraph[Any, Any, Any, Any]:
    """START -> a -> b -> a -> ... -> END: the speakers take turns until `turns` replies.

    Each node appends its reply as a named `AIMessage`; a conditional edge after each
    turn counts the replies and passes the floor on (round robin) or ends.
    """
    team = list(names)
    builder: StateGraph[Any, Any, Any, Any] = StateGraph(MessagesState)
    for i, name in enumerate(team):

        def node(state: MessagesState, name: str = name) -> dict[str, Any]:
            return {"messages": [AIMessage(reply, name=name)]}

        def route(state: MessagesState, following: str = team[(i + 1) % len(team)]) -> str:
            return END if len(state["messages"]) > turns else following

        builder.add_node(name, node)
        builder.add_conditional_edges(name, route, [team[(i + 1) % len(team)], END])
    builder.add_edge(START, team[0])
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


def _next(names: Sequence[str], name: str) -> str:
    """The node after `name` in `names`, or END after the last."""
    position = list(names).index(name) + 1
    return names[position] if position < len(names) else END


def relay(names: Sequence[str]) -> StateGraph[Any, Any, Any, Any]:
    """START -> a -> b -> ... -> END, each node passing control with `Command(goto=next)`.

    What one writes by hand for a fixed relay: each node appends "ok" as a named
    `AIMessage` and names the next node (the last one ends the run).
    """
    builder: StateGraph[Any, Any, Any, Any] = StateGraph(MessagesState)
    for name in names:
        after = _next(names, name)

        def node(state: MessagesState, name: str = name, after: str = after) -> Command[Any]:
            return Command(goto=after, update={"messages": [AIMessage("ok", name=name)]})

        builder.add_node(name, node, destinations=(after,))
    builder.add_edge(START, names[0])
    return builder


def relay_model(
    models: dict[str, BaseChatModel], *, prefix: str = "transfer_to_"
) -> StateGraph[Any, Any, Any, Any]:
    """START -> a -> ... , each node calling its model and following its transfer call.

    A node names the model's reply after itself; a tool call `<prefix><target>` gets a
    `ToolMessage` acknowledging it (so the history stays valid) and control goes to
    `target`; a reply without a tool call ends the run. No `create_agent`, no tool node:
    the least one writes by hand for a model-driven relay.
    """
    names = list(models)
    builder: StateGraph[Any, Any, Any, Any] = StateGraph(MessagesState)
    for name, model in models.items():

        def node(
            state: MessagesState, name: str = name, model: BaseChatModel = model
        ) -> Command[Any]:
            reply = model.invoke(state["messages"])
            reply.name = name
            calls = getattr(reply, "tool_calls", None)
            if not calls:
                return Command(goto=END, update={"messages": [reply]})
            call = calls[0]
            target = call["name"][len(prefix) :]
            done = ToolMessage(
                f"Transferred to {target}.", tool_call_id=call["id"] or "", name=call["name"]
            )
            return Command(goto=target, update={"messages": [reply, done]})

        builder.add_node(name, node, destinations=(_next(names, name),))
    builder.add_edge(START, names[0])
    return builder


def _transfer_tool(target: str, prefix: str) -> BaseTool:
    """A tool that hands control to the parent graph's node `target`."""

    @tool(f"{prefix}{target}", description=f"Transfer the conversation to {target}.")
    def transfer(runtime: ToolRuntime) -> Command[Any]:
        done = ToolMessage(
            f"Transferred to {target}.",
            tool_call_id=runtime.tool_call_id or "",
            name=f"{prefix}{target}",
        )
        # The parent receives the agent's messages so far: the call and its result.
        return Command(
            goto=target,
            graph=Command.PARENT,
            update={"messages": [*runtime.state["messages"], done]},
        )

    return transfer


def relay_create_agent(
    models: dict[str, BaseChatModel], *, prefix: str = "transfer_to_"
) -> StateGraph[Any, Any, Any, Any]:
    """START -> a -> ... , each agent a `create_agent` with a transfer tool to the next.

    LangGraph's documented handoff: the transfer tool returns
    `Command(goto=target, graph=Command.PARENT)` with the agent's messages and the
    tool's result; the last agent has no tools and answers. langgraph-swarm builds the
    same, plus an `active_agent` field and a router at START.
    """
    names = list(models)
    builder: StateGraph[Any, Any, Any, Any] = StateGraph(MessagesState)
    for name, model in models.items():
        after = _next(names, name)
        tools = [] if after == END else [_transfer_tool(after, prefix)]
        agent = create_agent(model, tools, name=name)
        builder.add_node(name, agent, destinations=() if after == END else (after,))
    builder.add_edge(START, names[0])
    return builder


# -- manager-led patterns --------------------------------------------------------------

Speaker = Callable[[list[BaseMessage]], str]
"""A speaker of the ledger star: the transcript in, its answer out."""


class LedgerState(TypedDict):
    """State of the hand-written ledger star: the transcript, the plan and the answer."""

    messages: Annotated[list[AnyMessage], add_messages]
    ledger: NotRequired[dict[str, Any]]
    final: NotRequired[str]


class _TaskLedger(BaseModel):
    facts_given: list[str]
    facts_to_look_up: list[str]
    facts_to_derive: list[str]
    educated_guesses: list[str]
    plan: list[str]


class _Progress(BaseModel):
    is_request_satisfied: bool
    is_in_loop: bool
    is_progress_being_made: bool
    next_speaker: str
    instruction: str
    reason: str


def ledger_star(
    model: BaseChatModel, speakers: Mapping[str, Speaker]
) -> StateGraph[Any, Any, Any, Any]:
    """START -> plan -> manager <-> speakers; the manager answers at the end.

    `plan` asks the model for a task ledger (structured output); `manager` asks it for a
    progress choice (structured output, `next_speaker` one of the team) and either gives
    the floor with `Command(goto=speaker)` and the instruction as a named `HumanMessage`,
    or, once the request is satisfied, asks it for the answer and ends. A speaker appends
    its answer as a named `AIMessage` and returns to `manager`. No stall counting,
    replans, resets, bounds, audit or usage.
    """
    team = list(speakers)
    names: Any = Literal[tuple(team)]
    progress: Any = create_model("Progress", __base__=_Progress, next_speaker=(names, Field()))
    planner = model.with_structured_output(_TaskLedger)
    chooser = model.with_structured_output(progress)

    def plan(state: LedgerState) -> Command[Any]:
        ledger = planner.invoke([SystemMessage("Plan the task."), *state["messages"]])
        return Command(goto="manager", update={"ledger": cast(BaseModel, ledger).model_dump()})

    def manager(state: LedgerState) -> Command[Any]:
        prompt = [SystemMessage(f"Plan: {state.get('ledger')}. Who next?"), *state["messages"]]
        choice: Any = chooser.invoke(prompt)
        if choice.is_request_satisfied:
            answer = model.invoke([SystemMessage("Answer."), *state["messages"]])
            return Command(goto=END, update={"final": answer.text})
        instruction = HumanMessage(choice.instruction, name="manager")
        return Command(goto=choice.next_speaker, update={"messages": [instruction]})

    builder: StateGraph[Any, Any, Any, Any] = StateGraph(LedgerState)
    builder.add_node("plan", plan, destinations=("manager",))
    builder.add_node("manager", manager, destinations=(*team, END))
    for name, speak in speakers.items():

        def speaker(state: LedgerState, name: str = name, speak: Speaker = speak) -> Command[Any]:
            reply = AIMessage(speak([*state["messages"]]), name=name)
            return Command(goto="manager", update={"messages": [reply]})

        builder.add_node(name, speaker, destinations=("manager",))
    builder.add_edge(START, "plan")
    return builder


WorkerFn = Callable[[str], str] | Callable[[str], Awaitable[str]]
"""A delegated worker or a plan step's agent: its task in, its answer out (sync or async)."""


class DelegationState(TypedDict):
    """State of the hand-written delegation: the transcript and the round's results."""

    messages: Annotated[list[AnyMessage], add_messages]
    results: NotRequired[Annotated[list[tuple[str, str, str]], operator.add]]
    final: NotRequired[str]


class _Task(BaseModel):
    task: str = Field(description="The task.")


def _delegate(worker: str) -> BaseTool:
    def delegate(task: str) -> str:  # never run: the graph runs the worker
        return task

    return StructuredTool.from_function(
        delegate,
        name=f"delegate_to_{worker}",
        description=f"Delegate to {worker}.",
        args_schema=_Task,
    )


def _worker_node(name: str, work: WorkerFn, key: str) -> Callable[..., Any]:
    """A node running `work` on the `Send`'s task, writing `(id, name, output)` to `key`."""
    if asyncio.iscoroutinefunction(work):

        async def arun(task: dict[str, str]) -> dict[str, Any]:
            output = await cast(Callable[[str], Awaitable[str]], work)(task["task"])
            return {key: [(task["id"], name, output)]}

        return arun

    def run(task: dict[str, str]) -> dict[str, Any]:
        return {key: [(task["id"], name, cast(Callable[[str], str], work)(task["task"]))]}

    return run


def delegation(
    model: BaseChatModel, workers: Mapping[str, WorkerFn]
) -> StateGraph[Any, Any, Any, Any]:
    """START -> manager -> dispatch -(Send)-> workers -> join -> manager ... -> END.

    `manager` calls the model with one `delegate_to_<worker>` tool per worker; a reply
    with tool calls goes to `dispatch`, which sends each call's task to its worker's node
    (all at once); the deferred `join` appends one `ToolMessage` per call, in call order,
    and returns to `manager`. A reply without tool calls is `final`. No refusals of
    unknown or repeated workers, no bounds, views, audit or usage.
    """
    team = list(workers)
    bound = model.bind_tools([_delegate(w) for w in team])
    prefix = len("delegate_to_")

    def manager(state: DelegationState) -> Command[Any]:
        reply = bound.invoke(state["messages"])
        reply.name = "manager"
        if not getattr(reply, "tool_calls", None):
            return Command(goto=END, update={"messages": [reply], "final": reply.text})
        return Command(goto="dispatch", update={"messages": [reply]})

    def dispatch(state: DelegationState) -> Command[Any]:
        calls = cast(AIMessage, state["messages"][-1]).tool_calls
        return Command(
            goto=[
                Send(c["name"][prefix:], {"task": c["args"]["task"], "id": c["id"] or ""})
                for c in calls
            ]
        )

    def join(state: DelegationState) -> dict[str, Any]:
        done = {call_id: (name, output) for call_id, name, output in state.get("results", [])}
        calls = cast(AIMessage, state["messages"][-1]).tool_calls
        answers = [
            ToolMessage(done[c["id"] or ""][1], tool_call_id=c["id"] or "", name=c["name"])
            for c in calls
        ]
        return {"messages": answers, "results": Overwrite([])}

    builder: StateGraph[Any, Any, Any, Any] = StateGraph(DelegationState)
    builder.add_node("manager", manager, destinations=("dispatch", END))
    builder.add_node("dispatch", dispatch, destinations=tuple(team))
    for name, work in workers.items():
        builder.add_node(name, _worker_node(name, work, "results"))
        builder.add_edge(name, "join")
    builder.add_node("join", join, defer=True)
    builder.add_edge(START, "manager")
    builder.add_edge("join", "manager")
    return builder


class PlanState(TypedDict):
    """State of the hand-written plan fan-out: the plan, the steps' outputs, the answer."""

    messages: Annotated[list[AnyMessage], add_messages]
    plan: NotRequired[dict[str, Any]]
    outputs: NotRequired[Annotated[list[tuple[str, str, str]], operator.add]]
    final: NotRequired[str]


class _Step(BaseModel):
    id: str
    agent: str
    instruction: str
    depends_on: list[str] = Field(default_factory=list)


class _Plan(BaseModel):
    steps: list[_Step]


def plan_fan_out(
    model: BaseChatModel, agents: Mapping[str, WorkerFn]
) -> StateGraph[Any, Any, Any, Any]:
    """START -> planner -(Send per step)-> agents -> join -> END.

    `planner` asks the model for a plan (structured output, each step's agent one of the
    team) and sends every step to its agent's node at once: this graph handles a plan of
    independent steps only (one wave; no dependencies, validation, views, replans,
    audit or usage). The deferred `join` writes the outputs, in plan order, to `final`.
    """
    team = list(agents)
    names: Any = Literal[tuple(team)]
    step: Any = create_model("Step", __base__=_Step, agent=(names, Field()))
    schema: Any = create_model("Plan", __base__=_Plan, steps=(list[step], Field()))
    planner = model.with_structured_output(schema)

    async def plan(state: PlanState) -> Command[Any]:
        made: Any = await planner.ainvoke([SystemMessage("Plan the task."), *state["messages"]])
        sends = [Send(s.agent, {"task": s.instruction, "id": s.id}) for s in made.steps]
        return Command(goto=sends, update={"plan": made.model_dump()})

    def join(state: PlanState) -> dict[str, Any]:
        done = {step_id: output for step_id, _, output in state.get("outputs", [])}
        order = [s["id"] for s in (state.get("plan") or {}).get("steps", [])]
        return {"final": "\n\n".join(done[i] for i in order)}

    builder: StateGraph[Any, Any, Any, Any] = StateGraph(PlanState)
    builder.add_node("planner", plan, destinations=tuple(team))
    for name, work in agents.items():
        builder.add_node(name, _worker_node(name, work, "outputs"))
        builder.add_edge(name, "join")
    builder.add_node("join", join, defer=True)
    builder.add_edge(START, "planner")
    builder.add_edge("join", END)
    return builder


# -- peer mesh -------------------------------------------------------------------------


class MailboxState(TypedDict):
    """State of the hand-written peer mesh: the transcript, the round's mail, the answer."""

    messages: Annotated[list[AnyMessage], add_messages]
    inbox: NotRequired[dict[str, list[tuple[str, str]]]]
    outbox: NotRequired[Annotated[list[tuple[str, str, str]], operator.add]]
    final: NotRequired[str]


def _send(peer: str) -> BaseTool:
    def send(message: str) -> str:  # never run: the graph delivers the message
        return message

    return StructuredTool.from_function(
        send, name=f"send_to_{peer}", description=f"Send a message to {peer}."
    )


def _finish() -> BaseTool:
    def finish(answer: str) -> str:  # never run: the graph ends with the answer
        return answer

    return StructuredTool.from_function(finish, name="finish", description="Finish.")


def mailbox(models: Mapping[str, BaseChatModel], entry: str) -> StateGraph[Any, Any, Any, Any]:
    """START -> dispatch -(Send)-> agents -> join -> dispatch ... -> END: peers message each other.

    `dispatch` sends each recipient of the round's mail (first: `entry`, with the task)
    to its node; an agent node calls its model (tools bound: `send_to_<peer>` for every
    other agent, `finish`) on the task and the mail it was delivered, appends the reply
    with one acknowledging `ToolMessage` per call, and puts its sends in `outbox`
    (`operator.add`). The deferred `join` ends the run on a `finish` (its answer is
    `final`) or turns the outbox into the next round's inbox. No links, bounds, loop
    detection, views, audit or usage.
    """
    team = list(models)

    def dispatch(state: MailboxState) -> Command[Any]:
        inbox = state.get("inbox") or {entry: []}
        task = state["messages"][0]
        return Command(
            goto=[Send(name, {"task": task, "mail": mail}) for name, mail in inbox.items()]
        )

    def join(state: MailboxState) -> Command[Any]:
        if state.get("final") is not None:
            return Command(goto=END)
        inbox: dict[str, list[tuple[str, str]]] = {}
        for sender, recipient, text in state.get("outbox", []):
            inbox.setdefault(recipient, []).append((sender, text))
        return Command(goto="dispatch", update={"inbox": inbox, "outbox": Overwrite([])})

    builder: StateGraph[Any, Any, Any, Any] = StateGraph(MailboxState)
    builder.add_node("dispatch", dispatch, destinations=tuple(team))
    for name, model in models.items():
        bound = model.bind_tools([*(_send(p) for p in team if p != name), _finish()])

        def agent(payload: dict[str, Any], name: str = name, bound: Any = bound) -> dict[str, Any]:
            mail = [HumanMessage(f"Message from {s}:\n{t}", name=s) for s, t in payload["mail"]]
            reply = bound.invoke([payload["task"], *mail])
            reply.name = name
            update: dict[str, Any] = {"messages": [reply], "outbox": []}
            for call in reply.tool_calls:
                update["messages"].append(
                    ToolMessage("Done.", tool_call_id=call["id"] or "", name=call["name"])
                )
                if call["name"] == "finish":
                    update["final"] = call["args"]["answer"]
                else:
                    update["outbox"].append((name, call["name"][8:], call["args"]["message"]))
            return update

        builder.add_node(name, cast(Any, agent))  # takes the `Send` payload, not the state
        builder.add_edge(name, "join")
    builder.add_node("join", join, defer=True, destinations=("dispatch", END))
    builder.add_edge(START, "dispatch")
    return builder
