"""The plugin manager: chaosql's own hook implementations, then plugins from the ``chaosql``
entry-point group, loaded lazily (on the first hook call, not at import).

As Datasette does with its ``DEFAULT_PLUGINS``, the built-in tables and sources register through
the hooks plugins use, so a plugin's table or source goes down the same path as ``experiments``
or ``kube``.
"""

from __future__ import annotations

import importlib
import os
import sys
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pluggy

#: Modules of chaosql that implement hooks: its own tables and sources, and the LitmusChaos engine.
DEFAULT_PLUGINS = ("chaosql.tables", "chaosql.sources", "chaosql.litmus")


@lru_cache(maxsize=1)
def manager() -> pluggy.PluginManager:
    import pluggy

    from chaosql import hookspecs

    pm = pluggy.PluginManager("chaosql")
    pm.add_hookspecs(hookspecs)
    for name in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(name), name=name)
    pm.load_setuptools_entrypoints("chaosql")
    if os.environ.get("CHAOSQL_TRACE_PLUGINS"):
        pm.trace.root.setwriter(lambda msg: sys.stderr.write(msg))
        pm.enable_tracing()
    return pm


def hook() -> pluggy.HookRelay:
    return manager().hook
