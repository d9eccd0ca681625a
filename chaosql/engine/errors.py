"""Turn DuckDB's exceptions into chaosql errors with one readable line and a SQLSTATE."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from chaosql.errors import ChaosqlError, QueryCancelled, SqlError, UnsupportedError
from chaosql.sources.base import CANCELLED, CallLog

RELATION_PREFIX = "__cq_"


def translate(
    err: Exception, *, tables: Iterable[str] = (), all_tables: Iterable[str] = (), log: CallLog | None = None
) -> ChaosqlError:
    """``tables``: virtual tables the statement reads; ``all_tables``: every table name known;
    ``log``: the statement's, whose cancel reason an interrupted DuckDB query reports."""
    import duckdb

    text = str(err).replace(RELATION_PREFIX + "arrow_", "")
    text = re.sub(re.escape(RELATION_PREFIX) + r"([\w#]+)@\d+", r"\1", text).replace(RELATION_PREFIX, "")
    first, _, rest = text.partition("\n")
    body = re.sub(r"^[A-Za-z ]+ Error: ", "", first).strip()
    line, col = _position(text)
    if isinstance(err, duckdb.InterruptException):
        return QueryCancelled(log.reason if log is not None else CANCELLED)
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
        message, sqlstate = conversion_error(body)
        return SqlError(message, line=line, col=col, sqlstate=sqlstate)
    if isinstance(err, duckdb.NotImplementedException):
        return UnsupportedError(body, sqlstate="0A000")
    if isinstance(err, (duckdb.OutOfRangeException,)):
        overflow = re.match(r"Overflow in \w+ of (\w+) \((.*)\)", body)
        if overflow and overflow.group(1) in PG_TYPE_NAMES:
            return SqlError(f"{PG_TYPE_NAMES[overflow.group(1)]} out of range: {overflow.group(2)}", sqlstate="22003")
        return SqlError(body, sqlstate="22003")
    if isinstance(err, duckdb.InvalidInputException) and body.lower().startswith("division by zero"):
        return SqlError("division by zero", sqlstate="22012")  # DuckDB's, or the server's numeric division
    if isinstance(err, duckdb.InvalidInputException) and body.startswith("negative substring length"):
        return SqlError(body, sqlstate="22011")  # server/semantics/
    if isinstance(err, duckdb.InvalidInputException) and body.startswith("invalid input syntax for type"):
        return SqlError(body, sqlstate="22P02")  # the server's strict casts (server/semantics/)
    if isinstance(err, duckdb.InvalidInputException) and body.startswith(
        ("value out of range: overflow", "value out of range: underflow")
    ):
        return SqlError(body, sqlstate="22003")  # double precision arithmetic (server/semantics/)
    if isinstance(err, duckdb.InvalidInputException) and " is not supported: " in body.split("\n")[0]:
        return UnsupportedError(body, sqlstate="0A000")  # a refusal of the server's (server/semantics/)
    if isinstance(err, duckdb.InvalidInputException) and body.startswith(_WIDTH_BUCKET):
        return SqlError(body, sqlstate="22004" if body.startswith("thresholds") else "2201G")  # server/catalog.py
    if isinstance(err, duckdb.InvalidInputException) and body.startswith(_OUTSIDE_DOMAIN):
        return SqlError(body, sqlstate="2201E" if "logarithm" in body else "2201F")  # server/semantics/
    if isinstance(err, duckdb.InvalidInputException):
        return SqlError(body, sqlstate="22023")
    return SqlError(body or type(err).__name__, sqlstate="XX000")


#: the server's checks of sqrt, ln, log and power (server/semantics/), PostgreSQL's messages
_OUTSIDE_DOMAIN = ("cannot take ", "zero raised to a negative power", "a negative number raised to")

#: the catalog's width_bucket checks (server/catalog.py), PostgreSQL's messages
_WIDTH_BUCKET = (
    "count must be greater than zero",
    "lower bound cannot equal upper bound",
    "operand, lower bound, and upper bound cannot be NaN",
    "lower and upper bounds must be finite",
    "thresholds array must not contain NULLs",
)

