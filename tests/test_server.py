"""The example teams served by LangGraph Server (`langgraph dev`), driven by `langgraph_sdk`.

One server process per module, started from the repository's `langgraph.json` (graph
paths made absolute so the server runs in a temporary folder and leaves nothing in the
clone), on loopback, with tracing, analytics and file persistence off: no network.
Needs the `server` extra (`pip install -e ".[server]"`); skipped otherwise.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip(
    "langgraph_api", reason='the server extra is not installed: pip install -e ".[server]"'
)
pytest.importorskip(
    "langgraph_cli", reason='the server extra is not installed: pip install -e ".[server]"'
)
langgraph_sdk = pytest.importorskip(
    "langgraph_sdk", reason='the server extra is not installed: pip install -e ".[server]"'
)

ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT_S = 90.0
"""How long the server may take to start (it imports every example team)."""
TASK = "Hi, I ordered headphones two weeks ago (order A-1001) and they still haven't arrived."
EDITED = (
    "Hi Sam, we're sorry your headphones haven't arrived. Order A-1001 is held at ParcelNow's "
    "Leeds depot because its address label was damaged. We're sending a replacement today by "
    "express delivery, free of charge, and will email you the new tracking number. Thank you "
    "for your patience. - The Acme support team"
)
"""The sequential example's editor's scripted reply: the run's `final`."""
PUBLIC = {
    "messages",
    "audit",
    "exceptions",
    "usage",
    "run_usage",
    "run",
    "round",
    "final",
    "stop_reason",
}

pytestmark = pytest.mark.timeout(300)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _config(folder: Path) -> Path:
    """The repository's `langgraph.json` with absolute graph paths, persistence off."""
    config = json.loads((ROOT / "langgraph.json").read_text())
    config["dependencies"] = [str(ROOT)]
    config["graphs"] = {
        name: str(ROOT / spec.removeprefix("./")) for name, spec in config["graphs"].items()
    }
    config["disable_persistence"] = True
    path = folder / "langgraph.json"
    path.write_text(json.dumps(config))
    return path


def _env() -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("LANGSMITH_", "LANGCHAIN_", "ORCHESTRA_", "OTEL_"))
        and key not in {"LANGGRAPH_CLOUD_LICENSE_KEY", "DATABASE_URI", "REDIS_URI"}
    }
    env.update(
        LANGSMITH_TRACING="false",
        LANGCHAIN_TRACING_V2="false",
        LANGGRAPH_CLI_NO_ANALYTICS="1",
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )
    return env


def _stop(process: subprocess.Popen[bytes]) -> None:
    """End the server's process group: SIGTERM, then SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a `langgraph dev` server serving the example teams."""
    folder = tmp_path_factory.mktemp("server")
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "langgraph_cli",
        "dev",
        "--config",
        str(_config(folder)),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-browser",
        "--no-reload",
    ]
    log = folder / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=folder,
            env=_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"langgraph dev exited with {process.returncode}:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/ok", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"langgraph dev was not ready in {READY_TIMEOUT_S:.0f} s:\n{log.read_text()}"
                )
            time.sleep(0.25)
        yield url
    finally:
        _stop(process)


@pytest.fixture
def client(server: str) -> Iterator[Any]:
    with langgraph_sdk.get_sync_client(url=server) as sdk:
        yield sdk


def _task(text: str = TASK) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


def _pending(client: Any, thread_id: str) -> list[dict[str, Any]]:
    interrupts: list[dict[str, Any]] = client.threads.get_state(thread_id)["interrupts"]
    return interrupts


def _assistant(client: Any, graph: str) -> str:
    [assistant] = client.assistants.search(graph_id=graph)
    return str(assistant["assistant_id"])


