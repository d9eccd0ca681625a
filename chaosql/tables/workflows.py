"""workflows: one row per Chaos Mesh Workflow."""

from __future__ import annotations

from collections.abc import Iterator

from chaosql.sources.chaosmesh import WORKFLOW
from chaosql.tables._common import condition, meta_columns, meta_values, to_json
from chaosql.tables._kube import KubeFeed
from chaosql.tables._table import Col, Row, RowContext, Table

COLUMNS = meta_columns() + [
    Col("entry", "VARCHAR", "spec.entry: the template the workflow starts from."),
    Col("template_count", "BIGINT", "Number of templates in spec.templates."),
    Col("state", "VARCHAR", "aborted (condition Aborted), accomplished (condition Accomplished) or running."),
    Col("started_at", "TIMESTAMPTZ", "status.startTime."),
    Col("ended_at", "TIMESTAMPTZ", "status.endTime."),
    Col("spec", "JSON", "The whole spec."),
    Col("status", "JSON", "The whole status."),
]


def workflow_rows(obj: dict, ctx: RowContext) -> Iterator[Row]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    row = meta_values(obj, ctx.cluster)
    row.update(
        entry=spec.get("entry"),
        template_count=len(spec.get("templates") or []),
        state=workflow_state(obj),
        started_at=status.get("startTime"),
        ended_at=status.get("endTime"),
        spec=to_json(spec) if ctx.wants("spec") else None,
        status=to_json(status) if ctx.wants("status") else None,
    )
    yield row


def workflow_state(obj: dict) -> str:
    """Chaos Mesh's workflow conditions, first match wins: Aborted, Accomplished, else running."""
    if condition(obj, "Aborted"):
        return "aborted"
    if condition(obj, "Accomplished"):
        return "accomplished"
    return "running"


TABLE = Table(
    "workflows",
    "One row per Chaos Mesh Workflow.",
    COLUMNS,
    feeds=[KubeFeed((WORKFLOW,), workflow_rows, one_row_per_object=True)],
    examples=[
        (
            "Which workflows are still running?",
            "SELECT namespace, name, started_at FROM workflows WHERE state = 'running'",
        )
    ],
)
