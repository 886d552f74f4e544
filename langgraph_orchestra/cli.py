"""The `orchestra` command line: run, resume, inspect and draw teams.

The commands are thin: team files are read and built by `langgraph_orchestra.spec`,
threads are read and resumed with `langgraph_orchestra.threads`; this module prints.

Exit codes: 0 done; 1 the run failed (an agent raised); 2 a user mistake (bad team
file, unknown thread, missing API key or extra, unreachable store), always one line
`error: ...` and a `hint: ...`, never a traceback; 3 the run waits for a human decision
and stdin is not a terminal (the `orchestra resume ...` command to continue is printed).
"""

from __future__ import annotations

import getpass
import json
import shlex
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.types import Command
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.prompt import Prompt
from rich.table import Table

from langgraph_orchestra.checkpoint import describe_store, open_checkpointer
from langgraph_orchestra.errors import AgentError, CheckpointerError, OrchestraError
from langgraph_orchestra.nodes.approval import ApprovalDecision
from langgraph_orchestra.nodes.escalation import EscalationDecision
from langgraph_orchestra.spec import (
    PATTERNS,
    AgentSpec,
    TeamSpec,
    build_team,
    example_path,
    load_spec,
    sample_team,
    validate_spec,
)
from langgraph_orchestra.threads import (
    PendingInterrupt,
    RunInfo,
    ThreadInfo,
    consumed_replies,
    describe_audit,
    list_threads,
    new_thread_id,
    read_thread,
    resume_value,
    run_config,
    usage_rows,
)

__all__ = ["DEFAULT_STORE", "EXIT_FAILED", "EXIT_USAGE", "EXIT_WAITING", "app", "main"]

DEFAULT_STORE = ".orchestra/state.db"
"""Where state goes unless `--store` or `ORCHESTRA_STORE` says otherwise."""
STORE_ENV = "ORCHESTRA_STORE"
"""The environment variable naming the store."""
EXIT_FAILED = 1
"""Exit code of a run that failed."""
EXIT_USAGE = 2
"""Exit code of a user mistake."""
EXIT_WAITING = 3
"""Exit code of a run waiting for a decision when stdin is not a terminal."""

app = typer.Typer(
    name="orchestra",
    help="Run multi-agent teams from YAML files, with approvals, audit trail and usage.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)

StoreOption = Annotated[
    str,
    typer.Option(
        "--store",
        envvar=STORE_ENV,
        help="Where threads are kept: a SQLite file (.db/.sqlite/.sqlite3), "
        "'sqlite:///path.db', or a 'postgresql://user:pw@host:5432/db' DSN.",
    ),
]
ModelOption = Annotated[
    str | None,
    typer.Option(
        "--model",
        help="Use this model for every agent instead of the team file's, as "
        "'provider:model' (e.g. openai:gpt-4o-mini; needs the provider's package and "
        "API key).",
    ),
]
BaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        help="Base URL of an OpenAI-compatible server (Ollama, vLLM, llama.cpp server) "
        "for openai: models, e.g. http://localhost:11434/v1.",
    ),
]
InteractiveOption = Annotated[
    bool | None,
    typer.Option(
        "--interactive/--no-interactive",
        help="Ask for decisions at approvals (default: when stdin is a terminal).",
    ),
]


# -- output and errors ---------------------------------------------------------------


def _out() -> Console:
    # Lines are not wrapped (commands stay copyable); panels and tables are printed with
    # `soft_wrap=False` so they fit the terminal.
    return Console(highlight=False, soft_wrap=True)


def _err() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def _fail(message: str, hint: str | None = None, *, code: int = EXIT_USAGE) -> typer.Exit:
    """Print `error: ...` (one line per problem) and `hint: ...`; return the exit."""
    err = _err()
    for line in message.splitlines() or [""]:
        err.print(f"[red]error:[/red] {escape(line)}")
    if hint:
        err.print(f"[yellow]hint:[/yellow] {escape(hint)}")
    return typer.Exit(code)


