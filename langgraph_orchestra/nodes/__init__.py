"""Reusable nodes: the parts the pattern factories wire together.

They are public so a variant of a pattern can be assembled by hand.
"""

from langgraph_orchestra.nodes.aggregate import (
    AggregateNode,
    AggregatorFn,
    concat,
    majority_vote,
    partial_results,
    quorum_size,
)
from langgraph_orchestra.nodes.approval import (
    APPROVAL_ACTIONS,
    ApprovalAction,
    ApprovalDecision,
    ApprovalNode,
    ApprovalRequest,
    review,
)
from langgraph_orchestra.nodes.escalation import (
    ESCALATE,
    ESCALATION_ACTIONS,
    EscalationAction,
    EscalationDecision,
    EscalationNode,
    EscalationRequest,
    escalation,
)
from langgraph_orchestra.nodes.fanout import (
    AGGREGATE,
    DISPATCH,
    FANOUT,
    FanOutNode,
    branch_outcomes,
    hold_turn,
)
from langgraph_orchestra.nodes.finalize import FinalizeNode
from langgraph_orchestra.nodes.human import HumanSeatNode, HumanTurn, HumanTurnRequest
from langgraph_orchestra.nodes.manager import ManagerNode
from langgraph_orchestra.nodes.route import FINALIZE, Route, Turn, record_turn
from langgraph_orchestra.nodes.run import begin_run, counted, in_run, starting
from langgraph_orchestra.nodes.selectors import (
    Floor,
    FunctionSelector,
    LLMSelector,
    RoundRobin,
    Selection,
    Selector,
    SpeakerFn,
)
from langgraph_orchestra.nodes.termination import Termination, closing, latest_output
from langgraph_orchestra.nodes.turn import AgentNode, Validator, run_validators
from langgraph_orchestra.nodes.verdict import (
    Consensus,
    Verdict,
    VerdictStop,
    render_verdict,
    verdict_of,
)
from langgraph_orchestra.nodes.wiring import add_agent, add_escalation

__all__ = [
    "AGGREGATE",
    "APPROVAL_ACTIONS",
    "DISPATCH",
    "ESCALATE",
    "ESCALATION_ACTIONS",
    "FANOUT",
    "FINALIZE",
    "AgentNode",
    "AggregateNode",
    "AggregatorFn",
    "ApprovalAction",
    "ApprovalDecision",
    "ApprovalNode",
    "ApprovalRequest",
    "Consensus",
    "EscalationAction",
    "EscalationDecision",
    "EscalationNode",
    "EscalationRequest",
    "FanOutNode",
    "FinalizeNode",
    "Floor",
    "FunctionSelector",
    "HumanSeatNode",
    "HumanTurn",
    "HumanTurnRequest",
    "LLMSelector",
    "ManagerNode",
    "RoundRobin",
    "Route",
    "Selection",
    "Selector",
    "SpeakerFn",
    "Termination",
    "Turn",
    "Validator",
    "Verdict",
    "VerdictStop",
    "add_agent",
    "add_escalation",
    "begin_run",
    "branch_outcomes",
    "closing",
    "concat",
    "counted",
    "escalation",
    "hold_turn",
    "in_run",
    "latest_output",
    "majority_vote",
    "partial_results",
    "quorum_size",
    "record_turn",
    "render_verdict",
    "review",
    "run_validators",
    "starting",
    "verdict_of",
]
