#!/usr/bin/env -S uv run --script
# /// script
# requires-python = ">=3.11"
# dependencies = []
# ///
"""PreToolUse hook: block destructive commands and secret files, record every tool call.

Blocked (exit 2, reason on stderr, which Claude Code hands to Claude):
- recursive ``rm`` of ``/``, ``~``, ``$HOME``, ``*``, ``.`` or the project root;
- reading or writing ``.env`` files (``.env``, ``.env.local``...; not ``.env.example``/``.sample``/
  ``.template``/``.dist``), through Read/Write/Edit/NotebookEdit/Grep/Glob or a shell command;
- ``git push --force`` (``-f``, ``--force-with-lease``, ``+ref``) to ``main`` or ``master``;
- ``chmod -R 777``.
Wrappers (``sudo -u root``, ``env -u X``, ``nice -n 10``, ``timeout 5``, ``nohup``...), shells
(``bash -ec '...'``, ``sh -c -- '...'``, ``eval``) and ``cd`` earlier in the line are seen through;
relative and ``$VAR`` targets are resolved against the event's ``cwd``.

Everything uses only the standard library: ``.claude/settings.json`` runs this file through
``run.sh`` with the system ``python3`` (no uv, no dependencies, so neither a broken uv nor a broken
database disables the rules); it decides first, then records the call in-process (a few ms, see
``_hook_support.run``). Block reasons are short: Claude Code shows them, with the hook command, to
the model.
"""

from __future__ import annotations

import os
import posixpath
import re
import shlex
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

import _hook_support as hooks

PROTECTED_BRANCHES = {"main", "master"}
SAFE_ENV_SUFFIXES = (".example", ".sample", ".template", ".dist")
FILE_TOOLS = {"Read", "Write", "Edit", "MultiEdit", "NotebookEdit"}
SEARCH_TOOLS = {"Grep", "Glob"}
SHELLS = {"sh", "bash", "zsh", "dash", "ksh"}


class Wrapper(NamedTuple):
    """A command that runs the command after it: ``sudo -u root rm -rf /`` is ``rm -rf /``."""

    short: str = ""  # short options that take an argument (``-u root``, ``-uroot``, ``-iu root``)
    long: frozenset[str] = frozenset()  # long options that take a separate argument
    positionals: int = 0  # words before the command (timeout's duration, flock's file)


WRAPPERS: dict[str, Wrapper] = {
    "sudo": Wrapper(
        "CDghpRrTtUu",
        frozenset(
            {
                "close-from",
                "chdir",
                "group",
                "host",
                "prompt",
                "chroot",
                "role",
                "type",
                "command-timeout",
                "other-user",
                "user",
            }
        ),
    ),
    "doas": Wrapper("Cu"),
    "env": Wrapper("CSu", frozenset({"chdir", "split-string", "unset"})),
    "nice": Wrapper("n", frozenset({"adjustment"})),
    "timeout": Wrapper("ks", frozenset({"kill-after", "signal"}), positionals=1),
    "ionice": Wrapper("cnpPtu", frozenset({"class", "classdata", "pid", "pgid", "uid"})),
    "stdbuf": Wrapper("eio", frozenset({"error", "input", "output"})),
    "time": Wrapper("fo", frozenset({"format", "output"})),
    "exec": Wrapper("a"),
    "xargs": Wrapper(
        "adEILnPs",
        frozenset(
            {
                "arg-file",
                "delimiter",
                "eof",
                "replace",
                "max-lines",
                "max-args",
                "max-procs",
                "max-chars",
                "process-slot-var",
            }
        ),
    ),
    "flock": Wrapper("Ew", frozenset({"conflict-exit-code", "timeout", "wait"}), 1),
    "chrt": Wrapper("T", frozenset({"sched-runtime"}), positionals=1),
    "taskset": Wrapper("", positionals=1),
    "watch": Wrapper("n", frozenset({"interval"})),
    "nohup": Wrapper(),
    "setsid": Wrapper(),
    "command": Wrapper(),
    "builtin": Wrapper(),
    "unbuffer": Wrapper(),
}
OPERATORS = {";", "&", "&&", "|", "||", "(", ")", ";;", "|&", "!", "{", "}"}
REDIRECTS = {">", ">>", "<", "<<", "<<<", ">|", "&>", "&>>", "2>", "2>>"}
WORLD_WRITABLE = {"777", "0777", "a+rwx", "ugo+rwx", "a=rwx", "ugo=rwx"}
# git's own options before the subcommand that take a separate argument (`git -C dir push`).
GIT_OPTIONS_WITH_ARGUMENT = {
    "-C",
    "-c",
    "--git-dir",
    "--work-tree",
    "--namespace",
    "--config-env",
}
# git push options that take a separate argument (`git push -o ci.skip origin main`).
PUSH_OPTIONS_WITH_ARGUMENT = {
    "-o",
    "--push-option",
    "--repo",
    "--receive-pack",
    "--exec",
}
_ENV_NAME = re.compile(r"\.env(\..+)?")
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=.*")
_GLOB = re.compile(r"[*?\[]")


