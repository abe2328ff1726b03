#!/usr/bin/env -S uv run --script
# /// script
# requires-python = ">=3.11"
# dependencies = []
# ///
"""PreToolUse hook: block destructive commands and secret files, record every tool call.

Blocked (exit 2, reason on stderr, which Claude Code hands to Claude):
- recursive ``rm`` of ``/``, ``~``, ``$HOME``, ``*``, ``.``, the project root or a folder holding
  one of them, and of system folders (``/etc``, ``/usr``, ``/var/lib``, ``/home/<user>``...;
  temporary folders, the home folder's and the project's contents stay deletable); the same
  through ``find … -delete``/``-exec rm``, ``xargs rm -r`` (names the guard cannot see) and
  deletions in ``python -c``/``perl -e``/``node -e``/``ruby -e`` code;
- code the guard cannot see run by a shell or an interpreter: ``curl … | sh``,
  ``base64 -d | bash``, ``bash <(curl …)``, ``eval "$(…)"``, a computed command name
  (``$(echo rm) -rf /``, ``$RM -rf /`` is judged as each command it could be);
- ``dd of=/dev/sda``, ``mkfs``/``mkswap``/``wipefs``, writes (``>``, ``tee``, ``dd``, Write/Edit)
  to a disk device, a system folder or a shell start-up file (``~/.bashrc``, ``~/.ssh/``...);
- reading or writing ``.env`` files (``.env``, ``.env.local``...; any case; not
  ``.env.example``/``.sample``/``.template``/``.dist``), by name or by a glob that matches one
  (``.en?``), through Read/Write/Edit/NotebookEdit/Grep/Glob or a shell command, and recursive
  searches (``grep -r``, ``rg --hidden``/``-uu``/``--no-ignore``, the Grep tool) over a folder
  that holds one;
- ``git push --force`` (``-f``, ``--force-with-lease``, ``+ref``) to ``main`` or ``master``, and
  deleting them on the remote (``git push origin :main``, ``--delete``);
- ``chmod -R 777``.
Wrappers (``sudo -u root``, ``env -u X``, ``nice -n 10``, ``timeout 5``, ``busybox``...), shells
(``bash -ec '...'``, ``sh -c -- '...'``, ``eval``), command substitutions, ``VAR=value`` earlier
in the line and ``cd`` are seen through; relative and ``$VAR`` targets are resolved against the
event's ``cwd`` (an unknown variable may be empty: ``rm -rf $X/`` is ``rm -rf /``).

It fails closed: an exception in a rule, shells nested deeper than ``MAX_DEPTH`` or a call it
cannot parse blocks, with a reason that says what to do. It is a guard rail against mistakes, not
a sandbox: a script file run by name, code fetched at run time or an interpreter's own logic are
not examined.

Everything uses only the standard library: ``.claude/settings.json`` runs this file through
``run.sh`` with the system ``python3`` (no uv, no dependencies, so neither a broken uv nor a broken
database disables the rules); it decides first, then records the call in-process (a few ms, see
``_hook_support.run``). Block reasons are short: Claude Code shows them, with the hook command, to
the model.
"""

from __future__ import annotations

import itertools
import os
import posixpath
import re
import shlex
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

import _hook_support as hooks


class Lazy:
    """A regular expression compiled on first use: most calls need few of them, and compiling
    them all would cost every tool call a millisecond."""

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        self.flags = flags
        self.compiled: re.Pattern[str] | None = None

    def get(self) -> re.Pattern[str]:
        """The compiled expression (compiled now if this is its first use)."""
        if self.compiled is None:
            self.compiled = re.compile(self.pattern, self.flags)
        return self.compiled

    def search(self, string: str) -> re.Match[str] | None:
        """``re.Pattern.search``."""
        return self.get().search(string)

    def match(self, string: str, pos: int = 0) -> re.Match[str] | None:
        """``re.Pattern.match``."""
        return self.get().match(string, pos)

    def fullmatch(self, string: str) -> re.Match[str] | None:
        """``re.Pattern.fullmatch``."""
        return self.get().fullmatch(string)

    def findall(self, string: str) -> list[Any]:
        """``re.Pattern.findall``."""
        return self.get().findall(string)

    def sub(self, repl: str | Callable[[re.Match[str]], str], string: str) -> str:
        """``re.Pattern.sub``."""
        return self.get().sub(repl, string)


