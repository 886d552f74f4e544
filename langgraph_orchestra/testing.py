"""A strict, scripted chat model for offline tests.

`ScriptedModel` replays a fixed script of replies, one per call, and fails loudly when
it is called more often than scripted (or, with `assert_complete`, less often). It never
touches the network, works with `bind_tools`, `with_structured_output`, streaming and
`langchain.agents.create_agent`, and records every input it was called with.

`PerThreadScriptedModel` replays its script on every thread, for servers and demos.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any, TypeAlias

from langchain_core.callbacks import (
    AsyncCallbackManagerForLLMRun,
    CallbackManagerForLLMRun,
)
from langchain_core.exceptions import OutputParserException
from langchain_core.language_models import LanguageModelInput
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ToolCallChunk,
    UsageMetadata,
)
from langchain_core.messages.tool import tool_call, tool_call_chunk
from langchain_core.messages.utils import count_tokens_approximately
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableLambda
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from langgraph.config import get_config
from pydantic import BaseModel, Field, PrivateAttr, TypeAdapter
from pydantic.errors import PydanticUserError

from langgraph_orchestra.errors import ScriptError

__all__ = ["PerThreadScriptedModel", "ScriptedModel"]

_JsonDict: TypeAlias = dict[str, Any]
_ReplyFn: TypeAlias = Callable[[list[BaseMessage]], str | AIMessage]
_Item: TypeAlias = (
    str | AIMessage | BaseException | type[BaseException] | _JsonDict | BaseModel | _ReplyFn
)
_Structured: TypeAlias = _JsonDict | BaseModel
_ToolLike: TypeAlias = _JsonDict | type | Callable[..., Any] | BaseTool

# Bound by `with_structured_output`; tells `_generate`/`_stream` to turn a scripted
# dict, model instance or JSON string into a tool call named after the schema.
_STRUCTURED_KWARG = "scripted_structured_output"
_INPUT_PREVIEW = 200
_ITEM_PREVIEW = 60
_WORD_BOUNDARY = re.compile(r"(?<=\s)(?=\S)")


class ScriptedModel(BaseChatModel):
    """A chat model that replays a script of replies, strictly, one per call.

    Each call (`invoke`, `ainvoke`, `stream`, `astream`, a call through `bind_tools`
    or `with_structured_output`, a call made by an agent) consumes the next item of
    the script:

    - a `str` becomes an `AIMessage` with that content;
    - an `AIMessage` is returned as given (it may carry `tool_calls`);
    - an exception instance (or class) is raised by that call;
    - a `dict` or pydantic model instance is meant for `with_structured_output`;
      called plainly it becomes an `AIMessage` whose content is its JSON;
    - a callable `(list[BaseMessage]) -> str | AIMessage` computes the reply from
      the input messages.

    A call after the script is exhausted raises `ScriptError`; `assert_complete`
    raises `ScriptError` if some replies were never used. Nothing ever cycles.

    Every returned message gets a fresh `id` (unless scripted with one),
    `response_metadata["model_name"]` and approximate `usage_metadata` (unless
    scripted with one, or `usage=False`: then replies carry none, as a streamed reply
    from a server that reports no usage). The model is thread-safe and async-safe.

    Attributes:
        model_name: The model name reported in `response_metadata` and errors.
        latency: Seconds each call waits before answering (`time.sleep` in sync
            calls, `asyncio.sleep` in async calls, so async calls overlap).
        usage: Whether replies get approximate `usage_metadata` (when not scripted
            with their own).

    Example:
        ```python
        model = ScriptedModel(["Hello!", ValueError("rate limited")], name="greeter")
        assert model.invoke("hi").content == "Hello!"
        assert model.calls[0][-1].content == "hi"
        with pytest.raises(ValueError):
            model.invoke("again")
        model.assert_complete()
        ```
    """

    model_name: str = "scripted"
    latency: float = Field(default=0.0, ge=0.0)
    usage: bool = True

    _script: list[_Item] = PrivateAttr(default_factory=list)
    _cursor: int = PrivateAttr(default=0)
    _calls: list[list[BaseMessage]] = PrivateAttr(default_factory=list)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def __init__(
        self,
        responses: Sequence[_Item],
        *,
        name: str | None = None,
        model_name: str = "scripted",
        latency: float = 0.0,
        usage: bool = True,
        **kwargs: Any,
    ) -> None:
        """Create a model that replays `responses` in order.

        Args:
            responses: The script: one item per expected call (see the class
                docstring for the accepted item types).
            name: The runnable's name, used in error messages when given.
            model_name: The model name reported in `response_metadata`.
            latency: Seconds each call waits before answering.
            usage: Whether replies get approximate `usage_metadata` (`False`: a model
                that reports no usage, whose usage is recorded as unknown).
            **kwargs: Other `BaseChatModel` fields (`callbacks`, `tags`, ...).

        Raises:
            TypeError: If `responses` is a string or holds an unsupported item.
        """
        if isinstance(responses, str | bytes):
            msg = "responses must be a sequence of replies, not a single string"
            raise TypeError(msg)
        items = list(responses)
        for position, item in enumerate(items, start=1):
            _check_item(position, item)
        # Own fields go through a dict: the type checker only knows the base's fields.
        fields: _JsonDict = {"model_name": model_name, "latency": latency, "usage": usage}
        super().__init__(name=name, **fields, **kwargs)
        self._script = items

    @property
    def _llm_type(self) -> str:
        return "scripted"

    @property
    def _identifying_params(self) -> _JsonDict:
        return {"model_name": self.model_name, "latency": self.latency}

    @property
    def calls(self) -> list[list[BaseMessage]]:
        """The input messages of every call so far, in call order.

        A call made after the script ran out is recorded too. The returned list is
        a snapshot; mutating it does not affect the model.
        """
        with self._lock:
            return [list(messages) for messages in self._calls]

    def assert_complete(self) -> None:
        """Check that every scripted reply was consumed.

        Raises:
            ScriptError: If some scripted replies were never used; the message
                lists them.
        """
        with self._lock:
            total = len(self._script)
            first_unused = self._cursor
            unused = self._script[first_unused:]
        if not unused:
            return
        previews = ", ".join(
            f"#{first_unused + offset + 1} {_preview_item(item)}"
            for offset, item in enumerate(unused)
        )
        msg = f"{self._label()}: {len(unused)} of {total} scripted replies unused: {previews}"
        raise ScriptError(msg)

    # --- chat model hooks -----------------------------------------------------------

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        item = self._take(messages)
        if self.latency:
            time.sleep(self.latency)
        message = self._reply(item, messages, kwargs)
        return ChatResult(generations=[ChatGeneration(message=message)])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        item = self._take(messages)
        if self.latency:
            await asyncio.sleep(self.latency)
        message = self._reply(item, messages, kwargs)
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        item = self._take(messages)
        if self.latency:
            time.sleep(self.latency)
        yield from _to_chunks(self._reply(item, messages, kwargs))

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        item = self._take(messages)
        if self.latency:
            await asyncio.sleep(self.latency)
        for chunk in _to_chunks(self._reply(item, messages, kwargs)):
            yield chunk

    # --- declarative methods --------------------------------------------------------

    def bind_tools(
        self,
        tools: Sequence[_ToolLike],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools to the model; the result shares this model's script.

        The replies are still the scripted ones: binding tools only makes the tool
        schemas part of each call (and of its approximate input token count).

        Args:
            tools: The tools, in any form `convert_to_openai_tool` accepts.
            tool_choice: Recorded with the call like a real model would send it.
            **kwargs: Other keyword arguments to bind.

        Returns:
            A runnable that calls this model with the tools bound.
        """
        if tool_choice is not None:
            kwargs["tool_choice"] = tool_choice
        return self.bind(tools=[convert_to_openai_tool(tool) for tool in tools], **kwargs)

    def with_structured_output(
        self,
        schema: _JsonDict | type,
        *,
        include_raw: bool = False,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, _Structured]:
        """Return a runnable whose calls consume the next reply as structured output.

        The scripted item becomes a tool call named after the schema (a `str` is
        parsed as JSON; a `dict` or model instance is used as is), then it is
        validated: a pydantic class gives an instance of it, a `TypedDict` or a JSON
        schema gives a `dict`. A scripted `AIMessage` is returned raw and its first
        tool call (or its JSON content) is parsed. A scripted exception is raised.

        Args:
            schema: A pydantic model class, a `TypedDict` class or a JSON schema.
            include_raw: Return `{"raw": AIMessage, "parsed": ..., "parsing_error":
                ...}` instead of the parsed value; parsing errors are then returned,
                not raised.
            **kwargs: `method` and `strict` are accepted and ignored.

        Returns:
            A runnable with the chat model's input and the structured output.

        Raises:
            ValueError: If unsupported keyword arguments are given.
        """
        kwargs.pop("method", None)
        kwargs.pop("strict", None)
        if kwargs:
            msg = f"Received unsupported arguments {kwargs}"
            raise ValueError(msg)
        tool_name: str = convert_to_openai_tool(schema)["function"]["name"]
        llm = self.bind_tools(
            [schema],
            tool_choice="any",
            ls_structured_output_format={
                "kwargs": {"method": "function_calling"},
                "schema": schema,
            },
            **{_STRUCTURED_KWARG: tool_name},
        )
        label = self._label()

        def parse(message: BaseMessage) -> _Structured:
            return _validate(_structured_data(message, tool_name, label), schema)

        def parse_with_raw(message: BaseMessage) -> _Structured:
            try:
                parsed = parse(message)
            except Exception as error:  # reported, not raised, like real models do
                return {"raw": message, "parsed": None, "parsing_error": error}
            return {"raw": message, "parsed": parsed, "parsing_error": None}

        parser = parse_with_raw if include_raw else parse

        async def aparser(message: BaseMessage) -> _Structured:
            return parser(message)

        return llm | RunnableLambda(parser, afunc=aparser, name=f"Parse{tool_name}")

    # --- internals ------------------------------------------------------------------

    def _label(self) -> str:
        return f"ScriptedModel {self.name or self.model_name!r}"

    def _take(self, messages: list[BaseMessage]) -> _Item:
        """Record the call and consume the next scripted item, atomically."""
        with self._lock:
            self._calls.append(list(messages))
            if self._cursor >= len(self._script):
                count = len(self._script)
                scripted = "1 reply was" if count == 1 else f"{count} replies were"
                msg = (
                    f"{self._label()} got unexpected call #{len(self._calls)}: "
                    f"only {scripted} scripted. Last input message: {_preview_input(messages)}"
                )
                raise ScriptError(msg)
            item = self._script[self._cursor]
            self._cursor += 1
            return item

    def _reply(self, item: _Item, messages: list[BaseMessage], kwargs: _JsonDict) -> AIMessage:
        """Turn a consumed item into the reply (or raise it), with metadata."""
        if isinstance(item, BaseException):
            raise item
        if isinstance(item, type):
            raise item()
        if callable(item) and not isinstance(item, str | AIMessage | dict | BaseModel):
            result: object = item(list(messages))
            if not isinstance(result, str | AIMessage | dict | BaseModel):
                msg = (
                    f"{self._label()}: scripted callable {_callable_name(item)} returned "
                    f"{type(result).__name__}; expected str or AIMessage"
                )
                raise ScriptError(msg)
            item = result
        structured = kwargs.get(_STRUCTURED_KWARG)
        message = _to_message(item, structured if isinstance(structured, str) else None)

        update: _JsonDict = {
            "response_metadata": {"model_name": self.model_name, **message.response_metadata}
        }
        if message.id is None:
            update["id"] = f"scripted-{uuid.uuid4().hex}"
        if message.usage_metadata is None and self.usage:
            tools = kwargs.get("tools")
            input_tokens = count_tokens_approximately(
                messages, tools=tools if isinstance(tools, list) else None
            )
            output_tokens = count_tokens_approximately([message])
            update["usage_metadata"] = UsageMetadata(
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                total_tokens=input_tokens + output_tokens,
            )
        return message.model_copy(update=update, deep=True)


