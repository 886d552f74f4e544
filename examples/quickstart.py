"""The README quickstart: a two-step pipeline with an approval gate, paused and resumed."""

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from langgraph_orchestra import Agent, create_sequential
from langgraph_orchestra.testing import ScriptedModel  # offline; or model="openai:gpt-4o-mini"

writer = Agent(
    "writer",
    model=ScriptedModel(["Your refund is on its way."]),
    instructions="Draft a reply to the customer.",
)
editor = Agent(
    "editor",
    model=ScriptedModel(["Good news: your refund was issued today."]),
    instructions="Polish the draft.",
    approval="after",
)
team = create_sequential([writer, editor]).compile(checkpointer=InMemorySaver())
config = {"configurable": {"thread_id": "ticket-42"}}

paused = team.invoke({"messages": [("user", "Where is my refund?")]}, config)
print("awaiting approval:", paused["__interrupt__"][0].value["content"])
result = team.invoke(Command(resume={"action": "approve", "reviewer": "ana"}), config)
print(result["final"], "|", result["stop_reason"])
