"""The spec as written, between the walk and the cross-checks: entities and fields with their nodes.

``validate.py`` fills these while it walks the YAML; ``crosscheck.py`` turns them into the
validated ``spec.ModelSpec``. Each keeps the nodes it came from, so a problem found across entities
(an unknown ref target, a name collision, a cycle) is still reported at its line and column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from yaml.nodes import Node, ScalarNode

from tac_bootstrap_cli.modelgen.spec import CONSTRAINT_KEYS
from tac_bootstrap_cli.modelgen.yamlnodes import NameLists


@dataclass
class RawField:
    """One field whose keys were read and checked on their own; ``values`` holds the good ones."""

    name: str
    key: ScalarNode
    node: Node
    type: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    nodes: dict[str, Node] = field(default_factory=dict)
    default_node: Node | None = None

    def get(self, key: str, fallback: Any = None) -> Any:
        """The value given for ``key`` (when it was valid), else ``fallback``."""
        return self.values.get(key, fallback)

    def needs_type_name(self) -> bool:
        """True when the field gets its own named type (an enum, or a type with constraints)."""
        if self.type == "enum":
            return True
        return any(key in self.nodes for key in CONSTRAINT_KEYS)


@dataclass
class RawEntity:
    """One entity whose name, table, fields, indexes and unique sets were read."""

    name: str
    key: ScalarNode
    table: str
    table_node: Node | None
    description: str | None
    fields: list[RawField]
    indexes: NameLists
    unique: NameLists
