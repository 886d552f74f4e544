"""Teams inside teams in team files: `team: FILE.yaml` or an inline team as an agent."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from _views import audit_trail
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command
from typer.testing import CliRunner, Result

from langgraph_orchestra import aopen_checkpointer, open_checkpointer
from langgraph_orchestra.cli.app import app
from langgraph_orchestra.errors import SpecError
from langgraph_orchestra.nodes.turn import AgentNode
from langgraph_orchestra.spec import build_team, load_spec, validate_spec
from langgraph_orchestra.testing import ScriptedModel
from langgraph_orchestra.threads import aused_replies, used_replies

ROOT = Path(__file__).resolve().parent.parent
TASK = {"messages": [("user", "Write the launch note.")]}

PIPELINE = """
    pattern: sequential
    agents:
      - {name: writer, model: {scripted: [draft]}}
      - name: panel
        description: Reviews the draft
        team: teams/panel.yaml
      - {name: editor, model: {scripted: [final note]}}
"""
PANEL = """
    name: review-panel
    description: Legal and brand at once
    pattern: concurrent
    agents:
      - {name: legal, model: {scripted: [no legal issue]}}
      - name: brand
        approval: after
        model: {scripted: [say ship, say launch]}
"""


@pytest.fixture(autouse=True)
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test in a fresh folder (messages name files relative to it)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ORCHESTRA_STORE", raising=False)
    return tmp_path


def write(name: str, text: str) -> str:
    path = Path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return name


def problems(name: str) -> list[str]:
    with pytest.raises(SpecError) as caught:
        validate_spec(name)
    return caught.value.problems


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), terminal_width=200)


# -- reading -------------------------------------------------------------------------


def test_an_agent_made_of_a_team_file_reads_it_relative_to_the_including_file() -> None:
    write("teams/panel.yaml", PANEL)
    write("pipeline.yaml", PIPELINE)
    spec = load_spec("pipeline.yaml")
    panel = spec.agents[1]
    assert (panel.model, panel.description) == (None, "Reviews the draft")
    assert panel.team is not None
    assert (panel.team.name, panel.team.pattern) == ("review-panel", "concurrent")
    assert panel.team.source == Path("teams/panel.yaml").resolve()
    assert [a.name for a in panel.team.agents] == ["legal", "brand"]


def test_an_inline_team_is_named_after_its_agent_and_takes_the_top_level_model() -> None:
    write(
        "team.yaml",
        """
        pattern: sequential
        model: openai:gpt-4o-mini
        agents:
          - {name: writer}
          - name: polish
            team:
              pattern: maker_checker
              agents: [{name: maker}, {name: checker, model: 'anthropic:claude-sonnet-4-0'}]
          - name: named
            team: {name: own-name, pattern: sequential, agents: [{name: solo}]}
        """,
    )
    spec = load_spec("team.yaml")
    polish, named = spec.agents[1].team, spec.agents[2].team
    assert polish is not None and named is not None
    assert (polish.name, polish.model) == ("polish", "openai:gpt-4o-mini")
    assert [(a.name, a.model) for a in polish.agents] == [
        ("maker", "openai:gpt-4o-mini"),
        ("checker", "anthropic:claude-sonnet-4-0"),
    ]
    assert (named.name, named.agents[0].model) == ("own-name", "openai:gpt-4o-mini")
    assert spec.agents[1].model is None


def test_an_included_team_file_does_not_take_the_including_files_model() -> None:
    write("teams/solo.yaml", "pattern: sequential\nagents: [{name: solo}]\n")
    write(
        "team.yaml",
        "pattern: sequential\nmodel: openai:gpt-4o-mini\n"
        "agents: [{name: w}, {name: sub, team: teams/solo.yaml}]\n",
    )
    assert problems("team.yaml") == [
        "team.yaml: agents[1].team: teams/solo.yaml: agents[0].model: missing; give "
        "'provider:model' (e.g. 'openai:gpt-4o-mini') or {scripted: [replies]}, or a "
        "top-level model; or team: FILE.yaml for a whole team"
    ]


# -- problems ------------------------------------------------------------------------


def test_team_files_that_include_each_other_are_refused_with_the_chain() -> None:
    write("a.yaml", "pattern: sequential\nagents: [{name: to_b, team: sub/b.yaml}]\n")
    write("sub/b.yaml", "pattern: sequential\nagents: [{name: to_c, team: c.yaml}]\n")
    write("sub/c.yaml", "pattern: sequential\nagents: [{name: to_a, team: ../a.yaml}]\n")
    assert problems("a.yaml") == [
        "a.yaml: agents[0].team: sub/b.yaml: agents[0].team: sub/c.yaml: agents[0].team: "
        "the team files include each other: a.yaml includes sub/b.yaml includes sub/c.yaml "
        "includes a.yaml; a team cannot contain itself"
    ]
    write("self.yaml", "pattern: sequential\nagents: [{name: me, team: ./self.yaml}]\n")
    assert problems("self.yaml") == [
        "self.yaml: agents[0].team: the team files include each other: self.yaml includes "
        "self.yaml; a team cannot contain itself"
    ]


def test_a_missing_or_bad_included_file_is_reported_with_its_path_and_places() -> None:
    write(
        "teams/broken.yaml",
        """
        pattern: concurrent
        agents:
          - {name: legal}
          - {name: brand, model: {scripted: [x]}, approval: later}
        """,
    )
    write("teams/bad_yaml.yaml", "pattern: [sequential\n")
    write(
        "team.yaml",
        """
        pattern: sequential
        agents:
          - {name: gone, team: teams/missing.yaml}
          - {name: broken, team: teams/broken.yaml}
          - {name: unparsable, team: teams/bad_yaml.yaml}
          - {name: both, model: {scripted: [x]}, team: teams/broken.yaml}
          - {name: tooled, team: {pattern: sequential, agents: [{name: x}]}, instructions: hi}
          - {name: number, team: 3}
        """,
    )
    missing_model = (
        "missing; give 'provider:model' (e.g. 'openai:gpt-4o-mini') or {scripted: "
        "[replies]}, or a top-level model; or team: FILE.yaml for a whole team"
    )
    broken = [
        f"team.yaml: agents[{i}].team: teams/broken.yaml: agents[0].model: {missing_model}"
        for i in (1, 3)
    ]
    approval = (
        "teams/broken.yaml: agents[1].approval: 'later' is not allowed (did you mean "
        "'after'?); allowed: before, after, both"
    )
    assert problems("team.yaml") == [
        "team.yaml: agents[0].team: teams/missing.yaml: no such file",
        broken[0],
        f"team.yaml: agents[1].team: {approval}",
        "team.yaml: agents[2].team: teams/bad_yaml.yaml: line 2, column 1: invalid YAML: "
        "expected ',' or ']', but got '<stream end>'",
        "team.yaml: agents[3].model: an agent has a model or a team, not both; remove one",
        broken[1],
        f"team.yaml: agents[3].team: {approval}",
        f"team.yaml: agents[4].team.agents[0].model: {missing_model}",
        "team.yaml: agents[4].instructions: an agent made of a team has no instructions; "
        "give it to the team's agents",
        "team.yaml: agents[5].team: expected a team file's path (relative to this file) or "
        "a team mapping {pattern: ..., agents: [...]}, got 3",
    ]


def test_validate_lists_the_problems_of_an_included_file() -> None:
    write("teams/panel.yaml", PANEL.replace("approval: after", "approval: sometimes"))
    write("pipeline.yaml", PIPELINE)
    result = invoke("validate", "pipeline.yaml")
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        "error: pipeline.yaml: agents[1].team: teams/panel.yaml: agents[1].approval: "
        "'sometimes' is not allowed; allowed: before, after, both",
        "hint: fix the team file, then check it with: orchestra validate pipeline.yaml",
    ]


def test_the_pattern_of_an_included_team_checks_its_agents() -> None:
    write(
        "teams/pair.yaml",
        "pattern: maker_checker\nagents: [{name: solo, model: {scripted: [x]}}]\n",
    )
    write("team.yaml", "pattern: sequential\nagents: [{name: pair, team: teams/pair.yaml}]\n")
    assert problems("team.yaml") == [
        f"{Path('teams/pair.yaml').resolve()}: maker_checker: needs exactly two agents, the "
        "maker then the checker; got 1: solo"
    ]


# -- the CLI's summary and drawing ---------------------------------------------------


def test_validate_lists_the_nested_teams_agents() -> None:
    write("teams/panel.yaml", PANEL)
    write("pipeline.yaml", PIPELINE)
    result = invoke("validate", "pipeline.yaml")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == (
        "✓ pipeline.yaml: sequential team 'pipeline' with 3 agents: writer, panel "
        "(concurrent team 'review-panel' of legal, brand (approval after)), editor"
    )


def test_graph_draws_the_nested_team_inside_its_node() -> None:
    write("teams/panel.yaml", PANEL)
    write("pipeline.yaml", PIPELINE)
    result = invoke("graph", "pipeline.yaml")
    assert result.exit_code == 0, result.output
    drawing = result.output
    inside = drawing.split("subgraph panel", 1)[1].split("\tend", 1)[0]
    ids = re.findall(r"^\t(\S+?)\(", inside, flags=re.MULTILINE)
    assert ids == [
        "panel\\3afanout",
        "panel\\3alegal",
        "panel\\3abrand",
        "panel\\3aapprove_brand",
        "panel\\3aaggregate",
    ]
    assert "\twriter -.-> panel\\3afanout;" in drawing
    assert "\tpanel\\3aaggregate -.-> editor;" in drawing


# -- building and running -------------------------------------------------------------


def _paused_pipeline() -> tuple[Any, RunnableConfig]:
    write("teams/panel.yaml", PANEL)
    write("pipeline.yaml", PIPELINE)
    app = build_team(load_spec("pipeline.yaml")).compile(checkpointer=InMemorySaver())
    config: RunnableConfig = {"configurable": {"thread_id": "t"}}
    paused = app.invoke(TASK, config)
    [pending] = paused["__interrupt__"]
    assert (pending.value["agent"], pending.value["content"]) == ("brand", "say ship")
    return app, config


def test_a_nested_team_runs_as_its_agent_with_usage_and_audit_named_by_path() -> None:
    app, config = _paused_pipeline()
    result = app.invoke(Command(resume={"action": "reject", "feedback": "Say launch."}), config)
    [pending] = result["__interrupt__"]
    assert (pending.value["content"], pending.value["revision"]) == ("say launch", 1)
    result = app.invoke(Command(resume={"action": "approve"}), config)
    assert (result["final"], result["stop_reason"]) == ("final note", "completed")
    assert [m.text for m in result["messages"] if m.name == "panel"] == [
        "legal: no legal issue\n\nbrand: say launch"
    ]
    assert {k: u["calls"] for k, u in result["usage"].items()} == {
        "writer": 1,
        "panel/legal": 1,
        "panel/brand": 2,
        "editor": 1,
    }
    trail = audit_trail(result)
    assert trail[0] == ("turn", "writer")
    assert ("approval", "panel/brand") in trail
    assert trail[-3:] == [("turn", "panel"), ("turn", "editor"), ("termination", None)]


def test_used_replies_count_a_paused_nested_team_by_path() -> None:
    write("teams/panel.yaml", PANEL)
    write("pipeline.yaml", PIPELINE)
    with open_checkpointer("sqlite:///state.db") as saver:
        app = build_team(load_spec("pipeline.yaml")).compile(checkpointer=saver)
        app.invoke(TASK, {"configurable": {"thread_id": "t"}})
        assert used_replies(saver, "t") == {"writer": 1, "panel/legal": 1, "panel/brand": 1}


async def test_used_replies_from_an_async_store_count_a_paused_nested_team() -> None:
    write("teams/panel.yaml", PANEL)
    write("pipeline.yaml", PIPELINE)
    async with aopen_checkpointer("sqlite:///state.db") as saver:
        app = build_team(load_spec("pipeline.yaml")).compile(checkpointer=saver)
        await app.ainvoke(TASK, {"configurable": {"thread_id": "t"}})
        used = await aused_replies(saver, "t")
    assert used == {"writer": 1, "panel/legal": 1, "panel/brand": 1}


def test_three_levels_resume_in_a_fresh_process_where_the_scripts_stopped() -> None:
    write(
        "top.yaml",
        "pattern: sequential\nagents:\n"
        "  - {name: first, model: {scripted: [one]}}\n"
        "  - {name: mid, team: teams/mid.yaml}\n",
    )
    write(
        "teams/mid.yaml",
        "pattern: sequential\nagents:\n"
        "  - {name: prep, model: {scripted: [prepared]}}\n"
        "  - {name: deep, team: {pattern: sequential, agents: [{name: gated, approval: after, "
        "model: {scripted: [rough, polished]}}]}}\n",
    )
    config: Any = {"configurable": {"thread_id": "deep"}}
    with open_checkpointer("sqlite:///state.db") as saver:
        app = build_team(load_spec("top.yaml")).compile(checkpointer=saver)
        [pending] = app.invoke(TASK, config)["__interrupt__"]
        assert (pending.value["agent"], pending.value["content"]) == ("gated", "rough")
        assert used_replies(saver, "deep") == {"first": 1, "mid/prep": 1, "mid/deep/gated": 1}
    script = textwrap.dedent(
        """
        import json
        from langgraph.types import Command
        from langgraph_orchestra import aopen_checkpointer, open_checkpointer
        from langgraph_orchestra.spec import build_team, load_spec
        from langgraph_orchestra.threads import aused_replies, used_replies

        config = {"configurable": {"thread_id": "deep"}}
        with open_checkpointer("sqlite:///state.db") as saver:
            team = build_team(load_spec("top.yaml"), consumed=used_replies(saver, "deep"))
            app = team.compile(checkpointer=saver)
            paused = app.invoke(Command(resume={"action": "reject", "feedback": "more"}), config)
        print(json.dumps([i.value["content"] for i in paused["__interrupt__"]]))
        """
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", script],
        capture_output=True,
        text=True,
        timeout=90,
        env=_child_env(),
        check=False,
    )
    assert done.returncode == 0, done.stderr
    # The revision is the script's next reply: the replies used before were not replayed.
    assert json.loads(done.stdout) == ["polished"]


def test_the_model_override_and_per_thread_scripts_apply_inside_nested_teams() -> None:
    write("teams/panel.yaml", PANEL.replace("approval: after", ""))
    write("pipeline.yaml", PIPELINE)
    spec = load_spec("pipeline.yaml")
    shared = ScriptedModel(["w", "x", "y", "the end"])
    app = build_team(spec, model_override=shared).compile(checkpointer=InMemorySaver())
    result = app.invoke(TASK, {"configurable": {"thread_id": "t"}})
    assert result["final"] == "the end"
    shared.assert_complete()  # the panel's two members called the override too

    app = build_team(spec, per_thread_scripts=True).compile(checkpointer=InMemorySaver())
    for thread in ("one", "two"):
        result = app.invoke(TASK, {"configurable": {"thread_id": thread}})
        assert result["final"] == "final note"
        assert result["usage"]["panel/legal"]["calls"] == 1


def test_a_team_lists_the_files_it_is_read_from() -> None:
    write("teams/panel.yaml", PANEL)
    write("teams/deep.yaml", "pattern: sequential\nagents: [{name: p, team: panel.yaml}]\n")
    write(
        "top.yaml",
        "pattern: sequential\nagents:\n  - {name: a, team: teams/deep.yaml}\n"
        "  - {name: b, team: {pattern: sequential, agents: [{name: c, team: teams/panel.yaml}]}}\n",
    )
    assert load_spec("top.yaml").files() == [
        Path("top.yaml").resolve(),
        Path("teams/deep.yaml").resolve(),
        Path("teams/panel.yaml").resolve(),
    ]


def test_the_spec_hash_covers_the_included_files() -> None:
    plain = write("plain.yaml", "pattern: sequential\nagents: [{name: w, model: openai:x}]\n")
    own = hashlib.sha256(Path(plain).read_bytes()).hexdigest()
    assert load_spec(plain).sha256 == own
    write("teams/panel.yaml", PANEL)
    write("pipeline.yaml", PIPELINE)
    before = load_spec("pipeline.yaml").sha256
    assert before != hashlib.sha256(Path("pipeline.yaml").read_bytes()).hexdigest()
    write("teams/panel.yaml", PANEL.replace("no legal issue", "a legal issue"))
    assert load_spec("pipeline.yaml").sha256 != before


# -- the CLI, in fresh processes -----------------------------------------------------


def _child_env() -> dict[str, str]:
    """A fresh process's environment: this checkout's code, no tracing (no network)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LANGSMITH_", "LANGCHAIN_"))}
    env.update(LANGSMITH_TRACING="false", PYTHONPATH=str(ROOT), COLUMNS="200")
    env.pop("ORCHESTRA_STORE", None)
    return env


