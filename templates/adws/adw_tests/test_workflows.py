"""The workflows end to end with the fake agent: phases, retries, state and the run log."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from conftest import Project

TASK = "Add a health endpoint"


def agents(project: Project) -> list[tuple[str, str]]:
    """(name, status) of every workflow Agent, oldest first."""
    return project.rows(
        "SELECT a.name, a.status FROM agents a JOIN orchestrator_agents o ON o.id = a.orchestrator_agent_id"
        " WHERE o.name = 'adw' ORDER BY a.created_at, a.rowid"
    )


def completed_id(stdout: str) -> str:
    """The ADW id in a plan_build run's completion line."""
    match = re.search(r"ADW ([0-9a-f]{8}) plan_build completed", stdout)
    assert match is not None, stdout
    return match.group(1)


def test_plan_build_records_both_phases(project: Project) -> None:
    proc = project.run("adws/adw_plan_build.py", TASK)
    assert proc.returncode == 0, proc.stderr
    adw_id = completed_id(proc.stdout)
    assert agents(project) == [("planner", "completed"), ("builder", "completed")]
    prompts = project.rows(
        "SELECT tokens_input, tokens_cache_read, tokens_cache_creation, tokens_output, cost_usd,"
        " num_turns, duration_ms, models, status FROM prompts"
    )
    models = "claude-sonnet-4-5-20250929,claude-haiku-4-5-20251001"
    assert prompts == [(1200, 6000, 500, 340, 0.0123, 2, 1234, models, "completed")] * 2
    log_types = {t for (t,) in project.rows("SELECT DISTINCT log_type FROM agent_logs")}
    assert {"step_start", "step_end", "event"} <= log_types
    state = json.loads((project.root / "agents" / adw_id / "adw_state.json").read_text())
    spec = project.root / state["spec_path"]
    assert spec.is_file() and state["spec_path"].startswith(f"specs/{adw_id}-")
    assert state["phases"]["plan"]["status"] == "completed"
    raw = project.root / "agents" / adw_id / "planner" / "raw_output.jsonl"
    types = [json.loads(line)["type"] for line in raw.read_text().splitlines()]
    assert types == ["system", "assistant", "assistant", "user", "assistant", "result"]


def stream_totals(raw: Path) -> tuple[int, int, int, int]:
    """(input, cache-read, cache-creation, output) of ``modelUsage`` summed over models, read
    straight from a raw stream-json file, independently of the agent module."""
    (result,) = [
        line for line in map(json.loads, raw.read_text().splitlines()) if line["type"] == "result"
    ]
    keys = ("inputTokens", "cacheReadInputTokens", "cacheCreationInputTokens", "outputTokens")
    per_model = result["modelUsage"].values()
    inputs, cache_read, cache_creation, outputs = (
        sum(int(model[key]) for model in per_model) for key in keys
    )
    return inputs, cache_read, cache_creation, outputs


def test_prompt_rows_equal_the_streams_totals(project: Project) -> None:
    proc = project.run(
        "adws/adw_plan.py",
        TASK,
        "--adw-id",
        "00cc11dd",
        FAKE_CLAUDE_INPUT_TOKENS="2100",
        FAKE_CLAUDE_CACHE_READ_TOKENS="6000",
        FAKE_CLAUDE_CACHE_CREATION_TOKENS="500",
        FAKE_CLAUDE_OUTPUT_TOKENS="777",
    )
    assert proc.returncode == 0, proc.stderr
    raw = project.root / "agents" / "00cc11dd" / "planner" / "raw_output.jsonl"
    assert stream_totals(raw) == (2100, 6000, 500, 777)
    (row,) = project.rows(
        "SELECT tokens_input, tokens_cache_read, tokens_cache_creation, tokens_output FROM prompts"
    )
    assert row == stream_totals(raw)
    (event,) = project.rows("SELECT metadata FROM agent_logs WHERE message = 'prompt metadata'")
    meta = json.loads(event[0])
    assert meta["usage_source"] == "modelUsage"
    assert meta["model_usage"]["claude-haiku-4-5-20251001"]["input"] == 200  # the side call


