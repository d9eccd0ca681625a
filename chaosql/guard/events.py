"""Kubernetes Events for the objects a guard acted on, so ``kubectl describe`` says why an
experiment stopped: reason ``ChaosqlGuardPaused`` (or ...Deleted, ...Updated), a message that names
the guard and the value that breached.

Chaosd experiments and snapshot (GitOps) objects have no Kubernetes object to attach an Event to;
the decision log is their record.

>>> from chaosql.guard.definition import Guard
>>> g = Guard("checkout-p99", "SELECT 1", "UPDATE ...", 5, 30, 300, 20, False, "hold", 30, action_reason="ChaosqlGuardPaused")
>>> message(g, "p99", 0.5123, 31.4)
'chaosql guard "checkout-p99": p99 = 0.5123, breaching for 31 s (for = 30 s); paused'
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from chaosql.guard.definition import Guard
from chaosql.sources.chaosmesh import API_VERSION, SCHEDULE, WORKFLOW

if TYPE_CHECKING:
    from chaosql.engine.session import Session

COMPONENT = "chaosql-guard"
#: The kind of the objects of the tables whose rows have no kind column.
_KIND_OF = {"schedules": SCHEDULE, "workflows": WORKFLOW}
_DONE = {
    "ChaosqlGuardPaused": "paused",
    "ChaosqlGuardResumed": "resumed",
    "ChaosqlGuardDeleted": "deleted",
    "ChaosqlGuardCreated": "created",
}


def message(guard: Guard, column: str | None, value: Any, lasted: float | None) -> str:
    """What the Event says: the guard, the value that breached, and what was done."""
    text = f'chaosql guard "{guard.name}"'
    if column is not None and value is not None:
        shown = f"{value:.4g}" if isinstance(value, (float, Decimal)) else str(value)
        text += f": {column} = {shown}"
    if lasted is not None and guard.for_ > 0:
        text += f", breaching for {lasted:.0f} s (for = {guard.for_:g} s)"
    return text + f"; {_DONE.get(guard.event_reason, 'changed')}"


def post(session: Session, guard: Guard, changed: dict[str, Any], text: str) -> dict[str, Any] | None:
    """Post the Event about one changed object; None when it has no Kubernetes object."""
    from chaosql.sources.kube import KubeSource

    if changed.get("source") not in (None, "kube"):
        return None
    source = next((s for s in session.sources if isinstance(s, KubeSource) and s.name == changed.get("cluster")), None)
    if source is None:
        return None  # a snapshot directory
    from chaosql.sources import groups

    kind = changed.get("kind") or _KIND_OF.get(guard.target, "")
    group = groups.group_of(kind)  # an engine plugin's kind (a ChaosEngine) has its own API
    involved = {
        "apiVersion": group.api_version if group is not None else API_VERSION,
        "kind": kind,
        "namespace": changed.get("namespace") or "",
        "name": changed.get("name") or "",
        "uid": changed.get("uid") or "",
    }
    source.post_event(involved, reason=guard.event_reason, message=text, type="Warning", component=COMPONENT)
    return involved
