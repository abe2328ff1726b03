"""CLI figures as a user waits for them: ``init`` against a naive floor and two peers, the
commands and every ``--help`` against a bare ``import typer``.

Usage: ``uv run --group bench python benchmarks/bench_cli.py [--runs N] [--only PART]``
(copier and cookiecutter come from the ``bench`` dependency group; without them their figures
are skipped and reported as missing).

Every figure is the median of N samples taken interleaved (A, B, A, B..., the order rotating
each round) after one warm-up round that is not kept; every sample is a whole process with a
private HOME, history, caches and cached bytecode (``benchlib.isolated_env``), so caches are
warm on every side.

1. ``init`` (``tac-bootstrap init bench --yes -o DIR``, the python/uv project: layer, base
   modules, application skeleton) against
   - the naive floor, a process of what a competent engineer writes with the same library:
     Jinja2 ``Environment(loader=FileSystemLoader, bytecode_cache=FileSystemBytecodeCache(dir))``
     rendering only the ``.j2`` files ``init`` renders (with the project's own filters), every
     other file copied with ``shutil.copyfile``, the answers saved (target: <= 2.0x);
   - ``cookiecutter --no-input`` (target: init <= 0.8x) and ``copier copy --defaults --data
     name=bench`` (target: init <= 0.4x) on templates made at benchmark time from the same files
     (see ``build_peers``; the output of every contestant is checked byte for byte against
     ``init``'s before timing).
   In-process figures (information): the floor's work after its imports, and ``init`` run
   through ``cli.main`` in a process that already imported every module ``init`` ends up
   using (the list is taken from the warm-up run), so process minus work is start-up.
2. ``--help`` of every command and subcommand (found by reading the help itself) against
   ``python -c "import typer"`` (target: each <= 1.3x).
3. ``add-agentic`` (a fresh copy of a plain Python project each time), ``render`` (nothing
   changed), ``doctor`` and ``runs`` against ``python -c "import typer"`` (target: each <= 2.5x).
   ``render`` of an unchanged project is answered by the previous render's receipt
   (``specs/render-receipts.md``); the same render without a receipt (the first after a change)
   is sampled in the same rounds and printed as information, and the report counts how many
   renders the receipts answered.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from benchlib import (
    PY,
    REPO,
    BenchError,
    Report,
    Sample,
    interleave,
    isolated_env,
    ms,
    run_process,
    tac_command,
    tool,
    worker_timings,
    write_cli_worker,
)

TEMPLATES = REPO / "templates"
APP_TEMPLATES = REPO / "app_templates" / "python"
ADWS = REPO / "tac_bootstrap_cli" / "_adws"
FILTERS_PY = REPO / "tac_bootstrap_cli" / "render" / "filters.py"
# What the engine never takes from a template folder (render/engine.py: IGNORED_DIRS and the
# files it skips), and the package plumbing of _adws that projects do not get.
IGNORED_DIRS = {"__pycache__", ".ruff_cache", ".mypy_cache", ".pytest_cache", ".hypothesis", ".git"}
NOT_SHIPPED = {"__init__.py", "py.typed"}
NAME = "bench"
# init's own records (the floor saves its answers too, as .answers.json; peers keep theirs)
OWN_FILES = ("config.yml", ".tac-bootstrap/")

INIT_TARGET_FLOOR = 2.0
INIT_TARGET_COOKIECUTTER = 0.8
INIT_TARGET_COPIER = 0.4
HELP_TARGET = 1.3
COMMAND_TARGET = 2.5

TYPER = [PY, "-c", "import typer"]

# --- the naive floor ------------------------------------------------------------------------------

FLOOR_SCRIPT = '''\
"""Naive init: Jinja2 with its bytecode cache renders the .j2 files; other files are copied."""

import json
import os
import shutil
import sys
import time

import jinja2

from bench_filters import FILTERS

SKIP_DIRS = {"__pycache__", ".ruff_cache", ".mypy_cache", ".pytest_cache", ".hypothesis", ".git"}


def walk(root):
    """(relative path, file, mode) of every file under root."""
    pending = [(root, "")]
    while pending:
        folder, prefix = pending.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir():
                    if entry.name not in SKIP_DIRS:
                        pending.append((entry.path, prefix + entry.name + "/"))
                elif not entry.name.endswith(".pyc"):
                    yield prefix + entry.name, entry.path, entry.stat().st_mode


def main():
    started, started_cpu = time.perf_counter(), time.process_time()
    config, out = sys.argv[1], sys.argv[2]
    with open(config, encoding="utf-8") as f:
        setup = json.load(f)
    context = setup["context"]
    env = jinja2.Environment(
        loader=jinja2.PrefixLoader(
            {name: jinja2.FileSystemLoader(root) for name, root in setup["renders"].items()}
        ),
        bytecode_cache=jinja2.FileSystemBytecodeCache(setup["cache"]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters.update(FILTERS)
    made = set()
    jobs = [(name, root, "", True) for name, root in setup["renders"].items()]
    jobs.append(("", setup["copies"], "adws/", False))
    for name, root, into, render in jobs:
        for rel, path, mode in walk(root):
            if not render and rel in ("__init__.py", "py.typed"):
                continue  # package plumbing, not shipped
            template = render and rel.endswith(".j2")
            target = rel[:-3] if template else rel
            if "{" in target:  # names hold Jinja too; an empty part drops the file
                target = env.from_string(target).render(context)
                if "" in target.split("/"):
                    continue
            dest = os.path.join(out, into + target)
            folder = os.path.dirname(dest)
            if folder not in made:
                os.makedirs(folder, exist_ok=True)
                made.add(folder)
            if template:
                text = env.get_template(name + "/" + rel).render(context)
                with open(dest, "wb") as f:
                    f.write(text.encode("utf-8"))
            else:
                shutil.copyfile(path, dest)
            if mode & 0o100:
                os.chmod(dest, 0o755)
    with open(os.path.join(out, ".answers.json"), "w", encoding="utf-8") as f:
        json.dump(context, f)
    timing = os.environ.get("BENCH_TIMING")
    if timing:
        with open(timing, "a", encoding="utf-8") as f:
            f.write(f"{time.perf_counter() - started} {time.process_time() - started_cpu}\\n")


main()
'''

EXTENSION = '''

from jinja2.ext import Extension


class TacFilters(Extension):
    """The project's filters (render/filters.py, copied above) for the peer's environment."""

    def __init__(self, environment):
        super().__init__(environment)
        environment.filters.update(FILTERS)
'''


# --- the peers' templates -----------------------------------------------------------------------


def _files(root: Path, *, base_modules: bool = False) -> list[tuple[str, Path]]:
    """(relative path, file) of every file the engine takes from ``root``, sorted."""
    found = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if not path.is_file() or IGNORED_DIRS.intersection(rel.parts) or path.suffix == ".pyc":
            continue
        if base_modules and len(rel.parts) == 1 and rel.name in NOT_SHIPPED:
            continue
        found.append((rel.as_posix(), path))
    return found


def _render_name(rel: str, context: dict[str, object]) -> str | None:
    """A template path as the engine renders it for ``context``; None when it drops the file."""
    if "{" not in rel:
        return rel
    import jinja2

    rendered = jinja2.Environment().from_string(rel).render(context)
    return None if "" in rendered.split("/") else rendered


def _prefixed(rel: str, names: list[str], prefix: str) -> str:
    """``rel`` with every top-level context name inside ``{{ }}`` and ``{% %}`` prefixed
    (cookiecutter's variables live under ``cookiecutter.``)."""
    pattern = re.compile(r"(?<![\w.\"'])(" + "|".join(map(re.escape, names)) + r")\b")
    tags = r"\{\{.*?\}\}|\{%.*?%\}"
    return re.sub(tags, lambda m: pattern.sub(prefix + r"\1", m.group(0)), rel)


def _sources(context: dict[str, object]) -> list[tuple[str, Path, bool]]:
    """(template path, file, rendered?) of what init writes for ``context``: layer templates,
    application skeleton, base modules; files whose path renders empty for it are left out."""
    picked: list[tuple[str, Path, bool]] = []
    for root in (TEMPLATES, APP_TEMPLATES):
        for rel, path in _files(root):
            if _render_name(rel.removesuffix(".j2"), context) is not None:
                picked.append((rel, path, rel.endswith(".j2")))
    picked += [("adws/" + rel, path, False) for rel, path in _files(ADWS, base_modules=True)]
    return picked


def _copy(path: Path, dest: Path, prefix: str = "") -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    if prefix:
        dest.write_bytes(prefix.encode("utf-8") + path.read_bytes())
    else:
        shutil.copyfile(path, dest)
    shutil.copymode(path, dest)


def _verbatim_patterns(sources: list[tuple[str, Path, bool]]) -> list[str]:
    """cookiecutter ``_copy_without_render`` entries: the topmost folders holding no template,
    and the verbatim files of folders that do (what a template author would write)."""
    rendered_dirs: set[str] = set()
    for rel, _path, render in sources:
        if render or "{" in rel:
            parts = rel.split("/")[:-1]
            rendered_dirs.update("/".join(parts[: i + 1]) for i in range(len(parts)))
    patterns: set[str] = set()
    for rel, _path, render in sources:
        if render or "{" in rel:
            continue
        parts = rel.split("/")
        for i in range(1, len(parts)):
            folder = "/".join(parts[:i])
            if folder not in rendered_dirs:
                patterns.add(folder)
                break
        else:
            patterns.add(rel)
    return sorted(patterns)


def build_peers(base: Path, context: dict[str, object]) -> tuple[Path, Path, Path]:
    """A cookiecutter template, a copier template and the filters extension's folder, made from
    the files init writes for ``context`` (the differences are listed in the README):

    - ``.j2`` files lose the suffix for cookiecutter (which renders every file not listed in
      ``_copy_without_render``); copier renders exactly the ``.j2`` files
      (``_templates_suffix: .j2``) and copies the rest, as init does;
    - the answers are the same values: for copier one computed question (``when: false``) per
      top-level name, so the files are used unchanged; for cookiecutter one private variable
      ``_ctx`` (kept as typed JSON), and each rendered file starts with
      ``{% set project = cookiecutter._ctx.project %}``... (one ``set`` per name, no newline);
    - the project's filters (``render/filters.py``) are a Jinja2 extension in both;
    - files whose path renders empty for these answers (other package managers') are left out,
      as cookiecutter cannot drop a file by its name.
    """
    sources = _sources(context)
    names = list(context)
    filters = FILTERS_PY.read_text(encoding="utf-8") + EXTENSION

    cc = base / "cookiecutter"
    project_dir = cc / "{{cookiecutter.project_slug}}"
    shim = "".join(f"{{% set {n} = cookiecutter._ctx.{n} %}}" for n in names)
    for rel, path, render in sources:
        out = _prefixed(rel.removesuffix(".j2"), names, "cookiecutter._ctx.")
        _copy(path, project_dir / out, shim if render else "")
    (cc / "local_extensions.py").write_text(filters, encoding="utf-8")
    cc_json = {
        "project_slug": NAME,
        "_ctx": context,
        "_extensions": ["local_extensions.TacFilters"],
        "_copy_without_render": _verbatim_patterns(sources),
    }
    (cc / "cookiecutter.json").write_text(json.dumps(cc_json, indent=2), encoding="utf-8")

    cp = base / "copier"
    for rel, path, _render in sources:
        _copy(path, cp / "template" / rel)
    ext = base / "ext"
    ext.mkdir()
    (ext / "tac_filters_ext.py").write_text(filters, encoding="utf-8")
    questions: dict[str, object] = {
        "_subdirectory": "template",
        "_templates_suffix": ".j2",
        "_jinja_extensions": ["tac_filters_ext.TacFilters"],
        "_envops": {"undefined": "jinja2.StrictUndefined"},
        "name": {"type": "str", "help": "Project name", "default": NAME},
    }
    for n in names:
        questions[n] = {"type": "yaml", "default": json.dumps(context[n]), "when": False}
    (cp / "copier.yml").write_text(json.dumps(questions, indent=2), encoding="utf-8")
    return cc, cp, ext


# --- checks -------------------------------------------------------------------------------------


def _tree(folder: Path, *, skip: tuple[str, ...] = ()) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path -> bytes), ``skip`` prefixes left out."""
    return {
        rel: p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file() and not (rel := p.relative_to(folder).as_posix()).startswith(skip)
    }


# init keeps its part of these two files between markers (blocks.py: MANAGED_FILES), so that a
# user's own lines around it survive; the others write the template's output alone.
MARKED = {
    ".gitignore": (b"# >>> tac-bootstrap >>>\n", b"# <<< tac-bootstrap <<<\n"),
    "README.md": (b"<!-- >>> tac-bootstrap >>> -->\n", b"<!-- <<< tac-bootstrap <<< -->\n"),
}


def _unmarked(path: str, content: bytes) -> bytes:
    start, end = MARKED.get(path, (b"", b""))
    if start and content.startswith(start) and content.endswith(end):
        return content[len(start) : -len(end)]
    return content


def _same_output(ours: dict[str, bytes], other: dict[str, bytes], who: str) -> str:
    """One line saying whether ``other`` wrote init's files byte for byte (init's block
    markers aside)."""
    missing = sorted(set(ours) - set(other))
    extra = sorted(set(other) - set(ours))
    differ = sorted(p for p in set(ours) & set(other) if _unmarked(p, ours[p]) != other[p])
    if not (missing or extra or differ):
        marked = sorted(p for p in MARKED if p in other and ours[p] != other[p])
        aside = f" (init's block markers aside: {', '.join(marked)})" if marked else ""
        return f"{who}: the same {len(other)} files as init, byte for byte{aside}"
    return (
        f"{who}: DIFFERS from init: missing {missing[:5]}, extra {extra[:5]}, "
        f"different bytes {differ[:5]}"
    )


def _help_commands(env: dict[str, str]) -> list[list[str]]:
    """Every command path, read from the help texts (root first)."""
    found: list[list[str]] = [[]]
    pending: list[list[str]] = [[]]
    while pending:
        path = pending.pop(0)
        text = _output([*tac_command(), *path, "--help"], env)
        lines = text.splitlines()
        if "Commands:" not in lines:
            continue
        for line in lines[lines.index("Commands:") + 1 :]:
            if not line.strip():
                break  # the list ends at the first blank line
            m = re.match(r"  (\S+)", line)
            if m and not line.startswith("   "):  # a wrapped description is indented more
                found.append([*path, m.group(1)])
                pending.append([*path, m.group(1)])
    return found


def _output(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> str:
    import subprocess

    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BenchError(f"{' '.join(cmd)} exited {done.returncode}: {done.stderr[-2000:]}")
    return done.stdout


# --- the parts ------------------------------------------------------------------------------------


def _peer_commands(
    cookiecutter: Path | None,
    copier: Path | None,
    cc: Path,
    cp: Path,
    out: Callable[[str, int], Path],
) -> dict[str, Callable[[int], list[str | Path]]]:
    """The peers' command lines for sample ``i`` (only the peers that are installed)."""
    commands: dict[str, Callable[[int], list[str | Path]]] = {}
    if cookiecutter:
        commands["cookiecutter"] = lambda i: [
            cookiecutter,
            "--no-input",
            "-o",
            out("cookiecutter", i),
            cc,
        ]
    if copier:
        commands["copier"] = lambda i: [
            copier,
            "copy",
            "--trust",
            "--defaults",
            "--data",
            f"name={NAME}",
            cp,
            out("copier", i) / NAME,
        ]
    return commands


