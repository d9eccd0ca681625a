"""Views a session creates over chaos tables.

A chaos table's rows are fetched for each statement and gone after it, so a DuckDB view over one
would read nothing (or a relation already dropped). A ``CREATE VIEW`` that reads chaos tables is
therefore kept here as its definition, and every statement that reads the view gets the
definition in its place (a subquery under the view's name): the engine then sees, pushes down to
and fetches the chaos tables it reads, as if the statement had named them. DuckDB still gets the
view, over the empty stand-ins of the chaos tables, so that binding a statement without running
it (a client's Describe) and DuckDB's own catalog know its columns.

Views are per session (PostgreSQL's temporary views): other connections do not see them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from chaosql.errors import SqlError

if TYPE_CHECKING:
    from sqlglot import exp

#: How deep views may read views (a cycle made with CREATE OR REPLACE stops here).
MAX_DEPTH = 32


class Views:
    """The session's views over chaos tables: name -> (column names or None, defining query)."""

    def __init__(self) -> None:
        self.defined: dict[str, tuple[list[str] | None, exp.Expr]] = {}

    def __contains__(self, name: str) -> bool:
        return name.lower() in self.defined

    def __iter__(self):
        return iter(self.defined)

    def expand(self, tree: exp.Expr) -> exp.Expr:
        """``tree`` with every view it reads replaced by the view's query (in place when it can).

        >>> import sqlglot
        >>> views = Views()
        >>> views.record(sqlglot.parse_one("CREATE VIEW v (n) AS SELECT name FROM experiments"), {"experiments"})
        True
        >>> views.expand(sqlglot.parse_one("SELECT n FROM v WHERE n > 'a'")).sql()
        "SELECT n FROM (SELECT name FROM experiments) AS v(n) WHERE n > 'a'"
        """
        if not self.defined:
            return tree
        for _ in range(MAX_DEPTH):
            found = self._references(tree)
            if not found:
                return tree
            for table in found:
                replacement = self._subquery(table)
                if table is tree:
                    return replacement
                table.replace(replacement)
        raise SqlError(f"views nest more than {MAX_DEPTH} deep (does a view read itself?)", sqlstate="42P17")

    def reads_chaos(self, tree: exp.Expr, tables: Iterable[str]) -> bool:
        """Whether ``tree`` reads a chaos table, directly or through a view."""
        from chaosql.engine import analyze

        return bool(analyze.virtual_refs(self.expand(tree.copy()), tables))

    def record(self, tree: exp.Expr, tables: Iterable[str]) -> bool:
        """Note ``CREATE VIEW``, ``DROP VIEW`` and ``ALTER VIEW ... RENAME``; returns whether ``tree``
        creates a view that reads chaos tables (the engine must not fetch for it)."""
        from sqlglot import exp

        if isinstance(tree, exp.Create) and str(tree.args.get("kind") or "").upper() == "VIEW":
            target = tree.this
            columns = None
            if isinstance(target, exp.Schema):
                columns = [c.name for c in target.expressions]
                target = target.this
            query = tree.expression
            if not isinstance(target, exp.Table) or query is None or not self.reads_chaos(query, tables):
                self.defined.pop(target.name.lower(), None)  # a plain DuckDB view of that name now
                return False
            self.defined[target.name.lower()] = (columns, query.copy())
            return True
        if isinstance(tree, exp.Drop) and str(tree.args.get("kind") or "").upper() == "VIEW":
            for table in tree.args.get("tables") or []:
                self.defined.pop(table.name.lower(), None)
        elif isinstance(tree, exp.Alter) and str(tree.args.get("kind") or "").upper() == "VIEW":
            old = tree.this.name.lower()
            for action in tree.args.get("actions") or []:
                if isinstance(action, exp.AlterRename) and old in self.defined:
                    self.defined[action.this.name.lower()] = self.defined.pop(old)
        return False

    def _references(self, tree: exp.Expr) -> list[exp.Table]:
        """The tables in ``tree`` that read a view (not the names a DDL or DML statement acts on)."""
        from sqlglot import exp

        from chaosql.engine import analyze

        def named(table: exp.Table) -> bool:
            parent = table.parent
            if isinstance(parent, exp.Schema):
                parent = parent.parent
            if isinstance(parent, (exp.Drop, exp.Alter, exp.AlterRename)):
                return True
            return isinstance(parent, (exp.Create, exp.Insert, exp.Update, exp.Delete)) and parent.this in (
                table,
                table.parent,
            )

        return [t for t in analyze.virtual_refs(tree, self.defined) if not named(t)]

    def _subquery(self, table: exp.Table) -> exp.Expr:
        from sqlglot import exp

        columns, query = self.defined[table.name.lower()]
        given = table.args.get("alias")
        alias = exp.TableAlias(this=exp.to_identifier(table.alias or table.name))
        if given is not None and given.columns:  # FROM v AS x(a, b)
            alias.set("columns", [c.copy() for c in given.columns])
        elif columns:
            alias.set("columns", [exp.to_identifier(c) for c in columns])
        return exp.Subquery(this=query.copy(), alias=alias)
