"""Charts: a Gantt chart of a run's phases and bar charts, computed once as a *scene* and drawn
from it twice: here as SVG text (the first paint, the report) and by ``static/observe.js`` with
``createElementNS`` when a live page updates from ``/api/runs/{id}`` or ``/api/costs``.

A scene is JSON: ``{"class", "width", "height", "label", "items"}``, each item a ``line``,
``rect`` or ``text`` with its attributes (numbers and class names), an optional ``text`` and an
optional ``title`` (a tooltip). No script and no inline ``style``: colours come from classes in
``observe.css`` (the page's Content-Security-Policy allows no inline style). Every text goes
through ``html.escape`` here and through ``textContent`` in the browser.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from .readonly import epoch_seconds

WIDTH = 900
LABEL_W = 170
ROW_H = 24
EMPTY_BARS = '<p class="empty">nothing recorded</p>'

Scene = dict[str, Any]


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


def _item(tag: str, text: str = "", title: str = "", **attrs: object) -> dict[str, Any]:
    """One element of a scene; numbers are written with one decimal."""
    shown = {
        k.rstrip("_").replace("_", "-"): (f"{v:.1f}" if isinstance(v, float) else str(v))
        for k, v in attrs.items()
    }
    item: dict[str, Any] = {"tag": tag, "attrs": shown}
    if text:
        item["text"] = text
    if title:
        item["title"] = title
    return item


def gantt_scene(phases: Sequence[dict[str, Any]], now: float) -> Scene | None:
    """A timeline of ``phases`` (from ``Store.run``): a bar per phase, attempts inside it;
    None without phases."""
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
        return None
    t0 = min(s[1] for s in spans)
    t1 = max(s[2] for s in spans)
    total = max(t1 - t0, 0.001)
    plot = WIDTH - LABEL_W - 10
    height = ROW_H * len(spans) + 30

    def x(t: float) -> float:
        return LABEL_W + (t - t0) / total * plot

    items = []
    for i in range(5):  # the time axis: 0, 1/4 ... of the run's span
        tx = LABEL_W + plot * i / 4
        anchor = "end" if i == 4 else "middle"  # the last label must not run off the chart
        items.append(_item("line", class_="axis", x1=tx, y1=0, x2=tx, y2=height - 18))
        items.append(
            _item(
                "text",
                f"+{_duration(total * i / 4)}",
                class_="tick",
                x=tx,
                y=height - 4,
                text_anchor=anchor,
            )
        )
    for row, (name, start, end, status, attempts) in enumerate(spans):
        y = row * ROW_H + 4
        items.append(_item("text", name, class_="label", x=4, y=y + 15))
        items.append(
            _item(
                "rect",
                title=f"{name}: {status}, {_duration(end - start)}",
                class_=f"bar {status}",
                x=x(start),
                y=y,
                width=max(x(end) - x(start), 2),
                height=ROW_H - 6,
            )
        )
        for s, e, label, st in attempts:
            items.append(
                _item(
                    "rect",
                    title=f"{label}: {st or 'running'}, {_duration(e - s)}",
                    class_=f"attempt {st}",
                    x=x(s),
                    y=y + 4,
                    width=max(x(e) - x(s), 2),
                    height=ROW_H - 14,
                )
            )
    return {
        "class": "gantt",
        "width": WIDTH,
        "height": height,
        "label": "timeline of the phases",
        "items": items,
    }


def bars_scene(rows: Sequence[Bar], *, label_w: int = 220, width: int = 760) -> Scene | None:
    """A horizontal bar chart, each bar labelled with its ``shown`` value; None without rows."""
    if not rows:
        return None
    top = max((r.value for r in rows), default=0.0) or 1.0
    plot = width - label_w - 120
    height = ROW_H * len(rows) + 4
    items = []
    for i, r in enumerate(rows):
        y = i * ROW_H + 2
        w = max(r.value / top * plot, 1 if r.value else 0)
        items.append(
            _item("text", r.label[:40], class_="label", x=label_w - 6, y=y + 15, text_anchor="end")
        )
        items.append(
            _item(
                "rect",
                title=f"{r.label}: {r.shown}",
                class_="bar",
                x=label_w,
                y=y + 2,
                width=float(w),
                height=ROW_H - 8,
            )
        )
        items.append(_item("text", r.shown, class_="value", x=label_w + w + 6, y=y + 15))
    return {"class": "bars", "width": width, "height": height, "label": "", "items": items}


def render(scene: Scene | None, empty: str = "") -> str:
    """A scene as SVG text (``empty`` for none); every value escaped."""
    if scene is None:
        return empty
    size = f'width="{scene["width"]}" height="{scene["height"]}"'
    label = f' aria-label="{escape(scene["label"])}"' if scene["label"] else ""
    out = [
        f'<svg class="{escape(scene["class"])}" xmlns="http://www.w3.org/2000/svg" {size}'
        f' viewBox="0 0 {scene["width"]} {scene["height"]}" role="img"{label}>'
    ]
    for item in scene["items"]:
        attrs = "".join(f' {k}="{escape(v)}"' for k, v in item["attrs"].items())
        inner = escape(item.get("text", ""))
        if "title" in item:
            inner += f"<title>{escape(item['title'])}</title>"
        out.append(f"<{item['tag']}{attrs}>{inner}</{item['tag']}>")
    out.append("</svg>")
    return "".join(out)


def gantt(phases: Sequence[dict[str, Any]], now: float) -> str:
    """The timeline of ``phases`` as SVG text ("" without phases)."""
    return render(gantt_scene(phases, now))


def bars(rows: Sequence[Bar], *, label_w: int = 220, width: int = 760) -> str:
    """A bar chart as SVG text (a "nothing recorded" line without rows)."""
    return render(bars_scene(rows, label_w=label_w, width=width), EMPTY_BARS)
