"""Portals dropped or left open mid-stream (issue 12, item 9): a Bind that replaces the unnamed
portal, Close of a partly read portal, Sync ending the implicit transaction of a suspended portal,
and an open cursor while other statements run. DuckDB runs nothing else on a connection while a
streamed result is open ("connection has an open result", which reached clients as XX000), so each
interleaving is driven in the same order against chaosql and a real PostgreSQL 15 with the same
rows, and must answer the same, with the same SQLSTATEs.

asyncpg sends the extended protocol's messages one at a time (Bind, Execute with a row limit,
Close, each followed by Sync) through its protocol object: the messages its cursors send, in an
order its public API does not offer. The garbage collector is off while a test runs, so nothing
depends on when Python frees a dropped portal.
"""

from __future__ import annotations

import asyncio
import gc
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pgwire_env import dsn

NAMES = "SELECT name FROM experiments ORDER BY name"
KINDS = "SELECT DISTINCT kind FROM experiments ORDER BY kind"
COUNT = "SELECT count(*) FROM experiments"


@pytest.fixture(scope="module")
def servers(pg_server, real_pg):
    return {"chaosql": dsn(pg_server.port, user="postgres"), "postgres": real_pg.dsn}


@pytest.fixture(autouse=True)
def no_collector():
    """A dropped portal must let its result go when it is dropped, not when a collection runs."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _same(servers, main):
    """``main(connection)`` against both servers: the same answers."""
    asyncpg = pytest.importorskip("asyncpg")

    async def run(url):
        con = await asyncpg.connect(url)
        try:
            return await main(con)
        finally:
            await con.close()

    ours, theirs = (asyncio.run(run(servers[s])) for s in ("chaosql", "postgres"))
    assert ours == theirs
    return ours


class Portals:
    """One asyncpg connection's protocol, message by message: ``bind`` a query to a portal,
    ``execute`` up to n rows of it, ``close`` it. Each answers its rows, or the SQLSTATE it failed with."""

    def __init__(self, con):
        self.con = con
        self.states = {}  # query -> asyncpg's prepared statement state
        self.query_of = {}  # portal -> the state it was bound with (to decode its rows)

    async def _state(self, query):
        if query not in self.states:
            self.states[query] = await self.con._get_statement(query, None, named=True)
        return self.states[query]

    async def bind(self, portal, query, *args):
        self.query_of[portal] = state = await self._state(query)
        return await _outcome(self.con._protocol.bind(state, args, portal, None))

    async def execute(self, portal, rows=0):
        state = self.query_of.get(portal) or await self._state(NAMES)  # a portal never bound: any will do
        outcome = await _outcome(self.con._protocol.execute(state, portal, rows, True, None))
        if isinstance(outcome, str):
            return outcome
        records, _, finished = outcome
        return [tuple(r) for r in records], finished

    async def close(self, portal):
        return await _outcome(self.con._protocol.close_portal(portal, None))


async def _outcome(call):
    import asyncpg

    try:
        result = await call
    except asyncpg.PostgresError as err:
        return err.sqlstate
    return None if not isinstance(result, tuple) else result


def test_bind_replaces_the_unnamed_portal_mid_stream(servers):
    async def main(con):
        p = Portals(con)
        seen = []
        async with con.transaction():
            await p.bind("", NAMES)
            seen.append(await p.execute("", 3))  # suspended after 3 rows
            seen.append(await p.execute("", 2))  # a Sync between: in a transaction block the portal lives on
            await p.bind("", KINDS)  # replaces it, unread rows and all
            seen.append(await p.execute("", 0))
            seen.append(await con.fetchval(COUNT))
            await p.bind("", NAMES)
            seen.append(await p.execute("", 1))
            await p.bind("", "SELECT $1::int + 1", 41)  # replaced again, by a statement with a parameter
            seen.append(await p.execute(""))
        seen.append(await con.fetchval("SELECT 43"))
        return seen

    seen = _same(servers, main)
    assert len(seen[0][0]) == 3 and seen[0][1] is False and seen[3] > 0 and seen[-1] == 43


def test_close_of_a_partly_read_portal(servers):
    async def main(con):
        p = Portals(con)
        seen = []
        async with con.transaction():
            await p.bind("first", NAMES)
            await p.bind("second", KINDS)
            seen.append(await p.execute("first", 4))
            seen.append(await p.execute("second", 2))
            seen.append(await p.close("first"))  # partly read: its result is let go
            seen.append(await con.fetchval(COUNT))
            seen.append(await p.execute("second", 2))  # the other portal reads on
            seen.append(await p.close("second"))
            seen.append(await p.close("second"))  # closing what is gone is no error
            seen.append(await con.fetchval("SELECT $1::text || '!'", "after"))
        async with con.transaction():
            seen.append(await p.execute("first", 1))  # gone: 34000
        seen.append(await con.fetchval("SELECT 44"))
        return seen

    seen = _same(servers, main)
    assert seen[-2] == "34000" and seen[-1] == 44 and len(seen[0][0]) == 4


def test_sync_ends_the_implicit_transaction_of_a_suspended_portal(servers):
    async def main(con):
        p = Portals(con)
        seen = [await con.fetchrow(NAMES)]  # Execute with a limit of 1, then Sync: the portal ends
        seen.append(await con.fetchval(COUNT))
        seen.append(await p.bind("", NAMES))
        seen.append(await p.execute("", 2))  # no transaction block: the Bind's Sync ended the portal
        seen.append(await p.bind("named", KINDS))
        seen.append(await p.execute("named", 2))  # named portals end with the implicit transaction too
        seen.append(await con.fetchval("SELECT $1::int * 2", 21))
        stmt = await con.prepare(KINDS)
        seen.append(await stmt.fetchrow())
        seen.append(await stmt.fetchrow())  # the same statement again, a new portal
        seen.append(await con.fetchval(COUNT))
        return seen

    seen = _same(servers, main)
    assert seen[3] == "34000" and seen[5] == "34000" and seen[6] == 42 and seen[7] == seen[8]


def test_open_cursor_while_other_statements_run(servers):
    """An open cursor's unread rows are kept while other statements run (chaosql reads them into
    memory then), and read on afterwards: PostgreSQL's answers, over asyncpg and psycopg."""

    async def main(con):
        seen = []
        async with con.transaction():
            names = await con.cursor(NAMES)
            seen.append([r[0] for r in await names.fetch(3)])
            # (no temporary table: a real PostgreSQL keeps its pg_temp schema, and the catalog tests see it)
            seen.append(await con.fetchval("SELECT count(*) FROM (VALUES ('a'), ('b')) AS v(kind)"))
            seen.append(await con.fetchval("SET LOCAL TimeZone = 'Europe/Paris'"))
            seen.append([r[0] for r in await names.fetch(2)])
            async for record in con.cursor(KINDS, prefetch=2):
                seen.append((record[0], await con.fetchval("SELECT $1::text || '?'", record[0])))
                break  # left open, partly read: COMMIT ends it
            seen.append([r[0] for r in await names.fetch(1)])
        seen.append(await con.fetchval(COUNT))
        return seen

    seen = _same(servers, main)
    assert len(seen[0]) == 3 and seen[1] == 2 and seen[-1] > 0


