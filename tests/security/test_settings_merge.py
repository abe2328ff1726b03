""".claude/settings.json is always valid JSON: the structural merge (properties, examples) and the
commands that use it end to end (upgrade, add-agentic then render, --force), with real git."""

from __future__ import annotations

import copy
import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cli_support import Run, snapshot
from hypothesis import given, settings
from hypothesis import strategies as st
from workbudget import call_budget

from tac_bootstrap_cli.jsonmerge import MISSING, dump_json, merge_settings, merge_values
from tac_bootstrap_cli.render import templates_root

SETTINGS_PATH = ".claude/settings.json"
GUARD = '/bin/sh "$CLAUDE_PROJECT_DIR"/.claude/hooks/run.sh pre_tool_use'
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}


# --- the merge: examples ------------------------------------------------------------------------

BASE: dict[str, Any] = {
    "$schema": "s",
    "permissions": {
        "allow": ["Bash(uv run pytest:*)", "Bash(git status:*)", "Bash(git log:*)"],
        "deny": ["Read(./.env)"],
    },
    "hooks": {
        "PreToolUse": [
            {"matcher": "*", "hooks": [{"type": "command", "command": "guard v1", "timeout": 60}]}
        ],
        "Stop": [{"hooks": [{"type": "command", "command": "stop v1", "timeout": 60}]}],
    },
}


