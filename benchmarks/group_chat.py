"""Group chat: cost per round, how it scales with the rounds, and what the agents read.

Three agents take turns round robin for R rounds (a round is one speaker turn). A timed
sample is the wall time of one `invoke` divided by R, in milliseconds (for R = 10, the
mean of `BATCH[10]` invocations); agents answer "ok" at once, so the figure is the
orchestration's own cost per round: LangGraph's two supersteps (manager, speaker) on
both sides, plus ours (the speaker's context view, audit records for the turn and the
routing decision, usage, the termination check, `final`/`stop_reason`).

The input-size figures count what the agents' models receive: every prompt's
characters, summed over the run, with `context="full"` (quadratic in R) and with
`Window(4)` (linear in R). The peer rows run AutoGen's `RoundRobinGroupChat` (the
optional `autogen-agentchat` package) on the same scripted behaviour.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from importlib.metadata import version
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langgraph.pregel import Pregel

from benchmarks._harness import Figure, Plan, Row, ameasure, measure
from benchmarks.handwritten import round_robin
from langgraph_orchestra import Agent, create_group_chat
from langgraph_orchestra.context import ContextPolicy, Window
from langgraph_orchestra.testing import ScriptedModel

__all__ = [
    "BATCH",
    "NAMES",
    "REPLY",
    "TASK",
    "autogen_row",
    "flatness",
    "input_chars",
    "round_robin_row",
    "rounds_spoken",
]

NAMES = ("a0", "a1", "a2")
"""The chat's participants, in team order."""
TASK = "Plan the launch of the new pricing page."
"""The run's input."""
REPLY = "Agreed; I would add a short FAQ on billing changes and check the copy with legal first."
"""What every agent answers in the input-size figures (a sentence, not just "ok")."""
BATCH: Mapping[int, int] = {10: 10}
"""Invocations per timed sample, where one invocation is too short to time alone."""
TARGET = 1.20
"""Ratio ours / hand-written per round, and the flatness target (R = 500 over R = 10)."""
FLAT_FROM, FLAT_TO = 10, 500
"""The rows whose per-round cost the flatness figure compares."""
AUTOGEN_MISSING = "not installed (optional peer: pip install autogen-agentchat)"


def _ok(messages: list[BaseMessage]) -> str:
    return "ok"


def rounds_spoken(name: str, rounds: int) -> int:
    """How many turns `name` takes in `rounds` rounds of round robin over `NAMES`."""
    position = NAMES.index(name)
    return len(range(position, rounds, len(NAMES)))


def _task() -> dict[str, Any]:
    return {"messages": [HumanMessage(TASK)]}


def _check(label: str, state: Mapping[str, Any], rounds: int, *, ours: bool) -> None:
    """Refuse to time a graph that did not run `rounds` round-robin turns."""
    messages: Sequence[BaseMessage] = state["messages"]
    speakers = [m.name for m in messages if isinstance(m, AIMessage)]
    expected = [NAMES[i % len(NAMES)] for i in range(rounds)]
    problem = None
    if speakers != expected:
        problem = f"{len(speakers)} turns, first {speakers[:4]}, expected {rounds} round robin"
    elif ours and (state.get("round"), state.get("stop_reason")) != (rounds, "max_rounds"):
        problem = f"round={state.get('round')!r}, stop_reason={state.get('stop_reason')!r}"
    if problem:
        raise RuntimeError(f"{label}: the graph did not run as benchmarked: {problem}")


def _sampler(graph: Pregel[Any, Any, Any, Any], rounds: int, batch: int) -> Callable[[], float]:
    def sample() -> float:
        start = time.perf_counter()
        for _ in range(batch):
            graph.invoke(_task())
        return (time.perf_counter() - start) * 1000 / (batch * rounds)

    return sample


