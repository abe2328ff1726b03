"""``init``, ``add-agentic`` and ``render``: the operations, and the plain functions a library user
calls (``init_project``, ``add_agentic``, ``render_again``).

Each is an ``operation.Operation`` whose ``prepare`` does the command's own checks and settles the
answers (given > existing ``config.yml`` > detected > stack defaults, then optional questions);
the pipeline itself (render, plan, show, apply, record) is ``Operation.run``. They return a
``Result``; user errors are ``TacError`` subclasses. No Typer, no Rich: the front end passes
``UICallbacks`` to show and ask things.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Unpack

from tac_bootstrap_cli import uptodate
from tac_bootstrap_cli.answers import (
    Answers,
    answers_json,
    answers_of,
    build_config,
    existing_config,
    name_from_folder,
    settle,
)
from tac_bootstrap_cli.config import COMMAND_NAMES, CONFIG_FILE, ProjectConfig, load_config
from tac_bootstrap_cli.detect import Detection, detect
from tac_bootstrap_cli.errors import ConflictError, UsageError
from tac_bootstrap_cli.layer import Layer, config_rewrite, layer_for
from tac_bootstrap_cli.names import validate_project_name
from tac_bootstrap_cli.operation import (
    Operation,
    Options,
    Result,
    Settings,
    UICallbacks,
    existing_changes,
)
from tac_bootstrap_cli.plan import Action, Desired, FileAction, Plan
from tac_bootstrap_cli.projectstate import load_manifest
from tac_bootstrap_cli.render import render_app

__all__ = [
    "APP_REASON",
    "COMMAND_NAMES",
    "AddAgentic",
    "Answers",
    "InitProject",
    "RenderAgain",
    "Result",
    "UICallbacks",
    "add_agentic",
    "answers_json",
    "app_actions",
    "build_config",
    "existing_changes",
    "init_project",
    "load_config",
    "render_again",
]


# --- public commands ---------------------------------------------------------------------------


def init_project(
    name: str,
    output_dir: Path | None = None,
    *,
    answers: Answers | None = None,
    layer_only: bool = False,
    **settings: Unpack[Settings],
) -> Result:
    """Create ``output_dir/name`` with the agentic layer and a minimal application (all or nothing).

    The application skeleton (``app_templates/<language>/``) is written only into a new or empty
    folder and only without ``layer_only``; it is never recorded in the manifest (the user's code
    from the start). ``overlay`` is a team templates folder (remembered in ``config.yml``);
    ``templates_dir`` replaces the built-in templates altogether (for tests).
    """
    validate_project_name(name)  # before anything else: a bad name never reaches the disk
    base = Path(output_dir) if output_dir is not None else Path.cwd()
    _refuse_file_on_the_way(base.absolute())
    target = (base / name).absolute()
    options = Options.of(target, (answers or Answers()).named(name), **settings)
    return InitProject(options, layer_only=layer_only).run()


def add_agentic(
    path: Path | None = None, *, answers: Answers | None = None, **settings: Unpack[Settings]
) -> Result:
    """Add the agentic layer to the existing project at ``path``, detecting its stack."""
    target = Path(path if path is not None else ".").absolute()
    return AddAgentic(Options.of(target, answers, **settings)).run()


def render_again(path: Path | None = None, **settings: Unpack[Settings]) -> Result:
    """Render the layer again from ``path/config.yml``.

    The config file is read, not written, except that a new ``overlay`` is remembered in it (that
    one key changes; comments and layout stay). Answers to new team-template questions are used
    with their defaults without being written (``upgrade`` records them).
    """
    target = Path(path if path is not None else ".").absolute()
    return RenderAgain(Options.of(target, **settings)).run()


# --- the operations ----------------------------------------------------------------------------


class _Scaffold(Operation[Result]):
    """init, add-agentic and render: the pipeline as it is, giving a plain ``Result``."""

    def result(self, layer: Layer, plan: Plan) -> Result:
        """The result this run fills in as it goes: the layer's notes, then the run's own."""
        o = self.options
        notes = [*layer.notes, *self.notes]
        return Result(self.command, o.target, layer.config, plan, o.dry_run, notes=notes)


class _Answering(_Scaffold):
    """An operation that settles the answers itself and writes ``config.yml`` from them."""

    def settle(
        self, given: Answers, existing: ProjectConfig | None, detection: Detection | None
    ) -> Layer:
        """The answers step: proposal, the user's changes, validation, then the team templates."""
        with self.step("answers"):
            ui = self.ui
            proposal = settle(given, existing, detection, ui.ask_stack, ui.ask_commands)
            self.recorder.note_answers(proposal.as_dict())
            config = build_config(proposal, existing)
            return layer_for(config, self.options.overlay, self.options.target)

    def existing(self) -> ProjectConfig | None:
        """A previous run's answers; a ``config.yml`` is ours only when our manifest lists it
        (someone else's is not our input)."""
        ours = self.manifest is not None and CONFIG_FILE in self.manifest.files
        return existing_config(self.options.target, ours=ours)


