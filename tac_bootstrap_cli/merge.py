"""Three-way merges: diff3 over line sequences, git-style conflict markers, and JSON by key.

``diff3_chunks(base, ours, theirs)`` aligns both sides with the base (``difflib.SequenceMatcher``
matching blocks, ``autojunk=False``) and walks the three sequences: a *stable* chunk is where all
three agree, an *unstable* chunk lies between two stable ones. An unstable chunk changed on one
side only takes that side, changed identically on both takes either, and otherwise conflicts.
Concatenating the base (or ours, or theirs) slices of all chunks gives back that whole sequence.

``merge_text`` turns that into text with conflict markers. JSON is merged structurally by
``jsonmerge`` (settings files never get markers), which uses ``diff3_chunks`` for arrays whose
elements are known only by position.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Generic, TypeVar

T = TypeVar("T", bound=Hashable)

START, MIDDLE, END = "<<<<<<<", "=======", ">>>>>>>"


@dataclass(frozen=True)
class Chunk(Generic[T]):
    """Corresponding slices of base, ours and theirs."""

    base: tuple[T, ...]
    ours: tuple[T, ...]
    theirs: tuple[T, ...]
    stable: bool = False

    @property
    def resolved(self) -> tuple[T, ...] | None:
        """The merged slice, or None when both sides changed it differently."""
        if self.stable or self.ours == self.theirs:
            return self.ours
        if self.ours == self.base:
            return self.theirs
        if self.theirs == self.base:
            return self.ours
        return None


def _matches(a: Sequence[T], b: Sequence[T]) -> dict[int, int]:
    """Index in ``a`` -> index in ``b`` of every element the two have in common (monotone).

    The common head and tail are matched directly (most of a file, usually); SequenceMatcher
    only aligns the middle, which keeps merges of long files cheap.
    """
    n = min(len(a), len(b))
    head = 0
    while head < n and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < n - head and a[len(a) - 1 - tail] == b[len(b) - 1 - tail]:
        tail += 1
    out = {i: i for i in range(head)}
    middle_a, middle_b = a[head : len(a) - tail], b[head : len(b) - tail]
    if middle_a and middle_b:
        matcher = SequenceMatcher(None, middle_a, middle_b, autojunk=False)
        for block in matcher.get_matching_blocks():
            for k in range(block.size):
                out[head + block.a + k] = head + block.b + k
    for k in range(tail):
        out[len(a) - tail + k] = len(b) - tail + k
    return out


def diff3_chunks(base: Sequence[T], ours: Sequence[T], theirs: Sequence[T]) -> list[Chunk[T]]:
    """Cut the three sequences into stable and unstable chunks (see the module docstring)."""
    ma, mb = _matches(base, ours), _matches(base, theirs)
    chunks: list[Chunk[T]] = []
    o = a = b = 0
    n = len(base)
    while True:
        i = o
        while i < n and not (i in ma and i in mb):
            i += 1
        if i >= n:  # no further line common to all three: the rest is one unstable chunk
            rest = (tuple(base[o:]), tuple(ours[a:]), tuple(theirs[b:]))
            if any(rest):
                chunks.append(Chunk(*rest))
            return chunks
        ja, jb = ma[i], mb[i]
        if i > o or ja > a or jb > b:
            chunks.append(Chunk(tuple(base[o:i]), tuple(ours[a:ja]), tuple(theirs[b:jb])))
        k = 1
        while i + k < n and ma.get(i + k) == ja + k and mb.get(i + k) == jb + k:
            k += 1
        same = tuple(base[i : i + k])
        chunks.append(Chunk(same, same, same, stable=True))
        o, a, b = i + k, ja + k, jb + k


def split_lines(text: str) -> list[str]:
    """Lines with their ``\\n`` kept; split at ``\\n`` only (``str.splitlines`` also splits at
    form feeds, ``\\x1c``, ``\\u2028``...), so joining gives the text back exactly."""
    lines = text.split("\n")
    out = [line + "\n" for line in lines[:-1]]
    if lines[-1]:
        out.append(lines[-1])
    return out


@dataclass(frozen=True)
class MergeResult:
    """Merged text and how many conflict regions it holds (0 = clean)."""

    text: str
    conflicts: int

    @property
    def clean(self) -> bool:
        """True without conflicts."""
        return self.conflicts == 0


def merge_lines(
    base: Sequence[str],
    ours: Sequence[str],
    theirs: Sequence[str],
    *,
    ours_label: str = "yours",
    theirs_label: str = "theirs",
    union_insertions: bool = False,
) -> tuple[list[str], int]:
    """Merge line lists; conflicts become git-style marker regions. Returns (lines, conflicts).

    ``union_insertions``: where both sides only inserted lines at the same place, keep ours then
    theirs instead of a conflict (for files whose caller checks the result, such as config.yml).
    """
    out: list[str] = []
    conflicts = 0
    eol = "\r\n" if any(line.endswith("\r\n") for line in ours[:50]) else "\n"
    for chunk in diff3_chunks(base, ours, theirs):
        resolved = chunk.resolved
        if resolved is None and union_insertions and not chunk.base:
            resolved = chunk.ours + chunk.theirs
        if resolved is not None:
            out.extend(resolved)
            continue
        mine, other = list(chunk.ours), list(chunk.theirs)
        # Lines both sides start or end with are not in conflict (git's "zealous" merge).
        head = 0
        while head < min(len(mine), len(other)) and mine[head] == other[head]:
            head += 1
        tail = 0
        while (
            tail < min(len(mine), len(other)) - head
            and mine[len(mine) - 1 - tail] == other[len(other) - 1 - tail]
        ):
            tail += 1
        out.extend(mine[:head])
        conflicts += 1
        out.append(f"{START} {ours_label}{eol}")
        out.extend(_terminated(mine[head : len(mine) - tail], eol))
        out.append(f"{MIDDLE}{eol}")
        out.extend(_terminated(other[head : len(other) - tail], eol))
        out.append(f"{END} {theirs_label}{eol}")
        out.extend(mine[len(mine) - tail :])
    return out, conflicts


def _terminated(lines: list[str], eol: str) -> list[str]:
    """A side of a conflict whose last line lacks a newline gets one before the next marker."""
    if lines and not lines[-1].endswith("\n"):
        return [*lines[:-1], lines[-1] + eol]
    return lines


def merge_text(
    base: str,
    ours: str,
    theirs: str,
    *,
    ours_label: str = "yours",
    theirs_label: str = "theirs",
    union_insertions: bool = False,
) -> MergeResult:
    """Three-way merge of texts; overlapping changes become conflict marker regions."""
    if ours == theirs or theirs == base:
        return MergeResult(ours, 0)
    if ours == base:
        return MergeResult(theirs, 0)
    lines, conflicts = merge_lines(
        split_lines(base),
        split_lines(ours),
        split_lines(theirs),
        ours_label=ours_label,
        theirs_label=theirs_label,
        union_insertions=union_insertions,
    )
    return MergeResult("".join(lines), conflicts)


def has_conflict_markers(text: str) -> bool:
    """True when ``text`` still holds a line starting a conflict region."""
    return any(line.startswith(START + " ") for line in text.split("\n"))
