"""Numbers as PostgreSQL computes them: unconstrained ``numeric``, operand types of arithmetic,
exact numeric division and ``avg``, ``round``/``substr`` edge cases, and math functions' domains."""

from __future__ import annotations

import decimal
from typing import Any

from sqlglot import exp

from chaosql.server.semantics.kinds import _declared, _kind, _position, outer_projections

T = exp.DataType.Type


def _numeric_type(kind: str | None) -> exp.DataType:
    if kind == "int":
        return exp.DataType.build("DECIMAL(38, 0)")
    if kind and kind.startswith("decimal:"):
        scale = min(int(kind.split(":")[1] or 0), 37)
        return exp.DataType.build(f"DECIMAL(38, {scale})")
    return exp.DataType.build("DOUBLE")


def _unconstrained_numeric(to: Any) -> bool:
    return isinstance(to, exp.DataType) and to.this in (T.DECIMAL, T.BIGDECIMAL) and not to.expressions


#: the literals PostgreSQL reads as the smallest int4 and int8 once negated, and their types
_SMALLEST_INTEGERS = {"2147483648": "INTEGER", "9223372036854775808": "BIGINT"}


def numeric(tree: exp.Expr, kinds: dict[str, str]) -> None:
    """``::numeric`` without precision as PostgreSQL keeps it: the value's own scale."""
    found = list(tree.find_all(exp.Literal, exp.Cast))
    own = {id(p.this if isinstance(p, exp.Alias) else p): p for p in outer_projections(tree)}
    for literal in found:
        if isinstance(literal.parent, exp.Neg) and literal.this in _SMALLEST_INTEGERS:
            # -2147483648 is an int4 literal in PostgreSQL (its grammar folds the sign in); DuckDB: int8
            literal.parent.replace(exp.cast(literal.parent.copy(), _SMALLEST_INTEGERS[literal.this]))
            continue
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
        if _unconstrained_numeric(cast.args.get("to")) and _special_numeric(cast, own):
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
        places = (
            "0" if digits is None else digits.this if isinstance(digits, exp.Literal) and not digits.is_string else ""
        )
        if (
            isinstance(inner, exp.Cast)
            and inner.meta.get("pg_numeric")
            and inner.args["to"].this == T.DOUBLE
            and places.isdigit()
            and int(places) <= 20
        ):  # round(x::numeric, 2) of a float: numeric with scale 2, rounded half away from zero as the
            # float's numeric (its 15 significant digits) is
            inner.replace(
                _exact_cast(
                    exp.func("printf", exp.Literal.string("%.15g"), inner.this.copy()),
                    f"DECIMAL(38, {int(places) + 17})",
                )
            )
            rnd.replace(exp.cast(rnd.copy(), exp.DataType.build(f"DECIMAL(38, {int(places)})")))
    _float_numeric_columns(tree)
    for cast in tree.find_all(exp.Cast):
        if (
            cast.meta.get("pg_numeric")
            and not cast.meta.get("written_as_numeric")
            and cast.args["to"].this == T.DOUBLE
            and _kind(cast.this, kinds) == "float"
        ):
            from chaosql.errors import UnsupportedError

            raise UnsupportedError(
                "a double precision value cast to numeric is not supported inside an expression: PostgreSQL "
                "computes on its 15 significant digits in numeric; as a result column of its own or in "
                "round(x::numeric, n) it is answered"
            )


