"""Typed records passed between the ADW modules: agent results, workflow state, errors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

PhaseName = Literal["plan", "build", "test", "review", "document"]
PhaseStatus = Literal["pending", "running", "completed", "failed"]

# The Agent name each phase records under (one Agent row per phase run).
PHASE_AGENTS: dict[str, str] = {
    "plan": "planner",
    "build": "builder",
    "test": "tester",
    "review": "reviewer",
    "document": "docs-writer",
}


class AgentResult(BaseModel):
    """What one call of the agent CLI produced, taken from its stream-json output.

    ``input_tokens`` is the uncached input; the whole input adds ``cache_read_tokens`` and
    ``cache_creation_tokens``. ``usage_source`` says where the totals came from: ``modelUsage``,
    ``result`` (the result line's ``usage``), ``messages`` (no result line) or ``none``.
    """

    ok: bool
    result: str = ""
    is_error: bool = False
    subtype: str = ""
    session_id: str | None = None
    input_tokens: int = 0
    cache_read_tokens: int = 0
    cache_creation_tokens: int = 0
    output_tokens: int = 0
    usage_source: str = "none"
    cost_usd: float = 0.0
    num_turns: int = 0
    duration_ms: int = 0
    models: list[str] = Field(default_factory=list)
    model_usage: dict[str, dict[str, Any]] = Field(default_factory=dict)
    exit_code: int = 0
    raw_output: str = ""
    stderr: str = ""


class PhaseRecord(BaseModel):
    """How one phase of a workflow went."""

    status: PhaseStatus = "pending"
    agent_id: str | None = None
    attempts: int = 0
    error: str | None = None
    updated_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat())


class ADWStateData(BaseModel):
    """The persisted state of one ADW run (``agents/<adw_id>/adw_state.json``)."""

    model_config = ConfigDict(extra="allow")

    adw_id: str
    task: str = ""
    workflow: str = ""
    spec_path: str | None = None
    doc_path: str | None = None
    branch: str | None = None
    review: str | None = None
    phases: dict[str, PhaseRecord] = Field(default_factory=dict)
    created_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat())
    updated_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat())


class AgentCLIError(RuntimeError):
    """The agent CLI cannot be started (not installed, not executable): retrying cannot help."""


class PhaseError(RuntimeError):
    """One attempt of a phase failed; the workflow may retry it."""


class PhaseStop(PhaseError):
    """An attempt failed for a reason no retry can fix (no tests yet, no project manifest, a
    missing command): the phase fails at once with this message, which says what to do."""


class PhaseFailed(RuntimeError):
    """A phase failed after all its attempts; the workflow stops with a non-zero exit."""
