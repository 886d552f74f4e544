"""Delegation: a manager hands tasks to workers with tools; the results come back to it.

`DelegatingManager` calls the manager's model with one `delegate_to_<worker>` tool per
worker. Its valid delegations start a run-time fan-out (each worker at most once per
round; the workers run concurrently and see only their task and the team's brief);
invalid ones (an unknown worker, a second task for the same worker in one message) get
an error result at once. Every call gets its tool result right after the manager's
message (a valid history, whatever the workers write while they run: a gated worker's
draft is written as it is reviewed): a refusal, or for a delegation a placeholder that
`DelegationJoin` replaces in place (same message id) with the worker's result once every
delegated worker is done, so no delegation is ever dropped. An answer without
delegating is the run's `final`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, StructuredTool
from langgraph.graph import END
from langgraph.types import Command, Overwrite
from pydantic import BaseModel, Field

from langgraph_orchestra.agents import Agent
from langgraph_orchestra.calls import CallResult, ModelCall
from langgraph_orchestra.context import View, run_task
from langgraph_orchestra.names import FANOUT, MANAGER
from langgraph_orchestra.nodes.fanout import branch_outcomes, release_fields
from langgraph_orchestra.nodes.route import as_mapping
from langgraph_orchestra.nodes.run import begin_run, counted, in_run, starting
from langgraph_orchestra.nodes.termination import Termination
from langgraph_orchestra.prompts import DEFAULT_PROMPTS, Prompts
from langgraph_orchestra.records import record_of
from langgraph_orchestra.resilience import Resilient
from langgraph_orchestra.state.records import (
    AuditRecord,
    BranchTurn,
    Usage,
    audit_record,
    new_id,
)
from langgraph_orchestra.state.reducers import add_usage

__all__ = [
    "DELEGATE_PREFIX",
    "JOIN",
    "DelegatingManager",
    "DelegationJoin",
    "delegate_tool_name",
    "delegated_view",
    "manager_view",
]

DELEGATE_PREFIX = "delegate_to_"
"""The name of a delegation tool is this prefix and the worker's name."""
JOIN = "join"
"""The (deferred) node that hands the workers' results back to the manager."""


def delegate_tool_name(worker: str) -> str:
    """Return the name of the tool that delegates to `worker`."""
    return f"{DELEGATE_PREFIX}{worker}"


class _Task(BaseModel):
    task: str = Field(description="The complete, self-contained task: the worker sees only it.")


def _delegate_tool(worker: Agent, prompts: Prompts) -> BaseTool:
    def delegate(task: str) -> str:  # never run: the fan-out runs the worker
        return task

    return StructuredTool.from_function(
        delegate,
        name=delegate_tool_name(worker.name),
        description=prompts.delegate_tool.format(
            worker=worker.name, description=worker.description or "(no description)"
        ),
        args_schema=_Task,
    )


def manager_view(state: Mapping[str, Any]) -> list[BaseMessage]:
    """The manager's own conversation: the run's task, its messages and its tool results."""
    messages: Sequence[BaseMessage] = state["messages"]
    task = run_task(state)
    start = task if task is not None else 0
    calls: set[str] = set()
    seen: list[BaseMessage] = []
    for message in messages[start:]:
        if isinstance(message, AIMessage):
            if message.name != MANAGER:
                continue
            calls.update(c["id"] or "" for c in message.tool_calls)
        elif isinstance(message, ToolMessage):
            if message.tool_call_id not in calls:
                continue
        elif message.name is not None and message is not messages[start]:
            continue
        seen.append(message)
    return seen


def delegated_view(brief: str | None, prompts: Prompts) -> View:
    """A worker's view: the team's brief (if any) and the task delegated to it, nothing more."""

    def view(state: Mapping[str, Any], agent: str) -> list[BaseMessage]:
        task = (state.get("delegations") or {}).get(agent, {}).get("task", "")
        shown: list[BaseMessage] = []
        if brief:
            shown.append(HumanMessage(prompts.brief.format(brief=brief), name=MANAGER))
        shown.append(HumanMessage(task, name=MANAGER))
        return shown

    return view


