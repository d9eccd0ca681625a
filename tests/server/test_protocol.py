"""Protocol behaviour users notice: row limits, Describe without running, isolation, settings, auth modes, CLI."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from pgwire_env import PASSWORD, REPO, dsn  # noqa: E402


def test_asyncpg_cursor_fetches_in_chunks_with_portal_suspended(pg_server):
    asyncpg = pytest.importorskip("asyncpg")

    async def main():
        con = await asyncpg.connect(dsn(pg_server.port))
        try:
            async with con.transaction():
                cur = await con.cursor("SELECT x FROM range(25) t(x) ORDER BY x")
                first = await cur.fetch(10)  # Execute with max_rows=10 -> PortalSuspended
                second = await cur.fetch(10)
                rest = await cur.fetch(10)
            return [r[0] for r in first], [r[0] for r in second], [r[0] for r in rest]
        finally:
            await con.close()

    first, second, rest = asyncio.run(main())
    assert first == list(range(10)) and second == list(range(10, 20)) and rest == list(range(20, 25))


def test_describe_does_not_run_the_statement(pg_server):
    asyncpg = pytest.importorskip("asyncpg")

    async def main():
        con = await asyncpg.connect(dsn(pg_server.port))
        try:
            started = time.monotonic()
            stmt = await con.prepare(
                "SELECT count(*) AS n, $1::VARCHAR AS label FROM range(10000000000) t(x) WHERE x % 7 = 3"
            )
            elapsed = time.monotonic() - started
            return elapsed, [a.name for a in stmt.get_attributes()], [t.name for t in stmt.get_parameters()]
        finally:
            await con.close()

    elapsed, columns, params = asyncio.run(main())
    assert elapsed < 5  # running it would take minutes
    assert columns == ["n", "label"] and params == ["varchar"]


def test_sessions_are_isolated(pg_server):
    psycopg = pytest.importorskip("psycopg")
    with (
        psycopg.connect(dsn(pg_server.port), autocommit=True) as a,
        psycopg.connect(dsn(pg_server.port), autocommit=True) as b,
    ):
        a.execute("SET chaosql.on_source_error = 'warn'")
        assert a.execute("SHOW chaosql.on_source_error").fetchone() == ("warn",)
        assert b.execute("SHOW chaosql.on_source_error").fetchone() == ("fail",)
        a.execute("SET application_name = 'client-a'")
        assert a.info.parameter_status("application_name") == "client-a"
        assert b.execute("SHOW application_name").fetchone() == ("",)
        a.execute("SELECT 1", prepare=True)  # the same statement name in both connections
        b.execute("SELECT 1", prepare=True)
        with pytest.raises(psycopg.errors.UndefinedTable):
            a.execute("SELECT * FROM nope")
        assert b.execute("SELECT 3").fetchone() == (3,)
        a.execute("SET statement_timeout = '1s'")  # PostgreSQL's timeout is chaosql.timeout
        assert a.execute("SHOW chaosql.timeout").fetchone() == ("1.0",)
        with pytest.raises(psycopg.errors.QueryCanceled):
            a.execute("SELECT count(*) FROM range(10000000000) t(x) WHERE x % 7 = 3")
        a.execute("SET statement_timeout = 0")  # PostgreSQL: no limit; chaosql: the server's own (documented)
        assert a.execute("SHOW chaosql.timeout").fetchone() == ("300.0",)
        assert b.execute("SHOW chaosql.timeout").fetchone() == ("300.0",)
        assert a.execute("SHOW transaction isolation level").fetchone() == ("read committed",)
        assert a.execute("SELECT current_setting('server_version_num')").fetchone() == ("150018",)
        assert a.execute("SELECT version()").fetchone()[0].startswith("PostgreSQL 15.")
        # Grafana reads the version this way and scans it into an integer
        assert a.execute("SELECT current_setting('server_version_num')::int/100").fetchone() == (1500,)


@pytest.mark.parametrize("method", ["md5", "password"])
def test_md5_and_cleartext_auth(shared_sources, method):
    psycopg = pytest.importorskip("psycopg")
    from chaosql.engine.session import Session
    from chaosql.server.auth import auth_config
    from chaosql.server.server import Server, ServerThread

    cfg = auth_config({"auth": method, "users": {"bob": {"password": PASSWORD}}})
    with ServerThread(Server(lambda: Session(shared_sources), auth=cfg, port=0)) as thread:
        with psycopg.connect(dsn(thread.port, "bob", PASSWORD)) as con:
            assert con.execute("SELECT 1").fetchone() == (1,)
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(dsn(thread.port, "bob", "wrong"))


def test_non_loopback_without_auth_is_refused():
    from chaosql.errors import UsageError
    from chaosql.server.auth import AuthConfig
    from chaosql.server.server import Server

    with pytest.raises(UsageError, match="without authentication"):
        Server(lambda: None, auth=AuthConfig("trust"), host="0.0.0.0")
    Server(lambda: None, auth=AuthConfig("trust"), host="0.0.0.0", insecure=True)  # the user insists


def test_chaosql_serve_command_with_config_users(tmp_path):
    psycopg = pytest.importorskip("psycopg")
    from realpg import free_port

    config = tmp_path / "chaosql.toml"
    config.write_text(f'[server]\nauth = "scram-sha-256"\n\n[server.users.grafana]\npassword = "{PASSWORD}"\n')
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "chaosql", "serve", "--port", str(port), "--config", str(config), "-s", "demo"],
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        line = proc.stderr.readline()
        assert f"127.0.0.1:{port}" in line and "scram-sha-256" in line, line
        with psycopg.connect(dsn(port, "grafana", PASSWORD)) as con:
            assert con.execute("SELECT count(*) > 0 FROM experiments").fetchone() == (True,)
        with pytest.raises(psycopg.OperationalError, match="28P01|password authentication failed"):
            psycopg.connect(dsn(port, "grafana", "nope"))
    finally:
        proc.terminate()
        proc.wait(10)
    bad = subprocess.run(
        [sys.executable, "-m", "chaosql", "serve", "--host", "0.0.0.0", "--port", "0", "-s", "demo"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "refusing to listen on 0.0.0.0 without authentication" in bad.stderr


def test_chaosql_statements_over_the_extended_protocol(pg_server):
    psycopg = pytest.importorskip("psycopg")
    from chaosql.tables import registry

    with psycopg.connect(dsn(pg_server.port), autocommit=True) as con:
        for _ in range(2):  # prepared: Describe, then Execute, then Execute again
            cur = con.execute("SHOW TABLES", prepare=True)
            assert [d.name for d in cur.description] == ["name", "description"]
            assert {r[0] for r in cur.fetchall()} == set(registry())
        cur = con.execute("DESCRIBE experiments", prepare=True)
        assert ("created_at", "TIMESTAMPTZ") in [r[:2] for r in cur.fetchall()]


def test_a_query_prepared_again_sees_ddl_made_since(pg_server):
    """The server keeps a connection's parsed queries; DDL in between makes it parse them again."""
    psycopg = pytest.importorskip("psycopg")
    query = "SELECT * FROM mine WHERE %s ORDER BY 1"  # a parameter: the extended protocol (Parse, Describe)
    with psycopg.connect(dsn(pg_server.port), autocommit=True) as con:
        con.execute("CREATE TABLE mine AS SELECT 1 AS a")
        for _ in range(3):  # unnamed statements, parsed each time by the client: the server's cache answers
            cur = con.execute(query, (True,), prepare=False)
            assert [d.name for d in cur.description] == ["a"] and cur.fetchall() == [(1,)]
        con.execute("DROP TABLE mine")
        con.execute("CREATE TABLE mine AS SELECT 'x' AS b, 2 AS c")
        cur = con.execute(query, (True,), prepare=False)
        assert [d.name for d in cur.description] == ["b", "c"] and cur.fetchall() == [("x", 2)]
        con.execute("DROP TABLE mine")


def test_a_new_connection_describes_typed_tables_and_the_catalog_when_it_first_names_them(pg_server):
    """A connection's session puts the typed chaos tables and the column comments in DuckDB only
    when a statement needs them: a plain query first, then a typed table and the catalog, each
    described and answered as in a connection that started with them."""
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect(dsn(pg_server.port), autocommit=True) as con:
        assert con.execute("SELECT count(*) FROM experiments WHERE %s", (True,)).fetchone() == (360,)
        cur = con.execute("SELECT name, action FROM pod_chaos WHERE namespace = %s ORDER BY name LIMIT 1", ("shop",))
        assert [d.name for d in cur.description] == ["name", "action"] and len(cur.fetchall()) == 1
        comments = con.execute(
            "SELECT col_description('pod_chaos'::regclass, 1) IS NOT NULL, "
            "(SELECT count(*) FROM information_schema.columns WHERE table_name = 'pod_chaos') > 5"
        ).fetchone()
        assert comments == (True, True)
