"""Compare what should be written with what is on disk and in the manifest: a Plan of FileActions.

Pure decision logic: reads the disk, writes nothing. ``--dry-run`` shows a Plan; ``apply`` runs one.

Every command's per-file decisions are one table, ``TABLE``: a row per (kind, ``State``) -- what a
wanted path finds on disk against the manifest and the new output, as ``look`` classifies it -- and
a column per ``Column`` (render/init/add-agentic, the same with ``--force``, upgrade). ``decide``
reads the cell; upgrade adds only its 3-way merge (``Policy.merge``, in ``upgrade_plan``).

Over 500 lines on purpose: the table, the settings merge every command shares and the Plan they
fill are one concept, read in one place; split, each would need the others to be understood.
"""

from __future__ import annotations

import os
import stat
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import NamedTuple

from tac_bootstrap_cli.blocks import (
    MANAGED_FILES,
    BrokenMarkers,
    Found,
    block_body,
    find_block,
    merge_block,
)
from tac_bootstrap_cli.errors import UnsafePathError
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
    policy: Policy | None = None,
    inputs: Iterable[str] = (),
) -> Plan:
    """Decide an action for every desired file (and for files generated before but not now).

    ``policy``: the table's column (``--force`` or not) and the recorded bases (render's by
    default). ``inputs`` are paths the run reads rather than writes (``config.yml`` for
    ``render``): they are neither planned nor reported obsolete, and their manifest entries stay as
    they were. The plan's ``overlay_version`` is the caller's to set.
    """
    policy = policy or Policy()
    force = policy.column is Column.FORCE
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
    actions = [decide(root, d, old.get(d.path), policy) for d in desired]
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
    return Plan(root, actions, previous, template_version, retained, dict(policy.bases))


# --- the per-file decisions, one table for every command ---------------------------------------


class State(StrEnum):
    """What one wanted path finds on disk, against the manifest and the new template output."""

    BLOCKED = "blocked"  # the path cannot be written safely (a folder, a link outside, ...)
    LINK = "link"  # the file itself is a symlink (--force replaces the link)
    UNREADABLE = "unreadable"  # reading failed (permissions, ...)
    BAD_TEMPLATE = "bad-template"  # (block) the output holds the managed-block marker lines
    NOT_TEXT = "not-text"  # (block) the file is not UTF-8 text
    BROKEN = "broken"  # (block) the managed-block markers are broken
    NEW = "new"  # no file, never generated
    NEW_BLOCK = "new-block"  # (block) a file without our block, never generated
    DELETED = "deleted"  # no file, generated before
    BLOCK_REMOVED = "block-removed"  # (block) the file is there without the block we generated
    SAME_UNTRACKED = "same-untracked"  # equals the new output, never recorded as generated
    SAME = "same"  # equals the new output, not edited since generated
    CONVERGED = "converged"  # edited since generated, and now equals the new output
    FOREIGN = "foreign"  # differs from the new output, never recorded as generated
    PRISTINE = "pristine"  # not edited since generated, the new output differs
    EDITED = "edited"  # edited since generated, the new output differs


class Column(IntEnum):
    """The table's columns: which command reads it."""

    RENDER = 0  # init, add-agentic, render
    FORCE = 1  # the same with --force
    UPGRADE = 2  # upgrade: no --force; an edited file is merged 3-way


class Outcome(NamedTuple):
    """One cell: the action and its reason (``{detail}`` filled in from the disk)."""

    action: Action
    reason: str
    check_exec: bool = False  # unchanged unless the executable bit is missing (then: update)


# Sentinels: upgrade's 3-way merge (``Policy.merge``), and --force replacing a symlink by a file.
MERGE_3WAY = Outcome(Action.MERGE, "3-way merge")
REPLACE_LINK = Outcome(Action.UPDATE, "symlink replaced by a file (--force)")
_MINE_OR_EDITED = frozenset({State.FOREIGN, State.EDITED})  # settings files merged by key
EARLY = frozenset({State.BLOCKED, State.LINK, State.UNREADABLE})  # decided before any content


def existing_changes(plan: Plan) -> list[FileAction]:
    """The writes that change a file already on disk (all but ``create``): what a person at a
    terminal is asked about before anything is written."""
    return [fa for fa in plan.actions if fa.writes and fa.action is not Action.CREATE]


