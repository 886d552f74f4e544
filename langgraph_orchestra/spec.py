"""Team specs: a YAML file that describes a team, turned into the pattern's graph.

A team file names a pattern, its options and its agents:

```yaml
name: support                      # optional; defaults to the file name
description: Customer-support reply
pattern: sequential                # a key of PATTERNS
options: {context: last}           # the pattern factory's keyword arguments
example_input: Where is my order A-1001?   # optional; used by `orchestra demo`
model: openai:gpt-4o-mini          # optional default for agents that set none
agents:
  - name: triage
    description: Reads the ticket and looks the order up.
    instructions: Classify the ticket and find the order.
    model: openai:gpt-4o-mini      # "provider:model" for init_chat_model
    tools: [support_tools:lookup_order]   # import paths "package.module:attr"
  - name: writer
    approval: after                # before | after | both
    on_error: escalate             # raise | continue | escalate
    model:
      scripted:                    # offline replies: text, {tool_calls: [...]}, {error: ...}
        - {error: rate limited}    # this call fails
        - Dear customer, ...
      latency: 0.2                 # seconds per reply (optional)
```

`load_spec` reads and checks a file and reports every problem at once in one
`SpecError`, each as `FILE: agents[2].tools[0]: what was wrong; what is allowed`.
`build_team` turns a `TeamSpec` into the pattern's uncompiled `StateGraph`.

Tool modules are imported from the Python path, then from the team file's folder.
Adding a pattern is one entry in `PATTERNS`: its factory and the options a YAML file
may set, each with the parser that checks and converts its value.

Example:
    ```python
    from langgraph_orchestra.spec import build_team, load_spec

    spec = load_spec("examples/sequential.yaml")
    graph = build_team(spec).compile(checkpointer=saver)
    ```
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import importlib.util
import math
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeAlias

import yaml
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage
from langchain_core.tools import BaseTool
from langgraph.graph import StateGraph

from langgraph_orchestra.agents import RESERVED_NAMES, Agent
from langgraph_orchestra.conditions import TokenBudget
from langgraph_orchestra.context import ContextPolicy, Window
from langgraph_orchestra.errors import SpecError, TeamConfigError
from langgraph_orchestra.graphs import create_concurrent, create_sequential
from langgraph_orchestra.models import PROVIDERS, chat_model

__all__ = [
    "PATTERNS",
    "PROVIDERS",
    "AgentSpec",
    "Pattern",
    "ScriptedSpec",
    "TeamSpec",
    "ToolRef",
    "build_team",
    "example_path",
    "examples_dir",
    "load_spec",
    "parse_spec",
    "sample_team",
    "validate_spec",
]


# -- the spec objects ---------------------------------------------------------------


@dataclass(frozen=True)
class ScriptedSpec:
    """An offline model replaying `replies`, one per call (`ScriptedModel`)."""

    replies: tuple[str | AIMessage | Exception, ...]
    """The replies: text, a message with tool calls, or an error the call raises."""
    latency: float = 0.0
    """Seconds each reply takes."""


ModelSpec: TypeAlias = str | ScriptedSpec
"""A `"provider:model"` string or a scripted model."""


@dataclass(frozen=True)
class ToolRef:
    """A tool found by its import path."""

    path: str
    """The import path, `package.module:attr`."""
    tool: BaseTool | Callable[..., Any]
    """The imported tool: a `BaseTool` or a function."""

    @property
    def name(self) -> str:
        """The tool's name as a model sees it."""
        return _tool_name(self.tool)


@dataclass(frozen=True)
class AgentSpec:
    """One agent of a team file (the YAML fields of `Agent`)."""

    name: str
    """Unique name in the team."""
    model: ModelSpec
    """Its model."""
    description: str = ""
    """What it does."""
    instructions: str | None = None
    """Its system prompt."""
    tools: tuple[ToolRef, ...] = ()
    """Its tools."""
    approval: str | None = None
    """`before`, `after` or `both`: where a human approves."""
    on_error: str = "raise"
    """`raise`, `continue` or `escalate`."""
    context: ContextPolicy | None = None
    """What it sees of the transcript; `None` for the pattern's default."""
    retry: int | None = None
    """Attempts per call."""
    timeout: float | None = None
    """Seconds per attempt."""


