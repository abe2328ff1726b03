"""Upgrade figure: a generated project with 20 user-edited files, upgraded to a real new
template version, as the command a user runs.

Usage: ``uv run python benchmarks/bench_upgrade.py [--runs N]``

Setup (not timed):

1. Team templates version 1.0 (an overlay folder outside the project, ``tac-template.yml``
   ``version: "1.0"``) hold copies of the 20 largest files of the layer that upgrade merges as
   text (templates and base modules; not JSON, not the two files init keeps in marked blocks),
   unchanged. ``tac-bootstrap init bench-app --templates OVERLAY`` makes the project (the overlay
   is remembered in ``config.yml``); it is committed to git.
2. The user edits each of the 20 files near the top, committed.
3. Version 2.0 of the team templates: each of the 20 templates gains one line at its end (the
   top level of a Jinja template, so the rendering changes too), ``version: "2.0"``.

Timed: ``tac-bootstrap upgrade PATH`` on a fresh copy of the prepared project each time, so every
run renders the layer with the new templates, does 20 real 3-way merges (the user's edit at the
top, the new version's line at the end), compares and leaves alone the other files, asks git for
its status, rewrites the bases and the manifest, inspects the project database and records the
run in the history database. Samples alternate with ``python -c "import typer"`` (information)
and with the same upgrade through ``cli.main`` in a process that already imported every module
it uses (the work alone, information).

Target: the command's median <= 0.5 s. Exits 1 when missed, or when the upgrade did not merge the
20 files cleanly.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
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
    run_process,
    tac_command,
    worker_timings,
    write_cli_worker,
)

EDITED = 20
TARGET_S = 0.5
TEMPLATES = REPO / "templates"
ADWS = REPO / "tac_bootstrap_cli" / "_adws"
# upgrade keeps its part of these between markers (a different path than a 3-way text merge),
# and JSON files are merged as JSON: the 20 files are plain text files.
NOT_TEXT_MERGED = {"README.md", ".gitignore", "config.yml"}


def _git(cwd: Path, env: dict[str, str], *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def _template_of(rel: str) -> Path | None:
    """The built-in file that renders ``rel``: a template (``.j2`` or verbatim) or a base module."""
    for candidate in (TEMPLATES / (rel + ".j2"), TEMPLATES / rel):
        if candidate.is_file():
            return candidate
    if rel.startswith("adws/") and (ADWS / rel.removeprefix("adws/")).is_file():
        return ADWS / rel.removeprefix("adws/")
    return None


def _added_line(path: str) -> str:
    """One line of the new version, as a comment the file's language takes."""
    text = "added in version 2.0 of the team templates"
    if path.endswith((".py", ".sh", ".toml", ".yml", ".yaml", ".txt")) or "." not in path:
        return f"# {text}\n"
    if path.endswith(".sql"):
        return f"-- {text}\n"
    if path.endswith((".html", ".md")):
        return f"<!-- {text} -->\n"
    if path.endswith((".css", ".js")):
        return f"/* {text} */\n"
    return f"{text}\n"


def prepare(base: Path, env: dict[str, str]) -> tuple[Path, list[str]]:
    """The committed, user-edited project made with version 1.0; the overlay then at 2.0."""
    tac = tac_command()
    probe = base / "probe"
    run_process([*tac, "init", "bench-app", "--yes", "--layer-only", "-o", probe], env)
    manifest = json.loads((probe / "bench-app/.tac-bootstrap/manifest.json").read_text())
    files = manifest["files"]
    candidates = []
    for rel in files:
        source = _template_of(rel)
        output = probe / "bench-app" / rel
        if (
            source is None
            or rel in NOT_TEXT_MERGED
            or rel.endswith(".json")
            or not output.is_file()
            or output.read_bytes().count(b"\n") < 12
        ):
            continue
        candidates.append((output.stat().st_size, rel, source))
    chosen = sorted(candidates, reverse=True)[:EDITED]
    if len(chosen) < EDITED:
        raise BenchError(f"only {len(chosen)} files fit the scenario")

    overlay = base / "team-templates"
    overlay.mkdir()
    (overlay / "tac-template.yml").write_text('version: "1.0"\n', encoding="utf-8")
    targets = []
    for _size, rel, source in chosen:
        template = rel + (".j2" if source.name.endswith(".j2") else "")
        (overlay / template).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, overlay / template)
        targets.append((rel, overlay / template))

    src = base / "src"
    run_process([*tac, "init", "bench-app", "--yes", "-o", src, "--templates", overlay], env)
    project = src / "bench-app"
    _git(project, env, "init", "-q", "-b", "main")
    _git(project, env, "add", "-A")
    _git(project, env, "commit", "-q", "-m", "generated by version 1.0")
    for rel, _template in targets:  # the user's edits, near the top
        lines = (project / rel).read_text(encoding="utf-8").splitlines(keepends=True)
        at = 2 if lines[2].strip() else 3
        lines[at] = lines[at].rstrip("\n") + "  (edited by the user)\n"
        (project / rel).write_text("".join(lines), encoding="utf-8")
    _git(project, env, "commit", "-q", "-am", "user edits")
    for rel, template in targets:  # version 2.0: one more line at the end of each template
        text = template.read_text(encoding="utf-8")
        template.write_text(text + ("" if text.endswith("\n") else "\n") + _added_line(rel))
    (overlay / "tac-template.yml").write_text('version: "2.0"\n', encoding="utf-8")
    return project, [rel for rel, _ in targets]


