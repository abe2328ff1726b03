"""The answers behind a generated project (``config.yml``): their validation, load and dump.

``ProjectConfig.template_context()`` is the one contract between answers and templates: every
template variable comes from it, and Jinja2's ``StrictUndefined`` turns any other name into an error.

The sections are frozen dataclasses validated by hand, not Pydantic models: importing Pydantic and
building these eight models was ~70 ms of every command that reads or writes a config (a third of
``init``). The rules are Pydantic's lax mode for the types used here (``"3"`` is the integer 3, a
string is never a number, unknown keys are refused), with the same messages, and
``tests/engine/test_config_oracle.py`` holds them to the Pydantic models they replaced
(``tests/config_oracle.py``): the same data gives the same config, or the same problems at the
same keys.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Self

from tac_bootstrap_cli import __version__
from tac_bootstrap_cli._adws.adw_modules import adw_cron
from tac_bootstrap_cli._adws.adw_modules.utils import db_url_problem, otlp_endpoint_problem
from tac_bootstrap_cli.errors import ConfigError, UsageError
from tac_bootstrap_cli.locations import CONFIG_FILE as CONFIG_FILE  # importable here, as before
from tac_bootstrap_cli.names import validate_project_name
from tac_bootstrap_cli.stacks import FRAMEWORKS, LANGUAGES, default_commands

CONFIG_VERSION = 1
DEFAULT_DB_PATH = "agents/orchestrator.db"

Loc = tuple[str | int, ...]


class ConfigInvalid(ValueError):
    """Answers that do not validate: each problem's place (keys from the top) and message, in
    the order of the fields."""

    def __init__(self, problems: list[tuple[Loc, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{dotted(loc)}: {msg}" for loc, msg in problems))


def dotted(loc: Loc) -> str:
    """``("workflows", "on_failure", "retries")`` -> ``workflows.on_failure.retries``."""
    return ".".join(str(part) for part in loc)


class _Bad(Exception):
    """One value's problem: its message."""


# --- the value types: Pydantic's lax mode, as far as config.yml's types go -----------------------

_TEXT = "Input should be a valid string"
_INTEGER = "Input should be a valid integer"
_NUMBER = "Input should be a valid number"
_STR_KEYS = "Keys should be strings"
# An integer as text: digits with single underscores between them, and a zero fraction ("3.0").
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+(?:_[0-9]+)*(?:\.0+)?", re.ASCII)
_NUMBER_TEXT = re.compile(
    r"[+-]?(?:(?:[0-9]+(?:_[0-9]+)*(?:\.(?:[0-9]+(?:_[0-9]+)*)?)?|\.[0-9]+(?:_[0-9]+)*)"
    r"(?:[eE][+-]?[0-9]+(?:_[0-9]+)*)?|inf|infinity|nan)",
    re.ASCII | re.IGNORECASE,
)


def _decoded(value: bytes | bytearray, problem: str) -> str:
    try:
        return bytes(value).decode("utf-8")
    except UnicodeDecodeError:
        raise _Bad(problem) from None


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray):
        return _decoded(value, f"{_TEXT}, unable to parse raw data as a unicode string")
    raise _Bad(_TEXT)


def _optional_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def _integer(value: Any) -> int:
    if isinstance(value, int):  # bool too: True is 1
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _Bad("Input should be a finite number")
        if not value.is_integer():
            raise _Bad(f"{_INTEGER}, got a number with a fractional part")
        if not -(2.0**63) < value < 2.0**63:  # Pydantic's limit for a float taken as an integer
            raise _Bad("Unable to parse input string as an integer, exceeded maximum size")
        return int(value)
    if isinstance(value, str | bytes | bytearray):
        unparsable = f"{_INTEGER}, unable to parse string as an integer"
        text = value if isinstance(value, str) else _decoded(value, unparsable)
        text = text.strip()
        if not _INTEGER_TEXT.fullmatch(text):
            raise _Bad(unparsable)
        return int(text.partition(".")[0].replace("_", ""))
    raise _Bad(_INTEGER)


def _number(value: Any) -> float:
    if isinstance(value, int | float):
        try:
            return float(value)
        except OverflowError:  # an integer of hundreds of digits
            raise _Bad(_NUMBER) from None
    if isinstance(value, str | bytes | bytearray):
        unparsable = f"{_NUMBER}, unable to parse string as a number"
        text = value if isinstance(value, str) else _decoded(value, unparsable)
        text = text.strip()
        if not _NUMBER_TEXT.fullmatch(text):
            raise _Bad(unparsable)
        return float(text.replace("_", ""))
    raise _Bad(_NUMBER)


def _within(low: float, high: float) -> Callable[[float], float]:
    """A check of ``low <= value <= high`` (NaN fails the upper bound first, as in Pydantic)."""

    def check(value: float) -> float:
        if not value <= high:
            raise _Bad(f"Input should be less than or equal to {high:g}")
        if not value >= low:
            raise _Bad(f"Input should be greater than or equal to {low:g}")
        return value

    return check


