"""Core benchmarks (not tests): CLI start-up to first result, and a large snapshot query.

Usage: python bench/core.py [--experiments 100000] [--runs 5]

1. Start-up: wall time of ``chaosql query "SELECT count(*) FROM experiments"`` on the demo data,
   best and median of N runs (target: <= 0.5 s).
2. Scale: a generated snapshot with N experiments (no events); time ``SELECT phase, count(*) ...
   GROUP BY phase`` through chaosql (read, shape, query) next to only parsing the same files with
   json (target: <= 3x the parse time).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def startup(runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "chaosql", "query", "SELECT count(*) FROM experiments"],
            check=True,
            capture_output=True,
            env={"CHAOSQL_CONFIG": "", "PATH": "/usr/bin:/bin"},
        )
        times.append(time.perf_counter() - started)
    return times


def scale(experiments: int, runs: int) -> tuple[float, float, int]:
    from chaosql.engine.session import Session
    from chaosql.sources.snapshot import SnapshotSource

    with tempfile.TemporaryDirectory() as tmp:
        # events are left out: the comparison is experiments parsed and shaped vs parsed only
        subprocess.run(
            [
                sys.executable,
                str(REPO / "scripts" / "gen_demo.py"),
                "--out",
                tmp,
                "--no-events",
                "--no-readme",
                "--experiments",
                str(experiments),
            ],
            check=True,
            capture_output=True,
        )
        files = sorted(Path(tmp).glob("*/*.json"))
        parse_times, query_times = [], []
        for _ in range(runs):
            started = time.perf_counter()
            n = sum(len([i for i in json.loads(f.read_text())["items"] if i["kind"].endswith("Chaos")]) for f in files)
            parse_times.append(time.perf_counter() - started)
            session = Session([SnapshotSource(tmp)])
            started = time.perf_counter()
            session.execute("SELECT phase, count(*) FROM experiments GROUP BY phase").rows()
            query_times.append(time.perf_counter() - started)
            session.close()
        return min(parse_times), min(query_times), n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--experiments", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    times = startup(args.runs)
    print(
        f"start-up to first result (demo, count(*)): best {min(times):.3f} s, median {statistics.median(times):.3f} s"
    )
    parse, query, n = scale(args.experiments, max(2, args.runs // 2))
    print(f"{n} experiments: json parse only {parse:.2f} s, chaosql query {query:.2f} s, ratio {query / parse:.2f}x")


if __name__ == "__main__":
    main()
