"""The text merge against ``git merge-file`` as its oracle (Hypothesis).

Both sides are edits of a base whose lines are all different (lines deleted, replaced or inserted,
every new line new), so there is one way to align each side with the base and the two merges must
agree: the same verdict (clean or conflicting) and, when clean, the same text.

Where the merges may differ (documented in specs/living-projects.md): with repeated lines, a side
can be aligned with the base in several equally long ways; git's xdiff and difflib may pick
different ones, and the verdicts can then differ. Both are valid three-way merges: neither loses
a change without a conflict.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tac_bootstrap_cli.merge import merge_text

GIT = shutil.which("git")
pytestmark = pytest.mark.skipif(GIT is None, reason="git is not installed")

# What one side does at one base line: keep it, drop it, replace it, or add lines after it.
EDITS = st.sampled_from(["keep", "keep", "keep", "drop", "replace", "insert"])


@st.composite
def side(draw: st.DrawFn, base: list[str], tag: str) -> list[str]:
    """An edit of ``base``; new lines are unique to this side (``tag``) and this position."""
    out: list[str] = []
    if draw(st.booleans()) and draw(st.integers(0, 4)) == 0:
        out.append(f"{tag}-head\n")
    for i, line in enumerate(base):
        edit = draw(EDITS)
        if edit == "keep":
            out.append(line)
        elif edit == "replace":
            out.append(f"{tag}-{i}\n")
        elif edit == "insert":
            out.extend([line, f"{tag}-after-{i}\n"])
    return out


@st.composite
def triples(draw: st.DrawFn) -> tuple[str, str, str]:
    """(base, ours, theirs) with every base line distinct; sometimes both sides agree on a line."""
    n = draw(st.integers(0, 12))
    base = [f"line {i}\n" for i in range(n)]
    ours = draw(side(base, "ours"))
    theirs = draw(side(base, "theirs"))
    return "".join(base), "".join(ours), "".join(theirs)


def git_merge_file(tmp: Path, base: str, ours: str, theirs: str) -> tuple[bool, str]:
    """git's verdict (clean?) and merged text for the three versions."""
    paths = []
    for name, text in (("ours", ours), ("base", base), ("theirs", theirs)):
        path = tmp / name
        path.write_text(text, encoding="utf-8")
        paths.append(str(path))
    proc = subprocess.run(
        [str(GIT), "merge-file", "-p", *paths], capture_output=True, text=True, check=False
    )
    assert proc.returncode >= 0, proc.stderr  # negative: git failed, not a conflict count
    return proc.returncode == 0, proc.stdout


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(triple=triples())
def test_verdict_and_clean_text_agree_with_git_merge_file(
    tmp_path: Path, triple: tuple[str, str, str]
) -> None:
    base, ours, theirs = triple
    git_clean, git_text = git_merge_file(tmp_path, base, ours, theirs)
    ours_result = merge_text(base, ours, theirs)
    assert ours_result.clean == git_clean, (base, ours, theirs, ours_result.text, git_text)
    if git_clean:
        assert ours_result.text == git_text


def test_examples_both_agree_on(tmp_path: Path) -> None:
    """A few named cases, so a failure of the property reads as one of these."""
    base = "a\nb\nc\nd\n"
    cases = {
        "one side only": (base, "a\nB\nc\nd\n", base, True),
        "both the same change": (base, "a\nB\nc\nd\n", "a\nB\nc\nd\n", True),
        "far apart": (base, "A\nb\nc\nd\n", "a\nb\nc\nD\n", True),
        "same line, different changes": (base, "a\nX\nc\nd\n", "a\nY\nc\nd\n", False),
        "adjacent lines": (base, "a\nB\nc\nd\n", "a\nb\nC\nd\n", False),
    }
    for name, (b, o, t, clean) in cases.items():
        assert merge_text(b, o, t).clean is clean, name
        assert git_merge_file(tmp_path, b, o, t)[0] is clean, name
