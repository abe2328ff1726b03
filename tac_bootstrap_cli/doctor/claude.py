"""What tac-bootstrap knows about Claude Code's file formats, in one place.

Sources and dates are in specs/agentic-layer.md ("Claude Code facts checked") and
specs/living-projects.md. ``doctor`` checks projects against these tables; when Claude Code
changes, this module (and the templates) change with it.
"""

from __future__ import annotations

import re

# Where Claude Code reads a project's shared settings (hooks, permission rules).
SETTINGS = ".claude/settings.json"

# Hook events of .claude/settings.json (code.claude.com/docs/en/hooks). Claude Code keeps adding
# events, so an unknown PascalCase name is a warning, while a known name in the wrong case is an
# error: Claude Code matches event names exactly and would silently never run the hook.
HOOK_EVENTS = frozenset(
    {
        "PreToolUse",
        "PermissionRequest",
        "PostToolUse",
        "PostToolUseFailure",
        "Notification",
        "UserPromptSubmit",
        "Stop",
        "StopFailure",
        "SubagentStart",
        "SubagentStop",
        "PreCompact",
        "PostCompact",
        "SessionStart",
        "SessionEnd",
        "TaskCreated",
        "TaskCompleted",
        "TeammateIdle",
        "ConfigChange",
        "InstructionsLoaded",
        "CwdChanged",
        "FileChanged",
        "WorktreeCreate",
        "WorktreeRemove",
        "Elicitation",
        "ElicitationResult",
    }
)
# Events where exit code 2 blocks (a tool call, a prompt, or Claude stopping): a command that
# swallows the exit code (`|| true`) can never block.
BLOCKING_EVENTS = frozenset(
    {"PreToolUse", "PermissionRequest", "UserPromptSubmit", "Stop", "SubagentStop"}
)
# The generated PreToolUse guard: it must run in the foreground to block anything. Projects
# generated before the launcher name the script itself; newer ones `run.sh pre_tool_use`.
GUARD_SCRIPT = ".claude/hooks/pre_tool_use.py"
LAUNCHER = ".claude/hooks/run.sh"
_GUARD_COMMAND = re.compile(r"\.claude/hooks/(?:pre_tool_use\.py|run\.sh[\"']?\s+pre_tool_use\b)")
# A command running one of the layer's own hooks (the launcher, or a script in .claude/hooks).
_LAYER_HOOK = re.compile(r"\.claude/hooks/(?:run\.sh|[a-z_]+\.py)\b")
# Hook timeouts are seconds (default 600). Anything this large was meant as milliseconds.
MILLISECOND_TIMEOUT = 1000

# Tool names as of the tools reference; rules may also name MCP tools (mcp__server__tool).
TOOLS = frozenset(
    {
        "Agent",
        "AskUserQuestion",
        "Bash",
        "BashOutput",
        "Edit",
        "EnterPlanMode",
        "ExitPlanMode",
        "Glob",
        "Grep",
        "KillShell",
        "LSP",
        "NotebookEdit",
        "Read",
        "Skill",
        "TodoWrite",
        "WebFetch",
        "WebSearch",
        "Write",
    }
)
# Gone from Claude Code: a rule or allowed-tools entry naming them does nothing.
REMOVED_TOOLS: dict[str, str] = {
    "SlashCommand": "remove it: SlashCommand is gone (commands and skills run through Skill)",
    "MultiEdit": "use Edit",
    "LS": "use Glob (or Bash(ls:*))",
    "NotebookRead": "use Read",
    "TodoRead": "remove it: TodoRead is gone",
}
# Renamed: the old name may still be accepted as an alias, but should be updated.
RENAMED_TOOLS: dict[str, str] = {"Task": "Agent"}

