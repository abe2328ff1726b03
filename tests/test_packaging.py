"""The built wheel carries the CLI, the adws base modules and the templates, and works outside the repo."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    uv = shutil.which("uv")
    if uv is None:
        pytest.fail("uv is required to build the wheel (python3 -m pip install uv)")
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [uv, "build", "--wheel", "--out-dir", str(out), str(REPO)],
        check=True,
        capture_output=True,
        text=True,
    )
    (built,) = out.glob("tac_bootstrap-*.whl")
    return built


TOOL_CACHES = {"__pycache__", ".ruff_cache", ".mypy_cache", ".pytest_cache"}


def test_wheel_contains_the_base_modules_and_templates(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "tac_bootstrap_cli/_adws/adw_modules/adw_database.py" in names
    assert "tac_bootstrap_cli/_adws/adw_modules/agent.py" in names
    assert "tac_bootstrap_cli/_adws/schema/schema_orchestrator.sql" in names
    assert "tac_bootstrap_cli/py.typed" in names
    # No top-level package but ours: an installed `adws` would shadow a project's own adws/.
    assert {n.split("/")[0] for n in names if "/" in n} <= {
        "tac_bootstrap_cli",
        *(n.split("/")[0] for n in names if ".dist-info/" in n),
    }
    templates = {n for n in names if n.startswith("tac_bootstrap_cli/templates/")}
    expected = {
        "tac_bootstrap_cli/templates/" + p.relative_to(REPO / "templates").as_posix()
        for p in (REPO / "templates").rglob("*")
        # Tool caches (ruff keeps one beside templates/adws/pyproject.toml) never ship.
        if p.is_file() and not TOOL_CACHES.intersection(p.parts)
    }
    assert expected, "templates/ is empty"
    assert templates == expected


def test_installed_wheel_runs_outside_the_repo(wheel: Path, tmp_path: Path) -> None:
    uv = shutil.which("uv")
    assert uv is not None
    venv = tmp_path / "venv"
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    py = venv / "bin" / "python"
    subprocess.run(
        [uv, "pip", "install", "--quiet", "--python", str(py), str(wheel)],
        check=True,
        capture_output=True,
        text=True,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    version = subprocess.run(
        [str(venv / "bin" / "tac-bootstrap"), "--version"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert version.stdout.startswith("tac-bootstrap ")
    probe = subprocess.run(
        [
            str(py),
            "-c",
            "import tac_bootstrap_cli._adws.adw_modules.adw_database as d, tac_bootstrap_cli.render as r;"
            "print(d.__file__); print(r.templates_root())",
        ],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    db_file, templates = probe.stdout.split()
    assert str(venv) in db_file and str(REPO) not in db_file
    assert templates.startswith(str(venv)) and Path(templates).is_dir()
