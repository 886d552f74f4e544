"""Threads of team runs in a checkpoint store: what each holds, its status, resuming it.

A run started from a team file records in its checkpoint metadata what another process
needs to pick the thread up (`RunInfo`: the team file, pattern, model override and base
URL). `read_thread` and `list_threads` read threads back from any checkpointer without
building the graph (no model, API key or team file needed); `resume_value` turns a
human's decision into the `Command` that resumes the pending interrupts; `drive` runs a
thread to its next pause or its end, reporting progress, and says where it stands.

Example:
    ```python
    with open_checkpointer(".orchestra/state.db") as saver:
        for info in list_threads(saver):
            print(info.thread_id, info.status, info.final)
    ```
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from langchain_core.messages import BaseMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver, CheckpointTuple
from langgraph.pregel import Pregel
from langgraph.types import Command, StateSnapshot, StreamMode

from langgraph_orchestra.errors import DecisionError, TeamConfigError, UnknownThreadError
from langgraph_orchestra.nodes.approval import ApprovalDecision
from langgraph_orchestra.nodes.escalation import EscalationDecision
from langgraph_orchestra.nodes.human import HumanTurn
from langgraph_orchestra.state.records import Usage
from langgraph_orchestra.state.reducers import add_usage

__all__ = [
    "THREAD_STATUSES",
    "Decision",
    "PendingInterrupt",
    "RunEvent",
    "RunInfo",
    "ThreadInfo",
    "ThreadStatus",
    "UsageRow",
    "adrive",
    "aread_thread",
    "consumed_replies",
    "describe_audit",
    "drive",
    "list_threads",
    "new_thread_id",
    "read_thread",
    "resume_value",
    "run_config",
    "usage_rows",
]

ThreadStatus: TypeAlias = Literal["running", "waiting for approval", "done", "failed"]
"""Where a thread stands."""

THREAD_STATUSES: tuple[ThreadStatus, ...] = ("running", "waiting for approval", "done", "failed")
"""Every `ThreadStatus`: `waiting for approval` has pending interrupts (an approval or an
escalated failure), `done` has a stop reason and nothing left to run, `failed` has a
task that raised, `running` is anything else (started, or stopped mid-run)."""

# Channels of the checkpoint format under which LangGraph stores a task's interrupt,
# its resume values and its error as pending writes.
_INTERRUPT = "__interrupt__"
_RESUME = "__resume__"
_ERROR = "__error__"
_SPECIAL = frozenset({_INTERRUPT, _RESUME, _ERROR})
# Keys of an `updates` stream chunk that are not nodes: the interrupts, and the flag of
# updates replayed from the cache.
_NOT_NODES = frozenset({_INTERRUPT, "__metadata__"})

_KIND_NAMES = {
    "approval": "an approval",
    "exception": "a failed agent's escalation",
    "human_turn": "a person's turn",
}
# How the command line decides each kind of interrupt, for hints.
_KIND_FLAGS = {
    "approval": "--approve, --reject TEXT, --edit FILE or --answer TEXT",
    "exception": "--retry, --skip, --supply TEXT or --abort",
    "human_turn": "--say TEXT",
}

Decision: TypeAlias = ApprovalDecision | EscalationDecision | HumanTurn
"""A human's decision on a pending interrupt (a person's message for a human seat)."""


@dataclass(frozen=True)
class RunInfo:
    """What a run records so another process can rebuild its graph."""

    spec: str | None = None
    """Absolute path of the team file."""
    team: str | None = None
    """The team's name."""
    pattern: str | None = None
    """The pattern."""
    model: str | None = None
    """The `--model` override, if any."""
    base_url: str | None = None
    """The `--base-url`, if any."""

    _KEYS = (
        ("spec", "orchestra_spec"),
        ("team", "orchestra_team"),
        ("pattern", "orchestra_pattern"),
        ("model", "orchestra_model"),
        ("base_url", "orchestra_base_url"),
    )

    def metadata(self) -> dict[str, str]:
        """Return the run's checkpoint metadata (keys prefixed `orchestra_`)."""
        return {key: value for attr, key in self._KEYS if (value := getattr(self, attr))}

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any] | None) -> RunInfo:
        """Read a `RunInfo` back from checkpoint metadata (missing keys are `None`)."""
        metadata = metadata or {}
        return cls(
            **{
                attr: str(metadata[key]) if metadata.get(key) is not None else None
                for attr, key in cls._KEYS
            }
        )


