"""The metadata of a team template folder (``tac-template.yml``): Pydantic models, imported only
by projects that have team templates (``overlay.load_overlay``)."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Question(BaseModel):
    """One answer an overlay's templates use (``answers.<name>``)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    help: str = ""
    default: Any = None
    compute: str | None = None  # a Jinja2 expression over the answers and config sections
    renamed_from: list[str] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(f"{value!r} is not a name templates can use (letters, digits, _)")
        return value

    @field_validator("renamed_from", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class OverlayMeta(BaseModel):
    """The overlay's ``tac-template.yml``."""

    model_config = ConfigDict(extra="forbid")

    version: str | None = None
    questions: list[Question] = Field(default_factory=list)

    @field_validator("version", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return None if value is None else str(value)  # `version: 2.0` is a float in YAML