COMMAND_KEYS = frozenset(
    {"description", "argument-hint", "allowed-tools", "model", "disable-model-invocation"}
)
AGENT_KEYS = frozenset(
    {"name", "description", "tools", "model", "color", "permissionMode", "skills", "hooks"}
)
AGENT_MODELS = frozenset({"sonnet", "opus", "haiku", "inherit"})
AGENT_NAME = re.compile(r"^[a-z][a-z0-9-]*$")
# Positional arguments in commands are 0-based now ($0 is the first); $ARGUMENTS is the string.
POSITIONAL_ARGUMENT = re.compile(r"\$\d")
PROJECT_DIR_VAR = re.compile(r"\$(?:CLAUDE_PROJECT_DIR\b|\{CLAUDE_PROJECT_DIR\})")
SWALLOWED_EXIT = re.compile(r"\|\|\s*(?:true|:|exit\s+0)\b|;\s*exit\s+0\s*$")


# Permission rules are `Tool` or `Tool(specifier)` (code.claude.com/docs/en/permissions). In a Bash
# specifier a trailing `:*` is the (legacy) prefix form, `*` anywhere the wildcard form; a rule
# using both is reported by Claude Code as an error ("mixes * with the trailing :* prefix
# syntax"), and a settings file with an error is skipped whole: its hooks silently stop running.
RULE = re.compile(r"^(?P<tool>[^()]*)(?:\((?P<spec>.*)\))?$", re.S)
TOOL_NAME = re.compile(r"^(?:[A-Z][A-Za-z0-9]*|mcp__[\w-]+(?:__[\w*-]+)?)$")
PREFIX_SUFFIX = ":*"


def rule_problem(rule: str) -> tuple[str, str] | None:
    """What is wrong with a permission rule's syntax, as (problem, remedy), or None.

    Only mistakes that make the rule an error or a rule that can never match are reported; tool
    names this module does not know are left to ``tool_of`` callers (a warning there)."""
    match = RULE.match(rule)
    if match is None or rule.count("(") != rule.count(")"):
        return (
            "unbalanced parentheses",
            "write Tool or Tool(specifier), e.g. Bash(npm test:*)",
        )
    tool, spec = match.group("tool"), match.group("spec")
    known = {name.lower(): name for name in TOOLS}
    if tool.lower() in known and tool != known[tool.lower()]:
        return (
            f"tool {tool!r} is miscased (names are case-sensitive)",
            f"use {known[tool.lower()]!r}",
        )
    if not TOOL_NAME.match(tool):
        return (f"{tool!r} is not a tool name", "use a tool name such as Bash, Read or Edit")
    if spec is not None and spec.endswith(PREFIX_SUFFIX) and "*" in spec[: -len(PREFIX_SUFFIX)]:
        head = spec[: -len(PREFIX_SUFFIX)]
        prefix = head.replace("*", "").rstrip() or head
        wildcard = head if head.endswith("*") else f"{head} *"
        return (
            "mixes * with the trailing :* prefix syntax, so Claude Code reports an error and"
            " skips this settings file (its hooks too)",
            f"use the prefix form {tool}({prefix}:*) or the wildcard form {tool}({wildcard})",
        )
    return None


def is_guard_command(command: str) -> bool:
    """True when a hook command runs the generated PreToolUse guard (directly or via run.sh)."""
    return _GUARD_COMMAND.search(command) is not None


def is_layer_hook(command: str) -> bool:
    """True when a hook command runs one of the layer's own hooks in ``.claude/hooks``."""
    return _LAYER_HOOK.search(command) is not None


def tool_of(rule: str) -> str:
    """``Bash(npm test:*)`` -> ``Bash``."""
    return rule.split("(", 1)[0].strip()


def split_tools(value: str) -> list[str]:
    """Tool names in an ``allowed-tools``/``tools`` value (commas inside parentheses kept)."""
    return [tool_of(item) for item in re.split(r",\s*(?![^()]*\))", value) if item.strip()]


def unquoted_project_dir(command: str) -> bool:
    """True when ``$CLAUDE_PROJECT_DIR`` appears outside double quotes (a path with spaces then
    breaks the command; inside single quotes it is not expanded at all)."""
    quote = ""
    i = 0
    while i < len(command):
        ch = command[i]
        if ch == "\\" and quote != "'":
            i += 2
            continue
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        if ch == "$" and quote != '"' and PROJECT_DIR_VAR.match(command, i):
            return True
        i += 1
    return False
