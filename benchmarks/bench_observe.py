"""The observatory at scale: 10,000 ADW runs and 1,000,000 events, pages served in < 200 ms p95.

``uv run python benchmarks/bench_observe.py`` (``--quick``: 1,000 runs / 100,000 events) builds a
run-log database in a temporary folder with the real schema (``init_schema``), rows written with
``executemany`` as the layer writes them (4 phase Agents per run, 2 prompts per phase, events
spread over all phases, 1% of runs still running), plus one big run whose phases hold 50,000
events (40,000 in one phase, its last phase still running), and starts the real
``tac-bootstrap observe`` on a free port. Figures:

1. The first page after start, what a user opening the observatory waits for: ``--starts``
   fresh servers for ``/`` and as many for a run's page (a run never shown, a new process each
   time): process start to first byte, and the request alone (from the URL printed to the first
   byte; target < 500 ms). Also the first costs request (it answers "computing" while the first
   pass over every prompt runs in the background) and how long until the sums are there.
2. Steady state, GET requests over one keep-alive connection (localhost: what the server spends),
   p50 and p95 (target < 200 ms p95 for the runs, run, big run and costs pages):
   - runs page, cached (the listing kept while the Agents do not change), a search and its page
     2, the runs page after an event was written by another connection (what a page sees while a
     workflow runs), and, for information, after a new Agent (the listing queried again) and a
     search with a new text each time;
   - a run's page (a random run each time), also after a write;
   - the big run: its page, a later page of its largest phase, its latest events, its API, its
     latest page after an event was appended to its running phase;
   - costs page, cached and after a prompt write (which changes every sum); the event API.
3. Resident memory of the server after the first pages and after all figures.

``--compare DIR`` also starts the server of another checkout (e.g. ``git archive HEAD^ | tar -x
-C DIR``) on the same database; first pages alternate between the two (this, other, this...) and
steady-state requests alternate request by request, so both see the same machine load. ``--db
FILE`` keeps the database there (built once, reused by later runs). ``--with-index`` first creates
the index the store's run lookup is written for (``store.RUN_INDEX_SQL``, not in the schema yet)
in the benchmark's own database, to show what that migration buys.

Prints the load averages before and after (``benchlib.Report``), one line per figure and
PASS/MISS per target; exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchlib import Report, load_text

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tac_bootstrap_cli._adws.adw_modules.adw_sqlite import connect, init_schema  # noqa: E402
from tac_bootstrap_cli._adws.adw_modules.observatory.readonly import RUN_INDEX_SQL  # noqa: E402

TARGET_MS = 200.0
FIRST_TARGET_MS = 500.0
PHASES = (("plan", "planner"), ("build", "builder"), ("test", "tester"), ("review", "reviewer"))
BIG_RUN = "b16cafe0"
# Events per phase of the big run (50,000 in all); its last phase is still running.
BIG_EVENTS = (5_000, 40_000, 4_000, 1_000)


def _ts(t: datetime) -> str:
    return t.isoformat(timespec="microseconds")


def _prompt(aid: str, name: str, task: str, at: datetime, rnd: random.Random, models: str) -> tuple:  # type: ignore[type-arg]
    return (
        str(uuid.uuid4()),
        aid,
        f"You are the {name}.\n<task>\n{task}\n</task>" + " x" * 200,
        "done " * 50,
        rnd.randint(100, 5000),
        rnd.randint(100, 5000),
        rnd.randint(0, 90000),
        rnd.randint(0, 9000),
        round(rnd.random(), 6),
        rnd.randint(1, 20),
        rnd.randint(1000, 90000),
        models,
        _ts(at),
        _ts(at + timedelta(seconds=10)),
    )


_PROMPT_SQL = (
    "INSERT INTO prompts (id, agent_id, content, response, tokens_input, tokens_output,"
    " tokens_cache_read, tokens_cache_creation, cost_usd, num_turns, duration_ms, models,"
    " created_at, completed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def build(db: Path, runs: int, events: int) -> list[str]:
    """Fill ``db``; returns the ADW ids (the big run's not among them)."""
    conn = connect(db)
    init_schema(conn)
    rnd = random.Random(7)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    orch = str(uuid.uuid4())
    conn.execute(
        "INSERT INTO orchestrator_agents (id, name, status, created_at, updated_at)"
        " VALUES (?, 'adw', 'active', ?, ?)",
        (orch, _ts(start), _ts(start)),
    )
    agents, prompts, adw_ids = [], [], []
    per_agent = events // (runs * len(PHASES))
    for i in range(runs):
        adw_id = f"{i:08x}"
        adw_ids.append(adw_id)
        t = start + timedelta(minutes=5 * i)
        workflow = rnd.choice(("plan_build", "sdlc", "plan_build_test"))
        running = i % 100 == 99
        for j, (phase, name) in enumerate(PHASES):
            aid = str(uuid.uuid4())
            began = t + timedelta(seconds=60 * j)
            done = None if running and j == len(PHASES) - 1 else _ts(began + timedelta(seconds=50))
            status = "running" if done is None else rnd.choice(("completed",) * 9 + ("failed",))
            meta = json.dumps({"adw_id": adw_id, "phase": phase, "workflow": workflow})
            agents.append(
                (aid, orch, str(uuid.uuid4()), name, "sonnet", status, _ts(began), _ts(began), done, meta)
            )  # fmt: skip
            for k in range(2):
                # One prompt in 50 used two models (as a call with a sub-agent does).
                models = (
                    "claude-sonnet-4,claude-haiku-4" if (i + k) % 50 == 0 else "claude-sonnet-4"
                )
                prompts.append(_prompt(aid, name, f"Task number {i}", began + timedelta(seconds=10 + k), rnd, models))  # fmt: skip
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO agents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", agents)
    conn.executemany(_PROMPT_SQL, prompts)
    conn.execute("COMMIT")

    def logs() -> Iterator[tuple[str, str, str, str, str, str]]:
        # Interleaved as real writers interleave them: round-robin over the agents.
        for n in range(per_agent):
            for a in agents:
                began = datetime.fromisoformat(a[6]) + timedelta(seconds=n)
                meta = json.dumps(
                    {"hook_event": "PreToolUse", "tool_name": "Bash", "tool_input": f"ls {n}"}
                )
                yield (
                    str(uuid.uuid4()),
                    a[0],
                    "event",
                    f"PreToolUse: Bash ls {n}",
                    meta,
                    _ts(began),
                )

    conn.execute("BEGIN")
    conn.executemany("INSERT INTO agent_logs VALUES (?, ?, ?, ?, ?, ?)", logs())
    conn.execute("COMMIT")
    _big_run(conn, orch, start + timedelta(minutes=5 * runs), rnd)
    conn.close()
    return adw_ids


def _big_run(conn: sqlite3.Connection, orch: str, t: datetime, rnd: random.Random) -> None:
    """The run with 50,000 events: steps, prompts with their metadata events, tool events."""
    conn.execute("BEGIN")
    for j, ((phase, name), count) in enumerate(zip(PHASES, BIG_EVENTS, strict=True)):
        aid = str(uuid.uuid4())
        began = t + timedelta(hours=j)
        last = j == len(PHASES) - 1
        done = None if last else _ts(began + timedelta(minutes=50))
        meta = json.dumps({"adw_id": BIG_RUN, "phase": phase, "workflow": "sdlc"})
        conn.execute(
            "INSERT INTO agents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (aid, orch, str(uuid.uuid4()), name, "sonnet", "running" if last else "completed",
             _ts(began), _ts(began), done, meta),
        )  # fmt: skip
        rows = [(str(uuid.uuid4()), aid, "step_start", f"{phase} attempt 1", '{"attempt": 1}', _ts(began))]  # fmt: skip
        for n in range(count):
            at = began + timedelta(milliseconds=50 * (n + 1))
            tool = json.dumps({"hook_event": "PreToolUse", "tool_name": "Read", "tool_input": f"f{n}"})  # fmt: skip
            rows.append((str(uuid.uuid4()), aid, "event", f"PreToolUse: Read f{n}", tool, _ts(at)))
            if n % (count // 2) == count // 2 - 1:  # two prompts per phase, each with its metadata
                prompt = _prompt(
                    aid, name, "The big one", at, rnd, "claude-sonnet-4,claude-haiku-4"
                )
                conn.execute(_PROMPT_SQL, prompt)
                usage = {"claude-sonnet-4": {"input": 1, "cost_usd": 0.3}, "claude-haiku-4": {"input": 1, "cost_usd": 0.1}}  # fmt: skip
                pm = json.dumps({"prompt_id": prompt[0], "model_usage": usage})
                rows.append((str(uuid.uuid4()), aid, "event", "prompt metadata", pm, _ts(at)))
        if not last:
            end = began + timedelta(milliseconds=50 * (count + 1))
            rows.append((str(uuid.uuid4()), aid, "step_end", f"{phase} attempt 1", '{"status": "completed"}', _ts(end)))  # fmt: skip
        conn.executemany("INSERT INTO agent_logs VALUES (?, ?, ?, ?, ?, ?)", rows)
    conn.execute("COMMIT")


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """One ``observe`` process and a keep-alive connection to it."""

    name: str
    proc: subprocess.Popen[str]
    http: http.client.HTTPConnection
    samples: dict[str, list[float]] = field(default_factory=dict)

    def time(self, path: str) -> float:
        try:
            return self._time(path)
        except (http.client.RemoteDisconnected, ConnectionError):
            # uvicorn closes a keep-alive connection idle for 5 s (the other server's turn
            # can take that long): open a new one and time the request again.
            self.http.close()
            return self._time(path)

    def _time(self, path: str) -> float:
        started = time.perf_counter()
        self.http.request("GET", path)
        resp = self.http.getresponse()
        body = resp.read()
        elapsed = (time.perf_counter() - started) * 1000
        if resp.status != 200:
            raise SystemExit(f"{self.name}: GET {path}: {resp.status} {body[:200]!r}")
        return elapsed

    def get_json(self, path: str) -> dict:  # type: ignore[type-arg]
        self.http.request("GET", path)
        resp = self.http.getresponse()
        return json.loads(resp.read())  # type: ignore[no-any-return]

    def rss_mb(self) -> float:
        status = Path(f"/proc/{self.proc.pid}/status").read_text(encoding="utf-8")
        match = re.search(r"VmRSS:\s+(\d+) kB", status)
        return int(match.group(1)) / 1024 if match else float("nan")


def _launch(checkout: Path, project: Path) -> tuple[subprocess.Popen[str], int, float]:
    """Start ``observe`` from ``checkout``; the process, its port, and seconds until it printed
    its URL (it listens then)."""
    port = _port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(checkout)}
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tac_bootstrap_cli", "observe", str(project), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=checkout,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not re.match(r"observatory: http://", line):
        raise SystemExit(f"{checkout}: observe did not start: {line!r}")
    return proc, port, time.perf_counter() - started


