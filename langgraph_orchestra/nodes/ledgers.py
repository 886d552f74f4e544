"""Magentic: a manager that plans with a task ledger and steers with a progress ledger.

The ledgers are pydantic models the manager's model fills by structured output through
the measured call (an invalid ledger is asked again with the error). They are kept in
state as plain dicts, so a checkpoint resumes the manager exactly where it was.

- `PlanNode` writes the task ledger (facts and plan) at the start of a run, and again
  when a reviewer rejects the plan.
- `PlanReviewNode` (with `plan_review=True`) interrupts with the plan: approve, edit it,
  or reject it with feedback (the manager replans, bounded by `max_revisions`).
- `ProgressNode` runs after every speaker's turn: it asks the termination rule, then
  the progress ledger (satisfied? in a loop? progress? who next, with what
  instruction?). No progress or a loop counts a stall; at `max_stalls` the manager
  replans with the full history first, and only then resets the agents' context;
  `max_resets` bounds the resets. An ending (satisfied, or a bound) gives the final
  answer: the manager's synthesis from what exists (`final_answer=True`) or the latest
  real output.

Every ledger, replan, reset and synthesis is an audit record and a `custom` stream event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, get_args

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig
from langgraph.config import get_stream_writer
from langgraph.graph import END
from langgraph.types import Command, interrupt
from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator
from typing_extensions import TypedDict

from langgraph_orchestra.calls import CallResult, ModelCall
from langgraph_orchestra.context import View, kept_refreshing, run_task
from langgraph_orchestra.errors import StructuredOutputError
from langgraph_orchestra.events import gate_opening
from langgraph_orchestra.names import MANAGER
from langgraph_orchestra.nodes.route import as_mapping
from langgraph_orchestra.nodes.run import begin_run, counted, in_run, starting
from langgraph_orchestra.nodes.termination import Termination
from langgraph_orchestra.prompts import DEFAULT_PROMPTS, Prompts
from langgraph_orchestra.resilience import Resilient, audit_of
from langgraph_orchestra.state.records import AuditRecord, Usage, audit_record
from langgraph_orchestra.state.reducers import add_usage

__all__ = [
    "PLAN",
    "PLAN_REVIEW_ACTIONS",
    "REVIEW_PLAN",
    "Manager",
    "PlanNode",
    "PlanReviewAction",
    "PlanReviewDecision",
    "PlanReviewNode",
    "PlanReviewRequest",
    "ProgressLedger",
    "ProgressNode",
    "TaskLedger",
    "since_reset",
]

PLAN = "plan"
"""The node where the manager replans after a rejected plan."""
REVIEW_PLAN = "review_plan"
"""The node where a person reviews the plan."""

PlanReviewAction = Literal["approve", "edit", "reject"]
"""A reviewer's decision on a plan."""
PLAN_REVIEW_ACTIONS: tuple[PlanReviewAction, ...] = get_args(PlanReviewAction)
"""The decisions a reviewer can take on a plan."""


class TaskLedger(BaseModel):
    """What the manager knows and intends: the facts, the guesses and the plan."""

    model_config = ConfigDict(extra="forbid")

    facts_given: list[str] = Field(description="Facts stated in the request.")
    facts_to_look_up: list[str] = Field(description="Facts to find out (by the team).")
    facts_to_derive: list[str] = Field(description="Facts to work out from others.")
    educated_guesses: list[str] = Field(description="Reasonable guesses, marked as such.")
    plan: list[str] = Field(description="The steps, each naming the participant for it.")


class ProgressLedger(BaseModel):
    """The manager's reading of the conversation after a turn, and its next move."""

    model_config = ConfigDict(extra="forbid")

    is_request_satisfied: bool = Field(description="Is the request fully answered?")
    is_in_loop: bool = Field(description="Is the team repeating itself?")
    is_progress_being_made: bool = Field(description="Did the last turns move it forward?")
    next_speaker: str = Field(description="Who acts next.")
    instruction: str = Field(description="What that participant must do now.")
    reason: str = Field(description="Why, in one sentence.")


class PlanReviewRequest(TypedDict):
    """What a plan review shows the reviewer (the interrupt's value)."""

    type: Literal["plan_review"]
    """Always `"plan_review"`."""
    ledger: dict[str, Any]
    """The task ledger: facts, guesses and the plan."""
    revision: int
    """How many times the plan was rejected so far."""
    max_revisions: int
    """Rejections allowed before the run stops as `rejected`."""
    actions: list[str]
    """The decisions allowed."""


