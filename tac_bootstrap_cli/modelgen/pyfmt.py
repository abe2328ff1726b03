"""Python source text in ``ruff format`` style: literals, and bracketed expressions that fit 88 columns.

The generator does not run a formatter. It emits each bracketed expression on one line when it fits,
and otherwise one item per line with a trailing comma (a "magic trailing comma", which the formatter
keeps as is). Statements that cannot be laid out that way are kept on one line with ``# fmt: skip``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

LINE = 88
FMT_SKIP = "  # fmt: skip"

_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def py_str(text: str) -> str:
    """A string literal: double quotes unless single quotes need fewer escapes (as ruff prefers)."""
    quote = "'" if text.count('"') > text.count("'") else '"'
    if quote not in text and "\\" not in text and text.isprintable():
        return quote + text + quote  # the common case: nothing to escape
    out = [quote]
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ch == quote:
            out.append("\\" + ch)
        elif not ch.isprintable():
            code = ord(ch)
            if code <= 0xFF:
                out.append(f"\\x{code:02x}")
            elif code <= 0xFFFF:
                out.append(f"\\u{code:04x}")
            else:
                out.append(f"\\U{code:08x}")
        else:
            out.append(ch)
    out.append(quote)
    return "".join(out)


def py_float(value: float) -> str:
    """A float literal that reads back exactly (``repr``) in ruff format's spelling; finite only."""
    if not math.isfinite(value):
        raise ValueError(f"not a finite float: {value!r}")
    # repr writes ``1e+308``; ruff format drops the exponent's plus sign (and keeps ``1e-05``).
    return repr(float(value)).replace("e+", "e")


def py_number(value: int | float) -> str:
    """An int or float literal."""
    return py_float(value) if isinstance(value, float) else str(int(value))


@dataclass
class Group:
    """A bracketed, comma-separated expression: ``head item, item tail`` (e.g. ``f(`` ... ``)``)."""

    head: str
    items: list[Expr] = field(default_factory=list)
    tail: str = ")"
    one_tuple: bool = False  # a one-item tuple keeps its comma: ``(x,)``
    # A subscript ``x[i]`` must not get a trailing comma when split (``x[i,]`` is a tuple index).
    comma: bool = True


@dataclass
class Pre:
    """An expression with text before it: a keyword argument ``name=value`` or a dict item."""

    prefix: str
    expr: Expr


Expr = str | Group | Pre


def call(func: str, *args: Expr, **kwargs: Expr) -> Group:
    """``func(args..., key=value...)``."""
    items: list[Expr] = list(args)
    items.extend(Pre(f"{key}=", value) for key, value in kwargs.items())
    return Group(func + "(", items, ")")


def flat(expr: Expr) -> str:
    """The one-line text of an expression."""
    if isinstance(expr, str):
        return expr
    if isinstance(expr, Pre):
        return expr.prefix + flat(expr.expr)
    inner = ", ".join(flat(item) for item in expr.items)
    if expr.one_tuple and len(expr.items) == 1:
        inner += ","
    return expr.head + inner + expr.tail


def layout(expr: Expr, indent: int, prefix: str = "", suffix: str = "") -> list[str]:
    """Lines of ``prefix + expr + suffix`` at ``indent``: flat if it fits, else exploded."""
    pad = " " * indent
    one = pad + prefix + flat(expr) + suffix
    if len(one) <= LINE:
        return [one]
    if isinstance(expr, Pre):
        return layout(expr.expr, indent, prefix + expr.prefix, suffix)
    if isinstance(expr, str) or not expr.items:
        return [one]
    lines = [pad + prefix + expr.head]
    for item in expr.items:
        lines.extend(layout(item, indent + 4, "", "," if expr.comma else ""))
    lines.append(pad + expr.tail + suffix)
    return lines


def statement(expr: Expr, indent: int, prefix: str = "", suffix: str = "") -> list[str]:
    """Like ``layout``, but a statement whose first line is still too long stays whole, unformatted."""
    lines = layout(expr, indent, prefix, suffix)
    if len(lines) > 1 and len(lines[0]) > LINE:
        return [" " * indent + prefix + flat(expr) + suffix + FMT_SKIP]
    return lines


def annotated(target: str, annotation: str, value: Expr | None, indent: int) -> list[str]:
    """``target: annotation = value`` laid out the way ruff format does for these shapes."""
    pad = " " * indent
    inner = " " * (indent + 4)
    head = f"{target}: {annotation}"
    if value is None:
        if len(pad + head) <= LINE:
            return [pad + head]
        if len(inner + annotation) <= LINE:
            return [f"{pad}{target}: (", inner + annotation, pad + ")"]
        return [pad + head + FMT_SKIP]
    text = flat(value)
    one = f"{pad}{head} = {text}"
    if len(one) <= LINE:
        return [one]
    # A call (or literal) is split at its brackets when its opening line fits; otherwise, like
    # any other value, it moves inside parentheses on a line of its own.
    if isinstance(value, Group) and len(f"{pad}{head} = {value.head}") <= LINE:
        return statement(value, indent, f"{head} = ")
    if len(f"{pad}{head} = (") <= LINE and len(inner + text) <= LINE:
        return [f"{pad}{head} = (", inner + text, pad + ")"]
    return [one + FMT_SKIP]


def simple(text: str, indent: int) -> list[str]:
    """A one-line statement, marked ``# fmt: skip`` when it is too long for the formatter to leave."""
    line = " " * indent + text
    return [line if len(line) <= LINE else line + FMT_SKIP]


def assign_string(target: str, text: str, indent: int) -> list[str]:
    """``target = "text"``, split into implicitly concatenated parts when too long (at spaces)."""
    pad = " " * indent
    literal = py_str(text)
    one = f"{pad}{target} = {literal}"
    if len(one) <= LINE:
        return [one]
    inner = " " * (indent + 4)
    if len(inner) + len(literal) <= LINE:
        return [f"{pad}{target} = (", inner + literal, pad + ")"]
    width = LINE - len(inner) - 3
    parts: list[str] = []
    current = ""
    size = 0  # len(py_str(current)) - 2, kept up to date word by word
    for word in text.split(" "):
        word_size = len(py_str(word)) - 2
        if current and size + 1 + word_size + 1 > width:
            parts.append(current + " ")
            current, size = word, word_size
        else:
            current, size = (
                (current + " " + word, size + 1 + word_size) if current else (word, word_size)
            )
    parts.append(current)
    return [f"{pad}{target} = (", *(inner + py_str(p) for p in parts), pad + ")"]


def py_literal(value: Any) -> Expr:
    """A JSON-like Python literal (None, bool, int, float, str, list, dict) as an expression."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int | float):
        return py_number(value)
    if isinstance(value, str):
        return py_str(value)
    if isinstance(value, list):
        return Group("[", [py_literal(v) for v in value], "]")
    if isinstance(value, dict):
        return Group("{", [Pre(f"{py_str(k)}: ", py_literal(v)) for k, v in value.items()], "}")
    raise TypeError(f"not a JSON-like value: {value!r}")


def docstring(text: str | None, fallback: str) -> str:
    """A one-line docstring body: whitespace collapsed, no quotes or backslashes to trip on."""
    printable = "".join(ch if ch.isprintable() else " " for ch in text or "")
    body = " ".join(printable.split()) or fallback
    body = body.replace("\\", "/").replace('"', "'")
    if body[-1] not in ".!?":
        body += "."
    return '"""' + body + '"""'


def comment(text: str) -> str:
    """One line of comment text (newlines and other control characters collapsed)."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
