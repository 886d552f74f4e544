"""Handoffs: transfer tools for model agents, and the node that carries a transfer out.

Each model agent of a handoff team gets one `transfer_to_<agent>` tool per declared
target (`HandoffTools`, `langchain.agents` middleware). The tools never run: the
middleware answers every call itself, so the history stays valid whatever the model
does (each tool call gets exactly one result):

- a transfer to a declared target is acknowledged, its payload validated against the
  target's `handoff_input`; the agent's turn then ends;
- a second transfer in the same message, a transfer to an undeclared or unknown agent
  (what a prompt injection would ask for) or an invalid payload gets an error result
  naming what is allowed, and the model goes on;
- `escalate_to_human` (opt-in) interrupts for a person's answer, which is the tool's result.

The outcome is recorded on the tool's result (`response_metadata[HANDOFF_KEY]`).
`HandoffNode` reads the turn that just ended, applies the bounds (`max_handoffs`,
ping-pong between a pair), audits the transfer or refusal, and sends the run to the
target, ends it, escalates at a limit, or (interactive) waits for the user.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, get_args

from langchain.agents.middleware import AgentMiddleware, hook_config
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import BaseTool, StructuredTool
from langgraph.graph import END
from langgraph.types import Command, Overwrite, interrupt
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from typing_extensions import TypedDict

from langgraph_orchestra.agents import Agent
from langgraph_orchestra.context import View
from langgraph_orchestra.errors import OrchestraError
from langgraph_orchestra.events import gate_opening
from langgraph_orchestra.names import REVIEWER
from langgraph_orchestra.nodes.asking import ask
from langgraph_orchestra.nodes.human import HumanTurn
from langgraph_orchestra.nodes.route import as_mapping
from langgraph_orchestra.nodes.run import begin_run, in_run, starting
from langgraph_orchestra.nodes.termination import Termination
from langgraph_orchestra.prompts import DEFAULT_PROMPTS, Prompts
from langgraph_orchestra.state.records import audit_record

if TYPE_CHECKING:
    from langgraph.prebuilt.tool_node import ToolCallRequest

__all__ = [
    "ESCALATE_TOOL",
    "HANDOFF_KEY",
    "LIMIT_ACTIONS",
    "TRANSFER_PREFIX",
    "HandoffLimitDecision",
    "HandoffLimitRequest",
    "HandoffNode",
    "HandoffTools",
    "HumanHelpRequest",
    "LimitAction",
    "Router",
    "UserTurnRequest",
    "handoff_view",
    "transfer_tool_name",
]

TRANSFER_PREFIX = "transfer_to_"
"""The name of a transfer tool is this prefix and the target agent's name."""
ESCALATE_TOOL = "escalate_to_human"
"""The name of the opt-in tool that asks a person."""
HANDOFF_KEY = "orchestra_handoff"
"""`response_metadata` key of a transfer's outcome on its tool result."""

Router = Callable[[Mapping[str, Any]], str | None]
"""A deterministic router: the state after a turn -> the agent to transfer to, or `None`."""

LimitAction = Literal["continue", "answer", "end"]
"""What a person decides at a handoff limit."""
LIMIT_ACTIONS: tuple[LimitAction, ...] = get_args(LimitAction)
"""The decisions allowed at a handoff limit."""


def transfer_tool_name(agent: str) -> str:
    """Return the name of the tool that transfers to `agent`."""
    return f"{TRANSFER_PREFIX}{agent}"


class _NoPayload(BaseModel):
    """A transfer without a payload."""

    model_config = ConfigDict(extra="forbid")


def _transfer_tool(target: Agent, prompts: Prompts) -> BaseTool:
    def transfer(**payload: Any) -> str:  # never run: the middleware answers the call
        return prompts.handoff_ack.format(target=target.name)

    return StructuredTool.from_function(
        transfer,
        name=transfer_tool_name(target.name),
        description=prompts.transfer_tool.format(
            target=target.name, description=target.description or "(no description)"
        ),
        args_schema=target.handoff_input or _NoPayload,
    )


