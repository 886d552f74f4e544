"""The `orchestra` commands: each reads its arguments, calls the library, prints.

Team files are read and built by `langgraph_orchestra.spec`, threads are read, resumed
and driven by `langgraph_orchestra.threads`; `decisions` turns flags and answers into
decisions and `rendering` prints.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import inspect
import json
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
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from typer.core import TyperGroup

from langgraph_orchestra.batch_runs import BatchResult, arun_batch, read_batch
from langgraph_orchestra.checkpoint import (
    _redact,
    aopen_checkpointer,
    describe_store,
    open_checkpointer,
)
from langgraph_orchestra.cli.decisions import (
    ask_decision,
    auto_decision,
    decision_from_flags,
    resume_commands,
    resume_from_flags,
    reviewer_name,
)
from langgraph_orchestra.cli.rendering import (
    BatchProgress,
    Progress,
    audit_table,
    batch_table,
    one_line_usage,
    output_console,
    patterns_table,
    print_error,
    print_final,
    print_thread,
    print_waiting,
    record_table,
    show_interrupts,
    threads_table,
    usage_table,
)
from langgraph_orchestra.drawing import draw_team, load_graph, team_graph
from langgraph_orchestra.errors import (
    AgentError,
    CheckpointerError,
    DecisionError,
    OrchestraError,
)
from langgraph_orchestra.redaction import Redactor, check_redact, redacted_tracing
from langgraph_orchestra.report import render_report
from langgraph_orchestra.spec import (
    PATTERNS,
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
    drive,
    list_threads,
    new_thread_id,
    read_thread,
    run_config,
    used_replies,
)
from langgraph_orchestra.tracing import ModelPrice, parse_price

__all__ = [
    "DEFAULT_STORE",
    "EXIT_FAILED",
    "EXIT_USAGE",
    "EXIT_WAITING",
    "STORE_ENV",
    "app",
    "main",
]

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

_CLICK_ERROR: type[Exception] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"
)
"""The base of the command line parser's errors (typer exports only some of them)."""


class _Group(TyperGroup):
    """The `orchestra` group: a mistake on the command line is one `error:` line and a hint."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the command; print parser errors as `error: ...` and `hint: ...`."""
        try:
            code = super().main(
                args,
                prog_name or "orchestra",
                complete_var,
                standalone_mode=False,
                windows_expand_args=windows_expand_args,
                **extra,
            )
        except _CLICK_ERROR as error:
            words = [w for w in (sys.argv[1:] if args is None else args) if not w.startswith("-")]
            command = f"orchestra {words[0]}" if words and words[0] in self.commands else None
            code = _parser_error(error, command)
        except typer.Abort:
            print_error("aborted")
            code = EXIT_FAILED
        if not standalone_mode:
            return code
        sys.exit(code if isinstance(code, int) else 0)


def _parser_error(error: Exception, command: str | None) -> int:
    """Print a parser error (a missing or unknown option, ...) on one line; its exit code.

    `command` is the command the arguments name (`orchestra run`), if any.
    """
    ctx = getattr(error, "ctx", None)
    if type(error).__name__ == "NoArgsIsHelpError" and ctx is not None:
        typer.echo(ctx.get_help())  # `orchestra` alone: its help
        return 0
    format_message = getattr(error, "format_message", None)
    message = " ".join(str(format_message() if format_message else error).split())
    message = message[:1].lower() + message[1:].rstrip(".")
    if ctx is not None:
        command = ctx.command_path
    print_error(message, f"see: {command or 'orchestra'} --help")
    return int(getattr(error, "exit_code", EXIT_USAGE))


app = typer.Typer(
    name="orchestra",
    cls=_Group,
    help="Run multi-agent teams from YAML files, with approvals, audit trail and usage.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    # Plain help: paragraphs rewrapped to the terminal, no type labels on flags.
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"orchestra (langgraph-orchestra) {_package_version()}")
        raise typer.Exit()


