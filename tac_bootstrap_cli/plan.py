"""Compare what should be written with what is on disk and in the manifest: a Plan of FileActions.

Pure decision logic: reads the disk, writes nothing. ``--dry-run`` shows a Plan; ``apply`` runs one.
"""

from __future__ import annotations

import os
import stat
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path

from tac_bootstrap_cli.blocks import (
    MANAGED_FILES,
    BrokenMarkers,
    block_body,
    find_block,
    merge_block,
)
from tac_bootstrap_cli.errors import UnsafePathError
from tac_bootstrap_cli.jsonmerge import merge_settings
from tac_bootstrap_cli.merge import has_conflict_markers
from tac_bootstrap_cli.projectstate import (
    BASES_PATH,
    MANIFEST_PATH,
    Entry,
    Kind,
    Manifest,
    now_iso,
    select_bases,
    sha256,
)

# Settings files: merged structurally (jsonmerge) whenever the user had one before or edited ours,
# never replaced wholesale and never merged as text: Claude Code skips a settings file that does
# not parse, and with it the PreToolUse guard.
JSON_MERGED = frozenset({".claude/settings.json"})


class Action(StrEnum):
    """What happens to one output path (the last five only come from ``upgrade``)."""

    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    KEEP = "keep-user-edit"
    CONFLICT = "conflict"
    OBSOLETE = "obsolete"
    MERGE = "merge"  # the user's edits and the template's changes combined
    MERGE_CONFLICT = "merge-conflict"  # written with conflict markers
    DELETE = "delete"  # dropped by the new version, never edited: removed
    KEEP_REMOVED = "keep-removed"  # dropped by the new version but edited: kept, no longer ours
    USER_DELETED = "user-deleted"  # generated before, deleted by the user: stays deleted


WRITING = frozenset({Action.CREATE, Action.UPDATE, Action.MERGE, Action.MERGE_CONFLICT})
CHANGING = WRITING | {Action.DELETE}
LISTED = frozenset(
    {
        Action.KEEP,
        Action.CONFLICT,
        Action.OBSOLETE,
        Action.MERGE_CONFLICT,
        Action.KEEP_REMOVED,
        Action.USER_DELETED,
    }
)


@dataclass(frozen=True)
class Desired:
    """One file the templates want: full content, or the managed-block body for ``kind="block"``."""

    path: str
    content: bytes
    executable: bool = False
    kind: Kind = "file"


# Keywords only: twelve fields, most of them optional, read wrongly when given by position.
@dataclass(frozen=True, kw_only=True)
class FileAction:
    """The decision for one path, why, and for writes the exact bytes that will land on disk.

    ``base`` is the pristine template output whose hash is ``record``: what the manifest and the
    bases archive remember once this action is done (the whole file, or the managed block's body).
    A ``delete`` with ``content`` rewrites the file without its managed block; without, unlinks it.
    """

    path: str
    action: Action
    reason: str
    kind: Kind = "file"
    content: bytes | None = None  # final file bytes, set for writes
    executable: bool = False
    record: str | None = None  # hash the manifest records once this is on disk
    base: bytes | None = None  # the content behind ``record``
    before: bytes | None = None  # what was on disk (upgrade keeps it for diffs and git stages)
    conflicts: int = 0  # conflict regions written, values disputed, or 1 for unparseable settings
    stages: tuple[bytes, bytes, bytes] | None = None  # base/ours/theirs whole files, for git
    disputes: tuple[str, ...] = ()  # settings values both sides changed (yours kept), described

    @property
    def writes(self) -> bool:
        """True when this action changes the disk (create, update, merge, delete)."""
        return self.action in CHANGING

    @property
    def details(self) -> str:
        """The reason with each disputed settings value (what the history records)."""
        return "; ".join([self.reason, *self.disputes])

    @property
    def size(self) -> int:
        """Bytes that will be written (0 when nothing is)."""
        return len(self.content) if self.content is not None and self.writes else 0


