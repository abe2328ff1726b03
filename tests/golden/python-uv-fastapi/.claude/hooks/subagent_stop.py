#!/usr/bin/env -S uv run --script
# /// script
# requires-python = ">=3.11"
# dependencies = ["pydantic>=2.7", "pyyaml>=6.0"]
# ///
"""SubagentStop hook: record that a subagent finished.

Like the Stop hook it never blocks, and takes no decision while `stop_hook_active` is set."""

from __future__ import annotations

import _hook_support as hooks

if __name__ == "__main__":
    hooks.run("SubagentStop")
