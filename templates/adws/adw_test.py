#!/usr/bin/env -S uv run --script
# /// script
# requires-python = ">=3.11"
# dependencies = [
#   "pydantic>=2.7",
#   "pyyaml>=6.0",
#   "opentelemetry-sdk>=1.30",
#   "opentelemetry-exporter-otlp-proto-http>=1.30",
# ]
# ///
"""Test: run the project's test command; on failure let the agent fix it and retry.

Usage: uv run adws/adw_test.py "<task text>" | --issue-file PATH [--adw-id ID]
Every phase is recorded in the run-log database (see adws/adw_status.py); exit 0 on success,
1 when a phase failed after its retries, 2 on a usage error.
"""

from __future__ import annotations

import sys

if __name__ == "__main__":
    # Imported only when run: the file name matches pytest's `*_test.py`, so a project's own
    # `pytest` at its root (which the build and test phases run) imports this file as a test
    # module; it must then find nothing, and need neither pydantic nor the run log.
    from adw_modules.workflow_ops import run_workflow

    sys.exit(run_workflow("test", ["test"]))
