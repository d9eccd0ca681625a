"""One client connection: startup, authentication, then the simple and extended query protocols
(rows are sent by the Streaming mixin in ``streaming``).

The event loop only reads and writes bytes; the Session (and encoding rows) runs on the server's
worker pool, one call at a time per connection, so a slow source or a big result never blocks
other clients and a CancelRequest can always be read. A connection opens its Session at its first
statement: until then (and for as long as a client keeps it idle before that) it is asyncio state
only, with no thread and no DuckDB database of its own.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import functools
import os
import re
import socket
import struct
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from chaosql.engine.limits import too_large
from chaosql.engine.result import Result
from chaosql.engine.settings import SETTINGS
from chaosql.errors import ChaosqlError, QueryCancelled, SqlError, WriteFailed
from chaosql.server import answers, chatter, wire
from chaosql.server.errors import position, translate_error
from chaosql.server.handshake import Fatal, authenticate
from chaosql.server.rows import data_rows
from chaosql.server.statements import Prepared, Runner, check_time_zone, split, value_typed
from chaosql.server.streaming import (
    BATCH_ROWS,
    Portal,
    Streaming,
    check_runnable,
    park,
    portal_columns,
    result_formats,
    row_tag,
    settle,
)
from chaosql.server.types import describe

if TYPE_CHECKING:
    from chaosql.server.server import Server


T = TypeVar("T")

#: Messages that need the connection's Session (Query, Parse, Bind, Describe, Execute).
_NEEDS_SESSION = (b"Q", b"P", b"B", b"D", b"E")

#: How often (seconds) a running statement checks that its client is still connected.
PEER_CHECK = 0.25
#: Bind values up to this many bytes in all are decoded on the event loop, not on a worker.
INLINE_PARAM_BYTES = 16_384
#: Gathered output written at once when it reaches this many bytes (see Connection.send).
OUT_BATCH = 65_536


class Connection(Streaming):
    def __init__(self, server: Server, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer
        self.pid = server.next_pid()
        self.secret = struct.unpack("!I", os.urandom(4))[0]
        self._runner: Runner | None = None
        self._working: concurrent.futures.Future | None = None  # the last call on the worker pool
        self.settings: dict[str, str] = {}
        self.status = "I"
        self.statements: dict[str, Prepared] = {}
        self.portals: dict[str, Portal] = {}
        self._live: Portal | None = None  # the portal whose DuckDB result is open (see Streaming)
        self.failed_extended = False
        # when the extended-protocol statement's time limit began: its first Parse, Bind, Describe
        # or Execute since the last Sync or finished Execute (PostgreSQL's statement_timeout)
        self.limit_began: float | None = None
        self.source: tuple[str, int] = ("", 0)  # the statement running, and where it starts in what was sent
        self.tls = False
        self.cancelled = False
        self.user: Any = None
        self.database = ""
        self.zone = "UTC"  # the last time zone set without error
        self.server_timeout = 0.0  # what statement_timeout = 0 goes back to: the server's chaosql.timeout
        self.task: asyncio.Task | None = None  # the task running this connection
        self.stopping: str | None = None  # why the server ends this connection (its shutdown), once it does
        self.write_left: WriteFailed | None = None  # what a write the shutdown cancelled left
        # Messages are gathered and written together when the client waits for them (Sync, Flush,
        # the end of a simple Query, an error) or when OUT_BATCH bytes are pending: one send()
        # per round trip instead of one per message (ParseComplete, BindComplete, RowDescription,
        # rows, CommandComplete, ReadyForQuery), as PostgreSQL's own output buffer does. Off
        # during startup, where the client waits after single messages (SSLRequest's answer).
        self._gathering = False
        self._out: list[bytes] = []
        self._out_bytes = 0

    @property
    def runner(self) -> Runner:
        """The connection's statement runner: there from the end of startup until close."""
        if self._runner is None:
            raise RuntimeError("the connection has no session (startup unfinished, or closed)")
        return self._runner

    def call(
        self,
        fn: Callable[..., T],
        *args: Any,
        reading: Portal | None = None,
        later: bool = False,
        opener: bool = False,
    ) -> asyncio.Future[T]:
        """``fn(*args)`` on the server's worker pool, after the connection's previous call has
        ended: a Session is not for concurrent use, and a call whose awaiting task was cancelled
        (a client gone mid-statement) may still be running when ``close`` closes the session.
        Calls run in the order they are made, also when one is made before an earlier one's
        awaiting task has started (rows encoded ahead, see Streaming); one whose awaiter is
        cancelled before it starts does not run. ``later``: not started before the event loop's
        next turn, so what the caller writes before it yields goes out first (a worker woken
        now would take the GIL while the rows are being sent: see ``Streaming._pump``).

        A portal's open DuckDB result, unless this call is ``reading`` it, is parked first, in
        the same call: DuckDB refuses any other statement while a streamed result is open.

        ``opener``: on the server's opener thread (closing the session), not a worker."""
        live = self._live
        if live is not None and live is not reading:
            self._live = None
            name = next((n for n, p in self.portals.items() if p is live), "")
            limit = int(self.runner.session.settings["max_cursor_bytes"])
            fn, args = _after_parking, (live, limit, name, fn, *args)
        loop = asyncio.get_running_loop()
        result: asyncio.Future[T] = loop.create_future()
        ended: concurrent.futures.Future = concurrent.futures.Future()  # this call has run, or never will
        previous, self._working = self._working, ended

        def finish(work: concurrent.futures.Future) -> None:
            ended.set_result(None)
            _soon(loop, settle, result, work)

        def start() -> None:
            if result.cancelled():
                ended.set_result(None)
                return
            try:
                work = (self.server.opener if opener else self.server.pool).submit(fn, *args)
            except BaseException as err:  # the pool is shut down: the server is stopping
                ended.set_result(None)
                result.set_exception(err)
                return
            work.add_done_callback(finish)
            result.add_done_callback(lambda r: work.cancel() if r.cancelled() else None)

        if previous is None or previous.done():
            if later:
                loop.call_soon(start)
            else:
                start()
        else:
            previous.add_done_callback(lambda _: _soon(loop, start))
        return result

    def send(self, data: bytes) -> None:
        if not self._gathering:
            self.writer.write(data)
            return
        self._out.append(data)
        self._out_bytes += len(data)
        if self._out_bytes >= OUT_BATCH:
            self._write_out()

    def _write_out(self) -> None:
        if self._out:
            data = b"".join(self._out) if len(self._out) > 1 else self._out[0]
            self._out.clear()
            self._out_bytes = 0
            self.writer.write(data)

    async def drain(self) -> None:
        """Write what is gathered, then wait while the client is slow to read it."""
        self._write_out()
        await self.writer.drain()

    async def _run_watched(
        self, prepared: Prepared, params: list[Any], *, limit_from: float | None = None, portal: Portal | None = None
    ) -> Any:
        """Run a statement in the worker thread; if the client goes away meanwhile, cancel it, so a
        write rolls back what it made instead of finishing for nobody. What a cancelled write left
        goes to the server's log (stderr): there is no client to tell.

        With ``portal`` (whose result this is), the rows its first Execute sends are encoded in
        the same call (``Streaming.read_ahead``): a small result costs one round trip to a worker;
        the answer of a SELECT of literals run before on the connection, none."""
        if prepared.answered is not None and portal is not None:
            columns, types, table = prepared.answered
            result = Result(columns=columns, types=types, status=f"SELECT {table.num_rows}", _table=table)
            key = (tuple(portal.formats), portal.ahead_rows)
            kept = prepared.answered_rows.get(key)
            if kept is None:
                self.read_ahead(portal, result)  # a row or so: encoded here, once per formats
                if portal.ahead is not None and portal.ahead.ended and portal.ahead.error is None:
                    prepared.answered_rows[key] = (portal.columns, portal.ahead)
            else:  # the same rows in the same formats: sent as encoded before
                portal.result = result
                portal.columns, portal.ahead = kept[0], dataclasses.replace(kept[1])
                portal.batches = iter(())
            return result
        work = asyncio.ensure_future(self.call(self._run_unless_stopping, prepared, params, limit_from, portal))
        try:
            while True:
                done, _ = await asyncio.wait({work}, timeout=PEER_CHECK)
                if done:
                    return work.result()
                if self._peer_gone():
                    break
        except asyncio.CancelledError:  # the server is stopping: the statement ends first (a write rolls back)
            self.write_left = await self._cancel_and_wait(work, self.stopping or "the server is stopping")
            raise
        await self._cancel_and_wait(work, "the client disconnected")
        raise ConnectionResetError("the client disconnected during a statement")

    def _run_unless_stopping(
        self, prepared: Prepared, params: list[Any], limit_from: float | None, portal: Portal | None
    ) -> Any:
        if self.stopping is not None:  # the shutdown came before the statement began: it never does
            raise QueryCancelled(self.stopping)
        if self.cancelled:  # a CancelRequest came while the statement waited for a worker
            raise QueryCancelled("canceling statement due to user request")
        result = self.runner.run(prepared, params, limit_from=limit_from)
        if portal is not None and not answers.send_as_before(portal, result):
            self.read_ahead(portal, result)
            answers.keep_as_sent(portal, result)
            ahead = portal.ahead
            if (
                prepared.literal
                and ahead is not None
                and ahead.ended
                and ahead.error is None
                and ahead.batch is not None
            ):
                import pyarrow as pa

                prepared.answered = (result.columns, result.types, pa.Table.from_batches([ahead.batch]))
        return result

    async def _cancel_and_wait(self, work: asyncio.Future, reason: str) -> WriteFailed | None:
        """Cancel the running statement and wait until it has ended (a write has rolled back); what
        a cancelled write left goes to the server's log (stderr): its client is gone. The cancel
        is repeated while the statement runs, in case it landed before the statement began."""
        while not work.done():
            self.runner.session.cancel(reason)
            await asyncio.wait({work}, timeout=PEER_CHECK)
        try:
            work.result()
        except WriteFailed as err:
            print(f"chaosql serve: connection {self.pid} closed during a write: {err}", file=sys.stderr, flush=True)
            return err
        except (ChaosqlError, asyncio.CancelledError):
            pass
        return None

    def terminate(self, reason: str) -> None:
        """End this connection as PostgreSQL's fast shutdown does: its running statement is
        cancelled (a write rolls back), then the client gets FATAL 57P01."""
        self.stopping = reason
        if self.task is not None:
            self.task.cancel()

    def _peer_gone(self) -> bool:
        """Whether the client closed its side of the connection (EOF), without reading from it:
        the connection's messages are read by the query loop, in order."""
        if self.reader.at_eof():
            return True
        raw = self.writer.get_extra_info("socket")
        if raw is None:
            return False
        try:
            with socket.socket(fileno=os.dup(raw.fileno())) as peek:
                return peek.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            return True

    # --- lifecycle -------------------------------------------------------------------------

    async def run(self) -> None:
        self.task = asyncio.current_task()
        try:
            if await self.startup():
                await self.loop()
        except Fatal as err:
            self._fatal(err.code, str(err))
        except wire.ProtocolViolation as err:
            self._fatal("08P01", str(err))
        except asyncio.CancelledError:
            if self.stopping is not None:
                left = self.write_left
                detail = "\n".join([left.message, *left.details]) if left is not None else None
                self._fatal("57P01", "terminating connection due to administrator command", detail=detail)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        except Exception as err:  # never let one client take the server down
            self._fatal("XX000", f"internal error: {type(err).__name__}: {err}")
        finally:
            await self.close()

    def _fatal(self, code: str, message: str, *, detail: str | None = None) -> None:
        try:
            self.send(wire.error_response("FATAL", code, message, detail=detail))
        except Exception:
            pass

    async def close(self) -> None:
        self.server.forget(self.pid)
        try:
            self._write_out()
            self.writer.close()
        except Exception:
            pass
        runner = self._runner
        if runner is not None:
            runner.session.cancel()
            if self._live is not None:
                try:
                    await self._let_go(self._live)
                except Exception:
                    pass
        self._runner = None
        if runner is not None:
            try:
                await self.call(runner.session.close, opener=True)
            except Exception:
                pass

    # --- startup ---------------------------------------------------------------------------

    async def startup(self) -> bool:
        while True:
            code, payload = await asyncio.wait_for(wire.read_startup(self.reader), self.server.startup_timeout)
            if code == wire.SSL_REQUEST:
                if self.server.ssl_context is not None and not self.tls:
                    self.send(b"S")
                    await self.drain()
                    await self.writer.start_tls(self.server.ssl_context)
                    self.tls = True
                else:
                    self.send(b"N")
                continue
            if code == wire.GSSENC_REQUEST:
                self.send(b"N")
                continue
            if code == wire.CANCEL_REQUEST:
                if len(payload) >= 8:
                    pid, secret = struct.unpack_from("!iI", payload)
                    self.server.cancel(pid, secret)
                return False
            if code >> 16 != 3:
                raise Fatal("0A000", f"unsupported frontend protocol {code >> 16}.{code & 0xFFFF}: server supports 3.0")
            params = wire.parse_startup_params(payload)
            break
        if self.server.require_tls and not self.tls:
            raise Fatal("28000", "this server accepts only TLS connections")
        name = params.get("user", "")
        if not name:
            raise Fatal("28000", "no PostgreSQL user name specified in startup packet")
        user = await authenticate(self.reader, self.writer, self.server.auth, name, self.server.startup_timeout)
        database = params.get("database") or name
        self.settings = chatter.default_settings(user.name, database)
        self.settings["port"] = str(self.server.port)
        # settings sent in the startup packet (PGTZ, TimeZone, DateStyle ...) and in its options
        # (PGOPTIONS='-c statement_timeout=1000'), applied as SET would once the session is open
        startup = {k: v for k, v in params.items() if k not in ("user", "database", "options", "replication")}
        startup.update(chatter.startup_options(params.get("options", "")))
        self.send(wire.authentication(0))
        self.user, self.database = user, database
        self.server_timeout = float(self.server.settings.get("timeout", SETTINGS["timeout"][0]))
        for key, value in startup.items():
            if chatter.canonical(key, self.settings) not in self.settings:
                continue  # PostgreSQL ignores nothing here, but clients send settings chaosql need not know
            answer = chatter.answer(f"SET {key} TO {chatter.quote(value)}", self.settings)
            assert answer is not None  # a SET of a setting chatter knows is answered by chatter
            try:
                await self._effects(answer)
            except ChaosqlError as err:
                raise Fatal(err.sqlstate, str(err)) from err
        for key in chatter.REPORTED:
            self.send(wire.parameter_status(key, self.settings[key]))
        self.send(wire.backend_key_data(self.pid, self.secret))
        self.server.register(self.pid, self.secret, self)
        self.send(wire.ready_for_query(self.status))
        await self.drain()
        return True

    # --- the query loop --------------------------------------------------------------------

    async def loop(self) -> None:
        handlers = {
            b"Q": self.simple_query,
            b"P": self.parse,
            b"B": self.bind,
            b"D": self.describe,
            b"E": self.execute,
            b"C": self.close_message,
            b"H": self.flush,
        }
        self._gathering = True
        while True:
            try:
                kind, body = await wire.read_message(self.reader, statement_limit=self._statement_limit())
            except wire.StatementTooLong as err:  # refused unread: the connection goes on
                extended = err.kind != b"Q"
                if not (extended and self.failed_extended):
                    await self._error(too_large(err.size, self._statement_limit()), extended=extended)
                if not extended:
                    self.send(wire.ready_for_query(self.status))
                    await self.drain()
                continue
            if kind == b"X":
                return
            if kind == b"S":
                self.failed_extended = False
                self.limit_began = None
                if self.status == "I":  # the implicit transaction ends, and its portals with it
                    for name in [n for n, p in self.portals.items() if not p.declared]:
                        await self._drop_portal(name)
                self.send(wire.ready_for_query(self.status))
                await self.drain()
                continue
            handler = handlers.get(kind)
            if handler is None:
                if kind in (b"d", b"c", b"f", b"F"):
                    await self._error(
                        SqlError("COPY and function calls are not supported", sqlstate="0A000"), extended=True
                    )
                    continue
                raise wire.ProtocolViolation(f"invalid frontend message type {kind!r}")
            if self.failed_extended and kind != b"Q":
                continue  # after an error, skip everything until Sync
            if kind in (b"P", b"B", b"D", b"E") and self.limit_began is None:
                self.limit_began = time.monotonic()
            if kind in (b"Q", b"E"):
                self.cancelled = False  # a CancelRequest that came while nothing ran is dropped, as PostgreSQL drops it
            if self._runner is None and kind in _NEEDS_SESSION:
                await self._open_session()
            try:
                await handler(wire.Reader(body))
            except wire.ProtocolViolation:
                raise
            except Exception as err:
                await self._error(err, extended=kind != b"Q")
                if kind == b"Q":
                    self.send(wire.ready_for_query(self.status))
                    await self.drain()

    def _statement_limit(self) -> int:
        if self._runner is not None:
            return int(self._runner.session.settings["max_statement_bytes"])
        return int(self.server.settings.get("max_statement_bytes", SETTINGS["max_statement_bytes"][0]))

    async def _open_session(self) -> None:
        """The connection's Session, opened on a worker at its first statement, with what the
        client set before (startup parameters, SET statement_timeout / TimeZone)."""
        try:
            self._runner = await self.call(self._new_runner)
        except ChaosqlError as err:
            raise Fatal(err.sqlstate, f"cannot open a session: {err}") from err

    def _new_runner(self) -> Runner:
        session = self.server.session()
        try:
            runner = Runner(session, user=self.user, database=self.database, settings=self.settings, pid=self.pid)
            self.server_timeout = session.settings["timeout"]
            seconds = chatter.timeout_seconds(self.settings["statement_timeout"])
            if seconds:
                session.set("timeout", seconds)
            if runner.time_zone != "UTC":
                runner.set_time_zone(runner.time_zone)
        except BaseException:
            session.close()
            raise
        return runner

    async def flush(self, _r: wire.Reader) -> None:
        await self.drain()

    async def _error(self, raised: BaseException, *, extended: bool) -> None:
        err: ChaosqlError
        if isinstance(raised, ChaosqlError):
            err = raised
        elif self._runner is not None:
            err = await self.call(translate_error, raised, self._runner.session)
        else:
            err = SqlError(str(raised))
        by_client = self.cancelled
        if self.cancelled and not isinstance(err, QueryCancelled):
            err = QueryCancelled("canceling statement due to user request")
        self.cancelled = False
        message, hint, detail = err.message, err.hint, None
        if isinstance(err, WriteFailed):  # what the write left, object by object, as PostgreSQL's DETAIL
            detail, hint = "\n".join(err.details) or None, None
        if isinstance(err, QueryCancelled):  # a client's CancelRequest, or else the watchdog's deadline
            if isinstance(err, WriteFailed):  # ... and what the cancelled write rolled back
                detail = "\n".join([err.message, *err.details])
            message = "canceling statement due to " + ("user request" if by_client else "statement timeout")
        text, offset = self.source
        at = position(err, text) if isinstance(err, SqlError) else None
        self.send(
            wire.error_response("ERROR", err.sqlstate, message, hint=hint, position=at and at + offset, detail=detail)
        )
        if self.status == "T":
            self.status = "E"
        if extended:
            self.failed_extended = True
        await self.drain()

    def _transaction_gate(self, prepared: Prepared) -> None:
        if self.status == "E" and not (
            prepared.answer and prepared.answer.transaction in ("commit", "rollback", "rollback_to")
        ):
            raise SqlError(
                "current transaction is aborted, commands ignored until end of transaction block", sqlstate="25P02"
            )

    def _apply(self, answer: chatter.Answer) -> str:
        """Apply a chatter answer for real (settings, transaction status); returns its tag."""
        tag = answer.tag
        if answer.transaction == "begin":
            self.status = "T"
        elif answer.transaction in ("commit", "rollback"):
            if answer.transaction == "commit" and self.status == "E":
                tag = "ROLLBACK"
            self.status = "I"
            # the transaction's cursors end with it (DECLARE ... WITH HOLD is not kept either)
            self.portals = {name: p for name, p in self.portals.items() if p.prepared.cursor is None and name == ""}
        elif answer.transaction == "rollback_to" and self.status == "E":
            self.status = "T"
        if answer.changed and self._runner is not None:
            self._runner.forget_parsed()  # e.g. search_path: a name may now mean another relation
        for key, value in answer.changed.items():
            if key in chatter.REPORTED:
                self.send(wire.parameter_status(key, value))
        return tag

    # --- simple query ----------------------------------------------------------------------

    async def simple_query(self, r: wire.Reader) -> None:
        sql = r.cstring()
        end = 0
        for statement in split(sql):
            start = sql.find(statement, end)
            end = start + len(statement) if start >= 0 else end
            self.source = (statement, max(start, 0))  # error positions count from the start of sql
            began = time.monotonic()  # as in PostgreSQL, the time limit covers the parse and the run
            prepared = self.runner.parsed(statement, [])
            if prepared is None:
                prepared = await self.call(self.runner.prepare, statement, [])
            if prepared.answer is not None and prepared.answer.empty:
                self.send(wire.EMPTY_QUERY)
                continue
            self._transaction_gate(prepared)
            if prepared.define is not None or prepared.run_named is not None:
                await self._sql_prepared(prepared, [], describe_rows=True)
                continue
            if prepared.cursor is not None:
                await self._cursor(prepared, [], [], simple=True)
                continue
            if prepared.copy is not None:
                await self._copy_out(prepared, [])
                continue
            if prepared.answer is not None:
                live = chatter.answer(statement, self.settings)  # None for SHOW chaosql.*: prepared has it
                await self._send_answer(live or prepared.answer, describe_rows=True, formats=[])
                self._deallocate(prepared)
                continue
            self.cancelled = False
            portal = Portal(prepared, [], [], ahead_rows=BATCH_ROWS)
            portal.result = await self._run_watched(prepared, [], limit_from=began, portal=portal)
            portal.columns = portal_columns(portal)
            self._live = portal if portal.columns is not None else None
            if portal.columns is not None:
                self.send(self._row_description(portal.columns, []))
            await self._stream(portal, 0)
        self.send(wire.ready_for_query(self.status))
        await self.drain()

    async def _send_answer(self, answer: chatter.Answer, *, describe_rows: bool, formats: list[int]) -> None:
        if answer.changed.get("__error__"):
            raise SqlError(answer.changed["__error__"], sqlstate="42704")
        await self._effects(answer)
        tag = self._apply(answer)
        if self._live is not None and all(p is not self._live for p in self.portals.values()):
            await self._let_go(self._live)  # a cursor COMMIT or ROLLBACK closed
        if answer.columns:
            if describe_rows:
                self.send(self._row_description([(c, "VARCHAR") for c in answer.columns], []))
            import pyarrow as pa

            batch = pa.RecordBatch.from_arrays(
                [pa.array([row[i] for row in answer.rows], pa.string()) for i in range(len(answer.columns))],
                names=answer.columns,
            )
            fmts = result_formats(formats, len(answer.columns))
            self.send(data_rows(batch, ["text"] * len(answer.columns), fmts))
        self.send(wire.command_complete(tag))

    async def _effects(self, answer: chatter.Answer) -> None:
        """What a changed setting does to the session: statement_timeout and TimeZone."""
        if "statement_timeout" in answer.changed:  # PostgreSQL's statement timeout is chaosql.timeout
            try:
                seconds = chatter.timeout_seconds(answer.changed["statement_timeout"])
            except ValueError as err:
                raise SqlError(str(err), sqlstate="22023") from err
            if self._runner is not None:  # else the session takes it when it opens
                await self.call(self._runner.session.set, "timeout", seconds or self.server_timeout)
        if "TimeZone" in answer.changed:
            if self._runner is not None:
                await self.call(self._runner.set_time_zone, answer.changed["TimeZone"])
            else:
                await self.call(check_time_zone, answer.changed["TimeZone"], self.settings, self.zone)
        self.zone = self.settings["TimeZone"]

    def _row_description(self, columns: list[tuple[str, str]], formats: list[int]) -> bytes:
        return _row_description(tuple(columns), tuple(formats))

    # --- extended query --------------------------------------------------------------------

    async def parse(self, r: wire.Reader) -> None:
        name = r.cstring()
        sql = r.cstring()
        oids = [r.int32() for _ in range(r.count(4))]
        if name and name in self.statements:
            raise SqlError(f'prepared statement "{name}" already exists', sqlstate="42P05")
        statements = split(sql)
        self.source = (statements[0] if statements else "", max(sql.find(statements[0]), 0) if statements else 0)
        if len(statements) > 1:
            raise SqlError("cannot insert multiple commands into a prepared statement", sqlstate="42601")
        sql = statements[0] if statements else ""
        prepared = self.runner.parsed(sql, oids)
        self.statements[name] = prepared if prepared is not None else await self.call(self.runner.prepare, sql, oids)
        self.send(wire.PARSE_COMPLETE)

    async def bind(self, r: wire.Reader) -> None:
        portal_name = r.cstring()
        name = r.cstring()
        param_formats = [r.int16() for _ in range(r.count(2))]
        raw: list[bytes | None] = []
        for _ in range(r.count(4)):
            n = r.int32()
            raw.append(None if n < 0 else r.bytes(n))
        result_formats = [r.int16() for _ in range(r.count(2))]
        prepared = self._statement(name)
        self.source = (prepared.sql, 0)
        if not portal_name:  # PostgreSQL drops the unnamed portal here, unread rows and all
            await self._drop_portal("")
        if (
            prepared.answer is None
            and not prepared.described
            and (prepared.cursor is None or prepared.cursor.kind == "declare")
        ):
            await self.call(self._describe_quietly, prepared)
        # a few small values are decoded here (pure Python, microseconds): no round trip to a worker
        if sum(len(v) for v in raw if v is not None) <= INLINE_PARAM_BYTES:
            params = self.runner.params(prepared, raw, param_formats)
        else:
            params = await self.call(self.runner.params, prepared, raw, param_formats)
        if portal_name and portal_name in self.portals:
            raise SqlError(f'portal "{portal_name}" already exists', sqlstate="42P03")
        if value_typed(prepared):
            prepared = await self.call(self.runner.bound, prepared, params)
        self.portals[portal_name] = Portal(prepared, params, result_formats)
        self.send(wire.BIND_COMPLETE)

    def _describe_quietly(self, prepared: Prepared) -> None:
        try:
            self.runner.describe(prepared)
        except Exception:
            prepared.described = False  # Execute reports the error with its real cause

    def _statement(self, name: str) -> Prepared:
        if name not in self.statements:
            raise SqlError(f'prepared statement "{name}" does not exist', sqlstate="26000")
        return self.statements[name]

    async def describe(self, r: wire.Reader) -> None:
        kind = r.byte()
        name = r.cstring()
        if kind in (b"S", b"P") and self._describe_cursor(kind, name):
            return
        if kind == b"S":
            prepared = self._statement(name)
            await self._describe_prepared(prepared, None)
            self.send(wire.parameter_description(prepared.param_types or prepared.param_oids))
            self.send(self._row_description(prepared.columns, []) if prepared.columns else wire.NO_DATA)
        elif kind == b"P":
            if name not in self.portals:
                raise SqlError(f'portal "{name}" does not exist', sqlstate="34000")
            portal = self.portals[name]
            if portal.result is None:  # a portal already run (a DECLAREd cursor) has its columns
                await self._describe_prepared(portal.prepared, portal)
            columns = portal.columns if portal.columns is not None else portal.prepared.columns
            self.send(self._row_description(columns, portal.formats) if columns else wire.NO_DATA)
        else:
            raise wire.ProtocolViolation(f"invalid DESCRIBE message subtype {kind!r}")

    async def _describe_prepared(self, prepared: Prepared, portal: Portal | None) -> None:
        if prepared.answer is None and self.runner.own_statement(prepared.run_sql) and portal is not None:
            await self._start(portal)  # its shape is known only by running it
            return
        try:
            if not prepared.described:  # else describe has nothing to do: no round trip to a worker
                await self.call(self.runner.describe, prepared)
        except Exception:
            if portal is None and self.runner.own_statement(prepared.run_sql):
                prepared.columns = [("result", "VARCHAR")]
                return
            if portal is None:
                raise
            await self._start(portal)

    async def _start(self, portal: Portal, *, ahead_rows: int = 0) -> None:
        """``ahead_rows``: the rows the Execute that starts it sends (see ``Streaming.read_ahead``)."""
        if portal.result is not None or portal.done:
            return
        self._transaction_gate(portal.prepared)
        self.cancelled = False
        began, self.limit_began = self.limit_began, None  # the next message starts a new limit
        portal.ahead_rows = ahead_rows
        portal.result = await self._run_watched(portal.prepared, portal.params, limit_from=began, portal=portal)
        portal.columns = portal_columns(portal)
        self._live = portal if portal.columns is not None else None

    async def execute(self, r: wire.Reader) -> None:
        name = r.cstring()
        max_rows = r.int32()
        if name not in self.portals:
            raise SqlError(f'portal "{name}" does not exist', sqlstate="34000")
        portal = self.portals[name]
        check_runnable(portal, name)
        prepared = portal.prepared
        self.source = (prepared.sql, 0)
        if prepared.copy is not None:
            self._transaction_gate(prepared)
            await self._copy_out(prepared, portal.params)
            return
        if prepared.define is not None or prepared.run_named is not None:
            self._transaction_gate(prepared)
            await self._sql_prepared(prepared, portal.formats, describe_rows=False)
            return
        if prepared.cursor is not None and portal.result is None:
            self._transaction_gate(prepared)
            if portal.answered:
                self.send(wire.command_complete("SELECT 0"))
                return
            portal.answered = True
            await self._cursor(prepared, portal.params, portal.formats, simple=False)
            return
        if prepared.answer is not None:
            if prepared.answer.empty:
                self.send(wire.EMPTY_QUERY)
                return
            self._transaction_gate(prepared)
            if portal.answered:
                self.send(wire.command_complete(prepared.answer.tag))
                return
            portal.answered = True
            live = chatter.answer(prepared.sql, self.settings)
            await self._send_answer(live or prepared.answer, describe_rows=False, formats=portal.formats)
            return
        if portal.done:
            self.send(
                wire.command_complete(
                    portal.result.status
                    if portal.result and not portal.columns
                    else row_tag(portal.result, 0)  # PostgreSQL: an exhausted portal sends no more rows
                )
            )
            return
        await self._start(portal, ahead_rows=min(max_rows, BATCH_ROWS) if max_rows > 0 else BATCH_ROWS)
        await self._stream(portal, max_rows)

    async def _sql_prepared(self, prepared: Prepared, formats: list[int], *, describe_rows: bool) -> None:
        """PREPARE and EXECUTE: the same statements (and namespace) as Parse and Bind/Execute."""
        if prepared.define is not None:
            name, oids, body = prepared.define
            if name in self.statements:
                raise SqlError(f'prepared statement "{name}" already exists', sqlstate="42P05")
            self.statements[name] = await self.call(self.runner.prepare, body, oids)
            self.send(wire.command_complete("PREPARE"))
            return
        assert prepared.run_named is not None  # not PREPARE, so EXECUTE
        name, arguments = prepared.run_named
        target = self._statement(name)
        params = await self.call(self.runner.arguments, target, arguments)
        if len(params) != max(len(target.param_oids), target.nparams):
            raise SqlError(
                f'wrong number of parameters for prepared statement "{name}": '
                f"expected {max(len(target.param_oids), target.nparams)}, got {len(params)}",
                sqlstate="42601",
            )
        if target.answer is not None or target.cursor is not None or target.copy is not None:
            raise SqlError("EXECUTE runs queries and data changes; prepare this statement with Parse", sqlstate="0A000")
        if value_typed(target):
            target = await self.call(self.runner.bound, target, params)
        portal = Portal(target, params, formats)
        await self._start(portal)
        if portal.columns is not None and describe_rows:
            self.send(self._row_description(portal.columns, formats))
        await self._stream(portal, 0)

    def _deallocate(self, prepared: Prepared) -> None:
        """DEALLOCATE [PREPARE] name | ALL forgets SQL- and protocol-level statements alike."""
        m = re.match(r"^\s*deallocate\s+(?:prepare\s+)?(\"[^\"]+\"|[\w$]+)\s*;?\s*$", prepared.sql, re.I)
        if not m:
            return
        name = m.group(1)
        if name.lower() == "all":
            self.statements = {k: v for k, v in self.statements.items() if k == ""}
        else:
            self.statements.pop(name[1:-1] if name.startswith('"') else name.lower(), None)

    async def close_message(self, r: wire.Reader) -> None:
        kind = r.byte()
        name = r.cstring()
        if kind == b"S":
            self.statements.pop(name, None)
        elif kind == b"P":
            await self._drop_portal(name)
        else:
            raise wire.ProtocolViolation(f"invalid CLOSE message subtype {kind!r}")
        self.send(wire.CLOSE_COMPLETE)

    # --- streaming rows --------------------------------------------------------------------


@functools.lru_cache(maxsize=1024)
def _row_description(columns: tuple[tuple[str, str], ...], formats: tuple[int, ...]) -> bytes:
    """A RowDescription, kept per columns and formats: a prepared statement's is sent again at
    each Describe, the same bytes."""
    fmts = result_formats(list(formats), len(columns))
    return wire.row_description((name, *describe(t), fmts[i]) for i, (name, t) in enumerate(columns))


def _soon(loop: asyncio.AbstractEventLoop, fn: Callable[..., Any], *args: Any) -> None:
    """``fn(*args)`` on the event loop, from a worker's callback (nothing once the server's loop is closed)."""
    try:
        loop.call_soon_threadsafe(fn, *args)
    except RuntimeError:
        pass


def _after_parking(portal: Portal, limit: int, name: str, fn: Callable[..., T], *args: Any) -> T:
    park(portal, limit, name)
    return fn(*args)
