"""The run report: `render_report` and `orchestra report THREAD --html FILE`.

The report of a concurrent team (three reviewers at once, one of which fails and is
left out, a lead whose answer waits for a person's approval) is read back with an HTML
parser and checked against the thread it was made from. When Chromium is installed,
the page is also rendered headless: the screenshot must show the drawing and the
page must log nothing (its content security policy turns any script or load into a
console message).
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import textwrap
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from _meet import Meeting, MeetingModel
from langchain_core.runnables.graph import Graph
from langgraph.checkpoint.memory import InMemorySaver
from typer.testing import CliRunner

from langgraph_orchestra import Agent, ApprovalDecision, ModelPrice, create_concurrent
from langgraph_orchestra.checkpoint import open_checkpointer
from langgraph_orchestra.cli import app
from langgraph_orchestra.report import CONTENT_SECURITY_POLICY, render_report
from langgraph_orchestra.testing import ScriptedModel
from langgraph_orchestra.threads import (
    RunInfo,
    ThreadInfo,
    describe_audit,
    read_thread,
    resume_value,
    run_config,
    usage_rows,
)

HOSTILE = "<script>alert('pwned')</script> Low risk: rotate the staging key."
WAIT_S = 1.5
"""How long the approval waits for the person: long enough to be cut short, even when a
loaded machine stretches the turns (a stretch is cut when longer than 1/8 of the busy time)."""

CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed (Debian: apt-get install chromium): the page is "
    "checked by its content only",
)


# -- the thread reported on ----------------------------------------------------------


def review_team() -> Any:
    # Security and product are called at the same time (they meet), then take 0.6 s and 0.2 s.
    both = Meeting(2)
    agents = [
        Agent("security", model=MeetingModel([HOSTILE], both, latency=0.6)),
        Agent(
            "reliability",
            model=ScriptedModel([RuntimeError("upstream timed out")]),
            on_error="continue",
        ),
        Agent("product", model=MeetingModel(["Launch behind the flag."], both, latency=0.2)),
    ]
    lead = Agent(
        "lead",
        model=ScriptedModel(["GO on Monday <b>after</b> QA."], latency=0.1),
        approval="after",
    )
    return create_concurrent(
        agents, aggregator=lead, prices={"scripted": ModelPrice(2.0, 8.0)}
    ).compile(checkpointer=InMemorySaver())


@dataclass(frozen=True)
class Reviewed:
    thread: ThreadInfo
    graph: Any
    page: str


@pytest.fixture(scope="module")
def reviewed() -> Reviewed:
    """A finished run: an exception, concurrent turns, an approval after a wait."""
    graph = review_team()
    config = run_config("review-1", RunInfo(team="release-review", pattern="concurrent"))
    graph.invoke({"messages": [("user", "Can we ship 2.4 on Friday?")]}, config)
    waiting = read_thread(graph.checkpointer, "review-1")
    assert waiting.status == "waiting for approval"
    time.sleep(WAIT_S)
    decision = ApprovalDecision(action="approve", reviewer="ann")
    graph.invoke(resume_value(waiting.interrupts, decision), config)
    thread = read_thread(graph.checkpointer, "review-1")
    assert thread.status == "done"
    return Reviewed(thread, graph, render_report(thread, graph=graph))


# -- reading the page back -----------------------------------------------------------


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""
    children: list[Element] = field(default_factory=list)

    def iter(self) -> Iterator[Element]:
        yield self
        for child in self.children:
            yield from child.iter()

    def find_all(self, tag: str, cls: str | None = None) -> list[Element]:
        return [
            e
            for e in self.iter()
            if e.tag == tag and (cls is None or cls in e.attrs.get("class", "").split())
        ]

    def by_id(self, id: str) -> Element:
        found = [e for e in self.iter() if e.attrs.get("id") == id]
        assert len(found) == 1, f"{len(found)} elements with id {id!r}"
        return found[0]

    def all_text(self) -> str:
        return self.text + "".join(child.all_text() for child in self.children)


_VOID = {"meta", "br", "img", "input", "link", "hr"}


class _Tree(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(element)
        if tag not in _VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Element(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        assert self.stack[-1].tag == tag, f"</{tag}> closes <{self.stack[-1].tag}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        # Text after a child goes to a text node so document order is kept.
        self.stack[-1].children.append(Element("#text", {}, data))


def parse(page: str) -> Element:
    tree = _Tree()
    tree.feed(page)
    tree.close()
    assert tree.stack == [tree.root], "unclosed elements"
    return tree.root


def title_of(element: Element) -> str:
    return next(e.all_text() for e in element.find_all("title"))


def table_rows(table: Element) -> list[list[str]]:
    body = table.find_all("tbody")[0]
    return [[cell.all_text() for cell in row.find_all("td")] for row in body.find_all("tr")]


def bar(turn: Element) -> tuple[float, float, float]:
    """A timeline turn's bar: x, x + width, y."""
    rect = turn.find_all("rect")[0].attrs
    x, width = float(rect["x"]), float(rect["width"])
    return x, x + width, float(rect["y"])