class PlanReviewDecision(BaseModel):
    """A reviewer's decision on a plan (the resume value).

    `approve` lets the team start; `edit` replaces the plan's steps with `plan`;
    `reject` has the manager plan again with the `feedback`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: PlanReviewAction
    """The decision."""
    plan: list[str] | None = None
    """The steps to follow instead, for `edit`."""
    feedback: str = ""
    """Why, for `reject`: the manager reads it when it replans."""
    reviewer: str = Field(default="human", min_length=1)
    """Who decided, for the audit trail."""

    @model_validator(mode="after")
    def _needs_plan(self) -> PlanReviewDecision:
        if self.action == "edit" and not self.plan:
            raise ValueError("action 'edit' needs 'plan': the list of steps to follow")
        return self


def _event(kind: str, **data: Any) -> None:
    """Emit a `custom` stream event (a no-op when nobody streams them)."""
    get_stream_writer()({"type": f"magentic.{kind}", **data})


def _lines(items: Sequence[str]) -> str:
    return "\n".join(f"- {item}" for item in items) or "- (none)"


def render_ledger(ledger: Mapping[str, Any]) -> str:
    """The task ledger as text, for the manager's later prompts."""
    return "\n\n".join(
        f"{title}:\n{_lines(ledger.get(key) or ())}"
        for key, title in (
            ("facts_given", "Facts given"),
            ("facts_to_look_up", "Facts to look up"),
            ("facts_to_derive", "Facts to derive"),
            ("educated_guesses", "Educated guesses"),
            ("plan", "Plan"),
        )
    )


class Manager:
    """The magentic manager's model calls: ledgers and the final answer, all measured."""

    def __init__(
        self,
        model: BaseChatModel | Resilient,
        *,
        team: Mapping[str, str],
        view: View,
        pattern: str,
        prices: Mapping[str, Any],
        prompts: Prompts = DEFAULT_PROMPTS,
    ) -> None:
        """Prepare the calls.

        Args:
            model: The manager's chat model.
            team: Each participant's description, in team order.
            view: What the manager sees of the transcript (the full history).
            pattern: The pattern name, for tracing.
            prices: The price table.
            prompts: Prompt templates (`magentic_*`).
        """
        self.call = ModelCall(
            model, participant=MANAGER, pattern=pattern, prices=prices, prompts=prompts
        )
        self.names = tuple(team)
        self.view = view
        self.prompts = prompts
        self.team = "\n".join(
            prompts.participant_line.format(name=n, description=d or "(no description)")
            for n, d in team.items()
        )
        self.progress_schema: type[ProgressLedger] = create_model(
            "ProgressLedger",
            __base__=ProgressLedger,
            next_speaker=(Literal[self.names], Field(description="Who acts next.")),  # type: ignore[arg-type]
        )

    def _prompt(self, state: Mapping[str, Any], system: str) -> list[BaseMessage]:
        return [SystemMessage(system), *self.view(state, MANAGER)]

    def plan(
        self, state: Mapping[str, Any], config: RunnableConfig, *, feedback: str = ""
    ) -> CallResult[TaskLedger]:
        """Write the task ledger (a first plan, or a replan with the full history)."""
        ledger = state.get("task_ledger")
        if ledger:
            system = self.prompts.magentic_replan.format(
                team=self.team, ledger=render_ledger(ledger), feedback=feedback or "(none)"
            )
        else:
            system = self.prompts.magentic_plan.format(team=self.team)
        return self.call.invoke(self._prompt(state, system), config, schema=TaskLedger)

    def progress(
        self, state: Mapping[str, Any], config: RunnableConfig
    ) -> CallResult[ProgressLedger]:
        """Write the progress ledger."""
        system = self.prompts.magentic_progress.format(
            team=self.team,
            names=", ".join(self.names),
            ledger=render_ledger(state.get("task_ledger") or {}),
        )
        return self.call.invoke(
            self._prompt(state, system),
            config,
            schema=self.progress_schema,
            round=state.get("round", 0),
        )

    def final(self, state: Mapping[str, Any], config: RunnableConfig) -> CallResult[Any]:
        """Write the final answer from what the team produced."""
        system = self.prompts.magentic_final.format(
            ledger=render_ledger(state.get("task_ledger") or {})
        )
        return self.call.invoke(self._prompt(state, system), config)


def _since_reset(state: Mapping[str, Any]) -> Mapping[str, Any]:
    """The state as an agent sees it after a reset: the task and what came since."""
    reset_at = state.get("reset_at")
    if not reset_at:
        return state
    messages: Sequence[BaseMessage] = state["messages"]
    task = run_task(state)
    head = [messages[task]] if task is not None and task < reset_at else []
    run = dict(state.get("run") or {})
    if head:
        run["task"] = 0
    return {**state, "messages": [*head, *messages[reset_at:]], "run": run}


