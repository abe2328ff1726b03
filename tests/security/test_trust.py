"""Team templates that come with a repository are used only once the user trusts them.

A cloned repository's ``config.yml`` naming ``templates: .team`` must not make ``doctor``,
``render --dry-run``, ``render``, ``add-agentic`` or ``upgrade`` render that folder until the
user ran one of them with ``--trust``; a changed folder needs it again (specs/security.md).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tac_bootstrap_cli import trust
from tac_bootstrap_cli.errors import EXIT_USAGE
from tests.cli_support import Run, snapshot

MARKER = "PWNED"
PAYLOAD = "{{ cycler.__init__.__globals__.os.system('touch PWNED') }}\n"
WRITING = [("render",), ("render", "--dry-run"), ("upgrade",), ("upgrade", "--dry-run")]


@pytest.fixture
def repo(cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A generated project whose config.yml was then pointed at an in-repository ``.team``."""
    monkeypatch.chdir(tmp_path)
    assert cli("init", "app", "-o", tmp_path).exit_code == 0
    project = tmp_path / "app"
    (project / ".team" / "docs").mkdir(parents=True)
    (project / ".team" / "docs" / "team.md.j2").write_text("team of {{ project.name }}\n")
    point_at(project, ".team")
    return project


def point_at(project: Path, value: str) -> None:
    config = project / "config.yml"
    config.write_text(config.read_text() + f"templates: {value}\n")


def no_marker(root: Path) -> bool:
    return not any(p.name == MARKER for p in root.rglob("*"))


@pytest.mark.parametrize("command", WRITING, ids=" ".join)
def test_untrusted_in_repo_templates_are_refused_naming_folder_and_flag(
    cli: Run, repo: Path, command: tuple[str, ...]
) -> None:
    (repo / ".team" / "docs" / "team.md.j2").write_text(PAYLOAD)
    before = snapshot(repo)
    result = cli(*command, repo)
    assert result.exit_code == EXIT_USAGE, result.output
    assert str(repo / ".team") in result.stderr and "--trust" in result.stderr
    assert "not trusted" in result.stderr and result.stderr.count("\n") == 1
    assert snapshot(repo) == before
    assert no_marker(repo.parent)
    assert not trust.store_path().exists()  # refusing records nothing


def test_add_agentic_given_an_in_project_folder_needs_trust(cli: Run, tmp_path: Path) -> None:
    project = tmp_path / "p"
    (project / "tpl").mkdir(parents=True)
    (project / "tpl" / "x.md").write_text("x\n")
    result = cli("add-agentic", project, "--templates", project / "tpl", "--yes")
    assert result.exit_code == EXIT_USAGE and "--trust" in result.stderr
    assert not (project / "config.yml").exists()


def test_doctor_skips_untrusted_templates_and_says_why(cli: Run, repo: Path) -> None:
    (repo / ".team" / "docs" / "team.md.j2").write_text(PAYLOAD)
    before = snapshot(repo)
    result = cli("doctor", repo, "--json")
    report = json.loads(result.stdout)
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["templates"]["status"] == "warn"
    assert "not trusted" in checks["templates"]["message"]
    assert str(repo / ".team") in checks["templates"]["message"]
    assert "--trust" in checks["templates"]["remedy"]
    # Only fail makes exit 1 (doctor's documented codes); the skipped templates are a warning.
    failed = [c for c in report["checks"] if c["status"] == "fail"]
    assert result.exit_code == (1 if failed else 0)
    text = " ".join(cli("doctor", repo).stdout.split())  # the table wraps long findings
    assert "warn templates team templates" in text and "not trusted" in text
    fixed = cli("doctor", repo, "--fix")
    assert fixed.exit_code in (0, 1)
    assert snapshot(repo) == before or no_marker(repo)
    assert no_marker(repo.parent)


def test_trust_once_then_used_until_the_folder_changes(cli: Run, repo: Path) -> None:
    dry = cli("render", repo, "--dry-run", "--trust")
    assert dry.exit_code == 0, dry.output
    assert not (repo / "docs" / "team.md").exists()  # --trust with --dry-run writes no file
    store = trust.store_path()
    assert store.is_file() and not store.is_relative_to(repo)  # remembered outside the repository
    recorded = json.loads(store.read_text())["trusted"]
    assert recorded == {str((repo / ".team").resolve()): trust.digest(repo / ".team")}

    assert cli("render", repo).exit_code == 0
    assert (repo / "docs" / "team.md").read_text() == "team of app\n"
    assert cli("render", repo, "--dry-run").exit_code == 0

    (repo / ".team" / "docs" / "team.md.j2").write_text("changed {{ project.name }}\n")
    changed = cli("render", repo)
    assert changed.exit_code == EXIT_USAGE and "changed since you trusted it" in changed.stderr
    assert (repo / "docs" / "team.md").read_text() == "team of app\n"
    doctor = json.loads(cli("doctor", repo, "--json").stdout)
    assert any(c["name"] == "templates" for c in doctor["checks"])
    assert cli("upgrade", repo, "--trust").exit_code == 0
    assert (repo / "docs" / "team.md").read_text() == "changed app\n"
    doctor = json.loads(cli("doctor", repo, "--json").stdout)
    assert not any(c["name"] == "templates" for c in doctor["checks"])