def is_env_file(path: str) -> bool:
    """True for ``.env`` and ``.env.*`` files except the documented templates."""
    name = PurePosixPath(path.strip().strip("'\"")).name
    return bool(_ENV_NAME.fullmatch(name)) and not name.endswith(SAFE_ENV_SUFFIXES)


def shown(text: str, limit: int = 24) -> str:
    """``text`` cut to ``limit`` characters for a block reason (the model reads every one)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def env_reason(path: str) -> str:
    """The block reason for a ``.env`` file (its name only: a full path adds nothing)."""
    name = shown(PurePosixPath(path.strip().strip("'\"")).name)
    return f"{name} holds secrets: .env files are off limits (use .env.example)"


def split_words(line: str) -> list[str]:
    """Shell words of one line, operators as words of their own; quotes removed."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|()<>")
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        return list(lexer)
    except ValueError:  # unbalanced quotes: fall back to plain words, still checked
        return line.replace(";", " ; ").replace("|", " | ").replace("&", " & ").split()


def split_commands(command: str) -> list[list[str]]:
    """The simple commands of a shell line, as word lists (operators, subshells, newlines split)."""
    commands: list[list[str]] = []
    # `$(pwd)` would split into a subshell of its own: it is the working folder, as `$PWD`.
    command = re.sub(r"\$\(\s*pwd\s*\)|`\s*pwd\s*`", "$PWD", command)
    for line in command.splitlines() or [""]:
        current: list[str] = []
        for word in split_words(line):
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


def _skip_options(words: list[str], wrapper: Wrapper, name: str) -> list[str]:
    """``words`` (after the wrapper's name) without the wrapper's options and their arguments."""
    while words:
        word = words[0]
        if word == "--":
            return words[1:]
        if word.startswith("--"):
            words = words[1:]
            if "=" not in word and word[2:] in wrapper.long and words:
                words = words[1:]
            continue
        if word.startswith("-") and len(word) > 1:
            words = words[1:]
            for i, letter in enumerate(word[1:], start=2):
                if letter not in wrapper.short:
                    continue
                value = word[i:]
                if not value and words:
                    value, words = words[0], words[1:]
                if name == "env" and letter == "S":  # env -S 'rm -rf /' splits its argument
                    words = split_words(value) + words
                break
            continue
        if name == "env" and _ASSIGNMENT.fullmatch(word):
            words = words[1:]
            continue
        break
    return words[wrapper.positionals :]


def _unwrap(words: list[str]) -> list[str]:
    """Drop ``sudo``/``env``-style wrappers, their options and ``VAR=value`` prefixes."""
    while words:
        if _ASSIGNMENT.fullmatch(words[0]):
            words = words[1:]
            continue
        name = PurePosixPath(words[0]).name
        wrapper = WRAPPERS.get(name)
        if wrapper is None:
            break
        words = _skip_options(words[1:], wrapper, name)
    return words