def _package_version() -> str:
    try:
        return importlib.metadata.version("langgraph-orchestra")
    except importlib.metadata.PackageNotFoundError:  # run from a clone, not installed
        return "unknown (not installed)"


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Run multi-agent teams from YAML files, with approvals, audit trail and usage."""


StoreOption = Annotated[
    str,
    typer.Option(
        "--store",
        envvar=STORE_ENV,
        metavar="STORE",
        help="Where threads are kept: a SQLite file (.db/.sqlite/.sqlite3), "
        "'sqlite:///path.db', or a 'postgresql://user:pw@host:5432/db' DSN.",
    ),
]
ModelOption = Annotated[
    str | None,
    typer.Option(
        "--model",
        metavar="PROVIDER:MODEL",
        help="Use this model for every agent instead of the team file's, as "
        "'provider:model' (e.g. openai:gpt-4o-mini; needs the provider's package and "
        "API key).",
    ),
]
BaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        metavar="URL",
        help="Base URL of an OpenAI-compatible server (Ollama, vLLM, llama.cpp server) "
        "for openai: models, e.g. http://localhost:11434/v1.",
    ),
]
PriceOption = Annotated[
    list[str] | None,
    typer.Option(
        "--price",
        metavar="MODEL=IN/OUT",
        help="Price of a model in US dollars per million input/output tokens, e.g. "
        "llama3.1=0.2/0.6 (repeatable; over the team file's prices: and the built-in "
        "table). Unpriced models show their cost as unpriced.",
    ),
]
InteractiveOption = Annotated[
    bool | None,
    typer.Option(
        "--interactive/--no-interactive",
        help="Ask for decisions at approvals (default: when stdin is a terminal).",
    ),
]


# -- errors and the store -------------------------------------------------------------


def _fail(message: str, hint: str | None = None, *, code: int = EXIT_USAGE) -> typer.Exit:
    """Print `error: ...` and `hint: ...`; return the exit."""
    print_error(message, hint)
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
def _store(url: str, *, create: bool = True) -> Iterator[BaseCheckpointSaver[Any]]:
    """Open the store; readers (`create=False`) refuse a store that does not exist."""
    with _user_errors(), open_checkpointer(url, create=create) as saver:
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
    # The password of a DSN is never printed: `***` stands for it (or use ORCHESTRA_STORE).
    return [] if store == DEFAULT_STORE else ["--store", _redact(store)]


# -- running a team -------------------------------------------------------------------


def _agent_names(spec: TeamSpec) -> list[str]:
    return [agent.name for agent, _ in spec.members()]


def _build(
    spec: TeamSpec,
    model: str | None,
    base_url: str | None,
    consumed: Mapping[str, int] | None,
    prices: Sequence[str] = (),
) -> Any:
    """Build the team; `consumed`: scripted replies a resumed thread has used."""
    with _user_errors():
        return build_team(
            spec,
            model_override=model,
            base_url=base_url,
            consumed=consumed,
            prices=_price_table(prices),
        )


def _price_table(prices: Sequence[str]) -> dict[str, ModelPrice]:
    """The `--price MODEL=IN/OUT` options as a price table."""
    table = {}
    for text in prices:
        try:
            name, price = parse_price(text)
        except ValueError as error:
            raise _fail(
                f"--price: {error}", "give --price MODEL=IN/OUT, e.g. llama3.1=0.2/0.6"
            ) from None
        table[name] = price
    return table


def _drive(
    *,
    console: Console,
    graph: Any,
    payload: Any,
    config: RunnableConfig,
    agents: Sequence[str],
    decide: Callable[[PendingInterrupt], dict[str, Any]] | None,
    redact: Callable[[str], str] | None = None,
) -> ThreadInfo:
    """Run until done, or until an interrupt that `decide` (if any) does not answer.

    With `redact` (the team's `redact:`), LangSmith traces are posted redacted.
    """
    thread_id = str(config["configurable"]["thread_id"])
    while True:
        try:
            with Progress(console, agents, redact) as progress, redacted_tracing(redact):
                info = drive(graph, payload, config, on_event=progress)
        except AgentError as error:
            raise _fail(
                f"the run failed: {error}",
                f"see it with: orchestra show {thread_id}; run the failed step again with: "
                f"orchestra resume {thread_id} --retry",
                code=EXIT_FAILED,
            ) from None
        except DecisionError as error:
            # A decision the interrupt refused (a branch that wrote no value, a value of
            # the wrong type, content a validator refuses): nothing was written.
            if decide is None:
                raise _fail(str(error), error.hint) from None
            console.print(f"[red]{escape(str(error))}[/red]")
            info = read_thread(graph.checkpointer, thread_id, graph=graph)
        if not info.interrupts:
            return info
        show_interrupts(console, info.interrupts)
        if decide is None:
            return info
        payload = Command(resume={p.id: decide(p) for p in info.interrupts})


def _team_redactor(spec: TeamSpec) -> Callable[[str], str] | None:
    """The redactor the team file sets (`redact:`), if any."""
    return check_redact(spec.options.get("redact"))


def _stored_redactor(run: RunInfo) -> Callable[[str], str] | None:
    """The redactor of the team file a thread was started from, if it sets one."""
    if not run.spec or not Path(run.spec).is_file():
        return None
    try:
        return _team_redactor(load_spec(run.spec))
    except OrchestraError:
        return None


def _finish(
    console: Console,
    info: ThreadInfo,
    store_args: Sequence[str],
    redact: Callable[[str], str] | None = None,
) -> None:
    """Print where the run stands (redacted with `redact`); exit 3 if it waits for a decision."""
    info = info.redacted(redact)
    if info.interrupts:
        print_waiting(console, info, resume_commands(info.thread_id, info.interrupts, store_args))
        raise typer.Exit(EXIT_WAITING)
    print_final(console, info)
    console.print(f"[dim]{one_line_usage(info)} · thread {info.thread_id}[/dim]")


@app.command()
def run(
    ctx: typer.Context,
    team: Annotated[Path, typer.Argument(help="The team's YAML file.", show_default=False)],
    input: Annotated[
        str | None,
        typer.Option(
            "--input",
            "-i",
            help="The task for the team ('-' reads it from stdin).",
            metavar="TEXT",
            show_default=False,
        ),
    ] = None,
    thread: Annotated[
        str | None,
        typer.Option(
            "--thread",
            help="Thread id: a new one by default; an existing thread's id gives the team "
            "a new task in the same conversation.",
            metavar="ID",
        ),
    ] = None,
    batch: Annotated[
        Path | None,
        typer.Option(
            "--batch",
            help="Run one task per line of this JSONL file, each in its own thread: a JSON "
            'string, or {"input": TEXT, "id": ID} (id optional). Run it again to skip the '
            "lines done, go on with those failed or stopped, and collect those decided since.",
            metavar="FILE",
            show_default=False,
        ),
    ] = None,
    concurrency: Annotated[
        int,
        typer.Option(
            "--concurrency", help="With --batch: how many tasks run at once.", min=1, metavar="N"
        ),
    ] = 8,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="With --batch: write one JSON line per task (its thread, status, final "
            "answer, error, pending decisions and the commands to decide them, usage).",
            metavar="FILE",
            show_default=False,
        ),
    ] = None,
    store: StoreOption = DEFAULT_STORE,
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    price: PriceOption = None,
    interactive: InteractiveOption = None,
) -> None:
    """Run a team on a task (or on each task of a batch file), showing progress.

    In a terminal, approvals are asked for on the spot. Otherwise the run is saved, the
    `orchestra resume` command to continue is printed and the exit code is 3.

    With --batch, each line's thread stops at its approvals and the commands to decide
    them are listed; the exit code is 1 if a task failed, 3 if one waits for a
    decision, 0 when all are done.

    A team file is code (its tools: and handoff_input: import and run Python from the
    modules they name): run only team files you trust as you would trust a script.
    """
    _check_run_flags(ctx, input, batch, thread, interactive)
    console = output_console()
    with _user_errors():
        spec = load_spec(team)
    graph_builder = _build(spec, model, base_url, None, price or ())
    store_args = _store_args(ctx, store)
    run_info = RunInfo(
        spec=str(spec.source),
        spec_sha256=spec.sha256,
        team=spec.name,
        pattern=spec.pattern,
        model=model,
        base_url=base_url,
        prices=" ".join(price or ()) or None,
    )
    if batch is not None:
        _run_batch(console, spec, run_info, batch, concurrency, out, store, store_args, price or ())
        return
    task = sys.stdin.read() if input == "-" else str(input)
    if not task.strip():
        raise _fail(
            "the task is empty" + (" (stdin gave no text)" if input == "-" else ""),
            "give the task with -i TEXT (or -i - to read it from stdin)",
        )
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
        console.print(
            f"[bold]{escape(spec.name)}[/bold] ({spec.pattern}) · thread {thread_id} · "
            f"{escape(describe_store(store))}"
        )
        ask = _interactive(interactive)
        reviewer = reviewer_name()
        result = _drive(
            console=console,
            graph=graph,
            payload={"messages": [("user", task)]},
            config=run_config(thread_id, run_info),
            agents=_agent_names(spec),
            decide=(lambda p: ask_decision(console, p, reviewer)) if ask else None,
            redact=_team_redactor(spec),
        )
    _finish(console, result, store_args, _team_redactor(spec))


def _check_run_flags(
    ctx: typer.Context,
    input: str | None,
    batch: Path | None,
    thread: str | None,
    interactive: bool | None,
) -> None:
    """Refuse `run`'s flags that do not go together (a task and a batch, ...)."""
    if batch is None:
        if input is None:
            raise _fail(
                "give the task with -i TEXT (or a batch file with --batch FILE)",
                "orchestra run TEAM.yaml -i 'the task'; see: orchestra run --help",
            )
        for flag in ("concurrency", "out"):
            source = ctx.get_parameter_source(flag)
            if source is not None and source.name != "DEFAULT":
                raise _fail(f"--{flag} goes with --batch", "give the batch file with --batch FILE")
        return
    given = {"-i": input is not None, "--thread": thread is not None}
    given["--interactive"] = interactive is not None
    clashing = [flag for flag, present in given.items() if present]
    if clashing:
        raise _fail(
            f"--batch runs the file's tasks, each in its own thread: leave out "
            f"{', '.join(clashing)}",
            "decide a batch's approvals afterwards with the orchestra resume commands it lists",
        )


def _run_batch(
    console: Console,
    spec: TeamSpec,
    run_info: RunInfo,
    batch: Path,
    concurrency: int,
    out: Path | None,
    store: str,
    store_args: Sequence[str],
    prices: Sequence[str] = (),
) -> None:
    """Run a batch file's tasks; print the summary; exit 1 (failed) or 3 (waiting)."""
    table = _price_table(prices)
    if not batch.is_file():
        raise _fail(
            f"{batch}: no such file", "give a JSONL file of tasks, one per line (see --help)"
        )
    with _user_errors():
        items = read_batch(batch, team=spec.name)
    console.print(
        f"[bold]{escape(spec.name)}[/bold] ({spec.pattern}) · batch {escape(str(batch))}: "
        f"{len(items)} tasks, {concurrency} at a time · {escape(describe_store(store))}"
    )

    def team(used: Mapping[str, int]) -> Any:
        return build_team(
            spec,
            model_override=run_info.model,
            base_url=run_info.base_url,
            consumed=used,
            prices=table,
        )

    async def go() -> list[BatchResult]:
        async with aopen_checkpointer(store) as saver:
            with BatchProgress(console, len(items)) as progress:
                return await arun_batch(
                    items,
                    team=team,
                    saver=saver,
                    run=run_info,
                    concurrency=concurrency,
                    on_result=progress,
                )

    with _user_errors():
        results = asyncio.run(go())
    console.print(batch_table(results, str(batch)), soft_wrap=False)
    waiting = [r for r in results if r.status == "waiting for approval" and r.thread]
    failed = [r for r in results if r.status == "failed"]
    commands = {
        r.item.thread_id: resume_commands(r.item.thread_id, r.thread.interrupts, store_args)
        for r in waiting
        if r.thread is not None
    }
    if waiting:
        console.print("\nWaiting for a decision (then run the batch again to collect them):")
        for r in waiting:
            console.print(f"  line {r.item.line}: {escape(commands[r.item.thread_id][0])}")
        console.print("  (the other decisions: orchestra show THREAD; orchestra resume --help)")
    if failed:
        console.print("\nFailed (run the batch again to retry them):")
        for r in failed:
            console.print(f"  line {r.item.line}: orchestra show {r.item.thread_id}")
    if out is not None:
        lines = [
            json.dumps({**r.to_json(), "resume": commands.get(r.item.thread_id, [])})
            for r in results
        ]
        partial = out.with_name(out.name + ".partial")
        partial.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
        partial.replace(out)
        console.print(f"[dim]{len(lines)} results written to {escape(str(out))}[/dim]")
    if failed:
        raise typer.Exit(EXIT_FAILED)
    if waiting:
        raise typer.Exit(EXIT_WAITING)


def _existing(saver: BaseCheckpointSaver[Any], thread_id: str) -> ThreadInfo | None:
    try:
        return read_thread(saver, thread_id)
    except LookupError:
        return None


@app.command()
def resume(
    ctx: typer.Context,
    thread: Annotated[str, typer.Argument(help="The thread to continue.", show_default=False)],
    approve: Annotated[
        bool,
        typer.Option(
            "--approve",
            help="Approve the output, the tool call or the plan (or let the turn run).",
        ),
    ] = False,
    reject: Annotated[
        str | None,
        typer.Option(
            "--reject",
            help="Reject with this feedback: the agent revises (a rejected tool call does "
            "not run; the model reads the feedback as its result; a rejected plan is made "
            "again by the manager or the planner).",
            metavar="TEXT",
        ),
    ] = None,
    edit: Annotated[
        Path | None,
        typer.Option(
            "--edit",
            help="Replace the output with this file's text ('-' reads stdin). For a tool "
            "call, the file holds the arguments to run it with, as a JSON object, e.g. "
            """echo '{"amount": 10}' | orchestra resume THREAD --edit -. For a plan, """
            "the file holds the plan's steps, one per line (blank lines are skipped); for a "
            'planner-executor\'s plan, the plan as JSON: {"steps": [{"id": ..., "agent": '
            '..., "instruction": ..., "depends_on": [...]}]}.',
            metavar="FILE",
        ),
    ] = None,
    answer: Annotated[
        str | None,
        typer.Option(
            "--answer",
            help="Answer in the agent's place (or answer its question); at a handoff limit, "
            "answer the user and end the run.",
            metavar="TEXT",
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
            "--supply",
            help="Escalated failure: use this text as its output (for missing record fields, "
            "the fields as a JSON object). Record conflict: the field's value (JSON, or the "
            "text as is when the branches wrote text). Split decision: your answer.",
            metavar="TEXT",
        ),
    ] = None,
    abort: Annotated[
        bool,
        typer.Option(
            "--abort",
            help="Escalated failure or split decision: end the run with what it has.",
        ),
    ] = False,
    pick: Annotated[
        str | None,
        typer.Option(
            "--pick",
            help="Record conflict: write AGENT's value to the field. Split decision: take "
            "AGENT's answer.",
            metavar="AGENT",
        ),
    ] = None,
    say: Annotated[
        str | None,
        typer.Option(
            "--say",
            help="A person's message: a group chat's human seat speaks, the user replies "
            "to an interactive handoff team, or a person answers an agent's "
            "escalate_to_human question.",
            metavar="TEXT",
        ),
    ] = None,
    continue_with: Annotated[
        str | None,
        typer.Option(
            "--continue",
            help="Handoff limit: give control to AGENT and go on (the transfer's target, "
            "or another agent).",
            metavar="AGENT",
        ),
    ] = None,
    end: Annotated[
        bool,
        typer.Option("--end", help="Handoff limit: end the run with the latest answer."),
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
            "--reviewer",
            help="Who decides, for the audit trail (default: your user name).",
            metavar="NAME",
        ),
    ] = None,
    store: StoreOption = DEFAULT_STORE,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="Model override for the rest of the run (default: the run's).",
            metavar="PROVIDER:MODEL",
        ),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            help="OpenAI-compatible base URL (default: the run's; give it again if it "
            "had a password, which is not stored).",
            metavar="URL",
        ),
    ] = None,
    allow_changed_spec: Annotated[
        bool,
        typer.Option(
            "--allow-changed-spec",
            help="Rebuild the team from its file even if the file changed since the run "
            "started (the file is code: its tools and handoff_input run).",
        ),
    ] = False,
    price: Annotated[
        list[str] | None,
        typer.Option(
            "--price",
            metavar="TEXT",
            help="Model prices for the rest of the run, as MODEL=IN/OUT (default: the run's).",
        ),
    ] = None,
    interactive: InteractiveOption = None,
) -> None:
    """Continue a thread that waits for a decision (or retry a failed one).

    The team is rebuilt from the team file the run started from, which is code (its
    tools: and handoff_input: import and run Python); if the file changed since, resume
    refuses unless --allow-changed-spec is given.

    Approvals take --approve, --reject TEXT, --edit FILE or --answer TEXT; a tool call
    waiting for approval takes --approve, --reject TEXT or --edit FILE (its arguments as
    JSON); escalated failures take --retry, --skip, --supply TEXT or --abort; a handoff
    limit takes --continue AGENT, --answer TEXT or --end; a person's message (a group
    chat's human seat, the user's reply to an interactive handoff team, an answer to an
    agent's question) takes --say TEXT; a magentic manager's plan waiting for review
    takes --approve, --reject TEXT or --edit FILE (the steps, one per line); a
    planner-executor's plan waiting for approval takes --approve, --reject TEXT or --edit
    FILE (the plan as JSON, {"steps": [...]}); a fan-out's record conflict takes --pick
    AGENT or --supply VALUE; a split decision takes --pick AGENT, --supply TEXT or
    --abort. Without a flag, the decision is asked for in a terminal.
    """
    console = output_console()
    who = reviewer or reviewer_name()
    given = {
        "approve": approve,
        "reject": reject,
        "edit": edit,
        "answer": answer,
        "retry": retry,
        "skip": skip,
        "supply": supply,
        "abort": abort,
        "pick": pick,
        "say": say,
        "continue": continue_with,
        "end": end,
    }
    with _user_errors():
        decision = decision_from_flags(given, who)
    ask = _interactive(interactive)
    store_args = _store_args(ctx, store)
    with _store(store, create=False) as saver:
        with _user_errors():
            stored = read_thread(saver, thread)
        if not stored.run.spec:
            raise _fail(
                f"thread '{thread}' was not started from a team file, so it can't be rebuilt",
                "resume it from Python with Command(resume=...)",
            )
        with _user_errors():
            spec = load_spec(stored.run.spec)
        _check_spec_unchanged(thread, stored.run, spec, allow_changed_spec)
        run_info = RunInfo(
            spec=stored.run.spec,
            spec_sha256=stored.run.spec_sha256,
            team=stored.run.team,
            pattern=stored.run.pattern,
            model=model or stored.run.model,
            base_url=base_url or _stored_base_url(stored.run),
            prices=" ".join(price or ()) or stored.run.prices,
        )
        graph = _build(
            spec,
            run_info.model,
            run_info.base_url,
            used_replies(saver, thread),
            (run_info.prices or "").split(),
        ).compile(checkpointer=saver)
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
                    "; ".join(resume_commands(thread, current.interrupts, store_args)[:1])
                    + " (see orchestra resume --help for the others)",
                )
            show_interrupts(console, current.interrupts)
            targets = [
                p for p in current.interrupts if interrupt is None or p.id.startswith(interrupt)
            ]
            payload = Command(resume={p.id: ask_decision(console, p, who) for p in targets})
        else:
            with _user_errors():
                payload = resume_from_flags(decision, current.interrupts, interrupt)
        console.print(
            f"[bold]{escape(spec.name)}[/bold] ({spec.pattern}) · resuming thread {thread} · "
            f"{escape(describe_store(store))}"
        )
        result = _drive(
            console=console,
            graph=graph,
            payload=payload,
            config=run_config(thread, run_info),
            agents=_agent_names(spec),
            decide=(lambda p: ask_decision(console, p, who)) if ask else None,
            redact=_team_redactor(spec),
        )
    _finish(console, result, store_args, _team_redactor(spec))


