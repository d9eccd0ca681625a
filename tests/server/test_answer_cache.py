"""Kept answers over the wire (``chaosql.engine.answers``, ``chaosql.server.answers``): a statement
asked again with the same inputs is answered from the kept answer, and never when anything that
could change the answer changed. What a user sees: ``SHOW chaosql.answer_cache`` counts answers
reused and computed; the rows must always be what a fresh run gives."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from snapshot_support import ending_podchaos

from chaosql.engine.answers import ANSWERS, DEFAULT_BYTES

COUNT = "SELECT count(*) FROM experiments WHERE phase = 'running' AND kind = 'PodChaos'"
PAGE = "SELECT cluster, namespace, name FROM experiments ORDER BY created_at DESC, cluster, namespace, name LIMIT 5 OFFSET %s"
LARGE = (
    "SELECT e.cluster, e.namespace, e.name, e.kind, e.phase, e.created_at, g.n FROM experiments e "
    "CROSS JOIN generate_series(1, 28) AS g(n) ORDER BY g.n, e.cluster, e.namespace, e.name LIMIT 10000"
)


def counts(conn: psycopg.Connection) -> tuple[int, int]:
    """(answers reused, answers computed) so far, as SHOW chaosql.answer_cache says."""
    text = conn.execute("SHOW chaosql.answer_cache").fetchone()[0]
    found = re.search(r"(\d+) reused, (\d+) computed", text)
    assert found, text
    return int(found.group(1)), int(found.group(2))


def reused_by(conn: psycopg.Connection, sql: str, params: tuple | None = None, **kwargs) -> tuple[list, int]:
    """The rows of ``sql`` and how many kept answers it reused (0 or 1)."""
    before = counts(conn)[0]
    rows = conn.cursor(**kwargs).execute(sql, params).fetchall()
    return rows, counts(conn)[0] - before


def serving(sources, **options):
    """A trust-auth server over ``sources``, as ``chaosql serve`` opens its sessions."""
    from chaosql.engine.session import Session
    from chaosql.server.auth import AuthConfig
    from chaosql.server.server import SESSION_DUCKDB, Server, ServerThread

    new_session = lambda: Session(sources, duckdb_config=SESSION_DUCKDB)  # noqa: E731
    return ServerThread(Server(new_session, auth=AuthConfig("trust"), port=0, **options))


@pytest.fixture
def server(shared_sources):
    with serving(shared_sources) as running:
        yield running


def connect(server) -> psycopg.Connection:
    return psycopg.connect(host="127.0.0.1", port=server.port, user="u", dbname="chaosql", autocommit=True)


def test_a_repeated_statement_is_answered_from_the_kept_answer(server):
    with connect(server) as first, connect(server) as second:
        rows, reused = reused_by(first, COUNT)
        assert reused == 0 and rows[0][0] > 0
        assert reused_by(second, COUNT) == (rows, 1)  # another connection, the same answer
        large, _ = reused_by(first, LARGE)
        for binary in (False, True, False, True):  # the rows as encoded before, per format
            again, reused = reused_by(second, LARGE, binary=binary)
            assert (again, reused) == (large, 1)
        assert len(large) == 10000 and large[0][6] == 1 and large[-1][6] > 1


def test_statements_reading_the_clock_randomness_or_the_session_are_never_reused(server):
    with connect(server) as conn:
        for sql in (
            "SELECT count(*), max(now()) FROM experiments",
            "SELECT count(*) FROM experiments WHERE created_at < now() - interval '1 day'",
            "SELECT count(*) FROM experiments WHERE created_at::date <= current_date",
            "SELECT name, random() FROM experiments LIMIT 3",
            "SELECT current_user, count(*) FROM experiments GROUP BY 1",
            "SELECT count(*), max(clock_timestamp()) FROM experiments",
        ):
            reused_by(conn, sql)
            assert reused_by(conn, sql)[1] == 0, sql
        stamps = [reused_by(conn, "SELECT max(now()) FROM experiments")[0] for _ in range(2)]
        assert stamps[0] != stamps[1]  # each statement's own clock
        clocks = reused_by(conn, "SELECT min(clock_timestamp()), max(clock_timestamp()) FROM experiments")[0]
        assert clocks[0][0] < clocks[0][1]  # the wall clock, read per row as PostgreSQL's clock_timestamp()
        conn.execute("CREATE TEMP TABLE mine AS SELECT 1 AS n")  # the session's own table
        sql = "SELECT count(*) FROM experiments, mine"
        (one,), _ = reused_by(conn, sql)
        conn.execute("INSERT INTO mine VALUES (2)")
        assert reused_by(conn, sql) == ([(one[0] * 2,)], 0)


def test_other_parameters_or_time_zone_get_their_own_answers(server):
    with connect(server) as conn:
        page0, _ = reused_by(conn, PAGE, (0,))
        page5, reused = reused_by(conn, PAGE, (5,))
        assert reused == 0 and page0 != page5 and len(page5) == 5
        assert reused_by(conn, PAGE, (0,)) == (page0, 1)
        assert reused_by(conn, PAGE, (5,)) == (page5, 1)
        sql = "SELECT created_at::text FROM experiments ORDER BY created_at, name LIMIT 1"
        utc, _ = reused_by(conn, sql)
        assert utc[0][0].endswith("+00")
        conn.execute("SET TimeZone = 'Asia/Tokyo'")
        tokyo, reused = reused_by(conn, sql)
        assert reused == 0 and tokyo[0][0].endswith("+09")
        assert reused_by(conn, sql) == (tokyo, 1)
        conn.execute("SET TimeZone = 'UTC'")
        assert reused_by(conn, sql) == (utc, 1)


def test_the_cache_keeps_to_its_bytes_and_drops_the_least_recently_used(shared_sources):
    with serving(shared_sources, answer_cache=8 * 1024) as server, connect(server) as conn:
        ANSWERS.clear()
        try:
            rows, _ = reused_by(conn, LARGE)  # far more than a quarter of the cache: never kept
            assert reused_by(conn, LARGE) == (rows, 0)
            pages = {offset: reused_by(conn, PAGE, (offset,))[0] for offset in range(0, 300, 5)}
            text = conn.execute("SHOW chaosql.answer_cache").fetchone()[0]
            kept, used = (int(n) for n in re.search(r"(\d+) answers kept, (\d+) of", text).groups())
            assert used <= 8 * 1024 and 0 < kept < len(pages), text
            assert reused_by(conn, PAGE, (0,)) == (pages[0], 0)  # the first ones went first
            assert reused_by(conn, PAGE, (295,)) == (pages[295], 1)  # the last ones are there
        finally:
            ANSWERS.resize(DEFAULT_BYTES)


def test_a_snapshot_answer_follows_the_clock_and_the_files(tmp_path):
    """A snapshot's experiment whose duration runs out between two statements is finished in the
    second answer, though nothing else changed; a reload of the files gives fresh rows."""
    from chaosql.sources.snapshot import SnapshotSource

    experiment, created = ending_podchaos()
    (tmp_path / "podchaos.json").write_text(json.dumps(experiment))
    source = SnapshotSource(tmp_path)
    sql = "SELECT name, phase FROM experiments"
    with serving([source]) as server, connect(server) as conn:
        try:
            assert reused_by(conn, sql) == ([("short", "running")], 0)
            assert reused_by(conn, sql) == ([("short", "running")], 1)
            time.sleep(max(0.0, (created + timedelta(seconds=3.2) - datetime.now(UTC)).total_seconds()))
            assert reused_by(conn, sql) == ([("short", "finished")], 0)
            assert reused_by(conn, sql) == ([("short", "finished")], 1)
            experiment["metadata"]["name"] = "renamed"
            (tmp_path / "podchaos.json").write_text(json.dumps(experiment))
            source.reload()  # what a write to the files does
            assert reused_by(conn, sql) == ([("renamed", "finished")], 0)
        finally:
            source.close()


def test_a_local_session_says_when_it_reused_an_answer_and_keeps_its_own_duckdb_changes(shared_sources, session_for):
    """The REPL's and the local service's sessions: ``-v`` says an answer was reused and since
    when; a DuckDB setting changed in one session (its time zone) is not another session's."""
    import io

    from chaosql.commands._context import print_diagnostics

    sql = "SELECT created_at::text FROM experiments ORDER BY created_at, name LIMIT 1"
    ANSWERS.resize(DEFAULT_BYTES)
    mine, other = session_for(*shared_sources), session_for(*shared_sources)
    first = mine.execute(sql)
    again = other.execute(sql)
    assert again.rows() == first.rows() and first.reused is None and again.reused is not None
    said = io.StringIO()
    print_diagnostics(again, True, said)
    assert re.search(r"answer reused: inputs unchanged since \d\d:\d\d:\d\d", said.getvalue()), said.getvalue()
    assert again.calls and all(c.what.startswith("scan ") for c in again.calls)  # the fetch ran as always
    mine.execute("SET TimeZone = 'Asia/Tokyo'")  # DuckDB's own setting, in this session only
    tokyo = mine.execute(sql)
    assert tokyo.reused is None and tokyo.scalar().endswith("+09")
    assert other.execute(sql).scalar() == first.scalar()
