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
    with pytest.raises(ConfigError, match="nested too deeply"):
        parse_config("a: " + "[" * 5000, "cfg.yml")


def test_unreadable_config_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "config.yml").mkdir()
    with pytest.raises(ConfigError, match=r"config\.yml: cannot be read"):
        load_config(tmp_path)
