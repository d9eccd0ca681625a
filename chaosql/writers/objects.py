"""Rows to Chaos Mesh objects: an INSERT row becomes a manifest, an UPDATE's SET becomes a merge patch.

Which columns of each table can be written is declared here (``WRITABLE``), with the spec field a
convenience column stands for (``experiments.action`` is ``spec.action``); the typed chaos tables
(``network_chaos``, ``network_chaos_schedules``, ...) carry their own mapping (``Table.model``,
written through ``chaosql.writers.typed``). Everything else a table shows is computed by Chaos
Mesh or the API server (uid, phase, status, ...) and is refused by name.

Every object built here is checked offline against its CRD's schema and Chaos Mesh's webhook rules
(``chaosql.writers.validate``) before any call: the error names the row and the column.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from chaosql.errors import WriteRefused
from chaosql.sources.chaosmesh import API_VERSION, PAUSE_ANNOTATION, SCHEDULE, WORKFLOW, is_experiment_kind
from chaosql.writers.checks import check_offline
from chaosql.writers.typed import assign_row

if TYPE_CHECKING:
    from chaosql.crds import Crd
    from chaosql.tables._table import Table


@dataclass(frozen=True)
class TableWrites:
    """What a writable table accepts: its kind (None: the row's ``kind`` column), the columns that
    map to spec fields, and whether the spec may change after creation."""

    kind: str | None
    spec_columns: dict[str, str]  # column -> spec field
    spec_updatable: bool
    pausable: bool
    model: Any = field(default=None, compare=False)  # a typed table's SpecModel (chaosql.tables.chaos_kinds)

    def columns(self) -> list[str]:
        base = ["cluster", "namespace", "name", "labels", "annotations", "spec"]
        # experiments.source may be given ('kube' or 'snapshot' here; 'chaosd' rows go to writers.chaosd)
        kind = ["kind", "source"] if self.kind is None else []
        typed = [leaf.column for leaf in self.model.leaves] if self.model is not None else []
        return base + kind + (["paused"] if self.pausable else []) + list(self.spec_columns) + typed

    def is_spec_column(self, column: str) -> bool:
        return (
            column == "spec"
            or column in self.spec_columns
            or (self.model is not None and bool(self.model.leaf(column)))
        )


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


class KindWrites(Protocol):
    """How rows of ``table`` become objects of ``kinds`` that another engine owns (a plugin's,
    ``register_writes``): LitmusChaos's ChaosEngines in ``experiments`` (``chaosql.litmus.writes``).
    The table's own checks (writable columns, no spec change, names) still apply; a refused spec
    change quotes ``spec_rule``."""

    table: str
    kinds: frozenset[str]
    #: Why an UPDATE may not change the spec of these objects, in the engine's own terms (the
    #: refusal quotes it as Chaos Mesh's quotes its webhook).
    spec_rule: str

    def manifest(self, row: dict[str, Any], where: str) -> dict:
        """The object an INSERT row creates (``where`` names the row: "experiments: row 2")."""
        ...

    def pause(self, obj: dict, paused: bool) -> tuple[dict, str]:
        """The merge patch that stops (``paused``) or resumes ``obj``, and the summary's word."""
        ...

    def rows_of(self, obj: dict) -> list[str]:
        """What tells apart the rows ``obj`` makes (LitmusChaos: its experiments): an UPDATE or
        DELETE acts on the whole object, so it must select all of them."""
        ...

    def column_of(self, path: tuple) -> str | None:
        """The column that wrote the field at ``path`` (from the object root), for messages."""
        ...


def kind_writes(table: str, kind: str) -> KindWrites | None:
    """The plugin writes for ``kind`` objects through ``table``, if an engine plugin owns the kind."""
    from chaosql import plugins

    for answer in plugins.hook().register_writes():
        for writes in answer or ():
            if writes.table == table and kind in writes.kinds:
                return writes
    return None


def writes_of(table: str | Table) -> TableWrites:
    """What ``table`` (its name, or the Table: a typed table's columns depend on the session)
    accepts; refuses read-only tables."""
    name = table if isinstance(table, str) else table.name
    model = None if isinstance(table, str) else table.model
    if model is not None and model.writable:
        return TableWrites(
            model.kind,
            {},
            spec_updatable=model.spec_updatable,
            pausable=True,
            model=model,
        )
    if name not in WRITABLE:
        if model is not None:
            raise WriteRefused(
                f"{name} is read-only: a workflow's templates change with its whole spec",
                hint="UPDATE workflows SET spec = ... WHERE name = '...'",
            )
        raise WriteRefused(
            f"{name} is read-only: chaosql writes experiments, schedules, workflows and the typed chaos tables",
            hint="change the chaos object the rows come from instead",
        )
    return WRITABLE[name]


def _name(table: str | Table) -> str:
    return table if isinstance(table, str) else table.name


def check_columns(table: str | Table, columns: list[str], all_columns: list[str], verb: str) -> None:
    """Refuse columns that are not the table's, or that Chaos Mesh computes."""
    writes = writes_of(table)
    allowed = writes.columns()
    for col in columns:
        if col not in all_columns:
            raise WriteRefused(f"{_name(table)} has no column {col}", hint="writable columns: " + _listed(allowed))
        if col not in allowed:
            raise WriteRefused(
                f"{_name(table)}.{col} is computed by Chaos Mesh or the API server; {verb} cannot set it",
                hint="writable columns: " + _listed(allowed),
            )


def _listed(columns: list[str]) -> str:
    return ", ".join(columns) if len(columns) <= 20 else ", ".join(columns[:20]) + f", ... ({len(columns)} in all)"


def manifest(
    table: str | Table,
    row: dict[str, Any],
    where: str,
    *,
    cluster: str = "",
    crd_for: Callable[[str], Crd | None] | None = None,
) -> dict:
    """The object an INSERT row creates, checked offline (``validate``) against the CRD of the
    kind it creates: ``crd_for(kind)``, the target cluster's own, else the one chaosql ships.
    ``where`` names the row in messages ("row 2")."""
    name_of_table = _name(table)
    writes = writes_of(table)
    kind = writes.kind or row.get("kind")
    engine = kind_writes(name_of_table, str(kind)) if writes.kind is None else None
    if row.get("source") not in (None, "kube", "snapshot"):
        raise WriteRefused(
            f"{name_of_table}: {where}: source {row['source']!r} cannot be written here",
            hint="source is kube or snapshot (the cluster decides which), or chaosd for Chaosd attacks",
        )
    name, namespace = row.get("name"), row.get("namespace")
    for col, value in (("name", name), ("namespace", namespace), ("kind", kind)):
        if not value:
            raise WriteRefused(
                f"{name_of_table}: {where}: {col} is required",
                hint="every new object needs a namespace, a name"
                + (" and a kind (e.g. PodChaos)" if writes.kind is None else ""),
            )
    if engine is not None:
        obj = engine.manifest(row, f"{name_of_table}: {where}")
        check_offline(table, obj, where, cluster=cluster, live=crd_for(str(kind)) if crd_for else None)
        return obj
    if writes.kind is None and not is_experiment_kind(str(kind)):
        raise WriteRefused(
            f"{name_of_table}: {where}: {kind!r} is not a Chaos Mesh experiment kind",
            hint="e.g. PodChaos, NetworkChaos, StressChaos, or a LitmusChaos ChaosEngine; schedules and "
            "workflows have their own tables",
        )
    spec = json_value(row.get("spec"), f"{name_of_table}: {where}: spec") or {}
    if not isinstance(spec, dict):
        raise WriteRefused(f"{name_of_table}: {where}: spec must be a JSON object, not {type(spec).__name__}")
    for col, field_name in writes.spec_columns.items():
        value = row.get(col)
        if value is None:
            continue
        if col == "selector":
            value = json_value(value, f"{name_of_table}: {where}: selector")
        elif col == "value":
            value = str(value)
        spec[field_name] = value
    if writes.model is not None:
        assign_row(name_of_table, where, spec, writes.model, row)
    meta: dict[str, Any] = {"name": str(name), "namespace": str(namespace)}
    labels = mapping(row.get("labels"), f"{name_of_table}: {where}: labels")
    annotations = mapping(row.get("annotations"), f"{name_of_table}: {where}: annotations")
    if row.get("paused"):
        annotations[PAUSE_ANNOTATION] = "true"
    if labels:
        meta["labels"] = labels
    if annotations:
        meta["annotations"] = annotations
    obj = {"apiVersion": API_VERSION, "kind": str(kind), "metadata": meta, "spec": spec}
    check_offline(table, obj, where, cluster=cluster, live=crd_for(str(kind)) if crd_for else None)
    return obj


def check_sets(table: str | Table, columns: list[str], kinds: Collection[str] | None = ()) -> None:
    """Refuse SETs the engine would refuse, in its own words: ``kinds`` are the kinds of the rows
    selected (none: the table's own engine, Chaos Mesh); None, before the rows are read, checks
    only what does not depend on the engine (the spec of a table whose kinds a plugin may own waits
    for the rows)."""
    writes = writes_of(table)
    name = _name(table)
    spec_sets = [c for c in columns if writes.is_spec_column(c)]
    if spec_sets and not writes.spec_updatable and (kinds is not None or writes.kind is not None):
        engines = [kind_writes(name, k) if writes.kind is None else None for k in sorted(set(kinds or ()))]
        rules = list(dict.fromkeys(e.spec_rule for e in engines if e is not None))
        if not rules or None in engines:  # a Chaos Mesh kind among the rows, or no rows
            rules.insert(0, f'Chaos Mesh webhook: "{WEBHOOK_REASON}"')
        raise WriteRefused(
            f"{name}: spec cannot change after creation ({'; '.join(rules)}; SET {', '.join(spec_sets)})",
            hint="use DELETE, then INSERT",
        )
    for col in ("cluster", "namespace", "name", "kind"):
        if col in columns:
            raise WriteRefused(
                f"{_name(table)}: {col} cannot change (it names the object)",
                hint="INSERT a copy under the new name, then DELETE the old one",
            )


def update_patch(
    table: str | Table,
    obj: dict,
    sets: dict[str, Any],
    *,
    cluster: str = "",
    crd_for: Callable[[str], Crd | None] | None = None,
) -> tuple[dict, str]:
    """The merge patch that applies ``sets`` (column -> new value) to ``obj``, and a summary.

    Values that equal the object's are left out, so an UPDATE that changes nothing sends nothing
    but the precondition. Spec changes of experiment kinds are refused as Chaos Mesh does; the
    changed object is checked offline like a new one (``check_offline``).
    """
    name = _name(table)
    writes = writes_of(table)
    meta = obj.get("metadata") or {}
    ref = f"{meta.get('namespace')}/{meta.get('name')}"
    check_sets(table, list(sets), [str(obj.get("kind"))])
    spec_sets = [c for c in sets if writes.is_spec_column(c)]
    patch_meta: dict[str, Any] = {}
    said = []
    old_labels, old_annotations = meta.get("labels") or {}, meta.get("annotations") or {}
    if "labels" in sets:
        diff = _map_diff(old_labels, mapping(sets["labels"], f"{name}: {ref}: labels"))
        if diff:
            patch_meta["labels"] = diff
            said.append("labels " + _show(diff))
    annotations: dict[str, Any] = {}
    if "annotations" in sets:
        annotations = _map_diff(old_annotations, mapping(sets["annotations"], f"{name}: {ref}: annotations"))
    engine = kind_writes(name, str(obj.get("kind"))) if writes.kind is None else None
    stop: dict[str, Any] = {}
    if "paused" in sets:
        paused = sets["paused"]
        if paused is None or not isinstance(paused, bool):
            raise WriteRefused(f"{name}: SET paused takes true or false, not {paused!r}")
        if engine is not None:  # the engine's own way to stop (LitmusChaos: engineState stop)
            stop, word = engine.pause(obj, paused)
            said.append(word)
        else:
            now = old_annotations.get(PAUSE_ANNOTATION) == "true"
            if paused != now:
                annotations[PAUSE_ANNOTATION] = "true" if paused else None
            said.append("pause" if paused else "resume")
    if annotations:
        patch_meta["annotations"] = annotations
        if "annotations" in sets:
            said.append("annotations " + _show({k: v for k, v in annotations.items() if k != PAUSE_ANNOTATION}))
    patch: dict[str, Any] = dict(stop)
    if spec_sets:
        from chaosql.writers.plan import merge_diff

        new_spec = json.loads(json.dumps(obj.get("spec") or {}))
        if "spec" in sets:
            value = json_value(sets["spec"], f"{name}: {ref}: spec")
            if not isinstance(value, dict):
                raise WriteRefused(f"{name}: {ref}: spec must be a JSON object")
            new_spec = value
        for col, field_name in writes.spec_columns.items():
            if col in sets:
                new_spec[field_name] = sets[col]
        if writes.model is not None:
            typed = {c: v for c, v in sets.items() if writes.model.leaf(c) is not None}
            for col in [c for c, v in typed.items() if v is None]:  # SET x = NULL removes the field
                _remove(new_spec, writes.model.leaf(col).path)
            assign_row(name, ref, new_spec, writes.model, typed)
        diff = merge_diff(obj.get("spec") or {}, new_spec)
        if diff:
            patch["spec"] = diff
            said.append("spec " + _show(diff))
    if patch_meta:
        patch["metadata"] = patch_meta
    if patch:
        from chaosql.writers.snapshot import apply_merge_patch

        changed = apply_merge_patch(json.loads(json.dumps(obj)), patch)
        live = crd_for(str(obj.get("kind"))) if crd_for else None
        check_offline(table, changed, ref, cluster=cluster, before=obj, live=live)
    where = f"{cluster}/{ref}" if cluster else ref  # named as DELETE's and POST's summaries name it
    summary = f"merge-patch {obj.get('kind')} {where}: " + ("; ".join(said) if said else "no change")
    return patch, summary


def _remove(spec: dict, path: tuple[str, ...]) -> None:
    for key in path[:-1]:
        child = spec.get(key)
        if not isinstance(child, dict):
            return
        spec = child
    spec.pop(path[-1], None)


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
    if found is None or found == []:  # an empty MAP comes from Arrow as an empty list of pairs
        return {}
    if not isinstance(found, dict):
        raise WriteRefused(
            f"{what}: expected a MAP or a JSON object, not {type(found).__name__}",
            hint="e.g. MAP {'team': 'shop'} or '{\"team\": \"shop\"}'",
        )
    return {
        str(k): ("true" if v is True else "false" if v is False else str(v)) for k, v in found.items() if v is not None
    }
