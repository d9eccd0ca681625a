"""One table from DuckDB types to PostgreSQL types, and the text and binary codecs for them.

Results are encoded a column at a time from Arrow arrays: a column becomes a list of
length-prefixed fields, and a row is the join of its fields. Anything without a better
PostgreSQL type (maps, structs, lists, unions) is sent as text holding JSON.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import re
import struct
import uuid
from collections.abc import Callable
from typing import Any

# name -> (oid, typlen); typmod is always -1
PG_TYPES: dict[str, tuple[int, int]] = {
    "bool": (16, 1),
    "bytea": (17, -1),
    "int8": (20, 8),
    "int2": (21, 2),
    "int4": (23, 4),
    "text": (25, -1),
    "oid": (26, 4),
    "json": (114, -1),
    "jsonb": (3802, -1),
    "float4": (700, 4),
    "float8": (701, 8),
    "unknown": (705, -2),
    "varchar": (1043, -1),
    "bpchar": (1042, -1),
    "date": (1082, 4),
    "time": (1083, 8),
    "timestamp": (1114, 8),
    "timestamptz": (1184, 8),
    "interval": (1186, 16),
    "numeric": (1700, -1),
    "uuid": (2950, 16),
    "name": (19, 64),
    "char": (18, 1),
    "xid": (28, 4),
    "int2vector": (22, -1),
    "oidvector": (30, -1),
    "pg_node_tree": (194, -1),
    "_name": (1003, -1),
    "_char": (1002, -1),
    "_aclitem": (1034, -1),
    "regproc": (24, 4),
    "regclass": (2205, 4),
    "regtype": (2206, 4),
    "regnamespace": (4089, 4),
    "_int2": (1005, -1),
    "_int4": (1007, -1),
    "_int8": (1016, -1),
    "_text": (1009, -1),
    "_varchar": (1015, -1),
    "_oid": (1028, -1),
    "_float8": (1022, -1),
    "_bool": (1000, -1),
    "_float4": (1021, -1),
    "_date": (1182, -1),
    "_timestamptz": (1185, -1),
    "_numeric": (1231, -1),
    "_time": (1183, -1),
    "_timestamp": (1115, -1),
    "_interval": (1187, -1),
    "_uuid": (2951, -1),
    "_bytea": (1001, -1),
    "_json": (199, -1),
    "_jsonb": (3807, -1),
}
OID_NAME = {oid: name for name, (oid, _) in PG_TYPES.items()}

_SIMPLE = {
    "BOOLEAN": "bool",
    "TINYINT": "int2",
    "SMALLINT": "int2",
    "INTEGER": "int4",
    "BIGINT": "int8",
    "UTINYINT": "int2",
    "USMALLINT": "int4",
    "UINTEGER": "int8",
    "UBIGINT": "numeric",
    "HUGEINT": "numeric",
    "UHUGEINT": "numeric",
    "FLOAT": "float4",
    "DOUBLE": "float8",
    "VARCHAR": "text",  # DuckDB has one string type; PostgreSQL's own is text (an explicit ::varchar says varchar)
    "JSON": "json",
    "BLOB": "bytea",
    "DATE": "date",
    "TIME": "time",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "TIMESTAMPTZ": "timestamptz",
    "TIMESTAMP_S": "timestamp",
    "TIMESTAMP_MS": "timestamp",
    "TIMESTAMP_NS": "timestamp",
    "INTERVAL": "interval",
    "UUID": "uuid",
    "BIT": "text",
    "NULL": "text",
    '"NULL"': "text",
    "UNKNOWN": "text",
}
#: Types whose values are strings, sent as their UTF-8 bytes in text and binary format alike.
TEXT_LIKE = ("varchar", "text", "json", "name", "char", "pg_node_tree", "bpchar")
#: PostgreSQL's type for a type DuckDB cannot tell apart (``::varchar``, ``::jsonb``): ``pg:varchar``.
OVERRIDE = "pg:"


#: The DuckDB types a PostgreSQL type given by the statement (``OVERRIDE``) may be sent from.
_OVERRIDABLE = {
    "varchar": ("VARCHAR",),
    "bpchar": ("VARCHAR",),  # char(n), blank-padded (server/semantics/)
    "jsonb": ("JSON", "VARCHAR"),
    "name": ("VARCHAR",),
    "char": ("VARCHAR",),
    "pg_node_tree": ("VARCHAR",),
    "oid": ("BIGINT", "INTEGER"),
    "numeric": ("VARCHAR",),  # a numeric quotient, written at PostgreSQL's scale (server/semantics/)
    "xid": ("BIGINT", "INTEGER"),
    "int2vector": ("SMALLINT[]",),
    "oidvector": ("BIGINT[]",),
    "_oid": ("BIGINT[]",),
    "_name": ("VARCHAR[]",),
    "_char": ("VARCHAR[]",),
    "_aclitem": ("VARCHAR[]",),
}


def overridden(duck_type: str, pgname: str | None) -> str:
    """``duck_type``, or the PostgreSQL type ``pgname`` the statement says it is, when DuckDB's
    values can be sent as that type."""
    if pgname and str(duck_type).upper() in _OVERRIDABLE.get(pgname, ()):
        return OVERRIDE + pgname
    return duck_type


#: Element types of the arrays chaosql sends (a list of anything else is jsonb).
_ARRAY_ELEMENTS = {
    "bool",
    "int2",
    "int4",
    "int8",
    "float4",
    "float8",
    "numeric",
    "text",
    "bytea",
    "json",
    "date",
    "time",
    "timestamp",
    "timestamptz",
    "interval",
    "uuid",
}


def pg_type(duck_type: str) -> str:
    """The PostgreSQL type name we send for a DuckDB type (string as DuckDB prints it).

    >>> pg_type("VARCHAR"), pg_type("DECIMAL(38,2)"), pg_type("VARCHAR[]"), pg_type("INTEGER[]")
    ('text', 'numeric', '_text', '_int4')
    >>> pg_type("BIGINT[][]"), pg_type("MAP(VARCHAR, VARCHAR[])"), pg_type("STRUCT(a INTEGER)[]")
    ('jsonb', 'jsonb', 'jsonb')
    """
    t = str(duck_type)
    if t.startswith(OVERRIDE):
        return t[len(OVERRIDE) :]
    t = t.upper()
    if t in _SIMPLE:
        return _SIMPLE[t]
    if t.startswith("DECIMAL") or t.startswith("NUMERIC"):
        return "numeric"
    list_of = re.fullmatch(r"(.+)\[\d*\]", t)
    if list_of:  # a list of scalars is PostgreSQL's array of them; of lists, maps or structs: jsonb
        element = pg_type(list_of.group(1))
        return "_" + element if element in _ARRAY_ELEMENTS else "jsonb"
    if t.startswith("VARCHAR"):
        return "text"
    if t.startswith(("MAP(", "STRUCT(")):
        return "jsonb"  # PostgreSQL has neither: an object, as jsonb
    return "text"  # ENUM, UNION, nested lists: JSON (or the value's own text) as text


#: How SQL spells PostgreSQL's type names (``integer``) -> the name in pg_type (``int4``).
TYPE_ALIASES = {
    "integer": "int4",
    "int": "int4",
    "bigint": "int8",
    "smallint": "int2",
    "boolean": "bool",
    "double precision": "float8",
    "real": "float4",
    "float": "float8",
    "character varying": "varchar",
    "character": "bpchar",
    "decimal": "numeric",
    "timestamp with time zone": "timestamptz",
    "timestamp without time zone": "timestamp",
    "time without time zone": "time",
}


def type_oid(name: str, *, array: bool = False) -> int:
    """The oid of a PostgreSQL type as SQL spells it (``integer``, ``text[]``, ``varchar(10)``); 0 unknown.

    >>> type_oid("integer"), type_oid("text[]"), type_oid("character varying(5)"), type_oid("oid", array=True)
    (23, 1009, 1043, 1028)
    """
    t = re.sub(r"\s+", " ", name.strip().lower()).removeprefix("pg_catalog.")
    t = re.sub(r"\(.*?\)", "", t).strip()
    if t.endswith("[]"):
        t, array = t[:-2].strip(), True
    t = TYPE_ALIASES.get(t, t)
    return PG_TYPES.get("_" + t if array else t, (0, 0))[0]


def oid_of(duck_type: str) -> int:
    return PG_TYPES[pg_type(duck_type)][0]


def describe(duck_type: str) -> tuple[int, int, int]:
    """(oid, typlen, typmod) for RowDescription."""
    oid, size = PG_TYPES[pg_type(duck_type)]
    return oid, size, -1


# --- result encoding ---------------------------------------------------------------------------

_I = struct.Struct("!i")
NULL = b"\xff\xff\xff\xff"
PG_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
PG_EPOCH_NAIVE = dt.datetime(2000, 1, 1)
PG_EPOCH_DATE = dt.date(2000, 1, 1)
_EPOCH_US = 946_684_800_000_000  # 2000-01-01 in Unix microseconds


#: The decimal exponents PostgreSQL writes a float in positional form for (float8out with the
#: default extra_float_digits = 1, float4out: printf's %g thresholds); exponential otherwise.
FLOAT_POSITIONAL = {"float8": (-4, 15), "float4": (-4, 6)}


def float_text(v: float, pgname: str = "float8") -> str:
    """PostgreSQL's text for a float: the shortest digits that read back as the same value (of
    a float4 when ``pgname`` is float4), positional for exponents -4 to 14 (float4: 5), else
    ``1.5e+15``, ``1e-05``; ``-0``, ``NaN``, ``Infinity``.

    >>> [float_text(x) for x in (100.0, 1e-05, 0.0001, 123456789012345.0, 1e15, -0.0, 0.1 + 0.2)]
    ['100', '1e-05', '0.0001', '123456789012345', '1e+15', '-0', '0.30000000000000004']
    >>> float_text(0.1, "float4"), float_text(16777216.0, "float4"), float_text(float("-inf"))
    ('0.1', '1.6777216e+07', '-Infinity')
    """
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    import numpy as np

    x = np.float32(v) if pgname == "float4" else np.float64(v)
    scientific = np.format_float_scientific(x, unique=True, trim="-", exp_digits=2)
    low, high = FLOAT_POSITIONAL.get(pgname, FLOAT_POSITIONAL["float8"])
    if low <= int(scientific.rsplit("e", 1)[1]) < high:
        return np.format_float_positional(x, unique=True, trim="-")
    return scientific


def _json_default(v: Any) -> Any:
    if isinstance(v, (dt.datetime, dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, bytes):
        return v.hex()
    return str(v)


def _nested_json(v: Any) -> str:
    if isinstance(v, list) and v and isinstance(v[0], tuple) and len(v[0]) == 2:
        v = dict(v)  # an Arrow map comes as a list of (key, value)
    return json.dumps(v, default=_json_default, ensure_ascii=False)


def _interval_text(v: Any) -> str:
    """PostgreSQL's interval output (IntervalStyle postgres): ``1 year 2 mons 3 days 04:05:06.5``;
    a field after a negative one carries its sign, a plural unless the value is 1.

    >>> from types import SimpleNamespace as MonthDayNano
    >>> _interval_text(MonthDayNano(months=0, days=-1, nanoseconds=2 * 3600 * 10**9))
    '-1 days +02:00:00'
    >>> _interval_text(MonthDayNano(months=-14, days=1, nanoseconds=-1500 * 10**6))
    '-1 years -2 mons +1 day -00:00:01.5'
    """
    if isinstance(v, dt.timedelta):
        months, days, us = 0, v.days, v.seconds * 1_000_000 + v.microseconds
    else:  # pyarrow MonthDayNano
        months, days, us = v.months, v.days, v.nanoseconds // 1000
    years, mons = divmod(abs(months), 12)
    sign = -1 if months < 0 else 1
    parts: list[str] = []
    after_negative = False
    for n, unit in ((sign * years, "year"), (sign * mons, "mon"), (days, "day")):
        if n:
            parts.append(f"{'+' if after_negative and n > 0 else ''}{n} {unit}{'s' if n != 1 else ''}")
            after_negative = n < 0
    if us or not parts:
        hours, rest = divmod(abs(us), 3_600_000_000)
        minutes, rest = divmod(rest, 60_000_000)
        seconds, micro = divmod(rest, 1_000_000)
        text = f"{'-' if us < 0 else '+' if after_negative else ''}{hours:02d}:{minutes:02d}:{seconds:02d}"
        parts.append(text + (f".{micro:06d}".rstrip("0") if micro else ""))
    return " ".join(parts)


def _ts_text(v: dt.datetime) -> str:
    """PostgreSQL's timestamp output: a fraction without trailing zeros, an offset without :00."""
    text = v.replace(tzinfo=None).isoformat(sep=" ")
    if v.microsecond:
        text = text.rstrip("0")
    if v.tzinfo is None:
        return text
    offset = v.isoformat()[-6:]
    return text + (offset[:-3] if offset.endswith(":00") else offset)


