#!/usr/bin/env -S uv run --script
# /// script
# requires-python = ">=3.11"
# dependencies = [
#   "pydantic>=2.7",
#   "pyyaml>=6.0",
#   "opentelemetry-sdk>=1.30",
#   "opentelemetry-exporter-otlp-proto-http>=1.30",
# ]
# ///
"""Run a workflow for each new task file dropped into ``specs/inbox/``, on the cron schedule.

Usage: uv run adws/adw_triggers/trigger_cron.py [--once] [--workflow plan_build|sdlc]

The schedule is ``workflows.cron`` of config.yml (5 fields: minute hour day month weekday; ``*``,
lists, ranges, ``*/n`` steps, month and day names, ``@daily``...; ``adw_modules/adw_cron.py`` has
the rules, croniter's, the same tac-bootstrap checks config.yml with); the workflow is
``workflows.default_workflow``. Each ``.md`` or ``.txt`` file in ``specs/inbox/`` runs once:
processed files are remembered in ``agents/trigger_cron_state.json`` (written atomically; an
unreadable one stops the trigger rather than running every task again). ``--once`` checks the
inbox now and exits.
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

# adws/adw_triggers/ is this script's folder; the shared modules live one level up.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adw_modules import adw_cron
from adw_modules.adw_files import write_atomic
from adw_modules.adw_logging import SystemLogHandler
from adw_modules.utils import PROJECT_ROOT, db_path, load_config

INBOX = "specs/inbox"
STATE_FILE = "agents/trigger_cron_state.json"
WORKFLOWS = ("plan_build", "sdlc")

log = logging.getLogger("adw.trigger_cron")


class StateError(Exception):
    """The state file cannot be read: running every inbox task again would be worse than stopping."""


def parse_cron(expression: str) -> adw_cron.Schedule:
    """The schedule of a cron expression (``adw_modules/adw_cron``, the same rules as
    tac-bootstrap's config check); ``ValueError`` on a malformed one."""
    return adw_cron.validate(expression)


def cron_matches(expression: str, moment: datetime) -> bool:
    """True when ``moment`` (to the minute) is on the cron schedule."""
    return adw_cron.parse(expression).matches(moment)


def _load_state(root: Path) -> dict[str, str]:
    path = root / STATE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StateError(
            f"{STATE_FILE} cannot be read ({exc}); fix or delete it (deleting runs every task"
            f" in {INBOX} again)"
        ) from exc
    if not isinstance(data, dict):
        raise StateError(f"{STATE_FILE} is not a JSON object; fix or delete it")
    return {str(k): str(v) for k, v in data.items()}


def _save_state(root: Path, state: dict[str, str]) -> None:
    """Write the state atomically: a crash leaves the old file or the new one, never half."""
    path = root / STATE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(state, indent=2, sort_keys=True) + "\n"
    write_atomic(path, text.encode("utf-8"), durable=True)


def new_task_files(root: Path) -> list[Path]:
    """Task files in the inbox that have not run yet, oldest first."""
    inbox = root / INBOX
    if not inbox.is_dir():
        return []
    done = _load_state(root)
    files = [p for p in inbox.iterdir() if p.is_file() and p.suffix in (".md", ".txt")]
    return sorted(
        (p for p in files if p.name not in done),
        key=lambda p: (p.stat().st_mtime, p.name),
    )


def process_inbox(root: Path, workflow: str) -> int:
    """Run ``workflow`` once per new task file; returns how many runs failed."""
    failures = 0
    state = _load_state(root)
    for task_file in new_task_files(root):
        script = root / "adws" / f"adw_{workflow}.py"
        log.info("running %s for %s", workflow, task_file.name)
        # This interpreter is a `uv run --script` environment with the workflows' dependencies.
        proc = subprocess.run(
            [sys.executable, str(script), "--issue-file", str(task_file)],
            cwd=root,
            check=False,
        )
        outcome = "completed" if proc.returncode == 0 else f"failed (exit {proc.returncode})"
        if proc.returncode != 0:
            failures += 1
            log.error("%s for %s %s", workflow, task_file.name, outcome)
        else:
            log.info("%s for %s %s", workflow, task_file.name, outcome)
        # Recorded either way: a failing task is not retried every minute (drop it in again).
        state[task_file.name] = f"{datetime.now().isoformat(timespec='seconds')} {outcome}"
        _save_state(root, state)
    return failures


def main(argv: list[str] | None = None) -> int:
    """Watch the inbox on the cron schedule (or once with ``--once``)."""
    parser = argparse.ArgumentParser(prog="trigger_cron.py", description=__doc__.splitlines()[0])
    parser.add_argument("--once", action="store_true", help="process the inbox now and exit")
    parser.add_argument("--workflow", choices=WORKFLOWS, help="default: workflows.default_workflow")
    args = parser.parse_args(argv)
    root = PROJECT_ROOT
    config = load_config(root)
    workflow = args.workflow or str(config["workflows"].get("default_workflow") or "plan_build")
    expression = str(config["workflows"].get("cron") or "*/5 * * * *")
    try:
        schedule = parse_cron(expression)
        _load_state(root)
    except ValueError as exc:
        print(f"error: config.yml workflows.cron: {exc}", file=sys.stderr)
        return 2
    except StateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    handler = SystemLogHandler(db_path(root, config), source="trigger_cron")
    log.addHandler(handler)
    try:
        if args.once:
            return 1 if process_inbox(root, workflow) else 0
        log.info("watching %s on %r with %s (Ctrl-C stops)", INBOX, expression, workflow)
        last_minute = None
        while True:
            now = datetime.now().replace(second=0, microsecond=0)
            if now != last_minute and schedule.matches(now):
                last_minute = now
                process_inbox(root, workflow)
            time.sleep(20)
    except KeyboardInterrupt:
        return 0
    except StateError as exc:  # the state file went bad while watching
        log.error("%s", exc)
        return 1
    finally:
        handler.close()


if __name__ == "__main__":
    sys.exit(main())