class InitProject(_Answering):
    """``init``: a new project (staged: all or nothing), or the layer again in one of ours."""

    command = "init"

    def __init__(self, options: Options, *, layer_only: bool = False) -> None:
        super().__init__(options)
        self.layer_only = layer_only
        self.app = False  # write the application skeleton (a new project without layer_only)

    def prepare(self) -> Layer:
        """Refuse a file or someone else's non-empty folder; settle the answers."""
        target = self.options.target
        self.manifest = load_manifest(target) if target.is_dir() else None
        fresh = not target.exists() or (target.is_dir() and not any(target.iterdir()))
        if target.exists() and not target.is_dir():
            raise UsageError(f"{target} exists and is not a folder")
        if not fresh and self.manifest is None and not self.options.force:
            raise ConflictError(
                f"{target} exists and is not empty",
                hint="choose another name or --output-dir, or use --force to add the layer in place",
            )
        self.staged = fresh
        self.app = fresh and not self.layer_only
        return self.settle(self.options.answers, self.existing(), None)

    def extra(self, layer: Layer, plan: Plan) -> list[FileAction]:
        """The application skeleton, for a new project."""
        if not self.app:
            return []
        return app_actions(layer.config, {a.path for a in plan.actions})


class AddAgentic(_Answering):
    """``add-agentic``: the layer added to an existing project, its stack detected."""

    command = "add-agentic"
    detection: Detection | None = None

    def prepare(self) -> Layer:
        """Detect the stack; the folder's name is the project's unless one is given or known."""
        target = self.options.target
        if not target.is_dir():
            raise UsageError(
                f"{target} is not a folder", hint="use `tac-bootstrap init` for a new project"
            )
        self.manifest = load_manifest(target)
        existing = self.existing()
        with self.step("detect") as step:
            detection = self.detection = detect(target)
            step.update(
                language=detection.language,
                framework=detection.framework,
                package_manager=detection.package_manager,
            )
        given = self.options.answers
        if given.name is None and existing is None:
            given = given.named(name_from_folder(target))
        return self.settle(given, existing, detection)

    def result(self, layer: Layer, plan: Plan) -> Result:
        """The result, with the detection (the front end notes the commands it did not find)."""
        result = super().result(layer, plan)
        result.detection = self.detection
        return result


