"""metrics: one row per sample of a PromQL query, from each configured Prometheus server.

The PromQL comes from the ``query`` column's own filter (``WHERE query = 'up'``; ``IN`` runs
each), the time range from constant predicates on ``ts`` and the resolution from ``step``:

- no bound on ``ts``: an instant query at the server's now;
- ``ts = T`` or ``ts IN (T1, T2)``: an instant query at each time (whole milliseconds, as
  Prometheus evaluates; ``now()`` is one);
- a range (``>``, ``>=``, ``<``, ``<=``, ``BETWEEN``): a range query; a missing upper bound is
  now, a missing lower bound is one hour before the upper one (with a warning);
- ``step``: seconds (``step = 15``) or a duration (``step = '1m'``); by default about 250 points
  over the range, never less than 1 s.

Times written without a zone are in the session's ``TimeZone``, as DuckDB reads them. What
Prometheus cannot be asked is refused rather than answered with nothing: ``ts`` compared with
another table's column or a subquery without a constant range, exact times OR-ed with a range.

DuckDB applies every predicate again, so an exclusive bound drops the sample that Prometheus
returns on it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from chaosql.errors import SqlError
from chaosql.tables._table import Col, Feed, Rows, Table

if TYPE_CHECKING:
    import pyarrow as pa

    from chaosql.engine.pushdown import Constraints, Range
    from chaosql.sources.prometheus import PrometheusSource, Series

#: Points a range query aims for when no step is given, as Grafana and the Prometheus UI do.
DEFAULT_POINTS = 250
#: A range with no lower bound looks back this far from its upper bound.
DEFAULT_LOOKBACK = timedelta(hours=1)
EXAMPLE_QUERY = "rate(http_requests_total[1m])"

COLUMNS = [
    Col("server", "VARCHAR", "Configured name of the Prometheus server that answered.", key="cluster"),
    Col(
        "query", "VARCHAR", "The PromQL that produced the row; required: WHERE query = '...'.", key="param", exact=True
    ),
    Col("ts", "TIMESTAMPTZ", "Sample time (evaluation time of the query), UTC; bounds the queried range.", key="range"),
    Col("metric", "VARCHAR", "Metric name (__name__); NULL when the query's result has none, e.g. rate()."),
    Col("labels", "MAP(VARCHAR, VARCHAR)", "The series' labels without __name__; labels['pod'] reads one."),
    Col("value", "DOUBLE", "Sample value (NaN and ±Inf as Prometheus returns them)."),
    Col(
        "step",
        "VARCHAR",
        "Resolution of a range query, as text: seconds or a duration such as '30s'; "
        "NULL for an instant query without a step filter.",
        key="param",
        exact=True,
    ),
]


@dataclass(frozen=True)
class Plan:
    """What to ask Prometheus: an instant query (``start is None``) at ``end``, or a range query."""

    start: datetime | None
    end: datetime | None
    step: float | None

    def describe(self) -> str:
        if self.start is None:
            return f"instant query at {self.end.isoformat() if self.end else 'now'}"
        assert self.end is not None and self.step is not None  # a range has both ends and a step
        return f"range {self.start.isoformat()} .. {self.end.isoformat()} step {self.step:g}s"


def plan(
    rng: Range | None, step: float | None, *, now: datetime | None = None, unbounded: bool = False
) -> tuple[list[Plan], list[str]]:
    """The queries to run for a ``ts`` range and an optional step: an instant query per exact time
    asked for, else one range query; none when the range is empty.

    ``unbounded``: the statement compares ``ts`` with values from other rows (a join, a subquery),
    which Prometheus cannot be asked for; without a constant range that is refused, since an
    instant query at now would answer nothing the comparison keeps.

    >>> from chaosql.engine.pushdown import Range
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> plan(Range(t, True, t + timedelta(minutes=10), True), None)[0][0].describe()
    'range 2026-01-01T00:00:00+00:00 .. 2026-01-01T00:10:00+00:00 step 3s'
    >>> [p.describe() for p in plan(Range.of_points([t, t + timedelta(hours=1)]), None)[0]]
    ['instant query at 2026-01-01T00:00:00+00:00', 'instant query at 2026-01-01T01:00:00+00:00']
    >>> plan(None, None)[0][0].describe()
    'instant query at now'
    """
    if rng is None or (rng.lo is None and rng.hi is None and rng.points is None):
        if unbounded:
            raise SqlError(
                "metrics: ts is compared with values known only while the statement runs (another table's "
                "column, a subquery or a bind parameter), and no constant range says which times to ask "
                "Prometheus for",
                sqlstate="0A000",
                hint="add constant bounds on the metrics side, e.g. AND m.ts BETWEEN TIMESTAMPTZ '...' AND "
                "TIMESTAMPTZ '...' (a range query) or ts IN (...) (instant queries); "
                "for windows around experiments use the impact table",
            )
        return [Plan(None, None, None)], []
    if rng.points is not None:
        return [Plan(None, _instant(t), None) for t in sorted(t for t in map(as_time, rng.points) if t)], []
    if rng.points_widened:
        raise SqlError(
            "metrics: exact times (ts = ..., ts IN (...)) are OR-ed with a range of ts, and a range query "
            "evaluates only on its step grid, so it would miss the exact times",
            sqlstate="0A000",
            hint="ask for the exact times and the range in two SELECTs joined by UNION ALL",
        )
    lo, hi = as_time(rng.lo), as_time(rng.hi)
    notes = []
    if lo is not None and hi is not None and lo == hi:
        return ([Plan(None, _instant(lo), None)] if rng.lo_incl and rng.hi_incl else []), []
    if hi is None:
        hi = now or datetime.now(UTC)
    if lo is None:
        lo = hi - DEFAULT_LOOKBACK
        notes.append(f"no lower bound on ts: queried the hour before {hi.isoformat()}")
    if lo > hi:
        return [], notes
    if step is None:
        step = max(1.0, math.ceil((hi - lo).total_seconds() / DEFAULT_POINTS))
    return [Plan(lo, hi, step)], notes


def _instant(when: datetime) -> datetime:
    """An exact time to evaluate at: Prometheus resolves milliseconds, so a finer time is refused
    (its samples would carry the rounded time, which ``ts = ...`` then filters out)."""
    if when.microsecond % 1000:
        rounded = when.replace(microsecond=when.microsecond // 1000 * 1000)
        raise SqlError(
            f"metrics: Prometheus evaluates at whole milliseconds, and ts = {when.isoformat()} is not one",
            sqlstate="22023",
            hint=f"write ts = TIMESTAMPTZ '{rounded.isoformat()}', or a range of ts",
        )
    return when


def as_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return None  # a bound chaosql cannot read as a time: query as if unbounded on that side


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)")
_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


def parse_duration(value: Any, *, what: str = "step") -> float:
    """Seconds in a number or a Prometheus duration such as ``1m30s``.

    >>> parse_duration(15), parse_duration("1m30s"), parse_duration("0.5"), parse_duration("2h")
    (15.0, 90.0, 0.5, 7200.0)
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        text = str(value).strip()
        parts = _DURATION.findall(text)
        try:
            seconds = float(text)
        except ValueError:
            if not parts or "".join(n + u for n, u in parts) != text:
                raise SqlError(
                    f"{what} {value!r} is neither seconds nor a duration",
                    sqlstate="22023",
                    hint=f"write e.g. {what} = 30 or {what} = '1m'",
                ) from None
            seconds = sum(float(n) * _SECONDS[u] for n, u in parts)
    if not seconds > 0 or math.isinf(seconds):
        raise SqlError(f"{what} must be more than 0 seconds, not {value!r}", sqlstate="22023")
    return seconds


