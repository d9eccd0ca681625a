"""Snapshot objects shared by the tests of rows kept between statements (engine and wire)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def ending_podchaos(duration: str = "3s") -> tuple[dict, datetime]:
    """A PodChaos injecting in ``shop`` that was created a second ago and runs for ``duration``
    (its phase turns from running to finished while the test waits, with no file changed), and
    when it was created."""
    created = (datetime.now(UTC) - timedelta(seconds=1)).replace(microsecond=0)
    experiment = {
        "apiVersion": "chaos-mesh.org/v1alpha1",
        "kind": "PodChaos",
        "metadata": {
            "name": "short",
            "namespace": "shop",
            "creationTimestamp": created.isoformat().replace("+00:00", "Z"),
        },
        "spec": {"action": "pod-failure", "mode": "all", "duration": duration, "selector": {"namespaces": ["shop"]}},
        "status": {
            "conditions": [{"type": "Selected", "status": "True"}, {"type": "AllInjected", "status": "True"}],
            "experiment": {"desiredPhase": "Stop", "containerRecords": [{"id": "shop/p", "phase": "Not Injected"}]},
        },
    }
    return experiment, created
