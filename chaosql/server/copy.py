"""COPY ... TO STDOUT: the bulk export psql's ``\\copy``, psycopg's ``copy()`` and asyncpg's
``copy_from_query`` use, in PostgreSQL's text and CSV formats.

Anything else COPY can do is refused with PostgreSQL's own SQLSTATE: a file or program on the
server is ``42501`` (as for a PostgreSQL user without pg_write_server_files), ``COPY FROM`` and
the binary format are ``0A000``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from chaosql.errors import SqlError, UnsupportedError

_COPY = re.compile(
    r"^\s*copy\s+(?:\((?P<query>.*)\)|(?P<table>(?:\"[^\"]+\"|[\w$]+)(?:\s*\.\s*(?:\"[^\"]+\"|[\w$]+))?)"
    r"\s*(?:\((?P<columns>[^)]*)\))?)\s+(?P<direction>to|from)\s+(?P<target>stdout|stdin|program\s+'(?:[^']|'')*'|'(?:[^']|'')*')"
    r"(?P<options>.*?)\s*;?\s*$",
    re.I | re.S,
)


@dataclass(frozen=True)
class CopyOut:
    query: str
    csv: bool = False
    header: bool = False
    delimiter: str = "\t"
    null: str = "\\N"
    quote: str = '"'


def parse(sql: str) -> CopyOut | None:
    """The COPY statement in ``sql`` (None for anything else); refuses what chaosql cannot do.

    >>> parse("COPY (SELECT 1) TO STDOUT WITH (FORMAT csv, HEADER)")
    CopyOut(query='SELECT 1', csv=True, header=True, delimiter=',', null='', quote='"')
    >>> parse('copy experiments (name, kind) to stdout').query
    'SELECT name, kind FROM experiments'
    """
    if not re.match(r"^\s*copy\b", sql, re.I):
        return None
    m = _COPY.match(sql)
    if m is None:
        raise SqlError("syntax error in COPY: chaosql reads COPY (query) TO STDOUT [WITH (FORMAT csv, ...)]")
    if m.group("direction").lower() == "from":
        raise UnsupportedError("COPY FROM is not supported: chaos tables are written with INSERT", sqlstate="0A000")
    if m.group("target").lower() != "stdout":
        raise SqlError(
            "COPY to a file or program is not allowed over the wire: use COPY ... TO STDOUT (psql's \\copy)",
            sqlstate="42501",
        )
    query = m.group("query")
    if query is None:
        columns = m.group("columns")
        query = f"SELECT {columns.strip() if columns and columns.strip() else '*'} FROM {m.group('table')}"
    return _options(query.strip(), m.group("options"))


def _options(query: str, text: str) -> CopyOut:
    options: dict[str, str | None] = {}
    body = text.strip()
    if body.lower().startswith("with"):
        body = body[4:].strip()
    if body.startswith("(") and body.endswith(")"):  # WITH (FORMAT csv, HEADER true, DELIMITER ';')
        for item in _split_options(body[1:-1]):
            name, _, value = item.strip().partition(" ")
            options[name.lower()] = _unquote(value.strip()) if value.strip() else None
    else:  # the old syntax: CSV HEADER DELIMITER ',' NULL 'x'
        tokens = re.findall(r"'(?:[^']|'')*'|\S+", body)
        i = 0
        while i < len(tokens):
            word = tokens[i].lower()
            if word in ("delimiter", "null", "quote", "escape", "encoding") and i + 1 < len(tokens):
                options[word] = _unquote(tokens[i + 1])
                i += 2
                continue
            if word == "as":
                i += 1
                continue
            options["format" if word in ("csv", "binary", "text") else word] = (
                word if word in ("csv", "binary", "text") else None
            )
            i += 1
    fmt = (options.get("format") or "text").lower()
    if fmt == "binary":
        raise UnsupportedError("COPY in binary format is not supported: use text or csv", sqlstate="0A000")
    if fmt not in ("text", "csv"):
        raise SqlError(f'COPY format "{fmt}" not recognized', sqlstate="22023")
    csv = fmt == "csv"
    header = "header" in options and (options["header"] or "true").lower() in ("true", "on", "1", "match")
    delimiter = options.get("delimiter") or ("," if csv else "\t")
    null = options.get("null")
    if null is None:
        null = "" if csv else "\\N"
    if len(delimiter) != 1:
        raise SqlError("COPY delimiter must be a single one-byte character", sqlstate="0A000")
    return CopyOut(query, csv, header, delimiter, null, options.get("quote") or '"')


def _split_options(text: str) -> list[str]:
    return [p for p in re.findall(r"(?:'(?:[^']|'')*'|[^,'])+", text) if p.strip()]


def _unquote(value: str) -> str:
    if value.startswith("'") and value.endswith("'"):
        return value[1:-1].replace("''", "'")
    if value.upper().startswith("E'") and value.endswith("'"):
        return value[2:-1].encode("utf-8").decode("unicode_escape")
    return value


def encode(batch: Any, pgnames: list[str], op: CopyOut) -> list[bytes]:
    """One record batch -> one CopyData payload per row, as PostgreSQL writes them."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from chaosql.server.rows import text_fields

    columns = []
    for i in range(batch.num_columns):
        fields = text_fields(batch.column(i), pgnames[i])
        if op.csv:
            q = op.quote
            needs = pc.or_(
                pc.match_substring_regex(fields, "[" + re.escape(op.delimiter + q) + "\r\n]"),
                pc.equal(fields, pa.scalar(op.null))
                if op.null != ""
                else pc.equal(pc.utf8_length(fields), pa.scalar(0)),
            )
            quoted = pc.binary_join_element_wise(q, pc.replace_substring(fields, q, q + q), q, "")
            fields = pc.if_else(needs, quoted, fields)
        else:
            for char, escaped in (("\\", "\\\\"), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
                fields = pc.replace_substring(fields, char, escaped)
            if op.delimiter != "\t":
                fields = pc.replace_substring(fields, op.delimiter, "\\" + op.delimiter)
        columns.append(pc.fill_null(fields, op.null))
    if not columns:
        return [b"\n"] * batch.num_rows
    lines = pc.binary_join_element_wise(*columns, op.delimiter) if len(columns) > 1 else columns[0]
    return [(line + "\n").encode("utf-8") for line in pa.array(lines).to_pylist()]


def header(names: list[str], op: CopyOut) -> bytes:
    def field(name: str) -> str:
        if op.csv and re.search("[" + re.escape(op.delimiter + op.quote) + "\r\n]", name):
            return op.quote + name.replace(op.quote, op.quote * 2) + op.quote
        return name

    return (op.delimiter.join(field(n) for n in names) + "\n").encode("utf-8")
