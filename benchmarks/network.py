"""Network: cost per round of peers messaging each other.

Two model agents take turns: in each round one agent runs and sends one message to the
other (a fresh call id and a new text per message, so no loop is detected), for
`ROUNDS - 1` rounds; in the last round the recipient calls `finish` with the answer. A
round is one agent turn and the delivery of its message. A timed sample is the wall
time of `BATCH` `invoke`s divided by the rounds they made, in milliseconds; the agents'
scripted models answer at once, so the figure is the orchestration's own cost plus the
scripted calls, which both sides make alike.

Ours is `create_network` (`entry=["a0"]`, `max_messages` above the run's sends; default
context `"own"`: each agent sees the task, its conversation with its peer so far and
this round's mail); the hand-written graph (`handwritten.mailbox`) is a `dispatch` node
sending each recipient its mail, one node per agent calling its model with the same
tools bound and acknowledging every call, and a deferred `join` turning the sends into
the next round's mail or ending on `finish`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.messages.tool import tool_call
from langgraph.pregel import Pregel

from benchmarks._harness import Plan, Row, measure
from benchmarks.handwritten import mailbox
from langgraph_orchestra import Agent, create_network
from langgraph_orchestra.testing import ScriptedModel

__all__ = ["BATCH", "NAMES", "ROUNDS", "rounds_row", "scripts"]

NAMES = ("a0", "a1")
"""The two peers; a0 takes the first round."""
ROUNDS = (10, 50)
"""Rounds per run of the rows (the per-round cost at 50 against 10: does it grow?)."""
BATCH = 5
"""Invocations per timed sample."""
TASK = "Agree on the launch date of the new pricing page."
ANSWER = "Launch on the 14th."


def _message(peer: str, text: str) -> Callable[[list[BaseMessage]], AIMessage]:
    def reply(messages: list[BaseMessage]) -> AIMessage:
        call = tool_call(
            name=f"send_to_{peer}", args={"message": text}, id=f"call_{uuid.uuid4().hex[:24]}"
        )
        return AIMessage("", tool_calls=[call])

    return reply


def _finish(messages: list[BaseMessage]) -> AIMessage:
    call = tool_call(name="finish", args={"answer": ANSWER}, id=f"call_{uuid.uuid4().hex[:24]}")
    return AIMessage("", tool_calls=[call])


def scripts(rounds: int) -> dict[str, list[Any]]:
    """Each agent's replies for one run of `rounds` rounds (the last one finishes)."""
    replies: dict[str, list[Any]] = {n: [] for n in NAMES}
    for r in range(rounds):
        speaker, peer = NAMES[r % 2], NAMES[(r + 1) % 2]
        last = r == rounds - 1
        replies[speaker].append(_finish if last else _message(peer, f"proposal {r}"))
    return replies


def _task() -> dict[str, Any]:
    return {"messages": [HumanMessage(TASK)]}


def _check(label: str, state: Mapping[str, Any], rounds: int, *, ours: bool) -> None:
    """Refuse to time a graph that did not take `rounds` turns and finish with the answer."""
    messages: Sequence[BaseMessage] = state["messages"]
    turns = [m.name for m in messages if isinstance(m, AIMessage)]
    results = [m for m in messages if isinstance(m, ToolMessage)]
    expected = [NAMES[r % 2] for r in range(rounds)]
    problem = None
    if turns != expected or len(results) != rounds or state.get("final") != ANSWER:
        problem = f"turns {turns[:4]}..., {len(results)} results, final {state.get('final')!r}"
    elif ours and (state.get("stop_reason"), state.get("sent")) != ("finished", rounds - 1):
        problem = f"stop_reason={state.get('stop_reason')!r}, sent={state.get('sent')!r}"
    if problem:
        raise RuntimeError(f"{label}: the graph did not run as benchmarked: {problem}")


def rounds_row(rounds: int, plan: Plan) -> Row:
    """`create_network` vs the hand-written mailbox graph, 2 scripted peers, ms per round."""
    name = f"network.rounds.{rounds}"
    runs = 1 + (plan.warmup + plan.runs) * BATCH
    script = scripts(rounds)
    ours_models = {n: ScriptedModel(script[n] * runs, name=f"ours {n}") for n in NAMES}
    hand_models = {n: ScriptedModel(script[n] * runs, name=f"hand-written {n}") for n in NAMES}
    ours: Pregel[Any, Any, Any, Any] = create_network(
        [Agent(n, f"Peer {n}", model=m) for n, m in ours_models.items()],
        entry=[NAMES[0]],
        max_messages=rounds,
    ).compile()
    hand: Pregel[Any, Any, Any, Any] = mailbox(hand_models, NAMES[0]).compile()
    _check(name, ours.invoke(_task()), rounds, ours=True)
    _check(name, hand.invoke(_task()), rounds, ours=False)

    def sampler(graph: Pregel[Any, Any, Any, Any]) -> Callable[[], float]:
        def sample() -> float:
            start = time.perf_counter()
            for _ in range(BATCH):
                graph.invoke(_task())
            return (time.perf_counter() - start) * 1000 / (BATCH * rounds)

        return sample

    a, b = measure(sampler(ours), sampler(hand), plan)
    for model in (*ours_models.values(), *hand_models.values()):
        model.assert_complete()
    return Row(
        name=name,
        title=f"2 scripted peers messaging each other for {rounds} rounds (one turn and one "
        "message each, the last finishes), invoke, ms per round",
        unit="ms/round",
        target=None,
        aim=None,
        ours=a,
        hand=b,
        batch=BATCH,
        note=f"{rounds} scripted model calls per run on both sides",
    )
