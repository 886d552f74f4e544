"""The escalation node: a human resolves an agent failure from the exception queue."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, NotRequired, get_args

from langchain_core.messages import AIMessage, BaseMessage
from langgraph.types import Command, Send, interrupt
from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator
from typing_extensions import TypedDict

from langgraph_orchestra.errors import DecisionError, OrchestraError
from langgraph_orchestra.names import ESCALATE
from langgraph_orchestra.nodes.route import Route
from langgraph_orchestra.nodes.validators import Validator, checked_decision
from langgraph_orchestra.records import provenance, record_view, render_fields, typed
from langgraph_orchestra.state.records import ExceptionRecord, audit_record

__all__ = [
    "ESCALATE",
    "ESCALATION_ACTIONS",
    "EscalationAction",
    "EscalationDecision",
    "EscalationNode",
    "EscalationRequest",
    "escalation",
    "typed_decision",
]

EscalationAction = Literal["retry", "skip", "supply", "abort"]
"""A human's resolution of an escalated failure."""

ESCALATION_ACTIONS: tuple[EscalationAction, ...] = get_args(EscalationAction)
"""The decisions a human can take on an escalated failure."""


class EscalationRequest(TypedDict):
    """What the escalation node shows (the interrupt's value)."""

    type: Literal["exception"]
    """Always `"exception"`: tells escalations from other interrupts."""
    exception_id: str
    """The id of the `ExceptionRecord`."""
    agent: str
    """The agent that failed."""
    error: str
    """The error message."""
    error_type: str
    """The error's class name."""
    input: str
    """What the agent was answering."""
    output: str | None
    """The refused output, when a validator refused it."""
    missing: NotRequired[list[str]]
    """The record fields the agent requires and the record lacks (supply them)."""
    actions: list[str]
    """The decisions allowed."""


