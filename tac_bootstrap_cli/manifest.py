"""Compatibility: the manifest lives in ``projectstate`` (all of ``.tac-bootstrap/``, one module)."""

from tac_bootstrap_cli.projectstate import (
    MANIFEST_FORMAT,
    MANIFEST_PATH,
    STATE_DIR,
    Entry,
    Kind,
    Manifest,
    load_manifest,
    now_iso,
    parse_manifest,
    sha256,
)

__all__ = [
    "MANIFEST_FORMAT",
    "MANIFEST_PATH",
    "STATE_DIR",
    "Entry",
    "Kind",
    "Manifest",
    "load_manifest",
    "now_iso",
    "parse_manifest",
    "sha256",
]
