"""Statement time limits: one shared thread that cancels statements past their deadline.

A ``threading.Timer`` per statement starts and joins a thread every time, which is most of the
cost of a ``SELECT 1`` over the wire; one sleeping thread with a heap of deadlines costs nothing
until a deadline passes.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable


class Watchdog:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._armed: set[int] = set()
        self._tokens = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, seconds: float, action: Callable[[], None]) -> int:
        """Call ``action`` after ``seconds`` unless ``disarm`` comes first; returns the token."""
        with self._cond:
            token = next(self._tokens)
            heapq.heappush(self._heap, (time.monotonic() + seconds, token, action))
            self._armed.add(token)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="chaosql-watchdog", daemon=True)
                self._thread.start()
            self._cond.notify()
        return token

    def disarm(self, token: int) -> None:
        with self._cond:
            self._armed.discard(token)  # its heap entry is dropped when it comes up

    def _run(self) -> None:
        while True:
            due: list[Callable[[], None]] = []
            with self._cond:
                while not due:
                    while self._heap and self._heap[0][1] not in self._armed:
                        heapq.heappop(self._heap)
                    if not self._heap:
                        self._cond.wait()
                        continue
                    deadline, token, action = self._heap[0]
                    wait = deadline - time.monotonic()
                    if wait > 0:
                        self._cond.wait(wait)
                        continue
                    heapq.heappop(self._heap)
                    self._armed.discard(token)
                    due.append(action)
            for action in due:  # outside the lock: cancelling may take a moment
                try:
                    action()
                except Exception:
                    pass


WATCHDOG = Watchdog()
