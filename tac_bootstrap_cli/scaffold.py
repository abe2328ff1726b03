"""One command, start to finish, as plain functions a library user can call.

``init_project``, ``add_agentic`` and ``render_again`` each: settle the answers (given > existing
``config.yml`` > detected > stack defaults, then optional prompts), render in memory, plan against
the disk and the manifest, and (unless ``dry_run``) apply. They return a ``Result``; user errors
are ``TacError`` subclasses. No Typer, no Rich: the CLI passes ``Hooks`` to show and ask things.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tac_bootstrap_cli import __version__
from tac_bootstrap_cli.apply import apply_in_place, apply_staged
from tac_bootstrap_cli.bases import load_bases
from tac_bootstrap_cli.blocks import MANAGED_FILES
from tac_bootstrap_cli.config import (
    CONFIG_FILE,
    Commands,
    ProjectConfig,
    dump_config,
    load_config,
    parse_config,
    rewrite_config_text,
)
from tac_bootstrap_cli.detect import Detection, detect
from tac_bootstrap_cli.errors import (
    ConflictError,
    Declined,
    TacError,
    UsageError,
    ValidationFailed,
)
from tac_bootstrap_cli.history import NullRecorder, Recorder
from tac_bootstrap_cli.manifest import STATE_DIR, Manifest, load_manifest, sha256
from tac_bootstrap_cli.names import validate_project_name
from tac_bootstrap_cli.overlay import (
    Overlay,
    load_overlay,
    migrate_answers,
    remembered,
    resolve_templates,
)
from tac_bootstrap_cli.plan import Action, Desired, FileAction, Plan, compute_plan, path_problem
from tac_bootstrap_cli.render import TemplateRenderError, render_app, render_project
from tac_bootstrap_cli.stacks import LANGUAGES, default_commands, language_for_package_manager

COMMAND_NAMES = tuple(Commands.model_fields)


@dataclass
class Answers:
    """What the user chose; ``None`` (or a missing command) means: detect it or use the default."""

    name: str | None = None
    language: str | None = None
    framework: str | None = None
    package_manager: str | None = None
    commands: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain data, for the history and for JSON."""
        return {
            "name": self.name,
            "language": self.language,
            "framework": self.framework,
            "package_manager": self.package_manager,
            "commands": dict(self.commands),
        }


AskStack = Callable[[Answers, Detection | None], Answers]
AskCommands = Callable[[dict[str, str]], dict[str, str]]


@dataclass
class Hooks:
    """Optional callbacks through which a front end asks questions and shows progress."""

    ask_stack: AskStack | None = None  # proposed name and stack -> the user's choice
    ask_commands: AskCommands | None = None  # commands for that stack -> the user's choice
    on_plan: Callable[[Plan], None] | None = None  # before anything is written
    confirm: Callable[[Plan], bool] | None = None  # False: write nothing (``Declined``)
    on_file: Callable[[FileAction], None] | None = None  # after each file reached the disk


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


# --- public commands ---------------------------------------------------------------------------


def init_project(
    name: str,
    output_dir: Path | None = None,
    *,
    answers: Answers | None = None,
    force: bool = False,
    dry_run: bool = False,
    hooks: Hooks | None = None,
    recorder: Recorder | None = None,
    templates_dir: Path | None = None,
    overlay: Path | None = None,
    layer_only: bool = False,
) -> Result:
    """Create ``output_dir/name`` with the agentic layer and a minimal application (all or nothing).

    The application skeleton (``app_templates/<language>/``) is written only into a new or empty
    folder and only without ``layer_only``; it is never recorded in the manifest (the user's code
    from the start). ``overlay`` is a team templates folder (remembered in ``config.yml``);
    ``templates_dir`` replaces the built-in templates altogether (for tests).
    """
    rec = recorder or NullRecorder()
    hooks = hooks or Hooks()
    validate_project_name(name)  # before anything else: a bad name never reaches the disk
    base = Path(output_dir) if output_dir is not None else Path.cwd()
    _refuse_file_on_the_way(base.absolute())
    target = (base / name).absolute()
    rec.set_metadata(target=str(target), dry_run=dry_run)
    given = _with_name(answers, name)
    manifest = load_manifest(target) if target.is_dir() else None
    fresh = not target.exists() or (target.is_dir() and not any(target.iterdir()))
    if target.exists() and not target.is_dir():
        raise UsageError(f"{target} exists and is not a folder")
    if not fresh and manifest is None and not force:
        raise ConflictError(
            f"{target} exists and is not empty",
            hint="choose another name or --output-dir, or use --force to add the layer in place",
        )
    # A config.yml is ours only when our manifest lists it; someone else's is not our input.
    existing = _existing_config(target, ours=manifest is not None and CONFIG_FILE in manifest.files)
    return _settle_and_generate(
        "init",
        target,
        given,
        existing,
        None,
        manifest,
        staged=fresh,
        force=force,
        dry_run=dry_run,
        hooks=hooks,
        recorder=rec,
        templates_dir=templates_dir,
        overlay=overlay,
        app=fresh and not layer_only,
    )


