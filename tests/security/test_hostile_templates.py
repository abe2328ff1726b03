"""Hostile team templates: escape payloads in contents and file names, resource bombs, links.

Each case runs the CLI as a user would (in-process) and checks that the payload never ran (a
marker file is never created), nothing outside was read into the project, nothing was written,
and the command exits with its documented code (specs/security.md, "Templates are data").
"""

from __future__ import annotations

import marshal
import os
from pathlib import Path

import jinja2
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tac_bootstrap_cli.errors import EXIT_USAGE
from tac_bootstrap_cli.render import engine
from tac_bootstrap_cli.render.codecache import CACHE_FILE, CodeCache
from tac_bootstrap_cli.render.engine import UnsafeTemplateError, render_project
from tests.cli_support import Run, snapshot

MARKER = "PWNED"

# Each would create MARKER in the working folder (or dump Python internals) if it ran unsandboxed.
CONTENT_PAYLOADS = {
    "cycler-globals": "{{ cycler.__init__.__globals__.os.system('touch PWNED') }}",
    "self-globals": "{{ self.__init__.__globals__['__builtins__']['open']('PWNED', 'w') }}",
    "subclasses": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "lipsum-globals": "{{ lipsum.__globals__['os'].system('touch PWNED') }}",
    "config-class": "{{ config.__class__.__init__.__globals__['os'].system('touch PWNED') }}",
    "joiner-popen": "{{ joiner.__init__.__globals__.os.popen('touch PWNED').read() }}",
    "namespace-globals": "{{ namespace.__init__.__globals__.os.system('touch PWNED') }}",
    "attr-filter": "{{ (project|attr('__class__')).__subclasses__() }}",
    "format-string": "{{ '{0.__class__.__mro__}'.format(1) }}",
    "private-name": "{{ self._TemplateReference__context }}",
    "range-bomb": "{% for i in range(10**10) %}x{% endfor %}",
    "string-bomb": "{{ 'x' * 10**10 }}",
    "list-bomb": "{{ [0] * 10**9 }}",
    "power-bomb": "{{ 9 ** 9999999 }}",
    "lipsum-bomb": "{{ lipsum(10**6) }}",
    "recursion": "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
}

