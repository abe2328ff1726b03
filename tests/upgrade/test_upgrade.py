"""``upgrade`` scenarios over a v1 and a v2 team overlay, with real git, then the edge cases."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
from pathlib import Path

import pytest
import yaml
from cli_support import Run, snapshot

from tac_bootstrap_cli import __version__, scaffold
from tac_bootstrap_cli.history import list_runs
from tac_bootstrap_cli.projectstate import (
    BASES_PATH,
    MANIFEST_PATH,
    Entry,
    encode_bases,
    load_bases,
    load_manifest,
    sha256,
)
from tac_bootstrap_cli.render import templates_root
from tac_bootstrap_cli.upgrade import upgrade

from .conftest import git, git_commit_all, make_overlay

TEN = "".join(f"line {i}\n" for i in range(1, 11))
SETTINGS = (templates_root() / ".claude/settings.json.j2").read_text()
GITIGNORE = (templates_root() / ".gitignore.j2").read_text()


def v1_files() -> dict[str, str]:
    return {
        "docs/changed.md": "changed v1\n",
        "docs/removed.md": "removed in v2\n",
        "docs/removed-edited.md": "removed in v2, edited by the user\n",
        "docs/old-name.md": "a file that v2 moves to a new name\nwith a few lines\nof text\n",
        "docs/merge.md": TEN,
        "docs/conflict.md": TEN,
        "docs/user-deleted.md": "the user deletes this\n",
        "docs/team.md.j2": "owner: {{ answers.owner }}\n",
    }


def v2_files() -> dict[str, str]:
    last_event = '("SessionEnd", "session_end", none, 60)] -%}'
    allow_end = '"Edit(./ai_docs/**)"] -%}'
    assert last_event in SETTINGS and allow_end in SETTINGS  # the edits below must apply
    settings = SETTINGS.replace(
        allow_end, '"Edit(./ai_docs/**)", "Bash(git fetch:*)"] -%}'
    ).replace(
        last_event,
        '("SessionEnd", "session_end", none, 60),\n'
        '      ("PermissionRequest", "permission_request", "*", 60)] -%}',
    )
    gitignore = GITIGNORE.replace("/agents/\n", "/agents/\n/.team-cache/\n")
    return {
        "docs/changed.md": "changed v2\n",
        "docs/added.md": "added in v2\n",
        "docs/new-name.md": "a file that v2 moves to a new name\nwith a few lines\nof text\n",
        "docs/merge.md": TEN.replace("line 9\n", "line 9 (template v2)\n"),
        "docs/conflict.md": TEN.replace("line 5\n", "line 5 (template v2)\n"),
        "docs/user-deleted.md": "the user deletes this (v2)\n",
        "docs/team.md.j2": "reviewer: {{ answers.reviewer }}\nchannel: {{ answers.channel }}\n",
        ".claude/settings.json.j2": settings,
        ".claude/hooks/permission_request.py": "print('hi')\n",
        ".gitignore.j2": gitignore,
    }


V1_META = {"version": "1", "questions": [{"name": "owner", "default": "ann"}]}
V2_META = {
    "version": "2",
    "questions": [
        {"name": "reviewer", "renamed_from": "owner"},
        {"name": "channel", "compute": "'#' ~ project.name ~ '-' ~ answers.reviewer"},
    ],
}


def user_edits(project: Path) -> None:
    """What a user does between v1 and v2."""
    docs = project / "docs"
    (docs / "removed-edited.md").write_text("removed in v2, edited by the user\nmy notes\n")
    (docs / "merge.md").write_text(TEN.replace("line 2\n", "line 2 (mine)\n"))
    (docs / "conflict.md").write_text(TEN.replace("line 5\n", "line 5 (mine)\n"))
    (docs / "user-deleted.md").unlink()
    settings = project / ".claude/settings.json"
    text = settings.read_text()
    text = text.replace(
        '"Edit(./ai_docs/**)"\n', '"Edit(./ai_docs/**)",\n      "Bash(make test:*)"\n'
    )
    settings.write_text(text)
    gitignore = project / ".gitignore"
    gitignore.write_text(
        gitignore.read_text().replace("__pycache__/\n", "__pycache__/\n/my-local/\n")
    )
    config = project / "config.yml"
    config.write_text(config.read_text().replace("owner: ann", "owner: bob") + "# my comment\n")


@pytest.fixture
def scenario(cli: Run, tmp_path: Path) -> tuple[Path, Path]:
    """A v1 project in git with the user's edits committed, and the v2 overlay."""
    v1 = make_overlay(tmp_path / "team-v1", v1_files(), V1_META)
    v2 = make_overlay(tmp_path / "team-v2", v2_files(), V2_META)
    result = cli("init", "app", "-o", tmp_path, "--templates", v1)
    assert result.exit_code == 0, result.output
    project = tmp_path / "app"
    git_commit_all(project, "v1")
    user_edits(project)
    git_commit_all(project, "my edits")
    return project, v2


