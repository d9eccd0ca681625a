"""A guard's action: its ``then`` DML, run over the breach rows through the session's writers.

The rows due for action are the table ``breach`` (registered in the session's DuckDB for the
statement). ``then`` is an ordinary chaosql write, so it gets what every write gets: a server-side
dry run of every operation first, then all of them or none (a failure half-way rolls back), and
a refusal when it would touch more than ``max_rows`` rows (the session's confirmation limit, with
nobody to confirm). A dry-run guard runs ``EXPLAIN ANALYZE`` instead: the plan, each call checked
by the server's dry run, nothing written.

Two rewrites keep that fast and tell what was changed, neither changing what the statement does:

* ``x IN (SELECT c FROM breach)`` and ``(a, b) IN (SELECT a, b FROM breach)`` become the list of
  the breach rows' values (an OR of ANDs for a tuple), so the write's read is pushed down to just
  those objects instead of listing every experiment of the cluster;
* a ``RETURNING`` of the changed objects' identity is added, for the log and the Events.

>>> import pyarrow as pa
>>> rows = pa.table({"namespace": ["shop"], "name": ["delay-1"], "p99": [0.5]})
>>> statement("UPDATE experiments SET paused = true WHERE (namespace, name) IN (SELECT namespace, name FROM breach)", rows, ["cluster", "namespace", "name"])
"UPDATE experiments SET paused = TRUE WHERE (namespace = 'shop' AND name = 'delay-1') RETURNING cluster, namespace, name"
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chaosql.errors import WriteRefused
from chaosql.guard.definition import BREACH, Guard, parse_one

if TYPE_CHECKING:
    import pyarrow as pa

    from chaosql.engine.session import Session

#: What identifies a changed object, where the target table has the column.
IDENTITY = ("cluster", "namespace", "name", "kind", "uid", "source")


@dataclass
class Outcome:
    """What one action did: the statement as run, and the objects changed (or, dry, the plan)."""

    statement: str
    status: str = ""
    changed: list[dict[str, Any]] = field(default_factory=list)
    plan: list[dict[str, Any]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)  # dry run: the calls made to check the plan
    warnings: list[str] = field(default_factory=list)
    over_limit: bool = False  # dry run: the real action would be refused (more than max_rows)


def run(session: Session, guard: Guard, breach: pa.Table) -> Outcome:
    """Run ``guard.then`` over ``breach`` (dry: explain it); raises the write's error unchanged."""
    table = session.tables[guard.target]
    sql = statement(guard.then, breach, [c for c in IDENTITY if c in table.column_names])
    session.con.register(BREACH, breach)
    saved_confirm, saved_limit = session.confirm, session.settings["confirm_rows"]
    session.set("confirm_rows", guard.max_rows)
    session.confirm = _refuse_over(guard)
    try:
        if guard.dry_run:
            rows = session.execute("EXPLAIN ANALYZE " + sql).dicts()
            plan = [r for r in rows if r["method"] != "call"]  # then come the calls it made: reads, dry runs
            calls = [r["path"] for r in rows if r["method"] == "call"]
            return Outcome(sql, f"DRY RUN {len(plan)}", plan=plan, calls=calls, over_limit=len(plan) > guard.max_rows)
        result = session.execute(sql)
        return Outcome(sql, result.status, changed=result.dicts(), warnings=list(result.warnings))
    finally:
        session.confirm = saved_confirm
        session.set("confirm_rows", saved_limit)
        try:
            session.con.unregister(BREACH)
        except Exception:
            pass


def _refuse_over(guard: Guard) -> Any:
    def refuse(question: str) -> bool:
        raise WriteRefused(
            f"guard {guard.name}: then would touch more than max_rows = {guard.max_rows} rows; nothing was written",
            hint="check the when query, or raise max_rows if that many objects should be acted on",
        )

    return refuse


def statement(then: str, breach: pa.Table, returning: list[str]) -> str:
    """``then`` with its ``IN (SELECT ... FROM breach)`` as literal lists and a RETURNING added."""
    from sqlglot import exp

    tree = parse_one(then, "then", "guard")
    values = {name: breach.column(name).to_pylist() for name in breach.column_names}
    for node in list(tree.find_all(exp.In)):
        columns = _breach_columns(node.args.get("query"))
        if columns is None or any(c not in values for c in columns):
            continue
        literal_rows = {tuple(values[c][i] for c in columns) for i in range(breach.num_rows)}
        if not literal_rows or not all(_literal_ok(v) for row in literal_rows for v in row):
            continue  # the subquery stays; DuckDB reads the registered table
        ordered = sorted(literal_rows, key=lambda row: tuple((v is None, str(v)) for v in row))
        node.replace(_as_literals(node.this, ordered))
    if returning:
        tree.set("returning", exp.Returning(expressions=[exp.column(c) for c in returning]))
    return tree.sql(dialect="duckdb")


def _breach_columns(query: Any) -> list[str] | None:
    """The columns of ``(SELECT a, b FROM breach)`` when the subquery is exactly that, else None."""
    from sqlglot import exp

    select = query.this if isinstance(query, exp.Subquery) else query
    if not isinstance(select, exp.Select):
        return None
    if any(v for k, v in select.args.items() if k not in ("expressions", "from_", "kind") and v):
        return None  # WHERE, DISTINCT, GROUP BY, LIMIT, joins...: not a plain list of the rows
    source = select.args.get("from_")
    table = source.this if source is not None else None
    if not isinstance(table, exp.Table) or table.name.lower() != BREACH or table.db:
        return None
    alias = table.alias_or_name
    columns = []
    for item in select.expressions:
        if not isinstance(item, exp.Column) or (item.table and item.table != alias):
            return None
        columns.append(item.name)
    return columns


def _literal_ok(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return value is None or isinstance(value, (str, int, bool))


def _as_literals(left: Any, rows: list[tuple]) -> Any:
    from sqlglot import exp

    if isinstance(left, exp.Tuple):
        width = len(left.expressions)
        if any(len(row) != width for row in rows):
            raise WriteRefused("then: a tuple IN (SELECT ... FROM breach) selects as many columns as the tuple has")
        matches = [
            exp.and_(*(exp.EQ(this=col.copy(), expression=exp.convert(v)) for col, v in zip(left.expressions, row)))
            for row in rows
        ]
        return exp.paren(exp.or_(*matches))
    return exp.In(this=left.copy(), expressions=[exp.convert(row[0]) for row in rows])
