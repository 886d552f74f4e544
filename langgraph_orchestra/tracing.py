"""LangSmith names, tags and metadata, and usage and cost accounting.

The tree a user sees in LangSmith:

- the root run is named after the team, tagged `orchestra` and `pattern:<p>`, with
  `team` and `pattern` metadata: `named_team(graph, "support")` gives a compiled team
  these (`orchestra run` does it itself); `team_config` is the same as a config;
- each agent node's run is named after the agent and carries `pattern` and `agent`
  metadata;
- every model or runnable call inside a turn (and every manager, selector or
  aggregator call) runs under `call_config`: `run_name=<participant>`, tags
  `orchestra`, `pattern:<p>`, `agent:<name>`, and metadata with the pattern, the
  agent, the round and the decision being made;
- a tool-using agent's inner model calls are named after the agent too
  (`NamedModelCalls`, not the model class's name such as `ChatOpenAI`).

Usage is read from `usage_metadata` and priced from a table the caller can extend.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, TypeVar

from langchain.agents.middleware import AgentMiddleware
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import var_child_runnable_config
from langgraph.graph.state import CompiledStateGraph

from langgraph_orchestra.errors import TeamConfigError
from langgraph_orchestra.state.records import Usage

__all__ = [
    "DEFAULT_PRICES",
    "TAG",
    "ModelPrice",
    "NamedModelCalls",
    "call_config",
    "merge_prices",
    "named_team",
    "node_metadata",
    "parse_price",
    "team_config",
    "usage_of",
]

TAG = "orchestra"
"""The tag on every run this library starts."""


@dataclass(frozen=True)
class ModelPrice:
    """Price of a model, in US dollars per million tokens."""

    input_per_mtok: float
    """Dollars per million input tokens."""
    output_per_mtok: float
    """Dollars per million output tokens."""

    def __post_init__(self) -> None:
        """Refuse a price that is not a finite number >= 0 (a NaN would defeat budgets)."""
        for field in ("input_per_mtok", "output_per_mtok"):
            value = getattr(self, field)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or value < 0
            ):
                raise TeamConfigError(
                    f"ModelPrice {field} must be a finite number >= 0 (US dollars per "
                    f"million tokens), got {value!r}"
                )


DEFAULT_PRICES: Mapping[str, ModelPrice] = MappingProxyType(
    {
        # Published list prices when this table was written; pass `prices=` to
        # override or extend. A versioned name ("gpt-4o-mini-2024-07-18") matches its
        # longest listed prefix.
        "gpt-4o-mini": ModelPrice(0.15, 0.60),
        "gpt-4o": ModelPrice(2.50, 10.00),
        "gpt-4.1-nano": ModelPrice(0.10, 0.40),
        "gpt-4.1-mini": ModelPrice(0.40, 1.60),
        "gpt-4.1": ModelPrice(2.00, 8.00),
        "o4-mini": ModelPrice(1.10, 4.40),
        "claude-3-5-haiku": ModelPrice(0.80, 4.00),
        "claude-sonnet-4": ModelPrice(3.00, 15.00),
        "scripted": ModelPrice(0.0, 0.0),
    }
)
"""The built-in price table."""


def merge_prices(prices: Mapping[str, ModelPrice] | None) -> Mapping[str, ModelPrice]:
    """Return the built-in table updated with `prices`; raise on a malformed entry."""
    if prices is None:
        return DEFAULT_PRICES
    if not isinstance(prices, Mapping):
        raise TeamConfigError(
            "prices must be a mapping {model name: ModelPrice(input_per_mtok, "
            f"output_per_mtok)}}, got {type(prices).__name__}"
        )
    if not prices:
        return DEFAULT_PRICES
    for name, price in prices.items():
        if not isinstance(price, ModelPrice):
            raise TeamConfigError(
                f"Price for model '{name}' must be a ModelPrice(input_per_mtok, "
                f"output_per_mtok), got {price!r}"
            )
    return MappingProxyType({**DEFAULT_PRICES, **prices})


PRICE_FORMAT = "MODEL=IN/OUT (US dollars per million input/output tokens, e.g. llama3.1=0.2/0.6)"
"""How `parse_price` reads a price, for messages."""


def parse_price(text: str) -> tuple[str, ModelPrice]:
    """Read a price given as `MODEL=IN/OUT` (US dollars per million tokens).

    Example:
        ```python
        parse_price("llama3.1=0.2/0.6")  # ("llama3.1", ModelPrice(0.2, 0.6))
        ```

    Raises:
        ValueError: `text` is not of that form, or a price is not a finite number >= 0.
    """
    model, sep, amounts = text.partition("=")
    parts = amounts.split("/")
    if not sep or not model.strip() or len(parts) != 2:
        raise ValueError(f"price {text!r} is not of the form {PRICE_FORMAT}")
    try:
        numbers = [float(part) for part in parts]
    except ValueError:
        raise ValueError(
            f"price {text!r}: IN and OUT must be numbers; give {PRICE_FORMAT}"
        ) from None
    try:
        return model.strip(), ModelPrice(numbers[0], numbers[1])
    except TeamConfigError as error:
        raise ValueError(f"price {text!r}: {error}") from None


def _price(model: str | None, prices: Mapping[str, ModelPrice]) -> ModelPrice | None:
    if not model:
        return None
    if model in prices:
        return prices[model]
    best = ""
    for name in prices:
        if model.startswith(name) and len(name) > len(best):
            best = name
    return prices[best] if best else None


def usage_of(
    messages: Sequence[BaseMessage],
    latency_s: float,
    prices: Mapping[str, ModelPrice],
    *,
    calls: int | None = None,
) -> Usage:
    """Sum the usage of the AI messages produced by one turn or call.

    An AI message without usage metadata is a call whose usage is unknown: it counts in
    `unknown_usage_calls` (as does a call that produced no AI message), never as 0
    tokens. A message of a model the price table does not list counts in
    `unpriced_calls`, its model in `unpriced_models`.

    Args:
        messages: The messages the participant produced.
        latency_s: Wall time of the turn.
        prices: The price table.
        calls: How many calls were made; by default the number of AI messages (one
            model call each), and at least one.

    Returns:
        The usage record; with `tool_calls` and `tool_errors` when the messages hold
        tool results (`ToolMessage`, failed when `status="error"`).
    """
    input_tokens = output_tokens = ai_messages = metered = unpriced = 0
    tool_calls = tool_errors = 0
    models: list[str] = []
    cost = 0.0
    for message in messages:
        if isinstance(message, ToolMessage):
            tool_calls += 1
            tool_errors += message.status == "error"
            continue
        if not isinstance(message, AIMessage):
            continue
        ai_messages += 1
        meta = message.usage_metadata
        if not meta:
            continue
        metered += 1
        input_tokens += meta["input_tokens"]
        output_tokens += meta["output_tokens"]
        model = message.response_metadata.get("model_name") or message.response_metadata.get(
            "model"
        )
        price = _price(model, prices)
        if price is None:
            unpriced += 1
            name = str(model) if model else "unnamed model"
            if name not in models:
                models.append(name)
        else:
            cost += (
                meta["input_tokens"] * price.input_per_mtok
                + meta["output_tokens"] * price.output_per_mtok
            ) / 1_000_000
    count = calls if calls is not None else max(ai_messages, 1)
    usage: Usage = {
        "calls": count,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "latency_s": latency_s,
        "cost_usd": cost,
    }
    if tool_calls:
        usage["tool_calls"] = tool_calls
        usage["tool_errors"] = tool_errors
    if count > metered:
        usage["unknown_usage_calls"] = count - metered
    if unpriced:
        usage["unpriced_calls"] = unpriced
        usage["unpriced_models"] = models
    return usage


def node_metadata(pattern: str, agent: str) -> dict[str, Any]:
    """Return the static metadata of an agent node's run."""
    return {"pattern": pattern, "agent": agent}