def orchestra(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "langgraph_orchestra.cli", *args],
        env=_child_env(),
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def _thread(output: str) -> str:
    for line in output.splitlines():
        if line.strip().startswith("orchestra resume"):
            return shlex.split(line.strip())[2]
    raise AssertionError(f"no resume command in:\n{output}")


def test_a_gate_inside_a_nested_team_is_answered_by_orchestra_resume_in_new_processes() -> None:
    write("teams/panel.yaml", PANEL)
    write("pipeline.yaml", PIPELINE)
    first = orchestra("run", "pipeline.yaml", "-i", "Write the launch note.")
    assert first.returncode == 3, first.stderr
    thread = _thread(first.stdout)

    second = orchestra("resume", thread, "--reject", "Say launch, not ship.")
    assert second.returncode == 3, second.stderr
    shown = json.loads(orchestra("show", thread, "--json").stdout)
    [pending] = shown["interrupts"]
    assert (pending["agent"], pending["content"], pending["revision"]) == (
        "brand",
        "say launch",
        1,
    )

    third = orchestra("resume", thread, "--approve")
    assert third.returncode == 0, third.stderr
    shown = json.loads(orchestra("show", thread, "--json").stdout)
    assert (shown["status"], shown["final"]) == ("done", "final note")
    assert {k: u["calls"] for k, u in shown["usage"].items()} == {
        "writer": 1,
        "panel/legal": 1,
        "panel/brand": 2,
        "editor": 1,
    }
    approvals = [r for r in shown["audit"] if r["kind"] == "approval"]
    assert [(r["agent"], r["detail"]["action"]) for r in approvals] == [
        ("panel/brand", "reject"),
        ("panel/brand", "approve"),
    ]


