"""Render results: table (psql-like), expanded (\\x), csv, json, jsonl, markdown."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TextIO

FORMATS = ("table", "csv", "json", "jsonl", "markdown")


def interval(value: Any) -> str:
    """An Arrow MonthDayNano interval as Postgres prints one: ``6 days 18:15:34``."""
    seconds, nanos = divmod(value.nanoseconds, 1_000_000_000)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = []
    if value.months:
        parts.append(f"{value.months} mon{'s' if value.months != 1 else ''}")
    if value.days:
        parts.append(f"{value.days} day{'s' if value.days != 1 else ''}")
    clock = f"{hours:02d}:{minutes:02d}:{secs:02d}" + (f".{nanos // 1000:06d}" if nanos else "")
    if clock != "00:00:00" or not parts:
        parts.append(clock)
    return " ".join(parts)


def _is_interval(value: Any) -> bool:
    return type(value).__name__ == "MonthDayNano"


def cell(value: Any) -> str:
    """A value as text for table, markdown and CSV output."""
    if value is None:
        return ""
    if _is_interval(value):
        return interval(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        text = value.isoformat(sep=" ")
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], tuple) and len(value[0]) == 2:
        return "{" + ", ".join(f"{k}={v}" for k, v in value) + "}"  # a MAP as Arrow gives it
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str, separators=(",", ":"))
    return str(value)


#: JSON has no NaN or infinity; they are written as PostgreSQL's ``to_json`` writes them: strings.
NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def jsonable(value: Any) -> Any:
    """``value`` as something ``json.dumps`` writes as strict JSON.

    >>> jsonable([float("nan"), float("inf"), 1.5])
    ['NaN', 'Infinity', 1.5]
    """
    if isinstance(value, float) and not math.isfinite(value):
        return NON_FINITE[str(value)]
    if _is_interval(value):
        return interval(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, Decimal):
        return jsonable(float(value))
    if isinstance(value, list) and value and isinstance(value[0], tuple) and len(value[0]) == 2:
        return {k: jsonable(v) for k, v in value}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    return value


def render(
    columns: list[str], types: list[str], rows: Sequence[tuple], fmt: str, out: TextIO, *, expanded: bool = False
) -> None:
    """Write ``rows`` in ``fmt``; JSON columns are emitted as JSON values in json/jsonl."""
    rows = with_maps(types, rows)
    if fmt == "table":
        (_expanded if expanded else _table)(columns, rows, out)
    elif fmt == "markdown":
        _markdown(columns, rows, out)
    elif fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([cell(v) for v in row] for row in rows)
    elif fmt in ("json", "jsonl"):
        json_cols = {i for i, t in enumerate(types) if t.upper() == "JSON"}
        objs = ({c: json_value(v, i in json_cols) for i, (c, v) in enumerate(zip(columns, row))} for row in rows)
        if fmt == "jsonl":
            for obj in objs:
                out.write(json.dumps(obj, default=str, allow_nan=False) + "\n")
        else:
            out.write(json.dumps(list(objs), default=str, indent=2, allow_nan=False) + "\n")
    else:
        raise ValueError(f"unknown format {fmt!r}")


def with_maps(types: Sequence[str], rows: Sequence[tuple]) -> Sequence[tuple]:
    """``rows`` with each empty MAP as ``{}``: Arrow gives a map as a list of pairs, so an empty
    one would print as ``[]``, like an empty list.

    >>> with_maps(["MAP(VARCHAR, VARCHAR)", "VARCHAR[]"], [([], []), ([("a", "1")], ["x"])])
    [({}, []), ([('a', '1')], ['x'])]
    >>> cell(with_maps(["MAP(VARCHAR, VARCHAR)"], [([],)])[0][0])
    '{}'
    """
    maps = [i for i, t in enumerate(types) if t.upper().startswith("MAP(")]
    if not maps:
        return rows
    return [tuple({} if i in maps and v == [] else v for i, v in enumerate(row)) for row in rows]


def json_value(value: Any, is_json: bool) -> Any:
    """A value for JSON output: JSON columns as JSON, the rest via ``jsonable``."""
    if is_json and isinstance(value, str):
        try:
            return json.loads(value, parse_constant=_refuse_constant)
        except ValueError:
            return value
    return jsonable(value)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # such a JSON column value is written as its text


def _table(columns: list[str], rows: Sequence[tuple], out: TextIO, max_width: int = 60) -> None:
    texts = [[_clip(cell(v), max_width) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in texts]) for i, c in enumerate(columns)]
    out.write(" " + " | ".join(c.center(w) for c, w in zip(columns, widths)).rstrip() + "\n")
    out.write("-" + "-+-".join("-" * w for w in widths) + "-\n")
    for r in texts:
        out.write(" " + " | ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() + "\n")
    out.write(f"({len(rows)} row{'' if len(rows) == 1 else 's'})\n")


def _expanded(columns: list[str], rows: Sequence[tuple], out: TextIO) -> None:
    width = max((len(c) for c in columns), default=0)
    for n, row in enumerate(rows, 1):
        out.write(f"-[ RECORD {n} ]" + "-" * max(width - 8, 4) + "\n")
        for c, v in zip(columns, row):
            out.write(f"{c.ljust(width)} | {cell(v)}\n")
    if not rows:
        out.write("(0 rows)\n")


def _markdown(columns: list[str], rows: Sequence[tuple], out: TextIO) -> None:
    def esc(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    out.write("| " + " | ".join(esc(c) for c in columns) + " |\n")
    out.write("|" + "|".join("---" for _ in columns) + "|\n")
    for row in rows:
        out.write("| " + " | ".join(esc(cell(v)) for v in row) + " |\n")


def _clip(text: str, width: int) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def to_string(columns: list[str], types: list[str], rows: Iterable[tuple], fmt: str = "table") -> str:
    buf = io.StringIO()
    render(columns, types, list(rows), fmt, buf)
    return buf.getvalue()
