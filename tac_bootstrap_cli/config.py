"""The answers behind a generated project (``config.yml``): their validation, load and dump.

``ProjectConfig.template_context()`` is the one contract between answers and templates: every
template variable comes from it, and Jinja2's ``StrictUndefined`` turns any other name into an error.

The sections are frozen dataclasses validated by hand (``validation.py``), not Pydantic models:
importing Pydantic and building these eight models was ~70 ms of every command that reads or
writes a config (a third of ``init``). ``tests/engine/test_config_oracle.py`` holds them to the
Pydantic models they replaced (``tests/config_oracle.py``): the same data gives the same config,
or the same problems at the same keys.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from tac_bootstrap_cli import __version__
from tac_bootstrap_cli._adws.adw_modules import adw_cron
from tac_bootstrap_cli._adws.adw_modules.utils import db_url_problem, otlp_endpoint_problem
from tac_bootstrap_cli.errors import ConfigError, UsageError
from tac_bootstrap_cli.locations import CONFIG_FILE as CONFIG_FILE  # importable here, as before
from tac_bootstrap_cli.names import validate_project_name
from tac_bootstrap_cli.stacks import FRAMEWORKS, LANGUAGES, default_commands
from tac_bootstrap_cli.validation import (
    Check,
    ConfigInvalid,
    Rule,
    Section,
    dotted,
    integer,
    number,
    one_of,
    optional_text,
    text,
    within,
)

__all__ = [
    "COMMAND_NAMES",
    "CONFIG_FILE",
    "CONFIG_VERSION",
    "DEFAULT_DB_PATH",
    "AgentSettings",
    "Commands",
    "ConfigInvalid",
    "DatabaseSettings",
    "OnFailure",
    "ProjectConfig",
    "ProjectInfo",
    "TelemetrySettings",
    "WorkflowSettings",
    "dotted",
    "dump_config",
    "load_config",
    "migrate_config_data",
    "parse_config",
    "rewrite_config_text",
]

CONFIG_VERSION = 1
DEFAULT_DB_PATH = "agents/orchestrator.db"

# --- the sections of config.yml ----------------------------------------------------------------


def _valid_name(value: str, _so_far: dict[str, Any]) -> str:
    try:
        validate_project_name(value)
    except UsageError as exc:  # a field problem, so the key and its line get reported
        raise ValueError(str(exc)) from None
    return value


# One check per key (not one for the whole section), so a problem names the key and its line:
# `project.package_manager`, not `project`. Keys validate in order, so framework and
# package_manager see the language (absent when it was invalid).
def _known_language(value: str, _so_far: dict[str, Any]) -> str:
    if value not in LANGUAGES:
        raise ValueError(f"language {value!r} is not one of {', '.join(LANGUAGES)}")
    return value


def _fitting_framework(value: str, so_far: dict[str, Any]) -> str:
    language = so_far.get("language")
    if language in FRAMEWORKS and value not in FRAMEWORKS[language]:
        raise ValueError(
            f"framework {value!r} does not fit {language}"
            f" (use one of {', '.join(FRAMEWORKS[language])})"
        )
    return value


def _fitting_package_manager(value: str, so_far: dict[str, Any]) -> str:
    language = so_far.get("language")
    if value and language in LANGUAGES and value not in LANGUAGES[language]:
        raise ValueError(
            f"package manager {value!r} does not fit {language}"
            f" (use one of {', '.join(LANGUAGES[language])})"
        )
    return value


_TEXT_RULE = Rule(text)


@dataclass(frozen=True, kw_only=True)
class ProjectInfo(Section):
    """Name and stack of the project."""

    name: str
    language: str = "python"
    framework: str = "none"
    package_manager: str = ""

    RULES: ClassVar[dict[str, Rule]] = {
        "name": Rule(text, _valid_name),
        "language": Rule(text, _known_language),
        "framework": Rule(text, _fitting_framework),
        "package_manager": Rule(text, _fitting_package_manager),
    }

    def _finish(self) -> None:
        managers = LANGUAGES[self.language]
        if not self.package_manager:
            object.__setattr__(self, "package_manager", managers[0])
        elif (
            self.package_manager not in managers or self.framework not in FRAMEWORKS[self.language]
        ):
            raise ValueError(
                f"framework {self.framework!r} with package manager {self.package_manager!r}"
                f" does not fit {self.language}"
            )

    @property
    def slug(self) -> str:
        """The Python-identifier form of the name (``my-app`` -> ``my_app``)."""
        return validate_project_name(self.name)


@dataclass(frozen=True, kw_only=True)
class Commands(Section):
    """Shell commands the agents run; empty means 'use the stack default'."""

    install: str = ""
    test: str = ""
    lint: str = ""
    format: str = ""
    run: str = ""

    RULES: ClassVar[dict[str, Rule]] = dict.fromkeys(
        ("install", "test", "lint", "format", "run"), _TEXT_RULE
    )


COMMAND_NAMES: tuple[str, ...] = tuple(Commands.RULES)


def _checked(check: Callable[[Any], Any]) -> Check:
    return lambda value, _so_far: check(value)


@dataclass(frozen=True, kw_only=True)
class OnFailure(Section):
    """How a failing workflow phase is retried."""

    retries: int = 2
    delay_seconds: float = 10.0

    RULES: ClassVar[dict[str, Rule]] = {
        "retries": Rule(integer, _checked(within(0, 10))),
        "delay_seconds": Rule(number, _checked(within(0, 3600))),
    }


@dataclass(frozen=True, kw_only=True)
class AgentSettings(Section):
    """Which model and agent CLI the workflows use."""

    model: str = "sonnet"
    cli: str = "claude"

    RULES: ClassVar[dict[str, Rule]] = {"model": _TEXT_RULE, "cli": _TEXT_RULE}


def _cron(value: str, _so_far: dict[str, Any]) -> str:
    # The generated trigger fires by the same module (copied into the project), so what passes
    # here is exactly what runs there.
    try:
        adw_cron.validate(value)
    except adw_cron.CronError as exc:
        raise ValueError(f"{exc}; e.g. '*/5 * * * *'") from None
    return value


@dataclass(frozen=True, kw_only=True)
class WorkflowSettings(Section):
    """Retry policy and the cron trigger of the ADW workflows."""

    on_failure: OnFailure = field(default_factory=OnFailure)
    cron: str = "*/5 * * * *"
    default_workflow: str = "plan_build"  # "plan_build" or "sdlc"

    RULES: ClassVar[dict[str, Rule]] = {
        "on_failure": Rule(section=OnFailure),
        "cron": Rule(text, _cron),
        "default_workflow": Rule(one_of("plan_build", "sdlc")),
    }


def _url(problem_of: Callable[[str], str | None]) -> Check:
    """An optional URL: blank is None, else stripped and checked by ``problem_of`` (the rule the
    shipped layer reads too, adw_modules.utils, so what passes here is what the workflows
    accept)."""

    def check(value: str | None, _so_far: dict[str, Any]) -> str | None:
        if value is None or not value.strip():
            return None
        problem = problem_of(value.strip())
        if problem:
            raise ValueError(problem)
        return value.strip()

    return check


def _relative(value: str, _so_far: dict[str, Any]) -> str:
    if not value or Path(value).is_absolute() or ".." in Path(value).parts:
        raise ValueError(
            "must be a relative path inside the project, such as agents/orchestrator.db"
        )
    return value


@dataclass(frozen=True, kw_only=True)
class DatabaseSettings(Section):
    """Where the project's orchestrator database lives (relative to the project root), and the
    team's PostgreSQL server the workflows sync it to (``url``; none by default)."""

    path: str = DEFAULT_DB_PATH
    url: str | None = None

    RULES: ClassVar[dict[str, Rule]] = {
        "path": Rule(text, _relative),
        # config.yml is committed: a URL holding a password is refused.
        "url": Rule(optional_text, _url(db_url_problem)),
    }


