"""The one measured call: retry, timeout, usage and cost, tracing, structured output.

Every call the library makes to a model or a participant goes through here: an agent's
turn (`AgentRunner` is built on `attempt`/`aattempt`), and the calls of managers,
selectors, ledgers, planners, evaluators and synthesizers (`ModelCall`). A call

- is retried by a LangGraph `RetryPolicy` (a number of attempts retries any error),
- is bounded per attempt by a timeout (an overrun is an `AgentTimeoutError`),
- runs under `call_config`: run name, tags and metadata for LangSmith,
- has its usage and cost recorded under the caller's participant name, and
- with a `schema`, answers by structured output: an invalid reply (bad JSON, a missing
  field, or a value the caller's `check` refuses) is asked again with the error, up to
  `max_reasks` times, then fails with `StructuredOutputError`.

An interrupt (`GraphBubbleUp`) is never retried or swallowed.

Example:
    ```python
    selector = ModelCall(model, participant="manager", pattern="group_chat", prices=prices)
    result = selector.invoke(messages, config, schema=SpeakerChoice)
    result.parsed.speaker, result.usage["manager"]["calls"]
    ```
"""

from __future__ import annotations

import asyncio
import contextvars
import random
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Generic, NamedTuple, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig
from langgraph.errors import GraphBubbleUp
from langgraph.types import RetryPolicy
from pydantic import BaseModel, ValidationError

from langgraph_orchestra.errors import AgentTimeoutError, StructuredOutputError
from langgraph_orchestra.prompts import DEFAULT_PROMPTS, Prompts
from langgraph_orchestra.state.records import Usage
from langgraph_orchestra.tracing import ModelPrice, call_config, usage_of

__all__ = [
    "CallResult",
    "ModelCall",
    "aattempt",
    "attempt",
    "retry_policy",
]

T = TypeVar("T")
S = TypeVar("S", bound=BaseModel)

Check = Callable[[Any], None]
"""Checks a parsed reply beyond its schema: raises `ValueError` with the reason to re-ask."""


def retry_policy(retry: int | RetryPolicy | None) -> RetryPolicy | None:
    """Return the `RetryPolicy` of an `Agent.retry`-style value (`n`: n attempts, any error)."""
    if retry is None or isinstance(retry, RetryPolicy):
        return retry
    return RetryPolicy(max_attempts=retry, retry_on=Exception)


def _should_retry(policy: RetryPolicy, error: Exception) -> bool:
    retry_on = policy.retry_on
    if isinstance(retry_on, type):
        return isinstance(error, retry_on)
    if isinstance(retry_on, Sequence):
        return isinstance(error, tuple(retry_on))
    return bool(retry_on(error))


def _again(policy: RetryPolicy | None, error: Exception, attempts: int) -> bool:
    return policy is not None and attempts < policy.max_attempts and _should_retry(policy, error)


def _backoff(policy: RetryPolicy, attempts: int) -> float:
    interval = min(policy.max_interval, policy.initial_interval * policy.backoff_factor**attempts)
    return interval + random.uniform(0, 1) if policy.jitter else interval


def _timed_out(who: str, timeout: float) -> AgentTimeoutError:
    return AgentTimeoutError(f"Agent '{who}' timed out after {timeout} s", agent=who)


def _in_thread(fn: Callable[[], T], who: str) -> Future[T]:
    """Start `fn` in a daemon thread and return its future.

    A thread cannot be cancelled: on timeout the call is abandoned, not stopped. A daemon
    thread, because a pool's workers (`asyncio.to_thread`'s included) are joined at exit,
    so one hung call would keep the process from ever exiting.
    """
    future: Future[T] = Future()
    context = contextvars.copy_context()

    def call() -> None:
        if not future.set_running_or_notify_cancel():
            return  # abandoned before it started
        try:
            future.set_result(context.run(fn))
        except BaseException as error:  # handed to the caller, raised there
            future.set_exception(error)

    threading.Thread(target=call, name=f"orchestra-{who}", daemon=True).start()
    return future


def _once(fn: Callable[[], T], who: str, timeout: float | None) -> T:
    if timeout is None:
        return fn()
    future = _in_thread(fn, who)
    try:
        return future.result(timeout=timeout)
    except FutureTimeout:
        # Since 3.11 FutureTimeout is the builtin TimeoutError: when the future is done,
        # the call itself raised it, and it is the call's error, not ours.
        if future.done():
            raise
        raise _timed_out(who, timeout) from None


