"""Hypothesis: every model survives model -> SQLite row -> model unchanged, for all five tables."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from tac_bootstrap_cli._adws.adw_modules.adw_database import (
    AgentLogRepository,
    AgentRepository,
    OrchestratorAgentRepository,
    PromptRepository,
    Repository,
    SystemLogRepository,
    connect,
    init_schema,
)
from tac_bootstrap_cli._adws.adw_modules.orch_database_models import (
    LOG_LEVELS,
    LOG_TYPES,
    ORCHESTRATOR_STATUSES,
    RUN_STATUSES,
    SQLITE_MAX_INT,
    Agent,
    AgentLog,
    OrchestratorAgent,
    Prompt,
    SystemLog,
)

PARENT = "6f1c2a9e-0b5d-4c7e-9a3f-1d2e3f4a5b6c"
RUN = "0a1b2c3d-4e5f-4061-8728-394a5b6c7d8e"

ids = st.uuids().map(str) | st.uuids().map(lambda u: str(u).upper())
texts = st.text(max_size=40)  # any code point but surrogates, NUL included
optional_texts = st.none() | texts
# Any offset, any date that stays representable once converted to UTC.
moments = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)).flatmap(
    lambda d: st.sampled_from(
        [d, d.replace(tzinfo=UTC), d.replace(tzinfo=timezone(timedelta(hours=-9, minutes=-30)))]
    )
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)
metadata = st.none() | st.dictionaries(texts, json_values, max_size=4)
run_statuses = st.sampled_from(RUN_STATUSES)

MODELS: dict[str, st.SearchStrategy[Any]] = {
    "orchestrator": st.builds(
        OrchestratorAgent,
        id=ids,
        name=texts.filter(lambda s: s.strip() != ""),
        description=optional_texts,
        status=st.sampled_from(ORCHESTRATOR_STATUSES),
        metadata=metadata,
        created_at=moments,
        updated_at=moments,
    ),
    "agent": st.builds(
        Agent,
        id=ids,
        orchestrator_agent_id=st.sampled_from([PARENT, PARENT.upper()]),
        session_id=texts.filter(bool),
        name=optional_texts,
        model=optional_texts,
        status=run_statuses,
        created_at=moments,
        started_at=st.none() | moments,
        completed_at=st.none() | moments,
        metadata=metadata,
    ),
    "prompt": st.builds(
        Prompt,
        id=ids,
        agent_id=st.just(RUN),
        content=texts,
        response=optional_texts,
        status=run_statuses,
        tokens_input=st.integers(0, SQLITE_MAX_INT),
        tokens_output=st.integers(0, SQLITE_MAX_INT),
        tokens_cache_read=st.integers(0, SQLITE_MAX_INT),
        tokens_cache_creation=st.integers(0, SQLITE_MAX_INT),
        cost_usd=st.floats(0, 1e9, allow_nan=False),
        num_turns=st.integers(0, SQLITE_MAX_INT),
        duration_ms=st.integers(0, SQLITE_MAX_INT),
        models=st.none() | texts.filter(lambda text: bool(text.strip())),
        created_at=moments,
        completed_at=st.none() | moments,
    ),
    "agent_log": st.builds(
        AgentLog,
        id=ids,
        agent_id=st.just(RUN.upper()),
        log_type=st.sampled_from(LOG_TYPES),
        message=texts,
        metadata=metadata,
        created_at=moments,
    ),
    "system_log": st.builds(
        SystemLog,
        id=ids,
        log_level=st.sampled_from(LOG_LEVELS),
        message=texts,
        source=optional_texts,
        metadata=metadata,
        created_at=moments,
    ),
}
REPOSITORIES: dict[str, type[Repository[Any]]] = {
    "orchestrator": OrchestratorAgentRepository,
    "agent": AgentRepository,
    "prompt": PromptRepository,
    "agent_log": AgentLogRepository,
    "system_log": SystemLogRepository,
}


@pytest.fixture(scope="module")
def shared_conn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sqlite3.Connection]:
    """One database file for all examples, with the parent rows the children point to."""
    conn = connect(tmp_path_factory.mktemp("roundtrip") / "roundtrip.db")
    init_schema(conn)
    OrchestratorAgentRepository(conn).create(OrchestratorAgent(id=PARENT, name="parent"))
    AgentRepository(conn).create(Agent(id=RUN, orchestrator_agent_id=PARENT, session_id="s"))
    yield conn
    conn.close()


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_model_row_model_round_trip(kind: str, shared_conn: sqlite3.Connection) -> None:
    repo = REPOSITORIES[kind](shared_conn)

    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(model=MODELS[kind])
    def round_trip(model: BaseModel) -> None:
        assert repo.from_row(repo.to_row(model)) == model  # the mapping alone
        # The bulk paths give the same: rows built a column at a time, mappings validated in bulk.
        assert list(repo.to_rows([model, model])) == [repo.to_row(model)] * 2
        assert repo.validate_many([model.model_dump()]) == [model]
        repo.create(model)
        try:
            stored = repo.get(model.id)  # type: ignore[attr-defined]
            assert stored == model
            assert stored.model_dump() == model.model_dump()
        finally:
            repo.delete(model.id)  # type: ignore[attr-defined]

    round_trip()
