"""The asyncio listener: TLS, the cancel-key registry, and running it in a thread for tests."""

from __future__ import annotations

import asyncio
import gc
import ipaddress
import itertools
import os
import socket
import ssl
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from chaosql.engine.answers import ANSWERS, DEFAULT_BYTES
from chaosql.errors import UsageError
from chaosql.server.auth import AuthConfig


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        try:
            return all(ipaddress.ip_address(info[4][0]).is_loopback for info in socket.getaddrinfo(host, None))
        except OSError:
            return False


def default_workers() -> int:
    """Statements run at once by default: two per core (a statement waiting on a source or in
    DuckDB holds its worker without the GIL), at least four, at most 32. Not more: every worker
    that can run Python contends for the GIL with the event loop, which gives it up at each socket
    read and write and waits to get it back. bench/pgwire_load.py, cold server, four alternating
    pairs on 2 cores: 4 workers instead of 8 gave small queries 2,626 q/s instead of 2,287 and p99
    136 ms instead of 190 (mixed: 816 q/s instead of 780), and the same p99 beside a long
    aggregate."""
    return max(4, min(32, 2 * (os.cpu_count() or 1)))


#: How long (seconds) a thread holding the GIL keeps it while another waits (Python's default:
#: 5 ms). The event loop reads, writes and hands statements to workers between the workers'
#: encoding of rows; waiting 5 ms for the GIL at each step made small queries beside 10,000-row
#: results slower (bench/pgwire_load.py --only mixed, four alternating pairs on 2 cores:
#: 1 ms gave, on average, small queries p50 130 ms instead of 164 ms and p99 620 ms instead of
#: 855 ms, and 185 q/s instead of 161; load average 9-31 from other work).
GIL_SWITCH = 0.001

#: DuckDB options of every server session: its statements run on the worker that runs them, so a
#: session (and a connection) has no threads of its own, and no statement takes every core.
SESSION_DUCKDB = {"threads": 1, "async_threads": 0}


def server_session(sources: list, settings: dict[str, Any] | None = None) -> Any:
    """A Session as ``chaosql serve`` opens one for a connection: no DuckDB threads of its own
    (``SESSION_DUCKDB``), and a cursor on the process's shared DuckDB database until it changes
    anything in DuckDB (``engine.database``), so opening it takes microseconds, not the ~30 ms
    of a database and its chaos tables' stand-ins."""
    from chaosql.engine.session import Session

    return Session(sources, settings=settings, duckdb_config=SESSION_DUCKDB, shared_database=True)


