"""Handoff: cost per handoff along a chain a -> b -> c -> d -> e, then e answers.

Every side runs the same scripted behaviour: agent a transfers to b, b to c, c to d, d to
e, and e answers; one invocation is 4 handoffs and 5 agent turns. A timed sample is the
wall time of `BATCH` `invoke`s divided by the handoffs they made (4 each), in
milliseconds.

Model rows: each agent on each side has its own strict `ScriptedModel`, scripted with
exactly as many callable replies as the row makes calls (built before timing); a reply is
an `AIMessage` calling `transfer_to_<next>` (a fresh call id each time), e's is "done".
Ours is `create_handoff` with model agents (transfer tools answered by its middleware,
then its `handoff` node routes); the baselines are a hand-written relay of nodes calling
their model, a hand-written relay of `create_agent` agents with `Command.PARENT`
transfer tools, and langgraph-swarm (optional peer). The router row runs instant
callable agents and `create_handoff(router=...)` against plain nodes doing
`Command(goto=next)`.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from importlib.metadata import version
from typing import Any

from langchain.agents import create_agent
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.messages.tool import tool_call
from langgraph.graph import StateGraph
from langgraph.pregel import Pregel

from benchmarks._harness import Plan, Row, measure
from benchmarks.handwritten import relay, relay_create_agent, relay_model
from langgraph_orchestra import Agent, create_handoff
from langgraph_orchestra.nodes.handoff import transfer_tool_name
from langgraph_orchestra.testing import ScriptedModel

__all__ = [
    "BATCH",
    "HANDOFFS",
    "NAMES",
    "SWARM_TARGET",
    "model_row",
    "router_row",
    "swarm_row",
]

NAMES = ("a", "b", "c", "d", "e")
"""The chain, in order: each agent transfers to the next, the last one answers."""
HANDOFFS = len(NAMES) - 1
"""Handoffs per invocation."""
BATCH = 5
"""Invocations per timed sample (one model-agent invocation takes a few ms)."""
TASK = "My invoice is wrong and I want a refund."
ANSWER = "done"
SWARM_TARGET = 0.50
"""The issue's target: ours at most half of langgraph-swarm's time per handoff."""
SWARM_MISSING = "not installed (optional peer: pip install langgraph-swarm)"
CHAIN: Mapping[str, Sequence[str]] = {a: [b] for a, b in itertools.pairwise(NAMES)}
"""Who may transfer to whom: each agent to the next one only."""

Models = dict[str, ScriptedModel]


def _next(name: str) -> str | None:
    position = NAMES.index(name) + 1
    return NAMES[position] if position < len(NAMES) else None


def _reply(name: str) -> Callable[[list[BaseMessage]], AIMessage | str]:
    """The scripted reply of `name`: a transfer call to the next agent, or the answer."""
    target = _next(name)
    if target is None:
        return lambda messages: ANSWER
    tool = transfer_tool_name(target)

    def transfer(messages: list[BaseMessage]) -> AIMessage:
        call = tool_call(name=tool, args={}, id=f"call_{uuid.uuid4().hex[:24]}")
        return AIMessage("", tool_calls=[call])

    return transfer


def _models(calls: int) -> Models:
    """One strict scripted model per agent with `calls` (callable) replies."""
    return {n: ScriptedModel([_reply(n)] * calls, name=n) for n in NAMES}


def _calls(plan: Plan) -> int:
    """Model calls per agent and side in a row: the check, the warm-up and the samples."""
    return 1 + (plan.warmup + plan.runs) * BATCH


def _task() -> dict[str, Any]:
    return {"messages": [HumanMessage(TASK)]}


def _ok(messages: list[BaseMessage]) -> str:
    return "ok"


def _check(label: str, state: Mapping[str, Any], *, tools: bool, ours: bool) -> None:
    """Refuse to time a graph that did not run the chain (and, ours, end it as completed)."""
    messages: Sequence[BaseMessage] = state["messages"]
    speakers = [m.name for m in messages if isinstance(m, AIMessage)]
    results = sum(isinstance(m, ToolMessage) for m in messages)
    last = ANSWER if tools else "ok"
    problem = None
    if speakers != list(NAMES) or messages[-1].text != last or results != HANDOFFS * tools:
        problem = f"speakers {speakers}, {results} tool results, last {messages[-1].text!r}"
    elif ours and (state.get("final"), state.get("stop_reason"), len(state["handoffs"])) != (
        last,
        "completed",
        HANDOFFS,
    ):
        problem = (
            f"final={state.get('final')!r}, stop_reason={state.get('stop_reason')!r}, "
            f"handoffs={state.get('handoffs')!r}"
        )
    if problem:
        raise RuntimeError(f"{label}: the graph did not run as benchmarked: {problem}")


def _sampler(graph: Pregel[Any, Any, Any, Any]) -> Callable[[], float]:
    def sample() -> float:
        start = time.perf_counter()
        for _ in range(BATCH):
            graph.invoke(_task())
        return (time.perf_counter() - start) * 1000 / (BATCH * HANDOFFS)

    return sample


def _ours_models(models: Models) -> Pregel[Any, Any, Any, Any]:
    team = [Agent(n, f"Agent {n} of the chain", model=m) for n, m in models.items()]
    graph: Pregel[Any, Any, Any, Any] = create_handoff(
        team, entry=NAMES[0], handoffs=CHAIN
    ).compile()
    return graph


def _row(
    name: str,
    title: str,
    baseline: Callable[[Models], StateGraph[Any, Any, Any, Any]],
    plan: Plan,
    *,
    peer: str = "hand-written",
    target: float | None = None,
    note: str = "",
) -> Row:
    """Ours (model agents) against `baseline` built on its own scripted models."""
    calls = _calls(plan)
    ours_models, peer_models = _models(calls), _models(calls)
    ours = _ours_models(ours_models)
    other: Pregel[Any, Any, Any, Any] = baseline(peer_models).compile()
    _check(name, ours.invoke(_task()), tools=True, ours=True)
    _check(name, other.invoke(_task()), tools=True, ours=False)
    a, b = measure(_sampler(ours), _sampler(other), plan)
    for model in (*ours_models.values(), *peer_models.values()):
        model.assert_complete()
    return Row(
        name=name,
        title=title,
        unit="ms/handoff",
        target=target,
        aim=None,
        ours=a,
        hand=b,
        batch=BATCH,
        baseline=peer,
        note=note,
    )


def model_row(plan: Plan, *, baseline: str) -> Row:
    """Ours with model agents vs a hand-written relay (`"nodes"` or `"create_agent"`)."""
    if baseline == "nodes":
        return _row(
            "handoff.model",
            "chain of 5 ScriptedModel agents, 4 handoffs, vs nodes calling the model "
            "and Command(goto=next), ms per handoff",
            lambda models: relay_model(dict(models)),
            plan,
        )
    return _row(
        "handoff.model.create_agent",
        "chain of 5 ScriptedModel agents, 4 handoffs, vs create_agent agents with "
        "Command.PARENT transfer tools, ms per handoff",
        lambda models: relay_create_agent(dict(models)),
        plan,
    )


def _swarm(models: Models) -> StateGraph[Any, Any, Any, Any]:
    """langgraph-swarm: `create_agent` agents with `create_handoff_tool`s to the next."""
    from langgraph_swarm import create_handoff_tool, create_swarm

    agents: list[Pregel[Any, Any, Any, Any]] = []
    for name, model in models.items():
        target = _next(name)
        tools = [] if target is None else [create_handoff_tool(agent_name=target)]
        agents.append(create_agent(model, tools, name=name))
    builder: StateGraph[Any, Any, Any, Any] = create_swarm(agents, default_active_agent=NAMES[0])
    return builder


def swarm_row(plan: Plan) -> Row:
    """Ours with model agents vs langgraph-swarm on the same scripted models."""
    name = "handoff.swarm"
    title = "chain of 5 ScriptedModel agents, 4 handoffs, vs langgraph-swarm, ms per handoff"
    try:
        import langgraph_swarm  # noqa: F401
    except ImportError:
        return Row(
            name=name,
            title=title,
            unit="ms/handoff",
            target=SWARM_TARGET,
            aim=None,
            ours=[],
            hand=[],
            baseline="swarm",
            skipped=SWARM_MISSING,
        )
    return _row(
        name,
        title,
        _swarm,
        plan,
        peer="swarm",
        target=SWARM_TARGET,
        note=(
            f"swarm column: langgraph-swarm {version('langgraph-swarm')} create_swarm of "
            "create_agent agents, each with a create_handoff_tool to the next"
        ),
    )


def router_row(plan: Plan) -> Row:
    """Ours with `router=` and instant callable agents vs nodes doing `Command(goto=next)`."""
    name = "handoff.router"

    def next_in_chain(state: Mapping[str, Any]) -> str | None:
        return _next(state["active_agent"])

    team = [Agent(n, runnable=_ok) for n in NAMES]
    ours: Pregel[Any, Any, Any, Any] = create_handoff(
        team, entry=NAMES[0], handoffs=CHAIN, router=next_in_chain
    ).compile()
    hand: Pregel[Any, Any, Any, Any] = relay(NAMES).compile()
    _check(name, ours.invoke(_task()), tools=False, ours=True)
    _check(name, hand.invoke(_task()), tools=False, ours=False)
    a, b = measure(_sampler(ours), _sampler(hand), plan)
    return Row(
        name=name,
        title="chain of 5 instant agents, 4 handoffs, ours with router=, ms per handoff",
        unit="ms/handoff",
        target=None,
        aim=None,
        ours=a,
        hand=b,
        batch=BATCH,
    )
