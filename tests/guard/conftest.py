"""Fixtures for the guard and sweep tests: a real kube-apiserver (tests/kubeenv.py), our small
test service (tests/chaos_service.py) scraped every second by a real Prometheus (tests/promenv.py),
and guards run in this process (``run_guard``) or as a real ``chaosql guard`` subprocess. The
helpers the tests import are in guardenv.py.

If the apiserver or Prometheus cannot be started the tests are skipped; with ``CI`` set (or
``CHAOSQL_REQUIRE_KUBE=1``) that is a failure instead.
"""

from __future__ import annotations

import itertools
import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
for path in (HERE, HERE.parent):  # --import-mode=importlib puts neither on sys.path
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from chaos_service import ChaosService  # noqa: E402
from guardenv import P99, Log, RunningGuard, clean  # noqa: E402
from kubeenv import KubeTestEnv, start_for_tests  # noqa: E402
from promenv import PrometheusEnv, prometheus_available  # noqa: E402

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


@pytest.fixture
def run_guard(tmp_path, kube):
    """``run_guard(toml, prom=PrometheusEnv | None, chaosd=url | None, health=False, **settings)`` ->
    a guard process running in a thread over the real servers, with its decision log; stopped
    afterwards. ``cache=False`` runs it without the watch cache, as ``--set cache=false`` does."""
    from chaosql.commands._context import start_caches
    from chaosql.daemon.log import EventLog
    from chaosql.guard.definition import load
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
        start_caches(sources, {"cache": settings.get("cache", True)})
        log = Log()
        process = GuardProcess(
            load(path),
            sources,
            settings,
            EventLog(log, fmt="json", verbose=True),
            health=("127.0.0.1", 0) if health else None,
        )
        guard = RunningGuard(process, log)
        guard.thread.start()
        running.append(guard)
        return guard

    yield start
    for guard in running:
        guard.stop()