class Server:
    """``Server(new_session, auth=...)``; ``new_session()`` opens a Session over the shared sources
    (``server_session`` opens one as ``chaosql serve`` does).

    Connections are asyncio state only: a session is opened at a connection's first statement
    (one made ahead, see ``session``), and every statement of every connection runs on one pool
    of ``workers`` threads. ``settings``
    are the sessions' chaosql settings, known before a connection opens its session (the
    statement size limit applies to the first statement too).
    """

    def __init__(
        self,
        new_session: Callable[[], Any],
        *,
        auth: AuthConfig,
        host: str = "127.0.0.1",
        port: int = 5433,
        tls_cert: str | None = None,
        tls_key: str | None = None,
        insecure: bool = False,
        require_tls: bool = False,
        workers: int | None = None,
        settings: dict[str, Any] | None = None,
        answer_cache: int = DEFAULT_BYTES,
        owns_process: bool = False,
    ) -> None:
        """``answer_cache``: bytes of answers kept for statements asked again (``engine.answers``;
        0: none); the cache is the process's, so the last server made sets it. ``owns_process``:
        the server is what the process is for (``chaosql serve``), so it tunes the process for
        it (the GIL's switch interval, the collector); not a server inside another program."""
        if auth.method == "trust" and not is_loopback(host) and not insecure:
            raise UsageError(
                f"refusing to listen on {host} without authentication",
                hint="configure [server.users.NAME] in the config file, or pass --insecure",
            )
        self.new_session = new_session
        self.auth = auth
        self.host = host
        self.port = port
        self.ssl_context: ssl.SSLContext | None = None
        if tls_cert or tls_key:
            if not (tls_cert and tls_key):
                raise UsageError("TLS needs both --tls-cert and --tls-key")
            self.ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            try:
                self.ssl_context.load_cert_chain(tls_cert, tls_key)
            except (OSError, ssl.SSLError) as err:
                raise UsageError(f"cannot load the TLS certificate or key: {err}") from err
        if require_tls and self.ssl_context is None:
            raise UsageError("--require-tls needs --tls-cert and --tls-key")
        self.require_tls = require_tls
        if workers is not None and not 1 <= workers <= 1024:
            raise UsageError(f"--workers takes a number from 1 to 1024, not {workers}")
        self.workers = workers or default_workers()
        self.pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="chaosql-worker")
        #: opens and closes sessions (a DuckDB database each, tens of milliseconds, one at a time
        #: in DuckDB however many threads ask), so that fifty clients connecting at once never
        #: make the statements of connections already open wait behind their sessions' opening
        self.opener = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chaosql-opener")
        self.settings = dict(settings or {})
        ANSWERS.resize(answer_cache)
        self.startup_timeout = 30.0
        self._pids = itertools.count(1000)
        self._live: dict[int, tuple[int, Any]] = {}
        self._server: asyncio.base_events.Server | None = None
        self.local: Any = None  # the LocalServer answering `chaosql query` (chaosql.server.local)
        self.loop: asyncio.AbstractEventLoop | None = None
        self._spare: Any = None  # a session made ahead for the next connection (see session())
        self._spare_lock = threading.Lock()
        self._making_spare = False
        self._closed = False
        self.owns_process = owns_process

    def next_pid(self) -> int:
        return next(self._pids)

    def register(self, pid: int, secret: int, conn: Any) -> None:
        self._live[pid] = (secret, conn)

    def forget(self, pid: int) -> None:
        self._live.pop(pid, None)

    def cancel(self, pid: int, secret: int) -> None:
        """A CancelRequest: interrupt that session's running statement if the key matches."""
        entry = self._live.get(pid)
        runner = entry[1]._runner if entry else None
        if entry and entry[0] == secret and runner is not None:
            entry[1].cancelled = True
            runner.session.cancel()

    @property
    def connections(self) -> int:
        return len(self._live)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        from chaosql.server.connection import Connection

        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        await Connection(self, reader, writer).run()

    async def start(self) -> None:
        if self.owns_process:
            sys.setswitchinterval(GIL_SWITCH)
        self.loop = asyncio.get_running_loop()
        self._server = await asyncio.start_server(self._client, self.host, self.port, limit=2**20, backlog=256)
        self.port = self._server.sockets[0].getsockname()[1]
        self._make_spare(warm_up=True)

    def session(self) -> Any:
        """A new session for a connection's first statement (called on a worker). Opening one
        takes tens of milliseconds (a DuckDB database of its own, the chaos tables' empty
        catalog tables), which the first statement would wait for: the session made ahead is
        handed over and the next one made in the background, as PostgreSQL's backend is ready
        once a client has connected."""
        with self._spare_lock:
            spare, self._spare = self._spare, None
        self._make_spare()
        return spare if spare is not None else self.new_session()

    def _make_spare(self, *, warm_up: bool = False) -> None:
        with self._spare_lock:
            if self._making_spare or self._spare is not None or self._closed:
                return
            self._making_spare = True
        try:
            self.opener.submit(self._open_spare, warm_up)
        except RuntimeError:  # the pool is shut down: the server is stopping
            with self._spare_lock:
                self._making_spare = False

    def _open_spare(self, warm_up: bool) -> None:
        session = None
        try:
            session = self.new_session()
            if warm_up:  # the sources' data first: the freeze below keeps it out of the collector's walks
                _preload(session.sources)
                _load_statement_code(freeze=self.owns_process)
            session.ensure_catalog(generated=False)
        except Exception:  # the connection that needs a session opens its own, and reports why it cannot
            if session is not None:
                session.close()
            session = None
        with self._spare_lock:
            self._making_spare = False
            if self._closed or self._spare is not None:
                unwanted, session = session, None
            else:
                unwanted, self._spare = None, session
        if unwanted is not None:
            unwanted.close()

    async def serve_forever(self) -> None:
        await self.start()
        server = self._server
        assert server is not None  # start() made it
        async with server:
            await server.serve_forever()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for _, conn in list(self._live.values()):
                try:
                    conn.writer.close()
                except Exception:
                    pass

    async def shutdown(self, reason: str) -> None:
        """PostgreSQL's fast shutdown: stop listening, cancel every connection's running statement
        (a write rolls back, ``reason`` saying why: ``interrupted (SIGTERM)``), send each client
        FATAL 57P01, and wait until every connection has closed its session."""
        if self._server is not None:
            self._server.close()
        connections = [conn for _, conn in list(self._live.values())]
        for conn in connections:
            conn.terminate(reason)
        tasks = [conn.task for conn in connections if conn.task is not None]
        if tasks:
            await asyncio.wait(tasks)

    def close(self) -> None:
        """Stop the workers (after ``stop``, once the connections have closed their sessions)."""
        with self._spare_lock:
            self._closed = True
            spare, self._spare = self._spare, None
        if spare is not None:
            spare.close()
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.opener.shutdown(wait=False, cancel_futures=True)


