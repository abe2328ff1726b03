"""The PreToolUse guard's rules, called directly (fast): every known bypass of the shell parser
blocks, ordinary commands pass, and the config.yml fast path reads what PyYAML reads.

The rules are stdlib-only Python in the rendered ``.claude/hooks/pre_tool_use.py``; this imports
that file from a rendered project, so it tests exactly what users get.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from layer_support import write_project


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A rendered project that is a git repository on ``main`` (for `git push -f origin HEAD`)."""
    root = write_project(tmp_path_factory.mktemp("guard") / "proj-x", "go")
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    yield root


@pytest.fixture(scope="module")
def guard(project: Path) -> Iterator[ModuleType]:
    hooks_dir = project / ".claude" / "hooks"
    sys.path.insert(0, str(hooks_dir))
    try:
        yield _load(hooks_dir / "pre_tool_use.py", "tac_layer_pre_tool_use")
    finally:
        sys.path.remove(str(hooks_dir))
        sys.modules.pop("tac_layer_pre_tool_use", None)
        sys.modules.pop("_hook_support", None)


def decide(guard: ModuleType, project: Path, command: str, cwd: Path | None = None) -> str | None:
    return guard.check(  # type: ignore[no-any-return]
        {
            "tool_name": "Bash",
            "tool_input": {"command": command},
            "cwd": str(cwd or project),
            "session_id": "s",
        }
    )


# The reviewer's bypasses first, then the forms they generalise to.
BLOCKED = [
    "git push -f origin HEAD",
    "git push --force origin HEAD",
    "git push -f origin @",
    "git push --force origin HEAD:main",
    "git -C . push -f origin HEAD",
    "git push -o ci.skip -f origin main",
    "sudo -u root rm -rf /",
    "sudo -iu root rm -rf /",
    "sudo -uroot rm -rf /",
    "sudo --user root rm -rf /",
    "sudo -g wheel -- rm -rf /",
    "nice -n 10 rm -rf /",
    "nice -10 rm -rf /",
    "env -u X rm -rf /",
    "env -i FOO=1 rm -rf /",
    "env -S 'rm -rf /'",
    "timeout 5 rm -rf /",
    "timeout -s KILL 5 rm -rf /",
    "timeout -k 1 --preserve-status 5s rm -rf /",
    "nohup rm -rf /",
    "ionice -c 3 rm -rf /",
    "stdbuf -o L rm -rf /",
    "stdbuf -oL rm -rf /",
    "time -p rm -rf /",
    "setsid rm -rf ~",
    "exec -a x rm -rf /",
    "sudo nice -n 5 timeout 9 env -u A rm -rf /",
    "bash -ec 'rm -rf /'",
    "sh -lc 'rm -rf /'",
    "bash -c -- 'rm -rf /'",
    "bash -o pipefail -c 'rm -rf /'",
    "bash -euo pipefail -c 'rm -rf ~'",
    "sudo bash -c 'sudo -u root rm -rf /'",
    "rm -rf ../proj-x",
    "rm -rf ../proj-x/",
    "rm -rf ..",
    'rm -rf "$CLAUDE_PROJECT_DIR"',
    'rm -rf "${CLAUDE_PROJECT_DIR}/"',
    'rm -rf "$CLAUDE_PROJECT_DIR"/..',
    "rm -rf $PWD",
    "rm -rf $(pwd)",
    "rm -rf ./*",
    "rm -rf ~/*",
    "cd .. && rm -rf proj-x",
    "rm -rf /",
    "rm -rf ~",
    "rm -rf *",
    "git push --force origin main",
]
ALLOWED = [
    "rm -rf ./build",
    "rm -rf build/",
    "rm -rf node_modules",
    "rm -rf ../other-project",
    "rm -rf src/*.o",
    "rm -rf dist/*",
    "rm file.txt",
    "git push --force origin feature-x",
    "git push -f origin feature-x:feature-x",
    "git push origin main",
    "git push origin HEAD",
    "git log --grep push -f",
    "sudo -u root ls /",
    "nice -n 10 make",
    "timeout 5 rm -rf tmp",
    "bash -c 'echo rm -rf /'",
    "bash script.sh -c",
    "env -u X make test",
    "echo 'rm -rf /'",
]


@pytest.mark.parametrize("command", BLOCKED)
def test_bypasses_block(guard: ModuleType, project: Path, command: str) -> None:
    assert decide(guard, project, command), command


@pytest.mark.parametrize("command", ALLOWED)
def test_ordinary_commands_pass(guard: ModuleType, project: Path, command: str) -> None:
    assert decide(guard, project, command) is None, command


def test_rm_of_the_project_from_a_subfolder_and_by_absolute_path(
    guard: ModuleType, project: Path
) -> None:
    sub = project / "adws"
    assert decide(guard, project, "rm -rf ../", cwd=sub)
    assert decide(guard, project, f"rm -rf {project}")
    assert decide(guard, project, f"rm -rf {project.parent}")
    assert decide(guard, project, "rm -rf ../adws", cwd=sub) is None


