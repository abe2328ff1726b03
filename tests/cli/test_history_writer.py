"""The history written with plain sqlite3 (``history.writer``) is the history ``adw_logging``
wrote: the same calls, once through ``RunRecorder`` and once through the logging API as the
recorder used it before (``OldRecorder`` below, kept as the oracle), leave the same rows.

Both databases are read back through the repositories of ``adw_database`` (which validate every
row by its model) and as raw SQLite (column types, JSON text); everything but ids and times must
be equal, and the ids and times must be well formed and in the order the calls were made.
Real SQLite files under ``tmp_path``; no mocks.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import click
import pytest
from pydantic import BaseModel

from tac_bootstrap_cli._adws.adw_modules import adw_logging
from tac_bootstrap_cli._adws.adw_modules.adw_database import (
    AgentLogRepository,
    AgentRepository,
    OrchestratorAgentRepository,
    PromptRepository,
    SystemLogRepository,
    connect,
)
from tac_bootstrap_cli._adws.adw_modules.adw_sqlite import MIGRATIONS, SCHEMA_VERSION
from tac_bootstrap_cli.errors import Declined
from tac_bootstrap_cli.history import RunRecorder, location, writer
from tac_bootstrap_cli.history.location import ORCHESTRATOR, db_path, warn_once
from tac_bootstrap_cli.history.recorder import NullRecorder
from tac_bootstrap_cli.plan import Action, FileAction

REPO = Path(__file__).resolve().parents[2]
Recorder = Callable[..., Any]

# -- the oracle: RunRecorder as it was, through adw_logging ---------------------------------------


class OldRecorder(NullRecorder):
    """``RunRecorder`` before ``history.writer``: through ``adw_logging`` (verbatim but its name)."""

    def __init__(self, command: str, argv: list[str], *, dry_run: bool = False) -> None:
        self.command = command
        self.argv = argv
        self.answers: dict[str, Any] = {}
        self.summary = ""
        self.path = db_path()
        self._meta: dict[str, object] = {}
        self._run: adw_logging.AgentRun | None = None
        self._syslog: logging.Logger | None = None
        self._handler: adw_logging.SystemLogHandler | None = None
        if self.path is None:  # TAC_BOOTSTRAP_DB=off: the user asked for no history, say nothing
            return
        if self.path.exists() and not os.access(self.path, os.W_OK):
            # SQLite would open it read-only and leave -wal/-shm files beside it it cannot remove.
            warn_once(f"run log disabled ({self.path}): the file is read-only; run not recorded")
            self.path = None
            return
        try:
            from tac_bootstrap_cli._adws.adw_modules.adw_logging import start_run
        except ImportError as exc:  # a broken install: the command still runs
            warn_once(f"run history disabled: {exc}")
            return
        # Non-strict: a failure prints one warning on stderr and turns the run into no-ops.
        # Buffered: the logs of a sub-second command go in one transaction at its end.
        self._run = start_run(
            self.path,
            command,
            orchestrator=ORCHESTRATOR,
            metadata={"argv": argv, "dry_run": dry_run, "cwd": str(Path.cwd())},
            buffered=True,
        )

    @property
    def run_id(self) -> str | None:
        """The Agent id of this run, or None when history is off."""
        return self._run.agent_id if self._run is not None else None

    @property
    def active(self) -> bool:
        """True while the history database accepts writes."""
        return self._run is not None and self._run.healthy

    @contextmanager
    def step(self, name: str, **meta: object) -> Iterator[dict[str, object]]:
        """A step_start/step_end pair around the block; the yielded dict goes to the run's metadata."""
        result: dict[str, object] = {}
        if not self.active:
            yield result
            return
        assert self._run is not None
        with self._run.step(name, **meta):
            yield result
        if result:  # kept in the run's metadata: one write at the end, not one more log row
            self._meta[name] = dict(result)

    def file_action(self, fa: FileAction, *, written: bool) -> None:
        """An AgentLog ``event`` per file (path, action, bytes, reason)."""
        if self.active:
            assert self._run is not None
            self._run.event(
                f"{fa.action.value} {fa.path}",
                path=fa.path,
                action=fa.action.value,
                bytes=fa.size if written else 0,
                reason=fa.reason,
                written=written,
            )

    def warning(self, message: str, **meta: object) -> None:
        """A ``warning`` SystemLog."""
        self._system_log(logging.WARNING, message, meta)

    def error(self, message: str, **meta: object) -> None:
        """An ``error`` SystemLog."""
        self._system_log(logging.ERROR, message, meta)

    def note_answers(self, answers: Mapping[str, Any]) -> None:
        """Kept for the Prompt row written when the run ends."""
        self.answers = dict(answers)

    def set_metadata(self, **meta: object) -> None:
        """Merged into ``agents.metadata`` when the run ends (one write, not one per call)."""
        self._meta.update(meta)

    def set_summary(self, summary: str) -> None:
        """The Prompt's response."""
        self.summary = summary

    def _system_log(self, level: int, message: str, meta: Mapping[str, object]) -> None:
        if not self.active:
            return
        if self._syslog is None:
            from tac_bootstrap_cli._adws.adw_modules.adw_logging import SystemLogHandler

            assert self.path is not None  # active implies a path
            # Strict: a failure here must not print a second warning; the run log reports it.
            self._handler = SystemLogHandler(self.path, ORCHESTRATOR, strict=True)
            self._syslog = logging.getLogger(f"tac_bootstrap.history.{id(self)}")
            self._syslog.propagate = False
            self._syslog.setLevel(logging.DEBUG)
            self._syslog.addHandler(self._handler)
        try:
            extra = f" {json.dumps(dict(meta), default=str)}" if meta else ""
            self._syslog.log(level, f"{self.command}: {message}{extra}")
        except Exception:  # the handler raised (strict): history is best effort
            self._close_syslog()

    def _close_syslog(self) -> None:
        if self._syslog is not None and self._handler is not None:
            self._syslog.removeHandler(self._handler)
            self._handler.close()
        self._syslog = None
        self._handler = None

    def __enter__(self) -> OldRecorder:
        """The recorder itself."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Write the Prompt row, then finish the run as completed or failed (history off or
        broken: nothing to write)."""
        if not self.active:
            self._close_syslog()
            return
        # Active: adw_logging is loaded already, so its rule costs no import on history-off runs.
        from tac_bootstrap_cli._adws.adw_modules.adw_logging import succeeded

        ok = succeeded(exc)
        if not ok:
            self.error(f"{type(exc).__name__}: {exc}", exit_code=getattr(exc, "exit_code", None))
            if not self.summary:
                self.summary = f"failed: {exc}"
        if self.active:
            assert self._run is not None
            if self._meta:
                self._run.set_metadata(**self._meta)
            content = json.dumps(
                {"command_line": self.argv, "answers": self.answers}, ensure_ascii=False
            )
            self._run.prompt(content, response=self.summary, status="completed" if ok else "failed")
            self._run.__exit__(exc_type, exc, tb)
        self._close_syslog()


