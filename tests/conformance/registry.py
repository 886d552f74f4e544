"""The conformance registry: one `PatternCase` per pattern factory.

The suite (`test_governance_conformance.py`) builds every pattern around agents it
scripts and checks the same governance on each: approval gates, escalation, audit,
usage, state schemas, termination and resume in a fresh process. A new pattern joins
it by adding one entry to `CASES`, e.g.:

```python
PatternCase(
    "group_chat",
    create_group_chat,
    GroupChatState,
    final=_last,
    options={"selector": "round_robin", "max_rounds": 2},
    stop_reason="max_rounds",
    orchestration=_llm_manager,
)
```

The contract an entry keeps: `build(agents)` gives a team in which, when nobody
intervenes, each agent takes one turn, in the order given, and the run then ends with
`stop_reason` and the `final` that `final(outputs)` computes.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from langgraph.graph import StateGraph

from langgraph_orchestra import (
    Agent,
    ConcurrentState,
    GroupChatState,
    HandoffState,
    HierarchicalState,
    MagenticState,
    NetworkState,
    PlannerExecutorState,
    SequentialState,
    create_concurrent,
    create_group_chat,
    create_handoff,
    create_hierarchical,
    create_magentic,
    create_network,
    create_planner_executor,
    create_sequential,
)
from langgraph_orchestra.testing import ScriptedModel

__all__ = ["CASES", "PRESETS", "Orchestration", "PatternCase", "case_named"]

Outputs = Mapping[str, str]
"""The agents' outputs by name, in team order; an agent that gave none is left out."""


@dataclass(frozen=True)
class Orchestration:
    """The model calls a pattern makes besides its agents' (a synthesizer, a manager)."""

    options: Mapping[str, Any]
    """Factory options that add the orchestrating participants."""
    models: Mapping[str, ScriptedModel]
    """Each orchestrating participant's scripted model, by the name its usage is
    counted under; the suite checks that every call of these models is counted."""
    final: str
    """The run's `final` when the agents answer `A` and `B` in turn."""


@dataclass(frozen=True)
class PatternCase:
    """How the conformance suite builds and checks one pattern."""

    name: str
    """The pattern's name (the test id; the key of `spec.PATTERNS`)."""
    factory: Callable[..., StateGraph[Any, Any, Any, Any]]
    """The public `create_<pattern>` factory."""
    state: type[Any]
    """The pattern's state schema, which the suite extends for the custom-state tests."""
    final: Callable[[Outputs], str | None]
    """The `final` of a run from the agents' outputs (`None` when there are none)."""
    options: Mapping[str, Any] | Callable[[int], Mapping[str, Any]] = field(default_factory=dict)
    """Factory options that make a run one turn per agent, in team order (for loops:
    a round-robin selector and a round bound, say), or a function of the number of
    agents that gives them."""
    stop_reason: str = "completed"
    """The stop reason of a run in which every agent took its turn."""
    orchestration: Callable[[], Orchestration] | None = None
    """Gives fresh orchestration models for the usage test; `None` when the pattern
    makes no model calls of its own."""

    def build(self, agents: Sequence[Agent], **options: Any) -> StateGraph[Any, Any, Any, Any]:
        """Build the pattern's team around `agents` (the suite's options win)."""
        own = self.options(len(agents)) if callable(self.options) else self.options
        return self.factory(list(agents), **{**own, **options})

    @property
    def takes_termination(self) -> bool:
        """Whether the factory has a `termination=` argument."""
        return "termination" in inspect.signature(self.factory).parameters


def _last(outputs: Outputs) -> str | None:
    """A pipeline answers with the last output."""
    return list(outputs.values())[-1] if outputs else None


def _joined(outputs: Outputs) -> str | None:
    """The default fan-out aggregator joins the outputs under the agents' names."""
    return "\n\n".join(f"{name}: {text}" for name, text in outputs.items()) or None


def _synthesizer() -> Orchestration:
    judge = ScriptedModel(["verdict"])
    return Orchestration({"aggregator": Agent("judge", model=judge)}, {"judge": judge}, "verdict")


def _llm_manager() -> Orchestration:
    manager = ScriptedModel(
        [{"speaker": "a", "reason": "drafts first"}, {"speaker": "b", "reason": "reviews"}]
    )
    return Orchestration({"selector": "llm", "manager_model": manager}, {"manager": manager}, "B")


def _relay(agents: int) -> dict[str, Any]:
    """Handoff options that pass control down the team in order, then end."""
    order = [chr(ord("a") + i) for i in range(agents)]

    def next_in_order(state: Mapping[str, Any]) -> str | None:
        position = order.index(state["active_agent"]) + 1
        return order[position] if position < len(order) else None

    return {"entry": "a", "router": next_in_order}


LEDGER = {
    "facts_given": ["the request"],
    "facts_to_look_up": [],
    "facts_to_derive": [],
    "educated_guesses": [],
    "plan": ["each participant in turn"],
}


