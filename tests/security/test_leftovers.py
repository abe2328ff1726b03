"""Interrupted and killed runs: nothing of theirs survives the next writing command.

A real ``init`` runs in a subprocess and gets one or two SIGINTs, or a SIGKILL, at a random moment
(seeded, so a failure reproduces). SIGINT: the process cleans up itself and says in one line what
state the target is in. SIGKILL: what it left (pid in the name) is removed by the next run, and
``doctor`` reports it meanwhile. Only leftovers of dead processes, of exactly this project, go.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tac_bootstrap_cli._adws.adw_modules.adw_files import TEMP_SUFFIX
from tac_bootstrap_cli.leftovers import STAGING_MARK, find_leftovers, sweep_leftovers

REPO = Path(__file__).resolve().parents[2]


def start(tmp_path: Path, *args: str | Path) -> subprocess.Popen[str]:
    env = {**os.environ, "TAC_BOOTSTRAP_DB": str(tmp_path / "history.db"), "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-m", "tac_bootstrap_cli", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )


def run(tmp_path: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    proc = start(tmp_path, *args)
    out, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def leftovers(folder: Path) -> list[str]:
    """Staging folders and temporary files anywhere under ``folder``."""
    return sorted(
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if STAGING_MARK in p.name or p.name.endswith(TEMP_SUFFIX)
    )


def dead_pid() -> int:
    """The pid of a process that has exited."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def check_outcome(out: Path, proc: subprocess.CompletedProcess[str]) -> None:
    """Whatever moment the interrupt hit: a whole project or none, and no staging folder."""
    assert proc.returncode in (0, 130, -signal.SIGINT), proc.stderr
    # (A SIGINT after the command finished, while Python shuts down, can still print "Exception
    # ignored in threading._shutdown" or end the process by the signal: the entry point's
    # business, not the writing's; the project is whole then.)
    assert "Errno" not in proc.stderr and "unexpected" not in proc.stderr, proc.stderr
    assert leftovers(out) == []
    project = out / "app"
    if proc.returncode == 0 or (project / ".tac-bootstrap" / "manifest.json").is_file():
        assert (project / ".tac-bootstrap" / "manifest.json").is_file()
    else:
        assert not project.exists() or list(project.iterdir()) == [], proc.stderr
    if proc.returncode == 130:
        assert len(lines(proc.stderr)) <= 1, proc.stderr


def wait_for_staging(proc: subprocess.Popen[str], out: Path) -> None:
    """Until ``init`` has made its staging folder (or finished): the writing phase has begun.
    (An interrupt while Python itself starts up is the entry point's business, not apply's.)"""
    deadline = time.monotonic() + 60
    while not (
        out.is_dir() and any(STAGING_MARK in p.name or p.name == "app" for p in out.iterdir())
    ):
        assert time.monotonic() < deadline, "init never started writing"
        if proc.poll() is not None:
            return
        time.sleep(0.0005)


MOMENTS = random.Random(20261206)
SINGLE = [round(MOMENTS.uniform(0, 0.15), 4) for _ in range(4)]
DOUBLE = [
    (round(MOMENTS.uniform(0, 0.15), 4), round(MOMENTS.uniform(0, 0.02), 4)) for _ in range(4)
]


@pytest.mark.parametrize("delay", SINGLE)
def test_one_ctrl_c_at_any_moment_leaves_a_whole_project_or_none(
    tmp_path: Path, delay: float
) -> None:
    out = tmp_path / "out"
    proc = start(tmp_path, "init", "app", "-o", out, "--yes")
    wait_for_staging(proc, out)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    check_outcome(out, subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr))


@pytest.mark.parametrize(("delay", "gap"), DOUBLE)
def test_a_second_ctrl_c_during_cleanup_still_removes_the_staging_folder(
    tmp_path: Path, delay: float, gap: float
) -> None:
    out = tmp_path / "out"
    proc = start(tmp_path, "init", "app", "-o", out, "--yes")
    wait_for_staging(proc, out)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    time.sleep(gap)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    check_outcome(out, subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr))


