"""A local HTTP server base for the platform fakes.

Each fake runs on 127.0.0.1 with a random port in a background thread, checks the
platform's contract on every request (auth, schema, limits, hash formats) and keeps the
resulting audience, so tests assert the end state rather than the calls.

Faults are queued with :meth:`FakeServer.fail`: ``throttle`` (the platform's own
throttling answer), ``500``, ``timeout`` (the request is applied, then the answer comes
too late: the client must retry and the platform must not double-count), ``garbage``
(a 200 with a body that is not JSON; not applied), ``drop`` (a 503 before applying) and
``hang`` (applied, then no answer for ``hang_seconds``; sets ``hung``, so a test can kill
the sender at that moment). Any other value (``"ok"``) lets one request through normally,
to place a fault at the n-th request.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["ContractError", "FakeServer", "Reply", "Request"]


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"{}")


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    def encode(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body).encode()


class ContractError(Exception):
    """Raised inside a fake's handler: becomes the platform's error answer."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


class FakeServer:
    """Base class; subclasses implement :meth:`handle` and :meth:`throttle_reply`."""

    timeout_sleep = 1.0
    hang_seconds = 10.0

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.faults: deque[str] = deque()
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request seen
        self.applied = 0                           # requests that changed the audience
        self.violations: list[str] = []            # contract violations answered with an error
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.active = 0
        self.max_active = 0
        self.hung = threading.Event()  # set when a "hang" fault was applied

    # -- lifecycle --------------------------------------------------------------------
    def start(self) -> FakeServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def setup(self) -> None:
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _do(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                req = Request(
                    self.command,
                    parts.path,
                    parse_qs(parts.query),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                reply, delay = fake._dispatch(req)
                if delay:
                    time.sleep(delay)
                data = reply.encode()
                try:
                    self.send_response(reply.status)
                    if data:
                        self.send_header("Content-Type", reply.content_type)
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(data)))
                    # headers and body in one write: no delayed-ACK stall per request
                    self._headers_buffer.append(b"\r\n" + data)  # type: ignore[attr-defined]
                    self.flush_headers()
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _do

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- faults -----------------------------------------------------------------------
    def fail(self, kind: str, times: int = 1) -> None:
        """Queue ``times`` faults of ``kind`` for the next requests."""
        with self.lock:
            self.faults.extend([kind] * times)

    def _dispatch(self, req: Request) -> tuple[Reply, float]:
        with self.lock:
            self.requests.append((req.method, req.path))
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            fault = self.faults.popleft() if self.faults else None
        try:
            if fault == "throttle":
                return self.throttle_reply(req), 0.0
            if fault == "500":
                return Reply(500, {"error": "internal"}), 0.0
            if fault == "drop":
                return Reply(503, {"error": "unavailable"}), 0.0
            if fault == "garbage":
                return Reply(200, b"<html>oops</html>", content_type="text/html"), 0.0
            reply = self._handle(req)
            if fault == "timeout":
                return reply, self.timeout_sleep
            if fault == "hang":  # applied, then the answer never comes in time (the sender gets killed)
                self.hung.set()
                return reply, self.hang_seconds
            return reply, 0.0
        finally:
            with self.lock:
                self.active -= 1

    def _handle(self, req: Request) -> Reply:
        try:
            with self.lock:
                return self.handle(req)
        except ContractError as exc:
            with self.lock:
                self.violations.append(f"{req.method} {req.path}: {exc.reply.body}")
            return exc.reply

    # -- for subclasses -----------------------------------------------------------------
    def handle(self, req: Request) -> Reply:
        raise NotImplementedError

    def throttle_reply(self, req: Request) -> Reply:
        return Reply(429, {"error": "slow down"})


def check(cond: bool, make: Callable[[], Reply]) -> None:
    """Raise the platform's error answer unless ``cond``."""
    if not cond:
        raise ContractError(make())
