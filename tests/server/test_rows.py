"""The vectorised DataRow encoder says exactly what PostgreSQL clients read back, NULLs included."""

from __future__ import annotations

import datetime as dt

import pytest


@pytest.mark.parametrize("binary", [False, True])
def test_vector_rows_decode_like_per_value_rows(binary):
    duckdb = pytest.importorskip("duckdb")
    from chaosql.server.rows import data_rows
    from chaosql.server.types import encode_rows, pg_type

    con = duckdb.connect()
    rel = con.sql(
        "SELECT CASE WHEN x % 3 = 0 THEN NULL ELSE x END AS id, CASE WHEN x % 4 = 0 THEN NULL ELSE 'é' || x::VARCHAR END AS s, "
        "CASE WHEN x % 5 = 0 THEN NULL ELSE x / 7.0 END AS v, x % 2 = 0 AS b, CASE WHEN x % 6 = 0 THEN NULL ELSE "
        "TIMESTAMPTZ '2026-01-01 00:00:00.123+00' + to_seconds(x) END AS at, x::INTEGER AS i, DATE '2024-01-01' + x::INTEGER AS d, "
        "'' AS e, MAP {'a': x::VARCHAR} AS m FROM range(2000) t(x)"
    )
    names = [pg_type(str(t)) for t in rel.types]
    batches = list(rel.to_arrow_reader(700))
    for batch in batches + [batches[0].slice(3, 500), batches[1].slice(650)]:  # Execute with max_rows slices
        fast = data_rows(batch, names, [int(binary)] * len(names))
        slow = encode_rows(batch, names, [int(binary)] * len(names))
        if binary:
            assert fast == slow
        else:
            assert _decode(fast, names) == _decode(slow, names)


def _decode(data: bytes, names: list[str]) -> list[tuple]:
    """Parse text DataRows back to values the way a client would."""
    import struct

    rows, pos = [], 0
    while pos < len(data):
        assert data[pos : pos + 1] == b"D"
        (length,) = struct.unpack_from("!i", data, pos + 1)
        (ncols,) = struct.unpack_from("!h", data, pos + 5)
        p, row = pos + 7, []
        for i in range(ncols):
            (n,) = struct.unpack_from("!i", data, p)
            p += 4
            text = None if n < 0 else data[p : p + n].decode()
            p += max(n, 0)
            if text is not None and names[i] in ("float8", "int8", "int4"):
                text = float(text)
            elif text is not None and names[i] == "timestamptz":
                text = dt.datetime.fromisoformat(text.replace("+00", "+00:00"))
            row.append(text)
        assert p == pos + 1 + length
        rows.append(tuple(row))
        pos = p
    return rows
