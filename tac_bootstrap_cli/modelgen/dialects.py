"""The backends the generated layer can target: one frozen ``Dialect`` per database.

The emitters consult the dialect named by ``Origin.dialect`` (``dialect_of``) for everything that
differs between SQLite and PostgreSQL: column types and bound literals in the DDL, constraint
names, the repository's imports, runtime text and per-entity SQL pieces, and the test module's
connection type, imports and fixtures. They never compare the dialect's name.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from tac_bootstrap_cli.modelgen import runtime_postgres, runtime_sqlite
from tac_bootstrap_cli.modelgen.common import quote_ident
from tac_bootstrap_cli.modelgen.pyfmt import py_number
from tac_bootstrap_cli.modelgen.spec import FieldSpec

DEFAULT = "sqlite"

# Bounds in SQLite CHECKs: SQLite's decimal parser is not correctly rounded (3.40.1 reads
# -106323.488609 one ulp away from Python's double), so a decimal literal could put the database's
# bound one float away from Pydantic's. Decimals that every parser reads exactly stay as they are
# (short binary fractions: 0.5, 100.0, -2.25); any other float is written as its exact binary
# value, an integer times or divided by powers of two, which SQLite computes without rounding.
_EXACT_DENOMINATOR = 2**10
_EXACT_NUMERATOR = 2**53
_POW2_STEP = 62  # 2**62 is still an SQLite INTEGER literal

_PG_NAME_BYTES = 63  # NAMEDATALEN - 1: PostgreSQL truncates longer identifiers


def sqlite_number(value: int | float) -> str:
    """An SQL literal (or exact expression) whose value is exactly ``value`` in any SQLite."""
    if not isinstance(value, float):
        return str(int(value))
    numerator, denominator = value.as_integer_ratio()
    if denominator <= _EXACT_DENOMINATOR and abs(numerator) <= _EXACT_NUMERATOR:
        return py_number(value)
    if denominator > 1:  # |value| = m / 2**k, m < 2**53: one exact division per step
        mantissa, shift, op = numerator, denominator.bit_length() - 1, "/"
    else:  # a large integer: m * 2**k
        shift = (numerator & -numerator).bit_length() - 1
        mantissa, op = numerator >> shift, "*"
    parts = [f"CAST({mantissa} AS REAL)"]
    while shift > 0:
        step = min(shift, _POW2_STEP)
        parts.append(f"{op} {2**step}")
        shift -= step
    return "(" + " ".join(parts) + f" /* {py_number(value)} */)"


def postgres_number(value: int | float) -> str:
    """A bound for PostgreSQL: ints as written, floats as a float8 literal.

    PostgreSQL reads float8 text with the C library's correctly rounded ``strtod``, and Python's
    ``repr`` is the shortest text that rounds to the same double, so the bound is exactly
    Pydantic's.
    """
    if not isinstance(value, float):
        return str(int(value))
    return f"'{py_number(value)}'::double precision"


def postgres_name(name: str) -> str:
    """``name`` if PostgreSQL keeps it whole (63 bytes), else a cut with a hash of the whole."""
    raw = name.encode("utf-8")
    if len(raw) <= _PG_NAME_BYTES:
        return name
    digest = hashlib.sha256(raw).hexdigest()[:10]
    head = raw[: _PG_NAME_BYTES - len(digest) - 1].decode("utf-8", "ignore")
    return f"{head}_{digest}"


@dataclass(frozen=True)
class Dialect:
    """What one database needs from the emitters (see the module docstring)."""

    name: str  # the --dialect value
    title: str  # for docstrings and comments: "SQLite", "PostgreSQL"
    # schema.sql
    schema_notes: tuple[str, ...]  # comment lines under the header
    column_types: Mapping[str, str]  # value type -> column type (else text_type)
    text_type: str
    int_key: str  # after the type of an int primary key (the database assigns it), if anything
    bool_check: bool  # bools need a CHECK (SQLite stores 0/1)
    length_function: str
    number: Callable[[int | float], str]
    short_name: Callable[[str], str]  # an identifier as the database keeps it
    names_keys: bool  # primary key and UNIQUE constraints get names (PostgreSQL reports them)
    forward_refs: bool  # a foreign key may name a table created later in the file
    # repository.py
    repo_imports: tuple[str, ...]  # the import block before ``from pydantic import ...``
    preamble: str
    mark: str  # the parameter placeholder
    converters: Mapping[str, str]  # value type -> the runtime's conversion function
    decode_json: bool  # JSON columns come back as text
    now_type: str  # the type of ``now`` in ``_row``
    cursor_type: str
    returning: bool  # an int key comes back by ``RETURNING`` (else the cursor's lastrowid)
    copy: bool  # create_many by COPY
    package_extra: tuple[str, ...]  # more names the package re-exports
    # tests/test_<module>.py
    conn_type: str
    test_std: tuple[str, ...]  # standard library modules the test module always imports
    test_path: bool  # the fixtures use pathlib.Path
    test_fixtures: Callable[[int], str]  # number of tables -> fixtures and schema tests

    def column_type(self, field: FieldSpec) -> str:
        """The column type of ``field`` (refs: their target key's type)."""
        return self.column_types.get(field.value_type, self.text_type)

    def constraint_name(self, table: str, kind: str, columns: tuple[str, ...]) -> str | None:
        """The name of a ``check``, ``unique`` or ``pk`` constraint, or None (left unnamed).

        CHECKs are named ``table.column`` on both (SQLite reports the name); PostgreSQL also names
        keys, so its errors say which columns a unique violation was about.
        """
        if kind == "check":
            return self.short_name(f"{table}.{columns[0]}")
        if self.names_keys:
            return self.short_name(f"{kind}.{table}.{'.'.join(columns)}")
        return None

    def constraint(self, table: str, kind: str, columns: tuple[str, ...]) -> str:
        """``CONSTRAINT "name" `` (with its trailing space) or ``""`` (``constraint_name``)."""
        name = self.constraint_name(table, kind, columns)
        return "" if name is None else f"CONSTRAINT {quote_ident(name)} "


def _sqlite_fixtures(_tables: int) -> str:
    return runtime_sqlite.FIXTURES


SQLITE = Dialect(
    name="sqlite",
    title="SQLite",
    schema_notes=(
        "-- Datetimes are ISO 8601 UTC text with microseconds (text order is time order), dates",
        "-- ISO text, UUIDs lower-case text, JSON text, bools 0/1, secrets plain text.",
    ),
    column_types={"int": "INTEGER", "float": "REAL", "bool": "INTEGER"},
    text_type="TEXT",
    int_key="",
    bool_check=True,
    length_function="length",
    number=sqlite_number,
    short_name=str,
    names_keys=False,
    forward_refs=True,
    repo_imports=runtime_sqlite.IMPORTS,
    preamble=runtime_sqlite.PREAMBLE,
    mark="?",
    converters={"datetime": "_timestamp", "date": "_day", "uuid": "_uuid"},
    decode_json=True,
    now_type="str",
    cursor_type="sqlite3.Cursor",
    returning=False,
    copy=False,
    package_extra=(),
    conn_type="sqlite3.Connection",
    test_std=("sqlite3",),
    test_path=True,
    test_fixtures=_sqlite_fixtures,
)

POSTGRES = Dialect(
    name="postgres",
    title="PostgreSQL",
    schema_notes=(
        "-- Datetimes are TIMESTAMPTZ, dates DATE, UUIDs UUID, JSON JSONB, bools BOOLEAN, secrets",
        '-- plain text; text is COLLATE "C" (code point order, as in SQLite and Python).',
    ),
    column_types={
        "int": "BIGINT",
        "float": "DOUBLE PRECISION",
        "bool": "BOOLEAN",
        "uuid": "UUID",
        "datetime": "TIMESTAMPTZ",
        "date": "DATE",
        "json": "JSONB",
    },
    text_type='TEXT COLLATE "C"',
    int_key=" GENERATED BY DEFAULT AS IDENTITY",
    bool_check=False,
    length_function="char_length",
    number=postgres_number,
    short_name=postgres_name,
    names_keys=True,
    forward_refs=False,
    repo_imports=runtime_postgres.IMPORTS,
    preamble=runtime_postgres.PREAMBLE,
    mark="%s",
    converters={"datetime": "_timestamp", "uuid": "_uuid"},
    decode_json=False,
    now_type="datetime.datetime",
    cursor_type="Cursor",
    returning=True,
    copy=True,
    package_extra=("Connection",),
    conn_type="Connection",
    test_std=("os", "secrets"),
    test_path=False,
    test_fixtures=runtime_postgres.fixtures,
)

DIALECTS = {d.name: d for d in (SQLITE, POSTGRES)}


def dialect_of(name: str) -> Dialect:
    """The dialect called ``name`` (``ValueError`` naming the known ones otherwise)."""
    try:
        return DIALECTS[name]
    except KeyError:
        known = ", ".join(DIALECTS)
        raise ValueError(f"unknown dialect {name!r} (known: {known})") from None
