"""Objects the live-Kubernetes tests seed through the API of a real kube-apiserver.

* ``load_demo``: the bundled demo cluster ``prod-eu`` (every file of chaosql/demo/prod-eu), so the
  live tables can be checked against the snapshot of the very same objects;
* ``seed_kinds``: one object of every experiment kind in namespace ``kinds``, each in a state whose
  derived phase and targets the tests know;
* ``seed_bulk``: more than one page (500) of PodChaos in namespace ``bulk``.

No Chaos Mesh controller runs, so status is written the way the controller writes it (a full-object
update), and "deleting" objects are made the real way: a finalizer, then a DELETE.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parent.parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from kubeenv import CHAOS_API_VERSION, ApiError, KubeTestEnv, experiment_status, load_crds, record  # noqa: E402

DEMO_CLUSTER = TESTS.parent / "chaosql" / "demo" / "prod-eu"
KINDS_NS, BULK_NS = "kinds", "bulk"
BULK_COUNT = 620
FINALIZER = "chaos-mesh/records"
#: metadata the apiserver assigns itself; a create must not carry it
SERVER_META = (
    "creationTimestamp",
    "resourceVersion",
    "uid",
    "generation",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
)


def experiment_kinds() -> list[str]:
    """Every experiment kind in Chaos Mesh's CRDs (the tests' expectation, independent of chaosql)."""
    kinds = {crd["spec"]["names"]["kind"] for crd in load_crds()}
    internal = {"PodNetworkChaos", "PodIOChaos", "PodHttpChaos"}  # the controller's per-pod bookkeeping
    return sorted(k for k in kinds if k.endswith("Chaos") and k not in internal)


def parallel(fn: Callable[[Any], Any], items: Iterable[Any], workers: int = 8) -> list:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(fn, items))


def _clean(obj: dict) -> tuple[dict, dict | None]:
    meta = {k: v for k, v in obj["metadata"].items() if k not in SERVER_META}
    body = {k: v for k, v in obj.items() if k != "status"}
    body["metadata"] = meta
    return body, obj.get("status")


def put(env: KubeTestEnv, obj: dict) -> dict:
    """Create ``obj`` with its status as a controller would leave it; delete it if it was deleting."""
    body, status = _clean(obj)
    created = env.create_with_status(body, status) if status else env.create(body)
    if obj["metadata"].get("deletionTimestamp"):
        md = created["metadata"]
        env.delete(created["apiVersion"], created["kind"], md["name"], md.get("namespace"))
    return created


# --- the demo cluster ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def demo_objects() -> dict[str, list[dict]]:
    return {f.stem: json.loads(f.read_text())["items"] for f in sorted(DEMO_CLUSTER.glob("*.json"))}


def load_demo(env: KubeTestEnv, snapshot_dir: Path) -> tuple[dict[str, list[dict]], list[str]]:
    """Create every object of the demo cluster; returns the objects the apiserver accepted (by file
    stem, also written to ``snapshot_dir`` as the snapshot to compare with) and why others failed."""
    objects = demo_objects()
    namespaces = {o["metadata"].get("namespace") for items in objects.values() for o in items} - {None}
    parallel(env.create_namespace, sorted(namespaces))
    order = ["nodes", "physicalmachines", "pods", "schedules", "workflows", "workflownodes"]
    rest = [stem for stem in objects if stem not in order and stem != "events"]
    accepted: dict[str, list[dict]] = {}
    rejected: list[str] = []

    def attempt(obj: dict) -> dict | None:
        try:
            put(env, obj)
            return obj
        except ApiError as err:
            if err.status != 422:
                raise
            rejected.append(f"{obj['kind']} {obj['metadata'].get('namespace')}/{obj['metadata']['name']}: {err}")
            return None

    for stem in order + rest + ["events"]:
        accepted[stem] = [o for o in parallel(attempt, objects.get(stem, [])) if o is not None]
        (snapshot_dir / f"{stem}.json").write_text(
            json.dumps({"apiVersion": "v1", "kind": "List", "items": accepted[stem]})
        )
    return accepted, rejected


# --- one object of every experiment kind --------------------------------------------------------

NODE_A, NODE_B = "kinds-node-a", "kinds-node-b"
PODS = {"web-0": (NODE_A, "10.9.0.10"), "web-1": (NODE_B, "10.9.0.11")}
MACHINE, MACHINE_ADDRESS = "pm-1", "http://10.9.1.5:31767"
DAEMON = ("chaos-mesh", "chaos-daemon-kinds")

SELECT = {"namespaces": [KINDS_NS], "labelSelectors": {"app": "web"}}
#: One minimal spec per experiment kind, valid for the CRD schemas (the apiserver validates them).
SPECS: dict[str, dict] = {
    "AWSChaos": {"action": "ec2-stop", "awsRegion": "eu-west-1", "ec2Instance": "i-0abc", "secretName": "aws"},
    "AzureChaos": {"action": "vm-stop", "subscriptionID": "sub-1", "resourceGroupName": "rg", "vmName": "vm-1"},
    "BlockChaos": {
        "action": "delay",
        "delay": {"latency": "10ms"},
        "mode": "one",
        "selector": SELECT,
        "volumeName": "data",
        "containerNames": ["web"],
    },
    "DNSChaos": {"action": "error", "mode": "all", "selector": SELECT, "patterns": ["example.com"]},
    "GCPChaos": {"action": "node-stop", "project": "p", "zone": "europe-west1-b", "instance": "vm-1"},
    "HTTPChaos": {"mode": "all", "selector": SELECT, "target": "Request", "port": 80, "abort": True},
    "IOChaos": {"action": "latency", "mode": "one", "selector": SELECT, "volumePath": "/data", "delay": "10ms"},
    "JVMChaos": {
        "action": "latency",
        "mode": "one",
        "selector": SELECT,
        "class": "Main",
        "method": "run",
        "latency": 100,
        "port": 9277,
    },
    "KernelChaos": {
        "mode": "one",
        "selector": SELECT,
        "failKernRequest": {"callchain": [{"funcname": "__x64_sys_mount"}], "failtype": 0},
    },
    "NetworkChaos": {"action": "delay", "mode": "all", "selector": SELECT, "delay": {"latency": "50ms"}},
    "PhysicalMachineChaos": {
        "action": "stress-cpu",
        "mode": "one",
        "selector": {"namespaces": ["chaos-mesh"]},
        "stress-cpu": {"load": 10, "workers": 1},
    },
    "PodChaos": {"action": "pod-kill", "mode": "one", "selector": SELECT},
    "StressChaos": {"mode": "one", "selector": SELECT, "stressors": {"cpu": {"workers": 1}}},
    "TimeChaos": {"mode": "one", "selector": SELECT, "timeOffset": "-1h", "duration": "1s"},
}


#: kind -> (expected phase, record ids); kinds not listed are running with one record
STATES: dict[str, tuple[str, list[str]]] = {
    "PodChaos": ("finished", ["kinds/web-0"]),  # one-shot pod-kill, record Injected
    "NetworkChaos": ("running", ["kinds/web-0", "kinds/web-1"]),
    "StressChaos": ("paused", ["kinds/web-0"]),
    "IOChaos": ("injecting", []),  # nothing selected yet
    "TimeChaos": ("finished", ["kinds/web-1"]),  # Stop, Not Injected, 1s duration passed
    "DNSChaos": ("deleting", ["kinds/web-0"]),  # finalizer held, DELETE sent
    "PhysicalMachineChaos": ("running", [f"chaos-mesh/{MACHINE}"]),
    "BlockChaos": ("running", ["kinds/web-0/web"]),
}


def expected(kind: str) -> tuple[str, list[str]]:
    return STATES.get(kind, ("running", ["kinds/web-0"]))


def probe_name(kind: str) -> str:
    return kind.lower() + "-probe"


def seed_kinds(env: KubeTestEnv) -> list[str]:
    """Nodes, pods, a PhysicalMachine and one experiment per kind in namespace ``kinds``."""
    env.create_namespace(KINDS_NS)
    env.create_namespace("chaos-mesh")
    for node, ready in ((NODE_A, "True"), (NODE_B, "False")):
        put(
            env,
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {"name": node, "labels": {"pool": "kinds"}},
                "status": {
                    "conditions": [{"type": "Ready", "status": ready}],
                    "addresses": [{"type": "InternalIP", "address": f"10.9.0.{1 if node == NODE_A else 2}"}],
                    "capacity": {"cpu": "4", "memory": "16Gi"},
                },
            },
        )
    pods = [(KINDS_NS, name, node, ip, {"app": "web"}) for name, (node, ip) in PODS.items()]
    pods.append((DAEMON[0], DAEMON[1], NODE_A, "10.9.0.20", {"app.kubernetes.io/component": "chaos-daemon"}))
    for ns, name, node, ip, labels in pods:
        put(
            env,
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": name, "namespace": ns, "labels": labels},
                "spec": {"nodeName": node, "containers": [{"name": "web", "image": "nginx"}]},
                "status": {"phase": "Running", "podIP": ip},
            },
        )
    put(
        env,
        {
            "apiVersion": CHAOS_API_VERSION,
            "kind": "PhysicalMachine",
            "metadata": {"name": MACHINE, "namespace": "chaos-mesh"},
            "spec": {"address": MACHINE_ADDRESS},
        },
    )
    kinds = experiment_kinds()
    parallel(lambda kind: _probe(env, kind), kinds)
    return kinds


def _probe(env: KubeTestEnv, kind: str) -> None:
    phase, ids = expected(kind)
    meta: dict[str, Any] = {
        "name": probe_name(kind),
        "namespace": KINDS_NS,
        "labels": {"probe": "yes", "kind": kind.lower()},
        "finalizers": [FINALIZER],
    }
    if phase == "paused":
        meta["annotations"] = {"experiment.chaos-mesh.org/pause": "true"}
    if phase == "finished" and kind != "PodChaos":
        status = experiment_status(
            [record(i, "Not Injected", recovered=1, injected=1) for i in ids], desired_phase="Stop"
        )
    else:
        status = experiment_status([record(i, "Injected") for i in ids], paused=phase == "paused")
    obj = {"apiVersion": CHAOS_API_VERSION, "kind": kind, "metadata": meta, "spec": SPECS[kind], "status": status}
    if phase == "deleting":
        obj["metadata"]["deletionTimestamp"] = "set by the DELETE"
    put(env, obj)


# --- more than a page ---------------------------------------------------------------------------


def seed_bulk(env: KubeTestEnv, count: int = BULK_COUNT) -> None:
    env.create_namespace(BULK_NS)
    client = env.client()
    path = env.path(CHAOS_API_VERSION, "PodChaos", BULK_NS)

    def create(i: int) -> None:
        body = {
            "apiVersion": CHAOS_API_VERSION,
            "kind": "PodChaos",
            "metadata": {"name": f"bulk-{i:04d}", "namespace": BULK_NS, "labels": {"batch": f"b{i % 4}"}},
            "spec": {"action": "pod-failure", "mode": "one", "duration": "30s", "selector": {"namespaces": [BULK_NS]}},
        }
        r = client.post(path, json=body)
        assert r.status_code in (201, 409), r.text

    parallel(create, range(count), workers=8)


def write_crd_subset(kinds: Iterable[str], path: Path) -> Path:
    """A CRD file with only ``kinds``: a cluster with fewer Chaos Mesh kinds installed."""
    import yaml

    wanted = set(kinds)
    docs = [crd for crd in load_crds() if crd["spec"]["names"]["kind"] in wanted]
    path.write_text(yaml.safe_dump_all(docs))
    return path
