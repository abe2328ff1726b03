"""The one YAML reader of tac-bootstrap: ``config.yml``, ``tac-template.yml`` and model specs.

Every file a user or a team hands us goes through here, so every problem reads the same,
``PATH:line:col: message`` (a ``YamlError``, exit 2), and the same limits hold for all of them:

- text YAML does not allow (NUL bytes, control characters) is refused at its position;
- the document is composed into nodes first (each keeps its line and column); nesting deeper than
  ``MAX_DEPTH`` and aliases that would expand to more than ``MAX_ALIAS_EXPANSION`` values ("billion
  laughs") are refused before anything is constructed, so a few lines cannot exhaust memory or
  the stack;
- a key given twice in one mapping is an error (YAML would silently keep the last value);
- typed scalars that Python's converters refuse (``2024-02-30``, a 5000-digit integer) are errors
  at their node, never bare exceptions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from tac_bootstrap_cli.errors import ConfigError
from tac_bootstrap_cli.errors import YamlError as YamlError  # what its readers raise

# A model spec is about 6 levels deep plus a JSON default's own nesting (at most 32), config.yml
# about 4 plus an answer's: deeper input is refused before anything recurses into it.
MAX_DEPTH = 64
# Aliases may repeat parts of a file, but not blow it up: the values they add beyond the text
# itself are limited.
MAX_ALIAS_EXPANSION = 100_000


# --- loaders ------------------------------------------------------------------------------------


class BadValue(yaml.constructor.ConstructorError):
    """A scalar that YAML types (implicitly or by a tag) whose text is not a valid value of the type."""


def _short(text: str, limit: int = 40) -> str:
    """``text`` cut to ``limit`` characters (a 5000-digit number is not repeated in a message)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


_SURROGATE = re.compile(r"[\uD800-\uDFFF]")


def _checked(construct: Callable[[Any, Node], Any], what: str) -> Callable[[Any, Node], Any]:
    """``construct`` with the errors of Python's converters turned into ``BadValue`` at the node.

    PyYAML lets them escape as they are: ``2024-02-30`` fails inside ``datetime.date`` with a bare
    ValueError, a 5000-digit integer inside ``int()``, ``!!bool maybe`` with a KeyError.
    """

    def checked(loader: Any, node: Node) -> Any:
        try:
            value = construct(loader, node)
        except yaml.MarkedYAMLError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
            message = _bad_value_message(node, what, exc)
            raise BadValue(None, None, message, node.start_mark) from None
        if isinstance(value, str) and _SURROGATE.search(value):
            # The pure-Python parser accepts "\ud800"; such text cannot be written as UTF-8.
            message = f"{_short(repr(value))} contains a lone surrogate (not a character)"
            raise BadValue(None, None, message, node.start_mark)
        return value

    return checked


def _bad_value_message(node: Node, what: str, exc: Exception) -> str:
    text = str(node.value)
    if what == "integer" and "digits" in str(exc):
        return f"an integer of {len(text)} digits is far too large (quote it if it is text)"
    reason = str(exc) if what == "date or time" and len(str(exc)) <= 40 else ""
    detail = f" ({reason})" if reason else ""
    return f"{_short(text)!r} is not a valid {what}{detail}; quote it if it is text"


def checked_loader(base: type[Any], *, timestamps: bool = True) -> type[Any]:
    """``base`` (a safe loader) whose typed scalars fail as marked YAML errors, never bare ones;
    without ``timestamps`` a date stays the text the user typed (no setting is a date)."""
    loader: type[Any] = type(f"_Checked{base.__name__}", (base,), {})
    for tag, what in (
        ("str", "string"),
        ("timestamp", "date or time"),
        ("int", "integer"),
        ("float", "number"),
        ("bool", "boolean (true or false)"),
    ):
        full = f"tag:yaml.org,2002:{tag}"
        loader.add_constructor(full, _checked(base.yaml_constructors[full], what))
    if not timestamps:
        loader.yaml_implicit_resolvers = {
            first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
            for first, resolvers in base.yaml_implicit_resolvers.items()
        }
    return loader


# libyaml's parser is ~10x faster and bounds nesting itself; both keep line and column on nodes.
_FAST = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
PY_LOADER = checked_loader(yaml.SafeLoader)
LOADER = checked_loader(_FAST)  # model specs: dates are values
PLAIN_LOADER = checked_loader(_FAST, timestamps=False)  # config.yml, tac-template.yml

# --- text ---------------------------------------------------------------------------------------

