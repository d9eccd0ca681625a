"""Statements every PostgreSQL client sends that are about the connection, not the data.

SET/RESET/SHOW of PostgreSQL settings, transaction control (chaosql has no transactions: BEGIN,
COMMIT, SAVEPOINT... are acknowledged and only move the transaction status a client sees),
DISCARD, DEALLOCATE, LISTEN. ``SET chaosql.*`` and ``SHOW TABLES`` are chaosql's own and go to the
session instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

SERVER_VERSION = "15.18"
SERVER_VERSION_NUM = "150018"
VERSION_TEXT = f"PostgreSQL {SERVER_VERSION} (chaosql) on x86_64-pc-linux-gnu, compiled by gcc, 64-bit"

#: Settings reported to the client with ParameterStatus at startup and whenever they change.
REPORTED = (
    "server_version",
    "server_encoding",
    "client_encoding",
    "application_name",
    "DateStyle",
    "TimeZone",
    "integer_datetimes",
    "standard_conforming_strings",
    "IntervalStyle",
    "is_superuser",
    "session_authorization",
    "default_transaction_read_only",
    "in_hot_standby",
)


def default_settings(user: str, database: str) -> dict[str, str]:
    return {
        "server_version": SERVER_VERSION,
        "server_version_num": SERVER_VERSION_NUM,
        "server_encoding": "UTF8",
        "client_encoding": "UTF8",
        "application_name": "",
        "DateStyle": "ISO, MDY",
        "TimeZone": "UTC",
        "integer_datetimes": "on",
        "standard_conforming_strings": "on",
        "IntervalStyle": "postgres",
        "is_superuser": "off",
        "session_authorization": user,
        "default_transaction_read_only": "off",
        "in_hot_standby": "off",
        "search_path": '"$user", public',
        "transaction_isolation": "read committed",
        "default_transaction_isolation": "read committed",
        "transaction_read_only": "off",
        "extra_float_digits": "1",
        "max_identifier_length": "63",
        "lc_collate": "C",
        "lc_ctype": "C",
        "lc_messages": "C",
        "jit": "off",
        "statement_timeout": "0",
        "lock_timeout": "0",
        "idle_in_transaction_session_timeout": "0",
        "block_size": "8192",
        "max_index_keys": "32",
        "bytea_output": "hex",
        "client_min_messages": "notice",
        "datestyle": "ISO, MDY",
        "timezone": "UTC",
        "intervalstyle": "postgres",
        "escape_string_warning": "on",
        "server_version_full": VERSION_TEXT,
        "database": database,
        "max_connections": "100",
        "port": "5433",
    }


_ALIASES = ("datestyle", "timezone", "intervalstyle")  # lowercase copies kept for lookups


@dataclass
class Answer:
    """The server's own answer to one statement."""

    tag: str
    columns: list[str] = field(default_factory=list)
    rows: list[tuple[str | None, ...]] = field(default_factory=list)
    transaction: str | None = None  # "begin", "commit", "rollback", "rollback_to"
    changed: dict[str, str] = field(default_factory=dict)  # settings to report with ParameterStatus
    empty: bool = False  # EmptyQueryResponse


_COMMENTS = re.compile(r"(\s|--[^\n]*(\n|$)|/\*.*?\*/)+", re.S)
_SET = re.compile(
    r"^set\s+(?:(session|local)\s+)?(?!transaction\b|session\s+characteristics)"
    r"(time\s+zone|[a-z_][\w.]*)\s*(?:=|\bto\b)?\s*(.*?)\s*;?\s*$",
    re.I | re.S,
)


STATEMENT_TIMEOUT_MAX_MS = 2147483647


