"""What PostgreSQL type an expression has (its *kind*: ``int4``, ``numeric``, ``text``...), read from
the tables' columns, derived tables and literals, and the wire type each result column is sent as."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from sqlglot import exp

from chaosql.server.semantics.names import _PG_TYPE_NAMES

T = exp.DataType.Type
_INTEGERS = {T.INT, T.BIGINT, T.SMALLINT, T.TINYINT, T.UBIGINT, T.UINT, T.USMALLINT, T.UTINYINT}
_DUCK_INTEGERS = {"INTEGER", "BIGINT", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT", "UINTEGER"}


def column_kinds(tree: exp.Expr, columns_of: Callable[[str], dict[str, str] | None]) -> dict[str, str]:
    """Column name -> DuckDB type for the chaos tables the statement reads, and for the numbers its
    subqueries, CTEs and VALUES lists select (``_derived_kinds``); unique names only."""
    found = list(tree.find_all(exp.Table, exp.Values, exp.Select))
    kinds: dict[str, str] = {}
    clashes: set[str] = set()

    def add(columns: Iterable[tuple[str, str]]) -> None:
        for name, duck in columns:
            if name in kinds and kinds[name] != duck:
                clashes.add(name)
            kinds[name] = duck

    for table in found:
        if isinstance(table, exp.Table) and isinstance(table.this, exp.Identifier):
            add((columns_of(table.name.lower()) or {}).items())
    add(_derived_kinds(tree, found, {k: v for k, v in kinds.items() if k not in clashes}))
    return {k: v for k, v in kinds.items() if k not in clashes}


def _derived_kinds(tree: exp.Expr, found: Iterable[exp.Expr], kinds: dict[str, str]) -> list[tuple[str, str]]:
    """(column, DuckDB type) for the numeric columns of the statement's subqueries, CTEs and VALUES
    lists (among ``found``) whose type is known from what they select (``(VALUES (1), (2)) v(x)``:
    x is int4).

    >>> import sqlglot
    >>> tree = sqlglot.parse_one("SELECT * FROM (VALUES (1, 1.5), (2, 2.25)) v(x, y), (SELECT n::int AS i, 2.5 * 2 AS d) s")
    >>> _derived_kinds(tree, list(tree.find_all(exp.Values, exp.Select)), {})
    [('x', 'INTEGER'), ('y', 'DECIMAL(38,2)'), ('i', 'INTEGER'), ('d', 'DECIMAL(38,1)')]
    """
    out: list[tuple[str, str]] = []
    for node in found:
        if isinstance(node, exp.Values):
            alias = node.args.get("alias")
            names = [c.name.lower() for c in alias.columns] if isinstance(alias, exp.TableAlias) else []
            rows = [row.expressions if isinstance(row, exp.Tuple) else [row] for row in node.expressions]
            for i, name in enumerate(names):
                column = [row[i] for row in rows if i < len(row) and not isinstance(row[i], exp.Null)]
                out.append((name, _duck_type_of([_number_kind(v, kinds) for v in column])))
        elif isinstance(node, exp.Select) and node is not tree and isinstance(node.parent, (exp.Subquery, exp.CTE)):
            out += [
                (p.alias.lower(), _duck_type_of([_number_kind(p.this, kinds)]))
                for p in node.expressions
                if isinstance(p, exp.Alias)
            ]
    return [(name, duck) for name, duck in out if duck]


def _number_kind(node: exp.Expr, kinds: dict[str, str]) -> tuple[str | None, str | None]:
    """(kind, declared type) of a value; a string literal is text, whatever it spells."""
    if isinstance(node, exp.Literal) and node.is_string:
        return None, None
    return _kind(node, kinds), _declared(node, kinds)


def _duck_type_of(kinds: list[tuple[str | None, str | None]]) -> str:
    """The DuckDB type values of these (kind, declared type)s make together when it is a number, else ""."""
    if not kinds or any(kind is None for kind, _ in kinds):
        return ""
    if any(kind == "float" for kind, _ in kinds):
        return "FLOAT" if all(declared == "float4" for _, declared in kinds) else "DOUBLE"
    if all(kind == "int" for kind, _ in kinds):
        return "INTEGER" if all(declared in ("int4", "int2") for _, declared in kinds) else "BIGINT"
    scale = max(int(kind.split(":")[1] or 0) if kind and kind.startswith("decimal:") else 0 for kind, _ in kinds)
    return f"DECIMAL(38,{scale})"


def _kind(node: exp.Expr, kinds: dict[str, str]) -> str | None:
    """'int', 'decimal:<scale>', 'float' or None (unknown) for an expression's type."""
    if isinstance(node, exp.Paren):
        return _kind(node.this, kinds)
    if isinstance(node, exp.Literal) and not node.is_string:
        text = node.this
        if re.fullmatch(r"-?\d+", text):
            return "int"
        m = re.fullmatch(r"-?\d*\.(\d*)", text)
        return f"decimal:{len(m.group(1))}" if m else "float"
    if isinstance(node, exp.Literal) and node.is_string:
        m = re.fullmatch(r"\s*[-+]?\d+(?:\.(\d*))?\s*", node.this)
        if m:
            return f"decimal:{len(m.group(1) or '')}"
        return None
    if isinstance(node, exp.Neg):
        return _kind(node.this, kinds)
    if isinstance(node, exp.Filter):  # count(*) FILTER (WHERE ...): the aggregate's
        return _kind(node.this, kinds)
    if isinstance(node, exp.Column):
        return _duck_kind(kinds.get(node.name.lower(), ""))
    if isinstance(node, (exp.Placeholder, exp.Parameter)):  # a parameter of a type the client gave
        from chaosql.server.parameters import index

        return _duck_kind(kinds.get(f"${index(node)}", ""))
    if isinstance(node, exp.Count):
        return "int"
    if isinstance(node, exp.Sum) and _kind(node.this, kinds) == "int":  # of int8: numeric, of int4: int8
        return "int" if _declared(node.this, kinds) in ("int4", "int2") else "decimal:0"
    if isinstance(node, (exp.Sum, exp.Min, exp.Max, exp.Abs, exp.Nullif)):  # nullif(x, 0): x's
        return _kind(node.this, kinds)
    if isinstance(node, exp.Subquery) and isinstance(node.this, exp.Select) and len(node.this.expressions) == 1:
        only = node.this.expressions[0]  # a scalar subquery: its column's
        return _number_kind(only.this if isinstance(only, exp.Alias) else only, kinds)[0]
    if isinstance(node, exp.Avg) and _kind(node.this, kinds) not in (None, "float"):
        return "decimal:18"  # numeric_division's quotient inside an expression
    if isinstance(node, (exp.Avg, exp.Stddev, exp.Variance)):
        return "float"
    if isinstance(node, exp.Window) and isinstance(node.this, (exp.Sum, exp.Count, exp.Min, exp.Max)):
        return _kind(node.this, kinds)
    if isinstance(node, (exp.Cast, exp.TryCast)):
        to = node.args["to"]
        if to.this in _INTEGERS:
            return "int"
        if to.this in (T.DOUBLE, T.FLOAT):
            return "float"
        if to.this == T.DECIMAL:
            params = to.expressions
            if len(params) == 2:
                return f"decimal:{params[1].this.this if hasattr(params[1].this, 'this') else params[1].name}"
            return _kind(node.this, kinds)
    if isinstance(node, (exp.Add, exp.Sub, exp.Mul, exp.Mod, exp.IntDiv)):
        left, right = _kind(node.this, kinds), _kind(node.expression, kinds)
        if left == right == "int":
            return "int"
        if "float" in (left, right):
            return "float"
        if left and right and not isinstance(node, exp.IntDiv):  # numerics: PostgreSQL's (and DuckDB's) scale
            scales = [int(k.split(":")[1] or 0) if k.startswith("decimal:") else 0 for k in (left, right)]
            return f"decimal:{sum(scales) if isinstance(node, exp.Mul) else max(scales)}"
    return None


