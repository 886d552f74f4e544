"""Team specs: a YAML file that describes a team, turned into the pattern's graph.

A team file names a pattern, its options and its agents:

```yaml
name: support                      # optional; defaults to the file name
description: Customer-support reply
pattern: sequential                # a key of PATTERNS
options: {context: last}           # the pattern factory's keyword arguments
example_input: Where is my order A-1001?   # optional; used by `orchestra demo`
model: openai:gpt-4o-mini          # optional default for agents that set none
prices:                            # optional: US dollars per million tokens, by model
  llama3.1: {input: 0.2, output: 0.6}
agents:
  - name: triage
    description: Reads the ticket and looks the order up.
    instructions: Classify the ticket and find the order.
    model: openai:gpt-4o-mini      # "provider:model" for init_chat_model
    tools: [support_tools:lookup_order]   # import paths "package.module:attr"
  - name: writer
    approval: after                # before | after | both
    on_error: escalate             # raise | continue | escalate
    model:
      scripted:                    # offline replies: text, {tool_calls: [...]}, {error: ...}
        - {error: rate limited}    # this call fails
        - Dear customer, ...
      latency: 0.2                 # seconds per reply (optional)
  - name: review                   # an agent made of a whole team instead of a model:
    team: teams/review.yaml        # a team file (relative to this one) or an inline
                                   # mapping {pattern: ..., agents: [...]}
```

The file's structure is described by pydantic models (`TeamSpec`, `AgentSpec`,
`ScriptedSpec`, `ToolRef`) that refuse unknown keys. `load_spec` reads and checks a file
and reports every problem at once in one `SpecError`, in file order, each as
`FILE: agents[2].tools[0]: what was wrong; what is allowed`. Agent-level rules are the
`Agent` class's own. `build_team` turns a `TeamSpec` into the pattern's uncompiled
`StateGraph`, making real models with `langgraph_orchestra.models.chat_model`.

An agent with `team:` runs that team (`Agent(name, runnable=compiled_team)`), built with
the same models, overrides and scripts as the including team, its participants named
by path (`review/legal`) in usage and in `consumed`. An included file's problems are
reported at the `team:` that names it (`FILE: agents[1].team: teams/review.yaml:
agents[0].model: ...`); files that include each other are refused with the chain; a
team's `sha256` covers the files it includes.

Tool modules are imported from the Python path, then from the team file's folder.
Adding a pattern is one entry in `PATTERNS`: its factory and the options a YAML file
may set, each with the pydantic type that checks and converts its value
(see `langgraph_orchestra.spec.patterns`).

Example:
    ```python
    from langgraph_orchestra.spec import build_team, load_spec

    spec = load_spec("examples/sequential.yaml")
    graph = build_team(spec).compile(checkpointer=saver)
    ```
"""

from langgraph_orchestra.models import PROVIDERS
from langgraph_orchestra.spec.agent import AgentSpec, ModelOption, ScriptedSpec, ToolRef
from langgraph_orchestra.spec.build import (
    build_team,
    example_path,
    examples_dir,
    sample_team,
    validate_spec,
)
from langgraph_orchestra.spec.patterns import PATTERNS, Pattern
from langgraph_orchestra.spec.team import TeamSpec, load_spec, parse_spec

__all__ = [
    "PATTERNS",
    "PROVIDERS",
    "AgentSpec",
    "ModelOption",
    "Pattern",
    "ScriptedSpec",
    "TeamSpec",
    "ToolRef",
    "build_team",
    "example_path",
    "examples_dir",
    "load_spec",
    "parse_spec",
    "sample_team",
    "validate_spec",
]
