"""What a statement is, decided once for every front end: a read, a write to a chaos table,
chaosql's own statement, or session chatter.

* ``Kind.READ``: a query (of chaos tables or of DuckDB itself): the engine fetches and runs it;
* ``Kind.WRITE``: INSERT/UPDATE/DELETE (or MERGE, or DML in a WITH) on a chaos table: ``writers/``;
* ``Kind.OWN``: chaosql's own statements (``SET/RESET/SHOW chaosql.*``, ``SHOW TABLES``,
  ``DESCRIBE``), answered by the session itself;
* ``Kind.CHATTER``: statements about the connection, not the data (BEGIN, COMMIT, SET/SHOW of
  other settings, DISCARD ...): the Postgres-wire server answers them, a local session hands them
  to DuckDB.

``EXPLAIN [ANALYZE]`` in front of any of them is noted in ``explain`` and keeps the kind of what it
explains (an ``EXPLAIN INSERT`` is a write: its ANALYZE makes dry-run calls).

Classification looks at the first keyword, and parses (sqlglot) only a statement that could be a
write, so a front end can ask cheaply; the session's reads use the parse tree anyway.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from chaosql.engine.memo import on_lent_tree
from chaosql.errors import SqlError

if TYPE_CHECKING:
    from sqlglot import exp


class Kind(enum.Enum):
    READ = "read"
    WRITE = "write"
    OWN = "own"
    CHATTER = "chatter"


#: First keywords of statements about the connection (transactions, prepared names, notifications).
CHATTER_WORDS = frozenset(
    {
        "begin",
        "start",
        "commit",
        "end",
        "rollback",
        "abort",
        "savepoint",
        "release",
        "discard",
        "deallocate",
        "listen",
        "unlisten",
        "notify",
    }
)

_LEADING = re.compile(r"^(\s|--[^\n]*(\n|$)|/\*.*?\*/|\()+", re.S)
_EXPLAIN = re.compile(r"explain\s+(analyze\s+)?", re.I)
_SETTING = re.compile(r"(?:set|reset|show)\s+(?:(?:session|local)\s+)?([A-Za-z_][\w.]*|\"[^\"]*\")", re.I)
_DML_WORD = re.compile(r"\b(insert|update|delete|merge)\b", re.I)
_RETURNING = re.compile(r"\breturning\b", re.I)


@dataclass
class Classified:
    """One statement, classified. ``body`` is the statement without its EXPLAIN prefix."""

    sql: str
    kind: Kind
    body: str
    explain: str | None = None  # None, "plan" (EXPLAIN) or "analyze" (EXPLAIN ANALYZE)
    command: str = ""  # the first keyword of ``body``, upper case: SELECT, INSERT, SET ...
    target: str | None = None  # the chaos table a write writes to
    setting: str | None = None  # SET/RESET/SHOW: the setting's name, lower case
    _parsed: tuple[exp.Expr | None, str, Exception | None] | None = field(default=None, repr=False)

    @property
    def is_write(self) -> bool:
        return self.kind is Kind.WRITE

    @property
    def answered_by_chaosql(self) -> bool:
        """chaosql answers it itself (its own statements and every EXPLAIN): only running it
        tells the shape of its result."""
        return self.kind is Kind.OWN or self.explain is not None

    @property
    def changes_nothing(self) -> bool:
        """A plain query (SELECT, FROM, VALUES, TABLE, or WITH without DML): it leaves the session
        and its DuckDB as they were, so a fresh client may be given the session next (the local
        service's pool). Everything else may leave state behind (a setting, a table, a view, a
        transaction) and counts as a change.

        >>> [classify(s).changes_nothing for s in (
        ...     "SELECT 1", "with x as (select 1) select * from x", "SET chaosql.timeout = 5",
        ...     "CREATE TABLE t (a int)", "WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x", "EXPLAIN SELECT 1")]
        [True, True, False, False, False, False]
        """
        if self.kind is not Kind.READ or self.explain is not None:
            return False
        if self.command in ("SELECT", "FROM", "VALUES", "TABLE"):
            return True
        return self.command == "WITH" and not _DML_WORD.search(self.body)

    def parse(self) -> tuple[exp.Expr | None, str, Exception | None]:
        """(sqlglot tree of ``body``, its text for DuckDB, the parse error) — parsed once.

        The tree is None when sqlglot cannot parse the statement (DuckDB-only syntax); the error
        says why. A script of several statements is an ``SqlError``.
        """
        if self._parsed is None:
            self._parsed = parse(self.body)
        return self._parsed

    @property
    def returning(self) -> bool:
        """Whether a DML statement returns rows (RETURNING)."""
        tree = self.parse()[0]
        if tree is not None:
            return tree.args.get("returning") is not None
        return _RETURNING.search(self.body) is not None


def classify(sql: str | exp.Expr, tables: Collection[str] | None = None) -> Classified:
    """Classify one statement, given as text or as a tree parsed already (the wire server's);
    ``tables`` are the chaos tables' names (lower case). Without ``tables`` nothing is parsed and
    a write to a chaos table is not told from a read (enough to tell chatter and chaosql's own).

    >>> tables = {"experiments", "pods"}
    >>> [classify(s, tables).kind.value for s in (
    ...     "SELECT * FROM pods", "DELETE FROM experiments WHERE name = 'x'", "SET chaosql.timeout = 5",
    ...     "SHOW TABLES", "BEGIN", "SET search_path = public", "INSERT INTO mine VALUES (1)")]
    ['read', 'write', 'own', 'own', 'chatter', 'chatter', 'read']
    >>> c = classify("EXPLAIN ANALYZE UPDATE experiments SET paused = true WHERE true", tables)
    >>> c.kind.value, c.explain, c.target, c.command
    ('write', 'analyze', 'experiments', 'UPDATE')
    """
    if not isinstance(sql, str):
        return _classify_tree(sql, tables or ())
    text = _LEADING.sub("", sql, count=1)
    explain = None
    found = _EXPLAIN.match(text)
    if found:
        explain = "analyze" if found.group(1) else "plan"
        text = text[found.end() :]
    word = re.match(r"[A-Za-z]+", text)
    command = word.group(0).upper() if word else ""
    out = Classified(sql, Kind.READ, text if explain else sql, explain=explain, command=command)
    lowered = command.lower()
    if lowered in ("set", "reset", "show"):
        named = _SETTING.match(text)
        name = named.group(1).strip('"').lower() if named else ""
        out.setting = name or None
        mine = name.startswith("chaosql.") or (lowered == "show" and name == "tables")
        out.kind = Kind.OWN if mine else Kind.CHATTER
    elif lowered in CHATTER_WORDS or not text.strip().strip(";"):  # an empty statement is chatter too
        out.kind = Kind.CHATTER
    elif lowered in ("describe", "desc"):
        out.kind = Kind.OWN
    elif tables is not None and _DML_WORD.search(text):  # only a statement that may write is parsed here
        out.target = _write_target(out, tables)
        if out.target is not None:
            out.kind = Kind.WRITE
    return out


def _classify_tree(tree: exp.Expr, tables: Collection[str]) -> Classified:
    """A statement parsed already is a query or a write (chaosql's own statements and chatter
    come as text). Its text is left empty: the session generates it only if it needs it."""
    out = Classified("", Kind.READ, "", command=str(tree.key).upper())
    out._parsed = (tree, "", None)
    out.target = _write_target(out, tables)
    if out.target is not None:
        out.kind = Kind.WRITE
    return out


def _write_target(classified: Classified, tables: Collection[str]) -> str | None:
    """The chaos table a DML node of the statement writes to (also inside WITH, or MERGE)."""

    tree = classified.parse()[0]
    if tree is None:  # unparsable: be strict, a word that looks like a write to a chaos table is one
        found = re.search(
            r'\b(?:insert\s+into|update|delete\s+from|merge\s+into)\s+(?:"?(?:public|main)"?\s*\.\s*)?"?(\w+)"?',
            classified.body,
            re.I,
        )
        return found.group(1).lower() if found and found.group(1).lower() in tables else None
    for name, db in on_lent_tree(tree, "written", _written):
        if name in tables and db in ("", "main", "public"):
            return name
    return None


def _written(tree: exp.Expr) -> list[tuple[str, str]]:
    """(name, schema), lower case, of each table a DML node of ``tree`` writes to."""
    from sqlglot import exp

    out = []
    for node in tree.find_all(exp.Insert, exp.Update, exp.Delete, exp.Merge):
        table = node.this.this if isinstance(node.this, exp.Schema) else node.this
        if isinstance(table, exp.Table):
            out.append((table.name.lower(), table.db.lower()))
    return out


#: Statements up to this long have their parse kept (``_parsed``): dashboards and clients send
#: the same few texts again and again, and a parse costs more than copying its tree.
PARSE_CACHE_CHARS = 8192


def parse(sql: str) -> tuple[exp.Expr | None, str, Exception | None]:
    """Parse one statement with sqlglot: DuckDB's dialect first, then Postgres' (regenerated as
    DuckDB SQL). Returns (tree, text for DuckDB, None), or (None, sql, the parse error).

    The tree is the caller's own (the session rewrites it in place): a text parsed before gives a
    copy of the kept parse, which depends on nothing but the text.

    >>> tree, text, error = parse("SELECT 1::int4")
    >>> type(tree).__name__, error is None
    ('Select', True)
    >>> parse("SELECT 1::int4")[0] is parse("SELECT 1::int4")[0]
    False
    """
    if len(sql) > PARSE_CACHE_CHARS:
        return _parse(sql)
    tree, text, error = _parsed(sql)
    return (tree.copy() if tree is not None else None), text, error


@functools.lru_cache(maxsize=512)
def _parsed(sql: str) -> tuple[exp.Expr | None, str, Exception | None]:
    tree, text, error = _parse(sql)
    if error is not None:
        error = error.with_traceback(None)  # keep the message, not the parser's frames
    return tree, text, error


def _parse(sql: str) -> tuple[exp.Expr | None, str, Exception | None]:
    import sqlglot
    from sqlglot.errors import ParseError, TokenError

    from chaosql.engine.dialect import DuckDB, Postgres, as_duckdb

    last: Exception | None = None
    for dialect in (DuckDB, Postgres):
        try:
            trees = [t for t in sqlglot.parse(sql, read=dialect) if t is not None]
        except (ParseError, TokenError) as err:
            last = err
            continue
        if len(trees) != 1:
            raise SqlError(f"expected one statement, found {len(trees)}", hint="run a script with -f FILE or \\i FILE")
        tree = as_duckdb(trees[0])  # where sqlglot reads DuckDB SQL differently, DuckDB's meaning
        return tree, (tree.sql(dialect="duckdb") if dialect is Postgres else sql), None
    return None, sql, last
