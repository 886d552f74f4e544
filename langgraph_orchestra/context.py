"""Context policies: what an agent sees of the shared transcript.

A view is the conversation, not the plumbing: other turns' tool calls and tool results
are left out, another agent's message reaches the agent as a user message carrying that
agent's name, and the agent's own messages stay assistant messages. Every built-in view
begins with the task (the first user message) and ends with the latest message, which
is what the agent is answering (a reviewer's feedback, the previous step's output, ...).

- `"full"`: the whole conversation.
- `"last"`: the task and the latest message.
- `"own"`: the task, the agent's own earlier messages (and those addressed to it), and
  the latest message.
- `Window(k)`: the task and the latest `k` messages.
- `TokenBudget(n)`: the task and the latest messages that fit in `n` tokens.
- `Summary(model, keep_last=k)`: the task, a running summary of the older turns, and
  the latest `k` messages. The summary is kept in state (`summaries`) and extended
  incrementally: when turns leave the window, only they are summarized, with the
  previous summary (one small call, never the whole transcript); the calls count in
  `usage` as `summarizer`. It is refreshed when an agent takes a turn from the state.
- a callable `state -> list[BaseMessage]`: whatever it returns, as it is.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal, NamedTuple, Protocol, TypeAlias, runtime_checkable

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.messages.utils import count_tokens_approximately
from langchain_core.runnables import RunnableConfig

from langgraph_orchestra.calls import CallResult, ModelCall
from langgraph_orchestra.conditions import Condition, TokenBudget
from langgraph_orchestra.errors import TeamConfigError
from langgraph_orchestra.prompts import DEFAULT_PROMPTS, Prompts
from langgraph_orchestra.resilience import Resilient, resilient_model
from langgraph_orchestra.state.records import AuditRecord, SummaryRecord, Usage
from langgraph_orchestra.tracing import ModelPrice

__all__ = [
    "ADDRESSEE_KEY",
    "CONTEXT_NAMES",
    "ORCHESTRATION_NAMES",
    "PARTICIPANT_KEY",
    "SUMMARIZER",
    "ContextPolicy",
    "Refreshed",
    "Refreshing",
    "Summary",
    "SummaryView",
    "View",
    "Window",
    "follow_up_context",
    "is_input",
    "kept_refreshing",
    "resolve_context",
    "run_task",
    "task_index",
]


@dataclass(frozen=True)
class Window:
    """Show the task and the latest `k` messages."""

    k: int
    """How many recent messages to show besides the task."""

    def __post_init__(self) -> None:
        if isinstance(self.k, bool) or not isinstance(self.k, int) or self.k < 1:
            raise TeamConfigError(f"Window needs a whole number k >= 1, got {self.k!r}")


SUMMARIZER = "summarizer"
"""The usage participant (and message name) of a `Summary` policy's summarizer."""


