"""Jinja2 filters that escape a user's value for the format it lands in."""

from __future__ import annotations

import json
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


FILTERS = {
    "tojson": to_json,
    "yaml": to_yaml_scalar,
    "shquote": shell_quote,
    "pyrepr": python_literal,
}
