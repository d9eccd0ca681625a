"""Metric families from saved queries: which columns are labels, which are values, and the samples.

A saved query (``chaosql.reports.saved``) becomes a metric family when its header names one::

    -- name: network-delay
    -- metric: team_network_delay_seconds
    -- metric_type: gauge                  (gauge or counter; default gauge)
    -- help: Latency each NetworkChaos injects, by team.
    SELECT cluster, namespace, labels['team'] AS team, epoch(delay_latency) AS latency
    FROM network_chaos WHERE action = 'delay'

Text columns (VARCHAR, enums) are labels; numbers, booleans (1/0), timestamps (Unix seconds),
dates and intervals (seconds) are values. One value column gives the family ``metric``; several
give one family each, ``<metric>_<column>``; ``-- value: COLUMN -- help`` lines name the value
columns (and give each its own help) instead. A NULL value is no sample; a NULL label is empty.
A counter may name a ``-- key:`` (columns of an object whose value only grows, e.g. ``uid``): the
exporter then adds up what each object gained (``chaosql.export.counters``), so the total keeps
growing when objects are deleted. Anything else that does not fit is an ``ExportError`` naming
the family and the column: it breaks that family only.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chaosql.errors import ChaosqlError, UsageError

if TYPE_CHECKING:
    import pyarrow as pa

    from chaosql.reports.saved import SavedQuery

TYPES = ("gauge", "counter")
_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
#: Series one family may have unless its header or ``--max-series`` says otherwise.
MAX_SERIES = 50_000


class ExportError(ChaosqlError):
    """A family's rows do not make metrics (a bad column, duplicate labels, too many series)."""


@dataclass(frozen=True)
class Value:
    column: str
    family: str  # the family's name (a counter's without _total)
    help: str


@dataclass
class Shaped:
    """One family's samples: ``labels`` is the rendered label set (``{a="b"}``), one per sample."""

    name: str
    type: str
    help: str
    samples: list[tuple[str, float]]
    keys: list[str] | None = None  # a keyed counter: the object each sample belongs to


@dataclass
class FamilySpec:
    """What a saved query's header says about the families it makes."""

    query: SavedQuery
    metric: str
    type: str
    help: str
    declared: tuple[Value, ...]
    key: tuple[str, ...]
    max_series: int | None

    @property
    def name(self) -> str:
        """The name of the query's families together (``family`` in chaosql_export_* metrics)."""
        return self.metric

    def values(self, columns: Sequence[str], arrow_types: Sequence[pa.DataType]) -> list[Value]:
        """The value columns of a result: the declared ones, or every numeric column."""
        if self.declared:
            missing = [v.column for v in self.declared if v.column not in columns]
            if missing:
                raise ExportError(
                    f"family {self.metric}: no column {missing[0]!r} in its result",
                    hint="columns: " + ", ".join(columns),
                )
            return list(self.declared)
        numeric = [c for c, t in zip(columns, arrow_types) if _kind(t) == "value" and c not in self.key]
        if not numeric:
            raise ExportError(
                f"family {self.metric}: its result has no number column to be the value",
                hint="select a count, a number, a boolean, a timestamp or an interval",
            )
        if len(numeric) == 1:
            return [Value(numeric[0], self.metric, self.help)]
        return [Value(c, f"{self.metric}_{c}", f"{self.help} ({c})" if self.help else c) for c in numeric]

    def shape(self, table: pa.Table) -> list[Shaped]:
        """The samples of every family the result ``table`` makes."""
        columns = list(table.column_names)
        if len(set(columns)) != len(columns):
            twice = next(c for c in columns if columns.count(c) > 1)
            raise ExportError(f"family {self.metric}: two columns are named {twice!r}", hint="name each one apart")
        kinds = {c: _kind(t) for c, t in zip(columns, table.schema.types)}
        values = self.values(columns, table.schema.types)
        for value in values:
            if kinds[value.column] != "value":
                raise ExportError(
                    f"family {self.metric}: value column {value.column!r} is {table.schema.field(value.column).type}, "
                    "not a number",
                    hint="cast it to a number, or make it a label",
                )
        missing_keys = [k for k in self.key if k not in columns]
        if missing_keys:
            raise ExportError(f"family {self.metric}: no key column {missing_keys[0]!r} in its result")
        taken = {v.column for v in values} | set(self.key)
        labels = [c for c in columns if c not in taken]
        for label in labels:
            if kinds[label] != "label":
                raise ExportError(
                    f"family {self.metric}: column {label!r} is {table.schema.field(label).type}: neither a label "
                    "(text) nor a declared value",
                    hint="cast it to text to make it a label, list it in -- value:, or leave it out",
                )
            if not _NAME.match(label) or label.startswith("__"):
                raise ExportError(
                    f"family {self.metric}: {label!r} is not a label name", hint="letters, digits and _; not __ first"
                )
        label_texts = _label_texts(table, labels)
        keys = _key_texts(table, self.key) if self.key else None
        if keys is None:
            _no_duplicates(self.metric, label_texts, labels)
        out = []
        for value in values:
            numbers = numbers_of(table.column(value.column))
            if keys is None:
                samples = [(text, v) for text, v in zip(label_texts, numbers) if v is not None]
                out.append(Shaped(value.family, self.type, value.help, samples))
            else:
                kept = [(t, v, k) for t, v, k in zip(label_texts, numbers, keys) if v is not None]
                shaped = Shaped(value.family, self.type, value.help, [(t, v) for t, v, _ in kept])
                shaped.keys = [k for _, _, k in kept]
                out.append(shaped)
        return out


