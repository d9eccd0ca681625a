"""The virtual tables: one module per table, each exporting ``TABLE``; ``chaos_kinds`` generates the
typed chaos tables (``TABLES``: network_chaos, ... from the CRD schemas).

The built-in tables come in through the ``register_tables`` hook below, the one plugins implement
(see ``chaosql.hookspecs``), so the registry knows no other path.
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import TYPE_CHECKING

from chaosql.hookspecs import hookimpl

if TYPE_CHECKING:
    from chaosql.tables._table import Feed, Table

#: The built-in tables' modules, in the order SHOW TABLES and the docs list them.
BUILTIN: tuple[str, ...] = (
    "experiments",
    "targets",
    "pods",
    "nodes",
    "events",
    "schedules",
    "workflows",
    "workflow_nodes",
    "metrics",
    "metric_series",
    "impact",
)
#: Tables whose snapshots ``chaosql snapshot`` keeps: each has a ``history_<name>`` table (history:DIR).
HISTORY_OF = ("experiments", "targets", "events", "metrics")

_registry: dict[str, Table] | None = None


@hookimpl(tryfirst=True)  # built-in tables first, then the plugins'
def register_tables() -> list[Table]:
    from chaosql.tables.history import history_table

    tables = {name: importlib.import_module(f"chaosql.tables.{name}").TABLE for name in BUILTIN}
    typed: list[Table] = importlib.import_module("chaosql.tables.chaos_kinds").TABLES
    return list(tables.values()) + typed + [history_table(tables[name]) for name in HISTORY_OF]


def registry() -> dict[str, Table]:
    """Every virtual table by name, from every ``register_tables`` hook: chaosql's, then plugins'."""
    global _registry
    if _registry is None:
        from chaosql import plugins

        registry: dict[str, Table] = {}
        for tables in plugins.hook().register_tables():
            for table in tables or []:
                if table.name in registry:
                    raise ValueError(f"table {table.name} is registered twice")
                registry[table.name] = table
        extra: dict[str, list[Feed]] = {}
        for feeds in plugins.hook().register_feeds():
            for name, more in (feeds or {}).items():
                if name not in registry:
                    raise ValueError(f"feeds registered for table {name}, which no plugin registers")
                extra.setdefault(name, []).extend(more)
        for name, more in extra.items():  # a copy: the module's own Table keeps its own feeds
            registry[name] = dataclasses.replace(registry[name], feeds=[*registry[name].feeds, *more])
        _registry = registry
    return _registry
