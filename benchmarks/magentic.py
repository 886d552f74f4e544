"""Magentic: cost per manager round, and the manager's share of the tokens.

A round is one manager decision and one agent turn. The manager's scripted model writes
the task ledger, then a progress ledger per round giving the floor round robin to 3
agents for `ROUNDS` rounds, then one that says the request is satisfied, then the
answer: `ROUNDS + 3` manager calls per run. A timed sample is the wall time of `BATCH`
`invoke`s divided by the rounds they made, in milliseconds; the agents answer "ok" at
once (instant callables), so the figure is the orchestration's own cost plus the
manager's scripted calls, which both sides make alike.

Ours is `create_magentic`; the hand-written graph (`handwritten.ledger_star`) makes the
same manager calls on the same script (structured task ledger, structured progress
choice, answer) and routes with `Command`. The token figure runs the same script once
with `ScriptedModel` agents (an 87-character answer each turn) and reads `usage`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langgraph.pregel import Pregel

from benchmarks._harness import Figure, Plan, Row, measure
from benchmarks.handwritten import ledger_star
from langgraph_orchestra import Agent, create_magentic
from langgraph_orchestra.testing import ScriptedModel

__all__ = ["BATCH", "NAMES", "ROUNDS", "manager_tokens", "rounds_row", "script"]

NAMES = ("a0", "a1", "a2")
"""The agents, in the order the manager gives them the floor."""
ROUNDS = 10
"""Agent turns per run (each after a manager decision)."""
BATCH = 5
"""Invocations per timed sample."""
TASK = "Plan the launch of the new pricing page."
ANSWER = "Launch plan: FAQ, legal review of the copy, then the page."
REPLY = "Agreed; I would add a short FAQ on billing changes and check the copy with legal first."
"""What every agent answers in the token figure (the sentence the group-chat figures use)."""
LEDGER: Mapping[str, Any] = {
    "facts_given": ["a new pricing page"],
    "facts_to_look_up": ["billing changes"],
    "facts_to_derive": ["the launch order"],
    "educated_guesses": [],
    "plan": ["a0: FAQ", "a1: copy", "a2: legal"],
}


def _progress(round_: int) -> dict[str, Any]:
    done = round_ >= ROUNDS
    return {
        "is_request_satisfied": done,
        "is_in_loop": False,
        "is_progress_being_made": True,
        "next_speaker": NAMES[round_ % len(NAMES)],
        "instruction": f"Step {round_ + 1}: add your part.",
        "reason": "per the plan",
    }


def script() -> list[Any]:
    """The manager's replies for one run: ledger, `ROUNDS` + 1 progress ledgers, answer."""
    return [dict(LEDGER), *(_progress(r) for r in range(ROUNDS + 1)), ANSWER]


def _task() -> dict[str, Any]:
    return {"messages": [HumanMessage(TASK)]}


def _ok(messages: list[BaseMessage]) -> str:
    return "ok"


def _check(label: str, state: Mapping[str, Any], *, ours: bool, reply: str = "ok") -> None:
    """Refuse to time a graph that did not run `ROUNDS` round-robin turns and answer."""
    messages: Sequence[BaseMessage] = state["messages"]
    turns = [(m.name, m.text) for m in messages if isinstance(m, AIMessage)]
    expected = [(NAMES[r % len(NAMES)], reply) for r in range(ROUNDS)]
    problem = None
    if turns != expected or state.get("final") != ANSWER:
        problem = f"{len(turns)} turns, first {turns[:3]}, final {state.get('final')!r}"
    elif ours and (state.get("round"), state.get("stop_reason")) != (ROUNDS, "completed"):
        problem = f"round={state.get('round')!r}, stop_reason={state.get('stop_reason')!r}"
    if problem:
        raise RuntimeError(f"{label}: the graph did not run as benchmarked: {problem}")


def _sampler(graph: Pregel[Any, Any, Any, Any]) -> Callable[[], float]:
    def sample() -> float:
        start = time.perf_counter()
        for _ in range(BATCH):
            graph.invoke(_task())
        return (time.perf_counter() - start) * 1000 / (BATCH * ROUNDS)

    return sample


def rounds_row(plan: Plan) -> Row:
    """`create_magentic` vs the hand-written ledger star, 3 instant agents, ms per round."""
    name = f"magentic.rounds.{ROUNDS}"
    runs = 1 + (plan.warmup + plan.runs) * BATCH
    ours_model = ScriptedModel(script() * runs, name="ours manager")
    hand_model = ScriptedModel(script() * runs, name="hand-written manager")
    ours: Pregel[Any, Any, Any, Any] = create_magentic(
        [Agent(n, f"Agent {n}", runnable=_ok) for n in NAMES],
        manager_model=ours_model,
        max_rounds=ROUNDS + 1,
    ).compile()
    hand: Pregel[Any, Any, Any, Any] = ledger_star(hand_model, dict.fromkeys(NAMES, _ok)).compile()
    _check(name, ours.invoke(_task()), ours=True)
    _check(name, hand.invoke(_task()), ours=False)
    a, b = measure(_sampler(ours), _sampler(hand), plan)
    ours_model.assert_complete()
    hand_model.assert_complete()
    return Row(
        name=name,
        title=f"3 instant agents, {ROUNDS} manager rounds (scripted ledgers), invoke, ms per round",
        unit="ms/round",
        target=None,
        aim=None,
        ours=a,
        hand=b,
        batch=BATCH,
        note=f"{ROUNDS + 3} scripted manager calls per run on both sides",
    )


def manager_tokens(plan: Plan) -> Figure:
    """The manager's share of all tokens in one scripted run (no timing; exact).

    `plan` is accepted for the suite's interface and not used.
    """
    manager = ScriptedModel(script(), name="manager")
    models = {
        n: ScriptedModel([REPLY] * len(range(i, ROUNDS, len(NAMES))), name=n)
        for i, n in enumerate(NAMES)
    }
    graph = create_magentic(
        [Agent(n, f"Agent {n}", model=m) for n, m in models.items()],
        manager_model=manager,
        max_rounds=ROUNDS + 1,
    ).compile()
    state = graph.invoke(_task())
    _check("magentic.manager_tokens", state, ours=True, reply=REPLY)
    for model in (manager, *models.values()):
        model.assert_complete()
    usage: Mapping[str, Mapping[str, Any]] = state["usage"]
    tokens = {who: u["input_tokens"] + u["output_tokens"] for who, u in usage.items()}
    total = sum(tokens.values())
    share = tokens["manager"] / total
    agents = total - tokens["manager"]
    return Figure(
        name="magentic.manager_tokens",
        title=f"manager tokens / all tokens, {ROUNDS} rounds, 3 ScriptedModel agents",
        columns=("manager tokens", "agent tokens", "manager share", "manager calls"),
        cells=(
            f"{tokens['manager']:,}",
            f"{agents:,}",
            f"{share:.1%}",
            str(usage["manager"]["calls"]),
        ),
        data={
            "tokens": tokens,
            "usage": {who: dict(u) for who, u in usage.items()},
            "share": share,
        },
        note="approximate token counts (ScriptedModel: count_tokens_approximately)",
    )
