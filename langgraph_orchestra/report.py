"""A thread's run report: one self-contained HTML page to read a run at a glance.

`render_report` turns a thread read from a store (`threads.read_thread`) into an HTML
page: the team's graph drawn as SVG, a timeline of the agents' turns (one lane per
participant, so concurrent branches show side by side) with approvals, exceptions,
fallbacks and circuit breakers marked on it, usage, cost and tool calls (and their
failures) per participant, the exception queue, the audit trail and the transcript.
Everything is inline (CSS and SVG, no script): the page loads nothing from the network,
so it opens offline and can be attached to a ticket, and its content security policy
forbids it to run a script or load anything. Every text from
the run (agents' outputs, names, errors) is escaped and shows as text.

Example:
    ```python
    from pathlib import Path

    from langgraph_orchestra.checkpoint import open_checkpointer
    from langgraph_orchestra.report import render_report
    from langgraph_orchestra.threads import read_thread

    with open_checkpointer(".orchestra/state.db") as saver:
        thread = read_thread(saver, "release-review-3f9a1c")
    # graph=: the team's compiled graph (the one that ran the thread), to draw it
    page = render_report(thread, graph=team.compile())
    Path("report.html").write_text(page, encoding="utf-8")
    ```
"""

from __future__ import annotations

import html
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from langchain_core.messages import BaseMessage
from langchain_core.runnables.graph import Graph
from langgraph.pregel import Pregel

from langgraph_orchestra.names import AUTHORIZE_PREFIX, REVIEW_PREFIX
from langgraph_orchestra.threads import ThreadInfo, UsageRow, describe_audit, usage_rows

__all__ = ["CONTENT_SECURITY_POLICY", "render_report"]

CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
"""The policy the page declares: no script runs and nothing loads from anywhere, even if
text in it were ever mistaken for markup; only its own inline styles apply."""

_PALETTE = (
    "#4e79a7",
    "#76b7b2",
    "#b07aa1",
    "#9c755f",
    "#59a14f",
    "#edc948",
    "#ff9da7",
    "#86bcb6",
    "#8cd17d",
    "#bab0ac",
)
"""Participants' colors, in the order they first appear (graph, usage, audit)."""
_FAILED = "#d62728"
_GATE = "#f1a340"
_OTHER = "#e6e6e6"
_DECISION_COLORS = {"approve": "#2e7d32", "reject": "#e08214", "edit": "#1f6fb2"}
_FALLBACK = "#9467bd"
"""A call answered by a fallback model (or by none)."""
_BREAKER = "#8c564b"
"""A circuit breaker's move."""
_RUN_LANE = "run"
"""The timeline's lane of records that name no participant (routing, termination)."""

_CSS = """
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  margin: 0; color: #1d2433; background: #f5f6f8; }
main { max-width: 1100px; margin: 0 auto; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 0 0 12px; }
section { background: #fff; border: 1px solid #dde1e7; border-radius: 8px;
  padding: 16px 20px; margin: 16px 0; }
.meta { color: #5a6475; margin: 0; }
.meta b { color: #1d2433; font-weight: 600; }
.status { display: inline-block; padding: 1px 8px; border-radius: 10px; color: #fff;
  font-size: 12px; font-weight: 600; }
.status.done { background: #2e7d32; } .status.failed { background: #d62728; }
.status.waiting { background: #e08214; } .status.running { background: #1f6fb2; }
.answer, .content { white-space: pre-wrap; word-break: break-word; margin: 8px 0 0;
  font: inherit; }
.answer { background: #f7f9fc; border-left: 3px solid #4e79a7; padding: 8px 12px; }
.note { color: #5a6475; font-style: italic; }
.error { color: #b00020; }
svg { display: block; width: 100%; height: auto; }
#team-graph { margin: 0 auto; }
svg text { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  fill: #1d2433; }
svg .small { font-size: 11px; fill: #5a6475; }
svg .node-label { font-size: 12px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; vertical-align: top; padding: 4px 8px;
  border-bottom: 1px solid #e8ebf0; }
th { background: #f0f2f5; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: 600; border-top: 2px solid #c9ced6; }
tr.kind-approval td { background: #fff8e6; } tr.kind-exception td { background: #fdecec; }
tr.kind-termination td { background: #eef6ee; }
tr.kind-fallback td, tr.kind-breaker td { background: #f4effa; }
.kind { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
.legend { display: flex; flex-wrap: wrap; gap: 14px; margin-top: 8px; color: #5a6475;
  font-size: 12px; }
.legend span::before { content: ""; display: inline-block; width: 10px; height: 10px;
  margin-right: 5px; vertical-align: -1px; background: var(--c); border-radius: 2px; }
details summary { cursor: pointer; color: #1f6fb2; }
pre.mermaid-source { background: #f7f9fc; padding: 8px; overflow-x: auto; font-size: 12px; }
.message { border-top: 1px solid #e8ebf0; padding: 6px 0; }
.message .who { font-weight: 600; }
footer { color: #8a93a3; font-size: 12px; text-align: center; margin: 8px 0 24px; }
"""