def _start(name: str, checkout: Path, project: Path) -> Server:
    proc, port, _ = _launch(checkout, project)
    return Server(name, proc, http.client.HTTPConnection("127.0.0.1", port, timeout=120))


@dataclass
class First:
    """One fresh server's first request: seconds from process start to its URL, to the first
    byte of the answer, and from the request to the first byte."""

    ready: float
    first_byte: float
    request: float


def _first(checkout: Path, project: Path, path: str) -> First:
    """Start a server, GET ``path`` once, stop it."""
    started = time.perf_counter()
    proc, port, ready = _launch(checkout, project)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        asked = time.perf_counter()
        conn.request("GET", path)
        resp = conn.getresponse()  # the status line and headers: the first bytes
        got = time.perf_counter()
        body = resp.read()
        if resp.status != 200:
            raise SystemExit(f"GET {path}: {resp.status} {body[:200]!r}")
        return First(ready, got - started, got - asked)
    finally:
        proc.terminate()
        proc.wait(10)


def _p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.95) - 1)]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 runs / 100,000 events")
    parser.add_argument("--requests", type=int, default=40, help="requests per figure")
    parser.add_argument("--starts", type=int, default=5, help="fresh servers per first page")
    parser.add_argument("--db", type=Path, help="keep the database at this path (reused if there)")
    parser.add_argument("--compare", type=Path, help="another checkout to measure alongside")
    parser.add_argument(
        "--with-index", action="store_true", help="create store.RUN_INDEX_SQL in the database"
    )
    parser.add_argument(
        "--compare-db",
        type=Path,
        help="the --compare checkout's own database (e.g. the same rows at its schema version)",
    )
    parser.add_argument(
        "--only", help="measure only the steady-state figures whose name holds this text"
    )
    parser.add_argument(
        "--postgres",
        nargs="?",
        const="",
        metavar="URL",
        help="the team view instead: ship the database to PostgreSQL (URL, else a throw-away"
        " server) and time the store's queries there beside SQLite (observe_postgres.py)",
    )
    return parser.parse_args()


