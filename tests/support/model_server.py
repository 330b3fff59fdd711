"""Scripted model server that speaks the OpenAI and Anthropic wire formats.

Tests point the real ``openai`` and ``anthropic`` SDKs at this server on
127.0.0.1 and script the assistant turns they receive, so provider code runs
end to end with no network access and no API key. Two endpoints exist:

* ``POST /v1/chat/completions``: OpenAI Chat Completions, streamed as
  ``chat.completion.chunk`` server-sent events ending in ``data: [DONE]``, or
  returned as one ``chat.completion`` object.
* ``POST /v1/messages``: Anthropic Messages, streamed as named events from
  ``message_start`` to ``message_stop``, or returned as one ``message`` object.

Every request to either endpoint takes the next item from one shared script.
A ``ScriptedTurn`` becomes an assistant reply and a ``ScriptedFailure`` becomes
an HTTP error or a stream that breaks off. When the script is empty, the reply
is the text ``(script exhausted)`` so that a test fails on an assertion rather
than hanging.

The event layout follows the streaming parsers of openai 3.60 and anthropic
2.17 (``openai/_streaming.py``, ``anthropic/_streaming.py`` and
``anthropic/lib/streaming/_messages.py``). Token counts are rough estimates of
about four characters per token, not the output of a real tokenizer.
"""

from __future__ import annotations

import json
import logging
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from typing import Any

logger = logging.getLogger(__name__)

OPENAI_CHAT_PATH = "/v1/chat/completions"
ANTHROPIC_MESSAGES_PATH = "/v1/messages"

EXHAUSTED_TEXT = "(script exhausted)"

# Each text and each arguments string is streamed in up to this many deltas.
STREAM_FRAGMENTS = 3


