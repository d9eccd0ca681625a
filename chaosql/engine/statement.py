"""One top-level statement's state, shared by every read it makes.

A write reads before it writes (the rows an UPDATE touches, the SELECT of an INSERT ... SELECT, a
re-read after a conflict), and all of those reads belong to the one statement the user typed: a
cancel or the statement timeout that lands between two of them stops the whole statement, and
``-v`` / ``EXPLAIN ANALYZE`` / ``Result.calls`` show every call it made — reads, dry runs, creates,
patches, deletes and rollbacks — in one log.

``Session.execute`` makes one ``Statement`` per top-level statement; the reads of a write join it
(``Session.read``), they never start a new one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from chaosql.engine.classify import Classified, Kind
from chaosql.engine.fetch import Fetcher
from chaosql.sources.base import CANCELLED, CallLog


class Statement:
    """The state of one statement: its calls, cancel flag and reason, warnings, and the DuckDB
    relations registered for it (dropped when the next statement starts, since a streamed result
    still reads them after ``execute`` returns)."""

    def __init__(self, sql: Any, pool: ThreadPoolExecutor) -> None:
        self.sql = sql  # as given: text, or a tree parsed already
        self.classified: Classified = Classified("", Kind.READ, "")  # until the session classified it
        self.log = CallLog()
        self.fetcher = Fetcher(pool, self.log)
        self.registered: list[tuple[str, str]] = []  # (kind, name) of relations registered in DuckDB
        self.reading: list[str] = []  # virtual tables the statement reads, for error messages
        self.timed_out = False
        self.running = True
        self.in_duckdb = False  # a DuckDB query of the statement may be running (Session._run)
        self.thread = threading.get_ident()

    @property
    def warnings(self) -> list[str]:
        return self.fetcher.warnings

    @property
    def is_write(self) -> bool:
        return self.classified.is_write

    # --- cancel -------------------------------------------------------------------------------

    def cancel(self, reason: str = CANCELLED, *, timed_out: bool = False) -> bool:
        """Stop further forward calls (fetches, pages, retries, the next write call); the first
        reason given is kept. Returns False when the statement had already ended."""
        if not self.running:
            return False
        if self.log.cancel(reason):
            self.timed_out = timed_out
        return True

    @property
    def cancelled(self) -> bool:
        return self.log.cancelled.is_set()

    @property
    def reason(self) -> str:
        """Why it was cancelled ("query cancelled", "statement timeout: ...", ...); "" while it runs."""
        return self.log.reason if self.cancelled else ""

    def check(self) -> None:
        """Raise ``QueryCancelled`` (with the reason) if the statement was cancelled."""
        self.log.check()

    def undo_log(self) -> CallLog:
        """A log for undoing what the statement did: its calls go into the statement's log, but a
        cancel does not stop them (cancel stops the statement going forward, never its rollback)."""
        return CallLog(calls=self.log.calls, _lock=self.log._lock)

    # --- what the reads returned ----------------------------------------------------------------

    @contextmanager
    def recording(self) -> Iterator[dict[tuple[str, str, str, str | None], dict]]:
        """Within the block, every object a Kubernetes-like source lists for this statement is
        kept, by (cluster, kind, namespace, name): an UPDATE or DELETE patches exactly the object
        its row was computed from (its resourceVersion)."""
        seen: dict[tuple[str, str, str, str | None], dict] = {}
        saved, self.fetcher.seen = self.fetcher.seen, seen
        try:
            yield seen
        finally:
            self.fetcher.seen = saved
