"""The YAML values a team file shares between agents and pattern options.

Each is a pydantic type (`Annotated[T, PlainValidator(check)]`) whose check takes the
YAML value and returns what the library takes, or raises `ValueError` saying what was
wrong and what is allowed. The rules themselves come from where the values are used:
context names from `context.py`, `Window`'s and `TokenBudget`'s own checks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from langchain_core.messages import BaseMessage
from pydantic import PlainValidator, ValidationInfo

from langgraph_orchestra.agents import Agent
from langgraph_orchestra.conditions import (
    Condition,
    CostBudget,
    MaxRounds,
    TextMention,
    Timeout,
    TokenBudget,
)
from langgraph_orchestra.context import CONTEXT_NAMES, ContextPolicy, Summary, Window
from langgraph_orchestra.errors import TeamConfigError
from langgraph_orchestra.models import MODEL_FORMAT, check_model_name
from langgraph_orchestra.redaction import Redactor
from langgraph_orchestra.resilience import CircuitBreaker
from langgraph_orchestra.spec._problems import (
    allowed,
    did_you_mean,
    problem,
    problems,
    type_name,
)

__all__ = [
    "MODEL_ALLOWED",
    "UNNAMED",
    "Breaker",
    "Context",
    "Quorum",
    "Redaction",
    "Seconds",
    "SummaryOption",
    "Termination",
    "check_model_string",
    "parse_breaker",
    "parse_context",
    "parse_redact",
    "parse_termination",
    "refused_by_agent",
    "whole",
]

MODEL_ALLOWED = f"{MODEL_FORMAT} or {{scripted: [replies]}}"
"""What a model may be, for messages."""

UNNAMED = "unnamed"
"""The name a field's `Agent` check runs under when the agent's own name is not valid."""

_CONTEXT_SHAPES: Mapping[str, Callable[[Any], Window | TokenBudget]] = {
    "window": Window,
    "token_budget": TokenBudget,
}
_CONTEXT_ALLOWED = (
    f"{allowed(CONTEXT_NAMES)}, {{window: K}}, {{token_budget: N}} or "
    "{summary: {model: MODEL, keep_last: K}}"
)
_SUMMARY_KEYS = ("model", "keep_last", "words")
_BREAKER_KEYS = ("failures", "window", "reset_after")
_BREAKER_ALLOWED = "true (the defaults) or {failures: N, window: SECONDS, reset_after: SECONDS}"


@dataclass(frozen=True)
class SummaryOption:
    """A `{summary: {...}}` context of a team file: the build makes its model."""

    model: Any
    """The summarizer's model as the file gives it (`provider:model` or scripted)."""
    keep_last: int
    """The latest messages shown as they are."""
    words: int
    """The summary's length bound, in words."""


def _summary(value: Any, info: Any) -> SummaryOption:
    from langgraph_orchestra.spec.agent import parse_model  # the agent module imports this one

    if not isinstance(value, Mapping):
        raise problem(
            f"expected {{model: MODEL, keep_last: K}}, got {type_name(value)}",
            loc=("summary",),
            value=value,
        )
    unknown = [k for k in value if k not in _SUMMARY_KEYS]
    if unknown:
        key = str(unknown[0])
        raise problem(
            f"unknown key{did_you_mean(key, _SUMMARY_KEYS)}; allowed: {allowed(_SUMMARY_KEYS)}",
            loc=("summary", key),
            value=value[unknown[0]],
        )
    if value.get("model") is None:
        raise problem(f"missing; the summarizer's model: {MODEL_ALLOWED}", loc=("summary", "model"))
    try:
        model = parse_model(value["model"], info)
    except ValueError as error:
        shown = error.errors()[0]["msg"] if hasattr(error, "errors") else str(error)
        raise problem(shown, loc=("summary", "model"), value=value["model"]) from None
    numbers = {k: value[k] for k in ("keep_last", "words") if value.get(k) is not None}
    try:
        checked = Summary("stand-in:model", **numbers)
    except TeamConfigError as error:
        raise problem(str(error), loc=("summary",), value=value) from None
    return SummaryOption(model, checked.keep_last, checked.words)