@dataclass(frozen=True)
class Summary:
    """Show the task, a running summary of the older turns, and the latest `keep_last`.

    Example:
        ```python
        team = create_group_chat(agents, context=Summary("openai:gpt-4o-mini", keep_last=6))
        ```
    """

    model: BaseChatModel | str | Resilient
    """The summarizer's model (a `Resilient` one for fallbacks and a breaker)."""
    keep_last: int = 4
    """How many recent messages the agent sees as they are."""
    words: int = 300
    """The length the summary is asked to stay within, in words."""
    key: str | None = None
    """The summary's name in `state["summaries"]`; agents whose policies share a key share
    the summary (one summarizer call per turn for the team). Default: `last<keep_last>`."""
    prompts: Prompts = DEFAULT_PROMPTS
    """The summarizer's prompts (`summary_instructions`, `summary_update`, `summary_line`)
    and how agents see the summary (`summary_view`)."""

    def __post_init__(self) -> None:
        if not isinstance(self.model, BaseChatModel | str | Resilient) or (
            isinstance(self.model, str) and not self.model.strip()
        ):
            raise TeamConfigError(
                "Summary model must be a chat model, a 'provider:model' string or a "
                f"Resilient model, got {self.model!r}"
            )
        for field, value in (("keep_last", self.keep_last), ("words", self.words)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise TeamConfigError(f"Summary needs a whole number {field} >= 1, got {value!r}")
        if self.key is not None and (not isinstance(self.key, str) or not self.key):
            raise TeamConfigError(f"Summary key must be a non-empty string, got {self.key!r}")

    @property
    def name(self) -> str:
        """The summary's name in `state["summaries"]`."""
        return self.key or f"last{self.keep_last}"


ContextPolicy: TypeAlias = (
    Literal["full", "last", "own"]
    | Window
    | TokenBudget
    | Summary
    | Callable[[Mapping[str, Any]], Sequence[BaseMessage]]
)
"""Any of the accepted `context=` values."""

View = Callable[[Mapping[str, Any], str], list[BaseMessage]]
"""A resolved policy: `(state, agent_name) -> messages the agent sees`."""

CONTEXT_NAMES = ("full", "last", "own")
"""The names of the built-in policies, as a team file writes them."""


def _seen_by(message: BaseMessage, agent: str) -> BaseMessage | None:
    """Return `message` as `agent` sees it, or `None` when it is plumbing."""
    if isinstance(message, AIMessage):
        text = message.text
        if not text:
            return None
        if message.name == agent:
            if message.tool_calls or not isinstance(message.content, str):
                return AIMessage(content=text, name=agent, id=message.id)
            return message
        return HumanMessage(content=text, name=message.name, id=message.id)
    if isinstance(message, ToolMessage):
        return None
    return message


ORCHESTRATION_NAMES = frozenset({"reviewer", "aggregate", "manager"})
"""Names of the user messages the orchestration itself writes (a reviewer's feedback,
an aggregator's request, a manager's instruction): they are not a run's input."""


PARTICIPANT_KEY = "orchestra_participant"
"""`response_metadata` flag of a user message written by a person taking a turn in a team
(a group chat's human seat): a participant's turn, not a run's input."""


ADDRESSEE_KEY = "orchestra_to"
"""`response_metadata` key naming the agent a user message is addressed to (a network
peer's message as its recipient sees it): `"own"` shows it to that agent."""


def is_input(message: BaseMessage) -> bool:
    """Whether `message` is a run's input: a user message the orchestration did not write."""
    return (
        isinstance(message, HumanMessage)
        and message.name not in ORCHESTRATION_NAMES
        and not message.response_metadata.get(PARTICIPANT_KEY)
    )


def task_index(messages: Sequence[BaseMessage]) -> int | None:
    """Return the index of the current run's input: the latest user message.

    A thread may hold many runs; each begins with a user message, so the latest one that
    the orchestration did not write is the task every agent of this run works on.
    """
    for i in range(len(messages) - 1, -1, -1):
        if is_input(messages[i]):
            return i
    return None


def run_task(state: Mapping[str, Any]) -> int | None:
    """Return the index of the current run's input, as recorded at the run's start.

    Falls back to `task_index` when the state has no usable record (a state built by
    hand, or messages removed since the run started).
    """
    messages: Sequence[BaseMessage] = state["messages"]
    run = state.get("run")
    if run:
        index = run.get("task")
        if index is None:
            return None
        if index < len(messages) and messages[index].id == run.get("task_id"):
            return int(index)
    return task_index(messages)


def _latest(messages: Sequence[BaseMessage], agent: str, k: int) -> list[tuple[int, BaseMessage]]:
    """Return up to `k` latest visible messages as (index, view) pairs, oldest first."""
    found: list[tuple[int, BaseMessage]] = []
    for i in range(len(messages) - 1, -1, -1):
        seen = _seen_by(messages[i], agent)
        if seen is not None:
            found.append((i, seen))
            if len(found) == k:
                break
    found.reverse()
    return found


def _with_task(
    state: Mapping[str, Any], picked: list[tuple[int, BaseMessage]]
) -> list[BaseMessage]:
    messages: Sequence[BaseMessage] = state["messages"]
    task = run_task(state)
    if task is not None and (not picked or picked[0][0] > task):
        return [messages[task], *(m for _, m in picked)]
    return [m for _, m in picked]


def _full() -> View:
    """The whole conversation, converted incrementally per agent.

    Turning other agents' replies into user messages is most of what a view costs; over
    a long run `"full"` would redo it for every message on every turn (O(rounds²) work
    before any model is called). This view remembers, per agent, the transcript it last
    saw and its conversion: when the transcript still starts with the same message
    objects, only the new ones are converted. Anything else (an edit replacing a
    message, a removal, a state loaded from a checkpoint) converts the whole anew.
    """
    memo: dict[str, tuple[tuple[BaseMessage, ...], list[BaseMessage]]] = {}

    def view(state: Mapping[str, Any], agent: str) -> list[BaseMessage]:
        messages: Sequence[BaseMessage] = state["messages"]
        known = memo.get(agent)
        start, seen = 0, []
        if known is not None:
            source, converted = known
            if len(source) <= len(messages) and all(map(operator.is_, source, messages)):
                start, seen = len(source), converted
        fresh = [m for m in (_seen_by(x, agent) for x in messages[start:]) if m is not None]
        result = [*seen, *fresh]
        memo[agent] = (tuple(messages), result)
        return list(result)

    return view


def _last(state: Mapping[str, Any], agent: str) -> list[BaseMessage]:
    return _with_task(state, _latest(state["messages"], agent, 1))


def _own(state: Mapping[str, Any], agent: str) -> list[BaseMessage]:
    messages: Sequence[BaseMessage] = state["messages"]
    last = _latest(messages, agent, 1)
    last_index = last[0][0] if last else -1
    task = run_task(state)
    picked: list[BaseMessage] = []
    for i, message in enumerate(messages):
        if i == task or i == last_index:
            seen = _seen_by(message, agent)
        elif (isinstance(message, AIMessage) and message.name == agent) or (
            message.response_metadata.get(ADDRESSEE_KEY) == agent
        ):
            seen = _seen_by(message, agent)
        else:
            continue
        if seen is not None:
            picked.append(seen)
    return picked


def _window(k: int) -> View:
    def view(state: Mapping[str, Any], agent: str) -> list[BaseMessage]:
        return _with_task(state, _latest(state["messages"], agent, k))

    return view


def _budget(budget: TokenBudget) -> View:
    limit = budget.tokens

    def view(state: Mapping[str, Any], agent: str) -> list[BaseMessage]:
        # Walk back only as far as the budget reaches, so a turn's cost does not grow
        # with the length of the transcript.
        messages: Sequence[BaseMessage] = state["messages"]
        picked: list[tuple[int, BaseMessage]] = []
        used = 0
        for i in range(len(messages) - 1, -1, -1):
            seen = _seen_by(messages[i], agent)
            if seen is None:
                continue
            used += count_tokens_approximately([seen])
            if used > limit and picked:
                break
            picked.append((i, seen))
        picked.reverse()
        return _with_task(state, picked)

    return view


class Refreshed(NamedTuple):
    """What bringing a summary up to date produced."""

    summaries: dict[str, SummaryRecord]
    """The new record, for `state["summaries"]`."""
    usage: dict[str, Usage]
    """The summarizer's usage (empty when nothing needed a model call)."""
    audit: list[AuditRecord]
    """The call's `fallback` and `breaker` records."""


@runtime_checkable
class Refreshing(Protocol):
    """A view whose state must be brought up to date before an agent's turn (a summary)."""

    @property
    def key(self) -> str:
        """What it keeps up to date: its name in `state["summaries"]` (views may share one)."""
        ...

    def __call__(self, state: Mapping[str, Any], agent: str) -> list[BaseMessage]:
        """What `agent` sees."""
        ...

    def refresh(
        self,
        state: Mapping[str, Any],
        agent: str,
        config: RunnableConfig | None,
        *,
        pattern: str,
        prices: Mapping[str, ModelPrice],
    ) -> Refreshed | None:
        """Bring the view's state up to date (sync); `None` when it is."""
        ...

    async def arefresh(
        self,
        state: Mapping[str, Any],
        agent: str,
        config: RunnableConfig | None,
        *,
        pattern: str,
        prices: Mapping[str, ModelPrice],
    ) -> Refreshed | None:
        """Bring the view's state up to date (async)."""
        ...


class _Wrapped:
    """A view built on a `Refreshing` one, refreshed as that one is (see `kept_refreshing`)."""

    def __init__(
        self,
        view: View,
        inner: Refreshing,
        seen: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None,
    ) -> None:
        self.view, self.inner, self.seen = view, inner, seen

    @property
    def key(self) -> str:
        return self.inner.key

    def _seen(self, state: Mapping[str, Any]) -> Mapping[str, Any]:
        return self.seen(state) if self.seen is not None else state

    def __call__(self, state: Mapping[str, Any], agent: str) -> list[BaseMessage]:
        return self.view(state, agent)

    def refresh(
        self, state: Mapping[str, Any], agent: str, config: RunnableConfig | None, **options: Any
    ) -> Refreshed | None:
        return self.inner.refresh(self._seen(state), agent, config, **options)

    async def arefresh(
        self, state: Mapping[str, Any], agent: str, config: RunnableConfig | None, **options: Any
    ) -> Refreshed | None:
        return await self.inner.arefresh(self._seen(state), agent, config, **options)


def kept_refreshing(
    view: View,
    inner: View,
    seen: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None,
) -> View:
    """`view`, made of `inner`, still brought up to date when `inner` is a `Refreshing` one.

    A pattern that wraps an agent's context policy (a branch sees the transcript up to
    the task, a step sees its inputs after it) keeps a `Summary` refreshed this way:
    refreshing the result refreshes `inner` on the state `inner` is applied to (`seen`
    of the state; by default the state itself).
    """
    if isinstance(inner, Refreshing):
        return _Wrapped(view, inner, seen)
    return view


class SummaryView:
    """The view of a `Summary` policy, and the step that keeps its summary up to date.

    As a view it is pure: the task (when the summary covers it), the summary, and every
    visible message after what the summary covers. `refresh` (called by the agent's turn
    before the view) summarizes the messages that left the window since the last
    summary, so the view shows exactly the latest `keep_last` after it.
    """

    def __init__(self, policy: Summary) -> None:
        """Keep the policy; its model is made on first use."""
        self.policy = policy

    @property
    def key(self) -> str:
        """The summary's name in `state["summaries"]`."""
        return self.policy.name

    @cached_property
    def model(self) -> Resilient:
        """The summarizer's model and fallbacks, made."""
        return resilient_model(self.policy.model, owner="Summary model")

    def record(self, state: Mapping[str, Any]) -> SummaryRecord | None:
        """The state's summary record, if it still describes the transcript's start."""
        record = (state.get("summaries") or {}).get(self.policy.name)
        if not isinstance(record, Mapping):
            return None
        messages: Sequence[BaseMessage] = state["messages"]
        upto = record.get("upto")
        if not isinstance(upto, int) or not 0 < upto <= len(messages):
            return None
        if messages[upto - 1].id != record.get("last_id"):
            return None  # messages were replaced or removed: start over
        return record  # type: ignore[return-value]

    def __call__(self, state: Mapping[str, Any], agent: str) -> list[BaseMessage]:
        """What `agent` sees: the task, the summary, then the turns after it."""
        messages: Sequence[BaseMessage] = state["messages"]
        record = self.record(state)
        upto = record["upto"] if record else 0
        task = run_task(state)
        shown: list[BaseMessage] = []
        if record is not None:
            if task is not None and task < upto:
                shown.append(messages[task])
            if record["text"]:  # empty while only what the summarizer skips left the window
                text = self.policy.prompts.summary_view.format(summary=record["text"])
                shown.append(HumanMessage(text, name=SUMMARIZER))
        for message in messages[upto:]:
            seen = _seen_by(message, agent)
            if seen is not None:
                shown.append(seen)
        return shown

    def _due(
        self, state: Mapping[str, Any], agent: str
    ) -> tuple[SummaryRecord | None, list[BaseMessage], int] | None:
        """The record, the messages that left the window since it, and the new cut."""
        messages: Sequence[BaseMessage] = state["messages"]
        kept = _latest(messages, agent, self.policy.keep_last)
        if len(kept) < self.policy.keep_last:
            return None
        cut = kept[0][0]
        record = self.record(state)
        upto = record["upto"] if record else 0
        if cut <= upto:
            return None
        task = run_task(state)
        left = [
            seen
            for i in range(upto, cut)
            if i != task and (seen := _seen_by(messages[i], SUMMARIZER)) is not None
        ]
        return record, left, cut

    def _ask(self, record: SummaryRecord | None, left: Sequence[BaseMessage]) -> list[BaseMessage]:
        prompts = self.policy.prompts
        lines = "\n".join(
            prompts.summary_line.format(name=m.name or m.type, text=m.text) for m in left
        )
        previous = record["text"] if record else "(none yet)"
        return [HumanMessage(prompts.summary_update.format(summary=previous, messages=lines))]

    def _call(self, pattern: str, prices: Mapping[str, ModelPrice]) -> ModelCall:
        prompts = self.policy.prompts
        return ModelCall(
            self.model,
            participant=SUMMARIZER,
            pattern=pattern,
            prices=prices,
            instructions=prompts.summary_instructions.format(words=self.policy.words),
        )

    def _refreshed(
        self,
        state: Mapping[str, Any],
        record: SummaryRecord | None,
        cut: int,
        result: CallResult[Any] | None,
    ) -> Refreshed:
        text = result.message.text if result is not None else (record["text"] if record else "")
        new: SummaryRecord = {
            "text": text,
            "upto": cut,
            "last_id": state["messages"][cut - 1].id,
            "calls": (record["calls"] if record else 0) + (result is not None),
        }
        if result is None:
            return Refreshed({self.policy.name: new}, {}, [])
        return Refreshed({self.policy.name: new}, result.usage, result.audit)

    def refresh(
        self,
        state: Mapping[str, Any],
        agent: str,
        config: RunnableConfig | None,
        *,
        pattern: str,
        prices: Mapping[str, ModelPrice],
    ) -> Refreshed | None:
        """Extend the summary with the turns that left `agent`'s window (sync).

        Returns `None` when the summary is up to date.
        """
        due = self._due(state, agent)
        if due is None:
            return None
        record, left, cut = due
        result: CallResult[Any] | None = None
        if left:
            result = self._call(pattern, prices).invoke(self._ask(record, left), config)
        return self._refreshed(state, record, cut, result)

    async def arefresh(
        self,
        state: Mapping[str, Any],
        agent: str,
        config: RunnableConfig | None,
        *,
        pattern: str,
        prices: Mapping[str, ModelPrice],
    ) -> Refreshed | None:
        """Extend the summary (async); see `refresh`."""
        due = self._due(state, agent)
        if due is None:
            return None
        record, left, cut = due
        result: CallResult[Any] | None = None
        if left:
            result = await self._call(pattern, prices).ainvoke(self._ask(record, left), config)
        return self._refreshed(state, record, cut, result)


def _custom(fn: Callable[[Mapping[str, Any]], Sequence[BaseMessage]]) -> View:
    def view(state: Mapping[str, Any], agent: str) -> list[BaseMessage]:
        return list(fn(state))

    return view


_BUILT_IN: dict[str, Callable[[], View]] = {
    "full": _full,
    "last": lambda: _last,
    "own": lambda: _own,
}


def resolve_context(policy: ContextPolicy, *, owner: str = "a team") -> View:
    """Turn a `context=` value into a view function; raise `TeamConfigError` if invalid.

    Args:
        policy: The `context=` value.
        owner: Who it was given to, for the error message (`"agent 'writer'"`).

    Example:
        ```python
        view = resolve_context(Window(4))
        messages = view(state, "writer")
        ```
    """
    if isinstance(policy, str):
        if policy in _BUILT_IN:
            return _BUILT_IN[policy]()
    elif isinstance(policy, Window):
        return _window(policy.k)
    elif isinstance(policy, TokenBudget):
        return _budget(policy)
    elif isinstance(policy, Summary):
        return SummaryView(policy)
    elif callable(policy) and not isinstance(policy, Condition):
        # Other conditions are callables over state too, but they return a stop reason.
        return _custom(policy)
    raise TeamConfigError(
        f"Invalid context {policy!r} for {owner}: use 'full', 'last', 'own', "
        "Window(k), TokenBudget(n), Summary(model, keep_last=k) or a callable "
        "state -> list[BaseMessage]"
    )


def follow_up_context(policy: ContextPolicy) -> View | None:
    """The view of an agent's exchange with a reviewer under `policy`, if it can have one.

    A built-in policy applies to the exchange (drafts and reviewer messages) as to a
    transcript without a task. A callable policy reads the whole state, which a revision
    does not have: `None`, and the whole exchange is kept.
    """
    if isinstance(policy, str | Window | TokenBudget):
        return resolve_context(policy)
    return None
