"""`Agent` validation, `check_team`, and `AgentRunner` for every kind of agent."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import importlib.util
import pickle
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import tool
from langgraph.errors import GraphInterrupt
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.types import Interrupt, RetryPolicy

from langgraph_orchestra import (
    Agent,
    AgentError,
    AgentTimeoutError,
    MaxRounds,
    ModelPrice,
    OrchestraError,
    OutputValidationError,
    TeamConfigError,
    Window,
    create_concurrent,
    create_sequential,
)
from langgraph_orchestra import calls as calls_module
from langgraph_orchestra._install import install_command
from langgraph_orchestra.agents import RESERVED_NAMES, AgentRunner, check_team
from langgraph_orchestra.names import REVIEWER
from langgraph_orchestra.nodes.escalation import ESCALATE
from langgraph_orchestra.nodes.fanout import AGGREGATE, DISPATCH, FANOUT
from langgraph_orchestra.nodes.route import FINALIZE
from langgraph_orchestra.testing import ScriptedModel
from langgraph_orchestra.tracing import DEFAULT_PRICES

TASK: list[BaseMessage] = [HumanMessage("What is 1 + 2?", id="task")]


def no_wait(**options: Any) -> RetryPolicy:
    """A retry policy that retries at once (no backoff, no jitter)."""
    return RetryPolicy(initial_interval=0.0, jitter=False, **options)


def echo(messages: list[BaseMessage]) -> str:
    return f"saw {len(messages)}"


def pickle_round_trip(value: Any) -> Any:
    return pickle.loads(pickle.dumps(value))


def runner(agent: Agent) -> AgentRunner:
    return AgentRunner(agent, prices=DEFAULT_PRICES)


def flaky(*errors: Exception, answer: str = "ok") -> tuple[Callable[..., str], list[int]]:
    """A callable raising `errors` in turn, then answering; and its call counter."""
    calls: list[int] = []

    def fn(messages: list[BaseMessage]) -> str:
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return answer

    return fn, calls


# --- Agent validation ---------------------------------------------------------------


def _name_error(name: object) -> str:
    return (
        f"Invalid agent name {name!r}: use 1-64 letters, digits, '_' or '-', starting with a letter"
    )


@pytest.mark.parametrize(
    "name", ["has space", "1writer", "a" * 65, "", 42, None, "writer\n", "wr!ter", "_x"]
)
def test_bad_names_are_refused(name: Any) -> None:
    with pytest.raises(TeamConfigError, match=re.escape(_name_error(name))):
        Agent(name, runnable=echo)


@pytest.mark.parametrize("name", ["a", "Writer_2", "code-reviewer", "a" * 64])
def test_good_names_are_accepted(name: str) -> None:
    assert Agent(name, runnable=echo).name == name


@pytest.mark.parametrize("name", ["human", "Human", "MANAGER", "approve_x", "authorize_x", "__x"])
def test_reserved_names_are_refused(name: str) -> None:
    if name == "__x":
        # "__x" does not even pass the name pattern: it must start with a letter.
        message = _name_error(name)
    else:
        message = (
            f"Agent name '{name}' is reserved: pick another name (reserved: "
            f"{sorted(RESERVED_NAMES)} and names starting with ['approve_', 'authorize_', '__'])"
        )
    with pytest.raises(TeamConfigError, match=re.escape(message)):
        Agent(name, runnable=echo)


def test_reserved_names_cover_people_and_every_pattern_node() -> None:
    nodes = {FINALIZE, FANOUT, DISPATCH, AGGREGATE, ESCALATE, REVIEWER}
    assert {"human", "user", "manager", *nodes} <= RESERVED_NAMES


def test_an_agent_cannot_take_a_pattern_nodes_name() -> None:
    with pytest.raises(TeamConfigError, match=re.escape("Agent name 'fanout' is reserved")):
        create_concurrent([Agent("fanout", runnable=echo), Agent("b", runnable=echo)])


def test_both_model_and_runnable_is_refused() -> None:
    with pytest.raises(
        TeamConfigError,
        match=re.escape("Agent 'a' has both of model and runnable: give exactly one"),
    ):
        Agent("a", model=ScriptedModel([]), runnable=echo)


def test_neither_model_nor_runnable_is_refused() -> None:
    with pytest.raises(
        TeamConfigError,
        match=re.escape("Agent 'a' has neither of model and runnable: give exactly one"),
    ):
        Agent("a")


def test_model_of_wrong_type_is_refused() -> None:
    with pytest.raises(
        TeamConfigError,
        match=re.escape(
            "Agent 'a' model must be a chat model or a 'provider:model' string, got int"
        ),
    ):
        Agent("a", model=42)  # type: ignore[arg-type]


def test_empty_model_string_is_refused() -> None:
    with pytest.raises(TeamConfigError, match=re.escape("Agent 'a' model string is empty")):
        Agent("a", model="  ")


def test_runnable_of_wrong_type_is_refused() -> None:
    with pytest.raises(
        TeamConfigError,
        match=re.escape(
            "Agent 'a' runnable must be a compiled graph, a Runnable or a callable, got int"
        ),
    ):
        Agent("a", runnable=42)


def test_tools_without_model_are_refused() -> None:
    @tool
    def ping() -> str:
        """Ping."""
        return "pong"

    with pytest.raises(
        TeamConfigError,
        match=re.escape("Agent 'a' has tools but no model: tools need a model"),
    ):
        Agent("a", runnable=echo, tools=[ping])


def test_instructions_without_model_are_refused() -> None:
    with pytest.raises(
        TeamConfigError,
        match=re.escape(
            "Agent 'a' has instructions but no model: instructions are the model's system prompt"
        ),
    ):
        Agent("a", runnable=echo, instructions="Be brief.")


def _ping() -> str:
    """Ping."""
    return "pong"


@pytest.mark.parametrize(
    ("tools", "kind"),
    [(tool(_ping), "StructuredTool"), (_ping, "function"), ("ping", "str"), (None, "NoneType")],
)
def test_tools_must_be_a_list(tools: Any, kind: str) -> None:
    with pytest.raises(
        TeamConfigError,
        match=re.escape(f"Agent 'a' tools must be a list of tools, got {kind}: use tools=[...]"),
    ):
        Agent("a", model=ScriptedModel([]), tools=tools)


def test_each_tool_must_be_a_tool() -> None:
    with pytest.raises(
        TeamConfigError,
        match=re.escape(
            "Agent 'a' tools[1] is a int, not a tool: give a BaseTool, a @tool function or a "
            "plain function"
        ),
    ):
        Agent("a", model=ScriptedModel([]), tools=[_ping, 42])  # type: ignore[list-item]


def test_description_must_be_a_string() -> None:
    with pytest.raises(
        TeamConfigError, match=re.escape("Agent 'a' description must be a string, got NoneType")
    ):
        Agent("a", None, runnable=echo)  # type: ignore[arg-type]


def test_instructions_must_be_a_string() -> None:
    with pytest.raises(
        TeamConfigError,
        match=re.escape("Agent 'a' instructions must be a string (the system prompt), got list"),
    ):
        Agent("a", model=ScriptedModel([]), instructions=["Be brief."])  # type: ignore[arg-type]


@pytest.mark.parametrize("on_error", ["ignore", "", None])
def test_bad_on_error_is_refused(on_error: Any) -> None:
    with pytest.raises(
        TeamConfigError,
        match=re.escape(
            f"Agent 'a' on_error={on_error!r}: allowed ['raise', 'continue', 'escalate']"
        ),
    ):
        Agent("a", runnable=echo, on_error=on_error)


@pytest.mark.parametrize("approval", ["always", True, ""])
def test_bad_approval_is_refused(approval: Any) -> None:
    with pytest.raises(
        TeamConfigError,
        match=re.escape(
            f"Agent 'a' approval={approval!r}: allowed None or ['before', 'after', 'both']"
        ),
    ):
        Agent("a", runnable=echo, approval=approval)


@pytest.mark.parametrize("retry", [0, -1, True, 1.5, "2"])
def test_bad_retry_is_refused(retry: Any) -> None:
    with pytest.raises(
        TeamConfigError,
        match=re.escape(
            f"Agent 'a' retry={retry!r}: give a number of attempts >= 1 or a RetryPolicy"
        ),
    ):
        Agent("a", runnable=echo, retry=retry)


@pytest.mark.parametrize("timeout", [0, -1.0, True, "5", float("nan"), float("inf")])
def test_bad_timeout_is_refused(timeout: Any) -> None:
    with pytest.raises(
        TeamConfigError,
        match=re.escape(f"Agent 'a' timeout={timeout!r}: give a positive number of seconds"),
    ):
        Agent("a", runnable=echo, timeout=timeout)


@pytest.mark.parametrize("context", ["everything", 3, MaxRounds(2)])
def test_bad_context_is_refused_with_the_agent_name(context: Any) -> None:
    with pytest.raises(
        TeamConfigError,
        match=re.escape(
            f"Invalid context {context!r} for agent 'a': use 'full', 'last', 'own', "
            "Window(k), TokenBudget(n), Summary(model, keep_last=k) or a callable "
            "state -> list[BaseMessage]"
        ),
    ):
        Agent("a", runnable=echo, context=context)


def test_valid_options_are_kept() -> None:
    policy = RetryPolicy(max_attempts=2)
    agent = Agent(
        "a",
        "Answers",
        runnable=echo,
        context=Window(2),
        approval="both",
        on_error="escalate",
        retry=policy,
        timeout=1,
    )
    assert (agent.description, agent.context, agent.on_error, agent.retry, agent.timeout) == (
        "Answers",
        Window(2),
        "escalate",
        policy,
        1,
    )


def test_a_list_of_tools_becomes_a_tuple() -> None:
    @tool
    def ping() -> str:
        """Ping."""
        return "pong"

    tools = [ping]
    agent = Agent("a", model=ScriptedModel([]), tools=tools)
    tools.append(ping)  # the agent does not share the caller's list
    assert agent.tools == (ping,)


@pytest.mark.parametrize(
    ("approval", "before", "after"),
    [(None, False, False), ("before", True, False), ("after", False, True), ("both", True, True)],
)
def test_approval_placement(approval: Any, before: bool, after: bool) -> None:
    agent = Agent("a", runnable=echo, approval=approval)
    assert (agent.approves_before, agent.approves_after) == (before, after)


def test_agent_is_frozen() -> None:
    agent = Agent("a", runnable=echo)
    with pytest.raises(dataclasses.FrozenInstanceError):
        agent.name = "b"  # type: ignore[misc]
    assert agent.name == "a"


def test_replace_revalidates() -> None:
    agent = Agent("a", runnable=echo)
    with pytest.raises(TeamConfigError, match=re.escape(_name_error("not ok"))):
        dataclasses.replace(agent, name="not ok")


# --- check_team -----------------------------------------------------------------------


def test_check_team_returns_a_tuple() -> None:
    a, b = Agent("a", runnable=echo), Agent("b", runnable=echo)
    assert check_team([a, b], pattern="sequential") == (a, b)
    assert check_team(a, pattern="sequential") == (a,)  # type: ignore[arg-type]


@pytest.mark.parametrize(("agents", "kind"), [(None, "NoneType"), ("ab", "str"), (3, "int")])
def test_check_team_refuses_a_non_list(agents: Any, kind: str) -> None:
    with pytest.raises(
        TeamConfigError, match=re.escape(f"sequential agents must be a list of Agent, got {kind}")
    ):
        check_team(agents, pattern="sequential")


def test_check_team_takes_any_iterable() -> None:
    a, b = Agent("a", runnable=echo), Agent("b", runnable=echo)
    assert check_team(iter([a, b]), pattern="sequential") == (a, b)  # type: ignore[arg-type]


def test_check_team_refuses_an_empty_team() -> None:
    with pytest.raises(
        TeamConfigError, match=re.escape("sequential needs at least one agent, got none")
    ):
        check_team([], pattern="sequential")


def test_check_team_refuses_duplicates() -> None:
    with pytest.raises(
        TeamConfigError,
        match=re.escape("Duplicate agent name 'a' in concurrent: names must be unique"),
    ):
        check_team(
            [Agent("a", runnable=echo), Agent("b", runnable=echo), Agent("a", runnable=echo)],
            pattern="concurrent",
        )


def test_check_team_refuses_a_non_agent() -> None:
    with pytest.raises(
        TeamConfigError,
        match=re.escape(
            "sequential agents[1] is a function, not an Agent: wrap it as "
            "Agent('name', runnable=...) or Agent('name', model=...)"
        ),
    ):
        check_team([Agent("a", runnable=echo), echo], pattern="sequential")  # type: ignore[list-item]


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the runner's backoff sleeps instead of sleeping."""
    recorded: list[float] = []
    fake_time = SimpleNamespace(perf_counter=time.perf_counter, sleep=recorded.append)
    monkeypatch.setattr(calls_module, "time", fake_time)
    return recorded