def _check_spec_unchanged(thread: str, run: RunInfo, spec: TeamSpec, allow_changed: bool) -> None:
    """Refuse to rebuild a thread's team from a file that changed since its run started."""
    if allow_changed or run.spec_sha256 is None or run.spec_sha256 == spec.sha256:
        return
    which = f"team file {run.spec}" + (" or a file it includes" if len(spec.files()) > 1 else "")
    raise _fail(
        f"{which} changed since thread '{thread}' started (SHA-256 "
        f"{run.spec_sha256[:12]}... then, {str(spec.sha256)[:12]}... now): refusing to run it",
        "check the file (a team file is code), then resume with --allow-changed-spec",
    )


def _stored_base_url(run: RunInfo) -> str | None:
    """The run's base URL, refused if its password was redacted when it was stored."""
    if run.base_url and ":***@" in run.base_url:
        raise _fail(
            f"the run's base URL {run.base_url} had a password, which is not stored",
            "give it again with --base-url",
        )
    return run.base_url


@app.command()
def threads(
    store: StoreOption = DEFAULT_STORE,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the threads in the store: id, team, pattern, status, last update."""
    with _store(store, create=False) as saver:
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
    console = output_console()
    if not found:
        console.print(f"no threads in {escape(describe_store(store))}")
        console.print("start one with: orchestra run TEAM.yaml -i TEXT  (or: orchestra demo)")
        return
    console.print(threads_table(found, describe_store(store)), soft_wrap=False)


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
    redact: Annotated[
        bool,
        typer.Option(
            "--redact",
            help="Redact e-mail addresses, phone and card numbers and secrets even when the "
            "team file sets no redact:.",
        ),
    ] = False,
    record: Annotated[
        list[str] | None,
        typer.Option(
            "--record",
            help="Print a record field's history: every write, who made it, old and new "
            "value (repeat for several fields).",
            show_default=False,
        ),
    ] = None,
    store: StoreOption = DEFAULT_STORE,
) -> None:
    """Show a thread: status, final answer, pending decisions; audit, usage, record on request.

    A thread whose team file sets `redact:` is shown redacted (text, JSON and tables).
    """
    with _store(store, create=False) as saver, _user_errors():
        info = read_thread(saver, thread)
    info = info.redacted(Redactor() if redact else _stored_redactor(info.run))
    if as_json:
        typer.echo(json.dumps(info.to_json(), indent=2, default=str))
        return
    console = output_console()
    print_thread(console, info, resume_commands(info.thread_id, info.interrupts, [])[:1])
    if audit:
        console.print(audit_table(info), soft_wrap=False)
    if usage:
        console.print(usage_table(info), soft_wrap=False)
    for field in record or ():
        console.print(record_table(info, field), soft_wrap=False)


@app.command()
def graph(
    target: Annotated[
        str,
        typer.Argument(
            help="A team YAML file, a Python graph as langgraph.json names it "
            f"(FILE.py:NAME), or a pattern name ({', '.join(sorted(PATTERNS))}) "
            "for a small built-in team.",
            show_default=False,
        ),
    ],
) -> None:
    """Print a team's graph as a Mermaid diagram (nested teams drawn inside their node)."""
    with _user_errors():
        team: Any
        if target.endswith((".yaml", ".yml")) or Path(target).is_file():
            from langgraph_orchestra.testing import ScriptedModel

            team = build_team(load_spec(target), model_override=ScriptedModel([]))
        elif ".py:" in target:
            team = load_graph(target)
        else:
            team = sample_team(target)
        drawing = draw_team(team)
    typer.echo(drawing)


@app.command()
def report(
    thread: Annotated[str, typer.Argument(help="The thread to report on.", show_default=False)],
    html: Annotated[
        Path,
        typer.Option(
            "--html",
            help="Write the report to this HTML file ('-' prints it). The page is "
            "self-contained: it loads nothing from the network.",
            metavar="FILE",
        ),
    ],
    draw: Annotated[
        bool,
        typer.Option(
            "--graph/--no-graph",
            help="Draw the team's graph from the team file the run started from.",
        ),
    ] = True,
    redact: Annotated[
        bool,
        typer.Option(
            "--redact",
            help="Redact e-mail addresses, phone and card numbers and secrets even when the "
            "team file sets no redact:.",
        ),
    ] = False,
    store: StoreOption = DEFAULT_STORE,
) -> None:
    """Write a thread's run report as one HTML page.

    A thread whose team file sets `redact:` is reported redacted, as `show` prints it.

    The page shows the team's graph, a timeline of the agents' turns (concurrent
    branches side by side) with approvals and exceptions on it, usage and cost per
    participant as a chart, the exception queue and the audit trail.

    The graph is drawn from the team file the run started from, unless it changed
    since; like orchestra graph, that imports the modules its tools: and
    handoff_input: name (--no-graph leaves the drawing out).
    """
    with _store(store, create=False) as saver, _user_errors():
        info = read_thread(saver, thread)
    info = info.redacted(Redactor() if redact else _stored_redactor(info.run))
    drawing, note = _team_drawing(info.run) if draw else (None, "--no-graph was given")
    page = render_report(info, graph=drawing, graph_note=note)
    if str(html) == "-":
        typer.echo(page, nl=False)
        return
    try:
        html.write_text(page, encoding="utf-8")
    except OSError as error:
        raise _fail(f"cannot write {html}: {error.strerror or error}", "check the path") from None
    output_console().print(
        f"[green]✓[/green] report of thread {escape(thread)} written to {escape(str(html))}"
    )


def _team_drawing(run: RunInfo) -> tuple[Any, str | None]:
    """The graph of the team a run started from, or why there is none."""
    if not run.spec:
        return None, "the thread was not started from a team file"
    if not Path(run.spec).is_file():
        return None, f"the team file {run.spec} is not there any more"
    try:
        spec = load_spec(run.spec)
        if run.spec_sha256 is not None and spec.sha256 != run.spec_sha256:
            return None, f"the team file {run.spec} changed since the run started"
        from langgraph_orchestra.testing import ScriptedModel

        return team_graph(build_team(spec, model_override=ScriptedModel([]))), None
    except (OrchestraError, yaml.YAMLError, OSError) as error:
        return None, f"the team file {run.spec} could not be built: {error}"


@app.command()
def patterns() -> None:
    """List the patterns: factory, what each does, when it fits, and the bound that ends a run."""
    output_console().print(patterns_table(PATTERNS), soft_wrap=False)


@app.command()
def validate(
    team: Annotated[Path, typer.Argument(help="The team's YAML file.", show_default=False)],
) -> None:
    """Check a team file and report every problem at once (no model is called).

    A team file is code (its tools: and handoff_input: import and run Python):
    checking it imports the modules they name, which runs their import-time code.
    Validate only team files you trust as you would trust a script.
    """
    with _user_errors():
        spec = validate_spec(team)
    output_console().print(
        f"[green]✓[/green] {escape(str(team))}: {spec.pattern} team '{escape(spec.name)}' with "
        f"{len(spec.members())} agents: {escape(_members(spec))}"
    )


def _members(spec: TeamSpec) -> str:
    """A team's agents for `validate`: roles, approvals, and nested teams' own agents."""
    parts = []
    for agent, role in spec.members():
        notes = [role] if role else []
        if agent.approval:
            notes.append(f"approval {agent.approval}")
        if agent.team is not None:
            inner = agent.team
            notes.append(f"{inner.pattern} team '{inner.name}' of {_members(inner)}")
        parts.append(agent.name + (f" ({', '.join(notes)})" if notes else ""))
    return ", ".join(parts)


@app.command()
def demo(
    pattern: Annotated[
        str,
        typer.Argument(
            help=f"Which example to run: {', '.join(sorted(PATTERNS))}; or "
            "records (typed fields a person completes) or nested (a team from its own "
            "file as one stage of another).",
        ),
    ] = "handoff",
    store: StoreOption = DEFAULT_STORE,
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    price: PriceOption = None,
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
    the final answer, the audit trail and the usage table. The default, the handoff
    example, shows a transfer with a typed payload and a tool call's approval.
    """
    if interactive and not sys.stdin.isatty():
        raise _fail(
            "--interactive needs a terminal to ask for decisions, and stdin is not one",
            "run it in a terminal, or without --interactive to approve automatically",
        )
    console = output_console()
    with _user_errors():
        spec = load_spec(example_path(pattern))
    prices = price or ()
    builder = _build(spec, model, base_url, None, prices)
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
        console.print(
            f"model: {escape(model)}" + (f" at {escape(_redact(base_url))}" if base_url else "")
        )
    task = spec.example_input or "Say hello."
    console.print(f"[bold]task:[/bold] {escape(task)}")
    run_info = RunInfo(
        spec=str(spec.source),
        spec_sha256=spec.sha256,
        team=spec.name,
        pattern=spec.pattern,
        model=model,
        base_url=base_url,
        prices=" ".join(prices) or None,
    )
    ask = interactive
    agents = _agent_names(spec)
    with _store(store) as saver:
        thread_id = new_thread_id(saver, spec.name)
        console.print(f"store: {escape(describe_store(store))} · thread {thread_id}\n")
        config = run_config(thread_id, run_info)
        info = _drive(
            console=console,
            graph=builder.compile(checkpointer=saver),
            payload={"messages": [("user", task)]},
            config=config,
            agents=agents,
            decide=None,
        )
    while info.interrupts:
        with _user_errors():
            decisions = {
                p.id: ask_decision(console, p, reviewer_name())
                if ask
                else auto_decision(console, p, fields=spec.example_fields)
                for p in info.interrupts
            }
        # Resume as another process would: reopen the store, rebuild the graph.
        console.print(
            f"[cyan]↻[/cyan] resuming thread {thread_id} from the store with a fresh graph"
        )
        with _store(store) as saver:
            graph = _build(spec, model, base_url, used_replies(saver, thread_id), prices).compile(
                checkpointer=saver
            )
            info = _drive(
                console=console,
                graph=graph,
                payload=Command(resume=decisions),
                config=config,
                agents=agents,
                decide=None,
            )
    console.print()
    print_final(console, info)
    console.print(audit_table(info), soft_wrap=False)
    console.print(usage_table(info), soft_wrap=False)
    names = list(PATTERNS)
    following = names[(names.index(pattern) + 1) % len(names)] if pattern in names else names[0]
    console.print(
        f"[dim]next: orchestra show {thread_id} --audit --usage · orchestra threads · "
        f"orchestra demo {following}[/dim]"
    )


def _unwrap(doc: str) -> str:
    """A docstring as help: paragraphs on one line each (the help rewraps them)."""
    return "\n\n".join(" ".join(p.split()) for p in inspect.cleandoc(doc).split("\n\n"))


for _command in app.registered_commands:
    if _command.callback is not None and _command.callback.__doc__:
        _command.help = _unwrap(_command.callback.__doc__)


def main() -> None:
    """Entry point of the `orchestra` console script."""
    app(prog_name="orchestra")
