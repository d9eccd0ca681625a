"""Run a report's queries, one section at a time, and say what each outcome means for cron.

A section's outcome is one of:

- ``ok``: the query ran (and its check, if any, passed);
- ``check-failed``: the query ran and its check failed (exit 3);
- ``source-failed``: a source was down, refused or too slow (``timeout``): exit 4, the rest goes on;
- ``error``: the query itself is wrong (SQL error, a chart naming a missing column): exit 1.

Each distinct set of sources gets its own Session, so a section reading only the history never
touches a live cluster that is down, and a section's timeout is that session's setting.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from chaosql.reports import EXIT_CHECK_FAILED, EXIT_ERROR, EXIT_OK, EXIT_PARTIAL, worst
from chaosql.reports.definition import QuerySpec, Report

OK, CHECK_FAILED, SOURCE_FAILED, ERROR = "ok", "check-failed", "source-failed", "error"
EXIT_OF = {OK: EXIT_OK, CHECK_FAILED: EXIT_CHECK_FAILED, SOURCE_FAILED: EXIT_PARTIAL, ERROR: EXIT_ERROR}


class LazyRows(Sequence):
    """A result's rows as tuples, converted from Arrow only where they are read: a report shows
    the first rows of a big result and checks its count without turning all of it into Python."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def __len__(self) -> int:
        return self._table.num_rows

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            rows = _tuples(self._table.slice(start, max(0, stop - start)))
            return rows[::step] if step != 1 else rows
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return _tuples(self._table.slice(index, 1))[0]

    def __iter__(self) -> Iterator[tuple]:
        for batch in self._table.to_batches():
            yield from _tuples(batch)


def _tuples(table: Any) -> list[tuple]:
    if not table.num_columns:
        return [()] * table.num_rows
    return list(zip(*(column.to_pylist() for column in table.columns)))


@dataclass
class Section:
    spec: QuerySpec
    status: str = OK
    message: str = ""  # the error, or what the check found
    columns: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    rows: Sequence[tuple] = field(default_factory=list)
    elapsed: float = 0.0
    warnings: list[str] = field(default_factory=list)
    chart_error: str = ""

    @property
    def failed(self) -> bool:
        return self.status != OK


@dataclass
class Outcome:
    sections: list[Section] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return worst([EXIT_OF[s.status] for s in self.sections])

    def count(self, status: str) -> int:
        return sum(1 for s in self.sections if s.status == status)


SessionFactory = Callable[[tuple[str, ...], float | None], Any]


def run(report: Report, open_session: SessionFactory, *, timeout: float | None = None) -> Iterator[Section]:
    """Run each query of ``report`` in order and yield its Section as soon as it is done.

    ``open_session(source_names, timeout)`` makes a Session over those of the report's sources.
    """
    from chaosql.errors import SourceError

    sessions: dict[tuple[str, ...], Any] = {}
    defaults: dict[tuple[str, ...], float] = {}
    try:
        for spec in report.queries:
            names = tuple(spec.sources if spec.sources is not None else report.sources)
            if names not in sessions:
                try:
                    sessions[names] = open_session(names, timeout)
                    defaults[names] = sessions[names].settings["timeout"]
                except SourceError as err:  # a source that cannot even be opened fails its sections only
                    sessions[names] = err
            if isinstance(sessions[names], SourceError):
                yield Section(spec, status=SOURCE_FAILED, message=str(sessions[names]))
                continue
            # a section without its own timeout gets the session's, not the previous section's
            yield run_section(spec, sessions[names], timeout=spec.timeout or defaults[names])
    finally:
        for session in sessions.values():
            if not isinstance(session, SourceError):
                session.close()


def run_section(spec: QuerySpec, session: Any, *, timeout: float | None = None) -> Section:
    from chaosql.errors import ChaosqlError, QueryCancelled, SourceError, WriteFailed

    section = Section(spec)
    started = time.perf_counter()
    if timeout:
        session.set("timeout", timeout)
    try:
        result = session.execute(spec.sql)
        section.columns, section.types = result.columns, result.types
        section.rows = LazyRows(result.arrow())
        section.warnings = list(result.warnings)
    except QueryCancelled as err:
        statement = getattr(session, "statement", None)
        if statement is not None and not statement.timed_out:
            raise  # interrupted (SIGINT, SIGTERM): the report stops; a write says what it rolled back
        section.status = SOURCE_FAILED
        timed_out = f"timed out after {session.settings['timeout']:g} s (the timeout setting)"
        section.message = f"{timed_out}: {err}" if isinstance(err, WriteFailed) else timed_out
    except SourceError as err:
        section.status = SOURCE_FAILED
        section.message = str(err)
    except ChaosqlError as err:
        section.status = ERROR
        section.message = str(err)
    section.elapsed = time.perf_counter() - started
    if section.status == OK and spec.check:
        problem = spec.check.verify(section.columns, section.rows)
        if problem:
            section.status, section.message = CHECK_FAILED, problem
    if section.status in (OK, CHECK_FAILED) and spec.chart and spec.format in ("chart", "both"):
        from chaosql.reports.charts import ChartError, check_columns

        try:
            check_columns(spec.chart, section.columns)
        except ChartError as err:  # the table still renders; the report's author must fix the chart
            section.chart_error = str(err)
            if section.status == OK:
                section.status, section.message = ERROR, str(err)
    return section
