"""``tac-bootstrap observe`` as a real server in a subprocess: API against SQL, headers, safety,
the event stream and the command's errors."""

from __future__ import annotations

import html
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from observe_support import (
    BIG_RUN,
    RUN_FAILED,
    RUN_OK,
    XSS_IMG,
    XSS_SCRIPT,
    Server,
    add_event,
    big_phase,
    fill,
    serve,
)

from tac_bootstrap_cli._adws.adw_modules.observatory.records import EVENTS_PER_PAGE


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("observed")
    fill(root)
    return root


@pytest.fixture(scope="module")
def server(project: Path) -> Iterator[Server]:
    with serve(str(project)) as running:
        yield running


def _sql(project: Path, sql: str, *args: object) -> tuple[object, ...]:
    conn = sqlite3.connect(project / "agents" / "orchestrator.db")
    try:
        return tuple(conn.execute(sql, args).fetchone())
    finally:
        conn.close()


def test_api_runs_and_costs_equal_the_sql_sums(server: Server, project: Path) -> None:
    data = server.json("/api/runs?per_page=100")
    assert data["total"] == len(data["runs"]) == 4
    cost, ti, tcr, tcc, tout = _sql(
        project,
        "SELECT sum(cost_usd), sum(tokens_input), sum(tokens_cache_read),"
        " sum(tokens_cache_creation), sum(tokens_output) FROM prompts",
    )
    runs_cost = sum(r["totals"]["cost_usd"] for r in data["runs"])
    assert round(runs_cost, 2) == round(float(cost), 2)  # type: ignore[arg-type]
    assert sum(r["totals"]["tokens_output"] for r in data["runs"]) == tout
    costs = server.json("/api/costs")
    totals = costs["totals"]
    assert totals["cost_usd"] == round(float(cost), 6)  # type: ignore[arg-type]
    assert (totals["tokens_input"], totals["tokens_cache_read"]) == (ti, tcr)
    assert (totals["tokens_cache_creation"], totals["tokens_output"]) == (tcc, tout)
    per_model = {r["key"]: r["cost_usd"] for r in costs["model"]}
    assert set(per_model) == {"claude-sonnet-4", "claude-haiku-4", "claude-opus-4"}
    assert round(sum(per_model.values()), 6) == totals["cost_usd"]
    run = server.json(f"/api/runs/{RUN_OK}")
    assert [p["phase"] for p in run["phases"]] == ["plan", "build"]
    assert server.get("/api/runs/ffffffff")[0] == 404
    assert server.json("/api/runs?status=failed")["runs"][0]["id"] == RUN_FAILED


def test_api_events_after_an_id(server: Server, project: Path) -> None:
    (last,) = _sql(project, "SELECT max(rowid) FROM agent_logs")
    events = server.json(f"/api/events?after={int(last) - 3}")["events"]  # type: ignore[call-overload]
    assert [e["id"] for e in events] == [int(last) - 2, int(last) - 1, int(last)]  # type: ignore[call-overload]
    assert server.json(f"/api/events?after={last}")["events"] == []


def test_every_page_has_the_security_headers_and_escapes_content(server: Server) -> None:
    for path in ("/", f"/runs/{RUN_FAILED}", "/sessions", "/costs", "/static/observe.js", "/nope"):
        status, headers, body = server.get(path)
        assert status == (404 if path == "/nope" else 200), path
        csp = headers["content-security-policy"]
        assert "default-src 'self'" in csp and "unsafe-inline" not in csp, path
        assert headers["x-content-type-options"] == "nosniff"
        assert XSS_SCRIPT not in body and XSS_IMG not in body, path
    _, _, body = server.get(f"/runs/{RUN_FAILED}")
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in body
    assert "<script" not in body.replace('<script src="/static/observe.js" defer></script>', "")
    assert "blocked: recursive rm of / is blocked" in body


