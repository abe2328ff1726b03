"""``.gitignore`` keeps run logs and the database out of version control, by git's own rules."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

from tac_bootstrap_cli.doctor.project import Project, can_restore, on_disk, restore
from tac_bootstrap_cli.doctor.report import Check, ok
from tac_bootstrap_cli.projectdb import project_db_path

RUN_LOG_PROBE = "agents/adw_id/raw_output.jsonl"  # a run's output, as adws/ writes it


def ignored(root: Path, queries: list[str]) -> list[bool]:
    """Is each path under ``root`` (a trailing ``/`` marks a folder) ignored, by git's rules?

    In a work tree git itself answers (``check-ignore --no-index``: the rules, whether or not a
    file is tracked); without git, ``pathspec``'s ``GitIgnoreSpec`` over the ``.gitignore`` files.
    """
    from tac_bootstrap_cli.gitutil import repo_root

    if repo_root(root) is not None:
        answers = _git_check_ignore(root, queries)
        if answers is not None:
            return answers
    return [_ignored_by_spec(root, query) for query in queries]


def _git_check_ignore(root: Path, queries: list[str]) -> list[bool] | None:
    """``git check-ignore`` over all ``queries`` at once; None when git cannot answer."""
    import subprocess

    exe = shutil.which("git")
    if exe is None:
        return None
    # core.excludesFile off: a personal global ignore file does not keep the database out of a
    # teammate's commit, so it must not make the project's .gitignore look sufficient.
    args = [exe, "-c", f"core.excludesFile={os.devnull}", "check-ignore", "--no-index", "-v", "-n"]
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
    try:
        proc = subprocess.run(
            [*args, "-z", "--stdin"],
            cwd=root,
            input=b"".join(q.encode("utf-8", "surrogateescape") + b"\0" for q in queries),
            capture_output=True,
            env=env,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    fields = proc.stdout.split(b"\0")
    if proc.returncode not in (0, 1) or len(fields) < 4 * len(queries):
        return None
    # One record per query, in order: source, line number, pattern, path; a pattern starting
    # with ! matched but re-includes the path.
    return [
        bool(fields[4 * i]) and not fields[4 * i + 2].startswith(b"!") for i in range(len(queries))
    ]


def _ignored_by_spec(root: Path, query: str) -> bool:
    """git's rules without git: a path is ignored when a folder above it is, else by the last
    pattern matching the path itself in the deepest ``.gitignore`` on its way that has one."""
    is_dir = query.endswith("/")
    parts = query.strip("/").split("/")
    rules: dict[int, list[tuple[re.Pattern[str], bool, bool]]] = {}

    def at(level: int) -> list[tuple[re.Pattern[str], bool, bool]]:
        if level not in rules:
            try:
                text = root.joinpath(*parts[:level], ".gitignore").read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                text = ""
            rules[level] = _self_rules(text)
        return rules[level]

    for depth in range(1, len(parts) + 1):
        folder = depth < len(parts) or is_dir
        verdict = False
        for level in range(depth):  # deeper .gitignore files override shallower ones
            rel = "/".join(parts[level:depth])
            for regex, include, slashed in at(level):
                # Folders are spelled with a trailing / for the folder-only patterns; a prefix
                # pattern (`a/**`) must not take `a/` for something inside `a`.
                if regex.search(rel + "/" if slashed and folder else rel):
                    verdict = include
        if verdict:
            return True  # git never looks inside an ignored folder: nothing in it comes back
    return False


def _git_trailing_globstar(line: str) -> str:
    """``a/**/`` as git reads it, folders inside ``a`` (pathspec also takes ``a`` itself)."""
    body = line.rstrip(" ")
    if body.endswith("**/") and (len(body) == 3 or body[-4] in "/!"):
        return body + "*/"
    return line


def _self_rules(text: str) -> list[tuple[re.Pattern[str], bool, bool]]:
    """``GitIgnoreSpec``'s patterns as (regex, ignores, folder-aware), made to match a path
    itself only.

    pathspec's regexes also match everything below a matched folder (their ``ps_d`` group);
    git decides a path inside a folder by the folder first, so here that is cut off: a negation
    of the folder must not re-include what is in it.
    """
    import pathspec

    out: list[tuple[re.Pattern[str], bool, bool]] = []
    lines = [_git_trailing_globstar(line) for line in text.splitlines()]
    for pattern in pathspec.GitIgnoreSpec.from_lines(lines).patterns:
        regex = getattr(pattern, "regex", None)
        if pattern.include is None or not isinstance(regex, re.Pattern):
            continue
        slashed = "ps_d" in regex.groupindex
        if slashed:
            regex = re.compile(f"(?:{regex.pattern})\\Z", regex.flags)
        out.append((regex, pattern.include, slashed))
    return out


def check_gitignore(p: Project) -> Iterator[Check]:
    """``.gitignore`` keeps ``agents/`` and the database out of version control."""
    path = p.root / ".gitignore"
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except FileNotFoundError:
        lines = None
    except (OSError, UnicodeDecodeError) as exc:
        yield Check("gitignore", "fail", f".gitignore unreadable: {exc}", "fix it")
        return
    db = project_db_path(p.root, p.config)
    # Files, not folders: what would be committed is a run's output (agents/<adw_id>/...) and
    # the database; `agents/*` or `agents/**` keep those out as well as `agents/` does.
    queries = {RUN_LOG_PROBE: "agents/"}
    try:
        db_rel = db.relative_to(p.root).as_posix()
        queries[db_rel] = db_rel
    except ValueError:
        pass  # outside the project: not ours to ignore
    answers = ignored(p.root, list(queries))
    uncovered = [shown for (_, shown), yes in zip(queries.items(), answers, strict=True) if not yes]
    if not uncovered:
        yield ok("gitignore", ".gitignore covers agents/ and the database")
        return
    block_missing = lines is None or on_disk(p.root, ".gitignore", "block") is None
    restorable = block_missing and can_restore(p, ".gitignore")
    yield Check(
        "gitignore",
        "fail",
        f".gitignore does not ignore {', '.join(uncovered)} (run logs and the database would be"
        " committed)",
        "`tac-bootstrap doctor --fix` restores the managed block"
        if restorable
        else f"add {', '.join('/' + u for u in uncovered)} to .gitignore",
        fixable=restorable,
        fix=(lambda: restore(p, [".gitignore"])) if restorable else None,
    )
