"""PostgreSQL's names for unaliased result columns (FigureColname), and the bare ``user``."""

from __future__ import annotations

import re

from sqlglot import exp

T = exp.DataType.Type

#: PostgreSQL's internal type names (what an unaliased ``x::type`` is called).
_PG_TYPE_NAMES = {
    T.INT: "int4",
    T.BIGINT: "int8",
    T.SMALLINT: "int2",
    T.TINYINT: "int2",
    T.TEXT: "text",
    T.VARCHAR: "varchar",
    T.CHAR: "bpchar",
    T.DECIMAL: "numeric",
    T.DOUBLE: "float8",
    T.FLOAT: "float4",
    T.BOOLEAN: "bool",
    T.TIMESTAMPTZ: "timestamptz",
    T.TIMESTAMP: "timestamp",
    T.DATE: "date",
    T.TIME: "time",
    T.INTERVAL: "interval",
    T.JSON: "json",
    T.JSONB: "jsonb",
    T.UUID: "uuid",
    T.VARBINARY: "bytea",
}


def pg_column_name(node: exp.Expr) -> str | None:
    """The name PostgreSQL gives an output column (its FigureColname), None for ``*``.

    >>> import sqlglot
    >>> from chaosql.engine.dialect import Postgres
    >>> sql = "SELECT count(*), 1, x::int, 'a'::text, now(), e.name, labels['a'], 'e'::regclass::text"
    >>> [pg_column_name(e) for e in sqlglot.parse_one(sql, read=Postgres).expressions]
    ['count', '?column?', 'x', 'text', 'now', 'name', 'labels', 'text']
    >>> sql = "SELECT '{1}'::int[], trim(' a '), trim(leading 'a' from 'ab'), user"
    >>> [pg_column_name(e) for e in sqlglot.parse_one(sql, read=Postgres).expressions]
    ['int4', 'btrim', 'ltrim', 'user']
    """
    if isinstance(node, exp.Star) or (isinstance(node, exp.Column) and isinstance(node.this, exp.Star)):
        return None
    name, _ = _figure(node)
    return name or "?column?"


def _figure(node: exp.Expr) -> tuple[str | None, int]:
    """(name, strength) as PostgreSQL's FigureColnameInternal: a cast's type name (strength 1)
    gives way to anything stronger beneath it."""
    if isinstance(node, exp.Alias):
        return node.alias, 2
    if isinstance(node, (exp.Column, exp.Dot)):
        return node.name, 2
    if isinstance(node, (exp.Paren, exp.Bracket, exp.Window, exp.WithinGroup, exp.Filter)):
        return _figure(node.this)
    if isinstance(node, (exp.Cast, exp.TryCast)):
        if node.meta.get("spelled") == "div":  # div(a, b): sqlglot's cast of a // b
            return "div", 2
        name, strength = _figure(node.this)
        if strength > 1:
            return name, strength
        to = node.args.get("to")
        if to is None:
            return name, strength
        while to.this == T.ARRAY and to.expressions:  # '{1}'::int[] is named after its element type
            to = to.expressions[0]
        return _PG_TYPE_NAMES.get(to.this, to.sql(dialect="postgres").lower()), 1
    if isinstance(node, exp.Case):  # the ELSE's name if it has a strong one, else "case"
        default = node.args.get("default")
        name, strength = _figure(default) if default is not None else (None, 0)
        return (name, strength) if strength > 1 else ("case", 1)
    if isinstance(node, exp.Interval):
        return "interval", 1
    if isinstance(node, exp.AtTimeZone):  # the function AT TIME ZONE stands for
        return "timezone", 2
    if isinstance(node, exp.Exists):
        return "exists", 2
    if isinstance(node, exp.Trim):  # PostgreSQL calls the function TRIM stands for
        position = str(node.args.get("position") or "").upper()
        return {"LEADING": "ltrim", "TRAILING": "rtrim"}.get(position, "btrim"), 2
    if isinstance(node, exp.Array):
        return "array", 2
    if isinstance(node, exp.Subquery):
        inner = node.this
        if isinstance(inner, exp.Select) and inner.expressions:
            return _figure(inner.expressions[0])
        return None, 0
    spelled = node.meta.get("spelled") if isinstance(node, (exp.Func, exp.Binary)) else None
    if spelled:  # a function call, also one sqlglot keeps as an operator (power(2, 3) is 2 ^ 3)
        return spelled.split(".")[-1], 2
    if isinstance(node, exp.Func) and not isinstance(node, (exp.Binary, exp.Not, exp.Predicate)):
        if isinstance(node, exp.Anonymous):
            return node.name.lower().split(".")[-1], 2
        m = re.match(r"[A-Za-z_]\w*", node.sql(dialect="postgres"))
        return (m.group(0).lower(), 2) if m else (None, 0)
    return None, 0


def name_columns(tree: exp.Expr) -> None:
    """Alias every unaliased, non-column projection with PostgreSQL's name for it."""
    for select in tree.find_all(exp.Select):
        projections = select.expressions
        for i, node in enumerate(projections):
            if isinstance(node, (exp.Alias, exp.Star)) or (isinstance(node, exp.Column) and not is_bare_user(node)):
                continue
            name = pg_column_name(node)
            if name is None:
                continue
            projections[i] = exp.alias_(node, name, quoted=True)
            projections[i].parent = select


def is_bare_user(column: exp.Column) -> bool:
    """A bare ``user`` or ``current_role``: a function in PostgreSQL, named after itself."""
    ident = column.this
    return (
        column.name.lower() in ("user", "current_role")
        and not column.table
        and isinstance(ident, exp.Identifier)
        and not ident.quoted
    )