PREFIX = "BLOCKED by .claude/hooks/pre_tool_use.py: "
# Shells inside shells (`bash -c`, `eval`, `$(...)`, `python -c "os.system(...)"`) are examined
# this deep; anything deeper blocks (nobody nests ten shells by hand).
MAX_DEPTH = 10
# Longer command lines block unread: scanning them would hold every tool call up (ten nested
# `sh -c '...'` quotings alone make 100 kB), and no hand-written command is that long.
MAX_LENGTH = 100_000
# A recursive search is checked for .env files by walking its folder; past this many entries the
# guard cannot tell quickly, so it blocks and asks for an exclusion.
MAX_WALK = 50_000
PROTECTED_BRANCHES = {"main", "master"}
SAFE_ENV_SUFFIXES = (".example", ".sample", ".template", ".dist")
FILE_TOOLS = {"Read", "Write", "Edit", "MultiEdit", "NotebookEdit"}
WRITE_TOOLS = {"Write", "Edit", "MultiEdit", "NotebookEdit"}
SEARCH_TOOLS = {"Grep", "Glob"}
SHELLS = {"sh", "bash", "zsh", "dash", "ksh", "ash", "mksh", "fish", "csh", "tcsh"}
# name -> the options that take the code as their argument (`python3 -c CODE`, `node -e CODE`).
INTERPRETERS = {
    "python": ("-c",),
    "pypy": ("-c",),
    "perl": ("-e", "-E"),
    "ruby": ("-e",),
    "node": ("-e", "--eval", "-p", "--print"),
    "nodejs": ("-e", "--eval", "-p", "--print"),
    "bun": ("-e", "--eval", "-p", "--print"),
    "deno": ("eval",),
    "php": ("-r",),
    "lua": ("-e",),
}
DELETERS = {"rm", "unlink", "shred", "srm", "trash", "rmdir"}
FORMATTERS = Lazy(r"(mkfs(\.\w+)?|mke2fs|mkswap|wipefs|mkdosfs|mkntfs|newfs(_\w+)?)")
# Folders whose contents belong to the system: deleting or overwriting anything in them is never
# a development step. Inside them, the project, the home folder and temporary folders are fine.
SYSTEM_ROOTS = {
    "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/opt", "/proc",
    "/root", "/run", "/sbin", "/srv", "/sys", "/usr", "/var", "/home", "/Users", "/System",
    "/Library", "/Applications", "/Volumes", "/private", "/snap", "/mnt", "/media", "/nix",
    "/tmp",
}  # fmt: skip
TEMP_ROOTS = (
    "/tmp",
    "/var/tmp",
    "/private/tmp",
    "/var/folders",
    "/private/var/folders",
    "/dev/shm",
)
HARMLESS_DEVICES = Lazy(r"/dev/(null|zero|full|u?random|tty\w*|pts/\d+|std(in|out|err)|fd/\d+)")
# Files a shell or ssh runs or trusts on the next login (relative to the home folder).
STARTUP_FILES = {
    ".bashrc", ".bash_profile", ".bash_login", ".bash_logout", ".profile", ".zshrc", ".zprofile",
    ".zshenv", ".zlogin", ".zlogout", ".kshrc", ".cshrc", ".tcshrc", ".inputrc",
    ".config/fish/config.fish", ".ssh",
}  # fmt: skip
SHELL_WORDS = {"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "{", "}", "!"}
# find's tests that narrow what it deletes (`find . -name '*.pyc' -delete` is routine).
FIND_FILTERS = {
    "-name", "-iname", "-path", "-ipath", "-wholename", "-iwholename", "-regex", "-iregex",
    "-newer", "-mtime", "-mmin", "-atime", "-amin", "-ctime", "-cmin", "-size", "-user",
    "-group", "-empty", "-perm", "-links", "-inum", "-samefile", "-lname", "-ilname",
}  # fmt: skip
# Folders a recursive search is not checked in (dependencies, caches, git's objects).
WALK_SKIP = {".git", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".mypy_cache"}
# Code that deletes, in the languages of INTERPRETERS.
CODE_DELETES = Lazy(
    r"rmtree|\bremove\b|\bunlink|\brmdir|removedirs|rm_r|rm_rf|rmSync|rmdirSync|unlinkSync|"
    r"rimraf|remove_dir_all|\bdelete\b|\brm\b"
)
CODE_HOME = Lazy(r"Path\.home\(\)|expanduser|homedir\(\)|\bHOME\b|getenv")
CODE_STRING = Lazy(r"'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"|`([^`]*)`")
# A substitution the guard cannot evaluate (`$(curl ...)`): an unknown variable to the rules.
COMPUTED = "$__tac_computed__"
_VAR = Lazy(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")
_ANY_VAR = Lazy(r"\$(\{[^}]*\}|[A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!-])")


class Unexaminable(Exception):
    """A call the guard cannot examine (it blocks, with this message as the reason)."""


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
    "parallel": Wrapper("jS", frozenset({"jobs", "sshlogin"})),
    "flock": Wrapper("Ew", frozenset({"conflict-exit-code", "timeout", "wait"}), 1),
    "chrt": Wrapper("T", frozenset({"sched-runtime"}), positionals=1),
    "taskset": Wrapper("", positionals=1),
    "watch": Wrapper("n", frozenset({"interval"})),
    "nohup": Wrapper(),
    "setsid": Wrapper(),
    "command": Wrapper(),
    "builtin": Wrapper(),
    "unbuffer": Wrapper(),
    "busybox": Wrapper(),
    "toybox": Wrapper(),
    "strace": Wrapper("eopsu"),
    "fakeroot": Wrapper(),
    "caffeinate": Wrapper(),
}
# Wrappers that feed the command names read from stdin: its targets are unknown.
FROM_INPUT = {"xargs", "parallel"}
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
_ENV_NAME = re.compile(r"\.env(\..+)?", re.IGNORECASE)
# Names a glob is tried against: if it could match one, the files it matches are looked at.
_ENV_PROBES = (".env", ".env.local", ".env.production", ".env.development.local")
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=.*", re.DOTALL)
_GLOB = re.compile(r"[*?\[]")
_PUNCTUATION = frozenset(";&|()<>")
_HEREDOC = Lazy(r"<<(-?)[ \t]*(?:'([^'\n]*)'|\"([^\"\n]*)\"|\\?([^\s;&|<>()'\"]+))")
# Search options whose argument keeps files out (`--exclude .env*`, `rg -g '!.env*'`).
EXCLUDE_OPTIONS = {"--exclude", "--exclude-dir", "--ignore"}
EXCLUDE_PREFIXES = ("!", "--exclude=", "--exclude-dir=", "--ignore=", "--glob=!", "--iglob=!")


def is_env_file(path: str) -> bool:
    """True for ``.env`` and ``.env.*`` files (any case) except the documented templates."""
    name = PurePosixPath(path.strip().strip("'\"")).name.lower()
    return bool(_ENV_NAME.fullmatch(name)) and not name.endswith(SAFE_ENV_SUFFIXES)


def shown(text: str, limit: int = 24) -> str:
    """``text`` cut to ``limit`` characters for a block reason (the model reads every one)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def env_reason(path: str) -> str:
    """The block reason for a ``.env`` file (its name only: a full path adds nothing)."""
    name = shown(PurePosixPath(path.strip().strip("'\"")).name)
    return f"{name} holds secrets: .env files are off limits (use .env.example)"


def _env_glob_hit(pattern: str, cwd: str) -> str | None:
    """The secret ``.env`` file a shell glob (``.en?``, ``.[Ee]nv*``) matches in ``cwd``, if any."""
    import fnmatch
    import glob

    name = PurePosixPath(pattern).name
    if not any(fnmatch.fnmatchcase(probe, name.lower()) for probe in _ENV_PROBES):
        return None
    if name.startswith(("*", "?")):
        return None  # a shell glob only matches a dot file when it starts with a dot
    base = pattern if pattern.startswith("/") else posixpath.join(cwd, pattern)
    return next((hit for hit in glob.glob(base) if is_env_file(hit)), None)


class Command(NamedTuple):
    """One simple command of a shell line."""

    words: list[str]
    redirects: list[tuple[str, str]]  # (operator, target): (">", "out.txt"), ("<", ".env")
    piped: bool  # its stdin is the previous command's output (`... | sh`)


class HereDoc(NamedTuple):
    """A pending here-document: its delimiter, ``<<-`` (tabs stripped), and whether the shell
    expands ``$(...)`` in its body (an unquoted delimiter)."""

    delimiter: str
    strip_tabs: bool
    expands: bool


def _heredoc_at(text: str, i: int) -> tuple[HereDoc, int] | None:
    """The here-document starting at ``text[i]`` (``<<EOF``, ``<<-'EOF'``) and where it ends."""
    if not text.startswith("<<", i) or text.startswith("<<<", i) or text[i - 1 : i] == "<":
        return None  # `<<<` is a here-string
    match = _HEREDOC.match(text, i)
    if match is None:
        return None
    dash, single, double, bare = match.groups()
    delimiter = single if single is not None else double if double is not None else bare
    quoted = single is not None or double is not None or "\\" in match.group(0)
    return HereDoc(delimiter, bool(dash), not quoted), match.end()


def _read_bodies(text: str, i: int, pending: list[HereDoc]) -> tuple[int, list[str]]:
    """The bodies of the pending here-documents from ``text[i]`` on (a missing delimiter line
    ends the body at the end of the text, as in bash) and where the text goes on."""
    bodies: list[str] = []
    for doc in pending:
        lines: list[str] = []
        while i < len(text):
            end = text.find("\n", i)
            end = len(text) if end < 0 else end
            line = text[i:end]
            i = end + 1
            if (line.lstrip("\t") if doc.strip_tabs else line) == doc.delimiter:
                break
            lines.append(line)
        bodies.append("\n".join(lines))
    pending.clear()
    return min(i, len(text)), bodies


def _substitutions_in(body: str) -> list[str]:
    """The ``$(...)`` and backquoted commands of an unquoted here-document's body."""
    found: list[str] = []
    i = 0
    while i < len(body):
        if body.startswith("$(", i):
            end = _closing(body, i + 1)
            found.append(body[i + 2 : end])
            i = end + 1
        elif body[i] == "`" and body.find("`", i + 1) > 0:
            end = body.find("`", i + 1)
            found.append(body[i + 1 : end])
            i = end + 1
        else:
            i += 1
    return found


