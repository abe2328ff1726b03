"""``config.yml``'s text without loading PyYAML (~8 ms of every command that writes one).

``dump`` writes what PyYAML's ``safe_dump(data, sort_keys=False, allow_unicode=True,
default_flow_style=False)`` writes, byte for byte, for the data ``config.yml`` holds: nested
mappings of printable ASCII text on one line, numbers, booleans and nulls. For anything else
(lists, empty mappings, other characters, a line PyYAML would fold at 80 columns, a string whose
quoting depends on rules not written here) it returns None and the caller asks PyYAML.
``tests/engine/test_yamlwrite.py`` holds it to PyYAML as an oracle.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# PyYAML folds plain and quoted text at a space past column 80; a shorter line is never folded.
WIDTH = 80
INDENT = 2
# PyYAML writes a key in the explicit ``? key`` form when the key and its tag (``!!str``, counted
# though never written) reach 128 characters (Emitter.check_simple_key): from 123 characters on.
SIMPLE_KEY_LIMIT = 128 - len("!!str")

# Text a plain scalar would read back as something else under YAML 1.1 (PyYAML's implicit
# resolvers, yaml/resolver.py: bool, float, int, merge, null, timestamp, value): quoted.
_IMPLICIT = re.compile(
    r"""(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF
    |[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
    |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN)
    |[-+]?0b[0-1_]+
    |[-+]?0[0-7_]+
    |[-+]?(?:0|[1-9][0-9_]*)
    |[-+]?0x[0-9a-fA-F_]+
    |[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+
    |<<
    |~|null|Null|NULL
    |[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
    |[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?
     (?:[Tt]|[\ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?
     (?:[\ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?
    |=)""",
    re.VERBOSE,
)
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]+")
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Indicators that make PyYAML quote a block scalar (its Emitter.analyze_scalar): any of these
# first, a "- ", "? " or ": " start, ": " or " #" inside, a trailing ":", a document marker.
_FIRST = frozenset("#,[]{}&*!|>'\"%@`")
_BLOCKED = re.compile(r"^[-?:](?: |$)|: |:$| #|^---|^\.\.\.")


def _scalar(value: Any) -> str | None:
    """A scalar as PyYAML writes it in a block mapping, or None (not written here)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, str):
        return _text(value)
    return None


def _float(value: float) -> str:
    # PyYAML's SafeRepresenter.represent_float.
    if value != value:
        return ".nan"
    if value in (float("inf"), float("-inf")):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value).lower()
    if "." not in text and "e" in text:
        text = text.replace("e", ".0e", 1)
    return text


def _text(value: str) -> str | None:
    if value == "":
        return "''"
    if not _PRINTABLE_ASCII.fullmatch(value):
        return None  # line breaks, tabs, other characters: PyYAML's rules for them are its own
    plain = (
        value[0] not in _FIRST
        and value[0] != " "
        and value[-1] != " "
        and not _BLOCKED.search(value)
        and not _IMPLICIT.fullmatch(value)
    )
    if plain:
        return value
    return "'" + value.replace("'", "''") + "'"


def _simple_key(key: str) -> bool:
    """A key PyYAML writes as ``key:`` (a longer one gets the explicit ``? key`` form)."""
    return (
        len(key) < SIMPLE_KEY_LIMIT and bool(_KEY.fullmatch(key)) and not _IMPLICIT.fullmatch(key)
    )


def dump(data: Mapping[str, Any]) -> str | None:
    """``data`` as PyYAML's block style writes it, or None when it holds something ``dump``
    does not write (the caller then uses PyYAML)."""
    lines: list[str] = []
    return "".join(line + "\n" for line in lines) if _mapping(data, 0, lines) else None


def _mapping(data: Mapping[str, Any], depth: int, lines: list[str]) -> bool:
    if not data:
        return False  # PyYAML writes {} inline
    pad = " " * (INDENT * depth)
    for key, value in data.items():
        if not isinstance(key, str) or not _simple_key(key):
            return False
        if isinstance(value, Mapping):
            lines.append(f"{pad}{key}:")
            if not _mapping(value, depth + 1, lines):
                return False
            continue
        scalar = _scalar(value)
        line = f"{pad}{key}: {scalar}"
        if scalar is None or len(line) > WIDTH:
            return False
        lines.append(line)
    return True
