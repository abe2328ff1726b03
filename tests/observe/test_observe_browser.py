"""The observatory in real headless Chromium (Debian's ``/usr/bin/chromium`` through Playwright):
every view against the database, live updates from another process within 1 s (fetched as JSON
from ``/api/`` and written into the page by its script), and hostile recorded values shown as
text without ever running, whether painted by the server or arriving live.

Without Chromium or Playwright these tests skip, except under ``CI``, where they fail.
A failed test leaves a screenshot in ``<pytest base temp>/screenshots/``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from observe_support import (
    BIG_RUN,
    RUN_FAILED,
    RUN_LIVE,
    RUN_OK,
    SESSION_ID,
    XSS_IMG,
    XSS_SCRIPT,
    Server,
    big_phase,
    fill,
    serve,
)

from tac_bootstrap_cli._adws.adw_modules.observatory.records import EVENTS_PER_PAGE

pytestmark = pytest.mark.slow

CHROMIUM = os.environ.get("OBSERVE_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SUPPORT = Path(__file__).with_name("observe_support.py")


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"browser tests cannot run in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not Path(CHROMIUM).is_file() and not shutil.which(CHROMIUM):
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (uv sync)")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as pw:
        # A persistent context gives the fresh --user-data-dir the flags ask for.
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=FLAGS
        )
        yield context
        context.close()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("observed-browser")
    fill(root)
    return root


@pytest.fixture(scope="module")
def server(project: Path) -> Iterator[Server]:
    with serve(str(project)) as running:
        yield running


@pytest.fixture
def page(
    browser: Any, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    tab = browser.new_page()
    dialogs: list[str] = []
    tab.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    tab.dialogs = dialogs
    yield tab
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        folder = tmp_path_factory.getbasetemp() / "screenshots"
        folder.mkdir(exist_ok=True)
        shot = folder / f"{request.node.name}.png"
        tab.screenshot(path=str(shot), full_page=True)
        print(f"screenshot: {shot}")
    tab.close()


def _db(project: Path) -> Path:
    return project / "agents" / "orchestrator.db"


def _one(project: Path, sql: str, *args: object) -> Any:
    conn = sqlite3.connect(_db(project))
    try:
        return conn.execute(sql, args).fetchone()
    finally:
        conn.close()


def _agent_of(project: Path, adw_id: str) -> str:
    return str(
        _one(
            project,
            "SELECT id FROM agents WHERE json_extract(metadata, '$.adw_id') = ? ORDER BY rowid",
            adw_id,
        )[0]
    )


def _assert_not_pwned(page: Any) -> None:
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.dialogs == []


def _live(page: Any) -> None:
    page.wait_for_selector("#live.on", timeout=5000)


@contextmanager
def _writer(project: Path, agent_id: str) -> Iterator[Callable[[str], None]]:
    """Another process writing to the database (observe_support.writer_main): ``write(line)``
    returns once the row is committed."""
    proc = subprocess.Popen(
        [sys.executable, str(SUPPORT), str(_db(project)), agent_id],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None

    def write(line: str) -> None:
        proc.stdin.write(line + "\n")  # type: ignore[union-attr]
        proc.stdin.flush()  # type: ignore[union-attr]
        assert proc.stdout.readline() == "ok\n"  # type: ignore[union-attr]

    try:
        yield write
    finally:
        proc.stdin.close()
        proc.wait(10)


def _api_only(requests: list[str]) -> None:
    """Every request the page made while live went to the JSON API (never a page's HTML)."""
    paths = {urlsplit(url).path for url in requests}
    assert paths and all(p.startswith("/api/") for p in paths), paths


def test_runs_view_lists_every_run_with_its_totals(
    page: Any, server: Server, project: Path
) -> None:
    page.goto(server.url)
    rows = page.locator("tr.run")
    (count,) = _one(
        project,
        "SELECT count(DISTINCT json_extract(metadata, '$.adw_id')) FROM agents"
        " WHERE name <> 'claude-session'",
    )
    assert rows.count() == count
    row = page.locator(f'tr.run[data-run-id="{RUN_OK}"]')
    (cost,) = _one(
        project,
        "SELECT sum(p.cost_usd) FROM prompts p JOIN agents a ON a.id = p.agent_id"
        " WHERE json_extract(a.metadata, '$.adw_id') = ?",
        RUN_OK,
    )
    assert row.locator("td.cost").inner_text() == f"${cost:,.4f}"
    assert "Add a health endpoint" in row.inner_text()
    assert "completed" in row.inner_text()
    page.select_option("select[name=status]", "failed")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"status=failed"))
    assert [r.get_attribute("data-run-id") for r in page.locator("tr.run").all()] == [RUN_FAILED]
    page.fill("input[name=q]", "health")
    page.select_option("select[name=status]", "")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"q=health"))
    assert [r.get_attribute("data-run-id") for r in page.locator("tr.run").all()] == [RUN_OK]
    _assert_not_pwned(page)


