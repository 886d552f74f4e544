"""Aggregators: how a fan-out's branch results become one answer."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, TypeAlias

from langchain_core.messages import HumanMessage
from langgraph.graph import END
from langgraph.types import Command

from langgraph_orchestra.agents import OUTPUT_KEY
from langgraph_orchestra.errors import TeamConfigError
from langgraph_orchestra.names import AGGREGATE
from langgraph_orchestra.nodes.conflicts import (
    Disagreement,
    SplitDecision,
    answer_key,
    branch_answers,
    settle,
    settle_conflicts,
    settle_split,
)
from langgraph_orchestra.nodes.fanout import branch_outcomes, held_fields, release_turns
from langgraph_orchestra.nodes.route import Route, as_mapping
from langgraph_orchestra.nodes.termination import Termination, closing
from langgraph_orchestra.prompts import Prompts
from langgraph_orchestra.records import CONFIDENCE, OnConflict, record_of
from langgraph_orchestra.state.records import AuditRecord, audit_record
from langgraph_orchestra.state.reducers import add_usage

__all__ = [
    "AggregateNode",
    "AggregatorFn",
    "concat",
    "majority_vote",
    "partial_results",
    "quorum_size",
]

AggregatorFn: TypeAlias = Callable[[Mapping[str, str]], str]
"""A custom aggregator: branch outputs by agent name (in team order) -> the answer."""

BuiltIn: TypeAlias = Literal["concat", "vote", "confidence"]
"""The built-in aggregators (`"confidence"`: the answer of the most confident branch,
from its typed output's `confidence` field)."""

_SPACE = re.compile(r"\s+")


def concat(outputs: Mapping[str, str]) -> str:
    """Join the outputs in team order, each under its agent's name."""
    return "\n\n".join(f"{name}: {text}" for name, text in outputs.items())


def _normal(text: str) -> str:
    return _SPACE.sub(" ", text).strip().casefold()


def majority_vote(outputs: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    """Return the most common output (ties: earliest in team order) and the tally.

    Outputs are compared ignoring case and runs of white space; the winner is returned
    as its first voter wrote it.
    """
    normal = {name: _normal(text) for name, text in outputs.items()}
    tally = Counter(normal.values())
    best = max(tally.values())
    for name, key in normal.items():
        if tally[key] == best:
            return outputs[name], {"winner": name, "votes": best, "tally": dict(tally)}
    raise ValueError("majority_vote needs at least one output")  # unreachable: best exists


def quorum_size(quorum: int | float | None, branches: int) -> int:
    """Return how many successful branches a run needs (`None`: one)."""
    if quorum is None:
        return 1
    if isinstance(quorum, bool) or not isinstance(quorum, int | float):
        raise TeamConfigError(
            f"quorum must be a count (1..{branches}) or a fraction (0 < q <= 1), got {quorum!r}"
        )
    if isinstance(quorum, int):
        if not 1 <= quorum <= branches:
            raise TeamConfigError(
                f"quorum={quorum} is out of range: give 1..{branches} (the number of "
                "branches) or a fraction 0 < q <= 1"
            )
        return quorum
    if not 0 < quorum <= 1:
        raise TeamConfigError(
            f"quorum={quorum} is out of range: a fraction must be 0 < q <= 1, or give a "
            f"count 1..{branches}"
        )
    return max(1, math.ceil(quorum * branches))


class AggregateNode:
    """Combines the branches' results once all are done (a deferred node).

    LangGraph also runs a deferred node when a run pauses on an interrupt, so the node
    checks that every started branch has a result and otherwise waits (does nothing);
    the last branch to finish, or its gate, brings the run back here.

    With fewer successful branches than the quorum, or after a stop (a rejection or an
    abort), it ends the run with the partial results joined and the stop reason; else it
    applies the aggregator. A synthesizing agent gets the answers as a request and the
    run continues at its node (`synthesizer`).
    """

    __name__ = AGGREGATE

    def __init__(
        self,
        order: Sequence[str],
        *,
        aggregator: BuiltIn | AggregatorFn | None,
        quorum: int,
        synthesizer: Route | None = None,
        prompts: Prompts,
        termination: Termination | None = None,
        on_conflict: OnConflict = "escalate",
        reducers: Mapping[str, Callable[[Any, Any], Any]] | None = None,
        field_types: Mapping[str, Any] | None = None,
        on_disagreement: Disagreement | None = None,
    ) -> None:
        """Build the node.

        Args:
            order: Branch names in team order.
            aggregator: `"concat"`, `"vote"` or a callable; `None` with a synthesizer.
            quorum: Successful branches needed.
            synthesizer: Route of the synthesizing agent, if any; it sees its context
                view of the task, then the request with the answers.
            prompts: Prompt templates (the synthesis request).
            termination: Asked when the branches are done (before aggregating or the
                synthesizer's turn): a stop ends the run with the outputs joined.
            on_conflict: How two branches writing one record field differently are
                settled (see `settle_conflicts`; `"escalate"` sends each open conflict to
                the `settle` node, which the pattern adds).
            reducers: The record fields whose writes the state schema's reducer combines.
            field_types: The record fields' declared types (a person's value is checked).
            on_disagreement: When split answers of `"vote"`/`"confidence"` go to a person.
        """
        self.order = tuple(order)
        self.aggregator = aggregator
        self.quorum = quorum
        self.synthesizer = synthesizer
        self.prompts = prompts
        self.termination = termination
        self.on_conflict = on_conflict
        self.reducers = dict(reducers or {})
        self.types = dict(field_types or {})
        self.on_disagreement = on_disagreement

    def __call__(self, state: Any) -> Command[Any]:
        """Aggregate and route."""
        state = as_mapping(state)
        results = branch_outcomes(state)
        if any(name not in results for name in state.get("dispatched") or ()):
            return Command(goto=())
        outbox = state.get("outbox") or {}
        settled, conflicts, conflict_audit, waiting = settle_conflicts(
            held_fields(outbox, self.order),
            on_conflict=self.on_conflict,
            reducers=self.reducers,
            types=self.types,
            run_id=str((state.get("run") or {}).get("id", "")),
            queue=state.get("exceptions") or (),
        )
        if waiting:
            # Conflicts wait for a person: open ones go to the queue and the settle node;
            # the turns stay held until every conflict is settled.
            if not conflicts:
                return Command(goto=())
            opened: dict[str, Any] = {"exceptions": conflicts, "audit": conflict_audit}
            return Command(update=opened, goto=[settle(c) for c in conflicts])
        update = release_turns(outbox, self.order, record=record_of(state), settled=settled)
        if conflicts:
            update["exceptions"] = conflicts
            update["audit"] = [*conflict_audit, *update.get("audit", ())]
        outputs = _successful(results, self.order)
        failed = [n for n in self.order if n in results and results[n] is None]
        detail: dict[str, Any] = {
            "succeeded": list(outputs),
            "failed": failed,
            "quorum": self.quorum,
        }
        reason = state.get("stop_reason")
        if not reason and self.termination is not None:
            # The counts as they stand once the held turns are flushed.
            flushed = {
                **state,
                "messages": [*state["messages"], *update.get("messages", ())],
                "run_usage": add_usage(state.get("run_usage"), update.get("run_usage")),
                "usage": add_usage(state.get("usage"), update.get("usage")),
                "round": state.get("round", 0) + update.get("round", 0),
            }
            reason = self.termination(flushed)
        if reason or len(outputs) < self.quorum:
            reason = reason or "quorum_not_met"
            record = audit_record("routing", None, decision="partial", **detail)
            return self._end(update, _joined(outputs), reason, record)
        if self.synthesizer is not None:
            answers = "\n\n".join(
                self.prompts.synthesis_item.format(name=n, text=t) for n, t in outputs.items()
            )
            request = HumanMessage(self.prompts.synthesis.format(answers=answers), name=AGGREGATE)
            record = audit_record("routing", None, decision="synthesize", **detail)
            synth = self.synthesizer
            view = [*synth.view(state, synth.agent.name), request]
            update["messages"] = [*update.get("messages", ()), request]
            update["audit"] = [*update.get("audit", ()), record]
            return Command(update=update, goto=synth.start(view))
        if self.aggregator == "confidence" or (
            self.aggregator == "vote" and (self.on_disagreement is not None or _typed(outbox))
        ):
            decided, tally, split = self._decide(outputs, outbox)
            detail.update(tally)
            if split is not None:
                record = audit_record(
                    "routing",
                    None,
                    decision="disagreement",
                    action=split.action,
                    picked=split.agent,
                    reviewer=split.reviewer,
                    **detail,
                )
                if split.action == "abort":
                    return self._end(update, _joined(outputs), "aborted", record)
                return self._end(update, decided, "completed", record)
            final = str(decided)
        elif self.aggregator == "vote":
            final, tally = majority_vote(outputs)
            detail.update(tally)
        elif self.aggregator == "concat" or self.aggregator is None:
            final = concat(outputs)
        else:
            final = str(self.aggregator(outputs))
        record = audit_record(
            "routing", None, decision="aggregate", aggregator=_label(self.aggregator), **detail
        )
        return self._end(update, final, "completed", record)

    def _decide(
        self, outputs: Mapping[str, str], outbox: Mapping[str, Any]
    ) -> tuple[str | None, dict[str, Any], SplitDecision | None]:
        """Pick by confidence or by a confidence-weighted vote; a split may go to a person."""
        answers = branch_answers(outputs, outbox)
        keys = {n: answer_key(a, outbox, _normal(a["answer"])) for n, a in answers.items()}
        weights = {
            n: a["confidence"] if a["confidence"] is not None else 1.0 for n, a in answers.items()
        }
        if self.aggregator == "confidence":
            leader = max(answers, key=lambda n: weights[n])  # ties: earliest in team order
        else:
            totals: dict[str, float] = {}
            for name in answers:
                totals[keys[name]] = totals.get(keys[name], 0.0) + weights[name]
            best = max(totals.values())
            leader = next(n for n in answers if totals[keys[n]] == best)
        total = sum(weights.values())
        share = (
            sum(w for n, w in weights.items() if keys[n] == keys[leader]) / total
            if total > 0
            else 1.0
        )
        tally: dict[str, Any] = {"winner": leader, "share": round(share, 6), "weights": weights}
        final, split = settle_split(
            answers, leader=leader, share=share, keys=keys, on_disagreement=self.on_disagreement
        )
        if split is None:
            return answers[leader]["answer"], tally, None
        return final, tally, split

    def _end(
        self, update: dict[str, Any], final: str | None, reason: str, record: AuditRecord
    ) -> Command[Any]:
        closed = closing(final, reason, before=[*update.get("audit", ()), record])
        return Command(update={**update, **closed}, goto=END)


def partial_results(order: Sequence[str]) -> Callable[[Mapping[str, Any]], str | None]:
    """Return a function giving a state's successful branch outputs joined in `order`."""

    def joined(state: Mapping[str, Any]) -> str | None:
        return _joined(_successful(branch_outcomes(state), order))

    return joined


def _successful(outcomes: Mapping[str, str | None], order: Sequence[str]) -> dict[str, str]:
    """The branches that gave an output, in team order."""
    return {n: text for n in order if (text := outcomes.get(n)) is not None}


def _joined(outputs: Mapping[str, str]) -> str | None:
    """The outputs joined (a partial answer), or `None` when there are none."""
    return concat(outputs) if outputs else None


def _typed(outbox: Mapping[str, Any]) -> bool:
    """Whether any held branch answered with a typed output carrying a confidence."""
    return any(
        turn["messages"]
        and CONFIDENCE in (turn["messages"][-1].response_metadata.get(OUTPUT_KEY) or {})
        for turn in outbox.values()
    )


def _label(aggregator: object) -> str:
    if isinstance(aggregator, str):
        return aggregator
    return getattr(aggregator, "__name__", type(aggregator).__name__)
