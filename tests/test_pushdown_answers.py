"""Statements that chaosql once answered wrongly without a word (issue 17, items 1-6): the rewrite of
a chaos table reference lost its modifiers, projection dropped columns PIVOT/UNPIVOT read, a CTE's
own body was taken as shadowed, and time bounds were pruned with the wrong meaning. Each answer is
checked against a known count and against plain DuckDB over the same rows (tests/differential.py).
"""

from __future__ import annotations

import differential
import pytest

ALL = 360  # experiments in the demo data
SHOP = 88  # of them in namespace shop


@pytest.fixture(scope="module")
def world(demo_source, tmp_path_factory):
    """chaosql with pushdown on and off, and plain DuckDB, over the demo and three history snapshots
    (2026-11-13 12:00, 2026-11-17 06:00 and 2026-11-20 23:30 UTC)."""
    built = differential.world_over(demo_source, tmp_path_factory.mktemp("history"))
    yield built
    built.close()


def answer(world, sql: str, zone: str = "UTC", plain_sql: str | None = None) -> list[tuple]:
    """The rows of ``sql``, after checking that pushdown on, off and plain DuckDB agree."""
    case = differential.check(world, sql, zone, plain_sql)
    assert case.problem() == "", case.describe()
    return world.on.execute(sql).rows()


def count(world, sql: str, zone: str = "UTC", plain_sql: str | None = None) -> int:
    [(n,)] = answer(world, sql, zone, plain_sql)
    return n


# --- 1. a rewritten reference keeps its modifiers ----------------------------------------------


def test_tablesample_is_kept(world):
    assert count(world, "SELECT count(*) FROM experiments TABLESAMPLE 5 ROWS") == 5
    assert count(world, "SELECT count(*) FROM experiments e USING SAMPLE 7 ROWS") == 7
    # the sample is drawn before WHERE: the filter must not be pushed below it
    sampled = count(
        world,
        "SELECT count(*) FROM experiments TABLESAMPLE reservoir(100 ROWS) REPEATABLE (3) WHERE namespace = 'shop'",
    )
    assert 0 < sampled < SHOP


def test_unpivot_and_pivot_on_a_table_are_kept(world):
    assert (
        count(world, "SELECT count(*) FROM experiments UNPIVOT (v FOR k IN (target_count, injected_count))") == 2 * ALL
    )
    pivoted = answer(
        world,
        "SELECT namespace, running, finished FROM experiments "
        "PIVOT (count(*) FOR phase IN ('running', 'finished') GROUP BY namespace)",
    )
    grouped = world.off.execute(
        "SELECT namespace, count(*) FILTER (WHERE phase = 'running'), count(*) FILTER (WHERE phase = 'finished') "
        "FROM experiments GROUP BY namespace"
    ).rows()
    assert sorted(pivoted) == sorted(grouped) and len(pivoted) == 6


def test_column_alias_lists_rename_the_first_columns(world):
    by_cluster = answer(world, "SELECT c1, count(*) FROM experiments AS e(c1) GROUP BY c1 ORDER BY c1")
    assert by_cluster == [("prod-eu", 180), ("staging-us", 180)]
    assert count(world, "SELECT count(*) FROM experiments AS e(c1, c2, c3) WHERE c3 = 'shop'") == SHOP
    # the new name clashes with a later column: namespace now is the cluster (DuckDB renames the
    # other one namespace_1), so the filter is not a namespace filter to push down
    assert count(world, "SELECT count(*) FROM experiments AS e(namespace) WHERE namespace = 'prod-eu'") == 180
    assert count(world, "SELECT count(*) FROM experiments AS e(namespace) WHERE namespace_1 = 'shop'") == SHOP


def test_a_parenthesised_join_keeps_its_inner_join(world):
    flat = count(
        world,
        "SELECT count(*) FROM experiments e JOIN targets t ON t.cluster = e.cluster AND t.experiment = e.name "
        "JOIN pods p ON p.cluster = t.cluster AND p.name = t.pod",
    )
    nested = count(
        world,
        "SELECT count(*) FROM experiments e JOIN (targets t JOIN pods p ON p.cluster = t.cluster AND p.name = t.pod) "
        "ON t.cluster = e.cluster AND t.experiment = e.name",
    )
    assert nested == flat > 0


# --- 2. statement-level PIVOT and UNPIVOT read every column -------------------------------------


def test_statement_level_pivot_and_unpivot_read_every_column(world):
    rows = answer(world, "PIVOT experiments ON phase USING count(*)")
    assert len(rows) == ALL and all(row[3] is not None for row in rows)  # name
    unpivoted = answer(world, "UNPIVOT experiments ON target_count, injected_count INTO NAME k VALUE v")
    assert len(unpivoted) == 2 * ALL and all(row[3] is not None for row in unpivoted)
    assert count(world, "SELECT count(*) FROM (PIVOT experiments ON kind USING count(*))") == ALL


# --- 3. a CTE named like the table it reads ----------------------------------------------------


