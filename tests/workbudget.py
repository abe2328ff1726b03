"""Bound a test's work, not its time: wall-clock asserts flake on a shared machine.

``call_budget(n)`` counts the Python function calls made inside its block (``sys.setprofile``)
and raises ``WorkExceeded`` at call ``n + 1``: the same code on the same input makes the same
calls on any machine at any load, and a blow-up (an expanded alias bomb, a quadratic merge) is
stopped at the budget instead of running for minutes.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType


class WorkExceeded(AssertionError):
    """The block made more Python calls than its budget."""


@dataclass
class Calls:
    """The calls counted so far in a ``call_budget`` block."""

    count: int = 0


@contextmanager
def call_budget(limit: int) -> Iterator[Calls]:
    """Run the block with at most ``limit`` Python function calls (C functions not counted)."""
    calls = Calls()

    def profile(_frame: FrameType, event: str, _arg: object) -> None:
        if event == "call":
            calls.count += 1
            if calls.count > limit:
                sys.setprofile(None)
                raise WorkExceeded(f"more than {limit:,} Python calls")

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield calls
    finally:
        sys.setprofile(previous)
