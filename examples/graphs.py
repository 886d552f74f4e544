"""The example teams as module-level graphs, for `langgraph dev` (see `langgraph.json`).

Each graph is built from its YAML file and compiled without a checkpointer (LangGraph
Server gives it its own), named after its team (`named_team`: the root run of each server
run is the team's name, tagged `orchestra` and `pattern:<p>`). Set `ORCHESTRA_MODEL`
(e.g. `openai:gpt-4o-mini`) and optionally `ORCHESTRA_BASE_URL` (an OpenAI-compatible
server) to serve them on a real model; otherwise they replay the replies written in the
YAML files, on every thread and for every task (`PerThreadScriptedModel`), so the server
answers any number of runs offline.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from langgraph.graph.state import CompiledStateGraph

from langgraph_orchestra.errors import TeamConfigError
from langgraph_orchestra.spec import PATTERNS, build_team, load_spec
from langgraph_orchestra.tracing import named_team

HERE = Path(__file__).resolve().parent


def team_graph(pattern: str) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Build the example team of `pattern` from its YAML file, named after the team."""
    model = os.environ.get("ORCHESTRA_MODEL") or None
    base_url = os.environ.get("ORCHESTRA_BASE_URL") or None
    if base_url and not model:
        raise TeamConfigError(
            f"ORCHESTRA_BASE_URL is set ({base_url}) but ORCHESTRA_MODEL is not: set "
            "ORCHESTRA_MODEL too (e.g. ORCHESTRA_MODEL=openai:llama3.1), or unset "
            "ORCHESTRA_BASE_URL to serve the scripted examples"
        )
    spec = load_spec(HERE / PATTERNS[pattern].example)
    graph = build_team(spec, model_override=model, base_url=base_url, per_thread_scripts=True)
    return named_team(graph.compile(name=spec.name))


sequential = team_graph("sequential")
concurrent = team_graph("concurrent")
group_chat = team_graph("group_chat")
maker_checker = team_graph("maker_checker")
handoff = team_graph("handoff")
magentic = team_graph("magentic")
hierarchical = team_graph("hierarchical")
network = team_graph("network")
planner_executor = team_graph("planner_executor")