def _float_numeric_columns(tree: exp.Expr) -> None:
    """A double cast to numeric as a result column of its own is sent as numeric, written as
    PostgreSQL's float8-to-numeric conversion writes it (15 significant digits, no exponent:
    ``(0.1 + 0.2)::numeric`` is ``0.3``); an ORDER BY of it by position or name sorts the numbers,
    and DISTINCT keeps one of equal texts, as PostgreSQL keeps one of equal numerics."""
    outer = outer_projections(tree)
    as_double: dict[int, exp.Expr] = {}
    for index, projection in enumerate(outer):
        cast = projection.this if isinstance(projection, exp.Alias) else projection
        if isinstance(cast, exp.Cast) and cast.meta.get("pg_numeric") and cast.args["to"].this == T.DOUBLE:
            # the cast itself inside: a GROUP BY of it still covers the column
            inside = cast.copy()
            inside.meta["written_as_numeric"] = True
            text = exp.Anonymous(this="pgc.main.pg_float_numeric", expressions=[inside])
            as_double[index] = exp.cast(text.copy(), "DOUBLE")  # a grouped expression too
            cast.replace(text)
            projection.meta["pg_type"] = "numeric"
    order = tree.args.get("order")
    for ordered in order.expressions if as_double and order is not None else []:
        position = _position(ordered.this, outer)
        if position in as_double:
            ordered.set("this", as_double[position].copy())


#: numeric's values that are no number, as PostgreSQL writes them
_SPECIAL_NUMERICS = {
    "nan": "NaN",
    "infinity": "Infinity",
    "inf": "Infinity",
    "-infinity": "-Infinity",
    "-inf": "-Infinity",
}


def _special_numeric(cast: exp.Cast, own: dict[int, exp.Expr]) -> bool:
    """``'NaN'::numeric`` (and ``'Infinity'``): PostgreSQL's numeric NaN, DuckDB's DECIMAL has none
    (a double's NaN would be sent as double precision). As a result column of its own it is sent
    as numeric; anywhere else it is refused (0A000). Returns whether ``cast`` was one."""
    from chaosql.errors import UnsupportedError

    value = cast.this
    text = value.this.strip().lower().lstrip("+") if isinstance(value, exp.Literal) and value.is_string else None
    if text not in _SPECIAL_NUMERICS:
        return False
    projection = own.get(id(cast))
    if projection is None:
        raise UnsupportedError(
            f"numeric {_SPECIAL_NUMERICS[text]} is not supported except as a result column of its own: DuckDB's decimals have none"
        )
    projection.meta["pg_type"] = "numeric"
    cast.replace(exp.Literal.string(_SPECIAL_NUMERICS[text]))
    return True


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
            refused = _failing("negative substring length not allowed")
            length = exp.Case(ifs=[exp.If(this=negative, true=exp.cast(refused, "BIGINT"))], default=length.copy())
            sub.set("length", length)
        if isinstance(start, exp.Literal) and not start.is_string and start.this.isdigit() and int(start.this) >= 1:
            continue  # the usual case: the same in both
        first = exp.func("greatest", start.copy(), exp.Literal.number(1))
        sub.set("start", first)
        if length is not None:
            end = exp.Add(this=start.copy(), expression=length.copy())
            sub.set("length", exp.func("greatest", exp.Sub(this=end, expression=first.copy()), exp.Literal.number(0)))


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
                ifs=[exp.If(this=cond, true=_failing(message)) for cond, message in checks],
                default=node.copy(),
            )
        )


def _zero() -> exp.Expr:
    return exp.Literal.number(0)


_FLOAT_ARITHMETIC = (exp.Add, exp.Sub, exp.Mul, exp.Div)


