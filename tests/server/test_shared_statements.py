"""Queries prepared once for every connection (``chaosql.server.shared``), over real psycopg: many
connections asking the same query at once have it prepared (parsed, translated, described) once;
a connection whose session made something of its own, or whose settings differ, never gets a
statement another connection prepared, and its answers and column types are its own."""

from __future__ import annotations

import asyncio
import threading

import psycopg
import pytest

from chaosql.server.shared import SHARED

PAGE = "SELECT namespace, name, created_at FROM experiments ORDER BY created_at DESC, namespace, name LIMIT 5 OFFSET %s"
SHADOWED = "SELECT reverse(name) AS l FROM experiments ORDER BY name LIMIT 1"


@pytest.fixture
def server(shared_sources):
    from chaosql.server.auth import AuthConfig
    from chaosql.server.server import Server, ServerThread, server_session

    SHARED.clear()
    new_session = lambda: server_session(shared_sources)  # noqa: E731
    with ServerThread(Server(new_session, auth=AuthConfig("trust"), port=0)) as running:
        yield running
    SHARED.clear()


def connect(server, **options) -> psycopg.Connection:
    return psycopg.connect(host="127.0.0.1", port=server.port, user="u", dbname="chaosql", autocommit=True, **options)


def prepared_by(conn: psycopg.Connection, sql: str, params: tuple | None = None) -> tuple[list, int]:
    """The rows of ``sql`` and how many statements were prepared for sharing meanwhile (0: it
    got one another connection prepared, or its own prepared before)."""
    before = SHARED.made
    rows = conn.execute(sql, params).fetchall()
    return rows, SHARED.made - before


def test_connections_asking_at_once_prepare_a_query_once(server):
    """Twelve new connections sending the same query at the same moment: one prepares it, the
    others wait for that and use it; every one gets the same rows and column types."""
    conns = [connect(server) for _ in range(12)]
    start = threading.Barrier(len(conns))
    answers: list = [None] * len(conns)

    def ask(i: int) -> None:
        start.wait()
        cur = conns[i].execute(PAGE, (5,))
        answers[i] = ([(d.name, d.type_code) for d in cur.description], cur.fetchall())

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(conns))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        assert SHARED.made == 1
        assert SHARED.hits >= len(conns) - 1
        assert answers[0][1] and all(a == answers[0] for a in answers)
        assert answers[0][0][2][1] == 1184  # timestamptz, as described by the one that prepared it
    finally:
        for conn in conns:
            conn.close()


def test_a_session_with_its_own_macro_prepares_its_own_statements(server):
    """A macro shadowing a built-in function changes what a query returns and its column type
    in that session only: the statement a fresh connection prepared (a text column) must not be
    described to it (asyncpg's prepared statement reads the types from Describe), nor its own
    (an integer) to a fresh connection."""
    asyncpg = pytest.importorskip("asyncpg")
    url = f"postgresql://u@127.0.0.1:{server.port}/chaosql"

    async def types_and_rows(conn) -> tuple[list[str], list[tuple]]:
        statement = await conn.prepare(SHADOWED)
        return [a.type.name for a in statement.get_attributes()], [tuple(r) for r in await statement.fetch()]

    async def run() -> list:
        fresh, own = await asyncpg.connect(url), await asyncpg.connect(url)
        try:
            seen = [await types_and_rows(fresh)]
            await own.execute("CREATE TEMP MACRO reverse(x) AS 42")
            seen.append(await types_and_rows(own))
            later = await asyncpg.connect(url)
            seen.append(await types_and_rows(later))
            await later.close()
            return seen
        finally:
            await fresh.close()
            await own.close()

    fresh, own, later = asyncio.run(run())
    assert fresh[0] == ["text"] and isinstance(fresh[1][0][0], str)
    assert own == (["int4"], [(42,)])
    assert later == fresh
    with connect(server) as conn:  # psycopg too: the text column, its value
        assert conn.execute(SHADOWED).fetchall() == fresh[1]


def test_a_changed_setting_is_not_given_a_statement_prepared_under_another(server):
    """TimeZone and search_path are part of what a shared statement is kept under: a connection
    that set another value prepares its own, and its answers follow its setting."""
    with connect(server) as utc, connect(server) as same, connect(server) as tokyo, connect(server) as path:
        rows, made = prepared_by(utc, PAGE, (0,))
        assert made == 1
        assert {r[2].utcoffset().total_seconds() for r in rows} == {0}
        assert prepared_by(same, PAGE, (0,)) == (rows, 0)  # the same settings: the same statement
        tokyo.execute("SET TimeZone = 'Asia/Tokyo'")
        zoned, made = prepared_by(tokyo, PAGE, (0,))
        assert made == 1
        assert [r[2] for r in zoned] == [r[2] for r in rows]  # the same instants ...
        assert {r[2].utcoffset().total_seconds() for r in zoned} == {9 * 3600}  # ... in Tokyo time
        path.execute("SET search_path = public, pg_catalog")
        assert prepared_by(path, PAGE, (0,)) == (rows, 1)
        with connect(server) as fresh:  # the first connection's statement is still there for others
            assert prepared_by(fresh, PAGE, (0,)) == (rows, 0)


def test_a_catalog_query_is_never_shared(server):
    """The catalog holds the connection's own user, pid and settings: a query reading it is
    prepared by each connection."""
    with connect(server) as one, connect(server) as two:
        rows_one, made_one = prepared_by(one, "SELECT current_user, pg_backend_pid()")
        rows_two, made_two = prepared_by(two, "SELECT current_user, pg_backend_pid()")
        assert (made_one, made_two) == (0, 0)
        assert rows_one[0][1] != rows_two[0][1]