def _hint_for(error: BaseException) -> str | None:
    hint = getattr(error, "hint", None)
    if isinstance(hint, str):
        return hint
    if isinstance(error, CheckpointerError):
        return (
            f"check --store or {STORE_ENV}: a .db file path or "
            "postgresql://user@host:5432/db (PostgreSQL needs the server running)"
        )
    if isinstance(error, OrchestraError):
        return "check the team file with: orchestra validate TEAM.yaml"
    return None


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn user mistakes into one line and exit code 2; let bugs raise."""
    try:
        yield
    except AgentError:
        raise
    except (OrchestraError, yaml.YAMLError) as error:
        raise _fail(str(error), _hint_for(error)) from None
    except FileNotFoundError as error:
        raise _fail(str(error), "check the path") from None


@contextmanager
def _store(url: str) -> Iterator[BaseCheckpointSaver[Any]]:
    with _user_errors(), open_checkpointer(url) as saver:
        yield saver


def _interactive(flag: bool | None) -> bool:
    if flag is not None:
        return flag
    return sys.stdin.isatty()


def _store_args(ctx: typer.Context, store: str) -> list[str]:
    """The `--store` to repeat in a printed command (none when it came from the env)."""
    source = ctx.get_parameter_source("store")
    if source is not None and source.name == "ENVIRONMENT":
        return []
    return [] if store == DEFAULT_STORE else ["--store", store]


# -- progress -------------------------------------------------------------------------


class _Progress:
    """Prints agent starts, finished turns, decisions and the end of a run."""

    def __init__(self, console: Console, agents: Sequence[str]) -> None:
        self.console = console
        self.agents = set(agents)
        self.working: list[str] = []
        self.status: Any = None

    def __enter__(self) -> _Progress:
        if self.console.is_terminal:
            self.status = self.console.status("")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.status is not None:
            self.status.stop()

    def _refresh(self) -> None:
        if self.status is None:
            return
        if self.working:
            self.status.update(f"working: {', '.join(self.working)}")
            self.status.start()
        else:
            self.status.stop()

    def task(self, event: Mapping[str, Any]) -> None:
        name = str(event.get("name", ""))
        if "input" in event and name in self.agents:
            self.console.print(f"[cyan]▶[/cyan] {escape(name)} working…")
            self.working.append(name)
            self._refresh()

    def update(self, chunk: Mapping[str, Any]) -> None:
        for node, update in chunk.items():
            if node == "__interrupt__" or not isinstance(update, Mapping):
                continue
            for record in update.get("audit") or ():
                self.record(record)
            # A fan-out branch's turn is held in the outbox until the fan-out closes.
            outbox = update.get("outbox")
            for turn in outbox.values() if isinstance(outbox, Mapping) else ():
                for record in turn.get("audit") or ():
                    self.record(record)

    def record(self, record: Mapping[str, Any]) -> None:
        kind = record.get("kind")
        agent = str(record.get("agent") or "")
        detail: Mapping[str, Any] = record.get("detail") or {}
        if agent in self.working and kind in ("turn", "exception"):
            self.working.remove(agent)
            self._refresh()
        if kind == "turn":
            tokens = f"{detail.get('tokens', 0):>6} tokens" if "tokens" in detail else ""
            latency = float(detail.get("latency_s", 0.0))
            self.console.print(
                f"[green]✓[/green] {escape(agent):<16} {latency:6.2f} s  {tokens}".rstrip()
            )
        elif kind == "approval":
            text = f"{detail.get('action')} by {detail.get('reviewer')}"
            if detail.get("feedback"):
                text += f": {detail['feedback']}"
            self.console.print(f"[green]✓[/green] {escape(agent)} approval: {escape(text)}")
        elif kind == "exception":
            mark = "[red]✗[/red]" if "error" in detail else "[green]✓[/green]"
            self.console.print(f"{mark} {escape(agent)} {escape(describe_audit(record))}")
        elif kind == "termination":
            self.console.print(f"[bold]■[/bold] run ended: {escape(str(detail.get('reason')))}")
        elif kind in ("routing", "handoff", "plan"):
            self.console.print(f"[dim]→ {escape(describe_audit(record))}[/dim]")


def _stream(
    graph: Any, payload: Any, config: RunnableConfig, console: Console, agents: Sequence[str]
) -> None:
    """Run `graph` on `payload` until it ends or pauses, printing progress."""
    with _Progress(console, agents) as progress:
        for mode, chunk in graph.stream(payload, config, stream_mode=["tasks", "updates"]):
            if mode == "tasks":
                progress.task(chunk)
            else:
                progress.update(chunk)


def _agent_names(spec: TeamSpec) -> list[str]:
    names = [a.name for a in spec.agents]
    names += [v.name for v in spec.options.values() if isinstance(v, AgentSpec)]
    return names


# -- interrupts and decisions ---------------------------------------------------------


def _show_interrupts(console: Console, interrupts: Sequence[PendingInterrupt]) -> None:
    for pending in interrupts:
        value = pending.value
        short = pending.id[:8]
        if pending.kind == "approval":
            when = "output" if value.get("when") == "after" else "turn (before it runs)"
            title = f"{pending.agent}'s {when} waits for approval"
            revision = value.get("revision", 0)
            if revision:
                title += f" (revision {revision} of {value.get('max_revisions')})"
            body = str(value.get("content", ""))
        elif pending.kind == "exception":
            title = f"{pending.agent} failed and waits for a decision"
            body = f"{value.get('error_type')}: {value.get('error')}"
        else:
            title, body = f"interrupt {pending.kind}", json.dumps(value, default=str)
        console.print(f"[yellow]⏸[/yellow] {escape(title)}  [dim](interrupt {short})[/dim]")
        console.print(
            Panel(escape(body), title=escape(pending.agent), expand=False), soft_wrap=False
        )


def _resume_commands(
    thread_id: str, interrupts: Sequence[PendingInterrupt], store_args: Sequence[str]
) -> list[str]:
    base = ["orchestra", "resume", thread_id]
    kinds = {i.kind for i in interrupts}
    lines: list[list[str]] = []
    if "approval" in kinds:
        lines += [
            [*base, "--approve"],
            [*base, "--reject", "what to change"],
            [*base, "--edit", "replacement.txt"],
            [*base, "--answer", "your answer"],
        ]
    if "exception" in kinds:
        lines += [
            [*base, "--retry"],
            [*base, "--skip"],
            [*base, "--supply", "the output to use"],
            [*base, "--abort"],
        ]
    return [shlex.join([*line, *store_args]) for line in lines]


def _ask(console: Console, pending: PendingInterrupt, reviewer: str) -> dict[str, Any]:
    """Prompt for a decision on one interrupt; return the resume payload."""
    decision: ApprovalDecision | EscalationDecision
    if pending.kind == "exception":
        action = Prompt.ask(
            f"{escape(pending.agent)}: decision",
            console=console,
            choices=["retry", "skip", "supply", "abort"],
            default="retry",
        )
        content = _text(console, "output to use") if action == "supply" else None
        decision = EscalationDecision(
            action=action,  # type: ignore[arg-type]
            content=content,
            reviewer=reviewer,
        )
    else:
        action = Prompt.ask(
            f"{escape(pending.agent)}: decision",
            console=console,
            choices=["approve", "reject", "edit", "answer"],
            default="approve",
        )
        feedback, content = "", None
        if action == "reject":
            feedback = _text(console, "feedback for the agent")
        elif action == "edit":
            content = _text(console, "replacement text")
        elif action == "answer":
            content = _text(console, "your answer")
        decision = ApprovalDecision(
            action="respond" if action == "answer" else action,  # type: ignore[arg-type]
            feedback=feedback,
            content=content,
            reviewer=reviewer,
        )
    return decision.model_dump(exclude_none=True)


def _text(console: Console, label: str) -> str:
    """Ask for a non-empty line of text."""
    while True:
        text = Prompt.ask(label, console=console).strip()
        if text:
            return text


def _auto(console: Console, pending: PendingInterrupt) -> dict[str, Any]:
    if pending.kind == "exception":
        console.print("[yellow]auto-skipping the failed agent (non-interactive)[/yellow]")
        return EscalationDecision(action="skip", reviewer="demo").model_dump(exclude_none=True)
    console.print(
        "[yellow]auto-approving (non-interactive; pass --interactive to decide yourself)[/yellow]"
    )
    return ApprovalDecision(action="approve", reviewer="demo").model_dump(exclude_none=True)


def _reviewer() -> str:
    try:
        return getpass.getuser() or "human"
    except (KeyError, OSError):  # no user name in the environment or password database
        return "human"


# -- results --------------------------------------------------------------------------


def _print_final(console: Console, info: ThreadInfo) -> None:
    reason = info.stop_reason or "-"
    console.print(
        Panel(escape(info.final or "(no answer)"), title=f"final answer · {reason}"),
        soft_wrap=False,
    )


def _audit_table(info: ThreadInfo) -> Table:
    table = Table(title=f"audit trail · {info.thread_id}", title_justify="left")
    for column in ("#", "time", "kind", "agent", "detail"):
        table.add_column(column, overflow="fold")
    for i, record in enumerate(info.audit, start=1):
        ts = str(record.get("ts", ""))
        table.add_row(
            str(i),
            ts[11:19] if len(ts) >= 19 else ts,
            str(record.get("kind", "")),
            escape(str(record.get("agent") or "")),
            escape(describe_audit(record)),
        )
    return table


def _usage_table(info: ThreadInfo) -> Table:
    table = Table(title=f"usage · {info.thread_id}", title_justify="left")
    table.add_column("participant")
    for column in ("calls", "input tokens", "output tokens", "latency (s)", "cost ($)"):
        table.add_column(column, justify="right")
    rows = usage_rows(info.usage)
    for row in rows:
        total = row.participant == "total" and row is rows[-1]
        table.add_row(
            escape(row.participant),
            str(row.calls),
            str(row.input_tokens),
            str(row.output_tokens),
            f"{row.latency_s:.2f}",
            f"{row.cost_usd:.4f}",
            style="bold" if total else None,
            end_section=row is rows[-2] if len(rows) > 1 else False,
        )
    return table


def _one_line_usage(info: ThreadInfo) -> str:
    total = usage_rows(info.usage)[-1]
    return (
        f"{total.calls} model calls · {total.input_tokens + total.output_tokens} tokens · "
        f"${total.cost_usd:.4f}"
    )


# -- running a team -------------------------------------------------------------------


def _build(
    spec: TeamSpec, model: str | None, base_url: str | None, values: Mapping[str, Any] | None
) -> Any:
    with _user_errors():
        return build_team(
            spec,
            model_override=model,
            base_url=base_url,
            consumed=consumed_replies(values or {}),
        )


def _drive(
    *,
    console: Console,
    saver: BaseCheckpointSaver[Any],
    graph: Any,
    payload: Any,
    config: RunnableConfig,
    agents: Sequence[str],
    decide: Callable[[PendingInterrupt], dict[str, Any]] | None,
) -> ThreadInfo:
    """Run until done, or until an interrupt that `decide` (if any) does not answer."""
    thread_id = str(config["configurable"]["thread_id"])
    while True:
        try:
            _stream(graph, payload, config, console, agents)
        except AgentError as error:
            raise _fail(
                f"the run failed: {error}",
                f"see it with: orchestra show {thread_id}; run the failed step again with: "
                f"orchestra resume {thread_id} --retry",
                code=EXIT_FAILED,
            ) from None
        info = read_thread(saver, thread_id, graph=graph)
        if not info.interrupts:
            return info
        _show_interrupts(console, info.interrupts)
        if decide is None:
            return info
        payload = Command(resume={p.id: decide(p) for p in info.interrupts})


def _finish(
    console: Console, info: ThreadInfo, store_args: Sequence[str], *, waiting_exit: bool = True
) -> None:
    """Print where the run stands; exit 3 if it waits for a decision."""
    if info.interrupts:
        console.print("\nThe run waits for a decision. Continue it with one of:")
        for line in _resume_commands(info.thread_id, info.interrupts, store_args):
            console.print(f"  {escape(line)}")
        if len(info.interrupts) > 1:
            console.print(
                "  (a decision applies to every pending interrupt of its kind; add "
                "--interrupt ID to decide one)"
            )
        if waiting_exit:
            raise typer.Exit(EXIT_WAITING)
        return
    _print_final(console, info)
    console.print(f"[dim]{_one_line_usage(info)} · thread {info.thread_id}[/dim]")


@app.command()
def run(
    ctx: typer.Context,
    team: Annotated[Path, typer.Argument(help="The team's YAML file.", show_default=False)],
    input: Annotated[
        str,
        typer.Option("--input", "-i", help="The task for the team ('-' reads it from stdin)."),
    ],
    thread: Annotated[
        str | None,
        typer.Option(
            "--thread",
            help="Thread id: a new one by default; an existing thread's id gives the team "
            "a new task in the same conversation.",
        ),
    ] = None,
    store: StoreOption = DEFAULT_STORE,
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    interactive: InteractiveOption = None,
) -> None:
    """Run a team on a task, showing progress; stop at approvals for a decision.

    In a terminal, approvals are asked for on the spot. Otherwise the run is saved,
    the `orchestra resume` command to continue is printed and the exit code is 3.
    """
    console = _out()
    with _user_errors():
        spec = load_spec(team)
    task = sys.stdin.read() if input == "-" else input
    graph_builder = _build(spec, model, base_url, None)
    store_args = _store_args(ctx, store)
    with _store(store) as saver:
        graph = graph_builder.compile(checkpointer=saver)
        if thread is None:
            thread_id = new_thread_id(saver, spec.name)
        else:
            thread_id = thread
            with _user_errors():
                existing = _existing(saver, thread_id)
            if existing is not None and existing.status == "waiting for approval":
                raise _fail(
                    f"thread '{thread_id}' waits for a decision",
                    f"continue it with: orchestra resume {thread_id} --approve (or --reject ...)",
                )
        info = RunInfo(
            spec=str(spec.source),
            team=spec.name,
            pattern=spec.pattern,
            model=model,
            base_url=base_url,
        )
        console.print(
            f"[bold]{escape(spec.name)}[/bold] ({spec.pattern}) · thread {thread_id} · "
            f"{escape(describe_store(store))}"
        )
        ask = _interactive(interactive)
        reviewer = _reviewer()
        result = _drive(
            console=console,
            saver=saver,
            graph=graph,
            payload={"messages": [("user", task)]},
            config=run_config(thread_id, info),
            agents=_agent_names(spec),
            decide=(lambda p: _ask(console, p, reviewer)) if ask else None,
        )
    _finish(console, result, store_args)


def _existing(saver: BaseCheckpointSaver[Any], thread_id: str) -> ThreadInfo | None:
    try:
        return read_thread(saver, thread_id)
    except LookupError:
        return None


def _decision(
    *,
    approve: bool,
    reject: str | None,
    edit: Path | None,
    answer: str | None,
    retry: bool,
    skip: bool,
    supply: str | None,
    abort: bool,
    reviewer: str,
) -> ApprovalDecision | EscalationDecision | None:
    given = {
        "--approve": approve,
        "--reject": reject is not None,
        "--edit": edit is not None,
        "--answer": answer is not None,
        "--retry": retry,
        "--skip": skip,
        "--supply": supply is not None,
        "--abort": abort,
    }
    chosen = [flag for flag, on in given.items() if on]
    if len(chosen) > 1:
        raise _fail(
            f"give one decision, got {', '.join(chosen)}",
            "approvals: --approve, --reject TEXT, --edit FILE, --answer TEXT; escalated "
            "failures: --retry, --skip, --supply TEXT, --abort",
        )
    if not chosen:
        return None
    try:
        if approve:
            return ApprovalDecision(action="approve", reviewer=reviewer)
        if reject is not None:
            return ApprovalDecision(action="reject", feedback=reject, reviewer=reviewer)
        if edit is not None:
            text = sys.stdin.read() if str(edit) == "-" else edit.read_text(encoding="utf-8")
            return ApprovalDecision(action="edit", content=text.strip(), reviewer=reviewer)
        if answer is not None:
            return ApprovalDecision(action="respond", content=answer, reviewer=reviewer)
        if supply is not None:
            return EscalationDecision(action="supply", content=supply, reviewer=reviewer)
        return EscalationDecision(
            action="retry" if retry else "skip" if skip else "abort", reviewer=reviewer
        )
    except ValidationError as error:
        problem = error.errors()[0]
        raise _fail(
            f"{chosen[0]}: {problem['msg']}", "give a non-empty text (or file) for the decision"
        ) from None
    except OSError as error:
        raise _fail(
            f"--edit: cannot read {edit}: {error.strerror}", "give a readable file"
        ) from None


@app.command()
def resume(
    ctx: typer.Context,
    thread: Annotated[str, typer.Argument(help="The thread to continue.", show_default=False)],
    approve: Annotated[
        bool, typer.Option("--approve", help="Approve the output (or let the turn run).")
    ] = False,
    reject: Annotated[
        str | None,
        typer.Option(
            "--reject", help="Reject with this feedback: the agent revises.", metavar="TEXT"
        ),
    ] = None,
    edit: Annotated[
        Path | None,
        typer.Option(
            "--edit",
            help="Replace the output with this file's text ('-' reads stdin).",
            metavar="FILE",
        ),
    ] = None,
    answer: Annotated[
        str | None,
        typer.Option(
            "--answer", help="Answer in the agent's place (or answer its question).", metavar="TEXT"
        ),
    ] = None,
    retry: Annotated[
        bool,
        typer.Option("--retry", help="Escalated failure (or failed run): run the agent again."),
    ] = False,
    skip: Annotated[
        bool, typer.Option("--skip", help="Escalated failure: go on without its output.")
    ] = False,
    supply: Annotated[
        str | None,
        typer.Option(
            "--supply", help="Escalated failure: use this text as its output.", metavar="TEXT"
        ),
    ] = None,
    abort: Annotated[
        bool, typer.Option("--abort", help="Escalated failure: end the run with what it has.")
    ] = False,
    interrupt: Annotated[
        str | None,
        typer.Option(
            "--interrupt",
            help="Decide only this interrupt (its id or a unique prefix, shown by "
            "'orchestra show'); by default the decision applies to every pending "
            "interrupt of its kind (parallel branches).",
            metavar="ID",
        ),
    ] = None,
    reviewer: Annotated[
        str | None,
        typer.Option(
            "--reviewer", help="Who decides, for the audit trail (default: your user name)."
        ),
    ] = None,
    store: StoreOption = DEFAULT_STORE,
    model: Annotated[
        str | None,
        typer.Option(
            "--model", help="Model override for the rest of the run (default: the run's)."
        ),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option("--base-url", help="OpenAI-compatible base URL (default: the run's)."),
    ] = None,
    interactive: InteractiveOption = None,
) -> None:
    """Continue a thread that waits for a decision (or retry a failed one).

    Approvals take --approve, --reject TEXT, --edit FILE or --answer TEXT; escalated
    failures take --retry, --skip, --supply TEXT or --abort. Without a flag, the
    decision is asked for in a terminal.
    """
    console = _out()
    who = reviewer or _reviewer()
    decision = _decision(
        approve=approve,
        reject=reject,
        edit=edit,
        answer=answer,
        retry=retry,
        skip=skip,
        supply=supply,
        abort=abort,
        reviewer=who,
    )
    ask = _interactive(interactive)
    store_args = _store_args(ctx, store)
    with _store(store) as saver:
        with _user_errors():
            stored = read_thread(saver, thread)
        if not stored.run.spec:
            raise _fail(
                f"thread '{thread}' was not started from a team file, so it can't be rebuilt",
                "resume it from Python with Command(resume=...)",
            )
        with _user_errors():
            spec = load_spec(stored.run.spec)
        run_info = RunInfo(
            spec=stored.run.spec,
            team=stored.run.team,
            pattern=stored.run.pattern,
            model=model or stored.run.model,
            base_url=base_url or stored.run.base_url,
        )
        graph = _build(spec, run_info.model, run_info.base_url, stored.values).compile(
            checkpointer=saver
        )
        with _user_errors():
            current = read_thread(saver, thread, graph=graph)
        payload: Any
        if current.status == "failed":
            if not retry:
                raise _fail(
                    f"thread '{thread}' failed: {current.error}",
                    f"run the failed step again with: orchestra resume {thread} --retry",
                )
            payload = None
        elif not current.interrupts:
            raise _fail(
                f"thread '{thread}' is {current.status}"
                + (f" ({current.stop_reason})" if current.stop_reason else "")
                + ": nothing waits for a decision",
                f"give the team a new task with: orchestra run TEAM.yaml -i TEXT --thread {thread}",
            )
        elif decision is None:
            if not ask:
                raise _fail(
                    f"thread '{thread}' waits for a decision and none was given",
                    "; ".join(_resume_commands(thread, current.interrupts, store_args)[:1])
                    + " (see orchestra resume --help for the others)",
                )
            _show_interrupts(console, current.interrupts)
            targets = [
                p for p in current.interrupts if interrupt is None or p.id.startswith(interrupt)
            ]
            payload = Command(resume={p.id: _ask(console, p, who) for p in targets})
        else:
            with _user_errors():
                payload = resume_value(current.interrupts, decision, interrupt_id=interrupt)
        console.print(
            f"[bold]{escape(spec.name)}[/bold] ({spec.pattern}) · resuming thread {thread} · "
            f"{escape(describe_store(store))}"
        )
        result = _drive(
            console=console,
            saver=saver,
            graph=graph,
            payload=payload,
            config=run_config(thread, run_info),
            agents=_agent_names(spec),
            decide=(lambda p: _ask(console, p, who)) if ask else None,
        )
    _finish(console, result, store_args)


@app.command()
def threads(
    store: StoreOption = DEFAULT_STORE,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the threads in the store: id, team, pattern, status, last update."""
    with _store(store) as saver:
        found = list_threads(saver)
    if as_json:
        rows = [
            {
                "thread_id": t.thread_id,
                "team": t.run.team,
                "pattern": t.run.pattern,
                "status": t.status,
                "updated": t.updated,
            }
            for t in found
        ]
        typer.echo(json.dumps(rows, indent=2))
        return
    console = _out()
    if not found:
        console.print(f"no threads in {escape(describe_store(store))}")
        console.print("start one with: orchestra run TEAM.yaml -i TEXT  (or: orchestra demo)")
        return
    table = Table(title=f"threads · {describe_store(store)}", title_justify="left")
    for column in ("thread", "team", "pattern", "status", "last update (UTC)"):
        table.add_column(column, overflow="fold")
    colors = {"done": "green", "failed": "red", "waiting for approval": "yellow"}
    for t in found:
        table.add_row(
            escape(t.thread_id),
            escape(t.run.team or "-"),
            escape(t.run.pattern or "-"),
            f"[{colors.get(t.status, 'cyan')}]{t.status}[/]",
            t.updated[:19].replace("T", " "),
        )
    console.print(table, soft_wrap=False)


