"""Typed chaos tables, generated from the CRD schemas: one column per experiment parameter.

For every Chaos Mesh experiment kind in the shipped CRDs (``chaosql.crds``) three tables:

* ``network_chaos`` (``pod_chaos``, ``stress_chaos``, ...): one row per experiment of that kind,
  with the ``experiments`` table's own columns (phase, paused, ... shaped by the same code) and one
  typed column per leaf of its spec (``delay_latency`` INTERVAL, ``loss_loss`` DOUBLE,
  ``selector_namespaces`` VARCHAR[]; see ``chaosql.tables._schema``);
* ``network_chaos_schedules``: one row per Schedule that creates that kind, with the Schedule's
  own fields and the template's typed columns (the same names as in ``network_chaos``);
* ``network_chaos_templates``: one row per Workflow template of that kind.

Nothing here names a field: a newer Chaos Mesh's CRD brings its fields as columns. A table read
from live clusters uses each cluster's own CRD (``refine``): columns its schema adds to the shipped
one are appended, so saved queries keep working across versions.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from chaosql.crds import Crd, chaos_mesh_schemas
from chaosql.crds.chaos_mesh import TEMPLATE_FORMATS, embed_key, field_formats
from chaosql.sources.chaosmesh import SCHEDULE, WORKFLOW, is_experiment_kind
from chaosql.tables import experiments, schedules
from chaosql.tables._common import LABELS, NAMESPACE, meta_values
from chaosql.tables._kube import KubeFeed
from chaosql.tables._schema import Leaf, RowReader, leaves, snake
from chaosql.tables._table import Col, LazyTable, Row, RowContext, Table

#: experiments columns that are spec fields (typed columns here) or not about Kubernetes objects.
_NOT_COMMON = {"source", "kind", "action", "mode", "value", "selector", "duration", "duration_seconds", "node"}
#: schedules columns that are generated from the Schedule schema here (or fixed by the table).
_SCHEDULE_FIELDS = {"type", "schedule", "concurrency_policy", "history_limit"}


@dataclass(frozen=True, eq=False)
class SpecModel:
    """How a typed table's columns map to objects: what writers need to build and check them.

    ``kind`` is the object written (``NetworkChaos``, or ``Schedule`` for ``*_schedules``);
    ``chaos_kind`` the experiment kind the leaves describe; ``leaves`` their paths from the spec;
    ``fixed`` spec fields the table sets itself (a schedule's ``type``); ``crd`` the schema the
    columns came from and ``live`` each cluster's own CRD of ``kind`` where it differs.
    """

    kind: str
    chaos_kind: str
    crd: Crd
    leaves: tuple[Leaf, ...]
    template: tuple[str, ...] = ()  # where the experiment spec sits in the spec (schedules)
    fixed: Mapping[str, Any] = field(default_factory=dict)
    writable: bool = True
    spec_updatable: bool = False
    live: Mapping[str, Crd] = field(default_factory=dict)

    def crd_for(self, cluster: str) -> Crd:
        return self.live.get(cluster, self.crd)

    def leaf(self, column: str) -> Leaf | None:
        return next((leaf for leaf in self.leaves if leaf.column == column), None)


def table_name(kind: str) -> str:
    """``NetworkChaos`` -> ``network_chaos``, ``IOChaos`` -> ``io_chaos``."""
    return snake(kind)


DOCS = {
    "": "One row per Chaos Mesh {kind}, with one typed column per spec field.",
    "_schedules": "One row per Chaos Mesh Schedule that creates {kind}, with its template's typed columns.",
    "_templates": "One row per {kind} template of a Chaos Mesh Workflow, with its typed columns.",
}


# --- <kind>: the experiments -------------------------------------------------------------------

_EXPERIMENT_COMMON = [c for c in experiments.CHAOS_MESH_COLUMNS if c.name not in _NOT_COMMON]
#: names a spec field's column never takes (it gets ``spec_`` in front), so that a template's
#: columns are named alike in <kind>, <kind>_schedules and <kind>_templates
_RESERVED = {c.name for c in _EXPERIMENT_COMMON} | {"active_count", "last_scheduled_at", "template", "deadline"}


def _split(common: list[Col], before: str) -> tuple[list[Col], list[Col]]:
    at = next(i for i, c in enumerate(common) if c.name == before)
    return common[:at], common[at:]


def experiment_table(crd: Crd, extra: Sequence[Crd] = ()) -> Table:
    kind = crd.kind
    head, tail = _split(_EXPERIMENT_COMMON, "labels")
    found = _union([crd, *extra], lambda c: c.spec, (), field_formats(kind), _RESERVED)
    reader = RowReader(found)

    def rows(obj: dict, ctx: RowContext) -> Iterator[Row]:
        for row in experiments.experiment_rows(obj, ctx):
            row.update(reader.values(obj.get("spec") or {}, ctx.columns))
            yield row

    name = table_name(kind)
    return Table(
        name,
        DOCS[""].format(kind=kind),
        head + [_col(leaf) for leaf in found] + tail,
        feeds=[KubeFeed((kind,), rows, on_demand=(SCHEDULE,), one_row_per_object=True)],
        examples=EXAMPLES.get(name) or [_example(name, kind, found, "phase = 'running'")],
        model=SpecModel(kind, kind, crd, tuple(found), live=_live(extra)),
    )


# --- <kind>_schedules: Schedules that create it ---------------------------------------------------

_SCHEDULE_COMMON = [c for c in schedules.COLUMNS if c.name not in _SCHEDULE_FIELDS]


def schedule_table(kind: str, crd: Crd, extra: Sequence[Crd] = ()) -> Table:
    """``<kind>_schedules`` from the Schedule CRD ``crd`` (without template columns if it cannot
    embed ``kind``)."""
    key = embed_key(kind, crd.spec.get("properties") or {}) or kind
    embedded = {p for c in [crd, *extra] for p in (c.spec.get("properties") or {}) if _is_embedded(p)}
    head, tail = _split(_SCHEDULE_COMMON, "labels")
    reserved = {c.name for c in _SCHEDULE_COMMON}
    own = _union([crd, *extra], lambda c: c.spec, (), {}, reserved, skip={"type", "workflow", *embedded})
    # the Schedule CRD documents none of its own fields: say what the schedules table says
    said = {c.name: c.doc for c in schedules.COLUMNS}
    own = [
        replace(leaf, doc=said[leaf.column]) if leaf.column in said and not leaf.schema.get("description") else leaf
        for leaf in own
    ]
    template = _union(
        [crd, *extra],
        lambda c: (c.spec.get("properties") or {}).get(key) or {},
        (key,),
        field_formats(kind),
        _RESERVED | reserved | {leaf.column for leaf in own},
    )
    found = own + template
    reader = RowReader(found)

    def rows(obj: dict, ctx: RowContext) -> Iterator[Row]:
        spec = obj.get("spec") or {}
        if spec.get("type") != kind:
            return
        for row in schedules.schedule_rows(obj, ctx):
            row.update(reader.values(spec, ctx.columns))
            yield row

    name = f"{table_name(kind)}_schedules"
    return Table(
        name,
        DOCS["_schedules"].format(kind=kind),
        head + [_col(leaf) for leaf in found] + tail,
        # not one row per object: Schedules of other types make none, so a LIMIT stays here
        feeds=[KubeFeed((SCHEDULE,), rows)],
        examples=EXAMPLES.get(name) or [_example(name, kind, template, "NOT paused", ("schedule",))],
        model=SpecModel(
            SCHEDULE,
            kind,
            crd,
            tuple(found),
            template=(key,),
            fixed={"type": kind},
            spec_updatable=True,
            live=_live(extra),
        ),
    )


def _is_embedded(prop: str) -> bool:
    return prop == "workflow" or is_experiment_kind(prop[:1].upper() + prop[1:])


# --- <kind>_templates: Workflow templates of that kind ------------------------------------------

_TEMPLATE_COMMON = [
    experiments.CLUSTER,
    NAMESPACE,
    Col("workflow", "VARCHAR", "Name of the Workflow (metadata.name); join with workflows.name.", key="name"),
    Col("template", "VARCHAR", "spec.templates[].name: the template's name, unique in its workflow."),
]


def template_table(kind: str, crd: Crd, extra: Sequence[Crd] = ()) -> Table:
    """``<kind>_templates`` from the Workflow CRD ``crd`` (without typed columns if its templates
    cannot be ``kind``)."""

    def item(c: Crd) -> dict:
        return ((c.spec.get("properties") or {}).get("templates") or {}).get("items") or {}

    key = embed_key(kind, item(crd).get("properties") or {}) or kind
    reserved = _RESERVED | {c.name for c in _TEMPLATE_COMMON}
    deadline = Col("deadline", "INTERVAL", "spec.templates[].deadline: how long the step may run (a Go duration).")
    found = _union(
        [crd, *extra], lambda c: (item(c).get("properties") or {}).get(key) or {}, (), field_formats(kind), reserved
    )
    deadline_reader = RowReader(leaves({"properties": {"deadline": {"type": "string"}}}, formats=TEMPLATE_FORMATS))
    reader = RowReader(found)

    def rows(obj: dict, ctx: RowContext) -> Iterator[Row]:
        meta = meta_values(obj, ctx.cluster)
        for template in (obj.get("spec") or {}).get("templates") or []:
            if not isinstance(template, dict) or template.get("templateType") != kind:
                continue
            row = {
                "cluster": ctx.cluster,
                "namespace": meta["namespace"],
                "workflow": meta["name"],
                "template": template.get("name"),
                "labels": meta["labels"],
                **deadline_reader.values(template),
            }
            row.update(reader.values(template.get(key) or {}, ctx.columns))
            yield row

    name = f"{table_name(kind)}_templates"
    return Table(
        name,
        DOCS["_templates"].format(kind=kind),
        _TEMPLATE_COMMON + [deadline] + [_col(leaf) for leaf in found] + [LABELS],
        feeds=[KubeFeed((WORKFLOW,), rows)],
        examples=EXAMPLES.get(name) or [_example(name, kind, found, None, ("workflow", "template", "deadline"))],
        model=SpecModel(WORKFLOW, kind, crd, tuple(found), writable=False, live=_live(extra)),
    )


# --- shared pieces -------------------------------------------------------------------------------


def _union(
    crds: Sequence[Crd],
    schema_of: Callable[[Crd], dict],
    root: tuple[str, ...],
    formats: Mapping[str, str],
    reserved: set[str],
    skip: set[str] | frozenset[str] = frozenset(),
) -> list[Leaf]:
    """The leaves of the first CRD's schema, then those later ones add (a newer version's fields)."""
    out: list[Leaf] = []
    seen: set[str] = set()
    where = ".".join(("spec", *root))
    for crd in crds:
        for leaf in leaves(schema_of(crd), formats=formats, skip=skip, reserved=reserved, where=where):
            if leaf.column not in seen:
                seen.add(leaf.column)
                out.append(replace(leaf, path=root + leaf.path))
    return out


def _col(leaf: Leaf) -> Col:
    return Col(leaf.column, leaf.type, leaf.doc)


def _live(extra: Sequence[Crd]) -> dict[str, Crd]:
    return {c.origin: c for c in extra}


def _example(
    name: str, kind: str, found: Sequence[Leaf], where: str | None, first: tuple[str, ...] = ("namespace", "name")
) -> tuple[str, str]:
    picked = [leaf.column for leaf in found if leaf.column not in ("mode", "value")][:3]
    sql = f"SELECT {', '.join((*first, *picked))} FROM {name}" + (f" WHERE {where}" if where else "")
    return (f"What parameters do the {kind} {'templates' if 'templates' in name else 'objects'} set?", sql)


EXAMPLES: dict[str, list[tuple[str, str]]] = {
    "network_chaos": [
        (
            "What latency are the running NetworkChaos injecting, on average?",
            "SELECT avg(delay_latency) AS latency, max(delay_jitter) AS max_jitter FROM network_chaos "
            "WHERE phase = 'running' AND action = 'delay'",
        ),
        (
            "Which experiments drop more than 10% of packets, and in which namespaces?",
            "SELECT namespace, name, loss_loss, selector_namespaces FROM network_chaos WHERE loss_loss > 10",
        ),
    ],
    "stress_chaos": [
        (
            "How many CPU stress workers are running per namespace?",
            "SELECT namespace, sum(stressors_cpu_workers) AS workers FROM stress_chaos "
            "WHERE phase = 'running' GROUP BY ALL",
        )
    ],
    "network_chaos_schedules": [
        (
            "Which schedules inject network delay, how often, and how much?",
            "SELECT namespace, name, schedule, delay_latency, duration FROM network_chaos_schedules "
            "WHERE action = 'delay'",
        )
    ],
}


# --- the tables, and the live CRDs --------------------------------------------------------------


def build(crds: Mapping[str, Crd]) -> list[Table]:
    """Every typed table of the CRDs in ``crds``, experiment kinds in name order. Each is built
    on first use (``LazyTable``): naming them needs only the kinds, not their schemas."""
    kinds = sorted(k for k in crds if is_experiment_kind(k))
    makers: list[tuple[str, str, Callable[..., Table]]] = [("", "", lambda k, extra: experiment_table(crds[k], extra))]
    for parent, suffix, maker in ((SCHEDULE, "_schedules", schedule_table), (WORKFLOW, "_templates", template_table)):
        if parent in crds:
            makers.append((parent, suffix, lambda k, extra, m=maker, p=parent: m(k, crds[p], extra)))
    out: list[Table] = []
    for parent, suffix, make in makers:
        for kind in kinds:
            rebuild = partial(make, kind)
            out.append(
                LazyTable(
                    table_name(kind) + suffix,
                    DOCS[suffix].format(kind=kind),
                    partial(_refinable, rebuild, parent or kind),
                )
            )
    return out


def _refinable(rebuild: Callable[[Sequence[Crd]], Table], kind: str) -> Table:
    """The table from the shipped CRDs, with a ``refine`` that rebuilds it with the sources' own
    CRDs of ``kind`` where they differ from the shipped one (cached per set of CRD objects)."""
    base = rebuild(())
    shipped = base.model.crd
    cache: dict[tuple[int, ...], Table] = {}
    differs: dict[int, tuple[Crd, bool]] = {}  # a source returns the same Crd while it is unchanged
    lock = threading.Lock()

    def different(crd: Crd) -> bool:
        known = differs.get(id(crd))
        if known is None or known[0] is not crd:
            if len(differs) > 64:
                differs.clear()
            known = differs[id(crd)] = (crd, crd.spec != shipped.spec)  # Schedule's: 400 KB compared once
        return known[1]

    def refine(sources: Sequence[Any], log: Any) -> Table:
        extra = []
        for source in sources:
            fetch = getattr(source, "crd", None)
            found = fetch(kind, log) if fetch is not None else None
            if found is not None and different(found):
                extra.append(found)
        if not extra:
            return base
        key = tuple(id(c) for c in extra)
        with lock:
            if key not in cache:
                table = rebuild(extra)
                table.refine = refine
                cache.clear()  # one live variant at a time: CRDs change rarely
                cache[key] = table
            return cache[key]

    base.refine = refine
    return base


TABLES = build(chaos_mesh_schemas())