def _no_op(messages: list[BaseMessage]) -> str:
    """The stand-in runnable of an `Agent` built only to check one field."""
    return ""


def refused_by_agent(**fields: Any) -> None:
    """Raise the `Agent`'s refusal of `fields` (with a name) as a `ValueError`."""
    try:
        Agent(**{"name": UNNAMED, **fields}, runnable=_no_op)
    except TeamConfigError as error:
        raise ValueError(str(error)) from None


def check_model_string(value: str) -> str:
    """Return `value` stripped if it is a `provider:model` string of a known provider."""
    try:
        return check_model_name(value, allowed=MODEL_ALLOWED)
    except TeamConfigError as error:
        raise ValueError(str(error)) from None


def parse_context(value: Any, info: Any = None) -> ContextPolicy | SummaryOption:
    """Turn a YAML context (`last`, `{window: K}`, `{summary: {...}}`, ...) into a policy.

    A summary's model is made when the team is built (a `SummaryOption` until then).
    """
    if isinstance(value, str):
        if value in CONTEXT_NAMES:
            return value  # type: ignore[return-value]  # one of the Literal's names
        raise ValueError(
            f"unknown context '{value}'{did_you_mean(value, CONTEXT_NAMES)}; "
            f"allowed: {_CONTEXT_ALLOWED}"
        )
    if isinstance(value, Mapping) and len(value) == 1:
        ((key, amount),) = value.items()
        if key == "summary":
            return _summary(amount, info)
        if key in _CONTEXT_SHAPES:
            try:
                return _CONTEXT_SHAPES[key](amount)
            except TeamConfigError as error:
                raise problem(str(error), loc=(key,), value=amount) from None
    raise ValueError(
        f"expected a context policy, got {type_name(value)}; allowed: {_CONTEXT_ALLOWED}"
    )


def whole(minimum: int) -> Any:
    """The type of a whole number >= `minimum`."""

    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"expected a whole number >= {minimum}, got {type_name(value)}")
        return value

    return Annotated[int, PlainValidator(check)]


def _seconds(value: Any) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ValueError(f"expected a positive number of seconds, got {type_name(value)}")
    return float(value)


def _quorum(value: Any) -> float:
    # The range depends on the number of branches: the factory checks it.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(
            "expected a count of branches (1, 2, ...) or a fraction (0 < q <= 1), "
            f"got {type_name(value)}"
        )
    return value


_CONDITIONS: Mapping[str, Callable[[Any], Condition]] = {
    "text_mention": TextMention,
    "token_budget": TokenBudget,
    "cost_budget": CostBudget,
    "timeout": Timeout,
    "max_rounds": MaxRounds,
}
"""The termination conditions a team file can set, by key, each made from its value."""


def parse_termination(value: Any) -> Condition:
    """Turn a YAML termination (`{text_mention: DONE, cost_budget: 0.5}`) into a condition.

    Each key is one condition of `conditions.py`, checked by the condition itself; several
    keys stop the run when any of them fires (`|`, in the file's order).
    """
    keys = list(_CONDITIONS)
    if not isinstance(value, Mapping) or not value:
        raise ValueError(
            f"expected a mapping of conditions, got {type_name(value)}; allowed keys: "
            f"{allowed(keys)}"
        )
    found: list[tuple[tuple[str | int, ...], str, Any]] = []
    parts: list[Condition] = []
    for key, amount in value.items():
        if key not in _CONDITIONS:
            found.append(
                (
                    (key,),
                    f"unknown key{did_you_mean(str(key), keys)}; allowed: {allowed(keys)}",
                    amount,
                )
            )
            continue
        try:
            parts.append(_CONDITIONS[key](amount))
        except TeamConfigError as error:
            found.append(((key,), str(error), amount))
    if found:
        raise problems(found)
    condition = parts[0]
    for part in parts[1:]:
        condition = condition | part
    return condition


