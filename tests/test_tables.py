"""Every table is well declared and documented; the docs are generated from the code."""

from __future__ import annotations

import pytest

import chaosql
from chaosql.tables import registry
from chaosql.tables._table import Col, Table


def test_every_table_is_valid_and_documented():
    tables = registry()
    assert {"experiments", "targets", "nodes", "events", "schedules", "workflows", "workflow_nodes"} <= set(tables)
    for table in tables.values():
        assert table.doc and table.columns and table.feeds
        # every row names its configured source: the cluster (or, for metrics, the Prometheus server)
        assert {"cluster", "server"} & set(table.column_names), f"{table.name}: needs its source name column"
        for col in table.columns:
            assert col.doc.strip().endswith("."), f"{table.name}.{col.name} needs a one-line doc (a sentence)"
            assert "\n" not in col.doc


def test_definitions_are_validated_on_load():
    with pytest.raises(ValueError, match="needs a one-line doc"):
        Table("t", "A table.", [Col("cluster", "VARCHAR", "")], feeds=[object()])
    with pytest.raises(ValueError, match="unknown column type"):
        Table("t", "A table.", [Col("cluster", "VARCHR", "Doc.")], feeds=[object()])
    with pytest.raises(ValueError, match="unknown pushdown role"):
        Table("t", "A table.", [Col("cluster", "VARCHAR", "Doc.", key="nope")], feeds=[object()])
    with pytest.raises(ValueError, match="defined twice"):
        Table("t", "A table.", [Col("a", "VARCHAR", "Doc."), Col("a", "VARCHAR", "Doc.")], feeds=[object()])


def test_generated_docs_are_up_to_date():
    from chaosql import docs

    assert docs.main(["--check"]) == 0, "run: python -m chaosql.docs"


def test_introspection_before_any_fetch(demo_session):
    tables = demo_session.execute("SHOW TABLES").rows()
    assert ("experiments", registry()["experiments"].doc) in tables
    described = demo_session.execute("DESCRIBE targets").rows()
    assert [r[0] for r in described] == registry()["targets"].column_names
    columns = demo_session.execute(
        "SELECT column_name, data_type, column_comment FROM information_schema.columns "
        "WHERE table_name = 'experiments' ORDER BY ordinal_position"
    ).rows()
    assert columns[0] == ("cluster", "VARCHAR", registry()["experiments"].columns[0].doc)
    assert ("created_at", "TIMESTAMP WITH TIME ZONE", "Creation time (metadata.creationTimestamp), UTC.") in columns
    assert demo_session.statement.log.calls == []  # nothing was fetched


def test_public_api():
    assert sorted(chaosql.__all__) == ["ChaosqlError", "Result", "Session", "__version__", "connect"]
    session = chaosql.connect("demo")
    assert session.execute("SELECT count(*) FROM experiments").scalar() == 360
    session.close()


def test_statements_without_virtual_tables_just_run(demo_session):
    assert demo_session.execute("SELECT 1 + 1").scalar() == 2
    assert demo_session.execute("SELECT list_sum([1, 2, 3])").scalar() == 6
    assert demo_session.execute("PRAGMA version").has_rows
