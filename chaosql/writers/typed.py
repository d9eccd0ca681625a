"""Typed columns to object fields: what a row of ``network_chaos`` (and the other typed chaos
tables, ``chaosql.tables.chaos_kinds``) writes into a manifest or a merge patch.

Each column's SQL value is turned back into the JSON its field holds (the inverse of
``chaosql.tables._schema``'s readers): an INTERVAL becomes a Go duration string (``100ms``), a
DOUBLE a float string where the object keeps numbers as text (``"25"``), lists and maps stay lists
and maps. A value that cannot be the field's type is refused with the column named; whether a
value is allowed (enums, patterns, required fields, Chaos Mesh's rules) is checked afterwards on
the whole object (``chaosql.writers.validate``), so a typed row and a JSON ``spec`` are held to
the same rules.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
from collections.abc import Iterable, Mapping
from typing import Any

from chaosql.sources.chaosmesh import format_go_duration, go_duration_ns
from chaosql.tables._schema import Leaf


class BadValue(ValueError):
    """A column value that cannot be its field's type (the message says what it should be)."""


def encode(leaf: Leaf, value: Any) -> Any:
    """The JSON value of ``leaf``'s field for the column value ``value`` (not None)."""
    return _encode(leaf.codec, value)


def _encode(codec: str, value: Any) -> Any:
    if codec.startswith("list:"):
        items = _json_text(value) if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)):
            raise BadValue(f"expected a list, e.g. ['a', 'b'], got {_show(value)}")
        return [None if item is None else _encode(codec[5:], item) for item in items]
    if codec.startswith("map:"):
        pairs = _json_text(value) if isinstance(value, str) else value
        if isinstance(pairs, list) and all(isinstance(p, tuple) and len(p) == 2 for p in pairs):
            pairs = dict(pairs)
        if not isinstance(pairs, Mapping):
            raise BadValue(f"expected a MAP, e.g. MAP {{'app': 'web'}}, got {_show(value)}")
        return {str(k): None if v is None else _encode(codec[4:], v) for k, v in pairs.items()}
    return ENCODERS[codec](value)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool):
        return _number_text(value)
    raise BadValue(f"expected text, got {_show(value)}")


def _int(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, (float, decimal.Decimal)) and value == int(value):
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise BadValue(f"expected an integer, got {_show(value)}")


def _float(value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise BadValue(f"expected a number, got {_show(value)}")


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise BadValue(f"expected true or false, got {_show(value)}")


def _duration(value: Any) -> str:
    if isinstance(value, dt.timedelta):
        return format_go_duration((value.days * 86_400 + value.seconds) * 10**9 + value.microseconds * 1000)
    if type(value).__name__ == "MonthDayNano":  # an INTERVAL as Arrow hands it over
        if value.months:
            raise BadValue(f"{_interval_text(value)} counts months, which have no fixed length: use days or hours")
        return format_go_duration(value.days * 86_400 * 10**9 + value.nanoseconds)
    if isinstance(value, str):
        ns = go_duration_ns(value.strip())
        if ns is not None:
            return format_go_duration(ns)
    raise BadValue(
        f"{_show(value)} is not a duration: write e.g. '100ms', '1.5s', '2m30s' or INTERVAL '100 milliseconds'"
    )


def _interval_text(value: Any) -> str:
    return f"INTERVAL '{value.months} months {value.days} days'"


def _float_string(value: Any) -> str:
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            raise BadValue(f"expected a number, got {_show(value)}") from None
        return value.strip()
    return _number_text(_float(value))


def _int_or_string(value: Any) -> int | str:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, (float, decimal.Decimal)) and value == int(value):
        return int(value)
    if isinstance(value, str):
        return value
    raise BadValue(f"expected an integer or text, got {_show(value)}")


def _timestamp(value: Any) -> str:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, str):
        return value
    raise BadValue(f"expected a timestamp, got {_show(value)}")


def _json(value: Any) -> Any:
    from chaosql.writers.objects import json_value

    try:
        return json_value(value, "value")
    except Exception as err:  # WriteRefused: not valid JSON text
        raise BadValue(getattr(err, "message", str(err)).removeprefix("value: ")) from None


ENCODERS = {
    "text": _text,
    "int": _int,
    "float": _float,
    "bool": _bool,
    "duration": _duration,
    "float-string": _float_string,
    "int-or-string": _int_or_string,
    "timestamp": _timestamp,
    "json": _json,
}


def _number_text(value: float | decimal.Decimal) -> str:
    """25.0 -> '25', 0.5 -> '0.5': numbers as Chaos Mesh writes them in strings."""
    if isinstance(value, decimal.Decimal):
        value = float(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


def _json_text(value: str) -> Any:
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def set_path(obj: dict, path: Iterable[str], value: Any) -> None:
    """Set ``obj[p0][p1]...`` to ``value``, making the objects on the way."""
    keys = list(path)
    for key in keys[:-1]:
        child = obj.get(key)
        if not isinstance(child, dict):
            child = obj[key] = {}
        obj = child
    obj[keys[-1]] = value


def assign(spec: dict, leaves: Iterable[Leaf], values: Mapping[str, Any]) -> None:
    """Write the ``values`` of typed columns (column -> SQL value; None leaves the field alone)
    into ``spec``. Raises ``BadValue`` with ``.column`` set for the first value of a wrong type."""
    for leaf in leaves:
        value = values.get(leaf.column)
        if value is None:
            continue
        try:
            set_path(spec, leaf.path, encode(leaf, value))
        except BadValue as err:
            err.column = leaf.column  # type: ignore[attr-defined]
            raise


def assign_row(table: str, where: str, spec: dict, model: Any, values: Mapping[str, Any]) -> None:
    """Write a row's typed columns into ``spec`` (and the fields the table fixes, a schedule's
    ``type``); a value of the wrong type is refused naming the table, the row and the column."""
    from chaosql.errors import WriteRefused

    try:
        assign(spec, model.leaves, values)
    except BadValue as err:
        column = getattr(err, "column", "?")
        raise WriteRefused(
            f"{table}: {where}: column {column}: {err}",
            hint=_column_hint(model, column) + "; checked before any call, nothing was written",
        ) from None
    for key, value in model.fixed.items():
        spec[key] = value


def _column_hint(model: Any, column: str) -> str:
    leaf = model.leaf(column)
    return f"{column} is {leaf.type}, {leaf.doc.rstrip('.')}" if leaf is not None else f"column {column}"
