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
"""Document: write documentation of the change under app_docs/.

Usage: uv run adws/adw_document.py "<task text>" | --issue-file PATH [--adw-id ID]
Every phase is recorded in the run-log database (see adws/adw_status.py); exit 0 on success,
1 when a phase failed after its retries, 2 on a usage error.
"""

from __future__ import annotations

import sys

from adw_modules.workflow_ops import run_workflow

if __name__ == "__main__":
    sys.exit(run_workflow("document", ["document"]))