def _database(args: argparse.Namespace, db: Path, report: Report, size: tuple[int, int]) -> None:
    """The benchmark's database at ``db``: built there, or a link to ``--db`` (built once)."""
    runs, events = size
    if args.db is not None:
        if not args.db.exists():
            args.db.parent.mkdir(parents=True, exist_ok=True)
            began = time.perf_counter()
            build(args.db, runs, events)
            report.line(f"built {args.db} in {time.perf_counter() - began:.1f} s")
        db.symlink_to(args.db.resolve())
        return
    began = time.perf_counter()
    build(db, runs, events)
    report.line(f"built {runs:,} runs, {events:,} events in {time.perf_counter() - began:.1f} s"
                f" ({db.stat().st_size / 1e6:.0f} MB)")  # fmt: skip


@dataclass
class Rows:
    """What the figures ask for, read from the database: run ids and the big run's phases."""

    adw_ids: list[str]
    big_build: str
    big_live: str
    middle: int  # an event id in the middle of the big build phase
    small_live: str
    orch: str


def _rows(writer: sqlite3.Connection, with_index: bool) -> Rows:
    """The ids the figures use; the adw_id index made or dropped as ``--with-index`` says."""
    indexed = writer.execute(
        "SELECT count(*) FROM sqlite_master WHERE name = 'idx_agents_adw_id'"
    ).fetchone()[0]
    if with_index and not indexed:
        writer.execute(RUN_INDEX_SQL)
    elif indexed and not with_index:
        writer.execute("DROP INDEX idx_agents_adw_id")  # a database kept from a --with-index run
    adw_ids = [
        r[0]
        for r in writer.execute(
            "SELECT DISTINCT json_extract(metadata, '$.adw_id') FROM agents WHERE name <> ?",
            ("claude-session",),
        )
        if r[0] != BIG_RUN
    ]
    big = writer.execute(
        "SELECT id FROM agents WHERE json_extract(metadata, '$.adw_id') = ? ORDER BY rowid",
        (BIG_RUN,),
    ).fetchall()
    (middle,) = writer.execute(
        "SELECT rowid FROM agent_logs WHERE agent_id = ? ORDER BY created_at, rowid"
        " LIMIT 1 OFFSET 20000",
        (big[1][0],),
    ).fetchone()
    (small_live,) = writer.execute(
        "SELECT id FROM agents WHERE status = 'running' AND json_extract(metadata, '$.adw_id')"
        " <> ? ORDER BY rowid DESC LIMIT 1",
        (BIG_RUN,),
    ).fetchone()
    (orch,) = writer.execute("SELECT id FROM orchestrator_agents LIMIT 1").fetchone()
    return Rows(adw_ids, big[1][0], big[-1][0], middle, small_live, orch)