def _next_quote(c: str, quote: str) -> str:
    """The quoting state after the character ``c`` (not a backslash escape): "", "'" or '"'."""
    if quote == "'":
        return "" if c == "'" else quote
    if c == "'" and not quote:
        return "'"
    if c == '"':
        return "" if quote else '"'
    return quote


def _closing(text: str, start: int) -> int:
    """The index of the ``)`` closing the ``(`` at ``start`` (quotes, nesting and
    here-documents respected)."""
    depth, i, quote = 0, start, ""
    pending: list[HereDoc] = []
    while i < len(text):
        c = text[i]
        heredoc = None if quote else _heredoc_at(text, i)
        if heredoc is not None:
            pending.append(heredoc[0])
            i = heredoc[1]
            continue
        if c == "\n" and not quote and pending:
            i, _ = _read_bodies(text, i + 1, pending)
            continue
        if c == "\\" and quote != "'":
            i += 2
            continue
        if not quote and c in "()":
            depth += 1 if c == "(" else -1
            if depth == 0:
                return i
        quote = _next_quote(c, quote)
        i += 1
    raise Unexaminable("unbalanced ( ): the guard cannot parse it; balance the command")


def _echoed(body: str) -> str | None:
    """What ``$(echo rm)``/``$(printf rm)``/``$(pwd)`` stands for, when it is plain words."""
    if body.strip() == "pwd":
        return "$PWD"
    if re.search(r"[$`;&|<>()\\]", body):
        return None
    try:
        words = shlex.split(body)
    except ValueError:
        return None
    if not words or words[0] not in ("echo", "printf"):
        return None
    words = [w for w in words[1:] if not re.fullmatch(r"-[neE]+", w)]
    return " ".join(words) if words else None


class _Expansion:
    """What ``expand_substitutions`` builds: the rewritten text, the substituted command texts,
    the here-document bodies by key, and the here-documents whose bodies are still to come."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.inner: list[str] = []
        self.bodies: dict[str, str] = {}
        self.pending: list[HereDoc] = []

    def heredoc(self, doc: HereDoc) -> None:
        self.out.append(f" << __tac_heredoc_{len(self.bodies) + len(self.pending)}__ ")
        self.pending.append(doc)

    def read_bodies(self, text: str, i: int) -> int:
        """The pending bodies read from ``text[i]`` on; where the text goes on."""
        docs = list(self.pending)
        i, texts = _read_bodies(text, i, self.pending)
        for doc, body in zip(docs, texts, strict=True):
            self.bodies[f"__tac_heredoc_{len(self.bodies)}__"] = body
            if doc.expands:
                self.inner.extend(_substitutions_in(body))
        self.out.append(" ; ")
        return i


def _backquoted(text: str, i: int) -> tuple[str, str, int]:
    """The backquoted command at ``text[i]``: (what replaces it, its text, where text goes on)."""
    end = text.find("`", i + 1)
    while end > 0 and text[end - 1] == "\\":
        end = text.find("`", end + 1)
    if end < 0:
        raise Unexaminable("an unclosed ` quote: the guard cannot parse it")
    body = text[i + 1 : end]
    return _echoed(body) or COMPUTED, body, end + 1


def _substitution_at(text: str, i: int, quote: str) -> tuple[str, str | None, int] | None:
    """Outside single quotes, what ``text[i]`` starts that is not copied as it is: (its
    replacement, the command text it runs or None, where the text goes on); None otherwise."""
    c = text[i]
    if c == "\\":
        if text.startswith("\\\n", i):  # a continued line
            return "", None, i + 2
        return text[i : i + 2], None, i + 2
    if c == "`":
        return _backquoted(text, i)
    if text.startswith("$((", i):  # arithmetic: a number
        end = _closing(text, i + 1)
        return "0", text[i + 3 : end - 1], end + 1
    if c in "$<>" and text.startswith("(", i + 1) and (c == "$" or not quote):
        end = _closing(text, i + 1)
        body = text[i + 2 : end]
        return (_echoed(body) if c == "$" else None) or COMPUTED, body, end + 1
    if c == "\n" and not quote:
        return " ; ", None, i + 1
    return None


def expand_substitutions(text: str) -> tuple[str, list[str], dict[str, str]]:
    """``text`` with each ``$(…)``, backquote and ``<(…)`` replaced (by what ``echo`` prints, else
    ``COMPUTED``), each here-document's body replaced by a key (``<< __tac_heredoc_0__``),
    unquoted newlines made ``;``; the substituted command texts; the bodies by key."""
    if not re.search(r"[$`<>\n\\]", text):
        return text, [], {}  # nothing to replace: skip the character loop
    done = _Expansion()
    i, quote = 0, ""
    while i < len(text):
        c = text[i]
        heredoc = None if quote else _heredoc_at(text, i)
        if heredoc is not None:
            done.heredoc(heredoc[0])
            i = heredoc[1]
            continue
        if c == "\n" and not quote and done.pending:
            i = done.read_bodies(text, i + 1)
            continue
        found = None if quote == "'" else _substitution_at(text, i, quote)
        if found is not None:
            piece, body, i = found
            done.out.append(piece)
            if body is not None:
                done.inner.append(body)
            continue
        quote = _next_quote(c, quote)
        done.out.append(c)
        i += 1
    return "".join(done.out), done.inner, done.bodies


def split_words(line: str) -> list[str]:
    """Shell words of one line, operators as words of their own; quotes removed."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|()<>")
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        return list(lexer)
    except ValueError:  # unbalanced quotes: fall back to plain words, still checked
        for mark in ";|&<>()":
            line = line.replace(mark, f" {mark} ")
        return line.replace("'", " ").replace('"', " ").split()


def split_commands(text: str) -> list[Command]:
    """The simple commands of a shell line (substitutions already replaced): operators,
    subshells and newlines split them; redirections are set apart."""
    commands: list[Command] = []
    words: list[str] = []
    redirects: list[tuple[str, str]] = []
    piped = next_piped = False
    target_of: str | None = None
    for word in split_words(text):
        if target_of is not None:
            redirects.append((target_of, word))
            target_of = None
        elif word and set(word) <= _PUNCTUATION:
            if "<" in word or ">" in word:
                target_of = word.lstrip("|&;")
                continue
            next_piped = (word.endswith("|") and not word.endswith("||")) or word.endswith("|&")
            if words or redirects:
                commands.append(Command(words, redirects, piped))
            words, redirects, piped = [], [], next_piped
        elif word:
            words.append(word)
    if words or redirects:
        commands.append(Command(words, redirects, piped))
    return commands


