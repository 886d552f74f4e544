"""The one model factory: provider packages, API keys and base URLs, checked up front."""

from __future__ import annotations

import importlib.util
import re
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest

from langgraph_orchestra import Agent, ModelSetupError, TeamConfigError, _install
from langgraph_orchestra._install import install_command
from langgraph_orchestra.agents import AgentRunner
from langgraph_orchestra.errors import SpecError
from langgraph_orchestra.models import PROVIDERS, chat_model
from langgraph_orchestra.spec import build_team, load_spec
from langgraph_orchestra.testing import ScriptedModel
from langgraph_orchestra.tracing import DEFAULT_PRICES


@pytest.fixture
def no_openai(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make `langchain_openai` look not installed (the dev extra installs it)."""
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return None if name == "langchain_openai" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


OPENAI_EXTRA = install_command("openai")  # its exact forms are pinned below
SEQUENTIAL = Path(__file__).resolve().parent.parent / "examples" / "sequential.yaml"


def runner(agent: Agent) -> AgentRunner:
    return AgentRunner(agent, prices=DEFAULT_PRICES)


def package(present: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make `langchain_openai` look installed or not."""
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        if name == "langchain_openai":
            return object() if present else None
        return real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


def fake_init_chat_model(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    import langchain.chat_models

    created: list[tuple[str, dict[str, Any]]] = []

    def init_chat_model(model: str, **kwargs: Any) -> ScriptedModel:
        created.append((model, kwargs))
        return ScriptedModel([])

    monkeypatch.setattr(langchain.chat_models, "init_chat_model", init_chat_model)
    return created


def test_a_chat_model_is_returned_as_it_is() -> None:
    model = ScriptedModel([])
    assert chat_model(model, base_url="http://x") is model


def test_missing_provider_package(monkeypatch: pytest.MonkeyPatch) -> None:
    package(False, monkeypatch)
    with pytest.raises(ModelSetupError) as caught:
        chat_model("openai:gpt-4o-mini")
    assert str(caught.value) == (
        "model 'openai:gpt-4o-mini' needs the langchain-openai package, which is not installed"
    )
    assert caught.value.hint == OPENAI_EXTRA


def test_missing_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    package(True, monkeypatch)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ModelSetupError) as caught:
        chat_model("openai:gpt-4o-mini")
    assert str(caught.value) == (
        "model 'openai:gpt-4o-mini' needs the OPENAI_API_KEY environment variable, which is not set"
    )
    assert caught.value.hint == "export OPENAI_API_KEY=..."


def test_an_owner_begins_the_message_and_gets_the_fix_in_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    package(True, monkeypatch)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ModelSetupError) as caught:
        chat_model("openai:gpt-4o-mini", owner="Agent 'writer'")
    assert str(caught.value) == (
        "Agent 'writer' model 'openai:gpt-4o-mini' needs the OPENAI_API_KEY environment "
        "variable, which is not set: run export OPENAI_API_KEY=..."
    )


def test_base_url_needs_no_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    package(True, monkeypatch)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    created = fake_init_chat_model(monkeypatch)
    chat_model("openai:llama3.1", base_url="http://127.0.0.1:11434/v1")
    # a local server needs no key: a placeholder satisfies the OpenAI client
    assert created == [
        ("openai:llama3.1", {"base_url": "http://127.0.0.1:11434/v1", "api_key": "not-needed"})
    ]


def test_a_present_api_key_is_left_to_the_client(monkeypatch: pytest.MonkeyPatch) -> None:
    package(True, monkeypatch)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    created = fake_init_chat_model(monkeypatch)
    chat_model("openai:gpt-4o-mini")
    assert created == [("openai:gpt-4o-mini", {})]


# --- through an Agent ----------------------------------------------------------------


