"""`Agent`, a team participant, and how it becomes something a node can call."""

from __future__ import annotations

import asyncio
import inspect
import math
import re
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass
from typing import Any, Literal, NamedTuple, Protocol, TypeAlias, get_args

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.tools import BaseTool
from langgraph.pregel import Pregel
from langgraph.types import RetryPolicy
from pydantic import BaseModel, ValidationError

from langgraph_orchestra.calls import Fallback, ModelCall, afallback, fallback, retry_policy
from langgraph_orchestra.context import ContextPolicy, resolve_context
from langgraph_orchestra.errors import TeamConfigError
from langgraph_orchestra.models import chat_model, check_model_name
from langgraph_orchestra.names import MANAGER, RESERVED_NAMES, RESERVED_PREFIXES
from langgraph_orchestra.records import Requires, check_contract
from langgraph_orchestra.resilience import (
    CircuitBreaker,
    Guard,
    Resilient,
    check_fallbacks,
    model_label,
)
from langgraph_orchestra.state.records import AuditRecord, Usage
from langgraph_orchestra.tracing import ModelPrice, NamedModelCalls, usage_of

__all__ = [
    "OUTPUT_KEY",
    "RESERVED_NAMES",
    "Agent",
    "AgentRunner",
    "Approval",
    "OnError",
    "ToolAnswers",
    "TurnResult",
    "check_name",
    "check_team",
    "tool_name",
]

OUTPUT_KEY = "orchestra_output"
"""`response_metadata` key of a structured answer's fields on the message that renders it."""

OnError: TypeAlias = Literal["raise", "continue", "escalate"]
"""What happens when an agent fails after its retries."""

Approval: TypeAlias = Literal["before", "after", "both"]
"""Where a human approval gate sits around an agent's turn."""

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
_ON_ERROR = get_args(OnError)
_APPROVAL = get_args(Approval)


