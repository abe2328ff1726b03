"""Charts drawn on the server as SVG text: a Gantt chart of a run's phases and bar charts.

No script and no inline ``style``: colours come from classes in ``observe.css`` (the page's
Content-Security-Policy allows no inline style). Every label goes through ``html.escape``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from .store import epoch_seconds

WIDTH = 900
LABEL_W = 170
ROW_H = 24


def _duration(seconds: float) -> str:
    """``1h 02m``, ``3m 04s``, ``2.5 s`` or ``12 ms``."""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds >= 3600:
        return f"{int(seconds // 3600)}h {int(seconds % 3600 // 60):02d}m"
    if seconds >= 60:
        return f"{int(seconds // 60)}m {int(seconds % 60):02d}s"
    return f"{seconds:.1f} s"


@dataclass
class Bar:
    """One row of a bar chart."""

    label: str
    value: float
    shown: str


def gantt(phases: Sequence[dict[str, Any]], now: float) -> str:
    """A timeline of ``phases`` (from ``Store.run``): a bar per phase, attempts inside it."""
    spans: list[tuple[str, float, float, str, list[tuple[float, float, str, str]]]] = []
    for phase in phases:
        start = (
            epoch_seconds(phase.get("started_at")) or epoch_seconds(phase.get("created_at")) or now
        )
        end = epoch_seconds(phase.get("completed_at")) or now
        attempts = []
        for step in phase.get("attempts", []):
            s = epoch_seconds(step.get("start")) or start
            e = epoch_seconds(step.get("end")) or end
            attempts.append((s, e, str(step.get("name") or ""), str(step.get("status") or "")))
        spans.append(
            (str(phase.get("phase")), start, max(end, start), str(phase["status"]), attempts)
        )
    if not spans:
        return ""
    t0 = min(s[1] for s in spans)
    t1 = max(s[2] for s in spans)
    total = max(t1 - t0, 0.001)
    plot = WIDTH - LABEL_W - 10
    height = ROW_H * len(spans) + 30

    def x(t: float) -> float:
        return LABEL_W + (t - t0) / total * plot

    out = [
        f'<svg class="gantt" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}"'
        f' viewBox="0 0 {WIDTH} {height}" role="img" aria-label="timeline of the phases">'
    ]
    for i in range(5):  # the time axis: 0, 1/4 ... of the run's span
        tx = LABEL_W + plot * i / 4
        anchor = "end" if i == 4 else "middle"  # the last label must not run off the chart
        out.append(
            f'<line class="axis" x1="{tx:.1f}" y1="0" x2="{tx:.1f}" y2="{height - 18}"/>'
            f'<text class="tick" x="{tx:.1f}" y="{height - 4}" text-anchor="{anchor}">'
            f"+{escape(_duration(total * i / 4))}</text>"
        )
    for row, (name, start, end, status, attempts) in enumerate(spans):
        y = row * ROW_H + 4
        out.append(f'<text class="label" x="4" y="{y + 15}">{escape(name)}</text>')
        w = max(x(end) - x(start), 2)
        out.append(
            f'<rect class="bar {escape(status)}" x="{x(start):.1f}" y="{y}" width="{w:.1f}"'
            f' height="{ROW_H - 6}"><title>{escape(name)}: {escape(status)},'
            f" {escape(_duration(end - start))}</title></rect>"
        )
        for s, e, label, st in attempts:
            aw = max(x(e) - x(s), 2)
            out.append(
                f'<rect class="attempt {escape(st)}" x="{x(s):.1f}" y="{y + 4}" width="{aw:.1f}"'
                f' height="{ROW_H - 14}"><title>{escape(label)}: {escape(st or "running")},'
                f" {escape(_duration(e - s))}</title></rect>"
            )
    out.append("</svg>")
    return "".join(out)


def bars(rows: Sequence[Bar], *, label_w: int = 220, width: int = 760) -> str:
    """A horizontal bar chart; each bar labelled with its ``shown`` value."""
    if not rows:
        return '<p class="empty">nothing recorded</p>'
    top = max((r.value for r in rows), default=0.0) or 1.0
    plot = width - label_w - 120
    height = ROW_H * len(rows) + 4
    out = [
        f'<svg class="bars" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}" role="img">'
    ]
    for i, r in enumerate(rows):
        y = i * ROW_H + 2
        w = max(r.value / top * plot, 1 if r.value else 0)
        out.append(
            f'<text class="label" x="{label_w - 6}" y="{y + 15}" text-anchor="end">'
            f"{escape(r.label[:40])}</text>"
            f'<rect class="bar" x="{label_w}" y="{y + 2}" width="{w:.1f}" height="{ROW_H - 8}">'
            f"<title>{escape(r.label)}: {escape(r.shown)}</title></rect>"
            f'<text class="value" x="{label_w + w + 6:.1f}" y="{y + 15}">{escape(r.shown)}</text>'
        )
    out.append("</svg>")
    return "".join(out)