def test_what_a_live_page_asks_the_api_for(server: Server, project: Path) -> None:
    """The pages' script updates from these: a run without its event pages (plus its chart's
    scene), the events of given Agents after an id, the costs with their charts' scenes."""
    run = server.json(f"/api/runs/{RUN_FAILED}?events=0")
    (phase,) = run["phases"]
    assert phase["events"] == [] and phase["events_page"] is None and phase["events_total"] > 0
    assert len(phase["prompts"]) == 2 and [a["status"] for a in phase["attempts"]] == ["failed"] * 2
    gantt = run["gantt"]
    assert gantt["class"] == "gantt"
    assert {i["tag"] for i in gantt["items"]} == {"line", "rect", "text"}
    assert sum(i["attrs"]["class"].startswith("attempt") for i in gantt["items"]) == 2
    ok = server.json(f"/api/runs/{RUN_OK}")
    plan, build = (p["agent_id"] for p in ok["phases"])
    both = server.json(f"/api/events?after=0&agent={plan}&agent={build}")["events"]
    only = server.json(f"/api/events?after=0&agent={build}")["events"]
    assert {e["agent_id"] for e in both} == {plan, build}
    assert only == [e for e in both if e["agent_id"] == build]
    assert server.json(f"/api/events?after={both[-1]['id']}&agent={build}")["events"] == []
    costs = server.json("/api/costs")
    assert costs["computing"] is False
    assert set(costs["charts"]) == {"day", "workflow", "phase", "model"}
    labels = {i.get("text") for i in costs["charts"]["workflow"]["items"]}
    assert {"plan_build", "sdlc"} <= labels
    # A page names the newest event id it was painted with: the script asks for those after it.
    (last,) = _sql(project, "SELECT max(rowid) FROM agent_logs")
    _, _, body = server.get(f"/runs/{RUN_OK}")
    match = re.search(r'<main id="main" data-page="run" data-after="(\d+)"', body)
    assert match is not None and int(match.group(1)) >= int(last)  # type: ignore[call-overload]


def test_raw_output_only_inside_agents(server: Server, project: Path) -> None:
    status, headers, body = server.get(f"/raw?path=agents/{RUN_OK}/planner/raw_output.jsonl")
    assert status == 200 and headers["content-type"].startswith("text/plain")
    assert '"result":"done"' in body
    (project / "private.txt").write_text("secret", encoding="utf-8")
    for path in ("private.txt", "agents/../private.txt", "/etc/passwd", "agents/orchestrator.db"):
        status, _, body = server.get("/raw?path=" + urllib.request.quote(path))
        assert status == 404 and "secret" not in body, path


def test_a_foreign_host_header_is_refused(server: Server) -> None:
    status, _, _ = server.get("/", {"Host": "attacker.example"})
    assert status == 400


def test_the_stream_pushes_new_events(server: Server, project: Path) -> None:
    (agent_id,) = _sql(
        project, "SELECT id FROM agents WHERE json_extract(metadata, '$.adw_id') = ?", RUN_OK
    )
    with urllib.request.urlopen(server.url + "api/stream", timeout=10) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert stream.readline().startswith(b"event: hello")
        stream.readline(), stream.readline()
        started = time.monotonic()
        add_event(project / "agents" / "orchestrator.db", str(agent_id), "PreToolUse: Grep pushed")
        (newest,) = _sql(project, "SELECT max(rowid) FROM agent_logs")
        while True:
            line = stream.readline()
            if line.startswith(b"data:") and json.loads(line[5:])["after"] >= newest:
                break
        assert time.monotonic() - started < 1.0


