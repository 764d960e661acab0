"""HTTP plumbing for the store emulator: a loopback listener that hands each request to an app.

Why the standard library (``http.server.ThreadingHTTPServer``) and not aiohttp or
starlette+uvicorn: the emulator must run inside tests next to an asyncio sync engine
without sharing its event loop, start on port 0, stop in milliseconds without leaving a
thread behind, *really* stop listening for the ``down`` fault, and hold or drop single
replies on demand. A thread per connection does all of that in a page of code with no
dependency, and a blocking handler makes "process, then misbehave" faults trivial.

    Listener(app, name).start(host, port) -> port      app(Request) -> Reply
    Listener.stop()   closes the port, cuts open connections, joins every thread

HTTP/1.1 with keep-alive (the sync engine reuses connections); bodies need a
Content-Length and are capped at ``wire.MAX_BODY_BYTES``. Every error is a JSON body
``{"error", "message"}``, including the ones http.server raises itself.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import sys
import threading
import traceback
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from hwsim.store.wire import MAX_BODY_BYTES

IDLE_TIMEOUT_S = 60.0   # an idle keep-alive connection is closed after this


@dataclass
class Request:
    method: str
    target: str                     # exactly as on the request line (signed by the site)
    path: str
    query: dict[str, list[str]]
    headers: Message
    body: bytes
    cancelled: threading.Event      # set when the listener stops: waits must end


@dataclass
class Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    hold_s: float = 0.0             # wait this long before replying (a fault)
    drop: bool = False              # close the connection without replying (a fault)


def json_reply(status: int, value, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, json.dumps(value, ensure_ascii=False).encode("utf-8"), dict(headers or {}))


def error_reply(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    return json_reply(status, {"error": code, "message": message}, headers)


def check_loopback(host: str) -> str:
    """The IPv4 loopback address to bind for ``host``. Raises ValueError for anything else."""
    if host == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.IPv4Address(host)
    except ValueError:
        raise ValueError(f"the store emulator listens on loopback only (127.0.0.1), not {host!r}") from None
    if not address.is_loopback:
        raise ValueError(f"the store emulator listens on loopback only (127.0.0.1), not {host!r}")
    return str(address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hwsim-store/1"
    sys_version = ""
    timeout = IDLE_TIMEOUT_S
    disable_nagle_algorithm = True   # else small replies wait ~40 ms for the client's delayed ACK
    server: "_Server"

    def log_message(self, format, *args) -> None:
        pass  # the emulator keeps its own request history

    def send_error(self, code, message=None, explain=None) -> None:
        """http.server's own refusals (bad request line, headers too long, …) as JSON."""
        self.close_connection = True
        self._write(error_reply(code, "bad_http" if code < 500 else "internal", message or "bad HTTP request"))

    def _dispatch(self) -> None:
        length = self._body_length()
        if length is None:
            return
        body = self.rfile.read(length) if length else b""
        if len(body) != length:
            self.close_connection = True
            return
        parts = urlsplit(self.path)
        request = Request(self.command, self.path, parts.path, parse_qs(parts.query, keep_blank_values=True),
                          self.headers, body, self.server.stopping)
        try:
            reply = self.server.app(request)
        except Exception:  # noqa: BLE001 — a bug here must not kill the connection silently
            traceback.print_exc(file=sys.stderr)
            reply = error_reply(500, "internal", "the store emulator failed; see its log")
        if reply.hold_s and self.server.stopping.wait(reply.hold_s):
            reply.drop = True
        if reply.drop:
            self.close_connection = True
            return
        self._write(reply)

    def _body_length(self) -> int | None:
        """The declared body length, or None after refusing the request."""
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            self._write(error_reply(411, "length_required", "send the body with a Content-Length, not chunked"))
            return None
        declared = self.headers.get("Content-Length")
        if declared is None:
            if self.command in ("POST", "PUT", "PATCH"):
                self.close_connection = True
                self._write(error_reply(411, "length_required", "a request with a body needs Content-Length"))
                return None
            return 0
        if not declared.strip().isdigit():
            self.close_connection = True
            self._write(error_reply(400, "bad_header", "Content-Length is not a number"))
            return None
        length = int(declared)
        if length > MAX_BODY_BYTES:
            remaining = length if length <= 4 * MAX_BODY_BYTES else 0
            while remaining > 0:   # read it, so that the client is not reset mid-send
                chunk = self.rfile.read(min(65536, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
            self.close_connection = True
            self._write(error_reply(413, "too_large", f"the body is larger than {MAX_BODY_BYTES} bytes"))
            return None
        return length

    def _write(self, reply: Reply) -> None:
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            # Headers and body in one write: one segment for a small reply.
            if not hasattr(self, "_headers_buffer"):  # an HTTP/0.9 request gets no headers
                self._headers_buffer = []
            self._headers_buffer.append(b"\r\n")
            if self.command != "HEAD":
                self._headers_buffer.append(reply.body)
            self.flush_headers()
        except OSError:
            self.close_connection = True  # the client went away; nothing to tell it

    def __getattr__(self, name: str):
        # Every method (GET, POST, but also QUERY, PURGE, …) goes to _dispatch, which answers
        # 405 with Allow for the ones a path does not take, rather than http.server's 501.
        if name.startswith("do_"):
            return self._dispatch
        raise AttributeError(name)


class _Server(ThreadingHTTPServer):
    """Tracks its connections and threads so that stop() leaves nothing behind."""

    daemon_threads = True
    block_on_close = False   # we join our own threads, after cutting their connections

    def __init__(self, address, app: Callable[[Request], Reply], name: str):
        super().__init__(address, _Handler)
        self.app = app
        self.name = name
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._workers: set[threading.Thread] = set()

    def process_request(self, request, client_address) -> None:
        worker = threading.Thread(target=self._serve_connection, args=(request, client_address),
                                  name=f"{self.name}-conn", daemon=True)
        with self._lock:
            self._connections.add(request)
            self._workers.add(worker)
        worker.start()

    def _serve_connection(self, request, client_address) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self._lock:
                self._connections.discard(request)
                self._workers.discard(threading.current_thread())

    def cut_connections(self) -> None:
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def join_workers(self, timeout: float = 10.0) -> None:
        with self._lock:
            workers = list(self._workers)
        for worker in workers:
            worker.join(timeout)


class Listener:
    """One loopback HTTP listener serving ``app`` in its own threads; restartable."""

    def __init__(self, app: Callable[[Request], Reply], name: str):
        self.app = app
        self.name = name
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.port: int | None = None

    @property
    def listening(self) -> bool:
        return self._server is not None

    def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen on ``host:port`` (0: any free port); returns the port. Raises ValueError
        (not loopback), OSError (the port is taken)."""
        if self._server is not None:
            return self.port
        server = _Server((check_loopback(host), port), self.app, self.name)
        self._server, self.port = server, server.server_address[1]
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"{self.name}-accept", daemon=True)
        self._thread.start()
        return self.port

    def stop(self) -> None:
        """Stop listening, cut open connections, end waits, join every thread. Idempotent."""
        server, self._server = self._server, None
        if server is None:
            return
        server.stopping.set()
        server.shutdown()
        server.server_close()
        server.cut_connections()
        server.join_workers()
        self._thread.join()
        self._thread = None

    def __repr__(self) -> str:
        state = f"127.0.0.1:{self.port}" if self.listening else "stopped"
        return f"<Listener {self.name} {state}>"
