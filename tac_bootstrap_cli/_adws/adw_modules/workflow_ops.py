"""The phases of an AI Developer Workflow and the one driver every ``adws/adw_*.py`` script uses.

A phase (plan, build, test, review, document) is one Agent row in the run-log database, named
after the agent that does the work (planner, builder, tester, reviewer, docs-writer), with the
ADW id, phase and workflow in its metadata. Each attempt is a step (``step_start``/``step_end``
logs) holding the Prompt rows of its agent calls. A failed attempt is retried as
``workflows.on_failure`` in config.yml says; the last failure marks the Agent ``failed`` with an
``error`` log, and the script exits 1.

One module (a reason for its length): the five phases and the driver share the ``Context`` and the
retry rule of ``run_phase``, and a workflow's whole course (arguments, phases in order, the
run-log sync at the end) reads top to bottom here.
"""

from __future__ import annotations

import argparse
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import adw_telemetry, git_ops
from .adw_logging import start_run
from .adw_sync import sync_run_log
from .agent import run_agent
from .data_types import (
    PHASE_AGENTS,
    AgentCLIError,
    PhaseError,
    PhaseFailed,
    PhaseStop,
)
from .state import ADWState
from .utils import (
    ORCHESTRATOR,
    PROJECT_ROOT,
    check_adw_id,
    db_path,
    load_config,
    new_adw_id,
    project_environ,
    retry_policy,
    slugify,
    summarize,
)

EXIT_OK = 0
EXIT_FAILED = 1
TEST_TIMEOUT_SECONDS = 1800
_SPEC_RE = re.compile(r"specs/[\w.\-/]+\.md")
_DOC_RE = re.compile(r"app_docs/[\w.\-/]+\.md")
_VERDICT_RE = re.compile(r"VERDICT:\s*(PASS|FAIL)", re.IGNORECASE)


@dataclass
class Context:
    """Everything a phase needs: where the project is, its config, the run state."""

    root: Path
    config: dict[str, Any]
    db: Path
    model: str
    workflow: str
    state: ADWState
    retries: int
    delay: float
    trace: adw_telemetry.Trace = adw_telemetry.NO_TRACE  # OpenTelemetry export, when on

    @property
    def adw_id(self) -> str:
        """The id of this ADW run."""
        return self.state.data.adw_id

    @property
    def task(self) -> str:
        """The task text the run was started with."""
        return self.state.data.task

    def command(self, name: str) -> str:
        """One of the project's commands from config.yml (test, lint, run, ...); may be empty."""
        return str(self.config.get("commands", {}).get(name) or "")

    def say(self, message: str) -> None:
        """Progress on stderr, so stdout stays free for results."""
        print(f"[adw {self.adw_id}] {message}", file=sys.stderr, flush=True)

    def warn(self, message: str) -> None:
        """Something the user must act on although the run goes on: one line on stderr."""
        print(f"warning: ADW {self.adw_id}: {message}", file=sys.stderr, flush=True)

    def commit(self, run: Any, phase: str, note: str = "", **meta: Any) -> None:
        """Commit the work of ``phase``; a commit git refused is a warning saying what to do."""
        step = git_ops.commit_all(
            f"adw {self.adw_id}: {phase} - {self.task.strip()[:60]}", self.root
        )
        run.event(f"{note}git: {step.message}", git_ok=step.ok, **meta)
        if step.withheld:
            names = git_ops.withheld_note(step.withheld)
            run.event(f"git: secret files not committed: {names}", withheld=list(step.withheld))
            self.warn(
                f"{phase}: secret files not committed: {names} (kept on disk, left out of git; "
                "keep .env files out of the repository)"
            )
        if step.error:
            self.warn(
                f"{phase}: the changes were not committed (git: {step.error}); {step.fix}, "
                "then commit them: git add -A && git commit"
            )


Body = Callable[[Any, int, bool], Any]


