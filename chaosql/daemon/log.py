"""The log of a long-running chaosql process: one line per event on stderr, as text for people or
as JSON lines (``--log-format json``) for a log pipeline. Each record has ``ts`` (UTC, ISO 8601),
``level``, ``event`` and its own fields; values are written as strict JSON (NaN as ``"NaN"``,
times as ISO text), so the log alone says what was done and why.

>>> import io
>>> out = io.StringIO()
>>> log = EventLog(out, fmt="json", clock=lambda: "2026-11-20T12:00:00.000Z")
>>> log.info("refreshed", families=12, seconds=0.25)
>>> out.getvalue()
'{"ts": "2026-11-20T12:00:00.000Z", "level": "info", "event": "refreshed", "families": 12, "seconds": 0.25}\\n'
>>> out = io.StringIO()
>>> EventLog(out, clock=lambda: "2026-11-20T12:00:00.000Z").warning("family failed", family="x", error="no such table")
>>> out.getvalue()
'2026-11-20T12:00:00.000Z warning "family failed" family=x error="no such table"\\n'
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


class EventLog:
    """Thread-safe: a process's threads (refreshes, HTTP handlers, loops) log as they go."""

    def __init__(
        self, out: TextIO, *, fmt: str = "text", verbose: bool = False, clock: Callable[[], str] = _now
    ) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"log format {fmt!r} is not one of {', '.join(FORMATS)}")
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
            parts = [record.pop("ts"), record.pop("level"), _text(record.pop("event"))]
            parts += [f"{k}={_text(v)}" for k, v in record.items() if v is not None]
            line = " ".join(parts)
        with self._lock:
            try:
                self.out.write(line + "\n")
                self.out.flush()
            except (OSError, ValueError):  # stderr closed: what happened still happened
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
    """A value in a text line: bare when it is one word, else as JSON (quoted, escaped)."""
    if isinstance(value, str):
        return value if value and not any(c.isspace() or c == '"' for c in value) else json.dumps(value)
    return json.dumps(value, default=str)