def edited(value: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    out = copy.deepcopy(value)
    change(out)
    return out


def test_user_permission_at_the_top_meets_a_changed_test_command() -> None:
    user = edited(BASE, lambda s: s["permissions"]["allow"].insert(0, "Bash(make:*)"))
    template = edited(BASE, lambda s: s["permissions"]["allow"].__setitem__(0, "Bash(tox:*)"))
    merged = merge_values(BASE, user, template)
    assert merged.disputes == ()
    assert merged.value["permissions"]["allow"] == [
        "Bash(make:*)",
        "Bash(tox:*)",
        "Bash(git status:*)",
        "Bash(git log:*)",
    ]


def test_a_removed_permission_stays_removed_when_the_template_reorders() -> None:
    user = edited(BASE, lambda s: s["permissions"]["allow"].remove("Bash(git log:*)"))
    template = edited(BASE, lambda s: s["permissions"]["allow"].reverse())
    merged = merge_values(BASE, user, template).value
    assert merged["permissions"]["allow"] == ["Bash(git status:*)", "Bash(uv run pytest:*)"]


def test_a_users_addition_keeps_its_place_among_the_templates_entries() -> None:
    user = edited(BASE, lambda s: s["permissions"]["allow"].insert(2, "Bash(make:*)"))
    template = edited(BASE, lambda s: s["permissions"]["allow"].append("Bash(git fetch:*)"))
    assert merge_values(BASE, user, template).value["permissions"]["allow"] == [
        "Bash(uv run pytest:*)",
        "Bash(git status:*)",
        "Bash(make:*)",
        "Bash(git log:*)",
        "Bash(git fetch:*)",
    ]


def test_a_users_own_hook_stays_and_ours_is_updated() -> None:
    mine = {"type": "command", "command": "my linter", "timeout": 5}

    def add_mine(s: dict[str, Any]) -> None:
        s["hooks"]["PreToolUse"][0]["hooks"].append(mine)
        s["hooks"]["Stop"].append({"hooks": [{"type": "command", "command": "notify me"}]})

    def new_guard(s: dict[str, Any]) -> None:
        s["hooks"]["PreToolUse"][0]["hooks"][0]["command"] = "guard v2"
        s["hooks"]["Stop"][0]["hooks"][0]["timeout"] = 30

    merged = merge_values(BASE, edited(BASE, add_mine), edited(BASE, new_guard))
    assert merged.disputes == ()
    pre = merged.value["hooks"]["PreToolUse"]
    assert [h["command"] for h in pre[0]["hooks"]] == ["guard v2", "my linter"]
    stop = merged.value["hooks"]["Stop"]
    assert stop[0]["hooks"][0] == {"type": "command", "command": "stop v1", "timeout": 30}
    assert stop[1]["hooks"][0]["command"] == "notify me"


def test_a_scalar_both_sides_changed_keeps_yours_and_says_how_to_take_ours() -> None:
    user = edited(BASE, lambda s: s["hooks"]["Stop"][0]["hooks"][0].update(timeout=120))
    template = edited(BASE, lambda s: s["hooks"]["Stop"][0]["hooks"][0].update(timeout=30))
    merged = merge_values(BASE, user, template)
    assert merged.value == user
    [dispute] = merged.disputes
    assert dispute.path == "hooks.Stop[0].hooks[0].timeout"
    assert (dispute.user, dispute.template) == ("120", "30")
    assert dispute.describe() == (
        "hooks.Stop[0].hooks[0].timeout: yours 120 kept; ours is 30 (set it to that to take ours)"
    )
    forced = merge_values(BASE, user, template, force=True)
    assert forced.value == template and forced.disputes == ()


def test_force_takes_ours_but_keeps_what_is_only_yours() -> None:
    def mine(s: dict[str, Any]) -> None:
        s["model"] = "opus"
        s["permissions"]["allow"].remove("Bash(git log:*)")
        s["permissions"]["allow"].append("Bash(make:*)")
        s["hooks"]["Stop"][0]["hooks"][0]["timeout"] = 5

    merged = merge_values(BASE, edited(BASE, mine), BASE, force=True).value
    assert merged["model"] == "opus"
    # git log comes back; make stays after the entry that preceded it in the user's list
    assert merged["permissions"]["allow"] == [
        "Bash(uv run pytest:*)",
        "Bash(git status:*)",
        "Bash(make:*)",
        "Bash(git log:*)",
    ]
    assert merged["hooks"] == BASE["hooks"]
    # No base (a file the user had before): the same, both sides' keys kept.
    assert merge_values(MISSING, edited(BASE, mine), BASE, force=True).value == merged


def test_true_and_one_are_different_values() -> None:
    merged = merge_values({"a": 1}, {"a": True}, {"a": 2})
    assert merged.value == {"a": True} and merged.disputes[0].user == "true"


def test_unparseable_user_file_is_never_replaced() -> None:
    template = dump_json(BASE).encode()
    for bad, where in [
        (b'{\n  "a": 1,\n}', "line 3, column 1"),
        (b'{"a": NaN}', "line 1, column 7"),
        (b"\xff\xfe", "not UTF-8"),
        (b"<<<<<<< yours\n{}\n", "line 1, column 1"),
    ]:
        for force in (False, True):
            outcome = merge_settings(template, bad, template, force=force)
            assert outcome is not None and outcome.content is None, bad
            assert outcome.problem is not None and where in outcome.problem
            assert not outcome.replaceable


def test_the_users_layout_survives_when_the_text_merge_is_clean() -> None:
    base = dump_json(BASE)
    user = base.replace('"$schema": "s"', '"$schema": "s",\n    "model":   "opus"')
    template = base.replace('"Read(./.env)"', '"Read(./.env)", "Read(./**/.env)"')
    outcome = merge_settings(base.encode(), user.encode(), template.encode())
    assert outcome is not None and outcome.content is not None
    assert b'"model":   "opus"' in outcome.content and b"Read(./**/.env)" in outcome.content


def test_a_huge_or_deep_user_file_is_merged_in_linear_time_or_refused() -> None:
    user = copy.deepcopy(BASE)
    user["permissions"]["allow"][:0] = [f"Bash(own{i}:*)" for i in range(20_000)]
    user.update({f"key{i}": i for i in range(5_000)})
    template = edited(BASE, lambda s: s["permissions"]["allow"].__setitem__(0, "Bash(tox:*)"))
    # ~380,000 Python calls for 25,000 entries (~15 each); quadratic placement took billions.
    with call_budget(1_500_000):
        outcome = merge_settings(
            dump_json(BASE).encode(), dump_json(user).encode(), dump_json(template).encode()
        )
    assert outcome is not None and outcome.content is not None
    allow = json.loads(outcome.content)["permissions"]["allow"]
    assert allow[:2] == ["Bash(own0:*)", "Bash(own1:*)"] and allow[20_000] == "Bash(tox:*)"
    deep = merge_settings(b"{}", b"[" * 100_000 + b"]" * 100_000, b"{}")
    assert deep is not None and deep.content is None and "nested" in (deep.problem or "")


# --- the merge: properties ----------------------------------------------------------------------

OURS = [f"Bash(tool{i}:*)" for i in range(8)] + ["Edit(./specs/**)", "WebFetch", "Read(./é)"]
YOURS = ["Bash(make:*)", "Bash(tool1:*)", "Read(./secrets/**)", "Bash(ünï:*)"]
EVENTS = ["PreToolUse", "PostToolUse", "Stop", "SessionStart"]
COMMANDS = ["guard", "record", "stop", "mine 1", "mine 2"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(["x", "y", "é"]))


@st.composite
def settings_dicts(draw: st.DrawFn) -> dict[str, Any]:
    """A settings file like ours: permissions, hook groups, a few scalars."""
    hooks: dict[str, Any] = {}
    for event in draw(st.lists(st.sampled_from(EVENTS), unique=True, max_size=3)):
        commands = draw(st.lists(st.sampled_from(COMMANDS[:3]), unique=True, min_size=1))
        group: dict[str, Any] = {
            "hooks": [{"type": "command", "command": c, "timeout": 60} for c in commands]
        }
        if draw(st.booleans()):
            group = {"matcher": "*", **group}
        hooks[event] = [group]
    value: dict[str, Any] = {
        "$schema": "s",
        "permissions": {
            key: draw(st.lists(st.sampled_from(OURS), unique=True, max_size=6))
            for key in ("allow", "deny", "ask")
        },
        "hooks": hooks,
    }
    if draw(st.booleans()):
        value["model"] = draw(scalars)
    return value


RULE_EDITS = ("add", "remove", "reorder")


def _edit_rules(draw: st.DrawFn, kind: str, rules: list[str], pool: list[str]) -> None:
    """One edit of a permission list: a rule added, removed, or the list reordered."""
    if kind == "add":
        rule = draw(st.sampled_from(pool))
        if rule not in rules:
            rules.insert(draw(st.integers(0, len(rules))), rule)
    elif kind == "remove" and rules:
        rules.remove(draw(st.sampled_from(rules)))
    elif kind == "reorder":
        rules[:] = draw(st.permutations(rules))


def _edit_document(draw: st.DrawFn, kind: str, out: dict[str, Any], prefix: str) -> None:
    """One edit elsewhere: a new key, the model changed, a hook added or retimed, a matcher dropped."""
    if kind == "key":
        target = draw(st.sampled_from([out, out["permissions"]]))
        target[f"{prefix}{draw(st.integers(0, 2))}"] = draw(scalars)
    elif kind == "scalar":
        out["model"] = draw(scalars)
    elif kind == "hook" and out["hooks"]:
        group = out["hooks"][draw(st.sampled_from(sorted(out["hooks"])))][0]["hooks"]
        if draw(st.booleans()):
            command = draw(st.sampled_from(COMMANDS))
            if all(h["command"] != command for h in group):
                group.append({"type": "command", "command": command})
        else:
            group[0]["timeout"] = draw(st.integers(1, 120))
    elif kind == "drop" and out["hooks"]:
        del out["hooks"][draw(st.sampled_from(sorted(out["hooks"])))]


@st.composite
def edits(draw: st.DrawFn, value: dict[str, Any], pool: list[str], prefix: str) -> dict[str, Any]:
    """``value`` after a few random edits of the kinds people and template versions make."""
    out = copy.deepcopy(value)
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from([*RULE_EDITS, "key", "scalar", "hook", "drop"]))
        rules = out["permissions"][draw(st.sampled_from(["allow", "deny", "ask"]))]
        if kind in RULE_EDITS:
            _edit_rules(draw, kind, rules, pool)
        else:
            _edit_document(draw, kind, out, prefix)
    return out


