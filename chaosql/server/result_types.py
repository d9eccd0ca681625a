"""PostgreSQL's types for result columns whose DuckDB type cannot say it: RowDescription's oids.

DuckDB has one string type and no ``name``, ``"char"`` or ``oid``, so the catalog stores them as
VARCHAR and BIGINT; PostgreSQL describes ``pg_class.relname`` as ``name`` (19), ``relkind`` as
``"char"`` (18), ``oid`` as ``oid`` (26), an information_schema column as its domain's base type
(``sql_identifier`` is ``name``), ``current_user`` as ``name``, and an explicit ``::varchar`` as
varchar. JDBC's ``getColumnTypeName``, DBeaver and pgcli show these. This module reads the
statement (before it is rewritten) and says, per output column, the PostgreSQL type to send when
it is one of those; ``None`` leaves it to DuckDB's type. A column is followed through aliases,
subqueries in FROM and ``*``; where a ``*`` cannot be expanded the rest is left to DuckDB.
"""

from __future__ import annotations

from sqlglot import exp

from chaosql.server import pg_schema
from chaosql.server.semantics import is_bare_user

T = exp.DataType.Type

#: A catalog column's declared type -> the type PostgreSQL describes it with (the domains of
#: information_schema by their base type). Types not here are described from DuckDB's type.
_CATALOG_TYPES = {
    "name": "name",
    '"char"': "char",
    "oid": "oid",
    "xid": "xid",
    "int2vector": "int2vector",
    "oidvector": "oidvector",
    "pg_node_tree": "pg_node_tree",
    "name[]": "_name",
    '"char"[]': "_char",
    "oid[]": "_oid",
    "aclitem[]": "_aclitem",
    "information_schema.sql_identifier": "name",
    "information_schema.character_data": "varchar",
    "information_schema.yes_or_no": "varchar",
}
#: Functions whose result is ``name`` in PostgreSQL (as typed sqlglot nodes or by name).
_NAME_FUNCTIONS = (exp.CurrentSchema, exp.CurrentUser, exp.SessionUser, exp.CurrentDatabase, exp.CurrentCatalog)
_NAME_FUNCTION_NAMES = {
    "pg_get_userbyid",
    "pg_encoding_to_char",
    "current_schema",
    "current_user",
    "session_user",
    "current_database",
    "current_catalog",
}
_CATALOG = {
    schema: {name: [(col, _CATALOG_TYPES.get(t)) for col, t in columns] for name, columns in relations.items()}
    for schema, relations in pg_schema.SCHEMAS.items()
}

Columns = list[tuple[str | None, str | None]]  # (output name, PostgreSQL type or None), per column

#: Set-returning functions used as FROM items, by their result columns.
_FUNCTION_COLUMNS: dict[str, Columns] = {
    "pg_get_keywords": [
        ("word", None),
        ("catcode", "char"),
        ("barelabel", None),
        ("catdesc", None),
        ("baredesc", None),
    ],
}


def output_types(tree: exp.Expr) -> list[str | None]:
    """Per output column of ``tree`` (parsed as PostgreSQL), the PostgreSQL type to describe it
    with, or None for DuckDB's own.

    >>> import sqlglot
    >>> sql = "SELECT c.relname, c.relkind::text, c.oid, n.* FROM pg_class c JOIN pg_namespace n ON true"
    >>> output_types(sqlglot.parse_one(sql, read="postgres"))
    ['name', None, 'oid', 'oid', 'name', 'oid', '_aclitem']
    """
    ctes = {cte.alias_or_name.lower(): cte for cte in tree.find_all(exp.CTE)}
    return [t for _, t in _query_columns(tree, ctes) or []]


def _query_columns(query: exp.Expr, ctes: dict[str, exp.CTE]) -> Columns | None:
    while isinstance(query, exp.SetOperation):
        query = query.this
    if isinstance(query, exp.Subquery):
        return _query_columns(query.this, ctes)
    if not isinstance(query, exp.Select):
        return None
    sources = _sources(query, ctes)
    merged = any(join.args.get("using") for join in query.args.get("joins") or [])  # USING merges columns
    out: Columns = []
    for node in query.expressions:
        star: exp.Expr | None = node if isinstance(node, exp.Star) else None
        if isinstance(node, exp.Column) and isinstance(node.this, exp.Star):
            star = node
        if star is not None:
            expanded = None if merged else _expand(star, sources)
            if expanded is None:
                return out  # the rest of the positions are not known: DuckDB's types
            out.extend(expanded)
            continue
        out.append((node.alias_or_name, _expression_type(node, sources, ctes)))
    return out


def _sources(select: exp.Select, ctes: dict[str, exp.CTE]) -> list[tuple[str, Columns | None]]:
    """(alias, columns) of each FROM item in order; columns None when not known."""
    items = []
    from_ = select.args.get("from") or select.args.get("from_")
    if from_ is not None:
        items.append(from_.this)
    joins = select.args.get("joins") or []
    items += [join.this for join in joins]
    out: list[tuple[str, Columns | None]] = []
    for item in items:
        alias = item.alias_or_name.lower()
        if isinstance(item, exp.Subquery):
            out.append((alias, _query_columns(item.this, ctes)))
        elif isinstance(item, exp.Table) and isinstance(item.this, exp.Identifier):
            out.append((alias, _table_columns(item, ctes)))
        elif isinstance(item, exp.Table) and isinstance(item.this, exp.Anonymous):  # a set-returning function
            out.append((alias, _FUNCTION_COLUMNS.get(item.this.name.lower())))
        elif isinstance(item, exp.Unnest) and len(item.expressions) == 1:  # unnest(array): its elements
            element = _element(_expression_type(item.expressions[0], [], ctes))
            columns = [c.name for c in item.args["alias"].columns] if item.args.get("alias") else []
            out.append((alias, [(columns[0] if columns else "unnest", element)]))
        else:
            out.append((alias, None))
    return out