def test_resume_refuses_when_an_included_file_changed() -> None:
    write("teams/panel.yaml", PANEL)
    write("pipeline.yaml", PIPELINE)
    first = invoke("run", "pipeline.yaml", "-i", "Write the launch note.")
    assert first.exit_code == 3, first.output
    thread = _thread(first.output)
    write("teams/panel.yaml", PANEL.replace("no legal issue", "a legal issue"))
    refused = invoke("resume", thread, "--approve")
    assert refused.exit_code == 2
    assert refused.output.startswith(
        f"error: team file {Path('pipeline.yaml').resolve()} or a file it includes changed "
        f"since thread '{thread}' started"
    )
    done = invoke("resume", thread, "--approve", "--allow-changed-spec")
    assert done.exit_code == 0, done.output


def test_orchestra_demo_nested_runs_the_example_offline() -> None:
    result = invoke("demo", "nested")
    assert result.exit_code == 0, result.output
    assert "review/legal approval: approve by" in result.output
    assert "run ended: completed" in result.output
    rows = re.findall(r"^│ (review/\w+|writer|editor) +│ +(\d+) │", result.output, re.MULTILINE)
    assert rows == [("writer", "1"), ("review/legal", "1"), ("review/brand", "1"), ("editor", "1")]


def test_the_readme_example_of_nested_team_files_is_valid() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Teams inside teams (in team files)", 1)[1]
    text = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    write("teams/launch_review.yaml", (ROOT / "examples/teams/launch_review.yaml").read_text())
    write("team.yaml", text)
    spec = validate_spec("team.yaml")
    assert [(a.name, a.team.pattern if a.team else None) for a in spec.agents] == [
        ("writer", None),
        ("review", "concurrent"),
        ("polish", "maker_checker"),
    ]