def bench_init(report: Report, base: Path, env: dict[str, str], runs: int) -> None:
    """Part 1: init against the floor and the peers."""
    tac = tac_command()
    work = base / "init"
    work.mkdir()
    probe = work / "probe"
    run_process([*tac, "init", NAME, "--yes", "-o", probe], env)
    from tac_bootstrap_cli.config import load_config

    context = load_config(probe / NAME).template_context()
    ours_tree = _tree(probe / NAME, skip=OWN_FILES)

    setup = work / "floor.json"
    setup.write_text(
        json.dumps(
            {
                "context": context,
                "renders": {"layer": str(TEMPLATES), "app": str(APP_TEMPLATES)},
                "copies": str(ADWS),
                "cache": str(work / "jinja-cache"),
            }
        ),
        encoding="utf-8",
    )
    (work / "jinja-cache").mkdir()
    floor_dir = work / "floor"
    floor_dir.mkdir()
    (floor_dir / "floor.py").write_text(FLOOR_SCRIPT, encoding="utf-8")
    shutil.copyfile(FILTERS_PY, floor_dir / "bench_filters.py")
    write_cli_worker(work / "ours_inproc.py")
    cc, cp, ext = build_peers(work / "peers", context)
    cookiecutter, copier = tool("cookiecutter"), tool("copier")
    copier_env = dict(env, PYTHONPATH=str(ext))

    def out(kind: str, i: int) -> Path:
        return work / "out" / f"{kind}-{i}"

    commands: dict[str, Callable[[int], list[str | Path]]] = {
        "floor": lambda i: [PY, floor_dir / "floor.py", setup, out("floor", i) / NAME],
        "init": lambda i: [*tac, "init", NAME, "--yes", "-o", out("init", i)],
    }
    # The floor in a process that also imports Typer, which every tac-bootstrap command is built
    # on (information: the part of init's time that is the CLI framework's, not ours).
    with_libraries = (
        "import runpy, sys, typer;"
        f" sys.path.insert(0, {str(floor_dir)!r});"
        f" runpy.run_path({str(floor_dir / 'floor.py')!r}, run_name='__main__')"
    )
    commands[FLOOR_WITH_LIBRARIES] = lambda i: [
        PY,
        "-c",
        with_libraries,
        setup,
        out(FLOOR_WITH_LIBRARIES, i) / NAME,
    ]
    commands.update(_peer_commands(cookiecutter, copier, cc, cp, out))

    timing_floor, timing_ours = work / "floor-inproc.txt", work / "init-inproc.txt"
    envs = {
        "floor": dict(env, BENCH_TIMING=str(timing_floor)),
        "init": env,
        FLOOR_WITH_LIBRARIES: dict(env, BENCH_TIMING=os.devnull),
        "cookiecutter": env,
        "copier": copier_env,
    }
    # Check: every other contestant writes init's files, byte for byte.
    for kind, make in commands.items():
        if kind == "init":
            continue
        run_process(make(-1), dict(envs[kind], BENCH_TIMING=os.devnull))
        other = _tree(out(kind, -1) / NAME, skip=(*OWN_FILES, ".answers.json"))
        report.line(_same_output(ours_tree, other, kind))
        shutil.rmtree(out(kind, -1))

    def sampler(kind: str) -> Callable[[int], Sample]:
        def sample(i: int) -> Sample:
            taken = run_process(commands[kind](i), envs[kind])
            shutil.rmtree(out(kind, i), ignore_errors=True)
            return taken

        return sample

    samplers = {kind: sampler(kind) for kind in commands}
    ours_inproc_env = dict(
        env, BENCH_TIMING=str(timing_ours), BENCH_MODULES=str(work / "init-modules.txt")
    )
    samplers["init (in-process)"] = lambda i: _inproc_init(work, ours_inproc_env, i)
    results = interleave(samplers, runs)

    files = len(ours_tree)
    renders = sum(1 for rel, _p, render in _sources(context) if render)
    report.section(
        f"init of the python/uv project ({files} files besides init's own records,"
        f" {renders} rendered .j2; median of {runs} interleaved processes)"
    )
    for kind in commands:
        report.figure(kind, results[kind])
    floor_in, ours_in = worker_timings(timing_floor), worker_timings(timing_ours)
    report.figure("floor, work after imports (in-process)", floor_in)
    report.figure("init, work after all its imports (in-process)", ours_in)
    init = results["init"]
    report.target(
        "init / naive floor (processes)",
        init.wall / results["floor"].wall,
        INIT_TARGET_FLOOR,
        detail=f"CPU {init.cpu / results['floor'].cpu:.2f}x",
    )
    for peer, limit in (("cookiecutter", INIT_TARGET_COOKIECUTTER), ("copier", INIT_TARGET_COPIER)):
        if peer in results:
            report.target(
                f"init / {peer} (processes)",
                init.wall / results[peer].wall,
                limit,
                detail=f"CPU {init.cpu / results[peer].cpu:.2f}x",
            )
        else:
            report.target(f"init / {peer}: not installed (uv run --group bench)", 99, limit)
    libraries = results[FLOOR_WITH_LIBRARIES]
    report.line(
        f"information: {FLOOR_WITH_LIBRARIES} / floor {libraries.wall / results['floor'].wall:.2f}x"
        f" (CPU {libraries.cpu / results['floor'].cpu:.2f}x); init / ({FLOOR_WITH_LIBRARIES})"
        f" {init.wall / libraries.wall:.2f}x (CPU {init.cpu / libraries.cpu:.2f}x)"
    )
    report.line(
        f"information: in-process work init / floor {ours_in.wall / floor_in.wall:.2f}x"
        f" (CPU {ours_in.cpu / floor_in.cpu:.2f}x); process minus in-process work: init"
        f" {ms(init.wall - ours_in.wall)}, floor {ms(results['floor'].wall - floor_in.wall)}"
    )


