"""Reliability over every pattern: bad input is refused clearly and changes nothing.

Each test runs over every pattern of the conformance registry (`conformance.registry`),
so a new pattern is covered by registering it there.
"""

from __future__ import annotations

import math
import uuid
from typing import Any, NotRequired

import pytest
from conformance.registry import CASES, PatternCase
from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command, RetryPolicy
from pydantic import ValidationError
from typing_extensions import TypedDict

from langgraph_orchestra import (
    Agent,
    DecisionError,
    InputError,
    ModelPrice,
    TeamConfigError,
    TokenBudget,
    UnknownThreadError,
    Window,
    create_group_chat,
)
from langgraph_orchestra.state import (
    add_audit,
    add_exceptions,
    add_transcript,
    add_usage,
    audit_record,
)
from langgraph_orchestra.state.schemas import LIBRARY_RECORDS
from langgraph_orchestra.testing import ScriptedModel
from langgraph_orchestra.threads import drive

Graph = CompiledStateGraph[Any, Any, Any, Any]


@pytest.fixture(params=CASES, ids=[c.name for c in CASES])
def case(request: pytest.FixtureRequest) -> PatternCase:
    """Each registered pattern in turn."""
    entry: PatternCase = request.param
    return entry


def _team(
    case: PatternCase, b_script: list[Any], *, a_script: tuple[str, ...] = ("A",), **b_options: Any
) -> tuple[Graph, dict[str, ScriptedModel], RunnableConfig]:
    models = {"a": ScriptedModel(list(a_script)), "b": ScriptedModel(b_script)}
    agents = [Agent("a", model=models["a"]), Agent("b", model=models["b"], **b_options)]
    app = case.build(agents).compile(checkpointer=InMemorySaver())
    return app, models, {"configurable": {"thread_id": str(uuid.uuid4())}}


# --- the run's input -------------------------------------------------------------------

INPUT = (
    "pass a list of messages, each a message (HumanMessage, ...), a (role, text) pair, a "
    "{'role': ..., 'content': ...} dict or a text, e.g. "
    "{'messages': [('user', 'Summarize the report')]}"
)
BAD_INPUTS = [
    pytest.param({}, id="no-messages"),
    pytest.param({"messages": []}, id="empty"),
    pytest.param({"messages": None}, id="none"),
    pytest.param({"messages": 5}, id="number"),
    pytest.param({"messages": [42]}, id="list-of-a-number"),
    pytest.param({"messages": [("user", "hi"), 42]}, id="a-message-and-a-number"),
]


@pytest.mark.parametrize("payload", BAD_INPUTS)
def test_bad_input_on_a_new_thread_is_refused_before_any_model_call(
    case: PatternCase, payload: dict[str, Any]
) -> None:
    app, models, config = _team(case, [])
    with pytest.raises(InputError) as caught:
        app.invoke(payload, config)
    assert str(caught.value) == (
        f"The run has no task: the input's 'messages' is missing, empty or not messages; {INPUT}"
    )
    assert not any(app.get_state(config).values.values())  # no message, record or usage
    assert all(model.calls == [] for model in models.values())


@pytest.mark.parametrize("payload", BAD_INPUTS)
def test_bad_input_on_a_finished_thread_changes_nothing(
    case: PatternCase, payload: dict[str, Any]
) -> None:
    app, models, config = _team(case, ["B", "B2"], a_script=("A", "A2"))
    app.invoke({"messages": [("user", "task")]}, config)
    before = app.get_state(config).values
    calls = {name: len(model.calls) for name, model in models.items()}
    with pytest.raises(InputError) as caught:
        app.invoke(payload, config)
    assert str(caught.value) == (
        "The input adds no new task: its 'messages' is missing, empty or not messages, and "
        f"the thread's latest user message was the previous run's task; {INPUT}"
    )
    assert app.get_state(config).values == before
    assert {name: len(model.calls) for name, model in models.items()} == calls
    # The thread still takes its next task.
    state = app.invoke({"messages": [("user", "next")]}, config)
    assert state["final"] == case.final({"a": "A2", "b": "B2"})


# --- resuming --------------------------------------------------------------------------


def _waiting(case: PatternCase) -> tuple[Graph, RunnableConfig, str]:
    app, _, config = _team(case, ["B"], approval="after")
    info = drive(app, {"messages": [("user", "task")]}, config)
    assert info.status == "waiting for approval"
    return app, config, info.interrupts[0].id


