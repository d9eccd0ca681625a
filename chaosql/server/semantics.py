"""PostgreSQL's answers from DuckDB: the expression rewrites every client statement gets.

Applied by ``rewrite.translate`` to the statement's sqlglot tree (parsed as PostgreSQL), whatever
the statement reads. What DuckDB does differently and what is done about it:

* result column names: PostgreSQL names an unaliased expression after its function (``count``),
  its cast's type (``int4``) or ``?column?``; DuckDB after the expression's text (``count_star()``).
  Every unaliased projection gets PostgreSQL's name as an alias.
* ``x::numeric`` without a precision: DuckDB's ``DECIMAL`` is ``DECIMAL(18,3)`` (rounds to three
  decimals, overflows past 15 digits). A number keeps its own scale in PostgreSQL, so a literal gets
  ``DECIMAL(38, its scale)``, an integer ``DECIMAL(38,0)``, a decimal ``DECIMAL(38, its scale)``;
  ``round(x::numeric, n)`` is ``DECIMAL(38, n)``. A floating-point value stays double precision
  (documented exception: PostgreSQL's arbitrary precision has no DuckDB equivalent).
* ``format('%s %I %L', ...)``: PostgreSQL's format, spelled out as a concatenation.
* ``EXTRACT(field FROM x)`` is ``numeric`` in PostgreSQL 14+ (``date_part`` is double precision).
* text to an integer: DuckDB rounds ``'1.5'::int`` to 2, PostgreSQL refuses it (22P02). A string
  literal is checked here; a text column of a chaos table is cast only when it spells an integer,
  else ``error()`` says what PostgreSQL says. ``'1e400'::float8`` is 22003 (DuckDB: Infinity),
  a timestamp literal with ``BC`` is refused (DuckDB would read it as AD).
* a number literal beyond double precision (``1e400``, ``1e-400``): refused (22003), DuckDB reads
  it as a double (Infinity, 0). ``DATE '0044-03-15 BC'`` is spelled ``(BC)`` for DuckDB.
* text of a type only DuckDB knows (a CTE's or VALUES' column) cast to an integer is checked as
  a chaos table's text column is, behind ``typeof(x) = 'VARCHAR'``, which DuckDB folds at bind
  time: other casts cost nothing.
* ``round(double)`` rounds half to even (``round_even``), ``substr(s, start, n)`` with a start
  below 1 counts the positions before the string (DuckDB counts from its end).
* ``sqrt``, ``ln``, ``log``, ``power`` outside their domain: PostgreSQL's errors (DuckDB: NaN, -Infinity).
* parameters of a known type (``Parse`` with parameter types, ``PREPARE p(int)``, or inferred
  from the context as PostgreSQL does): ``$n`` becomes ``CAST($n AS type)`` (``parameters``).

Integer division (``7/2`` is 3) and division by zero (an error, 22012) come from the connection's
DuckDB settings (``integer_division``), not from a rewrite: DuckDB then decides by the operands'
real types, which a rewrite could only guess.
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Callable, Iterable
from typing import Any

from sqlglot import exp

T = exp.DataType.Type

#: PostgreSQL's internal type names (what an unaliased ``x::type`` is called).
_PG_TYPE_NAMES = {
    T.INT: "int4",
    T.BIGINT: "int8",
    T.SMALLINT: "int2",
    T.TINYINT: "int2",
    T.TEXT: "text",
    T.VARCHAR: "varchar",
    T.CHAR: "bpchar",
    T.DECIMAL: "numeric",
    T.DOUBLE: "float8",
    T.FLOAT: "float4",
    T.BOOLEAN: "bool",
    T.TIMESTAMPTZ: "timestamptz",
    T.TIMESTAMP: "timestamp",
    T.DATE: "date",
    T.TIME: "time",
    T.INTERVAL: "interval",
    T.JSON: "json",
    T.JSONB: "jsonb",
    T.UUID: "uuid",
    T.VARBINARY: "bytea",
}
_INTEGERS = {T.INT, T.BIGINT, T.SMALLINT, T.TINYINT, T.UBIGINT, T.UINT, T.USMALLINT, T.UTINYINT}
_DUCK_INTEGERS = {"INTEGER", "BIGINT", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT", "UINTEGER"}


def pg_column_name(node: exp.Expr) -> str | None:
    """The name PostgreSQL gives an output column (its FigureColname), None for ``*``.

    >>> import sqlglot
    >>> from chaosql.engine.dialect import Postgres
    >>> sql = "SELECT count(*), 1, x::int, 'a'::text, now(), e.name, labels['a'], 'e'::regclass::text"
    >>> [pg_column_name(e) for e in sqlglot.parse_one(sql, read=Postgres).expressions]
    ['count', '?column?', 'x', 'text', 'now', 'name', 'labels', 'text']
    >>> sql = "SELECT '{1}'::int[], trim(' a '), trim(leading 'a' from 'ab'), user"
    >>> [pg_column_name(e) for e in sqlglot.parse_one(sql, read=Postgres).expressions]
    ['int4', 'btrim', 'ltrim', 'user']
    """
    if isinstance(node, exp.Star) or (isinstance(node, exp.Column) and isinstance(node.this, exp.Star)):
        return None
    name, _ = _figure(node)
    return name or "?column?"


def _figure(node: exp.Expr) -> tuple[str | None, int]:
    """(name, strength) as PostgreSQL's FigureColnameInternal: a cast's type name (strength 1)
    gives way to anything stronger beneath it."""
    if isinstance(node, exp.Alias):
        return node.alias, 2
    if isinstance(node, (exp.Column, exp.Dot)):
        return node.name, 2
    if isinstance(node, (exp.Paren, exp.Bracket, exp.Window, exp.WithinGroup, exp.Filter)):
        return _figure(node.this)
    if isinstance(node, (exp.Cast, exp.TryCast)):
        if node.meta.get("spelled") == "div":  # div(a, b): sqlglot's cast of a // b
            return "div", 2
        name, strength = _figure(node.this)
        if strength > 1:
            return name, strength
        to = node.args.get("to")
        if to is None:
            return name, strength
        while to.this == T.ARRAY and to.expressions:  # '{1}'::int[] is named after its element type
            to = to.expressions[0]
        return _PG_TYPE_NAMES.get(to.this, to.sql(dialect="postgres").lower()), 1
    if isinstance(node, exp.Case):  # the ELSE's name if it has a strong one, else "case"
        default = node.args.get("default")
        name, strength = _figure(default) if default is not None else (None, 0)
        return (name, strength) if strength > 1 else ("case", 1)
    if isinstance(node, exp.Interval):
        return "interval", 1
    if isinstance(node, exp.AtTimeZone):  # the function AT TIME ZONE stands for
        return "timezone", 2
    if isinstance(node, exp.Exists):
        return "exists", 2
    if isinstance(node, exp.Trim):  # PostgreSQL calls the function TRIM stands for
        position = str(node.args.get("position") or "").upper()
        return {"LEADING": "ltrim", "TRAILING": "rtrim"}.get(position, "btrim"), 2
    if isinstance(node, exp.Array):
        return "array", 2
    if isinstance(node, exp.Subquery):
        inner = node.this
        if isinstance(inner, exp.Select) and inner.expressions:
            return _figure(inner.expressions[0])
        return None, 0
    spelled = node.meta.get("spelled") if isinstance(node, (exp.Func, exp.Binary)) else None
    if spelled:  # a function call, also one sqlglot keeps as an operator (power(2, 3) is 2 ^ 3)
        return spelled.split(".")[-1], 2
    if isinstance(node, exp.Func) and not isinstance(node, (exp.Binary, exp.Not, exp.Predicate)):
        if isinstance(node, exp.Anonymous):
            return node.name.lower().split(".")[-1], 2
        m = re.match(r"[A-Za-z_]\w*", node.sql(dialect="postgres"))
        return (m.group(0).lower(), 2) if m else (None, 0)
    return None, 0


def name_columns(tree: exp.Expr) -> None:
    """Alias every unaliased, non-column projection with PostgreSQL's name for it."""
    for select in tree.find_all(exp.Select):
        projections = select.expressions
        for i, node in enumerate(projections):
            if isinstance(node, (exp.Alias, exp.Star)) or (isinstance(node, exp.Column) and not is_bare_user(node)):
                continue
            name = pg_column_name(node)
            if name is None:
                continue
            projections[i] = exp.alias_(node, name, quoted=True)
            projections[i].parent = select