# -- the calls both make ---------------------------------------------------------------------------

ARGV = ["init", "shop", "-o", "/tmp/out", "--yes"]
ANSWERS = {"name": "shop", "language": "python", "naïve": "«é»", "nested": {"a": [1, 2.5, None]}}


def _files(count: int) -> list[FileAction]:
    actions = [Action.CREATE, Action.UPDATE, Action.KEEP, Action.CONFLICT]
    return [
        FileAction(
            path=f"dir{i % 7}/file_{i}.md",
            action=actions[i % len(actions)],
            reason="new file" if i % 2 else "template changed",
            content=b"x" * i,
        )
        for i in range(count)
    ]


FILES = _files(110)


def drive(rec: Any) -> None:
    """Steps (nested, one failing and caught), file actions, warnings, an error, answers,
    metadata of every kind ``jsonable`` converts, and a summary."""
    rec.note_answers(ANSWERS)
    rec.set_metadata(target="/tmp/out/shop", dry_run=False)
    with rec.step("config", source="cli", count=2) as result:
        result["answers"] = 3
    with rec.step("render") as result:
        with rec.step("templates", depth=2, where=Path("/t")):
            pass
        result["files"] = len(FILES)
        result["sizes"] = (1, 2)
    with suppress(ValueError), rec.step("plan", mode=Action.CREATE):
        raise ValueError("a bad plan, caught by the caller")
    with rec.step("apply"):
        for i, fa in enumerate(FILES):
            rec.file_action(fa, written=i % 3 != 0)
    rec.warning("kept your edit", path="a.md")
    rec.warning("naïve «text» without metadata")
    rec.error("oops", code=3, where=Path("/x"), when=datetime(2024, 1, 2, tzinfo=UTC))
    rec.set_metadata(
        files_changed=5,
        ratio=0.25,
        nan=float("nan"),
        tags={"b", "a"},
        kind=Action.UPDATE,
        pair=(1, 2),
        nested={"p": Path("/a"), 1: "an int key"},
        dry_run=True,
    )
    rec.set_summary("wrote 5 files")


