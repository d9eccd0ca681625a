"""A real Prometheus for chaosql's tests (Debian package ``prometheus``, installed by
``tests/setup.d/30-prometheus.sh``).

:class:`PrometheusEnv` runs ``prometheus`` on 127.0.0.1 with a free port and its own data
directory, optionally with

- history: OpenMetrics text turned into TSDB blocks by ``promtool tsdb create-blocks-from
  openmetrics`` *before* the server starts (Prometheus only loads blocks at start-up, and a
  running server rejects samples older than its head block);
- scrape targets: ``host:port`` of exporters the test runs, scraped every ``scrape_interval``;
- a query log (``global.query_log_file``): every PromQL query the server ran, with the exact
  ``start``/``end``/``step`` it received, read back by :meth:`PrometheusEnv.query_log`.

Retention is 100 years so fixed historical timestamps are never dropped. stdout and stderr go
to ``prometheus.log`` in the environment's directory. :class:`Exporter` is a tiny ``/metrics``
server whose values a test sets. Both need only the standard library.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

__all__ = ["Exporter", "PrometheusEnv", "PrometheusEnvError", "free_port", "prometheus_available"]


class PrometheusEnvError(RuntimeError):
    """Prometheus or promtool is missing, or the server did not start."""


def prometheus_available() -> bool:
    return shutil.which("prometheus") is not None and shutil.which("promtool") is not None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrometheusEnv:
    """``with PrometheusEnv(openmetrics=text, targets=["127.0.0.1:9100"]) as prom: prom.url``"""

    def __init__(
        self,
        *,
        openmetrics: str | None = None,
        targets: Sequence[str] = (),
        scrape_interval: str = "1s",
        directory: str | Path | None = None,
        start_timeout: float = 60.0,
    ) -> None:
        self.openmetrics = openmetrics
        self.targets = list(targets)
        self.scrape_interval = scrape_interval
        self._own_dir = directory is None
        self.dir = Path(directory or tempfile.mkdtemp(prefix="chaosql-prom-"))
        self.start_timeout = start_timeout
        self.port = 0
        self.proc: subprocess.Popen | None = None

    # --- paths ------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def data_dir(self) -> Path:
        return self.dir / "data"

    @property
    def log_path(self) -> Path:
        return self.dir / "prometheus.log"

    @property
    def query_log_path(self) -> Path:
        return self.dir / "queries.log"

    # --- life cycle -------------------------------------------------------------------------

    def __enter__(self) -> PrometheusEnv:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> PrometheusEnv:
        if not prometheus_available():
            raise PrometheusEnvError("prometheus/promtool not found; run tests/setup.d/30-prometheus.sh")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.openmetrics is not None:
            self._create_blocks(self.openmetrics)
        config = self.dir / "prometheus.yml"
        config.write_text(self._config(), encoding="utf-8")
        for _ in range(3):  # a free port can be taken between probing it and binding it
            self.port = free_port()
            self._launch(config)
            if self._wait_ready():
                return self
            self.stop(remove=False)
        raise PrometheusEnvError(f"prometheus did not become ready; log:\n{self.log_text()[-3000:]}")

    def _create_blocks(self, text: str) -> None:
        source = self.dir / "history.om"
        source.write_text(text, encoding="utf-8")
        done = subprocess.run(
            ["promtool", "tsdb", "create-blocks-from", "openmetrics", str(source), str(self.data_dir)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise PrometheusEnvError(
                f"promtool failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}"
            )

    def _config(self) -> str:
        lines = [
            "global:",
            f"  scrape_interval: {self.scrape_interval}",
            f"  evaluation_interval: {self.scrape_interval}",
            f"  query_log_file: {self.query_log_path}",
        ]
        if self.targets:
            lines += [
                "scrape_configs:",
                "  - job_name: exporter",
                f"    scrape_interval: {self.scrape_interval}",
                f"    scrape_timeout: {self.scrape_interval}",
                "    static_configs:",
                "      - targets: [" + ", ".join(f'"{t}"' for t in self.targets) + "]",
            ]
        return "\n".join(lines) + "\n"

    def _launch(self, config: Path) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 (handed to the server process)
        try:
            self.proc = subprocess.Popen(
                [
                    "prometheus",
                    f"--config.file={config}",
                    f"--storage.tsdb.path={self.data_dir}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    "--storage.tsdb.retention.time=100y",
                    "--web.enable-lifecycle",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.dir,
            )
        finally:
            log.close()

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as answer:
                    if answer.status == 200:
                        return True
            except OSError:
                pass
            time.sleep(0.1)
        return False

    def stop(self, *, remove: bool = True) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
            self.proc = None
        if remove and self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    # --- what the server saw ----------------------------------------------------------------

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def query_log(self) -> list[dict[str, Any]]:
        """Every query the server ran so far: ``params`` holds query, start, end, step (or time)."""
        try:
            text = self.query_log_path.read_text(encoding="utf-8")
        except OSError:
            return []
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def api(self, path: str) -> Any:
        """GET an API path with the standard library (independent of chaosql's client)."""
        with urllib.request.urlopen(self.url + path, timeout=10) as answer:
            return json.loads(answer.read())

    def wait_for(self, promql: str, predicate, *, timeout: float = 30.0) -> Any:
        """Poll an instant query until ``predicate(result)`` holds; returns that result."""
        from urllib.parse import quote

        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = self.api("/api/v1/query?query=" + quote(promql))["data"]["result"]
            if predicate(last):
                return last
            time.sleep(0.2)
        raise PrometheusEnvError(f"{promql}: condition not met in {timeout:g} s; last result {last!r}")


class Exporter:
    """A ``/metrics`` endpoint on 127.0.0.1 serving the text a test sets (``exporter.text = ...``)."""

    def __init__(self, text: str = "") -> None:
        self.text = text
        self.scrapes = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?")[0] != "/metrics":
                    self.send_error(404)
                    return
                body = owner.text.encode()
                owner.scrapes += 1
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, name="exporter", daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> Exporter:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
