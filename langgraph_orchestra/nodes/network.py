"""The network's parts: message tools for model agents, the start of a run and the round's join.

Each model agent of a network gets one `send_to_<peer>` tool per peer it is linked to,
and `finish` (`NetworkTools`). The tools never run: the pattern answers every call
itself (each tool call gets exactly one result, whatever the model does):

- a send to a linked peer is acknowledged and waits for the end of the round;
- a send to an unlinked or unknown agent, or an empty message, gets an error result
  naming the allowed peers, and the model goes on;
- `finish(answer)` records the answer: the run ends with it at the end of the round.

The outcome is recorded on the tool's result (`response_metadata[NETWORK_KEY]`), so the
transcript itself says what was sent. `NetworkStart` starts a run (the input goes to
the entry agents); a run-time fan-out runs the round's recipients concurrently;
`NetworkJoin` waits for all of them, collects the round's sends and either delivers
them (the next round's mailboxes, in state) or ends the run: `finished`, `quiet`,
`max_messages` or `loop`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from langchain.agents.middleware import AgentMiddleware, hook_config
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import BaseTool, StructuredTool
from langgraph.graph import END
from langgraph.types import Command
from pydantic import BaseModel, Field

from langgraph_orchestra.agents import Agent
from langgraph_orchestra.context import ADDRESSEE_KEY, PARTICIPANT_KEY, View, run_task
from langgraph_orchestra.names import FANOUT, MANAGER, START_RUN
from langgraph_orchestra.nodes.delegation import JOIN
from langgraph_orchestra.nodes.fanout import branch_outcomes, release_turns
from langgraph_orchestra.nodes.route import as_mapping
from langgraph_orchestra.nodes.run import begin_run, in_run, starting
from langgraph_orchestra.nodes.termination import Termination, closing
from langgraph_orchestra.prompts import DEFAULT_PROMPTS, Prompts
from langgraph_orchestra.state.records import AuditRecord, audit_record

if TYPE_CHECKING:
    from langgraph.prebuilt.tool_node import ToolCallRequest

__all__ = [
    "FINISH_TOOL",
    "NETWORK_KEY",
    "SEND_PREFIX",
    "NetworkJoin",
    "NetworkStart",
    "NetworkTools",
    "latest_message",
    "network_view",
    "send_tool_name",
]

SEND_PREFIX = "send_to_"
"""The name of a send tool is this prefix and the peer's name."""
FINISH_TOOL = "finish"
"""The name of the tool that ends a network's run with an answer."""
NETWORK_KEY = "orchestra_network"
"""`response_metadata` key of a send's (or finish's) outcome on its tool result."""


def send_tool_name(peer: str) -> str:
    """Return the name of the tool that sends a message to `peer`."""
    return f"{SEND_PREFIX}{peer}"


class _Message(BaseModel):
    message: str = Field(description="The message: what the peer needs, self-contained.")


class _Answer(BaseModel):
    answer: str = Field(description="The final answer to the task.")


def _send_tool(peer: Agent, prompts: Prompts) -> BaseTool:
    def send(message: str) -> str:  # never run: the pattern answers the call
        return message

    return StructuredTool.from_function(
        send,
        name=send_tool_name(peer.name),
        description=prompts.network_send_tool.format(
            peer=peer.name, description=peer.description or "(no description)"
        ),
        args_schema=_Message,
    )


def _finish_tool(prompts: Prompts) -> BaseTool:
    def finish(answer: str) -> str:  # never run: the pattern answers the call
        return answer

    return StructuredTool.from_function(
        finish, name=FINISH_TOOL, description=prompts.network_finish_tool, args_schema=_Answer
    )


