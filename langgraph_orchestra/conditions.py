"""Termination conditions: small predicates over state, composable with `|` and `&`.

A condition returns the stop reason when the run must end, else `None`. Every loop
pattern takes one as `termination=` and always adds its own hard bound.

Example:
    ```python
    stop = MaxRounds(12) | TextMention("DONE") | CostBudget(0.50)
    stop({"round": 12, "messages": []})  # -> "max_rounds"
    ```
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, TypeAlias, get_args

from langchain_core.messages import BaseMessage

from langgraph_orchestra.errors import TeamConfigError

__all__ = [
    "AllOf",
    "AnyOf",
    "BudgetScope",
    "Condition",
    "CostBudget",
    "ExternalStop",
    "FunctionCondition",
    "MaxRounds",
    "TextMention",
    "Timeout",
    "TokenBudget",
]

State = Mapping[str, Any]


class Condition:
    """Base class: `condition(state)` returns a stop reason or `None`."""

    def __call__(self, state: State) -> str | None:
        """Return why the run must stop, or `None` to go on."""
        raise NotImplementedError

    def __or__(self, other: Condition) -> Condition:
        return AnyOf((self, _check_condition(other)))

    def __and__(self, other: Condition) -> Condition:
        return AllOf((self, _check_condition(other)))

    # `5 | MaxRounds(3)` reaches here after int refuses: give the same clear error.
    def __ror__(self, other: object) -> Condition:
        return AnyOf((_check_condition(other), self))

    def __rand__(self, other: object) -> Condition:
        return AllOf((_check_condition(other), self))


def _check_condition(other: object) -> Condition:
    if not isinstance(other, Condition):
        raise TeamConfigError(
            f"Cannot combine a condition with {type(other).__name__}: use MaxRounds, "
            "TextMention, TokenBudget, CostBudget, Timeout, ExternalStop or FunctionCondition"
        )
    return other


def _positive(value: float, what: str) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)  # NaN would never fire; inf is no budget at all
        or value <= 0
    ):
        raise TeamConfigError(f"{what} must be a positive number, got {value!r}")


@dataclass(frozen=True)
class AnyOf(Condition):
    """Stops when any part stops; the reason is the first part's that fired."""

    parts: tuple[Condition, ...]
    """The combined conditions."""

    def __post_init__(self) -> None:
        for part in self.parts:
            _check_condition(part)

    def __call__(self, state: State) -> str | None:
        """Return the first part's stop reason, if any."""
        for part in self.parts:
            reason = part(state)
            if reason is not None:
                return reason
        return None


@dataclass(frozen=True)
class AllOf(Condition):
    """Stops when every part stops; the reason is the last part's."""

    parts: tuple[Condition, ...]
    """The combined conditions."""

    def __post_init__(self) -> None:
        for part in self.parts:
            _check_condition(part)

    def __call__(self, state: State) -> str | None:
        """Return the last part's reason when all parts fire."""
        reason = None
        for part in self.parts:
            reason = part(state)
            if reason is None:
                return None
        return reason


@dataclass(frozen=True)
class MaxRounds(Condition):
    """Stops once `state["round"]` reaches `rounds`."""

    rounds: int
    """How many rounds may run."""

    def __post_init__(self) -> None:
        if isinstance(self.rounds, bool) or not isinstance(self.rounds, int) or self.rounds < 1:
            raise TeamConfigError(f"MaxRounds needs a whole number >= 1, got {self.rounds!r}")

    def __call__(self, state: State) -> str | None:
        """Return `"max_rounds"` when the round limit is reached."""
        return "max_rounds" if state.get("round", 0) >= self.rounds else None


@dataclass(frozen=True)
class TextMention(Condition):
    """Stops when the last message contains `text` (e.g. an agent says `"TERMINATE"`)."""

    text: str
    """The text to look for."""
    reason: str = "completed"
    """The stop reason reported."""

    def __post_init__(self) -> None:
        if not isinstance(self.text, str) or not self.text:
            raise TeamConfigError("TextMention needs a non-empty text")

    def __call__(self, state: State) -> str | None:
        """Return the reason when the latest message mentions the text."""
        messages: Sequence[BaseMessage] = state.get("messages") or ()
        if messages and self.text in messages[-1].text:
            return self.reason
        return None


BudgetScope: TypeAlias = Literal["run", "thread"]
"""What a budget counts: the current run's usage, or the whole thread's."""

_SCOPES: tuple[BudgetScope, ...] = get_args(BudgetScope)


def _total(state: State, scope: BudgetScope, *keys: str) -> float:
    usage: Mapping[str, Mapping[str, float]] = (
        state.get("run_usage" if scope == "run" else "usage") or {}
    )
    return sum(u[k] for u in usage.values() for k in keys)


def _check_scope(scope: object, owner: str) -> None:
    if scope not in _SCOPES:
        raise TeamConfigError(f"{owner} scope={scope!r}: allowed {list(_SCOPES)}")


