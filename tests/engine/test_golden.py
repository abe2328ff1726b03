"""Golden trees: the full rendered layer for representative answers, byte for byte.

Refresh after an intended template change with ``uv run pytest --update-golden`` and review the diff.
The base modules are left out (they are checked byte-identical to ``adws/`` elsewhere).
"""

from __future__ import annotations

import difflib
import shutil
import stat
from pathlib import Path

import pytest

from tac_bootstrap_cli import __version__
from tac_bootstrap_cli.plan import Desired, compute_plan
from tac_bootstrap_cli.render import BASE_MODULES
from tac_bootstrap_cli.scaffold import Answers, build_config, desired_files

GOLDEN = Path(__file__).resolve().parent.parent / "golden"

CASES = {
    "python-uv-fastapi": Answers("demo-api", "python", "fastapi", "uv"),
    "typescript-pnpm-nextjs": Answers("web-app", "typescript", "nextjs", "pnpm"),
    "go": Answers("go-svc", "go", "none", "go"),
}


def rendered(answers: Answers) -> dict[str, Desired]:
    """What ``init`` writes for ``answers`` (managed blocks with their markers), base modules aside."""
    files = desired_files(build_config(answers))
    plan = compute_plan(
        Path("/nonexistent/golden-target"), files, None, template_version=__version__
    )
    return {
        fa.path: Desired(fa.path, fa.content or b"", fa.executable)
        for fa in plan.writes()
        if fa.path not in BASE_MODULES
    }


def on_disk(root: Path) -> dict[str, tuple[bytes, bool]]:
    return {
        p.relative_to(root).as_posix(): (p.read_bytes(), bool(p.stat().st_mode & stat.S_IXUSR))
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def write_golden(root: Path, files: dict[str, Desired]) -> None:
    shutil.rmtree(root, ignore_errors=True)
    for path, d in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(d.content)
        target.chmod(0o755 if d.executable else 0o644)


@pytest.mark.parametrize("case", sorted(CASES))
def test_rendered_layer_matches_golden(case: str, update_golden: bool) -> None:
    files = rendered(CASES[case])
    root = GOLDEN / case
    if update_golden:
        write_golden(root, files)
        return
    hint = f"golden tree {root} differs: review, then `uv run pytest --update-golden`"
    assert root.is_dir(), hint
    golden = on_disk(root)
    actual = {path: (d.content, d.executable) for path, d in files.items()}
    assert sorted(actual) == sorted(golden), hint
    for path, (content, executable) in actual.items():
        want, want_exec = golden[path]
        if content != want:
            diff = "".join(
                difflib.unified_diff(
                    want.decode("utf-8", "replace").splitlines(keepends=True),
                    content.decode("utf-8", "replace").splitlines(keepends=True),
                    f"golden/{path}",
                    f"rendered/{path}",
                )
            )
            pytest.fail(f"{hint}\n{diff[:4000]}")
        assert executable == want_exec, f"{path}: executable bit differs; {hint}"
