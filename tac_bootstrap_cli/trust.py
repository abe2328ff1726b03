"""Team template folders that come from a repository are used only once the user trusts them.

Templates decide what lands in ``.claude/settings.json`` and the hook scripts, so a folder that
arrives with a cloned repository (``templates: .team`` in its ``config.yml``) is code one step
removed, even though it is rendered in the sandbox. Like ``direnv allow``, trust is recorded
outside the repository, in the user state directory, as ``real path -> sha256 of the content``:
a changed folder needs trusting again. A folder outside the project is the user's own choice
(they named it, or a run of theirs remembered it as an absolute path) and needs no trust.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path

from tac_bootstrap_cli._adws.adw_modules.adw_files import write_atomic
from tac_bootstrap_cli.errors import UntrustedTemplatesError

TRUST_FILE = "trusted-templates.json"
TRUST_FORMAT = 1

# Set by the front end for a command run with --trust: the folder the command meets is trusted
# as it is at that moment (its hash is taken where it is checked, just before it is read).
_granting: ContextVar[bool] = ContextVar("tac_bootstrap_trust_granting", default=False)


@contextlib.contextmanager
def granting(enabled: bool = True) -> Iterator[None]:
    """Within this block, a folder that needs trust is trusted (recorded) instead of refused."""
    token = _granting.set(enabled)
    try:
        yield
    finally:
        _granting.reset(token)


def store_path() -> Path:
    """The file that records trusted folders, in the user state directory."""
    from platformdirs import user_state_dir

    return Path(user_state_dir("tac-bootstrap", appauthor=False)) / TRUST_FILE


def from_repository(folder: Path, project: Path, value: str | None = None) -> bool:
    """True when ``folder`` comes with the project: ``config.yml`` names it by a relative path
    (``value``), or it lies inside the project, as written or once links are resolved."""
    if value is not None and not Path(value).expanduser().is_absolute():
        return True
    folders = {folder.absolute(), folder.resolve()}
    projects = {project.absolute(), project.resolve()}
    return any(f.is_relative_to(p) for f in folders for p in projects)


def digest(folder: Path) -> str:
    """sha256 over every file the render would read: path, executable bit and bytes."""
    from tac_bootstrap_cli.render.engine import iter_template_files, read_file

    h = hashlib.sha256()
    for rel, file in iter_template_files(folder):  # a link in it is an error here already
        content, mode = read_file(file)
        h.update(f"{rel}\0{mode & 0o100:o}\0{len(content)}\0".encode())
        h.update(content)
    return h.hexdigest()


def _load() -> dict[str, str]:
    try:
        data = json.loads(store_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # nothing recorded yet, or unreadable: nothing is trusted
    trusted = data.get("trusted") if isinstance(data, dict) else None
    if not isinstance(trusted, dict):
        return {}
    return {k: v for k, v in trusted.items() if isinstance(k, str) and isinstance(v, str)}


def trusted_digest(folder: Path) -> str | None:
    """The content hash ``folder`` was trusted with, if it ever was."""
    return _load().get(str(folder.resolve()))


def trust(folder: Path) -> str:
    """Record ``folder`` as trusted with its current content; returns that content's hash."""
    real = folder.resolve()
    value = digest(real)
    records = _load()
    records[str(real)] = value
    path = store_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"format": TRUST_FORMAT, "trusted": records}, indent=2, sort_keys=True)
    # Atomic: a concurrent reader sees the old or the new records. Private: it says what you trust.
    write_atomic(path, (text + "\n").encode("utf-8"), mode=0o600)
    return value


def require_trusted(folder: Path, project: Path, value: str | None = None) -> None:
    """Refuse ``folder`` when it comes from the repository and is not trusted as it is now
    (under ``granting()``, trust it instead). ``value``: how ``config.yml`` names it, if it does."""
    if not folder.is_dir() or not from_repository(folder, project, value):
        return
    recorded = trusted_digest(folder)
    if recorded is not None and not _granting.get() and recorded == digest(folder.resolve()):
        return
    if _granting.get():
        trust(folder)
        return
    raise UntrustedTemplatesError(folder, changed=recorded is not None)
