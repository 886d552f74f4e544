"""A fan-out's record conflicts and split decisions, settled by policy or by a person.

Two branches writing different values to one record field is a conflict, never a silent
last-writer-wins: it is an `ExceptionRecord` with every value, settled by the team's
`on_conflict` (`"first"`/`"last"` by team order, or `"escalate"`: a person picks with a
typed `ConflictDecision` at the `settle` node) unless the state schema's reducer
combines the writes. Branch answers that disagree (their votes split, or the winner's
share is under a threshold) go to a person with every branch's answer, confidence and
reason (`SplitDecision`).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, TypeAlias, get_args

from langchain_core.messages import BaseMessage
from langgraph.types import Command, Send, interrupt
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    model_validator,
)
from pydantic_core import to_jsonable_python
from typing_extensions import TypedDict

from langgraph_orchestra.agents import OUTPUT_KEY
from langgraph_orchestra.errors import OrchestraError
from langgraph_orchestra.names import AGGREGATE, SETTLE
from langgraph_orchestra.records import CONFIDENCE, REASON, OnConflict, typed
from langgraph_orchestra.state.records import (
    AuditRecord,
    BranchTurn,
    ExceptionRecord,
    ExceptionStatus,
    audit_record,
    now,
)

__all__ = [
    "CONFLICT",
    "CONFLICT_ACTIONS",
    "SETTLE",
    "SPLIT_ACTIONS",
    "Answer",
    "ConflictAction",
    "ConflictDecision",
    "ConflictRequest",
    "Disagreement",
    "SettleNode",
    "SplitAction",
    "SplitDecision",
    "SplitRequest",
    "answer_key",
    "branch_answers",
    "settle",
    "settle_conflicts",
    "settle_split",
]

CONFLICT = "RecordConflict"
"""The `error_type` of a conflict's exception record."""

ConflictAction = Literal["pick", "supply"]
"""How a person settles a record conflict: a branch's value, or a value of their own."""

CONFLICT_ACTIONS: tuple[ConflictAction, ...] = get_args(ConflictAction)
"""The decisions a record conflict takes."""

SplitAction = Literal["pick", "supply", "abort"]
"""How a person settles a split decision: a branch's answer, their own, or end the run."""

SPLIT_ACTIONS: tuple[SplitAction, ...] = get_args(SplitAction)
"""The decisions a split decision takes."""

Disagreement: TypeAlias = Literal["escalate"] | float
"""When split branch answers go to a person: `"escalate"` on any disagreement, or a
threshold: when the winning answer's (confidence-weighted) share is below it."""


class ConflictRequest(TypedDict):
    """What a person sees when two branches wrote one field differently."""

    type: Literal["conflict"]
    """Always `"conflict"`."""
    exception_id: str
    """The id of the conflict's `ExceptionRecord`."""
    field: str
    """The record field."""
    values: dict[str, Any]
    """Each branch's value, by agent, in team order."""
    actions: list[str]
    """`pick` (an agent's value) or `supply` (a value of your own)."""


class ConflictDecision(BaseModel):
    """A person's settlement of a record conflict: one agent's value, or a value of their own."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: ConflictAction
    """`pick` takes `agent`'s value; `supply` writes `value`."""
    agent: str | None = None
    """The agent whose value wins, for `pick`."""
    value: Any = None
    """The value to write, for `supply` (typed as the state schema declares the field)."""
    reviewer: str = Field(default="human", min_length=1)
    """Who decided, for the audit trail."""


class Answer(TypedDict):
    """One branch's answer, as a split decision shows it."""

    agent: str
    """The branch."""
    answer: str
    """Its output text."""
    confidence: float | None
    """Its typed output's `confidence`, if any."""
    reason: str | None
    """Its typed output's `reason`, if any."""


class SplitRequest(TypedDict):
    """What a person sees when the branches disagree."""

    type: Literal["disagreement"]
    """Always `"disagreement"`."""
    answers: list[Answer]
    """Every successful branch's answer, in team order."""
    leader: str
    """The branch the aggregator would pick."""
    share: float
    """The leading answer's (confidence-weighted) share of the votes."""
    actions: list[str]
    """`pick` (a branch's answer), `supply` (an answer of your own) or `abort`."""


class SplitDecision(BaseModel):
    """A person's settlement of a split decision."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: SplitAction
    """`pick` takes `agent`'s answer; `supply` answers `content`; `abort` ends the run."""
    agent: str | None = None
    """The branch whose answer wins, for `pick`."""
    content: str | None = None
    """The answer, for `supply`."""
    reviewer: str = Field(default="human", min_length=1)
    """Who decided, for the audit trail."""