@dataclass(frozen=True)
class TokenBudget(Condition):
    """A token budget: a termination condition and a context policy in one.

    As a termination condition it stops the run (`"budget"`) once the participants
    together have used `tokens` input + output tokens in the current run (or the whole
    thread, `scope="thread"`), managers included. As an agent's
    `context=` it shows the agent the task plus the most recent messages that fit in
    `tokens` (approximate count), so prompts stay bounded however long the run.

    Only known tokens count: a call whose reply carried no usage metadata (usage
    unknown, `Usage.unknown_usage_calls`) adds nothing, so a team whose model reports
    no usage is not stopped by a token budget. Models built from `"provider:model"`
    strings ask for usage when streaming (`stream_usage=True`); `orchestra show`
    marks unknown usage. Bound such a team with `MaxRounds` or `Timeout` too.
    """

    tokens: int
    """The budget, in tokens."""
    scope: BudgetScope = "run"
    """Count the current run (`"run"`) or every run of the thread (`"thread"`)."""

    def __post_init__(self) -> None:
        _positive(self.tokens, "TokenBudget tokens")
        _check_scope(self.scope, "TokenBudget")

    def __call__(self, state: State) -> str | None:
        """Return `"budget"` when the team has used the budget."""
        used = _total(state, self.scope, "input_tokens", "output_tokens")
        return "budget" if used >= self.tokens else None


@dataclass(frozen=True)
class CostBudget(Condition):
    """Stops (`"budget"`) once the run's cost reaches `usd`, manager calls included.

    Only known costs count: calls whose usage is unknown (no usage metadata) and calls
    of models the price table does not list (`unpriced_calls`; give their price with
    `prices=`, `prices:` in a team file or `--price`) add nothing. A team of unpriced
    models is not stopped by a cost budget; bound it with `TokenBudget` or `MaxRounds`.
    """

    usd: float
    """The budget in US dollars."""
    scope: BudgetScope = "run"
    """Count the current run (`"run"`) or every run of the thread (`"thread"`)."""

    def __post_init__(self) -> None:
        _positive(self.usd, "CostBudget usd")
        _check_scope(self.scope, "CostBudget")

    def __call__(self, state: State) -> str | None:
        """Return `"budget"` when the cost budget is spent."""
        return "budget" if _total(state, self.scope, "cost_usd") >= self.usd else None


@dataclass(frozen=True)
class Timeout(Condition):
    """Stops (`"timeout"`) once `seconds` have passed since the current run started.

    The run's start is `state["run"]["started_at"]`, written by the node that starts it.
    """

    seconds: float
    """Wall-clock limit in seconds."""

    def __post_init__(self) -> None:
        _positive(self.seconds, "Timeout seconds")

    def __call__(self, state: State) -> str | None:
        """Return `"timeout"` when the run is older than the limit."""
        run = state.get("run")
        if not run:
            return None
        started = datetime.fromisoformat(run["started_at"])
        elapsed = (datetime.now(UTC) - started).total_seconds()
        return "timeout" if elapsed >= self.seconds else None


class ExternalStop(Condition):
    """A stop the caller sets from another task or thread, honoured after the current turn.

    The run ends cleanly with its real latest answer and `stop_reason="stopped"`.

    The handle is shared by every run of the graphs built with it: use one per run (or
    `clear()` it before the next).

    Example:
        ```python
        stop = ExternalStop()
        team = create_group_chat(agents, termination=stop).compile()
        threading.Timer(30, stop.set).start()
        team.invoke({"messages": [("user", "Plan the launch")]})
        ```
    """

    def __init__(self, reason: str = "stopped") -> None:
        """Make an unset stop that reports `reason` once set."""
        self.reason = reason
        self._event = threading.Event()

    def set(self) -> None:
        """Ask the runs to stop after their current turn."""
        self._event.set()

    def clear(self) -> None:
        """Let runs go on again."""
        self._event.clear()

    def is_set(self) -> bool:
        """Whether a stop was asked."""
        return self._event.is_set()

    def __call__(self, state: State) -> str | None:
        """Return the reason once the stop is set."""
        return self.reason if self._event.is_set() else None

    def __repr__(self) -> str:
        return f"ExternalStop(reason={self.reason!r}, set={self.is_set()})"


@dataclass(frozen=True)
class FunctionCondition(Condition):
    """Stops when `fn(state)` is truthy; a string result is used as the stop reason."""

    fn: Callable[[State], bool | str | None]
    """The predicate."""
    reason: str = "condition"
    """The stop reason reported when `fn` returns `True`."""

    def __post_init__(self) -> None:
        if not callable(self.fn):
            raise TeamConfigError(f"FunctionCondition needs a callable, got {self.fn!r}")

    def __call__(self, state: State) -> str | None:
        """Return the reason when the predicate fires."""
        result = self.fn(state)
        if isinstance(result, str):
            return result or None
        return self.reason if result else None
