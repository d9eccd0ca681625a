"""Statements asked again: their analysis and their exact answers, kept for the next time.

A dashboard with many viewers sends the same few statements every few seconds. Each is parsed
once per connection already; this module keeps, process-wide (every session of ``chaosql serve``
shares it), two things per statement:

* its **analysis** (``Plan``): what each table is fetched with, which fetch each reference reads,
  and the final DuckDB text per set of registered relation names — the sqlglot walks a statement
  costs before its fetch;
* its **answer** (``Answer``): the Arrow table DuckDB returned, reused while it is provably the
  same answer.

An answer is reused only for the same statement text (the engine's: the wire server's translated
text, or the text given), the same parameter values, the same settings that can change an answer
(``chaosql.*``, and those the front end names: the wire's TimeZone, DateStyle, ...), the same
sources and — what makes it exact — the very same input rows: the statement's fetch runs as
always (the watch cache's read-your-writes fences and staleness rules, a snapshot's rows that
change with the clock), and each table it returns must be the same Arrow object the answer was
computed from. The watch cache and a snapshot's shared shaped rows give the same object while
nothing changed and a new one on any change; a source read live for each statement gives new rows
every time, so its statements are never answered from here (``Fetcher.live``).

Only deterministic statements that read chaos tables and nothing of the session's own are kept
(``reusable``): no clock (``now()``, ``current_date``: the engine freezes them into the tree, so
such a statement's analysis is not kept either), no ``random()``, ``nextval``, ``current_user``,
no reference to a table, view or macro the session made; never a write, an EXPLAIN, an error. A
session that changed its DuckDB (CREATE, SET of a DuckDB setting, ...) keeps its answers to itself.

Memory is bounded by bytes (LRU; ``[server] answer_cache``, off outside ``chaosql serve``);
front ends may keep their own encoding of an answer on it (the wire's DataRows), counted too.
"""

from __future__ import annotations

import itertools
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa
    from sqlglot import exp

    from chaosql.engine.pushdown import Constraints
    from chaosql.engine.result import Result
    from chaosql.tables._table import Table

#: Capacity of the process's answer cache when ``chaosql serve`` is given none ([server] answer_cache).
DEFAULT_BYTES = 64 * 1024 * 1024
#: Statements whose analysis is kept (the least recently used go first).
PLANS = 1024
#: The largest share of the capacity one answer may take: a huge result is streamed, not kept.
LARGEST_SHARE = 4


@dataclass
class Plan:
    """One statement's analysis, for the exact ``tables`` (table definitions) it was made with."""

    reusable: bool  # its answers may be kept (``reusable``); False: only that is remembered
    tables: tuple[Table, ...] = ()
    reading: list[str] = field(default_factory=list)
    per_table: dict[str, Constraints] = field(default_factory=dict)
    reads: list[str] = field(default_factory=list)
    #: the final DuckDB text per relation names the fetches were registered under
    final: dict[tuple[str, ...], str] = field(default_factory=dict)
    _pushdown: dict[str, str] | None = field(default=None, repr=False)

    def pushdown(self) -> dict[str, str]:
        """What each table is fetched with, in words (``Result.pushdown``): said by every answer
        the plan gives, worked out once."""
        if self._pushdown is None:
            self._pushdown = {name: c.describe() for name, c in self.per_table.items()}
        return self._pushdown


@dataclass
class Answer:
    """A kept answer: its rows and what it was computed from (weakly: a new fetch gives new rows)."""

    table: pa.Table
    columns: list[str]
    types: list[str]
    inputs: tuple[tuple[str, weakref.ref], ...]
    made: float  # time.time() when it was computed
    nbytes: int
    #: front ends' encodings of it (the wire's RowDescription + DataRows per result formats)
    encoded: dict[Any, Any] = field(default_factory=dict)

    def same_inputs(self, fetched: dict[str, pa.Table]) -> bool:
        return len(fetched) == len(self.inputs) and all(ref() is fetched.get(name) for name, ref in self.inputs)


