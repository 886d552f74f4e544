from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypedDict

import pytest
from langchain.agents import create_agent
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.tools import tool
from pydantic import BaseModel, ValidationError

from langgraph_orchestra.errors import ScriptError
from langgraph_orchestra.testing import ScriptedModel


class Verdict(BaseModel):
    approved: bool
    reason: str


class VerdictDict(TypedDict):
    approved: bool
    reason: str


def _tool_call_reply(name: str, args: dict[str, Any], call_id: str) -> AIMessage:
    return AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": call_id}])


def _aggregate(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    return total


# --- plain replies and strictness ---------------------------------------------------


def test_plain_replies_come_back_in_order() -> None:
    model = ScriptedModel(["first", "second", AIMessage(content="third")])

    assert [model.invoke(f"q{i}").content for i in range(3)] == ["first", "second", "third"]
    model.assert_complete()


def test_extra_call_raises_script_error_with_exact_message() -> None:
    model = ScriptedModel(["one", "two"])
    model.invoke("a")
    model.invoke("b")

    with pytest.raises(ScriptError) as excinfo:
        model.invoke([SystemMessage(content="be brief"), HumanMessage(content="and now?")])

    assert str(excinfo.value) == (
        "ScriptedModel 'scripted' got unexpected call #3: only 2 replies were scripted. "
        "Last input message: (human) 'and now?'"
    )
    assert isinstance(excinfo.value, AssertionError)
    # The failing call is recorded, so the test can see what the agent asked.
    assert len(model.calls) == 3


def test_extra_call_message_uses_name_and_truncates_long_input() -> None:
    model = ScriptedModel(["only"], name="planner", model_name="gpt-fake")
    model.invoke("x")

    with pytest.raises(ScriptError) as excinfo:
        model.invoke("y" * 500)

    assert str(excinfo.value) == (
        "ScriptedModel 'planner' got unexpected call #2: only 1 reply was scripted. "
        f"Last input message: (human) '{'y' * 200}...'"
    )


def test_extra_call_message_falls_back_to_model_name() -> None:
    model = ScriptedModel([], model_name="gpt-fake")

    with pytest.raises(ScriptError, match=r"^ScriptedModel 'gpt-fake' got unexpected call #1: "):
        model.invoke("hello")


def test_assert_complete_passes_when_every_reply_was_used() -> None:
    model = ScriptedModel(["a", "b"])
    model.invoke("1")
    with pytest.raises(ScriptError):
        model.assert_complete()
    model.invoke("2")

    model.assert_complete()  # does not raise


def test_assert_complete_lists_unused_replies() -> None:
    model = ScriptedModel(
        [
            "used",
            "b" * 100,
            _tool_call_reply("search", {"q": "x"}, "call_1"),
            ValueError("boom"),
            {"k": 1},
        ]
    )
    model.invoke("go")

    with pytest.raises(ScriptError) as excinfo:
        model.assert_complete()

    assert str(excinfo.value) == (
        "ScriptedModel 'scripted': 4 of 5 scripted replies unused: "
        f"#2 '{'b' * 60}...', #3 AIMessage('', tool_calls=['search']), "
        "#4 ValueError('boom'), #5 {'k': 1}"
    )


def test_scripted_exception_is_raised_and_consumes_its_slot() -> None:
    model = ScriptedModel([TimeoutError("provider timed out"), "recovered", RuntimeError])

    with pytest.raises(TimeoutError, match="provider timed out"):
        model.invoke("try 1")
    assert model.invoke("try 2").content == "recovered"
    with pytest.raises(RuntimeError):
        model.invoke("try 3")
    model.assert_complete()


def test_callable_reply_sees_the_input() -> None:
    seen: list[list[BaseMessage]] = []

    def echo(messages: list[BaseMessage]) -> str:
        seen.append(messages)
        return f"you said {messages[-1].text} ({len(messages)} messages)"

    def tool_caller(messages: list[BaseMessage]) -> AIMessage:
        return _tool_call_reply("lookup", {"q": messages[-1].text}, "call_9")

    model = ScriptedModel([echo, tool_caller])

    reply = model.invoke([SystemMessage(content="sys"), HumanMessage(content="ping")])
    assert reply.content == "you said ping (2 messages)"
    assert [m.text for m in seen[0]] == ["sys", "ping"]
    assert model.invoke("pong").tool_calls[0]["args"] == {"q": "pong"}


def test_callable_returning_a_wrong_type_is_a_script_error() -> None:
    model = ScriptedModel([lambda messages: 42])  # type: ignore[list-item,return-value]

    with pytest.raises(ScriptError, match="returned int; expected str or AIMessage"):
        model.invoke("x")


def test_dict_and_model_replies_become_json_content_when_called_plainly() -> None:
    model = ScriptedModel([{"approved": True}, Verdict(approved=False, reason="no")])

    assert model.invoke("a").content == '{"approved": true}'
    assert model.invoke("b").content == '{"approved":false,"reason":"no"}'


def test_constructor_rejects_bad_scripts() -> None:
    with pytest.raises(TypeError, match="not a single string"):
        ScriptedModel("hello")  # a str is a Sequence[str]: only the runtime check catches it
    with pytest.raises(TypeError, match="script item #2 is a HumanMessage"):
        ScriptedModel(["ok", HumanMessage(content="wrong role")])
    with pytest.raises(TypeError, match="script item #1 is the class Verdict"):
        ScriptedModel([Verdict])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="script item #1 has unsupported type int"):
        ScriptedModel([3])  # type: ignore[list-item]


