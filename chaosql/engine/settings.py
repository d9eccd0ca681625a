"""Session settings: ``SET chaosql.<name> = value``, ``--set NAME=VALUE``, ``[settings]``.

Every value is checked when it is set, so a statement never starts with a setting it cannot use:
numbers must be finite and within the range ``RANGES`` gives (``SET chaosql.timeout = 'inf'``,
``1e400``, ``nan`` or ``-1`` are refused with a message naming the setting and its range).
"""

from __future__ import annotations

import math
from typing import Any

from chaosql.errors import UsageError

#: The longest statement timeout, in seconds: PostgreSQL's (statement_timeout is an int of ms).
MAX_TIMEOUT = 2147483.647
#: The largest statement text a session accepts; the default is far below (see max_statement_bytes).
MAX_STATEMENT_BYTES = 64 * 1024 * 1024

#: Session settings, changed with ``SET chaosql.<name> = value``: name -> (default, doc).
SETTINGS: dict[str, tuple[Any, str]] = {
    "pushdown": (True, "Push predicates down to the sources (off only to compare answers)."),
    "on_source_error": ("fail", "fail: a failing source fails the query; warn: go on without it, with a warning."),
    "timeout": (
        300.0,
        "Seconds a statement may run (parse, fetch and query) before it is cancelled; 0: no limit "
        f"(at most {MAX_TIMEOUT:g}, as PostgreSQL's statement_timeout).",
    ),
    "allow_unqualified_writes": (False, "Allow UPDATE and DELETE without WHERE."),
    "confirm_rows": (10, "Writes touching more rows than this ask first in the REPL (the CLI needs --yes)."),
    "force_delete": (
        False,
        "DELETE also removes the object's finalizers (Chaos Mesh's, LitmusChaos's: forced deletion, no recovery).",
    ),
    "max_statement_bytes": (
        256 * 1024,
        "Longest statement text accepted, in bytes (UTF-8); a longer one is refused before it is parsed "
        "(SQLSTATE 54000).",
    ),
    "max_cursor_bytes": (
        256 * 1024 * 1024,
        "Most bytes of rows an open cursor or portal not yet read to its end is held in memory, over the "
        "wire, when its connection runs another statement; beyond, that statement is refused (SQLSTATE 54000) "
        "and the cursor stays open.",
    ),
    "cache": (
        True,
        "Read Kubernetes objects from the watch cache that chaosql serve, the shell and chaosql service keep "
        "(false: list them live for every statement).",
    ),
    "cache_idle": (600.0, "Seconds a watch-cached kind nobody reads stays watched (read when the cache starts)."),
}
#: The allowed range of each numeric setting: (lowest, highest), both included.
RANGES: dict[str, tuple[float, float]] = {
    "timeout": (0, MAX_TIMEOUT),
    "confirm_rows": (0, 2**31 - 1),
    "max_statement_bytes": (1024, MAX_STATEMENT_BYTES),
    "max_cursor_bytes": (1024 * 1024, 2**40),
    "cache_idle": (1, 7 * 86400),
}


def coerce(key: str, value: Any) -> Any:
    """``value`` as the setting's type, or a UsageError that names the setting.

    >>> coerce("timeout", "2.5"), coerce("confirm_rows", "20"), coerce("pushdown", "off")
    (2.5, 20, False)
    >>> coerce("timeout", "inf")
    Traceback (most recent call last):
    ...
    chaosql.errors.UsageError: chaosql.timeout takes a number from 0 to 2.14748e+06, not 'inf'; 0 means no limit
    """
    if key not in SETTINGS:
        raise UsageError(f"unknown setting chaosql.{key}", hint="known: " + ", ".join(f"chaosql.{k}" for k in SETTINGS))
    return _coerce(key, value, SETTINGS[key][0])


def _coerce(key: str, value: Any, default: Any) -> Any:
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "on", "1", "yes"):
            return True
        if text in ("false", "off", "0", "no"):
            return False
        raise UsageError(f"chaosql.{key} takes true or false, not {value!r}")
    if isinstance(default, (int, float)):
        return _number(key, value, whole=isinstance(default, int))
    if key == "on_source_error" and str(value) not in ("fail", "warn"):
        raise UsageError(f"chaosql.{key} takes fail or warn, not {value!r}")
    return str(value)


def _number(key: str, value: Any, *, whole: bool) -> int | float:
    lo, hi = RANGES.get(key, (-math.inf, math.inf))
    what = "a whole number" if whole else "a number"
    hint = "0 means no limit" if key == "timeout" else None
    problem = UsageError(f"chaosql.{key} takes {what} from {lo:g} to {hi:g}, not {value!r}", hint=hint)
    if isinstance(value, bool):
        raise problem
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError, OverflowError):
        raise problem from None
    if not math.isfinite(number) or not lo <= number <= hi or (whole and not number.is_integer()):
        raise problem
    return int(number) if whole else number
