"""`create_concurrent`: every agent works on the same task at once; results are combined."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import BaseMessage
from langgraph.graph import END, START, StateGraph

from langgraph_orchestra.agents import Agent, check_team
from langgraph_orchestra.conditions import Condition
from langgraph_orchestra.context import (
    ContextPolicy,
    View,
    follow_up_context,
    kept_refreshing,
    resolve_context,
    run_task,
)
from langgraph_orchestra.errors import TeamConfigError
from langgraph_orchestra.graphs._common import (
    check_flag,
    check_max_revisions,
    check_termination,
    check_validators,
    check_whole,
    finish_graph,
    governed,
    new_builder,
)
from langgraph_orchestra.names import AGGREGATE, BATCH, DISPATCH, FANOUT, FINALIZE, SETTLE
from langgraph_orchestra.nodes.aggregate import (
    AggregateNode,
    AggregatorFn,
    BuiltIn,
    partial_results,
    quorum_size,
)
from langgraph_orchestra.nodes.batch import BatchNode, batchable
from langgraph_orchestra.nodes.batch import batch_size as batch_size_of
from langgraph_orchestra.nodes.completion import Action
from langgraph_orchestra.nodes.conflicts import Disagreement, SettleNode
from langgraph_orchestra.nodes.fanout import FanOutNode, hold_turn
from langgraph_orchestra.nodes.finalize import FinalizeNode
from langgraph_orchestra.nodes.route import Route
from langgraph_orchestra.nodes.termination import Termination
from langgraph_orchestra.nodes.turn import Validator
from langgraph_orchestra.nodes.wiring import add_agent, add_escalation, agent_node
from langgraph_orchestra.prompts import DEFAULT_PROMPTS, Prompts
from langgraph_orchestra.records import (
    CONFIDENCE,
    ON_CONFLICT,
    OnConflict,
    field_types,
    record_fields,
    reducer_of,
)
from langgraph_orchestra.redaction import Redact
from langgraph_orchestra.state.schemas import ConcurrentState, check_state_schema
from langgraph_orchestra.tracing import ModelPrice, merge_prices

__all__ = ["create_concurrent"]

PATTERN = "concurrent"


def _task_view(view: View) -> View:
    """Apply `view` to the transcript as it was when the fan-out started.

    Branches all answer the same input: the transcript up to the run's input (a
    reviewer's messages and the branches' own outputs come after it).
    """

    def branch_view(state: Mapping[str, Any], agent: str) -> list[BaseMessage]:
        return view(_up_to_task(state), agent)

    return kept_refreshing(branch_view, view, _up_to_task)


def _up_to_task(state: Mapping[str, Any]) -> Mapping[str, Any]:
    """The state with the transcript up to the run's input."""
    messages: Sequence[BaseMessage] = state["messages"]
    task = run_task(state)
    if task is None or task == len(messages) - 1:
        return state
    return {**state, "messages": messages[: task + 1]}


def _check_aggregation(
    team: Sequence[Agent],
    aggregator: object,
    on_conflict: object,
    on_disagreement: object,
) -> None:
    """Check `on_conflict`, `on_disagreement` and what `"confidence"` needs of the branches."""
    if on_conflict not in ON_CONFLICT:
        raise TeamConfigError(f"on_conflict={on_conflict!r}: allowed {list(ON_CONFLICT)}")
    if on_disagreement is not None:
        if aggregator not in ("vote", "confidence"):
            raise TeamConfigError(
                "on_disagreement needs aggregator='vote' or 'confidence', got "
                f"aggregator={aggregator!r}"
            )
        if on_disagreement != "escalate" and (
            isinstance(on_disagreement, bool)
            or not isinstance(on_disagreement, int | float)
            or not 0 < on_disagreement <= 1
        ):
            raise TeamConfigError(
                f"on_disagreement={on_disagreement!r}: give 'escalate' or a share of "
                "agreement 0 < t <= 1"
            )
    if aggregator == "confidence":
        lacking = [
            a.name for a in team if a.output is None or CONFIDENCE not in a.output.model_fields
        ]
        if lacking:
            raise TeamConfigError(
                f"aggregator='confidence' needs every branch to answer in a typed output "
                f"with a '{CONFIDENCE}' field; these do not: {lacking}"
            )


