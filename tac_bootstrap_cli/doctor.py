"""``doctor``: is a generated project's agentic layer healthy? Checks as plain functions.

Each check returns ``Check``s (name, status ok|warn|fail, one-line message, one-line remedy,
whether ``--fix`` can repair it). Repairs never touch what a user edited: they restore the files
the layer cannot work without (settings, hook scripts and their support module, the .gitignore
block) as the current templates render them, leave other deleted files deleted (as upgrade
does), put back executable bits, record missing bases of unedited files, rebuild a lost manifest
(from git, else from the bases), and migrate the database schema (after a backup).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from tac_bootstrap_cli import claude_facts as facts
from tac_bootstrap_cli.apply import write_atomic
from tac_bootstrap_cli.bases import BASES_PATH, encode_bases, has_bases, load_bases
from tac_bootstrap_cli.blocks import MANAGED_FILES, BrokenMarkers, find_block, merge_block
from tac_bootstrap_cli.config import CONFIG_FILE, ProjectConfig, load_config
from tac_bootstrap_cli.errors import TacError, UsageError
from tac_bootstrap_cli.manifest import (
    MANIFEST_PATH,
    Entry,
    Kind,
    Manifest,
    load_manifest,
    now_iso,
    parse_manifest,
    sha256,
)
from tac_bootstrap_cli.plan import Desired, path_problem
from tac_bootstrap_cli.projectdb import inspect_db, migrate_db, project_db_path

Status = Literal["ok", "warn", "fail"]
SETTINGS = ".claude/settings.json"
HOOKS_DIR = ".claude/hooks"
HOOK_SCRIPT = re.compile(r"\.claude/hooks/[\w./-]+\.(?:py|sh)")
# `"$CLAUDE_PROJECT_DIR"/.claude/hooks/run.sh stop` runs .claude/hooks/stop.py.
LAUNCHED_HOOK = re.compile(r"\.claude/hooks/run\.sh[\"']?\s+([a-z_]+)\b")


@dataclass
class Check:
    """One finding: ``status`` and a one-line ``message``; ``remedy`` says what to do."""

    name: str
    status: Status
    message: str
    remedy: str = ""
    fixable: bool = False
    fix: Callable[[], list[str]] | None = field(default=None, repr=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return {
            "name": self.name,
            "status": self.status,
            "message": self.message,
            "remedy": self.remedy,
            "fixable": self.fixable,
        }


def ok(name: str, message: str) -> Check:
    """A passing check."""
    return Check(name, "ok", message)


@dataclass
class Project:
    """What the checks look at, read once."""

    root: Path
    config: ProjectConfig | None
    config_error: str | None
    manifest: Manifest | None
    manifest_error: str | None
    bases: dict[str, bytes]
    rendered: dict[str, Desired] | None  # what the current templates make of the answers
    untrusted: str | None = None  # why team templates were not rendered (never without trust)
    run_any_hooks: bool = False  # run hook code even when it is not what we generate (--run-hooks)
    render_error: str | None = None  # why the layer could not be rendered (templates gone, ...)

    def generated(self, path: str) -> Desired | None:
        """The current rendering of ``path``, if the answers could be rendered."""
        return self.rendered.get(path) if self.rendered is not None else None


def load_project(root: Path) -> Project:
    """Read config, manifest, bases and (when possible) render the layer in memory."""
    config = manifest = None
    config_error = manifest_error = None
    try:
        config = load_config(root)
    except TacError as exc:
        config_error = str(exc)
    try:
        manifest = load_manifest(root)
    except TacError as exc:
        manifest_error = str(exc)
    try:
        bases = load_bases(root)
    except TacError:
        bases = {}
    rendered = None
    untrusted = None
    render_error: str | None = None
    if config is not None:
        from tac_bootstrap_cli.scaffold import desired_files, with_overlay
        from tac_bootstrap_cli.trust import UntrustedTemplatesError

        try:
            cfg, team, _ = with_overlay(config, None, root)
            desired = desired_files(
                cfg, write_config=False, overlay=team.path if team is not None else None
            )
            rendered = {d.path: d for d in desired}
        except UntrustedTemplatesError as exc:  # checked before anything of them is read
            untrusted = exc
        except TacError as exc:
            rendered = None
            render_error = str(exc).splitlines()[0]  # render and upgrade stop here too (exit 2)
    project = Project(root, config, config_error, manifest, manifest_error, bases, rendered)
    if untrusted is not None:
        project.untrusted = f"{untrusted.message}: not rendered"
    project.render_error = render_error
    return project


# --- checks ------------------------------------------------------------------------------------


def check_config(p: Project) -> Iterator[Check]:
    """``config.yml`` parses and validates."""
    if p.config is not None:
        yield ok("config", f"{CONFIG_FILE} valid")
    else:
        yield Check(
            "config",
            "fail",
            p.config_error or f"{CONFIG_FILE} unreadable",
            f"fix {CONFIG_FILE} at the line named (or restore it from version control)",
        )


def check_templates(p: Project) -> Iterator[Check]:
    """Team templates: a remembered folder that is gone, or that does not render, fails (render
    and upgrade exit 2 there); one from the repository is skipped until the user trusts it."""
    if p.config is not None and p.config.templates and p.untrusted is None:
        folder = Path(p.config.templates).expanduser()
        folder = folder if folder.is_absolute() else p.root / folder
        if not folder.is_dir():
            yield Check(
                "templates",
                "fail",
                f"team templates folder {folder} (config.yml templates:) not found: render and"
                " upgrade stop there",
                "put the folder back, run `tac-bootstrap render --templates DIR` with its new"
                " place, or delete the templates: line of config.yml to use the built-ins",
            )
            return
    if p.render_error is not None and p.untrusted is None:
        yield Check(
            "templates",
            "fail",
            f"the layer does not render: {p.render_error}",
            "fix what the message names, then run `tac-bootstrap render --dry-run`",
        )
    if p.untrusted is not None:
        yield Check(
            "templates",
            "warn",
            p.untrusted + " (files are not compared with the templates)",
            f"review them, then run `tac-bootstrap render {shlex.quote(str(p.root))} --dry-run"
            " --trust`",
        )


def check_manifest(p: Project) -> Iterator[Check]:
    """The manifest exists and parses; bases are recorded."""
    if p.manifest is None:
        source = _manifest_source(p)
        yield Check(
            "manifest",
            "fail",
            p.manifest_error or ".tac-bootstrap/manifest.json missing",
            f"`tac-bootstrap doctor --fix` {source} (your edited files stay managed)"
            if source
            else "run `tac-bootstrap render` (existing files are kept and the manifest is written)",
            fixable=bool(source),
            fix=(lambda: _rebuild_manifest(p)) if source else None,
        )
        return
    yield ok("manifest", f"{len(p.manifest.files)} generated files recorded")
    missing = [path for path, e in p.manifest.files.items() if e.sha256 not in p.bases]
    if has_bases(p.root) and not missing:
        yield ok("bases", "pristine bases recorded for every generated file")
    else:
        restorable = _unedited_bases(p)
        yield Check(
            "bases",
            "warn",
            f"no pristine base recorded for {len(missing)} of {len(p.manifest.files)} files:"
            " upgrade cannot merge your edits in those",
            "`tac-bootstrap doctor --fix` records the bases of files you did not edit",
            fixable=bool(restorable),
            fix=(lambda: _record_bases(p, restorable)) if restorable else None,
        )


def _committed_manifest(root: Path) -> bytes | None:
    """The manifest as committed at ``HEAD``, when the project is in git and it is tracked."""
    import subprocess

    from tac_bootstrap_cli.gitutil import repo_root

    exe = shutil.which("git")
    if exe is None or repo_root(root) is None:
        return None
    try:
        proc = subprocess.run(
            [exe, "show", f"HEAD:./{MANIFEST_PATH}"],
            cwd=root,
            capture_output=True,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"},
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:
        return None
    try:
        parse_manifest(proc.stdout.decode("utf-8"))
    except (TacError, UnicodeDecodeError):
        return None
    return proc.stdout


def _manifest_source(p: Project) -> str:
    """How ``--fix`` would rebuild the manifest (a remedy's words), or "" when it cannot."""
    if _committed_manifest(p.root) is not None:
        return "restores it from git (HEAD)"
    if p.rendered is not None and (p.bases or _rebuilt_entries(p)):
        return "rebuilds it from the bases archive and the templates"
    return ""


def _rebuilt_entries(p: Project) -> dict[str, Entry]:
    """Manifest entries for a lost manifest: which files on disk are ours, and from which base.

    A file (or managed block) whose content is a recorded base, or today's rendering, is ours
    and unedited. One that differs is ours and edited when a base of its path is known: today's
    rendering recorded in the archive, else the recorded base most like it (line by line, at
    least 60 % alike, as upgrade pairs renamed files). Anything else stays unmanaged.
    """
    from difflib import SequenceMatcher

    entries: dict[str, Entry] = {}
    edited: dict[str, tuple[bytes, Desired]] = {}
    for path, want in sorted((p.rendered or {}).items()):
        if path == CONFIG_FILE:
            continue  # written from the answers, never recorded as a template's output
        current = _current(p.root, path, want.kind)
        if current is None:
            continue
        digest = sha256(current)
        if digest in p.bases or current == want.content:
            entries[path] = Entry(digest, want.kind)
        elif sha256(want.content) in p.bases:
            entries[path] = Entry(sha256(want.content), want.kind)
        else:
            edited[path] = (current, want)
    claimed = {e.sha256 for e in entries.values()}
    spare = {k: v for k, v in p.bases.items() if k not in claimed}
    for path, (current, want) in edited.items():
        best, score = None, 0.6
        for digest, base in spare.items():
            matcher = SequenceMatcher(None, base.splitlines(), current.splitlines(), False)
            if matcher.real_quick_ratio() >= score and matcher.quick_ratio() >= score:
                ratio = matcher.ratio()
                if ratio >= score:
                    best, score = digest, ratio
        if best is not None:
            entries[path] = Entry(best, want.kind)
            del spare[best]
    return entries


def _rebuild_manifest(p: Project) -> list[str]:
    """Write the manifest back: from git when committed, else from bases and the templates."""
    committed = _committed_manifest(p.root)
    root = p.root.resolve()
    if committed is not None:
        write_atomic(root, MANIFEST_PATH, committed)
        return [f"restored {MANIFEST_PATH} from git (HEAD)"]
    entries = _rebuilt_entries(p)
    if not entries:
        return []
    from tac_bootstrap_cli import __version__

    for path, entry in entries.items():
        if entry.sha256 not in p.bases:  # unedited against today's rendering: record it
            want = p.generated(path)
            if want is not None:
                p.bases[entry.sha256] = want.content
    manifest = Manifest(template_version=__version__, generated_at=now_iso(), files=entries)
    _save_state(p, manifest)
    return [f"rebuilt {MANIFEST_PATH} from the bases archive ({len(entries)} files managed)"]


def _unedited_bases(p: Project) -> dict[str, bytes]:
    """Content of manifest entries whose file (or block) on disk still has the recorded hash."""
    out: dict[str, bytes] = {}
    assert p.manifest is not None
    for path, entry in p.manifest.files.items():
        if entry.sha256 in p.bases:
            continue
        current = _current(p.root, path, entry.kind)
        if current is not None and sha256(current) == entry.sha256:
            out[entry.sha256] = current
    return out


def _record_bases(p: Project, found: dict[str, bytes]) -> list[str]:
    assert p.manifest is not None
    wanted = {e.sha256 for e in p.manifest.files.values()}
    bases = {k: v for k, v in {**p.bases, **found}.items() if k in wanted}
    write_atomic(p.root.resolve(), BASES_PATH, encode_bases(bases))
    return [f"recorded the bases of {len(found)} unedited files"]


def _current(root: Path, path: str, kind: str) -> bytes | None:
    """The file's bytes, or its managed block's body; None when missing or unreadable."""
    try:
        data = (root / path).read_bytes()
    except OSError:
        return None
    if kind != "block":
        return data
    try:
        found = find_block(data.decode("utf-8"), MANAGED_FILES[path])
    except (UnicodeDecodeError, BrokenMarkers, KeyError):
        return None
    return found.body.encode("utf-8") if found is not None else None


def check_files(p: Project) -> Iterator[Check]:
    """Generated files missing (repairable) or modified (kept by every command: information)."""
    if p.manifest is None:
        return
    missing: list[str] = []
    modified: list[str] = []
    for path, entry in sorted(p.manifest.files.items()):
        current = _current(p.root, path, entry.kind)
        if current is None:
            missing.append(path)
        elif sha256(current) != entry.sha256:
            modified.append(path)
    if missing:
        # Not repaired: upgrade keeps a file the user deleted deleted, and doctor cannot tell a
        # deletion from an accident. The files the layer cannot work without (settings, hook
        # scripts and their support module, the .gitignore block, config) fail in their own
        # checks, which restore them.
        yield Check(
            "files",
            "warn",
            f"{len(missing)} generated file(s) missing: {_some(missing)} (kept deleted, as"
            " upgrade does)",
            "nothing to do if you deleted them; else `tac-bootstrap render` writes them again",
        )
    else:
        yield ok("files", f"all {len(p.manifest.files)} generated files present")
    if modified:
        yield Check(
            "files.modified",
            "warn",
            f"{len(modified)} generated file(s) edited since generated: {_some(modified)}",
            "nothing to do: edits are kept by render and merged by upgrade",
        )


def _some(paths: list[str], n: int = 4) -> str:
    return ", ".join(paths[:n]) + (f" and {len(paths) - n} more" if len(paths) > n else "")


def _restored(p: Project, path: str) -> tuple[bytes, bool, bytes] | None:
    """(content to write, executable, pristine body to record) for a missing generated path:
    the current templates' rendering, else the recorded base; None when neither is known."""
    want = p.generated(path)
    kind = want.kind if want is not None else "file"
    entry = p.manifest.files.get(path) if p.manifest is not None else None
    if entry is not None:
        kind = entry.kind
    executable = want.executable if want is not None else False
    body = want.content if want is not None else None
    if body is None and entry is not None:
        body = p.bases.get(entry.sha256)  # templates not renderable: what was generated
    if body is None:
        return None
    if kind == "block":
        try:
            existing = (p.root / path).read_text(encoding="utf-8")
        except FileNotFoundError:
            existing = None
        except (OSError, UnicodeDecodeError):
            return None
        try:
            merged = merge_block(existing, body.decode("utf-8"), MANAGED_FILES[path]).encode()
        except (BrokenMarkers, UnicodeDecodeError, KeyError):
            return None
        return merged, False, body
    return body, executable, body


def _restore(p: Project, paths: list[str]) -> list[str]:
    """Write each path's current template content and record it as generated (manifest, base)."""
    root = p.root.resolve()
    done = []
    recorded: dict[str, bytes] = {}
    for path in paths:
        found = _restored(p, path)
        if found is None or path_problem(root, path) is not None:
            continue
        content, executable, body = found
        write_atomic(root, path, content, executable)
        recorded[path] = body
        done.append(f"restored {path}")
    if recorded and p.manifest is not None:
        manifest = p.manifest
        for path, body in recorded.items():
            entry = manifest.files.get(path)
            kind = entry.kind if entry is not None else _kind(p, path)
            manifest.files[path] = Entry(sha256(body), kind)
            p.bases[sha256(body)] = body
        _save_state(p, manifest)
    return done


def _kind(p: Project, path: str) -> Kind:
    want = p.generated(path)
    return want.kind if want is not None else "file"


def _save_state(p: Project, manifest: Manifest) -> None:
    """Bases first, then the manifest (as every writing command does), each atomically."""
    wanted = {e.sha256 for e in manifest.files.values()}
    bases = {k: v for k, v in p.bases.items() if k in wanted}
    root = p.root.resolve()
    write_atomic(root, BASES_PATH, encode_bases(bases))
    write_atomic(root, MANIFEST_PATH, manifest.to_json().encode("utf-8"))


# As git writes them: `<<<<<<< ours` ... `=======` ... `>>>>>>> theirs`. A `=======` line alone
# is a Markdown heading underline, and every conflict has the two outer lines, so those decide.
CONFLICT_MARKER = re.compile(r"^(?:<{7}|>{7})(?: |\r?$)", re.MULTILINE)


def conflict_marker_line(text: str) -> int | None:
    """The line number of the first conflict marker line in ``text``, or None."""
    found = CONFLICT_MARKER.search(text)
    return None if found is None else text.count("\n", 0, found.start()) + 1


def check_conflicts(p: Project) -> Iterator[Check]:
    """No managed text file holds conflict markers left by an upgrade or a git merge."""
    paths = set(p.manifest.files) if p.manifest is not None else set()
    paths |= set(p.rendered or {})
    found: list[str] = []
    for rel in sorted(paths):
        path = p.root / rel
        if path.is_symlink() or not path.is_file():
            continue
        try:
            text = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue  # binary: not merged as text, so no markers
        line = conflict_marker_line(text)
        if line is not None:
            found.append(f"{rel}:{line}")
    if not found:
        yield ok("conflicts", "no conflict markers in generated files")
        return
    yield Check(
        "conflicts",
        "fail",
        f"{len(found)} file(s) hold conflict markers: {_some(found)}",
        "resolve them (keep the side you want, delete the <<<<<<< ======= >>>>>>> lines), then"
        " `git add` the file",
    )


def check_settings(p: Project) -> Iterator[Check]:
    """``.claude/settings.json``: valid JSON, and none of the known mistakes."""
    path = p.root / SETTINGS
    if not path.is_file():
        restorable = not path.is_symlink() and _restored(p, SETTINGS) is not None
        yield Check(
            "settings",
            "fail",
            f"{SETTINGS} missing: no hook and no permission rule applies",
            "`tac-bootstrap doctor --fix` writes it from the templates"
            if restorable
            else "run `tac-bootstrap render`",
            fixable=restorable,
            fix=(lambda: _restore(p, [SETTINGS])) if restorable else None,
        )
        return
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        where = f":{exc.lineno}:{exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        yield Check(
            "settings",
            "fail",
            f"{SETTINGS}{where}: not valid JSON ({exc}); Claude Code skips the whole file, so no"
            " hook and no permission rule of it applies",
            "fix the syntax (conflict markers from an upgrade? resolve them)",
        )
        return
    if not isinstance(data, dict):
        yield Check("settings", "fail", f"{SETTINGS}: not a JSON object", "restore it")
        return
    problems = list(_settings_problems(data))
    if not problems:
        yield ok("settings", f"{SETTINGS} valid")
    yield from problems


