"""`chaosql serve` under load, side by side with a real PostgreSQL 15 (a benchmark, not a test).

Scenarios (each against chaosql and, in the same run, PostgreSQL 15 loaded with the same rows):

* ``mixed``: N clients x M queries on the demo data: 80% small queries (a filtered count, a
  20-row page with a bound offset, ``SELECT 1``, a GROUP BY, a join), 20% 10,000-row results;
* ``small``: the same clients, small queries only;
* ``idle``: what 200 idle connections cost the server (threads, resident memory);
* ``select1``: the ``SELECT 1`` round trip of one client (simple protocol);
* ``long``: session B's small queries while session A runs a ~10 s aggregate, against B alone.

Every client is its own process (psycopg 3), so the client side never shares a GIL; a client
that is done waits for the others before its process exits (an exit's CPU would otherwise be
taken from the server on a small machine while the others still measure). While a
scenario runs, the server's thread count and resident memory are sampled from /proc (PostgreSQL:
the postmaster and its backends, summed). Numbers only: the machine is shared, so compare the
ratios measured in one run.

    python bench/pgwire_load.py                        # every scenario, chaosql and PostgreSQL
    python bench/pgwire_load.py --only mixed small --clients 50 --queries 100
    python bench/pgwire_load.py --target chaosql --serve-args "--workers 4"
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import shlex
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "server"))
from realpg import RealPostgres, free_port  # noqa: E402

#: The small queries: name -> (SQL, parameters or None). The same text runs on both servers.
SMALL: dict[str, tuple[str, Callable[[random.Random], tuple] | None]] = {
    "count": ("SELECT count(*) FROM experiments WHERE phase = 'running' AND kind = 'PodChaos'", None),
    "page": (
        "SELECT cluster, namespace, name, kind, phase, created_at FROM experiments "
        "ORDER BY created_at DESC, cluster, namespace, name LIMIT 20 OFFSET %s",
        lambda rng: (rng.randrange(0, 340, 20),),
    ),
    "select1": ("SELECT 1", None),
    "group": (
        "SELECT cluster, kind, phase, count(*) AS n FROM experiments GROUP BY cluster, kind, phase "
        "ORDER BY cluster, kind, phase",
        None,
    ),
    "join": (
        "SELECT e.kind, count(*) AS n FROM experiments e JOIN targets t ON t.cluster = e.cluster "
        "AND t.namespace = e.namespace AND t.experiment = e.name WHERE t.phase = 'Injected' "
        "GROUP BY e.kind ORDER BY e.kind",
        None,
    ),
}
#: The large query: 10,000 rows of seven columns.
LARGE = (
    "SELECT e.cluster, e.namespace, e.name, e.kind, e.phase, e.created_at, g.n FROM experiments e "
    "CROSS JOIN generate_series(1, 28) AS g(n) LIMIT 10000"
)
#: A long aggregate for the starvation scenario (scaled by --long-rows to take ~10 s on chaosql).
LONG_CHAOSQL = "SELECT count(DISTINCT x % 1000003), sum(hash(x) % 7) FROM range({rows}) t(x)"
LONG_PG = "SELECT count(DISTINCT x % 1000003), sum(x % 7) FROM generate_series(1, {rows}) x"
#: PostgreSQL's count(DISTINCT) sorts: a sixth of the rows takes about as long.
PG_LONG_SHARE = 6

# Columns loaded into PostgreSQL: what the queries above read, with PostgreSQL's types.
PG_TABLES = {
    "experiments": [
        ("cluster", "text"),
        ("namespace", "text"),
        ("name", "text"),
        ("kind", "text"),
        ("phase", "text"),
        ("created_at", "timestamptz"),
    ],
    "targets": [("cluster", "text"), ("namespace", "text"), ("experiment", "text"), ("phase", "text")],
}


# --- servers ----------------------------------------------------------------------------------


class Chaosql:
    label = "chaosql"

    def __init__(self, serve_args: list[str]) -> None:
        self.serve_args = serve_args
        self.proc: subprocess.Popen | None = None

    def start(self) -> Chaosql:
        port = free_port()
        # from bytecode, as an installed chaosql starts: compiling every module (where the environment
        # says PYTHONDONTWRITEBYTECODE) takes ~2 s of a core right when the clients connect
        env = {
            **os.environ,
            "CHAOSQL_CONFIG": "",
            "XDG_CONFIG_HOME": "/nonexistent",
            "PYTHONPATH": str(REPO),
            "PYTHONDONTWRITEBYTECODE": "",
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "chaosql", "serve", "--port", str(port), "-s", "demo", *self.serve_args],
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert self.proc.stderr is not None
        line = self.proc.stderr.readline()
        if "serving" not in line:
            raise SystemExit(f"chaosql serve did not start: {line}{self.proc.stderr.read()}")
        threading.Thread(target=self.proc.stderr.read, daemon=True).start()  # never block on its log
        self.dsn = f"postgresql://bench@127.0.0.1:{port}/chaosql"
        return self

    def pids(self) -> list[int]:
        assert self.proc is not None
        return [self.proc.pid]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    long_sql = LONG_CHAOSQL


class Postgres:
    label = "postgres"
    long_sql = LONG_PG

    def start(self) -> Postgres:
        self.pg = RealPostgres(options="-c max_connections=300").start()  # the idle scenario opens 200
        self.dsn = self.pg.dsn
        self.postmaster = int((self.pg.data / "postmaster.pid").read_text().split()[0])
        _load_demo(self.dsn)
        return self

    def pids(self) -> list[int]:
        children = Path(f"/proc/{self.postmaster}/task/{self.postmaster}/children")
        try:
            return [self.postmaster, *(int(p) for p in children.read_text().split())]
        except OSError:
            return [self.postmaster]

    def stop(self) -> None:
        self.pg.stop()


def _load_demo(dsn: str) -> None:
    """The demo data's rows the queries read, copied into PostgreSQL through chaosql itself."""
    import psycopg

    import chaosql

    session = chaosql.connect("demo")
    try:
        with psycopg.connect(dsn, autocommit=True) as con:
            for table, columns in PG_TABLES.items():
                names = ", ".join(name for name, _ in columns)
                con.execute(f"CREATE TABLE {table} ({', '.join(f'{n} {t}' for n, t in columns)})")
                rows = session.execute(f"SELECT {names} FROM {table}").rows()
                with con.cursor().copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            con.execute("ANALYZE")
    finally:
        session.close()