@dataclass(frozen=True, kw_only=True)
class TelemetrySettings(Section):
    """Where the workflows send their traces (OTLP/HTTP base URL; off by default). The
    OTEL_EXPORTER_OTLP_* variables override it."""

    otlp_endpoint: str | None = None

    RULES: ClassVar[dict[str, Rule]] = {
        "otlp_endpoint": Rule(optional_text, _url(otlp_endpoint_problem))
    }


@dataclass(frozen=True, kw_only=True)
class ProjectConfig(Section):
    """Everything ``config.yml`` holds: what was asked, so that later runs render the same project."""

    version: int = CONFIG_VERSION
    project: ProjectInfo
    commands: Commands = field(default_factory=Commands)
    agent: AgentSettings = field(default_factory=AgentSettings)
    workflows: WorkflowSettings = field(default_factory=WorkflowSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    telemetry: TelemetrySettings = field(default_factory=TelemetrySettings)
    templates: str | None = None  # team templates folder (absolute, or relative to the project)
    answers: dict[str, Any] = field(
        default_factory=dict
    )  # answers to the team templates' questions

    RULES: ClassVar[dict[str, Rule]] = {
        "version": Rule(integer),
        "project": Rule(section=ProjectInfo),
        "commands": Rule(section=Commands),
        "agent": Rule(section=AgentSettings),
        "workflows": Rule(section=WorkflowSettings),
        "database": Rule(section=DatabaseSettings),
        "telemetry": Rule(section=TelemetrySettings),
        "templates": Rule(optional_text),
        "answers": Rule(),
    }

    @classmethod
    def from_data(cls, data: Any) -> ProjectConfig:
        """Validate ``config.yml``'s data; ``ConfigInvalid`` lists the problems."""
        config = super().from_data(data)
        assert isinstance(config, ProjectConfig)
        return config

    def _finish(self) -> None:
        p = self.project
        defaults = default_commands(p.language, p.package_manager, p.framework, p.slug)
        filled = {
            name: getattr(self.commands, name) or getattr(defaults, name) for name in COMMAND_NAMES
        }
        object.__setattr__(self, "commands", dataclasses.replace(self.commands, **filled))

    def template_context(self) -> dict[str, Any]:
        """The variables every template sees."""
        data = self.to_data()
        data["project"]["slug"] = self.project.slug
        data["tac_bootstrap_version"] = __version__
        return data


def dump_config(config: ProjectConfig) -> str:
    """``config.yml`` text for ``config``: stable key order, a header saying how to apply edits."""
    body = _yaml_text(_dumpable(config))
    return (
        "# tac-bootstrap answers for this project.\n"
        "# Edit them, then run `tac-bootstrap render` to apply the change.\n" + body
    )


def parse_config(text: str, source: str = CONFIG_FILE) -> ProjectConfig:
    """Parse ``config.yml`` text (through the shared YAML reader: limits, duplicate keys, no
    dates); YAML errors are ``FILE:line:col: problem``, invalid values ``FILE:line: key: problem``."""
    from tac_bootstrap_cli import yamlread

    data, node = yamlread.load(text, source, what=Path(source).name)
    if not isinstance(data, dict):
        line, col = yamlread.position(node)
        raise ConfigError(
            source,
            "expected a mapping of settings (project:, commands:, ...)",
            line=line,
            column=col,
        )
    data = migrate_config_data(data, source)
    try:
        return ProjectConfig.from_data(data)
    except ConfigInvalid as exc:
        loc, message = exc.problems[0]
        # FILE:line: key: (no column): a value's problem is the key's, on its line; tests and
        # users rely on this form (YAML-level problems carry the column).
        line, _ = yamlread.position(yamlread.node_at(node, loc))
        raise ConfigError(source, message, line=line, key=dotted(loc) or None) from None


# Built-in answer migrations: CONFIG_MIGRATIONS[n] takes config.yml data of version n to n + 1
# (renamed keys, new keys computed from old ones). They run on the raw data before validation, so a
# user's value is carried to its new place instead of being replaced by a default.
ConfigMigration = Callable[[dict[str, Any]], dict[str, Any]]
CONFIG_MIGRATIONS: dict[int, ConfigMigration] = {}


def migrate_config_data(data: dict[str, Any], source: str = CONFIG_FILE) -> dict[str, Any]:
    """Bring raw ``config.yml`` data to ``CONFIG_VERSION`` (a newer version is an error)."""
    version = data.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        return data  # validation reports it with its line
    if version > CONFIG_VERSION:
        raise ConfigError(
            source,
            f"version {version} is newer than this tac-bootstrap understands ({CONFIG_VERSION})",
            key="version",
            hint="upgrade tac-bootstrap",
        )
    while version < CONFIG_VERSION and version in CONFIG_MIGRATIONS:
        data = CONFIG_MIGRATIONS[version](dict(data))
        version += 1
        data["version"] = version
    return data


def rewrite_config_text(text: str, old: ProjectConfig, new: ProjectConfig) -> tuple[str, bool]:
    """``config.yml`` text with the answers changed from ``old`` to ``new``, keeping the user's
    comments and layout: the change ``dump(old) -> dump(new)`` is merged into ``text`` (3-way).
    Both sides adding lines at the same place (a key appended after the user's last comment) keep
    both. Returns (text, merged); when the result does not parse to exactly ``new``, the plain dump
    of ``new`` with ``merged=False``."""
    from tac_bootstrap_cli.merge import merge_text

    fresh = dump_config(new)
    result = merge_text(dump_config(old), text, fresh, union_insertions=True)
    candidates = [result.text] if result.clean else []
    candidates.append(_replace_sections(text, _dumpable(old), _dumpable(new)))
    for candidate in candidates:
        try:
            if parse_config(candidate) == new:
                return candidate, True
        except ConfigError:
            pass
    return fresh, False


def _dumpable(config: ProjectConfig) -> dict[str, Any]:
    data = config.to_data(exclude_none=True)
    # Only projects with team-template questions carry answers; telemetry only once it is set.
    for optional in ("answers", "telemetry"):
        if not data.get(optional):
            data.pop(optional, None)
    return data


_TOP_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*):")