@dataclass(frozen=True)
class TeamSpec:
    """A checked team file: what `build_team` needs to build the graph."""

    name: str
    """The team's name (defaults to the file's stem)."""
    pattern: str
    """A key of `PATTERNS`."""
    agents: tuple[AgentSpec, ...]
    """The participants, in order."""
    options: Mapping[str, Any] = field(default_factory=dict)
    """The pattern factory's keyword arguments (an `AgentSpec` value becomes an `Agent`)."""
    description: str = ""
    """What the team does."""
    example_input: str | None = None
    """A sample task, used by `orchestra demo` and the tests."""
    source: Path | None = None
    """The file it was read from, if any."""


# -- problems -----------------------------------------------------------------------


class _Problems:
    """Collects the problems of one file, each with its YAML path."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.lines: list[str] = []

    def add(self, path: str, message: str) -> None:
        where = f"{self.source}: {path}: " if path else f"{self.source}: "
        self.lines.append(where + message)

    def raise_if_any(self) -> None:
        if self.lines:
            raise SpecError(self.lines, hint=_SPEC_HINT.format(source=self.source))


_SPEC_HINT = "fix the team file, then check it with: orchestra validate {source}"


def _did_you_mean(word: str, allowed: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(allowed), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _allowed(values: Sequence[str]) -> str:
    return ", ".join(values)


def _type_name(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, str):
        return f"'{value}' (a string)" if len(value) < 40 else "a string"
    if isinstance(value, int | float):
        return repr(value)
    return f"a {type(value).__name__}"


def _check_keys(
    data: Mapping[str, Any], allowed: Sequence[str], path: str, problems: _Problems
) -> None:
    for key in data:
        if key not in allowed:
            where = f"{path}.{key}" if path else str(key)
            problems.add(
                where,
                f"unknown key{_did_you_mean(str(key), allowed)}; allowed: {_allowed(allowed)}",
            )


def _string(
    data: Mapping[str, Any], key: str, path: str, problems: _Problems, *, required: bool = False
) -> str | None:
    where = f"{path}.{key}" if path else key
    if key not in data or data[key] is None:
        if required:
            problems.add(where, "missing; give a string")
        return None
    value = data[key]
    if not isinstance(value, str):
        problems.add(where, f"expected a string, got {_type_name(value)}")
        return None
    return value


# -- option and field parsers -------------------------------------------------------

OptionParser: TypeAlias = Callable[[Any, str, "_Problems", Path | None], Any]
"""Checks one option value at a YAML path; returns the factory argument (or `None`
after recording a problem)."""

_CONTEXT_NAMES = ("full", "last", "own")
_CONTEXT_ALLOWED = "full, last, own, {window: K} or {token_budget: N}"


def _whole(minimum: int) -> OptionParser:
    def parse(value: Any, path: str, problems: _Problems, base: Path | None) -> Any:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            problems.add(path, f"expected a whole number >= {minimum}, got {_type_name(value)}")
            return None
        return value

    return parse


def _seconds(value: Any, path: str, problems: _Problems, base: Path | None) -> Any:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        problems.add(path, f"expected a positive number of seconds, got {_type_name(value)}")
        return None
    return float(value)


def _context(value: Any, path: str, problems: _Problems, base: Path | None) -> Any:
    if isinstance(value, str):
        if value in _CONTEXT_NAMES:
            return value
        problems.add(
            path,
            f"unknown context '{value}'{_did_you_mean(value, _CONTEXT_NAMES)}; "
            f"allowed: {_CONTEXT_ALLOWED}",
        )
        return None
    if isinstance(value, Mapping) and len(value) == 1:
        (key, amount), *_ = value.items()
        if key in ("window", "token_budget"):
            if isinstance(amount, bool) or not isinstance(amount, int) or amount < 1:
                problems.add(
                    f"{path}.{key}", f"expected a whole number >= 1, got {_type_name(amount)}"
                )
                return None
            return Window(amount) if key == "window" else TokenBudget(amount)
    problems.add(
        path, f"expected a context policy, got {_type_name(value)}; allowed: {_CONTEXT_ALLOWED}"
    )
    return None


def _quorum(value: Any, path: str, problems: _Problems, base: Path | None) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.add(
            path,
            f"expected a count of branches (1, 2, ...) or a fraction (0 < q <= 1), "
            f"got {_type_name(value)}",
        )
        return None
    return value


_AGGREGATORS = ("concat", "vote")


def _aggregator(value: Any, path: str, problems: _Problems, base: Path | None) -> Any:
    if isinstance(value, str):
        if value in _AGGREGATORS:
            return value
        problems.add(
            path,
            f"unknown aggregator '{value}'{_did_you_mean(value, _AGGREGATORS)}; allowed: "
            "concat, vote, or an agent (a mapping with name, model, instructions, ...)",
        )
        return None
    if isinstance(value, Mapping):
        return _agent(value, path, problems, base, default_model=None)
    problems.add(
        path,
        f"expected concat, vote or an agent mapping, got {_type_name(value)}",
    )
    return None


# -- patterns -----------------------------------------------------------------------


@dataclass(frozen=True)
class Pattern:
    """A pattern a team file can name."""

    factory: Callable[..., StateGraph[Any, Any, Any, Any]]
    """`create_<pattern>(agents, **options) -> StateGraph`."""
    options: Mapping[str, OptionParser]
    """The factory's keyword arguments a YAML file may set, with their parsers."""
    example: str
    """The example team's file name in `examples/`."""
    summary: str
    """One line on what the pattern does."""


