"""Managed blocks: the part of a user's file (``.gitignore``, ``README.md``) that tac-bootstrap owns.

The template's content goes between a start and an end marker line; everything outside the
markers belongs to the user and is never changed.
"""

from __future__ import annotations

from dataclasses import dataclass

# Output path (at the project root) -> (start marker, end marker).
MANAGED_FILES: dict[str, tuple[str, str]] = {
    ".gitignore": ("# >>> tac-bootstrap >>>", "# <<< tac-bootstrap <<<"),
    "README.md": ("<!-- >>> tac-bootstrap >>> -->", "<!-- <<< tac-bootstrap <<< -->"),
}


class BrokenMarkers(ValueError):
    """The file has a start marker without an end marker (or the reverse, or several blocks)."""


@dataclass(frozen=True)
class Found:
    """Where the block sits in a text: ``before`` + block lines + ``after``; ``body`` is inside."""

    before: str
    body: str
    after: str


def _body(content: str) -> str:
    """Block body as stored: LF line ends, ending with exactly one newline (or empty)."""
    content = content.replace("\r\n", "\n").rstrip("\n")
    return content + "\n" if content else ""


def find_block(text: str, markers: tuple[str, str]) -> Found | None:
    """Locate the managed block in ``text``; None if absent; ``BrokenMarkers`` if malformed."""
    start, end = markers
    # Split on "\n" only: str.splitlines also breaks at \x1c-\x1e, \x85, \u2028... which
    # would let a user's line be cut in two and rewritten.
    lines = text.split("\n")
    lines = [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
    starts = [i for i, line in enumerate(lines) if line.strip() == start]
    ends = [i for i, line in enumerate(lines) if line.strip() == end]
    if not starts and not ends:
        return None
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        raise BrokenMarkers(
            f"expected one {start!r} line followed by one {end!r} line,"
            f" found {len(starts)} start and {len(ends)} end markers"
        )
    s, e = starts[0], ends[0]
    body = "".join(line.removesuffix("\n").removesuffix("\r") + "\n" for line in lines[s + 1 : e])
    return Found("".join(lines[:s]), body, "".join(lines[e + 1 :]))


def render_block(body: str, markers: tuple[str, str]) -> str:
    """The block as written: start marker, body, end marker, each on its own line."""
    start, end = markers
    return f"{start}\n{_body(body)}{end}\n"


def _line_end(text: str) -> str:
    """The line ending ``text`` mostly uses: CRLF (a file from Windows) or LF."""
    crlf = text.count("\r\n")
    return "\r\n" if crlf and crlf >= text.count("\n") - crlf else "\n"


def merge_block(existing: str | None, body: str, markers: tuple[str, str]) -> str:
    """``existing`` with its block replaced by ``body`` (or the block appended); new text if None.

    The block takes the file's line ending, so a CRLF file stays CRLF throughout.
    """
    block = render_block(body, markers)
    if existing is None or existing == "":
        return block
    eol = _line_end(existing)
    block = block.replace("\n", eol)
    found = find_block(existing, markers)
    if found is not None:
        return found.before + block + found.after
    sep = "" if existing.endswith("\n") else eol
    return existing + sep + eol + block


def block_body(body: str) -> str:
    """The normalized body that ``render_block`` writes; what the manifest hashes."""
    return _body(body)
