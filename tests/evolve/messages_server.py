"""A small Anthropic Messages API server on loopback, for tests.

It answers `POST /v1/messages` with scripted replies, in order:
`good(text)` and `malformed(text)` (a 200 message with usage),
`rate_limited(after)` (429 with `retry-after`), `overloaded()` (529) and
`slow(seconds, text)`. When the script runs out it answers with `default`
(a callable from the request body to a reply, or None for a 500). Tests
point the real `anthropic` SDK at it through `ANTHROPIC_BASE_URL`.

Prompt caching as the API does it: when a request marks blocks with
`cache_control`, the prefix up to the last marked block is a cache entry
(keyed by model and text; prefixes under `cache_min` tokens are not cached).
The first request with it reports `cache_creation_input_tokens`, later ones
`cache_read_input_tokens`, and `input_tokens` counts only the rest. A request
with no mark is answered exactly as before. `system_text(body)` is a request's
system prompt as text, whether it was sent as a string or as blocks.

Streaming: a request with `"stream": true` gets its good reply as server-sent
events, as the API sends them (message_start, content_block_start, one
content_block_delta per piece of text, content_block_stop, message_delta with
the usage, message_stop). `streamed(text, pieces, hold)` scripts one: with
`hold` (a threading.Event) the server waits for it (at most HOLD seconds)
after the first piece, and records in the reply's "held" whether it was set
in time. Error replies are the same for streaming requests.
"""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable


def good(text: str) -> dict[str, Any]:
    """A normal reply carrying `text`."""
    return {"kind": "good", "text": text}


def malformed(text: str = "Here you go: (define (f x) (* x x)") -> dict[str, Any]:
    """A 200 reply whose Lisp is broken: prose around an unbalanced form."""
    return {"kind": "malformed", "text": text}


def rate_limited(after: float = 0) -> dict[str, Any]:
    """A 429 with a retry-after header."""
    return {"kind": "rate-limited", "after": after}


def overloaded() -> dict[str, Any]:
    """A 529 overloaded_error."""
    return {"kind": "overloaded"}


def slow(seconds: float, text: str = "(note \"late\")") -> dict[str, Any]:
    """A good reply that arrives after `seconds`."""
    return {"kind": "slow", "seconds": seconds, "text": text}


HOLD = 10.0         # seconds a held stream waits for its event at most


def streamed(text: str, pieces: int = 3, hold: Any = None,
             fail_after: int | None = None) -> dict[str, Any]:
    """A good reply carrying `text`, sent (to a streaming request) in `pieces` deltas;
    with `hold`, the rest waits after the first piece until `hold` (an Event) is set;
    with `fail_after`, an overloaded_error event ends the stream after that many pieces."""
    return {"kind": "good", "text": text, "pieces": pieces, "hold": hold, "fail_after": fail_after}


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


def _blocks(content: Any) -> list[dict[str, Any]]:
    """A system prompt or message content as a list of blocks."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [b for b in content or [] if isinstance(b, dict)]


def system_text(body: dict[str, Any]) -> str:
    """A request's system prompt as text (sent as a string or as text blocks)."""
    return "".join(b.get("text", "") for b in _blocks(body.get("system", "")))


def cache_split(body: dict[str, Any]) -> tuple[str, str] | None:
    """(the text up to the last block marked cache_control, the text after it), or None if no
    block is marked; a top-level cache_control marks the last block."""
    blocks = _blocks(body.get("system", ""))
    for m in body.get("messages") or []:
        blocks += _blocks(m.get("content", ""))
    marked = [i for i, b in enumerate(blocks) if b.get("cache_control")]
    if body.get("cache_control") and blocks:
        marked.append(len(blocks) - 1)
    if not marked:
        return None
    text = [json.dumps(b.get("text", b), sort_keys=True) for b in blocks]
    end = max(marked) + 1
    return "".join(text[:end]), "".join(text[end:])


