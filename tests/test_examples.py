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
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command

from langgraph_orchestra.nodes import (
    ApprovalDecision,
    PlanApprovalDecision,
    PlanReviewDecision,
    ToolApprovalDecision,
)
from langgraph_orchestra.spec import (
    PATTERNS,
    ScriptedSpec,
    TeamSpec,
    build_team,
    examples_dir,
    validate_spec,
)
from langgraph_orchestra.spec.build import FEATURE_EXAMPLES

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
TEAMS = sorted(EXAMPLES.glob("*.yaml"))
PATTERN_TEAMS = [t for t in TEAMS if t.name not in FEATURE_EXAMPLES.values()]
"""One example per pattern; the feature examples (records.yaml) have their own tests."""


def test_examples_are_found_next_to_the_package() -> None:
    assert examples_dir() == EXAMPLES


def test_every_pattern_has_an_example() -> None:
    assert sorted(p.example for p in PATTERNS.values()) == [t.name for t in PATTERN_TEAMS]
    assert all((EXAMPLES / name).is_file() for name in FEATURE_EXAMPLES.values())


@dataclass(frozen=True)
class Expected:
    """Where an example team pauses for approval (if it does) and how it ends."""

    pause: dict[str, Any] | None
    """The one approval request the run stops at (an output's or a tool call's); `None` if
    it runs through."""
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
REFUND_ARGS = {"order_id": "A-1002", "amount": 19.99, "reason": "duplicate charge"}
REFUND_REPLY = (
    "Hi Priya, sorry about the double charge. We've refunded the duplicate £19.99 for order "
    "A-1002 (refund RF-A-1002); it will reach your card in 3-5 working days. "
    "The Acme support team"
)

