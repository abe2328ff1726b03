"""Start the observatory: find the database, pick a port, serve with uvicorn until Ctrl-C.

The web stack (Starlette, uvicorn) is imported here and in ``app`` only, and this module only by
the ``observe`` command, so no other command pays for it at start-up.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tac_bootstrap_cli.observe.store import ObserveError, Store

DEFAULT_PORT = 8765
PORT_TRIES = 50
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class Target:
    """What to observe: the database file, the project folder (None for the history), a title."""

    db: Path
    project: Path | None
    title: str


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


def history_target() -> Target:
    """The generator's own run history (``$TAC_BOOTSTRAP_DB`` or the user state folder)."""
    from tac_bootstrap_cli.history import db_path

    path = db_path()
    if path is None:
        raise ObserveError("history is turned off (TAC_BOOTSTRAP_DB=off)")
    return Target(path, None, f"tac-bootstrap history ({path})")


def free_port(host: str, start: int = DEFAULT_PORT) -> int:
    """The first port from ``start`` that ``host`` can bind (the OS picks one if none of 50)."""
    for port in range(start, start + PORT_TRIES):
        with socket.socket(_family(host), socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, port))
            except OSError as exc:
                if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                    continue
                raise
            return port
    with socket.socket(_family(host), socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def url_for(host: str, port: int) -> str:
    """The URL to print (IPv6 hosts in brackets)."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def serve(
    target: Target,
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    stale_after: float | None = None,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve ``target`` until interrupted; ``on_ready(url)`` is called once it listens."""
    import uvicorn

    from tac_bootstrap_cli.observe.app import create_app

    store = Store(
        target.db, target.project, **({"stale_after": stale_after} if stale_after else {})
    )
    chosen = port if port is not None else free_port(host)
    # Host-header check against DNS rebinding: only the names this server is reached by.
    allowed = [*LOCAL_HOSTS, host] if host not in ("0.0.0.0", "::") else ["*"]
    app = create_app(store, title=target.title, allowed_hosts=allowed)
    config = uvicorn.Config(
        app,
        host=host,
        port=chosen,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    url = url_for(host, chosen)
    if on_ready is not None:
        original = server.startup

        async def startup(sockets: list[socket.socket] | None = None) -> None:
            await original(sockets)
            if server.started:
                on_ready(url)

        server.startup = startup  # type: ignore[method-assign]
    try:
        server.run()
    finally:
        store.close()
    if not server.started:
        raise ObserveError(f"could not listen on {url} (is the port taken?)")
