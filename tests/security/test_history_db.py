"""The history database named by TAC_BOOTSTRAP_DB is never taken over, damaged or created beside.

Every case runs the real CLI in a subprocess (a fresh process: one-warning rules are per process)
against a file that is not a healthy history of ours; the command must succeed with one warning,
and the file (its sha256) and its folder (its listing) must stay exactly as they were.
"""

from __future__ import annotations

import hashlib
import os
import random
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tac_bootstrap_cli._adws.adw_modules.adw_sqlite import (
    APPLICATION_ID,
    MIGRATIONS,
    SCHEMA_VERSION,
    connect,
    init_schema,
)

Freeze = Callable[[Path], None]
REPO = Path(__file__).resolve().parents[2]


def run_cli(db: str | Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TAC_BOOTSTRAP_DB": str(db), "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "tac_bootstrap_cli", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=REPO,
    )


def digest(path: Path) -> str | None:
    if not path.is_file():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


def our_history(path: Path, tmp_path: Path) -> None:
    """A real history file: one init recorded through the CLI."""
    result = run_cli(path, "init", "seed", "-o", tmp_path / "seed-out", "--yes")
    assert result.returncode == 0 and result.stderr == "", result.stderr


def foreign_rollback(path: Path, _tmp_path: Path) -> None:
    with sqlite3.connect(path) as raw:
        raw.execute("CREATE TABLE notes (body TEXT)")
        raw.execute("INSERT INTO notes VALUES ('mine')")
    raw.close()


def foreign_wal(path: Path, _tmp_path: Path) -> None:
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA journal_mode = WAL")
    raw.execute("CREATE TABLE notes (body TEXT)")
    raw.commit()
    raw.close()


def foreign_application(path: Path, _tmp_path: Path) -> None:
    """Our very table names, but another application's file."""
    raw = sqlite3.connect(path)
    raw.executescript(MIGRATIONS[0].script)
    raw.execute("PRAGMA user_version = 1")
    raw.execute("PRAGMA application_id = 42")
    raw.commit()
    raw.close()


def newer(path: Path, _tmp_path: Path) -> None:
    conn = connect(path)
    init_schema(conn)
    conn.execute("PRAGMA journal_mode = DELETE")  # as a newer release might leave it
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()


def random_bytes(path: Path, _tmp_path: Path) -> None:
    path.write_bytes(random.Random(7).randbytes(8192))


def truncated(path: Path, tmp_path: Path) -> None:
    our_history(path, tmp_path)
    data = path.read_bytes()
    assert len(data) > 3 * 4096
    path.write_bytes(data[: 2 * 4096])


CASES: dict[str, Callable[[Path, Path], None]] = {
    "foreign sqlite (rollback journal)": foreign_rollback,
    "foreign sqlite (WAL)": foreign_wal,
    "foreign application_id": foreign_application,
    "newer schema": newer,
    "random bytes": random_bytes,
    "truncated": truncated,
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_unusable_history_file_is_left_byte_identical(tmp_path: Path, case: str) -> None:
    folder = tmp_path / "state"
    folder.mkdir()
    db = folder / "history.db"
    CASES[case](db, tmp_path)
    before, files = digest(db), listing(folder)
    result = run_cli(db, "init", "app", "-o", tmp_path / "out", "--yes")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "app" / "config.yml").is_file()
    (warning,) = warnings(result.stderr)
    assert "disabled" in warning and str(db) in warning, warning
    assert (digest(db), listing(folder)) == (before, files)
    # runs only reads: the same file gives one warning and an empty listing, still unchanged
    shown = run_cli(db, "runs", "--json")
    assert shown.returncode == 0, shown.stderr
    assert len(warnings(shown.stderr)) <= 1
    assert (digest(db), listing(folder)) == (before, files)