class DelegatingManager:
    """The manager's turn: delegate (fan out to workers), or answer (the run's `final`)."""

    def __init__(
        self,
        model: BaseChatModel | Resilient,
        workers: Sequence[Agent],
        *,
        termination: Termination,
        review: bool,
        pattern: str,
        prices: Mapping[str, Any],
        instructions: str | None = None,
        prompts: Prompts = DEFAULT_PROMPTS,
        begins: bool = False,
    ) -> None:
        """Build the node (see `create_hierarchical`)."""
        self.workers = {w.name: w for w in workers}
        self.termination = termination
        self.review = review
        self.begins = begins
        self.prompts = prompts
        tools = [_delegate_tool(w, prompts) for w in workers]
        system = instructions or prompts.manager.format(
            team="\n".join(
                prompts.participant_line.format(name=w.name, description=w.description or "")
                for w in workers
            )
        )
        self.delegating = ModelCall(
            model,
            participant=MANAGER,
            pattern=pattern,
            prices=prices,
            instructions=system,
            tools=tools,
        )
        self.answering = ModelCall(
            model, participant=MANAGER, pattern=pattern, prices=prices, instructions=system
        )
        self.__name__ = "start" if begins else MANAGER

    def __call__(self, state: Any, config: RunnableConfig) -> Command[Any]:
        """Ask the manager's model and route on its reply."""
        state = as_mapping(state)
        begin: dict[str, Any] = {}
        if self.begins:
            begin = {**begin_run(state), "delegations": {}, "planned": []}
            state = {**in_run(state, begin), "delegations": {}}
        reason = self.termination(state)
        if reason is not None:
            stop = self.termination.stop(state, reason)
            return Command(update=starting(stop, begin), goto=END)
        # Without review the manager delegates once, then answers from the results.
        may_delegate = self.review or not state.get("round")
        call = self.delegating if may_delegate else self.answering
        result: CallResult[Any] = call.invoke(
            manager_view(state), config, round=state.get("round", 0)
        )
        reply = result.message
        if reply.tool_calls and not may_delegate:
            # Past its one round the manager must answer: calls it makes anyway are
            # dropped from the message (no tool may run, and none is left unanswered).
            reply = AIMessage(reply.text, name=MANAGER, id=reply.id)
        update: dict[str, Any] = {**counted(result.usage), "messages": [reply]}
        if not reply.tool_calls:
            answered = {**state, "messages": [*state["messages"], reply]}
            update.update(self.termination.stop(answered, "completed", before=result.audit))
            return Command(update=starting(update, begin), goto=END)
        delegations, results, audit = self._delegations(reply)
        # Each call's tool result follows the call at once: a refusal, or a placeholder
        # the join replaces with the worker's result.
        update.update(audit=[*result.audit, *audit], messages=[reply, *results])
        if not delegations:
            # Only refused calls: the manager reads the errors and tries again (a round).
            update["round"] = 1
            return Command(update=starting(update, begin), goto=MANAGER)
        update["delegations"] = delegations
        return Command(update=starting(update, begin), goto=FANOUT)

    def _delegations(
        self, reply: AIMessage
    ) -> tuple[dict[str, dict[str, str]], list[ToolMessage], list[AuditRecord]]:
        """The valid delegations by worker, every call's tool result in order, the audit."""
        delegations: dict[str, dict[str, str]] = {}
        results: list[ToolMessage] = []
        audit: list[AuditRecord] = []
        for call in reply.tool_calls:
            name = call["name"]
            worker = name[len(DELEGATE_PREFIX) :] if name.startswith(DELEGATE_PREFIX) else None
            problem = None
            if worker not in self.workers:
                known = ", ".join(self.workers)
                problem = f"there is no worker '{worker or name}'; workers: {known}"
            elif worker in delegations:
                problem = f"'{worker}' already has a task in this message; one task per worker"
            elif not str(call["args"].get("task", "")).strip():
                problem = "the task is empty"
            if problem is not None:
                results.append(
                    ToolMessage(
                        f"Delegation refused: {problem}.",
                        tool_call_id=call["id"] or "",
                        name=name,
                        status="error",
                    )
                )
                audit.append(audit_record("routing", MANAGER, refused=name, reason=problem))
                continue
            task = str(call["args"]["task"])
            assert worker is not None  # checked above: a known worker
            pending = ToolMessage(
                self.prompts.delegation_pending.format(worker=worker),
                tool_call_id=call["id"] or "",
                name=name,
                id=new_id(),
            )
            results.append(pending)
            delegations[worker] = {
                "task": task,
                "tool_call_id": call["id"] or "",
                "tool": name,
                "result": str(pending.id),
            }
            audit.append(audit_record("routing", MANAGER, delegated=worker, task=task))
        return delegations, results, audit


