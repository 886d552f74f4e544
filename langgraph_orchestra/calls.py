"""The one measured call: retry, timeout, usage and cost, tracing, structured output.

Every call the library makes to a model or a participant goes through here: an agent's
turn (`AgentRunner` is built on `attempt`/`aattempt`), and the calls of managers,
selectors, ledgers, planners, evaluators and synthesizers (`ModelCall`). A call

- is retried by a LangGraph `RetryPolicy` (a number of attempts retries any error),
- is bounded per attempt by a timeout (an overrun is an `AgentTimeoutError`),
- with fallback models, goes to the next model when it fails after its retries, and with
  a circuit breaker, fails fast while the model's breaker is open (see `resilience`),
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
from langgraph_orchestra.resilience import Guard, Resilient, model_label, with_audit
from langgraph_orchestra.state.records import AuditRecord, Usage, audit_record
from langgraph_orchestra.tracing import ModelPrice, call_config, usage_of

__all__ = [
    "CallResult",
    "Fallback",
    "ModelCall",
    "aattempt",
    "afallback",
    "attempt",
    "fallback",
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
    guard: Guard | None = None,
    records: list[AuditRecord] | None = None,
) -> T:
    """Call `fn` with retries and a per-attempt timeout (sync).

    Args:
        fn: The call.
        who: The participant, for the timeout error and the thread's name.
        retry: The retry policy; `None` tries once.
        timeout: Seconds one attempt may take.
        guard: The model's circuit breaker: asked before each attempt (an open breaker
            raises `CircuitOpenError`, never retried) and told each attempt's outcome.
        records: Where the breaker's moves are put as audit records.

    Raises:
        AgentTimeoutError: When an attempt overruns and no retry is left.
        CircuitOpenError: When the breaker refuses an attempt.
    """
    attempts = 0
    moves = records if records is not None else []
    while True:
        if guard is not None:
            guard.enter(moves)
        try:
            result = _once(fn, who, timeout)
        except Exception as error:
            if isinstance(error, GraphBubbleUp):
                _released(guard)
                raise
            if guard is not None:
                guard.failed(moves)
            attempts += 1
            if not _again(retry, error, attempts):
                raise
            time.sleep(_backoff(retry, attempts - 1))  # type: ignore[arg-type]
            continue
        except BaseException:
            _released(guard)
            raise
        if guard is not None:
            guard.succeeded(moves)
        return result


async def aattempt(
    fn: Callable[[], Awaitable[T]],
    *,
    who: str,
    retry: RetryPolicy | None = None,
    timeout: float | None = None,
    sync: Callable[[], T] | None = None,
    guard: Guard | None = None,
    records: list[AuditRecord] | None = None,
) -> T:
    """Await `fn` with retries and a per-attempt timeout (async).

    Args:
        fn: The call.
        who: The participant, for the timeout error.
        retry: The retry policy; `None` tries once.
        timeout: Seconds one attempt may take.
        sync: The same call as a sync function, when it is one: under a timeout it runs in
            a daemon thread that can be abandoned.
        guard: The model's circuit breaker (see `attempt`).
        records: Where the breaker's moves are put as audit records.
    """
    attempts = 0
    moves = records if records is not None else []
    while True:
        if guard is not None:
            guard.enter(moves)
        try:
            result = await _aonce(fn, who, timeout, sync)
        except Exception as error:
            if isinstance(error, GraphBubbleUp):
                _released(guard)
                raise
            if guard is not None:
                guard.failed(moves)
            attempts += 1
            if not _again(retry, error, attempts):
                raise
            await asyncio.sleep(_backoff(retry, attempts - 1))  # type: ignore[arg-type]
            continue
        except BaseException:
            _released(guard)
            raise
        if guard is not None:
            guard.succeeded(moves)
        return result


def _released(guard: Guard | None) -> None:
    if guard is not None:
        guard.circuit.released()


class Fallback(NamedTuple, Generic[T]):
    """One model of a fallback chain: its name, its breaker, and the call to make."""

    model: str
    """The model's name, for the audit."""
    guard: Guard | None
    """Its circuit breaker, if any."""
    call: Callable[[], T]
    """The call (sync), or a function returning its awaitable (async)."""


