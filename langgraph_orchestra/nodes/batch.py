"""The batch node: runs a chunk of fan-out branches in one LangGraph task.

LangGraph's cost per task grows with the width of a superstep (each task's writes are
checked against the step's pending writes), so a 1000-branch `Send` fan-out spends most
of its wall time in bookkeeping. A chunk of `k` branches sent to this node as one task
runs them together (`asyncio.gather` when async, a thread pool when sync) and returns
their updates as one write list, in the order given (team order).

Only branches that cannot pause go into a chunk: an interrupt inside a chunk would
re-run every branch of it on resume. The chunk is the unit of durability: a branch
that raises fails the chunk, and a resume re-runs the whole chunk (the chunks that had
finished keep their results).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import BaseMessage
from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.runnables.config import ContextThreadPoolExecutor
from langgraph.pregel import Pregel
from langgraph.types import Command, Send

from langgraph_orchestra.agents import Agent
from langgraph_orchestra.errors import TeamConfigError
from langgraph_orchestra.names import BATCH
from langgraph_orchestra.nodes.turn import AgentNode

__all__ = [
    "AUTO_BATCH_TASKS",
    "AUTO_BATCH_WIDTH",
    "BATCH",
    "BatchNode",
    "batch_size",
    "batchable",
    "chunk_sends",
]

AUTO_BATCH_WIDTH = 100
"""Above this many batchable branches, a fan-out batches them by default."""
AUTO_BATCH_TASKS = 20
"""How many chunks an automatic batch size aims for (`ceil(branches / 20)` each)."""


def batchable(agent: Agent) -> bool:
    """Whether `agent`'s branch may share a task (it cannot pause).

    It has no approval gate, does not escalate and is not a nested graph: any of these
    may interrupt, and an interrupt inside a chunk would re-run the whole chunk.
    """
    return (
        agent.approval is None
        and agent.on_error != "escalate"
        and not isinstance(agent.runnable, Pregel)
        and not (agent.writes or agent.requires)  # its turn starts from the record
    )


def batch_size(size: int | None, branches: int) -> int:
    """Return the chunk size for `branches` batchable branches (1: no batching).

    Args:
        size: What the factory was given: `None` for automatic (batching only above
            `AUTO_BATCH_WIDTH` branches, in about `AUTO_BATCH_TASKS` chunks), `1` for
            one task per branch, `k >= 2` for chunks of `k`.
        branches: How many branches could be batched.

    Raises:
        TeamConfigError: If `size` is not a whole number >= 1 or None.
    """
    if size is None:
        if branches <= AUTO_BATCH_WIDTH:
            return 1
        return math.ceil(branches / AUTO_BATCH_TASKS)
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise TeamConfigError(
            f"batch_size must be a whole number >= 1 (1: one task per branch) or None "
            f"(automatic above {AUTO_BATCH_WIDTH} branches), got {size!r}"
        )
    return size


def chunk_sends(
    items: Sequence[tuple[str, list[BaseMessage]]], size: int, node: str = BATCH
) -> list[Send]:
    """Return one `Send` to the batch `node` per chunk of `size` `(agent, view)` items."""
    return [
        Send(node, {"batch": [{"agent": a, "view": v} for a, v in items[i : i + size]]})
        for i in range(0, len(items), size)
    ]


class BatchNode(Runnable[Any, Command[Any]]):
    """Runs the branches of a chunk (`{"batch": [{"agent", "view"}, ...]}`) together.

    Each branch runs as its agent's own turn node would (the same `AgentNode`: usage,
    audit record, validators, `on_error="continue"`), and the chunk returns every
    branch's update, in the chunk's order, as one list of writes, then goes to `next`.
    A branch that raises (`on_error="raise"`) fails the chunk once the others are done.
    """

    def __init__(self, nodes: Mapping[str, AgentNode], *, next: str) -> None:
        """Build the node.

        Args:
            nodes: The turn node of every agent a chunk may name.
            next: Where the run goes once the chunk is done (the fan-out's join).
        """
        self.nodes = dict(nodes)
        self.next = next
        self.name = BATCH

    def _chunk(self, input: Any) -> list[tuple[AgentNode, dict[str, Any]]]:
        return [(self.nodes[item["agent"]], {"view": item["view"]}) for item in input["batch"]]

    def _merge(self, outcomes: Sequence[Command[Any] | BaseException]) -> Command[Any]:
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome  # the first failure in chunk order, once all are done
        # One write per branch channel, in chunk order: each is reduced as if the branch
        # had written it from its own task.
        writes: list[tuple[str, Any]] = [
            item
            for outcome in outcomes
            if isinstance(outcome, Command) and isinstance(outcome.update, Mapping)
            for item in outcome.update.items()
        ]
        return Command(update=writes, goto=self.next)

    def invoke(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Command[Any]:
        """Run the chunk's branches on a thread pool, one thread each."""
        chunk = self._chunk(input)
        outcomes: list[Command[Any] | BaseException] = []
        with ContextThreadPoolExecutor(max_workers=len(chunk)) as pool:
            futures = [pool.submit(node.invoke, payload, config) for node, payload in chunk]
            for future in futures:
                error = future.exception()
                outcomes.append(error if error is not None else future.result())
        return self._merge(outcomes)

    async def ainvoke(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Command[Any]:
        """Run the chunk's branches as concurrent tasks (`asyncio.gather`)."""
        chunk = self._chunk(input)
        outcomes = await asyncio.gather(
            *(node.ainvoke(payload, config) for node, payload in chunk), return_exceptions=True
        )
        return self._merge(outcomes)