def turns(page: Element) -> dict[str, tuple[float, float, float]]:
    timeline = page.by_id("timeline")
    return {title_of(g).split(" · ")[0]: bar(g) for g in timeline.find_all("g", "turn")}


# -- content -------------------------------------------------------------------------


def test_the_summary_names_the_team_status_and_answer(reviewed: Reviewed) -> None:
    summary = parse(reviewed.page).by_id("summary").all_text()
    assert "release-review (concurrent)" in summary
    assert "done completed" in summary
    assert "GO on Monday <b>after</b> QA." in summary  # as text, not markup
    total = usage_rows(reviewed.thread.usage)[-1]
    assert f"{total.calls} model calls" in summary
    assert f"${total.cost_usd:.4f}" in summary


def test_the_graph_is_drawn_from_the_compiled_team(reviewed: Reviewed) -> None:
    drawing = parse(reviewed.page).by_id("team-graph")
    labels = [e.all_text() for g in drawing.find_all("g", "node") for e in g.find_all("text")]
    nodes = reviewed.graph.get_graph().nodes
    expected = [n.strip("_").upper() if n.startswith("__") else n for n in nodes]
    assert sorted(labels) == sorted(expected)
    assert {"security", "reliability", "product", "lead", "approve_lead"} <= set(labels)
    edges = [title_of(g) for g in drawing.find_all("g", "edge")]
    assert len(edges) == len(reviewed.graph.get_graph().edges)
    assert "approve_lead → lead" in edges


def test_concurrent_turns_are_side_by_side_and_the_lead_after(reviewed: Reviewed) -> None:
    bars = turns(parse(reviewed.page))
    assert set(bars) == {"security", "product", "lead"}
    (s1, s2, sy), (p1, p2, py), (l1, _, ly) = bars["security"], bars["product"], bars["lead"]
    assert len({sy, py, ly}) == 3  # one lane each
    assert max(s1, p1) < min(s2, p2)  # the branches overlap in time
    assert l1 >= max(s2, p2) - 1  # the lead starts once both are done
    # The security turn took longer (0.6 s) than the product one (0.2 s).
    assert s2 - s1 > p2 - p1


def test_the_wait_for_the_person_is_cut_short_and_labelled(reviewed: Reviewed) -> None:
    timeline = parse(reviewed.page).by_id("timeline")
    # The wait (a little over WAIT_S) is cut short; so may be a slow checkpoint write.
    assert timeline.find_all("line", "cut")
    labels = [t.all_text() for t in timeline.find_all("text")]
    waits = [label for label in labels if re.fullmatch(r"⋯ \+\d\.\d s", label)]
    assert any(WAIT_S <= float(label.split()[1]) < 5 for label in waits), labels
    # On a plain time axis the 0.6 s turn would take under a third of the run's ~2.3 s;
    # with the wait cut short it takes most of the axis.
    s1, s2, _ = turns(parse(reviewed.page))["security"]
    assert s2 - s1 > 0.4 * float(timeline.attrs["viewbox"].split()[2])


