"""The exceptions raised by langgraph-orchestra.

Every error derives from `OrchestraError` and also from the builtin it refines, so
`except ValueError` keeps working for callers who do not know this library.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "AgentError",
    "AgentTimeoutError",
    "CheckpointerError",
    "CircuitOpenError",
    "DecisionError",
    "InputError",
    "ModelSetupError",
    "OrchestraError",
    "OutputValidationError",
    "PreconditionError",
    "RecordWriteError",
    "ScriptError",
    "SpecError",
    "StructuredOutputError",
    "TeamConfigError",
    "UnknownThreadError",
]


class OrchestraError(Exception):
    """Base class of every error this library raises.

    Attributes:
        hint: What to do about it, when the error carries advice (the CLI prints it).
    """

    def __init__(self, *args: object, hint: str | None = None) -> None:
        super().__init__(*args)
        self.hint = hint


class TeamConfigError(OrchestraError, ValueError):
    """An agent, a team or a factory argument is invalid.

    Raised at construction or factory time, before any model is called.
    """


class AgentError(OrchestraError, RuntimeError):
    """An agent failed after its retries and its `on_error` policy is `"raise"`.

    Attributes:
        agent: The name of the agent that failed.
    """

    def __init__(self, message: str, *, agent: str) -> None:
        super().__init__(message)
        self.agent = agent

    def _fields(self) -> dict[str, Any]:
        return {"agent": self.agent}

    def __reduce__(self) -> tuple[Any, ...]:
        # The default rebuilds with `cls(*args)`, which lacks the keyword-only fields:
        # without this the error could not be pickled (process pools) or deep-copied.
        return _restore, (type(self), self.args, self._fields(), self.__dict__)


class AgentTimeoutError(AgentError, TimeoutError):
    """An agent did not answer within its `timeout`."""


class CircuitOpenError(AgentError):
    """A model's circuit breaker is open: the call failed fast, without reaching the model.

    The model failed often enough recently that calls to it are refused until a trial
    call succeeds (see `CircuitBreaker`). Like any failure, it goes to the caller's next
    fallback model, else to the agent's `on_error`.

    Attributes:
        model: The model's identity (`provider:name`), as the breaker knows it.
        retry_after: Seconds until a trial call is let through (0: a trial is running).
    """

    def __init__(self, message: str, *, agent: str, model: str, retry_after: float) -> None:
        super().__init__(message, agent=agent)
        self.model = model
        self.retry_after = retry_after

    def _fields(self) -> dict[str, Any]:
        return {"agent": self.agent, "model": self.model, "retry_after": self.retry_after}


class OutputValidationError(AgentError):
    """An agent's output was refused by a validator.

    Attributes:
        output: The refused output text.
    """

    def __init__(self, message: str, *, agent: str, output: str) -> None:
        super().__init__(message, agent=agent)
        self.output = output

    def _fields(self) -> dict[str, Any]:
        return {"agent": self.agent, "output": self.output}


class RecordWriteError(AgentError):
    """An agent wrote record fields outside its `writes`; nothing of the turn was applied.

    The write may come from its typed output, a tool or a nested team.

    Attributes:
        fields: The refused fields and the values the agent tried to write.
    """

    def __init__(self, message: str, *, agent: str, fields: dict[str, Any]) -> None:
        super().__init__(message, agent=agent)
        self.fields = fields

    def _fields(self) -> dict[str, Any]:
        return {"agent": self.agent, "fields": self.fields}


class PreconditionError(AgentError):
    """An agent's `requires` did not hold: the agent did not run.

    Attributes:
        missing: The required fields that are absent (empty when a predicate refused).
    """

    def __init__(self, message: str, *, agent: str, missing: list[str]) -> None:
        super().__init__(message, agent=agent)
        self.missing = missing

    def _fields(self) -> dict[str, Any]:
        return {"agent": self.agent, "missing": self.missing}


class StructuredOutputError(AgentError):
    """A participant gave no valid structured answer within its re-asks.

    Attributes:
        usage: The usage of the calls made (they were paid for), by participant.
    """

    def __init__(self, message: str, *, agent: str, usage: Mapping[str, Any] | None = None) -> None:
        super().__init__(message, agent=agent)
        self.usage = dict(usage or {})

    def _fields(self) -> dict[str, Any]:
        return {"agent": self.agent, "usage": self.usage}


class SpecError(TeamConfigError):
    """A team file is invalid. The message lists every problem, one per line.

    Attributes:
        problems: Each problem as `FILE: path: what was wrong; what is allowed`.
    """

    def __init__(self, problems: Sequence[str], *, hint: str | None = None) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems), hint=hint)


class ModelSetupError(TeamConfigError):
    """A real model can't be used here: its provider package or API key is missing."""


class UnknownThreadError(OrchestraError, LookupError):
    """No thread has this id in the store.

    Attributes:
        thread_id: The id asked for.
    """

    def __init__(self, thread_id: str, where: str) -> None:
        self.thread_id = thread_id
        super().__init__(
            f"no thread '{thread_id}' in {where}", hint="list the threads with: orchestra threads"
        )


class DecisionError(OrchestraError, ValueError):
    """A decision does not fit the thread's pending interrupts."""


class InputError(OrchestraError, ValueError):
    """A run's input is malformed: no task, or messages that are not messages.

    Raised before any model is called; the thread's state is left as it was.
    """


class CheckpointerError(OrchestraError, ValueError):
    """A checkpointer URL is malformed, unsupported, or its store is unreachable."""


class ScriptError(OrchestraError, AssertionError):
    """A `ScriptedModel` was called in a way its script does not allow."""


def _restore(
    cls: type[AgentError], args: tuple[Any, ...], fields: dict[str, Any], state: dict[str, Any]
) -> AgentError:
    """Rebuild a pickled `AgentError` (or subclass) from its message and fields."""
    error = cls(*args, **fields)
    error.__dict__.update(state)
    return error
