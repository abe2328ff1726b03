"""Pristine bases: recorded by every write, deterministic, carried over for files left alone."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from tac_bootstrap_cli import scaffold
from tac_bootstrap_cli.blocks import MANAGED_FILES, find_block
from tac_bootstrap_cli.errors import TacError
from tac_bootstrap_cli.projectstate import (
    BASES_PATH,
    decode_bases,
    encode_bases,
    load_bases,
    load_manifest,
    sha256,
)


def test_archive_is_deterministic_and_round_trips_text_and_binary() -> None:
    text, binary = "héllo\r\nno newline".encode(), b"\xff\x00\xfe"
    bases = {sha256(text): text, sha256(binary): binary}
    data = encode_bases(bases)
    assert data == encode_bases(dict(reversed(bases.items())))  # order does not matter
    assert data[4:8] == b"\0\0\0\0"  # gzip mtime field: no timestamp, no churn
    assert decode_bases(data) == bases


@pytest.mark.parametrize(
    "data",
    # mtime=0: the bytes are the test's id, and xdist workers must collect the same ids.
    [b"not gzip", gzip.compress(b"[]", mtime=0), gzip.compress(b'{"bases": {"00": "x"}}', mtime=0)],
    ids=["not-gzip", "not-a-mapping", "bad-entry"],
)
def test_damaged_archive_is_an_error_naming_the_file(data: bytes) -> None:
    with pytest.raises(TacError, match="unreadable bases archive"):
        decode_bases(data, "p/bases.json.gz")


def test_init_records_a_base_for_every_manifest_entry(tmp_path: Path) -> None:
    project = scaffold.init_project("demo", tmp_path).target
    manifest = load_manifest(project)
    bases = load_bases(project)
    assert manifest is not None and manifest.files
    for path, entry in manifest.files.items():
        content = (project / path).read_bytes()
        if entry.kind == "block":
            found = find_block(content.decode(), MANAGED_FILES[path])
            assert found is not None
            content = found.body.encode()
        assert bases[entry.sha256] == content, path
    assert set(bases) == {e.sha256 for e in manifest.files.values()}


def test_rerun_leaves_the_archive_alone(tmp_path: Path) -> None:
    project = scaffold.init_project("demo", tmp_path).target
    before = (project / BASES_PATH).stat().st_mtime_ns
    scaffold.render_again(project)
    scaffold.add_agentic(project)
    assert (project / BASES_PATH).stat().st_mtime_ns == before


def test_an_edited_file_keeps_the_base_it_was_generated_from(tmp_path: Path) -> None:
    project = scaffold.init_project("demo", tmp_path).target
    rel = ".claude/commands/test.md"
    generated = (project / rel).read_bytes()
    (project / rel).write_bytes(generated + b"\nmine\n")
    config = project / "config.yml"
    config.write_text(config.read_text().replace("uv run pytest", "uv run pytest -x"))
    result = scaffold.render_again(project)
    assert {fa.path: fa.action.value for fa in result.plan.actions}[rel] == "keep-user-edit"
    manifest = load_manifest(project)
    assert manifest is not None
    assert load_bases(project)[manifest.files[rel].sha256] == generated
    # a file the new answers did change is recorded with its new content
    settings = ".claude/settings.json"
    assert load_bases(project)[manifest.files[settings].sha256] == (project / settings).read_bytes()


def test_a_damaged_archive_does_not_block_render(tmp_path: Path) -> None:
    project = scaffold.init_project("demo", tmp_path).target
    (project / BASES_PATH).write_bytes(b"junk")
    scaffold.render_again(project)
    assert load_bases(project)  # rewritten from this run's output


def test_format_1_manifest_is_read_and_format_2_round_trips() -> None:
    from tac_bootstrap_cli.projectstate import Entry, Manifest, parse_manifest

    old = parse_manifest('{"format": 1, "template_version": "0.0.1", "files": {}}')
    assert old.overlay_version is None and old.template_version == "0.0.1"
    m = Manifest("0.2.0", "t", {"a": Entry("ab")}, overlay_version="2.0")
    assert parse_manifest(m.to_json()) == m
    assert not m.same_content(Manifest("0.2.0", "t", {"a": Entry("ab")}))