# --- AgentRunner: each kind of agent --------------------------------------------------


def test_chat_model_gets_instructions_first_then_the_view() -> None:
    model = ScriptedModel(["3"])
    turn = runner(Agent("calc", model=model, instructions="Be brief.")).invoke(TASK, {})

    assert model.calls == [[SystemMessage("Be brief."), *TASK]]
    [message] = turn.messages
    assert isinstance(message, AIMessage)
    assert (message.content, message.name) == ("3", "calc")
    assert message.usage_metadata is not None
    usage = turn.usage["calc"]
    assert list(turn.usage) == ["calc"]
    assert (usage["calls"], usage["input_tokens"], usage["output_tokens"]) == (
        1,
        message.usage_metadata["input_tokens"],
        message.usage_metadata["output_tokens"],
    )
    assert usage["input_tokens"] > 0
    model.assert_complete()


def test_chat_model_without_instructions_sees_only_the_view() -> None:
    model = ScriptedModel(["3"])
    runner(Agent("calc", model=model)).invoke(TASK, {})
    assert model.calls == [TASK]


def test_chat_model_usage_is_priced() -> None:
    reply = AIMessage(
        "3", usage_metadata={"input_tokens": 1000, "output_tokens": 500, "total_tokens": 1500}
    )
    model = ScriptedModel([reply], model_name="gpt-4o-mini-2024-07-18")
    turn = AgentRunner(
        Agent("calc", model=model), prices={"gpt-4o-mini": ModelPrice(1.0, 2.0)}
    ).invoke(TASK, {})
    usage = turn.usage["calc"]
    assert (usage["input_tokens"], usage["output_tokens"]) == (1000, 500)
    assert usage["cost_usd"] == pytest.approx((1000 * 1.0 + 500 * 2.0) / 1e6)
    assert usage["latency_s"] >= 0


