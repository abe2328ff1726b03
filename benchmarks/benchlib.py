"""Shared code of the benchmarks: isolated processes, interleaved samples, load, PASS/MISS.

Every benchmark script in this folder imports it (run them as ``uv run python benchmarks/X.py``;
the script's folder is on ``sys.path``). The rules it implements (``specs/benchmarks.md``):

- ``isolated_env(base)``: a private HOME, ``XDG_*`` folders, history database and caches, and
  ``PYTHONPYCACHEPREFIX`` so that imports use cached bytecode as on a normal install even where the
  environment sets ``PYTHONDONTWRITEBYTECODE`` (without it every start compiles Typer anew);
- ``interleave({...}, rounds)``: samples of every contestant taken in turns (A, B, A, B...), after
  warm-up rounds that are not kept, so all meet the same machine; the starting contestant rotates
  each round so none always runs right after the same other one;
- ``run_process(cmd, env)``: one whole process, wall time and CPU time (the child's
  ``getrusage``); ``in_process(action)``: wall time and this process's CPU time;
- ``Report``: prints the title, the interpreter and the load averages (``os.getloadavg()``) before
  and after, each figure with its median, each target as ``PASS`` or ``MISS``, and a summary;
  ``finish()`` is the exit code (1 when a target is missed).
"""

from __future__ import annotations

import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable
BIN = Path(sys.executable).parent
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}


class BenchError(RuntimeError):
    """A sampled command failed: the benchmark stops rather than time an error path."""


# --- machine ------------------------------------------------------------------------------------


def load() -> tuple[float, float, float] | None:
    """The 1-, 5- and 15-minute load averages, or ``None`` where the OS has none."""
    try:
        return os.getloadavg()
    except OSError:
        return None


def load_text() -> str:
    """The load averages as ``1.23 / 2.34 / 3.45`` (1, 5, 15 minutes) with the core count."""
    values = load()
    shown = "unknown" if values is None else " / ".join(f"{v:.2f}" for v in values)
    return f"{shown} (1/5/15 min) on {os.cpu_count()} cores"


# --- processes ----------------------------------------------------------------------------------


def write_layer(dest: Path, name: str, language: str, package_manager: str) -> Path:
    """A generated project's layer (plus config.yml) written to ``dest`` through the library API,
    without the pipeline's records: what the hook and telemetry benchmarks run."""
    from tac_bootstrap_cli.config import ProjectConfig, ProjectInfo, dump_config
    from tac_bootstrap_cli.render import render_project

    info = ProjectInfo(name=name, language=language, package_manager=package_manager)
    config = ProjectConfig(project=info)
    for rel, file in render_project(config.template_context()).items():
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(file.content)
        path.chmod(file.mode)
    (dest / "config.yml").write_text(dump_config(config), encoding="utf-8")
    return dest


def tool(name: str) -> Path | None:
    """The console script ``name`` installed beside this interpreter, if any."""
    path = BIN / name
    return path if path.exists() else None


def tac_command() -> list[str]:
    """How to run ``tac-bootstrap`` as a user does: the installed script beside this Python."""
    script = tool("tac-bootstrap")
    return [str(script)] if script else [PY, "-m", "tac_bootstrap_cli"]


