"""Fixtures for the Postgres-wire tests: a chaosql server in a thread over the demo data, real clients."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# --import-mode=importlib does not put this directory on sys.path
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pgwire_env import PASSWORD, QUERY


def _sources():
    from chaosql.sources import open_source

    return [open_source("demo")]


@pytest.fixture(scope="session")
def shared_sources():
    return _sources()


def _server(sources, **kwargs):
    from chaosql.server.server import Server, ServerThread, server_session

    # sessions as `chaosql serve` opens them
    return ServerThread(Server(lambda: server_session(sources), port=0, **kwargs))


@pytest.fixture(scope="session")
def pg_server(shared_sources):
    """A trust-auth server on 127.0.0.1; ``.port``."""
    from chaosql.server.auth import AuthConfig

    thread = _server(shared_sources, auth=AuthConfig("trust")).start()
    yield thread
    thread.stop()


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory) -> tuple[str, str]:
    if not shutil.which("openssl"):
        pytest.skip("openssl not installed")
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "server.crt", d / "server.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return str(cert), str(key)


@pytest.fixture(scope="session")
def auth_server(shared_sources, tls_files):
    """SCRAM auth (users alice: reader, writer: writes=true) with TLS offered."""
    from chaosql.server.auth import auth_config

    cfg = auth_config({"users": {"alice": {"password": PASSWORD}, "writer": {"password": PASSWORD, "writes": True}}})
    thread = _server(shared_sources, auth=cfg, tls_cert=tls_files[0], tls_key=tls_files[1]).start()
    yield thread
    thread.stop()


@pytest.fixture(scope="session")
def expected(shared_sources):
    """What Session.execute answers for QUERY, as Python rows."""
    from chaosql.engine.session import Session

    session = Session(shared_sources)
    try:
        return session.execute(QUERY).rows()
    finally:
        session.close()


@pytest.fixture(scope="session")
def real_pg():
    """A real PostgreSQL 15 holding chaosql's tables and the demo rows (pg_differential.load); ``.dsn``."""
    import pg_differential
    import realpg

    if realpg.pg_bin("initdb") is None:
        pytest.skip("PostgreSQL server binaries not installed (tests/setup.d/40-pgwire.sh)")
    with realpg.RealPostgres() as pg:
        pg_differential.load(pg.dsn)
        yield pg
