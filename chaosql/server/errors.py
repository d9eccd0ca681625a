"""Errors as a PostgreSQL client sees them: a chaosql error with its SQLSTATE, and the position in
the client's own statement that PostgreSQL's ErrorResponse gives (field P, 1-based characters).

DuckDB runs the statement as rewritten (``rewrite.translate``), so its own error positions point
into text the client never sent. The position is therefore found in the client's statement: the
token a syntax error names, the unknown column (``e.nmae`` from its qualifier on, as PostgreSQL
points), table, function or type.
"""

from __future__ import annotations

import re
from typing import Any

from chaosql.engine.limits import too_complex
from chaosql.errors import ChaosqlError, SqlError, UnsupportedError

_NAMED = [  # message -> (what is named, how it is used)
    (re.compile(r'^unknown column "([^"]+)"'), "column"),
    (re.compile(r'^unknown table "([^"]+)"'), "table"),
    (re.compile(r'^type "([^"]+)" does not exist'), "type"),
    (re.compile(r"^function (\w+) does not exist"), "function"),
    (re.compile(r'^column "(?:\w+\.)?([^"]+)" must appear in the GROUP BY clause'), "column"),
]
#: Python's date and datetime refusing a value (years 1-9999 only), met encoding a nested value
_PYTHON_DATES = re.compile(r"date value out of range|year -?\d+ is out of range|days=-?\d+; must have magnitude")
_NEAR = re.compile(r'at or near "([^"]*)"')
#: a value PostgreSQL could not read: it points at the literal (when the statement spells it)
_LITERAL = re.compile(
    r'^(?:invalid input syntax for type [\w ]+|date/time field value out of range): "(.*)"$'
    r'|^(?:value )?"(.*)" is out of range for type'
    r'|^timestamps before year 1 cannot be written as literals: "(.*)"$'
)


def translate_error(err: BaseException, session: Any) -> ChaosqlError:
    """Any exception of running a statement as a chaosql error with a SQLSTATE."""
    if isinstance(err, ChaosqlError):
        return err
    if isinstance(err, RecursionError):
        return too_complex(err)
    import duckdb

    from chaosql.engine.errors import translate

    if isinstance(err, duckdb.PermissionException):
        return SqlError(
            "the server's files are not reachable over the wire: " + str(err).split(": ", 1)[-1].split(" - ")[0],
            sqlstate="42501",
            hint="run chaosql locally (chaosql query) to read or write files",
        )
    if isinstance(err, duckdb.Error):
        return translate(err, all_tables=session.tables)
    if isinstance(err, (OverflowError, ValueError)) and _PYTHON_DATES.search(str(err)):
        return UnsupportedError(
            "a date or timestamp outside the years 1-9999, or infinite, inside an array, map or struct "
            f"cannot be sent ({err})",
            hint="select it as its own column, or cast the array to text[]",
        )
    return SqlError(str(err).splitlines()[0] if str(err) else type(err).__name__, sqlstate="XX000")


def position(err: ChaosqlError, sql: str) -> int | None:
    """Where in ``sql`` (the client's statement) PostgreSQL would point for ``err``, 1-based.

    >>> position(SqlError('unknown column "nmae" in table experiments'), "SELECT e.nmae FROM experiments e")
    8
    >>> position(SqlError('syntax error at or near "SELEC"', line=1, col=1), "SELEC 1")
    1
    >>> position(SqlError('invalid input syntax for type integer: "abc"'), "SELECT 1, 'abc'::int")
    11
    >>> position(SqlError('invalid input syntax for type integer: "1.5"'), "SELECT x::int FROM (VALUES ('1.5')) v(x)")
    """
    if not sql:
        return None
    message = err.message
    near = _NEAR.search(message)
    if near is not None:
        return _near(sql, near.group(1), getattr(err, "line", None), getattr(err, "col", None))
    for pattern, kind in _NAMED:
        m = pattern.search(message)
        if m:
            return _named(sql, m.group(1), kind)
    literal = _LITERAL.search(message)
    if literal is not None:
        return _string(sql, next(g for g in literal.groups() if g is not None))
    return None


def _string(sql: str, value: str) -> int | None:
    """Where the string literal ``'value'`` starts in ``sql``, if it is there and is what is
    converted (``'v'::type``, ``CAST('v' AS type)``, ``type 'v'``, ``'v' + 1``): PostgreSQL points at a literal
    only then, not at one read from a CTE or VALUES and converted later."""
    from sqlglot import exp
    from sqlglot.tokens import TokenType

    tokens = _tokens(sql)
    for i, token in enumerate(tokens):
        if token.token_type != TokenType.STRING or token.text != value:
            continue
        after = tokens[i + 1].token_type if i + 1 < len(tokens) else None
        before = tokens[max(i - 2, 0) : i]
        arithmetic = (TokenType.PLUS, TokenType.DASH, TokenType.STAR, TokenType.SLASH)
        if (
            after == TokenType.DCOLON
            or after in arithmetic  # '5.5' + 1: the literal takes the number's type
            or (before and before[-1].token_type in arithmetic)
            or [t.text.upper() for t in before] == ["CAST", "("]
            or (before and before[-1].token_type.name in exp.DataType.Type.__members__)
        ):
            return token.start + 1
    return None


def _tokens(sql: str) -> list[Any]:
    from chaosql.engine.dialect import Postgres

    try:
        return list(Postgres().tokenize(sql))
    except Exception:
        return []


def _near(sql: str, text: str, line: int | None, col: int | None) -> int | None:
    """A syntax error's token: where DuckDB's line and column put it, if that is the token in the
    client's text (DuckDB may have seen a rewritten statement), else its first occurrence."""
    if line and col:
        lines = sql.split("\n")
        if line <= len(lines):
            offset = sum(len(x) + 1 for x in lines[: line - 1]) + col - 1
            if sql[offset : offset + len(text)].lower() == text.lower():
                return offset + 1
    for token in _tokens(sql):
        if token.text.lower() == text.lower():
            return token.start + 1
    return None


def _named(sql: str, name: str, kind: str) -> int | None:
    """The first use of ``name`` in ``sql`` as a ``kind`` (column, table, type, function); a
    qualified name (``e.nmae``, ``public.nope``) from its first part, as PostgreSQL points."""
    from sqlglot.tokens import TokenType

    tokens = _tokens(sql)
    wanted = name.split(".")[-1]
    for i, token in enumerate(tokens):
        if token.token_type in (TokenType.STRING, TokenType.NUMBER):
            continue
        text = token.text if token.token_type == TokenType.IDENTIFIER else token.text.lower()
        if text != wanted and text != wanted.lower():
            continue
        following = tokens[i + 1].token_type if i + 1 < len(tokens) else None
        if (kind == "function") != (following == TokenType.L_PAREN):
            continue
        if kind == "type" and not (i and tokens[i - 1].token_type in (TokenType.DCOLON, TokenType.ALIAS)):
            continue
        start = i
        while start >= 2 and tokens[start - 1].token_type == TokenType.DOT:
            start -= 2
        return tokens[start].start + 1
    return None