def _same(reason: str, check_exec: bool = False) -> Outcome:
    return Outcome(Action.UNCHANGED, reason, check_exec)


_CONFLICT, _KEEP, _UPDATE, _CREATE = Action.CONFLICT, Action.KEEP, Action.UPDATE, Action.CREATE
_SAME_CONTENT = _same("same content", check_exec=True)
_SAME_BLOCK = _same("same managed block")
_FORCED_BLOCK = Outcome(_UPDATE, "managed block edited; replaced (--force)")
_KIND_ANY: tuple[Kind, ...] = ("file", "block")

# (kind, state) -> the outcome for each Column: (render, render --force, upgrade). Settings files
# (JSON_MERGED) that are foreign or edited are merged by key first (``decide_settings``).
TABLE: dict[tuple[Kind, State], tuple[Outcome, Outcome, Outcome]] = {
    **{
        (kind, state): row
        for kind in _KIND_ANY
        for state, row in {
            State.BLOCKED: (
                Outcome(_CONFLICT, "{detail}"),
                Outcome(_CONFLICT, "{detail}"),
                Outcome(_CONFLICT, "{detail}; not written"),
            ),
            State.LINK: (
                Outcome(_CONFLICT, "{detail}"),
                REPLACE_LINK,
                Outcome(_CONFLICT, "{detail}; not written"),
            ),
            State.UNREADABLE: (Outcome(_CONFLICT, "cannot read: {detail}"),) * 3,
        }.items()
    },
    ("file", State.NEW): (
        Outcome(_CREATE, "new file"),
        Outcome(_CREATE, "new file"),
        Outcome(_CREATE, "added by the new version"),
    ),
    ("file", State.DELETED): (
        Outcome(_CREATE, "was generated before, then deleted"),
        Outcome(_CREATE, "was generated before, then deleted"),
        Outcome(
            Action.USER_DELETED,
            "deleted by you; stays deleted (`tac-bootstrap render` would restore it)",
        ),
    ),
    ("file", State.SAME_UNTRACKED): (_SAME_CONTENT, _SAME_CONTENT, _same("same content")),
    ("file", State.SAME): (_SAME_CONTENT,) * 3,
    ("file", State.CONVERGED): (
        _SAME_CONTENT,
        _SAME_CONTENT,
        _same("your version equals the new template output"),
    ),
    ("file", State.FOREIGN): (
        Outcome(_CONFLICT, "existed before tac-bootstrap; kept (use --force to replace)"),
        Outcome(_UPDATE, "existed before tac-bootstrap; overwritten (--force)"),
        Outcome(_CONFLICT, "existed before tac-bootstrap; kept as it is"),
    ),
    ("file", State.PRISTINE): (
        Outcome(_UPDATE, "new template output; file not edited since generated"),
        Outcome(_UPDATE, "new template output; file not edited since generated"),
        Outcome(_UPDATE, "not edited by you; new template output"),
    ),
    ("file", State.EDITED): (
        Outcome(_KEEP, "edited since generated; kept (use --force to replace)"),
        Outcome(_UPDATE, "edited since generated; overwritten (--force)"),
        MERGE_3WAY,
    ),
    ("block", State.BAD_TEMPLATE): (
        Outcome(_CONFLICT, "template output contains the managed-block marker lines"),
    )
    * 3,
    ("block", State.NOT_TEXT): (
        Outcome(_CONFLICT, "not UTF-8 text; managed block not added"),
        Outcome(_CONFLICT, "not UTF-8 text; managed block not added"),
        Outcome(_CONFLICT, "not UTF-8 text; managed block not touched"),
    ),
    ("block", State.BROKEN): (Outcome(_CONFLICT, "broken managed-block markers: {detail}"),) * 3,
    ("block", State.NEW): (
        Outcome(_CREATE, "new file (managed block)"),
        Outcome(_CREATE, "new file (managed block)"),
        Outcome(_CREATE, "added by the new version"),
    ),
    ("block", State.NEW_BLOCK): (Outcome(_UPDATE, "managed block appended"),) * 3,
    ("block", State.DELETED): (
        Outcome(_CREATE, "new file (managed block)"),
        Outcome(_CREATE, "new file (managed block)"),
        Outcome(Action.USER_DELETED, "deleted by you; stays deleted"),
    ),
    ("block", State.BLOCK_REMOVED): (
        Outcome(_KEEP, "managed block removed by the user; kept (use --force)"),
        Outcome(_UPDATE, "managed block appended"),
        Outcome(Action.USER_DELETED, "managed block removed by you; stays removed"),
    ),
    ("block", State.SAME_UNTRACKED): (_SAME_BLOCK,) * 3,
    ("block", State.SAME): (_SAME_BLOCK,) * 3,
    ("block", State.CONVERGED): (
        _SAME_BLOCK,
        _SAME_BLOCK,
        _same("your block equals the new template output"),
    ),
    ("block", State.FOREIGN): (
        Outcome(_CONFLICT, "managed block not in the manifest; kept (use --force)"),
        _FORCED_BLOCK,
        Outcome(_CONFLICT, "managed block not in the manifest; kept as it is"),
    ),
    ("block", State.PRISTINE): (
        Outcome(_UPDATE, "new managed block; block not edited since generated"),
        Outcome(_UPDATE, "new managed block; block not edited since generated"),
        Outcome(_UPDATE, "managed block not edited by you; new template output"),
    ),
    ("block", State.EDITED): (
        Outcome(_KEEP, "managed block edited since generated; kept (use --force)"),
        _FORCED_BLOCK,
        MERGE_3WAY,
    ),
}


