"""Counters from state that can shrink: totals that keep growing when objects are deleted.

A keyed counter family (``-- metric_type: counter`` with ``-- key: uid``) reports, per object,
a value that only grows while the object lives (1 for "it exists", an Event's ``count``). The
total for a label set is what every object with those labels ever gained: an object seen for the
first time adds its whole value, one seen before adds its growth, one whose value fell (recreated
under the same key) adds its new value, as Prometheus reads a counter reset. An object that is
gone stays remembered for ``forget_after`` seconds, so a cluster that was unreachable for a while
does not count its objects twice when it comes back.

With a state file (``chaosql export --state FILE``) the totals and the remembered objects are
written there (atomically, at most every ``save_every`` seconds and on exit) and read back at
start, so the counters stay monotonic across restarts; without one they start again from what is
there at start (Prometheus sees a counter reset).

>>> state = CounterState(None)
>>> state.advance("c", [('{ns="a"}', 1.0, "u1"), ('{ns="a"}', 1.0, "u2")], now=0)
{'{ns="a"}': 2.0}
>>> state.advance("c", [('{ns="a"}', 1.0, "u2"), ('{ns="a"}', 1.0, "u3")], now=10)   # u1 deleted
{'{ns="a"}': 3.0}
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from chaosql.errors import UsageError

#: Seconds an object that is gone stays remembered (a week).
FORGET_AFTER = 7 * 86_400.0
VERSION = 1


class CounterState:
    def __init__(self, path: Path | None, *, forget_after: float = FORGET_AFTER, save_every: float = 30.0) -> None:
        self.path = path
        self.forget_after = forget_after
        self.save_every = save_every
        self.totals: dict[str, dict[str, float]] = {}  # family -> label text -> total
        self.seen: dict[str, dict[str, list[float]]] = {}  # family -> key -> [value, last seen (unix)]
        self.dirty = False
        self.saved_at = 0.0
        self._lock = threading.Lock()
        if path is not None and path.exists():
            self._load(path)

    def _load(self, path: Path) -> None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise UsageError(
                f"cannot read the counter state {path}: {err}",
                hint="fix or remove the file (the counters then start again from zero)",
            ) from None
        if not isinstance(data, dict) or data.get("version") != VERSION:
            raise UsageError(f"{path} is not a chaosql export counter state (version {VERSION})")
        for family, held in (data.get("families") or {}).items():
            self.totals[family] = {str(k): float(v) for k, v in (held.get("totals") or {}).items()}
            self.seen[family] = {str(k): [float(v[0]), float(v[1])] for k, v in (held.get("seen") or {}).items()}

    def advance(
        self, family: str, rows: Iterable[tuple[str, float, str]], *, now: float | None = None
    ) -> dict[str, float]:
        """Fold one evaluation (label text, value, key per object) into ``family``'s totals."""
        now = time.time() if now is None else now
        with self._lock:
            totals = self.totals.setdefault(family, {})
            seen = self.seen.setdefault(family, {})
            for labels, value, key in rows:
                before = seen.get(key)
                gained = value if before is None or value < before[0] else value - before[0]
                if gained:
                    totals[labels] = totals.get(labels, 0.0) + gained
                else:
                    totals.setdefault(labels, 0.0)
                seen[key] = [value, now]
            for key in [k for k, (_, last) in seen.items() if now - last > self.forget_after]:
                del seen[key]
            self.dirty = True
            return dict(totals)

    def current(self, family: str) -> dict[str, float]:
        with self._lock:
            return dict(self.totals.get(family, {}))

    def save(self, *, force: bool = False) -> bool:
        """Write the state when it changed (and ``save_every`` has passed, unless ``force``)."""
        if self.path is None or not self.dirty or (not force and time.monotonic() - self.saved_at < self.save_every):
            return False
        from chaosql.reports.atomic import atomic_writer

        with self._lock:
            data: dict[str, Any] = {
                "version": VERSION,
                "families": {
                    f: {"totals": self.totals.get(f, {}), "seen": self.seen.get(f, {})}
                    for f in sorted(set(self.totals) | set(self.seen))
                },
            }
            self.dirty = False
        text = json.dumps(data, separators=(",", ":"))
        with atomic_writer(self.path) as out:
            out.write(text)
        self.saved_at = time.monotonic()
        return True