async def test_chat_model_async() -> None:
    model = ScriptedModel(["3"])
    turn = await runner(Agent("calc", model=model, instructions="Be brief.")).ainvoke(TASK, {})
    assert [(m.text, m.name) for m in turn.messages] == [("3", "calc")]
    assert model.calls == [[SystemMessage("Be brief."), *TASK]]


def _tool_agent() -> tuple[Agent, ScriptedModel, list[tuple[int, int]]]:
    used: list[tuple[int, int]] = []

    @tool
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        used.append((a, b))
        return a + b

    call = AIMessage("", tool_calls=[{"name": "add", "args": {"a": 1, "b": 2}, "id": "c1"}])
    model = ScriptedModel([call, "It is 3."])
    return Agent("calc", model=model, tools=[add], instructions="Use tools."), model, used


def _check_tool_turn(messages: list[BaseMessage]) -> None:
    assert [type(m) for m in messages] == [AIMessage, ToolMessage, AIMessage]
    call, result, answer = messages
    assert isinstance(call, AIMessage) and isinstance(answer, AIMessage)
    assert [c["name"] for c in call.tool_calls] == ["add"]
    assert isinstance(result, ToolMessage)
    assert (result.content, result.tool_call_id) == ("3", "c1")
    assert (call.name, answer.name, answer.text) == ("calc", "calc", "It is 3.")


