"""The typed chaos tables against a real kube-apiserver with Chaos Mesh's CRDs: typed INSERTs create
the same objects as the JSON spec form, typed reads equal the JSON-path answers, UPDATE changes what
Chaos Mesh lets change, bad rows are refused before any call, and a cluster whose CRD has more
fields than the shipped one shows them as columns. Objects are read back through the API (never
through chaosql); the audit log shows which calls were made."""

from __future__ import annotations

import copy
import json
import time

import pytest
from kubeenv import CHAOS_API_VERSION
from writes_support import audit_offset, audit_writes, chaos_objects

from chaosql.errors import WriteRefused

pytestmark = pytest.mark.kube

CRD_API = "apiextensions.k8s.io/v1"


def seconds(interval) -> float:
    """An INTERVAL as a result holds it (Arrow's MonthDayNano), in seconds."""
    return interval.days * 86400 + interval.nanoseconds / 1e9


def test_typed_insert_creates_the_same_object_as_the_json_spec_form(write_env, ns, session_as):
    session = session_as()
    result = session.execute(f"""
        INSERT INTO network_chaos (namespace, name, action, mode, selector_namespaces, selector_label_selectors,
                                   delay_latency, delay_jitter, delay_correlation, direction, duration, labels)
        VALUES ('{ns}', 'typed', 'delay', 'all', ['{ns}'], MAP {{'app': 'db'}}, '100ms', INTERVAL '5 milliseconds',
                25, 'to', INTERVAL 5 MINUTE, MAP {{'team': 'net'}})
        RETURNING name, uid, delay_latency, delay_correlation, duration, labels['team'] AS team""")
    spec = {
        "action": "delay",
        "mode": "all",
        "selector": {"namespaces": [ns], "labelSelectors": {"app": "db"}},
        "delay": {"latency": "100ms", "jitter": "5ms", "correlation": "25"},
        "direction": "to",
        "duration": "5m",
    }
    session.execute(
        f"INSERT INTO experiments (namespace, name, kind, spec, labels) "
        f"VALUES ('{ns}', 'json', 'NetworkChaos', '{json.dumps(spec)}', MAP {{'team': 'net'}})"
    )
    found = chaos_objects(write_env, ns, "NetworkChaos")
    assert found["typed"]["spec"] == found["json"]["spec"] == spec
    assert found["typed"]["metadata"]["labels"] == found["json"]["metadata"]["labels"] == {"team": "net"}
    (row,) = result.dicts()
    assert row["uid"] == found["typed"]["metadata"]["uid"]  # RETURNING shapes what the server returned
    assert seconds(row["delay_latency"]) == 0.1 and row["delay_correlation"] == 25.0
    assert seconds(row["duration"]) == 300 and row["team"] == "net"


def test_typed_reads_equal_the_json_path_answers(write_env, ns, session_as):
    objects = {
        "cpu": ("StressChaos", {"mode": "one", "selector": {"namespaces": [ns]}, "duration": "90s",
                                "stressors": {"cpu": {"workers": 3, "load": 40}, "memory": {"workers": 1, "size": "256MB"}}}),
        "io": ("IOChaos", {"action": "latency", "mode": "fixed-percent", "value": "50", "selector": {"namespaces": [ns]},
                           "volumePath": "/data", "delay": "1.5s", "percent": 20, "methods": ["READ", "WRITE"]}),
        "loss": ("NetworkChaos", {"action": "loss", "mode": "all", "selector": {"pods": {ns: ["a", "b"]}},
                                  "loss": {"loss": "12.5", "correlation": "0"}, "duration": "1h30m"}),
    }  # fmt: skip
    for name, (kind, spec) in objects.items():
        write_env.create(
            {"apiVersion": CHAOS_API_VERSION, "kind": kind, "metadata": {"name": name, "namespace": ns}, "spec": spec}
        )
    session = session_as()
    cpu = session.execute(
        "SELECT stressors_cpu_workers, stressors_cpu_load, stressors_memory_size, duration, selector_namespaces "
        f"FROM stress_chaos WHERE namespace = '{ns}'"
    ).rows()
    assert [(w, load, size, seconds(d), sel) for w, load, size, d, sel in cpu] == [(3, 40, "256MB", 90, [ns])]
    io = session.execute(f"SELECT delay, percent, methods, mode, value FROM io_chaos WHERE namespace = '{ns}'").rows()
    assert [(seconds(d), *rest) for d, *rest in io] == [(1.5, 20, ["READ", "WRITE"], "fixed-percent", "50")]
    typed = session.execute(
        f"SELECT loss_loss, loss_correlation, epoch(duration), selector_pods['{ns}'] FROM network_chaos "
        f"WHERE namespace = '{ns}'"
    ).rows()
    by_path = session.execute(
        "SELECT CAST(spec->>'$.loss.loss' AS DOUBLE), CAST(spec->>'$.loss.correlation' AS DOUBLE), "
        f"spec->>'$.duration', json_extract(spec, '$.selector.pods.\"{ns}\"') FROM experiments "
        f"WHERE namespace = '{ns}' AND kind = 'NetworkChaos'"
    ).rows()
    assert typed == [(12.5, 0.0, 5400.0, ["a", "b"])]
    assert by_path[0][:2] == typed[0][:2] and by_path[0][2] == "1h30m" and json.loads(by_path[0][3]) == ["a", "b"]


