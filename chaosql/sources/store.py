"""What the watch cache holds for one kind in one scope: the objects, compact, and the rows each
table needs from them, as Arrow.

A table hands the cache a ``View``: how one object becomes rows (``shape``), how rows become Arrow
(``to_arrow``), and the kinds those rows join with. A ``Store`` is an informer's sink: it shapes
each object once, when it arrives, for every view over it, and keeps each view's rows as an Arrow
table that is patched, not rebuilt, when objects change (``ViewRows.materialize``: the rows of the
changed objects are filtered out, their new rows appended, small chunks combined now and then).
A list arrives page by page, each page's rows folded into Arrow before the next is read, so a
large list never holds all its parsed objects, or all its rows as dicts, at once.

Each object is also kept compact (``managedFields`` dropped, packed with ``marshal``: smaller than
its JSON and several times quicker to pack and unpack; a kind other views join with also as a
parsed dict), so its rows can be shaped again without a call: for a view added later, when an
object it joined with changes, or when its rows change with time.

Joins stay correct: while a row is shaped, each lookup it makes (``Resolver.get``) and each read of
a whole kind (``Resolver.all``, ``Resolver.memo``) is recorded; when such an object appears,
changes or goes, the rows that looked at it are shaped again (``Store.changed`` → the cache).
"""

from __future__ import annotations

import heapq
import marshal
import time
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chaosql.sources.base import ListFilter
from chaosql.sources.watch import version_of

if TYPE_CHECKING:
    import pyarrow as pa

    from chaosql.sources.cache import ClusterCache
    from chaosql.sources.watch import Informer

#: Arrow chunks a view may gather from small changes before they are combined into one.
MAX_CHUNKS = 32

Row = dict[str, Any]
Key = tuple[str, str]  # (namespace, name)
Dep = tuple[str, str, str]  # (kind, namespace, name)


@dataclass(frozen=True, eq=False)
class View:
    """How rows of one table come out of objects of one kind (given by the table layer).

    ``shape(obj, resolver)`` returns the object's rows; ``to_arrow(rows, columns)`` builds an Arrow
    table in the table's schema (columns outside ``columns`` NULL). ``lookups`` are kinds the rows join with, listed cluster-wide and filtered
    by their ListFilter; ``on_demand`` kinds are joined from the object's own namespace. ``fixed``
    are field selectors every list and watch of the kind carries for this view. ``narrow``: the
    columns shaped until a read needs another (the costly JSON ones are left NULL until then;
    ``None``: every column, always).
    """

    key: str
    shape: Callable[[dict, Resolver], list[Row]]
    to_arrow: Callable[[list[Row], frozenset[str] | None], pa.Table]
    lookups: tuple[tuple[str, ListFilter], ...] = ()
    on_demand: tuple[str, ...] = ()
    fixed: tuple[tuple[str, str], ...] = ()
    narrow: frozenset[str] | None = None

    def needs_wide(self, columns: frozenset[str] | None) -> bool:
        """Whether a read of ``columns`` (None: all) needs columns outside ``narrow``."""
        return self.narrow is not None and (columns is None or not columns <= self.narrow)

    def joined_kinds(self) -> tuple[str, ...]:
        return tuple(kind for kind, _ in self.lookups) + self.on_demand


class Entry:
    """One object: where it is, its resourceVersion, the object packed, and (for joined kinds) the
    dict. (``marshal`` packs what JSON holds exactly; the bytes live only in this process.)"""

    __slots__ = ("key", "obj", "packed", "version")

    def __init__(self, key: Key, version: int, packed: bytes | None, obj: dict | None) -> None:
        self.key, self.version, self.packed, self.obj = key, version, packed, obj

    def parsed(self) -> dict:
        if self.obj is not None:
            return self.obj
        return marshal.loads(self.packed) if self.packed is not None else {}