def jsonb_text(text: str) -> str:
    """PostgreSQL's jsonb output: keys ordered by length then bytes, ``", "`` and ``": "``.

    >>> jsonb_text('{"bb":1,"a":[1,2.50],"c":{"z":null}}')
    '{"a": [1, 2.50], "c": {"z": null}, "bb": 1}'
    """

    def dump(v: Any) -> str:
        if isinstance(v, dict):
            keys = sorted(v, key=lambda k: (len(k.encode()), k.encode()))
            return "{" + ", ".join(json.dumps(k, ensure_ascii=False) + ": " + dump(v[k]) for k in keys) + "}"
        if isinstance(v, list):
            return "[" + ", ".join(dump(x) for x in v) + "]"
        if isinstance(v, decimal.Decimal):
            return str(v)
        return json.dumps(v, ensure_ascii=False)

    return dump(json.loads(text, parse_float=decimal.Decimal))


def text_value(v: Any, pgname: str) -> str:
    """PostgreSQL's text output for one Python value."""
    if pgname == "jsonb" and isinstance(v, str):
        return jsonb_text(v)
    if v is True:
        return "t"
    if v is False:
        return "f"
    if isinstance(v, float):
        return float_text(v, pgname)
    if isinstance(v, dt.datetime):
        return _ts_text(v)
    if isinstance(v, dt.time) and v.microsecond:  # PostgreSQL: 10:00:01.5, no trailing zeros
        return v.isoformat().rstrip("0")
    if isinstance(v, (dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, bytes):
        return "\\x" + v.hex()
    if isinstance(v, dt.timedelta) or type(v).__name__ == "MonthDayNano":
        return _interval_text(v)
    if isinstance(v, (list, dict, tuple)):
        if pgname in ("int2vector", "oidvector"):
            return " ".join(str(x) for x in v)
        if pgname.startswith("_"):
            return "{" + ",".join("NULL" if x is None else _array_item(text_value(x, pgname[1:])) for x in v) + "}"
        return jsonb_text(_nested_json(v)) if pgname == "jsonb" else _nested_json(v)
    return str(v)


def _array_item(text: str) -> str:
    if text == "" or any(c in text for c in ',{}" \\') or text.upper() == "NULL":
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def _binary_value(v: Any, pgname: str) -> bytes:
    if pgname == "bool":
        return b"\x01" if v else b"\x00"
    if pgname == "int2":
        return struct.pack("!h", v)
    if pgname in ("int4", "oid", "xid"):
        return struct.pack("!i" if pgname == "int4" else "!I", v)
    if pgname in ("int2vector", "oidvector"):
        return array_binary(v, "int2" if pgname == "int2vector" else "oid")
    if pgname == "int8":
        return struct.pack("!q", v)
    if pgname == "float4":
        return struct.pack("!f", v)
    if pgname == "float8":
        return struct.pack("!d", v)
    if pgname in ("timestamptz", "timestamp"):
        if v.tzinfo is None:
            delta = v - PG_EPOCH_NAIVE
        else:
            delta = v - PG_EPOCH
        return struct.pack("!q", (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds)
    if pgname == "date":
        return struct.pack("!i", (v - PG_EPOCH_DATE).days)
    if pgname == "time":
        return struct.pack("!q", ((v.hour * 60 + v.minute) * 60 + v.second) * 1_000_000 + v.microsecond)
    if pgname == "interval":
        if isinstance(v, dt.timedelta):
            return struct.pack("!qii", v.seconds * 1_000_000 + v.microseconds, v.days, 0)
        return struct.pack("!qii", v.nanoseconds // 1000, v.days, v.months)
    if pgname == "uuid":
        return (v if isinstance(v, uuid.UUID) else uuid.UUID(str(v))).bytes
    if pgname == "bytea":
        return bytes(v)
    if pgname == "jsonb":
        return b"\x01" + text_value(v, pgname).encode("utf-8")
    if pgname == "numeric":
        return numeric_binary(decimal.Decimal(v))
    if pgname.startswith("_"):
        return array_binary(v, pgname[1:])
    return text_value(v, pgname).encode("utf-8")


def _exponent(value: decimal.Decimal) -> int:
    """The exponent of a finite decimal (``as_tuple`` gives "n", "N" or "F" for NaN and infinity)."""
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int), f"{value} is not finite"
    return exponent


def numeric_binary(value: decimal.Decimal) -> bytes:
    """PostgreSQL's binary numeric: base-10000 digits, weight, sign, display scale."""
    if value.is_nan():
        return struct.pack("!hhHh", 0, 0, 0xC000, 0)
    if value.is_infinite():  # PostgreSQL 14+: NUMERIC_PINF, NUMERIC_NINF
        return struct.pack("!hhHh", 0, 0, 0xF000 if value < 0 else 0xD000, 0)
    sign = value.as_tuple().sign
    scale = max(0, -_exponent(value))
    int_part, _, frac_part = format(value.copy_abs(), "f").partition(".")  # abs() would round to 28 digits
    int_part = int_part.lstrip("0")
    int_part = "0" * (-len(int_part) % 4) + int_part
    frac_part = frac_part + "0" * (-len(frac_part) % 4)
    groups = [int(int_part[i : i + 4]) for i in range(0, len(int_part), 4)]
    weight = len(groups) - 1
    groups += [int(frac_part[i : i + 4]) for i in range(0, len(frac_part), 4)]
    while groups and groups[0] == 0:
        groups.pop(0)
        weight -= 1
    while groups and groups[-1] == 0:
        groups.pop()
    if not groups:
        weight = 0
    return struct.pack(f"!hhHh{len(groups)}H", len(groups), weight, 0x4000 if sign else 0, scale, *groups)


def array_binary(values: list, elem: str) -> bytes:
    oid = PG_TYPES[elem][0]
    parts = [struct.pack("!iiiii", 1, 1 if None in values else 0, oid, len(values), 1)]
    for v in values:
        if v is None:
            parts.append(NULL)
        else:
            b = _binary_value(v, elem)
            parts.append(_I.pack(len(b)) + b)
    return b"".join(parts)


def encode_column(array: Any, pgname: str, binary: bool) -> list[bytes]:
    """One Arrow column -> length-prefixed fields (NULL as -1), fast paths for the common types."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    pack = _I.pack
    if (
        not binary
        and pgname in (*TEXT_LIKE, "int2", "int4", "int8", "numeric", "oid", "xid")
        and (
            pa.types.is_string(array.type)
            or pa.types.is_large_string(array.type)
            or pa.types.is_integer(array.type)
            or pa.types.is_decimal(array.type)
        )
    ):
        strings = array if pa.types.is_string(array.type) else pc.cast(array, pa.string())
        out = []
        for s in strings.to_pylist():
            if s is None:
                out.append(NULL)
            else:
                b = s.encode("utf-8")
                out.append(pack(len(b)) + b)
        return out
    values = array.to_pylist()
    if binary:
        fmt = {"int8": "!iq", "int4": "!ii", "int2": "!ih", "float8": "!id", "float4": "!if"}.get(pgname)
        if fmt:
            s = struct.Struct(fmt)
            size = s.size - 4
            return [NULL if v is None else s.pack(size, v) for v in values]
        encode: Callable[[Any], bytes] = lambda v: _binary_value(v, pgname)  # noqa: E731
    else:
        encode = lambda v: text_value(v, pgname).encode("utf-8")  # noqa: E731
    out = []
    for v in values:
        if v is None:
            out.append(NULL)
        else:
            b = encode(v)
            out.append(pack(len(b)) + b)
    return out


def encode_rows(batch: Any, pgnames: list[str], formats: list[int]) -> bytes:
    """A record batch -> concatenated DataRow messages."""
    ncols = batch.num_columns
    if ncols == 0:
        return b"".join(b"D\x00\x00\x00\x06\x00\x00" for _ in range(batch.num_rows))
    columns = [encode_column(batch.column(i), pgnames[i], formats[i] == 1) for i in range(ncols)]
    head = struct.pack("!h", ncols)
    pack = _I.pack
    out: list[bytes] = []
    append = out.append
    for fields in zip(*columns):
        body = b"".join(fields)
        append(b"D" + pack(len(body) + 6) + head + body)
    return b"".join(out)


# --- parameter decoding ------------------------------------------------------------------------

_PARAM_DUCK = {
    "int2": "SMALLINT",
    "int4": "INTEGER",
    "int8": "BIGINT",
    "oid": "BIGINT",
    "float4": "FLOAT",
    "float8": "DOUBLE",
    "bool": "BOOLEAN",
    "date": "DATE",
    "time": "TIME",
    "timestamp": "TIMESTAMP",
    "timestamptz": "TIMESTAMPTZ",
    "interval": "INTERVAL",
    "json": "JSON",
    "jsonb": "JSON",
    "uuid": "UUID",
    "bytea": "BLOB",
}


def param_duck_type(oid: int, value: Any = None, *, describing: bool = False) -> str | None:
    """The DuckDB type a parameter the client typed gets in the SQL (None: leave it to DuckDB).

    Strings stay untyped (DuckDB infers them from where they are used, as PostgreSQL does for
    ``unknown``); a numeric's scale comes from its bound value, as PostgreSQL keeps it (before the
    values are known, ``describing``, any scale tells the result's type).

    >>> param_duck_type(23), param_duck_type(25), param_duck_type(1700, decimal.Decimal("1.23456"))
    ('INTEGER', None, 'DECIMAL(38, 5)')
    """
    name = OID_NAME.get(oid)
    if name is None:
        return None
    if name == "numeric":
        if describing:
            return "DECIMAL(38, 10)"
        if not isinstance(value, decimal.Decimal) or not value.is_finite():
            return None
        return f"DECIMAL(38, {min(max(0, -_exponent(value)), 37)})"
    if name.startswith("_"):
        element = _PARAM_DUCK.get(name[1:]) or ("VARCHAR" if name[1:] in ("text", "varchar", "name") else None)
        return element + "[]" if element else None
    return _PARAM_DUCK.get(name)


def decode_param(data: bytes | None, oid: int, binary: bool) -> Any:
    """A Bind parameter -> the Python value DuckDB gets (text values it casts itself)."""
    if data is None:
        return None
    name = OID_NAME.get(oid, "text")
    if not binary:
        text = data.decode("utf-8")
        if name.startswith("_"):  # '{a,"b c",NULL}'
            element = PG_TYPES.get(name[1:], (25, -1))[0]
            return [None if v is None else decode_param(v.encode("utf-8"), element, False) for v in pg_array(text)]
        if name in ("int2", "int4", "int8", "oid"):
            return int(text)
        if name in ("float4", "float8"):
            return float(text)
        if name == "numeric":
            return decimal.Decimal(text)
        if name == "bool":
            return text.strip().lower() in ("t", "true", "1", "on", "yes", "y")
        return text
    if name == "bool":
        return data != b"\x00"
    if name == "int2":
        return struct.unpack("!h", data)[0]
    if name == "int4":
        return struct.unpack("!i", data)[0]
    if name == "oid":
        return struct.unpack("!I", data)[0]
    if name == "int8":
        return struct.unpack("!q", data)[0]
    if name == "float4":
        return struct.unpack("!f", data)[0]
    if name == "float8":
        return struct.unpack("!d", data)[0]
    if name in ("timestamptz", "timestamp"):
        us = struct.unpack("!q", data)[0]
        base = PG_EPOCH if name == "timestamptz" else PG_EPOCH_NAIVE
        return base + dt.timedelta(microseconds=us)
    if name == "date":
        return PG_EPOCH_DATE + dt.timedelta(days=struct.unpack("!i", data)[0])
    if name == "time":
        us = struct.unpack("!q", data)[0]
        return (dt.datetime.min + dt.timedelta(microseconds=us)).time()
    if name == "interval":  # DuckDB casts the text to INTERVAL (months do not fit a timedelta)
        us, days, months = struct.unpack("!qii", data)
        return f"{months} months {days} days {us} microseconds"
    if name == "jsonb":
        return data[1:].decode("utf-8")
    if name == "uuid":
        return str(uuid.UUID(bytes=data))
    if name == "bytea":
        return data
    if name == "numeric":
        return _numeric_from_binary(data)
    if name.startswith("_"):
        return _array_from_binary(data)
    return data.decode("utf-8")


def _numeric_from_binary(data: bytes) -> decimal.Decimal:
    """PostgreSQL's binary numeric, exactly, with its display scale (1.23456 arrives as the
    base-10000 digits 1, 2345, 6000 and scale 5: it is 1.23456, not 1.23456000).

    >>> _numeric_from_binary(numeric_binary(decimal.Decimal("1.23456")))
    Decimal('1.23456')
    >>> _numeric_from_binary(numeric_binary(decimal.Decimal("-12345678901234567890123456789012.5")))
    Decimal('-12345678901234567890123456789012.5')
    """
    ndigits, weight, sign, scale = struct.unpack_from("!hhHh", data)
    if sign == 0xC000:
        return decimal.Decimal("NaN")
    whole = 0
    for digit in struct.unpack_from(f"!{ndigits}H", data, 8):
        whole = whole * 10000 + digit
    exact = decimal.Context(prec=2000)
    value = decimal.Decimal(whole).scaleb(4 * (weight - ndigits + 1), context=exact)
    value = value.quantize(decimal.Decimal(1).scaleb(-scale), context=exact)
    return value.copy_negate() if sign == 0x4000 else value


def _array_from_binary(data: bytes) -> list:
    ndim, _flags, elem = struct.unpack_from("!iiI", data)
    if ndim == 0:
        return []
    if ndim != 1:
        raise ValueError("only one-dimensional array parameters are supported")
    count, _lower = struct.unpack_from("!ii", data, 12)
    pos = 20
    out: list[Any] = []
    for _ in range(count):
        (n,) = struct.unpack_from("!i", data, pos)
        pos += 4
        if n < 0:
            out.append(None)
            continue
        out.append(decode_param(data[pos : pos + n], elem, True))
        pos += n
    return out


def pg_array(text: str) -> list[str | None]:
    """Items of a one-dimensional PostgreSQL array literal: ``{a,"b c",NULL}``.

    >>> pg_array('{a,"b c",NULL,"NULL"}')
    ['a', 'b c', None, 'NULL']
    """
    body = text.strip()
    if not (body.startswith("{") and body.endswith("}")):
        raise ValueError(f"malformed array literal: {text!r}")
    body = body[1:-1]
    items: list[str | None] = []
    current, quoted, was_quoted, i = "", False, False, 0

    def finish() -> None:
        if not was_quoted and current.strip().upper() == "NULL":
            items.append(None)
        else:
            items.append(current if was_quoted else current.strip())

    while i < len(body):
        c = body[i]
        if quoted:
            if c == "\\" and i + 1 < len(body):
                current += body[i + 1]
                i += 1
            elif c == '"':
                quoted = False
            else:
                current += c
        elif c == '"':
            quoted = was_quoted = True
        elif c == ",":
            finish()
            current, was_quoted = "", False
        else:
            current += c
        i += 1
    if body.strip() or was_quoted:
        finish()
    return items