def _fell_back(
    who: str, used: str | None, failed: list[dict[str, str]], records: list[AuditRecord]
) -> None:
    records.append(audit_record("fallback", who, model=used, failed=failed))


def _failure(model: str, error: Exception) -> dict[str, str]:
    return {"model": model, "error": str(error), "error_type": type(error).__name__}


def fallback(
    chain: Sequence[Fallback[T]],
    *,
    who: str,
    retry: RetryPolicy | None = None,
    timeout: float | None = None,
    records: list[AuditRecord],
) -> T:
    """Call the chain's models in order until one answers (each with retries, sync).

    A model that fails after its retries (or whose breaker is open) hands over to the
    next. When a fallback answered, or none did, a `fallback` audit record (the model
    that answered, `None` if none, and each failure) is put in `records`; the last
    error is raised with `records` attached (`resilience.audit_of`).
    """
    failed: list[dict[str, str]] = []
    for i, link in enumerate(chain):
        try:
            result = attempt(
                link.call, who=who, retry=retry, timeout=timeout, guard=link.guard, records=records
            )
        except GraphBubbleUp:
            raise
        except Exception as error:
            failed.append(_failure(link.model, error))
            if i + 1 < len(chain):
                continue
            if len(chain) > 1:
                _fell_back(who, None, failed, records)
            with_audit(error, records)
            raise
        if failed:
            _fell_back(who, link.model, failed, records)
        return result
    raise ValueError("an empty fallback chain")  # pragma: no cover - chains hold a model


async def afallback(
    chain: Sequence[Fallback[Awaitable[T]]],
    *,
    who: str,
    retry: RetryPolicy | None = None,
    timeout: float | None = None,
    records: list[AuditRecord],
    sync: Callable[[], T] | None = None,
) -> T:
    """Await the chain's models in order until one answers; see `fallback`.

    `sync` is the single model's call as a sync function (see `aattempt`).
    """
    failed: list[dict[str, str]] = []
    for i, link in enumerate(chain):
        try:
            result = await aattempt(
                link.call,
                who=who,
                retry=retry,
                timeout=timeout,
                sync=sync if len(chain) == 1 else None,
                guard=link.guard,
                records=records,
            )
        except GraphBubbleUp:
            raise
        except Exception as error:
            failed.append(_failure(link.model, error))
            if i + 1 < len(chain):
                continue
            if len(chain) > 1:
                _fell_back(who, None, failed, records)
            with_audit(error, records)
            raise
        if failed:
            _fell_back(who, link.model, failed, records)
        return result
    raise ValueError("an empty fallback chain")  # pragma: no cover - chains hold a model


class CallResult(NamedTuple, Generic[S]):
    """What one measured model call produced."""

    message: AIMessage
    """The model's (last) reply, named after the participant."""
    parsed: S | None
    """The structured answer, when the call had a schema."""
    usage: dict[str, Usage]
    """Usage of every attempt and re-ask, under the participant's name."""
    audit: list[AuditRecord] = []  # noqa: RUF012 - a NamedTuple default, never mutated
    """The call's `fallback` and `breaker` audit records (empty when neither happened)."""


