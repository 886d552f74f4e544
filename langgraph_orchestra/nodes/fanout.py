"""The fan-out node: starts branches with `Send`, at most `max_concurrency` at a time."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.errors import GraphBubbleUp
from langgraph.types import Command, Overwrite, Send

from langgraph_orchestra.context import SUMMARIZER, Refreshing
from langgraph_orchestra.errors import OrchestraError
from langgraph_orchestra.names import AGGREGATE, BATCH, DISPATCH, FANOUT
from langgraph_orchestra.nodes.batch import batchable, chunk_sends
from langgraph_orchestra.nodes.route import Route, Turn, as_mapping
from langgraph_orchestra.nodes.run import begin_run, counted, in_run, starting
from langgraph_orchestra.nodes.termination import Termination
from langgraph_orchestra.records import provenance
from langgraph_orchestra.resilience import audit_of
from langgraph_orchestra.state.records import (
    AuditRecord,
    BranchTurn,
    ExceptionRecord,
    Usage,
    audit_record,
    new_id,
    now,
)
from langgraph_orchestra.state.reducers import add_usage
from langgraph_orchestra.tracing import ModelPrice

__all__ = [
    "AGGREGATE",
    "DISPATCH",
    "FANOUT",
    "FanOutNode",
    "branch_outcomes",
    "held_fields",
    "hold_turn",
    "release_fields",
    "release_turns",
]


def branch_outcomes(state: Mapping[str, Any]) -> dict[str, str | None]:
    """Each finished branch's output by agent (`None`: it gave none), held turns included."""
    outbox = state.get("outbox") or {}
    return {**(state.get("results") or {}), **{n: t["text"] for n, t in outbox.items()}}


def hold_turn(turn: Turn) -> dict[str, Any]:
    """Write a branch's accepted turn to the outbox, in one write (`Route.write`).

    The aggregator moves held turns into `messages`, `usage`, `audit` and `round` in team
    order when the fan-out closes: one write per branch instead of five keeps wide
    fan-outs cheap.
    """
    held: BranchTurn = {
        "text": turn.text,
        "messages": turn.messages,  # type: ignore[typeddict-item]
        "usage": turn.usage,
        "audit": [*turn.before, turn.record],
    }
    if turn.fields:
        held["fields"] = turn.fields
    return {"outbox": {turn.agent: held}}


