"""``render`` answered by its receipt (``uptodate``): the same outcome as a full render, and no
answer whenever anything a render reads has changed."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_support import Run, snapshot

from tac_bootstrap_cli import scaffold, uptodate
from tac_bootstrap_cli._adws.adw_modules.adw_database import (
    AgentLogRepository,
    AgentRepository,
    PromptRepository,
    connect,
)
from tac_bootstrap_cli.history import db_path
from tac_bootstrap_cli.locations import PACKAGE_DIR, templates_root
from tac_bootstrap_cli.operation import UICallbacks
from tac_bootstrap_cli.plan import Plan


@pytest.fixture
def project(cli: Run, tmp_path: Path) -> Path:
    """A new project rendered once more, so that its receipt is kept."""
    assert cli("init", "shop", "-o", tmp_path).exit_code == 0
    root = tmp_path / "shop"
    assert cli("render", root).exit_code == 0
    assert uptodate.settled_render(root) is not None, "a render that changed nothing keeps one"
    return root


def latest_run(cli: Run) -> dict[str, Any]:
    """The newest run of the history, in detail (``runs show --json``)."""
    listing = cli("runs", "--json", "-n", "1")
    (run,) = json.loads(listing.stdout)
    detail: dict[str, Any] = json.loads(cli("runs", "show", run["id"], "--json").stdout)
    return detail


def steps(run: dict[str, Any]) -> list[str]:
    return [log["message"] for log in run["logs"] if log["type"] == "step_end"]


def drop_receipt(root: Path) -> None:
    where = uptodate.receipt_file(root.absolute())
    assert where is not None
    where.unlink()


def test_the_receipt_answers_as_the_full_render_does(cli: Run, project: Path) -> None:
    """Oracle: same output, same untouched files, and the same history (summary, answers, every
    file's event, metadata) as a full render of the same project; the rows pass the models."""
    before = snapshot(project)
    drop_receipt(project)
    full = cli("render", project)
    full_run = latest_run(cli)
    assert steps(full_run) == ["config", "render", "plan", "apply"]
    quick = cli("render", project)
    quick_run = latest_run(cli)
    assert steps(quick_run) == ["receipt"]

    assert (quick.exit_code, quick.stdout, quick.stderr) == (0, full.stdout, full.stderr)
    assert "wrote 0 files" in quick.stdout
    assert snapshot(project) == before  # neither wrote anything (mtimes included)

    def events(run: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        return [(log["message"], log["metadata"]) for log in run["logs"] if log["type"] == "event"]

    assert events(quick_run) == events(full_run) and len(events(quick_run)) > 50
    for key in ("command", "status", "target", "files_changed", "dry_run", "argv"):
        assert quick_run[key] == full_run[key], key
    times = ("id", "created_at", "completed_at")
    prompt = {k: v for k, v in quick_run["prompt"].items() if k not in times}
    assert prompt == {k: v for k, v in full_run["prompt"].items() if k not in times}

    # Every row the receipt's run wrote is read back through the repositories (validated by
    # the models) and matches the full run's beside ids, times and the steps taken.
    path = db_path()
    assert path is not None
    conn = connect(path)
    try:
        agents = AgentRepository(conn)
        full_agent, quick_agent = agents.get(full_run["id"]), agents.get(quick_run["id"])
        assert full_agent is not None and quick_agent is not None
        same = ("orchestrator_agent_id", "name", "model", "status")
        assert [getattr(quick_agent, f) for f in same] == [getattr(full_agent, f) for f in same]
        assert quick_agent.metadata is not None and full_agent.metadata is not None
        assert quick_agent.metadata.pop("receipt")["files"] == full_agent.metadata["files"]
        del full_agent.metadata["render"], full_agent.metadata["plan"]
        assert quick_agent.metadata == full_agent.metadata
        prompts = PromptRepository(conn)
        (quick_prompt,) = prompts.list(agent_id=quick_agent.id)
        (full_prompt,) = prompts.list(agent_id=full_agent.id)
        ignored = {"id", "agent_id", "created_at", "completed_at"}
        assert quick_prompt.model_dump(exclude=ignored) == full_prompt.model_dump(exclude=ignored)
        logs = AgentLogRepository(conn).list(agent_id=quick_agent.id, limit=1000)
        assert len(logs) == len(events(quick_run)) + 2
    finally:
        conn.close()


def _edit(rel: str) -> Callable[[Path], None]:
    def change(root: Path) -> None:
        with (root / rel).open("ab") as file:
            file.write(b"\n")

    return change


def _chmod_x(root: Path) -> None:
    (root / ".claude/commands/chore.md").chmod(0o755)


def _delete(root: Path) -> None:
    (root / ".claude/commands/chore.md").unlink()


def _file_to_link(root: Path) -> None:
    path = root / ".claude/commands/chore.md"
    copy = root.parent / "chore-copy.md"
    shutil.copy2(path, copy)
    path.unlink()
    path.symlink_to(copy)  # same bytes behind a link: a render must not write through it


def _folder_to_link(root: Path) -> None:
    folder = root / ".claude/agents"
    moved = root.parent / "agents-elsewhere"
    folder.rename(moved)
    folder.symlink_to(moved, target_is_directory=True)


def _bases_removed(root: Path) -> None:
    (root / ".tac-bootstrap/bases.json.gz").unlink()


CHANGES: dict[str, Callable[[Path], None]] = {
    "a generated file edited": _edit(".claude/commands/chore.md"),
    "outside the managed block": _edit(".gitignore"),
    "config.yml comment": _edit("config.yml"),
    "manifest": _edit(".tac-bootstrap/manifest.json"),
    "mode bits": _chmod_x,
    "a file deleted": _delete,
    "a file replaced by a link": _file_to_link,
    "a folder replaced by a link": _folder_to_link,
    "bases removed": _bases_removed,
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_any_change_to_what_render_reads_means_a_full_render(
    cli: Run, project: Path, change: Callable[[Path], None]
) -> None:
    change(project)
    assert uptodate.settled_render(project) is None
    cli("render", project)  # whatever the full render makes of it
    assert steps(latest_run(cli)) != ["receipt"]


def test_every_path_of_the_receipt_is_checked(project: Path) -> None:
    """Exhaustive over the receipt's files: one byte more in any of them and it does not answer;
    the bytes put back and it answers again (contents count, not times)."""
    where = uptodate.receipt_file(project)
    assert where is not None
    paths = uptodate.project_paths(json.loads(where.read_text())["inputs"])
    assert len(paths) > 50
    for rel in paths:
        path = project / rel
        if not path.is_file():
            continue
        original = path.read_bytes()
        path.write_bytes(original + b" ")
        assert uptodate.settled_render(project) is None, rel
        path.write_bytes(original)
        assert uptodate.settled_render(project) is not None, rel


def test_a_project_moved_elsewhere_has_no_receipt(project: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(project, copy, symlinks=True)
    assert uptodate.settled_render(copy) is None


def test_the_tool_is_part_of_the_proof(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A template edited, or a package installed in a folder of sys.path, and it does not answer."""
    templates = tmp_path / "templates"
    shutil.copytree(templates_root(), templates)
    monkeypatch.setattr(uptodate, "templates_root", lambda: templates)
    uptodate.tool_identity.cache_clear()
    identity = uptodate.tool_identity()
    uptodate.tool_identity.cache_clear()
    assert uptodate.tool_identity() == identity  # the same tree gives the same hash
    (templates / "CLAUDE.md.j2").write_text("edited", encoding="utf-8")
    uptodate.tool_identity.cache_clear()
    edited = uptodate.tool_identity()
    assert edited != identity

    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.setattr("sys.path", [*__import__("sys").path, str(site)])
    uptodate.tool_identity.cache_clear()
    with_site = uptodate.tool_identity()
    (site / "newpkg").mkdir()  # an install changes the folder
    os.utime(site, ns=(0, 1))
    uptodate.tool_identity.cache_clear()
    assert uptodate.tool_identity() != with_site
    # The fixture's receipt was made by the tool before these changes: it must not answer now.
    assert uptodate.settled_render(project) is None
    uptodate.tool_identity.cache_clear()


@pytest.mark.parametrize("options", [["--force"], ["--dry-run"], ["--templates", "TEAM"]], ids=str)
def test_options_that_change_the_outcome_always_render(
    cli: Run, project: Path, tmp_path: Path, options: list[str]
) -> None:
    team = tmp_path / "team"
    team.mkdir()
    (team / "TEAM.md").write_text("ours\n", encoding="utf-8")
    args = [str(team) if a == "TEAM" else a for a in options]
    assert cli("render", project, *args).exit_code == 0
    assert steps(latest_run(cli)) != ["receipt"]


def test_no_receipt_when_the_render_changed_or_said_something(cli: Run, project: Path) -> None:
    drop_receipt(project)
    _edit(".claude/commands/chore.md")(project)  # kept as the user's edit: listed
    result = cli("render", project)
    assert "keep-user-edit" in result.stdout + result.stderr
    assert uptodate.settled_render(project) is None
    cli("render", project)
    assert steps(latest_run(cli)) != ["receipt"]


def test_a_change_while_the_render_runs_keeps_no_receipt(project: Path) -> None:
    """An input edited between the render's reading and its end: the receipt would describe a
    state no render concluded from, so none is kept."""
    where = uptodate.receipt_file(project)
    assert where is not None
    drop_receipt(project)
    scaffold.render_again(project, ui=UICallbacks(on_plan=lambda _plan: None))
    assert where.exists(), "the control: the same library call keeps one when nothing moves"
    drop_receipt(project)

    def edit_during(plan: Plan) -> None:
        del plan
        _edit("config.yml")(project)

    scaffold.render_again(project, ui=UICallbacks(on_plan=edit_during))
    assert not where.exists()


def test_a_damaged_receipt_only_costs_a_full_render(cli: Run, project: Path) -> None:
    where = uptodate.receipt_file(project)
    assert where is not None
    for damage in (b"\x00garbage", b"{}", b'{"format": 1, "target": 3}', b"[]"):
        where.write_bytes(damage)
        assert uptodate.settled_render(project) is None
    assert cli("render", project).exit_code == 0
    assert uptodate.settled_render(project) is not None  # the full render kept a new one


def test_receipts_follow_the_cache_switch(
    cli: Run, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TAC_BOOTSTRAP_NO_CACHE", "1")
    assert uptodate.settled_render(project) is None
    assert cli("render", project).exit_code == 0
    assert steps(latest_run(cli)) == ["config", "render", "plan", "apply"]


def test_history_off_or_missing(cli: Run, project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No history database yet: the full render runs (and creates it); history off: the receipt
    answers and records nothing."""
    path = db_path()
    assert path is not None
    for leftover in path.parent.glob(path.name + "*"):
        leftover.unlink()
    assert cli("render", project).exit_code == 0
    assert steps(latest_run(cli)) == ["config", "render", "plan", "apply"]
    monkeypatch.setenv("TAC_BOOTSTRAP_DB", "off")

    def no_full_render(*_args: object) -> None:
        raise AssertionError("the receipt should have answered")

    with monkeypatch.context() as patched:
        patched.setattr(scaffold.RenderAgain, "run", no_full_render)
        result = cli("render", project)
    assert result.exit_code == 0 and "wrote 0 files" in result.stdout
    monkeypatch.setenv("TAC_BOOTSTRAP_DB", str(path))
    assert len(json.loads(cli("runs", "--json").stdout)) == 1


def test_what_a_killed_writer_left_is_swept_as_a_full_render_does(cli: Run, project: Path) -> None:
    """A temporary file of a writer that is gone, beside an unchanged file: the receipt answers
    (the file itself is unchanged) and removes it, as the full render's apply step would."""
    leftover = project / ".claude/commands/.chore.md.999999999-abcd1234.tac-tmp"
    leftover.write_text("half a file", encoding="utf-8")
    assert cli("render", project).exit_code == 0
    assert steps(latest_run(cli)) == ["receipt"]
    assert not leftover.exists()


# --- the oracle, after a change the snapshot must see (found in review) ---------------------------


def answers_as_a_full_render(cli: Run, root: Path, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Render ``root`` (perhaps answered by its receipt), then in full (receipts off): when the
    receipt answered, the full render must say and do the same. True when it answered."""
    before = snapshot(root)
    quick = cli("render", root)
    answered = steps(latest_run(cli)) == ["receipt"]
    after_quick = snapshot(root)
    with monkeypatch.context() as patched:
        patched.setenv("TAC_BOOTSTRAP_NO_CACHE", "1")
        full = cli("render", root)
    if answered:
        assert after_quick == before
        assert (quick.exit_code, quick.stdout) == (full.exit_code, full.stdout), full.output
        assert snapshot(root) == before
    return answered


def _config_elsewhere(root: Path) -> Callable[[], None]:
    """config.yml a link to a shared answers file; later, the answers behind it edited."""
    shared = root.parent / "shared-config.yml"
    shutil.copy2(root / "config.yml", shared)
    (root / "config.yml").unlink()
    (root / "config.yml").symlink_to(shared)

    def edit() -> None:
        text = shared.read_text(encoding="utf-8")
        shared.write_text(text.replace("test: uv run pytest", "test: uv run pytest -x"), "utf-8")

    return edit


def _folder_linked_inside(rel: str) -> Callable[[Path], Callable[[], None]]:
    """``rel`` a link to a folder inside the project; later, repointed at a copy outside it."""

    def setup(root: Path) -> Callable[[], None]:
        folder = root / rel
        real = root / f"{folder.name.lstrip('.')}-real"
        folder.rename(real)
        folder.symlink_to(real, target_is_directory=True)

        def repoint() -> None:
            outside = root.parent / f"{real.name}-outside"
            shutil.copytree(real, outside)
            folder.unlink()
            folder.symlink_to(outside, target_is_directory=True)

        return repoint

    return setup


LINKS: dict[str, Callable[[Path], Callable[[], None]]] = {
    "config.yml a link, the answers behind it edited": _config_elsewhere,
    "a folder a link, repointed outside": _folder_linked_inside(".claude/agents"),
    "the records' folder a link, repointed outside": _folder_linked_inside(".tac-bootstrap"),
}


@pytest.mark.parametrize("setup", LINKS.values(), ids=LINKS.keys())
def test_a_link_among_the_inputs_means_no_receipt(
    cli: Run, project: Path, monkeypatch: pytest.MonkeyPatch, setup: Callable[[Path], Any]
) -> None:
    """A render reads through a link or judges where it leads; the link's entry says neither,
    so a project with one always renders in full (and the oracle holds after the change)."""
    change = setup(project)
    drop_receipt(project)
    cli("render", project)
    assert uptodate.settled_render(project) is None
    change()
    assert not answers_as_a_full_render(cli, project, monkeypatch)


@pytest.fixture
def tool_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The generator's package and templates copied (times kept) under ``tmp_path/tool`` and used
    as the running tool: the receipt's identity walks them, the engine renders and copies from
    them. Yields the copy's folder (``pkg/``, ``templates/``)."""
    from tac_bootstrap_cli.render import engine

    tool = tmp_path / "tool"
    pkg, templates = tool / "pkg", tool / "templates"
    shutil.copytree(PACKAGE_DIR, pkg, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(templates_root(), templates, copy_function=shutil.copy2)
    monkeypatch.setattr(uptodate, "PACKAGE_DIR", pkg)
    monkeypatch.setattr(uptodate, "templates_root", lambda: templates)
    monkeypatch.setattr(engine, "templates_root", lambda: templates)
    monkeypatch.setattr(engine, "_adws_root", lambda: pkg / "_adws")
    monkeypatch.setattr(engine, "BASE_MODULES", engine._shipped_paths(pkg / "_adws"))
    uptodate.tool_identity.cache_clear()
    yield tool
    uptodate.tool_identity.cache_clear()


def _same_size_and_time(tool: Path) -> None:
    """A template edited in place, its size and mtime kept (cp -p, rsync -t, an archive with
    fixed times, two edits within the clock's granularity)."""
    chore = tool / "templates/.claude/commands/chore.md.j2"
    info = chore.stat()
    text = chore.read_text(encoding="utf-8")
    edited = text.replace("must pass.", "must PASS.")
    assert edited != text and len(edited) == len(text)
    chore.write_text(edited, encoding="utf-8")
    os.utime(chore, ns=(info.st_atime_ns, info.st_mtime_ns))


def _base_module_in_a_tool_cache_folder(tool: Path) -> None:
    """A file under ``_adws/.hypothesis/``: the engine ships it as a base module."""
    extra = tool / "pkg/_adws/.hypothesis/constants/abc"
    extra.parent.mkdir(parents=True)
    extra.write_text("examples\n", encoding="utf-8")


TOOL_CHANGES: dict[str, Callable[[Path], None]] = {
    "a template edited, size and mtime kept": _same_size_and_time,
    "a base module under a tool-cache folder": _base_module_in_a_tool_cache_folder,
}


@pytest.mark.parametrize("change", TOOL_CHANGES.values(), ids=TOOL_CHANGES.keys())
def test_a_change_to_the_tool_means_a_full_render(
    cli: Run,
    project: Path,
    tool_copy: Path,
    monkeypatch: pytest.MonkeyPatch,
    change: Callable[[Path], None],
) -> None:
    from tac_bootstrap_cli.render import engine

    drop_receipt(project)
    cli("render", project)  # a receipt for the copied tool
    assert uptodate.settled_render(project) is not None
    change(tool_copy)
    # A new process computes the base modules at import and the identity afresh.
    monkeypatch.setattr(engine, "BASE_MODULES", engine._shipped_paths(tool_copy / "pkg/_adws"))
    uptodate.tool_identity.cache_clear()
    assert uptodate.settled_render(project) is None
    assert not answers_as_a_full_render(cli, project, monkeypatch)


# --- what cannot be snapshotted only means no receipt (found in review) -------------------------


def test_a_path_that_is_not_utf8_on_sys_path_never_fails_a_render(
    cli: Run, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = Path(os.fsdecode(bytes(tmp_path) + b"/lib\xff"))
    folder.mkdir()
    monkeypatch.setattr("sys.path", [*__import__("sys").path, str(folder)])
    uptodate.tool_identity.cache_clear()
    drop_receipt(project)
    result = cli("render", project)
    assert result.exit_code == 0, result.output
    assert uptodate.settled_render(project) is not None  # hashed as bytes, not refused
    uptodate.tool_identity.cache_clear()


def test_a_manifest_naming_a_path_outside_the_project_means_no_receipt(
    cli: Run, project: Path, tmp_path: Path
) -> None:
    """A cloned repository's manifest can list anything: a path outside the project is never
    read for a snapshot (it could be huge, or a FIFO), and the render keeps no receipt."""
    outside = tmp_path / "big.bin"
    outside.write_bytes(b"x" * 1000)
    manifest = project / ".tac-bootstrap/manifest.json"
    data = json.loads(manifest.read_text())
    data["files"][str(outside)] = {"sha256": "0" * 64, "kind": "file"}
    data["files"]["../escape.md"] = {"sha256": "0" * 64, "kind": "file"}
    manifest.write_text(json.dumps(data))
    with pytest.raises(uptodate.Unprovable):
        uptodate.snapshot(project, [str(outside)])
    drop_receipt(project)
    result = cli("render", project)
    assert result.exit_code in (0, 1), result.output  # whatever the full render makes of it
    assert uptodate.settled_render(project) is None


def test_a_link_among_the_tools_files_means_no_receipt(
    cli: Run, project: Path, tool_copy: Path
) -> None:
    """A base module that is a link (a developer's checkout): the engine reads through it, the
    link's entry says nothing of what it points to."""
    module = tool_copy / "pkg/_adws/adw_modules/utils.py"
    real = tool_copy / "utils-real.py"
    module.rename(real)
    module.symlink_to(real)
    uptodate.tool_identity.cache_clear()
    with pytest.raises(uptodate.Unprovable):
        uptodate.tool_identity()
    drop_receipt(project)
    assert cli("render", project).exit_code == 0
    assert uptodate.settled_render(project) is None


def test_a_project_reached_through_a_link_is_planned_where_it_resolves(
    cli: Run, project: Path, tmp_path: Path
) -> None:
    """The plan a terminal sees is titled with the resolved folder, as the full render's is (its
    output line keeps the path as given)."""
    link = tmp_path / "via"
    link.symlink_to(project.parent, target_is_directory=True)
    through = link / project.name
    assert cli("render", through).exit_code == 0  # full: keeps a receipt for this path
    settled = uptodate.settled_render(through)
    assert settled is not None
    full = scaffold.render_again(through)
    assert settled.plan().root == full.plan.root == project.resolve()
    assert settled.target == through and str(through) in settled.summary


def test_receipts_not_rewritten_for_a_month_are_removed(cli: Run, project: Path) -> None:
    where = uptodate.receipt_file(project)
    assert where is not None
    stale = where.with_name("0" * 32 + ".json")
    stale.write_text("{}", encoding="utf-8")
    month_ago = where.stat().st_mtime - (uptodate.RECEIPT_DAYS + 1) * 86400
    os.utime(stale, (month_ago, month_ago))
    drop_receipt(project)
    assert cli("render", project).exit_code == 0  # keeps a new receipt, and prunes
    assert where.exists() and not stale.exists()
