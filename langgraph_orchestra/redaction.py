"""Redaction: personal data and secrets are cleared from what leaves a run.

A team built with `redact=` writes its audit details and exception records redacted
(nothing unredacted reaches the checkpoint for them), `orchestra show` prints the
thread redacted, and its compiled graph posts every run of its LangSmith traces through
the same redactor (LangSmith's own `anonymizer`, applied by its client before upload;
`redacted_tracing` does it for any graph). What agents see is unchanged unless the team
is built with `redact_agents=True`: then every node reads the transcript redacted.

`redact` is `"default"` (every built-in detector), a `Redactor(...)` choosing detectors,
or any callable `str -> str`.

Example:
    ```python
    team = create_sequential(agents, redact="default").compile(checkpointer=saver)
    team.invoke({"messages": [("user", "Card 4111 1111 1111 1111, mail ana@example.com")]},
                config)  # checkpointed records and LangSmith traces are redacted
    ```
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias, cast

from langchain_core.callbacks import BaseCallbackManager
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import var_child_runnable_config
from langchain_core.tracers.langchain import LangChainTracer
from langgraph.graph import StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command
from langsmith import Client, tracing_context
from langsmith.anonymizer import DEFAULT_SECRET_RULES, SECRET_PLACEHOLDER, create_anonymizer
from langsmith.utils import tracing_is_enabled
from pydantic import BaseModel

from langgraph_orchestra.errors import TeamConfigError
from langgraph_orchestra.nodes.wiring import map_nodes
from langgraph_orchestra.prompts import REDACTED

__all__ = [
    "Redact",
    "RedactedGraph",
    "RedactingStateGraph",
    "Redactor",
    "add_redaction",
    "anonymizer",
    "check_redact",
    "redact_data",
    "redact_message",
    "redact_records",
    "redacted_tracing",
    "tracing_client",
]

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_CARD = re.compile(r"(?<![\w-])(?:\d[ -]?){12,18}\d(?![\w-])")
_PHONE = re.compile(
    r"(?<![\w+])(?:"
    r"\+\d{7,15}"  # +15551234567
    r"|\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?|\d{2,4}[ .-])\d{3,4}[ .-]?\d{3,4}"  # +1 415-555-0123
    r"|(?<!\d[ .-])(?:\(\d{1,4}\)[ .-]?|\d{2,4}[ .-])\d{3,4}[ .-]?\d{3,4}"  # (415) 555 0123
    r")(?!\w|[ .-]\d)"
)
_KEY = re.compile(r"\b(?:sk|pk|rk)-[A-Za-z0-9_-]{20,}")
"""API keys of the `sk-...` shape shorter than LangSmith's rule wants (32+ characters)."""
_SECRETS: tuple[tuple[re.Pattern[str], str], ...] = (
    *(
        (
            rule["pattern"]
            if isinstance(rule["pattern"], re.Pattern)
            else re.compile(rule["pattern"]),
            str(rule.get("replace", SECRET_PLACEHOLDER)),
        )
        for rule in DEFAULT_SECRET_RULES
    ),
    (_KEY, SECRET_PLACEHOLDER),
)
"""LangSmith's curated credential rules (API keys, bearer tokens, `PASSWORD=...`, keys
in URLs), then the short `sk-` keys."""


def _luhn(digits: str) -> bool:
    """Whether `digits` pass the Luhn check that card numbers carry."""
    total = 0
    for i, char in enumerate(reversed(digits)):
        n = int(char)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _secret(replace: str, mark: str) -> Callable[[re.Match[str]], str]:
    """A substitution writing LangSmith's rule replacement with `mark` as the placeholder."""
    return lambda match: match.expand(replace).replace(SECRET_PLACEHOLDER, mark)