PATTERNS: Mapping[str, Pattern] = MappingProxyType(
    {
        "sequential": Pattern(
            create_sequential,
            {"context": _context, "max_revisions": _whole(0)},
            "sequential.yaml",
            "a pipeline: each agent works on the previous one's output",
        ),
        "concurrent": Pattern(
            create_concurrent,
            {
                "aggregator": _aggregator,
                "quorum": _quorum,
                "max_concurrency": _whole(1),
                "timeout": _seconds,
                "context": _context,
                "max_revisions": _whole(0),
            },
            "concurrent.yaml",
            "fan-out: all agents answer the same task at once, then one answer is made",
        ),
    }
)
"""The patterns a team file can use: name -> factory and allowed options."""

_TOP_KEYS = ("name", "description", "pattern", "options", "model", "example_input", "agents")
_AGENT_KEYS = (
    "name",
    "description",
    "model",
    "instructions",
    "tools",
    "approval",
    "on_error",
    "context",
    "retry",
    "timeout",
)
_APPROVALS = ("before", "after", "both")
_ON_ERRORS = ("raise", "continue", "escalate")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
_RESERVED_PREFIXES = ("approve_", "authorize_", "__")
_MODEL = re.compile(r"^([A-Za-z][A-Za-z0-9_-]*):(\S.*)$")
_MODEL_ALLOWED = "give 'provider:model' (e.g. 'openai:gpt-4o-mini') or {scripted: [replies]}"
_IMPORT_PATH = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


# -- models -------------------------------------------------------------------------


def _model_string(value: str, path: str, problems: _Problems) -> str | None:
    match = _MODEL.match(value.strip())
    if not match:
        problems.add(path, f"'{value}' is not a 'provider:model' string; {_MODEL_ALLOWED}")
        return None
    provider = match.group(1).replace("-", "_").lower()
    if provider not in PROVIDERS:
        problems.add(
            path,
            f"unknown provider '{match.group(1)}' in '{value}'"
            f"{_did_you_mean(provider, PROVIDERS)}; allowed providers: {_allowed(PROVIDERS)}",
        )
        return None
    return value.strip()


