"""Every table filled live from a real kube-apiserver: columns, derived phase, targets, nodes.

The seeded objects of namespace ``kinds`` have known states (see seed.py); the demo cluster loaded
through the API must read back exactly as the snapshot of the same files does.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
import seed

from chaosql.sources.kube import KubeSource
from chaosql.sources.snapshot import SnapshotSource


def test_every_experiment_kind_appears_with_its_columns_and_derived_phase(kube_env, kube_source, kube_session):
    session = kube_session(kube_source(kube_env))
    time.sleep(max(0.0, 1.5 - (time.time() - kube_env.seeded_at)))  # TimeChaos's 1s duration has passed
    rows = session.execute(
        "SELECT cluster, source, kind, name, action, mode, phase, paused, deleted_at IS NOT NULL AS deleting, "
        "target_count, injected_count, labels['probe'] AS probe, duration, desired_phase "
        "FROM experiments WHERE namespace = 'kinds'"
    ).dicts()
    by_kind = {row["kind"]: row for row in rows}
    assert sorted(by_kind) == kube_env.kinds and len(rows) == len(kube_env.kinds) == 14
    for kind, row in by_kind.items():
        phase, ids = seed.expected(kind)
        spec = seed.SPECS[kind]
        assert (row["cluster"], row["source"], row["name"], row["probe"]) == (
            "c1",
            "kube",
            seed.probe_name(kind),
            "yes",
        )
        assert row["action"] == spec.get("action") and row["mode"] == spec.get("mode"), kind
        assert row["phase"] == phase, kind
        assert row["target_count"] == len(ids), kind
        assert row["paused"] is (phase == "paused") and row["deleting"] is (phase == "deleting"), kind
    assert by_kind["TimeChaos"]["duration"] == "1s" and by_kind["TimeChaos"]["desired_phase"] == "Stop"
    assert by_kind["NetworkChaos"]["injected_count"] == 2


def test_chaos_kinds_are_discovered_from_the_api(kube_env, kube_source):
    source = kube_source(kube_env)
    assert source.chaos_kinds("c1") == kube_env.kinds
    assert source.has_kind("c1", "Schedule") and source.has_kind("c1", "Pod")
    # installed, but the controller's per-pod bookkeeping, not an experiment kind
    assert source.has_kind("c1", "PodNetworkChaos") and "PodNetworkChaos" not in source.chaos_kinds("c1")


def test_targets_are_joined_with_the_pods_and_machines_they_hit(kube_env, kube_source, kube_session):
    session = kube_session(kube_source(kube_env))
    rows = session.execute(
        "SELECT kind, experiment, experiment_phase, target_id, target_type, target_namespace, pod, container, node, "
        "pod_ip, physical_machine, address, phase FROM targets WHERE namespace = 'kinds' ORDER BY kind, target_id"
    ).dicts()
    network = [r for r in rows if r["kind"] == "NetworkChaos"]
    assert [(r["pod"], r["node"], r["pod_ip"], r["target_type"]) for r in network] == [
        ("web-0", seed.NODE_A, "10.9.0.10", "pod"),
        ("web-1", seed.NODE_B, "10.9.0.11", "pod"),
    ]
    assert all(r["experiment"] == "networkchaos-probe" and r["experiment_phase"] == "running" for r in network)
    block = next(r for r in rows if r["kind"] == "BlockChaos")
    assert (block["target_type"], block["pod"], block["container"], block["node"]) == (
        "container",
        "web-0",
        "web",
        seed.NODE_A,
    )
    machine = next(r for r in rows if r["kind"] == "PhysicalMachineChaos")
    assert (machine["target_type"], machine["physical_machine"], machine["address"]) == (
        "physical_machine",
        seed.MACHINE,
        seed.MACHINE_ADDRESS,
    )
    timechaos = next(r for r in rows if r["kind"] == "TimeChaos")
    assert timechaos["phase"] == "Not Injected"
    expected_rows = sum(len(seed.expected(k)[1]) for k in kube_env.kinds)
    assert len(rows) == expected_rows


def test_nodes_show_where_a_chaos_daemon_runs(kube_env, kube_source, kube_session):
    session = kube_session(kube_source(kube_env))
    rows = session.execute(
        "SELECT name, type, ready, address, chaos_daemon, chaos_daemon_pod, cpu FROM nodes "
        f"WHERE name IN ('{seed.NODE_A}', '{seed.NODE_B}', '{seed.MACHINE}') ORDER BY name"
    ).rows()
    assert rows == [
        (seed.NODE_A, "kubernetes", True, "10.9.0.1", True, f"{seed.DAEMON[0]}/{seed.DAEMON[1]}", "4"),
        (seed.NODE_B, "kubernetes", False, "10.9.0.2", False, None, "4"),
        (seed.MACHINE, "physical_machine", None, seed.MACHINE_ADDRESS, None, None, None),
    ]


#: Per table: rows the kinds/bulk seeding added on top of the demo cluster, and columns a real
#: apiserver fills itself: uid and creation time; what depends on the creation time (phase: a
#: stopped experiment is finished only once created_at + duration has passed; deleted_at, ends_at);
#: experiments.spec, which gains the CRD schema's defaults (e.g. stressors.memory.oomScoreAdj: 0);
#: pods.labels, which gain the node's topology.kubernetes.io labels (PodTopologyLabels admission).
DEMO_CHECKS = {
    "experiments": (
        "namespace NOT IN ('kinds', 'bulk')",
        ("uid", "created_at", "deleted_at", "ends_at", "phase", "source", "spec"),
    ),
    "targets": ("namespace NOT IN ('kinds', 'bulk')", ("experiment_uid", "experiment_phase")),
    "pods": (f"namespace <> 'kinds' AND name <> '{seed.DAEMON[1]}'", ("uid", "created_at", "labels")),
    "nodes": (f"name NOT IN ('{seed.NODE_A}', '{seed.NODE_B}', '{seed.MACHINE}')", ("uid", "created_at")),
    "events": ("true", ("uid", "created_at")),
    "schedules": ("true", ("uid", "created_at")),
    "workflows": ("true", ("uid", "created_at")),
    "workflow_nodes": ("true", ("uid", "created_at")),
}


@pytest.mark.parametrize("table", sorted(DEMO_CHECKS))
def test_the_demo_cluster_reads_back_like_its_snapshot(table, kube_env, kube_source, kube_session):
    where, skip = DEMO_CHECKS[table]
    live = kube_session(kube_source(kube_env))
    snapshot = kube_session(SnapshotSource(kube_env.demo_snapshot, name="c1"))
    columns = [c.name for c in live.tables[table].columns if c.name not in skip]
    sql = f"SELECT {', '.join(columns)} FROM {table} WHERE {where}"
    got, want = _normalised(live.execute(sql)), _normalised(snapshot.execute(sql))
    assert len(want) > 0
    assert got == want


def test_every_demo_object_is_accepted_by_a_real_apiserver(kube_env):
    assert kube_env.demo_rejected == []


def _normalised(result) -> list[tuple]:
    """Rows in a stable order; JSON compared as values (the apiserver sorts object keys)."""
    json_cols = [i for i, t in enumerate(result.types) if t == "JSON"]
    rows = []
    for row in result.rows():
        row = list(row)
        for i in json_cols:
            row[i] = json.dumps(json.loads(row[i]), sort_keys=True) if row[i] is not None else None
        rows.append(tuple(row))
    return sorted(rows, key=repr)


def test_the_cli_queries_a_kubeconfig_context_and_shows_its_calls(kube_env, tmp_path):
    env = {"KUBECONFIG": kube_env.kubeconfig, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "chaosql",
            "query",
            "-v",
            "--source",
            "kube:reader",
            "--format",
            "csv",
            "SELECT count(*) AS n FROM experiments WHERE namespace = 'kinds'",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["n", "14"]
    assert "pushdown experiments: namespace = 'kinds'" in done.stderr
    assert "GET /apis/chaos-mesh.org/v1alpha1/namespaces/kinds/podchaos?limit=500 -> 1 objects" in done.stderr


def test_several_contexts_are_several_clusters(kube_env, tmp_path):
    env = {"KUBECONFIG": kube_env.kubeconfig, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "chaosql",
            "query",
            "--source",
            "kube:admin",
            "--source",
            "kube:reader",
            "--format",
            "csv",
            "SELECT cluster, count(*) AS n FROM experiments WHERE namespace = 'kinds' GROUP BY cluster ORDER BY cluster",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["cluster,n", "admin,14", "reader,14"]


def test_a_config_file_names_the_cluster(kube_env, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'[sources.prod]\ntype = "kube"\ncontext = "reader"\nkubeconfig = "{kube_env.kubeconfig}"\n')
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "chaosql",
            "query",
            "--config",
            str(config),
            "--format",
            "csv",
            "SELECT DISTINCT cluster FROM experiments WHERE namespace = 'kinds'",
        ],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["cluster", "prod"]


def test_the_default_is_the_current_context(kube_env, kube_session, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", kube_env.kubeconfig)
    from chaosql.sources import open_source

    source = open_source("kube")
    try:
        assert source.name == "admin"  # the testenv kubeconfig's current-context
        session = kube_session(source)
        assert session.execute("SELECT count(*) FROM experiments WHERE namespace = 'kinds'").scalar() == 14
    finally:
        source.close()


def test_explain_analyze_lists_the_calls(kube_env, kube_source, kube_session):
    session = kube_session(kube_source(kube_env))
    rows = session.execute("EXPLAIN ANALYZE SELECT * FROM events WHERE object_kind = 'PodChaos'").rows()
    steps = [detail for step, detail in rows if step == "call"]
    assert steps and all(
        "fieldSelector=involvedObject.apiVersion=chaos-mesh.org/v1alpha1,involvedObject.kind=PodChaos" in s
        for s in steps
    )
    assert isinstance(session.sources[0], KubeSource)
