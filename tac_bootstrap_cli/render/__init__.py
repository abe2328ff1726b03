"""Templates -> in-memory files: ``render_project(config)`` returns every output file, writing nothing."""

from tac_bootstrap_cli.render.engine import (
    BASE_MODULES,
    RenderedFile,
    TemplateRenderError,
    render_app,
    render_project,
    templates_root,
)

__all__ = [
    "BASE_MODULES",
    "RenderedFile",
    "TemplateRenderError",
    "render_app",
    "render_project",
    "templates_root",
]
