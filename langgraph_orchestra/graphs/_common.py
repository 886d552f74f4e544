"""Checks shared by the factories."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from langgraph.graph import StateGraph

from langgraph_orchestra.agents import Agent
from langgraph_orchestra.conditions import Condition
from langgraph_orchestra.errors import TeamConfigError
from langgraph_orchestra.nodes.turn import Validator
from langgraph_orchestra.records import check_records
from langgraph_orchestra.state.schemas import input_schema

__all__ = [
    "check_flag",
    "check_max_revisions",
    "check_termination",
    "check_validators",
    "check_whole",
    "new_builder",
]


def new_builder(
    schema: type[Any],
    *,
    agents: Iterable[Agent] = (),
    pattern: str = "team",
    shared: bool = False,
    outputs: bool = True,
    one_owner: bool = False,
) -> StateGraph[Any, Any, Any, Any]:
    """Return a pattern's builder over `schema`; its input cannot write the library's records.

    The team's record contracts (`agents`' `writes`, `reads`, `requires`) are checked
    against `schema` here, before any model call (`check_records`; `shared`: a fan-out
    whose branches may write one field, settled by its `on_conflict`; `outputs=False`: a
    pattern that runs its agents its own way refuses typed outputs; `one_owner`: a
    pattern whose parallel rounds settle no conflict allows one owner per field).
    """
    check_records(
        agents, schema, pattern=pattern, shared=shared, outputs=outputs, one_owner=one_owner
    )
    return StateGraph(schema, input_schema=input_schema(schema))


def check_whole(value: int, what: str, *, minimum: int) -> int:
    """Return `value` if it is a whole number >= `minimum`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise TeamConfigError(f"{what} must be a whole number >= {minimum}, got {value!r}")
    return value


def check_flag(value: bool, what: str) -> bool:
    """Return `value` if it is `True` or `False`."""
    if not isinstance(value, bool):
        raise TeamConfigError(f"{what} must be True or False, got {value!r}")
    return value


def check_max_revisions(max_revisions: int) -> int:
    """Return `max_revisions` if it is a whole number >= 0."""
    return check_whole(max_revisions, "max_revisions", minimum=0)


def check_validators(
    validators: Mapping[str, Validator | Sequence[Validator]] | None, names: Iterable[str]
) -> dict[str, tuple[Validator, ...]]:
    """Normalize `{agent: validator or validators}`, refusing unknown agents."""
    known = list(names)
    checked: dict[str, tuple[Validator, ...]] = {}
    if validators is None:
        return checked
    if not isinstance(validators, Mapping):
        raise TeamConfigError(
            "validators must be a mapping {agent name: validator or list of validators}, "
            f"got {type(validators).__name__}"
        )
    for name, value in validators.items():
        if name not in known:
            raise TeamConfigError(
                f"Validators given for unknown agent '{name}'; known agents: {known}"
            )
        if not callable(value) and (isinstance(value, str) or not isinstance(value, Sequence)):
            raise TeamConfigError(
                f"Validators for agent '{name}' must be a callable str -> object or a list "
                f"of them, got {value!r}"
            )
        items: tuple[Callable[[str], object], ...] = (value,) if callable(value) else tuple(value)
        for item in items:
            if not callable(item):
                raise TeamConfigError(
                    f"Validator for agent '{name}' must be a callable str -> object, got {item!r}"
                )
        checked[name] = items
    return checked


def check_termination(termination: object, *, pattern: str) -> Condition | None:
    """Return `termination` if it is a `Condition` or `None`."""
    if termination is None or isinstance(termination, Condition):
        return termination
    raise TeamConfigError(
        f"{pattern} termination must be a condition (MaxRounds, TextMention, TokenBudget, "
        f"CostBudget, Timeout, ExternalStop, FunctionCondition, combined with | and &), "
        f"got {termination!r}"
    )