def test_the_approval_and_the_exception_are_marked(reviewed: Reviewed) -> None:
    timeline = parse(reviewed.page).by_id("timeline")
    marks = {title_of(g): g for g in timeline.find_all("g") if g.find_all("title")}
    approvals = [t for t, g in marks.items() if g.find_all("path", "mark-approval")]
    assert approvals and all(t.startswith("lead · approval") for t in approvals)
    assert "approve by ann (after)" in approvals[0]
    failures = [t for t, g in marks.items() if g.find_all("g", "mark-exception")]
    assert len(failures) == 1
    assert failures[0].startswith("reliability · exception")
    assert "failed (continued): upstream timed out" in failures[0]


def test_a_decision_still_awaited_is_marked_and_said() -> None:
    graph = review_team()
    config = run_config("review-2", RunInfo(team="release-review", pattern="concurrent"))
    graph.invoke({"messages": [("user", "Can we ship 2.4 on Friday?")]}, config)
    thread = read_thread(graph.checkpointer, "review-2")
    (pending,) = thread.interrupts
    page = parse(render_report(thread, graph=graph))
    assert (
        f"waiting: approval for lead (interrupt {pending.id})" in page.by_id("summary").all_text()
    )
    timeline = page.by_id("timeline")
    waiting = [title_of(g) for g in timeline.find_all("g") if g.find_all("path", "mark-pending")]
    assert waiting == [f"lead · waits for a decision now (approval, interrupt {pending.id})"]
    assert not timeline.find_all("path", "mark-approval")


def test_usage_table_and_chart_give_each_participants_numbers(reviewed: Reviewed) -> None:
    page = parse(reviewed.page)
    rows = table_rows(page.by_id("usage-table"))
    expected = [
        [
            r.participant,
            str(r.calls),
            f"{r.input_tokens:,}",
            f"{r.output_tokens:,}",
            f"{r.latency_s:.2f}",
            f"{r.cost_usd:.4f}",
            "-",  # no tools: no tool calls, no failures
            "-",
        ]
        for r in usage_rows(reviewed.thread.usage)
    ]
    assert rows == expected
    assert [row[0] for row in rows] == ["security", "product", "lead", "total"]
    assert all(float(row[5]) > 0 for row in rows)  # priced: the cost bars are drawn
    chart = page.by_id("usage-chart")
    bars = chart.find_all("g", "usage-bar")
    assert len(bars) == 3
    widths = {}
    for g, row in zip(bars, usage_rows(reviewed.thread.usage), strict=False):
        assert title_of(g) == (
            f"{row.participant}: {row.input_tokens:,} input + {row.output_tokens:,} "
            f"output tokens, {row.calls} calls"
        )
        widths[row.participant] = sum(float(r.attrs["width"]) for r in g.find_all("rect"))
    usage = reviewed.thread.usage
    tokens = {name: u["input_tokens"] + u["output_tokens"] for name, u in usage.items()}
    assert widths["security"] / widths["lead"] == pytest.approx(
        tokens["security"] / tokens["lead"], rel=0.02
    )
    assert any(f"${usage['lead']['cost_usd']:.4f}" == t.all_text() for t in chart.iter())


def test_the_audit_table_lists_every_record_in_order(reviewed: Reviewed) -> None:
    rows = table_rows(parse(reviewed.page).by_id("audit"))
    audit = reviewed.thread.audit
    assert rows == [
        [str(i), r["ts"][11:23], r["kind"], r["agent"] or "", describe_audit(r)]
        for i, r in enumerate(audit, start=1)
    ]
    kinds = [row[2] for row in rows]
    assert {"routing", "exception", "turn", "approval", "termination"} <= set(kinds)
    assert kinds[-1] == "termination"


def test_the_exception_queue_is_listed(reviewed: Reviewed) -> None:
    rows = table_rows(parse(reviewed.page).by_id("exceptions"))
    assert [row[1:5] for row in rows] == [
        ["reliability", "RuntimeError", "upstream timed out", "continued"]
    ]


def test_agents_output_shows_as_text_never_as_markup(reviewed: Reviewed) -> None:
    assert HOSTILE not in reviewed.page
    assert "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in reviewed.page
    page = parse(reviewed.page)
    assert not page.find_all("script")
    assert "after" not in [b.all_text() for b in page.find_all("b")]
    assert HOSTILE in page.by_id("transcript").all_text()