@st.composite
def three_versions(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(base, user's edit of it, template's edit of it)."""
    base = draw(settings_dicts())
    return base, draw(edits(base, YOURS, "mine")), draw(edits(base, OURS, "ours"))


def _keys(value: Any, path: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """Every path of object keys in ``value``."""
    if not isinstance(value, dict):
        return set()
    found: set[tuple[str, ...]] = set()
    for key, item in value.items():
        found.add((*path, key))
        found |= _keys(item, (*path, key))
    return found


def _merged_file(base: Any, user: Any, template: Any, force: bool = False) -> Any:
    outcome = merge_settings(
        dump_json(base).encode(),
        dump_json(user).encode(),
        dump_json(template).encode(),
        force=force,
    )
    assert outcome is not None and outcome.content is not None
    return json.loads(outcome.content)  # always parses


@given(three_versions(), st.booleans())
@settings(max_examples=300, deadline=None)
def test_result_parses_and_user_keys_survive(
    versions: tuple[dict[str, Any], ...], force: bool
) -> None:
    base, user, template = versions
    result = _merged_file(base, user, template, force)
    assert _keys(user) - _keys(base) <= _keys(result)


@given(three_versions())
@settings(max_examples=300, deadline=None)
def test_set_like_arrays_never_regain_a_removed_entry(
    versions: tuple[dict[str, Any], ...],
) -> None:
    base, user, template = versions
    result = _merged_file(base, user, template)
    for key in ("allow", "deny", "ask"):
        removed = set(base["permissions"][key]) - set(user["permissions"][key])
        assert not removed & set(result["permissions"][key])
        # a list the template changed: its entries keep the template's order (a list it left
        # alone keeps the user's order, reordering included)
        if template["permissions"][key] != base["permissions"][key]:
            ours = [r for r in result["permissions"][key] if r in template["permissions"][key]]
            assert ours == [r for r in template["permissions"][key] if r in ours]
        # and nothing appears twice
        assert len(set(result["permissions"][key])) == len(result["permissions"][key])


@given(three_versions())
@settings(max_examples=200, deadline=None)
def test_no_user_edits_gives_the_template_exactly(versions: tuple[dict[str, Any], ...]) -> None:
    base, _, template = versions
    rendered = dump_json(template).encode()
    outcome = merge_settings(dump_json(base).encode(), dump_json(base).encode(), rendered)
    assert outcome is not None and outcome.content == rendered and outcome.disputes == ()


@given(three_versions())
@settings(max_examples=200, deadline=None)
def test_no_template_change_keeps_the_users_file_and_a_second_merge_is_a_no_op(
    versions: tuple[dict[str, Any], ...],
) -> None:
    base, user, template = versions
    mine = dump_json(user).encode()
    outcome = merge_settings(dump_json(base).encode(), mine, dump_json(base).encode())
    assert outcome is not None and outcome.content == mine
    # after a merge, the template it merged is the base: merging it again changes nothing
    first = merge_settings(dump_json(base).encode(), mine, dump_json(template).encode())
    assert first is not None and first.content is not None
    again = merge_settings(
        dump_json(template).encode(), first.content, dump_json(template).encode()
    )
    assert again is not None and again.content == first.content and again.disputes == ()


@given(st.binary(max_size=40) | st.text(max_size=40).map(str.encode), st.booleans())
@settings(max_examples=300, deadline=None)
def test_any_user_bytes_give_valid_json_or_are_left_alone(data: bytes, force: bool) -> None:
    template = dump_json(BASE).encode()
    outcome = merge_settings(template, data, template, force=force)
    assert outcome is not None
    if outcome.content is not None:
        assert isinstance(json.loads(outcome.content), dict)
    else:
        assert outcome.problem


# --- end to end ---------------------------------------------------------------------------------


def git(cwd: Path, *args: str) -> str:
    """Run git in ``cwd`` without the machine's configuration; its stdout."""
    proc = subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **GIT_ENV},
    )
    return proc.stdout


