"""From a `TeamSpec` to the pattern's graph; the example teams."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.graph import StateGraph

from langgraph_orchestra.agents import Agent
from langgraph_orchestra.checkpoint import _redact
from langgraph_orchestra.context import SUMMARIZER, Summary
from langgraph_orchestra.errors import SpecError, TeamConfigError
from langgraph_orchestra.models import chat_model, check_model_name
from langgraph_orchestra.names import fallback_name
from langgraph_orchestra.resilience import Resilient
from langgraph_orchestra.spec._problems import SPEC_HINT, allowed, did_you_mean
from langgraph_orchestra.spec._values import SummaryOption
from langgraph_orchestra.spec.agent import AgentSpec, ModelOption, ScriptedSpec
from langgraph_orchestra.spec.patterns import PATTERNS
from langgraph_orchestra.spec.records import record_schema
from langgraph_orchestra.spec.team import TeamSpec, load_spec
from langgraph_orchestra.tracing import ModelPrice

__all__ = [
    "FEATURE_EXAMPLES",
    "build_team",
    "example_path",
    "examples_dir",
    "sample_team",
    "validate_spec",
]

FEATURE_EXAMPLES = {"records": "records.yaml", "nested": "nested.yaml"}
"""Example teams that show a feature rather than a pattern (`orchestra demo records`,
`orchestra demo nested`)."""


ModelFor = Callable[[str, str | ScriptedSpec], BaseChatModel]
"""Makes the chat model of a participant (its name, its model in the file)."""


def _fallbacks(name: str, models: Sequence[str | ScriptedSpec], model_for: ModelFor) -> list[Any]:
    """The fallback models of participant `name` (scripted ones named `name/fallbackN`)."""
    return [model_for(fallback_name(name, i + 1), m) for i, m in enumerate(models)]


def _context(value: Any, model_for: ModelFor) -> Any:
    """A context policy, with a summary's model made."""
    if isinstance(value, SummaryOption):
        return Summary(model_for(SUMMARIZER, value.model), value.keep_last, value.words)
    return value


def _within(team: str, model_for: ModelFor) -> ModelFor:
    """`model_for` of a nested team's participants, named by path (`team/member`).

    Their usage is counted under these names in the including team.
    """
    return lambda name, model: model_for(f"{team}/{name}", model)


def _to_agent(
    spec: AgentSpec, model_for: ModelFor, source: str, prices: Mapping[str, ModelPrice]
) -> Agent:
    """The `Agent` of `spec`; an agent made of a team runs that team, built here."""
    if spec.team is not None:
        team = spec.team
        inner = str(team.source) if team.source else f"{source}: agent '{spec.name}'"
        graph = _build(team, _within(spec.name, model_for), source=inner, prices=prices)
        return Agent(
            spec.name,
            spec.description or team.description,
            runnable=graph.compile(name=spec.name),
            approval=spec.approval,
            on_error=spec.on_error,
            context=_context(spec.context, model_for),
            retry=spec.retry,
            timeout=spec.timeout,
            handoff_input=spec.handoff_input,
            writes=spec.writes,
            reads=spec.reads,
            requires=spec.requires,
        )
    assert spec.model is not None  # an agent has a model or a team (AgentSpec checks it)
    return Agent(
        spec.name,
        spec.description,
        model=model_for(spec.name, spec.model),
        instructions=spec.instructions,
        tools=[t.tool for t in spec.tools],
        approve_tools=spec.approve_tools,
        approval=spec.approval,
        on_error=spec.on_error,
        context=_context(spec.context, model_for),
        retry=spec.retry,
        timeout=spec.timeout,
        handoff_input=spec.handoff_input,
        fallbacks=_fallbacks(spec.name, spec.fallbacks, model_for),
        breaker=spec.breaker,
        output=spec.output,
        writes=spec.writes,
        reads=spec.reads,
        requires=spec.requires,
    )


def _option(value: Any, model_for: ModelFor, source: str, prices: Mapping[str, ModelPrice]) -> Any:
    """An option's factory argument: agents and models made, other values as they are."""
    if isinstance(value, AgentSpec):
        return _to_agent(value, model_for, source, prices)
    if isinstance(value, ModelOption):
        model = model_for(value.participant, value.model)
        if not value.fallbacks and value.breaker is None:
            return model
        fallbacks = _fallbacks(value.participant, value.fallbacks, model_for)
        return Resilient(model, fallbacks, value.breaker)
    return _context(value, model_for)


def _build(
    spec: TeamSpec,
    model_for: ModelFor,
    *,
    source: str,
    prices: Mapping[str, ModelPrice] | None = None,
) -> StateGraph[Any, Any, Any, Any]:
    """Create the agents (model errors propagate), then call the pattern's factory.

    `prices` (the including team's table, or `--price`) go over the file's own; nested
    teams are built with the resulting table.
    """
    pattern = PATTERNS[spec.pattern]
    table = {**spec.prices, **(prices or {})}
    agents = [_to_agent(a, model_for, source, table) for a in spec.agents]
    options = {k: _option(v, model_for, source, table) for k, v in spec.options.items()}
    try:
        arguments = dict(pattern.arguments([a.name for a in agents], options))
        schema = record_schema(spec.pattern, agents)
        if schema is not None:
            arguments["state_schema"] = schema
        if table:
            arguments["prices"] = table
        return pattern.factory(agents, **arguments)
    except TeamConfigError as error:
        raise SpecError(
            [f"{source}: {spec.pattern}: {error}"], hint=SPEC_HINT.format(source=source)
        ) from error