def add_agentic(
    path: Path | None = None,
    *,
    answers: Answers | None = None,
    force: bool = False,
    dry_run: bool = False,
    hooks: Hooks | None = None,
    recorder: Recorder | None = None,
    templates_dir: Path | None = None,
    overlay: Path | None = None,
) -> Result:
    """Add the agentic layer to the existing project at ``path``, detecting its stack."""
    rec = recorder or NullRecorder()
    hooks = hooks or Hooks()
    target = Path(path if path is not None else ".").absolute()
    rec.set_metadata(target=str(target), dry_run=dry_run)
    if not target.is_dir():
        raise UsageError(
            f"{target} is not a folder", hint="use `tac-bootstrap init` for a new project"
        )
    manifest = load_manifest(target)
    existing = _existing_config(target, ours=manifest is not None and CONFIG_FILE in manifest.files)
    with rec.step("detect") as step:
        detection = detect(target)
        step.update(
            language=detection.language,
            framework=detection.framework,
            package_manager=detection.package_manager,
        )
    given = answers or Answers()
    if given.name is None and existing is None:
        given = _with_name(given, _name_from_folder(target))
    result = _settle_and_generate(
        "add-agentic",
        target,
        given,
        existing,
        detection,
        manifest,
        staged=False,
        force=force,
        dry_run=dry_run,
        hooks=hooks,
        recorder=rec,
        templates_dir=templates_dir,
        overlay=overlay,
    )
    result.detection = detection
    return result


def render_again(
    path: Path | None = None,
    *,
    force: bool = False,
    dry_run: bool = False,
    hooks: Hooks | None = None,
    recorder: Recorder | None = None,
    templates_dir: Path | None = None,
    overlay: Path | None = None,
) -> Result:
    """Render the layer again from ``path/config.yml``.

    The config file is read, not written, except that a new ``overlay`` is remembered in it (that
    one key changes; comments and layout stay). Answers to new team-template questions are used
    with their defaults without being written (``upgrade`` records them).
    """
    rec = recorder or NullRecorder()
    target = Path(path if path is not None else ".").absolute()
    rec.set_metadata(target=str(target), dry_run=dry_run)
    if not target.is_dir():
        raise UsageError(f"{target} is not a folder")
    with rec.step("config"):
        config = load_config(target)
        remembered_before = config.templates
        config, team, notes = with_overlay(config, overlay, target)
    rec.note_answers(_answers_of(config).as_dict())
    extra: list[FileAction] = []
    if config.templates != remembered_before:
        old = load_config(target)
        new = old.model_copy(update={"templates": config.templates})
        action = config_rewrite(target, old, new, "team templates remembered")
        extra = [action] if action is not None else []
    result = _generate(
        "render",
        target,
        config,
        load_manifest(target),
        staged=False,
        force=force,
        dry_run=dry_run,
        hooks=hooks or Hooks(),
        recorder=rec,
        templates_dir=templates_dir,
        write_config=False,
        overlay=team,
        extra=extra,
    )
    result.notes = notes
    return result


