"""The plugin manager: loads plugins from the ``chaosql`` entry-point group, lazily."""

from __future__ import annotations

import os
import sys
from functools import lru_cache


@lru_cache(maxsize=1)
def manager():
    import pluggy

    from chaosql import hookspecs

    pm = pluggy.PluginManager("chaosql")
    pm.add_hookspecs(hookspecs)
    pm.load_setuptools_entrypoints("chaosql")
    if os.environ.get("CHAOSQL_TRACE_PLUGINS"):
        pm.trace.root.setwriter(lambda msg: sys.stderr.write(msg))
        pm.enable_tracing()
    return pm


def hook():
    return manager().hook