def test_nothing_is_loaded_from_anywhere(reviewed: Reviewed) -> None:
    page = parse(reviewed.page)
    for element in page.iter():
        for name, value in element.attrs.items():
            if name in ("src", "href", "xlink:href", "action", "srcset", "poster"):
                assert not re.match(r"\s*(https?:|//)", value, re.I), (element.tag, value)
    assert not {"script", "link", "iframe", "img", "object", "embed"} & {e.tag for e in page.iter()}
    # CSS and SVG refer only to the page itself (url(#id)), never to a file or host.
    assert re.findall(r"url\(([^)]*)\)", reviewed.page) == ["#orchestra-arrow"] * len(
        reviewed.graph.get_graph().edges
    )
    assert "@import" not in reviewed.page
    meta = [e for e in page.find_all("meta") if e.attrs.get("http-equiv")]
    assert meta[0].attrs["content"] == CONTENT_SECURITY_POLICY


def test_a_thread_with_nothing_yet_and_no_graph_says_so() -> None:
    thread = ThreadInfo("t-1", "running", "2026-01-01T00:00:00+00:00", RunInfo())
    page = parse(render_report(thread, graph_note="the team file is gone"))
    assert "No drawing: the team file is gone." in page.by_id("graph").all_text()
    assert "nothing ran yet" in page.by_id("timeline-section").all_text()
    assert "No model calls recorded." in page.by_id("usage").all_text()
    assert "No audit records." in page.by_id("audit-trail").all_text()
    default = parse(render_report(thread)).by_id("graph").all_text()
    assert "No drawing: the team's graph was not given." in default
    empty = parse(render_report(thread, graph=Graph())).by_id("graph").all_text()
    assert "No drawing: it is empty." in empty


def test_a_record_with_an_unreadable_time_is_listed_but_not_placed() -> None:
    audit = [
        {"id": "1", "ts": "not a time", "kind": "termination", "agent": None, "detail": {}},
        {
            "id": "2",
            "ts": "2026-01-01T00:00:01+00:00",
            "kind": "turn",
            "agent": "a",
            "detail": {"latency_s": 0.5},
        },
    ]
    thread = ThreadInfo("t-2", "done", "2026-01-01T00:00:02+00:00", RunInfo(), {"audit": audit})
    page = parse(render_report(thread))
    assert [row[2] for row in table_rows(page.by_id("audit"))] == ["termination", "turn"]
    assert set(turns(page)) == {"a"}
    lanes = [t.all_text() for t in page.by_id("timeline").find_all("text", "lane")]
    assert lanes == ["a"]  # no lane for the run: its only record has no time


def _ts(second: int) -> str:
    return f"2026-01-01T00:00:{second:02d}+00:00"


def _record(second: int, kind: str, agent: str | None, **detail: Any) -> dict[str, Any]:
    return {"id": str(second), "ts": _ts(second), "kind": kind, "agent": agent, "detail": detail}


def test_tool_calls_and_failures_per_participant_in_the_usage_table() -> None:
    usage = {
        "support": {
            "calls": 2,
            "input_tokens": 10,
            "output_tokens": 5,
            "latency_s": 0.5,
            "cost_usd": 0.0,
            "tool_calls": 4,
            "tool_errors": 1,
        },
        "writer": {
            "calls": 1,
            "input_tokens": 3,
            "output_tokens": 2,
            "latency_s": 0.1,
            "cost_usd": 0.0,
        },
    }
    thread = ThreadInfo("t-3", "done", _ts(9), RunInfo(), {"usage": usage, "audit": []})
    rows = table_rows(parse(render_report(thread)).by_id("usage-table"))
    assert [row[0] for row in rows] == ["support", "writer", "total"]
    assert [row[6:] for row in rows] == [["4", "1 (25%)"], ["-", "-"], ["4", "1 (25%)"]]


