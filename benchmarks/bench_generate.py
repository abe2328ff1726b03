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

3. Scaling: the same kind of spec with 10, 100, 500 and 1000 entities (20 fields each):
   ``generate_models`` in this process (medians of ``--runs`` rounds, the sizes interleaved in
   each round so that all meet the same machine load), and one whole-process
   ``tac-bootstrap generate models SPEC --out DIR`` per size (imports, history, output). Target:
   500 entities <= 6x the 100-entity time (linear would be 5x). The 1-minute load average is
   printed before and after: on a shared machine it moves the figures more than the code does.

Prints the figures and a PASS/MISS line per target; exits 1 when a target is missed.
``--scaling-only`` runs part 3 alone.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import statistics
import subprocess
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
    print(f"  target < {GENERATE_TARGET_S:.1f} s: {'PASS' if ok else 'MISS'}")
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
    print(f"  target <= {CREATE_MANY_TARGET}x raw: {'PASS' if ok else 'MISS'}")
    print(f"building the {rows:,} EventCreate models (information): {build:.3f} s")
    return ratio


def _load() -> str:
    """The 1-, 5- and 15-minute load averages (the machine is shared)."""
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def _cli_command() -> list[str]:
    """The installed ``tac-bootstrap`` beside this interpreter, else ``python -m``."""
    script = Path(sys.executable).with_name("tac-bootstrap")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tac_bootstrap_cli"]


def _cli_env(folder: Path) -> dict[str, str]:
    """A private HOME and history database, so the runs touch nothing of the user's."""
    home = folder / "home"
    home.mkdir(exist_ok=True)
    return dict(
        os.environ,
        HOME=str(home),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_STATE_HOME=str(home / ".local/state"),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local/share"),
        TAC_BOOTSTRAP_DB=str(folder / "history.db"),
    )


def bench_scaling(runs: int, folder: Path) -> float:
    """In-process and whole-process generation time for each size; the 500/100 ratio."""
    print(f"load average before scaling: {_load()}")
    specs: dict[int, Path] = {}
    for size in SCALING_SIZES:
        specs[size] = folder / f"scale-{size}.yaml"
        specs[size].write_text(yaml.safe_dump(big_spec(size), sort_keys=False), encoding="utf-8")
    times: dict[int, list[float]] = {size: [] for size in SCALING_SIZES}
    cpu: dict[int, list[float]] = {size: [] for size in SCALING_SIZES}
    for _round in range(runs):
        for size in SCALING_SIZES:  # interleaved: every size meets the same load in each round
            out = folder / f"scale-out-{size}"
            shutil.rmtree(out, ignore_errors=True)
            start, start_cpu = time.perf_counter(), time.process_time()
            generate_models(specs[size], out)
            times[size].append(time.perf_counter() - start)
            # CPU time too: on a shared machine it leaves out the waits for a core.
            cpu[size].append(time.process_time() - start_cpu)
    process: dict[int, float] = {}
    env = _cli_env(folder)
    for size in SCALING_SIZES:
        out = folder / f"scale-cli-{size}"
        args = [*_cli_command(), "generate", "models", str(specs[size]), "--out", str(out)]
        start = time.perf_counter()
        subprocess.run(args, env=env, check=True, stdout=subprocess.DEVNULL)
        process[size] = time.perf_counter() - start
    medians = {size: statistics.median(values) for size, values in times.items()}
    cpus = {size: statistics.median(values) for size, values in cpu.items()}
    print(f"generation time by size (20 fields per entity; median of {runs} interleaved rounds):")
    print("  entities  in-process  per entity  in-process CPU  whole process")
    for size in SCALING_SIZES:
        per = medians[size] / size * 1000
        print(
            f"  {size:>8}  {medians[size]:>8.3f} s  {per:>7.2f} ms  {cpus[size]:>12.3f} s"
            f"  {process[size]:>11.3f} s"
        )
    ratio = medians[500] / medians[100]
    print(
        f"growth: 500/100 entities {ratio:.2f}x (linear: 5x), 1000/500 "
        f"{medians[1000] / medians[500]:.2f}x (linear: 2x), 100/10 "
        f"{medians[100] / medians[10]:.2f}x; CPU time 500/100 {cpus[500] / cpus[100]:.2f}x, "
        f"1000/500 {cpus[1000] / cpus[500]:.2f}x"
    )
    print(f"  target 500 entities <= {SCALING_TARGET:.0f}x 100: ", end="")
    print("PASS" if ratio <= SCALING_TARGET else "MISS")
    print(f"load average after scaling: {_load()}")
    return ratio


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--scaling-only", action="store_true")
    args = parser.parse_args(argv)
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-generate-") as tmp:
        folder = Path(tmp)
        if not args.scaling_only:
            median = bench_generate(args.runs, folder)
            ratio = bench_create_many(args.rows, args.runs, folder)
            ok = median < GENERATE_TARGET_S and ratio <= CREATE_MANY_TARGET
        growth = bench_scaling(args.runs, folder)
    return 0 if ok and growth <= SCALING_TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