def _settings_problems(data: dict[str, Any]) -> Iterator[Check]:
    hooks = data.get("hooks", {})
    if not isinstance(hooks, dict):
        yield Check("settings.hooks", "fail", "`hooks` is not an object", "see the hooks reference")
        hooks = {}
    by_lower = {e.lower(): e for e in facts.HOOK_EVENTS}
    for event, entries in hooks.items():
        if event not in facts.HOOK_EVENTS:
            right = by_lower.get(event.lower())
            if right is not None:
                yield Check(
                    "settings.hooks",
                    "fail",
                    f"hook event {event!r} is miscased: Claude Code never runs it",
                    f"rename it to {right!r}",
                )
            elif event[:1].isupper() and event.isalnum():
                yield Check(
                    "settings.hooks",
                    "warn",
                    f"hook event {event!r} is unknown to this tac-bootstrap",
                    "check the name against the Claude Code hooks reference",
                )
            else:
                yield Check(
                    "settings.hooks",
                    "fail",
                    f"hook event {event!r} is not a hook event",
                    "use a PascalCase event such as PreToolUse",
                )
        if not isinstance(entries, list):
            yield Check("settings.hooks", "fail", f"hooks.{event} is not a list", "wrap it in [ ]")
            continue
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            if "matcher" in entry and not isinstance(entry["matcher"], str):
                yield Check(
                    "settings.hooks",
                    "fail",
                    f"hooks.{event}: matcher {entry['matcher']!r} is not a string",
                    'write it as a string: "Bash", "Edit|Write" or "*"',
                )
            for hook in entry.get("hooks", []) if isinstance(entry.get("hooks"), list) else []:
                if isinstance(hook, dict):
                    yield from _hook_problems(event, hook)
    yield from _permission_problems(data.get("permissions"))