def _inproc_init(work: Path, env: dict[str, str], i: int) -> Sample:
    dest = work / "out" / f"inproc-{i}"
    args = ["init", NAME, "--yes", "-o", str(dest)]
    taken = run_process([PY, work / "ours_inproc.py", *args], env)
    shutil.rmtree(dest, ignore_errors=True)
    return taken


def bench_help(report: Report, env: dict[str, str], runs: int) -> None:
    """Part 2: --help of every command against import typer."""
    tac = tac_command()
    paths = _help_commands(env)
    samplers: dict[str, Callable[[int], Sample]] = {
        "python -c 'import typer'": lambda _i: run_process(TYPER, env)
    }
    for path in paths:
        cmd = [*tac, *path, "--help"]
        samplers[" ".join(["tac-bootstrap", *path, "--help"])] = (
            lambda _i, cmd=cmd: run_process(cmd, env)  # type: ignore[misc]
        )
    samplers["python -c pass"] = lambda _i: run_process([PY, "-c", "pass"], env)
    results = interleave(samplers, runs)
    report.section(f"--help of every command (median of {runs} interleaved processes)")
    typer = results["python -c 'import typer'"]
    for name, samples in results.items():
        report.figure(name, samples)
    for name, samples in results.items():
        if name.startswith("tac-bootstrap"):
            report.target(
                f"{name} / import typer",
                samples.wall / typer.wall,
                HELP_TARGET,
                detail=f"CPU {samples.cpu / typer.cpu:.2f}x",
            )


