"""Rewrite PostgreSQL client SQL so DuckDB can run it against the ``pgc`` catalog.

Two steps: a small text pass for syntax sqlglot cannot parse (``OPERATOR(pg_catalog.~)``,
``COLLATE pg_catalog.default``, ``::oid[]``), then transforms on sqlglot's AST: catalog tables to
``pgc``, ``public.experiments`` to the virtual table, catalog functions to our macros,
``::regclass``/``::regtype`` casts to lookups. SQL that needs none of this is passed on unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from chaosql.server.catalog import CATALOG_TABLES, FUNCTIONS, INFO_TABLES

_TEXT_FIXES = [
    (re.compile(r"OPERATOR\s*\(\s*(?:pg_catalog\s*\.\s*)?([~!<>=*+\-/|&^#@%]+)\s*\)", re.I), r" \1 "),
    (re.compile(r"\s+COLLATE\s+(?:pg_catalog\s*\.\s*)?(?:\"default\"|default|\"C\"|\"POSIX\"|C\b)", re.I), ""),
    (re.compile(r"::\s*pg_catalog\s*\.\s*", re.I), "::"),
    (re.compile(r"::\s*(?:oid|regclass|regtype|regproc|xid)\s*\[\s*\]", re.I), "::BIGINT[]"),
    (re.compile(r"::\s*(?:int2|smallint)\s*\[\s*\]", re.I), "::SMALLINT[]"),
    (re.compile(r"::\s*(?:name|\"char\"|char)\s*\[\s*\]", re.I), "::VARCHAR[]"),
    (re.compile(r"::\s*int2vector\b", re.I), "::SMALLINT[]"),
    (re.compile(r"::\s*oidvector\b", re.I), "::BIGINT[]"),
]
_NEEDS = re.compile(
    r"pg_|information_schema|regclass|regtype|regnamespace|regproc|::\s*oid|::\s*name|\bpublic\"?\s*\.|"
    r"\bversion\s*\(|current_(schema|database|user|setting|catalog)|session_user|quote_ident|"
    r"\bformat_type|_description|has_\w+_privilege|array_(upper|lower)|set_config|parse_ident|"
    r"to_reg|\"char\"|COLLATE|OPERATOR|json_build_object|'\{[^']*'\s*::",
    re.I,
)

_TYPED_FUNCS = {
    "CurrentVersion": "version",
    "CurrentSchema": "current_schema",
    "CurrentSchemas": "current_schemas",
    "CurrentDatabase": "current_database",
    "CurrentUser": "current_user",
    "SessionUser": "session_user",
    "CurrentCatalog": "current_catalog",
}
_RENAMED = {
    "json_build_object": "system.main.json_object",
    "jsonb_build_object": "system.main.json_object",
    "jsonb_agg": "json_group_array",
    "json_agg": "json_group_array",
}
_OID_CASTS = {"OID", "XID", "REGPROCEDURE", "REGOPER", "REGROLE", "REGCONFIG"}
_NAME_CASTS = {"NAME", '"CHAR"', "REGPROC", "CHAR", "PG_NODE_TREE", "ACLITEM"}


@dataclass
class Rewritten:
    sql: str
    changed: bool


def rewrite(sql: str, virtual: Iterable[str]) -> Rewritten:
    """SQL for DuckDB: unchanged when it needs nothing, else rewritten (or unchanged when sqlglot fails)."""
    if not _NEEDS.search(sql):
        return Rewritten(sql, False)
    import sqlglot
    from sqlglot.errors import ParseError, TokenError

    text = sql
    for pattern, repl in _TEXT_FIXES:
        text = pattern.sub(repl, text)
    try:
        trees = sqlglot.parse(text, read="postgres")
    except (ParseError, TokenError):
        return Rewritten(text, text != sql)
    if len(trees) != 1 or trees[0] is None:
        return Rewritten(text, text != sql)
    tree = transform(trees[0], {v.lower() for v in virtual})
    return Rewritten(tree.sql(dialect="duckdb"), True)


def transform(tree, virtual: set[str]):
    from sqlglot import exp

    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    for table in list(tree.find_all(exp.Table)):
        _table(table, virtual, ctes)
    for column in list(tree.find_all(exp.Column)):
        ident = column.this
        if (
            column.name.lower() in ("user", "current_role")
            and not column.table
            and isinstance(ident, exp.Identifier)
            and not ident.quoted
        ):
            column.replace(exp.Anonymous(this="pgc.main.current_user", expressions=[]))  # PostgreSQL's bare `user`
            continue
        db = column.args.get("db")
        if db is not None and db.name.lower() in ("pg_catalog", "information_schema", "public"):
            column.set("db", None)
            column.set("catalog", None)
    for dot in list(tree.find_all(exp.Dot)):
        if (
            isinstance(dot.this, exp.Identifier)
            and dot.this.name.lower() in ("pg_catalog",)
            and isinstance(dot.expression, exp.Func)
        ):
            dot.replace(dot.expression)
        elif (
            isinstance(dot.this, exp.Identifier)
            and dot.this.name.lower() == "information_schema"
            and isinstance(dot.expression, exp.Anonymous)
            and dot.expression.name.lower() == "_pg_expandarray"
        ):
            dot.replace(exp.Anonymous(this="pgc.info._pg_expandarray", expressions=dot.expression.expressions))
    for func in list(tree.find_all(exp.Func)):
        _function(func)
    for div in list(tree.find_all(exp.Div)):
        if _integral(div.this) and _integral(div.expression):  # PostgreSQL's int / int truncates; DuckDB's doesn't
            div.replace(exp.IntDiv(this=div.this, expression=div.expression))
    for cast in list(tree.find_all(exp.Cast)):
        _cast(cast)
    return tree


def _integral(node) -> bool:
    from sqlglot import exp

    if isinstance(node, exp.Literal):
        return not node.is_string and node.this.lstrip("-").isdigit()
    if isinstance(node, exp.Cast):
        return node.args["to"].this in (exp.DataType.Type.INT, exp.DataType.Type.BIGINT, exp.DataType.Type.SMALLINT)
    return False


_SCALAR_IN_FROM = {"string_to_array", "regexp_split_to_array", "current_schemas"}


def _table(table, virtual: set[str], ctes: set[str]) -> None:
    from sqlglot import exp

    func = table.this
    if isinstance(func, exp.Func) and (
        isinstance(func, exp.StringToArray)
        or (isinstance(func, exp.Anonymous) and func.name.lower() in _SCALAR_IN_FROM)
    ):
        # PostgreSQL lets a scalar function be a one-row FROM item: string_to_array(...) s
        alias = table.alias or "s"
        select = exp.select(exp.alias_(func.copy(), alias)).subquery(alias)
        table.replace(select)
        return
    if not isinstance(table.this, exp.Identifier):
        if (table.db or "").lower() == "pg_catalog":  # pg_catalog.generate_series(...) and friends
            table.set("db", None)
        return
    name, db = table.name.lower(), (table.db or "").lower()
    if (
        table.catalog
        and table.catalog.lower() != "pgc"
        and db in ("public", "main", "pg_catalog", "information_schema")
    ):
        table.set("catalog", None)  # <database>.public.experiments: every database name is this one
    if name in virtual and db in ("public", "main") and not table.catalog:
        table.set("db", None)
        return
    if table.catalog:
        return
    if db == "pg_catalog" or (not db and name in CATALOG_TABLES and name not in ctes):
        if name in CATALOG_TABLES:
            _qualify(table, "main")
        elif db == "pg_catalog":
            table.set("db", None)  # DuckDB's own (pg_proc etc. not emulated)
    elif db == "information_schema" and name in INFO_TABLES:
        _qualify(table, "info")


def _qualify(table, schema: str) -> None:
    from sqlglot import exp

    if not table.alias:
        # keep the bare name as the alias, so pg_class.relname and pg_catalog.pg_class.relname still resolve
        table.set("alias", exp.TableAlias(this=exp.to_identifier(table.name)))
    table.set("db", exp.to_identifier(schema))
    table.set("catalog", exp.to_identifier("pgc"))


def _function(func) -> None:
    from sqlglot import exp

    kind = type(func).__name__
    if isinstance(func, exp.Anonymous):
        name = func.name.lower()
        if name in _RENAMED:
            func.set("this", _RENAMED[name])
        elif name in FUNCTIONS:
            func.set("this", "pgc.main." + name)
        return
    name = _TYPED_FUNCS.get(kind)
    if name:
        args = [func.this] if name == "current_schemas" and func.this is not None else []
        func.replace(exp.Anonymous(this="pgc.main." + name, expressions=args))


def _cast(cast) -> None:
    from sqlglot import exp

    to = cast.args.get("to")
    if to is None:
        return
    spelled = to.sql(dialect="postgres").upper()
    target = spelled.removeprefix("PG_CATALOG.")
    if spelled != target:  # CAST(x AS pg_catalog.text): DuckDB knows the type only unqualified
        try:
            cast.set("to", exp.DataType.build(target.lower(), dialect="postgres"))
        except Exception:
            pass
    inner = cast.this
    if target.endswith("[]") and isinstance(inner, exp.Literal) and inner.is_string and inner.this.startswith("{"):
        # PostgreSQL's array literal '{a,b}' -> a DuckDB list
        items = [exp.null() if v is None else exp.Literal.string(v) for v in _pg_array(inner.this)]
        cast.set("this", exp.Array(expressions=items))
        return
    literal_like = isinstance(inner, (exp.Literal, exp.Placeholder, exp.Parameter)) or (
        isinstance(inner, exp.Cast) and inner.args["to"].sql(dialect="postgres").upper() in ("TEXT", "VARCHAR")
    )
    as_text = isinstance(cast.parent, exp.Cast) and cast.parent.args["to"].sql(dialect="postgres").upper() in (
        "TEXT",
        "VARCHAR",
    )
    lookups = {
        "REGCLASS": ("to_regclass", "regclass_name"),
        "REGTYPE": ("to_regtype", "regtype_name"),
        "REGNAMESPACE": ("to_regnamespace", "regnamespace_name"),
    }
    if target in lookups:
        to_oid, to_name = lookups[target]
        if literal_like:
            cast.replace(exp.Anonymous(this="pgc.main." + to_oid, expressions=[inner]))
        elif as_text or isinstance(cast.parent, (exp.Select, exp.Alias)):
            cast.replace(exp.Anonymous(this="pgc.main." + to_name, expressions=[inner]))
        else:
            cast.replace(exp.cast(inner, "BIGINT"))
    elif target in _OID_CASTS:
        cast.set("to", exp.DataType.build("BIGINT"))
    elif target in _NAME_CASTS:
        cast.set("to", exp.DataType.build("VARCHAR"))


def _pg_array(text: str) -> list[str | None]:
    """Items of a one-dimensional PostgreSQL array literal: ``{a,"b c",NULL}``."""
    body = text.strip()[1:-1]
    items: list[str | None] = []
    current, quoted, was_quoted, i = "", False, False, 0
    while i < len(body):
        c = body[i]
        if quoted:
            if c == "\\" and i + 1 < len(body):
                current += body[i + 1]
                i += 1
            elif c == '"':
                quoted = False
            else:
                current += c
        elif c == '"':
            quoted = was_quoted = True
        elif c == ",":
            items.append(
                None
                if not was_quoted and current.strip().upper() == "NULL"
                else current.strip()
                if not was_quoted
                else current
            )
            current, was_quoted = "", False
        else:
            current += c
        i += 1
    if body.strip() or was_quoted:
        items.append(
            None
            if not was_quoted and current.strip().upper() == "NULL"
            else current.strip()
            if not was_quoted
            else current
        )
    return items
