"""LitmusChaos next to Chaos Mesh on real kube-apiservers: one set of tables for both engines.

``litmus_env`` serves both engines' CRDs, ``litmus_only_env`` only LitmusChaos's, ``kube_env2``
only Chaos Mesh's. The engines' states and the rows they must give are in seed_litmus.py (namespace
``shop``, ``lab`` in ``litmus_only_env``); tests that change objects do it in other namespaces.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from urllib.parse import unquote_plus

import pytest
import seed_litmus
from seed_litmus import CHAOS_MESH, ENGINES, EXPECTED, NODE_A, NODE_B, STOPPED_BY_USER


def _litmus_calls(result) -> list[str]:
    return [c.what for c in result.calls if "litmuschaos.io" in c.what]


def test_each_run_of_an_engine_is_an_experiment_with_its_phase_and_verdict(litmus_env, kube_source, kube_session):
    session = kube_session(kube_source(litmus_env))
    rows = session.execute(
        "SELECT name, action, phase, verdict, paused, kind, source FROM experiments "
        "WHERE engine = 'litmus' AND namespace = 'shop'"
    ).rows()
    assert {(r[0], r[1]): (r[2], r[3]) for r in rows} == EXPECTED
    assert len(rows) == len(EXPECTED)
    assert {r[0] for r in rows if r[4]} == STOPPED_BY_USER
    assert {(r[5], r[6]) for r in rows} == {("ChaosEngine", "kube")}


def test_a_mixed_query_counts_both_engines(litmus_env, litmus_only_env, kube_env2, kube_source, kube_session):
    session = kube_session(kube_source(litmus_env), kube_source(litmus_only_env), kube_source(kube_env2))
    counts = {
        (engine, phase, cluster): n
        for engine, phase, cluster, n in session.execute(
            "SELECT engine, phase, cluster, count(*) FROM experiments WHERE namespace IN ('shop', 'lab') GROUP BY ALL"
        ).rows()
    }
    expected = Counter(("litmus", phase, cluster) for cluster in ("lit", "litonly") for phase, _ in EXPECTED.values())
    expected.update(("chaos-mesh", phase, "lit") for _, phase in CHAOS_MESH.values())
    expected[("chaos-mesh", "injecting", "c2")] = 5  # kube_env2's PodChaos and NetworkChaos, no status
    assert counts == expected


def test_a_cluster_with_only_litmus_works_and_says_nothing_about_chaos_mesh(litmus_only_env, kube_source, kube_session):
    session = kube_session(kube_source(litmus_only_env))
    result = session.execute("SELECT engine, namespace, count(*) FROM experiments GROUP BY ALL")
    assert result.rows() == [("litmus", "lab", len(EXPECTED))]
    assert result.warnings == []
    assert session.execute("SELECT count(*) FROM schedules").scalar() == 0
    results = sum(1 for _, _, runs in ENGINES.values() for *_, result in runs if result is not None)
    assert session.execute("SELECT count(*) FROM litmus_results").scalar() == results + 1  # and the stale one


def test_a_cluster_with_only_chaos_mesh_asks_nothing_of_litmus(kube_env2, kube_source, kube_session):
    session = kube_session(kube_source(kube_env2))
    for sql in (
        "SELECT engine, count(*) FROM experiments GROUP BY ALL",
        "SELECT count(*) FROM targets",
        "SELECT count(*) FROM events",
        "SELECT count(*) FROM litmus_results",
    ):
        result = session.execute(sql)
        assert result.warnings == [], sql
        assert _litmus_calls(result) == [], sql
    assert session.execute("SELECT engine, count(*) FROM experiments GROUP BY ALL").rows() == [("chaos-mesh", 5)]


def test_targets_come_from_the_results_history_placed_by_appinfo(litmus_env, kube_source, kube_session):
    session = kube_session(kube_source(litmus_env))
    rows = session.execute(
        "SELECT experiment, action, target_type, target_namespace, pod, node, pod_ip, phase, experiment_phase, "
        "injected_count, recovered_count FROM targets WHERE engine = 'litmus' AND namespace = 'shop' "
        "ORDER BY experiment, action, pod"
    ).rows()
    nodes = {name: node for name, (node, _) in seed_litmus.PODS.items()}
    ips = {name: ip for name, (_, ip) in seed_litmus.PODS.items()}
    expected = []
    for engine, (_, _, runs) in ENGINES.items():
        for exp, _, _, result in runs:
            for pod, status in result[6] if result else []:
                phase = "Injected" if status == "injected" else "Not Injected"
                counts = (1, 1 if status == "reverted" else 0)
                expected.append(
                    (engine, exp, "pod", "shop", pod, nodes[pod], ips[pod], phase, EXPECTED[(engine, exp)][0], *counts)
                )
    assert rows == sorted(expected)
    assert {NODE_A, NODE_B} == {r[5] for r in rows}


def test_events_of_litmus_objects(litmus_env, kube_source, kube_session):
    session = kube_session(kube_source(litmus_env))
    result = session.execute(
        "SELECT object_name, reason, type FROM events "
        "WHERE engine = 'litmus' AND object_kind = 'ChaosEngine' AND namespace = 'shop'"
    )
    rows = result.rows()
    assert ("nginx-probe", "Summary", "Warning") in rows and ("nginx-delete", "Summary", "Normal") in rows
    assert sum(1 for r in rows if r[1] == "ChaosEngineInitialized") == len(ENGINES)
    assert [c.what for c in result.calls] == [
        "GET /api/v1/namespaces/shop/events?limit=500&fieldSelector=involvedObject.apiVersion=litmuschaos.io/v1alpha1,"
        "involvedObject.kind=ChaosEngine"
    ]


def test_litmus_results_are_typed(litmus_env, kube_source, kube_session):
    session = kube_session(kube_source(litmus_env))
    rows = session.execute(
        "SELECT name, chaos_engine, experiment, phase, verdict, probe_success_percentage, passed_runs, "
        "failed_runs, stopped_runs, probes, probes_passed, error_code FROM litmus_results WHERE namespace = 'shop'"
    ).rows()
    by_name = {r[0]: r[1:] for r in rows}
    assert by_name["nginx-probe-pod-delete"] == (
        "nginx-probe",
        "pod-delete",
        "Completed_With_Probe_Failure",
        "Fail",
        50.0,
        3,
        1,
        0,
        2,
        1,
        None,
    )
    assert by_name["nginx-cpu-pod-cpu-hog"][3:5] == ("Awaited", None)  # Awaited is no percentage
    assert by_name["nginx-error-container-kill"][-1] == "TARGET_SELECTION_ERROR"
    assert by_name["nginx-stopped-pod-delete"][6:8] == (0, 1)


def test_a_stale_result_of_an_earlier_engine_is_not_this_runs(litmus_env, kube_source, kube_session):
    session = kube_session(kube_source(litmus_env))
    row = session.execute(
        "SELECT e.phase, e.verdict, r.verdict, r.engine_uid = e.uid FROM experiments e JOIN litmus_results r "
        "ON r.namespace = e.namespace AND r.chaos_engine = e.name AND r.experiment = e.action "
        "WHERE e.name = 'nginx-net'"
    ).rows()
    assert row == [("injecting", None, "Fail", False)]


@pytest.mark.parametrize(
    ("sql", "wanted"),
    [
        (
            "SELECT name, phase FROM experiments WHERE kind = 'ChaosEngine' AND namespace = 'shop'",
            ["/apis/litmuschaos.io/v1alpha1/namespaces/shop/chaosengines?limit=500"],
        ),
        (
            "SELECT name, phase FROM experiments WHERE kind = 'ChaosEngine' AND name = 'nginx-cpu'",
            ["/apis/litmuschaos.io/v1alpha1/chaosengines?limit=500&fieldSelector=metadata.name=nginx-cpu"],
        ),
        (
            "SELECT name, phase FROM experiments WHERE kind = 'ChaosEngine' AND labels['engine'] = 'multi'",
            ["/apis/litmuschaos.io/v1alpha1/chaosengines?limit=500&labelSelector=engine in (multi)"],
        ),
        (
            "SELECT name FROM litmus_results WHERE namespace = 'shop' AND name = 'multi-pod-delete'",
            [
                "/apis/litmuschaos.io/v1alpha1/namespaces/shop/chaosresults?limit=500&fieldSelector=metadata.name=multi-pod-delete"
            ],
        ),
    ],
)
def test_pushdown_for_litmus_kinds(sql, wanted, litmus_env, kube_source, kube_session):
    """The list calls carry the filters (the apiserver's audit log says so); the answer is the
    same as without pushdown; Chaos Mesh's kinds are not listed when kind = 'ChaosEngine'."""
    session = kube_session(kube_source(litmus_env))
    session.execute(sql)  # discovery is done and cached
    session.execute("SET chaosql.pushdown = false")
    plain = session.execute(sql)
    session.execute("SET chaosql.pushdown = true")
    since = os.path.getsize(litmus_env.audit_log)
    pushed = session.execute(sql)
    assert sorted(pushed.rows()) == sorted(plain.rows()) and pushed.rows()
    primary = wanted[0].split("?")[0].rsplit("/", 1)[1]
    listed = [c for c in _audited_lists(litmus_env, since) if c.split("?")[0].endswith(primary)]
    assert listed == wanted
    assert not any("chaos-mesh.org" in c.what for c in pushed.calls)
    assert sum(c.items for c in pushed.calls) < sum(c.items for c in plain.calls)


def test_engine_picks_the_feeds(litmus_env, kube_source, kube_session):
    session = kube_session(kube_source(litmus_env))
    mesh = session.execute("SELECT name FROM experiments WHERE engine = 'chaos-mesh' AND namespace = 'shop'")
    assert sorted(r[0] for r in mesh.rows()) == sorted(CHAOS_MESH)
    assert _litmus_calls(mesh) == []
    litmus = session.execute("SELECT DISTINCT name FROM experiments WHERE engine = 'litmus' AND namespace = 'shop'")
    assert not any("chaos-mesh.org" in c.what for c in litmus.calls)
    assert len(litmus.rows()) == len(ENGINES)


def _audited_lists(env, since: int) -> list[str]:
    with open(env.audit_log, "rb") as log:
        log.seek(since)
        events = [json.loads(line) for line in log.read().splitlines() if line.strip()]
    return sorted(
        unquote_plus(e["requestURI"]) for e in events if e.get("userAgent") == "chaosql" and e["verb"] == "list"
    )


def test_the_watch_cache_keeps_litmus_rows_current(litmus_env, kube_source, kube_session):
    """A long-running chaosql's cache holds ChaosEngines and their ChaosResults: a new result,
    a changed one, a stopped engine and a deleted one reach the rows as a live list sees them."""
    from test_kube_cache import merge_patch, same_soon

    from chaosql.sources.kube import KubeSource

    env, ns = litmus_env, "cache-lit"
    env.create_namespace(ns)
    cached = KubeSource(context="admin", kubeconfig=env.kubeconfig, name="lit")
    cached.enable_cache()
    warm, live = kube_session(cached), kube_session(kube_source(env))
    sql = f"SELECT name, action, phase, verdict, paused FROM experiments WHERE engine = 'litmus' AND namespace = '{ns}'"
    targets = f"SELECT experiment, pod, phase FROM targets WHERE namespace = '{ns}'"
    try:
        engine = seed_litmus.put(
            env,
            seed_litmus.engine_object(ns, "cached", "active", "initialized", [("pod-delete", "Running", "Awaited")]),
        )
        assert same_soon(warm, live, sql) == [("'cached'", "'pod-delete'", "'running'", "'Awaited'", "False")]
        result = seed_litmus.put(
            env,
            seed_litmus.result_object(
                ns,
                "cached",
                "pod-delete",
                engine["metadata"]["uid"],
                ("Running", "Awaited", "Awaited", 0, 0, 0, [("nginx-0", "injected")]),
            ),
        )
        same_soon(warm, live, targets)
        env.write_status(result, {**result["status"], "experimentStatus": {"phase": "Completed", "verdict": "Pass"}})
        assert same_soon(warm, live, sql) == [("'cached'", "'pod-delete'", "'finished'", "'Pass'", "False")]
        merge_patch(env, env.path(seed_litmus.LITMUS, "ChaosEngine", ns, "cached"), {"spec": {"engineState": "stop"}})
        assert same_soon(warm, live, sql) == [("'cached'", "'pod-delete'", "'finished'", "'Pass'", "True")]
    finally:
        for kind, name in (("ChaosEngine", "cached"), ("ChaosResult", "cached-pod-delete")):
            env.request("DELETE", env.path(seed_litmus.LITMUS, kind, ns, name), ok=(200, 202, 404))
    assert same_soon(warm, live, sql) == []
    assert all(c.what.startswith("cache ") for c in warm.execute(sql).calls)


def test_one_query_counts_all_three_engines(litmus_env, kube_source, kube_session, tmp_path):
    """Chaos Mesh and LitmusChaos on an apiserver, Chaosd on a real chaosd server: one table."""
    from chaosdenv import ChaosdEnvError, ChaosdTestEnv, build_chaosd

    from chaosql.sources.chaosd import ChaosdSource

    try:
        chaosd = ChaosdTestEnv("http", binary=build_chaosd(), workdir=tmp_path).start()
    except ChaosdEnvError as err:
        if os.environ.get("CHAOSQL_REQUIRE_CHAOSD") == "1" or os.environ.get("CI"):
            pytest.fail(f"no chaosd: {err}", pytrace=False)
        pytest.skip(f"no chaosd: {err}")
    try:
        with chaosd.httpx_client() as client:
            attack = {"action": "touch", "attackCmd": f"touch {tmp_path}/hit", "recoverCmd": f"rm -f {tmp_path}/hit"}
            assert client.post("/api/attack/user_defined", json=attack).status_code == 200
        machines = ChaosdSource([{"url": chaosd.base_url, "system_url": chaosd.system_url}], name="lab", retries=0)
        try:
            session = kube_session(kube_source(litmus_env), machines)
            counts = session.execute(
                "SELECT engine, phase, cluster, count(*) FROM experiments "
                "WHERE namespace = 'shop' OR engine = 'chaosd' GROUP BY ALL"
            ).rows()
        finally:
            machines.close()
    finally:
        chaosd.stop()
    expected = Counter(("litmus", phase, "lit") for phase, _ in EXPECTED.values())
    expected.update(("chaos-mesh", phase, "lit") for _, phase in CHAOS_MESH.values())
    got = {(engine, phase, cluster): n for engine, phase, cluster, n in counts}
    assert {key: n for key, n in got.items() if key[0] == "chaosd"} == {
        ("chaosd", "running", "lab"): 1
    }  # the Chaosd source is its cluster
    assert {key: n for key, n in got.items() if key[0] != "chaosd"} == expected