def _observe(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tac_bootstrap_cli", "observe", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def test_missing_corrupt_and_newer_databases_exit_1_with_one_line(tmp_path: Path) -> None:
    missing = _observe(str(tmp_path))
    assert missing.returncode == 1
    assert missing.stderr.startswith("error: no database at ") and missing.stderr.count("\n") == 1
    (tmp_path / "agents").mkdir()
    (tmp_path / "agents" / "orchestrator.db").write_bytes(b"garbage!" * 200)
    corrupt = _observe(str(tmp_path))
    assert corrupt.returncode == 1 and corrupt.stderr.count("\n") == 1
    assert "not a readable SQLite database" in corrupt.stderr
    newer = tmp_path / "newer"
    db = fill(newer)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA user_version = 42")
    conn.close()
    result = _observe(str(newer))
    assert result.returncode == 1 and "newer than this tac-bootstrap reads" in result.stderr


def test_config_database_path_is_followed(tmp_path: Path) -> None:
    src = sqlite3.connect(fill(tmp_path / "made"))
    dst = sqlite3.connect(tmp_path / "elsewhere.db")
    src.backup(dst)  # the live runs' connections are still open: their WAL must come along
    src.close()
    dst.close()
    (tmp_path / "config.yml").write_text(
        "project:\n  name: x\n  language: python\ndatabase:\n  path: elsewhere.db\n",
        encoding="utf-8",
    )
    with serve(str(tmp_path)) as running:
        assert running.json("/api/runs")["total"] == 4


def test_history_observes_the_generators_own_runs(tmp_path: Path) -> None:
    history = tmp_path / "history.db"
    env = {"TAC_BOOTSTRAP_DB": str(history)}
    made = subprocess.run(
        [sys.executable, "-m", "tac_bootstrap_cli", "init", "demo", "-o", str(tmp_path), "--yes"],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    with serve("--history", env=env) as running:
        runs = running.json("/api/runs")["runs"]
        assert [(r["workflow"], r["status"]) for r in runs] == [("init", "completed")]
        assert runs[0]["task"].endswith("demo")
        status, _, body = running.get(f"/runs/{runs[0]['id']}")
        assert status == 200 and "init" in body


def test_another_host_is_warned_about(tmp_path: Path) -> None:
    fill(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tac_bootstrap_cli", "observe", str(tmp_path), "--host", "0.0.0.0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert line.startswith("warning: listening on 0.0.0.0")
    finally:
        proc.terminate()
        proc.wait(10)


def test_report_is_one_self_contained_file(tmp_path: Path) -> None:
    project = tmp_path / "p"
    db = fill(project)
    out = tmp_path / "report.html"
    made = _observe(str(project), "--report", str(out))
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip() == f"report: {out} (4 runs in detail)"
    html = out.read_text(encoding="utf-8")
    assert "default-src 'none'" in html  # the file's own CSP: no script, no load
    assert re.findall(r"<script|<link|<img|<iframe|<[a-z][^>]*\ssrc=", html) == []
    assert re.findall(r'href="(?!#)', html) == []  # every link is an anchor of this file
    for anchor in (f"run-{RUN_OK}", f"run-{RUN_FAILED}", "sessions", "costs"):
        assert f'id="{anchor}"' in html
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    conn = sqlite3.connect(db)
    (cost,) = conn.execute("SELECT sum(cost_usd) FROM prompts").fetchone()
    conn.close()
    assert f'id="total-cost">${cost:,.2f}<' in html


def test_ctrl_c_stops_cleanly_with_a_stream_open(tmp_path: Path) -> None:
    fill(tmp_path)
    with serve(str(tmp_path)) as running:
        stream = urllib.request.urlopen(running.url + "api/stream", timeout=10)
        assert stream.readline().startswith(b"event: hello")
        started = time.monotonic()
        running.proc.send_signal(signal.SIGINT)
        code = running.proc.wait(10)
        stream.close()
        assert code == 0 and time.monotonic() - started < 3
        assert "Traceback" not in running.proc.stderr.read()  # type: ignore[union-attr]


def test_a_database_gone_while_serving_is_a_one_line_503(tmp_path: Path) -> None:
    db = fill(tmp_path)
    with serve(str(tmp_path)) as running:
        assert running.get(f"/runs/{RUN_OK}")[0] == 200
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        status, _, body = running.get(f"/runs/{RUN_FAILED}")
        assert status == 503 and body.startswith("the run log cannot be read: no database at")
        assert "\n" not in body
        status, _, body = running.get("/api/events?after=0")
        assert status == 503 and json.loads(body)["error"].startswith("the run log cannot be read")


def test_a_big_phase_is_paged_in_the_page_and_the_api(tmp_path: Path) -> None:
    fill(tmp_path)
    agent_id = big_phase(tmp_path, 1234)
    with serve(str(tmp_path)) as running:
        status, _, body = running.get(f"/runs/{BIG_RUN}")
        assert status == 200
        assert body.count('<tr class="ev ') == EVENTS_PER_PAGE
        assert f"{EVENTS_PER_PAGE} of 1,236 events" in body
        nxt = re.search(r'<a rel="next" href="([^"]+)"', body)
        assert nxt is not None and "previous" not in body
        link = html.unescape(nxt.group(1))
        assert link.startswith(f"/runs/{BIG_RUN}?phase={agent_id}&after=")
        status, _, second = running.get(link.split("#")[0])
        assert status == 200 and 'rel="prev"' in second and 'rel="next"' in second
        first_ids = re.findall(r'data-event-id="(\d+)"', body)
        second_ids = re.findall(r'data-event-id="(\d+)"', second)
        assert len(second_ids) == EVENTS_PER_PAGE and not set(first_ids) & set(second_ids)
        # The API pages the same way, with a limit of its own.
        api = running.json(f"/api/runs/{BIG_RUN}?phase={agent_id}&after={first_ids[-1]}&limit=50")
        (phase,) = api["phases"]
        assert [str(e["id"]) for e in phase["events"]] == second_ids[:50]
        assert phase["events_page"]["has_after"] and phase["events_total"] == 1236
        # The latest page ends with what was just written.
        add_event(tmp_path / "agents" / "orchestrator.db", agent_id, "written just now")
        latest = running.json(f"/api/runs/{BIG_RUN}?phase={agent_id}&latest=1")
        assert latest["phases"][0]["events"][-1]["message"] == "written just now"
        assert latest["phases"][0]["events_total"] == 1237


def test_hostile_model_names_and_usage_keys_are_text(tmp_path: Path) -> None:
    """Model ids come from the agent CLI's output: recorded, so hostile like the rest."""
    from tac_bootstrap_cli._adws.adw_modules.adw_logging import start_run

    db = fill(tmp_path)
    run = start_run(
        db,
        "builder",
        orchestrator="adw",
        metadata={"adw_id": "e5ca9e00", "phase": "build", "workflow": XSS_IMG},
        strict=True,
    )
    usage = {XSS_SCRIPT: {"output": 1, "cost_usd": 0.1}, XSS_IMG: {"output": 1, "cost_usd": 0.1}}
    run.prompt("hi", cost_usd=0.2, tokens_output=2, models=[XSS_SCRIPT, XSS_IMG])
    run.prompt("again", cost_usd=0.2, models=[XSS_IMG, XSS_SCRIPT], metadata={"model_usage": usage})
    run.finish()
    with serve(str(tmp_path)) as running:
        for path in ("/costs", "/runs/e5ca9e00", "/?q=e5ca9e00"):
            status, _, body = running.get(path)
            assert status == 200 and XSS_SCRIPT not in body and XSS_IMG not in body, path
            assert "&lt;img src=x onerror=" in body, path  # the workflow, as text
            if path != "/?q=e5ca9e00":  # pages that show the models
                assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in body, path
        models = {r["key"] for r in running.json("/api/costs")["model"]}
        assert f"{XSS_IMG} + {XSS_SCRIPT}" in models or f"{XSS_SCRIPT} + {XSS_IMG}" in models


def test_api_pages_are_bounded(server: Server) -> None:
    assert len(server.json("/api/runs?per_page=0")["runs"]) == 1
    assert server.json("/api/runs?per_page=100000")["total"] == 4
    sessions = server.json("/api/sessions?page=2")
    assert (sessions["sessions"], sessions["page"], sessions["has_more"]) == ([], 2, False)
    assert len(server.json("/api/sessions")["sessions"]) == 1
    assert len(server.json("/api/events?after=0&limit=2")["events"]) == 2
