"""Fast DataRow assembly: Arrow columns -> PostgreSQL DataRow messages with numpy, no per-value Python.

Each column of a batch is first *encoded*: a byte matrix with one row per value (wide enough for
the longest), which bytes of it are the field, and each field's length (-1 for NULL). Binary
fields are big-endian numpy views; text comes from Arrow's casts (a float's shortest round-trip
text, as PostgreSQL writes it), each value's bytes taken as a window of Arrow's data buffer, and
a timestamp's fraction and zone offset fitted to PostgreSQL's form in the matrix.

The rows are then laid out as one matrix, ``'D' int32 length, int16 ncols, (int32 length,
bytes)*`` per row, and the used bytes taken out in one step. A batch with a value much longer
than the rest (a big JSON document) would make that matrix wasteful; it is laid out field by
field instead. Types without a vector path (maps, lists, structs, intervals ...) go through
``types.encode_column`` per value.

Rows whose fields are all text (what psql, psycopg's default and most BI tools read) skip the
matrix: each field stays an Arrow string array (Arrow's casts make most of them directly), and
Arrow joins header, lengths and fields row by row.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

import numpy as np

from chaosql.server import far_dates, types

_EPOCH_DAYS = 10_957  # 2000-01-01 in days since 1970-01-01
_EPOCH_US = 946_684_800_000_000
_INT64_MAX = 2**63 - 1  # DuckDB's infinite timestamp; PostgreSQL's too (binary), -infinity is its -(2**63)
#: 2037-01-01: Arrow's time zones end with the transitions the tz database lists (to 2037); after
#: it a zone's rule gives the offset (Python's zoneinfo reads it, as PostgreSQL does)
_RULES_ONLY = 2_114_380_800_000_000
_INT32_MAX = 2**31 - 1  # DuckDB's infinite date, PostgreSQL's too (binary)
#: 1000-01-01 and 10000-01-01 in seconds since 1970: Arrow prints the years between as PostgreSQL does
_YEAR_1000_S, _YEAR_10000_S = -30_610_224_000, 253_402_300_800
_UTC_NAMES = ("UTC", "ETC/UTC", "GMT", "Z", "+00:00")
_BINARY_WIDTH = {
    "int8": ">i8",
    "int4": ">i4",
    "int2": ">i2",
    "float8": ">f8",
    "float4": ">f4",
    "oid": ">u4",
    "xid": ">u4",
}
#: Above this many padding bytes per used byte (and 1 MB), a batch is laid out field by field.
_MAX_PADDING = 4


@dataclass
class Encoded:
    """One column's fields for a batch: ``data[i]`` holds field i in the bytes ``used[i]`` marks
    (all of the row when ``used`` is None); ``lengths[i]`` is its length, -1 for NULL. A column
    whose values differ too much in length keeps them as an Arrow binary array (``wide``) and an
    empty matrix: the batch is then laid out field by field."""

    data: np.ndarray  # (n, width) uint8
    used: np.ndarray | None  # (n, width) bool, or None: every byte of a non-NULL row
    lengths: np.ndarray  # (n,) int64
    wide: Any = None


def _valid(array: Any) -> np.ndarray | None:
    return None if array.null_count == 0 else np.asarray(array.is_valid())


def _fixed(matrix: np.ndarray, valid: np.ndarray | None) -> Encoded:
    n, width = matrix.shape
    lengths = np.full(n, width, dtype=np.int64)
    if valid is not None:
        lengths[~valid] = -1
    return Encoded(matrix, None, lengths)


def _big_endian(values: np.ndarray, dtype: str, valid: np.ndarray | None) -> Encoded:
    be = np.ascontiguousarray(values.astype(dtype))
    return _fixed(be.view(np.uint8).reshape(len(be), be.dtype.itemsize), valid)


def _from_strings(array: Any) -> Encoded:
    """An Arrow string/binary array's values as an Encoded (each value's bytes, left-aligned)."""
    import pyarrow as pa

    if pa.types.is_large_string(array.type) or pa.types.is_large_binary(array.type):
        array = array.cast(pa.binary())
    n = len(array)
    buffers = array.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int32, count=array.offset + n + 1)[array.offset :].astype(np.int64)
    data = np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None else np.zeros(1, np.uint8)
    lengths = np.diff(offsets)
    width = int(lengths.max()) if n else 0
    valid = _valid(array)
    if width == 0 or len(data) == 0:
        return Encoded(np.zeros((n, 0), dtype=np.uint8), None, np.where(valid, 0, -1) if valid is not None else lengths)
    first, last = int(offsets[0]), int(offsets[-1])
    if n * width > _MAX_PADDING * (last - first) + (1 << 20):  # one big document among small ones
        return Encoded(
            np.zeros((n, 0), dtype=np.uint8),
            None,
            np.where(valid, lengths, -1) if valid is not None else lengths,
            array,
        )
    if last - first == n * width:  # every value as long as the longest: the bytes are the matrix
        matrix = data[first:last].reshape(n, width)
        return Encoded(matrix, None, lengths if valid is None else np.where(valid, lengths, -1))
    # each value's row: a window of the data starting at its offset (the data padded for the last ones)
    padded = np.concatenate([data[first:last], np.zeros(width, dtype=np.uint8)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, width)
    matrix = windows[offsets[:-1] - first]
    used = np.arange(width) < lengths[:, None]
    if valid is not None:
        lengths = np.where(valid, lengths, -1)
        used &= valid[:, None]
    return Encoded(matrix, used, lengths)


def _timestamp_text(array: Any) -> Encoded | None:
    """timestamp(tz) as PostgreSQL prints it in the session's zone (DuckDB hands Arrow the
    session's zone): ``2026-11-20 13:00:00+01``, ``17:30:00.25+05:30``, fractions without
    trailing zeros; a naive timestamp has no offset. None for years outside 1000-9999 (per value).

    Arrow prints the local time as ``YYYY-MM-DD HH:MM:SS.ffffff`` (26 bytes); the fraction's
    trailing zeros are left out of the field and the zone's offset is added after it.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    zone = array.type.tz
    us_array = pc.cast(array, pa.timestamp("us", tz=zone))
    utc = pc.cast(us_array, pa.int64()).fill_null(0).to_numpy()
    endless = _endless(utc, _INT64_MAX)
    if endless is not None:  # 'infinity' and '-infinity' are words, the rest is printed as usual
        valid = _valid(array)
        finite = pa.array(np.where(endless != 0, 0, utc), pa.int64(), mask=None if valid is None else ~valid)
        encoded = _timestamp_text(finite.cast(us_array.type))
        return None if encoded is None else _with_words(encoded, endless)
    if zone is None or zone.upper() in _UTC_NAMES:
        local, offsets = utc, None
    else:
        local = pc.cast(pc.local_timestamp(us_array), pa.int64()).fill_null(0).to_numpy()
        offsets = (local - utc) // 1_000_000
        late = utc >= _RULES_ONLY
        if late.any():  # past the zone's listed transitions: its rule (DST in 2038 too), as PostgreSQL
            offsets[late] = [_zone_offset(int(us), zone) for us in utc[late]]
            local = utc + offsets * 1_000_000
    n = len(local)
    printed = _from_strings(pc.cast(pa.array(local, type=pa.timestamp("us")), pa.string()))
    if printed.used is not None or printed.data.shape[1] != 26:
        return None  # a year before 1000 or after 9999
    suffixes: list[str] = [] if zone is None else ["+00"]
    which = np.zeros(n, dtype=np.int64)
    if offsets is not None:
        unique, which = np.unique(offsets, return_inverse=True)
        suffixes = [_offset_text(int(o)) for o in unique]
    suffix_width = max((len(x) for x in suffixes), default=0)
    micros = local % 1_000_000
    valid = _valid(array)
    if len(suffixes) <= 1 and not micros.any():  # whole seconds in one zone (Kubernetes' timestamps)
        matrix = np.empty((n, 19 + suffix_width), dtype=np.uint8)
        matrix[:, :19] = printed.data[:, :19]
        if suffixes:
            matrix[:, 19:] = np.frombuffer(suffixes[0].encode(), dtype=np.uint8)
        return _fixed(matrix, valid)
    matrix = np.empty((n, 26 + suffix_width), dtype=np.uint8)
    matrix[:, :26] = printed.data
    shown = micros > 0
    fraction = np.where(shown, 7, 0)  # bytes of ".ffffff" in the field: none for whole seconds
    for k in range(1, 6):
        fraction -= shown & (micros % 10**k == 0)
    used = np.zeros(matrix.shape, dtype=bool)
    used[:, :19] = True
    used[:, 19:26] = np.arange(7) < fraction[:, None]
    lengths = 19 + fraction
    if suffixes:
        table = np.zeros((len(suffixes), suffix_width), dtype=np.uint8)
        for i, text in enumerate(suffixes):
            table[i, : len(text)] = np.frombuffer(text.encode(), dtype=np.uint8)
        sizes = np.array([len(x) for x in suffixes])[which]
        matrix[:, 26:] = table[which]
        used[:, 26:] = np.arange(suffix_width) < sizes[:, None]
        lengths = lengths + sizes
    if valid is not None:
        lengths[~valid] = -1
        used &= valid[:, None]
    return Encoded(matrix, used, lengths)