def test_run_view_shows_timeline_prompts_and_events(
    page: Any, server: Server, project: Path
) -> None:
    page.goto(f"{server.url}runs/{RUN_FAILED}")
    assert page.locator("svg.gantt rect.bar").count() == 1
    assert page.locator("svg.gantt rect.attempt").count() == 2  # the retry
    (prompts,) = _one(
        project,
        "SELECT count(*) FROM prompts p JOIN agents a ON a.id = p.agent_id"
        " WHERE json_extract(a.metadata, '$.adw_id') = ?",
        RUN_FAILED,
    )
    assert page.locator("tr.prompt").count() == prompts
    blocked = page.locator("tr.ev.blocked")
    assert blocked.count() == 2  # one per attempt
    assert "blocked: recursive rm of / is blocked" in blocked.first.inner_text()
    ids = [
        int(x) for x in page.locator("tr.ev").evaluate_all("rs => rs.map(r => r.dataset.eventId)")
    ]
    assert ids == sorted(ids)
    # Hostile values are on the page as text, and nothing ran.
    body = page.inner_text("main")
    assert XSS_SCRIPT in body and XSS_IMG in body
    assert page.locator("main img").count() == 0 and page.locator("main script").count() == 0
    _assert_not_pwned(page)
    page.goto(f"{server.url}runs/{RUN_OK}")
    with page.expect_navigation():
        page.click("text=stream")
    assert '"result":"done"' in page.inner_text("body")


def test_sessions_view_and_a_session(page: Any, server: Server) -> None:
    page.goto(f"{server.url}sessions")
    row = page.locator("tr.session")
    assert row.count() == 1 and SESSION_ID[:18] in row.inner_text()
    page.click(f"text={SESSION_ID[:18]}")
    page.wait_for_selector("tr.ev")
    assert page.locator("tr.ev").count() == 2
    assert ".env files are secret" in page.locator("tr.ev.blocked").inner_text()
    assert XSS_SCRIPT in page.inner_text("main")
    _assert_not_pwned(page)


def test_costs_view_totals_equal_the_database(page: Any, server: Server, project: Path) -> None:
    page.goto(f"{server.url}costs")
    cost, out = _one(project, "SELECT sum(cost_usd), sum(tokens_output) FROM prompts")
    assert page.inner_text("#total-cost") == f"${cost:,.2f}"
    assert page.inner_text("#total-output") == f"{out:,}"
    assert page.locator("section.costs svg.bars").count() == 4
    for section in ("day", "workflow", "phase", "model"):
        foot = page.locator(f"#costs-{section} tfoot").inner_text()
        assert f"${cost:,.2f}" in foot


def test_new_events_from_another_process_show_within_a_second(
    page: Any, server: Server, project: Path
) -> None:
    page.goto(f"{server.url}runs/{RUN_OK}")
    _live(page)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    latencies = []
    agent = _agent_of(project, RUN_OK)
    with _writer(project, agent) as write:
        for i in range(10):
            marker = f"live-marker-{i}"
            started = time.monotonic()  # before the write: the measure can only be too long
            write(marker)
            page.wait_for_selector(f"tr.ev >> text={marker}", timeout=3000)
            latencies.append(time.monotonic() - started)
        write(f"{XSS_SCRIPT} {XSS_IMG}")  # hostile, and arriving live
        page.wait_for_selector("tr.ev >> text=window.__pwned=1", timeout=3000)
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    print(f"live latency: median {latencies[len(latencies) // 2]:.3f} s, p95 {p95:.3f} s")
    assert p95 < 1.0, latencies
    _api_only(requests)
    row = page.locator(f"#phase-{agent} tr.ev").last  # the newest of the phase written to
    assert row.locator("td.input").inner_text() == f"{XSS_SCRIPT} {XSS_IMG}"
    assert page.locator("main img").count() == 0 and page.locator("main script").count() == 0
    _assert_not_pwned(page)


