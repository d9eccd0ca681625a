"""Facts about Chaos Mesh, each defined once: its API (group, version, which kinds are experiments),
the annotations and labels it reads and writes, the actions it treats as one-shot, and how it
derives an experiment's status. The tables, the writers and scripts/gen_demo.py all use these.

The status rules follow Chaos Mesh's own code (v2.8):

* ``status()`` is ``pkg/status.GetChaosStatus``: deleting (deletionTimestamp set) → paused
  (condition Paused true) → finished (``is_finished``) → running (conditions Selected and
  AllInjected true) → injecting.
* ``is_finished()`` is ``controllers/utils/controller.IsChaosFinished``. A one-shot experiment
  (``ONE_SHOT_ACTIONS``) is finished once it has records and every one is Injected: there is
  nothing to recover, and its desiredPhase stays Run until deletion. Any other experiment is
  finished when its desiredPhase is not Run, no record is left injected (Injected or failing to
  recover) and its duration has run out.

Two cases follow from those rules and are worth saying, since they surprise:

* a one-shot experiment without records yet is **not** finished: nothing was injected so far. It
  is running when the condition controller already set Selected and AllInjected (it does so when
  the selector matched an empty list), else injecting.
* an experiment without a duration is **never** finished, even with desiredPhase Stop and nothing
  injected (that is a paused one, or one being deleted): Chaos Mesh ends such an experiment only
  by deleting it. It shows paused (or deleting, or running/injecting by its conditions).
  An unparsable duration counts as run out, as Chaos Mesh's error path does.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from chaosql.sources.groups import ApiGroup

GROUP = "chaos-mesh.org"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
#: The value of the engine column for Chaos Mesh's rows.
ENGINE = "chaos-mesh"


def _shipped_crds() -> dict:
    from chaosql.crds import chaos_mesh_schemas

    return chaos_mesh_schemas()


#: Chaos Mesh's API group: open, since its experiment kinds are discovered, not listed.
API_GROUP = ApiGroup(GROUP, VERSION, engine=ENGINE, title="Chaos Mesh", shipped=_shipped_crds)

#: chaos-mesh.org kinds ending in "Chaos" that are per-pod bookkeeping of the controller, not
#: experiments a user creates (PodNetworkChaos, PodIOChaos, PodHttpChaos).
INTERNAL_CHAOS_KINDS = frozenset({"PodNetworkChaos", "PodIOChaos", "PodHttpChaos"})

#: Non-experiment chaos-mesh.org kinds chaosql has tables for.
SCHEDULE, WORKFLOW, WORKFLOW_NODE, PHYSICAL_MACHINE = "Schedule", "Workflow", "WorkflowNode", "PhysicalMachine"

#: Core kinds chaosql reads: name -> (api path prefix, plural).
CORE_KINDS = {
    "Pod": ("/api/v1", "pods"),
    "Node": ("/api/v1", "nodes"),
    "Event": ("/api/v1", "events"),
    "Namespace": ("/api/v1", "namespaces"),
}

#: "true" pauses an experiment or a Schedule (api/v1alpha1 PauseAnnotationKey).
PAUSE_ANNOTATION = "experiment.chaos-mesh.org/pause"
#: Makes the controller drop an experiment's finalizers without recovering (AnnotationCleanFinalizer).
CLEAN_FINALIZER = "chaos-mesh.org/cleanFinalizer"
#: The finalizer the records controller puts on every experiment (RecordFinalizer).
RECORD_FINALIZER = "chaos-mesh/records"
#: Labels of the objects a Workflow creates: the workflow, and the WorkflowNode that made the child.
WORKFLOW_LABEL = "chaos-mesh.org/workflow"
CONTROLLED_BY_LABEL = "chaos-mesh.org/controlled-by"
#: The label the Schedule controller puts on the experiments it spawns (value: the Schedule's name).
MANAGED_BY_LABEL = "managed-by"

#: (kind, action) pairs Chaos Mesh injects once and never recovers: the ``IsOneShot`` methods of
#: api/v1alpha1, generated from the ``+chaos-mesh:oneshot`` markers of podchaos_types.go
#: (PodKillAction, ContainerKillAction), awschaos_types.go (Ec2Restart), azurechaos_types.go
#: (AzureVmRestart) and gcpchaos_types.go (NodeReset). Every other kind's IsOneShot is false.
ONE_SHOT_ACTIONS = frozenset(
    {
        ("PodChaos", "pod-kill"),
        ("PodChaos", "container-kill"),
        ("AWSChaos", "ec2-restart"),
        ("AzureChaos", "vm-restart"),
        ("GCPChaos", "node-reset"),
    }
)

#: Record phases (api/v1alpha1 Phase).
INJECTED, NOT_INJECTED = "Injected", "Not Injected"


def is_experiment_kind(kind: str) -> bool:
    """Chaos Mesh experiment kinds are the chaos-mesh.org kinds named ``*Chaos`` (less internal ones).

    >>> is_experiment_kind("NetworkChaos"), is_experiment_kind("PodNetworkChaos"), is_experiment_kind("Schedule")
    (True, False, False)
    """
    return kind.endswith("Chaos") and kind not in INTERNAL_CHAOS_KINDS


def is_one_shot(kind: str | None, action: str | None) -> bool:
    """Whether Chaos Mesh treats ``kind`` with ``action`` as one-shot.

    >>> is_one_shot("GCPChaos", "node-reset"), is_one_shot("GCPChaos", "node-stop"), is_one_shot("PodChaos", "pod-kill")
    (True, False, True)
    """
    return (kind, action) in ONE_SHOT_ACTIONS


_GO_DURATION_PART = re.compile(r"([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)")
_GO_UNIT_NS = {"ns": 1, "us": 10**3, "µs": 10**3, "μs": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9}
_GO_UNIT_NS["h"] = 3600 * 10**9
_GO_MAX_NS = 2**63 - 1  # a time.Duration is an int64 of nanoseconds


def go_duration_ns(text: str | None) -> int | None:
    """Nanoseconds in a Go duration, as Go's ``time.ParseDuration`` reads it (Chaos Mesh's webhook
    parses every duration field with it); None for what it rejects.

    >>> go_duration_ns("1h30m"), go_duration_ns("-1.5s"), go_duration_ns("0"), go_duration_ns(".5ms")
    (5400000000000, -1500000000, 0, 500000)
    >>> go_duration_ns("banana"), go_duration_ns("5"), go_duration_ns(""), go_duration_ns("1d")
    (None, None, None, None)
    """
    if not isinstance(text, str) or not text:
        return None
    body = text[1:] if text[0] in "+-" else text
    if body == "0":
        return 0
    total, pos = 0, 0
    while pos < len(body):
        match = _GO_DURATION_PART.match(body, pos)
        if match is None or match.group(1) in ("", "."):
            return None
        number, unit = match.groups()
        whole, _, frac = number.partition(".")
        scale = _GO_UNIT_NS[unit]
        total += int(whole or 0) * scale + (int(frac) * scale // 10 ** len(frac) if frac else 0)
        pos = match.end()
    if not body or total > _GO_MAX_NS:
        return None
    return -total if text[0] == "-" else total


def go_duration(text: str) -> float:
    """Seconds in a Go duration, as Go's ``time.ParseDuration`` reads it (Chaos Mesh's spec.duration);
    ``ValueError`` for what it rejects.

    >>> go_duration("1h30m"), go_duration("1.5s"), go_duration(".5m"), go_duration("-2m"), go_duration("0")
    (5400.0, 1.5, 30.0, -120.0, 0.0)
    >>> go_duration("30")
    Traceback (most recent call last):
    ValueError: invalid Go duration '30'
    """
    ns = go_duration_ns(text)
    if ns is None:
        raise ValueError(f"invalid Go duration {text!r}")
    return ns / 1e9


def format_go_duration(ns: int) -> str:
    """A Go duration for ``ns`` nanoseconds in one unit (the largest that is exact), which every
    Chaos Mesh duration field accepts, including those whose schema pattern allows only one unit.

    >>> format_go_duration(90 * 10**9), format_go_duration(100_000_000), format_go_duration(7200 * 10**9)
    ('90s', '100ms', '2h')
    >>> format_go_duration(0), format_go_duration(-1_500_000_000), format_go_duration(1)
    ('0s', '-1500ms', '1ns')
    """
    sign = "-" if ns < 0 else ""
    ns = abs(ns)
    if ns == 0:
        return "0s"
    for unit in ("h", "m", "s", "ms", "us"):
        if ns % _GO_UNIT_NS[unit] == 0:
            return f"{sign}{ns // _GO_UNIT_NS[unit]}{unit}"
    return f"{sign}{ns}ns"


def is_finished(obj: dict, now: datetime | None = None) -> bool:
    """``IsChaosFinished``: whether the experiment ``obj`` (the API's JSON) is finished at ``now``."""
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    experiment = status.get("experiment") or {}
    records = experiment.get("containerRecords") or []
    if is_one_shot(obj.get("kind"), spec.get("action")):
        return bool(records) and all(r.get("phase") == INJECTED for r in records)
    finished = experiment.get("desiredPhase") != "Run" and all(r.get("phase") == NOT_INJECTED for r in records)
    duration = spec.get("duration")
    if duration is None:
        return False  # no duration: DurationExceeded is false, so never finished
    try:
        seconds = go_duration(str(duration))
    except ValueError:
        return finished  # DurationExceeded's error: IsChaosFinished answers without the duration
    created = (obj.get("metadata") or {}).get("creationTimestamp")
    if not created:
        return finished  # Go's zero time plus the duration is long past
    ends = datetime.fromisoformat(created.replace("Z", "+00:00")) + timedelta(seconds=seconds)
    return finished and ends < (now or datetime.now(UTC))  # Go: stopTime.Before(now)


def status(obj: dict, now: datetime | None = None) -> str:
    """``GetChaosStatus``: deleting, paused, finished, running or injecting (see the module doc)."""
    if (obj.get("metadata") or {}).get("deletionTimestamp"):
        return "deleting"
    true = {c.get("type") for c in (obj.get("status") or {}).get("conditions") or [] if c.get("status") == "True"}
    if "Paused" in true:
        return "paused"
    if is_finished(obj, now):
        return "finished"
    if "Selected" in true and "AllInjected" in true:
        return "running"
    return "injecting"