@pytest.mark.parametrize(
    ("resume", "message"),
    [
        pytest.param(
            {},
            "the resume value is empty: give a decision such as {'action': 'approve'}, or "
            "{interrupt_id: decision} for the pending interrupts: ID",
            id="empty",
        ),
        pytest.param(
            {"bogus": {"action": "approve"}},
            "interrupt 'bogus' is not pending: it was already decided (the thread moved on) "
            "or never asked; pending: ID",
            id="unknown-id",
        ),
        pytest.param(
            {"action": "maybe"},
            "the decision for an approval (b) is invalid: action: Input should be 'approve', "
            "'reject', 'edit' or 'respond'",
            id="bad-action",
        ),
        pytest.param(
            {"action": "edit"},
            "the decision for an approval (b) is invalid: action 'edit' needs a non-empty "
            "'content'",
            id="edit-without-content",
        ),
    ],
)
def test_a_malformed_resume_says_what_is_wrong_and_changes_nothing(
    case: PatternCase, resume: dict[str, Any], message: str
) -> None:
    app, config, pending = _waiting(case)
    before = app.get_state(config)
    with pytest.raises(DecisionError) as caught:
        drive(app, Command(resume=resume), config)
    assert str(caught.value) == message.replace("ID", pending)
    after = app.get_state(config)
    assert (after.values, after.interrupts) == (before.values, before.interrupts)


def test_an_empty_command_is_refused(case: PatternCase) -> None:
    app, config, _ = _waiting(case)
    before = app.get_state(config)
    with pytest.raises(DecisionError, match=r"^Command\(\) carries nothing: give resume="):
        drive(app, Command(), config)
    assert app.get_state(config).interrupts == before.interrupts


def test_resuming_a_thread_that_does_not_exist_is_refused(case: PatternCase) -> None:
    app, _, _ = _team(case, [])
    config: RunnableConfig = {"configurable": {"thread_id": "nope"}}
    with pytest.raises(UnknownThreadError, match=r"^no thread 'nope' in the store"):
        drive(app, Command(resume={"action": "approve"}), config)
    assert app.get_state(config).values == {}


def test_resuming_a_finished_thread_is_refused(case: PatternCase) -> None:
    app, config, _ = _waiting(case)
    drive(app, Command(resume={"action": "approve"}), config)
    before = app.get_state(config).values
    with pytest.raises(DecisionError) as caught:
        drive(app, Command(resume={"action": "approve"}), config)
    assert str(caught.value) == (
        f"thread '{config['configurable']['thread_id']}' waits for no decision (done, "
        f"{before['stop_reason']}): nothing to resume (a decision may already have been "
        "applied)"
    )
    assert app.get_state(config).values == before


# --- build-time checks -----------------------------------------------------------------


PRICE = "ModelPrice {} must be a finite number >= 0 (US dollars per million tokens), got {}"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((-1, -1), PRICE.format("input_per_mtok", "-1")),
        ((math.nan, 1), PRICE.format("input_per_mtok", "nan")),
        ((1, math.inf), PRICE.format("output_per_mtok", "inf")),
        (("a", "b"), PRICE.format("input_per_mtok", "'a'")),
        ((True, 1), PRICE.format("input_per_mtok", "True")),
    ],
)
def test_model_price_refuses_what_is_not_a_price(args: tuple[Any, Any], message: str) -> None:
    with pytest.raises(TeamConfigError) as caught:
        ModelPrice(*args)
    assert str(caught.value) == message


def _not_empty(text: str) -> bool:
    return bool(text)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"validators": {"a": 5}},
            "Validators for agent 'a' must be a callable str -> object or a list of them, got 5",
        ),
        (
            {"validators": [_not_empty]},
            "validators must be a mapping {agent name: validator or list of validators}, got list",
        ),
        (
            {"prices": [ModelPrice(1, 1)]},
            "prices must be a mapping {model name: ModelPrice(input_per_mtok, "
            "output_per_mtok)}, got list",
        ),
    ],
)
def test_malformed_factory_arguments_are_team_config_errors(
    case: PatternCase, options: dict[str, Any], message: str
) -> None:
    agents = [Agent("a", model=ScriptedModel([])), Agent("b", model=ScriptedModel([]))]
    with pytest.raises(TeamConfigError) as caught:
        case.build(agents, **options)
    assert str(caught.value) == message


