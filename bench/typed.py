"""Typed chaos tables (not a test): what generating and reading them costs.

Usage: python bench/typed.py [--experiments 100000] [--runs 3]

1. Registry: building the table registry in a fresh interpreter with the typed tables left lazy (what
   every statement pays), and building all 42 typed tables (what the REPL, DESCRIBE of every table or
   the Postgres catalog pay once), as CPU time, best of N.
2. Reads on a generated snapshot of N experiments (no events):
   ``SELECT avg(delay_latency) FROM network_chaos WHERE phase = 'running'`` next to the same answer
   through ``experiments`` with a JSON path (the typed column is computed only for the rows read),
   and ``SELECT * FROM network_chaos`` (every typed column built).
3. Offline validation: building and checking 1,000 NetworkChaos rows (``objects.manifest``), per row.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

REGISTRY = """
import resource, time
import pyarrow, sqlglot, duckdb  # imported by every statement anyway
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
start = cpu()
from chaosql.tables import registry
tables = registry()
lazy = cpu() - start
start = cpu()
for t in tables.values():
    t.columns
print(lazy, cpu() - start, sum(len(t.columns) for t in tables.values()))
"""


def registry_costs(runs: int) -> tuple[float, float, int]:
    lazy, built, columns = [], [], 0
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", REGISTRY], check=True, capture_output=True, text=True, env={"PYTHONPATH": str(REPO)}
        ).stdout.split()
        lazy.append(float(out[0]))
        built.append(float(out[1]))
        columns = int(out[2])
    return min(lazy), min(built), columns


def best(session, sql: str, runs: int) -> tuple[float, object]:
    times, rows = [], []
    for _ in range(runs):
        started = time.perf_counter()
        rows = session.execute(sql).arrow()  # the engine's work, not converting cells to Python
        times.append(time.perf_counter() - started)
    return min(times), rows


def reads(experiments: int, runs: int) -> None:
    from chaosql.engine.session import Session
    from chaosql.sources.snapshot import SnapshotSource

    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, str(REPO / "scripts" / "gen_demo.py"), "--out", tmp, "--no-events", "--no-readme"]
            + ["--experiments", str(experiments)],
            check=True,
            capture_output=True,
        )
        source = SnapshotSource(tmp)
        session = Session([source])
        session.execute("SELECT count(*) FROM experiments").rows()  # parse the files once
        n = session.execute("SELECT count(*) FROM network_chaos").scalar()
        typed, _ = best(session, "SELECT avg(delay_latency) FROM network_chaos WHERE phase = 'running'", runs)
        # DuckDB reads no Go duration: the JSON-path form can only pick the latencies in ms
        json_path, _ = best(
            session,
            "SELECT avg(CAST(replace(spec->>'$.delay.latency', 'ms', ' milliseconds') AS INTERVAL)) "
            "FROM experiments WHERE kind = 'NetworkChaos' AND phase = 'running' "
            "AND spec->>'$.delay.latency' LIKE '%ms'",
            runs,
        )
        star_json, _ = best(session, "SELECT * FROM experiments WHERE kind = 'NetworkChaos'", runs)
        everything, _ = best(session, "SELECT * FROM network_chaos", runs)
        print(f"{n} NetworkChaos of {experiments} experiments (files parsed already):")
        print(f"  avg(delay_latency) typed: {typed * 1000:.0f} ms   through experiments + a JSON path: "
              f"{json_path * 1000:.0f} ms")  # fmt: skip
        print(f"  SELECT * FROM network_chaos (every typed column): {everything * 1000:.0f} ms   "
              f"SELECT * FROM experiments WHERE kind = 'NetworkChaos': {star_json * 1000:.0f} ms")  # fmt: skip
        session.close()


def validation(rows: int = 1000) -> None:
    from chaosql.tables import registry
    from chaosql.writers.objects import manifest

    table = registry()["network_chaos"]
    row = {
        "namespace": "shop",
        "action": "delay",
        "mode": "all",
        "selector_namespaces": ["shop"],
        "delay_latency": "100ms",
        "duration": "5m",
    }
    started = time.perf_counter()
    for i in range(rows):
        manifest(table, {**row, "name": f"n{i}"}, f"row {i}")
    took = time.perf_counter() - started
    print(f"offline check of {rows} NetworkChaos rows: {took * 1000:.0f} ms ({took / rows * 1e6:.0f} us per row)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--experiments", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    lazy, built, columns = registry_costs(args.runs)
    print(f"registry with typed tables lazy: {lazy * 1000:.1f} ms CPU; building all typed tables: "
          f"{built * 1000:.0f} ms CPU ({columns} columns in all)")  # fmt: skip
    reads(args.experiments, args.runs)
    validation()


if __name__ == "__main__":
    main()
