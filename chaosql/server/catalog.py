"""pg_catalog and information_schema for PostgreSQL clients, built from chaosql's table registry.

DuckDB's own pg_catalog cannot be extended (and lacks most of what psql, JDBC and BI tools ask
for), so the catalog lives in an attached in-memory database ``pgc``: every relation in
``pg_schema.SCHEMAS`` with PostgreSQL's exact column names, rows generated from the virtual tables
(schema ``public``; information_schema is ``pgc.info``), and macros for the functions clients call. ``rewrite`` points queries at it.
"""

from __future__ import annotations

import re
from typing import Any

from chaosql.server import pg_schema
from chaosql.server.chatter import VERSION_TEXT
from chaosql.server.types import PG_TYPES, TYPE_ALIASES, pg_type

NAMESPACES = {"pg_catalog": 11, "public": 2200, "information_schema": 13000, "pg_toast": 99}
FIRST_TABLE_OID = 16384
DATABASE_OID = 16383
OWNER_OID = 10
DATABASE_OWNER_OID = 6171  # the pg_database_owner role

#: Well-known oids of catalog relations (``'pg_class'::regclass`` and friends).
CATALOG_OIDS = {
    "pg_type": 1247,
    "pg_attribute": 1249,
    "pg_proc": 1255,
    "pg_class": 1259,
    "pg_database": 1262,
    "pg_namespace": 2615,
    "pg_constraint": 2606,
    "pg_description": 2609,
    "pg_index": 2610,
    "pg_attrdef": 2604,
    "pg_am": 2601,
    "pg_inherits": 2611,
    "pg_trigger": 2620,
    "pg_rewrite": 2618,
    "pg_collation": 3456,
    "pg_extension": 3079,
    "pg_enum": 3501,
    "pg_authid": 1260,
}

#: Type names as SQL spells them (information_schema.columns.data_type, format_type).
SQL_NAMES = {
    "bool": "boolean",
    "int2": "smallint",
    "int4": "integer",
    "int8": "bigint",
    "float4": "real",
    "float8": "double precision",
    "varchar": "character varying",
    "bpchar": "character",
    "timestamptz": "timestamp with time zone",
    "timestamp": "timestamp without time zone",
    "time": "time without time zone",
    "char": '"char"',
}
SQL_NAMES.update({name: SQL_NAMES.get(name[1:], name[1:]) + "[]" for name in PG_TYPES if name.startswith("_")})

CATALOG_TABLES = set(pg_schema.SCHEMAS["pg_catalog"])
INFO_TABLES = set(pg_schema.SCHEMAS["information_schema"])


#: DuckDB's names of the types a value can have (``typeof``), for ``pg_typeof``.
_DUCK_SCALARS = (
    "VARCHAR", "INTEGER", "BIGINT", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT", "UINTEGER", "USMALLINT",
    "UTINYINT", "DOUBLE", "FLOAT", "BOOLEAN", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP", "DATE", "TIME",
    "INTERVAL", "UUID", "BLOB", "JSON",
)  # fmt: skip


def _typeof_names() -> str:
    """A CASE on DuckDB's ``typeof(x)`` giving PostgreSQL's ``pg_typeof(x)`` as text (``integer``,
    ``text``, ``numeric`` for any DECIMAL, ``jsonb`` for maps and structs)."""
    cases = " ".join(
        f"WHEN {_literal(d)} THEN {_literal(SQL_NAMES.get(pg_type(d), pg_type(d)))}" for d in _DUCK_SCALARS
    )
    return (
        "CASE WHEN t LIKE 'DECIMAL(%' THEN 'numeric' WHEN t LIKE 'MAP(%' OR t LIKE 'STRUCT(%' THEN 'jsonb' "
        f"""WHEN t = '"NULL"' THEN 'unknown' ELSE CASE t {cases} ELSE lower(t) END END"""
    )


def duck_type(pg: str) -> str:
    """A catalog column's PostgreSQL type -> the DuckDB type that stores it."""
    t = pg.removeprefix("information_schema.")
    if t.endswith("[]"):
        return duck_type(t[:-2]) + "[]"
    return {
        "oid": "BIGINT",
        "xid": "BIGINT",
        "xid8": "BIGINT",
        "cid": "BIGINT",
        "regclass": "BIGINT",
        "regtype": "BIGINT",
        "regnamespace": "BIGINT",
        "regrole": "BIGINT",
        "smallint": "SMALLINT",
        "integer": "INTEGER",
        "bigint": "BIGINT",
        "real": "FLOAT",
        "double precision": "DOUBLE",
        "boolean": "BOOLEAN",
        "timestamp with time zone": "TIMESTAMPTZ",
        "time_stamp": "TIMESTAMPTZ",
        "cardinal_number": "INTEGER",
        "bytea": "BLOB",
        "int2vector": "SMALLINT[]",
        "oidvector": "BIGINT[]",
        "interval": "INTERVAL",
    }.get(t, "VARCHAR")


def _default(duck: str) -> Any:
    if duck in ("BIGINT", "INTEGER", "SMALLINT", "FLOAT", "DOUBLE"):
        return 0
    if duck == "BOOLEAN":
        return False
    return None


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    return "'" + str(value).replace("'", "''") + "'"


