"""Regenerate chaosql/server/pg_schema.py from a real PostgreSQL 15: catalog column lists, pg_type rows, keywords.

The catalog layer must answer with exactly the column names and types PostgreSQL has, so they are
read from a real server rather than typed by hand. Run: ``python3 tests/server/tools/gen_pg_schema.py``.
"""

from __future__ import annotations

import pprint
import sys
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parent.parent))
from realpg import RealPostgres  # noqa: E402

PG_CATALOG = [
    "pg_namespace",
    "pg_class",
    "pg_attribute",
    "pg_type",
    "pg_description",
    "pg_shdescription",
    "pg_database",
    "pg_am",
    "pg_roles",
    "pg_user",
    "pg_authid",
    "pg_auth_members",
    "pg_index",
    "pg_constraint",
    "pg_attrdef",
    "pg_inherits",
    "pg_policy",
    "pg_statistic_ext",
    "pg_publication",
    "pg_publication_rel",
    "pg_publication_namespace",
    "pg_collation",
    "pg_proc",
    "pg_settings",
    "pg_extension",
    "pg_stat_user_tables",
    "pg_statio_user_tables",
    "pg_stat_all_tables",
    "pg_enum",
    "pg_range",
    "pg_tables",
    "pg_views",
    "pg_matviews",
    "pg_sequence",
    "pg_sequences",
    "pg_trigger",
    "pg_rewrite",
    "pg_tablespace",
    "pg_foreign_table",
    "pg_foreign_server",
    "pg_foreign_data_wrapper",
    "pg_partitioned_table",
    "pg_depend",
    "pg_shdepend",
    "pg_indexes",
    "pg_stat_activity",
    "pg_locks",
    "pg_event_trigger",
    "pg_opclass",
    "pg_operator",
    "pg_cast",
    "pg_language",
    "pg_stat_database",
    "pg_prepared_statements",
    "pg_timezone_names",
    "pg_available_extensions",
    "pg_init_privs",
    "pg_aggregate",
    "pg_conversion",
    "pg_subscription",
    "pg_transform",
    "pg_ts_config",
    "pg_user_mapping",
    "pg_default_acl",
    "pg_db_role_setting",
    "pg_stat_replication",
    "pg_prepared_xacts",
    "pg_largeobject_metadata",
    "pg_seclabel",
    "pg_stat_user_indexes",
]

INFORMATION_SCHEMA = [
    "schemata",
    "tables",
    "columns",
    "views",
    "table_constraints",
    "key_column_usage",
    "referential_constraints",
    "constraint_column_usage",
    "check_constraints",
    "routines",
    "parameters",
    "sequences",
    "triggers",
    "table_privileges",
    "column_privileges",
    "role_table_grants",
    "element_types",
    "domains",
    "character_sets",
    "enabled_roles",
    "applicable_roles",
    "usage_privileges",
]

TYPE_COLUMNS = [
    "oid",
    "typname",
    "typlen",
    "typbyval",
    "typtype",
    "typcategory",
    "typispreferred",
    "typisdefined",
    "typdelim",
    "typrelid",
    "typelem",
    "typarray",
    "typinput",
    "typoutput",
    "typreceive",
    "typsend",
    "typsubscript",
    "typmodin",
    "typmodout",
    "typanalyze",
    "typalign",
    "typstorage",
    "typbasetype",
    "typtypmod",
    "typndims",
    "typcollation",
]


#: The built-in base and pseudo types (not the row types of catalog tables, nor arrays of them).
BUILT_IN_TYPES = (
    "SELECT t.oid FROM pg_type t LEFT JOIN pg_type e ON e.oid = t.typelem WHERE t.typnamespace = 11 "
    "AND t.typtype IN ('b', 'p') AND t.typname NOT LIKE 'pg\\_%' AND (e.oid IS NULL OR e.typtype <> 'c')"
)


def main() -> None:
    import psycopg

    with RealPostgres() as pg, psycopg.connect(pg.dsn) as con:
        schemas: dict[str, dict[str, list[tuple[str, str]]]] = {}
        for schema, names in (("pg_catalog", PG_CATALOG), ("information_schema", INFORMATION_SCHEMA)):
            schemas[schema] = {}
            for name in names:
                rows = con.execute(
                    "SELECT a.attname, format_type(a.atttypid, NULL) FROM pg_attribute a "
                    "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped "
                    "ORDER BY a.attnum",
                    (schema, name),
                ).fetchall()
                if not rows:
                    raise SystemExit(f"{schema}.{name}: not in PostgreSQL")
                schemas[schema][name] = [tuple(r) for r in rows]
        regprocs = (
            "typinput",
            "typoutput",
            "typreceive",
            "typsend",
            "typsubscript",
            "typmodin",
            "typmodout",
            "typanalyze",
        )
        cols = ", ".join(f"{c}::text" if c in regprocs else c for c in TYPE_COLUMNS)
        types = con.execute(f"SELECT {cols} FROM pg_type WHERE oid IN ({BUILT_IN_TYPES}) ORDER BY oid").fetchall()
        am = con.execute("SELECT oid, amname, amtype FROM pg_am ORDER BY oid").fetchall()
        descriptions = con.execute(
            "SELECT d.objoid, c.relname, d.description FROM pg_description d JOIN pg_class c ON c.oid = d.classoid "
            "WHERE d.objsubid = 0 AND (c.relname = 'pg_namespace' OR "
            f"(c.relname = 'pg_type' AND d.objoid IN ({BUILT_IN_TYPES}))) ORDER BY 2, 1"
        ).fetchall()
        keywords = con.execute(
            "SELECT word, catcode::text, barelabel, catdesc, baredesc FROM pg_get_keywords() ORDER BY word"
        ).fetchall()
        version = con.execute("SHOW server_version").fetchone()[0]
    out = HERE.parents[3] / "chaosql" / "server" / "pg_schema.py"
    out.write_text(
        '"""Column lists of PostgreSQL 15 catalogs and its built-in types, read from a real server.\n\n'
        'Generated by tests/server/tools/gen_pg_schema.py; do not edit by hand."""\n\n'
        f"PG_VERSION = {version!r}\n\n"
        f"SCHEMAS = {pprint.pformat(schemas, width=118, compact=True)}\n\n"
        f"TYPE_COLUMNS = {TYPE_COLUMNS!r}\n\n"
        f"TYPES = {pprint.pformat([tuple(t) for t in types], width=118, compact=True)}\n\n"
        f"ACCESS_METHODS = {am!r}\n\n"
        "# pg_description of built-in types and schemas: (objoid, catalog of the object, description)\n"
        f"DESCRIPTIONS = {pprint.pformat([tuple(d) for d in descriptions], width=118, compact=True)}\n\n"
        "# pg_get_keywords(): word, catcode, barelabel, catdesc, baredesc\n"
        f"KEYWORDS = {pprint.pformat([tuple(k) for k in keywords], width=118, compact=True)}\n",
        encoding="utf-8",
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