def _hook_problems(event: str, hook: dict[str, Any]) -> Iterator[Check]:
    timeout = hook.get("timeout")
    if timeout is not None:
        if not isinstance(timeout, int | float) or isinstance(timeout, bool):
            yield Check(
                "settings.hooks",
                "fail",
                f"hooks.{event}: timeout {timeout!r} is not a number",
                "give seconds as a number, e.g. 60",
            )
        elif timeout >= facts.MILLISECOND_TIMEOUT:
            yield Check(
                "settings.hooks",
                "fail",
                f"hooks.{event}: timeout {timeout} looks like milliseconds; Claude Code reads"
                " seconds",
                f"use {max(1, int(timeout) // 1000)} (seconds)",
            )
    background = hook.get("async", False)
    if not isinstance(background, bool):
        yield Check(
            "settings.hooks",
            "fail",
            f"hooks.{event}: async {background!r} is not true or false",
            'write "async": true (run in the background) or remove it',
        )
    command = hook.get("command")
    if not isinstance(command, str):
        return
    if background is True and event in facts.BLOCKING_EVENTS and facts.is_guard_command(command):
        yield Check(
            "settings.hooks",
            "fail",
            f"hooks.{event}: the tac-bootstrap guard runs in the background (async), so it"
            " can block nothing",
            f'remove "async": true from the {event} hook',
        )
    elif background is True and facts.is_layer_hook(command):
        yield Check(
            "settings.hooks",
            "warn",
            f"hooks.{event}: runs in the background (async); `claude -p` cancels background hooks"
            " when it exits, so its events are lost (and SessionEnd may never run)",
            f'remove "async": true from the {event} hook (the layer\'s hooks record in a few ms)',
        )
    if facts.unquoted_project_dir(command):
        yield Check(
            "settings.hooks",
            "fail",
            f"hooks.{event}: $CLAUDE_PROJECT_DIR is not inside double quotes (a path with a"
            " space breaks the hook)",
            'write "$CLAUDE_PROJECT_DIR"/.claude/hooks/…',
        )
    if event in facts.BLOCKING_EVENTS and facts.SWALLOWED_EXIT.search(command):
        yield Check(
            "settings.hooks",
            "fail",
            f"hooks.{event}: the command ends in `|| true`/`exit 0`, which turns the blocking exit"
            " code 2 into success: the hook can never block",
            "remove the `|| true`",
        )