def _e(value: object) -> str:
    """Escape any text from the run for HTML (quotes too: it may land in attributes)."""
    return html.escape(str(value), quote=True)


def _num(value: float) -> str:
    """A coordinate for SVG: at most one decimal."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _amount(value: float | None, digits: int = 4) -> str:
    return "unknown" if value is None else f"{value:.{digits}f}"


def _count(value: int | None) -> str:
    return "unknown" if value is None else f"{value:,}"


def _known(value: float | None) -> float:
    return 0.0 if value is None else float(value)


def _parse_ts(value: object) -> float | None:
    """A record's ISO 8601 timestamp in seconds since the epoch (`None` if unreadable)."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _clock(seconds: float) -> str:
    """UTC wall-clock time `HH:MM:SS.s` of an epoch time."""
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.strftime("%H:%M:%S.") + f"{moment.microsecond // 100000}"


def _short_ts(value: object) -> str:
    text = str(value or "")
    return text[11:23] if len(text) >= 23 else text


def render_report(
    thread: ThreadInfo,
    *,
    graph: Graph | Pregel[Any, Any, Any, Any] | None = None,
    title: str | None = None,
    graph_note: str | None = None,
) -> str:
    """Return a self-contained HTML report of a thread's run.

    The page holds, in order: the thread's status and answer (and any pending decision
    or error), the team's graph, a timeline of turns, approvals and exceptions (a lane
    per participant: concurrent turns line up side by side; long stretches without a
    turn, such as a wait for a decision, are cut short and labelled), usage and cost per
    participant as bars and as a table, the exception queue, the audit trail in order,
    and the transcript. It uses no script and loads nothing: no network at view time.

    Args:
        thread: The thread, as read by `read_thread` (or `aread_thread`).
        graph: The team's compiled graph (or its `get_graph()` drawing), to draw it;
            without it the page says the drawing is missing.
        title: The page's title (default: the team's name, or the thread's id).
        graph_note: Why no graph is given, said on the page in its place.

    Returns:
        The HTML page as a string.
    """
    drawing = graph.get_graph() if isinstance(graph, Pregel) else graph
    colors = _colors(thread, drawing)
    name = title or thread.run.team or thread.thread_id
    sections = [
        _summary(thread),
        _graph_section(drawing, colors, graph_note),
        _timeline_section(thread, colors),
        _usage_section(thread, colors),
        _exceptions_section(thread),
        _audit_section(thread),
        _transcript_section(thread.messages),
    ]
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(name)} · run report</title>\n<style>{_CSS}</style>\n</head>\n"
        f"<body>\n<main>\n<h1>{_e(name)} · run report</h1>\n"
        + "\n".join(section for section in sections if section)
        + "\n</main>\n<footer>langgraph-orchestra run report · thread "
        f"{_e(thread.thread_id)}</footer>\n</body>\n</html>\n"
    )


# -- colors ---------------------------------------------------------------------------


def _agent_nodes(drawing: Graph | None) -> list[str]:
    if drawing is None:
        return []
    return [
        node.id for node in drawing.nodes.values() if (node.metadata or {}).get("agent") == node.id
    ]


def _colors(thread: ThreadInfo, drawing: Graph | None) -> dict[str, str]:
    """One color per participant, the same on the graph, the timeline and the chart."""
    names = [
        *_agent_nodes(drawing),
        *thread.usage,
        *(str(r["agent"]) for r in thread.audit if r.get("agent")),
    ]
    unique = list(dict.fromkeys(names))
    return {name: _PALETTE[i % len(_PALETTE)] for i, name in enumerate(unique)}


# -- the summary ----------------------------------------------------------------------


def _summary(thread: ThreadInfo) -> str:
    status_class = {"waiting for approval": "waiting"}.get(thread.status, thread.status)
    team = f"{thread.run.team} ({thread.run.pattern})" if thread.run.team else "-"
    parts = [
        f"<b>thread</b> {_e(thread.thread_id)}",
        f"<b>team</b> {_e(team)}",
        f'<span class="status {_e(status_class)}">{_e(thread.status)}</span>'
        + (f" {_e(thread.stop_reason)}" if thread.stop_reason else ""),
        f"<b>updated</b> {_e(thread.updated[:19].replace('T', ' '))} UTC",
    ]
    total = usage_rows(thread.usage)[-1]
    parts.append(
        f"<b>usage</b> {_count(total.calls)} model calls · "
        f"{_count(total.input_tokens)} in / {_count(total.output_tokens)} out tokens · "
        f"${_amount(total.cost_usd)}"
    )
    body = [f'<p class="meta">{" · ".join(parts)}</p>']
    if thread.error:
        body.append(f'<p class="error">error: {_e(thread.error)}</p>')
    for pending in thread.interrupts:
        body.append(
            f'<p class="error">waiting: {_e(pending.kind)} for {_e(pending.agent)} '
            f"(interrupt {_e(pending.id)})</p>"
        )
    if thread.final is not None:
        body.append(f'<div class="answer">{_e(thread.final)}</div>')
    return '<section id="summary">\n' + "\n".join(body) + "\n</section>"