def is_bare_user(column: exp.Column) -> bool:
    """A bare ``user`` or ``current_role``: a function in PostgreSQL, named after itself."""
    ident = column.this
    return (
        column.name.lower() in ("user", "current_role")
        and not column.table
        and isinstance(ident, exp.Identifier)
        and not ident.quoted
    )


def column_kinds(tree: exp.Expr, columns_of: Callable[[str], dict[str, str] | None]) -> dict[str, str]:
    """Column name -> DuckDB type for the chaos tables the statement reads, and for the numbers its
    subqueries, CTEs and VALUES lists select (``_derived_kinds``); unique names only."""
    found = list(tree.find_all(exp.Table, exp.Values, exp.Select))
    kinds: dict[str, str] = {}
    clashes: set[str] = set()

    def add(columns: Iterable[tuple[str, str]]) -> None:
        for name, duck in columns:
            if name in kinds and kinds[name] != duck:
                clashes.add(name)
            kinds[name] = duck

    for table in found:
        if isinstance(table, exp.Table) and isinstance(table.this, exp.Identifier):
            add((columns_of(table.name.lower()) or {}).items())
    add(_derived_kinds(tree, found, {k: v for k, v in kinds.items() if k not in clashes}))
    return {k: v for k, v in kinds.items() if k not in clashes}


def _derived_kinds(tree: exp.Expr, found: Iterable[exp.Expr], kinds: dict[str, str]) -> list[tuple[str, str]]:
    """(column, DuckDB type) for the numeric columns of the statement's subqueries, CTEs and VALUES
    lists (among ``found``) whose type is known from what they select (``(VALUES (1), (2)) v(x)``:
    x is int4).

    >>> import sqlglot
    >>> tree = sqlglot.parse_one("SELECT * FROM (VALUES (1, 1.5), (2, 2.25)) v(x, y), (SELECT n::int AS i, 2.5 * 2 AS d) s")
    >>> _derived_kinds(tree, list(tree.find_all(exp.Values, exp.Select)), {})
    [('x', 'INTEGER'), ('y', 'DECIMAL(38,2)'), ('i', 'INTEGER'), ('d', 'DECIMAL(38,1)')]
    """
    out: list[tuple[str, str]] = []
    for node in found:
        if isinstance(node, exp.Values):
            alias = node.args.get("alias")
            names = [c.name.lower() for c in alias.columns] if isinstance(alias, exp.TableAlias) else []
            rows = [row.expressions if isinstance(row, exp.Tuple) else [row] for row in node.expressions]
            for i, name in enumerate(names):
                column = [row[i] for row in rows if i < len(row) and not isinstance(row[i], exp.Null)]
                out.append((name, _duck_type_of([_number_kind(v, kinds) for v in column])))
        elif isinstance(node, exp.Select) and node is not tree and isinstance(node.parent, (exp.Subquery, exp.CTE)):
            out += [
                (p.alias.lower(), _duck_type_of([_number_kind(p.this, kinds)]))
                for p in node.expressions
                if isinstance(p, exp.Alias)
            ]
    return [(name, duck) for name, duck in out if duck]


def _number_kind(node: exp.Expr, kinds: dict[str, str]) -> tuple[str | None, str | None]:
    """(kind, declared type) of a value; a string literal is text, whatever it spells."""
    if isinstance(node, exp.Literal) and node.is_string:
        return None, None
    return _kind(node, kinds), _declared(node, kinds)


def _duck_type_of(kinds: list[tuple[str | None, str | None]]) -> str:
    """The DuckDB type values of these (kind, declared type)s make together when it is a number, else ""."""
    if not kinds or any(kind is None for kind, _ in kinds):
        return ""
    if any(kind == "float" for kind, _ in kinds):
        return "FLOAT" if all(declared == "float4" for _, declared in kinds) else "DOUBLE"
    if all(kind == "int" for kind, _ in kinds):
        return "INTEGER" if all(declared in ("int4", "int2") for _, declared in kinds) else "BIGINT"
    scale = max(int(kind.split(":")[1] or 0) if kind and kind.startswith("decimal:") else 0 for kind, _ in kinds)
    return f"DECIMAL(38,{scale})"


def _kind(node: exp.Expr, kinds: dict[str, str]) -> str | None:
    """'int', 'decimal:<scale>', 'float' or None (unknown) for an expression's type."""
    if isinstance(node, exp.Paren):
        return _kind(node.this, kinds)
    if isinstance(node, exp.Literal) and not node.is_string:
        text = node.this
        if re.fullmatch(r"-?\d+", text):
            return "int"
        m = re.fullmatch(r"-?\d*\.(\d*)", text)
        return f"decimal:{len(m.group(1))}" if m else "float"
    if isinstance(node, exp.Literal) and node.is_string:
        m = re.fullmatch(r"\s*[-+]?\d+(?:\.(\d*))?\s*", node.this)
        if m:
            return f"decimal:{len(m.group(1) or '')}"
        return None
    if isinstance(node, exp.Neg):
        return _kind(node.this, kinds)
    if isinstance(node, exp.Column):
        return _duck_kind(kinds.get(node.name.lower(), ""))
    if isinstance(node, (exp.Placeholder, exp.Parameter)):  # a parameter of a type the client gave
        from chaosql.server.parameters import index

        return _duck_kind(kinds.get(f"${index(node)}", ""))
    if isinstance(node, exp.Count):
        return "int"
    if isinstance(node, exp.Sum) and _kind(node.this, kinds) == "int":  # of int8: numeric, of int4: int8
        return "int" if _declared(node.this, kinds) in ("int4", "int2") else "decimal:0"
    if isinstance(node, (exp.Sum, exp.Min, exp.Max, exp.Abs, exp.Nullif)):  # nullif(x, 0): x's
        return _kind(node.this, kinds)
    if isinstance(node, exp.Subquery) and isinstance(node.this, exp.Select) and len(node.this.expressions) == 1:
        only = node.this.expressions[0]  # a scalar subquery: its column's
        return _number_kind(only.this if isinstance(only, exp.Alias) else only, kinds)[0]
    if isinstance(node, exp.Avg) and _kind(node.this, kinds) not in (None, "float"):
        return "decimal:18"  # numeric_division's quotient inside an expression
    if isinstance(node, (exp.Avg, exp.Stddev, exp.Variance)):
        return "float"
    if isinstance(node, exp.Window) and isinstance(node.this, (exp.Sum, exp.Count, exp.Min, exp.Max)):
        return _kind(node.this, kinds)
    if isinstance(node, (exp.Cast, exp.TryCast)):
        to = node.args["to"]
        if to.this in _INTEGERS:
            return "int"
        if to.this in (T.DOUBLE, T.FLOAT):
            return "float"
        if to.this == T.DECIMAL:
            params = to.expressions
            if len(params) == 2:
                return f"decimal:{params[1].this.this if hasattr(params[1].this, 'this') else params[1].name}"
            return _kind(node.this, kinds)
    if isinstance(node, (exp.Add, exp.Sub, exp.Mul, exp.Mod, exp.IntDiv)):
        left, right = _kind(node.this, kinds), _kind(node.expression, kinds)
        if left == right == "int":
            return "int"
        if "float" in (left, right):
            return "float"
        if left and right and not isinstance(node, exp.IntDiv):  # numerics: PostgreSQL's (and DuckDB's) scale
            scales = [int(k.split(":")[1] or 0) if k.startswith("decimal:") else 0 for k in (left, right)]
            return f"decimal:{sum(scales) if isinstance(node, exp.Mul) else max(scales)}"
    return None


def _duck_kind(duck: str) -> str | None:
    if duck in _DUCK_INTEGERS:
        return "int"
    if duck in ("DOUBLE", "FLOAT"):
        return "float"
    m = re.fullmatch(r"DECIMAL\(\d+,\s*(\d+)\)", duck)
    return f"decimal:{m.group(1)}" if m else None


def _numeric_type(kind: str | None) -> exp.DataType:
    if kind == "int":
        return exp.DataType.build("DECIMAL(38, 0)")
    if kind and kind.startswith("decimal:"):
        scale = min(int(kind.split(":")[1] or 0), 37)
        return exp.DataType.build(f"DECIMAL(38, {scale})")
    return exp.DataType.build("DOUBLE")


