"""What the `orchestra` command prints: progress, interrupts, answers, tables and errors."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rich import progress
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from langgraph_orchestra.batch_runs import BatchResult
from langgraph_orchestra.redaction import redact_data
from langgraph_orchestra.spec import Pattern
from langgraph_orchestra.threads import (
    PendingInterrupt,
    RunEvent,
    ThreadInfo,
    ThreadStatus,
    UsageRow,
    describe_audit,
    describe_step,
    field_history,
    usage_rows,
)

__all__ = [
    "BatchProgress",
    "Progress",
    "audit_table",
    "batch_table",
    "error_console",
    "one_line_usage",
    "output_console",
    "patterns_table",
    "print_error",
    "print_final",
    "print_thread",
    "print_waiting",
    "record_table",
    "show_interrupts",
    "threads_table",
    "usage_notes",
    "usage_table",
]

_STATUS_COLORS: dict[ThreadStatus, str] = {
    "running": "cyan",
    "waiting for approval": "yellow",
    "done": "green",
    "failed": "red",
}


def output_console() -> Console:
    """The console of the command's output."""
    # Lines are not wrapped (commands stay copyable); panels and tables are printed with
    # `soft_wrap=False` so they fit the terminal.
    return Console(highlight=False, soft_wrap=True)


def error_console() -> Console:
    """The console of errors (stderr)."""
    return Console(stderr=True, highlight=False, soft_wrap=True)


def print_error(message: str, hint: str | None = None) -> None:
    """Print `error: ...` (one line per problem) and `hint: ...` to stderr."""
    err = error_console()
    for line in message.splitlines() or [""]:
        err.print(f"[red]error:[/red] {escape(line)}")
    if hint:
        err.print(f"[yellow]hint:[/yellow] {escape(hint)}")


class Progress:
    """Prints agent starts, finished turns, decisions and the end of a run.

    Pass it as `on_event` to `drive`, inside `with Progress(...)`. With `redact` (the
    team's `redact:`), every audit detail is redacted before it is printed.
    """

    def __init__(
        self,
        console: Console,
        agents: Sequence[str],
        redact: Callable[[str], str] | None = None,
    ) -> None:
        self.console = console
        self.agents = set(agents)
        self.redact = redact
        self.working: list[str] = []
        self.status: Any = None

    def __enter__(self) -> Progress:
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

    def __call__(self, event: RunEvent) -> None:
        """Print what a step of the run did."""
        if event.kind == "started":
            if event.node in self.agents:
                self.console.print(f"[cyan]▶[/cyan] {escape(event.node)} working…")
                self.working.append(event.node)
                self._refresh()
            return
        for record in event.audit:
            self._record(record)

    def _record(self, record: Mapping[str, Any]) -> None:
        if self.redact is not None:
            record = {**record, "detail": redact_data(record.get("detail") or {}, self.redact)}
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
        elif kind in ("fallback", "breaker", "write", "completion"):
            mark = _MARKS[kind](detail)
            self.console.print(f"{mark} {escape(agent)} {escape(describe_audit(record))}")


_MARKS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    # A fallback answered (or none did); a breaker moved; a record field; an on_end action.
    "fallback": lambda d: "[yellow]↻[/yellow]" if d.get("model") is not None else "[red]✗[/red]",
    "breaker": lambda d: {"open": "[red]⚡[/red]", "closed": "[green]⚡[/green]"}.get(
        str(d.get("state")), "[yellow]⚡[/yellow]"
    ),
    "write": lambda d: "[dim]✎[/dim]",
    "completion": lambda d: "[red]✗[/red]" if d.get("status") == "failed" else "[green]✓[/green]",
}
"""The mark of each audit kind the progress prints with `describe_audit`."""