def test_update_changes_what_chaos_mesh_allows(write_env, ns, session_as):
    session = session_as()
    session.execute(f"""
        INSERT INTO network_chaos (namespace, name, action, mode, selector_namespaces, delay_latency)
        VALUES ('{ns}', 'd', 'delay', 'one', ['{ns}'], '10ms')""")
    session.execute(f"""
        INSERT INTO network_chaos_schedules (namespace, name, schedule, action, mode, selector_namespaces,
                                             delay_latency, duration)
        VALUES ('{ns}', 's', '@every 1h', 'delay', 'all', ['{ns}'], '10ms', '1m')""")
    changed = session.execute(
        f"UPDATE network_chaos SET paused = true, labels = MAP {{'owner': 'sre'}} WHERE namespace = '{ns}' "
        "RETURNING name, paused, labels['owner']"
    )
    assert changed.rows() == [("d", True, "sre")]
    experiment = chaos_objects(write_env, ns, "NetworkChaos")["d"]
    assert experiment["metadata"]["annotations"] == {"experiment.chaos-mesh.org/pause": "true"}
    since = audit_offset(write_env)
    with pytest.raises(WriteRefused, match="spec cannot change after creation .*SET delay_latency"):
        session.execute(f"UPDATE network_chaos SET delay_latency = '20ms' WHERE namespace = '{ns}'")
    assert audit_writes(write_env, since) == []
    session.execute("UPDATE network_chaos_schedules SET delay_latency = '250ms', duration = NULL WHERE name = 's'")
    schedule = chaos_objects(write_env, ns, "Schedule")["s"]
    assert schedule["spec"]["type"] == "NetworkChaos"
    assert schedule["spec"]["networkChaos"]["delay"] == {"latency": "250ms"}
    assert "duration" not in schedule["spec"]["networkChaos"]
    assert experiment["spec"] == chaos_objects(write_env, ns, "NetworkChaos")["d"]["spec"]  # untouched


BAD_ROWS = {
    "bad type": ("INSERT INTO stress_chaos (namespace, name, mode, selector_namespaces, stressors_cpu_workers) "
                 "VALUES ('{ns}', 'x', 'one', ['{ns}'], 'many')", "column stressors_cpu_workers: expected an integer"),
    "bad enum": ("INSERT INTO network_chaos (namespace, name, action, mode, selector_namespaces) "
                 "VALUES ('{ns}', 'x', 'delay', 'sometimes', ['{ns}'])", "column mode: 'sometimes' is not allowed; one of: one, all,"),
    "bad duration": ("INSERT INTO experiments (namespace, name, kind, action, mode, selector, duration) VALUES "
                     "('{ns}', 'x', 'PodChaos', 'pod-failure', 'one', '{{\"namespaces\": [\"{ns}\"]}}', 'banana')",
                     "column duration: 'banana' is not a duration"),
    "missing required": ("INSERT INTO pod_chaos (namespace, name, mode, selector_namespaces) "
                         "VALUES ('{ns}', 'x', 'one', ['{ns}'])", "column action is required"),
    "percent out of range": ("INSERT INTO pod_chaos (namespace, name, action, mode, value, selector_namespaces) "
                             "VALUES ('{ns}', 'x', 'pod-kill', 'random-max-percent', '0', ['{ns}'])",
                             "column value: mode random-max-percent needs a percent in (0, 100], got 0"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD_ROWS))
def test_bad_rows_are_refused_offline_with_the_column_named_and_no_call(write_env, ns, session_as, case):
    sql, expected = BAD_ROWS[case]
    session = session_as()
    since = audit_offset(write_env)
    with pytest.raises(WriteRefused) as refused:
        session.execute(sql.format(ns=ns))
    assert expected in str(refused.value) and str(refused.value).endswith("nothing was written")
    assert audit_writes(write_env, since) == []  # not even a dry run went out: nothing was created


