"""``generate models --dialect``: the seed specs on SQLite and on a real PostgreSQL server.

The PostgreSQL server is the test suite's own (``postgres_server`` in ``tests/conftest.py``); the
generated tests reach it through ``TEST_DATABASE_URL``, each test in a schema of its own.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tac_bootstrap_cli.modelgen import DIALECTS, generate_models, render_models

from .helpers import (
    EXAMPLES,
    explain,
    generate,
    generated_tests,
    mypy_strict,
    ruff_check,
    ruff_format_check,
    write_spec,
)

# The holdout-style seed systems: the AI orchestrator's run log, seed 000's robots, seed 001's
# workflows and seed 003's observability (runs, ordered steps, artifacts).
SEEDS = ["orchestrator", "robots", "workflows", "observability"]

# A ref to a table defined later, a self ref, an int key, every column type, a composite unique.
FORWARD = """\
module: forward
entities:
  Member:
    fields:
      id: {type: int, primary_key: true}
      team: {type: ref, to: Team, on_delete: cascade}
      mentor: {type: ref, to: Member, nullable: true, on_delete: set_null}
      handle: {type: str, min_length: 2, max_length: 30}
      score: {type: float, ge: 0.1, lt: 1.0e+300}
      active: {type: bool, default: true}
      born: {type: date, nullable: true}
      seen_at: {type: datetime, default: now}
      extra: {type: json, nullable: true}
      token: {type: uuid, unique: true}
    unique: [[team, handle]]
  Team:
    fields:
      id: {type: uuid, primary_key: true}
      name: {type: str, unique: true}
      level: {type: enum, values: [low, high], default: low}
"""


def _gates(out: Path) -> None:
    for check in (ruff_check, ruff_format_check, mypy_strict, generated_tests):
        outcome = check(out)
        assert outcome.returncode == 0, f"{check.__name__}: {explain(outcome)}"
        assert " skipped" not in outcome.stdout, outcome.stdout[-3000:]


@pytest.mark.slow
@pytest.mark.parametrize("dialect", sorted(DIALECTS))
@pytest.mark.parametrize("name", SEEDS)
def test_seed_specs_pass_ruff_mypy_and_their_tests_on_each_dialect(
    tmp_path: Path,
    name: str,
    dialect: str,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if dialect == "postgres":
        monkeypatch.setenv("TEST_DATABASE_URL", request.getfixturevalue("postgres_server"))
    spec = tmp_path / f"{name}.yaml"
    shutil.copy(EXAMPLES / f"{name}.yaml", spec)
    out = tmp_path / "out"
    result = generate_models(spec, out, dialect=dialect)
    assert len(result.files) == 5
    _gates(out)
    text = "".join(p.read_text(encoding="utf-8") for p in result.files)
    assert "fmt: skip" not in text
    assert "is left out" not in text


@pytest.mark.slow
def test_forward_refs_and_every_type_pass_on_postgres(
    tmp_path: Path, postgres_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_DATABASE_URL", postgres_server)
    spec = write_spec(tmp_path, FORWARD)
    out = tmp_path / "out"
    generate_models(spec, out, dialect="postgres")
    schema = (out / "forward" / "schema.sql").read_text(encoding="utf-8")
    assert 'ADD CONSTRAINT "fk.members.team"' in schema  # teams is created after members
    for column_type in ("UUID", "TIMESTAMPTZ", "JSONB", "BIGINT", "DOUBLE PRECISION", "BOOLEAN"):
        assert column_type in schema
    _gates(out)


def test_postgres_schema_is_idempotent_and_typed(tmp_path: Path, postgres_url: str) -> None:
    import psycopg

    spec = write_spec(tmp_path, FORWARD)
    _, files = render_models(spec, tmp_path / "out", "postgres")
    schema = next(text for path, text in files.items() if path.name == "schema.sql")
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(schema)
        conn.execute(schema)  # IF NOT EXISTS, and the added foreign key's duplicate_object
        rows = conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = 'members'"
        ).fetchall()
        fks = conn.execute(
            "SELECT count(*) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace"
            " WHERE n.nspname = current_schema() AND c.contype = 'f'"
        ).fetchone()
    types: dict[str, str] = dict(rows)
    assert types == {
        "id": "bigint",
        "team": "uuid",
        "mentor": "bigint",
        "handle": "text",
        "score": "double precision",
        "active": "boolean",
        "born": "date",
        "seen_at": "timestamp with time zone",
        "extra": "jsonb",
        "token": "uuid",
    }
    assert fks == (2,)


def test_postgres_tests_skip_with_the_reason_without_a_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TEST_DATABASE_URL", raising=False)
    spec = write_spec(tmp_path, FORWARD)
    out = tmp_path / "out"
    generate_models(spec, out, dialect="postgres")
    outcome = generated_tests(out)
    assert outcome.returncode == 0, explain(outcome)
    assert " passed" not in outcome.stdout
    assert "skipped" in outcome.stdout
    reason = (out / "tests" / "test_forward.py").read_text(encoding="utf-8")
    assert "TEST_DATABASE_URL is not set" in reason


def test_the_header_names_the_dialect_only_when_not_the_default(tmp_path: Path) -> None:
    result, out = generate(tmp_path, FORWARD)
    sqlite_text = {p: p.read_text(encoding="utf-8") for p in result.files}
    assert not any("--dialect" in text or "psycopg" in text for text in sqlite_text.values())
    pg = generate_models(tmp_path / "spec.yaml", tmp_path / "pg", dialect="postgres")
    for path in pg.files:
        assert "--out . --dialect postgres" in path.read_text(encoding="utf-8")
    models = out / "forward" / "models.py"
    assert models.read_bytes() == (tmp_path / "pg" / "forward" / "models.py").read_bytes().replace(
        b" --dialect postgres", b""
    ).replace(b"in pg/", b"in out/")


def test_an_unknown_dialect_is_refused(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, FORWARD)
    with pytest.raises(ValueError, match="unknown dialect 'mysql'"):
        render_models(spec, tmp_path / "out", "mysql")