class ViewRows:
    """One view's rows over one store: an Arrow table plus the changes not yet folded into it,
    and what each object's rows looked at."""

    def __init__(self, view: View, store: Store, *, wide: bool = True) -> None:
        self.view = view
        self.store = store
        self.wide = wide or view.narrow is None  # every column shaped (else only ``view.narrow``)
        self.table: pa.Table | None = None
        self.uids: Any = None  # pa.ChunkedArray: the object each row of ``table`` came from
        self.pending: dict[str, list[Row]] = {}  # uid -> its new rows ([]: gone)
        self.present: set[str] = set()  # uids with rows in ``table``
        self.by_key: dict[Dep, set[str]] = {}  # (kind, ns, name) -> uids whose rows looked at it
        self.by_kind: dict[str, set[str]] = {}  # kind -> uids whose rows read all of it
        self.looked: dict[str, tuple[list[Dep], set[str]]] = {}  # uid -> (keys, kinds) it looked at
        self.expiry: list[tuple[float, str]] = []  # (time.time(), uid): shape again then
        self.memo: dict = {}  # the shaper's indexes over whole kinds; cleared when they change
        self.ready = False  # shaped from a complete list
        # one resolver for every object, begun anew for each (shaping runs under the cache's lock):
        # the shaper's context around it is built once, not per object (a third of shaping an experiment)
        self._resolver: Resolver | None = None

    @property
    def columns(self) -> frozenset[str] | None:
        """The columns shaped (None: all)."""
        return None if self.wide else self.view.narrow

    def widen(self) -> None:
        """Shape every object again with every column: a read needs one the rows left out. Only
        the first such read pays; from then on every change is shaped with every column."""
        self.wide = True
        self.table, self.uids, self.present, self.pending = None, None, set(), {}
        for uid, entry in list(self.store.entries.items()):
            self.shape(uid, entry.parsed())
        self.materialize(compact=True)

    def shape(self, uid: str, obj: dict) -> None:
        """Shape one object's rows (pending until the next read folds them in)."""
        resolver = self._resolver
        if resolver is None or resolver.columns != self.columns:  # widen() changed what is shaped
            resolver = self._resolver = Resolver(self.store.cache, self)
        resolver.begin()
        self.forget(uid)
        try:
            rows = self.view.shape(obj, resolver)
        except Exception as err:  # a shaper bug: no rows for the object, and a warning says why
            rows = []
            self.store.cache.warn(f"{self.view.key}: cannot shape {obj.get('kind')} {_name(obj)}: {err}")
        self.pending[uid] = rows
        if resolver.keys or resolver.kinds:
            self.looked[uid] = (resolver.keys, resolver.kinds)
            for key in resolver.keys:
                self.by_key.setdefault(key, set()).add(uid)
            for kind in resolver.kinds:
                self.by_kind.setdefault(kind, set()).add(uid)
        if resolver.expires is not None:
            heapq.heappush(self.expiry, (resolver.expires, uid))

    def gone(self, uid: str) -> None:
        self.forget(uid)
        self.pending[uid] = []

    def forget(self, uid: str) -> None:
        keys, kinds = self.looked.pop(uid, ((), set()))
        for key in keys:
            users = self.by_key.get(key)
            if users is not None:
                users.discard(uid)
                if not users:
                    del self.by_key[key]
        for kind in kinds:
            self.by_kind.get(kind, set()).discard(uid)

    def looked_at(self, kind: str, keys: list[Key]) -> set[str]:
        """Objects whose rows looked at these ``kind`` objects (or at all of ``kind``)."""
        found = set(self.by_kind.get(kind, ()))
        for namespace, name in keys:
            found |= self.by_key.get((kind, namespace, name), set())
        return found

    def expire(self) -> None:
        """Shape again the rows whose time came (an experiment whose duration ran out)."""
        now = time.time()
        while self.expiry and self.expiry[0][0] <= now:
            _, uid = heapq.heappop(self.expiry)
            entry = self.store.entries.get(uid)
            if entry is not None:
                self.shape(uid, entry.parsed())

    def materialize(self, *, compact: bool = False) -> pa.Table:
        """The Arrow table with every pending change folded in (``compact``: in one chunk)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if not self.pending and self.table is not None and not compact:
            return self.table
        replaced = [uid for uid in self.pending if uid in self.present]
        if self.table is not None and replaced:
            keep = pc.invert(pc.is_in(self.uids, value_set=pa.array(replaced, pa.string())))
            self.table, self.uids = self.table.filter(keep), self.uids.filter(keep)
        rows: list[Row] = []
        owners: list[str] = []
        for uid, new in self.pending.items():
            rows.extend(new)
            owners.extend([uid] * len(new))
            if new:
                self.present.add(uid)
            else:
                self.present.discard(uid)
        self.pending = {}
        if rows or self.table is None:
            added = self.view.to_arrow(rows, self.columns)
            added_uids = pa.array(owners, pa.string())
            if self.table is None or not self.table.num_rows:
                self.table, self.uids = added, pa.chunked_array([added_uids], pa.string())
            else:
                self.table = pa.concat_tables([self.table, added])
                self.uids = pa.chunked_array([*self.uids.chunks, added_uids], pa.string())
        if self.table.num_columns and self.table.column(0).num_chunks > (1 if compact else MAX_CHUNKS):
            self.table = self.table.combine_chunks()
            self.uids = pa.chunked_array([self.uids.combine_chunks()], pa.string())
        return self.table


class Store:
    """Objects of one kind in one scope (a namespace, or the cluster), fed by one informer (it is
    the informer's ``Sink``; every method runs under the cache's lock)."""

    def __init__(self, cache: ClusterCache, kind: str, namespace: str | None, fixed: tuple) -> None:
        self.cache = cache
        self.kind = kind
        self.namespace = namespace
        self.fixed = fixed
        self.entries: dict[str, Entry] = {}  # uid -> entry
        self.by_key: dict[Key, str] = {}  # (namespace, name) -> uid
        self.keep_objects = False  # other views join with this kind: keep parsed objects too
        self.views: dict[View, ViewRows] = {}  # by identity: a table rebuilt (a cluster's CRD) is a new view
        self.generation = 0  # bumped by every change (for indexes derived from the objects)
        self.complete = False  # holds a complete list (so lookups may read it)
        self._seen: set[str] = set()  # uids of the list under way
        self._keys: list[Key] = []  # what the list under way changed
        self._unchanged_ok = False
        self.fence = 0  # a resourceVersion this process wrote: reads wait until the watch has it
        self.gone: set[str] = set()  # uids this process deleted: reads wait until they are gone
        self.last_read = time.monotonic()
        self.informer: Informer | None = None
        self._filtered: dict[ListFilter, tuple[int, dict[Key, dict]]] = {}

    @property
    def what(self) -> str:
        return self.informer.what if self.informer is not None else self.kind

    def __repr__(self) -> str:
        return f"<Store {self.kind} in {self.namespace or 'all namespaces'}: {len(self.entries)} objects>"

    # --- the informer's Sink -------------------------------------------------------------------

    def listing(self) -> None:
        with self.cache.lock:
            self.cache.touch()
            self._seen = set()
            self._keys = []
            self._unchanged_ok = all(rows.ready for rows in self.views.values())

    def page(self, objects: list[dict]) -> None:
        with self.cache.lock:
            self.cache.touch()
            for obj in objects:
                uid = _uid(obj)
                self._seen.add(uid)
                entry = self.entries.get(uid)
                if entry is not None and self._unchanged_ok and entry.version == version_of(obj):
                    continue  # unchanged since we had it (a list again after a 410)
                key = self._key(uid, obj)
                if key is not None:
                    self._keys.append(key)
                self._put(uid, obj)
            for rows in self.views.values():
                rows.materialize()  # a page's rows into Arrow now, so they do not pile up as dicts

    def listed(self, version: int) -> None:
        with self.cache.lock:
            self.cache.touch()
            for uid in [uid for uid in self.entries if uid not in self._seen]:
                key = self._key(uid, None)
                if key is not None:
                    self._keys.append(key)
                self._put(uid, None)
            self.complete = True
            for rows in self.views.values():
                rows.ready = True
            self.cache.changed(self, self._keys)
            for rows in self.views.values():
                rows.materialize(compact=True)  # the first read after a list finds its table built
            self._seen, self._keys = set(), []

    def apply(self, event: str, obj: dict, version: int) -> None:
        with self.cache.lock:
            self.cache.touch()
            uid = _uid(obj)
            key = self._key(uid, obj)
            self._put(uid, None if event == "DELETED" else obj)
            self.cache.changed(self, [key] if key is not None else [])

    def progress(self, version: int) -> None:
        """A bookmark: the informer keeps the version, nothing here changes."""

    # --- objects ---------------------------------------------------------------------------

    def _key(self, uid: str, obj: dict | None) -> Key | None:
        if obj is not None:
            meta = obj.get("metadata") or {}
            return (meta.get("namespace") or "", meta.get("name") or "")
        entry = self.entries.get(uid)
        return entry.key if entry is not None else None

    def _put(self, uid: str, obj: dict | None) -> None:
        """Keep (or, for None, drop) one object and shape its rows for every view."""
        old = self.entries.pop(uid, None)
        if old is not None:
            self.by_key.pop(old.key, None)
        self.generation += 1
        if obj is None:
            for rows in self.views.values():
                rows.gone(uid)
            return
        meta = obj.get("metadata") or {}
        meta.pop("managedFields", None)  # often larger than the rest of the object, never read
        key = (meta.get("namespace") or "", meta.get("name") or "")
        packed = None if self.keep_objects else marshal.dumps(obj)
        self.entries[uid] = Entry(key, version_of(obj), packed, obj if self.keep_objects else None)
        self.by_key[key] = uid
        for rows in self.views.values():
            rows.shape(uid, obj)

    def add_view(self, view: View, columns: frozenset[str] | None = None) -> ViewRows:
        """Rows for a view new to this store, shaped from the objects it already has: all of them,
        or, while the first list is still coming in, the pages read so far (the rest are shaped as
        they arrive; the rows are ready once the list is complete). ``columns``: what the first
        read needs (None: all); the view's costly columns are shaped only when it needs them."""
        rows = self.views[view] = ViewRows(view, self, wide=view.needs_wide(columns))
        for uid, entry in list(self.entries.items()):
            rows.shape(uid, entry.parsed())
        rows.ready = self.complete
        rows.materialize()
        return rows

    def keep_parsed(self) -> None:
        """Other views join with this kind from now on: keep each object parsed."""
        if not self.keep_objects:
            self.keep_objects = True
            for entry in self.entries.values():
                entry.obj = entry.parsed()

    def lookup(self, key: Key) -> dict | None:
        uid = self.by_key.get(key)
        entry = self.entries.get(uid) if uid is not None else None
        return entry.parsed() if entry is not None else None

    def filtered(self, flt: ListFilter) -> dict[Key, dict]:
        """(namespace, name) -> object for the objects ``flt`` matches (rebuilt when they change)."""
        cached = self._filtered.get(flt)
        if cached is not None and cached[0] == self.generation:
            return cached[1]
        every = flt == ListFilter()
        out = {}
        for entry in self.entries.values():
            obj = entry.parsed()
            if every or flt.matches(obj):
                out[entry.key] = obj
        self._filtered[flt] = (self.generation, out)
        return out