@dataclass
class Plan:
    """Every output path of one run with its action, plus what the manifest knew before."""

    root: Path
    actions: list[FileAction]
    previous: Manifest | None
    template_version: str
    retained: dict[str, Entry] = field(default_factory=dict)  # manifest entries kept as they are
    previous_bases: dict[str, bytes] = field(default_factory=dict)  # the recorded bases
    overlay_version: str | None = None

    def counts(self) -> dict[Action, int]:
        """Number of paths per action, in the order of ``Action``."""
        found = Counter(a.action for a in self.actions)
        return {action: found[action] for action in Action if found[action]}

    def writes(self) -> list[FileAction]:
        """The actions that change the disk (write or delete a file), in path order."""
        return [a for a in self.actions if a.writes]

    def listed(self) -> list[FileAction]:
        """Actions a user must hear about: kept edits, conflicts, obsolete and removed files."""
        return [a for a in self.actions if a.action in LISTED]

    @property
    def changes(self) -> int:
        """How many files this plan writes."""
        return len(self.writes())

    def next_manifest(self, written: Iterable[str]) -> Manifest:
        """The manifest after ``written`` paths reached the disk (all writes, or fewer if stopped)."""
        done = set(written)
        old = self.previous.files if self.previous else {}
        files: dict[str, Entry] = dict(self.retained)
        for fa in self.actions:
            if fa.action is Action.KEEP_REMOVED or (fa.action is Action.DELETE and fa.path in done):
                continue  # no longer generated: the file (if any) is the user's now
            if (fa.action is Action.UNCHANGED or fa.path in done) and fa.record is not None:
                files[fa.path] = Entry(fa.record, fa.kind)
            elif fa.path in old:
                files[fa.path] = old[fa.path]
        return Manifest(self.template_version, now_iso(), files, self.overlay_version)

    def next_bases(self, manifest: Manifest) -> dict[str, bytes]:
        """The pristine content behind every hash ``manifest`` records (as far as it is known)."""
        fresh = {fa.record: fa.base for fa in self.actions if fa.record and fa.base is not None}
        wanted = {e.sha256 for e in manifest.files.values()}
        return select_bases(wanted, fresh, self.previous_bases)


def compute_plan(
    root: Path,
    desired: Iterable[Desired],
    previous: Manifest | None,
    *,
    template_version: str,
    force: bool = False,
    inputs: Iterable[str] = (),
    previous_bases: dict[str, bytes] | None = None,
    overlay_version: str | None = None,
) -> Plan:
    """Decide an action for every desired file (and for files generated before but not now).

    ``inputs`` are paths the run reads rather than writes (``config.yml`` for ``render``): they are
    neither planned nor reported obsolete, and their manifest entries stay as they were.
    """
    root = root.resolve()
    for record in (MANIFEST_PATH, BASES_PATH):
        # Checked before any file is planned: finding out after writing the layer would leave
        # a project whose files have no record of being ours.
        problem = path_problem(root, record)
        if problem is not None and not (force and problem[1]):
            raise UnsafePathError(
                f"{root / record}: {problem[0]}; tac-bootstrap keeps its records there",
                hint="move it away, then rerun (nothing was written)",
            )
    old = previous.files if previous else {}
    bases = previous_bases or {}
    actions = [_decide(root, d, old.get(d.path), force, bases) for d in desired]
    wanted = {d.path for d in desired}
    skip = set(inputs)
    retained = {p: e for p, e in old.items() if p in skip}
    for path, entry in sorted(old.items()):
        if path in wanted or path in skip:
            continue
        if (root / path).is_file():
            actions.append(
                FileAction(
                    path=path,
                    action=Action.OBSOLETE,
                    reason="no longer generated for these answers; left in place",
                    kind=entry.kind,
                )
            )
        # else: gone from disk and from the templates; forget it
    actions.sort(key=lambda a: a.path)
    return Plan(
        root,
        actions,
        previous,
        template_version,
        retained,
        dict(previous_bases or {}),
        overlay_version,
    )


