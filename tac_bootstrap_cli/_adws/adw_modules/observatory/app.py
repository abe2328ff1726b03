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


def _int(value: str | None, default: int) -> int:
    """``value`` as an int; ``default`` when missing or not a number."""
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _filters(request: Request) -> dict[str, Any]:
    """The run list's filters from the query string (an unknown status: none)."""
    q = request.query_params
    status = q.get("status", "")
    return {
        "status": status if status in STATUSES else "",
        "workflow": q.get("workflow", ""),
        "q": q.get("q", ""),
        "page": _int(q.get("page"), 1),
    }


def _cursor(request: Request, *, api: bool = False) -> EventCursor:
    """Which events a phase (``phase``: its Agent id) or session shows: ``after`` / ``before``
    an event id, ``latest``, or the first page; ``limit`` in the API only."""
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
    """``events=0``: a run or session without its event pages (what a live page asks for: it
    fetches the events after the newest it shows from ``/api/events``)."""
    return request.query_params.get("events", "") != "0"


class _Pages:
    """The HTML pages over one store.

    Handlers that read the database are plain methods: Starlette runs them in its thread pool,
    so a page being read never holds up the event streams."""

    def __init__(self, store: Store, title: str) -> None:
        self.store = store
        self.title = title
        self.env = views.environment()
        for name in self.env.list_templates(extensions=["html"]):
            self.env.get_template(name)  # compiled now (~0.1 s), not while the first page waits

    def page(
        self, request: Request, template: str, after: int, status: int = 200, **context: Any
    ) -> HTMLResponse:
        """``template`` rendered; ``after``: the newest event id, read before the page's content,
        so that the live script asks for every event after it (one shown twice is recognised by
        its id)."""
        html = self.env.get_template(template).render(
            title=self.title, partial=False, path=request.url.path, after=after, **context
        )
        return HTMLResponse(html, status_code=status, headers={"cache-control": "no-store"})

    def runs(self, request: Request) -> Response:
        """The run list."""
        after = self.store.last_event_id()
        filters = _filters(request)
        found = self.store.runs(**filters)
        return self.page(
            request, "runs.html", after, found=found, filters=filters, statuses=STATUSES
        )

    def run(self, request: Request) -> Response:
        """One run."""
        after = self.store.last_event_id()
        context = views.run_context(self.store, request.path_params["run_id"], _cursor(request))
        if context is None:
            return self.page(request, "missing.html", after, 404, what="run")
        return self.page(request, "run.html", after, **context)

    def sessions(self, request: Request) -> Response:
        """The interactive sessions."""
        after = self.store.last_event_id()
        return self.page(request, "sessions.html", after, **_sessions(self.store, request))

    def session(self, request: Request) -> Response:
        """One session."""
        after = self.store.last_event_id()
        detail = self.store.session(request.path_params["agent_id"], _cursor(request))
        if detail is None:
            return self.page(request, "missing.html", after, 404, what="session")
        return self.page(request, "session.html", after, session=detail)

    def costs(self, request: Request) -> Response:
        """Costs per day, workflow, phase and model."""
        after = self.store.last_event_id()
        return self.page(request, "costs.html", after, **views.costs_context(self.store))

    def raw_output(self, request: Request) -> Response:
        """A run's raw stream output, as plain text."""
        path = self.store.raw_file(request.query_params.get("path", ""))
        if path is None:
            return PlainTextResponse("no such output file", status_code=404)
        # text/plain with nosniff: whatever the agent printed is shown, never interpreted.
        return FileResponse(path, media_type="text/plain; charset=utf-8")


def _sessions(store: Store, request: Request) -> dict[str, Any]:
    """One page of the sessions, newest first, and whether older ones exist."""
    number = max(_int(request.query_params.get("page"), 1), 1)
    found = store.sessions(SESSIONS_PER_PAGE + 1, (number - 1) * SESSIONS_PER_PAGE)
    return {
        "sessions": found[:SESSIONS_PER_PAGE],
        "page": number,
        "has_more": len(found) > SESSIONS_PER_PAGE,
    }


