"""Cancel, write refusal, 50 concurrent clients, and a fuzz test that must not hurt the server or others."""

from __future__ import annotations

import os
import random
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pgwire_env import PASSWORD, QUERY, dsn

LONG = "SELECT count(*) FROM range(10000000000) t(x) WHERE x % 7 = 3"
#: Malformed messages the fuzz test sends: 300 in CI, 10,000 with CHAOSQL_FUZZ_LONG=1 (as the other fuzzers).
FUZZ_MESSAGES = int(
    os.environ.get("CHAOSQL_FUZZ_MESSAGES", "10000" if os.environ.get("CHAOSQL_FUZZ_LONG") == "1" else "300")
)


CANCEL_CLIENT = """
import sys, threading, time, psycopg
con = psycopg.connect(sys.argv[1], autocommit=True)
threading.Timer(1.0, con.cancel).start()
started = time.monotonic()
try:
    con.execute(sys.argv[2])
    print("not-cancelled")
except psycopg.errors.QueryCanceled as err:
    print("cancelled", err.sqlstate, round(time.monotonic() - started, 1))
print("after", con.execute("SELECT 7").fetchone()[0])
"""


def test_psycopg_cancel_leaves_connection_usable(pg_server):
    # The client runs in its own process, as a real client does: in this process it would compete
    # with the server's worker threads for the GIL.
    pytest.importorskip("psycopg")
    run = subprocess.run(
        [sys.executable, "-c", CANCEL_CLIENT, dsn(pg_server.port), LONG], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.split("\n")
    cancelled = lines[0].split()
    assert cancelled[:2] == ["cancelled", "57014"] and float(cancelled[2]) < 20
    assert lines[1] == "after 7"


def test_writes_refused_for_read_only_user(auth_server):
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect(dsn(auth_server.port, "alice", PASSWORD), autocommit=True) as con:
        for sql in (
            "DELETE FROM experiments WHERE name = 'x'",
            "UPDATE experiments SET paused = true WHERE name = 'x'",
            "INSERT INTO experiments (name) VALUES ('x')",
            "WITH doomed AS (SELECT 'x' AS n) DELETE FROM public.experiments WHERE name IN (SELECT n FROM doomed)",
            "MERGE INTO experiments USING (SELECT 'x' AS n) s ON name = s.n WHEN MATCHED THEN DELETE",
            "EXPLAIN ANALYZE DELETE FROM experiments WHERE name = 'x'",  # its dry runs are calls too
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                con.execute(sql)
        assert con.execute("SELECT count(*) > 0 FROM experiments").fetchone() == (True,)
    with psycopg.connect(dsn(auth_server.port, "writer", PASSWORD), autocommit=True) as con:  # writes = true
        cur = con.execute("DELETE FROM experiments WHERE name = 'no-such-experiment'")
        assert cur.statusmessage == "DELETE 0"


def test_server_files_are_out_of_reach(pg_server, tmp_path):
    """COPY TO, read_csv, ATTACH and INSTALL would touch the server's disk: refused with 42501."""
    psycopg = pytest.importorskip("psycopg")
    target = tmp_path / "leak.csv"
    with psycopg.connect(dsn(pg_server.port), autocommit=True) as con:
        for sql in (
            f"COPY (SELECT 1) TO '{target}'",
            "SELECT * FROM read_csv('/etc/passwd')",
            f"ATTACH '{tmp_path / 'x.db'}' AS x",
            "INSTALL httpfs",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                con.execute(sql)
        assert con.execute("SELECT count(*) > 0 FROM experiments").fetchone() == (True,)
    assert not target.exists() and not (tmp_path / "x.db").exists()


def test_wrong_password_sqlstate(auth_server):
    psycopg = pytest.importorskip("psycopg")
    with pytest.raises(psycopg.OperationalError) as info:
        psycopg.connect(dsn(auth_server.port, "alice", "nope", sslmode="disable"))
    assert "28P01" in str(info.value) or "password authentication failed" in str(info.value)
    with psycopg.connect(dsn(auth_server.port, "alice", PASSWORD, sslmode="require")) as con:
        assert con.info.pgconn.ssl_in_use


def test_fifty_concurrent_clients(pg_server, expected):
    psycopg = pytest.importorskip("psycopg")
    errors: list[BaseException] = []
    done = [0]
    deadline = time.monotonic() + 20

    def client(i: int) -> None:
        try:
            with psycopg.connect(dsn(pg_server.port), autocommit=True) as con:
                n = 0
                while time.monotonic() < deadline and n < 4:
                    if i % 2:
                        assert con.execute(QUERY).fetchall() == expected
                    else:
                        assert con.execute("SELECT %s::INTEGER + 1", (i,)).fetchone() == (i + 1,)
                    n += 1
                done[0] += 1
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors[:3]
    assert done[0] == 50


def test_client_that_stops_reading_blocks_nobody(pg_server):
    """A client asks for 5M rows and never reads them: others keep getting answers quickly."""
    psycopg = pytest.importorskip("psycopg")
    query = b"SELECT x, 'row-' || x::VARCHAR FROM range(5000000) t(x)\x00"
    with socket.create_connection(("127.0.0.1", pg_server.port)) as stuck:
        stuck.sendall(_startup("stuck") + b"Q" + struct.pack("!i", len(query) + 4) + query)
        time.sleep(1.0)  # the server fills the socket buffers and waits for this client
        with psycopg.connect(dsn(pg_server.port), autocommit=True) as other:
            started = time.monotonic()
            for i in range(5):
                assert other.execute("SELECT %s::INTEGER", (i,)).fetchone() == (i,)
            assert time.monotonic() - started < 5


def _startup(user: str = "fuzz") -> bytes:
    body = struct.pack("!i", 196608) + b"user\x00" + user.encode() + b"\x00database\x00chaosql\x00\x00"
    return struct.pack("!i", len(body) + 4) + body


def _messages(rng: random.Random) -> bytes:
    kinds = [b"Q", b"P", b"B", b"D", b"E", b"C", b"S", b"H", b"d", b"F", b"Z", b"\x00", b"p"]
    choice = rng.randrange(6)
    if choice == 0:  # random bytes after a good startup
        return _startup() + rng.randbytes(rng.randrange(1, 200))
    if choice == 1:  # random bytes instead of a startup
        return rng.randbytes(rng.randrange(1, 200))
    if choice == 2:  # oversized length
        return _startup() + rng.choice(kinds) + struct.pack("!i", rng.choice([2**31 - 1, 2**30, -5, 3]))
    if choice == 3:  # truncated / inconsistent message contents
        kind = rng.choice(kinds)
        body = rng.randbytes(rng.randrange(0, 30))
        return _startup() + kind + struct.pack("!i", len(body) + 4) + body
    if choice == 4:  # huge counts inside a Bind
        body = b"\x00\x00" + struct.pack("!h", 32000) + b"\x00"
        return _startup() + b"B" + struct.pack("!i", len(body) + 4) + body
    return struct.pack("!ii", rng.choice([8, 16, 100000, 3]), rng.randrange(2**31))  # odd startup codes


def test_fuzz_never_crashes_server_or_other_sessions(pg_server):
    psycopg = pytest.importorskip("psycopg")
    rng = random.Random(20261127)
    with psycopg.connect(dsn(pg_server.port), autocommit=True) as bystander:
        started = time.monotonic()
        for _ in range(FUZZ_MESSAGES):  # fixed budget
            payload = _messages(rng)
            with socket.create_connection(("127.0.0.1", pg_server.port), timeout=5) as s:
                try:
                    s.sendall(payload)
                    s.shutdown(socket.SHUT_WR)
                    while s.recv(65536):
                        pass
                except OSError:
                    pass
        assert bystander.execute("SELECT 1").fetchone() == (1,)
    with psycopg.connect(dsn(pg_server.port)) as fresh:
        assert fresh.execute("SELECT 2").fetchone() == (2,)
    print(
        f"\nwire fuzz: {FUZZ_MESSAGES} malformed messages in {time.monotonic() - started:.0f} s; server and bystander fine"
    )


def test_require_tls_refuses_plain_connections(shared_sources, tls_files):
    psycopg = pytest.importorskip("psycopg")
    from chaosql.engine.session import Session
    from chaosql.server.auth import auth_config
    from chaosql.server.server import Server, ServerThread

    cfg = auth_config({"auth": "password", "users": {"bob": {"password": PASSWORD}}})
    server = Server(
        lambda: Session(shared_sources), auth=cfg, port=0, tls_cert=tls_files[0], tls_key=tls_files[1], require_tls=True
    )
    with ServerThread(server) as thread:
        with pytest.raises(psycopg.OperationalError, match="only TLS"):
            psycopg.connect(dsn(thread.port, "bob", PASSWORD, sslmode="disable"))
        with psycopg.connect(dsn(thread.port, "bob", PASSWORD, sslmode="require")) as con:
            assert con.info.pgconn.ssl_in_use and con.execute("SELECT 1").fetchone() == (1,)


def test_writes_over_the_wire_keep_their_command_tags(tmp_path):
    """A write user changes a GitOps snapshot directory; RETURNING rows come with INSERT/DELETE tags."""
    psycopg = pytest.importorskip("psycopg")
    from chaosql.engine.session import Session
    from chaosql.server.auth import auth_config
    from chaosql.server.server import Server, ServerThread
    from chaosql.sources.snapshot import SnapshotSource

    (tmp_path / "lab").mkdir()
    source = SnapshotSource(tmp_path)
    cfg = auth_config({"users": {"writer": {"password": PASSWORD, "writes": True}}})
    thread = ServerThread(Server(lambda: Session([source]), port=0, auth=cfg)).start()
    spec = '{"action": "pod-kill", "mode": "one", "selector": {"namespaces": ["shop"]}}'
    try:
        with psycopg.connect(dsn(thread.port, "writer", PASSWORD), autocommit=True) as con:
            cur = con.execute(
                "INSERT INTO experiments (cluster, namespace, name, kind, spec) "
                f"VALUES ('lab', 'shop', 'kill-one', 'PodChaos', '{spec}') RETURNING name, kind"
            )
            assert cur.fetchall() == [("kill-one", "PodChaos")] and cur.statusmessage == "INSERT 0 1"
            assert (tmp_path / "lab" / "shop" / "podchaos-kill-one.yaml").exists()
            cur = con.execute("DELETE FROM experiments WHERE name = 'kill-one' RETURNING name")
            assert cur.fetchall() == [("kill-one",)] and cur.statusmessage == "DELETE 1"
            assert not (tmp_path / "lab" / "shop" / "podchaos-kill-one.yaml").exists()
    finally:
        thread.stop()


def _threads() -> int:
    return len(list(Path("/proc/self/task").iterdir()))


def test_connections_share_a_fixed_worker_pool(shared_sources):
    """An idle connection has no thread and no session of its own; connections that run
    statements share the server's workers (DuckDB runs on them too), so 40 busy connections
    add at most the pools' threads, not threads per connection."""
    psycopg = pytest.importorskip("psycopg")
    from chaosql.engine.session import Session
    from chaosql.server.auth import AuthConfig
    from chaosql.server.server import SESSION_DUCKDB, Server, ServerThread

    server = Server(
        lambda: Session(shared_sources, duckdb_config=SESSION_DUCKDB), port=0, auth=AuthConfig("trust"), workers=3
    )
    with ServerThread(server) as thread:
        with psycopg.connect(dsn(thread.port), autocommit=True) as warm:  # pools started by a first statement
            assert warm.execute(QUERY).fetchall()
        before = _threads()
        cons = [psycopg.connect(dsn(thread.port), autocommit=True) for _ in range(40)]
        try:
            time.sleep(0.3)
            assert _threads() <= before + 1, "idle connections started threads"
            for con in cons:
                assert con.execute("SELECT 41 + 1").fetchone() == (42,)
            assert con.execute(QUERY).fetchall()
            assert _threads() <= before + 3, "busy connections started threads beyond the worker pool"
        finally:
            for con in cons:
                con.close()


def test_a_connection_gets_a_session_opened_before_it_connected(shared_sources):
    """Opening a session (a DuckDB database of its own, the chaos tables' catalog) takes tens of
    milliseconds: the server opens one once it listens and hands it to the next connection's
    first statement, then opens the following one in the background. Two connections never get
    the same session, and the one left unused when the server stops is closed with it."""
    duckdb = pytest.importorskip("duckdb")
    psycopg = pytest.importorskip("psycopg")
    from chaosql.engine.session import Session
    from chaosql.server.auth import AuthConfig
    from chaosql.server.server import SESSION_DUCKDB, Server, ServerThread

    opened: list[Session] = []

    def new_session() -> Session:
        opened.append(Session(shared_sources, duckdb_config=SESSION_DUCKDB))
        return opened[-1]

    def made(count: int) -> None:
        deadline = time.monotonic() + 30
        while not (len(opened) == count and server._spare is opened[-1]) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(opened) == count and server._spare is opened[-1], f"{len(opened)} sessions, expected {count} ready"

    server = Server(new_session, port=0, auth=AuthConfig("trust"))
    with ServerThread(server) as thread:
        made(1)  # before any client
        ahead = opened[0]
        sessions = []
        for expected in (2, 3):
            with psycopg.connect(dsn(thread.port), autocommit=True) as con:
                assert con.execute("SELECT count(*) FROM experiments").fetchone()[0] > 0
                sessions.append(server._live[con.info.backend_pid][1].runner.session)
                made(expected)  # the next one, in the background
        assert sessions[0] is ahead and sessions[1] is opened[1], "a first statement opened its own session"
    with pytest.raises(duckdb.Error):
        opened[2].con.execute("SELECT 1")  # the unused one was closed with the server


def test_a_served_snapshot_is_read_as_the_server_starts(tmp_path):
    """The server reads a snapshot's files once it listens, so its first clients do not all wait
    for that: an experiment whose file is removed afterwards is still served (until a reload, as
    before), and a snapshot that cannot be read is reported by the statements that need it."""
    import shutil

    psycopg = pytest.importorskip("psycopg")
    from chaosql.engine.session import Session
    from chaosql.server.auth import AuthConfig
    from chaosql.server.server import SESSION_DUCKDB, Server, ServerThread
    from chaosql.sources.snapshot import SnapshotSource

    demo = Path(__file__).resolve().parents[2] / "chaosql" / "demo" / "prod-eu" / "awschaos.json"
    (tmp_path / "lab").mkdir()
    shutil.copy(demo, tmp_path / "lab" / "awschaos.json")
    read, missing = SnapshotSource(tmp_path), SnapshotSource(tmp_path / "nowhere")
    for source, answer in ((read, None), (missing, "does not exist")):
        server = Server(lambda s=source: Session([s], duckdb_config=SESSION_DUCKDB), port=0, auth=AuthConfig("trust"))
        with ServerThread(server) as thread:
            deadline = time.monotonic() + 30
            while server._making_spare and time.monotonic() < deadline:  # the start's background work
                time.sleep(0.01)
            (tmp_path / "lab" / "awschaos.json").unlink(missing_ok=True)
            with psycopg.connect(dsn(thread.port), autocommit=True) as con:
                if answer is None:
                    assert con.execute("SELECT cluster, kind FROM experiments").fetchall() == [("lab", "AWSChaos")]
                else:
                    with pytest.raises(psycopg.Error, match=answer):
                        con.execute("SELECT count(*) FROM experiments")
                    assert con.execute("SELECT 1").fetchone() == (1,)


def test_workers_setting_is_checked(shared_sources):
    from chaosql.errors import UsageError
    from chaosql.server.auth import AuthConfig
    from chaosql.server.server import Server, default_workers

    assert Server(lambda: None, auth=AuthConfig("trust"), workers=2).workers == 2
    assert Server(lambda: None, auth=AuthConfig("trust")).workers == default_workers()
    with pytest.raises(UsageError, match="--workers takes a number from 1 to 1024, not 0"):
        Server(lambda: None, auth=AuthConfig("trust"), workers=0)
    help_text = subprocess.run(
        [sys.executable, "-m", "chaosql", "serve", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "--workers N" in help_text
    bad = subprocess.run(
        [sys.executable, "-m", "chaosql", "serve", "-s", "demo", "--port", "0", "--workers", "-1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "--workers takes a number from 1 to 1024, not -1" in bad.stderr


def _stop_with_clients(port: int, stop) -> list[BaseException]:
    """Stop a server (``stop()``) with one client idle in an open transaction with a cursor, one
    mid-query; what each client was told."""
    psycopg = pytest.importorskip("psycopg")
    idle = psycopg.connect(dsn(port))
    cursor = idle.cursor(name="parked")
    cursor.execute("SELECT name FROM experiments")
    cursor.fetchmany(2)
    busy = psycopg.connect(dsn(port), autocommit=True)
    told: list[BaseException] = []

    def run() -> None:
        try:
            busy.execute(LONG)
        except psycopg.Error as err:
            told.append(err)

    worker = threading.Thread(target=run)
    worker.start()
    time.sleep(1.5)  # the query is running
    stop()
    worker.join(60)
    try:
        idle.execute("SELECT 1")
    except psycopg.Error as err:
        told.append(err)
    idle.close()
    busy.close()
    return told


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stopped_server_tells_its_clients_and_stays_quiet(signum):
    """SIGTERM or Ctrl-C to ``chaosql serve`` with clients connected: as PostgreSQL's fast shutdown,
    the running query is cancelled, clients get FATAL 57P01, and the server's stderr holds no
    traceback (it used to print an unretrieved CancelledError)."""
    psycopg = pytest.importorskip("psycopg")
    from serve_process import Served

    with Served("--source", "demo") as served:
        told = _stop_with_clients(served.port, lambda: served.proc.send_signal(signum))
        _, err = served.proc.communicate(timeout=60)
    assert served.proc.returncode == (130 if signum == signal.SIGINT else 0), err
    assert "Traceback" not in err and "Error" not in err and "never retrieved" not in err, err
    assert len(told) == 2 and all(isinstance(e, psycopg.errors.AdminShutdown) for e in told), told


def test_stopping_the_test_server_stays_quiet(shared_sources, capfd):
    """The tests' ServerThread stops the same way, with nothing on stderr."""
    psycopg = pytest.importorskip("psycopg")
    from chaosql.engine.session import Session
    from chaosql.server.auth import AuthConfig
    from chaosql.server.server import SESSION_DUCKDB, Server, ServerThread

    thread = ServerThread(
        Server(lambda: Session(shared_sources, duckdb_config=SESSION_DUCKDB), auth=AuthConfig("trust"), port=0)
    ).start()
    told = _stop_with_clients(thread.port, thread.stop)
    import gc

    gc.collect()  # an unretrieved exception is reported when its task is collected
    err = capfd.readouterr().err
    assert "Traceback" not in err and "never retrieved" not in err, err
    assert len(told) == 2 and all(isinstance(e, psycopg.errors.AdminShutdown) for e in told), told


def test_a_repeated_small_query_takes_one_worker_call(shared_sources):
    """A query the connection has prepared before, with small bound values and a small result, is
    run and its rows encoded in one call on the worker pool (Parse, Bind, Describe and the rows'
    encoding need no call of their own), for the simple and the extended protocol alike; a SELECT
    of literals answered before needs none; an Execute with a row limit still gets its rows in order."""
    from decimal import Decimal

    psycopg = pytest.importorskip("psycopg")
    from chaosql.engine.session import Session
    from chaosql.server.auth import AuthConfig
    from chaosql.server.server import SESSION_DUCKDB, Server, ServerThread

    server = Server(lambda: Session(shared_sources, duckdb_config=SESSION_DUCKDB), port=0, auth=AuthConfig("trust"))
    calls = []
    submit = server.pool.submit
    server.pool.submit = lambda fn, *args: calls.append(fn) or submit(fn, *args)  # type: ignore[method-assign]
    page = "SELECT name FROM experiments WHERE namespace = %s ORDER BY name LIMIT 3 OFFSET %s"
    with ServerThread(server) as thread, psycopg.connect(dsn(thread.port), autocommit=True) as con:
        first = con.execute(page, ("shop", 2)).fetchall()
        literals = "SELECT 1, -2.5 AS x, 'a', NULL, true"  # its answer cannot change: kept, no worker at all
        for query, params, expected in ((page, ("shop", 2), 1), ("SELECT 1 + 1", None, 1), (literals, None, 0)):
            con.execute(query, params).fetchall()  # prepared (and described) on this connection now
            del calls[:]
            rows = con.execute(query, params).fetchall()
            assert len(calls) == expected, f"{query}: {len(calls)} worker calls"
        assert rows == [(1, Decimal("-2.5"), "a", None, True)]
        for _ in range(2):  # the kept rows are per format: binary ones are not the text ones
            assert con.execute(literals, binary=True).fetchall() == rows
            assert con.execute(literals).fetchall() == rows
        assert [d.name for d in con.execute(literals).description][:4] == ["?column?", "x", "?column?", "?column?"]
        with psycopg.ClientCursor(con) as cur:  # the simple protocol (Query)
            cur.execute("SELECT 41 + 1")
            del calls[:]
            assert cur.execute("SELECT 41 + 1").fetchall() == [(42,)]
            assert len(calls) == 1, f"simple query: {len(calls)} worker calls"
        with con.cursor("named") as cur:  # DECLARE + FETCH in chunks: rows in order
            cur.execute(page, ("shop", 2))
            assert cur.fetchmany(2) + cur.fetchall() == first


def _message(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("!i", len(body) + 4) + body


def _recv_until(sock: socket.socket, end: bytes) -> bytes:
    data = b""
    while end not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection: " + repr(data[-200:]))
        data += chunk
    return data


def test_a_round_trip_is_answered_in_one_write_and_flush_sends_what_is_ready(pg_server):
    """The messages answering one round trip (ParseComplete, BindComplete, RowDescription, rows,
    CommandComplete, ReadyForQuery) leave the server together, as PostgreSQL's output buffer sends
    them: one packet for the client to read, not six. A Flush without Sync still gets everything
    answered so far (a pipelining client waits for it), and so does a client that reads a portal
    row by row with Execute row limits."""
    query = b"SELECT x FROM range(3) t(x)"
    parse = _message(b"P", b"\x00" + query + b"\x00\x00\x00")
    bind = _message(b"B", b"\x00\x00" + b"\x00\x00" + b"\x00\x00" + b"\x00\x00")
    describe, sync, flush = _message(b"D", b"P\x00"), _message(b"S", b""), _message(b"H", b"")

    def execute(rows: int) -> bytes:
        return _message(b"E", b"\x00" + struct.pack("!i", rows))

    with socket.create_connection(("127.0.0.1", pg_server.port), timeout=30) as sock:
        sock.sendall(_startup("gather"))
        _recv_until(sock, b"Z\x00\x00\x00\x05I")
        for _ in range(20):
            sock.sendall(parse + bind + describe + execute(0) + sync)
            first = sock.recv(65536)  # what one write brings: the whole answer
            assert first.startswith(b"1\x00\x00\x00\x04" + b"2\x00\x00\x00\x04" + b"T"), first[:40]
            assert first.endswith(b"C\x00\x00\x00\x0dSELECT 3\x00" + b"Z\x00\x00\x00\x05I"), first[-40:]
            assert first.count(b"D\x00\x00\x00") == 3
        # no Sync: a Flush must bring the answer anyway, and the ReadyForQuery waits for the Sync
        sock.sendall(parse + bind + execute(0) + flush)
        answer = _recv_until(sock, b"SELECT 3\x00")
        assert answer.startswith(b"1\x00\x00\x00\x042\x00\x00\x00\x04D") and b"Z" not in answer[-6:]
        sock.sendall(sync)
        assert _recv_until(sock, b"Z\x00\x00\x00\x05I").endswith(b"Z\x00\x00\x00\x05I")
        # a portal read one row per Execute, each followed by Flush: suspended, then the rest
        sock.sendall(parse + bind + execute(1) + flush)
        assert _recv_until(sock, b"s\x00\x00\x00\x04").count(b"D\x00\x00\x00") == 1
        sock.sendall(execute(0) + flush)
        assert _recv_until(sock, b"C\x00\x00\x00").count(b"D\x00\x00\x00") == 2
        sock.sendall(sync)
        _recv_until(sock, b"Z\x00\x00\x00\x05I")
