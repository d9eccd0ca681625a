"""Find the virtual tables a statement reads, what each reference implies, and rewrite it.

Works on sqlglot expressions, never on SQL text. The steps, each a small function:

1. ``virtual_refs``: every ``Table`` node naming a virtual table (FROM, JOIN, CTE bodies,
   subqueries, IN-subqueries, UNION branches), minus names a CTE shadows;
2. ``reference_constraints``: the predicates implied for one reference (WHERE conjuncts of its
   SELECT, ON conjuncts of an inner or left join that only touch it);
3. ``rewrite``: point each reference at the relation holding the fetched rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlglot import exp

from chaosql.engine.pushdown import Constraints, Evaluator, implied


def virtual_refs(tree: exp.Expression, names: Iterable[str]) -> list[exp.Table]:
    """Table nodes in ``tree`` that read a virtual table.

    >>> import sqlglot
    >>> q = sqlglot.parse_one("WITH x AS (SELECT * FROM experiments) SELECT * FROM x, targets t WHERE 1 IN (SELECT 1 FROM experiments)")
    >>> sorted(t.name for t in virtual_refs(q, {"experiments", "targets"}))
    ['experiments', 'experiments', 'targets']
    """
    wanted = {n.lower() for n in names}
    refs = []
    for table in tree.find_all(exp.Table):
        name = table.name.lower()
        if name not in wanted or table.args.get("catalog"):
            continue
        if table.db and table.db.lower() not in ("main",):
            continue
        if not isinstance(table.this, exp.Identifier):
            continue  # table functions
        if _shadowed_by_cte(table, name):
            continue
        refs.append(table)
    return refs


def _shadowed_by_cte(table: exp.Table, name: str) -> bool:
    node: exp.Expression | None = table
    while node is not None:
        parent = node.parent
        with_ = parent.args.get("with_") or parent.args.get("with") if parent is not None else None
        if isinstance(with_, exp.With):
            for cte in with_.expressions:
                if cte.alias_or_name.lower() == name and (with_.args.get("recursive") or cte is not node):
                    return True
        node = parent
    return False


def reference_constraints(
    table: exp.Table,
    columns_of: Callable[[str], set[str] | None],
    *,
    range_columns: frozenset[str] = frozenset(),
    evaluate: Evaluator | None = None,
) -> Constraints:
    """Predicates every row read through ``table`` must satisfy for the statement's answer.

    ``columns_of(name)`` gives the columns of a virtual table (``None`` for anything else), so
    unqualified columns are resolved only when it is certain which table they belong to.
    """
    holder = table.parent
    select = holder.parent if isinstance(holder, (exp.From, exp.Join)) else None
    if not isinstance(select, exp.Select):
        return Constraints()
    alias = table.alias_or_name.lower()
    mine = columns_of(table.name.lower()) or set()
    sources = _scope_sources(select)

    def resolve(col: exp.Expression) -> str | None:
        if not isinstance(col, exp.Column) or col.args.get("db"):
            return None
        name = col.name.lower()
        if name not in mine:
            return None
        if col.table:
            return name if col.table.lower() == alias else None
        owners = [a for a, cols in sources.items() if cols is None or name in cols]
        return name if owners == [alias] else None

    result = Constraints()
    where = select.args.get("where")
    if where is not None:
        result = result.both(implied(where.this, resolve, range_columns=range_columns, evaluate=evaluate))
    if isinstance(holder, exp.Join) and holder.args.get("on") is not None:
        side = (holder.side or "").upper()
        kind = (holder.kind or "").upper()
        if side in ("", "LEFT") and kind in ("", "INNER", "OUTER", "SEMI"):
            on = holder.args["on"]
            touches_only_me = all(
                (c.table or "").lower() == alias or (not c.table and resolve(c)) for c in on.find_all(exp.Column)
            )
            if touches_only_me:
                result = result.both(implied(on, resolve, range_columns=range_columns, evaluate=evaluate))
            else:
                result = result.both(_conjuncts_only_mine(on, alias, resolve, range_columns, evaluate))
    return result


def _conjuncts_only_mine(on, alias, resolve, range_columns, evaluate) -> Constraints:
    out = Constraints()
    for part in on.flatten() if isinstance(on, exp.And) else [on]:
        cols = list(part.find_all(exp.Column))
        if cols and all((c.table or "").lower() == alias for c in cols):
            out = out.both(implied(part, resolve, range_columns=range_columns, evaluate=evaluate))
    return out


def _scope_sources(select: exp.Select) -> dict[str, set[str] | None]:
    """alias -> known column names (virtual tables only; ``None`` = unknown) of a SELECT's FROM."""
    from chaosql.tables import registry

    tables = registry()
    found: dict[str, set[str] | None] = {}
    from_ = select.args.get("from_") or select.args.get("from")
    items = ([from_.this] if from_ is not None else []) + [j.this for j in select.args.get("joins") or []]
    for item in items:
        alias = item.alias_or_name.lower()
        if (
            isinstance(item, exp.Table)
            and item.name.lower() in tables
            and not _shadowed_by_cte(item, item.name.lower())
        ):
            found[alias] = set(tables[item.name.lower()].column_names)
        else:
            found[alias] = None
    return found


def needed_columns(
    tree: exp.Expression, columns: Iterable[str], row_names: Iterable[str] = ()
) -> frozenset[str] | None:
    """Columns of a table the statement may read, or ``None`` for all of them.

    Conservative on purpose: every identifier anywhere in the statement counts (so aliases,
    USING lists and outer references are covered), and ``*``, ``COLUMNS(...)``, NATURAL joins or
    a whole-row reference (``row_names``: the table's aliases) mean all columns. Leaving out a column that is read would answer NULL,
    so when in doubt it is kept.

    >>> import sqlglot
    >>> sorted(needed_columns(sqlglot.parse_one("SELECT phase, count(*) FROM experiments"), ["phase", "spec", "name"]))
    ['phase']
    >>> needed_columns(sqlglot.parse_one("SELECT * FROM experiments"), ["phase"]) is None
    True
    """
    for star in tree.find_all(exp.Star):
        if not isinstance(star.parent, exp.Count):
            return None
    if any(type(f).__name__ == "Columns" or f.name.upper() == "COLUMNS" for f in tree.find_all(exp.Func)):
        return None
    row_names = {n.lower() for n in row_names}  # ``SELECT e FROM experiments e``: the whole row
    if any(not c.table and c.name.lower() in row_names for c in tree.find_all(exp.Column)):
        return None
    if any(j.args.get("method") or (j.args.get("kind") or "").upper() == "NATURAL" for j in tree.find_all(exp.Join)):
        return None
    names = {i.this.lower() for i in tree.find_all(exp.Identifier) if isinstance(i.this, str)}
    wanted = {c for c in columns if c.lower() in names}
    return frozenset(wanted)


def rewrite(tree: exp.Expression, refs: list[exp.Table], relation_for: Callable[[str], str]) -> exp.Expression:
    """Point each reference at ``relation_for(table_name)``, keeping the name as its alias."""
    for table in refs:
        original = table.name
        alias = table.alias or original
        replacement = exp.to_table(relation_for(original.lower()))
        replacement.set("alias", exp.TableAlias(this=exp.to_identifier(alias)))
        table.replace(replacement)
    return tree
