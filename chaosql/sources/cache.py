"""The watch cache of one Kubernetes cluster: every kind a long-running chaosql (``serve``, the
REPL, ``chaosql service``) was asked about, kept current by an informer (``sources.watch``), held
as the rows the tables need (``sources.store``).

An informer starts with the first read that needs its kind and stops after ``idle`` seconds
without one. A kind is watched cluster-wide; when the cluster-wide list (or watch) is forbidden,
reads that name namespaces watch each of those namespaces instead, and reads that do not are
answered by a live list, which says what is forbidden exactly as without the cache.

**The consistency contract** (docs/kubernetes.md, "The watch cache"):

* read-your-writes: a write by this process (``wrote``) leaves a fence — its resourceVersion, or
  for a delete the object's uid — and a read waits until the watch has delivered it, bounded by
  the statement's time limit;
* while the watch is up, a change made anywhere is in the rows as soon as its event arrives
  (milliseconds on a healthy connection);
* never silently stale: a read of a kind whose informer is still ``starting`` or ``relisting``
  waits for it (a narrow read lists live instead of waiting for a whole cluster-wide list); a read
  of a ``broken`` one waits ``BROKEN_GRACE`` for it to come back, else returns a ``Snapshot`` that
  is not ``fresh``: the caller then lists live, and shows the cached rows only when that fails and
  the statement allows it (``on_source_error = 'warn'``), saying how old they are.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

from chaosql.errors import Forbidden
from chaosql.sources.base import Call, CallLog, ListFilter
from chaosql.sources.store import Store, View, ViewRows
from chaosql.sources.watch import Informer

if TYPE_CHECKING:
    import pyarrow as pa

    from chaosql.sources.kube import KubeSource

#: Seconds a read waits for a broken watch to come back before it is answered otherwise.
BROKEN_GRACE = 1.0
#: Seconds a scope whose list or watch was refused is not tried again (namespaces are used).
REFUSED_FOR = 300.0
#: Seconds ``close`` waits for the informers' threads to end (a watch ends at once; a list page in
#: flight when it was stopped may take longer).
CLOSE_WAIT = 5.0
#: Seconds between two sweeps for idle informers (at most).
SWEEP_EVERY = 5.0

#: Reads a cache keeps for reuse (``ClusterCache.keep``; the oldest go first).
KEPT_READS = 32

Scope = tuple[str, str | None, tuple]  # (kind, namespace or None, fixed field selectors)

_epochs = itertools.count(1)  # next() is atomic: two changes at once never share an epoch


class Snapshot:
    """A read's rows and how current they are."""

    def __init__(
        self,
        table: pa.Table,
        fresh: bool,
        age: float,
        describe: str,
        warnings: list[str],
        parts: list[tuple[Store, ViewRows]] | None = None,
    ) -> None:
        self.table = table
        self.fresh = fresh  # the watch is up and has delivered every write of this process
        self.age = age  # seconds since the server last confirmed these rows (event, bookmark, list)
        self.describe = describe  # for -v and EXPLAIN ANALYZE
        self.warnings = warnings
        self.parts = parts or []  # the stores (and their view's rows) the table was read from


class KeptRead:
    """What one read of several kinds got from the cache (every piece fresh), kept so the next
    statement that reads the same gets the very same Arrow tables while nothing changed: no
    per-kind work, and the session need not register a new concatenation in DuckDB.

    ``epoch``: the cache's epoch before the read began (any change since makes it unusable);
    ``until``: ``time.monotonic()`` at which it is no longer usable anyway (a row's clock-derived
    value changes, a refusal is to be tried again, discovery is asked again)."""

    __slots__ = ("epoch", "pieces", "reads", "until", "warnings")

    def __init__(
        self,
        epoch: int,
        until: float,
        pieces: list[tuple[str, Any]],
        warnings: list[str],
        reads: list[tuple[str, list[Store], int]],
    ) -> None:
        self.epoch = epoch
        self.until = until
        self.pieces = pieces  # (cluster, Arrow table), as the feed yielded them
        self.warnings = warnings
        self.reads = reads  # per piece: (scopes, stores, rows), logged again by each reuse


