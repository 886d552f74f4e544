"""An agent of a team file: `AgentSpec`, its scripted model and its tools.

The agent-level rules (name syntax and reserved names, retry and timeout ranges) are
the `Agent` class's own: each field is checked by building an `Agent` with it, and the
`Agent`'s refusal is the problem at that field. Approval and `on_error` values are the
`Approval` and `OnError` types of `agents.py`. Tool names (in `approve_tools` and in
scripted tool calls) are checked against the agent's tools and the tools its pattern
gives it (the validation context's `gives_tool` and `given_tools`, set by the team).
Tools and `handoff_input` classes are imported by their paths, also from the team
file's folder.
"""

from __future__ import annotations

import importlib
import math
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, get_args

from langchain_core.messages import AIMessage
from langchain_core.tools import BaseTool
from pydantic import (
    BaseModel,
    Field,
    PlainValidator,
    SkipValidation,
    ValidationInfo,
    field_validator,
    model_validator,
)

from langgraph_orchestra.agents import Approval, OnError
from langgraph_orchestra.resilience import CircuitBreaker
from langgraph_orchestra.spec._problems import (
    Loc,
    SpecModel,
    allowed,
    did_you_mean,
    problems,
    type_name,
)
from langgraph_orchestra.spec._values import (
    MODEL_ALLOWED,
    UNNAMED,
    Breaker,
    Context,
    check_model_string,
    parse_breaker,
    refused_by_agent,
)
from langgraph_orchestra.spec.records import output_model

if TYPE_CHECKING:
    from langgraph_orchestra.spec.team import TeamSpec

__all__ = ["AgentSpec", "ModelOption", "ScriptedSpec", "ToolRef", "model_of", "parse_model"]

_APPROVE_TOOLS_ALLOWED = "true (all its tools), false, or a list of its tools' names"

_REPLY_ALLOWED = (
    "a string, {content: TEXT, tool_calls: [{name, args}]}, {error: TEXT} or a structured "
    "reply {field: value, ...}"
)
_MESSAGE_KEYS = frozenset({"content", "tool_calls", "error"})
"""The keys of a reply that is a message (or an error); a mapping with none of them is a
structured reply (a speaker choice, a verdict)."""
_TEAM_ONLY_KEYS = ("instructions", "tools", "approve_tools", "fallbacks", "breaker", "output")
"""The keys of a model agent that an agent made of a team cannot have (they are its
model's; the nested team's agents have their own)."""
_OR_TEAM = "or team: FILE.yaml for a whole team"
_IMPORT_PATH = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


def _a_list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"expected {what}, got {type_name(value)}")
    return value


# -- scripted models ------------------------------------------------------------------


class _ToolCall(SpecModel):
    """A tool call of a scripted reply."""

    _expected: ClassVar[str] = "{name: TOOL, args: {...}}"
    _missing: ClassVar[Mapping[str, str]] = {"name": "missing; give a string"}

    name: str
    """The tool's name."""
    args: dict[str, Any] = Field(default_factory=dict)
    """Its arguments."""
    id: Any = None
    """The call's id; made from its place in the file when not given."""


class _Reply(SpecModel):
    """A scripted reply with text and/or tool calls."""

    content: str = ""
    """The reply's text."""
    tool_calls: tuple[_ToolCall, ...] = ()
    """The tools it calls."""

    @field_validator("tool_calls", mode="before")
    @classmethod
    def _calls(cls, value: Any) -> list[Any]:
        return _a_list(value, "a list")


def _reply(item: Any, info: ValidationInfo) -> str | AIMessage | Exception | dict[str, Any]:
    if isinstance(item, str):
        return item
    if not isinstance(item, Mapping):
        raise ValueError(f"expected a reply, got {type_name(item)}; allowed: {_REPLY_ALLOWED}")
    if item and not _MESSAGE_KEYS & set(item):
        # For `with_structured_output`: the model answers with these fields.
        return dict(item)
    if "error" in item:
        if set(item) != {"error"} or not isinstance(item["error"], str) or not item["error"]:
            raise ValueError("an error reply is {error: TEXT} alone, with a non-empty text")
        return RuntimeError(item["error"])
    reply = _Reply.model_validate(item, context=info.context)
    if not reply.content and not reply.tool_calls:
        raise ValueError(f"empty reply; allowed: {_REPLY_ALLOWED}")
    return AIMessage(
        content=reply.content,
        tool_calls=[
            {
                "name": call.name,
                "args": call.args,
                "id": str(call.id) if call.id is not None else None,
            }
            for call in reply.tool_calls
        ],
    )


