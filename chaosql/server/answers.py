"""The wire's side of kept answers (``engine.answers``): a reused answer's rows as sent before.

The engine gives a statement asked again with the same inputs the very Arrow answer it computed
before (``Result.answer``). Encoding its DataRows again would cost more than everything else a
repeated small query costs, and for a 10,000-row answer most of the statement's time, so the rows
as encoded for one request are kept on that answer — per result formats, columns as described
and rows asked for — and sent again as they are. They are counted in the answer cache's bytes and
go with the answer (when an input changes, or the LRU drops it).

Everything here runs in the connection's worker thread, in the call that ran the statement.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from chaosql.engine.answers import ANSWERS

if TYPE_CHECKING:
    from chaosql.server.streaming import Portal


def _key(portal: Portal, columns: list[tuple[str, str]] | None) -> tuple:
    return ("pgwire", tuple(portal.formats), portal.ahead_rows, tuple(columns or ()))


def send_as_before(portal: Portal, result: Any) -> bool:
    """Give ``portal`` the rows of its reused answer as encoded before, if they were; False when
    they must be encoded."""
    answer = getattr(result, "answer", None)
    if answer is None or not portal.ahead_rows:
        return False
    from chaosql.server.statements import result_columns

    columns = result_columns(result.columns, result.types, portal.prepared.output_types)
    kept = answer.encoded.get(_key(portal, columns))
    if kept is None:
        return False
    portal.result = result
    portal.columns, portal.ahead = columns, dataclasses.replace(kept)
    portal.batches = iter(())
    return True


def keep_as_sent(portal: Portal, result: Any) -> None:
    """Keep the rows just encoded for ``portal`` with its reused answer, when they are all of it."""
    answer, ahead = getattr(result, "answer", None), portal.ahead
    if answer is None or ahead is None or ahead.error is not None or portal.columns is None:
        return
    if ahead.count != answer.table.num_rows or portal.pending is not None:
        return
    ANSWERS.add_encoding(answer, _key(portal, portal.columns), dataclasses.replace(ahead), len(ahead.chunk))
