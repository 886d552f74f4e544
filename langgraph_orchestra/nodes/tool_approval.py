"""Tool-call approval: a human approves, rejects or edits a named tool call before it runs.

`ToolApprovalMiddleware` is `langchain.agents` middleware, added to every agent with
`approve_tools` (in any pattern). Before an approved tool runs, the run interrupts with
a `ToolApprovalRequest`; the decision (`ToolApprovalDecision`) is applied to that call
only, and recorded on the tool's result message (`response_metadata[TOOL_APPROVAL_KEY]`),
from which the agent's turn writes an `approval` audit record.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal, get_args

from langchain.agents.middleware import AgentMiddleware
from langchain_core.messages import ToolMessage
from langgraph.types import Command
from pydantic import BaseModel, ConfigDict, Field, model_validator
from typing_extensions import TypedDict

from langgraph_orchestra.events import gate_opening
from langgraph_orchestra.nodes.asking import ask
from langgraph_orchestra.prompts import DEFAULT_PROMPTS, Prompts

if TYPE_CHECKING:
    from langgraph.prebuilt.tool_node import ToolCallRequest

    from langgraph_orchestra.agents import Agent

__all__ = [
    "TOOL_APPROVAL_ACTIONS",
    "TOOL_APPROVAL_KEY",
    "ToolApprovalAction",
    "ToolApprovalDecision",
    "ToolApprovalMiddleware",
    "ToolApprovalRequest",
]

ToolApprovalAction = Literal["approve", "reject", "edit"]
"""A reviewer's decision on a tool call."""

TOOL_APPROVAL_ACTIONS: tuple[ToolApprovalAction, ...] = get_args(ToolApprovalAction)
"""The decisions a reviewer can take on a tool call."""

TOOL_APPROVAL_KEY = "orchestra_tool_approval"
"""`response_metadata` key of the decision on a tool call's result message."""


class ToolApprovalRequest(TypedDict):
    """What a tool-call approval shows the reviewer (the interrupt's value)."""

    type: Literal["tool_approval"]
    """Always `"tool_approval"`."""
    agent: str
    """The agent whose model called the tool."""
    tool: str
    """The tool's name."""
    args: dict[str, Any]
    """The arguments the model gave."""
    tool_call_id: str
    """The call's id."""
    actions: list[str]
    """The decisions allowed."""


class ToolApprovalDecision(BaseModel):
    """A reviewer's decision on a tool call (the resume value).

    `approve` runs the call as it is; `reject` does not run it and gives the model
    `feedback` as the tool's result (the agent goes on); `edit` runs it with `args`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: ToolApprovalAction
    """The decision."""
    feedback: str = ""
    """Why, for `reject`: the model reads it as the tool's result."""
    args: dict[str, Any] | None = None
    """The arguments to run the tool with, for `edit`."""
    reviewer: str = Field(default="human", min_length=1)
    """Who decided, for the audit trail."""

    @model_validator(mode="after")
    def _needs_args(self) -> ToolApprovalDecision:
        if self.action == "edit" and self.args is None:
            raise ValueError("action 'edit' needs 'args': the arguments to run the tool with")
        return self


Result = ToolMessage | Command[Any]


class ToolApprovalMiddleware(AgentMiddleware[Any, Any, Any]):
    """Interrupts before each call of an agent's approved tools and applies the decision."""

    def __init__(self, agent: Agent, *, prompts: Prompts = DEFAULT_PROMPTS) -> None:
        """Guard `agent`'s tools named in its `approve_tools`."""
        super().__init__()
        self.agent = agent
        self.prompts = prompts

    @property
    def name(self) -> str:
        """The middleware's name (unique per agent in `create_agent`)."""
        return "OrchestraToolApproval"

    def _decide(self, request: ToolCallRequest) -> tuple[ToolApprovalDecision | None, Any]:
        call = request.tool_call
        if not self.agent.approves_tool(call["name"]):
            return None, request
        request_value: ToolApprovalRequest = {
            "type": "tool_approval",
            "agent": self.agent.name,
            "tool": call["name"],
            "args": dict(call["args"]),
            "tool_call_id": call["id"] or "",
            "actions": list(TOOL_APPROVAL_ACTIONS),
        }
        with gate_opening(self.agent.name, request_value):
            decision = ask(request_value, ToolApprovalDecision)
        if decision.action == "edit":
            request = request.override(tool_call={**call, "args": dict(decision.args or {})})
        return decision, request

    def _rejected(self, request: ToolCallRequest, decision: ToolApprovalDecision) -> ToolMessage:
        call = request.tool_call
        return ToolMessage(
            self.prompts.tool_rejected.format(
                reviewer=decision.reviewer, feedback=decision.feedback or "(no reason given)"
            ),
            tool_call_id=call["id"] or "",
            name=call["name"],
            status="error",
        )

    def _recorded(self, result: Result, decision: ToolApprovalDecision, args: Any) -> Result:
        if not isinstance(result, ToolMessage):
            return result
        record = {
            "action": decision.action,
            "reviewer": decision.reviewer,
            "feedback": decision.feedback,
            "args": args,
        }
        metadata = {**result.response_metadata, TOOL_APPROVAL_KEY: record}
        return result.model_copy(update={"response_metadata": metadata})

    def wrap_tool_call(
        self, request: ToolCallRequest, handler: Callable[[ToolCallRequest], Result]
    ) -> Result:
        """Ask for a decision before an approved tool runs."""
        decision, request = self._decide(request)
        if decision is None:
            return handler(request)
        args = request.tool_call["args"]
        if decision.action == "reject":
            return self._recorded(self._rejected(request, decision), decision, args)
        return self._recorded(handler(request), decision, args)

    async def awrap_tool_call(
        self, request: ToolCallRequest, handler: Callable[[ToolCallRequest], Awaitable[Result]]
    ) -> Result:
        """Ask for a decision before an approved tool runs (async)."""
        decision, request = self._decide(request)
        if decision is None:
            return await handler(request)
        args = request.tool_call["args"]
        if decision.action == "reject":
            return self._recorded(self._rejected(request, decision), decision, args)
        return self._recorded(await handler(request), decision, args)