class ClusterCache:
    """The watch cache of one ``KubeSource`` (one cluster). Thread-safe."""

    def __init__(self, source: KubeSource, *, idle: float = 600.0) -> None:
        self.source = source
        self.idle = idle
        self.lock = threading.RLock()
        self.stores: dict[Scope, Store] = {}
        self.refused: dict[Scope, tuple[float, str]] = {}  # scope -> (when, the server's refusal)
        self.joined_by: dict[str, set[ViewRows]] = {}  # kind -> view rows that look at that kind
        # changes whenever anything a read returns may have changed: an object, an informer's
        # state, a write's fence, a store or a view added or dropped (``touch``)
        self.epoch = next(_epochs)
        self.kept: OrderedDict[Hashable, KeptRead] = OrderedDict()
        self._closed = threading.Event()
        self._sweeper = threading.Thread(target=self._sweep, name="chaosql-cache-sweep", daemon=True)
        self._sweeper.start()

    # --- reading -------------------------------------------------------------------------------

    def prepare(self, kind: str, view: View, flt: ListFilter, columns: frozenset[str] | None = None) -> None:
        """Start what ``read`` will need without waiting, so several kinds load at once."""
        if self._current(kind, view) is not None:
            return
        for scope in self._scopes(kind, view, flt) or ():
            self._ensure(scope, view, columns)

    def _current(self, kind: str, view: View) -> tuple[Store, ViewRows] | None:
        """The cluster-wide store and rows of a kind when a read may use them at once (the common
        case of a warm cache): listed, watching, past every write of this process."""
        with self.lock:
            store = self.stores.get((kind, None, tuple(view.fixed)))
            if store is None or store.informer is None:
                return None
            rows = store.views.get(view)
            if rows is None or not rows.ready or store.informer.state != "synced":
                return None
            if not self._caught_up(store):
                return None
            for joined, _ in view.lookups:  # what the rows join with must be current too (or refused)
                other = self.stores.get((joined, None, ()))
                if other is None:
                    if self._is_refused((joined, None, ())) or not self.source.has_kind(self.source.name, joined):
                        continue
                    return None
                if other.informer is None or other.informer.state != "synced":
                    return None
            store.last_read = time.monotonic()
            return store, rows

    def read(
        self,
        kind: str,
        view: View,
        flt: ListFilter,
        log: CallLog,
        *,
        narrow: bool,
        wait: float,
        columns: frozenset[str] | None = None,
    ) -> Snapshot | None:
        """Rows of ``kind`` for ``view`` that cover ``flt``, or None: list live instead (a narrow
        read of a kind still loading, a refused scope, a failed informer). ``wait`` (seconds)
        bounds every wait; a cancelled statement (``log``) ends them. ``columns``: what the
        statement reads (None: all); columns the view left out so far are shaped now."""
        started = time.perf_counter()
        deadline = time.monotonic() + max(wait, 0.0)
        current = self._current(kind, view)
        if current is not None:
            return self._snapshot([current], log, started, deadline, columns)
        scopes = self._scopes(kind, view, flt)
        if scopes is None:
            return None
        parts: list[tuple[Store, ViewRows]] = []
        for scope in scopes:
            ready = self._ready(scope, view, narrow and scope[1] is None, log, deadline, columns)
            if ready is None:
                return None
            parts.append(ready)
        return self._snapshot(parts, log, started, deadline, columns)

    def _scopes(self, kind: str, view: View, flt: ListFilter) -> list[Scope] | None:
        fixed = tuple(view.fixed)
        with self.lock:
            if not self._is_refused((kind, None, fixed)):
                return [(kind, None, fixed)]
            if not flt.namespaces:
                return None  # a live list says what is forbidden
            scopes: list[Scope] = [(kind, ns, fixed) for ns in sorted(flt.namespaces)]
            return None if any(self._is_refused(s) for s in scopes) else scopes

    def _is_refused(self, scope: Scope) -> bool:
        refused = self.refused.get(scope)
        if refused is not None and time.monotonic() - refused[0] > REFUSED_FOR:
            del self.refused[scope]
            return False
        return refused is not None

    def _store(self, scope: Scope, view: View | None = None, columns: frozenset[str] | None = None) -> Store:
        """The store of a scope, with its informer started if it is new (or had failed). A new
        store gets ``view``'s rows before its informer starts, so every page is shaped as it
        arrives (not packed first, then unpacked again to be shaped)."""
        from chaosql.sources.kube import plan_list

        kind, namespace, fixed = scope
        with self.lock:
            store = self.stores.get(scope)
            if store is not None and store.informer is not None and store.informer.state not in ("failed", "stopped"):
                store.last_read = time.monotonic()
                return store
        resource = self.source._resource(kind)  # discovery (cached a while), not under the lock
        new = None
        with self.lock:
            store = self.stores.get(scope)
            informer = store.informer if store is not None else None
            if store is not None and informer is not None and informer.state in ("failed", "stopped"):
                if isinstance(informer.error, Forbidden):
                    return store  # the reader sees it failed and goes per namespace or live
                self._drop(store)  # unreachable at its first list: this read tries anew
                store = None
            if store is None:
                store = Store(self, kind, namespace, fixed)
                store.keep_objects = kind in self.joined_by
                params = plan_list(resource, ListFilter(fields=fixed)).params
                new = store.informer = Informer(
                    self.source, resource, namespace, store, params=params, on_state=self._state_changed
                )
                self.stores[scope] = store
                self.touch()
                if view is not None:
                    self._add_view(store, view, columns)
            store.last_read = time.monotonic()
        if new is not None:
            # outside the lock: a thread's start waits until it runs, and the informers already
            # listing need the lock for every page they read
            new.start()
        return store

    def _ensure(
        self, scope: Scope, view: View, columns: frozenset[str] | None = None
    ) -> tuple[Store, ViewRows, list[Store]]:
        """The store of ``scope`` with ``view``'s rows in it, and the stores of the kinds the view
        joins with, all started (none waited for). A lookup is read cluster-wide, as a live list
        does; an on-demand kind refused cluster-wide is read in the namespace of a
        namespace-scoped store."""
        store = self._store(scope, view, columns)
        joined = []
        wanted: list[Scope] = [(kind, None, ()) for kind, _ in view.lookups]
        for kind in view.on_demand:
            on: Scope = (kind, None, ())
            wanted.append((kind, store.namespace, ()) if self._is_refused(on) and store.namespace else on)
        for want in wanted:
            if not self._is_refused(want) and self.source.has_kind(self.source.name, want[0]):
                joined.append(self._store(want))
        with self.lock:
            for other in joined:
                other.keep_parsed()
            rows = store.views.get(view) or self._add_view(store, view, columns)
        return store, rows, joined

    def _add_view(self, store: Store, view: View, columns: frozenset[str] | None) -> ViewRows:
        with self.lock:
            self.touch()
            rows = store.add_view(view, columns)
            for kind in view.joined_kinds():
                self.joined_by.setdefault(kind, set()).add(rows)
            return rows

    def _ready(
        self, scope: Scope, view: View, narrow: bool, log: CallLog, deadline: float, columns: frozenset[str] | None
    ) -> tuple[Store, ViewRows] | None:
        """The store and the view's rows once they can be served, else None (list live)."""
        store, rows, joined = self._ensure(scope, view, columns)
        informer = store.informer
        assert informer is not None
        if narrow and informer.state == "starting":
            return None  # list just this now; the whole kind keeps loading for the next read
        for other in joined:  # joined kinds first, so the rows are shaped with what they join
            assert other.informer is not None
            other.informer.wait(lambda i: i.state not in ("starting", "relisting"), deadline - time.monotonic(), log)
            if other.informer.state == "failed":
                self._refuse(other)
        informer.wait(lambda i: i.state not in ("starting", "relisting"), deadline - time.monotonic(), log)
        if informer.state in ("failed", "stopped"):
            self._refuse(store)
            return None
        if informer.state == "broken":
            informer.wait(lambda i: i.state != "broken", min(BROKEN_GRACE, deadline - time.monotonic()), log)
        return (store, rows) if rows.ready else None

    def joined_store(self, kind: str, rows: ViewRows) -> Store | None:
        """The store a lookup of ``rows`` reads, or None when that kind is not visible."""
        store = self.stores.get((kind, None, ()))
        if store is None and kind in rows.view.on_demand and rows.store.namespace is not None:
            store = self.stores.get((kind, rows.store.namespace, ()))
        if store is None or not store.complete:
            return None
        if store.informer is not None and store.informer.state in ("failed", "stopped"):
            return None
        store.last_read = rows.store.last_read
        return store

    def _refuse(self, store: Store) -> None:
        """Drop a failed store; a refusal (403) is remembered, so reads go per namespace or live."""
        error = store.informer.error if store.informer is not None else None
        with self.lock:
            if isinstance(error, Forbidden):
                self.refused[(store.kind, store.namespace, store.fixed)] = (time.monotonic(), error.message)
            self._drop(store)

    def _snapshot(
        self,
        parts: list[tuple[Store, ViewRows]],
        log: CallLog,
        started: float,
        deadline: float,
        columns: frozenset[str] | None = None,
    ) -> Snapshot:
        import pyarrow as pa

        fresh, ages = True, []
        for store, _ in parts:
            informer = store.informer
            assert informer is not None
            # read-your-writes: wait until the watch delivered this process's writes (while it is up)
            informer.wait(self._settled(store), deadline - time.monotonic(), log)
            now = time.monotonic()
            if informer.state == "synced" and self._caught_up(store):
                ages.append(now - informer.heard_at)
            else:
                fresh = False
                ages.append(now - (informer.broken_since or informer.heard_at))
        warnings: list[str] = []
        tables = []
        with self.lock:
            for _, rows in parts:
                if not rows.wide and rows.view.needs_wide(columns):
                    self.touch()
                    rows.widen()
                rows.expire()
                tables.append(rows.materialize())
                warnings += self._unseen(rows)
        table = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
        age = max(ages)
        informers = [s.informer for s, _ in parts if s.informer is not None]
        describe = _describe(", ".join(s.what for s, _ in parts), informers, age)
        log.record(Call(self.source.name, self.source.name, describe, table.num_rows, time.perf_counter() - started))
        return Snapshot(table, fresh, age, describe, warnings, parts)

    # --- reads kept for the next statement -------------------------------------------------------

    def touch(self) -> None:
        """Something a read depends on changed: the reads kept so far are not used again (and
        are let go: a store dropped as idle must not stay alive through a kept read)."""
        self.epoch = next(_epochs)
        if self.kept:
            self.kept.clear()

    def _state_changed(self, informer: Informer) -> None:
        self.touch()

    def stamp(self) -> tuple[int, float]:
        """(epoch, until) to take before a read that may be kept (``keep``)."""
        return self.epoch, self.source.discovery_until()

    def keep(self, key: Hashable, stamp: tuple[int, float], pieces: list[tuple[str, Snapshot]]) -> None:
        """Keep a read whose every piece was fresh, for ``reuse`` by the next statement with the
        same ``key``; ``stamp`` was taken before the read began."""
        epoch, until = stamp
        # what the read planned with discovery (taken before it, or during it, if it discovered)
        until = min(until, self.source.discovery_until())
        now, clock = time.monotonic(), time.time()
        with self.lock:
            if epoch != self.epoch:
                return  # changed while it was read: the next statement reads again
            for when, _ in self.refused.values():  # a refusal is tried again after a while
                until = min(until, when + REFUSED_FOR)
            for _, snapshot in pieces:
                for _, rows in snapshot.parts:
                    if rows.expiry:  # a row's value changes with time then (an experiment's duration)
                        until = min(until, now + rows.expiry[0][0] - clock)
            if until <= now:
                return
            reads = [
                (", ".join(s.what for s, _ in p.parts), [s for s, _ in p.parts], p.table.num_rows) for _, p in pieces
            ]
            warnings = [w for _, p in pieces for w in p.warnings]
            self.kept[key] = KeptRead(epoch, until, [(c, p.table) for c, p in pieces], warnings, reads)
            while len(self.kept) > KEPT_READS:
                self.kept.popitem(last=False)

    def reuse(self, key: Hashable, log: CallLog | None = None) -> KeptRead | None:
        """The read kept for ``key`` when nothing it depends on changed since and every store it
        read is still fresh, its reads logged in ``log`` as a read of the stores would log them;
        else None (read the stores)."""
        kept = self.kept.get(key)
        if kept is None or kept.epoch != self.epoch:
            return None
        now = time.monotonic()
        if now >= kept.until:
            return None
        name = self.source.name
        calls = []
        for scopes, stores, rows in kept.reads:
            informers = []
            for store in stores:
                informer = store.informer
                # never served unless fresh (an informer's new state is announced just after it is set)
                if informer is None or informer.state != "synced" or informer.version < store.fence or store.gone:
                    return None
                informers.append(informer)
            if log is not None:
                for store in stores:
                    store.last_read = now
                age = max(now - informer.heard_at for informer in informers)
                calls.append(Call(name, name, _describe(scopes, informers, age), rows))
        if log is not None:
            log.extend(calls)
        return kept

    def _settled(self, store: Store) -> Callable[[Informer], bool]:
        return lambda informer: self._caught_up(store) or self._down(informer)

    def _caught_up(self, store: Store) -> bool:
        informer = store.informer
        if informer is None or informer.version < store.fence:
            return False
        if store.gone:
            store.gone = {uid for uid in store.gone if uid in store.entries}
        return not store.gone

    @staticmethod
    def _down(informer: Informer) -> bool:
        if informer.state in ("failed", "stopped", "relisting"):
            return True
        return informer.state == "broken" and time.monotonic() - informer.broken_since > BROKEN_GRACE

    def _unseen(self, rows: ViewRows) -> list[str]:
        """Warnings for joined kinds the user may not list (their columns are NULL), as live."""
        out = []
        for kind, _ in rows.view.lookups:
            refused = self.refused.get((kind, None, ()))
            if refused is not None:
                out.append(f"{rows.view.key}: {refused[1]}; the columns joined from {kind} objects are NULL")
        return out

    # --- changes -------------------------------------------------------------------------------

    def changed(self, store: Store, keys: list[tuple[str, str]]) -> None:
        """Objects of ``store`` changed (under the lock): rows of other views that looked at them
        are shaped again."""
        for rows in list(self.joined_by.get(store.kind, ())):
            if rows.store is store or not keys:
                continue
            rows.memo.clear()
            for uid in rows.looked_at(store.kind, keys):
                entry = rows.store.entries.get(uid)
                if entry is not None:
                    rows.shape(uid, entry.parsed())

    def wrote(self, kind: str, namespace: str, version: int, uid: str | None = None) -> None:
        """This process wrote a ``kind`` object in ``namespace`` (``version``: the resourceVersion
        the write returned; 0 with ``uid`` for a delete that returned none): reads of the kind wait
        until the watch has delivered it."""
        with self.lock:
            self.touch()
            for store in self.stores.values():
                if store.kind != kind or store.namespace not in (None, namespace or None):
                    continue
                if version:
                    store.fence = max(store.fence, version)
                elif uid:
                    store.gone.add(uid)

    def warn(self, message: str) -> None:
        self.source.warnings.append(message)

    # --- lifecycle -----------------------------------------------------------------------------

    def informers(self) -> list[Informer]:
        with self.lock:
            return [s.informer for s in self.stores.values() if s.informer is not None]

    def _drop(self, store: Store) -> None:
        with self.lock:
            self.touch()
            scope = (store.kind, store.namespace, store.fixed)
            if self.stores.get(scope) is store:
                del self.stores[scope]
            for rows in store.views.values():
                for kind in rows.view.joined_kinds():
                    self.joined_by.get(kind, set()).discard(rows)
        if store.informer is not None:
            store.informer.stop()

    def _sweep(self) -> None:
        while not self._closed.wait(min(SWEEP_EVERY, max(self.idle / 4, 0.05))):
            self.sweep()

    def sweep(self) -> list[Store]:
        """Stop the informers no read needed for ``idle`` seconds (a kind joined by a view still
        in use stays); returns the stores dropped."""
        now = time.monotonic()
        with self.lock:
            idle = [s for s in self.stores.values() if now - s.last_read > self.idle]
            used = [s for s in self.stores.values() if s not in idle]
            needed = {kind for s in used for rows in s.views.values() for kind in rows.view.joined_kinds()}
            idle = [s for s in idle if s.kind not in needed]
            for store in idle:
                self._drop(store)
        return idle

    def close(self) -> None:
        self._closed.set()
        with self.lock:
            stores = list(self.stores.values())
            self.stores.clear()
            self.joined_by.clear()
            self.touch()
        informers = [store.informer for store in stores if store.informer is not None]
        for informer in informers:
            informer.stop()
        # the source closes its connections next: each watch must have let go of its socket first
        deadline = time.monotonic() + CLOSE_WAIT
        for informer in informers:
            informer.join(max(0.0, deadline - time.monotonic()))

    def status(self) -> list[dict[str, Any]]:
        """One line of facts per informer (for ``\\cache`` style inspection and tests)."""
        now = time.monotonic()
        with self.lock:
            return [
                {
                    "kind": s.kind,
                    "namespace": s.namespace,
                    "state": s.informer.state if s.informer else "none",
                    "objects": len(s.entries),
                    "resource_version": s.informer.version if s.informer else 0,
                    "relists": s.informer.relists if s.informer else 0,
                    "idle_seconds": now - s.last_read,
                    "views": sorted(v.key for v in s.views),
                }
                for s in self.stores.values()
            ]


def _describe(scopes: str, informers: list[Informer], age: float) -> str:
    """How a read from the cache shows in ``-v`` and EXPLAIN ANALYZE."""
    states = "/".join(sorted({i.state for i in informers}))
    version = max(i.version for i in informers)
    return f"cache {scopes} (age {age * 1000:.0f} ms, {states}, resourceVersion {version})"
