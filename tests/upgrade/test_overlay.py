"""Team templates (--templates DIR): replace, add, skip, metadata, remembered, questions."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from cli_support import Run

from tac_bootstrap_cli import scaffold
from tac_bootstrap_cli.config import ProjectConfig, ProjectInfo
from tac_bootstrap_cli.errors import ConfigError
from tac_bootstrap_cli.overlay import Overlay, load_overlay, migrate_answers
from tac_bootstrap_cli.overlay_meta import OverlayMeta, Question
from tac_bootstrap_cli.render import render_project

from .conftest import make_overlay


def context() -> dict[str, object]:
    return ProjectConfig(project=ProjectInfo(name="demo")).template_context()


def test_overlay_replaces_adds_and_skips(tmp_path: Path) -> None:
    overlay = make_overlay(
        tmp_path / "team",
        {
            ".claude/commands/chore.md.j2.skip": "",  # removes a built-in template
            ".claude/commands/commit.md.skip": "",  # a plain built-in file
            "adws/adw_modules/adw_logging.py.skip": "",  # even a base module
            ".claude/commands/prime.md": "plain replacement of a .j2 built-in\n",
            ".claude/commands/deploy.md.j2": "Deploy {{ project.name }} ({{ answers.channel }})\n",
            "docs/{{ project.slug }}.md.j2": "{% include 'partials/x.j2' %}",
            "partials/x.j2": "included from the overlay\n",
        },
        {"version": "1.0", "questions": [{"name": "channel", "default": "#dev"}]},
    )
    ctx = {**context(), "answers": {"channel": "#dev"}}
    files = render_project(ctx, overlay=overlay)
    assert ".claude/commands/chore.md" not in files
    assert ".claude/commands/commit.md" not in files
    assert "adws/adw_modules/adw_logging.py" not in files
    assert files[".claude/commands/prime.md"].content == b"plain replacement of a .j2 built-in\n"
    assert files[".claude/commands/deploy.md"].content == b"Deploy demo (#dev)\n"
    assert files["docs/demo.md"].content == b"included from the overlay\n"
    assert "tac-template.yml" not in files
    assert ".claude/settings.json" in files  # everything else stays built-in


def test_init_remembers_the_overlay_and_render_uses_it_from_anywhere(
    cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    overlay = make_overlay(tmp_path / "team", {"TEAM.md": "team v1\n"}, {"version": "1"})
    result = cli("init", "app", "-o", tmp_path, "--templates", overlay)
    assert result.exit_code == 0, result.output
    project = tmp_path / "app"
    assert (project / "TEAM.md").read_text() == "team v1\n"
    assert yaml.safe_load((project / "config.yml").read_text())["templates"] == str(overlay)
    (overlay / "TEAM.md").write_text("team v2\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert cli("render", project).exit_code == 0
    assert (project / "TEAM.md").read_text() == "team v2\n"
    manifest = (project / ".tac-bootstrap/manifest.json").read_text()
    assert '"overlay_version": "1"' in manifest


def test_overlay_inside_the_project_is_remembered_relative(cli: Run, tmp_path: Path) -> None:
    project = tmp_path / "app"
    project.mkdir()
    make_overlay(project / "team-templates", {"TEAM.md": "x\n"})
    # A folder inside the project comes with the repository: it needs --trust (specs/security.md).
    args = ("add-agentic", project, "--templates", project / "team-templates")
    assert cli(*args).exit_code == 2
    result = cli(*args, "--trust")
    assert result.exit_code == 0, result.output
    assert yaml.safe_load((project / "config.yml").read_text())["templates"] == "team-templates"
    moved = tmp_path / "moved"
    project.rename(moved)
    # Still found after the project moved; trust is per real path, so it is asked for again.
    refused = cli("render", moved)
    assert refused.exit_code == 2 and "--trust" in refused.stderr
    assert str(moved / "team-templates") in refused.stderr
    assert cli("render", moved, "--trust").exit_code == 0


def test_render_with_templates_changes_only_that_key(cli: Run, tmp_path: Path) -> None:
    assert cli("init", "app", "-o", tmp_path).exit_code == 0
    project = tmp_path / "app"
    config = project / "config.yml"
    config.write_text(config.read_text() + "# my note about the answers\n")
    overlay = make_overlay(tmp_path / "team", {"TEAM.md": "x\n"})
    result = cli("render", project, "--templates", overlay)
    assert result.exit_code == 0, result.output
    text = config.read_text()
    assert "# my note about the answers\n" in text
    assert yaml.safe_load(text)["templates"] == str(overlay)
    assert (project / "TEAM.md").is_file()
    assert "remembered" in result.stdout


def test_missing_remembered_overlay_is_a_config_error(cli: Run, tmp_path: Path) -> None:
    overlay = make_overlay(tmp_path / "team", {"TEAM.md": "x\n"})
    assert cli("init", "app", "-o", tmp_path, "--templates", overlay).exit_code == 0
    (overlay / "TEAM.md").unlink()
    overlay.rmdir()
    result = cli("render", tmp_path / "app")
    assert result.exit_code == 2
    assert "templates" in result.stderr and "not found" in result.stderr
    assert cli("init", "b", "-o", tmp_path, "--templates", tmp_path / "nope").exit_code == 2


def overlay_with(*questions: Question) -> Overlay:
    return Overlay(Path("/team"), OverlayMeta(version="2", questions=list(questions)))


def test_questions_rename_compute_and_default_never_replace_a_value() -> None:
    config = ProjectConfig(project=ProjectInfo(name="shop"), answers={"owner": "ann", "keep": 1})
    new, notes = migrate_answers(
        config,
        overlay_with(
            Question(name="reviewer", renamed_from=["owner"]),
            Question(name="channel", compute="'#' ~ project.name ~ '-' ~ answers.reviewer"),
            Question(name="strict", default=True),
            Question(name="keep", default=99),
        ),
    )
    assert new.answers == {"reviewer": "ann", "channel": "#shop-ann", "strict": True, "keep": 1}
    assert any("renamed" in n for n in notes)
    again, more = migrate_answers(new, overlay_with(Question(name="strict", default=False)))
    assert again.answers == new.answers and more == []


@pytest.mark.parametrize(
    "expression",
    ["''.__class__.__mro__", "answers.nope ~ 'x'", "{{ broken"],
)
def test_compute_errors_are_config_errors(expression: str) -> None:
    config = ProjectConfig(project=ProjectInfo(name="shop"))
    with pytest.raises(ConfigError, match=r"questions\.q\.compute"):
        migrate_answers(config, overlay_with(Question(name="q", compute=expression)))


def test_bad_metadata_names_file_and_key(tmp_path: Path) -> None:
    make_overlay(tmp_path / "t", {}, {"questions": [{"name": "not valid"}]})
    with pytest.raises(ConfigError, match=r"tac-template.yml: questions.0.name"):
        load_overlay(tmp_path / "t")


def test_answers_reach_config_yml_only_when_there_are_some(tmp_path: Path) -> None:
    plain = scaffold.init_project("plain", tmp_path).target
    assert "answers" not in yaml.safe_load((plain / "config.yml").read_text())
    overlay = make_overlay(
        tmp_path / "team", {}, {"questions": [{"name": "tier", "default": "gold"}]}
    )
    team = scaffold.init_project("teamproj", tmp_path, overlay=overlay).target
    assert yaml.safe_load((team / "config.yml").read_text())["answers"] == {"tier": "gold"}


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("version: 2\nquestions:\n  - name: a\n   bad: indent\n", ":4:4: "),
        ("version: '2\n", ":2:1: "),
        ("questions: [a, b\n", ":2:1: "),
    ],
)
def test_invalid_yaml_is_one_line_with_line_and_column(
    cli: Run, tmp_path: Path, text: str, position: str
) -> None:
    overlay = make_overlay(tmp_path / "team", {"TEAM.md": "x\n"})
    meta = overlay / "tac-template.yml"
    meta.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_overlay(overlay)
    message = str(caught.value)
    assert message.startswith(f"{meta}{position}invalid YAML: "), message
    assert "\n" not in message
    result = cli("init", "app", "-o", tmp_path, "--templates", overlay)
    assert result.exit_code == 2
    assert result.stderr == f"error: {message}\n"


def test_metadata_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    overlay = make_overlay(tmp_path / "team", {})
    (overlay / "tac-template.yml").write_bytes(b"version: \xff\n")
    with pytest.raises(ConfigError, match=r"tac-template\.yml: is not UTF-8 text$"):
        load_overlay(overlay)
