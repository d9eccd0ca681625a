"""The vectorised DataRow encoder says exactly what PostgreSQL clients read back, NULLs included."""

from __future__ import annotations

import datetime as dt

import pytest


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata"])
@pytest.mark.parametrize("binary", [False, True])
def test_vector_rows_decode_like_per_value_rows(binary, zone):
    duckdb = pytest.importorskip("duckdb")
    from chaosql.server.rows import data_rows
    from chaosql.server.types import encode_rows, pg_type

    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{zone}'")  # timestamptz is printed in the session's zone
    rel = con.sql(
        "SELECT CASE WHEN x % 3 = 0 THEN NULL ELSE x END AS id, CASE WHEN x % 4 = 0 THEN NULL ELSE 'é' || x::VARCHAR END AS s, "
        "CASE WHEN x % 5 = 0 THEN NULL ELSE x / 7.0 END AS v, x % 2 = 0 AS b, CASE WHEN x % 6 = 0 THEN NULL ELSE "
        "TIMESTAMPTZ '2026-01-01 00:00:00.123+00' + to_seconds(x) END AS at, x::INTEGER AS i, DATE '2024-01-01' + x::INTEGER AS d, "
        "'' AS e, MAP {'a': x::VARCHAR} AS m, TIMESTAMPTZ '2026-01-01 00:00:00+00' + to_seconds(x) AS whole, "
        "(TIMESTAMP '2026-01-01 00:00:00' + to_microseconds(x * 250000)) AS naive, -x * 1000003 AS negative, "
        "CASE WHEN x % 7 = 0 THEN 'nan'::DOUBLE ELSE x * 1.5e-9 END AS tiny, [x, NULL] AS list, "
        "CASE WHEN x % 9 = 0 THEN NULL ELSE repeat('long ', (x % 50)::INTEGER) END AS uneven, "
        "CASE WHEN x % 8 = 0 THEN NULL ELSE TIMESTAMPTZ '2026-01-01 00:00:00+00' + to_seconds(x * 3600) END AS hourly, "
        # one 3 MB document among short values: laid out field by field, not as a 700 x 3 MB matrix
        "CASE WHEN x % 700 = 5 THEN repeat('j', 3000000) ELSE 'short' END AS document FROM range(2000) t(x)"
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


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata", "Europe/Amsterdam", "America/St_Johns"])
def test_whole_second_timestamps_take_arrows_text_and_match_the_general_layout(zone):
    """Timestamps in whole seconds at one offset (Kubernetes' timestamps) get their text from
    Arrow's casts; the bytes are the ones the general layout writes. Anything else (a fraction,
    two offsets, a zone's offsets from 2037 on, infinity, years before 1000) is left to the
    general layout."""
    duckdb = pytest.importorskip("duckdb")
    from chaosql.server.rows import _timestamp_text, _to_arrow, _whole_seconds_text

    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{zone}'")

    def column(sql: str):
        return con.sql(sql).to_arrow_table().column(0).combine_chunks()

    whole = [
        "SELECT CASE WHEN x % 5 = 0 THEN NULL ELSE TIMESTAMPTZ '2026-01-10 00:00:00+00' + to_seconds(x * 61) END FROM range(500) t(x)",
        "SELECT TIMESTAMP '1969-12-31 23:59:00' + to_seconds(x) FROM range(200) t(x)",  # naive: no offset
    ]
    for sql in whole:
        array = column(sql)
        fast = _whole_seconds_text(array)
        assert fast is not None, sql
        assert fast.cast("binary").to_pylist() == _to_arrow(_timestamp_text(array)).to_pylist()
    others = [
        "SELECT TIMESTAMPTZ '2026-01-10 00:00:00.5+00' + to_seconds(x) FROM range(10) t(x)",
        "SELECT CASE WHEN x = 1 THEN 'infinity'::TIMESTAMPTZ ELSE TIMESTAMPTZ '2020-01-01 00:00:00+00' END FROM range(3) t(x)",
        "SELECT TIMESTAMPTZ '0500-06-01 00:00:00+00' + to_seconds(x * 600) FROM range(30) t(x)",
    ]
    if zone != "UTC":  # the zone's rule, not Arrow's listed transitions
        others.append("SELECT TIMESTAMPTZ '2038-06-01 00:00:00+00' + to_seconds(x) FROM range(10) t(x)")
    if zone in ("Europe/Amsterdam", "America/St_Johns"):  # summer and winter: two offsets
        others.append("SELECT TIMESTAMPTZ '2026-01-01 00:00:00+00' + to_seconds(x * 86400 * 30) FROM range(12) t(x)")
    for sql in others:
        assert _whole_seconds_text(column(sql)) is None, sql


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
                text = "NaN" if text != text else text
            elif text is not None and names[i] == "timestamptz":
                text = dt.datetime.fromisoformat(text + (":00" if text[-3] in "+-" else ""))
            row.append(text)
        assert p == pos + 1 + length
        rows.append(tuple(row))
        pos = p
    return rows
