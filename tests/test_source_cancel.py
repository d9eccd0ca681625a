"""A cancelled statement's Prometheus and Chaosd calls stop: no retry after the cancel, no call at all
once cancelled. The failures come from a real HTTP server on 127.0.0.1 that answers 503 to everything
(Prometheus and chaosd retry a 503 after a pause); the cancel comes from another thread, as Ctrl-C,
a Postgres cancel request or the statement timeout do."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from chaosql.errors import QueryCancelled
from chaosql.sources.base import CallLog

BACKOFF = 0.5  # retries pause 0.5, 1 and 2 s: 3.5 s of retrying unless cancelled


@pytest.fixture
def overloaded():
    """URL of a server that answers every request 503; ``.requests`` lists what it was asked."""
    requests: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            requests.append(f"{self.command} {self.path}")
            body = b'{"status": "error", "errorType": "unavailable", "error": "overloaded"}'
            self.send_response(503)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.requests = requests
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()


def _prometheus(url: str):
    from chaosql.sources.prometheus import PrometheusSource

    source = PrometheusSource(url, name="p", retries=3, backoff=BACKOFF)
    return source, lambda log: source.query("up", log=log)


def _chaosd(url: str):
    from chaosql.sources.chaosd import ChaosdSource

    source = ChaosdSource([url], name="d", retries=3, backoff=BACKOFF)
    node = source.nodes()[0]
    return source, lambda log: source.experiments(node, log)


@pytest.mark.parametrize("make", [_prometheus, _chaosd], ids=["prometheus", "chaosd"])
def test_a_cancel_stops_the_retries(overloaded, make):
    source, call = make(overloaded.url)
    log = CallLog()
    threading.Timer(0.2, log.cancel).start()  # during the pause before the first retry
    started = time.monotonic()
    with pytest.raises(QueryCancelled):
        call(log)
    assert time.monotonic() - started < BACKOFF + 0.3  # not the 3.5 s the retries would take
    time.sleep(BACKOFF * 2)
    assert len(overloaded.requests) == 1  # the request before the cancel, and none after it
    assert len(log.calls) == 1
    source.close()


@pytest.mark.parametrize("make", [_prometheus, _chaosd], ids=["prometheus", "chaosd"])
def test_a_cancelled_statement_makes_no_call(overloaded, make):
    source, call = make(overloaded.url)
    log = CallLog()
    log.cancel()
    with pytest.raises(QueryCancelled):
        call(log)
    assert overloaded.requests == [] and log.calls == []
    source.close()
