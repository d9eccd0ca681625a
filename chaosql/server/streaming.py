"""Sending rows: streaming a portal's result in batches, Execute row limits, and SQL cursors.

SQL-level cursors (DECLARE ... CURSOR FOR, FETCH, MOVE, CLOSE) are what psycopg2's named cursors,
psycopg 3's server-side cursors and SQLAlchemy's ``stream_results`` (pandas ``chunksize``) use;
DuckDB has none, so each is kept as an open portal over a streamed result. A mixin of Connection.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from chaosql.errors import ChaosqlError, QueryCancelled, SqlError
from chaosql.server import copy, wire
from chaosql.server.errors import translate_error
from chaosql.server.rows import data_rows
from chaosql.server.statements import Prepared, Runner, pg_names, result_columns

BATCH_ROWS = 10_000
T = TypeVar("T")


@dataclass
class Portal:
    prepared: Prepared
    params: list[Any]
    formats: list[int]
    result: Any = None
    batches: Iterator[Any] | None = None
    pending: Any = None  # part of a batch left over by an Execute with max_rows
    sent: int = 0
    done: bool = False
    columns: list[tuple[str, str]] | None = None
    answered: bool = False  # chatter already applied
    table: Any = None  # a SCROLL cursor's whole result (it may move backwards)
    position: int = 0  # a SCROLL cursor's row: 0 before the first, rows + 1 after the last
    parked: bool = False  # read to the end so other statements can run meanwhile
    declared: bool = False  # an SQL cursor (DECLARE): kept past Sync, like PostgreSQL's WITH HOLD
    released: bool = False  # its DuckDB result was let go after an error: it cannot run again (55000)
    ahead: Ahead | None = None  # rows encoded after an Execute with a row limit, for the next one
    ahead_rows: int = 0  # rows encoded in the call that runs it, for its first Execute (read_ahead)
    ahead_work: asyncio.Future | None = None  # the call encoding them (on the connection's call chain)


@dataclass
class Ahead:
    """The rows after an Execute with a row limit, encoded while the client reads that Execute's:
    a client reading a portal in chunks (asyncpg's cursors, FETCH n) would otherwise wait for them
    to be encoded after asking. ``batch`` is what they were encoded from, given back to the portal
    when the next request cannot use them (fewer rows, other formats); ``error`` is what reading
    them raised, reported when they are asked for, as PostgreSQL reports it then."""

    chunk: bytes = b""
    count: int = 0
    ended: bool = False
    batch: Any = None
    formats: list[int] | None = None
    error: Exception | None = None


def portal_columns(portal: Portal) -> list[tuple[str, str]] | None:
    """The columns a portal's result sends, None when it returns no rows (once ``read_ahead`` has
    begun reading its rows, those it found: a result being read has handed its rows over)."""
    if portal.ahead_rows and portal.batches is not None:
        return portal.columns
    result = portal.result
    if not result.has_rows:
        return None
    return result_columns(result.columns, result.types, portal.prepared.output_types)


def row_tag(result: Any, sent: int) -> str:
    """CommandComplete for a statement that returned rows: a write with RETURNING keeps its own
    tag (``INSERT 0 3``), anything else is ``SELECT n``."""
    status = getattr(result, "status", "") or ""
    return status if status.split(" ", 1)[0] in ("INSERT", "UPDATE", "DELETE", "SHOW") else f"SELECT {sent}"


class Streaming:
    """Row sending for Connection. What it uses of the connection is declared here, so mypy checks
    both sides: Connection sets these attributes and overrides these methods."""

    writer: asyncio.StreamWriter
    statements: dict[str, Prepared]
    portals: dict[str, Portal]
    cancelled: bool
    #: The portal whose DuckDB result is open (streaming). DuckDB runs nothing else on the
    #: connection meanwhile, so ``call`` reads its rest into memory before any other call, and a
    #: dropped portal lets it go at once (``_let_go``): never left for the garbage collector.
    _live: Portal | None

    @property
    def runner(self) -> Runner:
        raise NotImplementedError

    def send(self, data: bytes) -> None:
        raise NotImplementedError

    async def drain(self) -> None:
        """Write what ``send`` gathered and wait until the client can take more."""
        raise NotImplementedError

    def call(
        self, fn: Callable[..., T], *args: Any, reading: Portal | None = None, later: bool = False
    ) -> asyncio.Future[T]:
        """Run ``fn(*args)`` on the connection's worker thread, after the calls made before it
        (``reading``: the portal whose open result it reads; any other open result is parked first;
        ``later``: started once the event loop has had its turn)."""
        raise NotImplementedError

    async def _start(self, portal: Portal) -> None:
        """Run the portal's statement, leaving its result (and columns) on the portal."""
        raise NotImplementedError

    def _row_description(self, columns: list[tuple[str, str]], formats: list[int]) -> bytes:
        raise NotImplementedError

    # --- COPY ... TO STDOUT -----------------------------------------------------------------

    async def _copy_out(self, prepared: Prepared, params: list[Any]) -> None:
        portal = Portal(prepared, params, [])
        await self._start(portal)
        columns = portal.columns or []
        op = prepared.copy
        self.send(wire.copy_out_response(len(columns)))
        if op.header:
            self.send(wire.copy_data([copy.header([name for name, _ in columns], op)]))
        total = 0
        if columns:
            names = pg_names(columns)
            batches = iter(portal.result.batches())
            try:
                while True:
                    rows = await self.call(self._copy_chunk, batches, names, op, reading=portal)
                    if rows is None:
                        self._ended(portal)
                        break
                    total += len(rows)
                    self.send(wire.copy_data(rows))
                    await self.drain()
            finally:
                await self._let_go(portal)
        self.send(wire.COPY_DONE)
        self.send(wire.command_complete(f"COPY {total}"))

    def _copy_chunk(self, batches: Iterator[Any], names: list[str], op: copy.CopyOut) -> list[bytes] | None:
        try:
            batch = next(batches, None)
        except ChaosqlError:
            raise
        except Exception as err:
            raise translate_error(err, self.runner.session) from err
        return None if batch is None else copy.encode(batch, names, op)

    # --- SQL-level cursors -----------------------------------------------------------------

    def _describe_cursor(self, kind: bytes, name: str) -> bool:
        """Describe for DECLARE/FETCH/MOVE/CLOSE statements; False when ``name`` is something else."""
        portal = self.portals.get(name) if kind == b"P" else None
        prepared = self.statements.get(name) if kind == b"S" else (portal.prepared if portal is not None else None)
        op = prepared.cursor if prepared is not None else None
        if prepared is None or op is None or (portal is not None and portal.result is not None):
            return False  # an ordinary statement, or the cursor's own portal (Describe P "c1")
        if kind == b"S":
            self.send(wire.parameter_description(prepared.param_types or prepared.param_oids))
        cursor = self.portals.get(op.name) if op.kind == "fetch" else None
        if cursor is not None and cursor.columns:
            formats = portal.formats if portal is not None else []
            self.send(self._row_description(cursor.columns, formats))
        else:
            self.send(wire.NO_DATA)
        return True

    async def _cursor(self, prepared: Prepared, params: list[Any], formats: list[int], *, simple: bool) -> None:
        op = prepared.cursor
        cursor: Portal | None
        if op.kind == "declare":
            if op.name in self.portals:
                raise SqlError(f'cursor "{op.name}" already exists', sqlstate="42P03")
            query = dataclasses.replace(prepared, sql=op.query, cursor=None)
            cursor = Portal(query, params, [], declared=True)
            await self._start(cursor)
            if op.scroll and cursor.columns is not None:
                limit = int(self.runner.session.settings["max_cursor_bytes"])
                cursor.table = await self.call(_whole, cursor, limit, op.name, reading=cursor)
                self._ended(cursor)
            self.portals[op.name] = cursor
            self.send(wire.command_complete("DECLARE CURSOR"))
            return
        if op.kind == "close":
            names = [op.name] if op.name else [n for n, p in self.portals.items() if n and p.result is not None]
            for name in names:
                if name not in self.portals:
                    raise SqlError(f'cursor "{name}" does not exist', sqlstate="34000")
                await self._drop_portal(name)
            self.send(wire.command_complete("CLOSE CURSOR"))
            return
        cursor = self.portals.get(op.name)
        if cursor is None or cursor.result is None:
            raise SqlError(f'cursor "{op.name}" does not exist', sqlstate="34000")
        check_runnable(cursor, op.name)
        if cursor.columns is None:
            self.send(wire.command_complete(f"{op.kind.upper()} 0"))
            return
        if simple and op.kind == "fetch":
            self.send(self._row_description(cursor.columns, []))
        cursor.formats = formats
        send = op.kind == "fetch"
        if cursor.table is not None:
            count = await self._scroll(cursor, op, send=send)
        elif op.direction == "forward":
            count, _ = await self._pump(cursor, op.count, send=send)
        else:  # ABSOLUTE/RELATIVE forward of a cursor that streams: skip, then one row
            target = op.count if op.direction == "absolute" else cursor.sent + (op.count or 0)
            if op.direction == "backward" or target is None or target <= cursor.sent:
                raise SqlError(
                    "cursor can only scan forward",
                    hint="declare it with SCROLL to move backward",
                    sqlstate="55000",
                )
            await self._pump(cursor, target - cursor.sent - 1, send=False)
            count, _ = await self._pump(cursor, 1, send=send)
        self.send(wire.command_complete(f"{op.kind.upper()} {count}"))

    async def _scroll(self, cursor: Portal, op: Any, *, send: bool) -> int:
        """FETCH/MOVE on a SCROLL cursor, as PostgreSQL positions it; returns the row count."""
        total, p = cursor.table.num_rows, cursor.position
        if op.direction == "forward":
            end = total if op.count is None else min(p + op.count, total)
            rows = list(range(p, end))
            cursor.position = p + op.count if op.count is not None and p + op.count <= total else total + 1
        elif op.direction == "backward":
            last = 1 if op.count is None else max(p - op.count, 1)
            rows = list(range(min(p, total + 1) - 2, last - 2, -1))
            cursor.position = p - op.count if op.count is not None and p - op.count >= 1 else 0
        else:
            target = op.count if op.direction == "absolute" else p + op.count
            if op.direction == "absolute" and target < 0:
                target = total + target + 1
            rows = [target - 1] if 1 <= target <= total else []
            cursor.position = min(max(target, 0), total + 1)
        if send and rows:
            batch = cursor.table.take(rows).combine_chunks().to_batches()
            assert cursor.columns is not None  # a cursor with no columns is answered before
            names = pg_names(cursor.columns)
            formats = result_formats(cursor.formats, len(cursor.columns))
            for part in batch:
                self.send(data_rows(part, names, formats))
        return len(rows)

    async def _drop_portal(self, name: str) -> None:
        """Forget portal ``name`` (Close, CLOSE, Sync, a Bind that replaces the unnamed portal);
        its open DuckDB result, if any, is released now, in order with the connection's calls."""
        portal = self.portals.pop(name, None)
        if portal is not None:
            await self._let_go(portal)

    async def _let_go(self, portal: Portal) -> None:
        """Release ``portal``'s DuckDB result if it is still open (dropped, or failed mid-stream)."""
        if portal is self._live:
            self._live = None
            await self.call(_release, portal, reading=portal)

    def _ended(self, portal: Portal) -> None:
        """``portal``'s result has been read to its end (DuckDB closed it): nothing to park."""
        if portal is self._live:
            self._live = None

    async def _pump(self, portal: Portal, limit: int | None, *, send: bool = True) -> tuple[int, bool]:
        """Send up to ``limit`` rows (all when None) of ``portal``; returns (rows, finished).

        The next chunk is encoded (in the worker thread) while the one before it is sent; with a
        ``limit``, the rows after it are encoded once its last chunk is out (``Ahead``), on the
        connection's call chain: any later call waits for them. No other call is left running
        when this returns, not even when the client is gone: the connection's next call may use
        the Session."""
        if portal.batches is None:
            portal.batches = iter(portal.result.batches())
        assert portal.columns is not None  # only a statement that returns rows is pumped
        names = pg_names(portal.columns)
        formats = result_formats(portal.formats, len(portal.columns))
        total = 0

        def encode_next() -> asyncio.Future:
            want = BATCH_ROWS if limit is None else min(BATCH_ROWS, limit - total)
            then = min(BATCH_ROWS, limit) if limit and want == limit - total else 0
            return self._encode(portal, names, formats, want, then)

        coming: asyncio.Future | None = await self._encoded_ahead(portal, formats, limit)
        if coming is None:
            coming = encode_next()
        ok = False
        try:
            while coming is not None:
                chunk, count, finished = await coming
                if self.cancelled:  # a CancelRequest while the rows stream: PostgreSQL's 57014
                    raise QueryCancelled("canceling statement due to user request")
                portal.sent += count
                total += count
                if finished:
                    self._ended(portal)
                more = not finished and (limit is None or total < limit)
                coming = encode_next() if more else None
                if not more and not finished and limit and portal.ahead_work is None:
                    # these rows came encoded ahead: the next ones are encoded while the client
                    # reads them, started after they (and the Sync's answer) are written
                    rows = min(BATCH_ROWS, limit)
                    portal.ahead_work = self.call(
                        self._fill_ahead, portal, names, formats, rows, reading=portal, later=True
                    )
                if chunk and send:
                    self.send(chunk)
                    if more:  # the last chunk goes out with what follows it (at Sync at the latest)
                        await self.drain()
                if not more:
                    ok = True
                    return total, finished
        finally:
            if coming is not None:  # sending (or encoding) failed: no call is left running
                if not coming.done():
                    await asyncio.wait([coming])
                if not coming.cancelled():
                    coming.exception()  # retrieved here: the error reported is the one being raised
            if not ok:  # the portal failed: its result is let go, not read on by the next statement
                portal.released = True
                await self._let_go(portal)
        return total, False

    def _encode(
        self, portal: Portal, names: list[str], formats: list[int], want: int, then: int
    ) -> asyncio.Future[tuple[bytes, int, bool]]:
        """The next ``want`` rows encoded (see ``_next_chunk``); with ``then``, the same call goes
        on to encode the ``then`` rows after them into ``portal.ahead``, handing these back first."""
        if not then:
            return self.call(self._next_chunk, portal, names, formats, want, reading=portal)
        loop = asyncio.get_running_loop()
        early: asyncio.Future[tuple[bytes, int, bool]] = loop.create_future()

        def hand_back(chunk: tuple[bytes, int, bool]) -> None:
            loop.call_soon_threadsafe(_resolve, early, chunk)

        work = self.call(self._chunk_then_ahead, portal, names, formats, want, then, hand_back, reading=portal)
        portal.ahead_work = work
        # before handing back: it failed, or the result ended
        work.add_done_callback(lambda work: settle(early, work))
        return early

    def _chunk_then_ahead(
        self,
        portal: Portal,
        names: list[str],
        formats: list[int],
        want: int,
        then: int,
        hand_back: Callable[[tuple[bytes, int, bool]], None],
    ) -> tuple[bytes, int, bool]:
        chunk = self._next_chunk(portal, names, formats, want)
        if chunk[2]:
            return chunk  # the result has ended: nothing comes after it
        hand_back(chunk)
        self._fill_ahead(portal, names, formats, then)
        return chunk

    def _fill_ahead(self, portal: Portal, names: list[str], formats: list[int], rows: int) -> None:
        """Encode the next ``rows`` rows into ``portal.ahead`` (runs in the worker thread)."""
        try:
            batch, ended = self._next_rows(portal, rows)
            encoded = data_rows(batch, names, formats) if batch is not None else b""
            portal.ahead = Ahead(encoded, batch.num_rows if batch is not None else 0, ended, batch, formats)
        except Exception as err:
            portal.ahead = Ahead(error=err)

    async def _encoded_ahead(self, portal: Portal, formats: list[int], limit: int | None) -> asyncio.Future | None:
        """The rows encoded ahead for this request, as a done future (None when there are none
        it can use: those are given back to the portal, to be read again)."""
        work, portal.ahead_work = portal.ahead_work, None
        if work is not None:
            if not work.done():  # encoded while the client read the rows before: usually done
                await asyncio.wait({work})
            if not work.cancelled():
                work.exception()  # raised to the request that awaited it already
        ahead, portal.ahead = portal.ahead, None
        if ahead is None:
            return None
        coming = asyncio.get_running_loop().create_future()
        if ahead.error is not None:
            coming.set_exception(ahead.error)
        elif ahead.formats == formats and (limit is None or ahead.count <= limit):
            coming.set_result((ahead.chunk, ahead.count, ahead.ended))
        else:
            if ahead.batch is not None:
                if portal.pending is not None:
                    portal.batches = _front(portal.pending, portal.batches)
                portal.pending = ahead.batch
            return None
        return coming

    async def _stream(self, portal: Portal, max_rows: int) -> None:
        result = portal.result
        if portal.columns is None:
            portal.done = True
            for warning in result.warnings:
                self.send(wire.notice_response(warning))
            self.send(wire.command_complete(result.status or "OK"))
            return
        rows, finished = await self._pump(portal, max_rows if max_rows > 0 else None)
        if not finished:
            self.send(wire.PORTAL_SUSPENDED)
            return
        portal.done = True
        for warning in result.warnings:  # e.g. a source skipped under on_source_error = warn
            self.send(wire.notice_response(warning))
        # as PostgreSQL: the rows this Execute sent, not the portal's total after row-limited ones
        self.send(wire.command_complete(row_tag(result, rows)))

    def read_ahead(self, portal: Portal, result: Any) -> None:
        """In the worker call that ran ``portal``'s statement: encode the rows its first Execute
        sends (``portal.ahead_rows``; 0: none) into ``portal.ahead``, so a small result needs no
        second call (``_encoded_ahead`` hands them to ``_pump``, or gives them back to the portal
        when that Execute asks for other rows)."""
        if not portal.ahead_rows:
            return
        portal.result = result
        columns = portal.columns = portal_columns(portal)
        if columns is None:
            return
        portal.batches = iter(result.batches())
        self._fill_ahead(portal, pg_names(columns), result_formats(portal.formats, len(columns)), portal.ahead_rows)

    def _next_chunk(self, portal: Portal, names: list[str], formats: list[int], want: int) -> tuple[bytes, int, bool]:
        """Up to ``want`` rows encoded as DataRows, their count and whether the result has ended
        (runs in the worker thread)."""
        batch, ended = self._next_rows(portal, want)
        if batch is None:
            return b"", 0, True
        return data_rows(batch, names, formats), batch.num_rows, ended

    def _next_rows(self, portal: Portal, want: int) -> tuple[Any, bool]:
        """Up to ``want`` rows (None when none are left) and whether the result has ended after
        them. After a batch shorter than ``want`` the next one is read already: a small result
        ends in the call that sends its rows, one round trip to a worker instead of two."""
        batch = portal.pending
        portal.pending = None
        while batch is None or batch.num_rows == 0:
            batch = self._next_batch(portal)
            if batch is None:
                return None, True
        if batch.num_rows > want:
            portal.pending = batch.slice(want)
            batch = batch.slice(0, want)
        ended = False
        if batch.num_rows < want:
            portal.pending = self._next_batch(portal)
            ended = portal.pending is None
        return batch, ended

    def _next_batch(self, portal: Portal) -> Any:
        try:
            assert portal.batches is not None  # _pump started them
            return next(portal.batches, None)
        except ChaosqlError:
            raise
        except Exception as err:
            if self.cancelled:
                raise QueryCancelled("canceling statement due to user request") from err
            raise translate_error(_duckdb_error(err), self.runner.session) from err


