"""Python drivers against `chaosql serve`: each returns the same rows as Session.execute."""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pgwire_env import QUERY, dsn


def test_psycopg_simple_parameterised_prepared_and_binary(pg_server, expected):
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect(dsn(pg_server.port), autocommit=True) as con:
        assert con.execute(QUERY).fetchall() == expected  # simple protocol
        rows = con.execute(QUERY.replace("LIMIT 50", "LIMIT %s"), (50,)).fetchall()  # extended, unnamed
        assert rows == expected
        for _ in range(3):  # prepare=True: a named statement, reused
            assert con.execute(QUERY, prepare=True).fetchall() == expected
        with con.cursor(binary=True) as cur:
            cur.execute(QUERY)
            assert cur.fetchall() == expected
        kinds = con.execute(
            "SELECT kind, count(*) FROM experiments WHERE kind = %s GROUP BY kind", (expected[0][2],)
        ).fetchall()
        assert kinds[0][0] == expected[0][2] and kinds[0][1] >= 1
        assert con.info.transaction_status.name == "IDLE"


TYPES_SQL = (
    "SELECT 1::INTEGER AS i, 2::BIGINT AS b, 2.5::DOUBLE AS d, true AS t, 'x'::VARCHAR AS s, "
    "TIMESTAMPTZ '2024-01-02 03:04:05.5+00' AS ts, '{\"a\": 1}'::JSON AS j, MAP {'k': 'v'} AS m, "
    "['a', 'b'] AS l, NULL::VARCHAR AS n, 12345678901234567890::HUGEINT AS h, DATE '2024-02-03' AS dd, "
    "'12345678-1234-5678-1234-567812345678'::UUID AS u, INTERVAL '1 day 2 hours' AS iv, TIME '12:34:56.5' AS tm, "
    "12.345::DECIMAL(10, 3) AS dec, TIMESTAMP '2024-01-02 03:04:05' AS naive, {'a': 1} AS st, [1, 2] AS il, "
    "'inf'::DOUBLE AS inf, 3::TINYINT AS tiny"
)


def _types_want():
    import decimal
    import uuid

    return (
        1,
        2,
        2.5,
        True,
        "x",
        dt.datetime(2024, 1, 2, 3, 4, 5, 500000, tzinfo=dt.UTC),
        {"a": 1},
        {"k": "v"},  # a map is jsonb
        ["a", "b"],  # lists of scalars are PostgreSQL arrays
        None,
        12345678901234567890,
        dt.date(2024, 2, 3),
        uuid.UUID("12345678-1234-5678-1234-567812345678"),
        dt.timedelta(days=1, hours=2),
        dt.time(12, 34, 56, 500000),
        decimal.Decimal("12.345"),
        dt.datetime(2024, 1, 2, 3, 4, 5),
        {"a": 1},  # a struct is jsonb
        [1, 2],  # int4[]
        float("inf"),
        3,
    )


def test_every_type_we_emit_in_text_and_binary(pg_server):
    psycopg = pytest.importorskip("psycopg")
    asyncpg = pytest.importorskip("asyncpg")
    with psycopg.connect(dsn(pg_server.port)) as con:
        assert con.execute(TYPES_SQL).fetchone() == _types_want()
        with con.cursor(binary=True) as cur:
            assert cur.execute(TYPES_SQL).fetchone() == _types_want()

    async def main():
        con = await asyncpg.connect(dsn(pg_server.port))
        try:
            return tuple(await con.fetchrow(TYPES_SQL))
        finally:
            await con.close()

    got = asyncio.run(main())
    want = list(_types_want())
    want[6], want[7], want[17] = '{"a": 1}', '{"k": "v"}', '{"a": 1}'  # asyncpg leaves json and jsonb as text
    assert got == tuple(want)


def test_psycopg_errors_carry_sqlstate(pg_server):
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect(dsn(pg_server.port), autocommit=True) as con:
        with pytest.raises(psycopg.errors.UndefinedTable):
            con.execute("SELECT * FROM no_such_table")
        with pytest.raises(psycopg.errors.UndefinedColumn):
            con.execute("SELECT no_such_column FROM experiments")
        with pytest.raises(psycopg.errors.SyntaxError):
            con.execute("SELEC 1")
        assert con.execute("SELECT 1").fetchone() == (1,)  # the connection is still usable


