"""Imports go one way: every module of ``tac_bootstrap_cli`` sits in one layer of ``LAYERS`` and
imports only from the layers ``MAY_IMPORT`` lists for it.

The modules are found by ``pkgutil.walk_packages`` and their imports read from the source (``ast``),
so a local import or one under ``TYPE_CHECKING`` counts like any other: the direction is the
design, whenever the import runs. A new module must be given a layer here.
"""

from __future__ import annotations

import ast
import importlib.util
import pkgutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

import tac_bootstrap_cli

PACKAGE = "tac_bootstrap_cli"

# Layer -> the modules in it, by dotted name under the package ("modelgen" is the package and all
# of its modules; "" is the package's own __init__, which holds only __version__).
LAYERS: dict[str, tuple[str, ...]] = {
    # The console script: --help and --version from a precomputed text, else the app.
    "entry": ("__main__", "cli", "_helptext"),
    # The front end: Typer commands, Rich output; the only users of typer, click and rich.
    "frontend": ("commands", "ui"),
    # One user-visible operation each, a plain function a library user can call.
    "operations": (
        "operation",
        "scaffold",
        "upgrade",
        "doctor",
        "claude_facts",  # re-exports doctor.claude
        "modelgen",
        "observe",
    ),
    # The stages operations are made of: answers, render, plan, apply, history, team templates.
    "stages": (
        "answers",
        "layer",
        "render",
        "plan",
        "apply",
        "overlay",
        "overlay_meta",
        "trust",
        "history",
        "upgrade_plan",
        "journal",
        "uptodate",
    ),
    # What the stages build on: settings and YAML formats, merges, detection, the project's records.
    "core": (
        "config",
        "validation",
        "detect",
        "merge",
        "jsonmerge",
        "blocks",
        "yamlread",
        "yamlwrite",
        "projectstate",
        "gitutil",
        "projectdb",
        "locations",
        "leftovers",
    ),
    # Imported by everything, importing nothing above.
    "foundation": ("", "errors", "names", "stacks"),
    # Every project's adws/ Python, copied byte for byte: it never imports the generator.
    "base": ("_adws",),
}

MAY_IMPORT: dict[str, frozenset[str]] = {
    "entry": frozenset({"entry", "frontend", "foundation"}),
    "frontend": frozenset({"frontend", "operations", "stages", "core", "foundation"}),
    "operations": frozenset({"operations", "stages", "core", "foundation", "base"}),
    "stages": frozenset({"stages", "core", "foundation", "base"}),
    "core": frozenset({"core", "foundation", "base"}),
    "foundation": frozenset({"foundation"}),
    "base": frozenset({"base"}),
}

OBSERVATORY = "_adws.adw_modules.observatory"
# Third-party package -> the only modules that may import it.
ONLY_IN: dict[str, tuple[str, ...]] = {
    "typer": LAYERS["frontend"],
    "click": LAYERS["frontend"],
    "rich": LAYERS["frontend"],
    # Pydantic only where a project needs it: team templates' metadata, generated models and the
    # shipped layer. Commands that only read and write config.yml never load it (~70 ms).
    "pydantic": ("overlay", "overlay_meta", "modelgen", "_adws"),
    # The observatory's web stack stays inside the observatory (served by ``observe``).
    "starlette": (OBSERVATORY,),
    "uvicorn": (OBSERVATORY,),
}
# Generator module -> the only modules outside it that may import it.
ONLY_FROM: dict[str, tuple[str, ...]] = {
    OBSERVATORY: ("observe",),
}


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    """True when module ``name`` is one of ``prefixes`` or inside one of them."""
    return any(name == p or (p and name.startswith(p + ".")) for p in prefixes)


@cache
def modules() -> dict[str, Path]:
    """Every module of the package (dotted name under it -> source file), packages included."""
    found = {"": Path(tac_bootstrap_cli.__file__)}
    for info in pkgutil.walk_packages(tac_bootstrap_cli.__path__, PACKAGE + "."):
        spec = importlib.util.find_spec(info.name)
        assert spec is not None and spec.origin is not None, info.name
        found[info.name.removeprefix(PACKAGE + ".")] = Path(spec.origin)
    return found


def layer_of(name: str) -> str:
    """The layer whose prefix matches ``name`` longest."""
    matches = [(len(p), layer) for layer, ps in LAYERS.items() for p in ps if _within(name, (p,))]
    assert matches, f"{PACKAGE}.{name} is in no layer: add it to LAYERS in {__file__}"
    return max(matches)[1]