def _whole_seconds_text(array: Any) -> Any:
    """The text of a timestamp(tz) column whose values are whole seconds at one UTC offset
    (Kubernetes' timestamps), from Arrow's casts: ``2026-11-20 13:00:00`` and the offset
    (``+01``). None for any other column (fractions, several offsets, infinity, years outside
    1000-9999), which ``_timestamp_text`` lays out."""
    import pyarrow as pa
    import pyarrow.compute as pc

    zone = array.type.tz
    valid = _valid(array)
    us_array = pc.cast(array, pa.timestamp("us", tz=zone))
    utc = pc.cast(us_array, pa.int64()).fill_null(0).to_numpy()
    if (utc % 1_000_000).any():
        return None
    if zone is None or zone.upper() in _UTC_NAMES:
        local, suffix = utc, ("" if zone is None else "+00")
    else:
        local = pc.cast(pc.local_timestamp(us_array), pa.int64()).fill_null(0).to_numpy()
        offsets = np.unique(local - utc if valid is None else (local - utc)[valid])
        if len(offsets) != 1 or (utc >= _RULES_ONLY).any():
            return None
        suffix = _offset_text(int(offsets[0]) // 1_000_000)
    seconds = local // 1_000_000
    inside = (seconds >= _YEAR_1000_S) & (seconds < _YEAR_10000_S)
    if not (inside.all() if valid is None else inside[valid].all()):
        return None
    text: Any = pc.cast(pa.array(seconds, pa.timestamp("s"), mask=None if valid is None else ~valid), pa.string())
    return pc.binary_join_element_wise(text, suffix, "") if suffix else text


def _endless(values: np.ndarray, end: int) -> np.ndarray | None:
    """DuckDB's infinite timestamps and dates (``end`` and ``-end``): 1 for infinity, -1 for
    -infinity, 0 for the rest; None when there is none."""
    endless = (values == end).astype(np.int8) - (values == -end)
    return endless if endless.any() else None


def _with_words(encoded: Encoded, endless: np.ndarray) -> Encoded:
    """``encoded`` with ``infinity`` / ``-infinity`` where ``endless`` is 1 / -1 (PostgreSQL's text)."""
    words = {1: b"infinity", -1: b"-infinity"}
    n, width = encoded.data.shape
    wide = max(width, 9)
    data = np.zeros((n, wide), dtype=np.uint8)
    data[:, :width] = encoded.data
    used = np.zeros((n, wide), dtype=bool)
    used[:, :width] = encoded.used if encoded.used is not None else (encoded.lengths >= 0)[:, None]
    lengths = encoded.lengths.copy()
    for sign, word in words.items():
        rows = endless == sign
        data[rows, : len(word)] = np.frombuffer(word, dtype=np.uint8)
        used[rows] = np.arange(wide) < len(word)
        lengths[rows] = len(word)
    return Encoded(data, used, lengths)


def _zone_offset(utc_us: int, zone: str) -> int:
    """``zone``'s UTC offset in seconds at an instant (microseconds since 1970) by Python's tz database."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    instant = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=utc_us)
    offset = instant.astimezone(ZoneInfo(zone)).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def _offset_text(seconds: int) -> str:
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours:02d}" + (f":{minutes:02d}" if minutes or secs else "") + (f":{secs:02d}" if secs else "")


def _float_text(array: Any, pgname: str) -> Encoded:
    return _from_strings(_float_strings(array, pgname))


def _float_strings(array: Any, pgname: str) -> Any:
    """PostgreSQL's float text (``types.float_text``) for a column: Arrow's cast writes the same
    shortest digits, positional or exponential by a rule of its own; the values whose form
    differs from PostgreSQL's (``0.00001`` for ``1e-05``, ``1.23456789012345e+14`` for
    ``123456789012345``), NaN and the infinities are written one by one, and an exponent gets
    PostgreSQL's two digits at least (``1e-7`` -> ``1e-07``)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(array)
    dtype = np.float32 if pa.types.is_float32(array.type) else np.float64
    if pa.types.is_float16(array.type):
        array = array.cast(pa.float32())
    values = np.frombuffer(array.buffers()[1], dtype=dtype, count=array.offset + n)[array.offset :]
    text = pc.cast(array, pa.string())
    data = text.buffers()[2]
    low, high = types.FLOAT_POSITIONAL[pgname if pgname in types.FLOAT_POSITIONAL else "float8"]
    with np.errstate(invalid="ignore"):
        magnitude = np.abs(values)
        ours = (magnitude != 0) & ((magnitude < dtype(10.0**low)) | (magnitude >= dtype(10.0**high)))
        theirs = np.zeros(n, dtype=bool)  # where Arrow wrote an exponent
        if data is not None:
            chars = np.frombuffer(data, dtype=np.uint8)
            exponents = np.flatnonzero(chars == ord("e"))
            if len(exponents):
                offsets = np.frombuffer(text.buffers()[1], dtype=np.int32, count=text.offset + n + 1)[text.offset :]
                theirs[np.searchsorted(offsets, exponents, side="right") - 1] = True
        redo = (ours != theirs) | ~np.isfinite(values)
    valid = _valid(array)
    if valid is not None:
        redo &= valid
    if theirs.any():  # 1e-7 -> 1e-07, as C's printf writes it
        text = pc.replace_substring_regex(text, r"e([+-])(\d)$", r"e\10\2")
    if redo.any():
        rows = np.flatnonzero(redo)
        fixed = pa.array([types.float_text(float(values[i]), pgname) for i in rows], pa.string())
        mask = np.zeros(n, dtype=bool)
        mask[rows] = True
        text = pc.replace_with_mask(text, pa.array(mask), fixed)
    return text


