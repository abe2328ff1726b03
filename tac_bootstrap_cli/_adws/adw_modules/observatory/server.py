"""Run the observatory app with uvicorn on a free local port until Ctrl-C."""

from __future__ import annotations

import errno
import socket
from collections.abc import Callable
from pathlib import Path

from .readonly import ObserveError
from .store import Store

DEFAULT_PORT = 8765
PORT_TRIES = 50
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
EXPOSED_WARNING = (
    "listening on {host}: anyone who can reach it reads every prompt and tool input recorded here"
)


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


def _preload() -> None:
    """Import now what the first request would: anyio (Starlette runs the handlers that read the
    database in its thread pool) loads its whole package on first use, ~0.1-0.2 s on a loaded
    machine that the first page would wait for."""
    import anyio
    import anyio.to_thread  # noqa: F401


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def url_for(host: str, port: int) -> str:
    """The URL to print (IPv6 hosts in brackets)."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def serve(
    db: Path | str,
    project: Path | None = None,
    *,
    title: str = "",
    host: str = "127.0.0.1",
    port: int | None = None,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve the database ``db``, a file or a ``postgresql://`` URL (``project``: the folder
    holding raw outputs) until
    interrupted; ``on_ready(url)`` is called once it listens. Raises ``ObserveError``."""
    import uvicorn

    from .app import create_app

    _preload()

    store = Store(db, project)
    chosen = port if port is not None else free_port(host)
    # Host-header check against DNS rebinding: only the names this server is reached by.
    allowed = [*LOCAL_HOSTS, host] if host not in ("0.0.0.0", "::") else ["*"]
    holder: list[uvicorn.Server] = []  # the server exists only once the app does
    app = create_app(
        store,
        title=title or store.label,
        allowed_hosts=allowed,
        stopping=lambda: bool(holder and holder[0].should_exit),
    )
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
    holder.append(server)
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
    except KeyboardInterrupt:
        pass  # uvicorn re-raises the Ctrl-C it handled: stopping is this command's normal end
    finally:
        store.close()
    if not server.started:
        raise ObserveError(f"could not listen on {url} (is the port taken?)")
