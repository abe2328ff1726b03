"""What ``--help`` imports (in click's style): the CLI is cheap to build, so asking any command for
its help loads Typer and the CLI's own entry modules, nothing heavy.

Each case runs ``tac-bootstrap ARGS --help`` in a fresh interpreter (the console script's
``cli.main``) and compares what it imported after start-up with explicit lists. No timing: the
benchmark (``benchmarks/bench_cli.py``) measures the time; this test pins its cause.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import COMMAND_PATHS

# Runs one command line as the console script does and prints the modules imported past the
# interpreter's own start-up (site included), as JSON.
PROBE = """\
import json, sys
before = set(sys.modules)
sys.argv = ["tac-bootstrap", *json.loads(sys.argv[1])]
from tac_bootstrap_cli.cli import main
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
sys.stdout.write("\\nIMPORTED " + json.dumps({"code": code, "new": sorted(set(sys.modules) - before)}))
"""

# Top-level packages a help run may import: Typer (its vendored click included), what Typer
# itself imports, and the standard library Typer and the CLI's entry modules use.
ALLOWED_TOP_LEVEL = frozenset(
    {
        # third party: Typer and what `import typer` brings
        "typer",
        "annotated_doc",
        "shellingham",
        # ours
        "tac_bootstrap_cli",
        # standard library (the first ones are often loaded at start-up already, by site)
        "_collections",
        "_functools",
        "_operator",
        "_sre",
        "_typing",
        "_weakrefset",
        "collections",
        "copyreg",
        "enum",
        "functools",
        "gc",
        "keyword",
        "operator",
        "re",
        "reprlib",
        "types",
        "typing",
        "warnings",
        "__future__",
        "_ast",
        "_bz2",
        "_compression",
        "_datetime",
        "_heapq",
        "_locale",
        "_lzma",
        "_opcode",
        "_posixsubprocess",
        "_uuid",
        "ast",
        "bz2",
        "contextlib",
        "copy",
        "dataclasses",
        "datetime",
        "difflib",
        "dis",
        "errno",
        "fcntl",
        "fnmatch",
        "gettext",
        "heapq",
        "importlib",
        "inspect",
        "ipaddress",
        "linecache",
        "locale",
        "lzma",
        "math",
        "ntpath",
        "numbers",
        "opcode",
        "pathlib",
        "platform",
        "select",
        "selectors",
        "shlex",
        "shutil",
        "signal",
        "string",
        "subprocess",
        "textwrap",
        "threading",
        "token",
        "tokenize",
        "traceback",
        "urllib",
        "uuid",
        "weakref",
        "zlib",
    }
)

# Our modules a help run may import: the entry point, the stored root help, the errors' exit
# codes and the command declarations. Not the models, config, stacks, ui or anything that works.
ALLOWED_OURS = frozenset(
    {
        "tac_bootstrap_cli",
        "tac_bootstrap_cli._helptext",
        "tac_bootstrap_cli.cli",
        "tac_bootstrap_cli.errors",
        "tac_bootstrap_cli.commands",
        "tac_bootstrap_cli.commands.base",
    }
)

# Named apart so a failure says plainly what came back (all are outside the lists above).
HEAVY = (
    "rich",
    "jinja2",
    "yaml",
    "pydantic",
    "pydantic_core",
    "sqlite3",
    "typer.rich_utils",
    "typer._adapters",
    "tac_bootstrap_cli._adws",
    "tac_bootstrap_cli.config",
    "tac_bootstrap_cli.stacks",
    "tac_bootstrap_cli.ui",
)


def _imported(args: list[str], env: dict[str, str] | None = None) -> list[str]:
    """The modules ``tac-bootstrap ARGS`` imported past start-up (it must exit 0)."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    report = json.loads(out.rpartition("\nIMPORTED ")[2])
    assert report["code"] in (0, None), (args, out)
    new: list[str] = report["new"]
    return new


@pytest.mark.parametrize("command", COMMAND_PATHS, ids=lambda c: " ".join(c) or "root")
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_imports_only_typer_and_the_entry_modules(command: list[str], flag: str) -> None:
    new = _imported([*command, flag])
    heavy = [m for m in new if any(m == h or m.startswith(h + ".") for h in HEAVY)]
    assert heavy == [], f"{' '.join(command)} {flag} imported {heavy}"
    assert sorted({m.split(".")[0] for m in new} - ALLOWED_TOP_LEVEL) == []
    assert (
        sorted(m for m in new if m.startswith("tac_bootstrap_cli") and m not in ALLOWED_OURS) == []
    )


def test_root_help_imports_not_even_typer() -> None:
    """The root ``--help`` is stored text: no Typer, only the entry module and what it needs."""
    for args in (["--help"], ["-h"], ["--version"]):
        new = _imported(args)
        assert [m for m in new if m.split(".")[0] == "typer"] == [], args
        ours = {m for m in new if m.startswith("tac_bootstrap_cli")}
        assert ours <= {"tac_bootstrap_cli", "tac_bootstrap_cli._helptext"} | {
            "tac_bootstrap_cli.cli",
            "tac_bootstrap_cli.errors",
        }, args