def call_config(
    config: RunnableConfig | None,
    *,
    pattern: str,
    agent: str,
    round: int | None = None,
    **decision: Any,
) -> RunnableConfig:
    """Return `config` extended with the run name, tags and metadata of a call.

    Args:
        config: The node's config (callbacks, checkpoint namespace, ...), kept.
        pattern: The pattern name.
        agent: The participant making the call; becomes the run name.
        round: The current round, if the pattern counts rounds.
        **decision: Decision facts to attach (selected speaker, handoff target, ...).
    """
    base: RunnableConfig = config or {}
    metadata: dict[str, Any] = {
        **base.get("metadata", {}),
        "pattern": pattern,
        "agent": agent,
        **decision,
    }
    if round is not None:
        metadata["round"] = round
    # Built by hand rather than with `merge_configs`, which costs ~0.1 ms per call
    # (a turn's whole budget): the same keys, callbacks and configurable kept as they are.
    return {
        **base,
        "run_name": agent,
        # Without repeats: the team's root run already carries `orchestra` and `pattern:`.
        "tags": list(
            dict.fromkeys((*base.get("tags", ()), TAG, f"pattern:{pattern}", f"agent:{agent}"))
        ),
        "metadata": metadata,
    }


def team_config(team: str, pattern: str | None = None) -> RunnableConfig:
    """Return the config that names a team's root run after the team.

    It holds `run_name=<team>`, tags `orchestra` and `pattern:<p>`, metadata `team`
    (and `pattern`).

    Args:
        team: The team's name.
        pattern: The pattern's name, if known.
    """
    tags = [TAG] if pattern is None else [TAG, f"pattern:{pattern}"]
    metadata: dict[str, Any] = {"team": team}
    if pattern is not None:
        metadata["pattern"] = pattern
    return {"run_name": team, "tags": tags, "metadata": metadata}