def round_robin_row(rounds: int, plan: Plan, *, window: int | None = None) -> Row:
    """`create_group_chat` of 3 instant agents vs the hand-written star, ms per round.

    With `window`, ours runs with `context=Window(window)` (the hand-written speakers read
    nothing either way), which separates the cost of the default `"full"` view.
    """
    name = f"group_chat.round_robin.{rounds}" + (f".window{window}" if window else "")
    context: ContextPolicy = Window(window) if window else "full"
    team = [Agent(n, runnable=_ok) for n in NAMES]
    ours = create_group_chat(team, max_rounds=rounds, context=context).compile()
    hand = round_robin(NAMES, rounds).compile()
    _check(name, ours.invoke(_task()), rounds, ours=True)
    _check(name, hand.invoke(_task()), rounds, ours=False)
    batch = BATCH.get(rounds, 1)
    a, b = measure(_sampler(ours, rounds, batch), _sampler(hand, rounds, batch), plan)
    return Row(
        name=name,
        title=f"round robin of 3 instant agents, {rounds} rounds, invoke, ms per round"
        + (f", ours with context=Window({window})" if window else ""),
        unit="ms/round",
        target=TARGET,
        aim=None,
        ours=a,
        hand=b,
        batch=batch,
    )


def flatness(rows: Mapping[str, Row]) -> Figure | None:
    """Per-round cost at R = 500 over R = 10, ours and hand-written (None without both rows)."""
    low = rows.get(f"group_chat.round_robin.{FLAT_FROM}")
    high = rows.get(f"group_chat.round_robin.{FLAT_TO}")
    if low is None or high is None or low.skipped or high.skipped:
        return None
    ours = high.ours_median / low.ours_median
    hand = high.hand_median / low.hand_median
    return Figure(
        name=f"group_chat.round_robin.{FLAT_TO}/{FLAT_FROM}",
        title=f"ms per round at R = {FLAT_TO} over R = {FLAT_FROM} (1.00 = flat)",
        columns=("ours", "hand-written"),
        cells=(f"{ours:.2f}x", f"{hand:.2f}x"),
        data={"ours": ours, "hand": hand},
        target=f"ours <= {TARGET:.2f}x",
        met=ours <= TARGET,
    )


def _chars(prompts: Sequence[Sequence[BaseMessage]]) -> int:
    return sum(len(message.text) for prompt in prompts for message in prompt)


def _reply(messages: list[BaseMessage]) -> str:
    return REPLY


def _input_chars(context: ContextPolicy, rounds: int) -> tuple[int, int]:
    """Run one R-round chat of scripted models; return (prompts, characters) they read."""
    models = {n: ScriptedModel([_reply] * rounds_spoken(n, rounds), name=n) for n in NAMES}
    team = [Agent(n, model=m) for n, m in models.items()]
    graph = create_group_chat(team, max_rounds=rounds, context=context).compile()
    _check(f"input chars, {context!r}", graph.invoke(_task()), rounds, ours=True)
    for model in models.values():
        model.assert_complete()
    prompts = [call for model in models.values() for call in model.calls]
    return len(prompts), _chars(prompts)


def input_chars(label: str, context: ContextPolicy, rounds: Sequence[int], plan: Plan) -> Figure:
    """Characters of every prompt the agents' models received, summed, per R (no timing).

    The run is deterministic (scripted replies), so one run per R gives exact figures;
    `plan` is accepted for the suite's interface and not used.
    """
    totals = {r: _input_chars(context, r) for r in rounds}
    per_round = {r: chars / r for r, (_, chars) in totals.items()}
    first, last = rounds[0], rounds[-1]
    growth = per_round[last] / per_round[first]
    cells = tuple(f"{totals[r][1]:,} ({per_round[r]:,.0f}/round)" for r in rounds)
    return Figure(
        name=f"group_chat.input_chars.{label}",
        title=f"model input characters, context={context!r}, 3 scripted agents",
        columns=(*(f"R={r}: total (per round)" for r in rounds), f"per round {last}/{first}"),
        cells=(*cells, f"{growth:.2f}x"),
        data={
            "context": repr(context),
            "task_chars": len(TASK),
            "reply_chars": len(REPLY),
            "rounds": {str(r): {"prompts": p, "chars": c} for r, (p, c) in totals.items()},
            "per_round_growth": growth,
        },
    )