# --- what the server costs ----------------------------------------------------------------------


def _status(pid: int) -> tuple[int, float]:
    """(threads, proportional resident MB) of one process: PSS, so PostgreSQL's backends, which
    share their buffers, are not counted once per backend."""
    threads, rss = 0, 0.0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Threads:"):
                threads = int(line.split()[1])
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                rss = int(line.split()[1]) / 1024
    except OSError:
        pass
    return threads, rss


def usage(server) -> tuple[int, float]:
    """(threads, resident MB (PSS)) of the server's processes now."""
    totals = [_status(pid) for pid in server.pids()]
    return sum(t for t, _ in totals), sum(r for _, r in totals)


class Sampler:
    """The server's peak threads and resident memory while a scenario runs (sampled every 50 ms)."""

    def __init__(self, server) -> None:
        self.server = server
        self.threads, self.rss = usage(server)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            threads, rss = usage(self.server)
            self.threads, self.rss = max(self.threads, threads), max(self.rss, rss)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# --- clients (each its own process) ---------------------------------------------------------------


def _client(dsn: str, seed: int, queries: int, large_share: float, start, out, finished) -> None:
    import psycopg

    rng = random.Random(seed)
    timings: list[tuple[str, float]] = []
    try:
        with psycopg.connect(dsn, autocommit=True) as con:
            start.wait()
            for index in range(queries):
                if rng.random() < large_share:
                    name, sql, params = "large", LARGE, None
                else:
                    name = rng.choice(list(SMALL))
                    sql, make = SMALL[name]
                    params = make(rng) if make else None
                began = time.perf_counter()
                rows = con.execute(sql, params).fetchall()
                timings.append((name if index else f"first {name}", time.perf_counter() - began))
                if name == "large" and len(rows) != 10_000:
                    raise AssertionError(f"large query returned {len(rows)} rows")
        out.put(("ok", timings))
    except BaseException as err:  # report, never hang the parent
        out.put(("error", f"{type(err).__name__}: {err}"))
    # a Python process's exit takes tens of ms of CPU: on these 2 cores, clients done early would
    # take it from the server while the others still measure; they leave once all are done
    finished.wait(1800)


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def load(server, clients: int, queries: int, large_share: float) -> dict:
    ctx = mp.get_context("spawn")
    start, out, finished = ctx.Barrier(clients + 1), ctx.Queue(), ctx.Event()
    procs = [
        ctx.Process(target=_client, args=(server.dsn, 1000 + i, queries, large_share, start, out, finished))
        for i in range(clients)
    ]
    for p in procs:
        p.start()
    try:
        with Sampler(server) as sampler:
            start.wait(timeout=300)
            began = time.perf_counter()
            results = [out.get(timeout=1800) for _ in procs]
            wall = time.perf_counter() - began
    finally:
        finished.set()
    for p in procs:
        p.join(30)
    errors = [r[1] for r in results if r[0] == "error"]
    if errors:
        raise SystemExit(f"{server.label}: {len(errors)} clients failed, first: {errors[0]}")
    timings = [t for _, ts in results for t in ts]
    # a connection's first statement also opens its session and meets what no statement has read
    # yet (PostgreSQL forks its backend at connect time): reported apart, and counted in the small ones
    first = [s for name, s in timings if name.startswith("first ")]
    small = [s for name, s in timings if not name.endswith("large")]
    later = [s for name, s in timings if not name.endswith("large") and not name.startswith("first ")]
    large = [s for name, s in timings if name.endswith("large")]
    return {
        "qps": len(timings) / wall,
        "small_p50": _percentile(small, 0.5) * 1000,
        "small_p99": _percentile(small, 0.99) * 1000,
        "later_p99": _percentile(later, 0.99) * 1000,
        "first_p50": _percentile(first, 0.5) * 1000,
        "first_max": max(first) * 1000 if first else float("nan"),
        "large_p50": _percentile(large, 0.5) * 1000 if large else float("nan"),
        "threads": sampler.threads,
        "rss": sampler.rss,
    }


