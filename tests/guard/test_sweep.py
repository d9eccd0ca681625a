"""chaosql sweep against the real kube-apiserver and Prometheus: the test service breaks past 200 ms
of injected delay (tests/chaos_service.py), and the sweep must find that, leave nothing behind, and
clean up when a real SIGINT interrupts a real ``chaosql sweep`` process in the middle of a step."""

from __future__ import annotations

import json
import signal

from chaos_service import wait_until
from guardenv import chaosql_process, config_file, listed

from chaosql.cli import main

LABEL = "chaosql/sweep"


STEADY = "SELECT max(value) AS p99 FROM metrics WHERE query = 'service_p99_seconds'"


def sweep_toml(
    ns: str,
    values: list[int],
    *,
    must_hold_until: int,
    settle: str = "3s",
    bisect: bool = True,
    steady: str = STEADY,
    recover: str = "30s",
) -> str:
    return f"""
title = "Checkout latency tolerance"
must_hold_until = {must_hold_until}

[experiment]
namespace = "{ns}"
name = "lat"
kind = "NetworkChaos"
spec = {{ action = "delay", mode = "all", duration = "10m", delay = {{ latency = "1ms" }}, selector = {{ namespaces = ["{ns}"], labelSelectors = {{ app = "checkout" }} }} }}

[parameter]
name = "latency"
path = "spec.delay.latency"
values = {json.dumps(values)}
unit = "ms"
bisect = {str(bisect).lower()}
resolution = 10

[steady_state]
sql = "{steady}"
check = {{ column = "p99", max = 0.3 }}

[timing]
settle = "{settle}"
recover = "{recover}"
poll = "1s"
"""


def leftovers(kube, ns: str) -> list[str]:
    return [o["metadata"]["name"] for o in listed(kube, "NetworkChaos", ns)]


def test_sweep_finds_the_threshold_the_service_was_built_with_and_leaves_nothing(tmp_path, kube, prom, service, ns):
    file = tmp_path / "sweep.toml"
    file.write_text(sweep_toml(ns, [50, 100, 150, 200, 250, 300, 400], must_hold_until=250))
    out = tmp_path / "sweep.json"
    code = main(["sweep", str(file), "--config", str(config_file(tmp_path, kube=kube, prom=prom)), "--out", str(out)])
    report = json.loads(out.read_text())
    assert code == 3  # it breaks at 210 ms, and it had to hold until 250 ms
    assert report["summary"]["exit_code"] == 3
    result = report["sections"][0]["rows"][0]
    # the service tolerates 200 ms; bisecting (resolution 10 ms) between 200 and 250 pins it down
    assert (result["last_pass"], result["first_fail"]) == ("200ms", "210ms")
    assert "breaks at 210ms (held at 200ms)" in result["verdict"] and result["left_behind"] is None

    steps = [s for s in report["sections"] if s["id"].startswith("step-")]
    tried = [(s["title"].split(" = ")[1].split(" ")[0], s["status"]) for s in steps]
    assert tried == [
        ("50ms", "ok"),
        ("100ms", "ok"),
        ("150ms", "ok"),
        ("200ms", "ok"),
        ("250ms", "check-failed"),
        ("220ms", "check-failed"),
        ("210ms", "check-failed"),
    ]
    for step in steps:  # before and after within the SLO; during is what the step decides
        phases = {r["phase"]: r for r in step["rows"]}
        assert phases["before"]["passed"] and phases["after"]["passed"]
        assert phases["during"]["passed"] == (step["status"] == "ok")
    during = {
        s["title"].split(" = ")[1].split(" ")[0]: next(r["p99"] for r in s["rows"] if r["phase"] == "during")
        for s in steps
    }
    assert (
        during["100ms"] == 0.15 and during["200ms"] == 0.25 and during["250ms"] == 2.0
    )  # base 50 ms + delay; broken past 200
    chart = report["sections"][1]
    assert chart["id"] == "chart" and [r["latency"] for r in chart["rows"]] == [
        "50ms",
        "100ms",
        "150ms",
        "200ms",
        "210ms",
        "220ms",
        "250ms",
    ]
    assert leftovers(kube, ns) == []  # every step's experiment was removed


