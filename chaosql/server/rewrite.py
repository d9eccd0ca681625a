"""Turn a client's PostgreSQL statement into what DuckDB runs: the one place every statement that
reaches DuckDB over the wire goes through (simple or extended protocol, PREPARE, cursors, COPY).

Three steps: a small text pass for syntax sqlglot cannot parse (``OPERATOR(pg_catalog.~)``,
``COLLATE pg_catalog.default``, ``::oid[]``); parsing as PostgreSQL (``engine.dialect``); then
transforms on sqlglot's AST: catalog tables to ``pgc``, ``public.experiments`` to the virtual
table, catalog functions to our macros, ``::regclass``/``::regtype`` casts to lookups (here), and
PostgreSQL's semantics where DuckDB's differ (``semantics``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlglot import exp

from chaosql.server.catalog import CATALOG_TABLES, FUNCTIONS, INFO_TABLES
from chaosql.server.types import param_duck_type, pg_array

_TEXT_FIXES = [
    (re.compile(r"OPERATOR\s*\(\s*(?:pg_catalog\s*\.\s*)?([~!<>=*+\-/|&^#@%]+)\s*\)", re.I), r" \1 "),
    (re.compile(r"\s+COLLATE\s+(?:pg_catalog\s*\.\s*)?(?:\"default\"|default|\"C\"|\"POSIX\"|C\b)", re.I), ""),
    (re.compile(r"::\s*\"?pg_catalog\"?\s*\.\s*", re.I), "::"),
    (re.compile(r"::\s*\"(?!char\")([a-z_][a-z0-9_]*)\"", re.I), r"::\1"),  # ::"text" (asyncpg)
    (re.compile(r"::\s*(?:oid|regclass|regtype|regproc|xid)\s*\[\s*\]", re.I), "::BIGINT[]"),
    (re.compile(r"::\s*(?:int2|smallint)\s*\[\s*\]", re.I), "::SMALLINT[]"),
    (re.compile(r"::\s*(?:name|\"char\"|char)\s*\[\s*\]", re.I), "::VARCHAR[]"),
    (re.compile(r"::\s*int2vector\b", re.I), "::SMALLINT[]"),
    (re.compile(r"::\s*oidvector\b", re.I), "::BIGINT[]"),
]
_TEXT_NEEDED = re.compile(r"OPERATOR|COLLATE|::", re.I)

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
    "every": "bool_and",  # the SQL standard's name; DuckDB knows only bool_and
}
_STATEMENTS: tuple[type[exp.Expr], ...] = ()
_OID_CASTS = {"OID", "XID", "REGPROCEDURE", "REGOPER", "REGROLE", "REGCONFIG"}
_NAME_CASTS = {"NAME", '"CHAR"', "REGPROC", "CHAR", "PG_NODE_TREE", "ACLITEM"}


@dataclass
class Translation:
    """A client statement as DuckDB runs it."""

    sql: str  # DuckDB SQL (also what Describe binds)
    tree: Any = None  # the translated sqlglot tree; None when sqlglot cannot parse the statement
    catalog: bool = False  # reads the pgc catalog
    params: int = 0  # highest $n
    types: list[str | None] = field(default_factory=list)  # PostgreSQL types DuckDB cannot tell apart
    param_casts: dict[int, int] = field(default_factory=dict)  # $n -> oid of the type it is cast to


def fix_text(sql: str) -> str:
    """The text pass: PostgreSQL syntax sqlglot cannot parse, spelled so it can."""
    if not _TEXT_NEEDED.search(sql):
        return sql
    for pattern, repl in _TEXT_FIXES:
        sql = pattern.sub(repl, sql)
    return sql


def parse(sql: str) -> Any:
    """One PostgreSQL statement as a sqlglot tree, or None (several, or not parsable by sqlglot)."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError, TokenError

    from chaosql.engine.dialect import Postgres

    try:
        trees = [t for t in sqlglot.parse(sql, read=Postgres) if t is not None]
    except (ParseError, TokenError, RecursionError):
        return None
    if len(trees) != 1 or isinstance(trees[0], exp.Command):
        return None
    return trees[0]


def _statement_kinds() -> tuple[type[exp.Expr], ...]:
    from sqlglot import exp

    return (exp.Query, exp.DML, exp.DDL, exp.Set, exp.Show, exp.Describe, exp.Values, exp.Pragma)