def run_phase(ctx: Context, phase: str, body: Body) -> Any:
    """Run ``body(run, attempt, last)`` as phase ``phase``, retrying on ``PhaseError``."""
    agent_name = PHASE_AGENTS[phase]
    record = ctx.state.phase(phase)
    attempts = ctx.retries + 1
    meta = {"adw_id": ctx.adw_id, "phase": phase, "workflow": ctx.workflow}
    with start_run(
        ctx.db, agent_name, orchestrator=ORCHESTRATOR, model=ctx.model, metadata=meta
    ) as run:
        record.agent_id = run.agent_id
        record.status = "running"
        record.error = None
        ctx.state.save()
        last_error: Exception | None = None
        for attempt in range(1, attempts + 1):
            record.attempts = attempt
            ctx.say(f"{phase}: attempt {attempt} of {attempts}")
            try:
                with (
                    ctx.trace.attempt(
                        run, phase, attempt, agent=agent_name, model=ctx.model, db=ctx.db
                    ),
                    run.step(f"{phase} attempt {attempt}", attempt=attempt),
                ):
                    value = body(run, attempt, attempt == attempts)
            except (AgentCLIError, PhaseStop) as exc:
                # A missing CLI stays missing, a project without tests has none on the next try:
                # fail now with the message that says what to do.
                last_error = exc
                run.event(f"{phase} attempt {attempt} failed, not retried: {exc}", attempt=attempt)
                break
            except PhaseError as exc:
                last_error = exc
                run.event(f"{phase} attempt {attempt} failed: {exc}", attempt=attempt)
                ctx.say(f"{phase}: attempt {attempt} failed: {exc}")
                if attempt < attempts and ctx.delay > 0:
                    time.sleep(ctx.delay)
                continue
            record.status = "completed"
            ctx.state.save()
            ctx.say(f"{phase}: done")
            return value
        record.status = "failed"
        record.error = str(last_error)
        ctx.state.save()
        # Leaving the run through an exception marks the Agent failed with an error log.
        if isinstance(last_error, AgentCLIError | PhaseStop):
            raise PhaseFailed(f"{phase} failed: {last_error}")
        raise PhaseFailed(f"{phase} failed after {record.attempts} attempt(s): {last_error}")


def _call(ctx: Context, run: Any, agent_name: str, prompt: str) -> Any:
    return run_agent(
        prompt,
        adw_id=ctx.adw_id,
        agent_name=agent_name,
        model=ctx.model,
        run=run,
        root=ctx.root,
        config=ctx.config,
    )


def _subject(ctx: Context) -> str:
    """What the agent works from: the spec when plan wrote one, else the task text."""
    spec = ctx.state.data.spec_path
    if spec:
        return f"the plan in `{spec}` (task: {ctx.task.strip()})"
    return f"this task:\n<task>\n{ctx.task.strip()}\n</task>"


def _commands_note(ctx: Context) -> str:
    parts = [
        f"{name} `{ctx.command(name)}`" for name in ("test", "lint", "run") if ctx.command(name)
    ]
    return "The project's commands: " + ", ".join(parts) + "." if parts else ""


def _existing_file(ctx: Context, named: list[str], wanted: str, kind: str) -> str:
    """The file an agent says it wrote (or the one it was asked to write); it must exist."""
    for rel in [*reversed(named), wanted]:
        path = (ctx.root / rel).resolve()
        if path.is_relative_to(ctx.root.resolve()) and path.is_file():
            return path.relative_to(ctx.root.resolve()).as_posix()
    shown = named[-1] if named else wanted
    raise PhaseError(f"the agent did not write the {kind} file {shown}")


def phase_plan(ctx: Context) -> str:
    """Write a spec under ``specs/`` for the task; returns its project-relative path."""
    wanted = f"specs/{ctx.adw_id}-{slugify(ctx.task)}.md"
    branch = f"adw-{ctx.adw_id}-{slugify(ctx.task, 30)}"
    previous = git_ops.current_branch(ctx.root)
    step = git_ops.ensure_branch(branch, ctx.root)
    if step.ok:
        # Said on stdout: the run leaves the work tree on this branch.
        back = ""
        if previous and previous != branch:
            back = f" (from {previous}; back: git switch {previous})"
        print(f"branch: {branch}{back}", flush=True)
        ctx.state.data.branch = branch
    elif step.error:
        ctx.warn(f"staying on {previous or 'the current commit'}: {step.error}; {step.fix}")
    else:
        ctx.say(f"git: {step.message}")

    def body(run: Any, attempt: int, _last: bool) -> str:
        if attempt == 1:
            run.event(f"git: {step.message}", git_ok=step.ok)
        prompt = (
            f"You are the planner of AI Developer Workflow {ctx.adw_id}.\n"
            f"Plan this task:\n<task>\n{ctx.task.strip()}\n</task>\n\n"
            "Read the code you need; do not change source files. "
            f"Write the implementation plan in Markdown to `{wanted}` with the sections "
            "Summary, Files to change, Steps, Tests and Acceptance criteria. "
            f"{_commands_note(ctx)}\n"
            f"When the file is written, reply with its path only: {wanted}"
        )
        result = _call(ctx, run, "planner", prompt)
        if not result.ok:
            raise PhaseError(f"planner error: {summarize(result.result, 500)}")
        spec = _existing_file(ctx, _SPEC_RE.findall(result.result), wanted, "spec")
        run.event(f"spec written: {spec}", spec_path=spec)
        return spec

    ctx.state.data.spec_path = None
    spec = run_phase(ctx, "plan", body)
    ctx.state.data.spec_path = spec
    ctx.state.save()
    return str(spec)


