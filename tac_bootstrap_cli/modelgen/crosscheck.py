"""The checks across entities, and the validated spec they give: refs, names, cycles, defaults.

They run once every entity was read (``validate.py``): a ref's target and its key's type, names
the generated code derives from several entities (``XCreate``, ``XRepository``, tables, snake_case
forms), and cycles of non-nullable refs. Problems are reported at the nodes ``rawspec`` kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from yaml.nodes import Node

from tac_bootstrap_cli.modelgen import naming
from tac_bootstrap_cli.modelgen.defaults import default_for
from tac_bootstrap_cli.modelgen.rawspec import RawEntity, RawField
from tac_bootstrap_cli.modelgen.spec import Default, EntitySpec, FieldSpec
from tac_bootstrap_cli.modelgen.yamlnodes import NodeReader, suggest


class _Derived(NamedTuple):
    """A name the generator derives: the name, what it names, where to report, how to fix."""

    name: str
    owner: str
    node: Node
    rename: str


class CrossCheck:
    """Builds the validated entities from ``raw`` through ``read``; problems go to its problems."""

    def __init__(self, read: NodeReader, raw: list[RawEntity]) -> None:
        self.read = read
        self.problems = read.problems
        self.raw = raw
        self.by_name = {e.name: e for e in raw}
        # The type of each entity's key: what a ref to it stores.
        self.pk_types: dict[str, str] = {}
        for entity in raw:
            pks = [f for f in entity.fields if f.get("primary_key") and f.type]
            if pks:
                self.pk_types[entity.name] = str(pks[0].type)

    def entities(self) -> list[EntitySpec]:
        """The validated entities (fields that failed a check left out), every problem reported."""
        self._check_collisions()
        entities: list[EntitySpec] = []
        for entity in self.raw:
            fields: list[FieldSpec] = []
            for raw_field in entity.fields:
                built = self._build_field(raw_field)
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
        self._check_cycles()
        return entities

    def _build_field(self, raw: RawField) -> FieldSpec | None:
        """The validated field: a ref takes its target key's type, the default is checked."""
        assert raw.type is not None
        by_name, pk_types = self.by_name, self.pk_types
        value_type = raw.type
        target = raw.get("to")
        if raw.type == "ref" and target is not None:
            if target not in by_name:
                self.problems.add(
                    raw.nodes["to"],
                    f"ref {raw.name} points to unknown entity {target!r}"
                    f"{suggest(target, sorted(by_name))}",
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

    def _default(self, raw: RawField, value_type: str) -> Default | None:
        """The field's checked default (it needs the ref target's key type, so it waits here)."""
        node = raw.default_node
        if node is None:
            return None
        ok, value = self.read.value(node)
        if not ok:
            return None
        bad = default_for(raw, value_type, value)
        if isinstance(bad, str):
            self.problems.add(node, f"default of {raw.name}: {bad}")
            return None
        return bad

    def _check_collisions(self) -> None:
        """Generated class names, snake_case forms and table names must all be distinct."""
        owners = {entity.name: f"entity {entity.name}" for entity in self.raw}
        for derived in self._derived_names():
            self._claim(owners, derived)
        self._check_case_collisions()

    def _derived_names(self) -> Iterator[_Derived]:
        """The class names the generator derives from entity and field names."""
        for entity in self.raw:
            for suffix, what in (
                ("Create", "create model"),
                ("Update", "update model"),
                ("Repository", "repository"),
            ):
                yield _Derived(
                    entity.name + suffix,
                    f"the {what} of {entity.name}",
                    entity.key,
                    f"rename entity {entity.name}",
                )
            for raw_field in entity.fields:
                if raw_field.needs_type_name():
                    yield _Derived(
                        entity.name + naming.pascal_case(raw_field.name),
                        f"the type of {entity.name}.{raw_field.name}",
                        raw_field.key,
                        f"rename the field (e.g. {raw_field.name + '_value'!r})",
                    )

    def _claim(self, owners: dict[str, str], derived: _Derived) -> None:
        """Take a derived name for its owner, or report whom it collides with."""
        name, owner, node, rename = derived
        entities = self.by_name
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

    def _check_case_collisions(self) -> None:
        """Entities whose snake_case forms or (case-folded) tables coincide."""
        raw = self.raw
        snakes: dict[str, RawEntity] = {}
        tables: dict[str, RawEntity] = {}
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

    def _check_cycles(self) -> None:
        """Non-nullable refs must not form a cycle: its first record could never be created."""
        raw, by_name = self.raw, self.by_name
        edges: dict[str, list[RawField]] = {
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


def _strongly_connected(edges: dict[str, list[RawField]]) -> list[list[str]]:
    """Tarjan's strongly connected components of the ref graph, in a stable order.

    Iterative: a chain of thousands of refs must not exhaust Python's recursion limit.
    """
    tarjan = _Tarjan(edges)
    for root in edges:
        if root not in tarjan.index:
            tarjan.visit(root)
    return tarjan.components


class _Tarjan:
    """The state of Tarjan's algorithm over the ref graph ``edges``."""

    def __init__(self, edges: dict[str, list[RawField]]) -> None:
        self.edges = edges
        self.index: dict[str, int] = {}
        self.low: dict[str, int] = {}
        self.on_stack: set[str] = set()
        self.stack: list[str] = []
        self.components: list[list[str]] = []

    def enter(self, node: str) -> tuple[str, Iterator[RawField]]:
        self.index[node] = self.low[node] = len(self.index)
        self.stack.append(node)
        self.on_stack.add(node)
        return node, iter(self.edges.get(node, []))

    def visit(self, root: str) -> None:
        """Depth-first from ``root`` with an explicit stack of (node, refs still to follow)."""
        low, index = self.low, self.index
        work = [self.enter(root)]
        while work:
            node, refs = work[-1]
            ref = next(refs, None)
            if ref is not None:
                target = str(ref.get("to"))
                if target not in index:
                    work.append(self.enter(target))
                elif target in self.on_stack:
                    low[node] = min(low[node], index[target])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                self.components.append(self._pop_component(node))

    def _pop_component(self, node: str) -> list[str]:
        """The component rooted at ``node``: the stack down to it."""
        component: list[str] = []
        while True:
            member = self.stack.pop()
            self.on_stack.discard(member)
            component.append(member)
            if member == node:
                return component


def _one_cycle(
    component: list[str], edges: dict[str, list[RawField]]
) -> list[tuple[str, RawField]]:
    """A cycle inside a strongly connected component (empty when the component has none)."""
    members = set(component)
    start = min(component)
    # Breadth-first from start, staying inside the component, until an edge returns to start.
    paths: dict[str, list[tuple[str, RawField]]] = {start: []}
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
