"""The declarative pieces every virtual table is made of: columns, feeds and the table itself.

A table never runs SQL and never talks to a system. It says which columns it has (with a DuckDB type
and a one-line doc), which of them a source can filter on (``key``), and how one source object
becomes rows (a ``Feed`` per source family).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

from chaosql.errors import SourceError

if TYPE_CHECKING:
    from datetime import datetime

    import pyarrow as pa

    from chaosql.engine.pushdown import Constraints
    from chaosql.sources.base import Call

Row = dict[str, Any]
#: What a feed yields per cluster: rows to shape, or an Arrow table already in the table's schema
Rows: TypeAlias = "Iterable[Row] | pa.Table"

#: Pushdown roles a key column may declare. ``field:<path>`` is a Kubernetes field selector path;
#: ``engine`` picks the feeds (a feed's ``covers``) without a role of its own in list calls.
KEY_ROLES = {"cluster", "namespace", "name", "kind", "labels", "source", "range", "param", "engine"}


@dataclass(frozen=True)
class Col:
    """One column: ``name``, DuckDB ``type``, one-line ``doc`` and an optional pushdown ``key`` role.

    ``exact`` marks a column filled from its own filter value (e.g. ``metrics.query``): such a
    column cannot be answered without that filter, and a cached fetch is reused only for exactly
    the same value.
    """

    name: str
    type: str
    doc: str
    key: str | None = None
    exact: bool = False

    @property
    def pushable(self) -> bool:
        return self.key is not None


@dataclass(frozen=True)
class RowContext:
    """What a row shaper may know besides the object itself."""

    source: str  # configured source name, e.g. "demo"
    cluster: str  # cluster the object came from
    family: str  # "kube", "chaosd", "prometheus"
    lookups: Mapping[str, Mapping[tuple[str, str], dict]] = field(default_factory=dict)
    memo: dict = field(default_factory=dict)  # indexes a shaper derives once per fetch piece
    # kind -> loader listed only when a row first needs it (rarely needed joins cost no call)
    on_demand: Mapping[str, Any] = field(default_factory=dict)
    columns: frozenset[str] | None = None  # what the statement reads (None: everything)

    def wants(self, column: str) -> bool:
        """Whether the statement reads ``column``: shapers skip costly values nobody reads."""
        return self.columns is None or column in self.columns

    def lookup(self, kind: str, namespace: str, name: str) -> dict | None:
        if kind not in self.lookups and kind in self.on_demand:
            return self.on_demand[kind]().get((namespace or "", name))
        return self.lookups.get(kind, {}).get((namespace or "", name))

    def changes_at(self, when: datetime | None) -> None:
        """Say that the rows being shaped change by themselves at ``when`` (a phase that depends on
        the clock): the watch cache shapes them again then. Nothing to do for a one-off fetch."""


class Feed:
    """How rows of a table come out of one family of sources (kube, chaosd, prometheus, ...).

    A table may have several feeds of one family (Chaos Mesh's and LitmusChaos's experiments both
    come from Kubernetes sources). ``covers`` says which values the feed's rows can have in some
    columns (``{"engine": {"litmus"}}``): a statement whose pushed-down values exclude them all
    does not ask the feed."""

    family: str = ""
    table: Table | None = None
    covers: Mapping[str, frozenset[str]] = {}

    def may_match(self, constraints: Constraints) -> bool:
        """Whether rows of this feed can satisfy ``constraints`` (by ``covers``)."""
        for column, values in self.covers.items():
            wanted = constraints.values(column)
            if wanted is not None and not (wanted & values):
                return False
        return True

    def prepare(self, source: Any, constraints: Constraints, fetcher: Any) -> None:
        """Start, without waiting, what ``fetch`` will read (a watch cache's first lists), so the
        sources of one statement load side by side; ``fetch`` is called next, source by source."""

    def fetch(self, source: Any, constraints: Constraints, fetcher: Any) -> Iterator[tuple[str, Rows]]:
        """Yield ``(cluster, rows)`` pieces; ``fetcher`` runs work concurrently and logs calls."""
        raise NotImplementedError

    def reuse(self, source: Any, constraints: Constraints, fetcher: Any) -> Kept | None:
        """The rows ``fetch`` would give, when all of them are kept from an earlier statement and
        unchanged since (no call to make, nothing to wait for); None: fetch them."""
        return None


@dataclass
class Kept:
    """Rows a feed kept from an earlier statement (``Feed.reuse``), with what reading them logs."""

    pieces: list[Any]  # pa.Table each, in the table's schema
    calls: list[Call]  # the reads, as a fetch would log them
    warnings: list[str] = field(default_factory=list)


@dataclass
class Table:
    """A virtual table: what one row is, its columns, and its feeds."""

    name: str
    doc: str
    columns: list[Col]
    feeds: list[Feed]
    examples: list[tuple[str, str]] = field(default_factory=list)  # (question, sql)
    #: typed tables (``chaosql.tables.chaos_kinds``): the CRD schema the columns were generated
    #: from and how they map to an object; writers use it to build and check objects
    model: Any = None
    #: a table whose columns depend on the sources (typed tables read the cluster's own CRDs):
    #: ``refine(sources, log)`` returns the table to use for a statement over ``sources``
    refine: Callable[[Sequence[Any], Any], Table] | None = None

    def __post_init__(self) -> None:
        _validate(self)
        for feed in self.feeds:
            feed.table = self
        self._by_name = {c.name: c for c in self.columns}

    def column(self, name: str) -> Col | None:
        return self._by_name.get(name)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def key_columns(self) -> list[Col]:
        return [c for c in self.columns if c.key]

    def feed_for(self, family: str) -> Feed | None:
        return next((f for f in self.feeds if f.family == family), None)

    def feeds_for(self, family: str) -> list[Feed]:
        return [f for f in self.feeds if f.family == family]

    def arrow_schema(self) -> pa.Schema:
        import pyarrow as pa

        columns = tuple(self.columns)
        kept = self.__dict__.get("_schema")
        if kept is None or kept[0] != columns:  # built once: each page of rows asks for it
            kept = self.__dict__["_schema"] = (
                columns,
                pa.schema([pa.field(c.name, arrow_type(c.type)) for c in columns]),
            )
        return kept[1]

    def to_arrow(self, rows: Iterable[Row], columns: frozenset[str] | None = None) -> pa.Table:
        """Columnar assembly: one Python list per column, converted once per column. Columns
        outside ``columns`` (those the statement does not read) are left NULL."""
        import pyarrow as pa

        names = [n for n in self.column_names if columns is None or n in columns]
        values: dict[str, list] = {n: [] for n in names}
        appenders = [(values[n].append, n) for n in names]
        count = 0
        for row in rows:
            count += 1
            get = row.get
            for append, n in appenders:
                append(get(n))
        if not count:  # a kind with no objects: nothing to convert
            return self.arrow_schema().empty_table()
        arrays = [
            self._column(c, values[c.name])
            if c.name in values
            # pyarrow-stubs overload nulls() per concrete type only, not for a DataType value
            else pa.nulls(count, arrow_type(c.type))  # type: ignore[call-overload]
            for c in self.columns
        ]
        return pa.Table.from_arrays(arrays, schema=self.arrow_schema())

    def _column(self, column: Col, values: list) -> pa.Array:
        """One column as Arrow; a value a source gave that does not fit the column's type is a
        SourceError naming the table, the column and the value (never an internal error)."""
        import pyarrow as pa

        try:
            return _to_array(values, column.type)
        except (pa.ArrowException, TypeError, ValueError, OverflowError) as err:
            bad = next((v for v in values if not _fits(v, column.type)), None)
            shown = repr(bad) if len(repr(bad)) <= 60 else repr(bad)[:57] + "..."
            raise SourceError(
                f"{self.name}.{column.name}: a source gave {shown}, which is not a {column.type}",
                hint=f"fix that field in the source ({type(err).__name__}: {str(err).splitlines()[0][:120]})",
            ) from err


class _BuildOnRead:
    """A class attribute of ``LazyTable`` that builds the table when read first (a non-data
    descriptor: once built, the instance's own attribute is found first)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        obj._build_now()
        return obj.__dict__[self.name]


class LazyTable(Table):
    """A table whose name and doc are known up front but whose columns are built on first use
    (generated tables: building them all would slow every start-up for tables few statements
    read). Once built it is an ordinary ``Table``."""

    model = _BuildOnRead()
    refine = _BuildOnRead()

    def __init__(self, name: str, doc: str, build: Callable[[], Table]) -> None:  # not the dataclass __init__
        import threading

        self.__dict__.update(name=name, doc=doc, _build=build, _lock=threading.Lock())

    def __getattr__(self, attr: str) -> Any:  # only for attributes not set yet: columns, feeds, ...
        if attr.startswith("__") or attr in ("_build", "_lock"):
            raise AttributeError(attr)
        self._build_now()
        try:
            return self.__dict__[attr]
        except KeyError:
            raise AttributeError(attr) from None

    def _build_now(self) -> None:
        with self.__dict__["_lock"]:
            if "columns" in self.__dict__:
                return
            built = self.__dict__["_build"]()
            if (built.name, built.doc) != (self.name, self.doc):
                raise ValueError(f"table {self.name}: built as {built.name!r} with another doc")
            self.__dict__.update({k: v for k, v in built.__dict__.items() if k not in ("name", "doc")})

    def __repr__(self) -> str:
        return f"LazyTable({self.name!r}, built={'columns' in self.__dict__})"


def _validate(table: Table) -> None:
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", table.name):
        raise ValueError(f"table {table.name!r}: name must be a lower-case identifier")
    seen: set[str] = set()
    for col in table.columns:
        where = f"table {table.name}, column {col.name}"
        if col.name in seen:
            raise ValueError(f"{where}: defined twice")
        seen.add(col.name)
        if not col.doc.strip():
            raise ValueError(f"{where}: every column needs a one-line doc")
        arrow_type(col.type)  # raises on an unknown type
        if col.key and col.key not in KEY_ROLES and not col.key.startswith("field:"):
            raise ValueError(f"{where}: unknown pushdown role {col.key!r}")
    if not table.feeds:
        raise ValueError(f"table {table.name}: needs at least one feed")


# --- DuckDB type ↔ Arrow type ------------------------------------------------------------------

JSON_TYPES = {"JSON"}


def arrow_type(duck_type: str) -> pa.DataType:
    """The Arrow type a column of ``duck_type`` is assembled in (DuckDB reads it back as that type).

    >>> str(arrow_type("MAP(VARCHAR, VARCHAR[])")), str(arrow_type("INTERVAL")), str(arrow_type("DOUBLE[]"))
    ('map<string, list<item: string>>', 'month_day_nano_interval', 'list<item: double>')
    """
    found = _ARROW_TYPES.get(duck_type)
    if found is None:  # built once per type: every page of rows asks again for every column
        found = _ARROW_TYPES[duck_type] = _arrow_type(duck_type)
    return found


_ARROW_TYPES: dict[str, pa.DataType] = {}


def _arrow_type(duck_type: str) -> pa.DataType:
    import pyarrow as pa

    simple: dict[str, pa.DataType] = {
        "VARCHAR": pa.string(),
        "JSON": pa.string(),  # cast to DuckDB JSON when registered
        "BIGINT": pa.int64(),
        "INTEGER": pa.int32(),
        "DOUBLE": pa.float64(),
        "BOOLEAN": pa.bool_(),
        "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"),
        "INTERVAL": pa.month_day_nano_interval(),  # values: (months, days, nanoseconds)
    }
    if duck_type in simple:
        return simple[duck_type]
    if duck_type.endswith("[]") and duck_type[:-2] in simple and duck_type[:-2] != "JSON":
        return pa.list_(simple[duck_type[:-2]])
    if duck_type.startswith("MAP(VARCHAR, ") and duck_type.endswith(")"):
        values = duck_type[len("MAP(VARCHAR, ") : -1]
        if values in ("VARCHAR", "VARCHAR[]"):
            return pa.map_(pa.string(), arrow_type(values))
    raise ValueError(f"unknown column type {duck_type!r}")


def _fits(value: Any, duck_type: str) -> bool:
    try:
        _to_array([value], duck_type)
    except Exception:
        return False
    return True


def _to_array(values: list, duck_type: str) -> pa.Array:
    import pyarrow as pa

    if duck_type == "TIMESTAMPTZ":
        return _timestamps(values)
    if duck_type.startswith("MAP("):  # a dict, or the (key, value) pairs Arrow gives back
        values = [list(v.items()) if isinstance(v, dict) else v for v in values]
    return pa.array(values, type=arrow_type(duck_type))


def _timestamps(values: list) -> pa.Array:
    """RFC 3339 strings (as Kubernetes writes them) to UTC timestamps, parsed by Arrow in bulk."""
    import pyarrow as pa
    import pyarrow.compute as pc

    target = pa.timestamp("us", tz="UTC")
    if values and not isinstance(next((v for v in values if v is not None), ""), str):
        return pa.array(values, type=target)
    strings = pa.array(values, type=pa.string())
    try:
        return strings.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        parsed = pc.strptime(pc.replace_substring_regex(strings, r"\.\d+", ""), "%Y-%m-%dT%H:%M:%S%z", "us")
        return parsed.cast(target)
