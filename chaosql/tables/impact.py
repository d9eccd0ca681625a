"""impact: what a PromQL query did before, during and after each selected experiment.

For every experiment the filters select (``cluster``, ``namespace``, ``name``, ``kind`` are
pushed down to the experiments fetch), three windows are queried, each with its own range query,
so only those time ranges are read from Prometheus:

- ``before`` = [start - before, start), ``during`` = [start, end), ``after`` = [end, end + after);
- start is the experiment's ``created_at``; end is the earlier of ``ends_at`` (start + duration)
  and ``deleted_at``, else now (still running: no ``after`` window yet);
- ``before``/``after`` default to 5 minutes (``WHERE before = '10m'`` changes them), the step to
  about 250 points per window, at least 1 s (``WHERE step = '15s'``).

One row per experiment, window and series the query returns, with statistics over the values
evaluated at each step (NaN left out). ``{{namespace}}``, ``{{name}}``, ``{{cluster}}`` and
``{{kind}}`` in the PromQL are replaced by the experiment's own values.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from chaosql.errors import SqlError
from chaosql.tables._common import CLUSTER, NAME, NAMESPACE
from chaosql.tables._table import Col, Feed, Row, Table
from chaosql.tables.metrics import DEFAULT_POINTS, as_time, need_query, parse_duration

if TYPE_CHECKING:
    from chaosql.engine.pushdown import Constraints
    from chaosql.sources.prometheus import PrometheusSource, Series

DEFAULT_WINDOW = "5m"
#: More experiments than this in one statement is refused: each costs three range queries per server.
MAX_EXPERIMENTS = 200
WINDOWS = ("before", "during", "after")
_PLACEHOLDERS = ("cluster", "namespace", "name", "kind")

COLUMNS = [
    CLUSTER,
    NAMESPACE,
    NAME,
    Col("kind", "VARCHAR", "Chaos kind of the experiment, e.g. NetworkChaos.", key="kind"),
    Col(
        "started_at",
        "TIMESTAMPTZ",
        "Start of the experiment (created_at); a range on it selects experiments.",
        key="range",
    ),
    Col("ended_at", "TIMESTAMPTZ", "End of the experiment: the earlier of ends_at and deleted_at; NULL while it runs."),
    Col(
        "query",
        "VARCHAR",
        "The PromQL asked for (may use {{namespace}}, {{name}}, ...); required.",
        key="param",
        exact=True,
    ),
    Col("server", "VARCHAR", "Configured name of the Prometheus server that answered.", key="param"),
    Col("window", "VARCHAR", "before, during or after the experiment."),
    Col("ts_from", "TIMESTAMPTZ", "Start of the window (included), UTC."),
    Col("ts_to", "TIMESTAMPTZ", "End of the window (excluded), UTC."),
    Col("metric", "VARCHAR", "Metric name (__name__) of the series, if the result has one."),
    Col("labels", "MAP(VARCHAR, VARCHAR)", "Labels of the series without __name__; NULL when the window had no data."),
    Col("samples", "BIGINT", "Values evaluated in the window (one per step; NaN left out); 0 when there was no data."),
    Col("avg", "DOUBLE", "Mean of the values in the window."),
    Col("min", "DOUBLE", "Smallest value in the window."),
    Col("max", "DOUBLE", "Largest value in the window."),
    Col("p50", "DOUBLE", "Median of the values (linear interpolation)."),
    Col("p99", "DOUBLE", "99th percentile of the values (linear interpolation)."),
    Col("before", "VARCHAR", "Length of the before window, e.g. '5m' (default) or '600'.", key="param", exact=True),
    Col("after", "VARCHAR", "Length of the after window, e.g. '5m' (default).", key="param", exact=True),
    Col(
        "step",
        "VARCHAR",
        "Step of the range queries, e.g. '15s'; default about 250 points per window.",
        key="param",
        exact=True,
    ),
]


def windows(
    start: datetime, end: datetime | None, before: float, after: float, now: datetime
) -> list[tuple[str, datetime, datetime]]:
    """The windows of one experiment; ``after`` only once it has begun.

    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> [(w, str(a.time()), str(b.time())) for w, a, b in windows(t, t + timedelta(minutes=10), 300, 300, t + timedelta(days=1))]
    [('before', '23:55:00', '00:00:00'), ('during', '00:00:00', '00:10:00'), ('after', '00:10:00', '00:15:00')]
    """
    end = min(end, now) if end is not None else now
    end = max(end, start)
    out = [("before", start - timedelta(seconds=before), start), ("during", start, end)]
    if end < now:
        out.append(("after", end, min(end + timedelta(seconds=after), now)))
    return out


def stats(values: Sequence[float]) -> dict[str, Any]:
    """Count, mean, extremes and quantiles of ``values``, NaN left out.

    >>> stats([1.0, 2.0, 3.0, 4.0, float("nan")])
    {'samples': 4, 'avg': 2.5, 'min': 1.0, 'max': 4.0, 'p50': 2.5, 'p99': 3.9699999999999998}
    """
    kept = sorted(v for v in values if not math.isnan(v))
    if not kept:
        return {"samples": 0, "avg": None, "min": None, "max": None, "p50": None, "p99": None}
    return {
        "samples": len(kept),
        "avg": math.fsum(kept) / len(kept),
        "min": kept[0],
        "max": kept[-1],
        "p50": _quantile(kept, 0.5),
        "p99": _quantile(kept, 0.99),
    }


def _quantile(ordered: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks, as DuckDB's quantile_cont does."""
    pos = (len(ordered) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    if math.isinf(ordered[lo]) or math.isinf(ordered[hi]) or lo == hi:
        return ordered[lo] if pos - lo < 0.5 or lo == hi else ordered[hi]
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def fill(promql: str, experiment: dict) -> str:
    """The PromQL with ``{{cluster}}``, ``{{namespace}}``, ``{{name}}``, ``{{kind}}`` filled in.

    >>> fill('up{namespace="{{namespace}}"}', {"namespace": "shop"})
    'up{namespace="shop"}'
    """
    for key in _PLACEHOLDERS:
        promql = promql.replace("{{" + key + "}}", str(experiment.get(key) or ""))
    return promql


class ImpactFeed(Feed):
    """Reads the experiments through their own feeds, then asks each Prometheus server per window."""

    family = "*"  # sees every source: experiments come from kube/chaosd, samples from prometheus

    def fetch(self, sources: list[Any], constraints: Constraints, fetcher: Any) -> Iterator[tuple[str, Iterable[Row]]]:
        queries = need_query(constraints, "impact")
        params = {k: _one(constraints, k) for k in ("before", "after", "step")}
        before = parse_duration(params["before"] or DEFAULT_WINDOW, what="before")
        after = parse_duration(params["after"] or DEFAULT_WINDOW, what="after")
        step = parse_duration(params["step"]) if params["step"] else None
        wanted_servers = constraints.values("server")
        servers = [
            s for s in sources if s.family == "prometheus" and (wanted_servers is None or s.name in wanted_servers)
        ]
        if not servers:
            fetcher.warnings.append(
                "impact: no prometheus source is configured (or none matches server), so it is empty"
            )
            return
        experiments = [
            e
            for e in self._experiments(sources, constraints, fetcher)
            if e["created_at"] is not None and _within(e["created_at"], constraints.range("started_at"))
        ]
        if len(experiments) > MAX_EXPERIMENTS:
            raise SqlError(
                f"impact selected {len(experiments)} experiments, more than {MAX_EXPERIMENTS}; "
                f"each costs {len(WINDOWS)} range queries per server",
                sqlstate="54000",
                hint="narrow it on impact itself: WHERE cluster/namespace/kind/name = ... "
                "or started_at > now() - INTERVAL 1 DAY",
            )
        now = datetime.now(UTC)
        shown = {
            "before": params["before"] or DEFAULT_WINDOW,
            "after": params["after"] or DEFAULT_WINDOW,
            "step": params["step"],
        }
        jobs = []
        for exp_row in experiments:
            start = exp_row["created_at"]
            ends = [t for t in (exp_row["ends_at"], exp_row["deleted_at"]) if t is not None]
            end = min(ends) if ends else None
            identity = {key: exp_row[key] for key in _PLACEHOLDERS} | {
                "started_at": start,
                "ended_at": end if end is not None and end <= now else None,
            }
            for window, lo, hi in windows(start, end, before, after, now):
                for server in servers:
                    if not server.watches(exp_row["cluster"]):
                        continue
                    for promql in queries:
                        future = fetcher.submit(
                            _window_series, server, fill(promql, exp_row), lo, hi, step, fetcher.log
                        )
                        jobs.append(
                            (
                                identity
                                | shown
                                | {
                                    "query": promql,
                                    "server": server.name,
                                    "window": window,
                                    "ts_from": lo,
                                    "ts_to": hi,
                                },
                                future,
                            )
                        )
        for base, future in jobs:
            yield base["cluster"], _rows(base, future.result())

    def _experiments(self, sources: list[Any], constraints: Constraints, fetcher: Any) -> list[dict]:
        from chaosql.engine.fetch import fetch_table
        from chaosql.engine.pushdown import Constraints
        from chaosql.tables import registry

        experiments = registry()["experiments"]
        narrowed = Constraints({k: v for k, v in constraints.eq.items() if k in _PLACEHOLDERS})
        wanted = ["cluster", "namespace", "name", "kind", "created_at", "ends_at", "deleted_at"]
        data = fetch_table(experiments, [s for s in sources if s.family != "prometheus"], narrowed, fetcher)
        rows = data.select(wanted).to_pylist()
        # the experiments feed may return more than asked (pushdown is an optimisation): filter here
        return [r for r in rows if all(r[k] in v for k in _PLACEHOLDERS if (v := narrowed.values(k)) is not None)]


def _within(value: datetime, rng: Any) -> bool:
    """Whether ``value`` lies in the pushed-down range (``None``: no range)."""
    if rng is None:
        return True
    lo, hi = as_time(rng.lo), as_time(rng.hi)
    try:
        if lo is not None and (value < lo or (value == lo and not rng.lo_incl)):
            return False
        if hi is not None and (value > hi or (value == hi and not rng.hi_incl)):
            return False
    except TypeError:  # a bound that is not a time: leave the filtering to DuckDB
        return True
    return True


def _one(constraints: Constraints, column: str) -> str | None:
    values = constraints.values(column)
    if not values:
        return None
    if len(values) > 1:
        raise SqlError(f"impact takes one {column} per statement, not {len(values)}", sqlstate="22023")
    return str(next(iter(values)))


def _window_series(
    server: PrometheusSource, promql: str, lo: datetime, hi: datetime, step: float | None, log: Any
) -> list[Series]:
    if hi <= lo:
        return []
    step = step or max(1.0, math.ceil((hi - lo).total_seconds() / DEFAULT_POINTS))
    found = server.query_range(promql, lo, hi, step, log=log)
    end = hi.timestamp()
    # range queries include their end; the window excludes it, so the next window owns that sample
    return [s.__class__(s.labels, [p for p in s.samples if p[0] < end - 1e-6]) for s in found]


def _rows(base: dict, series: list[Series]) -> Iterator[Row]:
    if not series or all(not s.samples for s in series):
        yield base | {"metric": None, "labels": None} | stats([])
        return
    for one in series:
        if not one.samples:
            continue
        labels = dict(one.labels)
        metric = labels.pop("__name__", None)
        yield base | {"metric": metric, "labels": labels} | stats([v for _, v in one.samples])


TABLE = Table(
    "impact",
    "What a PromQL query did before, during and after each experiment selected (WHERE query = '...').",
    COLUMNS,
    feeds=[ImpactFeed()],
    examples=[
        (
            "Did this NetworkChaos raise p99 latency, and by how much?",
            "SELECT window, avg FROM impact WHERE query = 'histogram_quantile(0.99, sum by (le) "
            '(rate(http_request_duration_seconds_bucket{namespace="{{namespace}}"}[1m])))\' '
            "AND namespace = 'shop' AND name = 'net-delay-1' ORDER BY ts_from",
        ),
    ],
)
