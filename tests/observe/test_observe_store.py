"""The observatory's queries on a real database filled through the repository API."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from observe_support import (
    BIG_RUN,
    RUN_FAILED,
    RUN_LIVE,
    RUN_OK,
    RUN_STALE,
    SESSION_ID,
    XSS_SCRIPT,
    add_event,
    big_phase,
    fill,
)

from tac_bootstrap_cli._adws.adw_modules import adw_sqlite
from tac_bootstrap_cli._adws.adw_modules.adw_logging import start_run
from tac_bootstrap_cli._adws.adw_modules.observatory import readonly as readonly_mod
from tac_bootstrap_cli._adws.adw_modules.observatory import store as store_mod
from tac_bootstrap_cli._adws.adw_modules.observatory.readonly import ObserveError, open_readonly
from tac_bootstrap_cli._adws.adw_modules.observatory.records import (
    EVENTS_PER_PAGE,
    EventCursor,
    Run,
)
from tac_bootstrap_cli._adws.adw_modules.observatory.store import Store


@pytest.fixture
def project(tmp_path: Path) -> Path:
    fill(tmp_path)
    return tmp_path


@pytest.fixture
def store(project: Path) -> Store:
    found = Store(project / "agents" / "orchestrator.db", project)
    yield found  # type: ignore[misc]
    found.close()


def _all(store: Store) -> list[Run]:
    """Every run of the (small) test database, newest first."""
    return store.runs(per_page=1000).runs


def test_runs_are_phase_agents_grouped_by_adw_id(store: Store) -> None:
    runs = {r.id: r for r in _all(store)}
    assert set(runs) == {RUN_OK, RUN_FAILED, RUN_LIVE, RUN_STALE}
    ok = runs[RUN_OK]
    assert (ok.workflow, ok.status, ok.phases) == ("plan_build", "completed", ["plan", "build"])
    assert (ok.task, ok.branch) == ("Add a health endpoint", "adw-a1b2c3d4-x")  # adw_state.json
    assert runs[RUN_FAILED].status == "failed"
    assert XSS_SCRIPT in runs[RUN_FAILED].task  # from the plan prompt's <task> block
    assert runs[RUN_LIVE].status == "running"
    assert runs[RUN_STALE].status == "stale"  # running, silent for longer than stale_after
    assert runs[RUN_LIVE].ended_at is None and ok.duration_s is not None


def test_run_totals_equal_the_sql_sums(store: Store, project: Path) -> None:
    db = project / "agents" / "orchestrator.db"
    with sqlite3.connect(db) as conn:
        for run in _all(store):
            marks = ",".join("?" * len(run.agent_ids))
            row = conn.execute(
                "SELECT count(*), coalesce(sum(tokens_input), 0), coalesce(sum(tokens_cache_read), 0),"
                " coalesce(sum(tokens_cache_creation), 0), coalesce(sum(tokens_output), 0),"
                f" coalesce(sum(cost_usd), 0) FROM prompts WHERE agent_id IN ({marks})",
                run.agent_ids,
            ).fetchone()
            t = run.totals
            assert (
                t.prompts,
                t.tokens_input,
                t.tokens_cache_read,
                t.tokens_cache_creation,
                t.tokens_output,
            ) == row[:5]
            assert round(t.cost_usd, 9) == round(row[5], 9)
    conn.close()


def test_filters_search_and_pages(store: Store) -> None:
    assert [r.id for r in store.runs(status="failed").runs] == [RUN_FAILED]
    assert {r.id for r in store.runs(workflow="plan_build").runs} == {RUN_OK, RUN_LIVE, RUN_STALE}
    assert [r.id for r in store.runs(q="HEALTH endpoint").runs] == [RUN_OK]
    assert [r.id for r in store.runs(q="adw-a1b2c3d4").runs] == [RUN_OK]  # the branch
    page = store.runs(per_page=3, page=2)
    assert (page.total, page.pages, page.page, len(page.runs)) == (4, 2, 2, 1)
    assert store.runs(per_page=3, page=99).page == 2
    assert store.runs(workflow="sdlc").workflows == ["plan_build", "sdlc"]


def test_run_detail_has_attempts_prompts_and_events_in_order(store: Store) -> None:
    detail = store.run(RUN_FAILED)
    assert detail is not None
    (phase,) = detail["phases"]
    assert [a["status"] for a in phase["attempts"]] == ["failed", "failed"]
    assert len(phase["prompts"]) == 2
    ids = [e["id"] for e in phase["events"]]
    assert ids == sorted(ids)
    blocked = [e for e in phase["events"] if e["blocked"]]
    assert blocked and blocked[0]["block_reason"] == "recursive rm of / is blocked"
    assert blocked[0]["tool_name"] == "Bash"
    ok = store.run(RUN_OK)
    assert ok is not None
    plan = ok["phases"][0]
    assert plan["prompts"][0]["raw_output"] == f"agents/{RUN_OK}/planner/raw_output.jsonl"
    assert all(e["message"] != "prompt metadata" for e in plan["events"])
    assert store.run("nope") is None


def test_sessions_and_their_events(store: Store) -> None:
    (session,) = store.sessions()
    assert (session["session_id"], session["status"], session["events"]) == (
        SESSION_ID,
        "completed",
        2,
    )
    detail = store.session(session["agent_id"])
    assert detail is not None
    assert [e["blocked"] for e in detail["events"]] == [False, True]
    assert store.session("nope") is None


def test_costs_group_totals_equal_the_database_sums(store: Store, project: Path) -> None:
    costs = store.costs()
    with sqlite3.connect(project / "agents" / "orchestrator.db") as conn:
        cost, out = conn.execute("SELECT sum(cost_usd), sum(tokens_output) FROM prompts").fetchone()
    conn.close()
    assert costs["totals"]["cost_usd"] == round(cost, 6)
    assert costs["totals"]["tokens_output"] == out
    for group in ("day", "workflow", "phase", "model"):
        assert round(sum(r["cost_usd"] for r in costs[group]), 6) == round(cost, 6), group
        assert sum(r["tokens_output"] for r in costs[group]) == out
    assert {r["key"] for r in costs["workflow"]} == {"plan_build", "sdlc"}
    assert {r["key"] for r in costs["phase"]} == {"plan", "build"}


def test_events_after_and_raw_files(store: Store, project: Path) -> None:
    last = store.last_event_id()
    assert store.events_after(last) == []
    assert [e["id"] for e in store.events_after(last - 2)] == [last - 1, last]
    assert store.raw_file(f"agents/{RUN_OK}/planner/raw_output.jsonl") is not None
    (project / "secret.txt").write_text("x", encoding="utf-8")
    (project / "agents" / RUN_OK / "notes.txt").write_text("x", encoding="utf-8")
    refused = ("secret.txt", "agents/../secret.txt", "/etc/passwd", "", "agents/orchestrator.db")
    for rel in (*refused, f"agents/{RUN_OK}/notes.txt"):
        assert store.raw_file(rel) is None, rel


def test_the_cache_follows_writes_from_other_connections(store: Store, project: Path) -> None:
    before = len(_all(store))
    run = start_run(
        project / "agents" / "orchestrator.db",
        "planner",
        orchestrator="adw",
        metadata={"adw_id": "feedf00d", "phase": "plan", "workflow": "plan"},
        strict=True,
    )
    assert len(_all(store)) == before + 1
    run.finish("failed")
    assert next(r for r in _all(store) if r.id == "feedf00d").status == "failed"


def test_the_store_never_writes_nor_blocks_writers(store: Store, project: Path) -> None:
    db = project / "agents" / "orchestrator.db"
    with store.read():  # a reader in the middle of a snapshot
        run = start_run(db, "planner", orchestrator="adw", strict=True)
        run.event("written while observed")
        run.finish()
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        open_readonly(db).execute("DELETE FROM agents")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no database at"),
        (b"this is not a database, only text" * 40, "not a readable SQLite database"),
    ],
)
def test_unreadable_files_are_one_clear_error(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    db = tmp_path / "x.db"
    if content is not None:
        db.write_bytes(content)
    with pytest.raises(ObserveError, match=message) as caught:
        Store(db)
    assert "\n" not in str(caught.value)
    if content is not None:
        assert db.read_bytes() == content


def test_foreign_newer_and_older_schemas_are_refused_untouched(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    newer = tmp_path / "newer.db"
    fill(tmp_path / "p")
    (tmp_path / "p" / "agents" / "orchestrator.db").rename(newer)
    with sqlite3.connect(newer) as conn:
        conn.execute("PRAGMA user_version = 99")
    conn.close()
    older = tmp_path / "older.db"
    with sqlite3.connect(older) as conn:
        conn.execute(f"PRAGMA application_id = {adw_sqlite.APPLICATION_ID}")
        for table in sorted(readonly_mod.TABLES):
            conn.execute(f"CREATE TABLE {table} (id)")
        conn.execute("PRAGMA user_version = 2")
    conn.close()
    for path, message in (
        (foreign, "not a tac-bootstrap run-log database"),
        (newer, "schema version 99, newer"),
        (older, "older schema version 2"),
    ):
        before = _sha(path)
        with pytest.raises(ObserveError, match=message):
            Store(path)
        assert _sha(path) == before


def test_a_running_runs_task_appears_when_its_prompt_is_written(
    store: Store, project: Path
) -> None:
    run = start_run(
        project / "agents" / "orchestrator.db",
        "planner",
        orchestrator="adw",
        metadata={"adw_id": "7a5c7a5c", "phase": "plan", "workflow": "plan"},
        strict=True,
    )
    assert next(r for r in _all(store) if r.id == "7a5c7a5c").task == ""
    run.prompt("You are the planner.\n<task>\nWrite the docs\n</task>", cost_usd=0.5)
    found = next(r for r in _all(store) if r.id == "7a5c7a5c")
    assert (found.task, found.totals.cost_usd, found.status) == ("Write the docs", 0.5, "running")
    run.finish()


def test_costs_per_model_split_prompts_by_their_model_usage(store: Store) -> None:
    models = {r["key"]: r for r in store.costs()["model"]}
    assert set(models) == {"claude-sonnet-4", "claude-haiku-4", "claude-opus-4"}
    haiku, sonnet = models["claude-haiku-4"], models["claude-sonnet-4"]
    assert (haiku["tokens_input"], haiku["tokens_output"], haiku["prompts"]) == (500, 500, 1)
    assert sonnet["tokens_output"] == 800 + 2500 and sonnet["prompts"] == 2
    assert haiku["cost_usd"] == round(0.4567 * 0.05 / 0.45, 6)
    assert round(sonnet["cost_usd"] + haiku["cost_usd"], 6) == round(0.1234 + 0.4567, 6)


def _all_events(db: Path, agent_id: str) -> list[int]:
    """Every shown event of an Agent (prompt metadata left out), in time order, by SQL."""
    conn = sqlite3.connect(db)
    try:
        return [
            r[0]
            for r in conn.execute(
                "SELECT rowid FROM agent_logs WHERE agent_id = ? AND message <> 'prompt metadata'"
                " ORDER BY created_at, rowid",
                (agent_id,),
            )
        ]
    finally:
        conn.close()


def test_a_big_phase_is_paged_and_every_event_is_reached_once(store: Store, project: Path) -> None:
    agent_id = big_phase(project, 1234)
    expected = _all_events(project / "agents" / "orchestrator.db", agent_id)
    assert len(expected) == 1236  # the events and the step's two rows
    detail = store.run(BIG_RUN)
    assert detail is not None
    (phase,) = detail["phases"]
    page = phase["events_page"]
    assert [e["id"] for e in phase["events"]] == expected[:EVENTS_PER_PAGE]
    assert (page["mode"], page["has_before"], page["has_after"]) == ("first", False, True)
    assert phase["events_total"] == len(expected)
    # Built from every row, not from the page: the step's end and the prompt's metadata (its
    # raw output link, its two models without per-model usage) lie beyond the first page.
    assert [(a["name"], a["status"]) for a in phase["attempts"]] == [
        ("build attempt 1", "completed")
    ]
    (prompt,) = phase["prompts"]
    assert prompt["raw_output"] == f"agents/{BIG_RUN}/builder/raw_output.jsonl"
    assert (prompt["models_label"], prompt["per_model"]) == ("claude-opus-4 + claude-haiku-4", None)
    seen: list[int] = []
    cursor = EventCursor()
    while True:  # forwards with ?after=, to the end
        detail = store.run(BIG_RUN, cursor)
        assert detail is not None
        (phase,) = detail["phases"]
        seen += [e["id"] for e in phase["events"]]
        if not phase["events_page"]["has_after"]:
            break
        cursor = EventCursor(agent_id=agent_id, after=phase["events_page"]["after"])
    assert seen == expected
    back: list[int] = []
    cursor = EventCursor(agent_id=agent_id, latest=True)
    while True:  # backwards from the latest with ?before=
        detail = store.run(BIG_RUN, cursor)
        assert detail is not None
        (phase,) = detail["phases"]
        back = [e["id"] for e in phase["events"]] + back
        if not phase["events_page"]["has_before"]:
            break
        cursor = EventCursor(agent_id=agent_id, before=phase["events_page"]["before"])
    assert back == expected


def test_the_latest_page_follows_new_events_and_the_count_with_it(
    store: Store, project: Path
) -> None:
    db = project / "agents" / "orchestrator.db"
    agent_id = big_phase(project, 700)
    latest = EventCursor(agent_id=agent_id, latest=True)
    before = store.run(BIG_RUN, latest)
    assert before is not None
    total = before["phases"][0]["events_total"]
    for i in range(3):
        add_event(db, agent_id, f"appended {i}")
    detail = store.run(BIG_RUN, latest)
    assert detail is not None
    (phase,) = detail["phases"]
    assert [e["message"] for e in phase["events"][-3:]] == [f"appended {i}" for i in range(3)]
    assert len(phase["events"]) == EVENTS_PER_PAGE and phase["events_total"] == total + 3
    assert [e["id"] for e in phase["events"]] == _all_events(db, agent_id)[-EVENTS_PER_PAGE:]
    # A page after a cursor grows at its end until it is full.
    last = phase["events"][-1]["id"]
    after = store.run(BIG_RUN, EventCursor(agent_id=agent_id, after=last))
    assert after is not None and after["phases"][0]["events"] == []
    add_event(db, agent_id, "one more")
    after = store.run(BIG_RUN, EventCursor(agent_id=agent_id, after=last))
    assert after is not None
    assert [e["message"] for e in after["phases"][0]["events"]] == ["one more"]


def test_a_cursor_of_another_phase_or_unknown_id_shows_the_first_page(store: Store) -> None:
    detail = store.run(RUN_OK)
    assert detail is not None
    plan, build = detail["phases"]
    foreign = build["events"][0]["id"]
    for cursor in (
        EventCursor(agent_id=plan["agent_id"], after=foreign),  # an event of another phase
        EventCursor(agent_id=plan["agent_id"], before=10**9),
    ):
        again = store.run(RUN_OK, cursor)
        assert again is not None
        assert again["phases"][0]["events"] == plan["events"]
        assert again["phases"][0]["events_page"]["mode"] == "first"
    small = store.run(RUN_OK, EventCursor(limit=1))
    assert small is not None and len(small["phases"][0]["events"]) == 1
    huge = store.run(RUN_OK, EventCursor(limit=10**9))
    assert huge is not None and huge["phases"][0]["events_page"]["limit"] == 5000


def test_a_prompt_of_several_models_without_usage_is_shown_whole(
    store: Store, project: Path
) -> None:
    big_phase(project, 10)  # one prompt of claude-opus-4 and claude-haiku-4, no model_usage
    costs = store.costs()
    models = {r["key"]: r for r in costs["model"]}
    mixed = models["claude-haiku-4 + claude-opus-4"]
    assert mixed["mixed"] and (mixed["prompts"], mixed["cost_usd"], mixed["tokens_output"]) == (
        1,
        0.5,
        20,
    )
    assert not models["claude-opus-4"]["mixed"]
    assert (costs["models_split"], costs["models_mixed"]) == (1, 1)
    assert round(sum(r["cost_usd"] for r in costs["model"]), 6) == costs["totals"]["cost_usd"]
    assert sum(r["tokens_output"] for r in costs["model"]) == costs["totals"]["tokens_output"]
    detail = store.run(RUN_OK)
    assert detail is not None
    (build_prompt,) = detail["phases"][1]["prompts"]
    assert build_prompt["models_label"] == "claude-sonnet-4 + claude-haiku-4"
    split = {m["model"]: m for m in build_prompt["per_model"]}
    assert (split["claude-haiku-4"]["tokens_input"], split["claude-sonnet-4"]["tokens_output"]) == (
        500,
        2500,
    )
    assert round(sum(m["cost_usd"] for m in split.values()), 9) == 0.4567


def test_the_usage_written_after_its_prompt_splits_it_then(store: Store, project: Path) -> None:
    run = start_run(
        project / "agents" / "orchestrator.db",
        "builder",
        orchestrator="adw",
        metadata={"adw_id": "5011d000", "phase": "build", "workflow": "plan_build"},
        strict=True,
    )
    record = run.prompt("build it", cost_usd=1.0, tokens_output=100, models=["m-a", "m-b"])
    assert record is not None
    models = {r["key"]: r for r in store.costs()["model"]}
    assert models["m-a + m-b"]["cost_usd"] == 1.0  # whole, until the usage is there
    usage = {"m-a": {"output": 60, "cost_usd": 0.75}, "m-b": {"output": 40, "cost_usd": 0.25}}
    run.event("prompt metadata", prompt_id=record.id, model_usage=usage)
    models = {r["key"]: r for r in store.costs()["model"]}
    assert "m-a + m-b" not in models
    assert (models["m-a"]["cost_usd"], models["m-b"]["tokens_output"]) == (0.75, 40)
    other = run.prompt("again", cost_usd=2.0, models=["m-a", "m-b"])  # never gets its usage
    assert other is not None
    run.finish()
    models = {r["key"]: r for r in store.costs()["model"]}
    assert models["m-a + m-b"]["cost_usd"] == 2.0 and models["m-a + m-b"]["mixed"]
    assert store.costs()["models_mixed"] == 1


def test_a_long_session_is_paged_like_a_phase(store: Store, project: Path) -> None:
    db = project / "agents" / "orchestrator.db"
    (session,) = store.sessions()
    for i in range(EVENTS_PER_PAGE + 50):
        add_event(db, session["agent_id"], f"session event {i}")
    first = store.session(session["agent_id"])
    assert first is not None
    assert len(first["events"]) == EVENTS_PER_PAGE and first["events_page"]["has_after"]
    assert first["events_total"] == EVENTS_PER_PAGE + 52  # with the two events of fill()
    latest = store.session(session["agent_id"], EventCursor(latest=True))
    assert latest is not None
    assert latest["events"][-1]["message"] == f"session event {EVENTS_PER_PAGE + 49}"
    assert store.sessions()[0]["events"] == EVENTS_PER_PAGE + 52
    assert store.sessions(limit=1, offset=1) == []


def _shown(store: Store) -> list[dict[str, object]]:
    """The run list as the API shows it, without what moves with the clock."""
    return [{k: v for k, v in r.as_dict().items() if k != "duration_s"} for r in _all(store)]


@pytest.mark.usefixtures("store")  # the project's database, seeded
def test_the_adw_id_index_is_used_and_changes_no_answer(project: Path, tmp_path: Path) -> None:
    """The schema's index on the adw_id expression (migration 4, the exact text of
    readonly_mod.RUN_INDEX_SQL) turns the store's run lookups into index searches, with the same
    answers as the scans of a database without it (one written before migration 4 ran)."""
    schema = (
        Path(store_mod.__file__).parents[2] / "schema" / "schema_orchestrator.sql"
    ).read_text()
    assert readonly_mod.RUN_INDEX_SQL + ";" in schema  # one expression: the index is used only then
    db = project / "agents" / "orchestrator.db"
    start_run(db, "init", orchestrator="tac-bootstrap", metadata={"target": "demo"}).finish()
    copy = tmp_path / "unindexed.db"
    src, dst = sqlite3.connect(db), sqlite3.connect(copy)
    src.backup(dst)
    src.close()
    dst.execute("DROP INDEX idx_agents_adw_id")
    dst.commit()
    dst.close()
    indexed, scanned = Store(db, project), Store(copy, project)
    try:
        with indexed.read() as conn:
            assert indexed._run_index(conn)
            plan = " ".join(
                str(r[-1])
                for r in conn.execute(
                    f"EXPLAIN QUERY PLAN {store_mod._LIST_INDEXED_SQL}", {"limit": 1, "offset": 0}
                )
            )
            assert "USING INDEX idx_agents_adw_id" in plan
        with scanned.read() as conn:
            assert not scanned._run_index(conn)
        assert _shown(indexed) == _shown(scanned)
        assert [r.task for r in _all(scanned)].count("demo") == 1  # a run of its own, no adw_id
        for run in _all(scanned):
            mine, theirs = scanned.run(run.id), indexed.run(run.id)
            assert mine is not None and theirs is not None
            assert mine["phases"] == theirs["phases"], run.id
        assert scanned.runs(workflow="sdlc").total == indexed.runs(workflow="sdlc").total == 1
    finally:
        indexed.close()
        scanned.close()


def test_search_reads_the_task_index_of_migration_5(store: Store, project: Path) -> None:
    """A search reads the prompts' task text from the schema's index (migration 5, the exact text
    of readonly_mod.TASK_INDEX_SQL), never their content, with the semantics of a LIKE over the
    <task> block: case-insensitive (ASCII), wildcards match themselves, text outside it not."""
    schema = (
        Path(store_mod.__file__).parents[2] / "schema" / "schema_orchestrator.sql"
    ).read_text()
    assert readonly_mod.TASK_INDEX_SQL + ";" in schema
    db = project / "agents" / "orchestrator.db"
    run = start_run(
        db,
        "planner",
        orchestrator="adw",
        metadata={"adw_id": "5ea5c400", "phase": "plan", "workflow": "plan"},
        strict=True,
    )
    run.prompt("Plan carefully.\n<task>\nRaise 100% of the_limit\n</task>\nAfter ZEBRA", cost_usd=0)
    run.prompt("Plan.\n<task>\nunclosed QUAGGA", cost_usd=0)
    run.finish()
    with store.read() as conn:
        plan = " ".join(
            str(r[-1])
            for r in conn.execute(f"EXPLAIN QUERY PLAN {store_mod._TASK_SEARCH_SQL}", {"q": ""})
        )
        assert "USING INDEX idx_prompts_task" in plan  # (a covering scan: content is not read)

    def found(q: str) -> list[str]:
        return [r.id for r in store.runs(q=q).runs]

    assert found("100% OF THE_LIMIT") == ["5ea5c400"]
    assert found("raise 100") == ["5ea5c400"]
    assert found("1000") == found("the-limit") == found("100%%") == []  # no wildcards
    assert found("zebra") == found("quagga") == []  # outside a closed <task> block
    assert found("plan carefully") == []


@pytest.mark.parametrize(
    "q", ["health", "HEALTH endpoint", "plan", "plan build", "a1b2", "demo", "adw-a1b2c3d4", "?"]
)
def test_a_narrowed_search_finds_what_grouping_every_agent_finds(
    store: Store, project: Path, q: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A search first narrows the Agents by a piece of its text (store._search_scope); the
    answer is the one of the search over every Agent (a text across fields included)."""
    narrowed = [r.id for r in store.runs(q=q, per_page=2, page=1).runs], store.runs(q=q).total
    fresh = Store(project / "agents" / "orchestrator.db", project)
    monkeypatch.setattr(store_mod, "SCOPE_RUNS_MAX", -1)
    try:
        whole = [r.id for r in fresh.runs(q=q, per_page=2, page=1).runs], fresh.runs(q=q).total
        assert narrowed == whole
        assert fresh.runs(q=q).workflows == store.runs(q=q).workflows
    finally:
        fresh.close()
