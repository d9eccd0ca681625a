"""History tables: ``history_<table>`` has the columns of ``<table>`` plus ``snapshot_at``, one row
per row of every snapshot taken with ``chaosql snapshot``, read from a ``history:DIR`` source.

A filter on ``cluster`` or a time range on ``snapshot_at`` prunes partitions: only the
``date=.../cluster=...`` directories that can hold matching rows are read. Every other predicate
is applied by DuckDB. The base table's other key columns are not pushed down (Parquet holds them
as plain columns), so their ``key`` is dropped here and DESCRIBE says so.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from chaosql.tables._table import Col, Feed, Table

if TYPE_CHECKING:
    from chaosql.engine.pushdown import Constraints

SNAPSHOT_AT = Col(
    "snapshot_at", "TIMESTAMPTZ", "When the snapshot that recorded this row was taken (UTC).", key="range"
)


class HistoryFeed(Feed):
    """Rows of ``base`` from the Parquet files of a history source, partitions pruned first."""

    family = "history"

    def __init__(self, base: str, cluster_col: str = "cluster") -> None:
        self.base = base
        self.cluster_col = cluster_col  # the partition column: cluster (metrics: server)

    def fetch(self, source: Any, constraints: Constraints, fetcher: Any) -> Iterator[tuple[str, Any]]:
        first, last = _days(constraints)
        clusters = constraints.values(self.cluster_col)
        per_cluster = source.files(self.base, first=first, last=last, clusters=clusters)
        for cluster, files in per_cluster.items():
            days = sorted({d for d, _ in files})
            span = days[0].isoformat() + ("" if len(days) == 1 else f"..{days[-1].isoformat()}")
            with fetcher.log.timed(
                source.name, cluster, f"read {self.base} date={span}: {len(files)} parquet files"
            ) as call:
                tables = [f.result() for f in [fetcher.submit(source.read, path) for _, path in files]]
                call.items = sum(t.num_rows for t in tables)
            # Arrow all the way: the engine appends a piece in the table's schema as it is
            yield cluster, self._conform(tables, cluster)

    def _conform(self, tables: list, cluster: str) -> Any:
        """The files' rows in the table's schema: the cluster from the path, a column an older
        snapshot lacks as NULLs, every type cast to the declared one."""
        import pyarrow as pa

        assert self.table is not None
        schema = self.table.arrow_schema()
        out = []
        for data in tables:
            columns = []
            for field in schema:
                if field.name == self.cluster_col:
                    columns.append(pa.array([cluster] * data.num_rows, type=field.type))
                elif field.name in data.column_names:
                    columns.append(data.column(field.name).cast(field.type))
                else:
                    columns.append(pa.nulls(data.num_rows, type=field.type))
            out.append(pa.Table.from_arrays(columns, schema=schema))
        return pa.concat_tables(out) if out else schema.empty_table()


def _days(constraints: Constraints) -> tuple[date | None, date | None]:
    """The UTC days a ``snapshot_at`` range can fall on (the ``date=`` partitions to read)."""
    rng = constraints.range("snapshot_at")
    if rng is None:
        return None, None
    return _day(rng.lo), _day(rng.hi)


def _day(value: Any) -> date | None:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).date()
    if isinstance(value, date):
        return value
    return None


def cluster_column(table: Table) -> str:
    """The column a table's rows are partitioned by: the one with the ``cluster`` role."""
    return next((c.name for c in table.columns if c.key == "cluster"), "cluster")


def history_table(base: Table) -> Table:
    """``history_<base>``: ``snapshot_at``, then the base table's columns (only the cluster column keeps its key)."""
    columns = [SNAPSHOT_AT] + [c if c.key == "cluster" else _plain(c) for c in base.columns]
    by = cluster_column(base)
    return Table(
        f"history_{base.name}",
        f"Every row of {base.name} that each chaosql snapshot recorded, with snapshot_at (source history:DIR).",
        columns,
        feeds=[HistoryFeed(base.name, by)],
        examples=[
            (
                f"How many rows of {base.name} did each snapshot record?",
                f"SELECT snapshot_at, {by}, count(*) FROM history_{base.name} GROUP BY ALL ORDER BY ALL",
            )
        ],
    )


def _plain(col: Col) -> Col:
    """The column without pushdown; a parameter column's "required" note does not apply to files."""
    doc = col.doc.split("; required")[0].rstrip(".") + "." if col.exact else col.doc
    return dataclasses.replace(col, key=None, exact=False, doc=doc)
