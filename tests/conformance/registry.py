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
    SequentialState,
    create_concurrent,
    create_group_chat,
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
