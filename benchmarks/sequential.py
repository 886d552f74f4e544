"""Overhead per agent turn: `create_sequential` vs a hand-written chain of 5 nodes.

A sample is the mean wall time of `BATCH` sync `invoke` calls of a 5-agent pipeline,
divided by the number of agent turns (5 per call), in milliseconds. Agents answer at
once, so the figure is the orchestration's own cost: LangGraph's per-node cost on both
sides, plus ours (the context view, the turn's audit record and usage, routing,
`final`/`stop_reason`).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.pregel import Pregel

from benchmarks._harness import Plan, Row, measure
from benchmarks.handwritten import sequential_model, sequential_plain
from langgraph_orchestra import Agent, create_sequential
from langgraph_orchestra.testing import ScriptedModel

__all__ = ["BATCH", "NAMES", "model_row", "plain_row"]

NAMES = tuple(f"a{i}" for i in range(5))
"""The pipeline's agents."""
BATCH = 20
"""Invocations per sample (one invocation of 5 instant turns takes ~2 ms)."""
TASK = "Summarize the customer's ticket."
TARGET, AIM = 1.25, 1.10


def _ok(messages: list[BaseMessage]) -> str:
    return "ok"


def _sampler(graph: Pregel[Any, Any, Any, Any], *, threads: bool) -> Callable[[], float]:
    """Return a callable timing `BATCH` invocations (a new thread each if `threads`)."""
    ids = itertools.count()

    def sample() -> float:
        start = time.perf_counter()
        for _ in range(BATCH):
            config: RunnableConfig | None = (
                {"configurable": {"thread_id": f"t{next(ids)}"}} if threads else None
            )
            graph.invoke({"messages": [HumanMessage(TASK)]}, config)
        return (time.perf_counter() - start) * 1000 / (BATCH * len(NAMES))

    return sample


def _check(label: str, state: dict[str, Any], *, ours: bool) -> None:
    """Refuse to time a graph that does not produce the expected transcript."""
    messages: Sequence[BaseMessage] = state["messages"]
    speakers = [m.name for m in messages if isinstance(m, AIMessage)]
    problem = None
    if speakers != list(NAMES) or messages[-1].text != "ok":
        problem = f"speakers {speakers}, last {messages[-1].text!r}"
    elif ours and (state.get("final"), state.get("stop_reason")) != ("ok", "completed"):
        problem = f"final={state.get('final')!r}, stop_reason={state.get('stop_reason')!r}"
    if problem:
        raise RuntimeError(f"{label}: the graph did not run as benchmarked: {problem}")


def _compile(builder: Any, *, threads: bool) -> Pregel[Any, Any, Any, Any]:
    graph: Pregel[Any, Any, Any, Any] = builder.compile(
        checkpointer=InMemorySaver() if threads else None
    )
    return graph


def _first(graph: Pregel[Any, Any, Any, Any], *, threads: bool) -> dict[str, Any]:
    config: RunnableConfig | None = {"configurable": {"thread_id": "check"}} if threads else None
    result: dict[str, Any] = graph.invoke({"messages": [HumanMessage(TASK)]}, config)
    return result


def _row(
    kind: str,
    title: str,
    ours: Pregel[Any, Any, Any, Any],
    hand: Pregel[Any, Any, Any, Any],
    plan: Plan,
    *,
    checkpointer: bool,
) -> Row:
    """Check both graphs run as benchmarked, measure them interleaved, and make the row."""
    name = f"sequential.{kind}" + ("+memory" if checkpointer else "")
    _check(name, _first(ours, threads=checkpointer), ours=True)
    _check(name, _first(hand, threads=checkpointer), ours=False)
    a, b = measure(_sampler(ours, threads=checkpointer), _sampler(hand, threads=checkpointer), plan)
    return Row(
        name=name,
        title=title + (" (InMemorySaver, new thread per run)" if checkpointer else ""),
        unit="ms/turn",
        target=TARGET,
        aim=AIM,
        ours=a,
        hand=b,
        batch=BATCH,
    )


def plain_row(plan: Plan, *, checkpointer: bool) -> Row:
    """Instant callables: `Agent(name, runnable=lambda messages: "ok")` vs plain nodes."""
    ours = _compile(
        create_sequential([Agent(name, runnable=_ok) for name in NAMES]), threads=checkpointer
    )
    hand = _compile(sequential_plain(NAMES), threads=checkpointer)
    title = "5 instant callable agents, ms per agent turn"
    return _row("plain", title, ours, hand, plan, checkpointer=checkpointer)


def model_row(plan: Plan, *, checkpointer: bool) -> Row:
    """Tool-less model agents: `Agent(name, model=ScriptedModel)` vs nodes calling it.

    Each agent on each side has its own strict `ScriptedModel` scripted with exactly as
    many (callable) replies as the row makes calls; all are checked complete at the end.
    """
    calls = 1 + (plan.warmup + plan.runs) * BATCH

    def models() -> dict[str, ScriptedModel]:
        return {name: ScriptedModel([_ok] * calls, name=name) for name in NAMES}

    ours_models, hand_models = models(), models()
    ours = _compile(
        create_sequential([Agent(name, model=m) for name, m in ours_models.items()]),
        threads=checkpointer,
    )
    hand = _compile(sequential_model(dict(hand_models)), threads=checkpointer)
    title = "5 tool-less ScriptedModel agents, ms per agent turn"
    row = _row("model", title, ours, hand, plan, checkpointer=checkpointer)
    for model in (*ours_models.values(), *hand_models.values()):
        model.assert_complete()
    return row
