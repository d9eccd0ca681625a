"""A polled cache for sources that have no change feed (Chaosd), in long-running processes.

Where Kubernetes can be watched (``sources.cache``), a Chaosd node can only be asked again. A
``PollCache`` keeps the last answer of each read a statement made (a node's experiments, a
scheduled experiment's runs, its health) and asks again in the background every ``interval``
seconds while statements keep reading it, so a statement gets an answer at most ``interval`` old
without waiting for the node:

* an answer older than ``interval`` (the poller fell behind, or the node did not answer) is not
  used: the statement asks the node itself, and gets its error if it is down;
* a write through chaosql (an attack, a recover) drops the node's answers: the next statement asks
  the node (read-your-writes);
* an answer nobody read for ``idle`` seconds is dropped, and no longer polled.

``-v`` and ``EXPLAIN ANALYZE`` show a cached answer as ``cache GET URL (age N ms)``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

from chaosql.sources.base import Call, CallLog

#: Seconds between two polls of an answer statements read (and the most its age may be).
INTERVAL = 2.0


class _Answer:
    __slots__ = ("fetch", "fetched", "items", "last_read", "value", "what")

    def __init__(self, value: Any, fetch: Callable[[CallLog | None], Any], what: str, items: int) -> None:
        self.value, self.fetch, self.what, self.items = value, fetch, what, items
        self.fetched = self.last_read = time.monotonic()


class PollCache:
    """Answers by key, asked again in the background while they are read."""

    def __init__(self, *, source: str, interval: float = INTERVAL, idle: float = 600.0) -> None:
        self.source = source
        self.interval = interval
        self.idle = idle
        self._answers: dict[Hashable, _Answer] = {}
        self._writes: dict[str, int] = {}  # node -> writes so far (answers asked across one are dropped)
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None

    def get(
        self, key: Hashable, fetch: Callable[[CallLog | None], Any], log: CallLog | None, *, node: str, what: str
    ) -> Any:
        """The answer of ``fetch`` for ``key``: kept if younger than ``interval``, else asked now."""
        now = time.monotonic()
        with self._lock:
            kept = self._answers.get(key)
            if kept is not None and now - kept.fetched <= self.interval:
                kept.last_read = now
                if log is not None:
                    age = (now - kept.fetched) * 1000
                    log.record(Call(self.source, node, f"cache {what} (age {age:.0f} ms)", kept.items))
                return kept.value
            writes = self._writes.get(node, 0)
        value = fetch(log)
        with self._lock:
            if self._writes.get(node, 0) == writes:  # no write to the node while it was asked
                self._answers[key] = _Answer(value, fetch, what, len(value) if isinstance(value, list) else 1)
                self._start()
        return value

    def forget(self, node: str) -> None:
        """A write went to ``node``: drop what was kept about it (keys are tuples whose second item
        is the node), and any answer being asked meanwhile."""
        with self._lock:
            self._writes[node] = self._writes.get(node, 0) + 1
            for key in [k for k in self._answers if isinstance(k, tuple) and len(k) > 1 and k[1] == node]:
                del self._answers[key]

    def close(self) -> None:
        self._closed.set()

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._poll, name="chaosql-poll", daemon=True)
            self._thread.start()

    def _poll(self) -> None:
        while not self._closed.wait(self.interval / 2):
            now = time.monotonic()
            with self._lock:
                for key in [k for k, a in self._answers.items() if now - a.last_read > self.idle]:
                    del self._answers[key]
                due = [(k, a) for k, a in self._answers.items() if now - a.fetched >= self.interval / 2]
            for key, answer in due:
                try:
                    value = answer.fetch(None)
                except Exception:
                    continue  # the next statement asks the node itself, and says what is wrong
                with self._lock:
                    if self._answers.get(key) is answer:  # not dropped by a write meanwhile
                        answer.value, answer.fetched = value, time.monotonic()
                        answer.items = len(value) if isinstance(value, list) else 1