class AnswerCache:
    """The process's kept plans and answers; thread-safe (sessions run on many workers)."""

    def __init__(self, capacity: int = 0) -> None:
        self.capacity = capacity
        self.nbytes = 0
        self.hits = 0
        self.misses = 0
        self._answers: OrderedDict[Any, Answer] = OrderedDict()
        self._plans: OrderedDict[Any, Plan] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def on(self) -> bool:
        return self.capacity > 0

    def resize(self, capacity: int) -> None:
        """Set the capacity in bytes (0: off, and everything kept is dropped)."""
        with self._lock:
            self.capacity = max(int(capacity), 0)
            self._evict()
            if not self.capacity:
                self._plans.clear()

    def clear(self) -> None:
        with self._lock:
            self._answers.clear()
            self._plans.clear()
            self.nbytes = self.hits = self.misses = 0

    # --- plans --------------------------------------------------------------------------

    def plan(self, key: Any, tables: dict[str, Table]) -> Plan | None:
        with self._lock:
            plan = self._plans.get(key)
            if plan is None:
                return None
            self._plans.move_to_end(key)
        if any(tables.get(t.name) is not t for t in plan.tables):  # a table took a cluster's newer CRD
            return None
        return plan

    def keep_plan(self, key: Any, plan: Plan) -> None:
        if not self.on:
            return
        with self._lock:
            self._plans[key] = plan
            while len(self._plans) > PLANS:
                self._plans.popitem(last=False)

    # --- answers ------------------------------------------------------------------------

    def answer(self, key: Any, fetched: dict[str, pa.Table]) -> Answer | None:
        """The answer kept for ``key`` if it was computed from exactly the ``fetched`` tables."""
        with self._lock:
            kept = self._answers.get(key)
            if kept is not None and kept.same_inputs(fetched):
                self._answers.move_to_end(key)
                self.hits += 1
                return kept
            if kept is not None:  # its inputs changed: it can never be given again
                self._drop(key)
            self.misses += 1
            return None

    def keep(self, key: Any, fetched: dict[str, pa.Table], result: Result) -> None:
        """Keep ``result`` as the answer for ``key`` once it has been read to its end (a streamed
        one as its batches go by; one read partly, or failing, is not kept)."""
        if not self.on:
            return
        inputs = tuple((name, weakref.ref(table)) for name, table in fetched.items())
        made = time.time()

        def store(table: pa.Table) -> None:
            answer = Answer(table, list(result.columns), list(result.types), inputs, made, table.nbytes)
            with self._lock:
                if answer.nbytes * LARGEST_SHARE > self.capacity:
                    return
                if key in self._answers:
                    self._drop(key)
                self._answers[key] = answer
                self.nbytes += answer.nbytes
                self._evict()

        if result._table is not None:
            store(result._table)
        elif result._reader is not None:
            import pyarrow as pa

            reader = result._reader
            result._reader = pa.RecordBatchReader.from_batches(
                reader.schema, _kept_as_read(reader, self.capacity // LARGEST_SHARE, store)
            )

    def add_encoding(self, answer: Answer, key: Any, value: Any, nbytes: int) -> None:
        """A front end's encoding of ``answer`` (``nbytes`` of it), kept and counted with it."""
        with self._lock:
            if key in answer.encoded or nbytes * LARGEST_SHARE > self.capacity:
                return
            answer.encoded[key] = value
            if any(a is answer for a in self._answers.values()):
                answer.nbytes += nbytes
                self.nbytes += nbytes
                self._evict()

    def describe(self) -> str:
        """One line for ``SHOW chaosql.answer_cache``."""
        with self._lock:
            if not self.on:
                return "off"
            return (
                f"{len(self._answers)} answers kept, {self.nbytes} of {self.capacity} bytes; "
                f"{self.hits} reused, {self.misses} computed"
            )

    def _drop(self, key: Any) -> None:
        self.nbytes -= self._answers.pop(key).nbytes

    def _evict(self) -> None:
        while self._answers and self.nbytes > self.capacity:
            self._drop(next(iter(self._answers)))


def _kept_as_read(
    reader: pa.RecordBatchReader, most: int, store: Callable[[pa.Table], None]
) -> Iterator[pa.RecordBatch]:
    """``reader``'s batches; once read to the end (and within ``most`` bytes), kept via ``store``."""
    import pyarrow as pa

    batches: list[pa.RecordBatch] | None = []
    size = 0
    try:
        for batch in reader:
            if batches is not None:
                size += batch.nbytes
                if size <= most:
                    batches.append(batch)
                else:
                    batches = None
            yield batch
    finally:
        reader.close()  # the DuckDB query is released with the stream, read or not
    if batches is not None:
        store(pa.Table.from_batches(batches, schema=reader.schema))


#: The process's cache; ``chaosql serve`` turns it on ([server] answer_cache).
ANSWERS = AnswerCache()

_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "m": 1024**2, "mb": 1024**2, "g": 1024**3, "gb": 1024**3}


