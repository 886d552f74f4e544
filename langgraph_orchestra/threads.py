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

import dataclasses
import json
import re
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NotRequired, TypeAlias, get_args, get_origin, get_type_hints

from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.runnables import RunnableConfig
from langgraph.channels import DeltaChannel
from langgraph.checkpoint.base import BaseCheckpointSaver, CheckpointTuple, DeltaChannelHistory
from langgraph.errors import is_invalid_resume
from langgraph.pregel import Pregel
from langgraph.types import Command, StateSnapshot, StreamMode
from pydantic import BaseModel, ValidationError

from langgraph_orchestra.checkpoint import _redact
from langgraph_orchestra.errors import (
    DecisionError,
    InputError,
    TeamConfigError,
    UnknownThreadError,
)
from langgraph_orchestra.locks import athread_lock, thread_lock
from langgraph_orchestra.names import AGGREGATE, MANAGER, PLANNER, fallback_name
from langgraph_orchestra.nodes.approval import ApprovalDecision
from langgraph_orchestra.nodes.conflicts import CONFLICT, ConflictDecision, SplitDecision
from langgraph_orchestra.nodes.escalation import EscalationDecision
from langgraph_orchestra.nodes.handoff import HandoffLimitDecision
from langgraph_orchestra.nodes.human import HumanTurn
from langgraph_orchestra.nodes.ledgers import PlanReviewDecision
from langgraph_orchestra.nodes.plans import PlanApprovalDecision
from langgraph_orchestra.nodes.tool_approval import ToolApprovalDecision
from langgraph_orchestra.redaction import redact_data
from langgraph_orchestra.state.records import Usage
from langgraph_orchestra.state.reducers import add_usage
from langgraph_orchestra.state.schemas import LIBRARY_RECORDS, OrchestraState
from langgraph_orchestra.tracing import team_config

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
    "aused_replies",
    "check_resume",
    "consumed_replies",
    "describe_audit",
    "describe_step",
    "drive",
    "field_history",
    "list_threads",
    "new_thread_id",
    "read_thread",
    "resume_value",
    "run_config",
    "usage_rows",
    "used_replies",
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
    "tool_approval": "a tool call's approval",
    "handoff_limit": "a decision at a handoff limit",
    "user_turn": "the user's reply",
    "human_help": "a person's help",
    "plan_review": "a plan review",
    "plan_approval": "a plan approval",
    "conflict": "a record conflict",
    "disagreement": "a split decision",
}
# How the command line decides each kind of interrupt, for hints.
_KIND_FLAGS = {
    "approval": "--approve, --reject TEXT, --edit FILE or --answer TEXT",
    "exception": "--retry, --skip, --supply TEXT or --abort",
    "human_turn": "--say TEXT",
    "tool_approval": "--approve, --reject TEXT or --edit FILE (the arguments as JSON)",
    "handoff_limit": "--continue AGENT, --answer TEXT or --end",
    "user_turn": "--say TEXT",
    "human_help": "--say TEXT",
    "plan_review": "--approve, --reject TEXT or --edit FILE (the plan's steps, one per line)",
    "plan_approval": '--approve, --reject TEXT or --edit FILE (the plan as JSON {"steps": [...]})',
    "conflict": "--pick AGENT or --supply VALUE (the field's value)",
    "disagreement": "--pick AGENT, --supply TEXT (the answer) or --abort",
}

Decision: TypeAlias = (
    ApprovalDecision
    | EscalationDecision
    | HumanTurn
    | ToolApprovalDecision
    | HandoffLimitDecision
    | PlanReviewDecision
    | PlanApprovalDecision
    | ConflictDecision
    | SplitDecision
)
"""A human's decision on a pending interrupt (a person's message for a human seat, the
user's reply in an interactive handoff team, or an answer to an agent's question; a
reviewer's decision on a magentic manager's plan or on a planner-executor's plan; a
person's settlement of a fan-out's record conflict or split decision)."""

_DECISION_KINDS: Mapping[type[Any], tuple[str, ...]] = {
    ApprovalDecision: ("approval",),
    EscalationDecision: ("exception",),
    HumanTurn: ("human_turn", "user_turn", "human_help"),
    ToolApprovalDecision: ("tool_approval",),
    HandoffLimitDecision: ("handoff_limit",),
    PlanReviewDecision: ("plan_review",),
    PlanApprovalDecision: ("plan_approval",),
    ConflictDecision: ("conflict",),
    SplitDecision: ("disagreement",),
}
"""The kinds of interrupt each decision resumes (the interrupt value's `type`)."""

# The schema a decision on each kind of interrupt must fit.
_PLAN_AUTHORS = {"plan_review": MANAGER, "plan_approval": PLANNER, "disagreement": AGGREGATE}
"""Who an interrupt of each kind that names no agent concerns: the plan's author, the
aggregator whose pick a split decision replaces."""

_DECISIONS: dict[str, type[BaseModel]] = {
    kind: decision for decision, kinds in _DECISION_KINDS.items() for kind in kinds
}


