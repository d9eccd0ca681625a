"""What one client statement is and how to run it: chatter, catalog rewrite, write check, describe.

Everything here runs in the connection's worker thread, next to its Session.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from chaosql.engine.classify import Kind, classify
from chaosql.engine.limits import check_statement
from chaosql.errors import ChaosqlError, SqlError
from chaosql.server import chatter, parameters
from chaosql.server.errors import translate_error
from chaosql.server.rewrite import translate
from chaosql.server.shared import SHARED
from chaosql.server.types import decode_param, oid_of, overridden, param_duck_type, pg_type, type_oid

_DDL = re.compile(r"^\s*(create|drop|alter)\b", re.I)
_ROWLESS = {"nothing", "changed_rows", "statement_result"}
T = TypeVar("T")


#: Texts up to this long have what ``_kept_per_text`` works out from them kept: clients send the
#: same few again and again.
TEXT_CACHE_CHARS = 8192


def _kept_per_text(work: Callable[[str], T]) -> Callable[[str], T]:
    """``work(sql)``, kept for the last 512 texts up to ``TEXT_CACHE_CHARS`` long (its result is
    shared: never changed by a caller)."""
    kept = functools.lru_cache(maxsize=512)(work)

    def get(sql: str) -> T:
        return work(sql) if len(sql) > TEXT_CACHE_CHARS else kept(sql)

    return get


def split(sql: str) -> list[str]:
    """Statements of a simple-query string: split at ';' outside quotes, comments and $$ bodies
    (the character walk costs more than the statement's other work on the event loop: kept)."""
    return list(_split_kept(sql))


@_kept_per_text
def _split_kept(sql: str) -> tuple[str, ...]:
    return tuple(_split(sql))


@_kept_per_text
def _kind(sql: str) -> tuple[Kind, bool]:
    """``classify(sql)``'s kind, and whether chaosql answers the statement itself: asked at every
    Describe and Execute of a prepared statement, so kept per text."""
    classified = classify(sql)
    return classified.kind, classified.answered_by_chaosql


def _split(sql: str) -> list[str]:
    out, start, i, n = [], 0, 0, len(sql)
    while i < n:
        c = sql[i]
        if c in ("'", '"'):
            j = i + 1
            while j < n:
                if sql[j] == c:
                    if j + 1 < n and sql[j + 1] == c:
                        j += 2
                        continue
                    break
                j += 1
            i = j + 1
        elif sql.startswith("--", i):
            j = sql.find("\n", i)
            i = n if j < 0 else j + 1
        elif sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            i = n if j < 0 else j + 2
        elif c == "$":
            m = re.match(r"\$([A-Za-z_]\w*)?\$", sql[i:])
            if m:
                j = sql.find(m.group(0), i + len(m.group(0)))
                i = n if j < 0 else j + len(m.group(0))
            else:
                i += 1
        elif c == ";":
            out.append(sql[start:i])
            start = i = i + 1
        else:
            i += 1
    out.append(sql[start:])
    parts = [p.strip() for p in out]
    kept = [p for p in parts if chatter.strip_comments(p)]
    return kept or ([""] if parts else [])


@dataclass
class Prepared:
    """A parsed statement (named or unnamed)."""

    sql: str
    param_oids: list[int]
    answer: chatter.Answer | None = None  # when the server answers it itself
    run_sql: str = ""  # what goes to the Session (DuckDB SQL)
    tree: Any = None  # the same, parsed (rewrite.translate); None when sqlglot cannot parse it
    output_types: list[str | None] = field(default_factory=list)  # PostgreSQL types DuckDB cannot tell
    nparams: int = 0  # highest $n in the statement
    param_casts: dict[int, int] = field(default_factory=dict)  # $n -> oid of the type it is cast to
    inferred: dict[int, int] = field(default_factory=dict)  # $n -> oid PostgreSQL would infer (no cast, no client type)
    described: bool = False
    param_types: list[int] = field(default_factory=list)  # ParameterDescription
    columns: list[tuple[str, str]] | None = None  # (name, DuckDB type), None = no rows
    cursor: Any = None  # a cursors.CursorOp for DECLARE/FETCH/MOVE/CLOSE
    copy: Any = None  # a copy.CopyOut for COPY ... TO STDOUT
    define: tuple[str, list[int], str] | None = None  # PREPARE name(types) AS body
    run_named: tuple[str, str] | None = None  # EXECUTE name(arguments)
    #: a SELECT of literals only (``SELECT 1``): its answer never changes, so once run it is kept
    #: (``answered``: columns, types, the Arrow table) and given again without DuckDB
    literal: bool = False
    answered: tuple[list[str], list[str], Any] | None = None
    #: that answer's rows as sent, per (result formats, rows encoded with the first Execute)
    answered_rows: dict[tuple[tuple[int, ...], int], Any] = field(default_factory=dict)
    catalog: bool = False  # its translation reads the catalog (``pgc``: the connection's own)

    def clone(self) -> Prepared:
        """A connection's own copy of a shared statement (``server.shared``): what a connection
        changes or keeps on it is its own; the tree is shared, lent to the engine read-only."""
        return dataclasses.replace(
            self,
            param_oids=list(self.param_oids),
            output_types=list(self.output_types),
            param_casts=dict(self.param_casts),
            inferred=dict(self.inferred),
            param_types=list(self.param_types),
            columns=list(self.columns) if self.columns is not None else None,
            answered=None,
            answered_rows={},
        )


class Runner:
    """A connection's Session plus the connection's settings; not thread-safe (one worker thread)."""

    def __init__(self, session: Any, *, user: Any, database: str, settings: dict[str, str], pid: int) -> None:
        self.session = session
        self.user = user
        self.database = database
        self.settings = settings
        self.pid = pid
        self.catalog_ready = False
        self.time_zone = settings.get("TimeZone", "UTC")
        self.virtual = set(session.tables)
        self.user_oids: dict[str, int] = {}  # tables and views this session created -> their pg_class oid
        #: queries parsed, translated and described already: the same text again skips all that
        self._parsed: OrderedDict[tuple[str, tuple[int, ...]], tuple[tuple[int, ...], Prepared]] = OrderedDict()
        session.answer_context = self.answer_context
        # A network client must not reach the server's files through DuckDB (COPY TO, read_csv, ATTACH
        # of a file, INSTALL); DuckDB cannot turn this back on for the connection.
        session.setup("enable_external_access", "false", deferred=True)
        # PostgreSQL's arithmetic: int / int truncates, and any division by zero is an error (22012)
        session.setup("integer_division", "true", deferred=True)
        if not user.writes:
            session.refuse_writes(
                f"user {user.name} may not write to {{table}} over this server",
                hint="enable writes = true for the user in [server.users.NAME]",
            )

    def answer_context(self) -> tuple:
        """What besides the statement and its inputs may change its answer or how it is written
        (part of the key of a kept answer: ``engine.answers``)."""
        return ("pgwire", *map(self.settings.get, ANSWER_SETTINGS))

    # --- preparing -----------------------------------------------------------------------

    def prepare(self, sql: str, param_oids: list[int]) -> Prepared:
        cached = self.parsed(sql, param_oids)
        if cached is not None:
            return cached
        check_statement(sql, int(self.session.settings["max_statement_bytes"]))  # before any parse
        key = self.shared_key(sql, param_oids)
        prepared = None
        if key is not None and _kind(sql)[0] is Kind.READ:  # prepared once for every fresh connection
            own: list[Prepared] = []
            prepared = SHARED.get_or_make(key, lambda: self._prepare_shared(sql, param_oids, own))
            prepared = prepared or (own[0] if own else None)  # own: prepared here, not for sharing
        if prepared is None:
            prepared = self._prepare_bounded(sql, param_oids)
        if _cacheable(prepared):
            self._keep(sql, param_oids, prepared)
        return prepared

    def _prepare_bounded(self, sql: str, param_oids: list[int]) -> Prepared:
        # translating parses with sqlglot: that time counts against the statement's time limit too
        return self.session.bounded(lambda: self._prepare(sql, param_oids), sql)

    def _prepare_shared(self, sql: str, param_oids: list[int], own: list[Prepared]) -> Prepared | None:
        """Prepare and describe ``sql`` for every fresh connection; None when it may not be
        shared (it is then in ``own``, this connection's)."""
        prepared = self._prepare_bounded(sql, param_oids)
        own.append(prepared)
        if not _cacheable(prepared) or prepared.catalog or "pgc." in prepared.run_sql.lower():
            return None
        try:
            self.describe(prepared)
        except Exception:  # Bind describes it again and reports the error with its cause
            prepared.described = False
            return None
        return prepared

    def _keep(self, sql: str, param_oids: list[int], prepared: Prepared) -> None:
        self._parsed[(sql, tuple(param_oids))] = (self._tables_key(), prepared)
        if len(self._parsed) > PARSED_STATEMENTS:
            self._parsed.popitem(last=False)

    @property
    def fresh(self) -> bool:
        """Whether the session is as it was opened: no table, view, macro or DuckDB setting of
        its own, so a query is prepared here as in every other fresh session (``server.shared``)."""
        return not (self.session.changed_duckdb or self.session.views.defined or self.user_oids)

    def shared_key(self, sql: str, param_oids: list[int]) -> tuple | None:
        """What a query prepared for every fresh connection is kept under; None when this
        connection's session is not fresh."""
        if not self.fresh:
            return None
        session = self.session
        sources, settings = tuple(map(id, session.sources)), tuple(session.settings.items())
        return (sql, tuple(param_oids), self.answer_context(), self.user.name, sources, settings, self._tables_key())

    def parsed(self, sql: str, param_oids: list[int]) -> Prepared | None:
        """The query ``sql`` as prepared before on this connection, or for every fresh connection,
        if nothing it depends on has changed since (cheap: the connection asks before it hands
        the statement to a worker)."""
        entry = self._parsed.get((sql, tuple(param_oids)))
        if entry is None:
            moved = _cursor_move(sql, param_oids)
            if moved is not None:
                return moved
            key = self.shared_key(sql, param_oids)
            shared = SHARED.get(key) if key is not None else None
            if shared is not None:
                self._keep(sql, param_oids, shared)
            return shared
        if entry[0] != self._tables_key():  # a chaos table took a cluster's newer CRD: its columns changed
            self.forget_parsed()
            return None
        self._parsed.move_to_end((sql, tuple(param_oids)))
        return entry[1]

    def forget_parsed(self) -> None:
        """Prepare every query afresh: DDL or a setting may change what its names are or return."""
        self._parsed.clear()

    def _tables_key(self) -> tuple[int, ...]:
        return tuple(map(id, self.session.tables.values()))

    def _prepare(self, sql: str, param_oids: list[int]) -> Prepared:
        prepared = Prepared(sql, list(param_oids))
        from chaosql.server import cursors

        prepared.cursor = cursors.parse(sql)
        if prepared.cursor is not None:
            if prepared.cursor.kind == "declare":
                self.translate(prepared, prepared.cursor.query)
            return prepared
        m = _PREPARE.match(sql)
        if m:  # SQL-level PREPARE: the same statement objects as the extended protocol's Parse
            types = [t.strip() for t in _split_top(m.group(2) or "") if t.strip()]
            prepared.define = (_ident(m.group(1)), [type_oid(t) for t in types], m.group(3))
            return prepared
        m = _EXECUTE.match(sql)
        if m:
            prepared.run_named = (_ident(m.group(1)), m.group(2) or "")
            return prepared
        from chaosql.server import copy

        prepared.copy = copy.parse(sql)
        if prepared.copy is not None:
            self.translate(prepared, prepared.copy.query)
            return prepared
        if _kind(sql)[0] is Kind.CHATTER:  # about the connection, not the data: answered here
            prepared.answer = chatter.answer(sql, dict(self.settings))
        if prepared.answer is None:
            self.translate(prepared, sql)
        return prepared

    def translate(self, prepared: Prepared, sql: str, values: list[Any] | None = None) -> None:
        """Fill ``prepared`` with ``sql`` as DuckDB runs it (``values``: the bound parameters, when
        a parameter's DuckDB type depends on its value, as a numeric's scale does)."""
        if self.own_statement(sql):
            prepared.run_sql = sql
            return
        typed = {}
        for n, oid in effective_oids(prepared).items():
            value = values[n - 1] if values is not None and n <= len(values) else None
            duck = param_duck_type(oid, value, describing=values is None)
            if duck:
                typed[n] = duck
        translated = translate(sql, self.virtual, columns_of=self._columns_of, param_types=typed)
        if translated.catalog:
            self.ensure_catalog()
        prepared.catalog = translated.catalog
        prepared.run_sql, prepared.tree = translated.sql, translated.tree
        prepared.output_types, prepared.nparams = translated.types, translated.params
        prepared.param_casts = translated.param_casts
        prepared.literal = _literal_select(prepared.tree)

    def arguments(self, target: Prepared, text: str) -> list[Any]:
        """EXECUTE's argument expressions, evaluated (as the statement's parameter types)."""
        if not text.strip():
            return []
        import sqlglot
        from sqlglot import exp

        from chaosql.engine.dialect import Postgres

        tree = sqlglot.parse_one(f"SELECT {text}", read=Postgres)
        for i, node in enumerate(tree.expressions):
            oid = target.param_oids[i] if i < len(target.param_oids) else 0
            duck = param_duck_type(oid)
            if duck:
                node.replace(exp.cast(node.copy(), exp.DataType.build(duck)))
        rows = self.session.execute(tree).rows()
        return list(rows[0]) if rows else []

    def set_time_zone(self, name: str) -> None:
        """The session's time zone: DuckDB computes and prints timestamptz in it (date_trunc,
        ::date, extract), as PostgreSQL does. An unknown zone changes nothing (22023)."""
        try:
            self.session.setup("TimeZone", chatter.quote(chatter.duckdb_zone(name)))
        except Exception as err:
            self.settings["TimeZone"] = self.settings["timezone"] = self.time_zone
            raise _bad_zone(name) from err
        self.time_zone = self.settings["TimeZone"] = self.settings["timezone"] = name
        if self.catalog_ready:
            from chaosql.server import catalog

            catalog.refresh_settings(self.session.con, self.settings)

    def bound(self, prepared: Prepared, params: list[Any]) -> Prepared:
        """The statement for these values: a numeric parameter's scale is part of its DuckDB type
        (described again, so RowDescription says what the rows are)."""
        if not value_typed(prepared):
            return prepared
        copy = dataclasses.replace(prepared, described=False)
        self.translate(copy, _query_of(prepared), params)
        self.describe(copy)
        return copy

    def _columns_of(self, name: str) -> dict[str, str] | None:
        table = self.session.tables.get(name)
        return {c.name: c.type for c in table.columns} if table is not None else None

    def ensure_catalog(self) -> None:
        if not self.catalog_ready:
            from chaosql.server import catalog

            self.session.own_database()  # the catalog's schemas and macros are this session's alone
            self.session.ensure_catalog()
            catalog.install(
                self.session.con,
                self.session.tables,
                user=self.user.name,
                database=self.database,
                settings=self.settings,
                pid=self.pid,
            )
            self.catalog_ready = True
            self._refresh_user_relations()

    def describe(self, prepared: Prepared) -> None:
        """Parameter types and result columns, without running the statement."""
        if prepared.described:
            return
        prepared.described = True
        if prepared.answer is not None:
            prepared.param_types = []
            prepared.columns = [(c, "VARCHAR") for c in prepared.answer.columns] if prepared.answer.columns else None
            return
        if self.own_statement(prepared.run_sql) and not prepared.param_oids:
            # SHOW TABLES, DESCRIBE t, EXPLAIN: chaosql answers them itself, so only running tells the shape
            result = self.session.execute(prepared.run_sql)
            prepared.param_types = []
            prepared.columns = list(zip(result.columns, result.types)) if result.has_rows else None
            return
        # binding needs the chaos tables it names in DuckDB's catalog: the typed ones (many, wide)
        # only when it names one or reads the catalog
        self.session.ensure_catalog(generated=_names_generated(prepared.tree, self.session.tables))
        if "pgc." in prepared.run_sql.lower():
            self.ensure_catalog()
        names, types, params, rowless = self._bind(prepared.run_sql)
        known = {n: oid for n, oid in effective_oids(prepared).items() if oid}
        unknown = parameters.unknown_after(params, known)
        if unknown and prepared.tree is not None:
            inferred = self._infer(prepared.tree, unknown)
            if inferred:  # cast to what the client is told, then bind what DuckDB will run
                prepared.inferred.update(inferred)
                self.translate(prepared, _query_of(prepared))
                names, types, params, rowless = self._bind(prepared.run_sql)
                known = {n: oid for n, oid in effective_oids(prepared).items() if oid}
        oids = [oid_of(t) if t.upper() not in ("UNKNOWN", "NULL") else 25 for t in params]
        oids += [25] * (max(prepared.nparams, len(prepared.param_oids)) - len(oids))  # untyped, unused: text
        for n, oid in known.items():
            if n <= len(oids):
                oids[n - 1] = oid
        prepared.param_types = oids
        prepared.columns = None if rowless else result_columns(names, types, prepared.output_types)
        if prepared.copy is not None:
            prepared.columns = None  # COPY sends its rows as CopyData, not DataRows

    def _bind(self, sql: str) -> tuple[list[str], list[str], list[str], bool]:
        try:
            return _bind(self.session.con, sql)
        except Exception as err:  # chaosql's own statements (SHOW TABLES, EXPLAIN ...) or a real error
            raise translate_error(err, self.session) from err

    def _infer(self, tree: Any, unknown: set[int]) -> dict[int, int]:
        """Types PostgreSQL would give the ``unknown`` parameters from their operators (see parameters)."""
        probe = parameters.probe(tree, unknown)
        if probe is None:
            return {}
        try:
            _, _, params, _ = _bind(self.session.con, probe.sql(dialect="duckdb"))
        except Exception:
            return {}
        found = {n: params[n - 1] for n in unknown if n <= len(params)}
        return {n: oid_of(t) for n, t in found.items() if t.upper() not in ("UNKNOWN", "NULL")}

    def own_statement(self, sql: str) -> bool:
        """chaosql's statements whose shape only running them tells (SHOW TABLES, DESCRIBE, EXPLAIN)."""
        return _kind(sql)[1]

    # --- running -------------------------------------------------------------------------

    def params(self, prepared: Prepared, raw: list[bytes | None], formats: list[int]) -> list[Any]:
        """The Bind values, decoded as the types the client gave or was told (text when neither)."""
        given, described = prepared.param_oids, prepared.param_types
        out = []
        for i, data in enumerate(raw):
            oid = given[i] if i < len(given) and given[i] else (described[i] if i < len(described) else 25)
            fmt = formats[0] if len(formats) == 1 else (formats[i] if i < len(formats) else 0)
            try:
                out.append(decode_param(data, oid, fmt == 1))
            except Exception as err:
                raise SqlError(f"invalid value for parameter ${i + 1}: {err}", sqlstate="22P02") from err
        return out

    def run(self, prepared: Prepared, params: list[Any], *, limit_from: float | None = None) -> Any:
        """Run on the Session: a streamed Result. Writes this user may not do are refused by the
        session (``refuse_writes``), which classifies the statement. ``limit_from``: when the
        statement's time limit began (a simple query's arrival; see ``Session.execute``)."""
        statement: Any = prepared.run_sql
        if prepared.tree is not None:  # a long statement's analysis is stoppable, as its parse was
            statement = prepared.tree  # lent: the session copies it before it changes anything
            statement.meta["sql_length"] = len(prepared.sql)
            statement.meta["duckdb_sql"] = prepared.run_sql  # its text, for a statement reading no chaos table
            statement.meta["borrowed"] = True
        try:
            result = self.session.execute(statement, params or None, stream=True, limit_from=limit_from)
        except ChaosqlError as err:
            if err.__cause__ is not None and type(err.__cause__).__name__ == "PermissionException":
                raise translate_error(err.__cause__, self.session) from err
            raise
        if _DDL.match(prepared.run_sql) or not _cacheable(prepared):
            self.forget_parsed()
            if self.catalog_ready and _DDL.match(prepared.run_sql):
                self._refresh_user_relations()
        return result

    def _refresh_user_relations(self) -> None:
        from chaosql.server import catalog

        catalog.refresh_user_relations(self.session.con, self.session.tables, self.user_oids, self.database)


#: Queries a connection keeps prepared (the least recently used go first).
PARSED_STATEMENTS = 256
#: The connection's settings that may change an answer or its text (both spellings a client may
#: have set), part of the key of a kept answer.
ANSWER_SETTINGS = tuple(
    f(name)
    for name in (
        "TimeZone",
        "DateStyle",
        "IntervalStyle",
        "extra_float_digits",
        "search_path",
        "bytea_output",
        "client_encoding",
        "standard_conforming_strings",
        "lc_monetary",
        "lc_numeric",
        "lc_time",
        "database",
    )
    for f in (str, str.lower)
)


def _cacheable(prepared: Prepared) -> bool:
    """A plain query (SELECT, VALUES, WITH ... SELECT): preparing it again would give the same
    statement until DDL or a setting changes; anything else is prepared every time."""
    from sqlglot import exp

    plain = prepared.answer is None and prepared.cursor is None and prepared.copy is None
    plain = plain and prepared.define is None and prepared.run_named is None
    return plain and isinstance(prepared.tree, exp.Query) and _kind(prepared.sql)[0] is Kind.READ


def _literal_select(tree: Any) -> bool:
    """Whether ``tree`` is a SELECT of literals only (numbers, strings, booleans, NULL, with a
    sign or a name), with no FROM, WHERE or anything else: ``SELECT 1``, ``SELECT 'a' AS x``.

    >>> from chaosql.server.rewrite import translate
    >>> [_literal_select(translate(q, set()).tree) for q in ("SELECT 1", "SELECT -1 AS n, 'a', NULL, true")]
    [True, True]
    >>> [_literal_select(translate(q, set()).tree) for q in ("SELECT now()", "SELECT 1 WHERE false", "SELECT $1")]
    [False, False, False]
    """
    from sqlglot import exp

    if type(tree) is not exp.Select or any(v for k, v in tree.args.items() if k != "expressions"):
        return False
    for node in tree.expressions:
        node = node.this if isinstance(node, exp.Alias) else node
        node = node.this if isinstance(node, exp.Neg) else node
        if not isinstance(node, (exp.Literal, exp.Boolean, exp.Null)):
            return False
    return bool(tree.expressions)


def _names_generated(tree: Any, tables: dict[str, Any]) -> bool:
    """Whether a statement names a generated (typed) chaos table or reads the catalog; True when
    it could not be parsed."""
    from sqlglot import exp

    from chaosql.engine.own import reads_catalog
    from chaosql.tables._table import LazyTable

    if tree is None or reads_catalog(tree):
        return True
    return any(isinstance(tables.get(ref.name.lower()), LazyTable) for ref in tree.find_all(exp.Table))


def check_time_zone(name: str, settings: dict[str, str], previous: str) -> None:
    """Refuse a time zone DuckDB does not know (22023), for a connection that has no session yet
    (its session takes the zone when it opens); ``settings`` go back to ``previous`` then."""
    global _zones
    import duckdb

    with _zones_lock:
        if _zones is None:
            _zones = duckdb.connect(":memory:", config={"threads": 1, "async_threads": 0})
        try:
            _zones.execute(f"SET TimeZone = {chatter.quote(chatter.duckdb_zone(name))}")
        except Exception as err:
            settings["TimeZone"] = settings["timezone"] = previous
            raise _bad_zone(name) from err


def _bad_zone(name: str) -> SqlError:
    return SqlError(f'invalid value for parameter "TimeZone": "{name}"', sqlstate="22023")


_zones: Any = None  # a DuckDB connection that only checks time zone names
_zones_lock = threading.Lock()

_PREPARE = re.compile(r"^\s*prepare\s+(\"[^\"]+\"|[\w$]+)\s*(?:\((.*?)\))?\s+as\s+(.*?)\s*;?\s*$", re.I | re.S)
_EXECUTE = re.compile(r"^\s*execute\s+(\"[^\"]+\"|[\w$]+)\s*(?:\((.*)\))?\s*;?\s*$", re.I | re.S)


def _ident(token: str) -> str:
    return token[1:-1] if token.startswith('"') else token.lower()


def _split_top(text: str) -> list[str]:
    """Split at commas outside parentheses and quotes."""
    out, depth, current, quote = [], 0, "", False
    for c in text:
        if c == "'":
            quote = not quote
        elif not quote and c == "(":
            depth += 1
        elif not quote and c == ")":
            depth -= 1
        elif not quote and depth == 0 and c == ",":
            out.append(current)
            current = ""
            continue
        current += c
    return out + [current]


def _cursor_move(sql: str, param_oids: list[int]) -> Prepared | None:
    """FETCH, MOVE or CLOSE of a cursor, prepared without a worker call: a call would read the
    open cursor's rest into memory first (see Streaming._live), and FETCH needs no DuckDB."""
    from chaosql.server import cursors

    op = cursors.parse(sql) if sql.lstrip()[:5].lower() in ("fetch", "move ", "close") else None
    if op is None or op.kind == "declare":
        return None
    return Prepared(sql, list(param_oids), cursor=op)


def effective_oids(prepared: Prepared) -> dict[int, int]:
    """$n -> the oid a parameter has: the client's, else its cast's, else what PostgreSQL infers."""
    out = {**prepared.inferred, **prepared.param_casts}
    out.update({i + 1: oid for i, oid in enumerate(prepared.param_oids) if oid})
    return out


def value_typed(prepared: Prepared) -> bool:
    """Whether a parameter's DuckDB type depends on its value (a numeric's scale): see Runner.bound."""
    return prepared.tree is not None and 1700 in effective_oids(prepared).values()


def _query_of(prepared: Prepared) -> str:
    """The query a statement runs: a cursor's or a COPY's, else the statement itself."""
    if prepared.cursor is not None:
        return prepared.cursor.query
    if prepared.copy is not None:
        return prepared.copy.query
    return prepared.sql


def _bind(con: Any, sql: str) -> tuple[list[str], list[str], list[str], bool]:
    """(result names, result types, parameter types, returns no rows) without running ``sql``."""
    seam: Any
    try:
        from duckdb import _seam as seam  # DuckDB 2.x: binds without running, and types the parameters
    except ImportError:
        seam = None
    if seam is not None:
        sig = seam.bind(con, sql)
        params = [str(t) for _, t in sig.parameters]
        if sig.names == ["unknown"] and params:  # the shape depends on an untyped parameter: bind with NULLs
            sig = seam.bind(con, sql, values=[None] * len(params))
        return list(sig.names), [str(t) for t in sig.types], params, sig.return_type in _ROWLESS
    # Older DuckDB: a relation binds a query without running it; anything else is described as rowless
    count = len(set(re.findall(r"\$(\d+)", sql)))
    if not re.match(r"^\s*(\(\s*)*(select|with|values|table|from)\b", chatter.strip_comments(sql), re.I):
        return [], [], ["UNKNOWN"] * count, True
    relation = con.sql(sql, params=[None] * count) if count else con.sql(sql)
    return list(relation.columns), [str(t) for t in relation.types], ["UNKNOWN"] * count, False


def result_columns(names: list[str], types: list[str], overrides: list[str | None]) -> list[tuple[str, str]]:
    """(name, type) per column; a PostgreSQL type the statement spelled wins over DuckDB's."""
    return [
        (name, overridden(t, overrides[i] if i < len(overrides) else None))
        for i, (name, t) in enumerate(zip(names, types))
    ]


def batches_of(result: Any) -> Iterator[Any]:
    return iter(result.batches())


def pg_names(columns: list[tuple[str, str]]) -> list[str]:
    return [pg_type(t) for _, t in columns]