def capacity_of(value: Any) -> int:
    """``[server] answer_cache`` in bytes: a size (``"64MB"``, ``"512kB"``, a number of bytes),
    or 0 / ``"off"`` / false for none.

    >>> capacity_of("64MB"), capacity_of("512 kB"), capacity_of(1000), capacity_of("off"), capacity_of(False)
    (67108864, 524288, 1000, 0, 0)
    >>> capacity_of("lots")
    Traceback (most recent call last):
    ...
    chaosql.errors.UsageError: answer_cache takes a size such as "64MB", or 0 / "off", not 'lots'
    """
    import re

    from chaosql.errors import UsageError

    if value is False or (isinstance(value, str) and value.strip().lower() in ("off", "false", "no")):
        return 0
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmg]?b?)\s*", str(value), re.I) if isinstance(value, str) else None
    if found is None:
        raise UsageError(f'answer_cache takes a size such as "64MB", or 0 / "off", not {value!r}')
    return int(float(found.group(1)) * _UNITS[found.group(2).lower()])


_serials = itertools.count(1)


def private_token() -> int:
    """A key part no other session has: a session whose DuckDB it changed keeps answers to itself."""
    return next(_serials)


def parameters_key(params: Sequence[Any] | None) -> tuple[tuple[str, str], ...]:
    """Parameter values as a key: type and exact text (``1``, ``1.0`` and ``'1'`` differ)."""
    return tuple((type(v).__name__, repr(v)) for v in params or ())


# --- what may be kept -----------------------------------------------------------------------

#: DuckDB functions whose answer depends on more than their arguments: the clock, the session,
#: the connection, randomness, sequences (besides every VOLATILE one, see ``_builtin``).
_UNSTABLE = frozenset(
    [
        "now",
        "current_date",
        "current_time",
        "current_timestamp",
        "current_localtime",
        "current_localtimestamp",
        "get_current_time",
        "get_current_timestamp",
        "today",
        "transaction_timestamp",
        "statement_timestamp",
        "clock_timestamp",
        "timeofday",
        "localtime",
        "localtimestamp",
        "txid_current",
        "current_setting",
        "getvariable",
        "in_search_path",
        "ago",
        "current_catalog",
        "current_database",
        "current_schema",
        "current_schemas",
        "current_query",
        "current_role",
        "current_user",
        "session_user",
        "user",
        "version",
        "user_agent",
        "platform",
        "pg_backend_pid",
        "pg_postmaster_start_time",
        "pg_conf_load_time",
        "inet_client_addr",
        "inet_client_port",
        "inet_server_addr",
        "inet_server_port",
        "query",
        "query_table",
    ]
)
#: Name prefixes of functions that read the session's catalog or files.
_UNSTABLE_PREFIXES = ("duckdb_", "pragma_", "pg_", "has_", "read_", "parquet_", "sniff_", "glob")
#: Column names that are really functions of the session (``SELECT current_user``).
_SESSION_WORDS = frozenset(
    [
        "current_user",
        "session_user",
        "user",
        "current_role",
        "current_catalog",
        "current_schema",
        "localtime",
        "localtimestamp",
    ]
)

