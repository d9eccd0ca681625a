"""metric_series: one row per series a Prometheus server holds, to discover what to query.

``metric = 'x'`` (or ``IN``) is sent as the series matcher ``{__name__="x"}``; ``match`` takes any
PromQL series selector (``WHERE match = '{job="api"}'``); with neither, every series is listed.
Label names are ``map_keys(labels)``; a label's values are ``DISTINCT labels['key']``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any

from chaosql.tables._table import Col, Feed, Row, Table

if TYPE_CHECKING:
    from chaosql.engine.pushdown import Constraints
    from chaosql.sources.prometheus import PrometheusSource

EVERY_SERIES = '{__name__=~".+"}'

COLUMNS = [
    Col("server", "VARCHAR", "Configured name of the Prometheus server that holds the series.", key="cluster"),
    Col("metric", "VARCHAR", "Metric name (__name__); pushed down as a series matcher.", key="name"),
    Col("labels", "MAP(VARCHAR, VARCHAR)", "The series' labels without __name__."),
    Col(
        "match",
        "VARCHAR",
        "Series selector sent to the server, e.g. '{job=\"api\"}'; filled from WHERE match = ...",
        key="param",
        exact=True,
    ),
]


class SeriesFeed(Feed):
    family = "prometheus"

    def fetch(
        self, source: PrometheusSource, constraints: Constraints, fetcher: Any
    ) -> Iterator[tuple[str, Iterable[Row]]]:
        servers = constraints.values("server")
        if servers is not None and source.name not in servers:
            return
        matches = constraints.values("match")
        names = constraints.values("metric")
        calls: list[tuple[list[str], str | None]]
        if matches:  # one call per selector, so each row can say which one it answers
            calls = [([str(m)], str(m)) for m in sorted(matches, key=str)]
        elif names:
            calls = [(["{__name__=" + json.dumps(str(n)) + "}" for n in sorted(names, key=str)], None)]
        else:
            calls = [([EVERY_SERIES], None)]
        futures = [
            (fetcher.submit(partial(source.series, selectors, log=fetcher.log)), shown) for selectors, shown in calls
        ]
        for future, shown in futures:
            yield source.name, _rows(future.result(), source.name, shown)


def _rows(series: list[dict], server: str, shown: str | None) -> Iterator[Row]:
    for labels in series:
        labels = dict(labels)
        metric = labels.pop("__name__", None)
        yield {"server": server, "metric": metric, "labels": labels, "match": shown}


TABLE = Table(
    "metric_series",
    "One row per series a Prometheus server holds (metric name and labels), to discover what to query.",
    COLUMNS,
    feeds=[SeriesFeed()],
    examples=[
        ("Which metrics does the server have?", "SELECT DISTINCT metric FROM metric_series ORDER BY 1"),
        (
            "Which labels does http_requests_total carry?",
            "SELECT DISTINCT unnest(map_keys(labels)) FROM metric_series WHERE metric = 'http_requests_total'",
        ),
    ],
)
