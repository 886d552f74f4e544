"""Problems of a team file: pydantic errors as one-line messages with their YAML path.

Every spec model derives from `SpecModel`, whose validator rewrites pydantic's errors
into the file's own words (`unknown key (did you mean 'agents'?); allowed: ...`), so
`spec_error` only has to put them in file order and prefix each with its place.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    model_validator,
)
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

from langgraph_orchestra.errors import SpecError

__all__ = [
    "SPEC_HINT",
    "Loc",
    "SpecModel",
    "allowed",
    "did_you_mean",
    "place",
    "problem",
    "problems",
    "spec_error",
    "type_name",
]

SPEC_HINT = "fix the team file, then check it with: orchestra validate {source}"
"""The hint of a `SpecError` about a file."""

Loc = tuple[str | int, ...]
"""A place below the value being checked: keys and list indexes."""

_KIND = "spec"
"""The pydantic error type of a problem already in the file's words."""

_EXPECTED = {
    "string_type": "a string",
    "dict_type": "a mapping",
    "mapping_type": "a mapping",
    "list_type": "a list",
    "tuple_type": "a list",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
}
"""What a pydantic type error expected, in the file's words."""


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    """Return ` (did you mean 'x'?)` for the choice closest to `word`, or `""`."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def allowed(values: Sequence[str]) -> str:
    """List `values` for a message."""
    return ", ".join(values)


def type_name(value: object) -> str:
    """Say what a YAML value is, for a message (`'x' (a string)`, `a list`, `3`)."""
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


def _detail(loc: Loc, message: str, value: Any) -> InitErrorDetails:
    return InitErrorDetails(type=PydanticCustomError(_KIND, message), loc=loc, input=value)


def problem(message: str, *, loc: Loc = (), value: Any = None) -> ValidationError:
    """Return a problem at `loc` below the value being validated, to raise from a validator.

    Raise `ValueError(message)` for a problem with the value itself; this is for one
    further down (`{window: 0}` is wrong at `window`).
    """
    return problems([(loc, message, value)])


def problems(found: Sequence[tuple[Loc, str, Any]]) -> ValidationError:
    """Return several problems `(loc, message, value)`, to raise from a validator."""
    return ValidationError.from_exception_data(_KIND, [_detail(*each) for each in found])


class SpecModel(BaseModel):
    """A mapping of a team file: unknown keys refused, problems in the file's words.

    A key set to nothing (`key: ~`) is as if it were absent.
    """

    model_config = ConfigDict(
        extra="forbid", frozen=True, arbitrary_types_allowed=True, protected_namespaces=()
    )

    _expected: ClassVar[str] = "a mapping"
    """What the mapping is, for `expected ..., got ...`."""
    _missing: ClassVar[Mapping[str, str]] = {}
    """The message of a missing required key, by key."""

    @classmethod
    def _keys(cls) -> list[str]:
        return [field.alias or name for name, field in cls.model_fields.items()]

    @classmethod
    def _unknown_key(cls, key: str, info: ValidationInfo) -> str:
        """The message of a key the mapping does not have."""
        keys = cls._keys()
        return f"unknown key{did_you_mean(key, keys)}; allowed: {allowed(keys)}"

    @classmethod
    def _cross_check(cls, data: Mapping[str, Any]) -> list[tuple[Loc, str]]:
        """Problems among the fields of the raw mapping (found even when fields fail)."""
        return []

    @classmethod
    def _message(cls, error: ErrorDetails, info: ValidationInfo) -> str:
        kind, loc = error["type"], error["loc"]
        ctx = error.get("ctx") or {}
        if kind == _KIND:
            return error["msg"]
        if kind in ("value_error", "assertion_error") and "error" in ctx:
            return str(ctx["error"])
        if kind == "missing" and len(loc) == 1:
            return cls._missing.get(str(loc[0]), "missing")
        if kind == "extra_forbidden" and len(loc) == 1:
            return cls._unknown_key(str(loc[0]), info)
        if kind in ("model_type", "model_attributes_type") and not loc:
            return f"expected {cls._expected}, got {type_name(error['input'])}"
        if kind in _EXPECTED:
            return f"expected {_EXPECTED[kind]}, got {type_name(error['input'])}"
        message = error["msg"]
        return f"{message[:1].lower()}{message[1:]}, got {type_name(error['input'])}"

    @model_validator(mode="wrap")
    @classmethod
    def _in_the_files_words(
        cls, data: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo
    ) -> Any:
        if isinstance(data, Mapping):
            data = {key: value for key, value in data.items() if value is not None}
        details: list[InitErrorDetails] = []
        result = None
        try:
            result = handler(data)
        except ValidationError as error:
            details = [_detail(e["loc"], cls._message(e, info), e["input"]) for e in error.errors()]
        if isinstance(data, Mapping):
            details += [_detail(loc, message, None) for loc, message in cls._cross_check(data)]
        if details:
            raise ValidationError.from_exception_data(cls.__name__, details)
        return result


def _file_order(data: Any, loc: Loc) -> tuple[int, ...]:
    """Where `loc` is in the file: key positions and indexes; a missing key after the rest."""
    order: list[int] = []
    node = data
    for part in loc:
        if isinstance(node, Mapping):
            keys = list(node)
            order.append(keys.index(part) if part in keys else len(keys))
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            order.append(part)
            node = node[part]
        else:
            order.append(0)
            node = None
    return tuple(order)


def place(loc: Loc) -> str:
    """Write `loc` as a YAML path: `agents[2].tools[0]`."""
    place = ""
    for part in loc:
        place += f"[{part}]" if isinstance(part, int) else f".{part}" if place else str(part)
    return place


def spec_error(error: ValidationError, *, source: str, data: Any) -> SpecError:
    """Turn the validation error of `data` (read from `source`) into a `SpecError`.

    Each problem becomes `SOURCE: place: message`, in the order of the file.
    """
    found = sorted(error.errors(), key=lambda e: _file_order(data, e["loc"]))
    lines = [
        f"{source}: {place(e['loc'])}: {e['msg']}" if e["loc"] else f"{source}: {e['msg']}"
        for e in found
    ]
    return SpecError(list(dict.fromkeys(lines)), hint=SPEC_HINT.format(source=source))
