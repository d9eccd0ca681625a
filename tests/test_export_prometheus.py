"""``chaosql export`` as users run it (the CLI in a subprocess) scraped by a real Prometheus
(tests/promenv.py): PromQL over the scraped series gives the SQL answers, promtool finds nothing
to say about the exposition, a broken saved query is one family down, signals stop it cleanly.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest
from export_support import REPO, RunningExport
from promenv import PrometheusEnv, prometheus_available

pytestmark = pytest.mark.skipif(
    not prometheus_available(), reason="needs prometheus and promtool (tests/setup.d/30-prometheus.sh)"
)


@pytest.fixture(scope="module")
def families_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("families")
    (directory / "team-delay.sql").write_text(
        "-- metric: team_network_delay_seconds\n-- help: Longest delay each team injects.\n"
        "SELECT cluster, labels['team'] AS team, max(epoch(delay_latency)) AS delay\n"
        "FROM network_chaos WHERE action = 'delay' GROUP BY ALL\n"
    )
    (directory / "typo.sql").write_text("-- metric: typo_experiments\nSELECT count(*) AS n FROM experimnets\n")
    return directory


@pytest.fixture(scope="module")
def export(families_dir):
    running = RunningExport("--source", "demo", "--families", str(families_dir), "--min-interval", "1")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def prom(export):
    with PrometheusEnv(targets=[export.address]) as env:
        yield env


def values_by(result: list[dict], label: str) -> dict[str, float]:
    return {series["metric"].get(label, ""): float(series["value"][1]) for series in result}


def test_promql_counts_by_phase_equal_the_sql_answer(prom, demo_session):
    result = prom.wait_for("sum by (phase) (chaosql_experiments)", lambda r: len(r) > 0)
    sql = demo_session.execute("SELECT phase, count(*) FROM experiments GROUP BY phase").rows()
    assert values_by(result, "phase") == {phase: float(n) for phase, n in sql}
    running = prom.wait_for('count by (cluster) (chaosql_experiment_phase{phase="running"})', lambda r: len(r) > 0)
    sql = demo_session.execute("SELECT cluster, count(*) FROM experiments WHERE phase = 'running' GROUP BY 1").rows()
    assert values_by(running, "cluster") == {cluster: float(n) for cluster, n in sql}


def test_the_grafana_queries_of_the_docs_give_the_sql_answers(prom, demo_session):
    docs = (REPO / "docs" / "exporter.md").read_text()
    panel = 'sum by (cluster) (chaosql_experiments{phase="running"})'
    annotation = 'max by (cluster, namespace, kind, name) (chaosql_experiment_phase{phase=~"injecting|running"})'
    assert panel in docs and annotation in docs
    running = prom.wait_for(panel, lambda r: len(r) > 0)
    sql = demo_session.execute("SELECT cluster, count(*) FROM experiments WHERE phase = 'running' GROUP BY 1").rows()
    assert values_by(running, "cluster") == {cluster: float(n) for cluster, n in sql}
    windows = prom.wait_for(annotation, lambda r: len(r) > 0)
    want = demo_session.execute(
        "SELECT cluster, namespace, kind, name FROM experiments WHERE phase IN ('injecting', 'running')"
    ).rows()
    got = [tuple(s["metric"][k] for k in ("cluster", "namespace", "kind", "name")) for s in windows]
    assert sorted(got) == sorted(want) and {s["value"][1] for s in windows} == {"1"}


def test_promql_injected_latency_of_a_network_chaos_equals_the_sql_answer(prom, demo_session):
    name, cluster, seconds = demo_session.execute(
        "SELECT name, cluster, epoch(delay_latency) FROM network_chaos WHERE action = 'delay' "
        "ORDER BY delay_latency DESC, name LIMIT 1"
    ).rows()[0]
    result = prom.wait_for(
        f'chaosql_injected_network_delay_seconds{{cluster="{cluster}",name="{name}"}}', lambda r: len(r) == 1
    )
    assert float(result[0]["value"][1]) == seconds
    assert result[0]["metric"]["kind"] == "NetworkChaos" and result[0]["metric"]["action"] == "delay"


def test_prometheus_scraped_openmetrics_and_every_family_but_the_broken_one(prom, export):
    prom.wait_for('up{job="exporter"}', lambda r: r and r[0]["value"][1] == "1")
    scrape = export.wait_for(lambda r: r["event"] == "scrape" and "openmetrics" in r.get("format", ""))
    assert scrape["format"].startswith("application/openmetrics-text; version=1.0.0")
    # Prometheus read every sample of the OpenMetrics exposition (the demo data does not change)
    status, content_type, om = export.get("/metrics", accept="application/openmetrics-text;version=1.0.0")
    assert (
        status == 200
        and content_type.startswith("application/openmetrics-text; version=1.0.0")
        and om.endswith("# EOF\n")
    )
    samples = sum(1 for line in om.splitlines() if line and not line.startswith("#"))
    scraped = prom.wait_for('scrape_samples_scraped{job="exporter"}', lambda r: len(r) == 1)
    assert float(scraped[0]["value"][1]) == samples
    up = values_by(prom.wait_for("chaosql_export_family_up", lambda r: len(r) > 10), "family")
    assert up.pop("typo_experiments") == 0.0
    assert set(up.values()) == {1.0}, up
    team = prom.wait_for("team_network_delay_seconds", lambda r: len(r) > 0)
    assert {s["metric"]["cluster"] for s in team} == {"prod-eu", "staging-us"}
    failed = export.wait_for(lambda r: r["event"] == "family failed")
    assert failed["family"] == "typo_experiments" and 'unknown table "experimnets"' in failed["error"]


def test_promtool_finds_no_problem(export):
    status, content_type, text = export.get("/metrics", accept="text/plain;version=0.0.4")
    assert status == 200 and content_type == "text/plain; version=0.0.4; charset=utf-8"
    checked = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    assert (checked.returncode, checked.stdout + checked.stderr) == (0, "")
    once = subprocess.run(
        [sys.executable, "-m", "chaosql", "export", "--once", "--source", "demo"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert once.returncode == 0, once.stderr
    checked = subprocess.run(
        ["promtool", "check", "metrics"], input=once.stdout, capture_output=True, text=True, timeout=60
    )
    assert (checked.returncode, checked.stdout + checked.stderr) == (0, "")
    assert "chaosql_injected_stress_cpu_load_ratio{" in once.stdout


def test_health_and_unknown_paths(export):
    status, content_type, body = export.get("/healthz")
    health = json.loads(body)
    assert status == 200 and content_type == "application/json"
    assert health["status"] == "ok" and health["families_failed"] == ["typo_experiments"]
    assert export.get("/nope")[0] == 404


def test_signals_stop_it_cleanly():
    for sig, code in ((signal.SIGTERM, 0), (signal.SIGINT, 130)):
        running = RunningExport("--source", "demo")
        assert running.get("/metrics")[0] == 200
        assert running.stop(sig) == code
        assert running.records[-1]["event"] == "stopping"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--listen", "localhost:http"], "--listen localhost:http: expected PORT, :PORT or HOST:PORT"),
        (["--min-interval", "-1"], "--min-interval takes seconds from 0 to 86400"),
        (["--state", "/nonexistent-dir/x.json", "--once"], None),
    ],
)
def test_bad_options_are_one_line_and_exit_2(args, message, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "chaosql", "export", "--source", "demo", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    if message is None:  # a state file that cannot be written: the metrics still print, the error is said
        assert done.returncode == 0 and "cannot write the counter state" in done.stderr
        return
    assert done.returncode == 2 and f"chaosql: {message}" in done.stderr, done.stderr


def test_list_names_every_family_and_the_broken_ones(families_dir, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "chaosql", "export", "--list", "--families", str(families_dir)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert done.returncode == 0, done.stderr  # a query that fails when run is not broken until it runs
    assert "chaosql_experiment_verdict  gauge  (experiment-verdict, built-in)" in done.stdout
    assert "  chaosql_experiments_created_total" in done.stdout
    assert f"team_network_delay_seconds  gauge  (team-delay, {families_dir / 'team-delay.sql'})" in done.stdout
    (tmp_path / "x.sql").write_text("-- metric: x\n-- metric_type: summary\nSELECT 1 AS n\n")
    done = subprocess.run(
        [sys.executable, "-m", "chaosql", "export", "--list", "--families", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert done.returncode == 1 and "chaosql: family x is broken: " in done.stderr and "summary" in done.stderr


def test_serve_metrics_serves_the_same_families_beside_the_postgres_endpoint():
    import re

    import psycopg

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "chaosql", "serve", "--port", "0", "--source", "demo", "--metrics", "127.0.0.1:0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stderr is not None
        metrics = postgres = None
        deadline = time.monotonic() + 120
        while (metrics is None or postgres is None) and time.monotonic() < deadline:
            line = proc.stderr.readline()
            assert line, "chaosql serve ended before it listened"
            if found := re.search(r"metrics on (http://\S+/metrics)", line):
                metrics = found.group(1)
            if found := re.search(r"PostgreSQL protocol on ([\d.]+):(\d+)", line):
                postgres = (found.group(1), int(found.group(2)))
        assert metrics and postgres
        total = 0.0
        deadline = time.monotonic() + 300  # a scrape gets no families until the first refresh is done
        while total == 0 and time.monotonic() < deadline:
            with urllib.request.urlopen(metrics, timeout=120) as answer:
                text = answer.read().decode()
            total = sum(
                float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("chaosql_experiments{")
            )
        with psycopg.connect(host=postgres[0], port=postgres[1], user="me", dbname="chaosql") as con:
            (count,) = con.execute("SELECT count(*) FROM experiments").fetchone()
        assert total == count == 360
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
