"""The virtual tables: one module per table, each exporting ``TABLE``.

Plugins add tables through the ``register_tables`` hook (see ``chaosql.hookspecs``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chaosql.tables._table import Table

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
BUILTIN += (
    "history_experiments",
    "history_targets",
    "history_events",
    "history_metrics",
)  # snapshots, from history:DIR

_registry: dict[str, Table] | None = None


def registry() -> dict[str, Table]:
    """Every virtual table by name, built-in ones first, then those plugins register."""
    global _registry
    if _registry is None:
        tables = [importlib.import_module(f"chaosql.tables.{name}").TABLE for name in BUILTIN]
        from chaosql import plugins

        for extra in plugins.hook().register_tables():
            tables.extend(extra or [])
        _registry = {}
        for table in tables:
            if table.name in _registry:
                raise ValueError(f"table {table.name} is registered twice")
            _registry[table.name] = table
    return _registry