NAME_PAYLOADS = {
    "cycler-globals": "{{ cycler.__init__.__globals__.os.system('touch PWNED') }}.md",
    "lipsum-globals": "{{ lipsum.__globals__.os.system('touch PWNED') }}.md",
    "subclasses": "{{ ''.__class__.__mro__[1].__subclasses__() }}.md",
    "range-bomb": "{{ range(10**10)|list }}.md",
    "string-bomb": "{{ 'x' * 10**10 }}.md",
}


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The working folder, where a payload that ran would leave its marker."""
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def no_marker(root: Path) -> bool:
    """True when no file named MARKER exists anywhere under ``root``."""
    return not any(p.name == MARKER for p in root.rglob("*"))


@pytest.mark.parametrize("payload", CONTENT_PAYLOADS.values(), ids=CONTENT_PAYLOADS.keys())
def test_escape_payload_in_a_file_fails_naming_it_and_writes_nothing(
    cli: Run, tmp_path: Path, workdir: Path, payload: str
) -> None:
    overlay = tmp_path / "team"
    (overlay / "docs").mkdir(parents=True)
    (overlay / "docs" / "evil.md.j2").write_text(f"before\n{payload}\nafter\n")
    result = cli("init", "app", "-o", workdir, "--templates", overlay)
    assert result.exit_code == EXIT_USAGE, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: template ")
    assert str(overlay / "docs" / "evil.md.j2") + ":2" in lines[0]
    assert "unsafe" in lines[0] and "Traceback" not in result.output
    assert not (workdir / "app").exists()  # init is all or nothing
    assert no_marker(tmp_path)


@pytest.mark.parametrize("name", NAME_PAYLOADS.values(), ids=NAME_PAYLOADS.keys())
def test_escape_payload_in_a_file_name_fails_and_writes_nothing(
    cli: Run, tmp_path: Path, workdir: Path, name: str
) -> None:
    overlay = tmp_path / "team"
    overlay.mkdir()
    (overlay / name).write_text("harmless\n")
    result = cli("init", "app", "-o", workdir, "--templates", overlay)
    assert result.exit_code == EXIT_USAGE, result.output
    assert result.stderr.count("\n") == 1 and "unsafe" in result.stderr
    assert not (workdir / "app").exists()
    assert no_marker(tmp_path)


@pytest.mark.usefixtures("workdir")
def test_payload_in_a_built_in_template_is_refused_too(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "a.txt.j2").write_text(CONTENT_PAYLOADS["cycler-globals"])
    with pytest.raises(UnsafeTemplateError, match=r"template a\.txt\.j2:1: unsafe"):
        render_project({}, templates_dir=templates, base_modules=False)
    assert no_marker(tmp_path)


def test_payload_in_an_included_file_is_refused(cli: Run, tmp_path: Path, workdir: Path) -> None:
    overlay = tmp_path / "team"
    (overlay / "partials").mkdir(parents=True)
    (overlay / "partials" / "evil.txt").write_text(CONTENT_PAYLOADS["lipsum-globals"])
    (overlay / "README.extra.md.j2").write_text("{% include 'partials/evil.txt' %}\n")
    result = cli("init", "app", "-o", workdir, "--templates", overlay)
    assert result.exit_code == EXIT_USAGE and "unsafe" in result.stderr
    assert no_marker(tmp_path)


@pytest.mark.parametrize("name", ["../secret.txt", "/etc/passwd", "../team/../secret.txt"])
def test_include_reaches_only_template_files(
    cli: Run, tmp_path: Path, workdir: Path, name: str
) -> None:
    (tmp_path / "secret.txt").write_text("TOP SECRET\n")
    overlay = tmp_path / "team"
    overlay.mkdir()
    (overlay / "leak.md.j2").write_text(f"{{% include '{name}' %}}")
    result = cli("init", "app", "-o", workdir, "--templates", overlay)
    assert result.exit_code == 1, result.output  # a template bug (TemplateRenderError)
    assert "leak.md.j2:1: includes" in result.stderr and "not a file" in result.stderr
    assert "TOP SECRET" not in result.output and "root:" not in result.output
    assert not (workdir / "app").exists()


# --- links ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["file", "folder", "dangling", "inside"])
def test_a_link_in_an_overlay_is_an_error_naming_it(
    cli: Run, tmp_path: Path, workdir: Path, kind: str
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "id_rsa").write_text("PRIVATE KEY\n")
    overlay = tmp_path / "team"
    (overlay / "docs").mkdir(parents=True)
    (overlay / "docs" / "real.md").write_text("real\n")
    link = overlay / "docs" / "passwd.md"
    target = {
        "file": outside / "id_rsa",
        "folder": outside,
        "dangling": tmp_path / "nowhere",
        "inside": overlay / "docs" / "real.md",  # still a link: never followed, never read
    }[kind]
    link.symlink_to(target)
    result = cli("init", "app", "-o", workdir, "--templates", overlay)
    assert result.exit_code == EXIT_USAGE, result.output
    assert "docs/passwd.md" in result.stderr and "symbolic link" in result.stderr
    assert result.stderr.count("\n") == 1
    assert not (workdir / "app").exists()


def test_etc_passwd_link_never_reaches_a_project(cli: Run, tmp_path: Path, workdir: Path) -> None:
    assert cli("init", "app", "-o", workdir).exit_code == 0
    project = workdir / "app"
    before = snapshot(project)
    overlay = tmp_path / "team"
    (overlay / "docs").mkdir(parents=True)
    (overlay / "docs" / "passwd.md").symlink_to("/etc/passwd")
    for command in (("render",), ("render", "--dry-run"), ("upgrade",), ("add-agentic", "--yes")):
        result = cli(*command, project, "--templates", overlay)
        assert result.exit_code == EXIT_USAGE, (command, result.output)
        assert "docs/passwd.md" in result.stderr
    assert snapshot(project) == before
    assert not (project / "docs" / "passwd.md").exists()


def test_rendered_names_with_dotdot_or_absolute_stay_refused(
    cli: Run, tmp_path: Path, workdir: Path
) -> None:
    overlay = tmp_path / "team"
    overlay.mkdir()
    (overlay / "{{ '..' }}").mkdir()
    (overlay / "{{ '..' }}" / "escaped.md").write_text("x\n")
    result = cli("init", "app", "-o", workdir, "--templates", overlay)
    assert result.exit_code == 1 and "unsafe path" in result.stderr  # UnsafePathError, as before
    assert not (workdir / "escaped.md").exists() and not (workdir / "app").exists()


# --- the sandbox, property and cache -------------------------------------------------------------

GLOBALS = ["cycler", "joiner", "namespace", "lipsum", "range", "dict", "self", "project", "''"]
DUNDERS = [
    "__init__",
    "__globals__",
    "__class__",
    "__mro__",
    "__subclasses__",
    "__base__",
    "__builtins__",
    "__dict__",
    "__code__",
    "__func__",
    "__self__",
    "__module__",
]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    start=st.sampled_from(GLOBALS),
    chain=st.lists(st.sampled_from(DUNDERS), min_size=1, max_size=4),
    via=st.sampled_from(["dot", "subscript", "attr"]),
)
@example(start="dict", chain=["__builtins__"], via="subscript")  # a type alias, rendered as text
def test_no_dunder_chain_renders(tmp_path: Path, start: str, chain: list[str], via: str) -> None:
    """Whatever chain of Python internals a template walks, the render stops at the first one
    (or renders something that is not an internal object)."""
    steps = {
        "dot": "".join(f".{a}" for a in chain),
        "subscript": "".join(f"['{a}']" for a in chain),
        "attr": "".join(f"|attr('{a}')" for a in chain),
    }[via]
    folder = tmp_path / f"t{abs(hash((start, tuple(chain), via)))}"
    folder.mkdir(exist_ok=True)
    (folder / "a.txt.j2").write_text(f"{{{{ ({start}){steps} }}}}")
    try:
        files = render_project({"project": {"name": "x"}}, templates_dir=folder, base_modules=False)
    except (UnsafeTemplateError, engine.TemplateRenderError):
        return
    # Rendered: only when nothing internal was reached (``dict['__init__']`` is a type alias).
    text = files["a.txt"].content.decode()
    assert not any(t in text for t in ("<function", "<module", "<built-in", "<method", "<bound"))
    # `dict['__builtins__']` renders its own text (a type alias): the builtins mapping itself
    # would show the builtins module's docstring or its name key.
    assert "Built-in functions" not in text and "'__name__': 'builtins'" not in text
    assert "<class" not in text and "mappingproxy" not in text


def test_code_compiled_outside_the_sandbox_is_never_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An older cache file holds unsandboxed code under the old key: the sandbox compiles anew."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("TAC_BOOTSTRAP_CACHE_DIR", str(cache))
    templates = tmp_path / "templates"
    templates.mkdir()
    # Unsandboxed code computes ** itself; the sandbox's code asks the sandbox, which refuses.
    source = "{{ (9 ** 99999) % 10 }}"
    (templates / "a.txt.j2").write_text(source)
    filename = str(templates.resolve() / "a.txt.j2")
    plain = jinja2.Environment()
    import hashlib

    old_key = hashlib.sha256(f"{filename}\0{source}".encode()).hexdigest()
    cache.mkdir()
    (cache / CACHE_FILE).write_bytes(
        marshal.dumps({old_key: plain.compile(source, "a.txt.j2", filename)})
    )
    codes = CodeCache(cache)  # and the plain environment's own entry under today's key
    codes.template(plain, "a.txt.j2", filename, source)
    codes.save()
    engine._code_cache.cache_clear()
    with pytest.raises(UnsafeTemplateError):
        render_project({}, templates_dir=templates, base_modules=False)
    engine._code_cache.cache_clear()


def test_sandboxed_code_is_cached_and_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("TAC_BOOTSTRAP_CACHE_DIR", str(cache))
    templates = tmp_path / "templates"
    (templates / "p").mkdir(parents=True)
    (templates / "a.txt.j2").write_text("{% include 'p/part.txt' %}{{ 6 * 7 }}")
    (templates / "p" / "part.txt").write_text("{{ project.name }}:")
    engine._code_cache.cache_clear()
    ctx = {"project": {"name": "demo"}}
    assert render_project(ctx, templates_dir=templates, base_modules=False)["a.txt"].content == (
        b"demo:42"
    )
    engine._code_cache.cache_clear()

    def no_compile(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("compiled again")

    monkeypatch.setattr(jinja2.Environment, "compile", no_compile)
    files = render_project(ctx, templates_dir=templates, base_modules=False)
    assert files["a.txt"].content == b"demo:42"  # the include came from the cache too
    engine._code_cache.cache_clear()


def test_environment_variables_stay_out_of_reach(tmp_path: Path) -> None:
    os.environ["TAC_TEST_SECRET"] = "s3cret"
    try:
        templates = tmp_path / "t"
        templates.mkdir()
        (templates / "a.txt.j2").write_text("{{ cycler.__init__.__globals__.os.environ }}")
        with pytest.raises(UnsafeTemplateError):
            render_project({}, templates_dir=templates, base_modules=False)
    finally:
        del os.environ["TAC_TEST_SECRET"]
