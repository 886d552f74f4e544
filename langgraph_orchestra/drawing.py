"""Drawing a team: its graph with every nested team drawn inside its agent's node.

A team nested as an agent (`Agent(name, runnable=compiled_team)`) runs inside that
agent's node, so LangGraph's own drawing (`get_graph(xray=True)`) shows the node and
nothing of the team in it. `team_graph` looks into each agent node: a nested team's
graph (its own nested teams drawn likewise, at any depth) replaces the node, as
LangGraph draws a subgraph node with `xray`; in Mermaid it is a `subgraph` named after
the agent, its nodes' ids prefixed with the path (`research:writer`). The labels show
what a reader needs (the node, its pattern and agent), not how LangGraph schedules it
(`defer`). A team without nested teams is drawn as LangGraph draws it.
"""

from __future__ import annotations

import runpy
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, cast

from langchain_core.runnables.graph import Graph, Node
from langgraph.graph import StateGraph
from langgraph.pregel import Pregel

from langgraph_orchestra.agents import Agent
from langgraph_orchestra.errors import TeamConfigError
from langgraph_orchestra.nodes.turn import AgentNode

__all__ = ["GRAPH_REF_HINT", "HIDDEN_METADATA", "draw_team", "load_graph", "team_graph"]

GRAPH_REF_HINT = (
    "give FILE.py:NAME (as langgraph.json does), NAME a StateGraph or a compiled graph "
    "the file defines"
)
"""What a graph reference looks like (the hint of `load_graph`'s errors)."""

HIDDEN_METADATA = ("defer",)
"""Node metadata LangGraph adds for its scheduling, left out of the labels."""


def _compiled(
    team: StateGraph[Any, Any, Any, Any] | Pregel[Any, Any, Any, Any],
) -> Pregel[Any, Any, Any, Any]:
    if isinstance(team, StateGraph):
        return team.compile()
    if isinstance(team, Pregel):
        return team
    raise TypeError(f"team_graph takes a StateGraph or a compiled graph, got {type(team).__name__}")


def _nested(graph: Graph, agents: Mapping[str, Agent]) -> dict[str, Pregel[Any, Any, Any, Any]]:
    """The nodes of `graph` that run a nested team, and that team's compiled graph."""
    found: dict[str, Pregel[Any, Any, Any, Any]] = {}
    for name, node in graph.nodes.items():
        agent = node.data.route.agent if isinstance(node.data, AgentNode) else agents.get(name)
        if agent is not None and isinstance(agent.runnable, Pregel):
            found[name] = agent.runnable
    return found


def _replace(graph: Graph, name: str, inner: Graph) -> None:
    """Put `inner` in place of the node `name` (as LangGraph draws a subgraph node)."""
    if len(inner.nodes) <= 1 or inner.first_node() is None or inner.last_node() is None:
        return
    inner.trim_first_node()
    inner.trim_last_node()
    graph.nodes.pop(name)
    first, last = graph.extend(inner, prefix=name)
    for i, edge in enumerate(graph.edges):
        if edge.source == name:
            edge = edge.copy(source=cast(Node, last).id)
        if edge.target == name:
            edge = edge.copy(target=cast(Node, first).id)
        graph.edges[i] = edge


def team_graph(
    team: StateGraph[Any, Any, Any, Any] | Pregel[Any, Any, Any, Any],
    agents: Iterable[Agent] = (),
) -> Graph:
    """Return the drawable graph of `team`, each nested team drawn inside its agent's node.

    Args:
        team: The team's graph, compiled or not (compiled here without a checkpointer).
        agents: Agents whose node the pattern's agent nodes do not reveal (a graph built
            by hand with a node named after an agent that runs a compiled team); the
            agents of this library's patterns are found without it.

    Returns:
        LangGraph's drawable `Graph` (`draw_mermaid()`, `draw_ascii()`, ...).

    Example:
        ```python
        inner = create_sequential([writer, editor]).compile()
        outer = create_group_chat([Agent("drafting", runnable=inner), critic])
        print(team_graph(outer).draw_mermaid())  # drafting is a subgraph: writer, editor
        ```
    """
    graph = _compiled(team).get_graph(xray=True)
    for key, node in list(graph.nodes.items()):
        if node.metadata and any(hidden in node.metadata for hidden in HIDDEN_METADATA):
            kept = {k: v for k, v in node.metadata.items() if k not in HIDDEN_METADATA}
            graph.nodes[key] = node._replace(metadata=kept or None)
    for name, inner in _nested(graph, {a.name: a for a in agents}).items():
        _replace(graph, name, team_graph(inner))
    return graph


def draw_team(
    team: StateGraph[Any, Any, Any, Any] | Pregel[Any, Any, Any, Any],
    agents: Iterable[Agent] = (),
) -> str:
    """Return `team`'s Mermaid diagram, nested teams drawn inside (see `team_graph`).

    Example:
        ```python
        print(draw_team(create_hierarchical([Agent("research", runnable=team)], ...)))
        ```
    """
    return team_graph(team, agents).draw_mermaid()


def load_graph(ref: str) -> StateGraph[Any, Any, Any, Any] | Pregel[Any, Any, Any, Any]:
    """Return the graph `ref` names: `path/to/file.py:name`, as `langgraph.json` writes it.

    The file is run (as LangGraph's server loads its graphs: a team file in Python is
    code, trust it as such) and `name` is taken from what it defines.

    Raises:
        TeamConfigError: `ref` is malformed, the file is missing or fails, or `name` is
            not a graph it defines; the message says which, `hint` how to write one.

    Example:
        ```python
        print(draw_team(load_graph("examples/graphs.py:hierarchical")))
        ```
    """
    path, colon, name = ref.rpartition(":")
    if not colon or not path.endswith(".py") or not name.isidentifier():
        raise TeamConfigError(f"'{ref}' is not a graph reference FILE.py:NAME", hint=GRAPH_REF_HINT)
    if not Path(path).is_file():
        raise TeamConfigError(f"no such file: {path}", hint=GRAPH_REF_HINT)
    try:
        defined = runpy.run_path(path)
    except Exception as error:
        raise TeamConfigError(
            f"running {path} failed: {type(error).__name__}: {error}", hint=GRAPH_REF_HINT
        ) from error
    graphs = sorted(k for k, v in defined.items() if isinstance(v, StateGraph | Pregel))
    if name not in defined:
        raise TeamConfigError(
            f"{path} defines no '{name}'; the graphs it defines: {graphs}", hint=GRAPH_REF_HINT
        )
    target = defined[name]
    if not isinstance(target, StateGraph | Pregel):
        raise TeamConfigError(
            f"'{name}' in {path} is {type(target).__name__}, not a StateGraph or a compiled "
            f"graph; the graphs it defines: {graphs}",
            hint=GRAPH_REF_HINT,
        )
    return target