def test_upgrade_v1_to_v2_every_outcome(cli: Run, scenario: tuple[Path, Path]) -> None:
    project, v2 = scenario
    docs = project / "docs"
    result = cli("upgrade", project, "--templates", v2)
    out = result.stdout + result.stderr
    assert result.exit_code == 1, out  # a conflict remains

    # untouched files follow the template; added ones appear; dropped untouched ones go
    assert (docs / "changed.md").read_text() == "changed v2\n"
    assert (docs / "added.md").read_text() == "added in v2\n"
    assert not (docs / "removed.md").exists()
    # dropped but edited: kept, listed
    assert "my notes" in (docs / "removed-edited.md").read_text()
    assert "keep-removed" in out and "docs/removed-edited.md" in out
    # renamed: drop + add, reported as such
    assert not (docs / "old-name.md").exists() and (docs / "new-name.md").is_file()
    assert "renamed to docs/new-name.md" in out
    # non-overlapping edit merged with the template change
    assert (docs / "merge.md").read_text() == TEN.replace("line 2\n", "line 2 (mine)\n").replace(
        "line 9\n", "line 9 (template v2)\n"
    )
    # overlapping edit: markers, listed with how to resolve
    conflicted = (docs / "conflict.md").read_text()
    assert (
        "<<<<<<< yours\nline 5 (mine)\n=======\nline 5 (template v2)\n>>>>>>> tac-bootstrap"
        in conflicted
    )
    assert "Conflicts (1 files)" in out and "docs/conflict.md" in out and "git add" in out
    # user-deleted stays deleted and is listed
    assert not (docs / "user-deleted.md").exists()
    assert "user-deleted" in out and "docs/user-deleted.md" in out
    # settings JSON edited on both sides: the user's permission and the template's hook survive
    settings = json.loads((project / ".claude/settings.json").read_text())
    allow = settings["permissions"]["allow"]
    assert "Bash(make test:*)" in allow and "Bash(git fetch:*)" in allow
    assert "PermissionRequest" in settings["hooks"]
    assert (project / ".claude/hooks/permission_request.py").is_file()
    # managed block: the user's line and the template's line, text outside untouched
    gitignore = (project / ".gitignore").read_text()
    assert "/my-local/\n" in gitignore and "/.team-cache/\n" in gitignore
    # answers carried over: renamed, computed from the old value, the user's comment kept
    config_text = (project / "config.yml").read_text()
    answers = yaml.safe_load(config_text)["answers"]
    assert answers == {"reviewer": "bob", "channel": "#app-bob"}
    assert "# my comment\n" in config_text
    assert (docs / "team.md").read_text() == "reviewer: bob\nchannel: #app-bob\n"
    # git shows the conflict as unmerged; the manifest records the new version
    assert git(project, "status", "--porcelain", "--", "docs/conflict.md").startswith("UU ")
    manifest = load_manifest(project)
    assert manifest is not None and manifest.overlay_version == "2"
    assert manifest.template_version == __version__
    assert "docs/removed-edited.md" not in manifest.files  # the user's now
    assert "docs/user-deleted.md" in manifest.files  # so it stays deleted next time
    # the run is in the history
    runs = list_runs(5)
    assert runs[0].command == "upgrade" and runs[0].files_changed


