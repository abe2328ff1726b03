"""``.tac-bootstrap/upgrade-journal.json``: what an interrupted upgrade was doing, so its rerun can
finish it.

Written before an upgrade's first write, removed when it completes. A rerun finds it and takes the
tree's changes that the journal explains (files it found or wrote, tac-bootstrap's own records)
as the unfinished upgrade's own, not the user's uncommitted work.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from tac_bootstrap_cli.apply import write_atomic
from tac_bootstrap_cli.gitutil import Blobs
from tac_bootstrap_cli.projectstate import BASES_PATH, MANIFEST_PATH, sha256
from tac_bootstrap_cli.upgrade_plan import read_safely

JOURNAL_PATH = ".tac-bootstrap/upgrade-journal.json"
# tac-bootstrap's own records, rewritten by every run from its plan: with a journal, a rerun takes
# them as they are (their content after a Ctrl-C depends on the moment, which no journal written
# before the first write can know; the journal itself parsed, so it is the unfinished run's).
RECORDS = frozenset({JOURNAL_PATH, MANIFEST_PATH, BASES_PATH})


@dataclass
class Conflict:
    """A conflicted file of the journal: what was written (with markers) and its git blobs."""

    written: str  # hash of the content with markers
    blobs: Blobs | None  # None: git was not there (or failed) when the journal was written


@dataclass
class Journal:
    """``.tac-bootstrap/upgrade-journal.json``: written before an upgrade's first write, removed
    when it completes. Each path maps to the hashes it may hold: its pre-upgrade content first
    (None: absent), then what the upgrade writes (None: removed)."""

    to_version: str
    to_overlay: str | None
    paths: dict[str, list[str | None]] = field(default_factory=dict)
    conflicts: dict[str, Conflict] = field(default_factory=dict)

    def accepts(self, rel: str, content: bytes | None) -> bool:
        """True when ``content`` at ``rel`` is what this upgrade found or put there."""
        hashes = self.paths.get(rel)
        return hashes is not None and (sha256(content) if content is not None else None) in hashes

    def allow(self, rel: str, content: bytes | None) -> None:
        """Accept ``content`` at ``rel`` from now on (keeping what was accepted before)."""
        digest = sha256(content) if content is not None else None
        hashes = self.paths.setdefault(rel, [])
        if digest not in hashes:
            hashes.append(digest)

    def to_json(self) -> str:
        """The file's text (sorted keys: the same journal is the same bytes)."""
        conflicts = {
            path: {
                "written": c.written,
                "git": None
                if c.blobs is None
                else {"path": c.blobs.path, "mode": c.blobs.mode, "blobs": list(c.blobs.shas)},
            }
            for path, c in self.conflicts.items()
        }
        data = {
            "format": 1,
            "to_version": self.to_version,
            "to_overlay": self.to_overlay,
            "paths": self.paths,
            "conflicts": conflicts,
        }
        return json.dumps(data, indent=1, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Journal:
        """Parse a journal; ValueError (KeyError, TypeError) when it is not one."""
        data = json.loads(text)
        conflicts: dict[str, Conflict] = {}
        for path, c in data["conflicts"].items():
            git = c["git"]
            blobs = None if git is None else Blobs(git["path"], git["mode"], tuple(git["blobs"]))
            conflicts[str(path)] = Conflict(str(c["written"]), blobs)
        paths = {
            str(p): [h if h is None else str(h) for h in hs] for p, hs in data["paths"].items()
        }
        return cls(str(data["to_version"]), data["to_overlay"], paths, conflicts)

    def save(self, root: Path) -> None:
        """Write it into the project at ``root`` (atomically: a rerun reads a whole one or none)."""
        write_atomic(root, JOURNAL_PATH, self.to_json().encode("utf-8"))

    @property
    def versions(self) -> str:
        """What the unfinished upgrade was bringing the project to."""
        if self.to_overlay:
            return f"{self.to_version} + team templates {self.to_overlay}"
        return self.to_version


def load_journal(target: Path) -> Journal | None:
    """The journal an unfinished upgrade left in ``target``, or None (none, or unreadable)."""
    try:
        return Journal.from_json((target / JOURNAL_PATH).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # not ours to trust: the dirty-tree check then names it like any other file


def unexplained(target: Path, top: Path, dirty: list[str], journal: Journal | None) -> list[str]:
    """The dirty paths (relative to ``top``) that are not the unfinished upgrade's own work."""
    root = target.resolve()
    out: list[str] = []
    for path in dirty:
        try:
            rel = (top / path).resolve().relative_to(root).as_posix()
        except ValueError:
            out.append(path)
            continue
        ours = journal is not None and (
            rel in RECORDS or journal.accepts(rel, read_safely(root, rel))
        )
        if not ours:
            out.append(path)
    return out
