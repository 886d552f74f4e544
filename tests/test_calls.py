"""The measured model call: usage, tracing, retries, timeout, structured output re-asks."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Literal

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.tracers.base import BaseTracer
from langchain_core.tracers.schemas import Run
from langgraph.types import RetryPolicy
from pydantic import BaseModel

from langgraph_orchestra import DEFAULT_PRICES, AgentTimeoutError, ModelPrice
from langgraph_orchestra.calls import ModelCall, aattempt, attempt, retry_policy
from langgraph_orchestra.errors import StructuredOutputError
from langgraph_orchestra.prompts import DEFAULT_PROMPTS
from langgraph_orchestra.testing import ScriptedModel

ASK = [HumanMessage("Who should speak next?")]


class Choice(BaseModel):
    speaker: Literal["writer", "critic"]
    reason: str


def call(model: ScriptedModel, **kwargs: Any) -> ModelCall:
    return ModelCall(
        model, participant="manager", pattern="group_chat", prices=DEFAULT_PRICES, **kwargs
    )


def test_plain_call_is_named_and_measured() -> None:
    model = ScriptedModel(["writer"])
    result = call(model).invoke(ASK)
    assert result.message.text == "writer"
    assert result.message.name == "manager"
    assert result.parsed is None
    usage = result.usage["manager"]
    assert usage["calls"] == 1
    assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0
    model.assert_complete()


def test_instructions_come_first() -> None:
    model = ScriptedModel(["ok"])
    call(model, instructions="You pick speakers.").invoke(ASK)
    sent = model.calls[0]
    assert [type(m).__name__ for m in sent] == ["SystemMessage", "HumanMessage"]
    assert sent[0].text == "You pick speakers."


def test_structured_answer_is_parsed() -> None:
    model = ScriptedModel([{"speaker": "critic", "reason": "the draft needs review"}])
    result = call(model).invoke(ASK, schema=Choice)
    assert result.parsed == Choice(speaker="critic", reason="the draft needs review")
    assert result.usage["manager"]["calls"] == 1


def test_invalid_answer_is_reasked_with_the_error_and_every_call_counted() -> None:
    model = ScriptedModel(
        [
            {"speaker": "editor", "reason": "x"},  # not one of the allowed names
            {"speaker": "writer", "reason": "drafts first"},
        ]
    )
    result = call(model).invoke(ASK, schema=Choice)
    assert result.parsed is not None and result.parsed.speaker == "writer"
    assert result.usage["manager"]["calls"] == 2
    reask = model.calls[1][-1]
    assert isinstance(reask, HumanMessage)
    assert reask.text.startswith("Your last reply could not be used as a Choice: speaker:")
    assert "'editor'" in reask.text
    # The re-ask quotes the bad reply as text: no dangling tool call in the history.
    assert not any(isinstance(m, AIMessage) for m in model.calls[1])


def test_check_refusal_is_reasked() -> None:
    model = ScriptedModel(
        [{"speaker": "writer", "reason": "again"}, {"speaker": "critic", "reason": "turn"}]
    )

    def not_writer(choice: Choice) -> None:
        if choice.speaker == "writer":
            raise ValueError("'writer' spoke last and may not speak twice in a row")

    result = call(model).invoke(ASK, schema=Choice, check=not_writer)
    assert result.parsed is not None and result.parsed.speaker == "critic"
    assert "'writer' spoke last and may not speak twice in a row" in model.calls[1][-1].text


def test_bad_json_is_reasked() -> None:
    model = ScriptedModel(["not json at all", {"speaker": "critic", "reason": "ok"}])
    result = call(model).invoke(ASK, schema=Choice)
    assert result.parsed is not None and result.parsed.speaker == "critic"
    assert "is not JSON" in model.calls[1][-1].text


def test_reasks_are_bounded_and_the_failure_carries_usage() -> None:
    bad = {"speaker": "nobody", "reason": "x"}
    model = ScriptedModel([bad, bad, bad])
    with pytest.raises(StructuredOutputError) as caught:
        call(model, max_reasks=2).invoke(ASK, schema=Choice)
    error = caught.value
    assert str(error).startswith("'manager' gave no valid Choice after 3 replies; last problem:")
    assert error.agent == "manager"
    assert error.usage["manager"]["calls"] == 3
    model.assert_complete()


def test_no_reask_when_max_reasks_is_zero() -> None:
    model = ScriptedModel([{"speaker": "nobody", "reason": "x"}])
    with pytest.raises(StructuredOutputError, match="after 1 replies"):
        call(model, max_reasks=0).invoke(ASK, schema=Choice)


def test_retry_applies_to_each_call() -> None:
    model = ScriptedModel([ConnectionError("down"), {"speaker": "critic", "reason": "ok"}])
    policy = retry_policy(2)
    assert isinstance(policy, RetryPolicy) and policy.max_attempts == 2
    fast = policy._replace(initial_interval=0.0, jitter=False)
    result = call(model, retry=fast).invoke(ASK, schema=Choice)
    assert result.parsed is not None and result.parsed.speaker == "critic"


def test_cost_uses_the_price_table() -> None:
    model = ScriptedModel(["x"], model_name="priced")
    prices = {**DEFAULT_PRICES, "priced": ModelPrice(1_000_000.0, 0.0)}
    result = ModelCall(model, participant="m", pattern="p", prices=prices).invoke(ASK)
    usage = result.usage["m"]
    assert usage["cost_usd"] == pytest.approx(usage["input_tokens"] * 1.0)


async def test_async_structured_reask() -> None:
    model = ScriptedModel([{"speaker": "x", "reason": "?"}, {"speaker": "writer", "reason": "ok"}])
    result = await call(model).ainvoke(ASK, schema=Choice)
    assert result.parsed is not None and result.parsed.speaker == "writer"
    assert result.usage["manager"]["calls"] == 2


class _Names(BaseTracer):
    def __init__(self) -> None:
        super().__init__()
        self.runs: list[Run] = []

    def _persist_run(self, run: Run) -> None:
        pass

    def _on_run_create(self, run: Run) -> None:
        self.runs.append(run)


def test_call_is_traced_under_the_participant() -> None:
    tracer = _Names()
    model = ScriptedModel(["ok"])
    call(model).invoke(ASK, {"callbacks": [tracer]}, round=3)
    run = tracer.runs[0]
    assert run.name == "manager"
    assert {"orchestra", "pattern:group_chat", "agent:manager"} <= set(run.tags or [])
    assert run.extra["metadata"]["round"] == 3


def test_attempt_timeout_names_the_participant() -> None:
    release = threading.Event()
    try:
        with pytest.raises(AgentTimeoutError, match=r"^Agent 'manager' timed out after 0.05 s$"):
            attempt(lambda: release.wait(5), who="manager", timeout=0.05)
    finally:
        release.set()


async def test_aattempt_timeout() -> None:
    with pytest.raises(AgentTimeoutError, match="'selector' timed out"):
        await aattempt(lambda: asyncio.sleep(5), who="selector", timeout=0.05)


def test_reask_prompt_is_the_prompts_constant() -> None:
    text = DEFAULT_PROMPTS.reask.format(schema="S", error="E", reply="R")
    assert "S" in text and "E" in text and "R" in text
