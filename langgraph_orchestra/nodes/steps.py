"""Running a plan as a DAG: waves of ready steps, each a run-time fan-out.

`StepScheduler` starts the steps whose dependencies are all done, in parallel, through
a `FanOutNode` keyed by agent: one step per agent per wave, so two ready steps of the
same agent run in successive waves. A step sees only its instruction, after the outputs
of the steps it depends on (`step_view`). `StepJoin` waits for the wave, records each
step as done (its output) or failed (why), marks the steps that depend on a failed one
as skipped, and goes back to the scheduler. When no step is left, the plan's result is
the output of its last steps (`plan_result`), or a synthesizer's answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END
from langgraph.types import Command, Overwrite

from langgraph_orchestra.context import View, kept_refreshing, run_task
from langgraph_orchestra.names import FANOUT, PLANNER
from langgraph_orchestra.nodes.aggregate import concat
from langgraph_orchestra.nodes.delegation import JOIN
from langgraph_orchestra.nodes.fanout import FanOutNode, branch_outcomes, release_turns
from langgraph_orchestra.nodes.plans import step_outcome
from langgraph_orchestra.nodes.route import Route, as_mapping
from langgraph_orchestra.nodes.termination import Termination, closing
from langgraph_orchestra.prompts import DEFAULT_PROMPTS, Prompts
from langgraph_orchestra.state.records import PlannedStep, StepOutcome, audit_record
from langgraph_orchestra.tracing import ModelPrice

__all__ = [
    "JOIN",
    "StepJoin",
    "StepScheduler",
    "plan_result",
    "step_view",
    "synthesis_view",
]


def _by_id(state: Mapping[str, Any]) -> dict[str, PlannedStep]:
    return {s["id"]: s for s in state.get("plan") or ()}


def _shown(step: PlannedStep, output: str, prompts: Prompts) -> HumanMessage:
    text = prompts.plan_step_output.format(step=step["id"], agent=step["agent"], output=output)
    return HumanMessage(text, name=PLANNER)


def step_view(prompts: Prompts = DEFAULT_PROMPTS, context: View | None = None) -> View:
    """A step's view: its dependencies' outputs, then its instruction, nothing more.

    With `context`, that view of the transcript comes first.
    """

    def view(state: Mapping[str, Any], agent: str) -> list[BaseMessage]:
        plan = _by_id(state)
        step = plan[state["wave"][agent]]
        outcomes: Mapping[str, StepOutcome] = state.get("steps") or {}
        shown = list(context(state, agent)) if context is not None else []
        for dep in step["depends_on"]:
            output = outcomes[dep]["output"]
            if output is not None:
                shown.append(_shown(plan[dep], output, prompts))
        shown.append(HumanMessage(step["instruction"], name=PLANNER))
        return shown

    return view if context is None else kept_refreshing(view, context)


def synthesis_view(prompts: Prompts = DEFAULT_PROMPTS) -> View:
    """A synthesizer's view: the run's task, then the request with every step's output."""

    def view(state: Mapping[str, Any], agent: str) -> list[BaseMessage]:
        messages: Sequence[BaseMessage] = state["messages"]
        task = run_task(state)
        outcomes: Mapping[str, StepOutcome] = state.get("steps") or {}
        outputs = "\n\n".join(
            _shown(s, output, prompts).text
            for s in state.get("plan") or ()
            if (output := step_outcome(outcomes, s["id"])["output"]) is not None
        )
        request = HumanMessage(prompts.plan_synthesis.format(outputs=outputs), name=PLANNER)
        return [*([messages[task]] if task is not None else []), request]

    return view


def plan_result(state: Mapping[str, Any]) -> str | None:
    """The plan's result: the output of its last done steps (several are joined).

    The last done steps are those no done step depends on: the sinks of a finished
    plan, the furthest steps reached by a partial one. `None` when no step is done.
    """
    plan: Sequence[PlannedStep] = state.get("plan") or ()
    outcomes: Mapping[str, StepOutcome] = state.get("steps") or {}
    done = {s["id"] for s in plan if step_outcome(outcomes, s["id"])["status"] == "done"}
    used = {dep for s in plan if s["id"] in done for dep in s["depends_on"]}
    last = {s["id"]: str(outcomes[s["id"]]["output"]) for s in plan if s["id"] in done - used}
    if not last:
        return None
    return next(iter(last.values())) if len(last) == 1 else concat(last)


def _ready(plan: Sequence[PlannedStep], outcomes: Mapping[str, StepOutcome]) -> list[PlannedStep]:
    return [
        s
        for s in plan
        if outcomes[s["id"]]["status"] == "pending"
        and all(outcomes[d]["status"] == "done" for d in s["depends_on"])
    ]


def _wave_agents(state: Mapping[str, Any]) -> list[str]:
    return list(state.get("wave") or ())


