"""Fallback models and circuit breakers: calls that survive a provider's outage.

- **Fallbacks**: a participant's model may have fallback models. When a call to the
  model fails after its retries, the next model is tried with the same prompt; the
  reply's usage and cost are priced as the model that answered, and a `fallback` audit
  record says which models failed and which answered. Agents take
  `Agent(model=..., fallbacks=[...])`; the model of a manager, a selector or a planner
  takes `Resilient(model, fallbacks=[...])` in place of the model.
- **Circuit breakers**: with `breaker=CircuitBreaker(failures=5, window=60,
  reset_after=30)`, a model that failed `failures` times within `window` seconds is
  *open*: calls to it fail at once with `CircuitOpenError` (into the next fallback, or
  the agent's `on_error`) instead of each caller waiting out its own timeouts. After
  `reset_after` seconds one trial call goes through (*half-open*): its success closes
  the breaker, its failure opens it again. Openings, trials and closings are `breaker`
  audit records and `custom` stream events (`{"type": "orchestra.breaker", "detail":
{"state": "open", ...}}`).

A breaker's memory is **per process**: one breaker per model identity (its provider, its
model name and its server's URL), shared by every agent, manager and thread of the
process that calls that model with a breaker, and kept in memory only. Other processes
(another worker of the same deployment) keep their own; a restart forgets them all.
Each caller judges the shared history with its own `CircuitBreaker` settings; give the
callers of one model the same settings.

Example:
    ```python
    breaker = CircuitBreaker(failures=3, window=30, reset_after=20)
    writer = Agent("writer", model="openai:gpt-4o", fallbacks=["anthropic:claude-sonnet-4"],
                   breaker=breaker)
    team = create_group_chat([writer, critic], selector="llm",
                             manager_model=Resilient("openai:gpt-4o-mini",
                                                     fallbacks=["openai:gpt-4.1-mini"],
                                                     breaker=breaker))
    ```
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from langchain_core.language_models import BaseChatModel

from langgraph_orchestra.errors import CircuitOpenError, TeamConfigError
from langgraph_orchestra.models import chat_model
from langgraph_orchestra.state.records import AuditRecord, audit_record

__all__ = [
    "BreakerState",
    "Circuit",
    "CircuitBreaker",
    "Guard",
    "ModelLike",
    "Resilient",
    "audit_of",
    "check_fallbacks",
    "circuit",
    "model_key",
    "model_label",
    "reset_circuits",
    "resilient_model",
    "with_audit",
]

BreakerState: TypeAlias = Literal["closed", "open", "half_open"]
"""Where a breaker stands: calls go through; calls fail fast; one trial call goes through."""


def _positive(value: object, what: str, *, whole: bool = False) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int if whole else int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        kind = "a whole number >= 1" if whole else "a positive number of seconds"
        raise TeamConfigError(f"CircuitBreaker {what} must be {kind}, got {value!r}")


@dataclass(frozen=True)
class CircuitBreaker:
    """When a model's breaker opens, and when it lets a trial call through.

    The state it judges is the model's, shared in the process (see the module's
    docstring); this object only holds the settings.
    """

    failures: int = 5
    """Failed calls within `window` that open the breaker."""
    window: float = 60.0
    """Seconds over which failures are counted."""
    reset_after: float = 30.0
    """Seconds an open breaker refuses calls before it lets one trial call through."""
    clock: Callable[[], float] = field(default=time.monotonic, compare=False, repr=False)
    """The time source, in seconds (tests pass a fake clock)."""

    def __post_init__(self) -> None:
        _positive(self.failures, "failures", whole=True)
        _positive(self.window, "window")
        _positive(self.reset_after, "reset_after")
        if not callable(self.clock):
            raise TeamConfigError(f"CircuitBreaker clock must be callable, got {self.clock!r}")


class Circuit:
    """The live state of one model's breaker, shared by the whole process.

    Thread-safe (one lock, never held across a call) and so usable from asyncio tasks
    and worker threads alike. Each method returns the state it moved to, if it moved.
    """

    def __init__(self, key: str) -> None:
        """Start closed, with no failure counted."""
        self.key = key
        self._lock = threading.Lock()
        self._state: BreakerState = "closed"
        self._failures: deque[float] = deque()
        self._opened_at = 0.0
        self._trial = False

    @property
    def state(self) -> BreakerState:
        """Where the breaker stands now."""
        return self._state

    def enter(self, settings: CircuitBreaker, who: str) -> BreakerState | None:
        """Let a call through, or raise `CircuitOpenError` (open, or a trial is running)."""
        with self._lock:
            if self._state == "closed":
                return None
            now = settings.clock()
            if self._state == "open":
                wait = settings.reset_after - (now - self._opened_at)
                if wait > 0:
                    raise self._refused(who, wait)
                self._state, self._trial = "half_open", True
                return "half_open"
            if self._trial:
                raise self._refused(who, 0.0)
            self._trial = True
            return None

    def succeeded(self) -> BreakerState | None:
        """Record a successful call: the breaker closes and forgets its failures."""
        with self._lock:
            self._failures.clear()
            self._trial = False
            if self._state == "closed":
                return None
            self._state = "closed"
            return "closed"

    def failed(self, settings: CircuitBreaker) -> BreakerState | None:
        """Record a failed call: a failed trial, or one failure too many, opens it."""
        with self._lock:
            now = settings.clock()
            if self._state == "half_open":
                self._state, self._opened_at, self._trial = "open", now, False
                return "open"
            if self._state == "open":
                return None  # a call that started before it opened
            self._failures.append(now)
            while self._failures and now - self._failures[0] > settings.window:
                self._failures.popleft()
            if len(self._failures) < settings.failures:
                return None
            self._failures.clear()
            self._state, self._opened_at = "open", now
            return "open"

    def released(self) -> None:
        """A call ended without an outcome (an interrupt, a cancellation): free its trial."""
        with self._lock:
            if self._state == "half_open":
                self._trial = False

    def _refused(self, who: str, wait: float) -> CircuitOpenError:
        when = f"a trial call in {wait:.3g} s" if wait > 0 else "a trial call is running"
        return CircuitOpenError(
            f"'{who}': the circuit breaker of model '{self.key}' is open ({when})",
            agent=who,
            model=self.key,
            retry_after=max(wait, 0.0),
        )


_CIRCUITS: dict[str, Circuit] = {}
_CIRCUITS_LOCK = threading.Lock()


def _unwrapped(model: Any) -> Any:
    """The chat model under a binding (`model.bind_tools(...)`)."""
    while not isinstance(model, BaseChatModel) and hasattr(model, "bound"):
        model = model.bound
    return model


def model_label(model: Any) -> str:
    """The model's name as a provider knows it (`gpt-4o`), else its class name."""
    inner = _unwrapped(model)
    for attr in ("model_name", "model", "model_id"):
        value = getattr(inner, attr, None)
        if isinstance(value, str) and value:
            return value
    return type(inner).__name__


