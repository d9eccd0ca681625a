"""Replay what real clients send (tests/server/corpus/*.sql) against chaosql and a real PostgreSQL 15
holding the same tables and rows, and compare what a client would see: column names, type oids,
values (as the text each server sends) and SQLSTATEs.

The corpus is captured by tests/server/corpus/capture.py (psql, pgcli, psycopg, asyncpg, pg8000,
psycopg2, SQLAlchemy, pgjdbc, node-postgres); bi_tools.sql holds Grafana's and Metabase's
connection and introspection queries, rendered by hand from their source, and dbeaver.sql
DBeaver's, written by hand (neither tool runs here).

Where the answers must differ, the difference is deliberate and listed in ``DELIBERATE`` (and in
docs/server.md): what exists in the catalog (PostgreSQL's own databases, extensions, operator
classes), numbers chaosql does not keep (table sizes, row statistics, catalog oids), the server's
version text and default time zone name, and the types chaosql sends as text (regclass, regproc,
anyarray). Each is asserted as what chaosql answers instead: the same columns, and the same rows
once the columns that cannot match are set aside.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import pg_differential as differential  # noqa: E402
from pgwire_env import dsn  # noqa: E402

pytest.importorskip("psycopg")

FILES = sorted((HERE / "corpus").glob("*.sql"))
Check = Callable[[differential.Outcome, differential.Outcome], None]


def answered(*, masked: tuple[str, ...] = (), text: tuple[str, ...] = (), fewer: bool = False) -> Check:
    """What chaosql answers instead: the same column names and types, except the columns ``text``,
    which are text (25) where PostgreSQL has a type of its own; the same rows once the columns
    ``masked`` are set aside, or (``fewer``) some of PostgreSQL's rows, the objects only PostgreSQL
    has being absent."""

    def check(ours: differential.Outcome, theirs: differential.Outcome) -> None:
        assert [n for n, _ in ours.columns] == [n for n, _ in theirs.columns]
        for (name, our_oid), (_, their_oid) in zip(ours.columns, theirs.columns):
            assert our_oid == their_oid or (name in text and our_oid == 25), f"type of {name}"
        keep = [i for i, (name, _) in enumerate(ours.columns) if name not in masked]
        assert set(masked) <= {name for name, _ in ours.columns}, f"not all of {masked} are in the result"
        mine = sorted((tuple(r[i] for i in keep) for r in ours.rows), key=str)
        postgres = sorted((tuple(r[i] for i in keep) for r in theirs.rows), key=str)
        if fewer:
            assert set(mine) < set(postgres)
        else:
            assert mine == postgres

    return check


@dataclass
class Deliberate:
    file: str
    contains: str  # a piece of the statement's text that tells it apart in its file
    why: str
    check: Check


#: The differences docs/server.md lists, each with what chaosql answers instead.
DELIBERATE = [
    Deliberate(
        "bi_tools",
        "show timezone",
        "the default time zone is UTC; PostgreSQL names the host's",
        answered(masked=("TimeZone",)),
    ),
    Deliberate(
        "bi_tools",
        "n_live_tup",
        "no row statistics: a chaos table's rows exist only when read",
        answered(masked=("estimated_row_count",)),
    ),
    Deliberate(
        "dbeaver",
        "pg_settings where name",
        "pg_settings has each setting's value, not PostgreSQL's descriptions and defaults",
        answered(masked=("category", "short_desc", "vartype", "boot_val", "reset_val", "sourceline")),
    ),
    Deliberate(
        "dbeaver",
        "from pg_catalog.pg_namespace n",
        "catalog schemas' oids and privileges",
        answered(masked=("oid", "nspacl")),
    ),
    Deliberate(
        "dbeaver",
        "pg_get_partkeydef(c.oid)",
        "no storage: a chaos table has no row type, pages, statistics or TOAST table",
        answered(
            # relallvisible too: PostgreSQL's autovacuum sets it when it gets to the table, so it
            # is 0 or the page count depending on the machine's load
            masked=("reltype", "relpages", "reltuples", "relallvisible", "reltoastrelid", "relfrozenxid", "relminmxid")
        ),
    ),
    Deliberate(
        "dbeaver", "pg_total_relation_size", "no storage: sizes are 0", answered(masked=("total_rel_size", "rel_size"))
    ),
    Deliberate(
        "dbeaver", "from pg_catalog.pg_extension", "no extensions (PostgreSQL has plpgsql)", answered(fewer=True)
    ),
    Deliberate(
        "dbeaver",
        "pg_catalog.pg_type t",
        "built-in types only (no information_schema domains); regproc columns (typinput ...) are sent as text",
        answered(
            text=(
                "typsubscript",
                "typinput",
                "typoutput",
                "typreceive",
                "typsend",
                "typmodin",
                "typmodout",
                "typanalyze",
            ),
            fewer=True,
        ),
    ),
    Deliberate(
        "dbeaver",
        "pg_catalog.pg_attribute a",
        "anyarray (attmissingval) is sent as text",
        answered(text=("attmissingval",)),
    ),
    Deliberate(
        "dbeaver", "pg_catalog.pg_proc p", "regproc (prosupport) is sent as text", answered(text=("prosupport",))
    ),
    Deliberate(
        "psql", "stxrelid::pg_catalog.regclass", "regclass is sent as text (the name)", answered(text=("stxrelid",))
    ),
    Deliberate(
        "psql", "SELECT c.oid::pg_catalog.regclass\n", "regclass is sent as text (the name)", answered(text=("oid",))
    ),
    Deliberate(
        "psql", "c.oid::pg_catalog.regclass, c.relkind", "regclass is sent as text (the name)", answered(text=("oid",))
    ),
    Deliberate("psql", "pg_catalog.pg_database d", "one database: no template0/template1", answered(fewer=True)),
    Deliberate("sqlalchemy", "pg_catalog.version()", "version() says chaosql", answered(masked=("version",))),
    Deliberate(
        "sqlalchemy", "pg_catalog.pg_opclass", "no operator classes (there are no indexes)", answered(fewer=True)
    ),
    Deliberate("superset", "pg_catalog.pg_opclass", "no operator classes (there are no indexes)", answered(fewer=True)),
    Deliberate(
        "superset", "LIMIT 100", "LIMIT without ORDER BY: which rows is unspecified", answered(masked=("name", "kind"))
    ),
    Deliberate(
        "pgcli",
        "c.relkind = ANY('{r,p,f}')",
        "the catalog holds the relations clients read, not all of PostgreSQL's",
        answered(fewer=True),
    ),
    Deliberate(
        "pgcli",
        "cls.relkind = ANY('{r,p,f}')",
        "the catalog holds the relations clients read, not all of PostgreSQL's (nor their columns)",
        answered(fewer=True),
    ),
    Deliberate(
        "pgcli", "c.relkind = ANY('{v,m}')", "no catalog views: chaosql's catalog is tables", answered(fewer=True)
    ),
    Deliberate(
        "pgcli", "cls.relkind = ANY('{v,m}')", "no catalog views: chaosql's catalog is tables", answered(fewer=True)
    ),
    Deliberate("pgcli", "SELECT d.datname\n", "one database: no template0/template1", answered(fewer=True)),
    Deliberate("pgcli", "d.datname as name", "one database: no template0/template1", answered(fewer=True)),
    Deliberate("pgcli", "p.prokind = 'a' is_aggregate", "no functions in pg_proc", answered(fewer=True)),
    Deliberate("pgcli", "WHERE c.oid = i.inhparent", "regclass is sent as text (the name)", answered(text=("oid",))),
    Deliberate("pgcli", "WHERE c.oid = i.inhrelid", "regclass is sent as text (the name)", answered(text=("oid",))),
    Deliberate(
        "pgcli",
        "r.rolcreaterole",
        "one role, the connected user, who may not create roles or databases (PostgreSQL has its pg_* roles)",
        answered(masked=("rolsuper", "rolcreaterole", "rolcreatedb", "rolreplication"), fewer=True),
    ),
    Deliberate("superset", "pg_catalog.version()", "version() says chaosql", answered(masked=("version",))),
]


@pytest.fixture(scope="module")
def connections(pg_server, real_pg):
    ours = differential.text_connection(dsn(pg_server.port, user="postgres").replace("/chaosql", "/postgres"))
    theirs = differential.text_connection(real_pg.dsn)
    yield ours, theirs
    ours.close()
    theirs.close()


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_replay_corpus_as_postgresql_answers(path, connections):
    ours_con, theirs_con = connections
    statements = [s.strip() for s in path.read_text(encoding="utf-8").split("\n;;\n") if s.strip()]
    assert statements
    deliberate = [d for d in DELIBERATE if d.file == path.stem]
    used, failures = set(), []
    for n, sql in enumerate(statements):
        query = sql.replace("%", "%%")
        ours, theirs = differential.outcome(ours_con, query), differential.outcome(theirs_con, query)
        case = differential.Case(f"{path.stem}:{n}", sql, differential._ordered(sql))
        problem = differential.compare(case, ours, theirs)
        known = [d for d in deliberate if d.contains in sql]
        assert len(known) <= 1, f"{case.name}: several DELIBERATE entries match"
        if known:
            used.add(known[0].contains)
            if problem is None:
                failures.append(f"{case.name}: no longer differs ({known[0].why}): drop it from DELIBERATE")
                continue
            try:
                known[0].check(ours, theirs)
            except AssertionError as err:
                failures.append(f"{case.name} ({known[0].why}): {err}\n  {problem}\n  in: {sql[:200]}")
        elif problem is not None:
            failures.append(f"{case.name}: {problem[:500]}\n  in: {sql[:300]}")
    unused = [d.contains for d in deliberate if d.contains not in used]
    assert not unused, f"DELIBERATE entries match no statement of {path.name}: {unused}"
    assert not failures, "\n".join(failures)