def held_fields(
    outbox: Mapping[str, BranchTurn], order: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """The record fields the held turns write: by field, each writer's value in `order`."""
    writers: dict[str, dict[str, Any]] = {}
    for name in order:
        turn = outbox.get(name)
        for field, value in (turn.get("fields") or {} if turn is not None else {}).items():
            writers.setdefault(field, {})[name] = value
    return writers


def release_fields(
    outbox: Mapping[str, BranchTurn],
    order: Sequence[str],
    *,
    record: Mapping[str, Any] | None = None,
    settled: Mapping[str, tuple[str, Any]] | None = None,
) -> tuple[dict[str, Any], list[AuditRecord]]:
    """The record fields the held turns write, and one `write` audit record per field.

    `record`: the values before; `settled`: a field's writer and value where several
    branches wrote it (`settle_conflicts`; the build check leaves one owner per field in
    the patterns that settle none, so there a field has one writer).
    """
    written: dict[str, Any] = {}
    records: list[AuditRecord] = []
    for field, writers in held_fields(outbox, order).items():
        agent, value = (settled or {}).get(field) or list(writers.items())[-1]
        written[field] = value
        records.extend(provenance(agent, {field: value}, record))
    return written, records


def release_turns(
    outbox: Mapping[str, BranchTurn],
    order: Sequence[str],
    *,
    record: Mapping[str, Any] | None = None,
    settled: Mapping[str, tuple[str, Any]] | None = None,
) -> dict[str, Any]:
    """Return the update moving held turns into the transcript, usage, audit and round.

    The turns are taken in `order` (branch names); each branch's output is also written
    to `results`, and the outbox is emptied. The record fields they write are written
    too, each with its `write` audit record (`record`: the values before): `settled`
    gives a field's writer and value where several branches wrote it (else the last
    writer in `order` is taken).
    """
    if not outbox:
        return {}
    written, provenance_records = release_fields(outbox, order, record=record, settled=settled)
    messages: list[Any] = []
    audit: list[Any] = []
    usage: dict[str, Usage] = {}
    results: dict[str, str] = {}
    for name in order:
        turn = outbox.get(name)
        if turn is not None:
            messages.extend(turn["messages"])
            audit.extend(turn["audit"])
            usage = add_usage(usage, turn["usage"])
            results[name] = turn["text"]
    return {
        **written,
        "messages": messages,
        "audit": [*audit, *provenance_records],
        "usage": usage,
        "run_usage": usage,
        "round": len(results),
        "results": results,
        "outbox": Overwrite({}),
    }


class FanOutNode:
    """Starts the branches that have not run yet, within the concurrency limit.

    As `fanout` (`first=True`) it starts a fan-out: it clears the previous fan-out's
    results, and with `begins=True` it also starts the run (a fan-out inside a loop
    pattern does not). As `dispatch` it is reached each time branches finish and fills
    the free slots; with nothing left to start it hands over to `aggregate`, which
    LangGraph defers until every branch (and every gate or escalation of one) is done.

    The branches are all of `routes`, or those `select(state)` names at run time (in
    the order given; each agent at most once per fan-out).

    A branch whose context is a `Summary` sees the summary brought up to date here, once
    for the fan-out (branches that share the policy share the refresh), since a branch's
    turn runs on the view it is sent. The summarizer's usage and records are written
    with the fan-out's start; if it fails, the failure is an exception record
    (`summarizer`, continued) and the branches see the summary as it was.
    """

    def __init__(
        self,
        routes: Sequence[Route],
        *,
        max_concurrency: int | None,
        first: bool,
        begins: bool = False,
        select: Callable[[Mapping[str, Any]], Sequence[str]] | None = None,
        termination: Termination | None = None,
        join: str = AGGREGATE,
        batch_size: int = 1,
        pattern: str | None = None,
        prices: Mapping[str, ModelPrice] | None = None,
    ) -> None:
        """Build the node over the branches' routes.

        Args:
            routes: Every branch that may run.
            max_concurrency: Most branches running at once; `None` for all.
            first: Whether this node starts the fan-out (else it dispatches more).
            begins: Whether it also starts the run.
            select: Names the branches to run, at run time; `None` runs all. The
                selection is kept in the state's `planned` field, which the pattern's
                state then declares (`list[str]`, no reducer).
            termination: Asked before starting branches: a stop goes to `join` with the
                reason set, so the fan-out closes with what it has.
            join: The node that closes the fan-out.
            batch_size: Branches per task for those that cannot pause (no gate, no
                escalation, not a nested graph), sent in chunks to the `batch` node
                (`BatchNode`); 1 sends every branch as its own task.
            pattern: The pattern name, for tracing the summarizer's calls.
            prices: The price table of the summarizer's calls.
        """
        self.routes = {r.agent.name: r for r in routes}
        self.max_concurrency = max_concurrency
        self.first = first
        self.begins = begins
        self.select = select
        self.termination = termination
        self.join = join
        self.batch_size = batch_size
        self.pattern = pattern
        self.prices = prices or {}
        self.__name__ = FANOUT if first else DISPATCH

    def _planned(self, state: Mapping[str, Any]) -> list[str]:
        if not self.first:
            return list(state.get("planned") or self.routes)
        if self.select is None:
            return list(self.routes)
        names = list(dict.fromkeys(self.select(state)))
        unknown = [n for n in names if n not in self.routes]
        if unknown:
            raise OrchestraError(
                f"Fan-out selected unknown branches {unknown}; known: {list(self.routes)}"
            )
        return names

    def __call__(self, state: Any, config: RunnableConfig) -> Command[Any]:
        """Start what can start now."""
        state = as_mapping(state)
        begin: dict[str, Any] = {}
        if self.begins:
            begin = begin_run(state)
            state = in_run(state, begin)
        reason = self.termination(state) if self.termination is not None else None
        if reason is None and not self.first and state.get("stop_reason"):
            return Command(goto=self.join)
        if reason is not None:
            update: dict[str, Any] = {"stop_reason": reason}
            if self.first:
                update.update(results=Overwrite({}), outbox=Overwrite({}), dispatched=Overwrite([]))
            return Command(update=starting(update, begin), goto=self.join)
        planned = self._planned(state)
        if self.first:
            dispatched: list[str] = []
            in_flight = 0
        else:
            dispatched = list(state.get("dispatched") or ())
            outcomes = branch_outcomes(state)
            in_flight = sum(1 for name in dispatched if name not in outcomes)
        started = set(dispatched)
        pending = [self.routes[n] for n in planned if n not in started]
        if not pending and not self.first:
            return Command(goto=self.join)
        room = len(pending)
        if self.max_concurrency is not None:
            room = min(room, max(0, self.max_concurrency - in_flight))
        batch = pending[:room]
        names = [r.agent.name for r in batch]
        state, refreshed = self._summarized(batch, state, config)
        update = {
            **refreshed,
            "dispatched": Overwrite(names) if self.first else names,
            "audit": [*refreshed.get("audit", ()), audit_record("routing", None, dispatched=names)],
        }
        if self.first:
            update.update(results=Overwrite({}), outbox=Overwrite({}))
            if self.select is not None:
                update["planned"] = planned
        goto: list[Send] | str = self._sends(batch, state)
        return Command(update=starting(update, begin), goto=goto or self.join)

    def _summarized(
        self, batch: Sequence[Route], state: Mapping[str, Any], config: RunnableConfig | None
    ) -> tuple[Mapping[str, Any], dict[str, Any]]:
        """Bring the branches' summaries up to date: the state they are seen in, the update.

        Each summary is refreshed once (for the first branch that shows it), failed or not.
        """
        summaries: dict[str, Any] = {}
        usage: dict[str, Usage] = {}
        audit: list[AuditRecord] = []
        exceptions: list[ExceptionRecord] = []
        done: set[str] = set()
        for route in batch:
            view = route.view
            if not isinstance(view, Refreshing) or view.key in done:
                continue
            done.add(view.key)
            current = {**state, "summaries": {**(state.get("summaries") or {}), **summaries}}
            try:
                refreshed = view.refresh(
                    current,
                    route.agent.name,
                    config,
                    pattern=self.pattern or FANOUT,
                    prices=self.prices,
                )
            except GraphBubbleUp:
                raise
            except Exception as error:  # the branches see the summary as it was
                audit.extend(audit_of(error))
                exceptions.append(_summary_failed(state, error))
                continue
            if refreshed is not None:
                summaries.update(refreshed.summaries)
                usage = add_usage(usage, refreshed.usage)
                audit.extend(refreshed.audit)
        update: dict[str, Any] = {}
        if summaries:
            update["summaries"] = summaries
            state = {**state, "summaries": {**(state.get("summaries") or {}), **summaries}}
        if usage:
            update.update(counted(usage))
        if audit:
            update["audit"] = audit
        if exceptions:
            update["exceptions"] = exceptions
        return state, update

    def _sends(self, batch: Sequence[Route], state: Mapping[str, Any]) -> list[Send]:
        """One `Send` per branch, or per chunk of `batch_size` branches that cannot pause."""
        sends: list[Send] = []
        chunked: list[tuple[str, Any]] = []
        for route in batch:
            view = route.view(state, route.agent.name)
            if self.batch_size > 1 and batchable(route.agent):
                chunked.append((route.agent.name, view))
            else:
                sends.append(route.start(view, route.snapshot(state)))
        return sends + chunk_sends(chunked, self.batch_size, BATCH)


def _summary_failed(state: Mapping[str, Any], error: Exception) -> ExceptionRecord:
    """The exception record of a summarizer that failed before a fan-out (it goes on)."""
    messages = state.get("messages") or ()
    return {
        "id": new_id(),
        "ts": now(),
        "agent": SUMMARIZER,
        "error": str(error),
        "error_type": type(error).__name__,
        "input": messages[-1].text if messages else "",
        "status": "continued",
    }
