"""Fetch virtual tables from the sources, concurrently, into Arrow tables."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from chaosql.engine.memo import ByIdentity
from chaosql.errors import ChaosqlError, QueryCancelled, SourceError
from chaosql.sources.base import CallLog, Source

if TYPE_CHECKING:
    import pyarrow as pa

    from chaosql.engine.pushdown import Constraints
    from chaosql.tables._table import Feed, Row, Table


class Fetcher:
    """A statement's source calls: run on the session's shared thread pool, recorded in the
    statement's log, stopped by its cancel. Feeds receive it (``feed.fetch(source, constraints,
    fetcher)``) and use ``submit``, ``list``, ``log`` and ``warnings``."""

    def __init__(self, pool: ThreadPoolExecutor, log: CallLog | None = None) -> None:
        self._pool = pool
        self.log = log if log is not None else CallLog()
        self.cancelled = self.log.cancelled  # one flag: the statement's
        self.warnings: list[str] = []
        self.settings: dict[str, Any] = {}  # the session's settings (feeds read cache, timeout, ...)
        self.seen: dict | None = None  # objects listed, while the statement records them (writes)
        self._seen_lock = threading.Lock()
        # table -> clusters whose error was already raised (or warned about): one per cluster,
        # however many kinds and feeds (engines) of the table fail there
        self.failed: dict[str, set[str]] = {}
        #: some rows were made for this statement alone (listed live, not a cache's kept Arrow
        #: rows): its answer cannot be the same as another statement's (``engine.answers``)
        self.live = False

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        self.log.check()
        return self._pool.submit(fn, *args)

    def list(self, source: Any, cluster: str, kind: str, flt: Any) -> list[dict]:
        """``source.list`` for this statement: logged, cancellable, and remembered by object while
        the statement records what it read (``Statement.recording``)."""
        objs = source.list(cluster, kind, flt, self.log)
        seen = self.seen
        if seen is not None:
            with self._seen_lock:
                for obj in objs:
                    meta = obj.get("metadata") or {}
                    seen[(cluster, obj.get("kind") or kind, meta.get("namespace") or "", meta.get("name"))] = obj
        return objs


def fetch_table(
    table: Table,
    sources: Sequence[Source],
    constraints: Constraints,
    fetcher: Fetcher,
    *,
    on_source_error: str = "fail",
) -> pa.Table:
    """All rows of ``table`` the sources hold that may satisfy ``constraints``, as one Arrow table.

    A feed yields ``(cluster, rows)`` pieces; ``rows`` is dicts, or an Arrow table already in the
    table's schema (``table.arrow_schema()``), which is appended as it is.
    """
    import pyarrow as pa

    from chaosql.sources import check_distinct_clusters

    if table.feed_for("kube") is not None:
        check_distinct_clusters(sources)
    pieces: list[Iterable[Row]] = []
    columnar: list[pa.Table] = []  # pieces a feed already holds as Arrow, in the table's schema
    matching = _matching_feeds(table, sources, constraints)
    for source, feed in matching:  # start every source's loading first: fetch waits source by source
        try:
            feed.prepare(source, constraints, fetcher)
        except ChaosqlError:
            pass  # fetch meets the same error and reports it
    served = any(table.feeds_for(source.family) for source in sources)
    for source, feed in matching:
        try:
            for cluster, rows in feed.fetch(source, constraints, fetcher):
                if isinstance(rows, pa.Table):  # e.g. Parquet history: no detour through dicts
                    columnar.append(rows)
                else:
                    pieces.append(_guard(rows, table.name, source, cluster, on_source_error, fetcher))
        except ChaosqlError as err:
            _handle(err, table.name, source, None, on_source_error, fetcher)
    whole = table.feed_for("*")  # a table derived from several families (impact) sees every source at once
    if whole is not None:
        served = True
        try:
            for cluster, rows in whole.fetch(sources, constraints, fetcher):
                pieces.append(_guard(rows, table.name, None, cluster, on_source_error, fetcher))
        except ChaosqlError as err:
            _handle(err, table.name, None, None, on_source_error, fetcher)
    if not served:  # say why the table is empty instead of answering nothing silently
        families = " or ".join(f.family for f in table.feeds)
        fetcher.warnings.append(f"{table.name}: no {families} source is configured, so the table is empty")
    if columnar and not pieces:
        # the watch cache's (or a snapshot's shaped) tables themselves: unchanged, the result is the
        # same object as the last statement's, which the session need not register in DuckDB again
        return columnar[0] if len(columnar) == 1 else _concatenated(columnar)
    fetcher.live = True
    assembled = table.to_arrow(_chain(pieces, fetcher), constraints.columns)
    return pa.concat_tables([assembled, *columnar]) if columnar else assembled


def reused(table: Table, sources: Sequence[Source], constraints: Constraints, fetcher: Fetcher) -> pa.Table | None:
    """``fetch_table``'s rows when every feed that may match has them kept from an earlier
    statement (``Feed.reuse``), logged as ``fetch_table`` logs them; None: fetch them. A few
    lookups, so the statement does it on its own thread, not on a fetch thread."""
    from chaosql.sources import check_distinct_clusters

    if table.feed_for("*") is not None:
        return None
    if table.feed_for("kube") is not None:
        check_distinct_clusters(sources)
    kept = []
    for source, feed in _matching_feeds(table, sources, constraints):
        rows = feed.reuse(source, constraints, fetcher)
        if rows is None:
            return None
        kept.append(rows)
    pieces = [piece for rows in kept for piece in rows.pieces]
    if not pieces:  # nothing kept, or no feed at all: fetch_table says what it says then
        return None
    for rows in kept:
        fetcher.log.extend(rows.calls)
        fetcher.warnings.extend(rows.warnings)
    return pieces[0] if len(pieces) == 1 else _concatenated(pieces)


def _matching_feeds(table: Table, sources: Sequence[Source], constraints: Constraints) -> list[tuple[Source, Feed]]:
    """(source, feed) for each feed of ``table`` that reads a source's family (several per
    source: one per chaos engine, say) and may have rows for ``constraints``."""
    return [
        (source, feed) for source in sources for feed in table.feeds_for(source.family) if feed.may_match(constraints)
    ]


def _concatenated(tables: list[pa.Table]) -> pa.Table:
    """``tables`` (in one schema) as one: the same object as last time for the same tables."""
    import pyarrow as pa

    return _concats.get(tables, lambda: pa.concat_tables(tables))


#: Concatenations kept: a table read from several clusters or kinds, each piece unchanged since
#: the last statement, is the same object again.
_concats: ByIdentity[pa.Table] = ByIdentity(64)


def _chain(pieces: list[Iterable[Row]], fetcher: Fetcher) -> Iterator[Row]:
    for piece in pieces:
        fetcher.log.check()
        yield from piece


def _guard(rows, table, source, cluster, policy, fetcher) -> Iterator[Row]:
    try:
        yield from rows
    except ChaosqlError as err:
        _handle(err, table, source, cluster, policy, fetcher)
    except Exception as err:  # a shaper or source bug: still one readable line, never a traceback
        _handle(
            SourceError(f"{type(err).__name__}: {err}", source=getattr(source, "name", None)),
            table,
            source,
            cluster,
            policy,
            fetcher,
        )


def _handle(err: ChaosqlError, table: str, source: Any, cluster: str | None, policy: str, fetcher: Fetcher) -> None:
    """Name the table (and cluster) in the message; under the "warn" policy keep going without it."""
    if isinstance(err, QueryCancelled):
        raise err
    prefix = f"{table}: " + (f'cluster "{cluster}": ' if cluster and cluster not in err.message else "")
    if policy == "warn" and isinstance(err, SourceError):
        fetcher.warnings.append(f"{prefix}{err}; its rows are missing from this result")
        return
    if not err.message.startswith(f"{table}:"):
        err.message = prefix + err.message
    raise err
