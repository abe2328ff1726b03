"""Render the template tree into a ``{path: RenderedFile}`` mapping.

Conventions of ``templates/`` (documented in docs/architecture.md):
- the tree mirrors the output tree; a file ending in ``.j2`` is rendered with Jinja2 and loses the
  suffix, any other file is copied byte for byte (cheap, and safe for files that contain ``{{``);
- a path component may hold Jinja expressions; a component that renders empty drops the file, which
  is how a file is made conditional on the answers;
- the executable bit of a template file is kept;
- the base modules (``BASE_MODULES``) are not templates: they are the generator's own private
  ``tac_bootstrap_cli._adws`` package, copied byte for byte, so there is one source;
- a team overlay (``overlay=``) mirrors the tree: a file at the same template path replaces the
  built-in one (``x.md`` and ``x.md.j2`` are the same path), a new file is added, ``P.skip`` removes
  built-in ``P`` (or ``P.j2``, or a base module), and ``tac-template.yml`` at its root is metadata;
- templates are data, never code: everything renders in Jinja2's sandbox (paths in the immutable
  one), ``*``/``**``/``range``/``lipsum`` are bounded, and template folders are walked and read
  without following links (a link is an error); ``{% include %}`` reaches only the walked files.
"""

from __future__ import annotations

import errno
import math
import operator
import os
import stat
import sys
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedEnvironment

from tac_bootstrap_cli import __version__
from tac_bootstrap_cli.errors import TacError, UnsafePathError
from tac_bootstrap_cli.errors import TemplateRenderError as TemplateRenderError  # its old home
from tac_bootstrap_cli.errors import UnsafeTemplateError as UnsafeTemplateError  # its old home
from tac_bootstrap_cli.locations import IGNORED_DIRS as IGNORED_DIRS  # importable here, as before
from tac_bootstrap_cli.locations import app_templates_root as app_templates_root
from tac_bootstrap_cli.locations import cache_root
from tac_bootstrap_cli.locations import templates_root as templates_root
from tac_bootstrap_cli.render.codecache import CodeCache
from tac_bootstrap_cli.render.filters import FILTERS

TEMPLATE_SUFFIX = ".j2"
EXECUTABLE = 0o755
REGULAR = 0o644

# The Python every project gets under ``adws/`` (persistence, cron, logging, the ADW modules, the
# observatory) is this package's private subpackage ``_adws``: one source, imported by the generator
# itself where it needs it, linted and type-checked with it, and copied byte for byte. It is not a
# top-level package, so it can never shadow a project's own ``adws/`` when tac-bootstrap is
# installed in that project's environment.
_ADWS_PACKAGE = Path(__file__).resolve().parent.parent / "_adws"
# Package plumbing of the generator's copy that projects do not get (their adws/ is a folder of
# scripts, not a package), and what tools leave behind in a working tree.
_NOT_SHIPPED = frozenset({"__init__.py", "py.typed"})
_NOT_SHIPPED_PARTS = frozenset({"__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"})


def _shipped_paths(root: Path) -> tuple[str, ...]:
    """Output paths (``adws/...``) of every file under ``root``, sorted, plumbing left out."""
    found = []
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if (
            not path.is_file()
            or _NOT_SHIPPED_PARTS.intersection(rel.parts)
            or path.suffix == ".pyc"
            or (len(rel.parts) == 1 and rel.name in _NOT_SHIPPED)
        ):
            continue
        found.append("adws/" + rel.as_posix())
    return tuple(sorted(found))


# Output paths of the base modules, rendered verbatim into every project.
BASE_MODULES = _shipped_paths(_ADWS_PACKAGE)


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


def render_app(context: Mapping[str, Any], language: str) -> dict[str, RenderedFile]:
    """The application skeleton for ``language`` rendered for ``context`` (empty when there is
    none); same conventions and sandbox as the layer, never a team overlay or base module."""
    folder = app_templates_root() / language
    if not folder.is_dir():
        return {}
    return render_project(context, templates_dir=folder, base_modules=False)


def _adws_root() -> Path:
    return _ADWS_PACKAGE