def from_query(query: SavedQuery) -> FamilySpec:
    """The family spec of a saved query with a ``metric`` header; a UsageError naming the file
    and key when the header is wrong."""
    header = dict(query.export or {})
    where = f"family {query.origin}"
    metric = (header.get("metric") or "").strip()
    if not metric:
        raise UsageError(f"{where}: no metric name", hint="add -- metric: NAME (letters, digits and _)")
    kind = (header.get("metric_type") or "gauge").strip().lower()
    if kind not in TYPES:
        raise UsageError(f"{where}: metric_type {kind!r} is not one of {', '.join(TYPES)}")
    if kind == "counter":
        metric = metric.removesuffix("_total")
    if not _NAME.match(metric):
        raise UsageError(f"{where}: {metric!r} is not a metric name", hint="letters, digits and _, not a digit first")
    help_text = " ".join((header.get("help") or query.description or query.title or "").split())
    declared = header.get("values") or []
    if any(not column for column, _ in declared):
        raise UsageError(f"{where}: expected '-- value: COLUMN -- help'")
    several = len(declared) > 1
    values = tuple(
        Value(
            column,
            f"{metric}_{column}" if several else metric,
            " ".join(doc.split()) or (f"{help_text} ({column})" if several else help_text),
        )
        for column, doc in declared
    )
    for value in values:
        if not _NAME.match(value.family):
            raise UsageError(f"{where}: {value.family!r} (from value {value.column!r}) is not a metric name")
    key = tuple(k.strip() for k in (header.get("key") or "").split(",") if k.strip())
    if key and kind != "counter":
        raise UsageError(f"{where}: key is for counters (metric_type: counter)", hint="drop -- key: from a gauge")
    cap = header.get("max_series")
    max_series = None
    if cap is not None:
        if not str(cap).strip().isdigit() or int(cap) < 1:
            raise UsageError(f"{where}: max_series takes a whole number >= 1, not {cap!r}")
        max_series = int(cap)
    return FamilySpec(query, metric, kind, help_text, values, key, max_series)


# --- columns -----------------------------------------------------------------------------------


def _kind(arrow_type: pa.DataType) -> str:
    """``label``, ``value`` or ``other`` for a column of this Arrow type."""
    import pyarrow as pa

    t = pa.types
    if t.is_string(arrow_type) or t.is_large_string(arrow_type):
        return "label"
    if t.is_dictionary(arrow_type):
        return "label" if t.is_string(arrow_type.value_type) else "other"
    if (
        t.is_integer(arrow_type)
        or t.is_floating(arrow_type)
        or t.is_decimal(arrow_type)
        or t.is_boolean(arrow_type)
        or t.is_timestamp(arrow_type)
        or t.is_date(arrow_type)
        or t.is_interval(arrow_type)
        or t.is_duration(arrow_type)
        or t.is_null(arrow_type)
    ):
        return "value"
    return "other"