def _skip_short(word: str, words: list[str], wrapper: Wrapper, name: str) -> list[str]:
    """``words`` after the short options ``word`` (``-u``, ``-n10``): the first one that takes an
    argument takes the rest of ``word`` or the next word (``env -S`` splits it into words)."""
    for i, letter in enumerate(word[1:], start=2):
        if letter not in wrapper.short:
            continue
        value = word[i:]
        if not value and words:
            value, words = words[0], words[1:]
        if name == "env" and letter == "S":  # env -S 'rm -rf /' splits its argument
            words = split_words(value) + words
        break
    return words


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
            words = _skip_short(word, words[1:], wrapper, name)
            continue
        if name == "env" and _ASSIGNMENT.fullmatch(word):
            words = words[1:]
            continue
        break
    return words[wrapper.positionals :]


def _unwrap(words: list[str]) -> tuple[list[str], bool]:
    """Drop ``sudo``/``env``-style wrappers, their options, shell keywords and ``VAR=value``
    prefixes; also whether the command's arguments come from stdin (``xargs``)."""
    from_input = False
    while words:
        if _ASSIGNMENT.fullmatch(words[0]) or words[0] in SHELL_WORDS:
            words = words[1:]
            continue
        name = PurePosixPath(words[0]).name
        wrapper = WRAPPERS.get(name)
        if wrapper is None:
            break
        from_input = from_input or name in FROM_INPUT
        words = _skip_options(words[1:], wrapper, name)
    return words, from_input


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


def _shell_script(args: list[str]) -> str | None:
    """The script a shell runs when it has no ``-c``: its first operand, or ``-`` for stdin."""
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            i += 1
            break
        if arg in ("-s", "--stdin") or arg == "-":
            return "-"
        if arg.startswith("--"):
            i += 2 if arg in ("--rcfile", "--init-file") else 1
        elif arg[:1] in "-+" and len(arg) > 1:
            if "s" in arg[1:]:
                return "-"
            i += 2 if arg[-1] in "oO" else 1
        else:
            break
    return args[i] if i < len(args) else "-"


def _expand(target: str, root: Path, cwd: str) -> str:
    """``target`` with ``~``, ``$HOME``, ``$CLAUDE_PROJECT_DIR``, ``$PWD`` and env vars expanded."""
    text = re.sub(r"\$\{(\w+)\}", r"$\1", target)
    text = re.sub(r"\$CLAUDE_PROJECT_DIR\b", lambda _: str(root), text)
    text = re.sub(r"\$PWD\b", lambda _: cwd, text)
    if text.startswith("~"):
        text = os.path.expanduser(text)
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


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _system_path(paths: set[str], root: Path) -> bool:
    """True when a path is a system folder or inside one, and not inside the project, the home
    folder or a temporary folder (``/tmp`` itself is the system's)."""
    allowed = [*TEMP_ROOTS, os.environ.get("TMPDIR", "/tmp")]
    mine = _normalize(str(root)) | _normalize(os.path.expanduser("~"))
    for path in paths:
        if not any(_inside(path, system) for system in SYSTEM_ROOTS):
            continue
        if any(_inside(path, m) for m in mine if m != "/"):
            continue
        if any(_inside(path, t) and path.rstrip("/") != t.rstrip("/") for t in allowed if t):
            continue
        return True
    return False


def _absolute(target: str, root: Path, cwd: str) -> str:
    path = _expand(target, root, cwd)
    return path if path.startswith("/") else posixpath.join(cwd, path)


def _maybe_empty(target: str) -> str:
    """``target`` with unknown variables and computed parts as empty (``$X/`` may be ``/``)."""
    return _ANY_VAR.sub("", target)


def _is_protected_target(target: str, root: Path, cwd: str, system: bool = True) -> bool:
    """True when deleting ``target`` recursively deletes the system, the home folder, the project
    or a folder holding them (``system``: or a system folder or something inside one)."""
    literal = re.sub(r"(/\*|/\.|/)+$", "", target.replace("${HOME}", "$HOME"))
    if literal in {"~", "$HOME", "*", ".*"} or set(literal) <= {".", "/"}:
        return True  # `rm -rf *`, `.`, `..` anywhere are never meant
    path = _expand(target, root, cwd)
    if "$" in path:  # unknown variables may be empty: `rm -rf $BUILD/` is `rm -rf /`
        emptied = _maybe_empty(path)
        return bool(emptied) and emptied != path and _is_protected_target(emptied, root, cwd)
    parts = PurePosixPath(path).parts
    # `dir/*`, `dir/.*`, `~/*`: deleting everything in a folder is deleting the folder.
    glob_at = next((i for i, part in enumerate(parts) if _GLOB.search(part)), None)
    if glob_at is not None:
        if any(_GLOB.search(part) for part in parts[glob_at + 1 :]) or parts[glob_at] not in (
            "*",
            ".*",
        ):
            whole = _normalize(_absolute(str(PurePosixPath(*parts[:glob_at])), root, cwd))
            return system and _system_path(whole, root)
        parts = parts[:glob_at]
    folder = str(PurePosixPath(*parts)) if parts else "."
    paths = _normalize(_absolute(folder, root, cwd))
    return bool(paths & _protected_paths(root)) or (system and _system_path(paths, root))


def check_rm(args: list[str], root: Path, cwd: str, from_input: bool = False) -> str | None:
    """A reason when ``rm`` is recursive and aims at /, ~, $HOME, *, the project, a parent or a
    system folder, or deletes names read from stdin (``xargs rm -rf``)."""
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
    # `xargs rm -rf` (or `-I{} rm -rf {}`): every name comes from stdin. With names of its own
    # (`xargs rm -rf build`) those are judged, as without xargs.
    if recursive and from_input and all("{}" in target for target in targets):
        return (
            "xargs rm -r deletes names the guard cannot see; name the folders or use find -delete"
        )
    for target in targets:
        if recursive and _is_protected_target(target, root, cwd):
            return f"recursive rm of {shown(target)!r} deletes the system, home or project"
        if (
            not recursive
            and "$" not in target
            and _system_path(_normalize(_absolute(target, root, cwd)), root)
        ):
            return f"rm of {shown(target)!r} deletes a system file"
    return None


def _find_execs(args: list[str]) -> list[list[str]]:
    """The commands of ``find``'s ``-exec``/``-ok`` actions, without their ``{}``."""
    commands: list[list[str]] = []
    for i, arg in enumerate(args):
        if arg in ("-exec", "-execdir", "-ok", "-okdir"):
            inner: list[str] = []
            for word in args[i + 1 :]:
                if word in (";", "+"):
                    break
                inner.append(word)
            commands.append([w for w in inner if w != "{}"])
    return commands


def _find_deletes_protected(starts: list[str], args: list[str], root: Path, cwd: str) -> str | None:
    """A reason when deleting ``find`` starts at a protected tree (one inside the project may
    delete what a name filter narrows it to)."""
    narrowed = any(
        a in FIND_FILTERS and (i + 1 >= len(args) or args[i + 1].strip("*") != "")
        for i, a in enumerate(args)
    )
    for start in starts or ["."]:
        path = _absolute(start, root, cwd)
        inside_project = any(_inside(p, str(root)) for p in _normalize(path)) or start == "."
        if inside_project and narrowed:
            continue
        if _is_protected_target(start, root, cwd):
            return f"find {shown(start)} deletes the system, home or project; narrow it (-name)"
    return None


