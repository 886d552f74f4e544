"""The human approval gate: one node that interrupts before or after an agent's turn.

Reviewed after its turn, an agent that writes record fields writes them when the output
is accepted: approved (each `write` record names the reviewer, `approved_by`) or edited
(an agent with a typed output is edited as its fields, in JSON, checked against the
output model; a changed field is written `by` the reviewer). A rejected draft's fields
are never written.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, NotRequired, get_args

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langgraph.graph import END
from langgraph.types import Command, Send, interrupt
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, model_validator
from typing_extensions import TypedDict

from langgraph_orchestra.agents import OUTPUT_KEY
from langgraph_orchestra.errors import OrchestraError, OutputValidationError
from langgraph_orchestra.events import gate_opening
from langgraph_orchestra.names import REVIEWER, authorize_node, review_node
from langgraph_orchestra.nodes.route import Route, as_mapping
from langgraph_orchestra.nodes.run import begin_run, in_run, starting
from langgraph_orchestra.nodes.validators import Validator, checked_decision, run_validators
from langgraph_orchestra.prompts import DEFAULT_PROMPTS, Prompts
from langgraph_orchestra.records import provenance, render_output
from langgraph_orchestra.state.records import AuditRecord, audit_record

__all__ = [
    "APPROVAL_ACTIONS",
    "ApprovalAction",
    "ApprovalDecision",
    "ApprovalNode",
    "ApprovalRequest",
    "follow_up",
    "review",
]

ApprovalAction = Literal["approve", "reject", "edit", "respond"]
"""A reviewer's decision."""

APPROVAL_ACTIONS: tuple[ApprovalAction, ...] = get_args(ApprovalAction)
"""The decisions a reviewer can take."""


class ApprovalRequest(TypedDict):
    """What an approval gate shows the reviewer (the interrupt's value)."""

    type: Literal["approval"]
    """Always `"approval"`: tells approval requests from other interrupts."""
    agent: str
    """The agent under review."""
    when: Literal["before", "after"]
    """`"before"`: authorize the turn; `"after"`: review its output."""
    content: str
    """`before`: what the agent is about to answer; `after`: the agent's output."""
    actions: list[str]
    """The decisions allowed."""
    revision: int
    """How many revisions this output has had."""
    max_revisions: int
    """How many revisions are allowed before a rejection stops the run."""
    output: NotRequired[dict[str, Any]]
    """`after`, an agent with a typed output: its fields, as JSON (an `edit` gives them
    all, as a JSON object checked against the output model)."""


