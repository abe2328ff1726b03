"""``render``'s receipts: proof that rendering a project again would change nothing, checked
without the templates, the config models or Jinja2.

A full ``render`` that changed nothing (every file ``unchanged``; nothing listed, no note, no team
templates, no ``--force``) leaves a receipt in the user's cache folder, never in the project: a
snapshot of everything that render read, taken before it read each input and again after it
finished (the two must agree, or no receipt is kept), and what it concluded. ``settled_render``
takes the same snapshot now; when it equals the receipt's, a full render would read the same
inputs with the same code and conclude the same, so the receipt's outcome is the answer. What it
cannot prove the same it leaves to the full render.

What a render reads, and so what a snapshot holds:

- the tool: its version, the Python running it, the bytes of every file of the package and its
  templates, and the modification time of each ``sys.path`` folder (installing, upgrading or
  removing a package changes its folder);
- the project: ``config.yml``, the manifest and the bases archive, every path the render compared
  (its type, mode bits and bytes; a missing one as missing), and each folder above them (a folder
  replaced by a link changes what a render may write), and where the project's folder resolves to.
  A project with a link among these always renders in full: a render reads through a link or
  judges where it leads, which the link itself does not say.

Receipts are a cache: ``TAC_BOOTSTRAP_NO_CACHE`` turns them off, and a missing, damaged or stale
receipt only costs the time of a full render.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from tac_bootstrap_cli import __version__
from tac_bootstrap_cli.leftovers import sweep_leftovers
from tac_bootstrap_cli.locations import (
    CONFIG_FILE,
    PACKAGE_DIR,
    app_templates_root,
    cache_root,
    templates_root,
)
from tac_bootstrap_cli.projectstate import BASES_PATH, MANIFEST_PATH

if TYPE_CHECKING:
    from tac_bootstrap_cli.history.settled import SettledRun
    from tac_bootstrap_cli.plan import Plan

RECEIPT_FORMAT = 2
# What every render reads besides the paths it compares.
STATE_FILES = (CONFIG_FILE, MANIFEST_PATH, BASES_PATH)
# The snapshot's keys that are not project paths: no path holds a NUL.
_TOOL, _TARGET = "\0tool", "\0target"

Snapshot = dict[str, str]


class Unprovable(ValueError):
    """What a render reads cannot be snapshotted into a proof (a link among the tool's files, a
    recorded path outside the project): that render keeps no receipt and none answers."""


def _line(*fields: object) -> bytes:
    """One line of a hash's input: the fields as the file system's bytes, NUL-separated (a path
    that is not UTF-8 is hashed as it is, never refused)."""
    return b"\0".join(os.fsencode(f) if isinstance(f, str) else str(f).encode() for f in fields)


@cache
def tool_identity() -> str:
    """One hash of everything about the running tool a render's outcome depends on: its version,
    the Python running it, the bytes of every file of the package and its templates (bytecode
    caches aside), and the mtime of every ``sys.path`` folder. Per process: the tool does not
    change under a running command. ``Unprovable`` when the tool holds a link (what a render
    reads through it is not what the link's entry says), ``OSError`` when it cannot be read."""
    digest = hashlib.sha256(_line(__version__, sys.version, sys.executable) + b"\n")
    roots = [PACKAGE_DIR]
    for root in (templates_root(), app_templates_root()):
        if not root.is_relative_to(PACKAGE_DIR):  # a checkout: the templates sit beside it
            roots.append(root)
    # Contents, not sizes and times: a copy that keeps times (cp -p, rsync -t, an archive) or
    # two edits within the clock's granularity must still count (~5 ms for the whole tool).
    pending = [str(root) for root in roots]
    while pending:  # depth first, each folder's entries in name order
        with os.scandir(pending.pop()) as scan:
            entries = sorted(scan, key=lambda e: e.name)
        for entry in entries:
            if entry.is_symlink():
                raise Unprovable(f"{entry.path} is a link")
            if entry.is_dir(follow_symlinks=False):
                if entry.name != "__pycache__":  # only bytecode, which no render reads
                    pending.append(entry.path)
                continue
            digest.update(_line(entry.path, _entry(Path(entry.path))) + b"\n")
    for folder in sys.path:
        try:
            mtime: object = Path(folder or ".").stat().st_mtime_ns
        except OSError:
            mtime = "-"
        digest.update(_line(folder, mtime) + b"\n")
    return digest.hexdigest()


def _entry(path: Path) -> str:
    """What is at ``path``, without following a link: ``file <mode> <sha256>``, ``dir``, ``link``,
    ``other`` or ``absent``."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return "absent"
    except OSError as exc:  # unreadable: never equal to a recorded state
        return f"error {exc.errno}"
    if stat.S_ISLNK(info.st_mode):
        return "link"
    if stat.S_ISDIR(info.st_mode):
        return "dir"
    if not stat.S_ISREG(info.st_mode):
        return "other"
    try:
        # No link followed, and no wait on a FIFO swapped in since the lstat.
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        with os.fdopen(os.open(path, flags), "rb") as file:
            digest = hashlib.file_digest(file, "sha256").hexdigest()
    except OSError as exc:
        return f"error {exc.errno}"
    return f"file {stat.S_IMODE(info.st_mode):o} {digest}"


def _inside(rel: str) -> bool:
    """True for a plain project-relative path (no root, no ``..``, no empty part)."""
    return bool(rel) and all(part not in ("", ".", "..") for part in rel.split("/"))


def snapshot(target: Path, paths: Iterable[str] = ()) -> Snapshot:
    """The state of everything a render of ``target`` reads: the tool, the project's records and
    ``paths`` (project-relative), each with the folders above it. ``Unprovable`` for a path
    outside the project (a manifest can list anything) or a tool with a link; ``OSError`` when
    the tool cannot be read."""
    taken: Snapshot = {_TOOL: tool_identity(), _TARGET: str(target.resolve())}
    for rel in sorted({*STATE_FILES, *paths}):
        if not _inside(rel):
            raise Unprovable(f"{rel!r} is not a path inside the project")
        taken[rel] = _entry(target / rel)
        for parent in PurePosixPath(rel).parents:
            if parent.name:  # "." is the project itself, held as the target's resolution
                taken.setdefault(f"{parent}/", _entry(target / parent))
    return taken


def _provable(taken: Mapping[str, str]) -> bool:
    """False when a snapshot holds a link: a render reads through it (``config.yml``) or judges
    where it leads (a folder on the way), which the link's own entry does not say, so a project
    with one always renders in full."""
    return "link" not in taken.values()


def project_paths(taken: Mapping[str, str]) -> list[str]:
    """The project paths of a snapshot (its files, not its folders or the tool)."""
    return [key for key in taken if key not in (_TOOL, _TARGET) and not key.endswith("/")]


def agrees(later: Mapping[str, str], earlier: Mapping[str, str]) -> bool:
    """True when ``later`` holds every entry of ``earlier`` unchanged."""
    return all(later.get(key) == value for key, value in earlier.items())


def receipt_file(target: Path) -> Path | None:
    """Where the receipt of the project at ``target`` is kept (None: caching is off)."""
    root = cache_root()
    if root is None:
        return None
    key = hashlib.sha256(str(target).encode("utf-8", "surrogateescape")).hexdigest()[:32]
    return root / "receipts" / f"{key}.json"


@dataclass(frozen=True)
class Settled:
    """A render whose outcome a receipt proves: every file unchanged, nothing written."""

    target: Path  # as given (absolute): what the output and the history name
    root: Path  # where it resolves to: what the full render's plan and apply work in
    files: tuple[tuple[str, str], ...]  # (path, reason) of each unchanged file, in path order
    answers: dict[str, Any]  # the answers the render worked with (the history's Prompt)
    made_at: str  # when the full render that made the receipt ran

    @property
    def summary(self) -> str:
        """The run's one line, as the full render says it (``Result.summary``)."""
        return f"render {self.target}: wrote 0 files ({len(self.files)} unchanged)"

    def plan(self) -> Plan:
        """The plan a full render makes of this project (every file unchanged), for the review a
        terminal shows (``ui.review``)."""
        from tac_bootstrap_cli.plan import Action, FileAction, Plan

        actions = [FileAction(path=p, action=Action.UNCHANGED, reason=r) for p, r in self.files]
        return Plan(self.root, actions, None, __version__)

    def history(self, argv: list[str], started: datetime, check_ms: float) -> SettledRun:
        """This render as the history records it: one ``receipt`` step (the check), then an
        ``unchanged`` event per file, the answers and the summary, as a full render does."""
        from tac_bootstrap_cli.history.settled import SettledRun

        n = len(self.files)
        return SettledRun(
            command="render",
            argv=argv,
            started=started,
            step="receipt",
            step_ms=check_ms,
            metadata={
                "target": str(self.target),
                "receipt": {"files": n, "made_at": self.made_at},
                "files_changed": 0,
                "files": n,
            },
            events=[(f"unchanged {path}", _unchanged(path, why)) for path, why in self.files],
            answers=self.answers,
            summary=self.summary,
        )


def _unchanged(path: str, reason: str) -> dict[str, object]:
    """The metadata of a file's ``unchanged`` event (``RunRecorder.file_action``, not written)."""
    return {"path": path, "action": "unchanged", "bytes": 0, "reason": reason, "written": False}


def keep_receipt(
    target: Path, before: Iterable[Snapshot], files: list[tuple[str, str]], answers: dict[str, Any]
) -> bool:
    """Record that a render of ``target`` changed none of ``files`` (path, reason) with
    ``answers``; ``before`` are the snapshots taken before its inputs were read. Kept only when
    the state now agrees with each of them (nothing changed while the render ran); a cache
    folder that cannot be written only costs the next render its speed. True when kept."""
    where = receipt_file(target)
    if where is None or not files:
        return False
    earlier = list(before)
    paths = {rel for taken in earlier for rel in project_paths(taken)} | {p for p, _ in files}
    try:
        now = snapshot(target, paths)
    except (OSError, ValueError):  # unreadable or unprovable: no receipt, a full render next time
        return False
    if not all(agrees(now, taken) for taken in earlier) or not _provable(now):
        return False
    receipt = {
        "format": RECEIPT_FORMAT,
        "target": str(target),
        "made_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "inputs": now,
        "files": sorted(files),
        "answers": answers,
    }
    from tac_bootstrap_cli._adws.adw_modules.adw_files import write_atomic

    try:
        where.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(receipt, ensure_ascii=False)
        write_atomic(where, text.encode("utf-8", "surrogateescape"), mode=0o600)
    except OSError:
        return False
    _prune(where.parent)
    return True


RECEIPT_DAYS = 30  # a receipt not rewritten for this long is of a project no longer rendered


def _prune(folder: Path) -> None:
    """Remove receipts not rewritten for ``RECEIPT_DAYS`` (one per project path ever rendered
    would otherwise pile up); best effort."""
    oldest = time.time() - RECEIPT_DAYS * 86400
    with contextlib.suppress(OSError), os.scandir(folder) as scan:
        for entry in scan:
            if entry.name.endswith(".json") and entry.is_file(follow_symlinks=False):
                with contextlib.suppress(OSError):
                    if entry.stat(follow_symlinks=False).st_mtime < oldest:
                        Path(entry.path).unlink()


def settled_render(target: Path) -> Settled | None:
    """The outcome of rendering ``target`` again when its receipt proves it (None: a full render
    must decide)."""
    target = target.absolute()
    where = receipt_file(target)
    if where is None:
        return None
    try:
        receipt = json.loads(where.read_text(encoding="utf-8"))
        inputs, files = receipt["inputs"], receipt["files"]
        well_formed = (
            receipt["format"] == RECEIPT_FORMAT
            and receipt["target"] == str(target)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in inputs.items())
            and all(isinstance(p, str) and isinstance(r, str) for p, r in files)
            and isinstance(receipt["answers"], dict)
            and isinstance(receipt["made_at"], str)
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # none yet, or damaged: a full render decides (and writes a new one)
    if not well_formed or not files or not _provable(inputs):
        return None
    try:
        if snapshot(target, project_paths(inputs)) != inputs:
            return None
    except (OSError, ValueError):
        return None
    return Settled(
        target,
        Path(inputs[_TARGET]),
        tuple((p, r) for p, r in files),
        receipt["answers"],
        receipt["made_at"],
    )


def render_from_receipt(path: Path | None, argv: list[str]) -> Settled | None:
    """``render`` of ``path`` answered by its receipt and recorded in the history like a full
    render; None when the receipt does not prove the outcome or the run cannot be recorded this
    way (the full render then runs)."""
    started, clock = datetime.now(UTC), time.perf_counter()
    settled = settled_render(Path(path if path is not None else "."))
    if settled is None:
        return None
    from tac_bootstrap_cli.history.settled import record_settled

    run = settled.history(argv, started, (time.perf_counter() - clock) * 1000)
    if not record_settled(run):
        return None
    # What a killed writer left beside these files: a full render's apply step sweeps it too.
    sweep_leftovers(settled.root, [path for path, _why in settled.files])
    return settled
