"""PostgreSQL's interval literals."""

from __future__ import annotations

import re

from sqlglot import exp

T = exp.DataType.Type


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
        if _repeated_field(literal.this):
            from chaosql.errors import SqlError

            raise SqlError(f'invalid input syntax for type interval: "{literal.this}"', sqlstate="22007")
        spelled = pg_interval_text(literal.this)
        if spelled != literal.this:
            literal.replace(exp.Literal.string(spelled))


#: interval unit spellings -> the field each sets (PostgreSQL refuses a field given twice)
_FIELDS = {
    **dict.fromkeys(("y", "yr", "yrs", "year", "years"), "year"),
    **dict.fromkeys(("mon", "mons", "month", "months"), "month"),
    **dict.fromkeys(("w", "week", "weeks"), "week"),
    **dict.fromkeys(("d", "day", "days"), "day"),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), "hour"),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), "minute"),
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), "second"),
    **dict.fromkeys(("ms", "msec", "msecs", "millisecond", "milliseconds"), "millisecond"),
    **dict.fromkeys(("us", "usec", "usecs", "microsecond", "microseconds"), "microsecond"),
}
_UNIT_AFTER_NUMBER = re.compile(r"[+-]?\d+(?:\.\d*)?\s*([a-z]+)", re.I)


def _repeated_field(text: str) -> bool:
    """Whether an interval's text gives one field twice (``1 day 1 day``, ``1 hour 02:00``), which
    PostgreSQL refuses (22007); DuckDB adds them up.

    >>> [_repeated_field(t) for t in ("1 day 1 day", "1 day 2 hours", "1 hour 01:00:00", "1 d 3 days", "1 week 1 day")]
    [True, False, True, True, False]
    """
    fields = [_FIELDS.get(unit.lower()) for unit in _UNIT_AFTER_NUMBER.findall(text)]
    if ":" in text:
        fields += ["hour", "minute", "second"]
    named = [f for f in fields if f]
    return len(named) != len(set(named))
