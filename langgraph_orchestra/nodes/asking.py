"""Asking a person from inside an agent's turn (a tool call waiting for a decision).

An interrupt raised inside the agent's own graph (its tools' middleware) surfaces through
the agent's turn node. A malformed resume value fails validation there; `ask` carries
that failure out as `RefusedDecision`, which the turn node re-raises as the original
`pydantic.ValidationError` instead of counting it as the agent's failure, so the pause
stays open exactly as at a gate.
"""

from __future__ import annotations

from typing import Any, TypeVar

from langgraph.types import interrupt
from pydantic import BaseModel, ValidationError

__all__ = ["RefusedDecision", "ask"]

T = TypeVar("T", bound=BaseModel)


class RefusedDecision(Exception):
    """A malformed resume value for an interrupt inside an agent's turn."""

    def __init__(self, error: ValidationError) -> None:
        super().__init__(str(error))
        self.error = error


def ask(value: Any, schema: type[T]) -> T:
    """Interrupt with `value` and return the person's answer, validated by `schema`."""
    try:
        return interrupt(value, response_schema=schema)
    except ValidationError as error:
        raise RefusedDecision(error) from None