@dataclass(frozen=True)
class ScriptedToolCall:
    """Tool call that the scripted model makes."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class ScriptedTurn:
    """Assistant reply: streamed text followed by zero or more parallel tool calls."""

    text: str = ""
    tool_calls: tuple[ScriptedToolCall, ...] = ()


@dataclass(frozen=True)
class ScriptedFailure:
    """Failed request: an HTTP error status, or with ``mid_stream`` a broken 200 response.

    With ``mid_stream`` the server sends the response headers and the first text
    chunk, then closes the connection before the chunked body ends, so the
    client sees an incomplete body rather than a clean end of stream.
    """

    status: int = 500
    message: str = "scripted failure"
    mid_stream: bool = False


ScriptItem = ScriptedTurn | ScriptedFailure

_EXHAUSTED_TURN = ScriptedTurn(text=EXHAUSTED_TEXT)


def split_fragments(text: str, parts: int = STREAM_FRAGMENTS) -> list[str]:
    """Split ``text`` into at most ``parts`` consecutive pieces that join back to it."""
    if not text:
        return []
    size = -(-len(text) // parts)
    return [text[start : start + size] for start in range(0, len(text), size)]


def estimate_tokens(text: str) -> int:
    """Return a rough token count of about four characters per token, at least 1."""
    return max(1, len(text) // 4)


def _completion_tokens(turn: ScriptedTurn) -> int:
    generated = turn.text + "".join(call.name + call.arguments for call in turn.tool_calls)
    return estimate_tokens(generated)


# OpenAI Chat Completions


def _openai_error_kind(status: int) -> tuple[str, str | None]:
    """Return an OpenAI error ``type`` and ``code`` for ``status``.

    The pairs follow common OpenAI error bodies, such as ``invalid_api_key`` on
    401, and are not a complete list of what the API sends.
    """
    if status == 401:
        return "invalid_request_error", "invalid_api_key"
    if status == 404:
        return "invalid_request_error", "model_not_found"
    if status == 429:
        return "requests", "rate_limit_exceeded"
    if status >= 500:
        return "server_error", None
    return "invalid_request_error", None


def openai_error_body(failure: ScriptedFailure) -> dict[str, Any]:
    """Build the OpenAI error body for ``failure``."""
    error_type, code = _openai_error_kind(failure.status)
    return {
        "error": {
            "message": failure.message,
            "type": error_type,
            "param": None,
            "code": code,
        }
    }


def _openai_usage(prompt_tokens: int, turn: ScriptedTurn) -> dict[str, int]:
    completion_tokens = _completion_tokens(turn)
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def _openai_finish_reason(turn: ScriptedTurn) -> str:
    return "tool_calls" if turn.tool_calls else "stop"


def openai_completion(
    turn: ScriptedTurn, *, completion_id: str, model: str, prompt_tokens: int
) -> dict[str, Any]:
    """Build a non-streamed ``chat.completion`` object for ``turn``."""
    message: dict[str, Any] = {
        "role": "assistant",
        "content": turn.text if turn.text or not turn.tool_calls else None,
        "refusal": None,
    }
    if turn.tool_calls:
        message["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for call in turn.tool_calls
        ]

    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": _openai_finish_reason(turn),
            }
        ],
        "usage": _openai_usage(prompt_tokens, turn),
    }


def _openai_deltas(turn: ScriptedTurn) -> list[dict[str, Any]]:
    """Return the ``delta`` objects of a streamed turn, before the finishing chunk.

    Text comes first in several content deltas. Each tool call then opens with
    a delta that carries its index, id, type, name and an empty arguments
    string, and later deltas for the same index carry argument fragments only.
    """
    deltas: list[dict[str, Any]] = [{"content": piece} for piece in split_fragments(turn.text)]

    for index, call in enumerate(turn.tool_calls):
        opening = {
            "index": index,
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }
        deltas.append({"tool_calls": [opening]})
        for piece in split_fragments(call.arguments):
            fragment = {"index": index, "function": {"arguments": piece}}
            deltas.append({"tool_calls": [fragment]})

    if not deltas:
        deltas.append({"content": ""})

    # The first delta of an OpenAI stream names the role, and a turn that only
    # calls tools has null content there.
    deltas[0] = {"role": "assistant", "content": None, **deltas[0]}
    return deltas


def openai_chunks(
    turn: ScriptedTurn,
    *,
    completion_id: str,
    model: str,
    prompt_tokens: int,
    include_usage: bool,
) -> Iterator[dict[str, Any]]:
    """Yield the ``chat.completion.chunk`` objects of a streamed turn, without ``[DONE]``.

    With ``include_usage`` every chunk has ``usage: null`` and one extra final
    chunk has no choices and the usage totals, which is how the OpenAI API responds
    to a request with ``stream_options.include_usage``.
    """
    created = int(time.time())

    def chunk(delta: dict[str, Any], finish_reason: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [
                {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            ],
        }
        if include_usage:
            body["usage"] = None
        return body

    for delta in _openai_deltas(turn):
        yield chunk(delta, None)
    yield chunk({}, _openai_finish_reason(turn))

    if include_usage:
        yield {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [],
            "usage": _openai_usage(prompt_tokens, turn),
        }


# Anthropic Messages

# Error types are values of ``ErrorType`` in anthropic 2.17. NOTE: the statuses
# paired with billing_error, conflict_error and timeout_error are inferred from
# the names, not taken from Anthropic's error documentation.
_ANTHROPIC_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    409: "conflict_error",
    429: "rate_limit_error",
    504: "timeout_error",
    529: "overloaded_error",
}


def anthropic_error_body(failure: ScriptedFailure) -> dict[str, Any]:
    """Build the Anthropic error body for ``failure``."""
    default_type = "api_error" if failure.status >= 500 else "invalid_request_error"
    error_type = _ANTHROPIC_ERROR_TYPES.get(failure.status, default_type)
    return {"type": "error", "error": {"type": error_type, "message": failure.message}}


def _anthropic_stop_reason(turn: ScriptedTurn) -> str:
    return "tool_use" if turn.tool_calls else "end_turn"


def _tool_input(arguments: str) -> dict[str, Any]:
    """Parse tool arguments into an input object, wrapping text that is not one.

    A Messages response carries tool input as a JSON object, so a scripted
    arguments string that is malformed or not an object is returned as
    ``{"_raw": arguments}`` to keep it visible to the test.
    """
    try:
        parsed = json.loads(arguments) if arguments else {}
    except json.JSONDecodeError:
        return {"_raw": arguments}
    if not isinstance(parsed, dict):
        return {"_raw": arguments}
    return parsed


def anthropic_message(
    turn: ScriptedTurn, *, message_id: str, model: str, input_tokens: int
) -> dict[str, Any]:
    """Build a non-streamed Messages ``message`` object for ``turn``.

    Tool arguments that are not a JSON object appear as ``{"_raw": arguments}``
    under ``input``, because the non-streamed format has no field for raw
    argument text. A streamed turn sends them verbatim as ``partial_json``.
    """
    content: list[dict[str, Any]] = []
    if turn.text or not turn.tool_calls:
        content.append({"type": "text", "text": turn.text})
    for call in turn.tool_calls:
        content.append(
            {"type": "tool_use", "id": call.id, "name": call.name, "input": _tool_input(call.arguments)}
        )

    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": _anthropic_stop_reason(turn),
        "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": _completion_tokens(turn)},
    }


def anthropic_events(
    turn: ScriptedTurn, *, message_id: str, model: str, input_tokens: int
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield ``(event name, data)`` pairs of a streamed Messages turn.

    The text block, if any, has index 0 and the tool_use blocks follow it. A
    tool_use block opens with ``input: {}`` and its arguments string arrives
    unchanged, even when malformed, as ``input_json_delta`` fragments.
    """
    yield "message_start", {
        "type": "message_start",
        "message": {
            "id": message_id,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": input_tokens, "output_tokens": 1},
        },
    }
    yield "ping", {"type": "ping"}

    index = 0
    if turn.text or not turn.tool_calls:
        yield from _anthropic_text_block(index, turn.text)
        index += 1
    for call in turn.tool_calls:
        yield from _anthropic_tool_use_block(index, call)
        index += 1

    yield "message_delta", {
        "type": "message_delta",
        "delta": {"stop_reason": _anthropic_stop_reason(turn), "stop_sequence": None},
        "usage": {"output_tokens": _completion_tokens(turn)},
    }
    yield "message_stop", {"type": "message_stop"}


