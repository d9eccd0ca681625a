"""Which predicates a statement implies for one table reference, and how to merge them.

Only conjuncts that every result row must satisfy are used, so pushing them to a source never
changes an answer; DuckDB applies every predicate again anyway. ``implied`` works on sqlglot
expressions:

>>> import sqlglot
>>> where = sqlglot.parse_one("SELECT 1 FROM t WHERE (ns = 'a' AND kind = 'X') OR ns IN ('b', 'c')").args["where"].this
>>> implied(where, lambda col: col.name).describe()
"ns IN ('a', 'b', 'c')"
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlglot import exp

#: Maps a column expression to the key it constrains for the reference at hand, or None.
Resolver = Callable[[exp.Expr], str | None]
#: Evaluates a constant expression (e.g. ``now() - INTERVAL 1 HOUR``) to a Python value, or raises.
Evaluator = Callable[[exp.Expr], Any]


@dataclass(frozen=True)
class Range:
    """Bounds on a column; ``None`` means unbounded on that side.

    ``points``: the column takes only these values (``ts = A``, ``ts IN (A, B)``), ``lo`` and ``hi``
    are then their extremes. ``points_widened``: an OR joined such exact values with a range, so
    the range holds them but a source that samples the range on a grid may miss them.
    """

    lo: Any = None
    lo_incl: bool = True
    hi: Any = None
    hi_incl: bool = True
    points: frozenset | None = None
    points_widened: bool = False

    @classmethod
    def of_points(cls, values: Iterable[Any]) -> Range | None:
        """The range of exactly ``values``; ``None`` when they cannot be ordered."""
        values = frozenset(values)
        if not values:
            return cls(points=frozenset())
        try:
            return cls(min(values), True, max(values), True, points=values)
        except TypeError:
            return None

    def intersect(self, other: Range) -> Range:
        lo, lo_incl = _pick(self.lo, self.lo_incl, other.lo, other.lo_incl, max, tighter=True)
        hi, hi_incl = _pick(self.hi, self.hi_incl, other.hi, other.hi_incl, min, tighter=True)
        points = self.points if other.points is None else other.points if self.points is None else None
        if self.points is not None and other.points is not None:
            points = self.points & other.points
        if points is not None:  # keep the values the other bounds allow (all, when they cannot be compared)
            points = frozenset(v for v in points if Range(lo, lo_incl, hi, hi_incl).may_hold(v))
        return Range(lo, lo_incl, hi, hi_incl, points, self.points_widened or other.points_widened)

    def hull(self, other: Range) -> Range:
        if self.points == frozenset():  # an empty set of values adds nothing to the union
            return other
        if other.points == frozenset():
            return self
        if self.lo is None or other.lo is None:
            lo, lo_incl = None, True
        else:
            lo, lo_incl = _pick(self.lo, self.lo_incl, other.lo, other.lo_incl, min, tighter=False)
        if self.hi is None or other.hi is None:
            hi, hi_incl = None, True
        else:
            hi, hi_incl = _pick(self.hi, self.hi_incl, other.hi, other.hi_incl, max, tighter=False)
        points = self.points | other.points if self.points is not None and other.points is not None else None
        widened = self.points_widened or other.points_widened or ((self.points is None) != (other.points is None))
        return Range(lo, lo_incl, hi, hi_incl, points, widened)

    def may_hold(self, value: Any) -> bool:
        """Whether ``value`` can lie in the range (``True`` when it cannot be compared)."""
        try:
            if self.lo is not None and (value < self.lo or (value == self.lo and not self.lo_incl)):
                return False
            if self.hi is not None and (value > self.hi or (value == self.hi and not self.hi_incl)):
                return False
        except TypeError:
            return True
        return True

    def __str__(self) -> str:
        if self.points is not None:
            return "{" + ", ".join(str(v) for v in sorted(self.points, key=str)) + "}"
        lo = f"{'[' if self.lo_incl else '('}{self.lo}" if self.lo is not None else "(-inf"
        hi = f"{self.hi}{']' if self.hi_incl else ')'}" if self.hi is not None else "+inf)"
        return f"{lo}, {hi}"


def _pick(a, a_incl, b, b_incl, choose, *, tighter: bool):
    """The bound ``choose`` (max or min) prefers; on a tie a tighter bound is inclusive only if
    both are, a looser one if either is. Bounds that cannot be compared (a date and a zoned
    time): a tighter one keeps either (both hold), a looser one is dropped (the union must widen).

    >>> from datetime import date
    >>> str(Range(hi=date(2026, 11, 17)).hull(Range(hi=datetime(2026, 11, 21))))
    '(-inf, +inf)'
    """
    if a is None:
        return b, b_incl
    if b is None:
        return a, a_incl
    try:
        if a == b:
            return a, (a_incl and b_incl) if tighter else (a_incl or b_incl)
        winner = choose(a, b)
    except TypeError:
        return (a, a_incl) if tighter else (None, True)
    return (a, a_incl) if winner is a else (b, b_incl)


#: What ``Constraints.eq`` is keyed by: a column, or a map column and one of its keys.
EqKey = str | tuple[str, str]


@dataclass
class Constraints:
    """What a fetch may assume about the rows it must return.

    ``eq`` maps a column (or a ``(map_column, key)`` pair such as ``("labels", "app")``) to the set
    of values it may take; ``ranges`` maps a column to its bounds.
    """

    eq: dict[EqKey, frozenset] = field(default_factory=dict)
    ranges: dict[str, Range] = field(default_factory=dict)
    #: columns the statement may read (``None``: all); feeds may leave the others NULL
    columns: frozenset[str] | None = None
    #: range columns compared with values that depend on rows, with no constant range to bound them
    unbounded: frozenset[str] = frozenset()
    #: at most this many rows are read (LIMIT with nothing above the scan; ``analyze.scan_limit``)
    limit: int | None = None

    def values(self, column: str) -> frozenset | None:
        return self.eq.get(column)

    def map_values(self, column: str) -> dict[str, frozenset]:
        return {key[1]: vals for key, vals in self.eq.items() if isinstance(key, tuple) and key[0] == column}

    def range(self, column: str) -> Range | None:
        return self.ranges.get(column)

    def __bool__(self) -> bool:
        return bool(self.eq or self.ranges)

    def describe(self) -> str:
        parts = []
        for key, vals in sorted(self.eq.items(), key=lambda kv: str(kv[0])):
            name = f"{key[0]}['{key[1]}']" if isinstance(key, tuple) else key
            shown = ", ".join(repr(v) for v in sorted(vals, key=str))
            parts.append(f"{name} = {shown}" if len(vals) == 1 else f"{name} IN ({shown})")
        parts += [f"{col} in {rng}" for col, rng in sorted(self.ranges.items())]
        described = " AND ".join(parts) or "(none)"
        return described + (f" LIMIT {self.limit}" if self.limit is not None else "")

    def both(self, other: Constraints) -> Constraints:
        """Rows must satisfy both (AND)."""
        eq = dict(self.eq)
        for key, vals in other.eq.items():
            eq[key] = eq[key] & vals if key in eq else vals
        ranges = dict(self.ranges)
        for col, rng in other.ranges.items():
            ranges[col] = ranges[col].intersect(rng) if col in ranges else rng
        return Constraints(eq, ranges, unbounded=self.unbounded | other.unbounded)

    def either(self, other: Constraints) -> Constraints:
        """Rows satisfy one or the other (OR): only what both constrain survives, widened."""
        eq = {key: vals | other.eq[key] for key, vals in self.eq.items() if key in other.eq}
        ranges = {col: rng.hull(other.ranges[col]) for col, rng in self.ranges.items() if col in other.ranges}
        return Constraints(eq, ranges, unbounded=self.unbounded | other.unbounded)

    def with_unbounded(self, columns: Iterable[str]) -> Constraints:
        """The same constraints, noting range ``columns`` compared without a constant bound."""
        return Constraints(self.eq, self.ranges, self.columns, self.unbounded | frozenset(columns))


def union(all_constraints: list[Constraints]) -> Constraints:
    """Constraints for one fetch that must serve several references of the same table.

    >>> union([Constraints({"ns": frozenset({"a"})}), Constraints({"ns": frozenset({"b"}), "kind": frozenset({"X"})})]).describe()
    "ns IN ('a', 'b')"
    """
    if not all_constraints:
        return Constraints()
    merged = all_constraints[0]
    for other in all_constraints[1:]:
        merged = merged.either(other)
    return merged


def all_of(parts: list[Constraints]) -> Constraints:
    """Rows satisfy every part (AND)."""
    merged = Constraints()
    for part in parts:
        merged = merged.both(part)
    return merged


def any_of(parts: list[Constraints]) -> Constraints:
    """Rows satisfy one of the parts (OR): only keys every part constrains survive, widened.
    The value sets are joined once, so a chain of n ORs costs O(n), not O(n²).

    >>> any_of([Constraints({"ns": frozenset({"a"})}), Constraints({"ns": frozenset({"b"}), "k": frozenset({1})})]).describe()
    "ns IN ('a', 'b')"
    """
    if not parts:
        return Constraints()
    keys = set(parts[0].eq).intersection(*(p.eq for p in parts[1:]))
    eq = {key: frozenset().union(*(p.eq[key] for p in parts)) for key in keys}
    ranges = dict(parts[0].ranges)
    for part in parts[1:]:
        ranges = {col: rng.hull(part.ranges[col]) for col, rng in ranges.items() if col in part.ranges}
    return Constraints(eq, ranges)


def implied(
    condition: exp.Expr,
    resolve: Resolver,
    *,
    range_columns: Mapping[str, str | None] | Iterable[str] = (),
    evaluate: Evaluator | None = None,
) -> Constraints:
    """Constraints that every row satisfying ``condition`` satisfies, for the resolved columns.

    ``range_columns`` maps the columns whose ranges are wanted to their DuckDB type: with
    ``evaluate``, a bound is the value DuckDB compares with, ``CAST(bound AS type)``, so a
    zone-less time means the session's time zone, exactly as in DuckDB's own comparison.
    """
    types = dict(range_columns) if isinstance(range_columns, Mapping) else dict.fromkeys(range_columns)

    def walk(node: exp.Expr) -> Constraints:
        if isinstance(node, exp.Paren):
            return walk(node.this)
        if isinstance(node, exp.And):  # a chain of hundreds of terms (BI tools) without recursing
            return all_of([walk(term) for term in node.flatten()])
        if isinstance(node, exp.Or):
            return any_of([walk(term) for term in node.flatten()])
        if isinstance(node, exp.EQ):
            return _equality(node.left, node.right) or _equality(node.right, node.left) or Constraints()
        if isinstance(node, exp.In) and not node.args.get("query") and not node.args.get("unnest"):
            col = _range_col(node.this)
            if col:
                return _points(col, node.expressions)
            key = _key(node.this)
            values = [_literal(v) for v in node.expressions]
            if key is not None and values and all(v is not _NOT_CONST for v in values):
                return Constraints({key: frozenset(v for v in values if v is not None)})
            return Constraints()
        if isinstance(node, (exp.GT, exp.GTE, exp.LT, exp.LTE)):
            return _comparison(node)
        if isinstance(node, exp.Between):
            col = _range_col(node.this)
            if not col:
                return Constraints()
            lo, hi = _bound(node.args.get("low"), col), _bound(node.args.get("high"), col)
            if lo is _NOT_CONST or hi is _NOT_CONST or lo is None or hi is None:
                return Constraints()
            if node.args.get("symmetric"):  # BETWEEN SYMMETRIC: either order
                try:
                    lo, hi = min(lo, hi), max(lo, hi)
                except TypeError:
                    return Constraints()
            return Constraints(ranges={col: Range(lo, True, hi, True)})
        return Constraints()

    def _key(node: exp.Expr) -> EqKey | None:
        if isinstance(node, exp.Bracket) and len(node.expressions) == 1:
            base = resolve(node.this) if isinstance(node.this, exp.Column) else None
            sub = _literal(node.expressions[0])
            if base and isinstance(sub, str):
                return (base, sub)
            return None
        if isinstance(node, exp.Column):
            return resolve(node)
        return None

    def _equality(left: exp.Expr, right: exp.Expr) -> Constraints | None:
        col = _range_col(left)
        if col:
            found = _points(col, [right])
            return found if found else None
        key = _key(left)
        if key is None:
            return None
        value = _literal(right)
        if value is _NOT_CONST or value is None:  # col = NULL is never true: no rows; push nothing
            return None
        return Constraints({key: frozenset({value})})

    def _points(col: str, nodes: list[exp.Expr]) -> Constraints:
        """``col = A`` or ``col IN (A, B)``: the column takes only those values (NULL matches none)."""
        bounds = [_bound(node, col) for node in nodes]
        if not bounds or any(b is _NOT_CONST for b in bounds):
            return Constraints()
        rng = Range.of_points(b for b in bounds if b is not None)
        return Constraints(ranges={col: rng}) if rng is not None else Constraints()

    def _range_col(node: exp.Expr) -> str | None:
        if isinstance(node, exp.Column):
            key = resolve(node)
            if isinstance(key, str) and key in types:
                return key
        return None

    def _bound(node: exp.Expr | None, col: str):
        """The value DuckDB compares ``col`` with, ``None`` for NULL or no usable bound (an
        infinite time), or ``_NOT_CONST``."""
        if node is None:
            return None
        if evaluate is None:
            value = _literal(node)
            if isinstance(value, str):
                try:
                    return datetime.fromisoformat(value.replace("Z", "+00:00"))
                except ValueError:
                    return _NOT_CONST
            return value
        if node.find(exp.Column, exp.Subquery, exp.Select, exp.Placeholder):
            return _NOT_CONST
        wanted = types.get(col)
        try:
            value = evaluate(exp.cast(node.copy(), wanted) if wanted else node)
        except Exception:
            return _NOT_CONST
        if wanted == "TIMESTAMPTZ" and isinstance(value, datetime) and value.tzinfo is None:
            return None  # DuckDB's ±infinity come back as naive datetime.max/min: no bound on that side
        return value

    def _comparison(node: exp.Binary) -> Constraints:
        flipped: dict[type[exp.Expr], type[exp.Expr]] = {
            exp.GT: exp.LT,
            exp.GTE: exp.LTE,
            exp.LT: exp.GT,
            exp.LTE: exp.GTE,
        }
        op: type[exp.Expr] = type(node)
        left, right = node.left, node.right
        if not _range_col(left):
            op, left, right = flipped[op], right, left
        col = _range_col(left)
        bound = _bound(right, col) if col else _NOT_CONST
        if not col or bound is _NOT_CONST or bound is None:
            return Constraints()
        if op in (exp.GT, exp.GTE):
            return Constraints(ranges={col: Range(lo=bound, lo_incl=op is exp.GTE)})
        return Constraints(ranges={col: Range(hi=bound, hi_incl=op is exp.LTE)})

    return walk(condition)


_NOT_CONST = object()


def _literal(node: exp.Expr):
    """The Python value of a plain literal, ``None`` for NULL, or ``_NOT_CONST``."""
    if isinstance(node, exp.Paren):
        return _literal(node.this)
    if isinstance(node, exp.Literal):
        if node.is_string:
            return node.this
        try:
            return int(node.this)
        except ValueError:
            return float(node.this)
    if isinstance(node, exp.Boolean):
        return node.this
    if isinstance(node, exp.Null):
        return None
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal) and not node.this.is_string:
        value = _literal(node.this)
        return -value if value is not _NOT_CONST else _NOT_CONST
    return _NOT_CONST
