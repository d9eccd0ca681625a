"""Guards and sweeps over the real chaosd. A guard recovers a Chaosd attack: the real chaosd stops a
process of ours, the test service's error ratio rises while the attack is applied (the stand-in
watches chaosd's experiment list), and the guard's DELETE recovers the attack over chaosd's API. A
sweep grows a real disk fill until the service (built to fail past 3.5 MiB filled) breaks, and
recovers every attack it started."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import httpx
import pytest
from chaos_service import ChaosService, wait_until
from chaosdenv import ChaosdEnvError, ChaosdTestEnv, build_chaosd
from guardenv import config_file, visible
from promenv import PrometheusEnv, prometheus_available

from chaosql.cli import main

FILL_TOLERANCE = 3.5 * 2**20  # bytes the service's disk can lose before its requests fail


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
    with ChaosService(chaosd_url=chaosd.base_url, fill_tolerance=FILL_TOLERANCE) as running:
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


SWEEP = """
title = "How much disk can checkout lose?"
must_hold_until = 5

[experiment]
source = "chaosd"
kind = "disk"
action = "fill"
spec = {{ path = "{path}", size = "1M" }}

[parameter]
name = "filled"
path = "spec.size"
values = [1, 2, 3, 5, 8]
unit = "M"
bisect = true
resolution = 1

[steady_state]
sql = "SELECT max(value) AS errors FROM metrics WHERE query = 'service_error_ratio'"
check = {{ column = "errors", max = 0.1 }}

[timing]
settle = "3s"
recover = "30s"
poll = "1s"
"""


def test_a_sweep_of_chaosd_disk_fills_finds_the_threshold_and_recovers_every_attack(tmp_path, chaosd, service, prom):
    fills = tmp_path / "fills"
    fills.mkdir()
    file = tmp_path / "sweep.toml"
    file.write_text(SWEEP.format(path=fills))
    config = config_file(tmp_path, prom=prom, chaosd=chaosd.base_url)
    before = {e["uid"] for e in httpx.get(chaosd.url("/api/experiments/"), timeout=10).json() or []}
    # the sweep refuses to start outside its steady state: wait until Prometheus has scraped the service
    # (a fresh Prometheus has no sample yet) and the error ratio is back down after any earlier attack
    visible(prom, "service_error_ratio", lambda ratio: ratio <= 0.1, timeout=60)
    out = tmp_path / "sweep.json"
    code = main(["sweep", str(file), "--config", str(config), "--out", str(out)])
    report = json.loads(out.read_text())
    assert code == 3, report  # breaks at 4 MiB, and it had to hold until 5
    result = report["sections"][0]["rows"][0]
    assert (result["last_pass"], result["first_fail"]) == ("3M", "4M") and result["left_behind"] is None
    tried = [
        (s["title"].split(" = ")[1].split(" ")[0], s["status"])
        for s in report["sections"]
        if s["id"].startswith("step-")
    ]
    assert tried == [("1M", "ok"), ("2M", "ok"), ("3M", "ok"), ("5M", "check-failed"), ("4M", "check-failed")]

    # every attack the sweep started was a real fill, and each was recovered: no file left behind
    started = [e for e in httpx.get(chaosd.url("/api/experiments/"), timeout=10).json() if e["uid"] not in before]
    assert len(started) == 5 and {e["kind"] for e in started} == {"disk-server"}
    assert {e["status"] for e in started} == {"destroyed"}
    sizes = sorted(int(json.loads(e["recover_command"])["FAllocateOption"]["Length"]) >> 20 for e in started)
    assert sizes == [1, 2, 3, 4, 5]
    assert list(fills.iterdir()) == []