def base_module_source(rel: str) -> Path:
    """The file in the generator's ``_adws`` package that becomes ``rel`` (``adws/...``)."""
    return _adws_root() / rel.removeprefix("adws/")


def cache_dir() -> Path | None:
    """Where compiled templates are kept (``TAC_BOOTSTRAP_CACHE_DIR`` overrides the user cache dir);
    None when caching is off (``TAC_BOOTSTRAP_NO_CACHE``)."""
    root = cache_root()
    if root is None:
        return None
    override = os.environ.get("TAC_BOOTSTRAP_CACHE_DIR")
    if override:
        return Path(override).expanduser()
    return root / "templates" / f"{__version__}-py{sys.version_info.major}{sys.version_info.minor}"


# Templates are data: whatever a template does, it may only produce text. The sandbox refuses
# ``_`` attributes (``__globals__``, ``__subclasses__``...) and bounds ``range``; these bound what
# the sandbox leaves open to a template that wants to exhaust memory.
SANDBOX_HINT = "templates are data: they may not reach Python internals or unbounded resources"
MAX_SEQUENCE = 10_000_000  # items (characters) a ``*`` may build
MAX_POWER_BITS = 4096  # size of an integer a ``**`` may build


class _Bounded:
    """``*`` and ``**`` are intercepted: ``'x' * 10**12`` or ``9**9**9`` is refused, not computed."""

    # The code generator emits environment.call_binop(...) for these operators; the compiled code
    # is the same for both sandboxes below (the code cache relies on that).
    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, _context: Any, op: str, left: Any, right: Any) -> Any:
        """Apply ``operator`` unless its result would be too large to hold."""
        if op == "**" and _is_int(left) and _is_int(right) and right > 0 and abs(left) > 1:
            bits = right * math.log2(abs(left))
            if bits > MAX_POWER_BITS:
                raise SecurityError(f"{left} ** {right} is too large (about {bits:.0f} bits)")
        if op == "*":
            for seq, times in ((left, right), (right, left)):
                sequence = isinstance(seq, str | bytes | list | tuple) and _is_int(times)
                if sequence and len(seq) * times > MAX_SEQUENCE:
                    raise SecurityError(f"a sequence repeated {times} times is too large")
        return _BINOPS[op](left, right)


_BINOPS: dict[str, Callable[[Any, Any], Any]] = {"*": operator.mul, "**": operator.pow}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class TemplateSandbox(_Bounded, SandboxedEnvironment):
    """Every template's environment: sandboxed; a list a template builds may grow.

    Not the immutable sandbox: the built-in ``settings.json.j2`` appends to its own lists, and
    teams copy it into their overlays. What a template can change is its render's context, a
    fresh JSON-like copy of the answers (never the answers that are saved).
    """


class PathSandbox(_Bounded, ImmutableSandboxedEnvironment):
    """Template paths (file names hold Jinja too): sandboxed, and nothing can be changed."""


MAX_LIPSUM = 100  # paragraphs (and words per paragraph: 10x that)


def _lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:
    """Jinja2's ``lipsum`` with bounds: ``lipsum(10**9)`` would fill memory."""
    if n > MAX_LIPSUM or max > 10 * MAX_LIPSUM:
        raise SecurityError(f"lipsum({n}, max={max}) is too large")
    from jinja2.utils import generate_lorem_ipsum

    return str(generate_lorem_ipsum(n, html, min, max))


@cache
def _environment(immutable: bool) -> SandboxedEnvironment:
    """The configured sandbox; each render uses an ``overlay`` of it with its own file loader."""
    cls: type[SandboxedEnvironment] = PathSandbox if immutable else TemplateSandbox
    env = cls(
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        cache_size=0,  # compiled code lives in CodeCache, keyed by source; nothing goes stale
    )
    env.filters.update(FILTERS)
    env.globals["lipsum"] = _lipsum
    return env


@cache
def _code_cache(directory: Path | None) -> CodeCache:
    return CodeCache(directory)