def test_used_replies_count_a_nested_members_recorded_failure() -> None:
    # A failure inside a nested team that has ended reaches the outer state only as an
    # `exception` audit record named by path: it used a scripted reply too.
    write(
        "team.yaml",
        """
        pattern: sequential
        agents:
          - name: inner
            team:
              pattern: sequential
              agents:
                - {name: flaky, on_error: continue, model: {scripted: [{error: boom}, late]}}
                - {name: steady, model: {scripted: [fine]}}
          - {name: last, approval: after, model: {scripted: [done]}}
        """,
    )
    with open_checkpointer("sqlite:///state.db") as saver:
        app = build_team(load_spec("team.yaml")).compile(checkpointer=saver)
        [pending] = app.invoke(TASK, {"configurable": {"thread_id": "t"}})["__interrupt__"]
        assert pending.value["agent"] == "last"
        assert used_replies(saver, "t") == {"inner/flaky": 1, "inner/steady": 1, "last": 1}


def test_the_including_files_prices_apply_inside_the_nested_team() -> None:
    write("teams/panel.yaml", PANEL.replace("approval: after", ""))
    write("pipeline.yaml", PIPELINE)
    unpriced = build_team(load_spec("pipeline.yaml")).compile(checkpointer=InMemorySaver())
    usage = unpriced.invoke(TASK, {"configurable": {"thread_id": "t"}})["usage"]
    assert usage["panel/legal"]["cost_usd"] == 0.0

    prices = "prices: {scripted: {input: 1000, output: 2000}}\n"
    write("pipeline.yaml", textwrap.dedent(PIPELINE) + prices)
    priced = build_team(load_spec("pipeline.yaml")).compile(checkpointer=InMemorySaver())
    usage = priced.invoke(TASK, {"configurable": {"thread_id": "t"}})["usage"]
    legal = usage["panel/legal"]
    expected = (legal["input_tokens"] * 1000 + legal["output_tokens"] * 2000) / 1_000_000
    assert legal["cost_usd"] == pytest.approx(expected)
    assert legal["cost_usd"] > 0