def _internal(dotted: str) -> str | None:
    """``tac_bootstrap_cli.x.y`` -> the module ``x.y`` (or its closest walked parent)."""
    if dotted != PACKAGE and not dotted.startswith(PACKAGE + "."):
        return None
    name = dotted.removeprefix(PACKAGE).removeprefix(".")
    while name not in modules():
        name = name.rpartition(".")[0]
    return name


@cache
def imports(name: str) -> tuple[frozenset[str], frozenset[str]]:
    """(modules of the package, top-level third-party names) that module ``name`` imports."""
    path = modules()[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    inside: set[str] = set()
    outside: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = f"{PACKAGE}.{package}" if package else PACKAGE
                for _ in range(node.level - 1):
                    base = base.rpartition(".")[0]
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module or ""
            # ``from pkg import sub`` imports the submodule; ``from pkg import name``, the package.
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                is_module = _internal(sub) == sub.removeprefix(PACKAGE + ".")
                targets.append(sub if is_module else source)
        for target in targets:
            module = _internal(target)
            if module is None:
                outside.add(target.partition(".")[0])
            elif module != name:
                inside.add(module)
    return frozenset(inside), frozenset(outside)


def test_every_module_is_found_and_has_a_layer() -> None:
    assert {
        "cli",
        "commands",
        "plan",
        "errors",
        "modelgen.spec",
        "_adws.adw_modules.adw_sqlite",
    } <= set(modules())
    for name in modules():
        layer_of(name)


def test_imports_go_only_where_the_table_allows() -> None:
    wrong = []
    for name in sorted(modules()):
        layer = layer_of(name)
        for target in sorted(imports(name)[0]):
            if layer_of(target) not in MAY_IMPORT[layer]:
                wrong.append(f"{name} ({layer}) imports {target} ({layer_of(target)})")
    assert wrong == []


@pytest.mark.parametrize("package", sorted(ONLY_IN))
def test_third_party_package_is_imported_only_where_it_belongs(package: str) -> None:
    users = sorted(name for name in modules() if package in imports(name)[1])
    assert [u for u in users if not _within(u, ONLY_IN[package])] == []


@pytest.mark.parametrize("module", sorted(ONLY_FROM))
def test_module_is_imported_only_from_its_users(module: str) -> None:
    users = sorted(
        name
        for name in modules()
        if not _within(name, (module,)) and any(_within(t, (module,)) for t in imports(name)[0])
    )
    assert [u for u in users if not _within(u, ONLY_FROM[module])] == []


def test_the_module_graph_has_no_cycle() -> None:
    """No two modules import each other, even through others (a package and its own modules
    aside: an ``__init__`` re-exports what its modules define)."""
    graph = {
        name: {t for t in imports(name)[0] if not _within(t, (name,)) and not _within(name, (t,))}
        for name in modules()
    }
    done: set[str] = set()
    for root in sorted(graph):
        path: list[str] = []
        stack = [(root, iter(sorted(graph[root])))]
        on_path = {root}
        path.append(root)
        while stack:
            node, pending = stack[-1]
            nxt = next(pending, None)
            if nxt is None:
                stack.pop()
                on_path.discard(path.pop())
                done.add(node)
                continue
            assert nxt not in on_path, " -> ".join([*path[path.index(nxt) :], nxt])
            if nxt not in done:
                stack.append((nxt, iter(sorted(graph[nxt]))))
                on_path.add(nxt)
                path.append(nxt)


def test_modules_below_the_front_end_load_neither_typer_nor_rich() -> None:
    """At run time too: importing every module outside the front end loads no CLI library."""
    below = [n for n in sorted(modules()) if layer_of(n) not in ("entry", "frontend")]
    code = (
        "import importlib, sys\n"
        f"for name in {below!r}:\n"
        f"    importlib.import_module(({PACKAGE!r} + '.' + name).rstrip('.'))\n"
        "print([m for m in ('typer', 'click', 'rich') if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_library_use_without_cli(tmp_path: object) -> None:
    from tac_bootstrap_cli import scaffold

    result = scaffold.init_project("lib-use", Path(str(tmp_path)))
    assert result.written and (Path(str(tmp_path)) / "lib-use" / "config.yml").is_file()
