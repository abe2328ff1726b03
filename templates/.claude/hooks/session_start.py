#!/usr/bin/env -S uv run --script
# /// script
# requires-python = ">=3.11"
# dependencies = []
# ///
"""SessionStart hook: record the start (startup, resume, clear, compact) of a Claude session.

It prints nothing: on SessionStart, stdout would be added to Claude's context."""

from __future__ import annotations

import _hook_support as hooks


def main() -> None:
    """Run the hook (``run.sh`` imports this module and calls it)."""
    hooks.run("SessionStart")


if __name__ == "__main__":
    main()