class CatalogRows:
    """The rows of every populated catalog relation, computed once per server from the registry."""

    def __init__(self, tables: dict[str, Any]) -> None:
        self.tables = tables
        # PostgreSQL takes five oids per table (the table, its row and array types, its TOAST table
        # and index): spaced the same, a table has the oid PostgreSQL gives it when the chaos
        # tables are created there in this order (so the differential tests can compare oids)
        self.oids = {name: FIRST_TABLE_OID + 5 * i for i, name in enumerate(tables)}
        self.rows: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._build()

    def _add(self, schema: str, name: str, row: dict[str, Any]) -> None:
        self.rows.setdefault((schema, name), []).append(row)

    def _build(self) -> None:
        for nsp, oid in NAMESPACES.items():
            owner = (
                DATABASE_OWNER_OID if nsp == "public" else OWNER_OID
            )  # PostgreSQL 15: public is the database owner's
            self._add("pg_catalog", "pg_namespace", {"oid": oid, "nspname": nsp, "nspowner": owner})
        for oid, name, kind in pg_schema.ACCESS_METHODS:
            self._add("pg_catalog", "pg_am", {"oid": oid, "amname": name, "amhandler": "", "amtype": kind})
        for objoid, catalog, description in pg_schema.DESCRIPTIONS:  # of built-in types and schemas
            classoid = CATALOG_OIDS[catalog]
            self._add(
                "pg_catalog", "pg_description", {"objoid": objoid, "classoid": classoid, "description": description}
            )
        for values in pg_schema.TYPES:
            row = dict(zip(pg_schema.TYPE_COLUMNS, values))
            row.update(typnamespace=11, typowner=OWNER_OID, typnotnull=False, typstorage=row["typstorage"])
            self._add("pg_catalog", "pg_type", row)
        self._add(
            "pg_catalog",
            "pg_collation",
            {
                "oid": 100,
                "collname": "default",
                "collnamespace": 11,
                "collowner": OWNER_OID,
                "collprovider": "d",
                "collisdeterministic": True,
                "collencoding": -1,
            },
        )
        for _i, (name, oid) in enumerate(sorted(CATALOG_OIDS.items())):
            self._add(
                "pg_catalog",
                "pg_class",
                {
                    "oid": oid,
                    "relname": name,
                    "relnamespace": 11,
                    "relowner": OWNER_OID,
                    "relam": 2,
                    "relkind": "r",
                    "relpersistence": "p",
                    "relreplident": "n",
                    "relispopulated": True,
                    "reltuples": -1.0,
                },
            )
        for name, table in self.tables.items():
            columns = [(c.name, c.type, c.doc) for c in table.columns]
            for key, rows in relation_rows(name, self.oids[name], columns, table.doc).items():
                self.rows.setdefault(key, []).extend(rows)
        for nsp in ("public", "pg_catalog", "information_schema"):
            self._add(
                "information_schema",
                "schemata",
                {"catalog_name": "{db}", "schema_name": nsp, "schema_owner": "chaosql"},
            )

    def install(self, con: Any, *, user: str, database: str, settings: dict[str, str], pid: int) -> None:
        """Create the ``pgc`` catalog in one DuckDB connection.

        Tables are created by one script and filled from Arrow: DuckDB binds a long VALUES list
        far more slowly than it copies an Arrow table.
        """
        extra: dict[tuple[str, str], list[dict[str, Any]]] = {
            ("pg_catalog", "pg_database"): [
                {
                    "oid": DATABASE_OID,
                    "datname": database,
                    "datdba": OWNER_OID,
                    "encoding": 6,
                    "datlocprovider": "c",
                    "datallowconn": True,
                    "datconnlimit": -1,
                    "dattablespace": 1663,
                    "datcollate": "C",
                    "datctype": "C",
                }
            ],
            ("pg_catalog", "pg_roles"): [
                {
                    "rolname": user,
                    "oid": OWNER_OID,
                    "rolsuper": False,
                    "rolinherit": True,
                    "rolcanlogin": True,
                    "rolconnlimit": -1,
                }
            ],
            ("pg_catalog", "pg_user"): [{"usename": user, "usesysid": OWNER_OID}],
            ("pg_catalog", "pg_authid"): [{"oid": OWNER_OID, "rolname": user, "rolcanlogin": True, "rolconnlimit": -1}],
            ("pg_catalog", "pg_settings"): [
                {"name": k, "setting": v, "context": "user", "vartype": "string", "source": "default"}
                for k, v in sorted(settings.items())
            ],
        }
        con.execute("ATTACH ':memory:' AS pgc; CREATE SCHEMA pgc.info; " + self.create_script)
        for key in self.columns:
            _insert(con, key, self.rows.get(key, []) + extra.get(key, []), database)
        _install_keywords(con)
        _install_clock(con)
        con.execute(";\n".join(macros(user=user, database=database, settings=settings, pid=pid)))

    @property
    def columns(self) -> dict[tuple[str, str], list[tuple[str, str]]]:
        return _COLUMNS

    @property
    def create_script(self) -> str:
        out = []
        for (schema, name), columns in self.columns.items():
            target = "pgc.main" if schema == "pg_catalog" else "pgc.info"
            out.append(f'CREATE TABLE {target}."{name}" (' + ", ".join(f'"{c}" {d}' for c, d in columns) + ")")
        return ";\n".join(out)


def _fill(value: Any, database: str) -> Any:
    return database if value == "{db}" else value


_COLUMNS = {
    (schema, name): [(col, duck_type(t)) for col, t in columns]
    for schema, relations in pg_schema.SCHEMAS.items()
    for name, columns in relations.items()
}