def float_overflows(tree: exp.Expr, kinds: dict[str, str]) -> None:
    """Double precision arithmetic that overflows or underflows is an error in PostgreSQL (22003);
    DuckDB answers ±Infinity, NaN (``1e308 * 10 * 0``) or 0 (``1e-300 * 1e-300``). Each operation
    of a chain (``a * b + c``) is checked as PostgreSQL's float8 operators check it: a result that
    is infinite from operands that are not, or (``*`` and ``/``) zero from operands that are not;
    so an overflow next to an infinite operand (``1e308 * 10 + 'inf'``) is one too.

    >>> import sqlglot
    >>> tree = sqlglot.parse_one("SELECT x::float8 * 1e-3, 2 * 3", read="postgres")
    >>> float_overflows(tree, {})
    >>> print(tree.sql("duckdb"))
    SELECT CASE WHEN ISINF(CAST(x AS DOUBLE) * 1e-3) AND NOT ISINF(CAST(x AS DOUBLE)) THEN ERROR('value out of range: overflow') WHEN CAST(x AS DOUBLE) * 1e-3 = 0 AND CAST(x AS DOUBLE) <> 0 THEN ERROR('value out of range: underflow') ELSE CAST(x AS DOUBLE) * 1e-3 END, 2 * 3
    """

    def floating(node: exp.Expr) -> bool:
        sides = (node.this, node.expression)
        return _kind(node, kinds) == "float" or (
            isinstance(node, exp.Div) and any(_kind(side, kinds) == "float" for side in sides)
        )

    def chained(node: exp.Expr) -> exp.Expr:
        while isinstance(node, exp.Paren):
            node = node.this
        return node

    roots: list[exp.Expr] = []
    for node in tree.find_all(*_FLOAT_ARITHMETIC):
        parent = node.parent
        while isinstance(parent, exp.Paren):
            parent = parent.parent
        if floating(node) and not (isinstance(parent, _FLOAT_ARITHMETIC) and floating(parent)):
            roots.append(node)
    for root in roots:
        checks: list[exp.If] = []
        pending: list[exp.Expr] = [root]
        operations: list[exp.Expr] = []
        while pending:  # every operation of the chain, innermost first once reversed
            operation = chained(pending.pop())
            if isinstance(operation, _FLOAT_ARITHMETIC) and floating(operation):
                operations.append(operation)
                pending += [operation.this, operation.expression]
        for operation in reversed(operations):
            checks += _float_checks(operation, kinds)
        if checks:
            root.replace(exp.Case(ifs=checks, default=root.copy()))


def _float_checks(operation: exp.Expr, kinds: dict[str, str]) -> list[exp.If]:
    """PostgreSQL's float8_pl/mi/mul/div checks of one operation: overflow (an infinite result
    from operands that are not; for ``/`` the dividend only) and, for ``*`` and ``/``, underflow
    (zero from a non-zero dividend or factors, a divisor that is not infinite). A number literal is
    finite and, unless it is 0, not zero: it needs no check."""
    left, right = operation.this, operation.expression
    divides = isinstance(operation, exp.Div)

    def literal(side: exp.Expr) -> exp.Literal | None:
        side = side.this if isinstance(side, exp.Neg) else side
        return side if isinstance(side, exp.Literal) and not side.is_string else None

    def may_be_infinite(side: exp.Expr) -> bool:
        return literal(side) is None and _kind(side, kinds) != "int"

    overflow = [exp.func("isinf", operation.copy())] + [
        exp.not_(exp.func("isinf", side.copy()))
        for side in ((left,) if divides else (left, right))
        if may_be_infinite(side)
    ]
    checks = [exp.If(this=exp.and_(*overflow), true=_failing("value out of range: overflow"))]
    if isinstance(operation, (exp.Mul, exp.Div)):
        nonzero = (left,) if divides else (left, right)
        if any(decimal.Decimal(getattr(literal(side), "this", "1")) == 0 for side in nonzero):
            return checks  # x * 0 is 0, as in PostgreSQL
        underflow: list[exp.Expr] = [exp.EQ(this=operation.copy(), expression=_zero())] + [
            exp.NEQ(this=side.copy(), expression=_zero()) for side in nonzero if literal(side) is None
        ]
        if divides and may_be_infinite(right):
            underflow.append(exp.not_(exp.func("isinf", right.copy())))
        checks.append(exp.If(this=exp.and_(*underflow), true=_failing("value out of range: underflow")))
    return checks


def _failing(message: str) -> exp.Expr:
    """DuckDB's ``error(message)``: the statement fails with ``message`` where this is evaluated."""
    return exp.Anonymous(this="error", expressions=[exp.Literal.string(message)])


#: the largest finite double
_DOUBLE_MAX = "1.7976931348623157e308"