def test_fallbacks_and_breakers_are_marked_on_the_timeline_and_listed() -> None:
    failed = {"model": "gpt-4o", "error": "rate limited", "error_type": "RateLimitError"}
    audit = [
        _record(
            1,
            "breaker",
            "writer",
            model="openai:gpt-4o",
            state="open",
            failures=3,
            window_s=60.0,
            reset_after_s=30.0,
        ),
        _record(2, "fallback", "writer", model="claude", failed=[failed]),
        _record(3, "turn", "writer", latency_s=0.5),
        _record(4, "fallback", "critic", model=None, failed=[failed]),
        _record(5, "breaker", "writer", model="openai:gpt-4o", state="closed"),
        _record(6, "write", "writer", field="verdict", old=None, new="go"),
        _record(7, "completion", "on_end", action="notify", index=0, run="r", status="done"),
    ]
    thread = ThreadInfo("t-4", "done", _ts(9), RunInfo(), {"audit": audit})
    page = parse(render_report(thread))
    timeline = page.by_id("timeline")
    marks = {title_of(g): g for g in timeline.find_all("g") if g.find_all("title")}
    fallbacks = {
        t: g.find_all("path", "mark-fallback")[0]
        for t, g in marks.items()
        if g.find_all("path", "mark-fallback")
    }
    assert sorted(t.split(" · ")[0] for t in fallbacks) == ["critic", "writer"]
    answered = next(g for t, g in fallbacks.items() if t.startswith("writer"))
    none = next(g for t, g in fallbacks.items() if t.startswith("critic"))
    assert answered.attrs["fill"] != "#ffffff" and none.attrs["fill"] == "#ffffff"
    assert any(
        "answered by claude after gpt-4o failed (RateLimitError: rate limited)" in t
        for t in fallbacks
    )
    breakers = [
        (t, g.find_all("rect", "mark-breaker")[0])
        for t, g in marks.items()
        if g.find_all("rect", "mark-breaker")
    ]
    assert [r.attrs["class"].split()[-1] for _, r in breakers] == [
        "mark-breaker-open",
        "mark-breaker-closed",
    ]
    assert "breaker of openai:gpt-4o opened: 3 failures within 60.0 s" in breakers[0][0]
    rows = table_rows(page.by_id("audit"))
    assert [row[2:] for row in rows] == [
        [r["kind"], r["agent"] or "", describe_audit(r)] for r in audit
    ]
    assert rows[1][4] == "answered by claude after gpt-4o failed (RateLimitError: rate limited)"
    assert rows[3][4] == "no model answered: gpt-4o failed (RateLimitError: rate limited)"
    assert rows[4][4] == "breaker of openai:gpt-4o closed"
    assert rows[5][4] == "verdict: None → 'go'"
    assert rows[6][4] == "notify done"


# -- the command ---------------------------------------------------------------------

TEAM = """
    name: release-review
    pattern: concurrent
    options:
      aggregator:
        name: lead
        approval: after
        model: {scripted: [GO on Monday]}
    agents:
      - name: security
        model: {scripted: ["<script>alert(1)</script> low risk"]}
      - name: reliability
        on_error: continue
        model: {scripted: [{error: upstream timed out}]}
      - name: product
        model: {scripted: [fine]}
    """

runner = CliRunner()


@pytest.fixture
def cli_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A finished run of the team file above, in `tmp_path`'s default store."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ORCHESTRA_STORE", raising=False)
    Path("team.yaml").write_text(textwrap.dedent(TEAM))
    started = runner.invoke(app, ["run", "team.yaml", "-i", "Ship?", "--no-interactive"])
    assert started.exit_code == 3, started.output
    thread = re.search(r"thread (release-review-\w+)", started.output)
    assert thread is not None
    done = runner.invoke(app, ["resume", thread[1], "--approve", "--reviewer", "ann"])
    assert done.exit_code == 0, done.output
    return thread[1]


def test_orchestra_report_writes_the_page(cli_thread: str) -> None:
    result = runner.invoke(app, ["report", cli_thread, "--html", "out/report.html"])
    assert result.exit_code == 2  # the folder does not exist
    assert "error: cannot write out/report.html" in result.output
    result = runner.invoke(app, ["report", cli_thread, "--html", "report.html"])
    assert result.exit_code == 0, result.output
    assert f"report of thread {cli_thread} written to report.html" in result.output
    page = parse(Path("report.html").read_text(encoding="utf-8"))
    labels = {
        e.all_text() for g in page.by_id("team-graph").find_all("g", "node") for e in g.iter()
    }
    assert {"security", "reliability", "product", "lead", "approve_lead"} <= labels
    assert set(turns(page)) == {"security", "product", "lead"}
    assert not page.find_all("script")
    printed = runner.invoke(app, ["report", cli_thread, "--html", "-"])
    assert printed.exit_code == 0
    assert printed.stdout == Path("report.html").read_text(encoding="utf-8")