# --- metadata and recording ----------------------------------------------------------


def test_usage_and_response_metadata_are_plausible() -> None:
    model = ScriptedModel(["ok", "a much longer answer " * 20], model_name="gpt-fake")

    short = model.invoke("hi")
    long = model.invoke("a much longer question " * 20)

    for reply in (short, long):
        usage = reply.usage_metadata
        assert usage and usage["input_tokens"] > 0
        assert usage["output_tokens"] > 0
        assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
        assert reply.response_metadata["model_name"] == "gpt-fake"
    assert short.usage_metadata is not None and long.usage_metadata is not None
    assert long.usage_metadata["input_tokens"] > short.usage_metadata["input_tokens"] + 50
    assert long.usage_metadata["output_tokens"] > short.usage_metadata["output_tokens"] + 50
    assert short.id and long.id and short.id != long.id


def test_scripted_usage_and_id_are_kept_and_script_is_not_mutated() -> None:
    scripted = AIMessage(
        content="x",
        id="msg-1",
        usage_metadata={"input_tokens": 7, "output_tokens": 3, "total_tokens": 10},
    )
    bare = AIMessage(content="y")
    model = ScriptedModel([scripted, bare, bare])

    first = model.invoke("a")
    second = model.invoke("b")
    third = model.invoke("c")

    assert first.id == "msg-1"
    assert first.usage_metadata == {"input_tokens": 7, "output_tokens": 3, "total_tokens": 10}
    assert second.id != third.id  # the same scripted object still gets fresh ids
    assert bare.id is None and bare.usage_metadata is None and bare.response_metadata == {}


def test_calls_record_every_input_in_order() -> None:
    model = ScriptedModel(["a", "b"])
    model.invoke("first question")
    model.invoke([SystemMessage(content="sys"), HumanMessage(content="second question")])

    calls = model.calls
    assert [[m.text for m in call] for call in calls] == [
        ["first question"],
        ["sys", "second question"],
    ]
    assert isinstance(calls[1][0], SystemMessage)
    calls.clear()  # a snapshot: the model's record is untouched
    assert len(model.calls) == 2


# --- concurrency and latency ---------------------------------------------------------


async def test_async_calls_with_latency_overlap() -> None:
    model = ScriptedModel([f"reply {i}" for i in range(5)], latency=1.0)

    tasks = [asyncio.create_task(model.ainvoke(f"q{i}")) for i in range(5)]
    async with asyncio.timeout(30):
        while len(model.calls) < 5:  # a call is recorded before its wait
            await asyncio.sleep(0.005)
    # All five calls began before any ended: a blocking wait would end each call before
    # the next could begin.
    assert not any(task.done() for task in tasks)
    replies = await asyncio.gather(*tasks)

    assert sorted(str(r.content) for r in replies) == [f"reply {i}" for i in range(5)]
    assert len(model.calls) == 5
    model.assert_complete()


def test_sync_latency_is_applied() -> None:
    model = ScriptedModel(["slow"], latency=0.1)

    start = time.perf_counter()
    model.invoke("x")

    assert time.perf_counter() - start >= 0.1


def test_threaded_calls_consume_each_reply_exactly_once() -> None:
    count = 40
    model = ScriptedModel([f"r{i}" for i in range(count)])

    with ThreadPoolExecutor(max_workers=8) as pool:
        replies = list(pool.map(lambda i: model.invoke(f"q{i}"), range(count)))

    assert sorted(str(r.content) for r in replies) == sorted(f"r{i}" for i in range(count))
    assert len(model.calls) == count
    model.assert_complete()
    with pytest.raises(ScriptError):
        model.invoke("one too many")


