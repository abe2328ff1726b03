"""Claude Code's format rules, checked: ``.claude/settings.json`` (hook events, timeouts, async,
quoting, permission rules, tool names) and the frontmatter of slash commands and sub-agents."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import yaml

from tac_bootstrap_cli.doctor import claude as facts
from tac_bootstrap_cli.doctor.claude import SETTINGS
from tac_bootstrap_cli.doctor.project import Project, restore, restored
from tac_bootstrap_cli.doctor.report import Check, ok


def check_settings(p: Project) -> Iterator[Check]:
    """``.claude/settings.json``: valid JSON, and none of the known mistakes."""
    path = p.root / SETTINGS
    if not path.is_file():
        restorable = not path.is_symlink() and restored(p, SETTINGS) is not None
        yield Check(
            "settings",
            "fail",
            f"{SETTINGS} missing: no hook and no permission rule applies",
            "`tac-bootstrap doctor --fix` writes it from the templates"
            if restorable
            else "run `tac-bootstrap render`",
            fixable=restorable,
            fix=(lambda: restore(p, [SETTINGS])) if restorable else None,
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
    for event, entries in hooks.items():
        if event not in facts.HOOK_EVENTS:
            yield _event_name_problem(event)
        if not isinstance(entries, list):
            yield Check("settings.hooks", "fail", f"hooks.{event} is not a list", "wrap it in [ ]")
            continue
        for entry in entries:
            if isinstance(entry, dict):
                yield from _entry_problems(event, entry)
    yield from _permission_problems(data.get("permissions"))


def _event_name_problem(event: str) -> Check:
    """What is wrong with ``event``, a name that is not one of Claude Code's hook events."""
    right = {e.lower(): e for e in facts.HOOK_EVENTS}.get(event.lower())
    if right is not None:
        return Check(
            "settings.hooks",
            "fail",
            f"hook event {event!r} is miscased: Claude Code never runs it",
            f"rename it to {right!r}",
        )
    if event[:1].isupper() and event.isalnum():
        return Check(
            "settings.hooks",
            "warn",
            f"hook event {event!r} is unknown to this tac-bootstrap",
            "check the name against the Claude Code hooks reference",
        )
    return Check(
        "settings.hooks",
        "fail",
        f"hook event {event!r} is not a hook event",
        "use a PascalCase event such as PreToolUse",
    )


def _entry_problems(event: str, entry: dict[str, Any]) -> Iterator[Check]:
    """Problems of one matcher entry of ``hooks.<event>``: its matcher, then each hook."""
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
