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
    ApprovalDecision,
    ApprovalNode,
    ApprovalRequest,
    review,
)
from langgraph_orchestra.nodes.escalation import (
    ESCALATE,
    ESCALATION_ACTIONS,
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
)
from langgraph_orchestra.nodes.finalize import FinalizeNode, closing
from langgraph_orchestra.nodes.route import FINALIZE, Route
from langgraph_orchestra.nodes.turn import AgentNode, Validator, run_validators
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
    "ApprovalDecision",
    "ApprovalNode",
    "ApprovalRequest",
    "EscalationDecision",
    "EscalationNode",
    "EscalationRequest",
    "FanOutNode",
    "FinalizeNode",
    "Route",
    "Validator",
    "add_agent",
    "add_escalation",
    "branch_outcomes",
    "closing",
    "concat",
    "escalation",
    "majority_vote",
    "partial_results",
    "quorum_size",
    "review",
    "run_validators",
]