def _scripted_item(
    item: Any, path: str, problems: _Problems, tools: Sequence[str] | None
) -> str | AIMessage | Exception | None:
    if isinstance(item, str):
        return item
    allowed = "a string, {content: TEXT, tool_calls: [{name, args}]} or {error: TEXT}"
    if not isinstance(item, Mapping):
        problems.add(path, f"expected a reply, got {_type_name(item)}; allowed: {allowed}")
        return None
    keys = ("content", "tool_calls", "error")
    before = len(problems.lines)
    _check_keys(item, keys, path, problems)
    if "error" in item:
        if set(item) != {"error"} or not isinstance(item["error"], str) or not item["error"]:
            problems.add(path, "an error reply is {error: TEXT} alone, with a non-empty text")
            return None
        return RuntimeError(item["error"])
    content = _string(item, "content", path, problems) or ""
    calls = item.get("tool_calls") or []
    if not isinstance(calls, list):
        problems.add(f"{path}.tool_calls", f"expected a list, got {_type_name(calls)}")
        return None
    if not content and not calls:
        if len(problems.lines) == before:
            problems.add(path, f"empty reply; allowed: {allowed}")
        return None
    tool_calls: list[dict[str, Any]] = []
    for j, call in enumerate(calls):
        where = f"{path}.tool_calls[{j}]"
        if not isinstance(call, Mapping):
            problems.add(where, f"expected {{name: TOOL, args: {{...}}}}, got {_type_name(call)}")
            continue
        _check_keys(call, ("name", "args", "id"), where, problems)
        name = _string(call, "name", where, problems, required=True)
        args = call.get("args") or {}
        if not isinstance(args, Mapping):
            problems.add(f"{where}.args", f"expected a mapping, got {_type_name(args)}")
            continue
        if name is not None and tools is not None and name not in tools:
            problems.add(
                f"{where}.name",
                f"'{name}' is not a tool of this agent{_did_you_mean(name, tools)}; "
                f"allowed: {_allowed(tools) or 'none (the agent has no tools)'}",
            )
        call_id = call.get("id")
        if name is not None:
            tool_calls.append(
                {
                    "name": name,
                    "args": dict(args),
                    "id": str(call_id) if call_id is not None else _call_id(where),
                }
            )
    if len(problems.lines) > before:
        return None
    return AIMessage(content=content, tool_calls=tool_calls)


def _call_id(path: str) -> str:
    """A stable tool-call id made from the call's YAML path."""
    return "call_" + re.sub(r"\W+", "_", path).strip("_")


def _scripted(
    data: Mapping[str, Any], path: str, problems: _Problems, tools: Sequence[str] | None
) -> ScriptedSpec | None:
    _check_keys(data, ("scripted", "latency"), path, problems)
    replies = data.get("scripted")
    where = f"{path}.scripted"
    if not isinstance(replies, list):
        problems.add(where, f"expected a list of replies, got {_type_name(replies)}")
        return None
    if not replies:
        problems.add(where, "empty; give a list of at least one reply")
        return None
    items = [_scripted_item(r, f"{where}[{i}]", problems, tools) for i, r in enumerate(replies)]
    latency = data.get("latency", 0.0)
    if (
        isinstance(latency, bool)
        or not isinstance(latency, int | float)
        or not math.isfinite(latency)
        or latency < 0
    ):
        problems.add(f"{path}.latency", f"expected seconds >= 0, got {_type_name(latency)}")
        return None
    if any(i is None for i in items):
        return None
    return ScriptedSpec(tuple(i for i in items if i is not None), float(latency))


def _model(
    value: Any, path: str, problems: _Problems, tools: Sequence[str] | None
) -> ModelSpec | None:
    if isinstance(value, str):
        return _model_string(value, path, problems)
    if isinstance(value, Mapping):
        if "scripted" not in value:
            problems.add(path, f"a model mapping needs the key 'scripted'; {_MODEL_ALLOWED}")
            return None
        return _scripted(value, path, problems, tools)
    problems.add(path, f"expected a model, got {_type_name(value)}; {_MODEL_ALLOWED}")
    return None


# -- tools --------------------------------------------------------------------------


def _tool_name(tool: BaseTool | Callable[..., Any]) -> str:
    if isinstance(tool, BaseTool):
        return tool.name
    return str(getattr(tool, "__name__", type(tool).__name__))


