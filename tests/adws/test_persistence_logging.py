"""adw_logging: runs, steps, events, prompts, the logging handler, and failing without harm."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from enum import Enum
from pathlib import Path

import pytest

from tac_bootstrap_cli._adws.adw_modules.adw_database import (
    SCHEMA_VERSION,
    AgentLogRepository,
    AgentRepository,
    DatabaseError,
    OrchestratorAgentRepository,
    PromptRepository,
    SchemaVersionError,
    SystemLogRepository,
    connect,
)
from tac_bootstrap_cli._adws.adw_modules.adw_logging import (
    AgentRun,
    SystemLogHandler,
    jsonable,
    start_run,
)
from tac_bootstrap_cli._adws.adw_modules.orch_database_models import Agent, AgentLog

Freeze = Callable[[Path], None]
Reader = Callable[[], sqlite3.Connection]


@pytest.fixture
def reader(db_path: Path) -> Iterator[Reader]:
    """A second connection to look at what a run wrote (opened once the file exists)."""
    conns: list[sqlite3.Connection] = []

    def open_reader() -> sqlite3.Connection:
        conns.append(connect(db_path))
        return conns[-1]

    yield open_reader
    for conn in conns:
        conn.close()


def stored_agent(conn: sqlite3.Connection, run: AgentRun) -> Agent:
    assert run.agent_id is not None
    agent = AgentRepository(conn).get(run.agent_id)
    assert agent is not None
    return agent


def logs(conn: sqlite3.Connection, run: AgentRun) -> list[AgentLog]:
    return list(reversed(AgentLogRepository(conn).list(agent_id=run.agent_id)))


def warnings_in(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("tac-bootstrap:")]


def test_successful_run(db_path: Path, reader: Reader, capsys: pytest.CaptureFixture[str]) -> None:
    with start_run(
        db_path, "builder", session_id="adw-42", model="sonnet", metadata={"issue": 7}
    ) as run:
        assert run.healthy and run.agent_id is not None
        with run.step("render", files=3):
            run.event("wrote file", path=Path("src/a.py"), action="create", bytes=12)
        prompt = run.prompt(
            "plan it", response="done", tokens_input=10, tokens_output=20, cost_usd=0.5
        )
        run.set_metadata(branch="main")
        run.error("soft failure", code=3)
    conn = reader()
    agent = stored_agent(conn, run)
    assert (agent.name, agent.session_id, agent.model, agent.status) == (
        "builder",
        "adw-42",
        "sonnet",
        "completed",
    )
    assert agent.metadata == {"issue": 7, "branch": "main"}
    assert agent.started_at is not None and agent.completed_at is not None
    assert agent.completed_at >= agent.started_at
    parent = OrchestratorAgentRepository(conn).get(agent.orchestrator_agent_id)
    assert parent is not None and parent.name == "tac-bootstrap"
    entries = logs(conn, run)
    assert [(e.log_type, e.message) for e in entries] == [
        ("step_start", "render"),
        ("event", "wrote file"),
        ("step_end", "render"),
        ("error", "soft failure"),
    ]
    assert entries[0].metadata == {"files": 3}
    assert entries[1].metadata == {"path": "src/a.py", "action": "create", "bytes": 12}
    end = entries[2].metadata or {}
    assert end["status"] == "completed" and end["files"] == 3
    assert isinstance(end["duration_ms"], float) and end["duration_ms"] >= 0
    assert entries[3].metadata == {"code": 3}
    assert prompt is not None
    stored = PromptRepository(conn).get(prompt.id)
    assert stored == prompt
    assert (stored.status, stored.tokens_input, stored.tokens_output, stored.cost_usd) == (
        "completed",
        10,
        20,
        0.5,
    )
    assert stored.response == "done" and stored.completed_at is not None
    assert (stored.tokens_cache_read, stored.num_turns, stored.models) == (0, 0, None)
    assert warnings_in(capsys.readouterr().err) == []


def test_prompt_records_cache_tokens_turns_duration_and_models(
    db_path: Path, reader: Reader
) -> None:
    with start_run(db_path, "builder", strict=True) as run:
        prompt = run.prompt(
            "build it",
            tokens_input=2100,
            tokens_output=700,
            tokens_cache_read=6000,
            tokens_cache_creation=500,
            cost_usd=0.0421,
            num_turns=3,
            duration_ms=15230,
            models=["claude-sonnet-4-5", "claude-haiku-4-5"],
        )
        one = run.prompt("again", models="claude-opus-4-1")
        unknown = run.prompt("no model", models=[])
    assert prompt is not None and one is not None and unknown is not None
    stored = PromptRepository(reader()).get(prompt.id)
    assert stored == prompt
    assert (
        stored.tokens_input,
        stored.tokens_cache_read,
        stored.tokens_cache_creation,
        stored.tokens_output,
        stored.cost_usd,
        stored.num_turns,
        stored.duration_ms,
        stored.models,
    ) == (2100, 6000, 500, 700, 0.0421, 3, 15230, "claude-sonnet-4-5,claude-haiku-4-5")
    assert one.models == "claude-opus-4-1" and unknown.models is None


def test_failing_run_is_marked_failed_and_reraises(db_path: Path, reader: Reader) -> None:
    with (
        pytest.raises(KeyError, match="missing"),
        start_run(db_path, "planner") as run,
        run.step("classify", issue=1),
    ):
        raise KeyError("missing")
    conn = reader()
    assert stored_agent(conn, run).status == "failed"
    entries = logs(conn, run)
    assert [(e.log_type, e.message) for e in entries] == [
        ("step_start", "classify"),
        ("step_end", "classify"),
        ("error", "KeyError: 'missing'"),
    ]
    step_end = entries[1].metadata or {}
    assert step_end["status"] == "failed" and step_end["error"] == "KeyError: 'missing'"
    error = entries[2].metadata or {}
    assert error["exception"] == "KeyError" and 'raise KeyError("missing")' in error["traceback"]


@pytest.mark.parametrize(("code", "status"), [(0, "completed"), (None, "completed"), (2, "failed")])
def test_system_exit(db_path: Path, reader: Reader, code: int | None, status: str) -> None:
    with pytest.raises(SystemExit), start_run(db_path, "cli") as run:
        raise SystemExit(code)
    assert stored_agent(reader(), run).status == status


def test_finish_is_explicit_and_idempotent(db_path: Path, reader: Reader) -> None:
    run = start_run(db_path, "tester")
    run.finish("failed", reason="tests red")
    run.finish("completed")  # ignored: already finished
    run.event("after the end")  # ignored too
    conn = reader()
    agent = stored_agent(conn, run)
    assert agent.status == "failed" and agent.metadata == {"reason": "tests red"}
    assert logs(conn, run) == []
    with pytest.raises(ValueError, match="'completed' or 'failed'"):
        run.finish("running")  # type: ignore[arg-type]


def test_prompt_metadata_and_open_status(db_path: Path, reader: Reader) -> None:
    with start_run(db_path, "agent") as run:
        prompt = run.prompt("q", status="running", metadata={"attempt": 2})
    assert prompt is not None and prompt.completed_at is None and prompt.status == "running"
    (event,) = logs(reader(), run)
    assert event.metadata == {"attempt": 2, "prompt_id": prompt.id}


def test_jsonable_metadata_never_fails() -> None:
    class Color(Enum):
        RED = "red"

    value = jsonable(
        {"p": Path("a/b"), "s": {3, 1}, "e": Color.RED, "t": (1, 2), "o": object, 1: float("nan")}
    )
    assert value["p"] == "a/b" and value["s"] == [1, 3] and value["e"] == "red"
    assert value["t"] == [1, 2] and value["o"] == "<class 'object'>" and value["1"] == "nan"


def test_runs_share_one_orchestrator_and_sessions_default_to_uuids(
    db_path: Path,
    reader: Reader,
) -> None:
    first = start_run(db_path, "a")
    second = start_run(db_path, "b", orchestrator="tac-bootstrap")
    for run in (first, second):
        run.finish()
    conn = reader()
    one, two = stored_agent(conn, first), stored_agent(conn, second)
    assert one.orchestrator_agent_id == two.orchestrator_agent_id
    assert one.session_id != two.session_id and len(one.session_id) == 36


def test_threads_share_a_run(db_path: Path, reader: Reader) -> None:
    with start_run(db_path, "threaded", strict=True) as run:
        workers = [
            threading.Thread(target=lambda n=n: [run.event(f"{n}-{i}") for i in range(50)])
            for n in range(4)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    assert AgentLogRepository(reader()).count(agent_id=run.agent_id) == 200


# -- failures: never break the caller, unless strict -------------------------------------------


def exercise(run: AgentRun) -> None:
    """Every API call, as a workflow would make them, all of which must be harmless no-ops."""
    with run:
        with run.step("s"):
            run.event("e", n=1)
        run.error("oops")
        assert run.prompt("p") is None
        run.set_metadata(k="v")


def test_read_only_database_warns_once(
    db_path: Path, freeze: Freeze, capsys: pytest.CaptureFixture[str]
) -> None:
    start_run(db_path, "first").finish()
    freeze(db_path)
    before = db_path.read_bytes()
    run = start_run(db_path, "second")
    exercise(run)
    assert not run.healthy and run.agent_id is None
    (warning,) = warnings_in(capsys.readouterr().err)
    assert warning.startswith(f"tac-bootstrap: run log disabled ({db_path}): ")
    assert "readonly" in warning or "read-only" in warning
    assert db_path.read_bytes() == before
    with pytest.raises(DatabaseError):
        start_run(db_path, "third", strict=True)


@pytest.mark.parametrize("where", ["in", "below"])
def test_unwritable_folder_warns_once(
    tmp_path: Path, freeze: Freeze, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    freeze(locked)
    db_path = locked / "run.db" if where == "in" else locked / "sub" / "run.db"
    run = start_run(db_path, "agent")
    exercise(run)
    (warning,) = warnings_in(capsys.readouterr().err)
    assert f"({db_path})" in warning and not run.healthy
    assert sorted(locked.iterdir()) == []
    with pytest.raises(DatabaseError, match="cannot open database"):
        start_run(db_path, "agent", strict=True)


def test_foreign_and_newer_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database")
    exercise(start_run(notes, "agent"))
    newer = tmp_path / "newer.db"
    with sqlite3.connect(newer) as raw:
        raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    raw.close()
    before = newer.read_bytes()
    exercise(start_run(newer, "agent"))
    first, second = warnings_in(capsys.readouterr().err)
    assert "notes.txt" in first and "not a SQLite database" in first
    assert "newer.db" in second and "SchemaVersionError" in second
    assert newer.read_bytes() == before and notes.read_text() == "not a database"
    with pytest.raises(SchemaVersionError):
        start_run(newer, "agent", strict=True)


def test_buffered_run_writes_its_logs_in_one_transaction(
    db_path: Path, reader: Reader, capsys: pytest.CaptureFixture[str]
) -> None:
    with start_run(db_path, "init", buffered=True) as run:
        with run.step("apply", files=2):
            run.event("create a.py", path="a.py", bytes=3)
            run.event("keep b.md")
        assert AgentLogRepository(reader()).count(agent_id=run.agent_id) == 0  # still in memory
        assert run.flush() == 4
        assert run.flush() == 0
        run.event("after the flush")
    entries = logs(reader(), run)  # finish wrote the rest
    assert [(e.log_type, e.message) for e in entries] == [
        ("step_start", "apply"),
        ("event", "create a.py"),
        ("event", "keep b.md"),
        ("step_end", "apply"),
        ("event", "after the flush"),
    ]
    assert entries[1].metadata == {"path": "a.py", "bytes": 3}
    # Timestamps are those of the calls, so the rows keep their order and their times.
    assert [e.created_at for e in entries] == sorted(e.created_at for e in entries)
    # All or nothing: one row SQLite cannot store (a lone surrogate) writes none of the burst.
    with start_run(db_path, "init", buffered=True) as failing:
        failing_id = failing.agent_id
        failing.event("ok")
        failing.event("bad \ud800")
    assert AgentLogRepository(reader()).count(agent_id=failing_id) == 0
    assert len(warnings_in(capsys.readouterr().err)) == 1
    stored = AgentRepository(reader()).get(failing_id or "")
    assert stored is not None and stored.status == "running"  # disabled before finish wrote


def test_failure_mid_run_disables_after_one_warning(
    db_path: Path,
    reader: Reader,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = start_run(db_path, "agent")
    run.event("before")
    assert AgentRepository(reader()).delete(run.agent_id or "")  # its logs cascade away
    run.event("after")  # foreign key fails: agent row gone
    run.event("ignored")
    run.finish()
    (warning,) = warnings_in(capsys.readouterr().err)
    assert "ConstraintError: agent_logs: FOREIGN KEY constraint failed" in warning
    assert not run.healthy and AgentLogRepository(reader()).count() == 0


def test_strict_mode_raises_mid_run(db_path: Path, reader: Reader) -> None:
    run = start_run(db_path, "agent", strict=True)
    AgentRepository(reader()).delete(run.agent_id or "")
    with pytest.raises(DatabaseError, match="agent_logs"):
        run.event("after")
    assert run.healthy  # strict never disables
    with pytest.raises(DatabaseError, match="was deleted"):
        run.finish()


def test_bad_value_in_strict_and_lenient_mode(
    db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with start_run(db_path, "agent") as run:
        assert run.prompt("p", tokens_input=-1) is None
    assert "greater than or equal to 0" in capsys.readouterr().err
    with (
        pytest.raises(ValueError, match="greater than or equal to 0"),
        start_run(db_path, "agent", strict=True) as strict_run,
    ):
        strict_run.prompt("p", tokens_input=-1)


# -- SystemLogHandler -------------------------------------------------------------------------


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    log = logging.getLogger("tests.adws.system")
    log.setLevel(logging.DEBUG)
    log.propagate = False
    yield log
    for handler in list(log.handlers):
        log.removeHandler(handler)
        handler.close()


def test_handler_writes_system_logs(db_path: Path, logger: logging.Logger, reader: Reader) -> None:
    handler = SystemLogHandler(db_path, source="generator")
    logger.addHandler(handler)
    logger.debug("d")
    logger.info("rendered %d files", 3)
    logger.log(25, "custom level")
    logger.warning("w")
    try:
        raise ValueError("bad")
    except ValueError:
        logger.exception("failed")
    logger.critical("c")
    handler.close()
    rows = list(reversed(SystemLogRepository(reader()).list()))
    assert [(r.log_level, r.message.splitlines()[0]) for r in rows] == [
        ("debug", "d"),
        ("info", "rendered 3 files"),
        ("info", "custom level"),
        ("warning", "w"),
        ("error", "failed"),
        ("critical", "c"),
    ]
    assert {r.source for r in rows} == {"generator"}
    assert "ValueError: bad" in rows[4].message  # the traceback is part of the message
    assert rows[1].metadata is not None and rows[1].metadata["logger"] == "tests.adws.system"


@pytest.mark.sqlite_only  # the logging API writes the local SQLite file (issue 16: hooks stay local)
def test_handler_on_a_connection_defaults_source_to_logger(
    conn: sqlite3.Connection, logger: logging.Logger
) -> None:
    handler = SystemLogHandler(conn)
    logger.addHandler(handler)
    logger.error("x")
    handler.close()
    (row,) = SystemLogRepository(conn).list()  # the connection stays open after close()
    assert row.source == "tests.adws.system" and row.log_level == "error"


def test_handler_failure_policy(
    tmp_path: Path, logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("text")
    handler = SystemLogHandler(notes)
    logger.addHandler(handler)
    logger.error("one")
    logger.error("two")
    assert not handler.healthy
    (warning,) = warnings_in(capsys.readouterr().err)
    assert warning.startswith(f"tac-bootstrap: system log disabled ({notes}): DatabaseError")
    logger.removeHandler(handler)
    logger.addHandler(SystemLogHandler(notes, strict=True))
    with pytest.raises(DatabaseError, match="not a SQLite database"):
        logger.error("three")


def test_bad_format_string_does_not_disable_the_handler(
    db_path: Path, reader: Reader, capsys: pytest.CaptureFixture[str]
) -> None:
    handler = SystemLogHandler(db_path)

    def record(msg: str, *args: object) -> logging.LogRecord:
        return logging.LogRecord("app", logging.INFO, __file__, 1, msg, args, None)

    # Straight to the handler: pytest's own capture handlers would raise on the bad record.
    handler.handle(record("%d files", "three"))  # the caller's bug: reported on stderr
    handler.handle(record("still logging"))
    handler.close()
    assert handler.healthy
    assert [r.message for r in SystemLogRepository(reader()).list()] == ["still logging"]
    assert "Logging error" in capsys.readouterr().err
