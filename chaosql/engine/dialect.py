"""Where sqlglot reads DuckDB SQL differently from DuckDB, put the tree back to DuckDB's meaning.

Each rule takes the parsed statement and returns it (changed in place where needed); the
session applies them right after parsing, so analysis, pushdown and the SQL handed back to
DuckDB all see what DuckDB itself would have run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlglot import exp


def json_arrows(tree: exp.Expression) -> exp.Expression:
    """``f(spec -> '$.path')``: inside a function's arguments sqlglot reads ``name -> expr`` as
    a lambda; DuckDB (2.0: the arrow lambda is gone, lambdas are ``lambda x: ...``) reads a JSON
    extraction. A one-parameter lambda whose body does not use its parameter cannot be a lambda
    anyone meant, so it becomes the JSON arrow again, with DuckDB's precedence.

    >>> import sqlglot
    >>> tree = sqlglot.parse_one("SELECT json_array_length(spec -> '$.a' ->> '$.b')", read="duckdb")
    >>> json_arrows(tree).sql(dialect="duckdb")
    "SELECT JSON_ARRAY_LENGTH((spec -> '$.a') ->> '$.b')"
    >>> json_arrows(sqlglot.parse_one("SELECT list_transform(l, x -> x + 1)", read="duckdb")).sql(dialect="duckdb")
    'SELECT LIST_TRANSFORM(l, LAMBDA x : x + 1)'
    """
    import sqlglot
    from sqlglot import exp

    for node in list(tree.find_all(exp.Lambda)):
        params = node.expressions
        if len(params) != 1 or not isinstance(params[0], exp.Identifier):
            continue
        name = params[0].name.lower()
        body = node.this
        uses = any(
            isinstance(ident, exp.Identifier) and ident.name.lower() == name and not isinstance(ident.parent, exp.Table)
            for ident in body.find_all(exp.Identifier)
        )
        if uses:
            continue
        text = f"{params[0].sql(dialect='duckdb')} -> {body.sql(dialect='duckdb')}"
        node.replace(sqlglot.parse_one(text, read="duckdb"))
    return tree


def summarize_table(tree: exp.Expression) -> exp.Expression:
    """``SUMMARIZE experiments`` as ``SUMMARIZE SELECT * FROM experiments``: the table reference is
    replaced by a relation with an alias, which DuckDB's SUMMARIZE takes only inside a query.

    >>> import sqlglot
    >>> summarize_table(sqlglot.parse_one("SUMMARIZE experiments", read="duckdb")).sql(dialect="duckdb")
    'SUMMARIZE SELECT * FROM experiments'
    """
    from sqlglot import exp

    if isinstance(tree, exp.Summarize) and isinstance(tree.this, exp.Table):
        tree.set("this", exp.select("*").from_(tree.this.copy()))
    return tree


RULES = (json_arrows, summarize_table)


def as_duckdb(tree: exp.Expression) -> exp.Expression:
    """Apply every rule."""
    for rule in RULES:
        tree = rule(tree)
    return tree