def _check_item(position: int, item: object) -> None:
    if isinstance(item, type):
        if issubclass(item, BaseException):
            return
        msg = f"script item #{position} is the class {item.__name__}, not a reply"
        raise TypeError(msg)
    if isinstance(item, BaseMessage) and not isinstance(item, AIMessage):
        msg = f"script item #{position} is a {type(item).__name__}; a model replies with AIMessage"
        raise TypeError(msg)
    if isinstance(item, str | AIMessage | BaseException | dict | BaseModel) or callable(item):
        return
    msg = (
        f"script item #{position} has unsupported type {type(item).__name__}; expected "
        "str, AIMessage, an exception, dict, a pydantic model instance or a callable"
    )
    raise TypeError(msg)


def _to_message(item: str | AIMessage | _JsonDict | BaseModel, structured: str | None) -> AIMessage:
    """Build the reply for a consumed item; `structured` is the schema's tool name."""
    if isinstance(item, AIMessage):
        return item
    if isinstance(item, str):
        if structured is not None:
            try:
                data = json.loads(item)
            except json.JSONDecodeError:
                data = None
            if isinstance(data, dict):
                return _tool_call_message(structured, data)
        return AIMessage(content=item)
    if isinstance(item, BaseModel):
        if structured is not None:
            return _tool_call_message(structured, item.model_dump(mode="json"))
        return AIMessage(content=item.model_dump_json())
    if structured is not None:
        return _tool_call_message(structured, item)
    return AIMessage(content=json.dumps(item, default=str))