@dataclass(frozen=True)
class Agent:
    """A participant of a team: a chat model with instructions and tools, or any runnable.

    Example:
        ```python
        writer = Agent("writer", "Drafts the reply", model="openai:gpt-4o-mini",
                       instructions="Write a short, friendly reply.", approval="after")
        ```
    """

    name: str
    """Unique name in the team: a letter, then letters, digits, `_` or `-` (max 64)."""
    description: str = ""
    """What the agent does; shown to managers and selectors."""
    _: KW_ONLY
    model: BaseChatModel | str | None = None
    """A chat model, or a `"provider:model"` string for `init_chat_model`."""
    instructions: str | None = None
    """The system prompt of a model agent."""
    tools: Sequence[BaseTool | Callable[..., Any]] = ()
    """Tools of a model agent; with tools the agent runs `langchain.agents.create_agent`."""
    runnable: Any = None
    """Instead of a model: a compiled graph (a whole team), a `Runnable`, or a callable
    `list[BaseMessage] -> str | AIMessage` (sync or async)."""
    context: ContextPolicy | None = None
    """What the agent sees of the transcript; `None` takes the pattern's default."""
    approval: Approval | None = None
    """Human approval gate: `"before"` the turn, `"after"` it, or `"both"`."""
    on_error: OnError = "raise"
    """On failure after retries: `"raise"`; `"continue"` (record it and go on with what is
    left); or `"escalate"` (record it and interrupt for a human to retry, skip, supply
    the output or abort)."""
    retry: int | RetryPolicy | None = None
    """Retries of a failed call: a number of attempts (retrying any error, 0.5 s apart,
    doubling) or a LangGraph `RetryPolicy`."""
    timeout: float | None = None
    """Seconds one attempt may take; an overrun is an `AgentTimeoutError`."""
    approve_tools: bool | Sequence[str] = ()
    """Tools whose calls a human approves before they run (`True`: all of the agent's
    tools): the run interrupts with a `ToolApprovalRequest`; approve, reject with a reason
    (the model gets it as the tool's result) or edit the arguments."""
    handoff_input: type[BaseModel] | None = None
    """In a handoff team, the typed payload an agent transferring to this one must give
    (a pydantic model): it is validated, kept in state and shown to this agent."""
    fallbacks: Sequence[BaseChatModel | str] = ()
    """Models tried in order when a call to `model` fails after its retries (same
    instructions and tools); usage is priced as the model that answered, and a
    `fallback` audit record says which models failed."""
    breaker: CircuitBreaker | None = None
    """A circuit breaker on the agent's models, shared in the process with every caller
    of the same model (see `resilience`): while open, calls fail fast into the next
    fallback or `on_error`."""
    output: type[BaseModel] | None = None
    """A typed output (a pydantic model): the agent answers by structured output (an
    invalid answer is asked again, then fails into `on_error`); its fields are written to
    the state fields of the same names, and the transcript gets a short rendering."""
    writes: Sequence[str] | None = None
    """The record fields this agent may write (default: its output's fields). A write
    outside them, by its output, a tool or a nested team, is refused (`RecordWriteError`)
    and nothing of the turn is applied. Reviewed after its turn (`approval="after"`), the
    agent's fields are written when its output is accepted (approved, or edited)."""
    reads: Sequence[str] = ()
    """The record fields shown to this agent, rendered at the top of its context."""
    requires: Requires = ()
    """Fields that must be set (or a predicate over the record) before the agent acts;
    otherwise it does not run and a `PreconditionError` goes to its `on_error` (escalated,
    a person may supply the fields, then it runs)."""

    def __post_init__(self) -> None:
        name = self.name
        check_name(name)
        if (self.model is None) == (self.runnable is None):
            which = "both" if self.model is not None else "neither"
            raise TeamConfigError(
                f"Agent '{name}' has {which} of model and runnable: give exactly one"
            )
        if self.model is not None and not isinstance(self.model, BaseChatModel | str):
            raise TeamConfigError(
                f"Agent '{name}' model must be a chat model or a 'provider:model' string, "
                f"got {type(self.model).__name__}"
            )
        if isinstance(self.model, str) and not self.model.strip():
            raise TeamConfigError(f"Agent '{name}' model string is empty")
        if isinstance(self.model, str):
            try:
                check_model_name(self.model)
            except TeamConfigError as error:
                raise TeamConfigError(f"Agent '{name}' model: {error}") from None
        if not isinstance(self.description, str):
            raise TeamConfigError(
                f"Agent '{name}' description must be a string, "
                f"got {type(self.description).__name__}"
            )
        if self.instructions is not None and not isinstance(self.instructions, str):
            raise TeamConfigError(
                f"Agent '{name}' instructions must be a string (the system prompt), "
                f"got {type(self.instructions).__name__}"
            )
        tools: Any = self.tools
        # A single tool is a pydantic model (iterable!) or a function: `tuple()` would
        # silently take it apart.
        if isinstance(tools, BaseTool | str) or callable(tools) or not isinstance(tools, Iterable):
            raise TeamConfigError(
                f"Agent '{name}' tools must be a list of tools, got {type(tools).__name__}: "
                "use tools=[...]"
            )
        if self.runnable is not None:
            if not (isinstance(self.runnable, Runnable) or callable(self.runnable)):
                raise TeamConfigError(
                    f"Agent '{name}' runnable must be a compiled graph, a Runnable or a "
                    f"callable, got {type(self.runnable).__name__}"
                )
            if self.tools:
                raise TeamConfigError(f"Agent '{name}' has tools but no model: tools need a model")
            if self.instructions is not None:
                raise TeamConfigError(
                    f"Agent '{name}' has instructions but no model: instructions are the "
                    "model's system prompt"
                )
        object.__setattr__(self, "tools", tuple(self.tools))
        for i, item in enumerate(self.tools):
            if not (isinstance(item, BaseTool) or callable(item)):
                raise TeamConfigError(
                    f"Agent '{name}' tools[{i}] is a {type(item).__name__}, not a tool: give a "
                    "BaseTool, a @tool function or a plain function"
                )
        if self.on_error not in _ON_ERROR:
            raise TeamConfigError(
                f"Agent '{name}' on_error={self.on_error!r}: allowed {list(_ON_ERROR)}"
            )
        if self.approval is not None and self.approval not in _APPROVAL:
            raise TeamConfigError(
                f"Agent '{name}' approval={self.approval!r}: allowed None or {list(_APPROVAL)}"
            )
        retry = self.retry
        if isinstance(retry, RetryPolicy) and (
            isinstance(retry.max_attempts, bool)
            or not isinstance(retry.max_attempts, int)
            or retry.max_attempts < 1
        ):
            raise TeamConfigError(
                f"Agent '{name}' retry=RetryPolicy(max_attempts={retry.max_attempts!r}): "
                "max_attempts must be a whole number >= 1 (1: no retry)"
            )
        if retry is not None and not isinstance(retry, RetryPolicy):
            if isinstance(retry, bool) or not isinstance(retry, int) or retry < 1:
                raise TeamConfigError(
                    f"Agent '{name}' retry={retry!r}: give a number of attempts >= 1 or a "
                    "RetryPolicy"
                )
        timeout = self.timeout
        if timeout is not None and (
            isinstance(timeout, bool)
            or not isinstance(timeout, int | float)
            or not math.isfinite(timeout)
            or timeout <= 0
        ):
            raise TeamConfigError(
                f"Agent '{name}' timeout={timeout!r}: give a positive number of seconds"
            )
        if self.context is not None:
            resolve_context(self.context, owner=f"agent '{name}'")
        self._check_tool_approval()
        self._check_resilience()
        handoff_input = self.handoff_input
        if handoff_input is not None and not (
            isinstance(handoff_input, type) and issubclass(handoff_input, BaseModel)
        ):
            raise TeamConfigError(
                f"Agent '{name}' handoff_input must be a pydantic model class, "
                f"got {handoff_input!r}"
            )
        check_contract(self)

    def _check_resilience(self) -> None:
        name = self.name
        fallbacks = check_fallbacks(self.fallbacks, f"Agent '{name}'")
        if fallbacks and self.model is None:
            raise TeamConfigError(
                f"Agent '{name}' has fallbacks but no model: fallbacks replace a failing model"
            )
        object.__setattr__(self, "fallbacks", fallbacks)
        if self.breaker is not None and not isinstance(self.breaker, CircuitBreaker):
            raise TeamConfigError(
                f"Agent '{name}' breaker must be a CircuitBreaker or None, got {self.breaker!r}"
            )
        if self.breaker is not None and self.model is None:
            raise TeamConfigError(
                f"Agent '{name}' has a breaker but no model: breakers guard model calls"
            )

    def _check_tool_approval(self) -> None:
        approve = self.approve_tools
        if isinstance(approve, bool):
            if approve and not self.tools:
                raise TeamConfigError(f"Agent '{self.name}' approve_tools=True but it has no tools")
            return
        if isinstance(approve, str) or not isinstance(approve, Iterable):
            raise TeamConfigError(
                f"Agent '{self.name}' approve_tools must be True, False or a list of tool "
                f"names, got {approve!r}"
            )
        names = tuple(approve)
        known = [tool_name(t) for t in self.tools]
        unknown = [n for n in names if n not in known]
        if unknown:
            raise TeamConfigError(
                f"Agent '{self.name}' approve_tools names unknown tools {unknown}; its tools: "
                f"{known}"
            )
        object.__setattr__(self, "approve_tools", names)

    def approves_tool(self, name: str) -> bool:
        """Whether a call of the tool `name` waits for a human's approval."""
        approve = self.approve_tools
        return approve is True or (not isinstance(approve, bool) and name in approve)

    @property
    def approves_before(self) -> bool:
        """Whether a human authorizes each turn before it runs."""
        return self.approval in ("before", "both")

    @property
    def approves_after(self) -> bool:
        """Whether a human reviews each turn's output."""
        return self.approval in ("after", "both")


