"""The patterns a team file can name, each with the options its YAML may set.

Adding a pattern is one entry in `PATTERNS`: its factory, and its options as
`name -> pydantic type`. An option's type is usually one of the shared ones
(`whole(1)`, `Seconds`, `Quorum`, `Context`, `AgentSpec`) or
`Annotated[T, PlainValidator(check)]`, where `check(value)` (or `check(value, info)` to
read the validation context) takes the YAML value and returns the factory's keyword
argument, or raises `ValueError("what was wrong; what is allowed")`.

Example:
    ```python
    "group_chat": Pattern(
        create_group_chat,
        {"max_rounds": whole(1), "allow_repeat": StrictBool, "manager": AgentSpec},
        "group_chat.yaml",
        "speakers take turns on one transcript, chosen by a selector",
    ),
    ```
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from typing import Annotated, Any, get_args

from langgraph.graph import StateGraph
from pydantic import PlainValidator, ValidationInfo, create_model

from langgraph_orchestra.graphs import create_concurrent, create_sequential
from langgraph_orchestra.nodes.aggregate import BuiltIn
from langgraph_orchestra.spec._problems import SpecModel, allowed, did_you_mean, type_name
from langgraph_orchestra.spec._values import Context, Quorum, Seconds, whole
from langgraph_orchestra.spec.agent import AgentSpec

__all__ = ["PATTERNS", "Pattern"]


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


PATTERNS: Mapping[str, Pattern] = MappingProxyType(
    {
        "sequential": Pattern(
            create_sequential,
            {"context": Context, "max_revisions": whole(0)},
            "sequential.yaml",
            "a pipeline: each agent works on the previous one's output",
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
            },
            "concurrent.yaml",
            "fan-out: all agents answer the same task at once, then one answer is made",
        ),
    }
)
"""The patterns a team file can use: name -> factory and allowed options."""