def shell_command_string(args: list[str]) -> str | None:
    """The command string of ``sh -c``/``bash -ec``/``bash -o pipefail -c --`` style calls."""
    has_c = False
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            i += 1
            break
        if arg.startswith("--"):
            i += 2 if arg in ("--rcfile", "--init-file") else 1
        elif arg[:1] in "-+" and len(arg) > 1:
            has_c = has_c or "c" in arg[1:]
            i += 2 if arg[-1] in "oO" else 1  # -o pipefail, -euo pipefail
        else:
            break
    return args[i] if has_c and i < len(args) else None


def _expand(target: str, root: Path, cwd: str) -> str:
    """``target`` with ``~``, ``$HOME``, ``$CLAUDE_PROJECT_DIR``, ``$PWD`` and env vars expanded."""
    text = re.sub(r"\$\{(\w+)\}", r"$\1", target)
    text = re.sub(r"\$CLAUDE_PROJECT_DIR\b", lambda _: str(root), text)
    text = re.sub(r"\$PWD\b", lambda _: cwd, text)
    if text == "~" or text.startswith("~/"):
        text = os.path.expanduser("~") + text[1:]
    return os.path.expandvars(text)


def _normalize(path: str) -> set[str]:
    """The absolute path as written and with symlinks of its folders resolved."""
    norm = posixpath.normpath(path)
    norm = "/" + norm.lstrip("/") if norm.startswith("//") else norm
    parent, name = posixpath.split(norm)
    real = posixpath.join(os.path.realpath(parent), name) if name else os.path.realpath(norm)
    return {norm, real}


def _protected_paths(root: Path) -> set[str]:
    """``/``, the home folder, the project root, and every folder holding one of them."""
    protected = {"/"}
    for base in (str(root), os.path.expanduser("~")):
        for path in _normalize(base):
            protected.add(path)
            protected.update(str(parent) for parent in PurePosixPath(path).parents)
    return protected


def _is_protected_target(target: str, root: Path, cwd: str) -> bool:
    literal = re.sub(r"(/\*|/\.|/)+$", "", target.replace("${HOME}", "$HOME"))
    if literal in {"~", "$HOME", "*", ".*"} or set(literal) <= {".", "/"}:
        return True  # `rm -rf *`, `.`, `..` anywhere are never meant
    path = _expand(target, root, cwd)
    if "$" in path:  # an unknown variable: nothing to resolve it against
        return False
    parts = PurePosixPath(path).parts
    # `dir/*`, `dir/.*`, `~/*`: deleting everything in a folder is deleting the folder.
    glob_at = next((i for i, part in enumerate(parts) if _GLOB.search(part)), None)
    if glob_at is not None:
        if any(_GLOB.search(part) for part in parts[glob_at + 1 :]) or parts[glob_at] not in (
            "*",
            ".*",
        ):
            return False
        parts = parts[:glob_at]
    folder = str(PurePosixPath(*parts)) if parts else "."
    absolute = folder if folder.startswith("/") else posixpath.join(cwd, folder)
    return bool(_normalize(absolute) & _protected_paths(root))


def check_rm(args: list[str], root: Path, cwd: str) -> str | None:
    """A reason when ``rm`` is recursive and aims at /, ~, $HOME, *, the project or a parent."""
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
            if _is_protected_target(target, root, cwd):
                return f"recursive rm of {shown(target)!r} deletes the system, home or project"
    return None


def _git(args: list[str], cwd: str) -> str | None:
    import subprocess  # only force pushes need git: the other calls skip this import (~4 ms)

    try:
        proc = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def current_branch(cwd: str) -> str | None:
    """The checked-out branch in ``cwd`` (best effort; None when detached or not a repository)."""
    branch = _git(["rev-parse", "--abbrev-ref", "HEAD"], cwd)
    if branch is None:  # a repository without commits yet
        branch = _git(["symbolic-ref", "--short", "HEAD"], cwd)
    return None if branch in (None, "", "HEAD") else branch


