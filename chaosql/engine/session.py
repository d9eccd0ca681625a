"""Session: SQL text in, Arrow results out. Every front end (CLI, REPL, server, reports) uses it.

Steps for one statement:

1. parse with sqlglot (DuckDB dialect, then Postgres), freeze ``now()`` for the statement;
2. answer chaosql's own statements (``SET chaosql.*``, ``SHOW TABLES``, ``DESCRIBE t``, EXPLAIN);
3. find the virtual tables it reads and what each reference implies (``analyze``, ``pushdown``);
4. fetch each table once, concurrently, as Arrow (``fetch``);
5. register the Arrow tables in DuckDB, rewrite the references to them, run the statement there.
"""

from __future__ import annotations

import re
import time
import weakref
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from chaosql._gc import paused
from chaosql.engine import analyze
from chaosql.engine import own as statements
from chaosql.engine.dialect import as_duckdb
from chaosql.engine.errors import RELATION_PREFIX, translate
from chaosql.engine.fetch import Fetcher, fetch_table
from chaosql.engine.limits import bounded, check_statement
from chaosql.engine.pushdown import Constraints, union
from chaosql.engine.result import Result
from chaosql.engine.settings import SETTINGS, coerce
from chaosql.engine.views import Views
from chaosql.engine.watchdog import WATCHDOG
from chaosql.errors import ChaosqlError, QueryCancelled, SqlError, UnsupportedError

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa
    from sqlglot import exp

    from chaosql.sources.base import Source
    from chaosql.tables._table import Table

__all__ = ["SETTINGS", "Result", "Session"]

_EXPLAIN = re.compile(r"^\s*explain\s+(analyze\s+)?", re.IGNORECASE)


