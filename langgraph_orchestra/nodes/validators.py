"""Validators: checks on an agent's output text, run on model output and on human content.

A reviewer's `edit` or `respond`, an escalation's `supply` and a human seat's message put
text into the transcript as a model's output would be; the same validators check it. A
refusal is raised while the decision is read (a `pydantic.ValidationError` from
`interrupt`), so the interrupt stays open, nothing is written, and the reviewer can
correct the text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, create_model, model_validator

from langgraph_orchestra.errors import OutputValidationError

__all__ = ["HUMAN_CONTENT_ACTIONS", "Validator", "checked_decision", "run_validators"]

Validator = Callable[[str], object]
"""Checks an output text: raising, or returning `False` or a non-empty string (the
reason), refuses it; anything else accepts it."""

HUMAN_CONTENT_ACTIONS = frozenset({"edit", "respond", "supply"})
"""Decisions whose `content` enters the transcript (a decision without `action`, a human
seat's turn, always does)."""

M = TypeVar("M", bound=BaseModel)


def run_validators(
    agent: str, text: str, validators: Sequence[Validator], *, subject: str | None = None
) -> None:
    """Raise `OutputValidationError` if any validator refuses `text`.

    `subject` names the text in the message (default: "Output of agent '<agent>'").
    """
    what = subject or f"Output of agent '{agent}'"
    for validator in validators:
        name = getattr(validator, "__name__", type(validator).__name__)
        try:
            verdict = validator(text)
        except Exception as error:
            raise OutputValidationError(
                f"{what} refused by validator '{name}': {error}", agent=agent, output=text
            ) from error
        if verdict is False or (isinstance(verdict, str) and verdict):
            reason = verdict if isinstance(verdict, str) else "returned False"
            raise OutputValidationError(
                f"{what} refused by validator '{name}': {reason}", agent=agent, output=text
            )


def checked_decision(schema: type[M], agent: str, validators: Sequence[Validator]) -> type[M]:
    """Return `schema` extended to run `agent`'s validators on the human `content`.

    The result has the same name and fields (so the same JSON schema for clients); with no
    validators it is `schema` itself.
    """
    if not validators:
        return schema
    checks = tuple(validators)

    def _human_content(decision: Any) -> Any:
        content = getattr(decision, "content", None)
        action = getattr(decision, "action", None)
        if content and (action is None or action in HUMAN_CONTENT_ACTIONS):
            try:
                run_validators(agent, content, checks, subject=f"Human content for agent '{agent}'")
            except OutputValidationError as error:
                raise ValueError(f"{error}; correct it and decide again") from None
        return decision

    checked: type[M] = create_model(
        schema.__name__,
        __base__=schema,
        __module__=schema.__module__,
        __doc__=schema.__doc__,
        __validators__={"_human_content": model_validator(mode="after")(_human_content)},  # type: ignore[dict-item]
    )
    return checked