def _tool_call_message(name: str, args: _JsonDict) -> AIMessage:
    call = tool_call(name=name, args=args, id=f"call_{uuid.uuid4().hex[:24]}")
    return AIMessage(content="", tool_calls=[call])


def _to_chunks(message: AIMessage) -> list[ChatGenerationChunk]:
    """Split a reply into stream chunks that add back up to it."""
    content = message.content
    pieces: list[str | list[str | _JsonDict]]
    if isinstance(content, str):
        pieces = _WORD_BOUNDARY.split(content) if content else []
    else:
        pieces = [content]
    calls: list[ToolCallChunk] = [
        tool_call_chunk(name=call["name"], args=json.dumps(call["args"]), id=call["id"], index=i)
        for i, call in enumerate(message.tool_calls)
    ]
    calls += [
        tool_call_chunk(name=bad["name"], args=bad["args"], id=bad["id"], index=len(calls) + i)
        for i, bad in enumerate(message.invalid_tool_calls)
    ]
    fields: list[_JsonDict] = [{"content": piece} for piece in pieces]
    if calls:
        fields.append({"content": "", "tool_call_chunks": calls})
    if not fields:
        fields.append({"content": ""})
    fields[0]["additional_kwargs"] = message.additional_kwargs
    fields[-1].update(
        usage_metadata=message.usage_metadata,
        response_metadata=message.response_metadata,
        chunk_position="last",
    )
    return [ChatGenerationChunk(message=AIMessageChunk(id=message.id, **field)) for field in fields]