@pytest.mark.usefixtures("no_openai")
def test_openai_model_string_without_the_extra_gives_the_pip_hint() -> None:
    agent = Agent("a", model="openai:gpt-4o-mini")  # resolved when the team is built
    with pytest.raises(ModelSetupError) as caught:
        runner(agent)
    assert str(caught.value) == (
        "Agent 'a' model 'openai:gpt-4o-mini' needs the langchain-openai package, which is "
        f"not installed: run {OPENAI_EXTRA}"
    )
    assert caught.value.hint == OPENAI_EXTRA


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (
            "gpt-4o-mini",
            "'gpt-4o-mini' is not a 'provider:model' string; give 'provider:model' "
            "(e.g. 'openai:gpt-4o-mini')",
        ),
        (
            "opnai:gpt-4o-mini",
            "unknown provider 'opnai' in 'opnai:gpt-4o-mini' (did you mean 'openai'?); "
            "allowed providers: " + ", ".join(PROVIDERS),
        ),
    ],
)
def test_a_model_string_names_a_known_provider_everywhere(model: str, message: str) -> None:
    # One rule for the Python API, the team file and `orchestra --model`.
    with pytest.raises(TeamConfigError) as agent:
        Agent("a", model=model)
    assert str(agent.value) == f"Agent 'a' model: {message}"
    with pytest.raises(TeamConfigError) as direct:
        chat_model(model)
    assert str(direct.value) == f"model: {message}"
    with pytest.raises(SpecError) as spec:
        build_team(load_spec(SEQUENTIAL), model_override=model)
    assert spec.value.problems == [f"--model: {message}"]


def test_the_install_command_of_an_extra_from_a_clone_and_from_an_index(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    root = Path(_install.__file__).resolve().parent.parent
    assert _install._clone_root() == root  # the tests run from a clone
    monkeypatch.chdir(root)
    assert (
        install_command("openai") == f"{shlex.quote(sys.executable)} -m pip install -e '.[openai]'"
    )
    monkeypatch.chdir(tmp_path)
    assert install_command("postgres") == (
        f"{shlex.quote(sys.executable)} -m pip install -e {shlex.quote(f'{root}[postgres]')}"
    )
    monkeypatch.setattr(_install, "_clone_root", lambda: None)
    assert install_command("openai") == 'pip install "langgraph-orchestra[openai]"'


@pytest.mark.skipif(
    importlib.util.find_spec("langchain_anthropic") is not None,
    reason="langchain-anthropic is installed",
)
def test_other_provider_string_names_its_package() -> None:
    with pytest.raises(ModelSetupError) as caught:
        runner(Agent("a", model="anthropic:claude-sonnet-4"))
    assert str(caught.value) == (
        "Agent 'a' model 'anthropic:claude-sonnet-4' needs the langchain-anthropic package, "
        "which is not installed: run pip install langchain-anthropic"
    )


@pytest.mark.skipif(
    importlib.util.find_spec("langchain_cohere") is not None,
    reason="langchain-cohere is installed",
)
def test_a_provider_without_setup_names_the_package_init_chat_model_missed() -> None:
    with pytest.raises(ModelSetupError) as caught:
        chat_model("cohere:command-r")
    assert str(caught.value) == (
        "model 'cohere:command-r' needs the langchain-cohere package, which is not installed"
    )
    assert caught.value.hint == "pip install langchain-cohere"
    assert isinstance(caught.value.__cause__, ImportError)


def test_unknown_provider_string_is_a_config_error() -> None:
    with pytest.raises(
        TeamConfigError, match=r"^Agent 'a' model: unknown provider 'nope' in 'nope:x'"
    ) as caught:
        Agent("a", model="nope:x")  # refused when the agent is made, before any build
    assert not isinstance(caught.value, ModelSetupError)


def test_unknown_provider_is_refused_without_an_owner() -> None:
    with pytest.raises(
        TeamConfigError, match=re.escape("model: unknown provider 'nope' in 'nope:x'")
    ):
        chat_model("nope:x")