def test_second_upgrade_is_a_no_op(cli: Run, scenario: tuple[Path, Path]) -> None:
    project, v2 = scenario
    assert cli("upgrade", project, "--templates", v2).exit_code == 1
    # the user resolves the conflict and commits
    conflicted = project / "docs/conflict.md"
    conflicted.write_text(TEN.replace("line 5\n", "line 5 (mine + template)\n"))
    git(project, "add", "docs/conflict.md")
    git_commit_all(project, "upgrade to v2")
    before = snapshot(project)
    again = cli("upgrade", project)  # the overlay is remembered
    assert again.exit_code == 0, again.output
    assert "changed 0 files" in again.stdout
    assert snapshot(project) == before
    assert git(project, "status", "--porcelain") == ""


def test_unresolved_conflicts_are_reported_again_without_changes(
    cli: Run, scenario: tuple[Path, Path]
) -> None:
    project, v2 = scenario
    assert cli("upgrade", project, "--templates", v2).exit_code == 1
    before = snapshot(project)
    again = cli("upgrade", project, "--force")  # the tree is dirty: the upgrade left changes
    assert again.exit_code == 1
    assert "still holds conflict markers" in again.stdout
    assert "docs/conflict.md" in again.stderr
    assert snapshot(project) == before


def test_dirty_work_tree_stops_the_upgrade_unless_forced(
    cli: Run, scenario: tuple[Path, Path]
) -> None:
    project, v2 = scenario
    (project / "docs/changed.md").write_text("uncommitted\n")
    before = snapshot(project)
    refused = cli("upgrade", project, "--templates", v2)
    assert refused.exit_code == 3  # its own code now (was 1, like "conflicts remain")
    assert "uncommitted changes" in refused.stderr and "--force" in refused.stderr
    assert snapshot(project) == before
    forced = cli("upgrade", project, "--templates", v2, "--force")
    assert forced.exit_code == 1  # the conflict of the scenario
    assert (project / "docs/added.md").is_file()
    assert (project / "docs/changed.md").read_text().startswith("<<<<<<< yours\nuncommitted\n")


def test_dry_run_shows_the_plan_and_diffs_and_writes_nothing(
    cli: Run, scenario: tuple[Path, Path]
) -> None:
    project, v2 = scenario
    before = snapshot(project)
    result = cli("upgrade", project, "--templates", v2, "--dry-run", "--diff")
    assert result.exit_code == 1  # it says what would remain: a conflict
    assert snapshot(project) == before
    out = result.stdout
    for action in ("create", "update", "merge", "merge-conflict", "delete", "keep-removed"):
        assert action in out, action
    assert "+++ b/docs/changed.md" in out and "+changed v2" in out
    assert "Dry run" in out
    assert git(project, "status", "--porcelain") == ""


def test_upgrade_without_git_and_without_conflicts(cli: Run, tmp_path: Path) -> None:
    v1 = make_overlay(tmp_path / "v1", {"notes.md": TEN}, {"version": "1"})
    v2 = make_overlay(tmp_path / "v2", {"notes.md": TEN.replace("line 1\n", "line 1 v2\n")})
    assert cli("init", "app", "-o", tmp_path, "--templates", v1).exit_code == 0
    project = tmp_path / "app"
    (project / "notes.md").write_text(TEN.replace("line 10\n", "line 10 mine\n"))
    result = cli("upgrade", project, "--templates", v2)
    assert result.exit_code == 0, result.output
    assert (project / "notes.md").read_text() == TEN.replace("line 1\n", "line 1 v2\n").replace(
        "line 10\n", "line 10 mine\n"
    )
    assert "team templates 1 -> -" in result.stdout  # v2 declares no version
    before = snapshot(project)
    again = cli("upgrade", project)
    assert again.exit_code == 0 and "changed 0 files" in again.stdout
    assert snapshot(project) == before  # nothing rewritten, not even the manifest or the bases


