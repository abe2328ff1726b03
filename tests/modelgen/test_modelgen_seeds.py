"""The seed specs do what their designs need, beyond the generic generated tests.

Seed 000's robots (actions in position order, run history that outlives no robot silently, logs
that go with their run) and seed 003's observability (a run's event stream in sequence order,
one step per position, artifacts that go with their run), each on SQLite and on the test
suite's PostgreSQL server: the generated package is used as an application would, in a process
of its own run from the output folder.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from tac_bootstrap_cli.modelgen import DIALECTS, generate_models

from .helpers import EXAMPLES, explain, run

# Opens the database the scenario runs in: SQLite in memory, or a fresh schema on the server.
CONNECT = """\
import os, secrets, sys
from datetime import UTC, datetime
from uuid import uuid4

import pydantic

from {module} import *

URL = os.environ.get("TEST_DATABASE_URL")
if URL:
    conn = connect(URL)
    schema = f"seed_{{secrets.token_hex(6)}}"
    conn.execute(f'CREATE SCHEMA "{{schema}}"')
    conn.execute(f'SET search_path TO "{{schema}}"')
else:
    conn = connect()
init_schema(conn)
print("connection:", type(conn).__module__)


def refused(make):
    try:
        make()
    except pydantic.ValidationError:
        return True
    return False


def constraint(action):
    try:
        action()
    except ConstraintError as exc:
        return exc.kind, exc.table, exc.columns
    raise AssertionError("no ConstraintError")

"""

ROBOTS = """\
robots = RobotRepository(conn)
actions = RobotActionRepository(conn)
runs = TaskRunRepository(conn)
logs = LogEntryRepository(conn)

robot = robots.create(RobotCreate(robot_name="invoice-bot", schedule_expression="*/5 8-18 * * 1-5"))
assert robot.enabled and robot.on_failure_retries == 0 and robot.on_failure_delay_seconds == 300
for position, kind in [(2, "screenshot"), (0, "click"), (1, "write")]:
    actions.create(RobotActionCreate(robot_name="invoice-bot", position=position, type=kind,
                                     params={{"x": position}}))
script = actions.list(robot_name="invoice-bot", order_by="position")
assert [a.type.value for a in script] == ["click", "write", "screenshot"], script
dup = RobotActionCreate(robot_name="invoice-bot", position=1, type="click")
assert constraint(lambda: actions.create(dup)) == (
    "unique", "robot_actions", ("robot_name", "position"))

run = runs.create(TaskRunCreate(robot_name="invoice-bot"))
assert run.status is TaskRunStatus.PENDING and run.retry_count == 0 and run.started_at is None
logs.create(LogEntryCreate(task_run_id=run.id, level="ERROR", message="no window",
                           screenshot_path="shots/1.png"))
logs.create(LogEntryCreate(task_run_id=run.id, level="INFO", message="retrying"))
assert logs.count(task_run_id=run.id) == 2
assert [e.message for e in logs.list(level="ERROR")] == ["no window"]

# History is kept: the robot cannot be deleted while it has runs.
assert constraint(lambda: robots.delete("invoice-bot"))[0] == "foreign_key"
assert runs.delete(run.id) and logs.count() == 0  # a run's log goes with it
assert robots.delete("invoice-bot") and actions.count() == 0  # so does a robot's script

assert refused(lambda: RobotCreate(robot_name="x"))  # no schedule
for expression in ["@daily", "* * * *", "* * * * * * *", "0 0 * * *; rm"]:
    assert refused(lambda: RobotCreate(robot_name="r", schedule_expression=expression)), expression
for name in ["", "has space", "-lead", "x" * 101]:
    assert refused(lambda: RobotCreate(robot_name=name, schedule_expression="0 0 * * *")), name
assert refused(lambda: RobotActionCreate(robot_name="r", position=0, type="drag"))
assert refused(lambda: TaskRunCreate(robot_name="r", status="Done"))
assert refused(lambda: LogEntryCreate(task_run_id=1, level="DEBUG", message="m"))
print("robots scenario ok")
"""

OBSERVABILITY = """\
runs = ObsRunRepository(conn)
steps = ObsStepRepository(conn)
artifacts = ObsArtifactRepository(conn)

