"""Queries prepared once for every connection: the process's shared prepared statements.

Fifty dashboard connections opening at once each send the same few queries; preparing one
(sqlglot parse, the wire's translation, describing it in DuckDB) takes milliseconds of the one
GIL, so fifty connections preparing the same text queue behind each other. A connection whose
session is as it was opened (``Runner.fresh``: no table, view, macro or DuckDB setting of its
own, no DDL) prepares a query the same way as every other such connection with the same settings,
so the statement prepared by the first is given to the others, and when several ask at once only
one prepares it (the others wait for it).

What may change how a query is prepared is in the key (``Runner.shared_key``): its text and
parameter types, the settings that change an answer or its text (``ANSWER_SETTINGS``: TimeZone,
search_path, DateStyle ...), the user and database, and the session's very table definitions (a
cluster's newer CRD gives new ones). A kept statement is never changed: each connection gets its
own copy (``Prepared.clone``), so what a connection keeps on its statement (a literal SELECT's
answer) stays its own. Statements that read the catalog (``pgc``: it holds the connection's user,
pid and settings) are never shared.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chaosql.server.statements import Prepared

#: Statements kept for every connection (the least recently used go first).
SHARED_STATEMENTS = 512


class SharedStatements:
    """Prepared statements by key, with one preparation per key at a time; thread-safe."""

    def __init__(self, capacity: int = SHARED_STATEMENTS) -> None:
        self.capacity = capacity
        self.hits = 0
        self.made = 0
        self._kept: OrderedDict[Any, Prepared] = OrderedDict()
        self._making: dict[Any, Future] = {}
        self._lock = threading.Lock()

    def get(self, key: Any) -> Prepared | None:
        """The statement kept for ``key`` (a copy of it, the connection's own), or None."""
        with self._lock:
            kept = self._kept.get(key)
            if kept is None:
                return None
            self._kept.move_to_end(key)
            self.hits += 1
        return kept.clone()

    def get_or_make(self, key: Any, make: Callable[[], Prepared | None]) -> Prepared | None:
        """The statement for ``key``: kept, or being prepared by another connection (waited for),
        or made here by ``make`` (None: it may not be shared; a waiting connection then prepares
        its own, as it does when ``make`` fails)."""
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None:
                self._kept.move_to_end(key)
                self.hits += 1
                return kept.clone()
            pending = self._making.get(key)
            if pending is None:
                mine: Future = Future()
                self._making[key] = mine
        if pending is not None:
            made = pending.result()  # the other connection's preparation (bounded by its time limit)
            if made is not None:
                with self._lock:
                    self.hits += 1
            return made.clone() if made is not None else None
        made = None
        try:
            made = make()
            if made is not None:
                with self._lock:
                    self.made += 1
                    self._kept[key] = made
                    while len(self._kept) > self.capacity:
                        self._kept.popitem(last=False)
        finally:
            with self._lock:
                del self._making[key]
            mine.set_result(made)
        return made.clone() if made is not None else None

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
            self.hits = self.made = 0


#: The process's shared statements (every connection of ``chaosql serve``).
SHARED = SharedStatements()
