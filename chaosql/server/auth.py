"""Who may connect: users from the config file and the password exchanges (SCRAM-SHA-256, md5, cleartext).

Config::

    [server]
    auth = "scram-sha-256"          # or "md5", "password" (cleartext, only sensible with TLS), "trust"

    [server.users.grafana]
    password = "s3cret"
    writes = false                  # INSERT/UPDATE/DELETE on chaos tables (default false)

Without users the server runs with ``trust`` and then listens on loopback only (unless --insecure).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass, field
from typing import Any

from chaosql.errors import UsageError

METHODS = ("scram-sha-256", "md5", "password", "trust")
ITERATIONS = 4096


@dataclass
class User:
    name: str
    password: str | None
    writes: bool = False
    _scram: tuple[bytes, bytes, bytes] | None = field(default=None, repr=False)

    def scram_keys(self, salt: bytes) -> tuple[bytes, bytes]:
        """(StoredKey, ServerKey) for this user's password and ``salt``, computed once."""
        if self._scram is None or self._scram[0] != salt:
            salted = hashlib.pbkdf2_hmac("sha256", (self.password or "").encode("utf-8"), salt, ITERATIONS)
            client_key = hmac.digest(salted, b"Client Key", "sha256")
            self._scram = (salt, hashlib.sha256(client_key).digest(), hmac.digest(salted, b"Server Key", "sha256"))
        return self._scram[1], self._scram[2]


@dataclass
class AuthConfig:
    method: str = "trust"
    users: dict[str, User] = field(default_factory=dict)
    salt: bytes = field(default_factory=lambda: os.urandom(16))

    def user(self, name: str) -> User | None:
        if self.method == "trust" and not self.users:
            return User(name, None, writes=False)
        return self.users.get(name)


def auth_config(section: dict[str, Any], *, method: str | None = None) -> AuthConfig:
    """The ``[server]`` config section -> AuthConfig; bad entries are a UsageError naming them."""
    users = {}
    raw_users = section.get("users") or {}
    if not isinstance(raw_users, dict):
        raise UsageError("config [server.users]: expected [server.users.NAME] sections")
    for name, spec in raw_users.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("password"), str):
            raise UsageError(f'config [server.users.{name}]: needs password = "..."')
        users[name] = User(name, spec["password"], writes=bool(spec.get("writes", False)))
    chosen = (method or section.get("auth") or ("scram-sha-256" if users else "trust")).lower()
    if chosen not in METHODS:
        raise UsageError(f"unknown auth method {chosen!r}", hint="use one of " + ", ".join(METHODS))
    if chosen != "trust" and not users:
        raise UsageError(f"auth {chosen} needs users", hint='add [server.users.NAME] password = "..." to the config')
    return AuthConfig(chosen, users)


class Scram:
    """Server side of one SCRAM-SHA-256 exchange (RFC 5802/7677, no channel binding)."""

    def __init__(self, user: User | None, salt: bytes) -> None:
        self.user = user
        self.salt = salt
        self.server_nonce = base64.b64encode(os.urandom(18)).decode()
        self.client_first_bare = ""
        self.server_first = ""
        self.nonce = ""

    def first(self, client_first: str) -> str:
        """client-first-message -> server-first-message. The n= user name is ignored, as PostgreSQL does."""
        header, sep, bare = _split_gs2(client_first)
        if not sep or header[0] not in "ny":
            raise ValueError("unsupported SCRAM channel binding")
        attrs = _attrs(bare)
        if "r" not in attrs:
            raise ValueError("SCRAM client nonce missing")
        self.client_first_bare = bare
        self.nonce = attrs["r"] + self.server_nonce
        self.server_first = f"r={self.nonce},s={base64.b64encode(self.salt).decode()},i={ITERATIONS}"
        return self.server_first

    def final(self, client_final: str) -> str | None:
        """client-final-message -> server-final-message, or None when the proof is wrong."""
        without_proof, _, proof_part = client_final.rpartition(",p=")
        attrs = _attrs(without_proof)
        if attrs.get("r") != self.nonce or not proof_part or self.user is None or self.user.password is None:
            return None
        stored_key, server_key = self.user.scram_keys(self.salt)
        auth_message = f"{self.client_first_bare},{self.server_first},{without_proof}".encode()
        signature = hmac.digest(stored_key, auth_message, "sha256")
        try:
            proof = base64.b64decode(proof_part, validate=True)
        except ValueError:
            return None
        if len(proof) != len(signature):
            return None
        client_key = bytes(a ^ b for a, b in zip(proof, signature))
        if not hmac.compare_digest(hashlib.sha256(client_key).digest(), stored_key):
            return None
        return "v=" + base64.b64encode(hmac.digest(server_key, auth_message, "sha256")).decode()


def md5_ok(user: User | None, answer: str, salt: bytes) -> bool:
    if user is None or user.password is None:
        return False
    inner = hashlib.md5((user.password + user.name).encode()).hexdigest()
    expected = "md5" + hashlib.md5(inner.encode() + salt).hexdigest()
    return hmac.compare_digest(expected, answer)


def cleartext_ok(user: User | None, answer: str) -> bool:
    return user is not None and user.password is not None and hmac.compare_digest(user.password, answer)


def _split_gs2(message: str) -> tuple[str, str, str]:
    # gs2-header is "n,," / "y,," (optionally with an authzid between the commas)
    first = message.find(",")
    second = message.find(",", first + 1) if first >= 0 else -1
    if first < 0 or second < 0 or not message:
        return message, "", ""
    return message[:second], ",", message[second + 1 :]


def _attrs(text: str) -> dict[str, str]:
    out = {}
    for part in text.split(","):
        key, eq, value = part.partition("=")
        if eq:
            out[key] = value
    return out
