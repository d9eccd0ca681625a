"""Session: SQL text in, Arrow results out. Every front end (CLI, REPL, server, reports) uses it.

Steps for one statement:

1. classify it once (``classify``: read, write, chaosql's own, chatter) and give it one
   ``Statement`` (``statement``): its call log, cancel flag, deadline, warnings, relations;
2. parse with sqlglot (DuckDB dialect, then Postgres), freeze ``now()`` for the statement;
3. answer chaosql's own statements (``SET chaosql.*``, ``SHOW TABLES``, ``DESCRIBE t``, EXPLAIN);
   hand writes to ``writers/``, whose reads join the same statement (``Session.read``);
4. find the virtual tables it reads and what each reference implies (``analyze``, ``pushdown``);
5. fetch each table once, concurrently, as Arrow (``fetch``);
6. register the Arrow tables in DuckDB, rewrite the references to them, run the statement there.
"""

from __future__ import annotations

import math
import re
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from chaosql._gc import paused
from chaosql.engine import analyze, answers, fetch, pools
from chaosql.engine import own as statements
from chaosql.engine.answers import ANSWERS, Plan
from chaosql.engine.classify import Classified, Kind, classify
from chaosql.engine.errors import RELATION_PREFIX, translate
from chaosql.engine.fetch import fetch_table
from chaosql.engine.limits import bounded, check_statement, nested_too_deep
from chaosql.engine.memo import ByIdentity, on_lent_tree
from chaosql.engine.pushdown import Constraints, union
from chaosql.engine.result import Result
from chaosql.engine.settings import SETTINGS, coerce
from chaosql.engine.statement import Statement
from chaosql.engine.views import Views
from chaosql.engine.watchdog import WATCHDOG
from chaosql.errors import ChaosqlError, QueryCancelled, UnsupportedError, WriteRefused
from chaosql.sources.base import CANCELLED

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa
    from sqlglot import exp

    from chaosql.sources.base import Source
    from chaosql.tables._table import Table

__all__ = ["SETTINGS", "Result", "Session"]

T = TypeVar("T")
#: How often a cancelled statement's DuckDB query is interrupted again until it stops (seconds).
REINTERRUPT = 0.05
#: Arrow tables of chaos rows that stay registered in DuckDB after a statement that does not read
#: them (reused when a later statement reads the very same rows: a snapshot's, the watch cache's)
KEPT_REGISTRATIONS = 4


