"""The patterns a team file can name, each with the options its YAML may set.

Adding a pattern is one entry in `PATTERNS`: its factory, and its options as
`name -> pydantic type`. An option's type is usually one of the shared ones
(`whole(1)`, `Seconds`, `Quorum`, `Context`, `AgentSpec`) or
`Annotated[T, PlainValidator(check)]`, where `check(value)` (or `check(value, info)` to
read the validation context) takes the YAML value and returns the factory's keyword
argument, or raises `ValueError("what was wrong; what is allowed")`.

An option that holds an agent is an `AgentSpec` (it becomes an `Agent`); one that holds
a model is `model_of(participant)` (it becomes a chat model whose calls count in `usage`
as `participant`). The factory's own checks run when the team is built: its
`TeamConfigError` becomes the file's problem `FILE: PATTERN: message`.

A factory argument a team file may leave out although the factory requires it gets its
value from the agents (`defaults`: a handoff team starts with its first agent); one a
team file must set is `required` (a magentic team's `manager_model`, a
planner-executor's `planner_model`). The tools a
pattern gives its model agents (`tools`: a handoff team's `transfer_to_<agent>`) or its
manager (`manager_tools`: a hierarchical manager's `delegate_to_<agent>`) may be called
by their scripted replies.

Example:
    ```python
    "group_chat": Pattern(
        create_group_chat,
        {"max_rounds": whole(1), "allow_repeat": StrictBool, "manager_model": model_of(MANAGER)},
        "group_chat.yaml",
        "speakers take turns on one transcript, chosen by a selector",
    ),
    ```
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Annotated, Any, get_args, get_type_hints

from langgraph.graph import StateGraph
from pydantic import PlainValidator, StrictBool, StrictStr, ValidationInfo, create_model

from langgraph_orchestra.agents import Agent
from langgraph_orchestra.errors import TeamConfigError
from langgraph_orchestra.graphs import (
    create_concurrent,
    create_group_chat,
    create_handoff,
    create_hierarchical,
    create_magentic,
    create_maker_checker,
    create_network,
    create_planner_executor,
    create_sequential,
)
from langgraph_orchestra.graphs.group_chat import SELECTORS
from langgraph_orchestra.names import MANAGER, PLANNER
from langgraph_orchestra.nodes.aggregate import BuiltIn
from langgraph_orchestra.nodes.delegation import DELEGATE_PREFIX
from langgraph_orchestra.nodes.handoff import ESCALATE_TOOL, TRANSFER_PREFIX
from langgraph_orchestra.nodes.network import FINISH_TOOL, SEND_PREFIX
from langgraph_orchestra.spec._problems import (
    SpecModel,
    allowed,
    did_you_mean,
    problems,
    type_name,
)
from langgraph_orchestra.spec._values import (
    MODEL_ALLOWED,
    Context,
    Quorum,
    Redaction,
    Seconds,
    Termination,
    whole,
)
from langgraph_orchestra.spec.agent import AgentSpec, model_of

__all__ = ["AGENT_PLACEHOLDER", "PATTERNS", "Pattern"]

AGENT_PLACEHOLDER = "<agent>"
"""Stands for any agent's name in `Pattern.tools` and `Pattern.manager_tools`."""


def _offers(tools: Sequence[str], name: str) -> bool:
    """Whether `name` is one of `tools` (names, or a prefix followed by `<agent>`)."""
    return any(
        name.startswith(tool.removesuffix(AGENT_PLACEHOLDER))
        if tool.endswith(AGENT_PLACEHOLDER)
        else name == tool
        for tool in tools
    )


class _Options(SpecModel):
    """The options of one pattern; the validation context names the pattern."""

    @classmethod
    def _unknown_key(cls, key: str, info: ValidationInfo) -> str:
        keys = cls._keys()
        pattern = (info.context or {}).get("pattern")
        return (
            f"not an option of pattern '{pattern}'{did_you_mean(key, keys)}; "
            f"allowed: {allowed(keys)}"
        )