def check_find(args: list[str], root: Path, cwd: str, depth: int, seen: Scope) -> str | None:
    """A reason when ``find`` deletes (``-delete``, ``-exec rm``) a protected or system tree,
    or runs a command (``-exec``) that breaks a rule."""
    while args and args[0] in ("-H", "-L", "-P"):
        args = args[1:]
    starts: list[str] = []
    while args and not args[0].startswith(("-", "(", "!")):
        starts.append(args.pop(0))
    deletes = "-delete" in args
    for inner in _find_execs(args):
        reason = check_words(inner, root, cwd, depth, seen)
        if reason:
            return reason
        program, _ = _unwrap(inner)
        deletes = deletes or bool(program and PurePosixPath(program[0]).name in DELETERS)
    return _find_deletes_protected(starts, args, root, cwd) if deletes else None


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


def _git_subcommand(args: list[str], cwd: str) -> tuple[int, str]:
    """Where git's subcommand is in ``args`` (after its global options), and the folder it
    works in (``-C DIR``)."""
    i = 0
    while i < len(args) and args[i].startswith("-"):
        if args[i] == "-C" and i + 1 < len(args):
            cwd = os.path.join(cwd, os.path.expanduser(args[i + 1]))
        i += 2 if args[i] in GIT_OPTIONS_WITH_ARGUMENT else 1
    return i, cwd


def check_git(args: list[str], root: Path, cwd: str) -> str | None:
    """A reason when ``git push`` forces (``-f``, ``--force*``, ``+ref``) onto main or master or
    deletes them (``:main``, ``--delete``), or ``git grep`` reads untracked ``.env`` files."""
    i, cwd = _git_subcommand(args, cwd)
    subcommand, rest = (args[i], args[i + 1 :]) if i < len(args) else (None, [])
    if subcommand == "grep":
        if {"--no-index", "--untracked"} & set(rest):
            return check_search("grep", ["-r", *rest], root, cwd)
        return None
    return check_push(rest, cwd) if subcommand == "push" else None


def _push_words(args: list[str]) -> tuple[list[str], list[str]]:
    """``git push``'s options and its positional words (the remote, then the refspecs)."""
    options: list[str] = []
    positional: list[str] = []
    rest_iter = iter(args)
    for arg in rest_iter:
        if arg == "--":
            positional.extend(rest_iter)
        elif arg.startswith("-"):
            options.append(arg)
            if arg in PUSH_OPTIONS_WITH_ARGUMENT:
                next(rest_iter, None)
        else:
            positional.append(arg)
    return options, positional


def _branch(refspec: str) -> str:
    """The remote branch a refspec writes (``+HEAD:refs/heads/main`` -> ``main``)."""
    return refspec.lstrip("+").split(":")[-1].removeprefix("refs/heads/")


def _push_targets(refspecs: list[str], cwd: str) -> set[str]:
    """The branches a push writes; ``git push -f`` and ``git push -f origin HEAD`` push the
    checked-out branch."""
    targets = {_branch(r) for r in refspecs}
    if not refspecs or targets & {"HEAD", "@"}:
        targets.discard("HEAD")
        targets.discard("@")
        branch = current_branch(cwd)
        if branch:
            targets.add(branch)
    return targets


def check_push(args: list[str], cwd: str) -> str | None:
    """A reason when ``git push ARGS`` deletes or force-pushes main or master."""
    options, positional = _push_words(args)
    refspecs = positional[1:]  # the first positional word is the remote
    short = "".join(a[1:] for a in options if not a.startswith("--"))
    deleting = "--delete" in options or "d" in short
    deleted = {_branch(r) for r in refspecs if deleting or r.lstrip("+").startswith(":")}
    hit = sorted(deleted & PROTECTED_BRANCHES)
    if hit:
        return f"git push deleting {hit[0]} on the remote is not allowed"
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
    hit = sorted(_push_targets(refspecs, cwd) & PROTECTED_BRANCHES)
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


def check_write_target(target: str, root: Path, cwd: str) -> str | None:
    """A reason when writing ``target`` overwrites a disk, a system file or a shell start-up
    file (``> ~/.bashrc``, ``dd of=/dev/sda``, ``tee /etc/hosts``)."""
    if target.startswith("&") or target in ("-", "") or target.isdigit():
        return None  # `2>&1`, `>&-`
    path = posixpath.normpath(_absolute(_maybe_empty(target) or target, root, cwd))
    if HARMLESS_DEVICES.fullmatch(path):
        return None
    if path.startswith("/dev/"):
        return f"writing {shown(target)} overwrites a device (a disk?)"
    home = os.path.expanduser("~")
    for name in STARTUP_FILES:
        if _inside(path, posixpath.join(home, name)):
            return f"writing {shown(target)} changes what runs at login; edit it yourself"
    if _system_path(_normalize(path), root):
        return f"writing {shown(target)} changes a system file"
    return None


def _secret_files(folder: str, wanted: Any) -> str | None:
    """The first secret ``.env`` file under ``folder`` that ``wanted(relpath)`` accepts."""
    if not os.path.isdir(folder):
        return folder if is_env_file(folder) and wanted(PurePosixPath(folder).name) else None
    seen = 0
    stack = [folder]
    while stack:
        current = stack.pop()
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue
        seen += len(entries)
        if seen > MAX_WALK:
            raise Unexaminable(
                f"too many files under {shown(folder)} to check for .env; exclude .env* or narrow"
            )
        for entry in entries:
            if entry.name in WALK_SKIP:
                continue
            if entry.is_dir(follow_symlinks=False):
                stack.append(entry.path)
            elif is_env_file(entry.name) and wanted(posixpath.relpath(entry.path, folder)):
                return entry.path
    return None


def _glob_accepts(patterns: list[str], rel: str) -> bool:
    """Whether a file at ``rel`` passes ripgrep/grep style globs (``!x`` excludes)."""
    import fnmatch

    def matches(pattern: str) -> bool:
        pattern = pattern.lower()
        braces = re.fullmatch(r"(.*)\{([^{}]*)\}(.*)", pattern)
        if braces:
            head, options, tail = braces.groups()
            return any(matches(head + option + tail) for option in options.split(","))
        name = rel.lower() if "/" in pattern else PurePosixPath(rel).name.lower()
        return fnmatch.fnmatchcase(name, pattern.removeprefix("**/")) or fnmatch.fnmatchcase(
            rel.lower(), pattern
        )

    includes = [p for p in patterns if not p.startswith("!")]
    excludes = [p[1:] for p in patterns if p.startswith("!")]
    if any(matches(p) for p in excludes):
        return False
    return not includes or any(matches(p) for p in includes)


# name -> (short options that take an argument, long ones)
_SEARCH_OPTIONS = {
    "grep": (
        "efmABCdD",
        {"regexp", "file", "max-count", "context", "label", "directories", "include", "exclude"}
        | {"exclude-dir", "exclude-from"},
    ),
    "rg": ("efgtTmABCjMrE", {"regexp", "file", "glob", "iglob", "type", "type-not", "max-count"}),
    "ag": ("GgAmBC", {"file-search-regex", "ignore", "max-count", "context"}),
}


