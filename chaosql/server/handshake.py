"""The password exchange after the startup packet: trust, SCRAM-SHA-256, md5 or cleartext."""

from __future__ import annotations

import asyncio
import os

from chaosql.server import auth, wire


class Fatal(Exception):
    """Ends the connection with a FATAL ErrorResponse carrying ``code`` (a SQLSTATE)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


async def authenticate(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, cfg: auth.AuthConfig, name: str, timeout: float
) -> auth.User:
    """Run the configured exchange for user ``name``; raises Fatal 28P01 on a wrong password or unknown user."""
    user = cfg.user(name)
    method = cfg.method
    if method == "trust":
        if user is None:
            raise Fatal("28000", f'role "{name}" does not exist')
        return user
    failed = Fatal("28P01", f'password authentication failed for user "{name}"')

    async def password_message() -> bytes:
        await writer.drain()
        kind, body = await asyncio.wait_for(wire.read_message(reader), timeout)
        if kind != b"p":
            raise Fatal("08P01", f"expected a password message, got {kind!r}")
        return body

    if method == "scram-sha-256":
        # the user name inside SCRAM (often empty, from libpq and pgjdbc) is ignored, as PostgreSQL does
        writer.write(wire.authentication(10, b"SCRAM-SHA-256\x00\x00"))
        r = wire.Reader(await password_message())
        mechanism = r.cstring()
        if mechanism != "SCRAM-SHA-256":
            raise Fatal("28000", f"unsupported SASL mechanism {mechanism}")
        length = r.int32()
        first = r.bytes(length).decode("utf-8", "replace") if length >= 0 else ""
        scram = auth.Scram(user, cfg.salt)
        try:
            server_first = scram.first(first)
        except ValueError as err:
            raise Fatal("08P01", str(err)) from err
        writer.write(wire.authentication(11, server_first.encode()))
        final = scram.final((await password_message()).decode("utf-8", "replace"))
        if final is None or user is None:
            raise failed
        writer.write(wire.authentication(12, final.encode()))
        return user
    if method == "md5":
        salt = os.urandom(4)
        writer.write(wire.authentication(5, salt))
        answer = wire.Reader(await password_message()).cstring()
        if user is None or not auth.md5_ok(user, answer, salt):
            raise failed
        return user
    writer.write(wire.authentication(3))
    answer = wire.Reader(await password_message()).cstring()
    if user is None or not auth.cleartext_ok(user, answer):
        raise failed
    return user