def _permission_problems(perms: Any) -> Iterator[Check]:
    if perms is None:
        return
    if not isinstance(perms, dict):
        yield Check("settings.permissions", "fail", "`permissions` is not an object", "fix it")
        return
    for key in ("allow", "ask", "deny"):
        rules = perms.get(key, [])
        if not isinstance(rules, list):
            yield Check(
                "settings.permissions", "fail", f"permissions.{key} is not a list", "fix it"
            )
            continue
        for rule in rules:
            if not isinstance(rule, str):
                yield Check(
                    "settings.permissions",
                    "fail",
                    f"permissions.{key}: rule {rule!r} is not a string",
                    "fix it",
                )
                continue
            problem = facts.rule_problem(rule)
            if problem is not None:
                message, remedy = problem
                yield Check(
                    "settings.permissions", "fail", f"permissions.{key}: {rule!r} {message}", remedy
                )
                continue
            yield from _tool_problem(
                "settings.permissions", f"permissions.{key}", facts.tool_of(rule)
            )


def _tool_problem(name: str, where: str, tool: str) -> Iterator[Check]:
    if tool in facts.REMOVED_TOOLS:
        yield Check(
            name, "fail", f"{where}: tool {tool!r} no longer exists", facts.REMOVED_TOOLS[tool]
        )
    elif tool in facts.RENAMED_TOOLS:
        yield Check(
            name,
            "warn",
            f"{where}: tool {tool!r} was renamed",
            f"use {facts.RENAMED_TOOLS[tool]!r}",
        )
    elif tool not in facts.TOOLS and not tool.startswith("mcp__"):
        yield Check(
            name,
            "warn",
            f"{where}: tool {tool!r} is unknown to this tac-bootstrap",
            "check the name against the Claude Code tools reference",
        )


