"""``upgrade``'s decisions: each path's action from base, ours and theirs (reads, never writes).

For each file, ``base`` is what tac-bootstrap generated last time (kept in ``bases.json.gz``, so no
old release is needed), ``ours`` is the file now, ``theirs`` is what the installed templates (and
the team overlay) render with the same answers. ``plan_upgrade`` turns them into a ``Plan``:
``create``, ``update``, ``unchanged``, ``merge``, ``merge-conflict`` (markers written), ``delete``,
``keep-removed``, ``user-deleted``, ``keep-user-edit`` (no base: 2-way), ``conflict`` (not ours).
See specs/living-projects.md for the table of outcomes. The per-file decisions are
``plan.TABLE``'s upgrade column; this module adds what a 3-way merge adds (an edited file or block
merged from its base), files the new version dropped, and renames.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from difflib import SequenceMatcher
from functools import partial
from pathlib import Path

from tac_bootstrap_cli import __version__
from tac_bootstrap_cli.blocks import (
    MANAGED_FILES,
    BrokenMarkers,
    find_block,
)
from tac_bootstrap_cli.config import CONFIG_FILE
from tac_bootstrap_cli.jsonmerge import dump_json, merge_values, parse_json
from tac_bootstrap_cli.merge import (
    has_conflict_markers,
    merge_lines,
    merge_text,
    split_lines,
)
from tac_bootstrap_cli.overlay import Overlay
from tac_bootstrap_cli.plan import (
    Action,
    Column,
    Desired,
    FileAction,
    Plan,
    Policy,
    Seen,
    decide,
    path_problem,
)
from tac_bootstrap_cli.projectstate import Entry, Manifest, sha256

RENAME_RATIO = 0.6  # a dropped file this similar to an added one is reported as renamed


def template_label(overlay: Overlay | None) -> str:
    """How conflict markers name the new version."""
    label = f"tac-bootstrap {__version__}"
    if overlay is not None:
        label += f" + team templates {overlay.version or ''}".rstrip()
    return label


# --- decisions ---------------------------------------------------------------------------------


def plan_upgrade(
    root: Path,
    desired: Iterable[Desired],
    manifest: Manifest,
    bases: Mapping[str, bytes],
    *,
    overlay: Overlay | None = None,
    config_action: FileAction | None = None,
) -> tuple[Plan, dict[str, str]]:
    """Decide every path's upgrade action (see the module docstring); reads, never writes.

    ``overlay``: the team templates ``desired`` was rendered with (named in conflict markers,
    recorded in the manifest). Also returns the renames detected (dropped path -> the added path
    most like it).
    """
    root = root.resolve()
    label = template_label(overlay)
    old = manifest.files
    desired = list(desired)
    policy = Policy(Column.UPGRADE, bases, merge=partial(_merge, label=label))
    actions = [decide(root, d, old.get(d.path), policy) for d in desired]
    wanted = {d.path for d in desired} | {CONFIG_FILE}
    added = {
        fa.path: fa.base or b""
        for fa in actions
        if fa.action is Action.CREATE and fa.path not in old and fa.kind == "file"
    }
    renamed_from: dict[str, str] = {}
    for path, entry in sorted(old.items()):
        if path in wanted:
            continue
        current = read_safely(root, path)
        if current is None:
            continue  # gone on both sides (or unreachable): it leaves the manifest
        candidates = {p: c for p, c in added.items() if p not in renamed_from}
        successor = _successor(bases.get(entry.sha256) or current, candidates)
        fa = _decide_dropped(path, entry, current, successor)
        if fa is not None:
            actions.append(fa)
            if successor is not None:
                renamed_from[successor] = path
    actions = [
        replace(fa, reason=f"{fa.reason} (renamed from {renamed_from[fa.path]}?)")
        if fa.path in renamed_from
        else fa
        for fa in actions
    ]
    retained: dict[str, Entry] = {}
    if config_action is not None:
        actions.append(config_action)
    elif CONFIG_FILE in old:
        retained[CONFIG_FILE] = old[CONFIG_FILE]
    actions.sort(key=lambda a: a.path)
    plan = Plan(
        root=root,
        actions=actions,
        previous=manifest,
        template_version=__version__,
        retained=retained,
        previous_bases=dict(bases),
        overlay_version=overlay.version if overlay is not None else None,
    )
    return plan, {old_path: new_path for new_path, old_path in sorted(renamed_from.items())}


def _merge(seen: Seen, base: bytes | None, *, label: str) -> FileAction:
    """What upgrade adds to the decision table: an edited file or block merged 3-way."""
    if seen.want.kind == "block":
        return _merge_block(seen, base, label)
    return _merge_file(seen, base, label)


def _read(root: Path, rel: str) -> bytes | None:
    try:
        return (root / rel).read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None


def _merge_file(seen: Seen, base: bytes | None, label: str) -> FileAction:
    """A file edited by you that the new version changes too: merged 3-way from its base."""
    current, theirs = seen.current or b"", seen.want.content
    markers = _markers_left(current)
    if base is None:
        return seen.act(
            Action.KEEP,
            "edited by you; no base recorded for it (project older than bases), so not merged:"
            " kept as it is",
            conflicts=markers,
        )
    if base == theirs:
        if markers:
            return seen.act(
                Action.KEEP,
                "still holds conflict markers from an earlier upgrade: resolve them",
                conflicts=markers,
            )
        return seen.act(Action.UNCHANGED, "edited by you; the template did not change it: kept")
    merged = _merge_contents(seen.want.path, base, current, theirs, label)
    if merged is None:
        return seen.act(Action.KEEP, "binary file edited by you and changed by the template: kept")
    content, conflicts, how = merged
    if conflicts:
        return seen.act(
            Action.MERGE_CONFLICT,
            f"{conflicts} conflict{'s' * (conflicts != 1)}: your edits and the template's overlap",
            content=content,
            conflicts=conflicts,
            stages=(base, current, theirs),
        )
    return seen.act(Action.MERGE, how, content=content)


def _markers_left(data: bytes) -> int:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return 0
    if not has_conflict_markers(text):
        return 0
    return sum(1 for line in text.split("\n") if line.startswith("<<<<<<< "))


def _merge_contents(
    path: str, base: bytes, ours: bytes, theirs: bytes, label: str
) -> tuple[bytes, int, str] | None:
    """(content, conflicts, reason) of a 3-way merge; None for binary content."""
    try:
        b, o, t = (x.decode("utf-8") for x in (base, ours, theirs))
    except UnicodeDecodeError:
        return None
    result = merge_text(b, o, t, ours_label="yours", theirs_label=label)
    how = "merged: your edits + the template's changes"
    if not path.endswith(".json"):
        return result.text.encode("utf-8"), result.conflicts, how
    parsed = [parse_json(x) for x in (base, ours, theirs)]
    if any(p.problem is not None for p in parsed):
        return result.text.encode("utf-8"), result.conflicts, how  # not JSON on some side
    if result.clean and parse_json(result.text.encode("utf-8")).problem is None:
        return result.text.encode("utf-8"), 0, how
    # Other JSON files (team templates may add some): the settings merge, but a value both sides
    # changed leaves the text conflict (these files have no "yours kept" convention).
    merged = merge_values(*(p.value for p in parsed))
    if merged.disputes:
        if result.clean:  # text merge gave invalid JSON: the whole file is one conflict
            lines, n = merge_lines(
                ["\0no common base\0"],
                split_lines(o),
                split_lines(t),
                ours_label="yours",
                theirs_label=label,
            )
            return "".join(lines).encode("utf-8"), n, how
        return (
            result.text.encode("utf-8"),
            result.conflicts,
            f"{how}; JSON merge by key failed too (both sides changed {merged.disputes[0].path})",
        )
    return (
        dump_json(merged.value).encode("utf-8"),
        0,
        "merged key by key (JSON): both sides' changes kept",
    )


def _merge_block(seen: Seen, base_bytes: bytes | None, label: str) -> FileAction:
    """A managed block edited by you that the new version changes too: merged 3-way."""
    assert seen.current is not None and seen.found is not None
    current, body = seen.current, seen.body
    left = _markers_left(current)
    if base_bytes is None:
        return seen.act(
            Action.KEEP,
            "managed block edited by you; no base recorded, so not merged: kept",
            conflicts=left,
        )
    base = base_bytes.decode("utf-8")
    if base == body:
        if left:
            return seen.act(
                Action.KEEP,
                "still holds conflict markers from an earlier upgrade: resolve them",
                conflicts=left,
            )
        return seen.act(
            Action.UNCHANGED, "block edited by you; the template did not change it: kept"
        )
    result = merge_text(base, seen.found.body, body, ours_label="yours", theirs_label=label)
    merged = seen.output(result.text)
    if result.conflicts:
        stages = (seen.output(base), current, seen.output())
        return seen.act(
            Action.MERGE_CONFLICT,
            f"managed block: {result.conflicts} conflict{'s' * (result.conflicts != 1)}:"
            " your edits and the template's overlap",
            content=merged,
            conflicts=result.conflicts,
            stages=stages,
        )
    return seen.act(
        Action.MERGE,
        "managed block: your edits and the template's changes combined",
        content=merged,
    )


def read_safely(root: Path, path: str) -> bytes | None:
    """The bytes at ``path``; None when missing, unreadable or not safely reachable."""
    if path_problem(root, path) is not None:
        return None  # never touch a path we cannot reach safely
    try:
        return _read(root, path)
    except OSError:
        return None


def _decide_dropped(
    path: str, entry: Entry, current: bytes, successor: str | None
) -> FileAction | None:
    """A path the old version generated and the new one does not (still on disk)."""
    hint = f"; renamed to {successor}?" if successor else ""
    if entry.kind == "block":
        return _drop_block(path, entry, current)
    if sha256(current) == entry.sha256:
        return FileAction(
            path=path,
            action=Action.DELETE,
            reason=f"removed by the new version{hint}",
            before=current,
        )
    return FileAction(
        path=path,
        action=Action.KEEP_REMOVED,
        reason=f"removed by the new version, but edited by you: kept and no longer managed{hint}"
        + ("; port your edits" if hint else ""),
        before=current,
    )


def _drop_block(path: str, entry: Entry, current: bytes) -> FileAction | None:
    markers = MANAGED_FILES.get(path)
    if markers is None:
        return None
    try:
        text = current.decode("utf-8")
        found = find_block(text, markers)
    except (UnicodeDecodeError, BrokenMarkers):
        return FileAction(
            path=path,
            action=Action.KEEP_REMOVED,
            reason="managed block dropped; markers unreadable: kept",
        )
    if found is None:
        return None
    if sha256(found.body.encode("utf-8")) != entry.sha256:
        return FileAction(
            path=path,
            action=Action.KEEP_REMOVED,
            reason="managed block dropped by the new version, but edited by you: kept",
            kind="block",
            before=current,
        )
    rest = (found.before + found.after).rstrip("\n")
    content = (rest + "\n").encode("utf-8") if rest.strip() else None
    return FileAction(
        path=path,
        action=Action.DELETE,
        reason="managed block dropped by the new version" + ("" if content else "; file removed"),
        kind="block",
        content=content,
        before=current,
    )


def _successor(old: bytes, added: Mapping[str, bytes]) -> str | None:
    """The added file most like ``old`` line by line (a rename), if one is similar enough."""
    best, score = None, 0.0
    old_lines = old.split(b"\n")
    for path, new in added.items():
        matcher = SequenceMatcher(None, old_lines, new.split(b"\n"), autojunk=False)
        if matcher.real_quick_ratio() < RENAME_RATIO or matcher.quick_ratio() < RENAME_RATIO:
            continue
        ratio = matcher.ratio()
        if ratio >= RENAME_RATIO and ratio > score:
            best, score = path, ratio
    return best
