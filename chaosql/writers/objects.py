"""Rows to Chaos Mesh objects: an INSERT row becomes a manifest, an UPDATE's SET becomes a merge patch.

Which columns of each table can be written is declared here (``WRITABLE``), with the spec field a
convenience column stands for (``experiments.action`` is ``spec.action``). Everything else a table
shows is computed by Chaos Mesh or the API server (uid, phase, status, ...) and is refused by name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from chaosql.errors import WriteRefused
from chaosql.sources.chaosmesh import API_VERSION, PAUSE_ANNOTATION, SCHEDULE, WORKFLOW, is_experiment_kind


@dataclass(frozen=True)
class TableWrites:
    """What a writable table accepts: its kind (None: the row's ``kind`` column), the columns that
    map to spec fields, and whether the spec may change after creation."""

    kind: str | None
    spec_columns: dict[str, str]  # column -> spec field
    spec_updatable: bool
    pausable: bool

    def columns(self) -> list[str]:
        base = ["cluster", "namespace", "name", "labels", "annotations", "spec"]
        # experiments.source may be given ('kube' or 'snapshot' here; 'chaosd' rows go to writers.chaosd)
        kind = ["kind", "source"] if self.kind is None else []
        return base + kind + (["paused"] if self.pausable else []) + list(self.spec_columns)


WRITABLE: dict[str, TableWrites] = {
    "experiments": TableWrites(
        None,
        {"action": "action", "mode": "mode", "value": "value", "selector": "selector", "duration": "duration"},
        spec_updatable=False,
        pausable=True,
    ),
    "schedules": TableWrites(
        SCHEDULE,
        {
            "type": "type",
            "schedule": "schedule",
            "concurrency_policy": "concurrencyPolicy",
            "history_limit": "historyLimit",
        },
        spec_updatable=True,
        pausable=True,
    ),
    "workflows": TableWrites(WORKFLOW, {"entry": "entry"}, spec_updatable=True, pausable=False),
}

#: Chaos Mesh's admission webhook refuses every spec change of an experiment kind with this reason.
WEBHOOK_REASON = "Cannot update chaos spec"


def writes_of(table: str) -> TableWrites:
    if table not in WRITABLE:
        raise WriteRefused(
            f"{table} is read-only: chaosql writes experiments, schedules and workflows",
            hint="change the chaos object the rows come from instead",
        )
    return WRITABLE[table]


def check_columns(table: str, columns: list[str], all_columns: list[str], verb: str) -> None:
    """Refuse columns that are not the table's, or that Chaos Mesh computes."""
    writes = writes_of(table)
    allowed = writes.columns()
    for col in columns:
        if col not in all_columns:
            raise WriteRefused(f"{table} has no column {col}", hint="writable columns: " + ", ".join(allowed))
        if col not in allowed:
            raise WriteRefused(
                f"{table}.{col} is computed by Chaos Mesh or the API server; {verb} cannot set it",
                hint="writable columns: " + ", ".join(allowed),
            )


def manifest(table: str, row: dict[str, Any], where: str) -> dict:
    """The object an INSERT row creates. ``where`` names the row in messages ("row 2")."""
    writes = writes_of(table)
    kind = writes.kind or row.get("kind")
    if row.get("source") not in (None, "kube", "snapshot"):
        raise WriteRefused(
            f"{table}: {where}: source {row['source']!r} cannot be written here",
            hint="source is kube or snapshot (the cluster decides which), or chaosd for Chaosd attacks",
        )
    name, namespace = row.get("name"), row.get("namespace")
    for col, value in (("name", name), ("namespace", namespace), ("kind", kind)):
        if not value:
            raise WriteRefused(
                f"{table}: {where}: {col} is required",
                hint="every new object needs a namespace, a name"
                + (" and a kind (e.g. PodChaos)" if writes.kind is None else ""),
            )
    if writes.kind is None and not is_experiment_kind(str(kind)):
        raise WriteRefused(
            f"{table}: {where}: {kind!r} is not a Chaos Mesh experiment kind",
            hint="e.g. PodChaos, NetworkChaos, StressChaos; schedules and workflows have their own tables",
        )
    spec = json_value(row.get("spec"), f"{table}: {where}: spec") or {}
    if not isinstance(spec, dict):
        raise WriteRefused(f"{table}: {where}: spec must be a JSON object, not {type(spec).__name__}")
    for col, field_name in writes.spec_columns.items():
        value = row.get(col)
        if value is None:
            continue
        if col == "selector":
            value = json_value(value, f"{table}: {where}: selector")
        elif col == "value":
            value = str(value)
        spec[field_name] = value
    meta: dict[str, Any] = {"name": str(name), "namespace": str(namespace)}
    labels = mapping(row.get("labels"), f"{table}: {where}: labels")
    annotations = mapping(row.get("annotations"), f"{table}: {where}: annotations")
    if row.get("paused"):
        annotations[PAUSE_ANNOTATION] = "true"
    if labels:
        meta["labels"] = labels
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": API_VERSION, "kind": str(kind), "metadata": meta, "spec": spec}


def check_sets(table: str, columns: list[str]) -> None:
    """Refuse SETs Chaos Mesh would refuse, before any row is read."""
    writes = writes_of(table)
    spec_sets = [c for c in columns if c == "spec" or c in writes.spec_columns]
    if spec_sets and not writes.spec_updatable:
        raise WriteRefused(
            f'{table}: spec cannot change after creation (Chaos Mesh webhook: "{WEBHOOK_REASON}"; '
            f"SET {', '.join(spec_sets)})",
            hint="use DELETE, then INSERT",
        )
    for col in ("cluster", "namespace", "name", "kind"):
        if col in columns:
            raise WriteRefused(
                f"{table}: {col} cannot change (it names the object)",
                hint="INSERT a copy under the new name, then DELETE the old one",
            )


def update_patch(table: str, obj: dict, sets: dict[str, Any]) -> tuple[dict, str]:
    """The merge patch that applies ``sets`` (column -> new value) to ``obj``, and a summary.

    Values that equal the object's are left out, so an UPDATE that changes nothing sends nothing
    but the precondition. Spec changes of experiment kinds are refused as Chaos Mesh does.
    """
    writes = writes_of(table)
    meta = obj.get("metadata") or {}
    ref = f"{meta.get('namespace')}/{meta.get('name')}"
    check_sets(table, list(sets))
    spec_sets = [c for c in sets if c == "spec" or c in writes.spec_columns]
    patch_meta: dict[str, Any] = {}
    said = []
    old_labels, old_annotations = meta.get("labels") or {}, meta.get("annotations") or {}
    if "labels" in sets:
        diff = _map_diff(old_labels, mapping(sets["labels"], f"{table}: {ref}: labels"))
        if diff:
            patch_meta["labels"] = diff
            said.append("labels " + _show(diff))
    annotations: dict[str, Any] = {}
    if "annotations" in sets:
        annotations = _map_diff(old_annotations, mapping(sets["annotations"], f"{table}: {ref}: annotations"))
    if "paused" in sets:
        paused = sets["paused"]
        if paused is None or not isinstance(paused, bool):
            raise WriteRefused(f"{table}: SET paused takes true or false, not {paused!r}")
        now = old_annotations.get(PAUSE_ANNOTATION) == "true"
        if paused != now:
            annotations[PAUSE_ANNOTATION] = "true" if paused else None
        said.append("pause" if paused else "resume")
    if annotations:
        patch_meta["annotations"] = annotations
        if "annotations" in sets:
            said.append("annotations " + _show({k: v for k, v in annotations.items() if k != PAUSE_ANNOTATION}))
    patch: dict[str, Any] = {}
    if spec_sets:
        from chaosql.writers.plan import merge_diff

        new_spec = json.loads(json.dumps(obj.get("spec") or {}))
        if "spec" in sets:
            value = json_value(sets["spec"], f"{table}: {ref}: spec")
            if not isinstance(value, dict):
                raise WriteRefused(f"{table}: {ref}: spec must be a JSON object")
            new_spec = value
        for col, field_name in writes.spec_columns.items():
            if col in sets:
                new_spec[field_name] = sets[col]
        diff = merge_diff(obj.get("spec") or {}, new_spec)
        if diff:
            patch["spec"] = diff
            said.append("spec " + _show(diff))
    if patch_meta:
        patch["metadata"] = patch_meta
    summary = f"merge-patch {obj.get('kind')} {ref}: " + ("; ".join(said) if said else "no change")
    return patch, summary


def _map_diff(old: dict, new: dict) -> dict:
    out: dict[str, Any] = {k: v for k, v in new.items() if old.get(k) != v}
    out.update({k: None for k in old if k not in new})
    return out


def _show(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def json_value(value: Any, what: str) -> Any:
    """A JSON column value from SQL: JSON text, a DuckDB STRUCT (dict), a MAP (list of pairs) or LIST."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as err:
            raise WriteRefused(f"{what}: not valid JSON: {err.msg} at character {err.pos}") from None
    if isinstance(value, list) and value and all(isinstance(p, tuple) and len(p) == 2 for p in value):
        return {str(k): json_value_inner(v) for k, v in value}
    return json_value_inner(value)


def json_value_inner(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): json_value_inner(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        if value and all(isinstance(p, tuple) and len(p) == 2 for p in value):
            return {str(k): json_value_inner(v) for k, v in value}
        return [json_value_inner(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def mapping(value: Any, what: str) -> dict[str, str]:
    """Labels or annotations from SQL: a MAP, a STRUCT or a JSON object; values become strings."""
    found = json_value(value, what)
    if found is None:
        return {}
    if not isinstance(found, dict):
        raise WriteRefused(
            f"{what}: expected a MAP or a JSON object, not {type(found).__name__}",
            hint="e.g. MAP {'team': 'shop'} or '{\"team\": \"shop\"}'",
        )
    return {
        str(k): ("true" if v is True else "false" if v is False else str(v)) for k, v in found.items() if v is not None
    }