def check_hooks(p: Project) -> Iterator[Check]:
    """Hook scripts named by settings and in .claude/hooks: present, executable, compiling."""
    scripts: set[str] = set()
    with contextlib.suppress(OSError, ValueError, AttributeError, TypeError):
        data = json.loads((p.root / SETTINGS).read_text(encoding="utf-8"))
        for entries in data.get("hooks", {}).values():
            for entry in entries:
                for hook in entry.get("hooks", []):
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
    missing, not_exec, broken = [], [], []
    for rel in sorted(scripts):
        path = p.root / rel
        if not path.is_file():
            missing.append(rel)
            continue
        want = p.generated(rel)
        if want is not None and want.executable and not path.stat().st_mode & stat.S_IXUSR:
            not_exec.append(rel)
        if rel.endswith(".py"):
            try:
                compile(path.read_bytes(), rel, "exec", dont_inherit=True)
            except SyntaxError as exc:
                broken.append(f"{rel}:{exc.lineno}: {exc.msg}")
            except ValueError as exc:  # NUL bytes
                broken.append(f"{rel}: {exc}")
    support_gone = SUPPORT_MODULE in missing
    if support_gone:
        missing.remove(SUPPORT_MODULE)
        yield _support_missing(p)
    if missing:
        restorable = [m for m in missing if p.manifest is not None and m in p.manifest.files]
        restorable = [m for m in restorable if _restored(p, m) is not None]
        yield Check(
            "hooks",
            "fail",
            f"hook script(s) missing: {_some(missing)}",
            "`tac-bootstrap doctor --fix` restores generated ones"
            if restorable
            else "create them or remove the hook from settings.json",
            fixable=bool(restorable),
            fix=(lambda: _restore(p, restorable)) if restorable else None,
        )
    if not_exec:
        yield Check(
            "hooks",
            "fail",
            f"hook script(s) not executable: {_some(not_exec)}",
            "`tac-bootstrap doctor --fix` (or chmod +x)",
            fixable=True,
            fix=lambda: _chmod_x(p.root, not_exec),
        )
    if broken:
        yield Check(
            "hooks",
            "fail",
            f"hook script(s) do not compile: {_some(broken, 2)}",
            "fix the syntax error (conflict markers from an upgrade? resolve them)",
        )
    if not (missing or not_exec or broken or support_gone):
        yield ok("hooks", f"{len(scripts)} hook scripts present and compiling")


