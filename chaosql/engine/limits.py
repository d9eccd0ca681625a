"""Bounds on a statement's text, checked before it is parsed: its size and its nesting.

sqlglot parses by recursive descent, about 25 Python frames per level of parentheses, CASE or
subquery, and holds some 400 bytes of objects per byte of SQL while it works (bench/limits.py). So:

- a statement longer than the session's ``chaosql.max_statement_bytes`` is refused (SQLSTATE
  54000, PostgreSQL's program_limit_exceeded) before any work is done on it;
- nesting deeper than ``MAX_NESTING`` is refused (54001, statement_too_complex): far more than
  people or BI tools write, far less than Python's stack allows. Long flat chains (thousands of
  ``OR`` terms) are not nesting and are handled;
- while statements are parsed and analysed, Python's recursion limit is raised to
  ``RECURSION_LIMIT`` (``deep_enough``), enough for ``MAX_NESTING`` levels; a ``RecursionError``
  that still happens (e.g. ``NOT NOT NOT ...`` thousands deep) is reported as 54001 (``too_complex``);
- parsing and analysing a long statement takes seconds of pure Python, which DuckDB's interrupt
  cannot stop: for statements from ``STOPPABLE_FROM`` bytes on, a trace function checks at every
  call into sqlglot or chaosql's analysis whether the statement was cancelled, so its time limit
  holds while it is parsed too (``bounded``). It makes that work 2.5 to 3 times slower, so short
  statements, which parse in milliseconds, run without it.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

from chaosql.errors import QueryCancelled, SqlError

if TYPE_CHECKING:
    from chaosql.sources.base import CallLog

T = TypeVar("T")

#: Deepest nesting of parentheses and CASE chaosql parses.
MAX_NESTING = 256
#: Python's recursion limit while a statement is parsed (``MAX_NESTING`` levels need ~7,000 frames).
RECURSION_LIMIT = 12_000
#: Statements at least this long (characters) can be stopped while they are parsed and analysed.
STOPPABLE_FROM = 16 * 1024

_NESTING_TOKENS = re.compile(
    r"""'(?:[^']|'')*'              # a string
      | "(?:[^"]|"")*"              # a quoted identifier
      | --[^\n]*                    # a line comment
      | /\*.*?\*/                   # a block comment
      | \$(\w*)\$.*?\$\1\$          # a dollar-quoted body
      | (?P<open>[([{]|\bcase\b)
      | (?P<close>[)\]}]|\bend\b)""",
    re.IGNORECASE | re.DOTALL | re.VERBOSE,
)


def nesting_depth(sql: str) -> int:
    """How deep parentheses, brackets and CASE ... END nest in ``sql`` (strings and comments skipped).

    >>> nesting_depth("SELECT f((1)), CASE WHEN x THEN (SELECT [1]) END -- ((((")
    3
    """
    depth = deepest = 0
    for match in _NESTING_TOKENS.finditer(sql):
        if match.group("open"):
            depth += 1
            deepest = max(deepest, depth)
        elif match.group("close"):
            depth = max(depth - 1, 0)
    return deepest


def check_statement(sql: str, max_bytes: int) -> None:
    """Refuse a statement too large (54000) or nested too deep (54001) to parse safely."""
    size = len(sql.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise too_large(size, max_bytes)
    depth = nesting_depth(sql)
    if depth > MAX_NESTING:
        raise SqlError(
            f"statement too complex: parentheses, brackets or CASE nested {depth} levels deep, more than {MAX_NESTING}",
            hint="flatten the expression (e.g. IN (...) instead of nested ORs, a CTE instead of nested subqueries)",
            sqlstate="54001",
        )


def too_large(size: int, max_bytes: int) -> SqlError:
    return SqlError(
        f"statement too large: {size} bytes, more than chaosql.max_statement_bytes = {max_bytes}",
        hint="put long value lists in a table or a file, or raise chaosql.max_statement_bytes",
        sqlstate="54000",
    )


def nested_too_deep() -> SqlError:
    """A result whose lists or structs nest deeper than Arrow carries (62 levels)."""
    return SqlError(
        "statement too complex: its result nests lists or structs more than 62 levels deep",
        hint="Arrow, which carries every result, allows no more; return the deep value as JSON text",
        sqlstate="54001",
    )


def too_complex(err: RecursionError) -> SqlError:
    """The error for a statement whose parse or analysis ran out of Python stack."""
    return SqlError(
        "statement too complex: nested too deeply for chaosql to analyse",
        hint="flatten the expression (fewer nested levels of operators, calls or subqueries)",
        sqlstate="54001",
    )


_lock = threading.Lock()
_active = 0
_saved_limit = 0


@contextmanager
def deep_enough() -> Iterator[None]:
    """Raise Python's recursion limit to ``RECURSION_LIMIT`` while the block runs (in any thread;
    the limit is the process's, restored when the last such block ends). Python 3.11+ keeps
    Python-to-Python calls off the C stack, so the raised limit cannot overflow it."""
    global _active, _saved_limit
    with _lock:
        if _active == 0:
            _saved_limit = sys.getrecursionlimit()
            if _saved_limit < RECURSION_LIMIT:
                sys.setrecursionlimit(RECURSION_LIMIT)
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0 and sys.getrecursionlimit() == RECURSION_LIMIT and _saved_limit < RECURSION_LIMIT:
                try:
                    sys.setrecursionlimit(_saved_limit)
                except RecursionError:  # this thread is deeper than the old limit: keep the raised one
                    pass


def bounded(fn: Callable[[], T], sql: str, *, log: CallLog, length: int | None = None) -> T:
    """Run ``fn`` (the parse, analysis and run of ``sql``) with the recursion it may need, a
    RecursionError reported as 54001, and, for a long ``sql`` (or ``length``), stoppable by a
    cancel of the statement whose ``log`` it is."""
    try:
        with deep_enough():
            if (len(sql) if length is None else length) < STOPPABLE_FROM:
                return fn()
            return stoppable(fn, log)
    except RecursionError as err:
        raise too_complex(err) from None


class _Stop(BaseException):
    """Raised by the trace function into sqlglot's or the analysis' code; never escapes ``stoppable``."""


def _stoppable_dirs() -> tuple[str, ...]:
    import sqlglot

    engine = os.path.dirname(os.path.abspath(__file__))
    return (
        os.path.dirname(os.path.abspath(sqlglot.__file__)) + os.sep,
        *(os.path.join(engine, name) for name in ("analyze.py", "pushdown.py", "dialect.py")),
    )


def stoppable(fn: Callable[[], T], log: CallLog) -> T:
    """``fn()``, stopped with QueryCancelled (saying the log's reason) at the first call into
    sqlglot or chaosql's statement analysis after the statement of ``log`` is cancelled. Only pure functions of parse trees are stopped
    there (never code that holds a lock), and only in this thread. Under a debugger or coverage
    (a trace function is already set) ``fn`` runs unstopped."""
    if sys.gettrace() is not None:
        return fn()
    where, cancelled = _stoppable_dirs(), log.cancelled

    def trace(frame, event, arg):
        if cancelled.is_set() and frame.f_code.co_filename.startswith(where):
            raise _Stop  # the interpreter removes the trace function, so this happens once
        return None

    sys.settrace(trace)
    try:
        return fn()
    except _Stop:
        raise QueryCancelled(log.reason) from None
    finally:
        sys.settrace(None)