def _unconstrained_numeric(to: Any) -> bool:
    return isinstance(to, exp.DataType) and to.this in (T.DECIMAL, T.BIGDECIMAL) and not to.expressions


def numeric(tree: exp.Expr, kinds: dict[str, str]) -> None:
    """``::numeric`` without precision as PostgreSQL keeps it: the value's own scale."""
    found = list(tree.find_all(exp.Literal, exp.Cast))
    for literal in found:
        if isinstance(literal, exp.Literal) and not literal.is_string and "e" in literal.this.lower():
            value = decimal.Decimal(literal.this)  # 1e5, 1.5e-3: numeric in PostgreSQL, a double in DuckDB
            scale = max(0, -value.as_tuple().exponent)  # type: ignore[operator]
            if value.adjusted() < 38 - scale and scale <= 37:
                literal.replace(exp.cast(exp.Literal.string(f"{value:f}"), exp.DataType.build(f"DECIMAL(38, {scale})")))
    for cast in found:
        if not isinstance(cast, exp.Cast):
            continue
        if cast.meta.get("spelled") == "div" and isinstance(cast.this, exp.IntDiv):
            # div(a, b): the quotient truncated towards zero, numeric; DuckDB's // of decimals does not truncate
            quotient, ints = cast.this, _kind(cast.this.this, kinds) == _kind(cast.this.expression, kinds) == "int"
            if not ints:
                quotient.replace(
                    exp.func("trunc", exp.Div(this=quotient.this.copy(), expression=quotient.expression.copy()))
                )
            cast.set("to", exp.DataType.build("DECIMAL(38, 0)"))
            continue
        if _unconstrained_numeric(cast.args.get("to")):
            cast.set("to", _numeric_type(_kind(cast.this, kinds)))
            cast.meta["pg_numeric"] = True
    for node in list(tree.find_all(exp.Floor, exp.Ceil)):
        inner = node.this.unnest() if isinstance(node.this, exp.Paren) else node.this
        if isinstance(inner, exp.Div) and any(
            (_kind(side, kinds) or "").startswith("decimal") for side in (inner.this, inner.expression)
        ):  # floor(numeric / n) is numeric in PostgreSQL (Grafana's time buckets); DuckDB divides in double
            node.replace(exp.cast(node.copy(), exp.DataType.build("DECIMAL(38, 0)")))
    for rnd in list(tree.find_all(exp.Round)):
        digits = rnd.args.get("decimals")
        inner = rnd.this
        if (
            isinstance(inner, exp.Cast)
            and inner.meta.get("pg_numeric")
            and inner.args["to"].this == T.DOUBLE
            and isinstance(digits, exp.Literal)
            and not digits.is_string
            and digits.this.isdigit()
        ):  # round(x::numeric, 2) of a float: numeric with scale 2 in PostgreSQL
            rnd.replace(exp.cast(rnd.copy(), exp.DataType.build(f"DECIMAL(38, {min(int(digits.this), 37)})")))


#: DuckDB's types of a chaos table's or a parameter's column, as PostgreSQL's names (_declared)
_DUCK_DECLARED = {"DATE": "date", "FLOAT": "float4", "INTEGER": "int4", "SMALLINT": "int2", "DOUBLE": "float8"}


def _declared(node: exp.Expr | None, kinds: dict[str, str]) -> str | None:
    """The PostgreSQL type an expression is known to have where DuckDB's differs in what follows
    from it: a cast's type, ``current_date``, an integer literal (int4), a known column."""
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Cast) and isinstance(node.args.get("to"), exp.DataType):
        return _PG_TYPE_NAMES.get(node.args["to"].this)
    if isinstance(node, exp.CurrentDate):
        return "date"
    if isinstance(node, exp.Literal) and not node.is_string and node.this.isdigit():
        return "int4" if int(node.this) <= 2147483647 else None
    if isinstance(node, exp.Neg):
        return _declared(node.this, kinds)
    if isinstance(node, exp.Column):
        return _DUCK_DECLARED.get(kinds.get(node.name.lower(), ""))
    if isinstance(node, (exp.Placeholder, exp.Parameter)):
        from chaosql.server.parameters import index

        return _DUCK_DECLARED.get(kinds.get(f"${index(node)}", ""))
    return None


def operand_types(tree: exp.Expr, kinds: dict[str, str]) -> None:
    """Results whose type PostgreSQL takes from its operands' and DuckDB does not, where a client
    would see it (Decimal or int, float32 or float64): ``date - date`` is int4 (DuckDB: BIGINT),
    ``date_trunc(unit, date)`` a timestamptz (the date at midnight in the session's zone; DuckDB:
    timestamp), ``real`` with any other number float8 (DuckDB computes in float4), ``sum`` of int4
    or int2 int8 (DuckDB: HUGEINT, numeric).

    >>> import sqlglot
    >>> tree = sqlglot.parse_one("SELECT current_date - d::date, x::real / 3, sum(n::int)", read="postgres")
    >>> operand_types(tree, {})
    >>> tree.sql("duckdb")
    'SELECT CAST(CURRENT_DATE - CAST(d AS DATE) AS INT), CAST(CAST(x AS REAL) AS DOUBLE) / 3, CAST(SUM(CAST(n AS INT)) AS BIGINT)'
    """
    series = (exp.ExplodingGenerateSeries, exp.GenerateSeries)
    for node in list(tree.find_all(exp.Sub, exp.TimestampTrunc, exp.Add, exp.Mul, exp.Div, exp.Sum, *series)):
        if isinstance(node, series):
            _series(node, kinds)
        elif isinstance(node, exp.TimestampTrunc):
            if _declared(node.this, kinds) == "date":
                node.set("this", exp.cast(node.this.copy(), "TIMESTAMPTZ"))
        elif isinstance(node, exp.Sum):
            if _declared(node.this, kinds) in ("int4", "int2"):
                total = node.parent if isinstance(node.parent, exp.Window) else node
                total.replace(exp.cast(total.copy(), "BIGINT"))
        elif isinstance(node, exp.Sub) and _declared(node.this, kinds) == _declared(node.expression, kinds) == "date":
            node.replace(exp.cast(node.copy(), "INTEGER"))
        else:
            sides = (node.this, node.expression)
            declared = [_declared(side, kinds) for side in sides]
            if sorted(declared, key=str) == ["int2", "int4"]:  # int2 with int4 is int4 (DuckDB: int2, overflowing)
                sides[declared.index("int2")].replace(exp.cast(sides[declared.index("int2")].copy(), "INTEGER"))
                continue
            reals = [d == "float4" for d in declared]
            if any(reals) and not all(reals) and all(_kind(side, kinds) for side in sides):
                for side, real in zip(sides, reals):
                    if real:
                        side.replace(exp.cast(side.copy(), "DOUBLE"))


def _exact_cast(node: exp.Expr, to: str) -> exp.Expr:
    """A cast a rewrite adds that cannot fail (strict_casts leaves it as it is)."""
    cast = exp.cast(node, to)
    cast.meta["exact"] = True
    return cast


def _series(node: exp.Expr, kinds: dict[str, str]) -> None:
    """generate_series of int4 bounds is int4 (DuckDB: BIGINT), of dates timestamptz (as date_trunc)."""
    bounds = [node.args.get(b) for b in ("start", "end", "step")]
    if all(b is None or _declared(b, kinds) in ("int4", "int2") for b in bounds):
        table = node.parent if isinstance(node.parent, exp.Table) else None
        if table is None:  # in a select list
            node.replace(_exact_cast(node.copy(), "INTEGER"))
            return
        alias = table.args.get("alias")
        # its column is named by the alias list, else by the table alias (PostgreSQL: ... generate_series(1, 3) g is g)
        column = (alias.columns[0].name if alias.columns else alias.name) if alias is not None else "generate_series"
        rows = exp.select(exp.alias_(_exact_cast(exp.column("generate_series"), "INTEGER"), column))
        rows = rows.from_(exp.Table(this=node.copy()))
        subquery = rows.subquery(alias.this if alias is not None and alias.this else "generate_series")
        if alias is not None and alias.columns:
            subquery.set("alias", alias.copy())
        table.replace(subquery)
        return
    for bound in ("start", "end"):
        if _declared(node.args.get(bound), kinds) == "date":
            node.set(bound, exp.cast(node.args[bound].copy(), "TIMESTAMPTZ"))


