"""One operation: the pipeline every writing command runs, with its options held once.

In the spirit of copier's ``Worker``: ``Options`` (frozen) holds what was asked (target, answers,
force, dry run, team templates, trust, UI callbacks, history recorder), and ``Operation.run`` is
the one copy of the pipeline prepare -> render -> plan -> show -> apply -> record. A command
(``scaffold``: init, add-agentic, render; ``upgrade``) overrides only the steps it does
differently. No Typer, no Rich: a front end passes ``UICallbacks`` to show and ask things.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypedDict, TypeVar, Unpack

from tac_bootstrap_cli import __version__
from tac_bootstrap_cli.answers import Answers, AskCommands, AskStack
from tac_bootstrap_cli.apply import ApplyReport, apply_in_place, apply_staged
from tac_bootstrap_cli.config import CONFIG_FILE, ProjectConfig
from tac_bootstrap_cli.detect import Detection
from tac_bootstrap_cli.errors import Declined, TacError
from tac_bootstrap_cli.history import NullRecorder, Recorder
from tac_bootstrap_cli.layer import Layer
from tac_bootstrap_cli.plan import Desired, FileAction, Plan, Policy, compute_plan
from tac_bootstrap_cli.plan import (
    existing_changes as existing_changes,  # importable here, as before
)
from tac_bootstrap_cli.projectstate import Manifest, load_bases
from tac_bootstrap_cli.trust import granting

if TYPE_CHECKING:
    from tac_bootstrap_cli.modelgen import GenerateResult


@dataclass
class UICallbacks:
    """Optional callbacks through which a front end asks questions and shows progress."""

    ask_stack: AskStack | None = None  # proposed name and stack -> the user's choice
    ask_commands: AskCommands | None = None  # commands for that stack -> the user's choice
    on_plan: Callable[[Plan], None] | None = None  # before anything is written
    confirm: Callable[[Plan], bool] | None = None  # False: write nothing (``Declined``)
    on_file: Callable[[FileAction], None] | None = None  # after each file reached the disk
    # Around each recorded step (its name): e.g. a progress line while a slow one runs.
    progress: Callable[[str], AbstractContextManager[object]] | None = None


class Settings(TypedDict, total=False):
    """The options a library call takes as keywords (``Options`` but the target and answers)."""

    force: bool
    dry_run: bool
    overlay: Path | None
    templates_dir: Path | None
    trust: bool
    ui: UICallbacks | None
    recorder: Recorder | None


@dataclass(frozen=True)
class Options:
    """What one run was asked to do, held once for every step of its pipeline."""

    target: Path
    answers: Answers = field(default_factory=Answers)  # init and add-agentic only
    force: bool = False
    dry_run: bool = False
    overlay: Path | None = None  # team templates given now (remembered in config.yml)
    templates_dir: Path | None = None  # replaces the built-in templates altogether (tests)
    trust: bool = False  # trust in-repository team templates as they are now (--trust)
    ui: UICallbacks = field(default_factory=UICallbacks)
    recorder: Recorder = field(default_factory=NullRecorder)

    @classmethod
    def of(
        cls, target: Path, answers: Answers | None = None, **settings: Unpack[Settings]
    ) -> Options:
        """Options for ``target`` from a library call's keywords (None: the default)."""
        return cls(
            target,
            answers or Answers(),
            force=settings.get("force", False),
            dry_run=settings.get("dry_run", False),
            overlay=settings.get("overlay"),
            templates_dir=settings.get("templates_dir"),
            trust=settings.get("trust", False),
            ui=settings.get("ui") or UICallbacks(),
            recorder=settings.get("recorder") or NullRecorder(),
        )