class Session:
    """A DuckDB connection over the virtual tables of ``sources``; not for concurrent use."""

    def __init__(
        self, sources: Sequence[Source], *, settings: dict[str, Any] | None = None, owns_sources: bool = False
    ) -> None:
        """``owns_sources``: close the sources' connections with the session (the CLI's case; the
        server shares sources between sessions and closes them itself)."""
        import duckdb

        from chaosql.sources import check_distinct
        from chaosql.tables import registry

        check_distinct(list(sources))
        self.sources = list(sources)
        self._owns_sources = owns_sources
        self.tables: dict[str, Table] = registry()
        self.settings = {name: default for name, (default, _) in SETTINGS.items()}
        for name, value in (settings or {}).items():
            self.set(name, value)
        self.con: duckdb.DuckDBPyConnection = duckdb.connect(":memory:")
        self.con.execute("SET TimeZone = 'UTC'")
        self._catalog_ready = False
        self._registered: list[tuple[str, str]] = []  # (kind, name) of last statement's relations
        self._fetcher = Fetcher()
        self._tables_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="chaosql-table")
        self._reading: list[str] = []  # virtual tables the running statement reads, for messages
        self.views = Views()  # CREATE VIEW over chaos tables: expanded where a statement reads them
        from chaosql.writers import Writer  # light: the planning code loads on the first write

        self.writer: Any = Writer()  # INSERT/UPDATE/DELETE on chaos tables
        self.confirm: Any = None  # callable(question) -> bool for big writes: the REPL asks, --yes agrees
        # Close even when the caller does not: DuckDB must not be torn down under live threads.
        self._finalizer = weakref.finalize(self, _shutdown, self._fetcher, self._tables_pool, self.con)
        from chaosql import plugins

        plugins.hook().prepare_session(connection=self.con)

    # --- settings ---------------------------------------------------------------------------

    def set(self, name: str, value: Any) -> None:
        key = name.removeprefix("chaosql.")
        self.settings[key] = coerce(key, value)

    # --- the public API ---------------------------------------------------------------------

    def execute(self, sql: str | exp.Expr, params: Sequence[Any] | None = None, *, stream: bool = False) -> Result:
        """Run one statement: SQL text, or a tree parsed already (the wire server's, whose own
        rewrites make DuckDB answer as PostgreSQL). Raises a ``ChaosqlError`` subclass with a
        one-line message."""
        started = time.perf_counter()
        text = sql if isinstance(sql, str) else ""  # a tree was parsed (and its text checked) already
        check_statement(text, int(self.settings["max_statement_bytes"]))  # before any work on it
        self._drop_registered()
        self._fetcher.reset()
        self._fetcher.settings = self.settings
        deadline = WATCHDOG.arm(float(self.settings["timeout"]), self.cancel)
        try:
            result = bounded(lambda: self._execute(sql, params, stream), text, cancelled=self.cancelled)
        except ChaosqlError:
            raise
        except Exception as err:
            import duckdb

            if isinstance(err, duckdb.Error):
                raise translate(err, tables=self._reading, all_tables=self.tables) from err
            raise
        finally:
            WATCHDOG.disarm(deadline)
            self._reading = []
        result.elapsed = time.perf_counter() - started
        result.calls = list(self._fetcher.log.calls)
        # the same warning from several kinds of one cluster is said once
        result.warnings = list(dict.fromkeys(self.source_warnings() + self._fetcher.warnings + result.warnings))
        return result

    def execute_script(self, sql: str) -> Iterator[Result]:
        """Run each statement of a script in order; stops at the first error."""
        for statement in self.split(sql):
            yield self.execute(statement)

    def split(self, sql: str) -> list[str]:
        """Statements of a script, split by DuckDB's own parser (so ';' in strings is safe); what
        DuckDB cannot parse (chaosql's own ``SET chaosql.x``) is split on sqlglot's tokens."""
        import duckdb

        try:
            return [s.query.strip() for s in self.con.extract_statements(sql) if s.query.strip()]
        except duckdb.Error as err:
            parse_error = err
        try:
            from sqlglot.tokens import Tokenizer, TokenType

            cuts = [t.start for t in Tokenizer().tokenize(sql) if t.token_type == TokenType.SEMICOLON]
        except Exception:
            raise translate(parse_error, all_tables=self.tables) from parse_error
        pieces, start = [], 0
        for cut in cuts + [len(sql)]:
            if sql[start:cut].strip():
                pieces.append(sql[start:cut].strip())
            start = cut + 1
        return pieces

    def cancel(self) -> None:
        """Interrupt the running statement (fetch or query), from any thread."""
        self._fetcher.cancelled.set()
        self._fetcher.log.cancel()  # the sources stop between pages and retries (the log is per statement)
        try:
            self.con.interrupt()
        except Exception:
            pass

    def close(self) -> None:
        self._finalizer()
        if self._owns_sources:
            for source in self.sources:
                source.close()

    def source_warnings(self) -> list[str]:
        out: list[str] = []
        for source in self.sources:
            out.extend(source.warnings)
            source.warnings = []
        return out

    # --- one statement ----------------------------------------------------------------------

    def _execute(self, statement: str | exp.Expr, params: Sequence[Any] | None, stream: bool) -> Result:
        if isinstance(statement, str):
            sql = statement
            explain = _EXPLAIN.match(sql)
            body = sql[explain.end() :] if explain else sql
            tree, text = self._parse(body)
        else:
            explain, tree = None, statement
            sql = text = tree.sql(dialect="duckdb")
        if tree is None:  # DuckDB-only syntax that reads no virtual table
            return self._run(text, params, stream)
        from sqlglot import exp

        own = statements.answer(self, tree)
        if own is not None:
            return own
        if self.views.record(tree, self.tables):  # a view over chaos tables: DuckDB's reads their stand-ins
            self.ensure_catalog()
            return self._run(tree.sql(dialect="duckdb"), params, stream)
        tree = self.views.expand(tree)
        if isinstance(tree, (exp.Insert, exp.Update, exp.Delete)) and self._writes_virtual(tree):
            if self.writer is None:
                raise UnsupportedError(
                    "writes to chaos tables are not available in this build", hint="query the tables with SELECT"
                )
            # params only when given: a Writer without the keyword still serves unparameterised writes
            extra = {"params": params} if params is not None else {}
            return self.writer.execute(
                self, tree, explain=bool(explain), analyze=bool(explain and explain.group(1)), **extra
            )
        refs = analyze.virtual_refs(tree, self.tables)
        self._reading = sorted({ref.name.lower() for ref in refs})
        if not refs:
            self.ensure_catalog()
            return self._run(sql, params, stream)
        _freeze_now(tree)
        per_table = self._constraints(refs)
        if explain and not explain.group(1):
            return statements.explain(per_table)
        with paused():
            fetched = self._fetch(per_table)
        names = {name: self.register_rows(name, data) for name, data in fetched.items()}
        analyze.rewrite(tree, refs, lambda name: names[name])
        final = tree.sql(dialect="duckdb")
        if explain:  # EXPLAIN ANALYZE: run it, then report what was fetched and the calls made
            self._run(final, params, stream=False).arrow()
            return statements.explain(per_table, list(self._fetcher.log.calls))
        result = self._run(final, params, stream)
        result.pushdown = {name: c.describe() for name, c in per_table.items()}
        return result

    def _parse(self, sql: str) -> tuple[exp.Expr | None, str]:
        import sqlglot
        from sqlglot.errors import ParseError, TokenError

        from chaosql.engine.dialect import DuckDB, Postgres

        last: Exception | None = None
        for dialect in (DuckDB, Postgres):
            try:
                trees = [t for t in sqlglot.parse(sql, read=dialect) if t is not None]
            except (ParseError, TokenError) as err:
                last = err
                continue
            if len(trees) != 1:
                raise SqlError(
                    f"expected one statement, found {len(trees)}", hint="run a script with -f FILE or \\i FILE"
                )
            tree = as_duckdb(trees[0])
            if dialect is Postgres:
                return tree, tree.sql(dialect="duckdb")
            return tree, sql
        # sqlglot could not parse it: let DuckDB say what is wrong, or run it if it is DuckDB-only
        import duckdb

        try:
            self.con.extract_statements(sql)
        except duckdb.Error as err:
            raise translate(err, all_tables=self.tables) from err
        words = {w.lower() for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", sql)}
        if words & set(self.tables):
            raise UnsupportedError(
                f"chaosql cannot analyse this statement: {str(last).splitlines()[0]}",
                hint="rewrite it in DuckDB or Postgres syntax",
            )
        return None, sql

    def _run(self, sql: str, params: Sequence[Any] | None, stream: bool) -> Result:
        command = _command_of(sql)
        if command in _NO_ROWS and not (command in _DML and _returning(sql)):
            cursor = self.con.execute(sql, list(params)) if params else self.con.execute(sql)
            if command == "CREATE" and _CREATED_AS.match(sql):  # PostgreSQL reports the rows as SELECT n
                return Result(status=f"SELECT {(cursor.fetchall() or [(0,)])[0][0]}")
            count = ((cursor.fetchall() or [(0,)])[0][0]) if command in _DML else None
            return Result(status=_status(command, count, sql))
        # A relation streams to Arrow without the extra copy a DB-API cursor makes.
        relation = self.con.sql(sql, params=list(params)) if params else self.con.sql(sql)
        if relation is None:
            return Result(status=_status(command, None))
        if "count_star()" in relation.columns and len(set(relation.columns)) == len(relation.columns):
            # count(*) is called count everywhere (PostgreSQL's name), not DuckDB's count_star()
            relation = relation.project(
                ", ".join(f"{_quoted(c)} AS {_quoted('count' if c == 'count_star()' else c)}" for c in relation.columns)
            )
        result = Result(columns=list(relation.columns), types=[str(t) for t in relation.types])
        if stream:
            result._reader = relation.to_arrow_reader(10_000)
        else:
            result._table = relation.to_arrow_table()
            result.status = f"SELECT {result._table.num_rows}"
        return result

    def ensure_catalog(self) -> None:
        """Create the empty catalog tables (once) so information_schema sees the virtual tables."""
        if not self._catalog_ready:
            statements.create_catalog(self.con, self.tables)
            self._catalog_ready = True

    _ensure_catalog = ensure_catalog  # older name, kept for callers outside the engine

    def cancelled(self) -> bool:
        """Whether the running statement was cancelled (writers check it between API calls)."""
        return self._fetcher.cancelled.is_set()

    def _writes_virtual(self, tree: exp.Expr) -> bool:
        from sqlglot import exp

        target = tree.this
        if isinstance(target, exp.Schema):
            target = target.this
        return isinstance(target, exp.Table) and target.name.lower() in self.tables and not target.db

    # --- pushdown, fetch, register ----------------------------------------------------------

    def _constraints(self, refs: list[exp.Table]) -> dict[str, Constraints]:
        grouped: dict[str, list[Constraints]] = {}
        for ref in refs:
            name = ref.name.lower()
            table = self.tables[name]
            if self.settings["pushdown"]:
                ranges = {c.name: c.type for c in table.columns if c.key == "range"}
                found = analyze.reference_constraints(
                    ref,
                    lambda n: self.tables[n].column_names if n in self.tables else None,
                    range_columns=ranges,
                    evaluate=self._evaluate,
                )
            else:
                found = Constraints()
            grouped.setdefault(name, []).append(_pushable(found, table))
        merged = {name: union(found) for name, found in grouped.items()}
        if self.settings["pushdown"]:
            tree = refs[0].root()
            for name, constraints in merged.items():
                mine = [r for r in refs if r.name.lower() == name]
                constraints.columns = analyze.needed_columns(tree, self.tables[name].column_names, mine)
        return merged

    def _evaluate(self, node: exp.Expr) -> Any:
        # fetchall: DuckDB 2 keeps a result fetched with fetchone() open and refuses the next register()
        return self.con.execute("SELECT " + node.sql(dialect="duckdb")).fetchall()[0][0]

    def _fetch(self, per_table: dict[str, Constraints]) -> dict[str, pa.Table]:
        policy = self.settings["on_source_error"]
        futures = {
            name: self._tables_pool.submit(
                fetch_table, self.tables[name], self.sources, c, self._fetcher, on_source_error=policy
            )
            for name, c in per_table.items()
        }
        out = {}
        for name, future in futures.items():
            while True:
                try:
                    out[name] = future.result(timeout=0.1)
                    break
                except TimeoutError:
                    if self._fetcher.cancelled.is_set():
                        raise QueryCancelled("query cancelled while fetching " + name) from None
        return out

    def register_rows(self, name: str, data: pa.Table) -> str:
        """Register fetched rows of table ``name`` for this statement; returns the relation to read."""
        arrow_name, view_name = f"{RELATION_PREFIX}arrow_{name}", f"{RELATION_PREFIX}{name}"
        self.con.register(arrow_name, data)
        casts = [f'CAST("{c.name}" AS JSON) AS "{c.name}"' for c in self.tables[name].columns if c.type == "JSON"]
        replace = f" REPLACE ({', '.join(casts)})" if casts else ""
        self.con.execute(f'CREATE OR REPLACE TEMP VIEW "{view_name}" AS SELECT *{replace} FROM "{arrow_name}"')
        self._registered += [("view", view_name), ("arrow", arrow_name)]
        return view_name

    def _drop_registered(self) -> None:
        for kind, name in self._registered:
            try:
                if kind == "view":
                    self.con.execute(f'DROP VIEW IF EXISTS "{name}"')
                else:
                    self.con.unregister(name)
            except Exception:
                pass
        self._registered = []


# --- helpers ------------------------------------------------------------------------------------


def _shutdown(fetcher: Fetcher, pool: ThreadPoolExecutor, con: Any) -> None:
    fetcher.close()
    pool.shutdown(wait=False, cancel_futures=True)
    con.close()


def _freeze_now(tree: exp.Expr) -> None:
    """Fix now()/current_timestamp/current_date for the statement, so pushed-down time bounds and
    DuckDB's own evaluation agree exactly."""
    from sqlglot import exp

    now = datetime.now(UTC)
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)  # whole ms, as Prometheus can evaluate it
    for node in list(tree.find_all(exp.CurrentTimestamp, exp.CurrentDate, exp.Anonymous)):
        if isinstance(node, exp.CurrentDate):
            node.replace(exp.cast(exp.Literal.string(now.date().isoformat()), "DATE"))
        elif isinstance(node, exp.CurrentTimestamp) or node.name.lower() in ("now", "get_current_timestamp"):
            node.replace(exp.cast(exp.Literal.string(now.isoformat()), "TIMESTAMPTZ"))


