"""The generated `.gitignore` block, checked by git itself: run output and secrets stay out.

`.env` files hold secrets (the PreToolUse guard blocks them); their documented templates
(`.env.example`, `.sample`, `.template`, `.dist`: the guard's safe suffixes) must stay trackable.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tac_bootstrap_cli.blocks import MANAGED_FILES, merge_block
from tac_bootstrap_cli.layer import desired_files
from tac_bootstrap_cli.scaffold import Answers, build_config

IGNORED = [
    ".env",
    ".env.local",
    ".env.production",
    "app/.env",
    "deep/er/.env.test",
    "agents/1a2b3c4d/raw_output.jsonl",
    "adws/.venv/bin/python",
]
TRACKED = [
    ".env.example",
    ".env.sample",
    ".env.template",
    ".env.dist",
    "app/.env.local.example",
    "config/.env.example",
    "envs.py",
    ".envrc",
    "README.md",
]


def gitignore_block() -> str:
    """The block body `init` writes for a Python/uv project."""
    files = desired_files(build_config(Answers("demo", "python", "none", "uv")))
    (gitignore,) = [d for d in files if d.path == ".gitignore"]
    return gitignore.content.decode()


def check_ignore(repo: Path, paths: list[str]) -> set[str]:
    """The paths git ignores (git check-ignore --no-index: as if none were tracked yet)."""
    proc = subprocess.run(
        ["git", "check-ignore", "--no-index", "--stdin"],
        cwd=repo,
        input="\n".join(paths) + "\n",
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stderr  # 1: none ignored
    return set(proc.stdout.splitlines())


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    return tmp_path


def test_block_lists_the_secret_rules() -> None:
    lines = gitignore_block().splitlines()
    assert {".env", ".env.*"} <= set(lines)
    assert {f"!.env*{suffix}" for suffix in (".example", ".sample", ".template", ".dist")} <= set(
        lines
    )


def test_git_ignores_secrets_and_keeps_their_templates(repo: Path) -> None:
    (repo / ".gitignore").write_text(
        merge_block(None, gitignore_block(), MANAGED_FILES[".gitignore"])
    )
    assert check_ignore(repo, IGNORED + TRACKED) == set(IGNORED)


def test_the_rules_hold_below_a_users_own_lines(repo: Path) -> None:
    users = "node_modules/\n*.log\n"
    (repo / ".gitignore").write_text(
        merge_block(users, gitignore_block(), MANAGED_FILES[".gitignore"])
    )
    assert check_ignore(repo, [*IGNORED, *TRACKED, "x.log"]) == {*IGNORED, "x.log"}