async def _aonce(
    fn: Callable[[], Awaitable[T]],
    who: str,
    timeout: float | None,
    sync: Callable[[], T] | None,
) -> T:
    if timeout is None:
        return await fn()
    deadline = asyncio.timeout(timeout)
    try:
        async with deadline:
            if sync is not None:
                # A sync function: a thread we can abandon (`to_thread` would be joined).
                return await asyncio.wrap_future(_in_thread(sync, who))
            return await fn()
    except TimeoutError:
        # Only our deadline is a timeout of the call; its own TimeoutError propagates.
        if not deadline.expired():
            raise
        raise _timed_out(who, timeout) from None


def attempt(
    fn: Callable[[], T],
    *,
    who: str,
    retry: RetryPolicy | None = None,
    timeout: float | None = None,
) -> T:
    """Call `fn` with retries and a per-attempt timeout (sync).

    Args:
        fn: The call.
        who: The participant, for the timeout error and the thread's name.
        retry: The retry policy; `None` tries once.
        timeout: Seconds one attempt may take.

    Raises:
        AgentTimeoutError: When an attempt overruns and no retry is left.
    """
    attempts = 0
    while True:
        try:
            return _once(fn, who, timeout)
        except GraphBubbleUp:
            raise
        except Exception as error:
            attempts += 1
            if not _again(retry, error, attempts):
                raise
            time.sleep(_backoff(retry, attempts - 1))  # type: ignore[arg-type]


async def aattempt(
    fn: Callable[[], Awaitable[T]],
    *,
    who: str,
    retry: RetryPolicy | None = None,
    timeout: float | None = None,
    sync: Callable[[], T] | None = None,
) -> T:
    """Await `fn` with retries and a per-attempt timeout (async).

    Args:
        fn: The call.
        who: The participant, for the timeout error.
        retry: The retry policy; `None` tries once.
        timeout: Seconds one attempt may take.
        sync: The same call as a sync function, when it is one: under a timeout it runs in
            a daemon thread that can be abandoned.
    """
    attempts = 0
    while True:
        try:
            return await _aonce(fn, who, timeout, sync)
        except GraphBubbleUp:
            raise
        except Exception as error:
            attempts += 1
            if not _again(retry, error, attempts):
                raise
            await asyncio.sleep(_backoff(retry, attempts - 1))  # type: ignore[arg-type]


class CallResult(NamedTuple, Generic[S]):
    """What one measured model call produced."""

    message: AIMessage
    """The model's (last) reply, named after the participant."""
    parsed: S | None
    """The structured answer, when the call had a schema."""
    usage: dict[str, Usage]
    """Usage of every attempt and re-ask, under the participant's name."""