# -- the team's graph -----------------------------------------------------------------


@dataclass
class _Box:
    id: str
    label: str
    fill: str
    x: float = 0.0
    y: float = 0.0
    w: float = 0.0
    layer: int = 0


_NODE_H = 30.0
_LAYER_GAP = 50.0
_NODE_GAP = 24.0


def _forward_edges(drawing: Graph) -> set[tuple[str, str]]:
    """The edges that do not loop back (a depth-first walk from `__start__`)."""
    successors: dict[str, list[str]] = {node: [] for node in drawing.nodes}
    for edge in drawing.edges:
        successors.setdefault(edge.source, []).append(edge.target)
    start = drawing.first_node()
    roots = [start.id] if start is not None else []
    roots += [node for node in drawing.nodes if node not in roots]
    forward: set[tuple[str, str]] = set()
    done: set[str] = set()
    for root in roots:
        if root in done:
            continue
        on_path = {root}
        stack = [(root, iter(successors[root]))]
        done.add(root)
        while stack:
            node, targets = stack[-1]
            target = next(targets, None)
            if target is None:
                stack.pop()
                on_path.discard(node)
            elif target not in on_path:
                forward.add((node, target))
                if target not in done:
                    done.add(target)
                    on_path.add(target)
                    stack.append((target, iter(successors.get(target, ()))))
    return forward


def _layers(drawing: Graph, forward: set[tuple[str, str]]) -> dict[str, int]:
    """Each node's layer: the longest path of forward edges to it (`__end__` last)."""
    layer = dict.fromkeys(drawing.nodes, 0)
    for _ in drawing.nodes:  # longest paths in a DAG: relax as often as it has nodes
        moved = False
        for source, target in forward:
            if layer[target] < layer[source] + 1:
                layer[target] = layer[source] + 1
                moved = True
        if not moved:
            break
    end = drawing.last_node()
    if end is not None:
        layer[end.id] = max((v for k, v in layer.items() if k != end.id), default=-1) + 1
    return layer


def _boxes(
    drawing: Graph, colors: Mapping[str, str], forward: set[tuple[str, str]]
) -> dict[str, _Box]:
    """Place the nodes: rows by layer, each row ordered under its nodes' sources."""
    layer = _layers(drawing, forward)
    boxes: dict[str, _Box] = {}
    for node in drawing.nodes.values():
        if node.id in colors:
            fill = colors[node.id]
        elif node.id.startswith((REVIEW_PREFIX, AUTHORIZE_PREFIX)):
            fill = _GATE
        else:
            fill = _OTHER
        label = node.name.strip("_").upper() if node.id.startswith("__") else node.name
        boxes[node.id] = _Box(
            node.id, label, fill, w=max(64.0, 7.2 * len(label) + 24), layer=layer[node.id]
        )
    sources: dict[str, list[str]] = {}
    for edge in drawing.edges:
        if layer[edge.source] < layer[edge.target]:
            sources.setdefault(edge.target, []).append(edge.source)
    rows: dict[int, list[_Box]] = {}
    for box in boxes.values():
        rows.setdefault(box.layer, []).append(box)
    order: dict[str, float] = {}
    widest = max(sum(b.w for b in row) + _NODE_GAP * (len(row) - 1) for row in rows.values())
    for number in sorted(rows):
        row = rows[number]
        for position, box in enumerate(row):
            above = [order[s] for s in sources.get(box.id, ()) if s in order]
            order[box.id] = sum(above) / len(above) if above else float(position)
        row.sort(key=lambda b: order[b.id])
        for position, box in enumerate(row):
            order[box.id] = float(position)
        width = sum(b.w for b in row) + _NODE_GAP * (len(row) - 1)
        x = 70 + (widest - width) / 2
        for box in row:
            box.x, box.y = x, 20 + number * (_NODE_H + _LAYER_GAP)
            x += box.w + _NODE_GAP
    return boxes


