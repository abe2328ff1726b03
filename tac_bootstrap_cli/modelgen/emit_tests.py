"""Emit ``tests/test_<module>.py``: the module's imports and fixtures around each entity's tests.

The parts: ``testplan.py`` (how many records the Factory can make, which tests fit),
``testfactory.py`` (the ``Factory`` class and example values as source) and ``testcases.py``
(the tests of one entity).
"""

from __future__ import annotations

from tac_bootstrap_cli.modelgen import naming
from tac_bootstrap_cli.modelgen.common import Origin, gc_paused
from tac_bootstrap_cli.modelgen.emit_models import import_from
from tac_bootstrap_cli.modelgen.pyfmt import docstring
from tac_bootstrap_cli.modelgen.spec import ModelSpec
from tac_bootstrap_cli.modelgen.testcases import EntityTests
from tac_bootstrap_cli.modelgen.testfactory import ModuleParts, factory_class
from tac_bootstrap_cli.modelgen.testplan import RecordPlan


@gc_paused
def emit_tests(spec: ModelSpec, origin: Origin) -> str:
    """The text of ``tests/test_<module>.py``."""
    plan = RecordPlan(spec)
    ctx = ModuleParts()
    ctx.package.update(["connect", "init_schema"])
    ctx.std.add("Path")
    factory = factory_class(plan, ctx)
    body: list[str] = []
    for entity in spec.entities:
        body.extend(EntityTests(plan, ctx, entity).emit())
    lines = origin.header("#")
    about = f"Tests of the generated {spec.module} package: CRUD, filters, constraints and refs"
    lines.append(docstring(about, ""))
    lines.append("")
    lines.extend(_imports(spec, ctx))
    lines.extend(ctx.constants)
    lines.extend(factory)
    lines.extend(_FIXTURES.splitlines())
    if "time" in ctx.std:
        lines.extend(WAIT_PAST.splitlines())
    lines.extend(body)
    return "\n".join(lines) + "\n"


_FIXTURES = '''

@pytest.fixture
def conn() -> Iterator[sqlite3.Connection]:
    """A fresh in-memory database with the schema."""
    connection = connect()
    init_schema(connection)
    yield connection
    connection.close()


@pytest.fixture
def make(conn: sqlite3.Connection) -> Factory:
    """A factory of valid records in ``conn``."""
    return Factory(conn)


def test_init_schema_is_idempotent_and_files_use_wal(tmp_path: Path) -> None:
    db = connect(tmp_path / "test.sqlite3")
    init_schema(db)
    init_schema(db)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    db.close()'''


def _imports(spec: ModelSpec, ctx: ModuleParts) -> list[str]:
    lines: list[str] = []
    if "datetime" in ctx.std:
        lines.append("import datetime")
    lines.append("import sqlite3")
    if "time" in ctx.std:
        lines.append("import time")
    lines.append("from collections.abc import Iterator")
    lines.append("from pathlib import Path")
    if "Any" in ctx.std:
        lines.append("from typing import Any")
    if "UUID" in ctx.std:
        lines.append("from uuid import UUID")
    lines.append("")
    lines.append("import pytest")
    if ctx.pydantic:
        lines.extend(import_from("pydantic", sorted(ctx.pydantic, key=naming.import_key)))
    lines.append("")
    names = sorted(ctx.package, key=naming.import_key)
    lines.extend(import_from(spec.module, names))
    return lines


WAIT_PAST = '''

def _wait_past(moment: datetime.datetime) -> None:
    """Sleep until the UTC clock is past ``moment`` (so auto_now visibly moves)."""
    while datetime.datetime.now(datetime.UTC) <= moment:
        time.sleep(0.001)'''