_builtin: frozenset[str] | None = None
_builtin_lock = threading.Lock()


def builtin_functions() -> frozenset[str]:
    """DuckDB's own functions that give the same answer for the same arguments: internal, not
    VOLATILE, not in ``_UNSTABLE`` (a fresh DuckDB, so no session's macro is among them)."""
    global _builtin
    with _builtin_lock:
        if _builtin is None:
            import duckdb

            con = duckdb.connect(":memory:", config={"threads": 1})
            try:
                rows = con.execute(
                    "SELECT function_name, bool_or(stability = 'VOLATILE') FROM duckdb_functions() "
                    "WHERE internal GROUP BY function_name"
                ).fetchall()
            finally:
                con.close()
            _builtin = frozenset(
                name.lower()
                for name, volatile in rows
                if not volatile and name.lower() not in _UNSTABLE and not name.lower().startswith(_UNSTABLE_PREFIXES)
            )
        return _builtin


def reusable(tree: exp.Expr, refs: list[exp.Table]) -> bool:
    """Whether ``tree``'s answer depends only on its text, parameters, settings and the rows of
    the chaos tables ``refs`` (its references to them): a query with no clock, randomness or
    session-dependent function, and no table but chaos tables, its CTEs and table functions.

    >>> import sqlglot
    >>> from chaosql.engine import analyze
    >>> def check(sql):
    ...     tree = sqlglot.parse_one(sql, read="duckdb")
    ...     return reusable(tree, analyze.virtual_refs(tree, {"experiments": None}))
    >>> [check(q) for q in ("SELECT count(*) FROM experiments WHERE lower(name) = 'a'",
    ...     "WITH x AS (SELECT * FROM experiments) SELECT n FROM x, generate_series(1, 3) g(n)")]
    [True, True]
    >>> [check(q) for q in ("SELECT now(), name FROM experiments", "SELECT random() FROM experiments",
    ...     "SELECT current_user FROM experiments", "SELECT * FROM experiments, mine",
    ...     "SELECT my_macro(name) FROM experiments", "SELECT * FROM experiments WHERE created_at > current_date")]
    [False, False, False, False, False, False]
    """
    from sqlglot import exp

    if not isinstance(tree, exp.Query):
        return False
    chaos = {id(ref) for ref in refs}
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    builtin = builtin_functions()
    for node in tree.walk():
        if isinstance(node, exp.Table):
            if id(node) in chaos or isinstance(node.this, exp.Func):
                continue
            if node.db or node.name.lower() not in ctes:
                return False
        elif isinstance(node, exp.Anonymous):
            if str(node.name).lower() not in builtin:
                return False
        elif isinstance(node, exp.Func):
            if isinstance(node, _unstable_types()):
                return False
        elif isinstance(node, exp.Column):
            if not node.table and node.name.lower() in _SESSION_WORDS:
                return False
        elif isinstance(node, (exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Into)):
            return False
    return True


_types: tuple[type, ...] | None = None


def _unstable_types() -> tuple[type, ...]:
    """sqlglot's typed nodes for the clock, randomness and the session."""
    global _types
    if _types is None:
        from sqlglot import exp

        names = ("Rand", "Randn", "Uuid", "SessionUser", "Sysdate", "UnixSeconds", "CurrentSchemas")
        found = [getattr(exp, n) for n in names if isinstance(getattr(exp, n, None), type)]
        found += [c for n, c in vars(exp).items() if n.startswith("Current") and isinstance(c, type)]
        _types = tuple(found)
    return _types