def test_model_with_tools_runs_the_tool_and_returns_its_new_messages() -> None:
    agent, model, used = _tool_agent()
    turn = runner(agent).invoke(TASK, {})

    assert used == [(1, 2)]
    _check_tool_turn(turn.messages)
    # The task is not echoed back; the system prompt reached the model.
    assert model.calls[0] == [SystemMessage("Use tools."), *TASK]
    assert turn.usage["calc"]["calls"] == 2
    model.assert_complete()


async def test_model_with_tools_async() -> None:
    agent, model, used = _tool_agent()
    turn = await runner(agent).ainvoke(TASK, {})
    assert used == [(1, 2)]
    _check_tool_turn(turn.messages)
    model.assert_complete()


def test_compiled_graph_returns_only_its_new_messages() -> None:
    def node(state: MessagesState) -> dict[str, Any]:
        return {"messages": [AIMessage(f"seen {len(state['messages'])}", name="inner")]}

    graph = StateGraph(MessagesState).add_node("n", node).add_edge(START, "n").compile()
    view = [*TASK, AIMessage("draft", name="writer", id="w1")]
    turn = runner(Agent("sub", runnable=graph)).invoke(view, {})

    assert [(type(m), m.text, m.name) for m in turn.messages] == [(AIMessage, "seen 2", "sub")]