def commit_all(project: Path, message: str) -> None:
    if not (project / ".git").exists():
        git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", message, "--allow-empty")


def read_settings(project: Path) -> Any:
    return json.loads((project / SETTINGS_PATH).read_text(encoding="utf-8"))


def guard_present(value: Any) -> bool:
    return any(
        hook.get("command") == GUARD
        for group in value["hooks"]["PreToolUse"]
        for hook in group["hooks"]
    )


def set_test_command(project: Path, command: str) -> None:
    config = project / "config.yml"
    text = config.read_text(encoding="utf-8")
    assert "test: uv run pytest" in text
    config.write_text(text.replace("test: uv run pytest", f"test: {command}"), encoding="utf-8")


def test_upgrade_with_a_permission_at_the_top_and_a_changed_test_command(
    cli: Run, tmp_path: Path
) -> None:
    assert cli("init", "app", "-o", tmp_path).exit_code == 0
    project = tmp_path / "app"
    path = project / SETTINGS_PATH
    text = path.read_text(encoding="utf-8")
    top = '"allow": [\n      "Bash(uv run pytest:*)"'
    assert top in text
    path.write_text(text.replace(top, top.replace("[", '[\n      "Bash(make deploy:*)",')))
    set_test_command(project, "uv run tox")
    commit_all(project, "my permission, another test command")

    result = cli("upgrade", project)
    assert result.exit_code == 0, result.output
    merged = read_settings(project)  # valid JSON, no markers
    allow = merged["permissions"]["allow"]
    assert allow[:2] == ["Bash(make deploy:*)", "Bash(uv run tox:*)"]
    assert "Bash(uv run pytest:*)" not in allow
    assert guard_present(merged)
    assert "<<<<<<<" not in path.read_text(encoding="utf-8")
    # a second upgrade is a no-op
    commit_all(project, "upgraded")
    before = snapshot(project)
    assert cli("upgrade", project).exit_code == 0
    assert snapshot(project) == before


