"""PostgreSQL's parameter types: what ``$n`` is, as PostgreSQL would describe it in
ParameterDescription, for the parameters the client sent no type for (oid 0, or none at all).

PostgreSQL types a parameter from where it stands: ``$1::text[]`` is text[]; ``kind = $1`` is
the column's type; one side of an operator takes the other side's type (``$1 * 2`` is int4,
``$1 || name`` text); ``x = ANY($1)`` is an array of x's type; anything left is text. DuckDB
types the comparisons itself when it binds the statement; this module adds what it leaves
unknown: an explicit cast's type (read from the client's text, so ``oid[]`` stays oid[]), and a
*probe*, a copy of the statement in which each operator around an unknown parameter is replaced
by a form DuckDB can type (``coalesce(other, $n)``, ``list_contains($n, x)``).
The probe is only bound, never run.
"""

from __future__ import annotations

import re
from typing import Any

from sqlglot import exp

from chaosql.server.types import type_oid

_SPELLED_CAST = re.compile(
    r"\$(\d+)\s*::\s*(?:\"?pg_catalog\"?\s*\.\s*)?"
    r"(\"char\"|\"?[a-z_][a-z0-9_]*\"?(?:\s+(?:precision|varying|with(?:out)?\s+time\s+zone))?)"
    r"(\s*\(\s*\d+(?:\s*,\s*\d+)?\s*\))?(\s*\[\s*\])?",
    re.I,
)
_OPERATORS = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.IntDiv, exp.Mod, exp.Pow, exp.DPipe)
_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)


def index(node: exp.Expr) -> int | None:
    """n of a ``$n`` node, else None."""
    if isinstance(node, (exp.Parameter, exp.Placeholder)):
        m = re.fullmatch(r"\$(\d+)", node.sql(dialect="postgres"))
        return int(m.group(1)) if m else None
    return None


def count(tree: exp.Expr) -> int:
    """The highest ``$n`` the statement uses."""
    found = [index(p) for p in tree.find_all(exp.Placeholder, exp.Parameter)]
    return max([n for n in found if n is not None], default=0)


def spelled_casts(sql: str) -> dict[int, int]:
    """``$n::type`` as the client wrote it -> the type's oid (before any rewrite renames the type).

    >>> spelled_casts("select $1::oid[], $2::pg_catalog.text, $3::varchar(10), $4::no_such")
    {1: 1028, 2: 25, 3: 1043}
    """
    out: dict[int, int] = {}
    for m in _SPELLED_CAST.finditer(sql):
        oid = type_oid(m.group(2).replace('"', "") if m.group(2) != '"char"' else "char", array=bool(m.group(4)))
        if oid:
            out.setdefault(int(m.group(1)), oid)
    return out


def tree_casts(tree: exp.Expr) -> dict[int, int]:
    """``CAST($n AS type)`` in the statement: PostgreSQL takes the parameter to be of that type."""
    out: dict[int, int] = {}
    for param in tree.find_all(exp.Placeholder, exp.Parameter):
        n, cast = index(param), param.parent
        if n is not None and isinstance(cast, exp.Cast) and cast.args.get("to") is not None:
            oid = type_oid(cast.args["to"].sql(dialect="postgres"))
            if oid:
                out.setdefault(n, oid)
    return out


def cast_typed(tree: exp.Expr, duck_types: dict[int, str]) -> None:
    """``$n`` -> ``CAST($n AS type)`` for the parameters whose type is known, so DuckDB computes
    with the type the client was told (and encodes the result as described)."""
    if not duck_types:
        return
    for param in list(tree.find_all(exp.Placeholder, exp.Parameter)):
        n = index(param)
        if n is None or n not in duck_types or isinstance(param.parent, exp.Cast):
            continue
        param.replace(exp.cast(param.copy(), exp.DataType.build(duck_types[n])))


def probe(tree: exp.Expr, unknown: set[int]) -> exp.Expr | None:
    """A copy of the (translated) statement in which DuckDB can type the ``unknown`` parameters
    from their operator's other side, or None when nothing would change.

    >>> import sqlglot
    >>> tree = sqlglot.parse_one("SELECT $1 * 2 FROM t WHERE kind = ANY($2)", read="postgres")
    >>> probe(tree, {1, 2}).sql("duckdb")
    'SELECT COALESCE(2, $1) FROM t WHERE LIST_CONTAINS($2, kind)'
    """
    copy = tree.copy()
    changed = False
    for param in list(copy.find_all(exp.Placeholder, exp.Parameter)):
        if index(param) not in unknown:
            continue
        node: exp.Expr = param
        while isinstance(node.parent, exp.Paren):
            node = node.parent
        parent = node.parent
        if isinstance(parent, exp.Any) or (isinstance(parent, exp.Anonymous) and parent.name.lower() == "all"):
            comparison = parent.parent
            if isinstance(comparison, _COMPARISONS) and comparison.expression is parent:
                comparison.replace(exp.func("list_contains", param.copy(), comparison.this.copy()))
                changed = True
        elif isinstance(parent, _OPERATORS):
            other = parent.expression if parent.this is node else parent.this
            if index(other.unnest()) is None:
                parent.replace(exp.Coalesce(this=other.copy(), expressions=[param.copy()]))
                changed = True
        elif isinstance(parent, (exp.Alias, exp.Select)):
            # a bare projection is text; typed as such, it no longer keeps DuckDB from typing the rest
            node.replace(exp.cast(param.copy(), "VARCHAR"))
            changed = True
    return copy if changed else None


def unknown_after(names: list[str], known: dict[int, Any]) -> set[int]:
    """Which ``$n`` (1-based) DuckDB left untyped (``names``: its parameter types) and nothing else typed."""
    return {i + 1 for i, t in enumerate(names) if t.upper() in ("UNKNOWN", "NULL") and (i + 1) not in known}
