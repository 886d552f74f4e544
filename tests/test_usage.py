"""Honest usage: unknown usage is recorded and shown as unknown, unpriced cost as unpriced."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from langgraph.checkpoint.memory import InMemorySaver
from rich.console import Console

from langgraph_orchestra import Agent, CostBudget, SpecError, TokenBudget, create_sequential
from langgraph_orchestra.cli.rendering import one_line_usage, usage_table
from langgraph_orchestra.spec import parse_spec
from langgraph_orchestra.state import Usage
from langgraph_orchestra.testing import ScriptedModel
from langgraph_orchestra.threads import read_thread, usage_rows
from langgraph_orchestra.tracing import ModelPrice


def _usage(calls: int, tokens_in: int, tokens_out: int, cost: float, **extra: Any) -> Usage:
    record: Any = {
        "calls": calls,
        "input_tokens": tokens_in,
        "output_tokens": tokens_out,
        "latency_s": 0.5,
        "cost_usd": cost,
        **extra,
    }
    return record  # type: ignore[no-any-return]


def _rendered(table: Any) -> str:
    console = Console(width=200, record=True, color_system=None)
    console.print(table)
    return console.export_text()


def _cells(text: str) -> dict[str, list[str]]:
    return {
        cells[1].strip(): [c.strip() for c in cells[2:-1]]
        for line in text.splitlines()
        if len(cells := line.split("│")) > 3
    }


def test_rows_show_known_partial_unknown_and_unpriced_and_the_total_agrees() -> None:
    rows = usage_rows(
        {
            "known": _usage(2, 100, 20, 0.0012),
            "partly": _usage(3, 50, 10, 0.0003, unknown_usage_calls=1),
            "silent": _usage(1, 0, 0, 0.0, unknown_usage_calls=1),
            "local": _usage(2, 40, 8, 0.0, unpriced_calls=2, unpriced_models=["llama3.1"]),
        }
    )
    shown = {
        r.participant: (r.tokens(r.input_tokens), r.tokens(r.output_tokens), r.cost) for r in rows
    }
    assert shown == {
        "known": ("100", "20", "$0.0012"),
        "partly": ("≥ 50", "≥ 10", "≥ $0.0003"),
        "silent": ("unknown", "unknown", "unknown"),
        "local": ("40", "8", "unpriced"),
        "total": ("≥ 190", "≥ 38", "≥ $0.0015"),
    }
    total = rows[-1]
    assert (total.calls, total.unknown_usage_calls, total.unpriced_calls) == (8, 2, 2)
    assert total.unpriced_models == ("llama3.1",)
    assert not total.tokens_known and not total.cost_known


def test_rows_of_fully_known_usage_are_exact() -> None:
    [row, total] = usage_rows({"a": _usage(1, 10, 5, 0.25)})
    assert (row.cost, total.cost, total.tokens(15)) == ("$0.2500", "$0.2500", "15")
    assert row.tokens_known and row.cost_known


def _team(*models: ScriptedModel, prices: dict[str, ModelPrice] | None = None) -> Any:
    agents = [Agent(f"agent{i}", model=m) for i, m in enumerate(models, start=1)]
    return create_sequential(agents, prices=prices).compile(checkpointer=InMemorySaver())


def test_a_streamed_reply_without_usage_is_recorded_and_shown_as_unknown() -> None:
    silent = ScriptedModel(["first answer"], usage=False, model_name="gpt-4o-mini")
    metered = ScriptedModel(["second answer"])
    team = _team(silent, metered)
    config: Any = {"configurable": {"thread_id": "t1"}}

    chunks = list(team.stream({"messages": [("user", "go")]}, config, stream_mode="messages"))

    assert any(meta["langgraph_node"] == "agent1" for _, meta in chunks)  # tokens streamed
    state = team.get_state(config).values
    assert state["usage"]["agent1"] == {
        "calls": 1,
        "input_tokens": 0,
        "output_tokens": 0,
        "latency_s": pytest.approx(state["usage"]["agent1"]["latency_s"]),
        "cost_usd": 0.0,
        "unknown_usage_calls": 1,
    }
    assert "unknown_usage_calls" not in state["usage"]["agent2"]
    assert state["usage"]["agent2"]["input_tokens"] > 0
    assert [r["detail"].get("tokens") for r in state["audit"][:2]] == [
        None,
        state["usage"]["agent2"]["input_tokens"] + state["usage"]["agent2"]["output_tokens"],
    ]

    info = read_thread(team.checkpointer, "t1")
    text = _rendered(usage_table(info))
    cells = _cells(text)
    assert cells["agent1"][1:3] == ["unknown", "unknown"]
    assert cells["agent1"][4] == "unknown"
    tokens = state["usage"]["agent2"]["input_tokens"]
    assert cells["total"][1] == f"≥ {tokens}"
    assert "usage unknown for 1 call: the reply carried no token usage" in text
    assert (cells["agent2"][4], cells["total"][4]) == ("$0.0000", "≥ $0.0000")  # scripted: free
    assert one_line_usage(info).startswith("2 model calls · ≥ ")


def test_an_unpriced_model_shows_as_unpriced_until_given_a_price() -> None:
    local = ScriptedModel(["answer"], model_name="llama3.1")
    team = _team(local)
    team.invoke({"messages": [("user", "go")]}, {"configurable": {"thread_id": "t"}})
    info = read_thread(team.checkpointer, "t")
    text = _rendered(usage_table(info))
    assert _cells(text)["agent1"][4] == _cells(text)["total"][4] == "unpriced"
    assert "unpriced: llama3.1: give a price with --price MODEL=IN/OUT" in text

    priced = _team(
        ScriptedModel(["answer"], model_name="llama3.1"),
        prices={"llama3.1": ModelPrice(1_000_000.0, 0.0)},
    )
    priced.invoke({"messages": [("user", "go")]}, {"configurable": {"thread_id": "t"}})
    usage = priced.get_state({"configurable": {"thread_id": "t"}}).values["usage"]["agent1"]
    assert "unpriced_calls" not in usage
    assert usage["cost_usd"] == pytest.approx(usage["input_tokens"])  # $1 per input token
    info = read_thread(priced.checkpointer, "t")
    assert _cells(_rendered(usage_table(info)))["total"][4] == f"${usage['cost_usd']:.4f}"


def test_budgets_count_known_usage_only() -> None:
    state: Any = {
        "run_usage": {
            "a": _usage(1, 0, 0, 0.0, unknown_usage_calls=1),
            "b": _usage(1, 40, 10, 0.5, unpriced_calls=1, unpriced_models=["m"]),
        }
    }
    assert TokenBudget(50)(state) == "budget"
    assert TokenBudget(51)(state) is None
    assert CostBudget(0.5)(state) == "budget"
    assert CostBudget(0.51)(state) is None


def test_scripted_model_without_usage_still_reports_its_model_name() -> None:
    model = ScriptedModel(["hi", "again"], usage=False, model_name="m")
    reply = model.invoke("x")
    assert reply.usage_metadata is None and reply.response_metadata["model_name"] == "m"
    streamed = list(model.stream("x"))
    assert all(chunk.usage_metadata is None for chunk in streamed)
    model.assert_complete()


# --- prices in a team file and on the command line ----------------------------------------------

TEAM = """\
pattern: sequential
{prices}agents:
  - name: writer
    approval: after
    model: {{scripted: [a draft]}}
  - name: editor
    model: {{scripted: [the edit]}}
