"""Prometheus benchmark (not a test): how fast samples become rows.

Usage: python bench/prometheus.py [--series 100] [--hours 24] [--runs 3]

Loads ``--series`` gauges sampled every 15 s for ``--hours`` into a real Prometheus (promtool
blocks, as the tests do), then times, best of ``--runs``:

1. the raw range query over HTTP with httpx and ``json`` only (the floor: Prometheus + transfer);
2. ``SELECT count(*) FROM metrics WHERE query = ... AND ts BETWEEN ... AND step = '15s'``
   through chaosql (the same call, plus rows, Arrow and DuckDB);
3. ``impact`` over one experiment's three windows.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

START = datetime(2026, 11, 1, tzinfo=UTC)


def history(series: int, hours: int) -> str:
    steps = hours * 3600 // 15
    lines = ["# TYPE bench_value gauge"]
    base = int(START.timestamp())
    for s in range(series):
        lines += [f'bench_value{{instance="i{s}"}} {(s + i) % 97} {base + 15 * i}' for i in range(steps)]
    return "\n".join(lines + ["# EOF"]) + "\n"


def best(runs: int, fn) -> tuple[float, object]:
    times, out = [], None
    for _ in range(runs):
        started = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - started)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=100)
    parser.add_argument("--hours", type=int, default=24)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    import httpx
    from promenv import PrometheusEnv

    from chaosql.engine.session import Session
    from chaosql.sources.prometheus import PrometheusSource, format_time
    from chaosql.sources.snapshot import SnapshotSource

    end = START + timedelta(hours=args.hours) - timedelta(seconds=15)
    samples = args.series * args.hours * 240
    print(f"loading {args.series} series x {args.hours} h at 15 s = {samples:,} samples ...", flush=True)
    with tempfile.TemporaryDirectory() as tmp, PrometheusEnv(openmetrics=history(args.series, args.hours)) as prom:
        params = {"query": "bench_value", "start": format_time(START), "end": format_time(end), "step": "15"}

        def raw():
            answer = httpx.get(prom.url + "/api/v1/query_range", params=params, timeout=300).json()
            return sum(len(r["values"]) for r in answer["data"]["result"])

        t_raw, n_raw = best(args.runs, raw)
        print(f"1. raw HTTP + json:        {t_raw:6.2f} s  {n_raw:,} samples  ({n_raw / t_raw:,.0f} samples/s)")

        snapshot = Path(tmp) / "lab"
        snapshot.mkdir()
        (snapshot / "x.yaml").write_text(
            "apiVersion: chaos-mesh.org/v1alpha1\nkind: NetworkChaos\nmetadata: {name: x, namespace: shop, "
            f"creationTimestamp: '{(START + timedelta(hours=args.hours / 2)).isoformat()}'}}\nspec: {{duration: 1h}}\n"
        )
        session = Session([SnapshotSource(tmp, name="s"), PrometheusSource(prom.url, name="p", timeout=300)])
        sql = (
            f"SELECT count(*) FROM metrics WHERE query = 'bench_value' AND ts BETWEEN '{START.isoformat()}' "
            f"AND '{end.isoformat()}' AND step = '15s'"
        )
        t_sql, n_sql = best(args.runs, lambda: session.execute(sql).scalar())
        print(
            f"2. chaosql metrics:        {t_sql:6.2f} s  {n_sql:,} rows     ({n_sql / t_sql:,.0f} rows/s, {t_sql / t_raw:.1f}x raw)"
        )
        t_imp, n_imp = best(
            args.runs,
            lambda: session.execute(
                "SELECT count(*) FROM impact WHERE query = 'avg(bench_value)' AND name = 'x'"
            ).scalar(),
        )
        print(f"3. chaosql impact:         {t_imp:6.2f} s  {n_imp} rows (3 windows, 3 range queries)")
        session.close()


if __name__ == "__main__":
    main()