def _too_large(name: str, limit: int) -> SqlError:
    what = f'cursor "{name}"' if name else "the open portal"
    return SqlError(
        f"{what} had more than {limit} bytes of rows not yet fetched when another statement ran "
        "(chaosql.max_cursor_bytes): it is closed, and that statement refused",
        hint=f"fetch the rest of {what} or close it before the next statement, or SET chaosql.max_cursor_bytes higher",
        sqlstate="54000",
    )


def _whole(portal: Portal, limit: int, name: str) -> Any:
    """A SCROLL cursor's whole result, held in memory (it may move backwards): 54000 past
    ``limit`` bytes."""
    import pyarrow as pa

    held, batches = 0, []
    for batch in portal.result.batches():
        batches.append(batch)
        held += batch.nbytes
        if held > limit:
            _release(portal)
            raise SqlError(
                f'scroll cursor "{name}" has more than {limit} bytes of rows, all held in memory '
                "(chaosql.max_cursor_bytes)",
                hint="declare it without SCROLL (FETCH then streams it), or SET chaosql.max_cursor_bytes higher",
                sqlstate="54000",
            )
    return pa.Table.from_batches(batches) if batches else pa.table({})  # no rows: nothing is taken


def park(portal: Portal, limit: int, name: str) -> None:
    """Read the rest of ``portal``'s open result into memory (on the worker, before another
    statement): PostgreSQL lets a client interleave statements with open portals and cursors, DuckDB
    streams one result per connection. An error reading the rest is raised where PostgreSQL
    raises it: when the portal is read again. Past ``limit`` bytes the portal is let go instead
    (read again, it is 55000) and the statement that needed it parked is refused with 54000."""
    rest: list[Any] = []
    failure: Exception | None = None
    batches = portal.batches if portal.batches is not None else iter(portal.result.batches())
    held = portal.pending.nbytes if portal.pending is not None else 0
    try:
        for batch in batches:
            rest.append(batch)
            held += batch.nbytes
            if held > limit:
                break
    except Exception as err:
        failure = err
    if held > limit:
        portal.batches = batches
        _release(portal)
        portal.released = True
        raise _too_large(name, limit)
    pending = portal.pending  # part of a batch an Execute with max_rows left: sent first still
    _release(portal)
    portal.batches, portal.pending = _replay(rest, failure), pending
    portal.parked = True


