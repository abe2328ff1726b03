"""Plan decisions: every action and its reason, from disk + manifest + desired content."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tac_bootstrap_cli.plan import Action, Desired, Plan, Policy, compute_plan, path_problem
from tac_bootstrap_cli.projectstate import Entry, Manifest, sha256


def plan(
    root: Path,
    desired: list[Desired],
    manifest: Manifest | None = None,
    *,
    force: bool = False,
    previous_bases: dict[str, bytes] | None = None,
) -> Plan:
    policy = Policy.render(force=force, bases=previous_bases)
    return compute_plan(root, desired, manifest, template_version="test", policy=policy)


def action(p: Plan, path: str) -> Action:
    (fa,) = [a for a in p.actions if a.path == path]
    return fa.action


def manifest_of(**files: bytes) -> Manifest:
    return Manifest("test", "", {path: Entry(sha256(data)) for path, data in files.items()})


def test_missing_file_is_created(tmp_path: Path) -> None:
    p = plan(tmp_path / "new", [Desired("a/b.txt", b"x")])
    assert action(p, "a/b.txt") is Action.CREATE
    assert p.writes()[0].content == b"x"


def test_same_bytes_are_unchanged_even_without_manifest(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"x")
    p = plan(tmp_path, [Desired("a.txt", b"x")])
    assert action(p, "a.txt") is Action.UNCHANGED
    assert p.next_manifest([]).files["a.txt"] == Entry(sha256(b"x"))


def test_file_from_before_tac_bootstrap_is_a_conflict_unless_forced(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"mine")
    assert action(plan(tmp_path, [Desired("a.txt", b"x")]), "a.txt") is Action.CONFLICT
    forced = plan(tmp_path, [Desired("a.txt", b"x")], force=True)
    assert action(forced, "a.txt") is Action.UPDATE


def test_untouched_generated_file_is_updated(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"old")
    p = plan(tmp_path, [Desired("a.txt", b"new")], manifest_of(**{"a.txt": b"old"}))
    assert action(p, "a.txt") is Action.UPDATE


def test_user_edit_is_kept_unless_forced(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"edited")
    m = manifest_of(**{"a.txt": b"generated"})
    p = plan(tmp_path, [Desired("a.txt", b"new")], m)
    assert action(p, "a.txt") is Action.KEEP
    assert p.writes() == []
    # the manifest keeps the old hash: the file stays recognisably "edited"
    assert p.next_manifest([]).files["a.txt"] == m.files["a.txt"]
    assert (
        action(plan(tmp_path, [Desired("a.txt", b"new")], m, force=True), "a.txt") is Action.UPDATE
    )


def test_missing_executable_bit_is_an_update(tmp_path: Path) -> None:
    (tmp_path / "hook.py").write_bytes(b"x")
    (tmp_path / "hook.py").chmod(0o644)
    p = plan(tmp_path, [Desired("hook.py", b"x", executable=True)])
    assert action(p, "hook.py") is Action.UPDATE


def test_file_generated_before_but_not_now_is_obsolete_and_kept(tmp_path: Path) -> None:
    (tmp_path / "old.txt").write_bytes(b"x")
    p = plan(tmp_path, [], manifest_of(**{"old.txt": b"x", "gone.txt": b"y"}))
    assert [(a.path, a.action) for a in p.actions] == [("old.txt", Action.OBSOLETE)]
    assert set(p.next_manifest([]).files) == {"old.txt"}


def test_inputs_are_neither_planned_nor_obsolete(tmp_path: Path) -> None:
    (tmp_path / "config.yml").write_bytes(b"edited")
    m = manifest_of(**{"config.yml": b"orig"})
    p = plan(tmp_path, [], m)
    assert action(p, "config.yml") is Action.OBSOLETE
    p = compute_plan(tmp_path, [], m, template_version="t", inputs=["config.yml"])
    assert p.actions == []
    assert p.next_manifest([]).files["config.yml"] == m.files["config.yml"]


def test_symlinked_folder_leading_outside_is_never_written(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "project"
    root.mkdir()
    (root / ".claude").symlink_to(outside)
    for force in (False, True):
        p = plan(root, [Desired(".claude/settings.json", b"{}")], force=force)
        fa = p.actions[0]
        assert fa.action is Action.CONFLICT and "outside" in fa.reason


def test_symlinked_folder_inside_the_project_is_fine(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    assert path_problem(tmp_path.resolve(), "link/a.txt") is None


def test_symlink_as_the_file_is_replaced_only_when_forced(tmp_path: Path) -> None:
    (tmp_path / "target.txt").write_bytes(b"t")
    (tmp_path / "a.txt").symlink_to(tmp_path / "target.txt")
    assert action(plan(tmp_path, [Desired("a.txt", b"x")]), "a.txt") is Action.CONFLICT
    forced = plan(tmp_path, [Desired("a.txt", b"x")], force=True)
    assert action(forced, "a.txt") is Action.UPDATE


def test_file_in_the_way_of_a_folder_is_a_conflict(tmp_path: Path) -> None:
    (tmp_path / "specs").write_bytes(b"not a folder")
    p = plan(tmp_path, [Desired("specs/README.md", b"x")], force=True)
    assert action(p, "specs/README.md") is Action.CONFLICT


@pytest.mark.parametrize("rel", ["../x", "/etc/passwd", "a/../../x", "a//b", "./a"])
def test_unsafe_paths_are_refused(tmp_path: Path, rel: str) -> None:
    problem = path_problem(tmp_path, rel)
    assert problem is not None and problem[1] is False


# --- managed blocks ------------------------------------------------------------------------------


def test_block_is_appended_to_a_users_file(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("node_modules/\n")
    p = plan(tmp_path, [Desired(".gitignore", b"agents/\n", kind="block")])
    (fa,) = p.actions
    assert fa.action is Action.UPDATE and fa.content is not None
    assert fa.content.decode().startswith("node_modules/\n")
    assert p.next_manifest([".gitignore"]).files[".gitignore"] == Entry(
        sha256(b"agents/\n"), "block"
    )


def test_edit_outside_the_block_is_not_a_user_edit(tmp_path: Path) -> None:
    block = "# >>> tac-bootstrap >>>\nagents/\n# <<< tac-bootstrap <<<\n"
    (tmp_path / ".gitignore").write_text("mine\n" + block + "more\n")
    m = Manifest("t", "", {".gitignore": Entry(sha256(b"agents/\n"), "block")})
    p = plan(tmp_path, [Desired(".gitignore", b"agents/\n", kind="block")], m)
    assert action(p, ".gitignore") is Action.UNCHANGED
    p = plan(tmp_path, [Desired(".gitignore", b"agents/\n*.db\n", kind="block")], m)
    (fa,) = p.actions
    assert fa.action is Action.UPDATE and fa.content is not None
    assert fa.content.decode() == (
        "mine\n# >>> tac-bootstrap >>>\nagents/\n*.db\n# <<< tac-bootstrap <<<\nmore\n"
    )


def test_edit_inside_the_block_is_kept(tmp_path: Path) -> None:
    block = "# >>> tac-bootstrap >>>\nagents/\nmine\n# <<< tac-bootstrap <<<\n"
    (tmp_path / ".gitignore").write_text(block)
    m = Manifest("t", "", {".gitignore": Entry(sha256(b"agents/\n"), "block")})
    p = plan(tmp_path, [Desired(".gitignore", b"agents/\n*.db\n", kind="block")], m)
    assert action(p, ".gitignore") is Action.KEEP


def test_block_removed_by_the_user_stays_removed(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# Mine\n")
    m = Manifest("t", "", {"README.md": Entry(sha256(b"x\n"), "block")})
    p = plan(tmp_path, [Desired("README.md", b"x\n", kind="block")], m)
    assert action(p, "README.md") is Action.KEEP


def test_broken_markers_are_a_conflict(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("<!-- >>> tac-bootstrap >>> -->\nno end\n")
    p = plan(tmp_path, [Desired("README.md", b"x\n", kind="block")], force=True)
    assert action(p, "README.md") is Action.CONFLICT


def test_counts_and_listing(tmp_path: Path) -> None:
    (tmp_path / "same.txt").write_bytes(b"s")
    (tmp_path / "theirs.txt").write_bytes(b"t")
    p = plan(
        tmp_path,
        [Desired("new.txt", b"n"), Desired("same.txt", b"s"), Desired("theirs.txt", b"x")],
    )
    assert p.counts() == {Action.CREATE: 1, Action.UNCHANGED: 1, Action.CONFLICT: 1}
    assert [a.path for a in p.listed()] == ["theirs.txt"]
    assert p.changes == 1


# --- .claude/settings.json: merged structurally, never replaced wholesale -------------------------

SETTINGS = ".claude/settings.json"


def _settings(root: Path, value: str) -> None:
    (root / ".claude").mkdir(exist_ok=True)
    (root / SETTINGS).write_text(value)


def test_edited_settings_merge_three_way_from_the_recorded_base(tmp_path: Path) -> None:
    base = b'{"allow": ["a", "b"], "model": "x"}\n'
    _settings(tmp_path, '{"allow": ["mine", "a", "b"], "model": "x", "own": 1}\n')
    m = Manifest("test", "", {SETTINGS: Entry(sha256(base))})
    new = b'{"allow": ["a2", "b"], "model": "x"}\n'
    p = plan(tmp_path, [Desired(SETTINGS, new)], m, previous_bases={sha256(base): base})
    (fa,) = p.actions
    assert fa.action is Action.MERGE and fa.content is not None
    assert json.loads(fa.content) == {"allow": ["mine", "a2", "b"], "model": "x", "own": 1}
    # what is recorded is our rendering: the next merge starts from it
    assert (fa.record, fa.base) == (sha256(new), new)
    assert p.next_bases(p.next_manifest([SETTINGS])) == {sha256(new): new}


def test_edited_settings_without_a_base_are_kept_unless_forced(tmp_path: Path) -> None:
    _settings(tmp_path, '{"own": 1}')
    m = Manifest("test", "", {SETTINGS: Entry(sha256(b"{}"))})
    assert action(plan(tmp_path, [Desired(SETTINGS, b'{"ours": 2}')], m), SETTINGS) is Action.KEEP
    forced = plan(tmp_path, [Desired(SETTINGS, b'{"ours": 2}')], m, force=True)
    (fa,) = forced.actions
    assert fa.action is Action.MERGE and json.loads(fa.content or b"") == {"own": 1, "ours": 2}


def test_disputed_settings_value_is_written_as_yours_and_listed(tmp_path: Path) -> None:
    base = b'{"model": "a"}'
    _settings(tmp_path, '{"model": "mine"}')
    m = Manifest("test", "", {SETTINGS: Entry(sha256(base))})
    p = plan(
        tmp_path, [Desired(SETTINGS, b'{"model": "b"}')], m, previous_bases={sha256(base): base}
    )
    (fa,) = p.actions
    assert fa.action is Action.MERGE_CONFLICT and fa in p.listed() and fa.conflicts == 1
    assert json.loads(fa.content or b"") == {"model": "mine"} and fa.stages is None
    assert fa.disputes == ('model: yours "mine" kept; ours is "b" (set it to that to take ours)',)
    assert fa.disputes[0] in fa.details


def test_unparseable_settings_are_never_overwritten_even_forced(tmp_path: Path) -> None:
    _settings(tmp_path, '{"model": "mine",\n}')
    for manifest in (None, Manifest("test", "", {SETTINGS: Entry(sha256(b"{}"))})):
        for force in (False, True):
            p = plan(tmp_path, [Desired(SETTINGS, b"{}\n")], manifest, force=force)
            (fa,) = p.actions
            assert fa.action is Action.CONFLICT and fa.content is None and p.writes() == []
            assert "not valid JSON: line 2, column 1" in fa.reason
