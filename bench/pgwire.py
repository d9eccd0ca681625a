"""Benchmark `chaosql serve` against a real PostgreSQL 15 with the same clients (not a test).

Measures rows/second for a 1,000,000-row result (BIGINT, VARCHAR, DOUBLE, TIMESTAMPTZ) read by
psycopg 3 (text and binary) and asyncpg (binary, a cursor fetching 10,000 rows at a time), and the
SELECT 1 round-trip. chaosql runs in its own process (``python -m chaosql serve``), as users run it.

The machine is usually shared, so each round measures chaosql and PostgreSQL one right after the
other and reports their ratio; ``--rounds N`` repeats that and prints the range. The server's CPU
time per million rows (chaosql's whole process; the PostgreSQL backend serving the client) is
printed too: it depends much less on what else the machine is doing than rows/s does, and so is
the load average before and after (rows/s only compare on a quiet machine).
Run: ``python3 bench/pgwire.py [--rounds 3] [--rows 1000000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "server"))
from realpg import RealPostgres, free_port  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def chaosql_sql(rows: int) -> str:
    return (
        f"SELECT x AS id, 'experiment-' || x::VARCHAR AS name, x / 3.0 AS value, "
        f"TIMESTAMPTZ '2026-01-01 00:00:00+00' + to_seconds(x) AS at FROM range({rows}) t(x)"
    )


def pg_sql(rows: int) -> str:
    return (
        f"SELECT x::bigint AS id, 'experiment-' || x::text AS name, (x / 3.0)::float8 AS value, "
        f"TIMESTAMPTZ '2026-01-01 00:00:00+00' + make_interval(secs => x) AS at FROM generate_series(0, {rows - 1}) x"
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def start_chaosql() -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "chaosql", "serve", "--port", str(port), "-s", "demo"],
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()
    if "serving" not in line:
        raise SystemExit(f"chaosql serve did not start: {line}")
    return proc, f"postgresql://bench@127.0.0.1:{port}/chaosql"


def psycopg_rows(dsn: str, sql: str, rows: int, binary: bool, server_pid: Callable[[int], int]) -> tuple[float, float]:
    """(rows/s, server CPU seconds) reading the whole result with psycopg."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as con:
        pid = server_pid(con.info.backend_pid)
        cpu, started = cpu_seconds(pid), time.perf_counter()
        with con.cursor(binary=binary) as cur:
            n = sum(1 for _ in cur.stream(sql))
        elapsed, cpu = time.perf_counter() - started, cpu_seconds(pid) - cpu
    assert n == rows, n
    return n / elapsed, cpu


def asyncpg_rows(dsn: str, sql: str, rows: int, server_pid: Callable[[int], int]) -> tuple[float, float]:
    """(rows/s, server CPU seconds) reading the result through an asyncpg cursor."""
    import asyncpg

    async def main() -> tuple[float, float]:
        con = await asyncpg.connect(dsn)
        try:
            pid = server_pid(con.get_server_pid())
            cpu, started = cpu_seconds(pid), time.perf_counter()
            n = 0
            async with con.transaction():
                async for _ in con.cursor(sql, prefetch=10_000):
                    n += 1
            assert n == rows, n
            return n / (time.perf_counter() - started), cpu_seconds(pid) - cpu
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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1, help="measure every client this many times")
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    rows = args.rows
    proc, chaosql_dsn = start_chaosql()
    measured: dict[tuple[str, str], list[tuple[float, float]]] = {}
    ratios: dict[str, list[float]] = {}
    latency: dict[str, list[float]] = {}
    try:
        with RealPostgres() as pg:
            servers = {
                "chaosql": (chaosql_dsn, chaosql_sql(rows), lambda _backend: proc.pid),
                "postgres": (pg.dsn, pg_sql(rows), lambda backend: backend),
            }
            clients: dict[str, Callable[[str, str, Callable[[int], int]], tuple[float, float]]] = {
                "psycopg text": lambda dsn, sql, pid: psycopg_rows(dsn, sql, rows, False, pid),
                "psycopg binary": lambda dsn, sql, pid: psycopg_rows(dsn, sql, rows, True, pid),
                "asyncpg binary": lambda dsn, sql, pid: asyncpg_rows(dsn, sql, rows, pid),
            }
            load = os.getloadavg()
            for round_number in range(1, args.rounds + 1):
                for client, run in clients.items():
                    this_round = {label: run(dsn, sql, pid) for label, (dsn, sql, pid) in servers.items()}
                    for label, value in this_round.items():
                        measured.setdefault((label, client), []).append(value)
                    ratio = this_round["chaosql"][0] / this_round["postgres"][0]
                    ratios.setdefault(client, []).append(ratio)
                    print(
                        f"round {round_number} {client:15} chaosql {this_round['chaosql'][0]:>9,.0f} rows/s, "
                        f"postgres {this_round['postgres'][0]:>9,.0f} rows/s: {ratio:.2f}x",
                        flush=True,
                    )
                for label, (dsn, _sql, _pid) in servers.items():
                    latency.setdefault(label, []).append(select1_ms(dsn))
    finally:
        proc.terminate()
        proc.wait(10)
    print(
        f"{rows:,} rows x 4 columns (bigint, varchar, float8, timestamptz); {os.cpu_count()} cores; {args.rounds} round(s); "
        f"load average {load[0]:.2f} before, {os.getloadavg()[0]:.2f} after"
    )
    print(f"{'server':9} {'client':15} {'rows/s (min-max)':>24} {'server CPU s per 1M rows':>26}")
    for (label, client), values in measured.items():
        rates = [r for r, _ in values]
        cpu = statistics.median(c for _, c in values) * 1_000_000 / rows
        print(f"{label:9} {client:15} {min(rates):>11,.0f} - {max(rates):>10,.0f} {cpu:>26.2f}")
    for client, values in ratios.items():
        print(f"chaosql / postgres, {client:15} {min(values):.2f}x - {max(values):.2f}x (each round side by side)")
    for label, values in latency.items():
        print(f"{label:9} SELECT 1 (psycopg)   {statistics.median(values):.3f} ms median")


if __name__ == "__main__":
    main()
