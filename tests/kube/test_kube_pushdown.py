"""Pushdown against a real apiserver: fewer API calls and objects, never different answers.

Calls are read from the session's call log, which records every HTTP request the source sent
(path, query string, objects returned).
"""

from __future__ import annotations

import json
import os

import pytest
import seed


def _calls(result, cluster: str | None = None) -> list:
    return [c for c in result.calls if cluster is None or c.cluster == cluster]


def _experiment_calls(result) -> list:
    """Calls that listed experiment kinds (not the lookups a table joins with, e.g. Schedules)."""
    return [c for c in result.calls if c.what.split("?")[0].rsplit("/", 1)[1].endswith("chaos")]


def _objects(result) -> int:
    return sum(c.items for c in result.calls)


def _both(session, sql: str):
    """The result with pushdown, and the same query's rows without it."""
    session.execute("SET chaosql.pushdown = true")
    pushed = session.execute(sql)
    session.execute("SET chaosql.pushdown = false")
    plain = session.execute(sql)
    session.execute("SET chaosql.pushdown = true")
    assert sorted(pushed.rows(), key=repr) == sorted(plain.rows(), key=repr), sql
    assert _objects(pushed) < _objects(plain), sql
    return pushed, plain


def test_namespace_becomes_namespaced_list_calls(kube_env, kube_source, kube_session):
    session = kube_session(kube_source(kube_env))
    pushed, plain = _both(session, "SELECT kind, name, phase FROM experiments WHERE namespace IN ('shop', 'kinds')")
    paths = [c.what for c in pushed.calls]
    assert paths and all("/namespaces/shop/" in p or "/namespaces/kinds/" in p for p in paths)
    assert len(_experiment_calls(pushed)) == 2 * len(kube_env.kinds)  # one call per kind and namespace
    assert all("/namespaces/" not in c.what for c in plain.calls)


def test_kind_lists_only_that_resource(kube_env, kube_source, kube_session):
    session = kube_session(kube_source(kube_env))
    pushed, plain = _both(session, "SELECT namespace, name FROM experiments WHERE kind = 'NetworkChaos'")
    assert [c.what for c in _experiment_calls(pushed)] == ["GET /apis/chaos-mesh.org/v1alpha1/networkchaos?limit=500"]
    assert len([c for c in _experiment_calls(plain) if "(continued)" not in c.what]) == len(kube_env.kinds)


def test_name_becomes_a_field_selector(kube_env, kube_source, kube_session):
    session = kube_session(kube_source(kube_env))
    pushed, _ = _both(session, "SELECT kind, namespace FROM experiments WHERE name = 'networkchaos-probe'")
    assert pushed.rows() == [("NetworkChaos", "kinds")]
    assert all("fieldSelector=metadata.name=networkchaos-probe" in c.what for c in _experiment_calls(pushed))


def test_labels_become_a_label_selector(kube_env, kube_source, kube_session):
    session = kube_session(kube_source(kube_env))
    pushed, _ = _both(
        session, "SELECT name FROM experiments WHERE labels['batch'] IN ('b1', 'b2') AND kind = 'PodChaos'"
    )
    assert len(pushed.rows()) == len([i for i in range(seed.BULK_COUNT) if i % 4 in (1, 2)])
    assert [c.what.split("?")[1] for c in _experiment_calls(pushed)] == ["limit=500&labelSelector=batch in (b1,b2)"]


def test_event_columns_become_field_selectors(kube_env, kube_source, kube_session):
    session = kube_session(kube_source(kube_env))
    pushed, _ = _both(
        session,
        "SELECT object_name, message FROM events "
        "WHERE object_kind = 'PodChaos' AND reason = 'Applied' AND namespace = 'shop'",
    )
    assert len(pushed.rows()) > 0
    assert [c.what for c in pushed.calls] == [
        "GET /api/v1/namespaces/shop/events?limit=500&fieldSelector="
        "involvedObject.apiVersion=chaos-mesh.org/v1alpha1,involvedObject.kind=PodChaos,reason=Applied"
    ]


def test_pod_columns_become_field_selectors(kube_env, kube_source, kube_session):
    session = kube_session(kube_source(kube_env))
    pushed, _ = _both(session, f"SELECT namespace, name FROM pods WHERE node = '{seed.NODE_A}'")
    assert sorted(r[1] for r in pushed.rows()) == [seed.DAEMON[1], "web-0"]
    assert pushed.calls[0].what == f"GET /api/v1/pods?limit=500&fieldSelector=spec.nodeName={seed.NODE_A}"