class DelegationJoin:
    """Hands every delegated worker's result back to the manager.

    A deferred node: it waits until every delegated worker (and any gate or escalation
    of one) is done. Each result replaces its delegation's placeholder tool result (same
    id, so in place: right after the manager's call); a worker that gave none (failed
    and went on, skipped) gets an error result saying so. The workers' held messages,
    usage and audit records are moved in with them; one manager round is counted.
    """

    __name__ = JOIN

    def __init__(self, termination: Termination) -> None:
        """Build the node."""
        self.termination = termination

    def __call__(self, state: Any) -> Command[Any]:
        """Join, or wait for the workers still running."""
        state = as_mapping(state)
        outcomes = branch_outcomes(state)
        dispatched = list(state.get("dispatched") or ())
        if any(name not in outcomes for name in dispatched):
            return Command(goto=())
        outbox: Mapping[str, BranchTurn] = state.get("outbox") or {}
        delegations: Mapping[str, Mapping[str, str]] = state.get("delegations") or {}
        by_call = {d["tool_call_id"]: (worker, d) for worker, d in delegations.items()}
        results: list[BaseMessage] = []
        said: list[BaseMessage] = []
        audit: list[AuditRecord] = []
        usage: dict[str, Usage] = {}
        for call_id in _latest_calls(state["messages"]):
            if call_id not in by_call:
                continue
            worker, delegation = by_call[call_id]
            held = outbox.get(worker)
            if held is not None:
                said.extend(held["messages"])
                audit.extend(held["audit"])
                usage = add_usage(usage, held["usage"])
            text = outcomes.get(worker)
            results.append(
                ToolMessage(
                    text if text is not None else f"{worker} gave no result.",
                    tool_call_id=call_id,
                    name=delegation["tool"],
                    status="success" if text is not None else "error",
                    id=delegation.get("result"),
                )
            )
        fields, writes = release_fields(outbox, list(outbox), record=record_of(state))
        audit.extend(writes)
        update: dict[str, Any] = {
            **fields,
            # The results replace their placeholders, right after the manager's calls (a
            # valid history); then what the workers said, for the record (the manager's
            # view leaves it out).
            "messages": [*results, *said],
            "audit": audit,
            **counted(usage),
            "round": 1,
            "outbox": Overwrite({}),
        }
        if state.get("stop_reason"):
            # A worker's gate rejected or a person aborted: the run ends here.
            reason = str(state["stop_reason"])
            update.update(self.termination.stop(state, reason, before=audit))
            return Command(update=update, goto=END)
        return Command(update=update, goto=MANAGER)


def _latest_calls(messages: Sequence[BaseMessage]) -> list[str]:
    """The tool call ids of the manager's latest message, in order."""
    for message in reversed(messages):
        if isinstance(message, AIMessage) and message.name == MANAGER:
            return [c["id"] or "" for c in message.tool_calls]
    return []
