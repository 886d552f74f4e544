"""A whole team file: `TeamSpec`, read with `load_spec` or checked with `parse_spec`."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar

import yaml
from pydantic import Field, PrivateAttr, ValidationError, ValidationInfo, field_validator

from langgraph_orchestra.errors import SpecError, TeamConfigError
from langgraph_orchestra.spec._problems import (
    SPEC_HINT,
    Loc,
    SpecModel,
    allowed,
    did_you_mean,
    place,
    spec_error,
    type_name,
)
from langgraph_orchestra.spec._values import check_model_string, refused_by_agent
from langgraph_orchestra.spec.agent import AgentSpec
from langgraph_orchestra.spec.patterns import PATTERNS
from langgraph_orchestra.tracing import ModelPrice

__all__ = ["TeamSpec", "load_spec", "parse_spec"]

_PATTERN_NAMES = sorted(PATTERNS)


class TeamSpec(SpecModel):
    """A checked team file: what `build_team` needs to build the graph."""

    _expected: ClassVar[str] = "a mapping with pattern and agents"
    _missing: ClassVar[Mapping[str, str]] = {
        "pattern": f"missing; allowed: {allowed(_PATTERN_NAMES)}",
        "agents": "missing; give a list of at least one agent",
    }

    name: str = ""
    """The team's name (defaults to the file's stem)."""
    description: str = ""
    """What the team does."""
    pattern: str
    """A key of `PATTERNS`."""
    options: Mapping[str, Any] = Field(default_factory=lambda: MappingProxyType({}))
    """The pattern factory's keyword arguments (an `AgentSpec` value becomes an `Agent`)."""
    model: str | None = None
    """The model of the agents that set none."""
    example_input: str | None = None
    """A sample task, used by `orchestra demo` and the tests."""
    prices: Mapping[str, ModelPrice] = Field(default_factory=lambda: MappingProxyType({}))
    """Prices of models the built-in table does not list (or overrides), by model name:
    `{input: IN, output: OUT}` in US dollars per million tokens."""
    example_fields: dict[str, Any] = Field(default_factory=dict)
    """Record fields `orchestra demo` supplies when an agent's `requires` is not met (what
    a person would type)."""
    agents: tuple[AgentSpec, ...]
    """The participants, in order."""

    _source: Path | None = PrivateAttr(None)
    _sha256: str | None = PrivateAttr(None)

    @property
    def source(self) -> Path | None:
        """The file it was read from, if any."""
        return self._source

    @property
    def sha256(self) -> str | None:
        """The SHA-256 of the file's bytes as read (hex), if it was read from a file."""
        return self._sha256

    @field_validator("name", mode="after")
    @classmethod
    def _name(cls, value: str) -> str:
        try:
            # A team can be an agent of another team: its name follows the same rules.
            refused_by_agent(name=value)
        except ValueError as error:
            raise ValueError(f"{error} (a team's name follows the rules of agent names)") from None
        return value

    @field_validator("pattern", mode="before")
    @classmethod
    def _pattern(cls, value: Any) -> str:
        if isinstance(value, str) and value in PATTERNS:
            return value
        shown = f"'{value}'" if isinstance(value, str) else type_name(value)
        hint = did_you_mean(value, _PATTERN_NAMES) if isinstance(value, str) else ""
        raise ValueError(f"unknown pattern {shown}{hint}; allowed: {allowed(_PATTERN_NAMES)}")

    @field_validator("options", mode="plain")
    @classmethod
    def _options(cls, value: Any, info: ValidationInfo) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise ValueError(f"expected a mapping, got {type_name(value)}")
        name = info.data.get("pattern")
        if name is None:  # the pattern is wrong: its options can't be checked
            return MappingProxyType({})
        return PATTERNS[name].parse_options(value, name=name, context=info.context or {})

    @field_validator("model", mode="before")
    @classmethod
    def _model(cls, value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError(
                f"expected a 'provider:model' string, got {type_name(value)}; "
                "scripted models are set per agent"
            )
        return check_model_string(value)

    @field_validator("prices", mode="plain")
    @classmethod
    def _prices(cls, value: Any) -> Mapping[str, ModelPrice]:
        form = "{model name: {input: IN, output: OUT}} (US dollars per million tokens)"
        if not isinstance(value, Mapping):
            raise ValueError(f"expected a mapping {form}, got {type_name(value)}")
        prices: dict[str, ModelPrice] = {}
        for name, price in value.items():
            if (
                not isinstance(name, str)
                or not isinstance(price, Mapping)
                or set(price) != {"input", "output"}
            ):
                raise ValueError(f"price of {name!r}: expected {form}, got {price!r}")
            try:
                prices[name] = ModelPrice(price["input"], price["output"])
            except TeamConfigError as error:
                raise ValueError(f"price of {name!r}: {error}") from None
        return MappingProxyType(prices)

    @field_validator("agents", mode="before")
    @classmethod
    def _agents(cls, value: Any, info: ValidationInfo) -> list[Any]:
        if not isinstance(value, list):
            raise ValueError(f"expected a list of agents, got {type_name(value)}")
        if not value:
            raise ValueError("empty; give a list of at least one agent")
        default = info.data.get("model")
        if default is None:
            return value
        return [
            {**item, "model": default}
            if isinstance(item, Mapping) and item.get("model") is None
            else item
            for item in value
        ]

    @classmethod
    def _cross_check(cls, data: Mapping[str, Any]) -> list[tuple[Loc, str]]:
        """The pattern's required options are set; names are unique (agents and options)."""
        return [*_missing_options(data), *_duplicate_names(data)]


def _missing_options(data: Mapping[str, Any]) -> list[tuple[Loc, str]]:
    """The required options of the file's pattern that it does not set."""
    pattern = data.get("pattern")
    options = data.get("options") or {}
    if not isinstance(pattern, str) or pattern not in PATTERNS or not isinstance(options, Mapping):
        return []
    return [
        (("options", key), f"missing; {what}")
        for key, what in PATTERNS[pattern].required.items()
        if options.get(key) is None
    ]


def _duplicate_names(data: Mapping[str, Any]) -> list[tuple[Loc, str]]:
    """Names are unique among the agents and the agents that options hold."""
    named: list[tuple[Loc, Any]] = []
    if isinstance(data.get("agents"), list):
        named += [
            (("agents", i, "name"), item.get("name"))
            for i, item in enumerate(data["agents"])
            if isinstance(item, Mapping)
        ]
    if isinstance(data.get("options"), Mapping):
        named += [
            (("options", key, "name"), value.get("name"))
            for key, value in data["options"].items()
            if isinstance(value, Mapping)
        ]
    seen: dict[str, Loc] = {}
    found: list[tuple[Loc, str]] = []
    for loc, name in named:
        if not isinstance(name, str):
            continue
        if name in seen:
            found.append(
                (
                    loc,
                    f"duplicate name '{name}' (also {place(seen[name])}); names must be unique",
                )
            )
        else:
            seen[name] = loc
    return found


def parse_spec(data: Any, *, source: str = "<spec>", base: Path | None = None) -> TeamSpec:
    """Check parsed YAML `data` and return the `TeamSpec`.

    Args:
        data: The loaded YAML document.
        source: How to name the file in messages.
        base: The team file's folder (tool modules are also imported from there).

    Returns:
        The checked spec.

    Raises:
        SpecError: Listing every problem found, in file order.
    """
    context: dict[str, Any] = {"base": base}
    pattern = data.get("pattern") if isinstance(data, Mapping) else None
    if isinstance(pattern, str) and pattern in PATTERNS:
        # Scripted replies may call the tools the pattern gives its agents (or its manager).
        found = PATTERNS[pattern]
        context.update(
            gives_tool=found.gives_tool,
            given_tools=found.tools,
            gives_manager_tool=found.gives_manager_tool,
            manager_tools=found.manager_tools,
        )
    try:
        spec = TeamSpec.model_validate(data, context=context)
    except ValidationError as error:
        raise spec_error(error, source=source, data=data) from None
    return spec if spec.name else spec.model_copy(update={"name": _stem_name(source)})


def _stem_name(source: str) -> str:
    stem = Path(source).stem
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "-", stem).strip("-_") or "team"
    return cleaned if cleaned[0].isalpha() else f"team-{cleaned}"[:64]