OUTCOMES: dict[str, BaseException | None] = {
    "success": None,
    "sys.exit(0)": SystemExit(0),
    "sys.exit()": SystemExit(),
    "sys.exit(2)": SystemExit(2),
    "an error": RuntimeError("boom"),
    "declined": Declined(),
    "click exit 3": click.exceptions.Exit(3),
    "ctrl-c": KeyboardInterrupt(),
}


def record(make: Recorder, db: Path, outcome: BaseException | None, summary: bool = True) -> None:
    """One run through ``make`` into ``db``, ending with ``outcome`` (raised inside a step)."""
    os.environ["TAC_BOOTSTRAP_DB"] = str(db)  # the autouse fixture restores it
    with suppress(BaseException), make("init", ARGV, dry_run=False) as rec:
        drive(rec)
        if not summary:
            rec.set_summary("")
        if outcome is not None:
            with rec.step("finish", last=True):
                raise outcome


# -- reading back ----------------------------------------------------------------------------------

TIMES = ("created_at", "started_at", "completed_at", "updated_at")
STORED_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00")
IDS = ("id", "orchestrator_agent_id", "agent_id", "session_id")


def _models(db: Path) -> dict[str, list[dict[str, Any]]]:
    """Every row, read through the repositories (each validated by its model), oldest first."""
    conn = connect(db)
    try:
        orchestrators = OrchestratorAgentRepository(conn).list(limit=1000)
        agents = AgentRepository(conn).list(limit=1000)
        tables: dict[str, Sequence[BaseModel]] = {
            "orchestrator_agents": orchestrators,
            "agents": agents,
            "prompts": PromptRepository(conn).list(limit=1000),
            "agent_logs": AgentLogRepository(conn).list(limit=100_000),
            "system_logs": SystemLogRepository(conn).list(limit=1000),
        }
        # list() is newest first (created_at, then rowid); rowid order is the order written.
        order = {
            t: [r[0] for r in conn.execute(f"SELECT id FROM {t} ORDER BY rowid")] for t in tables
        }
        return {
            table: sorted((m.model_dump() for m in rows), key=lambda r: order[table].index(r["id"]))
            for table, rows in tables.items()
        }
    finally:
        conn.close()


