"""The library's own names, in one place: node names, prefixes and reserved names.

The patterns, the spec, the CLI and `Agent`'s checks all read them from here.
"""

from __future__ import annotations

__all__ = [
    "AGGREGATE",
    "AUTHORIZE_PREFIX",
    "BATCH",
    "DISPATCH",
    "ESCALATE",
    "FANOUT",
    "FINALIZE",
    "HANDOFF",
    "MANAGER",
    "ON_END",
    "PLANNER",
    "RESERVED_NAMES",
    "RESERVED_PREFIXES",
    "REVIEWER",
    "REVIEW_PREFIX",
    "SETTLE",
    "START_RUN",
    "authorize_node",
    "fallback_name",
    "review_node",
]

FINALIZE = "finalize"
"""The node that ends a run."""
FANOUT = "fanout"
"""The node that starts a fan-out run."""
DISPATCH = "dispatch"
"""The node that starts further branches as earlier ones finish."""
AGGREGATE = "aggregate"
"""The (deferred) node that combines the branches' results."""
BATCH = "batch"
"""The node that runs a chunk of fan-out branches in one task."""
ESCALATE = "escalate"
"""The node where a human resolves an agent's failure."""
SETTLE = "settle"
"""The node where a person settles a fan-out's record conflict."""
MANAGER = "manager"
"""The node (and usage participant) of a loop pattern's manager."""
PLANNER = "planner"
"""The usage participant (and audit name) of a planner-executor's planner."""
HANDOFF = "handoff"
"""The node of a handoff team that carries a transfer out."""
START_RUN = "start"
"""The first node of a loop pattern's run: records the run's start."""
ON_END = "on_end"
"""The node that runs a team's completion actions once its run has ended."""
REVIEWER = "reviewer"
"""The message name of what a reviewer adds to the transcript."""

AUTHORIZE_PREFIX = "authorize_"
"""Prefix of an agent's before-gate node."""
REVIEW_PREFIX = "approve_"
"""Prefix of an agent's after-gate node."""
RESERVED_PREFIXES = (REVIEW_PREFIX, AUTHORIZE_PREFIX, "__")
"""Prefixes an agent name may not start with."""

RESERVED_NAMES = frozenset(
    {
        "human",
        REVIEWER,
        "user",
        "system",
        "assistant",
        "tool",
        FINALIZE,
        DISPATCH,
        FANOUT,
        AGGREGATE,
        BATCH,
        ESCALATE,
        SETTLE,
        MANAGER,
        HANDOFF,
        START_RUN,
        ON_END,
        "orchestra",
    }
)
"""Names an agent may not take: they name people, roles or the patterns' own nodes."""


def authorize_node(agent: str) -> str:
    """Return the name of `agent`'s before-gate node."""
    return f"{AUTHORIZE_PREFIX}{agent}"


def review_node(agent: str) -> str:
    """Return the name of `agent`'s after-gate node."""
    return f"{REVIEW_PREFIX}{agent}"


def fallback_name(participant: str, index: int) -> str:
    """The name a team file's scripted model of `participant` goes by: its chain position.

    0 is the participant's own model (`writer`); `index` >= 1 its fallbacks, in order
    (`writer/fallback1`). A resumed thread counts the scripted replies each one used
    under this name (`threads.consumed_replies`).
    """
    return participant if index == 0 else f"{participant}/fallback{index}"
