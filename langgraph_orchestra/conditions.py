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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from langchain_core.messages import BaseMessage
from langchain_core.messages.utils import count_tokens_approximately

from langgraph_orchestra.errors import TeamConfigError

__all__ = [
    "AllOf",
    "AnyOf",
    "Condition",
    "CostBudget",
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
            "TextMention, TokenBudget, CostBudget, Timeout or FunctionCondition"
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


def _total(state: State, *keys: str) -> float:
    usage: Mapping[str, Mapping[str, float]] = state.get("usage") or {}
    return sum(u[k] for u in usage.values() for k in keys)


@dataclass(frozen=True)
class TokenBudget(Condition):
    """A token budget: a termination condition and a context policy in one.

    As a termination condition it stops the run (`"budget"`) once the participants
    together have used `tokens` input + output tokens, managers included. As an agent's
    `context=` it shows the agent the task plus the most recent messages that fit in
    `tokens` (approximate count), so prompts stay bounded however long the run.
    """

    tokens: int
    """The budget, in tokens."""

    def __post_init__(self) -> None:
        _positive(self.tokens, "TokenBudget tokens")

    def __call__(self, state: State) -> str | None:
        """Return `"budget"` when the team has used the budget."""
        return "budget" if _total(state, "input_tokens", "output_tokens") >= self.tokens else None

    def fits(self, messages: Sequence[BaseMessage]) -> int:
        """Return how many of the latest `messages` fit in the budget (at least one)."""
        used, count = 0, 0
        for message in reversed(messages):
            used += count_tokens_approximately([message])
            if used > self.tokens and count:
                break
            count += 1
        return count


@dataclass(frozen=True)
class CostBudget(Condition):
    """Stops (`"budget"`) once the run's cost reaches `usd`, manager calls included."""

    usd: float
    """The budget in US dollars."""

    def __post_init__(self) -> None:
        _positive(self.usd, "CostBudget usd")

    def __call__(self, state: State) -> str | None:
        """Return `"budget"` when the cost budget is spent."""
        return "budget" if _total(state, "cost_usd") >= self.usd else None


@dataclass(frozen=True)
class Timeout(Condition):
    """Stops (`"timeout"`) once `seconds` have passed since the run's first audit record.

    The audit trail is kept across the runs of a thread: the current run's records are
    those after the latest `termination` record.
    """

    seconds: float
    """Wall-clock limit in seconds."""

    def __post_init__(self) -> None:
        _positive(self.seconds, "Timeout seconds")

    def __call__(self, state: State) -> str | None:
        """Return `"timeout"` when the run is older than the limit."""
        audit: Sequence[Mapping[str, Any]] = state.get("audit") or ()
        first = None
        for i in range(len(audit) - 1, -1, -1):
            if audit[i]["kind"] == "termination":
                break
            first = audit[i]
        if first is None:
            return None
        started = datetime.fromisoformat(first["ts"])
        elapsed = (datetime.now(UTC) - started).total_seconds()
        return "timeout" if elapsed >= self.seconds else None


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
