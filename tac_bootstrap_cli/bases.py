"""Compatibility: the bases archive lives in ``projectstate`` (all of ``.tac-bootstrap/``, one module)."""

from tac_bootstrap_cli.projectstate import (
    BASES_FORMAT,
    BASES_PATH,
    decode_bases,
    encode_bases,
    encode_bases_in_background,
    has_bases,
    load_bases,
    select_bases,
)

__all__ = [
    "BASES_FORMAT",
    "BASES_PATH",
    "decode_bases",
    "encode_bases",
    "encode_bases_in_background",
    "has_bases",
    "load_bases",
    "select_bases",
]