def _load_statement_code(*, freeze: bool = False) -> None:
    """Load the modules a connection's first statement uses (the wire code, sqlglot's PostgreSQL
    dialect and the tables its parser and DuckDB's generator build at first use, pyarrow.compute
    and numpy for the rows, and pandas, which pyarrow loads when it is
    installed at its first conversion of a Python value, ``pa.scalar``, ``fill_null(0)``) and
    DuckDB's list of functions (``answers.builtin_functions``): up to a second that the server's
    first client would otherwise wait for, done in the background once the server listens."""
    import pyarrow as pa
    import pyarrow.compute

    from chaosql.engine import answers, dialect
    from chaosql.server import connection, cursors, result_types, rewrite, semantics  # noqa: F401

    dialect.Postgres  # noqa: B018  built on first use
    rewrite.translate("SELECT 1 AS one WHERE $1::int > 0 ORDER BY 1", ())  # sqlglot's parser and generator tables
    pa.scalar(0)
    _encode_sample_rows()
    answers.builtin_functions()  # which statements' answers may be kept: DuckDB asked once per process
    # What is loaded now lives as long as the server: out of the collector's sight, a full
    # collection (every few thousand statements) walks only what statements made since, not
    # every module, sqlglot's dialect tables and pyarrow's types again (~100 ms under load, which
    # every statement running then waits for); garbage is collected first, so none is kept for good
    if freeze:
        gc.collect()
        gc.freeze()


def _encode_sample_rows() -> None:
    """Encode two rows of the common column types as DataRows, in text and binary: what that
    first loads (numpy.ma, which builds its docstrings from signatures when imported; pyarrow's
    time zone kernels) would otherwise be loaded while the first clients wait."""
    import pyarrow as pa

    from chaosql.server.rows import data_rows

    batch = pa.record_batch(
        [
            pa.array([0, None], pa.timestamp("us", tz="UTC")),
            pa.array(["x", None]),
            pa.array([1, None], pa.int64()),
            pa.array([0.5, None], pa.float64()),
            pa.array([True, None]),
        ],
        names=["timestamptz", "text", "int8", "float8", "bool"],
    )
    for form in (0, 1):
        data_rows(batch, batch.schema.names, [form] * batch.num_columns)


def _preload(sources: list[Any]) -> None:
    """Have each source that reads its data at first use (a snapshot's files) read it now; a
    source that cannot is left for the first statement, which reports why."""
    for source in sources:
        preload = getattr(source, "preload", None)
        if preload is not None:
            try:
                preload()
            except Exception:  # said by the statement that needs the source
                continue


class ServerThread:
    """Run a Server in a background thread (tests, notebooks): ``with ServerThread(server) as s: s.port``."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self._thread = threading.Thread(target=self._main, name="chaosql-serve", daemon=True)
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _main(self) -> None:
        loop = self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self.server.start())
        except BaseException as err:
            self._error = err
            self._ready.set()
            return
        self._ready.set()
        loop.run_forever()
        loop.run_until_complete(self.server.shutdown("the server is stopping"))
        loop.run_until_complete(self.server.stop())
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.wait(pending, timeout=5))
        loop.close()
        self.server.close()

    @property
    def port(self) -> int:
        return self.server.port

    def start(self) -> ServerThread:
        self._thread.start()
        self._ready.wait(30)
        if self._error:
            raise self._error
        return self

    def stop(self) -> None:
        if self._loop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