def _magentic(agents: int) -> dict[str, Any]:
    names = [chr(ord("a") + i) for i in range(agents)]

    def lead(messages: list[Any]) -> dict[str, Any]:
        if "fill in the progress ledger" not in messages[0].text:
            return LEDGER
        # Floors given so far in this run: the manager's messages since the latest task.
        task = max(i for i, m in enumerate(messages) if m.type == "human" and m.name is None)
        given = sum(1 for m in messages[task:] if m.name == "manager")
        speaker = names[min(given, len(names) - 1)]
        return {
            "is_request_satisfied": given >= len(names),
            "is_in_loop": False,
            "is_progress_being_made": True,
            "next_speaker": speaker,
            "instruction": f"{speaker}, your turn",
            "reason": "next in the plan",
        }

    return {"manager_model": ScriptedModel([lead] * 20), "final_answer": False}


def _magentic_manager() -> Orchestration:
    def progress(speaker: str, done: bool = False) -> dict[str, Any]:
        return {
            "is_request_satisfied": done,
            "is_in_loop": False,
            "is_progress_being_made": True,
            "next_speaker": speaker,
            "instruction": f"{speaker}, your turn",
            "reason": "next in the plan",
        }

    manager = ScriptedModel([LEDGER, progress("a"), progress("b"), progress("b", done=True)])
    return Orchestration({"manager_model": manager}, {"manager": manager}, "B")


def _delegate(worker: str, call_id: str) -> Any:
    from langchain_core.messages import AIMessage

    call = {"name": f"delegate_to_{worker}", "args": {"task": f"{worker}: go"}, "id": call_id}
    return AIMessage("", tool_calls=[call])


def _hierarchical(agents: int) -> dict[str, Any]:
    """A manager that delegates to each worker in turn, then answers with the last result."""
    from langchain_core.messages import ToolMessage

    names = [chr(ord("a") + i) for i in range(agents)]

    def lead(messages: list[Any]) -> Any:
        results = [m for m in messages if isinstance(m, ToolMessage)]
        if len(results) < len(names):
            return _delegate(names[len(results)], f"call-{len(results)}")
        answers = [m.text for m in results if m.status == "success"]
        return answers[-1] if answers else "nothing"

    return {"manager_model": ScriptedModel([lead] * 20)}


def _delegating_manager() -> Orchestration:
    manager = ScriptedModel([_delegate("a", "c1"), _delegate("b", "c2"), "B"])
    return Orchestration({"manager_model": manager}, {"manager": manager}, "B")


def _chain(names: Sequence[str]) -> dict[str, Any]:
    """A plan with one step per agent, each depending on the one before."""
    return {
        "steps": [
            {
                "id": f"s{i}",
                "agent": name,
                "instruction": f"{name}, your step",
                "depends_on": [f"s{i - 1}"] if i else [],
            }
            for i, name in enumerate(names)
        ]
    }


def _planner_executor(agents: int) -> dict[str, Any]:
    """A planner whose plan chains the agents in order; the last step's output is final."""
    names = [chr(ord("a") + i) for i in range(agents)]
    return {"planner_model": ScriptedModel([_chain(names)] * 4)}  # one plan per run


def _planner() -> Orchestration:
    planner = ScriptedModel([_chain(["a", "b"])])
    return Orchestration({"planner_model": planner}, {"planner": planner}, "B")


CASES: tuple[PatternCase, ...] = (
    PatternCase("sequential", create_sequential, SequentialState, final=_last),
    PatternCase(
        "concurrent",
        create_concurrent,
        ConcurrentState,
        final=_joined,
        orchestration=_synthesizer,
    ),
    PatternCase(
        "group_chat",
        create_group_chat,
        GroupChatState,
        final=_last,
        options=lambda agents: {"max_rounds": agents},
        stop_reason="max_rounds",
        orchestration=_llm_manager,
    ),
    PatternCase("handoff", create_handoff, HandoffState, final=_last, options=_relay),
    PatternCase(
        "hierarchical",
        create_hierarchical,
        HierarchicalState,
        final=_last,
        options=_hierarchical,
        orchestration=_delegating_manager,
    ),
    PatternCase(
        "magentic",
        create_magentic,
        MagenticState,
        final=_last,
        options=_magentic,
        orchestration=_magentic_manager,
    ),
    # Every agent gets the input; nobody sends a message, so one quiet round ends the run
    # with the latest reply (the turns are written in team order).
    PatternCase("network", create_network, NetworkState, final=_last, stop_reason="quiet"),
    PatternCase(
        "planner_executor",
        create_planner_executor,
        PlannerExecutorState,
        final=_last,
        options=_planner_executor,
        orchestration=_planner,
    ),
)
"""Every pattern factory, each once."""

PRESETS: Mapping[str, str] = {"create_maker_checker": "group_chat"}
"""Factories that are a preset of a registered pattern (same nodes, fixed roles), by the
pattern they build: the suite covers their nodes through that pattern, their own tests
cover their roles."""


def case_named(name: str) -> PatternCase:
    """Return the entry called `name`."""
    for case in CASES:
        if case.name == name:
            return case
    raise KeyError(f"No conformance case {name!r}; known: {[c.name for c in CASES]}")