PLAIN_PROJECT = {
    "pyproject.toml": '[project]\nname = "shop"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n',
    "uv.lock": "version = 1\n",
    "src/shop/__init__.py": '"""shop."""\n',
    "tests/test_shop.py": "def test_shop():\n    assert True\n",
}


RENDER_IN_FULL = "render (nothing changed, no receipt)"
FLOOR_WITH_LIBRARIES = "floor + import typer"
# The libraries add-agentic, init and a full render are built on (besides the standard library),
# imported and nothing else.
LIBRARIES = "python -c 'import typer, jinja2.sandbox'"
HOOKS_ALONE = "doctor's hook runs alone"
# doctor's hook runs and nothing else: each hook command settings.json registers, run as doctor
# runs it (/bin/sh -c COMMAND, its sample event on stdin, a throwaway run log, warm bytecode; the
# first alone, then four at once), plus the guard's probe. The floor of any doctor that runs the
# hooks as Claude Code does (specs/security.md), which is what doctor is for.
HOOK_RUNS = """\
import json, os, subprocess, sys, tempfile
from concurrent.futures import ThreadPoolExecutor
root, samples = sys.argv[1], json.loads(sys.argv[2])
runs = []
for event, entries in json.load(open(os.path.join(root, ".claude/settings.json")))["hooks"].items():
    for entry in entries:
        for hook in entry["hooks"]:
            if event in samples:
                runs.append((event, hook["command"], samples[event]))
                if event == "PreToolUse":
                    probe = {"tool_name": "Bash", "tool_input": {"command": "rm -rf /"}}
                    runs.append((event, hook["command"], probe))
with tempfile.TemporaryDirectory() as tmp:
    env = dict(os.environ, CLAUDE_PROJECT_DIR=root, TAC_DB_PATH=os.path.join(tmp, "d.db"))
    def run(one):
        event, command, fields = one
        payload = {"session_id": "bench", "transcript_path": "", "cwd": root,
                   "hook_event_name": event, "permission_mode": "default", **fields}
        subprocess.run(["/bin/sh", "-c", command], cwd=root, input=json.dumps(payload),
                       env=env, capture_output=True, text=True, check=False)
    run(runs[0])
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(run, runs[1:]))
"""


