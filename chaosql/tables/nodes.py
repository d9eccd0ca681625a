"""nodes: one row per machine chaos can run on: Kubernetes Nodes, PhysicalMachines, Chaosd nodes."""

from __future__ import annotations

from collections.abc import Iterator

from chaosql.sources.base import ListFilter
from chaosql.sources.chaosmesh import PHYSICAL_MACHINE
from chaosql.tables._chaosd import ChaosdFeed
from chaosql.tables._chaosd import node_rows as chaosd_node_rows
from chaosql.tables._common import ANNOTATIONS, CLUSTER, CREATED_AT, LABELS, NAME, NAMESPACE, UID, meta_values
from chaosql.tables._kube import KubeFeed
from chaosql.tables._table import Col, Row, RowContext, Table
from chaosql.tables.pods import CHAOS_DAEMON_LABEL

TYPES = {"Node": "kubernetes", PHYSICAL_MACHINE: "physical_machine"}

COLUMNS = [
    CLUSTER,
    Col("type", "VARCHAR", "kubernetes (a Node), physical_machine (a PhysicalMachine object) or chaosd.", key="kind"),
    NAME,
    NAMESPACE,
    UID,
    Col("address", "VARCHAR", "InternalIP of a Node; Chaosd address of a PhysicalMachine or Chaosd node."),
    Col("ready", "BOOLEAN", "Node condition Ready; Chaosd health check passed; NULL when unknown."),
    Col("chaos_daemon", "BOOLEAN", "Whether a chaos-daemon pod runs on this Node; NULL when not visible."),
    Col("chaos_daemon_pod", "VARCHAR", "namespace/name of that chaos-daemon pod."),
    Col("version", "VARCHAR", "kubelet version of a Node; Chaosd version of a Chaosd node."),
    Col("cpu", "VARCHAR", "CPU capacity (status.capacity.cpu)."),
    Col("memory", "VARCHAR", "Memory capacity (status.capacity.memory)."),
    Col("zone", "VARCHAR", "topology.kubernetes.io/zone label."),
    LABELS,
    ANNOTATIONS,
    CREATED_AT,
]


def node_rows(obj: dict, ctx: RowContext) -> Iterator[Row]:
    row = meta_values(obj, ctx.cluster)
    kind = obj.get("kind")
    row["type"] = TYPES.get(kind, kind) if kind is not None else None
    row["zone"] = row["labels"].get("topology.kubernetes.io/zone")
    if kind == PHYSICAL_MACHINE:
        row["address"] = (obj.get("spec") or {}).get("address")
        yield row
        return
    status = obj.get("status") or {}
    ready = next((c.get("status") for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
    daemons = _daemons_by_node(ctx)
    daemon = daemons.get(row["name"]) if daemons is not None else None
    row.update(
        address=next((a.get("address") for a in status.get("addresses") or [] if a.get("type") == "InternalIP"), None),
        ready=None if ready is None else ready == "True",
        chaos_daemon=None if daemons is None else daemon is not None,
        chaos_daemon_pod=daemon,
        version=(status.get("nodeInfo") or {}).get("kubeletVersion"),
        cpu=(status.get("capacity") or {}).get("cpu"),
        memory=(status.get("capacity") or {}).get("memory"),
    )
    yield row


def _daemons_by_node(ctx: RowContext) -> dict[str, str] | None:
    """node name -> chaos-daemon pod, built once per cluster; None when pods were not visible."""
    if "daemons" not in ctx.memo:
        pods = ctx.lookups.get("Pod")
        ctx.memo["daemons"] = (
            None
            if pods is None
            else {(p.get("spec") or {}).get("nodeName"): f"{ns}/{name}" for (ns, name), p in pods.items()}
        )
    return ctx.memo["daemons"]


TABLE = Table(
    "nodes",
    "One row per machine: Kubernetes Node, PhysicalMachine object, or Chaosd node.",
    COLUMNS,
    feeds=[
        KubeFeed(
            ("Node", PHYSICAL_MACHINE),
            node_rows,
            lookups=(("Pod", ListFilter(labels=((CHAOS_DAEMON_LABEL[0], frozenset({CHAOS_DAEMON_LABEL[1]})),))),),
            kind_values=TYPES,
            one_row_per_object=True,
        ),
        ChaosdFeed("nodes", chaosd_node_rows),
    ],
    examples=[
        (
            "Which nodes have no chaos-daemon, so experiments cannot reach their pods?",
            "SELECT cluster, name FROM nodes WHERE type = 'kubernetes' AND NOT chaos_daemon",
        ),
    ],
)