def fresh_copy(project: Path, dest: Path) -> Path:
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(project, dest, symlinks=True)
    return dest


def bench(report: Report, runs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-upgrade-") as tmp:
        base = Path(tmp)
        env = isolated_env(base)
        project, edited = prepare(base, env)
        tac = tac_command()
        work = base / "work"
        worker = write_cli_worker(base / "upgrade_worker.py")
        timing = base / "upgrade-inproc.txt"
        worker_env = dict(env, BENCH_TIMING=str(timing), BENCH_MODULES=str(base / "modules.txt"))
        outputs: list[str] = []

        def upgrade(i: int) -> Sample:
            dest = fresh_copy(project, work / f"cmd-{i}" / "bench-app")
            taken = run_process([*tac, "upgrade", dest], env)
            outputs.append(_merged_report(dest, edited))
            shutil.rmtree(dest.parent)
            return taken

        def upgrade_inproc(i: int) -> Sample:
            dest = fresh_copy(project, work / f"inproc-{i}" / "bench-app")
            taken = run_process([PY, worker, "upgrade", dest], worker_env)
            shutil.rmtree(dest.parent)
            return taken

        samplers: dict[str, Callable[[int], Sample]] = {
            "tac-bootstrap upgrade (process)": upgrade,
            "python -c 'import typer'": lambda _i: run_process([PY, "-c", "import typer"], env),
            "upgrade via cli.main, whole worker process": upgrade_inproc,
        }
        results = interleave(samplers, runs)
        inproc = worker_timings(timing)
    report.section(
        f"upgrade of a project with {len(edited)} user-edited files to version 2.0 of its team"
        f" templates (median of {runs} interleaved)"
    )
    report.line(f"every run: {outputs[-1]}")
    for samples in results.values():
        report.figure(samples.name, samples)
    report.figure("upgrade work after all its imports (in-proc)", inproc)
    command = results["tac-bootstrap upgrade (process)"]
    typer = results["python -c 'import typer'"]
    report.line(
        f"information: upgrade / import typer {command.wall / typer.wall:.2f}x; the process"
        f" minus its work in-process: {(command.wall - inproc.wall) * 1000:.0f} ms"
    )
    clean = all(o == outputs[0] for o in outputs) and outputs[0].startswith(f"{EDITED} of")
    report.target(
        "tac-bootstrap upgrade, 20 merges (process median)",
        command.wall if clean else float("inf"),
        TARGET_S,
        unit="s",
        detail=f"CPU {command.cpu:.3f} s" + ("" if clean else "; the merges were NOT all clean"),
    )


def _merged_report(project: Path, edited: list[str]) -> str:
    """How many of the edited files hold both the user's edit and the new line, and none of
    them a conflict marker."""
    both = 0
    for rel in edited:
        text = (project / rel).read_text(encoding="utf-8")
        if (
            "(edited by the user)" in text
            and "added in version 2.0" in text
            and "<<<<<<<" not in text
        ):
            both += 1
    return (
        f"{both} of {len(edited)} edited files merged cleanly (user's edit and version 2.0's line)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    report = Report("upgrade benchmark", f"median of {args.runs} interleaved samples")
    bench(report, args.runs)
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
