"""The observatory's ASGI app (Starlette): HTML views, a JSON API and a server-sent event stream.

Pages are rendered on the server with Jinja2 (autoescape on: every recorded value is hostile):
the first paint needs no script. The one script, ``static/observe.js``, subscribes to
``/api/stream`` and, when the database changes, fetches the JSON of what its page shows from this
API (the events after the newest it shows, the run or the runs page, the costs) and updates the
page with ``textContent`` and ``createElement`` only. Nothing here imports Typer or Rich, nor anything of
tac-bootstrap: generated projects run the same app (``adws/adw_observe.py``).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import svg, views
from .readonly import ObserveError
from .records import EVENTS_PAGE_MAX, EVENTS_PER_PAGE, EventCursor
from .store import Store

HERE = Path(__file__).parent
POLL_S = 0.2
KEEPALIVE_S = 15.0
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    " connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self';"
    " frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
STATUSES = views.STATUSES
RUNS_PAGE_MAX = 500  # runs per API page
SESSIONS_PER_PAGE = 100
AGENTS_MAX = 100  # Agent ids one /api/events request may name


class SecurityHeaders:
    """Adds the CSP and friends to every response (static files and errors included)."""

    def __init__(self, app: ASGIApp) -> None:
        """Wrap ``app``."""
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass through, adding the headers to ``http.response.start``."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(
    store: Store,
    *,
    title: str,
    allowed_hosts: list[str] | None = None,
    stopping: Callable[[], bool] = lambda: False,
) -> Starlette:
    """The app over ``store``; ``allowed_hosts`` guards against DNS rebinding (Host header);
    event streams end once ``stopping()`` is true, so a shutdown never waits for a browser.

    Handlers that read the database are plain functions: Starlette runs them in its thread pool,
    so a page being read never holds up the event streams."""
    env = views.environment()
    for name in env.list_templates(extensions=["html"]):
        env.get_template(name)  # compiled now (~0.1 s), not while the first page waits

    def page(
        request: Request, template: str, after: int, status: int = 200, **context: Any
    ) -> HTMLResponse:
        # ``after``: the newest event id, read before the page's content, so that the live script
        # asks for every event after it (one shown twice is recognised by its id).
        html = env.get_template(template).render(
            title=title, partial=False, path=request.url.path, after=after, **context
        )
        return HTMLResponse(html, status_code=status, headers={"cache-control": "no-store"})

    def _int(value: str | None, default: int) -> int:
        try:
            return int(value) if value is not None else default
        except ValueError:
            return default

    def _filters(request: Request) -> dict[str, Any]:
        q = request.query_params
        status = q.get("status", "")
        return {
            "status": status if status in STATUSES else "",
            "workflow": q.get("workflow", ""),
            "q": q.get("q", ""),
            "page": _int(q.get("page"), 1),
        }

    def _cursor(request: Request, *, api: bool = False) -> EventCursor:
        """Which events a phase (``phase``: its Agent id) or session shows: ``after`` /
        ``before`` an event id, ``latest``, or the first page; ``limit`` in the API only."""
        q = request.query_params
        after, before = _int(q.get("after"), -1), _int(q.get("before"), -1)
        limit = _int(q.get("limit"), EVENTS_PER_PAGE) if api else EVENTS_PER_PAGE
        return EventCursor(
            agent_id=q.get("phase", ""),
            after=after if after >= 0 else None,
            before=before if before >= 0 and after < 0 else None,
            latest=q.get("latest", "") not in ("", "0"),
            limit=min(max(limit, 1), EVENTS_PAGE_MAX),
        )

    def _with_events(request: Request) -> bool:
        """``events=0``: a run or session without its event pages (what a live page asks for:
        it fetches the events after the newest it shows from ``/api/events``)."""
        return request.query_params.get("events", "") != "0"

    def runs_page(request: Request) -> Response:
        after = store.last_event_id()
        filters = _filters(request)
        found = store.runs(**filters)
        return page(request, "runs.html", after, found=found, filters=filters, statuses=STATUSES)

    def run_page(request: Request) -> Response:
        after = store.last_event_id()
        context = views.run_context(store, request.path_params["run_id"], _cursor(request))
        if context is None:
            return page(request, "missing.html", after, 404, what="run")
        return page(request, "run.html", after, **context)

    def _sessions(request: Request) -> dict[str, Any]:
        """One page of the sessions, newest first, and whether older ones exist."""
        number = max(_int(request.query_params.get("page"), 1), 1)
        found = store.sessions(SESSIONS_PER_PAGE + 1, (number - 1) * SESSIONS_PER_PAGE)
        return {
            "sessions": found[:SESSIONS_PER_PAGE],
            "page": number,
            "has_more": len(found) > SESSIONS_PER_PAGE,
        }

    def sessions_page(request: Request) -> Response:
        after = store.last_event_id()
        return page(request, "sessions.html", after, **_sessions(request))

    def session_page(request: Request) -> Response:
        after = store.last_event_id()
        detail = store.session(request.path_params["agent_id"], _cursor(request))
        if detail is None:
            return page(request, "missing.html", after, 404, what="session")
        return page(request, "session.html", after, session=detail)

    def costs_page(request: Request) -> Response:
        after = store.last_event_id()
        return page(request, "costs.html", after, **views.costs_context(store))

    def raw_output(request: Request) -> Response:
        path = store.raw_file(request.query_params.get("path", ""))
        if path is None:
            return PlainTextResponse("no such output file", status_code=404)
        # text/plain with nosniff: whatever the agent printed is shown, never interpreted.
        return FileResponse(path, media_type="text/plain; charset=utf-8")

    def api_runs(request: Request) -> Response:
        found = store.runs(
            **_filters(request),
            per_page=min(max(_int(request.query_params.get("per_page"), 50), 1), RUNS_PAGE_MAX),
        )
        return _json(
            {
                "runs": [r.as_dict() for r in found.runs],
                "total": found.total,
                "page": found.page,
                "pages": found.pages,
                "workflows": found.workflows,
            }
        )

    def api_run(request: Request) -> Response:
        detail = store.run(
            request.path_params["run_id"],
            _cursor(request, api=True),
            events=_with_events(request),
        )
        if detail is None:
            return _json({"error": "no such run"}, 404)
        detail["gantt"] = svg.gantt_scene(detail["phases"], time.time())
        return _json(detail)

    def api_events(request: Request) -> Response:
        after = _int(request.query_params.get("after"), 0)
        limit = min(max(_int(request.query_params.get("limit"), 500), 1), EVENTS_PAGE_MAX)
        agents = request.query_params.getlist("agent")[:AGENTS_MAX] or None
        return _json({"events": store.events_after(after, limit, agents)})

    def api_costs(request: Request) -> Response:
        costs = store.costs()
        if costs is None:  # the first pass is still running: ask again
            return _json({"computing": True}, 202)
        return _json({**costs, "charts": views.cost_scenes(costs)})

    def api_sessions(request: Request) -> Response:
        return _json(_sessions(request))

    def api_session(request: Request) -> Response:
        detail = store.session(
            request.path_params["agent_id"],
            _cursor(request, api=True),
            events=_with_events(request),
        )
        if detail is None:
            return _json({"error": "no such session"}, 404)
        return _json(detail)

    async def stream(request: Request) -> Response:
        """Server-sent events: ``change`` (with the newest event id) whenever the database moves;
        each page then fetches from this API what it shows."""

        async def events() -> AsyncIterator[str]:
            stamp = await asyncio.to_thread(store.stamp)
            after = await asyncio.to_thread(store.last_event_id)
            yield f"event: hello\ndata: {json.dumps({'after': after})}\n\n"
            quiet = 0.0
            while not stopping():
                await asyncio.sleep(POLL_S)
                now = await asyncio.to_thread(store.stamp)
                if now != stamp:
                    stamp = now
                    after = await asyncio.to_thread(store.last_event_id)
                    yield f"event: change\ndata: {json.dumps({'after': after})}\n\n"
                    quiet = 0.0
                else:
                    quiet += POLL_S
                    if quiet >= KEEPALIVE_S:
                        quiet = 0.0
                        yield ": keep-alive\n\n"

        return StreamingResponse(
            events(),
            media_type="text/event-stream",
            headers={"cache-control": "no-store", "x-accel-buffering": "no"},
        )

    routes = [
        Route("/", runs_page),
        Route("/runs/{run_id}", run_page),
        Route("/sessions", sessions_page),
        Route("/sessions/{agent_id}", session_page),
        Route("/costs", costs_page),
        Route("/raw", raw_output),
        Route("/api/runs", api_runs),
        Route("/api/runs/{run_id}", api_run),
        Route("/api/events", api_events),
        Route("/api/costs", api_costs),
        Route("/api/sessions", api_sessions),
        Route("/api/sessions/{agent_id}", api_session),
        Route("/api/stream", stream),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    middleware = [Middleware(SecurityHeaders)]
    if allowed_hosts:
        middleware.append(Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts))

    async def unreadable(request: Request, exc: Exception) -> Response:
        # The file went away or is damaged past its header: one line, like the command's errors.
        message = " ".join(f"the run log cannot be read: {exc}".split())
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": message}, status_code=503)
        return PlainTextResponse(message, status_code=503)

    handlers = {sqlite3.DatabaseError: unreadable, ObserveError: unreadable}
    return Starlette(routes=routes, middleware=middleware, exception_handlers=handlers)


def _json(data: Any, status: int = 200) -> Response:
    """A JSON answer that no cache keeps (the database moves under it)."""
    return JSONResponse(data, status_code=status, headers={"cache-control": "no-store"})