def model_key(model: Any) -> str:
    """The identity a breaker is kept under: provider, model name and server URL."""
    inner = _unwrapped(model)
    try:
        provider = str(inner._llm_type)
    except (AttributeError, NotImplementedError):
        provider = type(inner).__name__
    key = f"{provider}:{model_label(inner)}"
    for attr in ("openai_api_base", "base_url", "endpoint"):
        url = getattr(inner, attr, None)
        if isinstance(url, str) and url:
            return f"{key}@{url}"
    return key


def circuit(model: Any) -> Circuit:
    """The process-wide breaker state of `model` (created closed on first use)."""
    key = model_key(model)
    with _CIRCUITS_LOCK:
        found = _CIRCUITS.get(key)
        if found is None:
            found = _CIRCUITS[key] = Circuit(key)
        return found


def reset_circuits() -> None:
    """Forget every breaker of the process (all close; counted failures are dropped)."""
    with _CIRCUITS_LOCK:
        _CIRCUITS.clear()


class Guard:
    """One caller's breaker on one model: lets calls through and records their outcome.

    The moves it causes become `breaker` audit records (in `records`, for the caller to
    write to its state) and `custom` stream events.
    """

    def __init__(self, model: Any, settings: CircuitBreaker, who: str) -> None:
        """Bind the process-wide state of `model` to `settings`, for participant `who`."""
        self.circuit = circuit(model)
        self.settings = settings
        self.who = who

    def enter(self, records: list[AuditRecord]) -> None:
        """Before an attempt: raise `CircuitOpenError` if the breaker refuses it."""
        self._moved(self.circuit.enter(self.settings, self.who), records)

    def succeeded(self, records: list[AuditRecord]) -> None:
        """After a successful attempt."""
        self._moved(self.circuit.succeeded(), records)

    def failed(self, records: list[AuditRecord]) -> None:
        """After a failed attempt."""
        self._moved(self.circuit.failed(self.settings), records)

    def _moved(self, state: BreakerState | None, records: list[AuditRecord]) -> None:
        if state is None:
            return
        detail: dict[str, Any] = {"model": self.circuit.key, "state": state}
        if state == "open":
            detail.update(
                failures=self.settings.failures,
                window_s=self.settings.window,
                reset_after_s=self.settings.reset_after,
            )
        records.append(audit_record("breaker", self.who, **detail))  # streamed as it is made


