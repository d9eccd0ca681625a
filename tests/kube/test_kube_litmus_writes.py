"""Writes of LitmusChaos rows against a real kube-apiserver with its CRDs: INSERT creates a
ChaosEngine (checked against its CRD offline, dry-run first), SET paused stops and restarts it,
DELETE deletes it; a statement that would leave a cluster half-written changes nothing.

Each test writes in a namespace of its own in ``litmus_env``; what the apiserver was asked is read
from its audit log (tests/writes_support.py).
"""

from __future__ import annotations

import itertools
import json

import pytest
from seed_litmus import LITMUS, engine_object, put
from writes_support import audit_offset, audit_writes

from chaosql.errors import WriteFailed, WriteRefused

_names = itertools.count(1)
APP = json.dumps({"appns": "shop", "applabel": "app=nginx", "appkind": "deployment"})


@pytest.fixture
def ns(litmus_env) -> str:
    name = f"lw{next(_names)}"
    litmus_env.create_namespace(name)
    return name


@pytest.fixture
def session(litmus_env, kube_source, kube_session):
    return kube_session(kube_source(litmus_env))


def engines(env, ns: str) -> dict[str, dict]:
    """name -> ChaosEngine, straight from the API."""
    return {o["metadata"]["name"]: o for o in env.list(LITMUS, "ChaosEngine", ns)["items"]}


def calls(env, since: int, at_least: int = 0) -> list[tuple[str, str, bool]]:
    """(verb, resource, dry run) of chaosql's write calls since ``since``."""
    return [
        (e["verb"], e["objectRef"]["resource"], "dryRun=All" in e["requestURI"])
        for e in audit_writes(env, since, at_least=at_least)
    ]


def test_insert_creates_a_chaos_engine_after_a_dry_run(litmus_env, ns, session):
    since = audit_offset(litmus_env)
    result = session.execute(
        "INSERT INTO experiments (namespace, name, kind, action, selector, duration, labels) "
        f"VALUES ('{ns}', 'web-delete', 'ChaosEngine', 'pod-delete', '{APP}', '90s', MAP {{'team': 'web'}}) "
        "RETURNING engine, kind, action, phase, paused, duration"
    )
    assert result.status == "INSERT 0 1"
    assert result.rows() == [("litmus", "ChaosEngine", "pod-delete", "injecting", False, "90s")]
    assert calls(litmus_env, since, at_least=2) == [("create", "chaosengines", True), ("create", "chaosengines", False)]
    spec = engines(litmus_env, ns)["web-delete"]["spec"]
    assert spec["engineState"] == "active"
    assert spec["appinfo"] == json.loads(APP)
    assert spec["experiments"] == [
        {"name": "pod-delete", "spec": {"components": {"env": [{"name": "TOTAL_CHAOS_DURATION", "value": "90"}]}}}
    ]
    row = session.execute(f"SELECT action, phase, labels['team'] FROM experiments WHERE namespace = '{ns}'").rows()
    assert row == [("pod-delete", "injecting", "web")]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            f"'pod-delete', '{APP.replace('deployment', 'deploy')}', NULL",
            "column selector: 'deploy' does not match the pattern",
        ),
        ("'pod-delete', NULL, 'one'", "mode is Chaos Mesh's (spec.mode); a ChaosEngine has none"),
        ("NULL, NULL, NULL", "a ChaosEngine needs an experiment to run"),
    ],
)
def test_an_insert_the_crd_or_chaosql_refuses_makes_no_call(litmus_env, ns, session, values, message):
    since = audit_offset(litmus_env)
    with pytest.raises(WriteRefused) as refused:
        session.execute(
            f"INSERT INTO experiments (namespace, name, kind, action, selector, mode) "
            f"VALUES ('{ns}', 'bad', 'ChaosEngine', {values})"
        )
    assert message in str(refused.value) and "nothing was written" in str(refused.value)
    assert calls(litmus_env, since) == []
    assert engines(litmus_env, ns) == {}


def test_set_paused_stops_and_restarts_the_engine(litmus_env, ns, session):
    put(litmus_env, engine_object(ns, "cpu", "active", "initialized", [("pod-cpu-hog", "Running", "Awaited")]))
    since = audit_offset(litmus_env)
    result = session.execute(
        f"UPDATE experiments SET paused = true WHERE namespace = '{ns}' AND name = 'cpu' RETURNING paused, phase"
    )
    assert result.status == "UPDATE 1" and result.rows() == [(True, "paused")]
    assert engines(litmus_env, ns)["cpu"]["spec"]["engineState"] == "stop"
    assert calls(litmus_env, since, at_least=2) == [("patch", "chaosengines", True), ("patch", "chaosengines", False)]
    again = session.execute(f"UPDATE experiments SET paused = true WHERE namespace = '{ns}'")
    assert again.status == "UPDATE 0"  # already stopped: nothing sent
    session.execute(f"UPDATE experiments SET paused = false WHERE namespace = '{ns}'")
    assert engines(litmus_env, ns)["cpu"]["spec"]["engineState"] == "active"


