"""Upgrade figure: a full generated project with 20 user-edited files, upgraded in under 1 s.

Usage: ``uv run python benchmarks/bench_upgrade.py [--runs N]``

Setup (not timed): ``init`` of the full layer (Python/uv), committed to git. Then a "new template
version" is simulated the way the tests do: for 20 generated files (the largest text files, base
modules included) the recorded base is replaced by the current rendering minus one line, so the
installed templates "add" that line; the user edited each of the 20 files elsewhere (a changed line
near the top), and that edit is committed. Every upgrade therefore runs 20 real 3-way merges, the
~40 other files are compared and left alone, bases and manifest are rewritten, git is asked for
its status, the project database (schema current) is inspected, and the run is recorded in the
history database.

Figures, median of N runs, each on a fresh copy of the prepared project:
1. ``upgrade`` as a command (``tac-bootstrap upgrade PATH``, a fresh process: imports included)
   -- the target: < 1 s;
2. the work alone (``upgrade.upgrade(PATH)`` in a process that already imported everything).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_cli import isolated_env  # the same private HOME, caches and history as bench_cli

REPO = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).parent / "tac-bootstrap"
EDITED = 20
TARGET_S = 1.0
GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}


def _env(base: Path) -> dict[str, str]:
    return {**isolated_env(base), **GIT_ENV}


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, env={**os.environ, **GIT_ENV}
    )


def prepare(base: Path) -> Path:
    """The committed project with 20 simulated template changes and 20 user edits."""
    from tac_bootstrap_cli import scaffold
    from tac_bootstrap_cli.bases import BASES_PATH, encode_bases, load_bases
    from tac_bootstrap_cli.manifest import MANIFEST_PATH, Entry, load_manifest, sha256

    project = scaffold.init_project("bench-app", base).target
    manifest = load_manifest(project)
    assert manifest is not None
    bases = load_bases(project)
    candidates = sorted(
        (
            (len((project / p).read_bytes()), p)
            for p, e in manifest.files.items()
            if e.kind == "file"
            and p != "config.yml"
            and (project / p).read_bytes().count(b"\n") >= 12
        ),
        reverse=True,
    )
    chosen = [p for _, p in candidates[:EDITED]]
    assert len(chosen) == EDITED, f"only {len(chosen)} files large enough"
    for rel in chosen:
        lines = (project / rel).read_text(encoding="utf-8").splitlines(keepends=True)
        cut = len(lines) * 2 // 3
        old_base = "".join(lines[:cut] + lines[cut + 1 :])  # the "old release" lacked one line
        edit_at = 2 if lines[2].strip() else 3
        mine = old_base.splitlines(keepends=True)
        mine[edit_at] = mine[edit_at].rstrip("\n") + "  # edited by the user\n"
        (project / rel).write_text("".join(mine), encoding="utf-8")
        key = sha256(old_base.encode())
        manifest.files[rel] = Entry(key)
        bases[key] = old_base.encode()
    manifest.template_version = "0.0.1"
    (project / BASES_PATH).write_bytes(encode_bases(bases))
    (project / MANIFEST_PATH).write_text(manifest.to_json(), encoding="utf-8")
    _git(project, "init", "-q", "-b", "main")
    _git(project, "add", "-A")
    _git(project, "commit", "-q", "-m", "generated + user edits")
    return project


def fresh_copy(project: Path, dest: Path) -> Path:
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(project, dest, symlinks=True)
    return dest


def bench(runs: int) -> bool:
    with tempfile.TemporaryDirectory(prefix="bench-upgrade-") as tmp:
        base = Path(tmp)
        env = _env(base)
        os.environ.update(
            {k: env[k] for k in ("HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "TAC_BOOTSTRAP_DB")}
        )
        project = prepare(base / "src")
        work = base / "work" / "bench-app"

        # 1. the command, end to end (one warm-up run fills the template and bytecode caches)
        wall: list[float] = []
        for i in range(runs + 1):
            fresh_copy(project, work)
            start = time.perf_counter()
            proc = subprocess.run(
                [str(SCRIPT), "upgrade", str(work)], env=env, capture_output=True, text=True
            )
            elapsed = time.perf_counter() - start
            if proc.returncode != 0:
                print(proc.stdout, proc.stderr, sep="\n")
                raise SystemExit(f"upgrade exited {proc.returncode}")
            if i:
                wall.append(elapsed)
        merged = proc.stdout.count(" merge ")

        # 2. the work alone, in this process (imports done)
        from tac_bootstrap_cli.history import RunRecorder
        from tac_bootstrap_cli.upgrade import upgrade

        inproc: list[float] = []
        for i in range(runs + 1):
            fresh_copy(project, work)
            start = time.perf_counter()
            with RunRecorder("upgrade", ["bench"]) as rec:
                result = upgrade(work, recorder=rec)
            elapsed = time.perf_counter() - start
            if i:
                inproc.append(elapsed)
        counts = {a.value: n for a, n in result.plan.counts().items()}

    cmd, work_s = statistics.median(wall), statistics.median(inproc)
    print(f"project: {sum(counts.values())} files; plan {counts}")
    print(f"merged files reported by the command: {merged}")
    print(
        f"upgrade command, end to end (median of {runs}): {cmd * 1000:.0f} ms"
        f" (min {min(wall) * 1000:.0f}, max {max(wall) * 1000:.0f})"
    )
    print(
        f"upgrade work in process (median of {runs}): {work_s * 1000:.0f} ms"
        f" (min {min(inproc) * 1000:.0f}, max {max(inproc) * 1000:.0f})"
    )
    passed = cmd < TARGET_S and counts.get("merge") == EDITED
    print(
        f"{'PASS' if passed else 'FAIL'}: 20 user-edited files merged, command < {TARGET_S:.0f} s"
    )
    return passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    if not SCRIPT.exists():
        raise SystemExit(f"{SCRIPT} not found: run with `uv run python {Path(__file__).name}`")
    sys.exit(0 if bench(args.runs) else 1)


if __name__ == "__main__":
    main()