@dataclass(frozen=True)
class RunInfo:
    """What a run records so another process can rebuild its graph."""

    spec: str | None = None
    """Absolute path of the team file."""
    spec_sha256: str | None = None
    """The SHA-256 of the team file when the run started (`orchestra resume` checks it)."""
    team: str | None = None
    """The team's name."""
    pattern: str | None = None
    """The pattern."""
    model: str | None = None
    """The `--model` override, if any."""
    base_url: str | None = None
    """The `--base-url`, if any; a password in it is stored as `***`."""
    prices: str | None = None
    """The `--price` values, if any, space-separated (`MODEL=IN/OUT ...`)."""

    _KEYS = (
        ("spec", "orchestra_spec"),
        ("spec_sha256", "orchestra_spec_sha256"),
        ("team", "orchestra_team"),
        ("pattern", "orchestra_pattern"),
        ("model", "orchestra_model"),
        ("base_url", "orchestra_base_url"),
        ("prices", "orchestra_prices"),
    )

    def metadata(self) -> dict[str, str]:
        """Return the run's checkpoint metadata (keys prefixed `orchestra_`).

        The base URL's password, if any, is replaced by `***`: metadata is readable by
        anyone who can read the store (`orchestra show --json` prints it).
        """
        metadata = {key: value for attr, key in self._KEYS if (value := getattr(self, attr))}
        if self.base_url:
            metadata["orchestra_base_url"] = _redact(self.base_url)
        return metadata

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
    """An `ApprovalRequest`, `EscalationRequest`, `HumanTurnRequest`,
    `ToolApprovalRequest`, `HandoffLimitRequest`, `UserTurnRequest`,
    `HumanHelpRequest`, `PlanReviewRequest`, `PlanApprovalRequest`, `ConflictRequest` or
    `SplitRequest`."""

    @property
    def kind(self) -> str:
        """The value's `type` (`approval`, `exception`, `human_turn`, `tool_approval`, ...)."""
        return str(self.value.get("type", "unknown"))

    @property
    def agent(self) -> str:
        """The agent concerned.

        For a human turn, the seat's name; for a plan, its author; for a record conflict,
        the field; for a split decision, the aggregator.
        """
        named = self.value.get("agent") or self.value.get("participant")
        if self.kind == "conflict":
            named = self.value.get("field")
        return str(named or _PLAN_AUTHORS.get(self.kind, "?"))


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

    def redacted(self, redactor: Callable[[str], str] | None) -> ThreadInfo:
        """Return the thread with every text in its state, interrupts and error redacted.

        What `orchestra show` prints of a team built with `redact=`; ids, statuses and
        numbers are kept. `None` returns the thread as it is.
        """
        if redactor is None:
            return self
        return dataclasses.replace(
            self,
            values=redact_data(dict(self.values), redactor),
            interrupts=tuple(
                PendingInterrupt(i.id, redact_data(dict(i.value), redactor))
                for i in self.interrupts
            ),
            error=None if self.error is None else redactor(self.error),
        )

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
            # Redacted again: a store written by an older version may hold the password.
            "base_url": _redact(self.run.base_url) if self.run.base_url else None,
            "prices": self.run.prices,
            "spec_sha256": self.run.spec_sha256,
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
    by_task, error = _paused_tasks(writes)
    return [i for interrupts in by_task.values() for i in interrupts], error


def _paused_tasks(
    writes: Iterable[tuple[str, str, Any]],
) -> tuple[dict[str, list[PendingInterrupt]], str | None]:
    """The open interrupts of each paused task, and the first error, of pending writes."""
    by_task: dict[str, list[tuple[str, Any]]] = {}
    for task_id, channel, value in writes:
        by_task.setdefault(task_id, []).append((channel, value))
    paused: dict[str, list[PendingInterrupt]] = {}
    error: str | None = None
    for task_id, task_writes in by_task.items():
        channels = {channel for channel, _ in task_writes}
        if _ERROR in channels and error is None:
            failure = next(str(value) for channel, value in task_writes if channel == _ERROR)
            if not _refused_decision(failure):
                error = failure
        if _INTERRUPT not in channels or channels - _SPECIAL:
            continue  # no interrupt, or the task has since completed
        latest = [value for channel, value in task_writes if channel == _INTERRUPT][-1]
        for item in latest if isinstance(latest, Sequence) else (latest,):
            value = getattr(item, "value", None)
            paused.setdefault(task_id, []).append(
                PendingInterrupt(
                    str(getattr(item, "id", "")),
                    value if isinstance(value, Mapping) else {"value": value},
                )
            )
    return paused, error


_REFUSAL = re.compile(r"\d+ validation errors? for (\w+)")


def _refused_decision(error: str) -> bool:
    """Whether a task's error is a decision its interrupt refused.

    LangGraph stores the refusal (a `ValidationError` of the decision's schema) as the
    task's error, and keeps it after the interrupt is answered again; but the interrupt
    stayed open: the thread waited for a decision, it did not fail.
    """
    found = _REFUSAL.match(error)
    return found is not None and found.group(1) in {d.__name__ for d in _DECISIONS.values()}


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


