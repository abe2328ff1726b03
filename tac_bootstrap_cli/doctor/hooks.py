"""The layer's hooks: the scripts settings.json names are present, executable and compiling, and
each one runs (a harmless sample event exits 0; the guard blocks ``rm -rf /``).

Doctor runs only hook code that is byte for byte what the installed templates render, unless
``--run-hooks`` says the project's own code may run.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tac_bootstrap_cli import __version__
from tac_bootstrap_cli.apply import write_atomic
from tac_bootstrap_cli.doctor import claude as facts
from tac_bootstrap_cli.doctor.claude import SETTINGS
from tac_bootstrap_cli.doctor.project import Project, can_restore, restore
from tac_bootstrap_cli.doctor.report import Check, ok, some
from tac_bootstrap_cli.locations import cache_root
from tac_bootstrap_cli.plan import path_problem

HOOKS_DIR = ".claude/hooks"
HOOK_SCRIPT = re.compile(r"\.claude/hooks/[\w./-]+\.(?:py|sh)")
# `"$CLAUDE_PROJECT_DIR"/.claude/hooks/run.sh stop` runs .claude/hooks/stop.py.
LAUNCHED_HOOK = re.compile(r"\.claude/hooks/run\.sh[\"']?\s+([a-z_]+)\b")
SUPPORT_MODULE = f"{HOOKS_DIR}/_hook_support.py"


def _registered_hooks(root: Path) -> list[tuple[str, dict[str, Any]]]:
    """(event, hook) of each hook settings.json registers, in order, read as far as it is well
    formed: what is malformed is the settings check's to report."""
    found: list[tuple[str, dict[str, Any]]] = []
    with contextlib.suppress(OSError, ValueError, AttributeError, TypeError):
        data = json.loads((root / SETTINGS).read_text(encoding="utf-8"))
        for event, entries in data.get("hooks", {}).items():
            for entry in entries:
                for hook in entry.get("hooks", []):
                    if not isinstance(hook, dict):
                        return found
                    found.append((event, hook))
    return found


def _hook_scripts(p: Project) -> set[str]:
    """The hook scripts settings.json names, those in .claude/hooks, and the support module
    when they need it (project-relative paths)."""
    scripts: set[str] = set()
    for _, hook in _registered_hooks(p.root):
        command = str(hook.get("command", ""))
        scripts.update(HOOK_SCRIPT.findall(command))
        scripts.update(f"{HOOKS_DIR}/{n}.py" for n in LAUNCHED_HOOK.findall(command))
    hooks_dir = p.root / HOOKS_DIR
    if hooks_dir.is_dir():
        scripts.update(
            f"{HOOKS_DIR}/{f.relative_to(hooks_dir).as_posix()}" for f in hooks_dir.rglob("*.py")
        )
    if _support_required(p, scripts):
        scripts.add(SUPPORT_MODULE)
    return scripts


def _compile_error(path: Path, rel: str) -> str | None:
    """Why the Python file at ``path`` does not compile, or None."""
    try:
        compile(path.read_bytes(), rel, "exec", dont_inherit=True)
    except SyntaxError as exc:
        return f"{rel}:{exc.lineno}: {exc.msg}"
    except ValueError as exc:  # NUL bytes
        return f"{rel}: {exc}"
    return None


def check_hooks(p: Project) -> list[Check]:
    """Hook scripts named by settings and in .claude/hooks: present, executable, compiling
    (found once per project: the run check asks too)."""
    if p.hook_checks is None:
        p.hook_checks = list(_script_checks(p))
    return p.hook_checks


def _script_checks(p: Project) -> Iterator[Check]:
    scripts = _hook_scripts(p)
    missing, not_exec, broken = [], [], []
    for rel in sorted(scripts):
        path = p.root / rel
        if not path.is_file():
            missing.append(rel)
            continue
        want = p.generated(rel)
        if want is not None and want.executable and not path.stat().st_mode & stat.S_IXUSR:
            not_exec.append(rel)
        error = _compile_error(path, rel) if rel.endswith(".py") else None
        if error is not None:
            broken.append(error)
    support_gone = SUPPORT_MODULE in missing
    if support_gone:
        missing.remove(SUPPORT_MODULE)
        yield _support_missing(p)
    if missing:
        restorable = [m for m in missing if can_restore(p, m)]
        yield Check(
            "hooks",
            "fail",
            f"hook script(s) missing: {some(missing)}",
            "`tac-bootstrap doctor --fix` restores generated ones"
            if restorable
            else "create them or remove the hook from settings.json",
            fixable=bool(restorable),
            fix=(lambda: restore(p, restorable)) if restorable else None,
        )
    if not_exec:
        yield Check(
            "hooks",
            "fail",
            f"hook script(s) not executable: {some(not_exec)}",
            "`tac-bootstrap doctor --fix` (or chmod +x)",
            fixable=True,
            fix=lambda: _chmod_x(p.root, not_exec),
        )
    if broken:
        yield Check(
            "hooks",
            "fail",
            f"hook script(s) do not compile: {some(broken, 2)}",
            "fix the syntax error (conflict markers from an upgrade? resolve them)",
        )
    if not (missing or not_exec or broken or support_gone):
        yield ok("hooks", f"{len(scripts)} hook scripts present and compiling")