class RenderAgain(_Scaffold):
    """``render``: the layer again from ``config.yml``, which is read, not written.

    A run that changes nothing leaves a receipt (``uptodate``) from which the next ``render`` of
    the unchanged project is answered without rendering.
    """

    command = "render"
    writes_config = False
    config_action: FileAction | None = None

    def __init__(self, options: Options) -> None:
        super().__init__(options)
        o = options
        # A receipt holds what a plain render concludes: no option that changes the outcome.
        plain = not (o.dry_run or o.force or o.trust or o.overlay or o.templates_dir)
        self.receipt = plain and uptodate.receipt_file(o.target) is not None  # caches on
        self.snapshots: list[uptodate.Snapshot] = []  # each taken before its inputs were read
        self.answers: dict[str, Any] = {}

    def _snapshot(self, paths: list[str]) -> None:
        """One more snapshot for the receipt; what cannot be snapshotted (an unreadable tool, a
        recorded path outside the project) only means no receipt, never a failed render."""
        if not self.receipt:
            return
        try:
            self.snapshots.append(uptodate.snapshot(self.options.target, paths))
        except (OSError, ValueError):
            self.receipt = False

    def prepare(self) -> Layer:
        """Read the answers; a new team templates folder is remembered in ``config.yml``."""
        target = self.options.target
        if not target.is_dir():
            raise UsageError(f"{target} is not a folder")
        self._snapshot([])
        with self.step("config"):
            config = load_config(target)
            layer = layer_for(config, self.options.overlay, target)
        self.answers = answers_of(layer.config).as_dict()
        self.recorder.note_answers(self.answers)
        if layer.config.templates != config.templates:
            new = config.replace(templates=layer.config.templates)
            self.config_action = config_rewrite(target, config, new, "team templates remembered")
        self.manifest = load_manifest(target)
        return layer

    def decide(self, layer: Layer, desired: list[Desired]) -> Plan:
        """The plan, with the paths it compares snapshotted first when a receipt may follow."""
        if layer.overlay is None:
            known = list(self.manifest.files) if self.manifest is not None else []
            self._snapshot([d.path for d in desired] + known)
        return super().decide(layer, desired)

    def extra(self, layer: Layer, plan: Plan) -> list[FileAction]:
        """The ``config.yml`` rewrite that remembers new team templates, if any."""
        del layer, plan  # the hook's arguments; prepare already decided the rewrite
        return [self.config_action] if self.config_action is not None else []

    def finish(self, result: Result) -> None:
        """A receipt when nothing changed, nothing needs saying and no team templates are used."""
        actions = result.plan.actions
        if (
            self.receipt
            and len(self.snapshots) == 2  # both taken: a plain render without team templates
            and not result.dry_run
            and not result.notes
            and result.config.templates is None
            and actions
            and all(fa.action is Action.UNCHANGED for fa in actions)
        ):
            files = [(fa.path, fa.reason) for fa in actions]
            uptodate.keep_receipt(self.options.target, self.snapshots, files, self.answers)


# --- the application skeleton ------------------------------------------------------------------

APP_REASON = "application skeleton (your code: not in the manifest, never rewritten)"


def app_actions(config: ProjectConfig, taken: set[str]) -> list[FileAction]:
    """``create`` actions for the stack's application skeleton, for a new project.

    Their ``record`` is None, so the manifest never lists them: ``render`` and ``upgrade`` treat
    them as the user's files (never written, never obsolete). A path the layer also writes stays
    the layer's.
    """
    p = config.project
    actions = []
    for path, rf in render_app(config.template_context(), p.language).items():
        if path in taken or path == CONFIG_FILE:
            continue
        actions.append(
            FileAction(
                path=path,
                action=Action.CREATE,
                reason=APP_REASON,
                kind="file",
                content=rf.content,
                executable=rf.executable,
            )
        )
    return actions


def _refuse_file_on_the_way(folder: Path) -> None:
    """The output folder, or the nearest of its parents that exists, must be a folder: a file
    there would otherwise surface as a bare "File exists" / "Not a directory" from the OS."""
    for path in (folder, *folder.parents):
        try:
            if path.is_dir():
                return
            if path.exists() or path.is_symlink():
                raise UsageError(f"{path} is not a folder", hint="choose another --output-dir")
        except OSError:  # no permission to look: creating the project reports it with its cause
            return