def _insert(con: Any, key: tuple[str, str], rows: list[dict[str, Any]], database: str) -> None:
    """Append ``rows`` to one catalog relation (copied from Arrow: DuckDB binds a long VALUES list
    far more slowly). A column a row does not give is PostgreSQL's NOT NULL default in pg_catalog
    (0, false) and NULL in information_schema."""
    import pyarrow as pa

    if not rows:
        return
    schema, name = key
    columns = _COLUMNS[key]
    defaults = {c: _default(d) if schema == "pg_catalog" else None for c, d in columns}
    data = pa.table({c: pa.array([_fill(row.get(c, defaults[c]), database) for row in rows]) for c, _ in columns})
    view = f"__pgc_{name}"
    con.register(view, data)
    try:
        target = "pgc.main" if schema == "pg_catalog" else "pgc.info"
        con.execute(f'INSERT INTO {target}."{name}" SELECT * FROM "{view}"')
    finally:
        con.unregister(view)


def _install_clock(con: Any) -> None:
    """clock_timestamp(): the wall clock when it is evaluated (per row, as PostgreSQL's); DuckDB's
    clocks are the transaction's. A function with side effects, so DuckDB never folds it, and not
    one of DuckDB's own, so no answer that calls it is kept (engine/answers.py)."""
    from datetime import UTC, datetime

    con.create_function(
        "pg_clock_timestamp", lambda: datetime.now(UTC), [], "TIMESTAMP WITH TIME ZONE", side_effects=True
    )


def _install_keywords(con: Any) -> None:
    """pg_get_keywords()'s rows: PostgreSQL 15's own keyword list (pg_schema.KEYWORDS)."""
    import pyarrow as pa

    names = ["word", "catcode", "barelabel", "catdesc", "baredesc"]
    keywords: list[tuple[Any, ...]] = list(pg_schema.KEYWORDS)
    data = pa.table({n: pa.array([row[i] for row in keywords]) for i, n in enumerate(names)})
    con.register("__pgc_keywords", data)
    try:
        con.execute("CREATE TABLE pgc.main.__keywords AS SELECT * FROM __pgc_keywords")
    finally:
        con.unregister("__pgc_keywords")


def relation_rows(
    name: str, oid: int, columns: list[tuple[str, str, str | None]], doc: str | None, *, view: str | None = None
) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """The catalog rows of one relation in schema public: a chaos table, or a table or view
    (``view``: its definition) the session created. ``columns``: (name, DuckDB type, comment)."""
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}

    def add(schema: str, relation: str, row: dict[str, Any]) -> None:
        out.setdefault((schema, relation), []).append(row)

    kind = "v" if view is not None else "r"
    add(
        "pg_catalog",
        "pg_class",
        {
            "oid": oid,
            "relname": name,
            "relnamespace": 2200,
            "relowner": OWNER_OID,
            "relam": 0 if view is not None else 2,
            "relfilenode": 0 if view is not None else oid,
            "reltuples": -1.0,
            "relpersistence": "p",
            "relkind": kind,
            "relnatts": len(columns),
            "relispopulated": True,
            "relreplident": "n" if view is not None else "d",
        },
    )
    if doc:
        add("pg_catalog", "pg_description", {"objoid": oid, "classoid": 1259, "objsubid": 0, "description": doc})
    if view is not None:
        add(
            "pg_catalog",
            "pg_views",
            {"schemaname": "public", "viewname": name, "viewowner": "chaosql", "definition": view},
        )
        add(
            "information_schema",
            "views",
            {
                "table_catalog": "{db}",
                "table_schema": "public",
                "table_name": name,
                "view_definition": view,
                "check_option": "NONE",
                "is_updatable": "NO",
                "is_insertable_into": "NO",
                "is_trigger_updatable": "NO",
                "is_trigger_deletable": "NO",
                "is_trigger_insertable_into": "NO",
            },
        )
    else:
        add(
            "pg_catalog",
            "pg_tables",
            {
                "schemaname": "public",
                "tablename": name,
                "tableowner": "chaosql",
                "hasindexes": False,
                "hasrules": False,
                "hastriggers": False,
                "rowsecurity": False,
            },
        )
        add("pg_catalog", "pg_stat_user_tables", {"relid": oid, "schemaname": "public", "relname": name})
    add(
        "information_schema",
        "tables",
        {
            "table_catalog": "{db}",
            "table_schema": "public",
            "table_name": name,
            "table_type": "VIEW" if view is not None else "BASE TABLE",
            "is_insertable_into": "NO",
            "is_typed": "NO",
        },
    )
    for num, (column, duck, comment) in enumerate(columns, 1):
        pgname = pg_type(duck)
        type_oid, typlen = PG_TYPES[pgname]
        add(
            "pg_catalog",
            "pg_attribute",
            {
                "attrelid": oid,
                "attname": column,
                "atttypid": type_oid,
                "attstattarget": -1,
                "attlen": typlen,
                "attnum": num,
                "attcacheoff": -1,
                "atttypmod": -1,
                "attbyval": typlen in (1, 2, 4, 8),
                "attalign": "d" if typlen == 8 else "i",
                "attstorage": "x" if typlen < 0 else "p",
                "attislocal": True,
                "attcollation": 100 if pgname in ("varchar", "text") else 0,
                "attidentity": "",
                "attgenerated": "",
                "attcompression": "",
            },
        )
        if comment:
            add(
                "pg_catalog",
                "pg_description",
                {"objoid": oid, "classoid": 1259, "objsubid": num, "description": comment},
            )
        add(
            "information_schema",
            "columns",
            {
                "table_catalog": "{db}",
                "table_schema": "public",
                "table_name": name,
                "column_name": column,
                "ordinal_position": num,
                "is_nullable": "YES",
                "data_type": "ARRAY" if pgname.startswith("_") else SQL_NAMES.get(pgname, pgname),
                "udt_catalog": "{db}",
                "udt_schema": "pg_catalog",
                "udt_name": pgname,
                "dtd_identifier": str(num),
                "is_self_referencing": "NO",
                "is_identity": "NO",
                "is_generated": "NEVER",
                "is_updatable": "NO",
            },
        )
    return out