@dataclass
class Result:
    """What one command did."""

    command: str
    target: Path
    config: ProjectConfig
    plan: Plan
    dry_run: bool
    written: list[str] = field(default_factory=list)
    detection: Detection | None = None
    notes: list[str] = field(default_factory=list)  # answers migrated, templates remembered...

    @property
    def summary(self) -> str:
        """One line: what happened where."""
        counts = ", ".join(f"{n} {a.value}" for a, n in self.plan.counts().items()) or "no files"
        verb = "would write" if self.dry_run else "wrote"
        written = self.plan.changes if self.dry_run else len(self.written)
        return f"{self.command} {self.target}: {verb} {written} files ({counts})"


class Worker:
    """Options held once, and what every command does with them: recorded steps (each inside the
    UI's ``progress`` callback) and a recorded outcome."""

    command: ClassVar[str] = ""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.recorder = options.recorder
        self.ui = options.ui

    @contextmanager
    def step(self, name: str, **meta: object) -> Iterator[Any]:
        """The recorder's step ``name``; yields the dict whose items it records at the end."""
        progress = self.ui.progress(name) if self.ui.progress is not None else nullcontext()
        with self.recorder.step(name, **meta) as result, progress:
            yield result

    def conclude(self, summary: str, **meta: object) -> None:
        """Record the run's outcome: its metadata (files changed...) and its one-line summary."""
        self.recorder.set_metadata(**meta)
        self.recorder.set_summary(summary)


R = TypeVar("R", bound=Result)


class Operation(Worker, Generic[R]):
    """One run of the pipeline, giving an ``R``; subclasses write ``prepare`` and ``result`` and
    override the other steps where they differ."""

    writes_config: ClassVar[bool] = True  # config.yml written from the answers (else an input)

    def __init__(self, options: Options) -> None:
        super().__init__(options)
        self.manifest: Manifest | None = None  # what the previous run recorded (set by prepare)
        self.staged = False  # build in a staging folder renamed into place (a new project)
        self.notes: list[str] = []  # said after the run, after the layer's own notes
        self.declined = False

    def run(self) -> R:
        """prepare -> render -> plan -> show -> apply (or a dry run's preview) -> record."""
        options = self.options
        self.recorder.set_metadata(target=str(options.target), dry_run=options.dry_run)
        # Only ever adds trust: a caller's own ``granting`` block stays in force.
        with granting() if options.trust else nullcontext():
            layer = self.prepare()
            result = self.result(layer, self.plan(layer, self.render(layer)))
            self.show(result.plan)
            try:
                if options.dry_run:
                    self.preview(result)
                elif self.confirm(result.plan):
                    self.apply(result)
                else:
                    self.declined = True
                    raise Declined()
                return result
            finally:
                self.record(result)

    def prepare(self) -> Layer:
        """The command's own checks and answers, before anything is rendered: the layer."""
        raise NotImplementedError

    def render(self, layer: Layer) -> list[Desired]:
        """Every file the templates want, in memory."""
        with self.step("render") as step:
            desired = layer.render(
                templates_dir=self.options.templates_dir, write_config=self.writes_config
            )
            step.update(files=len(desired))
        return desired

    def plan(self, layer: Layer, desired: list[Desired]) -> Plan:
        """The plan step: ``decide``, with the counts recorded."""
        with self.step("plan") as step:
            plan = self.decide(layer, desired)
            step.update(**{a.value: n for a, n in plan.counts().items()})
        return plan

    def decide(self, layer: Layer, desired: list[Desired]) -> Plan:
        """Each path's action against the disk and the manifest, plus the command's ``extra``."""
        plan = compute_plan(
            self.options.target,
            desired,
            self.manifest,
            template_version=__version__,
            policy=Policy.render(force=self.options.force, bases=self._previous_bases()),
            inputs=() if self.writes_config else (CONFIG_FILE,),
        )
        plan.overlay_version = layer.overlay.version if layer.overlay is not None else None
        extra = self.extra(layer, plan)
        if extra:
            plan.actions = sorted([*plan.actions, *extra], key=lambda a: a.path)
        return plan

    def extra(self, layer: Layer, plan: Plan) -> list[FileAction]:
        """Writes of the command's own beside the templates' (none here)."""
        del layer, plan  # a hook: the commands that add writes use them
        return []

    def result(self, layer: Layer, plan: Plan) -> R:
        """The result this run fills in as it goes."""
        raise NotImplementedError

    def show(self, plan: Plan) -> None:
        """The plan to the front end; what the user must hear about to the history's warnings."""
        if self.ui.on_plan is not None:
            self.ui.on_plan(plan)
        for fa in plan.listed():
            self.recorder.warning(f"{fa.path}: {fa.action.value}: {fa.details}", path=fa.path)

    def confirm(self, plan: Plan) -> bool:
        """Whether to go on (the front end's question, if it asks one)."""
        return self.ui.confirm is None or self.ui.confirm(plan)

    def preview(self, result: R) -> None:
        """A dry run: every action recorded as not written, then ``finish``."""
        for fa in result.plan.actions:
            self.recorder.file_action(fa, written=False)
        self.finish(result)

    def apply(self, result: R) -> None:
        """The apply step (``write``), the actions that write nothing recorded, then ``finish``."""
        with self.step("apply", strategy="staged" if self.staged else "in-place"):
            report = self.write(result)
        result.written = report.written
        for fa in result.plan.actions:
            if not fa.writes:
                self.recorder.file_action(fa, written=False)
        self.finish(result)

    def write(self, result: R) -> ApplyReport:
        """Put the plan on disk (all or nothing when staged, else file by file)."""
        if self.staged:
            return apply_staged(result.plan, on_file=self.file_written)
        return apply_in_place(result.plan, on_file=self.file_written, command=self.command)

    def file_written(self, fa: FileAction) -> None:
        """After each file reached the disk: recorded, then told to the front end."""
        self.recorder.file_action(fa, written=True)
        if self.ui.on_file is not None:
            self.ui.on_file(fa)

    def finish(self, result: R) -> None:
        """The command's last steps after the files (none here)."""

    def record(self, result: R) -> None:
        """The outcome, whatever happened: files changed and the summary."""
        plan = result.plan
        done = plan.changes if result.dry_run else len(result.written)
        summary = result.summary
        if self.declined:
            summary = f"{self.command} {result.target}: declined, nothing written"
        self.conclude(summary, files_changed=done, files=len(plan.actions))

    def _previous_bases(self) -> dict[str, bytes]:
        """The recorded bases (kept for files this run leaves alone); a damaged archive only warns."""
        if self.manifest is None:
            return {}
        try:
            return load_bases(self.options.target)
        except TacError as exc:
            self.recorder.warning(f"{exc}; bases of files not written now are dropped")
            return {}


