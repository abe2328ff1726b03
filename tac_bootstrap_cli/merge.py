"""Three-way merges: diff3 over line sequences, git-style conflict markers, and JSON by key.

``diff3_chunks(base, ours, theirs)`` aligns both sides with the base (``difflib.SequenceMatcher``
matching blocks, ``autojunk=False``) and walks the three sequences: a *stable* chunk is where all
three agree, an *unstable* chunk lies between two stable ones. An unstable chunk changed on one
side only takes that side, changed identically on both takes either, and otherwise conflicts.
Concatenating the base (or ours, or theirs) slices of all chunks gives back that whole sequence.

``merge_text`` turns that into text with conflict markers; ``merge_json`` merges parsed JSON values
(objects by key, arrays by a diff3 over their elements) for settings files where a text merge
conflicts but the edits are to different keys.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any, Generic, TypeVar

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


# --- JSON -------------------------------------------------------------------------------------


class JsonConflict(ValueError):
    """Both sides changed the same JSON value differently; ``path`` says where."""

    def __init__(self, path: str) -> None:
        super().__init__(f"both sides changed {path or 'the document'}")
        self.path = path


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()


def merge_json(base: Any, ours: Any, theirs: Any, path: str = "") -> Any:
    """Three-way merge of parsed JSON values; ``JsonConflict`` when the edits really collide.

    Objects merge key by key (a key removed on one side and untouched on the other goes away);
    arrays merge by a diff3 over their elements, where two insertions at the same place both
    survive (ours first, an element already present not repeated) and an element both sides
    changed merges recursively; scalars take the side that changed.
    """
    if ours == theirs:
        return ours
    if ours == base:
        return theirs
    if theirs == base:
        return ours
    if isinstance(ours, dict) and isinstance(theirs, dict):
        return _merge_objects(base if isinstance(base, dict) else {}, ours, theirs, path)
    if isinstance(ours, list) and isinstance(theirs, list):
        return _merge_arrays(base if isinstance(base, list) else [], ours, theirs, path)
    raise JsonConflict(path)


def _merge_objects(
    base: dict[str, Any], ours: dict[str, Any], theirs: dict[str, Any], path: str
) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for key in [*ours, *(k for k in theirs if k not in ours)]:
        value = merge_json(
            base.get(key, MISSING),
            ours.get(key, MISSING),
            theirs.get(key, MISSING),
            f"{path}/{key}",
        )
        if value is not MISSING:
            merged[key] = value
    # Keys only theirs has go after the key that precedes them in theirs (not all at the end).
    order = [k for k in ours if k in merged]
    for index, key in enumerate(theirs):
        if key in merged and key not in order:
            before = [k for k in list(theirs)[:index] if k in order]
            order.insert(order.index(before[-1]) + 1 if before else 0, key)
    return {key: merged[key] for key in order}


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _merge_arrays(base: list[Any], ours: list[Any], theirs: list[Any], path: str) -> list[Any]:
    values: dict[str, Any] = {}
    keys: list[list[str]] = []
    for seq in (base, ours, theirs):
        row = []
        for item in seq:
            key = _canonical(item)
            values.setdefault(key, item)
            row.append(key)
        keys.append(row)
    out: list[Any] = []
    for chunk in diff3_chunks(*keys):
        resolved = chunk.resolved
        if resolved is not None:
            out.extend(values[k] for k in resolved)
        elif not chunk.base:  # both inserted here: keep both
            out.extend(values[k] for k in chunk.ours)
            out.extend(values[k] for k in chunk.theirs if k not in chunk.ours)
        elif len(chunk.base) == len(chunk.ours) == len(chunk.theirs):  # edited in place
            for i, (b, o, t) in enumerate(zip(chunk.base, chunk.ours, chunk.theirs, strict=True)):
                out.append(merge_json(values[b], values[o], values[t], f"{path}[{i}]"))
        else:
            raise JsonConflict(path)
    return out


def dump_json(value: Any) -> str:
    """The layout templates use for JSON files: two-space indent, non-ASCII kept, final newline."""
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"