@app.command()
def show(
    thread: Annotated[str, typer.Argument(help="The thread to show.", show_default=False)],
    audit: Annotated[bool, typer.Option("--audit", help="Print the audit trail.")] = False,
    usage: Annotated[
        bool, typer.Option("--usage", help="Print usage per participant, with totals.")
    ] = False,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print the whole thread as JSON (final, stop reason, interrupts, messages, "
            "audit, usage, exceptions).",
        ),
    ] = False,
    store: StoreOption = DEFAULT_STORE,
) -> None:
    """Show a thread: status, final answer, pending decisions; audit and usage on request."""
    with _store(store) as saver, _user_errors():
        info = read_thread(saver, thread)
    if as_json:
        typer.echo(json.dumps(info.to_json(), indent=2, default=str))
        return
    console = _out()
    team = f"{info.run.team} ({info.run.pattern})" if info.run.team else "-"
    console.print(
        f"[bold]thread {escape(info.thread_id)}[/bold] · team {escape(team)} · "
        f"{info.status}" + (f" ({info.stop_reason})" if info.stop_reason else "")
    )
    console.print(f"[dim]updated {info.updated[:19].replace('T', ' ')} UTC[/dim]")
    if info.error:
        console.print(f"[red]error:[/red] {escape(info.error)}")
    if info.interrupts:
        _show_interrupts(console, info.interrupts)
        for line in _resume_commands(info.thread_id, info.interrupts, [])[:1]:
            console.print(
                f"continue with: {escape(line)}  (see orchestra resume --help)", soft_wrap=True
            )
    elif info.final is not None or info.stop_reason:
        _print_final(console, info)
    if audit:
        console.print(_audit_table(info), soft_wrap=False)
    if usage:
        console.print(_usage_table(info), soft_wrap=False)