def _edge_path(
    a: _Box, b: _Box, boxes: Mapping[str, _Box], side: int, middle: float
) -> tuple[str, float]:
    """An edge's SVG path, and how far right it reaches.

    An edge to the next row goes straight down; one that skips rows bows out past the
    rows it skips; one that loops back up goes around both boxes. Bows go out on the
    side of the drawing (left or right of `middle`) the edge is on, and `side` spreads
    them apart.
    """
    left = (a.x + a.w / 2 + b.x + b.w / 2) / 2 < middle
    spread = 30 + 10 * (side % 3)
    if a.layer < b.layer:
        x1, y1, x2, y2 = a.x + a.w / 2, a.y + _NODE_H, b.x + b.w / 2, b.y
        bend = (y2 - y1) / 2
        c1, c2 = (x1, y1 + bend), (x2, y2 - bend)
        if b.layer - a.layer > 1:
            skipped = [c for c in boxes.values() if a.layer < c.layer < b.layer]
            if left:
                reach = min([c.x for c in skipped] + [min(x1, x2)]) - spread
            else:
                reach = max([c.x + c.w for c in skipped] + [max(x1, x2)]) + spread
            c1, c2 = (reach, y1 + 40), (reach, y2 - 40)
    else:
        x1, x2 = (a.x, b.x) if left else (a.x + a.w, b.x + b.w)
        y1, y2 = a.y + _NODE_H / 2, b.y + _NODE_H / 2
        if a is b:
            y1, y2 = a.y + 8, a.y + _NODE_H - 8
        reach = min(x1, x2) - spread if left else max(x1, x2) + spread
        c1, c2 = (reach, y1), (reach, y2)
    points = " ".join(f"{_num(x)},{_num(y)}" for x, y in (c1, c2, (x2, y2)))
    return f"M{_num(x1)},{_num(y1)} C{points}", max(x1, x2, c1[0], c2[0])


def _graph_svg(drawing: Graph, colors: Mapping[str, str]) -> str:
    boxes = _boxes(drawing, colors, _forward_edges(drawing))
    right = max(b.x + b.w for b in boxes.values())
    middle = (min(b.x for b in boxes.values()) + right) / 2
    bottom = max(b.y for b in boxes.values()) + _NODE_H
    parts: list[str] = []
    for side, edge in enumerate(drawing.edges):
        a, b = boxes[edge.source], boxes[edge.target]
        path, reach = _edge_path(a, b, boxes, side, middle)
        right = max(right, reach)
        dash = ' stroke-dasharray="5 4"' if edge.conditional else ""
        title = f"{edge.source} → {edge.target}" + (
            f" ({edge.data})" if edge.data is not None else ""
        )
        parts.append(
            f'<g class="edge"><title>{_e(title)}</title><path d="{path}" fill="none" '
            f'stroke="#7a8494" stroke-width="1.3"{dash} marker-end="url(#orchestra-arrow)"/></g>'
        )
    for box in boxes.values():
        pill = box.id.startswith("__")
        radius = _NODE_H / 2 if pill else 6
        fill = "#ffffff" if pill else box.fill
        parts.append(
            f'<g class="node"><title>{_e(box.id)}</title><rect x="{_num(box.x)}" '
            f'y="{_num(box.y)}" width="{_num(box.w)}" height="{_num(_NODE_H)}" '
            f'rx="{_num(radius)}" fill="{fill}" fill-opacity="{"1" if pill else "0.3"}" '
            f'stroke="{"#5a6475" if pill or fill == _OTHER else fill}" stroke-width="1.5"/>'
            f'<text class="node-label" x="{_num(box.x + box.w / 2)}" '
            f'y="{_num(box.y + _NODE_H / 2 + 4)}" text-anchor="middle">{_e(box.label)}</text></g>'
        )
    width, height = right + 20, bottom + 20
    return (
        f'<svg id="team-graph" viewBox="0 0 {_num(width)} {_num(height)}" '
        f'style="max-width:{_num(width)}px" role="img" aria-label="the team\'s graph">'
        '<defs><marker id="orchestra-arrow" viewBox="0 0 10 10" refX="9" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#7a8494"/></marker></defs>' + "".join(parts) + "</svg>"
    )


def _graph_section(drawing: Graph | None, colors: Mapping[str, str], note: str | None) -> str:
    if drawing is None or not drawing.nodes:
        why = note or ("the team's graph was not given" if drawing is None else "it is empty")
        return (
            '<section id="graph">\n<h2>Team</h2>\n'
            f'<p class="note">No drawing: {_e(why)}.</p>\n</section>'
        )
    plain = Graph(
        nodes={key: node._replace(metadata=None) for key, node in drawing.nodes.items()},
        edges=list(drawing.edges),
    )
    legend = (
        '<div class="legend">'
        f'<span style="--c:{_GATE}">approval gate</span>'
        f'<span style="--c:{_OTHER}">orchestration step</span>'
        '<span style="--c:#ffffff">dashed: a conditional edge</span></div>'
    )
    return (
        '<section id="graph">\n<h2>Team</h2>\n'
        + _graph_svg(drawing, colors)
        + legend
        + "\n<details><summary>Mermaid source</summary>"
        f'<pre class="mermaid-source">{_e(plain.draw_mermaid(with_styles=False))}</pre>'
        "</details>\n</section>"
    )


# -- the timeline ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Event:
    lane: str
    start: float
    end: float
    kind: str
    record: Mapping[str, Any]


