"""The docs say what the code does: signatures, commands, imports, names, links.

Each check reads a doc and compares it with the code, so a change to either that is not
made to the other fails here:

- every `### create_<pattern>(...)` heading of the README lists that factory's
  parameters, names and defaults in order (a trailing `...` stands for the rows of the
  table of parameters every factory takes, in the table's order, less those the heading
  lists), and every factory has one;
- the `Agent(...)` signature in Concepts is `Agent`'s;
- every command and option of the `orchestra` command table exists in the CLI, every
  command of the CLI is in the table, and every option of a command is in its rows;
- every name imported from `langgraph_orchestra` in a python block exists, and every
  `langgraph_orchestra.<module>.<name>` written in backticks resolves;
- every name of `langgraph_orchestra.__all__` is mentioned;
- every python block parses, and the blocks marked `<!-- runnable -->` run offline and
  print what the paragraph after them says;
- the links of the docs lead to files and headings that exist; the stream events table,
  the stop reasons table and the install extras match the code, `pyproject.toml` and the
  Makefile;
- `examples/README.md`'s team file names every field and is valid, and its options table
  lists every option of every pattern.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import sys
import textwrap
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main

import langgraph_orchestra
from langgraph_orchestra.cli import app

README = Path(__file__).parent.parent / "README.md"
TEXT = README.read_text()
RUNNABLE = "<!-- runnable -->"

FACTORIES = sorted(n for n in langgraph_orchestra.__all__ if n.startswith("create_"))


# --- parsing ------------------------------------------------------------------------------


def split_params(text: str) -> list[str]:
    """Split a parameter list on its top-level commas (not those inside brackets or quotes)."""
    parts, depth, quote, current = [], 0, "", ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
            continue
        current += char
    if current.strip():
        parts.append(current.strip())
    return parts


def documented(part: str) -> tuple[str, Any]:
    """`name=default` as written in the README -> (name, the default's value)."""
    if part in ("*", "..."):
        return part, None
    name, eq, default = part.partition("=")
    if not eq:
        return name.strip(), inspect.Parameter.empty
    return name.strip(), eval(default, vars(langgraph_orchestra))  # names such as DEFAULT_PROMPTS


def actual(fn: Callable[..., Any]) -> list[tuple[str, Any]]:
    """The parameters of `fn` as (name, default), with `*` before the keyword-only ones."""
    out: list[tuple[str, Any]] = []
    for param in inspect.signature(fn).parameters.values():
        if param.kind is param.KEYWORD_ONLY and ("*", None) not in out:
            out.append(("*", None))
        out.append((param.name, param.default))
    return out


def same(a: list[tuple[str, Any]], b: list[tuple[str, Any]]) -> bool:
    """Equal names and defaults, with the defaults' types (so `1` is not `True`)."""
    return [(n, type(d), d) for n, d in a] == [(n, type(d), d) for n, d in b]


def section(title: str) -> str:
    """The README's text from the heading `title` to the next heading of its level or above."""
    match = re.search(rf"^(#+) {re.escape(title)}\s*$", TEXT, re.MULTILINE)
    assert match, f"README has no heading {title!r}"
    level = len(match.group(1))
    end = re.compile(rf"^#{{1,{level}}} ", re.MULTILINE).search(TEXT, match.end())
    return TEXT[match.end() : end.start() if end else len(TEXT)]


def table_first_cells(text: str) -> list[str]:
    """The first cells of the rows of the first table in `text` (header and rule left out)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append(line)
    return [re.split(r"(?<!\\)\|", row)[1].strip() for row in rows[2:]]


def common_params() -> list[tuple[str, Any]]:
    """The table of the parameters every factory takes, as (name, default), in order."""
    cells = table_first_cells(section("Parameters every factory takes"))
    assert cells, "the table of the parameters every factory takes is empty"
    return [documented(cell.strip("`")) for cell in cells]


def factory_headings() -> dict[str, str]:
    """`### `create_x(...)`` headings: factory name -> the parameter list as written."""
    found: dict[str, str] = {}
    for name, params in re.findall(r"^### `(create_\w+)\((.*)\)`\s*$", TEXT, re.MULTILINE):
        assert name not in found, f"two headings for {name}"
        found[name] = params
    return found


def python_blocks() -> Iterator[tuple[int, str, bool, str]]:
    """Every ```python block: (line number, dedented code, marked runnable, what follows).

    What follows is the paragraph after the block.
    """
    pattern = re.compile(r"^( *)```python\n(.*?)^\1```\s*?\n", re.MULTILINE | re.DOTALL)
    for match in pattern.finditer(TEXT):
        line = TEXT.count("\n", 0, match.start()) + 1
        before = TEXT[: match.start()].rstrip().rsplit("\n", 1)[-1].strip()
        after = TEXT[match.end() :].lstrip("\n").split("\n\n", 1)[0]
        yield line, textwrap.dedent(match.group(2)), before == RUNNABLE, after


def cli_commands() -> dict[str, Any]:
    """The commands of the `orchestra` app, by name."""
    commands: dict[str, Any] = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    return dict(commands)


def command_table() -> list[str]:
    """The first cells of the `orchestra` command table, unquoted."""
    return [
        c.strip("`").replace("\\|", "|")
        for c in table_first_cells(section("The `orchestra` command"))
    ]