def _structured_data(message: BaseMessage, tool_name: str, label: str) -> object:
    """Extract the structured payload of a reply: its tool call, or its JSON content."""
    tool_calls = message.tool_calls if isinstance(message, AIMessage) else []
    if tool_calls:
        for call in tool_calls:
            if call["name"] == tool_name:
                return call["args"]
        names = [call["name"] for call in tool_calls]
        msg = f"{label}: expected a tool call named {tool_name!r}, got {names}"
        raise OutputParserException(msg)
    text = str(message.text)
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        msg = f"{label}: structured output for {tool_name!r} is not JSON: {_truncate(text)!r}"
        raise OutputParserException(msg, llm_output=text) from error


def _validate(data: object, schema: _JsonDict | type) -> _Structured:
    """Validate `data` against a pydantic class, a TypedDict or a JSON schema."""
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return schema.model_validate(data)
    if isinstance(schema, type):
        try:
            adapter: TypeAdapter[Any] = TypeAdapter(schema)
        except PydanticUserError:
            # e.g. a `typing.TypedDict` before Python 3.12: check the keys only.
            pass
        else:
            validated = adapter.validate_python(data)
            if isinstance(validated, dict | BaseModel):
                return validated
            msg = f"{schema.__name__} does not describe an object: got {validated!r}"
            raise OutputParserException(msg)
    if not isinstance(data, dict):
        msg = f"structured output must be a JSON object, got {type(data).__name__}: {data!r}"
        raise OutputParserException(msg)
    parameters = convert_to_openai_tool(schema)["function"].get("parameters", {})
    missing = [key for key in parameters.get("required", []) if key not in data]
    if missing:
        msg = f"structured output is missing required keys {missing}: {data!r}"
        raise OutputParserException(msg)
    return data


