"""schedules: one row per Chaos Mesh Schedule (a cron that creates experiments)."""

from __future__ import annotations

from collections.abc import Iterator

from chaosql.sources.chaosmesh import PAUSE_ANNOTATION, SCHEDULE
from chaosql.tables._common import meta_columns, meta_values, to_json
from chaosql.tables._kube import KubeFeed
from chaosql.tables._table import Col, Row, RowContext, Table

COLUMNS = meta_columns() + [
    Col("type", "VARCHAR", "spec.type: the kind it creates, e.g. PodChaos, or Workflow."),
    Col("schedule", "VARCHAR", "spec.schedule: the cron expression, e.g. @every 5m."),
    Col("concurrency_policy", "VARCHAR", "spec.concurrencyPolicy: Forbid or Allow."),
    Col("history_limit", "BIGINT", "spec.historyLimit: how many finished children are kept."),
    Col("paused", "BOOLEAN", f'Whether the {PAUSE_ANNOTATION} annotation is "true".'),
    Col("active_count", "BIGINT", "Number of children listed in status.active."),
    Col("last_scheduled_at", "TIMESTAMPTZ", "status.time: when it last created a child."),
    Col("spec", "JSON", "The whole spec."),
    Col("status", "JSON", "The whole status."),
]


def schedule_rows(obj: dict, ctx: RowContext) -> Iterator[Row]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    row = meta_values(obj, ctx.cluster)
    row.update(
        type=spec.get("type"),
        schedule=spec.get("schedule"),
        concurrency_policy=spec.get("concurrencyPolicy"),
        history_limit=spec.get("historyLimit"),
        paused=row["annotations"].get(PAUSE_ANNOTATION) == "true",
        active_count=len(status.get("active") or []),
        last_scheduled_at=status.get("time"),
        spec=to_json(spec) if ctx.wants("spec") else None,
        status=to_json(status) if ctx.wants("status") else None,
    )
    yield row


TABLE = Table(
    "schedules",
    "One row per Chaos Mesh Schedule.",
    COLUMNS,
    feeds=[KubeFeed((SCHEDULE,), schedule_rows, one_row_per_object=True)],
    examples=[
        ("Which schedules are paused?", "SELECT cluster, namespace, name, schedule FROM schedules WHERE paused"),
    ],
)
