"""Benchmark `chaosql serve` against a real PostgreSQL 15 with the same clients (not a test).

Measures rows/second for a 1,000,000-row result (BIGINT, VARCHAR, DOUBLE, TIMESTAMPTZ) read by
psycopg 3 (text and binary) and asyncpg (binary), and the SELECT 1 round-trip. chaosql runs in
its own process (``python -m chaosql serve``), as users run it. Run: ``python3 bench/pgwire.py``.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "server"))
from realpg import RealPostgres, free_port  # noqa: E402

ROWS = 1_000_000
CHAOSQL_SQL = (
    f"SELECT x AS id, 'experiment-' || x::VARCHAR AS name, x / 3.0 AS value, "
    f"TIMESTAMPTZ '2026-01-01 00:00:00+00' + to_seconds(x) AS at FROM range({ROWS}) t(x)"
)
PG_SQL = (
    f"SELECT x::bigint AS id, 'experiment-' || x::text AS name, (x / 3.0)::float8 AS value, "
    f"TIMESTAMPTZ '2026-01-01 00:00:00+00' + make_interval(secs => x) AS at FROM generate_series(0, {ROWS - 1}) x"
)


def start_chaosql() -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "chaosql", "serve", "--port", str(port), "-s", "demo"],
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stderr.readline()
    if "serving" not in line:
        raise SystemExit(f"chaosql serve did not start: {line}")
    return proc, f"postgresql://bench@127.0.0.1:{port}/chaosql"


def psycopg_rows(dsn: str, sql: str, binary: bool) -> float:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as con:
        started = time.perf_counter()
        with con.cursor(name=None, binary=binary) as cur:
            n = 0
            for _ in cur.stream(sql):
                n += 1
        elapsed = time.perf_counter() - started
    assert n == ROWS, n
    return n / elapsed


def asyncpg_rows(dsn: str, sql: str) -> float:
    import asyncpg

    async def main() -> float:
        con = await asyncpg.connect(dsn)
        try:
            started = time.perf_counter()
            n = 0
            async with con.transaction():
                async for _ in con.cursor(sql, prefetch=10_000):
                    n += 1
            assert n == ROWS, n
            return n / (time.perf_counter() - started)
        finally:
            await con.close()

    return asyncio.run(main())


def select1_ms(dsn: str, rounds: int = 500) -> float:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as con:
        for _ in range(20):
            con.execute("SELECT 1").fetchone()
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            con.execute("SELECT 1").fetchone()
            times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    results = []
    proc, chaosql_dsn = start_chaosql()
    try:
        with RealPostgres() as pg:
            for label, dsn, sql in (("chaosql", chaosql_dsn, CHAOSQL_SQL), ("postgres", pg.dsn, PG_SQL)):
                results.append((label, "psycopg text", f"{psycopg_rows(dsn, sql, False):,.0f} rows/s"))
                results.append((label, "psycopg binary", f"{psycopg_rows(dsn, sql, True):,.0f} rows/s"))
                results.append((label, "asyncpg binary", f"{asyncpg_rows(dsn, sql):,.0f} rows/s"))
                results.append((label, "SELECT 1 (psycopg)", f"{select1_ms(dsn):.3f} ms median"))
    finally:
        proc.terminate()
        proc.wait(10)
    print(f"{ROWS:,} rows x 4 columns (bigint, varchar, float8, timestamptz); {os.cpu_count()} cores")
    for label, what, value in results:
        print(f"{label:9} {what:20} {value}")


if __name__ == "__main__":
    main()
