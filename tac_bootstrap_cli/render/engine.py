"""Render the template tree into a ``{path: RenderedFile}`` mapping.

Conventions of ``templates/`` (documented in docs/architecture.md):
- the tree mirrors the output tree; a file ending in ``.j2`` is rendered with Jinja2 and loses the
  suffix, any other file is copied byte for byte (cheap, and safe for files that contain ``{{``);
- a path component may hold Jinja expressions; a component that renders empty drops the file, which
  is how a file is made conditional on the answers;
- the executable bit of a template file is kept;
- the base modules listed in ``BASE_MODULES`` are not templates: they are taken from the installed
  ``adws`` package itself, so generated projects get byte-identical copies and there is one source.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

import jinja2

from tac_bootstrap_cli.errors import TacError, UnsafePathError
from tac_bootstrap_cli.render.filters import FILTERS

TEMPLATE_SUFFIX = ".j2"
EXECUTABLE = 0o755
REGULAR = 0o644

# Paths relative to the ``adws`` package's parent, rendered verbatim into every project.
BASE_MODULES = (
    "adws/adw_modules/__init__.py",
    "adws/adw_modules/orch_database_models.py",
    "adws/adw_modules/adw_database.py",
    "adws/adw_modules/adw_logging.py",
    "adws/schema/schema_orchestrator.sql",
)


class TemplateRenderError(TacError):
    """A template failed to render (a bug in a template, or an answer it cannot take)."""


@dataclass(frozen=True)
class RenderedFile:
    """One output file: its bytes, its mode and where it came from."""

    content: bytes
    mode: int = REGULAR
    source: str = ""

    @property
    def executable(self) -> bool:
        """True when the file should be written with the executable bits."""
        return bool(self.mode & stat.S_IXUSR)


def templates_root() -> Path:
    """The built-in templates: inside the package when installed, at the repo root in a checkout."""
    package_dir = Path(__file__).resolve().parent.parent
    for candidate in (package_dir / "templates", package_dir.parent / "templates"):
        if candidate.is_dir():
            return candidate
    raise TacError(f"built-in templates not found next to {package_dir}; reinstall tac-bootstrap")


def _adws_root() -> Path:
    import adws  # the package the generator itself runs on

    return Path(adws.__file__).resolve().parent.parent


@cache
def _environment(root: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(root)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters.update(FILTERS)
    return env


def _iter_template_files(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            if name == "__pycache__" or name.endswith((".pyc", ".pyo")):
                continue
            yield Path(dirpath) / name
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]


def _safe_output_path(rendered: str, template: str) -> str | None:
    """Normalize a rendered relative path; None drops the file; escaping the target is an error."""
    parts = rendered.split("/")
    if any(part == "" for part in parts):
        return None  # an empty component: the file is conditional and its condition is false
    path = PurePosixPath(rendered)
    if path.is_absolute() or any(part in ("..", ".") for part in parts) or "\\" in rendered:
        raise UnsafePathError(f"template {template} renders to unsafe path {rendered!r}")
    return path.as_posix()


def render_project(
    context: Mapping[str, Any], *, templates_dir: Path | None = None
) -> dict[str, RenderedFile]:
    """Render every template (and the base modules) for ``context``; returns files sorted by path."""
    root = (templates_dir or templates_root()).resolve()
    env = _environment(root)
    files: dict[str, RenderedFile] = {}
    for file in _iter_template_files(root):
        rel = file.relative_to(root).as_posix()
        is_template = rel.endswith(TEMPLATE_SUFFIX)
        out_rel = rel[: -len(TEMPLATE_SUFFIX)] if is_template else rel
        try:
            if "{" in out_rel:
                out_rel = env.from_string(out_rel).render(context)
            out_path = _safe_output_path(out_rel, rel)
            if out_path is None:
                continue
            if is_template:
                text = env.get_template(rel).render(context)
                content = text.encode("utf-8")
            else:
                content = file.read_bytes()
        except jinja2.TemplateError as exc:
            line = getattr(exc, "lineno", None)
            where = f"{rel}:{line}" if line else rel
            raise TemplateRenderError(f"template {where}: {exc}") from exc
        mode = EXECUTABLE if file.stat().st_mode & stat.S_IXUSR else REGULAR
        files[out_path] = RenderedFile(content, mode, rel)
    adws_root = _adws_root()
    for rel in BASE_MODULES:
        files[rel] = RenderedFile((adws_root / rel).read_bytes(), REGULAR, f"adws package: {rel}")
    return dict(sorted(files.items()))
