"""Protocol 3.0 framing: read messages from an asyncio stream, build the backend's messages.

Every length a client sends is checked against ``MAX_MESSAGE`` before anything is allocated,
so a hostile or broken client costs at most one bounded buffer.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Iterable

MAX_MESSAGE = 64 * 1024 * 1024  # a Parse or Bind larger than this is refused
MAX_STARTUP = 10_000

PROTOCOL_3 = 196608
SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
CANCEL_REQUEST = 80877102

_I = struct.Struct("!i")
_H = struct.Struct("!h")
NULL_FIELD = b"\xff\xff\xff\xff"


class ProtocolViolation(Exception):
    """The client broke the protocol; the connection is closed after a FATAL 08P01."""


async def read_startup(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """An untyped startup-phase packet: (code, payload after the code)."""
    header = await reader.readexactly(4)
    (length,) = _I.unpack(header)
    if length < 8 or length > MAX_STARTUP:
        raise ProtocolViolation(f"invalid startup packet length {length}")
    body = await reader.readexactly(length - 4)
    return _I.unpack_from(body)[0], body[4:]


class StatementTooLong(Exception):
    """A Query or Parse message longer than the session's statement limit: its body was read and
    dropped without being kept, and the client gets an ERROR 54000, not a closed connection."""

    def __init__(self, kind: bytes, size: int) -> None:
        super().__init__(f"{kind!r} message of {size} bytes")
        self.kind, self.size = kind, size


#: What a Parse message holds beside its SQL: a statement name and up to 65535 parameter types.
PARSE_OVERHEAD = 1024 + 4 * 65535


async def read_message(reader: asyncio.StreamReader, *, statement_limit: int | None = None) -> tuple[bytes, bytes]:
    """A typed message: (type byte, payload). A Query (Parse) message whose SQL cannot fit in
    ``statement_limit`` bytes is skipped in chunks and raises ``StatementTooLong``."""
    header = await reader.readexactly(5)
    kind = header[:1]
    (length,) = _I.unpack_from(header, 1)
    if length < 4 or length > MAX_MESSAGE:
        raise ProtocolViolation(f"invalid message length {length} for message type {kind!r}")
    if statement_limit is not None and kind in (b"Q", b"P"):
        room = statement_limit + 1 + (PARSE_OVERHEAD if kind == b"P" else 0)
        if length - 4 > room:
            left = length - 4
            while left:
                left -= len(await reader.readexactly(min(left, 64 * 1024)))
            raise StatementTooLong(kind, length - 4)
    return kind, await reader.readexactly(length - 4)


def parse_startup_params(payload: bytes) -> dict[str, str]:
    parts = payload.split(b"\x00")
    params = {}
    for key, value in zip(parts[0::2], parts[1::2]):
        if not key:
            break
        params[key.decode("utf-8", "replace")] = value.decode("utf-8", "replace")
    return params


class Reader:
    """Cursor over one message's payload; raises ProtocolViolation when it runs short."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def _need(self, n: int) -> None:
        if n < 0 or self.pos + n > len(self.data):
            raise ProtocolViolation("message is shorter than its contents say")

    def int32(self) -> int:
        self._need(4)
        (v,) = _I.unpack_from(self.data, self.pos)
        self.pos += 4
        return v

    def int16(self) -> int:
        self._need(2)
        (v,) = _H.unpack_from(self.data, self.pos)
        self.pos += 2
        return v

    def byte(self) -> bytes:
        self._need(1)
        self.pos += 1
        return self.data[self.pos - 1 : self.pos]

    def bytes(self, n: int) -> bytes:
        self._need(n)
        self.pos += n
        return self.data[self.pos - n : self.pos]

    def cstring(self) -> str:
        end = self.data.find(b"\x00", self.pos)
        if end < 0:
            raise ProtocolViolation("unterminated string in message")
        value = self.data[self.pos : end]
        self.pos = end + 1
        return value.decode("utf-8", "replace")

    def count(self, width: int) -> int:
        """An int16 count, checked against what is left so a huge count cannot allocate."""
        n = self.int16()
        if n < 0 or n * width > len(self.data) - self.pos:
            raise ProtocolViolation(f"invalid count {n} in message")
        return n


# --- backend messages --------------------------------------------------------------------------


def message(kind: bytes, payload: bytes = b"") -> bytes:
    return kind + _I.pack(len(payload) + 4) + payload


def cstr(text: str) -> bytes:
    return text.encode("utf-8").replace(b"\x00", b"") + b"\x00"


def authentication(code: int, extra: bytes = b"") -> bytes:
    return message(b"R", _I.pack(code) + extra)


def parameter_status(name: str, value: str) -> bytes:
    return message(b"S", cstr(name) + cstr(value))


def backend_key_data(pid: int, secret: int) -> bytes:
    return message(b"K", struct.pack("!iI", pid, secret))


def ready_for_query(status: str) -> bytes:
    return message(b"Z", status.encode())


def command_complete(tag: str) -> bytes:
    return message(b"C", cstr(tag))


def error_response(
    severity: str,
    code: str,
    text: str,
    *,
    hint: str | None = None,
    position: int | None = None,
    detail: str | None = None,
) -> bytes:
    fields = b"S" + cstr(severity) + b"V" + cstr(severity) + b"C" + cstr(code) + b"M" + cstr(text)
    if detail:
        fields += b"D" + cstr(detail)
    if hint:
        fields += b"H" + cstr(hint)
    if position:
        fields += b"P" + cstr(str(position))
    return message(b"E", fields + b"\x00")


def notice_response(text: str) -> bytes:
    return message(b"N", b"SWARNING\x00VWARNING\x00C01000\x00M" + cstr(text) + b"\x00")


def row_description(fields: Iterable[tuple[str, int, int, int, int]]) -> bytes:
    """fields: (name, type oid, type size, type modifier, format code)."""
    fields = list(fields)
    out = [_H.pack(len(fields))]
    for name, oid, size, typmod, fmt in fields:
        out.append(cstr(name) + struct.pack("!ihihih", 0, 0, oid, size, typmod, fmt))
    return message(b"T", b"".join(out))


def parameter_description(oids: list[int]) -> bytes:
    return message(b"t", _H.pack(len(oids)) + b"".join(_I.pack(o) for o in oids))


def copy_out_response(columns: int) -> bytes:
    """CopyOutResponse: text format for every column."""
    return message(b"H", b"\x00" + _H.pack(columns) + _H.pack(0) * columns)


def copy_data(rows: list[bytes]) -> bytes:
    """One CopyData message per row (clients parse a message as one row)."""
    return b"".join(b"d" + _I.pack(len(row) + 4) + row for row in rows)


PARSE_COMPLETE = message(b"1")
BIND_COMPLETE = message(b"2")
CLOSE_COMPLETE = message(b"3")
NO_DATA = message(b"n")
EMPTY_QUERY = message(b"I")
PORTAL_SUSPENDED = message(b"s")
COPY_DONE = message(b"c")
