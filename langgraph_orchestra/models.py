"""Chat models from `"provider:model"` strings: the one place a real model is made.

`chat_model` is used by an `Agent`'s runner and by the team-file builder alike, so a
missing provider package or API key is reported the same way everywhere: a
`ModelSetupError` naming what is missing, with the exact command as its `hint`.

Example:
    ```python
    from langgraph_orchestra.models import chat_model

    model = chat_model("openai:llama3.1", base_url="http://127.0.0.1:11434/v1")
    ```
"""

from __future__ import annotations

import difflib
import importlib.util
import os
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple, cast

from langchain_core.language_models import BaseChatModel

from langgraph_orchestra._install import install_command
from langgraph_orchestra.errors import ModelSetupError, TeamConfigError

__all__ = ["MODEL_FORMAT", "PROVIDERS", "chat_model", "check_model_name"]

PROVIDERS = (
    "anthropic",
    "anthropic_bedrock",
    "azure_ai",
    "azure_openai",
    "baseten",
    "bedrock",
    "bedrock_converse",
    "cohere",
    "deepseek",
    "fireworks",
    "google_anthropic_vertex",
    "google_genai",
    "google_vertexai",
    "groq",
    "huggingface",
    "ibm",
    "litellm",
    "meta",
    "mistralai",
    "nvidia",
    "ollama",
    "openai",
    "openrouter",
    "perplexity",
    "together",
    "upstage",
    "xai",
)
"""Model providers of `init_chat_model` (langchain 1.x), the `provider` of `provider:model`."""

MODEL_FORMAT = "give 'provider:model' (e.g. 'openai:gpt-4o-mini')"
"""What a model string may be, for messages."""

_MODEL = re.compile(r"^([A-Za-z][A-Za-z0-9_-]*):(\S.*)$")


def check_model_name(model: str, *, allowed: str = MODEL_FORMAT) -> str:
    """Return `model` stripped if it is a `"provider:model"` string of a known provider.

    The one rule for model strings, so an `Agent`, a team file and `orchestra --model`
    accept the same names: the provider is always given (a bare name such as `gpt-4o`
    is refused), so a missing package or API key is found before any call.

    Args:
        model: The model string.
        allowed: What is allowed, said after a string without a provider.

    Raises:
        TeamConfigError: No provider, or an unknown one.
    """
    match = _MODEL.match(model.strip())
    if not match:
        raise TeamConfigError(f"'{model}' is not a 'provider:model' string; {allowed}")
    provider = match.group(1).replace("-", "_").lower()
    if provider not in PROVIDERS:
        close = difflib.get_close_matches(provider, PROVIDERS, n=1, cutoff=0.6)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise TeamConfigError(
            f"unknown provider '{match.group(1)}' in '{model}'{hint}; allowed providers: "
            f"{', '.join(PROVIDERS)}"
        )
    return model.strip()


class _Setup(NamedTuple):
    """What a provider needs before `init_chat_model` can make its model."""

    module: str
    """The integration module to import."""
    install: str | None
    """The command that installs it (`None`: the package's extra of the same name)."""
    key: str | None
    """The API key variable it reads, if any."""


_PROVIDER_SETUP: Mapping[str, _Setup] = MappingProxyType(
    {
        "openai": _Setup("langchain_openai", None, "OPENAI_API_KEY"),
        "anthropic": _Setup(
            "langchain_anthropic", "pip install langchain-anthropic", "ANTHROPIC_API_KEY"
        ),
        "ollama": _Setup("langchain_ollama", "pip install langchain-ollama", None),
        "groq": _Setup("langchain_groq", "pip install langchain-groq", "GROQ_API_KEY"),
        "mistralai": _Setup(
            "langchain_mistralai", "pip install langchain-mistralai", "MISTRAL_API_KEY"
        ),
        "google_genai": _Setup(
            "langchain_google_genai", "pip install langchain-google-genai", "GOOGLE_API_KEY"
        ),
    }
)


