"""``upgrade``: bring a generated project to the installed template version by 3-way merges.

For each file, ``base`` is what tac-bootstrap generated last time (kept in ``bases.json.gz``, so no
old release is needed), ``ours`` is the file now, ``theirs`` is what the installed templates (and
the team overlay) render with the same answers. The decisions are in ``plan_upgrade`` (reads the
disk, writes nothing); ``upgrade`` shows the plan, applies it with the same per-file atomic writes
as ``render``, marks conflicts in the git index, migrates the project database, and records the
run. See specs/living-projects.md for the table of outcomes.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

import yaml

from tac_bootstrap_cli import __version__
from tac_bootstrap_cli import config as config_module
from tac_bootstrap_cli.apply import (
    RERUN_HINT,
    Interrupted,
    apply_in_place,
    remove_file,
    write_atomic,
)
from tac_bootstrap_cli.bases import BASES_PATH, has_bases, load_bases
from tac_bootstrap_cli.blocks import (
    MANAGED_FILES,
    BrokenMarkers,
    block_body,
    find_block,
    merge_block,
)
from tac_bootstrap_cli.config import CONFIG_FILE, ProjectConfig, dump_config, load_config
from tac_bootstrap_cli.errors import DirtyTree, TacError, UsageError
from tac_bootstrap_cli.gitutil import (
    Blobs,
    GitError,
    Unmerged,
    dirty_paths,
    mark_unmerged,
    repo_root,
    write_blobs,
)
from tac_bootstrap_cli.history import NullRecorder, Recorder
from tac_bootstrap_cli.jsonmerge import dump_json, merge_values, parse_json
from tac_bootstrap_cli.layer import config_rewrite, desired_files, with_overlay
from tac_bootstrap_cli.manifest import MANIFEST_PATH, Entry, Manifest, load_manifest, sha256
from tac_bootstrap_cli.merge import (
    has_conflict_markers,
    merge_lines,
    merge_text,
    split_lines,
)
from tac_bootstrap_cli.operation import Result, UICallbacks
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
from tac_bootstrap_cli.projectdb import DbMigration, migrate_db, project_db_path

RENAME_RATIO = 0.6  # a dropped file this similar to an added one is reported as renamed
JOURNAL_PATH = ".tac-bootstrap/upgrade-journal.json"
# Tests only: "N" sends this process SIGINT after the N-th written file ("0": after the journal,
# before the first write); "N,N" sends two (the second Ctrl-C stops at once). Real signals through
# the real handlers, at moments a test can name (a timer could not hit them on a loaded machine).
SIGINT_AFTER_ENV = "TAC_BOOTSTRAP_TEST_SIGINT_AFTER"
# tac-bootstrap's own records, rewritten by every run from its plan: with a journal, a rerun takes
# them as they are (their content after a Ctrl-C depends on the moment, which no journal written
# before the first write can know; the journal itself parsed, so it is the unfinished run's).
RECORDS = frozenset({JOURNAL_PATH, MANIFEST_PATH, BASES_PATH})


@dataclass
class UpgradeResult(Result):
    """What ``upgrade`` did (or would do): the plan plus versions, git and database outcomes."""

    from_version: str = ""
    to_version: str = ""
    from_overlay: str | None = None
    to_overlay: str | None = None
    two_way: bool = False  # the project recorded no bases: edited files could not be merged
    git_root: Path | None = None
    staged: list[str] = field(default_factory=list)  # conflicts marked unmerged in the index
    dirty: list[str] = field(default_factory=list)  # uncommitted paths (seen in a dry run/--force)
    database: DbMigration | None = None
    renames: dict[str, str] = field(default_factory=dict)  # dropped path -> its likely successor

    @property
    def conflicts(self) -> list[FileAction]:
        """Files that need a person after this upgrade: conflict markers (new or left from an
        earlier one), settings values both sides changed, a settings file that does not parse."""
        return [fa for fa in self.plan.actions if fa.conflicts]

    @property
    def summary(self) -> str:
        """One line: versions, files and conflicts."""
        base = super().summary
        versions = f"{self.from_version or '?'} -> {self.to_version}"
        if self.from_overlay or self.to_overlay:
            versions += f", team templates {self.from_overlay or '-'} -> {self.to_overlay or '-'}"
        n = len(self.conflicts)
        return f"{base}; {versions}" + (f"; {n} with conflicts" if n else "")


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
    label: str,
    config_action: FileAction | None = None,
    overlay_version: str | None = None,
) -> tuple[Plan, dict[str, str]]:
    """Decide every path's upgrade action (see the module docstring); reads, never writes.

    Also returns the renames detected (dropped path -> the added path most like it).
    """
    root = root.resolve()
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
        current = _read_safely(root, path)
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
    plan = Plan(root, actions, manifest, __version__, retained, dict(bases), overlay_version)
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
        return FileAction(want.path, Action.CONFLICT, f"{blocked[0]}; not written", want.kind)
    try:
        current = _read(root, want.path)
    except OSError as exc:
        return FileAction(want.path, Action.CONFLICT, f"cannot read: {exc.strerror}", want.kind)
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
            want.path,
            action,
            reason,
            "file",
            content,
            want.executable,
            record,
            theirs,
            current,
            conflicts,
            stages,
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
            want.path,
            action,
            reason,
            "block",
            content,
            want.executable,
            record,
            pristine,
            current,
            conflicts,
            stages,
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


def _read_safely(root: Path, path: str) -> bytes | None:
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
        return FileAction(path, Action.DELETE, f"removed by the new version{hint}", before=current)
    return FileAction(
        path,
        Action.KEEP_REMOVED,
        f"removed by the new version, but edited by you: kept and no longer managed{hint}"
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
            path, Action.KEEP_REMOVED, "managed block dropped; markers unreadable: kept"
        )
    if found is None:
        return None
    if sha256(found.body.encode("utf-8")) != entry.sha256:
        return FileAction(
            path,
            Action.KEEP_REMOVED,
            "managed block dropped by the new version, but edited by you: kept",
            "block",
            before=current,
        )
    rest = (found.before + found.after).rstrip("\n")
    content = (rest + "\n").encode("utf-8") if rest.strip() else None
    return FileAction(
        path,
        Action.DELETE,
        "managed block dropped by the new version" + ("" if content else "; file removed"),
        "block",
        content,
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


# --- the journal: what an interrupted upgrade was doing, so its rerun can finish it -----------


@dataclass
class Conflict:
    """A conflicted file of the journal: what was written (with markers) and its git blobs."""

    written: str  # hash of the content with markers
    blobs: Blobs | None  # None: git was not there (or failed) when the journal was written


@dataclass
class Journal:
    """``.tac-bootstrap/upgrade-journal.json``: written before an upgrade's first write, removed
    when it completes. Each path maps to the hashes it may hold: its pre-upgrade content first
    (None: absent), then what the upgrade writes (None: removed)."""

    to_version: str
    to_overlay: str | None
    paths: dict[str, list[str | None]] = field(default_factory=dict)
    conflicts: dict[str, Conflict] = field(default_factory=dict)

    def accepts(self, rel: str, content: bytes | None) -> bool:
        """True when ``content`` at ``rel`` is what this upgrade found or put there."""
        hashes = self.paths.get(rel)
        return hashes is not None and (sha256(content) if content is not None else None) in hashes

    def allow(self, rel: str, content: bytes | None) -> None:
        """Accept ``content`` at ``rel`` from now on (keeping what was accepted before)."""
        digest = sha256(content) if content is not None else None
        hashes = self.paths.setdefault(rel, [])
        if digest not in hashes:
            hashes.append(digest)

    def to_json(self) -> str:
        """The file's text (sorted keys: the same journal is the same bytes)."""
        conflicts = {
            path: {
                "written": c.written,
                "git": None
                if c.blobs is None
                else {"path": c.blobs.path, "mode": c.blobs.mode, "blobs": list(c.blobs.shas)},
            }
            for path, c in self.conflicts.items()
        }
        data = {
            "format": 1,
            "to_version": self.to_version,
            "to_overlay": self.to_overlay,
            "paths": self.paths,
            "conflicts": conflicts,
        }
        return json.dumps(data, indent=1, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Journal:
        """Parse a journal; ValueError (KeyError, TypeError) when it is not one."""
        data = json.loads(text)
        conflicts: dict[str, Conflict] = {}
        for path, c in data["conflicts"].items():
            git = c["git"]
            blobs = None if git is None else Blobs(git["path"], git["mode"], tuple(git["blobs"]))
            conflicts[str(path)] = Conflict(str(c["written"]), blobs)
        paths = {
            str(p): [h if h is None else str(h) for h in hs] for p, hs in data["paths"].items()
        }
        return cls(str(data["to_version"]), data["to_overlay"], paths, conflicts)


def load_journal(target: Path) -> Journal | None:
    """The journal an unfinished upgrade left in ``target``, or None (none, or unreadable)."""
    try:
        return Journal.from_json((target / JOURNAL_PATH).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # not ours to trust: the dirty-tree check then names it like any other file


def _unexplained(target: Path, top: Path, dirty: list[str], journal: Journal | None) -> list[str]:
    """The dirty paths (relative to ``top``) that are not the unfinished upgrade's own work."""
    root = target.resolve()
    out: list[str] = []
    for path in dirty:
        try:
            rel = (top / path).resolve().relative_to(root).as_posix()
        except ValueError:
            out.append(path)
            continue
        ours = journal is not None and (
            rel in RECORDS or journal.accepts(rel, _read_safely(root, rel))
        )
        if not ours:
            out.append(path)
    return out


def _new_journal(result: UpgradeResult, previous: Journal | None) -> Journal:
    """This run's journal, carrying over what an interrupted earlier run recorded."""
    root = result.plan.root
    journal = Journal(result.to_version, result.to_overlay)
    if previous is not None:
        journal.paths = {p: list(h) for p, h in previous.paths.items()}
        journal.conflicts = dict(previous.conflicts)
    top = result.git_root.resolve() if result.git_root is not None else None
    for fa in result.plan.writes():
        journal.allow(fa.path, _read_safely(root, fa.path))
        journal.allow(fa.path, fa.content)
        if fa.action is not Action.MERGE_CONFLICT or fa.content is None:
            continue
        blobs = None
        if top is not None and fa.stages is not None:
            unmerged = Unmerged(
                (root / fa.path).relative_to(top).as_posix(), *fa.stages, executable=fa.executable
            )
            try:
                blobs = write_blobs(top, unmerged)
            except GitError as exc:
                result.notes.append(f"conflicts not marked in the git index: {exc.message}")
                top = None  # no point trying the others
        journal.conflicts[fa.path] = Conflict(sha256(fa.content), blobs)
    return journal


def _save_journal(root: Path, journal: Journal) -> None:
    write_atomic(root, JOURNAL_PATH, journal.to_json().encode("utf-8"))


def _stage_journal(
    result: UpgradeResult, journal: Journal, only: Iterable[str] | None = None
) -> None:
    """Mark unmerged every conflict of ``journal`` (or of ``only``) whose file still holds what
    the upgrade wrote; records them in ``result.staged``, a git failure in ``result.notes``."""
    if result.git_root is None:
        return
    root = result.plan.root
    wanted = set(journal.conflicts) if only is None else set(only) & set(journal.conflicts)
    entries: list[Blobs] = []
    for rel in sorted(wanted):
        c = journal.conflicts[rel]
        current = _read_safely(root, rel)
        if c.blobs is not None and current is not None and sha256(current) == c.written:
            entries.append(c.blobs)
    try:
        done = mark_unmerged(result.git_root.resolve(), entries)
    except GitError as exc:
        note = f"conflicts not marked in the git index: {exc.message}"
        if note not in result.notes:
            result.notes.append(note)
        return
    result.staged.extend(p for p in done if p not in result.staged)


# --- the command -------------------------------------------------------------------------------


def upgrade(
    path: Path | None = None,
    *,
    dry_run: bool = False,
    force: bool = False,
    overlay: Path | None = None,
    ui: UICallbacks | None = None,
    recorder: Recorder | None = None,
    templates_dir: Path | None = None,
) -> UpgradeResult:
    """Upgrade the project at ``path`` (default: here) to the installed templates."""
    rec = recorder or NullRecorder()
    hooks = ui or UICallbacks()
    target = Path(path if path is not None else ".").absolute()
    rec.set_metadata(target=str(target), dry_run=dry_run)
    if not target.is_dir():
        raise UsageError(f"{target} is not a folder")
    with rec.step("config"):
        old_config = load_config(target)
        manifest = load_manifest(target)
    if manifest is None:
        raise UsageError(
            f"{target} has no .tac-bootstrap/manifest.json: nothing to upgrade",
            hint="`tac-bootstrap add-agentic` adds the layer to a project",
        )
    git_top = repo_root(target)
    journal = load_journal(target)
    dirty: list[str] = []
    if git_top is not None:
        dirty = dirty_paths(target)
        if dirty and not force and not dry_run:
            _check_dirty(target, git_top, journal)
            dirty = []  # every one is the interrupted upgrade's own: not the user's to warn about
    if journal is not None:
        notes_before = [f"completing the interrupted upgrade to {_versions(journal)}"]
    else:
        notes_before = []
    with rec.step("answers") as step:
        config, team, notes = with_overlay(old_config, overlay, target)
        notes[:0] = notes_before
        config_action = _config_action(target, old_config, config)
        step.update(notes=len(notes))
    rec.note_answers(config.model_dump(mode="json", exclude_none=True))
    bases: dict[str, bytes] = {}
    try:
        bases = load_bases(target)
    except TacError as exc:
        rec.warning(str(exc))
        notes.append(f"{exc.message}: merging 2-way")
    two_way = not has_bases(target) or not bases
    if two_way:
        notes.append(
            "this project records no pristine bases (made by an older tac-bootstrap): files you"
            " edited cannot be merged and are kept as they are; this upgrade records bases for"
            " the next one"
        )
    with rec.step("render") as step:
        desired = desired_files(
            config,
            templates_dir=templates_dir,
            write_config=False,
            overlay=team.path if team is not None else None,
        )
        step.update(files=len(desired))
    to_overlay = team.version if team is not None else None
    with rec.step("plan") as step:
        plan, renames = plan_upgrade(
            target,
            desired,
            manifest,
            bases,
            label=template_label(team),
            config_action=config_action,
            overlay_version=to_overlay,
        )
        step.update(**{a.value: n for a, n in plan.counts().items()})
    result = UpgradeResult(
        "upgrade",
        target,
        config,
        plan,
        dry_run,
        notes=notes,
        from_version=manifest.template_version,
        to_version=__version__,
        from_overlay=manifest.overlay_version,
        to_overlay=to_overlay,
        two_way=two_way,
        git_root=git_top,
        dirty=dirty,
        renames=renames,
    )
    rec.set_metadata(
        from_version=result.from_version,
        to_version=result.to_version,
        from_overlay=result.from_overlay,
        to_overlay=result.to_overlay,
    )
    if hooks.on_plan is not None:
        hooks.on_plan(plan)
    for fa in plan.listed():
        rec.warning(f"{fa.path}: {fa.action.value}: {fa.details}", path=fa.path)
    try:
        if dry_run:
            for fa in plan.actions:
                rec.file_action(fa, written=False)
            result.database = migrate_db(project_db_path(target, config), dry_run=True)
            return result
        _apply(result, rec, hooks.on_file, journal)
        return result
    finally:
        done = plan.changes if dry_run else len(result.written)
        rec.set_metadata(
            files_changed=done,
            files=len(plan.actions),
            conflicts=[fa.path for fa in result.conflicts],
            database=_db_meta(result.database),
        )
        rec.set_summary(result.summary)


def _config_action(target: Path, old: ProjectConfig, new: ProjectConfig) -> FileAction | None:
    """The ``config.yml`` write of an upgrade: new answers merged into the user's file, or the
    file brought to the current format (built-in migrations ran while it was read)."""
    path = target / CONFIG_FILE
    current = config_module.CONFIG_VERSION
    with contextlib.suppress(OSError, UnicodeDecodeError, yaml.YAMLError):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        version = raw.get("version", current) if isinstance(raw, dict) else current
        if isinstance(version, int) and version < current:
            content = dump_config(new).encode("utf-8")
            return FileAction(
                CONFIG_FILE,
                Action.UPDATE,
                f"answers moved from format {version} to {current}",
                "file",
                content,
                False,
                sha256(content),
                content,
                path.read_bytes(),
            )
    reason = "answers migrated for the new templates"
    if new.templates != old.templates:
        reason = "team templates remembered" + (
            "; answers migrated" if new.answers != old.answers else ""
        )
    return config_rewrite(target, old, new, reason)


def _check_dirty(target: Path, top: Path, journal: Journal | None) -> None:
    """Refuse uncommitted changes (DirtyTree) unless all are an interrupted upgrade's own."""
    unexplained = _unexplained(target, top, dirty_paths(target, every_file=True), journal)
    if not unexplained:
        return
    shown = ", ".join(unexplained[:5]) + (", ..." if len(unexplained) > 5 else "")
    what = (
        "uncommitted changes" if journal is None else "changes the interrupted upgrade did not make"
    )
    raise DirtyTree(
        f"{what} in {target} ({len(unexplained)}: {shown}); nothing was done",
        hint="commit or stash them first so the upgrade can be reviewed and undone,"
        " or rerun with --force",
    )


def _versions(journal: Journal) -> str:
    if journal.to_overlay:
        return f"{journal.to_version} + team templates {journal.to_overlay}"
    return journal.to_version


def _test_sigints(after: int) -> None:
    """Send the SIGINTs ``SIGINT_AFTER_ENV`` asks for after the ``after``-th written file."""
    wanted = os.environ.get(SIGINT_AFTER_ENV)
    if not wanted:
        return
    for n in wanted.split(","):
        if n.strip() == str(after):
            os.kill(os.getpid(), signal.SIGINT)


def _apply(
    result: UpgradeResult,
    rec: Recorder,
    on_file: Callable[[FileAction], None] | None,
    previous: Journal | None,
) -> None:
    plan = result.plan
    root = plan.root
    journal = _new_journal(result, previous)
    _save_journal(root, journal)  # before the first write: a rerun recognises the tree as ours
    written: list[str] = []
    try:
        _test_sigints(0)
        _apply_journaled(result, rec, on_file, journal, written)
    except KeyboardInterrupt:  # outside the file loop (which says how far it got itself)
        error = Interrupted(
            f"interrupted after {len(written)} of {len(plan.writes())} files were written to"
            f" {root} (each one whole)"
        )
        raise error.completed_by_rerun(RERUN_HINT, "tac-bootstrap upgrade") from None
    remove_file(root, JOURNAL_PATH)  # done: nothing left for a rerun to finish


def _apply_journaled(
    result: UpgradeResult,
    rec: Recorder,
    on_file: Callable[[FileAction], None] | None,
    journal: Journal,
    written: list[str],
) -> None:
    """Apply the plan, marking conflicts unmerged as they are written, then the database."""
    plan = result.plan

    def each(fa: FileAction) -> None:
        written.append(fa.path)
        rec.file_action(fa, written=True)
        if fa.action is Action.MERGE_CONFLICT:
            _stage_journal(result, journal, [fa.path])  # unmerged at once, whatever comes next
        if on_file is not None:
            on_file(fa)
        _test_sigints(len(written))

    try:
        with rec.step("apply", strategy="in-place"):
            report = apply_in_place(plan, on_file=each, command="upgrade")
    except BaseException:
        _stage_journal(result, journal, written)  # interrupted or failed: mark what was written
        raise
    result.written = report.written
    for fa in plan.actions:
        if not fa.writes:
            rec.file_action(fa, written=False)
    if result.git_root is not None:
        with rec.step("git") as step:
            _stage_journal(result, journal)  # this run's conflicts and an interrupted run's
            step.update(unmerged=len(result.staged))
    with rec.step("database") as step:
        result.database = migrate_db(project_db_path(result.target, result.config))
        step.update(**_db_meta(result.database))


def _db_meta(migration: DbMigration | None) -> dict[str, Any]:
    if migration is None:
        return {}
    return {
        "db": str(migration.path),
        "from": migration.from_version,
        "to": migration.to_version,
        "backup": str(migration.backup) if migration.backup else None,
        "done": migration.done,
    }
