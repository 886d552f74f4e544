"""Plans: the planner's typed `Plan`, its validation, the planner's turn and plan approval.

The planner's model answers with a `Plan` (steps with an id, an agent, an instruction
and the ids they depend on) by structured output through the measured call. The team's
schema makes `agent` one of the team's names; `check_plan` refuses an empty plan, a
duplicate id, a dependency on no step and a cycle, and the call asks again with the
exact error (bounded by its re-asks). A plan a person edits at the approval gate is
checked the same way, and a malformed one is refused with the gate left open.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.config import get_stream_writer
from langgraph.graph import END
from langgraph.types import Command, interrupt
from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator
from typing_extensions import TypedDict

from langgraph_orchestra.calls import ModelCall
from langgraph_orchestra.context import run_task
from langgraph_orchestra.errors import StructuredOutputError
from langgraph_orchestra.events import gate_opening
from langgraph_orchestra.names import PLANNER
from langgraph_orchestra.nodes.ledgers import (
    PLAN,
    PLAN_REVIEW_ACTIONS,
    REVIEW_PLAN,
    PlanReviewAction,
)
from langgraph_orchestra.nodes.route import as_mapping
from langgraph_orchestra.nodes.run import begin_run, counted, in_run, starting
from langgraph_orchestra.nodes.termination import closing
from langgraph_orchestra.prompts import DEFAULT_PROMPTS, Prompts
from langgraph_orchestra.resilience import Resilient, audit_of
from langgraph_orchestra.state.records import (
    Evaluation,
    PlannedStep,
    ReplanRecord,
    StepOutcome,
    audit_record,
)

__all__ = [
    "PLAN",
    "REVIEW_PLAN",
    "Plan",
    "PlanApprovalDecision",
    "PlanApprovalNode",
    "PlanApprovalRequest",
    "PlanStep",
    "PlannerNode",
    "check_plan",
    "fresh_steps",
    "plan_event",
    "plan_schemas",
    "step_outcome",
]


class PlanStep(BaseModel):
    """One step of a plan."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, description="A short id, unique in the plan.")
    agent: str = Field(description="The agent that does the step.")
    instruction: str = Field(
        min_length=1, description="The complete task: the agent sees only it and its inputs."
    )
    depends_on: list[str] = Field(
        default_factory=list, description="Ids of the steps whose outputs this step needs."
    )


class Plan(BaseModel):
    """The planner's plan: steps that run as a DAG of their dependencies."""

    model_config = ConfigDict(extra="forbid")

    steps: list[PlanStep] = Field(description="The steps, in a sensible order.")


def _cycle(steps: Sequence[PlanStep]) -> list[str] | None:
    """A dependency cycle as the ids along it (first id repeated at the end), if any."""
    needs = {s.id: list(dict.fromkeys(s.depends_on)) for s in steps}
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for dep in needs[node]:
            if state.get(dep) == 1:
                return [*path[path.index(dep) :], dep]
            if dep not in state:
                found = visit(dep)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for step in steps:
        if step.id not in state:
            found = visit(step.id)
            if found:
                return found
    return None


def check_plan(plan: Plan) -> None:
    """Raise `ValueError` naming what is wrong with `plan`'s structure, if anything.

    An empty plan, a duplicate step id, a dependency on an id that is no step of the plan
    and a dependency cycle are refused. (That each agent is one of the team's is the
    team's schema's job: see `plan_schemas`.)
    """
    if not plan.steps:
        raise ValueError("the plan has no steps; give at least one")
    ids: list[str] = []
    for step in plan.steps:
        if step.id in ids:
            raise ValueError(f"step id '{step.id}' is used twice; step ids must be unique")
        ids.append(step.id)
    for step in plan.steps:
        for dep in step.depends_on:
            if dep not in ids:
                raise ValueError(
                    f"step '{step.id}' depends on '{dep}', which is not a step of the plan; "
                    f"steps: {', '.join(ids)}"
                )
    cycle = _cycle(plan.steps)
    if cycle:
        raise ValueError(
            f"the steps {' -> '.join(cycle)} form a cycle; a step cannot depend on itself, "
            "directly or through other steps"
        )


def fresh_steps(plan: Sequence[PlannedStep]) -> dict[str, StepOutcome]:
    """Every step of `plan` pending."""
    return {s["id"]: {"status": "pending", "output": None, "reason": None} for s in plan}


def step_outcome(steps: Mapping[str, StepOutcome], step_id: str) -> StepOutcome:
    """Where step `step_id` stands (pending when `steps` does not list it)."""
    return steps.get(step_id) or {"status": "pending", "output": None, "reason": None}


def plan_event(kind: str, **data: Any) -> None:
    """Emit a `planner_executor.<kind>` custom stream event (a no-op when none stream)."""
    get_stream_writer()({"type": f"planner_executor.{kind}", **data})