Seconds = Annotated[float, PlainValidator(_seconds)]
"""The type of a positive number of seconds."""

Quorum = Annotated[float, PlainValidator(_quorum)]
"""The type of a quorum: a count of branches or a fraction."""


def _parse_context(value: Any, info: ValidationInfo) -> ContextPolicy | SummaryOption:
    return parse_context(value, info)


Context = Annotated[ContextPolicy, PlainValidator(_parse_context)]
"""The type of a context policy."""


def parse_breaker(value: Any) -> CircuitBreaker | None:
    """Turn a YAML breaker (`true`, `false`, or `{failures, window, reset_after}`) into one."""
    if value is True:
        return CircuitBreaker()
    if value is False:
        return None
    if not isinstance(value, Mapping):
        raise ValueError(f"expected {_BREAKER_ALLOWED}, got {type_name(value)}")
    unknown = [k for k in value if k not in _BREAKER_KEYS]
    if unknown:
        key = str(unknown[0])
        raise problem(
            f"unknown key{did_you_mean(key, _BREAKER_KEYS)}; allowed: {allowed(_BREAKER_KEYS)}",
            loc=(key,),
            value=value[unknown[0]],
        )
    try:
        return CircuitBreaker(**{str(k): v for k, v in value.items()})
    except TeamConfigError as error:
        raise ValueError(str(error)) from None


Breaker = Annotated[CircuitBreaker | None, PlainValidator(parse_breaker)]
"""The type of a circuit breaker setting."""

Termination = Annotated[Condition, PlainValidator(parse_termination)]
"""The type of a termination: conditions by key, any of which stops the run."""


_DETECTORS = ("emails", "phones", "cards", "secrets")
"""The detectors a team file's `redact:` can name (`Redactor`'s flags)."""

_REDACT_ALLOWED = (
    "give default (every detector), a list of detectors or a mapping detector: true/false; "
    f"detectors: {allowed(_DETECTORS)}"
)


def _detectors(on: Callable[[str], bool]) -> Redactor:
    """The `Redactor` whose detectors are those `on` says are on."""
    return Redactor(
        emails=on("emails"), phones=on("phones"), cards=on("cards"), secrets=on("secrets")
    )


def parse_redact(value: Any) -> Redactor | None:
    """Turn a YAML `redact:` (`default`, `[emails, cards]`, `{phones: false}`) into a `Redactor`.

    `false` is no redaction; a list turns on only the detectors it names; a mapping sets
    the detectors it names and keeps the others on.
    """
    if value is False:
        return None
    if value == "default" or value is True:
        return Redactor()
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        unknown = [v for v in value if v not in _DETECTORS]
        if unknown:
            raise ValueError(
                f"unknown detector '{unknown[0]}'{did_you_mean(unknown[0], _DETECTORS)}; "
                f"allowed: {allowed(_DETECTORS)}"
            )
        return _detectors(lambda name: name in value)
    if isinstance(value, Mapping) and value:
        flags: dict[str, bool] = {}
        for key, flag in value.items():
            if key not in _DETECTORS:
                raise ValueError(
                    f"unknown detector '{key}'{did_you_mean(str(key), _DETECTORS)}; "
                    f"allowed: {allowed(_DETECTORS)}"
                )
            if not isinstance(flag, bool):
                raise ValueError(f"{key} must be true or false, got {type_name(flag)}")
            flags[str(key)] = flag
        return _detectors(lambda name: flags.get(name, True))
    raise ValueError(f"expected a redaction, got {type_name(value)}; {_REDACT_ALLOWED}")


Redaction = Annotated[Redactor | None, PlainValidator(parse_redact)]
"""The type of a team file's `redact:`."""
