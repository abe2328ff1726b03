"""The team view: the observatory's store over PostgreSQL answers as over the local file.

Each test takes ``team`` on both backends: the seeded SQLite file itself, and the same file
shipped by ``adw_sync`` (the real path) to the tests' real PostgreSQL server, the store opened on
its URL. The answers are compared with the SQLite store's and with the file's SQL sums."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from observe_support import (
    RUN_FAILED,
    RUN_LIVE,
    RUN_OK,
    RUN_STALE,
    SESSION_ID,
    XSS_SCRIPT,
    fill,
    serve,
)

from tac_bootstrap_cli._adws.adw_modules import adw_sync
from tac_bootstrap_cli._adws.adw_modules.adw_logging import start_run
from tac_bootstrap_cli._adws.adw_modules.observatory.dialect import (
    PG_SCOPE_INDEX_SQL,
    PG_SCOPE_TEXT_SQL,
    SqlTranslationError,
    to_postgres,
)
from tac_bootstrap_cli._adws.adw_modules.observatory.listing import _SCOPE_RUNS_SQL
from tac_bootstrap_cli._adws.adw_modules.observatory.readonly import ObserveError
from tac_bootstrap_cli._adws.adw_modules.observatory.store import Store


@dataclass
class Team:
    """A seeded project, its local store, and the store under test (``local`` on SQLite)."""

    project: Path
    db: Path
    local: Store
    store: Store
    backend: str


@pytest.fixture(params=["sqlite", "postgres"])
def team(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Team]:
    fill(tmp_path)
    db = tmp_path / "agents" / "orchestrator.db"
    local = Store(db, tmp_path)
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        adw_sync.sync(db, url)
        store = Store(url, tmp_path)
    else:
        store = local
    yield Team(tmp_path, db, local, store, request.param)
    if store is not local:
        store.close()
    local.close()


def _sums(db: Path, where: str = "", args: tuple[Any, ...] = ()) -> tuple[Any, ...]:
    conn = sqlite3.connect(db)
    try:
        return tuple(
            conn.execute(
                "SELECT count(*), coalesce(sum(tokens_input), 0), coalesce(sum(tokens_output), 0),"
                f" coalesce(sum(cost_usd), 0) FROM prompts {where}",
                args,
            ).fetchone()
        )
    finally:
        conn.close()


def _no_ids(value: Any) -> Any:
    """An answer without what differs by backend: event ids (each table's own rowids), the
    durations of open runs (the clock moves) and the machine (the server's alone)."""
    if isinstance(value, dict):
        skip = {"id", "before", "after", "duration_s", "machine"}
        return {k: _no_ids(v) for k, v in value.items() if k not in skip}
    if isinstance(value, list):
        return [_no_ids(v) for v in value]
    return value


def test_the_run_list_groups_statuses_tasks_and_totals(team: Team) -> None:
    runs = {r.id: r for r in team.store.runs(per_page=1000).runs}
    assert set(runs) == {RUN_OK, RUN_FAILED, RUN_LIVE, RUN_STALE}
    ok = runs[RUN_OK]
    assert (ok.workflow, ok.status, ok.phases) == ("plan_build", "completed", ["plan", "build"])
    assert (ok.task, ok.branch) == ("Add a health endpoint", "adw-a1b2c3d4-x")
    assert runs[RUN_FAILED].status == "failed" and XSS_SCRIPT in runs[RUN_FAILED].task
    assert (runs[RUN_LIVE].status, runs[RUN_STALE].status) == ("running", "stale")
    for run in runs.values():
        marks = ",".join("?" * len(run.agent_ids))
        n, ti, tout, cost = _sums(team.db, f"WHERE agent_id IN ({marks})", tuple(run.agent_ids))
        t = run.totals
        assert (t.prompts, t.tokens_input, t.tokens_output) == (n, ti, tout)
        assert round(t.cost_usd, 2) == round(cost, 2)
    local = [_no_ids(r.as_dict()) for r in team.local.runs(per_page=1000).runs]
    assert [_no_ids(r.as_dict()) for r in team.store.runs(per_page=1000).runs] == local


def test_filters_search_and_pages(team: Team) -> None:
    store = team.store
    assert [r.id for r in store.runs(status="failed").runs] == [RUN_FAILED]
    assert [r.id for r in store.runs(status="stale").runs] == [RUN_STALE]
    assert {r.id for r in store.runs(workflow="plan_build").runs} == {RUN_OK, RUN_LIVE, RUN_STALE}
    assert [r.id for r in store.runs(q="HEALTH endpoint").runs] == [RUN_OK]  # the task
    assert [r.id for r in store.runs(q="adw-a1b2c3d4").runs] == [RUN_OK]  # the branch
    assert [r.id for r in store.runs(q="sdlc").runs] == [
        r.id for r in team.local.runs(q="sdlc").runs
    ]
    assert store.runs(q="<script>").total == team.local.runs(q="<script>").total == 1
    for text in ("100%", "a_b", "\\", "health_"):  # LIKE's wildcards and escape match themselves
        assert [r.id for r in store.runs(q=text).runs] == [
            r.id for r in team.local.runs(q=text).runs
        ]
    page = store.runs(per_page=3, page=2)
    assert (page.total, page.pages, page.page, len(page.runs)) == (4, 2, 2, 1)
    assert store.runs(per_page=3, page=99).page == 2
    assert store.runs(workflow="sdlc").workflows == ["plan_build", "sdlc"]


def test_the_run_page_equals_the_local_one(team: Team) -> None:
    for run_id in (RUN_OK, RUN_FAILED, RUN_LIVE, RUN_STALE):
        detail = team.store.run(run_id)
        assert detail is not None
        assert _no_ids(detail) == _no_ids(team.local.run(run_id))
    failed = team.store.run(RUN_FAILED)
    assert failed is not None
    (phase,) = failed["phases"]
    assert [a["status"] for a in phase["attempts"]] == ["failed", "failed"]
    blocked = [e for e in phase["events"] if e["blocked"]]
    assert blocked[0]["block_reason"] == "recursive rm of / is blocked"
    ids = [e["id"] for e in phase["events"]]
    # Ids are each table's rowids: on the server, the order rows arrived in (by sync batch).
    assert len(set(ids)) == len(ids) and (team.backend == "postgres" or ids == sorted(ids))
    for unknown in ("nope", "00000000-0000-0000-0000-000000000000", "'; DROP TABLE agents; --"):
        assert team.store.run(unknown) is None


def test_sessions_and_their_events(team: Team) -> None:
    (session,) = team.store.sessions()
    assert (session["session_id"], session["status"], session["events"]) == (
        SESSION_ID,
        "completed",
        2,
    )
    detail = team.store.session(session["agent_id"])
    assert detail is not None and [e["blocked"] for e in detail["events"]] == [False, True]
    assert _no_ids(detail) == _no_ids(team.local.session(session["agent_id"]))
    assert team.store.session("nope") is None


def test_costs_totals_to_the_cent(team: Team) -> None:
    costs = team.store.costs(wait=None)
    assert costs is not None
    n, ti, tout, cost = _sums(team.db)
    totals = costs["totals"]
    assert (totals["prompts"], totals["tokens_input"], totals["tokens_output"]) == (n, ti, tout)
    assert round(totals["cost_usd"], 2) == round(cost, 2)
    local = team.local.costs(wait=None)
    assert local is not None
    for group in ("day", "workflow", "phase", "model"):
        mine = {r["key"]: (r["prompts"], round(r["cost_usd"], 2)) for r in costs[group]}
        assert mine == {r["key"]: (r["prompts"], round(r["cost_usd"], 2)) for r in local[group]}


def test_new_rows_move_the_stamp_and_reach_the_page(team: Team) -> None:
    stamp = team.store.stamp()
    run = start_run(
        team.db,
        "planner",
        orchestrator="adw",
        strict=True,
        metadata={"adw_id": "7e407e40", "phase": "plan", "workflow": "plan"},
    )
    run.prompt("<task>\nShip the team view\n</task>", cost_usd=0.25)
    run.finish()
    if team.backend == "postgres":
        adw_sync.sync(team.db, team.store.source.url)  # type: ignore[attr-defined]
    assert team.store.stamp() != stamp
    found = team.store.runs(q="team view").runs
    assert [(r.id, r.task, r.totals.cost_usd) for r in found] == [
        ("7e407e40", "Ship the team view", 0.25)
    ]


def test_the_search_narrowing_is_an_index_search_on_the_server(
    tmp_path: Path, postgres_url: str
) -> None:
    """The narrowing's translation tests the text idx_agents_search holds (the planner, seq scans
    off, reads that index) and finds the runs SQLite finds, wildcards and escape included."""
    import psycopg

    db = fill(tmp_path)
    adw_sync.sync(db, postgres_url)
    assert PG_SCOPE_TEXT_SQL in to_postgres(_SCOPE_RUNS_SQL)
    local = sqlite3.connect(db)
    with psycopg.connect(postgres_url, autocommit=True) as pg:
        # The index of sync migration 3 (made here while a server may lack it: the same name).
        pg.execute(PG_SCOPE_INDEX_SQL.replace("INDEX", "INDEX IF NOT EXISTS", 1))
        pg.execute("SET enable_seqscan = off")  # a handful of rows: else a scan is cheaper
        plan = pg.execute(f"EXPLAIN {to_postgres(_SCOPE_RUNS_SQL)}", {"piece": "b2c3d4"})
        assert "idx_agents_search" in "\n".join(r[0] for r in plan)
        for piece in ("b2c3d4", "plan_build", "sdlc", "builder", "_", "%", "a_b", "100%", "zz"):
            found = pg.execute(to_postgres(_SCOPE_RUNS_SQL), {"piece": piece}).fetchall()
            expected = local.execute(_SCOPE_RUNS_SQL, {"piece": piece}).fetchall()
            assert sorted(found) == sorted(expected), piece
    local.close()


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM agents WHERE rowid IN (SELECT value FROM json_each(?)) LIMIT 1",
        "SELECT json_group_array(id) FROM agents",
        "SELECT id FROM agents WHERE instr(x, 'a') > 0 AND json_type(metadata) = 'object'",
        "PRAGMA data_version",
    ],
)
def test_the_translation_refuses_sqlite_it_does_not_know(sql: str) -> None:
    if "json_group_array" in sql or "json_type" in sql:
        with pytest.raises(SqlTranslationError):
            to_postgres(
                sql.replace("json_group_array", "json_each").replace("json_type", "json_extract")
            )
    elif sql.startswith("PRAGMA"):
        with pytest.raises(SqlTranslationError):
            to_postgres(sql)
    else:
        assert "bigint[]" in to_postgres(sql) and "%s" in to_postgres(sql)


