#!/usr/bin/env python3
"""A stand-in for the Claude Code CLI, for tests: no network, no API key, realistic output.

Called like the real CLI (``-p <prompt> --model <model> --output-format stream-json --verbose
[--settings FILE]``) it prints what a real run prints: a ``system`` init line; a first assistant
message split over two lines (text, then a tool call) that share one ``message.id`` and repeat the
same ``usage`` (with cache fields); a ``user`` line with the tool result; a second assistant
message; and a ``result`` line with ``usage`` (the main model's messages), ``modelUsage`` (per
model, including a side call on a small model that has no assistant line), ``num_turns``,
``duration_ms`` and ``total_cost_usd``. When the prompt asks to write a file under ``specs/`` or
``app_docs/`` (as the plan and document phases do), it writes that file and answers with its
path; a review prompt gets ``VERDICT: PASS``. ``--settings`` must name a JSON file, as for the
real CLI.

Token totals with the defaults (``FAKE_CLAUDE_*`` below): ``modelUsage`` summed over models is
1200 input, 6000 cache-read, 500 cache-creation, 340 output (cost 0.0123); the result line's
``usage`` and the assistant messages (each counted once) are the main model's 1000 / 6000 / 500 /
300; counting the split message twice would give 1500 / 9000 / 750 / 420.

Knobs (environment):
- ``FAKE_CLAUDE_FAIL=1``: every call fails (``is_error: true``, exit 1);
- ``FAKE_CLAUDE_FAIL_TIMES=N`` with ``FAKE_CLAUDE_COUNTER=<file>``: the first N calls fail;
- ``FAKE_CLAUDE_NO_FILE=1``: claim the file was written without writing it;
- ``FAKE_CLAUDE_VERDICT=FAIL``: reviews fail;
- ``FAKE_CLAUDE_LOG=<file>``: append each call (argv, cwd, ADW_AGENT_ID, TRACEPARENT) as a JSON
  line;
- ``FAKE_CLAUDE_HOOKS=1``: run the project's PreToolUse/PostToolUse hooks (the commands of the
  ``--settings`` file) around each tool call, with the event on stdin as Claude Code does; a
  PreToolUse hook exiting 2 blocks the call (no PostToolUse, an error tool result);
- ``FAKE_CLAUDE_BASH=<command>``: make a second tool call, Bash running ``<command>`` (not run:
  only the hooks see it);
- ``FAKE_CLAUDE_INPUT_TOKENS``, ``FAKE_CLAUDE_CACHE_READ_TOKENS``,
  ``FAKE_CLAUDE_CACHE_CREATION_TOKENS``, ``FAKE_CLAUDE_OUTPUT_TOKENS``, ``FAKE_CLAUDE_COST_USD``:
  the ``modelUsage`` totals;
- ``FAKE_CLAUDE_NO_MODEL_USAGE=1``: a result line without ``modelUsage`` (older CLIs);
- ``FAKE_CLAUDE_HANG=<seconds>``: after the assistant lines, start a child that shares stdout and
  sleep, printing no result line (a stuck run, for timeouts);
- ``FAKE_CLAUDE_WRITE=<path>[,<path>...]``: write these project-relative files (e.g. ``.env``)
  during each call, as an agent might.
Only the standard library is used, so any ``python3`` runs it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

INPUT_TOKENS = int(os.environ.get("FAKE_CLAUDE_INPUT_TOKENS", "1200"))
CACHE_READ_TOKENS = int(os.environ.get("FAKE_CLAUDE_CACHE_READ_TOKENS", "6000"))
CACHE_CREATION_TOKENS = int(os.environ.get("FAKE_CLAUDE_CACHE_CREATION_TOKENS", "500"))
OUTPUT_TOKENS = int(os.environ.get("FAKE_CLAUDE_OUTPUT_TOKENS", "340"))
COST_USD = float(os.environ.get("FAKE_CLAUDE_COST_USD", "0.0123"))
# What a side call (titles, summaries) on the small model costs; it has no assistant line.
SIDE_MODEL = "claude-haiku-4-5-20251001"
SIDE_INPUT, SIDE_OUTPUT, SIDE_SHARE_OF_COST = 200, 40, 0.1
# The real CLI reports full model ids; the aliases a workflow passes map to them.
MODEL_IDS = {
    "sonnet": "claude-sonnet-4-5-20250929",
    "opus": "claude-opus-4-1-20250805",
    "haiku": SIDE_MODEL,
}
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


def _usage(inp: int, cache_read: int, cache_creation: int, out: int) -> dict[str, object]:
    """A message's ``usage`` as the Messages API reports it."""
    return {
        "input_tokens": inp,
        "cache_creation_input_tokens": cache_creation,
        "cache_read_input_tokens": cache_read,
        "output_tokens": out,
        "service_tier": "standard",
    }


