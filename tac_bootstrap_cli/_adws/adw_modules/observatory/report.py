"""The observatory as one static HTML file: the same views, no server, no script, no request.

Links become anchors inside the file, the stylesheet is inlined, and a Content-Security-Policy
``<meta>`` forbids every script and every load from elsewhere, so the file is safe to open and
to send around (it holds prompts and tool inputs: share it as you would the database).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from markupsafe import Markup

from ..adw_files import write_atomic  # noqa: TID252
from . import views
from .store import Store

DEFAULT_LIMIT = 200


def render_report(store: Store, *, title: str, limit: int = DEFAULT_LIMIT) -> str:
    """The report's HTML: runs (the latest ``limit`` in detail), sessions and costs."""
    env = views.environment(report=True)

    def part(template: str, **context: object) -> Markup:
        # Autoescaped output of our own templates: safe to embed as is.
        return Markup(
            env.get_template(template).render(title=title, partial=True, path="", **context)
        )

    found = store.runs(per_page=limit)
    runs = []
    for run in found.runs:
        context = views.run_context(store, run.id)
        if context is not None:
            runs.append((run.id, part("run.html", **context)))
    sessions = store.sessions()
    session_parts = []
    for session in sessions:
        detail = store.session(session["agent_id"])
        if detail is not None:
            session_parts.append((session["agent_id"], part("session.html", session=detail)))
    css = (views.HERE / "static" / "observe.css").read_text(encoding="utf-8")
    return env.get_template("report.html").render(
        title=title,
        css=Markup(css.replace("</", "<\\/")),  # our stylesheet; it can never close the <style>
        found=found,
        omitted=found.total > len(found.runs),
        written=datetime.now(UTC).isoformat(),
        runs_html=part(
            "runs.html",
            found=found,
            filters={"status": "", "workflow": "", "q": "", "page": 1},
            statuses=views.STATUSES,
        ),
        runs=runs,
        sessions_html=part("sessions.html", sessions=sessions, page=1, has_more=False),
        sessions=session_parts,
        costs_html=part("costs.html", **views.costs_context(store, wait=None)),
    )


def write_report(store: Store, out: Path, *, title: str, limit: int = DEFAULT_LIMIT) -> int:
    """Write the report to ``out`` atomically; returns how many runs it details."""
    html = render_report(store, title=title, limit=limit)
    write_atomic(out, html.encode("utf-8"))
    return html.count('<section class="report-run"')