def since_reset(view: View) -> View:
    """Wrap an agent's `view`: after a reset it sees the task and what came since.

    A summary (a `Refreshing` view) is kept of that window too: after a reset it starts
    over from the task and what came since.
    """

    def windowed(state: Mapping[str, Any], agent: str) -> list[BaseMessage]:
        return view(_since_reset(state), agent)

    return kept_refreshing(windowed, view, _since_reset)


def _plan_update(result: CallResult[TaskLedger], kind: str) -> dict[str, Any]:
    ledger = result.parsed.model_dump() if result.parsed is not None else {}
    _event(kind, ledger=ledger)
    return {
        "task_ledger": ledger,
        "audit": [*result.audit, audit_record("plan", MANAGER, decision=kind, ledger=ledger)],
        **counted(result.usage),
    }


class PlanNode:
    """Writes the task ledger: at a run's start (`begins`), or after a rejected plan."""

    def __init__(self, manager: Manager, *, begins: bool, after: str) -> None:
        """Build the node; after planning the run goes to `after`."""
        self.manager = manager
        self.begins = begins
        self.after = after
        self.__name__ = "start" if begins else PLAN

    def __call__(self, state: Any, config: RunnableConfig) -> Command[Any]:
        """Plan (or replan with the reviewer's feedback)."""
        state = as_mapping(state)
        begin: dict[str, Any] = {}
        feedback = ""
        if self.begins:
            begin = {
                **begin_run(state),
                "task_ledger": None,
                "progress_ledger": None,
                "stalls": 0,
                "resets": 0,
                "reset_at": None,
                "plan_revision": 0,
                "speaker": None,
            }
            state = {**in_run(state, begin), **{k: v for k, v in begin.items() if k != "run"}}
        else:
            feedback = str(state.get("plan_feedback") or "")
        try:
            result = self.manager.plan(state, config, feedback=feedback)
        except StructuredOutputError as error:
            # No plan at all: the run cannot start; it ends with the reason, not a guess.
            record = audit_record("plan", MANAGER, decision="failed", error=str(error))
            update = {
                **counted(error.usage),
                "final": None,
                "stop_reason": "error",
                "audit": [
                    *audit_of(error),
                    record,
                    audit_record("termination", None, reason="error"),
                ],
            }
            return Command(update=starting(update, begin), goto=END)
        update = _plan_update(result, "plan" if self.begins else "replan")
        return Command(update=starting(update, begin), goto=self.after)


class PlanReviewNode:
    """Interrupts with the task ledger for a person to approve, edit or reject."""

    __name__ = REVIEW_PLAN

    def __init__(self, *, max_revisions: int, termination: Termination) -> None:
        """Build the node; `max_revisions` rejections are allowed."""
        self.max_revisions = max_revisions
        self.termination = termination

    def __call__(self, state: Any) -> Command[Any]:
        """Ask for a decision on the plan and route on it."""
        state = as_mapping(state)
        ledger = dict(state.get("task_ledger") or {})
        revision = int(state.get("plan_revision") or 0)
        request: PlanReviewRequest = {
            "type": "plan_review",
            "ledger": ledger,
            "revision": revision,
            "max_revisions": self.max_revisions,
            "actions": list(PLAN_REVIEW_ACTIONS),
        }
        with gate_opening(MANAGER, request):
            decision = interrupt(request, response_schema=PlanReviewDecision)
        record = audit_record(
            "approval",
            MANAGER,
            when="plan",
            action=decision.action,
            reviewer=decision.reviewer,
            feedback=decision.feedback,
            revision=revision,
        )
        if decision.action == "approve":
            return Command(update={"audit": [record]}, goto=MANAGER)
        if decision.action == "edit":
            edited = {**ledger, "plan": list(decision.plan or ())}
            return Command(update={"audit": [record], "task_ledger": edited}, goto=MANAGER)
        if revision >= self.max_revisions:
            update = self.termination.stop(state, "rejected", before=[record])
            return Command(update=update, goto=END)
        return Command(
            update={
                "audit": [record],
                "plan_revision": revision + 1,
                "plan_feedback": decision.feedback,
            },
            goto=PLAN,
        )


