"""Helpers for the modelgen tests: generate from spec text, and run tools on the output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tac_bootstrap_cli.modelgen import GenerateResult, generate_models

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "specs" / "models"


def write_spec(folder: Path, text: str, name: str = "spec.yaml") -> Path:
    """Write spec text to ``folder/name`` and return the path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def generate(folder: Path, text: str) -> tuple[GenerateResult, Path]:
    """Generate from spec text into ``folder/out``; the result and the output folder."""
    out = folder / "out"
    return generate_models(write_spec(folder, text), out), out


def run(args: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing output (never raising on a non-zero exit)."""
    return subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


def ruff_check(out: Path) -> subprocess.CompletedProcess[str]:
    """``ruff check`` with ruff's defaults plus the repo's rule families (not E501)."""
    rules = "E,F,W,I,B,UP,SIM,RUF"
    # As in the repo: long lines, and non-ASCII text in strings, are allowed.
    ignore = "E501,RUF001,RUF002,RUF003"
    args = [
        "check",
        "--isolated",
        "--select",
        rules,
        "--ignore",
        ignore,
        "--output-format",
        "concise",
    ]
    return run([sys.executable, "-m", "ruff", *args, "."], out)


def ruff_format_check(out: Path) -> subprocess.CompletedProcess[str]:
    """``ruff format --check --diff`` with ruff's defaults."""
    return run(
        [sys.executable, "-m", "ruff", "format", "--isolated", "--check", "--diff", "."], out
    )


def mypy_strict(out: Path) -> subprocess.CompletedProcess[str]:
    """``mypy --strict`` on the package and its tests, ignoring any surrounding configuration."""
    config = out / "mypy-empty.ini"
    config.write_text("[mypy]\n", encoding="utf-8")
    args = ["--strict", "--config-file", str(config), "--cache-dir", str(out / ".mypy_cache"), "."]
    return run([sys.executable, "-m", "mypy", *args], out)


def generated_tests(out: Path) -> subprocess.CompletedProcess[str]:
    """The generated tests, run the way a user would: ``cd DIR && python -m pytest``."""
    return run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x"], out)


def explain(result: subprocess.CompletedProcess[str]) -> str:
    """Output of a failed command, for assertion messages."""
    return f"exit {result.returncode}\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
