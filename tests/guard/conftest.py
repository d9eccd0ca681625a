"""Fixtures for the guard and sweep tests: a real kube-apiserver (tests/kubeenv.py), our small
test service (tests/chaos_service.py) scraped every second by a real Prometheus (tests/promenv.py),
and guards run in this process (``run_guard``) or as a real ``chaosql guard`` subprocess.

If the apiserver or Prometheus cannot be started the tests are skipped; with ``CI`` set (or
``CHAOSQL_REQUIRE_KUBE=1``) that is a failure instead.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import sys
import threading
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
for path in (HERE, HERE.parent):  # --import-mode=importlib puts neither on sys.path
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from chaos_service import ChaosService, network_delay, pause_guard, wait_until  # noqa: E402, F401
from kubeenv import CHAOS_API_VERSION, ApiError, KubeTestEnv, start_for_tests  # noqa: E402
from promenv import PrometheusEnv, prometheus_available  # noqa: E402

P99 = 'service_p99_seconds{service="checkout"}'
PAUSE = "experiment.chaos-mesh.org/pause"
_names = itertools.count(1)


@pytest.fixture(scope="session")
def kube():
    env = start_for_tests(KubeTestEnv(), "guard")
    yield env
    env.cleanup()


@pytest.fixture(scope="module")
def service(kube):
    with ChaosService(kube=kube, base=0.05, tolerance=0.2, broken=2.0) as running:
        yield running


@pytest.fixture(scope="module")
def prom(service):
    if not prometheus_available():
        message = "needs prometheus and promtool (tests/setup.d/30-prometheus.sh)"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    with PrometheusEnv(targets=[service.address], scrape_interval="1s") as env:
        env.wait_for(P99, lambda r: bool(r))
        yield env


@pytest.fixture
def ns(kube, service):
    """A fresh namespace; its NetworkChaos objects are deleted afterwards (no namespace controller
    runs to do it), and the service's hand-moved gauges are put back."""
    name = f"g{next(_names)}-{os.getpid() % 1000}"
    kube.create_namespace(name)
    yield name
    service.override.clear()
    service._publish()
    clean(kube, name)


def clean(kube: KubeTestEnv, ns: str) -> None:
    """Delete the chaos objects of ``ns``: no controller does it, and an unpaused NetworkChaos left
    behind would keep adding its delay to the test service for the tests after."""
    for kind in ("NetworkChaos", "PodChaos"):
        for obj in listed(kube, kind, ns):
            try:
                kube.delete(CHAOS_API_VERSION, kind, obj["metadata"]["name"], ns)
            except Exception:
                pass


def listed(kube: KubeTestEnv, kind: str, ns: str, timeout: float = 60.0) -> list[dict]:
    """The objects of a kind in ``ns``, read straight from the API; an apiserver that just started
    (again) answers 429 "storage is (re)initializing" for a moment, so that is waited out."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return kube.list(CHAOS_API_VERSION, kind, ns)["items"]
        except ApiError as err:
            if err.status not in (429, 500, 503) or time.monotonic() > deadline:
                raise
        time.sleep(0.2)


def guard_toml(ns: str, name: str = "checkout-p99", **tunables) -> str:
    """A guard pausing the NetworkChaos of ``ns`` whose target service's p99 is above 300 ms."""
    return pause_guard(f"e.kind = 'NetworkChaos' AND e.namespace = '{ns}'", name, **tunables)


def paused(kube: KubeTestEnv, ns: str, kind: str = "NetworkChaos") -> dict[str, bool]:
    """name -> paused, read straight from the API (not through chaosql)."""
    items = listed(kube, kind, ns)
    return {o["metadata"]["name"]: (o["metadata"].get("annotations") or {}).get(PAUSE) == "true" for o in items}


def events_of(kube: KubeTestEnv, ns: str) -> list[dict]:
    return kube.request("GET", f"/api/v1/namespaces/{ns}/events")["items"]


def visible(prom: PrometheusEnv, promql: str, predicate, timeout: float = 20.0) -> float:
    """The moment (monotonic) Prometheus first answers ``promql`` with a value ``predicate`` accepts."""
    from urllib.parse import quote

    def check():
        result = prom.api("/api/v1/query?query=" + quote(promql))["data"]["result"]
        return bool(result) and predicate(float(result[0]["value"][1]))

    assert wait_until(check, timeout, interval=0.02), f"{promql} never matched in Prometheus"
    return time.monotonic()


class Log(io.TextIOBase):
    """The decision log as JSON records, collected as they are written."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            self.lines.extend(line for line in text.splitlines() if line.strip())
        return len(text)

    def records(self, event: str | None = None, guard: str | None = None) -> list[dict]:
        with self._lock:
            found = [json.loads(line) for line in self.lines]
        return [
            r for r in found if (event is None or r["event"] == event) and (guard is None or r.get("guard") == guard)
        ]

    def wait_for(self, event: str, timeout: float, guard: str | None = None) -> dict:
        found = wait_until(lambda: self.records(event, guard), timeout)
        assert found, f"no {event!r} in the log within {timeout} s:\n" + "\n".join(self.lines[-30:])
        return found[0]


class RunningGuard:
    def __init__(self, process, log: Log) -> None:
        self.process, self.log = process, log
        self.exit_code: int | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        self.exit_code = self.process.run(install_signals=False)

    def stop(self) -> int | None:
        self.process.stop()
        self.thread.join(60)
        return self.exit_code


@pytest.fixture
def run_guard(tmp_path, kube):
    """``run_guard(toml, prom=PrometheusEnv | None, chaosd=url | None, health=False)`` -> a guard
    process running in a thread over the real servers, with its decision log; stopped afterwards."""
    from chaosql.commands._context import start_caches
    from chaosql.guard.definition import load
    from chaosql.guard.log import DecisionLog
    from chaosql.guard.process import GuardProcess
    from chaosql.sources.kube import KubeSource

    running: list[RunningGuard] = []

    def start(toml: str, *, prom=None, chaosd=None, health=False, kube_source=True, **settings):
        path = tmp_path / f"guards-{len(running)}.toml"
        path.write_text(toml)
        sources = []
        if kube_source:
            sources.append(KubeSource(context="admin", kubeconfig=kube.kubeconfig, name="c1"))
        if prom is not None:
            from chaosql.sources.prometheus import PrometheusSource

            url = prom if isinstance(prom, str) else prom.url
            sources.append(PrometheusSource(url, name="prom", retries=0))
        if chaosd is not None:
            from chaosql.sources.chaosd import ChaosdSource

            sources.append(ChaosdSource([chaosd], name="lab", retries=0))
        start_caches(sources, {"cache": True})
        log = Log()
        process = GuardProcess(
            load(path),
            sources,
            settings,
            DecisionLog(log, fmt="json", verbose=True),
            health=("127.0.0.1", 0) if health else None,
        )
        guard = RunningGuard(process, log)
        guard.thread.start()
        running.append(guard)
        return guard

    yield start
    for guard in running:
        guard.stop()
