"""Open cursors do not block their connection (issue 12, items 9 and 10): asyncpg cursors
interleaved with other queries, psycopg2 named cursors left open while the connection runs other
statements, and scrollable cursors moved with MOVE ABSOLUTE, answer as a real PostgreSQL 15 with
the same rows does."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pgwire_env import dsn


@pytest.fixture(scope="module")
def servers(pg_server, real_pg):
    return {"chaosql": dsn(pg_server.port, user="postgres"), "postgres": real_pg.dsn}


def _same(servers, run):
    ours, theirs = (run(servers[s]) for s in ("chaosql", "postgres"))
    assert ours == theirs
    return ours


def test_asyncpg_cursors_interleaved_with_other_queries(servers):
    asyncpg = pytest.importorskip("asyncpg")

    async def run(url):
        con = await asyncpg.connect(url)
        try:
            seen = []
            async with con.transaction():
                names = await con.cursor("SELECT name FROM experiments ORDER BY name")
                kinds = await con.cursor("SELECT DISTINCT kind FROM experiments ORDER BY kind")
                seen.append([r[0] for r in await names.fetch(3)])
                seen.append(await con.fetchval("SELECT count(*) FROM experiments WHERE paused"))
                seen.append([r[0] for r in await kinds.fetch(2)])
                seen.append([r[0] for r in await names.fetch(2)])
                seen.append(await con.fetchval("SELECT 43"))
                seen.append([r[0] for r in await kinds.fetch(100)])
                async for record in con.cursor("SELECT name FROM pods ORDER BY name, node LIMIT 3"):
                    seen.append((record[0], await con.fetchval("SELECT $1::text || '!'", record[0])))
                seen.append([r[0] for r in await names.fetch(1)])
            return seen
        finally:
            await con.close()

    seen = _same(servers, lambda url: asyncio.run(run(url)))
    assert len(seen[0]) == 3 and seen[4] == 43


def test_psycopg2_named_cursors_left_open(servers):
    psycopg2 = pytest.importorskip("psycopg2")

    def run(url):
        con = psycopg2.connect(url)
        try:
            first = con.cursor(name="first")
            first.itersize = 5
            first.execute("SELECT name, kind FROM experiments ORDER BY name")
            second = con.cursor(name="second")
            second.execute("SELECT name FROM pods ORDER BY name, node")
            seen = [first.fetchmany(3), second.fetchmany(2)]
            plain = con.cursor()
            plain.execute("SELECT count(*) FROM experiments")
            seen.append(plain.fetchone())
            seen += [first.fetchmany(4), second.fetchone()]
            scroll = con.cursor(name="scroll", scrollable=True)
            scroll.execute("SELECT name FROM experiments ORDER BY name")
            scroll.scroll(10, mode="absolute")  # MOVE ABSOLUTE 10
            seen.append(scroll.fetchone())
            scroll.scroll(-3)
            seen.append(scroll.fetchone())
            con.commit()
            return seen
        finally:
            con.close()

    seen = _same(servers, run)
    assert seen[2] == (360,) or seen[2][0] > 0


def test_a_parked_cursor_is_held_in_memory_only_up_to_max_cursor_bytes(pg_server):
    """A cursor not read to its end is read into memory when its connection runs another
    statement; past ``chaosql.max_cursor_bytes`` that statement is refused with 54000 naming the
    cursor and the setting (a documented difference: PostgreSQL would spill to disk and answer)."""
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect(dsn(pg_server.port)) as con:
        con.execute("SET chaosql.max_cursor_bytes = 1048576")  # 1 MiB: 2M rows of bigint are 16 MB
        big = con.cursor(name="big")
        big.execute("SELECT x FROM range(2000000) t(x)")
        assert big.fetchmany(3) == [(0,), (1,), (2,)]
        with pytest.raises(psycopg.errors.ProgramLimitExceeded) as refused:
            con.execute("SELECT 43")
        message = str(refused.value)
        assert 'cursor "big"' in message and "chaosql.max_cursor_bytes" in message, message
        con.rollback()  # the transaction failed, as in PostgreSQL; its cursors end with it
        assert con.execute("SELECT 43").fetchone() == (43,)
        small = con.cursor(name="small")  # within the limit: parked, and read on where it was
        small.execute("SELECT x FROM range(50000) t(x)")
        assert small.fetchmany(2) == [(0,), (1,)]
        assert con.execute("SELECT 44").fetchone() == (44,)
        assert small.fetchmany(2) == [(2,), (3,)]
        con.rollback()


def test_a_scroll_cursor_is_held_in_memory_only_up_to_max_cursor_bytes(pg_server):
    """A SCROLL cursor may move backwards, so its whole result is held: past
    ``chaosql.max_cursor_bytes`` its DECLARE is refused with 54000; without SCROLL it streams."""
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect(dsn(pg_server.port)) as con:
        con.execute("SET chaosql.max_cursor_bytes = 1048576")
        with pytest.raises(psycopg.errors.ProgramLimitExceeded, match="chaosql.max_cursor_bytes"):
            con.execute("DECLARE s SCROLL CURSOR FOR SELECT x FROM range(2000000) t(x)")
        con.rollback()
        con.execute("DECLARE s SCROLL CURSOR FOR SELECT x FROM range(1000) t(x)")
        con.execute("MOVE ABSOLUTE 500 FROM s")
        assert con.execute("FETCH BACKWARD 2 FROM s").fetchall() == [(498,), (497,)]
        con.execute("DECLARE n CURSOR FOR SELECT x FROM range(2000000) t(x)")
        con.execute("MOVE 1999990 FROM n")
        assert con.execute("FETCH 2 FROM n").fetchall() == [(1999990,), (1999991,)]
        con.rollback()