def test_simulated_builtin_template_change(tmp_path: Path) -> None:
    """No overlay: a manifest from an "older release" whose bases differ from today's rendering."""
    project = scaffold.init_project("app", tmp_path).target
    rel = ".claude/commands/test.md"
    current = (project / rel).read_text()
    lines = current.splitlines(keepends=True)
    assert len(lines) > 6
    old_base = "".join(lines[:3] + lines[4:])  # the old release lacked line 4
    mine = old_base.replace(lines[-1], lines[-1].rstrip("\n") + " (my edit)\n")
    (project / rel).write_text(mine)
    manifest = load_manifest(project)
    assert manifest is not None
    manifest.files[rel] = Entry(sha256(old_base.encode()))
    manifest.template_version = "0.0.1"
    bases = load_bases(project)
    bases[sha256(old_base.encode())] = old_base.encode()
    (project / BASES_PATH).write_bytes(encode_bases(bases))
    (project / MANIFEST_PATH).write_text(manifest.to_json())

    result = upgrade(project)
    actions = {fa.path: fa.action.value for fa in result.plan.actions}
    assert actions[rel] == "merge"
    assert result.from_version == "0.0.1" and result.to_version == __version__
    assert (project / rel).read_text() == current.replace(
        lines[-1], lines[-1].rstrip("\n") + " (my edit)\n"
    )
    assert {a for p, a in actions.items() if p != rel} == {"unchanged"}
    after = load_manifest(project)
    assert after is not None and after.template_version == __version__
    assert load_bases(project)[after.files[rel].sha256] == current.encode()


def test_project_without_bases_upgrades_two_way(cli: Run, tmp_path: Path) -> None:
    v1 = make_overlay(tmp_path / "v1", {"a.md": "a1\n", "b.md": TEN})
    v2 = make_overlay(tmp_path / "v2", {"a.md": "a2\n", "b.md": TEN.replace("line 1\n", "x\n")})
    assert cli("init", "app", "-o", tmp_path, "--templates", v1).exit_code == 0
    project = tmp_path / "app"
    (project / "b.md").write_text(TEN + "mine\n")
    (project / BASES_PATH).unlink()  # as made by a tac-bootstrap before bases
    result = cli("upgrade", project, "--templates", v2)
    assert result.exit_code == 0, result.output
    assert "records no pristine bases" in result.stdout
    assert (project / "a.md").read_text() == "a2\n"  # untouched: updated
    assert (project / "b.md").read_text() == TEN + "mine\n"  # edited: kept and listed
    assert "keep-user-edit" in result.stderr and "no base recorded" in result.stderr
    assert (project / BASES_PATH).is_file()  # recorded for the next upgrade


def test_project_database_is_backed_up_and_migrated(tmp_path: Path) -> None:
    from tac_bootstrap_cli._adws.adw_modules.adw_database import MIGRATIONS, SCHEMA_VERSION

    project = scaffold.init_project("app", tmp_path).target
    db = project / "agents/orchestrator.db"
    db.parent.mkdir()
    conn = sqlite3.connect(db)
    conn.executescript(MIGRATIONS[0].script)
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    result = upgrade(project, dry_run=True)
    assert result.database is not None and not result.database.done
    assert sqlite3.connect(db).execute("PRAGMA user_version").fetchone()[0] == 1
    result = upgrade(project)
    migration = result.database
    assert migration is not None and migration.done and migration.from_version == 1
    assert migration.backup is not None and migration.backup.name.startswith("orchestrator.db.bak-")
    check = sqlite3.connect(db)
    assert check.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert sqlite3.connect(migration.backup).execute("PRAGMA user_version").fetchone()[0] == 1
    check.close()
    assert upgrade(project).database is None  # current now: nothing to do


