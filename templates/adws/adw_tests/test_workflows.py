"""The workflows end to end with the fake agent: phases, retries, state and the run log."""

from __future__ import annotations

import json
import re

from conftest import Project

TASK = "Add a health endpoint"


def agents(project: Project) -> list[tuple[str, str]]:
    """(name, status) of every workflow Agent, oldest first."""
    return project.rows(
        "SELECT a.name, a.status FROM agents a JOIN orchestrator_agents o ON o.id = a.orchestrator_agent_id"
        " WHERE o.name = 'adw' ORDER BY a.created_at, a.rowid"
    )


def test_plan_build_records_both_phases(project: Project) -> None:
    proc = project.run("adws/adw_plan_build.py", TASK)
    assert proc.returncode == 0, proc.stderr
    adw_id = re.search(r"ADW ([0-9a-f]{8}) plan_build completed", proc.stdout).group(1)
    assert agents(project) == [("planner", "completed"), ("builder", "completed")]
    prompts = project.rows("SELECT tokens_input, tokens_output, cost_usd, status FROM prompts")
    assert prompts == [(1200, 340, 0.0123, "completed")] * 2
    log_types = {t for (t,) in project.rows("SELECT DISTINCT log_type FROM agent_logs")}
    assert {"step_start", "step_end", "event"} <= log_types
    state = json.loads((project.root / "agents" / adw_id / "adw_state.json").read_text())
    spec = project.root / state["spec_path"]
    assert spec.is_file() and state["spec_path"].startswith(f"specs/{adw_id}-")
    assert state["phases"]["plan"]["status"] == "completed"
    raw = project.root / "agents" / adw_id / "planner" / "raw_output.jsonl"
    types = [json.loads(line)["type"] for line in raw.read_text().splitlines()]
    assert types == ["system", "assistant", "result"]


def test_agent_cli_gets_the_documented_arguments(project: Project) -> None:
    assert project.run("adws/adw_plan.py", TASK).returncode == 0
    (call,) = project.calls()
    argv = call["argv"]
    assert argv[0] == "-p" and TASK in argv[1]
    assert argv[argv.index("--model") + 1] == "sonnet"
    assert argv[argv.index("--output-format") + 1] == "stream-json"
    assert "--verbose" in argv
    (agent_id,) = project.rows("SELECT id FROM agents")[0]
    assert call["adw_agent_id"] == agent_id  # hooks of that session log on the phase's Agent


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


def test_failing_tests_are_fixed_and_retried(project: Project) -> None:
    import yaml

    config_file = project.root / "config.yml"
    data = yaml.safe_load(config_file.read_text())
    # Fails the first time (and leaves a marker, as a fix would), passes the second time.
    data["commands"]["test"] = "test -f fixed || (touch fixed; exit 1)"
    config_file.write_text(yaml.safe_dump(data))
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
    table = project.run("adws/adw_status.py", "--adw-id", "00aa11bb")
    assert "00aa11bb" in table.stdout and "step_start" in table.stdout


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
