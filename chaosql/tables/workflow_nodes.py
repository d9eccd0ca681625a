"""workflow_nodes: one row per WorkflowNode, the run of one template of a Workflow."""

from __future__ import annotations

from collections.abc import Iterator

from chaosql.sources.chaosmesh import WORKFLOW_NODE
from chaosql.tables._common import condition, meta_columns, meta_values, owner, to_json
from chaosql.tables._kube import KubeFeed
from chaosql.tables._table import Col, Row, RowContext, Table

COLUMNS = meta_columns() + [
    Col("workflow", "VARCHAR", "spec.workflowName: the Workflow this node belongs to; join with workflows.name."),
    Col("template", "VARCHAR", "spec.templateName."),
    Col("type", "VARCHAR", "spec.type: Serial, Parallel, Suspend, Task, or a chaos kind."),
    Col("parent", "VARCHAR", "Parent WorkflowNode (ownerReference), NULL for the entry node."),
    Col("started_at", "TIMESTAMPTZ", "spec.startTime."),
    Col("deadline", "TIMESTAMPTZ", "spec.deadline: when the node is cut short."),
    Col("accomplished", "BOOLEAN", "Condition Accomplished."),
    Col("deadline_exceeded", "BOOLEAN", "Condition DeadlineExceed."),
    Col("chaos_resource", "VARCHAR", "Name of the chaos object this node created (status.chaosResource)."),
    Col("spec", "JSON", "The whole spec."),
    Col("status", "JSON", "The whole status."),
]


def workflow_node_rows(obj: dict, ctx: RowContext) -> Iterator[Row]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    row = meta_values(obj, ctx.cluster)
    resource = status.get("chaosResource") or {}
    row.update(
        workflow=spec.get("workflowName"),
        template=spec.get("templateName"),
        type=spec.get("type"),
        parent=owner(obj, WORKFLOW_NODE),
        started_at=spec.get("startTime"),
        deadline=spec.get("deadline"),
        accomplished=condition(obj, "Accomplished"),
        deadline_exceeded=condition(obj, "DeadlineExceed"),
        chaos_resource=resource.get("name") if isinstance(resource, dict) else None,
        spec=to_json(spec) if ctx.wants("spec") else None,
        status=to_json(status) if ctx.wants("status") else None,
    )
    yield row


TABLE = Table(
    "workflow_nodes",
    "One row per WorkflowNode: one step (template run) of a Workflow.",
    COLUMNS,
    feeds=[KubeFeed((WORKFLOW_NODE,), workflow_node_rows, one_row_per_object=True)],
    examples=[
        (
            "Which workflow steps missed their deadline?",
            "SELECT workflow, template, type FROM workflow_nodes WHERE deadline_exceeded",
        )
    ],
)