class Resolver:
    """What a shaper may look at besides its object: the kinds its view joins with. Every look is
    recorded, so the rows are shaped again when what they looked at changes. One resolver serves
    every object of a view's rows: ``begin`` starts the record of the next one. ``context`` is the
    shaper's own, kept with the resolver (the table layer's row context around it)."""

    def __init__(self, cache: ClusterCache, rows: ViewRows) -> None:
        self.cache = cache
        self.rows = rows
        self.cluster = cache.source.name
        self.source_name = cache.source.name
        self.family = cache.source.kind_label
        self.keys: list[Dep] = []
        self.kinds: set[str] = set()
        self.expires: float | None = None
        self.columns = rows.columns  # what to shape (None: every column)
        self.context: Any = None
        self._filters = dict(rows.view.lookups)

    def begin(self) -> None:
        """Record the looks of the next object (the lists of the last one are kept by its rows)."""
        self.keys, self.kinds, self.expires = [], set(), None

    def get(self, kind: str, namespace: str, name: str) -> dict | None:
        """The ``kind`` object ``namespace/name``, or None (missing, or not visible)."""
        self.keys.append((kind, namespace, name))
        store = self.cache.joined_store(kind, self.rows)
        if store is None:
            self.kinds.add(kind)  # not visible now: shape again when it is
            return None
        obj = store.lookup((namespace, name))
        flt = self._filters.get(kind)
        return obj if obj is None or flt is None or flt.matches(obj) else None

    def all(self, kind: str) -> Mapping[Key, dict] | None:
        """Every ``kind`` object the view joins with, or None when they are not visible."""
        self.kinds.add(kind)
        store = self.cache.joined_store(kind, self.rows)
        return None if store is None else store.filtered(self._filters.get(kind, ListFilter()))

    def visible(self, kind: str) -> bool:
        self.kinds.add(kind)
        return self.cache.joined_store(kind, self.rows) is not None

    def memo(self) -> dict:
        """Indexes the shaper derives from whole kinds: reading them depends on all those kinds."""
        self.kinds.update(self.rows.view.joined_kinds())
        return self.rows.memo

    def changes_at(self, epoch: float) -> None:
        """The rows being shaped change by themselves at ``epoch`` (``time.time()``)."""
        self.expires = epoch if self.expires is None else min(self.expires, epoch)


