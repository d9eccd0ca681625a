"""pods: one row per Kubernetes Pod, so targets can be joined with what they hit."""

from __future__ import annotations

from collections.abc import Iterator

from chaosql.tables._common import meta_columns, meta_values
from chaosql.tables._kube import KubeFeed
from chaosql.tables._table import Col, Row, RowContext, Table

CHAOS_DAEMON_LABEL = ("app.kubernetes.io/component", "chaos-daemon")

COLUMNS = meta_columns() + [
    Col("node", "VARCHAR", "Node the pod is scheduled on (spec.nodeName).", key="field:spec.nodeName"),
    Col("pod_ip", "VARCHAR", "status.podIP."),
    Col("phase", "VARCHAR", "status.phase: Pending, Running, Succeeded, Failed, Unknown.", key="field:status.phase"),
    Col("containers", "VARCHAR[]", "Names of the pod's containers."),
    Col("chaos_daemon", "BOOLEAN", "Whether this pod is a Chaos Mesh chaos-daemon."),
]


def pod_rows(obj: dict, ctx: RowContext) -> Iterator[Row]:
    row = meta_values(obj, ctx.cluster)
    spec = obj.get("spec") or {}
    row.update(
        node=spec.get("nodeName"),
        pod_ip=(obj.get("status") or {}).get("podIP"),
        phase=(obj.get("status") or {}).get("phase"),
        containers=[c.get("name") for c in spec.get("containers") or []],
        chaos_daemon=is_chaos_daemon(obj),
    )
    yield row


def is_chaos_daemon(pod: dict) -> bool:
    key, value = CHAOS_DAEMON_LABEL
    return ((pod.get("metadata") or {}).get("labels") or {}).get(key) == value


TABLE = Table(
    "pods",
    "One row per Kubernetes Pod (what chaos experiments target).",
    COLUMNS,
    feeds=[KubeFeed(("Pod",), pod_rows, one_row_per_object=True)],
    examples=[
        (
            "Which pods were hit most often?",
            "SELECT p.namespace, p.name, count(*) AS hits FROM targets t JOIN pods p "
            "ON p.cluster = t.cluster AND p.namespace = t.target_namespace AND p.name = t.pod GROUP BY ALL ORDER BY hits DESC LIMIT 10",
        ),
    ],
)