def _decide(
    root: Path, want: Desired, entry: Entry | None, force: bool, bases: Mapping[str, bytes]
) -> FileAction:
    blocked = path_problem(root, want.path)
    if blocked is not None:
        reason, forceable = blocked
        if not (force and forceable):
            return FileAction(path=want.path, action=Action.CONFLICT, reason=reason, kind=want.kind)
        # A symlink as the file itself: replace the link with a regular file, never follow it.
        fresh = _decide_file(want, None, None, 0, force) if want.kind == "file" else None
        fresh = fresh or _decide_block(want, None, None, force)
        return replace(fresh, action=Action.UPDATE, reason="symlink replaced by a file (--force)")
    path = root / want.path
    try:
        current: bytes | None = path.read_bytes()
        mode = path.stat().st_mode
    except FileNotFoundError:
        current, mode = None, 0
    except OSError as exc:
        return FileAction(
            path=want.path,
            action=Action.CONFLICT,
            reason=f"cannot read: {exc.strerror}",
            kind=want.kind,
        )
    if want.kind == "block":
        return _decide_block(want, entry, current, force)
    return _decide_file(want, entry, current, mode, force, bases)


def _decide_file(
    want: Desired,
    entry: Entry | None,
    current: bytes | None,
    mode: int,
    force: bool,
    bases: Mapping[str, bytes] | None = None,
) -> FileAction:
    record = sha256(want.content)

    def act(action: Action, reason: str) -> FileAction:
        content = want.content if action in WRITING else None
        return FileAction(
            path=want.path,
            action=action,
            reason=reason,
            kind="file",
            content=content,
            executable=want.executable,
            record=record,
            base=want.content,
        )

    if current is None:
        return act(Action.CREATE, "was generated before, then deleted" if entry else "new file")
    if current == want.content:
        if want.executable and not mode & stat.S_IXUSR:
            return act(Action.UPDATE, "executable bit missing")
        return act(Action.UNCHANGED, "same content")
    if want.path in JSON_MERGED and (entry is None or sha256(current) != entry.sha256):
        base = (bases or {}).get(entry.sha256) if entry is not None else None
        settled = decide_settings(want, entry, current, base, force=force)
        if settled is not None:
            return settled
    if entry is None:
        if force:
            return act(Action.UPDATE, "existed before tac-bootstrap; overwritten (--force)")
        return act(Action.CONFLICT, "existed before tac-bootstrap; kept (use --force to replace)")
    if sha256(current) == entry.sha256:
        return act(Action.UPDATE, "new template output; file not edited since generated")
    if force:
        return act(Action.UPDATE, "edited since generated; overwritten (--force)")
    return act(Action.KEEP, "edited since generated; kept (use --force to replace)")


def decide_settings(
    want: Desired, entry: Entry | None, current: bytes, base: bytes | None, *, force: bool
) -> FileAction | None:
    """The action for a settings file the user had before (``entry`` None) or edited since it was
    generated: merged structurally with ``want`` (3-way from ``base``), never as text, never
    replaced wholesale. None when the template output is not a JSON object.

    Used by every command (render, add-agentic, init, upgrade). What is recorded is our rendering
    (hash and base), so the user's own keys and values count as their edit: the next template
    change merges 3-way against it, and a disputed value is reported once.
    """
    outcome = merge_settings(base, current, want.content, force=force)
    if outcome is None:
        return None
    if outcome.content is not None and entry is not None and base is None and not force:
        return _settings_action(
            want,
            Action.KEEP,
            "edited since generated; no base recorded (project older than bases), so not merged:"
            " kept (use --force to merge ours in, your own keys kept)",
        )
    before = "existed before tac-bootstrap; " if entry is None else ""
    if outcome.content is None:
        problem = outcome.problem or "cannot be merged"
        if outcome.replaceable:
            fix = "kept (use --force to replace)"
        else:
            markers = (
                " (it holds conflict markers from an earlier upgrade)"
                if has_conflict_markers(current.decode("utf-8", "replace"))
                else ""
            )
            problem += markers
            fix = (
                "never overwritten, not even with --force (Claude Code ignores the whole file,"
                " hooks and the guard included): fix it, then rerun"
            )
        return _settings_action(want, Action.CONFLICT, f"{before}{problem}; {fix}", conflicts=1)
    forced = " (--force: ours wherever the two differ, your own keys kept)" if force else ""
    if outcome.disputes:
        n = len(outcome.disputes)
        return _settings_action(
            want,
            Action.MERGE_CONFLICT,
            f"{before}merged key by key{forced}; {n} value{'s' * (n != 1)} changed on both sides:"
            " yours kept",
            content=outcome.content,
            conflicts=n,
            disputes=tuple(d.describe() for d in outcome.disputes),
        )
    if outcome.content == current:
        if entry is None:
            return _settings_action(
                want, Action.UNCHANGED, "existed before tac-bootstrap; already holds ours"
            )
        return _settings_action(
            want, Action.UNCHANGED, "edited by you; nothing new from the template: kept"
        )
    if entry is None:
        why = (
            f"existed before tac-bootstrap; merged key by key (your keys kept, ours added){forced}"
        )
        return _settings_action(want, Action.UPDATE, why, content=outcome.content)
    return _settings_action(
        want,
        Action.MERGE,
        f"merged key by key: your edits kept, the template's changes added{forced}",
        content=outcome.content,
    )