def float_sums(tree: exp.Expr, kinds: dict[str, str]) -> None:
    """``sum`` and ``avg`` of double precision as PostgreSQL's float8pl and float8_accum check them:
    a running sum of finite values that overflows is 22003 (DuckDB: Infinity), and so is avg's
    running sum of squares. Whether a running sum of values of both signs, or a sum of squares,
    overflows depends on the order PostgreSQL reads the rows: where it could (values within a
    factor of the row count of the largest double, or of 1e153 for avg), the aggregate is refused
    (0A000) rather than answered by a guess. Plain aggregates only (not ``OVER``, ``FILTER`` or
    ``DISTINCT``), of a known double precision argument.

    >>> import sqlglot
    >>> tree = sqlglot.parse_one("SELECT sum(x::float8)", read="postgres")
    >>> float_sums(tree, {})
    >>> sql = tree.sql("duckdb")
    >>> sql.startswith("SELECT CASE WHEN BOOL_AND(") and sql.endswith("ELSE SUM(CAST(x AS DOUBLE)) END")
    True
    """
    for node in list(tree.find_all(exp.Sum, exp.Avg)):
        if isinstance(node, exp.Sum) and _declared(node.this, kinds) == "float4":
            node.replace(_failing("sum() of real is not supported: PostgreSQL adds in single precision; use x::float8"))
            continue
        if isinstance(node.parent, (exp.Window, exp.Filter)) or _kind(node.this, kinds) != "float":
            continue
        value = node.this
        name = "avg" if isinstance(node, exp.Avg) else "sum"

        def finite(aggregate: exp.Expr, value: exp.Expr = value) -> exp.Expr:  # over the finite values only
            return exp.Filter(this=aggregate, expression=exp.Where(this=exp.func("isfinite", value.copy())))

        largest = finite(exp.Max(this=exp.Abs(this=value.copy())))
        count, low, high = (finite(f(this=value.copy())) for f in (exp.Count, exp.Min, exp.Max))
        bound = exp.Div(this=exp.Literal.number("1e153" if name == "avg" else _DOUBLE_MAX), expression=count.copy())
        if name == "avg":  # the sum of squares of any two different values this large may overflow
            spread = [exp.GT(this=count, expression=exp.Literal.number(1)), exp.NEQ(this=low, expression=high)]
        else:
            spread = [exp.LT(this=low, expression=_zero()), exp.GT(this=high, expression=_zero())]
        overflowed = exp.and_(
            exp.func("bool_and", exp.func("isfinite", value.copy())),
            exp.func("isinf", exp.Sum(this=value.copy())),
        )
        refusal = (
            f"{name}() of double precision values this large is not supported: whether PostgreSQL's running "
            f"{'sums overflow' if name == 'avg' else 'sum overflows'} depends on the order it reads the rows"
        )
        node.replace(
            exp.Case(
                ifs=[
                    exp.If(this=overflowed, true=_failing("value out of range: overflow")),
                    exp.If(this=exp.and_(*spread, exp.GT(this=largest, expression=bound)), true=_failing(refusal)),
                ],
                default=node.copy(),
            )
        )


_CHOICES = (exp.Case, exp.Coalesce, exp.Greatest, exp.Least)


def _choices(node: exp.Expr) -> list[exp.Expr]:
    """The values a CASE, coalesce, greatest or least may give (NULLs aside)."""
    if isinstance(node, exp.Case):
        values = [branch.args["true"] for branch in node.args.get("ifs") or []] + [node.args.get("default")]
    else:
        values = [node.this, *node.expressions]
    return [v for v in values if v is not None and not isinstance(v, exp.Null)]


def _scale(kind: str | None) -> int | None:
    if kind == "int":
        return 0
    return int(kind.split(":")[1] or 0) if kind and kind.startswith("decimal:") else None