class EscalationDecision(BaseModel):
    """A human's resolution of an escalated failure (the resume value).

    `retry` runs the agent again, `skip` goes on without its output, `supply` uses
    `content` as its output, `abort` ends the run with the results so far.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: EscalationAction
    """The decision."""
    content: str | None = None
    """The output to use, for `supply`."""
    fields: dict[str, Any] | None = None
    """Record fields to write, for `supply`, typed as the state schema declares them: for
    an agent whose `requires` failed, the missing fields (then the agent runs); for an
    agent that failed, its output fields (within its `writes`; then the run goes on)."""
    reviewer: str = Field(default="human", min_length=1)
    """Who decided, for the audit trail."""

    @model_validator(mode="after")
    def _needs_content(self) -> EscalationDecision:
        if self.action == "supply" and not self.content and not self.fields:
            raise ValueError("action 'supply' needs a non-empty 'content' or 'fields'")
        return self


def escalation(
    record: ExceptionRecord,
    view: list[BaseMessage],
    *,
    retries: int = 0,
    snapshot: Mapping[str, Any] | None = None,
) -> Send:
    """Send one failure to the escalation node (each failure is its own task).

    `retries`: how many times a human has already retried this turn; `snapshot`: the
    record the turn started from (for an agent that keeps one).
    """
    payload: dict[str, Any] = {"exception": record, "view": view, "retries": retries}
    if snapshot is not None:
        payload["record"] = dict(snapshot)
    return Send(ESCALATE, payload)


def typed_decision(
    schema: type[EscalationDecision], route: Route, types: Mapping[str, Any]
) -> type[EscalationDecision]:
    """`schema` extended to check supplied `fields` against the state schema's `types`.

    A field the schema lacks or a value of the wrong type refuses the decision (the
    interrupt stays open). A failed agent's own output fields must be within its `writes`;
    the fields a precondition needs may be any record field (checked in the node).
    """
    if not (route.agent.writes or route.agent.requires):
        return schema

    agent = route.agent
    # A failed agent's own output fields; any record field may complete a precondition.
    allowed = set(types) if agent.requires else set(agent.writes or ())

    def _fields(decision: Any) -> Any:
        if decision.fields:
            outside = sorted(set(decision.fields) - allowed)
            if outside:
                raise ValueError(
                    f"fields {outside} are not for agent '{agent.name}' to write; allowed: "
                    f"{sorted(allowed)}"
                )
            typed(types, decision.fields)
        return decision

    checked: type[EscalationDecision] = create_model(
        schema.__name__,
        __base__=schema,
        __module__=schema.__module__,
        __doc__=schema.__doc__,
        __validators__={"_typed_fields": model_validator(mode="after")(_fields)},  # type: ignore[dict-item]
    )
    return checked


class EscalationNode:
    """Interrupts with one failure's `EscalationRequest` and applies the decision.

    Each failure arrives as its own task (`escalation(record, view)`), so failures of
    parallel branches are separate interrupts, resumed together or one by one.
    """

    __name__ = ESCALATE

    def __init__(
        self,
        routes: Mapping[str, Route],
        validators: Mapping[str, Sequence[Validator]] | None = None,
        *,
        max_retries: int = 3,
        field_types: Mapping[str, Any] | None = None,
    ) -> None:
        """Build the node over the routes of the agents that may escalate.

        `validators` (by agent) run on the content a human supplies: a refusal keeps the
        interrupt open. After `max_retries` retries of one turn, its next failure is not
        asked about: the run stops with `stop_reason="max_retries"`. `field_types` are the
        state schema's record fields and types, which a `supply` of `fields` is checked
        against.
        """
        self.routes = dict(routes)
        self.max_retries = max_retries
        checks = validators or {}
        self.types = dict(field_types or {})
        self.decisions = {
            name: typed_decision(
                checked_decision(EscalationDecision, name, checks.get(name, ())),
                route,
                self.types,
            )
            for name, route in self.routes.items()
        }

    def __call__(self, state: Any) -> Command[Any]:
        """Ask for a decision on the open failure and route on it."""
        if not isinstance(state, Mapping) or "exception" not in state:
            raise OrchestraError(
                "The escalate node takes a failure sent by an agent node; "
                "route to it with escalation(record, view)"
            )
        record: ExceptionRecord = state["exception"]
        view: list[BaseMessage] = list(state["view"])
        route = self.routes[record["agent"]]
        retries = int(state.get("retries", 0))
        if retries >= self.max_retries:
            return self._exhausted(record, route, retries)
        request: EscalationRequest = {
            "type": "exception",
            "exception_id": record["id"],
            "agent": record["agent"],
            "error": record["error"],
            "error_type": record["error_type"],
            "input": record["input"],
            "output": record.get("output"),
            "actions": list(ESCALATION_ACTIONS),
        }
        if "missing" in record:
            request["missing"] = record["missing"]
        decision = interrupt(request, response_schema=self.decisions[record["agent"]])
        status = {"retry": "retried", "skip": "skipped", "supply": "supplied", "abort": "aborted"}
        resolved: ExceptionRecord = {
            **record,
            "status": status[decision.action],  # type: ignore[typeddict-item]
            "resolution": decision.model_dump(exclude_none=True),
        }
        update: dict[str, Any] = {
            "exceptions": [resolved],
            "audit": [
                audit_record(
                    "exception",
                    route.agent.name,
                    exception_id=record["id"],
                    status=resolved["status"],
                    reviewer=decision.reviewer,
                )
            ],
        }
        if decision.action == "retry":
            again = route.run(view, retries=retries + 1, record=state.get("record"))
            return Command(update=update, goto=again)
        # A skipped or supplied turn used the agent's round (a retried one counts when it runs).
        if decision.action == "skip":
            return Command(update={**update, **route.done(None), "round": 1}, goto=route.next)
        if decision.action == "supply" and decision.fields:
            return self._supplied(decision, record, route, view, update, state, retries)
        if decision.action == "supply":
            content = str(decision.content)
            update["messages"] = [AIMessage(content, name=route.agent.name)]
            return Command(update={**update, **route.done(content), "round": 1}, goto=route.next)
        update["stop_reason"] = "aborted"
        return Command(update={**update, **route.done(None)}, goto=route.stop)

    def _supplied(
        self,
        decision: EscalationDecision,
        record: ExceptionRecord,
        route: Route,
        view: list[BaseMessage],
        update: dict[str, Any],
        state: Mapping[str, Any],
        retries: int,
    ) -> Command[Any]:
        """Write the record fields a person supplied, with their provenance.

        For an agent whose `requires` failed, the agent then runs on the completed record;
        for a failed agent, the fields are its output (within its `writes`) and the run
        goes on, with `content` (or the fields rendered) as its message.
        """
        agent = route.agent
        fields = typed(self.types, decision.fields or {})
        snapshot = dict(state.get("record") or {})
        if record["error_type"] != "PreconditionError":
            outside = sorted(set(fields) - set(agent.writes or ()))
            if outside:
                raise DecisionError(
                    f"Supplied fields {outside} are outside agent '{agent.name}''s writes "
                    f"{list(agent.writes or ())}: supply only those"
                )
        update = {
            **update,
            **fields,
            "audit": [
                *update["audit"],
                *provenance(agent.name, fields, snapshot, by=decision.reviewer),
            ],
        }
        if record["error_type"] == "PreconditionError":
            completed = {**snapshot, **fields}
            again = view
            if agent.reads:
                again = record_view(view, agent.reads, completed, route.prompts)
            return Command(
                update=update, goto=route.run(again, retries=retries + 1, record=completed)
            )
        prompts = route.prompts
        content = decision.content or prompts.record_output.format(
            name=agent.name, fields=render_fields(fields, prompts.record_item)
        )
        update["messages"] = [AIMessage(content, name=agent.name)]
        return Command(update={**update, **route.done(content), "round": 1}, goto=route.next)

    def _exhausted(self, record: ExceptionRecord, route: Route, retries: int) -> Command[Any]:
        """Stop the run: the turn failed again after `max_retries` retries."""
        resolved: ExceptionRecord = {
            **record,
            "status": "aborted",
            "resolution": {"action": "abort", "reason": "max_retries", "retries": retries},
        }
        entry = audit_record(
            "exception",
            route.agent.name,
            exception_id=record["id"],
            status="aborted",
            reason="max_retries",
            retries=retries,
        )
        return Command(
            update={
                "exceptions": [resolved],
                "audit": [entry],
                "stop_reason": "max_retries",
                **route.done(None),
            },
            goto=route.stop,
        )
