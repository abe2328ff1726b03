"""``upgrade``: bring a generated project to the installed template version by 3-way merges.

``Upgrade`` is the operation pipeline (``operation.Operation``) with upgrade's own steps plugged
in: ``prepare`` reads the manifest, refuses uncommitted changes (unless an interrupted upgrade's
journal explains them), migrates the answers for the new templates and loads the recorded bases;
``decide`` is ``upgrade_plan.plan_upgrade`` (the per-file 3-way decisions); ``apply`` runs inside
the journal (``journal.py``) so the rerun after a Ctrl-C can finish the job; ``write`` marks each
conflict unmerged in the git index as soon as it is written; ``finish`` is the merge step: every
conflict staged in the git index, then the project database migrated. See
specs/living-projects.md for the table of outcomes.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Unpack

import yaml

from tac_bootstrap_cli import __version__
from tac_bootstrap_cli import config as config_module
from tac_bootstrap_cli.apply import RERUN_HINT, ApplyReport, apply_in_place, remove_file
from tac_bootstrap_cli.config import CONFIG_FILE, ProjectConfig, dump_config, load_config
from tac_bootstrap_cli.errors import DirtyTree, GitError, Interrupted, TacError, UsageError
from tac_bootstrap_cli.gitutil import (
    Blobs,
    Unmerged,
    dirty_paths,
    mark_unmerged,
    repo_root,
    write_blobs,
)
from tac_bootstrap_cli.journal import (
    JOURNAL_PATH,
    Conflict,
    Journal,
    load_journal,
    unexplained,
)
from tac_bootstrap_cli.layer import Layer, config_rewrite, config_update, layer_for
from tac_bootstrap_cli.operation import Operation, Options, Result, Settings
from tac_bootstrap_cli.plan import Action, Desired, FileAction, Plan
from tac_bootstrap_cli.projectdb import DbMigration, migrate_db, project_db_path
from tac_bootstrap_cli.projectstate import Manifest, has_bases, load_bases, load_manifest, sha256
from tac_bootstrap_cli.upgrade_plan import plan_upgrade, read_safely

__all__ = ["JOURNAL_PATH", "SIGINT_AFTER_ENV", "Upgrade", "UpgradeResult", "upgrade"]

# Tests only: "N" sends this process SIGINT after the N-th written file ("0": after the journal,
# before the first write); "N,N" sends two (the second Ctrl-C stops at once). Real signals through
# the real handlers, at moments a test can name (a timer could not hit them on a loaded machine).
SIGINT_AFTER_ENV = "TAC_BOOTSTRAP_TEST_SIGINT_AFTER"


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


def upgrade(path: Path | None = None, **settings: Unpack[Settings]) -> UpgradeResult:
    """Upgrade the project at ``path`` (default: here) to the installed templates."""
    target = Path(path if path is not None else ".").absolute()
    return Upgrade(Options.of(target, **settings)).run()


class Upgrade(Operation[UpgradeResult]):
    """``upgrade``: the pipeline with 3-way decisions, a journal and the git/database merge step."""

    command = "upgrade"
    writes_config = False  # config.yml changes only through its own merged rewrite

    def __init__(self, options: Options) -> None:
        super().__init__(options)
        self.git_root: Path | None = None
        self.dirty: list[str] = []
        self.previous: Journal | None = None  # what an interrupted upgrade left
        self.journal = Journal(__version__, None)  # this run's (written before the first file)
        self.config_action: FileAction | None = None
        self.bases: dict[str, bytes] = {}
        self.two_way = False
        self.renames: dict[str, str] = {}
        self.written: list[str] = []

    def prepare(self) -> Layer:
        """A generated project whose uncommitted changes (if any) are an interrupted upgrade's own
        or forced; the answers migrated for the new templates; the recorded bases."""
        o = self.options
        target = o.target
        if not target.is_dir():
            raise UsageError(f"{target} is not a folder")
        with self.step("config"):
            old_config = load_config(target)
            self.manifest = load_manifest(target)
        if self.manifest is None:
            raise UsageError(
                f"{target} has no .tac-bootstrap/manifest.json: nothing to upgrade",
                hint="`tac-bootstrap add-agentic` adds the layer to a project",
            )
        self.git_root = repo_root(target)
        self.previous = load_journal(target)
        if self.git_root is not None:
            self.dirty = dirty_paths(target)
            if self.dirty and not o.force and not o.dry_run:
                _check_dirty(target, self.git_root, self.previous)
                self.dirty = []  # every one is the interrupted upgrade's own: not the user's
        with self.step("answers") as step:
            layer = layer_for(old_config, o.overlay, target)
            if self.previous is not None:
                layer.notes.insert(
                    0, f"completing the interrupted upgrade to {self.previous.versions}"
                )
            self.config_action = _config_action(target, old_config, layer.config)
            step.update(notes=len(layer.notes))
        self.recorder.note_answers(layer.config.to_data(exclude_none=True))
        self._load_bases(layer.notes)
        return layer

    def _load_bases(self, notes: list[str]) -> None:
        """The recorded bases; without them (an older project) edited files merge 2-way."""
        target = self.options.target
        try:
            self.bases = load_bases(target)
        except TacError as exc:
            self.recorder.warning(str(exc))
            notes.append(f"{exc.message}: merging 2-way")
        self.two_way = not has_bases(target) or not self.bases
        if self.two_way:
            notes.append(
                "this project records no pristine bases (made by an older tac-bootstrap): files"
                " you edited cannot be merged and are kept as they are; this upgrade records"
                " bases for the next one"
            )

    def decide(self, layer: Layer, desired: list[Desired]) -> Plan:
        """The 3-way decisions (``plan_upgrade``), renames noted."""
        manifest: Manifest | None = self.manifest
        assert manifest is not None  # prepare refused a project without one
        plan, self.renames = plan_upgrade(
            self.options.target,
            desired,
            manifest,
            self.bases,
            overlay=layer.overlay,
            config_action=self.config_action,
        )
        return plan

    def result(self, layer: Layer, plan: Plan) -> UpgradeResult:
        """The result with the versions from and to (recorded at once)."""
        o, manifest = self.options, self.manifest
        assert manifest is not None
        result = UpgradeResult(
            self.command,
            o.target,
            layer.config,
            plan,
            o.dry_run,
            notes=layer.notes,
            from_version=manifest.template_version,
            to_version=__version__,
            from_overlay=manifest.overlay_version,
            to_overlay=layer.overlay.version if layer.overlay is not None else None,
            two_way=self.two_way,
            git_root=self.git_root,
            dirty=self.dirty,
            renames=self.renames,
        )
        self.recorder.set_metadata(
            from_version=result.from_version,
            to_version=result.to_version,
            from_overlay=result.from_overlay,
            to_overlay=result.to_overlay,
        )
        return result

    def apply(self, result: UpgradeResult) -> None:
        """The pipeline's apply inside the journal: saved before the first write (a rerun then
        recognises the tree as ours), removed once everything is done."""
        root = result.plan.root
        self.journal = self._new_journal(result)
        self.journal.save(root)
        try:
            _test_sigints(0)
            super().apply(result)
        except KeyboardInterrupt:  # outside the file loop (which says how far it got itself)
            error = Interrupted(
                f"interrupted after {len(self.written)} of {len(result.plan.writes())} files were"
                f" written to {root} (each one whole)"
            )
            raise error.completed_by_rerun(RERUN_HINT, "tac-bootstrap upgrade") from None
        remove_file(root, JOURNAL_PATH)  # done: nothing left for a rerun to finish

    def write(self, result: UpgradeResult) -> ApplyReport:
        """In place, each conflict marked unmerged in the git index as soon as it is written."""

        def each(fa: FileAction) -> None:
            self.written.append(fa.path)
            if fa.action is Action.MERGE_CONFLICT:
                self._stage(result, [fa.path])  # unmerged at once, whatever comes next
            self.file_written(fa)
            _test_sigints(len(self.written))

        try:
            return apply_in_place(result.plan, on_file=each, command=self.command)
        except BaseException:
            self._stage(result, self.written)  # interrupted or failed: mark what was written
            raise

    def finish(self, result: UpgradeResult) -> None:
        """The merge step: conflicts staged in the git index, then the project database migrated
        (a dry run only says whether it would be)."""
        db = project_db_path(result.target, result.config)
        if result.dry_run:
            result.database = migrate_db(db, dry_run=True)
            return
        if result.git_root is not None:
            with self.step("git") as step:
                self._stage(result)  # this run's conflicts and an interrupted run's
                step.update(unmerged=len(result.staged))
        with self.step("database") as step:
            result.database = migrate_db(db)
            step.update(**_db_meta(result.database))

    def record(self, result: UpgradeResult) -> None:
        """The outcome, with the conflicts left and the database migration."""
        self.recorder.set_metadata(
            conflicts=[fa.path for fa in result.conflicts], database=_db_meta(result.database)
        )
        super().record(result)

    def _new_journal(self, result: UpgradeResult) -> Journal:
        """This run's journal, carrying over what an interrupted earlier run recorded."""
        root = result.plan.root
        journal = Journal(result.to_version, result.to_overlay)
        if self.previous is not None:
            journal.paths = {p: list(h) for p, h in self.previous.paths.items()}
            journal.conflicts = dict(self.previous.conflicts)
        top = result.git_root.resolve() if result.git_root is not None else None
        for fa in result.plan.writes():
            journal.allow(fa.path, read_safely(root, fa.path))
            journal.allow(fa.path, fa.content)
            if fa.action is not Action.MERGE_CONFLICT or fa.content is None:
                continue
            blobs = None
            if top is not None and fa.stages is not None:
                rel = (root / fa.path).relative_to(top).as_posix()
                unmerged = Unmerged(rel, *fa.stages, executable=fa.executable)
                try:
                    blobs = write_blobs(top, unmerged)
                except GitError as exc:
                    result.notes.append(f"conflicts not marked in the git index: {exc.message}")
                    top = None  # no point trying the others
            journal.conflicts[fa.path] = Conflict(sha256(fa.content), blobs)
        return journal

    def _stage(self, result: UpgradeResult, only: Iterable[str] | None = None) -> None:
        """Mark unmerged every conflict of the journal (or of ``only``) whose file still holds
        what the upgrade wrote; records them in ``result.staged``, a git failure in the notes."""
        if result.git_root is None:
            return
        root, journal = result.plan.root, self.journal
        wanted = set(journal.conflicts) if only is None else set(only) & set(journal.conflicts)
        entries: list[Blobs] = []
        for rel in sorted(wanted):
            c = journal.conflicts[rel]
            current = read_safely(root, rel)
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