@dataclass(frozen=True)
class PendingInterrupt:
    """An interrupt waiting for a human."""

    id: str
    """The interrupt's id (resume it with `Command(resume={id: decision})`)."""
    value: Mapping[str, Any]
    """An `ApprovalRequest`, an `EscalationRequest` or a `HumanTurnRequest`."""

    @property
    def kind(self) -> str:
        """`"approval"`, `"exception"`, `"human_turn"`, or the value's `type`."""
        return str(self.value.get("type", "unknown"))

    @property
    def agent(self) -> str:
        """The agent concerned (for a human turn, the seat's name)."""
        return str(self.value.get("agent") or self.value.get("participant") or "?")


@dataclass(frozen=True)
class ThreadInfo:
    """A thread as stored: its latest state, status and pending interrupts."""

    thread_id: str
    """The thread's id."""
    status: ThreadStatus
    """Where it stands."""
    updated: str
    """When its latest checkpoint was written (ISO 8601, UTC)."""
    run: RunInfo
    """What its run recorded (team file, pattern, ...)."""
    values: Mapping[str, Any] = field(default_factory=dict)
    """Its state: messages, audit, usage, exceptions, final, stop_reason, ..."""
    interrupts: tuple[PendingInterrupt, ...] = ()
    """Interrupts waiting for a human."""
    error: str | None = None
    """The error of a failed task."""

    @property
    def final(self) -> str | None:
        """The answer, once the run has one."""
        final = self.values.get("final")
        return None if final is None else str(final)

    @property
    def stop_reason(self) -> str | None:
        """Why the run ended."""
        reason = self.values.get("stop_reason")
        return None if reason is None else str(reason)

    @property
    def messages(self) -> list[BaseMessage]:
        """The transcript."""
        return list(self.values.get("messages") or ())

    @property
    def _held(self) -> list[Mapping[str, Any]]:
        """Fan-out branch turns not yet moved into the state by the aggregator."""
        return list((self.values.get("outbox") or {}).values())

    @property
    def audit(self) -> list[dict[str, Any]]:
        """The audit trail, with held branch turns."""
        held = [record for turn in self._held for record in turn["audit"]]
        return [*(self.values.get("audit") or ()), *held]

    @property
    def usage(self) -> dict[str, Usage]:
        """Usage per participant, with held branch turns."""
        usage = dict(self.values.get("usage") or {})
        for turn in self._held:
            usage = add_usage(usage, turn["usage"])
        return usage

    @property
    def exceptions(self) -> list[dict[str, Any]]:
        """The exception queue."""
        return list(self.values.get("exceptions") or ())

    def to_json(self) -> dict[str, Any]:
        """Return the thread as JSON-ready data (messages as role/name/content)."""
        return {
            "thread_id": self.thread_id,
            "status": self.status,
            "updated": self.updated,
            "team": self.run.team,
            "pattern": self.run.pattern,
            "spec": self.run.spec,
            "model": self.run.model,
            "base_url": self.run.base_url,
            "final": self.final,
            "stop_reason": self.stop_reason,
            "error": self.error,
            "interrupts": [{"id": i.id, **i.value} for i in self.interrupts],
            "messages": [_message_json(m) for m in self.messages],
            "audit": self.audit,
            "usage": self.usage,
            "exceptions": self.exceptions,
        }


def _message_json(message: BaseMessage) -> dict[str, Any]:
    data: dict[str, Any] = {"role": message.type, "name": message.name, "content": message.text}
    calls = getattr(message, "tool_calls", None)
    if calls:
        data["tool_calls"] = [{"name": c["name"], "args": c["args"]} for c in calls]
    return data


def _where(saver: BaseCheckpointSaver[Any]) -> str:
    return f"the store ({type(saver).__name__})"