def mixed_scales(tree: exp.Expr, kinds: dict[str, str]) -> None:
    """A CASE or coalesce whose numeric values have different scales (``THEN 1 ELSE 2.5``): each
    value keeps its own scale in PostgreSQL (``1``), DuckDB gives them the widest (``1.0``). As a
    result column of its own, each value is written as its own text and sent as numeric; elsewhere
    where its text could show (a select list, greatest/least) it is refused (0A000).

    >>> import sqlglot
    >>> tree = sqlglot.parse_one("SELECT CASE WHEN x THEN 1 ELSE 2.5 END AS c, coalesce(y, 0) FROM t ORDER BY c", read="postgres")
    >>> mixed_scales(tree, {})
    >>> print(tree.sql("duckdb"))
    SELECT CASE WHEN x THEN CAST(1 AS TEXT) ELSE CAST(2.5 AS TEXT) END AS c, COALESCE(y, 0) FROM t ORDER BY CASE WHEN x THEN 1 ELSE 2.5 END
    """
    from chaosql.errors import UnsupportedError

    outer = outer_projections(tree) if not tree.args.get("distinct") else []
    own = {id(p.this if isinstance(p, exp.Alias) else p): p for p in outer}
    as_value: dict[int, exp.Expr] = {}  # result column -> its values as numbers, for ORDER BY
    for node in list(tree.find_all(*_CHOICES)):
        values = _choices(node)
        if any(v.find(exp.Div, exp.Avg) for v in values):
            continue  # a quotient: numeric_division's
        scales = {_scale(_kind(v, kinds)) for v in values}
        if len(scales) < 2 or None in scales:
            continue
        projection = own.get(id(node))
        if projection is not None and not isinstance(node, (exp.Greatest, exp.Least)):
            as_value[outer.index(projection)] = node.copy()
            for value in values:
                value.replace(exp.cast(value.copy(), "TEXT"))
            projection.meta["pg_type"] = "numeric"
            continue
        up: exp.Expr | None = node
        while up is not None and not isinstance(up, (exp.Predicate, exp.Where, exp.Having, exp.Order, exp.Group)):
            if isinstance(up.parent, exp.Select) and any(up is p for p in up.parent.expressions):
                name = "CASE" if isinstance(node, exp.Case) else node.sql_name().lower()
                raise UnsupportedError(
                    f"a {name} whose numbers have different scales is only supported as a result column of its "
                    "own: PostgreSQL keeps each value's scale, DuckDB gives them one"
                )
            up = up.parent
    order = tree.args.get("order")
    for ordered in order.expressions if as_value and order is not None else []:
        position = _position(ordered.this, outer)
        if position in as_value:
            ordered.set("this", as_value[position].copy())


def _mixed_values(values: exp.Values) -> list[int]:
    """The columns of a VALUES list whose numbers have different scales (``(1.5), (2.25)``)."""
    rows = [row.expressions for row in values.expressions if isinstance(row, exp.Tuple)]
    mixed = []
    for i in range(min((len(row) for row in rows), default=0)):
        column = [row[i] for row in rows if not isinstance(row[i], exp.Null)]
        scales = {_scale(_kind(v, {})) for v in column if not (isinstance(v, exp.Literal) and v.is_string)}
        if len(scales) > 1 and None not in scales:
            mixed.append(i)
    return mixed