def test_used_replies_count_a_nested_members_turn_paused_at_a_tool_call() -> None:
    # The member's turn is a subgraph of the nested team's: its calls so far are counted
    # from there, by path.
    write(
        "team.yaml",
        """
        pattern: sequential
        agents:
          - {name: first, model: {scripted: [one]}}
          - name: desk
            team:
              pattern: sequential
              agents:
                - name: clerk
                  tools: [support_tools:lookup_order]
                  approve_tools: true
                  model:
                    scripted:
                      - content: checking
                        tool_calls: [{name: lookup_order, args: {order_id: A-1}}]
                      - content: again
                        tool_calls: [{name: lookup_order, args: {order_id: A-2}}]
                      - found it
        """,
    )
    Path("support_tools.py").write_text((ROOT / "examples/support_tools.py").read_text())
    config: RunnableConfig = {"configurable": {"thread_id": "t"}}
    with open_checkpointer("sqlite:///state.db") as saver:
        app = build_team(load_spec("team.yaml")).compile(checkpointer=saver)
        [pending] = app.invoke(TASK, config)["__interrupt__"]
        assert pending.value["type"] == "tool_approval"
        assert used_replies(saver, "t") == {"first": 1, "desk/clerk": 1}
        [pending] = app.invoke(Command(resume={"action": "approve"}), config)["__interrupt__"]
        assert pending.value["type"] == "tool_approval"
        assert used_replies(saver, "t") == {"first": 1, "desk/clerk": 2}


