"""The engine: sqlglot analysis, pushdown, fetch, then DuckDB. ``Session`` is its whole API."""

from chaosql.engine.result import Result
from chaosql.engine.session import Session
from chaosql.engine.settings import SETTINGS

__all__ = ["SETTINGS", "Result", "Session"]
