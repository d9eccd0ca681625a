"""Saved queries: ``.sql`` files with a comment header, shipped in ``chaosql/queries`` or the user's own.

The header is the leading ``-- key: value`` lines; an indented comment line continues the previous
value. Parameters appear in the SQL as DuckDB's ``$name`` and are declared in the header::

    -- name: stuck-injecting
    -- description: Experiments still injecting more than $minutes minutes after creation.
    -- param: minutes integer = 10     -- how long injecting may take
    -- param: now timestamp = now      -- the instant to compare with
    -- format: table
    -- check: empty
    SELECT ... WHERE phase = 'injecting' AND created_at < $now - INTERVAL 1 MINUTE * $minutes

Binding replaces each ``$name`` node of the parsed statement with a typed literal made by sqlglot
(a quoted string, a number, ``CAST('...' AS TIMESTAMPTZ)``), after the value was parsed as its
declared type. A value is never pasted into SQL text, and because the bound statement holds plain
constants, predicates such as ``namespace = $namespace`` still push down to the sources.

A query whose header names a ``metric`` is also a Prometheus metric family for ``chaosql export``
(``-- metric:``, ``-- metric_type:``, ``-- help:``, ``-- value: COLUMN -- help``, ``-- key:``,
``-- max_series:``; kept here as written in ``SavedQuery.export``, checked by
``chaosql.export.family``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from chaosql.errors import UsageError
from chaosql.reports.checks import Check

BUILTIN_DIR = Path(__file__).resolve().parent.parent / "queries"
TYPES = ("text", "integer", "number", "boolean", "timestamp", "date")
FORMATS = ("table", "chart", "both", "csv", "json")
_HEADER = re.compile(r"^--\s?([a-z_]+):\s*(.*)$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
#: Header keys of a saved query that is also a metric family (docs/exporter.md), besides the
#: repeatable ``-- value: COLUMN -- doc``.
EXPORT_KEYS = ("metric", "metric_type", "help", "key", "max_series")


@dataclass(frozen=True)
class Param:
    """One declared parameter; ``default`` is its text form (``None``: required, ``null``: SQL NULL)."""

    name: str
    type: str
    default: str | None = None
    doc: str = ""

    @property
    def required(self) -> bool:
        return self.default is None

    def describe(self) -> str:
        shown = f"{self.name} {self.type}" + ("" if self.required else f" = {self.default}")
        return shown + (f" ({self.doc})" if self.doc else "")


@dataclass
class SavedQuery:
    name: str
    sql: str
    path: Path | None = None
    builtin: bool = False
    title: str = ""
    description: str = ""
    params: list[Param] = field(default_factory=list)
    format: str = "table"
    check: Check | None = None
    chart: dict[str, str] | None = None
    #: the metric family header (metric, metric_type, help, key, max_series, and ``values``: the
    #: ``-- value: COLUMN -- doc`` lines), as written; ``chaosql.export.family`` checks it
    export: dict[str, Any] | None = None

    @property
    def origin(self) -> str:
        return "built-in" if self.builtin else str(self.path or "inline")

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def bind(self, values: dict[str, Any] | None = None, *, now: datetime | None = None) -> str:
        """The statement with every ``$name`` replaced by a typed literal of its value.

        >>> q = parse_text("-- param: ns text = shop\\nSELECT * FROM experiments WHERE namespace = $ns", name="x")
        >>> q.bind({"ns": "it's"})
        "SELECT * FROM experiments WHERE namespace = 'it''s'"
        """
        values = dict(values or {})
        unknown = sorted(set(values) - {p.name for p in self.params})
        if unknown:
            takes = ", ".join(p.name for p in self.params) or "no parameters"
            raise UsageError(f"query {self.name}: unknown parameter {unknown[0]!r}", hint=f"it takes: {takes}")
        now = now or datetime.now(UTC)
        literals = {}
        for p in self.params:
            if p.name in values:
                raw = values[p.name]
            elif p.required:
                raise UsageError(
                    f"query {self.name}: parameter {p.name} ({p.type}) is required", hint=f"pass --param {p.name}=VALUE"
                )
            else:
                raw = p.default
            literals[p.name] = literal(p, raw, now=now, query=self.name)
        tree = _parse(self.sql, self.name)
        from sqlglot import exp

        for node in list(tree.find_all(exp.Placeholder)):
            node.replace(literals[node.name].copy())
        _fold_where(tree)
        return tree.sql(dialect="duckdb")


def describe(text: str, query: SavedQuery, values: dict[str, Any], now: datetime) -> str:
    """``text`` with each ``$name`` replaced by the value it runs with, for people to read.

    >>> q = parse_text("-- param: minutes integer = 10\\nSELECT $minutes", name="x")
    >>> describe("more than $minutes minutes", q, {}, datetime(2026, 1, 1))
    'more than 10 minutes'
    """

    def value(match: re.Match[str]) -> str:
        p = query.param(match.group(1))
        if p is None:
            return match.group(0)
        raw = values.get(p.name, p.default)
        if p.type == "timestamp" and raw is not None and str(raw).lower() != "null":
            try:
                return parse_timestamp(raw, now).strftime("%Y-%m-%d %H:%M UTC")
            except ValueError:
                pass
        return str(raw)

    return re.sub(r"\$([a-z_][a-z0-9_]*)", value, text)


def _fold_where(tree: Any) -> None:
    """Fold constants in WHERE clauses, so an optional filter such as ``($ns IS NULL OR namespace =
    $ns)`` becomes ``namespace = 'shop'`` (and pushes down) or disappears when ``$ns`` is NULL."""
    from sqlglot import exp
    from sqlglot.optimizer.simplify import simplify

    for where in list(tree.find_all(exp.Where)):
        where.set("this", simplify(where.this.copy(), dialect="duckdb"))


def literal(p: Param, raw: Any, *, now: datetime, query: str = "") -> Any:
    """A sqlglot literal for ``raw`` read as ``p.type``; a bad value is a UsageError naming the parameter."""
    from sqlglot import exp

    where = f"query {query}: " if query else ""
    if raw is None or (isinstance(raw, str) and raw.strip().lower() == "null"):
        return exp.Null()
    text = raw.strip() if isinstance(raw, str) else raw
    try:
        if p.type == "text":
            return exp.Literal.string(str(raw))
        if p.type == "integer":
            if isinstance(text, bool) or (isinstance(text, str) and not re.fullmatch(r"[+-]?\d+", text)):
                raise ValueError
            return exp.Literal.number(int(text))
        if p.type == "number":
            if isinstance(text, bool):
                raise ValueError
            number = float(text)
            if number != number or number in (float("inf"), float("-inf")):
                raise ValueError
            return exp.Literal.number(repr(number))
        if p.type == "boolean":
            truth = {
                "true": True,
                "yes": True,
                "on": True,
                "1": True,
                "false": False,
                "no": False,
                "off": False,
                "0": False,
            }
            value = text if isinstance(text, bool) else truth[str(text).lower()]
            return exp.Boolean(this=value)
        if p.type == "timestamp":
            return exp.cast(exp.Literal.string(parse_timestamp(text, now).isoformat()), "TIMESTAMPTZ")
        if p.type == "date":
            day = text if isinstance(text, date) and not isinstance(text, datetime) else None
            if day is None:
                day = now.date() if str(text).lower() == "today" else date.fromisoformat(str(text))
            return exp.cast(exp.Literal.string(day.isoformat()), "DATE")
    except (ValueError, KeyError, TypeError):
        pass
    examples = {
        "integer": "10",
        "number": "0.5",
        "boolean": "true",
        "timestamp": "2026-11-20T12:00:00Z or now",
        "date": "2026-11-20 or today",
        "text": "shop",
    }
    article = "an" if p.type[0] in "aeiou" else "a"
    raise UsageError(
        f"{where}parameter {p.name} takes {article} {p.type}, not {raw!r}", hint=f"e.g. {p.name}={examples[p.type]}"
    )


def parse_timestamp(value: Any, now: datetime) -> datetime:
    """``now``, an ISO 8601 date or timestamp (``Z`` or an offset; none means UTC), or a datetime."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif str(value).lower() == "now":
        moment = now
    else:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- reading files ---------------------------------------------------------------------------