def encode(array: Any, pgname: str, binary: bool) -> Encoded | None:
    """One Arrow column as an Encoded, None when there is no vector path for it."""
    import pyarrow as pa
    import pyarrow.compute as pc

    t = array.type
    valid = _valid(array)
    if binary:
        if pgname in _BINARY_WIDTH and (pa.types.is_integer(t) or pa.types.is_floating(t)):
            values = array.to_numpy(zero_copy_only=False)
            if valid is not None:
                values = np.where(valid, values, 0)
            return _big_endian(values, _BINARY_WIDTH[pgname], valid)
        if pgname in ("timestamptz", "timestamp") and pa.types.is_timestamp(t):
            us = pc.cast(array, pa.timestamp("us", tz=t.tz)).cast(pa.int64()).fill_null(0).to_numpy()
            return _big_endian(_since_2000(us, _EPOCH_US, _INT64_MAX), ">i8", valid)
        if pgname == "date" and pa.types.is_date32(t):
            days = array.cast(pa.int32()).fill_null(0).to_numpy().astype(np.int64)
            return _big_endian(_since_2000(days, _EPOCH_DAYS, _INT32_MAX), ">i4", valid)
        if pgname == "bool" and pa.types.is_boolean(t):
            return _fixed(array.fill_null(False).to_numpy(zero_copy_only=False).astype(np.uint8)[:, None], valid)
        if pgname in types.TEXT_LIKE and (pa.types.is_string(t) or pa.types.is_large_string(t)):
            return _from_strings(array)
        return None
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return _from_strings(array) if pgname in types.TEXT_LIKE else None
    if pa.types.is_integer(t) or pa.types.is_decimal(t):
        return _from_strings(pc.cast(array, pa.string()))
    if pa.types.is_boolean(t):
        flags = array.fill_null(False).to_numpy(zero_copy_only=False)
        return _fixed(np.where(flags, ord("t"), ord("f")).astype(np.uint8)[:, None], valid)
    if pa.types.is_floating(t):
        return _float_text(array, pgname)
    if (pa.types.is_timestamp(t) and pgname in ("timestamptz", "timestamp")) or pa.types.is_date32(t):
        far = far_dates.text_fields(array, pgname)  # years past 9999 or BC: neither Arrow nor Python prints them
        if far is not None:
            return _from_strings(far)
    if pa.types.is_timestamp(t) and pgname in ("timestamptz", "timestamp"):
        return _timestamp_text(array)
    if pa.types.is_date32(t):
        days = array.cast(pa.int32()).fill_null(0).to_numpy()
        endless = _endless(days, _INT32_MAX)
        if endless is None:
            return _from_strings(pc.cast(array, pa.string()))
        finite = pa.array(np.where(endless != 0, 0, days), pa.int32(), mask=None if valid is None else ~valid)
        return _with_words(_from_strings(pc.cast(finite.cast(pa.date32()), pa.string())), endless)
    return None


