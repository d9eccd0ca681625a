"""Run the same SQL against chaosql and a real PostgreSQL 15 holding the same rows, and compare.

``load(dsn)`` creates chaosql's tables in PostgreSQL (same names, columns, comments, and the types
chaosql describes them with: VARCHAR is ``text``, JSON ``json``, maps ``jsonb``, lists arrays) and
copies the demo rows into them.
``outcome(con, sql)`` is what a client sees: column names, type oids, every value as the text
PostgreSQL sends (so ``3`` and ``3.5``, ``1 day 12:00:00``, ``+01`` offsets are compared exactly)
and the SQLSTATE of an error. Cases live in ``differential/*.sql``: statements separated by a line
``;;``, each with a ``-- name`` comment on its first line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CASES = HERE / "differential"


def pg_column_type(duck_type: str) -> str:
    """The PostgreSQL column type for a chaos table's DuckDB type: the type chaosql describes it
    with over the wire (``types.pg_type``), spelled as SQL spells it."""
    from chaosql.server.catalog import SQL_NAMES
    from chaosql.server.types import pg_type

    name = pg_type(duck_type)
    if name.startswith("_"):
        return SQL_NAMES.get(name[1:], name[1:]) + "[]"
    return SQL_NAMES.get(name, name)


#: Tables the demo source fills (the others are created empty).
FILLED = ("experiments", "targets", "pods", "nodes", "events", "schedules", "workflows", "workflow_nodes")


def load(dsn: str) -> None:
    """Create chaosql's tables in the PostgreSQL at ``dsn`` and copy the demo rows into them."""
    import psycopg

    from chaosql.engine.session import Session
    from chaosql.server.types import pg_type, text_value
    from chaosql.sources import open_source
    from chaosql.tables import registry

    session = Session([open_source("demo")])
    try:
        with psycopg.connect(dsn, autocommit=True) as con:
            for name, table in registry().items():
                cols = ", ".join(f'"{c.name}" {pg_column_type(c.type)}' for c in table.columns)
                con.execute(f'CREATE TABLE "{name}" ({cols})')
                con.execute(f'COMMENT ON TABLE "{name}" IS {_quote(table.doc)}')
                for c in table.columns:
                    con.execute(f'COMMENT ON COLUMN "{name}"."{c.name}" IS {_quote(c.doc)}')
                if name not in FILLED:
                    continue
                data = session.execute(f'SELECT * FROM "{name}"').arrow()
                # what psycopg cannot adapt as is (maps, intervals, lists) goes as the text chaosql sends
                as_text = {
                    c.name: pg_type(c.type)
                    for c in table.columns
                    if c.type.startswith(("MAP", "STRUCT", "INTERVAL")) or c.type.endswith("]")
                }
                names = data.column_names
                columns = ", ".join(f'"{n}"' for n in names)
                with con.cursor().copy(f'COPY "{name}" ({columns}) FROM STDIN') as copy:
                    for row in data.to_pylist():
                        copy.write_row(
                            [
                                text_value(row[n], as_text[n]) if n in as_text and row[n] is not None else row[n]
                                for n in names
                            ]
                        )
            con.execute("ANALYZE")
    finally:
        session.close()


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass
class Outcome:
    """What a client sees of one statement."""

    columns: list[tuple[str, int]] = field(default_factory=list)
    rows: list[tuple[str | None, ...]] = field(default_factory=list)
    sqlstate: str | None = None
    position: str | None = None  # an error's position in the statement (ErrorResponse field P)
    message: str = ""

    def summary(self) -> str:
        if self.sqlstate:
            return f"ERROR {self.sqlstate} at {self.position}: {self.message}"
        return f"columns={self.columns} rows={self.rows[:5]}{' ...' if len(self.rows) > 5 else ''} ({len(self.rows)})"


def text_connection(dsn: str, **kwargs: Any) -> Any:
    """A psycopg connection that returns every value as the text the server sent."""
    import psycopg
    from psycopg.adapt import Loader

    class Raw(Loader):
        def load(self, data: Any) -> str:
            return bytes(data).decode("utf-8")

    con = psycopg.connect(dsn, autocommit=True, **kwargs)
    for oid in range(1, 7000):
        con.adapters.register_loader(oid, Raw)
    for oid in (12000 + i for i in range(400)):
        con.adapters.register_loader(oid, Raw)
    return con


def outcome(con: Any, sql: str, params: Any = None) -> Outcome:
    import psycopg

    try:
        cur = con.execute(sql, params)
    except psycopg.Error as err:
        return Outcome(
            sqlstate=err.sqlstate or "?????",
            position=err.diag.statement_position,
            message=str(err).splitlines()[0] if str(err) else "",
        )
    if cur.description is None:
        return Outcome()
    return Outcome([(d.name, d.type_code) for d in cur.description], [tuple(r) for r in cur.fetchall()])


@dataclass
class Case:
    name: str
    sql: str
    ordered: bool


def cases(path: Path) -> list[Case]:
    out = []
    for chunk in path.read_text(encoding="utf-8").split("\n;;\n"):
        chunk = chunk.strip()
        if not chunk:
            continue
        first, _, body = chunk.partition("\n")
        m = re.match(r"--\s*(\S+)", first)
        if not m:
            raise ValueError(f"{path.name}: a case must start with '-- name': {chunk[:60]!r}")
        out.append(Case(m.group(1), body.strip(), ordered=_ordered(body)))
    return out


def _ordered(sql: str) -> bool:
    """Whether the statement's own result order is defined (a top-level ORDER BY)."""
    try:
        import sqlglot

        tree = sqlglot.parse_one(re.sub(r"OPERATOR\(pg_catalog\.(\S+?)\)", r"\1", sql), read="postgres")
    except Exception:
        return bool(re.search(r"\border\s+by\b[^()]*$", sql, re.I | re.S))
    return tree is not None and tree.args.get("order") is not None


def compare(case: Case, ours: Outcome, theirs: Outcome) -> str | None:
    """None when a client could not tell the two apart, else what differs."""
    if ours.sqlstate or theirs.sqlstate:
        if (ours.sqlstate, ours.position) != (theirs.sqlstate, theirs.position):
            return f"SQLSTATE: chaosql {ours.summary()} | postgres {theirs.summary()}"
        return None
    if ours.columns != theirs.columns:
        return f"columns: chaosql {ours.columns} | postgres {theirs.columns}"
    a, b = ours.rows, theirs.rows
    if not case.ordered:
        a, b = sorted(a, key=_key), sorted(b, key=_key)
    if a != b:
        diff = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
        return (
            f"rows ({len(a)} vs {len(b)}), first difference at {diff}: "
            f"chaosql {a[diff] if diff < len(a) else None} | postgres {b[diff] if diff < len(b) else None}"
        )
    return None


def _key(row: tuple) -> tuple:
    return tuple((v is None, v or "") for v in row)