def _pending(writes: Iterable[tuple[str, str, Any]]) -> tuple[list[PendingInterrupt], str | None]:
    """Find the open interrupts and the first error among a checkpoint's pending writes."""
    by_task: dict[str, list[tuple[str, Any]]] = {}
    for task_id, channel, value in writes:
        by_task.setdefault(task_id, []).append((channel, value))
    interrupts: list[PendingInterrupt] = []
    error: str | None = None
    for task_writes in by_task.values():
        channels = {channel for channel, _ in task_writes}
        if _ERROR in channels and error is None:
            error = next(str(value) for channel, value in task_writes if channel == _ERROR)
        if _INTERRUPT not in channels or channels - _SPECIAL:
            continue  # no interrupt, or the task has since completed
        latest = [value for channel, value in task_writes if channel == _INTERRUPT][-1]
        for item in latest if isinstance(latest, Sequence) else (latest,):
            value = getattr(item, "value", None)
            interrupts.append(
                PendingInterrupt(
                    str(getattr(item, "id", "")),
                    value if isinstance(value, Mapping) else {"value": value},
                )
            )
    return interrupts, error


def _status(
    values: Mapping[str, Any],
    interrupts: Sequence[PendingInterrupt],
    error: str | None,
    *,
    started: bool,
    has_next: bool | None = None,
) -> ThreadStatus:
    if error is not None:
        return "failed"
    if interrupts:
        return "waiting for approval"
    if has_next is not None:
        return "running" if has_next or not values.get("stop_reason") else "done"
    if started and values.get("stop_reason"):
        return "done"
    return "running"


def _from_tuple(thread_id: str, latest: CheckpointTuple, run: RunInfo) -> ThreadInfo:
    values = dict(latest.checkpoint.get("channel_values") or {})
    interrupts, error = _pending(latest.pending_writes or ())
    started = (latest.metadata or {}).get("source") != "input"
    return ThreadInfo(
        thread_id=thread_id,
        status=_status(values, interrupts, error, started=started),
        updated=str(latest.checkpoint.get("ts", "")),
        run=run,
        values=values,
        interrupts=tuple(interrupts),
        error=error,
    )


def _from_snapshot(thread_id: str, snapshot: StateSnapshot, run: RunInfo) -> ThreadInfo:
    interrupts = [
        PendingInterrupt(i.id, i.value if isinstance(i.value, Mapping) else {"value": i.value})
        for i in snapshot.interrupts
    ]
    errors = [str(task.error) for task in snapshot.tasks if task.error is not None]
    error = errors[0] if errors else None
    values = dict(snapshot.values) if isinstance(snapshot.values, Mapping) else {}
    return ThreadInfo(
        thread_id=thread_id,
        status=_status(values, interrupts, error, started=True, has_next=bool(snapshot.next)),
        updated=str(snapshot.created_at or ""),
        run=run,
        values=values,
        interrupts=tuple(interrupts),
        error=error,
    )


def _run_info(tuples: Iterable[CheckpointTuple]) -> RunInfo:
    """The `RunInfo` of the newest checkpoint that has one (a resume may not write it)."""
    for item in tuples:
        info = RunInfo.from_metadata(item.metadata)
        if info.spec or info.pattern:
            return info
    return RunInfo()


def _thread_config(thread_id: str) -> RunnableConfig:
    return {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}


def _top_level(
    saver: BaseCheckpointSaver[Any], thread_id: str, items: Iterable[CheckpointTuple]
) -> list[CheckpointTuple]:
    """The thread's own checkpoints, newest first (not its subgraphs')."""
    history = [t for t in items if not t.config["configurable"].get("checkpoint_ns")]
    if not history:
        raise UnknownThreadError(thread_id, _where(saver))
    return history


def read_thread(
    saver: BaseCheckpointSaver[Any], thread_id: str, *, graph: Any = None
) -> ThreadInfo:
    """Read a thread's latest state.

    Args:
        saver: The checkpointer.
        thread_id: The thread.
        graph: The thread's compiled graph, if at hand: its `get_state` then gives the
            authoritative next tasks and interrupts. Without it the checkpoint alone is
            read (no team file, model or API key needed).

    Returns:
        The thread.

    Raises:
        UnknownThreadError: No such thread in the store.
    """
    config = _thread_config(thread_id)
    history = _top_level(saver, thread_id, saver.list(config))
    run = _run_info(history)
    if graph is not None:
        return _from_snapshot(thread_id, graph.get_state(config), run)
    latest = saver.get_tuple(config) or history[0]
    return _from_tuple(thread_id, latest, run)