def test_several_names_are_filtered_after_one_call(kube_env, kube_source, kube_session):
    session = kube_session(kube_source(kube_env))
    result = session.execute(
        "SELECT name FROM experiments WHERE kind = 'PodChaos' AND name IN ('bulk-0001', 'bulk-0002')"
    )
    assert sorted(result.rows()) == [("bulk-0001",), ("bulk-0002",)]
    assert "fieldSelector" not in _experiment_calls(result)[0].what


def test_more_than_a_page_is_fetched_in_pages(kube_env, kube_source, kube_session):
    session = kube_session(kube_source(kube_env))
    result = session.execute("SELECT count(*) FROM experiments WHERE namespace = 'bulk'")
    assert result.scalar() == seed.BULK_COUNT
    pages = [c for c in result.calls if "/namespaces/bulk/podchaos" in c.what]
    assert [c.items for c in pages] == [500, seed.BULK_COUNT - 500]
    assert "(continued)" in pages[1].what
    small = kube_session(kube_source(kube_env, page_size=100))
    result = small.execute("SELECT count(*) FROM experiments WHERE namespace = 'bulk' AND kind = 'PodChaos'")
    assert result.scalar() == seed.BULK_COUNT and len(_experiment_calls(result)) == 7


def test_two_apiservers_in_one_query(kube_env, kube_env2, kube_source, kube_session):
    c1, c2 = kube_source(kube_env), kube_source(kube_env2)
    session = kube_session(c1, c2)
    counts = dict(
        session.execute("SELECT cluster, count(*) FROM experiments WHERE namespace = 'shop' GROUP BY cluster").rows()
    )
    in_demo = sum(
        1
        for stem, items in kube_env.demo.items()
        if stem.endswith("chaos")
        for o in items
        if o["metadata"]["namespace"] == "shop"
    )
    assert counts == {"c1": in_demo, "c2": 5}
    # the second cluster has fewer CRDs: its kinds are discovered, and tables it lacks are just empty there
    assert c2.chaos_kinds("c2") == ["NetworkChaos", "PodChaos", "StressChaos"]
    assert session.execute("SELECT DISTINCT cluster FROM workflows").rows() in ([("c1",)], [])
    assert {c.cluster for c in session.execute("SELECT count(*) FROM workflows").calls} == {"c1"}


def test_cluster_picks_the_clusters_called(kube_env, kube_env2, kube_source, kube_session):
    session = kube_session(kube_source(kube_env), kube_source(kube_env2))
    pushed, plain = _both(session, "SELECT name FROM experiments WHERE cluster = 'c2'")
    assert len(pushed.rows()) == 5
    assert {c.cluster for c in pushed.calls} == {"c2"} and {c.cluster for c in plain.calls} == {"c1", "c2"}


def _audited_lists(env, since: int) -> list[str]:
    """Paths of the list requests chaosql sent, as the apiserver's audit log recorded them."""
    from urllib.parse import unquote

    with open(env.audit_log, "rb") as log:
        log.seek(since)
        events = [json.loads(line) for line in log.read().splitlines() if line.strip()]
    return sorted(unquote(e["requestURI"]) for e in events if e.get("userAgent") == "chaosql" and e["verb"] == "list")


def test_the_apiservers_audit_log_shows_pushdown_saves_calls(kube_env2, kube_source, kube_session):
    session = kube_session(kube_source(kube_env2))
    session.execute("SELECT count(*) FROM experiments")  # discovery is done and cached
    sql = "SELECT name FROM experiments WHERE kind = 'PodChaos' AND name = 'c2-kill-1'"
    calls = {}
    for pushdown in ("true", "false"):
        session.execute(f"SET chaosql.pushdown = {pushdown}")
        since = os.path.getsize(kube_env2.audit_log)
        result = session.execute(sql)
        assert result.rows() == [("c2-kill-1",)]
        calls[pushdown] = _audited_lists(kube_env2, since)
        assert calls[pushdown] == sorted(c.what.removeprefix("GET ").split(" ")[0] for c in result.calls)
    chaos = [c for c in calls["true"] if c.split("?")[0].endswith("chaos")]
    assert chaos == ["/apis/chaos-mesh.org/v1alpha1/podchaos?limit=500&fieldSelector=metadata.name=c2-kill-1"]
    assert len(calls["false"]) > len(calls["true"])