# Characters YAML does not allow anywhere in a document (the YAML reader refuses them with an
# offset, in bytes for libyaml, instead of a line and column).
_NOT_YAML = re.compile(r"[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\U00010000-\U0010FFFF]")
# YAML's line breaks (marks count lines the same way).
_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def text_position(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of ``text[index]``."""
    line, start = 1, 0
    for found in _BREAK.finditer(text, 0, index):
        line, start = line + 1, found.end()
    return line, index - start + 1


def _character_message(char: str, what: str) -> str:
    code = ord(char)
    shown = "a NUL byte" if code == 0 else f"the character U+{code:04X}"
    return (
        f"{what} contains {shown}, which YAML does not allow (is it a text file?); remove it, "
        "or write it as an escape such as \\x07 inside a double-quoted string"
    )


def _tab_hint(text: str, line: int, col: int) -> str:
    """A hint when the YAML error is at (or in the indentation of) a line with a tab."""
    lines = _BREAK.split(text)
    here = lines[line - 1] if 0 < line <= len(lines) else ""
    indent = here[: len(here) - len(here.lstrip(" \t"))]
    if "\t" in indent or here[col - 1 : col] == "\t":
        return " (YAML indentation must use spaces, not tabs)"
    return ""


def read_text(path: Path) -> str:
    """The UTF-8 text of ``path``; a ConfigError naming the file when it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(str(path), "is not UTF-8 text") from None
    except OSError as exc:  # a folder of that name, no permission, ...
        raise ConfigError(str(path), f"cannot be read: {exc.strerror or exc}") from None


# --- messages -----------------------------------------------------------------------------------


def too_deep_message(what: str = "the file", hint: str = "") -> str:
    """The one text for nesting beyond ``MAX_DEPTH``."""
    return f"{what} is nested more than {MAX_DEPTH} levels deep{hint}"


def yaml_message(exc: yaml.MarkedYAMLError, what: str = "the file", depth_hint: str = "") -> str:
    """PyYAML's (multi-line) report as one message."""
    if isinstance(exc, BadValue):
        return str(exc.problem)
    if "nesting depth" in str(exc.problem):  # libyaml's own limit (1000 levels)
        return too_deep_message(what, depth_hint)
    problem = " ".join(str(exc.problem or "").split()) or "not YAML"
    context = " ".join(str(exc.context or "").split())
    started = ""
    mark, context_mark = exc.problem_mark, exc.context_mark
    if context_mark is not None and (mark is None or context_mark.line != mark.line):
        started = f" started on line {context_mark.line + 1}"
    return f"invalid YAML: {problem} (YAML syntax error{' ' + context if context else ''}{started})"


# --- structure ----------------------------------------------------------------------------------


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def structure_problem(
    root: Node, what: str = "the file", depth_hint: str = ""
) -> tuple[Node, str] | None:
    """The node and message of what would make construction recurse or expand without bound.

    Aliases share nodes, so the tree is a graph: an alias inside its own anchor is a cycle, and
    nested aliases can stand for billions of values ("billion laughs") in a few lines. One
    iterative pass over the distinct nodes measures each node's height and expanded size.
    """
    size: dict[int, int] = {}
    height: dict[int, int] = {}
    on_path = {id(root)}
    stack: list[tuple[Node, Iterator[Node]]] = [(root, iter(_children(root)))]
    cap = 10 * MAX_ALIAS_EXPANSION + 10_000_000  # sizes are only compared with the limit
    while stack:
        node, pending = stack[-1]
        child = next(pending, None)
        if child is None:
            stack.pop()
            on_path.discard(id(node))
            kids = _children(node)
            size[id(node)] = min(cap, 1 + sum(size[id(k)] for k in kids))
            height[id(node)] = 1 + max((height[id(k)] for k in kids), default=0)
            continue
        if id(child) in on_path:
            return child, (
                "this value contains itself through an alias (a recursive anchor);"
                f" {what} cannot be recursive"
            )
        if id(child) in size:  # seen before: an alias
            if len(stack) + height[id(child)] > MAX_DEPTH:
                return child, too_deep_message(what, depth_hint) + " (counting what aliases repeat)"
            continue
        if len(stack) >= MAX_DEPTH:
            return child, too_deep_message(what, depth_hint)
        on_path.add(id(child))
        stack.append((child, iter(_children(child))))
    if size[id(root)] - len(size) > MAX_ALIAS_EXPANSION:
        # Point at the smallest value that is still too big: where the expansion happens.
        node = root
        while True:
            biggest = max(_children(node), key=lambda k: size[id(k)])
            if size[id(biggest)] <= MAX_ALIAS_EXPANSION:
                break
            node = biggest
        return node, (
            f"aliases expand this value to more than {MAX_ALIAS_EXPANSION} values (an alias "
            "bomb?); write the repeated parts out or use fewer aliases"
        )
    return None


def duplicate_key(root: Node | None) -> tuple[ScalarNode, str, int] | None:
    """The first key given twice in one mapping: (its second node, dotted path, first line)."""
    pending: list[tuple[Node, tuple[str, ...]]] = [(root, ())] if root is not None else []
    seen_nodes: set[int] = set()
    while pending:  # iterative: nesting depth is the user's, not ours
        node, path = pending.pop()
        if id(node) in seen_nodes:  # an alias repeats a node already checked
            continue
        seen_nodes.add(id(node))
        if isinstance(node, SequenceNode):
            pending.extend((item, (*path, str(i))) for i, item in enumerate(node.value))
        if not isinstance(node, MappingNode):
            continue
        first_line: dict[tuple[str, str], int] = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode):
                key = (key_node.tag, key_node.value)
                line = key_node.start_mark.line + 1
                if key in first_line:
                    return key_node, ".".join((*path, key_node.value)), first_line[key]
                first_line[key] = line
                pending.append((value_node, (*path, key_node.value)))
            else:
                pending.append((value_node, path))
    return None


