"""Project state: config, team templates, manifest and bases (rebuilt by ``--fix``), generated
files present and unedited, conflict markers, and what a killed run left behind."""

from __future__ import annotations

import os
import re
import shlex
import shutil
from collections.abc import Iterator
from pathlib import Path

from tac_bootstrap_cli.apply import write_atomic
from tac_bootstrap_cli.config import CONFIG_FILE
from tac_bootstrap_cli.doctor.project import Project, on_disk, save_state, write_bases
from tac_bootstrap_cli.doctor.report import Check, ok, shown_path, some
from tac_bootstrap_cli.errors import TacError
from tac_bootstrap_cli.plan import Desired
from tac_bootstrap_cli.projectstate import (
    MANIFEST_PATH,
    Entry,
    Manifest,
    has_bases,
    now_iso,
    parse_manifest,
    sha256,
)


def check_config(p: Project) -> Iterator[Check]:
    """``config.yml`` parses and validates."""
    if p.config is not None:
        yield ok("config", f"{CONFIG_FILE} valid")
    else:
        yield Check(
            "config",
            "fail",
            p.config_error or f"{CONFIG_FILE} unreadable",
            f"fix {CONFIG_FILE} at the line named (or restore it from version control)",
        )


def check_templates(p: Project) -> Iterator[Check]:
    """Team templates: a remembered folder that is gone, or that does not render, fails (render
    and upgrade exit 2 there); one from the repository is skipped until the user trusts it."""
    if p.config is not None and p.config.templates and p.untrusted is None:
        folder = Path(p.config.templates).expanduser()
        folder = folder if folder.is_absolute() else p.root / folder
        if not folder.is_dir():
            yield Check(
                "templates",
                "fail",
                f"team templates folder {folder} (config.yml templates:) not found: render and"
                " upgrade stop there",
                "put the folder back, run `tac-bootstrap render --templates DIR` with its new"
                " place, or delete the templates: line of config.yml to use the built-ins",
            )
            return
    if p.render_error is not None and p.untrusted is None:
        yield Check(
            "templates",
            "fail",
            f"the layer does not render: {p.render_error}",
            "fix what the message names, then run `tac-bootstrap render --dry-run`",
        )
    if p.untrusted is not None:
        yield Check(
            "templates",
            "warn",
            p.untrusted + " (files are not compared with the templates)",
            f"review them, then run `tac-bootstrap render {shlex.quote(str(p.root))} --dry-run"
            " --trust`",
        )


def check_manifest(p: Project) -> Iterator[Check]:
    """The manifest exists and parses; bases are recorded."""
    if p.manifest is None:
        source = _manifest_source(p)
        yield Check(
            "manifest",
            "fail",
            p.manifest_error or ".tac-bootstrap/manifest.json missing",
            f"`tac-bootstrap doctor --fix` {source} (your edited files stay managed)"
            if source
            else "run `tac-bootstrap render` (existing files are kept and the manifest is written)",
            fixable=bool(source),
            fix=(lambda: _rebuild_manifest(p)) if source else None,
        )
        return
    yield ok("manifest", f"{len(p.manifest.files)} generated files recorded")
    missing = [path for path, e in p.manifest.files.items() if e.sha256 not in p.bases]
    if has_bases(p.root) and not missing:
        yield ok("bases", "pristine bases recorded for every generated file")
    else:
        restorable = _unedited_bases(p)
        yield Check(
            "bases",
            "warn",
            f"no pristine base recorded for {len(missing)} of {len(p.manifest.files)} files:"
            " upgrade cannot merge your edits in those",
            "`tac-bootstrap doctor --fix` records the bases of files you did not edit",
            fixable=bool(restorable),
            fix=(lambda: _record_bases(p, restorable)) if restorable else None,
        )