def idle(server, connections: int) -> dict:
    import psycopg

    threads0, rss0 = usage(server)
    cons = [psycopg.connect(server.dsn, autocommit=True) for _ in range(connections)]
    time.sleep(1.0)
    threads1, rss1 = usage(server)
    for con in cons:
        con.close()
    return {
        "threads_before": threads0,
        "threads_after": threads1,
        "threads_per_conn": (threads1 - threads0) / connections,
        "mb_per_conn": (rss1 - rss0) / connections,
    }


def select1(server, rounds: int = 2000) -> dict:
    import psycopg

    with psycopg.connect(server.dsn, autocommit=True) as con:
        for _ in range(50):
            con.execute("SELECT 1").fetchone()
        times = []
        for _ in range(rounds):
            began = time.perf_counter()
            con.execute("SELECT 1").fetchone()
            times.append(time.perf_counter() - began)
    return {"median_ms": statistics.median(times) * 1000, "p99_ms": _percentile(times, 0.99) * 1000}


def _small_loop(dsn: str, seconds: float, start, out) -> None:
    import psycopg

    rng = random.Random(7)
    times = []
    try:
        with psycopg.connect(dsn, autocommit=True) as con:
            start.wait()
            until = time.perf_counter() + seconds
            while time.perf_counter() < until:
                name = rng.choice(["count", "page", "select1", "group"])
                sql, make = SMALL[name]
                began = time.perf_counter()
                con.execute(sql, make(rng) if make else None).fetchall()
                times.append(time.perf_counter() - began)
        out.put(("ok", times))
    except BaseException as err:
        out.put(("error", f"{type(err).__name__}: {err}"))


def _long_query(dsn: str, sql: str, start, out) -> None:
    import psycopg

    try:
        with psycopg.connect(dsn, autocommit=True) as con:
            start.wait()
            began = time.perf_counter()
            con.execute(sql).fetchall()
            out.put(("ok", time.perf_counter() - began))
    except BaseException as err:
        out.put(("error", f"{type(err).__name__}: {err}"))