def mixed_scale_values(tree: exp.Expr, kinds: dict[str, str]) -> None:
    """A VALUES list whose column mixes numbers of different scales: PostgreSQL keeps each value's
    (``1.5``, ``2.25``), DuckDB gives the column one (``1.50``). Such a column is refused (0A000)
    where its values could show: a select list, outside ``count`` and comparisons.

    >>> import sqlglot
    >>> mixed_scale_values(sqlglot.parse_one("SELECT count(x) FROM (VALUES (1.5), (2.25)) v(x) WHERE x > 1", read="postgres"), {})
    >>> mixed_scale_values(sqlglot.parse_one("SELECT max(x) FROM (VALUES (1.5), (2.25)) v(x)", read="postgres"), {})
    Traceback (most recent call last):
    chaosql.errors.UnsupportedError: a VALUES column of numbers of different scales (x) is only supported in count(), comparisons, and sum() or avg() of all its rows: PostgreSQL keeps each value's scale, DuckDB gives the column one
    """
    from chaosql.errors import UnsupportedError

    for values in list(tree.find_all(exp.Values)):
        if isinstance(values.parent, exp.Insert):
            continue
        mixed = _mixed_values(values)
        if not mixed:
            continue
        alias = values.args.get("alias")
        names = [c.name.lower() for c in alias.columns] if alias is not None else []
        select = values.parent
        while select is not None and not isinstance(select, exp.Select):
            select = select.parent
        starred = select is not None and any(
            isinstance(p, exp.Star) or (isinstance(p, exp.Column) and isinstance(p.this, exp.Star))
            for p in select.expressions
        )
        if select is None or starred or len(names) <= max(mixed):  # the VALUES list is the result itself
            raise UnsupportedError(
                "a VALUES list of numbers of different scales is not supported: PostgreSQL keeps each "
                "value's scale, DuckDB gives the column one"
            )
        refused = {names[i] for i in mixed}
        # sum and avg over every row of the list: the widest scale is among the values summed, as in DuckDB
        whole = not any(select.args.get(k) for k in ("where", "group", "joins"))
        for column in select.find_all(exp.Column):
            if column.name.lower() not in refused:
                continue
            up: exp.Expr | None = column
            while up is not None and up is not select:
                if isinstance(up, (exp.Predicate, exp.Count, exp.Where, exp.Having, exp.Order, exp.Group, exp.Join)):
                    break
                if whole and isinstance(up, (exp.Sum, exp.Avg)) and not isinstance(up.parent, (exp.Filter, exp.Window)):
                    break
                if isinstance(up.parent, exp.Select) and any(up is p for p in up.parent.expressions):
                    raise UnsupportedError(
                        f"a VALUES column of numbers of different scales ({column.name}) is only supported in "
                        "count(), comparisons, and sum() or avg() of all its rows: PostgreSQL keeps each value's scale, DuckDB gives the column one"
                    )
                up = up.parent


def numeric_powers(tree: exp.Expr, kinds: dict[str, str]) -> None:
    """``power(x, y)`` or ``x ^ y`` with a numeric operand is numeric in PostgreSQL, at a scale of
    its own (``2.0 ^ 10`` is ``1024.0000000000000000``); DuckDB computes a double. Refused (0A000)
    rather than answered with another number; of integers or doubles it is double precision in both.
    """
    from chaosql.errors import UnsupportedError

    for node in tree.find_all(exp.Pow):
        if any((_kind(side, kinds) or "").startswith("decimal:") for side in (node.this, node.expression)):
            raise UnsupportedError(
                "power() or ^ of a numeric is not supported: PostgreSQL computes it in numeric at its own "
                "scale; cast an operand to double precision (x::float8) for a double"
            )


#: the variance and standard deviation aggregates, numeric in PostgreSQL for integers and numerics
_SPREADS = (exp.Stddev, exp.StddevPop, exp.StddevSamp, exp.Variance, exp.VariancePop)
#: corr, covar_* and the regr_* aggregates of PostgreSQL's float8 accumulators (regr_count is exact)
_REGRESSIONS = (
    exp.Corr,
    exp.CovarPop,
    exp.CovarSamp,
    exp.RegrAvgx,
    exp.RegrAvgy,
    exp.RegrIntercept,
    exp.RegrR2,
    exp.RegrSlope,
    exp.RegrSxx,
    exp.RegrSxy,
    exp.RegrSyy,
)


def numeric_spreads(tree: exp.Expr, kinds: dict[str, str]) -> None:
    """``stddev``/``variance`` (and their ``_pop``/``_samp`` forms) are refused (0A000): of integers
    or numerics PostgreSQL answers an exact numeric, DuckDB a double (``1.118033988749895`` where
    PostgreSQL says ``1.1180339887498948``), and of doubles the two compute them by different
    algorithms, whose last digits differ (``14879.90283701786`` and ``14879.902837017858``).
    """
    from chaosql.errors import UnsupportedError

    for node in tree.find_all(*_SPREADS, *_REGRESSIONS):
        if isinstance(node, _REGRESSIONS):
            raise UnsupportedError(
                f"{node.sql_name().lower()}() is not supported: PostgreSQL and DuckDB compute it by different "
                "algorithms, whose last digits differ"
            )
        raise UnsupportedError(
            f"{node.sql_name().lower()}() is not supported: PostgreSQL's answer differs from DuckDB's in its type "
            "(numeric for integers and numerics) and its last digits (for double precision)"
        )