@dataclass(frozen=True)
class Redactor:
    """The built-in detectors: each replaces what it finds with `placeholder`.

    Example:
        ```python
        redact = Redactor(phones=False)  # e-mails, cards and secrets only
        redact("mail ana@example.com")  # -> "mail [redacted email]"
        ```
    """

    emails: bool = True
    """E-mail addresses."""
    phones: bool = True
    """Phone numbers written with a leading `+` or with separators (`415-555-0123`,
    `+44 20 7946 0958`, `(415) 555 0123`)."""
    cards: bool = True
    """Card numbers: 13 to 19 digits, spaces or dashes allowed, that pass the Luhn check."""
    secrets: bool = True
    """API keys (`sk-...`, `AKIA...`, `ghp_...`, ...), bearer tokens, JWTs, private keys,
    `PASSWORD=...`-style assignments and passwords in URLs (LangSmith's
    `DEFAULT_SECRET_RULES`, plus `sk-`/`pk-`/`rk-` keys of 20 characters or more)."""
    placeholder: str = REDACTED
    """What replaces a finding; `{kind}` is `email`, `phone`, `card` or `secret`."""

    def __post_init__(self) -> None:
        """Refuse a detector flag that is not a bool, or a placeholder that is not text."""
        for name in ("emails", "phones", "cards", "secrets"):
            value = getattr(self, name)
            if not isinstance(value, bool):
                raise TeamConfigError(f"Redactor {name} must be True or False, got {value!r}")
        if not isinstance(self.placeholder, str):
            raise TeamConfigError(
                f"Redactor placeholder must be text (with {{kind}} where the kind goes), "
                f"got {self.placeholder!r}"
            )

    def _mark(self, kind: str) -> str:
        return self.placeholder.replace("{kind}", kind)

    def __call__(self, text: str) -> str:
        """Return `text` with every finding of the chosen detectors replaced."""
        if self.secrets:
            secret = self._mark("secret")
            for pattern, replace in _SECRETS:
                text = pattern.sub(_secret(replace, secret), text)
        if self.emails:
            text = _EMAIL.sub(self._mark("email"), text)
        if self.cards:
            card = self._mark("card")
            text = _CARD.sub(
                lambda m: card if _luhn(re.sub(r"\D", "", m.group())) else m.group(), text
            )
        if self.phones:
            text = _PHONE.sub(self._mark("phone"), text)
        return text


Redact: TypeAlias = Redactor | Callable[[str], str] | Literal["default"] | None
"""A factory's `redact=`: `"default"` (every detector), a `Redactor`, a callable
`str -> str`, or `None` (no redaction)."""


def check_redact(redact: object, what: str = "redact") -> Callable[[str], str] | None:
    """Return the redactor `redact` names (`None`: none); raise `TeamConfigError` if unknown."""
    if redact is None:
        return None
    if redact == "default":
        return Redactor()
    if callable(redact):
        return redact
    raise TeamConfigError(
        f"{what} must be 'default', a Redactor(emails=..., phones=..., cards=..., "
        f"secrets=...) or a callable str -> str, got {redact!r}"
    )


def redact_message(message: BaseMessage, redactor: Callable[[str], str]) -> BaseMessage:
    """Return a copy of `message` with its content (and tool-call arguments) redacted."""
    update: dict[str, Any] = {"content": redact_data(message.content, redactor)}
    if isinstance(message, AIMessage) and message.tool_calls:
        update["tool_calls"] = [
            {**call, "args": redact_data(call["args"], redactor)} for call in message.tool_calls
        ]
    return message.model_copy(update=update)


def redact_data(value: Any, redactor: Callable[[str], str]) -> Any:
    """Return `value` with every string in it redacted (mappings, lists and messages too)."""
    if isinstance(value, str):
        return redactor(value)
    if isinstance(value, BaseMessage):
        return redact_message(value, redactor)
    if isinstance(value, Mapping):
        return {key: redact_data(item, redactor) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact_data(item, redactor) for item in value]
    return value


_EXCEPTION_TEXT = ("error", "input", "output", "resolution")
"""The fields of an exception record that can hold what an agent saw or said."""


def _audit(records: Any, redactor: Callable[[str], str]) -> Any:
    if isinstance(records, Mapping):
        return {**records, "detail": redact_data(records.get("detail"), redactor)}
    if isinstance(records, Sequence) and not isinstance(records, str):
        return [_audit(record, redactor) for record in records]
    return records


def _exceptions(records: Any, redactor: Callable[[str], str]) -> Any:
    if isinstance(records, Mapping):
        return {
            key: redact_data(value, redactor) if key in _EXCEPTION_TEXT else value
            for key, value in records.items()
        }
    if isinstance(records, Sequence) and not isinstance(records, str):
        return [_exceptions(record, redactor) for record in records]
    return records


