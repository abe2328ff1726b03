"""Pydantic v2 models of the orchestrator run log: one model per SQLite table.

The models validate and normalise; they never touch the database (``adw_database`` maps them to
rows). Conventions shared by every model:

- ids are canonical lower-case UUID strings, a fresh uuid4 when omitted;
- timestamps are timezone-aware UTC (naive input is taken as UTC) and serialise to the fixed-width
  form ``YYYY-MM-DDTHH:MM:SS.ffffff+00:00``, the same text the database stores;
- ``metadata`` is a JSON object or ``None``; every value is checked to be JSON-representable.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Final, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
)

OrchestratorStatus = Literal["active", "inactive", "archived"]
RunStatus = Literal["pending", "running", "completed", "failed"]
LogType = Literal["step_start", "step_end", "event", "error"]
LogLevel = Literal["debug", "info", "warning", "error", "critical"]

ORCHESTRATOR_STATUSES: Final[tuple[str, ...]] = get_args(OrchestratorStatus)
RUN_STATUSES: Final[tuple[str, ...]] = get_args(RunStatus)
LOG_TYPES: Final[tuple[str, ...]] = get_args(LogType)
LOG_LEVELS: Final[tuple[str, ...]] = get_args(LogLevel)

# SQLite INTEGER is a signed 64-bit value; a larger Python int could not be stored.
SQLITE_MAX_INT: Final = 2**63 - 1
# Deep enough for any real metadata, shallow enough to stop self-referencing structures early.
MAX_METADATA_DEPTH: Final = 64

_ZERO: Final = timedelta(0)
_SCALARS: Final = frozenset({str, int, bool, type(None)})
_UUID_RE = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)


def new_id() -> str:
    """A fresh random (version 4) UUID in canonical form."""
    return str(uuid.uuid4())


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def canonical_uuid(value: str) -> str:
    """Return ``value`` as a lower-case ``8-4-4-4-12`` UUID string, or raise ``ValueError``."""
    # Only the hyphenated form: uuid.UUID() would also take braces, URNs and stray hyphens.
    if not isinstance(value, str) or _UUID_RE.fullmatch(value) is None:
        raise ValueError(f"Invalid UUID format: {value}")
    return value.lower()


def format_timestamp(value: datetime) -> str:
    """The fixed-width ISO 8601 text stored in SQLite: microseconds and ``+00:00`` always."""
    return value.isoformat(timespec="microseconds")


def _to_utc(value: datetime) -> datetime:
    if value.tzinfo is UTC:
        return value
    offset = value.utcoffset()
    # Naive (or a tzinfo that declines to answer) is taken as UTC; a zero offset (pydantic's own
    # UTC tzinfo when it parses text) only needs relabelling, which is cheaper than astimezone.
    if offset is None or offset == _ZERO:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:  # e.g. 0001-01-01 00:00+05:00; pydantic only reports ValueError
        raise ValueError(f"timestamp {value.isoformat()} is out of range in UTC") from exc


def _one_of(label: str, allowed: tuple[str, ...]) -> Callable[[object], object]:
    """A before-validator giving the documented message instead of pydantic's Literal error."""
    message = f"{label} must be one of {', '.join(allowed)}"

    def check(value: object) -> object:
        if not isinstance(value, str) or value not in allowed:
            raise ValueError(f"{message} (got {value!r})")
        return str.__str__(value)  # a str-based enum member becomes its plain value

    return check


def _json_value(value: object, path: str, depth: int) -> object:
    """A plain-JSON copy of ``value`` (tuples become lists), or ``ValueError`` naming ``path``."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if isinstance(value, float | str | int):
        return _json_scalar(value, path)
    if depth >= MAX_METADATA_DEPTH:
        raise ValueError(f"metadata{path} is nested deeper than {MAX_METADATA_DEPTH} levels")
    if isinstance(value, dict):
        return _json_mapping(value, path, depth)
    if isinstance(value, list | tuple):
        return [_json_value(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value)]
    raise ValueError(f"metadata{path} is a {kind.__name__}, which JSON cannot hold")


def _json_scalar(value: float | str | int, path: str) -> object:
    """The plain value of a scalar subclass (an enum member, a bool-like int), finite floats only."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"metadata{path} is {value!r}, which JSON cannot hold")
        return float(value)
    if isinstance(value, str):
        return str.__str__(value)
    return int(value)


def _json_mapping(value: dict[object, object], path: str, depth: int) -> dict[str, object]:
    """A JSON object's copy: string keys only, every value checked one level deeper."""
    copy: dict[str, object] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise ValueError(f"metadata{path} has key {key!r}; JSON object keys are strings")
        # Exact scalars are by far the common case: skip the call (this runs on every write).
        copy[str.__str__(key)] = (
            item if type(item) in _SCALARS else _json_value(item, f"{path}[{key!r}]", depth + 1)
        )
    return copy


