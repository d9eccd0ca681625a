"""Fast DataRow assembly: Arrow columns -> PostgreSQL DataRow messages with numpy, no per-value Python.

Each column is first turned into an Arrow binary array holding exactly the bytes of each field
(text via Arrow casts, binary via big-endian numpy views); then the rows are laid out in one
buffer: ``'D' int32 length, int16 ncols, (int32 field length, bytes)*``. Types without a vector
path (maps, lists, structs, intervals ...) go through ``types.encode_column`` per value.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chaosql.server import types

_EPOCH_DAYS = 10_957  # 2000-01-01 in days since 1970-01-01
_EPOCH_US = 946_684_800_000_000
_BINARY_WIDTH = {
    "int8": ">i8",
    "int4": ">i4",
    "int2": ">i2",
    "float8": ">f8",
    "float4": ">f4",
    "oid": ">u4",
    "xid": ">u4",
}


def _buffer(array: np.ndarray) -> Any:
    """An Arrow buffer over the array's memory, no copy (through the memoryview pyarrow's stubs accept)."""
    import pyarrow as pa

    return pa.py_buffer(array.data)


def _from_fixed(values: np.ndarray, valid: np.ndarray | None) -> Any:
    import pyarrow as pa

    raw = np.ascontiguousarray(values).view(np.uint8)
    width = values.dtype.itemsize
    n = len(values)
    if valid is None:
        offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
        return pa.Array.from_buffers(pa.binary(), n, [None, _buffer(offsets), _buffer(raw)])
    lengths = np.where(valid, width, 0).astype(np.int32)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    data = raw.reshape(n, width)[valid].reshape(-1)
    mask = pa.array(~valid).to_numpy(zero_copy_only=False)
    return pa.Array.from_buffers(
        pa.binary(),
        n,
        [pa.array(~mask).buffers()[1], _buffer(offsets), _buffer(data)],
        null_count=int((~valid).sum()),
    )


def field_bytes(array: Any, pgname: str, binary: bool) -> Any:
    """An Arrow binary/string array whose values are the wire bytes of each field (None: no vector path)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    t = array.type
    valid = None if array.null_count == 0 else np.asarray(array.is_valid())
    if binary:
        if pgname in _BINARY_WIDTH and (pa.types.is_integer(t) or pa.types.is_floating(t)):
            values = array.to_numpy(zero_copy_only=False)
            if valid is not None:
                values = np.where(valid, values, 0)
            return _from_fixed(values.astype(_BINARY_WIDTH[pgname]), valid)
        if pgname in ("timestamptz", "timestamp") and pa.types.is_timestamp(t):
            us = pc.cast(array, pa.timestamp("us", tz=t.tz)).cast(pa.int64()).fill_null(0).to_numpy()
            return _from_fixed((us - _EPOCH_US).astype(">i8"), valid)
        if pgname == "date" and pa.types.is_date32(t):
            days = array.cast(pa.int32()).fill_null(0).to_numpy()
            return _from_fixed((days - _EPOCH_DAYS).astype(">i4"), valid)
        if pgname == "bool" and pa.types.is_boolean(t):
            return _from_fixed(array.fill_null(False).to_numpy(zero_copy_only=False).astype(np.uint8), valid)
        if pgname in types.TEXT_LIKE and (pa.types.is_string(t) or pa.types.is_large_string(t)):
            return array
        return None
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return array if pgname in types.TEXT_LIKE else None
    if pa.types.is_integer(t) or pa.types.is_decimal(t):
        return pc.cast(array, pa.string())
    if pa.types.is_boolean(t):
        return pc.if_else(array, "t", "f")
    if pa.types.is_floating(t):
        finite = pc.is_finite(array)
        if pc.all(pc.or_kleene(finite, pc.is_null(array))).as_py() is False:
            return None  # NaN/Infinity spelled as PostgreSQL does: per value
        # PostgreSQL writes at least two exponent digits (1.5e-07), as C's printf does
        return pc.replace_substring_regex(pc.cast(array, pa.string()), r"e([+-])(\d)$", r"e\10\2")
    if pa.types.is_timestamp(t) and t.tz is not None:
        return _zoned_text(array)
    if pa.types.is_date32(t):
        return pc.cast(array, pa.string())
    return None