def tool_name(tool: BaseTool | Callable[..., Any]) -> str:
    """Return the name a model calls `tool` by."""
    if isinstance(tool, BaseTool):
        return tool.name
    return str(getattr(tool, "__name__", type(tool).__name__))


def check_name(name: object, what: str = "agent") -> str:
    """Return `name` if a participant may take it, else raise `TeamConfigError`."""
    # fullmatch: `match` with `$` would accept a trailing newline ("writer\n").
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise TeamConfigError(
            f"Invalid {what} name {name!r}: use 1-64 letters, digits, '_' or '-', "
            "starting with a letter"
        )
    if name.lower() in RESERVED_NAMES or name.startswith(RESERVED_PREFIXES):
        raise TeamConfigError(
            f"{what.capitalize()} name '{name}' is reserved: pick another name (reserved: "
            f"{sorted(RESERVED_NAMES)} and names starting with "
            f"{list(RESERVED_PREFIXES)})"
        )
    return name


def check_team(agents: Sequence[Agent], *, pattern: str) -> tuple[Agent, ...]:
    """Validate a team: at least one `Agent`, unique names. Return it as a tuple."""
    if isinstance(agents, Agent):
        team: tuple[Agent, ...] = (agents,)
    elif isinstance(agents, Iterable) and not isinstance(agents, str | Mapping):
        team = tuple(agents)
    else:
        raise TeamConfigError(
            f"{pattern} agents must be a list of Agent, got {type(agents).__name__}"
        )
    if not team:
        raise TeamConfigError(f"{pattern} needs at least one agent, got none")
    seen: set[str] = set()
    for i, agent in enumerate(team):
        if not isinstance(agent, Agent):
            raise TeamConfigError(
                f"{pattern} agents[{i}] is a {type(agent).__name__}, not an Agent: wrap it "
                f"as Agent('name', runnable=...) or Agent('name', model=...)"
            )
        if agent.name in seen:
            raise TeamConfigError(
                f"Duplicate agent name '{agent.name}' in {pattern}: names must be unique"
            )
        seen.add(agent.name)
    return team