LISBON_PLAN = [
    {
        "id": "hiring",
        "agent": "researcher",
        "instruction": "Find how many experienced support agents with English and German are "
        "looking for work in Lisbon, and what they earn.",
        "depends_on": [],
    },
    {
        "id": "costs",
        "agent": "analyst",
        "instruction": "Work out the yearly cost of an office for 12 support agents in Lisbon, "
        "with rent, equipment and services.",
        "depends_on": [],
    },
    {
        "id": "recommendation",
        "agent": "writer",
        "instruction": "Recommend whether to open a 12-agent support hub in Lisbon next year, "
        "weighing the hiring market and the costs.",
        "depends_on": ["hiring", "costs"],
    },
]
"""The planner's plan in `planner_executor.yaml`: two independent steps, then one on both."""
STAFFING_LEDGER = {
    "facts_given": [
        "Last year's Black Friday week brought 4,200 tickets.",
        "An agent handles about 60 tickets a week.",
    ],
    "facts_to_look_up": ["How much ticket volume has grown since last year."],
    "facts_to_derive": ["This year's expected tickets, and the agents they need."],
    "educated_guesses": ["About 10% of the team is off sick in a peak week."],
    "plan": [
        "researcher finds this year's growth in ticket volume.",
        "analyst works out the tickets and the agents needed, with a buffer.",
    ],
}
LEGAL_NOTICE = (
    "The new prices apply from 1 July 2025. Your current price stays until your next renewal "
    "on or after that date. You can cancel at any time in Settings > Billing."
)

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
    "handoff": Expected(
        pause={  # billing's refund waits for a person's approval before it runs
            "type": "tool_approval",
            "agent": "billing",
            "tool": "issue_refund",
            "args": REFUND_ARGS,
            "tool_call_id": "call_billing_0_0",
            "actions": ["approve", "reject", "edit"],
        },
        final=REFUND_REPLY,
        audit=[
            ("routing", None),  # triage is in control at the thread's first run
            ("turn", "triage"),
            ("handoff", "triage"),  # to billing, with a RefundCase
            ("approval", "billing"),  # the refund, approved
            ("turn", "billing"),
            ("termination", None),
        ],
        calls={"triage": 1, "billing": 2},  # billing: the refund call, then its answer
    ),
    "magentic": Expected(
        pause={  # the manager's plan waits for a person's review before anyone works
            "type": "plan_review",
            "ledger": STAFFING_LEDGER,
            "revision": 0,
            "max_revisions": 3,
            "actions": ["approve", "edit", "reject"],
        },
        final=(
            "Plan for 97 support agents in the Black Friday week. Ticket volume is up 25% on "
            "last year, so expect about 5,250 tickets (4,200 x 1.25); at 60 tickets per agent "
            "that is 88 agents, plus a 10% buffer for sickness."
        ),
        audit=[
            ("plan", "manager"),  # the task ledger
            ("approval", "manager"),  # the plan, approved
            ("routing", "manager"),  # progress ledger: the researcher acts
            ("turn", "researcher"),
            ("routing", "manager"),  # the analyst acts
            ("turn", "analyst"),
            ("routing", "manager"),  # the request is satisfied
            ("routing", "manager"),  # the final answer
            ("termination", None),
        ],
        # the manager: a task ledger, three progress ledgers, the final answer
        calls={"manager": 5, "researcher": 1, "analyst": 1},
    ),
    "hierarchical": Expected(
        pause={  # legal's notice waits for a person's approval; pricing is done meanwhile
            "type": "approval",
            "agent": "legal",
            "when": "after",
            "content": LEGAL_NOTICE,
            "actions": APPROVAL_ACTIONS,
            "revision": 0,
            "max_revisions": 3,
        },
        final=(
            "Subject: Acme Sync prices from 1 July\nFrom 1 July, Acme Sync Personal costs $10 "
            "a month ($100 a year) and Team costs $18 per seat a month ($180 a year). Your "
            "price does not change before your next renewal on or after 1 July, and you can "
            "cancel at any time in Settings > Billing. Thank you for using Acme Sync. "
            "- The Acme team"
        ),
        audit=[
            ("routing", "manager"),  # delegated to pricing
            ("routing", "manager"),  # delegated to legal, in the same message
            ("routing", None),  # both dispatched at once
            ("turn", "legal"),
            ("approval", "legal"),
            ("turn", "pricing"),  # held while legal waited, returned with the results
            ("termination", None),
        ],
        calls={"manager": 2, "pricing": 1, "legal": 1},  # the manager: delegate, answer
    ),
    "network": Expected(
        pause=None,
        final=(
            "Launch Acme Sync 2.0 on 21 May. Engineering can ship from 14 May, which leaves a "
            "week of buffer, and marketing gets the two weeks' notice its customer emails need "
            "and keeps its press briefing slot that day."
        ),
        audit=[
            ("routing", None),  # the input goes to both
            ("routing", None),  # both dispatched at once
            ("turn", "engineering"),  # each sends the other a message
            ("turn", "marketing"),
            ("routing", None),  # both messages delivered at the round's end
            ("routing", None),  # both recipients dispatched at once
            ("turn", "engineering"),
            ("turn", "marketing"),  # finishes with the agreed date
            ("termination", None),
        ],
        calls={"engineering": 2, "marketing": 2},
        stop_reason="finished",
    ),
    "planner_executor": Expected(
        pause={  # the planner's plan waits for a person's approval before any step runs
            "type": "plan_approval",
            "plan": LISBON_PLAN,
            "revision": 0,
            "max_revisions": 3,
            "actions": ["approve", "edit", "reject"],
        },
        final=(
            "Open the Lisbon hub next year. About 1,900 English- and German-speaking support "
            "agents are looking for work there, at EUR 1,600-1,900 a month, and the office "
            "for 12 agents costs about EUR 140,000 a year, with rent, equipment and services."
        ),
        audit=[
            ("plan", "planner"),  # the plan
            ("approval", "planner"),  # the plan, approved
            ("routing", "planner"),  # a wave: hiring and costs, independent
            ("routing", None),  # both dispatched at once
            ("turn", "researcher"),
            ("turn", "analyst"),
            ("plan", "planner"),  # the wave's steps are done
            ("routing", "planner"),  # the next wave: the recommendation, which needs both
            ("routing", None),
            ("turn", "writer"),
            ("plan", "planner"),
            ("routing", "planner"),  # every step done: the editor writes the memo
            ("turn", "editor"),
            ("plan", "judge"),  # scored 0.9, above the threshold 0.7
            ("termination", None),
        ],
        calls={"planner": 1, "researcher": 1, "analyst": 1, "writer": 1, "editor": 1, "judge": 1},
    ),
}

DECISIONS: dict[
    str,
    type[ApprovalDecision | ToolApprovalDecision | PlanReviewDecision | PlanApprovalDecision],
] = {
    "approval": ApprovalDecision,
    "tool_approval": ToolApprovalDecision,
    "plan_review": PlanReviewDecision,
    "plan_approval": PlanApprovalDecision,
}
"""The decision that approves each kind of pause."""