#: Relations a session creates get oids from here on (the chaos tables' come first).
FIRST_USER_OID = 30000
_USER_RELATIONS = """
SELECT 'v' AS kind, v.view_name AS name, v.sql AS definition,
       list(c.column_name ORDER BY c.column_index) AS names, list(c.data_type ORDER BY c.column_index) AS types
FROM duckdb_views() v JOIN duckdb_columns() c
  ON c.database_name = v.database_name AND c.schema_name = v.schema_name AND c.table_name = v.view_name
WHERE NOT v.internal AND v.database_name IN ('memory', 'temp') AND v.schema_name = 'main'
  AND NOT starts_with(v.view_name, '__')
GROUP BY ALL
UNION ALL
SELECT 'r', t.table_name, NULL,
       list(c.column_name ORDER BY c.column_index), list(c.data_type ORDER BY c.column_index)
FROM duckdb_tables() t JOIN duckdb_columns() c
  ON c.database_name = t.database_name AND c.schema_name = t.schema_name AND c.table_name = t.table_name
WHERE NOT t.internal AND t.database_name IN ('memory', 'temp') AND t.schema_name = 'main'
  AND NOT starts_with(t.table_name, '__')
GROUP BY ALL
"""


def refresh_user_relations(con: Any, chaos_tables: Any, oids: dict[str, int], database: str) -> None:
    """Put the tables and views the session created (CREATE TABLE/VIEW) in pg_class, pg_attribute,
    pg_views and information_schema, as PostgreSQL lists them (\\dt, \\dv, completion);
    ``oids``: the session's name -> oid, kept so an oid stays the same while its relation lives."""
    found = [row for row in con.execute(_USER_RELATIONS).fetchall() if row[1] not in chaos_tables]
    for schema, name, column in (
        ("pg_catalog", "pg_class", "oid"),
        ("pg_catalog", "pg_attribute", "attrelid"),
        ("pg_catalog", "pg_description", "objoid"),
        ("pg_catalog", "pg_stat_user_tables", "relid"),
    ):
        target = "pgc.main" if schema == "pg_catalog" else "pgc.info"
        con.execute(f'DELETE FROM {target}."{name}" WHERE "{column}" >= {FIRST_USER_OID}')
    keep = ", ".join(_literal(n) for n in chaos_tables) or "''"
    con.execute(f"DELETE FROM pgc.main.pg_tables WHERE tablename NOT IN ({keep})")
    con.execute("DELETE FROM pgc.main.pg_views WHERE schemaname = 'public'")
    for name in ("tables", "columns", "views"):
        con.execute(f"DELETE FROM pgc.info.\"{name}\" WHERE table_schema = 'public' AND table_name NOT IN ({keep})")
    merged: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for kind, name, definition, names, types in found:
        oid = oids.setdefault(name, FIRST_USER_OID + len(oids))
        view = re.sub(r"(?is)^\s*create\b.*?\bas\s+|;\s*$", "", definition or "") if kind == "v" else None
        for key, rows in relation_rows(
            name, oid, list(zip(names, types, [None] * len(names))), None, view=view
        ).items():
            merged.setdefault(key, []).extend(rows)
    for key, rows in merged.items():
        _insert(con, key, rows, database)


def refresh_settings(con: Any, settings: dict[str, str]) -> None:
    """current_setting() answers the session's settings as they are now (after SET)."""
    for macro in macros(user="", database="", settings=settings, pid=0):
        if "current_setting(" in macro.split(" AS ", 1)[0]:
            con.execute(macro)


def macros(*, user: str, database: str, settings: dict[str, str], pid: int) -> list[str]:
    """The functions clients call that DuckDB lacks or answers differently."""
    u, db = _literal(user), _literal(database)
    setting_cases = " ".join(f"WHEN {_literal(k.lower())} THEN {_literal(v)}" for k, v in sorted(settings.items()))
    type_names = "WHEN 0 THEN '-' " + " ".join(  # oid 0 (no type) is '-' as PostgreSQL prints it
        f"WHEN {oid} THEN {_literal(SQL_NAMES.get(name, name))}" for name, (oid, _) in PG_TYPES.items()
    )
    alias_cases = " ".join(f"WHEN {_literal(k)} THEN {_literal(v)}" for k, v in TYPE_ALIASES.items())
    m = "CREATE OR REPLACE MACRO pgc.main."
    return [_strict(macro) for macro in _macro_list(m, u, db, setting_cases, type_names, alias_cases, pid)]


_OVERLOAD = re.compile(r"\((\w+(?:,\s*\w+)*)\)\s+AS\s+(.*?)(?=,\s*\(\w+(?:,\s*\w+)*\)\s+AS\s|$)", re.S)


def _strict(macro: str) -> str:
    """A macro whose body ignores its arguments, made to use them as PostgreSQL's strict functions
    do (NULL in, NULL out): DuckDB then binds the arguments, so ``pg_get_userbyid(r.no_such)``
    fails as in PostgreSQL instead of answering."""
    head, _, rest = macro.partition("(")
    if " AS TABLE " in macro or rest.startswith(")"):
        return macro
    overloads = []
    for params, body in _OVERLOAD.findall("(" + rest):
        names = [p.strip() for p in params.split(",")]
        if not any(re.search(rf"\b{re.escape(n)}\b", body) for n in names):
            body = f"CASE WHEN {' AND '.join(f'{n} IS NOT NULL' for n in names)} THEN {body} END"
        overloads.append(f"({', '.join(names)}) AS {body}")
    return head + ", ".join(overloads) if overloads else macro