def _escalate_tool(prompts: Prompts) -> BaseTool:
    def escalate_to_human(question: str) -> str:  # never run: the middleware answers
        return question

    return StructuredTool.from_function(
        escalate_to_human, name=ESCALATE_TOOL, description=prompts.escalate_tool
    )


class HumanHelpRequest(TypedDict):
    """What `escalate_to_human` shows a person (the interrupt's value)."""

    type: Literal["human_help"]
    """Always `"human_help"`."""
    agent: str
    """The agent asking."""
    question: str
    """Its question."""


class HandoffTools(AgentMiddleware[Any, Any, Any]):
    """Gives a model agent its transfer tools and answers their calls (see the module)."""

    def __init__(
        self,
        agent: Agent,
        targets: Sequence[Agent],
        *,
        escalate: bool = False,
        prompts: Prompts = DEFAULT_PROMPTS,
    ) -> None:
        """Give `agent` a transfer tool per target (and `escalate_to_human` if asked)."""
        super().__init__()
        self.agent = agent
        self.targets = {t.name: t for t in targets}
        self.prompts = prompts
        self.tools = [_transfer_tool(t, prompts) for t in targets]
        if escalate:
            self.tools.append(_escalate_tool(prompts))

    @property
    def name(self) -> str:
        """The middleware's name."""
        return "OrchestraHandoff"

    def _result(
        self, call: Mapping[str, Any], text: str, outcome: dict[str, Any], *, error: bool
    ) -> ToolMessage:
        return ToolMessage(
            text,
            tool_call_id=call["id"] or "",
            name=call["name"],
            status="error" if error else "success",
            response_metadata={HANDOFF_KEY: outcome},
        )

    def _transfer(self, call: Mapping[str, Any], first: str | None) -> ToolMessage:
        target = call["name"][len(TRANSFER_PREFIX) :]
        allowed = list(self.targets)
        if target not in self.targets:
            text = self.prompts.handoff_refused.format(target=target, allowed=", ".join(allowed))
            return self._result(call, text, {"refused": target, "reason": "undeclared"}, error=True)
        if first is not None and first != call["id"]:
            return self._result(
                call,
                self.prompts.handoff_second.format(target=target),
                {"refused": target, "reason": "second transfer in one message"},
                error=True,
            )
        schema = self.targets[target].handoff_input or _NoPayload
        try:
            payload = schema.model_validate(call["args"]).model_dump(mode="json")
        except ValidationError as invalid:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'payload'}: {e['msg']}"
                for e in invalid.errors()
            )
            return self._result(
                call,
                self.prompts.handoff_invalid.format(target=target, error=problems),
                {"refused": target, "reason": "invalid payload", "error": problems},
                error=True,
            )
        text = self.prompts.handoff_ack.format(target=target)
        return self._result(call, text, {"to": target, "payload": payload}, error=False)

    def _escalate(self, request: ToolCallRequest) -> ToolMessage:
        call = request.tool_call
        question: HumanHelpRequest = {
            "type": "human_help",
            "agent": self.agent.name,
            "question": str(call["args"].get("question", "")),
        }
        reply = ask(question, HumanTurn)
        return self._result(call, reply.content, {"human": True}, error=False)

    def _answer(self, request: ToolCallRequest) -> ToolMessage | None:
        name = request.tool_call["name"]
        if name.startswith(TRANSFER_PREFIX):
            return self._transfer(request.tool_call, _first_transfer(request.state))
        if name == ESCALATE_TOOL and any(t.name == ESCALATE_TOOL for t in self.tools):
            return self._escalate(request)
        return None

    def wrap_tool_call(
        self,
        request: ToolCallRequest,
        handler: Callable[[ToolCallRequest], ToolMessage | Command[Any]],
    ) -> ToolMessage | Command[Any]:
        """Answer transfer and escalation calls; run every other tool."""
        answer = self._answer(request)
        return answer if answer is not None else handler(request)

    async def awrap_tool_call(
        self,
        request: ToolCallRequest,
        handler: Callable[[ToolCallRequest], Awaitable[ToolMessage | Command[Any]]],
    ) -> ToolMessage | Command[Any]:
        """Answer transfer and escalation calls; run every other tool (async)."""
        answer = self._answer(request)
        return answer if answer is not None else await handler(request)

    def answer(self, reply: AIMessage) -> list[ToolMessage]:
        """Answer every tool call of `reply` (the agent is called without a subgraph)."""
        first = next(
            (c["id"] for c in reply.tool_calls if c["name"].startswith(TRANSFER_PREFIX)), None
        )
        known = [t.name for t in self.tools]
        results: list[ToolMessage] = []
        for call in reply.tool_calls:
            if call["name"].startswith(TRANSFER_PREFIX):
                results.append(self._transfer(call, first))
            else:
                text = self.prompts.unknown_tool.format(tool=call["name"], tools=", ".join(known))
                results.append(self._result(call, text, {"unknown": call["name"]}, error=True))
        return results

    def finished(self, results: Sequence[ToolMessage]) -> bool:
        """Whether a transfer went through (the agent's turn ends)."""
        return transferred(results) is not None

    @hook_config(can_jump_to=["end"])
    def before_model(self, state: Any, runtime: Any) -> dict[str, Any] | None:
        """End the agent's turn once a transfer went through (before it talks on)."""
        return {"jump_to": "end"} if transferred(state["messages"]) else None

    @hook_config(can_jump_to=["end"])
    async def abefore_model(self, state: Any, runtime: Any) -> dict[str, Any] | None:
        """End the agent's turn once a transfer went through (async)."""
        return self.before_model(state, runtime)


