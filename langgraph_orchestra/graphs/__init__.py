"""The pattern factories: each returns an uncompiled `StateGraph`."""

from langgraph_orchestra.graphs.concurrent import create_concurrent
from langgraph_orchestra.graphs.group_chat import create_group_chat, create_maker_checker
from langgraph_orchestra.graphs.handoff import create_handoff
from langgraph_orchestra.graphs.hierarchical import create_hierarchical
from langgraph_orchestra.graphs.magentic import create_magentic
from langgraph_orchestra.graphs.network import create_network
from langgraph_orchestra.graphs.planner_executor import create_planner_executor
from langgraph_orchestra.graphs.sequential import create_sequential

__all__ = [
    "create_concurrent",
    "create_group_chat",
    "create_handoff",
    "create_hierarchical",
    "create_magentic",
    "create_maker_checker",
    "create_network",
    "create_planner_executor",
    "create_sequential",
]
