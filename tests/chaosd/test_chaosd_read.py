"""Chaosd nodes, experiments and runs as rows of nodes, experiments and events (real chaosd)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from chaosd_support import source_for, wait_for

from chaosql.errors import Unavailable


@pytest.fixture(scope="module")
def seeded(chaosd, tmp_path_factory):
    """Experiments in every status chaosd has: success, destroyed, error, scheduled (with runs)."""
    tmp = tmp_path_factory.mktemp("seed")
    uids = {name: str(uuid.uuid4()) for name in ("success", "destroyed", "error", "scheduled")}
    with chaosd.httpx_client() as c:

        def post(route, body):
            return c.post(f"/api/attack/{route}", json=body)

        assert (
            post(
                "user_defined",
                {
                    "uid": uids["success"],
                    "action": "touch",
                    "attackCmd": f"touch {tmp}/a",
                    "recoverCmd": f"rm -f {tmp}/a",
                },
            ).status_code
            == 200
        )
        assert (
            post("user_defined", {"uid": uids["destroyed"], "attackCmd": "true", "recoverCmd": "true"}).status_code
            == 200
        )
        assert c.delete(f"/api/attack/{uids['destroyed']}").status_code == 200
        assert (
            post(
                "user_defined", {"uid": uids["error"], "attackCmd": "echo boom; exit 3", "recoverCmd": "true"}
            ).status_code
            == 500
        )
        assert (
            post(
                "user_defined",
                {
                    "uid": uids["scheduled"],
                    "attackCmd": "true",
                    "recoverCmd": "true",
                    "schedule": "@every 1s",
                    "duration": "200ms",
                },
            ).status_code
            == 200
        )
        runs = wait_for(
            lambda: [
                r for r in c.get(f"/api/experiments/{uids['scheduled']}/runs").json() if r["status"] == "recovered"
            ],
            timeout=10,
        )
        assert runs, "the scheduled attack never ran"
        raw = {e["uid"]: e for e in c.get("/api/experiments/").json()}
    return uids, raw


def test_nodes_row_has_health_and_version(chaosd, session_for):
    session = session_for(source_for(chaosd))
    result = session.execute("SELECT cluster, type, name, address, ready, version, annotations FROM nodes")
    (row,) = result.dicts()
    assert row["cluster"] == "lab" and row["type"] == "chaosd"
    assert row["name"] == f"127.0.0.1:{chaosd.port}"
    assert row["address"] == chaosd.base_url
    assert row["ready"] is True
    assert row["version"] == "v1.4.0"  # the tag build.sh stamps, read from /api/system/version
    assert dict(row["annotations"])["chaosd.chaosql/platform"].startswith("linux/")
    assert {c.what.split(" ")[0] + " " + c.what.rsplit("/api", 1)[1] for c in result.calls} == {
        "GET /system/health",
        "GET /system/version",
    }


def test_experiments_rows(chaosd, seeded, session_for):
    uids, raw = seeded
    session = session_for(source_for(chaosd))
    rows = {r["uid"]: r for r in session.execute("SELECT * FROM experiments WHERE source = 'chaosd'").dicts()}
    assert set(uids.values()) <= set(rows)
    ok = rows[uids["success"]]
    assert ok["cluster"] == "lab" and ok["source"] == "chaosd" and ok["node"] == chaosd.base_url
    assert ok["name"] == ok["uid"] and ok["namespace"] is None
    assert ok["kind"] == "userDefined"  # as chaosd stores it
    assert ok["action"] == "touch"
    assert ok["phase"] == "running" and ok["desired_phase"] == "Run" and ok["paused"] is False
    assert json.loads(ok["spec"])["attackCmd"].startswith("touch ")  # recover_command, parsed
    status = json.loads(ok["status"])
    assert status["status"] == "success" and status["launch_mode"] == "svr"
    assert status["id"] == raw[uids["success"]]["id"]
    created = ok["created_at"]
    assert created.tzinfo is not None and abs(datetime.now(UTC) - created) < timedelta(minutes=5)
    assert ok["deleted_at"] is None

    gone = rows[uids["destroyed"]]
    assert gone["phase"] == "finished" and gone["desired_phase"] == "Stop"
    assert gone["deleted_at"] is not None and gone["deleted_at"] >= gone["created_at"]
    assert gone["recovered_count"] == 1

    failed = rows[uids["error"]]
    assert failed["phase"] == "failed" and failed["injected_count"] == 0
    assert "exit status 3" in json.loads(failed["status"])["error"]

    sched = rows[uids["scheduled"]]
    assert sched["phase"] == "running"
    assert sched["duration"] == "200ms" and sched["duration_seconds"] == pytest.approx(0.2)
    assert json.loads(sched["spec"])["schedule"] == "@every 1s"


def test_phase_filter_and_join_with_nodes(chaosd, seeded, session_for):
    uids, _ = seeded
    session = session_for(source_for(chaosd))
    rows = session.execute(
        "SELECT e.uid, n.version FROM experiments e JOIN nodes n ON n.address = e.node WHERE e.phase = 'failed'"
    ).rows()
    assert (uids["error"], "v1.4.0") in rows


def test_runs_are_events(chaosd, seeded, session_for):
    uids, raw = seeded
    session = session_for(source_for(chaosd))
    result = session.execute("SELECT * FROM events WHERE object_name = ? ORDER BY first_at", [uids["scheduled"]])
    rows = result.dicts()
    assert rows and all(r["object_kind"] == "userDefined" and r["object_uid"] == uids["scheduled"] for r in rows)
    assert {r["reason"] for r in rows} <= {"Started", "Applied", "Recovered", "Failed"}
    assert "Recovered" in {r["reason"] for r in rows}
    first = rows[0]
    assert first["cluster"] == "lab" and first["component"] == "chaosd" and first["type"] == "Normal"
    assert first["name"] == first["uid"] and first["uid"] != uids["scheduled"]  # a run has its own uuid
    assert (
        first["first_at"]
        == first["last_at"]
        >= datetime.fromisoformat(raw[uids["scheduled"]]["created_at"][:19] + "+00:00")
    )
    # Only the named experiment's runs were asked for; immediate attacks have none anyway.
    runs_calls = [c.what for c in result.calls if c.what.endswith("/runs")]
    assert runs_calls == [f"GET {chaosd.base_url}/api/experiments/{uids['scheduled']}/runs"]


def test_pushdown_skips_chaosd_for_other_sources_and_clusters(chaosd, seeded, session_for, demo_source):
    session = session_for(source_for(chaosd), demo_source)
    result = session.execute("SELECT count(*) FROM experiments WHERE source = 'snapshot'")
    assert result.scalar() > 0
    assert not [c for c in result.calls if c.source == "lab"]
    result = session.execute("SELECT count(*) FROM experiments WHERE cluster = 'prod-eu'")
    assert not [c for c in result.calls if c.source == "lab"]
    result = session.execute("SELECT count(*) FROM nodes WHERE type = 'kubernetes'")
    assert not [c for c in result.calls if c.source == "lab"]
    result = session.execute("SELECT count(*) FROM experiments WHERE cluster = 'lab'")
    assert result.scalar() >= 4
    assert [c.what for c in result.calls if c.source == "lab"] == [f"GET {chaosd.base_url}/api/experiments/"]


def test_newest_row_per_uid(chaosd, session_for, tmp_path):
    # chaosd keeps a row per POST, and a re-used uid rewrites the older rows too: one row is shown.
    uid = str(uuid.uuid4())
    with chaosd.httpx_client() as c:
        body = {"uid": uid, "attackCmd": "true", "recoverCmd": "true"}
        assert c.post("/api/attack/user_defined", json=body).status_code == 200
        assert c.delete(f"/api/attack/{uid}").status_code == 200
        assert c.post("/api/attack/user_defined", json=body).status_code == 200
        ids = sorted(e["id"] for e in c.get("/api/experiments/").json() if e["uid"] == uid)
        assert len(ids) == 2
        c.delete(f"/api/attack/{uid}")
    session = session_for(source_for(chaosd))
    rows = session.execute("SELECT status FROM experiments WHERE uid = ?", [uid]).rows()
    assert len(rows) == 1 and json.loads(rows[0][0])["id"] == ids[-1]


def test_node_down_names_the_node(chaosd_binary, session_for, demo_source, tmp_path_factory):
    from chaosdenv import ChaosdTestEnv

    env = ChaosdTestEnv("http", binary=chaosd_binary, workdir=tmp_path_factory.mktemp("down")).start()
    source = source_for(env, name="gone")
    url = env.base_url
    env.stop()
    session = session_for(source, demo_source)
    with pytest.raises(Unavailable) as info:
        session.execute("SELECT count(*) FROM experiments")
    message = str(info.value)
    assert f"cannot reach {url}: connection refused" in message
    assert info.value.sqlstate == "08006"
    # Tables without Chaosd rows do not ask the node at all.
    assert session.execute("SELECT count(*) FROM pods").scalar() > 0
    # The node is a nodes row that is not ready, not an error.
    ready = session.execute("SELECT ready FROM nodes WHERE type = 'chaosd'").rows()
    assert ready == [(False,)]
    # With on_source_error = 'warn' the other sources' rows still come, with a warning naming the node.
    session.execute("SET chaosql.on_source_error = 'warn'")
    result = session.execute("SELECT source, count(*) FROM experiments GROUP BY source")
    assert dict(result.rows()).get("snapshot", 0) > 0
    assert any(f"cannot reach {url}" in w for w in result.warnings), result.warnings


def test_config_file_and_discovery_from_physical_machines(chaosd, tmp_path, monkeypatch):
    from chaosql.config import load_config, open_sources
    from chaosql.engine.session import Session

    pm = {
        "apiVersion": "chaos-mesh.org/v1alpha1",
        "kind": "PhysicalMachine",
        "metadata": {"name": "box-1", "namespace": "chaos"},
        "spec": {"address": chaosd.base_url},
    }
    snap = tmp_path / "cluster"
    snap.mkdir()
    (snap / "pm.json").write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": [pm]}))
    config = tmp_path / "config.toml"
    config.write_text(f"""