# --- the hooks run: each layer hook of settings.json fed a harmless sample event -----------------

SUPPORT_MODULE = f"{HOOKS_DIR}/_hook_support.py"
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
    restorable = want is not None or (
        p.manifest is not None
        and SUPPORT_MODULE in p.manifest.files
        and _restored(p, SUPPORT_MODULE) is not None
    )
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
        done = _restore(p, [SUPPORT_MODULE])
        if done:
            return done
    want = p.generated(SUPPORT_MODULE)
    root = p.root.resolve()
    if want is None or path_problem(root, SUPPORT_MODULE) is not None:
        return []
    write_atomic(root, SUPPORT_MODULE, want.content, want.executable)
    return [f"restored {SUPPORT_MODULE}"]


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
    with contextlib.suppress(OSError, ValueError, AttributeError, TypeError):
        data = json.loads((root / SETTINGS).read_text(encoding="utf-8"))
        for event, entries in data.get("hooks", {}).items():
            for entry in entries:
                for hook in entry.get("hooks", []):
                    command = hook.get("command")
                    if hook.get("type", "command") != "command" or not isinstance(command, str):
                        continue
                    argv = _hook_argv(root, command) if event in SAMPLE_EVENTS else None
                    if argv is not None:
                        timeout = hook.get("timeout")
                        seconds = timeout if isinstance(timeout, int | float) else 60
                        limit = min(float(seconds), HOOK_RUN_TIMEOUT)
                        found.append((event, command, argv, limit))
    return found


