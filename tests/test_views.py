"""Views over chaos tables (engine/views.py): reading one fetches the chaos tables it reads, in the
REPL, the CLI and over the wire alike; the answers are those of the view's query written out."""

from __future__ import annotations

import pytest

from chaosql.errors import ChaosqlError

RUNNING = "SELECT name, kind, cluster FROM experiments WHERE phase = 'running'"


def rows(session, sql):
    return sorted(session.execute(sql).rows())


def test_a_view_reads_the_chaos_tables_it_names(demo_session):
    assert demo_session.execute(f"CREATE VIEW running AS {RUNNING}").status == "CREATE VIEW"
    direct = rows(demo_session, f"SELECT kind, count(*) FROM ({RUNNING}) GROUP BY kind")
    assert direct and rows(demo_session, "SELECT kind, count(*) FROM running GROUP BY kind") == direct
    # joined with a chaos table, under an alias, and with a WHERE of its own
    joined = "SELECT r.name, count(*) FROM running r JOIN targets t ON t.experiment = r.name AND t.cluster = r.cluster"
    assert rows(demo_session, joined + " GROUP BY 1") == rows(
        demo_session, joined.replace("running r", f"({RUNNING}) r") + " GROUP BY 1"
    )


def test_views_of_views_column_names_rename_and_drop(demo_session):
    demo_session.execute(f"CREATE VIEW running AS {RUNNING}")
    demo_session.execute("CREATE TEMP VIEW per_kind (k, n) AS SELECT kind, count(*) FROM running GROUP BY kind")
    per_kind = rows(demo_session, "SELECT k, n FROM per_kind")
    assert sum(n for _, n in per_kind) == demo_session.execute("SELECT count(*) FROM running").rows()[0][0] > 0
    demo_session.execute("ALTER VIEW per_kind RENAME TO by_kind")
    assert rows(demo_session, "SELECT * FROM by_kind") == per_kind
    assert demo_session.execute("DROP VIEW by_kind").status == "DROP VIEW"
    with pytest.raises(ChaosqlError, match="by_kind"):
        demo_session.execute("SELECT * FROM by_kind")
    # a table made from a view holds the rows as they were (CREATE TABLE AS reports them as SELECT n)
    running = len(rows(demo_session, "SELECT * FROM running"))
    assert demo_session.execute("CREATE TABLE snap AS SELECT * FROM running").status == f"SELECT {running}"
    assert rows(demo_session, "SELECT count(*) FROM snap") == [(running,)]


def test_replacing_a_view_and_plain_duckdb_views(demo_session):
    demo_session.execute(f"CREATE VIEW v AS {RUNNING}")
    demo_session.execute("CREATE OR REPLACE VIEW v AS SELECT count(*) AS n FROM pods")
    assert rows(demo_session, "SELECT n FROM v") == rows(demo_session, "SELECT count(*) FROM pods")
    demo_session.execute("CREATE OR REPLACE VIEW v AS SELECT 42 AS n")  # reads no chaos table: DuckDB's own view
    assert rows(demo_session, "SELECT n FROM v") == [(42,)]
    assert "v" not in demo_session.views
