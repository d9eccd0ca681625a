"""The report definition: a TOML file naming the title, sources, parameters and queries.

::

    title = "Nightly chaos report"
    format = "html"                  # markdown | html | json (--format or --out's suffix override it)
    timeout = 60                     # seconds each query may run (the session setting timeout)
    limit = 50                       # rows each section shows unless its query sets limit

    [sources]                        # name = spec, as for --source (default: config, else demo)
    live = "demo"
    history = "history:/var/lib/chaosql/history"

    [params]                         # values for every query that declares a parameter of that name
    now = "2026-11-20T12:00:00Z"

    [[query]]
    name = "stuck-injecting"         # a saved query (see chaosql queries) ...
    params = { minutes = 30 }
    check = "empty"                  # or { column = "n", min = 1, max = 10 }; false: no check
    sources = ["live"]               # only these sources (default: all of the report's)

    [[query]]
    title = "Phase mix"              # ... or inline SQL
    sql = "SELECT phase, cluster, count(*) AS n FROM experiments GROUP BY ALL"
    format = "both"                  # table | chart | both | csv | json
    chart = { type = "bar", x = "phase", y = "n", series = "cluster" }

Everything is checked when the file is read, before any query runs: a mistake is a usage error
(exit 2) naming the file and the query.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from chaosql.definitions import no_unknown as _no_unknown
from chaosql.definitions import read_toml
from chaosql.definitions import subtable as _table
from chaosql.definitions import text as _text
from chaosql.errors import UsageError
from chaosql.reports.checks import Check
from chaosql.reports.saved import FORMATS, SavedQuery, describe, parse_chart, parse_text

DOCUMENT_FORMATS = ("markdown", "html", "json", "csv")  # csv: one file per query in --out DIR
_TOP_KEYS = {"title", "description", "format", "timeout", "sources", "params", "query", "limit"}
_QUERY_KEYS = {
    "name",
    "id",
    "title",
    "description",
    "sql",
    "params",
    "check",
    "format",
    "chart",
    "timeout",
    "sources",
    "limit",
}


@dataclass
class QuerySpec:
    """One section of the report: a saved or inline query and how to show and check it."""

    id: str
    query: SavedQuery
    params: dict[str, Any]
    title: str
    description: str
    format: str
    chart: dict[str, Any] | None
    check: Check | None
    timeout: float | None
    sources: list[str] | None
    limit: int | None
    sql: str = ""  # bound when the report starts, with one shared now


@dataclass
class Report:
    title: str
    path: Path
    description: str = ""
    format: str | None = None
    timeout: float | None = None
    sources: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    limit: int | None = None  # rows each section shows, unless the query sets its own
    queries: list[QuerySpec] = field(default_factory=list)

    def bind(self, now: datetime) -> None:
        """Bind every query's parameters; a bad value is a UsageError naming the query."""
        unused = sorted(k for k in self.params if not any(spec.query.param(k) for spec in self.queries))
        if unused:  # most likely a typo, which would otherwise silently leave a default in place
            takes = sorted({p.name for spec in self.queries for p in spec.query.params})
            raise UsageError(
                f"{self.path}: no query takes the parameter {unused[0]!r}",
                hint="parameters of its queries: " + (", ".join(takes) or "none"),
            )
        for spec in self.queries:
            values = {k: v for k, v in self.params.items() if spec.query.param(k)}
            values.update(spec.params)
            try:
                spec.sql = spec.query.bind(values, now=now)
                spec.description = describe(spec.description, spec.query, values, now)
            except UsageError as err:
                err.message = f"{self.path}: query {spec.id}: " + err.message.removeprefix(f"query {spec.query.name}: ")
                raise


def load(path: str | Path, saved: dict[str, SavedQuery]) -> Report:
    """Read and check a report definition; ``saved`` are the saved queries it may name."""
    path = Path(path)
    raw = read_toml(path, "report")
    where = str(path)
    _no_unknown(raw, _TOP_KEYS, where)
    fmt = _text(raw, "format", where)
    if fmt is not None and fmt not in DOCUMENT_FORMATS:
        raise UsageError(f"{where}: format {fmt!r} is not one of {', '.join(DOCUMENT_FORMATS)}")
    sources = raw.get("sources") or {}
    if isinstance(sources, list) and all(isinstance(spec, str) for spec in sources):
        sources = {_source_name(spec): spec for spec in sources}
    if not isinstance(sources, dict) or not all(isinstance(v, str) for v in sources.values()):
        raise UsageError(f'{where}: sources must be a table of name = "spec" (or a list of specs)')
    report = Report(
        title=_text(raw, "title", where) or path.stem,
        path=path,
        description=_text(raw, "description", where) or "",
        format=fmt,
        timeout=_seconds(raw.get("timeout"), where),
        sources=sources,
        params=_table(raw, "params", where),
        limit=_limit(raw, where),
    )
    entries = raw.get("query") or []
    if not isinstance(entries, list) or not entries:
        raise UsageError(f"{where}: no [[query]] sections", hint='add [[query]] with name = "..." or sql = "..."')
    seen: set[str] = set()
    for i, entry in enumerate(entries, 1):
        spec = _query(entry, i, report, saved, where)
        base, n = spec.id, 2
        while spec.id in seen:
            spec.id, n = f"{base}-{n}", n + 1
        seen.add(spec.id)
        report.queries.append(spec)
    return report


