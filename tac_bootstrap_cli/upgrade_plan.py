"""``upgrade``'s decisions: each path's action from base, ours and theirs (reads, never writes).

For each file, ``base`` is what tac-bootstrap generated last time (kept in ``bases.json.gz``, so no
old release is needed), ``ours`` is the file now, ``theirs`` is what the installed templates (and
the team overlay) render with the same answers. ``plan_upgrade`` turns them into a ``Plan``:
``create``, ``update``, ``unchanged``, ``merge``, ``merge-conflict`` (markers written), ``delete``,
``keep-removed``, ``user-deleted``, ``keep-user-edit`` (no base: 2-way), ``conflict`` (not ours).
See specs/living-projects.md for the table of outcomes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from difflib import SequenceMatcher
from pathlib import Path

from tac_bootstrap_cli import __version__
from tac_bootstrap_cli.blocks import (
    MANAGED_FILES,
    BrokenMarkers,
    block_body,
    find_block,
    merge_block,
)
from tac_bootstrap_cli.config import CONFIG_FILE
from tac_bootstrap_cli.jsonmerge import dump_json, merge_values, parse_json
from tac_bootstrap_cli.manifest import Entry, Manifest, sha256
from tac_bootstrap_cli.merge import (
    has_conflict_markers,
    merge_lines,
    merge_text,
    split_lines,
)
from tac_bootstrap_cli.overlay import Overlay
from tac_bootstrap_cli.plan import (
    JSON_MERGED,
    Action,
    Desired,
    FileAction,
    Plan,
    decide_settings,
    path_problem,
)

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
    actions = [_decide(root, d, old.get(d.path), bases, label) for d in desired]
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


def _read(root: Path, rel: str) -> bytes | None:
    try:
        return (root / rel).read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None


def _decide(
    root: Path, want: Desired, entry: Entry | None, bases: Mapping[str, bytes], label: str
) -> FileAction:
    blocked = path_problem(root, want.path)
    if blocked is not None:
        return FileAction(
            path=want.path,
            action=Action.CONFLICT,
            reason=f"{blocked[0]}; not written",
            kind=want.kind,
        )
    try:
        current = _read(root, want.path)
    except OSError as exc:
        return FileAction(
            path=want.path,
            action=Action.CONFLICT,
            reason=f"cannot read: {exc.strerror}",
            kind=want.kind,
        )
    if want.kind == "block":
        return _decide_block(root, want, entry, current, bases, label)
    return _decide_file(root, want, entry, current, bases, label)


def _decide_file(
    root: Path,
    want: Desired,
    entry: Entry | None,
    current: bytes | None,
    bases: Mapping[str, bytes],
    label: str,
) -> FileAction:
    theirs = want.content
    record = sha256(theirs)

    def act(
        action: Action,
        reason: str,
        content: bytes | None = None,
        conflicts: int = 0,
        stages: tuple[bytes, bytes, bytes] | None = None,
    ) -> FileAction:
        return FileAction(
            path=want.path,
            action=action,
            reason=reason,
            kind="file",
            content=content,
            executable=want.executable,
            record=record,
            base=theirs,
            before=current,
            conflicts=conflicts,
            stages=stages,
        )

    if current is None:
        if entry is None:
            return act(Action.CREATE, "added by the new version", theirs)
        return act(
            Action.USER_DELETED,
            "deleted by you; stays deleted (`tac-bootstrap render` would restore it)",
        )
    edited = entry is None or sha256(current) != entry.sha256
    if want.path in JSON_MERGED and current != theirs and edited:
        # The same structural merge as render and add-agentic: never markers in settings.json.
        base = bases.get(entry.sha256) if entry is not None else None
        settled = decide_settings(want, entry, current, base, force=False)
        if settled is not None:
            return replace(settled, before=current)
    if entry is None:
        if current == theirs:
            return act(Action.UNCHANGED, "same content")
        return act(Action.CONFLICT, "existed before tac-bootstrap; kept as it is")
    if sha256(current) == entry.sha256:  # never edited
        if current != theirs:
            return act(Action.UPDATE, "not edited by you; new template output", theirs)
        if want.executable and not (root / want.path).stat().st_mode & 0o100:
            return act(Action.UPDATE, "executable bit missing", theirs)
        return act(Action.UNCHANGED, "same content")
    if current == theirs:
        return act(Action.UNCHANGED, "your version equals the new template output")
    base = bases.get(entry.sha256)
    markers = _markers_left(current)
    if base is None:
        return act(
            Action.KEEP,
            "edited by you; no base recorded for it (project older than bases), so not merged:"
            " kept as it is",
            conflicts=markers,
        )
    if base == theirs:
        if markers:
            return act(
                Action.KEEP,
                "still holds conflict markers from an earlier upgrade: resolve them",
                conflicts=markers,
            )
        return act(Action.UNCHANGED, "edited by you; the template did not change it: kept")
    merged = _merge_contents(want.path, base, current, theirs, label)
    if merged is None:
        return act(Action.KEEP, "binary file edited by you and changed by the template: kept")
    content, conflicts, how = merged
    if conflicts:
        return act(
            Action.MERGE_CONFLICT,
            f"{conflicts} conflict{'s' * (conflicts != 1)}: your edits and the template's overlap",
            content,
            conflicts,
            (base, current, theirs),
        )
    return act(Action.MERGE, how, content)


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


def _decide_block(
    root: Path,
    want: Desired,
    entry: Entry | None,
    current: bytes | None,
    bases: Mapping[str, bytes],
    label: str,
) -> FileAction:
    markers = MANAGED_FILES[want.path]
    body = block_body(want.content.decode("utf-8"))
    pristine = body.encode("utf-8")
    record = sha256(pristine)

    def act(
        action: Action,
        reason: str,
        text: str | None = None,
        conflicts: int = 0,
        stages: tuple[bytes, bytes, bytes] | None = None,
    ) -> FileAction:
        content = text.encode("utf-8") if text is not None else None
        return FileAction(
            path=want.path,
            action=action,
            reason=reason,
            kind="block",
            content=content,
            executable=want.executable,
            record=record,
            base=pristine,
            before=current,
            conflicts=conflicts,
            stages=stages,
        )

    if current is None:
        if entry is None:
            return act(Action.CREATE, "added by the new version", merge_block(None, body, markers))
        return act(Action.USER_DELETED, "deleted by you; stays deleted")
    try:
        text = current.decode("utf-8")
        found = find_block(text, markers)
    except UnicodeDecodeError:
        return act(Action.CONFLICT, "not UTF-8 text; managed block not touched")
    except BrokenMarkers as exc:
        return act(Action.CONFLICT, f"broken managed-block markers: {exc}")
    if found is None:
        if entry is None:
            return act(Action.UPDATE, "managed block appended", merge_block(text, body, markers))
        return act(Action.USER_DELETED, "managed block removed by you; stays removed")
    ours = found.body
    if entry is None:
        if ours == body:
            return act(Action.UNCHANGED, "same managed block")
        return act(Action.CONFLICT, "managed block not in the manifest; kept as it is")
    if sha256(ours.encode("utf-8")) == entry.sha256:
        if ours == body:
            return act(Action.UNCHANGED, "same managed block")
        return act(
            Action.UPDATE,
            "managed block not edited by you; new template output",
            merge_block(text, body, markers),
        )
    if ours == body:
        return act(Action.UNCHANGED, "your block equals the new template output")
    base_bytes = bases.get(entry.sha256)
    left = _markers_left(current)
    if base_bytes is None:
        return act(
            Action.KEEP,
            "managed block edited by you; no base recorded, so not merged: kept",
            conflicts=left,
        )
    base = base_bytes.decode("utf-8")
    if base == body:
        if left:
            return act(
                Action.KEEP,
                "still holds conflict markers from an earlier upgrade: resolve them",
                conflicts=left,
            )
        return act(Action.UNCHANGED, "block edited by you; the template did not change it: kept")
    result = merge_text(base, ours, body, ours_label="yours", theirs_label=label)
    merged = merge_block(text, result.text, markers)
    if result.conflicts:
        stages = (
            merge_block(text, base, markers).encode("utf-8"),
            current,
            merge_block(text, body, markers).encode("utf-8"),
        )
        return act(
            Action.MERGE_CONFLICT,
            f"managed block: {result.conflicts} conflict{'s' * (result.conflicts != 1)}:"
            " your edits and the template's overlap",
            merged,
            result.conflicts,
            stages,
        )
    return act(
        Action.MERGE, "managed block: your edits and the template's changes combined", merged
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
        return _drop_block(path, entry, current, hint)
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


def _drop_block(path: str, entry: Entry, current: bytes, hint: str) -> FileAction | None:
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
