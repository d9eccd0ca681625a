"""Benchmark: LitmusChaos next to Chaos Mesh on one live kube-apiserver, the same queries and writes
for each engine (not a test: it prints numbers, it never fails on them).

Starts a kube-testenv apiserver with both engines' CRDs (tests/kubeenv.py) and seeds, across M
namespaces, N PodChaos (with injection records) and N ChaosEngines, each with the ChaosResult of
its run (two targets), plus the pods they target. Then, per engine:

* reads: the same queries filtered on ``engine``, each timed next to a replay of exactly the list
  calls the query made (GET and JSON parsing only, as bench/kube.py does); a LitmusChaos row joins
  the engine with its ChaosResult, so it costs more calls than a Chaos Mesh row;
* writes: INSERT of W objects (W dry runs, then W creates), UPDATE SET paused = true (Chaos Mesh:
  the pause annotation; LitmusChaos: engineState stop), DELETE; wall time and ms per object.

    python3 bench/litmus.py                          # 2,000 of each, 10 namespaces, 200 writes
    python3 bench/litmus.py --objects 500 --writes 50 --repeat 3
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "tests" / "kube")]

from kubeenv import CHAOS_API_VERSION, KubeTestEnv, experiment_status, record  # noqa: E402
from seed import put  # noqa: E402
from seed_litmus import engine_object, result_object  # noqa: E402

PODS_PER_NAMESPACE = 10
APP = {"applabel": "app=web", "appkind": "deployment"}
#: a ChaosEngine's state as the operator leaves it: (engineState, engineStatus, run status, verdict, result phase)
STATES = [
    ("active", "initialized", "Running", "Awaited", "Running"),
    ("stop", "completed", "Completed", "Pass", "Completed"),
    ("stop", "completed", "Completed", "Fail", "Completed_With_Probe_Failure"),
    ("stop", "stopped", "Forcefully Aborted", "Stopped", "Stopped"),
]
QUERIES = {
    "count": "SELECT phase, count(*) FROM experiments WHERE engine = '{engine}' GROUP BY ALL",
    "namespace": "SELECT name, action, phase, target_count FROM experiments "
    "WHERE engine = '{engine}' AND namespace = 'bench-03'",
    "targets": "SELECT pod, count(*) FROM targets WHERE engine = '{engine}' GROUP BY ALL",
}


def _replay():
    """bench/kube.py's replay of a query's list calls (bench/ is not a package)."""
    spec = importlib.util.spec_from_file_location("bench_kube", Path(__file__).with_name("kube.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.replay


def seed(env: KubeTestEnv, objects: int, namespaces: int) -> None:
    names = [f"bench-{i:02d}" for i in range(namespaces)]
    for ns in names:
        env.create_namespace(ns)

    def pod(args: tuple[str, int]) -> None:
        ns, i = args
        put(
            env,
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": f"web-{i}", "namespace": ns, "labels": {"app": "web"}},
                "spec": {"nodeName": f"node-{i % 4}", "containers": [{"name": "web", "image": "nginx"}]},
                "status": {"phase": "Running", "podIP": f"10.9.{i}.{len(ns)}"},
            },
        )

    def chaos_mesh(i: int) -> None:
        ns = names[i % namespaces]
        records = [record(f"{ns}/web-{(i + k) % PODS_PER_NAMESPACE}", "Injected") for k in range(2)]
        put(
            env,
            {
                "apiVersion": CHAOS_API_VERSION,
                "kind": "PodChaos",
                "metadata": {"name": f"kill-{i:05d}", "namespace": ns},
                "spec": {"action": "pod-kill", "mode": "one", "selector": {"namespaces": [ns]}},
                "status": experiment_status(records),
            },
        )

    def litmus(i: int) -> None:
        ns, name = names[i % namespaces], f"engine-{i:05d}"
        state, engine_status, run_status, verdict, phase = STATES[i % len(STATES)]
        engine = engine_object(ns, name, state, engine_status, [("pod-delete", run_status, verdict)])
        engine["spec"]["appinfo"] = {"appns": ns, **APP}
        uid = put(env, engine)["metadata"]["uid"]
        targets = [(f"web-{(i + k) % PODS_PER_NAMESPACE}", "injected") for k in range(2)]
        put(env, result_object(ns, name, "pod-delete", uid, (phase, verdict, "100", 1, 0, 0, targets)))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(pod, [(ns, i) for ns in names for i in range(PODS_PER_NAMESPACE)]))
        list(pool.map(chaos_mesh, range(objects)))
        list(pool.map(litmus, range(objects)))


def reads(env: KubeTestEnv, session, repeat: int) -> None:
    replay = _replay()
    print(
        f"{'query':<10} {'engine':<11} {'rows':>5} {'calls':>5} {'chaosql s':>9} {'raw s':>7} {'ratio':>6}  (medians of {repeat})"
    )
    for label, sql in QUERIES.items():
        for engine in ("chaos-mesh", "litmus"):
            ours, raws = [], []
            for _ in range(repeat):  # interleaved, so load from elsewhere hits both alike
                started = time.perf_counter()
                result = session.execute(sql.format(engine=engine))
                ours.append(time.perf_counter() - started)
                raws.append(replay(env, result.calls))
            med, raw = statistics.median(ours), statistics.median(raws)
            rows = sum(r[-1] for r in result.rows()) if label != "namespace" else len(result.rows())
            print(
                f"{label:<10} {engine:<11} {rows:>5} {len(result.calls):>5} {med:>9.3f} {raw:>7.3f} {med / raw:>5.2f}x"
            )


def writes(env: KubeTestEnv, session, count: int) -> None:
    app = json.dumps({"appns": "shop", **APP})
    rows = {  # NS and I: the namespace and the row's number
        "chaos-mesh": """('NS', 'wI', 'PodChaos', 'pod-kill', 'one', '{"namespaces": ["NS"]}')""",
        "litmus": f"('NS', 'wI', 'ChaosEngine', 'pod-delete', NULL, '{app}')",
    }
    print(f"{'statement':<15} {'engine':<11} {'status':<12} {'s':>6} {'ms/object':>9}")
    for engine, row in rows.items():
        ns = f"bench-w-{engine}"
        env.create_namespace(ns)
        values = ", ".join(row.replace("NS", ns).replace("wI", f"w{i}") for i in range(count))
        for label, sql in (
            (
                "INSERT VALUES",
                f"INSERT INTO experiments (namespace, name, kind, action, mode, selector) VALUES {values}",
            ),
            ("UPDATE paused", f"UPDATE experiments SET paused = true WHERE namespace = '{ns}'"),
            ("DELETE", f"DELETE FROM experiments WHERE namespace = '{ns}'"),
        ):
            started = time.perf_counter()
            result = session.execute(sql)
            seconds = time.perf_counter() - started
            print(f"{label:<15} {engine:<11} {result.status:<12} {seconds:>6.2f} {seconds / count * 1000:>9.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--objects", type=int, default=2000, help="PodChaos and ChaosEngines, each")
    parser.add_argument("--namespaces", type=int, default=10)
    parser.add_argument("--writes", type=int, default=200, help="objects each write statement touches")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from chaosql.engine.session import Session
    from chaosql.sources.kube import KubeSource

    env = KubeTestEnv(crds=True, litmus=True)
    try:
        started = time.perf_counter()
        env.start("bench-litmus")
        print(f"apiserver with both engines' CRDs up in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        started = time.perf_counter()
        seed(env, args.objects, args.namespaces)
        print(f"seeded {args.objects} of each in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        source = KubeSource(context="admin", kubeconfig=env.kubeconfig, name="bench")
        session = Session([source], settings={"confirm_rows": 10**9, "cache": False})
        try:
            session.execute("SELECT count(*) FROM experiments")  # warm up: discovery, TLS connections
            reads(env, session, args.repeat)
            writes(env, session, args.writes)
        finally:
            session.close()
            source.close()
    finally:
        env.cleanup()


if __name__ == "__main__":
    main()