#: DuckDB's type names in its conversion errors -> PostgreSQL's
PG_TYPE_NAMES = {
    "INT16": "smallint",
    "INT32": "integer",
    "INT64": "bigint",
    "INT128": "numeric",
    "FLOAT": "real",
    "DOUBLE": "double precision",
    "BOOL": "boolean",
    "UUID": "uuid",
    "INTERVAL": "interval",
    "DATE": "date",
    "TIME": "time",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamp with time zone",
    "VARCHAR": "text",
    "BLOB": "bytea",
}
_INTEGER_TEXT = re.compile(r"\s*[+-]?\d+\s*")
_TIME_TEXT = re.compile(r"[\d\s:.+-]+")


def conversion_error(body: str) -> tuple[str, str]:
    """A DuckDB conversion error as PostgreSQL reports it: (message, SQLSTATE). Text that is no
    value of the type is 22P02 (22007 for dates, times and intervals); a value that parses but
    does not fit is 22003 (22008 for a date or time field out of range).

    >>> conversion_error("Could not convert string 'abc' to INT32")
    ('invalid input syntax for type integer: "abc"', '22P02')
    >>> conversion_error("Could not convert string '99999999999' to INT32")
    ('value "99999999999" is out of range for type integer', '22003')
    >>> conversion_error('date field value out of range: "2026-13-01"')
    ('date/time field value out of range: "2026-13-01"', '22008')
    >>> conversion_error("Failed to cast decimal value 3000000001 to type INT32")
    ('integer out of range', '22003')
    >>> conversion_error('Casting value "12345.678" to type DECIMAL(5,2) failed: value is out of range!')
    ('numeric field overflow: 12345.678 does not fit DECIMAL(5,2)', '22003')
    >>> conversion_error('invalid date field format: "soon", expected format is (YYYY-MM-DD)')
    ('invalid input syntax for type date: "soon"', '22007')
    """
    m = re.match(r"Could not convert string ['\"](.*)['\"] to (\w+)", body, re.S)
    if m:
        value, duck = m.groups()
        name = "numeric" if duck.startswith("DECIMAL") else PG_TYPE_NAMES.get(duck, duck.lower())
        if name in ("smallint", "integer", "bigint") and _INTEGER_TEXT.fullmatch(value):
            return f'value "{value}" is out of range for type {name}', "22003"
        if name == "numeric" and "(" in body and _looks_numeric(value):
            return f'value "{value}" does not fit {body.rsplit(" to ", 1)[1]}', "22003"
        return f'invalid input syntax for type {name}: "{value}"', "22007" if name == "interval" else "22P02"
    m = re.match(r'(date|timestamp|time) field value out of range: "(.*?)"', body, re.S)
    if m:
        kind, value = m.groups()
        if kind == "time" and not _TIME_TEXT.fullmatch(value):
            return f'invalid input syntax for type time: "{value}"', "22007"
        return f'date/time field value out of range: "{value}"', "22008"
    m = re.match(r'invalid (date|timestamp) field format: "(.*?)"', body, re.S)
    if m:
        return f'invalid input syntax for type {m.group(1)}: "{m.group(2)}"', "22007"
    m = re.match(
        r"Type (\w+) with value (.*) can't be cast because the value is out of range for the destination type (\w+)",
        body,
    )
    if m:
        return f"{PG_TYPE_NAMES.get(m.group(3), m.group(3).lower())} out of range: {m.group(2)}", "22003"
    m = re.match(r"Failed to cast decimal value \S+ to type (\w+)", body)
    if m and m.group(1) in PG_TYPE_NAMES:  # 3000000000.5::int
        return f"{PG_TYPE_NAMES[m.group(1)]} out of range", "22003"
    m = re.match(r"Could not cast value (.*) to (DECIMAL\(.*\))", body) or re.match(
        r'Casting value "(.*)" to type (DECIMAL\(.*\)) failed: value is out of range', body
    )
    if m:
        return f"numeric field overflow: {m.group(1)} does not fit {m.group(2)}", "22003"
    m = re.match(r'Malformed JSON.*Input: "(.*)"$', body, re.S)
    if m:
        return f'invalid input syntax for type json: "{m.group(1)}"', "22P02"
    return f"invalid value: {body}", "22P02"


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


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
