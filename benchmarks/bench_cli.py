"""CLI figures in one run: startup of ``--help`` and the cost of ``init`` against a naive floor.

Usage: ``uv run python benchmarks/bench_cli.py [--runs N]``

1. Startup, median of N cold processes: ``python -c pass``, ``python -c "import typer"``,
   ``tac-bootstrap --help`` (targets: <= 8x the first, <= 1.3x the second), and, for information,
   ``tac-bootstrap init --help``, which goes through Typer.
2. ``init`` of the full layer against the naive floor, a plain Jinja2 compile-render-write of the same
   template files (every file through ``Environment.get_template``, no cache). Each sample is a fresh
   process; the timer starts after imports, so the figure is the work itself (target: <= 0.5x).
   End-to-end wall times of both as commands are printed too, and ``init`` with an empty template
   cache (the first run on a machine).

Every process gets a private HOME, history database, template cache and ``PYTHONPYCACHEPREFIX``:
the bytecode of the interpreter's imports is cached as on a normal install, even where the
environment sets ``PYTHONDONTWRITEBYTECODE`` (which would make every start compile Typer anew).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable
SCRIPT = Path(sys.executable).parent / "tac-bootstrap"


def isolated_env(base: Path) -> dict[str, str]:
    """The environment of a benchmark process: its own HOME, history, caches and bytecode."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    home = base / "home"
    env.update(
        HOME=str(home),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_STATE_HOME=str(home / ".local/state"),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local/share"),
        TAC_BOOTSTRAP_DB=str(base / "history.db"),
        PYTHONPYCACHEPREFIX=str(base / "pycache"),
    )
    return env


def _wall(cmd: list[str], env: dict[str, str], runs: int, cwd: Path | None = None) -> float:
    """Median wall time (s) of ``cmd`` over ``runs`` processes, after one warm-up."""
    subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, check=True)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# --- the work measured inside a worker process -------------------------------------------------


def _naive(out: Path) -> None:
    """The floor: compile, render and write every template file with plain Jinja2."""
    import jinja2

    from tac_bootstrap_cli.render.engine import IGNORED_DIRS
    from tac_bootstrap_cli.render.filters import FILTERS

    root = Path(os.environ["BENCH_TEMPLATES"])
    context = json.loads(Path(os.environ["BENCH_CONTEXT"]).read_text(encoding="utf-8"))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(root)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters.update(FILTERS)
    for path in sorted(root.rglob("*")):
        if path.is_file() and not IGNORED_DIRS & set(path.parts):
            rel = path.relative_to(root).as_posix()
            dest = out / rel.removesuffix(".j2")
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(env.get_template(rel).render(context), encoding="utf-8")


def _ours(out: Path) -> None:
    """What ``tac-bootstrap init bench`` does after argument parsing, history included."""
    from tac_bootstrap_cli import scaffold
    from tac_bootstrap_cli.history import RunRecorder

    with RunRecorder("init", ["tac-bootstrap", "init", "bench"]) as rec:
        scaffold.init_project("bench", out.parent, recorder=rec)


def _worker(kind: str, out: Path) -> None:
    # Imports first, then time only the work.
    import jinja2  # noqa: F401

    from tac_bootstrap_cli.render import filters  # noqa: F401

    if kind == "ours":
        import tac_bootstrap_cli._adws.adw_modules.adw_logging  # noqa: F401  (imported lazily by the CLI)
        from tac_bootstrap_cli import scaffold  # noqa: F401
        from tac_bootstrap_cli.history import RunRecorder  # noqa: F401
    work = _naive if kind == "naive" else _ours
    start = time.perf_counter()
    work(out)
    print(f"{(time.perf_counter() - start) * 1000:.3f}")