class _FileLoader(jinja2.BaseLoader):
    """Serves exactly the template files found by the walk (overlay first), read without links.

    ``{% include %}`` and ``{% import %}`` resolve here, so a template can reach no other file,
    and they share the one-file code cache of top-level templates.
    """

    def __init__(self, files: Mapping[str, Path], codes: CodeCache) -> None:
        self._files = files
        self._codes = codes

    def get_source(
        self, _environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        """The text of ``template`` (a path relative to the template roots)."""
        file = self._files.get(template)
        if file is None:
            raise jinja2.TemplateNotFound(template)
        try:
            source = read_file(file)[0].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise jinja2.TemplateError(f"{template} is not UTF-8 text ({exc.reason})") from None
        return source, str(file), lambda: True

    def load(
        self,
        environment: jinja2.Environment,
        name: str,
        globals: MutableMapping[str, Any] | None = None,
    ) -> jinja2.Template:
        """The compiled template ``name``, from the code cache when it was compiled before."""
        source, filename, _ = self.get_source(environment, name)
        return self._codes.template(environment, name, filename, source, globals)


def _has_jinja_syntax(source: bytes) -> bool:
    """False for a ``.j2`` file that renders to itself, which is then copied instead of rendered."""
    # Jinja normalizes CRLF, so a file with \r is rendered to keep output identical either way.
    return any(tok in source for tok in (b"{{", b"{%", b"{#", b"\r"))


def iter_template_files(root: Path) -> Iterator[tuple[str, Path]]:
    """Every template file under ``root`` as ``(relative path, file)``, without following links.

    A symbolic link (to a file or a folder) is an error naming it: a template folder from
    elsewhere must not make us read ``/etc/passwd`` or a home folder into a project.
    """
    pending = [(root, "")]
    while pending:
        folder, prefix = pending.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            raise UnsafeTemplateError(
                f"template folder {folder}: cannot be read ({exc.strerror or exc})"
            ) from None
        subfolders = []
        for entry in entries:
            rel = prefix + entry.name
            if entry.is_symlink():
                raise UnsafeTemplateError(
                    f"template {rel} in {root} is a symbolic link; templates are read without"
                    " following links",
                    hint="replace the link by a copy of the file or folder",
                )
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in IGNORED_DIRS:
                    subfolders.append((Path(entry.path), rel + "/"))
            elif entry.is_file(follow_symlinks=False):
                if not entry.name.endswith((".pyc", ".pyo")) and entry.name != ".DS_Store":
                    yield rel, Path(entry.path)
            else:  # a FIFO or device would block or stream forever
                raise UnsafeTemplateError(f"template {rel} in {root} is not a regular file")
        pending.extend(reversed(subfolders))


def read_file(file: Path) -> tuple[bytes, int]:
    """A template file's bytes and mode, refusing a link that appeared since the walk."""
    try:
        fd = os.open(
            file, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        )
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafeTemplateError(f"template {file} is a symbolic link") from None
        raise TacError(f"template {file}: cannot be read ({exc.strerror or exc})") from None
    with os.fdopen(fd, "rb") as f:
        mode = os.fstat(f.fileno()).st_mode
        if not stat.S_ISREG(mode):
            raise UnsafeTemplateError(f"template {file} is not a regular file")
        return f.read(), mode


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
    sources, skipped, _ = _walk(root, overlay)
    return sources, skipped


def _walk(
    root: Path, overlay: Path | None
) -> tuple[list[tuple[str, Path]], set[str], dict[str, Path]]:
    """``template_sources`` plus every file a template may include, by name (overlay first)."""
    sources: dict[str, tuple[str, Path]] = {}
    found: dict[str, Path] = {}
    for rel, file in iter_template_files(root):
        sources[_key(rel)] = (rel, file)
        found[rel] = file
    skipped: set[str] = set()
    if overlay is not None:
        for rel, file in iter_template_files(overlay):
            found[rel] = file  # Jinja2 searched the overlay first: its file wins an include
            if rel == OVERLAY_META:
                continue
            if rel.endswith(SKIP_SUFFIX):
                key = _key(rel[: -len(SKIP_SUFFIX)])
                sources.pop(key, None)
                skipped.add(key)
                continue
            sources[_key(rel)] = (rel, file)
    return sorted(sources.values()), skipped, found


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
    folder laid over them. Everything is rendered in Jinja2's sandbox: a template that reaches
    for Python internals, a link or a huge value is an ``UnsafeTemplateError`` (exit 2).
    """
    root = (templates_dir or templates_root()).resolve()
    top = overlay.resolve() if overlay is not None else None
    directory = cache_dir() if cached else None
    codes = _code_cache(directory)
    sources, skipped, found = _walk(root, top)
    loader = _FileLoader(found, codes)
    env = _environment(False).overlay(loader=loader)
    path_env = _environment(True)
    files: dict[str, RenderedFile] = {}
    for rel, file in sources:
        is_team = top is not None and file.is_relative_to(top)
        name = f"{top}/{rel}" if is_team else rel
        is_template = rel.endswith(TEMPLATE_SUFFIX)
        out_rel = rel[: -len(TEMPLATE_SUFFIX)] if is_template else rel
        try:
            if "{" in out_rel:  # a name with expressions, compiled once like the contents
                named = codes.template(path_env, rel, f"{file} (name)", out_rel)
                out_rel = named.render(context)
            out_path = _safe_output_path(out_rel, rel)
            if out_path is None:
                continue
            content, st_mode = read_file(file)
            if is_template and _has_jinja_syntax(content):
                template = codes.template(env, rel, str(file), content.decode("utf-8"))
                content = template.render(context).encode("utf-8")
        except TacError:
            raise
        except Exception as exc:
            error = _render_error(exc, file, name)
            # An unsafe template's traceback would only show the sandbox's internals.
            raise error from (None if isinstance(error, UnsafeTemplateError) else exc)
        mode = EXECUTABLE if st_mode & stat.S_IXUSR else REGULAR
        files[out_path] = RenderedFile(content, mode, rel)
    codes.save()
    if base_modules:
        for path, rf in base_module_files().items():
            if path not in skipped:
                files.setdefault(path, rf)  # an overlay's own copy wins
    return dict(sorted(files.items()))


def _render_error(exc: Exception, file: Path, name: str) -> TacError:
    """The error a template's failed render is reported as (``name``: how the user knows it)."""
    if isinstance(exc, SecurityError):
        return UnsafeTemplateError(
            f"template {_where(exc, file, name)}: unsafe: {exc}", hint=SANDBOX_HINT
        )
    if isinstance(exc, jinja2.TemplateNotFound):
        return TemplateRenderError(
            f"template {_where(exc, file, name)}: includes {exc.name!r}, which is not a file"
            " of the template folders (includes reach nothing else)"
        )
    if isinstance(exc, jinja2.TemplateError):
        return TemplateRenderError(f"template {_where(exc, file, name)}: {exc}")
    if isinstance(exc, UnicodeDecodeError):
        return TemplateRenderError(f"template {name}: not UTF-8 text ({exc.reason})")
    if isinstance(exc, OverflowError | MemoryError | RecursionError):
        # The sandbox's range() says "Range too big" this way; the others are loops or
        # includes that never end. All stop the render before anything is written.
        what = {RecursionError: "recursion too deep", MemoryError: "out of memory"}.get(
            type(exc), str(exc) or type(exc).__name__
        )
        return UnsafeTemplateError(
            f"template {_where(exc, file, name)}: unsafe: {what}", hint=SANDBOX_HINT
        )
    # e.g. {{ 1 + 'a' }}: a template's bug, named like the others
    return TemplateRenderError(f"template {_where(exc, file, name)}: {type(exc).__name__}: {exc}")


def _where(exc: BaseException, file: Path, name: str) -> str:
    line = getattr(exc, "lineno", None) or _template_line(exc, file)
    return f"{name}:{line}" if line else name


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
    """The base modules copied from the generator's ``_adws`` package; a missing one is an error."""
    files = {}
    for rel in BASE_MODULES:
        source = base_module_source(rel)
        try:
            content = source.read_bytes()
        except FileNotFoundError:
            raise TemplateRenderError(
                f"base module {rel} is missing from the generator (expected at {source})",
                hint="reinstall tac-bootstrap",
            ) from None
        files[rel] = RenderedFile(content, REGULAR, f"tac_bootstrap_cli/_adws: {rel}")
    return files