def _delta_channels() -> dict[str, DeltaChannel[Any]]:
    """The state's `DeltaChannel`s by key, typed as LangGraph types them (from the schema)."""
    channels: dict[str, DeltaChannel[Any]] = {}
    for key, hint in get_type_hints(OrchestraState, include_extras=True).items():
        if get_origin(hint) is NotRequired:
            (hint,) = get_args(hint)
        for meta in getattr(hint, "__metadata__", ()):
            if isinstance(meta, DeltaChannel):
                channels[key] = DeltaChannel(
                    meta.reducer, get_args(hint)[0], snapshot_frequency=meta.snapshot_frequency
                )
    return channels


def _to_replay(latest: CheckpointTuple) -> list[str]:
    """The delta channels whose value `latest` does not store (its ancestors' writes do)."""
    checkpoint = latest.checkpoint
    versions, stored = checkpoint["channel_versions"], checkpoint["channel_values"]
    return [key for key in _delta_channels() if key in versions and key not in stored]


def _values(latest: CheckpointTuple, history: Mapping[str, DeltaChannelHistory]) -> dict[str, Any]:
    """The state values of `latest`, its delta channels rebuilt from `history`.

    A delta channel is stored whole only every few steps (a snapshot); in between its
    value is its last snapshot plus the writes saved since, replayed through its reducer.
    """
    values = dict(latest.checkpoint.get("channel_values") or {})
    for key, spec in _delta_channels().items():
        if key in history:
            channel = spec.from_checkpoint(history[key].get("seed"))
            channel.replay_writes(history[key]["writes"])
        elif key in values:  # a snapshot, or a value written before the delta channels
            channel = spec.from_checkpoint(values[key])
        else:
            continue
        values[key] = channel.get()
    return values


def _history(
    saver: BaseCheckpointSaver[Any], latest: CheckpointTuple
) -> Mapping[str, DeltaChannelHistory]:
    keys = _to_replay(latest)
    return saver.get_delta_channel_history(config=latest.config, channels=keys) if keys else {}


async def _ahistory(
    saver: BaseCheckpointSaver[Any], latest: CheckpointTuple
) -> Mapping[str, DeltaChannelHistory]:
    keys = _to_replay(latest)
    if not keys:
        return {}
    return await saver.aget_delta_channel_history(config=latest.config, channels=keys)


def _from_tuple(
    thread_id: str,
    latest: CheckpointTuple,
    run: RunInfo,
    history: Mapping[str, DeltaChannelHistory],
) -> ThreadInfo:
    values = _values(latest, history)
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
    errors = [
        str(task.error)
        for task in snapshot.tasks
        if task.error is not None and not _refused_decision(str(task.error))
    ]
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
    return _from_tuple(thread_id, latest, run, _history(saver, latest))


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
    return _from_tuple(thread_id, latest, run, await _ahistory(saver, latest))


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
        latest = items[0]
        threads.append(_from_tuple(thread_id, latest, _run_info(items), _history(saver, latest)))
    threads.sort(key=lambda info: info.updated, reverse=True)
    return threads


def new_thread_id(saver: BaseCheckpointSaver[Any], team: str) -> str:
    """Return a short unused thread id such as `support-3f9a1c`."""
    while True:
        thread_id = f"{team}-{secrets.token_hex(3)}"
        if saver.get_tuple({"configurable": {"thread_id": thread_id}}) is None:
            return thread_id


def run_config(thread_id: str, run: RunInfo) -> RunnableConfig:
    """Return the config of a run (or resume) on `thread_id`, recording `run`.

    With a team name, the root run is named after the team, tagged `orchestra` and
    `pattern:<p>`, with `team` and `pattern` metadata (`tracing.team_config`).
    """
    config: RunnableConfig = {"configurable": {"thread_id": thread_id}}
    metadata: dict[str, Any] = {}
    if run.team:
        named = team_config(run.team, run.pattern)
        config["run_name"] = named["run_name"]
        config["tags"] = named["tags"]
        metadata.update(named["metadata"])
    config["metadata"] = {**metadata, **run.metadata()}
    return config


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
        # A resumed step first replays the writes of its tasks that finished before the
        # pause (flagged as cached): they were reported by the run that made them.
        replayed = bool((chunk.get("__metadata__") or {}).get("cached"))
        for node, value in chunk.items():
            if node in _NOT_NODES:
                continue
            # Several tasks of one node in one step stream their updates as a list.
            for update in value if isinstance(value, list) else (value,):
                update = update if isinstance(update, Mapping) else {}
                audit = self._audit(update)
                if not replayed:
                    yield RunEvent("finished", node, update, audit)

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

    The thread's lock (`locks.thread_lock`) is held throughout, so a decision applies once
    to the pause it was made for: give it as `{interrupt_id: decision}` (as
    `resume_value` does); a second process deciding the same pause gets a
    `DecisionError` and writes nothing.

    Raises:
        TeamConfigError: The graph has no checkpointer.
        InputError: The input writes the library's records (`LIBRARY_RECORDS`).
        DecisionError: A `Command` that does not fit the pending interrupts (see
            `check_resume`); nothing is written.
        UnknownThreadError: A resume names a thread the store does not hold.

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
    thread_id = str(config["configurable"]["thread_id"])
    _refuse_records(input)
    # One process at a time: a decision is checked against the interrupts still pending
    # under the thread's lock, and applied before another process may look.
    with thread_lock(saver, thread_id):
        if isinstance(input, Command) and (input.resume is not None or _empty(input)):
            check_resume(read_thread(saver, thread_id, graph=graph), input)
        events = _Events(graph.get_state(config).values) if on_event is not None else None
        try:
            for mode, chunk in graph.stream(input, config, stream_mode=_STREAM_MODES):
                if on_event is not None and events is not None:
                    for event in events(mode, chunk):
                        on_event(event)
        except ValidationError as error:
            if not is_invalid_resume(error):
                raise
            raise _refused(error) from None
        return read_thread(saver, thread_id, graph=graph)


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
    thread_id = str(config["configurable"]["thread_id"])
    _refuse_records(input)
    async with athread_lock(saver, thread_id):
        if isinstance(input, Command) and (input.resume is not None or _empty(input)):
            check_resume(await aread_thread(saver, thread_id, graph=graph), input)
        state = await graph.aget_state(config)
        events = _Events(state.values) if on_event is not None else None
        try:
            async for mode, chunk in graph.astream(input, config, stream_mode=_STREAM_MODES):
                if on_event is not None and events is not None:
                    for event in events(mode, chunk):
                        on_event(event)
        except ValidationError as error:
            if not is_invalid_resume(error):
                raise
            raise _refused(error) from None
        return await aread_thread(saver, thread_id, graph=graph)