@dataclass(frozen=True)
class Pattern:
    """A pattern a team file can name."""

    factory: Callable[..., StateGraph[Any, Any, Any, Any]]
    """`create_<pattern>(agents, **options) -> StateGraph`."""
    options: Mapping[str, Any]
    """The factory's keyword arguments a YAML file may set, each with the pydantic type
    its value is checked and converted by (see the module's docstring)."""
    example: str
    """The example team's file name in `examples/`."""
    summary: str
    """One line on what the pattern does."""
    tools: tuple[str, ...] = ()
    """Tools the pattern gives its model agents, which scripted replies may call: names,
    or a prefix followed by `<agent>` (`transfer_to_<agent>`)."""
    defaults: Callable[[Sequence[str]], Mapping[str, Any]] | None = None
    """Factory arguments a team file may leave out, from the agents' names in order
    (used where the file sets none)."""
    required: Mapping[str, str] = field(default_factory=dict)
    """Options a team file must set (the factory has no default for them), each with
    what to give, for the message when it is missing. They are models (a manager's):
    `sample_team` gives each a model that is never called."""
    manager_tools: tuple[str, ...] = ()
    """Tools the pattern gives its manager's model (a model option), which the
    manager's scripted replies may call; written as `tools`."""
    fits: str = ""
    """One line on the tasks the pattern fits (`orchestra patterns` prints it)."""
    bound: str = ""
    """The main bound that ends a run, with its default (`orchestra patterns` prints it)."""

    def gives_tool(self, name: str) -> bool:
        """Whether `name` is a tool the pattern gives its model agents."""
        return _offers(self.tools, name)

    def gives_manager_tool(self, name: str) -> bool:
        """Whether `name` is a tool the pattern gives its manager's model."""
        return _offers(self.manager_tools, name)

    def arguments(self, names: Sequence[str], options: Mapping[str, Any]) -> dict[str, Any]:
        """The factory's keyword arguments: the defaults for `names`, then `options`."""
        own = self.defaults(names) if self.defaults is not None else {}
        return {**own, **options}

    @cached_property
    def options_model(self) -> type[SpecModel]:
        """The pydantic model of the options mapping (every option optional)."""
        fields: dict[str, Any] = {name: (kind, None) for name, kind in self.options.items()}
        return create_model("Options", __base__=_Options, **fields)

    def parse_options(self, value: Any, *, name: str, context: Any) -> Mapping[str, Any]:
        """Check a YAML options mapping; return the factory's keyword arguments.

        Raises:
            pydantic.ValidationError: The problems, at their places in `value`.
        """
        parsed = self.options_model.model_validate(value, context={**context, "pattern": name})
        return MappingProxyType({key: getattr(parsed, key) for key in parsed.model_fields_set})


_AGGREGATORS: tuple[str, ...] = get_args(BuiltIn)


def _aggregator(value: Any, info: ValidationInfo) -> str | AgentSpec:
    if isinstance(value, str):
        if value in _AGGREGATORS:
            return value
        raise ValueError(
            f"unknown aggregator '{value}'{did_you_mean(value, _AGGREGATORS)}; allowed: "
            f"{allowed(_AGGREGATORS)}, or an agent (a mapping with name, model, "
            "instructions, ...)"
        )
    if isinstance(value, Mapping):
        return AgentSpec.model_validate(value, context=info.context)
    raise ValueError(
        f"expected {' or '.join(_AGGREGATORS)} or an agent mapping, got {type_name(value)}"
    )


def _selector(value: Any) -> str:
    if isinstance(value, str) and value in SELECTORS:
        return value
    shown = f"'{value}'" if isinstance(value, str) else type_name(value)
    hint = did_you_mean(value, SELECTORS) if isinstance(value, str) else ""
    raise ValueError(f"unknown selector {shown}{hint}; allowed: {allowed(SELECTORS)}")


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"expected a participant's name, got {type_name(value)}")
    return value


def _names(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ValueError(f"expected a list of names, got {type_name(value)}")
    wrong = [(i, v) for i, v in enumerate(value) if not isinstance(v, str) or not v]
    if wrong:
        raise problems(
            [((i,), f"expected a participant's name, got {type_name(v)}", v) for i, v in wrong]
        )
    return tuple(value)


def _transitions(
    value: Any, what: str = "{speaker: [who may follow]}"
) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, Mapping):
        raise ValueError(f"expected a mapping {what}, got {type_name(value)}")
    found: list[tuple[tuple[str | int, ...], str, Any]] = []
    checked: dict[str, tuple[str, ...]] = {}
    for speaker, targets in value.items():
        try:
            checked[str(speaker)] = _names(targets)
        except ValueError as error:
            found.append(((speaker,), str(error), targets))
    if found:
        raise problems(found)
    return checked


Name = Annotated[str, PlainValidator(_name)]
"""The type of a participant's name (the factory checks that it is one)."""
Names = Annotated[tuple[str, ...], PlainValidator(_names)]
"""The type of a list of participants' names."""


def _disagreement(value: Any) -> str | float:
    if value == "escalate":
        return "escalate"
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value <= 1:
        return float(value)
    shown = f"'{value}'" if isinstance(value, str) else repr(value)
    raise ValueError(f"{shown} is not allowed; allowed: 'escalate' or a share 0 < t <= 1")


