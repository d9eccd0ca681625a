"""Plugin hooks. A plugin is a module with ``@hookimpl`` functions, found through the ``chaosql``
entry-point group; chaosql's own sources and tables register through the same hooks.

Set ``CHAOSQL_TRACE_PLUGINS=1`` to print every hook call on stderr.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("chaosql")
hookimpl = pluggy.HookimplMarker("chaosql")


@hookspec
def register_tables():
    """Return a list of ``chaosql.tables._table.Table`` objects to add to the catalog."""


@hookspec
def register_sources():
    """Return a dict ``scheme -> factory(name, spec, config)`` for ``--source scheme:spec``."""


@hookspec
def prepare_session(connection):
    """Called with each new DuckDB connection: register functions, macros or settings."""
