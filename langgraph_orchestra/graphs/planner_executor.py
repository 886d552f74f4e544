"""`create_planner_executor`: a validated plan run as a DAG, evaluated, replanned."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from langgraph.graph import END, START, StateGraph

from langgraph_orchestra.agents import Agent, check_team
from langgraph_orchestra.conditions import Condition
from langgraph_orchestra.context import ContextPolicy, follow_up_context, resolve_context
from langgraph_orchestra.errors import TeamConfigError
from langgraph_orchestra.graphs._common import (
    check_flag,
    check_max_revisions,
    check_termination,
    check_validators,
    check_whole,
    finish_graph,
    new_builder,
)
from langgraph_orchestra.names import FANOUT, FINALIZE, PLANNER, START_RUN
from langgraph_orchestra.nodes.completion import Action
from langgraph_orchestra.nodes.evaluation import EVALUATE, EvaluateNode, EvaluatorFn
from langgraph_orchestra.nodes.fanout import hold_turn
from langgraph_orchestra.nodes.finalize import FinalizeNode
from langgraph_orchestra.nodes.plans import (
    PLAN,
    REVIEW_PLAN,
    PlanApprovalNode,
    PlannerNode,
    plan_schemas,
)
from langgraph_orchestra.nodes.route import Route
from langgraph_orchestra.nodes.steps import (
    JOIN,
    StepJoin,
    StepScheduler,
    plan_result,
    step_view,
    synthesis_view,
)
from langgraph_orchestra.nodes.termination import Termination
from langgraph_orchestra.nodes.turn import Validator
from langgraph_orchestra.nodes.wiring import add_agents
from langgraph_orchestra.prompts import DEFAULT_PROMPTS, Prompts
from langgraph_orchestra.redaction import Redact
from langgraph_orchestra.resilience import ModelLike, resilient_model
from langgraph_orchestra.state.schemas import PlannerExecutorState, check_state_schema
from langgraph_orchestra.tracing import ModelPrice, merge_prices

__all__ = ["create_planner_executor"]

PATTERN = "planner_executor"
_OWN_NAMES = (PLANNER, PLAN, REVIEW_PLAN, JOIN, EVALUATE)


def _synthesized(name: str) -> Callable[[Mapping[str, Any]], str | None]:
    """The result: the synthesizer's answer, else (it gave none) the plan's own."""

    def result(state: Mapping[str, Any]) -> str | None:
        answer = (state.get("results") or {}).get(name)
        return answer if answer is not None else plan_result(state)

    return result


def _check_evaluator(evaluator: object, threshold: object, names: Sequence[str]) -> float | None:
    if evaluator is None:
        if threshold is not None:
            raise TeamConfigError(
                "planner_executor threshold needs an evaluator: an Agent answering a Score, "
                "or a callable state -> Score"
            )
        return None
    if isinstance(evaluator, Agent):
        if evaluator.name in names:
            raise TeamConfigError(
                f"The evaluator '{evaluator.name}' has the name of an agent: give it another name"
            )
    elif not callable(evaluator):
        raise TeamConfigError(
            "planner_executor evaluator must be an Agent answering a Score or a callable "
            f"state -> Score, got {evaluator!r}"
        )
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise TeamConfigError(
            f"planner_executor evaluator needs threshold: a score from 0 to 1, got {threshold!r}"
        )
    if not 0 <= threshold <= 1:
        raise TeamConfigError(f"threshold must be from 0 to 1, got {threshold!r}")
    return float(threshold)


def create_planner_executor(
    agents: Sequence[Agent],
    *,
    planner_model: ModelLike,
    evaluator: Agent | EvaluatorFn | None = None,
    threshold: float | None = None,
    max_replans: int = 2,
    plan_approval: bool = False,
    synthesizer: Agent | None = None,
    max_revisions: int = 3,
    termination: Condition | None = None,
    context: ContextPolicy | None = None,
    validators: Mapping[str, Validator | Sequence[Validator]] | None = None,
    validate_human: bool = True,
    max_retries: int = 3,
    state_schema: type[Any] | None = None,
    prices: Mapping[str, ModelPrice] | None = None,
    prompts: Prompts = DEFAULT_PROMPTS,
    redact: Redact = None,
    redact_agents: bool = False,
    on_end: Sequence[Action] | None = None,
) -> StateGraph[Any, Any, Any, Any]:
    """Build a planner-executor team: a validated plan, run as a DAG of its steps.

    The planner's model answers with a `Plan`: steps with an `id`, an `agent` (one of the
    team, enforced by the schema), an `instruction` and `depends_on` (step ids). A plan
    that is empty, reuses an id, depends on no step or loops goes back to the planner
    with the exact error (the measured call's re-asks); with none valid the run ends with
    `stop_reason="error"`. The steps whose dependencies are done run in parallel, a wave
    at a time (a run-time fan-out by agent: when two ready steps need the same agent,
    they run in successive waves). A step sees only its dependencies' outputs and its
    instruction (an agent's own `context=` replaces that view). A failed step follows
    its agent's `on_error`; with `"continue"` the steps that depend on it are skipped.

    `final` is the `synthesizer`'s answer (it sees every step's output), else the output
    of the plan's last step (the last steps' outputs joined when several end the plan).
    An `evaluator` scores that result (`Score`: 0..1 and reasons); below `threshold` the
    planner plans again, told the score and what was done, up to `max_replans` times;
    then the best-scored result is `final`, with `stop_reason="below_threshold"`.
    `plan_approval=True` interrupts with each plan (`PlanApprovalRequest`): approve, edit
    it (checked again; a malformed plan is refused and the gate stays open) or reject it
    with feedback (the planner replans; `max_revisions` rejections, then `rejected`).
    The plan, each step's status and output, every evaluation and replan are in state
    (`plan`, `steps`, `evaluations`, `replans`), the audit trail and `custom` stream
    events (`planner_executor.plan`, `.replan`, `.edited`, `.evaluated`); a resumed run
    re-runs no finished step. The planner's calls count in `usage` as `planner`.

    Args:
        agents: The agents that carry out steps.
        planner_model: The planner's chat model (or a `"provider:model"` string, or a
            `Resilient` model with fallbacks and a circuit breaker).
        evaluator: An `Agent` whose model answers a `Score` (a runnable returns one),
            or a callable `state -> Score` (reading `state["result"]`). It has no gates
            and a failure raises `AgentError`.
        threshold: The score a result needs (0..1); required with an evaluator.
        max_replans: Replans allowed after low scores.
        plan_approval: Interrupt with each plan for a person's decision.
        synthesizer: An agent writing the final answer from the steps' outputs.
        max_revisions: Plan rejections (and output revisions at gates) allowed.
        termination: A condition that ends the run (asked before each wave).
        context: A view of the transcript each step sees before its inputs (`None`:
            none, only its dependencies' outputs and its instruction).
        validators: Output checks per agent name.
        validate_human: Run the validators on human content too (a reviewer's `edit` and
            `respond`, a supplied output); `False` trusts the reviewers.
        max_retries: Times a human may retry one failed turn of an escalating agent; its
            next failure then stops the run with `stop_reason="max_retries"`.
        state_schema: A state schema extending `PlannerExecutorState`.
        prices: Extra model prices for cost accounting.
        prompts: Prompt templates (`planner`, `plan_*`, `evaluation`).
        redact: Clears personal data and secrets from what leaves the run: audit
            details and exception records (`"default"`, a `Redactor(...)` or a callable
            `str -> str`; see `redaction`).
        redact_agents: Agents, managers and selectors read the transcript redacted too.
        on_end: Completion actions `state -> None` (sync or async), run once when a run
            ends, whatever its stop reason (see `nodes.completion`).

    Returns:
        The uncompiled graph.

    Raises:
        TeamConfigError: On an invalid team or argument, before any model call.

    Example:
        ```python
        team = create_planner_executor(
            [Agent("researcher", "Finds facts", model=m1),
             Agent("writer", "Writes sections", model=m2)],
            planner_model=m3, evaluator=Agent("judge", model=m4), threshold=0.7,
        ).compile()
        result = team.invoke({"messages": [("user", "A brief on e-bike rules in the EU")]})
        ```
    """
    team = check_team(agents, pattern=PATTERN)
    names = [a.name for a in team]
    if planner_model is None:
        raise TeamConfigError(
            "planner_executor needs planner_model: the chat model that writes the plan"
        )
    if synthesizer is not None and not isinstance(synthesizer, Agent):
        raise TeamConfigError(
            f"planner_executor synthesizer must be an Agent, got {type(synthesizer).__name__}"
        )
    own = [a.name for a in (*team, synthesizer) if a is not None]
    for name in own:
        if name in _OWN_NAMES:
            raise TeamConfigError(
                f"Agent name '{name}' is taken by planner_executor's own nodes "
                f"{list(_OWN_NAMES)}: rename the agent"
            )
    if synthesizer is not None and synthesizer.name in names:
        raise TeamConfigError(
            f"The synthesizer '{synthesizer.name}' has the name of an agent: give it another name"
        )
    needed = _check_evaluator(evaluator, threshold, own)
    check_whole(max_replans, "max_replans", minimum=0)
    if not isinstance(plan_approval, bool):
        raise TeamConfigError(f"plan_approval must be True or False, got {plan_approval!r}")
    checks = check_validators(validators, own)
    check_max_revisions(max_revisions)
    check_flag(validate_human, "validate_human")
    check_whole(max_retries, "max_retries", minimum=0)
    condition = check_termination(termination, pattern=PATTERN)
    schema = check_state_schema(state_schema, PlannerExecutorState, pattern=PATTERN)
    price_table = merge_prices(prices)
    stop = Termination(condition, speakers=own)
    view = step_view(prompts, resolve_context(context, owner=PATTERN) if context else None)
    plan_schema, decision_schema = plan_schemas(names)
    model = resilient_model(planner_model, owner="planner_executor planner_model")

    routes = [
        Route(
            prompts=prompts,
            agent=agent,
            node=agent.name,
            next=JOIN,
            stop=JOIN,
            view=resolve_context(agent.context) if agent.context is not None else view,
            follow_up=follow_up_context(agent.context if agent.context is not None else "last"),
            results=True,
            write=None if agent.approves_after else hold_turn,
        )
        for agent in team
    ]
    finish = EVALUATE if evaluator is not None else None
    synth = None
    if synthesizer is not None:
        synth = Route(
            prompts=prompts,
            agent=synthesizer,
            node=synthesizer.name,
            next=finish or FINALIZE,
            view=(
                resolve_context(synthesizer.context)
                if synthesizer.context is not None
                else synthesis_view(prompts)
            ),
            results=True,
        )
    after_plan = REVIEW_PLAN if plan_approval else FANOUT
    builder = new_builder(schema, agents=team, pattern=PATTERN, one_owner=True)
    # The planner plans again after a rejected plan or a low score.
    replans = plan_approval or evaluator is not None
    for begins in (True, False) if replans else (True,):
        builder.add_node(
            START_RUN if begins else PLAN,
            PlannerNode(
                model,
                team={a.name: a.description for a in team},
                schema=plan_schema,
                begins=begins,
                after=after_plan,
                pattern=PATTERN,
                prices=price_table,
                prompts=prompts,
            ),
            metadata={"pattern": PATTERN, "agent": PLANNER},
            destinations=(after_plan, END),
        )
    if plan_approval:
        builder.add_node(
            REVIEW_PLAN,
            PlanApprovalNode(decision_schema, max_revisions=max_revisions, after=FANOUT),
            metadata={"pattern": PATTERN, "agent": PLANNER},
            destinations=(FANOUT, PLAN, END),
        )
    builder.add_node(
        FANOUT,
        StepScheduler(
            routes,
            termination=stop,
            synthesizer=synth,
            finish=finish,
            pattern=PATTERN,
            prices=price_table,
        ),
        metadata={"pattern": PATTERN},
        destinations=(
            *(r.entry for r in routes),
            *((synth.entry,) if synth else ()),
            *((finish,) if finish else ()),
            JOIN,
            END,
        ),
    )
    add_agents(
        builder,
        [*routes, *((synth,) if synth else ())],
        pattern=PATTERN,
        prices=price_table,
        prompts=prompts,
        max_revisions=max_revisions,
        validators=checks,
        validate_human=validate_human,
        max_retries=max_retries,
    )
    builder.add_node(
        JOIN, StepJoin(), defer=True, metadata={"pattern": PATTERN}, destinations=(FANOUT, END)
    )
    result = _synthesized(synthesizer.name) if synthesizer is not None else plan_result
    if evaluator is not None:
        assert needed is not None  # checked with the evaluator
        builder.add_node(
            EVALUATE,
            EvaluateNode(
                evaluator,
                threshold=needed,
                max_replans=max_replans,
                result=result,
                pattern=PATTERN,
                prices=price_table,
                prompts=prompts,
            ),
            metadata={"pattern": PATTERN},
            destinations=(PLAN, END),
        )
    # The synthesizer's answer ends the run, or a gate or a person may end it there.
    finalize = None
    if synth is not None and (
        synth.next == FINALIZE or synth.agent.approval or synth.agent.on_error == "escalate"
    ):
        finalize = FinalizeNode([synth.agent.name], fallback=plan_result)
    builder.add_edge(START, START_RUN)
    return finish_graph(
        builder,
        pattern=PATTERN,
        redact=redact,
        redact_agents=redact_agents,
        on_end=on_end,
        finalize=finalize,
    )
