#!/usr/bin/env -S uv run --script
# /// script
# requires-python = ">=3.11"
# dependencies = []
# ///
"""SubagentStop hook: record that a subagent finished.

Like the Stop hook it never blocks, and takes no decision while `stop_hook_active` is set."""

from __future__ import annotations

import _hook_support as hooks


def main() -> None:
    """Run the hook (``run.sh`` imports this module and calls it)."""
    hooks.run("SubagentStop")


if __name__ == "__main__":
    main()