class ToolAnswers(Protocol):
    """Tools a pattern answers itself, without running them (a handoff's transfers).

    An agent with no tools of its own and only such tools is called directly with them
    bound (no agent subgraph per turn): its tool calls are answered by `answer`, and the
    turn ends when `finished` says so or the model answers in text.
    """

    tools: Sequence[BaseTool]

    def answer(self, reply: AIMessage) -> list[ToolMessage]:
        """Return one result per tool call of `reply`, in order."""
        ...

    def finished(self, results: Sequence[ToolMessage]) -> bool:
        """Whether these results end the agent's turn."""
        ...


_MAX_ANSWERED_ROUNDS = 5
"""Model calls one turn may make when every call of its tools is answered by the pattern
(a model that keeps asking for refused transfers stops there)."""


class TurnResult(NamedTuple):
    """What one agent turn produced."""

    messages: list[BaseMessage]
    """The agent's new messages, named after it."""
    usage: dict[str, Usage]
    """Usage by participant (a nested team reports its members as `team/member`)."""
    audit: list[dict[str, Any]] = []  # noqa: RUF012 - a NamedTuple default, never mutated
    """A nested team's audit records of this run, named by path (`team/member`)."""
    fields: dict[str, Any] = {}  # noqa: RUF012 - a NamedTuple default, never mutated
    """The record fields the turn writes: its typed output's, or those a tool or a nested
    team set (the turn node checks them against the agent's `writes`)."""


