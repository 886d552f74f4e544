"""Checks and the finishing step shared by the factories."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from langgraph.graph import END, StateGraph

from langgraph_orchestra.agents import Agent
from langgraph_orchestra.conditions import Condition
from langgraph_orchestra.errors import TeamConfigError
from langgraph_orchestra.names import FINALIZE, ON_END
from langgraph_orchestra.nodes.completion import Action, add_completion, check_on_end
from langgraph_orchestra.nodes.finalize import FinalizeNode
from langgraph_orchestra.nodes.turn import Validator
from langgraph_orchestra.records import check_records
from langgraph_orchestra.redaction import Redact, add_redaction, check_redact
from langgraph_orchestra.state.schemas import input_schema, output_schema

__all__ = [
    "check_flag",
    "check_max_revisions",
    "check_termination",
    "check_validators",
    "check_whole",
    "finish_graph",
    "governed",
    "new_builder",
]


def new_builder(
    schema: type[Any],
    *,
    agents: Iterable[Agent] = (),
    pattern: str = "team",
    shared: bool = False,
    outputs: bool = True,
    one_owner: bool = False,
) -> StateGraph[Any, Any, Any, Any]:
    """Return a pattern's builder over `schema`.

    Its input cannot write the library's records nor its plumbing, and its output (what
    `invoke` and a server return) holds the users' fields only (see `input_schema` and
    `output_schema`).

    The team's record contracts (`agents`' `writes`, `reads`, `requires`) are checked
    against `schema` here, before any model call (`check_records`; `shared`: a fan-out
    whose branches may write one field, settled by its `on_conflict`; `outputs=False`: a
    pattern that runs its agents its own way refuses typed outputs; `one_owner`: a
    pattern whose parallel rounds settle no conflict allows one owner per field).
    """
    check_records(
        agents, schema, pattern=pattern, shared=shared, outputs=outputs, one_owner=one_owner
    )
    return StateGraph(
        schema, input_schema=input_schema(schema), output_schema=output_schema(schema)
    )


def check_whole(value: int, what: str, *, minimum: int) -> int:
    """Return `value` if it is a whole number >= `minimum`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise TeamConfigError(f"{what} must be a whole number >= {minimum}, got {value!r}")
    return value


def check_flag(value: bool, what: str) -> bool:
    """Return `value` if it is `True` or `False`."""
    if not isinstance(value, bool):
        raise TeamConfigError(f"{what} must be True or False, got {value!r}")
    return value


def check_max_revisions(max_revisions: int) -> int:
    """Return `max_revisions` if it is a whole number >= 0."""
    return check_whole(max_revisions, "max_revisions", minimum=0)


def check_validators(
    validators: Mapping[str, Validator | Sequence[Validator]] | None, names: Iterable[str]
) -> dict[str, tuple[Validator, ...]]:
    """Normalize `{agent: validator or validators}`, refusing unknown agents."""
    known = list(names)
    checked: dict[str, tuple[Validator, ...]] = {}
    if validators is None:
        return checked
    if not isinstance(validators, Mapping):
        raise TeamConfigError(
            "validators must be a mapping {agent name: validator or list of validators}, "
            f"got {type(validators).__name__}"
        )
    for name, value in validators.items():
        if name not in known:
            raise TeamConfigError(
                f"Validators given for unknown agent '{name}'; known agents: {known}"
            )
        if not callable(value) and (isinstance(value, str) or not isinstance(value, Sequence)):
            raise TeamConfigError(
                f"Validators for agent '{name}' must be a callable str -> object or a list "
                f"of them, got {value!r}"
            )
        items: tuple[Callable[[str], object], ...] = (value,) if callable(value) else tuple(value)
        for item in items:
            if not callable(item):
                raise TeamConfigError(
                    f"Validator for agent '{name}' must be a callable str -> object, got {item!r}"
                )
        checked[name] = items
    return checked


def check_termination(termination: object, *, pattern: str) -> Condition | None:
    """Return `termination` if it is a `Condition` or `None`."""
    if termination is None or isinstance(termination, Condition):
        return termination
    raise TeamConfigError(
        f"{pattern} termination must be a condition (MaxRounds, TextMention, TokenBudget, "
        f"CostBudget, Timeout, ExternalStop, FunctionCondition, combined with | and &), "
        f"got {termination!r}"
    )


def governed(agents: Iterable[Agent]) -> bool:
    """Whether a gate, an escalation or a failure that goes on may end a run at `FINALIZE`.

    Without any, an agent's own turn ends every run and the finalize node is left out (an
    unreachable node would also spoil the drawing).
    """
    return any(a.approval or a.on_error != "raise" for a in agents)


def finish_graph(
    builder: StateGraph[Any, Any, Any, Any],
    *,
    pattern: str,
    redact: Redact = None,
    redact_agents: bool = False,
    on_end: Action | Sequence[Action] | None = None,
    finalize: FinalizeNode | None = None,
) -> StateGraph[Any, Any, Any, Any]:
    """Apply a factory's `redact=`, `redact_agents=` and `on_end=` to its finished builder.

    Call it last, once every other node and edge is added: `finalize` (the node gates,
    escalations and failures that end a run go to, when the team has any) is added with
    its edge to the end, every end of a run then goes through the completion actions
    (`nodes.completion.add_completion`), and every node's audit details and exception
    records are redacted (`redaction.add_redaction`).
    """
    redactor = check_redact(redact)
    check_flag(redact_agents, "redact_agents")
    if redact_agents and redactor is None:
        raise TeamConfigError(
            "redact_agents=True needs a redactor: give redact='default', a Redactor(...) "
            "or a callable str -> str"
        )
    if finalize is not None:
        builder.add_node(FINALIZE, finalize, metadata={"pattern": pattern})
        builder.add_edge(FINALIZE, END)
    add_completion(builder, check_on_end(on_end), pattern=pattern)
    if redactor is not None:
        add_redaction(builder, redactor, agents=redact_agents, skip=(ON_END,))
    return builder