class Memo(MutableMapping):
    """``RowContext.memo`` over a resolver: each read or write counts as reading the joined kinds."""

    def __init__(self, resolver: Resolver) -> None:
        self._resolver = resolver

    def __getitem__(self, key: Any) -> Any:
        return self._resolver.memo()[key]

    def __setitem__(self, key: Any, value: Any) -> None:
        self._resolver.memo()[key] = value

    def __delitem__(self, key: Any) -> None:
        del self._resolver.memo()[key]

    def __contains__(self, key: object) -> bool:
        return key in self._resolver.memo()

    def __iter__(self) -> Iterator[Any]:
        return iter(self._resolver.memo())

    def __len__(self) -> int:
        return len(self._resolver.memo())


class Joined(Mapping):
    """``RowContext.lookups`` over a resolver: kind -> {(namespace, name): object}, recorded."""

    def __init__(self, resolver: Resolver) -> None:
        self._resolver = resolver

    def __getitem__(self, kind: str) -> Mapping[Key, dict]:
        found = self._resolver.all(kind)
        if found is None:
            raise KeyError(kind)
        return found

    def __contains__(self, kind: object) -> bool:
        return isinstance(kind, str) and self._resolver.visible(kind)

    def __iter__(self) -> Iterator[str]:
        return iter([k for k in self._resolver.rows.view.joined_kinds() if self._resolver.visible(k)])

    def __len__(self) -> int:
        return len(list(iter(self)))


def _uid(obj: dict) -> str:
    meta = obj.get("metadata") or {}
    return meta.get("uid") or f"{meta.get('namespace') or ''}/{meta.get('name')}"


def _name(obj: dict) -> str:
    meta = obj.get("metadata") or {}
    return f"{meta.get('namespace')}/{meta.get('name')}" if meta.get("namespace") else str(meta.get("name"))