def _choice(factory: Callable[..., Any], option: str) -> Any:
    """The type of an option whose values are the `Literal` of the factory's argument."""
    choices: tuple[str, ...] = get_args(get_type_hints(factory)[option])

    def check(value: Any) -> str:
        if isinstance(value, str) and value in choices:
            return value
        shown = f"'{value}'" if isinstance(value, str) else type_name(value)
        hint = did_you_mean(value, choices) if isinstance(value, str) else ""
        raise ValueError(f"unknown {option} {shown}{hint}; allowed: {allowed(choices)}")

    return Annotated[str, PlainValidator(check)]


def _handoffs(value: Any) -> str | dict[str, tuple[str, ...]]:
    if value == "all":
        return "all"
    if isinstance(value, Mapping):
        return _transitions(value, what="{agent: [who it may transfer to]}")
    raise ValueError(
        f"expected 'all' or a mapping {{agent: [who it may transfer to]}}, got {type_name(value)}"
    )


def _links(value: Any) -> str | dict[str, tuple[str, ...]]:
    if value == "all":
        return "all"
    if isinstance(value, Mapping):
        return _transitions(value, what="{agent: [who it may message]}")
    raise ValueError(
        f"expected 'all' or a mapping {{agent: [who it may message]}}, got {type_name(value)}"
    )


def _names_or_bool(value: Any) -> bool | tuple[str, ...]:
    if isinstance(value, bool):
        return value
    if isinstance(value, list):
        return _names(value)
    raise ValueError(f"expected true, false or a list of agents' names, got {type_name(value)}")


_MANAGER_MODEL = f"give the manager's model: {MODEL_ALLOWED.removeprefix('give ')}"
"""What a team led by a manager's model must set as `manager_model`."""


_PLANNER_MODEL = f"give the planner's model: {MODEL_ALLOWED.removeprefix('give ')}"
"""What a planner-executor team must set as `planner_model`."""


def _threshold(value: Any) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 <= value <= 1
    ):
        raise ValueError(f"expected a score from 0 to 1, got {type_name(value)}")
    return float(value)


def _first_is_entry(names: Sequence[str]) -> Mapping[str, Any]:
    """A handoff team starts with its first agent unless the file names an `entry`."""
    return {"entry": names[0]} if names else {}


def _maker_checker(agents: Sequence[Agent], **options: Any) -> StateGraph[Any, Any, Any, Any]:
    """`create_maker_checker` for a team file: its two agents are the maker, then the checker."""
    if len(agents) != 2:
        names = ", ".join(a.name for a in agents)
        raise TeamConfigError(
            f"needs exactly two agents, the maker then the checker; got {len(agents)}: {names}"
        )
    maker, checker = agents
    return create_maker_checker(maker, checker, **options)


_PRIVACY: Mapping[str, Any] = {"redact": Redaction, "redact_agents": StrictBool}
"""The options every pattern takes: `redact:` (see `parse_redact`) and `redact_agents:`."""


