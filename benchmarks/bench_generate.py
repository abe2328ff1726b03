"""Model generation figures: generating a big spec, and ``create_many`` against raw ``executemany``.

Usage: ``uv run python benchmarks/bench_generate.py [--rows N] [--runs N]``

1. Generation: a spec of 100 entities x 20 fields (every field type, constraints, enums, refs,
   composite unique constraints and indexes) goes through ``generate_models`` (read, validate,
   emit the five files, write them). Target: < 1 s (median of ``--runs``).
2. ``create_many``: a generated repository inserts N already-built create models (default 100,000)
   in one transaction, against raw ``conn.executemany`` of the same rows (tuples already encoded)
   on the same schema, both on a fresh database file opened by the generated ``connect()`` (WAL,
   foreign keys on). Target: <= 2.5x. Building the models is reported separately (information):
   it is validation paid wherever a record is made.

Prints the figures and a PASS/FAIL line per target; exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tac_bootstrap_cli.modelgen import generate_models  # noqa: E402

GENERATE_TARGET_S = 1.0
CREATE_MANY_TARGET = 2.5

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


def bench_generate(runs: int, folder: Path) -> float:
    spec_path = folder / "big.yaml"
    spec_path.write_text(yaml.safe_dump(big_spec(), sort_keys=False), encoding="utf-8")
    times = []
    for run in range(runs):
        out = folder / f"big-out-{run}"
        start = time.perf_counter()
        result = generate_models(spec_path, out)
        times.append(time.perf_counter() - start)
    size = sum(p.stat().st_size for p in result.files)
    median = statistics.median(times)
    ok = median < GENERATE_TARGET_S
    print(
        f"generate 100 entities x 20 fields: median {median * 1000:.0f} ms over {runs} runs "
        f"(min {min(times) * 1000:.0f} ms), {len(result.files)} files, {size / 1024:.0f} KiB"
    )
    print(f"  target < {GENERATE_TARGET_S:.1f} s: {'PASS' if ok else 'FAIL'}")
    return median


def bench_create_many(rows: int, runs: int, folder: Path) -> float:
    spec_path = folder / "events.yaml"
    spec_path.write_text(EVENTS_SPEC, encoding="utf-8")
    out = folder / "events-out"
    generate_models(spec_path, out)
    sys.path.insert(0, str(out))
    package: Any = importlib.import_module("bench_events")

    start = time.perf_counter()
    items = [
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
    build = time.perf_counter() - start

    probe = package.connect(folder / "probe.db")
    package.init_schema(probe)
    repository = package.EventRepository(probe)
    insert = repository._insert
    now = "2024-01-01T00:00:00.000000+00:00"
    encoded = [repository._row(item, now) for item in items]
    probe.close()

    ratios, ours, raws = [], [], []
    for run in range(runs):
        conn = package.connect(folder / f"ours-{run}.db")
        package.init_schema(conn)
        start = time.perf_counter()
        count = package.EventRepository(conn).create_many(items)
        ours.append(time.perf_counter() - start)
        assert count == rows, count
        conn.close()

        conn = package.connect(folder / f"raw-{run}.db")
        package.init_schema(conn)
        start = time.perf_counter()
        conn.execute("BEGIN")
        conn.executemany(insert, encoded)
        conn.execute("COMMIT")
        raws.append(time.perf_counter() - start)
        conn.close()
        ratios.append(ours[-1] / raws[-1])

    ratio = statistics.median(ratios)
    ok = ratio <= CREATE_MANY_TARGET
    print(
        f"raw executemany of {rows:,} encoded rows: median {statistics.median(raws):.3f} s "
        f"({rows / statistics.median(raws):,.0f} rows/s)"
    )
    print(
        f"create_many of {rows:,} built models: median {statistics.median(ours):.3f} s "
        f"({rows / statistics.median(ours):,.0f} rows/s); ratio median {ratio:.2f}x "
        f"(runs: {', '.join(f'{r:.2f}' for r in ratios)})"
    )
    print(f"  target <= {CREATE_MANY_TARGET}x raw: {'PASS' if ok else 'FAIL'}")
    print(f"building the {rows:,} EventCreate models (information): {build:.3f} s")
    return ratio


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-generate-") as tmp:
        folder = Path(tmp)
        median = bench_generate(args.runs, folder)
        ratio = bench_create_many(args.rows, args.runs, folder)
    ok = median < GENERATE_TARGET_S and ratio <= CREATE_MANY_TARGET
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