def _support_required(p: Project, scripts: set[str]) -> bool:
    """Whether the hooks need ``_hook_support.py``: it was generated, or a hook imports it."""
    if p.manifest is not None and SUPPORT_MODULE in p.manifest.files:
        return True
    for rel in scripts:
        if rel.endswith(".py") and rel != SUPPORT_MODULE:
            with contextlib.suppress(OSError):
                if b"_hook_support" in (p.root / rel).read_bytes():
                    return True
    return False


def _support_missing(p: Project) -> Check:
    """The finding for a deleted ``_hook_support.py``, restorable from the templates."""
    want = p.generated(SUPPORT_MODULE)
    restorable = want is not None or can_restore(p, SUPPORT_MODULE)
    return Check(
        "hooks",
        "fail",
        f"{SUPPORT_MODULE} missing: every hook imports it, so every hook fails and the guard"
        " blocks every tool call",
        "`tac-bootstrap doctor --fix` restores it"
        if restorable
        else "`tac-bootstrap render` writes it again",
        fixable=restorable,
        fix=(lambda: _restore_support(p)) if restorable else None,
    )


def _restore_support(p: Project) -> list[str]:
    """Write ``_hook_support.py`` back as the current templates render it (else its base)."""
    if p.manifest is not None and SUPPORT_MODULE in p.manifest.files:
        done = restore(p, [SUPPORT_MODULE])
        if done:
            return done
    want = p.generated(SUPPORT_MODULE)
    root = p.root.resolve()
    if want is None or path_problem(root, SUPPORT_MODULE) is not None:
        return []
    write_atomic(root, SUPPORT_MODULE, want.content, want.executable)
    return [f"restored {SUPPORT_MODULE}"]


def _chmod_x(root: Path, paths: list[str]) -> list[str]:
    mask = os.umask(0)
    os.umask(mask)
    done = []
    for rel in paths:
        path = root / rel
        if path.is_symlink():
            continue
        path.chmod(path.stat().st_mode | (0o111 & ~mask))
        done.append(f"made {rel} executable")
    return done


# --- the hooks run: each layer hook of settings.json fed a harmless sample event -----------------


# Hooks take tens of milliseconds; the margin is for the uv fallback's first run.
HOOK_RUN_TIMEOUT = 30.0
# What Claude Code sends each event, minus the common fields: nothing here changes anything.
SAMPLE_EVENTS: dict[str, dict[str, Any]] = {
    "PreToolUse": {"tool_name": "Bash", "tool_input": {"command": "ls"}},
    "PostToolUse": {
        "tool_name": "Bash",
        "tool_input": {"command": "ls"},
        "tool_response": {"stdout": "", "stderr": "", "interrupted": False},
    },
    "UserPromptSubmit": {"prompt": "tac-bootstrap doctor check"},
    "Notification": {"message": "tac-bootstrap doctor check", "notification_type": "idle_prompt"},
    "Stop": {"stop_hook_active": False},
    "SubagentStop": {"stop_hook_active": False},
    "PreCompact": {"trigger": "manual", "custom_instructions": ""},
    "SessionStart": {"source": "startup"},
    "SessionEnd": {"reason": "other"},
}
# The guard must block this (and allow the sample's `ls`).
GUARD_PROBE = "rm -rf /"


# The exact command tac-bootstrap registers: run as written, like Claude Code does. Any other
# command naming the launcher gets the launcher alone, so doctor never runs shell text someone
# added to settings.json (`curl … | sh; …/run.sh stop`); older script commands are not run.
GENERATED_HOOK_COMMAND = re.compile(
    r'/bin/sh "\$CLAUDE_PROJECT_DIR"/\.claude/hooks/run\.sh [a-z_]+'
)