def test_orchestra_team_as_agent_gives_one_message_and_member_usage() -> None:
    team = create_sequential(
        [Agent("w", runnable=lambda ms: "draft"), Agent("e", runnable=lambda ms: "final!")]
    ).compile()
    turn = runner(Agent("team", runnable=team)).invoke(TASK, {})

    assert [(m.text, m.name) for m in turn.messages] == [("final!", "team")]
    assert sorted(turn.usage) == ["team/e", "team/w"]
    assert turn.usage["team/w"]["calls"] == 1


def test_runnable_gets_the_view_and_its_message_is_named() -> None:
    seen: list[list[BaseMessage]] = []

    def answer(messages: list[BaseMessage]) -> AIMessage:
        seen.append(messages)
        return AIMessage("done", name="anonymous")

    turn = runner(Agent("r", runnable=RunnableLambda(answer))).invoke(TASK, {})
    assert seen == [TASK]
    assert [(m.text, m.name) for m in turn.messages] == [("done", "r")]


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("plain", [("plain", "f")]),
        (AIMessage("message", name="other"), [("message", "f")]),
        ([AIMessage("one"), AIMessage("two", name="f")], [("one", "f"), ("two", "f")]),
    ],
    ids=["str", "AIMessage", "list"],
)
def test_sync_callable_outputs(output: Any, expected: list[tuple[str, str]]) -> None:
    turn = runner(Agent("f", runnable=lambda ms: output)).invoke(TASK, {})
    assert [(m.text, m.name) for m in turn.messages] == expected
    assert all(isinstance(m, AIMessage) for m in turn.messages)
    assert turn.usage["f"]["calls"] == len(expected)


def test_callable_output_is_copied_not_renamed_in_place() -> None:
    original = AIMessage("message", name="other")
    runner(Agent("f", runnable=lambda ms: original)).invoke(TASK, {})
    assert original.name == "other"


def test_traced_only_for_kinds_that_take_a_config() -> None:
    assert runner(Agent("m", model=ScriptedModel([]))).traced
    assert runner(Agent("r", runnable=RunnableLambda(echo))).traced
    assert not runner(Agent("f", runnable=echo)).traced


async def _async_answer(messages: list[BaseMessage]) -> str:
    await asyncio.sleep(0)
    return f"async saw {len(messages)}"


class _AsyncCallable:
    async def __call__(self, messages: list[BaseMessage]) -> str:
        return "from object"


async def test_async_callable_with_ainvoke() -> None:
    turn = await runner(Agent("f", runnable=_async_answer)).ainvoke(TASK, {})
    assert [(m.text, m.name) for m in turn.messages] == [("async saw 1", "f")]


async def test_async_callable_object_with_ainvoke() -> None:
    turn = await runner(Agent("f", runnable=_AsyncCallable())).ainvoke(TASK, {})
    assert [m.text for m in turn.messages] == ["from object"]


async def test_sync_callable_with_ainvoke_runs_in_a_thread() -> None:
    threads: list[int] = []

    def answer(messages: list[BaseMessage]) -> str:
        threads.append(threading.get_ident())
        return "sync"

    turn = await runner(Agent("f", runnable=answer)).ainvoke(TASK, {})
    assert [m.text for m in turn.messages] == ["sync"]
    assert threads != [threading.get_ident()]