def parse_text(text: str, *, name: str, path: Path | None = None, builtin: bool = False) -> SavedQuery:
    """A saved query from its file text; errors name the file and line."""
    where = str(path or name)
    header: dict[str, str] = {}
    params: list[Param] = []
    values: list[tuple[str, str]] = []  # -- value: COLUMN -- doc (metric families)
    body_start = 0
    last_key = None
    lines = text.splitlines()
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            body_start = i + 1
            continue
        if not stripped.startswith("--"):
            break
        body_start = i + 1
        match = _HEADER.match(stripped)
        if match:
            key, value = match.group(1), match.group(2).strip()
            if key == "param":
                params.append(_param(value, f"{where} line {i + 1}"))
            elif key == "value":
                column, _, doc = value.partition(" -- ")
                values.append((column.strip(), doc.strip()))
            else:
                header[key] = value
            last_key = key
        elif (
            last_key
            and last_key not in ("param", "value")
            and stripped[2:].startswith((" ", "\t"))
            and stripped[2:].strip()
        ):
            header[last_key] = (header[last_key] + " " + stripped[2:].strip()).strip()
    sql = "\n".join(lines[body_start:]).strip().rstrip(";").strip()
    if not sql:
        raise UsageError(f"saved query {where}: no SQL after the header")
    unknown = set(header) - {"name", "title", "description", "format", "check", "chart", *EXPORT_KEYS}
    if unknown:
        raise UsageError(
            f"saved query {where}: unknown header key {sorted(unknown)[0]!r}",
            hint="keys: name, title, description, param, format, check, chart; for a metric family: "
            + ", ".join([*EXPORT_KEYS, "value"]),
        )
    query_name = header.get("name") or name
    if not _NAME.match(query_name):
        raise UsageError(f"saved query {where}: name {query_name!r} must be lower-case letters, digits, - or _")
    fmt = header.get("format") or "table"
    if fmt not in FORMATS:
        raise UsageError(f"saved query {where}: format {fmt!r} is not one of {', '.join(FORMATS)}")
    query = SavedQuery(
        name=query_name,
        sql=sql,
        path=path,
        builtin=builtin,
        title=header.get("title") or query_name.replace("-", " ").capitalize(),
        description=header.get("description", ""),
        params=params,
        format=fmt,
        check=Check.parse(header.get("check"), where=f"saved query {where}: check"),
        chart=parse_chart(header["chart"], where=f"saved query {where}") if header.get("chart") else None,
        export=_export_header(header, values),
    )
    _check_placeholders(query, where)
    return query