_PY_TYPES = {"VARCHAR": str, "MAP(VARCHAR, VARCHAR)": str, "BIGINT": int, "INTEGER": int, "BOOLEAN": bool}


def _pushable(found: Constraints, table: Table) -> Constraints:
    """Keep what the table's key columns accept, with values of the column's own type (a
    comparison DuckDB would answer by casting, like ``namespace = 1``, stays in DuckDB). A
    parameter such as ``step = 15`` also takes a number, as text: the feed echoes it, and DuckDB
    compares that text with the number by casting it."""
    eq = {}
    for key, values in found.eq.items():
        col = table.column(key[0] if isinstance(key, tuple) else key)
        if col is None or not col.key or col.key == "range" or (isinstance(key, tuple) and col.key != "labels"):
            continue
        wanted = _PY_TYPES.get(col.type)
        if col.key == "param" and wanted is str and all(type(v) in (str, int, float) for v in values):
            eq[key] = frozenset(str(v) for v in values)
        elif wanted and all(type(v) is wanted for v in values):
            eq[key] = values
    ranges = {c: r for c, r in found.ranges.items() if (col := table.column(c)) is not None and col.key == "range"}
    return Constraints(eq, ranges, unbounded=found.unbounded)


_DML = {"INSERT", "UPDATE", "DELETE"}
_NO_ROWS = _DML | {
    "CREATE",
    "DROP",
    "ALTER",
    "SET",
    "RESET",
    "BEGIN",
    "START",
    "COMMIT",
    "END",
    "ROLLBACK",
    "ABORT",
    "ATTACH",
    "DETACH",
    "USE",
    "LOAD",
    "INSTALL",
    "CHECKPOINT",
    "COPY",
    "EXPORT",
    "IMPORT",
    "VACUUM",
    "PREPARE",
    "DEALLOCATE",
    "COMMENT",
    "TRUNCATE",
    "SAVEPOINT",
    "RELEASE",
}


