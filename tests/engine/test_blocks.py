"""Managed blocks: the user's text outside the markers is never changed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tac_bootstrap_cli.blocks import (
    MANAGED_FILES,
    BrokenMarkers,
    block_body,
    find_block,
    merge_block,
)

GITIGNORE = MANAGED_FILES[".gitignore"]
README = MANAGED_FILES["README.md"]


def test_new_file_is_just_the_block() -> None:
    assert merge_block(None, "agents/\n", GITIGNORE) == (
        "# >>> tac-bootstrap >>>\nagents/\n# <<< tac-bootstrap <<<\n"
    )


def test_appends_after_user_text_without_trailing_newline() -> None:
    merged = merge_block("node_modules/", "agents/", GITIGNORE)
    assert merged == "node_modules/\n\n# >>> tac-bootstrap >>>\nagents/\n# <<< tac-bootstrap <<<\n"


def test_replaces_only_the_block() -> None:
    before = "# My project\n\nIntro.\n\n"
    after = "\n## License\nMIT\n"
    old = (
        before
        + "<!-- >>> tac-bootstrap >>> -->\nold body\n<!-- <<< tac-bootstrap <<< -->\n"
        + after
    )
    merged = merge_block(old, "new body\n", README)
    assert merged.startswith(before) and merged.endswith(after)
    found = find_block(merged, README)
    assert found is not None and found.body == "new body\n"


def test_merge_is_idempotent() -> None:
    once = merge_block("user\n", "body\n", GITIGNORE)
    assert merge_block(once, "body\n", GITIGNORE) == once


@pytest.mark.parametrize("text", ["a\r\nb\r\n", "a\r\nb"])
def test_crlf_file_stays_crlf(text: str) -> None:
    merged = merge_block(text, "x\ny\n", GITIGNORE)
    assert merged.startswith(text)
    assert "\n" not in merged.replace("\r\n", "")  # no bare LF: one line ending throughout
    assert merge_block(merged, "x\ny\n", GITIGNORE) == merged
    found = find_block(merged, GITIGNORE)
    assert found is not None and found.body == "x\ny\n"  # the manifest hashes LF bodies
    replaced = merge_block(merged, "z\n", GITIGNORE)
    assert replaced.startswith(text) and "\n" not in replaced.replace("\r\n", "")


def test_mostly_lf_file_stays_lf() -> None:
    merged = merge_block("a\nb\nc\r\n", "x\n", GITIGNORE)
    assert merged.endswith("# >>> tac-bootstrap >>>\nx\n# <<< tac-bootstrap <<<\n")


@pytest.mark.parametrize(
    "text",
    [
        "# >>> tac-bootstrap >>>\nno end\n",
        "# <<< tac-bootstrap <<<\n# >>> tac-bootstrap >>>\n",
        "# >>> tac-bootstrap >>>\n# <<< tac-bootstrap <<<\n# >>> tac-bootstrap >>>\n",
    ],
)
def test_broken_markers_are_reported(text: str) -> None:
    with pytest.raises(BrokenMarkers):
        find_block(text, GITIGNORE)


_lines = st.lists(
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n")
    ).filter(lambda s: s.strip() not in GITIGNORE),
    max_size=8,
)


@given(user=_lines, body=_lines, body2=_lines)
def test_user_text_survives_any_number_of_merges(
    user: list[str], body: list[str], body2: list[str]
) -> None:
    text = "".join(line + "\n" for line in user)
    first = merge_block(text, "\n".join(body), GITIGNORE)
    second = merge_block(first, "\n".join(body2), GITIGNORE)
    assert second.startswith(text)
    found = find_block(second, GITIGNORE)
    assert found is not None
    assert found.body == block_body("\n".join(body2))
    assert found.after == ""
