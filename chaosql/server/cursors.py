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
    r"^\s*declare\s+" + _NAME + r"\s+(?:binary\s+)?(?:insensitive\s+|asensitive\s+)?((?:no\s+)?scroll\s+)?"
    r"cursor\s+(?:(?:with|without)\s+hold\s+)?for\s+(.*?)\s*;?\s*$",
    re.I | re.S,
)
_HOW = (
    r"next|prior|first|last|(?:absolute|relative)\s+[+-]?\d+|(?:forward|backward)(?:\s+(?:all|[+-]?\d+))?|all|[+-]?\d+"
)
_FETCH = re.compile(
    r"^\s*(fetch|move)\s+(?:(" + _HOW + r")\s+)?(?:from\s+|in\s+)?" + _NAME + r"\s*;?\s*$",
    re.I | re.S,
)
_CLOSE = re.compile(r"^\s*close\s+(all|" + _NAME[1:-1] + r")\s*;?\s*$", re.I | re.S)


@dataclass(frozen=True)
class CursorOp:
    kind: str  # "declare", "fetch", "move", "close"
    name: str  # "" for CLOSE ALL
    query: str = ""  # DECLARE's query
    count: int | None = None  # FETCH/MOVE: rows (None = all), or the position for "absolute"
    direction: str = "forward"  # "forward", "backward", "absolute", "relative"
    scroll: bool = False  # DECLARE ... SCROLL CURSOR: may move backwards


def _name(token: str) -> str:
    return token[1:-1].replace('""', '"') if token.startswith('"') else token.lower()


def _direction(how: str) -> tuple[str, int | None]:
    words = how.split()
    first = words[0]
    if first in ("next", "forward") and len(words) == 1:
        return "forward", 1
    if first == "prior" or (first == "backward" and len(words) == 1):
        return "backward", 1
    if first == "first":
        return "absolute", 1
    if first == "last":
        return "absolute", -1
    if first == "all":
        return "forward", None
    if first in ("absolute", "relative"):
        return first, int(words[1])
    if first in ("forward", "backward"):
        count = None if words[1] == "all" else int(words[1])
        if count is not None and count < 0:
            return ("backward" if first == "forward" else "forward"), -count
        return first, count
    n = int(first)
    return ("forward", n) if n >= 0 else ("backward", -n)


def parse(sql: str) -> CursorOp | None:
    """The cursor statement in ``sql``, or None.

    >>> parse('DECLARE "c1" CURSOR WITHOUT HOLD FOR SELECT 1')
    CursorOp(kind='declare', name='c1', query='SELECT 1', count=None, direction='forward', scroll=False)
    >>> parse('FETCH FORWARD 100 FROM "c1"').count
    100
    >>> parse('MOVE ABSOLUTE 3 FROM c').direction, parse("fetch prior from c").direction
    ('absolute', 'backward')
    >>> parse("close all").name
    ''
    """
    m = _DECLARE.match(sql)
    if m:
        scroll = bool(m.group(2)) and not m.group(2).lower().startswith("no")
        return CursorOp("declare", _name(m.group(1)), m.group(3), scroll=scroll)
    m = _FETCH.match(sql)
    if m:
        direction, count = _direction(re.sub(r"\s+", " ", (m.group(2) or "next").lower()))
        return CursorOp(m.group(1).lower(), _name(m.group(3)), count=count, direction=direction)
    m = _CLOSE.match(sql)
    if m:
        return CursorOp("close", "" if m.group(1).lower() == "all" else _name(m.group(1)))
    return None
