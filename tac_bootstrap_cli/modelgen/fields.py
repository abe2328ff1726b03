"""One field of a spec read from YAML: its name, type and keys, each checked where it stands.

What needs other entities (a ref's target, the type of its key, defaults that depend on it) waits
for ``crosscheck.py``; everything decidable from the field alone is reported here, at its node.
"""

from __future__ import annotations

import re
from typing import Any

from yaml.nodes import Node, ScalarNode, SequenceNode

from tac_bootstrap_cli.modelgen import naming
from tac_bootstrap_cli.modelgen.rawspec import RawField
from tac_bootstrap_cli.modelgen.spec import BOOL_KEYS, BOUND_KEYS, FIELD_KEYS, ON_DELETE, TYPES
from tac_bootstrap_cli.modelgen.yamlnodes import NodeReader, short, suggest


class FieldReader:
    """Reads fields through ``read``; every problem goes to ``read.problems``."""

    def __init__(self, read: NodeReader) -> None:
        self.read = read
        self.problems = read.problems

    def field(self, key: ScalarNode, node: Node) -> RawField | None:
        """The field ``key: node`` read and checked on its own; None when unusable or misnamed."""
        problem = naming.field_name_problem(str(key.value))
        if problem is not None:
            self.problems.add(key, problem)
        name_ok = problem is None
        raw = RawField(str(key.value), key, node)
        if isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:str":
            # Shorthand: ``name: str`` means ``name: {type: str}``.
            self._type(raw, node)
            return raw if name_ok and raw.type else None
        pairs = self.read.mapping(node, f"field {raw.name}")
        if pairs is None:
            return None
        by_key = {str(k.value): (k, v) for k, v in pairs}
        for k, _ in pairs:
            if k.value not in FIELD_KEYS:
                self.problems.add(
                    k,
                    f"unknown key {k.value!r} in field {raw.name}"
                    f"{suggest(str(k.value), tuple(FIELD_KEYS))}",
                )
        if "type" not in by_key:
            self.problems.add(key, f"field {raw.name} has no 'type' (one of {', '.join(TYPES)})")
            return None
        self._type(raw, by_key["type"][1])
        if raw.type is None:
            return None
        for k, value_node in pairs:
            self._read_option(raw, k, value_node)
        self._rules(raw)
        return raw if name_ok else None

    def _read_option(self, raw: RawField, key: ScalarNode, node: Node) -> None:
        """Record option ``key: node`` of a typed field (a default is checked later)."""
        option = str(key.value)
        if option == "type" or option not in FIELD_KEYS:
            return
        applies = FIELD_KEYS[option]
        if raw.type not in applies:
            self.problems.add(
                key,
                f"key {option!r} does not apply to a {raw.type} field "
                f"(it applies to {', '.join(applies)})",
            )
            return
        raw.nodes[option] = node
        if option == "default":
            raw.default_node = node
            return
        value = self._option(raw, option, node)
        if value is not None:
            raw.values[option] = value

    def _type(self, raw: RawField, node: Node) -> None:
        """Set ``raw.type`` from ``node`` when it names one of ``TYPES``."""
        kind = self.read.string(node, "type")
        if kind is None:
            return
        if kind not in TYPES:
            self.problems.add(
                node,
                f"unknown type {kind!r}{suggest(kind, TYPES)}; known types: {', '.join(TYPES)}",
            )
            return
        raw.type = kind

    def _option(self, raw: RawField, option: str, node: Node) -> Any:
        """The value of ``option`` at ``node``, checked on its own; None (reported) when bad."""
        if option in BOOL_KEYS:
            return self.read.boolean(node, option)
        if option in BOUND_KEYS:
            return self.read.number(node, option, integer=raw.type == "int")
        if option in ("min_length", "max_length"):
            return self._length(node, option)
        if option == "values":
            return self._enum_values(node)
        if option == "pattern":
            return self._pattern(node)
        if option == "on_delete":
            return self._on_delete(node)
        # to, description
        return self.read.string(node, option)

    def _length(self, node: Node, option: str) -> int | None:
        value = self.read.number(node, option, integer=True)
        if value is not None and (not isinstance(value, int) or value < 0):
            self.problems.add(node, f"{option} must be a non-negative integer")
            return None
        return value

    def _pattern(self, node: Node) -> str | None:
        """A regular expression Python compiles."""
        pattern = self.read.string(node, "pattern")
        if pattern is None:
            return None
        try:
            re.compile(pattern)
        except re.error as exc:
            where = f" at position {exc.pos}" if exc.pos is not None else ""
            self.problems.add(node, f"invalid regex {short(pattern)!r}: {exc.msg}{where}")
            return None
        except OverflowError as exc:  # a{99999999999}
            self.problems.add(node, f"invalid regex {short(pattern)!r}: {exc}")
            return None
        except RecursionError:  # thousands of nested groups
            self.problems.add(node, f"invalid regex {short(pattern)!r}: nested too deeply")
            return None
        return pattern

    def _on_delete(self, node: Node) -> str | None:
        action = self.read.string(node, "on_delete")
        if action is not None and action not in ON_DELETE:
            self.problems.add(
                node,
                f"on_delete must be one of {', '.join(ON_DELETE)}{suggest(action, ON_DELETE)}",
            )
            return None
        return action

    def _enum_values(self, node: Node) -> tuple[str, ...] | None:
        """An enum's values: distinct strings, each with its own Python member name."""
        if not isinstance(node, SequenceNode):
            self.problems.add(node, "values must be a list of strings")
            return None
        values: list[str] = []
        seen: set[str] = set()
        members: dict[str, str] = {}
        for item in node.value:
            ok, value = self.read.value(item)
            if not ok:
                continue
            if not isinstance(value, str):
                quote = f" (quote it: '{item.value}')" if isinstance(item, ScalarNode) else ""
                self.problems.add(item, f"enum value {short(repr(value))} is not a string{quote}")
                continue
            if value in seen:
                self.problems.add(item, f"duplicate enum value {value!r}")
                continue
            member = naming.enum_member(value)
            if not member or "\x00" in value:
                self.problems.add(item, f"enum value {value!r} gives no Python member name")
                continue
            if member in members:
                self.problems.add(
                    item,
                    f"enum values {members[member]!r} and {value!r} collide after case "
                    f"conversion (both {member})",
                )
                continue
            members[member] = value
            values.append(value)
            seen.add(value)
        return tuple(values)

    def _rules(self, raw: RawField) -> None:
        """Checks within one field (those needing other entities wait for the cross-check)."""
        self._kind_rules(raw)
        self._bound_rules(raw)
        self._length_and_time_rules(raw)

    def _kind_rules(self, raw: RawField) -> None:
        """Keys, secrets, enums and refs: what the field's kind and flags require."""
        kind = raw.type
        if raw.get("primary_key"):
            if raw.get("nullable"):
                self.problems.add(raw.nodes["nullable"], "a primary key cannot be nullable")
            if raw.get("secret"):
                self.problems.add(raw.nodes["secret"], "a primary key cannot be secret")
        if raw.get("secret") and "pattern" in raw.nodes:
            self.problems.add(
                raw.nodes["pattern"], "pattern does not apply to a secret field (SecretStr)"
            )
        if kind == "enum" and "values" not in raw.nodes:
            self.problems.add(raw.key, f"enum field {raw.name} has no 'values'")
        elif kind == "enum" and raw.get("values") == ():
            self.problems.add(raw.nodes["values"], f"enum field {raw.name} has empty 'values'")
        if kind == "ref" and "to" not in raw.nodes:
            self.problems.add(raw.key, f"ref field {raw.name} has no 'to: EntityName'")
        if raw.get("on_delete") == "set_null" and not raw.get("nullable"):
            self.problems.add(
                raw.nodes["on_delete"],
                f"on_delete: set_null needs nullable: true on {raw.name}",
            )

    def _bound_rules(self, raw: RawField) -> None:
        """One bound per side, and bounds that leave a value."""
        for low, high in (("ge", "gt"), ("le", "lt")):
            if low in raw.values and high in raw.values:
                self.problems.add(raw.nodes[high], f"give only one of {low} and {high}")
        lower = raw.get("ge", raw.get("gt"))
        upper = raw.get("le", raw.get("lt"))
        if lower is not None and upper is not None:
            empty = lower > upper or (lower == upper and ("gt" in raw.values or "lt" in raw.values))
            if raw.type == "int" and not empty:
                low = lower + 1 if "gt" in raw.values else lower
                high = upper - 1 if "lt" in raw.values else upper
                empty = low > high
            if empty:
                node = raw.nodes["le" if "le" in raw.values else "lt"]
                self.problems.add(node, f"the bounds of {raw.name} leave no value")

    def _length_and_time_rules(self, raw: RawField) -> None:
        """Lengths that leave a value; an auto_now field neither nullable nor given a default."""
        min_length, max_length = raw.get("min_length"), raw.get("max_length")
        if min_length is not None and max_length is not None and min_length > max_length:
            self.problems.add(raw.nodes["max_length"], "max_length is smaller than min_length")
        if raw.get("auto_now") and raw.get("nullable"):
            self.problems.add(
                raw.nodes["nullable"], "an auto_now field is always set; it cannot be nullable"
            )
        if raw.get("auto_now") and raw.default_node is not None:
            ok, value = self.read.value(raw.default_node)
            if ok and value != "now":
                self.problems.add(
                    raw.default_node,
                    "an auto_now field is set to the current time; its only default is 'now'",
                )
                raw.default_node = None
