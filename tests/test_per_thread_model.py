"""`PerThreadScriptedModel`: the example teams answer every thread and every task offline."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command

from langgraph_orchestra.errors import ScriptError, TeamConfigError
from langgraph_orchestra.spec import build_team, example_path, load_spec
from langgraph_orchestra.testing import PerThreadScriptedModel


def _chat(model: PerThreadScriptedModel) -> Any:
    """A one-node graph that asks `model` once per run."""

    def ask(state: MessagesState) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"])]}

    builder = StateGraph(MessagesState)
    builder.add_node("ask", ask)
    builder.add_edge(START, "ask")
    builder.add_edge("ask", END)
    return builder.compile(checkpointer=InMemorySaver())


def _reply(app: Any, thread: str) -> str:
    config: RunnableConfig = {"configurable": {"thread_id": thread}}
    result = app.invoke({"messages": [("user", "hi")]}, config)
    return str(result["messages"][-1].text)


def test_each_thread_replays_the_script_and_starts_over_at_its_end() -> None:
    app = _chat(PerThreadScriptedModel(["one", "two"], name="m"))
    assert [_reply(app, "t1"), _reply(app, "t2"), _reply(app, "t1")] == ["one", "one", "two"]
    assert [_reply(app, "t1"), _reply(app, "t2"), _reply(app, "t1")] == ["one", "two", "two"]


def test_outside_a_graph_calls_share_one_script_and_keep_no_log() -> None:
    model = PerThreadScriptedModel(["one", AIMessage("two")])
    assert [model.invoke("x").text for _ in range(3)] == ["one", "two", "one"]
    assert model.calls == []


async def test_async_calls_are_keyed_by_thread_too() -> None:
    model = PerThreadScriptedModel(["one", "two"])

    async def ask(state: MessagesState) -> dict[str, Any]:
        return {"messages": [await model.ainvoke(state["messages"])]}

    builder = StateGraph(MessagesState)
    builder.add_node("ask", ask)
    builder.add_edge(START, "ask")
    app = builder.compile(checkpointer=InMemorySaver())
    for thread, expected in [("a", "one"), ("b", "one"), ("a", "two")]:
        config: RunnableConfig = {"configurable": {"thread_id": thread}}
        result = await app.ainvoke({"messages": [("user", "hi")]}, config)
        assert result["messages"][-1].text == expected


def test_an_empty_script_is_an_error_naming_the_model() -> None:
    with pytest.raises(ScriptError, match="ScriptedModel 'm' has no scripted replies"):
        PerThreadScriptedModel([], name="m").invoke("hi")


def test_the_example_team_serves_many_threads_and_tasks() -> None:
    """Before: the second run failed with `ScriptedModel 'triage' got unexpected call #3`."""
    graph = build_team(load_spec(example_path("sequential")), per_thread_scripts=True)
    app = graph.compile(checkpointer=InMemorySaver())
    finals = []
    for thread in ["t1", "t2", "t1"]:
        config: RunnableConfig = {"configurable": {"thread_id": thread}}
        paused = app.invoke({"messages": [("user", "Where is my order A-1001?")]}, config)
        assert paused["__interrupt__"][0].value["agent"] == "writer"
        done = app.invoke(Command(resume={"action": "approve"}), config)
        assert done["stop_reason"] == "completed"
        finals.append(done["final"])
    assert finals[0] == finals[1] == finals[2]
    assert finals[0].startswith("Hi Sam, we're sorry your headphones haven't arrived.")


GRAPHS = Path(__file__).resolve().parent.parent / "examples" / "graphs.py"


def test_served_examples_refuse_a_base_url_without_a_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ORCHESTRA_MODEL", raising=False)
    monkeypatch.setenv("ORCHESTRA_BASE_URL", "http://127.0.0.1:11434/v1")
    with pytest.raises(
        TeamConfigError, match=r"ORCHESTRA_BASE_URL is set .* ORCHESTRA_MODEL is not"
    ):
        runpy.run_path(str(GRAPHS))


def test_served_examples_use_the_configured_real_model(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("langchain_openai", reason="the openai extra is not installed")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("ORCHESTRA_MODEL", "openai:llama3.1")
    monkeypatch.setenv("ORCHESTRA_BASE_URL", "http://127.0.0.1:11434/v1")
    module = runpy.run_path(str(GRAPHS))
    # Built (no key needed for a base URL), not run: no server is listening.
    assert isinstance(module["sequential"], CompiledStateGraph)