def desired_files(
    config: ProjectConfig,
    *,
    templates_dir: Path | None = None,
    write_config: bool = True,
    overlay: Path | None = None,
) -> list[Desired]:
    """Everything the templates (and the engine) want in the project for ``config``, in memory."""
    rendered = render_project(
        config.template_context(), templates_dir=templates_dir, overlay=overlay
    )
    desired = []
    for path, rf in rendered.items():
        if path in (CONFIG_FILE, STATE_DIR) or path.startswith(STATE_DIR + "/"):
            raise TemplateRenderError(
                f"template {rf.source} renders to {path}, which only the engine writes"
            )
        if path in MANAGED_FILES:
            desired.append(Desired(path, rf.content, rf.executable, "block"))
        else:
            desired.append(Desired(path, rf.content, rf.executable, "file"))
    if write_config:
        desired.append(Desired(CONFIG_FILE, dump_config(config).encode("utf-8")))
    return desired


# --- the shared pipeline -----------------------------------------------------------------------


def _settle_and_generate(
    command: str,
    target: Path,
    given: Answers,
    existing: ProjectConfig | None,
    detection: Detection | None,
    manifest: Manifest | None,
    *,
    staged: bool,
    force: bool,
    dry_run: bool,
    hooks: Hooks,
    recorder: Recorder,
    templates_dir: Path | None,
    overlay: Path | None,
    app: bool = False,
) -> Result:
    """``init`` and ``add-agentic`` after their checks: settle the answers, then generate."""
    with recorder.step("answers"):
        config = _settle(given, existing, detection, hooks, recorder)
        config, team, notes = with_overlay(config, overlay, target)
    result = _generate(
        command,
        target,
        config,
        manifest,
        staged=staged,
        force=force,
        dry_run=dry_run,
        hooks=hooks,
        recorder=recorder,
        templates_dir=templates_dir,
        write_config=True,
        overlay=team,
        app=app,
    )
    result.notes = notes + result.notes
    return result


def _generate(
    command: str,
    target: Path,
    config: ProjectConfig,
    manifest: Manifest | None,
    *,
    staged: bool,
    force: bool,
    dry_run: bool,
    hooks: Hooks,
    recorder: Recorder,
    templates_dir: Path | None,
    write_config: bool,
    overlay: Overlay | None = None,
    extra: list[FileAction] | None = None,
    app: bool = False,
) -> Result:
    app_notes: list[str] = []
    with recorder.step("render") as step:
        desired = desired_files(
            config,
            templates_dir=templates_dir,
            write_config=write_config,
            overlay=overlay.path if overlay is not None else None,
        )
        step.update(files=len(desired))
    with recorder.step("plan") as step:
        plan = compute_plan(
            target,
            desired,
            manifest,
            template_version=__version__,
            force=force,
            inputs=() if write_config else (CONFIG_FILE,),
            previous_bases=_previous_bases(target, manifest, recorder),
            overlay_version=overlay.version if overlay is not None else None,
        )
        if app:
            extra = [
                *(extra or []),
                *app_actions(config, {a.path for a in plan.actions}, app_notes),
            ]
        if extra:
            plan.actions = sorted([*plan.actions, *extra], key=lambda a: a.path)
        step.update(**{a.value: n for a, n in plan.counts().items()})
    result = Result(command, target, config, plan, dry_run, notes=app_notes)
    if hooks.on_plan is not None:
        hooks.on_plan(plan)
    for fa in plan.listed():
        recorder.warning(f"{fa.path}: {fa.action.value}: {fa.details}", path=fa.path)
    declined = False
    try:
        if dry_run:
            for fa in plan.actions:
                recorder.file_action(fa, written=False)
            return result
        if hooks.confirm is not None and not hooks.confirm(plan):
            declined = True
            raise Declined()

        def on_file(fa: FileAction) -> None:
            recorder.file_action(fa, written=True)
            if hooks.on_file is not None:
                hooks.on_file(fa)

        with recorder.step("apply", strategy="staged" if staged else "in-place"):
            apply = apply_staged if staged else _in_place(command)
            report = apply(plan, on_file=on_file)
        result.written = report.written
        for fa in plan.actions:
            if not fa.writes:
                recorder.file_action(fa, written=False)
        return result
    finally:
        done = plan.changes if dry_run else len(result.written)
        recorder.set_metadata(files_changed=done, files=len(plan.actions))
        recorder.set_summary(
            f"{command} {target}: declined, nothing written" if declined else result.summary
        )


def existing_changes(plan: Plan) -> list[FileAction]:
    """The writes that change a file already on disk (all but ``create``): what a person at a
    terminal is asked about before anything is written."""
    return [fa for fa in plan.actions if fa.writes and fa.action is not Action.CREATE]