def _macro_list(m: str, u: str, db: str, setting_cases: str, type_names: str, alias_cases: str, pid: int) -> list[str]:
    return [
        f"{m}pg_get_userbyid(x) AS CASE x WHEN {DATABASE_OWNER_OID} THEN 'pg_database_owner' WHEN {OWNER_OID} THEN {u} "
        "ELSE 'unknown (OID=' || x || ')' END",
        f"{m}pg_encoding_to_char(x) AS 'UTF8'",
        f"{m}set_config(a, b, c) AS b",
        f"{m}current_setting(a) AS CASE lower(a) {setting_cases} ELSE NULL END",
        f"{m}version() AS {_literal(VERSION_TEXT)}",
        f"{m}current_database() AS {db}",
        f"{m}current_catalog() AS {db}",
        f"{m}current_schema() AS 'public'",
        f"{m}current_schemas(b) AS CASE WHEN b THEN ['pg_catalog', 'public'] ELSE ['public'] END",
        f"{m}current_user() AS {u}",
        f"{m}session_user() AS {u}",
        f"{m}pg_backend_pid() AS {pid}",
        f"{m}array_upper(a, d) AS CASE WHEN len(a) > 0 THEN len(a) END",
        f"{m}array_lower(a, d) AS CASE WHEN len(a) > 0 THEN 1 END",
        f"{m}quote_ident(x) AS CASE WHEN regexp_full_match(x, '[a-z_][a-z0-9_$]*') THEN x "
        "ELSE '\"' || replace(x, '\"', '\"\"') || '\"' END",
        # PostgreSQL's quote_literal: E'...' with doubled backslashes when there is one
        f"{m}quote_literal(x) AS CASE WHEN contains(x::VARCHAR, chr(92)) THEN 'E''' || "
        "replace(replace(x::VARCHAR, chr(92), chr(92) || chr(92)), '''', '''''') || '''' "
        "ELSE '''' || replace(x::VARCHAR, '''', '''''') || '''' END",
        f"{m}quote_nullable(x) AS coalesce(pgc.main.quote_literal(x), 'NULL')",
        f"{m}parse_ident(x) AS string_split(replace(x, '\"', ''), '.')",
        f"{m}pg_get_expr(a, b) AS NULL::VARCHAR, (a, b, c) AS NULL::VARCHAR",
        f"{m}pg_get_indexdef(a) AS NULL::VARCHAR, (a, b, c) AS NULL::VARCHAR",
        f"{m}pg_get_constraintdef(a) AS NULL::VARCHAR, (a, b) AS NULL::VARCHAR",
        f"{m}pg_get_viewdef(a) AS NULL::VARCHAR, (a, b) AS NULL::VARCHAR",
        f"{m}pg_get_serial_sequence(a, b) AS NULL::VARCHAR",
        f"{m}pg_get_statisticsobjdef_columns(a) AS NULL::VARCHAR",
        f"{m}pg_get_partkeydef(a) AS NULL::VARCHAR",
        f"{m}pg_get_triggerdef(a) AS NULL::VARCHAR, (a, b) AS NULL::VARCHAR",
        f"{m}pg_get_ruledef(a) AS NULL::VARCHAR, (a, b) AS NULL::VARCHAR",
        f"{m}pg_get_functiondef(a) AS NULL::VARCHAR",
        f"{m}pg_stat_get_numscans(a) AS 0::BIGINT",
        f"{m}pg_stat_get_tuples_returned(a) AS 0::BIGINT",
        f"{m}pg_stat_get_live_tuples(a) AS 0::BIGINT",
        f"{m}pg_get_function_result(a) AS NULL::VARCHAR",
        f"{m}pg_get_function_arguments(a) AS NULL::VARCHAR",
        f"{m}pg_relation_is_publishable(a) AS false",
        f"{m}pg_table_is_visible(a) AS true",
        f"{m}pg_type_is_visible(a) AS true",
        f"{m}pg_function_is_visible(a) AS true",
        f"{m}pg_collation_is_visible(a) AS true",
        f"{m}pg_opclass_is_visible(a) AS true",
        f"{m}pg_conversion_is_visible(a) AS true",
        f"{m}pg_is_in_recovery() AS false",
        f"{m}pg_tablespace_location(a) AS ''",
        f"{m}pg_total_relation_size(a) AS 0::BIGINT",
        f"{m}pg_relation_size(a) AS 0::BIGINT, (a, b) AS 0::BIGINT",
        f"{m}pg_table_size(a) AS 0::BIGINT",
        f"{m}pg_indexes_size(a) AS 0::BIGINT",
        f"{m}pg_database_size(a) AS 0::BIGINT",
        f"{m}has_table_privilege(a, b) AS true, (a, b, c) AS true",
        f"{m}has_schema_privilege(a, b) AS true, (a, b, c) AS true",
        f"{m}has_database_privilege(a, b) AS true, (a, b, c) AS true",
        f"{m}has_column_privilege(a, b, c) AS true, (a, b, c, d) AS true",
        f"{m}has_function_privilege(a, b) AS true, (a, b, c) AS true",
        f"{m}pg_has_role(a, b) AS true, (a, b, c) AS true",
        f"{m}format_type(t, m) AS CASE t {type_names} ELSE (SELECT typname FROM pgc.main.pg_type WHERE oid = t) END",
        f"{m}regtype_name(t) AS CASE t {type_names} ELSE (SELECT typname FROM pgc.main.pg_type WHERE oid = t) END",
        f"{m}pg_scalar_type_name(t) AS {_typeof_names()}",
        f"{m}pg_typeof_name(t) AS CASE WHEN t LIKE '%[]' THEN pgc.main.pg_scalar_type_name(left(t, length(t) - 2)) "
        "|| '[]' ELSE pgc.main.pg_scalar_type_name(t) END",
        f"{m}regclass_name(x) AS (SELECT relname FROM pgc.main.pg_class WHERE oid = x)",
        f"{m}regnamespace_name(x) AS (SELECT nspname FROM pgc.main.pg_namespace WHERE oid = x)",
        f"{m}to_regclass(x) AS (SELECT oid FROM pgc.main.pg_class WHERE relname = "
        "lower(replace(regexp_replace(x::VARCHAR, '^.*\\.', ''), '\"', '')) LIMIT 1)",
        f"{m}to_regnamespace(x) AS (SELECT oid FROM pgc.main.pg_namespace WHERE nspname = replace(x::VARCHAR, '\"', ''))",
        f"{m}to_regtype(x) AS (SELECT oid FROM pgc.main.pg_type WHERE typname = CASE "
        "lower(regexp_replace(x::VARCHAR, '^pg_catalog\\.', '')) "
        f"{alias_cases} ELSE lower(regexp_replace(x::VARCHAR, '^pg_catalog\\.', '')) END LIMIT 1)",
        f"{m}obj_description(x, c) AS (SELECT description FROM pgc.main.pg_description WHERE objoid = x AND objsubid = 0 LIMIT 1), "
        "(x) AS (SELECT description FROM pgc.main.pg_description WHERE objoid = x AND objsubid = 0 LIMIT 1)",
        f"{m}col_description(x, n) AS (SELECT description FROM pgc.main.pg_description WHERE objoid = x AND objsubid = n LIMIT 1)",
        f"{m}shobj_description(x, c) AS NULL::VARCHAR",
        f"{m}pg_postmaster_start_time() AS TIMESTAMPTZ '2000-01-01 00:00:00+00'",
        f"{m}inet_server_addr() AS '127.0.0.1'",
        f"{m}pg_get_keywords() AS TABLE SELECT * FROM pgc.main.__keywords",
        *_numeric_division(m),
        *_justify(m),
        *_width_buckets(m),
        # a double as PostgreSQL's float8-to-numeric writes it: its 15 significant digits (%.15g),
        # without an exponent or trailing zeros
        f"{m}pg_float_numeric(x) AS CASE {_FLOAT_SPECIALS}"
        f"WHEN abs(x) >= 1e15 THEN {_SIGN} || "
        "replace(split_part(printf('%.14e', abs(x)), 'e', 1), '.', '') || "
        "repeat('0', CAST(split_part(printf('%.14e', abs(x)), 'e', 2) AS INTEGER) - 14) "
        "ELSE rtrim(rtrim(CAST(CASE WHEN abs(x) >= 1e-5 OR x = 0 THEN CAST(printf('%.15g', x) AS DECIMAL(38, 22)) "
        "ELSE CAST(printf('%.15g', x) AS DECIMAL(38, 37)) END AS VARCHAR), '0'), '.') END",
        # a double's text as PostgreSQL's float8out writes it (shortest exact digits, an exponent
        # from 1e15 on, no ".0"); DuckDB writes 1.0, 1000000000000000.0, nan, inf
        f"{m}pg_float_text(x) AS CASE {_FLOAT_SPECIALS}"
        f"WHEN abs(x) >= 1e15 AND abs(x) < 1e16 THEN {_SIGN} || left({_DIGITS}, 1) || "
        f"CASE WHEN length({_DIGITS}) > 1 THEN '.' || substr({_DIGITS}, 2) ELSE '' END || 'e+15' "
        "ELSE regexp_replace(CAST(x AS VARCHAR), '\\.0$', '') END",
        # a regular expression known only when the statement runs (server/semantics/text.py reads a
        # literal one): RE2 reads it as PostgreSQL would, with . matching a newline, unless it holds
        # a construct either reads otherwise (an odd run of backslashes before one of them, (?, a
        # non-greedy quantifier, [[. [[= [[:<:]], a director)
        f"{m}pg_regex(p) AS CASE WHEN regexp_matches(p, {_literal(_RUNTIME_REGEX_REFUSED)}) THEN error("
        "'a regular expression with back-references, \\b, \\s, \\m, \\y, \\Z, octal or hex escapes, (?...), "
        "non-greedy quantifiers or [[:<:]] is not supported: PostgreSQL and DuckDB read it differently') "
        "ELSE '(?s)' || p END",
        f"{m}clock_timestamp() AS pg_clock_timestamp()",
        # PostgreSQL's is set-returning; it is only ever applied to pg_index.indkey, and pg_index is
        # empty here, so a scalar of the right shape lets pgjdbc's and Metabase's queries bind.
        "CREATE OR REPLACE MACRO pgc.info._pg_expandarray(a) AS {'x': a[1], 'n': 1}",
    ]