def unknown_literals(tree: exp.Expr, kinds: dict[str, str]) -> None:
    """A string literal in arithmetic with a number (``'5' + 1``) takes the number's type in
    PostgreSQL (an unknown-type literal); DuckDB finds no ``+`` for them. Cast to that type, so a
    literal that does not spell one is PostgreSQL's 22P02 (strict_casts).

    >>> import sqlglot
    >>> tree = sqlglot.parse_one("SELECT '5' + 1, 2.5 * '2', '1' || 2", read="postgres")
    >>> unknown_literals(tree, {})
    >>> tree.sql("duckdb")
    "SELECT CAST('5' AS INT) + 1, 2.5 * CAST('2' AS DECIMAL), '1' || 2"
    """
    for node in list(tree.find_all(exp.Add, exp.Sub, exp.Mul, exp.Div)):
        sides = (node.this, node.expression)
        for text, other in (sides, sides[::-1]):
            if not (isinstance(text, exp.Literal) and text.is_string) or (
                isinstance(other, exp.Literal) and other.is_string
            ):
                continue
            kind = _kind(other, kinds)
            if kind == "int":
                small = _declared(other, kinds) in ("int4", "int2")
                text.replace(exp.cast(text.copy(), "INTEGER" if small else "BIGINT"))
            elif kind == "float":
                text.replace(exp.cast(text.copy(), "DOUBLE"))
            elif kind and kind.startswith("decimal:"):
                text.replace(exp.cast(text.copy(), exp.DataType.build("DECIMAL")))


def width_buckets(tree: exp.Expr, kinds: dict[str, str]) -> None:
    """width_bucket(operand, low, high, count) of numerics (exact) or of doubles (PostgreSQL's
    float arithmetic), by the values' types as PostgreSQL picks its form, and
    width_bucket(operand, thresholds): the catalog's (DuckDB has none)."""
    for node in list(tree.find_all(exp.WidthBucket)):
        thresholds = node.args.get("threshold")
        if thresholds is not None:
            arguments = [node.this, thresholds]
        else:
            arguments = [node.args.get(a) for a in ("this", "min_value", "max_value", "num_buckets")]
        name = "pg_width_bucket_array" if thresholds is not None else "pg_width_bucket"
        node.replace(exp.Anonymous(this=f"pgc.main.{name}", expressions=arguments))


def float_texts(tree: exp.Expr, kinds: dict[str, str]) -> None:
    """A double precision value made text (``x::text``, ``'v=' || x``, ``concat``) is written as
    PostgreSQL writes it (``1``, ``1e+15``, ``NaN``), not as DuckDB does (``1.0``,
    ``1000000000000000.0``, ``nan``): the catalog's pg_float_text."""

    def text_of(node: exp.Expr) -> exp.Expr:
        return exp.Anonymous(this="pgc.main.pg_float_text", expressions=[node.copy()])

    for node in list(tree.find_all(exp.Cast, exp.DPipe, exp.Concat, exp.ConcatWs)):
        if isinstance(node, exp.Cast):
            to = node.args.get("to")
            if isinstance(to, exp.DataType) and to.this in (T.TEXT, T.VARCHAR) and not to.expressions:
                if _kind(node.this, kinds) == "float":
                    node.replace(text_of(node.this))
            continue
        parts = [node.this, node.expression] if isinstance(node, exp.DPipe) else list(node.expressions)
        for part in parts:
            if part is not None and _kind(part, kinds) == "float":
                part.replace(text_of(part))


