"""Team specs: parsing, every problem reported at once with its YAML path, building."""

from __future__ import annotations

import importlib.util
import re
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import ToolMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from langgraph_orchestra import (
    Agent,
    AgentError,
    SpecError,
    TeamConfigError,
    TokenBudget,
    Window,
)
from langgraph_orchestra.spec import (
    PATTERNS,
    AgentSpec,
    ScriptedSpec,
    build_team,
    example_path,
    load_spec,
    parse_spec,
    sample_team,
    validate_spec,
)
from langgraph_orchestra.testing import ScriptedModel

TOOLS_MODULE = "spec_test_tools"
TOOLS_SOURCE = '''
from langchain_core.tools import tool
from pydantic import BaseModel

VERSION = "1"


class Ticket(BaseModel):
    """A transfer's payload."""

    order_id: str


class NotAModel:
    """A class that is not a pydantic model."""


@tool
def search(query: str) -> str:
    """Search the catalogue."""
    return "found " + query


def shout(text: str) -> str:
    """Shout the text."""
    return text.upper()
'''


@pytest.fixture(autouse=True)
def team_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Work in a folder holding a tool module, so messages name files relatively."""
    (tmp_path / f"{TOOLS_MODULE}.py").write_text(TOOLS_SOURCE)
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    sys.modules.pop(TOOLS_MODULE, None)


def write(text: str, name: str = "team.yaml") -> str:
    Path(name).write_text(textwrap.dedent(text))
    return name


def problems_of(text: str) -> list[str]:
    path = write(text)
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert str(caught.value) == "\n".join(caught.value.problems)
    assert (
        caught.value.hint == "fix the team file, then check it with: orchestra validate team.yaml"
    )
    return caught.value.problems


GOOD_AGENT = "{name: writer, model: {scripted: [hi]}}"

MALFORMED = {
    "unknown pattern": (
        f"pattern: sequental\nagents: [{GOOD_AGENT}]\n",
        [
            "team.yaml: pattern: unknown pattern 'sequental' (did you mean 'sequential'?); "
            "allowed: concurrent, group_chat, handoff, hierarchical, magentic, maker_checker, "
            "network, planner_executor, sequential"
        ],
    ),
    "missing pattern": (
        f"agents: [{GOOD_AGENT}]\n",
        [
            "team.yaml: pattern: missing; allowed: concurrent, group_chat, handoff, "
            "hierarchical, magentic, maker_checker, network, planner_executor, sequential"
        ],
    ),
    "missing agents, misspelt key": (
        f"pattern: sequential\nagent: [{GOOD_AGENT}]\n",
        [
            "team.yaml: agent: unknown key (did you mean 'agents'?); allowed: name, "
            "description, pattern, options, model, example_input, prices, example_fields, agents",
            "team.yaml: agents: missing; give a list of at least one agent",
        ],
    ),
    "empty agents": (
        "pattern: sequential\nagents: []\n",
        ["team.yaml: agents: empty; give a list of at least one agent"],
    ),
    "duplicate names": (
        f"pattern: sequential\nagents: [{GOOD_AGENT}, {GOOD_AGENT}]\n",
        [
            "team.yaml: agents[1].name: duplicate name 'writer' (also agents[0].name); "
            "names must be unique"
        ],
    ),
    "bad name": (
        "pattern: sequential\nagents: [{name: 'my writer', model: {scripted: [hi]}}]\n",
        [  # the Agent's own refusal
            "team.yaml: agents[0].name: Invalid agent name 'my writer': use 1-64 letters, "
            "digits, '_' or '-', starting with a letter"
        ],
    ),
    "reserved name": (
        "pattern: sequential\nagents: [{name: approve_it, model: {scripted: [hi]}}]\n",
        [  # the Agent's own refusal
            "team.yaml: agents[0].name: Agent name 'approve_it' is reserved: pick another name "
            "(reserved: ['aggregate', 'assistant', 'batch', 'dispatch', 'escalate', 'fanout', "
            "'finalize', 'handoff', 'human', 'manager', 'on_end', 'orchestra', 'reviewer', "
            "'settle', 'start', 'system', 'tool', 'user'] and names starting with ['approve_', "
            "'authorize_', '__'])"
        ],
    ),
    "unknown agent key": (
        "pattern: sequential\nagents: [{name: w, model: {scripted: [hi]}, instruction: x}]\n",
        [
            "team.yaml: agents[0].instruction: unknown key (did you mean 'instructions'?); "
            "allowed: name, description, model, team, instructions, tools, approve_tools, "
            "approval, on_error, context, retry, timeout, handoff_input, fallbacks, breaker, "
            "output, writes, reads, requires"
        ],
    ),
    "model without provider": (
        "pattern: sequential\nagents: [{name: w, model: gpt-4o-mini}]\n",
        [
            "team.yaml: agents[0].model: 'gpt-4o-mini' is not a 'provider:model' string; "
            "give 'provider:model' (e.g. 'openai:gpt-4o-mini') or {scripted: [replies]}"
        ],
    ),
    "unknown provider": (
        "pattern: sequential\nagents: [{name: w, model: 'opnai:gpt-4o'}]\n",
        [
            "team.yaml: agents[0].model: unknown provider 'opnai' in 'opnai:gpt-4o' (did you "
            "mean 'openai'?); allowed providers: anthropic, anthropic_bedrock, azure_ai, "
            "azure_openai, baseten, bedrock, bedrock_converse, cohere, deepseek, fireworks, "
            "google_anthropic_vertex, google_genai, google_vertexai, groq, huggingface, ibm, "
            "litellm, meta, mistralai, nvidia, ollama, openai, openrouter, perplexity, "
            "together, upstage, xai"
        ],
    ),
    "missing model": (
        "pattern: sequential\nagents: [{name: w}]\n",
        [
            "team.yaml: agents[0].model: missing; give 'provider:model' (e.g. "
            "'openai:gpt-4o-mini') or {scripted: [replies]}, or a top-level model; or team: "
            "FILE.yaml for a whole team"
        ],
    ),
    "scripted without replies": (
        "pattern: sequential\nagents: [{name: w, model: {scripted: []}}]\n",
        ["team.yaml: agents[0].model.scripted: empty; give a list of at least one reply"],
    ),
    "scripted reply of a wrong kind": (
        "pattern: sequential\nagents: [{name: w, model: {scripted: [3, {error: ''}]}}]\n",
        [
            "team.yaml: agents[0].model.scripted[0]: expected a reply, got 3; allowed: a "
            "string, {content: TEXT, tool_calls: [{name, args}]}, {error: TEXT} or a "
            "structured reply {field: value, ...}",
            "team.yaml: agents[0].model.scripted[1]: an error reply is {error: TEXT} alone, "
            "with a non-empty text",
        ],
    ),
    "tool path malformed": (
        "pattern: sequential\n"
        "agents: [{name: w, model: {scripted: [hi]}, tools: [spec_test_tools.search]}]\n",
        [
            "team.yaml: agents[0].tools[0]: 'spec_test_tools.search' is not an import path "
            "'package.module:attr'; e.g. 'support_tools:lookup_order'"
        ],
    ),
    "tool module missing": (
        "pattern: sequential\n"
        "agents: [{name: w, model: {scripted: [hi]}, tools: ['no_such_module:x']}]\n",
        [
            "team.yaml: agents[0].tools[0]: no module named 'no_such_module'; tool modules are "
            "imported from the Python path or the team file's folder"
        ],
    ),
    "tool attribute missing": (
        "pattern: sequential\n"
        "agents: [{name: w, model: {scripted: [hi]}, tools: ['spec_test_tools:serch']}]\n",
        [
            "team.yaml: agents[0].tools[0]: 'spec_test_tools' has no attribute 'serch' (did "
            "you mean 'search'?); give the name of a tool it defines"
        ],
    ),
    "tool is not callable": (
        "pattern: sequential\n"
        "agents: [{name: w, model: {scripted: [hi]}, tools: ['spec_test_tools:VERSION']}]\n",
        [
            "team.yaml: agents[0].tools[0]: 'spec_test_tools:VERSION' is '1' (a string), not "
            "a tool; give a function or a langchain BaseTool"
        ],
    ),
    "scripted call of an unknown tool": (
        "pattern: sequential\n"
        "agents:\n"
        "  - name: w\n"
        "    tools: ['spec_test_tools:search']\n"
        "    model: {scripted: [{tool_calls: [{name: serch, args: {query: x}}]}]}\n",
        [
            "team.yaml: agents[0].model.scripted[0].tool_calls[0].name: 'serch' is not a tool "
            "of this agent (did you mean 'search'?); allowed: search"
        ],
    ),
    "bad approval and on_error": (
        "pattern: sequential\n"
        "agents: [{name: w, model: {scripted: [hi]}, approval: later, on_error: ignore}]\n",
        [
            "team.yaml: agents[0].approval: 'later' is not allowed (did you mean 'after'?); "
            "allowed: before, after, both",
            "team.yaml: agents[0].on_error: 'ignore' is not allowed; allowed: raise, "
            "continue, escalate",
        ],
    ),
    "option of another pattern": (
        f"pattern: sequential\noptions: {{aggregator: vote}}\nagents: [{GOOD_AGENT}]\n",
        [
            "team.yaml: options.aggregator: not an option of pattern 'sequential'; allowed: "
            "context, max_revisions, termination, redact, redact_agents"
        ],
    ),
    "bad option values": (
        "pattern: concurrent\n"
        "options: {aggregator: best, quorum: half, max_concurrency: 0, timeout: 0, context: "
        "lats}\n"
        f"agents: [{GOOD_AGENT}]\n",
        [
            "team.yaml: options.aggregator: unknown aggregator 'best'; allowed: concat, vote, "
            "confidence, "
            "or an agent (a mapping with name, model, instructions, ...)",
            "team.yaml: options.quorum: expected a count of branches (1, 2, ...) or a "
            "fraction (0 < q <= 1), got 'half' (a string)",
            "team.yaml: options.max_concurrency: expected a whole number >= 1, got 0",
            "team.yaml: options.timeout: expected a positive number of seconds, got 0",
            "team.yaml: options.context: unknown context 'lats' (did you mean 'last'?); "
            "allowed: full, last, own, {window: K}, {token_budget: N} or "
            "{summary: {model: MODEL, keep_last: K}}",
        ],
    ),
    "synthesizer named like a branch": (
        "pattern: concurrent\n"
        "options: {aggregator: {name: writer, model: {scripted: [x]}}}\n"
        f"agents: [{GOOD_AGENT}]\n",
        [
            "team.yaml: options.aggregator.name: duplicate name 'writer' (also "
            "agents[0].name); names must be unique"
        ],
    ),
    "not a mapping": (
        "- pattern: sequential\n",
        ["team.yaml: expected a mapping with pattern and agents, got a list"],
    ),
    "agent is not a mapping": (
        "pattern: sequential\nagents: [42]\n",
        ["team.yaml: agents[0]: expected an agent mapping (name, model, ...), got 42"],
    ),
}


@pytest.mark.parametrize("text, expected", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_spec_is_reported_with_its_path(text: str, expected: list[str]) -> None:
    assert problems_of(text) == expected


def test_every_problem_is_reported_at_once() -> None:
    problems = problems_of(
        """
        pattern: sequential
        options: {max_revisions: -1}
        agents:
          - name: writer
            model: gpt-4o-mini
            retry: 0
          - name: writer
            model: 'opnai:x'
            context: {window: 0}
            timeout: -2
        """
    )
    assert [line.split(": ")[1] for line in problems] == [
        "options.max_revisions",
        "agents[0].model",
        "agents[0].retry",
        "agents[1].name",
        "agents[1].model",
        "agents[1].context.window",
        "agents[1].timeout",
    ]


def test_yaml_syntax_error_names_the_line() -> None:
    path = write("pattern: sequential\nagents:\n  - name: w\n    model: x:y\n   bad: indent\n")
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert caught.value.problems == [
        "team.yaml: line 5, column 4: invalid YAML: expected <block end>, but found "
        "'<block mapping start>'"
    ]


def test_missing_file() -> None:
    with pytest.raises(SpecError, match=re.escape("nope.yaml: no such file")) as caught:
        load_spec("nope.yaml")
    assert caught.value.hint == "give the path of a team YAML file"


def test_spec_error_is_a_team_config_error() -> None:
    with pytest.raises(TeamConfigError):
        parse_spec({"pattern": "sequential"}, source="inline")


def test_factory_checks_run_in_validate() -> None:
    path = write(
        """
        pattern: concurrent
        options: {quorum: 5}
        agents:
          - {name: a, model: {scripted: [x]}}
          - {name: b, model: {scripted: [x]}}
        """
    )
    load_spec(path)  # the fields are fine; the factory refuses the quorum
    with pytest.raises(SpecError) as caught:
        validate_spec(path)
    assert caught.value.problems == [
        "team.yaml: concurrent: quorum=5 is out of range: give 1..2 (the number of branches) "
        "or a fraction 0 < q <= 1"
    ]


def test_a_good_spec_is_parsed() -> None:
    spec = load_spec(
        write(
            """
            description: A test team
            pattern: concurrent
            options:
              aggregator: {name: judge, model: {scripted: [final]}, approval: after}
              quorum: 0.5
              context: {token_budget: 500}
            example_input: Decide.
            model: 'openai:gpt-4o-mini'
            agents:
              - name: a
                tools: ['spec_test_tools:search', 'spec_test_tools:shout']
                context: {window: 3}
                retry: 2
                timeout: 1.5
                on_error: continue
              - name: b
                tools: ['spec_test_tools:shout']
                model:
                  scripted:
                    - plain
                    - {content: thinking, tool_calls: [{name: shout, args: {text: a}, id: c1}]}
                    - {error: boom}
                  latency: 0.1
            """,
            name="my team.yaml",
        )
    )
    assert spec.name == "my-team"
    assert spec.source == Path("my team.yaml").resolve()
    assert (spec.pattern, spec.description, spec.example_input) == (
        "concurrent",
        "A test team",
        "Decide.",
    )
    a, b = spec.agents
    assert a.model == "openai:gpt-4o-mini"
    assert [t.name for t in a.tools] == ["search", "shout"]
    assert (a.context, a.retry, a.timeout, a.on_error) == (Window(3), 2, 1.5, "continue")
    assert isinstance(b.model, ScriptedSpec)
    plain, call, error = b.model.replies
    assert plain == "plain"
    assert call.text == "thinking"
    assert call.tool_calls == [
        {"name": "shout", "args": {"text": "a"}, "id": "c1", "type": "tool_call"}
    ]
    assert isinstance(error, RuntimeError) and str(error) == "boom"
    assert b.model.latency == 0.1
    judge = spec.options["aggregator"]
    assert isinstance(judge, AgentSpec) and judge.approval == "after"
    assert spec.options["quorum"] == 0.5
    assert spec.options["context"] == TokenBudget(500)


def sequential_team(writer_replies: str = "[draft 1, draft 2]") -> str:
    return write(
        f"""
        pattern: sequential
        agents:
          - name: finder
            tools: ['spec_test_tools:search']
            model:
              scripted:
                - {{tool_calls: [{{name: search, args: {{query: shoes}}}}]}}
                - found them
          - name: writer
            approval: after
            model: {{scripted: {writer_replies}}}
        """
    )


def test_build_team_runs_scripted_agents_and_tools() -> None:
    spec = load_spec(sequential_team())
    app = build_team(spec).compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "1"}}
    app.invoke({"messages": [("user", "find shoes")]}, config)
    result = app.invoke(Command(resume={"action": "approve"}), config)
    assert (result["final"], result["stop_reason"]) == ("draft 1", "completed")
    tool_messages = [m for m in result["messages"] if isinstance(m, ToolMessage)]
    assert [m.content for m in tool_messages] == ["found shoes"]
    assert result["usage"]["finder"]["calls"] == 2


def test_consumed_replies_continue_a_script() -> None:
    spec = load_spec(sequential_team())
    app = build_team(spec, consumed={"finder": 2, "writer": 1}).compile()
    # finder has no reply left: its turn fails naming the agent
    with pytest.raises(AgentError, match=re.escape("ScriptedModel 'finder' got unexpected call")):
        app.invoke({"messages": [("user", "x")]})


def test_scripted_replies_running_out_names_the_agent() -> None:
    spec = load_spec(sequential_team("[only one]"))
    app = build_team(spec).compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "1"}}
    app.invoke({"messages": [("user", "x")]}, config)
    with pytest.raises(AgentError) as caught:
        app.invoke(Command(resume={"action": "reject", "feedback": "again"}), config)
    assert str(caught.value).startswith(
        "Agent 'writer' failed: ScriptError: ScriptedModel 'writer' got unexpected call #2: "
        "only 1 reply was scripted."
    )


def test_scripted_error_reply_fails_that_call() -> None:
    spec = load_spec(
        write(
            """
            pattern: sequential
            agents:
              - {name: a, on_error: continue, model: {scripted: [{error: rate limited}]}}
              - {name: b, model: {scripted: [done]}}
            """
        )
    )
    result = build_team(spec).compile().invoke({"messages": [("user", "x")]})
    assert [(e["agent"], e["error"], e["status"]) for e in result["exceptions"]] == [
        ("a", "rate limited", "continued")
    ]
    assert result["final"] == "done"


def test_model_override_with_a_chat_model() -> None:
    spec = load_spec(sequential_team())
    model = ScriptedModel(["one", "two"])
    app = build_team(spec, model_override=model).compile(checkpointer=InMemorySaver())
    result = app.invoke({"messages": [("user", "x")]}, {"configurable": {"thread_id": "1"}})
    # both agents use the one model: finder answers "one", the writer drafts "two"
    assert [m.text for m in result["messages"][1:]] == ["one", "two"]
    model.assert_complete()


def test_malformed_model_override() -> None:
    spec = load_spec(sequential_team())
    with pytest.raises(SpecError) as caught:
        build_team(spec, model_override="gpt-4o")
    assert caught.value.problems == [
        "--model: 'gpt-4o' is not a 'provider:model' string; give 'provider:model' (e.g. "
        "'openai:gpt-4o-mini')"
    ]


def test_patterns_registry_and_samples() -> None:
    assert sorted(PATTERNS) == [
        "concurrent",
        "group_chat",
        "handoff",
        "hierarchical",
        "magentic",
        "maker_checker",
        "network",
        "planner_executor",
        "sequential",
    ]
    for name, pattern in PATTERNS.items():
        assert example_path(name).name == pattern.example
        nodes = set(sample_team(name).compile().get_graph().nodes)
        assert {"first", "second"} <= nodes
    with pytest.raises(SpecError) as caught:
        sample_team("swarm")
    assert caught.value.problems == [
        "unknown pattern 'swarm'; allowed: concurrent, group_chat, handoff, hierarchical, "
        "magentic, maker_checker, network, planner_executor, sequential"
    ]


def test_base_url_for_an_openai_compatible_server(monkeypatch: pytest.MonkeyPatch) -> None:
    import langchain.chat_models

    real = importlib.util.find_spec
    monkeypatch.setattr(  # langchain-openai looks installed
        importlib.util,
        "find_spec",
        lambda name, *args: object() if name == "langchain_openai" else real(name, *args),
    )
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    created: list[tuple[str, dict[str, Any]]] = []

    def fake_init_chat_model(model: str, **kwargs: Any) -> ScriptedModel:
        created.append((model, kwargs))
        return ScriptedModel([])

    monkeypatch.setattr(langchain.chat_models, "init_chat_model", fake_init_chat_model)
    spec = load_spec(sequential_team())
    build_team(spec, model_override="openai:llama3.1", base_url="http://127.0.0.1:11434/v1")
    # a local server needs no key: a placeholder satisfies the OpenAI client
    expected = {"base_url": "http://127.0.0.1:11434/v1", "api_key": "not-needed"}
    assert created == [("openai:llama3.1", expected), ("openai:llama3.1", expected)]


def test_problems_are_listed_in_file_order() -> None:
    problems = problems_of(
        """
        agents:
          - {timeout: 0, name: w, model: 'x:y', approval: never}
        pattern: sequentail
        """
    )
    assert [line.split(": ")[1] for line in problems] == [
        "agents[0].timeout",
        "agents[0].model",
        "agents[0].approval",
        "pattern",
    ]


def test_a_key_set_to_nothing_is_as_if_absent() -> None:
    spec = load_spec(
        write(
            """
            pattern: sequential
            description:
            options:
            agents: [{name: w, model: {scripted: [hi]}, tools: ~, context: ~, retry: ~}]
            """
        )
    )
    (agent,) = spec.agents
    assert (spec.description, dict(spec.options)) == ("", {})
    assert (agent.tools, agent.context, agent.retry) == ((), None, None)


@pytest.mark.parametrize(
    "field, value", [("retry", 0), ("retry", "'2'"), ("timeout", -2), ("timeout", ".inf")]
)
def test_agent_field_rules_are_the_agents_own(field: str, value: Any) -> None:
    problems = problems_of(
        f"pattern: sequential\nagents: [{{name: w, model: {{scripted: [hi]}}, {field}: {value}}}]\n"
    )
    parsed = {"'2'": "2", ".inf": float("inf")}.get(value, value)
    with pytest.raises(TeamConfigError) as refused:
        Agent("w", runnable=lambda messages: "", **{field: parsed})
    assert problems == [f"team.yaml: agents[0].{field}: {refused.value}"]


def test_a_team_name_follows_the_agent_rules() -> None:
    problems = problems_of(f"name: human\npattern: sequential\nagents: [{GOOD_AGENT}]\n")
    assert len(problems) == 1
    assert problems[0].startswith("team.yaml: name: Agent name 'human' is reserved: ")
    assert problems[0].endswith(" (a team's name follows the rules of agent names)")


def test_unknown_option_of_a_pattern_suggests_the_close_one() -> None:
    assert problems_of(
        f"pattern: concurrent\noptions: {{quorom: 1}}\nagents: [{GOOD_AGENT}]\n"
    ) == [
        "team.yaml: options.quorom: not an option of pattern 'concurrent' (did you mean "
        "'quorum'?); allowed: aggregator, quorum, max_concurrency, timeout, context, "
        "max_revisions, termination, redact, redact_agents, on_conflict, on_disagreement"
    ]


def test_scripted_tool_calls_get_stable_ids_unique_in_the_team() -> None:
    spec = load_spec(sequential_team())
    finder = spec.agents[0]
    assert isinstance(finder.model, ScriptedSpec)
    call = finder.model.replies[0]
    assert not isinstance(call, str | Exception)
    assert [c["id"] for c in call.tool_calls] == ["call_finder_0_0"]
    assert load_spec(sequential_team()) == spec  # the same file, the same ids


def test_a_pattern_is_one_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    from types import MappingProxyType

    import langgraph_orchestra.spec.build as build_module
    import langgraph_orchestra.spec.team as team_module
    from langgraph_orchestra.graphs import create_sequential
    from langgraph_orchestra.spec import Pattern
    from langgraph_orchestra.spec._values import whole

    def create_pair(agents: list[Agent], *, rounds: int = 1, judge: Agent | None = None) -> Any:
        assert (rounds, judge and judge.name) == (2, "judge")
        return create_sequential([*agents, judge])

    patterns = MappingProxyType(
        {
            **PATTERNS,
            "pair": Pattern(
                create_pair, {"rounds": whole(1), "judge": AgentSpec}, "pair.yaml", "a pair"
            ),
        }
    )
    monkeypatch.setattr(team_module, "PATTERNS", patterns)
    monkeypatch.setattr(build_module, "PATTERNS", patterns)
    assert problems_of(
        f"pattern: pair\noptions: {{rounds: 0, judge: {{name: judge}}}}\nagents: [{GOOD_AGENT}]\n"
    ) == [
        "team.yaml: options.rounds: expected a whole number >= 1, got 0",
        "team.yaml: options.judge.model: missing; give 'provider:model' (e.g. "
        "'openai:gpt-4o-mini') or {scripted: [replies]}, or a top-level model; or team: "
        "FILE.yaml for a whole team",
    ]
    spec = load_spec(
        write(
            "pattern: pair\noptions: {rounds: 2, judge: {name: judge, model: {scripted: [ok]}}}\n"
            f"agents: [{GOOD_AGENT}]\n"
        )
    )
    nodes = set(build_team(spec).compile().get_graph().nodes)
    assert {"writer", "judge"} <= nodes


# -- group chat, maker-checker, termination ---------------------------------------------

GROUP_CHAT = """
    pattern: group_chat
    options:
      selector: llm
      manager_model:
        scripted:
          - {speaker: writer, reason: drafts first}
          - {speaker: critic, reason: reviews the draft}
      max_rounds: 2
      allow_repeat: true
      allowed_transitions: {writer: [critic], critic: [writer]}
      final_from: writer
      context: last
      max_revisions: 1
      termination: {text_mention: DONE, token_budget: 20000, cost_budget: 0.5, timeout: 600}
    agents:
      - {name: writer, model: {scripted: [draft]}}
      - {name: critic, model: {scripted: [looks good]}}
    """


def test_group_chat_options_are_parsed() -> None:
    from langgraph_orchestra import AnyOf, CostBudget, TextMention, Timeout
    from langgraph_orchestra.spec import ModelOption

    spec = load_spec(write(GROUP_CHAT))
    options = dict(spec.options)
    manager = options.pop("manager_model")
    assert isinstance(manager, ModelOption) and manager.participant == "manager"
    assert isinstance(manager.model, ScriptedSpec)
    # structured replies stay mappings, for `with_structured_output`
    assert manager.model.replies == (
        {"speaker": "writer", "reason": "drafts first"},
        {"speaker": "critic", "reason": "reviews the draft"},
    )
    assert options == {
        "selector": "llm",
        "max_rounds": 2,
        "allow_repeat": True,
        "allowed_transitions": {"writer": ("critic",), "critic": ("writer",)},
        "final_from": "writer",
        "context": "last",
        "max_revisions": 1,
        # the conditions in the file's order, any of which stops the run
        "termination": AnyOf(
            (
                AnyOf((AnyOf((TextMention("DONE"), TokenBudget(20000))), CostBudget(0.5))),
                Timeout(600),
            )
        ),
    }


def test_group_chat_runs_with_a_scripted_manager() -> None:
    spec = load_spec(write(GROUP_CHAT))
    result = build_team(spec).compile().invoke({"messages": [("user", "tagline")]})
    assert (result["final"], result["stop_reason"]) == ("draft", "max_rounds")
    assert {name: u["calls"] for name, u in result["usage"].items()} == {
        "manager": 2,
        "writer": 1,
        "critic": 1,
    }
    reasons = [r["detail"]["reason"] for r in result["audit"] if r["kind"] == "routing"]
    assert reasons == ["drafts first", "reviews the draft"]


def test_the_model_override_and_consumed_replies_apply_to_the_manager() -> None:
    from langgraph_orchestra.threads import consumed_replies, read_thread

    spec = load_spec(write(GROUP_CHAT.replace("{name: writer,", "{name: writer, approval: after,")))
    config = {"configurable": {"thread_id": "1"}}
    saver = InMemorySaver()
    build_team(spec).compile(checkpointer=saver).invoke({"messages": [("user", "t")]}, config)
    # Resumed by a fresh graph, as in another process: the manager's script goes on.
    used = consumed_replies(read_thread(saver, "1").values)
    assert used == {"manager": 1, "writer": 1}
    app = build_team(spec, consumed=used).compile(checkpointer=saver)
    result = app.invoke(Command(resume={"action": "approve"}), config)
    reasons = [r["detail"]["reason"] for r in result["audit"] if r["kind"] == "routing"]
    assert (reasons, result["stop_reason"]) == (["drafts first", "reviews the draft"], "max_rounds")
    # One model for everyone, the manager included (its choices are structured replies).
    model = ScriptedModel(
        [
            {"speaker": "critic", "reason": "r1"},
            "critique",
            {"speaker": "writer", "reason": "r2"},
            "revised",
        ]
    )
    result = (
        build_team(spec, model_override=model)
        .compile(checkpointer=InMemorySaver())
        .invoke({"messages": [("user", "t")]}, config)
    )
    # the writer's revision now waits for approval
    assert result["usage"]["manager"]["calls"] == 2
    assert [m.text for m in result["messages"][1:]] == ["critique", "revised"]
    model.assert_complete()


def test_round_robin_group_chat_with_a_human_seat() -> None:
    spec = load_spec(
        write(
            """
            pattern: group_chat
            options: {human: ana, max_rounds: 3, approvers: [critic]}
            agents:
              - {name: writer, model: {scripted: [draft]}}
              - name: critic
                model: {scripted: [{decision: revise, reasons: [shorter]}]}
            """
        )
    )
    app = build_team(spec).compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "1"}}
    app.invoke({"messages": [("user", "tagline")]}, config)
    [pending] = app.get_state(config).interrupts
    assert pending.value["type"] == "human_turn" and pending.value["participant"] == "ana"
    result = app.invoke(Command(resume={"content": "Ship it"}), config)
    assert (result["final"], result["stop_reason"]) == ("draft", "max_rounds")
    assert [(m.name, m.text) for m in result["messages"]][-1] == ("ana", "Ship it")


GROUP_CHAT_ERRORS = {
    "bad selector": (
        "options: {selector: round-robin}",
        [
            "team.yaml: options.selector: unknown selector 'round-robin' (did you mean "
            "'round_robin'?); allowed: round_robin, llm"
        ],
    ),
    "bad termination key": (
        "options: {termination: {text_mentions: DONE, cost_budget: -1}}",
        [
            "team.yaml: options.termination.text_mentions: unknown key (did you mean "
            "'text_mention'?); allowed: text_mention, token_budget, cost_budget, timeout, "
            "max_rounds",
            "team.yaml: options.termination.cost_budget: CostBudget usd must be a positive "
            "number, got -1",
        ],
    ),
    "termination not a mapping": (
        "options: {termination: DONE}",
        [
            "team.yaml: options.termination: expected a mapping of conditions, got 'DONE' (a "
            "string); allowed keys: text_mention, token_budget, cost_budget, timeout, max_rounds"
        ],
    ),
    "bad values": (
        "options: {allow_repeat: yes please, approvers: critic, human: 3, "
        "allowed_transitions: {writer: critic}, manager_model: gpt-4o}",
        [
            "team.yaml: options.allow_repeat: expected true or false, got 'yes please' (a string)",
            "team.yaml: options.approvers: expected a list of names, got 'critic' (a string)",
            "team.yaml: options.human: expected a participant's name, got 3",
            "team.yaml: options.allowed_transitions.writer: expected a list of names, got "
            "'critic' (a string)",
            "team.yaml: options.manager_model: 'gpt-4o' is not a 'provider:model' string; "
            "give 'provider:model' (e.g. 'openai:gpt-4o-mini') or {scripted: [replies]}",
        ],
    ),
}


@pytest.mark.parametrize(
    "options, expected", GROUP_CHAT_ERRORS.values(), ids=GROUP_CHAT_ERRORS.keys()
)
def test_group_chat_option_problems(options: str, expected: list[str]) -> None:
    agents = "agents: [{name: writer, model: {scripted: [x]}}, {name: critic, model: 'openai:o'}]"
    assert problems_of(f"pattern: group_chat\n{options}\n{agents}\n") == expected


FACTORY_ERRORS = {
    "unknown name in allowed_transitions": (
        "pattern: group_chat\noptions: {allowed_transitions: {writer: [editor]}}",
        "team.yaml: group_chat: allowed_transitions['writer'] names unknown participant "
        "'editor'; participants: ['writer', 'critic']",
    ),
    "human seat named like an agent": (
        "pattern: group_chat\noptions: {human: critic}",
        "team.yaml: group_chat: The human seat 'critic' has the name of an agent: give the "
        "person another name",
    ),
    "llm selector without a manager model": (
        "pattern: group_chat\noptions: {selector: llm}",
        "team.yaml: group_chat: selector='llm' needs manager_model: the chat model that "
        "picks speakers",
    ),
    "unknown approver": (
        "pattern: group_chat\noptions: {approvers: [editor]}",
        "team.yaml: group_chat: Unknown approver 'editor'; agents: ['writer', 'critic']",
    ),
    "maker-checker of three": (
        "pattern: maker_checker\nagents: [{name: editor, model: {scripted: [x]}}]",
        "team.yaml: maker_checker: needs exactly two agents, the maker then the checker; "
        "got 3: writer, critic, editor",
    ),
}


@pytest.mark.parametrize("text, expected", FACTORY_ERRORS.values(), ids=FACTORY_ERRORS.keys())
def test_the_factory_refusals_name_the_pattern(text: str, expected: str) -> None:
    head, _, more = text.partition("\nagents: [")
    extra = f", {more[:-1]}" if more else ""
    path = write(
        f"{head}\nagents: [{{name: writer, model: {{scripted: [x]}}}}, "
        f"{{name: critic, model: {{scripted: [x]}}}}{extra}]\n"
    )
    load_spec(path)  # the fields are fine; the factory refuses the team
    with pytest.raises(SpecError) as caught:
        validate_spec(path)
    assert caught.value.problems == [expected]


def test_maker_checker_from_a_team_file() -> None:
    spec = load_spec(
        write(
            """
            pattern: maker_checker
            options: {max_revisions: 1, context: full, termination: {max_rounds: 9}}
            agents:
              - {name: maker, model: {scripted: [v1, v2]}}
              - name: checker
                model:
                  scripted:
                    - {decision: revise, reasons: [too long]}
                    - {decision: revise, reasons: [still too long]}
            """
        )
    )
    result = build_team(spec).compile().invoke({"messages": [("user", "a note")]})
    # the second "revise" is one more than max_revisions allows
    assert (result["final"], result["stop_reason"]) == ("v2", "max_revisions")
    assert result["usage"]["checker"]["calls"] == 2


@pytest.mark.parametrize("pattern", ["sequential", "concurrent"])
def test_termination_in_sequential_and_concurrent(pattern: str) -> None:
    spec = load_spec(
        write(
            f"""
            pattern: {pattern}
            options: {{termination: {{token_budget: 1}}}}
            agents:
              - {{name: a, model: {{scripted: [A]}}}}
              - {{name: b, model: {{scripted: [B]}}}}
            """
        )
    )
    assert spec.options["termination"] == TokenBudget(1)
    app = build_team(spec).compile()
    if pattern == "sequential":
        # asked before each step: the first step's tokens spend the budget
        result = app.invoke({"messages": [("user", "go")]})
        assert (result["final"], result["stop_reason"]) == ("A", "budget")
    else:
        # asked when the branches are done: both answered, the budget stops the join
        result = app.invoke({"messages": [("user", "go")]})
        assert result["stop_reason"] == "budget"


# -- handoff, tool approval, handoff_input ------------------------------------------------

HANDOFF = """
    pattern: handoff
    options:
      handoffs: {triage: [billing], billing: [triage]}
      max_handoffs: 3
      max_ping_pong: 1
      on_limit: end
      interactive: false
      escalate_to_human: [billing]
      context: full
      max_revisions: 1
      termination: {max_rounds: 6}
    agents:
      - name: triage
        model:
          scripted:
            - tool_calls: [{name: transfer_to_billing, args: {order_id: A-1}}]
      - name: billing
        tools: ['spec_test_tools:search']
        approve_tools: [search]
        handoff_input: spec_test_tools:Ticket
        model:
          scripted:
            - {tool_calls: [{name: search, args: {query: A-1}}]}
            - Refunded A-1.
    """


def test_handoff_options_and_agent_keys_are_parsed() -> None:
    from langgraph_orchestra import MaxRounds

    spec = load_spec(write(HANDOFF))
    assert dict(spec.options) == {
        "handoffs": {"triage": ("billing",), "billing": ("triage",)},
        "max_handoffs": 3,
        "max_ping_pong": 1,
        "on_limit": "end",
        "interactive": False,
        "escalate_to_human": ("billing",),
        "context": "full",
        "max_revisions": 1,
        "termination": MaxRounds(6),
    }
    triage, billing = spec.agents
    assert (triage.approve_tools, triage.handoff_input) == (False, None)
    assert billing.approve_tools == ("search",)
    assert billing.handoff_input is sys.modules[TOOLS_MODULE].Ticket
    # the transfer tool is the pattern's: scripted replies may call it
    assert [c["name"] for c in triage.model.replies[0].tool_calls] == ["transfer_to_billing"]


def test_a_handoff_team_runs_from_its_file_with_a_tool_approval() -> None:
    # No entry given: the first agent starts.
    spec = load_spec(write(HANDOFF))
    app = build_team(spec).compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "1"}}
    app.invoke({"messages": [("user", "refund A-1")]}, config)
    [pending] = app.get_state(config).interrupts
    assert pending.value == {
        "type": "tool_approval",
        "agent": "billing",
        "tool": "search",
        "args": {"query": "A-1"},
        "tool_call_id": "call_billing_0_0",
        "actions": ["approve", "reject", "edit"],
    }
    result = app.invoke(
        Command(resume={"action": "edit", "args": {"query": "A-1 refund"}, "reviewer": "ana"}),
        config,
    )
    assert (result["final"], result["stop_reason"]) == ("Refunded A-1.", "completed")
    tool_results = [m.content for m in result["messages"] if isinstance(m, ToolMessage)]
    assert tool_results == ["Transferred to billing.", "found A-1 refund"]
    [handoff] = [r["detail"] for r in result["audit"] if r["kind"] == "handoff"]
    assert handoff == {"to": "billing", "payload": {"order_id": "A-1"}}
    [approval] = [r["detail"] for r in result["audit"] if r["kind"] == "approval"]
    assert (approval["when"], approval["action"], approval["args"]) == (
        "tool",
        "edit",
        {"query": "A-1 refund"},
    )


def test_approve_tools_applies_in_every_pattern() -> None:
    spec = load_spec(
        write(
            """
            pattern: sequential
            agents:
              - name: finder
                tools: ['spec_test_tools:search', 'spec_test_tools:shout']
                approve_tools: true
                model:
                  scripted:
                    - {tool_calls: [{name: shout, args: {text: hi}}]}
                    - done
            """
        )
    )
    assert spec.agents[0].approve_tools is True
    app = build_team(spec).compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "1"}}
    app.invoke({"messages": [("user", "x")]}, config)
    [pending] = app.get_state(config).interrupts
    assert (pending.value["type"], pending.value["tool"]) == ("tool_approval", "shout")
    result = app.invoke(
        Command(resume={"action": "reject", "feedback": "no shouting", "reviewer": "ana"}), config
    )
    assert result["final"] == "done"
    [rejected] = [m for m in result["messages"] if isinstance(m, ToolMessage)]
    assert rejected.status == "error" and "no shouting" in rejected.text


HANDOFF_AGENTS = (
    "agents: [{name: writer, model: {scripted: [x]}}, {name: critic, model: {scripted: [x]}}]"
)

HANDOFF_PROBLEMS = {
    "bad on_limit": (
        "pattern: handoff\noptions: {on_limit: ends}",
        [
            "team.yaml: options.on_limit: unknown on_limit 'ends' (did you mean 'end'?); "
            "allowed: escalate, end"
        ],
    ),
    "bad handoffs and flags": (
        "pattern: handoff\noptions: {handoffs: some, interactive: 1, escalate_to_human: writer, "
        "max_ping_pong: 0}",
        [
            "team.yaml: options.handoffs: expected 'all' or a mapping {agent: [who it may "
            "transfer to]}, got 'some' (a string)",
            "team.yaml: options.interactive: expected true or false, got 1",
            "team.yaml: options.escalate_to_human: expected true, false or a list of agents' "
            "names, got 'writer' (a string)",
            "team.yaml: options.max_ping_pong: expected a whole number >= 1, got 0",
        ],
    ),
    "handoff targets not a list": (
        "pattern: handoff\noptions: {handoffs: {writer: critic}}",
        ["team.yaml: options.handoffs.writer: expected a list of names, got 'critic' (a string)"],
    ),
    "a transfer call outside a handoff team": (
        "pattern: sequential\n"
        "agents: [{name: w, model: {scripted: [{tool_calls: [{name: transfer_to_x}]}]}}]",
        [
            "team.yaml: agents[0].model.scripted[0].tool_calls[0].name: 'transfer_to_x' is not "
            "a tool of this agent; allowed: none (the agent has no tools)"
        ],
    ),
    "an unknown tool in a handoff team": (
        "pattern: handoff\nagents: [{name: w, model: {scripted: [{tool_calls: [{name: serch}]}]}}]",
        [
            "team.yaml: agents[0].model.scripted[0].tool_calls[0].name: 'serch' is not a tool "
            "of this agent; allowed: transfer_to_<agent>, escalate_to_human"
        ],
    ),
    "approve_tools with a name of a wrong kind": (
        "pattern: handoff\n"
        "agents: [{name: w, model: {scripted: [x]}, tools: ['spec_test_tools:search'], "
        "approve_tools: [serch, 3]}]",
        [
            "team.yaml: agents[0].approve_tools[1]: expected a tool's name, got 3",
        ],
    ),
    "approve_tools naming an unknown tool": (
        "pattern: handoff\n"
        "agents: [{name: w, model: {scripted: [x]}, tools: ['spec_test_tools:search'], "
        "approve_tools: [serch]}]",
        [
            "team.yaml: agents[0].approve_tools[0]: 'serch' is not a tool of this agent (did "
            "you mean 'search'?); allowed: search"
        ],
    ),
    "approve_tools without tools": (
        "pattern: sequential\nagents: [{name: w, model: {scripted: [x]}, approve_tools: true}]",
        ["team.yaml: agents[0].approve_tools: true, but the agent has no tools; give it tools"],
    ),
    "approve_tools of a wrong kind": (
        "pattern: sequential\nagents: [{name: w, model: {scripted: [x]}, approve_tools: all}]",
        [
            "team.yaml: agents[0].approve_tools: expected true (all its tools), false, or a "
            "list of its tools' names, got 'all' (a string)"
        ],
    ),
    "handoff_input not a pydantic model": (
        "pattern: handoff\nagents: [{name: w, model: {scripted: [x]}, "
        "handoff_input: 'spec_test_tools:NotAModel'}, {name: v, model: {scripted: [x]}, "
        "handoff_input: 'spec_test_tools:search'}, {name: u, model: {scripted: [x]}, "
        "handoff_input: 'spec_test_tools:Tiket'}]",
        [
            "team.yaml: agents[0].handoff_input: 'spec_test_tools:NotAModel' is the class "
            "NotAModel, not a pydantic model class; give a class derived from pydantic.BaseModel",
            "team.yaml: agents[1].handoff_input: 'spec_test_tools:search' is a StructuredTool, "
            "not a pydantic model class; give a class derived from pydantic.BaseModel",
            "team.yaml: agents[2].handoff_input: 'spec_test_tools' has no attribute 'Tiket' (did "
            "you mean 'Ticket'?); give the name of a class it defines",
        ],
    ),
}


@pytest.mark.parametrize("text, expected", HANDOFF_PROBLEMS.values(), ids=HANDOFF_PROBLEMS.keys())
def test_handoff_and_tool_approval_problems(text: str, expected: list[str]) -> None:
    if "\nagents:" not in text:
        text = f"{text}\n{HANDOFF_AGENTS}"
    assert problems_of(f"{text}\n") == expected


HANDOFF_REFUSALS = {
    "unknown handoff target": (
        "options: {handoffs: {writer: [editor]}}",
        "team.yaml: handoff: Unknown handoff target 'editor' for agent 'writer'; known "
        "agents: ['critic']",
    ),
    "unknown entry": (
        "options: {entry: editor}",
        "team.yaml: handoff: Unknown entry agent 'editor'; known agents: ['writer', 'critic']",
    ),
    "unknown agent escalating": (
        "options: {escalate_to_human: [editor]}",
        "team.yaml: handoff: escalate_to_human names unknown agents ['editor']; known agents: "
        "['writer', 'critic']",
    ),
}


@pytest.mark.parametrize(
    "options, expected", HANDOFF_REFUSALS.values(), ids=HANDOFF_REFUSALS.keys()
)
def test_the_handoff_factory_refusals(options: str, expected: str) -> None:
    path = write(f"pattern: handoff\n{options}\n{HANDOFF_AGENTS}\n")
    load_spec(path)  # the fields are fine; the factory refuses the team
    with pytest.raises(SpecError) as caught:
        validate_spec(path)
    assert caught.value.problems == [expected]


# -- magentic and hierarchical: a manager's model, its ledgers and its delegations ---------

LEDGER = {
    "facts_given": ["a tagline is asked for"],
    "facts_to_look_up": [],
    "facts_to_derive": [],
    "educated_guesses": [],
    "plan": ["writer drafts it"],
}

MAGENTIC = """
    pattern: magentic
    options:
      manager_model:
        scripted:
          - facts_given: [a tagline is asked for]
            facts_to_look_up: []
            facts_to_derive: []
            educated_guesses: []
            plan: [writer drafts it]
          - {is_request_satisfied: false, is_in_loop: false, is_progress_being_made: true,
             next_speaker: writer, instruction: Draft a tagline., reason: nothing yet}
          - {is_request_satisfied: true, is_in_loop: false, is_progress_being_made: true,
             next_speaker: writer, instruction: Done., reason: the tagline exists}
          - 'Tagline: Sync, then relax.'
      max_rounds: 4
      max_stalls: 2
      max_resets: 0
      plan_review: true
      final_answer: true
      termination: {cost_budget: 0.5}
      context: last
      max_revisions: 1
    agents:
      - {name: writer, description: Drafts, model: {scripted: ['Sync, then relax.']}}
      - {name: critic, description: Reviews, model: {scripted: [fine]}}
    """


def test_magentic_options_are_parsed() -> None:
    from langgraph_orchestra import CostBudget
    from langgraph_orchestra.spec import ModelOption

    spec = load_spec(write(MAGENTIC))
    options = dict(spec.options)
    manager = options.pop("manager_model")
    assert isinstance(manager, ModelOption) and manager.participant == "manager"
    assert isinstance(manager.model, ScriptedSpec)
    # the ledgers stay mappings, for `with_structured_output`; the answer is text
    assert manager.model.replies[0] == LEDGER
    assert manager.model.replies[3] == "Tagline: Sync, then relax."
    assert options == {
        "max_rounds": 4,
        "max_stalls": 2,
        "max_resets": 0,
        "plan_review": True,
        "final_answer": True,
        "termination": CostBudget(0.5),
        "context": "last",
        "max_revisions": 1,
    }


def test_a_magentic_team_runs_from_its_file_with_an_edited_plan() -> None:
    spec = load_spec(write(MAGENTIC))
    app = build_team(spec).compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "1"}}
    app.invoke({"messages": [("user", "a tagline")]}, config)
    [pending] = app.get_state(config).interrupts
    assert pending.value == {
        "type": "plan_review",
        "ledger": LEDGER,
        "revision": 0,
        "max_revisions": 1,
        "actions": ["approve", "edit", "reject"],
    }
    edit = {"action": "edit", "plan": ["writer drafts it", "keep it short"], "reviewer": "ana"}
    result = app.invoke(Command(resume=edit), config)
    assert (result["final"], result["stop_reason"]) == ("Tagline: Sync, then relax.", "completed")
    assert result["task_ledger"]["plan"] == ["writer drafts it", "keep it short"]
    assert {name: u["calls"] for name, u in result["usage"].items()} == {
        "manager": 4,
        "writer": 1,
    }


HIERARCHICAL = """
    pattern: hierarchical
    options:
      manager_model:
        scripted:
          - content: Both at once.
            tool_calls:
              - {name: delegate_to_writer, args: {task: Draft a tagline.}}
              - {name: delegate_to_critic, args: {task: List what a tagline needs.}}
          - 'Tagline: Sync, then relax.'
      brief: Audience - busy people.
      instructions: You lead a writer and a critic.
      max_rounds: 2
      review: false
      termination: {max_rounds: 5}
      max_revisions: 1
    agents:
      - {name: writer, description: Drafts, model: {scripted: ['Sync, then relax.']}}
      - {name: critic, description: Reviews, model: {scripted: [short and concrete]}}
    """


def test_hierarchical_options_are_parsed_with_stable_ids_for_the_managers_calls() -> None:
    from langgraph_orchestra import MaxRounds

    spec = load_spec(write(HIERARCHICAL))
    options = dict(spec.options)
    manager = options.pop("manager_model")
    assert options == {
        "brief": "Audience - busy people.",
        "instructions": "You lead a writer and a critic.",
        "max_rounds": 2,
        "review": False,
        "termination": MaxRounds(5),
        "max_revisions": 1,
    }
    # the delegation tools are the pattern's; the calls get ids as agents' calls do
    delegation = manager.model.replies[0]
    assert [(c["name"], c["id"]) for c in delegation.tool_calls] == [
        ("delegate_to_writer", "call_manager_0_0"),
        ("delegate_to_critic", "call_manager_0_1"),
    ]
    assert load_spec(write(HIERARCHICAL)) == spec  # the same file, the same ids


def test_a_hierarchical_team_runs_from_its_file() -> None:
    spec = load_spec(write(HIERARCHICAL))
    result = build_team(spec).compile().invoke({"messages": [("user", "a tagline")]})
    assert (result["final"], result["stop_reason"]) == ("Tagline: Sync, then relax.", "completed")
    results = [(m.name, m.tool_call_id, m.text) for m in result["messages"] if m.type == "tool"]
    assert results == [
        ("delegate_to_writer", "call_manager_0_0", "Sync, then relax."),
        ("delegate_to_critic", "call_manager_0_1", "short and concrete"),
    ]
    assert {name: u["calls"] for name, u in result["usage"].items()} == {
        "manager": 2,
        "writer": 1,
        "critic": 1,
    }


MANAGER_PROBLEMS = {
    "magentic without manager_model": (
        "pattern: magentic\noptions: {max_rounds: 3}",
        [
            "team.yaml: options.manager_model: missing; give the manager's model: "
            "'provider:model' (e.g. 'openai:gpt-4o-mini') or {scripted: [replies]}"
        ],
    ),
    "hierarchical without options": (
        "pattern: hierarchical",
        [
            "team.yaml: options.manager_model: missing; give the manager's model: "
            "'provider:model' (e.g. 'openai:gpt-4o-mini') or {scripted: [replies]}"
        ],
    ),
    "magentic bad numbers and flags": (
        "pattern: magentic\noptions: {manager_model: 'openai:o', max_stalls: 0, max_resets: -1, "
        "plan_review: 'yes', final_answer: 1}",
        [
            "team.yaml: options.max_stalls: expected a whole number >= 1, got 0",
            "team.yaml: options.max_resets: expected a whole number >= 0, got -1",
            "team.yaml: options.plan_review: expected true or false, got 'yes' (a string)",
            "team.yaml: options.final_answer: expected true or false, got 1",
        ],
    ),
    "magentic manager model not a model": (
        "pattern: magentic\noptions: {manager_model: gpt-4o}",
        [
            "team.yaml: options.manager_model: 'gpt-4o' is not a 'provider:model' string; "
            "give 'provider:model' (e.g. 'openai:gpt-4o-mini') or {scripted: [replies]}"
        ],
    ),
    "hierarchical bad values": (
        "pattern: hierarchical\noptions: {manager_model: 'openai:o', brief: 3, "
        "instructions: [lead], review: 'no', max_rounds: 0}",
        [
            "team.yaml: options.brief: expected a string, got 3",
            "team.yaml: options.instructions: expected a string, got a list",
            "team.yaml: options.review: expected true or false, got 'no' (a string)",
            "team.yaml: options.max_rounds: expected a whole number >= 1, got 0",
        ],
    ),
    "an option of another pattern": (
        "pattern: hierarchical\noptions: {manager_model: 'openai:o', max_stall: 2}",
        [
            "team.yaml: options.max_stall: not an option of pattern 'hierarchical'; allowed: "
            "manager_model, brief, instructions, max_rounds, review, termination, max_revisions, "
            "redact, redact_agents"
        ],
    ),
    "a hierarchical manager calling another tool": (
        "pattern: hierarchical\noptions:\n  manager_model: {scripted: "
        "[{tool_calls: [{name: transfer_to_writer}, {name: delegate_to_critic}]}]}",
        [
            "team.yaml: options.manager_model.scripted[0].tool_calls[0].name: "
            "'transfer_to_writer' is not a tool of the manager; allowed: delegate_to_<agent>"
        ],
    ),
    "a delegation outside a hierarchical team": (
        "pattern: magentic\noptions:\n  manager_model: {scripted: "
        "[{tool_calls: [{name: delegate_to_writer}]}]}",
        [
            "team.yaml: options.manager_model.scripted[0].tool_calls[0].name: "
            "'delegate_to_writer' is not a tool of the manager; allowed: none (the manager "
            "has no tools)"
        ],
    ),
}


@pytest.mark.parametrize("text, expected", MANAGER_PROBLEMS.values(), ids=MANAGER_PROBLEMS.keys())
def test_magentic_and_hierarchical_option_problems(text: str, expected: list[str]) -> None:
    assert problems_of(f"{text}\n{HANDOFF_AGENTS}\n") == expected


# -- planner_executor: a planner's model, its plans, an evaluator and a synthesizer --------

PLANNER_EXECUTOR = """
    pattern: planner_executor
    options:
      planner_model:
        scripted:
          - steps: [{id: draft, agent: writer, instruction: Draft a tagline.}]
          - steps:
              - {id: needs, agent: critic, instruction: List what a tagline needs.}
              - {id: draft, agent: writer, instruction: Draft a tagline., depends_on: [needs]}
      evaluator:
        name: judge
        model: {scripted: [{score: 0.8, reasons: [short and concrete]}]}
      threshold: 0.75
      max_replans: 1
      plan_approval: true
      synthesizer: {name: editor, model: {scripted: ['Tagline: Sync, then relax.']}}
      max_revisions: 2
      termination: {cost_budget: 0.5}
      context: last
    agents:
      - {name: writer, description: Drafts, model: {scripted: ['Sync, then relax.']}}
      - {name: critic, description: Reviews, model: {scripted: [short and concrete]}}
    """

DRAFT_STEP = {"id": "draft", "agent": "writer", "instruction": "Draft a tagline."}


def test_planner_executor_options_are_parsed() -> None:
    from langgraph_orchestra import CostBudget
    from langgraph_orchestra.spec import ModelOption

    spec = load_spec(write(PLANNER_EXECUTOR))
    options = dict(spec.options)
    planner = options.pop("planner_model")
    assert isinstance(planner, ModelOption) and planner.participant == "planner"
    assert isinstance(planner.model, ScriptedSpec)
    # the plans stay mappings, for `with_structured_output`
    assert planner.model.replies[0] == {"steps": [DRAFT_STEP]}
    evaluator, synthesizer = options.pop("evaluator"), options.pop("synthesizer")
    assert isinstance(evaluator, AgentSpec) and isinstance(evaluator.model, ScriptedSpec)
    assert (evaluator.name, evaluator.model.replies) == (
        "judge",
        ({"score": 0.8, "reasons": ["short and concrete"]},),
    )
    assert isinstance(synthesizer, AgentSpec) and synthesizer.name == "editor"
    assert options == {
        "threshold": 0.75,
        "max_replans": 1,
        "plan_approval": True,
        "max_revisions": 2,
        "termination": CostBudget(0.5),
        "context": "last",
    }


def test_a_planner_executor_team_resumes_its_planners_script_after_a_rejected_plan() -> None:
    from langgraph_orchestra.threads import consumed_replies, read_thread

    spec = load_spec(write(PLANNER_EXECUTOR))
    saver = InMemorySaver()
    config: Any = {"configurable": {"thread_id": "1"}}
    build_team(spec).compile(checkpointer=saver).invoke({"messages": [("user", "t")]}, config)
    [pending] = read_thread(saver, "1").interrupts
    assert pending.value == {
        "type": "plan_approval",
        "plan": [{**DRAFT_STEP, "depends_on": []}],
        "revision": 0,
        "max_revisions": 2,
        "actions": ["approve", "edit", "reject"],
    }
    # Resumed by a fresh graph, as in another process: the planner's script goes on.
    used = consumed_replies(read_thread(saver, "1").values)
    assert used == {"planner": 1}
    app = build_team(spec, consumed=used).compile(checkpointer=saver)
    app.invoke(Command(resume={"action": "reject", "feedback": "know the needs first"}), config)
    [pending] = read_thread(saver, "1").interrupts
    assert [(s["id"], s["depends_on"]) for s in pending.value["plan"]] == [
        ("needs", []),
        ("draft", ["needs"]),
    ]
    app = build_team(spec, consumed=consumed_replies(read_thread(saver, "1").values))
    result = app.compile(checkpointer=saver).invoke(Command(resume={"action": "approve"}), config)
    assert (result["final"], result["stop_reason"]) == ("Tagline: Sync, then relax.", "completed")
    assert [e["score"] for e in result["evaluations"]] == [0.8]
    assert {name: u["calls"] for name, u in result["usage"].items()} == {
        "planner": 2,
        "critic": 1,
        "writer": 1,
        "editor": 1,
        "judge": 1,
    }


def test_model_override_covers_the_planner() -> None:
    spec = load_spec(write(PLANNER_EXECUTOR))
    model = ScriptedModel(
        [{"steps": [DRAFT_STEP]}, "drafted", "the answer", {"score": 0.9, "reasons": []}]
    )
    app = build_team(spec, model_override=model).compile(checkpointer=InMemorySaver())
    config: Any = {"configurable": {"thread_id": "1"}}
    app.invoke({"messages": [("user", "t")]}, config)
    result = app.invoke(Command(resume={"action": "approve"}), config)
    assert (result["final"], result["stop_reason"]) == ("the answer", "completed")
    assert {name: u["calls"] for name, u in result["usage"].items()} == {
        "planner": 1,
        "writer": 1,
        "editor": 1,
        "judge": 1,
    }
    model.assert_complete()


PLANNER_PROBLEMS = {
    "without planner_model": (
        "pattern: planner_executor\noptions: {plan_approval: true}",
        [
            "team.yaml: options.planner_model: missing; give the planner's model: "
            "'provider:model' (e.g. 'openai:gpt-4o-mini') or {scripted: [replies]}"
        ],
    ),
    "bad threshold and values": (
        "pattern: planner_executor\noptions: {planner_model: 'openai:o', threshold: 1.5, "
        "evaluator: 3, max_replans: -1, plan_approval: 'yes'}",
        [
            "team.yaml: options.threshold: expected a score from 0 to 1, got 1.5",
            "team.yaml: options.evaluator: expected an agent mapping (name, model, ...), got 3",
            "team.yaml: options.max_replans: expected a whole number >= 0, got -1",
            "team.yaml: options.plan_approval: expected true or false, got 'yes' (a string)",
        ],
    ),
    "threshold not a number": (
        "pattern: planner_executor\noptions: {planner_model: 'openai:o', threshold: high}",
        ["team.yaml: options.threshold: expected a score from 0 to 1, got 'high' (a string)"],
    ),
    "a synthesizer named like an agent": (
        "pattern: planner_executor\noptions: {planner_model: 'openai:o', "
        "synthesizer: {name: writer, model: 'openai:o'}}",
        [
            "team.yaml: options.synthesizer.name: duplicate name 'writer' (also "
            "agents[0].name); names must be unique"
        ],
    ),
    "a planner calling a tool": (
        "pattern: planner_executor\noptions:\n  planner_model: {scripted: "
        "[{tool_calls: [{name: delegate_to_writer}]}]}",
        [
            "team.yaml: options.planner_model.scripted[0].tool_calls[0].name: "
            "'delegate_to_writer' is not a tool of the planner; allowed: none (the planner "
            "has no tools)"
        ],
    ),
}


@pytest.mark.parametrize("text, expected", PLANNER_PROBLEMS.values(), ids=PLANNER_PROBLEMS.keys())
def test_planner_executor_option_problems(text: str, expected: list[str]) -> None:
    assert problems_of(f"{text}\n{HANDOFF_AGENTS}\n") == expected


@pytest.mark.parametrize(
    "options, expected",
    [
        (
            "{planner_model: 'openai:o', threshold: 0.5}",
            "team.yaml: planner_executor: planner_executor threshold needs an evaluator: an "
            "Agent answering a Score, or a callable state -> Score",
        ),
        (
            "{planner_model: 'openai:o', evaluator: {name: judge, model: 'openai:o'}}",
            "team.yaml: planner_executor: planner_executor evaluator needs threshold: a score "
            "from 0 to 1, got None",
        ),
    ],
)
def test_planner_executor_factory_problems(options: str, expected: str) -> None:
    path = write(f"pattern: planner_executor\noptions: {options}\n{HANDOFF_AGENTS}\n")
    load_spec(path)  # the fields are fine; the factory refuses the team
    with pytest.raises(SpecError) as caught:
        validate_spec(path)
    assert caught.value.problems == [expected]


# -- resilience: fallbacks, breakers, summarized context ----------------------------------


def test_fallbacks_breaker_and_summary_in_a_team_file() -> None:
    from langgraph_orchestra.resilience import reset_circuits

    reset_circuits()
    spec = load_spec(
        write(
            """
            pattern: group_chat
            options:
              max_rounds: 4
              context: {summary: {model: {scripted: [S1]}, keep_last: 2, words: 50}}
            agents:
              - name: writer
                model: {scripted: [{error: "503 overloaded"}, {error: "503 overloaded"}]}
                fallbacks: [{scripted: [w1, w2]}]
                breaker: {failures: 3, window: 60, reset_after: 30}
              - name: critic
                model: {scripted: [c1, c2]}
                breaker: true
            """
        )
    )
    writer = spec.agents[0]
    assert writer.breaker is not None and writer.breaker.failures == 3
    assert spec.agents[1].breaker is not None and spec.agents[1].breaker.reset_after == 30
    app = build_team(spec).compile(checkpointer=InMemorySaver())
    config: Any = {"configurable": {"thread_id": "t"}}
    app.invoke({"messages": [("user", "go")]}, config)
    state = app.get_state(config).values  # summaries are plumbing: not in the output
    # The writer's model fails on both its turns; its fallback answers them.
    assert state["final"] == "c2"
    assert [r["detail"]["model"] for r in state["audit"] if r["kind"] == "fallback"] == [
        "scripted",
        "scripted",
    ]
    # Round 3 drops the task (shown as it is), round 4 the writer's first turn: one call.
    assert state["summaries"]["last2"]["text"] == "S1"
    assert state["usage"]["summarizer"]["calls"] == 1
    reset_circuits()


def test_a_manager_model_with_fallbacks_in_a_team_file() -> None:
    spec = load_spec(
        write(
            """
            pattern: group_chat
            options:
              selector: llm
              max_rounds: 1
              manager_model:
                model: {scripted: [{error: down}]}
                fallbacks: [{scripted: [{speaker: critic, reason: review}]}]
            agents:
              - {name: writer, model: {scripted: [unused]}}
              - {name: critic, model: {scripted: [LGTM]}}
            """
        )
    )
    app = build_team(spec).compile(checkpointer=InMemorySaver())
    config: Any = {"configurable": {"thread_id": "t"}}
    app.invoke({"messages": [("user", "go")]}, config)
    state = app.get_state(config).values  # summaries are plumbing: not in the output
    assert state["final"] == "LGTM"
    fallback = next(r for r in state["audit"] if r["kind"] == "fallback")
    assert fallback["agent"] == "manager"
    assert fallback["detail"]["failed"][0]["error"] == "down"


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        (
            "fallbacks: openai:gpt-4o",
            "agents[0].fallbacks: expected a list of models, got 'openai:gpt-4o' (a string)",
        ),
        (
            "fallbacks: [nope]",
            "agents[0].fallbacks: 'nope' is not a 'provider:model' string; give "
            "'provider:model' (e.g. 'openai:gpt-4o-mini') or {scripted: [replies]}",
        ),
        (
            "breaker: {failures: 0}",
            "agents[0].breaker: CircuitBreaker failures must be a whole number >= 1, got 0",
        ),
        (
            "breaker: {falures: 2}",
            "agents[0].breaker.falures: unknown key (did you mean 'failures'?); allowed: "
            "failures, window, reset_after",
        ),
        (
            "breaker: 5",
            "agents[0].breaker: expected true (the defaults) or {failures: N, window: SECONDS, "
            "reset_after: SECONDS}, got 5",
        ),
        (
            "context: {summary: {keep_last: 2}}",
            "agents[0].context.summary.model: missing; the summarizer's model: give "
            "'provider:model' (e.g. 'openai:gpt-4o-mini') or {scripted: [replies]}",
        ),
        (
            "context: {summary: {model: 'openai:gpt-4o-mini', keep_last: 0}}",
            "agents[0].context.summary: Summary needs a whole number keep_last >= 1, got 0",
        ),
        (
            "context: {summary: {model: 'openai:gpt-4o-mini', keep: 2}}",
            "agents[0].context.summary.keep: unknown key (did you mean 'keep_last'?); "
            "allowed: model, keep_last, words",
        ),
    ],
)
def test_bad_resilience_fields_name_the_field(agent: str, expected: str) -> None:
    text = (
        "pattern: sequential\n"
        f"agents:\n  - name: writer\n    model: {{scripted: [x]}}\n    {agent}\n"
    )
    assert problems_of(text) == [f"team.yaml: {expected}"]


def test_a_manager_model_mapping_with_an_unknown_key() -> None:
    text = (
        "pattern: group_chat\n"
        "options: {selector: llm, manager_model: {model: {scripted: [x]}, fallback: []}}\n"
        f"agents: [{GOOD_AGENT}]\n"
    )
    assert problems_of(text) == [
        "team.yaml: options.manager_model.fallback: unknown key (did you mean 'fallbacks'?); "
        "allowed: model, fallbacks, breaker"
    ]