def test_psycopg_cursors_interleaved_and_closed(servers):
    psycopg = pytest.importorskip("psycopg")

    def run(url):
        seen = []
        with psycopg.connect(url) as con:
            cur = con.cursor()
            cur.execute("DECLARE c CURSOR FOR " + NAMES)
            cur.execute("FETCH 2 FROM c")
            seen.append(cur.fetchall())
            cur.execute("SELECT 43")
            seen.append(cur.fetchall())
            cur.execute("FETCH 2 FROM c")
            seen.append(cur.fetchall())
            cur.execute("CLOSE c")  # partly read
            seen.append(cur.execute(COUNT).fetchall())
            try:
                cur.execute("FETCH 1 FROM c")
            except psycopg.Error as err:
                seen.append(err.sqlstate)
            con.rollback()
            server_side = con.cursor(name="big")
            server_side.itersize = 3
            server_side.execute(KINDS)
            seen.append(server_side.fetchmany(2))
            seen.append(con.execute("SELECT %s::int", [7], prepare=True).fetchall())
            seen.append(server_side.fetchmany(2))
            server_side.close()
            seen.append(con.execute("SELECT 45").fetchall())
            con.commit()
        return seen

    ours, theirs = run(servers["chaosql"]), run(servers["postgres"])
    assert ours == theirs
    assert ours[1] == [(43,)] and ours[4] == "34000"