class _SearchArgs:
    """What a search command line says: recursive or not, whether it reads hidden and ignored
    files, its globs (``!`` for excluded), its operands, whether a pattern came by option, and
    whether it searches only files of one type (never a ``.env`` file)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.short, self.long = _SEARCH_OPTIONS[kind]
        self.recursive = kind != "grep"
        self.reaches_hidden = kind == "grep"
        self.globs: list[str] = []
        self.operands: list[str] = []
        self.has_pattern = False
        self.one_type = False

    def parse(self, args: list[str]) -> None:
        i = 0
        while i < len(args) and not self.one_type:
            arg = args[i]
            i += 1
            if arg == "--":
                self.operands.extend(args[i:])
                break
            if arg.startswith("--"):
                i = self._long(arg, args, i)
            elif arg.startswith("-") and len(arg) > 1:
                i = self._short(arg, args, i)
            else:
                self.operands.append(arg)

    def _long(self, arg: str, args: list[str], i: int) -> int:
        key, sep, value = arg[2:].partition("=")
        if key in self.long and not sep and i < len(args):
            value, i = args[i], i + 1
        self.recursive = self.recursive or key in ("recursive", "dereference-recursive")
        self.recursive = self.recursive or (key == "directories" and value == "recurse")
        self.reaches_hidden = self.reaches_hidden or key in ("hidden", "unrestricted", "search-zip")
        self.reaches_hidden = self.reaches_hidden or key.startswith("no-ignore")
        if key in ("include", "glob", "iglob"):
            self.globs.append(value)
        elif key in ("exclude", "exclude-dir"):
            self.globs.append("!" + value)
        elif key in ("type", "file-search-regex") and "env" not in value:
            self.one_type = True
        self.has_pattern = self.has_pattern or key in ("regexp", "file")
        return i

    def _short(self, arg: str, args: list[str], i: int) -> int:
        kind = self.kind
        for j, letter in enumerate(arg[1:], start=2):
            if letter in self.short:
                value = arg[j:]
                if not value and i < len(args):
                    value, i = args[i], i + 1
                self._short_value(letter, value)
                break
            self.recursive = self.recursive or (kind == "grep" and letter in "rR")
            self.reaches_hidden = self.reaches_hidden or (letter in ".u" and kind != "grep")
        return i

    def _short_value(self, letter: str, value: str) -> None:
        self.has_pattern = self.has_pattern or letter in "ef"
        if self.kind == "rg" and letter == "g":
            self.globs.append(value)
        if self.kind == "rg" and letter == "t" and "env" not in value:
            self.one_type = True
        if self.kind == "grep" and letter == "d" and value == "recurse":
            self.recursive = True


def check_search(name: str, args: list[str], root: Path, cwd: str) -> str | None:
    """A reason when a recursive search (``grep -r``, ``rg --hidden``...) would read a secret
    ``.env`` file of the folders it searches."""
    kind = "grep" if name in ("grep", "egrep", "fgrep") else name
    search = _SearchArgs(kind)
    search.parse(args)
    if search.one_type or not search.recursive or not search.reaches_hidden:
        return None
    paths = search.operands if search.has_pattern else search.operands[1:]
    globs = search.globs
    for path in paths or ["."]:
        if "$" in path:
            continue
        hit = _secret_files(_absolute(path, root, cwd), lambda rel: _glob_accepts(globs, rel))
        if hit:
            name_hit = shown(PurePosixPath(hit).name, 16)
            hint = "--exclude='.env*'" if kind == "grep" else "-g '!.env*'"
            return f"{name} over {shown(path, 16)} reads the secrets in {name_hit}; add {hint}"
    return None


def check_code(name: str, code: str, root: Path, cwd: str, depth: int, seen: Scope) -> str | None:
    """A reason when ``python -c``-style code deletes a protected tree, runs a shell command that
    breaks a rule, or names a ``.env`` file (its string literals are judged as paths and as
    shell command lines)."""
    if depth > MAX_DEPTH:
        return f"code nested more than {MAX_DEPTH} deep cannot be examined; write a script file"
    strings = [a or b or c for a, b, c in CODE_STRING.findall(code)]
    deletes = bool(CODE_DELETES.search(code))
    if deletes and CODE_HOME.search(code) and not strings:
        return f"{name} code deletes the home folder"
    for text in [*strings, " ".join(strings)]:
        if not text.strip():
            continue
        if deletes and "\n" not in text and _is_protected_target(text.strip(), root, cwd):
            return f"{name} code deletes {shown(text.strip())!r} (system, home or project)"
        if is_env_file(text):
            return env_reason(text)
        reason = check_shell(text, root, cwd, depth + 1, seen)
        if not reason and re.search(r"['\"`]", text):  # code in a string: exec('...("/")')
            reason = check_code(
                name, text.replace('\\"', '"').replace("\\'", "'"), root, cwd, depth + 1, seen
            )
        if reason:
            return reason
    return None


class Scope:
    """What earlier commands of the line set up: variables (``RM=rm``) and the working folder."""

    def __init__(self) -> None:
        self.variables: dict[str, str] = {}

    def substitute(self, word: str) -> str:
        """``word`` with the line's own variables replaced (``$RM`` after ``RM=rm``)."""
        if "$" not in word:
            return word
        return _VAR.sub(
            lambda m: self.variables.get(m.group(1), m.group(0)),
            word,
        )


def _interpreter(name: str) -> str | None:
    base = re.sub(r"[\d.]+$", "", name)  # python3.12 -> python
    return base if base in INTERPRETERS else None


class Feed(NamedTuple):
    """Where a simple command's input comes from."""

    piped: bool = False  # its stdin is the previous command's output (`curl ... | sh`)
    from_input: bool = False  # its arguments come from stdin (`... | xargs rm -rf`)


NO_FEED = Feed()


class Call(NamedTuple):
    """One simple command being judged (its name without the folder, its arguments) and where:
    the project root, the working folder, how deep in shells it is, what the line set up."""

    name: str
    args: list[str]
    root: Path
    cwd: str
    depth: int
    seen: Scope
    feed: Feed


def _check_computed_name(word: str, call: Call) -> str | None:
    """A computed name (`$(echo rm) -rf /`, `$X -rf /`): judged as each command it could be."""
    for candidate in ("rm", "find", "git", "chmod", "dd", "sh", "python"):
        words = [candidate, *call.args]
        reason = check_words(words, call.root, call.cwd, call.depth, call.seen, call.feed)
        if reason:
            return f"{shown(word, 16)} could be {candidate}: {reason}"
    return None