def options_of(command: Any) -> set[str]:
    return {o for p in command.params for o in (*p.opts, *p.secondary_opts) if o.startswith("-")}


# --- factories and Agent ------------------------------------------------------------------


def test_every_factory_has_a_heading() -> None:
    assert sorted(factory_headings()) == FACTORIES


def test_the_common_parameters_are_taken_by_every_factory() -> None:
    common = common_params()
    for name in FACTORIES:
        params = dict(actual(getattr(langgraph_orchestra, name)))
        for param, default in common:
            assert param in params, f"{name} has no parameter {param}"
            assert same([(param, params[param])], [(param, default)]), (name, param)


@pytest.mark.parametrize("name", FACTORIES)
def test_a_factory_heading_lists_its_parameters_names_and_defaults_in_order(name: str) -> None:
    written = [documented(p) for p in split_params(factory_headings()[name])]
    signature = actual(getattr(langgraph_orchestra, name))
    if written and written[-1][0] == "...":
        written = written[:-1]
        listed = {n for n, _ in written}
        written += [(n, d) for n, d in common_params() if n not in listed]
    assert same(written, signature), (
        f"README heading of {name}: {[n for n, _ in written]} != {[n for n, _ in signature]}"
    )


def test_the_agent_signature_in_concepts_is_agents() -> None:
    match = re.search(r"^\*\*`Agent\((.*)\)`\*\*", TEXT, re.MULTILINE)
    assert match, "README has no **`Agent(...)`** signature"
    written = [documented(p) for p in split_params(match.group(1))]
    assert same(written, actual(langgraph_orchestra.Agent))


# --- the command line ---------------------------------------------------------------------


def test_every_command_of_the_table_exists_with_its_options() -> None:
    commands = cli_commands()
    root = options_of(typer.main.get_command(app))
    for cell in command_table():
        words = cell.split()
        assert words[0] == "orchestra", cell
        options = set(re.findall(r"(?<![\w-])(--?[a-z][\w-]*)", cell))
        if words[1].startswith("-"):
            assert options <= root, cell
            continue
        assert words[1] in commands, f"no command {words[1]!r} ({cell})"
        missing = options - options_of(commands[words[1]])
        assert not missing, f"orchestra {words[1]} has no {sorted(missing)}"


def test_every_command_of_the_cli_is_in_the_table() -> None:
    listed = {cell.split()[1] for cell in command_table()}
    assert set(cli_commands()) <= listed