"""


def _cli(*args: str) -> Any:
    from typer.testing import CliRunner

    from langgraph_orchestra.cli import app

    return CliRunner().invoke(app, list(args))


def _shown(thread: str) -> dict[str, Any]:
    result = _cli("show", thread, "--json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ORCHESTRA_STORE", raising=False)
    return tmp_path


def _thread(output: str) -> str:
    return next(
        line.split()[2]
        for line in output.splitlines()
        if line.strip().startswith("orchestra resume")
    )


@pytest.mark.usefixtures("workdir")
def test_a_price_on_the_command_line_counts_in_run_and_resume() -> None:
    Path("team.yaml").write_text(TEAM.format(prices=""))
    # "scripted" is priced at 0 by default: $1 per input token instead.
    result = _cli("run", "team.yaml", "-i", "go", "--price", "scripted=1000000/0")
    assert result.exit_code == 3, result.output
    thread = _thread(result.stdout)
    assert _shown(thread)["prices"] == "scripted=1000000/0"

    resumed = _cli("resume", thread, "--approve")  # the run's prices are kept
    assert resumed.exit_code == 0, resumed.output
    usage = _shown(thread)["usage"]
    for name in ("writer", "editor"):
        assert usage[name]["cost_usd"] == pytest.approx(usage[name]["input_tokens"])
    total = sum(u["input_tokens"] for u in usage.values())
    shown = _cli("show", thread, "--usage")
    assert _cells(shown.stdout)["total"][4] == f"${total:.4f}"


@pytest.mark.usefixtures("workdir")
def test_prices_in_the_team_file() -> None:
    prices = "prices:\n  scripted: {input: 1000000, output: 0}\n"
    Path("team.yaml").write_text(TEAM.format(prices=prices).replace("    approval: after\n", ""))
    result = _cli("run", "team.yaml", "-i", "go")
    assert result.exit_code == 0, result.output
    thread = result.stdout.rsplit("thread ", 1)[1].split()[0]
    usage = _shown(thread)["usage"]
    assert usage["writer"]["input_tokens"] > 0
    assert usage["writer"]["cost_usd"] == pytest.approx(usage["writer"]["input_tokens"])


@pytest.mark.usefixtures("workdir")
@pytest.mark.parametrize(
    ("price", "message"),
    [
        ("llama3.1", "error: --price: price 'llama3.1' is not of the form MODEL=IN/OUT"),
        ("llama3.1=0.2", "error: --price: price 'llama3.1=0.2' is not of the form MODEL=IN/OUT"),
        ("=1/2", "error: --price: price '=1/2' is not of the form MODEL=IN/OUT"),
        ("m=a/1", "error: --price: price 'm=a/1': IN and OUT must be numbers"),
        ("m=-1/1", "error: --price: price 'm=-1/1': ModelPrice input_per_mtok must be"),
        ("m=nan/1", "error: --price: price 'm=nan/1': ModelPrice input_per_mtok must be"),
    ],
)
def test_a_malformed_price_is_one_clear_error(price: str, message: str) -> None:
    Path("team.yaml").write_text(TEAM.format(prices=""))
    result = _cli("run", "team.yaml", "-i", "go", "--price", price)
    assert result.exit_code == 2
    assert message in result.output
    assert "hint: give --price MODEL=IN/OUT, e.g. llama3.1=0.2/0.6" in result.output


@pytest.mark.parametrize(
    ("prices", "message"),
    [
        ("[1, 2]", "prices: expected a mapping {model name: {input: IN, output: OUT}}"),
        ("{m: 0.2}", "prices: price of 'm': expected {model name: {input: IN, output: OUT}}"),
        ("{m: {input: 1}}", "prices: price of 'm': expected"),
        ("{m: {input: -1, output: 1}}", "prices: price of 'm': ModelPrice input_per_mtok must"),
    ],
)
def test_a_malformed_price_in_a_team_file_is_a_spec_error(prices: str, message: str) -> None:
    data = yaml.safe_load(TEAM.format(prices=f"prices: {prices}\n"))
    with pytest.raises(SpecError) as caught:
        parse_spec(data, source="team.yaml")
    assert message in str(caught.value)