def test_a_retry_policy_without_attempts_is_refused() -> None:
    with pytest.raises(TeamConfigError) as caught:
        Agent("a", model=ScriptedModel([]), retry=RetryPolicy(max_attempts=0))
    assert str(caught.value) == (
        "Agent 'a' retry=RetryPolicy(max_attempts=0): max_attempts must be a whole number "
        ">= 1 (1: no retry)"
    )


def test_the_transcript_reducer_drops_a_write_that_is_not_messages() -> None:
    kept = [HumanMessage("task", id="1")]
    assert add_transcript(kept, 5) is kept  # type: ignore[arg-type]
    assert add_transcript(kept, [("user", "more"), 42]) is kept  # type: ignore[list-item]
    assert add_transcript(kept, None) is kept  # type: ignore[arg-type]
    merged = add_transcript(kept, [("user", "more")])
    assert [(m.type, m.text) for m in merged] == [("human", "task"), ("human", "more")]


# --- records the library writes --------------------------------------------------------

USAGE = {"calls": 1, "input_tokens": 10, "output_tokens": 5, "latency_s": 0.1, "cost_usd": 0.0}
FORGED = {
    "audit": [{"id": "x", "ts": "t", "kind": "approval", "agent": "b", "detail": {}}],
    "usage": {"a": {**USAGE, "cost_usd": 0.0, "calls": 0}},
    "run_usage": {"a": USAGE},
    "exceptions": [
        {"id": "e", "ts": "t", "agent": "a", "error": "e", "error_type": "E", "input": "",
         "status": "open"}
    ],
}  # fmt: skip


@pytest.mark.parametrize(
    "record",
    [
        "forged",
        {"id": "1", "ts": "now", "kind": "turn", "agent": "a"},
        {"id": "", "ts": "now", "kind": "turn", "agent": "a", "detail": {}},
        {"id": "1", "ts": "now", "kind": "bribe", "agent": "a", "detail": {}},
        {"id": "1", "ts": "now", "kind": "turn", "agent": 5, "detail": {}},
    ],
)
def test_the_audit_reducer_drops_a_malformed_record(record: Any) -> None:
    kept = [audit_record("turn", "a")]
    assert add_audit(kept, [record]) == kept
    good = audit_record("termination", None, reason="completed")
    assert add_audit(kept, [record, good]) == [*kept, good]


@pytest.mark.parametrize(
    "record",
    [
        {"id": "1"},
        {"id": "1", "ts": "t", "agent": "a", "error": "e", "error_type": "E", "input": "",
         "status": "forgiven"},
        {"id": "1", "ts": "t", "agent": "a", "error": "e", "error_type": "E", "input": 3,
         "status": "open"},
    ],
)  # fmt: skip
def test_the_exception_reducer_drops_a_malformed_record(record: Any) -> None:
    assert add_exceptions([], record) == []
    assert add_exceptions([], [record, FORGED["exceptions"][0]]) == FORGED["exceptions"]


@pytest.mark.parametrize(
    "usage",
    [
        {**USAGE, "cost_usd": -5.0},
        {**USAGE, "input_tokens": -1},
        {**USAGE, "cost_usd": math.nan},
        {**USAGE, "calls": True},
        {"calls": 1},
        "lots",
    ],
)
def test_the_usage_reducer_drops_malformed_or_negative_usage(usage: Any) -> None:
    assert add_usage({"a": USAGE}, {"a": usage, "b": USAGE}) == {"a": USAGE, "b": USAGE}
    assert add_usage({"a": USAGE}, usage if isinstance(usage, str) else None) == {"a": USAGE}


def test_input_cannot_write_the_librarys_records(case: PatternCase) -> None:
    app, _, config = _team(case, ["B"])
    state = app.invoke({"messages": [("user", "task")], **FORGED}, config)
    assert "x" not in [r["id"] for r in state["audit"]]
    assert state["exceptions"] == []
    assert state["usage"]["a"]["calls"] == 1
    assert state["run_usage"]["a"]["calls"] == 1
    schema = app.get_input_jsonschema()["properties"]
    assert "messages" in schema
    assert not set(LIBRARY_RECORDS) & set(schema)


