"""Context policies: what each agent sees of the shared transcript."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.messages.utils import count_tokens_approximately

from langgraph_orchestra import (
    CostBudget,
    MaxRounds,
    TeamConfigError,
    TokenBudget,
    Window,
)
from langgraph_orchestra import context as context_module
from langgraph_orchestra.context import resolve_context

Seen = tuple[str, str | None, str, str | None]
"""(message type, name, text, id): what a test compares of a viewed message."""


def seen(messages: Sequence[BaseMessage]) -> list[Seen]:
    for message in messages:
        # Views are text only: no content blocks, no tool calls.
        assert isinstance(message.content, str), message
        if isinstance(message, AIMessage):
            assert not message.tool_calls, message
    return [(m.type, m.name, m.text, m.id) for m in messages]


TASK: Seen = ("human", None, "Write a haiku about 42.", "task")
DRAFT: Seen = ("ai", "writer", "draft one", "w1")
FOUND: Seen = ("human", "researcher", "42 is the answer", "r2")
EDITED: Seen = ("human", "editor", "tightened it", "e1")
DRAFT2: Seen = ("ai", "writer", "draft two", "w2")
FEEDBACK: Seen = ("human", "reviewer", "shorter please", "fb")


def transcript() -> list[BaseMessage]:
    return [
        HumanMessage("Write a haiku about 42.", id="task"),
        AIMessage("draft one", name="writer", id="w1"),
        AIMessage(
            "",
            name="researcher",
            id="r1",
            tool_calls=[{"name": "lookup", "args": {"q": "42"}, "id": "c1"}],
        ),
        ToolMessage("the answer", tool_call_id="c1", name="lookup", id="t1"),
        AIMessage([{"type": "text", "text": "42 is the answer"}], name="researcher", id="r2"),
        AIMessage("tightened it", name="editor", id="e1"),
        AIMessage("draft two", name="writer", id="w2"),
        HumanMessage("shorter please", name="reviewer", id="fb"),
    ]


def view(policy: Any, messages: list[BaseMessage], agent: str = "writer") -> list[Seen]:
    return seen(resolve_context(policy)({"messages": messages}, agent))


# --- each policy on a full transcript ---------------------------------------------------


def test_full_drops_plumbing_and_shows_others_as_named_users() -> None:
    assert view("full", transcript()) == [TASK, DRAFT, FOUND, EDITED, DRAFT2, FEEDBACK]


def test_last_is_the_task_and_the_latest_message() -> None:
    assert view("last", transcript()) == [TASK, FEEDBACK]


def test_own_is_the_task_own_turns_and_the_latest_message() -> None:
    assert view("own", transcript()) == [TASK, DRAFT, DRAFT2, FEEDBACK]


def test_window_is_the_task_and_the_latest_k() -> None:
    assert view(Window(2), transcript()) == [TASK, DRAFT2, FEEDBACK]
    assert view(Window(3), transcript()) == [TASK, EDITED, DRAFT2, FEEDBACK]


def test_window_larger_than_the_transcript_shows_the_task_once() -> None:
    assert view(Window(50), transcript()) == view("full", transcript())


def _tokens(*messages: BaseMessage) -> int:
    return sum(count_tokens_approximately([m]) for m in messages)


def test_token_budget_shows_the_latest_messages_that_fit() -> None:
    messages = transcript()
    # Counted as the writer sees them (names count too).
    last_two = _tokens(
        AIMessage("draft two", name="writer"), HumanMessage("shorter please", name="reviewer")
    )
    assert view(TokenBudget(last_two), messages) == [TASK, DRAFT2, FEEDBACK]
    # One token short of two messages: only the latest fits.
    assert view(TokenBudget(last_two - 1), messages) == [TASK, FEEDBACK]


def test_token_budget_always_shows_the_latest_message() -> None:
    huge = HumanMessage("word " * 2000, name="reviewer", id="big")
    assert view(TokenBudget(1), [*transcript(), huge]) == [
        TASK,
        ("human", "reviewer", huge.text, "big"),
    ]


def test_token_budget_covering_everything_equals_full() -> None:
    assert view(TokenBudget(100_000), transcript()) == view("full", transcript())


def test_token_budget_reads_only_as_far_back_as_the_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    counted: list[int] = []

    def counting(messages: Sequence[BaseMessage], **kwargs: Any) -> int:
        counted.append(len(messages))
        return count_tokens_approximately(messages, **kwargs)

    monkeypatch.setattr(context_module, "count_tokens_approximately", counting)
    long: list[BaseMessage] = [HumanMessage("task", id="task")]
    long += [AIMessage(f"turn {i}", name="ba"[i % 2], id=f"m{i}") for i in range(2000)]
    budget = _tokens(HumanMessage("turn 1998", name="b"), AIMessage("turn 1999", name="a"))
    result = view(TokenBudget(budget), long, agent="a")
    assert [m[3] for m in result] == ["task", "m1998", "m1999"]
    # The cost of a turn does not grow with the transcript.
    assert len(counted) <= 3


def test_callable_policy_returns_exactly_what_it_gives() -> None:
    messages = transcript()

    def pick(state: Mapping[str, Any]) -> tuple[BaseMessage, ...]:
        return (state["messages"][3], state["messages"][0])

    picked = resolve_context(pick)({"messages": messages}, "writer")
    assert picked == [messages[3], messages[0]]
    assert isinstance(picked, list)


# --- what a view makes of each message ----------------------------------------------------


def test_own_tool_call_with_text_keeps_only_the_text() -> None:
    messages: list[BaseMessage] = [
        HumanMessage("task", id="task"),
        AIMessage(
            [{"type": "text", "text": "checking"}],
            name="researcher",
            id="r1",
            tool_calls=[{"name": "lookup", "args": {}, "id": "c1"}],
        ),
        ToolMessage("found", tool_call_id="c1", id="t1"),
        AIMessage("done", name="researcher", id="r2"),
    ]
    expected = [
        ("human", None, "task", "task"),
        ("ai", "researcher", "checking", "r1"),
        ("ai", "researcher", "done", "r2"),
    ]
    assert view("full", messages, agent="researcher") == expected
    assert view("own", messages, agent="researcher") == expected


def test_others_tool_call_with_text_becomes_a_named_user_message() -> None:
    messages: list[BaseMessage] = [
        HumanMessage("task", id="task"),
        AIMessage(
            "checking",
            name="researcher",
            id="r1",
            tool_calls=[{"name": "x", "args": {}, "id": "c"}],
        ),
    ]
    assert view("full", messages) == [
        ("human", None, "task", "task"),
        ("human", "researcher", "checking", "r1"),
    ]


def test_system_messages_are_kept() -> None:
    messages: list[BaseMessage] = [SystemMessage("house rules", id="s"), *transcript()]
    assert view("full", messages)[:2] == [("system", None, "house rules", "s"), TASK]


def test_views_do_not_change_the_transcript() -> None:
    messages = transcript()
    before = [m.model_copy(deep=True) for m in messages]
    for policy in ("full", "last", "own", Window(2), TokenBudget(20)):
        view(policy, messages)
    assert messages == before


def test_own_messages_without_plumbing_are_passed_through_unchanged() -> None:
    messages = transcript()
    assert resolve_context("full")({"messages": messages}, "writer")[1] is messages[1]


# --- edge cases ------------------------------------------------------------------------------


@pytest.mark.parametrize("policy", ["full", "last", "own", Window(1), TokenBudget(50)])
def test_empty_transcript_gives_an_empty_view(policy: Any) -> None:
    assert view(policy, []) == []


@pytest.mark.parametrize("policy", ["full", "last", "own", Window(3), TokenBudget(50)])
def test_single_task_message_is_shown_once(policy: Any) -> None:
    assert view(policy, [HumanMessage("task", id="task")]) == [("human", None, "task", "task")]


def test_no_human_message() -> None:
    messages: list[BaseMessage] = [
        AIMessage("mine", name="writer", id="w1"),
        AIMessage("theirs", name="editor", id="e1"),
    ]
    mine, theirs = ("ai", "writer", "mine", "w1"), ("human", "editor", "theirs", "e1")
    assert view("full", messages) == [mine, theirs]
    assert view("last", messages) == [theirs]
    assert view("own", messages) == [mine, theirs]
    assert view(Window(1), messages) == [theirs]


def test_latest_message_is_own() -> None:
    messages: list[BaseMessage] = [
        HumanMessage("task", id="task"),
        AIMessage("theirs", name="editor", id="e1"),
        AIMessage("mine", name="writer", id="w1"),
    ]
    task, mine = ("human", None, "task", "task"), ("ai", "writer", "mine", "w1")
    assert view("last", messages) == [task, mine]
    assert view("own", messages) == [task, mine]


def test_latest_visible_message_skips_trailing_plumbing() -> None:
    messages: list[BaseMessage] = [
        *transcript()[:2],
        AIMessage("", name="editor", id="x", tool_calls=[{"name": "t", "args": {}, "id": "c"}]),
        ToolMessage("result", tool_call_id="c", id="t"),
    ]
    assert view("last", messages) == [TASK, DRAFT]


# --- invalid policies --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "policy", ["everything", "", 3, None, MaxRounds(3), CostBudget(1.0)], ids=repr
)
def test_invalid_policy_is_refused(policy: Any) -> None:
    with pytest.raises(
        TeamConfigError,
        match=re.escape(
            f"Invalid context {policy!r} for a team: use 'full', 'last', 'own', "
            "Window(k), TokenBudget(n), Summary(model, keep_last=k) or a callable "
            "state -> list[BaseMessage]"
        ),
    ):
        resolve_context(policy)


def test_invalid_policy_names_its_owner() -> None:
    with pytest.raises(TeamConfigError, match=re.escape("Invalid context 'all' for agent 'w':")):
        resolve_context("all", owner="agent 'w'")  # type: ignore[arg-type]


@pytest.mark.parametrize("k", [0, -2, True, 1.5, "3"])
def test_window_needs_a_positive_whole_number(k: Any) -> None:
    with pytest.raises(
        TeamConfigError, match=re.escape(f"Window needs a whole number k >= 1, got {k!r}")
    ):
        Window(k)


def test_full_view_converts_each_message_once_and_sees_replacements() -> None:
    view = resolve_context("full")
    draft = AIMessage("first draft", name="writer", id="m1")
    state = {"messages": [HumanMessage("task", id="t"), draft]}
    first = view(state, "critic")
    assert view(state, "critic")[1] is first[1]  # converted once, then reused
    assert first[1].text == "first draft" and isinstance(first[1], HumanMessage)
    # An edit replaces the message (same id, new object): the view shows the new text.
    edited = {"messages": [state["messages"][0], AIMessage("edited", name="writer", id="m1")]}
    assert view(edited, "critic")[1].text == "edited"
    # Each agent's own view: the writer still sees its message as its own.
    assert isinstance(view(state, "writer")[1], AIMessage)
