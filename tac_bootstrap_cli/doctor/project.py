"""What the checks look at (``Project``, read once), and the repair several checks share: writing
a generated file back as the templates render it, recorded in the manifest and the bases."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tac_bootstrap_cli.apply import write_atomic
from tac_bootstrap_cli.blocks import MANAGED_FILES, BrokenMarkers, find_block, merge_block
from tac_bootstrap_cli.config import ProjectConfig, load_config
from tac_bootstrap_cli.doctor.report import Check
from tac_bootstrap_cli.errors import TacError
from tac_bootstrap_cli.plan import Desired, path_problem
from tac_bootstrap_cli.projectstate import (
    BASES_PATH,
    MANIFEST_PATH,
    Entry,
    Kind,
    Manifest,
    encode_bases,
    load_bases,
    load_manifest,
    sha256,
)


@dataclass
class Project:
    """What the checks look at, read once."""

    root: Path
    config: ProjectConfig | None
    config_error: str | None
    manifest: Manifest | None
    manifest_error: str | None
    bases: dict[str, bytes]
    rendered: dict[str, Desired] | None  # what the current templates make of the answers
    untrusted: str | None = None  # why team templates were not rendered (never without trust)
    run_any_hooks: bool = False  # run hook code even when it is not what we generate (--run-hooks)
    render_error: str | None = None  # why the layer could not be rendered (templates gone, ...)
    hook_checks: list[Check] | None = None  # check_hooks' findings, once found

    def generated(self, path: str) -> Desired | None:
        """The current rendering of ``path``, if the answers could be rendered."""
        return self.rendered.get(path) if self.rendered is not None else None

    def managed_paths(self) -> set[str]:
        """Every path the manifest records or the current templates render."""
        paths = set(self.manifest.files) if self.manifest is not None else set()
        return paths | set(self.rendered or {})


def load_project(root: Path) -> Project:
    """Read config, manifest, bases and (when possible) render the layer in memory."""
    config = manifest = None
    config_error = manifest_error = None
    try:
        config = load_config(root)
    except TacError as exc:
        config_error = str(exc)
    try:
        manifest = load_manifest(root)
    except TacError as exc:
        manifest_error = str(exc)
    try:
        bases = load_bases(root)
    except TacError:
        bases = {}
    rendered = None
    untrusted = None
    render_error: str | None = None
    if config is not None:
        from tac_bootstrap_cli.errors import UntrustedTemplatesError
        from tac_bootstrap_cli.layer import desired_files, with_overlay

        try:
            cfg, team, _ = with_overlay(config, None, root)
            desired = desired_files(
                cfg, write_config=False, overlay=team.path if team is not None else None
            )
            rendered = {d.path: d for d in desired}
        except UntrustedTemplatesError as exc:  # checked before anything of them is read
            untrusted = exc
        except TacError as exc:
            rendered = None
            render_error = str(exc).splitlines()[0]  # render and upgrade stop here too (exit 2)
    project = Project(root, config, config_error, manifest, manifest_error, bases, rendered)
    if untrusted is not None:
        project.untrusted = f"{untrusted.message}: not rendered"
    project.render_error = render_error
    return project


def on_disk(root: Path, path: str, kind: str) -> bytes | None:
    """The file's bytes, or its managed block's body; None when missing or unreadable."""
    try:
        data = (root / path).read_bytes()
    except OSError:
        return None
    if kind != "block":
        return data
    try:
        found = find_block(data.decode("utf-8"), MANAGED_FILES[path])
    except (UnicodeDecodeError, BrokenMarkers, KeyError):
        return None
    return found.body.encode("utf-8") if found is not None else None


def restored(p: Project, path: str) -> tuple[bytes, bool, bytes] | None:
    """(content to write, executable, pristine body to record) for a missing generated path:
    the current templates' rendering, else the recorded base; None when neither is known."""
    want = p.generated(path)
    kind = _kind(p, path)
    entry = p.manifest.files.get(path) if p.manifest is not None else None
    executable = want.executable if want is not None else False
    body = want.content if want is not None else None
    if body is None and entry is not None:
        body = p.bases.get(entry.sha256)  # templates not renderable: what was generated
    if body is None:
        return None
    if kind == "block":
        try:
            existing = (p.root / path).read_text(encoding="utf-8")
        except FileNotFoundError:
            existing = None
        except (OSError, UnicodeDecodeError):
            return None
        try:
            merged = merge_block(existing, body.decode("utf-8"), MANAGED_FILES[path]).encode()
        except (BrokenMarkers, UnicodeDecodeError, KeyError):
            return None
        return merged, False, body
    return body, executable, body


def can_restore(p: Project, path: str) -> bool:
    """``path`` is a generated file the manifest records and ``restore`` can write back."""
    return p.manifest is not None and path in p.manifest.files and restored(p, path) is not None


def restore(p: Project, paths: list[str]) -> list[str]:
    """Write each path's current template content and record it as generated (manifest, base)."""
    root = p.root.resolve()
    done = []
    recorded: dict[str, bytes] = {}
    for path in paths:
        found = restored(p, path)
        if found is None or path_problem(root, path) is not None:
            continue
        content, executable, body = found
        write_atomic(root, path, content, executable)
        recorded[path] = body
        done.append(f"restored {path}")
    if recorded and p.manifest is not None:
        manifest = p.manifest
        for path, body in recorded.items():
            manifest.files[path] = Entry(sha256(body), _kind(p, path))
            p.bases[sha256(body)] = body
        save_state(p, manifest)
    return done


def _kind(p: Project, path: str) -> Kind:
    """A path's kind as the manifest records it, else as the templates render it, else a file."""
    entry = p.manifest.files.get(path) if p.manifest is not None else None
    if entry is not None:
        return entry.kind
    want = p.generated(path)
    return want.kind if want is not None else "file"


def write_bases(p: Project, bases: dict[str, bytes], manifest: Manifest) -> None:
    """Write the bases archive with those of ``bases`` that ``manifest`` names, atomically."""
    wanted = {e.sha256 for e in manifest.files.values()}
    kept = {k: v for k, v in bases.items() if k in wanted}
    write_atomic(p.root.resolve(), BASES_PATH, encode_bases(kept))


def save_state(p: Project, manifest: Manifest) -> None:
    """Bases first, then the manifest (as every writing command does), each atomically."""
    write_bases(p, p.bases, manifest)
    write_atomic(p.root.resolve(), MANIFEST_PATH, manifest.to_json().encode("utf-8"))