class AgentRunner:
    """Calls one agent: builds its model or runnable once, then runs turns.

    Handles the agent's retries and timeout, names its messages, and measures usage.
    Nodes hold one runner per agent; it keeps no per-run state.
    """

    def __init__(
        self,
        agent: Agent,
        *,
        prices: Mapping[str, ModelPrice],
        output: type[BaseModel] | None = None,
        request: str | None = None,
        render: Callable[[Any], str] = str,
        middleware: Sequence[Any] = (),
        answers: ToolAnswers | None = None,
        record: Collection[str] = (),
    ) -> None:
        """Prepare `agent` for calls; raise `TeamConfigError` if its model can't be built.

        Args:
            agent: The agent.
            prices: The price table.
            output: A schema the agent answers in: a model agent (without tools) answers
                by structured output through the measured call (an invalid answer is
                asked again); a runnable returns an instance (or a dict) of it. The turn's
                message is `render(answer)`, with the answer's fields in its
                `response_metadata[OUTPUT_KEY]`.
            request: With `output`, a user message put after the view (what to answer).
            render: Turns an answer into the message text.
            middleware: `langchain.agents` middleware a pattern adds to a model agent (a
                handoff team's transfer tools); with any, the agent runs `create_agent`
                even without tools of its own. Tool-call approval (`approve_tools`) is
                added here for every pattern.
            answers: Tools the pattern answers itself; used instead of `middleware` when
                the agent has no tools of its own and no tool approval (the model is
                then called directly, which costs far less than an agent subgraph).
            record: The team's record fields: those a tool or a nested team sets in its
                result, or the agent's own typed output (`agent.output`) has, are the
                turn's `fields` (its writes).
        """
        self.record = tuple(record)
        self.agent = agent
        self.prices = prices
        self.retry = retry_policy(agent.retry)
        self.output = output
        self.render = render
        self._request = HumanMessage(request, name=MANAGER) if request else None
        self._system = SystemMessage(agent.instructions) if agent.instructions else None
        self._kind: Literal[
            "model", "answered", "graph", "runnable", "function", "coroutine", "structured"
        ]
        self._target: Any
        self._targets: list[Any]
        if output is not None and agent.tools:
            raise TeamConfigError(
                f"Agent '{agent.name}' answers in a schema here: give it no tools"
            )
        self._answers = answers
        if answers is not None and (agent.tools or agent.approve_tools):
            answers = None
        extra = list(middleware) if answers is None else []
        if agent.approve_tools:
            from langgraph_orchestra.nodes.tool_approval import ToolApprovalMiddleware

            extra.append(ToolApprovalMiddleware(agent))
        models: list[BaseChatModel] = []
        if agent.model is not None:
            owner = f"Agent '{agent.name}'"
            models = [chat_model(m, owner=owner) for m in (agent.model, *agent.fallbacks)]
            model = models[0]
            if output is not None:
                self._kind = "structured"
                self._target = ModelCall(
                    Resilient(model, tuple(models[1:]), agent.breaker),
                    participant=agent.name,
                    pattern=None,
                    prices=prices,
                    instructions=agent.instructions,
                    retry=agent.retry,
                    timeout=agent.timeout,
                )
            elif answers is not None:
                self._kind = "answered"
                self._targets = [m.bind_tools(list(answers.tools)) for m in models]
                self._answers = answers
            elif agent.tools or extra:
                from langchain.agents import create_agent

                self._kind = "graph"
                self._targets = [
                    create_agent(
                        m,
                        list(agent.tools),
                        system_prompt=agent.instructions,
                        middleware=[*extra, NamedModelCalls(agent.name)],
                        name=agent.name,
                    )
                    for m in models
                ]
            else:
                self._kind, self._targets = "model", list(models)
        elif isinstance(agent.runnable, Pregel):
            self._kind, self._target = "graph", agent.runnable
        elif isinstance(agent.runnable, Runnable):
            self._kind, self._target = "runnable", agent.runnable
        elif _is_async(agent.runnable):
            self._kind, self._target = "coroutine", agent.runnable
        else:
            self._kind, self._target = "function", agent.runnable
        if models and self._kind != "structured":
            self._target = self._targets[0]
        else:
            self._targets = [self._target]
        # Each target's model name and breaker (a runnable: one link, unnamed, unguarded).
        breaker = agent.breaker
        self._links: list[tuple[str, Guard | None]] = [
            (model_label(m), Guard(m, breaker, agent.name) if breaker is not None else None)
            for m in models[: len(self._targets)]
        ] or [("", None)]

    @property
    def traced(self) -> bool:
        """Whether calls take a config (a plain function's turn is its node's run)."""
        return self._kind not in ("function", "coroutine")

    # -- one call ----------------------------------------------------------------

    def _prompt(self, view: list[BaseMessage]) -> list[BaseMessage]:
        return [self._system, *view] if self._system else view

    def _sync_call(self, view: list[BaseMessage], config: RunnableConfig, target: Any) -> Any:
        kind = self._kind
        if kind == "function":
            return target(view)
        if kind == "model":
            return target.invoke(self._prompt(view), config)
        if kind == "graph":
            return target.invoke({"messages": view}, config)
        if kind == "answered":
            prompt, new = self._prompt(view), list[BaseMessage]()
            for _ in range(_MAX_ANSWERED_ROUNDS):
                reply = target.invoke(prompt, config)
                prompt, done = self._answered(prompt, new, reply)
                if done:
                    break
            return new
        return target.invoke(view, config)

    def _answered(
        self, prompt: list[BaseMessage], new: list[BaseMessage], reply: AIMessage
    ) -> tuple[list[BaseMessage], bool]:
        """Record `reply` and the pattern's answers to its tool calls; say if the turn ends."""
        new.append(reply)
        if not reply.tool_calls or self._answers is None:
            return prompt, True
        results = self._answers.answer(reply)
        new.extend(results)
        return [*prompt, reply, *results], self._answers.finished(results)

    async def _async_call(
        self, view: list[BaseMessage], config: RunnableConfig, target: Any
    ) -> Any:
        kind = self._kind
        if kind == "coroutine":
            return await target(view)
        if kind == "function":
            return await asyncio.to_thread(target, view)  # copies the context itself
        if kind == "model":
            return await target.ainvoke(self._prompt(view), config)
        if kind == "graph":
            return await target.ainvoke({"messages": view}, config)
        if kind == "answered":
            prompt, new = self._prompt(view), list[BaseMessage]()
            for _ in range(_MAX_ANSWERED_ROUNDS):
                reply = await target.ainvoke(prompt, config)
                prompt, done = self._answered(prompt, new, reply)
                if done:
                    break
            return new
        return await target.ainvoke(view, config)

    # -- a turn ------------------------------------------------------------------

    def invoke(self, view: list[BaseMessage], config: RunnableConfig) -> TurnResult:
        """Run one turn on `view` (sync), with retries and timeout."""
        if self._kind == "structured":
            call = self._target.invoke(self._asked(view), config, schema=self.output)
            return _audited(self._answer(call.parsed, call.message, call.usage), call.audit)
        if self._kind == "coroutine":
            # A usage error, not a failure to retry.
            raise TypeError(
                f"Agent '{self.agent.name}' is an async function: run the graph with "
                "ainvoke/astream, or give a sync callable"
            )
        start = time.perf_counter()
        records: list[AuditRecord] = []
        raw = fallback(
            [
                Fallback(label, guard, lambda t=target: self._sync_call(view, config, t))  # type: ignore[misc]
                for (label, guard), target in zip(self._links, self._targets, strict=True)
            ],
            who=self.agent.name,
            retry=self.retry,
            timeout=self.agent.timeout,
            records=records,
        )
        return _audited(
            self._result(raw, len(view), time.perf_counter() - start), records, self.agent.name
        )

    async def ainvoke(self, view: list[BaseMessage], config: RunnableConfig) -> TurnResult:
        """Run one turn on `view` (async), with retries and timeout."""
        if self._kind == "structured":
            call = await self._target.ainvoke(self._asked(view), config, schema=self.output)
            return _audited(self._answer(call.parsed, call.message, call.usage), call.audit)
        start = time.perf_counter()
        records: list[AuditRecord] = []
        raw = await afallback(
            [
                Fallback(label, guard, lambda t=target: self._async_call(view, config, t))  # type: ignore[misc]
                for (label, guard), target in zip(self._links, self._targets, strict=True)
            ],
            who=self.agent.name,
            retry=self.retry,
            timeout=self.agent.timeout,
            records=records,
            sync=(lambda: self._target(view)) if self._kind == "function" else None,
        )
        return _audited(
            self._result(raw, len(view), time.perf_counter() - start), records, self.agent.name
        )

    def _asked(self, view: list[BaseMessage]) -> list[BaseMessage]:
        return [*view, self._request] if self._request is not None else view

    def _answer(
        self, answer: Any, reply: AIMessage | None, usage: dict[str, Usage] | None
    ) -> TurnResult:
        """Render a structured answer as the turn's message."""
        name = self.agent.name
        assert self.output is not None  # only called for agents with an output schema
        if not isinstance(answer, self.output):
            try:
                answer = self.output.model_validate(answer)
            except ValidationError as error:
                raise ValueError(
                    f"Agent '{name}' must answer with a {self.output.__name__}: {error}"
                ) from error
        fields: dict[str, Any] = {
            "content": self.render(answer),
            "name": name,
            "response_metadata": {OUTPUT_KEY: answer.model_dump(mode="json")},
        }
        if reply is not None:
            fields.update(id=reply.id, usage_metadata=reply.usage_metadata)
        message = AIMessage(**fields)
        if usage is None:
            usage = {name: usage_of([message], 0.0, self.prices)}
        written: dict[str, Any] = {}
        if self.agent.output is not None and self.output is self.agent.output:
            # Fields the team's state declares are writes; the others are only the answer.
            written = {k: getattr(answer, k) for k in self.output.model_fields if k in self.record}
        return TurnResult([message], usage, [], written)

    def _result(self, raw: Any, view_len: int, latency: float) -> TurnResult:
        name = self.agent.name
        usage: dict[str, Usage] | None = None
        audit: list[dict[str, Any]] = []
        if self.output is not None and not isinstance(raw, str | BaseMessage):
            turn = self._answer(raw, None, None)
            own = turn.usage[name]
            return TurnResult(turn.messages, {name: {**own, "latency_s": latency}}, [], turn.fields)
        if isinstance(raw, str):
            messages: list[BaseMessage] = [AIMessage(raw, name=name)]
        elif isinstance(raw, BaseMessage):
            messages = [raw]
        elif isinstance(raw, Mapping) and "stop_reason" in raw and "usage" in raw:
            # A nested orchestra team: its answer is one message; its members' usage
            # is reported under this agent's name.
            if raw.get("final") is None:
                raise ValueError(
                    f"Agent '{name}' is a team that ended without an answer "
                    f"(stop_reason={raw['stop_reason']!r})"
                )
            messages = [AIMessage(str(raw["final"]), name=name)]
            # This run's usage (a team that keeps its state across runs also has totals).
            inner = raw.get("run_usage") or raw["usage"]
            usage = {f"{name}/{k}": v for k, v in inner.items()}
            audit = _nested_audit(name, raw)
        elif isinstance(raw, Mapping) and isinstance(raw.get("messages"), list):
            messages = list(raw["messages"][view_len:])
        elif isinstance(raw, list) and all(isinstance(m, BaseMessage) for m in raw):
            messages = list(raw)
        else:
            raise _bad_output(name, raw)
        if not messages:
            raise ValueError(f"Agent '{name}' produced no message")
        named = [
            m.model_copy(update={"name": name})
            if isinstance(m, AIMessage) and m.name != name
            else m
            for m in messages
        ]
        if usage is None:
            usage = {name: usage_of(named, latency, self.prices)}
        written: dict[str, Any] = {}
        if not isinstance(raw, str) and isinstance(raw, Mapping):
            # A tool's `Command(update=...)` or a nested team set these record fields.
            written = {k: raw[k] for k in self.record if raw.get(k) is not None}
        return TurnResult(named, usage, audit, written)