@pytest.mark.parametrize("fn", [_async_answer, _AsyncCallable()], ids=["function", "object"])
def test_async_callable_with_sync_invoke_is_a_clear_type_error(
    fn: Any, sleeps: list[float]
) -> None:
    agent = Agent("f", runnable=fn, retry=3)
    with pytest.raises(
        TypeError,
        match=re.escape(
            "Agent 'f' is an async function: run the graph with ainvoke/astream, or give a "
            "sync callable"
        ),
    ):
        runner(agent).invoke(TASK, {})
    assert sleeps == []  # a usage error is not retried


@pytest.mark.parametrize(
    ("output", "kind"), [(42, "int"), ({"answer": "x"}, "dict"), ([AIMessage("a"), "b"], "list")]
)
def test_bad_output_type_is_a_type_error(output: Any, kind: str) -> None:
    with pytest.raises(
        TypeError,
        match=re.escape(
            f"Agent 'f' returned {kind}: return a str, an AIMessage, a list of messages, or a "
            "dict with 'messages'"
        ),
    ):
        runner(Agent("f", runnable=lambda ms: output)).invoke(TASK, {})


def test_unrecognized_coroutine_output_is_closed_and_explained() -> None:
    # A sync lambda returning a coroutine: the coroutine must be closed (else Python
    # warns it was never awaited, an error under this suite's filterwarnings).
    agent = Agent("f", runnable=lambda ms: _async_answer(ms))
    with pytest.raises(
        TypeError,
        match=re.escape(
            "Agent 'f' returned a coroutine: its runnable is async but was not recognized as "
            "such; give an `async def` function, or a sync callable"
        ),
    ):
        runner(agent).invoke(TASK, {})


def test_empty_output_is_an_error() -> None:
    with pytest.raises(ValueError, match=re.escape("Agent 'f' produced no message")):
        runner(Agent("f", runnable=lambda ms: [])).invoke(TASK, {})


# --- retries ----------------------------------------------------------------------------


def test_retry_count_retries_any_error(sleeps: list[float]) -> None:
    fn, calls = flaky(KeyError("boom"))
    turn = runner(Agent("f", runnable=fn, retry=2)).invoke(TASK, {})

    assert [m.text for m in turn.messages] == ["ok"]
    assert len(calls) == 2
    # One backoff: 0.5 s plus up to 1 s of jitter.
    assert len(sleeps) == 1
    assert 0.5 <= sleeps[0] <= 1.5


def test_retry_count_is_the_number_of_attempts(sleeps: list[float]) -> None:
    fn, calls = flaky(ValueError("one"), ValueError("two"), ValueError("three"))
    with pytest.raises(ValueError, match=r"^three$"):
        runner(Agent("f", runnable=fn, retry=3)).invoke(TASK, {})
    assert len(calls) == 3
    assert len(sleeps) == 2


def test_no_retry_by_default(sleeps: list[float]) -> None:
    fn, calls = flaky(ValueError("once"))
    with pytest.raises(ValueError, match=r"^once$"):
        runner(Agent("f", runnable=fn)).invoke(TASK, {})
    assert (len(calls), sleeps) == (1, [])


def test_retry_policy_backoff_doubles_up_to_max_interval(sleeps: list[float]) -> None:
    policy = RetryPolicy(
        max_attempts=5,
        initial_interval=1.0,
        backoff_factor=2.0,
        max_interval=3.0,
        jitter=False,
        retry_on=OSError,
    )
    fn, calls = flaky(*(OSError(str(i)) for i in range(4)))
    runner(Agent("f", runnable=fn, retry=policy)).invoke(TASK, {})
    assert len(calls) == 5
    assert sleeps == [1.0, 2.0, 3.0, 3.0]


