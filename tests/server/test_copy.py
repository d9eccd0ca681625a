"""COPY ... TO STDOUT (issue 12, item 18): psql's ``\\copy``, psycopg's ``copy()`` and asyncpg's
``copy_from_query`` get the bytes a real PostgreSQL 15 with the same rows sends; what chaosql
does not do (COPY FROM, binary) is refused with 0A000 and leaves the connection usable."""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pgwire_env import dsn

psycopg = pytest.importorskip("psycopg")

#: every type a BI export meets: text, numbers, booleans, NULLs, timestamps, jsonb (labels), arrays
EXPORTS = [
    "COPY (SELECT name, kind, target_count, paused, created_at, labels FROM experiments ORDER BY name LIMIT 50) TO STDOUT",
    "COPY (SELECT name, kind, created_at, labels FROM experiments ORDER BY name LIMIT 50) TO STDOUT WITH (FORMAT csv, HEADER)",
    "COPY (SELECT name, containers, node FROM pods ORDER BY name, node LIMIT 50) TO STDOUT WITH CSV HEADER DELIMITER ';'",
    "COPY (SELECT name, NULL::text AS nothing, 'tab\there' AS tab, 'line\nbreak' AS line FROM experiments ORDER BY name LIMIT 3) TO STDOUT",
    "COPY (SELECT name, NULL::text AS nothing, 'say \"hi\", then' AS quoted FROM experiments ORDER BY name LIMIT 3) TO STDOUT (FORMAT csv, NULL 'none')",
    "COPY (SELECT 7/2 AS half, 1.23456::numeric AS n, interval '1 day 12:00:00' AS i) TO STDOUT",
]


@pytest.fixture(scope="module")
def servers(pg_server, real_pg):
    return {"chaosql": dsn(pg_server.port, user="postgres"), "postgres": real_pg.dsn}


def _psycopg_copy(url: str, sql: str) -> bytes:
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("SET TIME ZONE 'Asia/Kolkata'")  # timestamptz in the session's zone, both servers
        out = io.BytesIO()
        with con.cursor().copy(sql) as copy:
            for block in copy:
                out.write(block)
        return out.getvalue()


@pytest.mark.parametrize("sql", EXPORTS)
def test_psycopg_copy_to_stdout_sends_postgresqls_bytes(servers, sql):
    ours, theirs = (_psycopg_copy(servers[s], sql) for s in ("chaosql", "postgres"))
    assert ours.strip()  # the export is not empty
    assert ours == theirs


def test_asyncpg_copy_from_query(servers):
    asyncpg = pytest.importorskip("asyncpg")

    async def export(url: str) -> tuple[bytes, str]:
        con = await asyncpg.connect(url)
        try:
            out = io.BytesIO()
            status = await con.copy_from_query(
                "SELECT name, kind, paused, labels FROM experiments WHERE kind = $1 ORDER BY name",
                "PodChaos",
                output=out,
                format="csv",
                header=True,
            )
            return out.getvalue(), status
        finally:
            await con.close()

    ours, theirs = (asyncio.run(export(servers[s])) for s in ("chaosql", "postgres"))
    assert ours[1].startswith("COPY ") and int(ours[1].split()[1]) > 0
    assert ours == theirs


def test_psql_backslash_copy(servers, tmp_path):
    psql = shutil.which("psql")
    if psql is None:
        pytest.skip("psql not installed (tests/setup.d/40-pgwire.sh)")
    files = {}
    for label, url in servers.items():
        files[label] = tmp_path / f"{label}.csv"
        command = (
            f"\\copy (SELECT name, kind, created_at FROM experiments ORDER BY name) TO '{files[label]}' CSV HEADER"
        )
        run = subprocess.run(
            [psql, url, "-X", "-v", "ON_ERROR_STOP=1", "-c", command],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "PGPASSWORD": "chaos", "PGTZ": "UTC"},
        )
        assert run.returncode == 0, run.stderr
        assert run.stdout.startswith("COPY ")
    assert files["chaosql"].read_bytes() == files["postgres"].read_bytes()
    assert files["chaosql"].read_text().splitlines()[0] == "name,kind,created_at"


@pytest.mark.parametrize(
    "sql",
    [
        "COPY experiments FROM STDIN",
        "COPY (SELECT name FROM experiments) TO STDOUT WITH (FORMAT binary)",
    ],
)
def test_what_chaosql_does_not_copy_is_0A000(servers, sql):
    with psycopg.connect(servers["chaosql"], autocommit=True) as con:
        with pytest.raises(psycopg.errors.FeatureNotSupported):
            with con.cursor().copy(sql) as copy:
                for _ in copy:
                    pass
        assert con.execute("SELECT count(*) FROM experiments").fetchone()[0] > 0  # still usable


@pytest.mark.parametrize("message", [b"d", b"F"], ids=["copy-data", "function-call"])
def test_client_copy_data_and_function_calls_are_0A000(pg_server, message):
    """CopyData from the client and the function-call message: 0A000, and the connection goes on."""
    import socket
    import struct

    def read_until_ready(sock: socket.socket) -> bytes:
        data = b""
        while b"Z\x00\x00\x00\x05" not in data:
            chunk = sock.recv(65536)
            assert chunk, data
            data += chunk
        return data

    body = struct.pack("!i", 196608) + b"user\x00postgres\x00database\x00chaosql\x00\x00"
    with socket.create_connection(("127.0.0.1", pg_server.port), timeout=30) as sock:
        sock.sendall(struct.pack("!i", len(body) + 4) + body)
        read_until_ready(sock)
        payload = b"\x00\x00\x00\x01\x00\x00" if message == b"F" else b"a\tb\n"
        sock.sendall(message + struct.pack("!i", len(payload) + 4) + payload + b"S\x00\x00\x00\x04")
        answer = read_until_ready(sock)
        assert b"C0A000" in answer
        query = b"SELECT 5\x00"
        sock.sendall(b"Q" + struct.pack("!i", len(query) + 4) + query)
        assert b"D\x00\x00\x00\x0b\x00\x01\x00\x00\x00\x015" in read_until_ready(sock)
