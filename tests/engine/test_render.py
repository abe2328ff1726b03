"""The render engine's conventions, on small template trees of our own."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
import pytest

from tac_bootstrap_cli.config import ProjectConfig, ProjectInfo
from tac_bootstrap_cli.errors import TemplateRenderError, UnsafePathError
from tac_bootstrap_cli.render import BASE_MODULES, engine, render_project
from tac_bootstrap_cli.render.codecache import CACHE_FILE

REPO = Path(__file__).resolve().parent.parent.parent


def context(**project: Any) -> dict[str, Any]:
    return ProjectConfig(project=ProjectInfo(name="demo", **project)).template_context()


def render(root: Path, **kw: Any) -> dict[str, bytes]:
    files = render_project(context(**kw), templates_dir=root, base_modules=False)
    return {path: f.content for path, f in files.items()}


def test_j2_rendered_other_files_copied(tree: Callable[..., Path]) -> None:
    root = tree(
        {
            "a.txt.j2": "name={{ project.name }}\n",
            "raw.txt": "{{ not rendered }}\n",
            "plain.md.j2": "no jinja here\n",
        }
    )
    assert render(root) == {
        "a.txt": b"name=demo\n",
        "raw.txt": b"{{ not rendered }}\n",
        "plain.md": b"no jinja here\n",
    }


def test_templated_names_and_conditional_files(tree: Callable[..., Path]) -> None:
    root = tree(
        {
            "{{ project.slug }}": {"__init__.py": ""},
            "{% if project.framework == 'fastapi' %}api{% endif %}": {"main.py": "x"},
        }
    )
    assert set(render(root)) == {"demo/__init__.py"}
    assert set(render(root, framework="fastapi")) == {"demo/__init__.py", "api/main.py"}


def test_executable_bit_is_kept(tree: Callable[..., Path]) -> None:
    root = tree({"hook.py": "#!/usr/bin/env python3\n", "lib.py": ""})
    (root / "hook.py").chmod(0o755)
    files = render_project(context(), templates_dir=root, base_modules=False)
    assert files["hook.py"].executable and not files["lib.py"].executable


def test_unknown_variable_is_an_error_with_file_and_line(tree: Callable[..., Path]) -> None:
    root = tree({"x.md.j2": "line one\n{{ project.nme }}\n"})
    with pytest.raises(TemplateRenderError, match=r"x\.md\.j2:2"):
        render(root)


def test_template_cannot_render_a_path_outside(tree: Callable[..., Path]) -> None:
    root = tree({"{{ '..' }}": {"escape.txt": "x"}})
    with pytest.raises(UnsafePathError):
        render(root)


def test_tool_caches_in_templates_are_ignored(tree: Callable[..., Path]) -> None:
    root = tree({"a.txt": "a", ".ruff_cache": {"x": b"\x8f"}, "__pycache__": {"m.pyc": b"\0"}})
    assert set(render(root)) == {"a.txt"}


def test_escaping_filters(tree: Callable[..., Path]) -> None:
    root = tree(
        {
            "x.json.j2": '{"name": {{ project.name | tojson }}}\n',
            "x.sh.j2": "echo {{ project.name | shquote }}\n",
            "x.py.j2": "NAME = {{ project.name | pyrepr }}\n",
            "x.yml.j2": "name: {{ project.name | yaml }}\n",
        }
    )
    name = 'a "q" \\ $HOME é'
    files = render_project(
        ProjectConfig(project=ProjectInfo(name=name)).template_context(),
        templates_dir=root,
        base_modules=False,
    )
    import json

    import yaml

    assert json.loads(files["x.json"].content)["name"] == name
    assert yaml.safe_load(files["x.yml"].content)["name"] == name
    scope: dict[str, Any] = {}
    exec(files["x.py"].content, scope)  # our own rendered test file
    assert scope["NAME"] == name


def test_compiled_templates_are_cached_not_recompiled(
    tree: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TAC_BOOTSTRAP_CACHE_DIR", str(tmp_path / "cache"))
    root = tree({"a.txt.j2": "{{ project.name }}", "b.txt.j2": "{% if true %}b{% endif %}"})
    new_process()
    assert render(root) == {"a.txt": b"demo", "b.txt": b"b"}
    assert (tmp_path / "cache" / CACHE_FILE).is_file(), "no compiled template was stored"

    def no_compile(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("template compiled again")

    new_process()  # only the disk cache remains
    with monkeypatch.context() as m:
        m.setattr(jinja2.Environment, "compile", no_compile)
        assert render(root) == {"a.txt": b"demo", "b.txt": b"b"}
    # An edited template is compiled again; a damaged cache file only costs speed.
    (root / "a.txt.j2").write_text("{{ project.name }}!")
    (tmp_path / "cache" / CACHE_FILE).write_bytes(b"\x00garbage")
    new_process()
    assert render(root) == {"a.txt": b"demo!", "b.txt": b"b"}


def test_file_names_with_expressions_are_cached_too(
    tree: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A path like ``src/{{ project.name }}/x.py`` is a template too: compiled once, like the
    contents (``init`` renders ~16 such names for the application skeleton)."""
    monkeypatch.setenv("TAC_BOOTSTRAP_CACHE_DIR", str(tmp_path / "cache"))
    root = tree({"{{ project.name }}": {"m-{{ project.name }}.txt": "plain"}})
    new_process()
    assert render(root) == {"demo/m-demo.txt": b"plain"}

    def no_compile(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("file name compiled again")

    new_process()
    with monkeypatch.context() as m:
        m.setattr(jinja2.Environment, "compile", no_compile)
        assert render(root) == {"demo/m-demo.txt": b"plain"}


def new_process() -> None:
    """Forget the in-memory caches, as a new process would."""
    engine._environment.cache_clear()
    engine._code_cache.cache_clear()


def test_unwritable_cache_only_costs_speed(
    tree: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("TAC_BOOTSTRAP_CACHE_DIR", str(blocker / "cache"))
    new_process()
    assert render(tree({"a.txt.j2": "{{ project.name }}"})) == {"a.txt": b"demo"}


def test_base_modules_are_byte_identical_to_the_adws_package() -> None:
    files = render_project(context(), templates_dir=REPO / "templates")
    for rel in BASE_MODULES:
        assert files[rel].content == engine.base_module_source(rel).read_bytes(), rel
        assert not files[rel].executable


def test_templates_do_not_ship_their_own_copy_of_a_base_module() -> None:
    """One source: the base modules come from adws/, never from a second copy in templates/."""
    shipped = {
        p.relative_to(REPO / "templates").as_posix().removesuffix(".j2")
        for p in (REPO / "templates").rglob("*")
        if p.is_file()
    }
    assert shipped.isdisjoint(BASE_MODULES)


def test_missing_base_module_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "adws" / "adw_modules").mkdir(parents=True)
    monkeypatch.setattr(engine, "_adws_root", lambda: tmp_path)
    with pytest.raises(TemplateRenderError, match=r"base module .* is missing"):
        engine.base_module_files()


def test_real_templates_render_for_every_stack() -> None:
    from tac_bootstrap_cli.stacks import FRAMEWORKS, LANGUAGES

    for language, managers in LANGUAGES.items():
        for framework in FRAMEWORKS[language]:
            for pm in managers:
                files = render_project(
                    context(language=language, framework=framework, package_manager=pm),
                    templates_dir=REPO / "templates",
                )
                assert files, (language, framework, pm)
                hooks = [f for p, f in files.items() if p.startswith(".claude/hooks/")]
                assert all(stat.S_IMODE(f.mode) in (0o644, 0o755) for f in hooks)