def _anthropic_text_block(index: int, text: str) -> Iterator[tuple[str, dict[str, Any]]]:
    yield "content_block_start", {
        "type": "content_block_start",
        "index": index,
        "content_block": {"type": "text", "text": ""},
    }
    for piece in split_fragments(text):
        yield "content_block_delta", {
            "type": "content_block_delta",
            "index": index,
            "delta": {"type": "text_delta", "text": piece},
        }
    yield "content_block_stop", {"type": "content_block_stop", "index": index}


def _anthropic_tool_use_block(
    index: int, call: ScriptedToolCall
) -> Iterator[tuple[str, dict[str, Any]]]:
    yield "content_block_start", {
        "type": "content_block_start",
        "index": index,
        "content_block": {"type": "tool_use", "id": call.id, "name": call.name, "input": {}},
    }
    for piece in split_fragments(call.arguments):
        yield "content_block_delta", {
            "type": "content_block_delta",
            "index": index,
            "delta": {"type": "input_json_delta", "partial_json": piece},
        }
    yield "content_block_stop", {"type": "content_block_stop", "index": index}


# HTTP server


class _HTTPServer(ThreadingHTTPServer):
    """HTTP server that tracks open connections so ``stop`` can close idle keep-alives."""

    daemon_threads = True

    def __init__(self, owner: ScriptedModelServer) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.owner = owner
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # The client closed it first.

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError):
            # Tests may close a stream before reading it to the end.
            logger.debug("Client %s disconnected during a response: %s", client_address, error)
            return
        logger.exception("Scripted model server failed on a request from %s", client_address)


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 is needed for chunked streaming bodies, because only a chunked
    # body lets the client tell an abrupt close from a finished stream.
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - name fixed by the base class
        pass

    def do_POST(self) -> None:
        # The body is read before routing so that a rejected request leaves
        # nothing unread on a keep-alive connection.
        raw_body = self._read_body()
        path = self.path.split("?", 1)[0]
        if path == OPENAI_CHAT_PATH:
            api = "openai"
        elif path == ANTHROPIC_MESSAGES_PATH:
            api = "anthropic"
        else:
            message = f"Not found: POST {path}. Use {OPENAI_CHAT_PATH} or {ANTHROPIC_MESSAGES_PATH}."
            logger.warning("Scripted model server rejected a request: %s", message)
            self._send_json(404, {"error": {"message": message, "type": "not_found_error"}})
            return

        problem = None
        try:
            body = json.loads(raw_body)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            problem = f"Invalid JSON request body on POST {path}: {error}"
        else:
            if not isinstance(body, dict):
                problem = f"Request body on POST {path} is not a JSON object."
        if problem is not None:
            logger.warning("Scripted model server rejected a request: %s", problem)
            self._send_failure(api, ScriptedFailure(400, problem))
            return

        headers = {name.lower(): value for name, value in self.headers.items()}
        item = self.server.owner._take_item(
            {"api": api, "path": self.path, "headers": headers, "body": body}
        )
        if isinstance(item, ScriptedFailure):
            self._send_failure(api, item, body)
            return

        prompt_tokens = estimate_tokens(raw_body.decode("utf-8", errors="replace"))
        if api == "openai":
            self._send_openai_turn(item, body, prompt_tokens)
        else:
            self._send_anthropic_turn(item, body, prompt_tokens)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length)

    def _send_openai_turn(self, turn: ScriptedTurn, request: dict[str, Any], prompt_tokens: int) -> None:
        completion_id = self.server.owner._next_id("chatcmpl-scripted-")
        model = str(request.get("model", "scripted-model"))
        if not request.get("stream"):
            completion = openai_completion(
                turn, completion_id=completion_id, model=model, prompt_tokens=prompt_tokens
            )
            self._send_json(200, completion)
            return

        stream_options = request.get("stream_options") or {}
        chunks = openai_chunks(
            turn,
            completion_id=completion_id,
            model=model,
            prompt_tokens=prompt_tokens,
            include_usage=bool(stream_options.get("include_usage")),
        )
        self._start_event_stream()
        for chunk in chunks:
            self._send_event(None, chunk)
        self._send_chunk(b"data: [DONE]\n\n")
        self._send_chunk(b"")

    def _send_anthropic_turn(
        self, turn: ScriptedTurn, request: dict[str, Any], input_tokens: int
    ) -> None:
        message_id = self.server.owner._next_id("msg_scripted_")
        model = str(request.get("model", "scripted-model"))
        if not request.get("stream"):
            message = anthropic_message(
                turn, message_id=message_id, model=model, input_tokens=input_tokens
            )
            self._send_json(200, message)
            return

        self._start_event_stream()
        for name, data in anthropic_events(
            turn, message_id=message_id, model=model, input_tokens=input_tokens
        ):
            self._send_event(name, data)
        self._send_chunk(b"")

    def _send_failure(
        self, api: str, failure: ScriptedFailure, request: dict[str, Any] | None = None
    ) -> None:
        if failure.mid_stream:
            self._break_off_response(api, failure, request or {})
            return
        body = openai_error_body(failure) if api == "openai" else anthropic_error_body(failure)
        self._send_json(failure.status, body)

    def _break_off_response(self, api: str, failure: ScriptedFailure, request: dict[str, Any]) -> None:
        """Send the start of a 200 response with one text chunk, then drop the connection.

        A streamed request gets the events up to the first text delta. A
        non-streamed request gets a Content-Length for the whole body but only
        its first half, which the client also reads as an incomplete response.
        """
        partial = ScriptedTurn(text=failure.message)
        model = str(request.get("model", "scripted-model"))
        if request.get("stream"):
            self._start_event_stream()
            if api == "openai":
                chunks = openai_chunks(
                    partial, completion_id="chatcmpl-broken", model=model, prompt_tokens=1, include_usage=False
                )
                self._send_event(None, next(chunks))
            else:
                events = anthropic_events(partial, message_id="msg_broken", model=model, input_tokens=1)
                for name, data in events:
                    self._send_event(name, data)
                    if name == "content_block_delta":
                        break
        else:
            if api == "openai":
                full = openai_completion(partial, completion_id="chatcmpl-broken", model=model, prompt_tokens=1)
            else:
                full = anthropic_message(partial, message_id="msg_broken", model=model, input_tokens=1)
            encoded = json.dumps(full).encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(encoded)))
            self.end_headers()
            self.wfile.write(encoded[: len(encoded) // 2])
            self.wfile.flush()

        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    def _send_json(self, status: int, body: dict[str, Any]) -> None:
        encoded = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(encoded)))
        self.end_headers()
        self.wfile.write(encoded)

    def _start_event_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _send_event(self, name: str | None, data: dict[str, Any]) -> None:
        lines = f"event: {name}\n" if name else ""
        lines += f"data: {json.dumps(data)}\n\n"
        self._send_chunk(lines.encode("utf-8"))

    def _send_chunk(self, data: bytes) -> None:
        """Write one HTTP/1.1 chunk, where empty ``data`` is the final chunk that ends the body."""
        self.wfile.write(f"{len(data):x}\r\n".encode("ascii") + data + b"\r\n")
        self.wfile.flush()


