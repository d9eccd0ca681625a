"""SQL-level cursors: DECLARE ... CURSOR FOR, FETCH, MOVE, CLOSE.

psycopg2's named cursors, psycopg 3's server-side cursors and SQLAlchemy's ``stream_results``
(pandas ``read_sql(..., chunksize=n)``) read big results this way. DuckDB has no cursors, so the
server keeps each one as an open portal over a streamed result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NAME = r'("(?:[^"]|"")+"|[A-Za-z_][\w$]*)'
_DECLARE = re.compile(
    r"^\s*declare\s+" + _NAME + r"\s+(?:binary\s+)?(?:insensitive\s+|asensitive\s+)?(?:(?:no\s+)?scroll\s+)?"
    r"cursor\s+(?:(?:with|without)\s+hold\s+)?for\s+(.*?)\s*;?\s*$",
    re.I | re.S,
)
_FETCH = re.compile(
    r"^\s*(fetch|move)\s+(?:(next|forward\s+all|forward\s+\d+|forward|all|\d+)\s+)?(?:from\s+|in\s+)?"
    + _NAME
    + r"\s*;?\s*$",
    re.I | re.S,
)
_CLOSE = re.compile(r"^\s*close\s+(all|" + _NAME[1:-1] + r")\s*;?\s*$", re.I | re.S)


@dataclass(frozen=True)
class CursorOp:
    kind: str  # "declare", "fetch", "move", "close"
    name: str  # "" for CLOSE ALL
    query: str = ""  # DECLARE's query
    count: int | None = None  # FETCH/MOVE row count; None = all


def _name(token: str) -> str:
    return token[1:-1].replace('""', '"') if token.startswith('"') else token.lower()


def parse(sql: str) -> CursorOp | None:
    """The cursor statement in ``sql``, or None.

    >>> parse('DECLARE "c1" CURSOR WITHOUT HOLD FOR SELECT 1')
    CursorOp(kind='declare', name='c1', query='SELECT 1', count=None)
    >>> parse('FETCH FORWARD 100 FROM "c1"').count
    100
    >>> parse("close all").name
    ''
    """
    m = _DECLARE.match(sql)
    if m:
        return CursorOp("declare", _name(m.group(1)), m.group(2))
    m = _FETCH.match(sql)
    if m:
        how = re.sub(r"\s+", " ", (m.group(2) or "next").lower())
        count = None if how.endswith("all") else 1 if how in ("next", "forward") else int(how.split()[-1])
        return CursorOp(m.group(1).lower(), _name(m.group(3)), count=count)
    m = _CLOSE.match(sql)
    if m:
        return CursorOp("close", "" if m.group(1).lower() == "all" else _name(m.group(1)))
    return None