@dataclass(frozen=True)
class Seen:
    """One wanted path as found: its state, the bytes on disk and (blocks) our block in them."""

    want: Desired
    entry: Entry | None
    state: State
    current: bytes | None = None
    mode: int = 0
    text: str | None = None  # (block) the file decoded
    found: Found | None = None  # (block) our block in ``text``
    detail: str = ""  # fills ``{detail}`` in a reason
    keep_before: bool = False  # record ``current`` as ``before`` (upgrade: diffs, git stages)

    @property
    def body(self) -> str:
        """The managed block's body (blocks only)."""
        return block_body(self.want.content.decode("utf-8"))

    @property
    def pristine(self) -> bytes:
        """What the manifest records for this path: the whole output, or the block's body."""
        return self.want.content if self.want.kind == "file" else self.body.encode("utf-8")

    def output(self, body: str | None = None) -> bytes:
        """The file once ours is in it: the output, or the text with ``body`` as its block."""
        if self.want.kind == "file":
            return self.want.content
        block = self.body if body is None else body
        return merge_block(self.text, block, MANAGED_FILES[self.want.path]).encode("utf-8")

    def act(
        self,
        action: Action,
        reason: str,
        *,
        content: bytes | None = None,
        conflicts: int = 0,
        stages: tuple[bytes, bytes, bytes] | None = None,
    ) -> FileAction:
        """The FileAction for this path, recording our output (hash and base)."""
        pristine = self.pristine
        return FileAction(
            path=self.want.path,
            action=action,
            reason=reason,
            kind=self.want.kind,
            content=content,
            executable=self.want.executable,
            record=sha256(pristine),
            base=pristine,
            before=self.current if self.keep_before else None,
            conflicts=conflicts,
            stages=stages,
        )


@dataclass(frozen=True)
class Policy:
    """How a command reads the table: its column, the recorded bases, upgrade's 3-way merge."""

    column: Column = Column.RENDER
    bases: Mapping[str, bytes] = field(default_factory=dict)
    merge: Callable[[Seen, bytes | None], FileAction] | None = None  # (seen, base) -> merged

    @classmethod
    def render(cls, *, force: bool = False, bases: Mapping[str, bytes] | None = None) -> Policy:
        """The policy of init, add-agentic and render (``--force`` or not)."""
        return cls(Column.FORCE if force else Column.RENDER, dict(bases or {}))