def isolated_env(base: Path, **extra: str) -> dict[str, str]:
    """The environment of a benchmark process: its own HOME, caches, history and bytecode.

    Everything lives under ``base``; the same ``base`` gives the same (warm) caches.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    home = base / "home"
    home.mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(home),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_STATE_HOME=str(home / ".local/state"),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local/share"),
        TAC_BOOTSTRAP_DB=str(base / "history.db"),
        PYTHONPYCACHEPREFIX=str(base / "pycache"),
        # python3 is this interpreter, as on a machine whose python3 is a binary (here it is a
        # pyenv shim, a bash script that adds ~50 ms to each hook that doctor runs)
        PATH=os.pathsep.join([str(BIN), env.get("PATH", "")]),
        **GIT_IDENTITY,
    )
    env.update(extra)
    return env


@dataclass(frozen=True)
class Sample:
    """One timed run: wall seconds and CPU seconds (user + system)."""

    wall: float
    cpu: float


def run_process(
    cmd: Sequence[str | os.PathLike[str]],
    env: Mapping[str, str],
    cwd: Path | None = None,
    *,
    ok: Iterable[int] = (0,),
) -> Sample:
    """Run ``cmd`` to its end (output captured, stdin empty); its wall and CPU time.

    CPU time is the difference of ``RUSAGE_CHILDREN`` around the call: the process and the
    children it waited for. A return code outside ``ok`` raises ``BenchError`` with its output.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [os.fspath(part) for part in cmd],
        env=dict(env),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=False,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in tuple(ok):
        shown = " ".join(os.fspath(part) for part in cmd)
        output = (done.stdout + done.stderr).decode(errors="replace")[-3000:]
        raise BenchError(f"{shown} exited {done.returncode}:\n{output}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Sample(wall, cpu)


def in_process(action: Callable[[], object]) -> Sample:
    """Run ``action`` here; its wall time and this process's CPU time (``process_time``)."""
    start, start_cpu = time.perf_counter(), time.process_time()
    action()
    return Sample(time.perf_counter() - start, time.process_time() - start_cpu)


# A command through cli.main (``python WORKER ARGS...``), timed in-process after every module it
# needs is imported: the first run (a warm-up) writes the modules it ended with to $BENCH_MODULES,
# later runs import them before the timer starts, so the figure is the command's work alone. Each
# run appends "wall cpu" (seconds) to $BENCH_TIMING.
CLI_WORKER = """\
import importlib
import os
import sys
import time

from tac_bootstrap_cli import cli

modules = os.environ["BENCH_MODULES"]
if os.path.exists(modules):
    with open(modules, encoding="utf-8") as f:
        for name in f.read().split():
            try:
                importlib.import_module(name)
            except Exception:
                pass
started, started_cpu = time.perf_counter(), time.process_time()
try:
    cli.main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
else:
    code = 0
wall, cpu = time.perf_counter() - started, time.process_time() - started_cpu
with open(os.environ["BENCH_TIMING"], "a", encoding="utf-8") as f:
    f.write(f"{wall} {cpu}\\n")
if not os.path.exists(modules):
    names = [n for n in sys.modules if n != "__main__" and not n.endswith(".__main__")]
    with open(modules, "w", encoding="utf-8") as f:
        f.write("\\n".join(sorted(names)))
sys.exit(code)
"""


def write_cli_worker(path: Path) -> Path:
    """Write ``CLI_WORKER`` to ``path`` (run it with ``PY path ARGS``); returns ``path``."""
    path.write_text(CLI_WORKER, encoding="utf-8")
    return path


def worker_timings(path: Path, *, skip: int = 1) -> Samples:
    """The samples a worker appended to ``path`` (``wall cpu`` per line), the first ``skip``
    (warm-up) left out."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    samples = Samples(path.stem)
    samples.items = [Sample(*map(float, line.split())) for line in lines[skip:]]
    return samples


# --- interleaved sampling -------------------------------------------------------------------------


@dataclass
class Samples:
    """The kept samples of one contestant."""

    name: str
    items: list[Sample] = field(default_factory=list)

    @property
    def wall(self) -> float:
        """Median wall seconds."""
        return statistics.median(s.wall for s in self.items)

    @property
    def cpu(self) -> float:
        """Median CPU seconds."""
        return statistics.median(s.cpu for s in self.items)

    def spread(self) -> str:
        """Min-max of the wall times, for the reader to judge the noise."""
        walls = [s.wall for s in self.items]
        return f"{ms(min(walls))}-{ms(max(walls))}"


def interleave(
    samplers: Mapping[str, Callable[[int], Sample]], rounds: int, *, warmup: int = 1
) -> dict[str, Samples]:
    """Samples of every contestant, in turns: round ``i`` calls each ``sampler(i)`` once.

    The first ``warmup`` rounds are run but not kept (caches, bytecode, the OS's page cache).
    The order within a round rotates (A B C, B C A, C A B...).
    """
    names = list(samplers)
    results = {name: Samples(name) for name in names}
    for i in range(warmup + rounds):
        shift = i % len(names)
        for name in names[shift:] + names[:shift]:
            sample = samplers[name](i)
            if i >= warmup:
                results[name].items.append(sample)
    return results


# --- output ---------------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    """Seconds shown in milliseconds (one decimal below 100 ms)."""
    value = seconds * 1000
    if value < 1:
        return f"{value:.3f} ms"
    return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"


@dataclass
class Verdict:
    """One target: what, the measured value, the limit and whether it was met."""

    label: str
    value: float
    limit: float
    passed: bool
    text: str


class Report:
    """The printed report of one benchmark: header with load, figures, verdicts, summary."""

    def __init__(self, title: str, detail: str = "") -> None:
        """Print the header: ``title``, the interpreter, the machine and the load before."""
        self.verdicts: list[Verdict] = []
        self.load_before = load()
        print(title + (f" ({detail})" if detail else ""))
        print(
            f"python {platform.python_version()} on {platform.system()} {platform.machine()};"
            f" load before: {load_text()}"
        )

    def section(self, title: str) -> None:
        """A blank line and a section title."""
        print()
        print(title)

    def line(self, text: str) -> None:
        """One indented line of figures."""
        print(f"  {text}")

    def figure(self, label: str, samples: Samples, note: str = "") -> None:
        """A contestant's medians: wall (and spread) and CPU."""
        print(
            f"  {label:<48} {ms(samples.wall):>9} wall (n={len(samples.items)},"
            f" {samples.spread()}), {ms(samples.cpu):>9} CPU" + (f"  {note}" if note else "")
        )

    def target(
        self,
        label: str,
        value: float,
        limit: float,
        *,
        at_least: bool = False,
        unit: str = "x",
        detail: str = "",
    ) -> bool:
        """Print ``PASS``/``MISS`` for ``value`` against ``limit`` (``<=``, or ``>=`` with
        ``at_least``) and remember it for the summary."""
        passed = value >= limit if at_least else value <= limit
        sign = ">=" if at_least else "<="
        shown = _number(value, unit)
        text = f"{label}: {shown} (target {sign} {_number(limit, unit)})" + (
            f" [{detail}]" if detail else ""
        )
        print(f"  {'PASS' if passed else 'MISS'}  {text}")
        self.verdicts.append(Verdict(label, value, limit, passed, text))
        return passed

    def finish(self) -> int:
        """Print the load after and every verdict again; 0 when all passed, else 1."""
        print()
        print(f"load after: {load_text()}")
        missed = [v for v in self.verdicts if not v.passed]
        print(
            f"summary: {len(self.verdicts) - len(missed)} of {len(self.verdicts)} targets met"
            + (f"; MISSED: {'; '.join(v.text for v in missed)}" if missed else "")
        )
        return 1 if missed else 0


def _number(value: float, unit: str) -> str:
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "s":
        return f"{value:.3f} s"
    if unit == "/s":
        return f"{value:,.0f}/s"
    if unit == " ms":
        return f"{value:.3f} ms"
    return f"{value:g}{unit}"