def generate_models(
    spec: Path, out: Path, dialect: str = "sqlite", **settings: Unpack[Settings]
) -> GenerateResult:
    """``generate models``: the data layer of ``spec`` for ``dialect`` (``sqlite``, ``postgres``)
    generated into ``out`` (``modelgen.generate_models``), recorded like every other command's
    run."""
    return GenerateModels(Options.of(out, **settings)).run(spec, dialect)


class GenerateModels(Worker):
    """``generate models``: one ``generate`` step between its target and its outcome (``modelgen``
    does the work and knows nothing of the history)."""

    command = "generate models"

    def run(self, spec: Path, dialect: str = "sqlite") -> GenerateResult:
        """Generate from ``spec`` into the target folder, for ``dialect``."""
        from tac_bootstrap_cli import modelgen  # heavy, and only this command needs it

        o = self.options
        self.recorder.set_metadata(target=str(o.target.resolve()), spec=str(spec), dialect=dialect)
        with self.step("generate"):
            result = modelgen.generate_models(
                spec, o.target, dry_run=o.dry_run, force=o.force, dialect=dialect
            )
        verb = "would change" if o.dry_run else "changed"
        self.conclude(
            f"{self.command} {result.module}: {len(result.changed)} of {len(result.files)} files"
            f" {verb}",
            files_changed=0 if o.dry_run else len(result.changed),
        )
        return result