def need_query(constraints: Constraints, table: str) -> list[str]:
    """The PromQL texts a reference asks for, or the error that says how to ask."""
    queries = constraints.values("query")
    if not queries:
        raise SqlError(
            f"{table} needs a PromQL query: add WHERE query = '{EXAMPLE_QUERY}' (or query IN (...))",
            sqlstate="42P10",
            hint="the predicate must sit in the SELECT that reads the table, not in an outer query "
            "(and SET chaosql.pushdown must be on)",
        )
    return sorted(str(q) for q in queries)


def samples_table(series: Iterable[Series], schema: pa.Schema, **fixed: Any) -> pa.Table:
    """The samples as Arrow, one record batch per series built column by column: a day of 100
    series at 15 s is 576,000 samples, too many for a Python dict each. ``fixed`` columns (query,
    server, step) are the same on every row."""
    import pyarrow as pa
    import pyarrow.compute as pc

    batches = []
    for one in series:
        samples = one.samples
        if not samples:
            continue
        labels = dict(one.labels)
        values = {**fixed, "metric": labels.pop("__name__", None)}
        arrays = []
        for column in schema:
            if column.name == "ts":  # Prometheus times have millisecond resolution: round to it
                millis = pc.round(pc.multiply(pa.array([t for t, _ in samples], type=pa.float64()), 1000.0))
                arrays.append(pc.multiply(millis.cast(pa.int64()), 1000).cast(column.type))
            elif column.name == "value":
                arrays.append(pa.array([v for _, v in samples], type=column.type))
            elif column.name == "labels":
                arrays.append(pa.repeat(pa.scalar(list(labels.items()), type=column.type), len(samples)))
            else:
                arrays.append(pa.repeat(pa.scalar(values.get(column.name), type=column.type), len(samples)))
        batches.append(pa.RecordBatch.from_arrays(arrays, schema=schema))
    return pa.Table.from_batches(batches, schema=schema)