def chat_model(
    model: str | BaseChatModel, *, base_url: str | None = None, owner: str | None = None
) -> BaseChatModel:
    """Return `model` as a chat model, creating it with `init_chat_model` if it is a string.

    Before creating it, checks what the provider needs (its integration package, its API
    key), so a missing piece is one clear error instead of a deep import or client error.

    Args:
        model: A chat model (returned as it is) or a `"provider:model"` string (see
            `check_model_name`).
        base_url: The base URL of an OpenAI-compatible server (Ollama, vLLM, llama.cpp)
            for `openai:` models; no API key is needed then.
            A model created here asks for token usage when streaming
            (`stream_usage=True`, where its class has that setting), so usage is counted
            whatever the endpoint.
        owner: Who the model is for, to begin the error messages (`"Agent 'writer'"`).
            With an owner, the messages also carry the fix (Python users see no hint).

    Returns:
        The chat model.

    Raises:
        ModelSetupError: The provider's package or API key is missing (`hint` holds the
            command that fixes it).
        TeamConfigError: The string names no known provider, or `init_chat_model`
            refused the model.

    Example:
        ```python
        model = chat_model("anthropic:claude-sonnet-4", owner="Agent 'writer'")
        ```
    """
    if isinstance(model, BaseChatModel):
        return model
    subject = f"{owner} model '{model}'" if owner else f"model '{model}'"
    try:
        model = check_model_name(model)
    except TeamConfigError as error:
        raise TeamConfigError(f"{owner} model: {error}" if owner else f"model: {error}") from None
    provider = model.split(":", 1)[0].replace("-", "_").lower()
    kwargs: dict[str, Any] = {}
    if base_url:
        kwargs["base_url"] = base_url
    setup = _PROVIDER_SETUP.get(provider)
    if setup is not None:
        if importlib.util.find_spec(setup.module) is None:
            raise _missing_package(subject, setup.module, setup.install, owner)
        if setup.key is not None and not os.environ.get(setup.key):
            if provider == "openai" and base_url:
                # OpenAI-compatible local servers (Ollama, vLLM, llama.cpp) ignore the key,
                # but the client refuses to start without one.
                kwargs["api_key"] = "not-needed"
            else:
                raise _setup_error(
                    f"{subject} needs the {setup.key} environment variable, which is not set",
                    f"export {setup.key}=...",
                    owner,
                )
    from langchain.chat_models import init_chat_model

    try:
        created = cast(BaseChatModel, init_chat_model(model, **kwargs))
    except ImportError as error:
        # `init_chat_model` raises ImportError from the ModuleNotFoundError of the package.
        cause = error.__cause__
        module = cause.name if isinstance(cause, ModuleNotFoundError) else error.name
        if not module and provider:
            module = f"langchain_{provider}"
        if not module:
            raise TeamConfigError(f"{subject} could not be created: {error}") from error
        raise _missing_package(subject, module, None, owner) from error
    except Exception as error:
        raise TeamConfigError(f"{subject} could not be created: {error}") from error
    return _with_stream_usage(created)


def _with_stream_usage(model: BaseChatModel) -> BaseChatModel:
    """Ask `model` for token usage when streaming, if it has the setting and it is not on.

    `langchain-openai` asks for streamed usage only for OpenAI's own endpoint, so a
    model on a custom base URL (Ollama, vLLM, llama.cpp, a gateway), streamed (LangGraph
    Server's `messages-tuple`, `stream_mode="messages"`), would report none. Servers
    that speak the OpenAI API accept `stream_options.include_usage`. To turn it off, pass
    a chat model made yourself.
    """
    if "stream_usage" in type(model).model_fields and not getattr(model, "stream_usage", None):
        model.stream_usage = True  # type: ignore[attr-defined]
    return model


def _missing_package(
    subject: str, module: str, install: str | None, owner: str | None
) -> ModelSetupError:
    package = module.split(".", 1)[0].replace("_", "-")
    if install is None:
        extra = "openai" if package == "langchain-openai" else None
        install = install_command(extra) if extra else f"pip install {package}"
    return _setup_error(
        f"{subject} needs the {package} package, which is not installed", install, owner
    )


def _setup_error(message: str, hint: str, owner: str | None) -> ModelSetupError:
    """A setup error; for an owner (the Python API, which prints no hint) it says the fix too."""
    return ModelSetupError(f"{message}: run {hint}" if owner else message, hint=hint)
