"""chaosql's errors: one hierarchy, each message names its cause and the next step.

::

    ChaosqlError                 base of everything chaosql raises on purpose
    ├── UsageError               bad command line or configuration (CLI exit code 2)
    ├── SqlError                 the statement is wrong: syntax, unknown table or column, types
    │   └── UnsupportedError     valid SQL that chaosql cannot run
    ├── SourceError              a source (kube, snapshot, prometheus, chaosd) failed
    │   ├── Forbidden            the source refused: RBAC 403, 401, bad credentials
    │   ├── Unavailable          the source cannot be reached or is down
    │   └── SourceTimeout        the source did not answer in time
    ├── WriteRefused             a write chaosql will not do (and why, and what to do instead)
    ├── WriteFailed              a write failed; says exactly what state is left
    │   └── WriteCancelled       ... because it was cancelled (also a QueryCancelled)
    └── QueryCancelled           the user cancelled the running statement (or it timed out)

The Postgres-wire server maps each class to a SQLSTATE through ``sqlstate``.
"""

from __future__ import annotations


class ChaosqlError(Exception):
    """Base class: ``str(err)`` is one readable line for the user."""

    sqlstate = "XX000"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}; {self.hint}" if self.hint else self.message


class UsageError(ChaosqlError):
    sqlstate = "22023"


class SqlError(ChaosqlError):
    """A statement chaosql or DuckDB rejected; ``line``/``col`` point into the SQL when known."""

    sqlstate = "42601"

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        line: int | None = None,
        col: int | None = None,
        sqlstate: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.line = line
        self.col = col
        if sqlstate:
            self.sqlstate = sqlstate


class UnsupportedError(SqlError):
    sqlstate = "0A000"


class SourceError(ChaosqlError):
    """A source failed; ``source`` is its configured name (e.g. the cluster)."""

    sqlstate = "58000"

    def __init__(self, message: str, *, source: str | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.source = source


class Forbidden(SourceError):
    sqlstate = "42501"


class Unavailable(SourceError):
    sqlstate = "08006"


class SourceTimeout(SourceError):
    sqlstate = "57014"


class WriteRefused(ChaosqlError):
    sqlstate = "42501"


class WriteFailed(ChaosqlError):
    """A write stopped part-way and was rolled back as far as possible. ``message`` summarises the
    state left (counts and the first few objects); ``details`` lists every object, one line each
    (``-v``, the server's DETAIL)."""

    sqlstate = "XX000"

    def __init__(self, message: str, *, hint: str | None = None, details: list[str] | None = None) -> None:
        super().__init__(message, hint=hint)
        self.details = list(details or [])


class QueryCancelled(ChaosqlError):
    sqlstate = "57014"


class WriteCancelled(WriteFailed, QueryCancelled):
    """A write cancelled part-way (Ctrl-C, SIGTERM, a client's cancel request, the statement
    timeout): what it had done was rolled back, and the message says what state is left."""

    sqlstate = "57014"


def sqlstate(err: BaseException) -> str:
    """The SQLSTATE a Postgres client should see for ``err``."""
    return getattr(err, "sqlstate", "XX000")
