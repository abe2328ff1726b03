#!/usr/bin/env -S uv run --script
# /// script
# requires-python = ">=3.11"
# dependencies = ["pydantic>=2.7", "pyyaml>=6.0"]
# ///
"""PreToolUse hook: block destructive commands and secret files, record every tool call.

Blocked (exit 2, reason on stderr, which Claude Code hands to Claude):
- recursive ``rm`` of ``/``, ``~``, ``$HOME``, ``*``, ``.`` or the project root;
- reading or writing ``.env`` files (``.env``, ``.env.local``...; not ``.env.example``/``.sample``/
  ``.template``/``.dist``), through Read/Write/Edit/NotebookEdit/Grep/Glob or a shell command;
- ``git push --force`` (``-f``, ``--force-with-lease``, ``+ref``) to ``main`` or ``master``;
- ``chmod -R 777``.
The rules use only the standard library, so a broken database never disables them.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path, PurePosixPath
from typing import Any

import _hook_support as hooks

PROTECTED_BRANCHES = {"main", "master"}
SAFE_ENV_SUFFIXES = (".example", ".sample", ".template", ".dist")
FILE_TOOLS = {"Read", "Write", "Edit", "MultiEdit", "NotebookEdit"}
SEARCH_TOOLS = {"Grep", "Glob"}
SHELLS = {"sh", "bash", "zsh", "dash", "ksh"}
# Words that run the command after them: `sudo rm -rf /` is still `rm -rf /`.
WRAPPERS = {
    "sudo",
    "doas",
    "command",
    "builtin",
    "exec",
    "nohup",
    "time",
    "nice",
    "env",
    "xargs",
}
OPERATORS = {";", "&", "&&", "|", "||", "(", ")", ";;", "|&", "!", "{", "}"}
REDIRECTS = {">", ">>", "<", "<<", "<<<", ">|", "&>", "&>>", "2>", "2>>"}
WORLD_WRITABLE = {"777", "0777", "a+rwx", "ugo+rwx", "a=rwx", "ugo=rwx"}
_ENV_NAME = re.compile(r"\.env(\..+)?")
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=.*")


def is_env_file(path: str) -> bool:
    """True for ``.env`` and ``.env.*`` files except the documented templates."""
    name = PurePosixPath(path.strip().strip("'\"")).name
    return bool(_ENV_NAME.fullmatch(name)) and not name.endswith(SAFE_ENV_SUFFIXES)


def split_commands(command: str) -> list[list[str]]:
    """The simple commands of a shell line, as word lists (operators, subshells, newlines split)."""
    commands: list[list[str]] = []
    for line in command.splitlines() or [""]:
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|()<>")
        lexer.whitespace_split = True
        lexer.commenters = ""
        try:
            words = list(lexer)
        except ValueError:  # unbalanced quotes: fall back to plain words, still checked
            words = (
                line.replace(";", " ; ").replace("|", " | ").replace("&", " & ").split()
            )
        current: list[str] = []
        for word in words:
            word = word.strip("`")
            if word in OPERATORS or word == "$":
                if current:
                    commands.append(current)
                current = []
            elif word:
                current.append(word)
        if current:
            commands.append(current)
    return commands


def _unwrap(words: list[str]) -> list[str]:
    """Drop ``sudo``/``env``-style wrappers, their options and ``VAR=value`` prefixes."""
    while words:
        head = PurePosixPath(words[0]).name
        if head in WRAPPERS or _ASSIGNMENT.fullmatch(words[0]):
            words = words[1:]
            while words and words[0].startswith("-") and head in WRAPPERS:
                words = words[1:]
            continue
        break
    return words


def _is_protected_target(target: str, root: Path) -> bool:
    text = target.replace("${HOME}", "$HOME").replace(
        "${CLAUDE_PROJECT_DIR}", "$CLAUDE_PROJECT_DIR"
    )
    # `/*`, `~/`, `./.` all mean the folder itself: strip trailing globs, dots and slashes.
    stripped = re.sub(r"(/\*|/\.|/)+$", "", text)
    if stripped in {
        "",
        "~",
        "$HOME",
        "*",
        ".*",
        "$CLAUDE_PROJECT_DIR",
        "$PWD",
        "$(pwd)",
    }:
        return True
    if set(stripped) <= {".", "/"}:  # ., .., ../.. : the project or a parent of it
        return True
    if stripped.startswith(("/", "~", "$HOME")):
        expanded = os.path.expanduser(stripped.replace("$HOME", "~", 1))
        resolved = os.path.normpath(expanded)
        protected = {
            "/",
            os.path.normpath(os.path.expanduser("~")),
            os.path.normpath(str(root)),
        }
        return resolved in protected
    return False


def check_rm(args: list[str], root: Path) -> str | None:
    """A reason when ``rm`` is recursive and aims at /, ~, $HOME, *, . or the project root."""
    recursive = False
    targets: list[str] = []
    options_done = False
    for arg in args:
        if not options_done and arg == "--":
            options_done = True
        elif not options_done and arg.startswith("--"):
            recursive = recursive or arg == "--recursive"
        elif not options_done and arg.startswith("-") and len(arg) > 1:
            recursive = recursive or bool(set(arg[1:]) & {"r", "R"})
        else:
            targets.append(arg)
    if recursive:
        for target in targets:
            if _is_protected_target(target, root):
                return f"recursive rm of {target!r} would delete the system, the home folder or the project"
    return None


def _current_branch(cwd: str) -> str | None:
    try:
        proc = subprocess.run(
            ["git", "symbolic-ref", "--short", "HEAD"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.strip() or None


def check_git_push(args: list[str], cwd: str) -> str | None:
    """A reason when ``git push`` forces (``-f``, ``--force*``, ``+ref``) onto main or master."""
    if "push" not in args:
        return None
    rest = args[args.index("push") + 1 :]
    options = [a for a in rest if a.startswith("-")]
    positional = [a for a in rest if not a.startswith("-")]
    refspecs = positional[1:]  # the first positional word is the remote
    force = any(
        a == "--force"
        or a.startswith(("--force-with-lease", "--force-if-includes"))
        or (not a.startswith("--") and "f" in a[1:])
        for a in options
    ) or any(r.startswith("+") for r in refspecs)
    if not force:
        return None
    if "--all" in options or "--mirror" in options or "--branches" in options:
        return "force push of every branch (including main/master) is not allowed"
    targets = {
        r.lstrip("+").split(":")[-1].removeprefix("refs/heads/") for r in refspecs
    }
    if not refspecs:
        current = _current_branch(cwd)
        targets = {current} if current else set()
    hit = sorted(targets & PROTECTED_BRANCHES)
    if hit:
        return f"force push to {hit[0]} rewrites shared history; push a branch and open a pull request"
    return None


def check_chmod(args: list[str]) -> str | None:
    """A reason for ``chmod -R 777`` (world-writable tree)."""
    recursive = any(
        a == "--recursive"
        or (a.startswith("-") and not a.startswith("--") and "R" in a)
        for a in args
    )
    if recursive and any(a in WORLD_WRITABLE for a in args):
        return "chmod -R 777 makes every file world-writable"
    return None


def check_shell(command: str, root: Path, cwd: str, depth: int = 0) -> str | None:
    """The first rule a shell command line breaks, or None."""
    for words in split_commands(command):
        words = _unwrap(words)
        if not words:
            continue
        name = PurePosixPath(words[0]).name
        args = words[1:]
        if name in SHELLS | {"eval"} and depth < 3:
            inner = (
                args[args.index("-c") + 1]
                if "-c" in args[:-1]
                else " ".join(args)
                if name == "eval"
                else ""
            )
            reason = check_shell(inner, root, cwd, depth + 1) if inner else None
        elif name == "rm":
            reason = check_rm(args, root)
        elif name == "git":
            reason = check_git_push(args, cwd)
        elif name == "chmod":
            reason = check_chmod(args)
        else:
            reason = None
        if reason:
            return reason
        for word in words:
            # `cat .env`, `cp .env x`, `source .env`, `--env-file=.env`, `>.env`
            for part in re.split(r"[=<>]", word):
                if part and is_env_file(part):
                    return f"{part} holds secrets; reading or writing .env files is not allowed (use .env.example)"
    return None


def check(event: dict[str, Any]) -> str | None:
    """The block reason for a PreToolUse event, or None to let the tool run."""
    tool = str(event.get("tool_name") or "")
    tool_input = (
        event.get("tool_input") if isinstance(event.get("tool_input"), dict) else {}
    )
    cwd = str(event.get("cwd") or hooks.PROJECT_ROOT)
    reason = None
    if tool == "Bash":
        reason = check_shell(
            str(tool_input.get("command") or ""), hooks.PROJECT_ROOT, cwd
        )
    elif tool in FILE_TOOLS | SEARCH_TOOLS:
        for key in (
            "file_path",
            "notebook_path",
            "path",
            "pattern" if tool == "Glob" else "glob",
        ):
            value = tool_input.get(key)
            if isinstance(value, str) and value and is_env_file(value):
                reason = f"{value} holds secrets; reading or writing .env files is not allowed (use .env.example)"
                break
    return f"BLOCKED by .claude/hooks/pre_tool_use.py: {reason}" if reason else None


if __name__ == "__main__":
    hooks.run("PreToolUse", check)
