"""``init``: all or nothing, idempotent, safe with any name."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from cli_support import Run, snapshot

from tac_bootstrap_cli import layer, scaffold
from tac_bootstrap_cli.projectstate import MANIFEST_PATH
from tac_bootstrap_cli.render import BASE_MODULES
from tac_bootstrap_cli.render.engine import base_module_source

REPO = Path(__file__).resolve().parent.parent.parent


def test_init_creates_the_whole_layer(cli: Run, tmp_path: Path) -> None:
    result = cli("init", "my-app", "-o", tmp_path)
    assert result.exit_code == 0, result.output
    project = tmp_path / "my-app"
    config = yaml.safe_load((project / "config.yml").read_text())
    assert config["project"] == {
        "name": "my-app",
        "language": "python",
        "framework": "none",
        "package_manager": "uv",
    }
    assert config["commands"]["test"] == "uv run pytest"
    manifest = json.loads((project / MANIFEST_PATH).read_text())
    assert manifest["template_version"]
    on_disk = {p for p in snapshot(project) if not p.startswith(".tac-bootstrap/")}
    # The application skeleton is on disk but, being the user's code, not in the manifest.
    skeleton = {"pyproject.toml", "src/my_app/__init__.py", "src/my_app/__main__.py",
                "tests/test_my_app.py"}  # fmt: skip
    assert set(manifest["files"]) == on_disk - skeleton
    assert skeleton <= on_disk
    for rel in BASE_MODULES:
        assert (project / rel).read_bytes() == base_module_source(rel).read_bytes()
    assert "Done" in result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my-app"]  # no staging left


def test_second_init_with_same_answers_touches_nothing(cli: Run, tmp_path: Path) -> None:
    args = ("init", "my-app", "-o", tmp_path, "--language", "go")
    assert cli(*args).exit_code == 0
    before = snapshot(tmp_path / "my-app")
    result = cli(*args)
    assert result.exit_code == 0, result.output
    assert "wrote 0 files" in result.stdout and "unchanged" in result.stdout
    assert "create" not in result.stdout and "update" not in result.stdout
    assert snapshot(tmp_path / "my-app") == before


def test_dry_run_writes_nothing(cli: Run, tmp_path: Path) -> None:
    result = cli("init", "my-app", "-o", tmp_path, "--dry-run")
    assert result.exit_code == 0, result.output
    assert list(tmp_path.iterdir()) == []
    assert "Plan:" in result.stdout and "create" in result.stdout
    assert "config.yml" in result.stdout and "nothing was written" in result.stdout


def test_dry_run_of_a_rerun_shows_unchanged(cli: Run, tmp_path: Path) -> None:
    cli("init", "my-app", "-o", tmp_path)
    before = snapshot(tmp_path)
    result = cli("init", "my-app", "-o", tmp_path, "--dry-run", "--language", "go")
    assert result.exit_code == 0, result.output
    assert "update" in result.stdout
    assert snapshot(tmp_path) == before


def test_init_into_non_empty_folder_is_refused_without_force(cli: Run, tmp_path: Path) -> None:
    project = tmp_path / "my-app"
    project.mkdir()
    (project / "notes.txt").write_text("mine")
    result = cli("init", "my-app", "-o", tmp_path)
    assert result.exit_code == 1
    assert "not empty" in result.stderr and "--force" in result.stderr
    assert [p.name for p in project.iterdir()] == ["notes.txt"]
    forced = cli("init", "my-app", "-o", tmp_path, "--force")
    assert forced.exit_code == 0, forced.output
    assert (project / "notes.txt").read_text() == "mine"
    assert (project / "config.yml").is_file()


def test_init_into_an_empty_existing_folder(cli: Run, tmp_path: Path) -> None:
    (tmp_path / "my-app").mkdir()
    assert cli("init", "my-app", "-o", tmp_path).exit_code == 0
    assert (tmp_path / "my-app" / "config.yml").is_file()


def test_longest_non_ascii_name_still_scaffolds(cli: Run, tmp_path: Path) -> None:
    name = "é" * 100  # 200 bytes: the most a name may take
    assert cli("init", "-o", tmp_path, "--yes", "--", name).exit_code == 0
    assert (tmp_path / name / "config.yml").is_file()


@pytest.mark.parametrize(
    ("name", "package"),
    [
        ("1abc", "app_1abc"),
        ("class", "class_app"),
        ("数据", "app"),
        ("Café Ünïcode", "cafe_unicode"),
    ],
)
def test_any_name_a_folder_can_take_gets_valid_package_names(
    cli: Run, tmp_path: Path, name: str, package: str
) -> None:
    """A name no ecosystem takes as it is (a digit first, a keyword, no ASCII letter, accents)
    still inits: the package names are its slug (tests/engine/test_names.py has the rules)."""
    result = cli("init", "-o", tmp_path, "--", name)
    assert result.exit_code == 0, result.output
    assert (tmp_path / name / "src" / package / "__main__.py").is_file()
    config = yaml.safe_load((tmp_path / name / "config.yml").read_text())
    assert config["project"]["name"] == name
    assert config["commands"]["run"] == f"uv run python -m {package}"


@pytest.mark.parametrize(
    "name",
    [
        "",
        "   ",
        "a/b",
        "..",
        "../evil",
        "a..b",
        ".hidden",
        "-rf",
        "x" * 101,
        "中" * 80,  # 80 characters but 240 bytes: too long for a file name with its staging suffix
        "é/",
        "a\tb",
    ],
)
def test_invalid_names_are_refused_before_anything_is_written(
    cli: Run, tmp_path: Path, name: str
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    result = cli("init", "-o", out, "--", name)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.output
    assert list(out.iterdir()) == []
    assert list(tmp_path.iterdir()) == [out]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--language", "cobol"], "project.language: language 'cobol' is not one of"),
        (["--framework", "rails"], "project.framework: framework 'rails' does not fit python"),
        (
            ["--language", "python", "--package-manager", "npm"],
            "project.package_manager: package manager 'npm' does not fit python",
        ),
        (["--package-manager", "maven"], "package manager 'maven' does not fit python"),
    ],
)
def test_bad_answers_are_usage_errors(
    cli: Run, tmp_path: Path, options: list[str], message: str
) -> None:
    result = cli("init", "ok", "-o", tmp_path, *options)
    assert result.exit_code == 2
    assert message in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("manager", "language"),
    [
        ("npm", "javascript"),
        ("pnpm", "javascript"),
        ("yarn", "javascript"),
        ("bun", "javascript"),
        ("go", "go"),
        ("cargo", "rust"),
        ("uv", "python"),
        ("poetry", "python"),
        ("pip", "python"),
        ("pipenv", "python"),
    ],
)
def test_package_manager_alone_implies_its_language(
    cli: Run, tmp_path: Path, manager: str, language: str
) -> None:
    result = cli("init", "ok", "-o", tmp_path, "--package-manager", manager, "--dry-run")
    assert result.exit_code == 0, result.output
    result = cli("init", "ok", "-o", tmp_path, "--package-manager", manager)
    assert result.exit_code == 0, result.output
    project = yaml.safe_load((tmp_path / "ok" / "config.yml").read_text())["project"]
    assert (project["language"], project["package_manager"]) == (language, manager)


def test_package_manager_with_framework_implies_its_language(cli: Run, tmp_path: Path) -> None:
    result = cli("init", "ok", "-o", tmp_path, "--package-manager", "pnpm", "--framework", "nextjs")
    assert result.exit_code == 0, result.output
    project = yaml.safe_load((tmp_path / "ok" / "config.yml").read_text())["project"]
    assert project == {
        "name": "ok",
        "language": "javascript",
        "framework": "nextjs",
        "package_manager": "pnpm",
    }


def test_output_dir_that_is_a_file_is_a_usage_error(cli: Run, tmp_path: Path) -> None:
    file = tmp_path / "hostname"
    file.write_text("box\n")
    for output_dir in (file, file / "deeper"):
        result = cli("init", "x", "-o", output_dir)
        assert result.exit_code == 2, result.output
        assert result.stderr == f"error: {file} is not a folder (choose another --output-dir)\n"
    assert file.read_text() == "box\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hostname"]


def test_unknown_option_is_a_usage_error(cli: Run) -> None:
    assert cli("init", "ok", "--colour", "red").exit_code == 2


def test_nasty_name_yields_files_that_parse(cli: Run, tmp_path: Path) -> None:
    name = "Ünïcødé \"q\" 'a' \\b $HOME x"
    result = cli("init", name, "-o", tmp_path, "--language", "typescript", "--framework", "nextjs")
    assert result.exit_code == 0, result.output
    project = tmp_path / name
    for path in project.rglob("*"):
        if path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix == ".py":
            compile(path.read_text(), str(path), "exec")
    assert yaml.safe_load((project / "config.yml").read_text())["project"]["name"] == name


def test_template_error_writes_nothing(
    cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "ok.txt").write_text("fine")
    (templates / "bad.md.j2").write_text("{{ project.missing }}")
    real = layer.desired_files
    monkeypatch.setattr(
        layer,
        "desired_files",
        lambda config, **kw: real(config, **{**kw, "templates_dir": templates}),
    )
    out = tmp_path / "out"
    out.mkdir()
    result = cli("init", "app", "-o", out)
    assert result.exit_code == 1
    assert "bad.md.j2:1" in result.stderr
    assert list(out.iterdir()) == []


def test_unexpected_error_is_one_line_unless_debug(
    cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(scaffold, "init_project", boom)
    result = cli("init", "app", "-o", tmp_path)
    assert result.exit_code == 1
    assert result.stderr == (
        "error: unexpected RuntimeError: kaboom (rerun with --debug for the traceback)\n"
    )
    debug = cli("init", "app", "-o", tmp_path, "--debug")
    assert isinstance(debug.exception, RuntimeError)


def test_prompts_with_a_terminal(cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tac_bootstrap_cli import commands

    monkeypatch.setattr(commands, "stdin_is_tty", lambda: True)
    # language, framework, package manager, then five commands (empty = keep the default)
    answers = "typescript\nnextjs\npnpm\n\nvitest run\n\n\n\n"
    result = cli("init", "web", "-o", tmp_path, input=answers)
    assert result.exit_code == 0, result.output
    config = yaml.safe_load((tmp_path / "web" / "config.yml").read_text())
    assert config["project"]["framework"] == "nextjs"
    assert config["project"]["package_manager"] == "pnpm"
    assert config["commands"]["test"] == "vitest run"
    assert config["commands"]["install"] == "pnpm install"


def test_input_ending_mid_questions_cancels_cleanly(
    cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tac_bootstrap_cli import commands

    monkeypatch.setattr(commands, "stdin_is_tty", lambda: True)
    result = cli("init", "web", "-o", tmp_path, input="python\n")  # then Ctrl-D
    assert result.exit_code == 130, result.output
    assert "cancelled" in result.stderr
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_yes_asks_nothing_even_with_a_terminal(
    cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tac_bootstrap_cli import commands

    monkeypatch.setattr(commands, "stdin_is_tty", lambda: True)
    result = cli("init", "web", "-o", tmp_path, "--yes")
    assert result.exit_code == 0, result.output
    assert "Language" not in result.stdout


def test_generated_files_keep_executable_bits(cli: Run, tmp_path: Path) -> None:
    assert cli("init", "app", "-o", tmp_path).exit_code == 0
    templates = REPO / "templates"
    for src in templates.rglob("*"):
        if src.is_file() and os.access(src, os.X_OK) and "cache" not in str(src):
            out = tmp_path / "app" / src.relative_to(templates).as_posix().removesuffix(".j2")
            if out.exists():
                assert os.access(out, os.X_OK), out


def test_ctrl_c_during_init_leaves_no_project(
    cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tac_bootstrap_cli import apply

    real_open = os.open
    calls = {"n": 0}

    def open_then_ctrl_c(path: str, flags: int, mode: int = 0o777, **kw: object) -> int:
        if "staging" in str(path) and flags & os.O_CREAT:  # a file written into the staging dir
            calls["n"] += 1
            if calls["n"] == 3:
                raise KeyboardInterrupt
        return real_open(path, flags, mode, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(apply.os, "open", open_then_ctrl_c)
    result = cli("init", "app", "-o", tmp_path)
    assert result.exit_code == 130
    assert "interrupted" in result.stderr and "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_non_empty_folder_with_a_foreign_config_is_refused_then_adopted_with_force(
    cli: Run, tmp_path: Path
) -> None:
    folder = tmp_path / "ex"
    folder.mkdir()
    (folder / "config.yml").write_text("foo: 1\n")
    refused = cli("init", "ex", "-o", tmp_path, "--yes")
    assert refused.exit_code == 1, refused.output
    assert "exists and is not empty" in refused.stderr
    forced = cli("init", "ex", "-o", tmp_path, "--yes", "--force")
    assert forced.exit_code == 0, forced.output
    assert (folder / ".claude" / "settings.json").is_file()
