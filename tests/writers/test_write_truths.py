"""Small truths a user of writes notices: UPDATE skips (and names) rows it need not patch, EXPLAIN
names the cluster of every call, DELETE ... RETURNING shows the row as it was before, and an empty
map prints as a map. Writes go to a copy of the demo data (a snapshot directory)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

DEMO = Path(__file__).resolve().parents[2] / "chaosql" / "demo"
PAUSE = "experiment.chaos-mesh.org/pause"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """Three PodChaos in c1/shop: one running, one paused already, one being deleted."""
    shop = tmp_path / "repo" / "c1" / "shop"
    shop.mkdir(parents=True)
    spec = {"action": "pod-kill", "mode": "one", "selector": {"namespaces": ["shop"]}}
    metas = {
        "running": {},
        "paused": {"annotations": {PAUSE: "true"}},
        "leaving": {"deletionTimestamp": "2026-11-20T11:00:00Z", "finalizers": ["chaos-mesh/records"]},
    }
    for name, meta in metas.items():
        obj = {
            "apiVersion": "chaos-mesh.org/v1alpha1",
            "kind": "PodChaos",
            "metadata": {"name": name, "namespace": "shop", "uid": f"uid-{name}", **meta},
            "spec": spec,
        }
        (shop / f"{name}.yaml").write_text(yaml.safe_dump(obj, sort_keys=False))
    return tmp_path / "repo"


def test_pausing_skips_rows_already_paused_or_being_deleted_and_says_so(repo, snapshot_session):
    session = snapshot_session(repo)
    plan = session.execute("EXPLAIN UPDATE experiments SET paused = true WHERE namespace = 'shop'")
    assert [r[2] for r in plan.rows()] == ["merge-patch PodChaos c1/shop/running: pause"]
    assert "1 row (c1/shop/paused) already as the UPDATE sets them: not patched" in plan.warnings[0]
    assert "1 row (c1/shop/leaving) being deleted (Chaos Mesh is recovering them): not patched" in plan.warnings[1]
    before = (repo / "c1" / "shop" / "paused.yaml").read_text(), (repo / "c1" / "shop" / "leaving.yaml").read_text()
    result = session.execute("UPDATE experiments SET paused = true WHERE namespace = 'shop'")
    assert result.status == "UPDATE 1"  # the rows patched
    assert any("c1/shop/paused" in w and "not patched" in w for w in result.warnings)
    patches = [c.what for c in result.calls if c.what.startswith("PATCH ")]
    assert len(patches) == 2 and all("running.yaml" in p for p in patches)  # its check, then its write
    assert (
        (repo / "c1" / "shop" / "paused.yaml").read_text(),
        (repo / "c1" / "shop" / "leaving.yaml").read_text(),
    ) == before
    assert yaml.safe_load((repo / "c1" / "shop" / "running.yaml").read_text())["metadata"]["annotations"] == {
        PAUSE: "true"
    }


def test_explain_names_the_cluster_of_every_call(repo, snapshot_session):
    session = snapshot_session(repo)
    selector = json.dumps({"namespaces": ["shop"]})
    summaries = [
        session.execute(sql).rows()[0][2]
        for sql in (
            "EXPLAIN INSERT INTO experiments (cluster, namespace, name, kind, action, mode, selector) "
            f"VALUES ('c1', 'shop', 'new', 'PodChaos', 'pod-kill', 'one', '{selector}')",
            "EXPLAIN UPDATE experiments SET labels = MAP {'team': 'web'} WHERE name = 'running'",
            "EXPLAIN DELETE FROM experiments WHERE name = 'running'",
        )
    ]
    assert summaries == [
        "create PodChaos c1/shop/new action=pod-kill mode=one",
        'merge-patch PodChaos c1/shop/running: labels {"team":"web"}',
        "delete PodChaos c1/shop/running",
    ]


def test_delete_returning_returns_the_row_as_it_was_before(repo, snapshot_session):
    session = snapshot_session(repo)
    rows = session.execute("DELETE FROM experiments WHERE name = 'paused' RETURNING name, uid, paused").rows()
    assert rows == [("paused", "uid-paused", True)]
    assert not (repo / "c1" / "shop" / "paused.yaml").exists()


def test_an_empty_map_prints_as_a_map(tmp_path):
    sql = "SELECT MAP {}::MAP(VARCHAR, VARCHAR) AS labels, MAP {'a': '1'} AS other, []::VARCHAR[] AS list"
    outputs = {
        fmt: subprocess.run(
            [sys.executable, "-m", "chaosql", "query", "--source", "demo", "--format", fmt, sql],
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
        for fmt in ("table", "csv", "json")
    }
    assert [v.strip() for v in outputs["table"].splitlines()[2].split("|")] == ["{}", "{a=1}", "[]"]
    assert outputs["csv"].splitlines()[1] == "{},{a=1},[]"
    assert json.loads(outputs["json"]) == [{"labels": {}, "other": {"a": "1"}, "list": []}]
