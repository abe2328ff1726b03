"""The installed ``tac-bootstrap`` script, run as a user would (one real process per case)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def script() -> str:
    found = Path(sys.executable).parent / "tac-bootstrap"
    if found.exists():
        return str(found)
    on_path = shutil.which("tac-bootstrap")
    if on_path is None:
        pytest.fail("the tac-bootstrap entry point is not installed (run `uv sync`)")
    return on_path


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [script(), *args], cwd=cwd, capture_output=True, text=True, env=dict(os.environ), timeout=60
    )


def test_init_render_and_runs_through_the_entry_point(tmp_path: Path) -> None:
    done = run("init", "demo", "--language", "go", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "demo" / "config.yml").is_file()
    again = run("render", "demo", cwd=tmp_path)
    assert again.returncode == 0 and "wrote 0 files" in again.stdout
    runs = run("runs", "--json", cwd=tmp_path)
    assert runs.returncode == 0 and '"command": "render"' in runs.stdout


def test_usage_error_exits_2_without_traceback(tmp_path: Path) -> None:
    bad = run("init", "../escape", cwd=tmp_path)
    assert bad.returncode == 2
    assert bad.stderr.startswith("error: project name '../escape'")
    assert "Traceback" not in bad.stderr
    assert list(tmp_path.iterdir()) == []
    unknown = run("frobnicate", cwd=tmp_path)
    assert unknown.returncode == 2 and "No such command" in unknown.stderr


def test_help_and_version(tmp_path: Path) -> None:
    helped = run("--help", cwd=tmp_path)
    assert helped.returncode == 0 and "Exit codes:" in helped.stdout
    assert run("--version", cwd=tmp_path).stdout.startswith("tac-bootstrap ")


def test_main_in_process_gives_the_collector_back() -> None:
    """``main`` keeps Python's cyclic collector off while a command runs (it finds nothing in a
    short command's objects); a caller that passes argv gets it back, with nothing frozen."""
    import gc

    from tac_bootstrap_cli.cli import main

    frozen = gc.get_freeze_count()
    assert gc.isenabled()
    with pytest.raises(SystemExit):
        main(["init", "--help"])
    assert gc.isenabled() and gc.get_freeze_count() == frozen


def test_main_from_another_thread_leaves_the_collector_and_environment_as_they_were() -> None:
    """Signals can only be set from the main thread: main() then reports that failure as any
    other, and what it changed before (the collector, the Pydantic plugins switch) is put back
    (a review found the collector left off)."""
    import gc
    import threading

    from tac_bootstrap_cli.cli import main

    codes: list[object] = []

    def run() -> None:
        try:
            main(["runs"])
        except SystemExit as exc:
            codes.append(exc.code)

    plugins = os.environ.get("PYDANTIC_DISABLE_PLUGINS")
    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert codes == [1]
    assert gc.isenabled() and os.environ.get("PYDANTIC_DISABLE_PLUGINS") == plugins