def test_the_html_report_draws_the_chart_with_the_threshold(tmp_path, kube, prom, service, ns):
    file = tmp_path / "sweep.toml"
    file.write_text(sweep_toml(ns, [100, 200, 300], must_hold_until=100, settle="2s", bisect=False))
    out = tmp_path / "sweep.html"
    assert (
        main(["sweep", str(file), "--config", str(config_file(tmp_path, kube=kube, prom=prom)), "--out", str(out)]) == 0
    )
    html = out.read_text()
    assert '<section id="chart"' in html and "<svg" in html
    assert "breaks at 300ms (held at 200ms); must hold until 100ms: ok" in html
    assert html.count('data-status="check-failed"') == 1  # the step at 300 ms
    assert leftovers(kube, ns) == []


def test_sigint_mid_step_removes_the_experiment_and_writes_the_partial_report(tmp_path, kube, prom, service, ns):
    file = tmp_path / "sweep.toml"
    file.write_text(sweep_toml(ns, [50, 100, 150, 200, 250], must_hold_until=100, settle="30s"))
    out = tmp_path / "sweep.json"
    config = config_file(tmp_path, kube=kube, prom=prom)
    proc = chaosql_process("sweep", str(file), "--config", str(config), "--out", str(out), "--log-format", "json")
    try:
        # the first step's experiment exists and is settling (30 s): interrupt it there
        assert wait_until(lambda: leftovers(kube, ns), 120), proc.stderr.read() if proc.poll() is not None else ""
        created = listed(kube, "NetworkChaos", ns)[0]
        assert LABEL in created["metadata"]["labels"]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(120) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    log = [json.loads(line) for line in proc.stderr.read().splitlines() if line.strip()]
    events = [r["event"] for r in log]
    assert "interrupted" in events and "removed" in events
    assert log[events.index("cleanup")].get("left") is None
    assert leftovers(kube, ns) == []
    report = json.loads(out.read_text())
    assert report["summary"]["exit_code"] == 130
    assert report["sections"][0]["rows"][0]["verdict"] == "interrupted before a threshold was found"
    (step,) = [s for s in report["sections"] if s["id"].startswith("step-")]
    assert step["status"] == "error" and step["message"] == "interrupted"


def test_an_error_mid_step_removes_its_experiment_and_stops_with_exit_1(tmp_path, kube, prom, service, ns):
    # the steady-state query fails while the second step's experiment runs (a dashboard gone, say)
    steady = (
        "SELECT CASE WHEN $phase = 'during' AND $value >= 100 THEN error('the dashboard is down') "
        "ELSE max(value) END AS p99 FROM metrics WHERE query = 'service_p99_seconds'"
    )
    file = tmp_path / "sweep.toml"
    file.write_text(sweep_toml(ns, [50, 100, 150], must_hold_until=100, settle="2s", steady=steady))
    out = tmp_path / "sweep.json"
    assert (
        main(["sweep", str(file), "--config", str(config_file(tmp_path, kube=kube, prom=prom)), "--out", str(out)]) == 1
    )
    report = json.loads(out.read_text())
    steps = [
        (s["title"].split(" = ")[1].split(" ")[0], s["status"])
        for s in report["sections"]
        if s["id"].startswith("step-")
    ]
    assert steps == [("50ms", "ok"), ("100ms", "error")]  # and the sweep stopped there: no 150 ms step
    (failed,) = [s for s in report["sections"] if s["id"].startswith("step-") and s["status"] == "error"]
    assert "the dashboard is down" in failed["message"]
    assert report["sections"][0]["rows"][0]["left_behind"] is None
    assert leftovers(kube, ns) == []  # the failed step's experiment was removed too


def test_a_step_that_does_not_recover_in_time_stops_the_sweep_and_leaves_nothing(tmp_path, kube, prom, service, ns):
    # after the first step the service never looks healthy again (as a service that does not heal)
    steady = (
        "SELECT CASE WHEN $phase = 'after' THEN 9.9 ELSE max(value) END AS p99 "
        "FROM metrics WHERE query = 'service_p99_seconds'"
    )
    file = tmp_path / "sweep.toml"
    file.write_text(sweep_toml(ns, [50, 100], must_hold_until=50, settle="2s", steady=steady, recover="3s"))
    out = tmp_path / "sweep.json"
    assert (
        main(["sweep", str(file), "--config", str(config_file(tmp_path, kube=kube, prom=prom)), "--out", str(out)]) == 1
    )
    report = json.loads(out.read_text())
    (step,) = [s for s in report["sections"] if s["id"].startswith("step-")]
    assert step["status"] == "error" and step["message"].startswith("did not recover: not within 3 s")
    assert report["sections"][0]["rows"][0]["left_behind"] is None
    assert leftovers(kube, ns) == []
