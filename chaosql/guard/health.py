"""The health endpoint of ``chaosql guard --health ADDR``: ``GET /healthz`` answers 200 while
every guard's loop evaluates on time and 503 when one is stuck or could not start, with a JSON
body saying how each guard is doing (for a Kubernetes liveness probe, or a person with curl).

A blind guard (its sources down) is alive and says so (``"state": "blind"``): restarting the
process would not bring Prometheus back.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from chaosql.errors import UsageError

if TYPE_CHECKING:
    from chaosql.guard.runner import GuardLoop


def parse_address(text: str) -> tuple[str, int]:
    """``PORT``, ``:PORT`` (every interface) or ``HOST:PORT``.

    >>> parse_address(":8080"), parse_address("127.0.0.1:0"), parse_address("9000")
    (('0.0.0.0', 8080), ('127.0.0.1', 0), ('0.0.0.0', 9000))
    """
    host, _, port = text.rpartition(":")
    try:
        number = int(port)
    except ValueError:
        number = -1
    if not 0 <= number <= 65535:
        raise UsageError(f"--health {text}: expected PORT, :PORT or HOST:PORT")
    return (host.strip("[]") or "0.0.0.0"), number


class HealthServer:
    def __init__(
        self, address: tuple[str, int], loops: Sequence[GuardLoop], *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.loops, self.clock, self.started = loops, clock, clock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?")[0] not in ("/healthz", "/"):
                    self.send_error(404)
                    return
                status, body = owner.report()
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:  # the decision log is the log
                pass

        try:
            self.server = ThreadingHTTPServer(address, Handler)
        except OSError as err:
            raise UsageError(f"--health {address[0]}:{address[1]}: cannot listen: {err.strerror or err}") from None
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="chaosql-guard-health", daemon=True)

    @property
    def address(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{host!s}:{port}"

    def report(self) -> tuple[int, dict[str, Any]]:
        now = self.clock()
        healthy = all(loop.healthy(now) for loop in self.loops)
        body = {
            "status": "ok" if healthy else "failing",
            "uptime_seconds": round(now - self.started, 1),
            "guards": [loop.status(now) for loop in self.loops],
        }
        return (200 if healthy else 503), body

    def start(self) -> HealthServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
