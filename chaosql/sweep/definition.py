"""The sweep file: an experiment template, the one parameter that varies, and the steady state.

::

    title = "How much latency can checkout take?"
    format = "html"                  # markdown | html | json (--format or --out's suffix override it)
    must_hold_until = 200            # exit 3 when a value up to this one fails (the parameter's unit)

    [experiment]                     # one row of INSERT INTO experiments, as in SQL
    namespace = "shop"
    name = "checkout-latency"        # each step's experiment is NAME-<run>-<step>
    kind = "NetworkChaos"
    spec = { action = "delay", mode = "all", duration = "10m", delay = { latency = "20ms" },
             selector = { namespaces = ["shop"], labelSelectors = { app = "checkout" } } }

    [parameter]
    name = "latency"                 # what the tables and the chart call it
    path = "spec.delay.latency"      # where each value goes in the row
    values = [20, 50, 100, 200, 400, 1000]   # ascending; or from = 20, to = 1000, step = 20 (or factor = 2)
    unit = "ms"                      # written after the number: 20 -> "20ms" (none: the number itself)
    bisect = true                    # narrow down between the last pass and the first fail ...
    resolution = 10                  # ... until they are this close

    [steady_state]                   # one query, run before, during and after each step
    sql = "SELECT max(value) AS p99 FROM metrics WHERE query = 'checkout_p99_seconds'"
    check = { column = "p99", max = 0.3 }    # as a report's check; the column is the chart's y

    [timing]
    settle = "30s"                   # after creating, before measuring during
    recover = "2m"                   # the longest wait for the steady state to come back after removal
    poll = "5s"                      # how often recovery is checked

The steady-state SQL may use ``$value``, ``$name``, ``$namespace``, ``$cluster``, ``$kind``,
``$phase`` (before, during, after) and ``$started_at`` (the experiment's creation, NULL before),
bound as typed literals, so they push down (``impact WHERE name = $name`` reads one experiment).
Everything is checked when the file is read: a mistake is a usage error (exit 2) naming the key.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chaosql.definitions import duration, flag, no_unknown, read_toml, subtable, text
from chaosql.errors import UsageError
from chaosql.reports.checks import Check
from chaosql.reports.saved import Param, SavedQuery

#: The parameters the steady-state SQL may use, as saved-query parameters (all default NULL).
STEADY_PARAMS = [
    Param("value", "number", "null", "the parameter's value of the step"),
    Param("name", "text", "null", "the step's experiment name"),
    Param("namespace", "text", "null"),
    Param("cluster", "text", "null"),
    Param("kind", "text", "null"),
    Param("phase", "text", "null", "before, during or after"),
    Param("started_at", "timestamp", "null", "when the step's experiment was created"),
]
#: At most this many steps (values, plus bisection steps): a sweep is an experiment, not a load test.
MAX_STEPS = 200
_TOP = {"title", "description", "format", "must_hold_until", "experiment", "parameter", "steady_state", "timing"}
_PARAMETER = {"name", "path", "values", "from", "to", "step", "factor", "unit", "bisect", "resolution"}
_STEADY = {"sql", "check"}
_TIMING = {"settle", "recover", "poll", "timeout"}
#: What the experiment template may set: the columns an INSERT INTO experiments writes.
_TEMPLATE = {
    "cluster",
    "namespace",
    "name",
    "kind",
    "spec",
    "labels",
    "annotations",
    "action",
    "mode",
    "value",
    "selector",
    "duration",
    "source",
    "node",
}


@dataclass
class Parameter:
    name: str
    path: list[str]
    values: list[float]
    unit: str = ""
    bisect: bool = False
    resolution: float = 1.0

    def written(self, value: float) -> Any:
        """The value as it goes into the experiment: ``"150ms"`` with a unit, else the number."""
        number: Any = int(value) if float(value).is_integer() else value
        return f"{number}{self.unit}" if self.unit else number

    def shown(self, value: float) -> str:
        return str(self.written(value)) if self.unit else f"{value:g}"


@dataclass
class Sweep:
    path: Path
    title: str
    template: dict[str, Any]
    parameter: Parameter
    steady: SavedQuery
    check: Check
    column: str
    description: str = ""
    format: str | None = None
    must_hold_until: float | None = None
    settle: float = 30.0
    recover: float = 120.0
    poll: float = 5.0
    timeout: float = 60.0
    chaosd: bool = False
    limit: float = field(default=math.nan)  # the check's bound on the column, for the chart

    def row(self, value: float, name: str) -> dict[str, Any]:
        """The experiment row of one step: the template, its name, the value at the path."""
        import copy

        row = copy.deepcopy(self.template)
        row["name"] = name
        place: Any = row
        for part in self.parameter.path[:-1]:
            place = place.setdefault(part, {})
            if not isinstance(place, dict):
                raise UsageError(
                    f"{self.path}: parameter path {'.'.join(self.parameter.path)} goes through a non-table"
                )
        place[self.parameter.path[-1]] = self.parameter.written(value)
        return row


def load(path: str | Path) -> Sweep:
    from chaosql.reports.definition import DOCUMENT_FORMATS

    path = Path(path)
    raw = read_toml(path, "sweep file")
    where = str(path)
    no_unknown(raw, _TOP, where)
    fmt = text(raw, "format", where)
    if fmt is not None and fmt not in DOCUMENT_FORMATS[:3]:
        raise UsageError(f"{where}: format {fmt!r} is not one of markdown, html, json")
    template = _template(subtable(raw, "experiment", where), f"{where}: [experiment]")
    parameter = _parameter(subtable(raw, "parameter", where), f"{where}: [parameter]", template)
    steady, check, column = _steady(subtable(raw, "steady_state", where), f"{where}: [steady_state]", path)
    timing = subtable(raw, "timing", where)
    no_unknown(timing, _TIMING, f"{where}: [timing]")
    hold = raw.get("must_hold_until")
    if hold is not None and (isinstance(hold, bool) or not isinstance(hold, (int, float))):
        raise UsageError(f"{where}: must_hold_until takes a number in the parameter's unit, not {hold!r}")
    return Sweep(
        path=path,
        title=text(raw, "title", where) or path.stem,
        description=text(raw, "description", where) or "",
        format=fmt,
        template=template,
        parameter=parameter,
        steady=steady,
        check=check,
        column=column,
        limit=check.max if check.max is not None else (check.min if check.min is not None else math.nan),
        must_hold_until=float(hold) if hold is not None else None,
        settle=duration(timing, "settle", f"{where}: [timing]", 30.0, zero=True) or 0.0,
        recover=duration(timing, "recover", f"{where}: [timing]", 120.0) or 120.0,
        poll=duration(timing, "poll", f"{where}: [timing]", 5.0) or 5.0,
        timeout=duration(timing, "timeout", f"{where}: [timing]", 60.0) or 60.0,
        chaosd=str(template.get("source") or "").lower() == "chaosd",
    )


def _template(table: dict, where: str) -> dict[str, Any]:
    if not table:
        raise UsageError(f"{where}: missing", hint="[experiment] with namespace, name, kind and spec")
    no_unknown(table, _TEMPLATE, where)
    chaosd = str(table.get("source") or "").lower() == "chaosd"
    needed = ("kind", "spec") if chaosd else ("namespace", "name", "kind", "spec")
    for key in needed:
        if key not in table:
            raise UsageError(f"{where}: {key} is required", hint="the template is one row of INSERT INTO experiments")
    name = table.get("name") or "sweep"
    if not isinstance(name, str) or len(name) > 40 or not name.replace("-", "").isalnum() or name != name.lower():
        raise UsageError(
            f"{where}: name takes lowercase letters, digits and '-', at most 40 (steps add -<run>-<step>), not {name!r}"
        )
    if not isinstance(table["spec"], dict):
        raise UsageError(f'{where}: spec takes a table, e.g. spec = {{ action = "delay" }}')
    return dict(table, name=name)


def _parameter(table: dict, where: str, template: dict[str, Any]) -> Parameter:
    if not table:
        raise UsageError(f"{where}: missing", hint='[parameter] with path = "spec...." and values = [...]')
    no_unknown(table, _PARAMETER, where)
    path = text(table, "path", where)
    if not path:
        raise UsageError(f"{where}: path is required", hint='e.g. path = "spec.delay.latency"')
    parts = path.split(".")
    if parts[0] not in _TEMPLATE or parts[0] == "name" or any(not p for p in parts):
        raise UsageError(f"{where}: path {path!r} does not start with a column of the experiment (spec, value, ...)")
    if len(parts) > 1 and parts[0] not in ("spec", "selector", "labels", "annotations"):
        raise UsageError(f"{where}: path {path!r} goes into {parts[0]}, which is not a table")
    unit = text(table, "unit", where) or ""
    values = _values(table, where)
    resolution = table.get("resolution", 1)
    if isinstance(resolution, bool) or not isinstance(resolution, (int, float)) or not resolution > 0:
        raise UsageError(f"{where}: resolution takes a number > 0, not {resolution!r}")
    return Parameter(
        name=text(table, "name", where) or parts[-1],
        path=parts,
        values=values,
        unit=unit,
        bisect=flag(table, "bisect", where),
        resolution=float(resolution),
    )


def _values(table: dict, where: str) -> list[float]:
    listed = table.get("values")
    ranged = {k: table[k] for k in ("from", "to", "step", "factor") if k in table}
    if (listed is None) == (not ranged):
        raise UsageError(
            f"{where}: give either values = [...] or from/to with step or factor",
            hint="e.g. values = [20, 50, 100] or from = 10, to = 100, step = 10",
        )
    for key, value in ranged.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise UsageError(f"{where}: {key} takes a number, not {value!r}")
    if listed is not None:
        if not isinstance(listed, list) or not listed or not all(_number(v) for v in listed):
            raise UsageError(f"{where}: values takes a list of numbers, e.g. values = [20, 50, 100]")
        values = [float(v) for v in listed]
    else:
        if "from" not in ranged or "to" not in ranged or ("step" in ranged) == ("factor" in ranged):
            raise UsageError(f"{where}: a range takes from, to and one of step or factor")
        start, stop = float(ranged["from"]), float(ranged["to"])
        step, factor = ranged.get("step"), ranged.get("factor")
        if (step is not None and step <= 0) or (factor is not None and (factor <= 1 or start <= 0)):
            raise UsageError(f"{where}: a range needs step > 0, or factor > 1 from a value > 0")
        values, value = [], start
        while value <= stop * (1 + 1e-9) and len(values) <= MAX_STEPS:
            values.append(round(value, 9))
            value = start + len(values) * step if step is not None else value * float(factor or 2)
    if len(values) > MAX_STEPS:
        raise UsageError(f"{where}: {len(values)} values, more than {MAX_STEPS}")
    if any(b <= a for a, b in itertools.pairwise(values)):
        raise UsageError(f"{where}: values must go up (the sweep stops at the first that fails)")
    return values


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _steady(table: dict, where: str, path: Path) -> tuple[SavedQuery, Check, str]:
    from chaosql.guard.definition import check_tables, parse_one

    if not table:
        raise UsageError(f"{where}: missing", hint='[steady_state] with sql = "SELECT ..." and check = {...}')
    no_unknown(table, _STEADY, where)
    sql = text(table, "sql", where)
    if not sql or not sql.strip():
        raise UsageError(f"{where}: sql is required", hint="a SELECT over metrics or impact")
    from sqlglot import exp

    tree = parse_one(sql, "sql", where)
    if not isinstance(tree, exp.Query):
        raise UsageError(f"{where}: sql takes a SELECT")
    check_tables(tree, "sql", where)
    known = {p.name for p in STEADY_PARAMS}
    unknown = sorted({node.name for node in tree.find_all(exp.Placeholder) if node.name and node.name not in known})
    if unknown:
        raise UsageError(f"{where}: sql uses ${unknown[0]}", hint="it may use $" + ", $".join(sorted(known)))
    if "check" not in table:
        raise UsageError(f"{where}: check is required", hint='e.g. check = { column = "p99", max = 0.3 }')
    check = Check.parse(table["check"], where=f"{where}: check")
    if check is None or (check.min is None and check.max is None):
        raise UsageError(
            f"{where}: check needs min or max on a column: the sweep charts that column against the parameter",
            hint='e.g. check = { column = "p99", max = 0.3 }',
        )
    column = check.column or _first_column(tree)
    query = SavedQuery(name="steady-state", sql=sql, path=path, params=list(STEADY_PARAMS))
    return query, check, column


def _first_column(tree: Any) -> str:
    select = tree if hasattr(tree, "selects") else None
    names = [e.alias_or_name for e in select.selects] if select is not None else []
    return names[0] if names else "value"