def _since_2000(values: np.ndarray, epoch: int, end: int) -> np.ndarray:
    """Unix-based values (microseconds or days) from PostgreSQL's epoch, 2000-01-01; DuckDB's
    infinity and -infinity (``end``, ``-end``) as PostgreSQL's (``end``, ``-end - 1``)."""
    shifted = values - epoch
    if (values == end).any() or (values == -end).any():
        shifted = np.where(values == end, end, np.where(values == -end, -end - 1, shifted))
    return shifted


def _per_value(array: Any, pgname: str, binary: bool) -> Encoded:
    """The per-value encoder's fields (types without a vector path) as an Encoded."""
    return _from_strings(_per_value_array(array, pgname, binary))


def _per_value_array(array: Any, pgname: str, binary: bool) -> Any:
    import pyarrow as pa

    fields = [None if f == types.NULL else f[4:] for f in types.encode_column(array, pgname, binary)]
    return pa.array(fields, pa.binary())


def text_fields(array: Any, pgname: str) -> Any:
    """An Arrow string array of each value's PostgreSQL text output (NULLs stay NULL)."""
    import pyarrow as pa

    encoded = encode(array, pgname, False) or _per_value(array, pgname, False)
    return _to_arrow(encoded).cast(pa.string())


def _to_arrow(encoded: Encoded) -> Any:
    """The fields as an Arrow binary array (NULL where the length is -1)."""
    import pyarrow as pa

    if encoded.wide is not None:
        return encoded.wide
    lengths = encoded.lengths
    data = encoded.data[encoded.used] if encoded.used is not None else encoded.data[lengths >= 0].reshape(-1)
    offsets = np.zeros(len(lengths) + 1, dtype=np.int32)
    np.cumsum(np.maximum(lengths, 0), out=offsets[1:])
    valid = lengths >= 0
    bitmap = None if valid.all() else pa.array(valid).buffers()[1]
    return pa.Array.from_buffers(
        pa.binary(),
        len(lengths),
        [bitmap, pa.py_buffer(offsets.data), pa.py_buffer(np.ascontiguousarray(data).data)],
        null_count=int((~valid).sum()),
    )


