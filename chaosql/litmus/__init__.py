"""LitmusChaos as a chaos engine of chaosql: a plugin, written with chaosql's own hooks.

chaosql loads it like its built-in tables and sources (``chaosql.plugins.DEFAULT_PLUGINS``); a
plugin of another package would name its module in the ``chaosql`` entry-point group instead.
It is the worked example of docs/plugins.md. What each hook gives:

* ``register_api_groups``: ``litmuschaos.io/v1alpha1`` (ChaosEngine, ChaosExperiment,
  ChaosResult), so Kubernetes sources discover it in each cluster and snapshots keep its objects.
  Nothing else decides whether LitmusChaos is on: a cluster that serves the group has its rows, one
  that does not (or has only Chaos Mesh) has none and says nothing about it.
* ``register_feeds``: rows of the unified tables (``chaosql.litmus.rows``): each run of a
  ChaosEngine in ``experiments``, the targets its ChaosResult lists in ``targets``, the Events
  about litmuschaos.io objects in ``events``; ``engine = 'litmus'`` tells them apart.
* ``register_tables``: ``litmus_results`` (``chaosql.litmus.results``), the typed ChaosResults.
* ``register_writes``: INSERT into ``experiments`` with ``kind = 'ChaosEngine'`` creates one,
  ``SET paused`` stops or restarts it (``chaosql.litmus.writes``); checked against its CRD offline.

The facts these rest on (names, values, the phase mapping) are in ``chaosql.litmus.facts``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chaosql.hookspecs import hookimpl

if TYPE_CHECKING:
    from chaosql.sources.groups import ApiGroup
    from chaosql.tables._table import Feed, Table
    from chaosql.writers.objects import KindWrites


@hookimpl
def register_api_groups() -> list[ApiGroup]:
    from chaosql.litmus.facts import API_GROUP

    return [API_GROUP]


@hookimpl
def register_feeds() -> dict[str, list[Feed]]:
    from chaosql.litmus.rows import FEEDS

    return dict(FEEDS)


@hookimpl
def register_tables() -> list[Table]:
    from chaosql.litmus.results import TABLE

    return [TABLE]


@hookimpl
def register_writes() -> list[KindWrites]:
    from chaosql.litmus.writes import LitmusWrites

    return [LitmusWrites()]