@contextmanager
def _importable_from(folder: Path | None) -> Iterator[None]:
    """Let modules in `folder` be imported, after everything on the Python path."""
    entry = str(folder) if folder is not None else None
    added = entry is not None and entry not in sys.path
    if added:
        sys.path.append(str(entry))
        importlib.invalidate_caches()
    try:
        yield
    finally:
        if added:
            sys.path.remove(str(entry))


def _import_tool(value: Any, path: str, problems: _Problems, base: Path | None) -> ToolRef | None:
    if not isinstance(value, str) or not _IMPORT_PATH.match(value):
        shown = f"'{value}'" if isinstance(value, str) else _type_name(value)
        problems.add(
            path,
            f"{shown} is not an import path 'package.module:attr'; e.g. "
            "'support_tools:lookup_order'",
        )
        return None
    module_name, attr = value.split(":", 1)
    with _importable_from(base):
        try:
            target: Any = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            missing = error.name or module_name
            if module_name == missing or module_name.startswith(missing + "."):
                problems.add(
                    path,
                    f"no module named '{missing}'; tool modules are imported from the "
                    "Python path or the team file's folder",
                )
            else:
                problems.add(path, f"importing module '{module_name}' failed: {error}")
            return None
        except Exception as error:
            problems.add(
                path,
                f"importing module '{module_name}' failed: {type(error).__name__}: {error}",
            )
            return None
    for i, part in enumerate(attr.split(".")):
        if not hasattr(target, part):
            owner = module_name if i == 0 else ".".join([module_name, *attr.split(".")[:i]])
            names = [n for n in dir(target) if not n.startswith("_")]
            problems.add(
                path,
                f"'{owner}' has no attribute '{part}'{_did_you_mean(part, names)}; "
                "give the name of a tool it defines",
            )
            return None
        target = getattr(target, part)
    if not isinstance(target, BaseTool) and (isinstance(target, type) or not callable(target)):
        problems.add(
            path,
            f"'{value}' is {_type_name(target)}, not a tool; give a function or a "
            "langchain BaseTool",
        )
        return None
    return ToolRef(value, target)


# -- agents -------------------------------------------------------------------------


def _name(value: Any, path: str, problems: _Problems) -> str | None:
    if not isinstance(value, str) or not _NAME.match(value):
        shown = f"'{value}'" if isinstance(value, str) else _type_name(value)
        problems.add(
            path,
            f"invalid name {shown}; use 1-64 letters, digits, '_' or '-', starting with a letter",
        )
        return None
    if value.lower() in RESERVED_NAMES or value.startswith(_RESERVED_PREFIXES):
        problems.add(
            path,
            f"the name '{value}' is reserved; pick another (reserved: "
            f"{_allowed(sorted(RESERVED_NAMES))} and names starting with "
            f"{_allowed(_RESERVED_PREFIXES)})",
        )
        return None
    return value


def _choice(
    data: Mapping[str, Any], key: str, allowed: Sequence[str], path: str, problems: _Problems
) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or value not in allowed:
        shown = f"'{value}'" if isinstance(value, str) else _type_name(value)
        hint = _did_you_mean(value, allowed) if isinstance(value, str) else ""
        problems.add(f"{path}.{key}", f"{shown} is not allowed{hint}; allowed: {_allowed(allowed)}")
        return None
    return value


