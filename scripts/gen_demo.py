#!/usr/bin/env python3
"""Generate chaosql's demo world: two Kubernetes clusters running Chaos Mesh.

The output is what ``kubectl get <resource> -A -o json`` prints, one file per resource per cluster:
``<out>/<cluster>/<resource>.json``, each a ``{"apiVersion": "v1", "kind": "List", "items": [...]}``
document with one item per line. Everything comes from one seeded RNG and a fixed "now"
(:data:`NOW`), so the same arguments always give the same bytes::

    python scripts/gen_demo.py                              # regenerate chaosql/demo/ exactly
    python scripts/gen_demo.py --out /tmp/big --experiments 100000 --namespaces 12

Status fields are written the way the Chaos Mesh controllers write them (chaos-mesh v2.8,
``controllers/common/{finalizers,desiredphase,records,condition}``, ``controllers/schedule/*``,
``pkg/workflow/controllers/*``), and Kubernetes events carry the reasons, messages, sources and
annotations of ``controllers/utils/recorder``. Facts worth knowing when reading the data:

* record ids: ``ns/pod`` for pod selectors (PodChaos pod-kill/pod-failure, NetworkChaos,
  HTTPChaos, KernelChaos); ``ns/pod/container`` for container selectors (PodChaos container-kill,
  StressChaos, IOChaos, TimeChaos, DNSChaos, JVMChaos; the first container when containerNames is
  empty); ``ns/pod/container/<host path>`` for BlockChaos; ``ns/name`` of a PhysicalMachine, or its
  address when spec.address is used, for PhysicalMachineChaos; the JSON of the AWS selector for
  AWSChaos.
* one-shot actions (``chaosql.sources.chaosmesh.ONE_SHOT_ACTIONS``: PodChaos pod-kill /
  container-kill here) keep desiredPhase ``Run`` for their whole life (the desiredphase controller
  only stops them on deletion); they are finished when every record is ``Injected``.
* every phase is computed by ``chaosql.sources.chaosmesh.status`` at NOW, the function the
  ``experiments`` table uses, so the data and the table cannot disagree.
* schedule children carry exactly one label, ``managed-by: <schedule>``, and a controller
  ownerReference to the Schedule; workflow chaos children carry ``chaos-mesh.org/controlled-by:
  <workflow node>`` and ``chaos-mesh.org/workflow: <workflow>`` and are owned by the WorkflowNode.
  The entry WorkflowNode is owned by its Workflow, the other nodes by the entry node.
* events: every one the pipeline emits (FinalizerInited, Started, Applied, Failed, TimeUp, Paused,
  Deleted, Recovered, Updated for desiredPhase; Spawned for schedules; EntryCreated, NodesCreated,
  ChaosCRCreated, ChaosCRDeleted, NodeDeadlineExceed, NodeAccomplished, WorkflowAccomplished for
  workflows), except the ``Updated`` events for ``finalizer`` and ``records``, which are left out
  to keep the shipped files small.
* the world does not age: a phase evaluated at any time after NOW is the phase at NOW, because only
  experiments whose desiredPhase is already Stop (and whose duration has run out) are finished.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # this tree's chaosql, for its Chaos Mesh facts

from chaosql.sources.chaosmesh import (  # noqa: E402
    API_VERSION,
    CONTROLLED_BY_LABEL,
    MANAGED_BY_LABEL,
    ONE_SHOT_ACTIONS,
    PAUSE_ANNOTATION,
    RECORD_FINALIZER,
    WORKFLOW_LABEL,
    go_duration,
    is_one_shot,
)
from chaosql.sources.chaosmesh import status as chaos_status  # noqa: E402

NOW = dt.datetime(2026, 11, 20, 12, 0, 0, tzinfo=dt.UTC)
"""The demo world's fixed "now"; nothing depends on the wall clock."""
NOW_TEXT = "2026-11-20T12:00:00Z"
DEFAULT_SEED = 20261120
DEFAULT_EXPERIMENTS = 360
DEFAULT_NAMESPACES = 5
WINDOW_DAYS = 14

DEFAULT_OUT = REPO / "chaosql" / "demo"

API = API_VERSION
PHASES = ("finished", "running", "injecting", "paused", "deleting")

# kind -> kubectl resource name (= CRD plural) = output file name
RESOURCES = {
    "PodChaos": "podchaos",
    "NetworkChaos": "networkchaos",
    "StressChaos": "stresschaos",
    "IOChaos": "iochaos",
    "TimeChaos": "timechaos",
    "DNSChaos": "dnschaos",
    "HTTPChaos": "httpchaos",
    "JVMChaos": "jvmchaos",
    "PhysicalMachineChaos": "physicalmachinechaos",
    "BlockChaos": "blockchaos",
    "KernelChaos": "kernelchaos",
    "AWSChaos": "awschaos",
}
CHAOS_KINDS = tuple(RESOURCES)
REQUIRED_KINDS = CHAOS_KINDS[:9]
# key of the embedded spec in Schedule / Workflow templates
EMBED_KEY = {
    "PodChaos": "podChaos",
    "NetworkChaos": "networkChaos",
    "StressChaos": "stressChaos",
    "IOChaos": "ioChaos",
    "TimeChaos": "timeChaos",
    "DNSChaos": "dnsChaos",
    "HTTPChaos": "httpChaos",
    "JVMChaos": "jvmChaos",
    "PhysicalMachineChaos": "physicalmachineChaos",
    "BlockChaos": "blockChaos",
    "KernelChaos": "kernelChaos",
    "AWSChaos": "awsChaos",
}
KIND_WEIGHTS = {
    "PodChaos": 22,
    "NetworkChaos": 20,
    "StressChaos": 14,
    "IOChaos": 8,
    "TimeChaos": 6,
    "DNSChaos": 6,
    "HTTPChaos": 8,
    "JVMChaos": 7,
    "PhysicalMachineChaos": 6,
    "BlockChaos": 1,
    "KernelChaos": 1,
    "AWSChaos": 1,
}
PHASE_WEIGHTS = {"finished": 55, "running": 14, "injecting": 11, "paused": 12, "deleting": 8}
# Kubernetes' rand.String alphabet (no vowels, no confusable digits)
NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
CHAOS_MESH_VERSION = "v2.8.3"


# --------------------------------------------------------------------------------------------
# The world: clusters, namespaces and the applications that run in them
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClusterSpec:
    name: str
    env: str
    region: str
    zones: tuple[str, ...]
    dns_suffix: str
    net: int  # second octet of the cluster's 10.x network
    pools: tuple[tuple[str, int], ...]  # (pool, node count)
    replica_factor: float
    kubelet: str
    machines: tuple[tuple[str, str], ...]  # PhysicalMachines: (name, role)


CLUSTERS = (
    ClusterSpec(
        "prod-eu",
        "prod",
        "eu-west-1",
        ("eu-west-1a", "eu-west-1b", "eu-west-1c"),
        "eu-west-1.compute.internal",
        0,
        (("general", 9), ("memory", 4), ("arm", 2), ("legacy", 1)),
        1.0,
        "v1.30.4-eks-a737599",
        (
            ("bm-kafka-01", "kafka"),
            ("bm-kafka-02", "kafka"),
            ("bm-kafka-03", "kafka"),
            ("bm-db-01", "db"),
            ("bm-db-02", "db"),
            ("bm-edge-01", "edge"),
        ),
    ),
    ClusterSpec(
        "staging-us",
        "staging",
        "us-east-1",
        ("us-east-1a", "us-east-1b"),
        "ec2.internal",
        8,
        (("general", 6), ("memory", 2), ("arm", 1), ("legacy", 1)),
        0.6,
        "v1.31.2-eks-7f9249a",
        (("bm-kafka-01", "kafka"), ("bm-db-01", "db"), ("bm-edge-01", "edge"), ("bm-build-01", "build")),
    ),
)

POOLS = {
    # pool: (instance type, arch, cpu, memory Ki, chaos-daemon scheduled there)
    "general": ("m6i.2xlarge", "amd64", 8, 32162636, True),
    "memory": ("r6i.2xlarge", "amd64", 8, 65023692, True),
    "arm": ("m7g.2xlarge", "arm64", 8, 32158456, True),
    # The chaos-daemon DaemonSet's node affinity excludes the legacy pool, so nothing can be
    # injected into pods there: the controller fails with "cannot find daemonIP on node ...".
    "legacy": ("m5.xlarge", "amd64", 4, 15917480, False),
}

MACHINE_TEAMS = {"kafka": "data-platform", "db": "payments", "edge": "sre", "build": "devex"}


@dataclass(frozen=True)
class App:
    name: str
    workload: str  # deploy | sts
    replicas: int
    containers: tuple[tuple[str, str, int], ...]  # (name, image, port)
    http: bool = False
    jvm: bool = False
    data: str = ""  # mount path of the data volume (IOChaos volumePath)
    host_path: str = ""  # hostPath of the data volume (BlockChaos)


def _c(name: str, image: str, port: int) -> tuple[str, str, int]:
    return (name, image, port)


NAMESPACES: tuple[tuple[str, str, tuple[App, ...]], ...] = (
    (
        "shop",
        "storefront",
        (
            App("frontend", "deploy", 12, (_c("frontend", "ghcr.io/acme/shop-frontend:4.12.0", 8080),), http=True),
            App("cart", "deploy", 8, (_c("cart", "ghcr.io/acme/cart:2.7.3", 7070),), http=True),
            App(
                "catalog",
                "deploy",
                8,
                (_c("catalog", "ghcr.io/acme/catalog:3.1.9", 8080), _c("envoy", "envoyproxy/envoy:v1.31.2", 15001)),
                http=True,
            ),
            App("checkout", "deploy", 6, (_c("checkout", "ghcr.io/acme/checkout:5.0.4", 5050),), http=True, jvm=True),
            App(
                "recommendations",
                "deploy",
                6,
                (_c("recommendations", "ghcr.io/acme/recommendations:1.18.0", 8080),),
                jvm=True,
            ),
            App("notifications", "deploy", 4, (_c("notifications", "ghcr.io/acme/notifications:0.9.12", 8080),)),
            App(
                "redis-cart",
                "sts",
                3,
                (_c("redis", "redis:7.2.5", 6379), _c("redis-exporter", "oliver006/redis_exporter:v1.62.0", 9121)),
                data="/data",
            ),
        ),
    ),
    (
        "payments",
        "payments",
        (
            App("payments-api", "deploy", 8, (_c("payments-api", "ghcr.io/acme/payments-api:8.3.1", 8443),), http=True),
            App("ledger", "deploy", 4, (_c("ledger", "ghcr.io/acme/ledger:12.0.2", 8080),), http=True, jvm=True),
            App(
                "fraud-detector",
                "deploy",
                4,
                (_c("fraud-detector", "ghcr.io/acme/fraud-detector:2.2.0", 8080),),
                jvm=True,
            ),
            App("payouts", "deploy", 4, (_c("payouts", "ghcr.io/acme/payouts:1.4.7", 8080),), jvm=True),
            App(
                "postgres",
                "sts",
                3,
                (
                    _c("postgres", "postgres:16.4", 5432),
                    _c("postgres-exporter", "quay.io/prometheuscommunity/postgres-exporter:v0.15.0", 9187),
                ),
                data="/var/lib/postgresql/data",
            ),
        ),
    ),
    (
        "search",
        "discovery",
        (
            App("search-api", "deploy", 8, (_c("search-api", "ghcr.io/acme/search-api:6.5.0", 8080),), http=True),
            App("indexer", "deploy", 4, (_c("indexer", "ghcr.io/acme/indexer:6.5.0", 8080),), jvm=True),
            App(
                "query-suggest",
                "deploy",
                4,
                (_c("query-suggest", "ghcr.io/acme/query-suggest:0.21.3", 8080),),
                http=True,
            ),
            App(
                "elasticsearch",
                "sts",
                5,
                (_c("elasticsearch", "docker.elastic.co/elasticsearch/elasticsearch:8.15.3", 9200),),
                jvm=True,
                data="/usr/share/elasticsearch/data",
                host_path="/mnt/disks/es-data",
            ),
        ),
    ),
    (
        "auth",
        "identity",
        (
            App("auth-api", "deploy", 6, (_c("auth-api", "ghcr.io/acme/auth-api:3.9.1", 8080),), http=True),
            App(
                "token-service",
                "deploy",
                4,
                (_c("token-service", "ghcr.io/acme/token-service:2.0.8", 8080),),
                http=True,
                jvm=True,
            ),
            App(
                "oauth-gateway",
                "deploy",
                4,
                (_c("oauth-gateway", "ghcr.io/acme/oauth-gateway:1.12.4", 8443),),
                http=True,
            ),
            App("session-store", "sts", 3, (_c("redis", "redis:7.2.5", 6379),), data="/data"),
        ),
    ),
    (
        "monitoring",
        "sre",
        (
            App(
                "prometheus",
                "sts",
                2,
                (
                    _c("prometheus", "quay.io/prometheus/prometheus:v2.54.1", 9090),
                    _c("config-reloader", "quay.io/prometheus-operator/prometheus-config-reloader:v0.77.1", 8080),
                ),
                data="/prometheus",
            ),
            App("grafana", "deploy", 2, (_c("grafana", "grafana/grafana:11.2.2", 3000),), http=True),
            App(
                "alertmanager",
                "sts",
                3,
                (_c("alertmanager", "quay.io/prometheus/alertmanager:v0.27.0", 9093),),
                http=True,
            ),
        ),
    ),
)