def numeric_division(tree: exp.Expr, kinds: dict[str, str]) -> None:
    """Division of numerics and ``avg`` of integers or numerics as PostgreSQL answers them: numeric,
    at the scale PostgreSQL picks for each quotient (``avg`` of 1 and 2 is ``1.5000000000000000``,
    ``1/3.0`` is ``0.33333333333333333333``), exact. DuckDB answers a double (``1.5``). The
    quotient is computed by the catalog's ``pg_numeric_div`` as text, sent as numeric: so for the
    statement's own result columns. Inside an expression (``round(avg(x), 2)``, a comparison, an
    ORDER BY) the same quotient is a ``DECIMAL(38, 18)``, which an ORDER BY by position or name
    uses too (the text would sort as text; GROUP BY 1 groups the text, value for value).

    >>> import sqlglot
    >>> tree = sqlglot.parse_one("SELECT avg(n::int) AS a, round(7.0 / 2, 1) FROM t ORDER BY a", read="postgres")
    >>> numeric_division(tree, {})
    >>> print(tree.sql("duckdb"))
    SELECT PGC.MAIN.PG_NUMERIC_DIV(SUM(CAST(n AS INT)), 0, COUNT(CAST(n AS INT)), 0) AS a, ROUND(CAST(PGC.MAIN.PG_NUMERIC_DIV(CAST(7.0 AS DECIMAL(38, 1)), 1, 2, 0) AS DECIMAL(38, 18)), 1) FROM t ORDER BY CAST(PGC.MAIN.PG_NUMERIC_DIV(SUM(CAST(n AS INT)), 0, COUNT(CAST(n AS INT)), 0) AS DECIMAL(38, 18))
    """
    outer = outer_projections(tree) if not tree.args.get("distinct") else []
    own = {id(p.this if isinstance(p, exp.Alias) else p): p for p in outer}
    as_decimal: dict[int, exp.Expr] = {}  # result column -> its quotient as a DECIMAL, for ORDER BY
    for node in reversed(list(tree.find_all(exp.Div, exp.Avg))):  # inner ones first: an outer one reads their kind
        quotient = _quotient(node, kinds)
        if quotient is None:
            continue
        top = node
        while isinstance(top.parent, (exp.Window, exp.Filter)) and top.parent.this is top:
            top = top.parent
        if isinstance(node, exp.Avg) and top is not node:  # avg(x) FILTER (...) OVER (...): sum and count alike
            for part in list(quotient.find_all(exp.Sum, exp.Count)):
                wrapped = top.copy()
                wrapped.find(exp.Avg).replace(part.copy())  # type: ignore[union-attr]
                part.replace(wrapped)
        decimal_quotient = exp.cast(quotient.copy(), exp.DataType.build("DECIMAL(38, 18)"))
        projection = own.get(id(top))
        if projection is not None:
            top.replace(quotient)
            projection.meta["pg_type"] = "numeric"
            as_decimal[outer.index(projection)] = decimal_quotient
        else:
            top.replace(decimal_quotient)
    order = tree.args.get("order")
    for ordered in order.expressions if as_decimal and order is not None else []:
        position = _position(ordered.this, outer)
        if position in as_decimal:
            ordered.set("this", as_decimal[position].copy())


def _quotient(node: exp.Expr, kinds: dict[str, str]) -> exp.Expr | None:
    """``pg_numeric_div(a, scale of a, b, scale of b)`` for a division with a numeric side and no
    floating-point one, or an ``avg`` of integers or numerics; None for any other."""
    if isinstance(node, exp.Avg):
        value = node.this
        inner = value.expressions[0] if isinstance(value, exp.Distinct) and len(value.expressions) == 1 else value
        kind = _kind(inner, kinds)
        if kind != "int" and not (kind or "").startswith("decimal:"):
            return None
        total: exp.Expr = exp.Sum(this=value.copy())
        sides = [(total, kind), (exp.Count(this=value.copy()), "int")]
    else:
        sides = [(node.this, _kind(node.this, kinds)), (node.expression, _kind(node.expression, kinds))]
        if not all(kind == "int" or (kind or "").startswith("decimal:") for _, kind in sides):
            return None
        if all(kind == "int" for _, kind in sides):
            return None  # integer division, as in PostgreSQL
    args: list[exp.Expr] = []
    for side, kind in sides:
        scale = int(kind.split(":")[1] or 0) if kind and kind.startswith("decimal:") else 0
        value = side.copy()
        if scale and not (isinstance(value, exp.Cast) and value.args["to"].sql() == f"DECIMAL(38, {scale})"):
            value = exp.cast(value, exp.DataType.build(f"DECIMAL(38, {scale})"))  # exactly its scale's digits
        args += [value, exp.Literal.number(scale)]
    return exp.Anonymous(this="pgc.main.pg_numeric_div", expressions=args)


def _position(node: exp.Expr, outer: list[exp.Expr]) -> int | None:
    """The result column an ORDER BY item names by position (``2``) or by name."""
    if isinstance(node, exp.Literal) and not node.is_string and node.this.isdigit():
        return int(node.this) - 1
    if isinstance(node, exp.Column) and not node.table:
        names = [p.alias_or_name for p in outer]
        return names.index(node.name) if names.count(node.name) == 1 else None
    return None


def outer_projections(tree: exp.Expr) -> list[exp.Expr]:
    """The statement's own result columns (not a subquery's, nor a set operation's), when every
    one is an expression of its own (no ``*``): where a rewrite may change what a column is sent as."""
    if not isinstance(tree, exp.Select) or any(
        isinstance(p, exp.Star) or (isinstance(p, exp.Column) and isinstance(p.this, exp.Star))
        for p in tree.expressions
    ):
        return []
    return list(tree.expressions)


def sent_as(tree: exp.Expr, types: list[str | None]) -> list[str | None]:
    """``types`` (result_types') with the PostgreSQL types rewrites gave result columns (``pg_type``)."""
    marked = [p.meta.get("pg_type") for p in outer_projections(tree)]
    if not any(marked):
        return types
    out = list(types) + [None] * (len(marked) - len(types))
    return [m or t for m, t in zip(marked + [None] * (len(out) - len(marked)), out)]


def jsonb_extracts(tree: exp.Expr, kinds: dict[str, str]) -> None:
    """``m -> 'k'`` of a map column (jsonb over the wire) is jsonb in PostgreSQL; DuckDB says JSON."""
    for projection in outer_projections(tree):
        node = projection.this if isinstance(projection, exp.Alias) else projection
        base = node.this if isinstance(node, exp.JSONExtract) else None
        if isinstance(base, exp.Column) and kinds.get(base.name.lower(), "").startswith("MAP("):
            projection.meta["pg_type"] = "jsonb"


def rounding_and_substrings(tree: exp.Expr, kinds: dict[str, str]) -> None:
    """``round(double)`` rounds half to even in PostgreSQL (DuckDB: away from zero), and
    ``substr(s, start, n)`` counts a start below 1 as positions before the string (DuckDB: from
    its end).

    >>> import sqlglot
    >>> tree = sqlglot.parse_one("SELECT round(x::float8), substr(s, -1, 3)", read="postgres")
    >>> rounding_and_substrings(tree, {})
    >>> tree.sql("duckdb")
    'SELECT ROUND_EVEN(CAST(x AS DOUBLE), 0), SUBSTRING(s, GREATEST(-1, 1), GREATEST(-1 + 3 - GREATEST(-1, 1), 0))'
    """
    from chaosql.errors import SqlError

    for rnd in list(tree.find_all(exp.Round)):
        kind = _kind(rnd.this, kinds)
        if rnd.args.get("decimals") is not None or kind == "int" or (kind or "").startswith("decimal"):
            continue
        even = exp.Anonymous(this="round_even", expressions=[rnd.this.copy(), exp.Literal.number(0)])
        if kind == "float":
            rnd.replace(even)
        else:  # decided by DuckDB's type at bind time (typeof() folds): no cost, same result type
            typeof = exp.Anonymous(this="typeof", expressions=[rnd.this.copy()])
            is_float = exp.In(this=typeof, expressions=[exp.Literal.string("DOUBLE"), exp.Literal.string("FLOAT")])
            rnd.replace(exp.Case(ifs=[exp.If(this=is_float, true=even)], default=rnd.copy()))
    for sub in list(tree.find_all(exp.Substring)):
        start, length = sub.args.get("start"), sub.args.get("length")
        if start is None or (isinstance(start, exp.Literal) and start.is_string):  # FROM 'regex'
            continue
        if isinstance(length, exp.Neg) or (isinstance(length, exp.Literal) and length.this.startswith("-")):
            raise SqlError("negative substring length not allowed", sqlstate="22011")
        if length is not None and not isinstance(length, exp.Literal):  # a negative length is an error
            negative = exp.LT(this=length.copy(), expression=_zero())
            refused = exp.Anonymous(
                this="error", expressions=[exp.Literal.string("negative substring length not allowed")]
            )
            length = exp.Case(ifs=[exp.If(this=negative, true=exp.cast(refused, "BIGINT"))], default=length.copy())
            sub.set("length", length)
        if isinstance(start, exp.Literal) and not start.is_string and start.this.isdigit() and int(start.this) >= 1:
            continue  # the usual case: the same in both
        first = exp.func("greatest", start.copy(), exp.Literal.number(1))
        sub.set("start", first)
        if length is not None:
            end = exp.Add(this=start.copy(), expression=length.copy())
            sub.set("length", exp.func("greatest", exp.Sub(this=end, expression=first.copy()), exp.Literal.number(0)))


