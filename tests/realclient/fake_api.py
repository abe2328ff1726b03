"""A scripted stand-in of the Anthropic Messages API, for driving the real Claude Code CLI.

Standard library only, bound to 127.0.0.1. ``POST /v1/messages`` answers as the real API does:
with ``"stream": true`` a server-sent-event stream (``message_start``, ``content_block_start`` /
``content_block_delta`` (``text_delta``, ``input_json_delta``) / ``content_block_stop``,
``message_delta`` with ``stop_reason`` and ``usage``, ``message_stop``), otherwise one JSON
message. What the "model" says is scripted per conversation:

- a ``Conversation`` is chosen by a substring of the request's first user message (the prompt),
  so the main session and each subagent follow their own script;
- the reply is the conversation's turn number ``n`` = how many assistant messages the request
  already carries, so a retried request gets the same answer (no server-side state to drift);
- a request that no conversation claims (Claude Code's side queries: titles, summaries...) gets a
  short text reply.

Every request and every usage the server sent is kept, so a test can check what the model saw
(``tool_result`` contents) and that recorded token totals equal what was billed.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_ids = itertools.count(1)


def _next_id(prefix: str) -> str:
    return f"{prefix}_{next(_ids):024d}"


@dataclass(frozen=True)
class Usage:
    """Token usage of one API response, as the real API reports it."""

    input_tokens: int = 100
    output_tokens: int = 20
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0

    def as_dict(self) -> dict[str, int]:
        """The ``usage`` object of a response."""
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
            "cache_creation_input_tokens": self.cache_creation_input_tokens,
        }


@dataclass(frozen=True)
class ToolCall:
    """A ``tool_use`` block the model emits."""

    name: str
    input: dict[str, Any]


@dataclass(frozen=True)
class Turn:
    """One assistant message: optional text, then tool calls (``stop_reason`` follows)."""

    text: str = ""
    tools: tuple[ToolCall, ...] = ()
    usage: Usage = field(default_factory=Usage)


def say(text: str, usage: Usage | None = None) -> Turn:
    """A turn that only answers with text (ends the conversation)."""
    return Turn(text=text, usage=usage or Usage())


def call(name: str, usage: Usage | None = None, text: str = "", **tool_input: Any) -> Turn:
    """A turn that calls one tool."""
    return Turn(text=text, tools=(ToolCall(name, tool_input),), usage=usage or Usage())


@dataclass
class Conversation:
    """The script of one conversation, chosen when ``key`` is in its first user message."""

    key: str
    turns: list[Turn]
    model: str | None = None  # when set, only requests for this model match


@dataclass
class Exchange:
    """One request the server answered and what it sent back."""

    body: dict[str, Any]
    conversation: str | None
    turn: int
    usage: Usage
    message_id: str


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(block.get("text", "")) for block in content if isinstance(block, dict))
    return ""


def first_user_text(body: dict[str, Any]) -> str:
    """The text of the first user message of a request."""
    for message in body.get("messages") or []:
        if message.get("role") == "user":
            return _text_of(message.get("content"))
    return ""


def tool_results(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Every ``tool_result`` block of a request, in order."""
    found = []
    for message in body.get("messages") or []:
        content = message.get("content")
        if message.get("role") == "user" and isinstance(content, list):
            found += [b for b in content if isinstance(b, dict) and b.get("type") == "tool_result"]
    return found


def result_text(block: dict[str, Any]) -> str:
    """The text a ``tool_result`` block carries to the model."""
    return _text_of(block.get("content"))