def _text_array(array: Any, pgname: str) -> Any:
    """The column's text fields as an Arrow string array (NULL for NULL) when Arrow makes them
    directly; None for the types ``encode`` lays out itself."""
    import pyarrow as pa
    import pyarrow.compute as pc

    t = array.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return array if pgname in types.TEXT_LIKE else None
    if pa.types.is_integer(t) or pa.types.is_decimal(t):
        return pc.cast(array, pa.string())
    if pa.types.is_floating(t):
        return _float_strings(array, pgname)
    if pa.types.is_timestamp(t) and pgname in ("timestamptz", "timestamp"):
        return _whole_seconds_text(array)
    return None


def _joined_text_rows(batch: Any, pgnames: list[str]) -> bytes | None:
    """Text-format DataRows: each field's length and bytes, joined row by row by Arrow (None
    past the 2 GB an Arrow binary array holds)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = batch.num_rows
    parts: list[Any] = [None]  # the header, once the rows' lengths are known
    row_len = np.full(n, 6 + 4 * batch.num_columns, dtype=np.int64)
    for i in range(batch.num_columns):
        array = batch.column(i)
        fields = _text_array(array, pgnames[i])
        if fields is None:
            encoded = encode(array, pgnames[i], False)
            fields = _to_arrow(encoded) if encoded is not None else _per_value_array(array, pgnames[i], False)
        fields = fields.cast(pa.binary()) if not pa.types.is_binary(fields.type) else fields
        offsets = np.frombuffer(fields.buffers()[1], dtype=np.int32, count=fields.offset + n + 1)[fields.offset :]
        lengths = np.diff(offsets).astype(np.int64)
        if fields.null_count:
            lengths[~np.asarray(fields.is_valid())] = -1
        row_len += np.maximum(lengths, 0)
        parts.append(_fixed_width(lengths.astype(">i4").view(np.uint8).reshape(n, 4)))
        parts.append(fields.fill_null(b"") if fields.null_count else fields)
    if int(row_len.sum()) + n >= 2**31:
        return None
    header = np.empty((n, 7), dtype=np.uint8)
    header[:, 0] = ord("D")
    header[:, 1:5] = row_len.astype(">i4").view(np.uint8).reshape(n, 4)
    header[:, 5:7] = np.frombuffer(struct.pack("!h", batch.num_columns), dtype=np.uint8)
    parts[0] = _fixed_width(header)
    joined = pc.binary_join_element_wise(*parts, pa.scalar(b"", pa.binary()))
    offsets = np.frombuffer(joined.buffers()[1], dtype=np.int32, count=joined.offset + n + 1)[joined.offset :]
    return joined.buffers()[2][int(offsets[0]) : int(offsets[-1])].to_pybytes()


def _fixed_width(matrix: np.ndarray) -> Any:
    """A byte matrix's rows as an Arrow binary array."""
    import pyarrow as pa

    n, width = matrix.shape
    data = pa.py_buffer(np.ascontiguousarray(matrix).data)
    offsets = pa.py_buffer(np.arange(0, (n + 1) * width, width, dtype=np.int32).data)
    return pa.Array.from_buffers(pa.binary(), n, [None, offsets, data])


