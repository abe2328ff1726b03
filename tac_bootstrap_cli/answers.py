"""The answers a project is generated from: given > previous ``config.yml`` > detected > defaults.

``propose`` merges what is known into the answers to offer, ``settle`` lets a front end change
them (the ``ask_*`` callbacks), ``build_config`` validates them into a ``ProjectConfig``. No
disk access beyond what the caller read, no output.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tac_bootstrap_cli.config import (
    COMMAND_NAMES,
    CONFIG_FILE,
    ConfigInvalid,
    ProjectConfig,
    dotted,
    parse_config,
)
from tac_bootstrap_cli.detect import Detection
from tac_bootstrap_cli.errors import TacError, UsageError, ValidationFailed
from tac_bootstrap_cli.names import validate_project_name
from tac_bootstrap_cli.stacks import LANGUAGES, default_commands, language_for_package_manager


@dataclass
class Answers:
    """What the user chose; ``None`` (or a missing command) means: detect it or use the default."""

    name: str | None = None
    language: str | None = None
    framework: str | None = None
    package_manager: str | None = None
    commands: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain data, for the history and for JSON."""
        return {
            "name": self.name,
            "language": self.language,
            "framework": self.framework,
            "package_manager": self.package_manager,
            "commands": dict(self.commands),
        }

    def named(self, name: str) -> Answers:
        """A copy with ``name`` as the project name."""
        return Answers(
            name, self.language, self.framework, self.package_manager, dict(self.commands)
        )


AskStack = Callable[[Answers, Detection | None], Answers]
AskCommands = Callable[[dict[str, str]], dict[str, str]]


def settle(
    given: Answers,
    existing: ProjectConfig | None,
    detection: Detection | None,
    ask_stack: AskStack | None = None,
    ask_commands: AskCommands | None = None,
) -> Answers:
    """The proposal (``propose``), then the user's changes to it when the front end asks."""
    proposal = propose(given, existing, detection)
    if ask_stack is not None:
        asked = ask_stack(proposal, detection)
        proposal = Answers(asked.name, asked.language, asked.framework, asked.package_manager)
        proposal.commands = commands_for(proposal, given, existing, detection)
    if ask_commands is not None:
        proposal.commands = ask_commands(proposal.commands)
    return proposal


def propose(given: Answers, existing: ProjectConfig | None, detection: Detection | None) -> Answers:
    """The answers to start from; a previous stack or detection only counts for the same language.

    The language is the given one, else the previous config's or the detected one, else the one
    the given package manager implies, else Python."""
    if existing is not None:
        p = existing.project
        base: tuple[str | None, ...] = (p.language, p.framework, p.package_manager)
    elif detection is not None and detection.found:
        base = (detection.language, detection.framework, detection.package_manager)
    else:
        base = (None, None, None)
    # Nothing known about the language: a package manager alone tells it (--package-manager cargo).
    implied = language_for_package_manager(given.package_manager or "")
    language = given.language or base[0] or implied or "python"
    same = language == base[0]
    framework = given.framework or (base[1] if same else None) or "none"
    default_pm = LANGUAGES[language][0] if language in LANGUAGES else ""
    pm = given.package_manager or (base[2] if same else None) or default_pm
    name = given.name or (existing.project.name if existing else None)
    proposal = Answers(name, language, framework, pm)
    proposal.commands = commands_for(proposal, given, existing, detection)
    return proposal


def commands_for(
    proposal: Answers, given: Answers, existing: ProjectConfig | None, detection: Detection | None
) -> dict[str, str]:
    """Every command for the chosen stack: given > previous config > detected > stack default."""
    stack = (proposal.language, proposal.framework, proposal.package_manager)
    commands: dict[str, str] = {}
    try:
        slug = validate_project_name(proposal.name or "")
        lang, fw, pm = (str(x) for x in stack)
        commands.update(vars(default_commands(lang, pm, fw, slug)))
    except (UsageError, ValueError):
        pass  # an invalid answer: build_config reports it
    if (
        detection is not None
        and (detection.language, detection.framework, detection.package_manager) == stack
    ):
        commands.update(detection.commands)
    if existing is not None:
        p = existing.project
        if (p.language, p.framework, p.package_manager) == stack:
            commands.update(existing.commands.to_data())
    commands.update({k: v for k, v in given.commands.items() if v})
    return commands


def build_config(answers: Answers, existing: ProjectConfig | None = None) -> ProjectConfig:
    """Validate answers into a ``ProjectConfig``, keeping a previous config's other settings."""
    data: dict[str, Any] = existing.to_data(exclude_none=True) if existing else {}
    data["project"] = {
        "name": answers.name or "",
        "language": answers.language or "python",
        "framework": answers.framework or "none",
        "package_manager": answers.package_manager or "",
    }
    data["commands"] = {k: v for k, v in answers.commands.items() if k in COMMAND_NAMES}
    try:
        return ProjectConfig.from_data(data)
    except ConfigInvalid as exc:
        problems = [f"{dotted(loc)}: {msg}" if loc else msg for loc, msg in exc.problems]
        raise ValidationFailed("answers", problems) from None


def answers_of(config: ProjectConfig) -> Answers:
    """The answers a config holds (what ``render`` records in the history)."""
    p = config.project
    commands = config.commands.to_data()
    return Answers(p.name, p.language, p.framework, p.package_manager, commands)


def answers_json(answers: Answers) -> str:
    """Answers as compact JSON (what the history's Prompt row holds)."""
    return json.dumps(answers.as_dict(), ensure_ascii=False, sort_keys=True)


def existing_config(target: Path, *, ours: bool = True) -> ProjectConfig | None:
    """A previous run's ``config.yml`` (the defaults of a rerun); None when absent or not ours."""
    path = target / CONFIG_FILE
    if not path.is_file():
        return None
    try:
        return parse_config(path.read_text(encoding="utf-8"), str(path))
    except (TacError, UnicodeDecodeError, OSError):
        if ours:
            raise  # our own file, broken: say where, rather than silently ignoring the answers
        return None  # someone else's config.yml: the plan reports it as a conflict


def name_from_folder(target: Path) -> str:
    """The project name ``add-agentic`` takes when none is given: the folder's, if usable."""
    name = target.name
    try:
        validate_project_name(name)
    except UsageError as exc:
        raise UsageError(
            f"the folder name {name!r} is not a usable project name: {exc.message}",
            hint="pass --name",
        ) from None
    return name