def _events(audit: Iterable[Mapping[str, Any]]) -> list[_Event]:
    """The audit records with a readable time, as spans (turns) or instants."""
    events = []
    for record in audit:
        end = _parse_ts(record.get("ts"))
        if end is None:
            continue
        kind = str(record.get("kind", ""))
        detail: Mapping[str, Any] = record.get("detail") or {}
        start = end
        if kind == "turn":
            latency = detail.get("latency_s")
            if isinstance(latency, int | float) and not isinstance(latency, bool) and latency > 0:
                start = end - float(latency)
        lane = str(record.get("agent") or _RUN_LANE)
        events.append(_Event(lane, start, end, kind, record))
    return events


class _Scale:
    """Maps times to x, cutting stretches without a turn longer than `cap` down to `cap`.

    A person's decision can take hours while the agents' turns take seconds: on a
    plain time axis the turns would vanish. Busy stretches keep their length; each
    stretch without a turn or a record that is longer than `cap` (an eighth of the busy
    time) is drawn `cap` long and listed in `cuts`.
    """

    def __init__(self, events: Sequence[_Event], x0: float, width: float) -> None:
        spans = sorted((e.start, e.end) for e in events)
        busy: list[list[float]] = []
        for start, end in spans:
            if busy and start <= busy[-1][1]:  # overlapping turns: one busy stretch
                busy[-1][1] = max(busy[-1][1], end)
            else:
                busy.append([start, end])
        busy_total = sum(end - start for start, end in busy)
        cap = max(busy_total / 8, 1e-3)
        self.cuts: list[tuple[float, float]] = []  # (real time where the cut starts, its length)
        self._knots: list[tuple[float, float]] = []  # (real time, display time)
        shown = 0.0
        for i, (start, end) in enumerate(busy):
            if i:
                gap = start - busy[i - 1][1]
                if gap > cap:
                    self.cuts.append((busy[i - 1][1], gap))
                shown += min(gap, cap)
            self._knots.append((start, shown))
            shown += end - start
            self._knots.append((end, shown))
        self._times = [moment for moment, _ in self._knots]
        self._x0, self._width = x0, width
        self._total = shown

    def x(self, moment: float) -> float:
        """The x of a moment."""
        knots = self._knots
        if not knots or self._total <= 0:
            return self._x0 + self._width / 2
        i = bisect_right(self._times, moment)
        if i == 0:
            shown = 0.0
        elif i == len(knots):
            shown = self._total
        else:  # knots[i - 1] <= moment < knots[i]: their times differ
            (t1, d1), (t2, d2) = knots[i - 1], knots[i]
            shown = d1 + (d2 - d1) * (moment - t1) / (t2 - t1)
        return self._x0 + self._width * shown / self._total


def _seconds(value: float) -> str:
    if value < 60:
        return f"{value:.1f} s" if value < 10 else f"{value:.0f} s"
    if value < 3600:
        return f"{value / 60:.1f} min"
    return f"{value / 3600:.1f} h"


def _marker(event: _Event, x: float, y: float) -> str:
    """An instant on the timeline: an approval, an exception, a decision, the end."""
    detail: Mapping[str, Any] = event.record.get("detail") or {}
    if event.kind == "approval":
        color = _DECISION_COLORS.get(str(detail.get("action")), "#1f6fb2")
        return (
            f'<path class="mark-approval" d="M{_num(x)},{_num(y - 8)} l8,8 l-8,8 l-8,-8 z" '
            f'fill="{color}" stroke="#1d2433" stroke-width="0.8"/>'
        )
    if event.kind == "exception" and "error" in detail:
        return (
            f'<g class="mark-exception"><circle cx="{_num(x)}" cy="{_num(y)}" r="8" '
            f'fill="{_FAILED}"/><path d="M{_num(x - 4)},{_num(y - 4)} l8,8 '
            f'M{_num(x + 4)},{_num(y - 4)} l-8,8" stroke="#fff" stroke-width="2"/></g>'
        )
    if event.kind == "exception":  # a person's decision on an escalated failure
        return (
            f'<path class="mark-decision" d="M{_num(x)},{_num(y - 8)} l8,8 l-8,8 l-8,-8 z" '
            f'fill="{_FAILED}" fill-opacity="0.35" stroke="{_FAILED}"/>'
        )
    if event.kind == "pending":
        return (
            f'<path class="mark-pending" d="M{_num(x)},{_num(y - 8)} l8,8 l-8,8 l-8,-8 z" '
            f'fill="#ffffff" stroke="{_GATE}" stroke-width="2.5"/>'
        )
    if event.kind == "fallback":  # a triangle: hollow when no model answered
        fill = _FALLBACK if detail.get("model") is not None else "#ffffff"
        return (
            f'<path class="mark-fallback" d="M{_num(x)},{_num(y - 8)} l8,14 l-16,0 z" '
            f'fill="{fill}" stroke="{_FALLBACK}" stroke-width="1.5"/>'
        )
    if event.kind == "breaker":  # a bar: solid when it opened, hollow when half-open or closed
        fill = _BREAKER if detail.get("state") == "open" else "#ffffff"
        return (
            f'<rect class="mark-breaker mark-breaker-{_e(detail.get("state"))}" '
            f'x="{_num(x - 3)}" y="{_num(y - 9)}" width="6" height="18" fill="{fill}" '
            f'stroke="{_BREAKER}" stroke-width="1.5"/>'
        )
    if event.kind == "termination":
        return f'<rect x="{_num(x - 5)}" y="{_num(y - 5)}" width="10" height="10" fill="#1d2433"/>'
    return f'<circle cx="{_num(x)}" cy="{_num(y)}" r="4" fill="#7a8494"/>'


