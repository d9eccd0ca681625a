"""Benchmark `chaosql serve` against a real PostgreSQL 15 with the same clients (not a test).

Measures rows/second for a 1,000,000-row result (BIGINT, VARCHAR, DOUBLE, TIMESTAMPTZ) read by
psycopg 3 (text and binary) and asyncpg (binary, a cursor fetching 10,000 rows at a time), and the
SELECT 1 round-trip. chaosql runs in its own process (``python -m chaosql serve``), as users run it.

The machine is usually shared, so each round measures chaosql and PostgreSQL one right after the
other and reports their ratio; ``--rounds N`` repeats that and prints the range. The server's CPU
time per million rows (chaosql's whole process; the PostgreSQL backend serving the client) is
printed too: it depends much less on what else the machine is doing than rows/s does, and so is
the load average before and after (rows/s only compare on a quiet machine). So is the client's
own CPU and the time it waited for the server (wall clock minus its CPU and its wait for a CPU):
on a loaded machine that says whether the server kept the client waiting better than rows/s do.
Run: ``python3 bench/pgwire.py [--rounds 3] [--rows 1000000] [--only asyncpg-binary]``.
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
from dataclasses import dataclass
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
        # from bytecode, as an installed chaosql starts (bench/pgwire_load.py says why)
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": ""},
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()
    if "serving" not in line:
        raise SystemExit(f"chaosql serve did not start: {line}")
    return proc, f"postgresql://bench@127.0.0.1:{port}/chaosql"


@dataclass
class Run:
    """One client reading the whole result from one server."""

    rate: float  # rows/s
    server_cpu: float  # seconds
    client_cpu: float  # seconds, the client's thread
    waited: float  # seconds the client slept waiting for the server (not for a CPU)


class Measured:
    """Times one read: wall clock, the server's CPU, and the client thread's CPU and run-queue
    wait (Linux schedstat), so ``waited`` = wall - CPU - run-queue wait is the time the client
    was idle because the server had not sent what it needed: much less load-dependent than rows/s."""

    def __init__(self, server: int) -> None:
        self.server = server

    def __enter__(self) -> Measured:
        self.cpu, self.sched, self.started = cpu_seconds(self.server), schedstat(), time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.elapsed = time.perf_counter() - self.started
        ran, queued = (after - before for after, before in zip(schedstat(), self.sched))
        self.server_cpu = cpu_seconds(self.server) - self.cpu
        self.client_cpu, self.waited = ran, max(0.0, self.elapsed - ran - queued)

    def run(self, rows: int) -> Run:
        return Run(rows / self.elapsed, self.server_cpu, self.client_cpu, self.waited)


def schedstat() -> tuple[float, float]:
    """(seconds on a CPU, seconds waiting for one) of the calling thread."""
    ran, queued, _ = Path("/proc/thread-self/schedstat").read_text().split()
    return int(ran) / 1e9, int(queued) / 1e9


def psycopg_rows(dsn: str, sql: str, rows: int, binary: bool, server_pid: Callable[[int], int]) -> Run:
    """Reading the whole result with psycopg (streamed, one row at a time)."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as con:
        with Measured(server_pid(con.info.backend_pid)) as measured, con.cursor(binary=binary) as cur:
            n = sum(1 for _ in cur.stream(sql))
    assert n == rows, n
    return measured.run(n)


def asyncpg_rows(dsn: str, sql: str, rows: int, server_pid: Callable[[int], int], *, cursor: bool = True) -> Run:
    """Reading the result through an asyncpg cursor (10,000 rows per Execute), or with
    ``fetch()`` (one Execute for all rows) when not ``cursor``."""
    import asyncpg

    async def main() -> Run:
        con = await asyncpg.connect(dsn)
        try:
            n = 0
            with Measured(server_pid(con.get_server_pid())) as measured:
                if cursor:
                    async with con.transaction():
                        async for _ in con.cursor(sql, prefetch=10_000):
                            n += 1
                else:
                    n = len(await con.fetch(sql))
            assert n == rows, n
            return measured.run(n)
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


