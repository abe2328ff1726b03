"""A spec's YAML nodes read with their positions: values, shapes, and problems at ``SPEC:line:col``.

The spec is composed by ``yamlread`` (the one hardened YAML reader: character, depth and alias
limits), so every node keeps its line and column. Reading a node never raises: a wrong shape is a
problem at that node and the walk goes on, so one run reports every problem of a spec at once.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field
from typing import Any, NoReturn

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from tac_bootstrap_cli import yamlread
from tac_bootstrap_cli.errors import SpecError, one_line
from tac_bootstrap_cli.modelgen.spec import INT64_MAX, INT64_MIN

WHAT = "the spec"
# A spec is about 6 levels deep (spec, entities, entity, fields, field, default) plus a JSON
# default's own nesting (at most 32): yamlread.MAX_DEPTH leaves room for both.
DEPTH_HINT = "; a model spec needs about 6 (plus a JSON default's own nesting)"


def too_deep_message() -> str:
    """The message for a spec nested deeper than ``yamlread.MAX_DEPTH``."""
    return yamlread.too_deep_message(WHAT, DEPTH_HINT)


def line_of(node: Node) -> int:
    """The 1-based line of ``node`` (messages say "first at line N")."""
    return yamlread.position(node)[0]


# --- problems -----------------------------------------------------------------------------------


@dataclass(order=True)
class _Problem:
    line: int
    col: int
    seq: int
    message: str = field(compare=False)


class Problems:
    """Collects problems with their position; ``fail`` turns them into one SpecError, sorted."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._items: list[_Problem] = []

    def at(self, line: int, col: int, message: str) -> None:
        """A problem at ``line``:``col`` (1-based)."""
        self._items.append(_Problem(line, col, len(self._items), one_line(message)))

    def add(self, node: Node, message: str) -> None:
        """A problem at where ``node`` starts."""
        self.at(*yamlread.position(node), message)

    def __bool__(self) -> bool:
        """True once any problem was reported."""
        return bool(self._items)

    def fail(self) -> NoReturn:
        """Raise every problem so far as one ``SpecError``, in the order of the text."""
        raise SpecError(
            [f"{self.source}:{p.line}:{p.col}: {p.message}" for p in sorted(self._items)]
        )


# --- message pieces -------------------------------------------------------------------------------


def short(text: str, limit: int = 40) -> str:
    """``text`` cut to ``limit`` characters (a 5000-digit number is not repeated in a message)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def suggest(word: str, options: tuple[str, ...] | list[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``options``, or nothing."""
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def exponent_hint(value: Any) -> str:
    """YAML 1.1 reads ``1e300`` (no dot, no exponent sign) as text: say how to write the number."""
    if not isinstance(value, str) or not re.fullmatch(r"[-+]?[0-9_.]+[eE][-+]?[0-9_]+", value):
        return ""
    try:
        number = float(value.replace("_", ""))
    except ValueError:
        return ""
    if not math.isfinite(number):
        return ""
    mantissa, _, exponent = repr(number).partition("e")
    mantissa = mantissa if "." in mantissa else mantissa + ".0"
    written = f"{mantissa}e{exponent}" if exponent else mantissa
    return f" (YAML reads {value!r} as text; write {written})"


# --- reading nodes ------------------------------------------------------------------------------

NameLists = list[tuple[Node, list[tuple[Node, str]]]]


class NodeReader:
    """Turns nodes into Python values, reporting wrong shapes instead of raising."""

    def __init__(self, loader: Any, problems: Problems) -> None:
        self._loader = loader
        self.problems = problems
        self._failed: set[int] = set()  # nodes whose value could not be built (reported once)

    def value(self, node: Node) -> tuple[bool, Any]:
        """(ok, value) of any node, constructed the way yaml.safe_load would."""
        if id(node) in self._failed:
            return False, None
        try:
            return True, yamlread.construct(self._loader, node, self.problems.source)
        except yamlread.YamlError as exc:
            self.problems.at(exc.line or 1, exc.column or 1, exc.problem)
        except RecursionError:
            self.problems.add(node, too_deep_message())
        self._failed.add(id(node))
        # A failed construction leaves the loader mid-way (the node counts as "being built", so
        # reading it again would say "recursive node"): reset that state for the next value.
        self._loader.recursive_objects = {}
        self._loader.state_generators = []
        self._loader.deep_construct = False
        return False, None

    def mapping(self, node: Node, what: str) -> list[tuple[ScalarNode, Node]] | None:
        """The (key node, value node) pairs of a mapping, duplicates and non-scalar keys reported."""
        if not isinstance(node, MappingNode):
            self.problems.add(node, f"{what} must be a mapping")
            return None
        seen: dict[str, int] = {}
        pairs: list[tuple[ScalarNode, Node]] = []
        for key, value in node.value:
            if not isinstance(key, ScalarNode):
                self.problems.add(key, f"keys of {what} must be plain names")
                continue
            name = str(key.value)
            if name in seen:
                self.problems.add(key, f"duplicate key {name!r} (first at line {seen[name]})")
                continue
            seen[name] = line_of(key)
            pairs.append((key, value))
        return pairs

    def keys(
        self, pairs: list[tuple[ScalarNode, Node]], allowed: tuple[str, ...], what: str
    ) -> None:
        """Report every key of ``pairs`` that is not ``allowed``, with the closest known key."""
        for key, _ in pairs:
            if key.value not in allowed:
                self.problems.add(
                    key,
                    f"unknown key {key.value!r} in {what}{suggest(str(key.value), allowed)}; "
                    f"known keys: {', '.join(allowed)}",
                )

    def string(self, node: Node, what: str) -> str | None:
        """The string at ``node``; None (reported) for anything else."""
        ok, value = self.value(node)
        if ok and not isinstance(value, str):
            self.problems.add(node, f"{what} must be a string")
            return None
        return value if ok else None

    def boolean(self, node: Node, what: str) -> bool | None:
        """The boolean at ``node``; None (reported) for anything else."""
        ok, value = self.value(node)
        if ok and not isinstance(value, bool):
            self.problems.add(node, f"{what} must be true or false")
            return None
        return value if ok else None

    def number(self, node: Node, what: str, integer: bool) -> int | float | None:
        """The finite number at ``node`` (an integer if ``integer``) within SQLite's integers."""
        ok, value = self.value(node)
        if not ok:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.problems.add(node, f"{what} must be a number{exponent_hint(value)}")
            return None
        if integer and not isinstance(value, int):
            self.problems.add(node, f"{what} must be an integer for an int field")
            return None
        if isinstance(value, float) and not math.isfinite(value):
            self.problems.add(node, f"{what} must be a finite number")
            return None
        if isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
            self.problems.add(node, f"{what} is outside SQLite's 64-bit integer range")
            return None
        return value

    def name_lists(self, node: Node, what: str) -> NameLists:
        """``[[a, b], c]`` -> one (node, [(node, name), ...]) per item; a bare name is a one-name list."""
        if not isinstance(node, SequenceNode):
            self.problems.add(node, f"{what} must be a list of field-name lists, e.g. [[a, b]]")
            return []
        items: NameLists = []
        for item in node.value:
            members = item.value if isinstance(item, SequenceNode) else [item]
            names: list[tuple[Node, str]] = []
            for member in members:
                name = self.string(member, f"a field name in {what}")
                if name is not None:
                    names.append((member, name))
            if isinstance(item, SequenceNode) and not members:
                self.problems.add(item, f"an entry of {what} is empty")
            if names:
                items.append((item, names))
        return items
