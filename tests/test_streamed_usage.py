"""Streamed usage from a model on a custom base URL: asked for, counted, never a silent 0.

`chat_model` turns on `stream_usage` for every model class that has the setting; the
end-to-end test streams a team whose model is `langchain-openai`'s `ChatOpenAI` on a
loopback OpenAI-compatible server that reports usage only when asked for it.
"""

from __future__ import annotations

import importlib.util
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from langgraph_orchestra import Agent, create_sequential
from langgraph_orchestra.models import chat_model
from langgraph_orchestra.testing import ScriptedModel


class _WithStreamUsage(ScriptedModel):
    """A scripted model with the `stream_usage` setting of OpenAI-style classes."""

    stream_usage: bool | None = None


def test_chat_model_turns_stream_usage_on_where_the_class_has_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import langchain.chat_models

    made: list[ScriptedModel] = []

    def init_chat_model(model: str, **kwargs: Any) -> ScriptedModel:
        made.append(_WithStreamUsage([]) if model.startswith("openai:") else ScriptedModel([]))
        return made[-1]

    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:  # langchain-openai is an extra
        return object() if name == "langchain_openai" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    monkeypatch.setattr(langchain.chat_models, "init_chat_model", init_chat_model)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    openai = chat_model("openai:llama3.1", base_url="http://127.0.0.1:1/v1")
    other = chat_model("fireworks:llama3.1")
    assert openai is made[0] and openai.stream_usage is True  # type: ignore[attr-defined]
    assert other is made[1] and "stream_usage" not in type(other).model_fields


# --- end to end, with langchain-openai on a loopback server ------------------------------------

USAGE = {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}


class _OpenAICompatible(BaseHTTPRequestHandler):
    """`/v1/chat/completions`, streamed; usage is sent only when the request asks for it."""

    requests: list[dict[str, Any]]

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.requests.append(body)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for chunk in _chunks(body):
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")


def _chunks(body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    base = {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "llama3.1"}
    for delta, finish in (({"role": "assistant", "content": "Hello"}, None), ({}, "stop")):
        yield {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    if (body.get("stream_options") or {}).get("include_usage"):
        yield {**base, "choices": [], "usage": USAGE}


@pytest.fixture
def server() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    requests: list[dict[str, Any]] = []
    handler = type("Handler", (_OpenAICompatible,), {"requests": requests})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", requests
    finally:
        httpd.shutdown()
        httpd.server_close()


def _streamed_usage(model: Any) -> dict[str, Any]:
    team = create_sequential([Agent("writer", model=model)]).compile()
    final: dict[str, Any] = {}
    for mode, chunk in team.stream(
        {"messages": [("user", "Say hello")]}, stream_mode=["messages", "values"]
    ):
        if mode == "values":
            final = chunk
    assert final["final"] == "Hello"
    return dict(final["usage"]["writer"])


def test_a_model_made_by_the_library_counts_streamed_usage_on_a_custom_base_url(
    server: tuple[str, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("langchain_openai")
    url, requests = server
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    usage = _streamed_usage(chat_model("openai:llama3.1", base_url=url))
    assert requests[-1]["stream"] is True
    assert requests[-1]["stream_options"] == {"include_usage": True}
    assert (usage["calls"], usage["input_tokens"], usage["output_tokens"]) == (1, 12, 3)
    assert "unknown_usage_calls" not in usage
    # llama3.1 is not in the price table: its cost is unpriced, not $0.
    assert (usage["unpriced_calls"], usage["unpriced_models"]) == (1, ["llama3.1"])


def test_a_model_that_streams_no_usage_is_recorded_as_unknown(
    server: tuple[str, list[dict[str, Any]]],
) -> None:
    langchain_openai = pytest.importorskip("langchain_openai")
    url, requests = server
    # Made by hand, as langchain-openai makes it: no streamed usage on a custom base URL.
    model = langchain_openai.ChatOpenAI(model="llama3.1", base_url=url, api_key="not-needed")
    usage = _streamed_usage(model)
    assert "stream_options" not in requests[-1]
    assert (usage["calls"], usage["input_tokens"], usage["output_tokens"]) == (1, 0, 0)
    assert usage["unknown_usage_calls"] == 1