@dataclass(frozen=True)
class Resilient:
    """A model with fallback models and a circuit breaker, given where a model is.

    For the models of managers, selectors, ledgers and planners
    (`manager_model=Resilient("openai:gpt-4o", fallbacks=["anthropic:claude-sonnet-4"])`);
    an agent takes the same as `Agent(model=..., fallbacks=..., breaker=...)`.
    """

    model: BaseChatModel | str
    """The model tried first."""
    fallbacks: Sequence[BaseChatModel | str] = ()
    """The models tried next, in order, when a call fails after its retries."""
    breaker: CircuitBreaker | None = None
    """A circuit breaker on each of the models; `None`: none."""

    def __post_init__(self) -> None:
        if not isinstance(self.model, BaseChatModel | str) or (
            isinstance(self.model, str) and not self.model.strip()
        ):
            raise TeamConfigError(
                "Resilient model must be a chat model or a 'provider:model' string, "
                f"got {self.model!r}"
            )
        object.__setattr__(self, "fallbacks", check_fallbacks(self.fallbacks, "Resilient"))
        if self.breaker is not None and not isinstance(self.breaker, CircuitBreaker):
            raise TeamConfigError(
                f"Resilient breaker must be a CircuitBreaker or None, got {self.breaker!r}"
            )

    @property
    def models(self) -> tuple[BaseChatModel | str, ...]:
        """The model, then its fallbacks."""
        return (self.model, *self.fallbacks)


ModelLike: TypeAlias = BaseChatModel | str | Resilient
"""A model argument: a chat model, a `"provider:model"` string, or a `Resilient`."""


def check_fallbacks(fallbacks: object, owner: str) -> tuple[BaseChatModel | str, ...]:
    """Return `fallbacks` as a tuple if it is a list of models, else raise `TeamConfigError`."""
    if isinstance(fallbacks, BaseChatModel | str) or not isinstance(fallbacks, Iterable):
        raise TeamConfigError(
            f"{owner} fallbacks must be a list of chat models or 'provider:model' strings, "
            f"got {type(fallbacks).__name__}: use fallbacks=[...]"
        )
    items = tuple(fallbacks)
    for i, item in enumerate(items):
        if not isinstance(item, BaseChatModel | str) or (
            isinstance(item, str) and not item.strip()
        ):
            raise TeamConfigError(
                f"{owner} fallbacks[{i}] must be a chat model or a 'provider:model' string, "
                f"got {item!r}"
            )
    return items


def resilient_model(model: BaseChatModel | str | Resilient, *, owner: str) -> Resilient:
    """Return `model` as a `Resilient` whose models are all made (strings resolved).

    Raises:
        ModelSetupError: A model's provider package or API key is missing.
        TeamConfigError: A model is not a model.
    """
    spec = model if isinstance(model, Resilient) else Resilient(model)
    made = [chat_model(m, owner=owner) for m in spec.models]
    return Resilient(made[0], tuple(made[1:]), spec.breaker)


_AUDIT_ATTR = "orchestra_audit"


def with_audit(error: BaseException, records: Sequence[AuditRecord]) -> BaseException:
    """Attach the audit records of a failed call (breaker moves, fallbacks) to its error."""
    if records:
        setattr(error, _AUDIT_ATTR, [*audit_of(error), *records])
    return error


def audit_of(error: BaseException) -> list[AuditRecord]:
    """The audit records attached to a failed call's error (see `with_audit`)."""
    return list(getattr(error, _AUDIT_ATTR, ()))
