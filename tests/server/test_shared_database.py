"""Sessions share one DuckDB database until they change it (``chaosql.engine.database``), over
real psycopg: what one connection creates or sets is never seen by another, a connection that
created something goes on reading the chaos tables as before, and connections that only read
never cost a database each."""

from __future__ import annotations

import psycopg
import pytest


def connect(server) -> psycopg.Connection:
    return psycopg.connect(host="127.0.0.1", port=server.port, user="u", dbname="chaosql", autocommit=True)


def sessions_of(server, *conns: psycopg.Connection):
    """The server-side Session of each connection (by its backend pid)."""
    live = server.server._live
    return [live[conn.info.backend_pid][1]._runner.session for conn in conns]


def test_a_table_one_connection_creates_is_seen_by_no_other(pg_server):
    a, b = connect(pg_server), connect(pg_server)
    count = b.execute("SELECT count(*) FROM experiments").fetchone()[0]
    assert a.execute("SELECT count(*) FROM experiments").fetchone()[0] == count
    a.execute("CREATE TABLE notes (name text, note text)")
    a.execute("INSERT INTO notes SELECT name, 'looked at' FROM experiments ORDER BY name LIMIT 3")
    # the creator reads the chaos tables as before, and joins them with its own table
    assert a.execute("SELECT count(*) FROM experiments").fetchone()[0] == count
    joined = a.execute("SELECT count(*) FROM experiments e JOIN notes n ON n.name = e.name").fetchone()[0]
    assert joined >= 3
    # its own database keeps the server's settings: the server's files stay out of reach
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        a.execute("SELECT * FROM read_csv('/etc/passwd')")
    with pytest.raises(psycopg.errors.UndefinedTable):
        b.execute("SELECT * FROM notes")
    c = connect(pg_server)  # opened after the table was made
    with pytest.raises(psycopg.errors.UndefinedTable):
        c.execute("SELECT * FROM notes")
    assert c.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'notes'").fetchone()[0] == 0
    assert c.execute("SELECT count(*) FROM experiments").fetchone()[0] == count
    for conn in (a, b, c):
        conn.close()


def test_a_connections_time_zone_is_its_own(pg_server):
    a, b = connect(pg_server), connect(pg_server)
    a.execute("SET TimeZone = 'Asia/Tokyo'")
    moment = "SELECT '2026-12-07 00:00:00+00'::timestamptz::text"
    assert a.execute(moment).fetchone()[0] == "2026-12-07 09:00:00+09"
    assert b.execute(moment).fetchone()[0] == "2026-12-07 00:00:00+00"
    assert a.execute("SELECT date_trunc('day', '2026-12-07 20:00:00+00'::timestamptz)::text").fetchone()[0] == (
        "2026-12-08 00:00:00+09"
    )
    a.close()
    b.close()


def test_connections_that_only_read_share_one_database(pg_server):
    """Fifty connections reading the chaos tables open no DuckDB database of their own; the one
    that creates a table gets its own, and the others keep sharing."""
    conns = [connect(pg_server) for _ in range(50)]
    for i, conn in enumerate(conns):
        assert conn.execute("SELECT count(*) FROM experiments WHERE namespace <> %s", (f"ns{i}",)).fetchone()[0] > 0
    sessions = sessions_of(pg_server, *conns)
    assert all(s.shares_database for s in sessions)
    conns[0].execute("CREATE TEMP TABLE mine AS SELECT 1 AS one")
    assert not sessions[0].shares_database
    assert all(s.shares_database for s in sessions[1:])
    assert conns[1].execute("SELECT count(*) FROM experiments").fetchone()[0] > 0
    for conn in conns:
        conn.close()


def test_a_connection_moving_to_its_own_database_keeps_its_rows(pg_server):
    """Describing a statement over a typed table puts that table's catalog stand-in in DuckDB, so
    the session moves to a database of its own between two statements; the rows it registered
    before (kept for its next statement) come along, and its answers do not change."""
    pods = "SELECT count(*) FROM experiments WHERE kind = 'PodChaos' AND namespace <> %s"
    a = connect(pg_server)
    count = a.execute(pods, ("a",)).fetchone()[0]
    (session,) = sessions_of(pg_server, a)
    assert session.shares_database
    typed = a.execute("SELECT count(*) FROM pod_chaos WHERE namespace <> %s", ("a",)).fetchone()[0]
    assert not session.shares_database
    assert typed == count > 0
    # the same rows again (another parameter: DuckDB answers, reading the relation registered before)
    again = a.execute(pods, ("demo",)).fetchone()[0]
    with connect(pg_server) as b:
        assert b.execute(pods, ("demo",)).fetchone()[0] == again
    a.close()
