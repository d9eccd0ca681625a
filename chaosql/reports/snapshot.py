"""``chaosql snapshot``: append the current rows of some tables to the history dataset.

Each table is read through the Session like any query, stamped with ``snapshot_at``, split by
cluster and written as one new Parquet file per (table, day, cluster) partition (layout in
``chaosql/sources/history.py``). A file is written under a hidden name and renamed when complete,
so a reader never sees half a file. Nothing is ever rewritten: snapshots only append.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chaosql.sources.history import partition_dir

DEFAULT_TABLES = ("experiments", "targets", "events")


@dataclass
class Written:
    table: str
    files: list[Path] = field(default_factory=list)
    rows: int = 0
    error: str = ""


def take(
    session: Any,
    root: Path,
    *,
    at: datetime | None = None,
    tables: tuple[str, ...] = DEFAULT_TABLES,
    metrics: tuple[str, ...] = (),
    metrics_window: float = 3600.0,
) -> list[Written]:
    """Snapshot ``tables`` into ``root``, and the samples of each PromQL query in ``metrics`` over
    the ``metrics_window`` seconds up to ``at`` (when a metrics table exists).

    A table whose source fails is reported in its ``Written.error``; the others are still written.
    """
    from chaosql.errors import ChaosqlError

    at = (at or datetime.now(UTC)).astimezone(UTC)
    jobs = [(name, f'SELECT * FROM "{name}"') for name in tables]
    if metrics and "metrics" in session.tables:
        jobs += [("metrics", _metrics_sql(q, at, metrics_window)) for q in metrics]
    done: dict[str, Written] = {}
    for name, sql in jobs:
        written = done.setdefault(name, Written(name))
        try:
            result = session.execute(sql)
        except ChaosqlError as err:
            written.error = str(err)
            continue
        written.rows += result.arrow().num_rows
        written.files += _write(result.arrow(), session.tables[name], root, at)
    return list(done.values())


def _metrics_sql(promql: str, at: datetime, window: float) -> str:
    """The samples of ``promql`` in (at - window, at]; values become sqlglot literals, never pasted text.

    >>> _metrics_sql("up", datetime(2026, 11, 20, 12, tzinfo=UTC), 3600)
    "SELECT * FROM metrics WHERE query = 'up' AND ts > CAST('2026-11-20T11:00:00+00:00' AS TIMESTAMPTZ) AND ts <= CAST('2026-11-20T12:00:00+00:00' AS TIMESTAMPTZ)"
    """
    from datetime import timedelta

    from sqlglot import exp

    def moment(t: datetime) -> exp.Expr:
        return exp.cast(exp.Literal.string(t.isoformat()), "TIMESTAMPTZ")

    condition = exp.and_(
        exp.column("query").eq(exp.Literal.string(promql)),
        exp.column("ts") > moment(at - timedelta(seconds=window)),
        exp.column("ts") <= moment(at),
    )
    return exp.select("*").from_("metrics").where(condition).sql(dialect="duckdb")


def _write(data: Any, table: Any, root: Path, at: datetime) -> list[Path]:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from chaosql.tables._table import arrow_type
    from chaosql.tables.history import SNAPSHOT_AT, cluster_column

    # The file schema: snapshot_at, then the table's declared columns except the partition column.
    by = cluster_column(table)
    fields = [pa.field(SNAPSHOT_AT.name, arrow_type(SNAPSHOT_AT.type))]
    fields += [pa.field(c.name, arrow_type(c.type)) for c in table.columns if c.name != by]
    schema = pa.schema(fields)
    stamp = pa.array([at] * data.num_rows, type=arrow_type("TIMESTAMPTZ"))
    data = data.append_column(SNAPSHOT_AT.name, stamp)
    written = []
    for cluster in sorted(set(data.column(by).to_pylist()), key=str):
        part = data.filter(pc.equal(data.column(by), cluster)) if cluster is not None else data
        columns = [
            part.column(f.name).cast(f.type) if f.name in part.column_names else pa.nulls(part.num_rows, f.type)
            for f in schema
        ]
        out_dir = partition_dir(root, table.name, at.date(), str(cluster))
        out_dir.mkdir(parents=True, exist_ok=True)
        name = f"part-{at.strftime('%Y%m%dT%H%M%SZ')}-{uuid.uuid4().hex[:12]}.parquet"
        tmp = out_dir / f".{name}.tmp"
        try:
            pq.write_table(pa.Table.from_arrays(columns, schema=schema), tmp, compression="zstd")
            os.replace(tmp, out_dir / name)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        written.append(out_dir / name)
    return written
