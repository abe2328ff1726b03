"""Alias bombs ("billion laughs") and deep nesting in the three YAML files tac-bootstrap reads.

``config.yml``, a team's ``tac-template.yml`` and a model spec all go through ``yamlread``: a
bomb is refused at its position (``PATH:line:col``) in well under a second and without ever being
expanded. Peak memory is measured on a real CLI subprocess (``RUSAGE_CHILDREN`` of a wrapper
process whose only child is the CLI).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from workbudget import call_budget

from tac_bootstrap_cli import scaffold
from tac_bootstrap_cli.config import parse_config
from tac_bootstrap_cli.errors import EXIT_USAGE, ConfigError
from tac_bootstrap_cli.modelgen import SpecError, parse_spec
from tac_bootstrap_cli.overlay import load_overlay
from tac_bootstrap_cli.yamlread import MAX_ALIAS_EXPANSION, YamlError, load

REPO = Path(__file__).resolve().parents[2]
# Refusing a bomb takes ~600-1,100 Python calls; expanding one would take billions.
MAX_CALLS = 20_000
MAX_PEAK_MB = 100

# The wrapper runs the CLI as its only child and reports the child's peak RSS (KiB on Linux).
_MEASURE = (
    "import resource, subprocess, sys\n"
    "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "sys.stderr.write(r.stderr)\n"
    "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def bomb(indent: str, levels: int = 10, width: int = 9) -> str:
    """``levels`` anchors, each a list of ``width`` aliases of the previous: width**levels values."""
    return "".join(
        f"{indent}a{n}: &a{n} [" + ", ".join([f"*a{n - 1}" if n else '"lol"'] * width) + "]\n"
        for n in range(levels)
    )


def measured(*args: str | Path) -> tuple[int, float, str]:
    """(exit code, peak MB, stderr) of the CLI run with ``args``."""
    env = {**os.environ, "TAC_BOOTSTRAP_DB": "off", "PYTHONPATH": str(REPO)}
    wrapper = subprocess.run(
        [
            sys.executable,
            "-c",
            _MEASURE,
            sys.executable,
            "-m",
            "tac_bootstrap_cli",
            *map(str, args),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        cwd=REPO,
    )
    code, peak_kib = wrapper.stdout.split()
    return int(code), int(peak_kib) / 1024, wrapper.stderr


def at_position(path: Path, stderr: str) -> bool:
    return re.search(re.escape(str(path)) + r":\d+:\d+: ", stderr) is not None


def test_config_bomb_under_answers(tmp_path: Path) -> None:
    project = scaffold.init_project("app", tmp_path).target
    config = project / "config.yml"
    text = config.read_text() + "answers:\n" + bomb("  ")
    with call_budget(MAX_CALLS), pytest.raises(ConfigError) as caught:
        parse_config(text, str(config))
    assert "alias bomb" in str(caught.value) and caught.value.exit_code == EXIT_USAGE
    config.write_text(text)
    code, peak, stderr = measured("render", project)
    assert code == EXIT_USAGE and at_position(config, stderr), stderr
    assert "alias bomb" in stderr and len(stderr.splitlines()) == 1, stderr
    assert peak < MAX_PEAK_MB, f"{peak:.0f} MB"


def test_template_metadata_bomb(tmp_path: Path) -> None:
    team = tmp_path / "team"
    team.mkdir()
    meta = team / "tac-template.yml"
    meta.write_text('version: "1"\nquestions:\n  - name: x\n')
    load_overlay(team)  # what a first load imports (Pydantic, PyYAML) is not the bomb's work
    meta.write_text('version: "1"\nquestions:\n  - name: x\n    default:\n' + bomb("      "))
    with call_budget(MAX_CALLS), pytest.raises(ConfigError, match="alias bomb"):
        load_overlay(team)
    code, peak, stderr = measured("init", "app", "-o", tmp_path / "out", "--templates", team)
    assert code == EXIT_USAGE and at_position(meta, stderr), stderr
    assert "alias bomb" in stderr, stderr
    assert peak < MAX_PEAK_MB, f"{peak:.0f} MB"
    assert not (tmp_path / "out" / "app").exists()


def test_model_spec_bomb(tmp_path: Path) -> None:
    spec = tmp_path / "robots.yaml"
    spec.write_text(
        "module: robots\nentities:\n  Robot:\n    fields:\n"
        "      id: {type: int, primary_key: true}\n"
        "      data:\n        type: json\n        default:\n" + bomb("          ")
    )
    with call_budget(MAX_CALLS), pytest.raises(SpecError, match="alias bomb"):
        parse_spec(spec.read_text(), str(spec))
    code, peak, stderr = measured("generate", "models", spec, "--out", tmp_path / "out")
    assert code == EXIT_USAGE and at_position(spec, stderr), stderr
    assert peak < MAX_PEAK_MB, f"{peak:.0f} MB"
    assert not (tmp_path / "out").exists()


CONFIG = "version: 1\nproject:\n  name: demo\n"


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        (
            CONFIG + "answers:\n  x: " + "[" * 100 + "]" * 100 + "\n",
            r":5:\d+: ",
            "nested more than",
        ),
        (CONFIG + "answers:\n  x: &r [*r]\n", ":5:6: ", "contains itself through an alias"),
        (CONFIG + "answers: {a: 1, a: 2}\n", ":4:17: ", "duplicate key"),
        (CONFIG + "answers:\n  x: 'open\n", ":6:1: ", "invalid YAML"),
        (CONFIG + "answers:\n  x: 1\x00\n", ":5:7: ", "a NUL byte"),
        (CONFIG + "answers:\n  x: " + "9" * 5000 + "\n", ":5:6: ", "5000 digits"),
    ],
)
def test_one_error_format_for_every_kind_of_problem(
    tmp_path: Path, text: str, position: str, fragment: str
) -> None:
    """The same text is refused the same way, at the same place, in config.yml and
    tac-template.yml (the spec reader shares the checks; tests/modelgen covers its wording)."""
    config = tmp_path / "config.yml"
    team = tmp_path / "team"
    team.mkdir()
    meta = team / "tac-template.yml"
    # The same problem on the same line of a tac-template.yml (its own keys, as many lines).
    meta.write_text(text.replace(CONFIG, "version: '1'\nquestions: []\n# same lines\n"))
    with pytest.raises(ConfigError) as from_config:
        parse_config(text, str(config))
    with pytest.raises(ConfigError) as from_meta:
        load_overlay(team)
    for caught, path in ((from_config.value, config), (from_meta.value, meta)):
        message = str(caught)
        assert re.match(re.escape(str(path)) + position, message), message
        assert fragment in message and "\n" not in message
    same = str(from_meta.value).replace(str(meta), str(config)).replace(meta.name, config.name)
    assert same == str(from_config.value)


@settings(max_examples=40, deadline=None)
@given(width=st.integers(2, 12), levels=st.integers(2, 12))
def test_aliases_are_refused_exactly_when_they_expand_beyond_the_limit(
    width: int, levels: int
) -> None:
    text = "x:\n" + bomb("  ", levels, width)
    expanded = sum(width**n for n in range(1, levels + 1))  # what the aliases add
    try:
        with call_budget(MAX_CALLS):
            load(text, "f.yml")
    except YamlError as exc:
        assert "alias bomb" in exc.problem and exc.line is not None and exc.column is not None
        assert expanded > MAX_ALIAS_EXPANSION // 2
    else:
        assert expanded <= 2 * MAX_ALIAS_EXPANSION