def _replace_sections(text: str, old: dict[str, Any], new: dict[str, Any]) -> str:
    """``text`` with each changed top-level section (its key line and indented lines) replaced by
    the dump of its new value; comments and blank lines between sections stay where they are."""
    lines = text.split("\n")
    out: list[str] = []
    seen: set[str] = set()
    last_section_end = 0
    i = 0
    while i < len(lines):
        match = _TOP_KEY.match(lines[i])
        if match is None:
            out.append(lines[i])
            i += 1
            continue
        key = match.group(1)
        end = i + 1
        while end < len(lines) and lines[end][:1] in (" ", "\t", "-"):
            end += 1
        seen.add(key)
        if key not in new:
            pass  # the section is gone
        elif old.get(key) == new[key]:
            out.extend(lines[i:end])
        else:
            out.extend(_dump_key(key, new[key]))
        last_section_end = len(out)
        i = end
    added = [line for key in new if key not in seen for line in _dump_key(key, new[key])]
    out[last_section_end:last_section_end] = added
    return "\n".join(out)


def _dump_key(key: str, value: Any) -> list[str]:
    return _yaml_text({key: value}).rstrip("\n").split("\n")


def _yaml_text(data: dict[str, Any]) -> str:
    """PyYAML's block-style text of ``data`` (``yamlwrite`` writes the usual config without
    loading PyYAML; anything else goes to PyYAML itself)."""
    from tac_bootstrap_cli import yamlwrite

    text = yamlwrite.dump(data)
    if text is not None:
        return text
    import yaml

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False)


def load_config(project_dir: Path) -> ProjectConfig:
    """Read and validate ``project_dir/config.yml``."""
    from tac_bootstrap_cli import yamlread

    path = project_dir / CONFIG_FILE
    if not path.exists() and not path.is_symlink():
        raise ConfigError(
            str(path), "not found", hint="run `tac-bootstrap add-agentic` here first"
        ) from None
    return parse_config(yamlread.read_text(path), str(path))