def with_source(spec: TeamSpec, source: Path | None, sha256: str | None = None) -> TeamSpec:
    """Return a copy of `spec` that says it was read from `source` (whose hash is `sha256`)."""
    copy = spec.model_copy()
    copy._source = source
    copy._sha256 = sha256
    return copy


def load_spec(path: str | os.PathLike[str]) -> TeamSpec:
    """Read and check a team file.

    Args:
        path: The YAML file.

    Returns:
        The checked spec, with `source` set to the file's absolute path.

    Raises:
        SpecError: The file is missing, is not valid YAML, or has problems (all listed).
    """
    source = str(path)
    file = Path(path)
    try:
        raw = file.read_bytes()
        text = raw.decode("utf-8")
    except FileNotFoundError:
        raise SpecError(
            [f"{source}: no such file"], hint="give the path of a team YAML file"
        ) from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as error:
        raise SpecError(
            [f"{source}: cannot read the file: {error}"], hint="give a readable YAML file"
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise SpecError(
            [f"{source}: {where}invalid YAML: {problem}"],
            hint=SPEC_HINT.format(source=source),
        ) from None
    spec = parse_spec(data, source=source, base=file.resolve().parent)
    return with_source(spec, file.resolve(), hashlib.sha256(raw).hexdigest())