def _agent(
    data: Any,
    path: str,
    problems: _Problems,
    base: Path | None,
    *,
    default_model: ModelSpec | None,
) -> AgentSpec | None:
    if not isinstance(data, Mapping):
        problems.add(path, f"expected an agent mapping (name, model, ...), got {_type_name(data)}")
        return None
    before = len(problems.lines)
    _check_keys(data, _AGENT_KEYS, path, problems)
    name = None
    if "name" not in data:
        problems.add(f"{path}.name", "missing; every agent needs a unique name")
    else:
        name = _name(data["name"], f"{path}.name", problems)
    description = _string(data, "description", path, problems) or ""
    instructions = _string(data, "instructions", path, problems)

    tools: list[ToolRef] = []
    raw_tools = data.get("tools") or []
    if not isinstance(raw_tools, list):
        problems.add(
            f"{path}.tools", f"expected a list of import paths, got {_type_name(raw_tools)}"
        )
    else:
        for i, item in enumerate(raw_tools):
            ref = _import_tool(item, f"{path}.tools[{i}]", problems, base)
            if ref is not None:
                tools.append(ref)
    tools_ok = isinstance(raw_tools, list) and len(tools) == len(raw_tools)
    tool_names = [t.name for t in tools] if tools_ok else None

    model: ModelSpec | None
    if data.get("model") is None:
        model = default_model
        if model is None:
            problems.add(f"{path}.model", f"missing; {_MODEL_ALLOWED}, or a top-level model")
    else:
        model = _model(data["model"], f"{path}.model", problems, tool_names)

    approval = _choice(data, "approval", _APPROVALS, path, problems)
    on_error = _choice(data, "on_error", _ON_ERRORS, path, problems) or "raise"
    context = None
    if data.get("context") is not None:
        context = _context(data["context"], f"{path}.context", problems, base)
    retry = None
    if data.get("retry") is not None:
        retry = _whole(1)(data["retry"], f"{path}.retry", problems, base)
    timeout = None
    if data.get("timeout") is not None:
        timeout = _seconds(data["timeout"], f"{path}.timeout", problems, base)
    if len(problems.lines) > before or name is None or model is None:
        return None
    return AgentSpec(
        name=name,
        model=model,
        description=description,
        instructions=instructions,
        tools=tuple(tools),
        approval=approval,
        on_error=on_error,
        context=context,
        retry=retry,
        timeout=timeout,
    )


# -- whole files --------------------------------------------------------------------


def parse_spec(data: Any, *, source: str = "<spec>", base: Path | None = None) -> TeamSpec:
    """Check parsed YAML `data` and return the `TeamSpec`.

    Args:
        data: The loaded YAML document.
        source: How to name the file in messages.
        base: The team file's folder (tool modules are also imported from there).

    Returns:
        The checked spec.

    Raises:
        SpecError: Listing every problem found.
    """
    problems = _Problems(source)
    if not isinstance(data, Mapping):
        problems.add(
            "",
            f"expected a mapping with pattern and agents, got {_type_name(data)}",
        )
        problems.raise_if_any()
    _check_keys(data, _TOP_KEYS, "", problems)

    pattern_name = data.get("pattern")
    pattern: Pattern | None = None
    names = sorted(PATTERNS)
    if pattern_name is None:
        problems.add("pattern", f"missing; allowed: {_allowed(names)}")
    elif not isinstance(pattern_name, str) or pattern_name not in PATTERNS:
        shown = f"'{pattern_name}'" if isinstance(pattern_name, str) else _type_name(pattern_name)
        hint = _did_you_mean(pattern_name, names) if isinstance(pattern_name, str) else ""
        problems.add("pattern", f"unknown pattern {shown}{hint}; allowed: {_allowed(names)}")
    else:
        pattern = PATTERNS[pattern_name]

    team_name = _string(data, "name", "", problems)
    if team_name is not None and not _NAME.match(team_name):
        problems.add(
            "name",
            f"invalid team name '{team_name}'; use 1-64 letters, digits, '_' or '-', "
            "starting with a letter",
        )
    description = _string(data, "description", "", problems) or ""
    example_input = _string(data, "example_input", "", problems)
    default_model: ModelSpec | None = None
    if data.get("model") is not None:
        if isinstance(data["model"], str):
            default_model = _model_string(data["model"], "model", problems)
        else:
            problems.add(
                "model",
                f"expected a 'provider:model' string, got {_type_name(data['model'])}; "
                "scripted models are set per agent",
            )

    options: dict[str, Any] = {}
    raw_options = data.get("options") or {}
    if not isinstance(raw_options, Mapping):
        problems.add("options", f"expected a mapping, got {_type_name(raw_options)}")
    elif pattern is not None:
        allowed = list(pattern.options)
        for key, value in raw_options.items():
            if key not in pattern.options:
                problems.add(
                    f"options.{key}",
                    f"not an option of pattern '{pattern_name}'"
                    f"{_did_you_mean(str(key), allowed)}; allowed: {_allowed(allowed)}",
                )
                continue
            parsed = pattern.options[key](value, f"options.{key}", problems, base)
            if parsed is not None:
                options[key] = parsed

    agents: list[AgentSpec] = []
    raw_agents = data.get("agents")
    if raw_agents is None:
        problems.add("agents", "missing; give a list of at least one agent")
    elif not isinstance(raw_agents, list):
        problems.add("agents", f"expected a list of agents, got {_type_name(raw_agents)}")
    elif not raw_agents:
        problems.add("agents", "empty; give a list of at least one agent")
    else:
        seen: dict[str, str] = {}
        for i, item in enumerate(raw_agents):
            where = f"agents[{i}]"
            raw_name = item.get("name") if isinstance(item, Mapping) else None
            duplicate = isinstance(raw_name, str) and raw_name in seen
            if duplicate and isinstance(raw_name, str):
                problems.add(
                    f"{where}.name",
                    f"duplicate name '{raw_name}' (also {seen[raw_name]}); names must be unique",
                )
            elif isinstance(raw_name, str):
                seen[raw_name] = f"{where}.name"
            agent = _agent(item, where, problems, base, default_model=default_model)
            if agent is not None and not duplicate:
                agents.append(agent)
        synthesizer = options.get("aggregator")
        if isinstance(synthesizer, AgentSpec) and synthesizer.name in seen:
            problems.add(
                "options.aggregator.name",
                f"duplicate name '{synthesizer.name}' (also {seen[synthesizer.name]}); "
                "names must be unique",
            )
    problems.raise_if_any()
    return TeamSpec(
        name=team_name or _stem_name(source),
        pattern=str(pattern_name),
        agents=tuple(agents),
        options=MappingProxyType(options),
        description=description,
        example_input=example_input,
        source=None,
    )