class ModelCall:
    """A chat model called by one participant: measured, traced, retried.

    Used for the calls a pattern makes on its own behalf (a manager choosing a speaker,
    a checker's verdict, a ledger, a plan) and by agents that answer in a schema. Given a
    `Resilient` model, a call that fails after its retries goes to the next fallback, and
    each model's circuit breaker is honoured; the result's `audit` says so.
    """

    def __init__(
        self,
        model: BaseChatModel | Resilient,
        *,
        participant: str,
        pattern: str | None,
        prices: Mapping[str, ModelPrice],
        instructions: str | None = None,
        retry: int | RetryPolicy | None = None,
        timeout: float | None = None,
        max_reasks: int = 2,
        prompts: Prompts = DEFAULT_PROMPTS,
        tools: Sequence[Any] = (),
    ) -> None:
        """Prepare the calls.

        Args:
            model: The chat model, or a `Resilient` one whose models are made (see
                `resilience.resilient_model`).
            participant: The name usage, tracing and errors are recorded under.
            pattern: The pattern name, for tracing; `None` when the caller's config
                already carries the run name, tags and metadata (an agent's turn).
            prices: The price table.
            instructions: A system prompt put before every call's messages.
            retry: Retries of a failed call (as `Agent.retry`).
            timeout: Seconds one attempt may take.
            max_reasks: How many times an invalid structured reply is asked again.
            prompts: Prompt templates (the re-ask).
            tools: Tools bound to every model (`bind_tools`).
        """
        spec = model if isinstance(model, Resilient) else Resilient(model)
        models: list[Any] = []
        for item in spec.models:
            if not isinstance(item, BaseChatModel):
                raise TypeError(f"'{participant}' model {item!r} is not made: see resilient_model")
            models.append(item.bind_tools(list(tools)) if tools else item)
        self.model = models[0]
        self.models = models
        self.labels = [model_label(m) for m in models]
        self.guards = [
            Guard(m, spec.breaker, participant) if spec.breaker is not None else None
            for m in models
        ]
        self.participant = participant
        self.pattern = pattern
        self.prices = prices
        self.retry = retry_policy(retry)
        self.timeout = timeout
        self.max_reasks = max_reasks
        self.prompts = prompts
        self._system = SystemMessage(instructions) if instructions else None
        self._bound: dict[type[BaseModel], list[Any]] = {}

    def _config(self, config: RunnableConfig | None, decision: Mapping[str, Any]) -> RunnableConfig:
        if self.pattern is None:
            return config or {}
        return call_config(config, pattern=self.pattern, agent=self.participant, **decision)

    def _runnables(self, schema: type[BaseModel] | None) -> list[Any]:
        if schema is None:
            return self.models
        bound = self._bound.get(schema)
        if bound is None:
            bound = self._bound[schema] = [
                m.with_structured_output(schema, include_raw=True) for m in self.models
            ]
        return bound

    def _chain(self, calls: list[Callable[[], T]]) -> list[Fallback[T]]:
        return [Fallback(*link) for link in zip(self.labels, self.guards, calls, strict=True)]

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
        runnables = self._runnables(schema)
        prompt = self._prompt(messages)
        replies: list[AIMessage] = []
        records: list[AuditRecord] = []
        start = time.perf_counter()
        while True:
            raw = fallback(
                self._chain([lambda r=r, p=prompt: r.invoke(p, cfg) for r in runnables]),  # type: ignore[misc]
                who=self.participant,
                retry=self.retry,
                timeout=self.timeout,
                records=records,
            )
            outcome = self._outcome(raw, schema, check, replies, prompt, start, records)
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
        runnables = self._runnables(schema)
        prompt = self._prompt(messages)
        replies: list[AIMessage] = []
        records: list[AuditRecord] = []
        start = time.perf_counter()
        while True:
            raw = await afallback(
                self._chain([lambda r=r, p=prompt: r.ainvoke(p, cfg) for r in runnables]),  # type: ignore[misc]
                who=self.participant,
                retry=self.retry,
                timeout=self.timeout,
                records=records,
            )
            outcome = self._outcome(raw, schema, check, replies, prompt, start, records)
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
        records: list[AuditRecord],
    ) -> CallResult[S] | list[BaseMessage]:
        """Return the result, or the prompt to ask again with (an invalid answer)."""
        if schema is None:
            message = _named(raw, self.participant)
            replies.append(message)
            return CallResult(message, None, self._usage(replies, start), records)
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
            return CallResult(message, parsed, self._usage(replies, start), records)
        reasks = len(replies) - 1
        reason = _reason(error)
        if reasks >= self.max_reasks:
            failure = StructuredOutputError(
                f"'{self.participant}' gave no valid {schema.__name__} after "
                f"{reasks + 1} replies; last problem: {reason}",
                agent=self.participant,
                usage=self._usage(replies, start),
            )
            raise with_audit(failure, records)
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