def timeout_seconds(value: str) -> float | None:
    """statement_timeout ('5000', '5s', '2min', '0') -> seconds; None for 0 (no limit of its own).

    >>> timeout_seconds("1500"), timeout_seconds("5s"), timeout_seconds("2min"), timeout_seconds("0")
    (1.5, 5.0, 120.0, None)
    >>> timeout_seconds("99999999999")
    Traceback (most recent call last):
    ...
    ValueError: invalid value for parameter "statement_timeout": "99999999999"
    """
    m = re.fullmatch(r"\s*(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*(ms|s|min|h|d)?\s*", value or "", re.I)
    if not m:
        raise ValueError(f'invalid value for parameter "statement_timeout": "{value}"')
    unit = {"ms": 0.001, "s": 1, "min": 60, "h": 3600, "d": 86400}[(m.group(2) or "ms").lower()]
    seconds = float(m.group(1)) * unit
    if abs(seconds * 1000) > STATEMENT_TIMEOUT_MAX_MS:  # as PostgreSQL: an int of milliseconds
        raise ValueError(f'invalid value for parameter "statement_timeout": "{value}"')
    if seconds < 0:
        raise ValueError(
            f'{m.group(1)} {m.group(2) or "ms"} is outside the valid range for parameter "statement_timeout" '
            f"(0 .. {STATEMENT_TIMEOUT_MAX_MS})"
        )
    return seconds or None


def timeout_text(value: str) -> str:
    """statement_timeout as PostgreSQL shows it: in the largest unit it is a whole number of.

    >>> [timeout_text(v) for v in ("1500", "1000", "1.5s", "120000", "2h", "0")]
    ['1500ms', '1s', '1500ms', '2min', '2h', '0']
    """
    seconds = timeout_seconds(value)
    ms = round(seconds * 1000) if seconds else 0
    if ms == 0:
        return "0"
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("min", 60_000), ("s", 1000)):
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def time_zone(value: str, settings: dict[str, str]) -> str:
    """A ``SET TIME ZONE`` value as a zone name: LOCAL/DEFAULT is the server's (UTC), a number
    of hours is a fixed offset (``SET TIME ZONE -7``, POSIX-style names as PostgreSQL shows them).

    >>> time_zone("Europe/Berlin", {}), time_zone("local", {}), time_zone("-7", {})
    ('Europe/Berlin', 'UTC', '<-07>+07')
    """
    text = value.strip()
    if text.lower() in ("local", "default", ""):
        return "UTC"
    if re.fullmatch(r"[+-]?\d+(\.\d+)?", text):
        hours = float(text)
        whole = int(hours)
        return f"<{'-' if hours < 0 else '+'}{abs(whole):02d}>{'+' if hours < 0 else '-'}{abs(whole):02d}"
    return text


def duckdb_zone(name: str) -> str:
    """The zone DuckDB (ICU) knows for a PostgreSQL zone name: ``<-07>+07`` is ``Etc/GMT+7``."""
    m = re.fullmatch(r"<([+-])(\d\d)>[+-]\d\d", name)
    if m:
        hours = int(m.group(2))
        return "UTC" if hours == 0 else f"Etc/GMT{'-' if m.group(1) == '+' else '+'}{hours}"
    return name


def strip_comments(sql: str) -> str:
    return _COMMENTS.sub(" ", sql).strip().rstrip(";").strip()


def startup_options(options: str) -> dict[str, str]:
    """``-c name=value`` and ``--name=value`` from the startup packet's options (PGOPTIONS).

    A name's dashes are underscores, as PostgreSQL reads them (``--statement-timeout=5s``).

    >>> startup_options("-c statement_timeout=1000 --TimeZone=Europe/Berlin")
    {'statement_timeout': '1000', 'TimeZone': 'Europe/Berlin'}
    >>> startup_options("--statement-timeout=2min -c application-name=x-y")
    {'statement_timeout': '2min', 'application_name': 'x-y'}
    """
    words = re.findall(r"(?:\\.|\S)+", options or "")
    words = [re.sub(r"\\(.)", r"\1", w) for w in words]
    out, i = {}, 0
    while i < len(words):
        word = words[i]
        if word == "-c" and i + 1 < len(words):
            word, i = words[i + 1], i + 1
        elif word.startswith("-c") or word.startswith("--"):
            word = word[2:]
        else:
            i += 1
            continue
        name, _, value = word.partition("=")
        out[name.replace("-", "_")] = value
        i += 1
    return out


def quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def canonical(name: str, settings: dict[str, str]) -> str:
    return _canonical(name, settings)


def _canonical(name: str, settings: dict[str, str]) -> str:
    lowered = name.lower()
    for key in settings:
        if key.lower() == lowered:
            return key
    return lowered