def test_without_model_usage_the_result_usage_counts(project: Project) -> None:
    proc = project.run("adws/adw_plan.py", TASK, FAKE_CLAUDE_NO_MODEL_USAGE="1")
    assert proc.returncode == 0, proc.stderr
    rows = project.rows(
        "SELECT tokens_input, tokens_cache_read, tokens_cache_creation, tokens_output, models"
        " FROM prompts"
    )
    # The main model's two messages; the first spans two stream lines and counts once.
    assert rows == [(1000, 6000, 500, 300, "claude-sonnet-4-5-20250929")]


def test_agent_cli_gets_the_documented_arguments(project: Project) -> None:
    assert project.run("adws/adw_plan.py", TASK).returncode == 0
    (call,) = project.calls()
    argv = call["argv"]
    assert argv[0] == "-p" and TASK in argv[1]
    assert argv[argv.index("--model") + 1] == "sonnet"
    assert argv[argv.index("--output-format") + 1] == "stream-json"
    assert "--verbose" in argv
    # Passed explicitly: `claude -p` ignores the allow rules of a never-trusted project.
    assert argv[argv.index("--settings") + 1] == str(project.root / ".claude" / "settings.json")
    (agent_id,) = project.rows("SELECT id FROM agents")[0]
    assert call["adw_agent_id"] == agent_id  # hooks of that session log on the phase's Agent


def test_without_a_settings_file_no_settings_flag(project: Project) -> None:
    (project.root / ".claude" / "settings.json").unlink()
    assert project.run("adws/adw_plan.py", TASK).returncode == 0
    (call,) = project.calls()
    assert "--settings" not in call["argv"]


def test_failing_agent_retries_then_fails(project: Project) -> None:
    proc = project.run("adws/adw_plan.py", TASK, FAKE_CLAUDE_FAIL="1")
    assert proc.returncode == 1
    assert "plan failed after 3 attempt(s)" in proc.stderr
    assert agents(project) == [("planner", "failed")]
    assert project.rows("SELECT count(*), min(status) FROM prompts") == [(3, "failed")]
    assert project.rows("SELECT count(*) FROM agent_logs WHERE log_type = 'error'") == [(1,)]


def test_a_transient_failure_is_retried(project: Project) -> None:
    counter = project.root / "counter"
    proc = project.run(
        "adws/adw_plan.py",
        TASK,
        FAKE_CLAUDE_FAIL_TIMES="1",
        FAKE_CLAUDE_COUNTER=str(counter),
    )
    assert proc.returncode == 0, proc.stderr
    assert agents(project) == [("planner", "completed")]
    assert project.rows("SELECT status FROM prompts ORDER BY created_at") == [
        ("failed",),
        ("completed",),
    ]


def test_plan_without_the_spec_file_is_an_error(project: Project) -> None:
    proc = project.run("adws/adw_plan.py", TASK, FAKE_CLAUDE_NO_FILE="1")
    assert proc.returncode == 1
    assert "did not write the spec file" in proc.stderr


def test_missing_cli_is_a_clear_error(project: Project) -> None:
    proc = project.run("adws/adw_plan.py", TASK, CLAUDE_CODE_PATH=str(project.root / "nope"))
    assert proc.returncode == 1
    assert "CLAUDE_CODE_PATH" in proc.stderr
    assert project.rows("SELECT count(*) FROM prompts") == [(0,)]  # not retried: it cannot help


def test_sdlc_runs_every_phase(project: Project) -> None:
    proc = project.run("adws/adw_sdlc.py", TASK)
    assert proc.returncode == 0, proc.stderr
    names = [name for name, status in agents(project) if status == "completed"]
    assert names == ["planner", "builder", "tester", "reviewer", "docs-writer"]
    assert list((project.root / "app_docs").glob("*.md"))


def set_commands(project: Project, **commands: str) -> None:
    """Change ``commands`` in the project's config.yml."""
    import yaml

    config_file = project.root / "config.yml"
    data = yaml.safe_load(config_file.read_text())
    data["commands"].update(commands)
    config_file.write_text(yaml.safe_dump(data))


