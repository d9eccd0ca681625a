"""Session settings: ``SET chaosql.<name> = value``, ``--set NAME=VALUE``, ``[settings]``."""

from __future__ import annotations

from typing import Any

from chaosql.errors import UsageError

#: Session settings, changed with ``SET chaosql.<name> = value``: name -> (default, doc).
SETTINGS: dict[str, tuple[Any, str]] = {
    "pushdown": (True, "Push predicates down to the sources (off only to compare answers)."),
    "on_source_error": ("fail", "fail: a failing source fails the query; warn: go on without it, with a warning."),
    "timeout": (300.0, "Seconds a statement may run (fetch and query) before it is cancelled."),
    "allow_unqualified_writes": (False, "Allow UPDATE and DELETE without WHERE."),
    "confirm_rows": (10, "Writes touching more rows than this ask first in the REPL (the CLI needs --yes)."),
    "force_delete": (False, "DELETE also removes Chaos Mesh's finalizers (forced deletion, no recovery)."),
}


def coerce(key: str, value: Any) -> Any:
    """``value`` as the setting's type, or a UsageError that names the setting."""
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
        try:
            return type(default)(value)
        except (TypeError, ValueError):
            raise UsageError(f"chaosql.{key} takes a number, not {value!r}") from None
    if key == "on_source_error" and str(value) not in ("fail", "warn"):
        raise UsageError(f"chaosql.{key} takes fail or warn, not {value!r}")
    return str(value)
