"""``chaosql guard`` as a process: the sources (with their watch caches), one loop per guard, the
health endpoint, and the signals that stop it.

SIGTERM (systemd, Kubernetes) and SIGINT (Ctrl-C) stop it the same way: no new evaluation starts,
a read in progress is cancelled, an action in progress runs to its end, then the sessions and
sources close and the process exits (0 after SIGTERM, 130 after SIGINT). A second signal abandons
the actions still running: each write is cancelled and rolls back what it had done (the engine's
cancel), so it is applied whole or not at all, never half.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Sequence
from typing import Any

from chaosql.daemon.log import EventLog
from chaosql.engine.interrupt import on_signals
from chaosql.guard.definition import GuardFile
from chaosql.guard.runner import GuardLoop

EXIT_OK, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 130


class GuardProcess:
    def __init__(
        self,
        guards: GuardFile,
        sources: Sequence[Any],
        settings: dict[str, Any],
        log: EventLog,
        *,
        health: tuple[str, int] | None = None,
    ) -> None:
        from chaosql.engine.session import Session

        self.file, self.sources, self.log = guards, list(sources), log
        self.loops = [GuardLoop(g, Session(self.sources, settings=settings), log) for g in guards.guards]
        self.health = None
        if health is not None:
            from chaosql.daemon.http import Endpoint
            from chaosql.guard.health import health_route

            route = health_route(self.loops)
            self.health = Endpoint(
                health,
                {"/healthz": route, "/": route},
                name="chaosql-guard-health",
                option="--health",
                on_error=lambda path, err: log.error("health-failed", path=path, error=f"{type(err).__name__}: {err}"),
            )
        self.stopped = threading.Event()
        self.signal: str | None = None

    def run(self, *, install_signals: bool = True) -> int:
        """Run until ``stop()`` or a signal; returns the exit code."""
        if not install_signals:
            return self._run()
        with on_signals(self._on_signal):
            return self._run()

    def _run(self) -> int:
        self.log.info(
            "start",
            file=str(self.file.path),
            sources=[getattr(s, "name", "?") for s in self.sources],
            guards=[
                {"name": g.name, "every": g.every, "for": g.for_, "dry_run": g.dry_run, "on_blind": g.on_blind}
                for g in self.file.guards
            ],
            health=self.health.address if self.health else None,
        )
        if self.health is not None:
            self.health.start()
        for loop in self.loops:
            loop.start()
        code = None
        try:
            while code is None and not self.stopped.wait(0.25):  # short waits: signals run on this thread
                failed = next((loop for loop in self.loops if loop.fatal is not None), None)
                if failed is not None:
                    self.log.error(
                        "fatal",
                        guard=failed.guard.name,
                        error=f"when cannot run: {failed.fatal}",
                        hint="fix the guard's when query (chaosql query runs it as it is)",
                    )
                    code = EXIT_ERROR
        finally:
            self.stop()
            for loop in self.loops:
                if loop.thread is not None:
                    loop.thread.join()  # each finishes its evaluation, and the action it decided on
            if self.health is not None:
                self.health.stop()
            for loop in self.loops:
                loop.session.close()
            for source in self.sources:
                source.close()
        if code is None:
            code = EXIT_INTERRUPTED if self.signal == "SIGINT" else EXIT_OK
        self.log.info("stopped", signal=self.signal, exit_code=code)
        return code

    def stop(self) -> None:
        for loop in self.loops:
            loop.stop()
        self.stopped.set()

    def _on_signal(self, number: int, frame: Any) -> None:
        name = signal.Signals(number).name
        if self.signal is None:
            self.signal = name
            busy = [loop.guard.name for loop in self.loops if loop.phase == "writing"]
            self.log.info("stopping", signal=name, finishing_actions=busy or None)
            self.stop()
        else:  # asked again: abandon the actions in progress, each rolled back whole
            busy = [loop.guard.name for loop in self.loops if loop.phase == "writing"]
            self.log.warning("abandoning-actions", signal=name, rolling_back=busy or None)
            for loop in self.loops:
                loop.stop(abandon_write=True)