def show_interrupts(console: Console, interrupts: Sequence[PendingInterrupt]) -> None:
    """Print each pending interrupt: what waits, and the content to decide on."""
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
            if value.get("output") is not None:  # a typed output: edited as its fields
                fields = json.dumps(value["output"], default=str)
                body += f"\n\nan edit gives its fields as JSON: {fields}"
        elif pending.kind == "exception":
            title = f"{pending.agent} failed and waits for a decision"
            body = f"{value.get('error_type')}: {value.get('error')}"
        elif pending.kind == "human_turn":
            title = f"{pending.agent}'s turn to speak (round {value.get('round', 0) + 1})"
            body = f"the latest message:\n{value.get('last', '')}"
        elif pending.kind == "tool_approval":
            title = f"{pending.agent}'s call of {value.get('tool')} waits for approval"
            body = f"{value.get('tool')}({json.dumps(value.get('args'), indent=2, default=str)})"
        elif pending.kind == "handoff_limit":
            reason = "max_handoffs" if value.get("reason") == "max_handoffs" else "ping-pong"
            title = (
                f"{pending.agent}'s transfer to {value.get('target')} stopped at the handoff "
                f"limit ({reason})"
            )
            hops = ", ".join(f"{a} → {b}" for a, b in value.get("handoffs") or ())
            body = (
                f"transfers this run: {hops or 'none'}\n"
                f"who may take over: {', '.join(value.get('agents') or ())}"
            )
        elif pending.kind == "user_turn":
            title = f"{pending.agent} waits for the user's reply"
            body = f"the latest message:\n{value.get('last', '')}"
        elif pending.kind == "human_help":
            title = f"{pending.agent} asks a person for help"
            body = str(value.get("question", ""))
        elif pending.kind == "plan_review":
            title = f"the {pending.agent}'s plan waits for review"
            revision = value.get("revision", 0)
            if revision:
                title += f" (revision {revision} of {value.get('max_revisions')})"
            steps = (value.get("ledger") or {}).get("plan") or ()
            body = "\n".join(f"{i}. {step}" for i, step in enumerate(steps, start=1))
        elif pending.kind == "plan_approval":
            title = f"the {pending.agent}'s plan waits for approval"
            revision = value.get("revision", 0)
            if revision:
                title += f" (revision {revision} of {value.get('max_revisions')})"
            body = "\n".join(describe_step(step) for step in value.get("plan") or ())
        elif pending.kind == "conflict":
            values = value.get("values") or {}
            title = (
                f"branches {', '.join(values)} wrote different values to field "
                f"{value.get('field')}: pick one, or supply the value"
            )
            body = "\n".join(
                f"{agent}: {json.dumps(v, default=str)}" for agent, v in values.items()
            )
        elif pending.kind == "disagreement":
            title = (
                f"the branches disagree (the leader {value.get('leader')} has "
                f"{float(value.get('share') or 0):.0%} of the votes): pick an answer, write "
                "one, or abort"
            )
            body = "\n\n".join(_answer(answer) for answer in value.get("answers") or ())
        else:
            title, body = f"interrupt {pending.kind}", json.dumps(value, default=str)
        console.print(f"[yellow]⏸[/yellow] {escape(title)}  [dim](interrupt {short})[/dim]")
        console.print(
            Panel(escape(body), title=escape(pending.agent), expand=False), soft_wrap=False
        )


def _answer(answer: Mapping[str, Any]) -> str:
    """One branch's answer in a split decision: who, how sure, why, and the answer."""
    about = [
        f"confidence {answer['confidence']}" if answer.get("confidence") is not None else "",
        f"reason: {answer['reason']}" if answer.get("reason") is not None else "",
    ]
    shown = "; ".join(part for part in about if part)
    return (
        f"{answer.get('agent')}" + (f" ({shown})" if shown else "") + f":\n{answer.get('answer')}"
    )


def print_waiting(console: Console, info: ThreadInfo, commands: Sequence[str]) -> None:
    """Print that the run waits for a decision, with the commands that give one."""
    console.print("\nThe run waits for a decision. Continue it with one of:")
    for line in commands:
        console.print(f"  {escape(line)}")
    if len(info.interrupts) > 1:
        console.print(
            "  (a decision applies to every pending interrupt of its kind; add "
            "--interrupt ID to decide one)"
        )


def print_final(console: Console, info: ThreadInfo) -> None:
    """Print the answer in a panel titled with the stop reason."""
    reason = info.stop_reason or "-"
    console.print(
        Panel(escape(info.final or "(no answer)"), title=f"final answer · {reason}"),
        soft_wrap=False,
    )