def build_team(
    spec: TeamSpec,
    *,
    model_override: str | BaseChatModel | None = None,
    base_url: str | None = None,
    consumed: Mapping[str, int] | None = None,
    per_thread_scripts: bool = False,
    prices: Mapping[str, ModelPrice] | None = None,
) -> StateGraph[Any, Any, Any, Any]:
    """Build the pattern's uncompiled graph for `spec`.

    Args:
        spec: The team.
        model_override: A `"provider:model"` string (or a chat model) used by every
            agent, and every model option (a group chat's manager), instead of its own.
        base_url: The base URL of an OpenAI-compatible server (Ollama, vLLM,
            llama.cpp) for `openai:` models; no API key is needed then.
        consumed: Scripted replies already used, per participant (agents, and model
            options by the name their usage counts under: `manager`, `planner`) and per
            fallback model (`writer/fallback1`, see `names.fallback_name`), so a thread
            resumed in a new process goes on where each script stopped
            (`threads.used_replies`).
        per_thread_scripts: Scripted models replay their replies on every thread, starting
            over after the last one (`PerThreadScriptedModel`), so a server answers any
            number of runs; `consumed` is then ignored. By default they are strict
            (`ScriptedModel`): one script per process.
        prices: Model prices (`--price`), over the file's `prices:` and the built-in
            table.

    Returns:
        The graph; compile it with a checkpointer.

    Raises:
        ModelSetupError: A model's provider package or API key is missing.
        SpecError: `model_override` is malformed, `base_url` is given but no model is
            made from a string (scripted models ignore it), or the pattern factory
            refused the team.
        TeamConfigError: A model could not be created.

    Example:
        ```python
        graph = build_team(load_spec("team.yaml"), model_override="openai:gpt-4o-mini")
        app = graph.compile(checkpointer=saver)
        ```
    """
    if isinstance(model_override, str):
        try:
            check_model_name(model_override)
        except TeamConfigError as error:
            raise SpecError(
                [f"--model: {error}"],
                hint="give --model as 'provider:model', e.g. openai:gpt-4o-mini",
            ) from None
    used = consumed or {}
    served: list[str] = []  # who gets a model made from a string (where base_url applies)

    def model_for(name: str, model: str | ScriptedSpec) -> BaseChatModel:
        if model_override is not None:
            served.append(name)
            return chat_model(model_override, base_url=base_url)
        if isinstance(model, ScriptedSpec):
            from langgraph_orchestra.testing import PerThreadScriptedModel, ScriptedModel

            if per_thread_scripts:
                return PerThreadScriptedModel(model.replies, name=name, latency=model.latency)
            replies = list(model.replies[used.get(name, 0) :])
            return ScriptedModel(replies, name=name, latency=model.latency)
        served.append(name)
        return chat_model(model, base_url=base_url)

    source = str(spec.source) if spec.source else spec.name
    graph = _build(spec, model_for, source=source, prices=prices)
    if base_url and (not served or not isinstance(model_override, str | None)):
        raise SpecError(
            [
                f"--base-url {_redact(base_url)}: no model of the team uses it (its models "
                "are scripted or given as objects); it applies to 'provider:model' strings"
            ],
            hint="give the model too, e.g. --model openai:llama3.1 --base-url URL",
        )
    return graph


def validate_spec(path: str | os.PathLike[str]) -> TeamSpec:
    """Check a team file fully: its fields, then the pattern factory's own checks.

    The factory runs with a stand-in for every model, so no provider package, API key
    or network is needed.

    Raises:
        SpecError: Listing the problems found.
    """
    spec = load_spec(path)
    from langgraph_orchestra.testing import ScriptedModel

    _build(spec, lambda name, model: ScriptedModel([], name=name), source=str(path))
    return spec


# -- examples -----------------------------------------------------------------------


def examples_dir() -> Path | None:
    """Return the folder of the example teams, or `None` if they are not installed.

    Looks inside the package (a wheel that bundles them) and next to it (a source
    checkout or an editable install).
    """
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "examples", package.parent / "examples"):
        if (candidate / PATTERNS["sequential"].example).is_file():
            return candidate
    return None


def _unknown_pattern(pattern: str, hint: str) -> SpecError:
    names = sorted(PATTERNS)
    return SpecError(
        [f"unknown pattern '{pattern}'{did_you_mean(pattern, names)}; allowed: {allowed(names)}"],
        hint=hint,
    )


def example_path(pattern: str) -> Path:
    """Return the example team file of `pattern`.

    Raises:
        SpecError: The pattern is unknown, or the examples are not installed.
    """
    if pattern not in PATTERNS and pattern not in FEATURE_EXAMPLES:
        raise _unknown_pattern(pattern, "list the patterns with: orchestra demo --help")
    folder = examples_dir()
    if folder is None:
        raise SpecError(
            ["the example teams are not installed (no examples/ folder next to the package)"],
            hint="run from a clone of the repository: pip install -e .",
        )
    if pattern in FEATURE_EXAMPLES:
        return folder / FEATURE_EXAMPLES[pattern]
    return folder / PATTERNS[pattern].example


def sample_team(pattern: str) -> StateGraph[Any, Any, Any, Any]:
    """Build a small built-in team of `pattern` (two agents), for drawing.

    The agents are models that are never called (a handoff team gives models its
    transfer tools), and so is the model of a required option (a manager's).

    Raises:
        SpecError: The pattern is unknown.
    """
    if pattern not in PATTERNS:
        raise _unknown_pattern(pattern, "give a team file or one of the pattern names")
    from langgraph_orchestra.testing import ScriptedModel

    agents = [
        Agent("first", "The first agent", model=ScriptedModel([], name="first")),
        Agent("second", "The second agent", model=ScriptedModel([], name="second")),
    ]
    found = PATTERNS[pattern]
    models = {name: ScriptedModel([], name=name) for name in found.required}
    return found.factory(agents, **found.arguments([a.name for a in agents], models))