def translate(
    sql: str,
    virtual: Iterable[str],
    *,
    columns_of: Callable[[str], dict[str, str] | None] = lambda name: None,
    param_types: dict[int, str] | None = None,
) -> Translation:
    """``sql`` (PostgreSQL) as DuckDB must run it to give PostgreSQL's answer.

    ``columns_of(table)``: the chaos table's column types; ``param_types``: ``$n`` -> DuckDB type
    for the parameters the client typed.
    """
    from chaosql.server import parameters, result_types, semantics

    global _STATEMENTS
    _STATEMENTS = _STATEMENTS or _statement_kinds()
    text = fix_text(sql)
    tree = parse(text)
    if tree is None or not isinstance(tree, _STATEMENTS):  # DuckDB's own (INSTALL, ATTACH ...): as sent
        return Translation(text, catalog="pgc." in text.lower())
    from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

    tree = normalize_identifiers(tree, dialect="postgres")  # PostgreSQL folds unquoted names to lower case
    semantics.name_columns(tree)
    types = result_types.output_types(tree)
    param_casts = {**parameters.tree_casts(tree), **parameters.spelled_casts(sql)}
    transform(tree, {v.lower() for v in virtual})
    catalog = semantics.functions(tree)
    kinds = semantics.column_kinds(tree, columns_of)
    # $1::numeric keeps the value's scale: the bound value's type, else (describing, or a client
    # that sent no types) what the cast says the parameter is, so Describe and Execute agree
    described = {n: param_duck_type(oid, describing=True) for n, oid in param_casts.items()}
    kinds.update({f"${n}": duck for n, duck in {**described, **(param_types or {})}.items() if duck})
    semantics.expressions(tree, kinds)
    parameters.cast_typed(tree, param_types or {})
    out = tree.sql(dialect="duckdb")
    types = semantics.sent_as(tree, types)
    return Translation(out, tree, catalog or "pgc." in out.lower(), parameters.count(tree), types, param_casts)


def transform(tree, virtual: set[str]):
    from sqlglot import exp

    from chaosql.server.semantics import is_bare_user

    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    for table in list(tree.find_all(exp.Table)):
        _table(table, virtual, ctes)
    for column in list(tree.find_all(exp.Column)):
        if is_bare_user(column):
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
    for quantified in list(tree.find_all(exp.Any, exp.All, exp.Anonymous)):
        if isinstance(quantified, exp.Anonymous):
            if quantified.name.lower() != "all" or len(quantified.expressions) != 1:
                continue
            inner = quantified.expressions[0]
        else:
            inner = quantified.this.unnest() if isinstance(quantified.this, exp.Paren) else quantified.this
        if isinstance(inner, exp.Literal) and inner.is_string and inner.this.lstrip().startswith("{"):
            # x = ANY('{r,p,""}'): PostgreSQL reads the untyped literal as an array of x's type
            inner.replace(_array_literal(inner.this))
    for func in list(tree.find_all(exp.Func)):
        _function(func)
    for cast in reversed(list(tree.find_all(exp.Cast))):  # inner casts first: an outer one may copy them
        _cast(cast)
    return tree


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
    if db == "public" and not table.catalog:  # PostgreSQL's public schema is DuckDB's main
        table.set("db", None)
        return
    if name in virtual and db == "main" and not table.catalog:
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
            func.meta["pg_name"] = name  # semantics.json_objects writes PostgreSQL's JSON text
        elif name in FUNCTIONS:
            func.set("this", "pgc.main." + name)
        return
    if kind in ("JustifyHours", "JustifyDays", "JustifyInterval"):  # the catalog's (DuckDB has none)
        func.replace(exp.Anonymous(this="pgc.main." + func.sql_name().lower(), expressions=[func.this]))
        return
    pg_name = _TYPED_FUNCS.get(kind)
    if pg_name:
        args = [func.this] if pg_name == "current_schemas" and func.this is not None else []
        func.replace(exp.Anonymous(this="pgc.main." + pg_name, expressions=args))


def _array_literal(text: str) -> Any:
    """PostgreSQL's array literal ``'{a,b}'`` as a DuckDB list of strings."""
    from sqlglot import exp

    return exp.Array(expressions=[exp.null() if v is None else exp.Literal.string(v) for v in pg_array(text)])


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
        cast.set("this", _array_literal(inner.this))
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
        if literal_like and as_text:  # 'experiments'::regclass::text is the name again
            lookup = exp.Anonymous(this="pgc.main." + to_oid, expressions=[inner])
            cast.replace(exp.Anonymous(this="pgc.main." + to_name, expressions=[lookup]))
        elif literal_like:
            cast.replace(exp.Anonymous(this="pgc.main." + to_oid, expressions=[inner]))
        elif as_text or isinstance(cast.parent, (exp.Select, exp.Alias)):
            cast.replace(exp.Anonymous(this="pgc.main." + to_name, expressions=[inner]))
        else:
            cast.replace(exp.cast(inner, "BIGINT"))
    elif target in _OID_CASTS:
        cast.set("to", exp.DataType.build("BIGINT"))
    elif target == "CHAR" and not to.expressions:  # char without a length is char(1) (server/semantics/text.py)
        cast.set("to", exp.DataType.build("CHAR(1)"))
    elif target in _NAME_CASTS:
        cast.set("to", exp.DataType.build("VARCHAR"))