def _export_header(header: dict[str, str], values: list[tuple[str, str]]) -> dict[str, Any] | None:
    """The metric family keys of a header (chaosql export reads them), or None when there are none."""
    found: dict[str, Any] = {k: header[k] for k in EXPORT_KEYS if k in header}
    if values:
        found["values"] = values
    return found or None


def _param(spec: str, where: str) -> Param:
    body, _, doc = spec.partition(" -- ")
    match = re.fullmatch(r"([a-z_][a-z0-9_]*)\s+([a-z]+)(?:\s*=\s*(.*))?", body.strip())
    if not match:
        raise UsageError(f"saved query {where}: expected 'param: NAME TYPE [= DEFAULT] [-- doc]', not {spec!r}")
    name, kind, default = match.groups()
    if kind not in TYPES:
        raise UsageError(
            f"saved query {where}: parameter {name} has unknown type {kind!r}", hint="types: " + ", ".join(TYPES)
        )
    return Param(name, kind, None if default is None else default.strip(), doc.strip())


def parse_chart(spec: Any, *, where: str) -> dict[str, str]:
    """``bar x=day y=n series=cluster`` (header) or a TOML table -> a chart spec dict."""
    from chaosql.reports.charts import KINDS

    if isinstance(spec, str):
        words = spec.split()
        chart: dict[str, Any] = {"type": words[0]} if words and "=" not in words[0] else {}
        for word in words[len(chart) :]:
            key, eq, value = word.partition("=")
            if not eq:
                raise UsageError(f"{where}: chart: expected KEY=VALUE, not {word!r}")
            chart[key] = value
    elif isinstance(spec, dict):
        chart = dict(spec)
    else:
        raise UsageError(f'{where}: chart: expected a table like {{ type = "bar", x = "day", y = "n" }}')
    chart.setdefault("type", "bar")
    if chart["type"] not in KINDS:
        raise UsageError(f"{where}: chart type {chart['type']!r} is not one of {', '.join(KINDS)}")
    unknown = set(chart) - {"type", "x", "y", "series", "title", "stacked"}
    if unknown:
        raise UsageError(
            f"{where}: chart: unknown key {sorted(unknown)[0]!r}", hint="keys: type, x, y, series, title, stacked"
        )
    return chart