def _one_of(*options: str) -> Callable[[Any], str]:
    """A ``Literal`` of ``options``."""
    problem = "Input should be " + " or ".join(repr(o) for o in options)

    def check(value: Any) -> str:
        if isinstance(value, str) and value in options:
            return str(value)
        raise _Bad(problem)

    return check


def _mapping(value: Any, loc: Loc, problems: list[tuple[Loc, str]]) -> dict[str, Any] | None:
    """``dict[str, Any]``: text keys (bytes decoded), values as they are."""
    if not isinstance(value, Mapping):
        problems.append((loc, "Input should be a valid dictionary"))
        return None
    out: dict[str, Any] = {}
    fine = True
    for key, item in value.items():
        try:
            out[_text(key)] = item
        except _Bad as bad:
            problems.append(((*loc, key, "[key]"), str(bad)))
            fine = False
    return out if fine else None


# --- sections ----------------------------------------------------------------------------------

Convert = Callable[[Any], Any]
# A field's own check, after its type: the value and the fields validated before it.
Check = Callable[[Any, dict[str, Any]], Any]


@dataclass(frozen=True)
class _Rule:
    convert: Convert | None = None  # the type; None: ``section``, else a ``dict[str, Any]``
    check: Check | None = None
    section: type[_Section] | None = None


class _Section:
    """A frozen dataclass of validated settings: built from data (``from_data``), or by its
    constructor, which validates its arguments the same way."""

    RULES: ClassVar[dict[str, _Rule]]

    def __post_init__(self) -> None:
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}  # type: ignore[arg-type]
        problems: list[tuple[Loc, str]] = []
        settled = _validate(type(self), values, (), problems)
        if settled is None:
            raise ConfigInvalid(problems)
        for name in values:
            object.__setattr__(self, name, getattr(settled, name))

    @classmethod
    def from_data(cls, data: Any) -> Any:
        """Validate plain data (``config.yml``'s) into this section; ``ConfigInvalid`` says why not."""
        problems: list[tuple[Loc, str]] = []
        settled = _section(cls, data, (), problems)
        if settled is None:
            raise ConfigInvalid(problems)
        return settled

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes``, validated like the constructor's arguments."""
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]

    def _finish(self) -> None:
        """Fill what depends on several fields (after they all validated); ValueError if they do
        not fit together."""

    def to_data(self, *, exclude_none: bool = False) -> dict[str, Any]:
        """Plain data in field order (what ``config.yml`` and the templates get)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if value is None and exclude_none:
                continue
            if isinstance(value, _Section):
                out[f.name] = value.to_data(exclude_none=exclude_none)
            else:
                out[f.name] = _plain(value)
        return out


def _plain(value: Any) -> Any:
    """``value`` as JSON-like data (bytes as text, sets and tuples as lists)."""
    if isinstance(value, Mapping):
        return {str(_plain(k)): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "replace")
    return value


def _section(
    cls: type[_Section], value: Any, loc: Loc, problems: list[tuple[Loc, str]]
) -> _Section | None:
    if isinstance(value, cls):
        return value
    if not isinstance(value, Mapping):
        problems.append((loc, f"Input should be a valid dictionary or instance of {cls.__name__}"))
        return None
    return _validate(cls, value, loc, problems)


def _validate(
    cls: type[_Section], data: Mapping[Any, Any], loc: Loc, problems: list[tuple[Loc, str]]
) -> _Section | None:
    """The section ``data`` describes, or None with its problems added: fields in order, then
    unknown keys, then (all fine) the section's ``_finish``."""
    before = len(problems)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        where = (*loc, f.name)
        if f.name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                problems.append((where, "Field required"))
            else:  # the section's own default, not validated again; later checks see it
                values[f.name] = _default(f)
            continue
        value = _field(cls, f, data[f.name], where, problems, values)
        if value is not _INVALID:
            values[f.name] = value
    problems.extend(
        ((*loc, key), "Extra inputs are not permitted" if isinstance(key, str) else _STR_KEYS)
        for key in data
        if key not in cls.RULES
    )
    if len(problems) > before:
        return None
    settled = object.__new__(cls)
    for name, value in values.items():
        object.__setattr__(settled, name, value)
    try:
        settled._finish()
    except ValueError as exc:
        problems.append((loc, str(exc)))
        return None
    return settled


_INVALID = object()


def _default(f: dataclasses.Field[Any]) -> Any:
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return f.default


def _field(
    cls: type[_Section],
    f: dataclasses.Field[Any],
    raw: Any,
    where: Loc,
    problems: list[tuple[Loc, str]],
    so_far: dict[str, Any],
) -> Any:
    """One field's validated value, or ``_INVALID`` with its problem added."""
    rule = cls.RULES[f.name]
    if rule.convert is None:
        value = (
            _section(rule.section, raw, where, problems)
            if rule.section is not None
            else _mapping(raw, where, problems)
        )
        return _INVALID if value is None else value
    try:
        value = rule.convert(raw)
        return rule.check(value, so_far) if rule.check is not None else value
    except _Bad as bad:
        problems.append((where, str(bad)))
    except ValueError as exc:
        problems.append((where, str(exc)))
    return _INVALID


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