def _zoned_text(array: Any) -> Any:
    """timestamptz as PostgreSQL prints it in the session's time zone (DuckDB hands Arrow the
    session's zone): ``2026-11-20 13:00:00+01``, ``17:30:00+05:30``, fractions without trailing 0s."""
    import pyarrow as pa
    import pyarrow.compute as pc

    zone = array.type.tz
    us = pc.cast(array, pa.timestamp("us", tz=zone))
    if zone.upper() in ("UTC", "ETC/UTC", "GMT", "Z", "+00:00"):
        local, offsets = pc.cast(us, pa.timestamp("us")), None
    else:
        local = pc.local_timestamp(us)
        utc = pc.cast(us, pa.int64()).fill_null(0).to_numpy()
        offsets = (pc.cast(local, pa.int64()).fill_null(0).to_numpy() - utc) // 1_000_000
    text = pc.replace_substring_regex(pc.strftime(local, format="%Y-%m-%d %H:%M:%S", locale="C"), r"\.?0+$", "")
    if offsets is None:
        return pc.binary_join_element_wise(text, "+00", "")
    unique, index = np.unique(offsets, return_inverse=True)
    suffix = pa.array([_offset_text(int(o)) for o in unique]).take(index)
    return pc.binary_join_element_wise(text, suffix, "")


def _offset_text(seconds: int) -> str:
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours:02d}" + (f":{minutes:02d}" if minutes or secs else "") + (f":{secs:02d}" if secs else "")


def text_fields(array: Any, pgname: str) -> Any:
    """An Arrow string array of each value's PostgreSQL text output (NULLs stay NULL)."""
    import pyarrow as pa

    fields = field_bytes(array, pgname, False)
    if fields is None:
        return pa.array([None if v is None else types.text_value(v, pgname) for v in array.to_pylist()], pa.string())
    return fields if pa.types.is_string(fields.type) else fields.cast(pa.string())


def data_rows(batch: Any, pgnames: list[str], formats: list[int]) -> bytes:
    """A record batch -> concatenated DataRow messages."""
    import pyarrow as pa

    n, ncols = batch.num_rows, batch.num_columns
    if n == 0:
        return b""
    columns = []
    for i in range(ncols):
        col = batch.column(i)
        fields = field_bytes(col, pgnames[i], formats[i] == 1)
        if fields is None or pa.types.is_large_string(fields.type) or pa.types.is_large_binary(fields.type):
            encoded = [
                None if f == types.NULL else f[4:] for f in types.encode_column(col, pgnames[i], formats[i] == 1)
            ]
            fields = pa.array(encoded, pa.binary())
        columns.append(fields)
    return _assemble(columns, n)


def _assemble(columns: list[Any], n: int) -> bytes:
    lengths, datas, offsets_list = [], [], []
    for arr in columns:
        bufs = arr.buffers()
        offsets = np.frombuffer(bufs[1], dtype=np.int32, count=arr.offset + n + 1)[arr.offset :]
        data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
        length = np.diff(offsets).astype(np.int64)
        if arr.null_count:
            valid = np.asarray(arr.is_valid())
            length = np.where(valid, length, -1)
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
    _put_be(out, starts + 5, np.full(n, len(columns), dtype=">i2"))
    pos = starts + 7
    for length, data, offsets in zip(lengths, datas, offsets_list):
        _put_be(out, pos, length.astype(">i4"))
        copy = np.maximum(length, 0)
        nbytes = int(copy.sum())
        if nbytes:
            dest = np.repeat(pos + 4 - offsets[:-1], copy) + _byte_index(offsets, copy)
            src = _byte_index(offsets, copy)
            out[dest] = data[src]
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
