"""Project names: what a user may type, and the identifier (slug) derived from it."""

from __future__ import annotations

import keyword
import os
import re
import unicodedata

from tac_bootstrap_cli.errors import UsageError

MAX_NAME_LENGTH = 100
# File systems cap a name at 255 bytes; ``init`` builds the project in a sibling folder named
# ``.<name>.tac-bootstrap-staging-<pid>-<random>``, which needs at most 42 bytes more than the name
# (a pid has at most 7 digits on Linux, 10 anywhere: 45).
MAX_NAME_BYTES = 200
_NON_WORD = re.compile(r"[^\w]+")


def slugify(name: str) -> str:
    """The Python package name for a project name: NFKC, lower case, runs of non-word chars -> ``_``."""
    text = unicodedata.normalize("NFKC", name).lower()
    return _NON_WORD.sub("_", text).strip("_")


def validate_project_name(name: str) -> str:
    """Return the slug of ``name``, or raise ``UsageError`` saying what is wrong and what to do."""
    shown = repr(name)
    if not name or not name.strip():
        raise UsageError("project name is empty", hint="give a name such as my-app")
    if len(name) > MAX_NAME_LENGTH:
        raise UsageError(
            f"project name {shown[:40]}... is {len(name)} characters long",
            hint=f"use at most {MAX_NAME_LENGTH}",
        )
    size = len(name.encode("utf-8", "surrogatepass"))
    if size > MAX_NAME_BYTES:
        raise UsageError(
            f"project name {shown[:40]}... takes {size} bytes as a file name",
            hint=f"use at most {MAX_NAME_BYTES} bytes (non-ASCII letters take 2-4 each)",
        )
    separators = {os.sep, "/"} | ({os.altsep} if os.altsep else set())
    if any(sep in name for sep in separators) or name in (".", "..") or ".." in name:
        raise UsageError(
            f"project name {shown} contains a path separator or '..'",
            hint="use --output-dir to choose where the project goes",
        )
    if name[0] in ".-":
        raise UsageError(
            f"project name {shown} starts with {name[0]!r}", hint="start with a letter"
        )
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in name):
        raise UsageError(f"project name {shown} contains control characters")
    if name != name.strip():
        raise UsageError(f"project name {shown} has leading or trailing spaces")
    slug = slugify(name)
    if not slug or not slug.isidentifier() or slug[0].isdigit() or keyword.iskeyword(slug):
        raise UsageError(
            f"project name {shown} gives no valid Python package name (got {slug!r})",
            hint="use letters, digits, '-' or '_', starting with a letter",
        )
    return slug
