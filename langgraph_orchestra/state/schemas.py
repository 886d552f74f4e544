"""State schemas: the base every pattern shares and the per-pattern extensions.

The channels that only grow (`messages`, `audit`, `exceptions`, `usage`, `run_usage`)
are LangGraph `DeltaChannel`s: a checkpoint stores only the updates of its step, and
every `SNAPSHOT_EVERY` updates the whole value, so a checkpoint's size does not grow
with the transcript and reading a thread replays at most that many updates.
"""

from __future__ import annotations

from typing import Annotated, Any, NotRequired, get_type_hints

from langchain_core.messages import AnyMessage
from langgraph.channels import DeltaChannel
from typing_extensions import TypedDict

from langgraph_orchestra.errors import TeamConfigError
from langgraph_orchestra.state.records import (
    AuditRecord,
    BranchTurn,
    Evaluation,
    ExceptionRecord,
    PlannedStep,
    ReplanRecord,
    RunStart,
    StepOutcome,
    SummaryRecord,
    Usage,
)
from langgraph_orchestra.state.reducers import (
    add_audit_batch,
    add_count,
    add_exceptions_batch,
    add_transcript_batch,
    add_usage_batch,
    append,
    append_batch,
    merge_dict,
)

__all__ = [
    "INTERNAL_CHANNELS",
    "LIBRARY_FIELDS",
    "LIBRARY_KEYS",
    "LIBRARY_RECORDS",
    "OPTIONAL_KEYS",
    "SNAPSHOT_EVERY",
    "ConcurrentState",
    "GroupChatState",
    "HandoffState",
    "HierarchicalState",
    "MagenticState",
    "NetworkState",
    "OrchestraState",
    "PlannerExecutorState",
    "SequentialState",
    "check_state_schema",
    "input_schema",
    "output_schema",
]

SNAPSHOT_EVERY = 200
"""Updates of a growing channel between two full copies of it in the checkpoints: the
most a read replays, and what spreads the copies' cost over the turns."""

LIBRARY_RECORDS = ("audit", "exceptions", "usage", "run_usage")
"""Channels only the library writes, and that no input may write (`drive` refuses it)."""

INTERNAL_CHANNELS = (
    # fan-outs (concurrent, hierarchical, planner-executor, network)
    "results",
    "dispatched",
    "outbox",
    "planned",
    # hierarchical
    "delegations",
    # planner-executor
    "wave",
    "result",
    # magentic and planner-executor
    "plan_revision",
    "plan_feedback",
    "reset_at",
    # summarized context (`context.Summary`)
    "summaries",
    # network
    "inbox",
    "last_sent",
    "quiet",
    "mark",
)
"""The patterns' plumbing: channels their nodes use to route, hold and hand over work.
They are neither input nor output of a graph (`invoke`, a server's runs and schemas show
only the users' fields); a thread's state (`get_state`) still holds them."""

OPTIONAL_KEYS = frozenset({"summaries"})
"""Keys of `OrchestraState` a custom `state_schema` may leave out: only a feature that is
not used without them writes them (`summaries`: the `Summary` context policy)."""


class OrchestraState(TypedDict):
    """The state every pattern shares.

    Extend it (as a `TypedDict` subclass or a pydantic model with the same fields) to
    carry your own keys; pass the subclass as `state_schema=` to any factory.
    """

    messages: Annotated[
        list[AnyMessage], DeltaChannel(add_transcript_batch, snapshot_frequency=SNAPSHOT_EVERY)
    ]
    """The shared transcript; each agent's messages carry its name."""
    audit: NotRequired[
        Annotated[
            list[AuditRecord], DeltaChannel(add_audit_batch, snapshot_frequency=SNAPSHOT_EVERY)
        ]
    ]
    """Append-only audit trail."""
    exceptions: NotRequired[
        Annotated[
            list[ExceptionRecord],
            DeltaChannel(add_exceptions_batch, snapshot_frequency=SNAPSHOT_EVERY),
        ]
    ]
    """The exception queue."""
    usage: NotRequired[
        Annotated[
            dict[str, Usage], DeltaChannel(add_usage_batch, snapshot_frequency=SNAPSHOT_EVERY)
        ]
    ]
    """Model usage per participant over the thread's runs, managers and aggregators
    included."""
    run_usage: NotRequired[
        Annotated[
            dict[str, Usage], DeltaChannel(add_usage_batch, snapshot_frequency=SNAPSHOT_EVERY)
        ]
    ]
    """The same, for the current run only (budgets count this by default)."""
    run: NotRequired[RunStart]
    """The current run's start: id, time and the index of its input."""
    round: NotRequired[Annotated[int, add_count]]
    """Agent turns taken in the current run (a round is one speaker turn)."""
    summaries: NotRequired[Annotated[dict[str, SummaryRecord] | None, merge_dict]]
    """Running summaries of the transcript by `Summary` context policy (see `context`):
    each is extended with the turns that leave its window, never recomputed. Absent
    until a summary is written (the `| None` keeps the channel from defaulting to `{}`)."""
    final: NotRequired[str | None]
    """The answer: the real last (or partial) output when the run ended."""
    stop_reason: NotRequired[str | None]
    """Why the run ended (`completed`, `rejected`, `aborted`, `max_rounds`, ...)."""


