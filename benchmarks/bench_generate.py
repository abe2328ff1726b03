"""Model generation figures: a big spec, generated ``create_many`` against raw ``executemany``,
and how generation time grows with the spec.

Usage: ``uv run python benchmarks/bench_generate.py [--rows N] [--runs N] [--scaling-only]``

Samples are taken interleaved (A, B, A, B..., the order rotating each round) after one warm-up
round that is not kept (``benchlib``); the load averages are printed before and after.

1. Generation: a spec of 100 entities x 20 fields (every field type, constraints, enums, refs,
   composite unique constraints and indexes) through ``generate_models`` (read, validate, emit
   the five files, write them), in this process. Target: < 1 s (median of ``--runs``).
2. ``create_many``: a generated repository inserts N already-built create models (default
   100,000) in one transaction, against raw ``conn.executemany`` of the same rows (tuples already
   encoded by the generated ``_row``), each sample on a fresh database file opened by the
   generated ``connect()`` (WAL, foreign keys on). Target: <= 2.5x (wall; CPU printed).
   Building the models is reported apart (information).
3. Scaling: the same kind of spec with 10, 100, 500 and 1000 entities (20 fields each), as whole
   processes (``tac-bootstrap generate models SPEC --out DIR``: what the user waits for; private
   HOME, history and bytecode cache) and in this process (wall and CPU), every size interleaved
   in each round. Targets: 500 entities <= 6x 100 entities (linear would be 5x), both as
   processes (wall) and for the work alone (in-process CPU time: the processes' fixed start-up
   flattens their ratio).

4. ``--postgres`` (or ``--postgres-only``): the same ``create_many`` generated with
   ``--dialect postgres`` (psycopg 3, ``COPY ... FROM STDIN``) inserts ``--pg-rows`` built models
   (default 50,000) on the tests' throw-away PostgreSQL (``tests/pg_support.py``; or the server
   named by ``TEST_DATABASE_URL``), each sample in a fresh schema, against psycopg's COPY of the
   same encoded rows (the floor) and ``executemany`` of the generated INSERT (what a repository
   without COPY would do). Target: <= 2x the COPY floor (wall; CPU printed); the speed-up over
   ``executemany`` is information.

Prints the figures and a PASS/MISS line per target; exits 1 when a target is missed.
``--scaling-only`` runs part 3 alone.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml
from benchlib import (
    REPO,
    Report,
    Sample,
    in_process,
    interleave,
    isolated_env,
    run_process,
    tac_command,
)

sys.path.insert(0, str(REPO))

from tac_bootstrap_cli.modelgen import generate_models

GENERATE_TARGET_S = 1.0
CREATE_MANY_TARGET = 2.5
PG_CREATE_MANY_TARGET = 2.0  # generated PostgreSQL create_many / psycopg COPY of the same rows
SCALING_SIZES = (10, 100, 500, 1000)
SCALING_TARGET = 6.0  # time(500 entities) / time(100 entities)

_KINDS: list[dict[str, Any]] = [
    {"type": "str", "max_length": 120, "index": True},
    {"type": "text", "nullable": True},
    {"type": "int", "ge": 0, "default": 0},
    {"type": "float", "ge": 0, "le": 100, "default": 0.0},
    {"type": "bool", "default": False},
    {"type": "uuid", "default": "uuid4"},
    {"type": "datetime", "default": "now"},
    {"type": "date", "nullable": True},
    {"type": "json", "default": {}},
    {"type": "enum", "values": ["pending", "running", "done", "failed"], "default": "pending"},
    {"type": "str", "pattern": r"^[a-z][a-z0-9-]*$", "max_length": 40},
    {"type": "str", "secret": True, "nullable": True},
    {"type": "int", "gt": -1000, "lt": 1000, "nullable": True},
    {"type": "json", "nullable": True},
    {"type": "datetime", "nullable": True},
    {"type": "str", "min_length": 1, "max_length": 200},
    {"type": "enum", "values": ["low", "medium", "high"]},
]


def big_spec(entities: int = 100, fields: int = 20) -> dict[str, Any]:
    """A spec of ``entities`` entities with ``fields`` fields each (key and two refs included)."""
    spec: dict[str, Any] = {"module": "big_models", "entities": {}}
    for e in range(entities):
        body: dict[str, Any] = {
            "id": {"type": "uuid" if e % 2 else "int", "primary_key": True},
        }
        for f in range(fields - 4):
            body[f"field_{f}"] = dict(_KINDS[(e + f) % len(_KINDS)])
        body["updated_at"] = {"type": "datetime", "auto_now": True}
        if e:
            body["parent_id"] = {"type": "ref", "to": f"Entity{e - 1}", "on_delete": "cascade"}
        else:
            body["parent_id"] = {"type": "str", "nullable": True}
        body["self_id"] = {
            "type": "ref",
            "to": f"Entity{e}",
            "nullable": True,
            "on_delete": "set_null",
        }
        spec["entities"][f"Entity{e}"] = {
            "description": f"Entity number {e}.",
            "fields": body,
            "indexes": [["field_0", "updated_at"]],
            "unique": [["field_0", "parent_id"]],
        }
    return spec


EVENTS_SPEC = """\
module: bench_events
entities:
  Event:
    description: One observability event.
    fields:
      id: {type: int, primary_key: true}
      run: {type: str, max_length: 64, index: true}
      kind: {type: enum, values: [step_start, step_end, event, error]}
      message: {type: text}
      tokens: {type: int, ge: 0, default: 0}
      cost: {type: float, ge: 0, default: 0.0}
      ok: {type: bool, default: true}
      created_at: {type: datetime, default: now}
      data: {type: json, nullable: true}