def test_the_probe_sees_heavy_imports() -> None:
    """The lists are not vacuous: a command that works imports what help must not."""
    new = _imported(["runs", "--json", "-n", "1"])
    assert "sqlite3" in new


def test_every_plan_action_has_a_style() -> None:
    """``ui`` keys its colours by each action's value, so it need not import the plan module."""
    from tac_bootstrap_cli import ui
    from tac_bootstrap_cli.plan import Action

    assert set(ui._STYLE) == {a.value for a in Action}
    assert all(ui._STYLE[a] for a in Action)  # a StrEnum member finds its value's entry


def test_runs_imports_no_generator() -> None:
    """``runs`` shows the history: no templates, config models, YAML or Jinja2 (nor Pydantic
    through Typer's parameter coercion)."""
    new = _imported(["runs", "--json", "-n", "1"])
    generator = ("jinja2", "yaml", "tac_bootstrap_cli.config", "tac_bootstrap_cli.render")
    assert [m for m in new if m.startswith(generator)] == []


# What `runs` and `runs show` may import besides what help does: the history reader, plain
# sqlite3 and the schema constants of the shipped SQLite module, and Rich for the table.
RUNS_ALLOWED_OURS = ALLOWED_OURS | {
    "tac_bootstrap_cli.history",
    "tac_bootstrap_cli.history.location",
    "tac_bootstrap_cli.history.recorder",
    "tac_bootstrap_cli.history.runs",
    "tac_bootstrap_cli._adws",
    "tac_bootstrap_cli._adws.adw_modules",
    "tac_bootstrap_cli._adws.adw_modules.adw_sqlite",
    "tac_bootstrap_cli.ui",
    "tac_bootstrap_cli.ui.console",
    "tac_bootstrap_cli.ui.plans",
    "tac_bootstrap_cli.ui.prompts",
    "tac_bootstrap_cli.ui.reports",
}


@pytest.mark.parametrize(
    "args", [["runs", "--json", "-n", "1"], ["runs", "-n", "1"], ["runs", "show", "0"]]
)
def test_runs_reads_the_history_without_models_or_pydantic(args: list[str]) -> None:
    """``runs`` reads the history with plain sqlite3: no Pydantic, no persistence models."""
    new = _imported(args) if args[1] != "show" else _imported_any(args)
    banned = ("pydantic", "pydantic_core", "jinja2", "yaml", "typer._adapters")
    assert [m for m in new if m.split(".")[0] in banned or m.startswith(banned)] == []
    ours = sorted(m for m in new if m.startswith("tac_bootstrap_cli"))
    assert [m for m in ours if m not in RUNS_ALLOWED_OURS] == []


def _imported_any(args: list[str]) -> list[str]:
    """Like ``_imported``, for a command line that may exit non-zero (an unknown run id)."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args)], capture_output=True, text=True, check=True
    ).stdout
    new: list[str] = json.loads(out.rpartition("\nIMPORTED ")[2])["new"]
    return new


def test_writing_commands_print_to_a_pipe_without_rich(tmp_path: Path) -> None:
    """``init``, ``render`` and ``add-agentic`` print their one-line results to a pipe as plain
    text (``ui.console.say``): Rich is not imported unless something rich is drawn."""
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "pyproject.toml").write_text('[project]\nname = "plain"\nversion = "0"\n')
    for args in (
        ["init", "app", "--yes", "-o", str(tmp_path)],
        ["render", str(tmp_path / "app"), "--yes"],
        ["add-agentic", str(plain), "--yes"],
    ):
        new = _imported(args, env)
        assert [m for m in new if m.split(".")[0] == "rich"] == [], args


def test_render_answered_by_its_receipt_loads_no_generator(tmp_path: Path) -> None:
    """A second ``render`` of an unchanged project is answered by the first one's receipt
    (``uptodate``): no templates, config models, Pydantic, YAML, Jinja2 or Rich, and the history
    written with plain sqlite3. The probe's own first run is the full render that keeps it."""
    project = str(tmp_path / "app")
    _imported(["init", "app", "--yes", "-o", str(tmp_path)])
    full = _imported(["render", project, "--yes"])
    assert "jinja2" in full  # the lists below are not vacuous: the full render loads them
    new = _imported(["render", project, "--yes"])
    banned = ("pydantic", "pydantic_core", "jinja2", "yaml", "rich", "typer._adapters")
    assert [m for m in new if m.split(".")[0] in banned or m.startswith(banned)] == []
    generator = ("config", "render", "scaffold", "plan", "operation", "layer", "answers")
    assert [m for m in new if m.removeprefix("tac_bootstrap_cli.") in generator] == []
    assert "tac_bootstrap_cli.uptodate" in new and "sqlite3" in new