def print_thread(console: Console, info: ThreadInfo, commands: Sequence[str]) -> None:
    """Print a thread: status, error, pending interrupts (with `commands`) or answer."""
    team = f"{info.run.team} ({info.run.pattern})" if info.run.team else "-"
    console.print(
        f"[bold]thread {escape(info.thread_id)}[/bold] · team {escape(team)} · "
        f"{info.status}" + (f" ({info.stop_reason})" if info.stop_reason else "")
    )
    console.print(f"[dim]updated {info.updated[:19].replace('T', ' ')} UTC[/dim]")
    if info.error:
        console.print(f"[red]error:[/red] {escape(info.error)}")
    if info.interrupts:
        show_interrupts(console, info.interrupts)
        for line in commands:
            console.print(
                f"continue with: {escape(line)}  (see orchestra resume --help)", soft_wrap=True
            )
    elif info.final is not None or info.stop_reason:
        print_final(console, info)


def threads_table(found: Sequence[ThreadInfo], where: str) -> Table:
    """A table of threads: id, team, pattern, status, last update."""
    table = Table(title=f"threads · {where}", title_justify="left")
    # A thread id is never wrapped (it is copied into commands); the other columns give way.
    table.add_column("thread", no_wrap=True)
    for column in ("team", "pattern", "status", "last update (UTC)"):
        table.add_column(column, overflow="fold")
    for t in found:
        table.add_row(
            escape(t.thread_id),
            escape(t.run.team or "-"),
            escape(t.run.pattern or "-"),
            f"[{_STATUS_COLORS[t.status]}]{t.status}[/]",
            t.updated[:19].replace("T", " "),
        )
    return table


def patterns_table(patterns: Mapping[str, Pattern]) -> Table:
    """A table of the patterns: name, factory, what it does, when it fits, its main bound."""
    table = Table(title="patterns", title_justify="left")
    for column in ("pattern", "factory", "what it does", "fits", "main bound"):
        table.add_column(column, overflow="fold")
    for name, pattern in patterns.items():
        table.add_row(
            name,
            f"create_{name}",
            escape(pattern.summary),
            escape(pattern.fits),
            escape(pattern.bound),
        )
    return table


def audit_table(info: ThreadInfo) -> Table:
    """A table of the thread's audit trail."""
    table = Table(title=f"audit trail · {info.thread_id}", title_justify="left")
    for column in ("#", "time", "kind", "agent", "detail"):
        table.add_column(column, overflow="fold", no_wrap=column in ("#", "time", "agent"))
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


def record_table(info: ThreadInfo, field: str) -> Table:
    """A table of one record field's history: every write, in order, old and new value."""
    table = Table(title=f"record field '{field}' · {info.thread_id}", title_justify="left")
    for column in ("#", "time", "written by", "old", "new"):
        table.add_column(column, overflow="fold")
    for i, write in enumerate(field_history(info.audit, field), start=1):
        ts = str(write["ts"] or "")
        table.add_row(
            str(i),
            ts[11:19] if len(ts) >= 19 else ts,
            escape(str(write["by"] or "")),
            escape(json.dumps(write["old"], default=str)),
            escape(json.dumps(write["new"], default=str)),
        )
    return table


def usage_table(info: ThreadInfo) -> Table:
    """A table of the thread's usage per participant, with totals.

    Unknown usage shows as `unknown` (or `≥ N` when only some calls reported it) and
    the cost of models without a price as `unpriced`; a caption says which and why.
    """
    table = Table(title=f"usage · {info.thread_id}", title_justify="left")
    table.add_column("participant", no_wrap=True)  # names are not cut: the numbers give way
    for column in (
        "calls",
        "input tokens",
        "output tokens",
        "latency (s)",
        "cost",
        "tools (failed)",
    ):
        table.add_column(column, justify="right")
    rows = usage_rows(info.usage)
    for row in rows:
        total = row.participant == "total" and row is rows[-1]
        table.add_row(
            escape(row.participant),
            str(row.calls),
            row.tokens(row.input_tokens),
            row.tokens(row.output_tokens),
            f"{row.latency_s:.2f}",
            row.cost,
            _tools(row),
            style="bold" if total else None,
            end_section=row is rows[-2] if len(rows) > 1 else False,
        )
    notes = usage_notes(rows[-1])
    if notes:
        table.caption = escape("\n".join(notes))
        table.caption_justify = "left"
    return table