def test_fetch_reads_only_what_it_fetches(servers, pg_server):
    """FETCH from a cursor nothing else interrupts streams its rows: the cursor's rest is not read
    into the server's memory (only another statement makes chaosql do that)."""
    psycopg2 = pytest.importorskip("psycopg2")
    query = "SELECT x, x * 2 AS y FROM generate_series(1, 10000000) AS t(x)"

    def run(url):
        con = psycopg2.connect(url)
        try:
            cur = con.cursor(name="long")
            cur.itersize = 50
            cur.execute(query)
            seen = [cur.fetchmany(3), cur.fetchmany(100)[-1]]
            if url == servers["chaosql"]:
                (conn,) = [c for _, c in pg_server.server._live.values() if "long" in c.portals]
                seen.append(("parked", conn.portals["long"].parked))
            cur.close()
            con.commit()
            return seen
        finally:
            con.close()

    ours, theirs = run(servers["chaosql"]), run(servers["postgres"])
    assert ours[:2] == theirs
    assert ours[2] == ("parked", False)


def test_rows_read_in_chunks_of_changing_size(servers):
    """An Execute with a row limit has the next chunk encoded while the client reads (asyncpg's
    cursors ask again and again): a next Execute that asks for fewer or more rows, another
    statement between two, a Close, and an error in rows not yet asked for each answer as
    PostgreSQL does. (Where the error comes differs: DuckDB computes rows ahead of the ones
    asked for itself, so only the rows before it and the error are compared.)"""
    query = "SELECT x, 'row ' || x::text AS label, x / 4.0 AS quarter FROM generate_series(1, 25000) AS t(x) ORDER BY x"
    failing = "SELECT x, 100 / (x - 150000) AS q FROM generate_series(1, 200000) AS t(x)"

    async def main(con):
        p = Portals(con)
        seen = []
        async with con.transaction():
            await p.bind("rows", query)
            for limit in (3, 3, 10, 2, 12000, 7):
                rows, finished = await p.execute("rows", limit)
                seen.append((limit, rows[0], rows[-1], len(rows), finished))
            seen.append(await con.fetchval(COUNT))  # another statement: the rest is kept
            rows, finished = await p.execute("rows", 5)
            seen.append((rows, finished))
            rows, finished = await p.execute("rows", 0)
            seen.append((rows[0], rows[-1], len(rows), finished))
            seen.append(await p.execute("rows", 5))  # read to the end already
            await p.bind("closed", query)
            seen.append(len((await p.execute("closed", 100))[0]))
            seen.append(await p.close("closed"))  # its next rows may be encoded already
            seen.append(await con.fetchval("SELECT 46"))
        got: list = []
        async with con.transaction():  # failed: its COMMIT is a ROLLBACK
            await p.bind("failing", failing)
            while True:
                outcome = await p.execute("failing", 10000)
                if isinstance(outcome, str):
                    seen.append(outcome)
                    break
                got.extend(x for x, _ in outcome[0])
        seen.append(got == list(range(1, len(got) + 1)) and len(got) < 150000)
        seen.append(await con.fetchval("SELECT 47"))
        return seen

    seen = _same(servers, main)
    assert seen[0] == (3, (1, "row 1", 0.25), (3, "row 3", 0.75), 3, False)
    assert seen[6] > 0 and seen[9] == ([], True) and seen[-3:] == ["22012", True, 47]


def test_each_execute_tags_the_rows_it_sent(servers):
    """CommandComplete after row-limited Executes says how many rows that Execute sent (``SELECT
    1`` for the last one of five rows read two at a time), and an exhausted portal ``SELECT 0``."""
    query = "SELECT x FROM generate_series(1, 5) AS t(x)"

    async def main(con):
        tags = []
        async with con.transaction():
            for portal, limits in (("twos", (2, 2, 2, 2)), ("rest", (2, 0, 2)), ("whole", (0, 0))):
                state = await con._get_statement(query, None, named=True)
                await con._protocol.bind(state, (), portal, None)
                for limit in limits:
                    records, tag, finished = await con._protocol.execute(state, portal, limit, True, None)
                    tags.append((portal, len(records), tag, finished))
        return tags

    tags = _same(servers, main)
    assert ("twos", 1, b"SELECT 1", True) in tags and ("rest", 3, b"SELECT 3", True) in tags
    assert tags[-1] == ("whole", 0, b"SELECT 0", True)