def _audited(
    turn: TurnResult, records: Sequence[AuditRecord], agent: str | None = None
) -> TurnResult:
    """`turn` with the call's `fallback` and `breaker` records after its own.

    With `agent` (a turn made by one fallback chain), a fallback that answered with
    several model calls (an agent with tools) says how many in `calls`.
    """
    if not records:
        return turn
    audit: list[dict[str, Any]] = [dict(r) for r in records]
    own = turn.usage.get(agent) if agent is not None else None
    if own is not None and own["calls"] > 1:
        for record in audit:
            detail: dict[str, Any] = record["detail"]
            if record["kind"] == "fallback" and detail.get("model") is not None:
                record["detail"] = {**detail, "calls": own["calls"]}
    return turn._replace(audit=[*turn.audit, *audit])


def _nested_audit(name: str, state: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A nested team's audit records of its latest run, named by path (`team/member`)."""
    started = str((state.get("run") or {}).get("started_at") or "")
    return [
        {**record, "agent": f"{name}/{record['agent']}" if record.get("agent") else name}
        for record in state.get("audit") or ()
        if str(record.get("ts", "")) >= started and record.get("kind") != "termination"
    ]


def _is_async(fn: Any) -> bool:
    """Whether calling `fn` returns a coroutine (an async function or callable object)."""
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)  # noqa: B004 - the method, not callability
    )


def _bad_output(name: str, raw: Any) -> TypeError:
    if inspect.iscoroutine(raw):
        raw.close()  # never awaited: close it so no "never awaited" warning follows
        return TypeError(
            f"Agent '{name}' returned a coroutine: its runnable is async but was not "
            "recognized as such; give an `async def` function, or a sync callable"
        )
    return TypeError(
        f"Agent '{name}' returned {type(raw).__name__}: return a str, an AIMessage, "
        "a list of messages, or a dict with 'messages'"
    )