_NUMBER = r"[+-]?\d+(?:\.\d*)?"
_ISO_INTERVAL = re.compile(
    rf"P(?:({_NUMBER})Y)?(?:({_NUMBER})M)?(?:({_NUMBER})W)?(?:({_NUMBER})D)?"
    rf"(?:T(?:({_NUMBER})H)?(?:({_NUMBER})M)?(?:({_NUMBER})S)?)?",
    re.I,
)
_ISO_UNITS = ("years", "months", "weeks", "days", "hours", "minutes", "seconds")
_YEAR_MONTH = re.compile(r"(?<![\d:.])([+-]?)(\d+)-(\d+)(?![\d:.-])")
_DAYS_THEN_TIME = re.compile(r"^(\s*[+-]?\d+)(\s+[+-]?\d+:)")


def pg_interval_text(text: str) -> str:
    """An interval's text as PostgreSQL reads it, spelled so DuckDB reads the same interval: the
    forms DuckDB lacks are ISO 8601 (``P1Y2M``, ``PT90M``), year-month (``1-2``), a day count before
    a time (``3 4:05:06``) and ``+`` signs (``+1 day``, ``-1 day +02:00:00``).

    >>> [pg_interval_text(t) for t in ("P1Y2M", "PT1H30M", "-1-2", "3 4:05:06", "-1 day +02:00:00", "1 day")]
    ['1 years 2 months', '1 hours 30 minutes', '-1 years -2 months', '3 days 4:05:06', '-1 day 02:00:00', '1 day']
    """
    iso = _ISO_INTERVAL.fullmatch(text.strip())
    if iso and text.strip().upper() not in ("P", "PT"):
        return " ".join(f"{v} {unit}" for v, unit in zip(iso.groups(), _ISO_UNITS) if v) or "0 days"
    text = _YEAR_MONTH.sub(lambda m: f"{m[1]}{m[2]} years {m[1]}{m[3]} months", text)
    text = _DAYS_THEN_TIME.sub(r"\1 days\2", text)
    return re.sub(r"(^|\s)\+(?=\d)", r"\1", text)


def interval_literals(tree: exp.Expr) -> None:
    """Interval literals in PostgreSQL's forms DuckDB does not read (``pg_interval_text``)."""
    for node in tree.find_all(exp.Interval, exp.Cast):
        literal = node.this
        if not (isinstance(literal, exp.Literal) and literal.is_string):
            continue
        if isinstance(node, exp.Interval) and node.args.get("unit") is not None:
            continue
        if isinstance(node, exp.Cast) and not (isinstance(node.to, exp.DataType) and node.to.this == T.INTERVAL):
            continue
        spelled = pg_interval_text(literal.this)
        if spelled != literal.this:
            literal.replace(exp.Literal.string(spelled))


def strings(tree: exp.Expr, kinds: dict[str, str]) -> None:
    """Text operations DuckDB answers differently: ``SIMILAR TO`` (SQL's pattern, DuckDB reads a
    regular expression: ``'abc' SIMILAR TO 'a%'`` was false), ``::varchar(n)`` and ``::char(n)``
    (cut to n characters; a ``char(n)``'s trailing blanks do not count, and it is written padded as
    a result column of its own), ``split_part(s, d, 0)`` (22023), ``encode(b, 'hex'|'base64')``.

    >>> import sqlglot
    >>> tree = sqlglot.parse_one("SELECT 'a.c' SIMILAR TO 'a_(b|c)%', length(x::char(3)), 'abc'::varchar(2)", read="postgres")
    >>> strings(tree, {})
    >>> tree.sql("duckdb")
    "SELECT 'a.c' SIMILAR TO 'a.(b|c).*', LENGTH(RTRIM(LEFT(CAST(x AS TEXT), 3))), CAST(LEFT(CAST('abc' AS TEXT), 2) AS TEXT(2))"
    """
    from chaosql.errors import SqlError, UnsupportedError

    own = {id(p.this if isinstance(p, exp.Alias) else p): p for p in outer_projections(tree)}
    for node in list(tree.find_all(exp.SimilarTo, exp.Cast, exp.SplitPart, exp.Encode)):
        if isinstance(node, exp.SimilarTo):
            pattern = node.expression
            if not (isinstance(pattern, exp.Literal) and pattern.is_string):
                raise UnsupportedError("SIMILAR TO with a pattern that is not a literal is not supported")
            node.set("expression", exp.Literal.string(_similar_regex(pattern.this)))
        elif isinstance(node, exp.SplitPart):
            index = node.args.get("part_index")
            if isinstance(index, exp.Literal) and index.this == "0":
                raise SqlError("field position must not be zero", sqlstate="22023")
        elif isinstance(node, exp.Encode):
            charset = node.args.get("charset")
            name = charset.this.lower() if isinstance(charset, exp.Literal) else ""
            if name in ("hex", "base64"):
                value = node.this.copy()
                node.replace(exp.Lower(this=exp.Hex(this=value)) if name == "hex" else exp.ToBase64(this=value))
        elif isinstance(to := node.args.get("to"), exp.DataType) and to.this in (T.VARCHAR, T.CHAR) and to.expressions:
            size = to.expressions[0].this
            cut = exp.func("left", exp.cast(node.this.copy(), "TEXT"), size.copy())
            if to.this == T.VARCHAR:
                node.set("this", cut)
                continue
            trimmed = exp.func("rtrim", cut)  # char(n): its blanks are padding
            projection = own.get(id(node))
            if projection is not None:
                projection.meta["pg_type"] = "bpchar"
                node.replace(exp.func("rpad", trimmed, size.copy(), exp.Literal.string(" ")))
            else:
                node.replace(trimmed)


def _similar_regex(pattern: str) -> str:
    r"""A SIMILAR TO pattern as the regular expression DuckDB matches with it (the whole string).

    >>> print(_similar_regex(r"a%b_.c[%_]\%$"))
    a.*b.\.c[%_]%\$
    """
    out, i, bracket = [], 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if bracket:
            bracket = c != "]"
            out.append(c)
        elif c == "[":
            bracket = True
            out.append(c)
        else:
            out.append({"%": ".*", "_": ".", ".": "\\.", "^": "\\^", "$": "\\$"}.get(c, c))
        i += 1
    return "".join(out)


def like_escapes(tree: exp.Expr) -> None:
    r"""A backslash escapes ``%`` and ``_`` in a LIKE pattern in PostgreSQL (its default ESCAPE);
    DuckDB has no default. Patterns that may hold one get ``ESCAPE '\'``.

    >>> import sqlglot
    >>> tree = sqlglot.parse_one(r"SELECT 'a_c' LIKE 'a\_c', name LIKE 'a%', x ILIKE '%' || $1", read="postgres")
    >>> like_escapes(tree)
    >>> print(tree.sql("duckdb"))
    SELECT 'a_c' LIKE 'a\_c' ESCAPE '\', name LIKE 'a%', x ILIKE '%' || $1 ESCAPE '\'
    """
    for like in list(tree.find_all(exp.Like, exp.ILike)):
        pattern = like.expression
        if isinstance(like.parent, exp.Escape) or (isinstance(pattern, exp.Literal) and "\\" not in pattern.this):
            continue
        if isinstance(pattern, (exp.Literal, exp.Column, exp.Placeholder, exp.Parameter, exp.DPipe, exp.Concat)):
            like.replace(exp.Escape(this=like.copy(), expression=exp.Literal.string("\\")))


