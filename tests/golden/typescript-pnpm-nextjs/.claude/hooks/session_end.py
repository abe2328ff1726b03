#!/usr/bin/env -S uv run --script
# /// script
# requires-python = ">=3.11"
# dependencies = ["pydantic>=2.7", "pyyaml>=6.0"]
# ///
"""SessionEnd hook: record the end of a Claude session and mark its Agent completed."""

from __future__ import annotations

import _hook_support as hooks

if __name__ == "__main__":
    hooks.run("SessionEnd")
