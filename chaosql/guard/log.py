"""The decision log of a long-running chaosql process (``guard``, ``sweep``): one line per
decision on stderr, as text for people or as JSON lines (``--log-format json``) for a log
pipeline. Each record has ``ts`` (UTC, ISO 8601), ``level``, ``event`` and its own fields; rows
and statements are logged whole, so the log alone says what was done and why.

>>> import io
>>> out = io.StringIO()
>>> log = DecisionLog(out, fmt="json", clock=lambda: "2026-11-20T12:00:00.000Z")
>>> log.info("act", guard="p99", statement="UPDATE ...", rows=[{"name": "d1", "p99": 0.5}])
>>> out.getvalue()
'{"ts": "2026-11-20T12:00:00.000Z", "level": "info", "event": "act", "guard": "p99", "statement": "UPDATE ...", "rows": [{"name": "d1", "p99": 0.5}]}\\n'
>>> out = io.StringIO()
>>> DecisionLog(out, clock=lambda: "2026-11-20T12:00:00.000Z").warning("blind", guard="p99", error="down")
>>> out.getvalue()
'2026-11-20T12:00:00.000Z warning blind guard=p99 error=down\\n'
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TextIO

FORMATS = ("text", "json")
LEVELS = ("debug", "info", "warning", "error")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class DecisionLog:
    """Thread-safe: guards evaluate in threads of their own and log as they decide."""

    def __init__(
        self, out: TextIO, *, fmt: str = "text", verbose: bool = False, clock: Callable[[], str] = _now
    ) -> None:
        self.out, self.fmt, self.verbose, self.clock = out, fmt, verbose, clock
        self._lock = threading.Lock()

    def log(self, level: str, event: str, **fields: Any) -> None:
        if level == "debug" and not self.verbose:
            return
        from chaosql.output import jsonable  # NaN and infinities as "NaN"..., times as ISO text

        record = {"ts": self.clock(), "level": level, "event": event} | {k: jsonable(v) for k, v in fields.items()}
        if self.fmt == "json":
            line = json.dumps(record, default=str)
        else:
            parts = [record.pop("ts"), record.pop("level"), record.pop("event")]
            parts += [f"{k}={_text(v)}" for k, v in record.items() if v is not None]
            line = " ".join(parts)
        with self._lock:
            try:
                self.out.write(line + "\n")
                self.out.flush()
            except (OSError, ValueError):  # stderr closed: the decision still happened
                pass

    def debug(self, event: str, **fields: Any) -> None:
        self.log("debug", event, **fields)

    def info(self, event: str, **fields: Any) -> None:
        self.log("info", event, **fields)

    def warning(self, event: str, **fields: Any) -> None:
        self.log("warning", event, **fields)

    def error(self, event: str, **fields: Any) -> None:
        self.log("error", event, **fields)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value if value and not any(c.isspace() for c in value) else json.dumps(value)
    return json.dumps(value, default=str)
