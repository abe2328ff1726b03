"""What the generator and the layer it ships must both know, held equal (a drift fails here).

The shipped modules (``tac_bootstrap_cli/_adws``) cannot import the generator: in a project they
stand alone. So the few facts both sides need are written on each side and compared here: the
config defaults (the workflows read ``config.yml`` through ``utils.DEFAULT_CONFIG`` when a key is
missing) and each package manager's manifest (the test phase's "no manifest" hint must name the
file the skeleton and detection use). Cron has one implementation, ``adw_cron``, which the
generator imports.
"""

from __future__ import annotations

from typing import Any

import pytest

from tac_bootstrap_cli._adws.adw_modules import utils, workflow_ops
from tac_bootstrap_cli.config import ProjectConfig, ProjectInfo
from tac_bootstrap_cli.render import render_app
from tac_bootstrap_cli.stacks import LANGUAGES


def _at(data: dict[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        data = data[key]
    return data


def test_the_shipped_config_defaults_are_the_generators() -> None:
    generator = ProjectConfig(project=ProjectInfo(name="demo")).to_data()
    for section in ("agent", "workflows", "database", "telemetry"):
        assert utils.DEFAULT_CONFIG[section] == generator[section], section
    assert set(utils.DEFAULT_CONFIG["commands"]) == set(generator["commands"])
    # Every section the generator knows, the shipped defaults know (a new one cannot be forgotten).
    assert set(utils.DEFAULT_CONFIG) == set(generator) - {"version", "templates", "answers"}


def test_cron_is_one_implementation() -> None:
    from tac_bootstrap_cli import config

    assert config.adw_cron is __import__(
        "tac_bootstrap_cli._adws.adw_modules.adw_cron", fromlist=["x"]
    )


@pytest.mark.parametrize(
    ("language", "pm"),
    [(lang, pm) for lang, pms in LANGUAGES.items() for pm in pms if pm in workflow_ops._MANIFESTS],
)
def test_the_manifest_the_test_phase_names_is_the_skeletons(language: str, pm: str) -> None:
    """pip has no entry: its projects may hold requirements.txt, pyproject.toml or setup.py."""
    config = ProjectConfig(project=ProjectInfo(name="demo", language=language, package_manager=pm))
    manifest, _create = workflow_ops._MANIFESTS[pm]
    assert manifest in render_app(config.template_context(), language), (language, pm)


def test_the_test_phase_knows_every_package_manager_but_pip() -> None:
    managers = {pm for pms in LANGUAGES.values() for pm in pms}
    assert set(workflow_ops._MANIFESTS) == managers - {"pip"}