CLIENTS = ("psycopg text", "psycopg binary", "asyncpg binary", "asyncpg fetch")
DEFAULT_CLIENTS = CLIENTS[:3]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1, help="measure every client this many times")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--only",
        action="append",
        choices=[name.replace(" ", "-") for name in CLIENTS],
        help="measure only this client (repeatable); asyncpg-fetch (fetch() of the whole result) only when named",
    )
    parser.add_argument("--no-latency", action="store_true", help="skip the SELECT 1 round trips")
    args = parser.parse_args()
    rows = args.rows
    chosen = [name.replace("-", " ") for name in args.only] if args.only else list(DEFAULT_CLIENTS)
    proc, chaosql_dsn = start_chaosql()
    measured: dict[tuple[str, str], list[Run]] = {}
    ratios: dict[str, list[float]] = {}
    latency: dict[str, list[float]] = {}
    try:
        with RealPostgres() as pg:
            servers = {
                "chaosql": (chaosql_dsn, chaosql_sql(rows), lambda _backend: proc.pid),
                "postgres": (pg.dsn, pg_sql(rows), lambda backend: backend),
            }
            every: dict[str, Callable[[str, str, Callable[[int], int]], Run]] = {
                "psycopg text": lambda dsn, sql, pid: psycopg_rows(dsn, sql, rows, False, pid),
                "psycopg binary": lambda dsn, sql, pid: psycopg_rows(dsn, sql, rows, True, pid),
                "asyncpg binary": lambda dsn, sql, pid: asyncpg_rows(dsn, sql, rows, pid),
                "asyncpg fetch": lambda dsn, sql, pid: asyncpg_rows(dsn, sql, rows, pid, cursor=False),
            }
            clients = {name: every[name] for name in chosen}
            load = os.getloadavg()
            for round_number in range(1, args.rounds + 1):
                # who goes first alternates: the second of two runs often finds the caches or the
                # scheduler in another state
                order = list(servers) if round_number % 2 else list(reversed(servers))
                for client, run in clients.items():
                    this_round = {label: run(*servers[label]) for label in order}
                    for label, value in this_round.items():
                        measured.setdefault((label, client), []).append(value)
                    ours, theirs = this_round["chaosql"], this_round["postgres"]
                    ratio = ours.rate / theirs.rate
                    ratios.setdefault(client, []).append(ratio)
                    print(
                        f"round {round_number} {client:15} chaosql {ours.rate:>9,.0f} rows/s "
                        f"(client waited {ours.waited:.2f} s), postgres {theirs.rate:>9,.0f} rows/s "
                        f"(waited {theirs.waited:.2f} s): {ratio:.2f}x; load {os.getloadavg()[0]:.2f}",
                        flush=True,
                    )
                if not args.no_latency:
                    for label, (dsn, _sql, _pid) in servers.items():
                        latency.setdefault(label, []).append(select1_ms(dsn))
    finally:
        proc.terminate()
        proc.wait(10)
    print(
        f"{rows:,} rows x 4 columns (bigint, varchar, float8, timestamptz); {os.cpu_count()} cores; {args.rounds} round(s); "
        f"load average {load[0]:.2f} before, {os.getloadavg()[0]:.2f} after"
    )
    per = 1_000_000 / rows
    print(
        f"{'server':9} {'client':15} {'rows/s (min-max)':>24}   per 1M rows (medians): "
        "server CPU s, client CPU s, client waited for the server s"
    )
    for (label, client), values in measured.items():
        rates = [value.rate for value in values]
        server_cpu, client_cpu, waited = (
            statistics.median(getattr(value, field) for value in values) * per
            for field in ("server_cpu", "client_cpu", "waited")
        )
        print(
            f"{label:9} {client:15} {min(rates):>11,.0f} - {max(rates):>10,.0f}   "
            f"{server_cpu:>5.2f} {client_cpu:>5.2f} {waited:>5.2f}"
        )
    for client, values in ratios.items():
        print(f"chaosql / postgres, {client:15} {min(values):.2f}x - {max(values):.2f}x (each round side by side)")
    for label, values in latency.items():
        print(f"{label:9} SELECT 1 (psycopg)   {statistics.median(values):.3f} ms median")


if __name__ == "__main__":
    main()