def redact_records(update: Mapping[str, Any], redactor: Callable[[str], str]) -> dict[str, Any]:
    """Return a node's state update with its audit details and exception records redacted.

    A fan-out branch's turn held in the `outbox` has its audit records redacted too. Ids,
    timestamps, kinds, agents and statuses are kept as they are.
    """
    redacted = dict(update)
    if "audit" in redacted:
        redacted["audit"] = _audit(redacted["audit"], redactor)
    if "exceptions" in redacted:
        redacted["exceptions"] = _exceptions(redacted["exceptions"], redactor)
    outbox = redacted.get("outbox")
    if isinstance(outbox, Mapping):
        redacted["outbox"] = {
            key: {**turn, "audit": _audit(turn.get("audit") or [], redactor)}
            if isinstance(turn, Mapping)
            else turn
            for key, turn in outbox.items()
        }
    return redacted


def anonymizer(redactor: Callable[[str], str]) -> Callable[[Any], Any]:
    """Return a LangSmith anonymizer applying `redactor` to every string of a run.

    Give it to `langsmith.Client(anonymizer=...)`; it reaches 64 levels deep (a graph's
    state nests messages, tool calls and their arguments).
    """

    def replace(text: str, path: list[str | int]) -> str:
        return redactor(text)

    return create_anonymizer(replace, max_depth=64)


def tracing_client(redact: Redact = "default", **client: Any) -> Client:
    """Return a LangSmith client that redacts run inputs, outputs, errors and metadata.

    Args:
        redact: What `check_redact` accepts (not `None`).
        **client: Other `langsmith.Client` arguments (`api_url`, `api_key`, ...).
    """
    redactor = check_redact(redact)
    if redactor is None:
        raise TeamConfigError("tracing_client needs a redactor, got redact=None")
    return Client(anonymizer=anonymizer(redactor), **client)


@contextmanager
def redacted_tracing(redact: Redact = "default", **client: Any) -> Iterator[Client | None]:
    """Trace the runs started inside the block through a redacting LangSmith client.

    A team built with `redact=` does it for its own runs; this is for a graph built by
    hand (or any other runnable).

    Every run of the trace (the graph's own run, its nodes, the model and tool calls) is
    posted through `tracing_client(redact)`, so a detected finding never leaves the
    process. Tracing stays as configured (`LANGSMITH_TRACING`): when it is off, or
    `redact` is `None`, the block runs as it is and yields `None`. The client's queue is
    flushed when the block ends.

    Example:
        ```python
        with redacted_tracing(Redactor(phones=False)):
            team.invoke(inputs, config)
        ```
    """
    redactor = check_redact(redact)
    if redactor is None or not tracing_is_enabled():
        yield None
        return
    traced = tracing_client(redactor, **client)
    try:
        with tracing_context(client=traced):
            yield traced
    finally:
        traced.flush()


def _retraced(handler: Any, client: Client, copies: dict[int, Any]) -> Any:
    """`handler`, or its copy posting through `client` if it is a LangSmith tracer.

    The copy shares the tracer's runs (`copy_with_metadata_defaults`), so the runs it
    starts still hang under the caller's run in the same trace; `copies` keeps one copy
    per tracer (callback managers merge their handlers by identity).
    """
    if not isinstance(handler, LangChainTracer) or handler.client is client:
        return handler
    if id(handler) not in copies:
        tracer = handler.copy_with_metadata_defaults()
        tracer.client = client
        copies[id(handler)] = tracer
    return copies[id(handler)]


def _traced_by(
    config: RunnableConfig | None, client: Client, copies: dict[int, Any]
) -> RunnableConfig | None:
    """`config` with the LangSmith tracers it holds posting through `client`."""
    callbacks = (config or {}).get("callbacks")
    if not callbacks:
        return config
    if isinstance(callbacks, BaseCallbackManager):
        manager = callbacks.copy()
        manager.handlers = [_retraced(h, client, copies) for h in manager.handlers]
        manager.inheritable_handlers = [
            _retraced(h, client, copies) for h in manager.inheritable_handlers
        ]
        return {**(config or {}), "callbacks": manager}
    return {**(config or {}), "callbacks": [_retraced(h, client, copies) for h in callbacks]}


@contextmanager
def _traced_config(
    redactor: Callable[[str], str], config: RunnableConfig | None
) -> Iterator[RunnableConfig | None]:
    """Within `redacted_tracing(redactor)`, yield `config` traced through its client.

    A graph run inside another run (a node of a parent graph) inherits the caller's
    tracer, made before the redacting client was set, from `config` and from the
    ambient config LangChain keeps for the running node: in both, it is replaced by a
    copy posting through the redacting client for the block.
    """
    with redacted_tracing(redactor) as client:
        if client is None:
            yield config
            return
        copies: dict[int, Any] = {}
        ambient = var_child_runnable_config.get()
        if ambient is not None:
            var_child_runnable_config.set(_traced_by(ambient, client, copies))
        try:
            yield _traced_by(config, client, copies)
        finally:
            if ambient is not None:
                var_child_runnable_config.set(ambient)