class ScriptedSpec(SpecModel):
    """An offline model replaying `replies`, one per call (`ScriptedModel`).

    In YAML: `{scripted: [replies], latency: SECONDS}`.
    """

    _missing: ClassVar[Mapping[str, str]] = {"scripted": "expected a list of replies, got nothing"}

    replies: tuple[
        Annotated[str | AIMessage | Exception | dict[str, Any], PlainValidator(_reply)], ...
    ] = Field(alias="scripted")
    """The replies: text, a message with tool calls, an error the call raises, or a
    structured reply (the fields a structured-output call answers with)."""
    latency: float = 0.0
    """Seconds each reply takes."""

    @field_validator("replies", mode="before")
    @classmethod
    def _some(cls, value: Any) -> list[Any]:
        replies = _a_list(value, "a list of replies")
        if not replies:
            raise ValueError("empty; give a list of at least one reply")
        return replies

    @field_validator("latency", mode="plain")
    @classmethod
    def _latency(cls, value: Any) -> float:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value < 0
        ):
            raise ValueError(f"expected seconds >= 0, got {type_name(value)}")
        return float(value)


def parse_model(value: Any, info: ValidationInfo) -> str | ScriptedSpec:
    """Check a YAML model: a `"provider:model"` string or `{scripted: [replies]}`."""
    if isinstance(value, str):
        return check_model_string(value)
    if isinstance(value, Mapping):
        if "scripted" not in value:
            raise ValueError(f"a model mapping needs the key 'scripted'; {MODEL_ALLOWED}")
        return ScriptedSpec.model_validate(value, context=info.context)
    raise ValueError(f"expected a model, got {type_name(value)}; {MODEL_ALLOWED}")


@dataclass(frozen=True)
class ModelOption:
    """A pattern option that is a model (a manager's), with whose usage its calls count."""

    participant: str
    """The name its calls are counted under in `usage` (and its scripted replies used)."""
    model: str | ScriptedSpec
    """The model: a `"provider:model"` string or a scripted model."""
    fallbacks: tuple[str | ScriptedSpec, ...] = ()
    """Models tried in turn when a call fails (`{model: ..., fallbacks: [...]}`)."""
    breaker: CircuitBreaker | None = None
    """A circuit breaker on the models (`{model: ..., breaker: {...}}`)."""


_RESILIENT_KEYS = ("model", "fallbacks", "breaker")


def _resilient(value: Mapping[str, Any], info: ValidationInfo) -> ModelOption:
    """A manager's `{model: MODEL, fallbacks: [MODEL, ...], breaker: {...}}`."""
    found: list[tuple[Loc, str, Any]] = []
    for key in value:
        if key not in _RESILIENT_KEYS:
            message = f"unknown key{did_you_mean(str(key), _RESILIENT_KEYS)}; allowed: "
            found.append(((key,), message + allowed(_RESILIENT_KEYS), value[key]))
    if found:
        raise problems(found)
    model = _at(("model",), value["model"], lambda v: parse_model(v, info))
    fallbacks = _at(("fallbacks",), value.get("fallbacks") or [], lambda v: _models(v, info))
    breaker = _at(("breaker",), value.get("breaker", False), parse_breaker)
    return ModelOption("", model, tuple(fallbacks), breaker)


def _at(loc: Loc, value: Any, parse: Callable[[Any], Any]) -> Any:
    """`parse(value)`, its refusal reported at `loc`."""
    try:
        return parse(value)
    except ValueError as error:
        shown = error.errors()[0]["msg"] if hasattr(error, "errors") else str(error)
        raise problems([(loc, shown, value)]) from None


def _models(value: Any, info: ValidationInfo) -> list[str | ScriptedSpec]:
    """A list of models (fallbacks), each written as an agent's `model:`."""
    return [parse_model(item, info) for item in _a_list(value, "a list of models")]


