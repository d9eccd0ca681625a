"""chaosql's own statements, answered without a fetch: SET/RESET/SHOW chaosql.*, SHOW TABLES,
DESCRIBE t, EXPLAIN, and the empty catalog tables that let information_schema describe the virtual
tables. Which statements these are is decided in ``classify``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chaosql.engine.result import Result
from chaosql.errors import SqlError, UsageError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sqlglot import exp

    from chaosql.engine.classify import Classified
    from chaosql.engine.pushdown import Constraints
    from chaosql.sources.base import Call
    from chaosql.tables._table import Table


def answer_setting(session: Any, classified: Classified) -> Result | None:
    """``SHOW chaosql.x`` and ``RESET chaosql.x`` (no parse needed); None for anything else."""
    setting = classified.setting or ""
    if not setting.startswith("chaosql.") or classified.command not in ("SHOW", "RESET"):
        return None
    from chaosql.engine.settings import SETTINGS

    key = setting.removeprefix("chaosql.")
    if key == "answer_cache" and classified.command == "SHOW":  # not a setting: what the cache holds
        from chaosql.engine.answers import ANSWERS

        shown = Result.of_columns([setting], [[ANSWERS.describe()]], ["VARCHAR"])
        shown.status = "SHOW"
        return shown
    if key not in SETTINGS:
        raise SqlError(f'unrecognized configuration parameter "{setting}"', sqlstate="42704")
    if classified.command == "RESET":
        session.set(key, getattr(session, "initial_settings", {}).get(key, SETTINGS[key][0]))
        return Result(status="RESET")
    value = session.settings[key]
    text = ("on" if value else "off") if isinstance(value, bool) else str(value)
    shown = Result.of_columns([setting], [[text]], ["VARCHAR"])
    shown.status = "SHOW"
    return shown


def answer(session: Any, tree: exp.Expr) -> Result | None:
    """The answer to one of chaosql's own statements, or None for anything else."""
    from sqlglot import exp

    if isinstance(tree, exp.Set):
        mine = [i for i in tree.expressions if _set_name(i).startswith("chaosql.")]
        if mine:
            for item in mine:
                try:
                    session.set(_set_name(item), _set_value(item))
                except UsageError as err:  # PostgreSQL: 42704 unknown parameter, 22023 invalid value
                    unknown = err.message.startswith("unknown setting")
                    raise SqlError(err.message, hint=err.hint, sqlstate="42704" if unknown else "22023") from None
            return Result(status="SET")
    if isinstance(tree, exp.Show) and str(tree.name).upper() == "TABLES":
        tables = session.tables.values()
        return Result.of_columns(
            ["name", "description"], [[t.name for t in tables], [t.doc for t in tables]], ["VARCHAR", "VARCHAR"]
        )
    if isinstance(tree, exp.Describe) and isinstance(tree.this, exp.Table):
        name = tree.this.name.lower()
        if name in session.tables and not tree.this.db:
            cols = session.tables[name].columns
            return Result.of_columns(
                ["column_name", "column_type", "pushdown", "description"],
                [
                    [c.name for c in cols],
                    [c.type for c in cols],
                    [_pushdown_note(c) for c in cols],
                    [c.doc for c in cols],
                ],
                ["VARCHAR"] * 4,
            )
    return None


def create_catalog(con: Any, create: Iterable[Table], comment: Iterable[Table] = ()) -> None:
    """Empty tables with the virtual tables' schemas (``create``) and comments (``comment``), for
    introspection; in one transaction, which DuckDB applies much faster than statement by statement."""
    con.execute("BEGIN")
    try:
        for table in create:
            cols = ", ".join(f'"{c.name}" {c.type}' for c in table.columns)
            con.execute(f'CREATE OR REPLACE TABLE main."{table.name}" ({cols})')
        for table in comment:
            con.execute(f'COMMENT ON TABLE main."{table.name}" IS {_quote(table.doc)}')
            for c in table.columns:
                con.execute(f'COMMENT ON COLUMN main."{table.name}"."{c.name}" IS {_quote(c.doc)}')
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def reads_catalog(tree: exp.Expr | None) -> bool:
    """Whether a statement reads the catalog (information_schema, pg_catalog, duckdb_tables()...);
    None (DuckDB-only syntax sqlglot cannot read) counts as yes.

    >>> import sqlglot
    >>> reads_catalog(sqlglot.parse_one("SELECT 1")), reads_catalog(sqlglot.parse_one("SELECT * FROM information_schema.columns"))
    (False, True)
    >>> reads_catalog(sqlglot.parse_one("SELECT comment FROM duckdb_columns()", read="duckdb"))
    True
    """
    if tree is None:
        return True
    from sqlglot import exp

    for table in tree.find_all(exp.Table):
        if table.db.lower() in ("information_schema", "pg_catalog") or table.name.lower().startswith(
            ("duckdb_", "pg_")
        ):
            return True
    return any(f.name.lower().startswith(("duckdb_", "pragma_")) for f in tree.find_all(exp.Anonymous))


def explain(per_table: dict[str, Constraints], calls: list[Call] | None = None) -> Result:
    """EXPLAIN: what each table fetch pushes down; EXPLAIN ANALYZE (``calls``): the calls made."""
    steps, details = [], []
    for name, c in per_table.items():
        steps.append(f"fetch {name}")
        details.append(f"pushed down: {c.describe()}")
    if calls is not None:
        for call in calls:
            steps.append("call")
            details.append(str(call))
    else:
        steps.append("query")
        details.append("DuckDB runs the statement over the fetched rows and applies every predicate again")
    return Result.of_columns(["step", "detail"], [steps, details], ["VARCHAR", "VARCHAR"])


def _set_name(item: exp.Expr) -> str:
    from sqlglot import exp

    inner = item.this if isinstance(item, exp.SetItem) else item
    if isinstance(inner, exp.EQ):
        inner = inner.left
    return inner.sql(dialect="duckdb").strip('"').lower().replace('"', "")


def _set_value(item: exp.Expr) -> Any:
    from sqlglot import exp

    inner = item.this if isinstance(item, exp.SetItem) else item
    value = inner.right if isinstance(inner, exp.EQ) else None
    if isinstance(value, exp.Literal):
        return value.this
    if isinstance(value, exp.Boolean):
        return value.this
    return value.sql(dialect="duckdb") if value is not None else None


def _pushdown_note(col) -> str:
    if not col.key:
        return ""
    if col.key == "range":
        return "time range"
    return "=, IN" + (" (labels['key'])" if col.key == "labels" else "")


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
