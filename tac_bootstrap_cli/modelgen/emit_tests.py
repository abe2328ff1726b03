"""Emit ``tests/test_<module>.py``: the module's imports and fixtures around each entity's tests.

The parts: ``testplan.py`` (how many records the Factory can make, which tests fit),
``testfactory.py`` (the ``Factory`` class and example values as source) and ``testcases.py``
(the tests of one entity).
"""

from __future__ import annotations

from tac_bootstrap_cli.modelgen import naming
from tac_bootstrap_cli.modelgen.common import Origin, gc_paused
from tac_bootstrap_cli.modelgen.dialects import Dialect, dialect_of
from tac_bootstrap_cli.modelgen.emit_models import import_from
from tac_bootstrap_cli.modelgen.pyfmt import docstring
from tac_bootstrap_cli.modelgen.spec import ModelSpec
from tac_bootstrap_cli.modelgen.testcases import EntityTests
from tac_bootstrap_cli.modelgen.testfactory import ModuleParts, factory_class
from tac_bootstrap_cli.modelgen.testplan import RecordPlan


@gc_paused
def emit_tests(spec: ModelSpec, origin: Origin) -> str:
    """The text of ``tests/test_<module>.py``."""
    dialect = dialect_of(origin.dialect)
    plan = RecordPlan(spec)
    ctx = ModuleParts(dialect=dialect)
    ctx.package.update(["connect", "init_schema", *dialect.package_extra])
    factory = factory_class(plan, ctx)
    body: list[str] = []
    for entity in spec.entities:
        body.extend(EntityTests(plan, ctx, entity).emit())
    lines = origin.header("#")
    about = f"Tests of the generated {spec.module} package: CRUD, filters, constraints and refs"
    lines.append(docstring(about, ""))
    lines.append("")
    lines.extend(_imports(spec, ctx, dialect))
    lines.extend(ctx.constants)
    lines.extend(factory)
    lines.extend(dialect.test_fixtures(len(spec.entities)).splitlines())
    if "time" in ctx.std:
        lines.extend(WAIT_PAST.splitlines())
    lines.extend(body)
    return "\n".join(lines) + "\n"


def _imports(spec: ModelSpec, ctx: ModuleParts, dialect: Dialect) -> list[str]:
    plain = set(dialect.test_std)  # "import x" lines come first, then "from x import y"
    plain.update(name for name in ("datetime", "time") if name in ctx.std)
    froms = {"collections.abc": "Iterator"}
    froms.update({"pathlib": "Path"} if dialect.test_path else {})
    froms.update({"typing": "Any"} if "Any" in ctx.std else {})
    froms.update({"uuid": "UUID"} if "UUID" in ctx.std else {})
    lines = [f"import {name}" for name in sorted(plain)]
    lines.extend(f"from {module} import {name}" for module, name in sorted(froms.items()))
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
