"""Turn DuckDB's exceptions into chaosql errors with one readable line and a SQLSTATE."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from chaosql.errors import ChaosqlError, QueryCancelled, SqlError, UnsupportedError

RELATION_PREFIX = "__cq_"


def translate(err: Exception, *, tables: Iterable[str] = (), all_tables: Iterable[str] = ()) -> ChaosqlError:
    """``tables``: virtual tables the statement reads; ``all_tables``: every table name known."""
    import duckdb

    text = str(err).replace(RELATION_PREFIX + "arrow_", "").replace(RELATION_PREFIX, "")
    first, _, rest = text.partition("\n")
    body = re.sub(r"^[A-Za-z ]+ Error: ", "", first).strip()
    line, col = _position(text)
    if isinstance(err, duckdb.InterruptException):
        return QueryCancelled("query cancelled")
    if isinstance(err, duckdb.ParserException):
        message = body if body.lower().startswith("syntax error") else f"syntax error: {body}"
        return SqlError(message, line=line, col=col, sqlstate="42601")
    function = re.match(r"(?:Scalar|Aggregate|Table) Function with name (\S+) does not exist", body)
    if isinstance(err, duckdb.CatalogException) and function:
        return SqlError(f"function {function.group(1)} does not exist", line=line, col=col, sqlstate="42883")
    if isinstance(err, duckdb.CatalogException) and re.match(r"Type with name \S+ does not exist", body):
        return SqlError(f'type "{body.split()[3]}" does not exist', line=line, col=col, sqlstate="42704")
    if isinstance(err, duckdb.CatalogException):
        m = re.search(r"Table with name (\S+) does not exist", body)
        if m:
            name = m.group(1)
            guess = _guess(name, all_tables)
            return SqlError(
                f'unknown table "{name}"' + (f' (did you mean "{guess}"?)' if guess else ""),
                hint="SHOW TABLES lists them",
                line=line,
                col=col,
                sqlstate="42P01",
            )
        return SqlError(body, line=line, col=col, sqlstate="42P01" if "does not exist" in body else "42000")
    if isinstance(err, duckdb.BinderException):
        m = re.search(r'Referenced column "([^"]+)" not found', body)
        if m:
            name = m.group(1)
            candidates = re.findall(r'"([^"]+)"', rest.partition("Candidate bindings:")[2].split("\n")[0])
            guess = _guess(name, [c.split(".")[-1] for c in candidates])
            where = f" in table {', '.join(sorted(set(tables)))}" if tables else ""
            return SqlError(
                f'unknown column "{name}"{where}' + (f' (did you mean "{guess}"?)' if guess else ""),
                line=line,
                col=col,
                sqlstate="42703",
            )
        m = re.search(r'(?:Table|Values list) "([^"]+)" does not have a column named "([^"]+)"', body)
        if m:
            return SqlError(
                f'unknown column "{m.group(2)}" in table {m.group(1)}', line=line, col=col, sqlstate="42703"
            )
        if "must appear in the GROUP BY clause" in body:
            return SqlError(body.rstrip("."), line=line, col=col, sqlstate="42803")
        state = "42883" if "function" in body.lower() else "42804"
        return SqlError(body, line=line, col=col, sqlstate=state)
    if isinstance(err, duckdb.ConversionException):
        return SqlError(f"invalid value: {body}", line=line, col=col, sqlstate="22P02")
    if isinstance(err, duckdb.NotImplementedException):
        return UnsupportedError(body, sqlstate="0A000")
    if isinstance(err, (duckdb.OutOfRangeException,)):
        return SqlError(body, sqlstate="22003")
    if isinstance(err, duckdb.InvalidInputException) and body.startswith("Division by zero"):
        return SqlError("division by zero", sqlstate="22012")
    if isinstance(err, duckdb.InvalidInputException):
        return SqlError(body, sqlstate="22023")
    return SqlError(body or type(err).__name__, sqlstate="XX000")


def _position(text: str) -> tuple[int | None, int | None]:
    m = re.search(r"LINE (\d+): (.*)\n(\s*)\^", text)
    if not m:
        return None, None
    prefix = len(f"LINE {m.group(1)}: ")
    return int(m.group(1)), max(len(m.group(3)) - prefix + 1, 1)


def _guess(name: str, options: Iterable[str]) -> str | None:
    options = [o for o in options if not o.startswith(RELATION_PREFIX)]
    close = difflib.get_close_matches(name.lower(), options, n=1, cutoff=0.6)
    return close[0] if close else None