_NO_CALL = frozenset({"PreconditionError", "RecordConflict", "CircuitOpenError"})
"""Exceptions recorded without a model call (an open breaker refuses the call)."""


def consumed_replies(values: Mapping[str, Any]) -> dict[str, int]:
    """Count the model calls each agent has made in a thread (scripted replies used).

    Each successful call leaves one AI message, counted in `usage` (or in a paused
    fan-out's `outbox`); each failure that was recorded (not retried) is an exception
    record (but an agent stopped by its `requires`, a fan-out's record conflict, or an
    open breaker made no call). Calls are counted per model of a fallback chain: the
    participant's own model under its name, its fallbacks as `name/fallbackN`
    (`names.fallback_name`), from the `fallback` audit records. A nested team's members
    are counted by path (`team/member`): their failures reach this state only as its
    `exception` audit records.
    """
    used: dict[str, int] = {}
    outbox = (values.get("outbox") or {}).values()
    for usage_by_name in [values.get("usage") or {}, *(turn["usage"] for turn in outbox)]:
        for name, usage in usage_by_name.items():
            used[name] = used.get(name, 0) + int(usage.get("calls", 0))
    seen: set[str] = set()
    for record in values.get("exceptions") or ():
        if record.get("error_type") in _NO_CALL:
            continue
        if record.get("id") not in seen:
            seen.add(str(record.get("id")))
            used[record["agent"]] = used.get(record["agent"], 0) + 1
    for record in values.get("audit") or ():
        detail = record.get("detail") or {}
        agent = str(record.get("agent") or "")
        if record.get("kind") != "exception" or "/" not in agent:
            continue
        if detail.get("error_type") in _NO_CALL or detail.get("exception_id") in seen:
            continue
        seen.add(str(detail.get("exception_id")))
        used[agent] = used.get(agent, 0) + 1
    audit = [*(values.get("audit") or ()), *(r for t in outbox for r in t.get("audit") or ())]
    _by_model(used, audit)
    return used


def _by_model(used: dict[str, int], audit: Iterable[Mapping[str, Any]]) -> None:
    """Move the calls that fallbacks made from their participant to each model of the chain.

    Usage and exception records count a call under its participant, whichever model
    made it; a `fallback` record says which models failed (in chain order; an open
    breaker's failure made no call) and which one answered (with `calls`, how many calls
    it made; 1 by default).
    """
    seen: set[str] = set()
    for record in audit:
        if record.get("kind") != "fallback" or str(record.get("id")) in seen:
            continue
        seen.add(str(record.get("id")))
        who, detail = str(record.get("agent")), record.get("detail") or {}
        failed = [f for f in detail.get("failed") or () if isinstance(f, Mapping)]
        if detail.get("model") is not None:
            moved = int(detail.get("calls", 1))
        else:  # its exception record counted one call, unless the last model made none
            moved = int(bool(failed) and failed[-1].get("error_type") not in _NO_CALL)
        used[who] = max(0, used.get(who, 0) - moved)
        for i, failure in enumerate(failed):
            if failure.get("error_type") not in _NO_CALL:
                name = fallback_name(who, i)
                used[name] = used.get(name, 0) + 1
        if detail.get("model") is not None:
            name = fallback_name(who, len(failed))
            used[name] = used.get(name, 0) + moved