def _config_action(target: Path, old: ProjectConfig, new: ProjectConfig) -> FileAction | None:
    """The ``config.yml`` write of an upgrade: new answers merged into the user's file, or the
    file brought to the current format (built-in migrations ran while it was read)."""
    path = target / CONFIG_FILE
    current = config_module.CONFIG_VERSION
    with contextlib.suppress(OSError, UnicodeDecodeError, yaml.YAMLError):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        version = raw.get("version", current) if isinstance(raw, dict) else current
        if isinstance(version, int) and version < current:
            return config_update(
                dump_config(new).encode("utf-8"),
                f"answers moved from format {version} to {current}",
                before=path.read_bytes(),
            )
    reason = "answers migrated for the new templates"
    if new.templates != old.templates:
        reason = "team templates remembered" + (
            "; answers migrated" if new.answers != old.answers else ""
        )
    return config_rewrite(target, old, new, reason)


def _check_dirty(target: Path, top: Path, journal: Journal | None) -> None:
    """Refuse uncommitted changes (DirtyTree) unless all are an interrupted upgrade's own."""
    left = unexplained(target, top, dirty_paths(target, every_file=True), journal)
    if not left:
        return
    shown = ", ".join(left[:5]) + (", ..." if len(left) > 5 else "")
    what = (
        "uncommitted changes" if journal is None else "changes the interrupted upgrade did not make"
    )
    raise DirtyTree(
        f"{what} in {target} ({len(left)}: {shown}); nothing was done",
        hint="commit or stash them first so the upgrade can be reviewed and undone,"
        " or rerun with --force",
    )


def _test_sigints(after: int) -> None:
    """Send the SIGINTs ``SIGINT_AFTER_ENV`` asks for after the ``after``-th written file."""
    wanted = os.environ.get(SIGINT_AFTER_ENV)
    if not wanted:
        return
    for n in wanted.split(","):
        if n.strip() == str(after):
            os.kill(os.getpid(), signal.SIGINT)


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
