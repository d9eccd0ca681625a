"""Replay what real clients sent to a real PostgreSQL (tests/server/corpus/*.sql) against chaosql.

The corpus is captured by tests/server/corpus/capture.py; bi_tools.sql holds Grafana's and
Metabase's connection and introspection queries, rendered by hand from their source, and
dbeaver.sql DBeaver's, written by hand (neither tool runs here).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from pgwire_env import dsn  # noqa: E402

FILES = sorted((HERE / "corpus").glob("*.sql"))


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_replay_corpus(pg_server, path):
    psycopg = pytest.importorskip("psycopg")
    statements = [s.strip() for s in path.read_text(encoding="utf-8").split("\n;;\n") if s.strip()]
    assert statements
    failures = []
    with psycopg.connect(dsn(pg_server.port), autocommit=True) as con:
        for sql in statements:
            try:
                cur = con.execute(sql.replace("%", "%%"))
                if cur.description is not None:
                    cur.fetchall()
            except psycopg.Error as err:
                failures.append(f"{err.sqlstate}: {str(err).splitlines()[0]}\n  in: {sql[:300]}")
    assert not failures, "\n".join(failures)
