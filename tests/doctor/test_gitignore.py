"""doctor's ``.gitignore`` answers are git's: ``**``, negations, anchors and trailing slashes."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import pytest
from cli_support import Run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tac_bootstrap_cli.doctor.gitignore import _git_check_ignore, _ignored_by_spec, ignored

from .conftest import doctor_json, findings

# The paths doctor asks about, and a few neighbours that the generated patterns could catch.
QUERIES = [
    "agents/adw_id/raw_output.jsonl",
    "agents/orchestrator.db",
    "agents/run.db",
    "data/agents/x.jsonl",
    "data/app.db",
    "db/orchestrator.db",
    "orchestrator.db",
]
NAMES = ["agents", "data", "db", "run", "orchestrator.db", "*.db", "*", "agent?", "**"]


@st.composite
def patterns(draw: st.DrawFn) -> str:
    """One .gitignore line: optional !, optional leading /, 1-3 parts, optional trailing /."""
    parts = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=3))
    line = "/".join(parts)
    if draw(st.booleans()):
        line = "/" + line
    if draw(st.booleans()):
        line += "/"
    if draw(st.booleans()):
        line = "!" + line
    return line


def init_repo(root: Path) -> None:
    subprocess.run(["git", "init", "-q", str(root)], check=True)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(patterns(), min_size=1, max_size=5))
def test_the_pathspec_answer_is_git_check_ignore(lines: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        init_repo(root)
        (root / ".gitignore").write_text("\n".join(lines) + "\n")
        expected = _git_check_ignore(root, QUERIES)
        assert expected is not None
        assert [_ignored_by_spec(root, q) for q in QUERIES] == expected, lines


@pytest.mark.parametrize(
    ("text", "answers"),
    [
        ("**/agents\n", [True, True]),
        ("agents/**/*.db\n", [False, True]),
        ("agents/*\n", [True, True]),
        ("agents/\n!agents/orchestrator.db\n", [True, True]),  # no way back out of an ignored dir
        ("agents/*\n!agents/orchestrator.db\n", [True, False]),
        ("/agents\n", [True, True]),
        ("sub/agents/\n", [False, False]),
        ("agents\n!agents/\n", [False, False]),
        ("agents/**/\n", [True, False]),
    ],
)
def test_known_cases_with_and_without_git(tmp_path: Path, text: str, answers: list[bool]) -> None:
    plain, repo = tmp_path / "plain", tmp_path / "repo"
    for root in (plain, repo):
        root.mkdir()
        (root / ".gitignore").write_text(text)
    init_repo(repo)
    queries = ["agents/adw_id/raw_output.jsonl", "agents/orchestrator.db"]
    assert ignored(repo, queries) == answers
    assert ignored(plain, queries) == answers


def test_a_nested_gitignore_counts(tmp_path: Path) -> None:
    (tmp_path / "agents").mkdir()
    (tmp_path / "agents/.gitignore").write_text("*.db\n")
    assert ignored(tmp_path, ["agents/a/raw.jsonl", "agents/orchestrator.db"]) == [False, True]


@pytest.mark.parametrize("in_git", [False, True])
@pytest.mark.parametrize("text", ["**/agents\n", "agents/**\n/agents/*.db\n", "/agents/\n"])
def test_doctor_accepts_a_correct_gitignore(
    cli: Run, project: Path, text: str, in_git: bool
) -> None:
    if in_git:
        init_repo(project)
    (project / ".gitignore").write_text(text)
    _code, report = doctor_json(cli, project)
    assert not any(f.startswith("gitignore") for f in findings(report, "fail")), report


def test_doctor_rejects_a_negated_database(cli: Run, project: Path) -> None:
    init_repo(project)
    (project / ".gitignore").write_text("agents/*\n!agents/orchestrator.db\n")
    code, report = doctor_json(cli, project)
    assert code == 1
    fails = findings(report, "fail")
    assert any("does not ignore agents/orchestrator.db" in f for f in fails), fails


def test_a_project_in_a_subfolder_is_covered_by_the_repositorys_gitignore(tmp_path: Path) -> None:
    init_repo(tmp_path)
    project = tmp_path / "services" / "app"
    project.mkdir(parents=True)
    (tmp_path / ".gitignore").write_text("services/*/agents/\n")
    assert ignored(project, ["agents/adw_id/raw_output.jsonl", "agents/orchestrator.db"]) == [
        True,
        True,
    ]
    (project / ".gitignore").write_text("!agents/\n")  # deeper files win
    assert ignored(project, ["agents/orchestrator.db"]) == [False]
