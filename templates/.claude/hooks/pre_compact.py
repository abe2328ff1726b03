#!/usr/bin/env -S uv run --script
# /// script
# requires-python = ">=3.11"
# dependencies = []
# ///
"""PreCompact hook: record a context compaction (manual or auto) before it happens."""

from __future__ import annotations

import _hook_support as hooks


def main() -> None:
    """Run the hook (``run.sh`` imports this module and calls it)."""
    hooks.run("PreCompact")


if __name__ == "__main__":
    main()
