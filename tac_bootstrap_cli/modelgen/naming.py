"""Names: case conversions, table plurals, enum member names and the names generated code reserves."""

from __future__ import annotations

import keyword
import re
import sys

SNAKE_RE = re.compile(r"[a-z][a-z0-9_]*")
PASCAL_RE = re.compile(r"[A-Z][A-Za-z0-9]*")
TABLE_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# Long names make generated lines unreadable (and SQLite identifiers in messages hard to scan).
MAX_NAME_LENGTH = 60

_WORD_BOUNDARY = (
    re.compile(r"([A-Z]+)([A-Z][a-z])"),  # "HTTPLog" -> "HTTP_Log"
    re.compile(r"([a-z0-9])([A-Z])"),  # "taskRun" -> "task_Run"
)
_NON_ALNUM = re.compile(r"[^0-9A-Za-z]+")

# PascalCase names imported or defined by the generated modules (models, repository, tests): an
# entity (or a type derived from a field) with one of these names would shadow it.
RESERVED_CLASS_NAMES = frozenset(
    {
        "AfterValidator",
        "Annotated",
        "Any",
        "BaseModel",
        "Callable",
        "ClassVar",
        "ConfigDict",
        "ConstraintError",
        "CreateT",
        "Date",
        "DateTime",
        "Factory",
        "Field",
        "Generic",
        "Int64",
        "Iterable",
        "Iterator",
        "JsonValue",
        "KeyT",
        "Path",
        "RecordT",
        "SecretStr",
        "Self",
        "StrEnum",
        "TypeVar",
        "UUID",
        "UpdateT",
        "UtcDateTime",
        "ValidationError",
    }
)

# Attributes of pydantic.BaseModel (v2, including the deprecated v1 names): a field with one of
# these names would shadow it. Checked against the installed pydantic by the test suite.
BASE_MODEL_ATTRIBUTES = frozenset(
    {
        "construct",
        "copy",
        "dict",
        "from_orm",
        "json",
        "model_computed_fields",
        "model_config",
        "model_construct",
        "model_copy",
        "model_dump",
        "model_dump_json",
        "model_extra",
        "model_fields",
        "model_fields_set",
        "model_json_schema",
        "model_parametrized_name",
        "model_post_init",
        "model_rebuild",
        "model_validate",
        "model_validate_json",
        "model_validate_strings",
        "parse_file",
        "parse_obj",
        "parse_raw",
        "schema",
        "schema_json",
        "update_forward_refs",
        "validate",
    }
)

# Lower-case names the generated class bodies refer to (a field of that name would shadow them
# for the fields after it), and the keyword arguments of the generated list()/count() methods.
RESERVED_FIELD_NAMES = frozenset(
    {
        "bool",
        "dict",
        "float",
        "frozenset",
        "int",
        "limit",
        "list",
        "offset",
        "order_by",
        "self",
        "str",
        "utc_now",
        "utc_today",
        "uuid4",
    }
)

# Third-party packages the generated code and its tests import, plus the tests folder itself.
_RESERVED_MODULES = frozenset(
    {"annotated_types", "pydantic", "pydantic_core", "pytest", "_pytest", "pluggy", "tests"}
)


def snake_case(name: str) -> str:
    """``TaskRun`` -> ``task_run``, ``HTTPLog`` -> ``http_log``, ``robot-name`` -> ``robot_name``."""
    text = name
    for pattern in _WORD_BOUNDARY:
        text = pattern.sub(r"\1_\2", text)
    return _NON_ALNUM.sub("_", text).strip("_").lower()


def pascal_case(name: str) -> str:
    """``robot_name`` -> ``RobotName`` (parts split on non-alphanumerics, each capitalised)."""
    return "".join(part[:1].upper() + part[1:] for part in _NON_ALNUM.split(name) if part)


def plural(word: str) -> str:
    """English plural of a snake_case name's last word: ``task_run`` -> ``task_runs``."""
    if re.search(r"(s|x|z|ch|sh)$", word):
        return word + "es"
    if re.search(r"[^aeiou]y$", word):
        return word[:-1] + "ies"
    return word + "s"


def table_name(entity: str) -> str:
    """The default table of an entity: snake_case plural of its name."""
    return plural(snake_case(entity))