#: to_char's template patterns chaosql writes, as strftime (FM: without padding); case matters
_TEMPLATE = [
    ("FMMonth", "%B"), ("FMDay", "%A"), ("FMDD", "%-d"), ("FMMM", "%-m"), ("FMHH24", "%-H"), ("FMHH12", "%-I"),
    ("FMHH", "%-I"), ("FMMI", "%-M"), ("FMSS", "%-S"), ("YYYY", "%Y"), ("DDD", "%j"), ("YY", "%y"), ("MM", "%m"),
    ("DD", "%d"), ("HH24", "%H"), ("HH12", "%I"), ("HH", "%I"), ("MI", "%M"), ("SS", "%S"), ("MS", "%g"),
    ("US", "%f"), ("AM", "%p"), ("PM", "%p"), ("Mon", "%b"), ("Dy", "%a"),
]  # fmt: skip


def _matches(template: str, i: int, pattern: str) -> bool:
    """Number patterns are read in either case (``yyyy``); names and AM/PM as written (``MON``,
    ``am`` would be upper- and lower-case names: not written by chaosql)."""
    if pattern.isupper() and pattern not in ("AM", "PM"):
        return template[i : i + len(pattern)].upper() == pattern
    return template.startswith(pattern, i)


def to_char_templates(tree: exp.Expr) -> None:
    """``to_char(timestamp, template)`` with PostgreSQL's template patterns; one chaosql does not
    write (``Month`` padded to 9, ``Q``, ``IW`` ...) is refused (0A000), never printed as text.

    >>> import sqlglot
    >>> from chaosql.engine.dialect import Postgres
    >>> sql = "SELECT to_char(ts, 'FMMonth Dy, YYYY-MM-DD HH24:MI 100%')"
    >>> tree = sqlglot.parse_one(sql, read=Postgres)
    >>> to_char_templates(tree)
    >>> print(tree.sql("duckdb"))
    SELECT STRFTIME(ts, '%B %a, %Y-%m-%d %H:%M 100%%')
    """
    from chaosql.errors import UnsupportedError

    for node in list(tree.find_all(exp.TimeToStr)):
        template = node.meta.get("pg_template")
        if template is None:
            continue
        if _NUMBER_TEMPLATE.fullmatch(template):  # to_char(number, '999.99')
            node.replace(_number_text(node.this, template))
            continue
        out, i = [], 0
        while i < len(template):
            if template[i] == '"':  # quoted text is written as it is
                end = template.find('"', i + 1)
                end = len(template) if end < 0 else end
                out.append(template[i + 1 : end].replace("%", "%%"))
                i = end + 1
                continue
            pattern = next((p for p in _TEMPLATE if _matches(template, i, p[0])), None)
            if pattern is None and template[i].isalpha():
                raise UnsupportedError(
                    f'to_char template pattern at "{template[i : i + 8]}" is not supported (quote literal text: "T")'
                )
            out.append(pattern[1] if pattern else template[i].replace("%", "%%"))
            i += len(pattern[0]) if pattern else 1
        node.set("format", exp.Literal.string("".join(out)))


#: a number's template: digit positions and only the letters of number patterns (FM, S, MI, PR, PL,
#: SG, L, V, EEEE, RN, TH, G, D); a date's has other letters (a 0 in its text is written as it is)
_NUMBER_TEMPLATE = re.compile(r"(?=.*[90])[90,.\sFMSIPRLGVEDNTHB]+", re.I)


def _number_text(value: exp.Expr, template: str) -> exp.Expr:
    """``to_char(number, template)`` for the templates of digits (``9`` blank-padded, ``0``
    zero-padded), ``,``/``G``, ``.``/``D`` and ``FM``, as PostgreSQL writes them: rounded to the
    template's decimals (a numeric half away from zero, a double as printf), a sign position before
    the number, ``#`` when the number has more digits than the template; ``FM`` drops the padding
    and the fraction's trailing zeros. Any other pattern (``S``, ``MI``, ``PR``, ``EEEE``, ``RN``,
    ``V``, ``L``, ``TH``) is refused (0A000).

    >>> import sqlglot, duckdb
    >>> def run(v, t):
    ...     return duckdb.sql("SELECT " + _number_text(sqlglot.parse_one(v), t).sql("duckdb")).fetchall()[0][0]
    >>> [run("1234.5", "FM999999.99"), run("42", "0000"), run("1234567", "9,999,999"), run("3.14159", "999.99")]
    ['1234.5', ' 0042', ' 1,234,567', '   3.14']
    >>> [run("-0.5", "999.99"), run("12345", "9,999"), run("0", "FM999.99"), run("2.5::double", "999")]
    ['   -.50', ' #,###', '0.', '   2']
    """
    from chaosql.errors import UnsupportedError

    fill = template[2:] if template[:2].upper() == "FM" else template
    parts = re.fullmatch(r"([90,G]*)(?:([.D])([90]*))?", fill)
    if parts is None:
        raise UnsupportedError(
            f'to_char template "{template}" for a number is not supported: chaosql writes digits (9, 0), '
            "separators (, . G D) and FM"
        )
    whole, pointed, fraction = parts[1], bool(parts[2]), parts[3] or ""
    digits, places = sum(c in "90" for c in whole), len(fraction)
    padded_from = next((i for i, c in enumerate(c for c in whole if c in "90") if c == "0"), digits)
    v = "__v"
    number = (
        f"CASE WHEN typeof({v}) IN ('DOUBLE', 'FLOAT') THEN printf('%.{places}f', abs({v})) "
        f"ELSE CAST(abs(CAST({v} AS DECIMAL(38, {places}))) AS VARCHAR) END"
    )
    integer = f"split_part({number}, '.', 1)"
    if places:  # a zero integer part is no digit when there is a fraction (.50)
        integer = f"CASE WHEN {integer} = '0' THEN '' ELSE {integer} END"
    blanked = f"lpad({integer}, {digits}, ' ')"
    if padded_from < digits:
        blanked = f"left({blanked}, {padded_from}) || replace(substr({blanked}, {padded_from + 1}), ' ', '0')"
    pieces, seen = [], 0
    for c in whole:  # a separator is written once a digit is
        if c in "90":
            seen += 1
            pieces.append(f"substr({blanked}, {seen}, 1)")
        else:
            pieces.append(f"CASE WHEN trim(left({blanked}, {seen})) = '' THEN ' ' ELSE ',' END")
    int_part = " || ".join(pieces) or "''"
    frac = f"split_part({number}, '.', 2)" if places else "''"
    last_zero = fraction.rfind("0") + 1
    fm_frac = f"left({frac}, {last_zero}) || rtrim(substr({frac}, {last_zero + 1}), '0')" if places else "''"
    negative = f"({v} < 0 AND regexp_matches({number}, '[1-9]'))"
    overflow = "true" if not digits else f"length({integer}) > {digits}"
    hashes = re.sub(r"[90]", "#", whole.replace("G", ",")) + ("." + "#" * places if pointed else "")
    point = "'.'" if pointed else "''"
    if fill is template:
        body = f"({int_part}) || {point} || {frac}"
        sign = f"CASE WHEN {negative} THEN '-' ELSE ' ' END"
        text = f"repeat(' ', length({body}) - length(ltrim({body}))) || {sign} || ltrim({body})"
    else:
        shown = f"ltrim({int_part})"
        sign = f"CASE WHEN {negative} THEN '-' ELSE '' END"
        text = f"{sign} || CASE WHEN {shown} = '' AND {fm_frac} = '' THEN '0' ELSE {shown} END || {point} || {fm_frac}"
    sql = f"CASE WHEN {v} IS NULL THEN NULL WHEN {overflow} THEN {sign} || '{hashes}' ELSE {text} END"
    import sqlglot

    out = sqlglot.parse_one(sql, read="duckdb")
    for column in list(out.find_all(exp.Column)):
        if column.name == v:
            column.replace(value.copy())
    return out


