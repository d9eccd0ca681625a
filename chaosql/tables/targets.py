"""targets: one row per injection record (status.experiment.containerRecords[]) of an experiment."""

from __future__ import annotations

import json
from collections.abc import Iterator

from chaosql.sources.chaosmesh import ENGINE, PHYSICAL_MACHINE
from chaosql.tables._common import CLUSTER, ENGINE_COLUMN, NAMESPACE
from chaosql.tables._kube import EXPERIMENT_KINDS, KubeFeed
from chaosql.tables._table import Col, Row, RowContext, Table
from chaosql.tables.experiments import experiment_phase, phase_changes_at

COLUMNS = [
    CLUSTER,
    NAMESPACE,
    Col("experiment", "VARCHAR", "Name of the chaos experiment that made the record.", key="name"),
    Col("kind", "VARCHAR", "Kind of that experiment.", key="kind"),
    Col("experiment_uid", "VARCHAR", "uid of that experiment."),
    Col("experiment_phase", "VARCHAR", "Derived phase of that experiment (see experiments.phase)."),
    Col(
        "target_id", "VARCHAR", "Record id: ns/pod, ns/pod/container, a physical machine, or a cloud instance selector."
    ),
    Col("target_type", "VARCHAR", "pod, container, physical_machine or cloud_instance (LitmusChaos: pod, node, ...)."),
    Col("target_namespace", "VARCHAR", "Namespace of the targeted pod or PhysicalMachine."),
    Col("pod", "VARCHAR", "Targeted pod name; join with pods.name."),
    Col("container", "VARCHAR", "Targeted container, for container-level records."),
    Col("node", "VARCHAR", "Node the targeted pod runs on (or the cloud instance is); join with nodes.name."),
    Col("pod_ip", "VARCHAR", "IP of the targeted pod, when known."),
    Col("physical_machine", "VARCHAR", "Targeted PhysicalMachine name; join with nodes.name."),
    Col("address", "VARCHAR", "Chaosd address of the targeted physical machine; instance id of a cloud target."),
    Col(
        "phase",
        "VARCHAR",
        "Record phase: Injected or Not Injected (LitmusChaos: chaosStatus injected, else Not Injected).",
    ),
    Col("selector_key", "VARCHAR", "Which selector picked the target (selectorKey)."),
    Col("injected_count", "BIGINT", "Successful injections on this target."),
    Col("recovered_count", "BIGINT", "Successful recoveries on this target."),
    Col("last_event_type", "VARCHAR", "Type of the record's last event: Succeeded or Failed."),
    Col("last_operation", "VARCHAR", "Operation of the record's last event: Apply or Recover."),
    Col("last_event_at", "TIMESTAMPTZ", "Time of the record's last event."),
    Col("last_message", "VARCHAR", "Message of the record's last event (why it failed, if it did)."),
    ENGINE_COLUMN,
    Col(
        "action",
        "VARCHAR",
        "Action of that experiment (experiments.action), e.g. pod-kill; LitmusChaos: the experiment, e.g. pod-delete.",
    ),
]


def target_rows(obj: dict, ctx: RowContext) -> Iterator[Row]:
    meta = obj.get("metadata") or {}
    records = ((obj.get("status") or {}).get("experiment") or {}).get("containerRecords") or []
    if not records:
        return
    kind = obj.get("kind")
    ctx.changes_at(phase_changes_at(obj))
    base = {
        "cluster": ctx.cluster,
        "engine": ENGINE,
        "namespace": meta.get("namespace"),
        "experiment": meta.get("name"),
        "kind": kind,
        "action": (obj.get("spec") or {}).get("action"),
        "experiment_uid": meta.get("uid"),
        "experiment_phase": experiment_phase(obj),
    }
    for record in records:
        row = dict(base)
        row.update(_target(record.get("id") or "", kind, meta.get("namespace") or "", ctx))
        events = record.get("events") or []
        last = events[-1] if events else {}
        row.update(
            target_id=record.get("id"),
            phase=record.get("phase"),
            selector_key=record.get("selectorKey"),
            injected_count=record.get("injectedCount"),
            recovered_count=record.get("recoveredCount"),
            last_event_type=last.get("type"),
            last_operation=last.get("operation"),
            last_event_at=last.get("timestamp"),
            last_message=last.get("message"),
        )
        yield row


#: Cloud kinds record the instance selector as JSON; the instance id names a Node's providerID.
CLOUD_INSTANCE_KEYS = {"AWSChaos": "ec2Instance", "GCPChaos": "instance", "AzureChaos": "vmName"}


def _target(record_id: str, kind: str | None, namespace: str, ctx: RowContext) -> Row:
    """Split a record id into what it points at (by kind: ids do not share one shape), joined with
    the pod, machine or node it names."""
    if kind == "PhysicalMachineChaos":
        if "://" in record_id or ":" in record_id.rsplit("/", 1)[-1]:
            return {"target_type": "physical_machine", "address": record_id}
        ns, _, name = record_id.rpartition("/")
        machine = ctx.lookup(PHYSICAL_MACHINE, ns or namespace, name) or {}
        return {
            "target_type": "physical_machine",
            "target_namespace": ns or namespace,
            "physical_machine": name,
            "address": (machine.get("spec") or {}).get("address"),
        }
    if kind in CLOUD_INSTANCE_KEYS:
        try:
            instance = json.loads(record_id).get(CLOUD_INSTANCE_KEYS[kind])
        except (ValueError, AttributeError):
            instance = None
        return {"target_type": "cloud_instance", "address": instance, "node": _node_of_instance(instance, ctx)}
    pod_part = record_id.split("//", 1)[0]  # BlockChaos: ns/pod/container//volume/path
    parts = pod_part.split("/")
    ns, pod = (parts + ["", ""])[:2]
    container = parts[2] if len(parts) > 2 else None
    found = ctx.lookup("Pod", ns, pod) or {}
    return {
        "target_type": "container" if container else "pod",
        "target_namespace": ns,
        "pod": pod,
        "container": container,
        "node": (found.get("spec") or {}).get("nodeName"),
        "pod_ip": (found.get("status") or {}).get("podIP"),
    }


def _node_of_instance(instance: str | None, ctx: RowContext) -> str | None:
    if "nodes_by_instance" not in ctx.memo:
        ctx.memo["nodes_by_instance"] = {
            ((n.get("spec") or {}).get("providerID") or "").rsplit("/", 1)[-1]: name
            for (_, name), n in (ctx.lookups.get("Node") or {}).items()
        }
    return ctx.memo["nodes_by_instance"].get(instance) if instance else None


TABLE = Table(
    "targets",
    "One row per injection record of a chaos experiment: the pod, container, node or physical machine it hit "
    "(LitmusChaos: each target its ChaosResult lists).",
    COLUMNS,
    feeds=[
        KubeFeed(
            EXPERIMENT_KINDS,
            target_rows,
            lookups=("Pod", PHYSICAL_MACHINE, "Node"),
            covers={"engine": frozenset({ENGINE})},
        )
    ],
    examples=[
        (
            "Which pods are being injected right now, and on which nodes?",
            "SELECT namespace, experiment, pod, node FROM targets WHERE phase = 'Injected' AND experiment_phase = 'running'",
        ),
    ],
)