def _table_columns(table: exp.Table, ctes: dict[str, exp.CTE]) -> Columns | None:
    name, db = table.name.lower(), (table.db or "").lower()
    if not db and name in ctes:  # a CTE: its query's columns, under the names its alias list gives
        cte = ctes[name]
        columns = _query_columns(cte.this, {k: v for k, v in ctes.items() if k != name})
        renamed = [c.name for c in (cte.args["alias"].columns if cte.args.get("alias") else [])]
        if columns is None or (renamed and len(renamed) != len(columns)):
            return None
        return [(renamed[i] if renamed else n, t) for i, (n, t) in enumerate(columns)]
    if db in ("", "pg_catalog") and name in _CATALOG["pg_catalog"] and not (not db and name in ctes):
        return [(col, t) for col, t in _CATALOG["pg_catalog"][name]]
    if db == "information_schema" and name in _CATALOG["information_schema"]:
        return [(col, t) for col, t in _CATALOG["information_schema"][name]]
    return None


def _element(array_type: str | None) -> str | None:
    return array_type[1:] if array_type and array_type.startswith("_") else None


def _expand(star: exp.Expr, sources: list[tuple[str, Columns | None]]) -> Columns | None:
    qualifier = star.table.lower() if isinstance(star, exp.Column) else ""
    out: Columns = []
    for alias, columns in sources:
        if qualifier and alias != qualifier:
            continue
        if columns is None:
            return None
        out.extend(columns)
    return out if (out or not qualifier) else None


def _expression_type(node: exp.Expr, sources: list[tuple[str, Columns | None]], ctes: dict[str, exp.CTE]) -> str | None:
    while isinstance(node, (exp.Alias, exp.Paren)) or (
        isinstance(node, exp.Dot) and isinstance(node.expression, exp.Func)
    ):
        node = node.expression if isinstance(node, exp.Dot) else node.this  # pg_catalog.f(): f()
    if isinstance(node, exp.Subquery):  # a scalar subquery: its one column's type
        columns = _query_columns(node.this, ctes)
        return columns[0][1] if columns and len(columns) == 1 else None
    if isinstance(node, (exp.Nullif, exp.Max, exp.Min)):  # the type of their (first) argument
        return _expression_type(node.this, sources, ctes)
    if isinstance(node, (exp.Coalesce, exp.Case)):  # one type among the values, untyped literals aside
        if isinstance(node, exp.Case):
            values = [branch.args.get("true") for branch in node.args.get("ifs") or []] + [node.args.get("default")]
        else:
            values = [node.this, *node.expressions]
        kinds = {
            _expression_type(v, sources, ctes)
            for v in values
            if v is not None and not isinstance(v, (exp.Literal, exp.Null))
        }
        return kinds.pop() if len(kinds) == 1 else None
    if isinstance(node, exp.CurrentSchemas):
        return "_name"
    if isinstance(node, exp.Explode):  # unnest(array) in a select list: the array's element type
        return _element(_expression_type(node.this, sources, ctes))
    if isinstance(node, exp.Array) and len(node.expressions) == 1 and isinstance(node.expressions[0], exp.Query):
        columns = _query_columns(node.expressions[0], ctes)  # ARRAY(SELECT name ...) is name[]
        element = columns[0][1] if columns and len(columns) == 1 else None
        return "_" + element if element in ("oid", "name", "char") else None
    if isinstance(node, exp.ArrayAgg):  # array_agg(oid) is oid[]
        inner = node.this.this if isinstance(node.this, exp.Order) else node.this  # array_agg(x ORDER BY y)
        element = _expression_type(inner, sources, ctes)
        return "_" + element if element in ("oid", "name", "char") else None
    if isinstance(node, exp.Cast):
        to = node.args.get("to")
        if to is not None and to.this in (T.VARCHAR, T.NVARCHAR):
            return "varchar"  # DuckDB has one string type, sent as text; ::varchar says varchar
        if to is not None and to.this == T.JSONB:
            return "jsonb"
        return None
    if isinstance(node, exp.JSONExtract) and _expression_type(node.this, sources, ctes) == "jsonb":
        return "jsonb"  # jsonb -> 'k' is jsonb
    if (
        isinstance(node, _NAME_FUNCTIONS)
        or (isinstance(node, exp.Anonymous) and node.name.lower() in _NAME_FUNCTION_NAMES)
        or (isinstance(node, exp.Column) and is_bare_user(node))
    ):
        return "name"
    if isinstance(node, exp.Column) and isinstance(node.this, exp.Identifier):
        name, qualifier = node.name.lower(), node.table.lower()
        if not qualifier and any(columns is None for _, columns in sources):
            return None  # it may be a column of the source whose columns are not known
        found = [
            t
            for alias, columns in sources
            if columns is not None and (not qualifier or alias == qualifier)
            for col, t in columns
            if col == name
        ]
        return found[0] if len(found) == 1 else None
    return None