def _parse(sql: str, name: str) -> Any:
    import sqlglot
    from sqlglot.errors import ParseError, TokenError

    try:
        trees = [t for t in sqlglot.parse(sql, read="duckdb") if t is not None]
    except (ParseError, TokenError) as err:
        raise UsageError(f"saved query {name}: cannot parse its SQL: {str(err).splitlines()[0]}") from None
    if len(trees) != 1:
        raise UsageError(f"saved query {name}: holds {len(trees)} statements; a saved query is one statement")
    return trees[0]


def _check_placeholders(query: SavedQuery, where: str) -> None:
    from sqlglot import exp

    used = {node.name for node in _parse(query.sql, where).find_all(exp.Placeholder)}
    if "" in used:
        raise UsageError(
            f"saved query {where}: uses a positional parameter (? or $1)",
            hint="name it: $name, declared with -- param:",
        )
    undeclared = sorted(used - {p.name for p in query.params})
    if undeclared:
        raise UsageError(
            f"saved query {where}: ${undeclared[0]} is not declared", hint=f"add: -- param: {undeclared[0]} text = ..."
        )


def load_file(path: Path, *, builtin: bool = False) -> SavedQuery:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise UsageError(f"cannot read saved query {path}: {err}") from err
    return parse_text(text, name=path.stem, path=path, builtin=builtin)


def user_dirs(config: Any) -> list[Path]:
    """The directories named by the config's ``[queries] dir`` (a path or a list of paths)."""
    section = config.section("queries") if config is not None else {}
    value = section.get("dir") or section.get("dirs") or []
    paths = [value] if isinstance(value, str) else list(value)
    base = config.path.parent if config is not None and config.path else Path.cwd()
    return [(base / Path(p).expanduser()).resolve() for p in paths]


class Catalog(dict):
    """Saved queries by name; ``broken`` holds the user files that failed to load, by file stem,
    so one bad file does not stop every other query from running."""

    def __init__(self) -> None:
        super().__init__()
        self.broken: dict[str, UsageError] = {}


def catalog(dirs: Iterable[Path] = ()) -> Catalog:
    """Built-in queries, then the user's (a user query with a built-in's name replaces it)."""
    found = Catalog()
    for path in sorted(BUILTIN_DIR.glob("*.sql")):
        query = load_file(path, builtin=True)
        found[query.name] = query
    for directory in dirs:
        if not directory.is_dir():
            raise UsageError(f"queries directory {directory} does not exist", hint="fix [queries] dir in the config")
        for path in sorted(directory.glob("*.sql")):
            try:
                query = load_file(path)
            except UsageError as err:
                found.broken[path.stem] = err
                continue
            found[query.name] = query
    return found


def find(name: str, queries: dict[str, SavedQuery]) -> SavedQuery:
    if name in queries:
        return queries[name]
    broken = getattr(queries, "broken", {})
    if name in broken:
        raise broken[name]
    close = difflib.get_close_matches(name, list(queries), n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    raise UsageError(f"no saved query named {name!r}", hint=hint + "chaosql queries lists them")


def parse_assignments(items: Iterable[str]) -> dict[str, str]:
    """``--param key=value`` options -> a dict; a malformed one is a UsageError."""
    values: dict[str, str] = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise UsageError(f"--param {item}: expected NAME=VALUE")
        values[key.strip()] = value
    return values
