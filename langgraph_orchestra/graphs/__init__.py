"""The pattern factories: each returns an uncompiled `StateGraph`."""

from langgraph_orchestra.graphs.concurrent import create_concurrent
from langgraph_orchestra.graphs.group_chat import create_group_chat, create_maker_checker
from langgraph_orchestra.graphs.sequential import create_sequential

__all__ = ["create_concurrent", "create_group_chat", "create_maker_checker", "create_sequential"]