class NetworkTools(AgentMiddleware[Any, Any, Any]):
    """Gives a model agent its send tools and `finish`, and answers their calls.

    Used as a `ToolAnswers` (the agent has no tools of its own: its model is called
    directly) or as `langchain.agents` middleware (it has tools: they run, these are
    answered). A turn ends once a send or `finish` went through.
    """

    def __init__(
        self, agent: Agent, peers: Sequence[Agent], *, prompts: Prompts = DEFAULT_PROMPTS
    ) -> None:
        """Give `agent` a send tool per linked peer, and `finish`."""
        super().__init__()
        self.agent = agent
        self.peers = [p.name for p in peers]
        self.prompts = prompts
        self.tools = [*(_send_tool(p, prompts) for p in peers), _finish_tool(prompts)]

    @property
    def name(self) -> str:
        """The middleware's name."""
        return "OrchestraNetwork"

    def _result(
        self, call: Mapping[str, Any], text: str, outcome: dict[str, Any], *, error: bool
    ) -> ToolMessage:
        return ToolMessage(
            text,
            tool_call_id=call["id"] or "",
            name=call["name"],
            status="error" if error else "success",
            response_metadata={NETWORK_KEY: {"from": self.agent.name, **outcome}},
        )

    def _answer(self, call: Mapping[str, Any]) -> ToolMessage | None:
        name = call["name"]
        if name == FINISH_TOOL:
            answer = str(call["args"].get("answer", ""))
            if not answer.strip():
                text = self.prompts.network_finish_empty
                return self._result(call, text, {"refused": FINISH_TOOL}, error=True)
            return self._result(
                call, self.prompts.network_finish_ack, {"finish": answer}, error=False
            )
        if not name.startswith(SEND_PREFIX):
            return None
        peer = name[len(SEND_PREFIX) :]
        message = str(call["args"].get("message", ""))
        if peer not in self.peers or not message.strip():
            text = self.prompts.network_refused.format(
                peer=peer, allowed=", ".join(self.peers) or "(no one)"
            )
            return self._result(call, text, {"refused": peer}, error=True)
        text = self.prompts.network_sent.format(peer=peer)
        return self._result(call, text, {"to": peer, "text": message}, error=False)

    def answer(self, reply: AIMessage) -> list[ToolMessage]:
        """Answer every tool call of `reply` (the agent is called without a subgraph)."""
        known = [t.name for t in self.tools]
        results: list[ToolMessage] = []
        for call in reply.tool_calls:
            result = self._answer(call)
            if result is None:
                text = self.prompts.unknown_tool.format(tool=call["name"], tools=", ".join(known))
                result = self._result(call, text, {"unknown": call["name"]}, error=True)
            results.append(result)
        return results

    def finished(self, results: Sequence[BaseMessage]) -> bool:
        """Whether a send or `finish` went through (the agent's turn ends)."""
        return any(_went_through(o) for o in _outcomes(results))

    def wrap_tool_call(
        self,
        request: ToolCallRequest,
        handler: Callable[[ToolCallRequest], ToolMessage | Command[Any]],
    ) -> ToolMessage | Command[Any]:
        """Answer send and finish calls; run every other tool."""
        answer = self._answer(request.tool_call)
        return answer if answer is not None else handler(request)

    async def awrap_tool_call(
        self,
        request: ToolCallRequest,
        handler: Callable[[ToolCallRequest], Awaitable[ToolMessage | Command[Any]]],
    ) -> ToolMessage | Command[Any]:
        """Answer send and finish calls; run every other tool (async)."""
        answer = self._answer(request.tool_call)
        return answer if answer is not None else await handler(request)

    @hook_config(can_jump_to=["end"])
    def before_model(self, state: Any, runtime: Any) -> dict[str, Any] | None:
        """End the agent's turn once a send or finish went through."""
        latest: list[BaseMessage] = []
        for message in reversed(state["messages"]):
            if not isinstance(message, ToolMessage):
                break
            latest.append(message)
        return {"jump_to": "end"} if self.finished(latest) else None

    @hook_config(can_jump_to=["end"])
    async def abefore_model(self, state: Any, runtime: Any) -> dict[str, Any] | None:
        """End the agent's turn once a send or finish went through (async)."""
        return self.before_model(state, runtime)


def _went_through(outcome: Mapping[str, Any]) -> bool:
    return "to" in outcome or "finish" in outcome


