"""A small HTTP endpoint for long-running chaosql processes (``/metrics``, ``/healthz``).

``Endpoint(address, routes)`` serves GET (and HEAD) on a background thread, one thread per
connection; a route is a function from ``Request`` to ``Response``. What the standard library's
server leaves to each caller is done here once: ``HOST:PORT`` parsing with a readable error, 404
for an unknown path and 405 for another method, gzip when the client accepts it and the body is
worth it, no access log on stderr, and a route that raises answers 500 with one line (and the
caller's ``on_error`` hears of it) instead of a dropped connection.

>>> parse_address(":8080"), parse_address("127.0.0.1:0"), parse_address("9000"), parse_address("[::1]:9")
(('0.0.0.0', 8080), ('127.0.0.1', 0), ('0.0.0.0', 9000), ('::1', 9))
"""

from __future__ import annotations

import gzip
import json
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from chaosql.errors import UsageError

#: Bodies smaller than this are sent as they are: gzip would save nothing worth its time.
GZIP_FROM = 4096


def parse_address(text: str, option: str = "--listen") -> tuple[str, int]:
    """``PORT``, ``:PORT`` (every interface), ``HOST:PORT`` or ``[IPv6]:PORT``; else a UsageError
    naming ``option``."""
    host, _, port = text.strip().rpartition(":")
    try:
        number = int(port)
    except ValueError:
        number = -1
    if not 0 <= number <= 65535:
        raise UsageError(f"{option} {text}: expected PORT, :PORT or HOST:PORT", hint="e.g. 127.0.0.1:9463")
    return (host.strip("[]") or "0.0.0.0"), number


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Mapping[str, str]

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name) or default


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


def json_response(body: Any, status: int = 200) -> Response:
    return Response(status, json.dumps(body).encode(), "application/json")


Route = Callable[[Request], Response]


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a client that never finishes its request does not hold up stop()

    def __init__(self, address: tuple[str, int], handler: type, family: int) -> None:
        self.address_family = family
        super().__init__(address, handler)


class Endpoint:
    """``Endpoint(("127.0.0.1", 0), {"/metrics": route}).start()``; ``address`` says where it
    listens (the port chosen when 0 was asked), ``stop()`` closes it."""

    def __init__(
        self,
        address: tuple[str, int],
        routes: Mapping[str, Route],
        *,
        name: str = "chaosql-http",
        option: str = "--listen",
        on_error: Callable[[str, BaseException], None] | None = None,
    ) -> None:
        self.routes = dict(routes)
        self.on_error = on_error
        owner = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "chaosql"
            protocol_version = "HTTP/1.1"  # keep-alive: Prometheus reuses its connection

            def do_GET(self) -> None:
                owner._answer(self, "GET")

            def do_HEAD(self) -> None:
                owner._answer(self, "HEAD")

            def do_POST(self) -> None:
                owner._answer(self, "POST")

            def log_message(self, *args: Any) -> None:  # the process's own log says what matters
                pass

        host, port = address
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        try:
            self.server = _Server((host, port), Handler, family)
        except OSError as err:
            raise UsageError(f"{option} {host}:{port}: cannot listen: {err.strerror or err}") from None
        self.thread = threading.Thread(target=self.server.serve_forever, name=name, daemon=True)

    @property
    def address(self) -> str:
        host, port = self.server.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else str(host)
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def start(self) -> Endpoint:
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.thread.is_alive():
            self.server.shutdown()
        self.server.server_close()

    def _answer(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        route = self.routes.get(parts.path)
        if route is None:
            response = Response(404, f"not found: {parts.path}; try {', '.join(sorted(self.routes))}\n".encode())
        elif method not in ("GET", "HEAD"):
            response = Response(405, f"{method} is not allowed; use GET\n".encode(), headers={"Allow": "GET, HEAD"})
        else:
            request = Request(method, parts.path, parse_qs(parts.query), handler.headers)  # type: ignore[arg-type]
            try:
                response = route(request)
            except Exception as err:  # one line to the client, the details to the process's log
                if self.on_error is not None:
                    self.on_error(parts.path, err)
                response = Response(500, f"internal error: {type(err).__name__}: {err}\n".encode())
        body = response.body
        headers = dict(response.headers)
        if len(body) >= GZIP_FROM and _accepts_gzip(handler.headers.get("Accept-Encoding") or ""):
            body = gzip.compress(body, compresslevel=1)  # level 1: most of the saving for little CPU
            headers["Content-Encoding"] = "gzip"
            headers["Vary"] = "Accept-Encoding"
        try:
            handler.send_response(response.status)
            handler.send_header("Content-Type", response.content_type)
            handler.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            if method != "HEAD":
                handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (its scrape timeout)
            handler.close_connection = True


def _accepts_gzip(header: str) -> bool:
    """Whether an Accept-Encoding header takes gzip (a ``q=0`` refuses it).

    >>> _accepts_gzip("gzip"), _accepts_gzip("br, gzip;q=0"), _accepts_gzip("identity"), _accepts_gzip("*")
    (True, False, False, True)
    """
    for part in header.split(","):
        coding, *params = (p.strip() for p in part.split(";"))
        if coding.lower() not in ("gzip", "*"):
            continue
        q = next((p.partition("=")[2] for p in params if p.lower().startswith("q=")), "1")
        try:
            return float(q) > 0
        except ValueError:
            return False
    return False
