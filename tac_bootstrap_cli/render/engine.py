"""Render the template tree into a ``{path: RenderedFile}`` mapping.

Conventions of ``templates/`` (documented in docs/architecture.md):
- the tree mirrors the output tree; a file ending in ``.j2`` is rendered with Jinja2 and loses the
  suffix, any other file is copied byte for byte (cheap, and safe for files that contain ``{{``);
- a path component may hold Jinja expressions; a component that renders empty drops the file, which
  is how a file is made conditional on the answers;
- the executable bit of a template file is kept;
- the base modules listed in ``BASE_MODULES`` are not templates: they are taken from the installed
  ``adws`` package itself, so generated projects get byte-identical copies and there is one source;
- a team overlay (``overlay=``) mirrors the tree: a file at the same template path replaces the
  built-in one (``x.md`` and ``x.md.j2`` are the same path), a new file is added, ``P.skip`` removes
  built-in ``P`` (or ``P.j2``, or a base module), and ``tac-template.yml`` at its root is metadata.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

import jinja2
import jinja2.bccache

from tac_bootstrap_cli import __version__
from tac_bootstrap_cli.errors import TacError, UnsafePathError
from tac_bootstrap_cli.render.codecache import CodeCache
from tac_bootstrap_cli.render.filters import FILTERS

TEMPLATE_SUFFIX = ".j2"
EXECUTABLE = 0o755
REGULAR = 0o644

# Paths relative to the ``adws`` package's parent, rendered verbatim into every project.
BASE_MODULES = (
    "adws/adw_modules/__init__.py",
    "adws/adw_modules/orch_database_models.py",
    "adws/adw_modules/adw_sqlite.py",
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


class _QuietBytecodeCache(jinja2.FileSystemBytecodeCache):
    """Compiled templates in the user cache dir; an unusable cache only costs speed, never a run."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):
            super().load_bytecode(bucket)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def cache_dir() -> Path | None:
    """Where compiled templates are kept (``TAC_BOOTSTRAP_CACHE_DIR`` overrides the user cache dir);
    None when caching is off (``TAC_BOOTSTRAP_NO_CACHE``)."""
    if os.environ.get("TAC_BOOTSTRAP_NO_CACHE"):
        return None
    override = os.environ.get("TAC_BOOTSTRAP_CACHE_DIR")
    if override:
        return Path(override).expanduser()
    from platformdirs import user_cache_dir

    tag = f"{__version__}-py{sys.version_info.major}{sys.version_info.minor}"
    return Path(user_cache_dir("tac-bootstrap", appauthor=False)) / "templates" / tag


def _bytecode_cache(directory: Path | None) -> jinja2.BytecodeCache | None:
    if directory is None:
        return None
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None  # read-only home, for example: render without a cache
    return _QuietBytecodeCache(str(directory))