def model_of(participant: str) -> Any:
    """The type of a model option whose calls count in `usage` as `participant`.

    Its YAML value is written like an agent's `model:`; the option's value is a
    `ModelOption`, which `build_team` turns into a chat model. Its scripted replies may
    call the tools the pattern gives its manager (the validation context's
    `gives_manager_tool` and `manager_tools`); their calls get ids as agents' do.
    """

    def check(value: Any, info: ValidationInfo) -> ModelOption:
        if isinstance(value, Mapping) and "model" in value:
            option = _resilient(value, info)
            model = option.model
        else:
            model = parse_model(value, info)
            option = ModelOption(participant, model)
        replies = model.replies if isinstance(model, ScriptedSpec) else ()
        context = info.context or {}
        gives = context.get("gives_manager_tool")
        tools = list(context.get("manager_tools") or ())
        found: list[tuple[Loc, str, Any]] = []
        for i, reply in enumerate(replies):
            if not isinstance(reply, AIMessage):
                continue
            for j, call in enumerate(reply.tool_calls):
                if gives is None or not gives(call["name"]):
                    where = ("scripted", i, "tool_calls", j, "name")
                    shown = allowed(tools) or f"none (the {participant} has no tools)"
                    message = f"'{call['name']}' is not a tool of the {participant}; allowed: "
                    found.append((where, message + shown, call["name"]))
                if call["id"] is None:
                    call["id"] = f"call_{participant}_{i}_{j}"  # as an agent's (see AgentSpec)
        if found:
            raise problems(found)
        return ModelOption(participant, model, option.fallbacks, option.breaker)

    return Annotated[ModelOption, PlainValidator(check)]


# -- tools ----------------------------------------------------------------------------


class ToolRef(SpecModel):
    """A tool found by its import path."""

    path: str
    """The import path, `package.module:attr`."""
    tool: SkipValidation[BaseTool | Callable[..., Any]]
    """The imported tool: a `BaseTool` or a function."""

    @property
    def name(self) -> str:
        """The tool's name as a model sees it."""
        if isinstance(self.tool, BaseTool):
            return self.tool.name
        return str(getattr(self.tool, "__name__", type(self.tool).__name__))


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


def _imported(value: Any, info: ValidationInfo, *, example: str, what: str, modules: str) -> Any:
    """Import the object at `value` (`package.module:attr`), also from the team's folder."""
    if not isinstance(value, str) or not _IMPORT_PATH.match(value):
        shown = f"'{value}'" if isinstance(value, str) else type_name(value)
        raise ValueError(f"{shown} is not an import path 'package.module:attr'; e.g. '{example}'")
    module_name, attr = value.split(":", 1)
    base = (info.context or {}).get("base")
    with _importable_from(base):
        try:
            target: Any = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            missing = error.name or module_name
            if module_name == missing or module_name.startswith(missing + "."):
                raise ValueError(
                    f"no module named '{missing}'; {modules} are "
                    "imported from the Python path or the team file's folder"
                ) from None
            raise ValueError(f"importing module '{module_name}' failed: {error}") from None
        except Exception as error:
            raise ValueError(
                f"importing module '{module_name}' failed: {type(error).__name__}: {error}"
            ) from None
    for i, part in enumerate(attr.split(".")):
        if not hasattr(target, part):
            owner = module_name if i == 0 else ".".join([module_name, *attr.split(".")[:i]])
            names = [n for n in dir(target) if not n.startswith("_")]
            raise ValueError(
                f"'{owner}' has no attribute '{part}'{did_you_mean(part, names)}; "
                f"give the name of {what} it defines"
            )
        target = getattr(target, part)
    return target


def _import_tool(value: Any, info: ValidationInfo) -> ToolRef:
    """Import the tool at `value` (`package.module:attr`), also from the team's folder."""
    target = _imported(
        value, info, example="support_tools:lookup_order", what="a tool", modules="tool modules"
    )
    if not isinstance(target, BaseTool) and (isinstance(target, type) or not callable(target)):
        raise ValueError(
            f"'{value}' is {type_name(target)}, not a tool; give a function or a langchain BaseTool"
        )
    return ToolRef(path=value, tool=target)