def namespace_catalog(count: int) -> list[tuple[str, str, tuple[App, ...]]]:
    """The first ``count`` application namespaces; beyond the five named ones, generic teams."""
    result = list(NAMESPACES[:count])
    for i in range(len(result), count):
        ns = f"team-{i + 1:02d}"
        result.append(
            (
                ns,
                ns,
                (
                    App("api", "deploy", 4, (_c("api", f"ghcr.io/acme/{ns}-api:1.{i}.0", 8080),), http=True),
                    App("worker", "deploy", 3, (_c("worker", f"ghcr.io/acme/{ns}-worker:1.{i}.0", 8080),), jvm=True),
                    App("cache", "sts", 2, (_c("redis", "redis:7.2.5", 6379),), data="/data"),
                ),
            )
        )
    return result


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def ts(t: dt.datetime) -> str:
    """RFC 3339 in UTC with whole seconds, as Kubernetes writes metav1.Time."""
    return t.isoformat()[:19] + "Z"  # every time here is UTC with whole seconds; 3x faster than strftime


def kebab(text: str) -> str:
    """``session-store-attrOverride`` -> ``session-store-attr-override`` (names must be lowercase)."""
    return "".join("-" + ch.lower() if ch.isupper() else ch for ch in text).strip("-")


def parse_duration(text: str) -> float:
    """Seconds in a Go duration string such as ``90s``, ``1h30m`` or ``500ms``."""
    return go_duration(text)


_UUID_MASK = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
_UUID_V4 = (0x4000 << 64) | (0x8000 << 48)


class Gen:
    """Seeded randomness plus the per-cluster counters that make objects unique."""

    def __init__(self, seed: int, cluster: str):
        self.rng = random.Random(f"chaosql-demo:{seed}:{cluster}")
        self._rv = 100000 + self.rng.randrange(100000)
        self._names: set[tuple[str, str]] = set()

    def uid(self) -> str:
        """A random (version 4) UUID drawn from the seeded RNG."""
        h = "%032x" % ((self.rng.getrandbits(128) & _UUID_MASK) | _UUID_V4)
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def rv(self) -> str:
        self._rv += 1 + int(self.rng.random() * 40)
        return str(self._rv)

    def suffix(self, n: int = 5) -> str:
        return "".join(self.rng.choices(NAME_ALPHABET, k=n))

    def unique(self, namespace: str, base: str) -> str:
        """``base-xxxxx`` (Kubernetes generateName style), unique in the namespace."""
        while True:
            name = f"{base}-{self.suffix()}"
            if (namespace, name) not in self._names:
                self._names.add((namespace, name))
                return name

    def hexid(self, n: int = 64) -> str:
        return f"{self.rng.getrandbits(4 * n):0{n}x}"

    def when(self, lo: dt.datetime, hi: dt.datetime) -> dt.datetime:
        span = max(0, int((hi - lo).total_seconds()))
        return lo + dt.timedelta(seconds=self.rng.randint(0, span))


def owner_ref(kind: str, name: str, uid: str, api: str = API) -> dict:
    return {"apiVersion": api, "blockOwnerDeletion": True, "controller": True, "kind": kind, "name": name, "uid": uid}


# --------------------------------------------------------------------------------------------
# Nodes, pods, physical machines
# --------------------------------------------------------------------------------------------


@dataclass
class Node:
    name: str
    pool: str
    zone: str
    ip: str
    index: int
    instance: str
    daemon_ip: str = ""  # chaos-daemon pod IP; empty where no chaos-daemon runs
    obj: dict = field(default_factory=dict)
    pod_ips: int = 0


@dataclass
class Pod:
    namespace: str
    name: str
    app: str
    node: Node
    containers: tuple[tuple[str, str, int], ...]
    obj: dict = field(default_factory=dict)
    restarts: dict = field(default_factory=dict)  # container -> times it was killed
    killed_at: dt.datetime | None = None  # last pod-kill: the pod was recreated right after


@dataclass
class Machine:
    namespace: str
    name: str
    role: str
    address: str
    obj: dict = field(default_factory=dict)


