"""The Prometheus client's edges: retries, timeouts, long queries, several servers, the CLI.

Failures Prometheus cannot be made to produce on demand (5xx, a hang, a non-API answer) come from
a small real HTTP server on 127.0.0.1 that answers as the test scripts it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from datetime import UTC
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from promenv import PrometheusEnv, prometheus_available

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "prometheus"
OK = (
    200,
    {
        "status": "success",
        "data": {
            "resultType": "vector",
            "result": [{"metric": {"__name__": "up", "job": "x"}, "value": [1795168800.5, "1"]}],
        },
    },
)


class Scripted:
    """An HTTP server that answers each request with the next ``(status, body, delay)`` of a script."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests: list[str] = []
        self.headers: list[dict[str, str]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                owner.requests.append(f"{self.command} {self.path}")
                owner.headers.append(dict(self.headers))
                status, body, *delay = owner.answers.pop(0) if owner.answers else OK
                if delay:
                    time.sleep(delay[0])
                data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass

            do_GET = do_POST = _answer

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def scripted():
    servers = []

    def make(*answers):
        servers.append(Scripted(*answers))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def source(url: str, **options):
    from chaosql.sources.prometheus import PrometheusSource

    return PrometheusSource(url, name="p", backoff=0.01, **options)


def test_5xx_answers_are_retried_then_succeed(scripted):
    server = scripted((503, "overloaded"), (502, "bad gateway"))
    [series] = source(server.url).query("up")
    assert series.samples == [(1795168800.5, 1.0)] and len(server.requests) == 3


def test_5xx_that_persists_is_unavailable_after_the_retries(scripted):
    from chaosql.errors import Unavailable

    server = scripted(*[(500, {"status": "error", "errorType": "internal", "error": "disk on fire"})] * 3)
    with pytest.raises(Unavailable, match="HTTP 500: disk on fire"):
        source(server.url, retries=2).query("up")
    assert len(server.requests) == 3


def test_a_query_error_is_not_retried(scripted):
    from chaosql.errors import SourceTimeout, SqlError

    server = scripted(
        (422, {"status": "error", "errorType": "execution", "error": "many-to-many matching not allowed"}),
        (503, {"status": "error", "errorType": "timeout", "error": "query timed out in expression evaluation"}),
    )
    with pytest.raises(SqlError, match="could not run the query: many-to-many"):
        source(server.url).query("a / b")
    with pytest.raises(SourceTimeout, match="query timeout"):
        source(server.url).query("a / b")
    assert len(server.requests) == 2


def test_a_server_that_hangs_is_a_timeout(scripted):
    from chaosql.errors import SourceTimeout

    server = scripted((200, OK[1], 2.0))
    started = time.monotonic()
    with pytest.raises(SourceTimeout, match=r'prometheus "p": http://127.0.0.1:\d+ did not answer within 0.3s'):
        source(server.url, timeout=0.3).query("up")
    assert time.monotonic() - started < 1.5


def test_an_answer_that_is_not_the_prometheus_api_says_so(scripted):
    from chaosql.errors import Forbidden, SourceError, Unavailable

    server = scripted((404, "<html>not here</html>"), (401, "no"), *[(502, "<html>bad gateway</html>")] * 3)
    with pytest.raises(SourceError, match="HTTP 404 without a Prometheus API body: <html>not here</html>"):
        source(server.url).query("up")
    with pytest.raises(Forbidden, match="refused the request"):
        source(server.url).query("up")
    with pytest.raises(Unavailable, match="HTTP 502 without a Prometheus API body"):  # a proxy in front of it
        source(server.url, retries=2).query("up")
    assert len(server.requests) == 5  # the 502 was retried twice


def test_configured_headers_are_sent(scripted):
    server = scripted(OK)
    source(server.url, headers={"Authorization": "Bearer t0ken"}).query("up")
    assert server.headers[0]["Authorization"] == "Bearer t0ken"


needs_prometheus = pytest.mark.skipif(
    not prometheus_available(), reason="needs prometheus (tests/setup.d/30-prometheus.sh)"
)


@pytest.fixture(scope="module")
def prom():
    if not prometheus_available():
        pytest.skip("needs prometheus")
    lines = ["# TYPE g gauge"] + [f'g{{a="x"}} {i} {1795168800 + 15 * i}' for i in range(9)] + ["# EOF"]
    with PrometheusEnv(openmetrics="\n".join(lines) + "\n") as env:
        yield env


@needs_prometheus
def test_a_long_query_is_sent_as_a_post(prom):
    from datetime import datetime

    from chaosql.sources.base import CallLog

    long_query = "g" + " + 0 * g" * 700  # about 6,000 characters: too long for a URL
    log = CallLog()
    start, end = (datetime.fromtimestamp(t, UTC) for t in (1795168800, 1795168830))
    [series] = source(prom.url).query_range(long_query, start, end, 15, log=log)
    assert log.calls[0].what.startswith("POST /api/v1/query_range?query=g + 0 * g")
    assert prom.query_log()[-1]["params"]["query"] == long_query
    assert series.samples == [(1795168800.0, 0.0), (1795168815.0, 1.0), (1795168830.0, 2.0)]


@needs_prometheus
def test_several_servers_by_name_and_the_server_filter(prom):
    from chaosql.engine.session import Session
    from chaosql.sources.prometheus import PrometheusSource

    session = Session([PrometheusSource(prom.url, name="eu"), PrometheusSource(prom.url, name="us")])
    try:
        window = "ts BETWEEN '2026-11-20T10:00:00Z' AND '2026-11-20T10:02:00Z' AND step = '15s'"
        rows = session.execute(
            f"SELECT server, count(*), sum(value) FROM metrics WHERE query = 'g' AND {window} GROUP BY 1 ORDER BY 1"
        ).rows()
        assert rows == [("eu", 9, 36.0), ("us", 9, 36.0)]
        before = len(prom.query_log())
        result = session.execute(f"SELECT count(*) FROM metrics WHERE query = 'g' AND server = 'us' AND {window}")
        assert result.scalar() == 9
        assert len(prom.query_log()) - before == 1 and [c.source for c in result.calls] == ["us"]
    finally:
        session.close()


@needs_prometheus
def test_cli_source_flag_and_verbose_calls(prom, tmp_path):
    snapshot = tmp_path / "fx"  # a snapshot is named after its directory: not "prometheus" as the server is
    snapshot.symlink_to(FIXTURE)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "chaosql",
            "query",
            "--source",
            f"snapshot:{snapshot}",
            "--source",
            f"prometheus:{prom.url}",
            "--verbose",
            "--format",
            "csv",
            "SELECT ts, value FROM metrics WHERE query = 'g' AND ts BETWEEN '2026-11-20T10:00:00Z' AND '2026-11-20T10:00:30Z' "
            "AND step = '15s' ORDER BY ts",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    rows = [line.split(",") for line in run.stdout.splitlines()[1:]]
    assert [value for _, value in rows] == ["0.0", "1.0", "2.0"]
    assert [ts[:19] for ts, _ in rows] == ["2026-11-20 10:00:00", "2026-11-20 10:00:15", "2026-11-20 10:00:30"]
    assert "GET /api/v1/query_range?query=g start=1795168800.000 end=1795168830.000 step=15" in run.stderr


@needs_prometheus
def test_impact_refuses_more_experiments_than_it_may_query(prom):
    from chaosql.engine.session import Session
    from chaosql.errors import SqlError
    from chaosql.sources import open_source
    from chaosql.sources.prometheus import PrometheusSource

    session = Session([open_source("demo"), PrometheusSource(prom.url, name="p")])
    try:
        before = len(prom.query_log())
        with pytest.raises(SqlError, match=r"impact selected \d+ experiments, more than 200"):
            session.execute("SELECT * FROM impact WHERE query = 'g'")
        assert len(prom.query_log()) == before  # refused before asking Prometheus anything
    finally:
        session.close()


@needs_prometheus
def test_a_stopped_prometheus_is_reported_soon_after_the_first_try():
    from chaosql.errors import Unavailable
    from chaosql.sources.http import READ
    from chaosql.sources.prometheus import PrometheusSource

    with PrometheusEnv(openmetrics='# TYPE g gauge\ng{a="x"} 1 1795168800\n# EOF\n') as env:
        source = PrometheusSource(env.url, name="p")  # the default retries
        assert source.query("up") == []
        env.stop(remove=False)
        started = time.monotonic()
        with pytest.raises(Unavailable, match=f'^prometheus "p": cannot reach {env.url}: connection refused'):
            source.query("up")
        took = time.monotonic() - started
        source.close()
    assert sum(READ.pauses) <= took < sum(READ.pauses) + 2.0, took
