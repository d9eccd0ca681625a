"""History source: the Parquet dataset ``chaosql snapshot --to DIR`` appends to, read back.

Layout (hive-style, so Spark, Trino, Athena and DuckDB read it as a partitioned table)::

    DIR/<table>/date=YYYY-MM-DD/cluster=<name>/part-<snapshot time>-<uuid>.parquet

``date`` is the UTC day of ``snapshot_at``; ``cluster`` is URL-encoded as hive does. The files hold
``snapshot_at`` and the table's columns except ``cluster`` (which the path carries). Files whose
name starts with ``.`` or ``_`` are in-progress or metadata, and are skipped like Spark skips them.

This source only finds and reads files: the ``history_*`` tables (``chaosql/tables/history.py``)
decide which partitions a query needs.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote

from chaosql.errors import SourceError

if TYPE_CHECKING:
    import pyarrow as pa


def partition_dir(root: Path, table: str, day: date, cluster: str) -> Path:
    """Where one day's rows of one cluster go.

    >>> partition_dir(Path("/h"), "events", date(2026, 11, 20), "prod/eu").as_posix()
    '/h/events/date=2026-11-20/cluster=prod%2Feu'
    """
    return root / table / f"date={day.isoformat()}" / f"cluster={quote(cluster, safe='')}"


class HistorySource:
    """Rows of earlier snapshots, from Parquet files under ``path``."""

    family = "history"
    kind_label = "history"

    def __init__(self, path: str | os.PathLike, *, name: str | None = None) -> None:
        self.path = Path(path)
        self.name = name or "history"
        self.warnings: list[str] = []

    def describe(self) -> str:
        return f"{self.kind_label} {self.path}"

    def close(self) -> None:
        """Nothing to release: each Parquet file is opened and closed by ``read``."""

    def files(
        self, table: str, *, first: date | None = None, last: date | None = None, clusters: frozenset[str] | None = None
    ) -> dict[str, list[tuple[date, Path]]]:
        """Parquet files of ``table`` per cluster, only from the partitions the bounds allow."""
        if not self.path.is_dir():
            raise SourceError(
                f"history source {self.name!r}: {self.path} does not exist",
                source=self.name,
                hint="take a snapshot first (chaosql snapshot --to DIR), or fix the path",
            )
        found: dict[str, list[tuple[date, Path]]] = {}
        base = self.path / table
        if not base.is_dir():
            return found  # nothing of this table snapshotted yet
        for day_dir in sorted(base.iterdir()):
            day = _value(day_dir.name, "date")
            try:
                day_value = date.fromisoformat(day) if day else None
            except ValueError:
                day_value = None
            if day_value is None or (first and day_value < first) or (last and day_value > last):
                continue
            for cluster_dir in sorted(day_dir.iterdir()):
                cluster = _value(cluster_dir.name, "cluster")
                if cluster is None or (clusters is not None and cluster not in clusters):
                    continue
                for file in sorted(cluster_dir.glob("*.parquet")):
                    if not file.name.startswith((".", "_")):
                        found.setdefault(cluster, []).append((day_value, file))
        return found

    def read(self, file: Path) -> pa.Table:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            return pq.read_table(file)
        except (OSError, pa.ArrowException) as err:
            raise SourceError(f"history source {self.name!r}: cannot read {file}: {err}", source=self.name) from err


def _value(dirname: str, key: str) -> str | None:
    name, eq, value = dirname.partition("=")
    return unquote(value) if eq and name == key else None


def open_history(name: str, spec: str, config: dict) -> HistorySource:
    """``history:DIR`` or a ``[sources.NAME] type = "history"`` section with ``path``."""
    from chaosql.errors import UsageError

    path = spec or (config.get("source") or {}).get("path")
    if not path:
        raise UsageError("history source needs a directory", hint="use --source history:DIR")
    return HistorySource(Path(path).expanduser(), name=name or "history")