class MessagesServer:
    """The server, listening on a free loopback port in a thread of this process."""

    def __init__(self, script: list[dict[str, Any]] | None = None,
                 default: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
                 cache_min: int = 0) -> None:
        self.script = list(script or [])
        self.default = default
        self.cache_min = cache_min          # the shortest prefix (tokens) the cache takes
        self.cached: set[tuple[str, str]] = set()   # (model, prefix) entries written so far
        self.requests: list[dict[str, Any]] = []     # bodies, with "_headers"
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                n = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(n) or b"{}")
                body["_headers"] = {k.lower(): v for k, v in self.headers.items()}
                body["_path"] = self.path
                server._answer(self, body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def add(self, *replies: dict[str, Any]) -> None:
        """Queue more scripted replies."""
        with self.lock:
            self.script.extend(replies)

    def _next(self, body: dict[str, Any]) -> dict[str, Any] | None:
        with self.lock:
            self.requests.append(body)
            if self.script:
                return self.script.pop(0)
        return self.default(body) if self.default is not None else None

    def _answer(self, h: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        if h.path.rstrip("/") != "/v1/messages":
            return self._send(h, 404, {"type": "error", "error": {"type": "not_found_error",
                                                                 "message": h.path}})
        r = self._next(body)
        if r is None:
            return self._send(h, 500, {"type": "error", "error": {"type": "api_error",
                                                                 "message": "script exhausted"}},
                              {"x-should-retry": "false"})
        kind = r["kind"]
        if kind == "rate-limited":
            return self._send(h, 429, {"type": "error", "error": {
                "type": "rate_limit_error", "message": "rate limited (scripted)"}},
                {"retry-after": str(r["after"])})
        if kind == "overloaded":
            return self._send(h, 529, {"type": "error", "error": {
                "type": "overloaded_error", "message": "overloaded (scripted)"}})
        if kind == "slow":
            time.sleep(r["seconds"])
        prompt = json.dumps(body.get("messages", "")) + str(body.get("system", ""))
        usage = {"input_tokens": _tokens(prompt), "output_tokens": _tokens(r["text"])}
        usage.update(self._cache_usage(body))
        if body.get("stream") is True:
            return self._stream(h, body, r, usage)
        self._send(h, 200, {
            "id": f"msg_{len(self.requests):06d}", "type": "message", "role": "assistant",
            "model": body.get("model", "unknown"),
            "content": [{"type": "text", "text": r["text"]}],
            "stop_reason": "end_turn", "stop_sequence": None, "usage": usage})

    def _stream(self, h: BaseHTTPRequestHandler, body: dict[str, Any], r: dict[str, Any],
                usage: dict[str, int]) -> None:
        """Answer a streaming request with the reply as Messages-API server-sent events."""
        text, n = r["text"], max(1, int(r.get("pieces") or 3))
        size = max(1, -(-len(text) // n))
        pieces = [text[i:i + size] for i in range(0, len(text), size)] or [""]
        start = dict(usage, output_tokens=1)
        message = {"id": f"msg_{len(self.requests):06d}", "type": "message", "role": "assistant",
                   "model": body.get("model", "unknown"), "content": [], "stop_reason": None,
                   "stop_sequence": None, "usage": start}

        def event(name: str, data: dict[str, Any]) -> None:
            h.wfile.write(f"event: {name}\ndata: {json.dumps(dict(data, type=name))}\n\n".encode())
            h.wfile.flush()
        try:
            h.send_response(200)
            h.send_header("content-type", "text/event-stream")
            h.send_header("cache-control", "no-cache")
            h.send_header("request-id", "req_test")
            h.send_header("connection", "close")
            h.end_headers()
            event("message_start", {"message": message})
            event("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}})
            for i, piece in enumerate(pieces):
                event("content_block_delta", {"index": 0, "delta": {"type": "text_delta",
                                                                    "text": piece}})
                if i == 0 and r.get("hold") is not None:
                    r["held"] = r["hold"].wait(HOLD)
                if r.get("fail_after") == i + 1:
                    event("error", {"error": {"type": "overloaded_error",
                                              "message": "overloaded (scripted, mid-stream)"}})
                    h.close_connection = True
                    return
            event("content_block_stop", {"index": 0})
            event("message_delta", {"delta": {"stop_reason": "end_turn", "stop_sequence": None},
                                    "usage": {"output_tokens": usage["output_tokens"]}})
            event("message_stop", {})
        except (BrokenPipeError, ConnectionResetError):
            pass        # the client went away
        h.close_connection = True

    def _cache_usage(self, body: dict[str, Any]) -> dict[str, int]:
        """The cache fields of a reply's usage (none for a request that marks no block)."""
        split = cache_split(body)
        if split is None:
            return {}
        prefix, rest = split
        n = _tokens(prefix)
        if n < self.cache_min:
            return {"input_tokens": _tokens(prefix + rest), "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": 0}
        key = (str(body.get("model", "")), prefix)
        with self.lock:
            hit = key in self.cached
            self.cached.add(key)
        return {"input_tokens": _tokens(rest) if rest else 0,
                "cache_creation_input_tokens": 0 if hit else n,
                "cache_read_input_tokens": n if hit else 0}

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, code: int, payload: dict[str, Any],
              headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        try:
            h.send_response(code)
            h.send_header("content-type", "application/json")
            h.send_header("content-length", str(len(data)))
            h.send_header("request-id", "req_test")
            for k, v in (headers or {}).items():
                h.send_header(k, v)
            h.end_headers()
            h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass        # the client timed out and went away

    def start(self) -> "MessagesServer":
        """Start serving; return self."""
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)

    def __enter__(self) -> "MessagesServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def main() -> None:
    """Run a server that answers every prompt with `(note "hello")`, for trying the CLI."""
    with MessagesServer(default=lambda body: good('(note "hello")')) as s:
        print(s.url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
