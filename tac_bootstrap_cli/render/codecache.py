"""Compiled templates kept in one file in the user cache dir, so ``init`` compiles nothing.

Jinja2's own ``FileSystemBytecodeCache`` keeps a file per template and reads each template's
source a second time to check it; one file read and one unmarshal for the ~15 templates of a run
is faster (it is what ``init`` waits for). Entries are keyed by the template's file name and
source, so an edited template is compiled again, and the file is tagged by tac-bootstrap and
Python version through its folder. A missing, damaged or unwritable file only costs speed.

The key also names the environment's sandboxing: code compiled outside the sandbox calls
functions directly (``context.call``) instead of through the sandbox, so it must never be
reused by a sandboxed environment (an older cache file may hold such code).
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
from collections.abc import MutableMapping
from pathlib import Path
from types import CodeType
from typing import Any

import jinja2

from tac_bootstrap_cli._adws.adw_modules.adw_files import write_atomic

CACHE_FILE = "templates.marshal"
MAX_ENTRIES = 500  # enough for several overlays; older entries go when the file is rewritten


class CodeCache:
    """Compiled template code by (file name, source); ``save`` writes what a render added."""

    def __init__(self, directory: Path | None) -> None:
        self._path = directory / CACHE_FILE if directory is not None else None
        self._codes: dict[str, CodeType] | None = None
        self._used: set[str] = set()
        self._dirty = False

    def _load(self) -> dict[str, CodeType]:
        if self._codes is None:
            self._codes = {}
            if self._path is not None:
                with contextlib.suppress(OSError, ValueError, EOFError, TypeError):
                    data = marshal.loads(self._path.read_bytes())
                    if isinstance(data, dict):
                        self._codes = {
                            k: v
                            for k, v in data.items()
                            if isinstance(k, str) and isinstance(v, CodeType)
                        }
        return self._codes

    def template(
        self,
        env: jinja2.Environment,
        name: str,
        filename: str,
        source: str,
        globals: MutableMapping[str, Any] | None = None,
    ) -> jinja2.Template:
        """The template ``name`` compiled from ``source`` (compiled now only when not cached)."""
        kind = (
            f"sandbox-{type(env).__name__}-"  # the immutable sandbox (file names) apart
            + ",".join(sorted(getattr(env, "intercepted_binops", ())))
            if env.sandboxed
            else "plain"
        )
        key = hashlib.sha256(f"{kind}\0{filename}\0{source}".encode()).hexdigest()
        codes = self._load()
        code = codes.get(key)
        if code is None:
            code = env.compile(source, name, filename)
            codes[key] = code
            self._dirty = True
        self._used.add(key)
        return env.template_class.from_code(env, code, env.make_globals(globals))

    def save(self) -> None:
        """Write the cache file if this process compiled anything (atomically; errors ignored)."""
        if not self._dirty or self._path is None or self._codes is None:
            return
        keep = {k: v for k, v in self._codes.items() if k in self._used}
        for k, v in self._codes.items():
            if len(keep) >= MAX_ENTRIES:
                break
            keep.setdefault(k, v)
        with contextlib.suppress(OSError):
            self._path.parent.mkdir(parents=True, exist_ok=True)
            # Atomic: a concurrent reader sees the old or new file.
            write_atomic(self._path, marshal.dumps(keep), mode=0o600)
        self._dirty = False
