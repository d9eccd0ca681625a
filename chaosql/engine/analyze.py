"""Find the virtual tables a statement reads, what each reference implies, and rewrite it.

Works on sqlglot expressions, never on SQL text. The steps, each a small function:

1. ``virtual_refs``: every ``Table`` node naming a virtual table (FROM, JOIN, CTE bodies,
   subqueries, IN-subqueries, UNION branches), minus names a CTE shadows;
2. ``reference_constraints``: the predicates implied for one reference (WHERE conjuncts of its
   SELECT, ON conjuncts of an inner or left join that only touch it);
3. ``rewrite``: point each reference at the relation holding the fetched rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from sqlglot import exp

from chaosql.engine.pushdown import Constraints, Evaluator, implied


def virtual_refs(tree: exp.Expr, names: Iterable[str]) -> list[exp.Table]:
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
    """Whether a CTE called ``name`` that is visible where ``table`` stands hides the virtual table.

    As DuckDB scopes them: a query's CTEs are visible in its body; inside the WITH, a CTE sees only
    the CTEs before it, and itself only from the recursive branch (the right side of the UNION) of a
    WITH RECURSIVE. So ``WITH experiments AS (SELECT * FROM experiments WHERE ...)`` reads the table.
    """
    path: list[exp.Expr] = [table]
    node = table.parent
    while node is not None:
        child = path[-1]
        if isinstance(node, exp.With):
            ctes = list(node.expressions)
            index = next((i for i, cte in enumerate(ctes) if cte is child), len(ctes))
            if any(cte.alias_or_name.lower() == name for cte in ctes[:index]):
                return True
            if index < len(ctes) and ctes[index].alias_or_name.lower() == name and node.args.get("recursive"):
                body = ctes[index].this
                if isinstance(body, exp.Union) and any(step is body.expression for step in path):
                    return True
            # the query that owns this WITH: its body sees these CTEs, its WITH does not see itself
            path.append(node)
            node = node.parent
            if node is None:
                break
        else:
            with_ = node.args.get("with_") or node.args.get("with")
            if isinstance(with_, exp.With) and any(cte.alias_or_name.lower() == name for cte in with_.expressions):
                return True
        path.append(node)
        node = node.parent
    return False


def reference_constraints(
    table: exp.Table,
    columns_of: Callable[[str], Sequence[str] | None],
    *,
    range_columns: Mapping[str, str] | None = None,
    evaluate: Evaluator | None = None,
) -> Constraints:
    """Predicates every row read through ``table`` must satisfy for the statement's answer.

    ``columns_of(name)`` gives the columns of a virtual table in order (``None`` for anything
    else), so unqualified columns are resolved only when it is certain which table they belong to.
    ``range_columns`` maps the columns whose ranges are wanted to their type.

    Rows that feed a sample (``TABLESAMPLE``, ``USING SAMPLE``), a PIVOT/UNPIVOT or a positional or
    ASOF join are not filtered by the statement's predicates before those run, so such a reference
    gets no constraints.
    """
    holder = table.parent
    select = holder.parent if isinstance(holder, (exp.From, exp.Join)) else None
    if not isinstance(select, exp.Select) or _rows_feed_more_than_the_result(table, select):
        return Constraints()
    alias = table.alias_or_name.lower()
    mine = visible_columns(table, columns_of(table.name.lower()) or []) or {}
    sources = _scope_sources(select)

    def resolve(col: exp.Expr) -> str | None:
        if not isinstance(col, exp.Column) or col.args.get("db"):
            return None
        name = col.name.lower()
        if name not in mine:
            return None
        if col.table:
            return mine[name] if col.table.lower() == alias else None
        owners = [a for a, cols in sources.items() if cols is None or name in cols]
        return mine[name] if owners == [alias] else None

    ranges = dict(range_columns or {})
    result = Constraints()
    where = select.args.get("where")
    if where is not None:
        result = result.both(implied(where.this, resolve, range_columns=ranges, evaluate=evaluate))
    if isinstance(holder, exp.Join) and holder.args.get("on") is not None:
        side = (holder.side or "").upper()
        kind = (holder.kind or "").upper()
        if side in ("", "LEFT") and kind in ("", "INNER", "OUTER", "SEMI"):
            on = holder.args["on"]
            touches_only_me = all(
                (c.table or "").lower() == alias or (not c.table and resolve(c)) for c in on.find_all(exp.Column)
            )
            if touches_only_me:
                result = result.both(implied(on, resolve, range_columns=ranges, evaluate=evaluate))
            else:
                result = result.both(_conjuncts_only_mine(on, alias, resolve, ranges, evaluate))
    return result.with_unbounded(_compared_without_bounds(select, resolve, ranges, result))


def _rows_feed_more_than_the_result(table: exp.Table, select: exp.Select) -> bool:
    if table.args.get("sample") or table.args.get("pivots") or select.args.get("sample"):
        return True
    return any((j.args.get("method") or "").upper() in ("ASOF", "POSITIONAL") for j in select.args.get("joins") or [])


def _compared_without_bounds(
    select: exp.Select, resolve: Callable[[exp.Expr], str | None], ranges: Mapping[str, str], found: Constraints
) -> frozenset[str]:
    """Range columns the SELECT compares with values chaosql cannot know before it runs (another
    table's column, a subquery, a bind parameter) while no constant range bounds them: a source
    that needs a range to answer (the Prometheus tables) must refuse rather than guess one."""
    conditions = [select.args["where"].this] if select.args.get("where") is not None else []
    conditions += [j.args["on"] for j in select.args.get("joins") or [] if j.args.get("on") is not None]
    out = set()
    for condition in conditions:
        for node in condition.find_all(exp.EQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Between, exp.In):
            operands = [v for v in node.args.values() if isinstance(v, exp.Expression)]
            operands += [v for v in node.args.get("expressions") or []]
            keys = [resolve(o) for o in operands if isinstance(o, exp.Column)]
            mine = {key for key in keys if isinstance(key, str) and key in ranges}
            others = [o for o in operands if not (isinstance(o, exp.Column) and resolve(o) in mine)]
            if mine and any(o.find(exp.Column, exp.Select, exp.Subquery, exp.Placeholder) is not None for o in others):
                out |= {key for key in mine if found.range(key) is None}
    return frozenset(out)


def visible_columns(table: exp.Table, columns: Iterable[str]) -> dict[str, str] | None:
    """Column names a reference shows (lower case) -> the table's own names; ``None`` when unknown.

    ``experiments AS e(c1, c2)`` renames the first columns; a PIVOT/UNPIVOT makes new ones.
    """
    if table.args.get("pivots"):
        return None
    names = list(columns)
    alias = table.args.get("alias")
    renamed = [c.name.lower() for c in alias.columns] if isinstance(alias, exp.TableAlias) else []
    shown = renamed + [n.lower() for n in names[len(renamed) :]]
    if len(set(shown)) != len(shown):  # DuckDB renames the clash (name_1): leave such a reference alone
        return None
    return dict(zip(shown, names, strict=False))


def _conjuncts_only_mine(on, alias, resolve, range_columns, evaluate) -> Constraints:
    out = Constraints()
    for part in on.flatten() if isinstance(on, exp.And) else [on]:
        cols = list(part.find_all(exp.Column))
        if cols and all((c.table or "").lower() == alias for c in cols):
            out = out.both(implied(part, resolve, range_columns=range_columns, evaluate=evaluate))
    return out


def _scope_sources(select: exp.Select) -> dict[str, set[str] | None]:
    """alias -> column names it shows (virtual tables only; ``None`` = unknown) of a SELECT's FROM."""
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
            shown = visible_columns(item, tables[item.name.lower()].column_names)
            found[alias] = set(shown) if shown is not None else None
        else:
            found[alias] = None
    return found


def needed_columns(tree: exp.Expr, columns: Iterable[str], refs: Iterable[exp.Table] = ()) -> frozenset[str] | None:
    """Columns of a table the statement may read through ``refs`` (its references), or ``None``
    for all of them.

    Conservative on purpose: every identifier anywhere in the statement counts (so aliases,
    USING lists and outer references are covered), and ``*``, ``COLUMNS(...)``, ``#1``, NATURAL,
    positional or ASOF joins, PIVOT/UNPIVOT (which group by or pass on every other column) or a
    whole-row reference (``SELECT e FROM experiments e``) or a column-alias list
    (``experiments AS e(c1)``, which renames columns) mean all columns. Leaving out a column that
    is read would answer NULL, so when in doubt it is kept.

    >>> import sqlglot
    >>> sorted(needed_columns(sqlglot.parse_one("SELECT phase, count(*) FROM experiments"), ["phase", "spec", "name"]))
    ['phase']
    >>> needed_columns(sqlglot.parse_one("SELECT * FROM experiments"), ["phase"]) is None
    True
    >>> needed_columns(sqlglot.parse_one("PIVOT experiments ON phase USING count(*)", read="duckdb"), ["phase"]) is None
    True
    """
    refs = list(refs)
    if any(isinstance(alias := r.args.get("alias"), exp.TableAlias) and alias.columns for r in refs):
        return None  # renamed columns (and DuckDB's name_1 for a clash) are not the table's names
    row_names = {r.alias_or_name.lower() for r in refs}
    names: set[str] = set()
    for node in tree.walk():  # one walk: this runs for every statement
        if isinstance(node, exp.Identifier):
            if isinstance(node.this, str):
                names.add(node.this.lower())
        elif isinstance(node, exp.Star):
            if not isinstance(node.parent, exp.Count):
                return None
        elif isinstance(node, (exp.Pivot, exp.PositionalColumn)):
            return None
        elif isinstance(node, exp.Column):
            if not node.table and node.name.lower() in row_names:
                return None
        elif isinstance(node, exp.Join):
            if node.args.get("method") or (node.args.get("kind") or "").upper() == "NATURAL":
                return None
        if isinstance(node, exp.Func) and (type(node).__name__ == "Columns" or node.name.upper() == "COLUMNS"):
            return None
    return frozenset(c for c in columns if c.lower() in names)


def rewrite(tree: exp.Expr, refs: list[exp.Table], relation_for: Callable[[exp.Table], str]) -> exp.Expr:
    """Point each reference at the relation ``relation_for(reference)``, keeping its name as its alias.

    The node is changed in place, so everything attached to it stays: a column-alias list,
    TABLESAMPLE, PIVOT/UNPIVOT, the joins of a parenthesised join, hints.
    """
    for table in refs:
        original = table.this
        table.set("this", exp.to_identifier(relation_for(table), quoted=True))
        table.set("db", None)
        table.set("catalog", None)
        alias = table.args.get("alias")
        if not isinstance(alias, exp.TableAlias):
            table.set("alias", exp.TableAlias(this=original))
        elif alias.this is None:
            alias.set("this", original)
    return tree


#: Key roles whose =/IN predicates choose what is listed exactly (sources, resources, namespaced
#: paths): a list limited to n objects still holds the first n rows of the answer.
EXACT_ROLES = frozenset({"cluster", "source", "kind", "namespace"})


def scan_limit(tree: exp.Expr, ref: exp.Table, roles: Mapping[str, str | None]) -> int | None:
    """How many rows of ``ref`` the statement can read at most, when nothing above the scan
    filters, groups or sorts them: ``SELECT cols FROM t [WHERE exact keys] LIMIT n [OFFSET m]``
    reads n + m rows, so a source may list that many objects instead of all. ``roles``: the
    table's column -> pushdown role.

    >>> import sqlglot
    >>> roles = {"namespace": "namespace", "name": "name", "phase": None}
    >>> def limit(sql):
    ...     tree = sqlglot.parse_one(sql, read="duckdb")
    ...     return scan_limit(tree, next(tree.find_all(exp.Table)), roles)
    >>> limit("SELECT name FROM experiments WHERE namespace = 'a' LIMIT 10 OFFSET 5")
    15
    >>> limit("SELECT name FROM experiments WHERE phase = 'running' LIMIT 10") is None
    True
    >>> limit("SELECT name FROM experiments ORDER BY name LIMIT 10") is None
    True
    >>> limit("SELECT * FROM experiments PIVOT (count(*) FOR phase IN ('running') GROUP BY namespace) LIMIT 3") is None
    True
    >>> limit("SELECT unnest(map_keys(labels)) FROM experiments LIMIT 3") is None
    True
    """
    if not isinstance(tree, exp.Select) or tree.args.get("with") or tree.args.get("joins"):
        return None
    source = tree.args.get("from") or tree.args.get("from_")
    if source is None or source.this is not ref or _rows_feed_more_than_the_result(ref, tree):
        return None  # a sample or a PIVOT/UNPIVOT reads every row before the LIMIT
    if any(tree.args.get(k) for k in ("group", "having", "order", "distinct", "qualify", "windows", "laterals")):
        return None
    for projection in tree.expressions:
        if projection.find(exp.AggFunc, exp.Window, exp.Subquery, exp.Select, exp.Explode, exp.Unnest):
            return None  # unnest() makes any number of rows of one, none of an empty list
        if any(f.name.lower() in ("unnest", "generate_subscripts") for f in projection.find_all(exp.Anonymous)):
            return None
    count = _literal_int(tree.args.get("limit"))
    if count is None:
        return None
    offset = tree.args.get("offset")
    skip = _literal_int(offset) if offset is not None else 0
    if skip is None:
        return None
    where = tree.args.get("where")
    if where is not None and not all(_exact(c, roles) for c in _conjuncts(where.this)):
        return None
    return count + skip


def _literal_int(node: exp.Expr | None) -> int | None:
    value = node.args.get("expression") if node is not None else None
    if isinstance(value, exp.Literal) and not value.is_string and value.this.isdigit():
        return int(value.this)
    return None


def _exact(conjunct: exp.Expr, roles: Mapping[str, str | None]) -> bool:
    """``key = literal`` or ``key IN (literals)`` on a column whose role lists exactly."""
    if isinstance(conjunct, exp.EQ):
        column, value = conjunct.this, conjunct.expression
        if isinstance(value, exp.Column):
            column, value = value, column
        values = [value]
    elif isinstance(conjunct, exp.In) and not conjunct.args.get("query"):
        column, values = conjunct.this, conjunct.expressions
    else:
        return False
    if not isinstance(column, exp.Column) or roles.get(column.name.lower()) not in EXACT_ROLES:
        return False
    return all(isinstance(v, exp.Literal) and v.is_string for v in values)


def _conjuncts(node: exp.Expr) -> list[exp.Expr]:
    if isinstance(node, exp.And):
        return _conjuncts(node.left) + _conjuncts(node.right)
    if isinstance(node, exp.Paren):
        return _conjuncts(node.this)
    return [node]