@pytest.mark.parametrize("kind", ["folder", "fifo", "/dev/null"])
def test_special_files_are_refused_and_nothing_is_created_beside(tmp_path: Path, kind: str) -> None:
    if kind == "folder":
        db = tmp_path / "history.db"
        db.mkdir()
    elif kind == "fifo":
        db = tmp_path / "history.db"
        os.mkfifo(db)
    else:
        db = Path("/dev/null")
    folder = db.parent
    files = listing(folder)
    result = run_cli(db, "init", "app", "-o", tmp_path / "out", "--yes")
    assert result.returncode == 0, result.stderr
    (warning,) = warnings(result.stderr)
    assert "disabled" in warning and ("folder" in warning or "regular file" in warning), warning
    assert listing(folder) == [*files, "out"] if folder == tmp_path else listing(folder) == files
    assert not Path(f"{db}-journal").exists() and not Path(f"{db}-wal").exists()
    shown = run_cli(db, "runs")
    assert shown.returncode == 0 and len(warnings(shown.stderr)) <= 1, shown.stderr


def test_read_only_history_is_read_by_runs_and_never_written(
    tmp_path: Path, freeze: Freeze
) -> None:
    folder = tmp_path / "state"
    folder.mkdir()
    db = folder / "history.db"
    our_history(db, tmp_path)
    freeze(db)
    before, files = digest(db), listing(folder)
    result = run_cli(db, "init", "app", "-o", tmp_path / "out", "--yes")
    assert result.returncode == 0, result.stderr
    (warning,) = warnings(result.stderr)
    assert "read-only" in warning
    listed = run_cli(db, "runs", "--json")
    assert listed.returncode == 0 and listed.stderr == "", listed.stderr
    assert '"command": "init"' in listed.stdout
    assert (digest(db), listing(folder)) == (before, files)


def test_runs_never_migrates_or_switches_the_journal(tmp_path: Path) -> None:
    db = tmp_path / "history.db"
    raw = sqlite3.connect(db)  # an older file of ours: version 1, rollback journal
    raw.executescript(MIGRATIONS[0].script)
    raw.execute("PRAGMA user_version = 1")
    raw.commit()
    raw.close()
    before = digest(db)
    result = run_cli(db, "runs")
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert digest(db) == before and listing(tmp_path) == ["history.db"]


def test_an_older_history_of_ours_keeps_working_and_gets_the_application_id(
    tmp_path: Path,
) -> None:
    db = tmp_path / "history.db"
    conn = connect(db)
    init_schema(conn)
    conn.execute("PRAGMA application_id = 0")  # as releases before application_id made it
    conn.close()
    result = run_cli(db, "init", "app", "-o", tmp_path / "out", "--yes")
    assert result.returncode == 0 and result.stderr == "", result.stderr
    raw = sqlite3.connect(db)
    assert raw.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert raw.execute("SELECT count(*) FROM agents").fetchone()[0] == 1
    raw.close()


def test_new_databases_carry_the_application_id(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    result = run_cli(db, "init", "app", "-o", tmp_path / "out", "--yes")
    assert result.returncode == 0 and result.stderr == "", result.stderr
    raw = sqlite3.connect(db)
    assert raw.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID == 0x54414342
    raw.close()


@pytest.mark.parametrize("value", ["off", "OFF"])
def test_history_off_records_nothing_and_says_so_only_when_asked(
    tmp_path: Path, value: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tac_bootstrap_cli", "init", "app", "-o", tmp_path, "--yes"],
        capture_output=True,
        text=True,
        env={**os.environ, "TAC_BOOTSTRAP_DB": value, "PYTHONPATH": str(REPO)},
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert listing(tmp_path) == ["app"]  # no file named off
    shown = run_cli(value, "runs")
    assert shown.returncode == 0
    assert "history is off" in shown.stderr and "No runs" in shown.stdout


def test_a_foreign_project_database_is_reported_and_never_migrated(tmp_path: Path) -> None:
    from tac_bootstrap_cli.projectdb import inspect_db, migrate_db

    db = tmp_path / "orchestrator.db"
    foreign_rollback(db, tmp_path)
    before = digest(db)
    status = inspect_db(db)
    assert status.error is not None and "not a tac-bootstrap database" in status.error
    assert migrate_db(db) is None
    assert digest(db) == before and listing(tmp_path) == ["orchestrator.db"]