def _stem_name(source: str) -> str:
    stem = Path(source).stem
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "-", stem).strip("-_") or "team"
    return cleaned if cleaned[0].isalpha() else f"team-{cleaned}"[:64]


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
        text = file.read_text(encoding="utf-8")
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
            hint=_SPEC_HINT.format(source=source),
        ) from None
    spec = parse_spec(data, source=source, base=file.resolve().parent)
    return dataclasses.replace(spec, source=file.resolve())


def validate_spec(path: str | os.PathLike[str]) -> TeamSpec:
    """Check a team file fully: its fields, then the pattern factory's own checks.

    The factory runs with a stand-in for every model, so no provider package, API key
    or network is needed.

    Raises:
        SpecError: Listing the problems found.
    """
    spec = load_spec(path)
    from langgraph_orchestra.testing import ScriptedModel

    _build(
        dataclasses.replace(spec, source=Path(path)),
        lambda agent: ScriptedModel([], name=agent.name),
    )
    return spec


# -- building -----------------------------------------------------------------------


def _chat_model(
    spec: AgentSpec,
    *,
    model_override: str | BaseChatModel | None,
    base_url: str | None,
    consumed: Mapping[str, int],
) -> BaseChatModel:
    if isinstance(model_override, BaseChatModel):
        return model_override
    if model_override is not None:
        return chat_model(model_override, base_url=base_url)
    if isinstance(spec.model, ScriptedSpec):
        from langgraph_orchestra.testing import ScriptedModel

        used = consumed.get(spec.name, 0)
        return ScriptedModel(
            list(spec.model.replies[used:]), name=spec.name, latency=spec.model.latency
        )
    return chat_model(spec.model, base_url=base_url)


def _to_agent(spec: AgentSpec, model: BaseChatModel) -> Agent:
    return Agent(
        spec.name,
        spec.description,
        model=model,
        instructions=spec.instructions,
        tools=[t.tool for t in spec.tools],
        approval=spec.approval,  # type: ignore[arg-type]
        on_error=spec.on_error,  # type: ignore[arg-type]
        context=spec.context,
        retry=spec.retry,
        timeout=spec.timeout,
    )