def test_ctrl_c_while_the_staging_folder_fills_says_the_project_was_not_created(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    proc = start(tmp_path, "init", "app", "-o", out, "--yes")
    deadline = time.monotonic() + 60
    while not any(STAGING_MARK in p.name for p in out.iterdir()):
        assert time.monotonic() < deadline and proc.poll() is None, "no staging folder seen"
        time.sleep(0.001)
    proc.send_signal(signal.SIGINT)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    if proc.returncode == 130:  # (the build may have finished first on a fast machine)
        (line,) = lines(stderr)
        assert "was not created" in line and str(out / "app") in line
        assert list(out.iterdir()) == []


def test_sigkill_leftovers_are_removed_by_the_next_run_and_reported_by_doctor(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    proc = start(tmp_path, "init", "app", "-o", out, "--yes")
    deadline = time.monotonic() + 60
    while not any(STAGING_MARK in p.name for p in out.iterdir()):
        assert time.monotonic() < deadline and proc.poll() is None, "no staging folder seen"
        time.sleep(0.001)
    proc.kill()
    proc.communicate(timeout=60)
    left = leftovers(out)
    if not left:  # the rename won the race: nothing to clean
        pytest.skip("init finished before the kill")
    assert left and all(f".app{STAGING_MARK}{proc.pid}-" in name for name in left)
    again = run(tmp_path, "init", "app", "-o", out, "--yes")
    assert again.returncode == 0, again.stderr
    assert leftovers(out) == []


def test_doctor_reports_leftovers_and_fix_removes_them(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run(tmp_path, "init", "app", "-o", out, "--yes").returncode == 0
    project = out / "app"
    gone = dead_pid()
    staging = out / f".app{STAGING_MARK}{gone}-abcd1234"
    (staging / "src").mkdir(parents=True)
    temp = project / ".claude" / f".settings.json.{gone}-x1y2z3_9{TEMP_SUFFIX}"
    temp.write_text("partial")
    live = project / ".claude" / f".settings.json.{os.getppid()}-livepid1{TEMP_SUFFIX}"
    live.write_text("a concurrent run's")
    report = run(tmp_path, "doctor", project, "--json")
    checks = {c["name"]: c for c in json.loads(report.stdout)["checks"]}
    assert checks["leftovers"]["status"] == "warn", checks["leftovers"]
    assert "2 left by a killed run" in checks["leftovers"]["message"]
    run(tmp_path, "doctor", project, "--fix")
    assert not staging.exists() and not temp.exists()
    assert live.exists()  # its process is alive: not a leftover


def test_every_writing_command_sweeps_dead_temp_files_in_the_folders_it_writes(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    assert run(tmp_path, "init", "app", "-o", out, "--yes").returncode == 0
    project = out / "app"
    gone = dead_pid()
    temp = project / ".claude" / f".settings.json.{gone}-abcdefgh{TEMP_SUFFIX}"
    temp.write_text("partial")
    other = project / f".notes.txt.{gone}-abcdefgh{TEMP_SUFFIX}"  # not a file we write
    other.write_text("someone else's")
    assert run(tmp_path, "render", project).returncode == 0
    assert not temp.exists() and other.exists()


def test_glob_characters_in_the_name_match_only_themselves(tmp_path: Path) -> None:
    gone = dead_pid()
    other = tmp_path / f".abc{STAGING_MARK}{gone}-abcdefgh"
    other.mkdir()
    mine = tmp_path / f".a*{STAGING_MARK}{gone}-abcdefgh"
    mine.mkdir()
    legacy_young = tmp_path / f".a*{STAGING_MARK}abcdefgh"  # no pid, younger than a minute
    legacy_young.mkdir()
    assert find_leftovers(tmp_path / "a*", []) == [mine]
    assert sweep_leftovers(tmp_path / "a*", []) == [mine]
    assert other.exists() and legacy_young.exists() and not mine.exists()
    for name in ("a?", "[ab]c", "a[*]"):
        (tmp_path / f".{name}{STAGING_MARK}{gone}-abcdefgh").mkdir()
        assert find_leftovers(tmp_path / name, []) == [
            tmp_path / f".{name}{STAGING_MARK}{gone}-abcdefgh"
        ]
    assert other.exists()


def test_leftovers_of_live_processes_stay(tmp_path: Path) -> None:
    alive = tmp_path / f".app{STAGING_MARK}{os.getppid()}-abcdefgh"
    alive.mkdir()
    assert find_leftovers(tmp_path / "app", []) == []
    assert find_leftovers(tmp_path / "app", [], all_pids=True) == [alive]