def _checkouts(args: argparse.Namespace, project: Path) -> list[tuple[str, Path, Path]]:
    """(name, checkout, project) of this checkout and of ``--compare``'s, if given."""
    checkouts = [("this", REPO, project)]
    if args.compare is not None:
        other = project
        if args.compare_db is not None:
            other = project / "compare"
            (other / "agents").mkdir(parents=True)
            (other / "agents" / "orchestrator.db").symlink_to(args.compare_db.resolve())
        checkouts.append(("compare", args.compare.resolve(), other))
    return checkouts


def _first_pages(
    report: Report,
    starts: int,
    checkouts: list[tuple[str, Path, Path]],
    unseen: Iterator[str],
) -> None:
    """Figure 1: fresh servers, alternating, for ``/`` and a run never shown."""
    report.section(
        f"first page after start ({starts} fresh servers per figure, alternating; medians, max)"
    )
    firsts: dict[tuple[str, str], list[First]] = {}
    for i in range(starts):
        order = checkouts if i % 2 == 0 else checkouts[::-1]
        for name, checkout, home in order:
            for label, path in (("/", "/"), ("a run's page", f"/runs/{next(unseen)}")):
                firsts.setdefault((name, label), []).append(_first(checkout, home, path))
    for (name, label), found in firsts.items():
        request = [f.request for f in found]
        report.line(
            f"{name}: {label:13} process start -> first byte"
            f" {_ms(statistics.median(f.first_byte for f in found))}"
            f" (listening after {_ms(statistics.median(f.ready for f in found))}),"
            f" the request alone {_ms(statistics.median(request))} (max {_ms(max(request))})"
        )
    for label in ("/", "a run's page") if firsts else ():
        request = [f.request for f in firsts[("this", label)]]
        report.target(
            f"first request after start, {label} (max of {len(request)})",
            round(max(request) * 1000, 1),
            FIRST_TARGET_MS,
            unit=" ms",
        )


