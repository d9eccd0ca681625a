"""The guard file: TOML naming one or more guards, each a breach query and what to do about it.

::

    every = "10s"                    # defaults for every guard below (each may set its own)
    dry_run = false

    [[guard]]
    name = "checkout-p99"            # names the guard in logs, Events and the health endpoint
    when = '''                       # every row is a breach; its columns name what to act on
      SELECT e.cluster, e.namespace, e.name, e.kind, m.value AS p99
      FROM experiments e JOIN metrics m ON m.labels['service'] = e.selector->>'$.labelSelectors.app'
      WHERE e.kind = 'NetworkChaos' AND NOT e.paused
        AND m.query = 'histogram_quantile(0.99, sum by (le, service) (rate(http_request_duration_seconds_bucket[1m])))'
        AND m.value > 0.3'''
    then = '''                       # DML on a chaos table; breach is the table of the rows due
      UPDATE experiments SET paused = true
      WHERE (cluster, namespace, name, kind) IN (SELECT cluster, namespace, name, kind FROM breach)'''
    every = "5s"                     # how often `when` runs
    for = "30s"                      # how long a row must keep breaching before `then` runs
    cooldown = "5m"                  # a row acted on is not acted on again for this long
    max_rows = 20                    # `then` touching more rows than this is refused whole
    on_blind = "hold"                # hold | act: when `when` cannot be answered (a source is down)
    blind = "SELECT ..."             # with on_blind = "act": the rows to act on while blind
    key = ["cluster", "namespace", "name", "kind"]   # which columns identify a breach (default: these, where present)
    value = "p99"                    # the column the Events quote (default: the first number not in key)
    reason = "ChaosqlGuardPaused"    # the Events' reason (default: from the statement)

Everything is checked when the file is read, before any source is asked: a mistake is a usage
error (exit 2) naming the file, the guard and the key. ``chaosql guard --check FILE`` stops there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chaosql.definitions import duration, flag, no_unknown, read_toml, text, whole
from chaosql.errors import UsageError

#: The name of the table of breach rows that ``then`` (and ``blind``'s action) reads.
BREACH = "breach"
ON_BLIND = ("hold", "act")
#: Columns that identify a breach when the guard does not say (those the `when` result has).
DEFAULT_KEY = ("cluster", "namespace", "name", "kind", "source", "node", "uid")
#: The tunables: a file's top level sets them for every guard, a guard overrides them.
DEFAULTS: dict[str, Any] = {
    "every": 10.0,
    "for": 0.0,
    "cooldown": 300.0,
    "max_rows": 20,
    "dry_run": False,
    "on_blind": "hold",
    "timeout": 30.0,
}
_GUARD_KEYS = set(DEFAULTS) | {"name", "description", "when", "then", "blind", "key", "value", "reason"}
_TOP_KEYS = set(DEFAULTS) | {"guard", "title"}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_REASON = re.compile(r"^[A-Z][A-Za-z0-9]*$")


@dataclass
class Guard:
    """One guard, checked: its SQL parsed, its durations in seconds."""

    name: str
    when: str
    then: str
    every: float
    for_: float
    cooldown: float
    max_rows: int
    dry_run: bool
    on_blind: str
    timeout: float
    description: str = ""
    blind: str | None = None
    key: list[str] | None = None
    value: str | None = None
    reason: str | None = None
    target: str = ""  # the chaos table ``then`` writes
    verb: str = ""  # INSERT, UPDATE or DELETE
    action_reason: str = "ChaosqlGuardUpdated"  # what ``then`` does, as an Event reason

    @property
    def event_reason(self) -> str:
        """The reason of the Events posted for the objects acted on: ``reason``, else what
        ``then`` does (ChaosqlGuardPaused, ChaosqlGuardDeleted, ...)."""
        return self.reason or self.action_reason


@dataclass
class GuardFile:
    path: Path
    title: str = ""
    guards: list[Guard] = field(default_factory=list)


def load(path: str | Path) -> GuardFile:
    """Read and check a guard file; every mistake is a UsageError naming the file, guard and key."""
    path = Path(path)
    raw = read_toml(path, "guard file")
    where = str(path)
    no_unknown(raw, _TOP_KEYS, where)
    defaults = _tunables(raw, dict(DEFAULTS), where)
    entries = raw.get("guard")
    if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
        raise UsageError(
            f"{where}: no [[guard]] sections",
            hint='add [[guard]] with name, when = "SELECT ..." and then = "UPDATE ..."',
        )
    found = GuardFile(path=path, title=text(raw, "title", where) or path.stem)
    for number, entry in enumerate(entries, 1):
        guard = _guard(entry, number, defaults, where)
        if any(g.name == guard.name for g in found.guards):
            raise UsageError(f"{where}: two guards are named {guard.name!r}", hint="give each guard its own name")
        found.guards.append(guard)
    return found


def _guard(entry: dict, number: int, defaults: dict[str, Any], where: str) -> Guard:
    label = entry.get("name") if isinstance(entry.get("name"), str) else f"number {number}"
    here = f"{where}: guard {label}"
    no_unknown(entry, _GUARD_KEYS, here)
    name = text(entry, "name", here)
    if not name or not _NAME.match(name):
        raise UsageError(
            f"{here}: name takes letters, digits, '-', '_' and '.', e.g. name = \"checkout-p99\"",
            hint="every guard needs a name: logs, Events and the health endpoint use it",
        )
    settings = _tunables(entry, dict(defaults), here)
    for key in ("when", "then"):
        if not (text(entry, key, here) or "").strip():
            example = (
                "SELECT ... (every row is a breach)"
                if key == "when"
                else "UPDATE experiments SET paused = true WHERE ..."
            )
            raise UsageError(f"{here}: {key} is required", hint=f'{key} = "{example}"')
    when = _select(entry["when"], "when", here)
    verb, target, action_reason = _action(entry["then"], here)
    blind = text(entry, "blind", here)
    if blind is not None:
        blind = _select(blind, "blind", here)
    if settings["on_blind"] == "act" and not blind:
        raise UsageError(
            f'{here}: on_blind = "act" needs blind, the rows to act on while the guard cannot see',
            hint="e.g. blind = \"SELECT cluster, namespace, name, kind FROM experiments WHERE kind = 'NetworkChaos'\"",
        )
    columns = entry.get("key")
    if columns is not None and (
        not isinstance(columns, list) or not columns or not all(isinstance(c, str) and c for c in columns)
    ):
        raise UsageError(f'{here}: key takes a list of column names, e.g. key = ["cluster", "namespace", "name"]')
    reason = text(entry, "reason", here)
    if reason is not None and not _REASON.match(reason):
        raise UsageError(f"{here}: reason takes one CamelCase word, as Kubernetes Events have, not {reason!r}")
    return Guard(
        name=name,
        description=text(entry, "description", here) or "",
        when=when,
        then=entry["then"].strip(),
        blind=blind,
        key=list(columns) if columns else None,
        value=text(entry, "value", here),
        reason=reason,
        target=target,
        verb=verb,
        action_reason=action_reason,
        every=settings["every"],
        for_=settings["for"],
        cooldown=settings["cooldown"],
        max_rows=settings["max_rows"],
        dry_run=settings["dry_run"],
        on_blind=settings["on_blind"],
        timeout=settings["timeout"],
    )


def _tunables(table: dict, into: dict[str, Any], where: str) -> dict[str, Any]:
    """The tunables ``table`` sets, over ``into`` (the defaults), each checked."""
    into["every"] = duration(table, "every", where, into["every"])
    into["for"] = duration(table, "for", where, into["for"], zero=True)
    into["cooldown"] = duration(table, "cooldown", where, into["cooldown"], zero=True)
    into["timeout"] = duration(table, "timeout", where, into["timeout"])
    into["max_rows"] = whole(table, "max_rows", where, into["max_rows"], least=1)
    into["dry_run"] = flag(table, "dry_run", where, into["dry_run"])
    on_blind = text(table, "on_blind", where)
    if on_blind is not None:
        if on_blind not in ON_BLIND:
            raise UsageError(f'{where}: on_blind takes "hold" or "act", not {on_blind!r}')
        into["on_blind"] = on_blind
    return into


# --- the SQL ----------------------------------------------------------------------------------


def parse_one(sql: str, key: str, where: str) -> Any:
    """One statement parsed as chaosql parses it (DuckDB's dialect), or a UsageError naming the key."""
    import sqlglot
    from sqlglot.errors import ParseError, TokenError

    from chaosql.engine.dialect import DuckDB, as_duckdb

    try:
        trees = [t for t in sqlglot.parse(sql, read=DuckDB) if t is not None]
    except (ParseError, TokenError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise UsageError(f"{where}: {key} is not valid SQL: {first}") from None
    if len(trees) != 1:
        raise UsageError(f"{where}: {key} takes one statement, not {len(trees)}")
    return as_duckdb(trees[0])


def _select(sql: str, key: str, where: str) -> str:
    from sqlglot import exp

    tree = parse_one(sql, key, where)
    if not isinstance(tree, exp.Query):
        raise UsageError(
            f"{where}: {key} takes a SELECT (its rows are the breaches), not {type(tree).__name__.upper()}"
        )
    check_tables(tree, key, where)
    return sql.strip()


def _action(sql: str, where: str) -> tuple[str, str, str]:
    """``then``: one INSERT, UPDATE or DELETE on a chaos table chaosql writes; (verb, table, the
    Event reason for what it does)."""
    from sqlglot import exp

    from chaosql.writers.objects import WRITABLE

    tree = parse_one(sql, "then", where)
    verbs = {exp.Insert: "INSERT", exp.Update: "UPDATE", exp.Delete: "DELETE"}
    verb = verbs.get(type(tree))
    if verb is None:
        raise UsageError(
            f"{where}: then takes an INSERT, UPDATE or DELETE on a chaos table, not {type(tree).__name__.upper()}",
            hint='e.g. then = "UPDATE experiments SET paused = true WHERE (cluster, namespace, name, kind) '
            'IN (SELECT cluster, namespace, name, kind FROM breach)"',
        )
    target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
    name = target.name.lower() if isinstance(target, exp.Table) else ""
    if name not in WRITABLE or (isinstance(target, exp.Table) and target.db):
        raise UsageError(
            f"{where}: then may only change chaos tables ({', '.join(WRITABLE)}), not {name or target.sql()!r}",
            hint="a guard acts on chaos experiments; it never writes anything else",
        )
    if tree.args.get("returning"):
        raise UsageError(f"{where}: then takes no RETURNING: the guard reads back what it changed itself")
    check_tables(tree, "then", where, extra={BREACH})
    return verb, name, _reason_of(tree, verb)


def _reason_of(tree: Any, verb: str) -> str:
    """ChaosqlGuardPaused for ``SET paused = true``, ChaosqlGuardResumed for false, else by verb.

    >>> _reason_of(parse_one("UPDATE experiments SET paused = true WHERE name = 'x'", "then", ""), "UPDATE")
    'ChaosqlGuardPaused'
    """
    from sqlglot import exp

    if verb == "UPDATE":
        for item in tree.expressions:
            if isinstance(item, exp.EQ) and isinstance(item.this, exp.Column) and item.this.name.lower() == "paused":
                if isinstance(item.expression, exp.Boolean):
                    return "ChaosqlGuardPaused" if item.expression.this else "ChaosqlGuardResumed"
    return {"DELETE": "ChaosqlGuardDeleted", "INSERT": "ChaosqlGuardCreated"}.get(verb, "ChaosqlGuardUpdated")


def check_tables(tree: Any, key: str, where: str, *, extra: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    """Every table the statement names is a chaosql table, a CTE of its own, or one of ``extra``."""
    from sqlglot import exp

    from chaosql.tables import registry

    known = set(registry()) | set(extra)
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier) or table.db:
            continue  # a table function, or a DuckDB catalog table (information_schema...)
        name = table.name.lower()
        if name not in known and name not in ctes:
            import difflib

            close = difflib.get_close_matches(name, sorted(known), n=1)
            raise UsageError(
                f"{where}: {key} reads an unknown table {table.name!r}",
                hint=f"did you mean {close[0]!r}?" if close else "tables: " + ", ".join(sorted(known)),
            )