def _hook_argv(root: Path, command: str) -> list[str] | None:
    """How doctor runs a registered hook command (None: it does not run it)."""
    if GENERATED_HOOK_COMMAND.fullmatch(command.strip()):
        return ["/bin/sh", "-c", command]
    names = LAUNCHED_HOOK.findall(command)
    if len(names) == 1:
        return ["/bin/sh", str(root / facts.LAUNCHER), names[0]]
    return None


def _layer_hooks(root: Path) -> list[tuple[str, str, list[str], float]]:
    """(event, command, how to run it, timeout in seconds) of every layer hook registered in
    settings.json that doctor can run."""
    found: list[tuple[str, str, list[str], float]] = []
    for event, hook in _registered_hooks(root):
        command = hook.get("command")
        if hook.get("type", "command") != "command" or not isinstance(command, str):
            continue
        argv = _hook_argv(root, command) if event in SAMPLE_EVENTS else None
        if argv is not None:
            timeout = hook.get("timeout")
            seconds = timeout if isinstance(timeout, int | float) else 60
            found.append((event, command, argv, min(float(seconds), HOOK_RUN_TIMEOUT)))
    return found


@dataclass(frozen=True)
class Scratch:
    """Where the hooks doctor runs write: a throwaway run-log database, and the bytecode folder
    (``PYTHONPYCACHEPREFIX``)."""

    db: Path
    pycache: Path


def hook_bytecode_dir() -> Path | None:
    """The bytecode folder kept between doctor runs for hook code that is exactly what this
    tac-bootstrap generates (None when caches are off)."""
    root = cache_root()
    if root is None:
        return None
    return root / "hook-bytecode" / f"{__version__}-{sys.implementation.cache_tag}"


def _kept_bytecode() -> Path | None:
    """``hook_bytecode_dir``; the first time a version uses it, the folders of other versions go
    (each holds a copy of the standard library's bytecode)."""
    kept = hook_bytecode_dir()
    if kept is not None and not kept.is_dir():
        with contextlib.suppress(OSError):
            for old in kept.parent.iterdir():
                if old.name != kept.name and old.is_dir() and not old.is_symlink():
                    shutil.rmtree(old, ignore_errors=True)
    return kept