def _build(
    spec: TeamSpec, model_for: Callable[[AgentSpec], BaseChatModel]
) -> StateGraph[Any, Any, Any, Any]:
    """Create the agents (model errors propagate), then call the pattern's factory."""
    pattern = PATTERNS[spec.pattern]
    agents = [_to_agent(a, model_for(a)) for a in spec.agents]
    options = {
        key: _to_agent(value, model_for(value)) if isinstance(value, AgentSpec) else value
        for key, value in spec.options.items()
    }
    try:
        return pattern.factory(agents, **options)
    except TeamConfigError as error:
        source = str(spec.source) if spec.source else spec.name
        raise SpecError(
            [f"{source}: {spec.pattern}: {error}"], hint=_SPEC_HINT.format(source=source)
        ) from error


def build_team(
    spec: TeamSpec,
    *,
    model_override: str | BaseChatModel | None = None,
    base_url: str | None = None,
    consumed: Mapping[str, int] | None = None,
) -> StateGraph[Any, Any, Any, Any]:
    """Build the pattern's uncompiled graph for `spec`.

    Args:
        spec: The team.
        model_override: A `"provider:model"` string (or a chat model) used by every
            agent instead of its own.
        base_url: The base URL of an OpenAI-compatible server (Ollama, vLLM,
            llama.cpp) for `openai:` models; no API key is needed then.
        consumed: Scripted replies already used, per agent, so a thread resumed in a
            new process goes on where its scripts stopped.

    Returns:
        The graph; compile it with a checkpointer.

    Raises:
        ModelSetupError: A model's provider package or API key is missing.
        SpecError: `model_override` is malformed, or the pattern factory refused the team.
        TeamConfigError: A model could not be created.

    Example:
        ```python
        graph = build_team(load_spec("team.yaml"), model_override="openai:gpt-4o-mini")
        app = graph.compile(checkpointer=saver)
        ```
    """
    if isinstance(model_override, str):
        problems = _Problems("--model")
        _model_string(model_override, "", problems)
        if problems.lines:
            raise SpecError(
                problems.lines, hint="give --model as 'provider:model', e.g. openai:gpt-4o-mini"
            )
    used = consumed or {}

    def model_for(agent: AgentSpec) -> BaseChatModel:
        return _chat_model(agent, model_override=model_override, base_url=base_url, consumed=used)

    return _build(spec, model_for)


# -- examples -----------------------------------------------------------------------


def examples_dir() -> Path | None:
    """Return the folder of the example teams, or `None` if they are not installed.

    Looks inside the package (a wheel that bundles them) and next to it (a source
    checkout or an editable install).
    """
    here = Path(__file__).resolve().parent
    for candidate in (here / "examples", here.parent / "examples"):
        if (candidate / PATTERNS["sequential"].example).is_file():
            return candidate
    return None


def example_path(pattern: str) -> Path:
    """Return the example team file of `pattern`.

    Raises:
        SpecError: The pattern is unknown, or the examples are not installed.
    """
    names = sorted(PATTERNS)
    if pattern not in PATTERNS:
        raise SpecError(
            [
                f"unknown pattern '{pattern}'{_did_you_mean(pattern, names)}; allowed: "
                f"{_allowed(names)}"
            ],
            hint="list the patterns with: orchestra demo --help",
        )
    folder = examples_dir()
    if folder is None:
        raise SpecError(
            ["the example teams are not installed (no examples/ folder next to the package)"],
            hint="run from a clone of the repository: pip install -e .",
        )
    return folder / PATTERNS[pattern].example


def sample_team(pattern: str) -> StateGraph[Any, Any, Any, Any]:
    """Build a small built-in team of `pattern` (two agents), for drawing.

    Raises:
        SpecError: The pattern is unknown.
    """
    if pattern not in PATTERNS:
        names = sorted(PATTERNS)
        raise SpecError(
            [
                f"unknown pattern '{pattern}'{_did_you_mean(pattern, names)}; allowed: "
                f"{_allowed(names)}"
            ],
            hint="give a team file or one of the pattern names",
        )
    agents = [
        Agent("first", "The first agent", runnable=lambda messages: "first"),
        Agent("second", "The second agent", runnable=lambda messages: "second"),
    ]
    return PATTERNS[pattern].factory(agents)