class ScriptedModelServer:
    """Threaded HTTP server on 127.0.0.1 with a free port, usable as a context manager.

    ``requests`` lists every request to a model endpoint in arrival order, as
    dicts with ``api`` (``"openai"`` or ``"anthropic"``), ``path``, ``headers``
    (names in lower case) and ``body`` (the parsed JSON). A request whose body
    is not valid JSON gets a 400 error and is neither recorded nor given a
    script item, and neither is a request to an unknown path, which gets 404.
    """

    def __init__(self, script: Sequence[ScriptItem] = ()) -> None:
        self.requests: list[dict[str, Any]] = []
        self._script: deque[ScriptItem] = deque()
        self._lock = threading.Lock()
        self._ids = count(1)
        self._http: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.push(*script)

    @property
    def base_url(self) -> str:
        """Server root URL, without a trailing slash."""
        if self._http is None:
            raise RuntimeError("ScriptedModelServer is not running: call start() or use it in a with block.")
        host, port = self._http.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def openai_base_url(self) -> str:
        """Base URL for ``openai.OpenAI(base_url=...)``."""
        return self.base_url + "/v1"

    @property
    def anthropic_base_url(self) -> str:
        """Base URL for ``anthropic.Anthropic(base_url=...)``."""
        return self.base_url

    def start(self) -> ScriptedModelServer:
        """Bind a free port on 127.0.0.1 and serve requests in a daemon thread."""
        if self._http is not None:
            raise RuntimeError("ScriptedModelServer is already running.")
        self._http = _HTTPServer(self)
        # A short poll interval keeps stop() fast, since shutdown() waits for one poll.
        self._thread = threading.Thread(
            target=self._http.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="scripted-model-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close open client connections and release the port."""
        if self._http is None:
            return
        self._http.shutdown()
        self._http.close_connections()
        self._http.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._http = None
        self._thread = None

    def __enter__(self) -> ScriptedModelServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def push(self, *items: ScriptItem) -> None:
        """Append ``items`` to the end of the script."""
        for item in items:
            if not isinstance(item, (ScriptedTurn, ScriptedFailure)):
                raise TypeError(
                    f"Script items must be ScriptedTurn or ScriptedFailure, got {type(item).__name__}."
                )
        with self._lock:
            self._script.extend(items)

    def _take_item(self, request: dict[str, Any]) -> ScriptItem:
        """Record ``request`` and pop the next script item, in one step under the lock."""
        with self._lock:
            self.requests.append(request)
            if self._script:
                return self._script.popleft()
        return _EXHAUSTED_TURN

    def _next_id(self, prefix: str) -> str:
        with self._lock:
            return f"{prefix}{next(self._ids)}"