def test_hostile_prompts_and_phases_arriving_live_are_text(
    page: Any, server: Server, project: Path
) -> None:
    page.goto(f"{server.url}runs/{RUN_LIVE}")
    _live(page)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    agent = _agent_of(project, RUN_LIVE)
    section = f"#phase-{agent}"
    assert page.locator(f"{section} tr.prompt").count() == 0
    prompt = {
        "prompt": f"You are the planner.\n<task>\n{XSS_SCRIPT} live {XSS_IMG}\n</task>",
        "response": f"{XSS_IMG} done {XSS_SCRIPT}",
        "models": f"{XSS_SCRIPT},{XSS_IMG}",
    }
    phase = {"phase": XSS_IMG, "adw_id": RUN_LIVE, "model": XSS_SCRIPT, "tool_input": XSS_SCRIPT}
    with _writer(project, agent) as write:
        started = time.monotonic()
        write(json.dumps(prompt))
        page.wait_for_selector(f"{section} tr.prompt", timeout=3000)
        took = time.monotonic() - started
        content = page.text_content(f"{section} pre.content") or ""  # in a closed <details>
        assert XSS_SCRIPT in content and XSS_IMG in content
        assert page.inner_text(f"{section} pre.response") == prompt["response"]
        models = page.inner_text(f"{section} td.models")
        assert f"{XSS_SCRIPT} + {XSS_IMG}" in models and "not split" in models
        page.wait_for_function(
            "t => document.getElementById('run-task').textContent.includes(t)", arg=XSS_SCRIPT
        )
        write(json.dumps(phase))  # a new phase, its name and model hostile
        added = page.locator("section.phase").nth(1)
        added.locator("tr.ev").first.wait_for(timeout=3000)
    heading = added.locator("h2").inner_text()
    assert XSS_IMG in heading and XSS_SCRIPT in heading
    assert XSS_SCRIPT in added.locator("tr.ev td.input").first.inner_text()
    labels = page.locator("#gantt svg text.label").all_text_contents()
    assert XSS_IMG in labels and page.locator("#gantt svg rect.bar").count() == 2
    print(f"live prompt: {took:.3f} s")
    assert took < 1.0
    _api_only(requests)
    assert page.locator("main img").count() == 0 and page.locator("main script").count() == 0
    _assert_not_pwned(page)


def test_a_new_run_appears_on_the_runs_view(page: Any, server: Server, project: Path) -> None:
    page.goto(server.url)
    _live(page)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    code = (
        "import sys\n"
        "from tac_bootstrap_cli._adws.adw_modules.adw_logging import start_run\n"
        "run = start_run(sys.argv[1], 'planner', orchestrator='adw', strict=True,"
        " metadata={'adw_id': 'c0ffee00', 'phase': 'plan', 'workflow': sys.argv[2]})\n"
        "run.prompt('You are the planner.\\n<task>\\n' + sys.argv[3] + '\\n</task>', cost_usd=0.5)\n"
        "run.finish('completed')\n"
    )
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", code, str(_db(project)), XSS_IMG, XSS_SCRIPT], check=True)
    row = page.locator('tr.run[data-run-id="c0ffee00"]')
    row.wait_for(timeout=3000)
    assert time.monotonic() - started < 5  # includes starting a Python process
    page.wait_for_function(
        "() => document.querySelector('tr.run[data-run-id=\"c0ffee00\"] td.cost')"
        ".textContent === '$0.5000'"
    )
    text = row.inner_text()
    assert XSS_IMG in text and XSS_SCRIPT in text and "completed" in text
    assert XSS_IMG in page.locator("#workflow-filter").inner_text()  # a new workflow to filter by
    _api_only(requests)
    assert page.locator("main img").count() == 0 and page.locator("main script").count() == 0
    _assert_not_pwned(page)


