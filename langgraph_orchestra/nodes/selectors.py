"""Speaker selection for a group chat: who may speak next, and who is chosen.

`Floor` holds the rules every selector obeys (the participants in order, whether a
speaker may speak twice in a row, and the allowed transitions); a selector picks one
name among the candidates the floor allows. Built-in selectors: `RoundRobin`,
`LLMSelector` (a model's structured choice, re-asked when invalid, with a fallback that
obeys the floor) and `FunctionSelector` (a callable `state -> name | None`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, SystemMessage
from langchain_core.runnables import RunnableConfig
from pydantic import BaseModel, Field, create_model

from langgraph_orchestra.calls import ModelCall
from langgraph_orchestra.context import View
from langgraph_orchestra.errors import OrchestraError, StructuredOutputError
from langgraph_orchestra.names import MANAGER
from langgraph_orchestra.prompts import DEFAULT_PROMPTS, Prompts
from langgraph_orchestra.resilience import Resilient, audit_of
from langgraph_orchestra.state.records import AuditRecord, Usage
from langgraph_orchestra.tracing import ModelPrice

__all__ = [
    "Floor",
    "FunctionSelector",
    "LLMSelector",
    "RoundRobin",
    "Selection",
    "Selector",
    "SpeakerFn",
]

SpeakerFn = Callable[[Mapping[str, Any]], str | None]
"""A function selector: the state -> the next speaker's name, or `None` to end the chat."""


class Selection(NamedTuple):
    """A selector's choice."""

    speaker: str | None
    """Who speaks next; `None` ends the chat."""
    reason: str
    """Why, for the audit trail."""
    usage: dict[str, Usage]
    """The selection's model usage (empty for a rule)."""
    detail: dict[str, Any]
    """More facts for the audit record (a fallback and its cause)."""
    audit: list[AuditRecord] = []  # noqa: RUF012 - a NamedTuple default, never mutated
    """The model call's `fallback` and `breaker` records, written before the routing one."""


@dataclass(frozen=True)
class Floor:
    """Who may speak next: the participants, the repeat rule and the allowed transitions."""

    order: tuple[str, ...]
    """Every participant, in team order."""
    allow_repeat: bool = False
    """Whether the last speaker may speak again right away."""
    transitions: Mapping[str, tuple[str, ...]] | None = None
    """Who may follow whom; a speaker missing from it may be followed by anyone."""

    def candidates(self, last: str | None) -> list[str]:
        """The participants allowed to speak after `last`, in team order."""
        allowed = self.order
        if last is not None and self.transitions is not None and last in self.transitions:
            targets = set(self.transitions[last])
            allowed = tuple(n for n in self.order if n in targets)
        if last is not None and not self.allow_repeat:
            allowed = tuple(n for n in allowed if n != last)
        return list(allowed)

    def next_in_turn(self, last: str | None) -> str | None:
        """The first allowed participant after `last` in team order (wrapping around)."""
        allowed = self.candidates(last)
        if not allowed:
            return None
        if last is None or last not in self.order:
            return allowed[0]
        start = self.order.index(last)
        ring = [*self.order[start + 1 :], *self.order[: start + 1]]
        return next(n for n in ring if n in allowed)


class Selector:
    """Base class: chooses the next speaker among the floor's candidates."""

    label = "selector"

    def select(
        self, state: Mapping[str, Any], floor: Floor, last: str | None, config: RunnableConfig
    ) -> Selection:
        """Return the choice (sync)."""
        raise NotImplementedError

    async def aselect(
        self, state: Mapping[str, Any], floor: Floor, last: str | None, config: RunnableConfig
    ) -> Selection:
        """Return the choice (async); by default the sync choice."""
        return self.select(state, floor, last, config)


class RoundRobin(Selector):
    """Each participant in team order, skipping those the floor excludes."""

    label = "round_robin"

    def select(
        self, state: Mapping[str, Any], floor: Floor, last: str | None, config: RunnableConfig
    ) -> Selection:
        """Return the next participant in turn."""
        return Selection(floor.next_in_turn(last), "next in turn", {}, {})


