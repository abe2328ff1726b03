"""Whatever name a user types, the skeleton's package names are ones each ecosystem takes.

The names are read from the rendered application (package.json, Cargo.toml, go.mod, pyproject.toml
and the Python package folder), not from the slug, and checked against each ecosystem's rule:
npm (validate-npm-package-name, for a new package), Cargo (ASCII package name, not a keyword),
Go (module path element), Python (PEP 508 distribution name, an identifier for the import).
"""

from __future__ import annotations

import json
import keyword
import re
import sys
import tomllib
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tac_bootstrap_cli import names
from tac_bootstrap_cli.config import ProjectConfig
from tac_bootstrap_cli.errors import UsageError
from tac_bootstrap_cli.names import slugify, validate_project_name
from tac_bootstrap_cli.render import render_app

# Letters NFKD splits (accents), letters it keeps whole (ß, ø, ı), compatibility forms (ﬁ, Ａ, ²,
# ①), scripts with no ASCII spelling (数据, Ж, ξ), digits and separators.
LATINISH = "aZ09 -_.'+~!()*ÀÉÎÕÜàéîõüçñßøæœđłþıİﬁＡ²①数据Жξ"

PEP508_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
CARGO_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
GO_ELEMENT = re.compile(r"^[A-Za-z0-9_~-]([A-Za-z0-9._~-]*[A-Za-z0-9_~-])?$")


def _valid(name: str) -> bool:
    try:
        validate_project_name(name)
    except UsageError:
        return False
    return True


project_names = st.one_of(
    st.text(min_size=1, max_size=100), st.text(alphabet=LATINISH, min_size=1, max_size=100)
).filter(_valid)


def _rendered(name: str, language: str, pm: str) -> dict[str, str]:
    config = ProjectConfig.from_data(
        {"project": {"name": name, "language": language, "package_manager": pm}}
    )
    return {
        p: f.content.decode() for p, f in render_app(config.template_context(), language).items()
    }


def check_npm(name: str) -> None:
    """validate-npm-package-name's rules for a new, unscoped package."""
    assert 0 < len(name) <= 214, name
    assert name == name.lower() and name == name.strip(), name
    assert not name.startswith((".", "_")), name
    assert not set("~'!()*") & set(name), name
    assert quote(name, safe="") == name, name  # URL-safe: encodeURIComponent leaves it alone
    assert name not in ("node_modules", "favicon.ico"), name
    assert name.replace("-", "_") not in names.NODE_RESERVED, name  # a core module's name


def check_cargo(name: str) -> None:
    assert CARGO_NAME.match(name), name
    assert name not in names.RUST_KEYWORDS and name not in names.CARGO_RESERVED, name
    assert name.lower() not in names.WINDOWS_DEVICES, name


def check_go_module(path: str) -> None:
    for element in path.split("/"):
        assert GO_ELEMENT.match(element), path
        assert element.split(".")[0].lower() not in names.WINDOWS_DEVICES, path
    assert path not in names.GO_RESERVED, path  # std's packages, `main`, go's patterns


def check_python(dist: str, package: str) -> None:
    assert PEP508_NAME.match(dist) and dist.isascii(), dist
    assert package.isidentifier() and package.isascii(), package
    assert not keyword.iskeyword(package), package
    assert package not in sys.stdlib_module_names, package


def package_names(name: str) -> dict[str, Any]:
    """Each ecosystem's name as the rendered skeleton spells it."""
    py = _rendered(name, "python", "uv")
    packages = {p.split("/")[1] for p in py if p.startswith("src/")}
    assert len(packages) == 1, sorted(py)
    return {
        "npm": [
            json.loads(_rendered(name, lang, "npm")["package.json"])["name"]
            for lang in ("javascript", "typescript")
        ],
        "cargo": tomllib.loads(_rendered(name, "rust", "cargo")["Cargo.toml"])["package"]["name"],
        "go": _rendered(name, "go", "go")["go.mod"].splitlines()[0].removeprefix("module "),
        "dist": tomllib.loads(py["pyproject.toml"])["project"]["name"],
        "package": packages.pop(),
        "test": py,
    }


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(name=project_names)
@example(name="Café Ünïcode")
@example(name="123 go")
@example(name="my.app")
@example(name="数据")
@example(name="fn")
@example(name="con")
@example(name="fmt")
@example(name="typescript")
@example(name="9" * 100)
def test_every_ecosystem_takes_the_names_the_skeleton_gets(name: str) -> None:
    found = package_names(name)
    for npm_name in found["npm"]:
        check_npm(npm_name)
    check_cargo(found["cargo"])
    check_go_module(found["go"])
    check_python(found["dist"], found["package"])
    py = found["test"]
    test_file = f"tests/test_{found['package']}.py"
    assert f"from {found['package']} import greeting" in py[test_file]
    compile(py[test_file], test_file, "exec")


@given(name=project_names)
def test_the_slug_is_stable_and_its_own_slug(name: str) -> None:
    """Same name, same slug; a slug typed as a name stays as it is (`my_app` -> `my_app`)."""
    slug = slugify(name)
    assert slug == slugify(name) == slugify(slug)
    assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", slug) and len(slug) <= 64, slug
    assert slug not in names.RESERVED


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("my-app", "my_app"),
        ("Café Ünïcode", "cafe_unicode"),
        ("Straße Øresund Łódź", "strasse_oresund_lodz"),
        ("ﬁle Ｎａｍｅ²", "file_name2"),
        ("123 go", "app_123_go"),
        ("my.app", "my_app"),
        ("数据", "app"),
        ("数据 2", "app_2"),
        ("class", "class_app"),  # Python keyword
        ("fn", "fn_app"),  # Rust keyword
        ("test", "test_app"),  # cargo refuses it
        ("fmt", "fmt_app"),  # Go's std: ambiguous import
        ("CON", "con_app"),  # Windows device: Go refuses it
        ("random", "random_app"),  # `python -m random` would run the standard library's
        ("typescript", "typescript_app"),  # the skeleton depends on it: npm refuses
    ],
)
def test_slug_examples(name: str, slug: str) -> None:
    assert slugify(name) == slug
