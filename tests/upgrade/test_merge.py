"""diff3 over lines and JSON: examples, then properties (Hypothesis)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tac_bootstrap_cli.jsonmerge import merge_values
from tac_bootstrap_cli.merge import (
    diff3_chunks,
    has_conflict_markers,
    merge_lines,
    merge_text,
    split_lines,
)


def merge_json(base: Any, ours: Any, theirs: Any) -> Any:
    """The merged value, asserting nobody's value had to be kept over the other's."""
    merged = merge_values(base, ours, theirs)
    assert merged.disputes == ()
    return merged.value


BASE = "a\nb\nc\nd\ne\nf\ng\n"


def test_non_overlapping_edits_are_both_kept() -> None:
    ours = BASE.replace("b\n", "B (mine)\n")
    theirs = BASE.replace("f\n", "F (template)\n") + "h\n"
    merged = merge_text(BASE, ours, theirs)
    assert merged.clean
    assert merged.text == "a\nB (mine)\nc\nd\ne\nF (template)\ng\nh\n"


def test_overlapping_edits_become_git_style_markers() -> None:
    ours = BASE.replace("d\n", "D mine\n")
    theirs = BASE.replace("d\n", "D template\n")
    merged = merge_text(BASE, ours, theirs, ours_label="yours", theirs_label="tac-bootstrap 2")
    assert merged.conflicts == 1 and has_conflict_markers(merged.text)
    assert merged.text == (
        "a\nb\nc\n<<<<<<< yours\nD mine\n=======\nD template\n>>>>>>> tac-bootstrap 2\ne\nf\ng\n"
    )


def test_identical_changes_on_both_sides_are_clean() -> None:
    both = BASE.replace("c\n", "C\n")
    assert merge_text(BASE, both, both).text == both
    # also when the rest differs
    ours, theirs = both.replace("a\n", "A\n"), both.replace("g\n", "G\n")
    assert merge_text(BASE, ours, theirs).text == "A\nb\nC\nd\ne\nf\nG\n"


def test_conflict_is_narrowed_to_the_lines_that_differ() -> None:
    ours = BASE.replace("d\n", "same\nmine\nend\n")
    theirs = BASE.replace("d\n", "same\ntheirs\nend\n")
    text = merge_text(BASE, ours, theirs).text
    assert "c\nsame\n<<<<<<< yours\nmine\n=======\ntheirs\n>>>>>>> theirs\nend\ne\n" in text


def test_missing_final_newline_and_crlf_survive() -> None:
    base = "x\r\ny\r\nz"
    ours = "x mine\r\ny\r\nz"
    theirs = "x\r\ny\r\nz template"
    assert merge_text(base, ours, theirs).text == "x mine\r\ny\r\nz template"
    conflict = merge_text(base, "x\r\ny\r\nz mine", theirs).text
    assert conflict.endswith(
        "<<<<<<< yours\r\nz mine\r\n=======\r\nz template\r\n>>>>>>> theirs\r\n"
    )


def test_split_lines_only_splits_at_newline() -> None:
    text = "a\x0cb\u2028c\r\nd"
    assert split_lines(text) == ["a\x0cb\u2028c\r\n", "d"]
    assert "".join(split_lines(text)) == text
    assert split_lines("") == []


def test_deletion_against_edit_conflicts() -> None:
    ours = BASE.replace("d\n", "")
    theirs = BASE.replace("d\n", "D\n")
    merged = merge_text(BASE, ours, theirs)
    assert merged.conflicts == 1
    assert "<<<<<<< yours\n=======\nD\n>>>>>>> theirs\n" in merged.text


# --- JSON ---------------------------------------------------------------------------------------

SETTINGS_BASE: dict[str, Any] = {
    "$schema": "s",
    "permissions": {"allow": ["Bash(git status:*)", "Bash(uv run pytest:*)"], "deny": ["X"]},
    "hooks": {"PreToolUse": [{"matcher": "*", "hooks": [{"type": "command", "command": "a"}]}]},
}


def test_json_user_permission_and_template_hook_both_survive() -> None:
    ours = json.loads(json.dumps(SETTINGS_BASE))
    ours["permissions"]["allow"].append("Bash(make test:*)")
    theirs = json.loads(json.dumps(SETTINGS_BASE))
    theirs["permissions"]["allow"].append("Bash(git log:*)")
    theirs["hooks"]["Stop"] = [{"hooks": [{"type": "command", "command": "s"}]}]
    merged = merge_json(SETTINGS_BASE, ours, theirs)
    assert merged["permissions"]["allow"] == [
        "Bash(git status:*)",
        "Bash(uv run pytest:*)",
        "Bash(make test:*)",
        "Bash(git log:*)",
    ]
    assert list(merged["hooks"]) == ["PreToolUse", "Stop"]
    assert list(merged) == ["$schema", "permissions", "hooks"]


def test_json_keys_added_by_theirs_follow_their_predecessor() -> None:
    base = {"a": 1, "c": 3}
    ours = {"a": 1, "c": 3, "mine": 0}
    theirs = {"a": 1, "b": 2, "c": 3}
    assert list(merge_json(base, ours, theirs)) == ["a", "b", "c", "mine"]
    assert list(merge_json(base, ours, {"first": 0, **theirs})) == ["first", "a", "b", "c", "mine"]


def test_json_same_key_changed_differently_keeps_yours_and_names_the_path() -> None:
    # Was a JsonConflict exception: the settings merge now keeps the user's value and reports it.
    merged = merge_values(
        {"hooks": {"PreToolUse": 1}}, {"hooks": {"PreToolUse": 2}}, {"hooks": {"PreToolUse": 3}}
    )
    assert merged.value == {"hooks": {"PreToolUse": 2}}
    assert [(d.path, d.user, d.template) for d in merged.disputes] == [
        ("hooks.PreToolUse", "2", "3")
    ]


def test_json_element_edited_on_both_sides_merges_inside() -> None:
    base = [{"matcher": "*", "timeout": 60}]
    ours = [{"matcher": "Bash", "timeout": 60}]
    theirs = [{"matcher": "*", "timeout": 30}]
    assert merge_json(base, ours, theirs) == [{"matcher": "Bash", "timeout": 30}]


def test_json_removed_key_on_one_side_goes_away() -> None:
    assert merge_json({"a": 1, "b": 2}, {"a": 1}, {"a": 1, "b": 2, "c": 3}) == {"a": 1, "c": 3}


# --- properties ---------------------------------------------------------------------------------

small_lines = st.lists(st.sampled_from(["a\n", "b\n", "c\n", "\n", "}\n", "d"]), max_size=12)


@given(small_lines, small_lines, small_lines)
@settings(max_examples=300, deadline=None)
def test_chunks_partition_all_three_sequences(b: list[str], o: list[str], t: list[str]) -> None:
    chunks = diff3_chunks(b, o, t)
    assert [x for c in chunks for x in c.base] == b
    assert [x for c in chunks for x in c.ours] == o
    assert [x for c in chunks for x in c.theirs] == t
    for c in chunks:
        assert not c.stable or c.base == c.ours == c.theirs


@given(small_lines, small_lines)
@settings(max_examples=200, deadline=None)
def test_one_sided_changes_win(b: list[str], x: list[str]) -> None:
    assert merge_lines(b, b, x) == (x, 0)
    assert merge_lines(b, x, b) == (x, 0)
    assert merge_lines(b, x, x) == (x, 0)


@given(small_lines, small_lines, small_lines)
@settings(max_examples=300, deadline=None)
def test_merge_is_symmetric_when_clean(b: list[str], o: list[str], t: list[str]) -> None:
    one, n1 = merge_lines(b, o, t)
    two, n2 = merge_lines(b, t, o)
    assert n1 == n2
    if n1 == 0:
        assert one == two


@st.composite
def disjoint_edits(draw: st.DrawFn) -> tuple[list[str], list[str], list[str], list[str]]:
    """A base of distinct lines and two edits of it with at least one untouched line between."""
    n = draw(st.integers(3, 30))
    base = [f"line {i}\n" for i in range(n)]
    i1 = draw(st.integers(0, n - 2))
    j1 = draw(st.integers(i1, min(i1 + 3, n - 2)))  # ours replaces base[i1:j1]
    i2 = draw(st.integers(j1 + 1, n))  # at least base[j1] untouched between
    j2 = draw(st.integers(i2, min(i2 + 3, n)))
    new1 = [f"mine {k}\n" for k in range(draw(st.integers(0 if j1 > i1 else 1, 3)))]
    new2 = [f"template {k}\n" for k in range(draw(st.integers(0 if j2 > i2 else 1, 3)))]
    ours = base[:i1] + new1 + base[j1:]
    theirs = base[:i2] + new2 + base[j2:]
    expected = base[:i1] + new1 + base[j1:i2] + new2 + base[j2:]
    return base, ours, theirs, expected


@given(disjoint_edits())
@settings(max_examples=400, deadline=None)
def test_disjoint_edits_merge_cleanly(case: tuple[list[str], ...]) -> None:
    base, ours, theirs, expected = case
    assert merge_lines(base, ours, theirs) == (expected, 0)
    assert merge_lines(base, theirs, ours) == (expected, 0)


@given(st.integers(1, 20), st.data())
@settings(max_examples=200, deadline=None)
def test_same_line_changed_differently_conflicts_and_keeps_both(
    n: int, data: st.DataObject
) -> None:
    base = [f"line {i}\n" for i in range(n)]
    i = data.draw(st.integers(0, n - 1))
    ours = [*base[:i], "mine\n", *base[i + 1 :]]
    theirs = [*base[:i], "template\n", *base[i + 1 :]]
    lines, conflicts = merge_lines(base, ours, theirs)
    assert conflicts == 1
    assert lines == [
        *base[:i],
        "<<<<<<< yours\n",
        "mine\n",
        "=======\n",
        "template\n",
        ">>>>>>> theirs\n",
        *base[i + 1 :],
    ]


json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.sampled_from(["x", "y"]))
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.sampled_from("abcde"), inner, max_size=4)
    ),
    max_leaves=12,
)


@given(json_values, json_values)
@settings(max_examples=300, deadline=None)
def test_json_one_sided_changes_win(b: Any, x: Any) -> None:
    assert merge_json(b, b, x) == x
    assert merge_json(b, x, b) == x


@given(
    st.dictionaries(st.sampled_from("abcdefgh"), json_values, max_size=8),
    st.dictionaries(st.sampled_from("abcd"), json_values, max_size=4),
    st.dictionaries(st.sampled_from("efgh"), json_values, max_size=4),
)
@settings(max_examples=300, deadline=None)
def test_json_edits_to_different_keys_both_apply(
    base: dict[str, Any], mine: dict[str, Any], template: dict[str, Any]
) -> None:
    ours, theirs = {**base, **mine}, {**base, **template}
    assert merge_json(base, ours, theirs) == {**base, **mine, **template}


def test_union_of_insertions_when_asked() -> None:
    ours, theirs = BASE + "mine\n", BASE + "template\n"
    assert merge_text(BASE, ours, theirs).conflicts == 1
    assert merge_text(BASE, ours, theirs, union_insertions=True).text == BASE + "mine\ntemplate\n"