def _first_transfer(state: Any) -> str | None:
    """The id of the first transfer call of the message whose tools are running."""
    messages = state["messages"] if isinstance(state, Mapping) else state.messages
    for message in reversed(messages):
        if isinstance(message, AIMessage):
            for call in message.tool_calls:
                if call["name"].startswith(TRANSFER_PREFIX):
                    return call["id"]
            return None
    return None


def _outcomes(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """The transfer outcomes of the latest tool results, oldest first."""
    found: list[dict[str, Any]] = []
    for message in reversed(messages):
        if not isinstance(message, ToolMessage):
            break
        outcome = message.response_metadata.get(HANDOFF_KEY)
        if outcome is not None:
            found.append(outcome)
    found.reverse()
    return found


def _turn_outcomes(messages: Sequence[BaseMessage], speaker: str) -> list[dict[str, Any]]:
    """Every transfer outcome of `speaker`'s latest turn, oldest first."""
    start = len(messages)
    while start > 0:
        message = messages[start - 1]
        if not (
            isinstance(message, ToolMessage)
            or (isinstance(message, AIMessage) and message.name == speaker)
        ):
            break
        start -= 1
    turn = messages[start:]
    own_calls = {
        call["id"]
        for m in turn
        if isinstance(m, AIMessage) and m.name == speaker
        for call in m.tool_calls
    }
    return [
        m.response_metadata[HANDOFF_KEY]
        for m in turn
        if isinstance(m, ToolMessage)
        and m.tool_call_id in own_calls
        and HANDOFF_KEY in m.response_metadata
    ]


def transferred(messages: Sequence[BaseMessage]) -> str | None:
    """The target of a transfer among the latest tool results, if one went through."""
    for outcome in _outcomes(messages):
        if "to" in outcome:
            return str(outcome["to"])
    return None


class UserTurnRequest(TypedDict):
    """What an interactive handoff team shows when an agent waits for the user."""

    type: Literal["user_turn"]
    """Always `"user_turn"`."""
    agent: str
    """The agent in control, who will read the reply."""
    last: str
    """The agent's latest message."""


class HandoffLimitRequest(TypedDict):
    """What a handoff limit shows a person (the interrupt's value)."""

    type: Literal["handoff_limit"]
    """Always `"handoff_limit"`."""
    agent: str
    """The agent that asked for the transfer."""
    target: str
    """Where it wanted to transfer."""
    reason: Literal["max_handoffs", "ping_pong"]
    """Which bound was reached."""
    handoffs: list[list[str]]
    """This run's transfers so far, `[from, to]`."""
    agents: list[str]
    """Who may take over."""
    actions: list[str]
    """The decisions allowed."""


class HandoffLimitDecision(BaseModel):
    """A person's decision at a handoff limit (the resume value).

    `continue` gives control to `agent` (by default the requested target); `answer`
    replies to the user with `content` and ends the run; `end` ends it as
    `handoff_limit` with the latest real answer.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: LimitAction
    """The decision."""
    agent: str | None = None
    """For `continue`: who takes over."""
    content: str | None = None
    """For `answer`: the reply to the user."""
    reviewer: str = Field(default="human", min_length=1)
    """Who decided, for the audit trail."""

    @model_validator(mode="after")
    def _needs_content(self) -> HandoffLimitDecision:
        if self.action == "answer" and not (self.content or "").strip():
            raise ValueError("action 'answer' needs a non-empty 'content'")
        return self


def handoff_view(view: View, prompts: Prompts) -> View:
    """Wrap `view`: the target of a transfer with a payload also sees the payload."""

    def with_payload(state: Mapping[str, Any], agent: str) -> list[BaseMessage]:
        messages = view(state, agent)
        handoff = state.get("handoff")
        if handoff and handoff.get("to") == agent and handoff.get("payload"):
            note = prompts.handoff_context.format(
                source=handoff["from"], payload=json.dumps(handoff["payload"], indent=2)
            )
            messages = [*messages, HumanMessage(note, name=REVIEWER)]
        return messages

    return with_payload


class HandoffNode:
    """Carries a transfer out: who is in control next, or how the run ends.

    As the `start` node (`begins=True`) it records the run's start and gives control
    to `state["active_agent"]` (the agent that had it when the last run ended) or the
    entry agent. After each turn it asks the termination rule, then reads the transfer
    the turn made (or asks the `router`), audits refusals, applies the bounds, and
    routes. Without a transfer the run ends with the agent's answer, or, interactive,
    waits for the user's next message (a `UserTurnRequest`).
    """

    def __init__(
        self,
        *,
        entries: Mapping[str, str],
        entry: str,
        allowed: Mapping[str, Sequence[str]],
        termination: Termination,
        max_handoffs: int,
        max_ping_pong: int,
        on_limit: Literal["escalate", "end"],
        interactive: bool = False,
        router: Router | None = None,
        begins: bool = False,
    ) -> None:
        """Build the node (see `create_handoff` for the arguments)."""
        self.entries = dict(entries)
        self.entry = entry
        self.allowed = {k: tuple(v) for k, v in allowed.items()}
        self.termination = termination
        self.max_handoffs = max_handoffs
        self.max_ping_pong = max_ping_pong
        self.on_limit = on_limit
        self.interactive = interactive
        self.router = router
        self.begins = begins

    def __call__(self, state: Any) -> Command[Any]:
        """Route after a turn (or at the start of a run)."""
        state = as_mapping(state)
        begin: dict[str, Any] = {}
        if self.begins:
            begin = {**begin_run(state), "handoffs": Overwrite([]), "handoff": None}
            state = {**in_run(state, begin), "handoffs": [], "handoff": None}
        reason = self.termination(state)
        if reason is not None:
            return Command(update=starting(self.termination.stop(state, reason), begin), goto=END)
        active = state.get("active_agent")
        if self.begins:
            agent = active if active in self.entries else self.entry
            record = audit_record("routing", None, active_agent=agent, resumed=active == agent)
            update = {"active_agent": agent, "audit": [record]}
            return Command(update=starting(update, begin), goto=self.entries[agent])
        return self._after_turn(state, active or self.entry)

    def _after_turn(self, state: Mapping[str, Any], speaker: str) -> Command[Any]:
        messages: Sequence[BaseMessage] = state["messages"]
        audit = [
            audit_record("handoff", speaker, refused=o["refused"], reason=o.get("reason"))
            for o in _turn_outcomes(messages, speaker)
            if "refused" in o
        ]
        target = self._target(state, speaker)
        if target is None:
            if self.interactive:
                return self._wait_for_user(state, speaker, audit)
            update = self.termination.stop(state, "completed", before=audit)
            return Command(update=update, goto=END)
        limit = self._limit(state.get("handoffs") or [], speaker, target)
        if limit is not None:
            return self._at_limit(state, speaker, target, limit, audit)
        return self._transfer(state, speaker, target, audit)

    def _target(self, state: Mapping[str, Any], speaker: str) -> str | None:
        if self.router is None:
            return transferred(state["messages"])
        target = self.router(state)
        if target is not None and target not in self.allowed.get(speaker, ()):
            raise OrchestraError(
                f"Handoff router {getattr(self.router, '__name__', self.router)!r} chose "
                f"'{target}', to whom '{speaker}' may not transfer; allowed: "
                f"{list(self.allowed.get(speaker, ()))}"
            )
        return target

    def _limit(
        self, handoffs: Sequence[Sequence[str]], speaker: str, target: str
    ) -> Literal["max_handoffs", "ping_pong"] | None:
        if len(handoffs) >= self.max_handoffs:
            return "max_handoffs"
        # The transfers at the end that bounce between one pair: a->b, b->a, a->b, ...
        hops = [(str(src), str(dst)) for src, dst in handoffs] + [(speaker, target)]
        bounces = 1
        for i in range(len(hops) - 1, 0, -1):
            if hops[i - 1] != (hops[i][1], hops[i][0]):
                break
            bounces += 1
        return "ping_pong" if bounces > 2 * self.max_ping_pong else None

    def _transfer(
        self, state: Mapping[str, Any], speaker: str, target: str, audit: list[Any]
    ) -> Command[Any]:
        payload = _payload(state["messages"], target)
        record = audit_record("handoff", speaker, to=target, payload=payload)
        update = {
            "active_agent": target,
            "handoff": {"from": speaker, "to": target, "payload": payload},
            "handoffs": [[speaker, target]],
            "audit": [*audit, record],
        }
        return Command(update=update, goto=self.entries[target])

    def _at_limit(
        self,
        state: Mapping[str, Any],
        speaker: str,
        target: str,
        limit: Literal["max_handoffs", "ping_pong"],
        audit: list[Any],
    ) -> Command[Any]:
        if self.on_limit == "end":
            record = audit_record("handoff", speaker, refused=target, reason=limit)
            update = self.termination.stop(state, "handoff_limit", before=[*audit, record])
            return Command(update=update, goto=END)
        ask: HandoffLimitRequest = {
            "type": "handoff_limit",
            "agent": speaker,
            "target": target,
            "reason": limit,
            "handoffs": [list(h) for h in state.get("handoffs") or []],
            "agents": list(self.entries),
            "actions": list(LIMIT_ACTIONS),
        }
        with gate_opening(speaker, ask):
            decision = interrupt(ask, response_schema=HandoffLimitDecision)
        record = audit_record(
            "approval",
            speaker,
            when="handoff_limit",
            limit=limit,
            action=decision.action,
            reviewer=decision.reviewer,
            continue_with=decision.agent,
        )
        if decision.action == "continue":
            chosen = decision.agent or target
            if chosen not in self.entries:
                raise OrchestraError(
                    f"Unknown agent '{chosen}' to continue with; agents: {list(self.entries)}"
                )
            return self._transfer(state, speaker, chosen, [*audit, record])
        if decision.action == "answer":
            answer = AIMessage(str(decision.content), name=REVIEWER)
            update = {
                "messages": [answer],
                **self.termination.stop(state, "completed", before=[*audit, record]),
                "final": str(decision.content),
            }
            return Command(update=update, goto=END)
        update = self.termination.stop(state, "handoff_limit", before=[*audit, record])
        return Command(update=update, goto=END)

    def _wait_for_user(
        self, state: Mapping[str, Any], speaker: str, audit: list[Any]
    ) -> Command[Any]:
        messages = state["messages"]
        ask: UserTurnRequest = {
            "type": "user_turn",
            "agent": speaker,
            "last": messages[-1].text if messages else "",
        }
        reply = interrupt(ask, response_schema=HumanTurn)
        update = {
            "messages": [HumanMessage(reply.content)],
            "audit": [*audit, audit_record("turn", "user", messages=1)],
        }
        return Command(update=update, goto=self.entries[speaker])


def _payload(messages: Sequence[BaseMessage], target: str) -> dict[str, Any] | None:
    for outcome in _outcomes(messages):
        if outcome.get("to") == target:
            payload = outcome.get("payload")
            return dict(payload) if payload else None
    return None
