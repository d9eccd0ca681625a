"""What to complete at the cursor (pure, no I/O), and the names it is matched against.

``suggest`` looks only at the text; ``matches`` matches its suggestions against a ``Catalog``:
tables and columns from the table registry (no fetch needed), and live values that
``Repl.refresh_values`` (chaosql/repl/app.py) reads in a background thread and swaps in.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

KEYWORDS = [
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "OR",
    "NOT",
    "IN",
    "IS",
    "NULL",
    "LIKE",
    "ILIKE",
    "BETWEEN",
    "GROUP",
    "BY",
    "ORDER",
    "HAVING",
    "LIMIT",
    "OFFSET",
    "JOIN",
    "LEFT",
    "RIGHT",
    "FULL",
    "INNER",
    "OUTER",
    "ON",
    "AS",
    "DISTINCT",
    "COUNT",
    "SUM",
    "AVG",
    "MIN",
    "MAX",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "WITH",
    "UNION",
    "ALL",
    "INSERT",
    "INTO",
    "VALUES",
    "UPDATE",
    "SET",
    "DELETE",
    "RETURNING",
    "EXPLAIN",
    "ANALYZE",
    "DESCRIBE",
    "SHOW",
    "TABLES",
    "ASC",
    "DESC",
    "TRUE",
    "FALSE",
    "INTERVAL",
    "NOW",
    "CAST",
    "JSON_EXTRACT_STRING",
]

_TABLE_CONTEXT = {"FROM", "JOIN", "INTO", "UPDATE", "TABLE", "DESCRIBE"}
_COLUMN_CONTEXT = {"SELECT", "WHERE", "AND", "OR", "BY", "ON", "SET", "HAVING", "DISTINCT", "NOT", ","}


@dataclass(frozen=True)
class Suggestion:
    """One kind of thing that may come next: 'keyword', 'table', 'column', 'value' or 'meta'."""

    kind: str
    tables: tuple[str, ...] = ()  # for columns: tables in scope, most relevant first
    column: str | None = None  # for values: the column being compared


def suggest(text: str, cursor: int | None = None) -> list[Suggestion]:
    """Suggestions for the word being typed at ``cursor``.

    >>> suggest("SELECT * FROM ")
    [Suggestion(kind='table', tables=(), column=None)]
    >>> suggest("SELECT name FROM experiments e WHERE e.")
    [Suggestion(kind='column', tables=('experiments',), column=None)]
    >>> [s.kind for s in suggest("SELECT ")]
    ['column', 'keyword']
    """
    before = text[: len(text) if cursor is None else cursor]
    if before.lstrip().startswith("\\"):
        return [Suggestion("meta")] if " " not in before.strip() else [Suggestion("table")]
    aliases = tables_in(text)
    dotted = re.search(r"([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z0-9_]*)$", before)
    if dotted:
        table = aliases.get(dotted.group(1).lower())
        return [Suggestion("column", tables=(table,))] if table else []
    value = re.search(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:=|IN\s*\(|,)\s*'[^']*$", before, re.IGNORECASE)
    if value:
        return [Suggestion("value", column=value.group(1).lower())]
    tokens = re.findall(r"[A-Za-z_][A-Za-z0-9_]*|,|\(|\)", before[: len(before) - len(_word_at_end(before))])
    last = tokens[-1].upper() if tokens else ""
    if last in _TABLE_CONTEXT:
        return [Suggestion("table")]
    if last in _COLUMN_CONTEXT or last in ("(", "="):
        return [Suggestion("column", tables=tuple(dict.fromkeys(aliases.values()))), Suggestion("keyword")]
    return [Suggestion("keyword")]


def tables_in(text: str) -> dict[str, str]:
    """alias (or name) -> table name for ``FROM t [AS] a`` / ``JOIN t a`` in ``text``.

    >>> tables_in("select * from experiments e join targets t on t.experiment = e.name")
    {'e': 'experiments', 'experiments': 'experiments', 't': 'targets', 'targets': 'targets'}
    """
    found: dict[str, str] = {}
    reserved = {
        "where",
        "join",
        "on",
        "left",
        "right",
        "inner",
        "full",
        "group",
        "order",
        "limit",
        "using",
        "cross",
        "natural",
    }
    for m in re.finditer(
        r"\b(?:from|join)\s+([A-Za-z_][A-Za-z0-9_]*)(?:\s+(?:as\s+)?([A-Za-z_][A-Za-z0-9_]*))?", text, re.IGNORECASE
    ):
        table = m.group(1).lower()
        alias = (m.group(2) or "").lower()
        if alias and alias not in reserved:
            found[alias] = table
        found[table] = table
    return found


def _word_at_end(text: str) -> str:
    m = re.search(r"[A-Za-z0-9_]*$", text)
    return m.group(0) if m else ""


@dataclass
class Catalog:
    """Names the completer matches against: tables and columns, plus live values per column."""

    columns: Mapping[str, list[str]]
    meta_commands: list[str] = field(default_factory=list)
    values: dict[str, list[str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    #: table -> column -> "TYPE: doc", shown beside a column candidate
    docs: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def display(self, text: str, meta: str, width: int = 70) -> str:
        """What the shell shows beside a candidate: a column's table, type and doc (shortened)."""
        doc = self.docs.get(meta, {}).get(text)
        if not doc:
            return meta
        shown = f"{meta} · {doc}"
        return shown if len(shown) <= width else shown[: width - 1] + "…"

    def swap_values(self, values: dict[str, list[str]]) -> None:
        with self.lock:
            self.values = values

    def candidates(self, suggestion: Suggestion) -> Iterable[tuple[str, str]]:
        """(text, kind) pairs for one suggestion; columns of the tables in scope come first."""
        if suggestion.kind == "table":
            yield from ((t, "table") for t in self.columns)
        elif suggestion.kind == "column":
            seen = set()
            for table in suggestion.tables:
                for col in self.columns.get(table, []):
                    if col not in seen:
                        seen.add(col)
                        yield col, table
            for table, cols in self.columns.items():  # then every other table's columns
                for col in cols:
                    if col not in seen:
                        seen.add(col)
                        yield col, table
        elif suggestion.kind == "keyword":
            yield from ((k, "keyword") for k in KEYWORDS)
        elif suggestion.kind == "meta":
            yield from ((m, "command") for m in self.meta_commands)
        elif suggestion.kind == "value":
            with self.lock:
                yield from ((v, suggestion.column or "") for v in self.values.get(suggestion.column or "", []))


def _word_before(before: str) -> str:
    """The word being typed: what follows an open quote, else a name (``\\x`` for a meta-command)."""
    quoted = re.search(r"'([^']*)$", before)
    if quoted:
        return quoted.group(1)
    name = re.search(r"\\?[A-Za-z0-9_-]*$", before)
    return name.group(0) if name else ""


def matches(catalog: Catalog, text: str, cursor: int | None = None) -> list[tuple[str, str]]:
    """Completion candidates for ``text`` at ``cursor`` whose start matches the word being typed."""
    before = text[: len(text) if cursor is None else cursor]
    word = _word_before(before)
    out, seen = [], set()
    for suggestion in suggest(text, cursor):
        for candidate, meta in catalog.candidates(suggestion):
            if candidate.lower().startswith(word.lower()) and candidate not in seen:
                seen.add(candidate)
                out.append((candidate, meta))
    return out
