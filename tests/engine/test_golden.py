"""Golden trees: the full rendered layer for representative answers, byte for byte.

Refresh after an intended template change with ``uv run pytest --update-golden`` and review the diff.
Each golden tree holds ``_index.txt`` (every output path with its mode and sha256) and the content of
the files that rendering shapes (``.j2`` templates, managed blocks, ``config.yml``). Files copied
verbatim from ``templates/`` are pinned by their hash only: their golden copy is the template
itself, and keeping a second copy per case would only be noise in every review. The base modules
are left out (they are checked byte-identical to ``adws/`` elsewhere).
"""

from __future__ import annotations

import difflib
import hashlib
import shutil
from pathlib import Path

import pytest

from tac_bootstrap_cli import __version__
from tac_bootstrap_cli.layer import desired_files
from tac_bootstrap_cli.plan import Desired, compute_plan
from tac_bootstrap_cli.render import BASE_MODULES, templates_root
from tac_bootstrap_cli.scaffold import Answers, build_config

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
INDEX = "_index.txt"

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


def is_verbatim(path: str, content: bytes) -> bool:
    """True when ``path`` is a byte-for-byte copy of a plain (non-``.j2``) template file."""
    source = templates_root() / path
    return source.is_file() and source.read_bytes() == content


def index_of(files: dict[str, Desired]) -> str:
    """One line per rendered output file: mode, sha256 and path. Verbatim copies of template files
    are not listed: the byte-copy tests cover those, and their hashes churned at every edit."""
    lines = []
    for path, d in sorted(files.items()):
        if is_verbatim(path, d.content):
            continue
        mode = "755" if d.executable else "644"
        lines.append(f"{mode} {hashlib.sha256(d.content).hexdigest()} {path}\n")
    return "".join(lines)


def write_golden(root: Path, files: dict[str, Desired]) -> None:
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    (root / INDEX).write_text(index_of(files), encoding="utf-8")
    for path, d in files.items():
        if is_verbatim(path, d.content):
            continue
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(d.content)


def _diff(path: str, want: bytes, got: bytes) -> str:
    return "".join(
        difflib.unified_diff(
            want.decode("utf-8", "replace").splitlines(keepends=True),
            got.decode("utf-8", "replace").splitlines(keepends=True),
            f"golden/{path}",
            f"rendered/{path}",
        )
    )


@pytest.mark.parametrize("case", sorted(CASES))
def test_rendered_layer_matches_golden(case: str, update_golden: bool) -> None:
    files = rendered(CASES[case])
    root = GOLDEN / case
    if update_golden:
        write_golden(root, files)
        return
    hint = f"golden tree {root} differs: review, then `uv run pytest --update-golden`"
    assert (root / INDEX).is_file(), hint
    for path, d in files.items():  # content first: a readable diff beats a hash mismatch
        golden_file = root / path
        if golden_file.is_file() and golden_file.read_bytes() != d.content:
            pytest.fail(f"{hint}\n{_diff(path, golden_file.read_bytes(), d.content)[:4000]}")
    want = (root / INDEX).read_text(encoding="utf-8").splitlines(keepends=True)
    got = index_of(files).splitlines(keepends=True)
    assert got == want, f"{hint}\n" + "".join(difflib.unified_diff(want, got, INDEX, "rendered"))
    stored = {
        p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and p.name != INDEX
    }
    assert stored <= set(files), f"stale golden files {sorted(stored - set(files))}; {hint}"


def test_golden_keeps_only_rendered_files() -> None:
    """Verbatim template copies are pinned by hash, not stored again."""
    files = rendered(CASES["go"])
    verbatim = [p for p, d in files.items() if is_verbatim(p, d.content)]
    assert verbatim, "expected plain template files that are copied as they are"
    assert not any((GOLDEN / "go" / p).exists() for p in verbatim)
