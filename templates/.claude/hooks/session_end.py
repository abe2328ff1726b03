#!/usr/bin/env -S uv run --script
# /// script
# requires-python = ">=3.11"
# dependencies = []
# ///
"""SessionEnd hook: record the end of a Claude session and mark its Agent completed."""

from __future__ import annotations

import _hook_support as hooks


def main() -> None:
    """Run the hook (``run.sh`` imports this module and calls it)."""
    hooks.run("SessionEnd")


if __name__ == "__main__":
    main()