def long_aggregate(server, rows: int, seconds: float) -> dict:
    """Session B's small queries alone, then while session A runs the long aggregate."""
    ctx = mp.get_context("spawn")
    out: dict = {}
    for label, with_long in (("alone", False), ("beside", True)):
        start, q_small, q_long = ctx.Barrier(2 + with_long), ctx.Queue(), ctx.Queue()
        procs = [ctx.Process(target=_small_loop, args=(server.dsn, seconds, start, q_small))]
        if with_long:
            sql = server.long_sql.format(rows=rows if server.label == "chaosql" else rows // PG_LONG_SHARE)
            procs.append(ctx.Process(target=_long_query, args=(server.dsn, sql, start, q_long)))
        for p in procs:
            p.start()
        start.wait(timeout=120)
        status, times = q_small.get(timeout=600)
        if status != "ok":
            raise SystemExit(f"{server.label}: small loop failed: {times}")
        if with_long:
            status, took = q_long.get(timeout=600)
            if status != "ok":
                raise SystemExit(f"{server.label}: long query failed: {took}")
            out["long_s"] = took
        for p in procs:
            p.join(30)
        out[f"{label}_n"] = len(times)
        out[f"{label}_p50"] = _percentile(times, 0.5) * 1000
        out[f"{label}_p99"] = _percentile(times, 0.99) * 1000
    return out


def check_same_answers(servers: list) -> None:
    """Each small query gives the same rows on every server (the large one the same count)."""
    import psycopg

    answers: dict[str, list] = {}
    for server in servers:
        with psycopg.connect(server.dsn, autocommit=True) as con:
            for name, (sql, make) in SMALL.items():
                rows = [tuple(str(v) for v in r) for r in con.execute(sql, make(random.Random(1)) if make else None)]
                if name in answers and answers[name] != rows:
                    raise SystemExit(f"{name}: {server.label} answers differently: {rows[:3]} vs {answers[name][:3]}")
                answers[name] = rows


# --- report -----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", choices=["both", "chaosql", "postgres"], default="both")
    parser.add_argument("--only", nargs="+", choices=["mixed", "small", "idle", "select1", "long"])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--idle", type=int, default=200, help="idle connections to open")
    parser.add_argument("--long-rows", type=int, default=40_000_000, help="rows of the long aggregate")
    parser.add_argument("--long-seconds", type=float, default=8.0, help="how long session B runs")
    parser.add_argument("--serve-args", default="", help="more arguments for chaosql serve")
    args = parser.parse_args()
    scenarios = args.only or ["select1", "idle", "small", "mixed", "long"]

    servers: list = []
    if args.target in ("both", "chaosql"):
        servers.append(Chaosql(shlex.split(args.serve_args)))
    if args.target in ("both", "postgres"):
        servers.append(Postgres())
    rows: list[tuple[str, str, str]] = []
    load1 = os.getloadavg()[0]
    try:
        for server in servers:
            server.start()
        if len(servers) > 1:
            check_same_answers(servers)
        for scenario in scenarios:
            for server in servers:
                if scenario == "select1":
                    r = select1(server)
                    rows.append((server.label, "SELECT 1", f"median {r['median_ms']:.3f} ms, p99 {r['p99_ms']:.3f} ms"))
                elif scenario == "idle":
                    r = idle(server, args.idle)
                    rows.append(
                        (
                            server.label,
                            f"{args.idle} idle connections",
                            f"threads {r['threads_before']} -> {r['threads_after']} "
                            f"({r['threads_per_conn']:.2f}/conn), {r['mb_per_conn']:.2f} MB/conn",
                        )
                    )
                elif scenario in ("mixed", "small"):
                    share = 0.2 if scenario == "mixed" else 0.0
                    r = load(server, args.clients, args.queries, share)
                    large = f", large p50 {r['large_p50']:.0f} ms" if share else ""
                    rows.append(
                        (
                            server.label,
                            f"{scenario} {args.clients}x{args.queries}",
                            f"{r['qps']:.0f} q/s, small p50 {r['small_p50']:.1f} ms p99 {r['small_p99']:.1f} ms"
                            f" (after the first statement: p99 {r['later_p99']:.1f} ms; first statements:"
                            f" p50 {r['first_p50']:.1f} ms, max {r['first_max']:.1f} ms)"
                            f"{large}; peak {r['threads']} threads, {r['rss']:.0f} MB",
                        )
                    )
                elif scenario == "long":
                    r = long_aggregate(server, args.long_rows, args.long_seconds)
                    rows.append(
                        (
                            server.label,
                            "small beside a long aggregate",
                            f"alone p50 {r['alone_p50']:.1f} p99 {r['alone_p99']:.1f} ms ({r['alone_n']} q); "
                            f"beside a {r['long_s']:.1f} s aggregate p50 {r['beside_p50']:.1f} "
                            f"p99 {r['beside_p99']:.1f} ms ({r['beside_n']} q)",
                        )
                    )
                print(f"{rows[-1][0]:9} {rows[-1][1]:30} {rows[-1][2]}", flush=True)
    finally:
        for server in servers:
            try:
                server.stop()
            except Exception:
                pass
    print(f"\n{os.cpu_count()} cores; load average {load1:.1f} at the start, {os.getloadavg()[0]:.1f} at the end")
    for label, what, value in rows:
        print(f"{label:9} {what:30} {value}")


if __name__ == "__main__":
    main()
