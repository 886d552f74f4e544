"""Fallback models, circuit breakers and the summarized context, with models failing on cue."""

from __future__ import annotations

import asyncio
import itertools
import re
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.messages.utils import count_tokens_approximately
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver

from langgraph_orchestra import (
    Agent,
    AgentError,
    CircuitBreaker,
    CircuitOpenError,
    Resilient,
    Summary,
    TeamConfigError,
    create_group_chat,
    create_planner_executor,
    create_sequential,
)
from langgraph_orchestra.context import SUMMARIZER, resolve_context
from langgraph_orchestra.resilience import circuit, model_key, reset_circuits
from langgraph_orchestra.testing import ScriptedModel
from langgraph_orchestra.tracing import ModelPrice

PRICES = {"primary": ModelPrice(1.0, 2.0), "backup": ModelPrice(10.0, 20.0)}


class Clock:
    """A fake monotonic clock: time moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def _fresh_breakers() -> Iterator[None]:
    reset_circuits()
    yield
    reset_circuits()


def task(text: str = "Write the note") -> dict[str, Any]:
    return {"messages": [HumanMessage(text)]}


def kinds(state: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r for r in state["audit"] if r["kind"] == kind]


# -- fallbacks ------------------------------------------------------------------------


def test_a_failing_model_hands_over_to_the_fallback_priced_as_the_model_that_answered() -> None:
    primary = ScriptedModel([RuntimeError("503 overloaded")] * 2, model_name="primary")
    backup = ScriptedModel(["the note"], model_name="backup")
    writer = Agent("writer", model=primary, fallbacks=[backup], retry=2)
    graph = create_sequential([writer], prices=PRICES).compile()

    state = graph.invoke(task())

    assert state["final"] == "the note"
    primary.assert_complete()
    backup.assert_complete()
    [fallback] = kinds(state, "fallback")
    assert fallback["agent"] == "writer"
    assert fallback["detail"] == {
        "model": "backup",
        "failed": [{"model": "primary", "error": "503 overloaded", "error_type": "RuntimeError"}],
    }
    reply = state["messages"][-1]
    assert reply.response_metadata["model_name"] == "backup"
    tokens = reply.usage_metadata
    usage = state["usage"]["writer"]
    assert usage["calls"] == 1
    assert usage["input_tokens"] == tokens["input_tokens"]
    expected = (tokens["input_tokens"] * 10.0 + tokens["output_tokens"] * 20.0) / 1e6
    assert usage["cost_usd"] == pytest.approx(expected)
    # The fallback record comes with the turn it served, before the turn record.
    order = [r["kind"] for r in state["audit"]]
    assert order.index("fallback") < order.index("turn")


def test_no_fallback_record_when_the_first_model_answers() -> None:
    backup = ScriptedModel([], model_name="backup")
    writer = Agent("writer", model=ScriptedModel(["fine"]), fallbacks=[backup])
    state = create_sequential([writer]).compile().invoke(task())
    assert state["final"] == "fine"
    assert kinds(state, "fallback") == []
    assert backup.calls == []


def test_when_every_model_fails_the_error_goes_to_on_error_with_the_fallback_record() -> None:
    primary = ScriptedModel([RuntimeError("down")], model_name="primary")
    backup = ScriptedModel([TimeoutError("slow")], model_name="backup")
    writer = Agent("writer", model=primary, fallbacks=[backup], on_error="continue")
    editor = Agent("editor", runnable=lambda messages: "edited")
    state = create_sequential([writer, editor]).compile().invoke(task())

    assert state["final"] == "edited"
    [exception] = state["exceptions"]
    assert (exception["agent"], exception["error"], exception["error_type"]) == (
        "writer",
        "slow",
        "TimeoutError",
    )
    [fallback] = kinds(state, "fallback")
    assert fallback["detail"]["model"] is None
    assert [f["model"] for f in fallback["detail"]["failed"]] == ["primary", "backup"]


def test_with_on_error_raise_the_last_models_error_is_raised() -> None:
    primary = ScriptedModel([RuntimeError("down")], model_name="primary")
    backup = ScriptedModel([RuntimeError("also down")], model_name="backup")
    writer = Agent("writer", model=primary, fallbacks=[backup])
    with pytest.raises(AgentError, match="Agent 'writer' failed: RuntimeError: also down"):
        create_sequential([writer]).compile().invoke(task())


def test_fallbacks_async() -> None:
    primary = ScriptedModel([RuntimeError("down")], model_name="primary")
    backup = ScriptedModel(["async note"], model_name="backup")
    writer = Agent("writer", model=primary, fallbacks=[backup])
    state = asyncio.run(create_sequential([writer]).compile().ainvoke(task()))
    assert state["final"] == "async note"
    assert kinds(state, "fallback")[0]["detail"]["model"] == "backup"


def test_an_agent_with_tools_falls_back_to_the_same_agent_on_the_next_model() -> None:
    def lookup(order: str) -> str:
        """Look an order up."""
        return f"order {order}: shipped"

    primary = ScriptedModel([RuntimeError("down")], model_name="primary")
    backup = ScriptedModel(
        [
            AIMessage("", tool_calls=[{"name": "lookup", "args": {"order": "7"}, "id": "c1"}]),
            "Order 7 has shipped.",
        ],
        model_name="backup",
    )
    agent = Agent("support", model=primary, fallbacks=[backup], tools=[lookup])
    state = create_sequential([agent]).compile().invoke(task("Where is order 7?"))
    assert state["final"] == "Order 7 has shipped."
    assert kinds(state, "fallback")[0]["detail"]["model"] == "backup"
    backup.assert_complete()


def test_a_manager_with_a_resilient_model_falls_back() -> None:
    manager = Resilient(
        ScriptedModel([RuntimeError("down")], model_name="primary"),
        fallbacks=[
            ScriptedModel([{"speaker": "critic", "reason": "a review is due"}], model_name="backup")
        ],
    )
    writer = Agent("writer", model=ScriptedModel([]))
    critic = Agent("critic", model=ScriptedModel(["LGTM"]))
    graph = create_group_chat(
        [writer, critic], selector="llm", manager_model=manager, max_rounds=1, prices=PRICES
    ).compile()
    state = graph.invoke(task())

    assert state["final"] == "LGTM"
    fallback, routing = [r for r in state["audit"] if r["kind"] in ("fallback", "routing")]
    assert fallback["agent"] == "manager"
    assert fallback["detail"]["model"] == "backup"
    assert routing["detail"]["speaker"] == "critic"
    assert state["usage"]["manager"]["calls"] == 1
    assert state["usage"]["manager"]["cost_usd"] > 0  # priced as the backup


def test_a_planner_with_a_resilient_model_falls_back() -> None:
    plan = {"steps": [{"id": "s1", "agent": "writer", "instruction": "write it"}]}
    planner = Resilient(
        ScriptedModel([RuntimeError("down")], model_name="primary"),
        fallbacks=[ScriptedModel([plan], model_name="backup")],
    )
    writer = Agent("writer", runnable=lambda messages: "written")
    state = create_planner_executor([writer], planner_model=planner).compile().invoke(task())
    assert state["final"] == "written"
    fallback = kinds(state, "fallback")[0]
    assert (fallback["agent"], fallback["detail"]["model"]) == ("planner", "backup")


# -- circuit breakers -------------------------------------------------------------------


def test_breaker_opens_after_failures_within_the_window_only() -> None:
    clock = Clock()
    settings = CircuitBreaker(failures=3, window=10, reset_after=5, clock=clock)
    state = circuit(ScriptedModel([], model_name="flaky"))
    assert state.failed(settings) is None
    clock.now += 11  # the first failure leaves the window
    assert state.failed(settings) is None
    assert state.failed(settings) is None
    assert state.state == "closed"
    assert state.failed(settings) == "open"
    with pytest.raises(CircuitOpenError) as refused:
        state.enter(settings, "writer")
    assert refused.value.model == "scripted:flaky"
    assert refused.value.retry_after == pytest.approx(5.0)
    assert str(refused.value) == (
        "'writer': the circuit breaker of model 'scripted:flaky' is open (a trial call in 5 s)"
    )


def test_half_open_lets_one_trial_through_and_its_outcome_decides() -> None:
    clock = Clock()
    settings = CircuitBreaker(failures=1, window=10, reset_after=5, clock=clock)
    state = circuit(ScriptedModel([], model_name="flaky"))
    assert state.failed(settings) == "open"
    clock.now += 4.9
    with pytest.raises(CircuitOpenError):
        state.enter(settings, "a")
    clock.now += 0.1
    assert state.enter(settings, "a") == "half_open"
    with pytest.raises(CircuitOpenError, match="a trial call is running"):
        state.enter(settings, "b")  # one trial at a time
    assert state.failed(settings) == "open"  # the trial failed: open again, timer reset
    with pytest.raises(CircuitOpenError):
        state.enter(settings, "b")
    clock.now += 5
    assert state.enter(settings, "b") == "half_open"
    assert state.succeeded() == "closed"
    assert state.enter(settings, "c") is None
    # A trial that ends without an outcome (an interrupt) frees the slot.
    assert state.failed(settings) == "open"
    clock.now += 5
    assert state.enter(settings, "d") == "half_open"
    state.released()
    assert state.enter(settings, "e") is None
    assert state.state == "half_open"


def test_one_breaker_per_model_identity_shared_by_every_instance() -> None:
    one, two = ScriptedModel([], model_name="m"), ScriptedModel([], model_name="m")
    assert circuit(one) is circuit(two)
    assert circuit(one) is not circuit(ScriptedModel([], model_name="other"))
    assert model_key(one.bind_tools([])) == model_key(one) == "scripted:m"


def test_breaker_is_thread_safe_it_opens_once_under_concurrent_failures() -> None:
    settings = CircuitBreaker(failures=50, window=60, reset_after=30)
    state = circuit(ScriptedModel([], model_name="busy"))
    moves: list[str | None] = []
    barrier = threading.Barrier(8)

    def fail() -> None:
        barrier.wait()
        for _ in range(25):
            moves.append(state.failed(settings))

    threads = [threading.Thread(target=fail) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert moves.count("open") == 1
    assert state.state == "open"


def flaky_team(clock: Clock, **first: Any) -> tuple[Any, dict[str, ScriptedModel]]:
    """Two agents on the same model (two instances of `flaky`), a breaker on both."""
    breaker = CircuitBreaker(failures=2, window=60, reset_after=30, clock=clock)
    models = {
        "a": ScriptedModel([RuntimeError("down"), RuntimeError("down")], model_name="flaky"),
        "b": ScriptedModel([], model_name="flaky"),  # never called: the breaker is open
        "backup": ScriptedModel(["b answered"], model_name="backup"),
    }
    a = Agent("a", model=models["a"], retry=2, breaker=breaker, on_error="continue", **first)
    b = Agent("b", model=models["b"], fallbacks=[models["backup"]], breaker=breaker)
    return create_sequential([a, b]).compile(checkpointer=InMemorySaver()), models


def test_an_open_breaker_fails_fast_into_the_fallback_of_every_agent_on_that_model() -> None:
    graph, models = flaky_team(Clock())
    config: RunnableConfig = {"configurable": {"thread_id": "t"}}
    events = [
        data
        for mode, data in graph.stream(task(), config, stream_mode=["custom", "values"])
        if mode == "custom"
    ]
    state = graph.get_state(config).values

    assert state["final"] == "b answered"
    for model in models.values():
        model.assert_complete()
    assert models["b"].calls == []  # failed fast: the model was never reached
    [opened] = kinds(state, "breaker")
    assert (opened["agent"], opened["detail"]) == (
        "a",
        {
            "model": "scripted:flaky",
            "state": "open",
            "failures": 2,
            "window_s": 60,
            "reset_after_s": 30,
        },
    )
    [fallback] = kinds(state, "fallback")
    assert fallback["agent"] == "b"
    [failure] = fallback["detail"]["failed"]
    assert failure["error_type"] == "CircuitOpenError"
    assert failure["model"] == "flaky"
    [event] = [e for e in events if e["type"] == "orchestra.breaker"]
    assert (event["agent"], event["detail"]) == (opened["agent"], opened["detail"])
    assert event["audit_id"] == opened["id"]


def test_an_open_breaker_without_fallback_goes_to_on_error() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failures=1, window=60, reset_after=30, clock=clock)
    circuit(ScriptedModel([], model_name="flaky")).failed(breaker)  # opened elsewhere
    model = ScriptedModel([], model_name="flaky")
    writer = Agent("writer", model=model, breaker=breaker, on_error="continue")
    state = create_sequential([writer]).compile().invoke(task())
    [exception] = state["exceptions"]
    assert exception["error_type"] == "CircuitOpenError"
    assert model.calls == []


def test_after_reset_time_a_trial_call_closes_the_breaker_with_an_audit_record() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failures=1, window=60, reset_after=30, clock=clock)
    circuit(ScriptedModel([], model_name="flaky")).failed(breaker)
    clock.now += 30
    writer = Agent("writer", model=ScriptedModel(["back"], model_name="flaky"), breaker=breaker)
    graph = create_sequential([writer]).compile()
    events = [d for m, d in graph.stream(task(), stream_mode=["custom", "values"]) if m == "custom"]
    moves = [e["detail"]["state"] for e in events if e["type"] == "orchestra.breaker"]
    assert moves == ["half_open", "closed"]
    assert circuit(writer.model).state == "closed"


def test_an_open_breaker_stops_the_retries_of_a_call() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failures=2, window=60, reset_after=30, clock=clock)
    model = ScriptedModel([RuntimeError("down")] * 2, model_name="flaky")
    writer = Agent("writer", model=model, retry=5, breaker=breaker, on_error="continue")
    state = create_sequential([writer]).compile().invoke(task())
    model.assert_complete()  # 2 attempts of 5: the third was refused by the open breaker
    assert state["exceptions"][0]["error_type"] == "CircuitOpenError"
    assert [r["detail"]["state"] for r in kinds(state, "breaker")] == ["open"]


def test_a_manager_breaker_is_shared_with_agents_on_the_same_model() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failures=1, window=60, reset_after=30, clock=clock)
    circuit(ScriptedModel([], model_name="flaky")).failed(breaker)
    manager = Resilient(
        ScriptedModel([], model_name="flaky"),
        fallbacks=[ScriptedModel([{"speaker": "w", "reason": "only one"}], model_name="ok")],
        breaker=breaker,
    )
    team = [Agent("w", model=ScriptedModel(["done"])), Agent("v", model=ScriptedModel([]))]
    state = (
        create_group_chat(team, selector="llm", manager_model=manager, max_rounds=1)
        .compile()
        .invoke(task())
    )
    assert state["final"] == "done"
    assert kinds(state, "fallback")[0]["detail"]["failed"][0]["error_type"] == ("CircuitOpenError")


# -- bad input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: Agent("a", model=ScriptedModel([]), fallbacks="openai:gpt-4o"),  # type: ignore[arg-type]
            "Agent 'a' fallbacks must be a list of chat models or 'provider:model' strings, "
            "got str: use fallbacks=[...]",
        ),
        (
            lambda: Agent("a", model=ScriptedModel([]), fallbacks=[3]),  # type: ignore[list-item]
            "Agent 'a' fallbacks[0] must be a chat model or a 'provider:model' string, got 3",
        ),
        (
            lambda: Agent("a", runnable=lambda m: "x", fallbacks=[ScriptedModel([])]),
            "Agent 'a' has fallbacks but no model: fallbacks replace a failing model",
        ),
        (
            lambda: Agent("a", model=ScriptedModel([]), breaker={"failures": 3}),  # type: ignore[arg-type]
            "Agent 'a' breaker must be a CircuitBreaker or None, got {'failures': 3}",
        ),
        (
            lambda: CircuitBreaker(failures=0),
            "CircuitBreaker failures must be a whole number >= 1, got 0",
        ),
        (
            lambda: CircuitBreaker(window=-1),
            "CircuitBreaker window must be a positive number of seconds, got -1",
        ),
        (
            lambda: CircuitBreaker(reset_after=float("nan")),
            "CircuitBreaker reset_after must be a positive number of seconds, got nan",
        ),
        (
            lambda: Resilient(""),
            "Resilient model must be a chat model or a 'provider:model' string, got ''",
        ),
        (
            lambda: Summary(ScriptedModel([]), keep_last=0),
            "Summary needs a whole number keep_last >= 1, got 0",
        ),
        (
            lambda: Summary(None),  # type: ignore[arg-type]
            "Summary model must be a chat model, a 'provider:model' string or a Resilient "
            "model, got None",
        ),
    ],
)
def test_bad_resilience_settings_are_refused(build: Callable[[], Any], message: str) -> None:
    with pytest.raises(TeamConfigError, match=re.escape(message)):
        build()


# -- summarized context -----------------------------------------------------------------

WORDS = " ".join(f"word{i}" for i in range(30))


def speaker(name: str) -> ScriptedModel:
    counter = itertools.count(1)

    def reply(messages: list[BaseMessage]) -> str:
        return f"{name} turn {next(counter)}: {WORDS}"

    return ScriptedModel([reply] * 100, name=name)


def summarizer(calls: int) -> ScriptedModel:
    def summarize(messages: list[BaseMessage]) -> str:
        # A bounded summary: the latest 40 words of the previous summary and the news.
        words = messages[-1].text.split()
        return " ".join(words[-40:])

    return ScriptedModel([summarize] * calls, name="summarizer", model_name="summarizer")


def test_summary_keeps_prompts_flat_and_the_summarizers_input_linear_over_200_rounds() -> None:
    writer, critic = speaker("writer"), speaker("critic")
    # Round r's turn sees the task and r-1 turns; from round 6 on one turn leaves the
    # window of 4 per round (round 5 drops only the task, which stays shown as it is).
    summary = summarizer(195)
    team = [Agent("writer", model=writer), Agent("critic", model=critic)]
    graph = create_group_chat(team, context=Summary(summary, keep_last=4), max_rounds=200).compile(
        checkpointer=InMemorySaver()
    )
    config: RunnableConfig = {"configurable": {"thread_id": "long"}}
    state = graph.invoke(task("Discuss the plan"), config)
    summaries = graph.get_state(config).values["summaries"]  # plumbing: not in the output

    assert state["round"] == 200 and state["stop_reason"] == "max_rounds"
    for model in (writer, critic, summary):
        model.assert_complete()

    # The agents' prompts: flat. Turn i of the writer is round 2i+1.
    prompt = [count_tokens_approximately(call) for call in writer.calls]
    assert len(prompt) == 100
    assert prompt[-1] <= prompt[9] * 1.2  # round 199 vs round 19
    assert max(prompt[10:]) <= prompt[9] * 1.2
    # The latest prompt: the task, the summary, then exactly the latest 4 turns.
    last = writer.calls[-1]
    assert last[0].text == "Discuss the plan"
    assert last[1].name == SUMMARIZER and last[1].text.startswith("Summary of the earlier")
    assert [m.text.split(":")[0] for m in last[2:]] == [
        "writer turn 98",
        "critic turn 98",
        "writer turn 99",
        "critic turn 99",
    ]

    # The summarizer: each call gets the previous summary and only the turn that left.
    sizes = [count_tokens_approximately(call) for call in summary.calls]
    assert len(sizes) == 195
    assert max(sizes) <= sizes[10] * 1.2  # bounded per call ...
    usage = state["usage"][SUMMARIZER]
    assert usage["calls"] == 195
    assert usage["input_tokens"] == sum(sizes)
    assert sum(sizes) <= 195 * sizes[10] * 1.2  # ... so the total is linear in rounds
    for i, call in enumerate(summary.calls):
        news = call[-1].text.split("New messages:\n")[1]
        assert "\n" not in news  # one turn: only what left the window since the last call
        who = "writer" if i % 2 == 0 else "critic"
        assert news.startswith(f"{who}: {who} turn {i // 2 + 1}: ")
    record = summaries["last4"]
    assert record["calls"] == 195
    # Brought up to date before the last turn, whose own message came after.
    assert record["upto"] == len(state["messages"]) - 5


def test_summary_view_shows_everything_until_a_summary_exists_then_only_what_follows() -> None:
    view = resolve_context(Summary(ScriptedModel([]), keep_last=2))
    messages: list[BaseMessage] = [
        HumanMessage("task", id="0"),
        *(AIMessage(f"m{i}", name="a", id=str(i)) for i in range(1, 6)),
    ]
    assert [m.text for m in view({"messages": messages}, "b")] == [
        "task",
        "m1",
        "m2",
        "m3",
        "m4",
        "m5",
    ]
    record = {"text": "S", "upto": 4, "last_id": "3", "calls": 1}
    seen = view({"messages": messages, "summaries": {"last2": record}}, "b")
    assert [m.text for m in seen] == ["task", "Summary of the earlier conversation:\nS", "m4", "m5"]
    assert isinstance(seen[2], HumanMessage) and seen[2].name == "a"
    # A record that no longer matches the transcript (a message replaced) is ignored.
    stale = {**record, "last_id": "other"}
    assert len(view({"messages": messages, "summaries": {"last2": stale}}, "b")) == 6


def test_summary_survives_the_checkpoint_and_is_extended_by_a_fresh_graph() -> None:
    saver = InMemorySaver()
    config: RunnableConfig = {"configurable": {"thread_id": "t"}}

    def team(summarizer_replies: list[Any]) -> tuple[Any, ScriptedModel]:
        model = ScriptedModel(summarizer_replies, model_name="summarizer")
        agents = [Agent("a", model=speaker("a")), Agent("b", model=speaker("b"))]
        graph = create_group_chat(agents, context=Summary(model, keep_last=2), max_rounds=4)
        return graph.compile(checkpointer=saver), model

    # Round 3 drops the task (shown as it is), round 4 drops a's first turn.
    first, model = team(["S1"])
    first.invoke(task("one"), config)
    model.assert_complete()
    assert first.get_state(config).values["summaries"]["last2"]["text"] == "S1"

    # A new graph (as in a new process) on the same thread: the next run's summarizer
    # extends S1 with what left the window, never the whole transcript again.
    second, model = team(["S2", "S3", "S4"])
    second.invoke(task("two"), config)
    state = second.get_state(config).values
    model.assert_complete()
    requests = [call[-1].text for call in model.calls]
    assert requests[0].startswith("Summary so far:\nS1\n")
    assert requests[1].startswith("Summary so far:\nS2\n")
    assert state["summaries"]["last2"]["calls"] == 4
    assert state["usage"][SUMMARIZER]["calls"] == 4


def test_summary_async_and_a_failing_summarizer_goes_to_on_error() -> None:
    model = ScriptedModel([RuntimeError("summarizer down")], model_name="summarizer")
    agents = [
        Agent("a", model=speaker("a"), on_error="continue"),
        Agent("b", model=speaker("b"), on_error="continue"),
    ]
    graph = create_group_chat(agents, context=Summary(model, keep_last=1), max_rounds=3)
    state = asyncio.run(graph.compile().ainvoke(task()))
    # Round 2 drops the task (no call); round 3's refresh calls the summarizer, which fails.
    [exception] = state["exceptions"]
    assert (exception["agent"], exception["error"]) == ("a", "summarizer down")
    model.assert_complete()


def test_summary_in_magentic_is_refreshed_through_the_reset_window() -> None:
    from langgraph_orchestra import create_magentic

    ledger = {
        "facts_given": [],
        "facts_to_look_up": [],
        "facts_to_derive": [],
        "educated_guesses": [],
        "plan": ["a: work"],
    }

    def progress(done: bool = False) -> dict[str, Any]:
        return {
            "is_request_satisfied": done,
            "is_in_loop": False,
            "is_progress_being_made": True,
            "next_speaker": "a",
            "instruction": "go on",
            "reason": "the plan",
        }

    seen: list[list[BaseMessage]] = []

    def a(messages: list[BaseMessage]) -> str:
        seen.append(messages)
        return f"step {len(seen)}"

    manager = ScriptedModel([ledger, *(progress() for _ in range(4)), progress(True), "done"])
    summary = ScriptedModel([lambda m, i=i: f"summary {i}" for i in range(20)], model_name="s")
    graph = create_magentic(
        [Agent("a", runnable=a)],
        manager_model=manager,
        context=Summary(summary, keep_last=2),
        max_rounds=10,
    )
    app = graph.compile(checkpointer=InMemorySaver())
    config: RunnableConfig = {"configurable": {"thread_id": "t"}}
    app.invoke(task(), config)
    state = app.get_state(config).values
    assert state["final"] == "done"
    manager.assert_complete()
    assert len(seen) == 4
    calls = len(summary.calls)
    assert calls >= 1
    assert state["usage"][SUMMARIZER]["calls"] == calls == state["summaries"]["last2"]["calls"]
    last = seen[-1]
    assert last[1].name == SUMMARIZER  # task, summary, then the latest 2
    assert len(last) == 4


def test_half_open_admits_one_trial_among_concurrent_asyncio_calls() -> None:
    from langgraph_orchestra.calls import ModelCall

    clock = Clock()
    breaker = CircuitBreaker(failures=1, window=60, reset_after=30, clock=clock)
    model = ScriptedModel(["trial answer"], model_name="flaky", latency=0.05)
    circuit(model).failed(breaker)
    clock.now += 30
    call = ModelCall(
        Resilient(model, breaker=breaker), participant="writer", pattern="test", prices={}
    )

    async def many() -> list[Any]:
        asks = [call.ainvoke([HumanMessage("hi")]) for _ in range(5)]
        return await asyncio.gather(*asks, return_exceptions=True)

    outcomes = asyncio.run(many())
    answered = [o for o in outcomes if not isinstance(o, BaseException)]
    refused = [o for o in outcomes if isinstance(o, CircuitOpenError)]
    assert len(answered) == 1 and len(refused) == 4
    assert answered[0].message.text == "trial answer"
    assert [r["detail"]["state"] for r in answered[0].audit] == ["half_open", "closed"]
    model.assert_complete()
    assert circuit(model).state == "closed"


def test_a_hierarchical_manager_falls_back_with_its_delegate_tools_bound() -> None:
    from langgraph_orchestra import create_hierarchical

    call = {"name": "delegate_to_a", "args": {"task": "draft"}, "id": "d1"}
    primary = ScriptedModel([RuntimeError("down")], model_name="primary")
    backup = ScriptedModel([AIMessage("", tool_calls=[call]), "the brief"], model_name="backup")
    graph = create_hierarchical(
        [Agent("a", "Writes", runnable=lambda messages: "a draft")],
        manager_model=Resilient(primary, fallbacks=[backup]),
        review=False,
    )
    state = graph.compile().invoke(task())
    assert state["final"] == "the brief"
    backup.assert_complete()
    # The fallback's delegation ran (the tools are bound to every model of the chain).
    assert [f["model"] for f in kinds(state, "fallback")[0]["detail"]["failed"]] == ["primary"]
    assert state["messages"][1].tool_calls[0]["name"] == "delegate_to_a"
    assert [m.text for m in state["messages"] if m.type == "tool"] == ["a draft"]


def test_an_evaluator_agent_falls_back_and_the_record_comes_with_its_score() -> None:
    plan = {"steps": [{"id": "s1", "agent": "writer", "instruction": "write it"}]}
    judge = Agent(
        "judge",
        model=ScriptedModel([RuntimeError("down")], model_name="primary"),
        fallbacks=[ScriptedModel([{"score": 0.9, "reasons": ["fine"]}], model_name="backup")],
    )
    graph = create_planner_executor(
        [Agent("writer", runnable=lambda messages: "written")],
        planner_model=ScriptedModel([plan]),
        evaluator=judge,
        threshold=0.5,
    )
    state = graph.compile().invoke(task())
    assert (state["final"], state["stop_reason"]) == ("written", "completed")
    order = [(r["kind"], r["agent"]) for r in state["audit"]]
    assert order.index(("fallback", "judge")) + 1 == order.index(("plan", "judge"))