@app.command()
def graph(
    target: Annotated[
        str,
        typer.Argument(
            help=f"A team YAML file, or a pattern name ({', '.join(sorted(PATTERNS))}) "
            "for a small built-in team.",
            show_default=False,
        ),
    ],
) -> None:
    """Print a team's graph as a Mermaid diagram."""
    with _user_errors():
        if target.endswith((".yaml", ".yml")) or Path(target).is_file():
            from langgraph_orchestra.testing import ScriptedModel

            builder = build_team(load_spec(target), model_override=ScriptedModel([]))
        else:
            builder = sample_team(target)
    typer.echo(builder.compile().get_graph().draw_mermaid())


@app.command()
def validate(
    team: Annotated[Path, typer.Argument(help="The team's YAML file.", show_default=False)],
) -> None:
    """Check a team file and report every problem at once (no model is called)."""
    with _user_errors():
        spec = validate_spec(team)
    parts = []
    for agent in spec.agents:
        gate = f" (approval {agent.approval})" if agent.approval else ""
        parts.append(f"{agent.name}{gate}")
    _out().print(
        f"[green]✓[/green] {escape(str(team))}: {spec.pattern} team '{escape(spec.name)}' with "
        f"{len(spec.agents)} agents: {escape(', '.join(parts))}"
    )


