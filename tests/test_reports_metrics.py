"""Metric impact in a report, and metrics in the history, against a real Prometheus.

Prometheus (Debian package, started by ``promenv``) holds a known p99 latency history for the
experiments of ``tests/fixtures/prometheus/lab/chaos.yaml``: 0.1 s, 0.5 s while net-delay-checkout
runs (10:00-10:10), 0.2 s for five minutes after it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from promenv import PrometheusEnv, prometheus_available

pytestmark = pytest.mark.skipif(
    not prometheus_available(), reason="needs prometheus and promtool (tests/setup.d/30-prometheus.sh)"
)

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "prometheus"
T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
METRIC = "checkout_latency_p99_seconds"
P99 = f'max({METRIC}{{namespace="{{{{namespace}}}}",service="checkout"}})'


def latency(t: datetime) -> float:
    minutes = (t - T0).total_seconds() / 60
    return 0.5 if 0 <= minutes < 10 else 0.2 if 10 <= minutes < 15 else 0.1


@pytest.fixture(scope="module")
def prom():
    first = T0 - timedelta(minutes=30)
    lines = [f"# TYPE {METRIC} gauge"]
    for i in range(0, 150 * 60 // 15 + 1):
        t = first + timedelta(seconds=15 * i)
        lines.append(f'{METRIC}{{namespace="shop",service="checkout"}} {latency(t)} {int(t.timestamp())}')
    with PrometheusEnv(openmetrics="\n".join(lines + ["# EOF"]) + "\n") as env:
        yield env


def chaosql(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if k not in ("CHAOSQL_CONFIG", "CHAOSQL_SOURCE")}
    full["XDG_CONFIG_HOME"] = str(cwd)
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "chaosql", *args], capture_output=True, text=True, cwd=cwd, env=full, timeout=180
    )


def test_metric_impact_section_with_a_before_during_after_chart(tmp_path, prom):
    report = tmp_path / "impact.toml"
    report.write_text(f"""
title = "Latency impact"
[sources]
lab = "snapshot:{FIXTURE}"
prom = "prometheus:{prom.url}"
[params]
now = "2026-11-20T13:00:00Z"
[[query]]
name = "network-chaos-p99-impact"
params = {{ latency = '{P99}', namespace = "shop" }}
format = "both"
chart = {{ type = "bar", x = "name", y = "p99_before,p99_during,p99_after", stacked = false }}
check = {{ column = "raised_pct", max = 100 }}
""")
    out = tmp_path / "impact.json"
    proc = chaosql("report", str(report), "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 3  # p99 went up 400 % during the delay: the check says so
    assert "check network-chaos-p99-impact failed: raised_pct = 400, above the maximum 100" in proc.stderr
    rows = {r["name"]: r for r in json.loads(out.read_text())["sections"][0]["rows"]}
    delay = rows["net-delay-checkout"]
    assert (delay["p99_before"], delay["p99_during"], delay["p99_after"]) == pytest.approx((0.1, 0.5, 0.2))
    html = chaosql("report", str(report), "--format", "html", cwd=tmp_path)
    section = html.stdout.split('id="network-chaos-p99-impact"')[1]
    assert "<svg" in section and "p99_during" in section


def test_snapshot_records_configured_metrics_in_the_history(tmp_path, prom):
    config = tmp_path / "config.toml"
    config.write_text(f"""
[sources.lab]
type = "snapshot"
path = "{FIXTURE}"
[sources.prom]
type = "prometheus"
url = "{prom.url}"
[snapshot]
metrics = ['{P99.replace("{{namespace}}", "shop")}']
metrics_window = "30m"
""")
    history = tmp_path / "history"
    proc = chaosql(
        "snapshot", "--to", str(history), "--at", "2026-11-20T10:20:00Z", "--config", str(config), cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert [p.relative_to(history).parts[:3] for p in history.glob("metrics/*/*/*.parquet")] == [
        ("metrics", "date=2026-11-20", "cluster=prom")
    ]
    sql = (
        "SELECT count(*) AS samples, max(value) AS peak, min(ts) AS first, max(ts) AS last "
        "FROM history_metrics WHERE server = 'prom'"
    )
    query = chaosql("query", sql, "--source", f"history:{history}", "--format", "json", cwd=tmp_path)
    assert query.returncode == 0, query.stderr
    row = json.loads(query.stdout)[0]
    assert row["peak"] == pytest.approx(0.5)  # the delay's 0.5 s lies in the 30 minutes before 10:20
    assert row["first"] > "2026-11-20T09:50:00Z" and row["last"] <= "2026-11-20T10:20:00Z"
    assert row["samples"] > 10