def signs_and_logs(tree: exp.Expr, kinds: dict[str, str]) -> None:
    """``sign`` is double precision of integers and doubles and numeric of numerics in PostgreSQL
    (DuckDB: the argument's integer type); ``log(b, x)`` exists only for numerics in PostgreSQL,
    and ``log``, ``ln``, ``exp``, ``sqrt`` of a numeric are numeric, at a scale of their own:
    refused (0A000)."""
    from chaosql.errors import UnsupportedError

    for node in list(tree.find_all(exp.Sign, exp.Log, exp.Ln, exp.Exp, exp.Sqrt, exp.ToNumber)):
        if isinstance(node, exp.ToNumber):  # DuckDB has none; sqlglot's stand-in reads only plain numbers
            raise UnsupportedError("to_number() is not supported: cast the text instead (x::numeric)")
        if isinstance(node, exp.Log) and node.expression is not None and node.meta.get("spelled") != "log10":
            raise UnsupportedError(
                "log(b, x) is not supported: PostgreSQL computes it in numeric at its own scale; "
                "use ln(x) / ln(b) for a double"
            )
        if not isinstance(node, exp.Sign):
            value = node.expression if isinstance(node, exp.Log) and node.expression is not None else node.this
            if (_kind(value, kinds) or "").startswith("decimal"):
                name = node.meta.get("spelled") or type(node).__name__.lower()
                raise UnsupportedError(
                    f"{name}() of a numeric is not supported: PostgreSQL computes it in numeric at its own "
                    f"scale; cast it to double precision ({name}(x::float8)) for a double"
                )
            continue
        kind = _kind(node.this, kinds)
        if kind in ("int", "float"):
            node.replace(exp.cast(node.copy(), "DOUBLE"))
        elif kind and kind.startswith("decimal"):
            node.replace(exp.cast(node.copy(), exp.DataType.build("DECIMAL(38, 0)")))


def window_and_round_types(tree: exp.Expr, kinds: dict[str, str]) -> None:
    """``ntile`` is int4 in PostgreSQL (DuckDB: BIGINT); ``round(integer, n)`` is numeric with n
    decimals (there is no integer round with digits; DuckDB keeps the integer)."""
    for node in list(tree.find_all(exp.Ntile, exp.Round)):
        if isinstance(node, exp.Ntile):
            total = node.parent if isinstance(node.parent, exp.Window) else node
            total.replace(exp.cast(total.copy(), "INTEGER"))
        elif node.args.get("decimals") is not None and _kind(node.this, kinds) == "int":
            node.set("this", _exact_cast(node.this.copy(), "DECIMAL(38, 0)"))
            digits = node.args["decimals"]
            if isinstance(digits, exp.Literal) and not digits.is_string and digits.this.isdigit():
                node.replace(_exact_cast(node.copy(), f"DECIMAL(38, {min(int(digits.this), 37)})"))


def mixed_scale_unions(tree: exp.Expr, kinds: dict[str, str]) -> None:
    """A UNION (INTERSECT, EXCEPT) whose column has numbers of different scales from its branches
    (``SELECT 1 UNION ALL SELECT 2.5``): PostgreSQL keeps each value's scale (``1``, ``2.5``), DuckDB
    gives the column one (``1.0``): refused (0A000)."""
    from chaosql.errors import UnsupportedError

    for union in tree.find_all(exp.SetOperation):
        if isinstance(union.parent, exp.SetOperation):
            continue  # the outermost of a chain reads all its branches
        branches: list[exp.Expr] = []
        pending: list[exp.Expr] = [union]
        while pending:
            node = pending.pop()
            while isinstance(node, exp.Subquery):
                node = node.this
            if isinstance(node, exp.SetOperation):
                pending += [node.this, node.expression]
            else:
                branches.append(node)
        columns = [outer_projections(b) for b in branches]
        if not all(columns) or len({len(c) for c in columns}) != 1:
            continue
        for position in range(len(columns[0])):
            found = {_kind(c[position].unalias(), kinds) for c in columns}
            if None in found or "float" in found:
                continue
            scales = {_scale(k) or 0 for k in found}
            if len(scales) > 1:  # int with a decimal of scale 0 (count(*), sum(bigint)) is one scale
                raise UnsupportedError(
                    "a UNION of numbers of different scales is not supported: PostgreSQL keeps each value's "
                    "scale, DuckDB gives the column one"
                )