def _truncate(text: str, limit: int = _INPUT_PREVIEW) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _preview_input(messages: list[BaseMessage]) -> str:
    if not messages:
        return "<none>"
    last = messages[-1]
    return f"({last.type}) {_truncate(str(last.text))!r}"


def _callable_name(item: object) -> str:
    return str(getattr(item, "__qualname__", None) or repr(item))


def _preview_item(item: object) -> str:
    if isinstance(item, str):
        return repr(_truncate(item, _ITEM_PREVIEW))
    if isinstance(item, AIMessage):
        text = repr(_truncate(str(item.text), _ITEM_PREVIEW))
        if item.tool_calls:
            return f"AIMessage({text}, tool_calls={[call['name'] for call in item.tool_calls]})"
        return f"AIMessage({text})"
    if isinstance(item, BaseException):
        return repr(item)
    if isinstance(item, type):
        return item.__name__
    if isinstance(item, dict | BaseModel):
        return _truncate(repr(item), _ITEM_PREVIEW)
    return f"<callable {_callable_name(item)}>"


class PerThreadScriptedModel(ScriptedModel):
    """A scripted model that replays its script on every thread, for serving examples.

    Each thread (the `thread_id` of the graph run the call is made in; calls outside a
    graph share one script) has its own position in the script, so a server answers any
    number of threads, each with the scripted conversation. When a thread has used the
    whole script, its next call starts it over: a new task on the same thread gets the
    scripted replies again.

    It is made for demos and servers (`langgraph dev` on the example teams), which run
    forever: it keeps no log of its calls (`calls` stays empty) and never runs out. Use
    the strict `ScriptedModel` in tests.

    Example:
        ```python
        model = PerThreadScriptedModel(["Hi!", "Bye!"], name="greeter")
        ```
    """

    _cursors: dict[str | None, int] = PrivateAttr(default_factory=dict)

    def __init__(
        self,
        responses: Sequence[_Item],
        *,
        name: str | None = None,
        model_name: str = "scripted",
        latency: float = 0.0,
        **kwargs: Any,
    ) -> None:
        """Create a model that replays `responses` on every thread (see `ScriptedModel`)."""
        super().__init__(responses, name=name, model_name=model_name, latency=latency, **kwargs)

    def _take(self, messages: list[BaseMessage]) -> _Item:
        """Consume the next item of the calling thread's script, starting over at its end."""
        thread = _thread_id()
        with self._lock:
            if not self._script:
                msg = (
                    f"{self._label()} has no scripted replies. Last input message: "
                    f"{_preview_input(messages)}"
                )
                raise ScriptError(msg)
            position = self._cursors.get(thread, 0) % len(self._script)
            self._cursors[thread] = position + 1
            return self._script[position]


def _thread_id() -> str | None:
    """The thread id of the graph run the caller is in, or `None` outside a graph run."""
    try:
        config = get_config()
    except RuntimeError:
        return None
    thread = (config.get("configurable") or {}).get("thread_id")
    return None if thread is None else str(thread)
