"""The answers behind a generated project (``config.yml``): a Pydantic model, load and dump.

``ProjectConfig.template_context()`` is the one contract between answers and templates: every
template variable comes from it, and Jinja2's ``StrictUndefined`` turns any other name into an error.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from tac_bootstrap_cli import __version__
from tac_bootstrap_cli._adws.adw_modules import adw_cron
from tac_bootstrap_cli._adws.adw_modules.utils import db_url_problem, otlp_endpoint_problem
from tac_bootstrap_cli.errors import ConfigError, UsageError
from tac_bootstrap_cli.locations import CONFIG_FILE as CONFIG_FILE  # importable here, as before
from tac_bootstrap_cli.names import validate_project_name
from tac_bootstrap_cli.stacks import FRAMEWORKS, LANGUAGES, default_commands

CONFIG_VERSION = 1
DEFAULT_DB_PATH = "agents/orchestrator.db"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ProjectInfo(_Section):
    """Name and stack of the project."""

    name: str
    language: str = "python"
    framework: str = "none"
    package_manager: str = ""

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        try:
            validate_project_name(value)
        except UsageError as exc:  # surface as a field error so the key and line get reported
            raise ValueError(str(exc)) from None
        return value

    # One validator per key (not one for the whole section), so an error names the key and its
    # line: `project.package_manager`, not `project`. Fields validate in declaration order, so
    # framework and package_manager see the language (absent from info.data when it was invalid).
    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"language {value!r} is not one of {', '.join(LANGUAGES)}")
        return value

    @field_validator("framework")
    @classmethod
    def _fitting_framework(cls, value: str, info: ValidationInfo) -> str:
        language = info.data.get("language")
        if language in FRAMEWORKS and value not in FRAMEWORKS[language]:
            raise ValueError(
                f"framework {value!r} does not fit {language}"
                f" (use one of {', '.join(FRAMEWORKS[language])})"
            )
        return value

    @field_validator("package_manager")
    @classmethod
    def _fitting_package_manager(cls, value: str, info: ValidationInfo) -> str:
        language = info.data.get("language")
        if value and language in LANGUAGES and value not in LANGUAGES[language]:
            raise ValueError(
                f"package manager {value!r} does not fit {language}"
                f" (use one of {', '.join(LANGUAGES[language])})"
            )
        return value

    @model_validator(mode="after")
    def _default_package_manager(self) -> ProjectInfo:
        managers = LANGUAGES[self.language]
        if not self.package_manager:
            self.package_manager = managers[0]
        # Reached on assignment too (validate_assignment), where the field checks above see only
        # the one field assigned: the whole stack must still fit together.
        elif (
            self.package_manager not in managers or self.framework not in FRAMEWORKS[self.language]
        ):
            raise ValueError(
                f"framework {self.framework!r} with package manager {self.package_manager!r}"
                f" does not fit {self.language}"
            )
        return self

    @property
    def slug(self) -> str:
        """The Python-identifier form of the name (``my-app`` -> ``my_app``)."""
        return validate_project_name(self.name)


class Commands(_Section):
    """Shell commands the agents run; empty means 'use the stack default'."""

    install: str = ""
    test: str = ""
    lint: str = ""
    format: str = ""
    run: str = ""


class OnFailure(_Section):
    """How a failing workflow phase is retried."""

    retries: int = Field(default=2, ge=0, le=10)
    delay_seconds: float = Field(default=10.0, ge=0, le=3600)


class AgentSettings(_Section):
    """Which model and agent CLI the workflows use."""

    model: str = "sonnet"
    cli: str = "claude"


class WorkflowSettings(_Section):
    """Retry policy and the cron trigger of the ADW workflows."""

    on_failure: OnFailure = Field(default_factory=OnFailure)
    cron: str = "*/5 * * * *"

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        # The generated trigger fires by the same module (copied into the project), so what
        # passes here is exactly what runs there.
        try:
            adw_cron.validate(value)
        except adw_cron.CronError as exc:
            raise ValueError(f"{exc}; e.g. '*/5 * * * *'") from None
        return value

    default_workflow: Literal["plan_build", "sdlc"] = "plan_build"


class DatabaseSettings(_Section):
    """Where the project's orchestrator database lives (relative to the project root), and the
    team's PostgreSQL server the workflows sync it to (``url``; none by default)."""

    path: str = DEFAULT_DB_PATH
    url: str | None = None

    @field_validator("url")
    @classmethod
    def _no_password(cls, value: str | None) -> str | None:
        # config.yml is committed: the generated layer reads the same rule (adw_modules.utils),
        # so what passes here is what the workflows accept.
        if value is None or not value.strip():
            return None
        problem = db_url_problem(value.strip())
        if problem:
            raise ValueError(problem)
        return value.strip()

    @field_validator("path")
    @classmethod
    def _relative(cls, value: str) -> str:
        if not value or Path(value).is_absolute() or ".." in Path(value).parts:
            raise ValueError(
                "must be a relative path inside the project, such as agents/orchestrator.db"
            )
        return value