#: (function, the argument's condition for an error, PostgreSQL's message); SQLSTATEs in engine/errors.py
_OUTSIDE_DOMAIN = {
    exp.Sqrt: [("<", "cannot take square root of a negative number")],
    exp.Ln: [("=", "cannot take logarithm of zero"), ("<", "cannot take logarithm of a negative number")],
    exp.Log: [("=", "cannot take logarithm of zero"), ("<", "cannot take logarithm of a negative number")],
}


def math_domains(tree: exp.Expr) -> None:
    """sqrt, ln, log and power outside their domain are errors in PostgreSQL (2201F, 2201E), NaN
    or an infinity in DuckDB.

    >>> import sqlglot
    >>> tree = sqlglot.parse_one("SELECT sqrt(x)", read="postgres")
    >>> math_domains(tree)
    >>> tree.sql("duckdb")
    "SELECT CASE WHEN x < 0 THEN ERROR('cannot take square root of a negative number') ELSE SQRT(x) END"
    """
    for node in list(tree.find_all(exp.Sqrt, exp.Ln, exp.Log, exp.Pow)):
        if isinstance(node, exp.Pow):
            base, power = node.this, node.expression
            checks: list[tuple[exp.Expr, str]] = [
                (
                    exp.and_(
                        exp.EQ(this=base.copy(), expression=_zero()), exp.LT(this=power.copy(), expression=_zero())
                    ),
                    "zero raised to a negative power is undefined",
                ),
                (
                    exp.and_(
                        exp.LT(this=base.copy(), expression=_zero()),
                        exp.NEQ(this=power.copy(), expression=exp.func("floor", power.copy())),
                    ),
                    "a negative number raised to a non-integer power yields a complex result",
                ),
            ]
        else:
            value = node.expression if isinstance(node, exp.Log) and node.expression is not None else node.this
            checks = [
                ((exp.EQ if op == "=" else exp.LT)(this=value.copy(), expression=_zero()), message)
                for op, message in _OUTSIDE_DOMAIN[type(node)]
            ]
        node.replace(
            exp.Case(
                ifs=[
                    exp.If(this=cond, true=exp.Anonymous(this="error", expressions=[exp.Literal.string(message)]))
                    for cond, message in checks
                ],
                default=node.copy(),
            )
        )


def _zero() -> exp.Expr:
    return exp.Literal.number(0)


_FORMAT_SPEC = re.compile(r"%(?:(\d+)\$)?([sIL%])")


def _format(func: exp.Expr) -> exp.Expr | None:
    """PostgreSQL's ``format(fmt, args...)`` for a literal ``fmt`` (%s, %I, %L, %%, %n$)."""
    args = func.expressions if isinstance(func, exp.Anonymous) else [func.this, *func.expressions]
    if not args or not (isinstance(args[0], exp.Literal) and args[0].is_string):
        return None
    fmt, values = args[0].this, args[1:]
    pieces: list[exp.Expr] = []
    pos, nxt = 0, 0
    for m in _FORMAT_SPEC.finditer(fmt):
        if m.start() > pos:
            pieces.append(exp.Literal.string(fmt[pos : m.start()]))
        pos = m.end()
        if m.group(2) == "%":
            pieces.append(exp.Literal.string("%"))
            continue
        index = int(m.group(1)) - 1 if m.group(1) else nxt
        nxt = index + 1
        if index >= len(values):
            from chaosql.errors import SqlError

            raise SqlError("too few arguments for format()", sqlstate="22023")
        value = exp.cast(values[index].copy(), "TEXT")
        if m.group(2) == "s":
            pieces.append(exp.func("coalesce", value, exp.Literal.string("")))
        elif m.group(2) == "I":
            pieces.append(exp.Anonymous(this="pgc.main.quote_ident", expressions=[value]))
        else:
            pieces.append(exp.Anonymous(this="pgc.main.quote_nullable", expressions=[value]))
    if pos < len(fmt):
        pieces.append(exp.Literal.string(fmt[pos:]))
    if "%" in _FORMAT_SPEC.sub("", fmt):
        return None  # widths and flags (%-10s): left to DuckDB, which refuses them
    return exp.func("concat", *(pieces or [exp.Literal.string("")]))


def functions(tree: exp.Expr) -> bool:
    """format(), pg_typeof(), EXTRACT; returns whether the catalog macros are needed."""
    needs_catalog = False
    for func in list(tree.find_all(exp.Anonymous, exp.Format if hasattr(exp, "Format") else exp.Anonymous)):
        name = func.name.lower() if isinstance(func, exp.Anonymous) else "format"
        if name == "format" or func.meta.get("spelled") == "format":
            replacement = _format(func)
            if replacement is not None:
                func.replace(replacement)
                needs_catalog = True
    for func in list(tree.find_all(exp.Anonymous)):
        if func.name.lower() == "pg_typeof" and len(func.expressions) == 1:  # PostgreSQL's type names
            typeof = exp.Anonymous(this="typeof", expressions=[func.expressions[0].copy()])
            func.replace(exp.Anonymous(this="pgc.main.pg_typeof_name", expressions=[typeof]))
            needs_catalog = True
    for pipe in list(tree.find_all(exp.DPipe)):
        sides = (pipe.this, pipe.expression)
        if any(isinstance(side, (exp.Array, exp.ArrayAgg)) for side in sides):
            # array || array: a NULL array is empty in PostgreSQL, DuckDB's || makes the whole NULL
            pipe.replace(exp.ArrayConcat(this=pipe.this.copy(), expressions=[pipe.expression.copy()]))
    for node in list(tree.find_all(exp.Length, exp.StrPosition, exp.ArraySize, exp.Anonymous)):
        if isinstance(node, exp.Anonymous) and node.name.lower() != "cardinality":
            continue
        node.replace(exp.cast(node.copy(), "INTEGER"))  # int4 in PostgreSQL, BIGINT in DuckDB
    for node in list(tree.find_all(exp.StrToTime, exp.Localtimestamp, exp.Localtime)):  # in the session's zone
        if isinstance(node, exp.StrToTime):
            node.replace(exp.cast(node.copy(), "TIMESTAMPTZ"))  # to_timestamp(text, fmt)
            continue
        local = exp.cast(exp.CurrentTimestamp(), "TIMESTAMP")  # localtimestamp, localtime: now() there
        node.replace(local if isinstance(node, exp.Localtimestamp) else exp.cast(local, "TIME"))
    for extract in list(tree.find_all(exp.Extract)):
        field = extract.this.name.lower() if extract.this is not None else ""
        value: exp.Expr = extract.copy()
        if field in ("second", "seconds", "millisecond", "milliseconds"):
            # with the fraction in PostgreSQL (7.250000); DuckDB's are whole: from the microseconds
            micros = exp.Extract(this=exp.var("microseconds"), expression=extract.expression.copy())
            value = exp.Mul(
                this=exp.cast(micros, exp.DataType.build("DECIMAL(38, 0)")),
                expression=exp.Literal.number("0.000001" if field.startswith("second") else "0.001"),
            )
        if extract.meta.get("spelled") == "date_part":
            extract.replace(exp.cast(value, "DOUBLE"))
        elif field in ("epoch", "second", "seconds"):
            scale = 0 if field == "epoch" and _declared(extract.expression, {}) == "date" else 6  # a date's: whole
            extract.replace(exp.cast(value, exp.DataType.build(f"DECIMAL(38, {scale})")))
        elif field in ("millisecond", "milliseconds"):
            extract.replace(exp.cast(value, exp.DataType.build("DECIMAL(38, 3)")))
        else:
            extract.replace(exp.cast(extract.copy(), exp.DataType.build("DECIMAL(38, 0)")))
    return needs_catalog


_PG_INTEGER_NAMES = {T.INT: "integer", T.BIGINT: "bigint", T.SMALLINT: "smallint"}
_INTEGER_TEXT = r"\s*[+-]?\d+\s*"


