"""Records as contracts: the typed state fields agents write, read and require.

An `Agent(output=Model)` answers by structured output and its fields are written to the
state fields of the same names; `writes=` says which fields it may write (default: its
output's), `reads=` which it is shown, and `requires=` which must be present before it
acts. The team's `state_schema` declares the fields: `check_records` refuses, at build
time, a field it lacks or declares with another type, and two owners of a field whose
writes no reducer combines. At run time the turn node refuses a write outside `writes`,
checks `requires`, and leaves one `write` audit record per field (agent, time, old and
new value), so a record's history can be proven.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, NotRequired, Required, TypeAlias, get_args

from langchain_core.messages import BaseMessage, HumanMessage
from pydantic import BaseModel, TypeAdapter
from pydantic_core import to_jsonable_python
from typing_extensions import TypedDict

from langgraph_orchestra.errors import PreconditionError, TeamConfigError
from langgraph_orchestra.prompts import DEFAULT_PROMPTS, RECORD_ITEM, Prompts
from langgraph_orchestra.state.records import AuditRecord, audit_record
from langgraph_orchestra.state.schemas import LIBRARY_KEYS

if TYPE_CHECKING:
    from langgraph_orchestra.agents import Agent
    from langgraph_orchestra.context import View

__all__ = [
    "CONFIDENCE",
    "ON_CONFLICT",
    "REASON",
    "RECORD",
    "OnConflict",
    "Requires",
    "check_contract",
    "check_records",
    "field_types",
    "has_reducer",
    "precondition",
    "provenance",
    "reading",
    "record_fields",
    "record_middleware",
    "record_of",
    "record_view",
    "reducer_of",
    "refused_writes",
    "render_fields",
    "render_output",
    "typed",
]

Requires: TypeAlias = Sequence[str] | Callable[[Mapping[str, Any]], bool]
"""Fields that must be present (not `None`) before an agent acts, or a predicate over the
record (the state's own fields)."""

OnConflict: TypeAlias = Literal["escalate", "first", "last"]
"""How a fan-out settles two branches writing different values to one field."""

ON_CONFLICT: tuple[str, ...] = get_args(OnConflict)
"""The allowed `on_conflict` values."""

RECORD = "record"
"""Name of the message that shows an agent the fields it reads."""

CONFIDENCE = "confidence"
"""The output field that confidence aggregation reads (a number, higher is surer)."""

REASON = "reason"
"""The output field shown as a branch's reason when a split decision goes to a person."""


# -- the agent's side: checked when the Agent is built ---------------------------------


def _names(value: object, what: str, agent: str) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise TeamConfigError(
            f"Agent '{agent}' {what} must be a list of field names, got {value!r}"
        )
    names = tuple(value)
    for name in names:
        if not isinstance(name, str) or not name.isidentifier():
            raise TeamConfigError(
                f"Agent '{agent}' {what} has {name!r}: a field name is a Python identifier"
            )
        if name in LIBRARY_KEYS:
            raise TeamConfigError(
                f"Agent '{agent}' {what} names '{name}', a field the library keeps: record "
                "fields are your state schema's own keys"
            )
    return tuple(dict.fromkeys(names))


def check_contract(agent: Agent) -> None:
    """Check and normalize `agent`'s `output`, `writes`, `reads` and `requires`.

    `writes` becomes a tuple (by default the output's fields), `reads` a tuple, and
    `requires` a tuple or the predicate given.

    Raises:
        TeamConfigError: naming the agent and what is wrong.
    """
    name = agent.name
    output = agent.output
    if output is not None:
        if not (isinstance(output, type) and issubclass(output, BaseModel)):
            raise TeamConfigError(
                f"Agent '{name}' output must be a pydantic model class, got {output!r}"
            )
        if agent.tools:
            raise TeamConfigError(
                f"Agent '{name}' has an output schema and tools: an agent answering in a "
                "schema takes no tools (a tool may write fields with writes=[...] instead)"
            )
    if agent.writes is None:
        writes = tuple(output.model_fields) if output is not None else ()
    else:
        writes = _names(agent.writes, "writes", name)
    object.__setattr__(agent, "writes", writes)
    object.__setattr__(agent, "reads", _names(agent.reads, "reads", name))
    requires = agent.requires
    if not callable(requires):
        requires = _names(requires, "requires", name)
        object.__setattr__(agent, "requires", requires)


# -- the schema's side: checked when the team is built --------------------------------


def _bare(hint: Any) -> Any:
    """`hint` without `Annotated`, `NotRequired` and `Required`."""
    while True:
        origin = typing.get_origin(hint)
        if origin is typing.Annotated:
            hint = hint.__origin__
        elif origin in (NotRequired, Required):
            hint = get_args(hint)[0]
        else:
            return hint


def field_types(schema: type[Any]) -> dict[str, Any]:
    """The declared type of each key of a state schema (TypedDict or pydantic)."""
    fields = getattr(schema, "model_fields", None)
    if isinstance(fields, dict):
        return {n: _bare(f.annotation) for n, f in fields.items()}
    return {n: _bare(h) for n, h in typing.get_type_hints(schema, include_extras=True).items()}


def has_reducer(schema: type[Any], field: str) -> bool:
    """Whether the schema's `field` is `Annotated` with a reducer (writes combine)."""
    return reducer_of(schema, field) is not None


def reducer_of(schema: type[Any], field: str) -> Callable[[Any, Any], Any] | None:
    """The reducer the schema gives `field`, if any."""
    fields = getattr(schema, "model_fields", None)
    if isinstance(fields, dict):
        metadata: Sequence[Any] = fields[field].metadata if field in fields else ()
    else:
        hint = typing.get_type_hints(schema, include_extras=True).get(field)
        while typing.get_origin(hint) in (NotRequired, Required):
            hint = get_args(hint)[0]
        metadata = getattr(hint, "__metadata__", ())
    return next((m for m in metadata if callable(m)), None)


def record_fields(schema: type[Any]) -> tuple[str, ...]:
    """The record fields of a state schema: its keys that are not the library's."""
    return tuple(n for n in field_types(schema) if n not in LIBRARY_KEYS)


def _union(hint: Any) -> tuple[Any, ...]:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return get_args(hint)
    return (hint,)


def _compatible(declared: Any, given: Any) -> bool:
    """Whether a value of type `given` fits a field declared as `declared`."""
    if declared is Any or declared == given:
        return True
    allowed = _union(declared)
    return all(part in allowed or part is Any for part in _union(given))


def _type_name(hint: Any) -> str:
    return hint.__name__ if isinstance(hint, type) else str(hint).replace("typing.", "")


def check_records(
    agents: Iterable[Agent],
    schema: type[Any],
    *,
    pattern: str,
    shared: bool = False,
    outputs: bool = True,
    one_owner: bool = False,
) -> None:
    """Check the team's record contracts against the state schema, before any model call.

    Every field an agent writes, reads or requires must be declared by `schema`, a typed
    output's fields with the type the schema gives them; a field two agents write needs a
    reducer in the schema, unless `shared` (a fan-out, which settles such writes by its
    `on_conflict`). `outputs=False`: the pattern runs its agents its own way and takes
    no typed `output`; `one_owner=True`: a pattern whose parallel rounds settle no
    conflict allows one owner per field, reducer or not. In a fan-out, a field several
    branches write has no writer reviewed after its turn (its fields would be written
    when accepted, outside the conflict settling) unless a reducer combines the writes.

    Raises:
        TeamConfigError: naming the field, the agent, the expected and the found type.
    """
    team = list(agents)
    typed_agents = [a.name for a in team if a.output is not None]
    if typed_agents and not outputs:
        raise TeamConfigError(
            f"{pattern} does not take agents with a typed output yet: {typed_agents}; use "
            "a sequential, concurrent or group chat team for them"
        )
    if not any(a.writes or a.reads or (a.requires and not callable(a.requires)) for a in team):
        return
    declared = field_types(schema)
    owners: dict[str, list[str]] = {}
    for agent in team:
        given = agent.output.model_fields if agent.output is not None else {}
        for what, names in (("writes", agent.writes), ("reads", agent.reads)):
            for field in names or ():
                _declared(declared, field, agent.name, what, schema, pattern, given)
        if not callable(agent.requires):
            for field in agent.requires:
                _declared(declared, field, agent.name, "requires", schema, pattern, given)
        for field in agent.writes or ():
            owners.setdefault(field, []).append(agent.name)
            if field in given and not _compatible(declared[field], given[field].annotation):
                raise TeamConfigError(
                    f"{pattern}: agent '{agent.name}' writes field '{field}' as "
                    f"{_type_name(given[field].annotation)} (its output "
                    f"{agent.output.__name__ if agent.output else ''}), but state_schema "
                    f"{schema.__name__} declares it as {_type_name(declared[field])}: make "
                    "the types agree"
                )
    for field, names in owners.items():
        if len(names) > 1 and one_owner:
            raise TeamConfigError(
                f"{pattern}: field '{field}' is written by agents {names}: in a {pattern} "
                "team a field has one owner (its parallel rounds settle no conflict; a "
                "concurrent team does, with on_conflict)"
            )
        reviewed = [a.name for a in team if a.name in names and a.approves_after]
        if len(names) > 1 and shared and reviewed and not has_reducer(schema, field):
            raise TeamConfigError(
                f"{pattern}: field '{field}' is written by agents {names}, and {reviewed} "
                "have approval='after': a reviewed branch's fields are written when its "
                "output is accepted, outside the fan-out's conflict settling; give the "
                "field one writer, a reducer in the schema, or gate before the turn"
            )
        if len(names) > 1 and not shared and not has_reducer(schema, field):
            raise TeamConfigError(
                f"{pattern}: field '{field}' is written by agents {names}: a field has one "
                f"owner unless state_schema {schema.__name__} gives it a reducer "
                f"(Annotated[..., reducer]) saying how writes combine"
            )


def _declared(
    declared: Mapping[str, Any],
    field: str,
    agent: str,
    what: str,
    schema: type[Any],
    pattern: str,
    given: Mapping[str, Any],
) -> None:
    if field in declared:
        return
    wanted = f": {_type_name(given[field].annotation)}" if field in given else ""
    raise TeamConfigError(
        f"{pattern}: agent '{agent}' {what} field '{field}', which state_schema "
        f"{schema.__name__} lacks: declare '{field}{wanted}' in a schema extending the "
        "pattern's state and pass it as state_schema="
    )


# -- at run time ----------------------------------------------------------------------


def record_of(state: Mapping[str, Any]) -> dict[str, Any]:
    """The record in `state`: its own (non-library) fields that are set."""
    return {k: v for k, v in state.items() if k not in LIBRARY_KEYS and v is not None}


def precondition(agent: Agent, record: Mapping[str, Any]) -> PreconditionError | None:
    """Return the error that stops `agent` on `record` (its `requires` fails), or `None`."""
    requires = agent.requires
    if callable(requires):
        if requires(record):
            return None
        label = getattr(requires, "__name__", type(requires).__name__)
        return PreconditionError(
            f"Agent '{agent.name}' requires a record that {label} accepts; it refused "
            f"{sorted(record)}",
            agent=agent.name,
            missing=[],
        )
    missing = [f for f in requires if record.get(f) is None]
    if not missing:
        return None
    return PreconditionError(
        f"Agent '{agent.name}' requires the fields {missing}, missing from the record: "
        "supply them or skip the agent",
        agent=agent.name,
        missing=missing,
    )


def refused_writes(agent: Agent, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The writes of `fields` that `agent` may not make (outside its `writes`)."""
    allowed = agent.writes or ()
    return {k: v for k, v in fields.items() if k not in allowed}


def provenance(
    writer: str, fields: Mapping[str, Any], old: Mapping[str, Any] | None, **detail: Any
) -> list[AuditRecord]:
    """One `write` audit record per field: who wrote it, when, the old and the new value."""
    before = old or {}
    return [
        audit_record(
            "write",
            writer,
            field=field,
            old=to_jsonable_python(before.get(field), fallback=str),
            new=to_jsonable_python(value, fallback=str),
            **detail,
        )
        for field, value in fields.items()
    ]


def render_fields(values: Mapping[str, Any], item: str = RECORD_ITEM) -> str:
    """The fields as lines of `item` (`field`, `value`)."""
    return "\n".join(
        item.format(field=k, value=to_jsonable_python(v, fallback=str)) for k, v in values.items()
    )


def render_output(prompts: Prompts, name: str) -> Callable[[BaseModel], str]:
    """How `name`'s typed output reads in the transcript."""

    def render(answer: BaseModel) -> str:
        values = {k: getattr(answer, k) for k in type(answer).model_fields}
        return prompts.record_output.format(
            name=name, fields=render_fields(values, prompts.record_item)
        )

    return render


def record_view(
    messages: Sequence[BaseMessage],
    fields: Collection[str],
    record: Mapping[str, Any],
    prompts: Prompts = DEFAULT_PROMPTS,
) -> list[BaseMessage]:
    """`messages` led by a fresh rendering of the `fields` of `record` (an old one dropped).

    The rendering is `prompts.record_view`, one `prompts.record_item` per field.
    """
    view = [m for m in messages if not (isinstance(m, HumanMessage) and m.name == RECORD)]
    values = {f: record[f] for f in fields if record.get(f) is not None}
    if not values:
        return view
    text = prompts.record_view.format(fields=render_fields(values, prompts.record_item))
    return [HumanMessage(text, name=RECORD), *view]


def reading(view: View, fields: Collection[str], prompts: Prompts = DEFAULT_PROMPTS) -> View:
    """Wrap a context policy so the agent also sees the record `fields` it reads."""

    def with_record(state: Mapping[str, Any], agent: str) -> list[BaseMessage]:
        return record_view(view(state, agent), fields, state, prompts)

    return with_record


def record_middleware(fields: Sequence[str]) -> Any:
    """Middleware declaring the record `fields` in a tool agent's own state.

    A tool writes a field with `Command(update={field: value, "messages": [...]})`; without
    the field in the agent's state the write would vanish silently. Declared, it shows in
    the agent's result, where the turn node checks it against the agent's `writes`.
    """
    from langchain.agents.middleware import AgentMiddleware

    hints = dict.fromkeys(fields, NotRequired[Any])
    schema = TypedDict("RecordFields", hints)  # type: ignore[misc]

    class RecordFields(AgentMiddleware[Any, Any]):
        """Declares the team's record fields in the agent's state."""

        state_schema = schema

    return RecordFields()


def typed(schema_types: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """`values` validated against the declared field types (raises `ValueError`)."""
    checked: dict[str, Any] = {}
    for field, value in values.items():
        if field not in schema_types:
            raise ValueError(f"unknown record field '{field}'; fields: {sorted(schema_types)}")
        checked[field] = TypeAdapter(schema_types[field]).validate_python(value)
    return checked
