"""A generated project's orchestrator database: where it is, its state, and its migration.

The path follows the generated layer's own rule (``adws/adw_modules/utils.db_path``):
``$TAC_DB_PATH`` (relative to the project when relative), else ``config.yml`` ``database.path``.
Inspection opens the file read-only; migration first copies it with SQLite's backup API to
``<db>.bak-<UTC time>`` and then runs ``init_schema`` of the installed base modules.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tac_bootstrap_cli.config import DEFAULT_DB_PATH, ProjectConfig
from tac_bootstrap_cli.errors import TacError

DB_ENV = "TAC_DB_PATH"


def project_db_path(root: Path, config: ProjectConfig | None) -> Path:
    """The database file of the project at ``root``."""
    override = os.environ.get(DB_ENV)
    if override:
        path = Path(override).expanduser()
        return path if path.is_absolute() else root / path
    return root / (config.database.path if config is not None else DEFAULT_DB_PATH)


def current_version() -> int:
    """The schema version the installed base modules write."""
    from tac_bootstrap_cli._adws.adw_modules.adw_database import SCHEMA_VERSION

    return int(SCHEMA_VERSION)


@dataclass(frozen=True)
class DbStatus:
    """What a read-only look at the database found."""

    path: Path
    exists: bool
    version: int | None = None
    integrity: str | None = None  # "ok" or SQLite's first complaint
    error: str | None = None  # could not open / not a database

    @property
    def outdated(self) -> bool:
        """True when the schema is older than the installed one (a migration would help)."""
        return self.version is not None and 0 < self.version < current_version()

    @property
    def newer(self) -> bool:
        """True when a newer tac-bootstrap wrote the schema."""
        return self.version is not None and self.version > current_version()


def _open_ro(path: Path) -> sqlite3.Connection:
    uri = "file:" + path.as_posix().replace("?", "%3f").replace("#", "%23") + "?mode=ro"
    return sqlite3.connect(uri, uri=True, timeout=10)


def inspect_db(path: Path) -> DbStatus:
    """Open ``path`` read-only: schema version and ``PRAGMA integrity_check``."""
    if not path.exists():
        return DbStatus(path, False)
    if path.is_dir():
        return DbStatus(path, True, error="is a folder")
    if not path.is_file():
        return DbStatus(path, True, error="is not a regular file (a device, FIFO or socket)")
    from tac_bootstrap_cli._adws.adw_modules.adw_sqlite import DatabaseError, check_owner

    try:
        conn = _open_ro(path)
        try:
            check_owner(conn, path)  # a foreign file is reported, never migrated
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            rows = conn.execute("PRAGMA integrity_check").fetchall()
        finally:
            conn.close()
    except (sqlite3.Error, DatabaseError) as exc:
        return DbStatus(path, True, error=str(exc))
    problems = [str(r[0]) for r in rows]
    integrity = "ok" if problems == ["ok"] else "; ".join(problems[:3])
    return DbStatus(path, True, version, integrity)


@dataclass(frozen=True)
class DbMigration:
    """A schema migration (done, or planned in a dry run)."""

    path: Path
    from_version: int
    to_version: int
    backup: Path | None
    done: bool


def backup_db(path: Path) -> Path:
    """Copy the database (WAL content included) to ``<db>.bak-<UTC time>`` with the backup API."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    backup = path.with_name(f"{path.name}.bak-{stamp}")
    n = 1
    while backup.exists():
        n += 1
        backup = path.with_name(f"{path.name}.bak-{stamp}-{n}")
    src = _open_ro(path)
    try:
        dst = sqlite3.connect(backup)
        try:
            src.backup(dst)
        finally:
            dst.close()
    except sqlite3.Error as exc:
        with contextlib.suppress(OSError):
            backup.unlink()
        raise TacError(f"cannot back up {path}: {exc}; database not migrated") from None
    finally:
        src.close()
    return backup


def migrate_db(path: Path, *, dry_run: bool = False) -> DbMigration | None:
    """Back up and migrate an outdated database; None when there is nothing to do.

    A missing database is created on first use by the layer; a newer or damaged one is reported
    by ``inspect_db`` and never touched here.
    """
    status = inspect_db(path)
    if status.error is not None or status.version is None or not status.outdated:
        return None
    target = current_version()
    if dry_run:
        return DbMigration(path, status.version, target, None, False)
    backup = backup_db(path)
    from tac_bootstrap_cli._adws.adw_modules.adw_database import DatabaseError, connect, init_schema

    try:
        conn = connect(path)
        try:
            init_schema(conn)
        finally:
            conn.close()
    except DatabaseError as exc:
        raise TacError(
            f"migrating {path} failed: {exc}", hint=f"the copy {backup} is intact"
        ) from None
    return DbMigration(path, status.version, target, backup, True)
