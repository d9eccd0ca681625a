"""The feed that turns Kubernetes-like sources (live API, snapshots) into rows.

It reads the table's key columns to build each list call: ``cluster`` picks clusters, ``kind``
picks resources, ``namespace``/``name``/``labels``/``field:*`` become server-side filters.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from chaosql.engine.memo import ByIdentity
from chaosql.errors import ChaosqlError, Forbidden, SourceError
from chaosql.sources.base import Call, CallLog, ListFilter
from chaosql.tables._table import Feed, Kept, Row, RowContext

if TYPE_CHECKING:
    from chaosql.engine.pushdown import Constraints
    from chaosql.sources.cache import ClusterCache, Snapshot
    from chaosql.sources.store import Resolver, View
    from chaosql.tables._table import Table

#: ``kinds`` value meaning "every experiment kind the cluster has".
EXPERIMENT_KINDS = "experiment kinds"

Shaper = Callable[[dict, RowContext], Iterable[Row]]


class KubeFeed(Feed):
    """Rows from ``kinds`` of a kube-family source, shaped by ``rows``.

    ``lookups`` are kinds listed whole per cluster so the shaper can join against them
    (``ctx.lookup("Pod", ns, name)``), e.g. targets joined with the pods they point at.
    ``requires``: kinds of which a cluster must serve one for the feed to list anything there (an
    engine's Events are listed only where the engine is installed). ``covers``: see ``Feed``.
    """

    family = "kube"

    def __init__(
        self,
        kinds: str | tuple[str, ...],
        rows: Shaper,
        *,
        lookups: tuple[str | tuple[str, ListFilter], ...] = (),
        kind_values: dict[str, str] | None = None,
        fixed_fields: tuple[tuple[str, str], ...] = (),
        on_demand: tuple[str, ...] = (),
        one_row_per_object: bool = False,
        requires: tuple[str, ...] = (),
        covers: dict[str, frozenset[str]] | None = None,
    ) -> None:
        self.kinds = kinds
        self.rows = rows
        self.lookups = [(k, ListFilter()) if isinstance(k, str) else k for k in lookups]
        self.kind_values = kind_values or {}  # kind -> value of the table's kind-role column
        self.fixed_fields = fixed_fields  # field selectors every list call carries
        # kinds joined from the row object's own namespace and only for some rows (an experiment's
        # Schedule): listed on first need, once per cluster, within the query's namespace filter
        self.on_demand = on_demand
        # each object is one row: a LIMIT with nothing above the scan may list only that many objects
        self.one_row_per_object = one_row_per_object
        self.requires = requires
        self.covers = covers or {}
        self.table: Table | None = None  # set when the table is built
        self._view: View | None = None
        # (source, cluster, kind, filter, columns) -> the rows of a source whose objects never
        # change (a snapshot), shaped once into Arrow: shared by every session of the process
        self._shaped: OrderedDict[tuple, _Shaped] = OrderedDict()
        #: the same key -> (contents, columns, done) while a statement shapes it (see _fetch_static)
        self._shaping: dict[tuple, tuple[object, frozenset[str] | None, Future]] = {}
        self._shaped_lock = threading.Lock()
        #: what a statement read whole from such a source, by what it asked (``_static_read``);
        #: good while ``_shaped`` is unchanged (its generation) and no piece's clock ran out
        self._static_reads: dict[tuple, _StaticRead] = {}
        self._generation = 0
        #: (list filter, kept-read key) per Constraints object: a statement whose analysis is kept
        #: (``engine.answers``) gives the same one each time, and a repeated small statement spent
        #: a tenth of its time working them out again for each of its feeds
        self._filters: ByIdentity[tuple[ListFilter, tuple]] = ByIdentity(256)

    def list_filter(self, constraints: Constraints) -> ListFilter:
        assert self.table is not None
        namespaces = names = None
        labels: list[tuple[str, frozenset[str]]] = []
        fields: list[tuple[str, str]] = []
        for col in self.table.key_columns:
            if col.key == "namespace":
                namespaces = constraints.values(col.name)
            elif col.key == "name":
                names = constraints.values(col.name)
            elif col.key == "labels":
                labels += sorted(constraints.map_values(col.name).items())
            elif col.key is not None and col.key.startswith("field:"):
                allowed = constraints.values(col.name)
                if allowed is not None and len(allowed) == 1:
                    fields.append((col.key[6:], str(next(iter(allowed)))))
        return ListFilter(
            namespaces=namespaces,
            names=names,
            labels=tuple(labels),
            fields=self.fixed_fields + tuple(fields),
            limit=constraints.limit if self.one_row_per_object else None,
        )

    def _filter_and_key(self, constraints: Constraints) -> tuple[ListFilter, tuple]:
        """``list_filter(constraints)`` and the key of a read kept for it (``_kept_key``)."""

        def make() -> tuple[ListFilter, tuple]:
            flt = self.list_filter(constraints)
            return flt, self._kept_key(flt, constraints)

        return self._filters.get((constraints,), make)

    def serves(self, kind: str) -> bool:
        """Whether objects of ``kind`` become this feed's rows."""
        from chaosql.sources import groups
        from chaosql.sources.chaosmesh import API_GROUP, is_experiment_kind

        if self.kinds == EXPERIMENT_KINDS:
            return is_experiment_kind(kind) and groups.group_of(kind) is API_GROUP
        return kind in self.kinds

    def _wanted(self, role: str, constraints: Constraints) -> frozenset | None:
        assert self.table is not None
        col = next((c for c in self.table.key_columns if c.key == role), None)
        return constraints.values(col.name) if col else None

    def _tasks(self, source: Any, constraints: Constraints) -> list[tuple[str, str]]:
        """(cluster, kind) pairs to read for ``constraints``."""
        wanted_clusters = self._wanted("cluster", constraints)
        wanted_kinds = self._wanted("kind", constraints)
        tasks = []
        for cluster in source.clusters():
            if wanted_clusters is not None and cluster not in wanted_clusters:
                continue
            if self.requires and not any(source.has_kind(cluster, kind) for kind in self.requires):
                continue
            kinds = source.chaos_kinds(cluster) if self.kinds == EXPERIMENT_KINDS else list(self.kinds)
            for kind in kinds:
                if wanted_kinds is not None and self.kind_values.get(kind, kind) not in wanted_kinds:
                    continue
                if source.has_kind(cluster, kind):
                    tasks.append((cluster, kind))
        return tasks

    def prepare(self, source: Any, constraints: Constraints, fetcher: Any) -> None:
        """Start the watch cache's lists of every kind this statement reads, without waiting, so
        the clusters of a multi-cluster statement load side by side, not one after another."""
        cache = _cache_of(source, fetcher)
        if cache is None:
            return
        flt, key = self._filter_and_key(constraints)
        if cache.reuse(key) is not None:
            return  # read whole by an earlier statement, and nothing changed since
        view = self.view()
        for _, kind in self._tasks(source, constraints):
            cache.prepare(kind, view, flt, constraints.columns)

    def reuse(self, source: Any, constraints: Constraints, fetcher: Any) -> Kept | None:
        """The pieces an earlier statement read (the watch cache's, or a snapshot's shaped ones),
        when nothing changed since: what ``fetch`` would give, without a call or a wait."""
        key = self._filter_and_key(constraints)[1]
        cache = _cache_of(source, fetcher)
        if cache is not None:
            log = CallLog()
            kept = cache.reuse(key, log)
            if kept is None:
                return None
            return Kept([rows for _, rows in kept.pieces], log.calls, list(kept.warnings))
        read = self._static_read(source, key, fetcher)
        if read is None:
            return None
        return read.kept(source.name)

    def fetch(self, source: Any, constraints: Constraints, fetcher: Any) -> Iterator[tuple[str, Iterable[Row]]]:
        flt, key = self._filter_and_key(constraints)
        cache = _cache_of(source, fetcher)
        if cache is not None:
            kept = cache.reuse(key, fetcher.log)
            if kept is not None:  # the same tables as the last statement's: nothing changed since
                fetcher.warnings.extend(kept.warnings)
                yield from kept.pieces
                return
            stamp = cache.stamp()
        else:
            read = self._static_read(source, key, fetcher)
            if read is not None:  # the same pieces as an earlier statement's: skip the walk over them
                fetcher.log.extend(read.kept(source.name).calls)
                yield from ((cluster, table) for cluster, _, _, table in read.pieces)
                return
        tasks = self._tasks(source, constraints)
        stale: dict[tuple[str, str], Snapshot] = {}
        if cache is not None:
            served: list[tuple[str, Snapshot]] = []
            if tasks:
                tasks = yield from self._cached(cache, tasks, flt, fetcher, stale, constraints.columns, served)
            if not tasks:  # every piece (if any) from the cache, fresh: the next statement may reuse them
                cache.keep(key, stamp, served)
        contents = _static_contents(source, fetcher)
        if contents is not None:
            if tasks:
                yield from self._fetch_static(source, contents, tasks, flt, constraints.columns, fetcher)
            if cache is None:
                self._keep_static_read(source, key, contents, tasks, flt, constraints.columns)
            return
        lookups, on_demand = self._joined_kinds(source, {c for c, _ in tasks}, flt, fetcher)
        listed = [
            (
                cluster,
                fetcher.submit(
                    self._list_and_shape,
                    source,
                    cluster,
                    kind,
                    flt,
                    fetcher,
                    lookups.get(cluster),
                    on_demand[cluster],
                    constraints.columns,
                    stale.get((cluster, kind)),
                ),
            )
            for cluster, kind in tasks
        ]
        failed = self._failed_clusters(fetcher)
        for cluster, future in listed:
            yield cluster, _rows_of(cluster, future, failed)

    def _list_and_shape(
        self,
        source: Any,
        cluster: str,
        kind: str,
        flt: ListFilter,
        fetcher: Any,
        lookups: Any,
        on_demand: dict[str, _OnDemand],
        columns: frozenset[str] | None,
        stale: Snapshot | None = None,
        clock: _Clock | None = None,
    ) -> list[Row]:
        """List one kind and shape its rows in the worker, so shaping overlaps the list calls still
        in flight instead of starting after the last one. (``lookups`` was submitted before this
        task, so waiting for it here cannot starve the pool.) ``stale``: the watch cache's rows of a
        broken watch, shown (with a warning) only when the list fails and the statement allows it.
        ``clock`` learns how many objects were listed and when the rows change by themselves."""
        try:
            objs = fetcher.list(source, cluster, kind, flt)  # logged, and kept when a write records its reads
        except SourceError as err:
            if stale is None or _settings(fetcher).get("on_source_error") != "warn":
                raise
            fetcher.warnings.append(
                f'{self.table.name if self.table else kind}: cluster "{cluster}": {err.message}; its {kind} rows '
                f"are the watch cache's, {stale.age:.1f} s old (stale)"
            )
            return stale.table.to_pylist()
        joined, unseen = lookups.result() if lookups is not None else ({}, [])
        fetcher.warnings.extend(unseen)  # only now: when the list itself fails, its error says it all
        ctx = _ClockedContext(
            source=source.name,
            cluster=cluster,
            family=source.kind_label,
            lookups=joined,
            on_demand=on_demand,
            columns=columns,
            clock=clock,
        )
        if clock is not None:
            clock.listed = len(objs)
        try:
            return list(_shape(objs, self.rows, ctx))
        except ChaosqlError:
            raise
        except Exception as err:  # a shaper bug: still one readable line, never a traceback
            raise SourceError(f'cluster "{cluster}": {kind}: {type(err).__name__}: {err}', source=source.name) from err

    # --- sources whose objects never change ---------------------------------------------

    def _fetch_static(
        self,
        source: Any,
        contents: object,
        tasks: list[tuple[str, str]],
        flt: ListFilter,
        columns: frozenset[str] | None,
        fetcher: Any,
    ) -> Iterator[tuple[str, Any]]:
        """The pieces of a source whose objects never change (``contents`` is what it holds now):
        each (cluster, kind) is listed and shaped once into Arrow and kept, until the source holds
        other objects or a row's clock-derived value (an experiment's phase at the end of its
        duration) changes. The next statement gets the very same Arrow table, which its session
        has registered in DuckDB already. A piece holds the columns the statements that read it
        asked for (the others NULL): one that needs more shapes it again with the union, so a mix
        of statements settles on one piece per (cluster, kind, filter). The list call is logged
        as if it was made again."""
        now = time.time()
        kept: dict[tuple[str, str], _Shaped] = {}
        wider: dict[tuple[str, str], frozenset[str] | None] = {}  # the columns to shape a missing piece with
        # pieces another statement is shaping now, with the columns needed: fifty sessions asking
        # at a server's start wait for one shaping instead of making fifty
        joined: dict[tuple[str, str], Future] = {}
        mine: dict[tuple[str, str], Future] = {}  # pieces this statement shapes: what others may join
        with self._shaped_lock:
            for cluster, kind in tasks:
                key = (id(source), cluster, kind, flt)
                shaped = self._shaped.get(key)
                if shaped is None or shaped.contents is not contents or now >= shaped.clock.expires:
                    wider[(cluster, kind)] = columns
                elif shaped.columns is not None and (columns is None or not columns <= shaped.columns):
                    wider[(cluster, kind)] = None if columns is None else columns | shaped.columns
                else:
                    self._shaped.move_to_end(key)
                    kept[(cluster, kind)] = shaped
                    continue
                shaping = self._shaping.get(key)
                wanted = wider[(cluster, kind)]
                if shaping is not None and shaping[0] is contents and _covers(shaping[1], wanted):
                    joined[(cluster, kind)] = shaping[2]
                else:
                    mine[(cluster, kind)] = Future()
                    self._shaping[key] = (contents, wanted, mine[(cluster, kind)])

        def shape(tasks: list[tuple[str, str]]) -> dict[tuple[str, str], Future]:
            lookups, on_demand = self._joined_kinds(source, {c for c, _ in tasks}, flt, fetcher)
            return {
                (cluster, kind): fetcher.submit(
                    self._shape_static,
                    source,
                    contents,
                    cluster,
                    kind,
                    flt,
                    fetcher,
                    lookups.get(cluster),
                    on_demand[cluster],
                    wider[(cluster, kind)],
                )
                for cluster, kind in tasks
            }

        futures = shape(list(mine))
        for task, future in futures.items():
            future.add_done_callback(partial(self._shaped_by_me, (id(source), *task, flt), mine[task]))
        failed = self._failed_clusters(fetcher)
        for cluster, kind in tasks:
            shaped = kept.get((cluster, kind))
            if shaped is None and (cluster, kind) in joined:
                try:
                    joined[(cluster, kind)].result()
                    shaped = self._shaped.get((id(source), cluster, kind, flt))
                except Exception:  # the other statement's failure (cancelled, say) is not this one's
                    shaped = None
                if shaped is None:
                    futures.update(shape([(cluster, kind)]))
            if shaped is not None:
                with fetcher.log.timed(source.name, cluster, f"scan {kind} where {flt.describe()}") as call:
                    call.items = shaped.clock.listed
                yield cluster, shaped.table
                continue
            future = futures[(cluster, kind)]
            if future.exception() is not None:  # raised where the live path raises it (``_rows_of``)
                yield cluster, _rows_of(cluster, future, failed)
                continue
            yield cluster, future.result()

    def _static_read(self, source: Any, key: tuple, fetcher: Any) -> _StaticRead | None:
        """An earlier statement's whole read of a source whose objects never change, made with the
        same filter, clusters, kinds and columns (``key``), when every piece of it is still the
        kept one: a dashboard's statements skip the walk over each (cluster, kind)."""
        contents = _static_contents(source, fetcher)
        read = self._static_reads.get((id(source), key))
        if (
            contents is None
            or read is None
            or read.contents is not contents
            or read.generation != self._generation
            or time.time() >= read.expires
        ):
            return None
        return read

    def _keep_static_read(
        self,
        source: Any,
        key: tuple,
        contents: object,
        tasks: list[tuple[str, str]],
        flt: ListFilter,
        columns: frozenset[str] | None,
    ) -> None:
        """Remember what ``_fetch_static`` just gave for ``key``, if every piece is kept now."""
        scanned = f"where {flt.describe()}"
        with self._shaped_lock:
            pieces, expires = [], float("inf")
            for cluster, kind in tasks:
                shaped = self._shaped.get((id(source), cluster, kind, flt))
                if shaped is None or shaped.contents is not contents or not _covers(shaped.columns, columns):
                    return
                pieces.append((cluster, f"scan {kind} {scanned}", shaped.clock.listed, shaped.table))
                expires = min(expires, shaped.clock.expires)
            if len(self._static_reads) >= STATIC_READS:
                self._static_reads.clear()
            self._static_reads[(id(source), key)] = _StaticRead(contents, self._generation, expires, pieces)

    def _failed_clusters(self, fetcher: Any) -> set[str]:
        """The clusters this statement could not read this table from, shared by the table's feeds
        (``fetcher.failed``, when the statement keeps one)."""
        failed: set[str] = set()
        if self.table is not None and isinstance(getattr(fetcher, "failed", None), dict):
            failed = fetcher.failed.setdefault(self.table.name, failed)
        return failed

    def _joined_kinds(
        self, source: Any, clusters: set[str], flt: ListFilter, fetcher: Any
    ) -> tuple[dict[str, Any], dict[str, dict[str, _OnDemand]]]:
        """Per cluster: the lookups' listing (started now) and the kinds listed on first need."""
        lookups = {c: fetcher.submit(self._lookups, source, c, fetcher) for c in clusters} if self.lookups else {}
        on_demand = {
            c: {
                kind: _OnDemand(source, c, kind, ListFilter(namespaces=flt.namespaces), fetcher)
                for kind in self.on_demand
            }
            for c in clusters
        }
        return lookups, on_demand

    def _shaped_by_me(self, key: tuple, announced: Future, shaping: Future) -> None:
        """A piece this statement shaped is done: the statements that joined it go on."""
        with self._shaped_lock:
            if self._shaping.get(key, (None, None, None))[2] is announced:
                del self._shaping[key]
        error = shaping.exception()
        if error is not None:
            announced.set_exception(error)
        else:
            announced.set_result(None)

    def _shape_static(
        self,
        source: Any,
        contents: object,
        cluster: str,
        kind: str,
        flt: ListFilter,
        fetcher: Any,
        lookups: Any,
        on_demand: dict[str, _OnDemand],
        columns: frozenset[str] | None,
    ) -> Any:
        assert self.table is not None
        clock = _Clock()
        rows = self._list_and_shape(source, cluster, kind, flt, fetcher, lookups, on_demand, columns, clock=clock)
        shaped = _Shaped(contents, clock, self.table.to_arrow(rows, columns), columns)
        with self._shaped_lock:
            self._shaped[(id(source), cluster, kind, flt)] = shaped
            self._generation += 1
            while len(self._shaped) > SHAPED_PIECES:
                self._shaped.popitem(last=False)
        return shaped.table

    # --- the watch cache ------------------------------------------------------------------

    def view(self) -> View:
        """How the watch cache keeps this table's rows: shaped once per object, the JSON columns
        (the costliest to shape and to hold) only once a statement reads one of them."""
        if self._view is None:
            from chaosql.sources.store import View

            assert self.table is not None
            costly = {c.name for c in self.table.columns if c.type == "JSON"}
            self._view = View(
                key=self.table.name,
                shape=self._shape_cached,
                to_arrow=self.table.to_arrow,
                lookups=tuple(self.lookups),
                on_demand=tuple(self.on_demand),
                fixed=self.fixed_fields,
                narrow=frozenset(self.table.column_names) - costly if costly else None,
            )
        return self._view

    def _shape_cached(self, obj: dict, resolver: Resolver) -> list[Row]:
        ctx = resolver.context
        if ctx is None:  # built once per resolver, which serves every object of a view's rows
            from chaosql.sources.store import Joined, Memo

            ctx = resolver.context = _CachedContext(
                source=resolver.source_name,
                cluster=resolver.cluster,
                family=resolver.family,
                lookups=Joined(resolver),
                memo=Memo(resolver),  # type: ignore[arg-type]
                columns=resolver.columns,
                resolver=resolver,
            )
        return list(self.rows(obj, ctx))

    def _cached(
        self,
        cache: ClusterCache,
        tasks: list[tuple[str, str]],
        flt: ListFilter,
        fetcher: Any,
        stale: dict[tuple[str, str], Snapshot],
        columns: frozenset[str] | None = None,
        served: list[tuple[str, Snapshot]] | None = None,
    ) -> Generator[tuple[str, Any], None, list[tuple[str, str]]]:
        """Yield the pieces the watch cache can serve (Arrow tables); return the tasks left to list
        live, noting the cache's rows of broken watches in ``stale`` (and the fresh ones, with the
        cluster they were yielded for, in ``served``)."""
        view = self.view()
        narrow = (
            flt.namespaces is not None
            or flt.names is not None
            or bool(flt.labels)
            or len(flt.fields) > len(self.fixed_fields)
        )
        # every kind was started by ``prepare`` (fetch_table calls it for every source first): they
        # load side by side, and a warm read does not ask the cache twice per kind
        wait = float(_settings(fetcher).get("timeout") or 0) or 1e9  # 0: no limit (a cancel still ends waits)
        left = []
        for cluster, kind in tasks:
            snapshot = cache.read(kind, view, flt, fetcher.log, narrow=narrow, wait=wait, columns=columns)
            if snapshot is not None and snapshot.fresh:
                fetcher.warnings.extend(snapshot.warnings)
                if served is not None:
                    served.append((cluster, snapshot))
                yield cluster, snapshot.table
                continue
            if snapshot is not None:
                stale[(cluster, kind)] = snapshot
            left.append((cluster, kind))
        return left

    def _kept_key(self, flt: ListFilter, constraints: Constraints) -> tuple:
        """What a read kept by the watch cache (``ClusterCache.keep``) was read for: this feed's
        view, the filter, the columns and the clusters and kinds wanted."""
        return (
            self.view(),
            flt,
            constraints.columns,
            self._wanted("cluster", constraints),
            self._wanted("kind", constraints),
        )

    def _lookups(self, source: Any, cluster: str, fetcher: Any) -> tuple[dict[str, dict], list[str]]:
        """(kind -> {(namespace, name): object}, warnings); a kind the user may not list is left
        out, so ``ctx.lookup`` answers None and the columns it feeds are NULL ("not visible")."""
        out, unseen = {}, []
        for kind, flt in self.lookups:
            try:
                objs = source.list(cluster, kind, flt, fetcher.log) if source.has_kind(cluster, kind) else []
            except Forbidden as err:
                unseen.append(
                    f"{self.table.name if self.table else kind}: {err.message}; "
                    f"the columns joined from {kind} objects are NULL"
                )
                continue
            out[kind] = {((o["metadata"].get("namespace") or ""), o["metadata"]["name"]): o for o in objs}
        return out, unseen


class _OnDemand:
    """One kind of one cluster, listed the first time a row asks for it (thread-safe)."""

    def __init__(self, source: Any, cluster: str, kind: str, flt: ListFilter, fetcher: Any) -> None:
        self.args = (source, cluster, kind, flt, fetcher)
        self.lock = threading.Lock()
        self.index: dict[tuple[str, str], dict] | None = None

    def __call__(self) -> dict[tuple[str, str], dict]:
        with self.lock:
            if self.index is None:
                source, cluster, kind, flt, fetcher = self.args
                try:
                    objs = source.list(cluster, kind, flt, fetcher.log) if source.has_kind(cluster, kind) else []
                except Forbidden as err:
                    fetcher.warnings.append(f"{err.message}; the columns joined from {kind} objects are NULL")
                    objs = []
                self.index = {((o["metadata"].get("namespace") or ""), o["metadata"]["name"]): o for o in objs}
            return self.index


@dataclass(frozen=True)
class _CachedContext(RowContext):
    """A row context whose joins read the watch cache and are recorded (``sources.store``)."""

    resolver: Any = None

    def lookup(self, kind: str, namespace: str, name: str) -> dict | None:
        return self.resolver.get(kind, namespace or "", name)

    def changes_at(self, when: datetime | None) -> None:
        if when is not None:
            self.resolver.changes_at(when.timestamp())


#: Shaped pieces a feed keeps of sources whose objects never change (the least recently read go first).
SHAPED_PIECES = 256
#: Statements' whole reads of such sources a feed remembers (all forgotten when full).
STATIC_READS = 256


class _Clock:
    """What shaping one piece learnt: how many objects were listed, and the first moment its
    rows change by themselves (``RowContext.changes_at``)."""

    def __init__(self) -> None:
        self.listed = 0
        self.expires = float("inf")
        self._lock = threading.Lock()

    def note(self, when: datetime) -> None:
        with self._lock:
            self.expires = min(self.expires, when.timestamp())


@dataclass
class _StaticRead:
    """A statement's whole read of a source whose objects never change (``_static_read``)."""

    contents: object
    generation: int  # the feed's ``_generation`` then: any piece shaped or dropped since ends it
    expires: float  # the first moment one of its pieces' rows change by themselves
    pieces: list[tuple[str, str, int, Any]]  # (cluster, scan logged, objects scanned, pa.Table)
    _kept: dict[str, Kept] = field(default_factory=dict, repr=False)

    def kept(self, source: str) -> Kept:
        """Its tables, and the scans reading it again logs (as the read that shaped each piece
        logged them): made once, as nothing changes them, and handed to every statement."""
        made = self._kept.get(source)
        if made is None:
            calls = [Call(source, cluster, what, items=n) for cluster, what, n, _ in self.pieces]
            made = self._kept[source] = Kept([table for *_, table in self.pieces], calls)
        return made


@dataclass
class _Shaped:
    contents: object  # what the source held (kept: a source's contents are compared by identity)
    clock: _Clock
    table: Any  # pa.Table
    columns: frozenset[str] | None  # the columns shaped (the others are NULL); None: all


@dataclass(frozen=True)
class _ClockedContext(RowContext):
    """A row context that tells ``clock`` (when there is one) when the rows change by themselves."""

    clock: _Clock | None = field(default=None)

    def changes_at(self, when: datetime | None) -> None:
        if when is not None and self.clock is not None:
            self.clock.note(when)


def _covers(shaping: frozenset[str] | None, wanted: frozenset[str] | None) -> bool:
    """Whether a piece shaped with the columns ``shaping`` (None: all) holds ``wanted``."""
    return shaping is None or (wanted is not None and wanted <= shaping)


def _static_contents(source: Any, fetcher: Any) -> object | None:
    """What a source whose objects never change (a snapshot) holds now, when this statement
    may read rows shaped before: as for the watch cache, the session allows it (``chaosql.cache``)
    and it is not a write recording the objects it reads."""
    contents = getattr(source, "contents", None)
    if contents is None or not _settings(fetcher).get("cache", True) or getattr(fetcher, "seen", None) is not None:
        return None
    return contents()


def _settings(fetcher: Any) -> Any:
    return getattr(fetcher, "settings", None) or {}


def _cache_of(source: Any, fetcher: Any) -> ClusterCache | None:
    """The source's watch cache, when this statement may read from it: the session allows it
    (``chaosql.cache``) and it is not a write recording the objects it reads (those are read live)."""
    cache = getattr(source, "cache", None)
    if cache is None or not _settings(fetcher).get("cache", True) or getattr(fetcher, "seen", None) is not None:
        return None
    return cache


def _rows_of(cluster: str, future: Any, failed: set[str]) -> Iterator[Row]:
    """One piece's rows, read when the engine gets to it (so it assembles the pieces that are done
    while later ones are still being fetched). Only a cluster's first error is raised: under
    ``on_source_error = warn`` the result keeps every piece that could be read, with one warning
    per failing cluster rather than one per kind."""
    try:
        rows = future.result()
    except ChaosqlError:
        if cluster in failed:
            return
        failed.add(cluster)
        raise
    yield from rows


def _shape(objs: Iterable[dict], rows: Shaper, ctx: RowContext) -> Iterator[Row]:
    for obj in objs:
        yield from rows(obj, ctx)