def used_replies(saver: BaseCheckpointSaver[Any], thread_id: str) -> dict[str, int]:
    """Count the model replies each agent has used in a thread, paused turns included.

    `consumed_replies` counts the turns in the thread's state. A turn that paused
    mid-way (a tool call waiting for approval) is not there yet: the calls its agent
    made are in the checkpoint of the turn's subgraph (namespace `agent:task`), counted
    here as that agent's messages. A nested team that paused (an approval inside it) is
    counted from its own checkpoint, its members named by path (`team/member`) as its
    usage is once its turn ends, at any depth.

    Raises:
        UnknownThreadError: No such thread in the store.
    """
    items = list(saver.list({"configurable": {"thread_id": thread_id}}))
    top = _top_level(saver, thread_id, items)
    latest = saver.get_tuple(_thread_config(thread_id)) or top[0]
    used = consumed_replies(_values(latest, _history(saver, latest)))
    for prefix, item in _paused_teams(items, latest, used):
        _add(used, prefix, consumed_replies(_values(item, _history(saver, item))))
    return used


async def aused_replies(saver: BaseCheckpointSaver[Any], thread_id: str) -> dict[str, int]:
    """Count the model replies each agent has used in a thread, from an async store.

    See `used_replies`.

    Raises:
        UnknownThreadError: No such thread in the store.
    """
    items = [item async for item in saver.alist({"configurable": {"thread_id": thread_id}})]
    top = _top_level(saver, thread_id, items)
    latest = await saver.aget_tuple(_thread_config(thread_id)) or top[0]
    used = consumed_replies(_values(latest, await _ahistory(saver, latest)))
    for prefix, item in _paused_teams(items, latest, used):
        _add(used, prefix, consumed_replies(_values(item, await _ahistory(saver, item))))
    return used


def _add(used: dict[str, int], prefix: str, counts: Mapping[str, int]) -> None:
    """Add `counts` to `used`, each name under `prefix` (`team/`)."""
    for name, count in counts.items():
        used[prefix + name] = used.get(prefix + name, 0) + count


def _paused_teams(
    items: Sequence[CheckpointTuple], latest: CheckpointTuple, used: dict[str, int]
) -> list[tuple[str, CheckpointTuple]]:
    """Walk the subgraphs of the tasks paused in `latest`, at any depth.

    Each is a model turn (its agent's calls are its messages named after it, added to
    `used`) or a nested team, returned with the prefix of its members' names (`team/`,
    `outer/inner/`) for the caller to count its state with `consumed_replies` (a model
    turn's state counts nothing there); the walk goes on into its own paused tasks.
    """
    found: list[tuple[str, CheckpointTuple]] = []
    pending: list[tuple[str, str, CheckpointTuple]] = [("", "", latest)]
    while pending:
        namespace, prefix, checkpoint = pending.pop(0)
        paused, _ = _paused_tasks(checkpoint.pending_writes or ())
        newest: dict[str, CheckpointTuple] = {}
        for item in items:
            ns = str(item.config["configurable"].get("checkpoint_ns") or "")
            below = ns.removeprefix(f"{namespace}|") if namespace else ns
            if below == ns and namespace:
                continue  # not below this checkpoint
            if below.partition(":")[2] in paused and (
                ns not in newest or str(item.checkpoint["id"]) > str(newest[ns].checkpoint["id"])
            ):
                newest[ns] = item
        for ns, item in newest.items():
            name = ns.rpartition("|")[2].partition(":")[0]
            messages = (item.checkpoint.get("channel_values") or {}).get("messages") or ()
            calls = sum(1 for m in messages if isinstance(m, AIMessage) and m.name == name)
            if calls:
                used[prefix + name] = used.get(prefix + name, 0) + calls
            found.append((f"{prefix}{name}/", item))
            pending.append((ns, f"{prefix}{name}/", item))
    return found


