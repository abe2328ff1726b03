"""config.yml: what parses, and how each kind of mistake is reported (file, line, key; exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tac_bootstrap_cli.config import load_config, parse_config
from tac_bootstrap_cli.errors import EXIT_USAGE, ConfigError

BASE = "project:\n  name: demo\n"


def test_date_like_values_stay_text() -> None:
    config = parse_config(BASE + "agent:\n  model: 2024-02-30\n")
    assert config.agent.model == "2024-02-30"


@pytest.mark.parametrize("cron", ["*/5 * * * *", "0,30 9-17 * * 1-5", "15 3 1 */2 0"])
def test_cron_schedules_the_trigger_understands(cron: str) -> None:
    config = parse_config(BASE + f"workflows:\n  cron: '{cron}'\n")
    assert config.workflows.cron == cron


@pytest.mark.parametrize(
    "cron", ["not a cron", "* * * *", "*/5 * * * 9", "60 * * * *", "*/0 * * * *"]
)
def test_bad_cron_names_file_line_and_key(cron: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(BASE + f"workflows:\n  cron: '{cron}'\n", "cfg.yml")
    assert str(caught.value).startswith("cfg.yml:4: workflows.cron: ")
    assert caught.value.exit_code == EXIT_USAGE


def test_deep_nesting_is_a_config_error() -> None:
    with pytest.raises(
        ConfigError, match=r"^cfg\.yml:1:\d+: cfg\.yml is nested more than 64 levels"
    ):
        parse_config("a: " + "[" * 5000, "cfg.yml")


def test_unreadable_config_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "config.yml").mkdir()
    with pytest.raises(ConfigError, match=r"config\.yml: cannot be read"):
        load_config(tmp_path)


def test_duplicate_key_names_its_line_and_path() -> None:
    text = "version: 1\nproject:\n  name: r1\n  name: r2\n"
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "config.yml")
    message = str(caught.value)
    assert message.startswith("config.yml:4:3: project.name: duplicate key"), message
    assert "line 3" in message and "\n" not in message
    assert caught.value.exit_code == EXIT_USAGE


def test_duplicate_top_level_section_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"^cfg\.yml:3:1: project: duplicate key"):
        parse_config(BASE + "project:\n  name: other\n", "cfg.yml")


def test_same_key_in_different_sections_is_fine() -> None:
    config = parse_config(BASE + "agent:\n  model: opus\nanswers:\n  model: x\n")
    assert (config.agent.model, config.answers) == ("opus", {"model": "x"})


NESTED = "# answers\nversion: 1\n\nproject:\n  name: demo\n  {key}: {value}\n"


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("language", "cobol", "language 'cobol' is not one of"),
        ("package_manager", "npm", "package manager 'npm' does not fit python"),
        ("framework", "rails", "framework 'rails' does not fit python"),
    ],
)
def test_nested_stack_error_points_at_the_key(key: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(NESTED.format(key=key, value=value), "config.yml")
    assert str(caught.value).startswith(f"config.yml:6: project.{key}: {message}"), caught.value
    assert caught.value.key == f"project.{key}" and caught.value.line == 6


def test_stack_error_names_the_key_after_the_language() -> None:
    text = "project:\n  package_manager: cargo\n  name: demo\n  language: go\n"
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "config.yml")
    assert str(caught.value).startswith("config.yml:2: project.package_manager: "), caught.value


def test_deeply_nested_error_points_at_the_deepest_key() -> None:
    text = BASE + "workflows:\n  on_failure:\n    delay_seconds: 1\n    retries: 99\n"
    with pytest.raises(ConfigError, match=r"^config\.yml:6: workflows\.on_failure\.retries: "):
        parse_config(text, "config.yml")


def test_missing_nested_key_points_at_its_parent() -> None:
    with pytest.raises(ConfigError, match=r"^config\.yml:2: project\.name: "):
        parse_config("version: 1\nproject:\n  language: go\n", "config.yml")


def test_stack_defaults_still_fill_in() -> None:
    config = parse_config("project:\n  name: demo\n  language: rust\n")
    assert config.project.package_manager == "cargo"