def _first_costs(report: Report, server: Server, unseen: Iterator[str]) -> float:
    """A new server's first pages, its first costs pass and the big run's first view; returns
    the resident memory after the first pages."""
    server.time("/")
    server.time(f"/runs/{next(unseen)}")
    after_first = server.rss_mb()
    started = time.perf_counter()
    server.time("/costs")
    answered = time.perf_counter() - started
    while True:
        server.http.request("GET", "/api/costs")
        resp = server.http.getresponse()
        resp.read()
        if resp.status == 200:
            break
        time.sleep(0.05)
    ready = time.perf_counter() - started
    started = time.perf_counter()
    server.time(f"/runs/{BIG_RUN}")
    big_first = time.perf_counter() - started
    report.line(
        f"{server.name}: first costs page {_ms(answered)}, sums ready after {_ms(ready)};"
        f" first view of the big run (its 50,000 log rows read once) {_ms(big_first)}"
        f" (load {load_text()})"
    )
    return after_first


class Writes:
    """Rows another connection writes between requests (what a workflow does meanwhile)."""

    def __init__(self, writer: sqlite3.Connection, rows: Rows, rnd: random.Random) -> None:
        self.writer, self.rows, self.rnd = writer, rows, rnd

    def event(self, agent: str = "") -> None:
        """An event of ``agent`` (default: a small running phase)."""
        self.writer.execute(
            "INSERT INTO agent_logs VALUES (?, ?, 'event', 'bench', '{}', ?)",
            (str(uuid.uuid4()), agent or self.rows.small_live, _ts(datetime.now(UTC))),
        )

    def prompt(self) -> None:
        """A prompt of a small running phase (it changes every cost sum)."""
        row = _prompt(self.rows.small_live, "reviewer", "bench", datetime.now(UTC), self.rnd,
                      "claude-sonnet-4")  # fmt: skip
        self.writer.execute(_PROMPT_SQL, row)

    def agent(self) -> None:
        """A new Agent of a new run."""
        now = _ts(datetime.now(UTC))
        meta = json.dumps({"adw_id": f"{self.rnd.getrandbits(32):08x}", "phase": "plan",
                           "workflow": "plan_build"})  # fmt: skip
        self.writer.execute(
            "INSERT INTO agents VALUES (?, ?, ?, 'planner', 'sonnet', 'completed', ?, ?, ?, ?)",
            (str(uuid.uuid4()), self.rows.orch, str(uuid.uuid4()), now, now, now, meta),
        )


@dataclass
class Steady:
    """Figure 2: requests alternating between the servers, each figure's samples on its server."""

    servers: list[Server]
    requests: int
    only: str | None
    figures: list[str] = field(default_factory=list)

    def measure(
        self, name: str, path: Callable[[], str], before: Callable[[], None] | None = None
    ) -> None:
        """``requests`` samples of ``path()`` on every server (``before`` runs before each)."""
        if self.only and self.only not in name:
            return
        self.figures.append(name)
        for i in range(self.requests):
            url = path()
            # Alternate which server goes first: both see the same load.
            order = self.servers if i % 2 == 0 else self.servers[::-1]
            for server in order:
                if before is not None:
                    before()
                server.samples.setdefault(name, []).append(server.time(url))