def _tooltip(event: _Event) -> str:
    record = event.record
    who = str(record.get("agent") or "the run")
    if event.kind == "pending":
        detail = record["detail"]
        return (
            f"{who} · waits for a decision now ({detail['type']}, interrupt {detail['interrupt']})"
        )
    when = _clock(event.start) + (f" to {_clock(event.end)}" if event.end > event.start else "")
    return f"{who} · {event.kind} · {when} UTC · {describe_audit(record)}"


def _timeline_svg(events: Sequence[_Event], colors: Mapping[str, str]) -> str:
    lanes = list(dict.fromkeys([_RUN_LANE, *(e.lane for e in events)]))
    if not any(e.lane == _RUN_LANE for e in events):
        lanes.remove(_RUN_LANE)
    label_w, width, lane_h, top = 140.0, 1000.0, 30.0, 34.0
    scale = _Scale(events, label_w + 10, width - label_w - 30)
    height = top + lane_h * len(lanes) + 10
    row = {lane: top + lane_h * i + lane_h / 2 for i, lane in enumerate(lanes)}
    parts: list[str] = []
    for i, lane in enumerate(lanes):
        y = top + lane_h * i
        if i % 2 == 0:
            parts.append(
                f'<rect x="0" y="{_num(y)}" width="{_num(width)}" height="{_num(lane_h)}" '
                'fill="#f7f8fa"/>'
            )
        parts.append(
            f'<text class="lane" x="{_num(label_w)}" y="{_num(y + lane_h / 2 + 4)}" '
            f'text-anchor="end">{_e(lane)}</text>'
        )
    first = min(e.start for e in events)
    labels = [(scale.x(first), _clock(first))]
    said = -1e9
    for start, gap in scale.cuts:
        x, label = scale.x(start + gap / 2), f"⋯ +{_seconds(gap)}"
        why = f"{_seconds(gap)} without a turn (a decision, a wait), drawn short"
        parts.append(
            f'<g><title>{_e(why)}</title><line class="cut" x1="{_num(x)}" '
            f'y1="{_num(top - 6)}" x2="{_num(x)}" y2="{_num(height - 10)}" stroke="#9aa3b2" '
            'stroke-width="3" stroke-opacity="0.6" stroke-dasharray="2 3"/></g>'
        )
        if x - said >= 80:  # cuts close together: label the first one only
            parts.append(
                f'<text class="small" x="{_num(x)}" y="{_num(top - 10)}" '
                f'text-anchor="middle">{_e(label)}</text>'
            )
            said = x
        labels.append((scale.x(start + gap), _clock(start + gap)))
    last = max(e.end for e in events)
    labels.append((scale.x(last), _clock(last)))
    placed = -1e9
    for x, text in labels:
        if x - placed >= 90:
            near = min(x - label_w, width - x)
            anchor = "middle" if near > 40 else "start" if x - label_w <= 40 else "end"
            parts.append(
                f'<text class="small" x="{_num(x)}" y="{_num(height - 1)}" '
                f'text-anchor="{anchor}">{_e(text)}</text>'
            )
            placed = x
    # Waits for a person: from the agent's last turn to the decision on it.
    last_turn: dict[str, float] = {}
    for event in sorted(events, key=lambda e: e.end):
        if event.kind == "turn":
            last_turn[event.lane] = event.end
        elif event.kind == "approval" and event.lane in last_turn:
            y = row[event.lane]
            parts.append(
                f'<line x1="{_num(scale.x(last_turn[event.lane]))}" y1="{_num(y)}" '
                f'x2="{_num(scale.x(event.end))}" y2="{_num(y)}" stroke="{_GATE}" '
                'stroke-width="2" stroke-dasharray="4 3"/>'
            )
    for event in events:
        y = row[event.lane]
        if event.kind == "turn":
            x1, x2 = scale.x(event.start), scale.x(event.end)
            parts.append(
                f'<g class="turn"><title>{_e(_tooltip(event))}</title>'
                f'<rect x="{_num(x1)}" y="{_num(y - 8)}" width="{_num(max(x2 - x1, 3))}" '
                f'height="16" rx="3" fill="{colors.get(event.lane, _PALETTE[0])}"/></g>'
            )
    for event in events:
        if event.kind != "turn":
            x, y = scale.x(event.end), row[event.lane]
            parts.append(f"<g><title>{_e(_tooltip(event))}</title>{_marker(event, x, y)}</g>")
    return (
        f'<svg id="timeline" viewBox="0 0 {_num(width)} {_num(height + 4)}" role="img" '
        'aria-label="a timeline of the run">' + "".join(parts) + "</svg>"
    )


