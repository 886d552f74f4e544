"""Planner-executor: a plan of independent steps run in one wave.

The planner's scripted model answers with a plan of `STEPS` steps, one for each of
`STEPS` agents, none depending on another, so all of them are ready at once and run in
one wave. Each agent is an async runnable sleeping `SLEEP` s. A sample is one `ainvoke`'s
wall time divided by `SLEEP`: 1.00 is the ideal (the planner's scripted call and the
orchestration cost nothing, the steps overlap perfectly).

Ours is `create_planner_executor`; the hand-written graph (`handwritten.plan_fan_out`)
is a planner node calling the same scripted model for a plan (structured output) and
sending every step to its agent's node at once, then a deferred `join`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage
from langgraph.pregel import Pregel

from benchmarks._harness import Figure, Plan, Row, ameasure
from benchmarks.handwritten import plan_fan_out
from langgraph_orchestra import Agent, create_planner_executor
from langgraph_orchestra.testing import ScriptedModel

__all__ = ["IDEAL_TARGET", "SLEEP", "STEPS", "ideal", "wave_row"]

STEPS = 20
"""Steps of the plan, and agents (one step each)."""
NAMES = tuple(f"s{i}" for i in range(STEPS))
SLEEP = 0.1
"""What each step's agent waits, in seconds."""
IDEAL_TARGET = 1.30
"""The issue's target: ours within this many times the ideal."""
TASK = "Collect the twenty regional figures."


def _plan() -> dict[str, Any]:
    return {
        "steps": [
            {"id": f"p{i}", "agent": n, "instruction": f"Figure {i}.", "depends_on": []}
            for i, n in enumerate(NAMES)
        ]
    }


async def _agent(messages: list[BaseMessage]) -> str:
    await asyncio.sleep(SLEEP)
    return f"done: {messages[-1].text}"


async def _agent_task(task: str) -> str:
    await asyncio.sleep(SLEEP)
    return f"done: {task}"


def _task() -> dict[str, Any]:
    return {"messages": [HumanMessage(TASK)]}


def _check(label: str, ours: Mapping[str, Any], hand: Mapping[str, Any]) -> None:
    """Refuse to time graphs that did not run every step."""
    expected = {f"p{i}": f"done: Figure {i}." for i in range(STEPS)}
    steps = ours.get("steps") or {}
    problems = []
    outputs = {k: v.get("output") for k, v in steps.items() if v.get("status") == "done"}
    if outputs != expected or ours.get("stop_reason") != "completed":
        problems.append(f"ours: {len(outputs)} of {STEPS} steps, {ours.get('stop_reason')!r}")
    if hand.get("final") != "\n\n".join(expected.values()):
        problems.append(f"hand-written: final {str(hand.get('final'))[:60]!r}")
    if problems:
        raise RuntimeError(f"{label}: the graphs did not run as benchmarked: {problems}")


def wave_row(plan: Plan) -> Row:
    """Ours vs the hand-written plan fan-out, 20 steps sleeping `SLEEP` s, x ideal."""
    name = f"planner_executor.wave.{STEPS}"
    runs = 1 + plan.warmup + plan.runs
    ours_model = ScriptedModel([_plan()] * runs, name="ours planner")
    hand_model = ScriptedModel([_plan()] * runs, name="hand-written planner")
    ours: Pregel[Any, Any, Any, Any] = create_planner_executor(
        [Agent(n, f"Agent {n}", runnable=_agent) for n in NAMES], planner_model=ours_model
    ).compile()
    hand: Pregel[Any, Any, Any, Any] = plan_fan_out(
        hand_model, dict.fromkeys(NAMES, _agent_task)
    ).compile()

    def sampler(graph: Pregel[Any, Any, Any, Any]) -> Any:
        async def sample() -> float:
            start = time.perf_counter()
            await graph.ainvoke(_task())
            return (time.perf_counter() - start) / SLEEP

        return sample

    async def run() -> tuple[list[float], list[float]]:
        _check(name, await ours.ainvoke(_task()), await hand.ainvoke(_task()))
        return await ameasure(sampler(ours), sampler(hand), plan)

    a, b = asyncio.run(run())
    ours_model.assert_complete()
    hand_model.assert_complete()
    return Row(
        name=name,
        title=f"plan of {STEPS} independent steps, {STEPS} async agents sleeping "
        f"{SLEEP * 1000:.0f} ms, ainvoke, wall / {SLEEP} s",
        unit="x ideal",
        target=None,
        aim=None,
        ours=a,
        hand=b,
        note=f"target for ours alone: <= {IDEAL_TARGET:.2f}x ideal (figure below)",
    )


def ideal(rows: Mapping[str, Row]) -> Figure | None:
    """Ours' wall over the ideal, against the target (None without the row)."""
    row = rows.get(f"planner_executor.wave.{STEPS}")
    if row is None or row.skipped:
        return None
    ours, hand = row.ours_median, row.hand_median
    return Figure(
        name=f"planner_executor.wave.{STEPS}.ideal",
        title=f"plan of {STEPS} independent steps sleeping {SLEEP} s: wall / {SLEEP} s",
        columns=("ours", "hand-written"),
        cells=(f"{ours:.2f}x", f"{hand:.2f}x"),
        data={"ours": ours, "hand": hand},
        target=f"ours <= {IDEAL_TARGET:.2f}x",
        met=ours <= IDEAL_TARGET,
    )
