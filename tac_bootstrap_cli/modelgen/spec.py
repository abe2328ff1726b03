"""The model spec: its typed form, and YAML -> validated spec with every problem at its line and column.

The YAML is composed into nodes (``yaml.compose``-style, so each node keeps its position) and
walked by hand: a problem never stops the walk, so one run reports all of them.
"""

from __future__ import annotations

import datetime
import difflib
import math
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, NoReturn

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from tac_bootstrap_cli import yamlread
from tac_bootstrap_cli.errors import SpecError as SpecError  # re-exported: its old home
from tac_bootstrap_cli.modelgen import naming

TYPES = ("str", "text", "int", "float", "bool", "uuid", "datetime", "date", "json", "enum", "ref")
PK_TYPES = ("int", "uuid", "str")
ON_DELETE = ("cascade", "set_null", "restrict")
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
# The limits of the shared YAML reader: a spec is about 6 levels deep (spec, entities, entity,
# fields, field, default) plus a JSON default's own nesting (at most 32).
MAX_DEPTH = yamlread.MAX_DEPTH
MAX_ALIAS_EXPANSION = yamlread.MAX_ALIAS_EXPANSION

_TOP_KEYS = ("module", "description", "entities")
_ENTITY_KEYS = ("table", "description", "fields", "indexes", "unique")
_ALL = TYPES
# Field key -> the types it applies to.
_FIELD_KEYS: dict[str, tuple[str, ...]] = {
    "type": _ALL,
    "primary_key": PK_TYPES,
    "nullable": _ALL,
    "default": _ALL,
    "auto_now": ("datetime",),
    "values": ("enum",),
    "to": ("ref",),
    "on_delete": ("ref",),
    "unique": _ALL,
    "index": _ALL,
    "ge": ("int", "float"),
    "gt": ("int", "float"),
    "le": ("int", "float"),
    "lt": ("int", "float"),
    "min_length": ("str", "text"),
    "max_length": ("str", "text"),
    "pattern": ("str", "text"),
    "secret": ("str",),
    "description": _ALL,
}
_BOOL_KEYS = ("primary_key", "nullable", "auto_now", "unique", "index", "secret")

DefaultKind = Literal["literal", "now", "uuid4", "empty_object", "empty_array"]


@dataclass(frozen=True)
class Default:
    """A field default: a literal (already of the field's Python type) or a factory kind."""

    kind: DefaultKind
    value: Any = None


@dataclass(frozen=True)
class FieldSpec:
    """One validated field of an entity."""

    name: str
    type: str
    value_type: str  # the stored type: ``type``, or for a ref the target primary key's type
    primary_key: bool = False
    nullable: bool = False
    default: Default | None = None
    auto_now: bool = False
    values: tuple[str, ...] = ()
    to: str | None = None
    on_delete: str = "restrict"
    unique: bool = False
    index: bool = False
    ge: int | float | None = None
    gt: int | float | None = None
    le: int | float | None = None
    lt: int | float | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    secret: bool = False
    description: str | None = None

    @property
    def is_ref(self) -> bool:
        """True for a reference to another entity."""
        return self.type == "ref"

    @property
    def has_bounds(self) -> bool:
        """True when the field has a numeric bound."""
        return any(b is not None for b in (self.ge, self.gt, self.le, self.lt))

    @property
    def has_lengths(self) -> bool:
        """True when the field has a length bound."""
        return self.min_length is not None or self.max_length is not None


@dataclass(frozen=True)
class EntitySpec:
    """One validated entity: a model family, a table and a repository."""

    name: str
    table: str
    fields: tuple[FieldSpec, ...]
    description: str | None = None
    indexes: tuple[tuple[str, ...], ...] = ()
    unique: tuple[tuple[str, ...], ...] = ()

    @property
    def snake(self) -> str:
        """The snake_case form of the name (method and test names)."""
        return naming.snake_case(self.name)

    @property
    def pk(self) -> FieldSpec:
        """The primary key field."""
        return next(f for f in self.fields if f.primary_key)

    def field(self, name: str) -> FieldSpec:
        """The field called ``name``."""
        return next(f for f in self.fields if f.name == name)


@dataclass(frozen=True)
class ModelSpec:
    """A validated spec: the output package name and its entities, in spec order."""

    module: str
    entities: tuple[EntitySpec, ...]
    description: str | None = None

    def entity(self, name: str) -> EntitySpec:
        """The entity called ``name``."""
        return next(e for e in self.entities if e.name == name)