_TEXT_RULE = _Rule(_text)


@dataclass(frozen=True, kw_only=True)
class ProjectInfo(_Section):
    """Name and stack of the project."""

    name: str
    language: str = "python"
    framework: str = "none"
    package_manager: str = ""

    RULES: ClassVar[dict[str, _Rule]] = {
        "name": _Rule(_text, _valid_name),
        "language": _Rule(_text, _known_language),
        "framework": _Rule(_text, _fitting_framework),
        "package_manager": _Rule(_text, _fitting_package_manager),
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
class Commands(_Section):
    """Shell commands the agents run; empty means 'use the stack default'."""

    install: str = ""
    test: str = ""
    lint: str = ""
    format: str = ""
    run: str = ""

    RULES: ClassVar[dict[str, _Rule]] = dict.fromkeys(
        ("install", "test", "lint", "format", "run"), _TEXT_RULE
    )


COMMAND_NAMES: tuple[str, ...] = tuple(Commands.RULES)


def _checked(check: Callable[[Any], Any]) -> Check:
    return lambda value, _so_far: check(value)


@dataclass(frozen=True, kw_only=True)
class OnFailure(_Section):
    """How a failing workflow phase is retried."""

    retries: int = 2
    delay_seconds: float = 10.0

    RULES: ClassVar[dict[str, _Rule]] = {
        "retries": _Rule(_integer, _checked(_within(0, 10))),
        "delay_seconds": _Rule(_number, _checked(_within(0, 3600))),
    }


@dataclass(frozen=True, kw_only=True)
class AgentSettings(_Section):
    """Which model and agent CLI the workflows use."""

    model: str = "sonnet"
    cli: str = "claude"

    RULES: ClassVar[dict[str, _Rule]] = {"model": _TEXT_RULE, "cli": _TEXT_RULE}


def _cron(value: str, _so_far: dict[str, Any]) -> str:
    # The generated trigger fires by the same module (copied into the project), so what passes
    # here is exactly what runs there.
    try:
        adw_cron.validate(value)
    except adw_cron.CronError as exc:
        raise ValueError(f"{exc}; e.g. '*/5 * * * *'") from None
    return value


@dataclass(frozen=True, kw_only=True)
class WorkflowSettings(_Section):
    """Retry policy and the cron trigger of the ADW workflows."""

    on_failure: OnFailure = field(default_factory=OnFailure)
    cron: str = "*/5 * * * *"
    default_workflow: str = "plan_build"  # "plan_build" or "sdlc"

    RULES: ClassVar[dict[str, _Rule]] = {
        "on_failure": _Rule(section=OnFailure),
        "cron": _Rule(_text, _cron),
        "default_workflow": _Rule(_one_of("plan_build", "sdlc")),
    }


def _no_password(value: str | None, _so_far: dict[str, Any]) -> str | None:
    # config.yml is committed: the generated layer reads the same rule (adw_modules.utils), so
    # what passes here is what the workflows accept.
    if value is None or not value.strip():
        return None
    problem = db_url_problem(value.strip())
    if problem:
        raise ValueError(problem)
    return value.strip()


def _relative(value: str, _so_far: dict[str, Any]) -> str:
    if not value or Path(value).is_absolute() or ".." in Path(value).parts:
        raise ValueError(
            "must be a relative path inside the project, such as agents/orchestrator.db"
        )
    return value


@dataclass(frozen=True, kw_only=True)
class DatabaseSettings(_Section):
    """Where the project's orchestrator database lives (relative to the project root), and the
    team's PostgreSQL server the workflows sync it to (``url``; none by default)."""

    path: str = DEFAULT_DB_PATH
    url: str | None = None

    RULES: ClassVar[dict[str, _Rule]] = {
        "path": _Rule(_text, _relative),
        "url": _Rule(_optional_text, _no_password),
    }


def _http_url(value: str | None, _so_far: dict[str, Any]) -> str | None:
    # The shipped adw_telemetry checks the same rule (adw_modules.utils).
    if value is None or not value.strip():
        return None
    problem = otlp_endpoint_problem(value.strip())
    if problem:
        raise ValueError(problem)
    return value.strip()


@dataclass(frozen=True, kw_only=True)
class TelemetrySettings(_Section):
    """Where the workflows send their traces (OTLP/HTTP base URL; off by default). The
    OTEL_EXPORTER_OTLP_* variables override it."""

    otlp_endpoint: str | None = None

    RULES: ClassVar[dict[str, _Rule]] = {"otlp_endpoint": _Rule(_optional_text, _http_url)}


@dataclass(frozen=True, kw_only=True)
class ProjectConfig(_Section):
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

    RULES: ClassVar[dict[str, _Rule]] = {
        "version": _Rule(_integer),
        "project": _Rule(section=ProjectInfo),
        "commands": _Rule(section=Commands),
        "agent": _Rule(section=AgentSettings),
        "workflows": _Rule(section=WorkflowSettings),
        "database": _Rule(section=DatabaseSettings),
        "telemetry": _Rule(section=TelemetrySettings),
        "templates": _Rule(_optional_text),
        "answers": _Rule(),
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