def _duckdb_error(err: Exception) -> Exception:
    """A DuckDB error met while streaming reaches us through Arrow's reader as an OSError whose
    text starts with its kind (``Invalid Input Error: Division by zero ...``): DuckDB's own
    exception again, so it gets its SQLSTATE (22012 here), as when it is met before the first row."""
    import duckdb

    kind = re.match(r"([A-Za-z]+(?: [A-Za-z]+)*) Error: ", str(err)) if type(err) is OSError else None
    name = "".join(word[:1].upper() + word[1:] for word in kind.group(1).split()) if kind else ""
    cls = getattr(duckdb, name + "Exception", None) if name else None
    return cls(str(err)) if isinstance(cls, type) and issubclass(cls, duckdb.Error) else err


def settle(result: asyncio.Future, work: asyncio.Future | concurrent.futures.Future) -> None:
    """``work``'s outcome (result, error or cancel) to ``result``, unless ``result`` is settled or
    cancelled already (its awaiter is gone, or the rows were handed over before the call ended)."""
    if result.done():
        return
    if work.cancelled():
        result.cancel()
    elif (error := work.exception()) is not None:
        result.set_exception(error)
    else:
        result.set_result(work.result())


def _resolve(future: asyncio.Future, value: Any) -> None:
    if not future.done():
        future.set_result(value)


def _front(first: Any, rest: Iterator[Any] | None) -> Iterator[Any]:
    """``first``, then the rest of ``rest`` (closing this closes ``rest``, a result's reader)."""
    yield first
    if rest is not None:
        yield from rest


def _replay(batches: list[Any], failure: Exception | None) -> Iterator[Any]:
    yield from batches
    if failure is not None:
        raise failure


def _release(portal: Portal) -> None:
    """Close the portal's DuckDB result now, read or not (runs on the connection's worker)."""
    batches, portal.batches, portal.pending = portal.batches, None, None
    close = getattr(batches, "close", None)
    if close is not None:
        close()  # a generator over the result: its reader closes with it
    if portal.result is not None:
        portal.result.close()


def check_runnable(portal: Portal, name: str) -> None:
    """A portal whose statement failed mid-stream cannot be read on (PostgreSQL's 55000)."""
    if portal.released:
        raise SqlError(f'portal "{name}" cannot be run', sqlstate="55000")


def result_formats(formats: list[int], n: int) -> list[int]:
    if not formats:
        return [0] * n
    if len(formats) == 1:
        return formats * n
    return list(formats[:n]) + [0] * max(0, n - len(formats))
