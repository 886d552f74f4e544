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
    problems,
    spec_error,
    type_name,
)
from langgraph_orchestra.spec._values import check_model_string, refused_by_agent
from langgraph_orchestra.spec.agent import AgentSpec
from langgraph_orchestra.spec.patterns import PATTERNS
from langgraph_orchestra.tracing import ModelPrice

__all__ = ["TeamSpec", "load_spec", "nested_team", "parse_spec"]

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
        """The SHA-256 (hex) of the file's bytes as read, if it was read from a file.

        A team that includes team files (`team: FILE.yaml`) hashes its own bytes with
        their hashes, so a change in any of them changes it.
        """
        return self._sha256

    def files(self) -> list[Path]:
        """The team files it was read from: its own, then those it includes, at any depth."""
        found = [self.source] if self.source is not None else []
        for team in _included(self):
            found += [file for file in team.files() if file not in found]
        return found

    def members(self) -> list[tuple[AgentSpec, str | None]]:
        """Its agents, then the agents its options hold, each with that option's name."""
        found: list[tuple[AgentSpec, str | None]] = [(agent, None) for agent in self.agents]
        found += [(v, key) for key, v in self.options.items() if isinstance(v, AgentSpec)]
        return found

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
        return [_with_model(item, default) for item in value]

    @classmethod
    def _cross_check(cls, data: Mapping[str, Any]) -> list[tuple[Loc, str]]:
        """The pattern's required options are set; names are unique (agents and options)."""
        return [*_missing_options(data), *_duplicate_names(data)]


def _with_model(item: Any, default: str) -> Any:
    """An agent's mapping with the team's `model:` where it sets none.

    An agent made of a team has no model; an inline team that sets no `model:` takes
    the including team's (a team file included by path is a team of its own: it doesn't).
    """
    if not isinstance(item, Mapping):
        return item
    team = item.get("team")
    if team is None:
        return item if item.get("model") is not None else {**item, "model": default}
    if isinstance(team, Mapping) and team.get("model") is None:
        return {**item, "team": {**team, "model": default}}
    return item


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
    return _parse(data, source=source, base=base, chain=())


def _parse(data: Any, *, source: str, base: Path | None, chain: tuple[Path, ...]) -> TeamSpec:
    """`parse_spec`, inside the team files `chain` (each including the next)."""
    context = {"base": base, "chain": chain, **_pattern_context(data)}
    try:
        spec = TeamSpec.model_validate(data, context=context)
    except ValidationError as error:
        raise spec_error(error, source=source, data=data) from None
    return spec if spec.name else spec.model_copy(update={"name": _stem_name(source)})


def _pattern_context(data: Any) -> dict[str, Any]:
    """The validation context of a team's pattern.

    Scripted replies may call the tools the pattern gives its agents (or its manager).
    """
    pattern = data.get("pattern") if isinstance(data, Mapping) else None
    if not isinstance(pattern, str) or pattern not in PATTERNS:
        return {}
    found = PATTERNS[pattern]
    return {
        "gives_tool": found.gives_tool,
        "given_tools": found.tools,
        "gives_manager_tool": found.gives_manager_tool,
        "manager_tools": found.manager_tools,
    }


def nested_team(value: Any, info: ValidationInfo, *, name: str) -> TeamSpec:
    """Check an agent's `team:`: a team file's path or an inline team mapping.

    A path is relative to the including file's folder (the validation context's `base`);
    the file is read with `load_spec`'s rules, its problems each reported at `team` as
    `NESTED_FILE: place: message`. A file that includes itself, directly or through
    others (the context's `chain`), is refused with the chain. An inline team is checked
    in place (its problems at `team.agents[0]...`) and is named after its agent unless
    it sets `name:`.
    """
    context = info.context or {}
    if isinstance(value, Mapping):
        inline = value if value.get("name") is not None else {**value, "name": name}
        return TeamSpec.model_validate(inline, context={**context, **_pattern_context(inline)})
    if not isinstance(value, str) or not value.strip():
        raise ValueError(
            f"expected a team file's path (relative to this file) or a team mapping "
            f"{{pattern: ..., agents: [...]}}, got {type_name(value)}"
        )
    base = context.get("base")
    path = ((base or Path.cwd()) / value).resolve()
    chain: tuple[Path, ...] = context.get("chain") or ()
    if path in chain:
        cycle = [*chain[chain.index(path) :], path]
        raise ValueError(
            f"the team files include each other: {' includes '.join(map(_shown, cycle))}; "
            "a team cannot contain itself"
        )
    try:
        return _load(path, source=_shown(path), chain=chain)
    except SpecError as error:
        raise problems([((), line, value) for line in error.problems]) from None


def _shown(path: Path) -> str:
    """How messages name a team file: relative to the working folder if it is below it."""
    cwd = Path.cwd()
    return str(path.relative_to(cwd)) if path.is_relative_to(cwd) else str(path)


def _included(spec: TeamSpec) -> list[TeamSpec]:
    """The teams `spec`'s agents are made of (an option's agent too), in file order."""
    return [agent.team for agent, _ in spec.members() if agent.team is not None]


def _digest(own: str, spec: TeamSpec) -> str:
    """The hash of a team file: its bytes' (`own`), with those of the files it includes.

    A team that includes no file keeps its bytes' hash; an inline team's included files
    count as the including file's.
    """
    hashes: list[str] = []
    pending = _included(spec)
    while pending:
        team = pending.pop(0)
        if team.sha256 is not None:
            hashes.append(team.sha256)
        else:
            pending[:0] = _included(team)
    if not hashes:
        return own
    return hashlib.sha256("\n".join([own, *hashes]).encode()).hexdigest()


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
        SpecError: The file is missing, is not valid YAML, or has problems (all listed),
            or one of the team files it includes (`team: FILE.yaml`) does.
    """
    return _load(Path(path), source=str(path), chain=())


def _load(file: Path, *, source: str, chain: tuple[Path, ...]) -> TeamSpec:
    """`load_spec`, inside the team files `chain` (each including the next)."""
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
    resolved = file.resolve()
    spec = _parse(data, source=source, base=resolved.parent, chain=(*chain, resolved))
    return with_source(spec, resolved, _digest(hashlib.sha256(raw).hexdigest(), spec))


AgentSpec.model_rebuild(_types_namespace={"TeamSpec": TeamSpec})
