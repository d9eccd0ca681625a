"""chaosql's answers on the demo data equal answers computed straight from the JSON files."""

from __future__ import annotations

import json
from collections import Counter

import demo_truth as truth


def as_counter(rows) -> Counter:
    return Counter({tuple(r[:-1]) if len(r) > 2 else r[0]: r[-1] for r in rows})


def test_counts_by_kind(demo_session):
    rows = demo_session.execute("SELECT cluster, kind, count(*) FROM experiments GROUP BY ALL").rows()
    assert as_counter(rows) == truth.count_by(lambda c, o: (c, o["kind"]))


def test_counts_by_phase_match_chaos_mesh_rule(demo_session):
    rows = demo_session.execute("SELECT cluster, phase, count(*) FROM experiments GROUP BY ALL").rows()
    expected = truth.count_by(lambda c, o: (c, truth.phase(o)))
    assert as_counter(rows) == expected
    assert {p for _, p in expected} == {"deleting", "paused", "finished", "running", "injecting"}


def test_counts_by_namespace(demo_session):
    rows = demo_session.execute("SELECT cluster, namespace, count(*) FROM experiments GROUP BY ALL").rows()
    assert as_counter(rows) == truth.count_by(lambda c, o: (c, o["metadata"]["namespace"]))


def test_targets_per_experiment(demo_session):
    rows = demo_session.execute(
        "SELECT e.cluster, e.namespace, e.name, count(t.target_id) FROM experiments e "
        "LEFT JOIN targets t ON t.cluster = e.cluster AND t.namespace = e.namespace AND t.experiment = e.name "
        "GROUP BY ALL"
    ).rows()
    assert as_counter(rows) == truth.targets_per_experiment()
    # the column on experiments agrees with the joined table
    rows = demo_session.execute("SELECT cluster, namespace, name, target_count FROM experiments").rows()
    assert as_counter(rows) == truth.targets_per_experiment()


def test_join_experiments_targets_nodes(demo_session):
    rows = demo_session.execute(
        "SELECT n.cluster, n.name, count(*) FROM experiments e "
        "JOIN targets t ON t.cluster = e.cluster AND t.namespace = e.namespace AND t.experiment = e.name "
        "JOIN nodes n ON n.cluster = t.cluster AND n.name = t.node AND n.type = 'kubernetes' "
        "WHERE t.phase = 'Injected' GROUP BY ALL"
    ).rows()
    assert as_counter(rows) == truth.injected_targets_per_node()


def test_events_per_experiment(demo_session):
    rows = demo_session.execute(
        "SELECT e.cluster, e.namespace, e.name, count(*) FROM experiments e JOIN events v "
        "ON v.cluster = e.cluster AND v.namespace = e.namespace AND v.object_name = e.name AND v.object_kind = e.kind "
        "GROUP BY ALL"
    ).rows()
    expected = truth.events_per_experiment()
    # events of experiments that no longer exist (deleted by workflows) have no experiment row
    existing = {(c, o["metadata"]["namespace"], o["metadata"]["name"]) for c, o in truth.experiments()}
    assert as_counter(rows) == Counter({k: v for k, v in expected.items() if k in existing})


def test_json_columns_keep_the_whole_object(demo_session):
    rows = demo_session.execute(
        "SELECT cluster, name, spec->>'$.action', status->'$.experiment'->>'$.desiredPhase' FROM experiments"
    ).rows()
    expected = {
        (c, o["metadata"]["name"]): (
            o["spec"].get("action"),
            o.get("status", {}).get("experiment", {}).get("desiredPhase"),
        )
        for c, o in truth.experiments()
    }
    assert {(r[0], r[1]): (r[2], r[3]) for r in rows} == expected


def test_labels_map_and_timestamps(demo_session):
    row = demo_session.execute(
        "SELECT labels['team'], typeof(created_at), created_at <= TIMESTAMPTZ '2026-11-20 12:00:00+00' "
        "FROM experiments WHERE labels['team'] IS NOT NULL LIMIT 1"
    ).rows()[0]
    assert row[0] and row[1] == "TIMESTAMP WITH TIME ZONE" and row[2] is True


def test_schedule_and_workflow_owners(demo_session):
    schedules = {
        (c, o["metadata"]["namespace"], o["metadata"]["name"]): o for c, o in truth.objects() if o["kind"] == "Schedule"
    }
    expected = {}
    for c, o in truth.experiments():
        meta = o["metadata"]
        schedule = next((r["name"] for r in meta.get("ownerReferences", []) if r["kind"] == "Schedule"), None)
        workflow = meta.get("labels", {}).get("chaos-mesh.org/workflow")
        if workflow is None and schedule:
            workflow = (
                schedules[(c, meta["namespace"], schedule)]["metadata"].get("labels", {}).get("chaos-mesh.org/workflow")
            )
        expected[(c, meta["namespace"], meta["name"])] = (schedule, workflow)
    rows = demo_session.execute("SELECT cluster, namespace, name, schedule, workflow FROM experiments").rows()
    assert {r[:3]: r[3:] for r in rows} == expected
    assert any(s and w for s, w in expected.values())  # a workflow's Schedule node spawned some


def test_cloud_targets_join_to_their_nodes(demo_session):
    node_of = {
        (c, o["spec"].get("providerID", "").rsplit("/", 1)[-1]): o["metadata"]["name"]
        for c, o in truth.objects()
        if o["kind"] == "Node"
    }
    expected = sorted(
        (c, node_of.get((c, json.loads(r["id"])["ec2Instance"])))
        for c, o in truth.experiments()
        if o["kind"] == "AWSChaos"
        for r in o["status"]["experiment"].get("containerRecords", [])
    )
    rows = demo_session.execute(
        "SELECT cluster, node FROM targets WHERE kind = 'AWSChaos' AND target_type = 'cloud_instance'"
    ).rows()
    assert sorted(rows) == expected and all(node for _, node in expected)


def test_count_is_renamed_next_to_columns_whose_names_hold_quotes(demo_session):
    """count(*) is called count; a column DuckDB names with quotes in it (min(e."cluster")) stays."""
    result = demo_session.execute('SELECT count(*), min(e."cluster") FROM experiments e')
    assert result.columns == ["count", 'min(e."cluster")']
    assert result.rows() == [(360, "prod-eu")]