def _check_shell_text(name: str, inner: str, call: Call) -> str | None:
    """The rule broken by the command text a shell (``bash -c``) or ``eval`` runs."""
    # `eval "$(curl ...)"`, `bash -c "$X"`: text nobody can read before it runs. (A shell
    # expands its own variables later; eval's come from this line or the environment.)
    if COMPUTED in inner or (name == "eval" and _VAR.search(os.path.expandvars(inner))):
        return f"{name} runs a command computed at run time; run it directly"
    # `bash -c "$X"`: the whole program is a variable the guard does not know.
    if _VAR.fullmatch(inner.strip()) and "$" in os.path.expandvars(inner):
        return f"{name} runs the text of {shown(inner.strip(), 12)}; run the command directly"
    return check_shell(inner, call.root, call.cwd, call.depth + 1, call.seen)


def _check_shell_call(call: Call) -> str | None:
    """A shell or ``eval``: its command text judged; code it reads from a pipe or a computed
    script refused."""
    name, args = call.name, call.args
    inner = " ".join(args) if name == "eval" else shell_command_string(args)
    if inner is not None:
        return _check_shell_text(name, inner, call)
    if name == "eval":
        return None
    script = _shell_script(args)
    if script == "-" and call.feed.piped:
        return f"piping into {name} runs code the guard cannot see; save it, read it, run it"
    if script and COMPUTED in script:
        return f"{name} runs a script computed at run time (<(...)); save it, read it, run it"
    return None


def _check_source(call: Call) -> str | None:
    if call.args and COMPUTED in call.args[0]:
        return f"{call.name} runs a script computed at run time; save it, read it, run it"
    return None


def _inline_code(args: list[str], flags: tuple[str, ...]) -> str | None:
    """The code of an interpreter's first code option (``-c CODE``, ``-cCODE``, ``-e CODE``)."""
    for i, arg in enumerate(args):
        for flag in flags:
            code = None
            if arg == flag and i + 1 < len(args):
                code = args[i + 1]
            elif flag.startswith("-") and not flag.startswith("--") and arg.startswith(flag):
                code = arg[len(flag) :]
            if code:
                return code
    return None


def _check_interpreter(call: Call, language: str) -> str | None:
    """An interpreter's inline code judged; a program it reads from a pipe refused."""
    code = _inline_code(call.args, INTERPRETERS[language])
    if code:
        return check_code(call.name, code, call.root, call.cwd, call.depth, call.seen)
    operands = [a for a in call.args if not a.startswith("-")]
    if call.feed.piped and (not operands or operands[0] == "-") and language != "deno":
        return f"piping into {call.name} runs code the guard cannot see; save it, read it, run it"
    return None


def _check_dd(call: Call) -> str | None:
    for arg in call.args:
        if arg.startswith("of="):
            reason = check_write_target(arg[3:], call.root, call.cwd)
            if reason:
                return reason
    return None


def _check_copy(call: Call) -> str | None:
    """The destination of ``cp``/``mv``/``install``/``ln`` (the last operand, or -t DIR):
    `cp /dev/null ~/.bashrc`."""
    args = call.args
    if len(args) <= 1:
        return None
    target = next((b for a, b in itertools.pairwise(args) if a == "-t"), args[-1])
    return None if target.startswith("-") else check_write_target(target, call.root, call.cwd)


def _check_tee(call: Call) -> str | None:
    for arg in call.args:
        reason = None if arg.startswith("-") else check_write_target(arg, call.root, call.cwd)
        if reason:
            return reason
    return None


def _check_rm(call: Call) -> str | None:
    return check_rm(call.args, call.root, call.cwd, call.feed.from_input)


def _check_find(call: Call) -> str | None:
    return check_find(list(call.args), call.root, call.cwd, call.depth, call.seen)


def _check_git(call: Call) -> str | None:
    return check_git(call.args, call.root, call.cwd)


def _check_chmod(call: Call) -> str | None:
    return check_chmod(call.args)


def _check_search(call: Call) -> str | None:
    return check_search(call.name, call.args, call.root, call.cwd)


# The rules of plain commands, by name (shells, interpreters and computed names come first).
COMMAND_RULES: dict[str, Callable[[Call], str | None]] = {
    **dict.fromkeys(("rm", "unlink", "shred", "srm"), _check_rm),
    "find": _check_find,
    "git": _check_git,
    "chmod": _check_chmod,
    "dd": _check_dd,
    **dict.fromkeys(("cp", "mv", "install", "ln"), _check_copy),
    "tee": _check_tee,
    **dict.fromkeys(("grep", "egrep", "fgrep", "rg", "ag"), _check_search),
}


def check_words(
    words: list[str], root: Path, cwd: str, depth: int, seen: Scope, feed: Feed = NO_FEED
) -> str | None:
    """The first rule one simple command (``words``, wrappers included) breaks, or None."""
    words, unwrapped_input = _unwrap(words)
    if unwrapped_input and not feed.from_input:
        feed = feed._replace(from_input=True)
    if not words:
        return None
    name = PurePosixPath(os.path.expandvars(words[0])).name
    call = Call(name, words[1:], root, cwd, depth, seen, feed)
    if "$" in name or name == "":
        return _check_computed_name(words[0], call)
    if name in SHELLS or name == "eval":
        return _check_shell_call(call)
    if name in ("source", "."):
        return _check_source(call)
    language = _interpreter(name)
    if language is not None:
        return _check_interpreter(call, language)
    rule = COMMAND_RULES.get(name)
    if rule is not None:
        return rule(call)
    if FORMATTERS.fullmatch(name):
        return f"{name} erases a file system; run it yourself if you mean it"
    return None


def check_stdin_script(
    words: list[str], body: str, root: Path, cwd: str, depth: int, seen: Scope
) -> str | None:
    """The rule broken by a here-document or here-string that a shell or an interpreter reads
    as its program (``bash <<EOF``, ``python3 - <<'PY'``); other commands read it as data."""
    if not words:
        return None
    name = PurePosixPath(words[0]).name
    if name in SHELLS:
        if shell_command_string(words[1:]) is None and _shell_script(words[1:]) == "-":
            return check_shell(body, root, cwd, depth + 1, seen)
        return None
    language = _interpreter(name)
    operands = [a for a in words[1:] if not a.startswith("-") or a == "-"]
    if language is not None and (not operands or operands[0] == "-"):
        return check_code(name, body, root, cwd, depth, seen)
    return None


def _env_words(words: list[str], cwd: str) -> str | None:
    for before, word in zip(["", *words], words, strict=False):
        if before in EXCLUDE_OPTIONS or word.startswith(EXCLUDE_PREFIXES):
            continue  # `grep -r --exclude=.env* x .` names .env to keep it out
        # `cat .env`, `cp .env x`, `source .env`, `--env-file=.env`, `>.env`, `cat .en?`
        for part in re.split(r"[=<>]", word):
            if part and is_env_file(part):
                return env_reason(part)
            if part and _GLOB.search(part):
                hit = _env_glob_hit(part, cwd)
                if hit:
                    return env_reason(hit)
    return None