def _timeline_section(thread: ThreadInfo, colors: Mapping[str, str]) -> str:
    events = _events(thread.audit)
    if events:  # what waits for a person now, after the latest record
        at = max(e.end for e in events)
        events += [
            _Event(
                p.agent,
                at,
                at,
                "pending",
                {"agent": p.agent, "detail": {"type": p.kind, "interrupt": p.id}},
            )
            for p in thread.interrupts
        ]
    if not events:
        body = '<p class="note">No audit records: nothing ran yet.</p>'
    else:
        body = (
            _timeline_svg(events, colors)
            + '<div class="legend"><span style="--c:#4e79a7">a turn (a bar per agent)'
            f'</span><span style="--c:{_DECISION_COLORS["approve"]}">approved</span>'
            f'<span style="--c:{_DECISION_COLORS["reject"]}">rejected</span>'
            f'<span style="--c:{_DECISION_COLORS["edit"]}">edited or answered</span>'
            f'<span style="--c:{_GATE}">waiting for a decision (dashed; hollow: still '
            "waiting)</span>"
            f'<span style="--c:{_FAILED}">exception</span>'
            f'<span style="--c:{_FALLBACK}">a fallback model answered (hollow: none did)</span>'
            f'<span style="--c:{_BREAKER}">a circuit breaker opened (hollow: half-open or '
            "closed)</span>"
            '<span style="--c:#1d2433">end of a run</span></div>'
            '<p class="note">Hover a mark for its details. Times are UTC.</p>'
        )
    return f'<section id="timeline-section">\n<h2>Timeline</h2>\n{body}\n</section>'


# -- usage ----------------------------------------------------------------------------


def _usage_svg(thread: ThreadInfo, colors: Mapping[str, str]) -> str:
    rows = usage_rows(thread.usage)[:-1]
    label_w, panel_w, bar_h, gap, top = 130.0, 360.0, 18.0, 8.0, 26.0
    tokens = [_known(r.input_tokens) + _known(r.output_tokens) for r in rows]
    costs = [_known(r.cost_usd) for r in rows]
    most_tokens, most_cost = max(tokens, default=0.0) or 1.0, max(costs, default=0.0)
    cost_x = label_w + panel_w + 150
    height = top + len(rows) * (bar_h + gap) + 4
    parts = [
        f'<text x="{_num(label_w + 10)}" y="14" class="small">tokens (input, then output)</text>',
        f'<text x="{_num(cost_x)}" y="14" class="small">cost (US$)</text>',
    ]
    for i, (row, cost) in enumerate(zip(rows, costs, strict=True)):
        y = top + i * (bar_h + gap)
        color = colors.get(row.participant, _PALETTE[0])
        x = label_w + 10
        w_in = panel_w * _known(row.input_tokens) / most_tokens
        w_out = panel_w * _known(row.output_tokens) / most_tokens
        parts.append(
            f'<text x="{_num(label_w)}" y="{_num(y + 13)}" text-anchor="end">'
            f"{_e(row.participant)}</text>"
            f'<g class="usage-bar"><title>{_e(row.participant)}: '
            f"{_count(row.input_tokens)} input + {_count(row.output_tokens)} output tokens, "
            f"{_count(row.calls)} calls</title>"
            f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(w_in)}" height="{_num(bar_h)}" '
            f'fill="{color}" fill-opacity="0.45"/>'
            f'<rect x="{_num(x + w_in)}" y="{_num(y)}" width="{_num(w_out)}" '
            f'height="{_num(bar_h)}" fill="{color}"/></g>'
            f'<text class="small" x="{_num(x + w_in + w_out + 6)}" y="{_num(y + 13)}">'
            f"{_count(row.input_tokens)} + {_count(row.output_tokens)}</text>"
        )
        if most_cost > 0:
            w_cost = 200 * cost / most_cost
            parts.append(
                f'<rect x="{_num(cost_x)}" y="{_num(y)}" width="{_num(w_cost)}" '
                f'height="{_num(bar_h)}" fill="{color}"/>'
                f'<text class="small" x="{_num(cost_x + w_cost + 6)}" y="{_num(y + 13)}">'
                f"${_amount(row.cost_usd)}</text>"
            )
    if most_cost <= 0:
        parts.append(
            f'<text class="small" x="{_num(cost_x)}" y="{_num(top + 13)}">'
            "no cost recorded (no priced model)</text>"
        )
    width = cost_x + 300
    return (
        f'<svg id="usage-chart" viewBox="0 0 {_num(width)} {_num(height)}" role="img" '
        'aria-label="usage per participant">' + "".join(parts) + "</svg>"
    )