def data_rows(batch: Any, pgnames: list[str], formats: list[int]) -> bytes:
    """A record batch -> concatenated DataRow messages."""
    n, ncols = batch.num_rows, batch.num_columns
    if n == 0:
        return b""
    if ncols and not any(formats[:ncols]):
        joined = _joined_text_rows(batch, pgnames)
        if joined is not None:
            return joined
    columns = []
    for i in range(ncols):
        array = batch.column(i)
        encoded = encode(array, pgnames[i], formats[i] == 1)
        columns.append(encoded if encoded is not None else _per_value(array, pgnames[i], formats[i] == 1))
    used_bytes = sum(int(np.maximum(c.lengths, 0).sum()) for c in columns)
    padded = n * sum(c.data.shape[1] for c in columns)
    if any(c.wide is not None for c in columns) or padded > _MAX_PADDING * used_bytes + (1 << 20):
        return _assemble_by_field(columns, n)
    return _assemble(columns, n)


def _assemble(columns: list[Encoded], n: int) -> bytes:
    """All rows as one matrix (header, then each field's length and bytes), used bytes taken out."""
    width = 7 + sum(4 + c.data.shape[1] for c in columns)
    rows = np.empty((n, width), dtype=np.uint8)
    used = np.ones((n, width), dtype=bool)
    row_len = np.full(n, 6 + 4 * len(columns), dtype=np.int64)
    at = 7
    for c in columns:
        w = c.data.shape[1]
        rows[:, at : at + 4] = c.lengths.astype(">i4").view(np.uint8).reshape(n, 4)
        rows[:, at + 4 : at + 4 + w] = c.data
        if c.used is not None:
            used[:, at + 4 : at + 4 + w] = c.used
        elif (c.lengths < 0).any():
            used[:, at + 4 : at + 4 + w] = (c.lengths >= 0)[:, None]
        row_len += np.maximum(c.lengths, 0)
        at += 4 + w
    rows[:, 0] = ord("D")
    rows[:, 1:5] = row_len.astype(">i4").view(np.uint8).reshape(n, 4)
    rows[:, 5:7] = np.full(n, len(columns), dtype=">i2").view(np.uint8).reshape(n, 2)
    if not any(c.used is not None or (c.lengths < 0).any() for c in columns):
        return rows.tobytes()  # every field fills its slot: the matrix is the messages
    return rows[used].tobytes()


