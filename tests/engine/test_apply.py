"""Applying a plan: atomic per file, all-or-nothing for init, interrupts that a rerun completes."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tac_bootstrap_cli.apply import apply_in_place, apply_staged, write_atomic
from tac_bootstrap_cli.errors import Interrupted, TacError, UnsafePathError
from tac_bootstrap_cli.leftovers import STAGING_MARK
from tac_bootstrap_cli.plan import Action, Desired, FileAction, Plan, compute_plan
from tac_bootstrap_cli.projectstate import BASES_PATH, MANIFEST_PATH, load_manifest

STATE = {MANIFEST_PATH, BASES_PATH}
FILES = [Desired(f"d{i % 2}/f{i}.txt", f"content {i}\n".encode()) for i in range(6)]


def plan_for(root: Path, desired: list[Desired] = FILES) -> Plan:
    return compute_plan(root, desired, load_manifest(root), template_version="t")


def all_files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


class Boom(Exception):
    pass


def fail_after(n: int) -> object:
    seen: list[str] = []

    def on_file(fa: FileAction) -> None:
        seen.append(fa.path)
        if len(seen) == n:
            raise Boom(f"injected after {n} files")

    return on_file


def test_in_place_writes_files_and_manifest(tmp_path: Path) -> None:
    report = apply_in_place(plan_for(tmp_path))
    assert len(report.written) == 6 and report.manifest_written
    assert all_files(tmp_path) == {d.path for d in FILES} | STATE
    manifest = load_manifest(tmp_path)
    assert manifest is not None and set(manifest.files) == {d.path for d in FILES}


def test_rerun_touches_nothing(tmp_path: Path) -> None:
    apply_in_place(plan_for(tmp_path))
    before = {p: (tmp_path / p).stat().st_mtime_ns for p in all_files(tmp_path)}
    again = plan_for(tmp_path)
    assert again.counts() == {Action.UNCHANGED: 6}
    report = apply_in_place(again)
    assert report.written == [] and not report.manifest_written
    assert {p: (tmp_path / p).stat().st_mtime_ns for p in all_files(tmp_path)} == before


def test_failure_after_third_file_leaves_no_partial_file_and_rerun_converges(
    tmp_path: Path,
) -> None:
    with pytest.raises(Boom):
        apply_in_place(plan_for(tmp_path), on_file=fail_after(3))  # type: ignore[arg-type]
    written = all_files(tmp_path) - STATE
    assert len(written) == 3
    for path in written:  # each file is whole
        assert (tmp_path / path).read_bytes() == next(d.content for d in FILES if d.path == path)
    assert not [p for p in all_files(tmp_path) if p.endswith(".tac-tmp")]
    manifest = load_manifest(tmp_path)  # what was written is recorded as ours
    assert manifest is not None and set(manifest.files) == written
    rerun = plan_for(tmp_path)
    assert rerun.counts() == {Action.CREATE: 3, Action.UNCHANGED: 3}
    apply_in_place(rerun)
    assert plan_for(tmp_path).counts() == {Action.UNCHANGED: 6}


def test_failure_inside_a_write_removes_its_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"n": 0}
    real_rename = os.rename

    def flaky_rename(src: str, dst: str, **dir_fds: int) -> None:  # the temporary file's rename
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full (injected)")
        real_rename(src, dst, **dir_fds)

    monkeypatch.setattr(os, "rename", flaky_rename)
    with pytest.raises(TacError, match=r"cannot write .*disk full \(injected\)") as caught:
        apply_in_place(plan_for(tmp_path))
    assert "2 of" in str(caught.value)  # says how far it got, and that a rerun completes it
    assert len(all_files(tmp_path) - STATE) == 2
    assert not [p for p in all_files(tmp_path) if ".tac-tmp" in p]


@pytest.fixture
def python_sigint() -> Iterator[None]:
    """Python's own Ctrl-C handler while the test runs, whatever this process inherited: pytest
    started in the background (`pytest &` in a non-interactive shell) inherits SIGINT ignored."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.usefixtures("python_sigint")
def test_ctrl_c_finishes_the_current_file_then_stops(tmp_path: Path) -> None:
    ordered = sorted(d.path for d in FILES)

    def on_file(fa: FileAction) -> None:
        if fa.path == ordered[1]:
            os.kill(os.getpid(), signal.SIGINT)  # the handler only sets a flag

    with pytest.raises(Interrupted) as info:
        apply_in_place(plan_for(tmp_path), on_file=on_file, command="add-agentic")
    assert info.value.exit_code == 130
    assert "rerun `tac-bootstrap add-agentic`" in str(info.value)
    assert all_files(tmp_path) - STATE == set(ordered[:2])
    manifest = load_manifest(tmp_path)
    assert manifest is not None and set(manifest.files) == set(ordered[:2])
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_permissions_of_replaced_files_are_kept_and_exec_bits_added(tmp_path: Path) -> None:
    target = tmp_path / "a.sh"
    target.write_bytes(b"old")
    target.chmod(0o640)
    write_atomic(tmp_path, "a.sh", b"new", executable=True)
    mode = stat.S_IMODE(target.stat().st_mode)
    assert mode & 0o640 == 0o640 and mode & stat.S_IXUSR
    assert target.read_bytes() == b"new"