def test_every_option_of_a_command_is_in_its_rows_of_the_table() -> None:
    rows: dict[str, str] = {}
    for cell in command_table():
        rows[cell.split()[1]] = rows.get(cell.split()[1], "") + " " + cell
    for name, command in cli_commands().items():
        for param in command.params:
            opts = [o for o in (*param.opts, *param.secondary_opts) if o.startswith("-")]
            if opts and param.name != "store":  # --store: one paragraph for every command
                assert any(re.search(rf"{o}(?![\w-])", rows[name]) for o in opts), (name, opts)
    assert re.search(r"`--store PATH.db`", TEXT)


# --- python blocks and names --------------------------------------------------------------


def test_every_python_block_parses() -> None:
    blocks = list(python_blocks())
    assert len(blocks) >= 5
    for line, code, *_ in blocks:
        try:
            ast.parse(code)
        except SyntaxError as error:
            pytest.fail(f"README line {line}: {error}")


def test_every_name_imported_from_the_library_exists() -> None:
    imported = 0
    for line, code, *_ in python_blocks():
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "langgraph_orchestra"
            ):
                module = importlib.import_module(node.module or "")
                for alias in node.names:
                    imported += 1
                    assert hasattr(module, alias.name), (
                        f"README line {line}: {node.module} has no {alias.name}"
                    )
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("langgraph_orchestra"):
                        importlib.import_module(alias.name)
    assert imported >= 10


def test_every_dotted_library_name_resolves() -> None:
    names = set(re.findall(r"`(langgraph_orchestra(?:\.\w+)+)", TEXT))
    assert names
    for dotted in sorted(names):
        parts = dotted.split(".")
        # the longest importable module, then attributes
        for cut in range(len(parts), 0, -1):
            try:
                obj: Any = importlib.import_module(".".join(parts[:cut]))
            except ModuleNotFoundError:
                continue
            for attr in parts[cut:]:
                assert hasattr(obj, attr), f"README: {dotted} does not resolve"
                obj = getattr(obj, attr)
            break


def test_every_public_name_is_mentioned() -> None:
    missing = [
        name
        for name in langgraph_orchestra.__all__
        if not re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", TEXT)
    ]
    assert not missing, f"not in the README: {missing}"