@pytest.mark.parametrize(
    "retry_on",
    [ValueError, (KeyError, ValueError), lambda error: "transient" in str(error)],
    ids=["type", "tuple", "callable"],
)
def test_retry_on_filters_errors(retry_on: Any) -> None:
    policy = no_wait(max_attempts=3, retry_on=retry_on)
    fn, calls = flaky(ValueError("transient"), answer="recovered")
    turn = runner(Agent("f", runnable=fn, retry=policy)).invoke(TASK, {})
    assert [m.text for m in turn.messages] == ["recovered"]
    assert len(calls) == 2

    fn, calls = flaky(TypeError("fatal"))
    with pytest.raises(TypeError, match=r"^fatal$"):
        runner(Agent("f", runnable=fn, retry=policy)).invoke(TASK, {})
    assert len(calls) == 1


def test_default_retry_policy_does_not_retry_value_errors() -> None:
    fn, calls = flaky(ValueError("bad input"))
    with pytest.raises(ValueError, match=r"^bad input$"):
        runner(Agent("f", runnable=fn, retry=no_wait())).invoke(TASK, {})
    assert len(calls) == 1


async def test_async_retries() -> None:
    policy = no_wait(max_attempts=2, retry_on=Exception)
    calls: list[int] = []

    async def fn(messages: list[BaseMessage]) -> str:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("hiccup")
        return "ok"

    turn = await runner(Agent("f", runnable=fn, retry=policy)).ainvoke(TASK, {})
    assert [m.text for m in turn.messages] == ["ok"]
    assert len(calls) == 2


def _interrupting() -> tuple[Callable[..., str], list[int]]:
    calls: list[int] = []

    def fn(messages: list[BaseMessage]) -> str:
        calls.append(1)
        raise GraphInterrupt((Interrupt(value="need a human"),))

    return fn, calls


@pytest.mark.parametrize("timeout", [None, 5.0], ids=["no-timeout", "timeout"])
def test_graph_interrupt_is_never_retried_or_swallowed(timeout: float | None) -> None:
    fn, calls = _interrupting()
    agent = Agent("f", runnable=fn, retry=no_wait(retry_on=Exception), timeout=timeout)
    with pytest.raises(GraphInterrupt) as caught:
        runner(agent).invoke(TASK, {})
    assert caught.value.args[0][0].value == "need a human"
    assert len(calls) == 1


async def test_graph_interrupt_is_never_retried_async() -> None:
    fn, calls = _interrupting()
    agent = Agent("f", runnable=fn, retry=5, timeout=5.0)
    with pytest.raises(GraphInterrupt):
        await runner(agent).ainvoke(TASK, {})
    assert len(calls) == 1


# --- timeouts ---------------------------------------------------------------------------


def test_sync_timeout() -> None:
    release, finished = threading.Event(), threading.Event()

    def slow(messages: list[BaseMessage]) -> str:
        release.wait(30)
        finished.set()
        return "late"

    try:
        with pytest.raises(AgentTimeoutError) as caught:
            runner(Agent("slow", runnable=slow, timeout=0.05)).invoke(TASK, {})
        assert not finished.is_set()  # the call was abandoned, not awaited
    finally:
        release.set()
    assert str(caught.value) == "Agent 'slow' timed out after 0.05 s"
    assert isinstance(caught.value, TimeoutError)
    assert caught.value.agent == "slow"


_HUNG_CALLS = """
import asyncio
import threading
from langchain_core.messages import HumanMessage
from langgraph_orchestra import Agent, AgentTimeoutError
from langgraph_orchestra.agents import AgentRunner

def hangs(messages):
    threading.Event().wait()  # never returns

runner = AgentRunner(Agent("hung", runnable=hangs, timeout=0.1), prices={})
try:
    runner.invoke([HumanMessage("x")], {})
except AgentTimeoutError as error:
    print("sync:", error)

async def main():
    try:
        await runner.ainvoke([HumanMessage("x")], {})
    except AgentTimeoutError as error:
        print("async:", error)

asyncio.run(main())  # joins the default executor's threads at the end
"""


def test_hung_calls_after_their_timeout_do_not_keep_the_process_alive() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _HUNG_CALLS], capture_output=True, text=True, timeout=30
    )
    assert (done.returncode, done.stdout.splitlines(), done.stderr) == (
        0,
        ["sync: Agent 'hung' timed out after 0.1 s", "async: Agent 'hung' timed out after 0.1 s"],
        "",
    )