"""


def bench_generate(report: Report, runs: int, folder: Path) -> None:
    spec_path = folder / "big.yaml"
    spec_path.write_text(yaml.safe_dump(big_spec(), sort_keys=False), encoding="utf-8")
    result: list[Any] = []

    def sample(i: int) -> Sample:
        out = folder / f"big-out-{i}"
        taken = in_process(lambda: result.append(generate_models(spec_path, out)))
        shutil.rmtree(out)
        return taken

    samples = interleave({"generate_models, 100 entities x 20 fields": sample}, runs)
    files = result[-1].files
    report.section(f"generation of a 100-entity spec, in-process (median of {runs})")
    for s in samples.values():
        report.figure(s.name, s, f"{len(files)} files")
    median = samples["generate_models, 100 entities x 20 fields"].wall
    report.target("generate 100 entities", median, GENERATE_TARGET_S, unit="s")


def events(package: Any, rows: int) -> list[Any]:
    """``rows`` ``EventCreate`` models of the generated events package (the same rows for every
    dialect, so their figures compare)."""
    return [
        package.EventCreate(
            run=f"run-{i % 100}",
            kind=("step_start", "step_end", "event", "error")[i % 4],
            message=f"message number {i}",
            tokens=i % 5000,
            cost=(i % 1000) / 1000,
            ok=i % 7 != 0,
            data={"i": i, "tags": ["a", "b"]} if i % 3 == 0 else None,
        )
        for i in range(rows)
    ]


def bench_create_many(report: Report, rows: int, runs: int, folder: Path) -> None:
    spec_path = folder / "events.yaml"
    spec_path.write_text(EVENTS_SPEC, encoding="utf-8")
    out = folder / "events-out"
    generate_models(spec_path, out)
    sys.path.insert(0, str(out))
    package: Any = importlib.import_module("bench_events")

    def build() -> list[Any]:
        return events(package, rows)

    items: list[Any] = []
    building = in_process(lambda: items.extend(build()))

    probe = package.connect(folder / "probe.db")
    package.init_schema(probe)
    repository = package.EventRepository(probe)
    insert = repository._insert
    now = "2024-01-01T00:00:00.000000+00:00"
    encoded = [repository._row(item, now) for item in items]
    probe.close()

    def sampler(name: str, work: Any) -> Any:
        def sample(i: int) -> Sample:
            path = folder / f"{name}-{i}.db"
            conn = package.connect(path)
            package.init_schema(conn)
            taken = in_process(lambda: work(conn))
            count = conn.execute("SELECT count(*) FROM events").fetchone()[0]
            conn.close()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            assert count == rows, (name, count)
            return taken

        return sample

    def raw(conn: Any) -> None:
        conn.execute("BEGIN")
        conn.executemany(insert, encoded)
        conn.execute("COMMIT")

    results = interleave(
        {
            "raw executemany (floor)": sampler("raw", raw),
            "EventRepository.create_many": sampler(
                "ours", lambda conn: package.EventRepository(conn).create_many(items)
            ),
        },
        runs,
    )
    report.section(f"generated create_many of {rows:,} built models (median of {runs} interleaved)")
    for s in results.values():
        report.figure(s.name, s, f"{rows / s.wall:,.0f} rows/s")
    report.line(f"building the {rows:,} EventCreate models (information): {building.wall:.3f} s")
    floor, ours = results["raw executemany (floor)"], results["EventRepository.create_many"]
    report.target(
        "create_many / raw executemany",
        ours.wall / floor.wall,
        CREATE_MANY_TARGET,
        detail=f"CPU {ours.cpu / floor.cpu:.2f}x",
    )


def _pg_events(folder: Path) -> Any:
    """The events spec generated for PostgreSQL, imported as ``bench_events_pg``."""
    spec_path = folder / "events-pg.yaml"
    spec_path.write_text(
        EVENTS_SPEC.replace("module: bench_events", "module: bench_events_pg"), encoding="utf-8"
    )
    out = folder / "events-pg-out"
    generate_models(spec_path, out, dialect="postgres")
    sys.path.insert(0, str(out))
    return importlib.import_module("bench_events_pg")


def bench_create_many_postgres(report: Report, rows: int, runs: int, folder: Path) -> None:
    """Generated PostgreSQL create_many (COPY) vs the COPY floor and executemany, interleaved."""
    import datetime

    import psycopg

    from tests import pg_support

    package = _pg_events(folder)
    items = events(package, rows)
    repo_class = package.EventRepository
    now = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    external = os.environ.get("TEST_DATABASE_URL")
    server = None if external else pg_support.PostgresServer.start()
    try:
        url = external or server.url  # type: ignore[union-attr]
        with package.connect(url) as probe:  # _row only encodes: no table needed
            encoded = [repo_class(probe)._row(item, now) for item in items]

        def sampler(work: Any) -> Any:
            def sample(_i: int) -> Sample:
                name = pg_support.new_schema_name()
                with psycopg.connect(url, autocommit=True) as admin:
                    admin.execute(f"CREATE SCHEMA {name}")
                try:
                    with package.connect(pg_support.schema_url(url, name)) as conn:
                        package.init_schema(conn)
                        taken = in_process(lambda: work(conn))
                        count = conn.execute("SELECT count(*) FROM events").fetchone()[0]
                        assert count == rows, count
                finally:
                    with psycopg.connect(url, autocommit=True) as admin:
                        admin.execute(f"DROP SCHEMA {name} CASCADE")
                return taken

            return sample

        def copy_floor(conn: Any) -> None:
            with (
                conn.transaction(),
                conn.cursor() as cursor,
                cursor.copy(repo_class._copy) as copy,
            ):
                for values in encoded:
                    copy.write_row(values)

        def executemany(conn: Any) -> None:
            with conn.transaction(), conn.cursor() as cursor:
                cursor.executemany(repo_class._insert, encoded)

        results = interleave(
            {
                "psycopg COPY of encoded rows (floor)": sampler(copy_floor),
                "executemany of the generated INSERT": sampler(executemany),
                "EventRepository.create_many (COPY)": sampler(
                    lambda conn: repo_class(conn).create_many(items)
                ),
            },
            runs,
        )
    finally:
        if server is not None:
            server.stop()
    report.section(
        f"PostgreSQL: generated create_many of {rows:,} built models (median of {runs} interleaved)"
    )
    for s in results.values():
        report.figure(s.name, s, f"{rows / s.wall:,.0f} rows/s")
    floor = results["psycopg COPY of encoded rows (floor)"]
    many = results["executemany of the generated INSERT"]
    ours = results["EventRepository.create_many (COPY)"]
    report.line(
        f"create_many is {many.wall / ours.wall:.2f}x faster than executemany (information)"
    )
    report.target(
        "postgres create_many / COPY floor",
        ours.wall / floor.wall,
        PG_CREATE_MANY_TARGET,
        detail=f"CPU {ours.cpu / floor.cpu:.2f}x",
    )


def bench_scaling(report: Report, runs: int, folder: Path) -> None:
    """Whole-process and in-process generation time for each size, interleaved; 500/100."""
    specs: dict[int, Path] = {}
    for size in SCALING_SIZES:
        specs[size] = folder / f"scale-{size}.yaml"
        specs[size].write_text(yaml.safe_dump(big_spec(size), sort_keys=False), encoding="utf-8")
    env = isolated_env(folder / "cli")
    tac = tac_command()

    def process(size: int) -> Any:
        def sample(i: int) -> Sample:
            out = folder / f"cli-out-{size}-{i}"
            taken = run_process([*tac, "generate", "models", specs[size], "--out", out], env)
            shutil.rmtree(out)
            return taken

        return sample

    def here(size: int) -> Any:
        def sample(i: int) -> Sample:
            out = folder / f"out-{size}-{i}"
            taken = in_process(lambda: generate_models(specs[size], out))
            shutil.rmtree(out)
            return taken

        return sample

    samplers = {f"{size} entities, process": process(size) for size in SCALING_SIZES}
    samplers |= {f"{size} entities, in-process": here(size) for size in SCALING_SIZES}
    results = interleave(samplers, runs)
    report.section(
        f"generation time by size (20 fields per entity; median of {runs} interleaved rounds)"
    )
    for size in SCALING_SIZES:
        proc, inproc = results[f"{size} entities, process"], results[f"{size} entities, in-process"]
        report.figure(f"{size} entities, process", proc)
        report.figure(
            f"{size} entities, in-process", inproc, f"{inproc.wall / size * 1000:.2f} ms/entity"
        )
    proc = {size: results[f"{size} entities, process"] for size in SCALING_SIZES}
    here_ = {size: results[f"{size} entities, in-process"] for size in SCALING_SIZES}
    report.line(
        f"growth 1000/500: process {proc[1000].wall / proc[500].wall:.2f}x, in-process wall"
        f" {here_[1000].wall / here_[500].wall:.2f}x, CPU {here_[1000].cpu / here_[500].cpu:.2f}x"
        " (linear: 2x)"
    )
    report.target(
        "generate models, 500 / 100 entities (processes)",
        proc[500].wall / proc[100].wall,
        SCALING_TARGET,
        detail=f"process CPU {proc[500].cpu / proc[100].cpu:.2f}x; linear is 5x",
    )
    # The processes carry a fixed start-up (~0.4 s of CPU) that flattens their ratio; the work
    # alone is judged too, by CPU time (steadier than wall on a shared machine).
    report.target(
        "generate models, 500 / 100 entities (in-process CPU, the work alone)",
        here_[500].cpu / here_[100].cpu,
        SCALING_TARGET,
        detail=f"in-process wall {here_[500].wall / here_[100].wall:.2f}x",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--scaling-only", action="store_true")
    parser.add_argument("--postgres", action="store_true", help="also part 4 (PostgreSQL)")
    parser.add_argument("--postgres-only", action="store_true", help="part 4 alone")
    parser.add_argument("--pg-rows", type=int, default=50_000)
    args = parser.parse_args(argv)
    report = Report("model generation benchmark", f"median of {args.runs} interleaved samples")
    with tempfile.TemporaryDirectory(prefix="bench-generate-") as tmp:
        folder = Path(tmp)
        if not (args.scaling_only or args.postgres_only):
            bench_generate(report, args.runs, folder)
            bench_create_many(report, args.rows, args.runs, folder)
        if not args.postgres_only:
            bench_scaling(report, args.runs, folder)
        if args.postgres or args.postgres_only:
            bench_create_many_postgres(report, args.pg_rows, args.runs, folder)
    return report.finish()


if __name__ == "__main__":
    raise SystemExit(main())