def _sample(kind: str, env: dict[str, str], out: Path) -> float:
    """One in-process time (s) of ``kind``'s work, in a fresh process."""
    done = subprocess.run(
        [PY, __file__, "--worker", kind, str(out)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    shutil.rmtree(out.parent, ignore_errors=True)
    return float(done.stdout.split()[-1]) / 1000


def _work(env: dict[str, str], base: Path, runs: int) -> tuple[float, float]:
    """Median in-process times (s) of the naive floor and of ours, each sample a fresh process.

    Samples alternate (naive, ours, naive, ...) so that both meet the same machine: on a shared
    disk the write time of the same files drifts by 2x within seconds.
    """
    times: dict[str, list[float]] = {"naive": [], "ours": []}
    for i in range(runs + 1):
        for kind in times:
            seconds = _sample(kind, env, base / f"{kind}-{i}" / "bench")
            if i:  # the first round warms the template cache (ours) and the OS caches (both)
                times[kind].append(seconds)
    return statistics.median(times["naive"]), statistics.median(times["ours"])


def main() -> None:
    """Print every figure with its target."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--worker", nargs=2, metavar=("KIND", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args.worker[0], Path(args.worker[1]))
        return
    runs = args.runs
    base = Path(tempfile.mkdtemp(prefix="bench-cli-"))
    try:
        env = isolated_env(base)
        from tac_bootstrap_cli.config import ProjectConfig, ProjectInfo
        from tac_bootstrap_cli.render.engine import IGNORED_DIRS, templates_root

        context = ProjectConfig(project=ProjectInfo(name="bench")).template_context()
        (base / "context.json").write_text(json.dumps(context), encoding="utf-8")
        env.update(BENCH_CONTEXT=str(base / "context.json"), BENCH_TEMPLATES=str(templates_root()))
        print(f"tac-bootstrap CLI benchmark (median of {runs}; Python {sys.version.split()[0]})")
        print()
        py_pass = _wall([PY, "-c", "pass"], env, runs)
        py_typer = _wall([PY, "-c", "import typer"], env, runs)
        helps = _wall([str(SCRIPT), "--help"], env, runs)
        init_help = _wall([str(SCRIPT), "init", "--help"], env, runs)
        print("startup")
        print(f"  python -c pass                {py_pass * 1000:8.1f} ms")
        print(f"  python -c 'import typer'      {py_typer * 1000:8.1f} ms")
        print(f"  tac-bootstrap --help          {helps * 1000:8.1f} ms")
        verdicts = [
            _verdict("--help vs python -c pass", helps / py_pass, 8.0),
            _verdict("--help vs import typer", helps / py_typer, 1.3),
        ]
        print(
            f"  tac-bootstrap init --help     {init_help * 1000:8.1f} ms"
            f"   {init_help / py_typer:5.2f}x typer (through Typer; no target)"
        )
        print()
        naive, ours = _work(env, base, runs)
        root = templates_root()
        files = [p for p in root.rglob("*") if p.is_file() and not IGNORED_DIRS & set(p.parts)]
        j2 = sum(1 for p in files if p.name.endswith(".j2"))
        size = sum(p.stat().st_size for p in files)
        print(f"init of the full layer ({len(files)} template files, {j2} .j2, {size // 1024} KiB)")
        print(f"  naive floor (compile+render+write) {naive * 1000:8.1f} ms")
        print(f"  tac-bootstrap init (work)          {ours * 1000:8.1f} ms")
        verdicts.append(_verdict("init vs naive floor", ours / naive, 0.5))
        shm = Path("/dev/shm")
        if shm.is_dir() and os.access(shm, os.W_OK):
            # Same comparison with the output in memory: what remains is template work, not disk.
            mem = Path(tempfile.mkdtemp(prefix="bench-cli-", dir=shm))
            try:
                naive_mem, ours_mem = _work(env, mem, runs)
            finally:
                shutil.rmtree(mem, ignore_errors=True)
            print(
                f"  output on tmpfs: naive {naive_mem * 1000:.1f} ms, init {ours_mem * 1000:.1f} ms"
                f" = {ours_mem / naive_mem:.2f}x (information)"
            )
        projects = base / "projects"
        projects.mkdir()
        counter = iter(range(10_000))

        def e2e_ours() -> list[str]:
            return [str(SCRIPT), "init", f"p{next(counter)}", "-o", str(projects), "--yes"]

        times = []
        for i in range(runs + 1):
            start = time.perf_counter()
            subprocess.run(e2e_ours(), env=env, capture_output=True, check=True)
            if i:
                times.append(time.perf_counter() - start)
        e2e = statistics.median(times)
        times = []
        for i in range(runs + 1):
            out = base / f"naive-e2e-{i}" / "bench"
            start = time.perf_counter()
            subprocess.run(
                [PY, __file__, "--worker", "naive", str(out)],
                env=env,
                capture_output=True,
                check=True,
            )
            if i:
                times.append(time.perf_counter() - start)
        e2e_naive = statistics.median(times)
        cold = []
        for i in range(runs):
            cold_env = dict(env, TAC_BOOTSTRAP_CACHE_DIR=str(base / f"cold-cache-{i}"))
            start = time.perf_counter()
            subprocess.run(
                [str(SCRIPT), "init", f"cold{i}", "-o", str(projects), "--yes"],
                env=cold_env,
                capture_output=True,
                check=True,
            )
            cold.append(time.perf_counter() - start)
        print(
            f"  end to end: tac-bootstrap init      {e2e * 1000:8.1f} ms (process, imports, history)"
        )
        print(
            f"  end to end: naive script            {e2e_naive * 1000:8.1f} ms (process, jinja2 import)"
        )
        print(
            f"  end to end: init, empty template cache {statistics.median(cold) * 1000:5.1f} ms"
            " (first run on a machine)"
        )
    finally:
        shutil.rmtree(base, ignore_errors=True)
    if not all(verdicts):
        sys.exit(1)


def _verdict(what: str, ratio: float, target: float) -> bool:
    ok = ratio <= target
    print(f"  {'PASS' if ok else 'FAIL'}  {what}: {ratio:.2f}x (target <= {target}x)")
    return ok


if __name__ == "__main__":
    main()