def node_at(root: Node | None, loc: tuple[Any, ...]) -> Node | None:
    """The key node at ``loc`` (a Pydantic error location), or its closest existing parent."""
    found = root
    node = root
    for part in loc:
        if isinstance(node, SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = found = node.value[part]
            continue
        if not isinstance(node, MappingNode):
            break
        for key_node, value_node in node.value:
            if key_node.value == str(part):
                found, node = key_node, value_node
                break
        else:
            break
    return found


def position(node: Node | None) -> tuple[int, int]:
    """1-based (line, column) of ``node`` ((1, 1) without one)."""
    if node is None:
        return 1, 1
    return node.start_mark.line + 1, node.start_mark.column + 1


# --- reading ------------------------------------------------------------------------------------


def compose(
    text: str,
    source: str,
    *,
    loader: type[Any] = PLAIN_LOADER,
    what: str = "the file",
    depth_hint: str = "",
) -> tuple[Node | None, Any]:
    """(root node or None for an empty document, the loader that can construct it) for ``text``;
    a ``YamlError`` at its position for anything the module docstring lists."""
    bad = _NOT_YAML.search(text)
    if bad is not None:
        line, col = text_position(text, bad.start())
        raise YamlError(source, line, col, _character_message(bad.group(), what))
    reader = loader(text)
    try:
        root = reader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = yaml_message(exc, what, depth_hint) + _tab_hint(text, line, col)
        raise YamlError(source, line, col, message) from None
    except yaml.YAMLError as exc:  # reader errors carry an offset, not a mark (the scan above
        # finds the characters they are about first; this is the net)
        offset = min(int(getattr(exc, "position", 0) or 0), len(text))
        raise YamlError(source, *text_position(text, offset), f"invalid YAML: {exc}") from None
    except RecursionError:  # the pure-Python parser recurses once per level of nesting
        mark = reader.get_mark() if hasattr(reader, "get_mark") else None
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise YamlError(source, line, col, too_deep_message(what, depth_hint)) from None
    if root is not None:
        problem = structure_problem(root, what, depth_hint)
        if problem is not None:
            raise YamlError(source, *position(problem[0]), problem[1])
    return root, reader


def construct(reader: Any, node: Node, source: str) -> Any:
    """The Python value of ``node`` (as ``yaml.safe_load`` builds it); a ``YamlError`` at the
    value that cannot be built. Only for nodes ``compose`` accepted (bounded depth and size)."""
    try:
        return reader.construct_object(node, deep=True)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or node.start_mark
        raise YamlError(source, mark.line + 1, mark.column + 1, yaml_message(exc)) from None
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
        line, col = position(node)
        raise YamlError(
            source, line, col, f"cannot read this value: {_short(str(exc), 80)}"
        ) from None


def load(text: str, source: str, *, what: str = "the file") -> tuple[Any, Node | None]:
    """(value, root node) of a settings file: ``compose``, duplicate keys refused, then built.
    Dates stay text (``PLAIN_LOADER``)."""
    root, reader = compose(text, source, loader=PLAIN_LOADER, what=what)
    if root is None:
        return None, None
    duplicate = duplicate_key(root)
    if duplicate is not None:
        key_node, path, first = duplicate
        line, col = position(key_node)
        raise YamlError(
            source,
            line,
            col,
            f"duplicate key (first given on line {first}); keep only one",
            key=path,
        )
    return construct(reader, root, source), root


__all__ = [
    "LOADER",
    "MAX_ALIAS_EXPANSION",
    "MAX_DEPTH",
    "PLAIN_LOADER",
    "PY_LOADER",
    "BadValue",
    "YamlError",
    "checked_loader",
    "compose",
    "construct",
    "duplicate_key",
    "load",
    "node_at",
    "position",
    "read_text",
    "structure_problem",
    "text_position",
    "too_deep_message",
    "yaml_message",
]