def test_force_push_of_head_follows_the_checked_out_branch(
    guard: ModuleType, project: Path, tmp_path: Path
) -> None:
    other = tmp_path / "repo"
    other.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "feature-x"], cwd=other, check=True)
    assert decide(guard, project, "git push -f origin HEAD", cwd=other) is None
    assert decide(guard, project, "git push -f", cwd=other) is None
    subprocess.run(["git", "checkout", "-q", "-b", "master"], cwd=other, check=True)
    assert decide(guard, project, "git push -f origin HEAD", cwd=other)
    # Not a repository: nothing to resolve HEAD to, and no block on a guess.
    assert decide(guard, project, "git push -f origin HEAD", cwd=tmp_path) is None


# Hypothesis: any chain of wrappers (with their option arguments) in front of a dangerous
# command, optionally inside `bash -ec '...'`, blocks; the same chain in front of a harmless
# command passes.
WRAPPER_PREFIXES = [
    "sudo", "sudo -u root", "sudo -iu root", "sudo -E", "doas -u root", "nice", "nice -n 10",
    "nice -n -5", "env", "env -u X", "env -i", "env FOO=bar", "FOO=1", "timeout 5",
    "timeout -s TERM 10", "timeout --signal=KILL 3", "nohup", "ionice -c 3", "ionice -c2 -n7",
    "stdbuf -oL", "stdbuf -o L -e L", "time", "time -p", "setsid", "command", "exec",
    "chrt -f 10", "taskset 0x1", "flock /tmp/lock", "xargs", "xargs -n 1",
]  # fmt: skip
DANGEROUS = ["rm -rf /", "rm -fr ~", "rm -r -f $HOME", "rm -Rf /*", "git push -f origin main"]
HARMLESS = ["rm -rf build", "ls -la /", "git push origin main", "make test", "rm -f ~/.cache/x"]


def _line(prefixes: list[str], core: str, shell: str | None) -> str:
    line = " ".join([*prefixes, core])
    return f"{shell} '{line}'" if shell else line


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    prefixes=st.lists(st.sampled_from(WRAPPER_PREFIXES), max_size=4),
    core=st.sampled_from(DANGEROUS),
    shell=st.sampled_from([None, "bash -c", "bash -ec", "sh -lc", "bash -c --", "zsh -c"]),
)
def test_wrapped_dangerous_commands_block(
    guard: ModuleType, project: Path, prefixes: list[str], core: str, shell: str | None
) -> None:
    assert decide(guard, project, _line(prefixes, core, shell))


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    prefixes=st.lists(st.sampled_from(WRAPPER_PREFIXES), max_size=4),
    core=st.sampled_from(HARMLESS),
    shell=st.sampled_from([None, "bash -c", "sh -ec"]),
)
def test_wrapped_harmless_commands_pass(
    guard: ModuleType, project: Path, prefixes: list[str], core: str, shell: str | None
) -> None:
    assert decide(guard, project, _line(prefixes, core, shell)) is None


# config.yml's database.path without PyYAML: whenever the fast path answers, YAML agrees.
_values = st.one_of(
    st.sampled_from(
        ["agents/orchestrator.db", "run.db", "null", "~", "1.5", "1e3", "yes", "'a''b.db'",
         '"x y/z.db"', "{a: 1}", "[x]", "data/run.db # comment", "0x1f", ".inf", "'it.db'"]
    ),
    st.from_regex(r"[\w./' \"#:-]{0,20}", fullmatch=True),
)  # fmt: skip


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    value=_values,
    indent=st.sampled_from(["  ", "    ", "\t"]),
    before=st.sampled_from(["", "  other: 1\n", "  nested:\n    path: n/o.db\n"]),
    after=st.sampled_from(["", "x: 1\n", "database:\n  path: b.db\n"]),
)
def test_fast_config_read_agrees_with_yaml(
    guard: ModuleType, value: str, indent: str, before: str, after: str
) -> None:
    text = f"version: 1\ndatabase:\n{before}{indent}path: {value}\n{after}"
    fast = guard.hooks.fast_db_setting(text)
    if fast is None:
        return
    data = yaml.safe_load(text)
    assert fast == data["database"]["path"], text


def test_fast_config_read_needs_a_blank_before_a_comment(guard: ModuleType) -> None:
    """Found by the property above: YAML reads `0/#` as the value `0/#`, not `0/` and a comment."""
    assert guard.hooks.fast_db_setting("database:\n  path: 0/#\n") is None
    assert guard.hooks.fast_db_setting("database:\n  path: a.db # note\n") == "a.db"


def test_fast_config_read_handles_the_rendered_config(project: Path, guard: ModuleType) -> None:
    text = (project / "config.yml").read_text()
    assert guard.hooks.fast_db_setting(text) == yaml.safe_load(text)["database"]["path"]
