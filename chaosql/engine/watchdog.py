"""Statement time limits: one shared thread that cancels statements past their deadline.

A ``threading.Timer`` per statement starts and joins a thread every time, which is most of the
cost of a ``SELECT 1`` over the wire; one sleeping thread with a heap of deadlines costs nothing
until a deadline passes.

The thread serves every session of the process (every client of a server), so no value may stop
it: ``arm`` takes only finite, non-negative seconds (0 or infinity: no deadline at all), the
thread never sleeps longer than ``MAX_SLEEP`` at once (``Condition.wait`` overflows on huge
timeouts), and an action that fails is ignored.
"""

from __future__ import annotations

import heapq
import itertools
import math
import threading
import time
from collections.abc import Callable

#: The longest single sleep of the thread; a later deadline is reached in several sleeps.
MAX_SLEEP = 60.0
#: The token of a statement without a deadline (``disarm`` ignores it).
NO_DEADLINE = -1


class Watchdog:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._armed: set[int] = set()
        self._tokens = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, seconds: float, action: Callable[[], None]) -> int:
        """Call ``action`` after ``seconds`` unless ``disarm`` comes first; returns the token.
        ``0`` or infinity means no deadline; a negative or NaN ``seconds`` is a ValueError."""
        seconds = float(seconds)
        if math.isnan(seconds) or seconds < 0:
            raise ValueError(f"a statement deadline needs seconds >= 0, not {seconds}")
        if seconds == 0 or math.isinf(seconds):
            return NO_DEADLINE
        with self._cond:
            token = next(self._tokens)
            heapq.heappush(self._heap, (time.monotonic() + seconds, token, action))
            self._armed.add(token)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="chaosql-watchdog", daemon=True)
                self._thread.start()
            if self._heap[0][1] == token:  # sooner than what the thread sleeps until: it must know
                self._cond.notify()
        return token

    def disarm(self, token: int) -> None:
        with self._cond:
            self._armed.discard(token)  # its heap entry is dropped when it comes up

    def _run(self) -> None:
        while True:
            try:
                due = self._next_due()
            except Exception:  # never let the thread die: every session's deadline depends on it
                time.sleep(0.01)
                continue
            for action in due:  # outside the lock: cancelling may take a moment
                try:
                    action()
                except Exception:
                    pass

    def _next_due(self) -> list[Callable[[], None]]:
        """Wait for the next deadline to pass; returns its action."""
        with self._cond:
            while True:
                while self._heap and self._heap[0][1] not in self._armed:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait()
                    continue
                deadline, token, action = self._heap[0]
                wait = deadline - time.monotonic()
                if wait > 0:
                    self._cond.wait(min(wait, MAX_SLEEP))
                    continue
                heapq.heappop(self._heap)
                self._armed.discard(token)
                return [action]


WATCHDOG = Watchdog()