[sources.lab]
type = "snapshot"
path = "{snap}"

[sources.machines]
type = "chaosd"
discover = true
retries = 0
""")
    sources = open_sources([], load_config(str(config)))
    session = Session(sources)
    try:
        rows = session.execute("SELECT cluster, type, address, ready, annotations FROM nodes ORDER BY type").dicts()
        by_type = {r["type"]: r for r in rows}
        assert by_type["physical_machine"]["address"] == chaosd.base_url
        node = by_type["chaosd"]
        assert node["cluster"] == "machines" and node["address"] == chaosd.base_url and node["ready"] is True
        assert dict(node["annotations"])["chaosd.chaosql/origin"] == "lab/chaos/box-1"
    finally:
        session.close()


def test_source_spec_on_the_command_line(chaosd):
    from chaosql.sources import open_source

    source = open_source(f"chaosd:{chaosd.base_url},127.0.0.1:1", name="two")
    assert [n.url for n in source.nodes()] == [chaosd.base_url, "http://127.0.0.1:1"]
    assert source.family == "chaosd" and source.name == "two"


def test_cli_query_with_a_chaosd_source(chaosd):
    import subprocess
    import sys

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "chaosql", "query", *args], capture_output=True, text=True, timeout=60
        )

    out = run(
        "--source", f"chaosd:{chaosd.base_url}", "--format", "csv", "SELECT type, address, ready, version FROM nodes"
    )
    assert out.returncode == 0, out.stderr
    assert f"chaosd,{chaosd.base_url},true,v1.4.0" in out.stdout
    down = run("--source", "chaosd:http://127.0.0.1:1", "SELECT count(*) FROM experiments")
    assert down.returncode != 0
    assert "cannot reach http://127.0.0.1:1: connection refused" in down.stderr