run = runs.create(ObsRunCreate(agent_id="benchmark-generator", task_input={{"prompt": "go"}}))
assert run.status is ObsRunStatus.PENDING and run.metadata == {{}}
assert run.created_at.tzinfo is not None
other = runs.create(ObsRunCreate(agent_id="other", task_input="text input"))
kinds = ["thought", "tool_call", "tool_result", "error", "plan_update"]
for sequence in [3, 0, 4, 1, 2]:
    steps.create(ObsStepCreate(run_id=run.id, sequence=sequence, type=kinds[sequence],
                               content={{"n": sequence, "nested": [1, {{"a": None}}]}}))
steps.create(ObsStepCreate(run_id=other.id, sequence=0, type="thought", content="alone"))

# The event stream of a run: its steps in sequence order, and only its own.
stream = steps.list(run_id=run.id, order_by="sequence")
assert [s.sequence for s in stream] == [0, 1, 2, 3, 4], stream
assert [s.type.value for s in stream] == kinds
assert stream[2].content == {{"n": 2, "nested": [1, {{"a": None}}]}}
assert [s.run_id for s in steps.list(type="error")] == [run.id]
# One step per position: a racing writer is refused instead of making the order ambiguous.
again = ObsStepCreate(run_id=run.id, sequence=3, type="thought", content=None)
assert constraint(lambda: steps.create(again)) == ("unique", "obs_steps", ("run_id", "sequence"))

step = stream[1]
artifacts.create(ObsArtifactCreate(step_id=step.id, role="output_mesh", path="runs/a1/mesh.glb",
                                   mime_type="model/gltf-binary", size_bytes=1024))
for path in ["/etc/passwd", "../up", "a/../../b", "a//b", "a/", ".hidden", "c:\\\\x"]:
    assert refused(lambda: ObsArtifactCreate(step_id=step.id, role="r", path=path,
                                             mime_type="text/plain", size_bytes=0)), path
for mime in ["Text/Plain", "text", "text/plain; charset=utf-8"]:
    assert refused(lambda: ObsArtifactCreate(step_id=step.id, role="r", path="p",
                                             mime_type=mime, size_bytes=0)), mime
assert refused(lambda: ObsArtifactCreate(step_id=step.id, role="Debug Log", path="p",
                                         mime_type="text/plain", size_bytes=0))
assert refused(lambda: ObsStepCreate(run_id=run.id, sequence=-1, type="thought", content=1))
assert refused(lambda: ObsStepCreate(run_id=run.id, sequence=0, type="thought", content=1,
                                     latency_ms=-0.5))
assert refused(lambda: ObsRunCreate(agent_id="has space", task_input={{}}))

# A run's steps and their artifacts go with it; the other run is untouched.
assert runs.delete(run.id)
assert steps.count() == 1 and artifacts.count() == 0
print("observability scenario ok")
"""

SCENARIOS = {"robots": ROBOTS, "observability": OBSERVABILITY}


@pytest.mark.slow
@pytest.mark.parametrize("dialect", sorted(DIALECTS))
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_seed_scenarios_on_each_dialect(
    tmp_path: Path,
    name: str,
    dialect: str,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if dialect == "postgres":
        monkeypatch.setenv("TEST_DATABASE_URL", request.getfixturevalue("postgres_server"))
    else:
        monkeypatch.delenv("TEST_DATABASE_URL", raising=False)
    spec = tmp_path / f"{name}.yaml"
    shutil.copy(EXAMPLES / f"{name}.yaml", spec)
    out = tmp_path / "out"
    generate_models(spec, out, dialect=dialect)
    script = out / "scenario.py"
    script.write_text(CONNECT.format(module=name) + SCENARIOS[name].format(), encoding="utf-8")
    outcome = run([sys.executable, str(script)], out)
    assert outcome.returncode == 0, explain(outcome)
    assert f"{name} scenario ok" in outcome.stdout
    assert ("connection: psycopg" in outcome.stdout) == (dialect == "postgres"), outcome.stdout