async def aread_thread(
    saver: BaseCheckpointSaver[Any], thread_id: str, *, graph: Any = None
) -> ThreadInfo:
    """Read a thread's latest state from an async checkpointer (see `read_thread`).

    Raises:
        UnknownThreadError: No such thread in the store.
    """
    config = _thread_config(thread_id)
    history = _top_level(saver, thread_id, [t async for t in saver.alist(config)])
    run = _run_info(history)
    if graph is not None:
        return _from_snapshot(thread_id, await graph.aget_state(config), run)
    latest = await saver.aget_tuple(config) or history[0]
    return _from_tuple(thread_id, latest, run)


def list_threads(saver: BaseCheckpointSaver[Any]) -> list[ThreadInfo]:
    """List every thread in the store, most recently updated first."""
    by_thread: dict[str, list[CheckpointTuple]] = {}
    for item in saver.list(None):
        configurable = item.config["configurable"]
        if configurable.get("checkpoint_ns"):
            continue
        by_thread.setdefault(str(configurable["thread_id"]), []).append(item)
    threads: list[ThreadInfo] = []
    for thread_id, items in by_thread.items():
        items.sort(key=lambda t: str(t.checkpoint["id"]), reverse=True)
        threads.append(_from_tuple(thread_id, items[0], _run_info(items)))
    threads.sort(key=lambda info: info.updated, reverse=True)
    return threads


def new_thread_id(saver: BaseCheckpointSaver[Any], team: str) -> str:
    """Return a short unused thread id such as `support-3f9a1c`."""
    while True:
        thread_id = f"{team}-{secrets.token_hex(3)}"
        if saver.get_tuple({"configurable": {"thread_id": thread_id}}) is None:
            return thread_id


def run_config(thread_id: str, run: RunInfo) -> RunnableConfig:
    """Return the config of a run (or resume) on `thread_id`, recording `run`."""
    return {"configurable": {"thread_id": thread_id}, "metadata": run.metadata()}


@dataclass(frozen=True)
class RunEvent:
    """A step of a driven run: a node started, or a node finished with its update."""

    kind: Literal["started", "finished"]
    """`started` when one of the node's tasks begins, `finished` with what it wrote."""
    node: str
    """The node (an agent's node is named after the agent)."""
    update: Mapping[str, Any] = field(default_factory=dict)
    """What the finished node wrote to the state; empty when it started."""
    audit: tuple[Mapping[str, Any], ...] = ()
    """The audit records the step adds, each reported once: a fan-out branch's turn is
    reported when the branch finishes, not again when the fan-out closes."""


def _held_ids(values: Mapping[str, Any]) -> set[str]:
    """Ids of the audit records of fan-out branch turns held in the outbox."""
    outbox = values.get("outbox")
    turns = outbox.values() if isinstance(outbox, Mapping) else ()
    return {str(record.get("id")) for turn in turns for record in turn.get("audit") or ()}


