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
from tac_bootstrap_cli.errors import ConfigError, UsageError
from tac_bootstrap_cli.names import validate_project_name
from tac_bootstrap_cli.stacks import FRAMEWORKS, LANGUAGES, default_commands

CONFIG_FILE = "config.yml"
# One cron field: lists of '*', numbers or ranges, each with an optional step (no names: the
# trigger's matcher reads numbers only).
_CRON_PART = re.compile(r"(?:\*|(\d+)(?:-(\d+))?)(?:/([1-9]\d*))?")
_CRON_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))


def _cron_field_ok(field: str, low: int, high: int) -> bool:
    """True for a cron field the generated trigger understands (numbers within low..high)."""
    for part in field.split(","):
        match = _CRON_PART.fullmatch(part)
        if match is None:
            return False
        numbers = [int(n) for n in match.group(1, 2) if n is not None]
        if not all(low <= n <= high for n in numbers):
            return False
    return True


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
        fields = value.split()
        if len(fields) != 5 or not all(
            _cron_field_ok(f, low, high)
            for f, (low, high) in zip(fields, _CRON_RANGES, strict=False)
        ):
            raise ValueError(
                f"{value!r} is not a cron schedule of five fields"
                " (minute hour day-of-month month day-of-week), e.g. '*/5 * * * *'"
            )
        return value

    default_workflow: Literal["plan_build", "sdlc"] = "plan_build"


class DatabaseSettings(_Section):
    """Where the project's orchestrator database lives (relative to the project root)."""

    path: str = DEFAULT_DB_PATH

    @field_validator("path")
    @classmethod
    def _relative(cls, value: str) -> str:
        if not value or Path(value).is_absolute() or ".." in Path(value).parts:
            raise ValueError(
                "must be a relative path inside the project, such as agents/orchestrator.db"
            )
        return value


class ProjectConfig(_Section):
    """Everything ``config.yml`` holds: what was asked, so that later runs render the same project."""

    version: int = CONFIG_VERSION
    project: ProjectInfo
    commands: Commands = Field(default_factory=Commands)
    agent: AgentSettings = Field(default_factory=AgentSettings)
    workflows: WorkflowSettings = Field(default_factory=WorkflowSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
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
    data = config.model_dump(mode="json", exclude_none=True)
    if not data.get("answers"):
        data.pop("answers", None)  # only projects with team-template questions carry the section
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


class _ConfigLoader(yaml.SafeLoader):
    """SafeLoader without YAML's implicit timestamps: no setting is a date, so ``model: 2024-02-30``
    stays the text the user typed instead of failing inside the YAML parser."""


_ConfigLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_config(text: str, source: str = CONFIG_FILE) -> ProjectConfig:
    """Parse ``config.yml`` text; errors name the file, the line and the key."""
    try:
        node = yaml.compose(text, Loader=_ConfigLoader)
        data = yaml.load(text, Loader=_ConfigLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(source, f"invalid YAML: {problem}", line=line) from None
    except RecursionError:
        raise ConfigError(source, "values are nested too deeply to be settings") from None
    if not isinstance(data, dict):
        raise ConfigError(
            source, "expected a mapping of settings (project:, commands:, ...)", line=1
        )
    _refuse_duplicate_keys(node, source)
    data = migrate_config_data(data, source)
    try:
        return ProjectConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        key = ".".join(str(part) for part in loc) or None
        raise ConfigError(source, _message(err), line=_line_of(node, loc), key=key) from None


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
    if not data.get("answers"):
        data.pop("answers", None)
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
    path = project_dir / CONFIG_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            str(path), "not found", hint="run `tac-bootstrap add-agentic` here first"
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(str(path), "is not UTF-8 text") from None
    except OSError as exc:  # a folder of that name, no permission, ...
        raise ConfigError(str(path), f"cannot be read: {exc.strerror or exc}") from None
    return parse_config(text, str(path))


def _message(err: Any) -> str:
    msg = str(err.get("msg", "invalid value"))
    return msg.removeprefix("Value error, ")


def _refuse_duplicate_keys(root: yaml.Node | None, source: str) -> None:
    """A key given twice in one mapping is a ConfigError at its second line (YAML would silently
    keep the last value, so an edit to the first one would seem to be ignored)."""
    pending: list[tuple[yaml.Node, tuple[str, ...]]] = [(root, ())] if root is not None else []
    seen_nodes: set[int] = set()
    while pending:  # iterative: nesting depth is the user's, not ours
        node, path = pending.pop()
        if id(node) in seen_nodes:  # an alias repeats a node already checked
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            pending.extend((item, (*path, str(i))) for i, item in enumerate(node.value))
        if not isinstance(node, yaml.MappingNode):
            continue
        first_line: dict[tuple[str, str], int] = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                key = (key_node.tag, key_node.value)
                line = key_node.start_mark.line + 1
                if key in first_line:
                    raise ConfigError(
                        source,
                        f"duplicate key (first given on line {first_line[key]}); keep only one",
                        line=line,
                        key=".".join((*path, key_node.value)),
                    )
                first_line[key] = line
                pending.append((value_node, (*path, key_node.value)))
            else:
                pending.append((value_node, path))


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the YAML node at ``loc``, or of its closest existing parent."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if not isinstance(node, yaml.MappingNode):
            break
        for key_node, value_node in node.value:
            if key_node.value == str(part):
                line = key_node.start_mark.line + 1
                node = value_node
                break
        else:
            break
    return line