def test_next_chunk_is_encoded_while_the_client_reads(servers, pg_server):
    """After an Execute with a row limit, the server encodes the next chunk of that size without
    being asked (asyncpg asks for it next); nothing more, and the rows sent stay the ones asked for."""
    asyncpg = pytest.importorskip("asyncpg")

    async def main():
        con = await asyncpg.connect(servers["chaosql"])
        try:
            p = Portals(con)
            async with con.transaction():
                await p.bind("rows", NAMES)
                first, _ = await p.execute("rows", 3)
                (conn,) = [c for _, c in pg_server.server._live.values() if "rows" in c.portals]
                portal = conn.portals["rows"]
                for _ in range(100):  # the server's loop runs in another thread: wait for the call
                    if portal.ahead is not None:
                        break
                    await asyncio.sleep(0.05)
                ahead = (portal.ahead.count, portal.ahead.ended, portal.sent) if portal.ahead else None
                second, _ = await p.execute("rows", 3)
            return ahead, first + second, await con.fetch(NAMES + " LIMIT 6")
        finally:
            await con.close()

    ahead, read, expected = asyncio.run(main())
    assert ahead == (3, False, 3)
    assert read == [tuple(r) for r in expected]


def test_rows_encoded_ahead_go_out_before_the_next_chunk_is_encoded(servers, pg_server):
    """An Execute answered with rows encoded ahead writes them, and the Sync's ReadyForQuery,
    before the chunk after them starts being encoded: a worker started first would hold the GIL
    while the client waits for those rows (asyncpg's cursors read this way, 100 times per 1M rows)."""
    asyncpg = pytest.importorskip("asyncpg")
    wide = "SELECT i, repeat('x', 200) || i::VARCHAR AS filler FROM range(20000) t(i) ORDER BY i"
    chunk = 2_000  # some 430 kB: written when sent, not gathered until Sync

    async def main():
        con = await asyncpg.connect(servers["chaosql"])
        try:
            p = Portals(con)
            async with con.transaction():
                await p.bind("rows", wide)
                first, _ = await p.execute("rows", chunk)
                (conn,) = [c for _, c in pg_server.server._live.values() if "rows" in c.portals]
                for _ in range(100):  # the rows after the first Execute's, encoded in its call
                    if conn.portals["rows"].ahead is not None:
                        break
                    await asyncio.sleep(0.05)
                written, seen = [0], []
                write, fill_ahead = conn.writer.write, conn._fill_ahead

                def counting_write(data):
                    written[0] += len(data)
                    write(data)

                def noting_fill_ahead(*args):
                    seen.append(written[0])
                    fill_ahead(*args)

                conn.writer.write, conn._fill_ahead = counting_write, noting_fill_ahead
                try:
                    second, _ = await p.execute("rows", chunk)  # rows encoded ahead: the next ones are encoded
                    answered = written[0]  # ReadyForQuery has reached us: all of this Execute is written
                    for _ in range(100):
                        if seen:
                            break
                        await asyncio.sleep(0.05)
                    third, _ = await p.execute("rows", chunk)
                finally:
                    del conn.writer.write, conn._fill_ahead
            return answered, seen, first + second + third, await con.fetch(wide + f" LIMIT {3 * chunk}")
        finally:
            await con.close()

    answered, seen, read, expected = asyncio.run(main())
    assert answered > 0 and seen[:1] == [answered]
    assert read == [tuple(r) for r in expected]


def test_cancel_while_rows_stream(servers):
    """A CancelRequest while a big result streams stops it with 57014 (it streamed to its end);
    the connection answers the next statement, and a cancel sent while nothing runs is dropped."""
    psycopg = pytest.importorskip("psycopg")

    def run(url):
        with psycopg.connect(url, autocommit=True) as con:
            n = 0
            try:
                for _ in con.cursor().stream("SELECT x FROM generate_series(1, 20000000) AS t(x)"):
                    n += 1
                    if n == 50_000:
                        con.cancel_safe()  # (cancel() holds the GIL while the in-process server needs it)
                outcome = "finished"
            except psycopg.Error as err:
                outcome = err.sqlstate
            con.cancel_safe()  # nothing runs: dropped
            return outcome, n < 20_000_000, con.execute("SELECT 48").fetchone()

    assert run(servers["chaosql"]) == run(servers["postgres"]) == ("57014", True, (48,))
