"""Which database ``tac-bootstrap observe`` serves: a project's run log, the team's server, or the generator's history.

The app itself is ``tac_bootstrap_cli._adws.adw_modules.observatory`` (shipped into generated projects too); this
module only finds the file, as the layer does, and hands it over.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tac_bootstrap_cli._adws.adw_modules.observatory.server import EXPOSED_WARNING, LOCAL_HOSTS
from tac_bootstrap_cli._adws.adw_modules.observatory.server import serve as serve_db
from tac_bootstrap_cli._adws.adw_modules.observatory.store import ObserveError

DB_URL_ENV = "TAC_DB_URL"


@dataclass(frozen=True)
class Target:
    """What to observe: the database file or a PostgreSQL URL, the project folder (None for the
    history), a title (never a password)."""

    db: Path | str
    project: Path | None
    title: str

    @property
    def shown(self) -> str:
        """The database as messages show it: a URL without its password."""
        return _redact(self.db) if isinstance(self.db, str) else str(self.db)


def _redact(url: str) -> str:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
    except ValueError:
        return "<a database URL>"
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return parts._replace(netloc=user + parts.netloc.rsplit("@", 1)[1]).geturl()


def _is_url(text: str) -> bool:
    return text.startswith(("postgresql://", "postgres://"))


def project_target(path: Path) -> Target:
    """The run-log database of the project at ``path``, found as the layer finds it."""
    from tac_bootstrap_cli.config import load_config
    from tac_bootstrap_cli.projectdb import project_db_path

    root = path.resolve()
    if not root.is_dir():
        raise ObserveError(f"{path} is not a folder")
    # A bad config.yml is the usual ConfigError (exit 2, with file and line); none: the default.
    config = load_config(root) if (root / "config.yml").is_file() else None
    return Target(project_db_path(root, config), root, str(root))


def team_target(path: Path, db: str | None) -> Target:
    """The team's server: ``db`` (a URL, or a file), else ``$TAC_DB_URL``, else the
    ``database.url`` of the project at ``path`` (the server its workflows sync to)."""
    root = path.resolve()
    project = root if root.is_dir() else None
    url = db or os.environ.get(DB_URL_ENV, "").strip()
    if not url and project is not None and (root / "config.yml").is_file():
        from tac_bootstrap_cli.config import load_config

        url = load_config(root).database.url or ""
    if not url:
        raise ObserveError(
            "no team server: set database.url in config.yml or TAC_DB_URL"
            " (postgresql://user@host/database), or pass --db URL"
        )
    if not _is_url(url):
        file = Path(url).expanduser()
        return Target(file, project, str(file))
    return Target(url, project, f"team view ({_redact(url)})")


def history_target() -> Target:
    """The generator's own run history (``$TAC_BOOTSTRAP_DB`` or the user state folder)."""
    from tac_bootstrap_cli.history import db_path

    path = db_path()
    if path is None:
        raise ObserveError("history is turned off (TAC_BOOTSTRAP_DB=off)")
    return Target(path, None, f"tac-bootstrap history ({path})")


def serve(
    target: Target,
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve ``target`` until Ctrl-C; ``on_ready(url)`` once it listens."""
    serve_db(target.db, target.project, title=target.title, host=host, port=port, on_ready=on_ready)


def write_report(target: Target, out: Path) -> int:
    """Write the one-file HTML report of ``target`` to ``out``; returns the runs in detail."""
    from tac_bootstrap_cli._adws.adw_modules.observatory.report import write_report as write
    from tac_bootstrap_cli._adws.adw_modules.observatory.store import Store

    store = Store(target.db, target.project)
    try:
        return write(store, out, title=target.title)
    except OSError as exc:
        raise ObserveError(f"cannot write {out}: {exc.strerror or exc}") from None
    finally:
        store.close()


__all__ = [
    "EXPOSED_WARNING",
    "LOCAL_HOSTS",
    "ObserveError",
    "Target",
    "serve",
    "team_target",
    "write_report",
]
