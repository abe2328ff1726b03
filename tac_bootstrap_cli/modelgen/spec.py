"""The model spec as the emitters read it: validated entities and fields, and the keys a spec has.

Plain data: ``parse_spec`` (``validate.py``) builds it from YAML, every problem reported at its
line and column; the emitters only ever see a spec that passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from tac_bootstrap_cli.modelgen import naming

TYPES = ("str", "text", "int", "float", "bool", "uuid", "datetime", "date", "json", "enum", "ref")
PK_TYPES = ("int", "uuid", "str")
ON_DELETE = ("cascade", "set_null", "restrict")
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

TOP_KEYS = ("module", "description", "entities")
ENTITY_KEYS = ("table", "description", "fields", "indexes", "unique")
_ALL = TYPES
# Field key -> the types it applies to.
FIELD_KEYS: dict[str, tuple[str, ...]] = {
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
BOOL_KEYS = ("primary_key", "nullable", "auto_now", "unique", "index", "secret")
BOUND_KEYS = ("ge", "gt", "le", "lt")
# Keys that give a field its own named type (as an enum's values do): ``needs_type_name`` decides
# it for a validated field, ``rawspec.RawField.needs_type_name`` for one still being checked.
CONSTRAINT_KEYS = (*BOUND_KEYS, "min_length", "max_length", "pattern", "description")

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


def needs_type_name(spec_field: FieldSpec) -> bool:
    """True when a validated field gets its own named type (an enum, or a type with constraints)."""
    if spec_field.type == "enum":
        return True
    return any(getattr(spec_field, key) is not None for key in CONSTRAINT_KEYS)
