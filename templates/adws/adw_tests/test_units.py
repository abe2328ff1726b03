"""Small pieces of the layer: ids, config, redaction, stream parsing, cron schedules."""

from __future__ import annotations

import importlib.util
import json
import sys
import types
from datetime import datetime
from pathlib import Path

import pytest

from adw_modules import utils
from adw_modules.agent import parse_stream

ADWS = Path(__file__).resolve().parents[1]


def _load(path: Path, name: str) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_adw_ids_are_8_hex() -> None:
    ids = {utils.new_adw_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(utils.check_adw_id(i) == i for i in ids)
    with pytest.raises(ValueError, match="8 lower-case hex"):
        utils.check_adw_id("ABCDEF12")


def test_config_defaults_and_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TAC_DB_PATH", raising=False)
    config = utils.load_config(tmp_path)
    assert utils.retry_policy(config) == (2, 10.0)
    assert utils.db_path(tmp_path, config) == tmp_path / "agents" / "orchestrator.db"
    (tmp_path / "config.yml").write_text(
        "workflows:\n  on_failure: {retries: 5, delay_seconds: 0}\ndatabase: {path: x/run.db}\n"
    )
    config = utils.load_config(tmp_path)
    assert utils.retry_policy(config) == (5, 0.0)
    assert utils.db_path(tmp_path, config) == tmp_path / "x" / "run.db"
    monkeypatch.setenv("TAC_DB_PATH", "other.db")
    assert utils.db_path(tmp_path, config) == tmp_path / "other.db"


@pytest.mark.parametrize(
    "secret",
    [
        "sk-ant-api03-abcdefghijklmnopqrstuvwxyz",
        "ghp_abcdefghijklmnopqrstuvwxyz0123",
        "AKIAABCDEFGHIJKLMNOP",
        "password=hunter22",
        "API_KEY: 'abcd1234efgh'",
    ],
)
def test_redact_hides_secrets(secret: str) -> None:
    text = utils.redact(f"before {secret} after")
    assert "[REDACTED]" in text
    assert "abcdefghijklmnop" not in text and "hunter22" not in text and "abcd1234efgh" not in text


def test_summarize_truncates() -> None:
    text = utils.summarize({"x": "y" * 5000}, limit=100)
    assert text.endswith("chars]") and len(text) < 140


def test_parse_stream_takes_the_last_result_line() -> None:
    lines = [
        json.dumps({"type": "system", "subtype": "init"}),
        "not json",
        json.dumps({"type": "result", "result": "first"}),
        json.dumps({"type": "result", "result": "last", "usage": {"input_tokens": 3}}),
    ]
    assert parse_stream(lines)["result"] == "last"
    assert parse_stream([]) is None


def test_cron_matching() -> None:
    cron = _load(ADWS / "adw_triggers" / "trigger_cron.py", "trigger_cron")
    monday_9_05 = datetime(2024, 1, 1, 9, 5)
    assert cron.cron_matches("*/5 * * * *", monday_9_05)
    assert not cron.cron_matches("*/10 * * * *", monday_9_05)
    assert cron.cron_matches("5 9 * * 1", monday_9_05)
    assert cron.cron_matches("0-10 8-17 1 1 1-5", monday_9_05)
    assert not cron.cron_matches("5 9 * * 0,6", monday_9_05)
    with pytest.raises(ValueError):
        cron.parse_cron("* * *")
    with pytest.raises(ValueError):
        cron.parse_cron("61 * * * *")
