"""The Pydantic models ``config.py`` was written with, kept as the oracle of its hand-written
validation (``tests/engine/test_config_oracle.py``): the same answers give the same config, or the
same first problem at the same key."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from tac_bootstrap_cli._adws.adw_modules import adw_cron
from tac_bootstrap_cli._adws.adw_modules.utils import db_url_problem, otlp_endpoint_problem
from tac_bootstrap_cli.errors import UsageError
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
