"""The differential harness (tests/differential.py): random SELECTs over the chaos tables give the
same answer with pushdown on, with pushdown off, and in plain DuckDB over the same rows.

CI runs a fixed seed; ``CHAOSQL_DIFF_STATEMENTS=20000`` (and ``CHAOSQL_DIFF_SEED``) run more:

    CHAOSQL_DIFF_STATEMENTS=20000 python -m pytest -q -s tests/test_differential.py
"""

from __future__ import annotations

import os

import differential
import pytest


@pytest.fixture(scope="module")
def world(demo_source, tmp_path_factory):
    built = differential.world_over(demo_source, tmp_path_factory.mktemp("history"))
    yield built
    built.close()


@pytest.mark.slow  # about a minute for 300 statements on 2 cores
def test_random_statements_answer_alike_three_ways(world):
    count = int(os.environ.get("CHAOSQL_DIFF_STATEMENTS", "300"))
    seed = int(os.environ.get("CHAOSQL_DIFF_SEED", "17"))
    report = differential.run(world, count, seed, progress=print)
    print(f"\ndifferential (seed {seed}): {report.summary()}")
    shown = "\n\n".join(case.describe() for case in report.mismatches[:10])
    assert not report.mismatches, f"{report.summary()}\n\n{shown}"
    # the statements must mostly be answerable, or the comparison proves little
    assert report.failed_everywhere < report.statements * 0.1, report.summary()
    assert report.rows > report.statements


def test_the_harness_sees_a_wrong_answer(world):
    """A mismatch is reported, not hidden: a row missing from one side fails the comparison."""
    case = differential.check(world, "SELECT name FROM experiments WHERE namespace = 'shop'")
    assert case.problem() == ""
    case.on.rows[next(iter(case.on.rows))] -= 1
    assert case.problem() == "pushdown on and off answer differently"
    nan = differential.check(world, "SELECT 'nan'::DOUBLE AS x, 0.1 + 0.2 AS y FROM experiments LIMIT 1")
    assert nan.problem() == "" and nan.plain.rows == {("NaN", 0.3): 1}
