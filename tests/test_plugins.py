"""Plugins add tables, sources and DuckDB functions through the same hooks the core uses."""

from __future__ import annotations

import pytest

import chaosql.tables
from chaosql import plugins
from chaosql.hookspecs import hookimpl
from chaosql.tables._table import Col, Feed, Table


class GameDays(Feed):
    family = "*"

    def fetch(self, sources, constraints, fetcher):
        yield "lab", [{"cluster": "lab", "name": "Q4 game day", "teams": 3}]


class ExamplePlugin:
    @hookimpl
    def register_tables(self):
        return [
            Table(
                "game_days",
                "One row per planned game day.",
                [
                    Col("cluster", "VARCHAR", "Where it happens."),
                    Col("name", "VARCHAR", "Its name."),
                    Col("teams", "BIGINT", "Teams taking part."),
                ],
                feeds=[GameDays()],
            )
        ]

    @hookimpl
    def register_sources(self):
        from chaosql.sources import DEMO_PATH
        from chaosql.sources.snapshot import SnapshotSource

        return {"mirror": lambda name, spec, config: SnapshotSource(DEMO_PATH, name=name or "mirror")}

    @hookimpl
    def prepare_session(self, connection):
        connection.execute("CREATE MACRO blast_radius(pods, nodes) AS pods * nodes")


@pytest.fixture
def plugin():
    instance = ExamplePlugin()
    plugins.manager().register(instance)
    chaosql.tables._registry = None
    yield instance
    plugins.manager().unregister(instance)
    chaosql.tables._registry = None


def test_a_plugin_adds_a_table_a_source_and_a_function(plugin):
    session = chaosql.connect("mirror:")
    assert session.execute("SELECT name, teams FROM game_days").rows() == [("Q4 game day", 3)]
    assert session.execute("SELECT count(*) FROM experiments").scalar() == 360
    assert session.execute("SELECT blast_radius(4, 5)").scalar() == 20
    assert ("game_days", "One row per planned game day.") in session.execute("SHOW TABLES").rows()
    session.close()


def test_without_the_plugin_its_table_is_unknown():
    session = chaosql.connect("demo")
    with pytest.raises(chaosql.ChaosqlError, match='unknown table "game_days"'):
        session.execute("SELECT * FROM game_days")
    session.close()