def enum_member(value: str) -> str:
    """The StrEnum member name of a value: UPPER_SNAKE_CASE, ``V_`` prefixed if it starts with a digit."""
    member = snake_case(value).upper()
    if member[:1].isdigit():
        member = "V_" + member
    return member


def is_keyword(name: str) -> bool:
    """True for Python keywords and soft keywords that cannot be used as a name everywhere."""
    return keyword.iskeyword(name)


def module_conflict(name: str) -> str | None:
    """Why a package name would shadow something the generated code imports, or None."""
    if name in sys.stdlib_module_names:
        return "it would shadow the standard library module of that name"
    if name in _RESERVED_MODULES:
        return "it would shadow a package the generated code or its tests import"
    return None


# --- the names a spec may give: each check says why a name is refused (None: accepted) ---------


def _use_instead(hint: str, pattern: re.Pattern[str]) -> str:
    """``; use 'hint'`` when the converted name is itself valid, else nothing."""
    return f"; use {hint!r}" if hint and pattern.fullmatch(hint) else ""


def module_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be the generated package's name, or None."""
    if not SNAKE_RE.fullmatch(name):
        suggestion = _use_instead(snake_case(name), SNAKE_RE)
        return f"module {name!r} is not a snake_case name{suggestion}"
    if is_keyword(name):
        return f"module {name!r} is a Python keyword; use {name + '_models'!r}"
    conflict = module_conflict(name)
    if conflict:
        return f"module {name!r} is refused: {conflict}; use {name + '_models'!r}"
    if len(name) > MAX_NAME_LENGTH:
        return f"module name is longer than {MAX_NAME_LENGTH} characters"
    return None


def entity_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be an entity's (class) name, or None."""
    if not PASCAL_RE.fullmatch(name):
        return f"entity name {name!r} is not PascalCase{_use_instead(pascal_case(name), PASCAL_RE)}"
    if is_keyword(name):
        return f"entity name {name!r} is a Python keyword; use {name + 'Record'!r}"
    if name in RESERVED_CLASS_NAMES:
        return (
            f"entity name {name!r} would shadow a name the generated code imports; "
            f"use {name + 'Record'!r}"
        )
    if len(name) > MAX_NAME_LENGTH:
        return f"entity name is longer than {MAX_NAME_LENGTH} characters"
    return None


def field_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a field's (attribute and column) name, or None."""
    if not SNAKE_RE.fullmatch(name):
        suggestion = _use_instead(snake_case(name), SNAKE_RE)
        return f"field name {name!r} is not snake_case (a-z, 0-9, _){suggestion}"
    if is_keyword(name):
        return f"field name {name!r} is a Python keyword; use {name + '_'!r}"
    if name in BASE_MODEL_ATTRIBUTES:
        return (
            f"field name {name!r} would shadow pydantic.BaseModel.{name}; use {name + '_value'!r}"
        )
    if name in RESERVED_FIELD_NAMES:
        return (
            f"field name {name!r} would shadow a name the generated code uses; "
            f"use {name + '_value'!r}"
        )
    if len(name) > MAX_NAME_LENGTH:
        return f"field name is longer than {MAX_NAME_LENGTH} characters"
    return None


def table_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be an entity's table name, or None."""
    if not TABLE_RE.fullmatch(name):
        return f"table {name!r} is not a valid name (letters, digits, _)"
    if name.lower().startswith("sqlite_"):
        return f"table {name!r} is refused: SQLite reserves names sqlite_*"
    return None


# --- sort orders of generated code ---------------------------------------------------------------


def _natord(text: str) -> tuple[tuple[int, int, str], ...]:
    """Natural order: runs of digits compare as numbers, before any other character."""
    return tuple(
        (0, int(run), "") if run.isdigit() else (1, 0, run) for run in re.findall(r"\d+|\D", text)
    )


def _member_group(name: str) -> int:
    if len(name) > 1 and name.isupper():
        return 0  # CONSTANT
    return 1 if name[:1].isupper() else 2  # Class, then everything else


def import_key(name: str) -> tuple[object, ...]:
    """Sort key of ruff's isort order of imported names: CONSTANTS, Classes, others; case-folded."""
    return (_member_group(name), _natord(name.lower()), _natord(name))


def all_key(name: str) -> tuple[object, ...]:
    """Sort key of ruff's RUF022 order of ``__all__``: like imports, but case-sensitive."""
    return (_member_group(name), _natord(name))