class RedactedGraph(CompiledStateGraph[Any, Any, Any, Any]):
    """A compiled team whose runs are traced through its redactor.

    `stream` and `astream` (hence `invoke`, `ainvoke`, `batch` and `astream_events`, which
    run through them) iterate inside `redacted_tracing(redactor)`: the run's tracer is
    made at its first step, inside the block, so the graph's own run, its nodes and the
    model and tool calls are posted redacted; run inside another graph, the runs it
    starts are posted redacted under the caller's run. `copy` and `with_config` keep the class and
    the redactor. A `redacted_tracing` block around the call changes nothing (the same
    redactor, the inner block wins).
    """

    redactor: Callable[[str], str]
    """What every string of a traced run goes through."""

    def __init__(self, *, redactor: Callable[[str], str], **kwargs: Any) -> None:
        """Build it as `CompiledStateGraph` is, with the `redactor` for its traces."""
        super().__init__(**kwargs)
        self.redactor = redactor

    def stream(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Any]:
        """`CompiledStateGraph.stream`, traced through the redactor."""
        with _traced_config(self.redactor, config) as traced:
            yield from super().stream(input, traced, **kwargs)

    async def astream(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        """`CompiledStateGraph.astream`, traced through the redactor."""
        with _traced_config(self.redactor, config) as traced:
            async for chunk in super().astream(input, traced, **kwargs):
                yield chunk


class RedactingStateGraph(StateGraph[Any, Any, Any, Any]):
    """A team's builder whose `compile()` returns a `RedactedGraph`.

    `add_redaction` makes a builder one; the graph LangGraph Server compiles from an
    exported builder is then redacted too.
    """

    redactor: Callable[[str], str]
    """What the compiled graph's traces go through."""

    def compile(self, *args: Any, **kwargs: Any) -> RedactedGraph:
        """`StateGraph.compile`, returning the same graph as a `RedactedGraph`."""
        compiled = super().compile(*args, **kwargs)
        # The same object, its class narrowed: every attribute `compile` set is kept.
        compiled.__class__ = RedactedGraph
        redacted = cast(RedactedGraph, compiled)
        redacted.redactor = self.redactor
        return redacted


def _redacted_input(redactor: Callable[[str], str]) -> Callable[[Any], Any]:
    """A node input mapper: the transcript (or the view a gate sends) redacted."""

    def redact(input: Any) -> Any:
        if isinstance(input, Mapping):
            key = "view" if "view" in input else "messages" if "messages" in input else None
            if key is None:
                return input
            return {**input, key: [redact_message(m, redactor) for m in input[key] or ()]}
        messages = getattr(input, "messages", None)
        if isinstance(input, BaseModel) and isinstance(messages, list):
            return input.model_copy(
                update={"messages": [redact_message(m, redactor) for m in messages]}
            )
        return input

    return redact


def _redacted_output(redactor: Callable[[str], str]) -> Callable[[Any], Any]:
    """A node output mapper: the audit details and exception records of updates redacted."""

    def redact(output: Any) -> Any:
        if isinstance(output, Mapping):
            return redact_records(output, redactor)
        if isinstance(output, Command) and isinstance(output.update, Mapping):
            return dataclasses.replace(output, update=redact_records(output.update, redactor))
        if isinstance(output, list):
            return [redact(item) for item in output]
        return output

    return redact


def add_redaction(
    builder: StateGraph[Any, Any, Any, Any],
    redactor: Callable[[str], str],
    *,
    agents: bool = False,
    skip: Sequence[str] = (),
) -> None:
    """Redact the audit details and exception records every node of `builder` writes.

    Call it once every node is added. With `agents`, every node but those in `skip` (the
    completion actions') also reads the transcript redacted: agents, managers and
    selectors never see a finding. `builder` becomes a `RedactingStateGraph`: the graph
    it compiles posts its LangSmith traces redacted (see `RedactedGraph`).
    """
    builder.__class__ = RedactingStateGraph
    cast(RedactingStateGraph, builder).redactor = redactor
    map_nodes(builder, outputs=_redacted_output(redactor))
    if agents:
        map_nodes(builder, inputs=_redacted_input(redactor), skip=skip)
