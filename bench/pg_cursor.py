"""Benchmark a named (server-side) cursor through `chaosql serve` and a real PostgreSQL 15 (not a test).

A psycopg2 named cursor over a large result fetches 100 rows at a time; what matters to its user is
the time to the first rows and the server's memory, which must not grow with the result: chaosql
streams the cursor's result until another statement runs on the connection. Prints the seconds to
the first 100 rows for each result size, chaosql next to PostgreSQL.
Run: ``python3 bench/pg_cursor.py [--rows 1000000 10000000]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pgwire import RealPostgres, start_chaosql


def first_rows_seconds(dsn: str, rows: int) -> float:
    import psycopg2

    con = psycopg2.connect(dsn)
    try:
        cur = con.cursor(name="bench")
        cur.itersize = 100
        began = time.perf_counter()
        cur.execute(f"SELECT x, x * 2 AS y FROM generate_series(1, {rows}) AS t(x)")
        assert len(cur.fetchmany(100)) == 100
        elapsed = time.perf_counter() - began
        cur.close()
        con.commit()
        return elapsed
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    args = parser.parse_args()
    proc, dsn = start_chaosql()
    try:
        first_rows_seconds(dsn, 1000)  # the session opens at the first statement: not measured
        with RealPostgres() as pg:
            for rows in args.rows:
                ours, theirs = first_rows_seconds(dsn, rows), first_rows_seconds(pg.dsn, rows)
                print(f"{rows:>12,} rows: first 100 in {ours:.3f} s (chaosql), {theirs:.3f} s (PostgreSQL)")
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