class World:
    """One cluster: its nodes, pods and physical machines, indexed for target selection."""

    def __init__(self, g: Gen, spec: ClusterSpec, namespaces: list):
        self.g, self.spec, self.namespaces = g, spec, namespaces
        self.nodes: list[Node] = []
        self.pods: list[Pod] = []
        self.machines: list[Machine] = []
        self.by_app: dict[tuple[str, str], list[Pod]] = {}
        self.apps: dict[tuple[str, str], App] = {}
        self.team = {ns: team for ns, team, _ in namespaces}
        self.cluster_created = NOW - dt.timedelta(days=400 + g.rng.randint(0, 200))
        self._owner_uids: dict[tuple[str, str, str], str] = {}
        self._make_nodes()
        self._make_pods()
        self._make_machines()

    # nodes ---------------------------------------------------------------------------------
    def _make_nodes(self) -> None:
        g, spec = self.g, self.spec
        used: set[str] = set()
        index = 0
        for pool, count in spec.pools:
            itype, arch, cpu, mem_ki, _daemon = POOLS[pool]
            for _ in range(count):
                zone_i = index % len(spec.zones)
                while True:
                    ip = f"10.{spec.net}.{16 * zone_i + g.rng.randint(1, 15)}.{g.rng.randint(4, 250)}"
                    if ip not in used:
                        used.add(ip)
                        break
                name = f"ip-{ip.replace('.', '-')}.{spec.dns_suffix}"
                instance = "i-0" + g.hexid(16)
                node = Node(name, pool, spec.zones[zone_i], ip, index, instance)
                self.nodes.append(node)
                index += 1
        for node in self.nodes:
            node.obj = self._node_obj(node)

    def _node_obj(self, node: Node) -> dict:
        g, spec = self.g, self.spec
        itype, arch, cpu, mem_ki, _daemon = POOLS[node.pool]
        created = self.cluster_created + dt.timedelta(days=g.rng.randint(30, 380), seconds=g.rng.randint(0, 86399))
        created = min(created, NOW - dt.timedelta(days=WINDOW_DAYS + 2))
        heartbeat = NOW - dt.timedelta(seconds=g.rng.randint(5, 50))
        alloc_cpu = f"{cpu * 1000 - 90}m"
        conditions = []
        for ctype, reason, message in (
            ("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
            ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            ("Ready", "KubeletReady", "kubelet is posting ready status"),
        ):
            conditions.append(
                {
                    "lastHeartbeatTime": ts(heartbeat),
                    "lastTransitionTime": ts(created + dt.timedelta(seconds=40)),
                    "message": message,
                    "reason": reason,
                    "status": "True" if ctype == "Ready" else "False",
                    "type": ctype,
                }
            )
        labels = {
            "beta.kubernetes.io/arch": arch,
            "beta.kubernetes.io/instance-type": itype,
            "beta.kubernetes.io/os": "linux",
            "eks.amazonaws.com/nodegroup": f"{spec.env}-{node.pool}",
            "failure-domain.beta.kubernetes.io/region": spec.region,
            "failure-domain.beta.kubernetes.io/zone": node.zone,
            "kubernetes.io/arch": arch,
            "kubernetes.io/hostname": node.name,
            "kubernetes.io/os": "linux",
            "node.kubernetes.io/instance-type": itype,
            "pool": node.pool,
            "topology.kubernetes.io/region": spec.region,
            "topology.kubernetes.io/zone": node.zone,
        }
        return {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "annotations": {
                    "node.alpha.kubernetes.io/ttl": "0",
                    "volumes.kubernetes.io/controller-managed-attach-detach": "true",
                },
                "creationTimestamp": ts(created),
                "labels": labels,
                "name": node.name,
                "resourceVersion": g.rv(),
                "uid": g.uid(),
            },
            "spec": {"providerID": f"aws:///{node.zone}/{node.instance}"},
            "status": {
                "addresses": [
                    {"address": node.ip, "type": "InternalIP"},
                    {"address": node.name, "type": "InternalDNS"},
                    {"address": node.name, "type": "Hostname"},
                ],
                "allocatable": {
                    "cpu": alloc_cpu,
                    "ephemeral-storage": "95491281146",
                    "memory": f"{mem_ki - 1200000}Ki",
                    "pods": "58",
                },
                "capacity": {
                    "cpu": str(cpu),
                    "ephemeral-storage": "104779756Ki",
                    "memory": f"{mem_ki}Ki",
                    "pods": "58",
                },
                "conditions": conditions,
                "nodeInfo": {
                    "architecture": arch,
                    "containerRuntimeVersion": "containerd://1.7.22",
                    "kernelVersion": "6.1.112-122.189.amzn2023." + ("aarch64" if arch == "arm64" else "x86_64"),
                    "kubeProxyVersion": spec.kubelet,
                    "kubeletVersion": spec.kubelet,
                    "operatingSystem": "linux",
                    "osImage": "Amazon Linux 2023.6.20241031",
                },
            },
        }

    # pods ----------------------------------------------------------------------------------
    def _pod_ip(self, node: Node) -> str:
        node.pod_ips += 1
        return f"10.{self.spec.net}.{64 + node.index}.{node.pod_ips + 1}"

    def _make_pods(self) -> None:
        g, spec = self.g, self.spec
        # chaos-mesh itself
        cm_created = NOW - dt.timedelta(days=60 + g.rng.randint(0, 20))
        daemon_hash = g.suffix(10)
        for node in self.nodes:
            if not POOLS[node.pool][4]:
                continue
            pod = self._pod(
                "chaos-mesh",
                g.unique("chaos-mesh", "chaos-daemon"),
                "chaos-daemon",
                node,
                (("chaos-daemon", f"ghcr.io/chaos-mesh/chaos-daemon:{CHAOS_MESH_VERSION}", 31767),),
                {
                    "app.kubernetes.io/component": "chaos-daemon",
                    "app.kubernetes.io/instance": "chaos-mesh",
                    "app.kubernetes.io/name": "chaos-mesh",
                    "app.kubernetes.io/part-of": "chaos-mesh",
                    "app.kubernetes.io/version": CHAOS_MESH_VERSION,
                    "controller-revision-hash": daemon_hash,
                    "pod-template-generation": "1",
                },
                ("DaemonSet", "chaos-daemon", "apps/v1"),
                cm_created,
            )
            node.daemon_ip = pod.obj["status"]["podIP"]
        for component, image, port, replicas in (
            ("controller-manager", "chaos-mesh", 10080, 3),
            ("chaos-dashboard", "chaos-dashboard", 2333, 1),
            ("chaos-dns-server", "chaos-coredns:v0.2.6", 53, 1),
        ):
            name = component if component.startswith("chaos-") else f"chaos-{component}"
            rs = f"{name}-{g.suffix(10)}"
            for _ in range(replicas):
                node = g.rng.choice([n for n in self.nodes if n.pool == "general"])
                self._pod(
                    "chaos-mesh",
                    g.unique("chaos-mesh", rs),
                    name,
                    node,
                    (
                        (
                            component if component != "controller-manager" else "chaos-mesh",
                            f"ghcr.io/chaos-mesh/{image}" + ("" if ":" in image else f":{CHAOS_MESH_VERSION}"),
                            port,
                        ),
                    ),
                    {
                        "app.kubernetes.io/component": component,
                        "app.kubernetes.io/instance": "chaos-mesh",
                        "app.kubernetes.io/name": "chaos-mesh",
                        "app.kubernetes.io/part-of": "chaos-mesh",
                        "app.kubernetes.io/version": CHAOS_MESH_VERSION,
                        "pod-template-hash": rs.rsplit("-", 1)[1],
                    },
                    ("ReplicaSet", rs, "apps/v1"),
                    cm_created,
                )
        # applications
        for ns, team, apps in self.namespaces:
            for app in apps:
                self.apps[(ns, app.name)] = app
                replicas = max(1, round(app.replicas * spec.replica_factor))
                created = NOW - dt.timedelta(days=g.rng.randint(WINDOW_DAYS + 1, 45), seconds=g.rng.randint(0, 86399))
                base_labels = {
                    "app": app.name,
                    "app.kubernetes.io/name": app.name,
                    "app.kubernetes.io/part-of": ns,
                    "team": team,
                }
                pods = []
                if app.workload == "deploy":
                    rs_hash = g.suffix(10)
                    rs = f"{app.name}-{rs_hash}"
                    for _ in range(replicas):
                        node = g.rng.choice(self.nodes)
                        pods.append(
                            self._pod(
                                ns,
                                g.unique(ns, rs),
                                app.name,
                                node,
                                app.containers,
                                {**base_labels, "pod-template-hash": rs_hash},
                                ("ReplicaSet", rs, "apps/v1"),
                                created,
                                app,
                            )
                        )
                else:
                    rev = f"{app.name}-{g.suffix(10)}"
                    mem_nodes = [n for n in self.nodes if n.pool in ("memory", "general")]
                    for i in range(replicas):
                        node = g.rng.choice(mem_nodes)
                        name = f"{app.name}-{i}"
                        g._names.add((ns, name))
                        pods.append(
                            self._pod(
                                ns,
                                name,
                                app.name,
                                node,
                                app.containers,
                                {
                                    **base_labels,
                                    "controller-revision-hash": rev,
                                    "statefulset.kubernetes.io/pod-name": name,
                                },
                                ("StatefulSet", app.name, "apps/v1"),
                                created,
                                app,
                            )
                        )
                self.by_app[(ns, app.name)] = pods

    def _pod(self, ns, name, app_name, node, containers, labels, owner, created, app=None) -> Pod:
        g = self.g
        owner_key = (ns, owner[0], owner[1])
        if owner_key not in self._owner_uids:
            self._owner_uids[owner_key] = g.uid()
        started = created + dt.timedelta(seconds=g.rng.randint(0, 3 * 86400))
        started = min(started, NOW - dt.timedelta(days=WINDOW_DAYS, seconds=1))
        pod = Pod(ns, name, app_name, node, containers)
        spec_containers = []
        for cname, image, port in containers:
            c = {
                "image": image,
                "name": cname,
                "ports": [
                    {
                        "containerPort": port,
                        "name": "http" if port not in (6379, 5432, 9200, 31767, 53) else "tcp",
                        "protocol": "TCP",
                    }
                ],
                "resources": {"limits": {"memory": "1Gi"}, "requests": {"cpu": "250m", "memory": "512Mi"}},
            }
            if app is not None and app.data and cname == containers[0][0]:
                c["volumeMounts"] = [{"mountPath": app.data, "name": "data"}]
            spec_containers.append(c)
        account = {
            "chaos-dashboard": "chaos-dashboard",
            "chaos-daemon": "chaos-daemon",
            "chaos-dns-server": "chaos-dns-server",
        }.get(app_name, "chaos-controller-manager")
        spec = {
            "containers": spec_containers,
            "nodeName": node.name,
            "restartPolicy": "Always",
            "schedulerName": "default-scheduler",
            "serviceAccountName": app_name if ns != "chaos-mesh" else account,
        }
        if app_name == "chaos-daemon":
            spec["hostPID"] = True
        if app is not None and app.data:
            if app.host_path:
                spec["volumes"] = [{"hostPath": {"path": app.host_path, "type": "DirectoryOrCreate"}, "name": "data"}]
            else:
                spec["volumes"] = [{"name": "data", "persistentVolumeClaim": {"claimName": f"data-{name}"}}]
        ip = self._pod_ip(node)
        pod.obj = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "creationTimestamp": ts(started - dt.timedelta(seconds=3)),
                "labels": labels,
                "name": name,
                "namespace": ns,
                "ownerReferences": [
                    {
                        "apiVersion": owner[2],
                        "blockOwnerDeletion": True,
                        "controller": True,
                        "kind": owner[0],
                        "name": owner[1],
                        "uid": self._owner_uids[owner_key],
                    }
                ],
                "resourceVersion": g.rv(),
                "uid": g.uid(),
            },
            "spec": spec,
            "status": {
                "conditions": [
                    {
                        "lastProbeTime": None,
                        "lastTransitionTime": ts(started + dt.timedelta(seconds=9)),
                        "status": "True",
                        "type": t,
                    }
                    for t in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled")
                ],
                "containerStatuses": [
                    {
                        "containerID": "containerd://" + g.hexid(),
                        "image": image,
                        "name": cname,
                        "ready": True,
                        "restartCount": 0,
                        "started": True,
                        "state": {"running": {"startedAt": ts(started + dt.timedelta(seconds=4))}},
                    }
                    for cname, image, _ in containers
                ],
                "hostIP": node.ip,
                "hostIPs": [{"ip": node.ip}],
                "phase": "Running",
                "podIP": ip,
                "podIPs": [{"ip": ip}],
                "qosClass": "Burstable",
                "startTime": ts(started),
            },
        }
        self.pods.append(pod)
        return pod

    def finish_pods(self) -> None:
        """Make pods show what the experiments did to them.

        A pod hit by pod-kill was recreated by its controller a moment later (the demo keeps the
        name so that record ids resolve, as a StatefulSet does); a container hit by container-kill
        was restarted by the kubelet (restartCount, lastState).
        """
        for pod in self.pods:
            obj = pod.obj
            if pod.killed_at is not None:
                born = pod.killed_at + dt.timedelta(seconds=2)
                obj["metadata"]["creationTimestamp"] = ts(born)
                obj["status"]["startTime"] = ts(born + dt.timedelta(seconds=1))
                for c in obj["status"]["conditions"]:
                    c["lastTransitionTime"] = ts(born + dt.timedelta(seconds=8))
                for status in obj["status"]["containerStatuses"]:
                    status["containerID"] = "containerd://" + self.g.hexid()
                    status["state"] = {"running": {"startedAt": ts(born + dt.timedelta(seconds=5))}}
            for status in obj["status"]["containerStatuses"]:
                kills = sorted(
                    t for t in pod.restarts.get(status["name"], ()) if pod.killed_at is None or t > pod.killed_at
                )
                if not kills:
                    continue
                status["restartCount"] = len(kills)
                status["lastState"] = {
                    "terminated": {
                        "containerID": status["containerID"],
                        "exitCode": 137,
                        "finishedAt": ts(kills[-1]),
                        "reason": "Error",
                        "startedAt": status["state"]["running"]["startedAt"],
                    }
                }
                status["containerID"] = "containerd://" + self.g.hexid()
                status["state"] = {"running": {"startedAt": ts(kills[-1] + dt.timedelta(seconds=1))}}

    # physical machines ---------------------------------------------------------------------
    def _make_machines(self) -> None:
        g, spec = self.g, self.spec
        for i, (name, role) in enumerate(spec.machines):
            address = f"http://10.{spec.net}.1.{11 + i}:31767"
            m = Machine("chaos-mesh", name, role, address)
            m.obj = {
                "apiVersion": API,
                "kind": "PhysicalMachine",
                "metadata": {
                    "creationTimestamp": ts(
                        NOW - dt.timedelta(days=50 + g.rng.randint(0, 30), seconds=g.rng.randint(0, 86399))
                    ),
                    "generation": 1,
                    "labels": {"arch": "amd64", "region": spec.region, "role": role, "team": MACHINE_TEAMS[role]},
                    "name": name,
                    "namespace": "chaos-mesh",
                    "resourceVersion": g.rv(),
                    "uid": g.uid(),
                },
                "spec": {"address": address},
            }
            self.machines.append(m)

    # selection -----------------------------------------------------------------------------
    def select(self, pods: list[Pod], mode: str, value: str | None) -> list[Pod]:
        """Chaos Mesh's selector modes applied to the pods a selector matched."""
        rng, n = self.g.rng, len(pods)
        if n == 0:
            return []
        if mode == "one":
            k = 1
        elif mode == "all":
            k = n
        elif mode == "fixed":
            k = min(n, int(value))
        elif mode == "fixed-percent":
            k = max(1, n * int(value) // 100)
        else:  # random-max-percent
            k = rng.randint(1, max(1, n * int(value) // 100))
        return sorted(rng.sample(pods, k), key=lambda p: p.name)


# --------------------------------------------------------------------------------------------
# Experiment specs: one builder per kind, shaped after chaos-mesh/examples
# --------------------------------------------------------------------------------------------


@dataclass
class Target:
    id: str
    selector_key: str
    pod: Pod | None = None
    machine: Machine | None = None


@dataclass
class Draft:
    kind: str
    action: str  # for names; the spec's action where it has one
    namespace: str
    team: str
    spec: dict
    targets: list[Target]
    app: str = ""


def _mode(rng: random.Random, n: int) -> tuple[str, str | None]:
    r = rng.random()
    if r < 0.45 or n == 1:
        return "one", None
    if r < 0.65:
        return "all", None
    if r < 0.8:
        return "fixed", str(rng.randint(1, max(1, min(3, n))))
    if r < 0.92:
        return "fixed-percent", rng.choice(["25", "50"])
    return "random-max-percent", rng.choice(["30", "50"])


def needs_daemon(kind: str, action: str | None) -> bool:
    """Whether the controller injects this chaos through chaos-daemon on the target's node.

    pod-kill and pod-failure go through the Kubernetes API, PhysicalMachineChaos through chaosd,
    AWSChaos through AWS; everything else (container-kill included) calls chaos-daemon.
    """
    if kind == "PodChaos":
        return action == "container-kill"
    return kind not in ("PhysicalMachineChaos", "AWSChaos")


def unreachable(d: Draft, t: Target) -> bool:
    """The target's node has no chaos-daemon, and this chaos needs one."""
    return t.pod is not None and not t.pod.node.daemon_ip and needs_daemon(d.kind, d.spec.get("action"))


class Builder:
    """Makes the spec and the injection targets of one chaos object."""

    def __init__(self, world: World):
        self.w = world
        self.g = world.g
        self.rng = world.g.rng

    # choosing what to hit ------------------------------------------------------------------
    def pick_app(self, want=None, ns: str | None = None, prefer_nodaemon=False) -> tuple[str, App]:
        cands = [(k, a) for k, a in self.w.apps.items() if (want is None or want(a)) and (ns is None or k[0] == ns)]
        if not cands:
            cands = [(k, a) for k, a in self.w.apps.items() if (want is None or want(a))]
        if not cands:
            raise LookupError("no application fits")
        if prefer_nodaemon:
            nod = [(k, a) for k, a in cands if any(not p.node.daemon_ip for p in self.w.by_app[k])]
            if nod:
                cands = nod
        (namespace, _), app = self.rng.choice(cands)
        return namespace, app

    def pod_selector(self, ns: str, app: App, missing=False) -> dict:
        return {"labelSelectors": {"app": app.name + ("-canary" if missing else "")}, "namespaces": [ns]}

    def choose(self, ns: str, app: App, mode: str, value, missing: bool) -> list[Pod]:
        if missing:
            return []
        return self.w.select(self.w.by_app[(ns, app.name)], mode, value)

    def mode_fields(self, spec: dict, mode: str, value) -> None:
        spec["mode"] = mode
        if value is not None:
            spec["value"] = value

    # the builders --------------------------------------------------------------------------
    def build(self, kind: str, phase: str, missing: bool, nodaemon: bool, ns: str | None = None) -> Draft:
        """A draft for ``phase``: outside *injecting*, one whose targets can all be injected."""
        make = getattr(self, "b_" + kind)
        d = make(phase, missing, nodaemon, ns)
        if phase == "injecting":
            return d
        for _ in range(30):
            if not any(unreachable(d, t) for t in d.targets):
                break
            d = make(phase, missing, nodaemon, ns)
        return d

    def _pod_level(
        self, kind, action, phase, missing, nodaemon, ns, want=None, extra=None, container=False, container_names=None
    ):
        ns, app = self.pick_app(want, ns, nodaemon)
        pods = self.w.by_app[(ns, app.name)]
        mode, value = _mode(self.rng, len(pods))
        if nodaemon:
            mode, value = "all", None
        spec = {"selector": self.pod_selector(ns, app, missing)}
        if action:
            spec["action"] = action
        self.mode_fields(spec, mode, value)
        chosen = self.choose(ns, app, mode, value, missing)
        names = container_names(app) if container_names else None
        if names:
            spec["containerNames"] = names
        targets = []
        for pod in chosen:
            if container:
                for cname in names or [pod.containers[0][0]]:
                    targets.append(Target(f"{pod.namespace}/{pod.name}/{cname}", ".", pod))
            else:
                targets.append(Target(f"{pod.namespace}/{pod.name}", ".", pod))
        if extra:
            extra(spec, app)
        return Draft(kind, action or kind.replace("Chaos", "").lower(), ns, self.w.team[ns], spec, targets, app.name)

    def b_PodChaos(self, phase, missing, nodaemon, ns):
        if phase in ("running", "paused", "deleting"):
            action = "pod-failure"
        else:
            action = self.rng.choices(["pod-kill", "pod-failure", "container-kill"], [5, 3, 3])[0]
        if action == "container-kill":

            def names(app):
                if len(app.containers) > 1 and self.rng.random() < 0.4:
                    return [app.containers[1][0]]
                return [app.containers[0][0]]

            d = self._pod_level("PodChaos", action, phase, missing, nodaemon, ns, container=True, container_names=names)
        else:

            def extra(spec, app):
                if action == "pod-kill" and self.rng.random() < 0.5:
                    spec["gracePeriod"] = self.rng.choice([0, 0, 30])

            d = self._pod_level("PodChaos", action, phase, missing, nodaemon, ns, extra=extra)
        return d

    def b_NetworkChaos(self, phase, missing, nodaemon, ns):
        action = self.rng.choices(
            ["delay", "loss", "partition", "bandwidth", "duplicate", "corrupt"], [8, 5, 4, 2, 1, 1]
        )[0]
        ns, app = self.pick_app(None, ns, nodaemon)
        pods = self.w.by_app[(ns, app.name)]
        mode, value = ("all", None) if nodaemon else _mode(self.rng, len(pods))
        spec = {"action": action, "direction": "to", "selector": self.pod_selector(ns, app, missing)}
        self.mode_fields(spec, mode, value)
        chosen = self.choose(ns, app, mode, value, missing)
        targets = [Target(f"{p.namespace}/{p.name}", ".", p) for p in chosen]
        r = self.rng
        if action == "delay":
            spec["delay"] = {
                "latency": r.choice(["50ms", "90ms", "100ms", "200ms", "500ms", "1s"]),
                "correlation": r.choice(["0", "25", "50"]),
                "jitter": r.choice(["0ms", "10ms", "50ms"]),
            }
        elif action == "loss":
            spec["loss"] = {"loss": r.choice(["10", "25", "50", "100"]), "correlation": r.choice(["0", "25"])}
        elif action == "duplicate":
            spec["duplicate"] = {"duplicate": r.choice(["5", "20"]), "correlation": "25"}
        elif action == "corrupt":
            spec["corrupt"] = {"corrupt": r.choice(["5", "10"]), "correlation": "25"}
        elif action == "bandwidth":
            spec["bandwidth"] = {"rate": r.choice(["1mbps", "10mbps", "100kbps"]), "limit": 20971520, "buffer": 10000}
        if action == "partition" or (action == "delay" and r.random() < 0.3):
            spec["direction"] = r.choice(["to", "both"]) if action == "partition" else "to"
            others = [k for k in self.w.apps if k[0] == ns and k[1] != app.name]
            if others:
                tk = r.choice(others)
                tmode, tvalue = ("one", None) if r.random() < 0.6 else ("all", None)
                spec["target"] = {"mode": tmode, "selector": {"labelSelectors": {"app": tk[1]}, "namespaces": [ns]}}
                if not missing:
                    for p in self.w.select(self.w.by_app[tk], tmode, tvalue):
                        targets.append(Target(f"{p.namespace}/{p.name}", ".Target", p))
        elif action == "delay" and r.random() < 0.2:
            spec["externalTargets"] = [r.choice(["api.stripe.com", "10.100.0.0/16", "s3.amazonaws.com"])]
        return Draft("NetworkChaos", action, ns, self.w.team[ns], spec, targets, app.name)

    def b_StressChaos(self, phase, missing, nodaemon, ns):
        r = self.rng
        which = r.choice(["cpu", "cpu", "memory"])

        def extra(spec, app):
            if which == "cpu":
                spec["stressors"] = {"cpu": {"workers": r.choice([1, 2, 4]), "load": r.choice([20, 50, 80, 100])}}
                if r.random() < 0.3:
                    spec["stressors"]["cpu"]["options"] = ["--cpu 2", "--timeout 600"]
            else:
                spec["stressors"] = {
                    "memory": {"workers": r.choice([1, 2]), "size": r.choice(["256MB", "512MB", "1GB", "80%"])}
                }

        d = self._pod_level("StressChaos", "", phase, missing, nodaemon, ns, extra=extra, container=True)
        d.action = f"stress-{which}"
        return d

    def b_IOChaos(self, phase, missing, nodaemon, ns):
        r = self.rng
        action = r.choice(["latency", "latency", "fault", "attrOverride", "mistake"])

        def extra(spec, app):
            spec["volumePath"] = app.data
            spec["path"] = f"{app.data}/**/*"
            spec["percent"] = r.choice([10, 50, 100])
            if action == "latency":
                spec["delay"] = r.choice(["10ms", "50ms", "100ms", "1s"])
            elif action == "fault":
                spec["errno"] = r.choice([5, 28])
                spec["methods"] = r.choice([["read"], ["write"], ["read", "write"], ["open", "write", "fsync"]])
            elif action == "attrOverride":
                spec["attr"] = {"perm": 72}
            else:
                spec["mistake"] = {"filling": r.choice(["zero", "random"]), "maxOccurrences": 1, "maxLength": 10}

        return self._pod_level(
            "IOChaos", action, phase, missing, nodaemon, ns, want=lambda a: bool(a.data), extra=extra, container=True
        )

    def b_TimeChaos(self, phase, missing, nodaemon, ns):
        r = self.rng

        def extra(spec, app):
            spec["timeOffset"] = r.choice(["-10m100ns", "-1h", "+30m", "+2h", "-5m"])
            if r.random() < 0.4:
                spec["clockIds"] = ["CLOCK_REALTIME"]

        d = self._pod_level("TimeChaos", "", phase, missing, nodaemon, ns, extra=extra, container=True)
        d.action = "time-shift"
        return d

    def b_DNSChaos(self, phase, missing, nodaemon, ns):
        r = self.rng
        action = r.choice(["error", "random"])

        def extra(spec, app):
            spec["patterns"] = r.choice(
                [
                    ["api.stripe.com"],
                    ["*.amazonaws.com"],
                    ["google.com", "chaos-mesh.*", "github.?om"],
                    [f"postgres.{spec['selector']['namespaces'][0]}.svc.cluster.local"],
                ]
            )

        d = self._pod_level("DNSChaos", action, phase, missing, nodaemon, ns, extra=extra, container=True)
        d.action = f"dns-{action}"
        return d

    def b_HTTPChaos(self, phase, missing, nodaemon, ns):
        r = self.rng
        flavor = r.choice(["abort", "delay", "replace", "patch"])

        def extra(spec, app):
            port = app.containers[0][2]
            spec["target"] = r.choice(["Request", "Response"]) if flavor != "patch" else "Response"
            spec["port"] = port
            spec["path"] = r.choice(["*", "/api/*", "/api/v1/orders", "/healthz"])
            if r.random() < 0.5:
                spec["method"] = r.choice(["GET", "POST"])
            if flavor == "abort":
                spec["abort"] = True
            elif flavor == "delay":
                spec["delay"] = r.choice(["500ms", "2s", "10s"])
            elif flavor == "replace":
                spec["replace"] = {"code": r.choice([500, 503, 429])}
            else:
                spec["patch"] = {
                    "body": {"type": "JSON", "value": '{"status":"Failed","reason":"hacked by Chaos Mesh"}'}
                }

        d = self._pod_level("HTTPChaos", "", phase, missing, nodaemon, ns, want=lambda a: a.http, extra=extra)
        d.action = f"http-{flavor}"
        return d

    def b_JVMChaos(self, phase, missing, nodaemon, ns):
        r = self.rng
        action = r.choice(["latency", "exception", "return", "stress", "gc"])

        def extra(spec, app):
            cls = {
                "checkout": "com.acme.checkout.PaymentClient",
                "ledger": "com.acme.ledger.PostingService",
                "elasticsearch": "org.elasticsearch.search.SearchService",
            }.get(app.name, f"com.acme.{app.name.replace('-', '')}.Main")
            spec["port"] = 9277
            if action in ("latency", "exception", "return"):
                spec["class"] = cls
                spec["method"] = r.choice(["handle", "execute", "sayhello", "process"])
            if action == "latency":
                spec["latency"] = r.choice([500, 1000, 3000])
            elif action == "exception":
                spec["exception"] = 'java.io.IOException("BOOM")'
            elif action == "return":
                spec["returnValue"] = r.choice(["null", "0", '"fallback"'])
            elif action == "stress":
                if r.random() < 0.5:
                    spec["cpuCount"] = 2
                else:
                    spec["memType"] = "heap"

        d = self._pod_level(
            "JVMChaos", action, phase, missing, nodaemon, ns, want=lambda a: a.jvm, extra=extra, container=True
        )
        d.action = f"jvm-{action}"
        return d

    def b_KernelChaos(self, phase, missing, nodaemon, ns):
        def extra(spec, app):
            spec["failKernRequest"] = {
                "callchain": [{"funcname": "__x64_sys_mount"}],
                "failtype": 0,
                "probability": 10,
                "times": 5,
            }

        d = self._pod_level("KernelChaos", "", phase, missing, nodaemon, ns, extra=extra)
        d.action = "kernel-fail-mount"
        return d

    def b_BlockChaos(self, phase, missing, nodaemon, ns):
        r = self.rng

        def extra(spec, app):
            spec["volumeName"] = "data"
            spec["delay"] = {"latency": r.choice(["100ms", "1s"]), "jitter": "10ms", "correlation": "25"}

        d = self._pod_level(
            "BlockChaos",
            "delay",
            phase,
            missing,
            nodaemon,
            ns,
            want=lambda a: bool(a.host_path),
            extra=extra,
            container=True,
        )
        app = self.w.apps[(d.namespace, d.app)]
        for t in d.targets:
            t.id = f"{t.id}/{app.host_path}"
        d.action = "block-delay"
        return d

    def b_AWSChaos(self, phase, missing, nodaemon, ns):
        node = self.rng.choice([n for n in self.w.nodes if n.pool == "general"])
        spec = {
            "action": "ec2-stop",
            "awsRegion": self.w.spec.region,
            "ec2Instance": node.instance,
            "secretName": "cloud-key-secret",
        }
        sel = json.dumps({"awsRegion": self.w.spec.region, "ec2Instance": node.instance}, separators=(",", ":"))
        return Draft("AWSChaos", "ec2-stop", "chaos-mesh", "sre", spec, [Target(sel, ".")])

    def b_PhysicalMachineChaos(self, phase, missing, nodaemon, ns):
        r, w = self.rng, self.w
        action = r.choice(
            ["stress-cpu", "stress-mem", "network-delay", "network-loss", "disk-fill", "process", "clock"]
        )
        role = r.choice(sorted({m.role for m in w.machines}))
        group = [m for m in w.machines if m.role == role]
        style = r.choices(["names", "labels", "address"], [5, 3, 2])[0]
        spec: dict = {"action": action}
        mode = "one" if r.random() < 0.6 else "all"
        spec["mode"] = mode
        if style == "names":
            chosen = group if mode == "all" else [r.choice(group)]
            spec["selector"] = {"physicalMachines": {"chaos-mesh": [m.name for m in chosen]}}
            targets = [Target(f"{m.namespace}/{m.name}", ".", machine=m) for m in chosen]
            mode = "all"
            spec["mode"] = "all"
        elif style == "labels":
            spec["selector"] = {"labelSelectors": {"role": role}, "namespaces": ["chaos-mesh"]}
            chosen = group if mode == "all" else [r.choice(group)]
            targets = [Target(f"{m.namespace}/{m.name}", ".", machine=m) for m in chosen]
        else:
            chosen = [r.choice(group)]
            spec["address"] = [m.address for m in chosen]
            spec["mode"] = "all"
            targets = [Target(m.address, ".", machine=m) for m in chosen]
        if missing:
            spec["selector"] = {"labelSelectors": {"role": role + "-canary"}, "namespaces": ["chaos-mesh"]}
            spec.pop("address", None)
            targets = []
        if action == "stress-cpu":
            spec[action] = {"load": r.choice([50, 80, 100]), "workers": r.choice([1, 2, 4])}
        elif action == "stress-mem":
            spec[action] = {"size": r.choice(["2GB", "4GB", "50%"])}
        elif action == "network-delay":
            spec[action] = {
                "device": "eth0",
                "ip-address": r.choice(["140.82.112.3", f"10.{w.spec.net}.0.0/16"]),
                "latency": r.choice(["100ms", "1000ms"]),
                "jitter": "10ms",
                "correlation": "25",
            }
        elif action == "network-loss":
            spec[action] = {"device": "eth0", "percent": r.choice(["10", "30"]), "correlation": "0"}
        elif action == "disk-fill":
            spec[action] = {"path": "/var/lib/fill.img", "size": r.choice(["10GB", "50GB"]), "fill-by-fallocate": True}
        elif action == "process":
            spec[action] = {
                "process": {"kafka": "kafka.Kafka", "db": "postgres", "edge": "haproxy", "build": "buildkitd"}[role],
                "signal": r.choice([9, 15]),
            }
        else:
            spec[action] = {
                "pid": r.randint(900, 30000),
                "time-offset": r.choice(["-30m", "+1h"]),
                "clock-ids-slice": "CLOCK_REALTIME",
            }
        spec["uid"] = self.g.uid()
        return Draft("PhysicalMachineChaos", action, "chaos-mesh", MACHINE_TEAMS[role], spec, targets, role)


# --------------------------------------------------------------------------------------------
# Status and events, the way the controllers write them
# --------------------------------------------------------------------------------------------

DURATIONS = ("30s", "60s", "90s", "2m", "5m", "10m", "15m", "30m", "1h", "2h")
LONG_DURATIONS = ("30m", "1h", "2h", "4h", "8h", "12h")


class Emitter:
    """Writes chaos objects (with status) and the core/v1 Events the controllers emit for them."""

    def __init__(self, world: World):
        self.w = world
        self.g = world.g
        self.rng = world.g.rng
        self.chaos: dict[str, list[dict]] = {k: [] for k in CHAOS_KINDS}
        self.events: list[dict] = []
        self.phase_of: dict[str, str] = {}
        self._involved: dict[str, dict] = {}
        self.with_events = True

    # k8s events ----------------------------------------------------------------------------
    def event(
        self,
        obj: dict,
        when: dt.datetime,
        component: str,
        etype: str,
        reason: str,
        message: str,
        ann_type: str,
        fields: dict | None = None,
    ) -> None:
        """A core/v1 Event as ``controllers/utils/recorder`` creates it (count 1, unique name)."""
        md = obj["metadata"]
        assert when <= NOW, (md["name"], reason, when)
        if not self.with_events:  # draw the same random numbers, so every other file stays the same
            self.rng.random()
            self.g.rv()
            self.rng.getrandbits(128)
            return
        involved = self._involved.get(md["uid"])
        if involved is None:  # shared by all events of the object; it is never modified
            involved = self._involved[md["uid"]] = {
                "apiVersion": API,
                "kind": obj["kind"],
                "name": md["name"],
                "namespace": md["namespace"],
                "resourceVersion": md["resourceVersion"],
                "uid": md["uid"],
            }
        w = ts(when)
        nanos = int(when.timestamp()) * 1_000_000_000 + int(self.rng.random() * 1e9)
        annotations = {"chaos-mesh.org/" + k: v for k, v in fields.items()} if fields else {}
        annotations["chaos-mesh.org/type"] = ann_type
        self.events.append(
            {
                "apiVersion": "v1",
                "kind": "Event",
                "count": 1,
                "eventTime": None,
                "firstTimestamp": w,
                "involvedObject": involved,
                "lastTimestamp": w,
                "message": message,
                "metadata": {
                    "annotations": annotations,
                    "creationTimestamp": w,
                    "name": f"{md['name']}.{nanos:x}",
                    "namespace": md["namespace"],
                    "resourceVersion": self.g.rv(),
                    "uid": self.g.uid(),
                },
                "reason": reason,
                "reportingComponent": "",
                "reportingInstance": "",
                "source": {"component": component},
                "type": etype,
            }
        )

    def ev_updated(self, obj, when, component, fld):
        self.event(
            obj,
            when,
            component,
            "Normal",
            "Updated",
            f"Successfully update {fld} of resource",
            "updated",
            {"field": fld},
        )

    def ev_failed(self, obj, when, component, activity, err):
        self.event(
            obj,
            when,
            component,
            "Warning",
            "Failed",
            f"Failed to {activity}: {err}",
            "failed",
            {"activity": activity, "err": err},
        )

    # errors --------------------------------------------------------------------------------
    @staticmethod
    def forbidden(d: Draft, pod: Pod) -> str:
        """pod-kill / pod-failure act through the API server; a namespace's RBAC can stop them."""
        verb = "delete" if d.spec.get("action") == "pod-kill" else "update"
        return (
            f'pods "{pod.name}" is forbidden: User "system:serviceaccount:chaos-mesh:chaos-controller-manager" '
            f'cannot {verb} resource "pods" in API group "" in the namespace "{pod.namespace}"'
        )

    @staticmethod
    def apply_error(d: Draft, t: Target) -> str:
        """The error the controller records when applying ``d`` to ``t`` fails."""
        if t.machine is not None:  # chaosd is down (errors.Wrap(err, body) with an empty body)
            host = t.machine.address.split("//", 1)[1]
            op = d.spec["action"].split("-", 1)[0]
            return f': Post "{t.machine.address}/api/attack/{op}": dial tcp {host}: connect: connection refused'
        pod = t.pod
        if not needs_daemon(d.kind, d.spec.get("action")):
            return Emitter.forbidden(d, pod)
        if not pod.node.daemon_ip:
            return f"cannot find daemonIP on node {pod.node.name}"
        return (
            'rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: '
            f'dial tcp {pod.node.daemon_ip}:31767: i/o timeout"'
        )

    @staticmethod
    def recover_error(d: Draft, t: Target) -> str:
        """The error the controller records when recovering ``d`` on ``t`` keeps failing."""
        if t.machine is not None:
            host = t.machine.address.split("//", 1)[1]
            return (
                f': Delete "{t.machine.address}/api/attack/{d.spec["uid"]}": dial tcp {host}: '
                "connect: connection refused"
            )
        if not needs_daemon(d.kind, d.spec.get("action")):
            return Emitter.forbidden(d, t.pod)
        return (
            'rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: '
            f'dial tcp {t.pod.node.daemon_ip}:31767: connect: connection refused"'
        )

    # objects -------------------------------------------------------------------------------
    def experiment(
        self,
        d: Draft,
        name: str,
        phase: str,
        created: dt.datetime,
        *,
        labels: dict | None = None,
        owner: dict | None = None,
        duration: str | None = "auto",
        paused_by_schedule: bool = False,
    ) -> dict:
        """A chaos object in ``phase``, with its status, and its events."""
        g, r = self.g, self.rng
        spec = dict(d.spec)
        one_shot = is_one_shot(d.kind, spec.get("action"))
        if duration == "auto":
            if one_shot:
                duration = None
            elif phase == "running" or phase == "paused":
                duration = r.choice(LONG_DURATIONS + (None,))
            elif phase == "injecting":
                duration = r.choice(LONG_DURATIONS + (None, None))
            else:
                duration = r.choice(DURATIONS)
        if duration:
            spec["duration"] = duration
        elif "duration" in spec:
            del spec["duration"]
        dur_s = parse_duration(duration) if duration else None
        md = {
            "creationTimestamp": ts(created),
            "finalizers": [RECORD_FINALIZER],
            "generation": 1,
            "name": name,
            "namespace": d.namespace,
            "resourceVersion": g.rv(),
            "uid": g.uid(),
        }
        if labels:
            md["labels"] = labels
        if owner:
            md["ownerReferences"] = [owner]
        obj = {"apiVersion": API, "kind": d.kind, "metadata": md, "spec": spec, "status": {}}
        t_apply = min(NOW, created + dt.timedelta(seconds=r.randint(1, 3)))
        # ---- events common to every life ---------------------------------------------------
        self.event(
            obj, created, "initFinalizers", "Normal", "FinalizerInited", "Finalizer has been inited", "finalizer-inited"
        )
        if not one_shot:
            self.event(obj, created, "desiredphase", "Normal", "Started", "Experiment has started", "started")
        self.ev_updated(obj, created, "desiredphase", "desiredPhase")

        records: list[dict] | None = []
        desired = "Run"
        annotations = {}
        paused = False
        stop_at = None  # when the desired phase became Stop
        stop_reason = None

        if phase == "injecting" and not d.targets:
            records = None
            for k in range(r.randint(1, 3)):
                when = created + dt.timedelta(seconds=1 + 30 * k)
                if k and when > NOW:
                    break
                self.ev_failed(obj, when, "records", "select targets", "no target has been selected")
        else:
            # targets on nodes without chaos-daemon always fail; an injecting experiment fails somewhere
            failing = {i for i, t in enumerate(d.targets) if unreachable(d, t)}
            if phase == "injecting" and not failing and d.targets:
                failing = {r.randrange(len(d.targets))}
            if phase == "deleting":
                del_at = max(created + dt.timedelta(seconds=5), NOW - dt.timedelta(seconds=r.randint(120, 6 * 3600)))
            for i, t in enumerate(d.targets):
                rec = {
                    "id": t.id,
                    "selectorKey": t.selector_key,
                    "phase": "Not Injected",
                    "injectedCount": 0,
                    "recoveredCount": 0,
                    "events": [],
                }
                records.append(rec)
                if i in failing:
                    e = self.apply_error(d, t)
                    for k in range(r.randint(1, 3)):
                        when = t_apply + dt.timedelta(seconds=10 * k * k)
                        if k and when > NOW:
                            break
                        rec["events"].append(
                            {"type": "Failed", "operation": "Apply", "message": e, "timestamp": ts(when)}
                        )
                        self.ev_failed(obj, when, "records", "apply chaos", e)
                    continue
                rec["phase"] = "Injected"
                rec["injectedCount"] = 1
                rec["events"].append({"type": "Succeeded", "operation": "Apply", "timestamp": ts(t_apply)})
                self.event(
                    obj,
                    t_apply,
                    "records",
                    "Normal",
                    "Applied",
                    f"Successfully apply chaos for {t.id}",
                    "applied",
                    {"id": t.id},
                )
                if t.pod is not None and d.kind == "PodChaos" and spec.get("action") == "container-kill":
                    t.pod.restarts.setdefault(t.id.rsplit("/", 1)[1], []).append(t_apply)
                elif t.pod is not None and d.kind == "PodChaos" and spec.get("action") == "pod-kill":
                    if t.pod.killed_at is None or t_apply > t.pod.killed_at:
                        t.pod.killed_at = t_apply
            # how the life goes on
            if one_shot:
                if phase == "deleting":
                    stop_at, stop_reason = del_at, "deleted"
                elif paused_by_schedule or phase == "paused":
                    paused = True
            elif phase == "finished" or (
                phase == "paused" and paused_by_schedule and dur_s and created + dt.timedelta(seconds=dur_s) < NOW
            ):
                stop_at, stop_reason = created + dt.timedelta(seconds=dur_s), "timeup"
                paused = phase == "paused"
            elif phase == "paused":
                paused = True
                stop_reason = "paused"
                stop_at = self.g.when(t_apply + dt.timedelta(seconds=30), NOW - dt.timedelta(seconds=60))
            elif phase == "deleting":
                stop_at, stop_reason = del_at, "deleted"
            if paused:
                annotations[PAUSE_ANNOTATION] = "true"
            if stop_at is not None:
                desired = "Stop"
                if stop_reason == "timeup":
                    self.event(
                        obj, stop_at, "desiredphase", "Normal", "TimeUp", "Time up according to the duration", "time-up"
                    )
                elif stop_reason == "paused":
                    self.event(obj, stop_at, "desiredphase", "Normal", "Paused", "Experiment has been paused", "paused")
                else:
                    self.event(
                        obj, stop_at, "desiredphase", "Normal", "Deleted", "Experiment has been deleted", "deleted"
                    )
                self.ev_updated(obj, stop_at, "desiredphase", "desiredPhase")
                t_rec = stop_at + dt.timedelta(seconds=r.randint(0, 2))
                stuck = set()
                if stop_reason == "deleted" and not one_shot:
                    injected = [i for i, rec in enumerate(records) if rec["phase"] == "Injected"]
                    stuck = set(r.sample(injected, max(1, len(injected) // 2))) if injected else set()
                for i, rec in enumerate(records):
                    if rec["phase"] != "Injected":
                        continue
                    t = d.targets[i]
                    if i in stuck:
                        e = self.recover_error(d, t)
                        for k in range(r.randint(1, 3)):
                            when = t_rec + dt.timedelta(seconds=5 + 20 * k)
                            if k and when > NOW:
                                break
                            rec["events"].append(
                                {"type": "Failed", "operation": "Recover", "message": e, "timestamp": ts(when)}
                            )
                            self.ev_failed(obj, when, "records", "recover chaos", e)
                        continue
                    if one_shot and stop_reason != "deleted":
                        continue
                    rec["phase"] = "Not Injected"
                    rec["recoveredCount"] = 1
                    rec["events"].append({"type": "Succeeded", "operation": "Recover", "timestamp": ts(t_rec)})
                    self.event(
                        obj,
                        t_rec,
                        "records",
                        "Normal",
                        "Recovered",
                        f"Successfully recover chaos for {t.id}",
                        "recovered",
                        {"id": t.id},
                    )
                if stop_reason == "deleted":
                    md["deletionGracePeriodSeconds"] = 0
                    md["deletionTimestamp"] = ts(stop_at)
            # A pause that arrives after TimeUp, or on a one-shot experiment, changes no desiredPhase,
            # so the desiredphase controller records no Paused event for it.
        if annotations:
            md["annotations"] = annotations
        # ---- status -------------------------------------------------------------------------
        status: dict = {}
        recs = records or []
        selected = records is not None
        all_inj = selected and all(x["phase"] == "Injected" for x in recs)
        all_rec = selected and all(x["phase"] == "Not Injected" for x in recs)
        status["conditions"] = [
            {"status": "True" if selected else "False", "type": "Selected"},
            {"status": "True" if all_inj else "False", "type": "AllInjected"},
            {"status": "True" if all_rec else "False", "type": "AllRecovered"},
            {"status": "True" if paused else "False", "type": "Paused"},
        ]
        exp: dict = {"desiredPhase": desired}
        if records:
            for rec in records:
                if not rec["events"]:
                    del rec["events"]
            exp["containerRecords"] = records
        status["experiment"] = exp
        if d.kind in ("NetworkChaos", "IOChaos", "HTTPChaos") and recs:
            # generation of the Pod{Network,IO,Http}Chaos the controller last wrote for the record
            # (one more after a recovery)
            instances = {x["id"]: 1 + int(r.random() * 30) + x["recoveredCount"] for x in recs if x["injectedCount"]}
            if instances:
                status["instances"] = instances
        elif d.kind == "BlockChaos" and recs:
            ids = {x["id"]: int(r.random() * 1000) for x in recs if x["phase"] == "Injected"}
            if ids:
                status["ids"] = ids  # the chaos-driver injection id per record
        elif d.kind == "StressChaos" and recs:
            # one stress-ng process per injected record; recovering deletes the entry
            instances = {
                x["id"]: {"startTime": ts(t_apply), "uid": g.hexid(12)} for x in recs if x["phase"] == "Injected"
            }
            if instances:
                status["instances"] = instances
        obj["status"] = status
        md["resourceVersion"] = g.rv()
        self.chaos[d.kind].append(obj)
        self.phase_of[f"{d.kind}/{d.namespace}/{name}"] = chaos_status(obj, NOW)
        return obj


# --------------------------------------------------------------------------------------------
# The cluster: standalone experiments, schedules with children, workflows with nodes
# --------------------------------------------------------------------------------------------


def plan(rng: random.Random, n: int, weights: dict, required: tuple) -> list:
    items = list(required[:n])
    keys, w = list(weights), list(weights.values())
    items += rng.choices(keys, w, k=max(0, n - len(items)))
    rng.shuffle(items)
    return items


SCHEDULES = (
    # (kind, cron, period hours, historyLimit, child duration, concurrency)
    ("PodChaos", "@every 6h", 6, 5, None, "Forbid"),
    ("NetworkChaos", "0 */4 * * *", 4, 3, "30m", "Forbid"),
    ("StressChaos", "30 11 * * *", 24, 5, "45m", "Forbid"),
    ("HTTPChaos", "@every 12h", 12, 3, "10m", "Forbid"),
    ("IOChaos", "0 9 * * *", 24, 4, "5m", "Forbid"),
    ("PhysicalMachineChaos", "0 3 * * *", 24, 3, "20m", "Forbid"),
    ("DNSChaos", "@every 8h", 8, 3, "5m", "Allow"),
    ("TimeChaos", "15 */6 * * *", 6, 4, "10m", "Forbid"),
    ("JVMChaos", "45 13 * * *", 24, 3, "10m", "Forbid"),
)


def schedule_runs(cron: str, period_h: int, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """Run times of the few cron shapes SCHEDULES uses, in (start, end]."""
    runs = []
    if cron.startswith("@every"):
        t = start + dt.timedelta(hours=period_h)
        while t <= end:
            runs.append(t)
            t += dt.timedelta(hours=period_h)
        return runs
    minute, hour = cron.split()[:2]
    day0 = start.replace(hour=0, minute=0, second=0)
    t0 = day0
    while t0 <= end:
        hours = range(0, 24, int(hour[2:])) if hour.startswith("*/") else [int(hour)]
        for h in hours:
            t = t0.replace(hour=h, minute=int(minute))
            if start < t <= end:
                runs.append(t)
        t0 += dt.timedelta(days=1)
    return runs


class ClusterGen:
    def __init__(self, seed: int, spec: ClusterSpec, n_experiments: int, n_namespaces: int):
        self.g = Gen(seed, spec.name)
        self.rng = self.g.rng
        self.spec = spec
        self.n = n_experiments
        self.world = World(self.g, spec, namespace_catalog(n_namespaces))
        self.builder = Builder(self.world)
        self.em = Emitter(self.world)
        self.schedules: list[dict] = []
        self.workflows: list[dict] = []
        self.wf_nodes: list[dict] = []
        self.count = 0

    def run(self) -> None:
        n_sched = max(3, self.n // 45)
        n_wf = max(3, self.n // 80)
        self.make_schedules(n_sched)
        self.make_workflows(n_wf)
        rest = max(len(PHASES) + len(CHAOS_KINDS), self.n - self.count)
        self.make_standalone(rest)
        self.world.finish_pods()

    # standalone ------------------------------------------------------------------------------
    def make_standalone(self, n: int) -> None:
        rng = self.rng
        kinds = plan(rng, n, KIND_WEIGHTS, REQUIRED_KINDS + CHAOS_KINDS[len(REQUIRED_KINDS) :])
        phases = plan(rng, n, PHASE_WEIGHTS, PHASES)
        window_start = NOW - dt.timedelta(days=WINDOW_DAYS)
        for kind, phase in zip(kinds, phases):
            if kind == "AWSChaos" and phase != "finished":
                phase = "finished"
            missing = phase == "injecting" and rng.random() < 0.3
            nodaemon = phase == "injecting" and not missing
            try:
                d = self.builder.build(kind, phase, missing, nodaemon)
            except LookupError:  # e.g. BlockChaos without any hostPath volume in these namespaces
                d = self.builder.build("NetworkChaos", phase, missing, nodaemon)
            if phase == "finished":
                created = self.g.when(window_start, NOW - dt.timedelta(hours=12))
            elif phase == "running":
                created = NOW - dt.timedelta(seconds=rng.randint(60, 25 * 60))
            elif phase == "paused":
                created = NOW - dt.timedelta(seconds=rng.randint(600, 20 * 3600))
            elif phase == "injecting":
                created = NOW - dt.timedelta(seconds=rng.randint(60, 3 * 3600))
            else:
                created = NOW - dt.timedelta(seconds=rng.randint(3600, 3 * 86400))
            if phase in ("running", "paused", "injecting", "deleting"):
                pick = self._duration_for(d, phase, created)
            else:
                pick = "auto"
            name = self.g.unique(d.namespace, kebab(f"{d.app or d.team}-{d.action}"))
            labels = {"env": self.spec.env, "team": d.team}
            if rng.random() < 0.25:
                labels["gameday"] = (created.date()).isoformat()
            self.em.experiment(d, name, phase, created, labels=labels, duration=pick)
            self.count += 1

    def _duration_for(self, d: Draft, phase: str, created: dt.datetime):
        """A duration that has not run out yet at NOW (or none)."""
        if is_one_shot(d.kind, d.spec.get("action")):
            return None
        age = (NOW - created).total_seconds()
        fitting = [x for x in LONG_DURATIONS if parse_duration(x) > age + 60]
        if not fitting or self.rng.random() < 0.2:
            return None
        return self.rng.choice(fitting)

    # schedules ------------------------------------------------------------------------------
    def make_schedules(self, n: int) -> None:
        rng, g = self.rng, self.g
        for i in range(n):
            kind, cron, period, limit, child_dur, policy = SCHEDULES[i % len(SCHEDULES)]
            paused = i % len(SCHEDULES) == 3 or (i > len(SCHEDULES) and rng.random() < 0.1)
            d = self.builder.build(kind, "finished", False, False)
            if kind == "PodChaos":
                d.spec["action"] = "pod-kill"
                d.action = "pod-kill"
                d.spec.pop("containerNames", None)
                d.targets = [Target("/".join(t.id.split("/")[:2]), ".", t.pod) for t in d.targets]
            sched_name = kebab(f"{d.app or d.team}-{d.action}-schedule")
            if (d.namespace, sched_name) in g._names:
                sched_name = f"{sched_name}-{i}"
            g._names.add((d.namespace, sched_name))
            created = NOW - dt.timedelta(days=WINDOW_DAYS, seconds=rng.randint(0, 86400 * 3))
            spec_embed = {k: v for k, v in d.spec.items() if k != "duration"}
            if child_dur:
                spec_embed["duration"] = child_dur
            sched = {
                "apiVersion": API,
                "kind": "Schedule",
                "metadata": {
                    "creationTimestamp": ts(created),
                    "generation": 1,
                    "labels": {"env": self.spec.env, "team": d.team},
                    "name": sched_name,
                    "namespace": d.namespace,
                    "resourceVersion": g.rv(),
                    "uid": g.uid(),
                },
                "spec": {
                    "concurrencyPolicy": policy,
                    "historyLimit": limit,
                    "schedule": cron,
                    "startingDeadlineSeconds": None,
                    "type": kind,
                    EMBED_KEY[kind]: spec_embed,
                },
                "status": {},
            }
            if rng.random() < 0.5:
                sched["spec"]["startingDeadlineSeconds"] = 60
            else:
                del sched["spec"]["startingDeadlineSeconds"]
            end = NOW - dt.timedelta(seconds=10)
            pause_at = None
            if paused:
                pause_at = NOW - dt.timedelta(hours=rng.randint(2, 48))
                end = pause_at
                sched["metadata"]["annotations"] = {PAUSE_ANNOTATION: "true"}
            runs = schedule_runs(cron, period, created, end)
            kept = runs[-limit:]
            self.schedules.append(sched)
            self._children(sched, d, kept, runs, child_dur, paused, pause_at)

    def _children(self, sched, d: Draft, kept, runs, child_dur, paused, pause_at, controlled=None):
        g, rng = self.g, self.rng
        md = sched["metadata"]
        owner = owner_ref("Schedule", md["name"], md["uid"])
        active = []
        for run in runs:
            if run not in kept:
                continue
            child_name = g.unique(md["namespace"], md["name"])
            dur_s = parse_duration(child_dur) if child_dur else 0
            if paused:
                phase = "paused"
            elif d.kind == "PodChaos" or run + dt.timedelta(seconds=dur_s) < NOW:
                phase = "finished"
            else:
                phase = "running"
            obj = self.em.experiment(
                d,
                child_name,
                phase,
                run,
                labels={MANAGED_BY_LABEL: md["name"]},
                owner=owner,
                duration=child_dur,
                paused_by_schedule=paused,
            )
            self.count += 1
            self.em.event(
                sched,
                run,
                "schedule-cron",
                "Normal",
                "Spawned",
                f"Create new object: {child_name}",
                "schedule-spawn",
                {"name": child_name},
            )
            self.em.ev_updated(sched, run, "schedule-cron", "lastScheduleTime")
            active.append(
                {
                    "apiVersion": API,
                    "kind": d.kind,
                    "name": child_name,
                    "namespace": md["namespace"],
                    "resourceVersion": obj["metadata"]["resourceVersion"],
                    "uid": obj["metadata"]["uid"],
                }
            )
        active.sort(key=lambda a: a["name"])
        status = {}
        if active:
            status["active"] = active
        if runs:
            status["time"] = ts(runs[-1])
        else:
            status["time"] = None
        sched["status"] = status
        md["resourceVersion"] = g.rv()

    # workflows ------------------------------------------------------------------------------
    def make_workflows(self, n: int) -> None:
        spaces = [ns for ns, _, _ in self.world.namespaces if ns != "monitoring"] or [self.world.namespaces[0][0]]
        self.rng.shuffle(spaces)
        for i in range(n):
            shape = ("serial", "parallel")[i % 2]
            running = i % 3 != 2
            self._workflow(spaces[i % len(spaces)], shape, running, first=i == 0)

    def _template_specs(self, ns: str):
        b = self.builder
        out = {}
        for kind in ("NetworkChaos", "StressChaos", "PodChaos", "HTTPChaos"):
            for _ in range(10):
                d = b.build(kind, "running", False, False, ns)
                if d.namespace == ns and d.targets:
                    break
            if kind == "PodChaos":
                d.spec["action"] = "pod-failure"
            if kind == "NetworkChaos":
                d.spec.pop("target", None)
                d.spec.pop("externalTargets", None)
                d.targets = [t for t in d.targets if t.selector_key == "."]
            out[kind] = d
        return out

    def _workflow(self, ns: str, shape: str, running: bool, first: bool = False) -> None:
        g, rng = self.g, self.rng
        team = self.world.team[ns]
        drafts = self._template_specs(ns)
        wf_name = f"{ns}-gameday-{shape}"
        if (ns, wf_name) in g._names:
            wf_name = g.unique(ns, wf_name)
        g._names.add((ns, wf_name))
        net, stress, pod = drafts["NetworkChaos"], drafts["StressChaos"], drafts["PodChaos"]
        templates = []
        if shape == "serial":
            children = [
                "workflow-stress-chaos",
                "prefix-suspending",
                "workflow-network-chaos",
                "suffix-suspending",
                "workflow-pod-chaos",
            ]
            deadlines = {
                "workflow-stress-chaos": "10m",
                "prefix-suspending": "2m",
                "workflow-network-chaos": "15m",
                "suffix-suspending": "1m",
                "workflow-pod-chaos": "10m",
            }
            entry_deadline = "1h"
        else:
            children = ["workflow-stress-chaos", "workflow-network-chaos", "workflow-pod-chaos"]
            deadlines = {"workflow-stress-chaos": "20m", "workflow-network-chaos": "20m", "workflow-pod-chaos": "30m"}
            entry_deadline = "40m"
        templates.append(
            {
                "children": children,
                "deadline": entry_deadline,
                "name": "the-entry",
                "templateType": "Serial" if shape == "serial" else "Parallel",
            }
        )
        kinds = {
            "workflow-stress-chaos": ("StressChaos", stress),
            "workflow-network-chaos": ("NetworkChaos", net),
            "workflow-pod-chaos": ("Schedule", pod),
        }
        for c in children:
            if c.endswith("suspending"):
                templates.append({"deadline": deadlines[c], "name": c, "templateType": "Suspend"})
                continue
            kind, d = kinds[c]
            body = {k: v for k, v in d.spec.items() if k != "duration"}
            if kind == "Schedule":
                body = dict(body, action="pod-kill")
                body.pop("containerNames", None)
                templates.append(
                    {
                        "deadline": deadlines[c],
                        "name": c,
                        "templateType": "Schedule",
                        "schedule": {
                            "concurrencyPolicy": "Allow",
                            "historyLimit": 2,
                            "podChaos": body,
                            "schedule": "@every 5m",
                            "type": "PodChaos",
                        },
                    }
                )
            else:
                templates.append({"deadline": deadlines[c], EMBED_KEY[kind]: body, "name": c, "templateType": kind})
        # timeline
        dl = {c: parse_duration(deadlines[c]) for c in children}
        if shape == "serial":
            total = sum(dl.values())
            if running:
                # now falls inside one of the chaos steps
                k = rng.choice([0, 2] if first else [0, 2, 4])
                into = sum(dl[c] for c in children[:k]) + rng.uniform(0.2, 0.8) * dl[children[k]]
                start = NOW - dt.timedelta(seconds=int(into))
            else:
                start = self.g.when(NOW - dt.timedelta(days=WINDOW_DAYS - 1), NOW - dt.timedelta(hours=6))
        else:
            total = max(dl.values())
            if running:
                start = NOW - dt.timedelta(seconds=rng.randint(120, int(min(dl.values())) - 60))
            else:
                start = self.g.when(NOW - dt.timedelta(days=WINDOW_DAYS - 1), NOW - dt.timedelta(hours=6))
        created = start - dt.timedelta(seconds=1)
        wf = {
            "apiVersion": API,
            "kind": "Workflow",
            "metadata": {
                "creationTimestamp": ts(created),
                "generation": 1,
                "labels": {"env": self.spec.env, "team": team},
                "name": wf_name,
                "namespace": ns,
                "resourceVersion": g.rv(),
                "uid": g.uid(),
            },
            "spec": {"entry": "the-entry", "templates": templates},
            "status": {},
        }
        self.workflows.append(wf)
        tmpl = {t["name"]: t for t in templates}

        def node(template: str, parent: dict | None, t0: dt.datetime) -> dict:
            t = tmpl[template]
            name = g.unique(ns, template)
            owner = parent or wf
            spec = {"startTime": ts(t0), "templateName": template, "type": t["templateType"], "workflowName": wf_name}
            if "deadline" in t:
                spec["deadline"] = ts(t0 + dt.timedelta(seconds=parse_duration(t["deadline"])))
            if "children" in t:
                spec["children"] = list(t["children"])
            for k in EMBED_KEY.values():
                if k in t:
                    spec[k] = t[k]
            if "schedule" in t:
                spec["schedule"] = t["schedule"]
            n = {
                "apiVersion": API,
                "kind": "WorkflowNode",
                "metadata": {
                    "creationTimestamp": ts(t0),
                    "finalizers": ["foregroundDeletion"],
                    "generation": 1,
                    "labels": {CONTROLLED_BY_LABEL: owner["metadata"]["name"], WORKFLOW_LABEL: wf_name},
                    "name": name,
                    "namespace": ns,
                    "ownerReferences": [owner_ref(owner["kind"], owner["metadata"]["name"], owner["metadata"]["uid"])],
                    "resourceVersion": g.rv(),
                    "uid": g.uid(),
                },
                "spec": spec,
                "status": {},
            }
            self.wf_nodes.append(n)
            return n

        entry = node("the-entry", None, start)
        self.em.event(
            wf,
            start,
            "workflow-entry-reconciler",
            "Normal",
            "EntryCreated",
            f"entry node created, entry node {entry['metadata']['name']}",
            "entry-created",
            {"entry": entry["metadata"]["name"]},
        )
        finished_children, active_children = [], []
        t = start
        all_done = True
        for c in children:
            t0 = t if shape == "serial" else start
            end = t0 + dt.timedelta(seconds=dl[c])
            if shape == "serial" and t0 > NOW:
                break
            n = node(c, entry, t0)
            nname = n["metadata"]["name"]
            self.em.event(
                entry,
                t0,
                f"workflow-{shape}-node-reconciler",
                "Normal",
                "NodesCreated",
                f"child nodes created, {nname}",
                "nodes-created",
                {"child-nodes": json.dumps([nname])},
            )
            done = end <= NOW
            conds = []
            typ = tmpl[c]["templateType"]
            if typ != "Suspend":
                kind = typ if typ != "Schedule" else "Schedule"
                res_name = g.unique(ns, nname)
                n["status"]["chaosResource"] = {"apiGroup": "chaos-mesh.org", "kind": kind, "name": res_name}
                self.em.event(
                    n,
                    t0,
                    "workflow-chaos-node-reconciler",
                    "Normal",
                    "ChaosCRCreated",
                    f"chaos CR {res_name} created",
                    "chaos-custom-resource-created",
                    {"name": res_name, "kind": kind},
                )
                if done:
                    conds.append({"reason": "ChaosCRNotExists", "status": "False", "type": "ChaosInjected"})
                    self.em.event(
                        n,
                        end,
                        "workflow-chaos-node-reconciler",
                        "Normal",
                        "ChaosCRDeleted",
                        f"chaos CR {res_name} deleted",
                        "chaos-custom-resource-deleted",
                        {"name": res_name, "kind": kind},
                    )
                else:
                    conds.append({"reason": "ChaosCRCreated", "status": "True", "type": "ChaosInjected"})
                    self._workflow_child(n, typ, kinds[c][1], res_name, t0)
            if done:
                conds.append({"reason": "NodeDeadlineExceed", "status": "True", "type": "DeadlineExceed"})
                self.em.event(
                    n,
                    end,
                    "workflow-deadline-reconciler",
                    "Normal",
                    "NodeDeadlineExceed",
                    "deadline exceed",
                    "deadline-exceed",
                )
                finished_children.append({"name": nname})
            else:
                conds.append({"reason": "NodeDeadlineNotExceed", "status": "False", "type": "DeadlineExceed"})
                active_children.append({"name": nname})
                all_done = False
            n["status"]["conditions"] = conds
            n["metadata"]["resourceVersion"] = g.rv()
            t = end
            if shape == "serial" and not done:
                break
        if shape == "serial" and len(finished_children) < len(children) and not active_children:
            all_done = False
        est = {"conditions": [], "finishedChildren": finished_children}
        if active_children:
            est["activeChildren"] = active_children
        end_time = start + dt.timedelta(seconds=total)
        est["conditions"].append({"reason": "", "status": "True" if all_done else "False", "type": "Accomplished"})
        entry_deadline_at = start + dt.timedelta(seconds=parse_duration(entry_deadline))
        if all_done and entry_deadline_at < NOW:
            # the deadline reconciler marks an accomplished node's passed deadline as omitted
            est["conditions"].append({"reason": "NodeDeadlineOmitted", "status": "True", "type": "DeadlineExceed"})
        else:
            est["conditions"].append({"reason": "NodeDeadlineNotExceed", "status": "False", "type": "DeadlineExceed"})
        if all_done:
            self.em.event(
                entry,
                end_time,
                f"workflow-{shape}-node-reconciler",
                "Normal",
                "NodeAccomplished",
                "node accomplished",
                "node-accomplished",
            )
        entry["status"] = est
        entry["metadata"]["resourceVersion"] = g.rv()
        wst = {
            "conditions": [
                {"reason": "", "status": "True" if all_done else "False", "type": "Accomplished"},
                {"reason": "", "status": "True", "type": "Scheduled"},
            ],
            "entryNode": entry["metadata"]["name"],
            "startTime": ts(start),
        }
        if all_done:
            wst["endTime"] = ts(end_time)
            self.em.event(
                wf,
                end_time,
                "workflow-entry-reconciler",
                "Normal",
                "WorkflowAccomplished",
                "workflow accomplished",
                "workflow-accomplished",
            )
        wf["status"] = wst
        wf["metadata"]["resourceVersion"] = g.rv()

    def _workflow_child(self, n: dict, typ: str, d: Draft, res_name: str, t0: dt.datetime) -> None:
        nmd = n["metadata"]
        owner = owner_ref("WorkflowNode", nmd["name"], nmd["uid"])
        labels = {CONTROLLED_BY_LABEL: nmd["name"], WORKFLOW_LABEL: n["spec"]["workflowName"]}
        created = t0 + dt.timedelta(seconds=1)
        if typ != "Schedule":
            phase = "running" if self.rng.random() < 0.8 else "injecting"
            self.em.experiment(d, res_name, phase, created, labels=labels, owner=owner, duration=None)
            self.count += 1
            return
        body = n["spec"]["schedule"]
        sched = {
            "apiVersion": API,
            "kind": "Schedule",
            "metadata": {
                "creationTimestamp": ts(created),
                "generation": 1,
                "labels": labels,
                "name": res_name,
                "namespace": nmd["namespace"],
                "ownerReferences": [owner],
                "resourceVersion": self.g.rv(),
                "uid": self.g.uid(),
            },
            "spec": dict(body),
            "status": {},
        }
        self.schedules.append(sched)
        pd = Draft(
            "PodChaos",
            "pod-kill",
            d.namespace,
            d.team,
            dict(body["podChaos"]),
            [Target("/".join(t.id.split("/")[:2]), ".", t.pod) for t in d.targets],
        )
        runs = []
        t = created + dt.timedelta(minutes=5)
        while t <= NOW - dt.timedelta(seconds=10):
            runs.append(t)
            t += dt.timedelta(minutes=5)
        self._children(sched, pd, runs[-2:], runs, None, False, None)


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------


def _sort_key(obj: dict):
    md = obj["metadata"]
    return (md.get("namespace", ""), md["name"])


_ENCODE = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


def dump_list(path: Path, items: list[dict]) -> None:
    """Write ``items`` as kubectl's List document (keys sorted, as kubectl prints), one item per line."""
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write('{"apiVersion":"v1","items":[')
        sep = "\n"
        for it in items:
            fh.write(sep)
            fh.write(_ENCODE(it))
            sep = ",\n"
        fh.write(("\n" if items else "") + '],"kind":"List","metadata":{"resourceVersion":""}}\n')


def generate_cluster(out: Path, seed: int, index: int, experiments: int, namespaces: int, events: bool = True) -> dict:
    """Generate one cluster (``CLUSTERS[index]``) into ``out/<cluster>``; returns its counts."""
    spec = CLUSTERS[index]
    # Millions of small dicts and no reference cycles: the cyclic GC would only rescan them over
    # and over (it more than doubles the run time for 100,000 experiments).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _generate_cluster(out, seed, spec, experiments, namespaces, events)
    finally:
        if gc_was_enabled:
            gc.enable()


def _generate_cluster(out: Path, seed: int, spec: ClusterSpec, experiments: int, namespaces: int, events: bool) -> dict:
    cg = ClusterGen(seed, spec, experiments, namespaces)
    cg.em.with_events = events
    cg.run()
    cdir = out / spec.name
    cdir.mkdir(parents=True, exist_ok=True)
    w = cg.world
    files = {
        "nodes": sorted((n.obj for n in w.nodes), key=lambda o: o["metadata"]["name"]),
        "pods": sorted((p.obj for p in w.pods), key=_sort_key),
        "physicalmachines": sorted((m.obj for m in w.machines), key=_sort_key),
        "schedules": sorted(cg.schedules, key=_sort_key),
        "workflows": sorted(cg.workflows, key=_sort_key),
        "workflownodes": sorted(cg.wf_nodes, key=_sort_key),
        "events": sorted(
            cg.em.events, key=lambda e: (e["firstTimestamp"], e["metadata"]["namespace"], e["metadata"]["name"])
        ),
    }
    for kind in CHAOS_KINDS:
        files[RESOURCES[kind]] = sorted(cg.em.chaos[kind], key=_sort_key)
    counts: dict = {}
    reasons: dict[str, int] = {}
    for ev in files["events"]:
        reasons[ev["reason"]] = reasons.get(ev["reason"], 0) + 1
    counts["reasons"] = reasons
    for res, items in files.items():
        dump_list(cdir / f"{res}.json", items)
        counts[res] = len(items)
    phases = {p: 0 for p in PHASES}
    for p in cg.em.phase_of.values():
        phases[p] += 1
    counts["phases"] = phases
    return counts


def generate(
    out: Path,
    *,
    seed: int = DEFAULT_SEED,
    experiments: int = DEFAULT_EXPERIMENTS,
    namespaces: int = DEFAULT_NAMESPACES,
    readme: bool = True,
    jobs: int | None = None,
    events: bool = True,
) -> dict:
    """Generate the demo world into ``out``; returns counts per cluster and resource.

    Each cluster has its own RNG stream, so generating the clusters in parallel processes
    (``jobs`` > 1; by default when there are many experiments) gives the same bytes.
    """
    out.mkdir(parents=True, exist_ok=True)
    share = [experiments // len(CLUSTERS)] * len(CLUSTERS)
    share[0] += experiments - sum(share)
    if jobs is None:
        jobs = min(len(CLUSTERS), os.cpu_count() or 1) if experiments >= 5000 else 1
    args = [(out, seed, i, n, namespaces, events) for i, n in enumerate(share)]
    if jobs > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=jobs) as pool:
            results = list(pool.map(generate_cluster, *zip(*args)))
    else:
        results = [generate_cluster(*a) for a in args]
    summary = {spec.name: counts for spec, counts in zip(CLUSTERS, results)}
    if readme:
        (out / "README.md").write_text(render_readme(summary, seed, experiments, namespaces), encoding="utf-8")
    return summary


def render_readme(summary: dict, seed: int, experiments: int, namespaces: int) -> str:
    kinds = list(CHAOS_KINDS)
    one_shot = ", ".join(f"{kind} `{action}`" for kind, action in sorted(ONE_SHOT_ACTIONS))
    lines = [
        "# chaosql demo data",
        "",
        "A small, made-up but internally consistent world of two Kubernetes clusters running Chaos Mesh",
        f"{CHAOS_MESH_VERSION}. chaosql uses it when no cluster is configured (`--source demo`). Every file is",
        "what `kubectl get <resource> -A -o json` prints for that cluster.",
        "",
        f"- **Fixed now: `{NOW_TEXT}`.** Experiments are spread over the {WINDOW_DAYS} days before it. Phases",
        "  (running, finished, ...) are those of that instant and stay the same whenever they are",
        "  evaluated later; arithmetic against the wall clock (`now()`) sees a world frozen in time.",
        f"- Generated by `python scripts/gen_demo.py` (seed {seed}, {experiments} experiments,"
        f" {namespaces} application namespaces);",
        "  do not edit by hand. A test checks that the files are exactly what the script produces, and that",
        "  every chaos object validates against the Chaos Mesh CRD schemas.",
        "",
        "Try it:",
        "",
        "```sql",
        "-- how is each cluster's chaos doing right now?",
        "SELECT cluster, phase, count(*) AS n FROM experiments GROUP BY ALL ORDER BY ALL;",
        "",
        "-- which experiments are stuck injecting, on which target, and why?",
        "SELECT e.cluster, e.namespace, e.name, t.target_id, t.last_message",
        "FROM experiments e JOIN targets t",
        "  ON t.cluster = e.cluster AND t.namespace = e.namespace AND t.experiment = e.name",
        "WHERE e.phase = 'injecting' AND t.last_event_type = 'Failed';",
        "",
        "-- what did each team run in the last two weeks?",
        "SELECT labels['team'] AS team, kind, count(*) FROM experiments GROUP BY ALL ORDER BY ALL;",
        "```",
        "",
        "## Files",
        "",
        "`<cluster>/<resource>.json`, one per resource, named after the resource as kubectl knows it:",
        "",
        "| file | what |",
        "| --- | --- |",
        "| `podchaos.json`, `networkchaos.json`, ... (one per chaos kind) | chaos experiments, with `status` as the Chaos Mesh controllers write it |",
        "| `schedules.json` | Schedules; their children are experiments owned by them |",
        "| `workflows.json`, `workflownodes.json` | Workflows and the WorkflowNodes the workflow controller created |",
        "| `physicalmachines.json` | PhysicalMachine objects (chaosd servers, `spec.address`) |",
        "| `nodes.json`, `pods.json` | core/v1 Nodes and Pods (every record id resolves to one of these pods) |",
        "| `events.json` | core/v1 Events the Chaos Mesh controllers emitted about the objects above |",
        "",
        "## Clusters",
        "",
        "| cluster | region | nodes | pods | physical machines | chaos objects | schedules | workflows | workflow nodes | events |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for spec in CLUSTERS:
        c = summary[spec.name]
        total = sum(c[RESOURCES[k]] for k in kinds)
        lines.append(
            f"| `{spec.name}` | {spec.region} | {c['nodes']} | {c['pods']} | {c['physicalmachines']} | {total} |"
            f" {c['schedules']} | {c['workflows']} | {c['workflownodes']} | {c['events']} |"
        )
    lines += [
        "",
        "## Chaos objects by kind",
        "",
        "| kind | file | " + " | ".join(s.name for s in CLUSTERS) + " |",
        "| --- | --- |" + " --- |" * len(CLUSTERS),
    ]
    for k in kinds:
        lines.append(
            f"| {k} | `{RESOURCES[k]}.json` | "
            + " | ".join(str(summary[s.name][RESOURCES[k]]) for s in CLUSTERS)
            + " |"
        )
    lines += [
        "",
        "## Phases",
        "",
        "Derived the way Chaos Mesh derives them (`pkg/status.GetChaosStatus`), checked in this order:",
        "",
        "1. **deleting** - `metadata.deletionTimestamp` is set (the `chaos-mesh/records` finalizer holds the",
        "   object while a recovery keeps failing);",
        '2. **paused** - condition `Paused` is `True` (annotation `experiment.chaos-mesh.org/pause: "true"`);',
        "3. **finished** (`IsChaosFinished`) - one-shot actions, at least one record and every record",
        "   `Injected` (their `desiredPhase` stays `Run`); others: `desiredPhase` not `Run`, every record",
        "   `Not Injected` and `creationTimestamp + spec.duration` before now (never without a duration).",
        "   The one-shot actions: " + one_shot + ";",
        "4. **running** - conditions `Selected` and `AllInjected` are `True`;",
        "5. **injecting** - anything else: nothing selected yet (`Selected: False`) or a record whose",
        "   apply keeps failing.",
        "",
        "| phase | " + " | ".join(s.name for s in CLUSTERS) + " |",
        "| --- |" + " --- |" * len(CLUSTERS),
    ]
    for p in PHASES:
        lines.append(f"| {p} | " + " | ".join(str(summary[s.name]["phases"][p]) for s in CLUSTERS) + " |")
    all_reasons = sorted(
        {r for s in CLUSTERS for r in summary[s.name]["reasons"]},
        key=lambda r: (-sum(summary[s.name]["reasons"].get(r, 0) for s in CLUSTERS), r),
    )
    lines += [
        "",
        "## Events",
        "",
        "core/v1 Events about chaos objects, schedules, workflows and workflow nodes, with the reasons,",
        "messages, `source.component` and `chaos-mesh.org/*` annotations the Chaos Mesh recorder writes",
        "(`count` 1, `eventTime` null, `firstTimestamp` = `lastTimestamp`).",
        "",
        "| reason | " + " | ".join(s.name for s in CLUSTERS) + " |",
        "| --- |" + " --- |" * len(CLUSTERS),
    ]
    for reason in all_reasons:
        lines.append(
            f"| {reason} | " + " | ".join(str(summary[s.name]["reasons"].get(reason, 0)) for s in CLUSTERS) + " |"
        )
    lines += [
        "",
        "## Namespaces and teams",
        "",
        "Both clusters run the same applications (staging with fewer replicas). Experiments carry the labels",
        "`team` and `env`; children of a Schedule carry only `managed-by: <schedule>` and children of a",
        "Workflow only `chaos-mesh.org/controlled-by` and `chaos-mesh.org/workflow`, as Chaos Mesh sets them.",
        "",
        "| namespace | team | applications |",
        "| --- | --- | --- |",
    ]
    for ns, team, apps in namespace_catalog(namespaces):
        lines.append(f"| `{ns}` | {team} | " + ", ".join(a.name for a in apps) + " |")
    lines.append(
        "| `chaos-mesh` | sre | chaos-controller-manager, chaos-daemon, chaos-dashboard, chaos-dns-server;"
        " PhysicalMachines and PhysicalMachineChaos |"
    )
    lines += [
        "",
        "## Things worth knowing",
        "",
        "- Nodes in the `legacy` pool (label `pool=legacy`) run no chaos-daemon. Experiments that hit pods",
        "  there stay *injecting*: their records show `Failed`/`Apply` events with `cannot find daemonIP on",
        "  node ...`, and the same message appears as a `Failed` Kubernetes event. Other stuck",
        "  experiments (injecting, or deleting while a recovery keeps failing) say why the same way: a",
        "  chaos-daemon that times out, a chaosd server refusing connections, or RBAC forbidding the",
        "  controller to touch pods.",
        "- `targets` ids: `ns/pod` (pod-level kinds), `ns/pod/container` (container-level kinds),",
        "  `ns/pod/container//host/path` (BlockChaos), `chaos-mesh/<machine>` or the chaosd address",
        "  `http://10.x.1.y:31767` (PhysicalMachineChaos), the JSON of the AWS selector (AWSChaos).",
        "- A chaos WorkflowNode names its chaos object in `status.chaosResource`; once the node's deadline",
        "  has passed the workflow controller deletes that object, so only running workflows still have",
        "  chaos children.",
        "- Pods show what was done to them: a pod hit by pod-kill was recreated right after the kill",
        "  (its `creationTimestamp`; the demo keeps pod names stable so that record ids resolve), and",
        "  containers hit by container-kill show the restarts (`restartCount`, `lastState.terminated`).",
        "- Kubernetes normally drops events after an hour; the demo keeps the events of the whole two weeks.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"RNG seed (default {DEFAULT_SEED})")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory (default chaosql/demo)")
    p.add_argument(
        "--experiments",
        type=int,
        default=DEFAULT_EXPERIMENTS,
        help=f"chaos experiments in all clusters together (default {DEFAULT_EXPERIMENTS}); "
        "at least one of each kind and phase per cluster",
    )
    p.add_argument(
        "--namespaces",
        type=int,
        default=DEFAULT_NAMESPACES,
        help=f"application namespaces per cluster (default {DEFAULT_NAMESPACES})",
    )
    p.add_argument("--no-readme", action="store_true", help="do not write README.md")
    p.add_argument(
        "--no-events", action="store_true", help="write empty events.json files (every other file stays the same)"
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="clusters generated in parallel (default: all of them from 5,000 experiments on)",
    )
    p.add_argument("-q", "--quiet", action="store_true")
    a = p.parse_args(argv)
    if a.namespaces < 1 or a.experiments < 1:
        p.error("--experiments and --namespaces must be positive")
    started = time.perf_counter()
    summary = generate(
        a.out,
        seed=a.seed,
        experiments=a.experiments,
        namespaces=a.namespaces,
        readme=not a.no_readme,
        jobs=a.jobs,
        events=not a.no_events,
    )
    if not a.quiet:
        for cluster, c in summary.items():
            total = sum(c[RESOURCES[k]] for k in CHAOS_KINDS)
            print(
                f"{cluster}: {total} chaos objects, {c['schedules']} schedules, {c['workflows']} workflows, "
                f"{c['pods']} pods, {c['nodes']} nodes, {c['events']} events; phases {c['phases']}",
                file=sys.stderr,
            )
        print(f"wrote {a.out} in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
