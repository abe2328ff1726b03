"""Jinja2 filters that escape a user's value for the format it lands in."""

from __future__ import annotations

import json
import re
import shlex
from typing import Any


def to_json(value: Any) -> str:
    """A JSON literal (strings quoted and escaped); non-ASCII kept readable."""
    return json.dumps(value, ensure_ascii=False)


def to_yaml_scalar(value: Any) -> str:
    """A YAML scalar: JSON's double-quoted strings are valid YAML and escape everything YAML would trip on."""
    return json.dumps(value, ensure_ascii=False)


def shell_quote(value: Any) -> str:
    """One shell word, quoted so that ``$``, spaces and quotes reach the command unchanged."""
    return shlex.quote(str(value))


def python_literal(value: Any) -> str:
    """A Python literal (``repr``), e.g. a string with quotes and backslashes escaped."""
    return repr(value)


_MODEL_ALIASES = frozenset({"sonnet", "opus", "haiku", "inherit"})


def agent_model(value: Any) -> str:
    """A sub-agent's ``model:`` value: an alias or Claude model id, else ``inherit`` with a comment.

    Claude Code rejects any other value, so a config.yml model such as ``gpt-4o`` must not reach
    the frontmatter; the comment says why it was replaced (never silently).
    """
    model = str(value)
    is_id = model.startswith("claude-") or "anthropic.claude-" in model
    if (model in _MODEL_ALIASES or is_id) and model.strip() == model and " " not in model:
        return to_yaml_scalar(model)
    return (
        f"inherit  # config.yml agent.model {to_json(model)} is not a Claude Code model alias"
        " (sonnet, opus, haiku) or id (claude-...); the ADW workflows still pass it to"
        " `claude --model`"
    )


# What Claude Code replaces or runs in a slash command's body: $ARGUMENTS, $0..$9, !`command`.
_COMMAND_SYNTAX = re.compile(r"(\$)(?=ARGUMENTS|\d)|(!)(?=`)")
_WORD_JOINER = "\u2060"  # invisible, and it breaks the token


def command_text(value: Any) -> str:
    """Text for a slash command's body that Claude Code leaves as it is (a project named
    ``$1 shop`` must not become the command's first argument, nor ``!`x``` run ``x``)."""
    return _COMMAND_SYNTAX.sub(lambda m: m.group(0) + _WORD_JOINER, str(value))


FILTERS = {
    "tojson": to_json,
    "yaml": to_yaml_scalar,
    "shquote": shell_quote,
    "pyrepr": python_literal,
    "agent_model": agent_model,
    "command_text": command_text,
}
