"""Casts PostgreSQL refuses or reads differently: text to integers, booleans, literals beyond
double precision, BC timestamps."""

from __future__ import annotations

import re

from sqlglot import exp

from chaosql.server.semantics.kinds import _kind

T = exp.DataType.Type


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
