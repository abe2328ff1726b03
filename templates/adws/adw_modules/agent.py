"""Run the Claude Code CLI headless and record each call as a Prompt row of the phase's Agent.

The CLI is ``$CLAUDE_CODE_PATH`` when set, else ``agent.cli`` of config.yml (default ``claude``)
found on PATH. It runs as ``<cli> -p <prompt> --model <model> --output-format stream-json
--verbose --permission-mode acceptEdits``: stream-json gives one JSON object per line, and the last
``result`` line carries the answer, ``is_error``, ``session_id``, ``usage`` and ``total_cost_usd``.
``acceptEdits`` lets a headless build edit files; Bash still obeys the allow/deny rules of
``.claude/settings.json`` and every hook still runs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from adw_modules.data_types import AgentCLIError, AgentResult
from adw_modules.state import state_dir
from adw_modules.utils import PROJECT_ROOT, load_config

PERMISSION_MODE = "acceptEdits"
# A phase that runs longer than this is stuck; the CLI is stopped and the attempt fails.
DEFAULT_TIMEOUT_SECONDS = 3600


def find_cli(config: dict[str, Any] | None = None) -> str:
    """The agent CLI to run; raises ``AgentCLIError`` with what to do when there is none."""
    explicit = os.environ.get("CLAUDE_CODE_PATH")
    if explicit:
        path = Path(explicit).expanduser()
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
        raise AgentCLIError(
            f"CLAUDE_CODE_PATH={explicit} is not an executable file;"
            " point it at the Claude Code CLI or unset it to use `claude` from PATH"
        )
    name = str((config or load_config()).get("agent", {}).get("cli") or "claude")
    found = shutil.which(name)
    if found is None:
        raise AgentCLIError(
            f"the Claude Code CLI `{name}` is not on PATH; install it"
            " (npm install -g @anthropic-ai/claude-code) or set CLAUDE_CODE_PATH"
        )
    return found


def build_command(cli: str, prompt: str, model: str) -> list[str]:
    """The argument vector of one headless agent call."""
    return [
        cli,
        "-p",
        prompt,
        "--model",
        model,
        "--output-format",
        "stream-json",
        "--verbose",
        "--permission-mode",
        PERMISSION_MODE,
    ]


def parse_stream(lines: list[str]) -> dict[str, Any] | None:
    """The last ``{"type": "result"}`` object among stream-json lines, or None."""
    result = None
    for line in lines:
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict) and obj.get("type") == "result":
            result = obj
    return result


def _to_result(final: dict[str, Any] | None, exit_code: int, raw: Path, stderr: str) -> AgentResult:
    if final is None:
        reason = stderr.strip()[-2000:] or f"the agent CLI exited {exit_code} without a result line"
        return AgentResult(
            ok=False,
            result=reason,
            is_error=True,
            exit_code=exit_code,
            raw_output=str(raw),
            stderr=stderr,
        )
    usage = final.get("usage") or {}
    is_error = bool(final.get("is_error")) or exit_code != 0
    text = final.get("result")
    return AgentResult(
        ok=not is_error,
        result=text if isinstance(text, str) else json.dumps(text),
        is_error=is_error,
        subtype=str(final.get("subtype") or ""),
        session_id=final.get("session_id"),
        input_tokens=int(usage.get("input_tokens") or 0),
        output_tokens=int(usage.get("output_tokens") or 0),
        cost_usd=float(final.get("total_cost_usd") or 0.0),
        exit_code=exit_code,
        raw_output=str(raw),
        stderr=stderr,
    )


def run_agent(
    prompt: str,
    *,
    adw_id: str,
    agent_name: str,
    model: str,
    run: Any = None,
    root: Path | None = None,
    config: dict[str, Any] | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> AgentResult:
    """Run one prompt; append the raw stream to ``agents/<adw_id>/<agent_name>/raw_output.jsonl``.

    With ``run`` (an ``AgentRun`` of the base logging module) the call is recorded as a Prompt
    row with its tokens and cost, and the CLI gets ``ADW_AGENT_ID`` so that the hooks of that
    Claude session log their events on the same Agent.
    """
    base = root or PROJECT_ROOT
    cli = find_cli(config)
    out_dir = state_dir(adw_id, base) / agent_name
    out_dir.mkdir(parents=True, exist_ok=True)
    raw = out_dir / "raw_output.jsonl"
    env = dict(os.environ, ADW_ID=adw_id)
    if run is not None and getattr(run, "agent_id", None):
        env["ADW_AGENT_ID"] = str(run.agent_id)
    lines: list[str] = []
    try:
        proc = subprocess.Popen(
            build_command(cli, prompt, model),
            cwd=base,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
    except OSError as exc:
        raise AgentCLIError(f"cannot start the agent CLI {cli}: {exc}") from exc
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate()
        stderr += f"\nthe agent CLI was stopped after {timeout:.0f} s"
    lines = stdout.splitlines()
    with raw.open("a", encoding="utf-8") as fh:
        for line in lines:
            fh.write(line + "\n")
    exit_code = proc.returncode if proc.returncode is not None else -1
    result = _to_result(parse_stream(lines), exit_code, raw, stderr)
    if run is not None:
        run.prompt(
            prompt,
            response=result.result,
            tokens_input=result.input_tokens,
            tokens_output=result.output_tokens,
            cost_usd=result.cost_usd,
            status="completed" if result.ok else "failed",
            metadata={
                "session_id": result.session_id,
                "subtype": result.subtype,
                "exit_code": exit_code,
                "raw_output": str(raw.relative_to(base)) if raw.is_relative_to(base) else str(raw),
            },
        )
    return result