def test_an_engine_of_several_runs_changes_only_when_all_are_selected(litmus_env, ns, session):
    runs = [("pod-delete", "Running", "Awaited"), ("container-kill", None, None)]
    put(litmus_env, engine_object(ns, "multi", "active", "initialized", runs))
    since = audit_offset(litmus_env)
    for sql in (
        f"UPDATE experiments SET paused = true WHERE namespace = '{ns}' AND action = 'pod-delete'",
        f"DELETE FROM experiments WHERE namespace = '{ns}' AND action = 'container-kill'",
    ):
        with pytest.raises(WriteRefused, match="makes 2 rows \\(pod-delete, container-kill\\) and the WHERE selects 1"):
            session.execute(sql)
    with pytest.raises(WriteRefused, match="sets different values on the rows of ChaosEngine"):
        session.execute(f"UPDATE experiments SET paused = (action = 'pod-delete') WHERE namespace = '{ns}'")
    assert calls(litmus_env, since) == []
    result = session.execute(f"DELETE FROM experiments WHERE namespace = '{ns}' AND name = 'multi'")
    assert result.status == "DELETE 1"
    assert calls(litmus_env, since, at_least=2) == [("delete", "chaosengines", True), ("delete", "chaosengines", False)]
    assert engines(litmus_env, ns) == {}


@pytest.mark.parametrize("sets", ["duration = '2m'", "action = 'pod-cpu-hog'", "spec = '{}'"])
def test_a_spec_change_of_an_engine_is_refused_in_litmus_terms(litmus_env, ns, session, sets):
    put(litmus_env, engine_object(ns, "fixed", "active", "initialized", [("pod-delete", "Running", "Awaited")]))
    since = audit_offset(litmus_env)
    with pytest.raises(WriteRefused) as refused:
        session.execute(f"UPDATE experiments SET {sets} WHERE namespace = '{ns}'")
    message = str(refused.value)
    assert "spec cannot change after creation (LitmusChaos: the chaos-operator reads" in message
    assert "Chaos Mesh" not in message  # not another engine's webhook
    assert message.endswith("use DELETE, then INSERT")
    assert calls(litmus_env, since) == []
    assert engines(litmus_env, ns)["fixed"]["spec"]["experiments"][0]["name"] == "pod-delete"


def test_one_statement_over_both_engines_is_all_or_nothing(litmus_env, ns, session):
    """The second row's dry run fails (its ChaosEngine exists): the PodChaos of the first row is
    not created either."""
    put(litmus_env, engine_object(ns, "taken", "active", "initialized", [("pod-delete", None, None)]))
    selector = json.dumps({"namespaces": [ns], "labelSelectors": {"app": "nginx"}})
    since = audit_offset(litmus_env)
    with pytest.raises(WriteRefused, match="INSERT refused for row 2 \\(ChaosEngine .*/taken\\).*already exists"):
        session.execute(
            "INSERT INTO experiments (namespace, name, kind, action, mode, selector) VALUES "
            f"('{ns}', 'mesh-kill', 'PodChaos', 'pod-kill', 'one', '{selector}'), "
            f"('{ns}', 'taken', 'ChaosEngine', 'pod-delete', NULL, '{APP}')"
        )
    assert all(dry for _, _, dry in calls(litmus_env, since))  # dry runs only
    assert session.execute(f"SELECT engine, name FROM experiments WHERE namespace = '{ns}'").rows() == [
        ("litmus", "taken")
    ]
    both = session.execute(
        "INSERT INTO experiments (namespace, name, kind, action, mode, selector) VALUES "
        f"('{ns}', 'mesh-kill', 'PodChaos', 'pod-kill', 'one', '{selector}'), "
        f"('{ns}', 'fresh', 'ChaosEngine', 'pod-delete', NULL, '{APP}')"
    )
    assert both.status == "INSERT 0 2"
    counts = session.execute(f"SELECT engine, count(*) FROM experiments WHERE namespace = '{ns}' GROUP BY ALL")
    assert dict(counts.rows()) == {"litmus": 2, "chaos-mesh": 1}


def test_a_failure_while_applying_deletes_the_engines_the_statement_created(litmus_env, ns, session):
    def someone_else_takes_row_3(index, op):
        if index == 2:  # between the dry runs and the apply, another client creates the third
            put(litmus_env, engine_object(ns, "e3", "active", "initialized", [("pod-delete", None, None)]))

    session.writer.before_apply = someone_else_takes_row_3
    with pytest.raises(WriteFailed) as failed:
        session.execute(
            "INSERT INTO experiments (namespace, name, kind, action, selector) VALUES "
            + ", ".join(f"('{ns}', 'e{i}', 'ChaosEngine', 'pod-delete', '{APP}')" for i in range(1, 5))
        )
    message = str(failed.value)
    assert message.startswith(f"experiments: INSERT failed at row 3 of 4 (ChaosEngine lit/{ns}/e3): conflict (409)")
    assert f"rolled back: deleted lit/{ns}/e1 again, deleted lit/{ns}/e2 again" in message
    assert sorted(engines(litmus_env, ns)) == ["e3"]  # the other client's, untouched


