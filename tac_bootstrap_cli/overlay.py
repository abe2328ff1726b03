"""Team templates: an overlay folder over the built-in ``templates/``, with its own version and questions.

The overlay mirrors ``templates/``: a file at the same template path replaces the built-in one (also
across ``.j2``), a new file is added, and ``P.skip`` removes built-in ``P`` (the render engine does
that part). ``tac-template.yml`` at its root is metadata, never rendered::

    version: "2.0"
    questions:
      - name: reviewer            # becomes answers.reviewer in templates
        renamed_from: code_owner  # a user's old answer moves here
      - name: channel
        compute: "'#' ~ project.name ~ '-dev'"   # Jinja2 expression, sandboxed
      - name: strict
        default: true

Answers to overlay questions live in ``config.yml`` under ``answers:``. A question's default is
only used when the user has no value: an existing answer is never replaced.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tac_bootstrap_cli.config import CONFIG_FILE, ProjectConfig
from tac_bootstrap_cli.errors import ConfigError, UsageError
from tac_bootstrap_cli.trust import require_trusted

if TYPE_CHECKING:
    from tac_bootstrap_cli.overlay_meta import OverlayMeta

META_FILE = "tac-template.yml"
SKIP_SUFFIX = ".skip"


@dataclass(frozen=True)
class Overlay:
    """A team template folder and its metadata."""

    path: Path
    meta: OverlayMeta

    @property
    def version(self) -> str | None:
        """The overlay's declared version."""
        return self.meta.version


def load_overlay(path: Path) -> Overlay:
    """Read an overlay folder (``tac-template.yml`` optional); errors name the file and key."""
    # Pydantic is loaded here, for team templates only: most projects have none.
    from pydantic import ValidationError

    from tac_bootstrap_cli import yamlread
    from tac_bootstrap_cli.overlay_meta import OverlayMeta

    if not path.is_dir():
        raise UsageError(f"team templates {path}: not a folder")
    meta_path = path / META_FILE
    if not meta_path.is_file():
        return Overlay(path, OverlayMeta())
    # The shared reader: limits (an alias bomb is refused, not expanded), duplicate keys, dates
    # as text, and every error as PATH:line:col.
    source = str(meta_path)
    data, root = yamlread.load(yamlread.read_text(meta_path), source, what=META_FILE)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        line, col = yamlread.position(root)
        raise ConfigError(
            source, "expected a mapping (version:, questions:)", line=line, column=col
        )
    try:
        meta = OverlayMeta.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"]) or None
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise ConfigError(source, msg, key=key) from None
    names = [q.name for q in meta.questions]
    if len(set(names)) != len(names):
        raise ConfigError(str(meta_path), "a question name appears twice", key="questions")
    return Overlay(path, meta)


def resolve_templates(value: str | None, root: Path) -> Path | None:
    """The overlay folder ``config.yml`` remembers (relative values are relative to the project);
    one that comes from the repository must be trusted (``trust.require_trusted``)."""
    if not value:
        return None
    path = Path(value).expanduser()
    path = path if path.is_absolute() else root / path
    if not path.is_dir():
        raise ConfigError(
            str(root / CONFIG_FILE),
            f"team templates folder {path} not found",
            key="templates",
            hint="pass --templates DIR, or delete the templates: line to use the built-ins only",
        )
    require_trusted(path, root, value)
    return path


def remembered(path: Path, root: Path) -> str:
    """How ``config.yml`` records an overlay: relative when inside the project, else absolute.

    This is where a folder given with ``--templates`` is accepted, so a folder inside the
    project must be trusted here too (naming it on the command line does not make a cloned
    repository's content the user's own)."""
    require_trusted(path.expanduser(), root)
    absolute = path.expanduser().resolve()
    try:
        return absolute.relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(absolute)


def _sandbox_value(expression: str, context: dict[str, Any], where: str) -> Any:
    from jinja2 import StrictUndefined, TemplateError, Undefined
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(undefined=StrictUndefined)
    try:
        value = env.compile_expression(expression, undefined_to_none=False)(**context)
    except TemplateError as exc:  # includes SecurityError and undefined names
        raise ConfigError(where, f"cannot compute: {exc}") from None
    if isinstance(value, Undefined):
        raise ConfigError(where, "cannot compute: the expression is undefined")
    return _plain(value)


def _plain(value: Any) -> Any:
    """A value YAML and templates can carry: JSON-like types; anything else becomes text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


def migrate_answers(
    config: ProjectConfig, overlay: Overlay | None
) -> tuple[ProjectConfig, list[str]]:
    """Apply an overlay's questions to the answers: renames, then missing answers' defaults.

    Returns the new config and one note per change. Answers the user has are never replaced.
    """
    if overlay is None or not overlay.meta.questions:
        return config, []
    answers = dict(config.answers)
    notes: list[str] = []
    where = str(overlay.path / META_FILE)
    for q in overlay.meta.questions:
        for old in q.renamed_from:
            if old not in answers:
                continue
            if q.name in answers:
                notes.append(f"answers.{old}: dropped (renamed to {q.name}, which you already set)")
            else:
                answers[q.name] = answers[old]
                notes.append(f"answers.{old} renamed to answers.{q.name} (value kept)")
            del answers[old]
    for q in overlay.meta.questions:
        if q.name in answers:
            continue
        if q.compute is not None:
            context = config.template_context()
            context["answers"] = dict(answers)
            value = _sandbox_value(q.compute, context, f"{where}: questions.{q.name}.compute")
        else:
            value = _plain(q.default)
        answers[q.name] = value
        notes.append(f"answers.{q.name}: new question, set to {value!r}")
    if answers == config.answers:
        return config, notes
    return config.replace(answers=answers), notes
