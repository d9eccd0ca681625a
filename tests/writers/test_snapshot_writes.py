"""GitOps writes: SQL on a snapshot directory writes tidy YAML files that load back as the same rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from chaosql.errors import SourceError, SqlError, WriteCancelled, WriteFailed, WriteRefused

SELECTOR = {"namespaces": ["shop"]}


def manifest(kind: str, name: str, spec: dict, **meta) -> dict:
    return {
        "apiVersion": "chaos-mesh.org/v1alpha1",
        "kind": kind,
        "metadata": {"name": name, "namespace": "shop", **meta},
        "spec": spec,
    }


@pytest.fixture
def gitops(tmp_path: Path) -> Path:
    """A repository of manifests: a multi-document file, a kubectl List and a JSON file."""
    shop = tmp_path / "c1" / "shop"
    shop.mkdir(parents=True)
    (shop / "multi.yaml").write_text(
        yaml.safe_dump_all(
            [
                manifest("PodChaos", "a", {"action": "pod-kill", "mode": "one", "selector": SELECTOR}),
                manifest(
                    "NetworkChaos",
                    "b",
                    {"action": "delay", "mode": "all", "selector": SELECTOR, "delay": {"latency": "10ms"}},
                ),
            ],
            sort_keys=False,
        )
    )
    (shop / "list.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "List",
                "items": [
                    manifest(
                        "PodChaos",
                        "c",
                        {"action": "pod-failure", "mode": "one", "selector": SELECTOR, "duration": "30s"},
                    ),
                    manifest(
                        "Schedule",
                        "s",
                        {
                            "schedule": "@every 5m",
                            "type": "PodChaos",
                            "historyLimit": 1,
                            "podChaos": {"action": "pod-kill", "mode": "one", "selector": SELECTOR},
                        },
                    ),
                ],
            },
            sort_keys=False,
        )
    )
    (shop / "stress.json").write_text(
        json.dumps(
            manifest("StressChaos", "d", {"mode": "one", "selector": SELECTOR, "stressors": {"cpu": {"workers": 1}}})
        )
    )
    return tmp_path


def files(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


def test_insert_writes_tidy_yaml_that_loads_back_as_the_same_rows(gitops, snapshot_session):
    session = snapshot_session(gitops)
    result = session.execute("""
        INSERT INTO experiments (cluster, namespace, name, kind, action, mode, selector, duration, labels, spec)
        VALUES ('c1', 'shop', 'kill-web', 'PodChaos', 'pod-kill', 'one', '{"namespaces": ["shop"]}', NULL,
                MAP {'team': 'web'}, NULL),
               ('c2', 'pay', 'slow', 'NetworkChaos', 'delay', 'all', '{"namespaces": ["pay"]}', '5m', NULL,
                {'delay': {'latency': '100ms'}})
        RETURNING *""")
    assert result.status == "INSERT 0 2"
    written = gitops / "c1" / "shop" / "podchaos-kill-web.yaml"
    assert written.read_text() == (
        "apiVersion: chaos-mesh.org/v1alpha1\nkind: PodChaos\nmetadata:\n  name: kill-web\n  namespace: shop\n"
        "  labels:\n    team: web\nspec:\n  action: pod-kill\n  mode: one\n  selector:\n    namespaces:\n    - shop\n"
    )
    slow = yaml.safe_load((gitops / "c2" / "pay" / "networkchaos-slow.yaml").read_text())
    assert slow["spec"] == {
        "delay": {"latency": "100ms"},
        "action": "delay",
        "mode": "all",
        "selector": {"namespaces": ["pay"]},
        "duration": "5m",
    }
    fresh = snapshot_session(gitops)  # a new source reads the files from disk
    again = fresh.execute("SELECT * FROM experiments WHERE name IN ('kill-web', 'slow') ORDER BY name")
    assert again.dicts() == sorted(result.dicts(), key=lambda r: r["name"])


def test_update_rewrites_the_object_where_it_is_and_keeps_the_rest(gitops, snapshot_session):
    session = snapshot_session(gitops)
    result = session.execute(
        "UPDATE experiments SET paused = true, labels = MAP {'reviewed': 'yes'} "
        "WHERE name IN ('b', 'c') RETURNING name, paused, labels"
    )
    assert result.status == "UPDATE 2"
    assert sorted((r[0], r[1], dict(r[2])) for r in result.rows()) == [
        ("b", True, {"reviewed": "yes"}),
        ("c", True, {"reviewed": "yes"}),
    ]
    multi = list(yaml.safe_load_all((gitops / "c1" / "shop" / "multi.yaml").read_text()))
    assert [d["metadata"]["name"] for d in multi] == ["a", "b"]
    assert "annotations" not in multi[0]["metadata"]
    assert multi[1]["metadata"]["annotations"] == {"experiment.chaos-mesh.org/pause": "true"}
    listed = yaml.safe_load((gitops / "c1" / "shop" / "list.yaml").read_text())
    assert listed["kind"] == "List" and [i["metadata"]["name"] for i in listed["items"]] == ["c", "s"]
    session.execute("UPDATE schedules SET schedule = '@every 1h' WHERE name = 's'")
    listed = yaml.safe_load((gitops / "c1" / "shop" / "list.yaml").read_text())
    assert listed["items"][1]["spec"]["schedule"] == "@every 1h"
    assert listed["items"][1]["spec"]["podChaos"]["action"] == "pod-kill"
    session.execute("UPDATE experiments SET labels = MAP {'x': '1'} WHERE name = 'd'")
    assert json.loads((gitops / "c1" / "shop" / "stress.json").read_text())["metadata"]["labels"] == {"x": "1"}
    fresh = snapshot_session(gitops)
    assert fresh.execute("SELECT name FROM experiments WHERE paused ORDER BY name").rows() == [("b",), ("c",)]


def test_delete_removes_the_document_or_the_file(gitops, snapshot_session):
    session = snapshot_session(gitops)
    assert session.execute("DELETE FROM experiments WHERE name IN ('b', 'c', 'd')").status == "DELETE 3"
    multi = list(yaml.safe_load_all((gitops / "c1" / "shop" / "multi.yaml").read_text()))
    assert [d["metadata"]["name"] for d in multi] == ["a"]
    listed = yaml.safe_load((gitops / "c1" / "shop" / "list.yaml").read_text())
    assert [i["metadata"]["name"] for i in listed["items"]] == ["s"]
    assert not (gitops / "c1" / "shop" / "stress.json").exists()
    assert snapshot_session(gitops).execute("SELECT name FROM experiments").rows() == [("a",)]


def test_litmus_chaos_engines_are_written_to_the_repository_too(gitops, snapshot_session):
    """A ChaosEngine next to Chaos Mesh's manifests: created as a file, stopped by engineState,
    deleted with its file; checked against the ChaosEngine CRD chaosql ships (no cluster)."""
    session = snapshot_session(gitops)
    app = '{"appns": "shop", "applabel": "app=web", "appkind": "deployment"}'
    session.execute(
        "INSERT INTO experiments (cluster, namespace, name, kind, action, selector, duration) "
        f"VALUES ('c1', 'shop', 'web', 'ChaosEngine', 'pod-delete', '{app}', '60s')"
    )
    written = gitops / "c1" / "shop" / "chaosengine-web.yaml"
    engine = yaml.safe_load(written.read_text())
    assert (engine["apiVersion"], engine["kind"], engine["spec"]["engineState"]) == (
        "litmuschaos.io/v1alpha1",
        "ChaosEngine",
        "active",
    )
    assert engine["spec"]["experiments"][0]["spec"]["components"]["env"] == [
        {"name": "TOTAL_CHAOS_DURATION", "value": "60"}
    ]
    session.execute("UPDATE experiments SET paused = true WHERE engine = 'litmus'")
    assert yaml.safe_load(written.read_text())["spec"]["engineState"] == "stop"
    fresh = snapshot_session(gitops)
    assert fresh.execute("SELECT engine, name, paused FROM experiments WHERE paused").rows() == [
        ("litmus", "web", True)
    ]
    with pytest.raises(WriteRefused, match="'deploy' does not match the pattern"):
        session.execute(
            "INSERT INTO experiments (cluster, namespace, name, kind, action, selector) "
            f"VALUES ('c1', 'shop', 'odd', 'ChaosEngine', 'pod-delete', '{app.replace('deployment', 'deploy')}')"
        )
    assert session.execute("DELETE FROM experiments WHERE engine = 'litmus'").status == "DELETE 1"
    assert not written.exists() and not (gitops / "c1" / "shop" / "chaosengine-odd.yaml").exists()


def test_a_failure_part_way_puts_every_file_back(gitops, snapshot_session):
    session = snapshot_session(gitops)
    before = files(gitops)
    blocker = gitops / "c1" / "shop" / "podchaos-n2.yaml"

    def someone_writes_the_second_file(index, op):
        if index == 1:
            blocker.write_text("# taken\n")

    session.writer.before_apply = someone_writes_the_second_file
    with pytest.raises(WriteFailed) as failed:
        session.execute(
            "INSERT INTO experiments (cluster, namespace, name, kind, action, mode, selector) VALUES "
            + ", ".join(
                f"""('c1', 'shop', 'n{i}', 'PodChaos', 'pod-kill', 'one', '{{"namespaces": ["shop"]}}')"""
                for i in (1, 2, 3)
            )
        )
    assert "INSERT failed at row 2 of 3" in str(failed.value)
    assert "rolled back: deleted c1/shop/n1 again; the cluster is as before the statement" in str(failed.value)
    blocker.unlink()
    assert files(gitops) == before

    def the_disk_fills_up(index, op):
        if index == 1:
            raise SourceError("injected: no space left on device")

    session.writer.before_apply = the_disk_fills_up
    with pytest.raises(WriteFailed, match="rolled back: restored c1/shop/b; the cluster is as before"):
        session.execute("DELETE FROM experiments WHERE name IN ('b', 'c') ")
    assert files(gitops) == before

    def someone_removes_the_list(index, op):
        if index == 1:
            (gitops / "c1" / "shop" / "list.yaml").unlink()

    session.writer.before_apply = someone_removes_the_list
    result = session.execute("DELETE FROM experiments WHERE name IN ('b', 'c') ")
    assert result.status == "DELETE 1" and result.warnings == ["c1/shop/c: was deleted concurrently"]


KILL = '{"action": "pod-kill", "mode": "one", "selector": {"namespaces": ["shop"]}}'


def test_refusals_change_no_file(gitops, snapshot_session, demo_session):
    session = snapshot_session(gitops)
    before = files(gitops)
    refusals = {
        "UPDATE experiments SET paused = true": "without WHERE",
        "DELETE FROM schedules": "without WHERE",
        "UPDATE experiments SET action = 'x' WHERE name = 'a'": "spec cannot change after creation",
        "UPDATE experiments SET phase = 'running' WHERE name = 'a'": "experiments.phase is computed",
        "INSERT INTO targets (namespace) VALUES ('shop')": "targets is read-only",
        f"INSERT INTO experiments (cluster, namespace, name, kind, spec) VALUES ('c1', 'shop', 'a', 'PodChaos', '{KILL}')": "already exists in",
        "INSERT INTO experiments (namespace, name, kind, spec) VALUES ('shop', 'x', 'Pod', '{}')": "'Pod' is not a Chaos Mesh experiment kind",
        "INSERT INTO experiments (namespace, name, kind, spec) VALUES (NULL, 'x', 'PodChaos', '{}')": "namespace is required",
        "INSERT INTO experiments (namespace, name, kind, spec) VALUES ('shop', 'x', 'PodChaos', '{bad')": "spec: not valid JSON",
        "INSERT INTO experiments (cluster, namespace, name, kind, spec) VALUES ('c1', 'shop', 'x', 'PodChaos', "
        f"'{KILL}'), ('c1', 'shop', 'x', 'PodChaos', '{KILL}')": "rows 1 and 2 both create",
    }
    for sql, expected in refusals.items():
        with pytest.raises(WriteRefused) as refused:
            session.execute(sql)
        assert expected in str(refused.value), sql
    with pytest.raises(SqlError, match="needs a column list"):
        session.execute("INSERT INTO experiments VALUES ('x')")
    with pytest.raises(WriteRefused, match="the demo data ships with chaosql and is read-only"):
        demo_session.execute("DELETE FROM experiments WHERE name = 'x' OR true")
    assert files(gitops) == before


def test_explain_shows_the_files_and_writes_nothing(gitops, snapshot_session):
    session = snapshot_session(gitops)
    before = files(gitops)
    plan = session.execute(
        "EXPLAIN INSERT INTO experiments (cluster, namespace, name, kind, action, mode, selector) "
        """VALUES ('c1', 'shop', 'new', 'PodChaos', 'pod-kill', 'one', '{"namespaces": ["shop"]}')"""
    )
    assert plan.rows() == [
        (
            "POST",
            str(gitops / "c1" / "shop" / "podchaos-new.yaml"),
            "create PodChaos c1/shop/new action=pod-kill mode=one",
        )
    ]
    assert "nothing was written" in plan.warnings[0]
    checked = session.execute("EXPLAIN ANALYZE DELETE FROM experiments WHERE namespace = 'shop'").dicts()
    planned = [r for r in checked if r["method"] != "call"]
    assert {r["dry_run"] for r in planned} == {"ok"} and len(planned) == 4
    checks = [r["path"] for r in checked if r["method"] == "call" and r["path"].startswith("DELETE ")]
    assert len(checks) == 4 and all(c.endswith("(checked, not written)") for c in checks)  # then every call made
    assert files(gitops) == before


def test_cancelling_a_write_part_way_rolls_it_back(gitops, snapshot_session):
    session = snapshot_session(gitops)
    before = files(gitops)

    def user_presses_ctrl_c(index, op):
        if index == 1:
            session.cancel()

    session.writer.before_apply = user_presses_ctrl_c
    with pytest.raises(WriteCancelled) as failed:  # a WriteFailed, and a QueryCancelled (SQLSTATE 57014)
        session.execute("UPDATE experiments SET paused = true WHERE namespace = 'shop'")
    assert "UPDATE stopped at row 3 of 4: query cancelled; rolled back: restored c1/shop/b" in str(failed.value)
    assert files(gitops) == before