def test_orchestra_report_says_why_the_graph_is_missing(cli_thread: str) -> None:
    result = runner.invoke(app, ["report", cli_thread, "--html", "-", "--no-graph"])
    assert "No drawing: --no-graph was given." in result.stdout
    Path("team.yaml").write_text(textwrap.dedent(TEAM) + "description: changed\n")
    result = runner.invoke(app, ["report", cli_thread, "--html", "-"])
    assert result.exit_code == 0
    assert "changed since the run started" in result.stdout
    Path("team.yaml").unlink()
    result = runner.invoke(app, ["report", cli_thread, "--html", "-"])
    assert "is not there any more" in result.stdout


def test_orchestra_report_of_an_unknown_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["report", "nope", "--html", "x.html", "--store", "none.db"])
    assert result.exit_code == 2
    assert "error: No store at " in result.output
    assert not Path("none.db").exists()  # a read-only command creates no store
    with open_checkpointer("sqlite:///state.db"):
        pass
    result = runner.invoke(app, ["report", "nope", "--html", "x.html", "--store", "state.db"])
    assert result.exit_code == 2
    assert "error: no thread 'nope'" in result.output
    assert not Path("x.html").exists()


# -- rendered in a browser -----------------------------------------------------------


def render(page: Path, shot: Path) -> list[str]:
    """Render `page` headless into `shot`; return the console messages it logged."""
    assert CHROMIUM is not None
    done = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--no-first-run",
            "--hide-scrollbars",
            "--window-size=1200,2400",
            f"--screenshot={shot}",
            "--enable-logging=stderr",
            "--v=0",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return [line for line in done.stderr.splitlines() if ":CONSOLE" in line]


def pixels(png: bytes) -> Counter[tuple[int, ...]]:
    """Count the colors of an 8-bit RGB or RGBA, non-interlaced PNG."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks, header = 8, b"", b""
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, data = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = data
        elif kind == b"IDAT":
            chunks += data
        pos += 12 + length
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and color in (2, 6) and interlace == 0
    size = 3 if color == 2 else 4
    raw, stride = zlib.decompress(chunks), width * size
    counts: Counter[tuple[int, ...]] = Counter()
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        if kind == 2:
            line = bytearray((x + y) & 0xFF for x, y in zip(line, previous, strict=True))
        for i in range(stride if kind in (1, 3, 4) else 0):
            a = line[i - size] if i >= size else 0
            b = previous[i]
            c = previous[i - size] if i >= size else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        counts.update(tuple(line[i : i + 3]) for i in range(0, stride, size))
        previous = line
    return counts


def rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


@needs_chromium
def test_the_browser_detects_what_the_policy_blocks(tmp_path: Path) -> None:
    """The check below can fail: a script or a load on such a page logs to the console."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">'
        '<p>hi</p><script>console.log("ran")</script><img src="http://127.0.0.1:9/x.png">'
    )
    logged = render(bad, tmp_path / "bad.png")
    assert len(logged) == 2, logged
    assert "Content Security Policy" in logged[0]


@needs_chromium
def test_the_report_renders_in_a_browser_without_errors(reviewed: Reviewed, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(reviewed.page, encoding="utf-8")
    shot = tmp_path / "report.png"
    assert render(page, shot) == []
    counts = pixels(shot.read_bytes())
    _, most = counts.most_common(1)[0]
    assert sum(counts.values()) == 1200 * 2400
    assert most < 0.9 * sum(counts.values())  # not a blank page
    assert len(counts) > 50  # text and drawings, not a few flat areas
    # The SVG was drawn: the timeline's bars and the exception mark in their colors.
    tree = parse(reviewed.page)
    timeline = tree.by_id("timeline")
    fills = {
        title_of(g).split(" · ")[0]: g.find_all("rect")[0].attrs["fill"]
        for g in timeline.find_all("g", "turn")
    }
    failed = timeline.find_all("g", "mark-exception")[0].find_all("circle")[0].attrs["fill"]
    for color in [*fills.values(), failed]:
        assert counts[rgb(color)] > 40, (color, counts[rgb(color)])