def _value(raw: str) -> str:
    parts = re.findall(r"'((?:[^']|'')*)'|([^,\s]+)", raw)
    values = [q.replace("''", "'") if q or not u else u for q, u in parts]
    values = [v[1:-1].replace('""', '"') if len(v) > 1 and v[0] == v[-1] == '"' else v for v in values]
    return ", ".join(values) if values else ""


def answer(sql: str, settings: dict[str, str]) -> Answer | None:
    """The server's answer, or None when the statement is for the session. Updates ``settings``."""
    text = strip_comments(sql)
    if not text:
        return Answer("", empty=True)
    first = text.split(None, 1)[0].lower()
    rest = text[len(first) :].strip().lower()
    if first in ("begin", "start"):
        return Answer("BEGIN", transaction="begin")
    if first in ("commit", "end"):
        return Answer("COMMIT", transaction="commit")
    if first in ("rollback", "abort"):
        if rest.startswith("to"):
            return Answer("ROLLBACK", transaction="rollback_to")
        return Answer("ROLLBACK", transaction="rollback")
    if first == "savepoint":
        return Answer("SAVEPOINT")
    if first == "release":
        return Answer("RELEASE")
    if first == "discard":
        return Answer("DISCARD " + rest.upper().split()[0] if rest else "DISCARD ALL")
    if first == "deallocate":
        return Answer("DEALLOCATE ALL" if rest.endswith("all") else "DEALLOCATE")
    if first in ("listen", "unlisten", "notify"):
        return Answer(first.upper())
    if first == "set":
        return _set(text, settings)
    if first == "reset":
        name = rest.strip()
        if name.startswith("chaosql."):
            return None
        if name != "all":
            key = _canonical(name, settings)
            fresh = default_settings(settings.get("session_authorization", ""), settings.get("database", ""))
            if key in fresh:
                settings[key] = fresh[key]
        return Answer("RESET")
    if first == "show":
        return _show(rest, settings)
    return None


def _set(text: str, settings: dict[str, str]) -> Answer | None:
    m = _SET.match(text)
    if not m:  # SET TRANSACTION ..., SET SESSION CHARACTERISTICS ...: nothing to change here
        return Answer("SET")
    name, raw = m.group(2), m.group(3)
    if name.lower().startswith("chaosql."):
        return None
    if re.fullmatch(r"time\s+zone", name, re.I):
        name = "TimeZone"
    key = _canonical(name, settings)
    value = _value(raw)
    if value.lower() == "default":
        fresh = default_settings(settings.get("session_authorization", ""), settings.get("database", ""))
        value = fresh.get(key, "")
    if key.lower() == "timezone":  # applied to the session's DuckDB by the connection, which checks it
        key = "TimeZone"
        value = time_zone(value, settings)
    if key == "statement_timeout":
        try:
            value = timeout_text(value)
        except ValueError:
            pass  # the connection refuses it (22023) when it applies the change
    settings[key] = value
    if key.lower() in _ALIASES:
        settings[key.lower()] = value
    changed = {key: value} if key in REPORTED or key == "statement_timeout" else {}
    return Answer("SET", changed=changed)


def _show(rest: str, settings: dict[str, str]) -> Answer | None:
    name = re.sub(r"\s+", " ", rest.strip().strip('"'))
    if name in ("tables",) or name.startswith("chaosql.") or name.startswith("tables "):
        return None
    if name == "all":  # each setting once, under PostgreSQL's spelling
        rows: list[tuple[str | None, ...]] = [
            (k, v, "") for k, v in sorted(settings.items()) if k not in _ALIASES and k != "database"
        ]
        return Answer("SHOW", ["name", "setting", "description"], rows)
    if name == "transaction isolation level":
        return Answer("SHOW", ["transaction_isolation"], [(settings["transaction_isolation"],)])
    if name in ("time zone", "timezone"):
        return Answer("SHOW", ["TimeZone"], [(settings["TimeZone"],)])
    key = _canonical(name, settings)
    if key not in settings:
        return (
            Answer("SHOW", [name], [("",)])
            if name.startswith("pgjdbc.")
            else Answer("ERROR", [name], [], changed={"__error__": f'unrecognized configuration parameter "{name}"'})
        )
    return Answer("SHOW", [key.lower() if key != "TimeZone" else key], [(settings[key],)])
