"""Run the Claude Code CLI headless and record each call as a Prompt row of the phase's Agent.

The CLI is ``$CLAUDE_CODE_PATH`` when set, else ``agent.cli`` of config.yml (default ``claude``)
found on PATH. It runs as ``<cli> -p <prompt> --model <model> --output-format stream-json
--verbose --permission-mode acceptEdits [--settings <project>/.claude/settings.json]``:
stream-json gives one JSON object per line, and the last ``result`` line carries the answer,
``is_error``, ``session_id``, ``usage``, ``modelUsage``, ``num_turns``, ``duration_ms`` and
``total_cost_usd``. ``acceptEdits`` lets a headless build edit files; Bash still obeys the
allow/deny rules of ``.claude/settings.json`` and every hook still runs. ``--settings`` passes
that file explicitly because ``claude -p`` ignores the allow rules of a project nobody trusted
interactively (a CI runner, cron), and the builder could then not even run the tests.

Each stdout line is appended to ``raw_output.jsonl`` as it arrives (flushed per line: a killed
run leaves what it printed) and tallied on the fly, so memory does not grow with the output.

One module (a reason for its length): the command line, the stream-json tally and the process that
feeds it are one call of the CLI, each piece written for the others' format, and read together.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Required, TypedDict, Unpack

from .adw_telemetry import agent_environ
from .data_types import AgentCLIError, AgentResult
from .state import state_dir
from .utils import PROJECT_ROOT, load_config, project_environ

PERMISSION_MODE = "acceptEdits"
# A phase that runs longer than this is stuck; the CLI is stopped and the attempt fails.
DEFAULT_TIMEOUT_SECONDS = 3600
# How much of the CLI's stderr is kept (its end: where the error is).
STDERR_TAIL_CHARS = 64_000
# After the CLI exits or is killed, how long its output pipes may take to reach end of file.
PIPE_GRACE_SECONDS = 5.0
# SQLite INTEGER is signed 64-bit: a larger count could not be stored.
_MAX_COUNT = 2**63 - 1
# (total field, result ``usage`` key, ``modelUsage`` key)
_USAGE_KEYS = (
    ("input", "input_tokens", "inputTokens"),
    ("cache_read", "cache_read_input_tokens", "cacheReadInputTokens"),
    ("cache_creation", "cache_creation_input_tokens", "cacheCreationInputTokens"),
    ("output", "output_tokens", "outputTokens"),
)


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


def settings_file(root: Path) -> Path | None:
    """The project's ``.claude/settings.json`` when it exists (passed with ``--settings``)."""
    path = root / ".claude" / "settings.json"
    return path if path.is_file() else None


def build_command(cli: str, prompt: str, model: str, settings: Path | None = None) -> list[str]:
    """The argument vector of one headless agent call (``settings``: see ``settings_file``)."""
    command = [
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
    if settings is not None:
        command += ["--settings", str(settings)]
    return command


def _count(value: object) -> int:
    """A token (or turn, millisecond) count from JSON: a non-negative whole number, else 0."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and value >= 0:
        return min(value, _MAX_COUNT)
    return 0


def _money(value: object) -> float | None:
    """A cost in USD from JSON, or None when absent or not a finite non-negative number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) and number >= 0 else None


@dataclass(frozen=True)
class Usage:
    """Token totals of one agent call and where they came from (``source``): ``modelUsage``
    (every model, subagents and side calls included), ``result`` (the result line's ``usage``),
    ``messages`` (assistant lines, one count per message id) or ``none``."""

    input: int = 0
    cache_read: int = 0
    cache_creation: int = 0
    output: int = 0
    source: str = "none"


