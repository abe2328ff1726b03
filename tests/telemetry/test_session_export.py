"""``adws/adw_export.py --otlp`` without a receiver: usage errors, a collector that is down (exit
1, one stderr line, the position not moved), and the position's bookkeeping. What the receiver
gets is in test_telemetry_phoenix.py."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from telemetry_support import export, free_port, hook, make_project, tool

from tac_bootstrap_cli._adws.adw_modules import adw_session_export as sx


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_project(tmp_path_factory.mktemp("sx") / "demo")
    hook(root, "session_start", source="startup")
    tool(root, "Read", "toolu_1", file_path="README.md")
    return root


@pytest.fixture
def project(template: Path, tmp_path: Path) -> Path:
    root = tmp_path / "demo"
    shutil.copytree(template, root, symlinks=True)
    return root


def _db(root: Path) -> Path:
    return root / "agents" / "orchestrator.db"


def test_usage_errors_exit_2(project: Path) -> None:
    proc = export(project)
    assert proc.returncode == 2 and "--otlp" in proc.stderr
    proc = export(project, "--otlp")
    assert proc.returncode == 2 and "no endpoint" in proc.stderr
    proc = export(project, "--otlp", "--endpoint", "collector:4318")
    assert proc.returncode == 2 and "must be an http(s) URL" in proc.stderr


def test_a_closed_port_exits_1_and_keeps_the_position(project: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    proc = export(
        project, "--otlp", OTEL_EXPORTER_OTLP_ENDPOINT=url, OTEL_EXPORTER_OTLP_TIMEOUT="1"
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith(f"export: collector at {url}/v1/traces not reachable"), line
    assert "0 spans sent" in line
    assert not sx.state_path(_db(project)).exists()  # nothing delivered: no position
    # Nothing recorded is lost: a later export reads from the same place.
    conn = sqlite3.connect(_db(project))
    try:
        assert sx.load_position(conn, sx.state_path(_db(project)), url + "/v1/traces") == 0
    finally:
        conn.close()


def test_the_position_is_found_again_after_rowids_change(project: Path) -> None:
    db, url = _db(project), "http://collector/v1/traces"
    state = sx.state_path(db)
    conn = sqlite3.connect(db)
    try:
        rowid, row_id = conn.execute("SELECT max(rowid), id FROM agent_logs").fetchone()
        sx.save_position(conn, state, url, rowid)
        assert json.loads(state.read_text())["positions"][url]["id"] == row_id
        assert sx.load_position(conn, state, url) == rowid
        assert sx.load_position(conn, state, "http://other/v1/traces") == 0  # per endpoint
        # A renumbered row (as VACUUM may do) is found by its id.
        conn.execute("UPDATE agent_logs SET rowid = rowid + 100 WHERE id = ?", (row_id,))
        assert sx.load_position(conn, state, url) == rowid + 100
        # Gone (a new database): back to the last row recorded no later than it.
        conn.execute("DELETE FROM agent_logs WHERE id = ?", (row_id,))
        (before,) = conn.execute("SELECT max(rowid) FROM agent_logs").fetchone()
        assert sx.load_position(conn, state, url) == before
    finally:
        conn.close()


def test_one_export_at_a_time(project: Path) -> None:
    state = sx.state_path(_db(project))
    with sx.exclusive(state) as first:
        assert first
        with sx.exclusive(state) as second:
            assert not second
    with sx.exclusive(state) as again:
        assert again