def test_upgrade_lists_a_disputed_value_keeps_yours_and_exits_1_once(
    cli: Run, tmp_path: Path
) -> None:
    assert cli("init", "app", "-o", tmp_path).exit_code == 0
    project = tmp_path / "app"
    path = project / SETTINGS_PATH
    value = read_settings(project)
    value["hooks"]["Stop"][0]["hooks"][0]["timeout"] = 120
    value["mine"] = {"keep": True}
    path.write_text(dump_json(value), encoding="utf-8")
    commit_all(project, "my timeout")
    team = tmp_path / "team" / ".claude"
    team.mkdir(parents=True)
    template = (templates_root() / ".claude/settings.json.j2").read_text(encoding="utf-8")
    marker = '("Stop", "stop", none, 60)'
    assert marker in template
    (team / "settings.json.j2").write_text(template.replace(marker, '("Stop", "stop", none, 30)'))

    result = cli("upgrade", project, "--templates", tmp_path / "team")
    out = result.stdout + result.stderr
    assert result.exit_code == 1, out
    merged = read_settings(project)
    assert merged["hooks"]["Stop"][0]["hooks"][0]["timeout"] == 120 and merged["mine"]
    assert guard_present(merged)
    assert "hooks.Stop[0].hooks[0].timeout: yours 120 kept; ours is 30" in out
    assert "take ours" in out and "<<<<<<<" not in out
    assert git(project, "ls-files", "--unmerged") == ""  # nothing for git to resolve
    commit_all(project, "upgraded")
    again = cli("upgrade", project)
    assert again.exit_code == 0, again.output  # reported once: your value stays yours


