"""The engine: sqlglot analysis, pushdown, fetch, then DuckDB. ``Session`` is its whole API.

The names below are loaded on first use, so importing a light module of the engine (``interrupt``,
on the command line's quick path to a running service) does not load DuckDB, Arrow and sqlglot.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chaosql.engine.result import Result
    from chaosql.engine.session import Session
    from chaosql.engine.settings import SETTINGS

__all__ = ["SETTINGS", "Result", "Session"]

_HOMES = {"Result": "chaosql.engine.result", "Session": "chaosql.engine.session", "SETTINGS": "chaosql.engine.settings"}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'chaosql.engine' has no attribute {name!r}")
