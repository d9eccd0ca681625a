"""chaosql: SQL over chaos-engineering state (Chaos Mesh, Chaosd, Prometheus).

>>> import chaosql
>>> session = chaosql.connect()          # the bundled demo snapshot
>>> session.execute("SELECT count(*) > 0 FROM experiments").scalar()
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["ChaosqlError", "Result", "Session", "__version__", "connect"]

if TYPE_CHECKING:
    from chaosql.engine.session import Result, Session
    from chaosql.errors import ChaosqlError


def connect(*sources: str, config: str | None = None, **settings: Any) -> Session:
    """A Session over ``sources`` (specs such as ``"demo"`` or ``"snapshot:PATH"``; default: the config, else demo)."""
    from chaosql.config import load_config, open_sources

    cfg = load_config(config)
    return __getattr__("Session")(
        open_sources(list(sources), cfg), settings={**cfg.settings, **settings}, owns_sources=True
    )


def __getattr__(name: str) -> Any:  # lazy: importing chaosql stays cheap
    if name in ("Session", "Result"):
        from chaosql.engine import session

        return getattr(session, name)
    if name == "ChaosqlError":
        from chaosql.errors import ChaosqlError

        return ChaosqlError
    raise AttributeError(name)