def phase_build(ctx: Context) -> str:
    """Implement the spec (or the task); commits the result when the project is a git repo."""

    def body(run: Any, _attempt: int, _last: bool) -> str:
        prompt = (
            f"You are the builder of AI Developer Workflow {ctx.adw_id}.\n"
            f"Implement {_subject(ctx)}\n\n"
            "Keep the change focused, add or update tests, and check your work. "
            f"{_commands_note(ctx)}\n"
            "Reply with a short summary of what you changed."
        )
        result = _call(ctx, run, "builder", prompt)
        if not result.ok:
            raise PhaseError(f"builder error: {summarize(result.result, 500)}")
        ctx.commit(run, "build")
        return str(result.result)

    return str(run_phase(ctx, "build", body))


def run_tests(ctx: Context) -> tuple[int, str]:
    """Run the project's test command; returns (exit code, combined output)."""
    command = ctx.command("test")
    try:
        proc = subprocess.run(
            command,
            shell=True,  # the command comes from the project's own config.yml, as typed there
            cwd=ctx.root,
            env=project_environ(ctx.root),
            capture_output=True,
            text=True,
            timeout=TEST_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return 124, f"`{command}` timed out after {TEST_TIMEOUT_SECONDS} s"
    return proc.returncode, (proc.stdout or "") + (proc.stderr or "")


# The manifest a runner needs in the project (or a parent folder), and how to create one.
_MANIFESTS = {
    "uv": ("pyproject.toml", "uv init"),
    "poetry": ("pyproject.toml", "poetry init"),
    "pipenv": ("Pipfile", "pipenv install"),
    "npm": ("package.json", "npm init"),
    "pnpm": ("package.json", "pnpm init"),
    "yarn": ("package.json", "yarn init"),
    "bun": ("package.json", "bun init"),
    "go": ("go.mod", "go mod init <module path>"),
    "cargo": ("Cargo.toml", "cargo init"),
}
# What test runners print when they found nothing to run (pytest says so with exit code 5).
_NO_TESTS_RE = re.compile(
    r"No tests found|No test files found|no packages to test|matched no packages"
)
_SKIP_HINT = "or empty commands.test in config.yml to skip the test phase"


def _program(command: str) -> str:
    """The program a shell command line starts (``FOO=1 /usr/bin/uv run x`` -> ``uv``)."""
    try:
        words = shlex.split(command)
    except ValueError:
        words = command.split()
    while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0]):
        words.pop(0)  # an environment assignment before the program
    return Path(words[0]).name if words else ""


def untestable(root: Path, command: str, code: int, output: str, install: str = "") -> str | None:
    """Why a failed test run cannot be fixed by retrying (one line saying what to do), or None.

    A missing command, a project without the manifest its runner needs, or a project without
    tests fail the same way on every attempt; anything else is left to the tester agent.
    """
    tool = _program(command)
    if code == 127:
        lines = [line.strip() for line in output.splitlines() if "not found" in line]
        why = f" ({lines[0]})" if lines else ""
        return (
            f"`{command}` could not run: command not found (exit 127){why}; install the "
            f"missing tool or change commands.test in config.yml"
        )
    if tool in _MANIFESTS:
        manifest, create = _MANIFESTS[tool]
        if not any((folder / manifest).is_file() for folder in (root, *root.parents)):
            also = f" (as does `{install}`, commands.install)" if _program(install) == tool else ""
            return (
                f"the project has no {manifest} yet, which `{command}` needs{also}: "
                f"create the project first (e.g. `{create}`), {_SKIP_HINT}"
            )
    pytest_found_none = code == 5 and ("pytest" in command or "no tests ran" in output)
    if pytest_found_none or _NO_TESTS_RE.search(output):
        return (
            f"the project has no tests yet: `{command}` found none (exit {code}); "
            f"add tests for the code the build wrote, {_SKIP_HINT}"
        )
    return None


