"""Pristine bases: what tac-bootstrap generated for each file, kept so ``upgrade`` can 3-way merge.

``.tac-bootstrap/bases.json.gz`` maps the sha256 that the manifest records per file (of the managed
block's body, for ``.gitignore``/``README.md``) to that content. One archive rather than a file per
path: a project has ~70 generated files, mostly small text that compresses well together, and one
``os.replace`` keeps the archive consistent. The gzip header carries no time and the JSON is sorted,
so the same bases always give the same bytes and reruns leave the file (and its mtime) alone.
"""

from __future__ import annotations

import base64
import gzip
import json
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from tac_bootstrap_cli.errors import TacError
from tac_bootstrap_cli.manifest import STATE_DIR, sha256

BASES_PATH = f"{STATE_DIR}/bases.json.gz"
BASES_FORMAT = 1


def _archive_text(bases: Mapping[str, bytes]) -> bytes:
    entries: dict[str, Any] = {}
    for key, content in bases.items():
        try:
            entries[key] = content.decode("utf-8")
        except UnicodeDecodeError:
            entries[key] = {"base64": base64.b64encode(content).decode("ascii")}
    text = json.dumps(
        {"format": BASES_FORMAT, "bases": entries},
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return text.encode("utf-8")


def _compress(data: bytes) -> bytes:
    # Level 1: ~3x smaller than the text at a third of level 6's time; the archive is written on
    # every init, where each millisecond counts, and read only by upgrade and doctor.
    return gzip.compress(data, compresslevel=1, mtime=0)


def encode_bases(bases: Mapping[str, bytes]) -> bytes:
    """The archive bytes for ``bases`` (deterministic: sorted keys, no timestamp in the header)."""
    return _compress(_archive_text(bases))


def encode_bases_in_background(bases: Mapping[str, bytes]) -> Callable[[], bytes]:
    """``encode_bases``, compressing on another thread; call the result for the bytes.

    zlib releases the GIL, so the compression overlaps the caller's file writes (``init``).
    """
    text = _archive_text(bases)
    result: list[bytes] = []
    worker = threading.Thread(target=lambda: result.append(_compress(text)), daemon=True)
    worker.start()

    def wait() -> bytes:
        worker.join()
        return result[0] if result else _compress(text)  # the thread died: do it here

    return wait


def decode_bases(data: bytes, source: str = BASES_PATH) -> dict[str, bytes]:
    """Parse archive bytes; a damaged archive is an error naming the file."""
    try:
        raw = json.loads(gzip.decompress(data).decode("utf-8"))
        if not isinstance(raw, dict) or not isinstance(raw.get("bases"), dict):
            raise ValueError("expected an object with a 'bases' object")
        if raw.get("format", BASES_FORMAT) > BASES_FORMAT:
            raise ValueError(f"format {raw['format']} is newer than this tac-bootstrap understands")
        bases: dict[str, bytes] = {}
        for key, value in raw["bases"].items():
            if isinstance(value, str):
                content = value.encode("utf-8")
            elif isinstance(value, dict) and isinstance(value.get("base64"), str):
                content = base64.b64decode(value["base64"], validate=True)
            else:
                raise ValueError(f"bad entry {key!r}")
            if sha256(content) != key:
                raise ValueError(f"entry {key[:12]} does not match its hash")
            bases[key] = content
    except (OSError, EOFError, ValueError, UnicodeDecodeError, TypeError) as exc:
        raise TacError(
            f"{source}: unreadable bases archive: {exc}",
            hint="delete it; upgrade then merges 2-way (your edited files are kept)",
        ) from None
    return bases


def load_bases(root: Path) -> dict[str, bytes]:
    """The recorded bases of the project at ``root`` (empty when none were recorded)."""
    path = root / BASES_PATH
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise TacError(f"{path}: cannot read: {exc.strerror}") from None
    return decode_bases(data, str(path))


def has_bases(root: Path) -> bool:
    """True when the project records bases (it was written by a tac-bootstrap that keeps them)."""
    return (root / BASES_PATH).is_file()


def select_bases(
    wanted: Iterable[str], fresh: Mapping[str, bytes], previous: Mapping[str, bytes]
) -> dict[str, bytes]:
    """The content of every ``wanted`` hash, from this run's output first, else the old archive.

    A hash found in neither (a manifest from before bases were recorded) is left out: that file
    merges 2-way.
    """
    out: dict[str, bytes] = {}
    for key in wanted:
        content = fresh.get(key)
        if content is None:
            content = previous.get(key)
        if content is not None:
            out[key] = content
    return out