def test_a_custom_schemas_own_keys_are_still_input(case: PatternCase) -> None:
    schema = TypedDict("Custom", {**case.state.__annotations__, "ticket": NotRequired[str]})  # type: ignore[misc]
    models = {"a": ScriptedModel(["A"]), "b": ScriptedModel(["B"])}
    agents = [Agent(name, model=model) for name, model in models.items()]
    app = case.build(agents, state_schema=schema).compile(checkpointer=InMemorySaver())
    config: RunnableConfig = {"configurable": {"thread_id": "t"}}
    state = app.invoke({"messages": [("user", "task")], "ticket": "T-1", **FORGED}, config)
    assert (state["ticket"], state["exceptions"]) == ("T-1", [])


def test_a_forged_update_is_dropped(case: PatternCase) -> None:
    app, config, _ = _waiting(case)
    forged = {"usage": {"a": {**USAGE, "cost_usd": -100.0}}, "audit": ["junk"]}
    state = app.invoke(Command(resume={"action": "approve"}, update=forged), config)
    assert state["final"] == case.final({"a": "A", "b": "B"})
    assert all(u["cost_usd"] >= 0 for u in state["usage"].values())
    assert "junk" not in state["audit"]


@pytest.mark.parametrize("key", LIBRARY_RECORDS)
def test_drive_refuses_input_that_writes_the_librarys_records(case: PatternCase, key: str) -> None:
    app, config, _ = _waiting(case)
    before = app.get_state(config)
    message = (
        f"The input writes ['{key}']: audit, exceptions, usage, run_usage are written by the "
        "library only; leave them out"
    )
    with pytest.raises(InputError) as caught:
        drive(app, Command(resume={"action": "approve"}, update={key: FORGED[key]}), config)
    assert str(caught.value) == message
    with pytest.raises(InputError) as caught:
        drive(app, {"messages": [("user", "more")], key: FORGED[key]}, config)
    assert str(caught.value) == message
    after = app.get_state(config)
    assert (after.values, after.interrupts) == (before.values, before.interrupts)


# --- human input is checked like model output ------------------------------------------


def no_secrets(text: str) -> str | None:
    """Refuses a text that mentions a password."""
    return "it mentions a password" if "password" in text else None


REFUSED = "Human content for agent 'b' refused by validator 'no_secrets': it mentions a password"


def _gated(case: PatternCase, script: list[Any], **options: Any) -> tuple[Graph, RunnableConfig]:
    models = {"a": ScriptedModel(["A"]), "b": ScriptedModel(script)}
    agents = [
        Agent("a", model=models["a"]),
        Agent("b", model=models["b"], approval="after", on_error="escalate"),
    ]
    graph = case.build(agents, validators={"b": no_secrets}, **options)
    app = graph.compile(checkpointer=InMemorySaver())
    config: RunnableConfig = {"configurable": {"thread_id": str(uuid.uuid4())}}
    app.invoke({"messages": [("user", "task")]}, config)
    return app, config


@pytest.mark.parametrize("action", ["edit", "respond"])
def test_a_reviewers_content_is_validated_and_a_refusal_keeps_the_gate_open(
    case: PatternCase, action: str
) -> None:
    app, config = _gated(case, ["B", "B2"])
    before = app.get_state(config)
    with pytest.raises(ValidationError, match=REFUSED):
        app.invoke(Command(resume={"action": action, "content": "the password is 1"}), config)
    after = app.get_state(config)
    assert (after.values, after.interrupts) == (before.values, before.interrupts)
    with pytest.raises(DecisionError) as caught:
        drive(app, Command(resume={"action": action, "content": "password!"}), config)
    assert str(caught.value) == f"the decision was refused: {REFUSED}; correct it and decide again"
    state = app.invoke(Command(resume={"action": action, "content": "fine"}), config)
    if action == "respond":  # the agent answers the reviewer, then is reviewed again
        state = app.invoke(Command(resume={"action": "approve"}), config)
    assert state["stop_reason"] == case.stop_reason


def test_supplied_content_is_validated(case: PatternCase) -> None:
    app, config = _gated(case, ["the password is 1"])
    assert app.get_state(config).interrupts[0].value["type"] == "exception"
    with pytest.raises(ValidationError, match=REFUSED):
        app.invoke(Command(resume={"action": "supply", "content": "password"}), config)
    assert app.get_state(config).interrupts[0].value["type"] == "exception"
    state = app.invoke(Command(resume={"action": "supply", "content": "B"}), config)
    assert state["final"] == case.final({"a": "A", "b": "B"})


def test_trusted_reviewers_are_not_validated(case: PatternCase) -> None:
    app, config = _gated(case, ["B"], validate_human=False)
    state = app.invoke(Command(resume={"action": "edit", "content": "password"}), config)
    assert state["final"] == case.final({"a": "A", "b": "password"})