class _Events:
    """Turns `tasks` and `updates` stream chunks into run events."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        # Held turns' records were reported when their branch finished; the fan-out's
        # close moves them into `audit` again.
        self.reported = _held_ids(values)

    def __call__(self, mode: str, chunk: Any) -> Iterator[RunEvent]:
        if mode == "tasks":
            if "input" in chunk:  # a task result has no input: its update follows
                yield RunEvent("started", str(chunk["name"]))
            return
        for node, value in chunk.items():
            if node in _NOT_NODES:
                continue
            # Several tasks of one node in one step stream their updates as a list.
            for update in value if isinstance(value, list) else (value,):
                update = update if isinstance(update, Mapping) else {}
                yield RunEvent("finished", node, update, self._audit(update))

    def _audit(self, update: Mapping[str, Any]) -> tuple[Mapping[str, Any], ...]:
        records = [r for r in update.get("audit") or () if str(r.get("id")) not in self.reported]
        held = _held_ids(update)
        outbox = update.get("outbox")
        for turn in outbox.values() if isinstance(outbox, Mapping) else ():
            records += [r for r in turn.get("audit") or () if str(r.get("id")) not in self.reported]
        self.reported |= held
        return tuple(records)


_STREAM_MODES: list[StreamMode] = ["tasks", "updates"]


def _saver(graph: Pregel[Any, Any, Any, Any]) -> BaseCheckpointSaver[Any]:
    saver = graph.checkpointer
    if not isinstance(saver, BaseCheckpointSaver):
        raise TeamConfigError(
            f"drive needs a graph compiled with a checkpointer, got checkpointer={saver!r}; "
            "compile it with .compile(checkpointer=...) (e.g. open_checkpointer(url))"
        )
    return saver


def drive(
    graph: Pregel[Any, Any, Any, Any],
    input: Any,
    config: RunnableConfig,
    *,
    on_event: Callable[[RunEvent], None] | None = None,
) -> ThreadInfo:
    """Run a thread until it pauses for a human or ends; return where it stands.

    Args:
        graph: The team, compiled with a checkpointer.
        input: A state update such as `{"messages": [("user", task)]}`, a
            `Command(resume=...)` (see `resume_value`), or `None` to run a failed step
            again.
        config: The run's config, with the `thread_id` (see `run_config`).
        on_event: Called with each `RunEvent` (node started, node finished with its
            update), in order, while the run goes on: for progress.

    Returns:
        The thread afterwards: `waiting for approval` with its `interrupts`, or `done`
        with `final` and `stop_reason`.

    Raises:
        TeamConfigError: The graph has no checkpointer.

    Errors the run raises (an `AgentError`, a refused decision) propagate unchanged.

    Example:
        ```python
        info = drive(team, {"messages": [("user", "Where is my refund?")]}, config)
        if info.status == "waiting for approval":
            approve = ApprovalDecision(action="approve", reviewer="ana")
            info = drive(team, resume_value(info.interrupts, approve), config)
        print(info.final, info.stop_reason)
        ```
    """
    saver = _saver(graph)
    events = _Events(graph.get_state(config).values) if on_event is not None else None
    for mode, chunk in graph.stream(input, config, stream_mode=_STREAM_MODES):
        if on_event is not None and events is not None:
            for event in events(mode, chunk):
                on_event(event)
    return read_thread(saver, str(config["configurable"]["thread_id"]), graph=graph)


async def adrive(
    graph: Pregel[Any, Any, Any, Any],
    input: Any,
    config: RunnableConfig,
    *,
    on_event: Callable[[RunEvent], None] | None = None,
) -> ThreadInfo:
    """Run a thread until it pauses for a human or ends, asynchronously (see `drive`).

    Raises:
        TeamConfigError: The graph has no checkpointer.
    """
    saver = _saver(graph)
    events = _Events((await graph.aget_state(config)).values) if on_event is not None else None
    async for mode, chunk in graph.astream(input, config, stream_mode=_STREAM_MODES):
        if on_event is not None and events is not None:
            for event in events(mode, chunk):
                on_event(event)
    return await aread_thread(saver, str(config["configurable"]["thread_id"]), graph=graph)


def consumed_replies(values: Mapping[str, Any]) -> dict[str, int]:
    """Count the model calls each agent has made in a thread (scripted replies used).

    Each successful call leaves one AI message, counted in `usage` (or in a paused
    fan-out's `outbox`); each failure that was recorded (not retried) is an exception
    record.
    """
    used: dict[str, int] = {}
    held = [turn["usage"] for turn in (values.get("outbox") or {}).values()]
    for usage_by_name in [values.get("usage") or {}, *held]:
        for name, usage in usage_by_name.items():
            used[name] = used.get(name, 0) + int(usage.get("calls", 0))
    seen: set[str] = set()
    for record in values.get("exceptions") or ():
        if record.get("id") not in seen:
            seen.add(str(record.get("id")))
            used[record["agent"]] = used.get(record["agent"], 0) + 1
    return used


def resume_value(
    interrupts: Sequence[PendingInterrupt],
    decision: Decision,
    *,
    interrupt_id: str | None = None,
) -> Command[Any]:
    """Return the `Command` that applies `decision` to the pending interrupts.

    Approval decisions go to approval requests, escalation decisions to escalated
    failures, a `HumanTurn` (a person's message) to a human seat's turn. With
    `interrupt_id` (or a unique prefix of it) only that interrupt is resumed; otherwise
    every pending interrupt of the decision's kind is.

    Raises:
        DecisionError: Nothing is pending, the id matches no (or several) interrupts,
            or the decision does not fit the interrupts.
    """
    kind = (
        "approval"
        if isinstance(decision, ApprovalDecision)
        else "human_turn"
        if isinstance(decision, HumanTurn)
        else "exception"
    )
    if not interrupts:
        raise DecisionError(
            "the thread has no pending interrupt",
            hint="see where it stands with: orchestra show THREAD",
        )
    targets = list(interrupts)
    if interrupt_id is not None:
        targets = [i for i in interrupts if i.id.startswith(interrupt_id)]
        if len(targets) != 1:
            known = ", ".join(i.id for i in interrupts)
            found = "matches no" if not targets else "matches several"
            raise DecisionError(
                f"--interrupt {interrupt_id} {found} pending interrupt; pending: {known}",
                hint="give one of the ids listed by: orchestra show THREAD",
            )
    matching = [i for i in targets if i.kind == kind]
    if not matching:
        waiting = ", ".join(f"{_KIND_NAMES.get(i.kind, i.kind)} ({i.agent})" for i in targets)
        kinds = dict.fromkeys(i.kind for i in targets if i.kind in _KIND_FLAGS)
        flags = "; or ".join(_KIND_FLAGS[k] for k in kinds) or "Command(resume=...)"
        raise DecisionError(
            f"the decision is for {_KIND_NAMES[kind]}, but the thread waits for {waiting}",
            hint=f"decide it with {flags}",
        )
    payload = decision.model_dump(exclude_none=True)
    return Command(resume={i.id: payload for i in matching})


@dataclass(frozen=True)
class UsageRow:
    """One row of a usage table."""

    participant: str
    """The agent (or manager, aggregator); `total` for the totals row."""
    calls: int
    """Model calls."""
    input_tokens: int
    """Input tokens."""
    output_tokens: int
    """Output tokens."""
    latency_s: float
    """Seconds spent in calls."""
    cost_usd: float
    """Cost in US dollars."""


def usage_rows(usage: Mapping[str, Usage]) -> list[UsageRow]:
    """Return one row per participant, then a `total` row."""
    rows = [
        UsageRow(
            name,
            int(u["calls"]),
            int(u["input_tokens"]),
            int(u["output_tokens"]),
            float(u["latency_s"]),
            float(u["cost_usd"]),
        )
        for name, u in usage.items()
    ]
    rows.append(
        UsageRow(
            "total",
            sum(r.calls for r in rows),
            sum(r.input_tokens for r in rows),
            sum(r.output_tokens for r in rows),
            sum(r.latency_s for r in rows),
            sum(r.cost_usd for r in rows),
        )
    )
    return rows


def describe_audit(record: Mapping[str, Any]) -> str:
    """Summarize an audit record's detail in a few words."""
    kind = record.get("kind")
    detail: Mapping[str, Any] = record.get("detail") or {}
    if kind == "turn":
        parts = [f"{detail.get('latency_s', 0):.2f} s"]
        if "tokens" in detail:
            parts.append(f"{detail['tokens']} tokens")
        return ", ".join(parts)
    if kind == "approval":
        text = f"{detail.get('action')} by {detail.get('reviewer')} ({detail.get('when')})"
        if detail.get("feedback"):
            text += f": {detail['feedback']}"
        return text
    if kind == "exception":
        status = detail.get("status", "")
        if "error" in detail:
            return f"failed ({status}): {detail['error']}"
        return f"escalation {status} by {detail.get('reviewer', '?')}"
    if kind == "termination":
        return f"stopped: {detail.get('reason')}"
    if kind == "routing":
        return _describe_routing(detail)
    return ", ".join(f"{key}={value}" for key, value in detail.items())


def _describe_routing(detail: Mapping[str, Any]) -> str:
    if "speaker" in detail and "selector" in detail:  # a group chat's manager
        taken = int(detail.get("round", 0))
        who = (
            f"{detail['speaker']} speaks in round {taken + 1}"
            if detail["speaker"]
            else f"the chat ends after round {taken}"
        )
        return f"{who} ({detail['selector']}): {detail.get('reason', '')}"
    if "dispatched" in detail and "decision" not in detail:
        return f"dispatched to {', '.join(map(str, detail['dispatched']))}"
    if "succeeded" in detail:
        succeeded = list(detail.get("succeeded") or ())
        total = len(succeeded) + len(detail.get("failed") or ())
        text = f"{detail.get('decision')}: {len(succeeded)} of {total} branches succeeded"
        if detail.get("quorum") is not None:
            text += f" (quorum {detail['quorum']})"
        if detail.get("aggregator"):
            text += f", aggregator {detail['aggregator']}"
        if detail.get("winner"):
            text += f", winner {detail['winner']} ({detail.get('votes')} votes)"
        return text
    return ", ".join(f"{key}={value}" for key, value in detail.items())
