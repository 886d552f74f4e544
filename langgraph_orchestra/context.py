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
- a callable `state -> list[BaseMessage]`: whatever it returns, as it is.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.messages.utils import count_tokens_approximately

from langgraph_orchestra.conditions import Condition, TokenBudget
from langgraph_orchestra.errors import TeamConfigError

__all__ = [
    "ADDRESSEE_KEY",
    "CONTEXT_NAMES",
    "ORCHESTRATION_NAMES",
    "PARTICIPANT_KEY",
    "ContextPolicy",
    "View",
    "Window",
    "follow_up_context",
    "is_input",
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


ContextPolicy: TypeAlias = (
    Literal["full", "last", "own"]
    | Window
    | TokenBudget
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
    elif callable(policy) and not isinstance(policy, Condition):
        # Other conditions are callables over state too, but they return a stop reason.
        return _custom(policy)
    raise TeamConfigError(
        f"Invalid context {policy!r} for {owner}: use 'full', 'last', 'own', "
        "Window(k), TokenBudget(n) or a callable state -> list[BaseMessage]"
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