APP_REASON = "application skeleton (your code: not in the manifest, never rewritten)"


def app_actions(config: ProjectConfig, taken: set[str], notes: list[str]) -> list[FileAction]:
    """``create`` actions for the stack's application skeleton, for a new project.

    Their ``record`` is None, so the manifest never lists them: ``render`` and ``upgrade`` treat
    them as the user's files (never written, never obsolete). A path the layer also writes stays
    the layer's. A framework without a skeleton yet gets none, and a note saying so.
    """
    p = config.project
    if p.framework != "none":
        notes.append(
            f"no application skeleton for {p.framework} yet: only the agentic layer was written"
            f" (create the {p.framework} app, then run {config.commands.test})"
        )
        return []
    actions = []
    for path, rf in render_app(config.template_context(), p.language).items():
        if path in taken or path == CONFIG_FILE:
            continue
        actions.append(
            FileAction(path, Action.CREATE, APP_REASON, "file", rf.content, rf.executable)
        )
    return actions


def with_overlay(
    config: ProjectConfig, given: Path | None, target: Path
) -> tuple[ProjectConfig, Overlay | None, list[str]]:
    """The team overlay to use (``given``, else the one ``config.yml`` remembers), the config that
    remembers it, with the overlay's questions applied to the answers, and notes on what changed."""
    notes: list[str] = []
    path: Path | None
    if given is not None:
        path = Path(given).expanduser().absolute()
        value = remembered(path, target)
        if value != config.templates:
            notes.append(f"team templates {value} remembered in {CONFIG_FILE}")
            config = config.model_copy(update={"templates": value})
    else:
        path = resolve_templates(config.templates, target)
    if path is None:
        return config, None, notes
    overlay = load_overlay(path)
    config, migrated = migrate_answers(config, overlay)
    return config, overlay, notes + migrated