class ProgressNode:
    """After each turn: stop, or read progress, count stalls, replan/reset, pick a speaker."""

    __name__ = MANAGER

    def __init__(
        self,
        manager: Manager,
        *,
        entries: Mapping[str, str],
        termination: Termination,
        max_stalls: int,
        max_resets: int,
        final_answer: bool,
    ) -> None:
        """Build the node (see `create_magentic` for the arguments)."""
        self.manager = manager
        self.entries = dict(entries)
        self.termination = termination
        self.max_stalls = max_stalls
        self.max_resets = max_resets
        self.final_answer = final_answer

    def __call__(self, state: Any, config: RunnableConfig) -> Command[Any]:
        """Decide the next move."""
        state = as_mapping(state)
        reason = self.termination(state)
        if reason is not None:
            return self._end(state, config, reason, {})
        usage: dict[str, Usage] = {}
        audit: list[AuditRecord] = []
        try:
            result = self.manager.progress(state, config)
        except StructuredOutputError as error:
            # No valid ledger after the re-asks: count a stall and replan, never crash.
            usage = add_usage(usage, error.usage)
            audit.extend(audit_of(error))
            audit.append(
                audit_record("routing", MANAGER, decision="invalid_ledger", error=str(error))
            )
            return self._stalled(state, config, usage, audit, invalid=True)
        usage = add_usage(usage, result.usage)
        audit.extend(result.audit)
        ledger: Any = result.parsed
        fields = ledger.model_dump()
        _event("progress", ledger=fields, round=state.get("round", 0))
        audit.append(audit_record("routing", MANAGER, decision="progress", ledger=fields))
        if ledger.is_request_satisfied:
            pending = {"usage": usage, "audit": audit, "progress_ledger": fields}
            return self._end(state, config, "completed", pending)
        if ledger.is_in_loop or not ledger.is_progress_being_made:
            return self._stalled(state, config, usage, audit, ledger=fields)
        return self._give_floor(fields, usage, audit, stalls=0)

    def _give_floor(
        self,
        ledger: Mapping[str, Any],
        usage: Mapping[str, Usage],
        audit: list[AuditRecord],
        *,
        stalls: int,
        extra: Mapping[str, Any] | None = None,
    ) -> Command[Any]:
        speaker = str(ledger["next_speaker"])
        instruction = HumanMessage(str(ledger["instruction"]), name=MANAGER)
        update = {
            **(extra or {}),
            **counted(usage),
            "audit": audit,
            "progress_ledger": dict(ledger),
            "speaker": speaker,
            "stalls": stalls,
            "messages": [instruction],
        }
        return Command(update=update, goto=self.entries[speaker])

    def _stalled(
        self,
        state: Mapping[str, Any],
        config: RunnableConfig,
        usage: dict[str, Usage],
        audit: list[AuditRecord],
        *,
        ledger: Mapping[str, Any] | None = None,
        invalid: bool = False,
    ) -> Command[Any]:
        stalls = int(state.get("stalls") or 0) + 1
        if stalls < self.max_stalls and not invalid:
            assert ledger is not None  # a valid ledger that reports a stall
            return self._give_floor(ledger, usage, audit, stalls=stalls)
        resets = int(state.get("resets") or 0)
        if stalls >= self.max_stalls and resets >= self.max_resets:
            return self._end(state, config, "stalled", {"usage": usage, "audit": audit})
        # Replan with the full history first ...
        try:
            plan = self.manager.plan(state, config)
        except StructuredOutputError as error:
            usage = add_usage(usage, error.usage)
            audit.extend(audit_of(error))
            audit.append(audit_record("plan", MANAGER, decision="failed", error=str(error)))
            return self._end(state, config, "stalled", {"usage": usage, "audit": audit})
        update = _plan_update(plan, "replan")
        usage = add_usage(usage, update.pop("usage"))
        update.pop("run_usage")
        audit.extend(update.pop("audit"))
        extra: dict[str, Any] = {"task_ledger": update["task_ledger"], "stalls": stalls}
        if stalls >= self.max_stalls:
            # ... and only then reset the agents' context.
            extra.update(stalls=0, resets=resets + 1, reset_at=len(state["messages"]))
            _event("reset", resets=resets + 1)
            audit.append(audit_record("plan", MANAGER, decision="reset", resets=resets + 1))
        update = {**extra, **counted(usage), "audit": audit}
        return Command(update=update, goto=MANAGER)

    def _end(
        self,
        state: Mapping[str, Any],
        config: RunnableConfig,
        reason: str,
        pending: Mapping[str, Any],
    ) -> Command[Any]:
        usage: dict[str, Usage] = dict(pending.get("usage") or {})
        audit: list[AuditRecord] = list(pending.get("audit") or ())
        final = self.termination.final(state)
        if self.final_answer:
            try:
                answer = self.manager.final(state, config)
            except Exception as error:  # the synthesis failed: keep the real latest answer
                audit.extend(audit_of(error))
                audit.append(
                    audit_record(
                        "routing", MANAGER, decision="final_answer_failed", error=str(error)
                    )
                )
            else:
                usage = add_usage(usage, answer.usage)
                audit.extend(answer.audit)
                final = answer.message.text
                _event("final", text=final)
                audit.append(audit_record("routing", MANAGER, decision="final_answer"))
        update = {
            **{k: v for k, v in pending.items() if k == "progress_ledger"},
            **counted(usage),
            "final": final,
            "stop_reason": reason,
            "audit": [*audit, audit_record("termination", None, reason=reason)],
        }
        return Command(update=update, goto=END)