def _run_to_the_end(graph: StateGraph[Any, Any, Any, Any], task: str, expected: Expected) -> None:
    """Run `graph` offline: it pauses where expected, then ends as expected once approved
    (an output, a tool call or a plan)."""
    app = graph.compile(checkpointer=InMemorySaver())
    config: RunnableConfig = {"configurable": {"thread_id": "example"}}
    result = app.invoke({"messages": [("user", task)]}, config)
    pauses = [i.value for i in app.get_state(config).interrupts]
    assert pauses == ([expected.pause] if expected.pause is not None else [])

    if expected.pause is not None:
        approve = DECISIONS[expected.pause["type"]](action="approve", reviewer="test")
        result = app.invoke(Command(resume=approve.model_dump(exclude_none=True)), config)
    assert (result["final"], result["stop_reason"]) == (expected.final, expected.stop_reason)
    assert audit_trail(result) == expected.audit
    assert {name: u["calls"] for name, u in result["usage"].items()} == expected.calls
    after = app.get_state(config)
    assert (after.next, after.interrupts) == ((), ())


def test_every_example_has_its_expected_run() -> None:
    assert sorted(EXPECTED) == sorted(PATTERNS)


def test_the_handoff_example_carries_a_typed_case_to_billing() -> None:
    spec = validate_spec(EXAMPLES / "handoff.yaml")
    assert spec.example_input is not None
    app = build_team(spec).compile(checkpointer=InMemorySaver())
    config: RunnableConfig = {"configurable": {"thread_id": "example"}}
    app.invoke({"messages": [("user", spec.example_input)]}, config)
    state = app.get_state(config).values
    case = {"order_id": "A-1002", "amount": 19.99, "reason": "charged twice for one order"}
    assert state["handoff"] == {"from": "triage", "to": "billing", "payload": case}
    assert state["active_agent"] == "billing"
    # A rejected refund does not run: billing reads the reason as the tool's result.
    reject = ToolApprovalDecision(action="reject", feedback="check the order first")
    app.invoke(Command(resume=reject.model_dump()), config)
    [refund] = [m for m in app.get_state(config).values["messages"] if m.name == "issue_refund"]
    assert "check the order first" in refund.text and "RF-A-1002" not in refund.text


@pytest.mark.parametrize("team", PATTERN_TEAMS, ids=[t.stem for t in PATTERN_TEAMS])
def test_example_runs_offline_to_its_expected_end(team: Path) -> None:
    spec = validate_spec(team)
    assert spec.example_input, "an example needs an example_input for the demo"
    _run_to_the_end(build_team(spec), spec.example_input, EXPECTED[spec.pattern])


def test_the_nested_example_runs_its_review_team_as_one_stage() -> None:
    spec = validate_spec(EXAMPLES / FEATURE_EXAMPLES["nested"])
    review = spec.agents[1].team
    assert isinstance(review, TeamSpec)  # the middle stage is a whole team
    assert (review.source, review.pattern) == (
        EXAMPLES / "teams" / "launch_review.yaml",
        "concurrent",
    )
    assert spec.example_input
    legal = next(a for a in review.agents if a.name == "legal")
    assert isinstance(legal.model, ScriptedSpec)
    expected = Expected(
        pause={
            "type": "approval",
            "agent": "legal",
            "when": "after",
            "content": legal.model.replies[0],
            "actions": APPROVAL_ACTIONS,
            "revision": 0,
            "max_revisions": 3,
        },
        final=LAUNCH_NOTE,
        audit=[
            ("turn", "writer"),
            ("routing", "review"),
            ("turn", "review/legal"),
            ("approval", "review/legal"),
            ("turn", "review/brand"),
            ("routing", "review"),
            ("turn", "review"),
            ("turn", "editor"),
            ("termination", None),
        ],
        calls={"writer": 1, "review/legal": 1, "review/brand": 1, "editor": 1},
    )
    _run_to_the_end(build_team(spec), spec.example_input, expected)


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
        spec = validate_spec(EXAMPLES / PATTERNS[name].example)
        # Compiled without a checkpointer (the server brings its own), named after the team.
        assert isinstance(graph, CompiledStateGraph) and graph.checkpointer is None
        assert graph.name == spec.name
        assert graph.config is not None and graph.config["run_name"] == spec.name
        assert set(graph.config["tags"]) == {"orchestra", f"pattern:{spec.pattern}"}
        # The served graph is the example team itself: same pause, same answer.
        task = spec.example_input
        assert isinstance(task, str) and task.strip(), f"{name}: its example has no input"
        _run_to_the_end(graph.builder, task, EXPECTED[name])