#: pieces of the double-to-text macros: NaN and the infinities as PostgreSQL writes them, the
#: sign, and the significant digits of a whole number below 1e16 (its trailing zeros dropped)
_FLOAT_SPECIALS = "WHEN isnan(x) THEN 'NaN' WHEN isinf(x) THEN CASE WHEN x > 0 THEN 'Infinity' ELSE '-Infinity' END "
_SIGN = "CASE WHEN x < 0 THEN '-' ELSE '' END"
_DIGITS = "rtrim(CAST(CAST(abs(x) AS HUGEINT) AS VARCHAR), '0')"

_RUNTIME_REGEX_REFUSED = r"(^|[^\\])(\\\\)*\\[0-9bBmMyYsSZxceuU]|\(\?|[*+?}]\?|\[\[[.=]|\[\[:[<>]:\]\]|^\*\*\*"


def _width_buckets(m: str) -> list[str]:
    """PostgreSQL's width_bucket: of numerics exactly (the floor of (operand - low) * count / (high
    - low), found from a double's guess and checked by exact multiplication), of doubles as
    float.c computes it, and of a sorted array of thresholds (how many are at most the operand)."""
    q = "pgc.main."
    guess = "CAST(floor(CAST(n AS DOUBLE) / CAST(d AS DOUBLE)) AS BIGINT)"
    checks = (
        "WHEN op IS NULL OR b1 IS NULL OR b2 IS NULL OR c IS NULL THEN NULL "
        "WHEN c <= 0 THEN error('count must be greater than zero') "
        "WHEN b1 = b2 THEN error('lower bound cannot equal upper bound') "
    )
    float_checks = (
        "WHEN isnan(op) OR isnan(b1) OR isnan(b2) THEN error('operand, lower bound, and upper bound cannot be NaN') "
        "WHEN isinf(b1) OR isinf(b2) THEN error('lower and upper bounds must be finite') "
    )

    def bucket(quotient: str) -> str:
        return (
            f"CAST(CASE {checks}{{extra}}WHEN b1 < b2 THEN CASE WHEN op < b1 THEN 0 WHEN op >= b2 THEN c + 1 "
            f"ELSE {quotient.format(a='op - b1', b='b2 - b1')} + 1 END "
            f"ELSE CASE WHEN op > b1 THEN 0 WHEN op <= b2 THEN c + 1 "
            f"ELSE {quotient.format(a='b1 - op', b='b1 - b2')} + 1 END END AS INTEGER)"
        )

    numeric = bucket(q + "pg_floor_quotient(({a}) * c, {b})").replace("{extra}", "")
    double = bucket("least(CAST(trunc(c * (({a}) / ({b}))) AS BIGINT), c - 1)").replace("{extra}", float_checks)
    return [
        f"{m}pg_floor_quotient(n, d) AS CASE WHEN {guess} * d > n THEN {guess} - 1 "
        f"WHEN ({guess} + 1) * d <= n THEN {guess} + 1 ELSE {guess} END",
        f"{m}pg_width_bucket_numeric(op, b1, b2, c) AS {numeric}",
        f"{m}pg_width_bucket_float(op, b1, b2, c) AS {double}",
        # PostgreSQL's choice of form: numeric when a numeric is among the values and no double is
        # (integers take double precision, its preferred numeric type); typeof is folded when bound
        f"{m}pg_width_bucket(op, b1, b2, c) AS CASE WHEN "
        "(typeof(op) LIKE 'DECIMAL%' OR typeof(b1) LIKE 'DECIMAL%' OR typeof(b2) LIKE 'DECIMAL%') AND NOT "
        "(typeof(op) IN ('DOUBLE', 'FLOAT') OR typeof(b1) IN ('DOUBLE', 'FLOAT') OR typeof(b2) IN ('DOUBLE', 'FLOAT')) "
        f"THEN {q}pg_width_bucket_numeric(op, b1, b2, c) "
        f"ELSE {q}pg_width_bucket_float(CAST(op AS DOUBLE), CAST(b1 AS DOUBLE), CAST(b2 AS DOUBLE), c) END",
        f"{m}pg_width_bucket_array(op, a) AS CASE WHEN op IS NULL OR a IS NULL THEN NULL "
        "WHEN list_contains(list_transform(a, lambda t: t IS NULL), true) THEN error('thresholds array must not contain NULLs') "
        "ELSE CAST(len(list_filter(a, lambda t: t <= op)) AS INTEGER) END",
    ]