def _query(entry: Any, i: int, report: Report, saved: dict[str, SavedQuery], where: str) -> QuerySpec:
    if not isinstance(entry, dict):
        raise UsageError(f"{where}: [[query]] number {i} is not a table")
    label = entry.get("id") or entry.get("name") or entry.get("title") or f"number {i}"
    here = f"{where}: query {label}"
    _no_unknown(entry, _QUERY_KEYS, here)
    for key in ("name", "id", "title", "description", "sql", "format"):
        _text(entry, key, here)
    if ("name" in entry) == ("sql" in entry):
        raise UsageError(
            f"{here}: give either name (a saved query) or sql, not {'both' if 'name' in entry else 'neither'}"
        )
    if "name" in entry:
        from chaosql.reports.saved import find

        try:
            query = find(entry["name"], saved)
        except UsageError as err:
            err.message = f"{here}: {err.message}"
            raise
    else:
        text = entry["sql"]
        query = parse_text(text, name=_slug(entry.get("id") or entry.get("title") or f"query-{i}"), path=report.path)
    params = _table(entry, "params", here)
    unknown = sorted(k for k in params if not query.param(k))
    if unknown:
        takes = ", ".join(p.name for p in query.params) or "no parameters"
        raise UsageError(f"{here}: unknown parameter {unknown[0]!r}", hint=f"it takes: {takes}")
    chart = parse_chart(entry["chart"], where=here) if "chart" in entry else query.chart
    fmt = entry.get("format") or ("both" if chart and "name" not in entry else query.format)
    if fmt not in FORMATS:
        raise UsageError(f"{here}: format {fmt!r} is not one of {', '.join(FORMATS)}")
    if fmt in ("chart", "both") and not chart:
        raise UsageError(
            f"{here}: format {fmt} needs a chart", hint='add chart = { type = "bar", x = "...", y = "..." }'
        )
    check = Check.parse(entry["check"], where=f"{here}: check") if "check" in entry else query.check
    wanted = entry.get("sources")
    if wanted is not None:
        if isinstance(wanted, str):
            wanted = [wanted]
        if not isinstance(wanted, list) or not all(isinstance(w, str) for w in wanted):
            raise UsageError(f'{here}: sources must be a list of names from [sources], e.g. ["live"]')
        missing = [s for s in wanted if s not in report.sources]
        if missing:
            raise UsageError(
                f"{here}: no source named {missing[0]!r} in [sources]",
                hint="known: " + (", ".join(report.sources) or "none (add a [sources] table)"),
            )
    limit = _limit(entry, here)
    return QuerySpec(
        id=_slug(str(entry.get("id") or query.name)),
        query=query,
        params=params,
        title=str(entry.get("title") or query.title),
        description=str(entry.get("description") or query.description),
        format=fmt,
        chart=chart,
        check=check,
        timeout=_seconds(entry.get("timeout"), here) or report.timeout,
        sources=list(wanted) if wanted is not None else None,
        limit=limit if limit is not None else report.limit,
    )


def _seconds(value: Any, where: str) -> float | None:
    from chaosql.engine.settings import MAX_TIMEOUT

    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not 0 < value <= MAX_TIMEOUT
    ):
        raise UsageError(f"{where}: timeout takes a number of seconds from 0 to {MAX_TIMEOUT:g}, not {value!r}")
    return float(value)


def _limit(table: dict, where: str) -> int | None:
    limit = table.get("limit")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
        raise UsageError(f"{where}: limit takes a whole number >= 0, not {limit!r}")
    return limit


def _source_name(spec: str) -> str:
    scheme, _, rest = spec.partition(":")
    return Path(rest).name or scheme if rest else scheme


def _slug(text: str) -> str:
    """
    >>> _slug("Phase mix (all clusters)")
    'phase-mix-all-clusters'
    """
    return re.sub(r"[^a-z0-9_]+", "-", text.lower()).strip("-") or "query"
