"""YAML text -> validated ``ModelSpec``, every problem reported at once as ``SPEC:line:col: ...``.

The text is composed by ``yamlread`` (nodes keep their positions) and walked by hand: the spec and
its entities here, each field in ``fields.py``, then the checks across entities in
``crosscheck.py``. A problem never stops the walk, so one run reports all of them.
"""

from __future__ import annotations

from typing import Any

from yaml.nodes import Node, ScalarNode

from tac_bootstrap_cli import yamlread
from tac_bootstrap_cli.modelgen import naming
from tac_bootstrap_cli.modelgen.crosscheck import CrossCheck
from tac_bootstrap_cli.modelgen.fields import FieldReader
from tac_bootstrap_cli.modelgen.rawspec import RawEntity, RawField
from tac_bootstrap_cli.modelgen.spec import ENTITY_KEYS, TOP_KEYS, ModelSpec
from tac_bootstrap_cli.modelgen.yamlnodes import (
    DEPTH_HINT,
    WHAT,
    NameLists,
    NodeReader,
    Problems,
    line_of,
    suggest,
    too_deep_message,
)


def parse_spec(text: str, source: str) -> ModelSpec:
    """Validate the YAML ``text`` of a spec; ``source`` names it in messages (``SPEC:line:col``)."""
    problems = Problems(source)
    try:
        # yamlread.LOADER is looked up here, not bound at import: a test swaps in the pure-Python
        # parser (PY_LOADER) to check both parsers report the same problems.
        root, loader = yamlread.compose(
            text, source, loader=yamlread.LOADER, what=WHAT, depth_hint=DEPTH_HINT
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
        problems.at(1, 1, too_deep_message())
        spec = None
    if spec is None:
        problems.fail()
    return spec


class _Validator:
    """Walks the node tree once, then cross-checks entities; all problems go to ``problems``."""

    def __init__(self, loader: Any, problems: Problems) -> None:
        self.read = NodeReader(loader, problems)
        self.fields = FieldReader(self.read)
        self.problems = problems

    def spec(self, root: Node) -> ModelSpec | None:
        """The spec at ``root``; None when any problem was found (all of them reported)."""
        pairs = self.read.mapping(root, "the spec")
        if pairs is None:
            return None
        self.read.keys(pairs, TOP_KEYS, "the spec")
        by_key = {str(k.value): (k, v) for k, v in pairs}
        module = self._module(root, by_key.get("module"))
        description = None
        if "description" in by_key:
            description = self.read.string(by_key["description"][1], "description")
        raw: list[RawEntity] = []
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
        entities = CrossCheck(self.read, raw).entities()
        if module is None or self.problems:
            return None
        return ModelSpec(module=module, entities=tuple(entities), description=description)

    def _module(self, root: Node, item: tuple[ScalarNode, Node] | None) -> str | None:
        """The package name, or None (reported)."""
        if item is None:
            self.problems.add(root, "missing key 'module' (the snake_case package name)")
            return None
        node = item[1]
        name = self.read.string(node, "module")
        if name is None:
            return None
        problem = naming.module_name_problem(name)
        if problem is not None:
            self.problems.add(node, problem)
            return None
        return name

    def _entity(self, key: ScalarNode, node: Node) -> RawEntity | None:
        """The entity ``key: node`` as written; None when unusable or misnamed."""
        name = str(key.value)
        name_problem = naming.entity_name_problem(name)
        if name_problem is not None:
            self.problems.add(key, name_problem)
        pairs = self.read.mapping(node, f"entity {name}")
        if pairs is None:
            return None
        self.read.keys(pairs, ENTITY_KEYS, f"entity {name}")
        by_key = {str(k.value): (k, v) for k, v in pairs}
        table = naming.table_name(name)
        table_node: Node | None = None
        if "table" in by_key:
            table_node = by_key["table"][1]
            given = self.read.string(table_node, "table")
            problem = naming.table_name_problem(given) if given is not None else None
            if problem is not None:
                self.problems.add(table_node, problem)
            elif given is not None:
                table = given
        description = None
        if "description" in by_key:
            description = self.read.string(by_key["description"][1], "description")
        fields = self._fields(key, by_key.get("fields"))
        indexes = (
            self.read.name_lists(by_key["indexes"][1], "indexes") if "indexes" in by_key else []
        )
        unique = self.read.name_lists(by_key["unique"][1], "unique") if "unique" in by_key else []
        self._check_name_lists(name, fields, indexes, unique)
        if name_problem is not None:
            return None
        return RawEntity(name, key, table, table_node, description, fields, indexes, unique)

    def _fields(self, key: ScalarNode, item: tuple[ScalarNode, Node] | None) -> list[RawField]:
        """The fields of entity ``key`` that could be read; exactly one primary key wanted."""
        name = str(key.value)
        fields: list[RawField] = []
        if item is None:
            self.problems.add(key, f"entity {name} has no 'fields'")
        else:
            fields_node = item[1]
            field_pairs = self.read.mapping(fields_node, f"fields of {name}")
            if field_pairs is not None and not field_pairs:
                self.problems.add(fields_node, f"entity {name} has no fields")
            for field_key, field_node in field_pairs or []:
                raw = self.fields.field(field_key, field_node)
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
                f"duplicate primary key: {pks[0].name} (line {line_of(pks[0].key)}) already is "
                f"the primary key of {name}",
            )
        return fields

    def _check_name_lists(
        self, name: str, fields: list[RawField], indexes: NameLists, unique: NameLists
    ) -> None:
        """Indexes and unique sets name known fields, each once, and no set twice."""
        known = {f.name for f in fields}
        for what, lists in (("indexes", indexes), ("unique", unique)):
            seen: dict[tuple[str, ...], int] = {}
            for item, names in lists:
                for member, field_name in names:
                    if field_name not in known:
                        self.problems.add(
                            member,
                            f"{what} of {name} names unknown field {field_name!r}"
                            f"{suggest(field_name, sorted(known))}",
                        )
                plain = tuple(n for _, n in names)
                if len(set(plain)) != len(plain):
                    self.problems.add(item, f"an entry of {what} names a field twice")
                elif plain in seen:
                    self.problems.add(
                        item, f"duplicate entry in {what} (same as line {seen[plain]})"
                    )
                else:
                    seen[plain] = line_of(item)