def test_joins_read_each_table_once_with_the_merged_pushdown(kube_env, kube_source, kube_session):
    session = kube_session(kube_source(kube_env))
    sql = (
        "SELECT e.kind, t.pod, t.node FROM experiments e JOIN targets t "
        "ON t.cluster = e.cluster AND t.namespace = e.namespace AND t.experiment = e.name "
        "WHERE e.namespace = 'kinds' AND t.namespace = 'kinds' AND e.kind = 'NetworkChaos' AND t.kind = 'NetworkChaos'"
    )
    pushed, _ = _both(session, sql)
    assert sorted(pushed.rows()) == [("NetworkChaos", "web-0", seed.NODE_A), ("NetworkChaos", "web-1", seed.NODE_B)]
    assert [c.what for c in _experiment_calls(pushed)] == [
        "GET /apis/chaos-mesh.org/v1alpha1/namespaces/kinds/networkchaos?limit=500"
    ] * 2


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT name, phase FROM experiments WHERE namespace = 'payments' AND labels['team'] = 'payments'",
        "SELECT name FROM schedules WHERE namespace = 'payments'",
        "SELECT name, state FROM workflows WHERE name = 'payments-gameday-serial'",
        "SELECT name, type FROM workflow_nodes WHERE namespace = 'payments'",
        "SELECT name, type FROM nodes WHERE type = 'physical_machine'",
        "SELECT target_id, node FROM targets WHERE kind = 'NetworkChaos' AND namespace = 'shop'",
    ],
)
def test_pushdown_never_changes_an_answer(sql, kube_env, kube_source, kube_session):
    session = kube_session(kube_source(kube_env))
    session.execute("SET chaosql.pushdown = false")
    plain = session.execute(sql)
    session.execute("SET chaosql.pushdown = true")
    pushed = session.execute(sql)
    assert sorted(pushed.rows(), key=repr) == sorted(plain.rows(), key=repr)
    assert _objects(pushed) <= _objects(plain)


def test_a_limit_with_nothing_above_the_scan_lists_only_that_many(kube_env, kube_source, kube_session):
    session = kube_session(kube_source(kube_env))
    base = "SELECT name FROM experiments WHERE namespace = 'bulk' AND kind = 'PodChaos'"
    limited = session.execute(f"{base} LIMIT 7 OFFSET 3")
    assert len(limited.rows()) == 7
    [call] = _experiment_calls(limited)
    assert call.what == "GET /apis/chaos-mesh.org/v1alpha1/namespaces/bulk/podchaos?limit=10" and call.items == 10
    assert set(limited.rows()) <= set(session.execute(base).rows())
    # a filter or an order above the scan needs every object: no limit goes down
    for sql in (
        f"{base} AND phase = 'running' LIMIT 7",
        f"{base} ORDER BY name LIMIT 7",
        "SELECT experiment FROM targets WHERE namespace = 'bulk' LIMIT 7",
        f"SELECT count(*) FROM ({base} LIMIT 7)",
    ):
        calls = _experiment_calls(session.execute(sql))
        assert all("limit=500" in c.what for c in calls) and sum(c.items for c in calls) >= seed.BULK_COUNT, sql


def test_a_limit_above_a_pivot_or_a_sample_lists_everything(kube_env, kube_source, kube_session):
    """PIVOT groups, a sample draws from and unnest() multiplies every row before the LIMIT: a list
    call cut to the limit would count only a few objects, or return fewer rows than asked."""
    session = kube_session(kube_source(kube_env))
    pivot = session.execute(
        "SELECT * FROM experiments PIVOT (count(*) FOR kind IN ('PodChaos') GROUP BY namespace) "
        "WHERE namespace = 'bulk' LIMIT 1"
    )
    assert pivot.rows() == [("bulk", seed.BULK_COUNT)]
    sampled = session.execute(
        "SELECT name FROM experiments WHERE namespace = 'bulk' USING SAMPLE 50% (bernoulli, 3) LIMIT 100"
    )
    assert len(sampled.rows()) == 100
    sampled = session.execute("SELECT name FROM experiments TABLESAMPLE reservoir(200 ROWS) REPEATABLE (5) LIMIT 150")
    assert len(sampled.rows()) == 150
    # unnest() makes no row of an empty list: only the last object gives one
    last = f"bulk-{seed.BULK_COUNT - 1:04d}"
    unnested = session.execute(
        f"SELECT unnest(CASE WHEN name = '{last}' THEN [name] ELSE [] END) FROM experiments "
        "WHERE namespace = 'bulk' LIMIT 1"
    )
    assert unnested.rows() == [(last,)]