class FakeAPI:
    """The server; ``with FakeAPI() as api:`` serves on ``api.url`` until the block ends."""

    SIDE_REPLY = "ok"

    def __init__(self) -> None:
        self.conversations: list[Conversation] = []
        self.exchanges: list[Exchange] = []
        self.lock = threading.Lock()
        self.other_requests: list[tuple[str, str]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The base URL to put in ``ANTHROPIC_BASE_URL``."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def script(self, key: str, *turns: Turn, model: str | None = None) -> None:
        """Add a conversation: when ``key`` is in the first user message, answer with ``turns``."""
        self.conversations.append(Conversation(key, list(turns), model))

    def __enter__(self) -> FakeAPI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- what the tests read -------------------------------------------------------------------

    def scripted(self, key: str | None = None) -> list[Exchange]:
        """The exchanges of scripted conversations (of ``key`` only, when given)."""
        with self.lock:
            return [
                e
                for e in self.exchanges
                if e.conversation is not None and (key is None or e.conversation == key)
            ]

    def total_usage(self) -> Usage:
        """The sum of every usage the server sent (what a session was billed for)."""
        with self.lock:
            usages = [e.usage for e in self.exchanges]
        return Usage(
            sum(u.input_tokens for u in usages),
            sum(u.output_tokens for u in usages),
            sum(u.cache_read_input_tokens for u in usages),
            sum(u.cache_creation_input_tokens for u in usages),
        )

    def seen_tool_results(self, key: str | None = None) -> list[str]:
        """The texts of the tool results the model received in a conversation's last request."""
        exchanges = self.scripted(key)
        return [result_text(b) for b in tool_results(exchanges[-1].body)] if exchanges else []

    def all_request_text(self) -> str:
        """Everything any request sent to the model, as JSON text (to look for leaked secrets)."""
        with self.lock:
            return "\n".join(json.dumps(e.body) for e in self.exchanges)

    # -- answering -----------------------------------------------------------------------------

    def _choose(self, body: dict[str, Any]) -> tuple[Conversation | None, int]:
        first = first_user_text(body)
        turn = sum(1 for m in body.get("messages") or [] if m.get("role") == "assistant")
        for conversation in self.conversations:
            if conversation.key in first and (
                conversation.model is None or conversation.model == body.get("model")
            ):
                return conversation, turn
        return None, turn

    def answer(self, body: dict[str, Any]) -> tuple[Turn, Exchange]:
        """The turn for a request, recorded as an exchange."""
        conversation, index = self._choose(body)
        if conversation is None:
            turn = say(self.SIDE_REPLY, Usage(input_tokens=10, output_tokens=1))
        elif index < len(conversation.turns):
            turn = conversation.turns[index]
        else:  # the script ran out: end politely rather than loop
            turn = say("done", Usage(input_tokens=1, output_tokens=1))
        exchange = Exchange(
            body, conversation.key if conversation else None, index, turn.usage, _next_id("msg")
        )
        with self.lock:
            self.exchanges.append(exchange)
        return turn, exchange

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        """The request handler class, bound to this API (the server makes one per request)."""
        return type("Handler", (_Handler,), {"api": self})


class _Handler(BaseHTTPRequestHandler):
    """Serves the Messages API of one ``FakeAPI`` (its ``api``, set by ``FakeAPI._handler``)."""

    api: FakeAPI
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: tests read api.exchanges instead

    def _json(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _not_found(self, method: str) -> None:
        with self.api.lock:
            self.api.other_requests.append((method, self.path))
        self._json(404, {"type": "error", "error": {"type": "not_found_error"}})

    def do_GET(self) -> None:
        self._not_found("GET")

    def do_HEAD(self) -> None:
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length)
        path = self.path.split("?", 1)[0]
        if path.endswith("/count_tokens"):
            self._json(200, {"input_tokens": max(1, len(raw) // 4)})
        elif path.endswith("/v1/messages"):
            self._messages(json.loads(raw or b"{}"))
        else:
            self._not_found("POST")

    def _messages(self, body: dict[str, Any]) -> None:
        turn, exchange = self.api.answer(body)
        model = str(body.get("model") or "claude-sonnet-4-5")
        if body.get("stream"):
            self._stream(turn, exchange, model)
        else:
            self._json(200, _message(turn, exchange, model))

    def _stream(self, turn: Turn, exchange: Exchange, model: str) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("connection", "close")
        self.end_headers()
        for event, data in _events(turn, exchange, model):
            self.wfile.write(f"event: {event}\ndata: {json.dumps(data)}\n\n".encode())
            self.wfile.flush()
        self.close_connection = True


def _blocks(turn: Turn) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if turn.text:
        blocks.append({"type": "text", "text": turn.text})
    for tool in turn.tools:
        blocks.append(
            {"type": "tool_use", "id": _next_id("toolu"), "name": tool.name, "input": tool.input}
        )
    return blocks


def _stop_reason(turn: Turn) -> str:
    return "tool_use" if turn.tools else "end_turn"


def _message(turn: Turn, exchange: Exchange, model: str) -> dict[str, Any]:
    return {
        "id": exchange.message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": _blocks(turn),
        "stop_reason": _stop_reason(turn),
        "stop_sequence": None,
        "usage": turn.usage.as_dict(),
    }


def _chunks(text: str, size: int = 12) -> Iterator[str]:
    for start in range(0, len(text), size):
        yield text[start : start + size]


def _events(turn: Turn, exchange: Exchange, model: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """The SSE events of one streamed message, in the real API's order."""
    usage = turn.usage
    start_usage = dict(usage.as_dict(), output_tokens=1)
    yield (
        "message_start",
        {
            "type": "message_start",
            "message": {
                "id": exchange.message_id,
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": start_usage,
            },
        },
    )
    yield "ping", {"type": "ping"}
    for index, block in enumerate(_blocks(turn)):
        if block["type"] == "text":
            yield (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {"type": "text", "text": ""},
                },
            )
            for piece in _chunks(block["text"]):
                yield (
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "text_delta", "text": piece},
                    },
                )
        else:
            yield (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {
                        "type": "tool_use",
                        "id": block["id"],
                        "name": block["name"],
                        "input": {},
                    },
                },
            )
            for piece in _chunks(json.dumps(block["input"]), 16):
                yield (
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "input_json_delta", "partial_json": piece},
                    },
                )
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
    yield (
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": _stop_reason(turn), "stop_sequence": None},
            "usage": {
                "input_tokens": usage.input_tokens,
                "output_tokens": usage.output_tokens,
                "cache_read_input_tokens": usage.cache_read_input_tokens,
                "cache_creation_input_tokens": usage.cache_creation_input_tokens,
            },
        },
    )
    yield "message_stop", {"type": "message_stop"}