def _receipt_answers(history: Path) -> int:
    """How many render runs of the history were answered by a receipt (their one step)."""
    import sqlite3

    with contextlib.closing(sqlite3.connect(history)) as conn:
        (count,) = conn.execute(
            "SELECT count(*) FROM agent_logs WHERE log_type = 'step_end' AND message = 'receipt'"
        ).fetchone()
    return int(count)


def bench_commands(report: Report, base: Path, env: dict[str, str], runs: int) -> None:
    """Part 3: add-agentic, render (no change), doctor, runs against import typer."""
    from tac_bootstrap_cli.doctor.hooks import SAMPLE_EVENTS

    tac = tac_command()
    work = base / "commands"
    plain = work / "plain" / "shop"
    for rel, text in PLAIN_PROJECT.items():
        (plain / rel).parent.mkdir(parents=True, exist_ok=True)
        (plain / rel).write_text(text, encoding="utf-8")
    run_process([*tac, "init", "app", "--yes", "-o", work], env)
    project = work / "app"
    doctor_codes = (0, 1)  # 1 = problems found; timed either way, reported below

    def add_agentic(i: int) -> Sample:
        dest = work / f"shop-{i}"
        shutil.copytree(plain, dest)
        taken = run_process([*tac, "add-agentic", dest, "--yes"], env)
        shutil.rmtree(dest)
        return taken

    receipts = Path(env["XDG_CACHE_HOME"]) / "tac-bootstrap" / "receipts"

    def render_in_full(_i: int) -> Sample:
        # No receipt: the full render (which keeps a new one, as nothing changed).
        shutil.rmtree(receipts, ignore_errors=True)
        return run_process([*tac, "render", project, "--yes"], env)

    samplers: dict[str, Callable[[int], Sample]] = {
        "python -c 'import typer'": lambda _i: run_process(TYPER, env),
        "add-agentic": add_agentic,
        "render (nothing changed)": lambda _i: run_process([*tac, "render", project, "--yes"], env),
        RENDER_IN_FULL: render_in_full,
        LIBRARIES: lambda _i: run_process([PY, "-c", "import typer, jinja2.sandbox"], env),
        HOOKS_ALONE: lambda _i: run_process(
            [PY, "-c", HOOK_RUNS, str(project), json.dumps(SAMPLE_EVENTS)],
            dict(env, PYTHONPYCACHEPREFIX=str(work / "hook-pycache")),
        ),
        "doctor": lambda _i: run_process([*tac, "doctor", project], env, ok=doctor_codes),
        "runs": lambda _i: run_process([*tac, "runs"], env),
    }
    before = _tree(project)
    results = interleave(samplers, runs)
    changed = sorted(p for p, b in _tree(project).items() if before.get(p) != b)
    report.section(f"commands (median of {runs} interleaved processes)")
    report.line(f"render left the project's files unchanged: {not changed} {changed[:3]}")
    answered = _receipt_answers(Path(env["TAC_BOOTSTRAP_DB"]))
    report.line(
        f"renders answered by their receipt: {answered} (the {runs + 1} of 'render (nothing"
        f" changed)', warm-up included; '{RENDER_IN_FULL}' removes it first)"
    )
    typer = results["python -c 'import typer'"]
    for name, samples in results.items():
        report.figure(name, samples)
    full = results.pop(RENDER_IN_FULL)
    libraries = results.pop(LIBRARIES)
    hooks = results.pop(HOOKS_ALONE)
    report.line(
        f"information: {HOOKS_ALONE} / import typer {hooks.wall / typer.wall:.2f}x"
        f" (CPU {hooks.cpu / typer.cpu:.2f}x): doctor runs these before any check of its own"
    )
    report.line(
        f"information: the libraries alone ({LIBRARIES}) / import typer"
        f" {libraries.wall / typer.wall:.2f}x (CPU {libraries.cpu / typer.cpu:.2f}x):"
        " what add-agentic and a full render import before any work of theirs"
    )
    report.line(
        f"information: {RENDER_IN_FULL} / import typer {full.wall / typer.wall:.2f}x"
        f" (CPU {full.cpu / typer.cpu:.2f}x): the first render after a change, or without caches"
    )
    for name, samples in results.items():
        if name.startswith("python"):
            continue
        report.target(
            f"{name} / import typer",
            samples.wall / typer.wall,
            COMMAND_TARGET,
            detail=f"CPU {samples.cpu / typer.cpu:.2f}x",
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="samples per contestant (10)")
    parser.add_argument("--only", choices=("init", "help", "commands"), action="append")
    args = parser.parse_args()
    parts = args.only or ["init", "help", "commands"]
    report = Report("tac-bootstrap CLI benchmark", f"median of {args.runs} interleaved samples")
    base = Path(tempfile.mkdtemp(prefix="bench-cli-"))
    try:
        env = isolated_env(base)
        if "init" in parts:
            bench_init(report, base, env, args.runs)
        if "help" in parts:
            bench_help(report, env, args.runs)
        if "commands" in parts:
            bench_commands(report, base, env, args.runs)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