class SequentialState(OrchestraState):
    """State of `create_sequential`: the base state, nothing more."""


class ConcurrentState(OrchestraState):
    """State of `create_concurrent`."""

    results: NotRequired[Annotated[dict[str, str | None], merge_dict]]
    """Each finished branch's output by agent name; `None` when it gave none (failed,
    skipped, rejected)."""
    dispatched: NotRequired[Annotated[list[str], append]]
    """The branches started in this run, in order."""
    outbox: NotRequired[Annotated[dict[str, BranchTurn], merge_dict]]
    """Branch turns accepted without a gate, by agent: each branch writes its messages,
    usage and audit records here in one write, and the aggregator moves them into
    `messages`, `usage` and `audit` in team order when the fan-out closes (one write per
    branch instead of four keeps large fan-outs cheap)."""


class GroupChatState(OrchestraState):
    """State of `create_group_chat` and `create_maker_checker`."""

    speaker: NotRequired[str | None]
    """The participant the manager last gave the floor to."""


class HandoffState(OrchestraState):
    """State of `create_handoff`."""

    active_agent: NotRequired[str | None]
    """The agent in control; the next run on the thread starts with it."""
    handoff: NotRequired[dict[str, Any] | None]
    """The latest transfer of the run: `from`, `to` and the validated `payload`."""
    handoffs: NotRequired[Annotated[list[list[str]], append]]
    """The run's transfers, `[from, to]`, in order."""


class MagenticState(OrchestraState):
    """State of `create_magentic`: the manager's ledgers and counters."""

    task_ledger: NotRequired[dict[str, Any] | None]
    """The facts, guesses and plan (a `TaskLedger`'s fields)."""
    progress_ledger: NotRequired[dict[str, Any] | None]
    """The latest progress reading (a `ProgressLedger`'s fields)."""
    speaker: NotRequired[str | None]
    """Who the manager last gave the floor to."""
    stalls: NotRequired[int]
    """Rounds in a row without progress (or in a loop)."""
    resets: NotRequired[int]
    """How many times the agents' context was reset in this run."""
    reset_at: NotRequired[int | None]
    """Index in `messages` from which the agents see the conversation after a reset."""
    plan_revision: NotRequired[int]
    """How many times a reviewer rejected the plan in this run."""
    plan_feedback: NotRequired[str | None]
    """The reviewer's feedback on the latest rejected plan."""


class HierarchicalState(ConcurrentState):
    """State of `create_hierarchical`: the current round's delegations."""

    delegations: NotRequired[dict[str, dict[str, str]]]
    """This round's tasks by worker: `task`, the manager's `tool_call_id` and `tool`, and
    `result`: the id of the tool result the worker's output replaces."""
    planned: NotRequired[list[str]]
    """The workers this round's fan-out runs."""


class PlannerExecutorState(ConcurrentState):
    """State of `create_planner_executor`: the plan, its steps, evaluations and replans."""

    plan: NotRequired[list[PlannedStep] | None]
    """The current plan's steps, in the planner's order."""
    steps: NotRequired[dict[str, StepOutcome]]
    """Each step of the current plan by id: its status, output and why it failed."""
    wave: NotRequired[dict[str, str]]
    """The steps running now, by agent (one step per agent per wave)."""
    planned: NotRequired[list[str]]
    """The agents the current wave's fan-out runs."""
    result: NotRequired[str | None]
    """The current plan's result (what the evaluator scores)."""
    evaluations: NotRequired[list[Evaluation]]
    """The score of each executed plan's result in this run, in order."""
    replans: NotRequired[list[ReplanRecord]]
    """Every replan of this run: why, and what the replaced plan had done."""
    plan_revision: NotRequired[int]
    """How many times a reviewer rejected a plan in this run."""