def test_failing_tests_are_fixed_and_retried(project: Project) -> None:
    # Fails the first time (and leaves a marker, as a fix would), passes the second time.
    set_commands(project, test="test -f fixed || (touch fixed; exit 1)")
    proc = project.run("adws/adw_test.py", TASK)
    assert proc.returncode == 0, proc.stderr
    assert agents(project) == [("tester", "completed")]
    assert project.rows("SELECT count(*) FROM prompts") == [(1,)]  # one fix between two runs


def test_review_fail_verdict_fails_the_workflow(project: Project) -> None:
    proc = project.run("adws/adw_review.py", TASK, FAKE_CLAUDE_VERDICT="FAIL")
    assert proc.returncode == 1
    assert agents(project) == [("reviewer", "failed")]


def test_usage_errors_exit_2(project: Project) -> None:
    assert project.run("adws/adw_plan.py").returncode == 2
    assert project.run("adws/adw_plan.py", TASK, "--adw-id", "XYZ").returncode == 2


def test_issue_file_and_adw_id_continue_a_run(project: Project) -> None:
    issue = project.root / "task.md"
    issue.write_text(TASK)
    assert (
        project.run(
            "adws/adw_plan.py", "--issue-file", str(issue), "--adw-id", "0123abcd"
        ).returncode
        == 0
    )
    proc = project.run("adws/adw_build.py", "--adw-id", "0123abcd")
    assert proc.returncode == 0, proc.stderr
    build_prompt = project.calls()[-1]["argv"][1]
    assert "specs/0123abcd-add-a-health-endpoint.md" in build_prompt


def test_status_lists_runs_tokens_and_cost(project: Project) -> None:
    assert project.run("adws/adw_status.py").returncode == 0  # empty database is fine
    project.run("adws/adw_plan_build.py", TASK, "--adw-id", "00aa11bb")
    proc = project.run("adws/adw_status.py", "--json")
    assert proc.returncode == 0, proc.stderr
    (run,) = json.loads(proc.stdout)
    assert run["adw_id"] == "00aa11bb" and run["status"] == "completed"
    assert [p["phase"] for p in run["phases"]] == ["plan", "build"]
    assert run["tokens_input"] == 2400 and abs(run["cost_usd"] - 0.0246) < 1e-9
    assert (run["tokens_cache_read"], run["tokens_cache_creation"]) == (12000, 1000)
    assert run["tokens_output"] == 680 and run["num_turns"] == 4
    assert run["phases"][0]["tokens_cache_read"] == 6000
    table = project.run("adws/adw_status.py", "--adw-id", "00aa11bb")
    assert "00aa11bb" in table.stdout and "step_start" in table.stdout
    assert "in/cache/out" in table.stdout
    assert "2400/13000/680" in table.stdout and "1200/6500/340" in table.stdout


def test_cron_trigger_runs_each_inbox_file_once(project: Project) -> None:
    inbox = project.root / "specs" / "inbox"
    inbox.mkdir(parents=True)
    (inbox / "health.md").write_text(TASK)
    proc = project.run("adws/adw_triggers/trigger_cron.py", "--once")
    assert proc.returncode == 0, proc.stderr
    assert [name for name, _ in agents(project)] == ["planner", "builder"]
    again = project.run("adws/adw_triggers/trigger_cron.py", "--once")
    assert again.returncode == 0
    assert len(agents(project)) == 2
    assert project.rows("SELECT count(*) FROM system_logs WHERE source = 'trigger_cron'")[0][0] >= 1


def test_cron_trigger_stops_on_a_broken_state_file(project: Project) -> None:
    """A half-written state file must not be read as "nothing ran yet" (every task again)."""
    inbox = project.root / "specs" / "inbox"
    inbox.mkdir(parents=True)
    (inbox / "health.md").write_text(TASK)
    state = project.root / "agents" / "trigger_cron_state.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text('{"health.md": "2024-01-01T00:00:00 compl')
    proc = project.run("adws/adw_triggers/trigger_cron.py", "--once")
    assert proc.returncode == 1
    assert error_lines(proc) == [line for line in error_lines(proc) if "trigger_cron_state" in line]
    assert error_lines(proc) and project.calls() == []  # no workflow ran


def error_lines(proc: subprocess.CompletedProcess[str], prefix: str = "error:") -> list[str]:
    return [line for line in proc.stderr.splitlines() if line.startswith(prefix)]


