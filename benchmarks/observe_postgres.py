"""``bench_observe.py --postgres``: the team view's queries on PostgreSQL beside the local file's.

The benchmark's database (10,000 runs / 1,000,000 events, or ``--quick``) is shipped to a server
by ``adw_sync`` (the real path; the tests' throw-away server from ``tests/pg_support.py`` unless
a URL is given), then the same ``Store`` calls the pages make are timed in this process on both:
the run list (its listing query each time: the kept listing dropped first), a run's page (a
random run each time), a search (a new text each time) and its page 2, the sessions, and the
first costs pass. Server side, without HTTP and templates (the HTTP figures are the SQLite
benchmark's: the same app). Target: < 200 ms p95 for the run list, a run's page and a search.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from benchlib import Report

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from tac_bootstrap_cli._adws.adw_modules import adw_sync  # noqa: E402
from tac_bootstrap_cli._adws.adw_modules.observatory.store import Store  # noqa: E402

TARGET_MS = 200.0


def _server(url: str | None) -> tuple[str, Callable[[], None]]:
    """The server to ship to: ``url``, or a throw-away one (stopped by the returned call)."""
    if url:
        return url, lambda: None
    import pg_support
    import psycopg

    server = pg_support.PostgresServer.start()
    with psycopg.connect(server.url, autocommit=True) as admin:
        admin.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    return server.url, server.stop


def _narrowing(url: str) -> str:
    """How the server narrows a search: through sync migration 3's trigram index, or a scan."""
    import psycopg

    with psycopg.connect(url) as pg:
        row = pg.execute("SELECT to_regclass('idx_agents_search') IS NOT NULL").fetchone()
    return "through idx_agents_search" if row and row[0] else "by a scan (no idx_agents_search)"


def _times(call: Callable[[int], object], requests: int) -> list[float]:
    samples = []
    for i in range(requests):
        began = time.perf_counter()
        call(i)
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def _p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.95 + 0.5) - 1)]


def _figures(store: Store, adw_ids: list[str], requests: int) -> dict[str, list[float]]:
    rnd = random.Random(3)
    words = [f"{rnd.choice(adw_ids)[:6]}" for _ in range(requests)]

    def listing(_: int) -> None:
        store._listings.clear()  # the listing query itself, as after a new Agent
        store.runs()

    return {
        "run list (queried)": _times(listing, requests),
        "a run's page": _times(lambda _: store.run(rnd.choice(adw_ids)), requests),
        "search, a new text": _times(lambda i: store.runs(q=words[i]), requests),
        "search 'endpoint' page 2": _times(lambda _: store.runs(q="endpoint", page=2), requests),
        "sessions": _times(lambda _: store.sessions(), requests),
    }


def measure(db: Path, url: str | None, report: Report, adw_ids: list[str], requests: int) -> bool:
    """Ship ``db``, time both stores; whether the targets hold on PostgreSQL."""
    url, stop = _server(url)
    try:
        began = time.perf_counter()
        result = adw_sync.sync(db, url)
        took = time.perf_counter() - began
        report.line(f"adw_sync shipped {result.shipped:,} rows in {took:.1f} s"
                    f" ({result.shipped / took:,.0f} rows/s)")  # fmt: skip
        report.line(f"server: search narrowing {_narrowing(url)}")
        ok = True
        for name, target in (("sqlite", db), ("postgres", url)):
            store = Store(target, db.parent.parent)
            try:
                began = time.perf_counter()
                store.costs(wait=None)
                report.line(
                    f"{name}: first costs pass {(time.perf_counter() - began) * 1000:,.0f} ms"
                )
                for label, values in _figures(store, adw_ids, requests).items():
                    p50, p95 = statistics.median(values), _p95(values)
                    report.line(f"{name:<8} {label:<28} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms")
                    if name == "postgres" and "sessions" not in label and "page 2" not in label:
                        ok = report.target(f"{name} {label} p95", p95, TARGET_MS, unit=" ms") and ok
            finally:
                store.close()
        return ok
    finally:
        stop()
