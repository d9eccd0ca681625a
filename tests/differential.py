"""The differential harness: random SELECTs over the chaos tables, each run three ways.

1. chaosql with pushdown on (predicates, projection and time ranges pushed to the sources),
2. chaosql with pushdown off (every row fetched, DuckDB filters),
3. plain DuckDB over the same rows, fetched once (pushdown off) and registered as views of the
   same names, running the statement's own text (no rewrite, no pushdown).

The three answers must be the same multiset of rows (order is not compared; floats are compared
to 10 significant digits, NaN equals NaN, times as UTC instants). An error is an answer too: all
three must fail, or none. The statements cover joins (inner, outer, semi, anti, parenthesised),
predicates on pushdown keys (``=``, ``IN``, ``OR``, ``NOT``, labels, JSON), CTEs (including one
named like the table it reads), subqueries, set operations, PIVOT/UNPIVOT (statement and table
level), sampling (always with a seed, so it is deterministic), column-alias lists, time ranges
written as strings, dates, naive and zoned timestamps, and session time zones.

``run(world, count, seed)`` gives a ``Report``; ``tests/test_differential.py`` runs a fixed seed
in CI, ``CHAOSQL_DIFF_STATEMENTS=20000`` runs more locally.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

#: Tables the demo and history sources fill, and the history snapshots taken of the demo.
TABLES = [
    "experiments",
    "targets",
    "pods",
    "nodes",
    "events",
    "schedules",
    "workflows",
    "workflow_nodes",
    "history_experiments",
    "history_targets",
    "history_events",
]
#: A late-evening snapshot: its UTC day differs from its day in Asia/Tokyo.
SNAPSHOTS = ["2026-11-13T12:00:00+00:00", "2026-11-17T06:00:00+00:00", "2026-11-20T23:30:00+00:00"]
ZONES = ["UTC", "Asia/Tokyo", "America/Los_Angeles", "Europe/Berlin", "Asia/Kolkata"]
#: (left, right, column pairs that relate their rows)
JOINS = [
    ("experiments", "targets", [("cluster", "cluster"), ("namespace", "namespace"), ("name", "experiment")]),
    ("targets", "pods", [("cluster", "cluster"), ("target_namespace", "namespace"), ("pod", "name")]),
    ("pods", "nodes", [("cluster", "cluster"), ("node", "name")]),
    ("targets", "nodes", [("cluster", "cluster"), ("node", "name")]),
    ("experiments", "events", [("cluster", "cluster"), ("namespace", "namespace"), ("name", "object_name")]),
    ("schedules", "experiments", [("cluster", "cluster"), ("namespace", "namespace"), ("name", "schedule")]),
    ("workflows", "workflow_nodes", [("cluster", "cluster"), ("namespace", "namespace"), ("name", "workflow")]),
    ("experiments", "experiments", [("cluster", "cluster"), ("kind", "kind"), ("namespace", "namespace")]),
    ("history_experiments", "experiments", [("cluster", "cluster"), ("namespace", "namespace"), ("name", "name")]),
    ("history_experiments", "history_targets", [("snapshot_at", "snapshot_at"), ("name", "experiment")]),
    ("history_events", "events", [("cluster", "cluster"), ("uid", "uid")]),
]
SCALAR = {"VARCHAR", "BIGINT", "INTEGER", "DOUBLE", "BOOLEAN", "TIMESTAMPTZ"}


def world_over(source: Any, root: Path) -> World:
    """The three engines over ``source`` (the demo) and a history of it under ``root``: the
    tables ``source`` serves, snapshotted at each of ``SNAPSHOTS``."""
    from chaosql.engine.session import Session
    from chaosql.reports.snapshot import take
    from chaosql.sources.history import HistorySource

    snapshotter = Session([source])
    try:
        for at in SNAPSHOTS:
            written = take(snapshotter, root, at=datetime.fromisoformat(at))
            assert not [w.error for w in written if w.error], written
    finally:
        snapshotter.close()
    return World.build([source, HistorySource(root, name="history")])


# --- the three engines --------------------------------------------------------------------------


@dataclass
class World:
    """chaosql with pushdown on and off over the same sources, and plain DuckDB over their rows."""

    on: Any
    off: Any
    plain: Any
    columns: dict[str, list[tuple[str, str, str | None]]]  # table -> (name, type, pushdown key)
    values: dict[tuple[str, str], list[Any]]  # (table, column) -> values seen (VARCHAR, BIGINT)
    label_pairs: dict[str, list[tuple[str, str]]]  # table -> (key, value) seen in labels
    instants: list[datetime]  # times seen in the data (snapshot times first)

    @classmethod
    def build(cls, sources: list[Any]) -> World:
        import duckdb

        from chaosql.engine.session import Session
        from chaosql.tables import registry

        on, off = Session(sources), Session(sources, settings={"pushdown": False})
        plain = duckdb.connect(":memory:")
        # a seeded sample is repeatable only over rows in the same order, read on one thread
        for session in (on, off):
            session.execute("SET threads = 1")
        plain.execute("SET threads = 1")
        tables = registry()
        columns, values, labels = {}, {}, {}
        fetched: dict[str, Any] = {}
        register = off.register_rows

        def keep(name: str, data: Any) -> str:  # the rows exactly as chaosql fetched them
            fetched[name] = data
            return register(name, data)

        off.register_rows = keep
        for name in TABLES:
            table = tables[name]
            columns[name] = [(c.name, c.type, c.key) for c in table.columns]
            off.execute(f'SELECT count(*) FROM "{name}"')
            # The same Arrow data, not a copy DuckDB re-chunked: a seeded sample depends on the chunks.
            plain.register(f"{name}_rows", fetched[name])
            casts = [f'CAST("{c.name}" AS JSON) AS "{c.name}"' for c in table.columns if c.type == "JSON"]
            replace = f" REPLACE ({', '.join(casts)})" if casts else ""
            plain.execute(f'CREATE VIEW "{name}" AS SELECT *{replace} FROM "{name}_rows"')
            for col in table.columns:
                if col.type in ("VARCHAR", "BIGINT"):
                    seen = plain.execute(
                        f'SELECT DISTINCT "{col.name}" FROM "{name}" WHERE "{col.name}" IS NOT NULL ORDER BY 1 LIMIT 40'
                    ).fetchall()
                    values[(name, col.name)] = [v for (v,) in seen]
            if "labels" in table.column_names:
                labels[name] = plain.execute(
                    f'SELECT DISTINCT k, labels[k] FROM (SELECT labels, unnest(map_keys(labels)) AS k FROM "{name}") ORDER BY ALL'
                ).fetchall()
        off.register_rows = register
        instants = [datetime.fromisoformat(s) for s in SNAPSHOTS]
        instants += [
            t
            for (t,) in plain.execute(
                "SELECT DISTINCT created_at FROM experiments UNION SELECT DISTINCT last_at FROM events ORDER BY 1"
            ).fetchall()
            if t is not None
        ][::97]
        return cls(on, off, plain, columns, values, labels, instants)

    def close(self) -> None:
        self.on.close()
        self.off.close()
        self.plain.close()


# --- running and comparing ----------------------------------------------------------------------


@dataclass
class Outcome:
    columns: list[str] = field(default_factory=list)
    rows: Counter = field(default_factory=Counter)
    error: str = ""

    def __str__(self) -> str:
        if self.error:
            return f"error: {self.error}"
        shown = sorted(self.rows.items(), key=repr)[:5]
        return f"{sum(self.rows.values())} rows, {len(self.rows)} distinct, e.g. {shown}"


def _value(value: Any) -> Any:
    """A hashable, comparable form: floats to 10 significant digits, times as UTC instants."""
    if value is None or type(value) in (str, int, bool):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        return value if math.isinf(value) else float(f"{value:.10g}")
    if isinstance(value, Decimal):
        return _value(float(value))
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, dict):
        return tuple(sorted(((_value(k), _value(v)) for k, v in value.items()), key=repr))
    if isinstance(value, (list, tuple)):
        return tuple(_value(v) for v in value)
    return value


def _outcome(run: Any) -> Outcome:
    try:
        columns, table = run()
    except Exception as err:  # any failure is an answer: all three must fail alike
        return Outcome(error=f"{type(err).__name__}: {str(err).splitlines()[0][:200]}")
    values = [column.to_pylist() for column in table.columns]  # by position: names may repeat
    rows = Counter(tuple(_value(v) for v in row) for row in zip(*values, strict=True))
    return Outcome(list(columns), rows)


def _same_rows(a: Counter, b: Counter) -> bool:
    """Equal multisets; failing that, equal within float rounding (two floats either side of a
    rounding edge), matched row by row in sorted order."""
    if a == b:
        return True
    if sum(a.values()) != sum(b.values()):
        return False
    left, right = sorted(a.elements(), key=repr), sorted(b.elements(), key=repr)
    return all(_close(x, y) for x, y in zip(left, right, strict=True))


def _close(x: Any, y: Any) -> bool:
    if isinstance(x, float) and isinstance(y, float):
        return math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(x, tuple) and isinstance(y, tuple):
        return len(x) == len(y) and all(_close(a, b) for a, b in zip(x, y, strict=True))
    return x == y


@dataclass
class Case:
    sql: str
    zone: str
    on: Outcome
    off: Outcome
    plain: Outcome

    def problem(self) -> str:
        """'' when all three agree; else what differs."""
        if bool(self.on.error) != bool(self.off.error):
            return "pushdown on and off disagree on failing"
        if not self.on.error and (self.on.columns != self.off.columns or not _same_rows(self.on.rows, self.off.rows)):
            return "pushdown on and off answer differently"
        if self.plain.error and self.off.error:
            return ""
        if self.off.error:
            return "chaosql refuses what DuckDB answers"
        if self.plain.error:
            return "chaosql answers what DuckDB refuses"
        if len(self.off.columns) != len(self.plain.columns) or not _same_rows(self.off.rows, self.plain.rows):
            return "chaosql and plain DuckDB answer differently"
        return ""

    def describe(self) -> str:
        return (
            f"{self.problem()}\n  SET TimeZone = '{self.zone}'; {self.sql}\n"
            f"  pushdown on:  {self.on}\n  pushdown off: {self.off}\n  plain DuckDB: {self.plain}"
        )


def check(world: World, sql: str, zone: str = "UTC", plain_sql: str | None = None) -> Case:
    """Run ``sql`` in time zone ``zone`` three ways (plain DuckDB runs ``plain_sql`` when given:
    the same statement without syntax only chaosql reads, such as BETWEEN SYMMETRIC)."""
    for session in (world.on, world.off):
        session.execute(f"SET TimeZone = '{zone}'")
    world.plain.execute(f"SET TimeZone = '{zone}'")

    def chaosql(session: Any) -> Any:
        result = session.execute(sql)
        return result.columns, result.arrow()

    def plain() -> Any:
        relation = world.plain.sql(plain_sql or sql)
        return relation.columns, relation.to_arrow_table()

    return Case(sql, zone, _outcome(lambda: chaosql(world.on)), _outcome(lambda: chaosql(world.off)), _outcome(plain))


@dataclass
class Report:
    statements: int = 0
    failed_everywhere: int = 0  # statements all three refused alike (counted, not a mismatch)
    rows: int = 0
    mismatches: list[Case] = field(default_factory=list)
    shapes: Counter = field(default_factory=Counter)

    def summary(self) -> str:
        return (
            f"{self.statements} statements ({', '.join(f'{k} {v}' for k, v in sorted(self.shapes.items()))}), "
            f"{self.rows} rows compared, {self.failed_everywhere} failed alike everywhere, "
            f"{len(self.mismatches)} mismatches"
        )


def run(world: World, count: int, seed: int, *, progress: Any = None) -> Report:
    """``count`` random statements from ``seed``, each checked three ways."""
    gen = Generator(world, random.Random(seed))
    report = Report()
    for index in range(count):
        shape, sql, plain = gen.statement()
        zone = gen.rnd.choice(ZONES) if gen.rnd.random() < 0.3 else "UTC"
        case = check(world, sql, zone, plain)
        report.statements += 1
        report.shapes[shape] += 1
        report.rows += sum(case.plain.rows.values())
        if case.problem():
            report.mismatches.append(case)
        elif case.plain.error:
            report.failed_everywhere += 1
        if progress is not None and (index + 1) % 1000 == 0:
            progress(f"{index + 1}: {report.summary()}")
    return report


# --- the statements -----------------------------------------------------------------------------


class Generator:
    """Random SELECTs over ``TABLES``, built from the values the data holds (so they match rows)."""

    def __init__(self, world: World, rnd: random.Random) -> None:
        self.world = world
        self.rnd = rnd
        self._aliases = 0
        self.for_plain: dict[str, str] = {}  # text -> what plain DuckDB runs instead (same meaning)

    # -- helpers

    def alias(self) -> str:
        self._aliases += 1
        return f"a{self._aliases}"

    def chance(self, p: float) -> bool:
        return self.rnd.random() < p

    def cols(self, table: str, types: set[str] | None = None) -> list[tuple[str, str, str | None]]:
        return [c for c in self.world.columns[table] if types is None or c[1] in types]

    def string(self, text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    # -- literals

    def time_literal(self) -> str:
        """A time, written one of the ways people write them."""
        rnd = self.rnd
        roll = rnd.random()
        if roll < 0.03:
            return rnd.choice(["'infinity'", "'-infinity'", "NULL"])
        base = rnd.choice(self.world.instants)
        if roll < 0.15:
            base = datetime(2026, 11, rnd.randint(5, 22), tzinfo=UTC)
        if rnd.random() < 0.2:
            base += timedelta(minutes=rnd.choice([-90, -1, 1, 30, 600]))
        offset = rnd.choice([0, 0, 9, -8, 1, 5.5])
        local = base.astimezone(timezone(timedelta(hours=offset)))
        naive = local.replace(tzinfo=None)
        forms = [
            f"'{local.date().isoformat()}'",
            f"'{naive.strftime('%Y-%m-%d %H:%M')}'",
            f"'{naive.isoformat(sep=' ')}'",
            f"'{local.isoformat()}'",
            f"'{base.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}'",
            f"DATE '{local.date().isoformat()}'",
            f"TIMESTAMP '{naive.isoformat(sep=' ')}'",
            f"TIMESTAMPTZ '{local.isoformat(sep=' ')}'",
            f"CAST('{local.isoformat()}' AS TIMESTAMPTZ) - INTERVAL {rnd.randint(1, 48)} HOUR",
            f"TIMESTAMPTZ '{local.isoformat(sep=' ')}' + INTERVAL 1 DAY",
        ]
        return rnd.choice(forms)

    def value_of(self, table: str, column: str, ctype: str) -> str:
        rnd = self.rnd
        seen = self.world.values.get((table, column)) or []
        if ctype == "VARCHAR":
            if seen and rnd.random() < 0.9:
                return self.string(str(rnd.choice(seen)))
            return self.string(rnd.choice(["nope", "", "Shop", "shop ", "prod-eu"]))
        if ctype in ("BIGINT", "INTEGER"):
            number = rnd.choice(seen) if seen and rnd.random() < 0.8 else rnd.randint(-1, 5)
            return f"'{number}'" if rnd.random() < 0.2 else str(number)  # a string DuckDB casts
        if ctype == "DOUBLE":
            return rnd.choice(["0", "30", "60.5", "300", "3600", "1e3"])
        if ctype == "BOOLEAN":
            return rnd.choice(["true", "false", "'true'", "'f'"])
        if ctype == "TIMESTAMPTZ":
            return self.time_literal()
        return "NULL"

    # -- predicates

    def predicate(self, table: str, alias: str, depth: int = 0) -> str:
        rnd = self.rnd
        if depth < 2 and rnd.random() < 0.3:
            op = rnd.choice(["AND", "OR", "OR", "AND NOT"])
            left, right = self.predicate(table, alias, depth + 1), self.predicate(table, alias, depth + 1)
            return f"({left} {op} {right})"
        if depth < 2 and rnd.random() < 0.05:
            return f"NOT ({self.predicate(table, alias, depth + 1)})"
        return self.atom(table, alias)

    def atom(self, table: str, alias: str) -> str:
        rnd = self.rnd
        columns = self.world.columns[table]
        keyed = [c for c in columns if c[2] and c[1] in SCALAR]
        pool = keyed * 3 + [c for c in columns if c[1] in SCALAR]
        if "labels" in {c[0] for c in columns} and rnd.random() < 0.12:
            return self.label_atom(table, alias)
        if rnd.random() < 0.04 and any(c[1] == "JSON" for c in columns):
            col = next(c[0] for c in columns if c[1] == "JSON")
            return f"{alias}.{col}->>'$.action' {rnd.choice(['=', '<>'])} {self.string(rnd.choice(['delay', 'pod-kill', 'x']))}"
        name, ctype, _ = rnd.choice(pool)
        ref = f"{alias}.{name}"
        if ctype == "TIMESTAMPTZ":
            return self.time_atom(ref)
        value = lambda: self.value_of(table, name, ctype)  # noqa: E731
        roll = rnd.random()
        if roll < 0.35:
            return f"{ref} = {value()}" if rnd.random() < 0.85 else f"{value()} = {ref}"
        if roll < 0.55:
            items = ", ".join(value() for _ in range(rnd.randint(1, 4)))
            return f"{ref} {'NOT IN' if rnd.random() < 0.15 else 'IN'} ({items})"
        if roll < 0.65:
            return f"{ref} <> {value()}"
        if roll < 0.72:
            return f"{ref} IS {'NOT ' if rnd.random() < 0.5 else ''}NULL"
        if roll < 0.82 and ctype == "VARCHAR":
            return f"{ref} LIKE {self.string(rnd.choice(['%a%', 'p%', '%-%', 'shop']))}"
        if ctype in ("BIGINT", "INTEGER", "DOUBLE"):
            return f"{ref} {rnd.choice(['<', '<=', '>', '>='])} {value()}"
        return f"{ref} = {value()}"

    def time_atom(self, ref: str) -> str:
        rnd = self.rnd
        roll = rnd.random()
        if roll < 0.45:
            return f"{ref} {rnd.choice(['<', '<=', '>', '>='])} {self.time_literal()}"
        if roll < 0.6:
            low, high = self.time_literal(), self.time_literal()
            negated = "NOT " if rnd.random() < 0.1 else ""
            if rnd.random() < 0.4:  # Postgres syntax DuckDB lacks: plain DuckDB runs its meaning
                text = f"{ref} {negated}BETWEEN SYMMETRIC {low} AND {high}"
                self.for_plain[text] = f"{negated}({ref} BETWEEN {low} AND {high} OR {ref} BETWEEN {high} AND {low})"
                return text
            return f"{ref} {negated}BETWEEN {low} AND {high}"
        if roll < 0.8:
            return f"{ref} = {self.time_literal()}"
        if roll < 0.93:
            return f"{ref} IN ({', '.join(self.time_literal() for _ in range(rnd.randint(1, 3)))})"
        return f"{ref} IS NOT NULL"

    def label_atom(self, table: str, alias: str) -> str:
        rnd = self.rnd
        pairs = self.world.label_pairs.get(table) or [("team", "payments")]
        key, value = rnd.choice(pairs)
        if rnd.random() < 0.1:
            value = "nope"
        ref = f"{alias}.labels[{self.string(key)}]"
        roll = rnd.random()
        if roll < 0.6:
            return f"{ref} = {self.string(value)}"
        if roll < 0.85:
            others = [self.string(v) for k, v in rnd.sample(pairs, min(2, len(pairs)))]
            return f"{ref} IN ({self.string(value)}, {', '.join(others)})"
        return f"{ref} IS NULL"

    # -- projections

    def projection(self, sources: list[tuple[str, str]], *, aggregate: bool | None = None) -> tuple[str, str]:
        """A select list over ``sources`` ((table, alias) pairs) and its GROUP BY ('' for none)."""
        rnd = self.rnd
        if aggregate is None:
            aggregate = rnd.random() < 0.55
        picks = []
        for _ in range(rnd.randint(1, 3)):
            table, alias = rnd.choice(sources)
            name, ctype, _ = rnd.choice(self.cols(table, SCALAR))
            picks.append((f"{alias}.{name}", ctype))
        if not aggregate:
            if rnd.random() < 0.1:
                table, alias = rnd.choice(sources)
                extra = [c for c in self.cols(table) if c[1] not in SCALAR]
                if extra:
                    picks.append((f"{alias}.{rnd.choice(extra)[0]}", "other"))
            return ", ".join(dict.fromkeys(p for p, _ in picks)), ""
        groups = list(dict.fromkeys(p for p, _ in picks[: rnd.randint(0, 2)]))
        table, alias = rnd.choice(sources)
        aggregates = ["count(*)"]
        for _ in range(rnd.randint(0, 2)):
            name, ctype, _ = rnd.choice(self.cols(table, SCALAR))
            ref = f"{alias}.{name}"
            if ctype in ("BIGINT", "DOUBLE"):
                aggregates.append(rnd.choice([f"sum({ref})", f"max({ref})", f"avg({ref})"]))
            elif ctype == "VARCHAR":
                aggregates.append(
                    rnd.choice(
                        [f"count(DISTINCT {ref})", f"min({ref})", f"string_agg(DISTINCT {ref}, ',' ORDER BY {ref})"]
                    )
                )
            else:
                aggregates.append(rnd.choice([f"min({ref})", f"max({ref})", f"count({ref})"]))
        select = ", ".join(groups + aggregates)
        return select, (f" GROUP BY {', '.join(groups)}" if groups else "")

    # -- FROM items

    def table_ref(self, table: str, alias: str) -> str:
        """``table alias`` with, sometimes, a seeded sample."""
        rnd = self.rnd
        if rnd.random() < 0.06:
            method = rnd.choice([f"reservoir({rnd.randint(1, 40)} ROWS)", f"bernoulli({rnd.randint(5, 60)}%)"])
            return f"{table} {alias} TABLESAMPLE {method} REPEATABLE ({rnd.randint(1, 99)})"
        return f"{table} {alias}"

    def join_pair(self) -> tuple[str, str, list[tuple[str, str]]]:
        left, right, pairs = self.rnd.choice(JOINS)
        if self.rnd.random() < 0.5:
            left, right, pairs = right, left, [(b, a) for a, b in pairs]
        # the last pair relates rows most narrowly: always kept, or a join on cluster alone is a
        # cross product of millions of rows
        keep = [p for p in pairs[:-1] if self.rnd.random() < 0.6] + [pairs[-1]]
        return left, right, keep

    # -- statements

    def statement(self) -> tuple[str, str, str]:
        """(shape, statement, the statement as plain DuckDB runs it)"""
        self._aliases = 0
        self.for_plain = {}
        shapes = [
            ("single", 20, self.single),
            ("join", 14, self.join),
            ("nested_join", 4, self.nested_join),
            ("special_join", 4, self.special_join),
            ("cte", 8, self.cte),
            ("cte_same_name", 5, self.cte_same_name),
            ("set_operation", 7, self.set_operation),
            ("subquery", 7, self.subquery),
            ("pivot", 5, self.pivot),
            ("unpivot", 5, self.unpivot),
            ("sample", 5, self.sample),
            ("alias_columns", 4, self.alias_columns),
            ("ordered_limit", 4, self.ordered_limit),
            ("history_range", 12, self.history_range),
            ("other_sql", 8, self.other_sql),
        ]
        name, _, make = self.rnd.choices(shapes, weights=[w for _, w, _ in shapes])[0]
        sql = make()
        plain = sql
        for text, meaning in self.for_plain.items():
            plain = plain.replace(text, meaning)
        return name, sql, plain

    def single(self, table: str | None = None) -> str:
        table = table or self.rnd.choice(TABLES)
        alias = self.alias()
        select, group = self.projection([(table, alias)])
        where = f" WHERE {self.predicate(table, alias)}" if self.chance(0.9) else ""
        return f"SELECT {select} FROM {self.table_ref(table, alias)}{where}{group}"

    def join(self) -> str:
        rnd = self.rnd
        left, right, pairs = self.join_pair()
        a, b = self.alias(), self.alias()
        kind = rnd.choice(["JOIN", "JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN", "SEMI JOIN", "ANTI JOIN"])
        on = " AND ".join(f"{a}.{x} = {b}.{y}" for x, y in pairs)
        if self.chance(0.3):
            on += f" AND {self.predicate(right, b, 1)}"
        sources = [(left, a)] if kind in ("SEMI JOIN", "ANTI JOIN") else [(left, a), (right, b)]
        select, group = self.projection(sources)
        conditions = [self.predicate(t, al) for t, al in sources if self.chance(0.6)]
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        return f"SELECT {select} FROM {self.table_ref(left, a)} {kind} {self.table_ref(right, b)} ON {on}{where}{group}"

    def special_join(self) -> str:
        """Joins whose pairing depends on every row of a side: POSITIONAL (by row number), ASOF (the
        nearest earlier row), NATURAL (on every shared column)."""
        rnd = self.rnd
        a, b = self.alias(), self.alias()
        roll = rnd.random()
        if roll < 0.35:
            left, right = rnd.choice(TABLES), rnd.choice(TABLES)
            joined = f"{left} {a} POSITIONAL JOIN {right} {b}"
        elif roll < 0.7:
            left, right = rnd.choice([("experiments", "events"), ("history_experiments", "history_events")])
            kind = rnd.choice(["ASOF JOIN", "ASOF LEFT JOIN"])
            joined = f"{left} {a} {kind} {right} {b} ON {a}.cluster = {b}.cluster AND {a}.created_at >= {b}.last_at"
        else:
            left, right, _ = self.join_pair()
            joined = f"{left} {a} NATURAL JOIN {right} {b}"
        sources = [(left, a), (right, b)]
        conditions = [self.predicate(t, al) for t, al in sources if self.chance(0.7)]
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        select, group = self.projection(sources)
        return f"SELECT {select} FROM {joined}{where}{group}"

    def nested_join(self) -> str:
        a, b, c = self.alias(), self.alias(), self.alias()
        inner = f"targets {b} JOIN pods {c} ON {c}.cluster = {b}.cluster AND {c}.name = {b}.pod"
        if self.chance(0.5):
            inner += f" AND {self.predicate('pods', c, 1)}"
        kind = self.rnd.choice(["JOIN", "LEFT JOIN"])
        select, group = self.projection([("experiments", a), ("targets", b), ("pods", c)])
        where = f" WHERE {self.predicate('experiments', a)}" if self.chance(0.7) else ""
        return (
            f"SELECT {select} FROM experiments {a} {kind} ({inner}) "
            f"ON {b}.cluster = {a}.cluster AND {b}.experiment = {a}.name{where}{group}"
        )

    def cte(self) -> str:
        table = self.rnd.choice(TABLES)
        a, b = self.alias(), self.alias()
        body = f"SELECT * FROM {table} {a} WHERE {self.predicate(table, a)}"
        select, group = self.projection([(table, b)])
        where = f" WHERE {self.predicate(table, b)}" if self.chance(0.6) else ""
        query = f"WITH x AS ({body}) SELECT {select} FROM x {b}{where}{group}"
        if self.chance(0.3):  # the CTE and the table itself in one statement
            c = self.alias()
            names = {col[0] for col in self.world.columns[table]}
            same = next(n for n in ("uid", "target_id", "name", "cluster") if n in names)
            query = (
                f"WITH x AS ({body}) SELECT count(*) FROM x {b} JOIN {table} {c} ON {c}.{same} = {b}.{same} "
                f"WHERE {self.predicate(table, c)}"
            )
        return query

    def cte_same_name(self) -> str:
        """A CTE named like the table it reads: its body sees the table, the rest sees the CTE."""
        rnd = self.rnd
        table = rnd.choice(TABLES)
        a, b = self.alias(), self.alias()
        body = f"SELECT * FROM {table} {a} WHERE {self.predicate(table, a)}"
        select, group = self.projection([(table, b)])
        where = f" WHERE {self.predicate(table, b)}" if self.chance(0.5) else ""
        roll = rnd.random()
        if roll < 0.5:
            return f"WITH {table} AS ({body}) SELECT {select} FROM {table} {b}{where}{group}"
        if roll < 0.7:  # a later CTE sees the earlier one, not the table
            return f"WITH {table} AS ({body}), y AS (SELECT * FROM {table}) SELECT {select} FROM y {b}{where}{group}"
        if roll < 0.85:  # an earlier CTE sees the table, not the later one
            return f"WITH y AS (SELECT * FROM {table}), {table} AS ({body}) SELECT count(*) FROM y {b}{where}"
        # WITH RECURSIVE: the first branch reads the table, the recursive one the CTE (and stops at once)
        return (
            f"WITH RECURSIVE {table} AS ({body} UNION ALL SELECT * FROM {table} WHERE false) "
            f"SELECT {select} FROM {table} {b}{where}{group}"
        )

    def set_operation(self) -> str:
        rnd = self.rnd
        table = rnd.choice(TABLES)
        columns = rnd.sample(self.cols(table, {"VARCHAR", "BIGINT", "TIMESTAMPTZ", "BOOLEAN"}), 2)
        names = lambda al: ", ".join(f"{al}.{c[0]}" for c in columns)  # noqa: E731
        a, b = self.alias(), self.alias()
        op = rnd.choice(["UNION", "UNION ALL", "INTERSECT", "EXCEPT", "INTERSECT ALL", "EXCEPT ALL"])
        return (
            f"SELECT {names(a)} FROM {table} {a} WHERE {self.predicate(table, a)} {op} "
            f"SELECT {names(b)} FROM {table} {b} WHERE {self.predicate(table, b)}"
        )

    def subquery(self) -> str:
        rnd = self.rnd
        left, right, pairs = self.join_pair()
        a, b = self.alias(), self.alias()
        x, y = pairs[-1]
        select, group = self.projection([(left, a)])
        if rnd.random() < 0.5:
            inner = f"SELECT {b}.{y} FROM {right} {b} WHERE {self.predicate(right, b)}"
            test = f"{a}.{x} {'NOT IN' if rnd.random() < 0.2 else 'IN'} ({inner})"
        else:
            inner = f"SELECT 1 FROM {right} {b} WHERE {b}.{y} = {a}.{x} AND {self.predicate(right, b)}"
            test = f"{'NOT ' if rnd.random() < 0.2 else ''}EXISTS ({inner})"
        extra = f" AND {self.predicate(left, a)}" if self.chance(0.5) else ""
        return f"SELECT {select} FROM {left} {a} WHERE {test}{extra}{group}"

    def pivot(self) -> str:
        rnd = self.rnd
        table = rnd.choice(["experiments", "targets", "events", "history_experiments", "pods"])
        on = rnd.choice(
            {
                "experiments": ["phase", "kind", "cluster"],
                "targets": ["phase", "kind", "target_type"],
                "events": ["type", "reason"],
                "history_experiments": ["phase", "snapshot_at"],
                "pods": ["phase", "cluster"],
            }[table]
        )
        a = self.alias()
        roll = rnd.random()
        if roll < 0.3:  # the whole table: every other column is a group (issue 17, item 2)
            return f"PIVOT {table} ON {on} USING count(*)"
        by = rnd.choice([c[0] for c in self.cols(table, {"VARCHAR"}) if c[0] != on])
        if roll < 0.65:
            where = f" WHERE {self.predicate(table, a)}" if self.chance(0.7) else ""
            return f"PIVOT (SELECT * FROM {table} {a}{where}) ON {on} USING count(*) GROUP BY {by}"
        values = ", ".join(self.string(str(v)) for v in (self.world.values.get((table, on)) or ["x"])[:3])
        if on == "snapshot_at":
            return f"PIVOT {table} ON {on} USING count(*) GROUP BY {by}"
        seen = self.world.values.get((table, by)) or ["x"]
        where = f" WHERE p.{by} IN ({self.string(str(rnd.choice(seen)))}, 'nope')" if self.chance(0.5) else ""
        return f"SELECT * FROM {table} PIVOT (count(*) FOR {on} IN ({values}) GROUP BY {by}) AS p{where}"

    def unpivot(self) -> str:
        rnd = self.rnd
        table = rnd.choice(["experiments", "targets", "history_experiments"])
        numbers = [c[0] for c in self.cols(table, {"BIGINT"})]
        picked = ", ".join(rnd.sample(numbers, 2))
        roll = rnd.random()
        if roll < 0.35:
            return f"UNPIVOT {table} ON {picked} INTO NAME k VALUE v"
        if roll < 0.6:
            return f"SELECT k, count(*), sum(v) FROM (UNPIVOT {table} ON {picked} INTO NAME k VALUE v) GROUP BY k"
        where = f" WHERE {self.predicate(table, 'u')}" if self.chance(0.6) else ""
        return f"SELECT k, count(*), sum(v) FROM {table} UNPIVOT (v FOR k IN ({picked})) AS u{where} GROUP BY k"

    def sample(self) -> str:
        rnd = self.rnd
        table = rnd.choice(TABLES)
        a = self.alias()
        where = f" WHERE {self.predicate(table, a)}" if self.chance(0.8) else ""
        if rnd.random() < 0.5:
            method = rnd.choice([f"reservoir({rnd.randint(1, 30)} ROWS)", f"bernoulli({rnd.randint(5, 50)}%)"])
            return f"SELECT count(*), min({a}.cluster) FROM {table} {a} TABLESAMPLE {method} REPEATABLE ({rnd.randint(1, 99)}){where}"
        size = rnd.choice([f"{rnd.randint(1, 30)} ROWS", f"{rnd.randint(5, 50)}% (bernoulli, {rnd.randint(1, 99)})"])
        if "ROWS" in size:
            size += f" (reservoir, {rnd.randint(1, 99)})"
        select, _ = self.projection([(table, a)], aggregate=False)
        return f"SELECT {select} FROM {table} {a}{where} USING SAMPLE {size}"

    def alias_columns(self) -> str:
        rnd = self.rnd
        table = rnd.choice(TABLES)
        columns = self.world.columns[table]
        count = rnd.randint(1, 3)
        names = [f"c{i}" for i in range(count)]
        if rnd.random() < 0.3:  # a new name that clashes with a later column (DuckDB renames that one)
            names[0] = rnd.choice([c[0] for c in columns[count:]])
        used = [(n, columns[i][1]) for i, n in enumerate(names)]
        a = "t"
        conditions = []
        for name, ctype in used:
            if ctype == "VARCHAR" and rnd.random() < 0.7:
                seen = self.world.values.get((table, columns[names.index(name)][0])) or ["x"]
                conditions.append(f"{name} = {self.string(str(rnd.choice(seen)))}")
            elif ctype == "TIMESTAMPTZ":
                conditions.append(self.time_atom(name))
        if rnd.random() < 0.5:
            conditions.append(self.predicate(table, a))
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        shown = ", ".join(names[:2])
        return f"SELECT {shown}, count(*) FROM {table} AS {a}({', '.join(names)}){where} GROUP BY ALL"

    def ordered_limit(self) -> str:
        rnd = self.rnd
        table = rnd.choice(TABLES)
        a = self.alias()
        select, _ = self.projection([(table, a)], aggregate=False)
        select = ", ".join(
            p
            for p in select.split(", ")
            if p.split(".")[-1] not in ("labels", "annotations", "spec", "status", "selector", "containers")
        )
        select = select or f"{a}.cluster"
        return f"SELECT DISTINCT {select} FROM {table} {a} WHERE {self.predicate(table, a)} ORDER BY ALL LIMIT {rnd.randint(1, 20)}"

    def history_range(self) -> str:
        """Time ranges on the history tables, where they prune partitions."""
        rnd = self.rnd
        table = rnd.choice(["history_experiments", "history_targets", "history_events"])
        a = self.alias()
        atoms = [self.time_atom(f"{a}.snapshot_at") for _ in range(rnd.randint(1, 3))]
        joiner = rnd.choice([" AND ", " OR "])
        where = joiner.join(atoms)
        if rnd.random() < 0.4:
            where = f"({where}) AND {self.predicate(table, a)}"
        group = rnd.choice(["", f" GROUP BY {a}.snapshot_at", f" GROUP BY {a}.cluster"])
        select = "count(*)" + (f", {group.split()[-1]}" if group else "")
        return f"SELECT {select} FROM {table} {a} WHERE {where}{group}"

    def other_sql(self) -> str:
        """LATERAL, windows with QUALIFY, DISTINCT ON, HAVING, scalar subqueries, positional
        columns and table names written in other cases or with their schema."""
        rnd = self.rnd
        table = rnd.choice(TABLES)
        a, b = self.alias(), self.alias()
        key = rnd.choice([c[0] for c in self.cols(table, {"VARCHAR"})])
        roll = rnd.random()
        if roll < 0.15:
            written = rnd.choice([table.upper(), f'"{table}"', f"main.{table}", table.capitalize()])
            select, group = self.projection([(table, a)])
            return f"SELECT {select} FROM {written} {a} WHERE {self.predicate(table, a)}{group}"
        if roll < 0.3:
            return (
                f"SELECT {a}.{key}, {a}.cluster, row_number() OVER (PARTITION BY {a}.cluster ORDER BY {a}.{key}, {a}.cluster) AS n "
                f"FROM {table} {a} WHERE {self.predicate(table, a)} QUALIFY n <= {rnd.randint(1, 4)}"
            )
        if roll < 0.45:
            return (
                f"SELECT DISTINCT ON ({a}.{key}) {a}.{key}, count(*) OVER (PARTITION BY {a}.{key}) "
                f"FROM {table} {a} WHERE {self.predicate(table, a)} ORDER BY {a}.{key}"
            )
        if roll < 0.6:
            return (
                f"SELECT {a}.{key}, count(*) FROM {table} {a} WHERE {self.predicate(table, a)} "
                f"GROUP BY ALL HAVING count(*) > {rnd.randint(0, 5)}"
            )
        if roll < 0.75:
            left, right, pairs = self.join_pair()
            x, y = pairs[-1]
            return (
                f"SELECT {a}.{x}, l.n FROM {left} {a}, LATERAL (SELECT count(*) AS n FROM {right} {b} "
                f"WHERE {b}.{y} = {a}.{x} AND {self.predicate(right, b)}) l WHERE {self.predicate(left, a)}"
            )
        if roll < 0.88:
            left, right, pairs = self.join_pair()
            x, y = pairs[-1]
            return (
                f"SELECT {a}.{x}, (SELECT count(*) FROM {right} {b} WHERE {b}.{y} = {a}.{x} "
                f"AND {self.predicate(right, b)}) FROM {left} {a} WHERE {self.predicate(left, a)}"
            )
        position = rnd.randint(1, 4)
        return f"SELECT #{position}, count(*) FROM {table} {a} WHERE {self.predicate(table, a)} GROUP BY #{position}"
