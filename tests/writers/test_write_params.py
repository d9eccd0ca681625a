"""Parameterised writes: ``?``, ``$1`` and ``$name`` in INSERT/UPDATE/DELETE, from Python and over the wire."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from chaosql.errors import SqlError

SELECTOR = {"namespaces": ["shop"]}


@pytest.fixture
def gitops(tmp_path: Path) -> Path:
    """A snapshot directory with one PodChaos, c1/shop/kill.yaml."""
    shop = tmp_path / "c1" / "shop"
    shop.mkdir(parents=True)
    (shop / "kill.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "chaos-mesh.org/v1alpha1",
                "kind": "PodChaos",
                "metadata": {"name": "kill", "namespace": "shop"},
                "spec": {"action": "pod-kill", "mode": "one", "selector": SELECTOR},
            },
            sort_keys=False,
        )
    )
    return tmp_path


def names(session) -> list[str]:
    return [r[0] for r in session.execute("SELECT name FROM experiments ORDER BY name").rows()]


INSERT_NUMBERED = (
    "INSERT INTO experiments (cluster, namespace, name, kind, action, mode, selector, duration, spec) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
)


def test_insert_with_numbered_params_keeps_types(gitops, snapshot_session):
    session = snapshot_session(gitops)
    spec = json.dumps({"delay": {"latency": "100ms"}})  # a JSON spec sent as text, as Postgres clients do
    result = session.execute(
        INSERT_NUMBERED + " RETURNING name, kind, duration",
        ["c1", "shop", "slow", "NetworkChaos", "delay", "all", json.dumps(SELECTOR), None, spec],
    )
    assert result.status == "INSERT 0 1"
    assert result.rows() == [("slow", "NetworkChaos", None)]
    written = yaml.safe_load((gitops / "c1" / "shop" / "networkchaos-slow.yaml").read_text())
    assert written["spec"] == {"delay": {"latency": "100ms"}, "action": "delay", "mode": "all", "selector": SELECTOR}
    assert "duration" not in written["spec"]  # None is NULL, not the text 'None'


def test_insert_with_positional_params_and_a_dict_spec(gitops, snapshot_session):
    session = snapshot_session(gitops)
    session.execute(
        "INSERT INTO experiments (namespace, name, kind, action, mode, selector, spec) "
        "VALUES (?, ?, ?, ?, ?, ?, ?), ('shop', ?, 'PodChaos', 'pod-kill', 'one', ?, NULL)",
        [
            "shop",
            "stress",
            "StressChaos",
            None,
            "one",
            SELECTOR,
            {"stressors": {"cpu": {"workers": 2}}},
            "kill-2",
            json.dumps(SELECTOR),
        ],
    )
    stress = yaml.safe_load((gitops / "c1" / "shop" / "stresschaos-stress.yaml").read_text())
    assert stress["spec"]["stressors"] == {"cpu": {"workers": 2}}  # an int stays an int
    assert names(snapshot_session(gitops)) == ["kill", "kill-2", "stress"]


def test_update_and_delete_with_params(gitops, snapshot_session):
    session = snapshot_session(gitops)
    result = session.execute(
        "UPDATE experiments SET paused = $1 WHERE name = $2 RETURNING name, paused", [True, "kill"]
    )
    assert (result.status, result.rows()) == ("UPDATE 1", [("kill", True)])
    fresh = snapshot_session(gitops)
    assert fresh.execute("SELECT paused FROM experiments WHERE name = ?", ["kill"]).rows() == [(True,)]
    assert fresh.execute("DELETE FROM experiments WHERE name = ?", ["nothing-called-this"]).status == "DELETE 0"
    assert (
        fresh.execute(
            "DELETE FROM experiments WHERE namespace = $ns AND name = $name", {"ns": "shop", "name": "kill"}
        ).status
        == "DELETE 1"
    )
    assert names(snapshot_session(gitops)) == []


def test_a_parameter_is_a_value_never_sql(gitops, snapshot_session):
    session = snapshot_session(gitops)
    assert session.execute("DELETE FROM experiments WHERE name = ?", ["x' OR true OR name = '"]).status == "DELETE 0"
    assert names(snapshot_session(gitops)) == ["kill"]


@pytest.mark.parametrize(
    "sql, params, message",
    [
        ("UPDATE experiments SET paused = $1 WHERE name = $2", [True], "takes 2 parameters but 1 was given"),
        ("DELETE FROM experiments WHERE name = ?", ["kill", "extra"], "takes 1 parameter but 2 were given"),
        ("DELETE FROM experiments WHERE name = ?", None, "takes 1 parameter but 0 were given"),
        ("DELETE FROM experiments WHERE name = 'kill'", ["kill"], "has no parameters but 1 was given"),
        ("DELETE FROM experiments WHERE name = ? AND namespace = $2", ["kill", "shop"], "mixes parameter styles"),
        ("DELETE FROM experiments WHERE name = $name", {"other": "kill"}, "no value given for parameter $name"),
    ],
)
def test_wrong_params_are_a_clear_error_and_nothing_changes(gitops, snapshot_session, sql, params, message):
    before = (gitops / "c1" / "shop" / "kill.yaml").read_text()
    session = snapshot_session(gitops)
    with pytest.raises(SqlError) as info:
        session.execute(sql, params)
    assert message in str(info.value) and info.value.sqlstate == "42601"
    assert (gitops / "c1" / "shop" / "kill.yaml").read_text() == before
    assert session.execute("SELECT count(*) FROM experiments").rows() == [(1,)]  # the session still answers


PASSWORD = "pw-for-writes"


@pytest.fixture
def write_server(gitops):
    """``chaosql serve`` over the writable snapshot directory, user ``ops`` with writes = true."""
    from chaosql.engine.session import Session
    from chaosql.server.auth import auth_config
    from chaosql.server.server import Server, ServerThread
    from chaosql.sources.snapshot import SnapshotSource

    source = SnapshotSource(gitops)
    cfg = auth_config({"users": {"ops": {"password": PASSWORD, "writes": True}}})
    thread = ServerThread(Server(lambda: Session([source]), port=0, auth=cfg)).start()
    yield thread
    thread.stop()


def test_psycopg_parameterised_writes_through_the_server(write_server, gitops):
    psycopg = pytest.importorskip("psycopg")
    dsn = f"postgresql://ops:{PASSWORD}@127.0.0.1:{write_server.port}/chaosql?sslmode=disable"
    with psycopg.connect(dsn, autocommit=True) as con:
        cur = con.execute(
            "INSERT INTO experiments (namespace, name, kind, action, mode, selector, duration) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            ["shop", "wire", "PodChaos", "pod-failure", "one", json.dumps(SELECTOR), "30s"],
        )
        assert cur.statusmessage == "INSERT 0 1"
        cur = con.execute("UPDATE experiments SET paused = %s WHERE name = %s", [True, "wire"])
        assert cur.statusmessage == "UPDATE 1"
        assert con.execute("SELECT paused, duration FROM experiments WHERE name = %s", ["wire"]).fetchall() == [
            (True, "30s")
        ]
        assert con.execute("DELETE FROM experiments WHERE name = %s", ["wire"]).statusmessage == "DELETE 1"
    assert not (gitops / "c1" / "shop" / "podchaos-wire.yaml").exists()