def test_an_option_agent_may_be_a_team() -> None:
    write(
        "team.yaml",
        """
        pattern: concurrent
        options:
          aggregator:
            name: judges
            team: {pattern: sequential, agents: [{name: j1, model: {scripted: [merged]}}]}
        agents:
          - {name: a, model: {scripted: [A]}}
          - {name: b, model: {scripted: [B]}}
        """,
    )
    spec = validate_spec("team.yaml")
    assert [(agent.name, role) for agent, role in spec.members()] == [
        ("a", None),
        ("b", None),
        ("judges", "aggregator"),
    ]
    app = build_team(spec).compile(checkpointer=InMemorySaver())
    result = app.invoke(TASK, {"configurable": {"thread_id": "t"}})
    assert result["final"] == "merged"
    assert sorted(result["usage"]) == ["a", "b", "judges/j1"]


def test_an_agent_made_of_a_team_takes_the_teams_description_unless_it_has_one() -> None:
    write("teams/panel.yaml", PANEL)
    write("pipeline.yaml", PIPELINE.replace("description: Reviews the draft", ""))
    graph = build_team(load_spec("pipeline.yaml"))
    [agent] = [a for a in _agents(graph) if a.name == "panel"]
    assert agent.description == "Legal and brand at once"
    write("pipeline.yaml", PIPELINE)
    [agent] = [a for a in _agents(build_team(load_spec("pipeline.yaml"))) if a.name == "panel"]
    assert agent.description == "Reviews the draft"


def _agents(graph: Any) -> list[Any]:
    """The agents of a pattern's graph (its agent nodes')."""
    return [
        n.runnable.route.agent for n in graph.nodes.values() if isinstance(n.runnable, AgentNode)
    ]