@pytest.fixture
def newer_network_chaos_crd(write_env):
    """The cluster's NetworkChaos CRD with two fields a newer Chaos Mesh might add; put back after."""
    name = "networkchaos.chaos-mesh.org"
    original = write_env.get(CRD_API, "CustomResourceDefinition", name)
    newer = copy.deepcopy(original)
    spec = newer["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
    spec["probeCount"] = {"type": "integer", "description": "ProbeCount is a field only this cluster's CRD has."}
    spec["probe"] = {
        "type": "object",
        "properties": {"interval": {"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?(ns|us|ms|s|m|h)$"}},
    }
    write_env.update(newer)
    time.sleep(1.0)  # the apiserver rebuilds the resource's handler from the new schema
    yield
    current = write_env.get(CRD_API, "CustomResourceDefinition", name)
    current["spec"] = original["spec"]
    write_env.update(current)
    time.sleep(1.0)


def test_a_newer_crd_in_the_cluster_brings_its_fields_as_columns(write_env, ns, session_as, newer_network_chaos_crd):
    session = session_as()
    describe = session.execute("DESCRIBE network_chaos")
    # the cluster's own CRD was read for it (once: the source keeps it a minute)
    assert [c.what for c in describe.calls] == [
        "GET /apis/apiextensions.k8s.io/v1/customresourcedefinitions/networkchaos.chaos-mesh.org"
    ]
    described = {r[0]: r for r in describe.rows()}
    assert described["probe_count"][1] == "BIGINT" and "only this cluster's CRD" in described["probe_count"][3]
    assert described["probe_interval"][1] == "INTERVAL"
    assert described["delay_latency"][1] == "INTERVAL"  # the shipped columns are all still there
    session.execute(f"""
        INSERT INTO network_chaos (namespace, name, action, mode, selector_namespaces, delay_latency,
                                   probe_count, probe_interval)
        VALUES ('{ns}', 'new', 'delay', 'one', ['{ns}'], '1ms', 3, '30s')""")
    stored = chaos_objects(write_env, ns, "NetworkChaos")["new"]["spec"]
    assert stored["probeCount"] == 3 and stored["probe"] == {"interval": "30s"}
    rows = session.execute(f"SELECT probe_count, epoch(probe_interval) FROM network_chaos WHERE namespace = '{ns}'")
    assert rows.rows() == [(3, 30.0)]
    with pytest.raises(WriteRefused, match="column probe_interval: '1m30s' does not match the pattern"):
        session.execute(f"""INSERT INTO network_chaos (namespace, name, action, mode, selector_namespaces,
                                                       delay_latency, spec) VALUES ('{ns}', 'bad', 'delay', 'one',
                            ['{ns}'], '1ms', '{{"probe": {{"interval": "1m30s"}}}}')""")
    from chaosql.tables import registry

    assert registry()["network_chaos"].column("probe_count") is None  # the shipped table is unchanged


def test_the_clusters_crd_checks_json_specs_too(write_env, ns, session_as, newer_network_chaos_crd):
    session = session_as()
    spec = {"action": "delay", "mode": "one", "selector": {"namespaces": [ns]}, "delay": {"latency": "1ms"}}
    session.execute(
        f"INSERT INTO experiments (namespace, name, kind, spec) "
        f"VALUES ('{ns}', 'j', 'NetworkChaos', '{json.dumps({**spec, 'probeCount': 2})}')"
    )
    assert chaos_objects(write_env, ns, "NetworkChaos")["j"]["spec"]["probeCount"] == 2
    with pytest.raises(WriteRefused, match=r"column spec: expected an integer, got 'two' \(at probeCount\)"):
        session.execute(
            f"INSERT INTO experiments (namespace, name, kind, spec) "
            f"VALUES ('{ns}', 'k', 'NetworkChaos', '{json.dumps({**spec, 'probeCount': 'two'})}')"
        )


def test_limit_on_a_kinds_schedules_still_finds_them_among_other_schedules(write_env, ns, session_as):
    """Schedules of other types make no row of network_chaos_schedules, so its LIMIT must not go
    down to the list call (which returns objects in name order: the PodChaos ones first)."""
    for name in ("a1", "a2", "a3"):
        write_env.create(
            {
                "apiVersion": CHAOS_API_VERSION,
                "kind": "Schedule",
                "metadata": {"name": name, "namespace": ns},
                "spec": {"schedule": "@daily", "type": "PodChaos", "podChaos": {"action": "pod-kill", "mode": "one",
                         "selector": {"namespaces": [ns]}}},
            }
        )  # fmt: skip
    session = session_as()
    session.execute(f"""INSERT INTO network_chaos_schedules (namespace, name, schedule, action, mode,
                        selector_namespaces, loss_loss) VALUES ('{ns}', 'z-loss', '@daily', 'loss', 'all', ['{ns}'], 5)""")
    assert session.execute(f"SELECT name FROM network_chaos_schedules WHERE namespace = '{ns}' LIMIT 1").rows() == [
        ("z-loss",)
    ]
    assert session.execute(f"SELECT name FROM pod_chaos_schedules WHERE namespace = '{ns}' LIMIT 2").rows() == [
        ("a1",),
        ("a2",),
    ]