def test_upgrade_never_overwrites_a_settings_file_that_does_not_parse(
    cli: Run, tmp_path: Path
) -> None:
    assert cli("init", "app", "-o", tmp_path).exit_code == 0
    project = tmp_path / "app"
    path = project / SETTINGS_PATH
    path.write_text(path.read_text(encoding="utf-8").replace("],", "]", 1), encoding="utf-8")
    set_test_command(project, "uv run tox")
    commit_all(project, "broken settings")
    broken = path.read_bytes()
    result = cli("upgrade", project)
    assert result.exit_code == 1, result.output
    assert path.read_bytes() == broken
    assert "not valid JSON: line " in result.stderr and ", column " in result.stderr


def test_add_agentic_then_render_merges_three_way(cli: Run, tree: Callable[..., Path]) -> None:
    existing = {
        "model": "opus",
        "permissions": {"allow": ["Bash(make:*)"]},
        "hooks": {"Stop": [{"hooks": [{"type": "command", "command": "notify me"}]}]},
    }
    project = tree(
        {
            "pyproject.toml": '[project]\nname = "shop"\n',
            "uv.lock": "",
            ".claude": {"settings.json": json.dumps(existing)},
        },
        name="shop",
    )
    result = cli("add-agentic", project)
    assert result.exit_code == 0, result.output
    first = read_settings(project)
    assert first["model"] == "opus" and guard_present(first)
    assert "Bash(uv run pytest:*)" in first["permissions"]["allow"]

    # The user drops one of our permissions, then changes the test command and renders.
    first["permissions"]["allow"].remove("Bash(git log:*)")
    (project / SETTINGS_PATH).write_text(dump_json(first), encoding="utf-8")
    set_test_command(project, "uv run tox")
    rendered = cli("render", project)
    assert rendered.exit_code == 0, rendered.output
    assert "keep-user-edit" not in rendered.stderr
    merged = read_settings(project)
    allow = merged["permissions"]["allow"]
    assert "Bash(uv run tox:*)" in allow and "Bash(uv run pytest:*)" not in allow
    assert allow[0] == "Bash(make:*)" and "Bash(git log:*)" not in allow
    assert merged["model"] == "opus" and guard_present(merged)
    stop = [h["command"] for group in merged["hooks"]["Stop"] for h in group["hooks"]]
    assert stop[0] == "notify me" and stop[1].endswith("run.sh stop")
    # and again: nothing new, nothing written
    before = snapshot(project)
    assert cli("render", project).exit_code == 0
    assert snapshot(project) == before


def test_force_keeps_a_user_key(cli: Run, tmp_path: Path) -> None:
    assert cli("init", "app", "-o", tmp_path).exit_code == 0
    project = tmp_path / "app"
    value = read_settings(project)
    value["mine"] = "keep me"
    value["permissions"]["allow"].append("Bash(make:*)")
    value["permissions"]["allow"].remove("Bash(git log:*)")
    value["hooks"]["Stop"][0]["hooks"][0]["timeout"] = 5
    (project / SETTINGS_PATH).write_text(dump_json(value), encoding="utf-8")
    result = cli("render", project, "--force")
    assert result.exit_code == 0, result.output
    forced = read_settings(project)
    assert forced["mine"] == "keep me" and "Bash(make:*)" in forced["permissions"]["allow"]
    # ours wherever the two differ: the timeout and the removed permission come back
    assert forced["hooks"]["Stop"][0]["hooks"][0]["timeout"] == 60
    assert "Bash(git log:*)" in forced["permissions"]["allow"]
