"""Whatever a user types, every rendered file still parses (Hypothesis over names and answers)."""

from __future__ import annotations

import json
import re
import tomllib
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tac_bootstrap_cli.config import parse_config
from tac_bootstrap_cli.errors import UsageError
from tac_bootstrap_cli.layer import desired_files
from tac_bootstrap_cli.names import validate_project_name
from tac_bootstrap_cli.scaffold import Answers, build_config
from tac_bootstrap_cli.stacks import FRAMEWORKS, LANGUAGES

# Characters that broke other scaffolders: quotes, backslashes, $, backticks, spaces, braces, non-ASCII.
NASTY = "aZ09-_ .'\"\\$`{}%#!&;|<>()[]*?~^@+=,:éßøЖ中ǅ"


def _valid(name: str) -> bool:
    try:
        validate_project_name(name)
    except UsageError:
        return False
    return True


names = st.text(alphabet=NASTY, min_size=1, max_size=40).filter(_valid)
stacks = st.sampled_from(
    [(lang, fw, pm) for lang, pms in LANGUAGES.items() for fw in FRAMEWORKS[lang] for pm in pms]
)
commands = st.dictionaries(
    st.sampled_from(["install", "test", "lint", "format", "run"]),
    st.text(alphabet=NASTY + "\n\t", min_size=1, max_size=30).filter(str.strip),
    max_size=5,
)


def check_parses(path: str, content: bytes) -> None:
    text = content.decode("utf-8")
    if path.endswith(".py"):
        compile(text, path, "exec")
    elif path.endswith(".json"):
        json.loads(text)
    elif path.endswith((".yml", ".yaml")):
        yaml.safe_load(text)
    elif path.endswith(".toml"):
        tomllib.loads(text)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(name=names, stack=stacks, cmds=commands)
def test_every_rendered_file_parses(
    name: str, stack: tuple[str, str, str], cmds: dict[str, str]
) -> None:
    language, framework, pm = stack
    config = build_config(Answers(name, language, framework, pm, cmds))
    files = {d.path: d.content for d in desired_files(config)}
    for path, content in files.items():
        check_parses(path, content)
    # config.yml reads back as the same answers
    again = parse_config(files["config.yml"].decode("utf-8"))
    assert again == config
    assert again.project.name == name


def _settings_json(files: dict[str, bytes]) -> Any:
    return json.loads(files[".claude/settings.json"])


@settings(max_examples=25, deadline=None)
@given(name=names)
def test_name_reaches_json_intact(name: str) -> None:
    config = build_config(Answers(name, "python", "none", "uv"))
    files = {d.path: d.content for d in desired_files(config)}
    assert ".claude/settings.json" in files
    _settings_json(files)


def _command_tokens(files: dict[str, bytes]) -> dict[str, list[str]]:
    """What Claude Code would substitute or run in each slash command's body."""
    return {
        path: re.findall(r"\$ARGUMENTS|\$\d|!`", content.decode("utf-8"))
        for path, content in files.items()
        if path.startswith(".claude/commands/")
    }


@settings(max_examples=40, deadline=None)
@given(name=st.text(alphabet="$!`ARGUMENTS0123 shop", min_size=1, max_size=30).filter(_valid))
def test_a_name_never_becomes_command_syntax(name: str) -> None:
    def tokens(project: str) -> dict[str, list[str]]:
        config = build_config(Answers(project, "python", "none", "uv"))
        return _command_tokens({d.path: d.content for d in desired_files(config)})

    # The commands hold exactly the $ARGUMENTS the templates put there, whatever the name.
    assert tokens(name) == tokens("shop")
