"""`create_network`: peers message each other; each round's recipients run concurrently."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from langgraph.graph import END, START, StateGraph

from langgraph_orchestra.agents import Agent, AgentRunner, check_team
from langgraph_orchestra.conditions import Condition
from langgraph_orchestra.context import ContextPolicy, Summary, follow_up_context, resolve_context
from langgraph_orchestra.errors import TeamConfigError
from langgraph_orchestra.graphs._common import (
    check_flag,
    check_max_revisions,
    check_termination,
    check_validators,
    check_whole,
    finish_graph,
    new_builder,
)
from langgraph_orchestra.names import FANOUT, START_RUN
from langgraph_orchestra.nodes.completion import Action
from langgraph_orchestra.nodes.delegation import JOIN
from langgraph_orchestra.nodes.fanout import FanOutNode, hold_turn
from langgraph_orchestra.nodes.network import NetworkJoin, NetworkStart, NetworkTools, network_view
from langgraph_orchestra.nodes.route import Route
from langgraph_orchestra.nodes.termination import Termination
from langgraph_orchestra.nodes.turn import Validator
from langgraph_orchestra.nodes.wiring import add_agents
from langgraph_orchestra.prompts import DEFAULT_PROMPTS, Prompts
from langgraph_orchestra.redaction import Redact
from langgraph_orchestra.state.schemas import NetworkState, check_state_schema
from langgraph_orchestra.tracing import ModelPrice, merge_prices

__all__ = ["create_network"]

PATTERN = "network"


def _recipients(state: Mapping[str, Any]) -> list[str]:
    return list(state.get("inbox") or ())


def _check_links(
    links: Literal["all"] | Mapping[str, Sequence[str]], names: Sequence[str]
) -> dict[str, tuple[str, ...]]:
    if links == "all":
        return {n: tuple(m for m in names if m != n) for n in names}
    if not isinstance(links, Mapping):
        raise TeamConfigError(f"links must be 'all' or a mapping {{agent: [peers]}}, got {links!r}")
    allowed: dict[str, tuple[str, ...]] = dict.fromkeys(names, ())
    for source, peers in links.items():
        if source not in names:
            raise TeamConfigError(f"Unknown agent '{source}' in links; known agents: {list(names)}")
        if isinstance(peers, str) or not isinstance(peers, Sequence):
            raise TeamConfigError(f"links['{source}'] must be a list of agent names, got {peers!r}")
        for peer in peers:
            if peer == source:
                raise TeamConfigError(f"Agent '{source}' cannot send messages to itself")
            if peer not in names:
                others = [n for n in names if n != source]
                raise TeamConfigError(
                    f"Unknown peer '{peer}' for agent '{source}' in links; known agents: {others}"
                )
        allowed[source] = tuple(dict.fromkeys(peers))
    return allowed


def _check_entry(entry: Sequence[str] | None, names: Sequence[str]) -> list[str]:
    if entry is None:
        return list(names)
    if isinstance(entry, str) or not isinstance(entry, Sequence) or not entry:
        raise TeamConfigError(f"entry must be a non-empty list of agent names, got {entry!r}")
    unknown = [n for n in entry if n not in names]
    if unknown:
        raise TeamConfigError(f"Unknown entry agents {unknown}; known agents: {list(names)}")
    return [n for n in names if n in entry]  # team order


def create_network(
    agents: Sequence[Agent],
    *,
    links: Literal["all"] | Mapping[str, Sequence[str]] = "all",
    entry: Sequence[str] | None = None,
    max_messages: int = 50,
    quiet_rounds: int = 1,
    termination: Condition | None = None,
    context: ContextPolicy = "own",
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
    """Build a network: peers message each other; each round's recipients run concurrently.

    The run goes in rounds. In the first, the run's input goes to every agent (or to
    the `entry` agents), which take their turns concurrently. Each model agent has a
    `send_to_<peer>` tool per peer it is linked to, and `finish(answer)`; the pattern
    answers these calls itself (every call gets exactly one result: a send to an
    unlinked or unknown agent is refused with an error result naming the allowed peers).
    The messages sent in a round are delivered together at its end, and the recipients
    then take their turns concurrently, each seeing its context (`context`) and the
    messages delivered to it. Agents that are not models reply but send nothing. The
    mailboxes are state: a run resumed in another process delivers no message twice and
    loses none.

    The run ends (`stop_reason`) when an agent calls `finish` (`finished`: `final` is
    its answer), when `quiet_rounds` rounds in a row pass without a message (`quiet`;
    after a quiet round short of it, every agent takes another turn), when the sends of
    a round would pass `max_messages` in the run (`max_messages`; none of them is
    delivered), or when a sender repeats its previous message to the same recipient
    (`loop`); `termination` applies too. Except after `finish`, `final` is the latest
    substantive message: an agent's text or a message it sent.

    Args:
        agents: The agents.
        links: Who may message whom: `"all"` or `{"a": ["b"], ...}` (an agent missing
            from the mapping sends to no one).
        entry: The agents the run's input goes to (default: all), in team order.
        max_messages: Messages delivered per run, at most.
        quiet_rounds: Rounds in a row without a message that end the run.
        termination: A condition that ends the run (asked at each round's end).
        context: Default context policy for agents that set none.
        validators: Output checks per agent name.
        max_revisions: Revisions a human reviewer may ask per output (approval gates).
        validate_human: Run the validators on human content too (a reviewer's `edit` and
            `respond`, a supplied output); `False` trusts the reviewers.
        max_retries: Times a human may retry one failed turn of an escalating agent; its
            next failure then stops the run with `stop_reason="max_retries"`.
        state_schema: A state schema extending `NetworkState`.
        prices: Extra model prices for cost accounting.
        prompts: Prompt templates (send and finish tools, their results, delivered
            messages).
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
        team = create_network(
            [Agent("analyst", "Reads the numbers", model=m1),
             Agent("critic", "Challenges conclusions", model=m2)],
            links={"analyst": ["critic"], "critic": ["analyst"]},
            max_messages=20,
        ).compile(checkpointer=saver)
        ```
    """
    team = check_team(agents, pattern=PATTERN)
    names = [a.name for a in team]
    allowed = _check_links(links, names)
    first = _check_entry(entry, names)
    check_whole(max_messages, "max_messages", minimum=1)
    check_whole(quiet_rounds, "quiet_rounds", minimum=1)
    checks = check_validators(validators, names)
    check_max_revisions(max_revisions)
    check_flag(validate_human, "validate_human")
    check_whole(max_retries, "max_retries", minimum=0)
    condition = check_termination(termination, pattern=PATTERN)
    schema = check_state_schema(state_schema, NetworkState, pattern=PATTERN)
    view = resolve_context(context, owner=PATTERN)
    _no_summary(context, team)
    price_table = merge_prices(prices)
    stop = Termination(condition, speakers=names)
    by_name = {a.name: a for a in team}

    routes = [
        Route(
            prompts=prompts,
            agent=agent,
            node=agent.name,
            next=JOIN,
            stop=JOIN,
            view=network_view(
                resolve_context(agent.context) if agent.context is not None else view, prompts
            ),
            follow_up=follow_up_context(agent.context if agent.context is not None else context),
            results=True,
            write=None if agent.approves_after else hold_turn,
        )
        for agent in team
    ]
    builder = new_builder(schema, agents=team, pattern=PATTERN, outputs=False, one_owner=True)
    builder.add_node(
        START_RUN,
        NetworkStart(first, stop),
        metadata={"pattern": PATTERN},
        destinations=(FANOUT, END),
    )
    builder.add_node(
        FANOUT,
        FanOutNode(
            routes,
            max_concurrency=None,
            first=True,
            select=_recipients,
            join=JOIN,
            pattern=PATTERN,
            prices=price_table,
        ),
        metadata={"pattern": PATTERN},
        destinations=(*(r.entry for r in routes), JOIN),
    )
    # Agents whose only tools are the network's are called directly, without a subgraph.
    runners: dict[str, AgentRunner] = {}
    for agent in team:
        if agent.model is not None:
            tools = NetworkTools(agent, [by_name[p] for p in allowed[agent.name]], prompts=prompts)
            runners[agent.name] = AgentRunner(
                agent, prices=price_table, middleware=[tools], answers=tools
            )
    add_agents(
        builder,
        routes,
        pattern=PATTERN,
        prices=price_table,
        prompts=prompts,
        max_revisions=max_revisions,
        validators=checks,
        validate_human=validate_human,
        max_retries=max_retries,
        runners=runners,
    )
    builder.add_node(
        JOIN,
        NetworkJoin(names, termination=stop, max_messages=max_messages, quiet_rounds=quiet_rounds),
        defer=True,
        metadata={"pattern": PATTERN},
        destinations=(FANOUT, END),
    )
    builder.add_edge(START, START_RUN)
    return finish_graph(
        builder, pattern=PATTERN, redact=redact, redact_agents=redact_agents, on_end=on_end
    )


def _no_summary(context: ContextPolicy, team: Sequence[Agent]) -> None:
    """Refuse a `Summary` context: each agent sees its own conversation with its peers."""
    given = [("context", context), *((f"Agent '{a.name}' context", a.context) for a in team)]
    for where, policy in given:
        if isinstance(policy, Summary):
            raise TeamConfigError(
                f"network: {where}=Summary(...) is not supported: each agent sees its own "
                "conversation with its peers, which one running summary cannot serve; use "
                "Window(k) or TokenBudget(n) to bound what an agent sees"
            )
