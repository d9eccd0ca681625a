"""The Kubernetes API groups chaosql reads chaos objects from, one per chaos engine.

Chaos Mesh's group (``chaos-mesh.org/v1alpha1``) is registered by ``chaosql.sources``; an engine
plugin registers its own through the ``register_api_groups`` hook (``chaosql.litmus`` registers
``litmuschaos.io/v1alpha1``). Kubernetes sources discover each group per cluster (a cluster that
does not serve a group simply has none of its objects), and snapshot sources keep objects of the
registered groups' kinds.

Kinds are named without their group everywhere in chaosql (``ChaosEngine``, ``PodChaos``), so a
group either lists the kinds it owns, or (Chaos Mesh, whose experiment kinds grow with each
release) is the one *open* group that owns every other kind it serves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chaosql.crds import Crd


@dataclass(frozen=True)
class ApiGroup:
    """One API group and version of custom resources, and the chaos engine behind it.

    ``shipped`` returns the CRDs of the group that come with chaosql or the plugin (kind -> Crd),
    which writes are checked against offline when a cluster does not show its own."""

    group: str  # litmuschaos.io
    version: str  # v1alpha1
    engine: str  # the engine column's value for its rows: chaos-mesh, litmus
    title: str  # the engine in messages: Chaos Mesh, LitmusChaos
    kinds: frozenset[str] | None = None  # the kinds chaosql reads; None: every kind it serves (open)
    shipped: Callable[[], Mapping[str, Crd]] | None = field(default=None, compare=False)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}"

    @property
    def prefix(self) -> str:
        """The API path its resources live under: ``/apis/litmuschaos.io/v1alpha1``."""
        return f"/apis/{self.api_version}"

    def owns(self, kind: str) -> bool:
        return self.kinds is None or kind in self.kinds


_groups: tuple[ApiGroup, ...] | None = None


def api_groups() -> tuple[ApiGroup, ...]:
    """Every registered group, from every ``register_api_groups`` hook (chaosql's first).

    >>> [g.api_version for g in api_groups()][:2]
    ['chaos-mesh.org/v1alpha1', 'litmuschaos.io/v1alpha1']
    """
    global _groups
    if _groups is None:
        from chaosql import plugins

        found: list[ApiGroup] = []
        for answer in plugins.hook().register_api_groups():
            for group in answer or ():
                _check(group, found)
                found.append(group)
        _groups = tuple(found)
    return _groups


def forget() -> None:
    """Read the hooks again on next use (after a plugin was registered or unregistered)."""
    global _groups
    _groups = None


def _check(group: ApiGroup, found: list[ApiGroup]) -> None:
    for other in found:
        if other.group == group.group:
            raise ValueError(f"API group {group.group} is registered twice")
        if group.kinds is None and other.kinds is None:
            raise ValueError(f"API groups {other.group} and {group.group} both claim every kind; list the kinds")
        shared = (group.kinds or frozenset()) & (other.kinds or frozenset())
        if shared:
            raise ValueError(f"kinds {', '.join(sorted(shared))} are claimed by {other.group} and {group.group}")


def group_of(kind: str) -> ApiGroup | None:
    """The group that owns ``kind``: the one that lists it, else the open group.

    >>> group_of("ChaosEngine").engine, group_of("PodChaos").engine
    ('litmus', 'chaos-mesh')
    """
    groups = api_groups()
    listed = next((g for g in groups if g.kinds is not None and kind in g.kinds), None)
    return listed or next((g for g in groups if g.kinds is None), None)


def named(group: str) -> ApiGroup | None:
    """The registered group called ``group`` (``litmuschaos.io``), if any."""
    return next((g for g in api_groups() if g.group == group), None)
