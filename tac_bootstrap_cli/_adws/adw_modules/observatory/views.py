"""What the pages show, shared by the live app and the static report: the Jinja2 environment
(autoescaped), number formats, links, and the context of the run and costs views.

No web framework here: ``report`` renders the same templates without a server.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from markupsafe import Markup

from . import svg
from .costs import COSTS_WAIT_S
from .records import EventCursor, Tokens
from .store import Store

HERE = Path(__file__).parent
STATUSES = ("running", "completed", "failed", "stale")


def _money(value: float, digits: int = 4) -> str:
    return f"${value:,.{digits}f}"


def _num(value: int | float | None) -> str:
    return f"{int(value or 0):,}"


def _dur(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return svg._duration(seconds)


def _when(text: str | None) -> str:
    """A stored timestamp shown to the second, in UTC."""
    return (text or "")[:19].replace("T", " ")


def _server_link(kind: str, ident: str = "") -> str:
    """A page's URL in the live app."""
    return {
        "runs": "/",
        "run": f"/runs/{quote(ident, safe='')}",
        "sessions": "/sessions",
        "session": f"/sessions/{quote(ident, safe='')}",
        "costs": "/costs",
    }[kind]


def _report_link(kind: str, ident: str = "") -> str:
    """A section's anchor in the one-file report."""
    return f"#{kind}-{ident}" if ident else f"#{kind}"


def environment(*, report: bool = False) -> jinja2.Environment:
    """The page templates, autoescaped; ``report`` links to anchors of one file instead of URLs."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(money=_money, num=_num, dur=_dur, when=_when)
    env.globals.update(link=_report_link if report else _server_link, report=report)
    return env


def run_context(
    store: Store, run_id: str, cursor: EventCursor | None = None
) -> dict[str, Any] | None:
    """The run view's context (the run, its phases and its Gantt chart); None when unknown."""
    detail = store.run(run_id, cursor)
    if detail is None:
        return None
    chart = Markup(svg.gantt(detail["phases"], time.time()))  # labels escaped in svg.py
    return {"detail": detail, "run": detail["run"], "chart": chart}


def _label(row: dict[str, Any]) -> str:
    """A bar's label: the key, marked when it is a mixed bucket of several models."""
    return f"{row['key']} (mixed)" if row.get("mixed") else str(row["key"])


COST_GROUPS = ("day", "workflow", "phase", "model")


def cost_scenes(costs: dict[str, Any]) -> dict[str, svg.Scene | None]:
    """The bar chart of each grouping of ``Store.costs()`` (what ``/api/costs`` adds as
    ``charts``, so that a live page draws the same bars)."""
    return {
        name: svg.bars_scene(
            [svg.Bar(_label(r), r["cost_usd"], _money(r["cost_usd"])) for r in costs[name]]
        )
        for name in COST_GROUPS
    }


def costs_context(store: Store, wait: float | None = COSTS_WAIT_S) -> dict[str, Any]:
    """The costs view's context: the sums and a bar chart per grouping. While the sums are
    still being computed (the first pass, in the background), the page is painted empty with
    ``computing`` set: it says so and fills in from ``/api/costs`` when they are ready."""
    costs = store.costs(wait)
    if costs is None:
        costs = {
            "computing": True,
            "totals": Tokens().as_dict(),
            **{name: [] for name in COST_GROUPS},
            "models_split": 0,
            "models_mixed": 0,
        }
    charts = {  # labels escaped in svg.py
        name: Markup(svg.render(scene, svg.EMPTY_BARS))
        for name, scene in cost_scenes(costs).items()
    }
    return {"costs": costs, "charts": charts}