class ModelCall:
    """A chat model called by one participant: measured, traced, retried.

    Used for the calls a pattern makes on its own behalf (a manager choosing a speaker,
    a checker's verdict, a ledger, a plan) and by agents that answer in a schema.
    """

    def __init__(
        self,
        model: BaseChatModel,
        *,
        participant: str,
        pattern: str | None,
        prices: Mapping[str, ModelPrice],
        instructions: str | None = None,
        retry: int | RetryPolicy | None = None,
        timeout: float | None = None,
        max_reasks: int = 2,
        prompts: Prompts = DEFAULT_PROMPTS,
    ) -> None:
        """Prepare the calls.

        Args:
            model: The chat model.
            participant: The name usage, tracing and errors are recorded under.
            pattern: The pattern name, for tracing; `None` when the caller's config
                already carries the run name, tags and metadata (an agent's turn).
            prices: The price table.
            instructions: A system prompt put before every call's messages.
            retry: Retries of a failed call (as `Agent.retry`).
            timeout: Seconds one attempt may take.
            max_reasks: How many times an invalid structured reply is asked again.
            prompts: Prompt templates (the re-ask).
        """
        self.model = model
        self.participant = participant
        self.pattern = pattern
        self.prices = prices
        self.retry = retry_policy(retry)
        self.timeout = timeout
        self.max_reasks = max_reasks
        self.prompts = prompts
        self._system = SystemMessage(instructions) if instructions else None
        self._bound: dict[type[BaseModel], Any] = {}

    def _config(self, config: RunnableConfig | None, decision: Mapping[str, Any]) -> RunnableConfig:
        if self.pattern is None:
            return config or {}
        return call_config(config, pattern=self.pattern, agent=self.participant, **decision)

    def _runnable(self, schema: type[BaseModel] | None) -> Any:
        if schema is None:
            return self.model
        bound = self._bound.get(schema)
        if bound is None:
            bound = self._bound[schema] = self.model.with_structured_output(
                schema, include_raw=True
            )
        return bound

    def _prompt(self, messages: Sequence[BaseMessage]) -> list[BaseMessage]:
        return [self._system, *messages] if self._system else list(messages)

    def invoke(
        self,
        messages: Sequence[BaseMessage],
        config: RunnableConfig | None = None,
        *,
        schema: type[S] | None = None,
        check: Check | None = None,
        **decision: Any,
    ) -> CallResult[S]:
        """Call the model (sync); with `schema`, answer in it (re-asked when invalid).

        Args:
            messages: The prompt (the instructions are put first).
            config: The node's config.
            schema: A pydantic model the answer must fit.
            check: A further check of the parsed answer (raise `ValueError` to re-ask).
            **decision: Facts for the trace metadata (`round`, ...).

        Raises:
            StructuredOutputError: When no valid answer came within the re-asks; carries
                the usage of the calls made.
        """
        cfg = self._config(config, decision)
        runnable = self._runnable(schema)
        prompt = self._prompt(messages)
        replies: list[AIMessage] = []
        start = time.perf_counter()
        while True:
            raw = attempt(
                lambda p=prompt: runnable.invoke(p, cfg),  # type: ignore[misc]
                who=self.participant,
                retry=self.retry,
                timeout=self.timeout,
            )
            outcome = self._outcome(raw, schema, check, replies, prompt, start)
            if isinstance(outcome, CallResult):
                return outcome
            prompt = outcome

    async def ainvoke(
        self,
        messages: Sequence[BaseMessage],
        config: RunnableConfig | None = None,
        *,
        schema: type[S] | None = None,
        check: Check | None = None,
        **decision: Any,
    ) -> CallResult[S]:
        """Call the model (async); see `invoke`."""
        cfg = self._config(config, decision)
        runnable = self._runnable(schema)
        prompt = self._prompt(messages)
        replies: list[AIMessage] = []
        start = time.perf_counter()
        while True:
            raw = await aattempt(
                lambda p=prompt: runnable.ainvoke(p, cfg),  # type: ignore[misc]
                who=self.participant,
                retry=self.retry,
                timeout=self.timeout,
            )
            outcome = self._outcome(raw, schema, check, replies, prompt, start)
            if isinstance(outcome, CallResult):
                return outcome
            prompt = outcome

    def _outcome(
        self,
        raw: Any,
        schema: type[S] | None,
        check: Check | None,
        replies: list[AIMessage],
        prompt: list[BaseMessage],
        start: float,
    ) -> CallResult[S] | list[BaseMessage]:
        """Return the result, or the prompt to ask again with (an invalid answer)."""
        if schema is None:
            message = _named(raw, self.participant)
            replies.append(message)
            return CallResult(message, None, self._usage(replies, start))
        message = _named(raw["raw"], self.participant)
        replies.append(message)
        parsed, error = raw["parsed"], raw["parsing_error"]
        if error is None and parsed is None:
            error = ValueError("the reply held no answer in the requested form")
        if error is None and not isinstance(parsed, schema):
            try:
                parsed = schema.model_validate(parsed)
            except ValidationError as invalid:
                error = invalid
        if error is None and check is not None:
            try:
                check(parsed)
            except ValueError as refused:
                error = refused
        if error is None:
            return CallResult(message, parsed, self._usage(replies, start))
        reasks = len(replies) - 1
        reason = _reason(error)
        if reasks >= self.max_reasks:
            raise StructuredOutputError(
                f"'{self.participant}' gave no valid {schema.__name__} after "
                f"{reasks + 1} replies; last problem: {reason}",
                agent=self.participant,
                usage=self._usage(replies, start),
            )
        ask = self.prompts.reask.format(schema=schema.__name__, error=reason, reply=_shown(message))
        return [*prompt, HumanMessage(ask, name="orchestra")]

    def _usage(self, replies: Sequence[AIMessage], start: float) -> dict[str, Usage]:
        latency = time.perf_counter() - start
        return {self.participant: usage_of(replies, latency, self.prices, calls=len(replies))}


def _named(message: Any, name: str) -> AIMessage:
    if not isinstance(message, AIMessage):
        raise TypeError(f"'{name}' model returned {type(message).__name__}, not an AIMessage")
    return message if message.name == name else message.model_copy(update={"name": name})


def _reason(error: BaseException) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'reply'}: {e['msg']}" for e in error.errors()
        )
    return str(error)


def _shown(message: AIMessage) -> str:
    """The invalid reply as text: its tool call arguments, or its content."""
    if message.tool_calls:
        return str(message.tool_calls[0]["args"])
    return message.text