class ApprovalDecision(BaseModel):
    """A reviewer's decision: the resume value of an approval gate.

    `approve` lets the turn run (before) or its output stand (after). `reject` stops the
    run (before) or sends the agent back with the feedback (after; the run stops as
    `rejected` once `max_revisions` is used up). `edit` replaces the agent's input
    (before) or output (after) with `content`. `respond` answers in the agent's place
    (before) or answers the agent's question so it goes on (after; this is not a
    revision and does not count toward `max_revisions`).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: ApprovalAction
    """The decision."""
    feedback: str = ""
    """Why, for `reject`: the agent sees it when it revises."""
    content: str | None = None
    """The replacement text for `edit`, the answer for `respond`."""
    reviewer: str = Field(default="human", min_length=1)
    """Who decided, for the audit trail."""

    @model_validator(mode="after")
    def _needs_content(self) -> ApprovalDecision:
        if self.action in ("edit", "respond") and not self.content:
            raise ValueError(f"action '{self.action}' needs a non-empty 'content'")
        return self


def review(
    node: str,
    view: list[BaseMessage],
    draft: AIMessage,
    revision: int,
    record: Mapping[str, Any] | None = None,
    fields: Mapping[str, Any] | None = None,
) -> Send:
    """Send an agent's output to its after-gate `node`, with what the agent saw.

    `record`: the record its turn started from (an agent that requires or writes
    fields), kept for a revision; `fields`: the record fields the output writes, written
    only once it is accepted.
    """
    payload: dict[str, Any] = {"view": view, "draft": draft, "revision": revision}
    if record is not None:
        payload["record"] = dict(record)
    if fields:
        payload["fields"] = dict(fields)
    return Send(node, payload)


def _typed_edit(output: type[BaseModel], content: str) -> BaseModel:
    """The edited typed output: `content` is its fields as a JSON object.

    Raises:
        ValueError: Not JSON, or not a valid `output` (one line, naming the fields).
    """
    try:
        data = json.loads(content)
    except json.JSONDecodeError as error:
        raise ValueError(
            f"an edit of a typed output is its fields as a JSON object ({output.__name__}), "
            f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        ) from None
    try:
        return output.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, p['loc'])) or 'the edit'}: {p['msg']}" for p in error.errors()
        )
        raise ValueError(f"the edit is not a valid {output.__name__}: {problems}") from None


def _typed_decision(
    agent: str,
    output: type[BaseModel],
    render: Callable[[BaseModel], str],
    validators: Sequence[Validator],
) -> type[ApprovalDecision]:
    """`ApprovalDecision` for a typed output's after-gate: an `edit` is the output's fields.

    The edit is checked against `output`, then the agent's validators run on its
    rendering (a `respond`'s content, on the content itself).
    """
    checks = tuple(validators)

    def _check(decision: Any) -> Any:
        if decision.action not in ("edit", "respond") or not decision.content:
            return decision
        text = decision.content
        if decision.action == "edit":
            text = render(_typed_edit(output, decision.content))
        if checks:
            try:
                run_validators(agent, text, checks, subject=f"Human content for agent '{agent}'")
            except OutputValidationError as error:
                raise ValueError(f"{error}; correct it and decide again") from None
        return decision

    checked: type[ApprovalDecision] = create_model(
        ApprovalDecision.__name__,
        __base__=ApprovalDecision,
        __module__=ApprovalDecision.__module__,
        __doc__=ApprovalDecision.__doc__,
        __validators__={"_typed_edit": model_validator(mode="after")(_check)},  # type: ignore[dict-item]
    )
    return checked


def follow_up(
    route: Route, view: list[BaseMessage], draft: AIMessage, message: BaseMessage
) -> list[BaseMessage]:
    """What `route.agent` sees when it revises its `draft` or goes on after an answer.

    What it was answering stays (its view before the exchange with the reviewer); the
    exchange itself (earlier drafts and reviewer messages, then `draft`) goes through its
    context policy, then comes the reviewer's `message`. So under a bounded policy the
    prompt stays bounded however many rounds of revisions and answers: `"last"` keeps
    only the latest draft, `Window(k)` the latest `k` messages of the exchange.
    """
    base = list(view)
    exchange: list[BaseMessage] = []
    name = route.agent.name
    # The exchange is the trailing drafts and reviewer messages a previous follow-up added
    # (the first message, the task, always stays).
    while len(base) > 1 and (
        (isinstance(base[-1], HumanMessage) and base[-1].name == REVIEWER)
        or (isinstance(base[-1], AIMessage) and base[-1].name == name)
    ):
        exchange.insert(0, base.pop())
    if route.follow_up is None:
        return [*base, *exchange, draft, message]
    tail = route.follow_up({"messages": [*exchange, draft], "run": {"task": None}}, name)
    return [*base, *tail, message]


class ApprovalNode:
    """The approval gate of one agent, before or after its turn.

    The before-gate reads the state (or a `{"view": ...}` payload); the after-gate takes
    the output its agent's node sent with `review(...)`. Either interrupts with an
    `ApprovalRequest` and `response_schema=ApprovalDecision`: a
    malformed decision is refused by LangGraph with a `pydantic.ValidationError` and the
    interrupt stays pending, nothing written. Every decision is an `approval` audit record.
    """

    def __init__(
        self,
        route: Route,
        when: Literal["before", "after"],
        *,
        max_revisions: int = 3,
        prompts: Prompts = DEFAULT_PROMPTS,
        validators: Sequence[Validator] = (),
    ) -> None:
        """Build the gate for `route.agent`, placed `when` relative to its turn.

        Args:
            route: Where the agent sits in the pattern.
            when: `"before"` (authorize the turn) or `"after"` (review its output).
            max_revisions: Revisions allowed per output before a rejection stops the run.
            prompts: Prompt templates (the revision request).
            validators: The agent's validators, run on the content of an `edit` or
                `respond`: a refusal keeps the interrupt open (empty: trusted reviewers).
        """
        self.route = route
        self.when = when
        self.max_revisions = max_revisions
        self.prompts = prompts
        name = route.agent.name
        output = route.agent.output
        self.render = render_output(prompts, name) if output is not None else None
        if when == "after" and output is not None and self.render is not None:
            self.decision = _typed_decision(name, output, self.render, validators)
        else:
            self.decision = checked_decision(ApprovalDecision, name, validators)
        self.__name__ = authorize_node(name) if when == "before" else review_node(name)

    def __call__(self, state: Any) -> Command[Any]:
        """Ask for a decision and route on it."""
        state = as_mapping(state)
        if self.when == "before":
            return self._before(state)
        return self._after(state)

    def _ask(
        self, content: str, revision: int, output: dict[str, Any] | None = None
    ) -> ApprovalDecision:
        request: ApprovalRequest = {
            "type": "approval",
            "agent": self.route.agent.name,
            "when": self.when,
            "content": content,
            "actions": list(APPROVAL_ACTIONS),
            "revision": revision,
            "max_revisions": self.max_revisions,
        }
        if output is not None:
            request["output"] = output
        with gate_opening(self.route.agent.name, request):
            return interrupt(request, response_schema=self.decision)

    def _record(self, decision: ApprovalDecision, **detail: Any) -> AuditRecord:
        return audit_record(
            "approval",
            self.route.agent.name,
            when=self.when,
            action=decision.action,
            reviewer=decision.reviewer,
            feedback=decision.feedback,
            **detail,
        )

    def _before(self, state: Mapping[str, Any]) -> Command[Any]:
        route = self.route
        name = route.agent.name
        begin: dict[str, Any] = {}
        if "view" in state:
            view: list[BaseMessage] = list(state["view"])
            record = state.get("record")
        else:
            record = route.snapshot(state)
            if route.begins:
                begin = begin_run(state)
                state = in_run(state, begin)
            if route.termination is not None:
                # Asked before the human is: a finished budget needs no decision.
                reason = route.termination(state)
                if reason is not None:
                    return Command(
                        update=starting(route.termination.stop(state, reason), begin),
                        goto=END,
                    )
            view = route.view(state, name)
        decision = self._ask(view[-1].text if view else "", 0)
        update: dict[str, Any] = {**begin, "audit": [self._record(decision)]}
        if decision.action == "approve":
            return Command(update=update, goto=route.run(view, record=record))
        if decision.action == "edit":
            # The edit replaces what the agent was about to answer (the view's last
            # message); the transcript keeps the original and adds the reviewer's text.
            edited = HumanMessage(str(decision.content), name=REVIEWER)
            update["messages"] = [edited]
            return Command(update=update, goto=route.run([*view[:-1], edited], record=record))
        if decision.action == "respond":
            answer = str(decision.content)
            update["messages"] = [AIMessage(answer, name=name)]
            # The reviewer's answer is the agent's turn: it counts as a round.
            return Command(update={**update, **route.done(answer), "round": 1}, goto=route.next)
        update["stop_reason"] = "rejected"
        return Command(update={**update, **route.done(None)}, goto=route.stop)

    def _after(self, state: Mapping[str, Any]) -> Command[Any]:
        if "draft" not in state:
            raise OrchestraError(
                f"The gate {self.__name__} takes an output sent by its agent's node; "
                "route to it with review(node, view, draft, revision)"
            )
        route = self.route
        name = route.agent.name
        view: list[BaseMessage] = list(state["view"])
        draft: AIMessage = state["draft"]
        revision: int = state["revision"]
        record = state.get("record")
        fields: dict[str, Any] = dict(state.get("fields") or {})
        typed = draft.response_metadata.get(OUTPUT_KEY) if self.render is not None else None
        decision = self._ask(draft.text, revision, typed)
        if decision.action == "approve":
            entry = self._record(decision, revision=revision)
            # The accepted output's fields are written now, each naming the reviewer.
            writes = provenance(name, fields, record, approved_by=decision.reviewer)
            return Command(
                update={**fields, "audit": [entry, *writes], **route.done(draft.text)},
                goto=route.next,
            )
        if decision.action == "edit":
            content = str(decision.content)
            entry = self._record(decision, revision=revision, original=draft.text)
            metadata: dict[str, Any] = {}
            drafted = fields
            if self.render is not None and self.route.agent.output is not None:
                # A typed output is edited as its fields: they replace the drafted ones.
                answer = _typed_edit(self.route.agent.output, content)
                content = self.render(answer)
                metadata[OUTPUT_KEY] = answer.model_dump(mode="json")
                fields = {k: getattr(answer, k) for k in drafted}
            writes = [
                record_entry
                for k, v in fields.items()
                for record_entry in provenance(
                    name,
                    {k: v},
                    record,
                    # A value the reviewer changed is theirs; the others they approved.
                    **{"by" if v != drafted[k] else "approved_by": decision.reviewer},
                )
            ]
            # The edit replaces the output under review (same id), not earlier history.
            edited = AIMessage(content, name=name, id=draft.id, response_metadata=metadata)
            return Command(
                update={
                    **fields,
                    "messages": [edited],
                    "audit": [entry, *writes],
                    **route.done(content),
                },
                goto=route.next,
            )
        if decision.action == "respond":
            # An answer to the agent's question, not a rejection: it costs no revision
            # (each round waits for a person, so the loop is bounded by them).
            message = HumanMessage(str(decision.content), name=REVIEWER)
            return Command(
                update={
                    "messages": [message],
                    "audit": [self._record(decision, revision=revision)],
                },
                goto=route.run(
                    follow_up(route, view, draft, message), revision=revision, record=record
                ),
            )
        if revision >= self.max_revisions:
            record = self._record(decision, revision=revision)
            return Command(
                update={"audit": [record], "stop_reason": "rejected", **route.done(None)},
                goto=route.stop,
            )
        text = self.prompts.revision.format(
            reviewer=decision.reviewer, draft=draft.text, feedback=decision.feedback
        )
        message = HumanMessage(text, name=REVIEWER)
        return Command(
            update={
                "messages": [message],
                "audit": [self._record(decision, revision=revision + 1)],
            },
            goto=route.run(
                follow_up(route, view, draft, message), revision=revision + 1, record=record
            ),
        )