class TelemetrySettings(_Section):
    """Where the workflows send their traces (OTLP/HTTP base URL; off by default). The
    OTEL_EXPORTER_OTLP_* variables override it."""

    otlp_endpoint: str | None = None

    @field_validator("otlp_endpoint")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        # The shipped adw_telemetry checks the same rule (adw_modules.utils).
        if value is None or not value.strip():
            return None
        problem = otlp_endpoint_problem(value.strip())
        if problem:
            raise ValueError(problem)
        return value.strip()


class ProjectConfig(_Section):
    """Everything ``config.yml`` holds: what was asked, so that later runs render the same project."""

    version: int = CONFIG_VERSION
    project: ProjectInfo
    commands: Commands = Field(default_factory=Commands)
    agent: AgentSettings = Field(default_factory=AgentSettings)
    workflows: WorkflowSettings = Field(default_factory=WorkflowSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    telemetry: TelemetrySettings = Field(default_factory=TelemetrySettings)
    templates: str | None = None  # team templates folder (absolute, or relative to the project)
    answers: dict[str, Any] = Field(
        default_factory=dict
    )  # answers to the team templates' questions

    @model_validator(mode="after")
    def _fill_commands(self) -> ProjectConfig:
        p = self.project
        defaults = default_commands(p.language, p.package_manager, p.framework, p.slug)
        for name in Commands.model_fields:
            if not getattr(self.commands, name):
                setattr(self.commands, name, getattr(defaults, name))
        return self

    def template_context(self) -> dict[str, Any]:
        """The variables every template sees."""
        data = self.model_dump(mode="json")
        data["project"]["slug"] = self.project.slug
        data["tac_bootstrap_version"] = __version__
        return data


def dump_config(config: ProjectConfig) -> str:
    """``config.yml`` text for ``config``: stable key order, a header saying how to apply edits."""
    data = _dumpable(config)
    body = yaml.safe_dump(
        data,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
    )
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
        return ProjectConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        key = ".".join(str(part) for part in loc) or None
        # FILE:line: key: (no column): a value's problem is the key's, on its line; tests and
        # users rely on this form (YAML-level problems carry the column).
        line, _ = yamlread.position(yamlread.node_at(node, loc))
        raise ConfigError(source, _message(err), line=line, key=key) from None


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
    data = config.model_dump(mode="json", exclude_none=True)
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
    body = yaml.safe_dump(
        {key: value}, sort_keys=False, allow_unicode=True, default_flow_style=False
    )
    return body.rstrip("\n").split("\n")


def load_config(project_dir: Path) -> ProjectConfig:
    """Read and validate ``project_dir/config.yml``."""
    from tac_bootstrap_cli import yamlread

    path = project_dir / CONFIG_FILE
    if not path.exists() and not path.is_symlink():
        raise ConfigError(
            str(path), "not found", hint="run `tac-bootstrap add-agentic` here first"
        ) from None
    return parse_config(yamlread.read_text(path), str(path))


def _message(err: Any) -> str:
    msg = str(err.get("msg", "invalid value"))
    return msg.removeprefix("Value error, ")
