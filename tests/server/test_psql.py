"""psql against `chaosql serve`: a query, \\dt, \\d experiments, \\l, errors with SQLSTATE, TLS."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pgwire_env import PASSWORD, dsn

pytestmark = pytest.mark.skipif(not shutil.which("psql"), reason="psql not installed (tests/setup.d/40-pgwire.sh)")


def psql(url: str, *commands: str, env: dict | None = None) -> subprocess.CompletedProcess:
    args = ["psql", url, "-X", "-v", "ON_ERROR_STOP=1", "-v", "VERBOSITY=verbose"]
    for c in commands:
        args += ["-c", c]
    return subprocess.run(args, capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})})


def test_query_and_introspection(pg_server, expected):
    from chaosql.tables import registry

    out = psql(dsn(pg_server.port), "SELECT name, kind FROM experiments ORDER BY cluster, namespace, name, uid LIMIT 3")
    assert out.returncode == 0, out.stderr
    for name, _ns, kind, *_ in expected[:3]:
        assert name in out.stdout and kind in out.stdout
    out = psql(dsn(pg_server.port), r"\dt", r"\d experiments", r"\l")
    assert out.returncode == 0, out.stderr
    for table in registry():
        assert f" public | {table} " in out.stdout
    assert 'Table "public.experiments"' in out.stdout
    assert "created_at" in out.stdout and "timestamp with time zone" in out.stdout
    assert "List of databases" in out.stdout and "chaosql" in out.stdout


def test_errors_show_sqlstate(pg_server):
    out = psql(dsn(pg_server.port), "SELECT * FROM nope")
    assert out.returncode != 0 and "42P01" in out.stderr
    out = psql(dsn(pg_server.port), "SELECT 'abc'::INTEGER")
    assert out.returncode != 0 and "ERROR:  22P02" in out.stderr


def test_scram_password_right_wrong_and_tls(auth_server):
    ok = psql(dsn(auth_server.port, "alice", PASSWORD, sslmode="require"), r"\conninfo", "SELECT count(*) FROM nodes")
    assert ok.returncode == 0, ok.stderr
    assert "SSL connection" in ok.stdout
    bad = psql(dsn(auth_server.port, "alice", "wrong", sslmode="disable"), "SELECT 1")
    assert bad.returncode != 0 and "password authentication failed" in bad.stderr
    unknown = psql(dsn(auth_server.port, "mallory", PASSWORD), "SELECT 1")
    assert unknown.returncode != 0 and "password authentication failed" in unknown.stderr