def _justify(m: str) -> list[str]:
    """PostgreSQL's justify_hours and justify_days: whole days out of the time (24 hours), whole
    months out of the days (30 days), truncated towards zero, then signs made to agree (``-1 day
    +02:00:00`` is ``-22:00:00``). An interval's time is read off DuckDB's hour, minute and
    microseconds fields (its own is not exposed); the parts are put back with to_months, to_days
    and to_microseconds, which DuckDB adds part by part."""
    q, day = "pgc.main.", 86400000000
    micros = "(datepart('hour', i) * 3600000000 + datepart('minute', i) * 60000000 + datepart('microseconds', i))"
    months = "(datepart('year', i) * 12 + datepart('month', i))"
    return [
        f"{m}pg_interval_of(mo, d, t) AS to_months(CAST(mo AS INTEGER)) + to_days(CAST(d AS INTEGER)) "
        "+ to_microseconds(CAST(t AS BIGINT))",
        f"{m}pg_justified(mo, d, t, unit, whole) AS CASE "
        f"WHEN unit = 'time' AND d > 0 AND t < 0 THEN {q}pg_interval_of(mo, d - 1, t + whole) "
        f"WHEN unit = 'time' AND d < 0 AND t > 0 THEN {q}pg_interval_of(mo, d + 1, t - whole) "
        f"WHEN unit = 'days' AND mo > 0 AND d < 0 THEN {q}pg_interval_of(mo - 1, d + whole, t) "
        f"WHEN unit = 'days' AND mo < 0 AND d > 0 THEN {q}pg_interval_of(mo + 1, d - whole, t) "
        f"ELSE {q}pg_interval_of(mo, d, t) END",
        f"{m}justify_hours(i) AS {q}pg_justified({months}, datepart('day', i) + ({micros} - {micros} % {day}) "
        f"// {day}, {micros} % {day}, 'time', {day})",
        f"{m}justify_days(i) AS {q}pg_justified({months} + (datepart('day', i) - datepart('day', i) % 30) // 30, "
        f"datepart('day', i) % 30, {micros}, 'days', 30)",
        # justify_interval: whole days out of the time, whole months out of the days (truncated
        # towards zero), then the months' sign made to agree with the days', the days' with the time's
        f"{m}pg_justify_time_sign(mo, d, t) AS CASE WHEN d > 0 AND t < 0 THEN {q}pg_interval_of(mo, d - 1, t + {day}) "
        f"WHEN d < 0 AND t > 0 THEN {q}pg_interval_of(mo, d + 1, t - {day}) ELSE {q}pg_interval_of(mo, d, t) END",
        f"{m}pg_justify_day_sign(mo, d, t) AS CASE "
        f"WHEN mo > 0 AND (d < 0 OR (d = 0 AND t < 0)) THEN {q}pg_justify_time_sign(mo - 1, d + 30, t) "
        f"WHEN mo < 0 AND (d > 0 OR (d = 0 AND t > 0)) THEN {q}pg_justify_time_sign(mo + 1, d - 30, t) "
        f"ELSE {q}pg_justify_time_sign(mo, d, t) END",
        f"{m}pg_justify_months(mo, d, t) AS {q}pg_justify_day_sign(mo + (d - d % 30) // 30, d % 30, t)",
        f"{m}justify_interval(i) AS {q}pg_justify_months({months}, datepart('day', i) + "
        f"({micros} - {micros} % {day}) // {day}, {micros} % {day})",
    ]


