#!/usr/bin/env -S uv run --script
# /// script
# requires-python = ">=3.11"
# dependencies = ["pydantic>=2.7", "pyyaml>=6.0"]
# ///
"""PreCompact hook: record a context compaction (manual or auto) before it happens."""

from __future__ import annotations

import _hook_support as hooks

if __name__ == "__main__":
    hooks.run("PreCompact")
