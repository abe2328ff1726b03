#!/usr/bin/env python3
"""A stand-in for the Claude Code CLI, for tests: no network, no API key, realistic output.

Called like the real CLI (``-p <prompt> --model <model> --output-format stream-json --verbose``)
it prints the three kinds of stream-json lines a real run prints: a ``system`` init line, an
``assistant`` message and a final ``result`` line with ``usage`` and ``total_cost_usd``. When the
prompt asks to write a file under ``specs/`` or ``app_docs/`` (as the plan and document phases
do), it writes that file and answers with its path; a review prompt gets ``VERDICT: PASS``.

Knobs (environment):
- ``FAKE_CLAUDE_FAIL=1``: every call fails (``is_error: true``, exit 1);
- ``FAKE_CLAUDE_FAIL_TIMES=N`` with ``FAKE_CLAUDE_COUNTER=<file>``: the first N calls fail;
- ``FAKE_CLAUDE_NO_FILE=1``: claim the file was written without writing it;
- ``FAKE_CLAUDE_VERDICT=FAIL``: reviews fail;
- ``FAKE_CLAUDE_LOG=<file>``: append each call (argv, cwd, ADW_AGENT_ID) as a JSON line;
- ``FAKE_CLAUDE_INPUT_TOKENS``, ``FAKE_CLAUDE_OUTPUT_TOKENS``, ``FAKE_CLAUDE_COST_USD``.
Only the standard library is used, so any ``python3`` runs it.
"""

from __future__ import annotations

import json
import os
import re
import sys
import uuid
from pathlib import Path

INPUT_TOKENS = int(os.environ.get("FAKE_CLAUDE_INPUT_TOKENS", "1200"))
OUTPUT_TOKENS = int(os.environ.get("FAKE_CLAUDE_OUTPUT_TOKENS", "340"))
COST_USD = float(os.environ.get("FAKE_CLAUDE_COST_USD", "0.0123"))
# "... to `specs/x.md`": the file a plan or document prompt asks for (not the spec it reads).
_WRITE_TARGET = re.compile(r"to `((?:specs|app_docs)/[^`\s]+\.md)`")


def _option(argv: list[str], name: str) -> str | None:
    if name in argv[:-1]:
        return argv[argv.index(name) + 1]
    return None


def _should_fail() -> bool:
    if os.environ.get("FAKE_CLAUDE_FAIL") == "1":
        return True
    times = int(os.environ.get("FAKE_CLAUDE_FAIL_TIMES", "0") or 0)
    counter = os.environ.get("FAKE_CLAUDE_COUNTER")
    if times <= 0 or not counter:
        return False
    path = Path(counter)
    calls = int(path.read_text() or 0) if path.exists() else 0
    path.write_text(str(calls + 1))
    return calls < times


def _answer(prompt: str) -> str:
    if "VERDICT" in prompt:
        verdict = os.environ.get("FAKE_CLAUDE_VERDICT", "PASS")
        return f"Checked the changes against the plan.\nVERDICT: {verdict}"
    target = _WRITE_TARGET.search(prompt)
    if target and "write" in prompt.lower():
        rel = target.group(1)
        if os.environ.get("FAKE_CLAUDE_NO_FILE") != "1":
            path = Path.cwd() / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            first = prompt.strip().splitlines()[0] if prompt.strip() else "task"
            path.write_text(
                f"# Plan\n\nWritten by the fake agent for: {first}\n\n## Steps\n\n1. Do it.\n",
                encoding="utf-8",
            )
        return rel
    return "Done. Changed the files the plan names; tests pass."


def _emit(obj: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main(argv: list[str]) -> int:
    """Behave like ``claude -p ... --output-format stream-json --verbose``."""
    prompt = _option(argv, "-p") or _option(argv, "--print")
    model = _option(argv, "--model") or "sonnet"
    log = os.environ.get("FAKE_CLAUDE_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as fh:
            entry = {
                "argv": argv,
                "cwd": os.getcwd(),
                "adw_agent_id": os.environ.get("ADW_AGENT_ID"),
            }
            fh.write(json.dumps(entry) + "\n")
    if prompt is None:
        print("Error: fake claude only supports -p/--print", file=sys.stderr)
        return 1
    if _option(argv, "--output-format") == "stream-json" and "--verbose" not in argv:
        # The real CLI refuses this combination too.
        print(
            "Error: When using --print, --output-format=stream-json requires --verbose",
            file=sys.stderr,
        )
        return 1
    session_id = str(uuid.uuid4())
    _emit(
        {
            "type": "system",
            "subtype": "init",
            "cwd": os.getcwd(),
            "session_id": session_id,
            "tools": [
                "Bash",
                "Edit",
                "Glob",
                "Grep",
                "Read",
                "Write",
                "WebFetch",
                "WebSearch",
            ],
            "mcp_servers": [],
            "model": model,
            "permissionMode": _option(argv, "--permission-mode") or "default",
            "apiKeySource": "none",
        }
    )
    failing = _should_fail()
    text = "The fake agent failed on purpose (FAKE_CLAUDE_FAIL)." if failing else _answer(prompt)
    usage = {
        "input_tokens": INPUT_TOKENS,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": OUTPUT_TOKENS,
    }
    _emit(
        {
            "type": "assistant",
            "message": {
                "id": f"msg_{uuid.uuid4().hex[:24]}",
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [{"type": "text", "text": text}],
                "stop_reason": "end_turn",
                "usage": usage,
            },
            "parent_tool_use_id": None,
            "session_id": session_id,
        }
    )
    _emit(
        {
            "type": "result",
            "subtype": "error_during_execution" if failing else "success",
            "is_error": failing,
            "duration_ms": 1234,
            "duration_api_ms": 1100,
            "num_turns": 2,
            "result": text,
            "session_id": session_id,
            "total_cost_usd": COST_USD,
            "usage": usage,
            "permission_denials": [],
        }
    )
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
