"""The agent turn node: one agent answers, its output is checked and recorded."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.runnables import Runnable, RunnableConfig
from langgraph.errors import GraphBubbleUp
from langgraph.graph import END
from langgraph.types import Command
from pydantic_core import to_jsonable_python

from langgraph_orchestra.agents import OUTPUT_KEY, AgentRunner, TurnResult
from langgraph_orchestra.context import Refreshed, Refreshing
from langgraph_orchestra.errors import (
    AgentError,
    OutputValidationError,
    PreconditionError,
    RecordWriteError,
    StructuredOutputError,
)
from langgraph_orchestra.nodes.approval import review
from langgraph_orchestra.nodes.asking import RefusedDecision
from langgraph_orchestra.nodes.escalation import escalation
from langgraph_orchestra.nodes.route import FINALIZE, Route, Turn, as_mapping, record_turn
from langgraph_orchestra.nodes.run import begin_run, counted, in_run, starting
from langgraph_orchestra.nodes.termination import closing
from langgraph_orchestra.nodes.tool_approval import TOOL_APPROVAL_KEY
from langgraph_orchestra.nodes.validators import Validator, run_validators
from langgraph_orchestra.records import precondition, provenance, refused_writes
from langgraph_orchestra.resilience import audit_of
from langgraph_orchestra.state.records import (
    AuditRecord,
    ExceptionRecord,
    ExceptionStatus,
    audit_record,
    new_id,
    now,
    usage_known,
)
from langgraph_orchestra.state.reducers import add_usage
from langgraph_orchestra.tracing import call_config

__all__ = ["AgentNode", "Validator", "run_validators"]


def _is_payload(input: Any) -> bool:
    """Whether the turn runs on an explicit view (sent by a gate, escalation, fan-out)."""
    return isinstance(input, Mapping) and "view" in input


def _with_summary(command: Command[Any], refreshed: Refreshed | None) -> Command[Any]:
    """`command` that also stores a refreshed summary and counts the summarizer's usage."""
    if refreshed is None:
        return command
    update = dict(command.update or {})
    update["summaries"] = refreshed.summaries
    if refreshed.usage:
        for key in ("usage", "run_usage"):
            update[key] = add_usage(update.get(key), refreshed.usage)
    if refreshed.audit:
        update["audit"] = [*refreshed.audit, *update.get("audit", ())]
    return Command(update=update, goto=command.goto)


def _retries(input: Any) -> int:
    """How many times a human has retried the failure this turn runs again (0: none)."""
    if isinstance(input, Mapping) and "view" in input:
        return int(input.get("retries", 0))
    return 0


