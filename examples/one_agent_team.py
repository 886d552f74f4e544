"""The first rung of the ladder: one agent with tools, as a one-agent team.

`docs/choosing-a-pattern.md` includes this file; `tests/test_choosing.py` runs it. It
runs offline on a scripted model; give the agent `model="openai:gpt-4o-mini"` instead.
"""

from langchain_core.messages import AIMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from langgraph_orchestra import Agent, TokenBudget, create_sequential
from langgraph_orchestra.testing import ScriptedModel


@tool
def refund_status(order: str) -> str:
    """Look up the refund of an order."""
    return f"order {order}: refund issued on 30 November"


look_up = {"name": "refund_status", "args": {"order": "42"}, "id": "call-1"}
support = Agent(
    "support",
    model=ScriptedModel([AIMessage("", tool_calls=[look_up]), "Your refund left on 30 Nov."]),
    instructions="Answer the customer; look the order up first.",
    tools=[refund_status],
    approve_tools=["refund_status"],  # a person approves each call before it runs
)
team = create_sequential([support], termination=TokenBudget(20_000)).compile(
    checkpointer=InMemorySaver()
)
config = {"configurable": {"thread_id": "ticket-42"}}

paused = team.invoke({"messages": [("user", "Where is the refund of order 42?")]}, config)
request = paused["__interrupt__"][0].value
print("awaiting approval:", request["tool"], request["args"])
result = team.invoke(Command(resume={"action": "approve", "reviewer": "ana"}), config)
print(result["final"], "|", result["stop_reason"])
print("audit:", [record["kind"] for record in result["audit"]])
print("calls:", result["usage"]["support"]["calls"])
