"""LangSmith names, tags and metadata, and usage and cost accounting.

Each agent node's run is named after the agent and carries `pattern` and `agent`
metadata. Every model or runnable call inside a turn (and every manager, selector or
aggregator call) runs under `call_config`: `run_name=<participant>`, tags `orchestra`,
`pattern:<p>`, `agent:<name>`, and metadata with the pattern, the agent, the round and
the decision being made. Usage is read from `usage_metadata` and priced from a table
the caller can extend.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.runnables import RunnableConfig

from langgraph_orchestra.errors import TeamConfigError
from langgraph_orchestra.state.records import Usage

__all__ = [
    "DEFAULT_PRICES",
    "TAG",
    "ModelPrice",
    "call_config",
    "merge_prices",
    "node_metadata",
    "parse_price",
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
        The usage record.
    """
    input_tokens = output_tokens = ai_messages = metered = unpriced = 0
    models: list[str] = []
    cost = 0.0
    for message in messages:
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
        "tags": [*base.get("tags", ()), TAG, f"pattern:{pattern}", f"agent:{agent}"],
        "metadata": metadata,
    }