class StepScheduler:
    """Starts the ready steps (a wave), or, with none left, finishes the plan.

    It asks the termination rule first: a stop ends the run with the plan's result so
    far. A finished plan goes to the synthesizer (its entry, with its view), to
    `finish` (an evaluator), or ends the run with `plan_result` as `final`.
    """

    __name__ = FANOUT

    def __init__(
        self,
        routes: Sequence[Route],
        *,
        termination: Termination,
        synthesizer: Route | None = None,
        finish: str | None = None,
        pattern: str | None = None,
        prices: Mapping[str, ModelPrice] | None = None,
    ) -> None:
        """Build the node.

        Args:
            routes: The agents' routes (the fan-out's branches).
            termination: The team's stop rule.
            synthesizer: The synthesizer's route, if any.
            finish: Where a finished plan goes when there is no synthesizer (`None`:
                the run ends with the plan's result).
            pattern: The pattern name, for tracing a summarizer's calls (see `FanOutNode`).
            prices: The price table of a summarizer's calls.
        """
        self.fanout = FanOutNode(
            routes,
            max_concurrency=None,
            first=True,
            select=_wave_agents,
            join=JOIN,
            pattern=pattern,
            prices=prices,
        )
        self.termination = termination
        self.synthesizer = synthesizer
        self.finish = finish

    def __call__(self, state: Any, config: RunnableConfig) -> Command[Any]:
        """Start a wave, or finish."""
        state = as_mapping(state)
        reason = self.termination(state)
        if reason is not None:
            return Command(update=closing(plan_result(state), reason), goto=END)
        plan: Sequence[PlannedStep] = state.get("plan") or ()
        outcomes: dict[str, StepOutcome] = dict(state.get("steps") or {})
        ready = _ready(plan, outcomes)
        if not ready:
            return self._finished(state)
        wave: dict[str, str] = {}
        for step in ready:
            wave.setdefault(step["agent"], step["id"])
        for step_id in wave.values():
            outcomes[step_id] = {"status": "running", "output": None, "reason": None}
        started = self.fanout({**state, "wave": wave, "steps": outcomes}, config)
        update = dict(started.update or {})
        record = audit_record("routing", PLANNER, decision="run", steps=list(wave.values()))
        update.update(wave=wave, steps=outcomes, audit=[record, *update.get("audit", ())])
        return Command(update=update, goto=started.goto)

    def _finished(self, state: Mapping[str, Any]) -> Command[Any]:
        synth = self.synthesizer
        if synth is not None:
            record = audit_record("routing", PLANNER, decision="synthesize")
            update = {"audit": [record], "results": Overwrite({}), "dispatched": Overwrite([])}
            return Command(update=update, goto=synth.start(synth.view(state, synth.agent.name)))
        if self.finish is not None:
            return Command(goto=self.finish)
        return Command(update=closing(plan_result(state), "completed"), goto=END)


def _why(state: Mapping[str, Any], agent: str) -> str:
    """Why `agent`'s step gave no output: the run's stop, or its latest exception."""
    if state.get("stop_reason"):
        return str(state["stop_reason"])
    for record in reversed(state.get("exceptions") or ()):
        if record["agent"] == agent:
            return str(record["error"])
    return "no output"


def _skip_dependents(plan: Sequence[PlannedStep], outcomes: dict[str, StepOutcome]) -> list[str]:
    """Mark pending steps that depend on a failed or skipped step as skipped."""
    skipped: list[str] = []
    changed = True
    while changed:
        changed = False
        for step in plan:
            if outcomes[step["id"]]["status"] != "pending":
                continue
            for dep in step["depends_on"]:
                if outcomes[dep]["status"] in ("failed", "skipped"):
                    outcomes[step["id"]] = {
                        "status": "skipped",
                        "output": None,
                        "reason": f"step '{dep}' {outcomes[dep]['status']}",
                    }
                    skipped.append(step["id"])
                    changed = True
                    break
    return skipped


class StepJoin:
    """Records a finished wave's steps and goes back to the scheduler (a deferred node).

    It waits until every step of the wave (and any gate or escalation of one) is done.
    The held turns enter the transcript, usage and audit in the wave's order; each step
    is `done` with its output or `failed` with why, and the steps depending on a failed
    one are `skipped`. A rejection or an abort during the wave ends the run here with
    the plan's result so far.
    """

    __name__ = JOIN

    def __call__(self, state: Any) -> Command[Any]:
        """Join the wave, or wait for the steps still running."""
        state = as_mapping(state)
        outcomes = branch_outcomes(state)
        if any(name not in outcomes for name in state.get("dispatched") or ()):
            return Command(goto=())
        wave: Mapping[str, str] = state.get("wave") or {}
        update = release_turns(state.get("outbox") or {}, list(wave))
        steps: dict[str, StepOutcome] = dict(state.get("steps") or {})
        for agent, step_id in wave.items():
            text = outcomes.get(agent)
            steps[step_id] = (
                {"status": "done", "output": text, "reason": None}
                if text is not None
                else {"status": "failed", "output": None, "reason": _why(state, agent)}
            )
        plan: Sequence[PlannedStep] = state.get("plan") or ()
        skipped = _skip_dependents(plan, steps)
        changed = {i: steps[i] for i in [*wave.values(), *skipped]}
        record = audit_record("plan", PLANNER, decision="steps", steps=changed)
        update.update(steps=steps, wave={}, audit=[*update.get("audit", ()), record])
        if state.get("stop_reason"):
            reason = str(state["stop_reason"])
            closed = closing(plan_result({**state, "steps": steps}), reason, before=update["audit"])
            return Command(update={**update, **closed}, goto=END)
        return Command(update=update, goto=FANOUT)