def _tools(row: UsageRow) -> str:
    """Tool calls, failures and error rate in one cell: `4 (1, 25%)`; `-` without any."""
    if row.error_rate is None:
        return "-"
    return f"{row.tool_calls} ({row.tool_errors}, {row.error_rate:.0%})"


def usage_notes(total: UsageRow) -> list[str]:
    """What a usage total leaves unknown, and how to fix it, one line each."""
    notes: list[str] = []
    if total.unknown_usage_calls:
        calls = "call" if total.unknown_usage_calls == 1 else "calls"
        notes.append(
            f"usage unknown for {total.unknown_usage_calls} {calls}: the reply carried no "
            "token usage (not counted as 0; budgets count only known tokens)"
        )
    if total.unpriced_calls:
        models = ", ".join(total.unpriced_models)
        notes.append(
            f"unpriced: {models}: give a price with --price MODEL=IN/OUT or prices: in "
            "the team file (US dollars per million input/output tokens)"
        )
    return notes


def one_line_usage(info: ThreadInfo) -> str:
    """The thread's total usage in one line: calls, tokens, cost."""
    total = usage_rows(info.usage)[-1]
    return (
        f"{total.calls} model calls · {total.tokens(total.input_tokens + total.output_tokens)}"
        f" tokens · {total.cost}"
    )


_BATCH_MARKS: dict[ThreadStatus, str] = {
    "done": "[green]✓[/green]",
    "waiting for approval": "[yellow]⏸[/yellow]",
    "failed": "[red]✗[/red]",
    "running": "[cyan]…[/cyan]",
}


class BatchProgress:
    """A progress bar over a batch's lines, with one line printed per finished task.

    Pass it as `on_result` to `arun_batch`, inside `with BatchProgress(...)`.
    """

    def __init__(self, console: Console, total: int) -> None:
        self.console = console
        self.bar = progress.Progress(
            progress.TextColumn("batch"),
            progress.BarColumn(),
            progress.MofNCompleteColumn(),
            progress.TimeElapsedColumn(),
            console=console,
        )
        self.task = self.bar.add_task("batch", total=total)

    def __enter__(self) -> BatchProgress:
        self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()

    def __call__(self, result: BatchResult) -> None:
        """Print where the line's thread stands; advance the bar."""
        item = result.item
        where = f"line {item.line}" + (f" ({item.id})" if item.id else "")
        if result.action == "skipped":
            text = f"[dim]· {escape(where)} done before (skipped)[/dim]"
        elif result.status == "failed":
            error = " ".join((result.error or "").split())
            text = f"{_BATCH_MARKS['failed']} {escape(where)} failed: {escape(error)}"
        else:
            resumed = " (resumed)" if result.action == "resumed" else ""
            text = f"{_BATCH_MARKS[result.status]} {escape(where)} {result.status}{resumed}"
        self.bar.console.print(f"{text} · thread {item.thread_id}")
        self.bar.advance(self.task)


def batch_table(results: Sequence[BatchResult], where: str) -> Table:
    """A table of a batch's lines by status: how many, how many this run moved."""
    table = Table(title=f"batch · {where}", title_justify="left")
    table.add_column("status", no_wrap=True)
    for column in ("lines", "run now", "from before"):
        table.add_column(column, justify="right")
    for status, _mark in _BATCH_MARKS.items():
        rows = [r for r in results if r.status == status]
        if not rows:
            continue
        moved = sum(1 for r in rows if r.action in ("ran", "resumed"))
        before = sum(1 for r in rows if r.action in ("skipped", "waiting"))
        table.add_row(
            f"[{_STATUS_COLORS[status]}]{status}[/]", str(len(rows)), str(moved), str(before)
        )
    table.add_row("total", str(len(results)), "", "", style="bold", end_section=False)
    return table
