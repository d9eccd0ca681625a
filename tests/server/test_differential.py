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
import differential  # noqa: E402
from pgwire_env import dsn  # noqa: E402

pytest.importorskip("psycopg")

CASES = [(path.stem, case) for path in sorted(differential.CASES.glob("*.sql")) for case in differential.cases(path)]


def _numeric_as_double(ours, theirs) -> None:
    assert [n for n, _ in ours.columns] == [n for n, _ in theirs.columns]
    for (_, our_oid), (_, their_oid) in zip(ours.columns, theirs.columns):
        assert our_oid == their_oid or (our_oid, their_oid) == (701, 1700)
    assert len(ours.rows) == len(theirs.rows)
    for a, b in zip(ours.rows, theirs.rows):
        for x, y in zip(a, b):
            if x != y:
                assert float(x) == pytest.approx(float(y), rel=1e-12)


def _maps_as_json_text(ours, theirs) -> None:
    import json

    assert [n for n, _ in ours.columns] == [n for n, _ in theirs.columns]
    assert ours.columns[-1][1] == 25 and theirs.columns[-1][1] == 3802
    assert [r[:-1] for r in ours.rows] == [r[:-1] for r in theirs.rows]
    assert [json.loads(r[-1]) for r in ours.rows] == [json.loads(r[-1]) for r in theirs.rows]


#: case name -> (why it differs, a check of chaosql's own answer); docs/server.md lists them
EXCEPTIONS: dict[str, tuple[str, object]] = {
    "superset-percent": (
        "numeric / numeric: PostgreSQL's result scale depends on the values, chaosql answers double precision",
        _numeric_as_double,
    ),
    "maps": ("map columns are text holding JSON: PostgreSQL has no map type", _maps_as_json_text),
}


@pytest.fixture(scope="module")
def postgres():
    realpg = pytest.importorskip("realpg")
    if realpg.pg_bin("initdb") is None:
        pytest.skip("PostgreSQL server binaries not installed (tests/setup.d/40-pgwire.sh)")
    with realpg.RealPostgres() as pg:
        differential.load(pg.dsn)
        con = differential.text_connection(pg.dsn)
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
