"""``telemetry:`` in config.yml: the generator's model accepts it (render and upgrade no longer
refuse the file), checks ``otlp_endpoint`` by the rule the shipped layer reads, and writes the
section only once it is set; doctor reports a bad value as a config failure."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tac_bootstrap_cli._adws.adw_modules import adw_telemetry as tel
from tac_bootstrap_cli.config import dump_config, parse_config
from tac_bootstrap_cli.errors import ConfigError

BASE = "project:\n  name: demo\ntelemetry:\n  otlp_endpoint: {}\n"


def test_an_endpoint_is_kept_and_written_back() -> None:
    config = parse_config(BASE.format("http://localhost:6006"))
    assert config.telemetry.otlp_endpoint == "http://localhost:6006"
    assert "telemetry:\n  otlp_endpoint: http://localhost:6006\n" in dump_config(config)
    assert parse_config(dump_config(config)) == config
    plain = parse_config("project:\n  name: demo\n")
    assert plain.telemetry.otlp_endpoint is None
    assert "telemetry" not in dump_config(plain)  # absent unless set: no golden file changes
    assert parse_config(BASE.format("''")).telemetry.otlp_endpoint is None


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("localhost:4318", "must be an http(s) URL"),
        ("grpc://collector:4317", "must be an http(s) URL"),
        ("http://", "must be an http(s) URL"),
        ("http://collector:port", "not a valid URL"),
        ("https://user:secret@collector.example", "must not hold credentials"),
    ],
)
def test_the_config_check_names_the_key_and_its_line(url: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(BASE.format(url))
    message = str(caught.value)
    assert message.startswith(f"config.yml:4: telemetry.otlp_endpoint: {problem}"), message
    assert "secret" not in message


def test_unknown_telemetry_keys_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"config.yml:4: telemetry.endpoint: "):
        parse_config("project:\n  name: demo\ntelemetry:\n  endpoint: http://x:4318\n")


def test_the_workflows_turn_export_off_on_a_bad_endpoint(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    assert tel.endpoint({"telemetry": {"otlp_endpoint": "collector:4318"}}) is None
    err = capsys.readouterr().err
    assert "config.yml: telemetry.otlp_endpoint: must be an http(s) URL" in err
    assert "export is off" in err


def _project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from tac_bootstrap_cli import scaffold

    fake = tmp_path / "fake-claude"
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    monkeypatch.setenv("CLAUDE_CODE_PATH", str(fake))
    return scaffold.init_project("app", tmp_path).target


def test_render_accepts_a_telemetry_section_and_keeps_it(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _project(tmp_path, monkeypatch)
    config = project / "config.yml"
    config.write_text(
        config.read_text() + "telemetry:\n  otlp_endpoint: http://localhost:6006\n",
        encoding="utf-8",
    )
    result = cli("render", project)
    assert result.exit_code == 0, result.stdout
    assert "otlp_endpoint: http://localhost:6006" in config.read_text()


def test_doctor_fails_on_a_bad_endpoint(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _project(tmp_path, monkeypatch)
    config = project / "config.yml"
    config.write_text(
        config.read_text() + "telemetry:\n  otlp_endpoint: collector:4318\n", encoding="utf-8"
    )
    result = cli("doctor", project, "--json")
    report = json.loads(result.stdout)
    fails = [f"{c['name']}: {c['message']}" for c in report["checks"] if c["status"] == "fail"]
    assert result.exit_code == 1
    assert any("telemetry.otlp_endpoint: must be an http(s) URL" in f for f in fails), fails
