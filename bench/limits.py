"""Limit benchmarks (not tests): what long statements cost, and what refusing them costs.

Usage: python bench/limits.py

1. In-process: a statement of N bytes (an IN list) run through a Session, plainly and under the
   trace that lets its time limit stop the parse (statements from ``STOPPABLE_FROM`` bytes on),
   and the ratio of the two.
2. A real ``chaosql serve``: the server's resident memory idle, after statements of 1 MB, 4 MB and
   60 MB (refused with 54000 before they are parsed; the 60 MB one is skipped unread), after
   statements at 64 KB and 256 KB (answered), and how late a 2 s limit stops a 250 KB statement.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "server"))


def in_list(size: int) -> str:
    return "SELECT count(*) FROM experiments WHERE name IN (" + ",".join(f"'n{i:08d}'" for i in range(size // 12)) + ")"


def traced_vs_plain() -> None:
    from chaosql.engine import limits
    from chaosql.engine.session import Session
    from chaosql.sources import open_source

    session = Session([open_source("demo")])
    session.execute("SELECT count(*) FROM experiments")
    stoppable_from = limits.STOPPABLE_FROM
    for size in (16_000, 64_000, 250_000):
        sql = in_list(size)
        best = {}
        for traced in (False, True) * 2:
            limits.STOPPABLE_FROM = stoppable_from if traced else 10**12
            started = time.perf_counter()
            session.execute(sql)
            elapsed = time.perf_counter() - started
            best[traced] = min(best.get(traced, elapsed), elapsed)
        limits.STOPPABLE_FROM = stoppable_from
        print(
            f"{len(sql) / 1000:.0f} KB IN list: plain {best[False]:.2f} s, stoppable {best[True]:.2f} s, "
            f"ratio {best[True] / best[False]:.1f}x"
        )
    session.close()


def server() -> None:
    import psycopg
    from pgwire_env import dsn
    from serve_process import Served

    with Served("--source", "demo") as served, psycopg.connect(dsn(served.port), autocommit=True) as con:
        con.execute("SELECT count(*) FROM experiments")
        print(f"server idle: {served.rss_mb():.0f} MB resident")
        for size in (1 << 20, 4 << 20, 60 << 20, 64 << 10, 250 << 10):
            sql = in_list(size)
            started = time.monotonic()
            try:
                con.execute(sql).fetchall()
                outcome = "answered"
            except psycopg.Error as err:
                outcome = f"SQLSTATE {err.sqlstate}"
            print(
                f"{len(sql) / 1e6:.2f} MB statement: {outcome} in {time.monotonic() - started:.2f} s; "
                f"server {served.rss_mb():.0f} MB resident, peak {served.peak_mb():.0f} MB"
            )
        con.execute("SET statement_timeout = 2000")
        started = time.monotonic()
        try:
            con.execute(in_list(250 << 10))
            outcome = "answered"
        except psycopg.Error as err:
            outcome = f"SQLSTATE {err.sqlstate}"
        print(f"250 KB statement with a 2 s limit: {outcome} after {time.monotonic() - started:.2f} s")


if __name__ == "__main__":
    traced_vs_plain()
    server()