def test_a_project_without_tests_fails_the_test_phase_at_once(project: Project) -> None:
    (project.root / "tests").mkdir()
    pytest_cmd = f"{shlex.quote(sys.executable)} -m pytest -q -p no:cacheprovider tests"
    set_commands(project, test=pytest_cmd)  # pytest exits 5: no tests collected
    proc = project.run("adws/adw_test.py", TASK)
    assert proc.returncode == 1
    (error,) = error_lines(proc)
    assert "test failed: the project has no tests yet" in error and "(exit 5)" in error
    assert "commands.test" in error  # what to do
    assert "attempt 2" not in proc.stderr and project.calls() == []  # no retry, no tester call
    assert agents(project) == [("tester", "failed")]


def test_a_project_without_its_manifest_fails_the_test_phase_at_once(
    project: Project, tmp_path: Path
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    uv = bin_dir / "uv"  # what uv says in a folder without pyproject.toml
    uv.write_text(
        "#!/bin/sh\necho 'error: No `pyproject.toml` found in current directory' >&2\nexit 2\n"
    )
    uv.chmod(0o755)
    set_commands(project, test="uv run pytest", install="uv sync")
    path = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    proc = project.run("adws/adw_sdlc.py", TASK, PATH=path)
    assert proc.returncode == 1
    (error,) = error_lines(proc)
    assert "test failed: the project has no pyproject.toml yet" in error
    assert "`uv sync`" in error and "uv init" in error
    assert proc.stderr.count("test: attempt") == 1
    assert [name for name, _ in agents(project)] == ["planner", "builder", "tester"]


def test_status_of_an_unknown_run_says_so(project: Project) -> None:
    unknown = project.run("adws/adw_status.py", "--adw-id", "0badc0de")
    assert unknown.returncode == 1 and unknown.stdout == ""  # nothing recorded at all
    assert project.run("adws/adw_plan.py", TASK, "--adw-id", "00aa11bb").returncode == 0
    proc = project.run("adws/adw_status.py", "--adw-id", "nothere")
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.strip() == "no ADW run 'nothere' (runs: uv run adws/adw_status.py)"
    assert project.run("adws/adw_status.py", "--adw-id", "nothere", "--json").returncode == 1
    found = project.run("adws/adw_status.py", "--adw-id", "00AA11BB", "--limit", "1")
    assert found.returncode == 0 and "00aa11bb" in found.stdout
    assert project.run("adws/adw_status.py", "--limit", "0").returncode == 2


def git_repo(project: Project, *, identity: bool) -> dict[str, str]:
    """Make the project a git repository on ``main``; returns the environment for git."""
    env = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    for name in ("AUTHOR", "COMMITTER"):
        for field in ("NAME", "EMAIL"):
            project.env.pop(f"GIT_{name}_{field}", None)
    project.env.pop("EMAIL", None)
    (project.root / ".gitignore").write_text("/agents/\n")

    def git(*args: str) -> None:
        subprocess.run(
            ["git", *args], cwd=project.root, env={**project.env, **env}, check=True,
            capture_output=True,
        )  # fmt: skip

    git("-c", "init.defaultBranch=main", "init", "-q")
    git("symbolic-ref", "HEAD", "refs/heads/main")
    git("config", "user.useConfigOnly", "true")  # never an identity guessed from the host name
    if identity:
        git("config", "user.email", "dev@example.com")
        git("config", "user.name", "Dev")
    return env


def git_out(project: Project, env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=project.root, env={**project.env, **env}, check=True,
        capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip


def test_a_refused_commit_is_a_warning_that_says_how_to_fix_it(project: Project) -> None:
    env = git_repo(project, identity=False)
    proc = project.run("adws/adw_plan_build.py", TASK, **env)
    assert proc.returncode == 0, proc.stderr
    adw_id = completed_id(proc.stdout)
    branch = f"adw-{adw_id}-add-a-health-endpoint"
    # Said first on stdout: the run leaves the work tree on a new branch.
    assert proc.stdout.splitlines()[0] == f"branch: {branch} (from main; back: git switch main)"
    assert git_out(project, env, "symbolic-ref", "--short", "HEAD") == branch
    (warning,) = error_lines(proc, "warning:")
    assert warning.startswith(f"warning: ADW {adw_id}: build: the changes were not committed")
    assert "(git: Author identity unknown)" in warning
    assert 'git config user.email "you@example.com"' in warning and "git commit" in warning
    (logged,) = project.rows("SELECT message FROM agent_logs WHERE message LIKE 'git: git commit%'")
    assert "Author identity unknown" in logged[0]


def test_a_commit_with_an_identity_is_made_without_warning(project: Project) -> None:
    env = git_repo(project, identity=True)
    proc = project.run("adws/adw_plan_build.py", TASK, **env)
    assert proc.returncode == 0, proc.stderr
    assert error_lines(proc, "warning:") == []
    subject = git_out(project, env, "log", "-1", "--format=%s")
    assert re.fullmatch(r"adw [0-9a-f]{8}: build - Add a health endpoint", subject)


def committed_files(project: Project, env: dict[str, str]) -> set[str]:
    """Every path any commit of the repository added or changed."""
    out = git_out(project, env, "log", "--all", "--name-only", "--format=")
    return {line for line in out.splitlines() if line}


def test_secret_files_never_reach_a_commit(project: Project) -> None:
    env = git_repo(project, identity=True)  # a .gitignore without any .env rule: worst case
    (project.root / ".env").write_text("API_KEY=made-before-the-run\n")
    (project.root / "config").mkdir()
    (project.root / "config" / ".ENV.Production").write_text("TOKEN=x\n")
    (project.root / ".env.example").write_text("API_KEY=\n")
    proc = project.run(
        "adws/adw_plan_build.py",
        TASK,
        FAKE_CLAUDE_WRITE="app/.env.local,app/settings.py",  # the agent writes one more
        **env,
    )
    assert proc.returncode == 0, proc.stderr
    committed = committed_files(project, env)
    assert {".env.example", "app/settings.py"} <= committed  # the rest is committed
    assert not {".env", "config/.ENV.Production", "app/.env.local"} & committed
    (warning,) = error_lines(proc, "warning:")
    assert "build: secret files not committed: .env, app/.env.local, config/.ENV.Production" in (
        warning
    )
    assert (project.root / ".env").read_text() == "API_KEY=made-before-the-run\n"  # kept on disk
    logged = project.rows("SELECT metadata FROM agent_logs WHERE message LIKE 'git: secret%'")
    assert json.loads(logged[0][0])["withheld"] == [
        ".env",
        "app/.env.local",
        "config/.ENV.Production",
    ]


def test_a_tracked_or_force_added_env_is_not_committed_either(project: Project) -> None:
    env = git_repo(project, identity=True)

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=project.root, env={**project.env, **env}, check=True,
                       capture_output=True)  # fmt: skip

    (project.root / ".gitignore").write_text("/agents/\n.env\n.env.*\n")
    (project.root / "tracked").mkdir()
    (project.root / "tracked" / ".env").write_text("OLD=1\n")
    git("add", "-f", ".gitignore", "tracked/.env")
    git("commit", "-q", "-m", "a secret committed by hand, long ago")
    (project.root / ".env.staging").write_text("STAGED=1\n")
    git("add", "-f", ".env.staging")  # force-added before the run
    proc = project.run(
        "adws/adw_plan_build.py", TASK, FAKE_CLAUDE_WRITE="tracked/.env,notes.md", **env
    )
    assert proc.returncode == 0, proc.stderr
    adw_commits = git_out(project, env, "log", "--format=%H", "--grep=^adw ").split()
    assert adw_commits
    for commit in adw_commits:
        changed = git_out(project, env, "show", "--name-only", "--format=", commit).splitlines()
        assert not {".env.staging", "tracked/.env"} & set(changed)
    assert "notes.md" in committed_files(project, env)
    assert git_out(project, env, "show", "HEAD:tracked/.env") == "OLD=1"  # unchanged in git
    assert (project.root / "tracked" / ".env").read_text().startswith("API_KEY=")  # and on disk
    (warning,) = error_lines(proc, "warning:")
    assert ".env.staging, tracked/.env" in warning