def test_write_through_a_symlink_leading_out_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "root"
    root.mkdir()
    (root / "sub").symlink_to(outside)
    with pytest.raises(UnsafePathError):
        write_atomic(root.resolve(), "sub/x.txt", b"x")
    assert list(outside.iterdir()) == []


def test_in_place_refuses_a_folder_swapped_for_a_link_leading_out(tmp_path: Path) -> None:
    """Planned while d0 was a real folder, applied after it became a link to outside: refused,
    nothing written outside (each folder is proven inside the root before a file goes in)."""
    root = (tmp_path / "root").resolve()
    root.mkdir()
    (root / "d0").mkdir()
    plan = plan_for(root)
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "d0").rmdir()
    (root / "d0").symlink_to(outside)
    with pytest.raises(UnsafePathError):
        apply_in_place(plan)
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize("link_back", [False, True])
def test_in_place_refuses_a_folder_moved_out_during_the_apply(
    tmp_path: Path, link_back: bool
) -> None:
    """A folder moved out of the project after its first file (a review's case), and a link to
    where it went put in its place: the next file for it is refused, not written where the
    folder went (the folder descriptor alone would have followed it)."""
    root = (tmp_path / "root").resolve()
    root.mkdir()
    away = tmp_path / "away"

    def move_d0(fa: FileAction) -> None:
        if fa.path == "d0/f0.txt":
            (root / "d0").rename(away)
            if link_back:
                (root / "d0").symlink_to(away)

    with pytest.raises(UnsafePathError if link_back else TacError):
        apply_in_place(plan_for(root), on_file=move_d0)
    assert sorted(p.name for p in away.iterdir()) == ["f0.txt"]