class _Api:
    """The JSON API the live pages read, and the stream that tells them the database moved."""

    def __init__(self, store: Store, stopping: Callable[[], bool]) -> None:
        self.store = store
        self.stopping = stopping

    def runs(self, request: Request) -> Response:
        """A page of runs."""
        found = self.store.runs(
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

    def run(self, request: Request) -> Response:
        """One run with its phases (and their event pages unless ``events=0``) and its Gantt."""
        detail = self.store.run(
            request.path_params["run_id"],
            _cursor(request, api=True),
            events=_with_events(request),
        )
        if detail is None:
            return _json({"error": "no such run"}, 404)
        detail["gantt"] = svg.gantt_scene(detail["phases"], time.time())
        return _json(detail)

    def events(self, request: Request) -> Response:
        """The events after an event id (of the given Agents only, when named)."""
        after = _int(request.query_params.get("after"), 0)
        limit = min(max(_int(request.query_params.get("limit"), 500), 1), EVENTS_PAGE_MAX)
        agents = request.query_params.getlist("agent")[:AGENTS_MAX] or None
        return _json({"events": self.store.events_after(after, limit, agents)})

    def costs(self, _request: Request) -> Response:
        """The cost sums and their charts; 202 while the first pass still runs."""
        costs = self.store.costs()
        if costs is None:  # the first pass is still running: ask again
            return _json({"computing": True}, 202)
        return _json({**costs, "charts": views.cost_scenes(costs)})

    def sessions(self, request: Request) -> Response:
        """A page of sessions."""
        return _json(_sessions(self.store, request))

    def session(self, request: Request) -> Response:
        """One session with a page of its events (none with ``events=0``)."""
        detail = self.store.session(
            request.path_params["agent_id"],
            _cursor(request, api=True),
            events=_with_events(request),
        )
        if detail is None:
            return _json({"error": "no such session"}, 404)
        return _json(detail)

    async def stream(self, _request: Request) -> Response:
        """Server-sent events: ``change`` (with the newest event id) whenever the database moves;
        each page then fetches from this API what it shows."""
        return StreamingResponse(
            self._changes(),
            media_type="text/event-stream",
            headers={"cache-control": "no-store", "x-accel-buffering": "no"},
        )

    async def _changes(self) -> AsyncIterator[str]:
        store = self.store
        stamp = await asyncio.to_thread(store.stamp)
        after = await asyncio.to_thread(store.last_event_id)
        yield f"event: hello\ndata: {json.dumps({'after': after})}\n\n"
        quiet = 0.0
        while not self.stopping():
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


async def _unreadable(request: Request, exc: Exception) -> Response:
    """The file went away or is damaged past its header: one line, like the command's errors."""
    message = " ".join(f"the run log cannot be read: {exc}".split())
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": message}, status_code=503)
    return PlainTextResponse(message, status_code=503)


def create_app(
    store: Store,
    *,
    title: str,
    allowed_hosts: list[str] | None = None,
    stopping: Callable[[], bool] = lambda: False,
) -> Starlette:
    """The app over ``store``; ``allowed_hosts`` guards against DNS rebinding (Host header);
    event streams end once ``stopping()`` is true, so a shutdown never waits for a browser."""
    pages, api = _Pages(store, title), _Api(store, stopping)
    routes = [
        Route("/", pages.runs),
        Route("/runs/{run_id}", pages.run),
        Route("/sessions", pages.sessions),
        Route("/sessions/{agent_id}", pages.session),
        Route("/costs", pages.costs),
        Route("/raw", pages.raw_output),
        Route("/api/runs", api.runs),
        Route("/api/runs/{run_id}", api.run),
        Route("/api/events", api.events),
        Route("/api/costs", api.costs),
        Route("/api/sessions", api.sessions),
        Route("/api/sessions/{agent_id}", api.session),
        Route("/api/stream", api.stream),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    middleware = [Middleware(SecurityHeaders)]
    if allowed_hosts:
        middleware.append(Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts))
    handlers = {sqlite3.DatabaseError: _unreadable, ObserveError: _unreadable}
    return Starlette(routes=routes, middleware=middleware, exception_handlers=handlers)


def _json(data: Any, status: int = 200) -> Response:
    """A JSON answer that no cache keeps (the database moves under it)."""
    return JSONResponse(data, status_code=status, headers={"cache-control": "no-store"})