def _duck_kind(duck: str) -> str | None:
    if duck in _DUCK_INTEGERS:
        return "int"
    if duck in ("DOUBLE", "FLOAT"):
        return "float"
    m = re.fullmatch(r"DECIMAL\(\d+,\s*(\d+)\)", duck)
    return f"decimal:{m.group(1)}" if m else None


#: DuckDB's types of a chaos table's or a parameter's column, as PostgreSQL's names (_declared)
_DUCK_DECLARED = {"DATE": "date", "FLOAT": "float4", "INTEGER": "int4", "SMALLINT": "int2", "DOUBLE": "float8"}


def _declared(node: exp.Expr | None, kinds: dict[str, str]) -> str | None:
    """The PostgreSQL type an expression is known to have where DuckDB's differs in what follows
    from it: a cast's type, ``current_date``, an integer literal (int4), a known column."""
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Cast) and isinstance(node.args.get("to"), exp.DataType):
        return _PG_TYPE_NAMES.get(node.args["to"].this)
    if isinstance(node, exp.CurrentDate):
        return "date"
    if isinstance(node, exp.Literal) and not node.is_string and node.this.isdigit():
        return "int4" if int(node.this) <= 2147483647 else None
    if isinstance(node, exp.Neg):
        return _declared(node.this, kinds)
    if isinstance(node, exp.Column):
        return _DUCK_DECLARED.get(kinds.get(node.name.lower(), ""))
    if isinstance(node, (exp.Placeholder, exp.Parameter)):
        from chaosql.server.parameters import index

        return _DUCK_DECLARED.get(kinds.get(f"${index(node)}", ""))
    return None


def _position(node: exp.Expr, outer: list[exp.Expr]) -> int | None:
    """The result column an ORDER BY item names by position (``2``) or by name."""
    if isinstance(node, exp.Literal) and not node.is_string and node.this.isdigit():
        return int(node.this) - 1
    if isinstance(node, exp.Column) and not node.table:
        names = [p.alias_or_name for p in outer]
        return names.index(node.name) if names.count(node.name) == 1 else None
    return None


def outer_projections(tree: exp.Expr) -> list[exp.Expr]:
    """The statement's own result columns (not a subquery's, nor a set operation's), when every
    one is an expression of its own (no ``*``): where a rewrite may change what a column is sent as."""
    if not isinstance(tree, exp.Select) or any(
        isinstance(p, exp.Star) or (isinstance(p, exp.Column) and isinstance(p.this, exp.Star))
        for p in tree.expressions
    ):
        return []
    return list(tree.expressions)


def sent_as(tree: exp.Expr, types: list[str | None]) -> list[str | None]:
    """``types`` (result_types') with the PostgreSQL types rewrites gave result columns (``pg_type``)."""
    marked = [p.meta.get("pg_type") for p in outer_projections(tree)]
    if not any(marked):
        return types
    out = list(types) + [None] * (len(marked) - len(types))
    return [m or t for m, t in zip(marked + [None] * (len(out) - len(marked)), out)]
