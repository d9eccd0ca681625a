"""Benchmark: chaosql side by side with k8sql 0.2.4, and the watch cache's own numbers.

Not a test: it reports numbers and ratios, it never fails on time. On one seeded kube-apiserver
(bench/kube.py's seed: 10,000 experiments of six kinds in 20 namespaces, 500 pods, plus events) it

1. builds k8sql 0.2.4 from crates.io once (``cargo install --locked``, ~30 min on 2 cores; cached
   under ``~/.cache/chaosql-bench/k8sql``, never in CI) or uses ``--k8sql PATH``;
2. checks that both tools give the same rows for the six queries of issue 11;
3. times them one-shot (``k8sql -q`` / ``chaosql query``, listing itself and through a running
   ``chaosql service``; with this Python, and with a clean virtualenv's, see below) and as Postgres-wire daemons over psql (``k8sql daemon`` / ``chaosql serve``;
   chaosql cold, i.e. the first statement of a fresh server, and warm), plus a join of experiments
   with targets (k8sql has no targets table);
4. measures the watch cache in-process: warm and cold ``count(*)`` and the join, the freshness of an
   external change (write through the API -> visible to a statement), the RSS of a process holding
   experiments, targets, pods and events, and 5 clusters (5 apiservers) against one.

    python3 bench/k8sql.py --state ~/.cache/chaosql-bench/kube10k      # reuse the seeded cluster
    python3 bench/k8sql.py --only inprocess,freshness --repeat 21
    python3 bench/k8sql.py --k8sql /path/to/k8sql --only oneshot,daemon

Timings on a shared machine are noisy: every ratio compares numbers taken in the same run,
interleaved. Set PYTHONDONTWRITEBYTECODE= (empty) so chaosql starts from bytecode as an installed
package does.

A one-shot run through a service takes little more than Python's own start-up, and that depends on
the Python: this interpreter's ``site`` runs every ``.pth`` file of its site-packages (an editable
install's import finder, a sandbox's certificate hook ...), which a user's virtualenv does not have.
So the one-shot part times chaosql twice: with this interpreter (``sys.executable``), and with a
clean virtualenv made from it (``python -m venv --without-pip``, no system site-packages) whose one
``.pth`` puts the repository and this interpreter's site-packages on its path, as a ``pip install``
into a virtualenv would; and it prints both interpreters' ``python -c pass``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "bench")]

from kubeenv import CHAOS_API_VERSION, KubeTestEnv  # noqa: E402

CACHE = Path(os.environ.get("CHAOSQL_BENCH_CACHE") or Path.home() / ".cache" / "chaosql-bench")
K8SQL_VERSION = "0.2.4"

#: label -> (chaosql SQL, k8sql SQL, how to compare the answers: "rows" or "count")
QUERIES: dict[str, tuple[str, str | None, str]] = {
    "count PodChaos": (
        "SELECT count(*) AS n FROM experiments WHERE kind = 'PodChaos'",
        "SELECT count(*) AS n FROM podchaos",
        "rows",
    ),
    "count by kind": (
        "SELECT kind, count(*) AS n FROM experiments GROUP BY kind ORDER BY kind",
        "SELECT kind, count(*) AS n FROM ("
        + " UNION ALL ".join(
            f"SELECT kind FROM {k}"
            for k in ("podchaos", "networkchaos", "stresschaos", "iochaos", "timechaos", "httpchaos")
        )
        + ") GROUP BY kind ORDER BY kind",
        "rows",
    ),
    "namespace (167 rows)": (
        "SELECT name FROM experiments WHERE kind = 'PodChaos' AND namespace = 'bench-00' ORDER BY name",
        "SELECT name FROM podchaos WHERE namespace = 'bench-00' ORDER BY name",
        "rows",
    ),
    "label team=t3": (
        "SELECT name FROM experiments WHERE kind = 'PodChaos' AND labels['team'] = 't3' ORDER BY name",
        # parenthesised: k8sql's daemon (PostgreSQL dialect) reads ``a->>'k' = 'v'`` as ``a->>('k' = 'v')``
        "SELECT name FROM podchaos WHERE (labels->>'team') = 't3' ORDER BY name",
        "rows",
    ),
    "namespace + name": (
        "SELECT namespace, name FROM experiments WHERE kind = 'PodChaos' AND namespace = 'bench-00' "
        "AND name = 'podchaos-00000'",
        "SELECT namespace, name FROM podchaos WHERE namespace = 'bench-00' AND name = 'podchaos-00000'",
        "rows",
    ),
    "LIMIT 10": (
        "SELECT name FROM experiments WHERE kind = 'PodChaos' LIMIT 10",
        "SELECT name FROM podchaos LIMIT 10",
        "count",
    ),
    "join experiments x targets": (
        "SELECT e.kind, t.node, count(*) AS n FROM experiments e JOIN targets t "
        "ON t.cluster = e.cluster AND t.namespace = e.namespace AND t.experiment = e.name "
        "WHERE e.phase = 'running' GROUP BY e.kind, t.node ORDER BY 1, 2",
        None,
        "rows",
    ),
}
FULL_LIST = ("count by kind", "join experiments x targets")


# --- setup ----------------------------------------------------------------------------------------


def k8sql_binary(given: str | None) -> str | None:
    if given:
        return given
    built = CACHE / "k8sql" / "bin" / "k8sql"
    if built.exists():
        return str(built)
    if not shutil.which("cargo"):
        print("no k8sql (and no cargo to build it): the side-by-side parts are skipped", file=sys.stderr)
        return None
    print(f"building k8sql {K8SQL_VERSION} (about 30 minutes on 2 cores) ...", file=sys.stderr)
    subprocess.run(
        [
            "nice",
            "-n",
            "19",
            "cargo",
            "install",
            "k8sql",
            "--version",
            K8SQL_VERSION,
            "--locked",
            "--root",
            str(CACHE / "k8sql"),
        ],
        check=True,
    )
    return str(built)


def seed_events(env: KubeTestEnv, count: int, namespaces: int) -> None:
    """``count`` Events about chaos experiments (what a busy cluster keeps for an hour)."""
    client = env.client()

    def event(i: int) -> None:
        ns = f"bench-{i % namespaces:02d}"
        body = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": f"chaos-{i:06d}", "namespace": ns},
            "involvedObject": {
                "apiVersion": CHAOS_API_VERSION,
                "kind": "PodChaos",
                "name": f"podchaos-{i % 10000:05d}",
                "namespace": ns,
            },
            "reason": ("Started", "Applied", "Recovered", "TimeUp")[i % 4],
            "message": f"chaos event {i} for the benchmark",
            "type": "Normal",
            "count": 1,
            "firstTimestamp": "2026-11-20T12:00:00Z",
            "lastTimestamp": "2026-11-20T12:00:00Z",
            "source": {"component": "chaos-controller-manager"},
        }
        r = client.post(f"/api/v1/namespaces/{ns}/events", json=body)
        assert r.status_code in (201, 409), r.text

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(event, range(count)))


def count_of(env: KubeTestEnv, path: str, **params: str) -> int:
    total, token = 0, ""
    while True:
        query = {"limit": "500", **params, **({"continue": token} if token else {})}
        for _ in range(60):  # a restarted apiserver answers 429 while its storage comes up
            r = env.client().get(path, params=query)
            if r.status_code != 429:
                break
            time.sleep(1)
        body = r.json()
        total += len(body["items"])
        token = body["metadata"].get("continue") or ""
        if not token:
            return total


def start_cluster(state: str | None, name: str, experiments: int, namespaces: int, events: int) -> KubeTestEnv:
    import kube as bench_kube  # bench/kube.py: the 10k seed

    env = KubeTestEnv(state)
    env.start(name, fresh=not state)
    have = sum(count_of(env, env.path(CHAOS_API_VERSION, k)) for k in bench_kube.KINDS)
    if have < experiments:
        print(f"{name}: seeding {experiments} experiments ...", file=sys.stderr)
        bench_kube.seed(env, experiments, namespaces)
    if (
        events
        and count_of(env, "/api/v1/events", fieldSelector=f"involvedObject.apiVersion={CHAOS_API_VERSION}") < events
    ):
        print(f"{name}: seeding {events} events ...", file=sys.stderr)
        seed_events(env, events, namespaces)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def p(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


# --- the two tools, one-shot and as daemons -----------------------------------------------------


class Tools:
    def __init__(self, env: KubeTestEnv, k8sql: str | None, workdir: Path) -> None:
        self.env = env
        self.k8sql = k8sql
        self.workdir = workdir
        self.base_env = {
            **os.environ,
            "KUBECONFIG": env.kubeconfig,
            "PYTHONPATH": str(REPO),
            "XDG_RUNTIME_DIR": str(workdir / "run"),
            "CHAOSQL_CONFIG": "",
            "XDG_CONFIG_HOME": str(workdir / "config"),
            "HOME": str(workdir / "home"),  # k8sql keeps its CRD schema cache here
        }
        (workdir / "home").mkdir(exist_ok=True)

    def clean_python(self) -> str:
        """A virtualenv's Python with chaosql and its dependencies on its path and no other ``.pth``."""
        venv = self.workdir / "venv"
        if not venv.exists():
            import site
            import sysconfig

            subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
            python = str(venv / "bin" / "python")
            purelib = subprocess.run(
                [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            paths = [str(REPO), *site.getsitepackages(), sysconfig.get_paths()["purelib"]]
            Path(purelib, "chaosql-bench.pth").write_text("\n".join(dict.fromkeys(paths)) + "\n")
        return str(venv / "bin" / "python")

    def chaosql(self, *args: str, check: bool = True, python: str | None = None) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [python or sys.executable, "-m", "chaosql", *args],
            env=self.base_env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if check and done.returncode != 0:
            raise SystemExit(f"chaosql {' '.join(args)}: {done.stderr.strip()}")
        return done

    def k8sql_query(self, sql: str) -> subprocess.CompletedProcess:
        assert self.k8sql
        done = subprocess.run(
            [self.k8sql, "-c", "admin", "-o", "csv", "-q", sql],
            env=self.base_env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0:
            raise SystemExit(f"k8sql -q {sql!r}: {done.stderr.strip()[-400:]}")
        return done


def csv_rows(text: str, *, header: bool = True) -> list[tuple[str, ...]]:
    import csv
    import io

    rows = [tuple(r) for r in csv.reader(io.StringIO(text)) if r]
    return rows[1:] if header else rows


def same_answers(tools: Tools) -> None:
    print("\n== same rows from both tools (chaosql one-shot vs k8sql one-shot)")
    for label, (ours, theirs, compare) in QUERIES.items():
        if theirs is None:
            continue
        a = csv_rows(tools.chaosql("query", "-s", "kube:admin", "--no-service", "-F", "csv", ours).stdout)
        b = csv_rows(tools.k8sql_query(theirs).stdout)
        if compare == "count":
            ok = len(a) == len(b)
        else:
            ok = sorted(a) == sorted(b)
        print(f"  {label:<28} chaosql {len(a):>5} rows, k8sql {len(b):>5} rows: {'same' if ok else 'DIFFERENT'}")
        if not ok:
            print(f"    chaosql: {a[:3]}\n    k8sql:   {b[:3]}")


def oneshot(tools: Tools, repeat: int) -> None:
    clean = tools.clean_python()
    starts = {
        name: statistics.median(_timed(subprocess.run, [python, "-c", "pass"]) for _ in range(repeat))
        for name, python in (("this", sys.executable), ("clean venv", clean))
    }
    print(f"\n== one-shot CLI, median of {repeat} (wall seconds)")
    print(
        f"  python -c pass: this Python {starts['this']:.3f}, clean venv {starts['clean venv']:.3f} "
        f"({sys.executable}; venv: {clean})"
    )
    print(
        f"  {'':<28} {'':>7} {'this Python':^33}   {'clean venv':^33}\n"
        f"  {'query':<28} {'k8sql':>7} {'chaosql':>8} {'ratio':>6} {'+service':>9} {'ratio':>6}  "
        f" {'chaosql':>8} {'ratio':>6} {'+service':>9} {'ratio':>6}"
    )
    started = tools.chaosql("service", "start", "-s", "kube:admin", "--idle-exit", "600")
    assert "running" in started.stderr, started.stderr
    try:
        for label, (ours, theirs, _) in QUERIES.items():
            tools.chaosql("query", "-s", "kube:admin", ours)  # the service's first read: cold
            theirs_t: list[float] = []
            times: dict[tuple[str, bool], list[float]] = {}
            for _ in range(repeat):  # interleaved: load from elsewhere hits all alike
                if theirs is not None and tools.k8sql:
                    theirs_t.append(_timed(tools.k8sql_query, theirs))
                for python in (sys.executable, clean):
                    for served in (False, True):
                        args = ("query", "-s", "kube:admin", *(() if served else ("--no-service",)), ours)
                        times.setdefault((python, served), []).append(_timed(tools.chaosql, *args, python=python))
            k = statistics.median(theirs_t) if theirs_t else float("nan")
            cells = []
            for python in (sys.executable, clean):
                d, s = statistics.median(times[python, False]), statistics.median(times[python, True])
                cells.append(f"{d:>8.3f} {d / k:>5.1f}x {s:>9.3f} {s / k:>5.2f}x")
            print(f"  {label:<28} {k:>7.3f} {cells[0]}   {cells[1]}")
    finally:
        tools.chaosql("service", "stop", "-s", "kube:admin", check=False)


def daemons(tools: Tools, repeat: int) -> None:
    print(f"\n== Postgres-wire daemons over psql, median of {repeat} (wall seconds per psql -c)")
    kport, cport = free_port(), free_port()
    procs = []
    if tools.k8sql:
        procs.append(
            subprocess.Popen(
                [tools.k8sql, "-c", "admin", "daemon", "-p", str(kport)],
                env=tools.base_env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )

    def serve() -> subprocess.Popen:
        proc = subprocess.Popen(
            [sys.executable, "-m", "chaosql", "serve", "-s", "kube:admin", "--port", str(cport)],
            env={**tools.base_env, "XDG_RUNTIME_DIR": str(tools.workdir / "serve-run")},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stderr is not None and "serving" in proc.stderr.readline()
        return proc

    def psql(port: int, sql: str) -> None:
        done = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "bench", "-d", "bench", "-X", "-A", "-t", "-c", sql],
            env={**tools.base_env, "PGCONNECT_TIMEOUT": "10", "PGPASSWORD": "x"},
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0:
            raise SystemExit(f"psql -p {port} -c {sql!r}: {done.stderr.strip()}")

    try:
        time.sleep(2)  # k8sql's daemon binds
        print(f"  {'query':<28} {'k8sql':>7} {'cold':>7} {'warm':>7} {'warm/k8sql':>10} {'k8sql/warm':>10}")
        for label, (ours, theirs, _) in QUERIES.items():
            server = serve()  # cold: the first statement of a fresh server
            try:
                cold = _timed(psql, cport, ours)
                warm_t, theirs_t = [], []
                for _ in range(repeat):
                    if theirs is not None and tools.k8sql:
                        theirs_t.append(_timed(psql, kport, theirs))
                    warm_t.append(_timed(psql, cport, ours))
            finally:
                server.terminate()
                server.wait(30)
            k = statistics.median(theirs_t) if theirs_t else float("nan")
            w = statistics.median(warm_t)
            print(f"  {label:<28} {k:>7.3f} {cold:>7.3f} {w:>7.3f} {w / k:>9.2f}x {k / w:>9.1f}x")
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(30)


# --- the watch cache in-process ----------------------------------------------------------------------


def inprocess(env: KubeTestEnv, repeat: int) -> None:
    from chaosql.engine.session import Session
    from chaosql.sources.kube import KubeSource

    print(f"\n== in-process Session, warm watch cache vs cold (p50 of {repeat}, ms)")
    print(f"  {'query':<28} {'cold':>8} {'warm p50':>9} {'warm p99':>9} {'cold/warm':>9}")
    timed = {"count(*), all 10k": "SELECT count(*) FROM experiments"}
    timed |= {label: QUERIES[label][0] for label in ("count PodChaos", "count by kind", "join experiments x targets")}
    for label, sql in timed.items():
        colds, warms = [], []
        for _ in range(max(3, repeat // 5)):  # cold: a new source, so a new cache, each time
            source = KubeSource(context="admin", kubeconfig=env.kubeconfig, name="bench")
            source.enable_cache()
            session = Session([source])
            colds.append(_timed(_rows, session, sql))
            for _ in range(repeat):
                warms.append(_timed(_rows, session, sql))
            session.close()
            source.close()
        cold = statistics.median(colds)
        print(
            f"  {label:<28} {cold * 1000:>8.0f} {median_ms(warms):>9.1f} {p(warms, 0.99):>9.1f} "
            f"{cold / statistics.median(warms):>8.0f}x"
        )


def _timed(run, *args, **kwargs) -> float:
    started = time.perf_counter()
    run(*args, **kwargs)
    return time.perf_counter() - started


def _rows(session, sql: str) -> list:
    return session.execute(sql).rows()


def freshness(env: KubeTestEnv, changes: int) -> None:
    """An external change (a label patched straight through the API) until a statement sees it."""
    from chaosql.engine.session import Session
    from chaosql.sources.kube import KubeSource

    source = KubeSource(context="admin", kubeconfig=env.kubeconfig, name="bench")
    source.enable_cache()
    session = Session([source])
    session.execute("SELECT count(*) FROM experiments")  # warm: every experiment kind watched
    client = env.client()
    lags = []
    for i in range(changes):
        name = f"podchaos-{(i * 6) % 10000:05d}"
        ns = f"bench-{(i * 6) % 10000 % 20:02d}"
        path = env.path(CHAOS_API_VERSION, "PodChaos", ns, name)
        stamp = f"v{time.time_ns()}"
        sql = f"SELECT count(*) FROM experiments WHERE kind = 'PodChaos' AND labels['fresh'] = '{stamp}'"
        answer = client.patch(
            path,
            content=json.dumps({"metadata": {"labels": {"fresh": stamp}}}),
            headers={"Content-Type": "application/merge-patch+json"},
        )
        assert answer.status_code == 200, answer.text
        written = time.perf_counter()
        while session.execute(sql).scalar() != 1:
            if time.perf_counter() - written > 30:
                raise SystemExit(f"change {i} not visible after 30 s")
        lags.append(time.perf_counter() - written)
    print(f"\n== freshness: {changes} external label changes at 10k experiments, write answered -> visible")
    print(f"  p50 {p(lags, 0.5):.1f} ms   p99 {p(lags, 0.99):.1f} ms   max {max(lags) * 1000:.1f} ms")
    session.close()
    source.close()


OVERHEAD_PROBE = """
import sys, time
t0 = time.perf_counter()
marks = []
def mark(what):
    marks.append((what, time.perf_counter()))
import chaosql.cli; mark('import chaosql.cli (argparse, commands)')
chaosql.cli._keep_out(chaosql.cli.KEPT_OUT + chaosql.cli.KEPT_OUT_OF_QUERY)  # as chaosql query does
import duckdb; mark('import duckdb')
import pyarrow; mark('import pyarrow')
import sqlglot; mark('import sqlglot')
import httpx; mark('import httpx')
from chaosql.engine.session import Session; mark('import the engine')
from chaosql.sources.kube import KubeSource
source = KubeSource(context='admin', kubeconfig=sys.argv[1], name='bench')
source.conn.http.client(); mark('kubeconfig read, TLS context')
source.conn.get('/version'); mark('first request (TLS handshake)')
source._discover(); mark('discovery (GET /apis/chaos-mesh.org/v1alpha1)')
session = Session([source]); mark('session (DuckDB connection, tables)')
result = session.execute(sys.argv[2]); result.rows(); mark('the statement')
listed = sum(c.seconds for c in result.calls)
prev = t0
for what, at in marks:
    print(f'  {what:<48} {(at - prev) * 1000:8.1f} ms')
    prev = at
print(f'  {"of the statement: list calls on the wire":<48} {listed * 1000:8.1f} ms')
print(f'  {"of the statement: shaping, Arrow, DuckDB":<48} {(marks[-1][1] - marks[-2][1] - listed) * 1000:8.1f} ms')
print(f'  {"kubernetes package imported":<48} {"kubernetes" in sys.modules!s:>8}')
"""


def overhead(env: KubeTestEnv) -> None:
    """Where a one-shot query's time goes (the parts item 3 of issue 11 asks to measure)."""
    sql = QUERIES["count PodChaos"][0]
    start = _timed(subprocess.run, [sys.executable, "-c", "pass"])
    print(f"\n== where a one-shot query's time goes ({sql})")
    print(f"  {'python start-up (python -c pass)':<48} {start * 1000:8.1f} ms")
    done = subprocess.run(
        [sys.executable, "-c", OVERHEAD_PROBE, env.kubeconfig, sql],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    print(done.stdout.rstrip() or done.stderr)


RSS_PROBE = """
import json, sys, time
from chaosql.engine.session import Session
from chaosql.sources.kube import KubeSource
def rss(field):
    for line in open('/proc/self/status'):
        if line.startswith(field):
            return int(line.split()[1]) / 1024
base = rss('VmRSS:')
source = KubeSource(context='admin', kubeconfig=sys.argv[1], name='bench')
source.enable_cache()
session = Session([source])
counts = {t: session.execute(f'SELECT count(*) FROM {t}').scalar() for t in ('experiments', 'targets', 'pods', 'events')}
time.sleep(3)  # the stores' compaction (JSON instead of parsed objects) runs after the first list
import gc; gc.collect()
counts = {t: session.execute(f'SELECT count(*) FROM {t}').scalar() for t in counts}
print(json.dumps({'counts': counts, 'before_mb': base, 'rss_mb': rss('VmRSS:'), 'peak_mb': rss('VmHWM:')}))
"""


def memory(env: KubeTestEnv) -> None:
    done = subprocess.run(
        [sys.executable, "-c", RSS_PROBE, env.kubeconfig],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    found = json.loads(done.stdout.strip().splitlines()[-1])
    print("\n== memory of a process watching experiments, targets, pods and events")
    print(f"  rows: {found['counts']}")
    print(
        f"  RSS {found['rss_mb']:.0f} MB (peak {found['peak_mb']:.0f} MB; the process before reading: "
        f"{found['before_mb']:.0f} MB)"
    )


def _cpu_of(processes: list) -> float:
    """CPU seconds (user + system) the processes have used so far (Linux /proc)."""
    total = 0
    for process in processes:
        fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _busy() -> float:
    """CPU seconds every CPU of the machine has been busy so far (not idle, not waiting for I/O)."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def clusters(state: str | None, count: int, experiments: int, repeat: int) -> None:
    """The same statement over one cluster and over ``count`` clusters (``count`` apiservers):
    the watch cache cold (a fresh source's first statement) and warm, and a live list (no cache)
    for comparison, with this process's CPU time (the cold read is CPU-bound under one GIL, and the
    apiservers share the machine's cores). Rounds interleave the four; a first, uncounted read
    pays the process's one-time costs (imports, Arrow's kernels).

    Each cold read also reports the CPU time the apiservers it read spent meanwhile (/proc), and
    how busy the machine's CPUs were: on a shared 2-core machine, ours + theirs + everyone else's
    is what bounds the wall time, and says how much of it a client can win back."""
    from chaosql.engine.session import Session
    from chaosql.sources.kube import KubeSource

    envs = []
    try:
        for i in range(count):
            root = str(Path(state).parent / f"multi{i}") if state else None
            envs.append(start_cluster(root, f"m{i}", experiments, 10, 0))
        sql = "SELECT cluster, kind, count(*) FROM experiments GROUP BY ALL"
        print(f"\n== {count} clusters of {experiments} experiments each vs one of them ({sql}), ms")

        def run(n: int, cached: bool, warm: list[float]) -> tuple[float, float, float, float]:
            sources = [
                KubeSource(context="admin", kubeconfig=e.kubeconfig, name=f"m{i}") for i, e in enumerate(envs[:n])
            ]
            for source in sources if cached else ():
                source.enable_cache()
            session = Session(sources)
            theirs, busy, cpu = _cpu_of([e.proc for e in envs[:n]]), _busy(), time.process_time()
            wall = _timed(_rows, session, sql)
            cpu = time.process_time() - cpu
            theirs, busy = _cpu_of([e.proc for e in envs[:n]]) - theirs, _busy() - busy
            if cached:
                warm += [_timed(_rows, session, sql) for _ in range(repeat)]
            session.close()
            for source in sources:
                source.close()
            return wall, cpu, theirs, busy

        run(1, True, [])
        samples: dict[tuple[int, bool], list[tuple[float, float, float, float]]] = {}
        warms: dict[int, list[float]] = {1: [], count: []}
        for _ in range(3):
            for n in (1, count):
                for cached in (True, False):
                    samples.setdefault((n, cached), []).append(run(n, cached, warms[n]))
        cold = {key: tuple(statistics.median(s[i] for s in v) for i in range(4)) for key, v in samples.items()}
        print(f"  load average {os.getloadavg()[0]:.1f}; {os.cpu_count()} CPUs")
        for n in (1, count):
            (cw, cc, *_), (lw, lc, *_) = cold[(n, True)], cold[(n, False)]
            print(
                f"  {n} cluster(s): cold {cw * 1000:.0f} ms (CPU {cc * 1000:.0f} ms), warm p50 "
                f"{statistics.median(warms[n]) * 1000:.1f} ms; live list {lw * 1000:.0f} ms (CPU {lc * 1000:.0f} ms)"
            )
        for n in (1, count):
            for cached in (True, False):
                wall, ours, theirs, busy = cold[(n, cached)]
                print(
                    f"  {n} cluster(s) {'cold' if cached else 'live'}: CPU ms ours {ours * 1000:.0f}, its "
                    f"apiservers {theirs * 1000:.0f}, the rest of the machine {max(0.0, busy - ours - theirs) * 1000:.0f}; "
                    f"the CPUs {busy / (wall * (os.cpu_count() or 1)):.0%} busy"
                )
        print(
            f"  {count} vs 1: cold {cold[(count, True)][0] / cold[(1, True)][0]:.2f}x, warm "
            f"{statistics.median(warms[count]) / statistics.median(warms[1]):.2f}x, live "
            f"{cold[(count, False)][0] / cold[(1, False)][0]:.2f}x; cold / live: one cluster "
            f"{cold[(1, True)][0] / cold[(1, False)][0]:.2f}x, {count} clusters {cold[(count, True)][0] / cold[(count, False)][0]:.2f}x"
        )
        _, ours, theirs, _ = cold[(count, True)]
        least = max(ours, (ours + theirs) / (os.cpu_count() or 1))  # ours runs under one GIL
        print(
            f"  the CPU the {count}-cluster cold read needs (ours under one GIL; ours and its apiservers' over "
            f"{os.cpu_count()} CPUs) allows no less than {least * 1000:.0f} ms, "
            f"{least / cold[(1, True)][0]:.2f}x this run's one-cluster cold wall, even if nothing else ran"
        )
    finally:
        for env in envs:
            env.stop() if state else env.cleanup()


# --- main -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--k8sql", metavar="PATH", help="a k8sql binary (default: build 0.2.4 into the cache)")
    parser.add_argument("--no-k8sql", action="store_true", help="time chaosql alone")
    parser.add_argument("--state", metavar="DIR", help="keep the seeded apiserver's state here and reuse it")
    parser.add_argument("--experiments", type=int, default=10_000)
    parser.add_argument("--namespaces", type=int, default=20)
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--changes", type=int, default=200, help="external changes timed for freshness")
    parser.add_argument("--clusters", type=int, default=5)
    parser.add_argument("--cluster-experiments", type=int, default=2_000)
    parser.add_argument(
        "--only",
        default="answers,overhead,oneshot,daemon,inprocess,freshness,memory,clusters",
        help="comma-separated parts to run",
    )
    args = parser.parse_args()
    parts = set(args.only.split(","))

    k8sql = k8sql_binary(args.k8sql) if parts & {"answers", "oneshot", "daemon"} and not args.no_k8sql else None
    if parts - {"clusters"}:
        one_cluster(args, parts, k8sql)
    if "clusters" in parts:
        clusters(args.state, args.clusters, args.cluster_experiments, args.repeat)


def one_cluster(args: argparse.Namespace, parts: set[str], k8sql: str | None) -> None:
    env = start_cluster(args.state, "bench", args.experiments, args.namespaces, args.events)
    try:
        with tempfile.TemporaryDirectory(prefix="chaosql-bench-") as work:
            tools = Tools(env, k8sql, Path(work))
            if "answers" in parts and k8sql:
                same_answers(tools)
            if "oneshot" in parts:
                oneshot(tools, args.repeat)
            if "daemon" in parts:
                daemons(tools, args.repeat)
        if "overhead" in parts:
            overhead(env)
        if "inprocess" in parts:
            inprocess(env, args.repeat * 3)
        if "freshness" in parts:
            freshness(env, args.changes)
        if "memory" in parts:
            memory(env)
    finally:
        env.stop() if args.state else env.cleanup()


if __name__ == "__main__":
    main()