def test_the_costs_page_follows_new_prompts(page: Any, server: Server, project: Path) -> None:
    page.goto(f"{server.url}costs")
    _live(page)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    with _writer(project, _agent_of(project, RUN_OK)) as write:
        started = time.monotonic()
        write(json.dumps({"prompt": "more", "cost": 1.25, "models": XSS_SCRIPT}))
        (cost,) = _one(project, "SELECT sum(cost_usd) FROM prompts")
        page.wait_for_function(
            "t => document.getElementById('total-cost').textContent === t",
            arg=f"${cost:,.2f}",
            timeout=3000,
        )
        took = time.monotonic() - started
    assert took < 1.0, took
    for section in ("day", "workflow", "phase", "model"):
        assert f"${cost:,.2f}" in page.locator(f"#costs-{section} tfoot").inner_text()
    assert XSS_SCRIPT in page.locator("#costs-model tbody").inner_text()
    assert page.locator("section.costs svg.bars").count() == 4
    _api_only(requests)
    _assert_not_pwned(page)


def test_sessions_and_their_events_follow_live(page: Any, server: Server, project: Path) -> None:
    page.goto(f"{server.url}sessions")
    _live(page)
    before = page.locator("tr.session").count()
    with _writer(project, _agent_of(project, RUN_OK)) as write:
        write(json.dumps({"session": "live-session-0001", "tool_input": XSS_IMG}))
        page.locator("tr.session").nth(before).wait_for(timeout=3000)
    page.click("text=live-session-0001")
    _live(page)
    (agent,) = _one(project, "SELECT id FROM agents WHERE session_id = 'live-session-0001'")
    assert XSS_IMG in page.locator("tr.ev").first.inner_text()
    with _writer(project, str(agent)) as write:
        write(f"session marker {XSS_SCRIPT}")
        page.wait_for_selector("tr.ev >> text=session marker", timeout=3000)
    assert page.inner_text("h2 small.events-total") == "2"
    assert page.locator("main img").count() == 0 and page.locator("main script").count() == 0
    _assert_not_pwned(page)


def test_the_report_file_opens_offline_and_runs_nothing(
    page: Any, project: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    subprocess.run(
        [sys.executable, "-m", "tac_bootstrap_cli", "observe", str(project), "--report", str(out)],
        check=True,
        capture_output=True,
    )
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(out.as_uri())
    assert requests == [out.as_uri()]  # nothing else is fetched
    (cost,) = _one(project, "SELECT sum(cost_usd) FROM prompts")
    assert page.inner_text("#total-cost") == f"${cost:,.2f}"
    page.click(f'a[href="#run-{RUN_FAILED}"]')
    assert page.locator(f"#run-{RUN_FAILED} svg.gantt rect.attempt").count() == 2
    assert XSS_SCRIPT in page.inner_text(f"#run-{RUN_FAILED}")
    _assert_not_pwned(page)


def test_a_big_phase_pages_and_its_latest_page_follows_live_events(
    page: Any, tmp_path: Path
) -> None:
    agent_id = big_phase(tmp_path, 1200)
    with serve(str(tmp_path)) as running:
        page.goto(f"{running.url}runs/{BIG_RUN}")
        first = page.locator("tr.ev").evaluate_all("rs => rs.map(r => Number(r.dataset.eventId))")
        assert len(first) == EVENTS_PER_PAGE and first == sorted(first)
        page.click("a[rel=next]")
        page.wait_for_url(re.compile(r"after="))
        second = page.locator("tr.ev").evaluate_all("rs => rs.map(r => Number(r.dataset.eventId))")
        assert len(second) == EVENTS_PER_PAGE and second[0] > first[-1]
        page.click("a[rel=last]")
        page.wait_for_url(re.compile(r"latest=1"))
        _live(page)
        with _writer(tmp_path, agent_id) as write:
            for i in range(3):
                write(f"appended-{i}")
                page.wait_for_selector(f"tr.ev >> text=appended-{i}", timeout=3000)
        rows = page.locator("tr.ev")
        assert rows.count() == EVENTS_PER_PAGE  # the window slid: the oldest rows left it
        ids = rows.evaluate_all("rs => rs.map(r => Number(r.dataset.eventId))")
        assert ids == sorted(ids)
        assert "appended-2" in rows.last.inner_text()
        assert f"{EVENTS_PER_PAGE} of 1,205 events" in page.inner_text("p.events-pager")