def _import_model(value: Any, info: ValidationInfo) -> type[BaseModel]:
    """Import the pydantic model class at `value` (a handoff's payload)."""
    target = _imported(
        value, info, example="support_tools:RefundCase", what="a class", modules="modules"
    )
    if not (isinstance(target, type) and issubclass(target, BaseModel)):
        shown = f"the class {target.__name__}" if isinstance(target, type) else type_name(target)
        raise ValueError(
            f"'{value}' is {shown}, not a pydantic model class; give a class derived "
            "from pydantic.BaseModel"
        )
    return target


def _tool_problem(name: str, tools: list[str], info: ValidationInfo) -> str | None:
    """Why `name` is not a tool this agent can call (`None` if it is)."""
    context = info.context or {}
    gives_tool = context.get("gives_tool")
    if name in tools or (gives_tool is not None and gives_tool(name)):
        return None
    given = list(context.get("given_tools") or ())
    return (
        f"'{name}' is not a tool of this agent{did_you_mean(name, tools)}; "
        f"allowed: {allowed([*tools, *given]) or 'none (the agent has no tools)'}"
    )


# -- agents ---------------------------------------------------------------------------


class AgentSpec(SpecModel):
    """One agent of a team file (the YAML fields of `Agent`)."""

    _expected: ClassVar[str] = "an agent mapping (name, model, ...)"
    _missing: ClassVar[Mapping[str, str]] = {
        "name": "missing; every agent needs a unique name",
    }

    name: str
    """Unique name in the team."""
    description: str = ""
    """What it does."""
    model: str | ScriptedSpec | None = None
    """Its model: a `"provider:model"` string or a scripted model (`None` for a team)."""
    team: TeamSpec | None = None
    """Instead of a model, a whole team: `team: FILE.yaml` (relative to this file) or an
    inline team mapping (`{pattern: ..., agents: [...]}`). It runs as this agent, whose
    description defaults to the team's."""
    instructions: str | None = None
    """Its system prompt."""
    tools: tuple[Annotated[ToolRef, PlainValidator(_import_tool)], ...] = ()
    """Its tools."""
    approve_tools: bool | tuple[str, ...] = False
    """Tools whose calls a human approves before they run: `true` (all), or names."""
    approval: Approval | None = None
    """`before`, `after` or `both`: where a human approves."""
    on_error: OnError = "raise"
    """`raise`, `continue` or `escalate`."""
    context: Context | None = None
    """What it sees of the transcript; `None` for the pattern's default."""
    retry: int | None = None
    """Attempts per call."""
    timeout: float | None = None
    """Seconds per attempt."""
    handoff_input: Annotated[type[BaseModel], PlainValidator(_import_model)] | None = None
    """In a handoff team, the payload of a transfer to this agent: the import path of a
    pydantic model class."""
    fallbacks: tuple[str | ScriptedSpec, ...] = ()
    """Models tried in turn when a call to `model` fails, each written like `model`."""
    breaker: Breaker = None
    """A circuit breaker on its models: `true` or `{failures, window, reset_after}`."""

    @field_validator("fallbacks", mode="before")
    @classmethod
    def _fallbacks(cls, value: Any, info: ValidationInfo) -> list[str | ScriptedSpec]:
        return _models(value, info)

    output: SkipValidation[type[BaseModel]] | None = None
    """A typed output: `{field: type}` (`str`, `int`, `float`, `bool`, `list[str]`, each
    optionally `| None`) or the import path of a pydantic model class. Its fields are
    written to the team's record."""
    writes: tuple[str, ...] | None = None
    """The record fields it may write (default: its output's fields)."""
    reads: tuple[str, ...] = ()
    """The record fields shown to it."""
    requires: tuple[str, ...] = ()
    """The record fields that must be set before it acts."""

    @field_validator("output", mode="plain")
    @classmethod
    def _output(cls, value: Any, info: ValidationInfo) -> type[BaseModel] | None:
        if value is None:
            return None
        if isinstance(value, Mapping):
            return output_model(str(info.data.get("name", UNNAMED)), value)
        if isinstance(value, str):
            return _import_model(value, info)
        raise ValueError(
            f"expected {{field: type}} or an import path 'module:Class', got {type_name(value)}"
        )

    @field_validator("writes", "reads", "requires", mode="before")
    @classmethod
    def _fields(cls, value: Any) -> Any:
        if value is None:
            return None
        return _a_list(value, "a list of field names")

    @field_validator("name", mode="after")
    @classmethod
    def _name(cls, value: str) -> str:
        refused_by_agent(name=value)
        return value

    @field_validator("model", mode="before")
    @classmethod
    def _model(cls, value: Any, info: ValidationInfo) -> str | ScriptedSpec:
        return parse_model(value, info)

    @field_validator("team", mode="plain")
    @classmethod
    def _team(cls, value: Any, info: ValidationInfo) -> TeamSpec:
        from langgraph_orchestra.spec.team import nested_team

        return nested_team(value, info, name=str(info.data.get("name", UNNAMED)))

    @classmethod
    def _cross_check(cls, data: Mapping[str, Any]) -> list[tuple[Loc, str]]:
        """Exactly one of `model` and `team`; an agent made of a team has no model's keys."""
        if "team" not in data:
            if "model" in data:
                return []
            return [(("model",), f"missing; {MODEL_ALLOWED}, or a top-level model; {_OR_TEAM}")]
        if "model" in data:
            return [(("model",), "an agent has a model or a team, not both; remove one")]
        return [
            ((key,), f"an agent made of a team has no {key}; give it to the team's agents")
            for key in _TEAM_ONLY_KEYS
            if key in data
        ]

    @field_validator("tools", mode="before")
    @classmethod
    def _tools(cls, value: Any) -> list[Any]:
        return _a_list(value, "a list of import paths")

    @field_validator("approve_tools", mode="plain")
    @classmethod
    def _approve_tools(cls, value: Any) -> bool | tuple[str, ...]:
        if isinstance(value, bool):
            return value
        if not isinstance(value, list):
            raise ValueError(f"expected {_APPROVE_TOOLS_ALLOWED}, got {type_name(value)}")
        wrong = [(i, v) for i, v in enumerate(value) if not isinstance(v, str) or not v]
        if wrong:
            raise problems(
                [((i,), f"expected a tool's name, got {type_name(v)}", v) for i, v in wrong]
            )
        return tuple(value)

    @field_validator("approval", "on_error", mode="before")
    @classmethod
    def _choice(cls, value: Any, info: ValidationInfo) -> Any:
        choices: tuple[str, ...] = get_args(Approval if info.field_name == "approval" else OnError)
        if not isinstance(value, str) or value not in choices:
            shown = f"'{value}'" if isinstance(value, str) else type_name(value)
            hint = did_you_mean(value, choices) if isinstance(value, str) else ""
            raise ValueError(f"{shown} is not allowed{hint}; allowed: {allowed(choices)}")
        return value

    @field_validator("retry", "timeout", mode="before")
    @classmethod
    def _agent_range(cls, value: Any, info: ValidationInfo) -> Any:
        refused_by_agent(name=info.data.get("name", UNNAMED), **{str(info.field_name): value})
        return value

    @model_validator(mode="after")
    def _tool_names(self, info: ValidationInfo) -> AgentSpec:
        """Check the tools named by `approve_tools` and by scripted calls; give ids to calls."""
        tools = [tool.name for tool in self.tools]
        found: list[tuple[Loc, str, Any]] = []
        if self.approve_tools is True and not tools:
            found.append(
                (("approve_tools",), "true, but the agent has no tools; give it tools", True)
            )
        for i, name in enumerate(
            () if isinstance(self.approve_tools, bool) else self.approve_tools
        ):
            if name not in tools:
                message = (
                    f"'{name}' is not a tool of this agent{did_you_mean(name, tools)}; "
                    f"allowed: {allowed(tools) or 'none (the agent has no tools)'}"
                )
                found.append((("approve_tools", i), message, name))
        replies = self.model.replies if isinstance(self.model, ScriptedSpec) else ()
        for i, reply in enumerate(replies):
            if not isinstance(reply, AIMessage):
                continue
            for j, call in enumerate(reply.tool_calls):
                problem = _tool_problem(call["name"], tools, info)
                if problem is not None:
                    where = ("model", "scripted", i, "tool_calls", j, "name")
                    found.append((where, problem, call["name"]))
                if call["id"] is None:
                    # Stable across processes, unique in the team: a resumed thread's
                    # replayed calls match the tool messages already in its transcript.
                    call["id"] = f"call_{self.name}_{i}_{j}"
        if found:
            raise problems(found)
        return self
