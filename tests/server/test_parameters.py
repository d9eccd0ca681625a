"""Parameters the client sends without a type (issue 12, items 8, 11 and 12): chaosql infers them
from the statement as PostgreSQL does and says so in ParameterDescription, so each real driver
gets back the same values, of the same types, from chaosql and from a real PostgreSQL 15."""

from __future__ import annotations

import asyncio
import decimal
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pgwire_env import dsn

psycopg = pytest.importorskip("psycopg")

KINDS = ["PodChaos", "NetworkChaos"]
COUNT_KINDS = "select count(*) from experiments where kind = any(%s)"


@pytest.fixture(scope="module")
def servers(pg_server, real_pg):
    """(label, dsn) of chaosql and of the real PostgreSQL, with the same rows."""
    return [("chaosql", dsn(pg_server.port)), ("postgres", real_pg.dsn)]


def _both(servers, run):
    """``run(dsn)`` on each server; asserts the answers are equal and returns chaosql's."""
    answers = {label: run(url) for label, url in servers}
    assert answers["chaosql"] == answers["postgres"]
    return answers["chaosql"]


def _psycopg(sql, params, *, binary=False):
    def run(url):
        with psycopg.connect(url, autocommit=True) as con, con.cursor(binary=binary) as cur:
            cur.execute(sql, params)
            return [d.type_code for d in cur.description], cur.fetchall()

    return run


def test_psycopg_decimal_times_two_is_numeric(servers):
    types, rows = _both(servers, _psycopg("select %s * 2", (decimal.Decimal("1.23456"),)))
    assert types == [1700] and rows == [(decimal.Decimal("2.46912"),)]


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_psycopg_numeric_cast_of_a_decimal_stays_numeric(servers, binary):
    types, rows = _both(
        servers, _psycopg("select %s::numeric * 2, %s::numeric", (decimal.Decimal("1.23456"),) * 2, binary=binary)
    )
    assert types == [1700, 1700] and rows == [(decimal.Decimal("2.46912"), decimal.Decimal("1.23456"))]


def test_psycopg_float_bool_and_big_int_keep_their_types(servers):
    types, rows = _both(servers, _psycopg("select %s, %s, %s", (1.5, True, 2**40)))
    assert types == [701, 16, 20] and rows == [(1.5, True, 2**40)]


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_psycopg_any_of_a_python_list(servers, binary):
    types, rows = _both(servers, _psycopg(COUNT_KINDS, (KINDS,), binary=binary))
    assert types == [20] and rows[0][0] > 0


def test_psycopg_text_array_cast(servers):
    types, rows = _both(servers, _psycopg("select %s::text[]", (["a", "b c", None],)))
    assert types == [1009] and rows == [(["a", "b c", None],)]


def test_pg8000_any_of_a_python_list_and_array_cast(servers, pg_server, real_pg):
    pg8000 = pytest.importorskip("pg8000.native")

    def run(port, user, password, database):
        con = pg8000.Connection(user, password=password, host="127.0.0.1", port=port, database=database)
        try:
            count = con.run("select count(*) from experiments where kind = any(:k)", k=KINDS)
            array = con.run("select cast(:k as text[])", k=["a", "b"])
            return count, array
        finally:
            con.close()

    ours = run(pg_server.port, "tester", None, "chaosql")
    theirs = run(real_pg.port, "postgres", "chaos", "postgres")
    assert ours == theirs and ours[1] == [[["a", "b"]]] and ours[0][0][0] > 0


def test_asyncpg_untyped_parameters_are_described(servers):
    asyncpg = pytest.importorskip("asyncpg")

    async def run(url):
        con = await asyncpg.connect(url)
        try:
            described = await con.prepare("select $1, $2 * 2, $3 || 'x'")
            return (
                [t.name for t in described.get_parameters()],
                await con.fetchval("select $1", "abc"),
                await con.fetchval("select $1 * 2", 21),
                await con.fetchval("select count(*) from experiments where kind = any($1)", KINDS),
            )
        finally:
            await con.close()

    params, text, doubled, count = _both(servers, lambda url: asyncio.run(run(url)))
    assert params == ["text", "int4", "text"]
    assert (text, doubled) == ("abc", 42) and count > 0


def test_asyncpg_binary_parameters_of_every_type(servers):
    """asyncpg sends parameters in binary (issue 12, items 13 and 14): interval, time, jsonb,
    timestamptz, date, numeric, uuid, bytea decode and compare as in PostgreSQL."""
    asyncpg = pytest.importorskip("asyncpg")
    import datetime as dt
    import uuid

    async def run(url):
        con = await asyncpg.connect(url)
        try:
            return [
                await con.fetchval("select $1::interval", dt.timedelta(days=1, hours=12, microseconds=5)),
                await con.fetchval("select $1::interval * 2", dt.timedelta(minutes=90)),
                await con.fetchval("select $1::time", dt.time(12, 34, 56, 500000)),
                await con.fetchval("select $1::jsonb", '{"b": 1, "a": [1, 2]}'),
                await con.fetchval("select ($1::jsonb)->>'a'", '{"a": "x"}'),
                await con.fetchval("select $1::timestamptz", dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)),
                await con.fetchval("select $1::date + 1", dt.date(2026, 2, 28)),
                await con.fetchval("select $1::numeric * 2", decimal.Decimal("1.23456")),
                await con.fetchval("select $1::uuid", uuid.UUID(int=7)),
                await con.fetchval("select $1::bytea", b"\x00ab"),
                await con.fetchval(
                    "select count(*) from experiments where created_at > $1::timestamptz - $2::interval",
                    dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC),
                    dt.timedelta(days=1, hours=12),
                ),
            ]
        finally:
            await con.close()

    answers = _both(servers, lambda url: asyncio.run(run(url)))
    assert answers[0] == dt.timedelta(days=1, hours=12, microseconds=5) and answers[2] == dt.time(12, 34, 56, 500000)
    assert answers[-1] > 0


ARRAYS = "SELECT ARRAY[1, 2]::int8[] AS i, ARRAY[1.5, NULL]::float8[] AS f, ARRAY['a', 'b c'] AS t, containers FROM pods ORDER BY name LIMIT 2"


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_arrays_are_postgresql_arrays_in_psycopg(servers, binary):
    types, rows = _both(servers, _psycopg(ARRAYS, None, binary=binary))
    assert types == [1016, 1022, 1009, 1009]
    assert rows[0][:3] == ([1, 2], [1.5, None], ["a", "b c"]) and isinstance(rows[0][3], list)


def test_arrays_in_asyncpg_whose_type_lookup_reads_our_catalog(servers):
    """asyncpg knows only oid[] and text[]: for int8[] and float8[] it runs its recursive typeinfo
    query against pg_type, whose own result must be typed as PostgreSQL types it (oid[], not int8[])."""
    asyncpg = pytest.importorskip("asyncpg")

    async def run(url):
        con = await asyncpg.connect(url)
        try:
            return [tuple(r) for r in await con.fetch(ARRAYS)]
        finally:
            await con.close()

    rows = _both(servers, lambda url: asyncio.run(run(url)))
    assert rows[0][:3] == ([1, 2], [1.5, None], ["a", "b c"])
