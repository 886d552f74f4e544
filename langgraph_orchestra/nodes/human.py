"""A human seat: a participant who is a person, asked for a message through an interrupt."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from langchain_core.messages import HumanMessage
from langgraph.types import Command, interrupt
from pydantic import BaseModel, ConfigDict, Field, field_validator
from typing_extensions import TypedDict

from langgraph_orchestra.context import PARTICIPANT_KEY
from langgraph_orchestra.nodes.route import as_mapping
from langgraph_orchestra.nodes.validators import Validator, checked_decision
from langgraph_orchestra.state.records import audit_record

__all__ = ["HumanSeatNode", "HumanTurn", "HumanTurnRequest"]


class HumanTurnRequest(TypedDict):
    """What a human seat shows its person (the interrupt's value)."""

    type: Literal["human_turn"]
    """Always `"human_turn"`: tells a seat's request from approvals and escalations."""
    participant: str
    """The seat's name: whose turn it is."""
    last: str
    """The latest message of the conversation, to answer."""
    round: int
    """Turns taken so far in this run."""


class HumanTurn(BaseModel):
    """A person's message for their seat (the resume value)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    content: str = Field(min_length=1)
    """What the person says."""

    @field_validator("content")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the message is blank")
        return value


class HumanSeatNode:
    """Interrupts for the seat's person and adds their message to the transcript.

    The message is a user message named after the seat and flagged as a participant's
    turn (never taken for a run's input). A malformed resume is refused by LangGraph
    (`response_schema=HumanTurn`) and the interrupt stays open, nothing written.
    """

    def __init__(self, name: str, *, next: str, validators: Sequence[Validator] = ()) -> None:
        """Build the seat `name`; after the person speaks the run goes to `next`.

        `validators` run on the person's message: a refusal keeps the interrupt open.
        """
        self.name = name
        self.next = next
        self.turn = checked_decision(HumanTurn, name, validators)
        self.__name__ = name

    def __call__(self, state: Any) -> Command[Any]:
        """Ask the person and record their turn."""
        state = as_mapping(state)
        messages = state["messages"]
        request: HumanTurnRequest = {
            "type": "human_turn",
            "participant": self.name,
            "last": messages[-1].text if messages else "",
            "round": state.get("round", 0),
        }
        reply = interrupt(request, response_schema=self.turn)
        message = HumanMessage(
            reply.content, name=self.name, response_metadata={PARTICIPANT_KEY: True}
        )
        record = audit_record("turn", self.name, human=True, messages=1)
        return Command(
            update={"messages": [message], "audit": [record], "round": 1}, goto=self.next
        )
