"""Model generation: one YAML spec -> Pydantic models, SQLite schema, repository and their tests.

``generate_models(spec_path, out_dir)`` is the entry point (the ``generate models`` command wraps
it); ``render_models`` does the same in memory. Bad specs raise ``SpecError`` (exit code 2) listing
every problem as ``SPEC:line:col: message``; nothing is written then.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tac_bootstrap_cli.errors import SpecError
from tac_bootstrap_cli.modelgen.common import Origin
from tac_bootstrap_cli.modelgen.dialects import DEFAULT, DIALECTS, dialect_of
from tac_bootstrap_cli.modelgen.emit_models import emit_init, emit_models
from tac_bootstrap_cli.modelgen.emit_repository import emit_repository
from tac_bootstrap_cli.modelgen.emit_schema import emit_schema
from tac_bootstrap_cli.modelgen.emit_tests import emit_tests
from tac_bootstrap_cli.modelgen.spec import ModelSpec
from tac_bootstrap_cli.modelgen.validate import parse_spec
from tac_bootstrap_cli.modelgen.writer import check_targets, write_files

__all__ = [
    "DIALECTS",
    "GenerateResult",
    "ModelSpec",
    "SpecError",
    "generate_models",
    "load_spec",
    "parse_spec",
    "render_models",
]


@dataclass(frozen=True)
class GenerateResult:
    """What ``generate_models`` produced: every output file, and which of them changed on disk."""

    module: str
    files: tuple[Path, ...]
    changed: tuple[Path, ...]  # created or updated
    dry_run: bool
    created: tuple[Path, ...] = ()  # the changed files that did not exist before


def load_spec(spec_path: Path) -> ModelSpec:
    """Read and validate a spec file; ``SpecError`` lists every problem (``SPEC:line:col: ...``)."""
    source = str(spec_path)
    try:
        raw = Path(spec_path).read_bytes()
    except OSError as exc:  # missing, a directory, no permission, ...
        raise SpecError([f"{source}:1:1: cannot read the spec: {exc.strerror or exc}"]) from exc
    except ValueError as exc:  # a NUL byte in the path
        raise SpecError([f"{source!r}:1:1: cannot read the spec: {exc}"]) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        raise SpecError([f"{source}:{line}:{col}: the spec is not UTF-8 text"]) from exc
    return parse_spec(text, source)


def render_models(
    spec_path: Path, out_dir: Path, dialect: str = DEFAULT
) -> tuple[ModelSpec, dict[Path, str]]:
    """The validated spec and every output file (path under ``out_dir`` -> text), written nowhere.

    ``dialect``: the database the schema, repository and tests target (``sqlite``, ``postgres``).
    """
    dialect_of(dialect)  # an unknown name fails before the spec is read
    spec = load_spec(spec_path)
    origin = Origin.of(spec_path, out_dir, dialect)
    package = Path(out_dir) / spec.module
    files = {
        package / "__init__.py": emit_init(spec, origin),
        package / "models.py": emit_models(spec, origin),
        package / "schema.sql": emit_schema(spec, origin),
        package / "repository.py": emit_repository(spec, origin),
        Path(out_dir) / "tests" / f"test_{spec.module}.py": emit_tests(spec, origin),
    }
    return spec, files


def generate_models(
    spec_path: Path,
    out_dir: Path,
    *,
    dry_run: bool = False,
    force: bool = False,
    dialect: str = DEFAULT,
) -> GenerateResult:
    """Generate ``out_dir/<module>/`` and ``out_dir/tests/test_<module>.py`` from a spec.

    Everything is rendered in memory first, so a bad spec (``SpecError``) writes nothing. Existing
    files without the generated-file header are not overwritten unless ``force`` (``ConflictError``).
    With ``dry_run`` nothing is written; ``changed`` lists what would change. ``dialect`` names
    the database (``sqlite``, the default, or ``postgres``; ``ValueError`` for another).
    """
    spec, files = render_models(spec_path, out_dir, dialect)
    check_targets(files, force=force)
    created = tuple(path for path in files if not path.exists())
    if dry_run:
        changed = [
            path
            for path, text in files.items()
            if not (path.is_file() and path.read_bytes() == text.encode("utf-8"))
        ]
    else:
        changed = write_files(files)
    return GenerateResult(
        module=spec.module,
        files=tuple(files),
        changed=tuple(changed),
        dry_run=dry_run,
        created=created,
    )
