"""``write_atomic``, the one file writer of the generator and the layer, on the real filesystem."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tac_bootstrap_cli._adws.adw_modules.adw_files import TEMP_SUFFIX, UMASK, write_atomic

REPO = Path(__file__).resolve().parents[2]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_file_gets_what_open_would_give(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    write_atomic(target, b"one")
    assert target.read_bytes() == b"one"
    assert mode(target) == 0o666 & ~UMASK
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]  # no temporary file left


def test_replacing_keeps_the_permissions_unless_told(tmp_path: Path) -> None:
    target = tmp_path / "run.sh"
    target.write_bytes(b"old")
    target.chmod(0o750)
    write_atomic(target, b"new", durable=True)
    assert (target.read_bytes(), mode(target)) == (b"new", 0o750)
    write_atomic(target, b"private", mode=0o600)
    assert (target.read_bytes(), mode(target)) == (b"private", 0o600)


def test_a_link_is_replaced_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"keep")
    link = tmp_path / "link.txt"
    link.symlink_to(outside)
    write_atomic(link, b"mine")
    assert not link.is_symlink() and link.read_bytes() == b"mine"
    assert outside.read_bytes() == b"keep"


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    target.write_bytes(b"old")
    (tmp_path / "state.json.d").mkdir()
    with pytest.raises(IsADirectoryError):  # the rename fails: a folder is in the way
        write_atomic(tmp_path / "state.json.d", b"new")
    assert target.read_bytes() == b"old"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(TEMP_SUFFIX)]


def test_the_temporary_name_carries_the_pid_for_the_leftover_sweep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    real_replace = Path.replace

    def spy(self: Path, target: str | os.PathLike[str]) -> Path:
        seen.append(self.name)
        return real_replace(self, target)

    monkeypatch.setattr(Path, "replace", spy)
    write_atomic(tmp_path / "x.md", b"x")
    (name,) = seen
    assert name.startswith(f".x.md.{os.getpid()}-") and name.endswith(TEMP_SUFFIX)


def test_every_writer_uses_it() -> None:
    """No second hand-written temp-file-and-rename: the writers import ``write_atomic``."""
    writers = [
        "tac_bootstrap_cli/apply.py",
        "tac_bootstrap_cli/trust.py",
        "tac_bootstrap_cli/modelgen/writer.py",
        "tac_bootstrap_cli/render/codecache.py",
        "tac_bootstrap_cli/_adws/adw_modules/state.py",
        "tac_bootstrap_cli/_adws/adw_modules/observatory/report.py",
        "templates/adws/adw_triggers/trigger_cron.py",
    ]
    for rel in writers:
        assert "write_atomic" in (REPO / rel).read_text(encoding="utf-8"), rel
    sources = [*(REPO / "tac_bootstrap_cli").rglob("*.py"), *(REPO / "templates").rglob("*.py")]
    hand_written = [
        p.relative_to(REPO).as_posix()
        for p in sources
        if "mkstemp(" in p.read_text(encoding="utf-8") and p.name != "adw_files.py"
    ]
    assert hand_written == []
