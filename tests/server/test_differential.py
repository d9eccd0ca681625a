"""chaosql and a real PostgreSQL 15 with the same rows answer the same statements the same way.

Every case in ``differential/*.sql`` runs against both; results (as the text each server sends),
column names, type oids and SQLSTATEs must match, unless the case is in ``EXCEPTIONS``: a
deliberate, documented difference (docs/server.md), asserted as what chaosql answers instead.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import pg_differential as differential  # noqa: E402  (tests/differential.py is the engine's)
from pgwire_env import dsn  # noqa: E402

pytest.importorskip("psycopg")

CASES = [(path.stem, case) for path in sorted(differential.CASES.glob("*.sql")) for case in differential.cases(path)]


def _quotient_at_scale_18(ours, theirs) -> None:
    import decimal

    assert ours.columns == theirs.columns  # numeric, as in PostgreSQL
    assert len(ours.rows) == len(theirs.rows)
    for a, b in zip(ours.rows, theirs.rows):
        assert decimal.Decimal(a[0]) == decimal.Decimal(b[0]) and a[1:] == b[1:]  # the same value
        assert len(a[0].partition(".")[2]) == 18, a  # written with 18 decimals


def _type_names_as_text(ours, theirs) -> None:
    assert ours.rows == theirs.rows  # PostgreSQL's names: text, jsonb, text[], integer, numeric ...
    assert [name for name, _ in ours.columns] == [name for name, _ in theirs.columns]
    assert {oid for _, oid in ours.columns} == {25} and {oid for _, oid in theirs.columns} == {2206}


def _refused_bc(ours, theirs) -> None:
    assert (ours.sqlstate, ours.position) == ("0A000", "18") and "before year 1" in ours.message, ours.summary()
    assert theirs.rows == [("0044-03-15 12:00:00 BC",)]


def _refused_far_dates_in_arrays(ours, theirs) -> None:
    assert ours.sqlstate == "0A000" and "inside an array" in ours.message, ours.summary()
    assert theirs.rows == [("{infinity,12026-01-01}",)]


def _refused_beyond_double(ours, theirs) -> None:
    assert ours.sqlstate == "22003" and "out of range for type double precision" in ours.message, ours.summary()
    assert theirs.sqlstate is None and theirs.rows[0][0].startswith("1" + "0" * 399)


def _refused_template(ours, theirs) -> None:
    assert ours.sqlstate == "0A000" and 'pattern at "Q"' in ours.message, ours.summary()
    assert theirs.rows == [("2026-1",)]


def _refused_number_template(ours, theirs) -> None:
    assert ours.sqlstate == "0A000" and 'template "S9999" for a number' in ours.message, ours.summary()
    assert theirs.rows == [("+1234",)]


def _refused_mixed_scales(ours, theirs) -> None:
    assert ours.sqlstate == "0A000" and "different scales" in ours.message, ours.summary()
    assert theirs.sqlstate is None


def _refused_scale_of_its_own(ours, theirs) -> None:
    assert ours.sqlstate == "0A000" and "not supported" in ours.message, ours.summary()
    assert theirs.sqlstate is None


def _refused_order_dependent(ours, theirs) -> None:
    assert ours.sqlstate == "0A000" and "depends on the order it reads the rows" in ours.message, ours.summary()
    # PostgreSQL answers or overflows (22003), by the order it read the rows in
    assert theirs.sqlstate in (None, "22003"), theirs.summary()


def _refused_sum_of_real(ours, theirs) -> None:
    assert ours.sqlstate == "0A000" and "sum() of real" in ours.message, ours.summary()
    assert theirs.columns == [("sum", 700)] and theirs.rows == [("3.75",)]


def _refused_regex(ours, theirs) -> None:
    assert ours.sqlstate == "0A000" and "is not supported" in ours.message, ours.summary()
    assert theirs.sqlstate is None, theirs.summary()


def _refused_answered(ours, theirs) -> None:
    assert ours.sqlstate == "0A000" and "is not supported" in ours.message, ours.summary()
    assert theirs.sqlstate is None, theirs.summary()


#: case name -> (why it differs, a check of chaosql's own answer); docs/server.md lists them
EXCEPTIONS: dict[str, tuple[str, object]] = {
    "pg-typeof": ("pg_typeof's names are sent as text, not regtype", _type_names_as_text),
    "array-of-far-dates": (
        "dates past 9999, BC or infinite inside arrays, maps or structs are refused (0A000)",
        _refused_far_dates_in_arrays,
    ),
    "timestamp-literal-bc": ("a timestamp literal with BC is refused: DuckDB would read it as AD", _refused_bc),
    "numeric-literal-beyond-double": (
        "a number literal beyond double precision is refused (22003): DuckDB reads it as a double",
        _refused_beyond_double,
    ),
    "numeric-literal-beyond-double-cast": (
        "a number literal beyond double precision is refused (22003), even cast to numeric",
        _refused_beyond_double,
    ),
    "to-char-template-chaosql-does-not-write": (
        "to_char template patterns other than chaosql's list are refused (0A000)",
        _refused_template,
    ),
    "to-char-number-pattern-chaosql-does-not-write": (
        "to_char number patterns other than 9 0 , . G D FM are refused (0A000)",
        _refused_number_template,
    ),
    "mixed-scales-inside-an-expression": (
        "numbers of different scales from one CASE or coalesce are refused inside an expression (0A000)",
        _refused_mixed_scales,
    ),
    "mixed-scales-of-greatest": (
        "greatest/least of numbers of different scales is refused (0A000)",
        _refused_mixed_scales,
    ),
    "values-of-different-scales": (
        "a VALUES column of numbers of different scales is refused where its values show (0A000)",
        _refused_mixed_scales,
    ),
    "values-of-different-scales-star": (
        "a VALUES column of numbers of different scales is refused where its values show (0A000)",
        _refused_mixed_scales,
    ),
    "values-of-different-scales-min-max": (
        "a VALUES column of numbers of different scales is refused where its values show (0A000)",
        _refused_mixed_scales,
    ),
    "power-of-a-numeric": ("power() of a numeric is refused (0A000)", _refused_scale_of_its_own),
    "stddev-and-variance": ("stddev and variance are refused (0A000)", _refused_scale_of_its_own),
    "stddev-of-a-double-column": ("stddev and variance are refused (0A000)", _refused_scale_of_its_own),
    "float8-sum-of-large-values-of-both-signs": (
        "sum() of doubles of both signs near the largest double is refused (0A000): overflow depends on row order",
        _refused_order_dependent,
    ),
    "float8-avg-of-spread-large-values": (
        "avg() of different doubles beyond 1e153 / rows is refused (0A000): overflow depends on row order",
        _refused_order_dependent,
    ),
    "float4-sum": ("sum() of real is refused (0A000): PostgreSQL adds in single precision", _refused_sum_of_real),
    "pg-typeof-character-types": ("pg_typeof's names are sent as text, not regtype", _type_names_as_text),
    "numeric-nan-inside-an-expression": (
        "numeric NaN and infinities are refused (0A000) except as a result column of their own",
        _refused_scale_of_its_own,
    ),
    "regex-back-reference": (
        "a back-reference in a regular expression is refused (0A000): PostgreSQL's ARE and DuckDB's RE2 differ",
        _refused_regex,
    ),
    "regex-non-greedy": (
        "a non-greedy quantifier in a regular expression is refused (0A000): PostgreSQL's ARE and DuckDB's RE2 differ",
        _refused_regex,
    ),
    "regex-backspace-escape": (
        "\\b in a regular expression is refused (0A000): PostgreSQL's ARE and DuckDB's RE2 differ",
        _refused_regex,
    ),
    "regex-word-start": (
        "[[:<:]] and [[:>:]] in a regular expression are refused (0A000): PostgreSQL's ARE and DuckDB's RE2 differ",
        _refused_regex,
    ),
    "regex-embedded-options": (
        "(?...) options and look-around in a regular expression are refused (0A000): PostgreSQL's ARE and DuckDB's RE2 differ",
        _refused_regex,
    ),
    "regex-pattern-known-when-run": (
        "a regular expression known when the statement runs is refused if it holds such constructs (0A000): PostgreSQL's ARE and DuckDB's RE2 differ",
        _refused_regex,
    ),
    "regexp-matches-set": (
        "regexp_matches() is refused (0A000): PostgreSQL's ARE and DuckDB's RE2 differ",
        _refused_regex,
    ),
    "regexp-match-optional-part": (
        "regexp_match() of a pattern with optional parts is refused (0A000): PostgreSQL's ARE and DuckDB's RE2 differ",
        _refused_regex,
    ),
    "initcap-of-non-ascii": (
        "initcap() of a text with non-ASCII characters is refused (0A000): PostgreSQL's C locale sees no letters there",
        _refused_answered,
    ),
    "regex-case-insensitive-pattern-of-a-column": (
        "~* with a pattern that is not a literal is refused (0A000): only ASCII letters have a case in PostgreSQL's C locale",
        _refused_answered,
    ),
    "regex-flag-i-of-non-ascii": (
        "a regular expression with the flag i of a text or pattern with non-ASCII characters is refused (0A000)",
        _refused_answered,
    ),
    "json-build-object-of-a-timestamp": (
        "json_build_object/json_object_agg of a value other than text, an integer, a boolean, NULL or json is refused (0A000)",
        _refused_answered,
    ),
    "jsonb-build-object-of-a-column-key": (
        "jsonb_build_object with a key that is not a literal is refused (0A000)",
        _refused_answered,
    ),
    "log-of-two-arguments": ("log(b, x) is refused (0A000): numeric at its own scale", _refused_scale_of_its_own),
    "sqrt-of-a-numeric": ("sqrt/ln/log/exp of a numeric are refused (0A000)", _refused_scale_of_its_own),
    "corr-and-regressions": ("corr, covar_* and regr_* are refused (0A000)", _refused_scale_of_its_own),
    "double-to-numeric-inside-an-expression": (
        "a double cast to numeric inside an expression is refused (0A000)",
        _refused_scale_of_its_own,
    ),
    "union-of-different-scales": (
        "a UNION of numbers of different scales is refused (0A000)",
        _refused_mixed_scales,
    ),
    "to-number": ("to_number() is refused (0A000)", _refused_scale_of_its_own),
    "numeric-quotient-inside-an-expression": (
        "a numeric quotient inside an expression is numeric with 18 decimals, not PostgreSQL's scale",
        _quotient_at_scale_18,
    ),
}


@pytest.fixture(scope="module")
def postgres(real_pg):
    con = differential.text_connection(real_pg.dsn)
    yield con
    con.close()


@pytest.fixture(scope="module")
def chaosql(pg_server):
    con = differential.text_connection(dsn(pg_server.port, user="postgres"))
    yield con
    con.close()


@pytest.mark.parametrize("case", [c for _, c in CASES], ids=[f"{f}:{c.name}" for f, c in CASES])
def test_same_answer(case, chaosql, postgres):
    ours = differential.outcome(chaosql, case.sql)
    theirs = differential.outcome(postgres, case.sql)
    if case.name in EXCEPTIONS:
        why, check = EXCEPTIONS[case.name]
        assert differential.compare(case, ours, theirs) is not None, f"{case.name} is no longer an exception ({why})"
        check(ours, theirs)
        return
    problem = differential.compare(case, ours, theirs)
    assert problem is None, f"{case.name}: {problem}\n  sql: {case.sql}"


#: statements run in order on one connection (settings, cursors and prepared statements persist)
SESSIONS = {
    "prepare-execute": [
        "PREPARE p AS SELECT count(*) FROM experiments",
        "EXECUTE p",
        "PREPARE p0(text) AS SELECT count(*) FROM experiments WHERE kind = $1",
        "EXECUTE p0('PodChaos')",
        "PREPARE p1(int) AS SELECT $1 + 1",
        "EXECUTE p1(41)",
        "DEALLOCATE p1",
        "EXECUTE p1(1)",
        "PREPARE pn(numeric) AS SELECT $1 * 2, $1::numeric, round($1, 2)",
        "EXECUTE pn(1.23456)",
    ],
    "time-zone": [
        "SET TIME ZONE 'Asia/Kolkata'",
        "SHOW timezone",
        "SELECT TIMESTAMPTZ '2026-11-20 12:00:00+00', date_trunc('day', TIMESTAMPTZ '2026-11-20 20:00:00+00'), "
        "(TIMESTAMPTZ '2026-11-20 20:00:00+00')::date, extract(hour FROM TIMESTAMPTZ '2026-11-20 12:00:00+00'), "
        "current_setting('TimeZone')",
        "SELECT date_trunc('day', created_at) AS day, count(*) FROM experiments GROUP BY 1 ORDER BY 1",
        "SET timezone = 'No/Such_Zone'",
        "SHOW TimeZone",
        "SET TIME ZONE 'America/New_York'",
        "SELECT name, created_at FROM experiments ORDER BY created_at, name LIMIT 3",
    ],
    "time-zone-text": [  # timestamptz's text in zones with half hours, LMT offsets and DST, as PostgreSQL prints it
        "SET TIME ZONE 'America/St_Johns'",
        "SELECT t FROM (VALUES (TIMESTAMPTZ '1969-07-20 20:17:40.123456+00'), (TIMESTAMPTZ '2026-07-01 12:00:00.5+00'), "
        "(TIMESTAMPTZ '2026-01-01 12:00:00+00'), ('infinity'::timestamptz), (NULL::timestamptz)) AS v(t)",
        "SET TIME ZONE 'Europe/Amsterdam'",
        "SELECT t FROM (VALUES (TIMESTAMPTZ '1900-01-01 00:00:00+00'), (TIMESTAMPTZ '1937-07-01 00:00:00.25+00'), "
        "(TIMESTAMPTZ '1969-12-31 23:00:00+00'), (TIMESTAMPTZ '2026-03-29 01:30:00+00')) AS v(t)",
        "SELECT x::int8 AS x, TIMESTAMPTZ '1960-01-01 00:00:00+00' + x * interval '17 days 3 hours 0.5 seconds' "
        "FROM generate_series(1, 2000) AS t(x) ORDER BY x",
    ],
    "views": [  # issue 12 #19: a view over chaos tables reads them when it is read
        "CREATE VIEW running AS SELECT name, kind, cluster FROM experiments WHERE phase = 'running'",
        "SELECT kind, count(*) FROM running GROUP BY kind ORDER BY 2 DESC, 1",
        "CREATE VIEW running_kinds (kind, n) AS SELECT kind, count(*) FROM running GROUP BY kind",
        "SELECT r.kind, r.n, count(t.pod) AS pods FROM running_kinds r JOIN targets t ON t.kind = r.kind "
        "GROUP BY 1, 2 ORDER BY 1",
        "SELECT relname::text, relkind::text FROM pg_class WHERE relname IN ('running', 'running_kinds') ORDER BY 1",
        "SELECT attname::text, atttypid::int FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "WHERE c.relname = 'running_kinds' ORDER BY attnum",
        "DROP VIEW running_kinds",
        "SELECT count(*) FROM running_kinds",
        "CREATE TABLE snap AS SELECT name FROM running",
        "SELECT count(*) FROM snap",
        "DROP TABLE snap",
        "DROP VIEW running",
    ],
    "cursors": [
        "BEGIN",
        "DECLARE c CURSOR FOR SELECT name FROM experiments ORDER BY name",
        "FETCH 2 FROM c",
        "SELECT 43",
        "FETCH 2 FROM c",
        "MOVE ABSOLUTE 10 FROM c",
        "FETCH 1 FROM c",
        "DECLARE s SCROLL CURSOR FOR SELECT name FROM experiments ORDER BY name",
        "FETCH 3 FROM s",
        "MOVE ABSOLUTE 0 FROM s",
        "FETCH NEXT FROM s",
        "FETCH PRIOR FROM s",
        "FETCH LAST FROM s",
        "FETCH BACKWARD 2 FROM s",
        "MOVE ABSOLUTE -1 FROM s",
        "FETCH RELATIVE -2 FROM s",
        "COMMIT",
    ],
    "far-dates-in-a-zone": [  # a zone's offset before its first transition (LMT) and after 9999 (its rule)
        "SET TIME ZONE 'Europe/Berlin'",
        "SELECT TIMESTAMPTZ '12026-07-01 10:00:00+00', TIMESTAMPTZ '12026-01-01 10:00:00+00', "
        "TIMESTAMPTZ '0001-01-01 00:00:00+00' - interval '1 day'",
    ],
}


CLEANUP = {"views": ["DROP TABLE IF EXISTS snap", "DROP VIEW IF EXISTS running_kinds", "DROP VIEW IF EXISTS running"]}


@pytest.mark.parametrize("name", list(SESSIONS))
def test_same_session(name, pg_server, postgres):
    ours = differential.text_connection(dsn(pg_server.port, user="postgres"))
    theirs = differential.text_connection(postgres.info.dsn + " password=chaos")
    try:
        for sql in SESSIONS[name]:
            a, b = differential.outcome(ours, sql), differential.outcome(theirs, sql)
            case = differential.Case(name, sql, ordered=True)
            problem = differential.compare(case, a, b)
            assert problem is None, f"{name}: {sql}: {problem}"
    finally:
        # the PostgreSQL is shared with other tests: leave no view or table behind (nor a pg_temp schema)
        for statement in CLEANUP.get(name, []):
            differential.outcome(theirs, statement)
        ours.close()
        theirs.close()


def test_views_are_the_connections_own(pg_server):
    """A documented difference (docs/server.md): CREATE VIEW lasts as long as its connection and
    other connections do not see it (PostgreSQL's view is shared); they get 42P01, not an answer."""
    import psycopg

    url = dsn(pg_server.port, user="postgres")
    with psycopg.connect(url, autocommit=True) as mine, psycopg.connect(url, autocommit=True) as other:
        mine.execute("CREATE VIEW mine_only AS SELECT name FROM experiments")
        assert mine.execute("SELECT count(*) FROM mine_only").fetchone()[0] > 0
        with pytest.raises(psycopg.errors.UndefinedTable):
            other.execute("SELECT count(*) FROM mine_only")


@pytest.mark.parametrize(
    "case",
    [c for c in differential.cases(differential.CASES / "conversions.sql") if c.name not in EXCEPTIONS],
    ids=lambda c: c.name,
)
def test_conversion_errors_read_as_postgres(case, chaosql, postgres):
    """DuckDB's conversion and overflow errors reach the client with PostgreSQL's SQLSTATE (22P02,
    22007, 22008, 22003; test_same_answer compares them and their position) and one line naming
    the value and PostgreSQL's type, not DuckDB's internals (INT32, 'Conversion Error')."""
    ours, theirs = differential.outcome(chaosql, case.sql), differential.outcome(postgres, case.sql)
    if theirs.sqlstate is None:  # a cast PostgreSQL answers: the same answer
        assert differential.compare(case, ours, theirs) is None, (ours.summary(), theirs.summary())
        return
    assert ours.sqlstate == theirs.sqlstate, (ours.summary(), theirs.summary())
    assert "\n" not in ours.message and not any(w in ours.message for w in ("INT16", "INT32", "INT64", "Conversion"))
    assert theirs.message.split(":")[0].split(" for type")[0] in ours.message or "out of range" in ours.message


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT DATE '0001-01-01' - 1, '2026-01-01'::date + 100000000, 'infinity'::date, '-infinity'::date",
        "SELECT TIMESTAMP '0001-01-01 00:00:00' - interval '1 day', TIMESTAMPTZ '12026-07-01 10:00:00.5+00', "
        "'infinity'::timestamp, '-infinity'::timestamptz",
    ],
)
def test_far_and_infinite_dates_in_binary_as_postgres(sql, pg_server, real_pg):
    """In binary format (psycopg binary=True, asyncpg), BC dates, years past 9999 and infinities
    are PostgreSQL's bytes."""
    import psycopg
    from psycopg.adapt import Loader
    from psycopg.pq import Format

    class RawBinary(Loader):
        format = Format.BINARY

        def load(self, data):
            return bytes(data)

    def raw(url):
        with psycopg.connect(url, autocommit=True) as con:
            for oid in (1082, 1114, 1184):
                con.adapters.register_loader(oid, RawBinary)
            return con.cursor(binary=True).execute(sql).fetchall()

    assert raw(dsn(pg_server.port, user="postgres")) == raw(real_pg.dsn)


