"""Settings a client sends when it connects (issue 12, items 7 and 16): the startup packet's
TimeZone (libpq's PGTZ) and its options (PGOPTIONS, node-postgres' ``options``) act as in a real
PostgreSQL 15: the zone timestamps are shown and bucketed in, and a statement timeout that cancels
with PostgreSQL's SQLSTATE and message."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pgwire_env import dsn

psycopg = pytest.importorskip("psycopg")

ZONED = [
    "SHOW timezone",
    "SHOW statement_timeout",
    "SELECT current_setting('TimeZone'), current_setting('statement_timeout')",
    "SELECT TIMESTAMPTZ '2026-11-20 20:00:00+00', date_trunc('day', TIMESTAMPTZ '2026-11-20 20:00:00+00'), "
    "(TIMESTAMPTZ '2026-11-20 20:00:00+00')::date, extract(hour FROM TIMESTAMPTZ '2026-11-20 20:00:00+00')",
    "SELECT date_trunc('day', created_at) AS day, count(*) FROM experiments GROUP BY 1 ORDER BY 1",
]
#: a statement that runs for longer than the timeout on each server
SLOW = {"chaosql": "SELECT count(*) FROM range(10000000000) t(x) WHERE x % 7 = 3", "postgres": "SELECT pg_sleep(30)"}


@pytest.fixture(scope="module")
def servers(pg_server, real_pg):
    return {"chaosql": dsn(pg_server.port, user="postgres"), "postgres": real_pg.dsn}


def _answers(url: str, **startup) -> dict:
    with psycopg.connect(url, autocommit=True, **startup) as con:
        answers = {sql: con.execute(sql).fetchall() for sql in ZONED}
        answers["reported TimeZone"] = con.info.parameter_status("TimeZone")
        return answers


@pytest.mark.parametrize(
    "startup",
    [
        {"options": "-c TimeZone=Asia/Kolkata -c statement_timeout=1500"},
        {"options": "--TimeZone=America/New_York --statement-timeout=2min"},
    ],
    ids=["dash-c", "double-dash"],
)
def test_startup_options_act_as_in_postgresql(servers, startup):
    ours, theirs = (_answers(servers[s], **startup) for s in ("chaosql", "postgres"))
    assert ours["SHOW timezone"] != [("UTC",)]
    assert ours == theirs


@pytest.mark.parametrize("server", ["chaosql", "postgres"])
def test_startup_statement_timeout_cancels_as_postgresql_does(servers, server):
    with psycopg.connect(servers[server], autocommit=True, options="-c statement_timeout=1000") as con:
        with pytest.raises(psycopg.errors.QueryCanceled) as raised:
            con.execute(SLOW[server])
        assert raised.value.sqlstate == "57014"
        assert str(raised.value).splitlines()[0] == "canceling statement due to statement timeout"
        assert con.execute("SELECT 2").fetchone() == (2,)  # the connection stays usable


def test_pgtz_in_psql(servers):
    psql = shutil.which("psql")
    if psql is None:
        pytest.skip("psql not installed (tests/setup.d/40-pgwire.sh)")
    outputs = {}
    for label, url in servers.items():
        run = subprocess.run(
            [psql, url, "-X", "-A", "-v", "ON_ERROR_STOP=1", "-c", "SHOW timezone", "-c", ZONED[3]],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "PGPASSWORD": "chaos", "PGTZ": "Australia/Adelaide"},
        )
        assert run.returncode == 0, run.stderr
        outputs[label] = run.stdout
    assert "Australia/Adelaide" in outputs["chaosql"] and "+10:30" in outputs["chaosql"]
    assert outputs["chaosql"] == outputs["postgres"]


def test_show_all_lists_each_setting_once_with_the_servers_port(pg_server):
    """Issue 12 #20: SHOW ALL listed DateStyle and TimeZone twice and the wrong port."""
    with psycopg.connect(
        dsn(pg_server.port, user="postgres"), autocommit=True, options="-c TimeZone=Asia/Tokyo"
    ) as con:
        cur = con.execute("SHOW ALL")
        assert [d.name for d in cur.description] == ["name", "setting", "description"]
        rows = cur.fetchall()
    names = [name.lower() for name, _, _ in rows]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    settings = {name: value for name, value, _ in rows}
    assert settings["port"] == str(pg_server.port)
    assert settings["TimeZone"] == "Asia/Tokyo" and settings["DateStyle"] == "ISO, MDY"