def phase_test(ctx: Context) -> str:
    """Run the test command; on failure ask the tester agent for a fix and run it again."""
    command = ctx.command("test")

    def body(run: Any, _attempt: int, last: bool) -> str:
        if not command:
            run.event("no test command in config.yml (commands.test); nothing to run")
            return "skipped"
        code, output = run_tests(ctx)
        run.event(
            f"`{command}` exited {code}",
            exit_code=code,
            output=summarize(output[-4000:]),
        )
        if code == 0:
            return "passed"
        reason = untestable(ctx.root, command, code, output, ctx.command("install"))
        if reason:
            raise PhaseStop(reason)
        if not last:
            prompt = (
                f"You are the tester of AI Developer Workflow {ctx.adw_id}, working on "
                f"{_subject(ctx)}\n\nThe test command `{command}` failed with exit code {code}. "
                f"The end of its output:\n<output>\n{output[-6000:]}\n</output>\n\n"
                "Find the cause and fix the code (change a test only when the test is wrong). "
                "Reply with a short summary of the fix."
            )
            result = _call(ctx, run, "tester", prompt)
            if not result.ok:
                raise PhaseError(
                    f"tests failed (exit {code}) and the fix failed: {summarize(result.result, 300)}"
                )
        raise PhaseError(f"`{command}` failed with exit code {code}")

    return str(run_phase(ctx, "test", body))


def phase_review(ctx: Context) -> str:
    """Review the work against the spec; a FAIL verdict gets one fix per remaining attempt."""

    def body(run: Any, _attempt: int, last: bool) -> str:
        diff = git_ops.diff_summary(ctx.root)
        prompt = (
            f"You are the reviewer of AI Developer Workflow {ctx.adw_id}.\n"
            f"Review the current changes against {_subject(ctx)}\n\n"
            + (f"The changes:\n<diff>\n{diff}\n</diff>\n\n" if diff else "")
            + "Check that every requirement is met and nothing else changed. "
            f"{_commands_note(ctx)}\n"
            "End your answer with one line `VERDICT: PASS` or `VERDICT: FAIL`, "
            "and on FAIL list the issues to fix above it."
        )
        result = _call(ctx, run, "reviewer", prompt)
        if not result.ok:
            raise PhaseError(f"reviewer error: {summarize(result.result, 500)}")
        review_file = ctx.state.path.parent / "reviewer" / "review.md"
        review_file.parent.mkdir(parents=True, exist_ok=True)
        review_file.write_text(result.result + "\n", encoding="utf-8")
        verdicts = _VERDICT_RE.findall(result.result)
        verdict = verdicts[-1].upper() if verdicts else "MISSING"
        run.event(f"review verdict: {verdict}", verdict=verdict)
        ctx.state.data.review = verdict
        if verdict == "PASS":
            return verdict
        if not last and verdict == "FAIL":
            fix = (
                f"You are the builder of AI Developer Workflow {ctx.adw_id}. A review of "
                f"{_subject(ctx)}\nfound these issues:\n<review>\n{result.result}\n</review>\n"
                "Fix them and reply with a short summary."
            )
            fixed = _call(ctx, run, "builder", fix)
            if not fixed.ok:
                raise PhaseError(f"the fix after review failed: {summarize(fixed.result, 300)}")
        raise PhaseError(f"review verdict {verdict}")

    return str(run_phase(ctx, "review", body))


