"""Result: one statement's answer, materialised or streamed, with what it cost."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chaosql.sources.base import Call

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass
class Result:
    """One statement's answer: columns, Arrow data (materialised or streamed) and what it cost."""

    columns: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    status: str = ""
    elapsed: float = 0.0
    calls: list[Call] = field(default_factory=list)
    pushdown: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: when the answer given was computed, if it was a kept one reused (``engine.answers``)
    reused: float | None = None
    answer: Any = None  # that kept answer (front ends keep their encoding of it there)
    _table: pa.Table | None = None
    _reader: pa.RecordBatchReader | None = None
    _reading: pa.RecordBatchReader | None = field(default=None, repr=False)  # the stream batches() is reading

    @property
    def has_rows(self) -> bool:
        return self._table is not None or self._reader is not None

    def arrow(self) -> pa.Table:
        """The whole result as an Arrow table (reads a streamed result to the end)."""
        if self._table is None:
            import pyarrow as pa

            if self._reader is not None:
                self._table = self._reader.read_all()
                self._reader = None
            else:
                self._table = pa.table({})
        return self._table

    def batches(self) -> Iterator[pa.RecordBatch]:
        """Record batches, without materialising a streamed result."""
        if self._reader is not None:
            reader, self._reader = self._reader, None
            self._reading = reader
            try:
                yield from reader
            finally:
                self._reading = None
                reader.close()
        else:
            yield from self.arrow().to_batches()

    def close(self) -> None:
        """Release a streamed result's DuckDB query now, read or not: DuckDB runs no other
        statement on the connection while one is open."""
        for reader in (self._reader, self._reading):
            if reader is not None:
                reader.close()
        self._reader = self._reading = None

    def rows(self) -> list[tuple]:
        table = self.arrow()
        return list(zip(*(col.to_pylist() for col in table.columns))) if table.num_columns else []

    def dicts(self) -> list[dict]:
        return self.arrow().to_pylist()

    def scalar(self) -> Any:
        rows = self.rows()
        return rows[0][0] if rows else None

    @classmethod
    def of_columns(cls, names: list[str], columns: list[list], types: list[str]) -> Result:
        """A small materialised result from Python lists (SHOW TABLES, EXPLAIN, ...)."""
        import pyarrow as pa

        table = pa.table(dict(zip(names, columns)))
        return cls(columns=names, types=types, status=f"SELECT {table.num_rows}", _table=table)