def test_the_blocks_marked_runnable_run_offline_and_print_what_the_readme_says(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    runnable = [(line, code, after) for line, code, marked, after in python_blocks() if marked]
    assert len(runnable) >= 2
    for line, code, after in runnable:
        # a module of its own, so that type hints (a TypedDict's) resolve as in a script
        module = types.ModuleType(f"readme_line_{line}")
        monkeypatch.setitem(sys.modules, module.__name__, module)
        exec(compile(code, f"README.md:{line}", "exec"), module.__dict__)
        printed = capsys.readouterr().out.splitlines()
        assert printed, f"README line {line}: the block prints nothing"
        assert after.startswith("It prints"), f"README line {line}: say what it prints"
        said = re.findall(r"`([^`]+)`", after)
        for out in printed:
            assert out in said, f"README line {line}: prints {out!r}; the README says {said}"


# --- links, events, stop reasons ----------------------------------------------------------

DOCS = [README, *(README.parent / d / "README.md" for d in ("examples", "benchmarks"))]
DOCS.append(README.parent / "docs" / "choosing-a-pattern.md")


def slug(heading: str) -> str:
    """A heading's anchor as GitHub makes it."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = re.sub(r"^```.*?^```", "", path.read_text(), flags=re.MULTILINE | re.DOTALL)
    return {slug(h) for h in re.findall(r"^#+ (.+)$", text, re.MULTILINE)}


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(README.parent)))
def test_every_link_of_the_docs_leads_somewhere(doc: Path) -> None:
    for target in re.findall(r"\]\(([^)\s]+)\)", doc.read_text()):
        if target.startswith(("http://", "https://")):
            continue
        path, _, anchor = target.partition("#")
        file = (doc.parent / path).resolve() if path else doc
        assert file.exists(), f"{doc.name}: {target} leads nowhere"
        if anchor:
            assert anchor in anchors(file), f"{doc.name}: no heading for #{anchor}"


def test_the_events_table_lists_every_event_in_order() -> None:
    from langgraph_orchestra.events import EVENTS, PREFIX

    rows = re.findall(rf"^\| `{re.escape(PREFIX)}(\w+)` \|", TEXT, re.MULTILINE)
    assert rows == list(EVENTS)


def test_every_stop_reason_is_explained() -> None:
    from typing import get_args

    from langgraph_orchestra import StopReason

    cells = " ".join(table_first_cells(TEXT[TEXT.index("| `stop_reason` |") :]))
    documented_reasons = re.findall(r"`(\w+)`", cells)
    assert sorted(documented_reasons) == sorted(get_args(StopReason))


def test_the_install_table_lists_the_extras_and_what_make_test_installs() -> None:
    import tomllib

    root = README.parent
    extras = tomllib.loads((root / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    rows = section("Install").split("| extra |", 1)[1]
    assert sorted(c.strip("`") for c in table_first_cells("| extra |" + rows)) == sorted(extras)
    installed = re.search(
        r'pip install --quiet -e "\.\[([\w,]+)\]"', (root / "Makefile").read_text()
    )
    assert installed, "the Makefile installs no extras"
    assert f"`make test` installs `.[{installed.group(1)}]`" in TEXT
    assert f"installs .[{installed.group(1)}]" in section("Development")


# --- examples/README.md: the team file format ---------------------------------------------

EXAMPLES_README = README.parent / "examples" / "README.md"


def example_team_file() -> str:
    """The "Writing your own" team file of examples/README.md."""
    text = EXAMPLES_README.read_text()
    start = text.index("```yaml\nname: my-team") + len("```yaml\n")
    return text[start : text.index("```", start)]


def test_the_example_team_file_names_every_field_and_is_valid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from langgraph_orchestra.spec import AgentSpec, TeamSpec, validate_spec

    team = example_team_file()
    keys = set(re.findall(r"^\s*(?:- )?(\w+):", team, re.MULTILINE))
    assert set(TeamSpec.model_fields) <= keys, set(TeamSpec.model_fields) - keys
    assert set(AgentSpec.model_fields) <= keys, set(AgentSpec.model_fields) - keys
    # the modules it names, as a user would have them
    package = tmp_path / "my_package"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "tools.py").write_text(
        "def search(q: str) -> str:\n    '''Search.'''\n    return q\n"
    )
    (package / "cases.py").write_text(
        "from pydantic import BaseModel\n\n\nclass Case(BaseModel):\n    order: str\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "teams").mkdir()  # the team file it includes (`team: teams/review.yaml`)
    (tmp_path / "teams" / "review.yaml").write_text(
        "name: review\npattern: concurrent\nagents:\n"
        "  - {name: legal, model: {scripted: [ok]}}\n"
        "  - {name: brand, model: {scripted: [ok]}}\n"
    )
    path = tmp_path / "team.yaml"
    path.write_text(team)
    try:
        spec = validate_spec(path)
    finally:
        for name in [m for m in sys.modules if m.split(".")[0] == "my_package"]:
            del sys.modules[name]
    assert [a.name for a in spec.agents] == ["writer", "qualifier", "booker", "review"]


def test_the_options_table_lists_every_option_of_every_pattern() -> None:
    from langgraph_orchestra.spec import PATTERNS

    text = EXAMPLES_README.read_text()
    every = set(re.findall(r"`(\w+)`", text[text.index("Every pattern also takes") :][:200]))
    rows = {
        m.group(1): set(re.findall(r"`(\w+)`", m.group(2)))
        for m in re.finditer(r"^\| `(\w+)` \|(.*)\|$", text, re.MULTILINE)
    }
    assert sorted(rows) == sorted(PATTERNS)
    for name, pattern in PATTERNS.items():
        missing = set(pattern.options) - rows[name] - every
        assert not missing, f"examples/README.md: {name} takes {sorted(missing)} too"
