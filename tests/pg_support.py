"""A real, throw-away PostgreSQL server for the tests (Debian's binaries; never a mock).

``PostgresServer.start()`` finds ``initdb``/``pg_ctl`` (on PATH or under
``/usr/lib/postgresql/*/bin``), runs ``initdb`` into a fresh temporary folder and ``pg_ctl start``
on a free port of 127.0.0.1, with its unix socket in the same folder; ``stop()`` stops it
(immediate mode: the data is thrown away) and removes the folder. PostgreSQL refuses to run as
root, so as root the server runs as an unprivileged user (``postgres`` when Debian's package made
it, else ``nobody``) through ``setpriv``, owning only its temporary folder.

Tuned for a test's start-up and speed, not durability: ``initdb --no-sync``, ``fsync=off``,
``synchronous_commit=off``, ``full_page_writes=off``, trust authentication on 127.0.0.1 only.

``TEST_DATABASE_URL`` (a server someone else runs) replaces all of this; each test still gets a
schema of its own (``schema_url``).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

SUPERUSER = "tac"
DATABASE = "tac_test"
START_ATTEMPTS = 3
# Settings for a disposable server: nothing is ever flushed to disk on purpose.
SERVER_OPTIONS = (
    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=50"
    " -c shared_buffers=32MB -c max_wal_size=256MB -c checkpoint_timeout=1h"
)


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL binaries here (``.ci/run`` installs Debian's ``postgresql``)."""


def find_bin_dir() -> Path:
    """The folder holding ``initdb`` and ``pg_ctl``: PATH first, then Debian's versioned dirs."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).resolve().parent
    # Debian keeps the server binaries off PATH: /usr/lib/postgresql/<major>/bin; newest first.
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    for folder in candidates:
        if (folder / "pg_ctl").is_file() and (folder / "initdb").is_file():
            return folder
    raise PostgresUnavailable(
        "PostgreSQL's initdb/pg_ctl not found (on PATH or /usr/lib/postgresql/*/bin);"
        " install Debian's postgresql package (.ci/run does)"
    )


def free_port() -> int:
    """A TCP port of 127.0.0.1 free right now (the start retries if another process takes it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _server_user() -> pwd.struct_passwd | None:
    """The unprivileged account the server runs as when we are root (None: run as ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise PostgresUnavailable("running as root without a 'postgres' or 'nobody' account")


@dataclass
class PostgresServer:
    """One running server; ``url`` reaches its test database as the superuser."""

    base: Path
    port: int
    bin_dir: Path
    user: pwd.struct_passwd | None
    startup_s: float = 0.0

    @property
    def url(self) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{DATABASE}"

    @property
    def data_dir(self) -> Path:
        return self.base / "data"

    @classmethod
    def start(cls) -> PostgresServer:
        """initdb + pg_ctl start in a new temporary folder; raises with the server's log."""
        began = time.monotonic()
        bin_dir = find_bin_dir()
        user = _server_user()
        base = Path(tempfile.mkdtemp(prefix="tac-pg-"))
        try:
            (base / "sock").mkdir()
            if user is not None:
                for path in (base, base / "sock"):
                    os.chown(path, user.pw_uid, user.pw_gid)
            server = cls(base=base, port=0, bin_dir=bin_dir, user=user)
            server._run(
                "initdb", "-D", str(server.data_dir), "-U", SUPERUSER, "--auth=trust",
                "--no-sync", "--encoding=UTF8", "--locale=C", "--no-instructions",
            )  # fmt: skip
            server._start_on_a_free_port()
            server._run(
                "psql", "-X", "-q", "-h", str(base / "sock"), "-p", str(server.port),
                "-U", SUPERUSER, "-d", "postgres", "-c", f"CREATE DATABASE {DATABASE}",
            )  # fmt: skip
        except BaseException:
            shutil.rmtree(base, ignore_errors=True)
            raise
        server.startup_s = time.monotonic() - began
        return server

    def _command(self, tool: str, *args: str) -> list[str]:
        command = [str(self.bin_dir / tool), *args]
        if self.user is None:
            return command
        setpriv = shutil.which("setpriv") or "/usr/bin/setpriv"
        return [
            setpriv, f"--reuid={self.user.pw_uid}", f"--regid={self.user.pw_gid}",
            "--clear-groups", "--", *command,
        ]  # fmt: skip

    def _run(self, tool: str, *args: str) -> None:
        proc = subprocess.run(
            self._command(tool, *args),
            cwd=self.base,  # a folder the server's user may enter (not root's home)
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{tool} failed ({proc.returncode}): {proc.stdout}{proc.stderr}")

    def _start_on_a_free_port(self) -> None:
        log = self.base / "server.log"
        for attempt in range(1, START_ATTEMPTS + 1):
            self.port = free_port()
            options = (
                f"-p {self.port} -c listen_addresses=127.0.0.1"
                f" -c unix_socket_directories={self.base / 'sock'} {SERVER_OPTIONS}"
            )
            try:
                self._run(
                    "pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data_dir),
                    "-l", str(log), "-o", options,
                )  # fmt: skip
                return
            except RuntimeError as exc:
                # Another process took the port between free_port() and the bind: try another.
                text = log.read_text(errors="replace") if log.exists() else ""
                if attempt == START_ATTEMPTS or "already in use" not in text:
                    raise RuntimeError(f"{exc}\n--- server log ---\n{text}") from exc

    def stop(self) -> None:
        """Stop the server (immediate: nothing to keep) and remove its folder."""
        try:
            self._run("pg_ctl", "stop", "-m", "immediate", "-w", "-D", str(self.data_dir))
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


def schema_url(url: str, schema: str) -> str:
    """``url`` with ``search_path`` set to ``schema``: every unqualified table lives there;
    ``public`` after it holds the extensions, which a database has once (pg_trgm)."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options={quote(f'-csearch_path={schema},public')}"


def new_schema_name() -> str:
    """A fresh schema name, unique across xdist workers and runs."""
    return f"t_{uuid.uuid4().hex}"