def decide(root: Path, want: Desired, entry: Entry | None, policy: Policy) -> FileAction:
    """The action for one wanted path: the table's cell for what is on disk, in ``policy``'s column."""
    seen = look(root, want, entry, keep_before=policy.column is Column.UPGRADE)
    if seen.state in EARLY:
        cell = TABLE[want.kind, seen.state][policy.column]
        if cell is REPLACE_LINK:
            fresh = look_new(want, entry=None)
            filled = _fill(fresh, TABLE[want.kind, fresh.state][policy.column])
            return replace(filled, action=cell.action, reason=cell.reason)
        reason = cell.reason.format(detail=seen.detail)
        return FileAction(path=want.path, action=cell.action, reason=reason, kind=want.kind)
    base = policy.bases.get(entry.sha256) if entry is not None else None
    if want.path in JSON_MERGED and seen.current is not None and seen.state in _MINE_OR_EDITED:
        # The same structural merge for every command: never markers in settings.json.
        force = policy.column is Column.FORCE
        settled = decide_settings(want, entry, seen.current, base, force=force)
        if settled is not None:
            return replace(settled, before=seen.current) if seen.keep_before else settled
    cell = TABLE[want.kind, seen.state][policy.column]
    if cell is MERGE_3WAY:
        assert policy.merge is not None, "only upgrade merges 3-way"
        return policy.merge(seen, base)
    return _fill(seen, cell)


def _fill(seen: Seen, cell: Outcome) -> FileAction:
    if cell.check_exec and seen.want.executable and not seen.mode & stat.S_IXUSR:
        return seen.act(Action.UPDATE, "executable bit missing", content=seen.output())
    content = seen.output() if cell.action in WRITING else None
    return seen.act(cell.action, cell.reason.format(detail=seen.detail), content=content)


def look(root: Path, want: Desired, entry: Entry | None, *, keep_before: bool = False) -> Seen:
    """What ``want.path`` finds under the resolved ``root`` (reads, never writes)."""
    blocked = path_problem(root, want.path)
    if blocked is not None:
        state = State.LINK if blocked[1] else State.BLOCKED
        return Seen(want, entry, state, detail=blocked[0])
    if want.kind == "block" and _marker_lines(want):
        return Seen(want, entry, State.BAD_TEMPLATE, keep_before=keep_before)
    path = root / want.path
    try:
        current = path.read_bytes()
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return look_new(want, entry, keep_before=keep_before)
    except OSError as exc:
        return Seen(want, entry, State.UNREADABLE, detail=str(exc.strerror))
    seen = Seen(want, entry, State.SAME, current, mode, keep_before=keep_before)
    if want.kind == "file":
        return replace(seen, state=_compare(current, want.content, entry))
    try:
        text = current.decode("utf-8")
        found = find_block(text, MANAGED_FILES[want.path])
    except UnicodeDecodeError:
        return replace(seen, state=State.NOT_TEXT)
    except BrokenMarkers as exc:
        return replace(seen, state=State.BROKEN, detail=str(exc))
    seen = replace(seen, text=text, found=found)
    if found is None:
        return replace(seen, state=State.NEW_BLOCK if entry is None else State.BLOCK_REMOVED)
    return replace(seen, state=_compare(found.body.encode("utf-8"), seen.pristine, entry))


def look_new(want: Desired, entry: Entry | None, *, keep_before: bool = False) -> Seen:
    """A wanted path with no file on disk."""
    if want.kind == "block" and _marker_lines(want):
        return Seen(want, entry, State.BAD_TEMPLATE, keep_before=keep_before)
    state = State.NEW if entry is None else State.DELETED
    return Seen(want, entry, state, keep_before=keep_before)


def _marker_lines(want: Desired) -> bool:
    markers = MANAGED_FILES[want.path]
    body = block_body(want.content.decode("utf-8"))
    return any(line.strip() in markers for line in body.split("\n"))


def _compare(ours: bytes, theirs: bytes, entry: Entry | None) -> State:
    """The state of content ``ours`` (the file, or our block's body) against the new ``theirs``."""
    if entry is None:
        return State.SAME_UNTRACKED if ours == theirs else State.FOREIGN
    if sha256(ours) == entry.sha256:
        return State.SAME if ours == theirs else State.PRISTINE
    return State.CONVERGED if ours == theirs else State.EDITED


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
    # Only projects that already have a settings file get here: init and add-agentic into a
    # fresh folder do not load the merge.
    from tac_bootstrap_cli.jsonmerge import merge_settings

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
