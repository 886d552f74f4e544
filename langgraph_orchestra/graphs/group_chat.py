"""`create_group_chat` and `create_maker_checker`: a manager gives the floor, turn by turn."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeAlias, get_args

from langgraph.graph import END, START, StateGraph

from langgraph_orchestra.agents import Agent, AgentRunner, check_name, check_team
from langgraph_orchestra.conditions import Condition
from langgraph_orchestra.context import ContextPolicy, follow_up_context, resolve_context
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
from langgraph_orchestra.names import MANAGER, START_RUN
from langgraph_orchestra.nodes.completion import Action
from langgraph_orchestra.nodes.finalize import FinalizeNode
from langgraph_orchestra.nodes.human import HumanSeatNode
from langgraph_orchestra.nodes.manager import ManagerNode
from langgraph_orchestra.nodes.route import Route
from langgraph_orchestra.nodes.selectors import (
    Floor,
    FunctionSelector,
    LLMSelector,
    RoundRobin,
    Selector,
    SpeakerFn,
)
from langgraph_orchestra.nodes.termination import Termination
from langgraph_orchestra.nodes.turn import Validator
from langgraph_orchestra.nodes.verdict import Consensus, Verdict, VerdictStop, render_verdict
from langgraph_orchestra.nodes.wiring import add_agents
from langgraph_orchestra.prompts import DEFAULT_PROMPTS, Prompts
from langgraph_orchestra.redaction import Redact
from langgraph_orchestra.resilience import ModelLike, resilient_model
from langgraph_orchestra.state.schemas import GroupChatState, check_state_schema
from langgraph_orchestra.tracing import ModelPrice, merge_prices

__all__ = ["SELECTORS", "SelectorName", "create_group_chat", "create_maker_checker"]

PATTERN = "group_chat"

SelectorName: TypeAlias = Literal["round_robin", "llm"]
"""The built-in speaker selectors."""

SELECTORS: tuple[SelectorName, ...] = get_args(SelectorName)
"""Names of the built-in selectors (`SelectorName`)."""


def create_group_chat(
    agents: Sequence[Agent],
    *,
    selector: SelectorName | SpeakerFn = "round_robin",
    manager_model: ModelLike | None = None,
    allowed_transitions: Mapping[str, Sequence[str]] | None = None,
    allow_repeat: bool = False,
    termination: Condition | None = None,
    max_rounds: int = 20,
    human: str | None = None,
    final_from: str | None = None,
    approvers: Sequence[str] | None = None,
    context: ContextPolicy = "full",
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
    """Build a group chat: a manager gives the floor to one participant per round.

    A star: the manager node picks each speaker and routes to them with `Command`; each
    speaker's turn comes back to it. A round is one speaker turn (`state["round"]`); the
    speaker last chosen is `state["speaker"]`. Before every choice the manager asks the
    termination rule: `termination` or `max_rounds` (always applied), and, with
    `approvers`, the consensus. The chat ends with `final` = the real latest answer (of
    `final_from`, when given) and `stop_reason`.

    Args:
        agents: The participants, in team order.
        selector: `"round_robin"` (team order); `"llm"` (`manager_model` chooses by
            structured output among the allowed names, with a reason; an invalid choice
            is asked again, then the next in turn is taken); or a callable
            `state -> name | None` (`None` ends the chat).
        manager_model: The selector's model, for `selector="llm"` (its calls count in
            `usage` as `manager`); a `Resilient` model adds fallbacks and a breaker.
        allowed_transitions: Who may speak after whom, `{"writer": ["critic"], ...}`; a
            participant missing from it may be followed by anyone.
        allow_repeat: Whether a speaker may speak twice in a row.
        termination: A condition that ends the chat.
        max_rounds: The hard bound on rounds, always applied.
        human: The name of a participant who is a person: when chosen, the run
            interrupts with a `HumanTurnRequest`, resumed with `{"content": "..."}`.
        final_from: Only this participant's latest message is the answer.
        approvers: Agents who answer with a `Verdict` on the latest proposal; when all
            approve it, the chat ends as `"approved"` (each verdict is in the audit).
        context: Default context policy for agents that set none (and the LLM
            selector's view of the conversation).
        validators: Output checks per agent name (or the human seat's name).
        max_revisions: Revisions a human reviewer may ask per output (approval gates).
        validate_human: Run the validators on human content too (a reviewer's `edit` and
            `respond`, an escalation's `supply`, the human seat's messages when validators
            are given for its name): a refusal keeps the interrupt open and says why.
            `False` trusts the people.
        max_retries: Times a human may retry one failed turn of an escalating agent; its
            next failure then stops the run with `stop_reason="max_retries"`.
        state_schema: A state schema extending `GroupChatState`.
        prices: Extra model prices for cost accounting.
        prompts: Prompt templates (the selector's, the verdicts').
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
        team = create_group_chat(
            [Agent("writer", model=m1), Agent("critic", model=m2)],
            selector="llm", manager_model=m3, termination=TextMention("APPROVED"),
            max_rounds=8,
        ).compile()
        result = team.invoke({"messages": [("user", "Write a product tagline")]})
        result["final"], result["stop_reason"], result["usage"]["manager"]
        ```
    """
    return _group_chat(
        agents,
        selector=selector,
        manager_model=manager_model,
        allowed_transitions=allowed_transitions,
        allow_repeat=allow_repeat,
        termination=termination,
        max_rounds=max_rounds,
        human=human,
        final_from=final_from,
        approvers=approvers,
        context=context,
        validators=validators,
        max_revisions=max_revisions,
        validate_human=validate_human,
        max_retries=max_retries,
        state_schema=state_schema,
        prices=prices,
        prompts=prompts,
        redact=redact,
        redact_agents=redact_agents,
        on_end=on_end,
    )


def create_maker_checker(
    maker: Agent,
    checker: Agent,
    *,
    max_revisions: int = 3,
    termination: Condition | None = None,
    context: ContextPolicy = "full",
    validators: Mapping[str, Validator | Sequence[Validator]] | None = None,
    validate_human: bool = True,
    max_retries: int = 3,
    state_schema: type[Any] | None = None,
    prices: Mapping[str, ModelPrice] | None = None,
    prompts: Prompts = DEFAULT_PROMPTS,
    redact: Redact = None,
    redact_agents: bool = False,
    on_end: Sequence[Action] | None = None,
) -> StateGraph[Any, Any, Any, Any]:
    """Build a maker-checker loop: a group chat where the checker judges each draft.

    The maker drafts; the checker answers with a `Verdict` (a model checker by structured
    output, re-asked when invalid; a runnable checker returns a `Verdict` or its dict).
    `approve` ends the chat as `"approved"`; `revise` sends the maker back with the
    reasons. After `max_revisions` revisions a further `revise` ends it as
    `"max_revisions"`. Either way `final` is the maker's latest draft.

    Args:
        maker: The agent that drafts.
        checker: The agent that judges (a model without tools, or a runnable).
        max_revisions: How many revisions the maker may make.
        termination: A further condition that ends the loop.
        context: Default context policy.
        validators: Output checks per agent name.
        validate_human: Run the validators on human content too (a reviewer's `edit` and
            `respond`, an escalation's `supply`): a refusal keeps the interrupt open and says why.
            `False` trusts the people.
        max_retries: Times a human may retry one failed turn of an escalating agent; its
            next failure then stops the run with `stop_reason="max_retries"`.
        state_schema: A state schema extending `GroupChatState`.
        prices: Extra model prices for cost accounting.
        prompts: Prompt templates (`verdict`, `checker_revision`, `verdict_approved`).
        redact: Clears personal data and secrets from what leaves the run: audit
            details and exception records (`"default"`, a `Redactor(...)` or a callable
            `str -> str`; see `redaction`).
        redact_agents: Agents, managers and selectors read the transcript redacted too.
        on_end: Completion actions `state -> None` (sync or async), run once when a run
            ends, whatever its stop reason (see `nodes.completion`).

    Returns:
        The uncompiled graph.

    Example:
        ```python
        team = create_maker_checker(
            Agent("writer", model=m1, instructions="Draft the release note."),
            Agent("reviewer_bot", model=m2, instructions="Check facts and tone."),
            max_revisions=2,
        ).compile()
        result = team.invoke({"messages": [("user", "Release note for v2.1")]})
        result["stop_reason"]  # "approved" or "max_revisions"
        ```
    """
    for role, agent in (("maker", maker), ("checker", checker)):
        if not isinstance(agent, Agent):
            raise TeamConfigError(
                f"maker_checker {role} must be an Agent, got {type(agent).__name__}"
            )
    check_max_revisions(max_revisions)
    extra = check_termination(termination, pattern="maker_checker")
    verdict_stop = VerdictStop(checker.name, max_revisions)
    return _group_chat(
        [maker, checker],
        selector="round_robin",
        termination=verdict_stop if extra is None else verdict_stop | extra,
        max_rounds=2 * (max_revisions + 1),
        final_from=maker.name,
        verdicts={checker.name: prompts.verdict.format(maker=maker.name)},
        context=context,
        validators=validators,
        validate_human=validate_human,
        max_retries=max_retries,
        state_schema=state_schema,
        prices=prices,
        prompts=prompts,
        pattern="maker_checker",
        redact=redact,
        redact_agents=redact_agents,
        on_end=on_end,
    )


def _check_transitions(
    transitions: Mapping[str, Sequence[str]] | None, participants: Sequence[str]
) -> dict[str, tuple[str, ...]] | None:
    if transitions is None:
        return None
    if not isinstance(transitions, Mapping):
        raise TeamConfigError(
            "allowed_transitions must be a mapping {speaker: [who may follow]}, got "
            f"{type(transitions).__name__}"
        )
    checked: dict[str, tuple[str, ...]] = {}
    for speaker, targets in transitions.items():
        if speaker not in participants:
            raise TeamConfigError(
                f"allowed_transitions names unknown speaker '{speaker}'; "
                f"participants: {list(participants)}"
            )
        if isinstance(targets, str) or not isinstance(targets, Sequence):
            raise TeamConfigError(
                f"allowed_transitions['{speaker}'] must be a list of names, got {targets!r}"
            )
        for target in targets:
            if target not in participants:
                raise TeamConfigError(
                    f"allowed_transitions['{speaker}'] names unknown participant '{target}'; "
                    f"participants: {list(participants)}"
                )
        checked[speaker] = tuple(targets)
    return checked


def _selector(
    selector: object,
    manager_model: ModelLike | None,
    *,
    team: Sequence[Agent],
    human: str | None,
    context: ContextPolicy,
    prices: Mapping[str, ModelPrice],
    prompts: Prompts,
) -> Selector:
    if selector == "llm":
        if manager_model is None:
            raise TeamConfigError(
                "selector='llm' needs manager_model: the chat model that picks speakers"
            )
        descriptions = {a.name: a.description for a in team}
        if human is not None:
            descriptions[human] = "a person taking part in the conversation"
        return LLMSelector(
            resilient_model(manager_model, owner="group_chat manager_model"),
            descriptions=descriptions,
            view=resolve_context(context, owner=PATTERN),
            pattern=PATTERN,
            prices=prices,
            prompts=prompts,
        )
    if manager_model is not None:
        raise TeamConfigError(
            f"manager_model is only used by selector='llm', but selector={selector!r}"
        )
    if selector == "round_robin":
        return RoundRobin()
    if callable(selector) and not isinstance(selector, str):
        return FunctionSelector(selector)
    raise TeamConfigError(
        f"Unknown selector {selector!r}: use {', '.join(repr(s) for s in SELECTORS)} or a "
        "callable state -> name | None"
    )


def _group_chat(
    agents: Sequence[Agent],
    *,
    selector: object = "round_robin",
    manager_model: ModelLike | None = None,
    allowed_transitions: Mapping[str, Sequence[str]] | None = None,
    allow_repeat: bool = False,
    termination: Condition | None = None,
    max_rounds: int = 20,
    human: str | None = None,
    final_from: str | None = None,
    approvers: Sequence[str] | None = None,
    verdicts: Mapping[str, str] | None = None,
    context: ContextPolicy = "full",
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
    pattern: str = PATTERN,
) -> StateGraph[Any, Any, Any, Any]:
    team = check_team(agents, pattern=pattern)
    names = [a.name for a in team]
    participants = list(names)
    if human is not None:
        check_name(human, "human seat")
        if human in names:
            raise TeamConfigError(
                f"The human seat '{human}' has the name of an agent: give the person another name"
            )
        participants.append(human)
    check_whole(max_rounds, "max_rounds", minimum=1)
    if not isinstance(allow_repeat, bool):
        raise TeamConfigError(f"allow_repeat must be True or False, got {allow_repeat!r}")
    floor = Floor(
        tuple(participants), allow_repeat, _check_transitions(allowed_transitions, participants)
    )
    for speaker in participants:
        if not floor.candidates(speaker):
            raise TeamConfigError(
                f"No one may speak after '{speaker}' (allow_repeat={allow_repeat}, "
                f"allowed_transitions={allowed_transitions!r}): the chat would stall"
            )
    verdict_requests = dict(verdicts or {})
    if approvers is not None:
        if isinstance(approvers, str) or not approvers:
            raise TeamConfigError(
                f"approvers must be a non-empty list of agent names, got {approvers!r}"
            )
        for name in approvers:
            if name not in names:
                raise TeamConfigError(f"Unknown approver '{name}'; agents: {names}")
            verdict_requests[name] = prompts.approval
    if final_from is not None and final_from not in names:
        raise TeamConfigError(f"final_from names unknown agent '{final_from}'; agents: {names}")
    typed = [a.name for a in team if a.name in verdict_requests and a.output is not None]
    if typed:
        raise TeamConfigError(
            f"{pattern}: {typed} answer with a verdict (approvers, checkers): give them no "
            "output schema"
        )
    checks = check_validators(validators, participants)
    check_max_revisions(max_revisions)
    check_flag(validate_human, "validate_human")
    check_whole(max_retries, "max_retries", minimum=0)
    condition = check_termination(termination, pattern=pattern)
    if approvers:
        consensus = Consensus(tuple(approvers))
        condition = consensus if condition is None else condition | consensus
    price_table = merge_prices(prices)
    chooser = _selector(
        selector,
        manager_model,
        team=team,
        human=human,
        context=context,
        prices=price_table,
        prompts=prompts,
    )
    schema = check_state_schema(state_schema, GroupChatState, pattern=pattern)
    view = resolve_context(context, owner=pattern)
    answerers = [n for n in names if n not in verdict_requests]
    stop = Termination(condition, max_rounds=max_rounds, speakers=answerers, final_from=final_from)

    routes = [
        Route(
            prompts=prompts,
            agent=agent,
            node=agent.name,
            next=MANAGER,
            view=resolve_context(agent.context) if agent.context is not None else view,
            follow_up=follow_up_context(agent.context if agent.context is not None else context),
        )
        for agent in team
    ]
    entries = {r.agent.name: r.entry for r in routes}
    if human is not None:
        entries[human] = human
    by_name = {a.name: a for a in team}
    builder = new_builder(schema, agents=team, pattern=pattern)
    for begins in (True, False):
        builder.add_node(
            START_RUN if begins else MANAGER,
            ManagerNode(chooser, floor, entries=entries, termination=stop, begins=begins),
            metadata={"pattern": pattern, "agent": MANAGER},
            destinations=(*entries.values(), END),
        )
    # Approvers and checkers answer with a Verdict.
    runners = {
        name: AgentRunner(
            by_name[name],
            prices=price_table,
            output=Verdict,
            request=request,
            render=render_verdict(prompts, name),
        )
        for name, request in verdict_requests.items()
    }
    add_agents(
        builder,
        routes,
        pattern=pattern,
        prices=price_table,
        prompts=prompts,
        max_revisions=max_revisions,
        validators=checks,
        validate_human=validate_human,
        max_retries=max_retries,
        runners=runners,
    )
    if human is not None:
        builder.add_node(
            human,
            HumanSeatNode(
                human, next=MANAGER, validators=checks.get(human, ()) if validate_human else ()
            ),
            metadata={"pattern": pattern, "agent": human},
            destinations=(MANAGER,),
        )
    builder.add_edge(START, START_RUN)
    return finish_graph(
        builder,
        pattern=pattern,
        redact=redact,
        redact_agents=redact_agents,
        on_end=on_end,
        finalize=FinalizeNode([final_from] if final_from else answerers)
        if governed(team)
        else None,
    )
