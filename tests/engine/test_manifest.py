"""The manifest round-trips and refuses what it cannot trust."""

from __future__ import annotations

from pathlib import Path

import pytest

from tac_bootstrap_cli.errors import TacError
from tac_bootstrap_cli.projectstate import (
    MANIFEST_PATH,
    Entry,
    Manifest,
    load_manifest,
    parse_manifest,
    sha256,
)


def test_round_trip(tmp_path: Path) -> None:
    m = Manifest(
        "1.2.3",
        "2026-01-01T00:00:00+00:00",
        {"b": Entry(sha256(b"b"), "block"), "a": Entry("0" * 64)},
    )
    (tmp_path / MANIFEST_PATH).parent.mkdir()
    (tmp_path / MANIFEST_PATH).write_text(m.to_json())
    loaded = load_manifest(tmp_path)
    assert loaded == m
    assert m.to_json().index('"a"') < m.to_json().index('"b"')  # sorted: stable diffs


def test_absent_manifest_is_none(tmp_path: Path) -> None:
    assert load_manifest(tmp_path) is None


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"files": []}',
        '{"format": 99, "files": {}}',
        '{"files": {"a": {"kind": "x", "sha256": "0"}}}',
    ],
)
def test_damaged_manifest_names_the_file(text: str) -> None:
    with pytest.raises(TacError, match=r"manifest\.json: unreadable manifest"):
        parse_manifest(text)


def test_same_content_ignores_the_timestamp() -> None:
    a = Manifest("1", "t1", {"x": Entry("h")})
    assert a.same_content(Manifest("1", "t2", {"x": Entry("h")}))
    assert not a.same_content(Manifest("2", "t1", {"x": Entry("h")}))
