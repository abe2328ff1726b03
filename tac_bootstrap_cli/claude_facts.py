"""Claude Code's format facts, kept importable here: they live in ``doctor.claude``.

The layer's own tests check the generated files against the same tables doctor checks projects
against, so this name stays for code outside doctor.
"""

from __future__ import annotations

from tac_bootstrap_cli.doctor.claude import (
    AGENT_KEYS,
    AGENT_MODELS,
    AGENT_NAME,
    BLOCKING_EVENTS,
    COMMAND_KEYS,
    GUARD_SCRIPT,
    HOOK_EVENTS,
    LAUNCHER,
    MILLISECOND_TIMEOUT,
    POSITIONAL_ARGUMENT,
    PREFIX_SUFFIX,
    PROJECT_DIR_VAR,
    REMOVED_TOOLS,
    RENAMED_TOOLS,
    RULE,
    SETTINGS,
    SWALLOWED_EXIT,
    TOOL_NAME,
    TOOLS,
    is_guard_command,
    is_layer_hook,
    rule_problem,
    split_tools,
    tool_of,
    unquoted_project_dir,
)

__all__ = [
    "AGENT_KEYS",
    "AGENT_MODELS",
    "AGENT_NAME",
    "BLOCKING_EVENTS",
    "COMMAND_KEYS",
    "GUARD_SCRIPT",
    "HOOK_EVENTS",
    "LAUNCHER",
    "MILLISECOND_TIMEOUT",
    "POSITIONAL_ARGUMENT",
    "PREFIX_SUFFIX",
    "PROJECT_DIR_VAR",
    "REMOVED_TOOLS",
    "RENAMED_TOOLS",
    "RULE",
    "SETTINGS",
    "SWALLOWED_EXIT",
    "TOOLS",
    "TOOL_NAME",
    "is_guard_command",
    "is_layer_hook",
    "rule_problem",
    "split_tools",
    "tool_of",
    "unquoted_project_dir",
]
