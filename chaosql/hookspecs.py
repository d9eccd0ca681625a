"""Plugin hooks. A plugin is a module with ``@hookimpl`` functions, found through the ``chaosql``
entry-point group. chaosql's own tables and sources register through the same hooks
(``chaosql.plugins.DEFAULT_PLUGINS``: ``chaosql.tables``, ``chaosql.sources`` and the LitmusChaos
engine, ``chaosql.litmus``, the worked example of adding a chaos engine in docs/plugins.md).

Set ``CHAOSQL_TRACE_PLUGINS=1`` to print every hook call on stderr.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("chaosql")
hookimpl = pluggy.HookimplMarker("chaosql")


@hookspec
def register_tables():
    """Return a list of ``chaosql.tables._table.Table`` objects to add to the table registry.

    A table name may be registered once; the built-in tables come first."""


@hookspec
def register_sources():
    """Return a dict ``scheme -> factory(name, spec, config)`` for ``--source scheme:spec``.

    A factory returns an object that meets ``chaosql.sources.base.Source`` (family, name,
    kind_label, warnings, describe(), close()); tables whose feeds have its family read it."""


@hookspec
def register_api_groups():
    """Return a list of ``chaosql.sources.groups.ApiGroup``: Kubernetes API groups of a chaos
    engine whose objects Kubernetes sources read (discovered per cluster; a cluster that does not
    serve a group has none of its objects) and snapshot sources keep."""


@hookspec
def register_feeds():
    """Return a dict ``table name -> list of chaosql.tables._table.Feed``: rows a plugin adds to a
    table registered by another, e.g. an engine's experiments in the ``experiments`` table.

    A feed's ``covers`` (column -> values its rows can have) lets a query skip it: with
    ``engine = 'chaos-mesh'`` a feed that covers ``{"engine": {"litmus"}}`` is not asked."""


@hookspec
def register_writes():
    """Return a list of ``chaosql.writers.objects.KindWrites``: how rows of a writable table
    become objects of kinds an engine plugin owns (INSERT builds the object, ``SET paused``
    becomes the engine's own stop). DELETE deletes the object a row came from; every write is
    checked offline against the kind's CRD, dry-run, then applied all or nothing."""


@hookspec
def prepare_session(connection):
    """Called with each new DuckDB connection (a ``duckdb.DuckDBPyConnection``): register
    functions, macros or settings."""