class PrometheusFeed(Feed):
    """Rows of ``metrics`` from one Prometheus server: one call per query and step asked for."""

    family = "prometheus"

    def fetch(self, source: PrometheusSource, constraints: Constraints, fetcher: Any) -> Iterator[tuple[str, Rows]]:
        servers = constraints.values("server")
        if servers is not None and source.name not in servers:
            return
        queries = need_query(constraints, "metrics")
        assert self.table is not None  # a feed is bound to its table when the table is made
        schema = self.table.arrow_schema()
        steps = constraints.values("step")
        runs = []
        for step_value in sorted(steps, key=str) if steps else [None]:
            step = parse_duration(step_value) if step_value is not None else None
            found, notes = plan(constraints.range("ts"), step, unbounded="ts" in constraints.unbounded)
            for note in notes:
                if f"metrics: {note}" not in fetcher.warnings:
                    fetcher.warnings.append(f"metrics: {note}")
            for one in found:
                # a step filter is echoed as written (DuckDB checks it again); else the step used, if any
                shown_step = (
                    str(step_value) if step_value is not None else (None if one.start is None else f"{one.step:g}")
                )
                for promql in queries:
                    runs.append((promql, shown_step, fetcher.submit(_run, source, promql, one, fetcher.log)))
        for promql, shown_step, future in runs:
            # an Arrow table in the table's schema: the engine appends it as it is
            yield source.name, samples_table(future.result(), schema, query=promql, server=source.name, step=shown_step)


def _run(source: PrometheusSource, promql: str, found: Plan, log: Any) -> list[Series]:
    if found.start is None:
        return source.query(promql, at=found.end, log=log)
    assert found.end is not None and found.step is not None  # a range has both ends and a step
    return source.query_range(promql, found.start, found.end, found.step, log=log)


TABLE = Table(
    "metrics",
    "One row per sample of a PromQL query (WHERE query = '...'), over the ts range asked for.",
    COLUMNS,
    feeds=[PrometheusFeed()],
    examples=[
        (
            "What is the request rate per pod right now?",
            "SELECT labels['pod'] AS pod, value FROM metrics WHERE query = 'sum by (pod) (rate(http_requests_total[1m]))'",
        ),
        (
            "How did p99 latency move over the last hour, minute by minute?",
            "SELECT ts, value FROM metrics WHERE query = 'histogram_quantile(0.99, sum by (le) "
            "(rate(http_request_duration_seconds_bucket[5m])))' AND ts > now() - INTERVAL 1 HOUR AND step = '1m'",
        ),
    ],
)
