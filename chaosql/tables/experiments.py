"""experiments: one row per Chaos Mesh experiment object of any kind (and each Chaosd experiment).

LitmusChaos's runs come in through the ``chaosql.litmus`` plugin's feed (``register_feeds``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from chaosql.sources import chaosmesh
from chaosql.sources.chaosmesh import ENGINE, PAUSE_ANNOTATION, WORKFLOW_LABEL
from chaosql.tables._chaosd import ChaosdFeed
from chaosql.tables._chaosd import experiment_rows as chaosd_experiment_rows
from chaosql.tables._common import (
    ANNOTATIONS,
    CLUSTER,
    CREATED_AT,
    ENGINE_COLUMN,
    LABELS,
    NAME,
    NAMESPACE,
    UID,
    duration_seconds,
    meta_values,
    owner,
    to_json,
)
from chaosql.tables._kube import EXPERIMENT_KINDS, KubeFeed
from chaosql.tables._table import Col, Row, RowContext, Table

#: The columns as Chaos Mesh's objects fill them (the typed per-kind tables take these).
CHAOS_MESH_COLUMNS = [
    CLUSTER,
    Col("source", "VARCHAR", "Where the row comes from: kube, snapshot or chaosd.", key="source"),
    NAMESPACE,
    NAME,
    Col("kind", "VARCHAR", "Chaos kind, e.g. PodChaos, NetworkChaos (Chaosd: the attack kind).", key="kind"),
    UID,
    Col("action", "VARCHAR", "spec.action, e.g. pod-kill, delay, partition."),
    Col("mode", "VARCHAR", "spec.mode: one, all, fixed, fixed-percent, random-max-percent."),
    Col("value", "VARCHAR", "spec.value: how many or what percent of targets the mode picks."),
    Col("selector", "JSON", "spec.selector: which pods or machines the experiment targets."),
    Col("duration", "VARCHAR", "spec.duration as written (Go duration, e.g. 30s, 5m)."),
    Col("duration_seconds", "DOUBLE", "spec.duration in seconds; NULL when the experiment runs until deleted."),
    Col("paused", "BOOLEAN", f'Whether the {PAUSE_ANNOTATION} annotation is "true".'),
    Col("desired_phase", "VARCHAR", "status.experiment.desiredPhase: Run or Stop."),
    Col(
        "phase",
        "VARCHAR",
        "Derived as Chaos Mesh's GetChaosStatus does: deleting, paused, finished, running or injecting.",
    ),
    CREATED_AT,
    Col("deleted_at", "TIMESTAMPTZ", "metadata.deletionTimestamp: when deletion (recovery) was requested."),
    Col("ends_at", "TIMESTAMPTZ", "created_at + duration; NULL when there is no duration."),
    Col("target_count", "BIGINT", "Number of injection records (rows in targets)."),
    Col("injected_count", "BIGINT", "Sum of injectedCount over the records."),
    Col("recovered_count", "BIGINT", "Sum of recoveredCount over the records."),
    Col("schedule", "VARCHAR", "Name of the Schedule that created this experiment, if any."),
    Col("workflow", "VARCHAR", "Name of the Workflow that created this experiment, if any."),
    Col("node", "VARCHAR", "Chaosd node (address) for Chaosd experiments; NULL for Kubernetes ones."),
    LABELS,
    ANNOTATIONS,
    Col("spec", "JSON", "The whole spec."),
    Col("status", "JSON", "The whole status."),
]
#: What a column holds for a LitmusChaos run (``chaosql.litmus``; docs/litmus.md), told in its doc.
LITMUS_NOTES = {
    "kind": "ChaosEngine",
    "action": "the experiment, e.g. pod-delete",
    "selector": "spec.appinfo and spec.selectors",
    "duration": "TOTAL_CHAOS_DURATION, e.g. 60s",
    "paused": "a stop was asked for (engineState stop)",
    "desired_phase": "engineState active or stop, as Run or Stop",
    "phase": "its run mapped onto these, or failed",
    "ends_at": "NULL",
    "target_count": "the targets its ChaosResult lists",
    "spec": "the ChaosEngine's",
    "status": "the ChaosEngine's",
}
COLUMNS = [
    replace(c, doc=f"{c.doc.rstrip('.')} (LitmusChaos: {LITMUS_NOTES[c.name]}).") if c.name in LITMUS_NOTES else c
    for c in CHAOS_MESH_COLUMNS
] + [
    ENGINE_COLUMN,
    Col(
        "verdict",
        "VARCHAR",
        "LitmusChaos: the run's verdict, Pass, Fail, Stopped, Awaited or Error (its ChaosResult); "
        "NULL for the other engines.",
    ),
]


def experiment_rows(obj: dict, ctx: RowContext) -> Iterator[Row]:
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    meta = obj.get("metadata") or {}
    records = (status.get("experiment") or {}).get("containerRecords") or []
    row = meta_values(obj, ctx.cluster)
    seconds = duration_seconds(spec.get("duration"))
    ends = _ends_at(meta.get("creationTimestamp"), seconds)
    ctx.changes_at(_to_come(ends))  # phase_changes_at(obj), from the end worked out once
    row.update(
        source=ctx.family,
        engine=ENGINE,
        kind=obj.get("kind"),
        action=spec.get("action"),
        mode=spec.get("mode"),
        value=None if spec.get("value") is None else str(spec.get("value")),
        selector=to_json(spec.get("selector")) if ctx.wants("selector") else None,
        duration=spec.get("duration"),
        duration_seconds=seconds,
        paused=(meta.get("annotations") or {}).get(PAUSE_ANNOTATION) == "true",
        desired_phase=(status.get("experiment") or {}).get("desiredPhase"),
        phase=experiment_phase(obj),
        deleted_at=meta.get("deletionTimestamp"),
        ends_at=ends,
        target_count=len(records),
        injected_count=sum(r.get("injectedCount") or 0 for r in records),
        recovered_count=sum(r.get("recoveredCount") or 0 for r in records),
        schedule=owner(obj, "Schedule"),
        workflow=_workflow(obj, ctx),
        spec=to_json(spec) if ctx.wants("spec") else None,
        status=to_json(status) if ctx.wants("status") else None,
    )
    yield row


def _workflow(obj: dict, ctx: RowContext) -> str | None:
    """The Workflow behind an experiment: its own label (children of a WorkflowNode carry it), or
    the label of the Schedule that spawned it (a workflow's Schedule node labels the Schedule only)."""
    meta = obj.get("metadata") or {}
    workflow = (meta.get("labels") or {}).get(WORKFLOW_LABEL)
    schedule = owner(obj, "Schedule")
    if workflow is None and schedule:
        parent = ctx.lookup("Schedule", meta.get("namespace") or "", schedule) or {}
        workflow = ((parent.get("metadata") or {}).get("labels") or {}).get(WORKFLOW_LABEL)
    return workflow


def experiment_phase(obj: dict, now: datetime | None = None) -> str:
    """The experiment's status as Chaos Mesh derives it (``chaosql.sources.chaosmesh.status``:
    deleting → paused → finished → running → injecting, one-shot actions and the edge cases
    explained there)."""
    return chaosmesh.status(obj, now)


def phase_changes_at(obj: dict, now: datetime | None = None) -> datetime | None:
    """When ``experiment_phase`` may change with no change to the object: the end of its duration,
    if that is still to come (the only clock the derivation reads). The end itself counts as to
    come: Chaos Mesh calls a duration run out only once the end is past (Go's ``Before``)."""
    meta = obj.get("metadata") or {}
    end = _ends_at(meta.get("creationTimestamp"), duration_seconds((obj.get("spec") or {}).get("duration")))
    return _to_come(end, now)


def _to_come(end: datetime | None, now: datetime | None = None) -> datetime | None:
    return end if end is not None and end >= (now or datetime.now(UTC)) else None


def _ends_at(created: str | None, seconds: float | None) -> datetime | None:
    if not created or seconds is None:
        return None
    return _parse_time(created) + timedelta(seconds=seconds)


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


TABLE = Table(
    "experiments",
    "One row per chaos experiment: every Chaos Mesh experiment kind, each run of a LitmusChaos ChaosEngine, "
    "and each Chaosd experiment.",
    COLUMNS,
    feeds=[
        KubeFeed(
            EXPERIMENT_KINDS,
            experiment_rows,
            on_demand=("Schedule",),
            one_row_per_object=True,
            covers={"engine": frozenset({ENGINE})},
        ),
        ChaosdFeed("experiments", chaosd_experiment_rows),
    ],
    examples=[
        (
            "Which experiments are injecting or running right now?",
            "SELECT cluster, namespace, kind, name, phase FROM experiments WHERE phase IN ('injecting', 'running')",
        ),
        (
            "How many experiments of each kind ran per cluster?",
            "SELECT cluster, kind, count(*) AS n FROM experiments GROUP BY ALL ORDER BY n DESC",
        ),
    ],
)