class _ShellLine:
    """The simple commands of one shell line, judged in order: what earlier ones set up
    (variables, ``cd``, what ``echo`` prints into a pipe) holds for the later ones."""

    def __init__(
        self, root: Path, cwd: str, depth: int, seen: Scope, bodies: dict[str, str]
    ) -> None:
        self.root = root
        self.cwd = cwd
        self.depth = depth
        self.seen = seen
        self.bodies = bodies  # here-document bodies by key (expand_substitutions)
        self.previous: Command | None = None

    def judge(self, command: Command) -> str | None:
        """The first rule ``command`` breaks, or None (and what it sets up is remembered)."""
        seen = self.seen
        words = [seen.substitute(w) for w in command.words]
        redirects = [(op, seen.substitute(t)) for op, t in command.redirects]
        stripped = self._remember_assignments(words)
        # `bash < <(curl ...)` reads a computed script like `curl ... | bash` does.
        piped = command.piped or any(op == "<" and COMPUTED in t for op, t in redirects)
        printed = self._printed_into_shell(stripped) if piped else None
        if printed is not None:
            # `echo ls | sh` runs what echo prints: judge that text instead of refusing.
            reason = check_shell(printed, self.root, self.cwd, self.depth + 1, seen)
            if reason:
                return reason
            piped = False
        reason = (
            check_words(words, self.root, self.cwd, self.depth, seen, Feed(piped))
            or self._redirect_reason(stripped, redirects)
            or _env_words(words + [t for _, t in redirects], self.cwd)
        )
        if reason:
            return reason
        if stripped and stripped[0] == "cd":  # `cd .. && rm -rf project`: later commands run there
            args = stripped[1:]
            target = args[-1] if args and args[-1] != "-" else ("~" if not args else "")
            if target:
                self.cwd = posixpath.join(self.cwd, _expand(target, self.root, self.cwd))
        self.previous = command
        return None

    def _remember_assignments(self, words: list[str]) -> list[str]:
        """Record the variables ``words`` set (`RM=rm; $RM -rf /`, `export X=...`); the words
        without their wrappers."""
        if words and all(_ASSIGNMENT.fullmatch(w) for w in words):
            for word in words:
                key, _, value = word.partition("=")
                self.seen.variables[key] = value
        stripped, _ = _unwrap(words)
        if stripped and stripped[0] in ("export", "declare", "local", "readonly", "typeset"):
            for word in stripped[1:]:
                if _ASSIGNMENT.fullmatch(word):
                    key, _, value = word.partition("=")
                    self.seen.variables[key] = value
        return stripped

    def _printed_into_shell(self, stripped: list[str]) -> str | None:
        """What the previous command (``echo``/``printf``) prints into this one, a shell reading
        its program from stdin; None when that is not the case."""
        if self.previous is None or not stripped:
            return None
        source, _ = _unwrap(self.previous.words)
        if not source or source[0] not in ("echo", "printf"):
            return None
        shell = PurePosixPath(stripped[0]).name
        if shell not in SHELLS or shell_command_string(stripped[1:]) is not None:
            return None
        return " ".join(a for a in source[1:] if not a.startswith("-"))

    def _redirect_reason(self, stripped: list[str], redirects: list[tuple[str, str]]) -> str | None:
        """A here-document or here-string run as a program (`bash <<EOF`, `python3 - <<'PY'`,
        `sh <<< "..."`), or a redirection that writes where no one should."""
        for op, target in redirects:
            stdin = self.bodies.get(target) if op == "<<" else target if op == "<<<" else None
            reason = (
                None
                if stdin is None
                else check_stdin_script(stripped, stdin, self.root, self.cwd, self.depth, self.seen)
            )
            if reason:
                return reason
        for op, target in redirects:
            if ">" in op:
                reason = check_write_target(target, self.root, self.cwd)
                if reason:
                    return reason
        return None


def check_shell(
    command: str, root: Path, cwd: str, depth: int = 0, seen: Scope | None = None
) -> str | None:
    """The first rule a shell command line breaks, or None; fails closed past ``MAX_DEPTH``."""
    if depth > MAX_DEPTH:
        return f"shells nested more than {MAX_DEPTH} deep cannot be examined; run the inner command"
    if "\0" in command:
        return "a NUL byte in a command cannot be examined; remove it"
    if len(command) > MAX_LENGTH:
        return f"a command over {MAX_LENGTH // 1000} kB cannot be examined; write a script file"
    seen = seen or Scope()
    text, inner, bodies = expand_substitutions(command)
    for body in inner:  # `$(rm -rf /)` runs too
        reason = check_shell(body, root, cwd, depth + 1, seen)
        if reason:
            return reason
    line = _ShellLine(root, cwd, depth, seen, bodies)
    for command_ in split_commands(text):
        reason = line.judge(command_)
        if reason:
            return reason
    return None


def check_search_tool(tool_input: dict[str, Any], root: Path, cwd: str) -> str | None:
    """A reason when the Grep tool's path and glob reach a secret ``.env`` file."""
    path = tool_input.get("path")
    path = path if isinstance(path, str) and path else cwd
    if is_env_file(path):
        return env_reason(path)
    kind = tool_input.get("type")
    if isinstance(kind, str) and kind and "env" not in kind:
        return None  # only files of one type (`py`, `js`): never a .env file
    glob = tool_input.get("glob")
    globs = [glob] if isinstance(glob, str) and glob else []
    hit = _secret_files(_absolute(path, root, cwd), lambda rel: _glob_accepts(globs, rel))
    if hit:
        name_hit = shown(PurePosixPath(hit).name, 16)
        return f"Grep here reads the secrets in {name_hit}; pass a glob (*.py) or a type"
    return None


def _check(event: dict[str, Any]) -> str | None:
    tool = str(event.get("tool_name") or "")
    raw_input = event.get("tool_input")
    if tool in {"Bash", *FILE_TOOLS, *SEARCH_TOOLS} and not isinstance(raw_input, dict):
        raise Unexaminable("tool_input is not an object; the call cannot be examined")
    tool_input: dict[str, Any] = raw_input if isinstance(raw_input, dict) else {}
    cwd = str(event.get("cwd") or hooks.PROJECT_ROOT)
    root = hooks.PROJECT_ROOT
    if tool == "Bash":
        command = tool_input.get("command")
        if not isinstance(command, str):
            raise Unexaminable("the command is not a string; the call cannot be examined")
        return check_shell(command, root, cwd)
    if tool in FILE_TOOLS | SEARCH_TOOLS:
        for key in ("file_path", "notebook_path", "path", "pattern" if tool == "Glob" else "glob"):
            value = tool_input.get(key)
            if isinstance(value, str) and value and is_env_file(value):
                return env_reason(value)
            if isinstance(value, str) and value and tool in WRITE_TOOLS and key != "glob":
                reason = check_write_target(value, root, cwd)
                if reason:
                    return reason
        if tool == "Grep":
            return check_search_tool(tool_input, root, cwd)
    return None


def check(event: dict[str, Any]) -> str | None:
    """The block reason for a PreToolUse event, or None to let the tool run; fails closed."""
    try:
        reason = _check(event)
    except Unexaminable as exc:
        reason = str(exc)
    except Exception as exc:  # a rule that breaks must not let the call through
        reason = (
            f"the guard failed ({type(exc).__name__}), so it blocks; simplify the command"
            " or run it yourself"
        )
    return PREFIX + reason if reason else None


def main() -> None:
    """Run the guard (``run.sh`` imports this module and calls it)."""
    hooks.run("PreToolUse", check)


if __name__ == "__main__":
    main()