def numbers_of(column: pa.ChunkedArray) -> list[float | None]:
    """A value column as floats: timestamps and dates in Unix seconds, intervals in seconds,
    booleans 1/0; NULL stays None."""
    import pyarrow as pa
    import pyarrow.compute as pc

    t = column.type
    if pa.types.is_timestamp(t) or pa.types.is_duration(t):
        per_second = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[t.unit]
        return [None if v is None else v / per_second for v in column.cast(pa.int64()).to_pylist()]
    if pa.types.is_date(t):
        days = column.cast(pa.date32()).cast(pa.int32())
        return [None if v is None else float(v * 86_400) for v in days.to_pylist()]
    if pa.types.is_interval(t):
        return [None if v is None else _interval_seconds(v) for v in column.to_pylist()]
    if pa.types.is_boolean(t):
        return [None if v is None else float(v) for v in column.to_pylist()]
    if pa.types.is_null(t):
        return [None] * len(column)
    return pc.cast(column, pa.float64()).to_pylist()


def _interval_seconds(value: Any) -> float:
    """A month/day/nanosecond interval in seconds (a month counted as 30 days, as DuckDB's epoch())."""
    months, days, nanos = value.months, value.days, value.nanoseconds
    return months * 30 * 86_400 + days * 86_400 + nanos / 1e9


def _label_texts(table: pa.Table, labels: list[str]) -> list[str]:
    """Each row's label set, rendered once for every family of the query: ``{a="x",b="y"}``; a
    NULL or empty label is left out. Built by Arrow's string kernels, column by column: at 10,000
    experiments a Python loop over every label value was a fifth of a refresh.

    >>> import pyarrow as pa
    >>> _label_texts(pa.table({"a": ["x", None, ""], "b": ['q"1', None, "z"]}), ["a", "b"])
    ['{a="x",b="q\\\\"1"}', '', '{b="z"}']
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if not labels:
        return [""] * table.num_rows

    def text(value: str) -> pa.Scalar:
        return pa.scalar(value, pa.string())

    empty = text("")
    pieces = []
    for name in labels:
        column: Any = table.column(name)  # pyarrow-stubs type the kernels' overloads too narrowly
        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        column = column.cast(pa.string())
        for char, escaped in _LABEL_ESCAPES_LIST:
            column = pc.replace_substring(column, char, escaped)
        label = pc.binary_join_element_wise(text(f',{name}="'), column, text('"'), empty)
        absent = pc.fill_null(pc.equal(column, empty), True)
        pieces.append(pc.if_else(absent, empty, label))
    # no NULLs joined: null_handling="skip" lost whole rows of all-NULL labels (pyarrow 26)
    joined = pc.binary_join_element_wise(*pieces, empty)
    inner = pc.utf8_slice_codeunits(joined, 1)  # the first label's leading comma
    wrapped = pc.if_else(
        pc.equal(joined, empty), empty, pc.binary_join_element_wise(text("{"), inner, text("}"), empty)
    )
    return wrapped.to_pylist()


def _key_texts(table: pa.Table, key: Sequence[str]) -> list[str]:
    columns = [[("" if v is None else str(v)) for v in table.column(k).to_pylist()] for k in key]
    return ["\x1f".join(parts) for parts in zip(*columns)]


def _no_duplicates(family: str, texts: list[str], labels: list[str]) -> None:
    seen: set[str] = set()
    for text in texts:
        if text in seen:
            shown = text or "{} (no labels)"
            raise ExportError(
                f"family {family}: two rows have the same labels {shown}",
                hint=f"GROUP BY the label columns ({', '.join(labels) or 'none'}) or add one that tells them apart",
            )
        seen.add(text)


_LABEL_ESCAPES_LIST = (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"))  # the backslash first
_LABEL_ESCAPES = str.maketrans(dict(_LABEL_ESCAPES_LIST))


def escape_label(value: Any) -> str:
    """A label value as the exposition formats quote it.

    >>> escape_label('a "b"\\\\c\\nd')
    'a \\\\"b\\\\"\\\\\\\\c\\\\nd'
    """
    return str(value).translate(_LABEL_ESCAPES)


def format_number(value: float) -> str:
    """A sample value as both text formats write it.

    >>> [format_number(v) for v in (1.0, 0.25, 1763640000.5, float("nan"), float("inf"), -1e300)]
    ['1', '0.25', '1763640000.5', 'NaN', '+Inf', '-1e+300']
    """
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(float(value))
