"""The manager of a group chat: ends the chat or picks the next speaker, and routes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langchain_core.runnables import Runnable, RunnableConfig
from langgraph.graph import END
from langgraph.types import Command

from langgraph_orchestra.names import MANAGER, START_RUN
from langgraph_orchestra.nodes.route import as_mapping
from langgraph_orchestra.nodes.run import begin_run, counted, in_run, starting
from langgraph_orchestra.nodes.selectors import Floor, Selection, Selector
from langgraph_orchestra.nodes.termination import Termination
from langgraph_orchestra.state.records import audit_record

__all__ = ["ManagerNode"]


class ManagerNode(Runnable[Any, Command[Any]]):
    """Asks the termination rule, then the selector, and sends the run to the speaker.

    Every speaker's turn comes back here, so the rule is asked after every turn. A
    stop (or a selector that chooses nobody) ends the chat with the real latest answer.
    The choice, its reason and the round go to the audit trail (`routing`); a model
    selector's usage is counted under `manager`. As the `start` node (`begins=True`) it
    also records the run's start, and the first speaker is chosen with no one before.
    """

    def __init__(
        self,
        selector: Selector,
        floor: Floor,
        *,
        entries: Mapping[str, str],
        termination: Termination,
        begins: bool = False,
    ) -> None:
        """Build the node.

        Args:
            selector: Chooses the next speaker.
            floor: Who may speak after whom.
            entries: Each participant's first node (its before-gate, else its turn).
            termination: The chat's stop rule (its hard bound included).
            begins: Whether this node starts the run.
        """
        self.selector = selector
        self.floor = floor
        self.entries = dict(entries)
        self.termination = termination
        self.begins = begins
        self.name = START_RUN if begins else MANAGER

    def _before(self, input: Any) -> tuple[Mapping[str, Any], dict[str, Any], Command[Any] | None]:
        state = as_mapping(input)
        begin: dict[str, Any] = {}
        if self.begins:
            begin = {**begin_run(state), "speaker": None}
            state = in_run(state, begin)
        reason = self.termination(state)
        if reason is not None:
            return (
                state,
                begin,
                Command(update=starting(self.termination.stop(state, reason), begin), goto=END),
            )
        return state, begin, None

    def _route(
        self, state: Mapping[str, Any], begin: dict[str, Any], choice: Selection
    ) -> Command[Any]:
        detail: dict[str, Any] = {
            "selector": self.selector.label,
            "speaker": choice.speaker,
            "reason": choice.reason,
            "round": state.get("round", 0),
            **choice.detail,
        }
        record = audit_record("routing", MANAGER, **detail)
        update: dict[str, Any] = counted(choice.usage) if choice.usage else {}
        if choice.speaker is None:
            update.update(self.termination.stop(state, "completed", before=[*choice.audit, record]))
            return Command(update=starting(update, begin), goto=END)
        update.update(speaker=choice.speaker, audit=[*choice.audit, record])
        return Command(update=starting(update, begin), goto=self.entries[choice.speaker])

    def _last(self, state: Mapping[str, Any]) -> str | None:
        return None if self.begins else state.get("speaker")

    def invoke(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Command[Any]:
        """Stop or choose (sync)."""
        state, begin, stopped = self._before(input)
        if stopped is not None:
            return stopped
        choice = self.selector.select(state, self.floor, self._last(state), config or {})
        return self._route(state, begin, choice)

    async def ainvoke(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Command[Any]:
        """Stop or choose (async)."""
        state, begin, stopped = self._before(input)
        if stopped is not None:
            return stopped
        choice = await self.selector.aselect(state, self.floor, self._last(state), config or {})
        return self._route(state, begin, choice)
