"""Bulk writes and the logging API's one-row path: the same rows, checks and errors as the model.

``create_many`` takes models or field mappings (validated in one pass, the error locating the
item by index and field), builds rows a column at a time with the C JSON encoder, and pauses the
cyclic garbage collector while it works; ``AgentLogRepository.append`` writes one log row without
building a model.
"""

from __future__ import annotations

import gc
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from tac_bootstrap_cli._adws.adw_modules import adw_database
from tac_bootstrap_cli._adws.adw_modules.adw_database import (
    AgentLogRepository,
    AgentRepository,
    ConstraintError,
    PromptRepository,
    SystemLogRepository,
)
from tac_bootstrap_cli._adws.adw_modules.orch_database_models import (
    Agent,
    AgentLog,
    Prompt,
    SystemLog,
    _json_object,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def fields(agent: Agent, i: int) -> dict[str, Any]:
    return {
        "agent_id": agent.id,
        "log_type": "event",
        "message": f"wrote src/{i}.py",
        "metadata": {"path": f"src/{i}.py", "bytes": i, "ratio": i / 3, "tags": ["a", i]},
        "created_at": T0 + timedelta(microseconds=i),
    }


def stored(conn: sqlite3.Connection, table: str = "agent_logs") -> list[tuple[Any, ...]]:
    return conn.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()


@pytest.mark.sqlite_only  # compares SQLite's row text
def test_mappings_store_what_models_store(conn: sqlite3.Connection, agent: Agent) -> None:
    repo = AgentLogRepository(conn)
    given = [fields(agent, i) for i in range(50)]
    ids = [f"00000000-0000-4000-8000-{i:012d}" for i in range(50)]
    for f, id_ in zip(given, ids, strict=True):
        f["id"] = id_.upper()  # normalised by validation, as AgentLog(...) does
    assert repo.create_many(given) == 50
    via_mappings = stored(conn)
    conn.execute("DELETE FROM agent_logs")
    assert repo.create_many(AgentLog(**f) for f in given) == 50
    assert stored(conn) == via_mappings
    assert [row[0] for row in via_mappings] == ids
    assert repo.list(limit=1)[0] == AgentLog(**given[-1])


def test_models_and_mappings_mix(conn: sqlite3.Connection, agent: Agent) -> None:
    repo = AgentLogRepository(conn)
    model = AgentLog(agent_id=agent.id, log_type="error", message="a model")
    assert repo.create_many([fields(agent, 1), model, fields(agent, 2)]) == 3
    assert [row[3] for row in stored(conn)] == ["wrote src/1.py", "a model", "wrote src/2.py"]


def test_bulk_validation_names_the_index_and_field(conn: sqlite3.Connection, agent: Agent) -> None:
    repo = AgentLogRepository(conn)
    given = [fields(agent, i) for i in range(5)]
    given[3]["agent_id"] = "not-a-uuid"
    given[4]["metadata"] = {"bad": float("nan")}
    with pytest.raises(ValidationError) as info:
        repo.create_many(given)
    errors = {e["loc"]: e["msg"] for e in info.value.errors()}
    assert errors == {
        (3, "agent_id"): "Value error, Invalid UUID format: not-a-uuid",
        (4, "metadata"): "Value error, metadata['bad'] is nan, which JSON cannot hold",
    }
    assert "3.agent_id" in str(info.value) and "4.metadata" in str(info.value)
    assert repo.count() == 0 and not conn.in_transaction  # nothing written


@pytest.mark.usefixtures("agent")
def test_unknown_and_missing_fields_are_errors_too(conn: sqlite3.Connection) -> None:
    repo = SystemLogRepository(conn)
    with pytest.raises(ValidationError) as info:
        repo.create_many([{"log_level": "info", "message": "m", "color": "red"}, {}])
    locs = sorted(e["loc"] for e in info.value.errors())
    assert locs == [(0, "color"), (1, "log_level"), (1, "message")]


def test_a_model_of_another_table_is_a_type_error(conn: sqlite3.Connection, agent: Agent) -> None:
    other = SystemLog(log_level="info", message="m")
    with pytest.raises(TypeError, match="agent_logs stores AgentLog"):
        AgentLogRepository(conn).create_many([fields(agent, 0), other])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="agent_logs stores AgentLog"):
        AgentLogRepository(conn).create_many([other])  # type: ignore[list-item]


def test_bulk_rows_equal_single_rows_for_every_column_kind(
    conn: sqlite3.Connection, agent: Agent
) -> None:
    prompts = [
        Prompt(agent_id=agent.id, content="c", cost_usd=0.25, models="a,b", completed_at=T0),
        Prompt(agent_id=agent.id, content="d"),  # None timestamp
    ]
    repo = PromptRepository(conn)
    assert list(repo.to_rows(prompts)) == [repo.to_row(p) for p in prompts]
    runs = [Agent(orchestrator_agent_id=agent.orchestrator_agent_id, session_id="s", metadata={})]
    runs_repo = AgentRepository(conn)
    assert list(runs_repo.to_rows(runs)) == [runs_repo.to_row(r) for r in runs]
    assert list(repo.to_rows([])) == []