def test_a_cte_body_reads_the_table_it_is_named_after(world):
    sql = "WITH experiments AS (SELECT * FROM experiments WHERE namespace = 'shop') SELECT count(*) FROM experiments"
    assert count(world, sql) == SHOP
    # a later CTE sees the earlier one; an earlier one sees the table; WITH RECURSIVE's first branch the table
    assert (
        count(
            world,
            "WITH experiments AS (SELECT * FROM experiments WHERE namespace = 'shop'), "
            "later AS (SELECT * FROM experiments) SELECT count(*) FROM later",
        )
        == SHOP
    )
    assert (
        count(
            world,
            "WITH earlier AS (SELECT * FROM experiments), "
            "experiments AS (SELECT * FROM earlier WHERE namespace = 'shop') SELECT count(*) FROM earlier",
        )
        == ALL
    )
    assert (
        count(
            world,
            "WITH RECURSIVE experiments AS (SELECT * FROM experiments WHERE namespace = 'shop' "
            "UNION ALL SELECT * FROM experiments WHERE false) SELECT count(*) FROM experiments",
        )
        == SHOP
    )


# --- 4, 5, 6. time bounds mean what DuckDB means -----------------------------------------------

# history snapshots: 11-13 12:00, 11-17 06:00 and 11-20 23:30 UTC, each with the 360 experiments


def test_between_symmetric_takes_either_order(world):
    sql = "SELECT count(*) FROM history_experiments WHERE snapshot_at BETWEEN SYMMETRIC '2026-11-21' AND '2026-11-17'"
    plain = (
        "SELECT count(*) FROM history_experiments WHERE (snapshot_at BETWEEN '2026-11-21' AND '2026-11-17' "
        "OR snapshot_at BETWEEN '2026-11-17' AND '2026-11-21')"
    )
    assert count(world, sql, plain_sql=plain) == 2 * ALL
    assert count(world, sql.replace(" SYMMETRIC", "")) == 0
    assert world.on.execute("EXPLAIN " + sql).rows()[0][1] == (
        "pushed down: snapshot_at in [2026-11-17 00:00:00+00:00, 2026-11-21 00:00:00+00:00]"
    )


@pytest.mark.parametrize(
    "where,expected",
    [
        ("snapshot_at < '2026-11-17' OR snapshot_at < TIMESTAMPTZ '2026-11-21 00:00:00+00'", 3 * ALL),
        ("snapshot_at = '2026-11-17 06:00' OR snapshot_at = TIMESTAMPTZ '2026-11-20 23:30:00+00'", 2 * ALL),
        ("snapshot_at < DATE '2026-11-14' OR snapshot_at < TIMESTAMPTZ '2026-11-21 00:00:00+00'", 3 * ALL),
        ("snapshot_at > DATE '2026-11-20' OR snapshot_at > TIMESTAMPTZ '2026-11-13 00:00:00+00'", 3 * ALL),
        ("snapshot_at IN ('2026-11-13 12:00', TIMESTAMPTZ '2026-11-21 08:30:00+09', DATE '2026-11-17')", 2 * ALL),
    ],
)
def test_or_of_bounds_of_different_types_widens(world, where, expected):
    assert count(world, f"SELECT count(*) FROM history_experiments WHERE {where}") == expected


def test_a_time_without_zone_is_in_the_session_time_zone(world):
    # 05:00 in Tokyo is 20:00 UTC the day before: only the 11-20 23:30 snapshot is later
    sql = "SELECT count(*) FROM history_experiments WHERE snapshot_at > '2026-11-20 05:00'"
    assert count(world, sql, zone="Asia/Tokyo") == ALL
    assert count(world, sql, zone="UTC") == ALL
    assert count(world, sql.replace("05:00", "23:45"), zone="UTC") == 0
    assert count(world, sql.replace("05:00", "23:45"), zone="America/Los_Angeles") == 0
    assert count(world, sql.replace("05:00", "15:00"), zone="America/Los_Angeles") == ALL  # 23:00 UTC
    # a DATE is midnight in the session's zone: 11-21 in Tokyo began at 11-20 15:00 UTC, so the
    # partition to read is date=2026-11-20 (days are UTC on disk)
    on_the_21st = "SELECT count(*) FROM history_experiments WHERE snapshot_at >= DATE '2026-11-21'"
    assert count(world, on_the_21st, zone="Asia/Tokyo") == ALL
    assert count(world, on_the_21st, zone="UTC") == 0
    shown = dict(world.on.execute("EXPLAIN " + sql).rows())  # EXPLAIN runs in the last zone set: UTC
    assert shown["fetch history_experiments"] == "pushed down: snapshot_at in (2026-11-20 05:00:00+00:00, +inf)"


def test_infinite_and_null_bounds_do_not_prune(world):
    assert count(world, "SELECT count(*) FROM history_experiments WHERE snapshot_at < 'infinity'") == 3 * ALL
    assert count(world, "SELECT count(*) FROM history_experiments WHERE snapshot_at > '-infinity'") == 3 * ALL
    assert count(world, "SELECT count(*) FROM history_experiments WHERE snapshot_at > NULL") == 0
