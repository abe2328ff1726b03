"""``specs/models/orchestrator.yaml`` says it mirrors the orchestrator schema: keep it true."""

from __future__ import annotations

from pathlib import Path

from tac_bootstrap_cli._adws.adw_modules import adw_sqlite
from tac_bootstrap_cli.modelgen import load_spec

SPEC = Path(__file__).resolve().parents[2] / "specs" / "models" / "orchestrator.yaml"


def test_the_spec_has_every_table_and_column_of_the_schema(tmp_path: Path) -> None:
    conn = adw_sqlite.connect(tmp_path / "run.db")
    adw_sqlite.init_schema(conn)
    try:
        schema = {
            table: {row[1] for row in conn.execute("SELECT * FROM pragma_table_info(?)", (table,))}
            for table in adw_sqlite.TABLES
        }
    finally:
        conn.close()
    spec = {e.table: {f.name for f in e.fields} for e in load_spec(SPEC).entities}
    assert spec == schema