def test_a_failed_stop_restarts_the_engines_it_had_stopped(litmus_env, ns, session):
    for name in ("a", "b", "c"):
        put(litmus_env, engine_object(ns, name, "active", "initialized", [("pod-delete", "Running", "Awaited")]))

    def fail_third(index, op):
        if index == 2:
            raise WriteRefused("injected")

    session.writer.before_apply = fail_third
    with pytest.raises(WriteFailed) as failed:
        session.execute(f"UPDATE experiments SET paused = true WHERE namespace = '{ns}'")
    assert sorted(failed.value.details) == [f"rolled back: restored lit/{ns}/a", f"rolled back: restored lit/{ns}/b"]
    assert {name: e["spec"]["engineState"] for name, e in engines(litmus_env, ns).items()} == {
        "a": "active",
        "b": "active",
        "c": "active",
    }


def test_an_invalid_spec_is_refused_offline_with_the_field_named(litmus_env, ns, session):
    since = audit_offset(litmus_env)
    spec = json.dumps({"experiments": [{"name": "pod-delete"}], "engineState": "paused", "appinfo": json.loads(APP)})
    with pytest.raises(WriteRefused) as refused:
        session.execute(
            f"INSERT INTO experiments (namespace, name, kind, spec) VALUES ('{ns}', 'odd', 'ChaosEngine', '{spec}')"
        )
    message = str(refused.value)
    assert f"row 1 (ChaosEngine {ns}/odd): column paused" in message and "'paused' does not match" in message
    assert message.endswith("nothing was written")
    assert calls(litmus_env, since) == [] and engines(litmus_env, ns) == {}


def test_a_forced_delete_clears_the_operators_finalizer(litmus_env, ns, session):
    held = engine_object(ns, "held", "active", "initialized", [("pod-delete", "Running", "Awaited")])
    held["metadata"]["finalizers"] = ["chaosengine.litmuschaos.io/finalizer"]
    put(litmus_env, held)
    assert session.execute(f"DELETE FROM experiments WHERE namespace = '{ns}'").status == "DELETE 1"
    assert engines(litmus_env, ns)["held"]["metadata"]["deletionTimestamp"]  # the operator cleans up first
    assert session.execute(f"SELECT phase FROM experiments WHERE namespace = '{ns}'").scalar() == "deleting"
    session.execute("SET chaosql.force_delete = true")
    assert session.execute(f"DELETE FROM experiments WHERE namespace = '{ns}'").status == "DELETE 1"
    assert engines(litmus_env, ns) == {}


def test_writes_on_a_cluster_with_only_litmus(litmus_only_env, kube_source, kube_session):
    """No Chaos Mesh CRDs: ChaosEngines are written against the cluster's own CRD; a Chaos Mesh
    kind is refused by name. What the test creates it deletes (other tests count this cluster)."""
    session = kube_session(kube_source(litmus_only_env))
    ns = f"lw{next(_names)}"
    litmus_only_env.create_namespace(ns)
    created = session.execute(
        "INSERT INTO experiments (namespace, name, kind, action, selector) "
        f"VALUES ('{ns}', 'solo', 'ChaosEngine', 'pod-delete', '{APP}') RETURNING engine, cluster"
    )
    assert created.rows() == [("litmus", "litonly")]
    session.execute(f"UPDATE experiments SET paused = true WHERE namespace = '{ns}'")
    assert engines(litmus_only_env, ns)["solo"]["spec"]["engineState"] == "stop"
    with pytest.raises(WriteRefused, match="PodChaos"):
        session.execute(
            "INSERT INTO experiments (namespace, name, kind, action, mode, selector) "
            f"VALUES ('{ns}', 'mesh', 'PodChaos', 'pod-kill', 'one', '{{}}')"
        )
    assert session.execute(f"DELETE FROM experiments WHERE namespace = '{ns}'").status == "DELETE 1"
    assert engines(litmus_only_env, ns) == {}


def test_insert_select_copies_an_engine_of_several_runs_once(litmus_env, ns, session):
    runs = [("pod-delete", None, None), ("container-kill", None, None)]
    put(litmus_env, engine_object(ns, "multi", "active", "initialized", runs))
    copy = "INSERT INTO experiments (namespace, name, kind, spec) SELECT {} namespace, name || '-copy', kind, spec "
    copy += f"FROM experiments WHERE namespace = '{ns}'"
    with pytest.raises(WriteRefused, match="rows 1 and 2 both create ChaosEngine .*/multi-copy") as refused:
        session.execute(copy.format(""))  # one row per run: the same engine twice
    assert "SELECT DISTINCT creates it once" in (refused.value.hint or "")
    assert session.execute(copy.format("DISTINCT")).status == "INSERT 0 1"
    found = engines(litmus_env, ns)
    assert [e["name"] for e in found["multi-copy"]["spec"]["experiments"]] == ["pod-delete", "container-kill"]
    assert found["multi-copy"]["spec"]["appinfo"] == found["multi"]["spec"]["appinfo"]