class StreamTally:
    """What a stream-json run said so far, fed one line at a time.

    Keeps the last ``result`` line and, per assistant message id, the largest usage seen (one
    message spans several lines, each repeating its usage), so memory grows with the number of
    messages, not with the output. Thread-safe: the reader thread feeds, the caller reads.
    """

    def __init__(self) -> None:
        """An empty tally."""
        self._lock = threading.Lock()
        self._result: dict[str, Any] | None = None
        self._messages: dict[str, dict[str, int]] = {}
        self._main_messages: set[str] = set()
        self._models: dict[str, None] = {}  # an ordered set: models in order of first use
        self._lines = 0

    def feed(self, line: str) -> None:
        """Take one stdout line (anything that is not a JSON object is skipped)."""
        line = line.strip()
        if not line.startswith("{"):
            return
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            return
        if not isinstance(obj, dict):
            return
        with self._lock:
            self._lines += 1
            if obj.get("type") == "result":
                self._result = obj
            elif obj.get("type") == "assistant" and isinstance(obj.get("message"), dict):
                self._assistant(obj, obj["message"])

    def _assistant(self, line: dict[str, Any], message: dict[str, Any]) -> None:
        model = message.get("model")
        # "<synthetic>" marks messages the CLI wrote itself (API errors), not a model's answer.
        if isinstance(model, str) and model and not model.startswith("<"):
            self._models.setdefault(model)
        usage = message.get("usage")
        if not isinstance(usage, dict):
            return
        key = str(message.get("id") or f"line {self._lines}")  # no id: the line stands alone
        if line.get("parent_tool_use_id") is None:
            self._main_messages.add(key)
        seen = self._messages.setdefault(key, {})
        for total, name, _ in _USAGE_KEYS:
            seen[total] = max(seen.get(total, 0), _count(usage.get(name)))

    @property
    def result(self) -> dict[str, Any] | None:
        """The last ``{"type": "result"}`` object, or None (the run was killed or crashed)."""
        with self._lock:
            return self._result

    def _model_usage(self) -> dict[str, dict[str, Any]]:
        per_model = (self._result or {}).get("modelUsage")
        if not isinstance(per_model, dict):
            return {}
        return {str(k): v for k, v in per_model.items() if isinstance(v, dict) and k}

    def usage(self) -> Usage:
        """The call's token totals: the result line's ``modelUsage`` summed over models; else
        its ``usage``; else the assistant lines' usage, counted once per message id."""
        with self._lock:
            per_model = self._model_usage()
            if per_model:
                sums = {
                    t: sum(_count(m.get(key)) for m in per_model.values())
                    for t, _, key in _USAGE_KEYS
                }
                return Usage(
                    **{t: min(n, _MAX_COUNT) for t, n in sums.items()}, source="modelUsage"
                )
            usage = (self._result or {}).get("usage")
            if isinstance(usage, dict):
                return Usage(
                    **{t: _count(usage.get(key)) for t, key, _ in _USAGE_KEYS}, source="result"
                )
            if self._messages:
                sums = {
                    t: sum(m.get(t, 0) for m in self._messages.values()) for t, _, _ in _USAGE_KEYS
                }
                return Usage(**{t: min(n, _MAX_COUNT) for t, n in sums.items()}, source="messages")
            return Usage()

    def models(self) -> list[str]:
        """The model ids the call used: the keys of ``modelUsage``, else the assistant lines'."""
        with self._lock:
            return list(self._model_usage()) or list(self._models)

    def model_usage(self) -> dict[str, dict[str, Any]]:
        """Per model: tokens and cost from ``modelUsage`` (empty without it), for the run log."""
        with self._lock:
            return {
                model: {
                    **{t: _count(entry.get(key)) for t, _, key in _USAGE_KEYS},
                    "cost_usd": _money(entry.get("costUSD")) or 0.0,
                }
                for model, entry in self._model_usage().items()
            }

    def cost_usd(self) -> float:
        """``total_cost_usd`` of the result line, else the sum of ``modelUsage`` costs, else 0."""
        with self._lock:
            total = _money((self._result or {}).get("total_cost_usd"))
            if total is not None:
                return total
            return sum(_money(m.get("costUSD")) or 0.0 for m in self._model_usage().values())

    def num_turns(self) -> int:
        """``num_turns`` of the result line, else the main conversation's assistant messages."""
        with self._lock:
            if self._result is not None and "num_turns" in self._result:
                return _count(self._result.get("num_turns"))
            return len(self._main_messages)

    def duration_ms(self) -> int | None:
        """``duration_ms`` of the result line, or None."""
        with self._lock:
            if self._result is None or "duration_ms" not in self._result:
                return None
            return _count(self._result.get("duration_ms"))


def parse_stream(lines: list[str]) -> dict[str, Any] | None:
    """The last ``{"type": "result"}`` object among stream-json lines, or None."""
    tally = StreamTally()
    for line in lines:
        tally.feed(line)
    return tally.result


