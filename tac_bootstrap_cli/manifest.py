"""The manifest: what tac-bootstrap last wrote into a project, so later runs can tell user edits.

Lives at ``.tac-bootstrap/manifest.json``. The directory is reserved for the generator's own state:
the pristine content behind each hash is kept beside it in ``bases.json.gz`` (see ``bases.py``) so
``upgrade`` can 3-way merge. Format 2 adds ``overlay_version`` (the team templates' version);
format 1 manifests are still read.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from tac_bootstrap_cli.errors import TacError

STATE_DIR = ".tac-bootstrap"
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
