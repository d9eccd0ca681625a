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

from collections.abc import Callable

from sqlglot import exp

from chaosql.server.semantics.casts import strict_casts
from chaosql.server.semantics.json_texts import json_objects
from chaosql.server.semantics.kinds import column_kinds, sent_as
from chaosql.server.semantics.names import is_bare_user, name_columns
from chaosql.server.semantics.numbers import (
    _REGRESSIONS,
    _SPREADS,
    float_overflows,
    float_sums,
    float_texts,
    math_domains,
    mixed_scale_unions,
    mixed_scale_values,
    mixed_scales,
    numeric,
    numeric_division,
    numeric_powers,
    numeric_spreads,
    operand_types,
    rounding_and_substrings,
    signs_and_logs,
    unknown_literals,
    width_buckets,
    window_and_round_types,
)
from chaosql.server.semantics.text import (
    REGEX_NODES,
    case_insensitive_matches,
    functions,
    jsonb_extracts,
    like_escapes,
    regular_expressions,
    strings,
    text_cases_and_orders,
    text_shapes,
)
from chaosql.server.semantics.times import interval_literals
from chaosql.server.semantics.to_char import to_char_templates

__all__ = ["column_kinds", "expressions", "functions", "is_bare_user", "name_columns", "sent_as"]


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
    (unknown_literals, (exp.Add, exp.Sub, exp.Mul, exp.Div)),
    (text_shapes, (exp.Anonymous, exp.DPipe, exp.ArrayConcat, exp.Substring)),
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
    (regular_expressions, (*REGEX_NODES, exp.Anonymous, exp.Substring)),
    (mixed_scales, (exp.Case, exp.Coalesce, exp.Greatest, exp.Least)),
    (mixed_scale_values, (exp.Values,)),
    (mixed_scale_unions, (exp.Union, exp.Intersect, exp.Except)),
    (numeric_powers, (exp.Pow,)),
    (numeric_spreads, _SPREADS + _REGRESSIONS),
    (window_and_round_types, (exp.Ntile, exp.Round)),
    (numeric_division, (exp.Div, exp.Avg, exp.IntDiv)),
    (strict_casts, (exp.Literal, exp.Cast)),
    (lambda tree, kinds: interval_literals(tree), (exp.Interval, exp.Cast)),
    (rounding_and_substrings, (exp.Round, exp.Substring)),
    (lambda tree, kinds: math_domains(tree), (exp.Sqrt, exp.Ln, exp.Log, exp.Pow)),
    (lambda tree, kinds: like_escapes(tree), (exp.Like, exp.ILike)),
    (json_objects, (exp.Anonymous, exp.JSONObjectAgg)),
    (case_insensitive_matches, (exp.ILike, exp.RegexpILike, exp.Initcap, exp.RegexpReplace, exp.Anonymous)),
    (strings, (exp.SimilarTo, exp.Cast, exp.SplitPart, exp.Encode)),
    (lambda tree, kinds: to_char_templates(tree), (exp.TimeToStr,)),
    (float_texts, (exp.Cast, exp.DPipe, exp.Concat, exp.ConcatWs)),
    (float_overflows, (exp.Add, exp.Sub, exp.Mul, exp.Div)),
    (float_sums, (exp.Sum, exp.Avg)),
    (width_buckets, (exp.WidthBucket,)),
    (signs_and_logs, (exp.Sign, exp.Log, exp.Ln, exp.Exp, exp.Sqrt, exp.ToNumber)),
    (text_cases_and_orders, (exp.Upper, exp.Lower, exp.ArrayAgg, exp.GroupConcat)),
]