# -- the AutoGen peer ------------------------------------------------------------------


def _autogen_team(rounds: int) -> Any:
    """AutoGen's `RoundRobinGroupChat` of 3 agents answering "ok" at once."""
    from autogen_agentchat.agents import BaseChatAgent
    from autogen_agentchat.base import Response
    from autogen_agentchat.messages import BaseChatMessage, TextMessage
    from autogen_agentchat.teams import RoundRobinGroupChat
    from autogen_core import CancellationToken

    class OkAgent(BaseChatAgent):
        """Answers "ok" at once and keeps no history (as the hand-written speakers)."""

        @property
        def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:
            return (TextMessage,)

        async def on_messages(
            self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
        ) -> Response:
            return Response(chat_message=TextMessage(content="ok", source=self.name))

        async def on_reset(self, cancellation_token: CancellationToken) -> None:
            return None

    return RoundRobinGroupChat([OkAgent(n, description=n) for n in NAMES], max_turns=rounds)


def _check_autogen(label: str, result: Any, rounds: int) -> None:
    speakers = [m.source for m in result.messages[1:]]
    expected = [NAMES[i % len(NAMES)] for i in range(rounds)]
    if speakers != expected or result.messages[-1].content != "ok":
        raise RuntimeError(
            f"{label}: AutoGen did not run as benchmarked: {len(speakers)} turns, "
            f"first {speakers[:4]}, stop {result.stop_reason!r}"
        )


def autogen_row(rounds: int, plan: Plan) -> Row:
    """Ours (`ainvoke`) vs AutoGen's `RoundRobinGroupChat` (`run`), ms per round."""
    name = f"group_chat.autogen.{rounds}"
    title = f"round robin of 3 instant agents, {rounds} rounds, async, ms per round"
    try:
        team = _autogen_team(rounds)
    except ImportError:
        return Row(
            name=name,
            title=title,
            unit="ms/round",
            target=None,
            aim=None,
            ours=[],
            hand=[],
            baseline="AutoGen",
            skipped=AUTOGEN_MISSING,
        )
    ours = create_group_chat([Agent(n, runnable=_ok) for n in NAMES], max_rounds=rounds).compile()
    batch = BATCH.get(rounds, 1)

    async def ours_sample() -> float:
        start = time.perf_counter()
        for _ in range(batch):
            await ours.ainvoke(_task())
        return (time.perf_counter() - start) * 1000 / (batch * rounds)

    async def peer_sample() -> float:
        # A team runs from where it stopped; `reset` (not timed) starts it afresh.
        elapsed = 0.0
        for _ in range(batch):
            start = time.perf_counter()
            await team.run(task=TASK)
            elapsed += time.perf_counter() - start
            await team.reset()
        return elapsed * 1000 / (batch * rounds)

    async def run() -> tuple[list[float], list[float]]:
        _check(name, await ours.ainvoke(_task()), rounds, ours=True)
        _check_autogen(name, await team.run(task=TASK), rounds)
        await team.reset()
        return await ameasure(ours_sample, peer_sample, plan)

    a, b = asyncio.run(run())
    return Row(
        name=name,
        title=title,
        unit="ms/round",
        target=None,
        aim=None,
        ours=a,
        hand=b,
        batch=batch,
        baseline="AutoGen",
        note=(
            f"AutoGen column: autogen-agentchat {version('autogen-agentchat')} "
            "RoundRobinGroupChat(max_turns=R) of BaseChatAgents answering 'ok', reset "
            "between runs (untimed); ours via ainvoke"
        ),
    )
