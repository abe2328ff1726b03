"""The five orchestrator models: construction, validation messages, UTC timestamps, metadata."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from enum import Enum
from typing import Any

import pytest
from pydantic import ValidationError

from tac_bootstrap_cli._adws.adw_modules.orch_database_models import (
    Agent,
    AgentLog,
    OrchestratorAgent,
    Prompt,
    SystemLog,
    canonical_uuid,
    format_timestamp,
)

NIL = "00000000-0000-0000-0000-000000000000"


def test_seed_examples_construct_by_keyword() -> None:
    orchestrator = OrchestratorAgent(
        id=str(uuid.uuid4()),
        name="scout-report-suggest",
        description="Scouts codebase and suggests fixes",
        status="active",
    )
    agent = Agent(
        id=str(uuid.uuid4()),
        orchestrator_agent_id=orchestrator.id,
        session_id=str(uuid.uuid4()),
        status="running",
    )
    prompt = Prompt(
        id=str(uuid.uuid4()),
        agent_id=agent.id,
        content="Analyze the codebase",
        tokens_input=150,
        tokens_output=500,
        cost_usd=0.02,
    )
    log = AgentLog(
        id=str(uuid.uuid4()),
        agent_id=agent.id,
        log_type="step_start",
        message="Starting codebase analysis",
        metadata={"step": 1, "phase": "exploration"},
    )
    system = SystemLog(
        id=str(uuid.uuid4()),
        log_level="info",
        message="Orchestrator initialized successfully",
        source="orchestrator",
        metadata={"version": "0.8.0"},
    )
    assert agent.orchestrator_agent_id == orchestrator.id
    assert (prompt.tokens_input, prompt.tokens_output, prompt.cost_usd) == (150, 500, 0.02)
    assert prompt.status == "pending" and prompt.response is None and prompt.completed_at is None
    assert log.metadata == {"step": 1, "phase": "exploration"}
    assert system.source == "orchestrator"


def test_defaults() -> None:
    orchestrator = OrchestratorAgent(name="planner")
    agent = Agent(orchestrator_agent_id=orchestrator.id, session_id="adw-1234")
    assert uuid.UUID(orchestrator.id).version == 4
    assert str(uuid.UUID(orchestrator.id)) == orchestrator.id
    assert orchestrator.id != OrchestratorAgent(name="planner").id
    assert orchestrator.status == "active" and orchestrator.metadata is None
    assert orchestrator.updated_at == orchestrator.created_at
    assert agent.status == "pending" and agent.started_at is None and agent.name is None
    assert agent.session_id == "adw-1234"  # free text: the generator's ids are not UUIDs
    prompt = Prompt(agent_id=agent.id, content="x")
    assert (prompt.tokens_input, prompt.tokens_output, prompt.cost_usd) == (0, 0, 0.0)
    assert (prompt.tokens_cache_read, prompt.tokens_cache_creation) == (0, 0)
    assert (prompt.num_turns, prompt.duration_ms, prompt.models) == (0, 0, None)


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("550E8400-E29B-41D4-A716-446655440000", "550e8400-e29b-41d4-a716-446655440000"),
        ("550e8400-e29b-41d4-a716-446655440000", "550e8400-e29b-41d4-a716-446655440000"),
        (NIL, NIL),
    ],
)
def test_uuid_fields_are_canonical(given: str, stored: str) -> None:
    assert OrchestratorAgent(id=given, name="x").id == stored
    assert Agent(orchestrator_agent_id=given, session_id="s").orchestrator_agent_id == stored
    assert Prompt(agent_id=given, content="c").agent_id == stored
    assert AgentLog(agent_id=given, log_type="event", message="m").agent_id == stored
    assert SystemLog(id=given, log_level="info", message="m").id == stored


@pytest.mark.parametrize(
    "bad",
    [
        "not-a-uuid",
        "",
        "550e8400e29b41d4a716446655440000",  # no hyphens
        "{550e8400-e29b-41d4-a716-446655440000}",
        "550e8400-e29b-41d4-a716-44665544000g",
        "550e8400-e29b-41d4-a716-446655440000\n",
    ],
)
def test_invalid_uuid_message(bad: str) -> None:
    with pytest.raises(ValidationError, match="Invalid UUID format: ") as info:
        Agent(id=bad, orchestrator_agent_id=NIL, session_id="s")
    assert f"Invalid UUID format: {bad}" in str(info.value)
    with pytest.raises(ValueError, match="Invalid UUID format"):
        canonical_uuid(bad)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: OrchestratorAgent(name="x", status="deleted"), "Status must be one of"),
        (
            lambda: Agent(orchestrator_agent_id=NIL, session_id="s", status="done"),
            "Status must be one of",
        ),
        (lambda: Prompt(agent_id=NIL, content="c", status="ok"), "Status must be one of"),
        (lambda: AgentLog(agent_id=NIL, log_type="info", message="m"), "Log type must be one of"),
        (lambda: SystemLog(log_level="fatal", message="m"), "Log level must be one of"),
        (lambda: SystemLog(log_level="INFO", message="m"), "Log level must be one of"),
        (lambda: Prompt(agent_id=NIL, content="c", tokens_input=-1), "greater than or equal to 0"),
        (lambda: Prompt(agent_id=NIL, content="c", tokens_output=-5), "greater than or equal to 0"),
        (lambda: Prompt(agent_id=NIL, content="c", cost_usd=-0.01), "greater than or equal to 0"),
        (lambda: Prompt(agent_id=NIL, content="c", cost_usd=float("inf")), "finite number"),
        (lambda: Prompt(agent_id=NIL, content="c", tokens_input=2**63), "less than or equal"),
        (lambda: Prompt(agent_id=NIL, content="c", tokens_cache_read=-1), "greater than or equal"),
        (
            lambda: Prompt(agent_id=NIL, content="c", tokens_cache_creation=-1),
            "greater than or equal",
        ),
        (lambda: Prompt(agent_id=NIL, content="c", num_turns=-1), "greater than or equal to 0"),
        (lambda: Prompt(agent_id=NIL, content="c", duration_ms=-1), "greater than or equal to 0"),
        (lambda: Prompt(agent_id=NIL, content="c", models=" "), "models must not be blank"),
        (lambda: OrchestratorAgent(name=""), "at least 1 character"),
        (lambda: OrchestratorAgent(name="   "), "name must not be blank"),
        (lambda: Agent(orchestrator_agent_id=NIL, session_id=""), "at least 1 character"),
        (lambda: AgentLog(agent_id=NIL, log_type="event", message="m", extra=1), "Extra inputs"),
    ],
)
def test_validation_messages(build: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        build()


def test_every_allowed_value_is_accepted() -> None:
    for status in ("active", "inactive", "archived"):
        assert OrchestratorAgent(name="x", status=status).status == status
    for status in ("pending", "running", "completed", "failed"):
        assert Agent(orchestrator_agent_id=NIL, session_id="s", status=status).status == status
        assert Prompt(agent_id=NIL, content="c", status=status).status == status
    for log_type in ("step_start", "step_end", "event", "error"):
        assert AgentLog(agent_id=NIL, log_type=log_type, message="m").log_type == log_type
    for level in ("debug", "info", "warning", "error", "critical"):
        assert SystemLog(log_level=level, message="m").log_level == level


def test_str_enum_status_is_stored_as_plain_text() -> None:
    class Status(str, Enum):  # noqa: UP042 (str() of this kind is "Status.RUNNING": the case to test)
        RUNNING = "running"

    agent = Agent(orchestrator_agent_id=NIL, session_id="s", status=Status.RUNNING)
    assert type(agent.status) is str and agent.status == "running"


def test_assignment_is_validated() -> None:
    agent = Agent(orchestrator_agent_id=NIL, session_id="s")
    agent.status = "running"
    with pytest.raises(ValidationError, match="Status must be one of"):
        agent.status = "bogus"  # type: ignore[assignment]
    assert agent.status == "running"


def test_timestamps_are_utc_aware() -> None:
    naive = datetime(2026, 2, 4, 10, 30)
    assert Agent(orchestrator_agent_id=NIL, session_id="s", started_at=naive).started_at == (
        naive.replace(tzinfo=UTC)
    )
    plus_two = datetime(2026, 2, 4, 12, 30, tzinfo=timezone(timedelta(hours=2)))
    converted = SystemLog(log_level="info", message="m", created_at=plus_two).created_at
    assert converted.tzinfo is UTC and converted.hour == 10
    assert SystemLog(log_level="info", message="m").created_at.tzinfo is UTC
    parsed = SystemLog(log_level="info", message="m", created_at="2026-02-04T10:30:00Z")
    assert parsed.created_at == datetime(2026, 2, 4, 10, 30, tzinfo=UTC)


def test_out_of_range_timestamp_is_a_validation_error() -> None:
    early = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5)))
    with pytest.raises(ValidationError, match="out of range"):
        SystemLog(log_level="info", message="m", created_at=early)


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2026, 2, 4, 10, 30, tzinfo=UTC), "2026-02-04T10:30:00.000000+00:00"),
        (datetime(2026, 2, 4, 10, 30, 0, 5, tzinfo=UTC), "2026-02-04T10:30:00.000005+00:00"),
        (datetime(1, 1, 1, tzinfo=UTC), "0001-01-01T00:00:00.000000+00:00"),
    ],
)
def test_timestamp_text_is_fixed_width(moment: datetime, text: str) -> None:
    assert format_timestamp(moment) == text
    dumped = json.loads(
        SystemLog(log_level="info", message="m", created_at=moment).model_dump_json()
    )
    assert dumped["created_at"] == text


def test_model_dump_json_is_natural_json() -> None:
    log = AgentLog(agent_id=NIL, log_type="event", message="m", metadata={"a": [1, {"b": None}]})
    data = json.loads(log.model_dump_json())
    assert data["metadata"] == {"a": [1, {"b": None}]}
    assert data["agent_id"] == NIL and data["log_type"] == "event"
    assert (
        json.loads(AgentLog(agent_id=NIL, log_type="event", message="m").model_dump_json())[
            "metadata"
        ]
        is None
    )


def test_metadata_empty_and_none_differ() -> None:
    assert SystemLog(log_level="info", message="m", metadata={}).metadata == {}
    assert SystemLog(log_level="info", message="m").metadata is None


@pytest.mark.parametrize(
    ("metadata", "key"),
    [
        ({"when": datetime(2026, 1, 1)}, "metadata['when'] is a datetime"),
        ({"a": {"b": [1, {2, 3}]}}, "metadata['a']['b'][1] is a set"),
        ({"ratio": float("nan")}, "metadata['ratio'] is nan"),
        ({"x": {1: "one"}}, "metadata['x'] has key 1"),
        ({"blob": b"\x00"}, "metadata['blob'] is a bytes"),
    ],
)
def test_metadata_names_the_offending_key(metadata: dict[str, Any], key: str) -> None:
    with pytest.raises(ValidationError) as info:
        AgentLog(agent_id=NIL, log_type="event", message="m", metadata=metadata)
    assert key in str(info.value)


def test_metadata_is_copied_and_normalised() -> None:
    nested = {"items": (1, 2), "inner": {"k": "v"}}
    log = AgentLog(agent_id=NIL, log_type="event", message="m", metadata=nested)
    assert log.metadata == {"items": [1, 2], "inner": {"k": "v"}}
    nested["inner"]["k"] = "changed"  # type: ignore[index]
    assert log.metadata["inner"] == {"k": "v"}


def test_self_referencing_metadata_fails_cleanly() -> None:
    loop: dict[str, Any] = {}
    loop["self"] = loop
    with pytest.raises(ValidationError, match="nested deeper"):
        SystemLog(log_level="info", message="m", metadata=loop)
