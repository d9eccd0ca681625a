"""Benchmark: chaosql over a live kube-apiserver vs. the same raw list calls alone.

Starts a kube-testenv apiserver (tests/kubeenv.py), seeds N experiments (with injection records)
across M namespaces plus the pods they target, then times each query next to a replay of exactly
the list calls that query made (same paths, same query strings, same pagination, same concurrency),
doing nothing but HTTP GET and JSON parsing. Target: chaosql <= 1.3x the raw calls.

    python3 bench/kube.py                       # 10,000 experiments, 20 namespaces, median of 9
    python3 bench/kube.py --experiments 2000 --namespaces 5 --repeat 3
    python3 bench/kube.py --state /tmp/kube-bench   # keep the seeded cluster for the next run
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from kubeenv import CHAOS_API_VERSION, KubeTestEnv, experiment_status, record  # noqa: E402

KINDS = {  # kind -> a minimal valid spec
    "PodChaos": {"action": "pod-failure", "mode": "one", "duration": "5m"},
    "NetworkChaos": {"action": "delay", "mode": "all", "delay": {"latency": "50ms"}, "duration": "5m"},
    "StressChaos": {"mode": "one", "stressors": {"cpu": {"workers": 1}}, "duration": "5m"},
    "IOChaos": {"action": "latency", "mode": "one", "volumePath": "/data", "delay": "10ms"},
    "TimeChaos": {"mode": "one", "timeOffset": "-1h"},
    "HTTPChaos": {"mode": "all", "target": "Request", "port": 80, "abort": True},
}
PODS_PER_NAMESPACE = 25

QUERIES = {
    "count": "SELECT count(*) FROM experiments",
    "namespace": "SELECT kind, name, phase, target_count FROM experiments WHERE namespace = 'bench-07'",
    "join": (
        "SELECT e.kind, t.node, count(*) AS n FROM experiments e JOIN targets t "
        "ON t.cluster = e.cluster AND t.namespace = e.namespace AND t.experiment = e.name "
        "WHERE e.phase = 'running' GROUP BY ALL"
    ),
}


def seed(env: KubeTestEnv, experiments: int, namespaces: int) -> None:
    client = env.client()
    names = [f"bench-{i:02d}" for i in range(namespaces)]
    for ns in names:
        env.create_namespace(ns)

    def pod(args: tuple[str, int]) -> None:
        ns, i = args
        body = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": f"web-{i}", "namespace": ns, "labels": {"app": "web"}},
            "spec": {"nodeName": f"node-{i % 10}", "containers": [{"name": "web", "image": "nginx"}]},
        }
        r = _post(client, f"/api/v1/namespaces/{ns}/pods", body)
        assert r.status_code in (201, 409), r.text

    def experiment(i: int) -> None:
        kind = list(KINDS)[i % len(KINDS)]
        ns = names[i % namespaces]
        spec = {**KINDS[kind], "selector": {"namespaces": [ns], "labelSelectors": {"app": "web"}}}
        records = [record(f"{ns}/web-{(i + k) % PODS_PER_NAMESPACE}", "Injected") for k in range(i % 3)]
        body = {
            "apiVersion": CHAOS_API_VERSION,
            "kind": kind,
            "metadata": {"name": f"{kind.lower()}-{i:05d}", "namespace": ns, "labels": {"team": f"t{i % 7}"}},
            "spec": spec,
            "status": experiment_status(records),
        }
        r = _post(client, env.path(CHAOS_API_VERSION, kind, ns), body)
        assert r.status_code in (201, 409), r.text

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(pod, [(ns, i) for ns in names for i in range(PODS_PER_NAMESPACE)]))
        list(pool.map(experiment, range(experiments)))


def _post(client, path: str, body: dict):
    """POST, tried again when a busy apiserver drops the connection (a retry may answer 409)."""
    import httpx

    for attempt in range(5):
        try:
            return client.post(path, json=body)
        except httpx.TransportError:
            if attempt == 4:
                raise
            time.sleep(1 + attempt)
    raise AssertionError("unreachable")


def replay(env: KubeTestEnv, calls: list, workers: int = 16) -> float:
    """Seconds to make the same list calls, paginated, concurrently: GET and json.loads only."""
    import httpx

    chains = [c.what.split(" ", 1)[1] for c in calls if "(continued)" not in c.what]
    client = env.client()

    def fetch(target: str) -> int:
        path, _, query = target.partition("?")
        params = dict(part.split("=", 1) for part in query.split("&")) if query else {}
        n, token = 0, ""
        while True:
            r = client.get(path, params={**params, **({"continue": token} if token else {})})
            body = json.loads(r.content)
            n += len(body["items"])
            token = body["metadata"].get("continue") or ""
            if not token:
                return n

    assert isinstance(client, httpx.Client)
    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(fetch, chains))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--experiments", type=int, default=10_000)
    parser.add_argument("--namespaces", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--state", metavar="DIR", help="keep the apiserver's state here and reuse it next time")
    args = parser.parse_args()

    from chaosql.engine.session import Session
    from chaosql.sources.kube import KubeSource

    env = KubeTestEnv(args.state)
    try:
        t0 = time.perf_counter()
        env.start("bench", fresh=not args.state)
        print(f"apiserver up in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
        if _count(env) != args.experiments:
            print(f"seeding {args.experiments} experiments across {args.namespaces} namespaces ...", file=sys.stderr)
            t0 = time.perf_counter()
            seed(env, args.experiments, args.namespaces)
            print(f"seeded in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
        source = KubeSource(context="admin", kubeconfig=env.kubeconfig, name="bench")
        session = Session([source])
        session.execute(QUERIES["count"])  # warm up: discovery, TLS connections
        print(
            f"{'query':<10} {'rows':>6} {'calls':>6} {'chaosql s':>10} {'raw s':>8} {'ratio':>6}   (best of {args.repeat}: chaosql, raw, ratio)"
        )
        for label, sql in QUERIES.items():
            ours, raws = [], []
            for _ in range(args.repeat):  # interleaved, so load from elsewhere hits both alike
                started = time.perf_counter()
                result = session.execute(sql)
                ours.append(time.perf_counter() - started)
                raws.append(replay(env, result.calls))
            med, raw_med = statistics.median(ours), statistics.median(raws)
            print(
                f"{label:<10} {result.arrow().num_rows:>6} {len(result.calls):>6} {med:>10.3f} {raw_med:>8.3f} "
                f"{med / raw_med:>5.2f}x   ({min(ours):.3f}, {min(raws):.3f}, {min(ours) / min(raws):.2f}x)"
            )
            if label == "count":
                assert result.scalar() == args.experiments
        session.close()
        source.close()
    finally:
        env.stop() if args.state else env.cleanup()


def _count(env: KubeTestEnv) -> int:
    from kubeenv import ApiError

    for _ in range(60):  # a restarted apiserver answers 429 while its storage re-initialises
        try:
            return sum(len(env.list(CHAOS_API_VERSION, kind)["items"]) for kind in KINDS)
        except ApiError as err:
            if err.status != 429:
                raise
            time.sleep(1)
    raise SystemExit("the apiserver's storage did not come up")


if __name__ == "__main__":
    main()