def _problems(error: ValidationError) -> str:
    """A pydantic error on one line: `field: message; ...`."""
    parts = []
    for problem in error.errors():
        where = ".".join(map(str, problem["loc"]))
        message = str(problem["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def _refuse_records(input: Any) -> None:
    """Refuse input that writes the library's own records (they would be dropped)."""
    update = input.update if isinstance(input, Command) else input
    if isinstance(update, Mapping):
        written = [key for key in LIBRARY_RECORDS if key in update]
        if written:
            raise InputError(
                f"The input writes {written}: {', '.join(LIBRARY_RECORDS)} are written by "
                "the library only; leave them out"
            )


def _refused(error: ValidationError) -> DecisionError:
    """A decision the interrupt refused (its schema, or a validator on human content)."""
    return DecisionError(
        f"the decision was refused: {_problems(error)}",
        hint="nothing was written and the interrupt is still open: correct it and decide again",
    )


def _empty(command: Command[Any]) -> bool:
    return command.resume is None and command.update is None and not command.goto


def check_resume(thread: ThreadInfo, command: Command[Any]) -> None:
    """Refuse a `Command` that would not apply a decision to `thread`'s pending interrupts.

    LangGraph lets some mistakes pass silently (an empty resume map returns the same
    interrupt; an unknown interrupt id is dropped; a finished thread ignores a resume);
    `drive` asks this first, so each one is a clear error and nothing is written.

    Raises:
        DecisionError: The command carries nothing; the thread waits for no decision; the
            resume map is empty or names an interrupt that is not pending; a single value
            is given while several interrupts are pending; or a decision does not fit
            its interrupt's schema.
    """
    resume = command.resume
    if resume is None:
        if _empty(command):
            raise DecisionError(
                "Command() carries nothing: give resume=DECISION for the pending "
                "interrupt (or update=... / goto=...)",
                hint="build it with resume_value(thread.interrupts, decision)",
            )
        return
    pending = {i.id: i for i in thread.interrupts}
    ids = ", ".join(pending)
    if not pending:
        where = thread.status + (f", {thread.stop_reason}" if thread.stop_reason else "")
        raise DecisionError(
            f"thread '{thread.thread_id}' waits for no decision ({where}): nothing to "
            "resume (a decision may already have been applied)",
            hint="see where it stands with: orchestra show THREAD; give it a new task "
            "with {'messages': [('user', ...)]}",
        )
    if isinstance(resume, Mapping) and not resume:
        raise DecisionError(
            "the resume value is empty: give a decision such as {'action': 'approve'}, or "
            f"{{interrupt_id: decision}} for the pending interrupts: {ids}"
        )
    if isinstance(resume, Mapping) and all(isinstance(v, Mapping) for v in resume.values()):
        unknown = [str(key) for key in resume if key not in pending]
        if unknown:
            raise DecisionError(
                f"interrupt '{unknown[0]}' is not pending: it was already decided (the thread "
                f"moved on) or never asked; pending: {ids}",
                hint="see the pending interrupts with: orchestra show THREAD",
            )
        decisions = {str(key): value for key, value in resume.items()}
    elif len(pending) > 1:
        raise DecisionError(
            f"{len(pending)} interrupts are pending ({ids}): give {{interrupt_id: decision}}",
            hint="build it with resume_value(thread.interrupts, decision, interrupt_id=...)",
        )
    else:
        decisions = {next(iter(pending)): resume}
    for interrupt_id, value in decisions.items():
        target = pending[interrupt_id]
        schema = _DECISIONS.get(target.kind)
        if schema is None or isinstance(value, schema):
            continue
        try:
            schema.model_validate(value)
        except ValidationError as error:
            raise DecisionError(
                f"the decision for {_KIND_NAMES[target.kind]} ({target.agent}) is invalid: "
                f"{_problems(error)}",
                hint=f"decide it with {_KIND_FLAGS[target.kind]}",
            ) from None


def resume_value(
    interrupts: Sequence[PendingInterrupt],
    decision: Decision,
    *,
    interrupt_id: str | None = None,
) -> Command[Any]:
    """Return the `Command` that applies `decision` to the pending interrupts.

    Approval decisions go to approval requests, escalation decisions to escalated
    failures, tool-approval decisions to tool calls waiting for approval, handoff-limit
    decisions to handoff limits, plan-review decisions to a magentic manager's plan
    waiting for review, plan-approval decisions to a planner-executor's plan waiting
    for approval, and a `HumanTurn` (a person's message) to a human seat's turn,
    an interactive handoff team's wait for the user, or an agent's `escalate_to_human`
    question. With `interrupt_id` (or a unique prefix of it) only
    that interrupt is resumed; otherwise every pending interrupt of the decision's kind
    is.

    Raises:
        DecisionError: Nothing is pending, the id matches no (or several) interrupts,
            or the decision does not fit the interrupts.
    """
    kinds = _DECISION_KINDS[type(decision)]
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
    matching = [i for i in targets if i.kind in kinds]
    if not matching:
        waiting = ", ".join(f"{_KIND_NAMES.get(i.kind, i.kind)} ({i.agent})" for i in targets)
        hints = dict.fromkeys(_KIND_FLAGS[i.kind] for i in targets if i.kind in _KIND_FLAGS)
        flags = "; or ".join(hints) or "Command(resume=...)"
        raise DecisionError(
            f"the decision is for {_KIND_NAMES[kinds[0]]}, but the thread waits for {waiting}",
            hint=f"decide it with {flags}",
        )
    payload = decision.model_dump(exclude_none=True)
    return Command(resume={i.id: payload for i in matching})


@dataclass(frozen=True)
class UsageRow:
    """One row of a usage table.

    Unknown usage is shown as unknown, never as 0: `tokens(...)` and `cost` give the
    text to show (`"1234"`, `"≥ 1234"` when some calls reported no usage, `"unknown"`;
    `"$0.0012"`, `"≥ $0.0012"`, `"unpriced"`, `"unknown"`).
    """

    participant: str
    """The agent (or manager, aggregator); `total` for the totals row."""
    calls: int
    """Model calls."""
    input_tokens: int
    """Input tokens of the calls that reported usage."""
    output_tokens: int
    """Output tokens of the calls that reported usage."""
    latency_s: float
    """Seconds spent in calls."""
    cost_usd: float
    """Cost in US dollars of the priced calls."""
    tool_calls: int = 0
    """Tool calls made in the participant's turns."""
    tool_errors: int = 0
    """Tool calls that failed."""

    @property
    def error_rate(self) -> float | None:
        """The share of tool calls that failed (`None` without tool calls)."""
        return self.tool_errors / self.tool_calls if self.tool_calls else None

    unknown_usage_calls: int = 0
    """Calls that reported no usage (their tokens and cost are unknown)."""
    unpriced_calls: int = 0
    """Calls of models the price table does not list (their cost is unknown)."""
    unpriced_models: tuple[str, ...] = ()
    """Those models' names."""

    @property
    def tokens_known(self) -> bool:
        """Whether every call reported its tokens."""
        return not self.unknown_usage_calls

    @property
    def cost_known(self) -> bool:
        """Whether every call's cost is known."""
        return self.tokens_known and not self.unpriced_calls

    def tokens(self, count: int) -> str:
        """Show a token count of this row (`input_tokens`, `output_tokens` or their sum)."""
        if not self.unknown_usage_calls:
            return str(count)
        if self.unknown_usage_calls >= self.calls:
            return "unknown"
        return f"≥ {count}"

    @property
    def cost(self) -> str:
        """Show the cost of this row."""
        if self.cost_known:
            return f"${self.cost_usd:.4f}"
        unknown = self.unknown_usage_calls + self.unpriced_calls
        if unknown >= self.calls:
            return "unknown" if self.unknown_usage_calls else "unpriced"
        return f"≥ ${self.cost_usd:.4f}"


def usage_rows(usage: Mapping[str, Usage]) -> list[UsageRow]:
    """Return one row per participant, then a `total` row (the sum of the rows)."""
    rows = [
        UsageRow(
            name,
            int(u["calls"]),
            int(u["input_tokens"]),
            int(u["output_tokens"]),
            float(u["latency_s"]),
            float(u["cost_usd"]),
            int(u.get("tool_calls", 0)),
            int(u.get("tool_errors", 0)),
            int(u.get("unknown_usage_calls", 0)),
            int(u.get("unpriced_calls", 0)),
            tuple(u.get("unpriced_models", ())),
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
            sum(r.tool_calls for r in rows),
            sum(r.tool_errors for r in rows),
            sum(r.unknown_usage_calls for r in rows),
            sum(r.unpriced_calls for r in rows),
            tuple(dict.fromkeys(m for r in rows for m in r.unpriced_models)),
        )
    )
    return rows


def field_history(audit: Sequence[Mapping[str, Any]], field: str) -> list[dict[str, Any]]:
    """The writes of one record field, in order: time, agent, old and new value, by whom.

    Read from the `write` audit records (see `records.provenance`).
    """
    return [
        {
            "ts": record.get("ts"),
            "agent": record.get("agent"),
            "old": detail.get("old"),
            "new": detail.get("new"),
            "by": detail.get("by") or record.get("agent"),
        }
        for record in audit
        if record.get("kind") == "write"
        and (detail := record.get("detail") or {}).get("field") == field
    ]


def describe_audit(record: Mapping[str, Any]) -> str:
    """Summarize an audit record's detail in a few words."""
    kind = record.get("kind")
    detail: Mapping[str, Any] = record.get("detail") or {}
    if kind == "turn":
        parts = [f"{detail.get('latency_s', 0):.2f} s"]
        if "tokens" in detail:
            tokens = detail["tokens"]
            parts.append("tokens unknown" if tokens is None else f"{tokens} tokens")
        return ", ".join(parts)
    if kind == "approval":
        when = detail.get("when")
        where = f"tool {detail.get('tool')}" if when == "tool" else when
        text = f"{detail.get('action')} by {detail.get('reviewer')} ({where})"
        if detail.get("continue_with"):
            text += f" with {detail['continue_with']}"
        if detail.get("feedback"):
            text += f": {detail['feedback']}"
        return text
    if kind == "handoff":
        return _describe_handoff(detail)
    if kind == "exception":
        status = detail.get("status", "")
        if "field" in detail and ("winner" in detail or detail.get("error_type") == CONFLICT):
            return _describe_conflict(detail)
        if "error" in detail:
            return f"failed ({status}): {detail['error']}"
        return f"escalation {status} by {detail.get('reviewer', '?')}"
    if kind == "write":
        by = f" (by {detail['by']})" if detail.get("by") else ""
        if detail.get("approved_by"):
            by += f" (approved by {detail['approved_by']})"
        return f"{detail.get('field')}: {detail.get('old')!r} → {detail.get('new')!r}{by}"
    if kind == "termination":
        return f"stopped: {detail.get('reason')}"
    if kind == "fallback":
        return _describe_fallback(detail)
    if kind == "breaker":
        return _describe_breaker(detail)
    if kind == "completion":
        text = f"{detail.get('action')} {detail.get('status')}"
        return f"{text}: {detail['error']}" if detail.get("error") else text
    if kind == "plan":
        return _describe_plan(detail)
    if kind == "routing":
        return _describe_routing(detail)
    return ", ".join(f"{key}={value}" for key, value in detail.items())


def _describe_fallback(detail: Mapping[str, Any]) -> str:
    """`answered by B after A failed (TimeoutError: ...)`, or every model's failure."""
    failed = "; ".join(
        f"{f.get('model')} failed ({f.get('error_type')}: {f.get('error')})"
        for f in detail.get("failed") or ()
        if isinstance(f, Mapping)
    )
    if detail.get("model") is None:
        return f"no model answered: {failed}"
    return f"answered by {detail['model']} after {failed}"


def _describe_breaker(detail: Mapping[str, Any]) -> str:
    """A breaker's move: opened (with its settings), half-open, closed."""
    model, state = detail.get("model"), detail.get("state")
    if state == "open":
        return (
            f"breaker of {model} opened: {detail.get('failures')} failures within "
            f"{detail.get('window_s')} s; a trial call after {detail.get('reset_after_s')} s"
        )
    if state == "half_open":
        return f"breaker of {model} half-open: one trial call goes through"
    return f"breaker of {model} {state}"


def _describe_conflict(detail: Mapping[str, Any]) -> str:
    """A fan-out's record conflict: opened, settled by team order, or by a person."""
    field, status, winner = detail.get("field"), detail.get("status"), detail.get("winner")
    if "error" in detail:
        kept = f"; {winner}'s value written" if winner else ""
        return f"record conflict on field '{field}' ({status}): {detail['error']}{kept}"
    reviewer = detail.get("reviewer", "?")
    value = "their own value" if winner == reviewer else f"{winner}'s value"
    return f"record conflict on field '{field}' settled by {reviewer}: {value}"


def _describe_handoff(detail: Mapping[str, Any]) -> str:
    if "refused" in detail:
        return f"transfer to {detail['refused']} refused: {detail.get('reason')}"
    text = f"transfer to {detail.get('to')}"
    if detail.get("payload"):
        text += f" with {json.dumps(detail['payload'], ensure_ascii=False)}"
    return text


def describe_step(step: Mapping[str, Any]) -> str:
    """Say who does a planner-executor's plan step, after which steps, and what."""
    after = list(step.get("depends_on") or ())
    needs = f", after {', '.join(after)}" if after else ""
    return f"{step.get('id')} ({step.get('agent')}{needs}): {step.get('instruction', '')}"


def _describe_plan(detail: Mapping[str, Any]) -> str:
    decision = detail.get("decision")
    if decision == "reset":
        return f"the agents start afresh (reset {detail.get('resets')})"
    if decision == "failed":
        return f"no valid plan: {detail.get('error')}"
    if isinstance(detail.get("plan"), list):  # a planner-executor's plan
        steps = detail["plan"]
        return f"{decision}: " + "; ".join(
            f"{s.get('id')} ({s.get('agent')})" for s in steps if isinstance(s, Mapping)
        )
    if decision == "steps":  # a planner-executor's steps, done or not
        outcomes: Mapping[str, Any] = detail.get("steps") or {}
        return "; ".join(f"{key} {value.get('status')}" for key, value in outcomes.items())
    if decision == "evaluated":
        reasons = "; ".join(detail.get("reasons") or ())
        text = f"scored {detail.get('score')} (threshold {detail.get('threshold')})"
        return f"{text}: {reasons}" if reasons else text
    steps = list((detail.get("ledger") or {}).get("plan") or ())
    return f"{decision}: " + " ".join(f"{i}. {step}" for i, step in enumerate(steps, start=1))


def _describe_routing(detail: Mapping[str, Any]) -> str:
    decision = detail.get("decision")
    if decision == "progress":  # a magentic manager's progress ledger
        ledger = detail.get("ledger") or {}
        if ledger.get("is_request_satisfied"):
            return f"the request is satisfied: {ledger.get('reason', '')}"
        stalled = ledger.get("is_in_loop") or not ledger.get("is_progress_being_made")
        return (
            f"{ledger.get('next_speaker')} acts{' (a stall)' if stalled else ''}: "
            f"{ledger.get('instruction', '')}"
        )
    if decision == "final_answer":
        return "the manager writes the final answer"
    if decision == "run":  # a planner-executor's wave of ready steps
        return f"steps run: {', '.join(detail.get('steps') or ())}"
    if decision == "synthesize" and "succeeded" not in detail:  # a planner-executor's end
        return "every step is done: the synthesizer writes the answer"
    if decision == "best_so_far":
        return f"the best result so far is the answer ({detail.get('replans')} replans)"
    if decision in ("invalid_ledger", "final_answer_failed"):
        return f"{str(decision).replace('_', ' ')}: {detail.get('error')}"
    if "delegated" in detail:  # a hierarchical manager's delegation
        return f"delegated to {detail['delegated']}: {detail.get('task', '')}"
    if "refused" in detail:
        return f"{detail['refused']} refused: {detail.get('reason')}"
    if "active_agent" in detail and "resumed" in detail:  # a handoff team's run starts
        agent = detail["active_agent"]
        return f"{agent} is in control" + (" (kept from the last run)" if detail["resumed"] else "")
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
    if decision == "disagreement":  # a person settled a fan-out's split decision
        action, reviewer = detail.get("action"), detail.get("reviewer", "?")
        if action == "pick":
            return f"split decision: {reviewer} took {detail.get('picked')}'s answer"
        if action == "supply":
            return f"split decision: {reviewer} wrote the answer"
        return f"split decision: {reviewer} aborted the run"
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