@dataclass(order=True)
class _Problem:
    line: int
    col: int
    seq: int
    message: str = field(compare=False)


class _Problems:
    """Collects problems with their position; ``raise_if_any`` turns them into one SpecError."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._items: list[_Problem] = []

    def at(self, line: int, col: int, message: str) -> None:
        self._items.append(_Problem(line, col, len(self._items), _one_line(message)))

    def add(self, node: Node, message: str) -> None:
        mark = node.start_mark
        self.at(mark.line + 1, mark.column + 1, message)

    def __bool__(self) -> bool:
        return bool(self._items)

    def raise_if_any(self) -> None:
        if self._items:
            self.fail()

    def fail(self) -> NoReturn:
        raise SpecError(
            [f"{self.source}:{p.line}:{p.col}: {p.message}" for p in sorted(self._items)]
        )


def _one_line(message: str) -> str:
    """``message`` with line breaks and other unprintable characters escaped: one problem, one line."""
    if message.isprintable():
        return message
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in message
    )


def _short(text: str, limit: int = 40) -> str:
    """``text`` cut to ``limit`` characters (a 5000-digit number is not repeated in a message)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _suggest(word: str, options: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


# --- loading YAML (tac_bootstrap_cli.yamlread: the reader config.yml and tac-template.yml share) ---

_PySpecLoader = yamlread.PY_LOADER
# libyaml's parser is ~10x faster on big specs; both keep line and column on every node.
_SpecLoader = yamlread.LOADER
_DEPTH_HINT = "; a model spec needs about 6 (plus a JSON default's own nesting)"


def _too_deep_message() -> str:
    return yamlread.too_deep_message("the spec", _DEPTH_HINT)


def _yaml_message(exc: yaml.MarkedYAMLError) -> str:
    return yamlread.yaml_message(exc, "the spec", _DEPTH_HINT)


# --- reading nodes ------------------------------------------------------------------------------


class _Reader:
    """Turns nodes into Python values, reporting wrong shapes instead of raising."""

    def __init__(self, loader: Any, problems: _Problems) -> None:
        self._loader = loader
        self.problems = problems
        self._failed: set[int] = set()  # nodes whose value could not be built (reported once)

    def value(self, node: Node) -> tuple[bool, Any]:
        """(ok, value) of any node, constructed the way yaml.safe_load would."""
        if id(node) in self._failed:
            return False, None
        try:
            return True, self._loader.construct_object(node, deep=True)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or node.start_mark
            self.problems.at(mark.line + 1, mark.column + 1, _yaml_message(exc))
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
            # The typed scalars are checked (yamlread.BadValue); this is the net for anything else.
            self.problems.add(node, f"cannot read this value: {_short(str(exc), 80)}")
        except RecursionError:
            self.problems.add(node, _too_deep_message())
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
            seen[name] = _line(key)
            pairs.append((key, value))
        return pairs

    def keys(
        self, pairs: list[tuple[ScalarNode, Node]], allowed: tuple[str, ...], what: str
    ) -> None:
        for key, _ in pairs:
            if key.value not in allowed:
                self.problems.add(
                    key,
                    f"unknown key {key.value!r} in {what}{_suggest(str(key.value), allowed)}; "
                    f"known keys: {', '.join(allowed)}",
                )

    def string(self, node: Node, what: str) -> str | None:
        ok, value = self.value(node)
        if ok and not isinstance(value, str):
            self.problems.add(node, f"{what} must be a string")
            return None
        return value if ok else None

    def boolean(self, node: Node, what: str) -> bool | None:
        ok, value = self.value(node)
        if ok and not isinstance(value, bool):
            self.problems.add(node, f"{what} must be true or false")
            return None
        return value if ok else None

    def number(self, node: Node, what: str, integer: bool) -> int | float | None:
        ok, value = self.value(node)
        if not ok:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.problems.add(node, f"{what} must be a number{_exponent_hint(value)}")
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

    def name_lists(self, node: Node, what: str) -> list[tuple[Node, list[tuple[Node, str]]]]:
        """``[[a, b], c]`` -> one (node, [(node, name), ...]) per item; a bare name is a one-name list."""
        if not isinstance(node, SequenceNode):
            self.problems.add(node, f"{what} must be a list of field-name lists, e.g. [[a, b]]")
            return []
        items: list[tuple[Node, list[tuple[Node, str]]]] = []
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


def _exponent_hint(value: Any) -> str:
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


# --- the raw (not yet cross-checked) field --------------------------------------------------


@dataclass
class _RawField:
    name: str
    key: ScalarNode
    node: Node
    type: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    nodes: dict[str, Node] = field(default_factory=dict)
    default_node: Node | None = None

    def get(self, key: str, fallback: Any = None) -> Any:
        return self.values.get(key, fallback)


@dataclass
class _RawEntity:
    name: str
    key: ScalarNode
    table: str
    table_node: Node | None
    description: str | None
    fields: list[_RawField]
    indexes: list[tuple[Node, list[tuple[Node, str]]]]
    unique: list[tuple[Node, list[tuple[Node, str]]]]


# --- validation ---------------------------------------------------------------------------


def parse_spec(text: str, source: str) -> ModelSpec:
    """Validate the YAML ``text`` of a spec; ``source`` names it in messages (``SPEC:line:col``)."""
    problems = _Problems(source)
    try:
        root, loader = yamlread.compose(
            text, source, loader=_SpecLoader, what="the spec", depth_hint=_DEPTH_HINT
        )
    except yamlread.YamlError as exc:
        problems.at(exc.line or 1, exc.column or 1, exc.problem)
        problems.fail()
    if root is None:
        problems.at(1, 1, "the spec is empty: expected a mapping with module and entities")
        problems.fail()
    try:
        spec = _Validator(loader, problems).spec(root)
    except RecursionError:  # not expected after compose's depth check; a traceback would be worse
        problems.at(1, 1, _too_deep_message())
        spec = None
    if spec is None:
        problems.fail()
    return spec


class _Validator:
    """Walks the node tree once, then cross-checks entities; all problems go to ``problems``."""

    def __init__(self, loader: Any, problems: _Problems) -> None:
        self.read = _Reader(loader, problems)
        self.problems = problems

    def spec(self, root: Node) -> ModelSpec | None:
        pairs = self.read.mapping(root, "the spec")
        if pairs is None:
            return None
        self.read.keys(pairs, _TOP_KEYS, "the spec")
        by_key = {str(k.value): (k, v) for k, v in pairs}
        module = self._module(root, by_key.get("module"))
        description = None
        if "description" in by_key:
            description = self.read.string(by_key["description"][1], "description")
        raw: list[_RawEntity] = []
        if "entities" not in by_key:
            self.problems.add(root, "missing key 'entities' (a mapping of EntityName -> entity)")
        else:
            entities_node = by_key["entities"][1]
            entity_pairs = self.read.mapping(entities_node, "entities")
            if entity_pairs is not None and not entity_pairs:
                self.problems.add(entities_node, "entities is empty: describe at least one entity")
            for key, node in entity_pairs or []:
                entity = self._entity(key, node)
                if entity is not None:
                    raw.append(entity)
        entities = self._cross_check(raw)
        if module is None or self.problems:
            return None
        return ModelSpec(module=module, entities=tuple(entities), description=description)

    # names

    def _module(self, root: Node, item: tuple[ScalarNode, Node] | None) -> str | None:
        if item is None:
            self.problems.add(root, "missing key 'module' (the snake_case package name)")
            return None
        node = item[1]
        name = self.read.string(node, "module")
        if name is None:
            return None
        if not naming.SNAKE_RE.fullmatch(name):
            hint = naming.snake_case(name)
            suggestion = f"; use {hint!r}" if hint and naming.SNAKE_RE.fullmatch(hint) else ""
            self.problems.add(node, f"module {name!r} is not a snake_case name{suggestion}")
            return None
        if naming.is_keyword(name):
            self.problems.add(
                node, f"module {name!r} is a Python keyword; use {name + '_models'!r}"
            )
            return None
        conflict = naming.module_conflict(name)
        if conflict:
            self.problems.add(
                node, f"module {name!r} is refused: {conflict}; use {name + '_models'!r}"
            )
            return None
        if len(name) > naming.MAX_NAME_LENGTH:
            self.problems.add(
                node, f"module name is longer than {naming.MAX_NAME_LENGTH} characters"
            )
            return None
        return name

    def _entity_name(self, key: ScalarNode) -> bool:
        name = str(key.value)
        if not naming.PASCAL_RE.fullmatch(name):
            hint = naming.pascal_case(name)
            good = hint and naming.PASCAL_RE.fullmatch(hint)
            suggestion = f"; use {hint!r}" if good else ""
            self.problems.add(key, f"entity name {name!r} is not PascalCase{suggestion}")
            return False
        if naming.is_keyword(name):
            self.problems.add(
                key, f"entity name {name!r} is a Python keyword; use {name + 'Record'!r}"
            )
            return False
        if name in naming.RESERVED_CLASS_NAMES:
            self.problems.add(
                key,
                f"entity name {name!r} would shadow a name the generated code imports; "
                f"use {name + 'Record'!r}",
            )
            return False
        if len(name) > naming.MAX_NAME_LENGTH:
            self.problems.add(
                key, f"entity name is longer than {naming.MAX_NAME_LENGTH} characters"
            )
            return False
        return True

    def _field_name(self, key: ScalarNode) -> bool:
        name = str(key.value)
        if not naming.SNAKE_RE.fullmatch(name):
            hint = naming.snake_case(name)
            good = hint and naming.SNAKE_RE.fullmatch(hint)
            suggestion = f"; use {hint!r}" if good else ""
            self.problems.add(
                key, f"field name {name!r} is not snake_case (a-z, 0-9, _){suggestion}"
            )
            return False
        if naming.is_keyword(name):
            self.problems.add(key, f"field name {name!r} is a Python keyword; use {name + '_'!r}")
            return False
        if name in naming.BASE_MODEL_ATTRIBUTES:
            self.problems.add(
                key,
                f"field name {name!r} would shadow pydantic.BaseModel.{name}; "
                f"use {name + '_value'!r}",
            )
            return False
        if name in naming.RESERVED_FIELD_NAMES:
            self.problems.add(
                key,
                f"field name {name!r} would shadow a name the generated code uses; "
                f"use {name + '_value'!r}",
            )
            return False
        if len(name) > naming.MAX_NAME_LENGTH:
            self.problems.add(key, f"field name is longer than {naming.MAX_NAME_LENGTH} characters")
            return False
        return True

    # entities and fields

    def _entity(self, key: ScalarNode, node: Node) -> _RawEntity | None:
        name_ok = self._entity_name(key)
        name = str(key.value)
        pairs = self.read.mapping(node, f"entity {name}")
        if pairs is None:
            return None
        self.read.keys(pairs, _ENTITY_KEYS, f"entity {name}")
        by_key = {str(k.value): (k, v) for k, v in pairs}
        table = naming.table_name(name)
        table_node: Node | None = None
        if "table" in by_key:
            table_node = by_key["table"][1]
            given = self.read.string(table_node, "table")
            if given is not None:
                if not naming.TABLE_RE.fullmatch(given):
                    self.problems.add(
                        table_node, f"table {given!r} is not a valid name (letters, digits, _)"
                    )
                elif given.lower().startswith("sqlite_"):
                    self.problems.add(
                        table_node, f"table {given!r} is refused: SQLite reserves names sqlite_*"
                    )
                else:
                    table = given
        description = None
        if "description" in by_key:
            description = self.read.string(by_key["description"][1], "description")
        fields: list[_RawField] = []
        if "fields" not in by_key:
            self.problems.add(key, f"entity {name} has no 'fields'")
        else:
            fields_node = by_key["fields"][1]
            field_pairs = self.read.mapping(fields_node, f"fields of {name}")
            if field_pairs is not None and not field_pairs:
                self.problems.add(fields_node, f"entity {name} has no fields")
            for field_key, field_node in field_pairs or []:
                raw = self._field(field_key, field_node)
                if raw is not None:
                    fields.append(raw)
        pks = [f for f in fields if f.get("primary_key")]
        if fields and not pks:
            self.problems.add(
                key,
                f"entity {name} has no primary key: mark one field primary_key: true "
                "(e.g. id: {type: int, primary_key: true})",
            )
        for extra in pks[1:]:
            self.problems.add(
                extra.nodes["primary_key"],
                f"duplicate primary key: {pks[0].name} (line {_line(pks[0].key)}) already is the "
                f"primary key of {name}",
            )
        indexes = (
            self.read.name_lists(by_key["indexes"][1], "indexes") if "indexes" in by_key else []
        )
        unique = self.read.name_lists(by_key["unique"][1], "unique") if "unique" in by_key else []
        for what, lists in (("indexes", indexes), ("unique", unique)):
            known = {f.name for f in fields}
            seen: dict[tuple[str, ...], int] = {}
            for item, names in lists:
                for member, field_name in names:
                    if field_name not in known:
                        self.problems.add(
                            member,
                            f"{what} of {name} names unknown field {field_name!r}"
                            f"{_suggest(field_name, sorted(known))}",
                        )
                plain = tuple(n for _, n in names)
                if len(set(plain)) != len(plain):
                    self.problems.add(item, f"an entry of {what} names a field twice")
                elif plain in seen:
                    self.problems.add(
                        item, f"duplicate entry in {what} (same as line {seen[plain]})"
                    )
                else:
                    seen[plain] = _line(item)
        if not name_ok:
            return None
        return _RawEntity(name, key, table, table_node, description, fields, indexes, unique)

    def _field(self, key: ScalarNode, node: Node) -> _RawField | None:
        name_ok = self._field_name(key)
        raw = _RawField(str(key.value), key, node)
        if isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:str":
            # Shorthand: ``name: str`` means ``name: {type: str}``.
            self._type(raw, node)
            return raw if name_ok and raw.type else None
        pairs = self.read.mapping(node, f"field {raw.name}")
        if pairs is None:
            return None
        by_key = {str(k.value): (k, v) for k, v in pairs}
        for k, _ in pairs:
            if k.value not in _FIELD_KEYS:
                self.problems.add(
                    k,
                    f"unknown key {k.value!r} in field {raw.name}"
                    f"{_suggest(str(k.value), tuple(_FIELD_KEYS))}",
                )
        if "type" not in by_key:
            self.problems.add(key, f"field {raw.name} has no 'type' (one of {', '.join(TYPES)})")
            return None
        self._type(raw, by_key["type"][1])
        if raw.type is None:
            return None
        for k, value_node in pairs:
            option = str(k.value)
            if option == "type" or option not in _FIELD_KEYS:
                continue
            applies = _FIELD_KEYS[option]
            if raw.type not in applies:
                self.problems.add(
                    k,
                    f"key {option!r} does not apply to a {raw.type} field "
                    f"(it applies to {', '.join(applies)})",
                )
                continue
            raw.nodes[option] = value_node
            if option == "default":
                raw.default_node = value_node
                continue
            value = self._option(raw, option, value_node)
            if value is not None:
                raw.values[option] = value
        self._field_rules(raw)
        return raw if name_ok else None

    def _type(self, raw: _RawField, node: Node) -> None:
        kind = self.read.string(node, "type")
        if kind is None:
            return
        if kind not in TYPES:
            self.problems.add(
                node,
                f"unknown type {kind!r}{_suggest(kind, TYPES)}; known types: {', '.join(TYPES)}",
            )
            return
        raw.type = kind

    def _option(self, raw: _RawField, option: str, node: Node) -> Any:
        if option in _BOOL_KEYS:
            return self.read.boolean(node, option)
        if option in ("ge", "gt", "le", "lt"):
            return self.read.number(node, option, integer=raw.type == "int")
        if option in ("min_length", "max_length"):
            value = self.read.number(node, option, integer=True)
            if value is not None and (not isinstance(value, int) or value < 0):
                self.problems.add(node, f"{option} must be a non-negative integer")
                return None
            return value
        if option == "values":
            return self._enum_values(raw, node)
        if option == "pattern":
            pattern = self.read.string(node, "pattern")
            if pattern is None:
                return None
            try:
                re.compile(pattern)
            except re.error as exc:
                where = f" at position {exc.pos}" if exc.pos is not None else ""
                self.problems.add(node, f"invalid regex {_short(pattern)!r}: {exc.msg}{where}")
                return None
            except OverflowError as exc:  # a{99999999999}
                self.problems.add(node, f"invalid regex {_short(pattern)!r}: {exc}")
                return None
            except RecursionError:  # thousands of nested groups
                self.problems.add(node, f"invalid regex {_short(pattern)!r}: nested too deeply")
                return None
            return pattern
        if option == "on_delete":
            action = self.read.string(node, "on_delete")
            if action is not None and action not in ON_DELETE:
                self.problems.add(
                    node,
                    f"on_delete must be one of {', '.join(ON_DELETE)}{_suggest(action, ON_DELETE)}",
                )
                return None
            return action
        # to, description
        return self.read.string(node, option)

    def _enum_values(self, raw: _RawField, node: Node) -> tuple[str, ...] | None:
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
                self.problems.add(item, f"enum value {_short(repr(value))} is not a string{quote}")
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

    def _field_rules(self, raw: _RawField) -> None:
        """Checks within one field (those needing other entities wait for the cross-check)."""
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
        for low, high in (("ge", "gt"), ("le", "lt")):
            if low in raw.values and high in raw.values:
                self.problems.add(raw.nodes[high], f"give only one of {low} and {high}")
        lower = raw.get("ge", raw.get("gt"))
        upper = raw.get("le", raw.get("lt"))
        if lower is not None and upper is not None:
            empty = lower > upper or (lower == upper and ("gt" in raw.values or "lt" in raw.values))
            if kind == "int" and not empty:
                low = lower + 1 if "gt" in raw.values else lower
                high = upper - 1 if "lt" in raw.values else upper
                empty = low > high
            if empty:
                node = raw.nodes["le" if "le" in raw.values else "lt"]
                self.problems.add(node, f"the bounds of {raw.name} leave no value")
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

    # defaults (need the ref targets, so they run in the cross-check)

    def _default(self, raw: _RawField, value_type: str) -> Default | None:
        node = raw.default_node
        if node is None:
            return None
        ok, value = self.read.value(node)
        if not ok:
            return None
        bad = self._default_problem(raw, value_type, value)
        if isinstance(bad, str):
            self.problems.add(node, f"default of {raw.name}: {bad}")
            return None
        return bad

    def _default_problem(self, raw: _RawField, kind: str, value: Any) -> Default | str | None:
        """The Default for ``value``, or a message saying why it does not fit the field."""
        if raw.type == "ref":
            return "a ref takes no default (leave it out, or make the field nullable)"
        if raw.get("primary_key"):
            if kind == "uuid" and value == "uuid4":
                return Default("uuid4")
            who = {"int": "SQLite assigns it", "str": "the caller gives it"}.get(kind, "")
            return f"a primary key takes no default ({who})" if who else "only uuid4 is allowed"
        if value is None:
            return None if raw.get("nullable") else "null needs nullable: true"
        if kind in ("str", "text"):
            if not isinstance(value, str):
                return f"{value!r} is not a string (quote it)"
            return self._string_default(raw, value)
        if kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                return f"{value!r} is not an integer"
            return self._number_default(raw, value)
        if kind == "float":
            if isinstance(value, bool) or not isinstance(value, int | float):
                return f"{_short(repr(value))} is not a number{_exponent_hint(value)}"
            try:
                number = float(value)
            except OverflowError:
                return f"{_short(repr(value))} is too large for a float"
            if not math.isfinite(number):
                return f"{value!r} is not a finite number"
            return self._number_default(raw, number)
        if kind == "bool":
            return (
                Default("literal", value) if isinstance(value, bool) else "expected true or false"
            )
        if kind == "uuid":
            if value == "uuid4":
                return Default("uuid4")
            try:
                return Default("literal", uuid.UUID(str(value)))
            except ValueError:
                return f"{value!r} is not a UUID (or uuid4)"
        if kind == "datetime":
            return _datetime_default(value)
        if kind == "date":
            return _date_default(value)
        if kind == "json":
            return _json_default(value)
        if kind == "enum":
            values = raw.get("values") or ()
            if value not in values:
                return f"{value!r} is not one of the values ({', '.join(values)})"
            return Default("literal", value)
        return f"unsupported default for a {kind} field"

    def _string_default(self, raw: _RawField, value: str) -> Default | str:
        min_length, max_length = raw.get("min_length"), raw.get("max_length")
        if min_length is not None and len(value) < min_length:
            return f"{value!r} is shorter than min_length {min_length}"
        if max_length is not None and len(value) > max_length:
            return f"{value!r} is longer than max_length {max_length}"
        pattern = raw.get("pattern")
        if pattern is not None and re.search(pattern, value) is None:
            return f"{value!r} does not match the pattern {pattern!r}"
        return Default("literal", value)

    def _number_default(self, raw: _RawField, value: int | float) -> Default | str:
        for key, sign in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            bound = raw.get(key)
            if bound is not None and not _within(value, key, bound):
                return f"{value!r} is outside the bounds (must be {sign} {bound!r})"
        if isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
            return f"{value!r} is outside SQLite's 64-bit integer range"
        return Default("literal", value)

    # cross-checks

    def _cross_check(self, raw: list[_RawEntity]) -> list[EntitySpec]:
        by_name = {e.name: e for e in raw}
        self._check_collisions(raw)
        pk_types: dict[str, str] = {}
        for entity in raw:
            pks = [f for f in entity.fields if f.get("primary_key") and f.type]
            if pks:
                pk_types[entity.name] = str(pks[0].type)
        entities: list[EntitySpec] = []
        for entity in raw:
            fields: list[FieldSpec] = []
            for raw_field in entity.fields:
                built = self._build_field(raw_field, by_name, pk_types)
                if built is not None:
                    fields.append(built)
            entities.append(
                EntitySpec(
                    name=entity.name,
                    table=entity.table,
                    description=entity.description,
                    fields=tuple(fields),
                    indexes=tuple(tuple(n for _, n in names) for _, names in entity.indexes),
                    unique=tuple(tuple(n for _, n in names) for _, names in entity.unique),
                )
            )
        self._check_cycles(raw, by_name)
        return entities

    def _build_field(
        self, raw: _RawField, by_name: dict[str, _RawEntity], pk_types: dict[str, str]
    ) -> FieldSpec | None:
        assert raw.type is not None
        value_type = raw.type
        target = raw.get("to")
        if raw.type == "ref" and target is not None:
            if target not in by_name:
                self.problems.add(
                    raw.nodes["to"],
                    f"ref {raw.name} points to unknown entity {target!r}"
                    f"{_suggest(target, sorted(by_name))}",
                )
                return None
            if target not in pk_types:
                return None  # the target's missing primary key is reported there
            value_type = pk_types[target]
        elif raw.type == "ref":
            return None
        default = self._default(raw, value_type)
        if raw.type == "datetime" and raw.get("auto_now") and raw.default_node is not None:
            default = Default("now")
        values = {k: v for k, v in raw.values.items() if k in FieldSpec.__dataclass_fields__}
        return FieldSpec(
            name=raw.name,
            type=raw.type,
            value_type=value_type,
            default=default,
            **values,
        )

    def _check_collisions(self, raw: list[_RawEntity]) -> None:
        """Generated class names, snake_case forms and table names must all be distinct."""
        entities = {e.name: e for e in raw}
        owners: dict[str, str] = {}

        def claim(name: str, owner: str, node: Node, rename: str) -> None:
            """Take ``name`` for ``owner`` (reported at ``node``, ``rename`` says how to fix)."""
            if name in entities and owner != f"entity {name}":
                # A derived name equal to an entity's name: the entity is the one to rename.
                self.problems.add(
                    entities[name].key,
                    f"entity name {name!r} is also the name of {owner}; "
                    f"rename the entity (e.g. {name + 'Record'!r})",
                )
            elif name in owners:
                self.problems.add(
                    node,
                    f"{owner} would be named {name}, which is already {owners[name]}; {rename}",
                )
            elif name in naming.RESERVED_CLASS_NAMES:
                self.problems.add(
                    node,
                    f"{owner} would be named {name}, a name the generated code imports; {rename}",
                )
            else:
                owners[name] = owner

        for entity in raw:
            owners[entity.name] = f"entity {entity.name}"
        for entity in raw:
            for suffix, what in (
                ("Create", "create model"),
                ("Update", "update model"),
                ("Repository", "repository"),
            ):
                claim(
                    entity.name + suffix,
                    f"the {what} of {entity.name}",
                    entity.key,
                    f"rename entity {entity.name}",
                )
            for raw_field in entity.fields:
                if _needs_type_name(raw_field):
                    claim(
                        entity.name + naming.pascal_case(raw_field.name),
                        f"the type of {entity.name}.{raw_field.name}",
                        raw_field.key,
                        f"rename the field (e.g. {raw_field.name + '_value'!r})",
                    )
        snakes: dict[str, _RawEntity] = {}
        tables: dict[str, _RawEntity] = {}
        for entity in raw:
            snake = naming.snake_case(entity.name)
            if snake in snakes:
                other = snakes[snake]
                self.problems.add(
                    entity.key,
                    f"entity names {other.name!r} and {entity.name!r} collide after case "
                    f"conversion (both {snake}); rename one",
                )
            else:
                snakes[snake] = entity
            folded = entity.table.lower()
            if folded in tables:
                other = tables[folded]
                self.problems.add(
                    entity.table_node or entity.key,
                    f"table {entity.table!r} of {entity.name} is also the table of {other.name} "
                    "(SQLite names are case-insensitive); set a different table",
                )
            else:
                tables[folded] = entity

    def _check_cycles(self, raw: list[_RawEntity], by_name: dict[str, _RawEntity]) -> None:
        """Non-nullable refs must not form a cycle: its first record could never be created."""
        edges: dict[str, list[_RawField]] = {
            e.name: [
                f
                for f in e.fields
                if f.type == "ref" and not f.get("nullable") and f.get("to") in by_name
            ]
            for e in raw
        }
        for component in _strongly_connected(edges):
            path = _one_cycle(component, edges)
            if path:
                links = [f"{owner}.{f.name} -> {f.get('to')}" for owner, f in path]
                if len(links) > 8:  # a cycle through thousands of entities stays one short line
                    links = [*links[:6], f"... {len(links) - 7} more", links[-1]]
                chain = ", ".join(links)
                self.problems.add(
                    path[0][1].key,
                    f"non-nullable refs form a cycle ({chain}): no first record could be "
                    "created; make one of them nullable",
                )


def _strongly_connected(edges: dict[str, list[_RawField]]) -> list[list[str]]:
    """Tarjan's strongly connected components of the ref graph, in a stable order.

    Iterative: a chain of thousands of refs must not exhaust Python's recursion limit.
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []

    def enter(node: str) -> tuple[str, Iterator[_RawField]]:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        return node, iter(edges.get(node, []))

    for root in edges:
        if root in index:
            continue
        work = [enter(root)]
        while work:
            node, refs = work[-1]
            ref = next(refs, None)
            if ref is not None:
                target = str(ref.get("to"))
                if target not in index:
                    work.append(enter(target))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(component)
    return components


def _one_cycle(
    component: list[str], edges: dict[str, list[_RawField]]
) -> list[tuple[str, _RawField]]:
    """A cycle inside a strongly connected component (empty when the component has none)."""
    members = set(component)
    start = min(component)
    # Breadth-first from start, staying inside the component, until an edge returns to start.
    paths: dict[str, list[tuple[str, _RawField]]] = {start: []}
    queue = [start]
    for node in queue:
        for ref in edges.get(node, []):
            target = str(ref.get("to"))
            if target == start:
                return [*paths[node], (node, ref)]
            if target in members and target not in paths:
                paths[target] = [*paths[node], (node, ref)]
                queue.append(target)
    return []


def _needs_type_name(raw: _RawField) -> bool:
    """True when the field gets its own named type (an enum, or a type with constraints)."""
    if raw.type == "enum":
        return True
    constrained = ("ge", "gt", "le", "lt", "min_length", "max_length", "pattern", "description")
    return any(key in raw.nodes for key in constrained)


def needs_type_name(spec_field: FieldSpec) -> bool:
    """True when a validated field gets its own named type (see ``_needs_type_name``)."""
    if spec_field.type == "enum":
        return True
    return (
        spec_field.has_bounds
        or spec_field.has_lengths
        or spec_field.pattern is not None
        or spec_field.description is not None
    )


def _within(value: float, key: str, bound: float) -> bool:
    """True when ``value`` satisfies the bound ``key`` (ge, gt, le, lt) at ``bound``."""
    if key == "ge":
        return value >= bound
    if key == "gt":
        return value > bound
    if key == "le":
        return value <= bound
    return value < bound


def _datetime_default(value: Any) -> Default | str:
    if value == "now":
        return Default("now")
    if isinstance(value, datetime.datetime):
        moment = value
    elif isinstance(value, datetime.date):
        moment = datetime.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            moment = datetime.datetime.fromisoformat(value)
        except ValueError:
            return f"{value!r} is not an ISO 8601 datetime (or now)"
    else:
        return f"{value!r} is not a datetime (or now)"
    try:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.UTC)
        return Default("literal", moment.astimezone(datetime.UTC))
    except OverflowError:
        return f"{value!r} is out of range in UTC"


def _date_default(value: Any) -> Default | str:
    if value == "now":
        return Default("now")
    if isinstance(value, datetime.datetime):
        return f"{value!r} is a datetime; give a date (YYYY-MM-DD)"
    if isinstance(value, datetime.date):
        return Default("literal", value)
    if isinstance(value, str):
        try:
            return Default("literal", datetime.date.fromisoformat(value))
        except ValueError:
            return f"{value!r} is not an ISO 8601 date (or now)"
    return f"{value!r} is not a date (or now)"


def _json_default(value: Any) -> Default | str:
    if value == {}:
        return Default("empty_object")
    if value == []:
        return Default("empty_array")
    problem = _json_problem(value)
    return f"{problem}" if problem else Default("literal", value)


def _json_problem(value: Any, depth: int = 0) -> str | None:
    if depth > 32:
        return "the JSON value is nested too deeply"
    if value is None or isinstance(value, bool | int | str):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{value!r} is not a JSON number"
    if isinstance(value, list):
        return next((p for p in (_json_problem(v, depth + 1) for v in value) if p), None)
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"JSON object key {key!r} is not a string (quote it)"
            problem = _json_problem(item, depth + 1)
            if problem:
                return problem
        return None
    return f"{value!r} is not a JSON value (quote dates and times)"