def _steady(steady: Steady, rows: Rows, writes: Writes, events: int) -> None:
    """Every steady-state figure."""
    rnd, big = writes.rnd, f"/runs/{BIG_RUN}"
    words = iter(f"task+number+{n}" for n in rnd.sample(range(10_000), 10_000))
    measure = steady.measure
    measure("runs page, cached", lambda: "/")
    measure("runs page, search + page 2", lambda: "/?q=task+number+9&page=2")
    measure("runs page after an event write", lambda: "/", writes.event)
    measure("runs page after a new Agent (info)", lambda: "/", writes.agent)
    measure("runs page, a new search each time (info)", lambda: f"/?q={next(words)}")
    measure("run page", lambda: f"/runs/{rnd.choice(rows.adw_ids)}")
    measure(
        "run page after an event write", lambda: f"/runs/{rnd.choice(rows.adw_ids)}", writes.event
    )
    measure("big run page (50,000 events)", lambda: big)
    measure(
        "big run, a later page of a phase",
        lambda: f"{big}?phase={rows.big_build}&after={rows.middle}",
    )
    measure("big run, latest events of a phase", lambda: f"{big}?phase={rows.big_live}&latest=1")
    measure(
        "big run page after a write",
        lambda: f"{big}?phase={rows.big_live}&latest=1",
        lambda: writes.event(rows.big_live),
    )
    measure("big run API", lambda: f"/api/runs/{BIG_RUN}")
    measure("costs page, cached", lambda: "/costs")
    measure("costs page after a prompt write", lambda: "/costs", writes.prompt)
    measure("events API (500 after an id)", lambda: f"/api/events?after={events - 600}")


def _report_steady(
    report: Report, steady: Steady, rss: dict[str, tuple[float, float]], requests: int
) -> None:
    for server in steady.servers:
        first_mb, last_mb = rss[server.name]
        report.section(
            f"{server.name}: steady state, {requests} requests per figure (resident memory"
            f" {first_mb:.0f} MB after the first pages, {last_mb:.0f} MB after the figures)"
        )
        for name in steady.figures:
            values = server.samples[name]
            p95 = _p95(values)
            report.line(f"{name:44} median {statistics.median(values):7.1f} ms  p95 {p95:7.1f} ms")
            if server.name == "this" and "(info)" not in name and "API (500" not in name:
                report.target(f"{name} p95", round(p95, 1), TARGET_MS, unit=" ms")


_ADW_IDS_SQL = (
    "SELECT DISTINCT json_extract(metadata, '$.adw_id') FROM agents WHERE"
    " json_extract(metadata, '$.adw_id') IS NOT NULL"
)


def main() -> int:
    """Build, serve, measure; exit 1 when a target is missed."""
    args = _arguments()
    runs, events = (1_000, 100_000) if args.quick else (10_000, 1_000_000)
    report = Report(
        "bench_observe: the observatory at scale",
        f"{runs:,} runs, {events:,} events"
        + (", with the adw_id index" if args.with_index else ""),
    )
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        db = project / "agents" / "orchestrator.db"
        db.parent.mkdir()
        _database(args, db, report, (runs, events))
        if args.postgres is not None:
            from observe_postgres import measure

            ids = [r[0] for r in sqlite3.connect(db).execute(_ADW_IDS_SQL)]
            measure(db, args.postgres or None, report, ids, args.requests)
            return report.finish()
        writer = sqlite3.connect(db, isolation_level=None)
        rows = _rows(writer, args.with_index)
        checkouts = _checkouts(args, project)
        rnd = random.Random(1)
        unseen = iter(rnd.sample(rows.adw_ids, 2 * args.starts * len(checkouts) + 10))
        _first_pages(report, 0 if args.only else args.starts, checkouts, unseen)
        steady = Steady([], args.requests, args.only)
        rss: dict[str, tuple[float, float]] = {}
        try:
            # One at a time: two first costs passes side by side would time each other.
            for name, checkout, home in checkouts:
                server = _start(name, checkout, home)
                steady.servers.append(server)
                rss[name] = (_first_costs(report, server, unseen), 0.0)
            _steady(steady, rows, Writes(writer, rows, rnd), events)
            for server in steady.servers:
                rss[server.name] = (rss[server.name][0], server.rss_mb())
        finally:
            writer.close()
            for server in steady.servers:
                server.proc.terminate()
                server.proc.wait(10)
    _report_steady(report, steady, rss, args.requests)
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
