"""events: one row per Kubernetes Event about a chaos engine's object (Chaos Mesh's, LitmusChaos's
and each Chaosd run)."""

from __future__ import annotations

from collections.abc import Iterator

from chaosql.sources.chaosmesh import API_GROUP
from chaosql.sources.groups import ApiGroup
from chaosql.tables._chaosd import ChaosdFeed, run_rows
from chaosql.tables._common import CLUSTER, CREATED_AT, ENGINE_COLUMN, NAMESPACE, UID
from chaosql.tables._kube import KubeFeed
from chaosql.tables._table import Col, Row, RowContext, Table

COLUMNS = [
    CLUSTER,
    NAMESPACE,
    Col("name", "VARCHAR", "Event object name."),
    UID,
    Col(
        "object_kind",
        "VARCHAR",
        "Kind of the chaos object the event is about (involvedObject.kind), e.g. PodChaos, ChaosEngine.",
        key="field:involvedObject.kind",
    ),
    Col("object_name", "VARCHAR", "Name of that object; join with experiments.name.", key="field:involvedObject.name"),
    Col("object_uid", "VARCHAR", "uid of that object; join with experiments.uid."),
    Col(
        "reason",
        "VARCHAR",
        "The controller's reason, e.g. Started, Applied, Recovered, Failed, Paused, TimeUp "
        "(LitmusChaos: ChaosEngineInitialized, PreChaosCheck, ChaosInject, Summary, ...).",
        key="field:reason",
    ),
    Col("type", "VARCHAR", "Normal or Warning.", key="field:type"),
    Col("message", "VARCHAR", "Event message."),
    Col("count", "BIGINT", "How many times the event occurred."),
    Col("first_at", "TIMESTAMPTZ", "First occurrence (firstTimestamp, else eventTime)."),
    Col("last_at", "TIMESTAMPTZ", "Last occurrence (lastTimestamp, else eventTime); the event's time.", key="range"),
    Col("component", "VARCHAR", "Component that reported it (source.component / reportingComponent)."),
    CREATED_AT,
    ENGINE_COLUMN,
]


def event_feed(group: ApiGroup, *, requires: tuple[str, ...] = ()) -> KubeFeed:
    """The Events about one chaos engine's objects (those of API group ``group``), as rows: one
    list call per cluster with ``involvedObject.apiVersion`` as a field selector. ``requires``:
    list only in clusters that serve one of these kinds (where the engine is installed)."""

    def rows(obj: dict, ctx: RowContext) -> Iterator[Row]:
        involved = obj.get("involvedObject") or {}
        if str(involved.get("apiVersion") or "").startswith(prefix):  # snapshots hold every Event
            yield event_row(obj, ctx, group.engine)

    prefix = group.group + "/"
    return KubeFeed(
        ("Event",),
        rows,
        fixed_fields=(("involvedObject.apiVersion", group.api_version),),
        requires=requires,
        covers={"engine": frozenset({group.engine})},
    )


def event_row(obj: dict, ctx: RowContext, engine: str) -> Row:
    involved = obj.get("involvedObject") or {}
    meta = obj.get("metadata") or {}
    event_time = obj.get("eventTime")
    return {
        "cluster": ctx.cluster,
        "engine": engine,
        "namespace": meta.get("namespace"),
        "name": meta.get("name"),
        "uid": meta.get("uid"),
        "object_kind": involved.get("kind"),
        "object_name": involved.get("name"),
        "object_uid": involved.get("uid"),
        "reason": obj.get("reason"),
        "type": obj.get("type"),
        "message": obj.get("message"),
        "count": obj.get("count") or 1,
        "first_at": obj.get("firstTimestamp") or event_time,
        "last_at": obj.get("lastTimestamp") or event_time or obj.get("firstTimestamp"),
        "component": (obj.get("source") or {}).get("component") or obj.get("reportingComponent"),
        "created_at": meta.get("creationTimestamp"),
    }


TABLE = Table(
    "events",
    "One row per Kubernetes Event about a chaos object, Chaos Mesh's or LitmusChaos's (Chaosd: per run of a "
    "scheduled attack).",
    COLUMNS,
    feeds=[
        event_feed(API_GROUP),
        ChaosdFeed("runs", run_rows),
    ],
    examples=[
        (
            "Which experiments failed to inject in the last day?",
            "SELECT object_kind, object_name, message FROM events WHERE reason = 'Failed' AND last_at > now() - INTERVAL 1 DAY",
        ),
    ],
)