def _outcomes(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """The network outcomes recorded on `messages`' tool results, in order."""
    return [
        m.response_metadata[NETWORK_KEY]
        for m in messages
        if isinstance(m, ToolMessage) and NETWORK_KEY in m.response_metadata
    ]


def _said(messages: Sequence[BaseMessage]) -> dict[str, str]:
    """Each agent's latest substantive message among `messages`: its text or a send."""
    said: dict[str, str] = {}
    for message in messages:
        if isinstance(message, AIMessage) and message.name and message.text:
            said[message.name] = message.text
        elif isinstance(message, ToolMessage):
            outcome = message.response_metadata.get(NETWORK_KEY) or {}
            if "to" in outcome:
                said[str(outcome["from"])] = str(outcome["text"])
    return said


def _accepted(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """The outcomes of each agent's accepted turn of the round: its latest one.

    A turn is written in one piece; a draft a reviewer sent back (rejected, or answered)
    is followed by a reviewer's message and the agent's next turn, which replaces it: a
    rejected draft's messages are never delivered.
    """
    turns: dict[str, list[dict[str, Any]]] = {}
    current: str | None = None
    for message in messages:
        if isinstance(message, AIMessage):
            if message.name != current:
                current = message.name
                if current is not None:
                    turns[current] = []
        elif isinstance(message, ToolMessage):
            outcome = message.response_metadata.get(NETWORK_KEY)
            if outcome is not None and current is not None and outcome["from"] == current:
                turns[current].append(outcome)
        else:
            current = None
    return [outcome for outcomes in turns.values() for outcome in outcomes]


class _Conversation:
    """Puts an agent's earlier mail into the transcript where it was delivered.

    Each message the agent sent, and each sent to it before this round's (the state's
    `mail`), goes in at the end of the round that sent it: its own as its assistant
    message, a peer's as a user message from that peer addressed to it (not a run's
    input). Other agents' mail stays out: it is theirs.

    Building messages is most of what this costs, and the log only grows: per agent it
    remembers the log it last saw and the messages made from it, and makes only the new
    ones while the log still starts with the same entries (anything else makes all anew).
    """

    def __init__(self, prompts: Prompts) -> None:
        self.prompts = prompts
        self.memo: dict[str, tuple[list[Mapping[str, Any]], list[BaseMessage | None]]] = {}

    def _note(self, mail: Mapping[str, Any], agent: str) -> BaseMessage | None:
        if mail["from"] == agent:
            text = self.prompts.network_sent_note.format(peer=mail["to"], message=mail["text"])
            return AIMessage(text, name=agent)
        if mail["to"] == agent:
            return HumanMessage(
                self.prompts.network_message.format(sender=mail["from"], message=mail["text"]),
                name=mail["from"],
                response_metadata={PARTICIPANT_KEY: True, ADDRESSEE_KEY: agent},
            )
        return None

    def _notes(self, log: Sequence[Mapping[str, Any]], agent: str) -> list[BaseMessage | None]:
        known = self.memo.get(agent)
        start, made = 0, []
        if known is not None and len(known[0]) <= len(log) and known[0] == log[: len(known[0])]:
            start, made = len(known[0]), known[1]
        made = [*made, *(self._note(mail, agent) for mail in log[start:])]
        self.memo[agent] = (list(log), made)
        return made

    def __call__(self, state: Mapping[str, Any], agent: str) -> Mapping[str, Any]:
        """Return `state` with `agent`'s earlier mail in its transcript."""
        log: Sequence[Mapping[str, Any]] = state.get("mail") or ()
        if not log:
            return state
        mark = int(state.get("mark") or 0)
        notes: dict[int, list[BaseMessage]] = {}
        for mail, note in zip(log, self._notes(log, agent), strict=True):
            at = int(mail["at"])
            # Not delivered yet as of this state; or this round's mail: the inbox shows it.
            if note is None or at > mark or (at == mark and mail["to"] == agent):
                continue
            notes.setdefault(at, []).append(note)
        if not notes:
            return state
        messages: Sequence[BaseMessage] = state["messages"]
        task = run_task(state)
        merged: list[BaseMessage] = []
        shifted = task
        for i, message in enumerate(messages):
            merged.extend(notes.pop(i, ()))
            if i == task:
                shifted = len(merged)
            merged.append(message)
        for rest in notes.values():
            merged.extend(rest)
        run = state.get("run")
        moved: dict[str, Any] = {**state, "messages": merged}
        if run:
            moved["run"] = {**run, "task": shifted}
        return moved


def network_view(view: View, prompts: Prompts) -> View:
    """Wrap `view`: an agent sees its conversation with its peers across rounds.

    `view` (the agent's context policy) applies to the transcript with the agent's
    earlier mail in it (what it sent and what was sent to it, where each was delivered),
    so the policy bounds it as it bounds the rest; then come the messages delivered to it
    this round, all of them. After a round without messages (`quiet_rounds` > 1) it sees
    `prompts.network_quiet`.
    """
    conversation = _Conversation(prompts)

    def with_mail(state: Mapping[str, Any], agent: str) -> list[BaseMessage]:
        messages = view(conversation(state, agent), agent)
        mail = (state.get("inbox") or {}).get(agent) or []
        notes = [
            HumanMessage(
                prompts.network_message.format(sender=m["from"], message=m["text"]),
                name=m["from"],
            )
            for m in mail
        ]
        if not mail and state.get("quiet"):
            notes.append(HumanMessage(prompts.network_quiet, name=MANAGER))
        return [*messages, *notes]

    return with_mail


def latest_message(state: Mapping[str, Any], speakers: Sequence[str]) -> str | None:
    """The run's latest substantive message: an agent's text, or a message it sent."""
    messages: Sequence[BaseMessage] = state["messages"]
    task = run_task(state)
    first = -1 if task is None else task
    for i in range(len(messages) - 1, first, -1):
        message = messages[i]
        if isinstance(message, AIMessage) and message.name in speakers and message.text:
            return message.text
        if isinstance(message, ToolMessage):
            outcome = message.response_metadata.get(NETWORK_KEY) or {}
            if "to" in outcome:
                return str(outcome["text"])
    return None


class NetworkStart:
    """Starts a run: the input goes to the entry agents, the run's counters start at zero."""

    __name__ = START_RUN

    def __init__(self, entry: Sequence[str], termination: Termination) -> None:
        """Build the node (`entry`: the agents that take the first round)."""
        self.entry = list(entry)
        self.termination = termination

    def __call__(self, state: Any) -> Command[Any]:
        """Record the run's start and open the first round."""
        state = as_mapping(state)
        begin = begin_run(state)
        state = in_run(state, begin)
        reason = self.termination(state)
        if reason is not None:
            final = latest_message(state, list(self.termination.speakers))
            return Command(update=starting(closing(final, reason), begin), goto=END)
        update = {
            "inbox": {name: [] for name in self.entry},
            "sent": 0,
            "last_sent": {},
            "quiet": 0,
            "mark": len(state["messages"]),
            "audit": [audit_record("routing", None, recipients=self.entry)],
        }
        return Command(update=starting(update, begin), goto=FANOUT)


class NetworkJoin:
    """Closes a round: delivers its messages, or ends the run (see the module).

    A deferred node: it waits until every recipient of the round (and any gate or
    escalation of one) is done. The turns are written in team order; the round's sends
    (on the held turns' and the gated turns' tool results) become the next round's
    mailboxes. The run ends, in this order of precedence, when a stop was set (a gate
    rejected, a person aborted, the `termination` condition), when an agent finished
    (`finished`, `final` = its answer), when a send repeats the previous message of the
    same sender to the same recipient (`loop`), when the sends would pass `max_messages`
    (`max_messages`; none of them is delivered), or after `quiet_rounds` rounds in a row
    without a message (`quiet`). Otherwise, after a quiet round, every agent takes
    another turn.
    """

    __name__ = JOIN

    def __init__(
        self,
        names: Sequence[str],
        *,
        termination: Termination,
        max_messages: int,
        quiet_rounds: int,
    ) -> None:
        """Build the node (see `create_network` for the arguments)."""
        self.names = list(names)
        self.termination = termination
        self.max_messages = max_messages
        self.quiet_rounds = quiet_rounds

    def __call__(self, state: Any) -> Command[Any]:
        """Join the round, or wait for the recipients still running."""
        state = as_mapping(state)
        outcomes = branch_outcomes(state)
        if any(name not in outcomes for name in state.get("dispatched") or ()):
            return Command(goto=())
        released = release_turns(state.get("outbox") or {}, self.names)
        messages = [*state["messages"], *released.get("messages", ())]
        after = {**state, "messages": messages}
        round_messages = messages[int(state.get("mark") or 0) :]
        update: dict[str, Any] = {**released, "mark": len(messages)}
        audit: list[AuditRecord] = list(released.get("audit", ()))
        reason = state.get("stop_reason") or self.termination(after)
        order = {name: i for i, name in enumerate(self.names)}
        found = sorted(_accepted(round_messages), key=lambda o: order.get(o["from"], 0))
        audit.extend(
            audit_record("routing", None, refused=o["refused"], sender=o["from"])
            for o in found
            if "refused" in o
        )
        finishes = [o for o in found if "finish" in o]
        sends = [o for o in found if "to" in o]
        if reason:
            return self._end(update, after, str(reason), audit)
        if finishes:
            return self._end(update, after, "finished", audit, final=str(finishes[0]["finish"]))
        if sends:
            return self._deliver(state, update, after, sends, audit)
        quiet = int(state.get("quiet") or 0) + 1
        if quiet >= self.quiet_rounds:
            return self._end(update, after, "quiet", audit)
        audit.append(audit_record("routing", None, recipients=self.names, quiet=quiet))
        update.update(inbox={n: [] for n in self.names}, quiet=quiet, audit=audit)
        return Command(update=update, goto=FANOUT)

    def _deliver(
        self,
        state: Mapping[str, Any],
        update: dict[str, Any],
        after: Mapping[str, Any],
        sends: Sequence[Mapping[str, Any]],
        audit: list[AuditRecord],
    ) -> Command[Any]:
        last_sent = dict(state.get("last_sent") or {})
        for send in sends:
            pair = f"{send['from']}->{send['to']}"
            if last_sent.get(pair) == send["text"]:
                audit.append(audit_record("routing", None, loop=[send["from"], send["to"]]))
                return self._end(update, after, "loop", audit)
            last_sent[pair] = str(send["text"])
        sent = int(state.get("sent") or 0) + len(sends)
        if sent > self.max_messages:
            return self._end(update, after, "max_messages", audit)
        inbox: dict[str, list[dict[str, str]]] = {}
        for send in sends:
            inbox.setdefault(str(send["to"]), []).append(
                {"from": str(send["from"]), "text": str(send["text"])}
            )
        audit.append(audit_record("routing", None, delivered=[[s["from"], s["to"]] for s in sends]))
        # The recipients run in team order.
        ordered = {n: inbox[n] for n in self.names if n in inbox}
        at = update["mark"]
        mail = [
            {"from": str(s["from"]), "to": str(s["to"]), "text": str(s["text"]), "at": at}
            for s in sends
        ]
        update.update(
            inbox=ordered, sent=sent, last_sent=last_sent, quiet=0, audit=audit, mail=mail
        )
        return Command(update=update, goto=FANOUT)

    def _end(
        self,
        update: dict[str, Any],
        after: Mapping[str, Any],
        reason: str,
        audit: list[AuditRecord],
        *,
        final: str | None = None,
    ) -> Command[Any]:
        if final is None:
            final = latest_message(after, self.names)
            # A round's turns land in the transcript in two steps (gated turns as they
            # are accepted, the others together at the join): its answer is the last
            # agent's, in team order.
            said = _said(after["messages"][int(after.get("mark") or 0) :])
            final = next((said[n] for n in reversed(self.names) if n in said), final)
        update.update(closing(final, reason, before=audit), inbox={})
        return Command(update=update, goto=END)
