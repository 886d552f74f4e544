"""Comparable forms of messages and audit trails, shared by the pattern tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import BaseMessage

from langgraph_orchestra.testing import ScriptedModel

Shape = tuple[str, str | None, str]


def shape(messages: Sequence[BaseMessage]) -> list[Shape]:
    """Messages as (class name, name, text): what tests compare."""
    return [(type(m).__name__, m.name, m.text) for m in messages]


def seen_by(model: ScriptedModel) -> list[list[Shape]]:
    """What the model was shown, call by call."""
    return [shape(call) for call in model.calls]


def seen(messages: Sequence[BaseMessage]) -> list[Shape]:
    """Messages as (type, name, text): what an agent saw, comparable."""
    return [(m.type, m.name, m.text) for m in messages]


def audit_trail(state: Mapping[str, Any]) -> list[tuple[str, str | None]]:
    """The audit trail as (kind, agent) pairs."""
    return [(r["kind"], r["agent"]) for r in state["audit"]]


def whole(app: Any, input: Any, config: Any = None) -> dict[str, Any]:
    """Run `app` and return its whole state, plumbing included (`results`, `dispatched`).

    A pattern's output (what `invoke` returns) holds the users' fields only.
    """
    state: dict[str, Any] = app.invoke(input, config, output_keys=app.stream_channels_list)
    return state


async def awhole(app: Any, input: Any, config: Any = None) -> dict[str, Any]:
    """`whole`, asynchronously."""
    state: dict[str, Any] = await app.ainvoke(input, config, output_keys=app.stream_channels_list)
    return state
