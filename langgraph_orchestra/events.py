"""Custom stream events: the orchestration's decisions, as they are made.

Stream a run with `stream_mode="custom"` (LangGraph Server: `stream_mode="custom"` on a
run) to see each decision the moment it is made, without reading the state: a speaker
selected, a handoff, an approval gate opened and decided, an exception, the end of the
run. Every audit record is streamed as it is made (`emit_record`, called where records
are made), and a gate's pause as it happens (`gate_opening`). Each event is a dict:

- `type`: `orchestra.<name>`, the name one of `EVENTS` (the patterns' own events are
  `magentic.<name>` and `planner_executor.<name>`);
- `agent`: the participant concerned (`None` for the run itself);
- `detail`: the audit record's `detail` (for `gate_opened`, the interrupt's request);
- `audit_id`: the id of the audit record it mirrors (`None` for `gate_opened`).

Outside a LangGraph run, or when nobody streams `custom`, emitting costs next to nothing
and does nothing.

Example:
    ```python
    for event in app.stream(task, config, stream_mode="custom"):
        print(event["type"], event.get("agent"), event.get("detail"))
    ```
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Literal, TypedDict, get_args

from langgraph.config import get_stream_writer
from langgraph.errors import GraphInterrupt

__all__ = ["EVENTS", "PREFIX", "EventName", "OrchestraEvent", "emit_record", "gate_opening"]

EventName = Literal[
    "speaker_selected",
    "routing",
    "handoff",
    "gate_opened",
    "gate_decided",
    "exception",
    "plan",
    "turn",
    "termination",
    "fallback",
    "breaker",
    "completion",
    "write",
]
"""The name of a custom stream event."""

EVENTS: tuple[EventName, ...] = get_args(EventName)
"""Every event name, in the README's order."""

_BY_KIND: Mapping[str, EventName] = {
    "turn": "turn",
    "routing": "routing",
    "handoff": "handoff",
    "approval": "gate_decided",
    "exception": "exception",
    "plan": "plan",
    "termination": "termination",
    "fallback": "fallback",
    "breaker": "breaker",
    "completion": "completion",
    "write": "write",
}
"""The event of each audit record kind (a routing record that names a speaker is
`speaker_selected`)."""


PREFIX = "orchestra."
"""The start of every event's `type`."""


class OrchestraEvent(TypedDict):
    """A custom stream event."""

    type: str
    """What happened: `orchestra.<name>`, the name one of `EVENTS`."""
    agent: str | None
    """The participant concerned, if any."""
    detail: dict[str, Any]
    """The facts: the audit record's detail, or a gate's request."""
    audit_id: str | None
    """The id of the audit record this event mirrors (`None` for `gate_opened`)."""


def _emit(
    name: EventName, agent: str | None, detail: Mapping[str, Any], audit_id: str | None
) -> None:
    """Send an event to the run's custom stream, if the caller is inside a run."""
    try:
        writer = get_stream_writer()
    except (RuntimeError, KeyError):  # outside a LangGraph run
        return
    event: OrchestraEvent = {
        "type": PREFIX + name,
        "agent": agent,
        "detail": dict(detail),
        "audit_id": audit_id,
    }
    writer(event)


def emit_record(record_id: str, kind: str, agent: str | None, detail: Mapping[str, Any]) -> None:
    """Stream the event of an audit record just made (see the module docstring)."""
    name = _BY_KIND.get(kind, "routing")
    if kind == "routing" and detail.get("speaker") is not None:
        name = "speaker_selected"
    _emit(name, agent, detail, record_id)


@contextmanager
def gate_opening(agent: str | None, request: Mapping[str, Any]) -> Iterator[None]:
    """Around a gate's `interrupt`: stream `gate_opened` when the run pauses there.

    Only a real pause is streamed: when the run resumes, the same `interrupt` returns the
    decision instead, and the decision is streamed as `gate_decided` with its record.
    """
    try:
        yield
    except GraphInterrupt:
        _emit("gate_opened", agent, request, None)
        raise
