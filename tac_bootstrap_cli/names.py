"""Project names: what a user may type, and the identifier (slug) derived from it.

The slug is the one name every ecosystem gets, in its own spelling (the application templates
spell it): the Python import package and distribution name (``my_app``), the npm package name
(``my-app``), the Cargo package and the Go module (``my_app``). So it keeps to what all of them
accept: ASCII ``[a-z][a-z0-9_]*`` of at most 64 characters, without ``__`` or a trailing ``_``,
and none of the names one of them refuses or shadows (keywords, standard library modules,
Windows device names, the skeleton's own dependencies).
"""

from __future__ import annotations

import keyword
import os
import re
import sys
import unicodedata

from tac_bootstrap_cli.errors import UsageError

MAX_NAME_LENGTH = 100
# File systems cap a name at 255 bytes; ``init`` builds the project in a sibling folder named
# ``.<name>.tac-bootstrap-staging-<pid>-<random>``, which needs at most 42 bytes more than the name
# (a pid has at most 7 digits on Linux, 10 anywhere: 45).
MAX_NAME_BYTES = 200
# crates.io's limit, the shortest of the ecosystems' (npm: 214; Python, Go: none).
MAX_SLUG_LENGTH = 64
# What a slug falls back to when no letter or digit of the name is ASCII (``数据``), is put in
# front of one starting with a digit (``123 go`` -> ``app_123_go``), and after a reserved one.
FALLBACK = "app"
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
# Latin letters NFKD leaves whole (no combining mark to drop): their usual ASCII spelling.
_LATIN = str.maketrans(
    {"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ð": "d", "ħ": "h", "ı": "i", "ł": "l",
     "ŋ": "n", "þ": "th", "ŧ": "t", "ĸ": "k", "ſ": "s", "ƒ": "f"}
)  # fmt: skip


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


RUST_KEYWORDS = _words(
    "abstract as async await become box break const continue crate do dyn else enum extern false"
    " final fn for gen if impl in let loop macro match mod move mut override priv pub ref return"
    " self static struct super trait true try type typeof unsafe unsized use virtual where while"
    " yield"
)
# `cargo new` refuses ``test`` (Rust's test crate) and these bin names clash with its build folders;
# it warns about the standard library's crates.
CARGO_RESERVED = _words("test build deps examples incremental std core alloc proc_macro")
# Windows device names: Go refuses them as module path elements, cargo warns.
WINDOWS_DEVICES = frozenset(
    ["con", "prn", "aux", "nul"] + [f"{d}{i}" for d in ("com", "lpt") for i in range(10)]
)
# A Go module named like a top-level standard package makes its imports ambiguous ("fmt"); these
# and go's package patterns (``std``, ``all``...) and ``main`` (not importable) fail to build/test.
GO_RESERVED = _words(
    "archive bufio builtin bytes cmp compress container context crypto database debug embed"
    " encoding errors expvar flag fmt go hash html image index internal io iter log maps math mime"
    " net os path plugin reflect regexp runtime slices sort strconv strings structs sync syscall"
    " testing text time unicode unique unsafe vendor weak main std cmd all tool"
)
# Node's built-in modules (npm does not take them for a new package) and npm's own names.
NODE_RESERVED = _words(
    "assert async_hooks buffer child_process cluster console constants crypto dgram"
    " diagnostics_channel dns domain events fs http http2 https inspector module net os path"
    " perf_hooks process punycode querystring readline repl stream string_decoder sys timers tls"
    " trace_events tty url util v8 vm wasi worker_threads zlib node_modules favicon_ico"
)
# A project named like its standard library's module runs that module (``python -m random``).
PYTHON_RESERVED = frozenset(
    {n.lower() for n in sys.stdlib_module_names} | {"annotationlib", "compression"}
)
# The skeletons' own dependencies: a package may not depend on itself (npm, uv, poetry refuse).
SKELETON_DEPENDENCIES = _words(
    "pytest ruff pluggy iniconfig packaging pygments hatchling poetry_core typescript undici_types"
    # uv refuses a project named like any package it resolves, direct or not: the frameworks'.
    " fastapi uvicorn starlette pydantic pydantic_core anyio idna h11 click httpx2 httpcore2"
    " truststore annotated_types annotated_doc typing_extensions typing_inspection"
    " opentelemetry_api flask werkzeug jinja2 markupsafe itsdangerous blinker django asgiref"
    " sqlparse pytest_django"
)
RESERVED = (
    frozenset(keyword.kwlist)
    | RUST_KEYWORDS
    | CARGO_RESERVED
    | WINDOWS_DEVICES
    | GO_RESERVED
    | NODE_RESERVED
    | PYTHON_RESERVED
    | SKELETON_DEPENDENCIES
)


def ascii_words(name: str) -> str:
    """``name`` in lower-case ASCII letters and digits, runs of anything else as one ``_``: NFKD,
    combining marks dropped (``é`` -> ``e``), a few whole Latin letters spelled out (``ß`` -> ``ss``),
    other scripts dropped."""
    text = unicodedata.normalize("NFKD", name).lower().translate(_LATIN)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _NOT_ALNUM.sub("_", text).strip("_")


def _cut(text: str) -> str:
    return text[:MAX_SLUG_LENGTH].rstrip("_")


def slugify(name: str) -> str:
    """The one package name every ecosystem gets for a project name (see the module docstring):
    never empty, whatever the name (``Café Ünïcode`` -> ``cafe_unicode``, ``123 go`` ->
    ``app_123_go``, ``my.app`` -> ``my_app``, ``数据`` -> ``app``, ``class`` -> ``class_app``)."""
    slug = _cut(ascii_words(name)) or FALLBACK
    if slug[0].isdigit():
        slug = _cut(f"{FALLBACK}_{slug}")
    if slug in RESERVED:
        slug = f"{slug}_{FALLBACK}"
    return slug


def validate_project_name(name: str) -> str:
    """Return the slug of ``name``, or raise ``UsageError`` saying what is wrong and what to do
    (a name the file system or the staging folder cannot take; any other name has a slug)."""
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
    return slugify(name)
