"""``runs`` reads the history with plain sqlite3 in the shipped models' columns, without importing
the models: these lists must stay the models' fields, in order."""

from __future__ import annotations

from tac_bootstrap_cli._adws.adw_modules.orch_database_models import Agent, AgentLog, Prompt
from tac_bootstrap_cli.history import runs


def test_the_columns_runs_reads_are_the_models_fields() -> None:
    assert tuple(Agent.model_fields) == runs.AGENT_COLUMNS
    assert tuple(Prompt.model_fields) == runs.PROMPT_COLUMNS
    assert tuple(AgentLog.model_fields) == runs.LOG_COLUMNS
