"""What one small statement costs inside the engine (not a test: it reports, never fails).

Usage: python bench/statement_cost.py [--runs 500] [--profile 10] [--source demo]

One ``Session`` on the demo data runs each of the server benchmark's small queries (the same text
as bench/pgwire_load.py's: ``SELECT 1``, a filtered count, a 20-row page, a GROUP BY, a join)
``--runs`` times in a row and reports the median, p90 and CPU time per statement, once as text
(the CLI's, REPL's and reports' way) and once as the wire server hands it over (translated to a
tree once, lent to the session for every run, with its DuckDB text). With
``--profile N`` it then profiles every query's runs together and prints the N entries with the
most own time and most cumulative time, which says where a statement's time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import time

QUERIES: dict[str, str] = {
    "select1": "SELECT 1",
    "count": "SELECT count(*) FROM experiments WHERE phase = 'running' AND kind = 'PodChaos'",
    "page": (
        "SELECT cluster, namespace, name, kind, phase, created_at FROM experiments "
        "ORDER BY created_at DESC, cluster, namespace, name LIMIT 20 OFFSET 40"
    ),
    "group": (
        "SELECT cluster, kind, phase, count(*) AS n FROM experiments GROUP BY cluster, kind, phase "
        "ORDER BY cluster, kind, phase"
    ),
    "join": (
        "SELECT e.kind, count(*) AS n FROM experiments e JOIN targets t ON t.cluster = e.cluster "
        "AND t.namespace = e.namespace AND t.experiment = e.name WHERE t.phase = 'Injected' "
        "GROUP BY e.kind ORDER BY e.kind"
    ),
}


def measure(session, sql: str, runs: int, *, wire: bool = False) -> tuple[list[float], float]:
    """Wall time of each run (seconds) and the CPU time of all of them (every thread's)."""
    statement = _as_wire(session, sql) if wire else (lambda: sql)
    session.execute(statement()).arrow()  # warm: the first run loads modules and the sources' data
    times = []
    cpu = time.process_time()
    for _ in range(runs):
        started = time.perf_counter()
        session.execute(statement(), stream=wire).arrow()
        times.append(time.perf_counter() - started)
    return times, time.process_time() - cpu


def _as_wire(session, sql: str):
    """What the wire server runs for ``sql``: its translated tree, lent to the session for every
    run (as its ``Runner.run`` does: the session copies it before changing it), with the tree's
    DuckDB text."""
    from chaosql.server import rewrite

    translated = rewrite.translate(sql, session.tables)

    def statement():
        tree = translated.tree
        tree.meta["sql_length"] = len(sql)
        tree.meta["duckdb_sql"] = translated.sql
        tree.meta["borrowed"] = True
        return tree

    return statement


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--profile", type=int, default=15, help="top N profile entries (0: no profile)")
    parser.add_argument("--source", default="demo")
    parser.add_argument("--only", nargs="*", choices=list(QUERIES), default=list(QUERIES))
    args = parser.parse_args()

    import chaosql

    session = chaosql.connect(args.source)
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {args.runs} runs each")
    print(f"{'query':<8} {'form':<5} {'median ms':>10} {'p90 ms':>8} {'cpu ms/stmt':>12}")
    for name in args.only:
        for wire in (False, True):
            times, cpu = measure(session, QUERIES[name], args.runs, wire=wire)
            times.sort()
            print(
                f"{name:<8} {'wire' if wire else 'text':<5} {statistics.median(times) * 1000:>10.3f}"
                f" {times[int(len(times) * 0.9)] * 1000:>8.3f} {cpu / args.runs * 1000:>12.3f}"
            )
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        for name in args.only:
            for _ in range(max(args.runs // 5, 1)):
                session.execute(QUERIES[name]).arrow()
        profile.disable()
        for order in ("tottime", "cumulative"):
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats(order).print_stats(args.profile)
            print(f"--- profile by {order} ---")
            print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:6000])
    session.close()


if __name__ == "__main__":
    main()
