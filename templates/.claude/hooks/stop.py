#!/usr/bin/env -S uv run --script
# /// script
# requires-python = ">=3.11"
# dependencies = []
# ///
"""Stop hook: record that Claude finished answering.

It never blocks, and `_hook_support.run` takes no decision at all while `stop_hook_active` is
set, so the layer can never keep Claude in a stop loop."""

from __future__ import annotations

import _hook_support as hooks


def main() -> None:
    """Run the hook (``run.sh`` imports this module and calls it)."""
    hooks.run("Stop")


if __name__ == "__main__":
    main()