async def test_async_timeout() -> None:
    finished = asyncio.Event()

    async def slow(messages: list[BaseMessage]) -> str:
        await asyncio.sleep(30)
        finished.set()
        return "late"

    with pytest.raises(AgentTimeoutError) as caught:
        await runner(Agent("slow", runnable=slow, timeout=0.05)).ainvoke(TASK, {})
    assert not finished.is_set()  # the call was cancelled, not awaited
    assert str(caught.value) == "Agent 'slow' timed out after 0.05 s"
    assert isinstance(caught.value, TimeoutError)


def test_fast_agent_within_timeout() -> None:
    turn = runner(Agent("f", runnable=echo, timeout=5)).invoke(TASK, {})
    assert [m.text for m in turn.messages] == ["saw 1"]


def test_timed_out_attempt_is_retried() -> None:
    release = threading.Event()
    calls: list[int] = []

    def first_slow(messages: list[BaseMessage]) -> str:
        calls.append(1)
        if len(calls) == 1:
            release.wait(30)
        return f"attempt {len(calls)}"

    policy = no_wait(max_attempts=2, retry_on=AgentTimeoutError)
    try:
        # The timeout leaves the second, immediate, attempt ample time on a loaded machine.
        turn = runner(Agent("f", runnable=first_slow, timeout=0.5, retry=policy)).invoke(TASK, {})
    finally:
        release.set()
    assert [m.text for m in turn.messages] == ["attempt 2"]


def test_agents_own_timeout_error_is_not_relabelled() -> None:
    def fails(messages: list[BaseMessage]) -> str:
        raise TimeoutError("upstream socket timed out")

    with pytest.raises(TimeoutError, match=r"^upstream socket timed out$") as caught:
        runner(Agent("f", runnable=fails, timeout=5)).invoke(TASK, {})
    assert not isinstance(caught.value, AgentTimeoutError)


async def test_agents_own_timeout_error_is_not_relabelled_async() -> None:
    async def fails(messages: list[BaseMessage]) -> str:
        raise TimeoutError("upstream socket timed out")

    with pytest.raises(TimeoutError, match=r"^upstream socket timed out$") as caught:
        await runner(Agent("f", runnable=fails, timeout=5)).ainvoke(TASK, {})
    assert not isinstance(caught.value, AgentTimeoutError)


# --- model strings ----------------------------------------------------------------------


@pytest.fixture
def no_openai(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make `langchain_openai` look not installed (the dev extra installs it)."""
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return None if name == "langchain_openai" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


@pytest.mark.usefixtures("no_openai")
def test_factory_fails_on_a_missing_provider_before_any_call() -> None:
    with pytest.raises(TeamConfigError, match=re.escape(install_command("openai"))):
        create_sequential([Agent("a", model="openai:gpt-4o-mini")])


# --- errors -------------------------------------------------------------------------------------


def test_errors_also_subclass_the_builtin_they_refine() -> None:
    assert issubclass(TeamConfigError, ValueError) and issubclass(TeamConfigError, OrchestraError)
    assert issubclass(AgentError, RuntimeError) and issubclass(AgentError, OrchestraError)
    assert issubclass(AgentTimeoutError, AgentError) and issubclass(AgentTimeoutError, TimeoutError)
    assert issubclass(OutputValidationError, AgentError)


@pytest.mark.parametrize(
    "make",
    [
        lambda: AgentError("failed", agent="a"),
        lambda: AgentTimeoutError("timed out", agent="a"),
        lambda: OutputValidationError("refused", agent="a", output="draft"),
    ],
    ids=["AgentError", "AgentTimeoutError", "OutputValidationError"],
)
@pytest.mark.parametrize("copier", [pickle_round_trip, copy.deepcopy], ids=["pickle", "deepcopy"])
def test_agent_errors_survive_pickling_and_copying(
    make: Callable[[], AgentError], copier: Callable[[Any], Any]
) -> None:
    error = make()
    error.add_note("while running the team")
    copied = copier(error)
    assert type(copied) is type(error)
    assert (str(copied), copied.agent, copied.__notes__) == (
        str(error),
        "a",
        ["while running the team"],
    )
    assert getattr(copied, "output", None) == getattr(error, "output", None)