def _conflict_schema(
    field: str, writers: Sequence[str], types: Mapping[str, Any]
) -> type[ConflictDecision]:
    """`ConflictDecision` checked against this conflict: a known writer, a well-typed value."""

    def _check(decision: Any) -> Any:
        if decision.action == "pick" and decision.agent not in writers:
            raise ValueError(f"'pick' needs 'agent', one of {list(writers)}")
        if decision.action == "supply":
            if decision.value is None:
                raise ValueError("'supply' needs a 'value'")
            try:
                typed({field: types.get(field, Any)}, {field: decision.value})
            except ValidationError as error:
                problem = error.errors()[0]["msg"]
                raise ValueError(
                    f"'supply': {decision.value!r} is not a value of field '{field}': {problem}"
                ) from None
        return decision

    checked: type[ConflictDecision] = create_model(
        ConflictDecision.__name__,
        __base__=ConflictDecision,
        __module__=ConflictDecision.__module__,
        __doc__=ConflictDecision.__doc__,
        __validators__={"_check": model_validator(mode="after")(_check)},  # type: ignore[dict-item]
    )
    return checked


def _stable_id(*parts: str) -> str:
    """An id that is the same each time a node re-runs (a resumed interrupt re-runs it)."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def settle_conflicts(
    writers: Mapping[str, Mapping[str, Any]],
    *,
    on_conflict: OnConflict,
    reducers: Mapping[str, Callable[[Any, Any], Any]],
    types: Mapping[str, Any],
    run_id: str,
    queue: Sequence[ExceptionRecord] = (),
) -> tuple[dict[str, tuple[str, Any]], list[ExceptionRecord], list[AuditRecord], int]:
    """Settle the fields several branches wrote: the winner and value of each, and records.

    `writers` is, by field, each branch's value in team order. A field with a reducer is
    combined (in team order); equal values are no conflict; different values are an
    `ExceptionRecord` each, with every value, settled by `on_conflict`. With
    `"escalate"` a conflict is recorded `open` and left to a person (the `settle` node);
    `queue` (the state's exceptions) holds their resolutions once given.

    Returns:
        `(settled, exceptions, audit, waiting)`: the settled fields (writer, value), the
        exception records and audit records to write, and how many conflicts wait for a
        person (the fan-out closes only when none does).
    """
    known = {record["id"]: record for record in queue}
    settled: dict[str, tuple[str, Any]] = {}
    exceptions: list[ExceptionRecord] = []
    audit: list[AuditRecord] = []
    waiting = 0
    for field, values in writers.items():
        if len(values) < 2:
            continue
        names = list(values)
        reducer = reducers.get(field)
        if reducer is not None:
            settled[field] = ("+".join(names), functools.reduce(reducer, values.values()))
            continue
        shown = to_jsonable_python(dict(values), fallback=str)
        if len({json.dumps(v, sort_keys=True) for v in shown.values()}) == 1:
            settled[field] = (names[0], values[names[0]])
            continue
        conflict_id = _stable_id(run_id, field)
        error = f"Branches {names} wrote different values to field '{field}'"
        if on_conflict == "escalate":
            found = known.get(conflict_id)
            if found is None:
                waiting += 1
                exceptions.append(_conflict(conflict_id, field, names, shown, error, "open", None))
                audit.append(
                    audit_record(
                        "exception",
                        names[0],
                        exception_id=conflict_id,
                        error=error,
                        error_type=CONFLICT,
                        status="open",
                        field=field,
                    )
                )
            elif found["status"] == "open":
                waiting += 1
            else:
                resolution = found.get("resolution") or {}
                if resolution.get("action") == "pick":
                    winner = str(resolution["agent"])
                    settled[field] = (winner, values[winner])
                else:
                    winner = str(resolution.get("reviewer", "human"))
                    settled[field] = (winner, typed(types, {field: resolution["value"]})[field])
            continue
        winner = names[0] if on_conflict == "first" else names[-1]
        settled[field] = (winner, values[winner])
        resolution = {"action": on_conflict, "agent": winner}
        exceptions.append(
            _conflict(conflict_id, field, names, shown, error, "continued", resolution)
        )
        audit.append(
            audit_record(
                "exception",
                names[0],
                exception_id=conflict_id,
                error=error,
                error_type=CONFLICT,
                status="continued",
                field=field,
                winner=winner,
            )
        )
    return settled, exceptions, audit, waiting


def _conflict(
    conflict_id: str,
    field: str,
    names: Sequence[str],
    values: dict[str, Any],
    error: str,
    status: ExceptionStatus,
    resolution: dict[str, Any] | None,
) -> ExceptionRecord:
    record: ExceptionRecord = {
        "id": conflict_id,
        "ts": now(),
        "agent": names[0],
        "error": error,
        "error_type": CONFLICT,
        "input": "",
        "status": status,
        "field": field,
        "values": values,
    }
    if resolution is not None:
        record["resolution"] = resolution
    return record


def settle(record: ExceptionRecord) -> Send:
    """Send one open conflict to the `settle` node (each is its own task and interrupt)."""
    return Send(SETTLE, {"conflict": record})


class SettleNode:
    """Interrupts with one open conflict's `ConflictRequest` and records the decision.

    The decision is checked against the conflict (a writer's name, a value of the field's
    declared type); the resolved exception record carries it, and the run goes back to
    the fan-out's join, which writes the settled value.
    """

    __name__ = SETTLE

    def __init__(self, types: Mapping[str, Any], *, join: str = AGGREGATE) -> None:
        """Build the node; `types`: the record fields' declared types."""
        self.types = dict(types)
        self.join = join

    def __call__(self, state: Any) -> Command[Any]:
        """Ask a person to settle the conflict, record the decision, go back to the join."""
        if not isinstance(state, Mapping) or "conflict" not in state:
            raise OrchestraError(
                "The settle node takes a conflict sent by the fan-out's join; route to it "
                "with settle(record)"
            )
        record: ExceptionRecord = state["conflict"]
        field = str(record.get("field"))
        values = dict(record.get("values") or {})
        request: ConflictRequest = {
            "type": "conflict",
            "exception_id": record["id"],
            "field": field,
            "values": values,
            "actions": list(CONFLICT_ACTIONS),
        }
        schema = _conflict_schema(field, list(values), self.types)
        decision = interrupt(request, response_schema=schema)
        resolution = decision.model_dump(exclude_none=True, mode="json")
        resolved: ExceptionRecord = {**record, "status": "supplied", "resolution": resolution}
        entry = audit_record(
            "exception",
            record["agent"],
            exception_id=record["id"],
            status="supplied",
            reviewer=decision.reviewer,
            field=field,
            winner=decision.agent if decision.action == "pick" else decision.reviewer,
        )
        return Command(update={"exceptions": [resolved], "audit": [entry]}, goto=self.join)


def branch_answers(
    outputs: Mapping[str, str], outbox: Mapping[str, BranchTurn]
) -> dict[str, Answer]:
    """Each successful branch's answer with its typed output's confidence and reason."""
    answers: dict[str, Answer] = {}
    for name, text in outputs.items():
        typed_output: Mapping[str, Any] = {}
        held = outbox.get(name)
        if held is not None and held["messages"]:
            last: BaseMessage = held["messages"][-1]
            typed_output = last.response_metadata.get(OUTPUT_KEY) or {}
        confidence = typed_output.get(CONFIDENCE)
        reason = typed_output.get(REASON)
        answers[name] = {
            "agent": name,
            "answer": text,
            "confidence": float(confidence) if isinstance(confidence, int | float) else None,
            "reason": str(reason) if reason is not None else None,
        }
    return answers


def answer_key(answer: Answer, outbox: Mapping[str, BranchTurn], normal: str) -> str:
    """What a vote compares: a typed output's fields but confidence and reason, else text."""
    held = outbox.get(answer["agent"])
    if held is not None and held["messages"]:
        fields = held["messages"][-1].response_metadata.get(OUTPUT_KEY)
        if isinstance(fields, Mapping):
            kept = {k: v for k, v in fields.items() if k not in (CONFIDENCE, REASON)}
            return json.dumps(kept, sort_keys=True, default=str)
    return normal


def settle_split(
    answers: Mapping[str, Answer],
    *,
    leader: str,
    share: float,
    keys: Mapping[str, str],
    on_disagreement: Disagreement | None,
) -> tuple[str | None, SplitDecision | None]:
    """Ask a person when the answers disagree as `on_disagreement` says.

    Returns `(final, decision)`: `(None, None)` when nobody is asked (the aggregator's
    pick stands); `(None, decision)` when the person aborted.
    """
    if on_disagreement is None or len(set(keys.values())) < 2:
        return None, None
    if on_disagreement != "escalate" and share >= float(on_disagreement):
        return None, None
    names = list(answers)

    def _check(decision: Any) -> Any:
        if decision.action == "pick" and decision.agent not in names:
            raise ValueError(f"'pick' needs 'agent', one of {names}")
        if decision.action == "supply" and not decision.content:
            raise ValueError("'supply' needs a non-empty 'content'")
        return decision

    schema: type[SplitDecision] = create_model(
        SplitDecision.__name__,
        __base__=SplitDecision,
        __module__=SplitDecision.__module__,
        __doc__=SplitDecision.__doc__,
        __validators__={"_check": model_validator(mode="after")(_check)},  # type: ignore[dict-item]
    )
    request: SplitRequest = {
        "type": "disagreement",
        "answers": list(answers.values()),
        "leader": leader,
        "share": round(share, 6),
        "actions": list(SPLIT_ACTIONS),
    }
    decision: SplitDecision = interrupt(request, response_schema=schema)
    if decision.action == "pick":
        return answers[str(decision.agent)]["answer"], decision
    if decision.action == "supply":
        return str(decision.content), decision
    return None, decision
