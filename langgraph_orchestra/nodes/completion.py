"""Completion actions: callables run once when a run ends, whatever it ended with.

A team built with `on_end=[...]` sends every end of a run (each `goto=END` of its nodes,
each edge to `END`) to the `on_end` node instead. That node runs the actions in order,
one per step, each with the final state (`final`, `stop_reason`, `audit`, `usage`, ...),
and writes a `completion` audit record per action: `status` `done` or `failed` (a
failure is also an exception record with status `continued`; the run still ends).

Delivery is *at least once*, and once per run in every case but one: an action whose
record was written does not run again (the record is saved with the step that ran it,
so a resumed thread skips it); an action interrupted by a crash before its step was
saved runs again when the thread is resumed. Make such actions idempotent with the run's
id, `state["run"]["id"]`. A run that raises (an agent with `on_error="raise"`) has not
ended: the thread can run the failed step again, and its actions run when it ends.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeAlias

from langchain_core.runnables import Runnable, RunnableConfig
from langgraph.graph import END, StateGraph
from langgraph.types import Command, Send

from langgraph_orchestra.errors import TeamConfigError
from langgraph_orchestra.names import ON_END
from langgraph_orchestra.nodes.route import as_mapping
from langgraph_orchestra.nodes.wiring import map_nodes
from langgraph_orchestra.state.records import ExceptionRecord, audit_record, new_id, now

__all__ = ["Action", "CompletionNode", "action_name", "add_completion", "check_on_end"]

Action: TypeAlias = Callable[[Any], Awaitable[None] | None]
"""A completion action: `state -> None`, sync or async."""


def check_on_end(on_end: object) -> tuple[Action, ...]:
    """Return `on_end` as a tuple of actions (`None`: none); raise if one is not callable."""
    if on_end is None:
        return ()
    items = [on_end] if callable(on_end) else on_end
    if isinstance(items, str | Mapping) or not isinstance(items, Sequence):
        raise TeamConfigError(
            "on_end must be a list of callables state -> None (sync or async), "
            f"got {type(on_end).__name__}"
        )
    for item in items:
        if not callable(item):
            raise TeamConfigError(
                f"on_end action must be a callable state -> None (sync or async), got {item!r}"
            )
    return tuple(items)


def action_name(action: Action) -> str:
    """The name an action is recorded under: its `__name__`, else its class's."""
    return str(getattr(action, "__name__", type(action).__name__))


def _run_id(state: Mapping[str, Any]) -> str:
    return str((state.get("run") or {}).get("id") or "")


class CompletionNode(Runnable[Any, Command[Any]]):
    """Runs the next completion action not yet recorded for this run, then loops."""

    __name__ = ON_END

    def __init__(self, actions: Sequence[Action]) -> None:
        """Build the node over `actions`, run in order."""
        self.actions = tuple(actions)
        self.names = [action_name(a) for a in self.actions]

    def pending(self, state: Mapping[str, Any]) -> int | None:
        """The index of the first action without a record in this run, if any."""
        run = _run_id(state)
        recorded = {
            record["detail"].get("index")
            for record in state.get("audit") or ()
            if record.get("kind") == "completion" and record["detail"].get("run") == run
        }
        return next((i for i in range(len(self.actions)) if i not in recorded), None)

    def invoke(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Command[Any]:
        """Run the next pending action (an async one in its own event loop)."""
        state = as_mapping(input)
        index = self.pending(state)
        if index is None:
            return Command(goto=END)
        start = time.perf_counter()
        error: Exception | None = None
        try:
            result = self.actions[index](input)
            if inspect.isawaitable(result):
                asyncio.run(_awaited(result))
        except Exception as failure:
            error = failure
        return self._recorded(state, index, error, time.perf_counter() - start)

    async def ainvoke(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Command[Any]:
        """Run the next pending action, awaiting an async one."""
        state = as_mapping(input)
        index = self.pending(state)
        if index is None:
            return Command(goto=END)
        start = time.perf_counter()
        error: Exception | None = None
        try:
            result = self.actions[index](input)
            if inspect.isawaitable(result):
                await result
        except Exception as failure:
            error = failure
        return self._recorded(state, index, error, time.perf_counter() - start)

    def _recorded(
        self, state: Mapping[str, Any], index: int, error: Exception | None, latency: float
    ) -> Command[Any]:
        """The update recording action `index`'s outcome; then the next action, or the end."""
        name = self.names[index]
        detail: dict[str, Any] = {
            "action": name,
            "index": index,
            "run": _run_id(state),
            "status": "done" if error is None else "failed",
            "latency_s": round(latency, 6),
        }
        update: dict[str, Any] = {}
        if error is not None:
            record: ExceptionRecord = {
                "id": new_id(),
                "ts": now(),
                "agent": ON_END,
                "error": f"Completion action '{name}' failed: {error}",
                "error_type": type(error).__name__,
                "input": str(state.get("final") or ""),
                "status": "continued",
            }
            update["exceptions"] = [record]
            detail["error"] = record["error"]
            detail["exception_id"] = record["id"]
        update["audit"] = [audit_record("completion", ON_END, **detail)]
        return Command(update=update, goto=ON_END if index + 1 < len(self.actions) else END)


async def _awaited(result: Awaitable[Any]) -> None:
    await result


def _to_on_end(goto: Any) -> Any:
    """`goto` with `END` replaced by the `on_end` node."""
    if goto == END:
        return ON_END
    if isinstance(goto, Send | str):
        return goto
    if isinstance(goto, Sequence):
        return [ON_END if target == END else target for target in goto]
    return goto


def _redirect(output: Any) -> Any:
    if isinstance(output, Command) and output.graph is None:
        return dataclasses.replace(output, goto=_to_on_end(output.goto))
    if isinstance(output, list):
        return [_redirect(item) for item in output]
    return output


def add_completion(
    builder: StateGraph[Any, Any, Any, Any], actions: Sequence[Action], *, pattern: str
) -> None:
    """Add the `on_end` node and send every end of a run through it.

    Call it once every other node and edge is added. Each node's `goto=END` and each
    edge to `END` then leads to `on_end`, which runs `actions` and ends the run.
    """
    if not actions:
        return
    map_nodes(builder, outputs=_redirect)
    for spec in builder.nodes.values():
        if isinstance(spec.ends, tuple) and END in spec.ends:
            spec.ends = tuple(dict.fromkeys(ON_END if e == END else e for e in spec.ends))
    for source, target in list(builder.edges):
        if target == END:
            builder.edges.discard((source, target))
            builder.edges.add((source, ON_END))
    builder.add_node(
        ON_END,
        CompletionNode(actions),
        metadata={"pattern": pattern},
        destinations=(ON_END, END),
    )