def check_git(args: list[str], cwd: str) -> str | None:
    """A reason when ``git push`` forces (``-f``, ``--force*``, ``+ref``) onto main or master."""
    i = 0
    while i < len(args) and args[i].startswith("-"):
        if args[i] == "-C" and i + 1 < len(args):
            cwd = os.path.join(cwd, os.path.expanduser(args[i + 1]))
        i += 2 if args[i] in GIT_OPTIONS_WITH_ARGUMENT else 1
    if i >= len(args) or args[i] != "push":
        return None
    options: list[str] = []
    positional: list[str] = []
    rest = iter(args[i + 1 :])
    for arg in rest:
        if arg == "--":
            positional.extend(rest)
        elif arg.startswith("-"):
            options.append(arg)
            if arg in PUSH_OPTIONS_WITH_ARGUMENT:
                next(rest, None)
        else:
            positional.append(arg)
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
    targets = {r.lstrip("+").split(":")[-1].removeprefix("refs/heads/") for r in refspecs}
    if not refspecs or targets & {"HEAD", "@"}:
        # `git push -f` and `git push -f origin HEAD` push the checked-out branch.
        targets.discard("HEAD")
        targets.discard("@")
        branch = current_branch(cwd)
        if branch:
            targets.add(branch)
    hit = sorted(targets & PROTECTED_BRANCHES)
    if hit:
        return (
            f"force push to {hit[0]} rewrites shared history; push a branch and open a pull request"
        )
    return None


def check_chmod(args: list[str]) -> str | None:
    """A reason for ``chmod -R 777`` (world-writable tree)."""
    recursive = any(
        a == "--recursive" or (a.startswith("-") and not a.startswith("--") and "R" in a)
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
        reason = None
        if name in SHELLS | {"eval"} and depth < 3:
            inner = " ".join(args) if name == "eval" else shell_command_string(args)
            reason = check_shell(inner, root, cwd, depth + 1) if inner else None
        elif name == "cd":  # `cd .. && rm -rf project`: later commands run there
            target = args[-1] if args and args[-1] != "-" else ("~" if not args else "")
            if target:
                cwd = posixpath.join(cwd, _expand(target, root, cwd))
        elif name == "rm":
            reason = check_rm(args, root, cwd)
        elif name == "git":
            reason = check_git(args, cwd)
        elif name == "chmod":
            reason = check_chmod(args)
        if reason:
            return reason
        for word in words:
            # `cat .env`, `cp .env x`, `source .env`, `--env-file=.env`, `>.env`
            for part in re.split(r"[=<>]", word):
                if part and is_env_file(part):
                    return env_reason(part)
    return None


def check(event: dict[str, Any]) -> str | None:
    """The block reason for a PreToolUse event, or None to let the tool run."""
    tool = str(event.get("tool_name") or "")
    raw_input = event.get("tool_input")
    tool_input: dict[str, Any] = raw_input if isinstance(raw_input, dict) else {}
    cwd = str(event.get("cwd") or hooks.PROJECT_ROOT)
    reason = None
    if tool == "Bash":
        reason = check_shell(str(tool_input.get("command") or ""), hooks.PROJECT_ROOT, cwd)
    elif tool in FILE_TOOLS | SEARCH_TOOLS:
        for key in (
            "file_path",
            "notebook_path",
            "path",
            "pattern" if tool == "Glob" else "glob",
        ):
            value = tool_input.get(key)
            if isinstance(value, str) and value and is_env_file(value):
                reason = env_reason(value)
                break
    return f"BLOCKED by .claude/hooks/pre_tool_use.py: {reason}" if reason else None


def main() -> None:
    """Run the guard (``run.sh`` imports this module and calls it)."""
    hooks.run("PreToolUse", check)


if __name__ == "__main__":
    main()