def test_a_missing_server_or_schema_is_one_error_without_the_password(postgres_url: str) -> None:
    with pytest.raises(ObserveError, match="holds no tac-bootstrap run log"):
        Store(postgres_url)
    closed = "postgresql://someone:s3cret@127.0.0.1:1/nothing?connect_timeout=2"
    with pytest.raises(ObserveError) as caught:
        Store(closed)
    assert "s3cret" not in str(caught.value) and "127.0.0.1" in str(caught.value)


def test_the_local_view_never_imports_psycopg(tmp_path: Path) -> None:
    fill(tmp_path)
    code = (
        "import sys; from pathlib import Path\n"
        "from tac_bootstrap_cli._adws.adw_modules.observatory.store import Store\n"
        "from tac_bootstrap_cli._adws.adw_modules.observatory import app, server\n"
        f"s = Store(Path({str(tmp_path / 'agents' / 'orchestrator.db')!r})); s.runs(); s.costs(None)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'psycopg' or m.endswith('pgread'))\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def _second_machine(root: Path) -> Path:
    """Another clone's log: one run of its own."""
    db = root / "agents" / "orchestrator.db"
    db.parent.mkdir(parents=True)
    run = start_run(
        db,
        "builder",
        orchestrator="adw",
        strict=True,
        metadata={"adw_id": "b0b0b0b0", "phase": "build", "workflow": "build"},
    )
    run.prompt("<task>\nFix the login page\n</task>", cost_usd=1.5)
    run.finish()
    return db


def test_the_served_team_view_shows_both_machines_runs(tmp_path: Path, postgres_url: str) -> None:
    first = tmp_path / "laptop"
    fill(first)
    second = _second_machine(tmp_path / "ci")
    adw_sync.sync(first / "agents" / "orchestrator.db", postgres_url)
    adw_sync.sync(second, postgres_url)
    with serve(str(first), "--team", env={"TAC_DB_URL": postgres_url}) as server:
        data = server.json("/api/runs?per_page=100")
        ids = {r["id"]: r for r in data["runs"]}
        assert set(ids) == {RUN_OK, RUN_FAILED, RUN_LIVE, RUN_STALE, "b0b0b0b0"}
        machines = {r["machine"] for r in data["runs"]}
        assert len(machines) == 1 and None not in machines  # one host, named
        _, _, page = server.get("/")
        assert "b0b0b0b0" in page and "Fix the login page" in page
        assert next(iter(machines)) in page
        costs = server.json("/api/costs")
        while costs.get("computing"):
            costs = server.json("/api/costs")
        assert round(costs["totals"]["cost_usd"], 2) == round(
            _sums(first / "agents" / "orchestrator.db")[3] + 1.5, 2
        )