def _run_hook(
    root: Path, event: str, argv: list[str], fields: dict[str, Any], timeout: float, at: Scratch
) -> tuple[int | None, str]:
    """Exit code (None: it did not finish) and first stderr line of one hook command run as
    Claude Code runs it, its run log and bytecode in ``at``, none written into the project."""
    import subprocess

    payload = {
        "session_id": "tac-bootstrap-doctor",
        "transcript_path": "",
        "cwd": str(root),
        "hook_event_name": event,
        "permission_mode": "default",
        **fields,
    }
    env = {
        k: v for k, v in os.environ.items() if k not in ("ADW_AGENT_ID", "PYTHONDONTWRITEBYTECODE")
    }
    # The pycache prefix makes Python ignore the project's __pycache__ folders: compiled files
    # shipped beside the sources would run instead of the sources doctor compared. It also
    # hides the standard library's own compiled files, so their bytecode is written there too:
    # kept between runs for our own hook code (``hook_bytecode_dir``: the stdlib and our modules
    # compile once, each hook process then ~40 ms of CPU instead of ~80), a throwaway folder for
    # a project's own (``--run-hooks``), so what it compiled never runs for another project.
    env.update(
        CLAUDE_PROJECT_DIR=str(root),
        TAC_DB_PATH=str(at.db),
        PYTHONPYCACHEPREFIX=str(at.pycache),
    )
    try:
        proc = subprocess.run(
            argv,
            cwd=root,
            input=json.dumps(payload),
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None, f"did not finish in {timeout:g} s"
    except OSError as exc:
        return None, str(exc)
    lines = proc.stderr.strip().splitlines()
    return proc.returncode, lines[0][:160] if lines else ""


# What a hook process imports from the project: the launcher, the hook modules and the base
# modules they load (``adws/adw_modules``). Doctor runs hooks only when these are byte for byte
# what the installed templates render, so inspecting a cloned repository never runs its code.
_HOOK_CODE_DIRS = (".claude/hooks", "adws/adw_modules")


def _foreign_hook_code(p: Project) -> str | None:
    """Why the project's hook code is not ours to run (None: it is exactly what we render)."""
    if p.rendered is None:
        return "the layer could not be rendered to compare with"
    for folder in _HOOK_CODE_DIRS:
        path = p.root / folder
        if path.is_symlink():
            return f"{folder} is a symbolic link"
        for child in sorted(path.iterdir()) if path.is_dir() else []:
            rel = f"{folder}/{child.name}"
            # __pycache__ is skipped too: hooks run with a pycache prefix elsewhere and -S, so the
            # sources are what count.
            if child.suffix not in (".py", ".sh"):
                continue
            wanted = p.generated(rel)
            if wanted is None:
                return f"{rel} is not a file tac-bootstrap generates"
            try:
                if child.is_symlink() or child.read_bytes() != wanted.content:
                    return f"{rel} differs from what tac-bootstrap generates"
            except OSError as exc:
                return f"{rel} cannot be read ({exc.strerror})"
    return None


def _try_hook(
    root: Path, hook: tuple[str, str, list[str], float], at: Scratch
) -> tuple[str | None, str | None]:
    """(failure, warning) of running one hook on its sample event (and the guard on its probe)."""
    event, command, argv, timeout = hook
    name = LAUNCHED_HOOK.findall(command) or HOOK_SCRIPT.findall(command) or [event]
    label = f"{event} ({name[0]})"
    code, err = _run_hook(root, event, argv, SAMPLE_EVENTS[event], timeout, at)
    said = f": {err}" if err else ""
    if code is None:
        return f"{label} {err}", None
    if code != 0:
        return f"{label} exits {code} on a harmless event{said}", None
    warning = f"{label}{said}" if err else None
    if event == "PreToolUse" and facts.is_guard_command(command):
        probe = {"tool_name": "Bash", "tool_input": {"command": GUARD_PROBE}}
        code, err = _run_hook(root, event, argv, probe, timeout, at)
        if code != 2:
            return f"the guard lets `{GUARD_PROBE}` through (exit {code})", warning
    return None, warning


# Hook processes run at once after the first: each is a separate python3 that waits on its own
# start-up, so on a machine with several cores they overlap (Claude Code itself runs the hooks
# of one event in parallel, on one run-log database: the hooks wait on its lock).
HOOK_WORKERS = 4


def _try_hooks(
    root: Path, hooks: list[tuple[str, str, list[str], float]], at: Scratch
) -> tuple[list[str], list[str]]:
    """(failures, warnings) of running each hook on its sample event, and the guard on its
    probe, in the order of ``hooks``. The first hook runs alone (it creates the run-log
    database, as the first hook of a session does), the others up to ``HOOK_WORKERS`` at once."""
    if not hooks:
        return [], []
    results = [_try_hook(root, hooks[0], at)]
    workers = min(HOOK_WORKERS, os.cpu_count() or 1, len(hooks) - 1)
    if workers > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=workers) as pool:
            results += pool.map(lambda hook: _try_hook(root, hook, at), hooks[1:])
    else:
        results += [_try_hook(root, hook, at) for hook in hooks[1:]]
    failures = [failure for failure, _ in results if failure is not None]
    warnings = [warning for _, warning in results if warning]
    return failures, warnings


def check_hook_runs(p: Project) -> Iterator[Check]:
    """Each layer hook of settings.json runs: a harmless sample event of its type exits 0, and
    the guard allows ``ls`` and blocks ``rm -rf /`` (with a throwaway run-log database)."""
    import tempfile

    hooks = _layer_hooks(p.root)
    if not hooks or any(c.status != "ok" for c in check_hooks(p)):
        return  # missing or broken scripts are reported (and repaired) by check_hooks
    foreign = _foreign_hook_code(p)
    if foreign is not None and not p.run_any_hooks:
        yield Check(
            "hooks.run",
            "warn",
            f"hooks not run: {foreign}; doctor runs only the hook code tac-bootstrap generates",
            "review it (a cloned repository's hooks are its author's code), then run"
            " `tac-bootstrap doctor --run-hooks`, or `tac-bootstrap render --force` to take ours",
        )
        return
    with tempfile.TemporaryDirectory(prefix="tac-doctor-hooks-") as tmp:
        kept = _kept_bytecode() if foreign is None else None
        at = Scratch(Path(tmp) / "doctor.db", kept or Path(tmp) / "pycache")
        failures, warnings = _try_hooks(p.root, hooks, at)
    if failures:
        yield Check(
            "hooks.run",
            "fail",
            f"hook(s) do not work: {some(failures, 2)}",
            "run `tac-bootstrap doctor --fix`; if it stays, see the message (python3 3.11+ or uv"
            " on PATH? a user edit of .claude/hooks?)",
        )
    elif warnings:
        yield Check(
            "hooks.run",
            "warn",
            f"hook(s) run but complain: {some(warnings, 2)}",
            "see the message (the run log: config.yml database.path, adws/adw_modules)",
        )
    else:
        yield ok("hooks.run", f"{len(hooks)} hooks run; the guard allows ls, blocks {GUARD_PROBE}")
