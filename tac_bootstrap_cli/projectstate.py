"""tac-bootstrap's own records in a project's ``.tac-bootstrap/``: the manifest and the bases.

The folder is reserved for the generator's state; its files and their formats are defined here
(``apply.py`` writes them after a run; the upgrade journal, ``upgrade-journal.json``, belongs to
``journal.py``):

- ``manifest.json``: what tac-bootstrap last wrote, a sha256 per file (of the managed block's body
  for ``.gitignore``/``README.md``), so later runs can tell user edits. Format 2 adds
  ``overlay_version`` (the team templates' version); format 1 manifests are still read.
- ``bases.json.gz``: the pristine content behind each hash the manifest records, so ``upgrade``
  can 3-way merge. One archive rather than a file per path: a project has ~70 generated files,
  mostly small text that compresses well together, and one ``os.replace`` keeps the archive
  consistent. The gzip header carries no time and the JSON is sorted, so the same bases always
  give the same bytes and reruns leave the file (and its mtime) alone.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from tac_bootstrap_cli.errors import TacError

STATE_DIR = ".tac-bootstrap"

# --- the manifest: what was last written, a hash per file ---------------------------------------

MANIFEST_PATH = f"{STATE_DIR}/manifest.json"
MANIFEST_FORMAT = 2

Kind = Literal["file", "block"]


def sha256(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Entry:
    """One generated file: the hash of what was written (of the managed block, for ``block``)."""

    sha256: str
    kind: Kind = "file"


@dataclass
class Manifest:
    """Template version and per-file hashes of the last run that wrote something."""

    template_version: str = ""
    generated_at: str = ""
    files: dict[str, Entry] = field(default_factory=dict)
    overlay_version: str | None = None  # the team overlay's declared version, if one was used

    def same_content(self, other: Manifest) -> bool:
        """True when both record the same versions and hashes (timestamps aside)."""
        return (
            self.template_version == other.template_version
            and self.overlay_version == other.overlay_version
            and self.files == other.files
        )

    def to_json(self) -> str:
        """Stable JSON text (sorted paths) so the file diffs well under version control."""
        data: dict[str, Any] = {
            "format": MANIFEST_FORMAT,
            "template_version": self.template_version,
            **({"overlay_version": self.overlay_version} if self.overlay_version else {}),
            "generated_at": self.generated_at,
            "files": {
                path: {"sha256": e.sha256, "kind": e.kind} for path, e in sorted(self.files.items())
            },
        }
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def now_iso() -> str:
    """The current UTC time, to the second, ISO 8601."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def parse_manifest(text: str, source: str = MANIFEST_PATH) -> Manifest:
    """Parse manifest JSON; a damaged manifest is an error that names the file."""
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
            raise ValueError("expected an object with a 'files' object")
        if data.get("format", MANIFEST_FORMAT) > MANIFEST_FORMAT:
            raise ValueError(
                f"format {data['format']} is newer than this tac-bootstrap understands"
            )
        files: dict[str, Entry] = {}
        for path, raw in data["files"].items():
            kind = raw.get("kind", "file")
            if kind not in ("file", "block") or not isinstance(raw.get("sha256"), str):
                raise ValueError(f"bad entry for {path!r}")
            files[path] = Entry(raw["sha256"], kind)
    except (ValueError, AttributeError, TypeError) as exc:
        raise TacError(
            f"{source}: unreadable manifest: {exc}",
            hint="delete it to treat every existing file as the user's",
        ) from None
    overlay = data.get("overlay_version")
    return Manifest(
        str(data.get("template_version", "")),
        str(data.get("generated_at", "")),
        files,
        str(overlay) if overlay else None,
    )


def load_manifest(root: Path) -> Manifest | None:
    """The manifest of the project at ``root``, or None when it has none."""
    path = root / MANIFEST_PATH
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise TacError(f"{path}: cannot read manifest: {exc}") from None
    return parse_manifest(text, str(path))


# --- bases: the pristine content behind each recorded hash ------------------------------------

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
