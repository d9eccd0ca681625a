"""The engine: sqlglot analysis, pushdown, fetch, then DuckDB. ``Session`` is its whole API."""

from chaosql.engine.session import SETTINGS, Result, Session

__all__ = ["SETTINGS", "Result", "Session"]