def _settings_action(
    want: Desired,
    action: Action,
    reason: str,
    *,
    content: bytes | None = None,
    conflicts: int = 0,
    disputes: tuple[str, ...] = (),
) -> FileAction:
    """A settings action recording our rendering: the base the next merge starts from."""
    return FileAction(
        path=want.path,
        action=action,
        reason=reason,
        kind="file",
        content=content,
        executable=want.executable,
        record=sha256(want.content),
        base=want.content,
        conflicts=conflicts,
        disputes=disputes,
    )


def _decide_block(
    want: Desired, entry: Entry | None, current: bytes | None, force: bool
) -> FileAction:
    markers = MANAGED_FILES[want.path]
    body = block_body(want.content.decode("utf-8"))
    pristine = body.encode("utf-8")
    record = sha256(pristine)

    def act(action: Action, reason: str, text: str | None = None) -> FileAction:
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
        )

    if any(line.strip() in markers for line in body.split("\n")):
        return act(Action.CONFLICT, "template output contains the managed-block marker lines")
    if current is None:
        return act(Action.CREATE, "new file (managed block)", merge_block(None, body, markers))
    try:
        text = current.decode("utf-8")
        found = find_block(text, markers)
    except UnicodeDecodeError:
        return act(Action.CONFLICT, "not UTF-8 text; managed block not added")
    except BrokenMarkers as exc:
        return act(Action.CONFLICT, f"broken managed-block markers: {exc}")
    if found is None:
        if entry is not None and not force:
            return act(Action.KEEP, "managed block removed by the user; kept (use --force)")
        return act(Action.UPDATE, "managed block appended", merge_block(text, body, markers))
    if found.body == body:
        return act(Action.UNCHANGED, "same managed block")
    merged = merge_block(text, body, markers)
    if entry is not None and sha256(found.body.encode("utf-8")) == entry.sha256:
        return act(Action.UPDATE, "new managed block; block not edited since generated", merged)
    if force:
        return act(Action.UPDATE, "managed block edited; replaced (--force)", merged)
    why = "managed block edited since generated" if entry else "managed block not in the manifest"
    return act(Action.KEEP if entry else Action.CONFLICT, f"{why}; kept (use --force)")


def path_problem(root: Path, rel: str) -> tuple[str, bool] | None:
    """Why ``rel`` cannot be written safely under the resolved ``root``, and whether --force may.

    A folder on the way that is a symlink leading outside ``root`` (or a file) blocks the path for
    good; a symlink as the file itself blocks it unless forced (the link is replaced, not followed).
    """
    parts = rel.split("/")
    if not rel or rel.startswith("/") or any(p in ("", ".", "..") for p in parts):
        return (f"unsafe path {rel!r}", False)
    current = root
    for i, part in enumerate(parts[:-1]):
        current = current / part
        shown = "/".join(parts[: i + 1])
        if current.is_symlink():
            target = Path(os.path.realpath(current))
            if not target.is_relative_to(root):
                return (f"{shown} is a symlink leading outside the project; not followed", False)
            current = target
        if not current.exists():
            return None  # nothing deeper exists yet: apply creates real folders
        if not current.is_dir():
            return (f"{shown} is a file where a folder is needed", False)
    final = current / parts[-1]
    if final.is_symlink():
        return ("is a symlink; not followed (use --force to replace the link)", True)
    if final.is_dir():
        return ("is a folder where a file is needed", False)
    return None