def _quoted(name: str) -> str:
    """A column name as a DuckDB identifier (a name such as ``min(a."x")`` holds quotes)."""
    return '"' + name.replace('"', '""') + '"'


def _command_of(sql: str) -> str:
    """The statement's first keyword, past comments and parentheses."""
    stripped = re.sub(r"^(\s|--[^\n]*\n|/\*.*?\*/|\()+", "", sql, flags=re.S)
    word = re.match(r"[A-Za-z]+", stripped)
    return word.group(0).upper() if word else ""


def _returning(sql: str) -> bool:
    return re.search(r"\breturning\b", sql, re.IGNORECASE) is not None


#: CREATE/DROP/ALTER and what they act on: PostgreSQL's command tag names both (CREATE VIEW).
_OBJECT = re.compile(
    r"^\s*(?:create|drop|alter)\s+(?:or\s+replace\s+)?(?:temp\s+|temporary\s+)?(?:unique\s+)?"
    r"(table|view|schema|index|sequence|macro|function|type)\b",
    re.I,
)
_CREATED_AS = re.compile(r"^\s*create\s+(?:or\s+replace\s+)?(?:temp\s+|temporary\s+)?table\s+[^(]*?\bas\b", re.I | re.S)


def _status(command: str, count: int | None, sql: str = "") -> str:
    if command == "INSERT":
        return f"INSERT 0 {count or 0}"
    if command in _DML:
        return f"{command} {count or 0}"
    target = _OBJECT.match(sql) if command in ("CREATE", "DROP", "ALTER") else None
    if target:
        return f"{command} {target.group(1).upper()}"
    return command or "OK"
