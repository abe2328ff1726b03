"""The agentic layer for a config: the team templates it uses and every file it renders, in memory.

Below the operations (``scaffold``, ``upgrade``) and ``doctor``, which all render the layer the same
way: ``layer_for`` settles the team templates (given, else remembered in ``config.yml``) and their
answers, ``desired_files`` renders, ``config_rewrite`` is the one way ``config.yml`` is rewritten
with the user's comments kept. Reads files, writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tac_bootstrap_cli.blocks import MANAGED_FILES
from tac_bootstrap_cli.config import CONFIG_FILE, ProjectConfig, dump_config, rewrite_config_text
from tac_bootstrap_cli.errors import TemplateRenderError
from tac_bootstrap_cli.overlay import (
    Overlay,
    load_overlay,
    migrate_answers,
    remembered,
    resolve_templates,
)
from tac_bootstrap_cli.plan import Action, Desired, FileAction, path_problem
from tac_bootstrap_cli.projectstate import STATE_DIR, sha256
from tac_bootstrap_cli.render import render_project


@dataclass
class Layer:
    """What one run renders: the answers, the team templates laid over the built-in ones (if
    any), and notes on what settling them changed (an overlay remembered, answers migrated)."""

    config: ProjectConfig
    overlay: Overlay | None = None
    notes: list[str] = field(default_factory=list)

    def render(self, *, templates_dir: Path | None = None, write_config: bool) -> list[Desired]:
        """Every file of this layer (``desired_files`` with its config and team templates)."""
        return desired_files(
            self.config,
            templates_dir=templates_dir,
            write_config=write_config,
            overlay=self.overlay.path if self.overlay is not None else None,
        )


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


def layer_for(config: ProjectConfig, given: Path | None, target: Path) -> Layer:
    """The layer of ``config`` in ``target``: the team templates ``given``, else the ones
    ``config.yml`` remembers; the config that remembers them, with their questions answered."""
    notes: list[str] = []
    path: Path | None
    if given is not None:
        path = Path(given).expanduser().absolute()
        value = remembered(path, target)
        if value != config.templates:
            notes.append(f"team templates {value} remembered in {CONFIG_FILE}")
            config = config.replace(templates=value)
    else:
        path = resolve_templates(config.templates, target)
    if path is None:
        return Layer(config, None, notes)
    overlay = load_overlay(path)
    config, migrated = migrate_answers(config, overlay)
    return Layer(config, overlay, notes + migrated)


def with_overlay(
    config: ProjectConfig, given: Path | None, target: Path
) -> tuple[ProjectConfig, Overlay | None, list[str]]:
    """``layer_for`` as a tuple (config, team templates, notes)."""
    layer = layer_for(config, given, target)
    return layer.config, layer.overlay, layer.notes


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
        return FileAction(
            path=CONFIG_FILE,
            action=Action.CONFLICT,
            reason=f"{reason}, but not written: {blocked[0]}",
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = dump_config(old)
    new_text, merged = rewrite_config_text(text, old, new)
    if not merged:
        reason += "; rewritten from the answers (your comments in it were not kept)"
    return config_update(new_text.encode("utf-8"), reason, before=text.encode("utf-8"))


def config_update(content: bytes, reason: str, *, before: bytes | None) -> FileAction:
    """An ``update`` of ``config.yml`` to ``content``, recorded as generated by us."""
    return FileAction(
        path=CONFIG_FILE,
        action=Action.UPDATE,
        reason=reason,
        kind="file",
        content=content,
        executable=False,
        record=sha256(content),
        base=content,
        before=before,
    )