class Session:
    """A DuckDB connection over the virtual tables of ``sources``; not for concurrent use."""

    def __init__(
        self,
        sources: Sequence[Source],
        *,
        settings: dict[str, Any] | None = None,
        owns_sources: bool = False,
        duckdb_config: dict[str, Any] | None = None,
        shared_database: bool = False,
    ) -> None:
        """``owns_sources``: close the sources' connections with the session (the CLI's case; the
        server shares sources between sessions and closes them itself). ``duckdb_config``: options
        of the session's DuckDB database (the server gives each session one thread and no
        threads of its own: ``{"threads": 1, "async_threads": 0}``). ``shared_database``: run in
        a cursor on the process's database for that config until the session changes anything in
        it (``engine.database``: the wire server's sessions, opened in microseconds)."""
        from chaosql.engine import database
        from chaosql.sources import check_distinct
        from chaosql.tables import registry

        check_distinct(list(sources))
        self.sources = list(sources)
        self._owns_sources = owns_sources
        self.tables: dict[str, Table] = dict(registry())  # own copy: typed tables are refined per session
        self.settings = {name: default for name, (default, _) in SETTINGS.items()}
        for name, value in (settings or {}).items():
            self.set(name, value)
        self.initial_settings = dict(self.settings)  # what RESET chaosql.x goes back to
        self._duckdb_config = dict(duckdb_config or {})
        #: session-scoped DuckDB settings made (``setup``): a database of its own gets them again
        self._setup: dict[str, str] = {}
        #: of those, the ones not made yet: made at the session's first use of DuckDB (``con``)
        self._deferred: list[str] = []
        self._catalog_made: dict[str, Table] = {}  # tables in DuckDB's catalog (see ensure_catalog)
        self.shares_database = shared_database and database.sharable()
        if self.shares_database:
            common = database.shared(self._duckdb_config)
            self._con: duckdb.DuckDBPyConnection = common.cursor()
            self._catalog_made.update(common.stand_ins)
        else:
            self._con = _new_database(self._duckdb_config)
        self.setup("TimeZone", "'UTC'", deferred=True)
        # Relations registered in DuckDB for chaos tables' rows, kept until a statement that does
        # not read them starts: the next statement reuses an Arrow table it fetched again as the
        # same object (the watch cache's, a snapshot's kept rows).
        self._arrows: dict[str, tuple[pa.Table, pa.Table]] = {}  # name -> (the rows, as registered)
        self._commented: set[str] = set()
        #: the running statement, or the last one once it has ended (its calls, warnings, reason)
        self.statement: Statement | None = None
        self._fetch_pool = pools.calls()  # shared by every session of the process
        self._tables_pool = pools.tables()
        self.views = Views()  # CREATE VIEW over chaos tables: expanded where a statement reads them
        from chaosql.writers import Writer  # light: the planning code loads on the first write

        self.writer: Any = Writer()  # INSERT/UPDATE/DELETE on chaos tables
        self.confirm: Any = None  # callable(question) -> bool for big writes: the REPL asks, --yes agrees
        self._writes_refused: tuple[str, str] | None = None  # (message, hint) when writes are not allowed
        #: what else may change an answer, named by the front end (the wire server's TimeZone,
        #: DateStyle, ...): part of the key of a kept answer (``engine.answers``)
        self.answer_context: Callable[[], tuple] = tuple
        # set once a statement changed this session's DuckDB (CREATE, a DuckDB SET ...): its
        # answers are kept for it alone from then on
        self._private: int | None = None
        # Close even when the caller does not: DuckDB must not be torn down under live threads.
        self._finalizer = weakref.finalize(self, self._con.close)
        if not self.shares_database:
            _prepare(self._con)

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The session's DuckDB connection (a cursor on the shared database, or a database of its
        own), with every setting ``setup`` made."""
        if self._deferred:
            deferred, self._deferred = self._deferred, []
            for sql in deferred:
                self._con.execute(sql)
        return self._con

    def setup(self, name: str, value: str, *, deferred: bool = False) -> None:
        """Set the DuckDB setting ``name`` (TimeZone, integer_division ...) to ``value`` (SQL) for
        this session, and remember it: it is set again if the session moves to a database of
        its own (``own_database``). ``deferred``: a value known to be valid, set only when the
        session first uses DuckDB: a server session whose statements are all answered from kept
        answers never does, and each SET hands the interpreter lock over twice under load."""
        sql = f"SET {name} = {value}"
        self._setup[name] = sql
        if deferred:
            self._deferred.append(sql)
        else:
            self.con.execute(sql)

    def own_database(self) -> None:
        """Move to a DuckDB database of its own, if the session shares one (``engine.database``),
        before it changes anything in DuckDB: its settings and registered rows come along."""
        if not self.shares_database:
            return
        con = _new_database(self._duckdb_config)
        try:
            for sql in self._setup.values():
                con.execute(sql)
            for relation, (_, typed) in self._arrows.items():
                con.register(relation, typed)
            _prepare(con)
        except BaseException:
            con.close()
            raise
        cursor, self._con = self._con, con
        self._deferred = []  # made on the new database above
        self.shares_database = False
        self._catalog_made.clear()
        self._commented.clear()
        self._finalizer.detach()
        self._finalizer = weakref.finalize(self, con.close)
        cursor.close()

    @property
    def changed_duckdb(self) -> bool:
        """Whether a statement changed this session's DuckDB (a table, view, macro, DuckDB setting):
        its statements may then mean what they mean in no other session."""
        return self._private is not None

    # --- settings ---------------------------------------------------------------------------

    def set(self, name: str, value: Any) -> None:
        key = name.removeprefix("chaosql.")
        self.settings[key] = coerce(key, value)

    def refuse_writes(self, message: str, *, hint: str = "") -> None:
        """Refuse every write to a chaos table from now on (``{table}`` in ``message`` names it):
        the Postgres-wire server does this for users without write permission."""
        self._writes_refused = (message, hint)

    # --- the public API ---------------------------------------------------------------------

    def execute(
        self,
        sql: str | exp.Expr,
        params: Sequence[Any] | None = None,
        *,
        stream: bool = False,
        limit_from: float | None = None,
    ) -> Result:
        """Run one statement: SQL text, or a tree parsed already (the wire server's, whose own
        rewrites make DuckDB answer as PostgreSQL). Raises a ``ChaosqlError`` subclass with a
        one-line message.

        Called while a statement runs on this thread (a write's reads, a plugin's), it runs as part
        of that statement (``read``): same cancel, deadline and call log.

        ``limit_from`` (a ``time.monotonic()``) is when the statement's time limit began, when work
        on it came before (the wire server's parse of a simple query): the limit counts from then.
        """
        running = self.statement
        if running is not None and running.running and running.thread == threading.get_ident():
            return self.read(sql, params, stream=stream)
        started = time.perf_counter()
        text = sql if isinstance(sql, str) else ""  # a tree was parsed (and its text checked) already
        check_statement(text, int(self.settings["max_statement_bytes"]))  # before any work on it
        statement = Statement(sql, self._fetch_pool)
        statement.fetcher.settings = self.settings  # feeds read chaosql.cache, the timeout ...
        self.statement = statement
        timeout = float(self.settings["timeout"])
        left = timeout
        if limit_from is not None and 0 < timeout < math.inf:  # 0 and infinity: no limit at all
            left = max(timeout - (time.monotonic() - limit_from), 1e-6)
        deadline = WATCHDOG.arm(left, lambda: self._time_out(statement, timeout))

        def run() -> Result:
            statement.classified = classify(sql, self.tables)
            return self._guarded(statement, statement.classified, params, stream)

        # a tree's text was checked where it was parsed; its length still says whether it is long
        length = len(text) if text else int(getattr(sql, "meta", {}).get("sql_length") or 0)
        try:
            result = bounded(run, text, log=statement.log, length=length)
        except ChaosqlError as err:
            err.calls = list(statement.log.calls)  # type: ignore[attr-defined]  # for -v on a failure
            raise
        finally:
            WATCHDOG.disarm(deadline)
            statement.running = False
        result.elapsed = time.perf_counter() - started
        result.calls = list(statement.log.calls)
        # the same warning from several kinds of one cluster is said once
        result.warnings = list(dict.fromkeys(self.source_warnings() + statement.warnings + result.warnings))
        return result

    def read(self, sql: str | exp.Expr, params: Sequence[Any] | None = None, *, stream: bool = False) -> Result:
        """Run ``sql`` as part of the running statement (a write reads its rows this way): it shares
        the statement's cancel flag, deadline, call log and warnings, and resets none of them."""
        statement = self.statement
        if statement is None or not statement.running:
            raise RuntimeError("Session.read runs inside a statement; use Session.execute")
        statement.check()
        return self._guarded(statement, classify(sql, self.tables), params, stream)

    def bounded(self, fn: Callable[[], T], sql: str) -> T:
        """``fn()``, work on ``sql`` before it runs as a statement (the wire server's parse and
        rewrite), under the session's time limit and stoppable by ``cancel``."""
        statement = Statement(sql, self._fetch_pool)  # a stand-in: it registers nothing and makes no call
        previous, self.statement = self.statement, statement
        timeout = float(self.settings["timeout"])
        deadline = WATCHDOG.arm(timeout, lambda: self._time_out(statement, timeout))
        try:
            return bounded(fn, sql, log=statement.log)
        finally:
            WATCHDOG.disarm(deadline)
            statement.running = False
            self.statement = previous  # whose relations the next statement drops

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

    @property
    def running(self) -> Statement | None:
        """The statement running now, if any."""
        statement = self.statement
        return statement if statement is not None and statement.running else None

    def cancel(self, reason: str = CANCELLED) -> bool:
        """Interrupt the running statement (fetch, query or write), from any thread: it makes no
        further forward call, and a write rolls back what it made. False when nothing was running."""
        statement = self.running
        if statement is None or not statement.cancel(reason):
            return False
        self._interrupt_duckdb(statement)
        return True

    def _time_out(self, statement: Statement, seconds: float) -> None:
        if statement.cancel(f"statement timeout: chaosql.timeout = {seconds:g} s", timed_out=True):
            self._interrupt_duckdb(statement)

    def _interrupt_duckdb(self, statement: Statement) -> None:
        """Interrupt DuckDB, and again every ``REINTERRUPT`` seconds while the cancelled statement
        runs: DuckDB forgets an interrupt that comes before its query begins, so one that lands
        between ``_run``'s cancel check and the query's start would let the query run unbounded."""
        if not statement.running:
            return
        if statement.in_duckdb:
            try:
                self.con.interrupt()
            except Exception:
                pass
        WATCHDOG.arm(REINTERRUPT, lambda: self._interrupt_duckdb(statement))

    def cancelled(self) -> bool:
        """Whether the running statement was cancelled (writers check it between API calls)."""
        statement = self.statement
        return statement is not None and statement.cancelled

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

    def _guarded(self, statement: Statement, classified: Classified, params: Any, stream: bool) -> Result:
        """Run with DuckDB's errors translated, and a cancel reported with its reason."""
        try:
            return self._execute(statement, classified, params, stream)
        except ChaosqlError:
            raise
        except Exception as err:
            import duckdb

            if isinstance(err, duckdb.Error):
                raise translate(err, tables=statement.reading, all_tables=self.tables, log=statement.log) from err
            if "Recursion level in ArrowSchema" in str(err):  # pyarrow: more than 62 nested levels
                raise nested_too_deep() from err
            raise

    def _execute(self, statement: Statement, classified: Classified, params: Any, stream: bool) -> Result:
        explain = classified.explain
        if self._private is None and _changes_duckdb(classified):  # once: it owns its database from then on
            self.own_database()
            self._private = answers.private_token()
        if classified.kind is not Kind.READ:
            self._drop_registered(statement)
        if classified.kind is Kind.OWN and not explain:
            own = statements.answer_setting(self, classified)
            if own is not None:
                return own
        tree, text, error = classified.parse()
        if tree is None:  # DuckDB-only syntax that reads no virtual table
            self._drop_registered(statement)
            self._check_unparsed(classified.body, error)
            return self._run(text if not explain else classified.sql, params, stream, classified)
        self._refine_tables(tree, statement)
        key, plan = self._kept_plan(classified, tree)
        if key is not None and plan is not None and plan.reusable:  # analysed before: no copy, no sqlglot walk
            return self._answer(statement, classified, tree, params, stream, plan, key)
        if tree.meta.get("borrowed"):  # the caller's own tree (the wire's prepared one): read, never changed
            tree = _own_copy(tree)
            classified._parsed = (tree, text, error)
        own = statements.answer(self, tree)
        if own is not None:
            self._drop_registered(statement)
            return own
        if self.views.record(tree, self.tables):  # a view over chaos tables: DuckDB's reads their stand-ins
            self._drop_registered(statement)
            self.ensure_catalog()
            return self._run(tree.sql(dialect="duckdb"), params, stream, classified)
        tree = self.views.expand(tree)
        if classified.kind is Kind.WRITE:
            return self._write(classified, tree, params)
        refs = analyze.virtual_refs(tree, self.tables)
        statement.reading = sorted({ref.name.lower() for ref in refs})
        if refs and key is not None and plan is None:
            plan = Plan(False, tuple(self.tables[n] for n in statement.reading))
            if answers.reusable(tree, refs) and not explain:  # no clock: the analysis below stays true
                per_table, reads = self._constraints(refs)
                plan = Plan(True, plan.tables, statement.reading, per_table, reads)
            ANSWERS.keep_plan(key, plan)
            if plan.reusable:
                return self._answer(statement, classified, tree, params, stream, plan, key, refs)
        if not refs:
            self._drop_registered(statement)  # before DuckDB's catalog could show them
            introspects = statements.reads_catalog(tree)
            self.ensure_catalog(generated=introspects, comments=introspects)
            # the wire server gives its tree's DuckDB text along (``duckdb_sql``): no need to generate it
            # again, unless a view was expanded into the tree
            given = None if self.views.defined else tree.meta.get("duckdb_sql") if tree.meta else None
            return self._run(classified.sql or given or tree.sql(dialect="duckdb"), params, stream, classified)
        _freeze_now(tree)
        per_table, reads = self._constraints(refs)
        if explain == "plan":
            self._drop_registered(statement)
            return statements.explain(per_table)
        with paused():
            fetched = self._fetch(statement, per_table)
        final = _rewritten(tree, refs, self._register(statement, fetched, reads))
        if explain:  # EXPLAIN ANALYZE: run it, then report what was fetched and the calls made
            self._run(final, params, False, classified).arrow()
            return statements.explain(per_table, list(statement.log.calls))
        result = self._run(final, params, stream, classified)
        result.pushdown = {name: c.describe() for name, c in per_table.items()}
        return result

    def _plan_key(self, classified: Classified, tree: exp.Expr) -> tuple | None:
        """What a statement's analysis (and, with its parameters, its answer) is kept under: its
        text and whatever else may change it; None when nothing of it may be kept."""
        if not ANSWERS.on or classified.explain or self.views.defined:
            return None
        text = classified.body if classified.sql else (tree.meta.get("duckdb_sql") if tree.meta else None)
        if not text:
            return None
        settings = tuple(self.settings.items())
        return (text, self.answer_context(), settings, tuple(map(id, self.sources)), self._private)

    def _kept_plan(self, classified: Classified, tree: exp.Expr) -> tuple[tuple | None, Plan | None]:
        """A query's key (``_plan_key``) and the analysis kept under it, looked up once per
        statement; (None, None) when nothing of it may be kept."""
        key = self._plan_key(classified, tree) if classified.kind is Kind.READ else None
        return key, ANSWERS.plan(key, self.tables) if key is not None else None

    def _answer(
        self,
        statement: Statement,
        classified: Classified,
        tree: exp.Expr,
        params: Any,
        stream: bool,
        plan: Plan,
        key: tuple,
        refs: list[exp.Table] | None = None,
    ) -> Result:
        """Run a statement whose answer may be kept (``engine.answers``), analysed in ``plan``:
        fetch as always, then the answer kept for the same inputs, or DuckDB's (kept for next time)."""
        statement.reading = plan.reading
        with paused():
            fetched = self._fetch(statement, plan.per_table)
        pushdown = plan.pushdown()
        answer_key = (key, answers.parameters_key(params))
        kept = ANSWERS.answer(answer_key, fetched) if not statement.fetcher.live else None
        if kept is not None:
            rows = kept.table.num_rows
            return Result(
                columns=list(kept.columns),
                types=list(kept.types),
                status=f"SELECT {rows}",
                pushdown=pushdown,
                _table=kept.table,
                reused=kept.made,
                answer=kept,
            )
        relations = self._register(statement, fetched, plan.reads)
        final = plan.final.get(relations)
        if final is None:
            if tree.meta.get("borrowed"):
                tree = _own_copy(tree)
            refs = refs if refs is not None else analyze.virtual_refs(tree, self.tables)
            final = plan.final[relations] = _rewritten(tree, refs, relations)
        result = self._run(final, params, stream, classified)
        result.pushdown = pushdown
        if not statement.fetcher.live:
            ANSWERS.keep(answer_key, fetched, result)
        return result

    def _register(self, statement: Statement, fetched: dict[str, pa.Table], reads: list[str]) -> tuple[str, ...]:
        """Register the ``fetched`` rows in DuckDB; the relation each of the statement's ``reads``
        (one per reference to a chaos table) reads."""
        names = {name: self.register_rows(name, data) for name, data in fetched.items()}
        # what earlier statements registered and this one does not read, but the last few: a client
        # alternating between a few queries (a dashboard) reads the same rows again
        self._drop_registered(statement, unread=KEPT_REGISTRATIONS)
        return tuple(names[read] for read in reads)

    def _refine_tables(self, tree: exp.Expr, statement: Statement) -> None:
        """Tables whose columns depend on the sources (the typed chaos tables follow each cluster's
        own CRDs) are settled before anything reads their columns."""
        for name in on_lent_tree(tree, "unqualified", _unqualified_tables):
            table = self.tables.get(name)
            if table is not None and table.refine is not None:
                self.tables[table.name] = table.refine(self.sources, statement.log)

    def _write(self, classified: Classified, tree: exp.Expr, params: Any) -> Result:
        from sqlglot import exp

        if self._writes_refused is not None:
            message, hint = self._writes_refused
            raise WriteRefused(message.format(table=classified.target), hint=hint or None)
        if not isinstance(tree, (exp.Insert, exp.Update, exp.Delete)):
            raise UnsupportedError(
                f"{classified.target}: only INSERT, UPDATE and DELETE write to chaos tables "
                f"({classified.command} is not supported)",
                hint="write the rows with INSERT, UPDATE or DELETE (a subquery may read other tables)",
            )
        if self.writer is None:
            raise UnsupportedError(
                "writes to chaos tables are not available in this build", hint="query the tables with SELECT"
            )
        # params only when given: a Writer without the keyword still serves unparameterised writes
        extra = {"params": params} if params is not None else {}
        explain = classified.explain
        return self.writer.execute(self, tree, explain=bool(explain), analyze=explain == "analyze", **extra)

    def _check_unparsed(self, sql: str, error: Exception | None) -> None:
        """sqlglot could not parse it: let DuckDB say what is wrong, or run it if it is DuckDB-only
        and reads no chaos table."""
        import duckdb

        try:
            self.con.extract_statements(sql)
        except duckdb.Error as err:
            raise translate(err, all_tables=self.tables) from err
        words = {w.lower() for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", sql)}
        if words & set(self.tables):
            raise UnsupportedError(
                f"chaosql cannot analyse this statement: {str(error).splitlines()[0]}",
                hint="rewrite it in DuckDB or Postgres syntax",
            )

    def _run(self, sql: str, params: Sequence[Any] | None, stream: bool, classified: Classified) -> Result:
        statement = self.statement
        if statement is None:
            return self._run_in_duckdb(sql, params, stream, classified)
        statement.in_duckdb = True  # before the check: a cancel after it interrupts the query (_interrupt_duckdb)
        try:
            statement.check()
            return self._run_in_duckdb(sql, params, stream, classified)
        finally:
            statement.in_duckdb = False

    def _run_in_duckdb(self, sql: str, params: Sequence[Any] | None, stream: bool, classified: Classified) -> Result:
        command = "EXPLAIN" if classified.explain else classified.command
        if command in _NO_ROWS and not (command in _DML and classified.returning):
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

    def ensure_catalog(self, *, generated: bool = True, comments: bool = False) -> None:
        """Create the empty catalog tables (once) so information_schema sees the virtual tables.

        The generated tables (the typed chaos tables: many and wide, built on first use) are added
        when ``generated``, and the column comments, which DuckDB takes slowly one by one (more
        than a new session's every other cost), only with ``comments`` (a statement reading the
        catalog asks for both). A table the session refined since (a cluster's newer CRD) is
        created again with its columns."""
        from chaosql.tables._table import LazyTable

        wanted = [t for t in self.tables.values() if generated or not isinstance(t, LazyTable)]
        create = [t for t in wanted if self._catalog_made.get(t.name) is not t]
        for table in create:
            self._commented.discard(table.name)
        comment = [t for t in wanted if t.name not in self._commented] if comments else []
        if (create or comment) and self.shares_database:  # other sessions' database: never changed
            self.own_database()
            create, comment = wanted, wanted if comments else []
        if create or comment:
            statements.create_catalog(self.con, create, comment)
            self._catalog_made.update((t.name, t) for t in create)
            self._commented.update(t.name for t in comment)

    _ensure_catalog = ensure_catalog  # older name, kept for callers outside the engine

    # --- pushdown, fetch, register ----------------------------------------------------------

    def _constraints(self, refs: list[exp.Table]) -> tuple[dict[str, Constraints], list[str]]:
        """What to fetch (a name -> its constraints) and which of those each reference reads.

        A table is fetched once for all its references, with the union of what they imply; but a
        table whose rows are made from its filters (an ``exact`` column, e.g. ``metrics.query``)
        is fetched once per distinct set of filters (``metrics``, ``metrics#2``, ...), so one
        reference's time range or step never changes another's rows.
        """
        found: list[Constraints] = []
        for ref in refs:
            table = self.tables[ref.name.lower()]
            if self.settings["pushdown"]:
                ranges = {c.name: c.type for c in table.columns if c.key == "range"}
                implied = analyze.reference_constraints(
                    ref,
                    lambda n: self.tables[n].column_names if n in self.tables else None,
                    range_columns=ranges,
                    evaluate=self._evaluate,
                )
            else:
                implied = Constraints()
            found.append(_pushable(implied, table))
        grouped: dict[str, list[int]] = {}  # fetch name -> indexes of the references it serves
        reads: list[str] = []
        for index, ref in enumerate(refs):
            name = ref.name.lower()
            per_filters = any(c.exact for c in self.tables[name].columns)
            fetch = _fetch_name(name, found[index], {f: found[i[0]] for f, i in grouped.items()}, per_filters)
            grouped.setdefault(fetch, []).append(index)
            reads.append(fetch)
        merged = {fetch: union([found[i] for i in served]) for fetch, served in grouped.items()}
        if self.settings["pushdown"]:
            tree = refs[0].root()
            for fetch, constraints in merged.items():
                table = self.tables[fetch.split("#")[0]]
                mine = [refs[i] for i in grouped[fetch]]
                constraints.columns = analyze.needed_columns(tree, table.column_names, mine)
            if len(refs) == 1:
                roles = {c.name: c.key for c in self.tables[refs[0].name.lower()].columns}
                merged[reads[0]].limit = analyze.scan_limit(tree, refs[0], roles)
        return merged, reads

    def _evaluate(self, node: exp.Expr) -> Any:
        # fetchall: DuckDB 2 keeps a result fetched with fetchone() open and refuses the next register()
        return self.con.execute("SELECT " + node.sql(dialect="duckdb")).fetchall()[0][0]

    def _fetch(self, statement: Statement, per_table: dict[str, Constraints]) -> dict[str, pa.Table]:
        policy = self.settings["on_source_error"]
        # rows kept from an earlier statement are taken here: a hop to a fetch thread and back
        # would cost more than the lookups themselves
        out: dict[str, pa.Table] = {}
        for name, c in per_table.items():
            rows = fetch.reused(self.tables[name.split("#")[0]], self.sources, c, statement.fetcher)
            if rows is not None:
                out[name] = rows
        futures = {
            name: self._tables_pool.submit(
                fetch_table, self.tables[name.split("#")[0]], self.sources, c, statement.fetcher, on_source_error=policy
            )
            for name, c in per_table.items()
            if name not in out
        }
        for name, future in futures.items():
            while True:
                try:
                    out[name] = future.result(timeout=0.1)
                    break
                except TimeoutError:
                    if statement.cancelled:
                        raise QueryCancelled(f"{statement.reason} while fetching {name}") from None
        return {name: out[name] for name in per_table}

    def register_rows(self, name: str, data: pa.Table) -> str:
        """Register fetched rows of table ``name`` (or of one of its fetches, ``metrics#2``) for this
        statement; returns the relation to read. What an earlier statement registered is reused
        when it is the very same Arrow table (registering costs more than a small query). JSON
        columns are registered as Arrow's JSON type, which DuckDB reads as JSON: no view to cast
        them, which DuckDB would bind again for every statement."""
        base = f"{RELATION_PREFIX}{name}"
        ours = [r for r in self._arrows if r == base or r.startswith(base + "@")]
        relation = next((r for r in ours if self._arrows[r][0] is data), None)
        if relation is not None:
            self._arrows[relation] = self._arrows.pop(relation)  # the most recently read last
        else:
            relation = (
                base
                if base not in ours
                else f"{base}@{next(k for k in range(2, len(ours) + 3) if f'{base}@{k}' not in ours)}"
            )
            columns = self.tables[name.split("#")[0]].columns
            # the same rows are registered by every session that reads them: typed once
            typed = _JSON_TYPED.get((data,), lambda: _json_typed(data, {c.name for c in columns if c.type == "JSON"}))
            self.con.register(relation, typed)
            self._arrows[relation] = (data, typed)
        if self.statement is not None:
            self.statement.registered.append(("arrow", relation))
        return relation

    def _drop_registered(self, statement: Statement | None = None, *, unread: int = 0) -> None:
        """Drop the relations registered for chaos tables' rows, but those ``statement`` reads
        and the ``unread`` most recently read others."""
        keep = set(statement.registered) if statement is not None else set()
        others = [n for n in self._arrows if ("arrow", n) not in keep]  # least recently read first
        for arrow_name in others[: max(len(others) - unread, 0)]:
            del self._arrows[arrow_name]
            try:
                self.con.unregister(arrow_name)
            except Exception:
                pass


# --- helpers ------------------------------------------------------------------------------------


def _new_database(config: dict[str, Any]) -> duckdb.DuckDBPyConnection:
    import duckdb

    return duckdb.connect(":memory:", config=config)


def _prepare(con: duckdb.DuckDBPyConnection) -> None:
    """A plugin's preparation of a session's own database (``prepare_session``)."""
    from chaosql import plugins

    plugins.hook().prepare_session(connection=con)


#: Chaos rows as registered in DuckDB (``_json_typed``), for the rows' Arrow table
_JSON_TYPED: ByIdentity[pa.Table] = ByIdentity(64)


def _json_typed(data: pa.Table, json_columns: set[str]) -> pa.Table:
    """``data`` with its ``json_columns`` (text) typed as Arrow's JSON extension type, without
    copying them; ``data`` itself when it has none."""
    import pyarrow as pa

    names = [
        n
        for n in data.column_names
        if n in json_columns and not isinstance(data.schema.field(n).type, pa.ExtensionType)
    ]
    if not names:
        return data
    json = pa.json_(pa.string())
    for name in names:
        i = data.schema.get_field_index(name)
        column = data.column(i)
        chunks = [c if c.type == pa.string() else c.cast(pa.string()) for c in column.chunks]
        typed = pa.chunked_array([pa.ExtensionArray.from_storage(json, c) for c in chunks])  # of the chunks' JSON type
        data = data.set_column(i, pa.field(name, json), typed)
    return data


def _rewritten(tree: exp.Expr, refs: list[exp.Table], relations: tuple[str, ...]) -> str:
    """The DuckDB text of ``tree`` (the statement's own: changed in place) with its ``refs`` to
    chaos tables reading ``relations``, one per reference in order."""
    relation_of = {id(ref): relation for ref, relation in zip(refs, relations, strict=True)}
    analyze.rewrite(tree, refs, lambda ref: relation_of[id(ref)])
    return tree.sql(dialect="duckdb", copy=False)


def _unqualified_tables(tree: exp.Expr) -> list[str]:
    """The names (lower case) of the tables ``tree`` names without a schema."""
    from sqlglot import exp

    return [ref.name.lower() for ref in tree.find_all(exp.Table) if not ref.db]


def _own_copy(tree: exp.Expr) -> exp.Expr:
    """A copy of a borrowed tree that the statement may change."""
    copy = tree.copy()
    copy.meta.pop("borrowed", None)
    return copy


def _changes_duckdb(classified: Classified) -> bool:
    """Whether a statement may change the session's DuckDB (a table, a view, a macro, a DuckDB
    setting, a transaction), so the session's answers are its own from then on."""
    if classified.kind is Kind.CHATTER:
        return True
    if classified.kind is not Kind.READ or classified.explain:
        return False
    return not (classified.changes_nothing or classified.command in ("UNION", "INTERSECT", "EXCEPT", "SUBQUERY"))


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


def _fetch_name(name: str, constraints: Constraints, fetches: dict[str, Constraints], per_filters: bool) -> str:
    """The fetch a reference to table ``name`` reads: the table's one fetch; or, ``per_filters``,
    the fetch with the same ``constraints``, else a new one (``name#2``, ...).

    >>> fetches = {"metrics": Constraints({"query": frozenset({"up"})})}
    >>> _fetch_name("metrics", Constraints({"query": frozenset({"up"})}), fetches, True)
    'metrics'
    >>> _fetch_name("metrics", Constraints({"query": frozenset({"x"})}), fetches, True)
    'metrics#2'
    """
    if not per_filters:
        return name
    mine = [f for f in fetches if f.split("#")[0] == name]
    same = next((f for f in mine if fetches[f] == constraints), None)
    if same is not None:
        return same
    return f"{name}#{len(mine) + 1}" if mine else name


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
