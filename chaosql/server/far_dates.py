"""Dates and timestamps outside Python's years 1-9999, in PostgreSQL's text: years past 9999 in
full (``275816-09-14``), years before 1 as BC (``0001-12-31 BC``, astronomical year 0 is 1 BC).

DuckDB holds them (``DATE '0001-01-01' - 1``, ``date + 100000000``) but neither Python's datetime
nor Arrow's cast prints them as PostgreSQL does. The calendar arithmetic is on integers (days and
microseconds since 1970, proleptic Gregorian, as both databases count); a zone's offset is looked
up 400 years (146097 days, a whole Gregorian cycle) nearer to Python's range, where the same
rules hold: the zone's standing rule after its last transition, its local mean time before its
first, as PostgreSQL does. A value PostgreSQL could not hold is 22008, as PostgreSQL's own
``date out of range``.
"""

from __future__ import annotations

from typing import Any

from chaosql.errors import SqlError

US_PER_DAY = 86_400_000_000
CYCLE_DAYS = 146_097  # 400 Gregorian years
FIRST_DAY = -719_162  # 0001-01-01, in days since 1970-01-01
LAST_DAY = 2_932_896  # 9999-12-31
#: PostgreSQL's range: dates from 4714-11-24 BC (Julian day 0) to 5874897-12-31; timestamps
#: from the same day to 294276-12-31 23:59:59.999999.
PG_FIRST_DAY = -2_440_588
PG_LAST_DATE = 2_145_031_948
PG_LAST_TIMESTAMP_DAY = 106_741_026


def civil(days: int) -> tuple[int, int, int]:
    """(astronomical year, month, day) of a day counted from 1970-01-01, any year.

    >>> civil(0), civil(-719163), civil(100020454)
    ((1970, 1, 1), (0, 12, 31), (275816, 9, 14))
    """
    z = days + 719_468
    era = z // CYCLE_DAYS
    doe = z - era * CYCLE_DAYS
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (month <= 2), month, day


def _year(year: int) -> tuple[str, str]:
    """The year as PostgreSQL writes it (at least 4 digits) and the era suffix."""
    return (f"{year:04d}", "") if year > 0 else (f"{1 - year:04d}", " BC")


def date_text(days: int) -> str:
    """PostgreSQL's text of a date far outside Python's range.

    >>> date_text(-719163), date_text(100020454)
    ('0001-12-31 BC', '275816-09-14')
    """
    if not PG_FIRST_DAY <= days <= PG_LAST_DATE:
        raise SqlError("date out of range for PostgreSQL", sqlstate="22008")
    year, month, day = civil(days)
    text, era = _year(year)
    return f"{text}-{month:02d}-{day:02d}{era}"


def timestamp_text(us: int, zone: str | None) -> str:
    """PostgreSQL's text of a timestamp (``zone`` None) or timestamptz shown in ``zone``, given in
    microseconds since 1970-01-01 UTC.

    >>> timestamp_text(-62_135_683_199_750_000, None)
    '0001-12-31 00:00:00.25 BC'
    >>> timestamp_text(317_336_781_600_000_000, "Europe/Berlin")
    '12026-01-01 11:00:00+01'
    """
    days = us // US_PER_DAY
    if not PG_FIRST_DAY <= days <= PG_LAST_TIMESTAMP_DAY:
        raise SqlError("timestamp out of range for PostgreSQL", sqlstate="22008")
    offset = None if zone is None else _offset(days, us, zone)
    local = us + (offset or 0) * 1_000_000
    days, within = divmod(local, US_PER_DAY)
    year, month, day = civil(days)
    text, era = _year(year)
    seconds, micros = divmod(within, 1_000_000)
    hours, rest = divmod(seconds, 3600)
    out = f"{text}-{month:02d}-{day:02d} {hours:02d}:{rest // 60:02d}:{rest % 60:02d}"
    if micros:
        out += f".{micros:06d}".rstrip("0")
    if offset is not None:
        from chaosql.server.rows import _offset_text

        out += _offset_text(offset)
    return out + era


def _offset(days: int, us: int, zone: str) -> int:
    """``zone``'s UTC offset in seconds at ``us``, looked up whole 400-year cycles into Python's range."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    cycles = 0
    if days > LAST_DAY:
        cycles = -((days - LAST_DAY) // CYCLE_DAYS + 1)
    elif days < FIRST_DAY:
        cycles = (FIRST_DAY - days) // CYCLE_DAYS + 1
    shifted = us + cycles * CYCLE_DAYS * US_PER_DAY
    instant = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=shifted)
    offset = instant.astimezone(ZoneInfo(zone)).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def text_fields(array: Any, pgname: str) -> Any:
    """A date or timestamp(tz) column's PostgreSQL text, as an Arrow binary array, when one of its
    finite values lies outside (or within a day of) Python's years 1-9999; else None (the usual
    vector path prints it). ``infinity`` and ``-infinity`` are written as words."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_date32(array.type):
        values, end, per_day = array.view(pa.int32()), 2**31 - 1, 1
    else:
        if array.type.unit != "us":
            array = pc.cast(array, pa.timestamp("us", tz=array.type.tz))
        values, end, per_day = array.view(pa.int64()), 2**63 - 1, US_PER_DAY
    bounds = pc.min_max(values)
    low, high = bounds["min"].as_py(), bounds["max"].as_py()
    if low is None or (low // per_day > FIRST_DAY and high // per_day < LAST_DAY):
        return None  # the usual case: one pass over the values
    if low == -end or high == end:  # infinities: the finite values decide
        finite = pc.min_max(pc.filter(values, pc.less(pc.abs(values), pa.scalar(end, values.type))))
        low, high = finite["min"].as_py(), finite["max"].as_py()
        if low is None or (low // per_day > FIRST_DAY and high // per_day < LAST_DAY):
            return None
    zone = array.type.tz if pgname == "timestamptz" else None
    fields: list[bytes | None] = []
    for value in values.to_pylist():
        if value is None:
            fields.append(None)
        elif abs(value) == end:
            fields.append(b"infinity" if value > 0 else b"-infinity")
        elif per_day == 1:
            fields.append(date_text(value).encode())
        else:
            fields.append(timestamp_text(value, zone).encode())
    return pa.array(fields, pa.binary())
