"""Put a Plan on disk without ever leaving a partial file or writing outside the target.

Two strategies:
- ``apply_staged`` (``init`` of a new project): everything goes into a hidden staging folder beside
  the target, which is renamed into place at the end; any exception or Ctrl-C removes it, so there
  is either no project or a whole one.
- ``apply_in_place`` (``add-agentic``, ``render``): each file is written to a temporary file in its
  own folder and renamed over the old one. Ctrl-C is deferred to the end of the current file; the
  manifest is saved for what was written, so a rerun converges.

Staging folders and temporary files carry the pid of the process that made them
(``.NAME.tac-bootstrap-staging-<pid>-<random>``, ``.FILE.<pid>-<random>.tac-tmp``): what a killed
process left is removed by the next writing command once that process is gone (``leftovers.py``,
which ``doctor`` reports them with). Once cleanup has started, further Ctrl-Cs
are ignored, so an impatient second Ctrl-C cannot leave half a staging folder.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import stat
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from tac_bootstrap_cli._adws.adw_modules.adw_files import TEMP_SUFFIX, UMASK
from tac_bootstrap_cli._adws.adw_modules.adw_files import write_atomic as atomic_file
from tac_bootstrap_cli.errors import Interrupted, TacError, UnsafePathError
from tac_bootstrap_cli.leftovers import STAGING_MARK, remove_stale_staging, sweep_leftovers
from tac_bootstrap_cli.plan import Action, FileAction, Plan
from tac_bootstrap_cli.projectstate import (
    BASES_PATH,
    MANIFEST_PATH,
    encode_bases,
    encode_bases_in_background,
)

OnFile = Callable[[FileAction], None]
# ``{rerun}``: the command line, completed by the front end (TacError.rerun_with).
RERUN_HINT = "rerun `{rerun}` to complete the job"


@dataclass
class ApplyReport:
    """What reached the disk."""

    written: list[str] = field(default_factory=list)
    manifest_written: bool = False


def _mode_for(executable: bool, existing: int | None) -> int:
    """Keep the permissions of a file being replaced; add exec bits when the template has them."""
    base = existing if existing is not None else (0o666 & ~UMASK)
    if executable:
        base |= 0o111 & ~UMASK
    return base & 0o7777


def _check_parent(root: Path, parent: Path) -> None:
    """Refuse a folder whose real location is outside ``root`` (a symlink swapped in meanwhile)."""
    if not Path(os.path.realpath(parent)).is_relative_to(root):
        raise UnsafePathError(f"{parent} leads outside {root}; nothing written there")


def _make_parents(root: Path, rel: str) -> Path:
    parent = (root / rel).parent
    parent.mkdir(parents=True, exist_ok=True)
    _check_parent(root, parent)
    return parent


def write_atomic(root: Path, rel: str, content: bytes, executable: bool = False) -> None:
    """Write ``root/rel`` through a temporary file in the same folder and ``os.replace``."""
    parent = _make_parents(root, rel)
    target = root / rel
    try:
        st = target.lstat()
        existing = None if target.is_symlink() else st.st_mode & 0o7777
    except FileNotFoundError:
        existing = None
    # The pid in the temporary name: a later run removes the file if this process is killed
    # before the rename (sweep_leftovers).
    atomic_file(parent / target.name, content, mode=_mode_for(executable, existing))


# Writing relative to an open folder (``dir_fd``) is what makes ``_Folders`` safe; without it
# (not on POSIX) every file goes through ``write_atomic``.
_DIR_FD = {os.open, os.stat, os.rename, os.unlink} <= os.supports_dir_fd


class _Folders:
    """The folders one in-place apply writes into, opened once each (a few at a time: the plan's
    paths come folder by folder). Before each file the folder is proven again: its real path lies
    inside ``root`` and is the folder the descriptor holds. The file is then created, chmod-ed and
    renamed relative to the descriptor, so nothing swapped in after the proof (a link, a folder
    moved away) can send the write elsewhere."""

    # Descriptors kept open at once: enough for the folder being written and its neighbours, far
    # below any limit on open files (256 on macOS by default).
    KEEP_OPEN = 8

    def __init__(self, root: Path) -> None:
        self.root = root
        self._open: dict[str, int] = {}  # in the order opened: the oldest is closed first

    def _folder(self, rel: str) -> int:
        path = self.root / rel if rel else self.root
        fd = self._open.get(rel)
        if fd is None:
            path.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
            if len(self._open) >= self.KEEP_OPEN:
                os.close(self._open.pop(next(iter(self._open))))
            self._open[rel] = fd
        real = Path(os.path.realpath(path))
        if not (real.is_relative_to(self.root) and os.path.samestat(os.fstat(fd), real.stat())):
            raise UnsafePathError(f"{path} leads outside {self.root}; nothing written there")
        return fd

    def write(self, rel: str, content: bytes, executable: bool) -> None:
        """``write_atomic`` of ``root/rel``: a temporary file in its folder, renamed over it."""
        folder, _, name = rel.rpartition("/")
        at = self._folder(folder)
        try:
            st = os.stat(name, dir_fd=at, follow_symlinks=False)
            existing = None if stat.S_ISLNK(st.st_mode) else stat.S_IMODE(st.st_mode)
        except FileNotFoundError:
            existing = None
        # The name sweep_leftovers knows: the pid, 8 random characters, TEMP_SUFFIX.
        tmp = f".{name}.{os.getpid()}-{os.urandom(4).hex()}{TEMP_SUFFIX}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=at)
        try:
            try:
                view = memoryview(content)
                while view:  # os.write may write less than asked
                    view = view[os.write(fd, view) :]
                os.fchmod(fd, _mode_for(executable, existing))
            finally:
                os.close(fd)
            # POSIX rename replaces the target atomically (os.replace, which is the same call,
            # is not listed in os.supports_dir_fd).
            os.rename(tmp, name, src_dir_fd=at, dst_dir_fd=at)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=at)
            raise

    def close(self) -> None:
        """Close the folders still open."""
        for fd in self._open.values():
            os.close(fd)
        self._open.clear()


class _Flag:
    hits = 0


@contextlib.contextmanager
def _sigint_counted(raise_on: int | None) -> Iterator[_Flag]:
    """While active, Ctrl-C only counts, except the ``raise_on``-th one, which raises
    KeyboardInterrupt at once. Later ones are ignored: cleanup is running and must finish."""
    flag = _Flag()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(_signum: int, _frame: FrameType | None) -> None:
        flag.hits += 1
        if flag.hits == raise_on:
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


def _apply_one(
    fa: FileAction, folders: _Folders, report: ApplyReport, total: int, command: str
) -> None:
    """Write or remove one file in place; a failure is a ``TacError`` saying how far it got."""
    root = folders.root
    try:
        if fa.action is Action.DELETE and fa.content is None:
            remove_file(root, fa.path)
        elif _DIR_FD:
            assert fa.content is not None
            folders.write(fa.path, fa.content, fa.executable)
        else:
            assert fa.content is not None
            write_atomic(root, fa.path, fa.content, fa.executable)
    except OSError as exc:  # permissions, a full disk...: say which file, and how to go on
        raise TacError(f"cannot write {root / fa.path}: {exc.strerror or exc}").completed_by_rerun(
            f"{len(report.written)} of {total} files written; fix the cause, then {RERUN_HINT}",
            f"tac-bootstrap {command}",
        ) from exc


def apply_in_place(
    plan: Plan, *, on_file: OnFile | None = None, command: str = "render"
) -> ApplyReport:
    """Write the plan's files one by one into an existing folder; save the manifest at the end.

    A first Ctrl-C stops after the current file, a second one at once (the temporary file is
    removed and the manifest saved either way). An interrupt or a failed write raises an error
    whose hint says to rerun ``tac-bootstrap {command}``; a front end names the whole command
    line (``rerun_with``)."""
    root = plan.root
    report = ApplyReport()
    writes = plan.writes()
    sweep_leftovers(root, [fa.path for fa in plan.actions])  # what killed runs left
    # The bases of a complete run compress on another thread while the files are written
    # (~10 ms of add-agentic's 104 files); a run that stops early encodes its own at the end.
    everything = plan.next_manifest([fa.path for fa in writes])
    bases = encode_bases_in_background(plan.next_bases(everything))
    ok = False
    interrupted: Interrupted | None = None
    folders = _Folders(root)
    with _sigint_counted(raise_on=2) as flag, contextlib.closing(folders):
        try:
            for fa in writes:
                if flag.hits:
                    raise _interrupted(root, report, writes, command)
                _apply_one(fa, folders, report, len(writes), command)
                report.written.append(fa.path)
                if on_file is not None:
                    on_file(fa)
            ok = True
        except KeyboardInterrupt:
            if not flag.hits:  # not a Ctrl-C of ours (raised by a caller's code): as it is
                raise
            interrupted = _interrupted(root, report, writes, command)
        finally:
            # Even after a failure, record what was written: a rerun then sees those files as ours.
            try:
                complete = ok and len(report.written) == len(writes)
                report.manifest_written = _save_manifest(
                    plan, root, report.written, bases if complete else None
                )
            except OSError:
                if ok:
                    raise
    if interrupted is not None:
        raise interrupted from None
    return report


def _interrupted(
    root: Path, report: ApplyReport, writes: list[FileAction], command: str
) -> Interrupted:
    """The one line an interrupted in-place apply ends with: how far it got, how to finish."""
    error = Interrupted(
        f"interrupted after {len(report.written)} of {len(writes)} files were written to {root}"
        " (each one whole)"
    )
    error.completed_by_rerun(RERUN_HINT, f"tac-bootstrap {command}")
    return error


def remove_file(root: Path, rel: str) -> None:
    """Unlink ``root/rel`` (never through a folder leading outside ``root``); drop emptied folders."""
    target = root / rel
    _check_parent(root, target.parent)
    with contextlib.suppress(FileNotFoundError):
        target.unlink()
    folder = target.parent
    while folder != root and folder.is_relative_to(root):
        try:
            folder.rmdir()  # only succeeds when empty
        except OSError:
            break
        folder = folder.parent


def _save_manifest(
    plan: Plan, root: Path, written: list[str], encoded: Callable[[], bytes] | None = None
) -> bool:
    """Write the bases archive (``encoded``: its bytes for ``written``, else encoded here) and the
    manifest of what ``written`` leaves on disk; False when the manifest had nothing new."""
    manifest = plan.next_manifest(written)
    bases = encoded() if encoded is not None else encode_bases(plan.next_bases(manifest))
    try:
        same_bases = (root / BASES_PATH).read_bytes() == bases
    except OSError:
        same_bases = False
    if not same_bases:  # first: a manifest never names a hash whose base is not on disk
        write_atomic(root, BASES_PATH, bases)
    if plan.previous is not None and manifest.same_content(plan.previous):
        return False  # nothing new to record: leave the file (and its mtime) alone
    write_atomic(root, MANIFEST_PATH, manifest.to_json().encode("utf-8"))
    return True


def apply_staged(plan: Plan, *, on_file: OnFile | None = None) -> ApplyReport:
    """Build the whole project in a staging folder beside ``plan.root``, then rename it into place.

    Ctrl-C only sets a flag here, checked between files: no interrupt can land inside a write or
    the cleanup, so an interrupted or failed build always removes its staging folder."""
    target = plan.root
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise TacError(f"{target} is not an empty folder; nothing written")
    parent = target.parent
    with _sigint_counted(raise_on=None) as flag:
        try:
            parent.mkdir(parents=True, exist_ok=True)
            remove_stale_staging(parent, target.name)
            staging = Path(
                tempfile.mkdtemp(dir=parent, prefix=f".{target.name}{STAGING_MARK}{os.getpid()}-")
            )
        except OSError as exc:
            raise TacError(
                f"cannot create the project in {parent}: {exc.strerror or exc}",
                hint="choose a writable folder with --output-dir",
            ) from exc
        try:
            report = _build(plan, staging, on_file, flag)
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise TacError(
                f"cannot create the project {target}: {exc.strerror or exc}; nothing was written"
            ) from exc
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return report


def _build(plan: Plan, staging: Path, on_file: OnFile | None, flag: _Flag) -> ApplyReport:
    """Write every file of ``plan`` into ``staging``, then rename it to ``plan.root``."""
    target = plan.root
    report = ApplyReport()
    made: set[str] = set()
    base = str(staging)
    writes = list(plan.writes())
    # All or nothing: the manifest names every write, and its bases compress while files land.
    manifest = plan.next_manifest([fa.path for fa in writes])
    bases = encode_bases_in_background(plan.next_bases(manifest))

    def check_interrupt() -> None:
        if flag.hits:
            raise Interrupted(f"interrupted: {target} was not created (nothing was written)")

    for fa in writes:
        check_interrupt()
        assert fa.content is not None
        folder, _, _ = fa.path.rpartition("/")
        if folder and folder not in made:
            Path(base, folder).mkdir(parents=True, exist_ok=True)
            made.add(folder)
        # O_EXCL: the staging folder is ours alone; the mode passes through the umask.
        mode = 0o777 if fa.executable else 0o666
        fd = os.open(f"{base}/{fa.path}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            view = memoryview(fa.content)
            while view:  # os.write may write less than asked
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        report.written.append(fa.path)
        if on_file is not None:
            on_file(fa)
    (staging / MANIFEST_PATH).parent.mkdir(parents=True, exist_ok=True)
    (staging / BASES_PATH).write_bytes(bases())
    (staging / MANIFEST_PATH).write_bytes(manifest.to_json().encode("utf-8"))
    staging.chmod(0o777 & ~UMASK)  # mkdtemp made it private; a project folder is not
    check_interrupt()  # the last moment at which no project exists yet
    _rename_into_place(staging, target)
    report.manifest_written = True
    return report


def _rename_into_place(staging: Path, target: Path) -> None:
    try:
        staging.replace(target)  # POSIX: atomically replaces an empty folder, fails otherwise
    except OSError:
        if not target.is_dir() or any(target.iterdir()):
            raise
        target.rmdir()  # platforms that cannot rename over an empty folder
        staging.replace(target)