# --- tools and agents ----------------------------------------------------------------


def test_bind_tools_shares_the_script() -> None:
    @tool
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    model = ScriptedModel([_tool_call_reply("add", {"a": 1, "b": 2}, "call_1"), "3", "extra"])
    bound = model.bind_tools([add])

    first = bound.invoke("what is 1 + 2?")
    assert first.tool_calls[0]["name"] == "add"
    assert bound.invoke("and the answer?").content == "3"
    assert model.invoke("parent call").content == "extra"  # consumed through the bound model
    assert len(model.calls) == 3
    model.assert_complete()
    # Binding tools makes them part of the (approximate) input token count.
    assert first.usage_metadata is not None
    plain_input = ScriptedModel(["x"]).invoke("what is 1 + 2?").usage_metadata
    assert plain_input and first.usage_metadata["input_tokens"] > plain_input["input_tokens"]


def test_create_agent_runs_the_scripted_tool_loop() -> None:
    executed: list[str] = []

    @tool
    def get_weather(city: str) -> str:
        """Return the weather in a city."""
        executed.append(city)
        return f"sunny in {city}"

    model = ScriptedModel(
        [
            _tool_call_reply("get_weather", {"city": "Paris"}, "call_1"),
            "It is sunny in Paris.",
        ]
    )
    agent = create_agent(model=model, tools=[get_weather])

    result = agent.invoke({"messages": [HumanMessage(content="Weather in Paris?")]})

    assert executed == ["Paris"]
    assert result["messages"][-1].content == "It is sunny in Paris."
    tool_messages = [m for m in result["messages"] if isinstance(m, ToolMessage)]
    assert [m.content for m in tool_messages] == ["sunny in Paris"]
    # The second model call saw the tool result.
    assert len(model.calls) == 2
    assert isinstance(model.calls[1][-1], ToolMessage)
    assert model.calls[1][-1].tool_call_id == "call_1"
    model.assert_complete()


async def test_create_agent_streams_messages_one_reply_per_model_call() -> None:
    executed: list[str] = []

    @tool
    def get_weather(city: str) -> str:
        """Return the weather in a city."""
        executed.append(city)
        return "rainy"

    model = ScriptedModel(
        [_tool_call_reply("get_weather", {"city": "Oslo"}, "call_7"), "Rainy in Oslo, sorry."]
    )
    agent = create_agent(model=model, tools=[get_weather])

    streamed = ""
    async for chunk, _meta in agent.astream(
        {"messages": [HumanMessage(content="Weather in Oslo?")]}, stream_mode="messages"
    ):
        if isinstance(chunk, AIMessageChunk):
            streamed += chunk.text

    assert executed == ["Oslo"]
    assert streamed == "Rainy in Oslo, sorry."
    model.assert_complete()


# --- structured output ---------------------------------------------------------------


def test_structured_output_from_json_string_dict_and_instance() -> None:
    model = ScriptedModel(
        [
            '{"approved": true, "reason": "looks good"}',
            {"approved": False, "reason": "missing tests"},
            Verdict(approved=True, reason="fine"),
        ]
    )
    structured = model.with_structured_output(Verdict)

    assert structured.invoke("review 1") == Verdict(approved=True, reason="looks good")
    assert structured.invoke("review 2") == Verdict(approved=False, reason="missing tests")
    assert structured.invoke("review 3") == Verdict(approved=True, reason="fine")
    assert [call[-1].text for call in model.calls] == ["review 1", "review 2", "review 3"]
    model.assert_complete()


def test_structured_output_include_raw_carries_usage() -> None:
    model = ScriptedModel([{"approved": True, "reason": "ok"}, "not json"])
    structured = model.with_structured_output(Verdict, include_raw=True)

    result = structured.invoke("review")
    assert isinstance(result, dict)
    assert result["parsed"] == Verdict(approved=True, reason="ok")
    assert result["parsing_error"] is None
    raw = result["raw"]
    assert isinstance(raw, AIMessage)
    assert raw.tool_calls[0]["name"] == "Verdict"
    assert raw.tool_calls[0]["args"] == {"approved": True, "reason": "ok"}
    assert raw.usage_metadata is not None and raw.usage_metadata["output_tokens"] > 0

    failed = structured.invoke("review again")
    assert isinstance(failed, dict)
    assert failed["parsed"] is None
    assert "is not JSON: 'not json'" in str(failed["parsing_error"])
    assert failed["raw"].content == "not json"