class PlanApprovalRequest(TypedDict):
    """What plan approval shows the reviewer (the interrupt's value)."""

    type: Literal["plan_approval"]
    """Always `"plan_approval"`."""
    plan: list[PlannedStep]
    """The plan's steps."""
    revision: int
    """How many plans were rejected so far in this run."""
    max_revisions: int
    """Rejections allowed before the run stops as `rejected`."""
    actions: list[str]
    """The decisions allowed."""


class PlanApprovalDecision(BaseModel):
    """A reviewer's decision on a plan (the resume value).

    `approve` runs it; `edit` runs `plan` instead (checked like the planner's: a malformed
    plan is refused and the gate stays open); `reject` has the planner plan again with
    the `feedback`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: PlanReviewAction
    """The decision."""
    plan: Plan | None = None
    """The plan to run instead, for `edit`: `{"steps": [...]}`."""
    feedback: str = ""
    """Why, for `reject`: the planner reads it when it plans again."""
    reviewer: str = Field(default="human", min_length=1)
    """Who decided, for the audit trail."""

    @model_validator(mode="after")
    def _checked(self) -> PlanApprovalDecision:
        if self.action == "edit" and self.plan is None:
            raise ValueError("action 'edit' needs 'plan': the plan to run, as {'steps': [...]}")
        if self.plan is not None:
            check_plan(self.plan)
        return self


def plan_schemas(agents: Sequence[str]) -> tuple[type[Plan], type[PlanApprovalDecision]]:
    """The team's `Plan` (each step's agent one of `agents`) and its approval decision."""
    names: Any = Literal[tuple(agents)]
    step: Any = create_model(
        "PlanStep",
        __base__=PlanStep,
        agent=(names, Field(description="The agent that does the step.")),
    )
    plan: Any = create_model(
        "Plan",
        __base__=Plan,
        steps=(list[step], Field(description="The steps, in a sensible order.")),
    )
    decision: Any = create_model(
        "PlanApprovalDecision", __base__=PlanApprovalDecision, plan=(plan | None, None)
    )
    return plan, decision


def _steps_of(plan: Plan) -> list[PlannedStep]:
    return [
        {
            "id": s.id,
            "agent": s.agent,
            "instruction": s.instruction,
            "depends_on": list(dict.fromkeys(s.depends_on)),
        }
        for s in plan.steps
    ]


def best_result(state: Mapping[str, Any]) -> str | None:
    """The best-scored result of this run so far (the earliest of equals), if any."""
    evaluations = state.get("evaluations") or ()
    if not evaluations:
        return None
    best: Evaluation = max(evaluations, key=lambda e: e["score"])
    return best["result"]


class PlannerNode:
    """The planner's turn: a validated plan at a run's start (`begins`), or a new one.

    A replan (after a rejected plan or a low score) shows the planner why and what the
    replaced plan did (`state["replans"][-1]`). No valid plan within the re-asks ends
    the run with `stop_reason="error"` (and the best result so far, if any).
    """

    def __init__(
        self,
        model: BaseChatModel | Resilient,
        *,
        team: Mapping[str, str],
        schema: type[Plan],
        begins: bool,
        after: str,
        pattern: str,
        prices: Mapping[str, Any],
        prompts: Prompts = DEFAULT_PROMPTS,
    ) -> None:
        """Build the node.

        Args:
            model: The planner's chat model.
            team: Each agent's description, in team order.
            schema: The team's `Plan` (see `plan_schemas`).
            begins: Whether it starts the run.
            after: Where the run goes with a plan (the approval gate or the steps).
            pattern: The pattern name, for tracing.
            prices: The price table.
            prompts: Prompt templates (`planner`, `plan_replan`, ...).
        """
        lines = "\n".join(
            prompts.participant_line.format(name=n, description=d or "(no description)")
            for n, d in team.items()
        )
        self.call = ModelCall(
            model,
            participant=PLANNER,
            pattern=pattern,
            prices=prices,
            instructions=prompts.planner.format(team=lines),
            prompts=prompts,
        )
        self.schema = schema
        self.begins = begins
        self.after = after
        self.prompts = prompts
        self.__name__ = "start" if begins else PLAN

    def _prompt(self, state: Mapping[str, Any]) -> list[BaseMessage]:
        messages: Sequence[BaseMessage] = state["messages"]
        task = run_task(state)
        shown: list[BaseMessage] = [messages[task]] if task is not None else list(messages[-1:])
        replans: Sequence[ReplanRecord] = state.get("replans") or ()
        if not self.begins and replans:
            shown.append(HumanMessage(self._replan(replans[-1]), name="orchestra"))
        return shown

    def _replan(self, replan: ReplanRecord) -> str:
        prompts = self.prompts
        evaluation = replan["evaluation"]
        if replan["reason"] == "rejected" or evaluation is None:
            why = prompts.plan_rejected.format(feedback=replan["feedback"] or "(none given)")
        else:
            why = prompts.plan_scored.format(
                score=evaluation["score"],
                threshold=evaluation["threshold"],
                reasons="\n".join(f"- {r}" for r in evaluation["reasons"]) or "- (none given)",
            )
        done = "\n".join(
            prompts.plan_step_line.format(
                step=s["id"],
                agent=s["agent"],
                status=step_outcome(replan["steps"], s["id"])["status"],
                instruction=s["instruction"],
                output=step_outcome(replan["steps"], s["id"])["output"] or "(none)",
            )
            for s in replan["plan"]
        )
        return prompts.plan_replan.format(why=why, done=done)

    def __call__(self, state: Any, config: RunnableConfig) -> Command[Any]:
        """Plan, and go on with the plan (or end the run without one)."""
        state = as_mapping(state)
        begin: dict[str, Any] = {}
        if self.begins:
            begin = {
                **begin_run(state),
                "plan": None,
                "steps": {},
                "wave": {},
                "result": None,
                "evaluations": [],
                "replans": [],
                "plan_revision": 0,
            }
            state = {**in_run(state, begin), **{k: v for k, v in begin.items() if k != "run"}}
        try:
            result = self.call.invoke(
                self._prompt(state), config, schema=self.schema, check=check_plan
            )
        except StructuredOutputError as error:
            # No valid plan within the re-asks: the run ends with the reason, not a guess.
            record = audit_record("plan", PLANNER, decision="failed", error=str(error))
            update = {
                **counted(error.usage),
                **closing(best_result(state), "error", before=[*audit_of(error), record]),
            }
            return Command(update=starting(update, begin), goto=END)
        assert result.parsed is not None  # a schema call gives a parsed answer or raises
        steps = _steps_of(result.parsed)
        kind = "plan" if self.begins else "replan"
        plan_event(kind, plan=steps)
        update = {
            **counted(result.usage),
            "plan": steps,
            "steps": fresh_steps(steps),
            "result": None,
            "audit": [*result.audit, audit_record("plan", PLANNER, decision=kind, plan=steps)],
        }
        return Command(update=starting(update, begin), goto=self.after)


class PlanApprovalNode:
    """Interrupts with the plan for a person to approve, edit or reject."""

    __name__ = REVIEW_PLAN

    def __init__(
        self, decision: type[PlanApprovalDecision], *, max_revisions: int, after: str
    ) -> None:
        """Build the node.

        Args:
            decision: The team's decision schema (see `plan_schemas`).
            max_revisions: Rejections allowed in a run before it stops as `rejected`.
            after: Where an approved (or edited) plan goes.
        """
        self.decision = decision
        self.max_revisions = max_revisions
        self.after = after

    def __call__(self, state: Any) -> Command[Any]:
        """Ask for a decision on the plan and route on it."""
        state = as_mapping(state)
        plan: list[PlannedStep] = list(state.get("plan") or ())
        revision = int(state.get("plan_revision") or 0)
        request: PlanApprovalRequest = {
            "type": "plan_approval",
            "plan": plan,
            "revision": revision,
            "max_revisions": self.max_revisions,
            "actions": list(PLAN_REVIEW_ACTIONS),
        }
        with gate_opening(PLANNER, request):
            decision = interrupt(request, response_schema=self.decision)
        detail: dict[str, Any] = {
            "when": "plan",
            "action": decision.action,
            "reviewer": decision.reviewer,
            "feedback": decision.feedback,
            "revision": revision,
        }
        if decision.action == "approve":
            return Command(
                update={"audit": [audit_record("approval", PLANNER, **detail)]}, goto=self.after
            )
        if decision.action == "edit":
            assert decision.plan is not None  # the decision's schema requires it
            edited = _steps_of(decision.plan)
            record = audit_record("approval", PLANNER, **detail, plan=edited, original=plan)
            plan_event("edited", plan=edited)
            update = {"audit": [record], "plan": edited, "steps": fresh_steps(edited)}
            return Command(update=update, goto=self.after)
        record = audit_record("approval", PLANNER, **detail)
        if revision >= self.max_revisions:
            return Command(
                update=closing(best_result(state), "rejected", before=[record]), goto=END
            )
        replan: ReplanRecord = {
            "reason": "rejected",
            "feedback": decision.feedback,
            "evaluation": None,
            "plan": plan,
            "steps": dict(state.get("steps") or {}),
        }
        update = {
            "audit": [record],
            "plan_revision": revision + 1,
            "replans": [*(state.get("replans") or ()), replan],
        }
        return Command(update=update, goto=PLAN)