def config_rewrite(
    target: Path, old: ProjectConfig, new: ProjectConfig, reason: str
) -> FileAction | None:
    """The write that takes ``config.yml`` from ``old`` to ``new`` answers, keeping the user's
    comments where a merge can; None when the answers are the same."""
    if new == old:
        return None
    path = target / CONFIG_FILE
    blocked = path_problem(target.resolve(), CONFIG_FILE)
    if blocked is not None:
        return FileAction(CONFIG_FILE, Action.CONFLICT, f"{reason}, but not written: {blocked[0]}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = dump_config(old)
    new_text, merged = rewrite_config_text(text, old, new)
    if not merged:
        reason += "; rewritten from the answers (your comments in it were not kept)"
    content = new_text.encode("utf-8")
    return FileAction(
        CONFIG_FILE,
        Action.UPDATE,
        reason,
        "file",
        content,
        False,
        sha256(content),
        content,
        text.encode("utf-8"),
    )


def _previous_bases(
    target: Path, manifest: Manifest | None, recorder: Recorder
) -> dict[str, bytes]:
    """The recorded bases (kept for files this run leaves alone); a damaged archive only warns."""
    if manifest is None:
        return {}
    try:
        return load_bases(target)
    except TacError as exc:
        recorder.warning(f"{exc}; bases of files not written now are dropped")
        return {}


def _in_place(command: str) -> Callable[..., Any]:
    def run(plan: Plan, *, on_file: Callable[[FileAction], None]) -> Any:
        return apply_in_place(plan, on_file=on_file, command=command)

    return run


# --- answers -----------------------------------------------------------------------------------


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


def _with_name(answers: Answers | None, name: str) -> Answers:
    a = answers or Answers()
    return Answers(name, a.language, a.framework, a.package_manager, dict(a.commands))


def _name_from_folder(target: Path) -> str:
    name = target.name
    try:
        validate_project_name(name)
    except UsageError as exc:
        raise UsageError(
            f"the folder name {name!r} is not a usable project name: {exc.message}",
            hint="pass --name",
        ) from None
    return name


def _existing_config(target: Path, *, ours: bool = True) -> ProjectConfig | None:
    """A previous run's ``config.yml`` (the defaults of a rerun); None when absent or not ours."""
    path = target / CONFIG_FILE
    if not path.is_file():
        return None
    try:
        return parse_config(path.read_text(encoding="utf-8"), str(path))
    except (TacError, UnicodeDecodeError, OSError):
        if ours:
            raise  # our own file, broken: say where, rather than silently ignoring the answers
        return None  # someone else's config.yml: the plan reports it as a conflict


def _answers_of(config: ProjectConfig) -> Answers:
    p = config.project
    commands = config.commands.model_dump()
    return Answers(p.name, p.language, p.framework, p.package_manager, commands)


def _settle(
    given: Answers,
    existing: ProjectConfig | None,
    detection: Detection | None,
    hooks: Hooks,
    recorder: Recorder,
) -> ProjectConfig:
    """Merge given answers over a previous config, the detection and the defaults; then ask."""
    proposal = _propose(given, existing, detection)
    if hooks.ask_stack is not None:
        asked = hooks.ask_stack(proposal, detection)
        proposal = Answers(asked.name, asked.language, asked.framework, asked.package_manager)
        proposal.commands = _commands_for(proposal, given, existing, detection)
    if hooks.ask_commands is not None:
        proposal.commands = hooks.ask_commands(proposal.commands)
    recorder.note_answers(proposal.as_dict())
    return build_config(proposal, existing)


def _propose(
    given: Answers, existing: ProjectConfig | None, detection: Detection | None
) -> Answers:
    """The answers to start from; a previous stack or detection only counts for the same language.

    The language is the given one, else the previous config's or the detected one, else the one
    the given package manager implies, else Python."""
    if existing is not None:
        p = existing.project
        base: tuple[str | None, ...] = (p.language, p.framework, p.package_manager)
    elif detection is not None and detection.found:
        base = (detection.language, detection.framework, detection.package_manager)
    else:
        base = (None, None, None)
    # Nothing known about the language: a package manager alone tells it (--package-manager cargo).
    implied = language_for_package_manager(given.package_manager or "")
    language = given.language or base[0] or implied or "python"
    same = language == base[0]
    framework = given.framework or (base[1] if same else None) or "none"
    default_pm = LANGUAGES[language][0] if language in LANGUAGES else ""
    pm = given.package_manager or (base[2] if same else None) or default_pm
    name = given.name or (existing.project.name if existing else None)
    proposal = Answers(name, language, framework, pm)
    proposal.commands = _commands_for(proposal, given, existing, detection)
    return proposal


def _commands_for(
    proposal: Answers, given: Answers, existing: ProjectConfig | None, detection: Detection | None
) -> dict[str, str]:
    """Every command for the chosen stack: given > previous config > detected > stack default."""
    stack = (proposal.language, proposal.framework, proposal.package_manager)
    commands: dict[str, str] = {}
    try:
        slug = validate_project_name(proposal.name or "")
        lang, fw, pm = (str(x) for x in stack)
        commands.update(vars(default_commands(lang, pm, fw, slug)))
    except (UsageError, ValueError):
        pass  # an invalid answer: build_config reports it
    if (
        detection is not None
        and (detection.language, detection.framework, detection.package_manager) == stack
    ):
        commands.update(detection.commands)
    if existing is not None:
        p = existing.project
        if (p.language, p.framework, p.package_manager) == stack:
            commands.update(existing.commands.model_dump())
    commands.update({k: v for k, v in given.commands.items() if v})
    return commands


def build_config(answers: Answers, existing: ProjectConfig | None = None) -> ProjectConfig:
    """Validate answers into a ``ProjectConfig``, keeping a previous config's other settings."""
    data: dict[str, Any] = existing.model_dump(mode="json", exclude_none=True) if existing else {}
    data["project"] = {
        "name": answers.name or "",
        "language": answers.language or "python",
        "framework": answers.framework or "none",
        "package_manager": answers.package_manager or "",
    }
    data["commands"] = {k: v for k, v in answers.commands.items() if k in COMMAND_NAMES}
    try:
        return ProjectConfig.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed("answers", [_problem(err) for err in exc.errors()]) from None


def _problem(err: Any) -> str:
    loc = ".".join(str(p) for p in err.get("loc", ()))
    msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
    return f"{loc}: {msg}" if loc else msg


def answers_json(answers: Answers) -> str:
    """Answers as compact JSON (what the history's Prompt row holds)."""
    return json.dumps(answers.as_dict(), ensure_ascii=False, sort_keys=True)
