"""The state of one ADW run, kept in ``agents/<adw_id>/adw_state.json`` between phases."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from .adw_files import write_atomic
from .data_types import ADWStateData, PhaseRecord
from .utils import PROJECT_ROOT, check_adw_id


def state_dir(adw_id: str, root: Path | None = None) -> Path:
    """``agents/<adw_id>/`` of the project: the run's state and agent outputs."""
    return (root or PROJECT_ROOT) / "agents" / check_adw_id(adw_id)


class ADWState:
    """Load, change and save the state file of one ADW run."""

    FILE_NAME = "adw_state.json"

    def __init__(self, data: ADWStateData, root: Path | None = None) -> None:
        self.data = data
        self.root = root or PROJECT_ROOT

    @property
    def path(self) -> Path:
        """Where this state is saved."""
        return state_dir(self.data.adw_id, self.root) / self.FILE_NAME

    @classmethod
    def load(cls, adw_id: str, root: Path | None = None) -> ADWState | None:
        """The saved state of ``adw_id``, or None when the run has none yet."""
        path = state_dir(adw_id, root) / cls.FILE_NAME
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        return cls(ADWStateData.model_validate_json(text), root)

    @classmethod
    def load_or_create(
        cls, adw_id: str, task: str, workflow: str, root: Path | None = None
    ) -> ADWState:
        """The saved state of ``adw_id``, or a new one for ``task``."""
        state = cls.load(adw_id, root)
        if state is None:
            state = cls(ADWStateData(adw_id=adw_id, task=task, workflow=workflow), root)
        else:
            if task and not state.data.task:
                state.data.task = task
            state.data.workflow = workflow or state.data.workflow
        return state

    def phase(self, name: str) -> PhaseRecord:
        """The record of phase ``name`` (created on first use)."""
        return self.data.phases.setdefault(name, PhaseRecord())

    def save(self) -> Path:
        """Write the state atomically (a crash never leaves half a JSON file)."""
        self.data.updated_at = datetime.now(UTC).isoformat()
        path = self.path
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.data.model_dump(mode="json"), indent=2) + "\n"
        write_atomic(path, text.encode("utf-8"))
        return path