def _assemble_by_field(columns: list[Encoded], n: int) -> bytes:
    """The rows laid out field by field (for batches whose fields vary too much in length)."""
    arrays = [_to_arrow(c) for c in columns]
    lengths, datas, offsets_list = [], [], []
    for arr in arrays:
        bufs = arr.buffers()
        offsets = np.frombuffer(bufs[1], dtype=np.int32, count=arr.offset + n + 1)[arr.offset :]
        data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
        length = np.diff(offsets).astype(np.int64)
        if arr.null_count:
            length = np.where(np.asarray(arr.is_valid()), length, -1)
        lengths.append(length)
        datas.append(data)
        offsets_list.append(offsets)
    row_len = np.full(n, 6, dtype=np.int64)  # int32 length + int16 ncols
    for length in lengths:
        row_len += 4 + np.maximum(length, 0)
    starts = np.zeros(n, dtype=np.int64)
    np.cumsum(row_len[:-1] + 1, out=starts[1:])
    total = int(starts[-1] + row_len[-1] + 1)
    out = np.empty(total, dtype=np.uint8)
    out[starts] = ord("D")
    _put_be(out, starts + 1, row_len.astype(">i4"))
    _put_be(out, starts + 5, np.full(n, len(arrays), dtype=">i2"))
    pos = starts + 7
    for length, data, offsets in zip(lengths, datas, offsets_list):
        _put_be(out, pos, length.astype(">i4"))
        copy = np.maximum(length, 0)
        if int(copy.sum()):
            source = _byte_index(offsets, copy)
            out[np.repeat(pos + 4 - offsets[:-1], copy) + source] = data[source]
        pos = pos + 4 + copy
    return out.tobytes()


def _byte_index(offsets: np.ndarray, copy: np.ndarray) -> np.ndarray:
    """Source byte positions of every copied field, in order (skipping NULL fields' bytes, if any)."""
    total = int(copy.sum())
    starts = np.repeat(offsets[:-1].astype(np.int64), copy)
    within = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(copy) - copy, copy)
    return starts + within


def _put_be(out: np.ndarray, positions: np.ndarray, values: np.ndarray) -> None:
    raw = np.ascontiguousarray(values).view(np.uint8).reshape(len(values), values.dtype.itemsize)
    for k in range(values.dtype.itemsize):
        out[positions + k] = raw[:, k]