def test_numeric_nan_and_infinity_in_binary_as_postgres(pg_server, real_pg):
    """numeric's NaN and infinities in binary format (psycopg binary=True, asyncpg): PostgreSQL's bytes."""
    import psycopg

    sql = "SELECT 'nan'::numeric, 'Infinity'::numeric, '-inf'::numeric"

    def fetched(url):
        with psycopg.connect(url, autocommit=True) as con:
            return [str(v) for v in con.cursor(binary=True).execute(sql).fetchone()]

    assert fetched(dsn(pg_server.port, user="postgres")) == fetched(real_pg.dsn) == ["NaN", "Infinity", "-Infinity"]


@pytest.mark.parametrize(
    ("sql", "value"),
    [
        ("SELECT %s::int", "1.5"),
        ("SELECT %s::bigint", "1e3"),
        ("SELECT %s::int + 1", " 41 "),
        ("SELECT x::int FROM (VALUES (%s)) v(x)", "2.5"),
        ("SELECT round(%s::float8)", 2.5),
    ],
)
def test_text_parameters_cast_as_postgres(sql, value, chaosql, postgres):
    """A parameter sent as text (psycopg's str, type unknown) and cast to an integer: PostgreSQL
    refuses '1.5' (22P02) where DuckDB would round it; the same answer or the same SQLSTATE."""
    ours, theirs = differential.outcome(chaosql, sql, (value,)), differential.outcome(postgres, sql, (value,))
    assert (ours.sqlstate, ours.rows) == (theirs.sqlstate, theirs.rows), (ours.summary(), theirs.summary())
