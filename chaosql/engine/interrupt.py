"""SIGINT and SIGTERM as a cancel of the running statement, so a write rolls back.

Python's default SIGINT raises ``KeyboardInterrupt`` wherever the main thread happens to be, and
SIGTERM ends the process at once: either way a write part-way through its API calls would leave
what it had made. ``cancel_on_signals`` turns both into ``Session.cancel``: the statement makes no
further forward call, undoes what it made (the undo is not stopped by the cancel), and raises
``WriteCancelled`` saying what state is left. A signal that arrives while no statement runs stops
the program as before (``KeyboardInterrupt``), since nothing is half-done then.

A second signal during the rollback does not stop it (that would leave the objects behind); it is
answered with a line saying the rollback is under way. ``kill -9`` still ends the process.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

#: Signals that cancel the running statement.
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupts:
    """The sessions a command runs statements on, and the signal that stopped it (if any)."""

    def __init__(self, err: TextIO | None = None) -> None:
        self.sessions: list[Any] = []
        self.signum: int | None = None
        self.err = err

    def watch(self, session: Any) -> Any:
        """Cancel ``session``'s running statement on a signal; returns the session."""
        self.sessions.append(session)
        return session

    @property
    def exit_code(self) -> int | None:
        """128 + the signal number (130 for SIGINT, 143 for SIGTERM), or None without a signal."""
        return None if self.signum is None else 128 + self.signum

    def handle(self, signum: int, frame: Any = None) -> None:
        name = signal.Signals(signum).name
        first = self.signum is None
        self.signum = self.signum or signum
        running = [s for s in self.sessions if getattr(s, "running", None) is not None]
        if not running:
            raise KeyboardInterrupt  # nothing is half-done: stop here
        for session in running:
            statement = session.running
            if first:
                session.cancel(f"interrupted ({name})")
            elif statement is not None and statement.is_write:
                self._say(f"chaosql: {name}: still rolling back the write; kill -9 would leave its objects behind")

    def _say(self, line: str) -> None:
        stream = self.err or sys.stderr
        try:
            print(line, file=stream, flush=True)
        except Exception:
            pass


@contextmanager
def on_signals(handler: Callable[[int, Any], None]) -> Iterator[None]:
    """While the block runs, SIGINT and SIGTERM call ``handler(signum, frame)`` instead of stopping
    the process; the previous handlers come back afterwards. Signals reach only the main thread, so
    elsewhere nothing is installed."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, handler) for signum in SIGNALS}
    try:
        yield
    finally:
        for signum, before in previous.items():
            signal.signal(signum, before)


@contextmanager
def cancel_on_signals(err: TextIO | None = None) -> Iterator[Interrupts]:
    """While the block runs (in the main thread), SIGINT and SIGTERM cancel the running statement
    of every session given to ``Interrupts.watch`` instead of stopping the process mid-call."""
    interrupts = Interrupts(err)
    with on_signals(interrupts.handle):
        yield interrupts