def _json_object(value: dict[str, Any]) -> dict[str, Any]:
    """``value`` as plain JSON: itself when it is flat (``str`` keys, ``str``/``int``/``bool``/
    ``None`` values, the usual metadata), else a checked copy (``_json_value``).

    The model validates ``dict[str, Any]`` first, which already gives a new dict, so the model
    never holds the caller's dict either way. Returning it saves a copy per row in bulk writes.
    """
    for key, item in value.items():
        if type(item) not in _SCALARS or type(key) is not str:
            break
    else:
        return value
    copy = _json_value(value, "", 0)
    assert isinstance(copy, dict)  # a dict in gives a dict out
    return copy


UuidStr = Annotated[str, AfterValidator(canonical_uuid)]
UtcDatetime = Annotated[
    datetime,
    AfterValidator(_to_utc),
    PlainSerializer(format_timestamp, return_type=str, when_used="json"),
]
Metadata = Annotated[dict[str, Any], AfterValidator(_json_object)]
TokenCount = Annotated[int, Field(ge=0, le=SQLITE_MAX_INT)]
Count = TokenCount  # any other non-negative count stored as SQLite INTEGER (turns, milliseconds)
Cost = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]


class _Model(BaseModel):
    """Common configuration: unknown fields are errors and assignments are validated too."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class OrchestratorAgent(_Model):
    """A kind of agent the orchestrator knows (e.g. ``planner``), unique by name."""

    id: UuidStr = Field(default_factory=new_id)
    name: str = Field(min_length=1)
    description: str | None = None
    status: Annotated[
        OrchestratorStatus, BeforeValidator(_one_of("Status", ORCHESTRATOR_STATUSES))
    ] = "active"
    metadata: Metadata | None = None
    created_at: UtcDatetime = Field(default_factory=utc_now)
    updated_at: UtcDatetime = Field(default_factory=utc_now)

    @field_validator("name")
    @classmethod
    def _name_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("name must not be blank")
        return value

    def model_post_init(self, _context: Any, /) -> None:
        """A new record starts with ``updated_at == created_at`` unless told otherwise."""
        if "updated_at" not in self.model_fields_set:
            # Written to __dict__ directly: the value is already validated, skip re-validation.
            self.__dict__["updated_at"] = self.created_at


class Agent(_Model):
    """One run of an orchestrator agent (a workflow execution, a Claude session)."""

    id: UuidStr = Field(default_factory=new_id)
    orchestrator_agent_id: UuidStr
    # Free text: Claude session ids are UUIDs, the generator's own run ids are not.
    session_id: str = Field(min_length=1)
    name: str | None = None
    model: str | None = None
    status: Annotated[RunStatus, BeforeValidator(_one_of("Status", RUN_STATUSES))] = "pending"
    created_at: UtcDatetime = Field(default_factory=utc_now)
    started_at: UtcDatetime | None = None
    completed_at: UtcDatetime | None = None
    metadata: Metadata | None = None


class Prompt(_Model):
    """One prompt sent by an agent, with its response, token counts, cost, turns and models.

    ``tokens_input`` is the uncached input; cache reads and cache writes are counted apart
    (``tokens_cache_read``, ``tokens_cache_creation``), so the whole input is their sum.
    ``models`` lists the model ids the call used, comma-separated (``None`` when unknown).
    """

    id: UuidStr = Field(default_factory=new_id)
    agent_id: UuidStr
    content: str
    response: str | None = None
    status: Annotated[RunStatus, BeforeValidator(_one_of("Status", RUN_STATUSES))] = "pending"
    tokens_input: TokenCount = 0
    tokens_output: TokenCount = 0
    tokens_cache_read: TokenCount = 0
    tokens_cache_creation: TokenCount = 0
    cost_usd: Cost = 0.0
    num_turns: Count = 0
    duration_ms: Count = 0
    models: str | None = None
    created_at: UtcDatetime = Field(default_factory=utc_now)
    completed_at: UtcDatetime | None = None

    @field_validator("models")
    @classmethod
    def _models_not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("models must not be blank (use None when unknown)")
        return value


class AgentLog(_Model):
    """One entry of an agent's own log: step start/end, event or error."""

    id: UuidStr = Field(default_factory=new_id)
    agent_id: UuidStr
    log_type: Annotated[LogType, BeforeValidator(_one_of("Log type", LOG_TYPES))]
    message: str
    metadata: Metadata | None = None
    created_at: UtcDatetime = Field(default_factory=utc_now)


class SystemLog(_Model):
    """One system-wide log record (what ``logging`` emits through ``SystemLogHandler``)."""

    id: UuidStr = Field(default_factory=new_id)
    log_level: Annotated[LogLevel, BeforeValidator(_one_of("Log level", LOG_LEVELS))]
    message: str
    source: str | None = None
    metadata: Metadata | None = None
    created_at: UtcDatetime = Field(default_factory=utc_now)