class NetworkState(ConcurrentState):
    """State of `create_network`: the mailboxes and the run's message counters."""

    inbox: NotRequired[dict[str, list[dict[str, str]]]]
    """The messages this round delivers, by recipient: each `{"from": ..., "text": ...}`
    (an empty list: the agent takes a turn on the task, or after a quiet round)."""
    planned: NotRequired[list[str]]
    """The agents this round's fan-out runs."""
    sent: NotRequired[int]
    """Messages delivered in this run (bounded by `max_messages`)."""
    last_sent: NotRequired[dict[str, str]]
    """The latest message text per `"sender->recipient"` pair (loop detection)."""
    quiet: NotRequired[int]
    """Rounds in a row without a message."""
    mark: NotRequired[int]
    """Index in `messages` where the current round's own writes begin."""
    mail: NotRequired[
        Annotated[
            list[dict[str, Any]], DeltaChannel(append_batch, snapshot_frequency=SNAPSHOT_EVERY)
        ]
    ]
    """Every message delivered on the thread: `{"from", "to", "text", "at"}`, `at` being
    the index in `messages` where the round that sent it closed (what each agent sees of
    its conversation with its peers in later rounds)."""


LIBRARY_FIELDS: frozenset[str] = frozenset().union(
    *(
        get_type_hints(schema)
        for schema in (
            OrchestraState,
            ConcurrentState,
            GroupChatState,
            HandoffState,
            MagenticState,
            HierarchicalState,
            PlannerExecutorState,
            NetworkState,
        )
    )
) - {"messages"}
"""Every field the patterns' schemas declare but `messages`: what the library writes
(records, results, routing state, plumbing). None of them is a graph's input."""


LIBRARY_KEYS: frozenset[str] = LIBRARY_FIELDS | {"messages"}
"""Every key of the library's state schemas; the others are a team's record fields."""


def check_state_schema(schema: type[Any] | None, base: type[Any], *, pattern: str) -> type[Any]:
    """Return `schema` (or `base` when `None`) after checking it has `base`'s fields.

    A custom schema may be a `TypedDict` or a pydantic model; it must declare every key
    of `base` so the pattern's nodes can write them.

    Raises:
        TeamConfigError: if the schema is not a class or lacks some of `base`'s keys.
    """
    if schema is None:
        return base
    if not isinstance(schema, type):
        raise TeamConfigError(
            f"{pattern} state_schema must be a TypedDict or pydantic model class, got {schema!r}"
        )
    fields = getattr(schema, "model_fields", None)
    declared = set(fields) if isinstance(fields, dict) else set(get_type_hints(schema))
    missing = sorted(set(get_type_hints(base)) - declared - OPTIONAL_KEYS)
    if missing:
        raise TeamConfigError(
            f"{pattern} state_schema {schema.__name__} lacks the keys {missing}: extend "
            f"{base.__name__} (or declare them with the same reducers)"
        )
    return schema


def input_schema(schema: type[Any]) -> type[Any]:
    """Return the input schema of a graph over `schema`: `messages` and the user's own keys.

    LangGraph takes from a run's input only the keys of the graph's input schema, so input
    cannot write what the library writes (`LIBRARY_FIELDS`): audit records, exceptions and
    usage, the plumbing they pass through (a fan-out's held turns), the run's results and
    routing state. `schema` is a `TypedDict` or a pydantic model; the result is a
    `TypedDict` with the same annotations (so the same channels and reducers), every key
    optional.
    """
    return _without(schema, "Input", tuple(LIBRARY_FIELDS))


def output_schema(schema: type[Any]) -> type[Any]:
    """Return the output schema of a graph over `schema`: its keys but `INTERNAL_CHANNELS`.

    What `invoke` returns (and what LangGraph Server returns and shows as the graph's
    output) is then the users' fields: the transcript, `final` and `stop_reason`, the
    records, the pattern's own public fields and the user's own keys, never the
    fan-out's or the mailboxes' plumbing.
    """
    return _without(schema, "Output", INTERNAL_CHANNELS)


def _without(schema: type[Any], suffix: str, hidden: tuple[str, ...]) -> type[Any]:
    """A `TypedDict` with `schema`'s keys (same annotations) but `hidden`, all optional."""
    hints = get_type_hints(schema, include_extras=True)
    fields = getattr(schema, "model_fields", None)
    names = list(fields) if isinstance(fields, dict) else list(hints)
    kept = {name: hints[name] for name in names if name not in hidden}
    built: type[Any] = TypedDict(f"{schema.__name__}{suffix}", kept, total=False)  # type: ignore[misc]
    return built
