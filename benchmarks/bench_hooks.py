"""Hooks benchmark: the PreToolUse guard as Claude Code runs it, against a python3 floor.

Run: ``uv run python benchmarks/bench_hooks.py`` (``--calls N``, default 200). Renders a project
(the library API, as the CLI would), then times N PreToolUse calls of the guard as whole
processes, exactly as Claude Code runs them: the command from ``.claude/settings.json`` through
``sh -c`` with ``CLAUDE_PROJECT_DIR`` set and the event JSON on stdin. Each guard call is
interleaved with two floors (a ``python3`` process that only reads stdin, with and without
``-S``), so all three meet the same machine state. Two rounds:

- warm: bytecode caches (``__pycache__``) written by earlier calls, as in everyday use;
- cold: ``PYTHONDONTWRITEBYTECODE=1`` and the layer's ``__pycache__`` folders removed, so every
  call compiles the hook modules again (a fresh checkout, a read-only project).

Prints medians, p95 and the machine load (``os.getloadavg``), then PASS/MISS per target and exits
1 on a miss. Targets: the guard's p95 is at most 50 ms above the floor's p95 (judged against the
stricter ``-S`` floor, which starts faster), and 100% of the calls are in the database after.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import write_layer

TARGET_MS = 50.0
FLOORS = {
    "floor": "python3 -c 'import sys; sys.stdin.buffer.read()'",
    "floor -S": "python3 -S -c 'import sys; sys.stdin.buffer.read()'",
}


def guard_command(root: Path) -> str:
    """The PreToolUse command of the project's settings.json."""
    settings = json.loads((root / ".claude" / "settings.json").read_text(encoding="utf-8"))
    return str(settings["hooks"]["PreToolUse"][0]["hooks"][0]["command"])


def timed(command: str, stdin: bytes, cwd: Path, env: dict[str, str]) -> float:
    """Seconds one ``sh -c command`` process takes; it must exit 0 (nothing blocked)."""
    start = time.perf_counter()
    proc = subprocess.run(
        ["/bin/sh", "-c", command], input=stdin, cwd=cwd, env=env, capture_output=True, check=False
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0 or proc.stderr:
        sys.exit(f"{command!r} exited {proc.returncode}: {proc.stderr.decode()[:300]}")
    return elapsed


def p95(values: list[float]) -> float:
    """The 95th percentile (inclusive method)."""
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def clear_caches(root: Path) -> None:
    """Remove the layer's bytecode caches (hooks and adws modules)."""
    for cache in root.rglob("__pycache__"):
        shutil.rmtree(cache)


def one_round(root: Path, calls: int, cold: bool) -> tuple[dict[str, list[float]], str]:
    """Interleaved timings of the guard and the floors; returns them and the session id."""
    session = f"bench-{'cold' if cold else 'warm'}"
    env = {k: v for k, v in os.environ.items() if k not in ("TAC_DB_PATH", "ADW_AGENT_ID")}
    env["CLAUDE_PROJECT_DIR"] = str(root)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if cold:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        clear_caches(root)
    commands = {"guard": guard_command(root), **FLOORS}
    times: dict[str, list[float]] = {name: [] for name in commands}
    names = list(commands)
    for i in range(calls):
        event = {
            "session_id": session,
            "transcript_path": str(root / "transcript.jsonl"),
            "cwd": str(root),
            "permission_mode": "default",
            "hook_event_name": "PreToolUse",
            "tool_name": "Bash",
            "tool_input": {"command": f"ls -la src/module_{i} && go test ./..."},
            "tool_use_id": f"toolu_{i:04d}",
        }
        stdin = json.dumps(event).encode()
        order = names[i % len(names) :] + names[: i % len(names)]  # rotate who goes first
        for name in order:
            times[name].append(timed(commands[name], stdin, root, env))
    return times, session


def recorded(root: Path, session: str) -> int:
    """PreToolUse rows of one benchmark session in the project database."""
    conn = sqlite3.connect(root / "agents" / "orchestrator.db")
    try:
        row = conn.execute(
            "SELECT count(*) FROM agent_logs l JOIN agents a ON a.id = l.agent_id"
            " WHERE a.session_id = ? AND l.message LIKE 'PreToolUse:%'",
            (session,),
        ).fetchone()
    finally:
        conn.close()
    return int(row[0])


def main() -> int:
    """Run both rounds, print the figures and the verdicts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    python3 = shutil.which("python3")
    if python3 is None:
        print("python3 not on PATH: the guard would fall back to uv; nothing to measure")
        return 1
    version = subprocess.run(
        [python3, "-S", "-c", "import sys; print(sys.version.split()[0])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    print(f"python3: {python3} ({version}); {os.cpu_count()} CPUs; {args.calls} calls per round")
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-hooks-") as tmp:
        root = write_layer(Path(tmp) / "bench", "bench", "go", "go")
        for cold in (False, True):
            label = "cold (no bytecode cache)" if cold else "warm (bytecode cached)"
            if not cold:  # one call writes the caches, as any earlier session would have
                timed(guard_command(root), b'{"session_id": "prime"}', root, dict(os.environ,
                      CLAUDE_PROJECT_DIR=str(root)))  # fmt: skip
            load_before = os.getloadavg()
            times, session = one_round(root, args.calls, cold)
            load_after = os.getloadavg()
            print(f"\n{label}: load {load_before[0]:.2f} -> {load_after[0]:.2f} (1-min average)")
            for name, values in times.items():
                print(
                    f"  {name:9} median {statistics.median(values) * 1000:6.1f} ms"
                    f"   p95 {p95(values) * 1000:6.1f} ms"
                )
            guard = p95(times["guard"]) * 1000
            for floor in FLOORS:
                over = guard - p95(times[floor]) * 1000
                judged = floor == "floor -S"
                verdict = ("PASS" if over <= TARGET_MS else "MISS") if judged else "info"
                ok = ok and (over <= TARGET_MS or not judged)
                print(f"  guard p95 - {floor} p95 = {over:5.1f} ms (<= {TARGET_MS:.0f}) {verdict}")
            rows = recorded(root, session)
            verdict = "PASS" if rows == args.calls else "MISS"
            ok = ok and rows == args.calls
            print(f"  recorded {rows}/{args.calls} events {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
