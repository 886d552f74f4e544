"""The example teams: each validates, runs offline to its expected end, and is documented."""

from __future__ import annotations

import json
import runpy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from _views import audit_trail
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import StateGraph
from langgraph.types import Command

from langgraph_orchestra.spec import PATTERNS, build_team, examples_dir, validate_spec

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
TEAMS = sorted(EXAMPLES.glob("*.yaml"))


def test_examples_are_found_next_to_the_package() -> None:
    assert examples_dir() == EXAMPLES


def test_every_pattern_has_an_example() -> None:
    assert sorted(p.example for p in PATTERNS.values()) == [t.name for t in TEAMS]


@dataclass(frozen=True)
class Expected:
    """Where an example team pauses for approval (if it does) and how it ends."""

    pause: dict[str, Any] | None
    """The one approval request the run stops at; `None` if it runs through."""
    final: str
    """The answer (after the approval)."""
    audit: list[tuple[str, str | None]]
    """The audit trail as (kind, agent)."""
    calls: dict[str, int]
    """Model calls per participant."""
    stop_reason: str = "completed"
    """Why the run ends."""


SUPPORT_DRAFT = (
    "Hi Sam, sorry your headphones haven't reached you. Your order A-1001 is held at "
    "ParcelNow's Leeds depot because its label was damaged. We're sending a new pair today "
    "by express delivery, free of charge, and will email the tracking number. "
    "The Acme support team"
)
RELEASE_DECISION = (
    "GO, with conditions: (1) ship behind the checkout-v2 flag at 5% and ramp after 24 h "
    "clean; (2) rotate the staging API key before launch (security); (3) keep the rollback "
    "runbook owner on call Friday (reliability)."
)
LAUNCH_NOTE = (
    "Acme Sync 2.0 is available today on every plan. Work offline and your changes sync as "
    "soon as you reconnect; your files are encrypted end to end; and sync is 40% faster than "
    "in 1.x. READY TO PUBLISH"
)
APPROVAL_ACTIONS = ["approve", "reject", "edit", "respond"]

EXPECTED = {
    "sequential": Expected(
        pause={
            "type": "approval",
            "agent": "writer",
            "when": "after",
            "content": SUPPORT_DRAFT,
            "actions": APPROVAL_ACTIONS,
            "revision": 0,
            "max_revisions": 2,
        },
        final=(
            "Hi Sam, we're sorry your headphones haven't arrived. Order A-1001 is held at "
            "ParcelNow's Leeds depot because its address label was damaged. We're sending a "
            "replacement today by express delivery, free of charge, and will email you the new "
            "tracking number. Thank you for your patience. - The Acme support team"
        ),
        audit=[
            ("turn", "triage"),
            ("turn", "writer"),
            ("approval", "writer"),
            ("turn", "editor"),
            ("termination", None),
        ],
        calls={"triage": 2, "writer": 1, "editor": 1},  # triage: a tool call, then its note
    ),
    "concurrent": Expected(
        pause={
            "type": "approval",
            "agent": "release_manager",
            "when": "after",
            "content": RELEASE_DECISION,
            "actions": APPROVAL_ACTIONS,
            "revision": 0,
            "max_revisions": 3,
        },
        final=RELEASE_DECISION,
        audit=[
            ("routing", None),
            ("turn", "security"),
            ("turn", "reliability"),
            ("turn", "product"),
            ("routing", None),
            ("turn", "release_manager"),
            ("approval", "release_manager"),
            ("termination", None),
        ],
        calls={"security": 1, "reliability": 1, "product": 1, "release_manager": 1},
    ),
    "group_chat": Expected(
        pause={
            "type": "approval",
            "agent": "editor",
            "when": "after",
            "content": LAUNCH_NOTE,
            "actions": APPROVAL_ACTIONS,
            "revision": 0,
            "max_revisions": 3,
        },
        final=LAUNCH_NOTE,  # the editor mentions READY TO PUBLISH: the termination
        audit=[
            ("routing", "manager"),
            ("turn", "writer"),
            ("routing", "manager"),
            ("turn", "critic"),
            ("routing", "manager"),
            ("turn", "writer"),
            ("routing", "manager"),
            ("turn", "editor"),
            ("approval", "editor"),
            ("termination", None),
        ],
        calls={"manager": 4, "writer": 2, "critic": 1, "editor": 1},
    ),
    "maker_checker": Expected(
        pause=None,
        final=(
            "- Fixed: folders no longer appear twice on Windows.\n"
            "- New: Acme Sync speaks Dutch and Polish.\n"
            "- Changed: macOS 11 is no longer supported; update to macOS 12 or later."
        ),
        audit=[
            ("routing", "manager"),
            ("turn", "writer"),
            ("routing", "manager"),
            ("turn", "checker"),  # revise
            ("routing", "manager"),
            ("turn", "writer"),
            ("routing", "manager"),
            ("turn", "checker"),  # approve
            ("termination", None),
        ],
        calls={"writer": 2, "checker": 2},
        stop_reason="approved",
    ),
}


def _run_to_the_end(graph: StateGraph[Any, Any, Any, Any], task: str, expected: Expected) -> None:
    """Run `graph` offline: it pauses where expected, then ends as expected once approved."""
    app = graph.compile(checkpointer=InMemorySaver())
    config: RunnableConfig = {"configurable": {"thread_id": "example"}}
    result = app.invoke({"messages": [("user", task)]}, config)
    pauses = [i.value for i in app.get_state(config).interrupts]
    assert pauses == ([expected.pause] if expected.pause is not None else [])

    if expected.pause is not None:
        result = app.invoke(Command(resume={"action": "approve", "reviewer": "test"}), config)
    assert (result["final"], result["stop_reason"]) == (expected.final, expected.stop_reason)
    assert audit_trail(result) == expected.audit
    assert {name: u["calls"] for name, u in result["usage"].items()} == expected.calls
    after = app.get_state(config)
    assert (after.next, after.interrupts) == ((), ())


def test_every_example_has_its_expected_run() -> None:
    assert sorted(EXPECTED) == sorted(PATTERNS)


@pytest.mark.parametrize("team", TEAMS, ids=[t.stem for t in TEAMS])
def test_example_runs_offline_to_its_expected_end(team: Path) -> None:
    spec = validate_spec(team)
    assert spec.example_input, "an example needs an example_input for the demo"
    _run_to_the_end(build_team(spec), spec.example_input, EXPECTED[spec.pattern])


def test_examples_readme_has_a_paragraph_per_team() -> None:
    readme = (EXAMPLES / "README.md").read_text()
    for team in TEAMS:
        assert f"## `{team.name}`" in readme


def test_langgraph_json_serves_every_example(monkeypatch: pytest.MonkeyPatch) -> None:
    # The served graphs use their scripted replies unless a real model is configured.
    monkeypatch.delenv("ORCHESTRA_MODEL", raising=False)
    monkeypatch.delenv("ORCHESTRA_BASE_URL", raising=False)
    config = json.loads((ROOT / "langgraph.json").read_text())
    graphs = config["graphs"]
    assert sorted(graphs) == sorted(PATTERNS)
    module = runpy.run_path(str(EXAMPLES / "graphs.py"))
    for name, target in graphs.items():
        path, attr = target.split(":")
        assert (ROOT / path).resolve() == EXAMPLES / "graphs.py"
        assert attr == name
        graph = module[attr]
        assert isinstance(graph, StateGraph)
        # The served graph is the example team itself: same pause, same answer.
        task = validate_spec(EXAMPLES / PATTERNS[name].example).example_input
        assert task is not None
        _run_to_the_end(graph, task, EXPECTED[name])