def test_validate_human_must_be_a_flag(case: PatternCase) -> None:
    agents = [Agent("a", model=ScriptedModel([])), Agent("b", model=ScriptedModel([]))]
    with pytest.raises(TeamConfigError, match=r"^validate_human must be True or False, got 1$"):
        case.build(agents, validate_human=1)


def test_a_human_seats_message_is_validated_by_its_names_validators() -> None:
    model = ScriptedModel(["A"])
    app = create_group_chat(
        [Agent("a", model=model)],
        human="ana",
        max_rounds=2,
        validators={"ana": no_secrets},
    ).compile(checkpointer=InMemorySaver())
    config: RunnableConfig = {"configurable": {"thread_id": "seat"}}
    app.invoke({"messages": [("user", "task")]}, config)
    with pytest.raises(ValidationError) as caught:
        app.invoke(Command(resume={"content": "my password"}), config)
    assert REFUSED.replace("'b'", "'ana'") in str(caught.value)
    assert app.get_state(config).interrupts[0].value["type"] == "human_turn"
    state = app.invoke(Command(resume={"content": "hello"}), config)
    assert state["messages"][-1].text == "hello"


# --- prompts stay bounded --------------------------------------------------------------


@pytest.mark.parametrize(
    ("context", "rounds"), [("last", 200), (Window(2), 30), (TokenBudget(60), 30)]
)
def test_prompt_size_stays_flat_over_200_rounds_of_revisions_and_answers(
    case: PatternCase, context: Any, rounds: int
) -> None:
    models = {"a": ScriptedModel(["A"]), "b": ScriptedModel([f"B{i}" for i in range(rounds + 1)])}
    agents = [
        Agent("a", model=models["a"]),
        Agent("b", model=models["b"], approval="after", context=context),
    ]
    app = case.build(agents, max_revisions=rounds).compile(checkpointer=InMemorySaver())
    config: RunnableConfig = {"configurable": {"thread_id": "long"}}
    app.invoke({"messages": [("user", "task")]}, config)
    for i in range(rounds):
        decision = (
            {"action": "reject", "feedback": f"again {i}"}
            if i % 2
            else {"action": "respond", "content": f"answer {i}"}
        )
        app.invoke(Command(resume=decision), config)
    state = app.invoke(Command(resume={"action": "approve"}), config)
    assert state["final"] == case.final({"a": "A", "b": f"B{rounds}"})
    sizes = [len(call) for call in models["b"].calls]
    assert len(sizes) == rounds + 1
    # The prompt reaches its bound within a few rounds and never grows past it.
    assert max(sizes) == max(sizes[:6]) <= 10
    assert len(set(sizes[rounds // 2 :])) <= 2  # a revision and an answer may differ by one


@pytest.mark.parametrize("max_retries", [0, 2])
def test_escalation_retries_are_bounded(case: PatternCase, max_retries: int) -> None:
    failures = [ValueError(f"down {i}") for i in range(max_retries + 1)]
    models = {"a": ScriptedModel(["A"]), "b": ScriptedModel(failures)}
    agents = [Agent("a", model=models["a"]), Agent("b", model=models["b"], on_error="escalate")]
    app = case.build(agents, max_retries=max_retries).compile(checkpointer=InMemorySaver())
    config: RunnableConfig = {"configurable": {"thread_id": "flaky"}}
    state = app.invoke({"messages": [("user", "task")]}, config)
    for _ in range(max_retries):
        assert state["__interrupt__"][0].value["type"] == "exception"
        state = app.invoke(Command(resume={"action": "retry"}), config)
    assert "__interrupt__" not in state
    assert state["stop_reason"] == "max_retries"
    assert state["final"] == case.final({"a": "A"})
    statuses = [e["status"] for e in state["exceptions"]]
    assert statuses == [*["retried"] * max_retries, "aborted"]
    assert state["exceptions"][-1]["resolution"] == {
        "action": "abort",
        "reason": "max_retries",
        "retries": max_retries,
    }
    models["b"].assert_complete()


def test_max_retries_must_be_a_whole_number(case: PatternCase) -> None:
    agents = [Agent("a", model=ScriptedModel([])), Agent("b", model=ScriptedModel([]))]
    with pytest.raises(TeamConfigError, match=r"^max_retries must be a whole number >= 0, got -1$"):
        case.build(agents, max_retries=-1)
