"""LitmusChaos's rows of the unified tables: ``experiments``, ``targets`` and ``events``.

Each feed lists ChaosEngines (or Events about litmuschaos.io objects) from Kubernetes-like
sources, so pushdown works as for Chaos Mesh: ``namespace``, ``name`` (the ChaosEngine's) and
``labels`` become the list call's filters, ``kind = 'ChaosEngine'`` keeps Chaos Mesh's kinds from
being listed and ``engine = 'litmus'`` (or ``'chaos-mesh'``) picks the engine's feeds. A run's
ChaosResult is read only when a row needs it, in the namespaces the statement reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chaosql.litmus import facts
from chaosql.tables._common import meta_values, to_json
from chaosql.tables._kube import KubeFeed
from chaosql.tables._table import Feed, Row, RowContext
from chaosql.tables.events import event_feed

COVERS = {"engine": frozenset({facts.ENGINE})}


def experiment_rows(engine: dict, ctx: RowContext) -> Iterator[Row]:
    """One row per run: each experiment of the ChaosEngine ``engine``."""
    spec, status = _dict(engine.get("spec")), _dict(engine.get("status"))
    base = meta_values(engine, ctx.cluster)
    meta = _dict(engine.get("metadata"))
    base.update(
        source=ctx.family,
        engine=facts.ENGINE,
        kind=facts.CHAOS_ENGINE,
        selector=to_json(_selector(spec)) if ctx.wants("selector") else None,
        paused=facts.stop_asked(engine),
        desired_phase="Stop" if spec.get("engineState") == facts.STOP else "Run",
        deleted_at=meta.get("deletionTimestamp"),
        spec=to_json(spec) if ctx.wants("spec") else None,
        status=to_json(status) if ctx.wants("status") else None,
    )
    for experiment in facts.experiments(engine):
        name = str(experiment.get("name") or "")
        entry = facts.status_entry(engine, name)
        result = facts.result_of(engine, experiment, ctx.lookup)
        hit = facts.targets(result)
        duration = _duration(experiment, engine, ctx)
        row = dict(base)
        row.update(
            action=name or None,
            duration=f"{duration}s" if duration is not None else None,
            duration_seconds=float(duration) if duration is not None else None,
            phase=facts.run_phase(engine, entry, result),
            verdict=facts.run_verdict(entry, result),
            target_count=len(hit),
            injected_count=sum(1 for t in hit if t.get("chaosStatus") in (facts.INJECTED, facts.REVERTED)),
            recovered_count=sum(1 for t in hit if t.get("chaosStatus") == facts.REVERTED),
        )
        yield row


def target_rows(engine: dict, ctx: RowContext) -> Iterator[Row]:
    """One row per target a run's ChaosResult lists (status.history.targets), placed by the
    engine's appinfo (a target names no namespace: it is the application's)."""
    meta = _dict(engine.get("metadata"))
    spec = _dict(engine.get("spec"))
    appinfo = _dict(spec.get("appinfo"))
    namespace = appinfo.get("appns") or _only_namespace(spec) or meta.get("namespace")
    for experiment in facts.experiments(engine):
        name = str(experiment.get("name") or "")
        result = facts.result_of(engine, experiment, ctx.lookup)
        hit = facts.targets(result)
        if not hit:
            continue
        phase = facts.run_phase(engine, facts.status_entry(engine, name), result)
        for target in hit:
            kind = str(target.get("kind") or "").lower() or None
            chaos_status = target.get("chaosStatus")
            row: Row = {
                "cluster": ctx.cluster,
                "engine": facts.ENGINE,
                "namespace": meta.get("namespace"),
                "experiment": meta.get("name"),
                "kind": facts.CHAOS_ENGINE,
                "action": name or None,
                "experiment_uid": meta.get("uid"),
                "experiment_phase": phase,
                "target_type": kind,
                "selector_key": appinfo.get("applabel") or None,
                "phase": "Injected" if chaos_status == facts.INJECTED else "Not Injected",
                "injected_count": 1 if chaos_status in (facts.INJECTED, facts.REVERTED) else 0,
                "recovered_count": 1 if chaos_status == facts.REVERTED else 0,
                "last_operation": {facts.INJECTED: "Apply", facts.REVERTED: "Recover"}.get(str(chaos_status)),
            }
            row.update(_placed(str(target.get("name") or ""), kind, namespace, ctx))
            yield row


def _placed(name: str, kind: str | None, namespace: str | None, ctx: RowContext) -> Row:
    """What a target names, joined with its pod or node."""
    if kind == "node":
        return {"target_id": name, "node": name}
    if kind == "pod":
        pod = ctx.lookup("Pod", namespace or "", name) or {}
        return {
            "target_id": f"{namespace}/{name}" if namespace else name,
            "target_namespace": namespace,
            "pod": name,
            "node": _dict(pod.get("spec")).get("nodeName"),
            "pod_ip": _dict(pod.get("status")).get("podIP"),
        }
    return {"target_id": name, "target_namespace": namespace}


def _selector(spec: dict) -> dict | None:
    """Which application the engine targets: its appinfo and, when set, its selectors."""
    picked = {key: spec[key] for key in ("appinfo", "selectors") if spec.get(key)}
    return picked or None


def _only_namespace(spec: dict) -> str | None:
    """The namespace spec.selectors names, when it names exactly one."""
    selectors = _dict(spec.get("selectors"))
    found = {
        item.get("namespace")
        for key in ("pods", "workloads")
        for item in (selectors.get(key) or ())
        if isinstance(item, dict)
    }
    return next(iter(found)) if len(found) == 1 else None


def _duration(experiment: dict, engine: dict, ctx: RowContext) -> int | None:
    """TOTAL_CHAOS_DURATION in seconds: the engine's override, else the ChaosExperiment's default
    (read only when the statement reads the duration)."""
    text = facts.env(experiment, facts.DURATION_ENV)
    if text is None and (ctx.wants("duration") or ctx.wants("duration_seconds")):
        namespace = _dict(engine.get("metadata")).get("namespace") or ""
        definition = ctx.lookup(facts.CHAOS_EXPERIMENT, namespace, str(experiment.get("name") or ""))
        for item in _dict(_dict(_dict(definition).get("spec")).get("definition")).get("env") or ():
            if isinstance(item, dict) and item.get("name") == facts.DURATION_ENV:
                text = str(item.get("value") or "")
    try:
        return int(text) if text else None
    except ValueError:
        return None


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


#: The feeds LitmusChaos adds to the unified tables (``register_feeds``).
FEEDS: dict[str, list[Feed]] = {
    "experiments": [
        KubeFeed(
            (facts.CHAOS_ENGINE,),
            experiment_rows,
            on_demand=(facts.CHAOS_RESULT, facts.CHAOS_EXPERIMENT),
            covers=COVERS,
        )
    ],
    "targets": [
        KubeFeed((facts.CHAOS_ENGINE,), target_rows, lookups=("Pod",), on_demand=(facts.CHAOS_RESULT,), covers=COVERS)
    ],
    "events": [event_feed(facts.API_GROUP, requires=(facts.CHAOS_ENGINE, facts.CHAOS_RESULT))],
}
