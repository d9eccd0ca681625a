"""Columns and helpers shared by the tables, worded the same everywhere."""

from __future__ import annotations

import functools
import json
from typing import Any

from chaosql.sources.chaosmesh import go_duration
from chaosql.tables._table import Col

CLUSTER = Col(
    "cluster", "VARCHAR", "Configured source name of the cluster (or Chaosd node) the row comes from.", key="cluster"
)
NAMESPACE = Col("namespace", "VARCHAR", "Kubernetes namespace of the object.", key="namespace")
NAME = Col("name", "VARCHAR", "Object name (metadata.name).", key="name")
UID = Col("uid", "VARCHAR", "Object uid (metadata.uid).")
LABELS = Col("labels", "MAP(VARCHAR, VARCHAR)", "Object labels; filter with labels['key'] = 'value'.", key="labels")
ANNOTATIONS = Col("annotations", "MAP(VARCHAR, VARCHAR)", "Object annotations.")
CREATED_AT = Col("created_at", "TIMESTAMPTZ", "Creation time (metadata.creationTimestamp), UTC.")
ENGINE_COLUMN = Col(
    "engine",
    "VARCHAR",
    "Chaos engine the row comes from: chaos-mesh, litmus or chaosd; engine = '...' asks only that engine's feeds.",
    key="engine",
)


def meta_columns(namespaced: bool = True) -> list[Col]:
    """The shared metadata columns in their usual order."""
    cols = [CLUSTER]
    if namespaced:
        cols.append(NAMESPACE)
    return cols + [NAME, UID, LABELS, ANNOTATIONS, CREATED_AT]


def meta_values(obj: dict, cluster: str) -> dict[str, Any]:
    """Row values of the shared metadata columns of ``obj``."""
    meta = obj.get("metadata") or {}
    return {
        "cluster": cluster,
        "namespace": meta.get("namespace"),
        "name": meta.get("name"),
        "uid": meta.get("uid"),
        "labels": meta.get("labels") or {},
        "annotations": meta.get("annotations") or {},
        "created_at": meta.get("creationTimestamp"),
    }


def to_json(value: Any) -> str | None:
    """Compact JSON text for a JSON column (``None`` stays SQL NULL)."""
    if value is None:
        return None
    return json.dumps(value, separators=(",", ":"), sort_keys=False)


def duration_seconds(text: str | None) -> float | None:
    """Seconds in a Go duration string as Chaos Mesh reads them; ``None`` when absent or invalid.

    >>> duration_seconds("1h30m"), duration_seconds("90s"), duration_seconds(None), duration_seconds("x")
    (5400.0, 90.0, None, None)
    """
    if not text:
        return None
    return _seconds(text if isinstance(text, str) else str(text))


@functools.lru_cache(maxsize=1024)
def _seconds(text: str) -> float | None:
    # remembered: every row of an experiment parses its duration (and its phase parses it again),
    # and a cluster's experiments share a few durations ("30s", "5m")
    try:
        return go_duration(text)
    except ValueError:
        return None


def owner(obj: dict, kind: str) -> str | None:
    """Name of the first owner of ``kind`` in metadata.ownerReferences."""
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("kind") == kind:
            return ref.get("name")
    return None


def condition(obj: dict, ctype: str) -> bool:
    """Whether status.conditions has ``ctype`` with status "True"."""
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == ctype:
            return cond.get("status") == "True"
    return False
