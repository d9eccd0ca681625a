"""The process's thread pools for fetching, shared by every Session.

A server runs many sessions; a pool per session made every connection cost its own threads (20
of them) whether it ran anything or not. Two pools serve every session instead, their threads
started on first use:

* ``tables()``: one task per table a statement reads (``fetch_table``), which waits for the
  source calls it submitted;
* ``calls()``: the source calls themselves (list calls, PromQL queries, Chaosd requests) and the
  shaping of their rows.

They are separate because a table's task waits on calls: sharing one pool, tables could fill it
and wait for calls queued behind them. A call may wait for another call only if that one was
submitted first (a kind's lookups before the rows that join them): the queue is first in, first
out, so the earlier one is already running.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

#: Source calls in flight at once, over every session (they mostly wait on the network).
CALL_THREADS = 32
#: Tables being assembled at once, over every session.
TABLE_THREADS = 8

_lock = threading.Lock()
_pools: dict[str, ThreadPoolExecutor] = {}


def _pool(name: str, size: int) -> ThreadPoolExecutor:
    pool = _pools.get(name)
    if pool is None:
        with _lock:
            pool = _pools.get(name)
            if pool is None:
                pool = _pools[name] = ThreadPoolExecutor(max_workers=size, thread_name_prefix=f"chaosql-{name}")
    return pool


def calls() -> ThreadPoolExecutor:
    """The pool for source calls and row shaping."""
    return _pool("fetch", CALL_THREADS)


def tables() -> ThreadPoolExecutor:
    """The pool for whole-table fetches (each waits on its calls in ``calls()``)."""
    return _pool("table", TABLE_THREADS)