def test_interrupted_upgrade_converges_on_rerun(tmp_path: Path) -> None:
    files = {f"f{i}.md": TEN for i in range(5)}
    v1 = make_overlay(tmp_path / "v1", files)
    v2 = make_overlay(tmp_path / "v2", {k: v + "v2\n" for k, v in files.items()})
    project = scaffold.init_project("app", tmp_path, overlay=v1).target
    from tac_bootstrap_cli.errors import Interrupted
    from tac_bootstrap_cli.operation import UICallbacks

    seen: list[str] = []

    def on_file(fa: object) -> None:
        seen.append(str(fa))
        if len(seen) == 2:
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(Interrupted):
        upgrade(project, overlay=v2, ui=UICallbacks(on_file=on_file))
    done = [p for p in files if (project / p).read_text().endswith("v2\n")]
    assert 0 < len(done) < 5
    result = upgrade(project, overlay=v2)
    assert all((project / p).read_text() == TEN + "v2\n" for p in files)
    assert not result.conflicts


@pytest.mark.parametrize("remove", ["config.yml", MANIFEST_PATH])
def test_not_a_generated_project_is_a_usage_error(cli: Run, tmp_path: Path, remove: str) -> None:
    project = scaffold.init_project("app", tmp_path).target
    (project / remove).unlink()
    result = cli("upgrade", project)
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_project_in_a_subfolder_of_a_repository(cli: Run, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    v1 = make_overlay(tmp_path / "v1", {"notes.md": TEN})
    v2 = make_overlay(tmp_path / "v2", {"notes.md": TEN.replace("line 3\n", "line 3 v2\n")})
    assert cli("init", "app", "-o", repo / "services", "--templates", v1).exit_code == 0
    project = repo / "services/app"
    (repo / "other.txt").write_text("outside the project\n")
    git_commit_all(repo)
    (project / "notes.md").write_text(TEN.replace("line 3\n", "line 3 mine\n"))
    (repo / "other.txt").write_text("dirty, but outside the project\n")
    git(repo, "add", "services/app/notes.md")
    git(repo, "commit", "-q", "-m", "edit")
    result = cli("upgrade", project, "--templates", v2)  # other.txt is not the project's
    assert result.exit_code == 1, result.output
    status = git(repo, "status", "--porcelain")
    assert "UU services/app/notes.md" in status
    stages = git(repo, "ls-files", "-u", "--", "services/app/notes.md").splitlines()
    assert [line.split()[2] for line in stages] == ["1", "2", "3"]
    base = git(repo, "show", ":1:services/app/notes.md")
    theirs = git(repo, "show", ":3:services/app/notes.md")
    assert base == TEN and theirs == TEN.replace("line 3\n", "line 3 v2\n")


def test_managed_block_dropped_by_the_new_version(cli: Run, tmp_path: Path) -> None:
    v1 = make_overlay(tmp_path / "v1", {"notes.md": "n\n"})
    v2 = make_overlay(tmp_path / "v2", {"notes.md": "n\n", "README.md.j2.skip": ""})
    project = tmp_path / "app"
    project.mkdir()
    (project / "README.md").write_text("# Mine\n")
    assert cli("add-agentic", project, "--templates", v1).exit_code == 0
    assert "tac-bootstrap >>>" in (project / "README.md").read_text()
    result = cli("upgrade", project, "--templates", v2)
    assert result.exit_code == 0, result.output
    assert (project / "README.md").read_text() == "# Mine\n"  # the block went, the user's text not


def test_builtin_config_migration_carries_a_renamed_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tac_bootstrap_cli import config

    project = scaffold.init_project("app", tmp_path).target
    path = project / "config.yml"
    # a config.yml of "format 1" where the agent CLI was called `command`
    path.write_text(path.read_text().replace("  cli: claude\n", "  command: my-claude\n"))

    def v1_to_v2(data: dict[str, object]) -> dict[str, object]:
        agent = dict(data.get("agent") or {})  # type: ignore[call-overload]
        if "command" in agent:
            agent["cli"] = agent.pop("command")
        return {**data, "agent": agent}

    monkeypatch.setattr(config, "CONFIG_VERSION", 2)
    monkeypatch.setattr(config, "CONFIG_MIGRATIONS", {1: v1_to_v2})
    result = upgrade(project)
    assert {fa.path: fa.action.value for fa in result.plan.actions}["config.yml"] == "update"
    data = yaml.safe_load(path.read_text())
    assert data["version"] == 2 and data["agent"]["cli"] == "my-claude"  # not the default
    again = upgrade(project)
    assert again.plan.changes == 0