PATTERNS: Mapping[str, Pattern] = MappingProxyType(
    {
        "sequential": Pattern(
            create_sequential,
            {"context": Context, "max_revisions": whole(0), "termination": Termination, **_PRIVACY},
            "sequential.yaml",
            "a pipeline: each agent works on the previous one's output",
            fits="fixed stages, each refining the last (draft, review, polish)",
            bound="one turn per agent",
        ),
        "concurrent": Pattern(
            create_concurrent,
            {
                "aggregator": Annotated[str | AgentSpec, PlainValidator(_aggregator)],
                "quorum": Quorum,
                "max_concurrency": whole(1),
                "timeout": Seconds,
                "context": Context,
                "max_revisions": whole(0),
                "termination": Termination,
                **_PRIVACY,
                "on_conflict": _choice(create_concurrent, "on_conflict"),
                "on_disagreement": Annotated[str | float, PlainValidator(_disagreement)],
            },
            "concurrent.yaml",
            "fan-out: all agents answer the same task at once, then one answer is made",
            fits="independent views of one task (reviews, votes, ensembles)",
            bound="one turn per agent; quorum, timeout",
        ),
        "group_chat": Pattern(
            create_group_chat,
            {
                "selector": Annotated[str, PlainValidator(_selector)],
                "manager_model": model_of(MANAGER),
                "max_rounds": whole(1),
                "allow_repeat": StrictBool,
                "allowed_transitions": Annotated[
                    dict[str, tuple[str, ...]], PlainValidator(_transitions)
                ],
                "human": Name,
                "final_from": Name,
                "approvers": Names,
                "context": Context,
                "max_revisions": whole(0),
                "termination": Termination,
                **_PRIVACY,
            },
            "group_chat.yaml",
            "speakers take turns on one transcript, a manager choosing who speaks next",
            fits="a discussion where each speaker needs what the others said",
            bound="max_rounds=20",
        ),
        "maker_checker": Pattern(
            _maker_checker,
            {"max_revisions": whole(0), "context": Context, "termination": Termination, **_PRIVACY},
            "maker_checker.yaml",
            "a maker drafts and a checker approves or asks for a revision, in turn",
            fits="one draft that must pass a named reviewer",
            bound="max_revisions=3",
        ),
        "handoff": Pattern(
            create_handoff,
            {
                "entry": Name,
                "handoffs": Annotated[str | dict[str, tuple[str, ...]], PlainValidator(_handoffs)],
                "max_handoffs": whole(1),
                "max_ping_pong": whole(1),
                "on_limit": _choice(create_handoff, "on_limit"),
                "interactive": StrictBool,
                "escalate_to_human": Annotated[
                    bool | tuple[str, ...], PlainValidator(_names_or_bool)
                ],
                "termination": Termination,
                "context": Context,
                "max_revisions": whole(0),
                **_PRIVACY,
            },
            "handoff.yaml",
            "one agent is in control and transfers it to another with a tool",
            fits="triage: the agent in control decides who handles the request",
            bound="max_handoffs=8, max_ping_pong=2",
            tools=(f"{TRANSFER_PREFIX}{AGENT_PLACEHOLDER}", ESCALATE_TOOL),
            defaults=_first_is_entry,
        ),
        "magentic": Pattern(
            create_magentic,
            {
                "manager_model": model_of(MANAGER),
                "max_rounds": whole(1),
                "max_stalls": whole(1),
                "max_resets": whole(0),
                "plan_review": StrictBool,
                "final_answer": StrictBool,
                "termination": Termination,
                "context": Context,
                "max_revisions": whole(0),
                **_PRIVACY,
            },
            "magentic.yaml",
            "a manager plans with a task ledger and gives the floor round by round",
            fits="open-ended tasks whose steps are not known up front",
            bound="max_rounds=20, max_stalls=3, max_resets=2",
            required={"manager_model": _MANAGER_MODEL},
        ),
        "hierarchical": Pattern(
            create_hierarchical,
            {
                "manager_model": model_of(MANAGER),
                "brief": StrictStr,
                "instructions": StrictStr,
                "max_rounds": whole(1),
                "review": StrictBool,
                "termination": Termination,
                "max_revisions": whole(0),
                **_PRIVACY,
            },
            "hierarchical.yaml",
            "a manager delegates tasks to workers with tools; they work in parallel",
            fits="a lead that splits the work, then reviews the results",
            bound="max_rounds=10",
            required={"manager_model": _MANAGER_MODEL},
            manager_tools=(f"{DELEGATE_PREFIX}{AGENT_PLACEHOLDER}",),
        ),
        "planner_executor": Pattern(
            create_planner_executor,
            {
                "planner_model": model_of(PLANNER),
                "evaluator": AgentSpec,
                "threshold": Annotated[float, PlainValidator(_threshold)],
                "max_replans": whole(0),
                "plan_approval": StrictBool,
                "synthesizer": AgentSpec,
                "max_revisions": whole(0),
                "termination": Termination,
                "context": Context,
                **_PRIVACY,
            },
            "planner_executor.yaml",
            "a planner writes a plan of steps with dependencies; ready steps run in parallel",
            fits="work with known steps and dependencies, planned once",
            bound="max_replans=2",
            required={"planner_model": _PLANNER_MODEL},
        ),
        "network": Pattern(
            create_network,
            {
                "links": Annotated[str | dict[str, tuple[str, ...]], PlainValidator(_links)],
                "entry": Names,
                "max_messages": whole(1),
                "quiet_rounds": whole(1),
                "termination": Termination,
                "context": Context,
                "max_revisions": whole(0),
                **_PRIVACY,
            },
            "network.yaml",
            "peers message each other; each round's recipients work at the same time",
            fits="peers that coordinate among themselves, with no manager",
            bound="max_messages=50, quiet_rounds=1",
            tools=(f"{SEND_PREFIX}{AGENT_PLACEHOLDER}", FINISH_TOOL),
        ),
    }
)
"""The patterns a team file can use: name -> factory and allowed options."""