class FunctionSelector(Selector):
    """A callable `state -> name | None` chooses; its choice must be allowed by the floor."""

    label = "function"

    def __init__(self, fn: SpeakerFn) -> None:
        """Wrap `fn`."""
        self.fn = fn

    def select(
        self, state: Mapping[str, Any], floor: Floor, last: str | None, config: RunnableConfig
    ) -> Selection:
        """Return the function's choice after checking it."""
        name = self.fn(state)
        if name is None:
            return Selection(None, "the selector ended the chat", {}, {})
        allowed = floor.candidates(last)
        if name not in allowed:
            after = f" after '{last}'" if last else ""
            raise OrchestraError(
                f"Speaker selector {getattr(self.fn, '__name__', self.fn)!r} chose {name!r}, "
                f"who may not speak{after}; allowed: {allowed}"
            )
        return Selection(name, "chosen by the selector function", {}, {})


class LLMSelector(Selector):
    """A model chooses the next speaker by structured output, with a reason.

    The choice's schema only admits the allowed names (`speaker` is a `Literal` of
    them); an invalid reply is asked again with the error (`max_reasks`). When no valid
    choice comes, the next participant in turn is taken (`fallback` in the audit), so
    the floor's rules hold whatever the model answers. Its calls count in `usage` under
    `manager`.
    """

    label = "llm"

    def __init__(
        self,
        model: BaseChatModel | Resilient,
        *,
        descriptions: Mapping[str, str],
        view: View,
        pattern: str,
        prices: Mapping[str, ModelPrice],
        prompts: Prompts = DEFAULT_PROMPTS,
        max_reasks: int = 2,
    ) -> None:
        """Prepare the selector.

        Args:
            model: The manager's chat model.
            descriptions: Each participant's description, in team order.
            view: What the manager sees of the transcript.
            pattern: The pattern name, for tracing.
            prices: The price table.
            prompts: Prompt templates (`speaker_selection`, `participant_line`, `reask`).
            max_reasks: How many times an invalid choice is asked again.
        """
        self.descriptions = dict(descriptions)
        self.view = view
        self.prompts = prompts
        self.call = ModelCall(
            model,
            participant=MANAGER,
            pattern=pattern,
            prices=prices,
            max_reasks=max_reasks,
            prompts=prompts,
        )
        self._schemas: dict[tuple[str, ...], type[BaseModel]] = {}
        self._lines = "\n".join(
            prompts.participant_line.format(name=n, description=d or "(no description)")
            for n, d in self.descriptions.items()
        )

    def _schema(self, candidates: Sequence[str]) -> type[BaseModel]:
        key = tuple(candidates)
        schema = self._schemas.get(key)
        if schema is None:
            schema = self._schemas[key] = create_model(
                "SpeakerChoice",
                speaker=(Literal[key], Field(description="Who speaks next.")),  # type: ignore[arg-type]
                reason=(str, Field(description="Why this participant, in one sentence.")),
            )
        return schema

    def _ask(self, state: Mapping[str, Any], candidates: Sequence[str]) -> list[BaseMessage]:
        system = self.prompts.speaker_selection.format(
            participants=self._lines, candidates=", ".join(candidates)
        )
        return [SystemMessage(system), *self.view(state, MANAGER)]

    def _fallback(self, floor: Floor, last: str | None, error: StructuredOutputError) -> Selection:
        return Selection(
            floor.next_in_turn(last),
            "no valid choice from the model: next in turn",
            error.usage,
            {"fallback": True, "error": str(error)},
            audit_of(error),
        )

    def select(
        self, state: Mapping[str, Any], floor: Floor, last: str | None, config: RunnableConfig
    ) -> Selection:
        """Ask the model (sync)."""
        candidates = floor.candidates(last)
        schema = self._schema(candidates)
        try:
            result = self.call.invoke(
                self._ask(state, candidates), config, schema=schema, round=state.get("round", 0)
            )
        except StructuredOutputError as error:
            return self._fallback(floor, last, error)
        choice: Any = result.parsed
        return Selection(choice.speaker, choice.reason, result.usage, {}, result.audit)

    async def aselect(
        self, state: Mapping[str, Any], floor: Floor, last: str | None, config: RunnableConfig
    ) -> Selection:
        """Ask the model (async)."""
        candidates = floor.candidates(last)
        schema = self._schema(candidates)
        try:
            result = await self.call.ainvoke(
                self._ask(state, candidates), config, schema=schema, round=state.get("round", 0)
            )
        except StructuredOutputError as error:
            return self._fallback(floor, last, error)
        choice: Any = result.parsed
        return Selection(choice.speaker, choice.reason, result.usage, {}, result.audit)