def strict_casts(tree: exp.Expr, kinds: dict[str, str]) -> None:
    """Casts from text that PostgreSQL refuses and DuckDB would answer (see the module's notes).

    >>> import sqlglot
    >>> strict_casts(sqlglot.parse_one("SELECT '1.5'::int", read="postgres"), {})
    Traceback (most recent call last):
    ...
    chaosql.errors.SqlError: invalid input syntax for type integer: "1.5"
    """
    from chaosql.errors import SqlError, UnsupportedError

    for literal in tree.find_all(exp.Literal):
        if not literal.is_string and _beyond_double(literal.this):
            # DuckDB reads it as a double: Infinity or 0. PostgreSQL's numeric holds it; refused (documented)
            raise SqlError(f'"{literal.this}" is out of range for type double precision', sqlstate="22003")
    for cast in list(tree.find_all(exp.Cast)):
        if cast.meta.get("exact"):
            continue
        to, inner = cast.args.get("to"), cast.this
        target = to.this if isinstance(to, exp.DataType) else None
        if isinstance(inner, exp.Literal) and not inner.is_string and target == T.FLOAT:
            if _overflows(inner.this, 3.4028235e38):
                raise SqlError(f'"{inner.this}" is out of range for type real', sqlstate="22003")
        elif isinstance(inner, exp.Literal) and inner.is_string:
            text = inner.this
            if target in _PG_INTEGER_NAMES and not re.fullmatch(_INTEGER_TEXT, text):
                raise SqlError(f'invalid input syntax for type {_PG_INTEGER_NAMES[target]}: "{text}"', sqlstate="22P02")
            if target in (T.DOUBLE, T.FLOAT) and _overflows(
                text, 1.7976931348623157e308 if target == T.DOUBLE else 3.4028235e38
            ):
                name = "double precision" if target == T.DOUBLE else "real"
                raise SqlError(f'"{text}" is out of range for type {name}', sqlstate="22003")
            if target == T.BOOLEAN:  # 'on', 'yes', 't', ' TRUE ' ...: DuckDB knows fewer spellings
                inner.replace(_boolean(text))
            if target in (T.TIMESTAMP, T.TIMESTAMPTZ) and re.search(r"\bBC\b", text, re.I):
                raise UnsupportedError(f'timestamps before year 1 cannot be written as literals: "{text}"')
            if target == T.DATE and re.search(r"\s+BC\s*$", text, re.I):  # DuckDB spells it "(BC)"
                inner.replace(exp.Literal.string(re.sub(r"\s+BC\s*$", " (BC)", text, flags=re.I)))
        elif target in _PG_INTEGER_NAMES and not isinstance(inner, exp.Literal) and _kind(inner, kinds) is None:
            as_text = exp.cast(inner.copy(), "VARCHAR")
            name = _PG_INTEGER_NAMES[target]
            message = exp.DPipe(
                this=exp.Literal.string(f'invalid input syntax for type {name}: "'),
                expression=exp.DPipe(this=as_text.copy(), expression=exp.Literal.string('"')),
            )
            spells = exp.Anonymous(
                this="regexp_full_match", expressions=[as_text.copy(), exp.Literal.string(_INTEGER_TEXT)]
            )
            checked: exp.Expr = exp.Case(
                ifs=[exp.If(this=exp.or_(exp.Is(this=inner.copy(), expression=exp.Null()), spells), true=cast.copy())],
                default=exp.cast(exp.Anonymous(this="error", expressions=[message]), cast.to.copy()),
            )
            if not _is_text(inner, kinds):
                # of a type only DuckDB knows (a CTE's or VALUES' column, a parameter): checked only
                # when it is text; DuckDB folds typeof() at bind time, so other casts cost nothing
                typeof = exp.Anonymous(this="typeof", expressions=[inner.copy()])
                is_text = exp.EQ(this=typeof, expression=exp.Literal.string("VARCHAR"))
                checked = exp.Case(ifs=[exp.If(this=is_text, true=checked)], default=cast.copy())
            cast.replace(checked)


#: expressions whose value is text whatever their arguments
_TEXT_EXPRESSIONS = (exp.DPipe, exp.Concat, exp.JSONExtractScalar, exp.Substring, exp.Trim, exp.Lower, exp.Upper)


def _is_text(node: exp.Expr, kinds: dict[str, str]) -> bool:
    """Whether an expression is known to be text: a chaos table's VARCHAR column, ``a || b``,
    ``labels->>'k'``, substring, trim, lower, upper."""
    if isinstance(node, exp.Paren):
        return _is_text(node.this, kinds)
    if isinstance(node, exp.Column):
        return kinds.get(node.name.lower()) == "VARCHAR"
    return isinstance(node, _TEXT_EXPRESSIONS)


def _boolean(text: str) -> exp.Expr:
    """A boolean's text as PostgreSQL reads it (a prefix of true/false/yes/no, on/off, 1/0, any
    case, blanks around), else its 22P02.

    >>> [_boolean(t).sql() for t in ("on", " TRUE ", "of", "y", "0")]
    ['TRUE', 'TRUE', 'FALSE', 'TRUE', 'FALSE']
    >>> _boolean("o")
    Traceback (most recent call last):
    ...
    chaosql.errors.SqlError: invalid input syntax for type boolean: "o"
    """
    from chaosql.errors import SqlError

    word = text.strip().lower()
    for spelled, value, shortest in _BOOLEAN_WORDS:
        if len(word) >= shortest and spelled.startswith(word):
            return exp.Boolean(this=value)
    raise SqlError(f'invalid input syntax for type boolean: "{text}"', sqlstate="22P02")


#: (word, its value, the shortest prefix PostgreSQL takes for it)
_BOOLEAN_WORDS = [
    ("true", True, 1), ("false", False, 1), ("yes", True, 1), ("no", False, 1),
    ("on", True, 2), ("off", False, 2), ("1", True, 1), ("0", False, 1),
]  # fmt: skip


def _beyond_double(text: str) -> bool:
    """Whether a number literal is too large or too small (but not 0) for a double precision.

    >>> [_beyond_double(t) for t in ("1e400", "1e-400", "0e-400", "1.5", "1e308")]
    [True, True, False, False, False]
    """
    if _overflows(text, 1.7976931348623157e308):
        return True
    mantissa, _, exponent = text.lower().partition("e")
    return bool(exponent) and _looks_zero(text) and bool(re.search(r"[1-9]", mantissa))


def _looks_zero(text: str) -> bool:
    try:
        return float(text) == 0
    except ValueError:
        return False


def _overflows(text: str, largest: float) -> bool:
    """Whether a float's text is a number too large for the type (PostgreSQL: 22003), not an infinity."""
    try:
        value = float(text)
    except ValueError:
        return False
    return abs(value) > largest and "inf" not in text.lower()


def expressions(tree: exp.Expr, kinds: dict[str, str]) -> None:
    """Every expression rewrite above, in order, each only when the statement holds a node it
    rewrites: one walk over the tree instead of one per rewrite (the wire runs this on every
    statement)."""
    present = {type(node) for node in tree.walk()}
    for rewrite, triggers in _REWRITES:
        if not triggers or not present.isdisjoint(triggers):
            rewrite(tree, kinds)


#: (rewrite, the node types it rewrites; empty: always); in the order they run. numeric() makes
#: the Div of div(), so IntDiv triggers numeric_division too.
_REWRITES: list[tuple[Callable[[exp.Expr, dict[str, str]], None], tuple[type, ...]]] = [
    (numeric, (exp.Literal, exp.Cast, exp.Floor, exp.Ceil, exp.Round)),
    (
        operand_types,
        (
            exp.Sub,
            exp.TimestampTrunc,
            exp.Add,
            exp.Mul,
            exp.Div,
            exp.Sum,
            exp.ExplodingGenerateSeries,
            exp.GenerateSeries,
        ),
    ),
    (jsonb_extracts, (exp.JSONExtract,)),
    (numeric_division, (exp.Div, exp.Avg, exp.IntDiv)),
    (strict_casts, (exp.Literal, exp.Cast)),
    (lambda tree, kinds: interval_literals(tree), (exp.Interval, exp.Cast)),
    (rounding_and_substrings, (exp.Round, exp.Substring)),
    (lambda tree, kinds: math_domains(tree), (exp.Sqrt, exp.Ln, exp.Log, exp.Pow)),
    (lambda tree, kinds: like_escapes(tree), (exp.Like, exp.ILike)),
    (strings, (exp.SimilarTo, exp.Cast, exp.SplitPart, exp.Encode)),
    (lambda tree, kinds: to_char_templates(tree), (exp.TimeToStr,)),
]
