"""Write the notebooks of this folder from the cells below, then execute them.

The notebooks are stored executed (their outputs shown on GitHub); the test suite runs
them again (`tests/test_notebooks.py`) and checks they are what this script writes.
Every notebook runs offline, on scripted models, and checks its own results.

    python notebooks/build.py             # write and execute them all
    python notebooks/build.py --no-execute
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import nbformat
from nbformat import NotebookNode

HERE = Path(__file__).resolve().parent
KERNEL = {"display_name": "Python 3", "language": "python", "name": "python3"}
TIMEOUT = 120
"""Seconds one cell may take."""


def md(text: str) -> NotebookNode:
    """A markdown cell."""
    return nbformat.v4.new_markdown_cell(textwrap.dedent(text).strip())


def code(text: str) -> NotebookNode:
    """A code cell."""
    return nbformat.v4.new_code_cell(textwrap.dedent(text).strip())


# -- the quickstart --------------------------------------------------------------------------

QUICKSTART = [
    md(
        """
        # Quickstart: a team with an approval gate

        Two agents in a pipeline (`create_sequential`): a writer drafts, an editor
        polishes, and the editor's output waits for a person's approval. The models are
        scripted (`ScriptedModel`), so this runs offline; the next cell shows how to use
        a real model instead.
        """
    ),
    code(
        """
        import os

        from langgraph.checkpoint.memory import InMemorySaver
        from langgraph.types import Command

        from langgraph_orchestra import Agent, create_sequential
        from langgraph_orchestra.testing import ScriptedModel

        # A real model: set ORCHESTRA_MODEL (e.g. openai:gpt-4o-mini, with OPENAI_API_KEY and
        # pip install "langgraph-orchestra[openai]"); any "provider:model" string works.
        REAL_MODEL = os.environ.get("ORCHESTRA_MODEL")


        def model(*replies: str):
            return REAL_MODEL or ScriptedModel(list(replies))
        """
    ),
    code(
        """
        writer = Agent(
            "writer",
            model=model("Your refund is on its way."),
            instructions="Draft a reply to the customer.",
        )
        editor = Agent(
            "editor",
            model=model("Good news: your refund was issued today."),
            instructions="Polish the draft.",
            approval="after",
        )
        team = create_sequential([writer, editor]).compile(checkpointer=InMemorySaver())
        config = {"configurable": {"thread_id": "ticket-42"}}

        paused = team.invoke({"messages": [("user", "Where is my refund?")]}, config)
        request = paused["__interrupt__"][0].value
        print(f"{request['agent']} waits for approval: {request['content']}")
        """
    ),
    md(
        """
        The run is paused and saved in the checkpointer. A decision resumes it:
        `approve`, `reject` (with feedback: the agent revises), `edit` (replace the text)
        or `respond`.
        """
    ),
    code(
        """
        result = team.invoke(Command(resume={"action": "approve", "reviewer": "ana"}), config)
        print(result["final"], "|", result["stop_reason"])
        assert result["stop_reason"] == "completed"
        """
    ),
    md("Every turn, decision and stop is in the audit trail; usage is counted per agent."),
    code(
        """
        for record in result["audit"]:
            print(record["kind"], record["agent"], record["detail"])
        for name, usage in result["usage"].items():
            print(name, usage["calls"], "calls", usage["input_tokens"], "tokens in")
        """
    ),
]

# -- one notebook per pattern ----------------------------------------------------------------

PATTERN_TEXT = {
    "sequential": "Agents run one after another; each sees what the step before it wrote.",
    "concurrent": "Agents work on the same task at once; an aggregator joins their answers.",
    "group_chat": "Speakers take turns on one transcript; a manager model picks who speaks.",
    "handoff": "Agents transfer the conversation to each other with transfer tools.",
    "magentic": "A manager keeps a task ledger and a progress ledger, and directs each turn.",
    "hierarchical": "A manager delegates tasks to workers (in parallel) and writes the answer.",
    "planner_executor": "A planner writes a plan of steps; independent steps run in parallel.",
    "network": "Peers message each other directly until the work is done.",
}

DECISIONS = {
    "approval": "an agent's output waits for approval",
    "tool_approval": "a tool call waits for approval",
    "plan_review": "the manager's plan waits for review",
    "plan_approval": "the plan waits for approval",
}


def pattern_notebook(pattern: str) -> list[NotebookNode]:
    """A short notebook running the example team of `pattern`."""
    title = pattern.replace("_", " ").replace("planner executor", "planner-executor")
    return [
        md(
            f"""
            # The {title} pattern

            {PATTERN_TEXT[pattern]} This notebook runs the example team of
            `examples/{pattern}.yaml` on its scripted models (offline), approves what waits
            for a person, and shows the answer, the audit trail and the usage. In Python,
            the same team is `create_{pattern}(agents, ...)`.
            """
        ),
        code(
            f"""
            import os

            from langgraph.checkpoint.memory import InMemorySaver
            from langgraph.types import Command

            from langgraph_orchestra.spec import PATTERNS, build_team, example_path, load_spec
            from langgraph_orchestra.threads import drive

            spec = load_spec(example_path("{pattern}"))
            print(spec.description)
            print("agents:", ", ".join(agent.name for agent in spec.agents))
            print("fits:", PATTERNS["{pattern}"].fits)
            """
        ),
        md(
            """
            To run it on a real model, set `ORCHESTRA_MODEL` (e.g. `openai:gpt-4o-mini`)
            and, for an OpenAI-compatible server such as Ollama, `ORCHESTRA_BASE_URL`: every
            agent then uses that model instead of its scripted replies.
            """
        ),
        code(
            f"""
            team = build_team(
                spec,
                model_override=os.environ.get("ORCHESTRA_MODEL"),
                base_url=os.environ.get("ORCHESTRA_BASE_URL"),
            ).compile(checkpointer=InMemorySaver(), name=spec.name)
            config = {{"configurable": {{"thread_id": "{pattern}-1"}}}}

            info = drive(team, {{"messages": [("user", spec.example_input)]}}, config)
            while info.interrupts:  # approve whatever waits for a person
                decisions = {{}}
                for pending in info.interrupts:
                    print(f"⏸ {{pending.kind}} ({{pending.agent}})")
                    decisions[pending.id] = {{"action": "approve", "reviewer": "notebook"}}
                info = drive(team, Command(resume=decisions), config)
            print("stop reason:", info.stop_reason)
            print(info.final)
            assert info.status == "done" and info.final
            """
        ),
        code(
            """
            for record in info.audit:
                print(f"{record['kind']:<12} {record['agent'] or '':<16} {record['detail']}")
            """
        ),
        code(
            """
            for name, usage in info.usage.items():
                print(f"{name:<16} {usage['calls']} calls, {usage['input_tokens']} tokens in")
            """
        ),
    ]


# -- human approval, resumed in another process --------------------------------------------

APPROVAL = [
    md(
        """
        # Human approval, resumed in another process

        A run that waits for a person is saved in a store (here a SQLite file). Any
        process can decide and resume it later: this notebook starts the run, then
        resumes it from a **new process** (`orchestra resume`, run with `subprocess`),
        then reads the finished thread back.
        """
    ),
    code(
        """
        import os
        import subprocess
        import sys
        import tempfile
        from pathlib import Path

        from langgraph_orchestra.checkpoint import open_checkpointer
        from langgraph_orchestra.spec import build_team, example_path, load_spec
        from langgraph_orchestra.threads import RunInfo, drive, new_thread_id, read_thread, run_config

        store = Path(tempfile.mkdtemp()) / "state.db"
        spec = load_spec(example_path("sequential"))
        # What a new process needs to rebuild the team: its file (and the file's hash).
        run = RunInfo(spec=str(spec.source), spec_sha256=spec.sha256, team=spec.name)
        task = {"messages": [("user", spec.example_input)]}
        with open_checkpointer(str(store)) as saver:
            team = build_team(spec).compile(checkpointer=saver)
            thread = new_thread_id(saver, spec.name)
            info = drive(team, task, run_config(thread, run))
        [pending] = info.interrupts
        print(info.status, "·", pending.kind, "for", pending.agent)
        print(pending.value["content"])
        """
    ),
    md(
        """
        The notebook's process is done with the thread. A new process opens the same
        store, rebuilds the team from the file the run started from (`RunInfo` records
        it, with its hash), and applies the decision: approve, or `--reject TEXT`,
        `--edit FILE`, `--answer TEXT`.
        """
    ),
    code(
        """
        command = ["resume", thread, "--approve", "--reviewer", "ana", "--store", str(store)]
        done = subprocess.run(
            [sys.executable, "-m", "langgraph_orchestra.cli", *command],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "TTY_COMPATIBLE": "0"},  # plain text (the kernel forces color)
        )
        print(done.stdout.strip().splitlines()[-1])
        """
    ),
    code(
        """
        with open_checkpointer(str(store)) as saver:
            thread_info = read_thread(saver, thread)
        print(thread_info.status, "·", thread_info.stop_reason)
        print(thread_info.final)
        approvals = [r for r in thread_info.audit if r["kind"] == "approval"]
        print(approvals[0]["detail"])
        assert thread_info.status == "done" and approvals[0]["detail"]["reviewer"] == "ana"
        """
    ),
]

# -- tracing to LangSmith --------------------------------------------------------------------

TRACING = [
    md(
        """
        # Tracing to LangSmith

        With `LANGSMITH_TRACING=true` and `LANGSMITH_API_KEY` set (optionally
        `LANGSMITH_PROJECT`), every run is sent to LangSmith. The tree shows the root
        run named after the team, one run per agent turn, and each model call named after
        the agent or manager that made it, tagged `orchestra`, `pattern:<p>`,
        `agent:<name>`. This notebook stays offline: it collects the same runs in
        memory and prints the tree.
        """
    ),
    code(
        """
        import os

        from langchain_core.messages import AIMessage
        from langchain_core.tools import tool
        from langchain_core.tracers.run_collector import RunCollectorCallbackHandler

        from langgraph_orchestra import Agent, create_sequential
        from langgraph_orchestra.testing import ScriptedModel
        from langgraph_orchestra.tracing import named_team, team_config

        print("LangSmith tracing:", os.environ.get("LANGSMITH_TRACING", "off"))
        print(team_config("support", "sequential"))
        """
    ),
    md(
        """
        `named_team` names a compiled team's root run after the team and adds the tags
        and metadata above (`team_config` is the same as a config); `orchestra run` does
        it itself.
        """
    ),
    code(
        """
        @tool
        def lookup_order(order_id: str) -> str:
            \"\"\"Look an order up.\"\"\"
            return f"{order_id}: shipped 3 June, held at the depot"


        call = {"name": "lookup_order", "args": {"order_id": "A-1001"}, "id": "call-1"}
        triage = Agent(
            "triage",
            model=ScriptedModel([AIMessage("", tool_calls=[call]), "A-1001 is held at the depot."]),
            tools=[lookup_order],
        )
        writer = Agent("writer", model=ScriptedModel(["Sorry: we are reshipping A-1001 today."]))
        team = named_team(create_sequential([triage, writer]).compile(name="support"))

        collector = RunCollectorCallbackHandler()
        task = {"messages": [("user", "Where is order A-1001?")]}
        result = team.invoke(task, {"callbacks": [collector]})
        print(result["final"])
        """
    ),
    code(
        """
        def show(run, depth=0):
            tags = [t for t in run.tags or () if t.startswith(("orchestra", "pattern:", "agent:"))]
            print(f"{'  ' * depth}{run.name} [{run.run_type}] {' '.join(tags)}")
            for child in sorted(run.child_runs, key=lambda r: r.dotted_order or ""):
                show(child, depth + 1)


        [root] = collector.traced_runs
        show(root)
        assert root.name == "support" and "pattern:sequential" in root.tags
        """
    ),
    md(
        """
        Internal steps of the graph (`begin`, `finalize`, ...) are in the tree too; the
        agents' runs and their model calls carry the agent's name, the tool-using
        `triage` agent's model calls included.
        """
    ),
]

NOTEBOOKS: dict[str, list[NotebookNode]] = {
    "00_quickstart": QUICKSTART,
    **{
        f"{i:02d}_{pattern}": pattern_notebook(pattern)
        for i, pattern in enumerate(PATTERN_TEXT, start=1)
    },
    "20_human_approval_resume": APPROVAL,
    "30_tracing_langsmith": TRACING,
}
"""The notebooks, by file stem."""


def notebook(cells: list[NotebookNode]) -> NotebookNode:
    """A notebook of `cells` for the Python 3 kernel."""
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    nb.metadata["kernelspec"] = KERNEL
    nb.metadata["language_info"] = {"name": "python"}
    for i, cell in enumerate(cells):
        cell["id"] = f"cell-{i}"
    return nb


def execute(nb: NotebookNode) -> NotebookNode:
    """Run every cell of `nb` in a fresh kernel started in this folder."""
    from nbclient import NotebookClient

    client = NotebookClient(
        nb,
        timeout=TIMEOUT,
        kernel_name="python3",
        record_timing=False,  # no timestamps: a rebuild changes only what changed
        resources={"metadata": {"path": str(HERE)}},
    )
    client.execute()
    return nb


def main(argv: list[str]) -> None:
    """Write (and unless `--no-execute`, execute) every notebook."""
    for stem, cells in NOTEBOOKS.items():
        nb = notebook(cells)
        if "--no-execute" not in argv:
            execute(nb)
        nbformat.write(nb, HERE / f"{stem}.ipynb")
        print(f"wrote {stem}.ipynb")


if __name__ == "__main__":
    main(sys.argv[1:])