def phase_document(ctx: Context) -> str:
    """Write documentation of the change under ``app_docs/``; returns its path."""
    wanted = f"app_docs/{ctx.adw_id}-{slugify(ctx.task)}.md"

    def body(run: Any, _attempt: int, _last: bool) -> str:
        prompt = (
            f"You are the docs-writer of AI Developer Workflow {ctx.adw_id}.\n"
            f"Document the change made for {_subject(ctx)}\n\n"
            f"Write the documentation in Markdown to `{wanted}`: what changed, how to use it, "
            "how it is tested. Update README.md only where its statements became wrong.\n"
            f"When the file is written, reply with its path only: {wanted}"
        )
        result = _call(ctx, run, "docs-writer", prompt)
        if not result.ok:
            raise PhaseError(f"docs-writer error: {summarize(result.result, 500)}")
        doc = _existing_file(ctx, _DOC_RE.findall(result.result), wanted, "documentation")
        ctx.commit(run, "document", f"documentation written: {doc}; ", doc_path=doc)
        return doc

    doc = str(run_phase(ctx, "document", body))
    ctx.state.data.doc_path = doc
    ctx.state.save()
    return doc


PHASES: dict[str, Callable[[Context], str]] = {
    "plan": phase_plan,
    "build": phase_build,
    "test": phase_test,
    "review": phase_review,
    "document": phase_document,
}


def parse_args(workflow: str, argv: Sequence[str] | None) -> argparse.Namespace:
    """``"<task text>" | --issue-file PATH [--adw-id ID]``; exits 2 on a usage error."""
    parser = argparse.ArgumentParser(
        prog=f"adw_{workflow}.py",
        description=f"Run the {workflow} workflow (see the Agentic layer section of README.md).",
    )
    parser.add_argument("task", nargs="?", help="the task, as text")
    parser.add_argument("--issue-file", type=Path, help="read the task from this file instead")
    parser.add_argument("--adw-id", help="continue (or name) this ADW run: 8 hex characters")
    args = parser.parse_args(argv)
    if args.task and args.issue_file:
        parser.error("give the task as text or with --issue-file, not both")
    if args.issue_file:
        try:
            args.task = args.issue_file.read_text(encoding="utf-8")
        except OSError as exc:
            parser.error(f"cannot read --issue-file {args.issue_file}: {exc.strerror or exc}")
    if args.adw_id:
        try:
            check_adw_id(args.adw_id)
        except ValueError as exc:
            parser.error(str(exc))
    if not (args.task or "").strip() and not args.adw_id:
        parser.error("give a task (text or --issue-file PATH), or --adw-id of an earlier run")
    return args


def run_workflow(
    workflow: str,
    phases: Sequence[str],
    argv: Sequence[str] | None = None,
    root: Path | None = None,
) -> int:
    """Parse the command line, run ``phases`` in order and return the exit code."""
    args = parse_args(workflow, argv)
    base = root or PROJECT_ROOT
    try:
        config = load_config(base)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    adw_id = args.adw_id or new_adw_id()
    state = ADWState.load_or_create(adw_id, (args.task or "").strip(), workflow, base)
    if not state.data.task:
        print(
            f"error: ADW {adw_id} has no saved task; give the task text",
            file=sys.stderr,
        )
        return EXIT_FAILED
    retries, delay = retry_policy(config)
    ctx = Context(
        root=base,
        config=config,
        db=db_path(base, config),
        model=str(config.get("agent", {}).get("model") or "sonnet"),
        workflow=workflow,
        state=state,
        retries=retries,
        delay=delay,
    )
    ctx.db.parent.mkdir(parents=True, exist_ok=True)
    state.save()
    ctx.say(f"{workflow}: {', '.join(phases)} (state {state.path.relative_to(base)}, log {ctx.db})")
    ctx.trace = adw_telemetry.start_workflow(
        config, workflow=workflow, adw_id=adw_id, task=state.data.task, project=base.name
    )
    failure: str | None = "interrupted"
    try:
        for phase in phases:
            PHASES[phase](ctx)
        failure = None
    except PhaseFailed as exc:
        failure = str(exc)
        print(f"error: ADW {adw_id} {workflow}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        ctx.trace.finish(branch=state.data.branch, error=failure)
        if failure != "interrupted":  # not after Ctrl-C: the user wants out
            sync_run_log(base, config)  # to the team's server, if any; never fails the run
    print(f"ADW {adw_id} {workflow} completed")
    if state.data.spec_path:
        print(f"spec: {state.data.spec_path}")
    if state.data.doc_path:
        print(f"docs: {state.data.doc_path}")
    return EXIT_OK