def create_concurrent(
    agents: Sequence[Agent],
    *,
    aggregator: BuiltIn | Agent | AggregatorFn = "concat",
    quorum: int | float | None = None,
    on_conflict: OnConflict = "escalate",
    on_disagreement: Disagreement | None = None,
    max_concurrency: int | None = None,
    batch_size: int | None = None,
    timeout: float | None = None,
    context: ContextPolicy = "full",
    termination: Condition | None = None,
    validators: Mapping[str, Validator | Sequence[Validator]] | None = None,
    max_revisions: int = 3,
    validate_human: bool = True,
    max_retries: int = 3,
    state_schema: type[Any] | None = None,
    prices: Mapping[str, ModelPrice] | None = None,
    prompts: Prompts = DEFAULT_PROMPTS,
    redact: Redact = None,
    redact_agents: bool = False,
    on_end: Sequence[Action] | None = None,
) -> StateGraph[Any, Any, Any, Any]:
    """Build a fan-out/fan-in team: all agents answer the same input in parallel.

    Branches are started with `Send` and really run at the same time (threads for
    sync runs, tasks for async). When all are done their outputs, in team order, go to
    the aggregator. A branch whose agent has `on_error="continue"` may fail and leave
    the others' results (and an exception record); `quorum` says how many successful
    branches the run needs to complete, else it ends as `quorum_not_met` with the
    partial results as `final`.

    Args:
        agents: The branches.
        aggregator: `"concat"` (outputs joined under agent names), `"vote"` (majority,
            case- and space-insensitive), an `Agent` that synthesizes one answer (its
            calls count in `usage`; when it gives none, being rejected, skipped or
            failing with `on_error="continue"`, `final` is the outputs joined), or a
            callable `{agent: output} -> str`; with typed outputs (`Agent(output=...)`)
            carrying a `confidence` field, `"confidence"` takes the most confident
            answer and `"vote"` weighs each vote by its confidence (typed answers are
            compared on their fields but `confidence` and `reason`).
        on_conflict: Two branches writing different values to one record field are a
            conflict, recorded in the exception queue with both values: `"escalate"`
            (default) asks a person to pick (`ConflictDecision`), `"first"`/`"last"`
            take the first/last writer in team order. A field the state schema gives a
            reducer is combined by it instead.
        on_disagreement: With `"vote"` or `"confidence"`: `"escalate"` sends any split
            decision to a person with every branch's answer, confidence and reason
            (`SplitDecision`); a number sends it when the winning answer's
            (confidence-weighted) share is below it; `None` keeps the aggregator's pick.
        quorum: Successful branches needed: a count, a fraction of the branches, or
            `None` for at least one.
        max_concurrency: Most branches running at once; `None` for all.
        batch_size: Branches per LangGraph task, for branches that cannot pause (no
            approval gate, not `on_error="escalate"`, not a nested graph): they run in
            chunks of this many (`asyncio.gather` when async, a thread pool when sync).
            `None` (default) batches only above `AUTO_BATCH_WIDTH` (100) such branches,
            in about 20 chunks; `1` never batches. A chunk is saved, streamed and
            re-run as a whole (see the README).
        timeout: Seconds per branch attempt, for agents that set no `timeout`.
        context: Default context policy for branches that set none (applied to the
            transcript as it was when the fan-out started).
        termination: A condition asked before branches start and when they are done
            (before the aggregator): when it fires the run ends with the outputs so far
            joined as `final` and the condition's reason as `stop_reason`.
        validators: Output checks per agent name.
        max_revisions: Revisions a reviewer may ask per output before a rejection stops
            the run.
        validate_human: Run the validators on human content too (a reviewer's `edit` and
            `respond`, an escalation's `supply`): a refusal keeps the interrupt open and
            says why. `False` trusts the reviewers.
        max_retries: Times a human may retry one failed turn of an escalating agent; its
            next failure then stops the run with `stop_reason="max_retries"`.
        state_schema: A state schema extending `ConcurrentState`.
        prices: Extra model prices for cost accounting.
        prompts: Prompt templates (the synthesis request).
        redact: Clears personal data and secrets from what leaves the run: audit
            details and exception records (`"default"`, a `Redactor(...)` or a callable
            `str -> str`; see `redaction`).
        redact_agents: Agents, managers and selectors read the transcript redacted too.
        on_end: Completion actions `state -> None` (sync or async), run once when a run
            ends, whatever its stop reason (see `nodes.completion`).

    Returns:
        The uncompiled graph.

    Raises:
        TeamConfigError: On an invalid team or argument, before any model call.

    Example:
        ```python
        team = create_concurrent(
            [Agent("optimist", model=m1), Agent("skeptic", model=m2)],
            aggregator=Agent("judge", model=m3, instructions="Weigh both views."),
        ).compile()
        print(team.invoke({"messages": [("user", "Should we ship on Friday?")]})["final"])
        ```
    """
    team = check_team(agents, pattern=PATTERN)
    synthesizer = aggregator if isinstance(aggregator, Agent) else None
    check_team([*team, *([synthesizer] if synthesizer else [])], pattern=PATTERN)
    if synthesizer is None and not (
        aggregator in ("concat", "vote", "confidence") or callable(aggregator)
    ):
        raise TeamConfigError(
            f"Unknown aggregator {aggregator!r}: use 'concat', 'vote', 'confidence', an "
            "Agent, or a callable {agent: output} -> str"
        )
    _check_aggregation(team, aggregator, on_conflict, on_disagreement)
    if max_concurrency is not None and (
        isinstance(max_concurrency, bool)
        or not isinstance(max_concurrency, int)
        or max_concurrency < 1
    ):
        raise TeamConfigError(
            f"max_concurrency must be a whole number >= 1 or None, got {max_concurrency!r}"
        )
    if timeout is not None:
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise TeamConfigError(
                f"timeout must be a positive number of seconds or None, got {timeout!r}"
            )
        team = tuple(
            a if a.timeout is not None else dataclasses.replace(a, timeout=timeout) for a in team
        )
    names = [a.name for a in team]
    needed = quorum_size(quorum, len(team))
    checks = check_validators(validators, [*names, *([synthesizer.name] if synthesizer else [])])
    check_max_revisions(max_revisions)
    check_flag(validate_human, "validate_human")
    check_whole(max_retries, "max_retries", minimum=0)
    condition = check_termination(termination, pattern=PATTERN)
    speakers = [synthesizer.name] if synthesizer else names
    stop = Termination(condition, speakers=speakers) if condition is not None else None
    schema = check_state_schema(state_schema, ConcurrentState, pattern=PATTERN)
    resolve_context(context, owner=PATTERN)  # checked here: the error names the pattern
    price_table = merge_prices(prices)

    joins = DISPATCH if max_concurrency is not None else AGGREGATE
    policies = {a.name: a.context if a.context is not None else context for a in team}
    routes = [
        Route(
            prompts=prompts,
            agent=agent,
            node=agent.name,
            next=joins,
            stop=joins,
            view=_task_view(resolve_context(policies[agent.name])),
            follow_up=follow_up_context(policies[agent.name]),
            results=True,
            # A turn accepted without a gate is held in the outbox until the fan-out closes.
            write=None if agent.approves_after else hold_turn,
        )
        for agent in team
    ]
    chunk = batch_size_of(batch_size, sum(batchable(a) for a in team))
    batched = [r for r in routes if chunk > 1 and batchable(r.agent)]
    own = [r for r in routes if r not in batched]
    starts = (*(r.entry for r in own), *([BATCH] if batched else ()), AGGREGATE)
    fan_out: dict[str, Any] = {
        "max_concurrency": max_concurrency,
        "termination": stop,
        "batch_size": chunk,
        "pattern": PATTERN,
        "prices": price_table,
    }
    builder = new_builder(
        schema,
        agents=[*team, *([synthesizer] if synthesizer else [])],
        pattern=PATTERN,
        shared=True,
    )
    fields = record_fields(schema)
    # A person settles conflicts only where two branches may write one field.
    writes = [f for a in team for f in a.writes or ()]
    settles = on_conflict == "escalate" and len(writes) > len(set(writes))
    builder.add_node(
        FANOUT,
        FanOutNode(routes, first=True, begins=True, **fan_out),
        metadata={"pattern": PATTERN},
        destinations=starts,
    )
    if max_concurrency is not None:
        builder.add_node(
            DISPATCH,
            FanOutNode(routes, first=False, **fan_out),
            metadata={"pattern": PATTERN},
            destinations=starts,
        )
    common: dict[str, Any] = {
        "pattern": PATTERN,
        "prices": price_table,
        "prompts": prompts,
        "max_revisions": max_revisions,
        "validate_human": validate_human,
    }
    for route in own:
        add_agent(builder, route, validators=checks.get(route.agent.name, ()), **common)
    if batched:
        nodes = {
            r.agent.name: agent_node(
                r, pattern=PATTERN, prices=price_table, validators=checks.get(r.agent.name, ())
            )
            for r in batched
        }
        builder.add_node(
            BATCH,
            BatchNode(nodes, next=joins),
            metadata={"pattern": PATTERN},
            destinations=(joins,),
        )
    synth_route = None
    if synthesizer is not None:
        synth_route = Route(
            prompts=prompts,
            agent=synthesizer,
            node=synthesizer.name,
            next=FINALIZE,
            view=_task_view(resolve_context(synthesizer.context or "last")),
            follow_up=follow_up_context(synthesizer.context or "last"),
        )
        add_agent(builder, synth_route, validators=checks.get(synthesizer.name, ()), **common)
    add_escalation(
        builder,
        [*routes, *([synth_route] if synth_route else [])],
        pattern=PATTERN,
        validators=checks if validate_human else None,
        max_retries=max_retries,
    )
    builder.add_node(
        AGGREGATE,
        AggregateNode(
            names,
            aggregator=None if synthesizer else aggregator,  # type: ignore[arg-type]
            quorum=needed,
            synthesizer=synth_route,
            prompts=prompts,
            termination=stop,
            on_conflict=on_conflict,
            on_disagreement=on_disagreement,
            reducers={f: r for f in fields if (r := reducer_of(schema, f)) is not None},
            field_types={f: t for f, t in field_types(schema).items() if f in fields},
        ),
        defer=True,
        metadata={"pattern": PATTERN},
        destinations=(
            END,
            *([synth_route.entry] if synth_route else []),
            *([SETTLE] if settles else []),
        ),
    )
    if settles:
        builder.add_node(
            SETTLE,
            SettleNode({f: t for f, t in field_types(schema).items() if f in fields}),
            metadata={"pattern": PATTERN},
            destinations=(AGGREGATE,),
        )
    builder.add_edge(START, FANOUT)
    return finish_graph(
        builder,
        pattern=PATTERN,
        redact=redact,
        redact_agents=redact_agents,
        on_end=on_end,
        finalize=FinalizeNode([synthesizer.name], fallback=partial_results(names))
        if synthesizer is not None and governed([synthesizer])
        else None,
    )
