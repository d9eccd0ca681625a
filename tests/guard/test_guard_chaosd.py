"""A guard recovers a Chaosd attack: the real chaosd stops a process of ours, the test service's
error ratio rises while the attack is applied (the stand-in watches chaosd's experiment list), and
the guard's DELETE recovers the attack over chaosd's API."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import httpx
import pytest
from chaos_service import ChaosService, wait_until
from chaosdenv import ChaosdEnvError, ChaosdTestEnv, build_chaosd
from promenv import PrometheusEnv, prometheus_available


@pytest.fixture(scope="module")
def chaosd(tmp_path_factory):
    try:
        binary = build_chaosd()
    except ChaosdEnvError as exc:
        if os.environ.get("CHAOSQL_REQUIRE_CHAOSD") == "1" or os.environ.get("CI"):
            pytest.fail(f"no chaosd binary: {exc}", pytrace=False)
        pytest.skip(f"no chaosd binary: {exc}")
    env = ChaosdTestEnv("http", binary=binary, workdir=tmp_path_factory.mktemp("chaosd")).start()
    yield env
    env.stop()


@pytest.fixture(scope="module")
def service(chaosd):
    with ChaosService(chaosd_url=chaosd.base_url) as running:
        yield running


@pytest.fixture(scope="module")
def prom(service):
    if not prometheus_available():
        pytest.skip("needs prometheus and promtool (tests/setup.d/30-prometheus.sh)")
    with PrometheusEnv(targets=[service.address], scrape_interval="1s") as env:
        yield env


@pytest.fixture
def sleeper():
    proc = subprocess.Popen(["sleep", "300"], stdin=subprocess.DEVNULL)
    yield proc
    proc.kill()
    proc.wait()


def state(pid: int) -> str:
    """Linux process state letter (T: stopped, S: sleeping)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


GUARD = """
[[guard]]
name = "errors"
every = "1s"
when = '''
SELECT e.cluster, e.uid, e.node, e.kind, m.value AS error_ratio
FROM experiments e, metrics m
WHERE e.source = 'chaosd' AND e.phase = 'running'
  AND m.query = 'service_error_ratio' AND m.value > 0.1'''
then = "DELETE FROM experiments WHERE source = 'chaosd' AND uid IN (SELECT uid FROM breach)"
"""


def test_a_guard_recovers_a_chaosd_attack_when_the_error_ratio_rises(chaosd, service, prom, sleeper, run_guard):
    guard = run_guard(GUARD, prom=prom, chaosd=chaosd.base_url, kube_source=False)
    guard.log.wait_for("evaluated", 60)

    attack = httpx.post(
        chaosd.url("/api/attack/process"), json={"process": str(sleeper.pid), "signal": 19}, timeout=30
    ).json()
    uid = attack["uid"]
    assert wait_until(lambda: state(sleeper.pid) == "T", 10)  # the attack is applied: stopped

    assert wait_until(lambda: state(sleeper.pid) in "SR", 30), state(sleeper.pid)  # recovered: running again
    experiments = httpx.get(chaosd.url("/api/experiments/"), timeout=10).json()
    assert {e["uid"]: e["status"] for e in experiments}[uid] == "destroyed"
    acted = guard.log.wait_for("acted", 10)
    assert acted["status"] == "DELETE 1" and acted["changed"][0]["uid"] == uid
    assert f"uid IN ('{uid}')" in acted["statement"]
    assert guard.log.records("act")[0]["rows"][0]["error_ratio"] == 0.5
    assert not guard.log.records("event")  # a Chaosd attack has no Kubernetes object to describe
    assert guard.stop() == 0