G = TypeVar("G", bound=CompiledStateGraph)  # type: ignore[type-arg]


def named_team(graph: G, team: str | None = None) -> G:
    """Return `graph` named after its team, for LangSmith and LangGraph Server.

    The copy's root run (of every `invoke`, `stream`, ...) is named `team`, tagged
    `orchestra` and `pattern:<p>` (the pattern its agent nodes were built by), with
    `team` and `pattern` metadata; `graph.name` is `team` too. The graph is not
    recompiled: its checkpointer and everything else are kept.

    Args:
        graph: A compiled team (`create_<pattern>(...).compile(...)`).
        team: The team's name; by default the name given to `compile(name=...)`.

    Raises:
        TeamConfigError: No name was given, here or to `compile`.

    Example:
        ```python
        app = named_team(create_sequential(agents).compile(checkpointer=saver), "support")
        ```
    """
    name = team or (graph.name if graph.name != "LangGraph" else None)
    if not name:
        raise TeamConfigError(
            "named_team needs the team's name: named_team(graph, 'support'), or compile "
            "the team with compile(name='support')"
        )
    patterns = {(spec.metadata or {}).get("pattern") for spec in graph.builder.nodes.values()} - {
        None
    }
    pattern = str(patterns.pop()) if len(patterns) == 1 else None
    named = graph.with_config(team_config(name, pattern))
    named.name = name
    return named


class NamedModelCalls(AgentMiddleware):
    """`create_agent` middleware naming the agent's model calls after the agent.

    Without it, a tool-using agent's model calls are named after the model's class
    (`ChatOpenAI`) in LangSmith; with it, after the agent, as the model calls of agents
    without tools are.
    """

    def __init__(self, agent: str) -> None:
        """Name the model calls `agent`."""
        super().__init__()
        self.agent = agent

    def _named(self) -> Any:
        config = var_child_runnable_config.get() or {}
        return var_child_runnable_config.set({**config, "run_name": self.agent})

    def wrap_model_call(self, request: Any, handler: Callable[[Any], Any]) -> Any:
        """Call the model with the agent's name as its run name."""
        token = self._named()
        try:
            return handler(request)
        finally:
            var_child_runnable_config.reset(token)

    async def awrap_model_call(self, request: Any, handler: Callable[[Any], Awaitable[Any]]) -> Any:
        """Call the model with the agent's name as its run name (async)."""
        token = self._named()
        try:
            return await handler(request)
        finally:
            var_child_runnable_config.reset(token)
