"""Plugins add tables, sources and DuckDB functions through the same hooks the core uses."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import chaosql.tables
from chaosql import plugins
from chaosql.errors import UsageError
from chaosql.hookspecs import hookimpl
from chaosql.sources import open_source
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


def test_built_in_tables_and_sources_come_through_the_same_hooks(plugin):
    """chaosql registers its own tables and sources as plugins do: one hook call returns both."""
    pm = plugins.manager()
    assert {"chaosql.tables", "chaosql.sources"} <= {pm.get_name(p) for p in pm.get_plugins()}
    tables = [t.name for answer in plugins.hook().register_tables() for t in answer]
    assert tables.index("experiments") < tables.index("history_metrics") < tables.index("game_days")
    schemes = [scheme for answer in plugins.hook().register_sources() for scheme in answer]
    assert {"kube", "snapshot", "demo", "history", "mirror"} <= set(schemes)


def test_the_hooks_are_the_only_path():
    """Take chaosql's own source plugin away and its schemes are unknown, as a plugin's would be."""
    pm = plugins.manager()
    builtin = pm.unregister(name="chaosql.sources")
    try:
        with pytest.raises(UsageError, match="unknown source 'demo'"):
            open_source("demo")
    finally:
        pm.register(builtin, name="chaosql.sources")
    assert open_source("demo").name == "demo"


def test_a_plugin_cannot_take_over_a_built_in_scheme():
    class Shadow:
        @hookimpl
        def register_sources(self):
            return {"kube": lambda name, spec, config: None}

    shadow = Shadow()
    plugins.manager().register(shadow)
    try:
        with pytest.raises(ValueError, match="source scheme kube is registered twice"):
            open_source("kube:any")
    finally:
        plugins.manager().unregister(shadow)


def test_trace_shows_the_built_in_hook_calls(tmp_path):
    # traced here, so not sent to a chaosql serve --source demo that may be running
    env = {**os.environ, "CHAOSQL_TRACE_PLUGINS": "1", "CHAOSQL_SERVICE": "off"}
    run = subprocess.run(
        [sys.executable, "-m", "chaosql", "query", "--source", "demo", "SELECT count(*) FROM experiments"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "360" in run.stdout
    # the traced calls return chaosql's own factories and tables: they came through the hooks
    assert "register_sources" in run.stderr and "_demo" in run.stderr
    assert "register_tables" in run.stderr and "experiments" in run.stderr