def _messages_usage() -> tuple[tuple[int, int, int, int], tuple[int, int, int, int]]:
    """(input, cache-read, cache-creation, output) of the main model's two messages: the
    ``modelUsage`` totals minus the side call, split between them."""
    main_in = max(INPUT_TOKENS - SIDE_INPUT, 0)
    main_out = max(OUTPUT_TOKENS - SIDE_OUTPUT, 0)
    first = (main_in // 2, CACHE_READ_TOKENS // 2, CACHE_CREATION_TOKENS // 2, main_out * 2 // 5)
    second = (
        main_in - first[0],
        CACHE_READ_TOKENS - first[1],
        CACHE_CREATION_TOKENS - first[2],
        main_out - first[3],
    )
    return first, second


def _model_usage(main_model: str) -> dict[str, dict[str, object]]:
    """``modelUsage`` of the result line: the main model and the side call."""
    side_in, side_out = min(SIDE_INPUT, INPUT_TOKENS), min(SIDE_OUTPUT, OUTPUT_TOKENS)
    side_cost = round(COST_USD * SIDE_SHARE_OF_COST, 6)
    return {
        main_model: {
            "inputTokens": INPUT_TOKENS - side_in,
            "outputTokens": OUTPUT_TOKENS - side_out,
            "cacheReadInputTokens": CACHE_READ_TOKENS,
            "cacheCreationInputTokens": CACHE_CREATION_TOKENS,
            "webSearchRequests": 0,
            "costUSD": COST_USD - side_cost,
            "contextWindow": 200000,
        },
        SIDE_MODEL: {
            "inputTokens": side_in,
            "outputTokens": side_out,
            "cacheReadInputTokens": 0,
            "cacheCreationInputTokens": 0,
            "webSearchRequests": 0,
            "costUSD": side_cost,
            "contextWindow": 200000,
        },
    }


def _settings_error(argv: list[str]) -> str | None:
    """The real CLI refuses a ``--settings`` file it cannot read as JSON."""
    settings = _option(argv, "--settings")
    if settings is None:
        return None
    try:
        json.loads(Path(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"Error: Invalid settings file {settings}: {exc}"
    return None


def _write_requested_files() -> None:
    for rel in filter(None, os.environ.get("FAKE_CLAUDE_WRITE", "").split(",")):
        path = Path.cwd() / rel.strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("API_KEY=written-by-the-fake-agent\n", encoding="utf-8")


def _hook_commands(argv: list[str], event_name: str, tool: str) -> list[tuple[str, float]]:
    """(command, timeout) of the hooks the settings file runs for ``event_name`` on ``tool``."""
    settings = _option(argv, "--settings") or str(Path.cwd() / ".claude" / "settings.json")
    try:
        groups = json.loads(Path(settings).read_text(encoding="utf-8")).get("hooks", {})
    except (OSError, ValueError):
        return []
    commands: list[tuple[str, float]] = []
    for group in groups.get(event_name, []):
        matcher = str(group.get("matcher") or "*")
        if matcher == "*" or re.fullmatch(matcher, tool):
            for hook in group.get("hooks", []):
                if hook.get("type") == "command":
                    commands.append((str(hook["command"]), float(hook.get("timeout") or 60)))
    return commands


def _run_hooks(argv: list[str], event: dict[str, object]) -> str | None:
    """Run the hooks of ``event`` (``FAKE_CLAUDE_HOOKS=1``); the reason when one blocked (exit 2)."""
    if os.environ.get("FAKE_CLAUDE_HOOKS") != "1":
        return None
    env = {**os.environ, "CLAUDE_PROJECT_DIR": os.getcwd()}
    name, tool = str(event["hook_event_name"]), str(event["tool_name"])
    for command, timeout in _hook_commands(argv, name, tool):
        proc = subprocess.run(
            command,
            shell=True,
            input=json.dumps(event),
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if proc.returncode == 2 and name == "PreToolUse":
            return proc.stderr.strip() or "blocked by a hook"
    return None


def _tool_call(
    argv: list[str], session_id: str, tool: str, tool_input: dict[str, object]
) -> tuple[dict[str, object], dict[str, object]]:
    """One tool call: the assistant's ``tool_use`` block and the ``tool_result`` it got, with the
    hooks run around it (``FAKE_CLAUDE_HOOKS``)."""
    tool_id = f"toolu_{uuid.uuid4().hex[:24]}"
    event: dict[str, object] = {
        "session_id": session_id,
        "transcript_path": str(Path.cwd() / ".fake-transcript.jsonl"),
        "cwd": os.getcwd(),
        "hook_event_name": "PreToolUse",
        "tool_name": tool,
        "tool_input": tool_input,
        "tool_use_id": tool_id,
    }
    blocked = _run_hooks(argv, event)
    if blocked is None:
        _run_hooks(argv, {**event, "hook_event_name": "PostToolUse", "tool_response": "README.md"})
    use: dict[str, object] = {"type": "tool_use", "id": tool_id, "name": tool, "input": tool_input}
    result: dict[str, object] = {
        "type": "tool_result",
        "tool_use_id": tool_id,
        "content": blocked or "README.md",
    }
    if blocked is not None:
        result["is_error"] = True
    return use, result


def main(argv: list[str]) -> int:
    """Behave like ``claude -p ... --output-format stream-json --verbose``."""
    prompt = _option(argv, "-p") or _option(argv, "--print")
    model = MODEL_IDS.get(_option(argv, "--model") or "sonnet", _option(argv, "--model") or "")
    log = os.environ.get("FAKE_CLAUDE_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as fh:
            entry = {
                "argv": argv,
                "cwd": os.getcwd(),
                "adw_agent_id": os.environ.get("ADW_AGENT_ID"),
                "traceparent": os.environ.get("TRACEPARENT"),
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
    settings_error = _settings_error(argv)
    if settings_error:
        print(settings_error, file=sys.stderr)
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
    _write_requested_files()
    text = "The fake agent failed on purpose (FAKE_CLAUDE_FAIL)." if failing else _answer(prompt)
    first, second = _messages_usage()
    first_usage, second_usage = _usage(*first), _usage(*second)
    first_id, second_id = (f"msg_{uuid.uuid4().hex[:24]}" for _ in range(2))

    def assistant(message_id: str, content: list[object], usage: dict[str, object]) -> None:
        _emit(
            {
                "type": "assistant",
                "message": {
                    "id": message_id,
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": content,
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": usage,
                },
                "parent_tool_use_id": None,
                "session_id": session_id,
            }
        )

    # One message, two stream lines (one per content block), the same usage on both.
    assistant(first_id, [{"type": "text", "text": "Let me look at the project."}], first_usage)
    calls: list[tuple[str, dict[str, object]]] = [("Glob", {"pattern": "*"})]
    if os.environ.get("FAKE_CLAUDE_BASH"):
        calls.append(("Bash", {"command": os.environ["FAKE_CLAUDE_BASH"]}))
    for tool, tool_input in calls:
        tool_use, tool_result = _tool_call(argv, session_id, tool, dict(tool_input))
        assistant(first_id, [tool_use], first_usage)
        _emit(
            {
                "type": "user",
                "message": {"role": "user", "content": [tool_result]},
                "parent_tool_use_id": None,
                "session_id": session_id,
            }
        )
    assistant(second_id, [{"type": "text", "text": text}], second_usage)
    hang = float(os.environ.get("FAKE_CLAUDE_HANG", "0") or 0)
    if hang > 0:
        # A tool's child that inherited stdout: only killing the process group ends the pipe.
        subprocess.Popen([sys.executable, "-c", f"import time; time.sleep({hang})"])
        time.sleep(hang)
        return 1
    result: dict[str, object] = {
        "type": "result",
        "subtype": "error_during_execution" if failing else "success",
        "is_error": failing,
        "duration_ms": 1234,
        "duration_api_ms": 1100,
        "num_turns": 2,
        "result": text,
        "session_id": session_id,
        "total_cost_usd": COST_USD,
        "usage": _usage(*(a + b for a, b in zip(first, second, strict=True))),
        "permission_denials": [],
        "uuid": str(uuid.uuid4()),
    }
    if os.environ.get("FAKE_CLAUDE_NO_MODEL_USAGE") != "1":
        result["modelUsage"] = _model_usage(model)
    _emit(result)
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