def _raw(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row as SQLite holds it: each column's type, and its value unless an id or a time."""
    conn = sqlite3.connect(db)
    try:
        found: dict[str, list[tuple[Any, ...]]] = {}
        for table in ("orchestrator_agents", "agents", "prompts", "agent_logs", "system_logs"):
            columns = [c[1] for c in conn.execute(f"PRAGMA table_info({table})")]
            rows = conn.execute(
                f"SELECT {', '.join(f'typeof({c}), {c}' for c in columns)} FROM {table} ORDER BY rowid"
            ).fetchall()
            for row in rows:  # every time is the models' fixed-width UTC text
                for i, name in enumerate(columns):
                    if name in TIMES and row[2 * i + 1] is not None:
                        assert STORED_TIME.fullmatch(row[2 * i + 1]), row[2 * i + 1]
            found[table] = [
                tuple(
                    (name, row[2 * i], None if name in IDS + TIMES else row[2 * i + 1])
                    for i, name in enumerate(columns)
                )
                for row in rows
            ]
        found["schema"] = conn.execute(
            "SELECT type, name, sql FROM sqlite_master ORDER BY name"
        ).fetchall()
        found["pragmas"] = [
            conn.execute(f"PRAGMA {p}").fetchone()[0]
            for p in ("user_version", "application_id", "journal_mode")
        ]
        return found
    finally:
        conn.close()


def _volatile_meta(table: str, row: dict[str, Any]) -> None:
    """Drop what legitimately differs between two runs: durations, tracebacks' frames, the
    logging call site and the logger's object id."""
    meta = row.get("metadata")
    if not meta:
        return
    if "duration_ms" in meta:
        assert isinstance(meta["duration_ms"], float) and meta["duration_ms"] >= 0
        meta["duration_ms"] = "<ms>"
    if "traceback" in meta:
        lines = meta["traceback"].splitlines()
        assert lines[0] == "Traceback (most recent call last):"
        meta["traceback"] = (lines[0], lines[-1])
    if table == "system_logs":
        assert meta["logger"].startswith("tac_bootstrap.history.")
        assert isinstance(meta["line"], int) and meta["line"] > 0
        assert meta["module"] in ("recorder", "test_history_writer")  # the caller's module
        assert meta["process"] == os.getpid()
        meta["logger"] = meta["module"] = meta["line"] = "<call site>"
    if "cwd" in meta:
        assert meta["cwd"] == str(Path.cwd())


def _check_ids_and_times(rows: dict[str, list[dict[str, Any]]]) -> None:
    """Ids are canonical uuid4 text and the references hold; times are the models' fixed-width
    UTC text, in the order of the calls."""
    for table in rows.values():
        for row in table:
            for key in ("id", "session_id"):
                if key in row:
                    parsed = uuid.UUID(row[key])
                    assert parsed.version == 4 and str(parsed) == row[key], row[key]
            for key in TIMES:
                if row.get(key) is not None:
                    assert row[key].tzinfo is not None and row[key].utcoffset().total_seconds() == 0
    (orchestrator,) = rows["orchestrator_agents"]
    assert orchestrator["created_at"] == orchestrator["updated_at"]
    for agent in rows["agents"]:
        assert agent["orchestrator_agent_id"] == orchestrator["id"]
        assert orchestrator["created_at"] <= agent["created_at"] == agent["started_at"]
        assert agent["completed_at"] is None or agent["started_at"] <= agent["completed_at"]
        logs = [r for r in rows["agent_logs"] if r["agent_id"] == agent["id"]]
        times = [log["created_at"] for log in logs]
        assert times == sorted(times) and all(agent["started_at"] <= t for t in times)
        for prompt in (r for r in rows["prompts"] if r["agent_id"] == agent["id"]):
            assert prompt["created_at"] == prompt["completed_at"] <= agent["completed_at"]
            assert times == [] or times[-1] <= agent["completed_at"]
            errors = [log for log in logs if log["log_type"] == "error"]
            assert all(prompt["created_at"] <= log["created_at"] for log in errors)
    system = [r["created_at"] for r in rows["system_logs"]]
    assert system == sorted(system)


def _normalised(rows: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    _check_ids_and_times(rows)
    for table, items in rows.items():
        for row in items:
            for key in IDS + TIMES:
                row.pop(key, None)
            _volatile_meta(table, row)
    return rows


def _json_texts(db: Path) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        return [
            text
            for table in ("agents", "agent_logs", "system_logs")
            for (text,) in conn.execute(f"SELECT metadata FROM {table} WHERE metadata IS NOT NULL")
        ]
    finally:
        conn.close()


def assert_same_history(old: Path, new: Path) -> None:
    """Everything but ids and times is equal, in the same order, with the same JSON text."""
    old_rows, new_rows = _normalised(_models(old)), _normalised(_models(new))
    assert new_rows == old_rows
    # Key order too (dict equality ignores it): it is the order the JSON text keeps.
    assert json.dumps(new_rows, default=str) == json.dumps(old_rows, default=str)
    for text in _json_texts(old) + _json_texts(new):  # compact, non-ASCII kept: one encoder
        assert text == json.dumps(json.loads(text), ensure_ascii=False, separators=(",", ":"))
    old_raw, new_raw = _raw(old), _raw(new)
    for table in ("agent_logs", "system_logs"):  # metadata compared above, by meaning
        for raw in (old_raw, new_raw):
            raw[table] = [tuple(c if c[0] != "metadata" else c[:2] for c in r) for r in raw[table]]
    for raw in (old_raw, new_raw):
        raw["agents"] = [
            tuple(c if c[0] != "metadata" else c[:2] for c in r) for r in raw["agents"]
        ]
    assert new_raw == old_raw


# -- the oracle tests ------------------------------------------------------------------------------


@pytest.mark.parametrize("outcome", list(OUTCOMES), ids=list(OUTCOMES))
def test_a_run_in_a_new_database_is_written_as_adw_logging_wrote_it(
    tmp_path: Path, outcome: str
) -> None:
    old, new = tmp_path / "old" / "history.db", tmp_path / "new" / "history.db"
    record(OldRecorder, old, OUTCOMES[outcome])
    record(RunRecorder, new, OUTCOMES[outcome])
    assert_same_history(old, new)
    (agent,) = _models(new)["agents"]
    ok = outcome in ("success", "sys.exit(0)", "sys.exit()")
    assert agent["status"] == ("completed" if ok else "failed")


def test_runs_in_an_existing_database_are_written_as_adw_logging_wrote_them(
    tmp_path: Path,
) -> None:
    """The second and later runs (the usual case): the orchestrator agent is found, not made;
    a failing run without a summary gets adw_logging's; a NullRecorder-like empty run too."""
    old, new = tmp_path / "old.db", tmp_path / "new.db"
    for make, db in ((OldRecorder, old), (RunRecorder, new)):
        record(OldRecorder, db, None)  # both files begin as the old code left them
        record(make, db, None)
        record(make, db, RuntimeError("second"), summary=False)
        os.environ["TAC_BOOTSTRAP_DB"] = str(db)
        with make("render", ["render", "."], dry_run=True):
            pass  # nothing said at all
    assert_same_history(old, new)
    assert len(_models(new)["agents"]) == 4


def test_an_older_schema_is_migrated_as_adw_logging_migrated_it(tmp_path: Path) -> None:
    old, new = tmp_path / "old.db", tmp_path / "new.db"
    for make, db in ((OldRecorder, old), (RunRecorder, new)):
        conn = sqlite3.connect(db, isolation_level=None)
        for migration in MIGRATIONS[:2]:
            conn.executescript(migration.script)
        conn.execute("PRAGMA user_version = 2")  # as a release before application_id left it
        conn.close()
        record(make, db, None)
    with closing(sqlite3.connect(new)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert_same_history(old, new)


def test_a_run_left_running_is_left_as_adw_logging_left_it(tmp_path: Path) -> None:
    """A killed process: the Agent was written ``running`` at the start, nothing else."""
    old, new = tmp_path / "old.db", tmp_path / "new.db"
    for make, db in ((OldRecorder, old), (RunRecorder, new)):
        os.environ["TAC_BOOTSTRAP_DB"] = str(db)
        rec = make("init", ARGV)
        with rec.step("config"):
            rec.file_action(FILES[0], written=True)
        # never exited; the connection is left to the garbage collector, as a killed process's
    rows = _models(new)
    assert [a["status"] for a in rows["agents"]] == ["running"] and rows["agent_logs"] == []
    assert_same_history(old, new)


# -- the same warnings -----------------------------------------------------------------------------


def _foreign(db: Path) -> None:
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.commit()
    conn.close()


def _newer(db: Path) -> None:
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.commit()
    conn.close()


def _folder(db: Path) -> None:
    db.mkdir()


def _read_only(db: Path) -> None:
    record(OldRecorder, db, None)  # then frozen by the test (conftest's freeze: root too)


Freeze = Callable[[Path], None]  # conftest's freeze fixture


def _not_sqlite(db: Path) -> None:
    db.write_bytes(b"not a database at all, " * 100)


@pytest.mark.parametrize("spoil", [_foreign, _newer, _folder, _read_only, _not_sqlite])
def test_an_unusable_file_costs_the_same_one_warning(
    tmp_path: Path,
    spoil: Callable[[Path], None],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    freeze: Freeze,
) -> None:
    said: list[str] = []
    for name, make in (("old", OldRecorder), ("new", RunRecorder)):
        db = tmp_path / name / "history.db"
        db.parent.mkdir()
        spoil(db)
        if spoil is _read_only:
            freeze(db)
        before = db.read_bytes() if db.is_file() else None
        capsys.readouterr()
        monkeypatch.setattr(location, "_warned", False)
        record(make, db, None)
        said.append(capsys.readouterr().err.replace(str(db), "<db>"))
        monkeypatch.setattr(location, "_warned", False)  # a new process: warn_once again
        record(make, db, RuntimeError("again"))  # one warning per run, as before
        assert capsys.readouterr().err.replace(str(db), "<db>") == said[-1]
        assert (db.read_bytes() if db.is_file() else None) == before
        assert sorted(p.name for p in db.parent.iterdir()) == ["history.db"]
    assert said[1] == said[0] and said[0].count("\n") == 1 and said[0].startswith("tac-bootstrap: ")


def test_history_off_writes_nothing_and_says_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TAC_BOOTSTRAP_DB", "off")
    monkeypatch.chdir(tmp_path)
    with RunRecorder("init", ARGV) as rec:
        drive(rec)
        assert rec.run_id is None and not rec.active
    assert list(tmp_path.iterdir()) == [] and capsys.readouterr().err == ""


# -- the rules copied from adw_logging -------------------------------------------------------------


@pytest.mark.parametrize("outcome", [*OUTCOMES.values(), SystemExit("message"), SystemExit(False)])
def test_the_success_rule_is_adw_loggings(outcome: BaseException | None) -> None:
    assert writer.succeeded(outcome) is adw_logging.succeeded(outcome)


class _Odd:
    def __str__(self) -> str:
        return "odd"


VALUES: list[Any] = [
    None, True, 3, "s", 1.5, float("nan"), float("-inf"), Path("/a/b"), Action.CREATE,
    datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC), {"b", "a"}, frozenset({1}), (1, [2, (3,)]),
    {"k": {1: Path("/p")}}, _Odd(), b"bytes", [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["deep"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],
]  # fmt: skip


@pytest.mark.parametrize("value", VALUES, ids=[type(v).__name__ for v in VALUES])
def test_metadata_is_converted_as_adw_logging_converts_it(value: Any) -> None:
    assert writer.jsonable(value) == adw_logging.jsonable(value)
    meta = {"value": value, "n": 1}
    assert writer.metadata(meta) == adw_logging._metadata(meta)
    assert writer.metadata({"n": 1, "s": "x"}) is not None
    assert writer.metadata({}) is adw_logging._metadata({}) is None


# -- what it costs ---------------------------------------------------------------------------------

PROBE = """\
import json, sys
from tac_bootstrap_cli.history import RunRecorder
from tac_bootstrap_cli.plan import Action, FileAction
fa = FileAction(path="a.md", action=Action.CREATE, reason="new", content=b"x")
with RunRecorder("init", ["init", "x"]) as rec:
    with rec.step("apply"):
        rec.file_action(fa, written=True)
    rec.warning("careful")
    rec.set_summary("wrote 1 file")
    active = rec.active
try:
    with RunRecorder("init", ["init", "y"]) as rec:
        raise RuntimeError("failing run")
except RuntimeError:
    pass
print(json.dumps({"active": active, "modules": sorted(sys.modules)}))
"""


def test_recording_imports_no_pydantic_nor_the_models(tmp_path: Path) -> None:
    db = tmp_path / "history.db"
    env = {**os.environ, "TAC_BOOTSTRAP_DB": str(db), "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        cwd=tmp_path,
    )
    assert out.stderr == ""
    probe = json.loads(out.stdout)
    assert probe["active"] is True
    banned = ("pydantic", "pydantic_core", "adw_logging", "adw_database", "orch_database_models")
    loaded = [m for m in probe["modules"] if m.split(".")[0] in banned or m.endswith(banned)]
    assert loaded == []
    assert "tac_bootstrap_cli._adws.adw_modules.adw_sqlite" in probe["modules"]  # its writer
    rows = _models(db)  # and what it wrote is valid by the models
    assert [a["status"] for a in rows["agents"]] == ["completed", "failed"]
    assert len(rows["system_logs"]) == 2 and len(rows["agent_logs"]) == 4
