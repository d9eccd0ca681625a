"""Reading the TOML files that define reports, guards and sweeps: one way to read a file and to
check its keys, so every such file fails the same way — a usage error (exit 2) that names the
file, the section and the key, before anything runs.

>>> no_unknown({"every": "5s", "evry": 1}, {"every"}, "g.toml: guard x")
Traceback (most recent call last):
...
chaosql.errors.UsageError: g.toml: guard x: unknown key 'evry'; known: every
>>> seconds_of("1m30s", "every", "g.toml")
90.0
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from chaosql.errors import UsageError


def read_toml(path: str | Path, what: str) -> dict[str, Any]:
    """The TOML document at ``path`` (``what``: "report", "guard file", ...), or a UsageError."""
    import tomllib

    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise UsageError(f"cannot read {what} {path}: {err.strerror or err}") from None
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise UsageError(f"{what} {path}: not UTF-8 text (byte {err.start})", hint="save it as UTF-8") from None
    except tomllib.TOMLDecodeError as err:
        raise UsageError(f"{what} {path}: invalid TOML: {err}") from None
    except RecursionError:
        raise UsageError(f"{what} {path}: arrays or tables nested too deeply") from None


def no_unknown(table: dict, known: set[str], where: str) -> None:
    """Refuse a key the section does not take (most likely a typo that would silently do nothing)."""
    unknown = sorted(set(table) - known)
    if unknown:
        raise UsageError(f"{where}: unknown key {unknown[0]!r}", hint="known: " + ", ".join(sorted(known)))


def text(table: dict, key: str, where: str) -> str | None:
    """``table[key]`` when it is a string (or absent), else a UsageError naming the key."""
    value = table.get(key)
    if value is not None and not isinstance(value, str):
        raise UsageError(f"{where}: {key} takes a string (in quotes), not {value!r}")
    return value


def subtable(table: dict, key: str, where: str) -> dict[str, Any]:
    """``table[key]`` when it is a table (or absent: empty), else a UsageError naming the key."""
    value = table.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise UsageError(f"{where}: {key} takes a table, e.g. {key} = {{ minutes = 30 }}, not {value!r}")
    return dict(value)


def flag(table: dict, key: str, where: str, default: bool = False) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise UsageError(f"{where}: {key} takes true or false, not {value!r}")
    return value


def whole(table: dict, key: str, where: str, default: int | None = None, *, least: int = 0) -> int | None:
    """A whole number >= ``least`` (or the default when absent)."""
    value = table.get(key, default)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < least:
        raise UsageError(f"{where}: {key} takes a whole number >= {least}, not {value!r}")
    return value


def seconds_of(value: Any, key: str, where: str, *, zero: bool = False) -> float:
    """A duration as seconds: a number (seconds) or a Prometheus-style string (``"300ms"``,
    ``"1m30s"``); ``zero``: 0 is allowed (``for = 0``: act on the first sight)."""
    from chaosql.errors import SqlError
    from chaosql.tables.metrics import parse_duration

    if isinstance(value, bool):
        raise UsageError(f'{where}: {key} takes a duration such as "30s" or a number of seconds, not {value!r}')
    if zero and (value == 0 or value == "0" or value == "0s"):
        return 0.0
    try:
        seconds = parse_duration(value, what=key)
    except SqlError:
        raise UsageError(
            f'{where}: {key} takes a duration such as "30s", "1m30s" or "500ms", or a number of seconds, not {value!r}'
        ) from None
    if not math.isfinite(seconds):
        raise UsageError(f"{where}: {key} must be finite, not {value!r}")
    return seconds


def duration(table: dict, key: str, where: str, default: float | None = None, *, zero: bool = False) -> float | None:
    """``table[key]`` as seconds (see ``seconds_of``), or the default when absent."""
    if key not in table:
        return default
    return seconds_of(table[key], key, where, zero=zero)