def _numeric_division(m: str) -> list[str]:
    """PostgreSQL's numeric division (server/semantics/): the quotient rounded half away from zero
    at the scale PostgreSQL's select_div_scale picks (at least 16 significant digits, at least the
    operands' scales), as text; DuckDB's DECIMAL division gives a double. Numbers are handled as
    (unscaled HUGEINT, scale) pairs; a value's base-10000 weight and first digit are read off its
    decimal digits."""
    digits, q = "CAST(abs(u) AS VARCHAR)", "pgc.main."
    return [
        f"{m}pg_numeric_unscaled(a) AS CAST(replace(CAST(a AS VARCHAR), '.', '') AS HUGEINT)",
        f"{m}pg_numeric_weight(u, s) AS CASE WHEN u = 0 THEN 0 "
        f"ELSE CAST(floor((length({digits}) - 1 - s) / 4.0) AS INTEGER) END",
        f"{m}pg_numeric_first(u, s) AS CASE WHEN u = 0 THEN 0 ELSE CAST(left(rpad({digits}, 4, '0'), "
        f"length({digits}) - s - 4 * {q}pg_numeric_weight(u, s)) AS INTEGER) END",
        f"{m}pg_numeric_div_scale(u, su, v, sv) AS least(1000, greatest(0, su, sv, 16 - 4 * ("
        f"{q}pg_numeric_weight(u, su) - {q}pg_numeric_weight(v, sv) "
        f"- CASE WHEN {q}pg_numeric_first(u, su) <= {q}pg_numeric_first(v, sv) THEN 1 ELSE 0 END)))",
        f"{m}pg_numeric_quotient(n, v) AS (n // abs(v)) + CASE WHEN (n % abs(v)) * 2 >= abs(v) THEN 1 ELSE 0 END",
        f"{m}pg_numeric_scaled(u, v, e) AS CASE WHEN (u < 0) <> (v < 0) THEN -1 ELSE 1 END "
        f"* {q}pg_numeric_quotient(abs(u) * CAST('1' || repeat('0', e) AS HUGEINT), v)",
        f"{m}pg_numeric_padded(t, r) AS CASE WHEN length(t) > r THEN t ELSE repeat('0', r + 1 - length(t)) || t END",
        f"{m}pg_numeric_text(q, r) AS CASE WHEN r = 0 THEN CAST(q AS VARCHAR) ELSE "
        f"CASE WHEN q < 0 THEN '-' ELSE '' END || left({q}pg_numeric_padded(CAST(abs(q) AS VARCHAR), r), "
        f"length({q}pg_numeric_padded(CAST(abs(q) AS VARCHAR), r)) - r) || '.' || "
        f"right({q}pg_numeric_padded(CAST(abs(q) AS VARCHAR), r), r) END",
        f"{m}pg_numeric_div_at(u, su, v, sv, r) AS {q}pg_numeric_text({q}pg_numeric_scaled(u, v, sv + r - su), r)",
        f"{m}pg_numeric_div(a, sa, b, sb) AS CASE WHEN a IS NULL OR b IS NULL THEN NULL "
        f"WHEN b = 0 THEN error('division by zero') ELSE {q}pg_numeric_div_at({q}pg_numeric_unscaled(a), sa, "
        f"{q}pg_numeric_unscaled(b), sb, {q}pg_numeric_div_scale({q}pg_numeric_unscaled(a), sa, {q}pg_numeric_unscaled(b), sb)) END",
    ]


FUNCTIONS = {
    m.group(1).lower()
    for m in re.finditer(r"pgc\.main\.(\w+)\(", "\n".join(macros(user="u", database="d", settings={}, pid=0)))
}


_ROWS_CACHE: dict[int, CatalogRows] = {}


def install(con: Any, tables: dict[str, Any], *, user: str, database: str, settings: dict[str, str], pid: int) -> None:
    """Create ``pgc`` in ``con`` (a session's DuckDB connection); rows are computed once per registry."""
    key = id(type(tables)) ^ hash(tuple(tables))
    rows = _ROWS_CACHE.get(key)
    if rows is None:
        rows = _ROWS_CACHE[key] = CatalogRows(tables)
    rows.install(con, user=user, database=database, settings=settings, pid=pid)