def test_in_place_writes_hundreds_of_folders_under_a_low_open_files_limit(tmp_path: Path) -> None:
    """Folders are kept open a few at a time: 300 folders under a limit of 64 open files (a
    review found every folder kept open until the end: macOS allows 256 by default)."""
    script = f"""
import resource
from pathlib import Path
from tac_bootstrap_cli.apply import apply_in_place
from tac_bootstrap_cli.plan import Desired, compute_plan
resource.setrlimit(resource.RLIMIT_NOFILE, (64, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
root = Path({str(tmp_path.resolve())!r})
files = [Desired(f"d{{i}}/f.txt", b"x") for i in range(300)]
print(len(apply_in_place(compute_plan(root, files, None, template_version="t")).written))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0 and done.stdout.strip() == "300", done.stderr


def test_in_place_writes_through_a_link_inside_the_project(tmp_path: Path) -> None:
    root = tmp_path.resolve()
    (root / "real").mkdir()
    (root / "d1").symlink_to(root / "real")  # allowed by the plan: it stays inside
    apply_in_place(plan_for(root))
    assert sorted(p.name for p in (root / "real").iterdir()) == ["f1.txt", "f3.txt", "f5.txt"]


def test_in_place_keeps_permissions_and_adds_exec_bits(tmp_path: Path) -> None:
    (tmp_path / "d0").mkdir()
    (tmp_path / "d0" / "f0.txt").write_bytes(b"mine")
    (tmp_path / "d0" / "f0.txt").chmod(0o640)
    desired = [Desired("d0/f0.txt", b"new\n"), Desired("run.sh", b"#!/bin/sh\n", executable=True)]
    apply_in_place(plan_for(tmp_path, desired), command="render")
    assert stat.S_IMODE((tmp_path / "d0" / "f0.txt").stat().st_mode) == 0o640
    assert (tmp_path / "run.sh").stat().st_mode & stat.S_IXUSR


def test_a_failed_rename_leaves_no_temporary_file(tmp_path: Path) -> None:
    root = tmp_path.resolve()
    plan = plan_for(root)
    (root / "d0" / "f0.txt").mkdir(parents=True)  # a folder where the file goes: rename fails
    (root / "d0" / "f0.txt" / "keep").write_text("x")
    with pytest.raises(TacError, match="cannot write"):
        apply_in_place(plan)
    assert not [p for p in root.rglob("*") if p.name.endswith(".tac-tmp")]


# --- staged (init) -------------------------------------------------------------------------------


def test_staged_builds_the_whole_project(tmp_path: Path) -> None:
    target = tmp_path / "proj"
    report = apply_staged(plan_for(target))
    assert report.manifest_written
    assert all_files(target) == {d.path for d in FILES} | STATE
    assert sorted(p.name for p in tmp_path.iterdir()) == ["proj"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o777 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.parametrize("error", [Boom, KeyboardInterrupt])
def test_staged_failure_leaves_nothing(tmp_path: Path, error: type[BaseException]) -> None:
    target = tmp_path / "proj"

    def on_file(fa: FileAction, seen: list[str] = []) -> None:  # noqa: B006
        seen.append(fa.path)
        if len(seen) == 3:
            raise error("injected")

    with pytest.raises(error):
        apply_staged(plan_for(target), on_file=on_file)
    assert list(tmp_path.iterdir()) == []


def test_staged_into_an_existing_empty_folder(tmp_path: Path) -> None:
    target = tmp_path / "proj"
    target.mkdir()
    apply_staged(plan_for(target))
    assert len(all_files(target)) == 8  # 6 files, manifest, bases


def test_stale_staging_folders_are_cleaned(tmp_path: Path) -> None:
    # A name as releases without a pid in it made them (mkdtemp's 8 random characters).
    stale = tmp_path / f".proj{STAGING_MARK}a1b2_c3d"
    stale.mkdir()
    (stale / "partial.txt").write_text("x")
    os.utime(stale, (0, 0))
    apply_staged(plan_for(tmp_path / "proj"))
    assert not stale.exists()


def test_executable_bit_is_written(tmp_path: Path) -> None:
    target = tmp_path / "proj"
    apply_staged(plan_for(target, [Desired("hook.py", b"x", executable=True)]))
    assert (target / "hook.py").stat().st_mode & stat.S_IXUSR


# --- interrupts during cleanup, and what killed runs leave -----------------------------------------


def test_ctrl_c_during_staged_build_removes_the_staging_folder_whatever_follows(
    tmp_path: Path,
) -> None:
    target = tmp_path / "proj"

    def on_file(fa: FileAction, seen: list[str] = []) -> None:  # noqa: B006
        seen.append(fa.path)
        if len(seen) == 2:
            for _ in range(3):  # an impatient user: only the first counts, none interrupts a write
                os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(Interrupted, match=r"proj was not created \(nothing was written\)") as info:
        apply_staged(plan_for(target), on_file=on_file)
    assert info.value.exit_code == 130
    assert list(tmp_path.iterdir()) == []
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_second_ctrl_c_in_place_stops_at_once_and_later_ones_cannot_break_the_cleanup(
    tmp_path: Path,
) -> None:
    ordered = sorted(d.path for d in FILES)

    def on_file(fa: FileAction) -> None:
        if fa.path == ordered[1]:
            os.kill(os.getpid(), signal.SIGINT)  # flag
            os.kill(os.getpid(), signal.SIGINT)  # at once
            os.kill(os.getpid(), signal.SIGINT)  # never reached: already raised

    with pytest.raises(Interrupted, match="interrupted after 2 of 6 files") as info:
        apply_in_place(plan_for(tmp_path), on_file=on_file, command="render")
    assert "rerun `tac-bootstrap render`" in str(info.value)
    manifest = load_manifest(tmp_path)
    assert manifest is not None and set(manifest.files) == set(ordered[:2])
    assert not [p for p in all_files(tmp_path) if ".tac-tmp" in p]


def test_temp_files_and_staging_folders_carry_the_pid(tmp_path: Path) -> None:
    seen: list[str] = []
    real_replace = Path.replace

    def spy(self: Path, target: Path) -> Path:
        seen.append(self.name)
        return real_replace(self, target)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Path, "replace", spy)
        write_atomic(tmp_path, "a.txt", b"x")
        apply_staged(plan_for(tmp_path / "proj"))
    temp, staging = seen
    assert temp.startswith(f".a.txt.{os.getpid()}-") and temp.endswith(".tac-tmp")
    assert staging.startswith(f".proj{STAGING_MARK}{os.getpid()}-")


def test_staging_folders_of_live_processes_and_other_projects_stay(tmp_path: Path) -> None:
    live = tmp_path / f".proj{STAGING_MARK}{os.getppid()}-abcdefgh"
    other = tmp_path / f".proj2{STAGING_MARK}999999999-abcdefgh"
    for folder in (live, other):
        folder.mkdir()
    apply_staged(plan_for(tmp_path / "proj"))
    assert live.exists() and other.exists()
