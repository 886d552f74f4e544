"""Proof that calls run at the same time, without measuring time.

A test that wants to show that branches run in parallel makes each of them wait at a
`Meeting`: the wait returns only once every expected call is waiting, so calls that run
one after the other never get past it (the first waits in vain, and the meeting fails
with `BrokenBarrierError` or `TimeoutError` after `MEET_TIMEOUT_S`). Unlike a bound on
the wall time, this holds on a loaded machine, however slowly the calls are scheduled.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from pydantic import PrivateAttr

from langgraph_orchestra.testing import ScriptedModel

MEET_TIMEOUT_S = 30.0
"""How long a call waits for the others: far beyond any scheduling delay."""


class Meeting:
    """`parties` calls that must all be under way at once, on threads or as tasks."""

    def __init__(self, parties: int) -> None:
        self.parties = parties
        self._threads = threading.Barrier(parties, timeout=MEET_TIMEOUT_S)
        self._tasks: asyncio.Barrier | None = None

    def wait(self) -> None:
        """Block this thread until `parties` threads wait here."""
        self._threads.wait()

    async def await_all(self) -> None:
        """Suspend this task until `parties` tasks (of one event loop) wait here."""
        if self._tasks is None:
            self._tasks = asyncio.Barrier(self.parties)
        async with asyncio.timeout(MEET_TIMEOUT_S):
            await self._tasks.wait()


class MeetingModel(ScriptedModel):
    """A `ScriptedModel` whose every call first waits at `meeting`."""

    _meeting: Meeting = PrivateAttr()

    def __init__(self, responses: list[Any], meeting: Meeting, **kwargs: Any) -> None:
        super().__init__(responses, **kwargs)
        self._meeting = meeting

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self._meeting.wait()
        return super()._generate(messages, stop, run_manager, **kwargs)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        await self._meeting.await_all()
        return await super()._agenerate(messages, stop, run_manager, **kwargs)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        self._meeting.wait()
        yield from super()._stream(messages, stop, run_manager, **kwargs)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        await self._meeting.await_all()
        async for chunk in super()._astream(messages, stop, run_manager, **kwargs):
            yield chunk