async def test_structured_output_async() -> None:
    model = ScriptedModel(['{"approved": false, "reason": "async"}'], latency=0.01)

    result = await model.with_structured_output(Verdict).ainvoke("review")

    assert result == Verdict(approved=False, reason="async")
    assert len(model.calls) == 1
    model.assert_complete()


def test_structured_output_invalid_data_raises_validation_error() -> None:
    model = ScriptedModel([{"approved": "not a bool", "reason": 3}])

    with pytest.raises(ValidationError, match="approved"):
        model.with_structured_output(Verdict).invoke("review")


def test_structured_output_raises_scripted_exception_and_is_strict() -> None:
    model = ScriptedModel([ConnectionError("down")])
    structured = model.with_structured_output(Verdict, include_raw=True)

    with pytest.raises(ConnectionError, match="down"):
        structured.invoke("review")
    with pytest.raises(ScriptError, match="only 1 reply was scripted"):
        structured.invoke("review again")


def test_structured_output_with_typed_dict_and_json_schema() -> None:
    json_schema = {
        "title": "Verdict",
        "type": "object",
        "properties": {"approved": {"type": "boolean"}, "reason": {"type": "string"}},
        "required": ["approved", "reason"],
    }
    model = ScriptedModel(
        [
            {"approved": True, "reason": "typed"},
            '{"approved": false, "reason": "schema"}',
            {"approved": True},
        ]
    )

    assert model.with_structured_output(VerdictDict).invoke("a") == {
        "approved": True,
        "reason": "typed",
    }
    assert model.with_structured_output(json_schema).invoke("b") == {
        "approved": False,
        "reason": "schema",
    }
    with pytest.raises(ValueError, match=r"missing required keys \['reason'\]"):
        model.with_structured_output(json_schema).invoke("c")


def test_structured_output_accepts_a_scripted_tool_call_message() -> None:
    model = ScriptedModel([_tool_call_reply("Verdict", {"approved": True, "reason": "raw"}, "c1")])

    assert model.with_structured_output(Verdict).invoke("x") == Verdict(approved=True, reason="raw")


# --- streaming -----------------------------------------------------------------------


def test_stream_text_splits_into_chunks_that_add_up() -> None:
    text = "The quick brown fox jumps over the lazy dog."
    model = ScriptedModel([text, "next"])

    chunks = list(model.stream("go"))

    assert len(chunks) > 3
    total = _aggregate(chunks)
    assert total.content == text
    assert total.tool_calls == []
    assert total.usage_metadata is not None and total.usage_metadata["output_tokens"] > 0
    assert [c.usage_metadata is not None for c in chunks] == [False] * (len(chunks) - 1) + [True]
    assert total.response_metadata["model_name"] == "scripted"
    assert len(model.calls) == 1  # one scripted item per stream
    assert model.invoke("then").content == "next"


def test_stream_tool_calls_add_up_to_the_scripted_message() -> None:
    scripted = AIMessage(
        content="Let me look that up.",
        tool_calls=[
            {"name": "search", "args": {"q": "langgraph"}, "id": "call_1"},
            {"name": "fetch", "args": {"url": "https://example.com", "n": 2}, "id": "call_2"},
        ],
    )
    model = ScriptedModel([scripted])

    chunks = list(model.stream("research"))

    assert any(c.tool_call_chunks for c in chunks)
    total = _aggregate(chunks)
    assert total.content == scripted.content
    assert total.tool_calls == scripted.tool_calls
    model.assert_complete()


async def test_astream_adds_up_and_is_strict() -> None:
    model = ScriptedModel([_tool_call_reply("search", {"q": "x"}, "call_3"), "done now"])

    first = [chunk async for chunk in model.astream("a")]
    second = [chunk async for chunk in model.astream("b")]

    assert _aggregate(first).tool_calls == [
        {"name": "search", "args": {"q": "x"}, "id": "call_3", "type": "tool_call"}
    ]
    assert _aggregate(second).content == "done now"
    with pytest.raises(ScriptError, match="unexpected call #3"):
        _ = [chunk async for chunk in model.astream("c")]


def test_stream_raises_scripted_exception() -> None:
    model = ScriptedModel([PermissionError("denied")])

    with pytest.raises(PermissionError, match="denied"):
        list(model.stream("x"))
    model.assert_complete()
