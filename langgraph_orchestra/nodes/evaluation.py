"""Evaluation: a plan's result scored against a threshold, and the replan it may cause.

The evaluator is an `Agent` whose model answers a structured `Score` (through the
measured call: an invalid score is asked again; a runnable returns a `Score` or its
dict), or a callable `state -> Score` reading `state["result"]`. Below the threshold
the planner plans again, told the score, the reasons and what each step did, up to
`max_replans` times; then the best-scored result of the run is `final`, with
`stop_reason="below_threshold"`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeAlias

from langchain_core.messages import BaseMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END
from langgraph.types import Command
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from langgraph_orchestra.agents import OUTPUT_KEY, Agent, AgentRunner
from langgraph_orchestra.context import run_task
from langgraph_orchestra.errors import AgentError
from langgraph_orchestra.names import PLANNER
from langgraph_orchestra.nodes.plans import PLAN, best_result, plan_event
from langgraph_orchestra.nodes.route import as_mapping
from langgraph_orchestra.nodes.run import counted
from langgraph_orchestra.nodes.termination import closing
from langgraph_orchestra.prompts import DEFAULT_PROMPTS, Prompts
from langgraph_orchestra.state.records import Evaluation, ReplanRecord, Usage, audit_record
from langgraph_orchestra.tracing import ModelPrice, call_config

__all__ = ["EVALUATE", "EVALUATOR", "EvaluateNode", "EvaluatorFn", "Score"]

EVALUATE = "evaluate"
"""The node that scores a plan's result."""
EVALUATOR = "evaluator"
"""The audit name of a callable evaluator."""


class Score(BaseModel):
    """An evaluator's score of a result."""

    model_config = ConfigDict(extra="forbid")

    score: float = Field(ge=0.0, le=1.0, description="0 (useless) to 1 (complete and correct).")
    reasons: list[str] = Field(default_factory=list, description="Why, each one specific.")


EvaluatorFn: TypeAlias = Callable[[Mapping[str, Any]], "Score | Mapping[str, Any]"]
"""A callable evaluator: the state (with `result`) -> a `Score` (or its dict)."""


class EvaluateNode:
    """Scores the plan's result: ends the run, or sends the planner back to replan."""

    __name__ = EVALUATE

    def __init__(
        self,
        evaluator: Agent | EvaluatorFn,
        *,
        threshold: float,
        max_replans: int,
        result: Callable[[Mapping[str, Any]], str | None],
        pattern: str,
        prices: Mapping[str, ModelPrice],
        prompts: Prompts = DEFAULT_PROMPTS,
    ) -> None:
        """Build the node.

        Args:
            evaluator: An agent answering a `Score`, or a callable `state -> Score`.
            threshold: The score a result needs (0..1).
            max_replans: Replans allowed after low scores in a run.
            result: Gives the plan's result from the state (a synthesizer's answer,
                else the plan's last outputs).
            pattern: The pattern name, for tracing.
            prices: The price table.
            prompts: Prompt templates (`evaluation`).
        """
        self.threshold = threshold
        self.max_replans = max_replans
        self.result = result
        self.pattern = pattern
        self.prompts = prompts
        self.runner: AgentRunner | None = None
        self.fn: EvaluatorFn | None = None
        if isinstance(evaluator, Agent):
            self.name = evaluator.name
            self.runner = AgentRunner(evaluator, prices=prices, output=Score)
        else:
            self.name = EVALUATOR
            self.fn = evaluator

    def _view(self, state: Mapping[str, Any], result: str | None) -> list[BaseMessage]:
        messages: Sequence[BaseMessage] = state["messages"]
        task = run_task(state)
        request = self.prompts.evaluation.format(result=result or "(no result)")
        return [*([messages[task]] if task is not None else []), HumanMessage(request)]

    def _score(
        self, state: Mapping[str, Any], result: str | None, config: RunnableConfig
    ) -> tuple[Score, dict[str, Usage], list[Any]]:
        try:
            if self.runner is not None:
                cfg = config
                if self.runner.traced:
                    cfg = call_config(config, pattern=self.pattern, agent=self.name)
                turn = self.runner.invoke(self._view(state, result), cfg)
                fields = turn.messages[-1].response_metadata[OUTPUT_KEY]
                # The call's fallback and breaker records come with the score.
                return Score.model_validate(fields), turn.usage, list(turn.audit)
            assert self.fn is not None  # one of the two is set
            answer = self.fn({**state, "result": result})
            if isinstance(answer, Score):
                return answer, {}, []
            return Score.model_validate(answer), {}, []
        except AgentError:
            raise
        except ValidationError as error:
            raise AgentError(
                f"Evaluator '{self.name}' must return a Score (score 0..1, reasons): {error}",
                agent=self.name,
            ) from error
        except Exception as error:
            raise AgentError(
                f"Evaluator '{self.name}' failed: {type(error).__name__}: {error}",
                agent=self.name,
            ) from error

    def __call__(self, state: Any, config: RunnableConfig) -> Command[Any]:
        """Score the result; end, or replan."""
        state = as_mapping(state)
        result = self.result(state)
        score, usage, calls = self._score(state, result, config)
        evaluation: Evaluation = {
            "score": score.score,
            "reasons": list(score.reasons),
            "threshold": self.threshold,
            "result": result,
        }
        evaluations = [*(state.get("evaluations") or ()), evaluation]
        plan_event("evaluated", **evaluation)
        record = audit_record(
            "plan",
            self.name,
            decision="evaluated",
            score=score.score,
            reasons=list(score.reasons),
            threshold=self.threshold,
        )
        update: dict[str, Any] = {
            **counted(usage),
            "result": result,
            "evaluations": evaluations,
        }
        if score.score >= self.threshold:
            return Command(
                update={**update, **closing(result, "completed", before=[*calls, record])},
                goto=END,
            )
        replans: list[ReplanRecord] = list(state.get("replans") or ())
        low = sum(1 for r in replans if r["reason"] == "below_threshold")
        if low >= self.max_replans:
            best = best_result({"evaluations": evaluations})
            decision = audit_record("routing", PLANNER, decision="best_so_far", replans=low)
            closed = closing(best, "below_threshold", before=[*calls, record, decision])
            return Command(update={**update, **closed}, goto=END)
        replan: ReplanRecord = {
            "reason": "below_threshold",
            "feedback": "",
            "evaluation": evaluation,
            "plan": list(state.get("plan") or ()),
            "steps": dict(state.get("steps") or {}),
        }
        update.update(audit=[*calls, record], replans=[*replans, replan])
        return Command(update=update, goto=PLAN)
