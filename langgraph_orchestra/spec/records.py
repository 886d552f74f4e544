"""Record fields in a team file: an agent's typed `output` and the state that holds it.

An agent's `output:` is a mapping `{field: type}` (types `str`, `int`, `float`, `bool`,
`list[str]`, each optionally `| None`) or the import path of a pydantic model class. The
team's state schema is made from the agents' outputs: the pattern's state plus one
optional field per output field, so `writes`, `reads` and `requires` are checked
against it as they are for a team written in Python.
"""

from __future__ import annotations

import types
from collections.abc import Mapping, Sequence
from typing import Any, NotRequired

from pydantic import BaseModel, create_model

from langgraph_orchestra.agents import Agent
from langgraph_orchestra.errors import TeamConfigError
from langgraph_orchestra.spec._problems import allowed, did_you_mean, type_name
from langgraph_orchestra.state.schemas import (
    ConcurrentState,
    GroupChatState,
    HandoffState,
    HierarchicalState,
    MagenticState,
    NetworkState,
    PlannerExecutorState,
    SequentialState,
)

__all__ = ["FIELD_TYPES", "output_model", "record_schema"]

FIELD_TYPES: Mapping[str, Any] = {
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
    "list[str]": list[str],
}
"""The field types a team file's `output:` may name (each also as `TYPE | None`)."""

_STATES: Mapping[str, type[Any]] = {
    "sequential": SequentialState,
    "concurrent": ConcurrentState,
    "group_chat": GroupChatState,
    "maker_checker": GroupChatState,
    "handoff": HandoffState,
    "magentic": MagenticState,
    "hierarchical": HierarchicalState,
    "planner_executor": PlannerExecutorState,
    "network": NetworkState,
}


def _field_type(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError(f"field '{name}': expected a type name, got {type_name(value)}")
    text = value.replace(" ", "")
    optional = text.endswith("|None")
    base = text.removesuffix("|None")
    if base not in FIELD_TYPES:
        raise ValueError(
            f"field '{name}': '{value}' is not a type{did_you_mean(base, list(FIELD_TYPES))}; "
            f"allowed: {allowed(list(FIELD_TYPES))}, each optionally '| None'"
        )
    kind = FIELD_TYPES[base]
    return kind | None if optional else kind


def output_model(agent: str, fields: Mapping[str, Any]) -> type[BaseModel]:
    """A pydantic model of `fields` (`{name: type name}`) for `agent`'s typed output.

    Raises:
        ValueError: naming the field and the allowed types.
    """
    if not fields:
        raise ValueError("expected at least one field {name: type}")
    spec: dict[str, Any] = {}
    for name, value in fields.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"{name!r} is not a field name (a Python identifier)")
        kind = _field_type(name, value)
        spec[name] = (kind, None) if isinstance(kind, types.UnionType) else (kind, ...)
    title = "".join(part.capitalize() for part in agent.replace("-", "_").split("_"))
    model: type[BaseModel] = create_model(f"{title}Output", **spec)
    return model


def record_schema(pattern: str, agents: Sequence[Agent]) -> type[Any] | None:
    """The pattern's state plus the output fields the agents write; `None` without any.

    An output field an agent does not write (`writes: []`, e.g. a voter's answer and
    confidence) is only its answer, not a record field.

    Raises:
        TeamConfigError: Two outputs give one field different types.
    """
    fields: dict[str, Any] = {}
    for agent in agents:
        if agent.output is None:
            continue
        for name, info in agent.output.model_fields.items():
            if name not in (agent.writes or ()):
                continue
            if name in fields and fields[name] != info.annotation:
                raise TeamConfigError(
                    f"field '{name}' has two types in the agents' outputs: "
                    f"{fields[name]} and {info.annotation}; give it one"
                )
            fields[name] = info.annotation
    if not fields:
        return None
    base = _STATES[pattern]
    hints = {name: NotRequired[kind] for name, kind in fields.items()}
    return types.new_class(
        f"{base.__name__}Record", (base,), {}, lambda ns: ns.update({"__annotations__": hints})
    )