def test_a_new_executable_bit_or_file_counts_as_a_change(cli: Run, repo: Path) -> None:
    assert cli("render", repo, "--trust").exit_code == 0
    (repo / ".team" / "docs" / "team.md.j2").chmod(0o755)
    assert cli("render", repo).exit_code == EXIT_USAGE
    assert cli("render", repo, "--trust").exit_code == 0
    (repo / ".team" / "new.md").write_text("new\n")
    assert cli("render", repo).exit_code == EXIT_USAGE


def test_trusting_a_payload_still_never_runs_it(cli: Run, repo: Path) -> None:
    (repo / ".team" / "docs" / "team.md.j2").write_text(PAYLOAD)
    before = snapshot(repo)
    result = cli("render", repo, "--trust")
    assert result.exit_code == EXIT_USAGE and "unsafe" in result.stderr
    assert snapshot(repo) == before and no_marker(repo.parent)


@pytest.mark.parametrize("how", ["relative-outside", "absolute-inside", "link-to-outside"])
def test_every_way_of_naming_a_repository_folder_needs_trust(
    cli: Run, repo: Path, tmp_path: Path, how: str
) -> None:
    outside = tmp_path / "shared"
    outside.mkdir()
    (outside / "s.md").write_text("s\n")
    config = repo / "config.yml"
    config.write_text(config.read_text().replace("templates: .team\n", ""))
    if how == "relative-outside":
        point_at(repo, "../shared")  # config.yml chose it: it comes from the repository
    elif how == "absolute-inside":
        point_at(repo, str(repo / ".team"))
    else:
        (repo / "linked").symlink_to(outside)
        point_at(repo, str(repo / "linked"))  # inside as written, outside once resolved
    result = cli("render", repo, "--dry-run")
    assert result.exit_code == EXIT_USAGE and "--trust" in result.stderr
    assert cli("render", repo, "--dry-run", "--trust").exit_code == 0


def test_a_folder_outside_the_project_is_the_users_choice(cli: Run, tmp_path: Path) -> None:
    team = tmp_path / "team"
    team.mkdir()
    (team / "t.md").write_text("t\n")
    assert cli("init", "app", "-o", tmp_path, "--templates", team).exit_code == 0
    (team / "t.md").write_text("t2\n")  # a team update: no trust asked, remembered absolute
    assert cli("render", tmp_path / "app").exit_code == 0
    assert (tmp_path / "app" / "t.md").read_text() == "t2\n"
    assert not trust.store_path().exists()


def test_a_link_in_a_repository_folder_is_refused_before_trust(cli: Run, repo: Path) -> None:
    (repo / ".team" / "passwd.md").symlink_to("/etc/passwd")
    for args in (("render", repo, "--trust"), ("render", repo, "--dry-run")):
        result = cli(*args)
        assert result.exit_code == EXIT_USAGE
    assert "passwd.md" in cli("render", repo, "--trust").stderr
    assert not (repo / "passwd.md").exists()


def test_a_real_process_never_runs_the_payload(repo: Path) -> None:
    """The installed script, as a user would run it in the cloned repository."""
    (repo / ".team" / "docs" / "team.md.j2").write_text(PAYLOAD)
    script = Path(sys.executable).parent / "tac-bootstrap"
    before = snapshot(repo)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(script), *args],
            cwd=repo,
            capture_output=True,
            text=True,
            env=dict(os.environ),
            timeout=120,
        )

    doctor = run("doctor", "--json")
    assert doctor.returncode in (0, 1), doctor.stderr
    assert "not trusted" in doctor.stdout
    dry = run("render", "--dry-run")
    assert dry.returncode == EXIT_USAGE and "--trust" in dry.stderr
    trusted = run("render", "--trust")
    assert trusted.returncode == EXIT_USAGE and "unsafe" in trusted.stderr
    assert "Traceback" not in dry.stderr + trusted.stderr
    assert snapshot(repo) == before
    assert no_marker(repo.parent)