class _Tail:
    """The last ``limit`` characters of a text stream, read to its end by a thread."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.chunks: deque[str] = deque()
        self.size = 0
        self.dropped = False

    def drain(self, stream: IO[str]) -> None:
        """Read ``stream`` to its end, keeping only the tail (the pipe never fills up)."""
        try:
            for chunk in iter(lambda: stream.read(8192), ""):
                self.chunks.append(chunk)
                self.size += len(chunk)
                while self.size - len(self.chunks[0]) >= self.limit:
                    self.size -= len(self.chunks.popleft())
                    self.dropped = True
        except (OSError, ValueError):  # the pipe was closed under us: keep what we have
            pass

    def text(self) -> str:
        """What was kept, marked when the start was dropped."""
        text = "".join(self.chunks)
        if self.size > self.limit:
            text, self.dropped = text[-self.limit :], True
        return ("[earlier stderr dropped]\n" if self.dropped else "") + text


def _pump(stream: IO[str], raw: Path, tally: StreamTally, errors: list[str]) -> None:
    """Copy the CLI's stdout to ``raw`` line by line (flushed each time) and tally each line.

    A file that cannot be written does not stop the reading: the CLI must never block on a full
    pipe, and the tally still gives the Prompt row its tokens.
    """
    fh: IO[str] | None = None
    try:
        fh = raw.open("a", encoding="utf-8")
    except OSError as exc:
        errors.append(f"cannot write {raw}: {exc}")
    try:
        for line in stream:
            if fh is not None:
                try:
                    fh.write(line if line.endswith("\n") else line + "\n")
                    fh.flush()
                except OSError as exc:
                    errors.append(f"cannot write {raw}: {exc}")
                    fh = None
            tally.feed(line)
    except (OSError, ValueError):
        pass
    finally:
        if fh is not None:
            fh.close()


def _kill(proc: subprocess.Popen[str]) -> None:
    """Stop the CLI and whatever it started (its tools run in its process group)."""
    try:
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signal.SIGKILL)
        else:  # Windows: no process groups to signal
            proc.kill()
    except OSError:  # already gone
        pass


def _stream(
    proc: subprocess.Popen[str], raw: Path, tally: StreamTally, timeout: float
) -> tuple[bool, str, list[str]]:
    """Wait for the CLI while threads copy stdout and drain stderr; kill it after ``timeout``.

    Returns (timed out, stderr tail, write errors). Both pipes are read concurrently, so
    neither can fill up and block the CLI.
    """
    assert proc.stdout is not None and proc.stderr is not None
    errors: list[str] = []
    tail = _Tail(STDERR_TAIL_CHARS)
    readers = [
        threading.Thread(target=_pump, args=(proc.stdout, raw, tally, errors), daemon=True),
        threading.Thread(target=tail.drain, args=(proc.stderr,), daemon=True),
    ]
    for reader in readers:
        reader.start()
    timed_out = False
    try:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill(proc)
            proc.wait()
        for reader in readers:
            reader.join(PIPE_GRACE_SECONDS)
        if any(reader.is_alive() for reader in readers):
            _kill(proc)  # a child of the CLI left running still holds the pipes open
            for reader in readers:
                reader.join(PIPE_GRACE_SECONDS)
    except BaseException:  # Ctrl-C: the CLI runs in its own session, so stop it here
        _kill(proc)
        raise
    return timed_out, tail.text(), errors


def _to_result(
    tally: StreamTally, exit_code: int, raw: Path, stderr: str, elapsed_ms: int
) -> AgentResult:
    usage = tally.usage()
    final = tally.result
    duration = tally.duration_ms()
    totals: dict[str, Any] = {
        "input_tokens": usage.input,
        "cache_read_tokens": usage.cache_read,
        "cache_creation_tokens": usage.cache_creation,
        "output_tokens": usage.output,
        "usage_source": usage.source,
        "cost_usd": tally.cost_usd(),
        "num_turns": tally.num_turns(),
        "duration_ms": elapsed_ms if duration is None else duration,
        "models": tally.models(),
        "model_usage": tally.model_usage(),
        "exit_code": exit_code,
        "raw_output": str(raw),
        "stderr": stderr,
    }
    if final is None:
        reason = stderr.strip()[-2000:] or f"the agent CLI exited {exit_code} without a result line"
        return AgentResult(ok=False, result=reason, is_error=True, **totals)
    is_error = bool(final.get("is_error")) or exit_code != 0
    text = final.get("result")
    return AgentResult(
        ok=not is_error,
        result=text if isinstance(text, str) else json.dumps(text),
        is_error=is_error,
        subtype=str(final.get("subtype") or ""),
        session_id=final.get("session_id"),
        **totals,
    )


class AgentCall(TypedDict, total=False):
    """Who runs a prompt, where and how long: the keyword arguments of ``run_agent``."""

    adw_id: Required[str]
    agent_name: Required[str]
    model: Required[str]
    run: Any  # an AgentRun of the base logging module, or None
    root: Path | None  # default PROJECT_ROOT
    config: dict[str, Any] | None  # default: config.yml, read when needed
    timeout: float  # default DEFAULT_TIMEOUT_SECONDS


def _check_call(call: Mapping[str, object]) -> None:
    """A missing or misspelt keyword is a ``TypeError``, as for plain keyword parameters."""
    missing = AgentCall.__required_keys__ - call.keys()
    unknown = call.keys() - AgentCall.__required_keys__ - AgentCall.__optional_keys__
    if missing or unknown:
        raise TypeError(
            f"run_agent(): missing {sorted(missing)}, unexpected {sorted(unknown)} keyword arguments"
        )


def run_agent(prompt: str, **call: Unpack[AgentCall]) -> AgentResult:
    """Run one prompt; append the raw stream to ``agents/<adw_id>/<agent_name>/raw_output.jsonl``.

    With ``run`` (an ``AgentRun`` of the base logging module) the call is recorded as a Prompt
    row with its tokens (uncached input, cache reads, cache writes, output), cost, turns,
    duration and models, and the CLI gets ``ADW_AGENT_ID`` so that the hooks of that Claude
    session log their events on the same Agent.
    """
    _check_call(call)
    adw_id, agent_name, model = call["adw_id"], call["agent_name"], call["model"]
    run, timeout = call.get("run"), call.get("timeout", DEFAULT_TIMEOUT_SECONDS)
    base = call.get("root") or PROJECT_ROOT
    cli = find_cli(call.get("config"))
    out_dir = state_dir(adw_id, base) / agent_name
    out_dir.mkdir(parents=True, exist_ok=True)
    raw = out_dir / "raw_output.jsonl"
    # TRACEPARENT (when telemetry is on): Claude Code's own spans nest under the phase's span.
    env = project_environ(base) | {"ADW_ID": adw_id} | agent_environ()
    if run is not None and getattr(run, "agent_id", None):
        env["ADW_AGENT_ID"] = str(run.agent_id)
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            build_command(cli, prompt, model, settings_file(base)),
            cwd=base,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            # Its own process group, so a timeout stops the tools it started too.
            start_new_session=True,
        )
    except OSError as exc:
        raise AgentCLIError(f"cannot start the agent CLI {cli}: {exc}") from exc
    tally = StreamTally()
    timed_out, stderr, write_errors = _stream(proc, raw, tally, timeout)
    if timed_out:
        stderr += f"\nthe agent CLI was stopped after {timeout:.0f} s"
    elapsed_ms = round((time.monotonic() - started) * 1000)
    exit_code = proc.returncode if proc.returncode is not None else -1
    result = _to_result(tally, exit_code, raw, stderr, elapsed_ms)
    if run is not None:
        meta: dict[str, Any] = {
            "session_id": result.session_id,
            "subtype": result.subtype,
            "exit_code": exit_code,
            "raw_output": str(raw.relative_to(base)) if raw.is_relative_to(base) else str(raw),
            "usage_source": result.usage_source,
        }
        if result.model_usage:
            meta["model_usage"] = result.model_usage
        if timed_out:
            meta["timed_out_after_s"] = timeout
        if write_errors:
            meta["raw_output_error"] = write_errors[0]
        run.prompt(
            prompt,
            response=result.result,
            tokens_input=result.input_tokens,
            tokens_output=result.output_tokens,
            tokens_cache_read=result.cache_read_tokens,
            tokens_cache_creation=result.cache_creation_tokens,
            cost_usd=result.cost_usd,
            num_turns=result.num_turns,
            duration_ms=result.duration_ms,
            models=result.models,
            status="completed" if result.ok else "failed",
            metadata=meta,
        )
    return result