def test_metadata_mutated_after_validation_is_named(conn: sqlite3.Connection, agent: Agent) -> None:
    repo = AgentLogRepository(conn)
    bad = AgentLog(agent_id=agent.id, log_type="event", message="m", metadata={"a": 1})
    assert bad.metadata is not None
    bad.metadata["when"] = datetime.now(UTC)  # in place: validate_assignment does not see it
    with pytest.raises(ValueError, match=r"agent_logs\.metadata: .*datetime"):
        repo.create_many([bad])
    looping = AgentLog(agent_id=agent.id, log_type="event", message="m", metadata={"a": 1})
    assert looping.metadata is not None
    looping.metadata["self"] = looping.metadata
    with pytest.raises(ValueError, match=r"agent_logs\.metadata: Circular reference"):
        repo.create_many([looping])
    assert repo.count() == 0


@pytest.mark.parametrize(
    "value",
    [
        {},
        {"a": 1, "b": 'é\n"\\\u2028\x00', "c": None, "d": True},
        {"nested": [1, 2.5, -0.0, 1e16, 1e-7, 2**70, -(2**70), {"x": []}]},
        {"": {"": [[], {}]}},
    ],
)
def test_fast_json_encoder_writes_the_same_text(value: dict[str, Any]) -> None:
    encode = adw_database._FAST_JSON
    assert encode(value) == adw_database._JSON.encode(value)
    assert json.loads(encode(value)) == value


def test_fast_json_encoder_refuses_nan_like_the_other() -> None:
    with pytest.raises(ValueError):
        adw_database._FAST_JSON({"x": float("inf")})


def test_collector_is_paused_during_bulk_writes_and_restored(
    conn: sqlite3.Connection, agent: Agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []
    original = AgentLogRepository.to_rows

    def spy(self: AgentLogRepository, models: list[AgentLog]) -> Any:
        seen.append(gc.isenabled())
        return original(self, models)

    monkeypatch.setattr(AgentLogRepository, "to_rows", spy)
    repo = AgentLogRepository(conn)
    assert gc.isenabled()
    repo.create_many([fields(agent, 0)])
    orphan = fields(agent, 1) | {"agent_id": "00000000-0000-4000-8000-0000000000ff"}
    with pytest.raises(ConstraintError):
        repo.create_many([orphan])
    assert seen == [False, False] and gc.isenabled()
    gc.disable()
    try:  # a caller that paused it keeps it paused
        repo.create_many([fields(agent, 2)])
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_flat_metadata_is_not_copied_twice_but_never_shared() -> None:
    flat = {"a": 1, "b": "x"}
    assert _json_object(flat) is flat  # nothing to normalise: pydantic's copy is kept
    log = AgentLog(
        agent_id="00000000-0000-4000-8000-000000000001",
        log_type="event",
        message="m",
        metadata=flat,
    )
    flat["a"] = 2
    assert log.metadata == {"a": 1, "b": "x"}
    assert _json_object({"a": (1, 2)}) == {"a": [1, 2]}  # not flat: a normalised copy


# -- AgentLogRepository.append ----------------------------------------------------------------


@pytest.mark.sqlite_only  # compares SQLite's row text
def test_append_stores_what_create_stores(conn: sqlite3.Connection, agent: Agent) -> None:
    repo = AgentLogRepository(conn)
    meta = {"path": "a.py", "bytes": 3, "ratio": 0.5, "tags": ["x"]}
    before = datetime.now(UTC)
    new_id = repo.append(agent.id, "event", "wrote a.py", meta)
    (row,) = stored(conn)
    log = repo.get(new_id)
    assert log is not None and before <= log.created_at <= datetime.now(UTC)
    expected = AgentLog(
        id=new_id,
        agent_id=agent.id,
        log_type="event",
        message="wrote a.py",
        metadata=meta,
        created_at=log.created_at,
    )
    assert row == repo.to_row(expected) and log == expected
    repo.append(agent.id, "step_start", "no metadata")
    repo.append(agent.id, "step_end", "empty metadata", {})
    assert [r[4] for r in stored(conn)] == [row[4], None, "{}"]


def test_append_normalises_through_the_model(conn: sqlite3.Connection, agent: Agent) -> None:
    repo = AgentLogRepository(conn)
    new_id = repo.append(agent.id.upper(), "event", "m", {"items": (1, 2)})
    log = repo.get(new_id)
    assert log is not None and log.agent_id == agent.id and log.metadata == {"items": [1, 2]}


@pytest.mark.parametrize(
    ("agent_id", "log_type", "metadata", "message"),
    [
        ("nope", "event", None, "Invalid UUID format: nope"),
        (None, "trace", None, "Log type must be one of step_start, step_end, event, error"),
        (None, "event", {"x": float("nan")}, "metadata['x'] is nan"),
        (None, "event", {1: "one"}, "Input should be a valid string"),
    ],
)
def test_append_raises_the_models_errors(
    conn: sqlite3.Connection,
    agent: Agent,
    agent_id: str | None,
    log_type: str,
    metadata: Any,
    message: str,
) -> None:
    repo = AgentLogRepository(conn)
    with pytest.raises(ValidationError, match=message.replace("[", r"\[")):
        repo.append(agent_id or agent.id, log_type, "m", metadata)  # type: ignore[arg-type]
    assert repo.count() == 0
