"""Facts about Chaos Mesh's API that sources need: group, version and which kinds are experiments."""

from __future__ import annotations

GROUP = "chaos-mesh.org"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"

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


def is_experiment_kind(kind: str) -> bool:
    """Chaos Mesh experiment kinds are the chaos-mesh.org kinds named ``*Chaos`` (less internal ones).

    >>> is_experiment_kind("NetworkChaos"), is_experiment_kind("PodNetworkChaos"), is_experiment_kind("Schedule")
    (True, False, False)
    """
    return kind.endswith("Chaos") and kind not in INTERNAL_CHAOS_KINDS