def test_a_team_pauses_is_resumed_and_takes_a_second_task_on_the_thread(client: Any) -> None:
    thread_id = client.threads.create()["thread_id"]

    paused = client.runs.wait(thread_id, "sequential", input=_task())
    [request] = _pending(client, thread_id)
    assert paused["__interrupt__"][0]["id"] == request["id"]
    value = request["value"]
    assert (value["type"], value["agent"], value["when"]) == ("approval", "writer", "after")
    assert value["content"].startswith("Hi Sam, sorry your headphones haven't reached you.")
    assert client.threads.get_state(thread_id)["next"] == ["approve_writer"]

    # A malformed decision is refused; the interrupt stays pending, the state unchanged.
    before = client.threads.get_state(thread_id)
    with pytest.raises(Exception, match=r"validation errors? for ApprovalDecision") as refused:
        client.runs.wait(thread_id, "sequential", command={"resume": {"action": "maybe"}})
    assert "action" in str(refused.value)
    after = client.threads.get_state(thread_id)
    assert [i["id"] for i in after["interrupts"]] == [request["id"]]
    assert after["values"] == before["values"]

    done = client.runs.wait(
        thread_id, "sequential", command={"resume": {"action": "approve", "reviewer": "ana"}}
    )
    assert (done["final"], done["stop_reason"]) == (EDITED, "completed")
    assert set(done) <= PUBLIC
    approvals = [r for r in done["audit"] if r["kind"] == "approval"]
    assert [(r["agent"], r["detail"]["action"], r["detail"]["reviewer"]) for r in approvals] == [
        ("writer", "approve", "ana")
    ]
    assert _pending(client, thread_id) == []

    # A second task on the same thread: the scripted team answers it again.
    client.runs.wait(thread_id, "sequential", input=_task("And order A-1002?"))
    [second] = _pending(client, thread_id)
    assert second["id"] != request["id"]
    assert second["value"]["agent"] == "writer"
    again = client.runs.wait(thread_id, "sequential", command={"resume": {"action": "approve"}})
    assert (again["final"], again["stop_reason"]) == (EDITED, "completed")
    state = client.threads.get_state(thread_id)["values"]
    tasks = [m["content"] for m in state["messages"] if m["type"] == "human"]
    assert tasks == [TASK, "And order A-1002?"]
    assert state["usage"]["triage"]["calls"] == 4
    assert state["run_usage"]["triage"]["calls"] == 2


def test_many_threads_are_served(client: Any) -> None:
    """Each thread gets the scripted conversation (it used to fail after one run)."""
    finals = []
    for _ in range(2):
        thread_id = client.threads.create()["thread_id"]
        client.runs.wait(thread_id, "sequential", input=_task())
        done = client.runs.wait(thread_id, "sequential", command={"resume": {"action": "approve"}})
        finals.append(done["final"])
    assert finals == [EDITED, EDITED]


def test_a_fan_outs_output_and_schemas_show_the_users_fields_only(client: Any) -> None:
    thread_id = client.threads.create()["thread_id"]
    output = client.runs.wait(thread_id, "concurrent", input=_task("Ship 2.4 on Friday?"))
    assert set(output) - {"__interrupt__"} <= PUBLIC
    assert not {"results", "dispatched", "outbox"} & set(output)
    schemas = client.assistants.get_schemas(_assistant(client, "concurrent"))
    assert set(schemas["output_schema"]["properties"]) == PUBLIC
    assert set(schemas["input_schema"]["properties"]) == {"messages"}


def test_decisions_stream_as_custom_events(client: Any) -> None:
    thread_id = client.threads.create()["thread_id"]

    def events(**run: Any) -> list[tuple[str, str | None]]:
        parts = client.runs.stream(thread_id, "sequential", stream_mode="custom", **run)
        return [(p.data["type"], p.data["agent"]) for p in parts if p.event == "custom"]

    assert events(input=_task()) == [
        ("orchestra.turn", "triage"),
        ("orchestra.turn", "writer"),
        ("orchestra.gate_opened", "writer"),
    ]
    assert events(command={"resume": {"action": "approve"}}) == [
        ("orchestra.gate_decided", "writer"),
        ("orchestra.turn", "editor"),
        ("orchestra.termination", None),
    ]