class AgentNode(Runnable[Any, Command[Any]]):
    """Runs one turn of an agent and routes on the outcome; it knows no pattern.

    Input is the pattern's state (the view is computed with the route's context policy)
    or a `{"view": [...]}` payload sent by a gate, the escalation node or a fan-out.
    A turn that starts from the state first asks the route's termination rule (a stop
    ends the run there, with the latest real answer) and, at a run's entry, records the
    run's start. On success the accepted turn is written as the route says (`accept`)
    and the run goes to the agent's after-gate or where the route sends it (`after`).
    On failure the agent's `on_error` decides: raise `AgentError`; record it and go on
    (`continue`); or record it and go to the `escalate` node for a human.
    """

    def __init__(
        self,
        route: Route,
        runner: AgentRunner,
        *,
        pattern: str,
        validators: Sequence[Validator] = (),
    ) -> None:
        """Build the node.

        Args:
            route: Where the agent sits in the pattern.
            runner: The agent's runner.
            pattern: Pattern name, for tracing.
            validators: Checks on the output text, in order.
        """
        self.route = route
        self.runner = runner
        self.pattern = pattern
        self.validators = tuple(validators)
        self.agent_name: str = route.agent.name
        # A view to bring up to date before each turn (a summary); checked once here.
        self._refreshing = route.view if isinstance(route.view, Refreshing) else None

    def _enter(
        self, input: Any
    ) -> tuple[
        list[BaseMessage], int, dict[str, Any] | None, Command[Any] | None, dict[str, Any] | None
    ]:
        """Return the view, the revision, the run's start (if this turn begins it) or a stop.

        And the record the turn starts from (`None`: the agent keeps none).
        """
        if (type(input) is dict or isinstance(input, Mapping)) and "view" in input:
            record = input.get("record")
            if record is None and self.route.keeps_record:
                record = {}
            return list(input["view"]), input.get("revision", 0), None, None, record
        state = as_mapping(input)
        route = self.route
        begin = begin_run(state) if route.begins else None
        if begin is not None:
            state = in_run(state, begin)
        if route.termination is not None:
            reason = route.termination(state)
            if reason is not None:
                stop = route.termination.stop(state, reason)
                return [], 0, None, Command(update=starting(stop, begin or {}), goto=END), None
        return route.view(state, self.agent_name), 0, begin, None, route.snapshot(state)

    def _state(self, input: Any) -> Mapping[str, Any]:
        state = as_mapping(input)
        begin = begin_run(state) if self.route.begins else None
        return in_run(state, begin) if begin is not None else state

    def _summarized(
        self, input: Any, view: list[BaseMessage], refreshed: Refreshed | None
    ) -> list[BaseMessage]:
        """The view after a `Summary` policy's refresh (unchanged without one)."""
        if refreshed is None:
            return view
        state = self._state(input)
        summaries = {**(state.get("summaries") or {}), **refreshed.summaries}
        return self.route.view({**state, "summaries": summaries}, self.agent_name)

    def _summary(self) -> Refreshing | None:
        return self._refreshing

    def _config(self, config: RunnableConfig | None) -> RunnableConfig:
        if not self.runner.traced:
            return config or {}
        return call_config(config, pattern=self.pattern, agent=self.agent_name)

    def invoke(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Command[Any]:
        """Run the turn synchronously."""
        view, revision, begin, stopped, record = self._enter(input)
        if stopped is not None:
            return stopped
        blocked = self._blocked(record)
        if blocked is not None:
            return self._failed(blocked, view, None, begin, retries=_retries(input), record=record)
        result: TurnResult | None = None
        summary, refreshed = self._summary(), None
        try:
            if summary is not None and not _is_payload(input):
                refreshed = summary.refresh(
                    self._state(input),
                    self.agent_name,
                    config,
                    pattern=self.pattern,
                    prices=self.runner.prices,
                )
                view = self._summarized(input, view, refreshed)
            result = self.runner.invoke(view, self._config(config))
            text = self._check(result)
        except GraphBubbleUp:
            raise  # an interrupt from a nested team: it must reach the parent graph
        except RefusedDecision as refused:
            raise refused.error from None  # a malformed answer to a pause inside the turn
        except Exception as error:
            failed = self._failed(
                error, view, result, begin, retries=_retries(input), record=record
            )
            return _with_summary(failed, refreshed)
        return _with_summary(
            self._succeeded(result, text, view, revision, begin, record), refreshed
        )

    async def ainvoke(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Command[Any]:
        """Run the turn asynchronously."""
        view, revision, begin, stopped, record = self._enter(input)
        if stopped is not None:
            return stopped
        blocked = self._blocked(record)
        if blocked is not None:
            return self._failed(blocked, view, None, begin, retries=_retries(input), record=record)
        result: TurnResult | None = None
        summary, refreshed = self._summary(), None
        try:
            if summary is not None and not _is_payload(input):
                refreshed = await summary.arefresh(
                    self._state(input),
                    self.agent_name,
                    config,
                    pattern=self.pattern,
                    prices=self.runner.prices,
                )
                view = self._summarized(input, view, refreshed)
            result = await self.runner.ainvoke(view, self._config(config))
            text = self._check(result)
        except GraphBubbleUp:
            raise  # an interrupt from a nested team: it must reach the parent graph
        except RefusedDecision as refused:
            raise refused.error from None  # a malformed answer to a pause inside the turn
        except Exception as error:
            failed = self._failed(
                error, view, result, begin, retries=_retries(input), record=record
            )
            return _with_summary(failed, refreshed)
        return _with_summary(
            self._succeeded(result, text, view, revision, begin, record), refreshed
        )

    def _blocked(self, record: Mapping[str, Any] | None) -> PreconditionError | None:
        """The error that keeps the agent from acting: its `requires` fails on `record`."""
        if record is None or not self.route.agent.requires:
            return None
        return precondition(self.route.agent, record)

    def _check(self, result: TurnResult) -> str:
        refused = refused_writes(self.route.agent, result.fields)
        if refused:
            allowed = list(self.route.agent.writes or ())
            raise RecordWriteError(
                f"Agent '{self.agent_name}' wrote the fields {sorted(refused)} outside its "
                f"writes {allowed}: refused, nothing of the turn applied",
                agent=self.agent_name,
                fields=refused,
            )
        text = result.messages[-1].text
        if self.validators:
            run_validators(self.agent_name, text, self.validators)
        return text

    def _succeeded(
        self,
        result: TurnResult,
        text: str,
        view: list[BaseMessage],
        revision: int,
        begin: dict[str, Any] | None,
        record: Mapping[str, Any] | None = None,
    ) -> Command[Any]:
        route = self.route
        messages, usage = result.messages, result.usage
        own = usage.get(self.agent_name)
        detail: dict[str, Any] = {"messages": len(messages)}
        if own is not None:
            detail["latency_s"] = round(own["latency_s"], 6)
            # Unknown usage is recorded as unknown (None), never as 0 tokens.
            tokens = own["input_tokens"] + own["output_tokens"]
            detail["tokens"] = tokens if usage_known(own) else None
        output = messages[-1].response_metadata.get(OUTPUT_KEY)
        if output is not None:
            detail["output"] = output  # a structured answer (a verdict, a choice): audited
        audit = audit_record("turn", self.agent_name, **detail)
        inner: list[Any] = list(result.audit)  # a nested team's records, named by path
        fields = result.fields
        turn = Turn(
            self.agent_name,
            text,
            messages,
            usage,
            audit,
            [*inner, *self._decisions(messages)],
            fields,
            provenance(self.agent_name, fields, record) if fields else [],
        )
        if route.review is not None:
            draft = messages[-1]
            if not isinstance(draft, AIMessage):
                draft = AIMessage(text, name=self.agent_name)
            # The record fields are written once the reviewer accepts the output.
            update = starting(record_turn(turn._replace(fields={}, writes=[])), begin or {})
            goto = review(route.review, view, draft, revision, record, fields)
            return Command(update=update, goto=goto)
        update = starting(route.accept(turn), begin or {})
        target = route.after(turn)
        if target == FINALIZE:
            # The run ends here: close it in this step rather than in one more superstep.
            update.update(closing(text, "completed", before=update.get("audit", ())))
            return Command(update=update, goto=END)
        return Command(update=update, goto=target)

    def _decisions(self, messages: Sequence[BaseMessage]) -> list[AuditRecord]:
        """The `approval` records of the tool calls a human decided during the turn."""
        records: list[AuditRecord] = []
        for message in messages:
            if isinstance(message, ToolMessage) and TOOL_APPROVAL_KEY in message.response_metadata:
                decision = message.response_metadata[TOOL_APPROVAL_KEY]
                records.append(
                    audit_record(
                        "approval",
                        self.agent_name,
                        when="tool",
                        tool=message.name,
                        tool_call_id=message.tool_call_id,
                        **decision,
                    )
                )
        return records

    def _failed(
        self,
        error: Exception,
        view: list[BaseMessage],
        refused: TurnResult | None = None,
        begin: dict[str, Any] | None = None,
        *,
        retries: int = 0,
        record: Mapping[str, Any] | None = None,
    ) -> Command[Any]:
        """Apply the agent's `on_error`; `refused` is a turn whose output a validator refused.

        `record`: the record the turn started from, kept for a retry after escalation.
        """
        agent = self.route.agent
        if agent.on_error == "raise":
            if isinstance(error, AgentError):
                raise error
            raise AgentError(
                f"Agent '{self.agent_name}' failed: {type(error).__name__}: {error}",
                agent=self.agent_name,
            ) from error
        status: ExceptionStatus = "continued" if agent.on_error == "continue" else "open"
        failure: ExceptionRecord = {
            "id": new_id(),
            "ts": now(),
            "agent": self.agent_name,
            "error": str(error),
            "error_type": type(error).__name__,
            "input": view[-1].text if view else "",
            "status": status,
        }
        if isinstance(error, OutputValidationError):
            failure["output"] = error.output
        elif isinstance(error, PreconditionError):
            failure["missing"] = error.missing
        elif isinstance(error, RecordWriteError):
            failure["values"] = {self.agent_name: to_jsonable_python(error.fields, fallback=str)}
        update: dict[str, Any] = {
            "exceptions": [failure],
            "audit": [
                *audit_of(error),  # the failed call's fallback and breaker records
                audit_record(
                    "exception",
                    self.agent_name,
                    error=str(error),
                    error_type=type(error).__name__,
                    status=status,
                    exception_id=failure["id"],
                ),
            ],
        }
        if refused is not None:
            # The refused turn's calls were made (and paid for): count them.
            update.update(counted(refused.usage))
        elif isinstance(error, StructuredOutputError) and error.usage:
            update.update(counted(error.usage))
        update = starting(update, begin or {})
        if status == "continued":
            # The agent's turn was used: a loop of failures stays bounded by max_rounds.
            update.update(self.route.done(None), round=1)
            return Command(update=update, goto=self.route.next)
        return Command(
            update=update, goto=escalation(failure, view, retries=retries, snapshot=record)
        )
