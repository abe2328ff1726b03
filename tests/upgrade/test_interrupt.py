"""Ctrl-C during a real ``tac-bootstrap upgrade`` process, then the rerun its message names.

The interrupts are real SIGINTs through the real handlers, sent by the process to itself at
moments the test names (``TAC_BOOTSTRAP_TEST_SIGINT_AFTER``): a timer from outside could not
land between two given files on a loaded machine, and the code had no slow-down hook.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_support import Run, snapshot

from tac_bootstrap_cli.plan import Action
from tac_bootstrap_cli.upgrade import JOURNAL_PATH, SIGINT_AFTER_ENV, upgrade

from .conftest import GIT_ENV, git, git_commit_all, make_overlay
from .test_upgrade import V1_META, V2_META, user_edits, v1_files, v2_files


def run_upgrade(
    project: Path, *args: str | Path, sigint_after: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``tac-bootstrap upgrade PROJECT ARGS`` as its own process (SIGINTs when asked)."""
    env = {**os.environ, **GIT_ENV}
    env.pop(SIGINT_AFTER_ENV, None)
    if sigint_after is not None:
        env[SIGINT_AFTER_ENV] = sigint_after
    return subprocess.run(
        [sys.executable, "-m", "tac_bootstrap_cli", "upgrade", str(project), *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def status(project: Path) -> set[str]:
    """``git status --porcelain`` lines (untracked files one by one)."""
    return set(git(project, "status", "--porcelain", "--untracked-files=all").splitlines())


def contents(project: Path) -> dict[str, bytes]:
    """What the upgrade decides: every file but git's and the manifest (it holds a time)."""
    return {
        p: data
        for p, (_, data) in snapshot(project).items()
        if not p.startswith(".tac-bootstrap/manifest")
    }


@pytest.fixture
def scenario(cli: Run, tmp_path: Path) -> tuple[Path, Path, Path]:
    """The v1 project with the user's edits, committed; the v2 overlay; and a copy of the project
    upgraded without interruption (what every interrupted run must end as)."""
    v1 = make_overlay(tmp_path / "team-v1", v1_files(), V1_META)
    v2 = make_overlay(tmp_path / "team-v2", v2_files(), V2_META)
    assert cli("init", "app", "-o", tmp_path, "--templates", v1).exit_code == 0
    project = tmp_path / "app"
    git_commit_all(project, "v1")
    user_edits(project)
    git_commit_all(project, "my edits")
    reference = tmp_path / "reference"
    shutil.copytree(project, reference, symlinks=True)
    assert upgrade(reference, overlay=v2).conflicts
    return project, v2, reference


def writes(project: Path, v2: Path) -> list[str]:
    """The paths the upgrade writes, in order (a dry run)."""
    return [fa.path for fa in upgrade(project, overlay=v2, dry_run=True).plan.writes()]


def moments(project: Path, v2: Path) -> dict[str, str]:
    """Named SIGINT moments of this scenario's upgrade."""
    order = writes(project, v2)
    k = order.index("docs/conflict.md") + 1  # files written once the conflict is
    return {
        "before the first write": "0",
        "after the first file": "1",
        "after the conflict was written": str(k),
        "just before the conflict": str(k - 1),
        "second Ctrl-C right after the conflict": f"{k},{k}",
        "before the last file": str(len(order) - 1),
    }


TEN_V1 = "".join(f"{i}\n" for i in range(10))
TEN_V2 = TEN_V1.replace("5\n", "5 v2\n")

MOMENTS = [
    "before the first write",
    "after the first file",
    "after the conflict was written",
    "just before the conflict",
    "second Ctrl-C right after the conflict",
    "before the last file",
]


@pytest.mark.parametrize("moment", MOMENTS)
def test_interrupted_upgrade_is_completed_by_its_rerun(
    scenario: tuple[Path, Path, Path], moment: str
) -> None:
    project, v2, reference = scenario
    when = moments(project, v2)[moment]
    stopped = run_upgrade(project, "--templates", v2, sigint_after=when)
    assert stopped.returncode == 130, stopped.stderr
    assert f"rerun `tac-bootstrap upgrade {project} --templates {v2}`" in stopped.stderr
    assert "Traceback" not in stopped.stderr
    assert (project / JOURNAL_PATH).is_file()
    # Whatever the moment: a file holding markers is unmerged in git already.
    marked = "<<<<<<< yours" in (project / "docs/conflict.md").read_text()
    assert ("UU docs/conflict.md" in status(project)) == marked

    done = run_upgrade(project, "--templates", v2)  # the rerun the message names
    assert done.returncode == 1, done.stdout + done.stderr  # the scenario's conflict remains
    assert "completing the interrupted upgrade" in done.stdout
    assert "docs/conflict.md" in done.stderr
    assert not (project / JOURNAL_PATH).exists()
    assert "UU docs/conflict.md" in status(project)
    stages = git(project, "ls-files", "-u", "--", "docs/conflict.md").splitlines()
    assert [line.split()[2] for line in stages] == ["1", "2", "3"]
    assert status(project) == status(reference)
    assert contents(project) == contents(reference)


def test_interrupt_during_the_rerun_is_completed_by_the_next_one(
    scenario: tuple[Path, Path, Path],
) -> None:
    project, v2, reference = scenario
    assert run_upgrade(project, "--templates", v2, sigint_after="2").returncode == 130
    assert run_upgrade(project, "--templates", v2, sigint_after="1").returncode == 130
    done = run_upgrade(project, "--templates", v2)
    assert done.returncode == 1, done.stderr
    assert not (project / JOURNAL_PATH).exists()
    assert status(project) == status(reference)
    assert contents(project) == contents(reference)


def test_dirty_tree_unrelated_to_an_upgrade_exits_3_and_writes_nothing(
    scenario: tuple[Path, Path, Path],
) -> None:
    project, v2, _ = scenario
    (project / "docs/changed.md").write_text("uncommitted\n")
    (project / "scratch.txt").write_text("mine\n")
    before = snapshot(project)
    refused = run_upgrade(project, "--templates", v2)
    assert refused.returncode == 3, refused.stderr
    assert "uncommitted changes" in refused.stderr and "nothing was done" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert snapshot(project) == before
    assert not (project / JOURNAL_PATH).exists()


@pytest.mark.parametrize("where", ["a path the journal names", "a path it does not name"])
def test_journal_does_not_excuse_the_users_changes(
    scenario: tuple[Path, Path, Path], where: str
) -> None:
    project, v2, _ = scenario
    order = writes(project, v2)
    assert run_upgrade(project, "--templates", v2, sigint_after="1").returncode == 130
    if where == "a path the journal names":
        edited = next(p for p in order[1:] if p.startswith("docs/") and (project / p).is_file())
    else:
        edited = "scratch.txt"
    (project / edited).write_text("my own change\n")
    before = snapshot(project)
    refused = run_upgrade(project, "--templates", v2)
    assert refused.returncode == 3, refused.stderr
    assert "the interrupted upgrade did not make" in refused.stderr and edited in refused.stderr
    assert snapshot(project) == before
    forced = run_upgrade(project, "--templates", v2, "--force")
    assert forced.returncode == 1, forced.stderr
    assert not (project / JOURNAL_PATH).exists()
    assert "UU docs/conflict.md" in status(project)


def test_no_conflict_upgrade_interrupted_then_rerun_exits_0(cli: Run, tmp_path: Path) -> None:
    v1 = make_overlay(tmp_path / "v1", {f"docs/{i}.md": f"{i}\n" for i in range(6)})
    v2 = make_overlay(tmp_path / "v2", {f"docs/{i}.md": f"{i} v2\n" for i in range(6)})
    assert cli("init", "app", "-o", tmp_path, "--templates", v1).exit_code == 0
    project = tmp_path / "app"
    git_commit_all(project)
    assert run_upgrade(project, "--templates", v2, sigint_after="3").returncode == 130
    done = run_upgrade(project, "--templates", v2)
    assert done.returncode == 0, done.stderr
    assert all((project / f"docs/{i}.md").read_text() == f"{i} v2\n" for i in range(6))
    assert not (project / JOURNAL_PATH).exists()
    assert not any(line.startswith("UU") for line in status(project))
    plan = upgrade(project, dry_run=True).plan
    assert {fa.action for fa in plan.actions} <= {Action.UNCHANGED}


def test_ctrl_c_from_outside_at_any_moment(cli: Run, tmp_path: Path) -> None:
    """A terminal's Ctrl-C (SIGINT to the whole process group, git children included) as soon as
    the journal exists, in a big upgrade: wherever it lands, the rerun ends like no interrupt."""
    many = {f"docs/many/{i:03}.md": f"{i}\n" for i in range(300)}
    v1 = make_overlay(tmp_path / "v1", {**many, "docs/conflict.md": TEN_V1})
    v2 = make_overlay(
        tmp_path / "v2",
        {**{p: c + "v2\n" for p, c in many.items()}, "docs/conflict.md": TEN_V2},
    )
    assert cli("init", "app", "-o", tmp_path, "--templates", v1).exit_code == 0
    project = tmp_path / "app"
    (project / "docs/conflict.md").write_text(TEN_V1.replace("5\n", "5 mine\n"))
    git_commit_all(project)
    env = {**os.environ, **GIT_ENV}
    env.pop(SIGINT_AFTER_ENV, None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tac_bootstrap_cli", "upgrade", str(project), "--templates", v2],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while proc.poll() is None and not (project / JOURNAL_PATH).exists():
        assert time.monotonic() < deadline
        time.sleep(0.001)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode in (1, 130), err  # 1: it finished before the signal arrived
    assert "Traceback" not in err.decode()
    assert not (project / ".git/index.lock").exists()
    if "<<<<<<< yours" in (project / "docs/conflict.md").read_text():
        assert "UU docs/conflict.md" in status(project)
    if (project / JOURNAL_PATH).exists():  # else it had completed (Ctrl-C during the summary)
        assert "rerun `tac-bootstrap upgrade" in err.decode()
        done = run_upgrade(project, "--templates", v2)
        assert done.returncode == 1, done.stderr
    assert not (project / JOURNAL_PATH).exists()
    assert "UU docs/conflict.md" in status(project)
    assert all((project / p).read_text() == c + "v2\n" for p, c in many.items())