@cache
def _environment(roots: tuple[Path, ...], bytecode_dir: Path | None) -> jinja2.Environment:
    env = jinja2.Environment(
        # The overlay (when there is one) comes first: its templates and includes win.
        loader=jinja2.FileSystemLoader([str(r) for r in roots]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        # Top-level templates come from CodeCache (one file); this cache serves what they include
        # (team overlays may use {% include %}). Both compile once per machine, not on every run.
        bytecode_cache=_bytecode_cache(bytecode_dir),
    )
    env.filters.update(FILTERS)
    return env


@cache
def _code_cache(directory: Path | None) -> CodeCache:
    return CodeCache(directory)


def _has_jinja_syntax(source: bytes) -> bool:
    """False for a ``.j2`` file that renders to itself, which is then copied instead of rendered."""
    # Jinja normalizes CRLF, so a file with \r is rendered to keep output identical either way.
    return any(tok in source for tok in (b"{{", b"{%", b"{#", b"\r"))


# Tool caches that appear when someone runs a linter or tests inside templates/: never templates.
IGNORED_DIRS = frozenset(
    {"__pycache__", ".ruff_cache", ".mypy_cache", ".pytest_cache", ".hypothesis", ".git"}
)


def _iter_template_files(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in IGNORED_DIRS)
        for name in sorted(filenames):
            if name.endswith((".pyc", ".pyo")) or name == ".DS_Store":
                continue
            yield Path(dirpath) / name


def _safe_output_path(rendered: str, template: str) -> str | None:
    """Normalize a rendered relative path; None drops the file; escaping the target is an error."""
    parts = rendered.split("/")
    if any(part == "" for part in parts):
        return None  # an empty component: the file is conditional and its condition is false
    path = PurePosixPath(rendered)
    if path.is_absolute() or any(part in ("..", ".") for part in parts) or "\\" in rendered:
        raise UnsafePathError(f"template {template} renders to unsafe path {rendered!r}")
    return path.as_posix()


OVERLAY_META = "tac-template.yml"
SKIP_SUFFIX = ".skip"


def _key(rel: str) -> str:
    """Template path without ``.j2``: the overlay replaces a built-in at the same key."""
    return rel[: -len(TEMPLATE_SUFFIX)] if rel.endswith(TEMPLATE_SUFFIX) else rel


def template_sources(
    root: Path, overlay: Path | None = None
) -> tuple[list[tuple[str, Path]], set[str]]:
    """The template files to render as ``(template path, file)`` in path order, after applying the
    overlay, and the keys the overlay skips (which may name base modules too)."""
    sources: dict[str, tuple[str, Path]] = {}
    for file in _iter_template_files(root):
        rel = _rel(file, root)
        sources[_key(rel)] = (rel, file)
    skipped: set[str] = set()
    if overlay is not None:
        for file in _iter_template_files(overlay):
            rel = _rel(file, overlay)
            if rel == OVERLAY_META:
                continue
            if rel.endswith(SKIP_SUFFIX):
                key = _key(rel[: -len(SKIP_SUFFIX)])
                sources.pop(key, None)
                skipped.add(key)
                continue
            sources[_key(rel)] = (rel, file)
    return sorted(sources.values()), skipped


def _rel(file: Path, root: Path) -> str:
    return file.relative_to(root).as_posix()


def render_project(
    context: Mapping[str, Any],
    *,
    templates_dir: Path | None = None,
    overlay: Path | None = None,
    base_modules: bool = True,
    cached: bool = True,
) -> dict[str, RenderedFile]:
    """Render every template (and the base modules) for ``context``; returns files sorted by path.

    ``templates_dir`` replaces the built-in templates (tests); ``overlay`` is a team template
    folder laid over them.
    """
    root = (templates_dir or templates_root()).resolve()
    top = overlay.resolve() if overlay is not None else None
    roots = (top, root) if top is not None else (root,)
    directory = cache_dir() if cached else None
    env = _environment(roots, directory)
    codes = _code_cache(directory)
    files: dict[str, RenderedFile] = {}
    sources, skipped = template_sources(root, top)
    for rel, file in sources:
        is_template = rel.endswith(TEMPLATE_SUFFIX)
        out_rel = rel[: -len(TEMPLATE_SUFFIX)] if is_template else rel
        try:
            if "{" in out_rel:
                out_rel = env.from_string(out_rel).render(context)
            out_path = _safe_output_path(out_rel, rel)
            if out_path is None:
                continue
            content = file.read_bytes()
            if is_template and _has_jinja_syntax(content):
                template = codes.template(env, rel, str(file), content.decode("utf-8"))
                content = template.render(context).encode("utf-8")
        except jinja2.TemplateError as exc:
            line = getattr(exc, "lineno", None) or _template_line(exc, file)
            where = f"{rel}:{line}" if line else rel
            raise TemplateRenderError(f"template {where}: {exc}") from exc
        except UnicodeDecodeError as exc:
            raise TemplateRenderError(f"template {rel}: not UTF-8 text ({exc.reason})") from exc
        mode = EXECUTABLE if file.stat().st_mode & stat.S_IXUSR else REGULAR
        files[out_path] = RenderedFile(content, mode, rel)
    codes.save()
    if base_modules:
        for path, rf in base_module_files().items():
            if path not in skipped and path not in files:  # an overlay's own copy wins
                files[path] = rf
    return dict(sorted(files.items()))


def _template_line(exc: BaseException, file: Path) -> int | None:
    """The template line a runtime error (e.g. an undefined variable) happened on.

    Jinja2 rewrites tracebacks so that frames of template code carry the template's file name
    and line; syntax errors carry ``lineno`` themselves.
    """
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == str(file):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def base_module_files() -> dict[str, RenderedFile]:
    """The base modules copied from the installed ``adws`` package; a missing one is an error."""
    adws_root = _adws_root()
    files = {}
    for rel in BASE_MODULES:
        try:
            content = (adws_root / rel).read_bytes()
        except FileNotFoundError:
            raise TemplateRenderError(
                f"base module {rel} is missing from the adws package at {adws_root}",
                hint="reinstall tac-bootstrap",
            ) from None
        files[rel] = RenderedFile(content, REGULAR, f"adws package: {rel}")
    return files