def test_transaction_status_and_aborted_block(pg_server):
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect(dsn(pg_server.port)) as con:  # not autocommit: psycopg sends BEGIN
        con.execute("SELECT 1")
        assert con.info.transaction_status.name == "INTRANS"
        with pytest.raises(psycopg.errors.UndefinedTable):
            con.execute("SELECT * FROM nope")
        assert con.info.transaction_status.name == "INERROR"
        with pytest.raises(psycopg.errors.InFailedSqlTransaction):
            con.execute("SELECT 1")
        con.rollback()
        assert con.info.transaction_status.name == "IDLE"
        assert con.execute("SELECT 2").fetchone() == (2,)


def test_asyncpg_prepared_and_binary(pg_server, expected):
    asyncpg = pytest.importorskip("asyncpg")

    async def main():
        con = await asyncpg.connect(dsn(pg_server.port))
        try:
            rows = await con.fetch(QUERY)
            stmt = await con.prepare(QUERY.replace("LIMIT 50", "LIMIT $1"))
            again = await stmt.fetch(50)
            one = await con.fetchval("SELECT count(*) FROM experiments WHERE kind = $1", expected[0][2])
            # a custom codec makes asyncpg introspect the type through pg_type and its typeinfo query
            import json

            await con.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
            spec = await con.fetchval("SELECT spec FROM experiments WHERE spec IS NOT NULL LIMIT 1")
            assert isinstance(spec, dict)
            return [tuple(r) for r in rows], [tuple(r) for r in again], one
        finally:
            await con.close()

    rows, again, one = asyncio.run(main())
    assert rows == expected and again == expected and one >= 1


def test_pg8000_and_psycopg2(pg_server, expected):
    pg8000 = pytest.importorskip("pg8000.native")
    con = pg8000.Connection("tester", host="127.0.0.1", port=pg_server.port, database="chaosql")
    try:
        assert [tuple(r) for r in con.run(QUERY)] == expected
        assert con.run("SELECT count(*) FROM experiments WHERE kind = :k", k=expected[0][2])[0][0] >= 1
    finally:
        con.close()
    psycopg2 = pytest.importorskip("psycopg2")
    con2 = psycopg2.connect(dsn(pg_server.port))
    try:
        cur = con2.cursor()
        cur.execute(QUERY)
        assert [tuple(r) for r in cur.fetchall()] == expected
        cur.execute("SELECT count(*) FROM experiments WHERE kind = %s", (expected[0][2],))
        assert cur.fetchone()[0] >= 1
    finally:
        con2.close()


def test_sqlalchemy_inspect_and_pandas(pg_server, expected):
    sqlalchemy = pytest.importorskip("sqlalchemy")
    pd = pytest.importorskip("pandas")
    from chaosql.tables import registry

    engine = sqlalchemy.create_engine(dsn(pg_server.port).replace("postgresql://", "postgresql+psycopg://"))
    try:
        inspector = sqlalchemy.inspect(engine)
        assert set(inspector.get_table_names()) == set(registry())
        columns = inspector.get_columns("experiments")
        assert [c["name"] for c in columns] == [c.name for c in registry()["experiments"].columns]
        assert str(columns[0]["type"]) == "TEXT"  # PostgreSQL's string type
        with engine.connect() as con:
            frame = pd.read_sql(sqlalchemy.text(QUERY), con)
        assert len(frame) == len(expected)
        assert list(frame["name"]) == [r[0] for r in expected]
    finally:
        engine.dispose()


def test_schema_and_database_qualified_names(pg_server, expected):
    """Metabase and DBeaver qualify tables and columns ("public"."experiments"."name", chaosql.public.x)."""
    psycopg = pytest.importorskip("psycopg")
    names = [r[0] for r in expected]
    with psycopg.connect(dsn(pg_server.port), autocommit=True) as con:
        metabase = con.execute(
            'SELECT "public"."experiments"."name" AS "name" FROM "public"."experiments" '
            'ORDER BY "public"."experiments"."cluster", "public"."experiments"."namespace", '
            '"public"."experiments"."name", "public"."experiments"."uid" LIMIT 50'
        ).fetchall()
        assert [r[0] for r in metabase] == names
        qualified = con.execute(
            "SELECT e.name FROM chaosql.public.experiments e ORDER BY e.cluster, e.namespace, e.name, e.uid LIMIT 50"
        ).fetchall()
        assert [r[0] for r in qualified] == names