@app.command()
def demo(
    pattern: Annotated[
        str,
        typer.Argument(
            help=f"Which example to run: {', '.join(sorted(PATTERNS))}.",
        ),
    ] = "sequential",
    store: StoreOption = DEFAULT_STORE,
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    interactive: Annotated[
        bool,
        typer.Option(
            "--interactive",
            help="Decide approvals yourself (in a terminal) instead of auto-approving.",
        ),
    ] = False,
) -> None:
    """Run an example team end to end, offline, on scripted models.

    Shows the progress, an approval and the decision taken, the resume from the store,
    the final answer, the audit trail and the usage table.
    """
    console = _out()
    with _user_errors():
        spec = load_spec(example_path(pattern))
    builder = _build(spec, model, base_url, None)
    console.print(
        Panel(
            f"[bold]orchestra demo · {pattern}[/bold] · team '{escape(spec.name)}'\n"
            f"{escape(spec.description)}\n{escape(str(spec.source))}",
            expand=False,
        ),
        soft_wrap=False,
    )
    if model is None:
        console.print("[yellow]scripted models; pass --model to use a real one[/yellow]")
    else:
        console.print(f"model: {escape(model)}" + (f" at {escape(base_url)}" if base_url else ""))
    task = spec.example_input or "Say hello."
    console.print(f"[bold]task:[/bold] {escape(task)}")
    run_info = RunInfo(
        spec=str(spec.source), team=spec.name, pattern=spec.pattern, model=model, base_url=base_url
    )
    ask = interactive and sys.stdin.isatty()
    agents = _agent_names(spec)
    with _store(store) as saver:
        thread_id = new_thread_id(saver, spec.name)
        console.print(f"store: {escape(describe_store(store))} · thread {thread_id}\n")
        config = run_config(thread_id, run_info)
        info = _drive(
            console=console,
            saver=saver,
            graph=builder.compile(checkpointer=saver),
            payload={"messages": [("user", task)]},
            config=config,
            agents=agents,
            decide=None,
        )
    while info.interrupts:
        decisions = {
            p.id: _ask(console, p, _reviewer()) if ask else _auto(console, p)
            for p in info.interrupts
        }
        # Resume as another process would: reopen the store, rebuild the graph.
        console.print(
            f"[cyan]↻[/cyan] resuming thread {thread_id} from the store with a fresh graph"
        )
        with _store(store) as saver:
            stored = read_thread(saver, thread_id)
            graph = _build(spec, model, base_url, stored.values).compile(checkpointer=saver)
            info = _drive(
                console=console,
                saver=saver,
                graph=graph,
                payload=Command(resume=decisions),
                config=config,
                agents=agents,
                decide=None,
            )
    console.print()
    _print_final(console, info)
    console.print(_audit_table(info), soft_wrap=False)
    console.print(_usage_table(info), soft_wrap=False)
    console.print(
        f"[dim]next: orchestra show {thread_id} --audit --usage · orchestra threads · "
        f"orchestra demo {'concurrent' if pattern == 'sequential' else 'sequential'}[/dim]"
    )


def main() -> None:
    """Entry point of the `orchestra` console script."""
    app()


if __name__ == "__main__":
    main()