def _run_hook(
    root: Path, event: str, argv: list[str], fields: dict[str, Any], timeout: float, db: Path
) -> tuple[int | None, str]:
    """Exit code (None: it did not finish) and first stderr line of one hook command run as
    Claude Code runs it, its run log in ``db`` and no bytecode written into the project."""
    import subprocess

    payload = {
        "session_id": "tac-bootstrap-doctor",
        "transcript_path": "",
        "cwd": str(root),
        "hook_event_name": event,
        "permission_mode": "default",
        **fields,
    }
    env = {k: v for k, v in os.environ.items() if k != "ADW_AGENT_ID"}
    # The pycache prefix makes Python ignore the project's __pycache__ folders: compiled files
    # shipped beside the sources would run instead of the sources doctor compared.
    env.update(
        CLAUDE_PROJECT_DIR=str(root),
        TAC_DB_PATH=str(db),
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONPYCACHEPREFIX=str(db.parent / "pycache"),
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
            if child.suffix not in (".py", ".sh") and child.name != "__pycache__":
                continue
            if child.name == "__pycache__":
                continue  # run with PYTHONDONTWRITEBYTECODE and -S; sources are what count
            wanted = p.generated(rel)
            if wanted is None:
                return f"{rel} is not a file tac-bootstrap generates"
            try:
                if child.is_symlink() or child.read_bytes() != wanted.content:
                    return f"{rel} differs from what tac-bootstrap generates"
            except OSError as exc:
                return f"{rel} cannot be read ({exc.strerror})"
    return None


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
    failures: list[str] = []
    warnings: list[str] = []
    with tempfile.TemporaryDirectory(prefix="tac-doctor-hooks-") as tmp:
        db = Path(tmp) / "doctor.db"
        for event, command, argv, timeout in hooks:
            name = LAUNCHED_HOOK.findall(command) or HOOK_SCRIPT.findall(command) or [event]
            label = f"{event} ({name[0]})"
            code, err = _run_hook(p.root, event, argv, SAMPLE_EVENTS[event], timeout, db)
            said = f": {err}" if err else ""
            if code is None:
                failures.append(f"{label} {err}")
                continue
            if code != 0:
                failures.append(f"{label} exits {code} on a harmless event{said}")
                continue
            if err:
                warnings.append(f"{label}{said}")
            if event == "PreToolUse" and facts.is_guard_command(command):
                probe = {"tool_name": "Bash", "tool_input": {"command": GUARD_PROBE}}
                code, err = _run_hook(p.root, event, argv, probe, timeout, db)
                if code != 2:
                    failures.append(f"the guard lets `{GUARD_PROBE}` through (exit {code})")
    if failures:
        yield Check(
            "hooks.run",
            "fail",
            f"hook(s) do not work: {_some(failures, 2)}",
            "run `tac-bootstrap doctor --fix`; if it stays, see the message (python3 3.11+ or uv"
            " on PATH? a user edit of .claude/hooks?)",
        )
    elif warnings:
        yield Check(
            "hooks.run",
            "warn",
            f"hook(s) run but complain: {_some(warnings, 2)}",
            "see the message (the run log: config.yml database.path, adws/adw_modules)",
        )
    else:
        yield ok("hooks.run", f"{len(hooks)} hooks run; the guard allows ls, blocks {GUARD_PROBE}")


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


def _frontmatter(text: str) -> tuple[dict[str, Any] | None, str, str | None]:
    """(frontmatter mapping or None when absent, body, error)."""
    if not text.startswith("---\n"):
        return None, text, None
    end = text.find("\n---", 3)
    if end == -1:
        return None, text, "frontmatter not closed by a --- line"
    raw, body = text[4:end], text[end + 4 :].lstrip("\n")
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        return None, body, f"frontmatter is not valid YAML ({str(exc).splitlines()[0]})"
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return None, body, "frontmatter is not a mapping of keys"
    return data, body, None


def check_commands_and_agents(p: Project) -> Iterator[Check]:
    """Slash commands and sub-agents: frontmatter, tool names, no positional $1."""
    for kind, folder in (("commands", ".claude/commands"), ("agents", ".claude/agents")):
        base = p.root / folder
        files = sorted(base.rglob("*.md")) if base.is_dir() else []
        problems: list[Check] = []
        for file in files:
            rel = file.relative_to(p.root).as_posix()
            try:
                text = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                problems.append(Check(kind, "fail", f"{rel}: unreadable ({exc})", "fix the file"))
                continue
            problems.extend(_markdown_problems(kind, rel, text))
        if not problems:
            yield ok(kind, f"{len(files)} {kind} valid")
        yield from problems


def _markdown_problems(kind: str, rel: str, text: str) -> Iterator[Check]:
    data, body, error = _frontmatter(text)
    if error is not None:
        yield Check(kind, "fail", f"{rel}: {error}", "fix the --- frontmatter --- block")
        return
    known = facts.COMMAND_KEYS if kind == "commands" else facts.AGENT_KEYS
    data = data or {}
    unknown = sorted(set(data) - known)
    if unknown:
        yield Check(
            kind,
            "warn",
            f"{rel}: unknown frontmatter key(s) {', '.join(unknown)}",
            f"known keys: {', '.join(sorted(known))}",
        )
    tools_key = "allowed-tools" if kind == "commands" else "tools"
    tools = data.get(tools_key)
    if tools is not None:
        names = facts.split_tools(tools) if isinstance(tools, str) else [str(t) for t in tools]
        for tool in names:
            yield from _tool_problem(kind, f"{rel}: {tools_key}", tool)
    if kind == "commands":
        if facts.POSITIONAL_ARGUMENT.search(body):
            yield Check(
                kind,
                "fail",
                f"{rel}: uses a positional argument like $1 (0-based now: $0 is the first)",
                "use $ARGUMENTS for the whole argument string",
            )
        return
    name, description = data.get("name"), data.get("description")
    if not isinstance(name, str) or not facts.AGENT_NAME.match(name):
        yield Check(
            kind, "fail", f"{rel}: name {name!r} missing or invalid", "lower-case letters and -"
        )
    if not isinstance(description, str) or not description.strip():
        yield Check(kind, "fail", f"{rel}: description missing", "say when to use the agent")
    model = data.get("model")
    if model is not None and model not in facts.AGENT_MODELS:
        yield Check(
            kind,
            "warn",
            f"{rel}: model {model!r} is not one of {', '.join(sorted(facts.AGENT_MODELS))}",
            "use an alias or inherit",
        )


def check_database(p: Project) -> Iterator[Check]:
    """The project database opens, passes ``integrity_check`` and has the current schema."""
    path = project_db_path(p.root, p.config)
    status = inspect_db(path)
    shown = _shown(p.root, path)
    if not status.exists:
        yield ok("database", f"{shown} not created yet (created on first use)")
    elif status.error is not None:
        yield Check(
            "database",
            "fail",
            f"{shown} does not open: {status.error}",
            "move the file aside; the layer creates a new one",
        )
    elif status.integrity != "ok":
        yield Check(
            "database",
            "fail",
            f"{shown} integrity_check: {status.integrity}",
            "restore it from a backup or move it aside (the layer creates a new one)",
        )
    elif status.newer:
        yield Check(
            "database",
            "fail",
            f"{shown} schema v{status.version} is newer than this tac-bootstrap knows",
            "upgrade tac-bootstrap",
        )
    elif status.outdated:
        yield Check(
            "database",
            "fail",
            f"{shown} schema v{status.version} is out of date",
            "`tac-bootstrap doctor --fix` (or `upgrade`) backs it up and migrates it",
            fixable=True,
            fix=lambda: _migrate(path),
        )
    else:
        yield ok("database", f"{shown} healthy (schema v{status.version})")


def _migrate(path: Path) -> list[str]:
    migration = migrate_db(path)
    if migration is None:
        return []
    return [
        f"migrated {path.name} from schema v{migration.from_version} to v{migration.to_version}"
        f" (backup {migration.backup.name if migration.backup else '-'})"
    ]


def _shown(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def check_tools(p: Project) -> Iterator[Check]:
    """``uv`` (hooks and workflows run through it) and the agent CLI on PATH."""
    if shutil.which("uv") is None:
        yield Check(
            "tools.uv",
            "fail",
            "uv not found on PATH: the workflows run through it (and the hooks, when python3"
            " >= 3.11 is missing)",
            "install uv: https://docs.astral.sh/uv/ (or python3 -m pip install uv)",
        )
    else:
        yield ok("tools.uv", "uv found")
    explicit = os.environ.get("CLAUDE_CODE_PATH")
    cli = explicit or (p.config.agent.cli if p.config is not None else "claude")
    found = (
        Path(explicit).is_file() and os.access(explicit, os.X_OK)
        if explicit
        else shutil.which(cli) is not None
    )
    if found:
        yield ok("tools.agent", f"agent CLI {cli} found")
    else:
        yield Check(
            "tools.agent",
            "warn",
            f"agent CLI {cli!r} not found"
            + (" (CLAUDE_CODE_PATH)" if explicit else " on PATH")
            + ": the ADW workflows cannot run",
            "install Claude Code (npm install -g @anthropic-ai/claude-code) or set"
            " CLAUDE_CODE_PATH",
        )


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
    block_missing = lines is None or _current(p.root, ".gitignore", "block") is None
    restorable = (
        block_missing
        and p.manifest is not None
        and ".gitignore" in p.manifest.files
        and _restored(p, ".gitignore") is not None
    )
    yield Check(
        "gitignore",
        "fail",
        f".gitignore does not ignore {', '.join(uncovered)} (run logs and the database would be"
        " committed)",
        "`tac-bootstrap doctor --fix` restores the managed block"
        if restorable
        else f"add {', '.join('/' + u for u in uncovered)} to .gitignore",
        fixable=restorable,
        fix=(lambda: _restore(p, [".gitignore"])) if restorable else None,
    )


def check_leftovers(p: Project) -> Iterator[Check]:
    """Staging folders and ``*.tac-tmp`` files that a killed tac-bootstrap run left behind."""
    from tac_bootstrap_cli.apply import find_leftovers, sweep_leftovers

    paths = set(p.manifest.files) if p.manifest is not None else set()
    paths |= set(p.rendered or {})
    found = find_leftovers(p.root, sorted(paths))
    if not found:
        yield ok("leftovers", "no staging folder or temporary file left by a killed run")
        return
    shown = [_shown(p.root, path) for path in found]
    yield Check(
        "leftovers",
        "warn",
        f"{len(found)} left by a killed run: {_some(shown)}",
        "`tac-bootstrap doctor --fix` removes them (so does the next writing command)",
        fixable=True,
        fix=lambda: [f"removed {_shown(p.root, path)}" for path in sweep_leftovers(p.root, paths)],
    )


CHECKS = (
    check_config,
    check_templates,
    check_manifest,
    check_files,
    check_conflicts,
    check_settings,
    check_hooks,
    check_hook_runs,
    check_commands_and_agents,
    check_database,
    check_tools,
    check_gitignore,
    check_leftovers,
)


def diagnose(root: Path, *, run_hooks: bool = False) -> list[Check]:
    """Every check's findings for the project at ``root``; ``run_hooks`` also runs hook code
    that is not what tac-bootstrap generates (the project's own code: only when trusted)."""
    project = load_project(root)
    project.run_any_hooks = run_hooks
    return [c for check in CHECKS for c in check(project)]


@dataclass
class DoctorReport:
    """The findings (after repairs, with ``--fix``) and what the repairs changed."""

    root: Path
    checks: list[Check]
    fixed: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        """True when no check fails (warnings allowed)."""
        return all(c.status != "fail" for c in self.checks)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return {
            "project": str(self.root),
            "healthy": self.healthy,
            "checks": [c.as_dict() for c in self.checks],
            "fixed": list(self.fixed),
        }


def run_doctor(
    path: Path | None = None, *, fix: bool = False, run_hooks: bool = False
) -> DoctorReport:
    """Check the project at ``path``; with ``fix``, repair what can be repaired, then check again;
    with ``run_hooks``, also run hook code that is not what tac-bootstrap generates."""
    root = Path(path if path is not None else ".").absolute()
    if not root.is_dir():
        raise UsageError(f"{root} is not a folder")
    checks = diagnose(root, run_hooks=run_hooks)
    fixed: list[str] = []
    if fix:
        for check in checks:
            if check.status != "ok" and check.fix is not None:
                try:
                    done = check.fix()
                except (OSError, TacError) as exc:
                    done = [f"could not repair {check.name}: {exc}"]
                fixed.extend(d for d in done if d not in fixed)
        if fixed:
            checks = diagnose(root, run_hooks=run_hooks)
    return DoctorReport(root, checks, fixed)
