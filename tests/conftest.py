"""Shared fixtures: every test runs with its own HOME, state directory and history database."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Union

import pytest
from typer.testing import CliRunner, Result

from tests import pg_support

Tree = Mapping[str, Union[str, bytes, "Tree"]]

# Golden trees are generated projects (with their own tests and conftest): data, not our tests.
collect_ignore_glob = ["golden/*"]


def make_tree(root: Path, tree: Tree) -> Path:
    """Build files under ``root`` from a dict: str/bytes values are files, dict values are folders."""
    root.mkdir(parents=True, exist_ok=True)
    for name, content in tree.items():
        path = root / name
        if isinstance(content, Mapping):
            make_tree(path, content)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
    return root


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--update-golden`` rewrites golden files (tests/golden/, the fast help text) from output."""
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite golden files from the current output instead of comparing",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """True when the run was started with ``--update-golden``."""
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Keep tests away from the real HOME, XDG dirs and history database."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    for var, sub in (
        ("XDG_STATE_HOME", ".local/state"),
        ("XDG_CACHE_HOME", ".cache"),
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_DATA_HOME", ".local/share"),
    ):
        monkeypatch.setenv(var, str(home / sub))
    monkeypatch.setenv("TAC_BOOTSTRAP_DB", str(home / "history.db"))
    monkeypatch.delenv("TAC_DB_PATH", raising=False)
    monkeypatch.delenv("TAC_DB_URL", raising=False)  # no test syncs to a developer's server
    monkeypatch.delenv("CLAUDE_CODE_PATH", raising=False)
    return home


@pytest.fixture
def tree(tmp_path: Path) -> TreeFactory:
    """``tree({"a.txt": "x", "src": {"m.py": ""}})`` builds files under a fresh folder and returns it."""
    return TreeFactory(tmp_path)


class TreeFactory:
    """Callable that builds file trees under one temporary folder."""

    def __init__(self, base: Path) -> None:
        self._base = base
        self._count = 0

    def __call__(self, spec: Tree, name: str | None = None) -> Path:
        self._count += 1
        return make_tree(self._base / (name or f"tree{self._count}"), spec)


Freeze = Callable[[Path], None]


@pytest.fixture
def freeze() -> Iterator[Freeze]:
    """``freeze(path)`` makes a file or folder unwritable, even for root (chattr +i), and undoes
    it afterwards; skips the test where neither permissions nor chattr can do that."""
    frozen: list[tuple[Path, int]] = []

    def _freeze(path: Path) -> None:
        mode = path.stat().st_mode
        if os.geteuid() == 0:
            chattr = shutil.which("chattr")
            if chattr is None or subprocess.run([chattr, "+i", str(path)]).returncode != 0:
                pytest.skip("running as root without a working chattr: cannot make read-only")
        else:
            path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        frozen.append((path, mode))
        try:  # prove it, so the test cannot pass for the wrong reason
            if path.is_dir():
                (path / ".probe").touch()
            else:
                with path.open("ab"):
                    pass
        except PermissionError:
            return
        pytest.skip(f"{path} stays writable here")

    yield _freeze
    for path, mode in reversed(frozen):
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(path)], check=False)
        path.chmod(mode)


@pytest.fixture
def cli() -> Callable[..., Result]:
    """``cli("init", "x", "-o", dir)`` -> click Result (exit_code, stdout, stderr), in-process."""
    from tac_bootstrap_cli import commands

    def run(*args: str | os.PathLike[str], input: str | None = None) -> Result:
        return CliRunner().invoke(commands.app, [str(a) for a in args], input=input)

    return run


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a real PostgreSQL server for this session (per xdist worker): the one named by
    ``TEST_DATABASE_URL``, else a throw-away one started here (``tests/pg_support.py``). Without
    PostgreSQL binaries the test skips, unless ``TAC_REQUIRE_POSTGRES=1`` (CI) makes it fail."""
    external = os.environ.get("TEST_DATABASE_URL")
    if external:
        yield external
        return
    try:
        server = pg_support.PostgresServer.start()
    except pg_support.PostgresUnavailable as exc:
        if os.environ.get("TAC_REQUIRE_POSTGRES") == "1":
            raise
        pytest.skip(str(exc))
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A URL whose ``search_path`` is a new, empty schema of its own, dropped afterwards."""
    import psycopg

    schema = pg_support.new_schema_name()
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
        # A database has an extension once, in one schema: public, shared by the test schemas.
        admin.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
    try:
        yield pg_support.schema_url(postgres_server, schema)
    finally:
        with psycopg.connect(postgres_server, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")