def _usage_section(thread: ThreadInfo, colors: Mapping[str, str]) -> str:
    if not thread.usage:
        return (
            '<section id="usage">\n<h2>Usage and cost</h2>\n'
            '<p class="note">No model calls recorded.</p>\n</section>'
        )
    header = "".join(
        f'<th class="num">{name}</th>'
        for name in (
            "calls",
            "input tokens",
            "output tokens",
            "latency (s)",
            "cost ($)",
            "tool calls",
            "tool failures",
        )
    )
    lines = []
    rows = usage_rows(thread.usage)
    for i, row in enumerate(rows):
        style = ' class="total"' if i == len(rows) - 1 else ""
        lines.append(
            f"<tr{style}><td>{_e(row.participant)}</td>"
            f'<td class="num">{_count(row.calls)}</td>'
            f'<td class="num">{_count(row.input_tokens)}</td>'
            f'<td class="num">{_count(row.output_tokens)}</td>'
            f'<td class="num">{_amount(row.latency_s, 2)}</td>'
            f'<td class="num">{_amount(row.cost_usd)}</td>'
            f'<td class="num">{row.tool_calls or "-"}</td>'
            f'<td class="num">{_failures(row)}</td></tr>'
        )
    return (
        '<section id="usage">\n<h2>Usage and cost</h2>\n'
        + _usage_svg(thread, colors)
        + f'\n<table id="usage-table"><thead><tr><th>participant</th>{header}</tr></thead>'
        f"<tbody>{''.join(lines)}</tbody></table>\n</section>"
    )


def _failures(row: UsageRow) -> str:
    """Failed tool calls and the error rate: `1 (25%)`; `-` without tool calls."""
    if row.error_rate is None:
        return "-"
    return f"{row.tool_errors} ({row.error_rate:.0%})"


# -- exceptions, audit and transcript -------------------------------------------------


def _exceptions_section(thread: ThreadInfo) -> str:
    if not thread.exceptions:
        return ""
    lines = []
    for record in thread.exceptions:
        resolution: Mapping[str, Any] = record.get("resolution") or {}
        resolved = ", ".join(f"{key}: {value}" for key, value in resolution.items())
        lines.append(
            f"<tr><td>{_e(_short_ts(record.get('ts')))}</td><td>{_e(record.get('agent'))}</td>"
            f"<td>{_e(record.get('error_type'))}</td><td>{_e(record.get('error'))}</td>"
            f"<td>{_e(record.get('status'))}</td><td>{_e(resolved)}</td></tr>"
        )
    return (
        '<section id="exceptions">\n<h2>Exceptions</h2>\n<table><thead><tr><th>time</th>'
        "<th>agent</th><th>type</th><th>error</th><th>status</th><th>resolution</th></tr>"
        f"</thead><tbody>{''.join(lines)}</tbody></table>\n</section>"
    )


def _audit_section(thread: ThreadInfo) -> str:
    lines = []
    for i, record in enumerate(thread.audit, start=1):
        kind = str(record.get("kind", ""))
        lines.append(
            f'<tr class="kind-{_e(kind)}"><td class="num">{i}</td>'
            f"<td>{_e(_short_ts(record.get('ts')))}</td>"
            f'<td class="kind">{_e(kind)}</td><td>{_e(record.get("agent") or "")}</td>'
            f"<td>{_e(describe_audit(record))}</td></tr>"
        )
    body = (
        '<table id="audit"><thead><tr><th class="num">#</th><th>time (UTC)</th><th>kind</th>'
        f"<th>agent</th><th>detail</th></tr></thead><tbody>{''.join(lines)}</tbody></table>"
        if lines
        else '<p class="note">No audit records.</p>'
    )
    return f'<section id="audit-trail">\n<h2>Audit trail</h2>\n{body}\n</section>'


def _transcript_section(messages: Sequence[BaseMessage]) -> str:
    if not messages:
        return ""
    items = []
    for message in messages:
        who = message.name or message.type
        calls = getattr(message, "tool_calls", None) or ()
        called = "".join(
            f'<div class="note">calls {_e(call["name"])}({_e(call["args"])})</div>'
            for call in calls
        )
        items.append(
            f'<div class="message"><span class="who">{_e(who)}</span> '
            f'<span class="note">{_e(message.type)}</span>'
            f'<div class="content">{_e(message.text)}</div>{called}</div>'
        )
    return (
        '<section id="transcript">\n<details><summary>Transcript '
        f"({len(messages)} messages)</summary>\n{''.join(items)}\n</details>\n</section>"
    )