def _committed_manifest(root: Path) -> bytes | None:
    """The manifest as committed at ``HEAD``, when the project is in git and it is tracked."""
    import subprocess

    from tac_bootstrap_cli.gitutil import repo_root

    exe = shutil.which("git")
    if exe is None or repo_root(root) is None:
        return None
    try:
        proc = subprocess.run(
            [exe, "show", f"HEAD:./{MANIFEST_PATH}"],
            cwd=root,
            capture_output=True,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"},
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:
        return None
    try:
        parse_manifest(proc.stdout.decode("utf-8"))
    except (TacError, UnicodeDecodeError):
        return None
    return proc.stdout


def _manifest_source(p: Project) -> str:
    """How ``--fix`` would rebuild the manifest (a remedy's words), or "" when it cannot."""
    if _committed_manifest(p.root) is not None:
        return "restores it from git (HEAD)"
    if p.rendered is not None and (p.bases or _rebuilt_entries(p)):
        return "rebuilds it from the bases archive and the templates"
    return ""


def _closest_base(current: bytes, bases: dict[str, bytes]) -> str | None:
    """The digest of the base most like ``current`` line by line, if one is at least 60 % alike."""
    from difflib import SequenceMatcher

    best, score = None, 0.6
    for digest, base in bases.items():
        matcher = SequenceMatcher(None, base.splitlines(), current.splitlines(), False)
        if matcher.real_quick_ratio() >= score and matcher.quick_ratio() >= score:
            ratio = matcher.ratio()
            if ratio >= score:
                best, score = digest, ratio
    return best


def _rebuilt_entries(p: Project) -> dict[str, Entry]:
    """Manifest entries for a lost manifest: which files on disk are ours, and from which base.

    A file (or managed block) whose content is a recorded base, or today's rendering, is ours
    and unedited. One that differs is ours and edited when a base of its path is known: today's
    rendering recorded in the archive, else the recorded base most like it (line by line, at
    least 60 % alike, as upgrade pairs renamed files). Anything else stays unmanaged.
    """
    entries: dict[str, Entry] = {}
    edited: dict[str, tuple[bytes, Desired]] = {}
    for path, want in sorted((p.rendered or {}).items()):
        if path == CONFIG_FILE:
            continue  # written from the answers, never recorded as a template's output
        current = on_disk(p.root, path, want.kind)
        if current is None:
            continue
        digest = sha256(current)
        if digest in p.bases or current == want.content:
            entries[path] = Entry(digest, want.kind)
        elif sha256(want.content) in p.bases:
            entries[path] = Entry(sha256(want.content), want.kind)
        else:
            edited[path] = (current, want)
    claimed = {e.sha256 for e in entries.values()}
    spare = {k: v for k, v in p.bases.items() if k not in claimed}
    for path, (current, want) in edited.items():
        best = _closest_base(current, spare)
        if best is not None:
            entries[path] = Entry(best, want.kind)
            del spare[best]
    return entries


def _rebuild_manifest(p: Project) -> list[str]:
    """Write the manifest back: from git when committed, else from bases and the templates."""
    committed = _committed_manifest(p.root)
    root = p.root.resolve()
    if committed is not None:
        write_atomic(root, MANIFEST_PATH, committed)
        return [f"restored {MANIFEST_PATH} from git (HEAD)"]
    entries = _rebuilt_entries(p)
    if not entries:
        return []
    from tac_bootstrap_cli import __version__

    for path, entry in entries.items():
        if entry.sha256 not in p.bases:  # unedited against today's rendering: record it
            want = p.generated(path)
            if want is not None:
                p.bases[entry.sha256] = want.content
    manifest = Manifest(template_version=__version__, generated_at=now_iso(), files=entries)
    save_state(p, manifest)
    return [f"rebuilt {MANIFEST_PATH} from the bases archive ({len(entries)} files managed)"]


def _unedited_bases(p: Project) -> dict[str, bytes]:
    """Content of manifest entries whose file (or block) on disk still has the recorded hash."""
    out: dict[str, bytes] = {}
    assert p.manifest is not None
    for path, entry in p.manifest.files.items():
        if entry.sha256 in p.bases:
            continue
        current = on_disk(p.root, path, entry.kind)
        if current is not None and sha256(current) == entry.sha256:
            out[entry.sha256] = current
    return out


def _record_bases(p: Project, found: dict[str, bytes]) -> list[str]:
    """Add the bases ``found`` of unedited files to the archive."""
    assert p.manifest is not None
    write_bases(p, {**p.bases, **found}, p.manifest)
    return [f"recorded the bases of {len(found)} unedited files"]


def check_files(p: Project) -> Iterator[Check]:
    """Generated files missing (repairable) or modified (kept by every command: information)."""
    if p.manifest is None:
        return
    missing: list[str] = []
    modified: list[str] = []
    for path, entry in sorted(p.manifest.files.items()):
        current = on_disk(p.root, path, entry.kind)
        if current is None:
            missing.append(path)
        elif sha256(current) != entry.sha256:
            modified.append(path)
    if missing:
        # Not repaired: upgrade keeps a file the user deleted deleted, and doctor cannot tell a
        # deletion from an accident. The files the layer cannot work without (settings, hook
        # scripts and their support module, the .gitignore block, config) fail in their own
        # checks, which restore them.
        yield Check(
            "files",
            "warn",
            f"{len(missing)} generated file(s) missing: {some(missing)} (kept deleted, as"
            " upgrade does)",
            "nothing to do if you deleted them; else `tac-bootstrap render` writes them again",
        )
    else:
        yield ok("files", f"all {len(p.manifest.files)} generated files present")
    if modified:
        yield Check(
            "files.modified",
            "warn",
            f"{len(modified)} generated file(s) edited since generated: {some(modified)}",
            "nothing to do: edits are kept by render and merged by upgrade",
        )


# As git writes them: `<<<<<<< ours` ... `=======` ... `>>>>>>> theirs`. A `=======` line alone
# is a Markdown heading underline, and every conflict has the two outer lines, so those decide.
CONFLICT_MARKER = re.compile(r"^(?:<{7}|>{7})(?: |\r?$)", re.MULTILINE)


def conflict_marker_line(text: str) -> int | None:
    """The line number of the first conflict marker line in ``text``, or None."""
    found = CONFLICT_MARKER.search(text)
    return None if found is None else text.count("\n", 0, found.start()) + 1


def check_conflicts(p: Project) -> Iterator[Check]:
    """No managed text file holds conflict markers left by an upgrade or a git merge."""
    found: list[str] = []
    for rel in sorted(p.managed_paths()):
        path = p.root / rel
        if path.is_symlink() or not path.is_file():
            continue
        try:
            text = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue  # binary: not merged as text, so no markers
        line = conflict_marker_line(text)
        if line is not None:
            found.append(f"{rel}:{line}")
    if not found:
        yield ok("conflicts", "no conflict markers in generated files")
        return
    yield Check(
        "conflicts",
        "fail",
        f"{len(found)} file(s) hold conflict markers: {some(found)}",
        "resolve them (keep the side you want, delete the <<<<<<< ======= >>>>>>> lines), then"
        " `git add` the file",
    )


def check_leftovers(p: Project) -> Iterator[Check]:
    """Staging folders and ``*.tac-tmp`` files that a killed tac-bootstrap run left behind."""
    from tac_bootstrap_cli.leftovers import find_leftovers, sweep_leftovers

    paths = p.managed_paths()
    found = find_leftovers(p.root, sorted(paths))
    if not found:
        yield ok("leftovers", "no staging folder or temporary file left by a killed run")
        return
    shown = [shown_path(p.root, path) for path in found]
    yield Check(
        "leftovers",
        "warn",
        f"{len(found)} left by a killed run: {some(shown)}",
        "`tac-bootstrap doctor --fix` removes them (so does the next writing command)",
        fixable=True,
        fix=lambda: [
            f"removed {shown_path(p.root, path)}" for path in sweep_leftovers(p.root, paths)
        ],
    )
