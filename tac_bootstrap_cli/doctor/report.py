"""The doctor's findings: one ``Check`` each (with its repair, if any), and the ``DoctorReport``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Status = Literal["ok", "warn", "fail"]


@dataclass
class Check:
    """One finding: ``status`` and a one-line ``message``; ``remedy`` says what to do."""

    name: str
    status: Status
    message: str
    remedy: str = ""
    fixable: bool = False
    fix: Callable[[], list[str]] | None = field(default=None, repr=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return {
            "name": self.name,
            "status": self.status,
            "message": self.message,
            "remedy": self.remedy,
            "fixable": self.fixable,
        }


def ok(name: str, message: str) -> Check:
    """A passing check."""
    return Check(name, "ok", message)


@dataclass
class DoctorReport:
    """The findings (after repairs, with ``--fix``) and what the repairs changed."""

    root: Path
    checks: list[Check]
    fixed: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        """True when no check fails (warnings allowed)."""
        return all(c.status != "fail" for c in self.checks)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return {
            "project": str(self.root),
            "healthy": self.healthy,
            "checks": [c.as_dict() for c in self.checks],
            "fixed": list(self.fixed),
        }


def some(paths: list[str], n: int = 4) -> str:
    """The first ``n`` of ``paths`` for a one-line message, and how many more there are."""
    return ", ".join(paths[:n]) + (f" and {len(paths) - n} more" if len(paths) > n else "")


def shown_path(root: Path, path: Path) -> str:
    """``path`` as a message shows it: relative to the project when inside it."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