def test_server_side_cursors(pg_server, expected):
    """DECLARE/FETCH/CLOSE: psycopg2 named cursors, psycopg 3 server cursors, pandas chunks."""
    psycopg2 = pytest.importorskip("psycopg2")
    psycopg = pytest.importorskip("psycopg")
    con2 = psycopg2.connect(dsn(pg_server.port))
    try:
        cur = con2.cursor(name="big")
        cur.itersize = 1000
        cur.execute("SELECT x, 'r' || x::VARCHAR FROM range(25000) t(x) ORDER BY x")
        rows = list(cur)
        assert len(rows) == 25000 and rows[-1] == (24999, "r24999")
        cur.close()
        con2.commit()
    finally:
        con2.close()
    with psycopg.connect(dsn(pg_server.port)) as con:
        with con.cursor(name="c3") as cur:
            cur.execute(QUERY.replace("LIMIT 50", "LIMIT %s"), (50,))
            assert cur.fetchmany(10) + cur.fetchall() == expected
        with con.cursor(name="c4", binary=True) as cur:
            cur.execute(QUERY)
            assert cur.fetchall() == expected
        with pytest.raises(psycopg.errors.InvalidCursorName):
            con.execute("FETCH 1 FROM nope")
    sqlalchemy = pytest.importorskip("sqlalchemy")
    pd = pytest.importorskip("pandas")
    engine = sqlalchemy.create_engine(dsn(pg_server.port).replace("postgresql://", "postgresql+psycopg2://"))
    try:
        with engine.connect().execution_options(stream_results=True) as con:
            chunks = list(pd.read_sql(sqlalchemy.text("SELECT x FROM range(12345) t(x)"), con, chunksize=5000))
        assert [len(c) for c in chunks] == [5000, 5000, 2345]
    finally:
        engine.dispose()


def test_typed_chaos_columns_over_the_wire(pg_server):
    """INTERVAL, DOUBLE, lists and maps of a typed table: described as PostgreSQL types (interval,
    float8, text[], jsonb) in RowDescription and the catalog, and decoded by psycopg, text and binary."""
    psycopg = pytest.importorskip("psycopg")
    sql = (
        "SELECT name, delay_latency, loss_loss, selector_namespaces, selector_pods FROM network_chaos "
        "WHERE delay_latency IS NOT NULL ORDER BY cluster, namespace, name LIMIT 3"
    )
    with psycopg.connect(dsn(pg_server.port), autocommit=True) as con:
        cur = con.execute(sql)
        assert [d.type_code for d in cur.description] == [25, 1186, 701, 1009, 3802]
        text_rows = cur.fetchall()
        with con.cursor(binary=True) as binary:
            binary.execute(sql)
            assert binary.fetchall() == text_rows
        catalog = dict(
            con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = 'network_chaos' AND column_name IN ('delay_latency', 'loss_loss', 'selector_namespaces')"
            ).fetchall()
        )
    assert catalog == {"delay_latency": "interval", "loss_loss": "double precision", "selector_namespaces": "ARRAY"}
    assert text_rows and all(isinstance(r[1], dt.timedelta) and r[1] > dt.timedelta(0) for r in text_rows)
    assert all(isinstance(r[3], list) and r[3] for r in text_rows)  # text[]: a list
    assert all(r[4] is None or isinstance(r[4], dict) for r in text_rows)  # a map as jsonb


def test_infinite_timestamps_and_dates_in_binary(pg_server, real_pg):
    """'infinity' and '-infinity' timestamps and dates reach a binary client as PostgreSQL's
    (asyncpg reads them as its infinity values), and NULL and finite values beside them too."""
    asyncpg = pytest.importorskip("asyncpg")
    sql = (
        "SELECT t, t::timestamp AS naive, t::date AS d FROM (VALUES ('infinity'::timestamptz), "
        "('-infinity'::timestamptz), (TIMESTAMPTZ '1969-07-20 20:17:40.5+00'), (NULL)) AS v(t)"
    )

    async def rows(url):
        con = await asyncpg.connect(url)
        try:
            return [tuple(r) for r in await con.fetch(sql)]
        finally:
            await con.close()

    ours = asyncio.run(rows(dsn(pg_server.port, user="postgres")))
    assert ours == asyncio.run(rows(real_pg.dsn))
    assert ours[0][0] == dt.datetime.max and ours[1][2] == dt.date.min  # asyncpg's infinities
    assert ours[2][0] == dt.datetime(1969, 7, 20, 20, 17, 40, 500000, tzinfo=dt.UTC) and ours[3] == (None,) * 3
