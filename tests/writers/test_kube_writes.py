"""SQL writes against a real kube-apiserver with Chaos Mesh's CRDs: every statement form, checked by
reading the objects back through the API (never through chaosql), plus the safety rules: dry-run
validation, rollback, conflicts, EXPLAIN, RBAC and confirmation."""

from __future__ import annotations

import json

import pytest
from kubeenv import CHAOS_API_VERSION
from writes_support import audit_offset, audit_writes, chaos_objects

from chaosql.errors import Forbidden, WriteCancelled, WriteFailed, WriteRefused

pytestmark = pytest.mark.kube

PAUSE = "experiment.chaos-mesh.org/pause"


def sel(ns: str) -> str:
    return json.dumps({"namespaces": [ns]})


def test_insert_values_creates_objects_of_several_kinds_and_returns_server_values(write_env, ns, session_as):
    session = session_as()
    result = session.execute(f"""
        INSERT INTO experiments (namespace, name, kind, action, mode, selector, duration, labels, spec)
        VALUES ('{ns}', 'kill', 'PodChaos', 'pod-kill', 'one', '{sel(ns)}', NULL, MAP {{'team': 'shop'}}, NULL),
               ('{ns}', 'delay', 'NetworkChaos', 'delay', 'all', '{sel(ns)}', '5m', NULL,
                '{{"delay": {{"latency": "100ms"}}, "direction": "to"}}'),
               ('{ns}', 'cpu', 'StressChaos', NULL, 'one', '{sel(ns)}', '1m', NULL,
                {{'stressors': {{'cpu': {{'workers': 1, 'load': 50}}}}}})
        RETURNING kind, name, uid, created_at, labels, duration_seconds""")
    assert result.status == "INSERT 0 3"
    rows = {r["name"]: r for r in result.dicts()}
    kill = chaos_objects(write_env, ns, "PodChaos")["kill"]
    delay = chaos_objects(write_env, ns, "NetworkChaos")["delay"]
    cpu = chaos_objects(write_env, ns, "StressChaos")["cpu"]
    assert kill["spec"] == {"action": "pod-kill", "mode": "one", "selector": {"namespaces": [ns]}}
    assert kill["metadata"]["labels"] == {"team": "shop"}
    assert delay["spec"]["delay"]["latency"] == "100ms" and delay["spec"]["duration"] == "5m"
    assert cpu["spec"]["stressors"] == {"cpu": {"workers": 1, "load": 50}}
    for name, obj in (("kill", kill), ("delay", delay), ("cpu", cpu)):
        assert rows[name]["uid"] == obj["metadata"]["uid"]  # the server's values, not the statement's
        assert rows[name]["created_at"].strftime("%Y-%m-%dT%H:%M:%SZ") == obj["metadata"]["creationTimestamp"]
    assert rows["delay"]["duration_seconds"] == 300.0


def test_insert_select_copies_rows_read_from_virtual_tables(write_env, ns, session_as):
    session = session_as()
    session.execute(f"""INSERT INTO experiments (namespace, name, kind, action, mode, selector)
                        VALUES ('{ns}', 'a', 'PodChaos', 'pod-kill', 'one', '{sel(ns)}'),
                               ('{ns}', 'b', 'PodChaos', 'pod-failure', 'all', '{sel(ns)}')""")
    result = session.execute(f"""INSERT INTO experiments (namespace, name, kind, spec, labels)
                                 SELECT namespace, name || '-again', kind, spec, MAP {{'copy-of': name}}
                                 FROM experiments WHERE namespace = '{ns}' RETURNING name""")
    assert result.status == "INSERT 0 2"
    found = chaos_objects(write_env, ns)
    assert sorted(found) == ["a", "a-again", "b", "b-again"]
    assert found["b-again"]["spec"] == found["b"]["spec"]
    assert found["a-again"]["metadata"]["labels"] == {"copy-of": "a"}


def test_pause_and_resume_set_and_remove_the_annotation(write_env, ns, session_as):
    session = session_as()
    session.execute(
        f"INSERT INTO experiments (namespace, name, kind, action, mode, selector) "
        f"VALUES ('{ns}', 'p', 'PodChaos', 'pod-kill', 'one', '{sel(ns)}')"
    )
    assert session.execute(f"UPDATE experiments SET paused = true WHERE namespace = '{ns}'").status == "UPDATE 1"
    assert chaos_objects(write_env, ns)["p"]["metadata"]["annotations"] == {PAUSE: "true"}
    assert session.execute(f"SELECT paused FROM experiments WHERE namespace = '{ns}'").scalar() is True
    session.execute(f"UPDATE experiments SET paused = false WHERE namespace = '{ns}' AND name = 'p'")
    assert PAUSE not in (chaos_objects(write_env, ns)["p"]["metadata"].get("annotations") or {})


def test_update_labels_and_annotations_is_a_merge_of_the_new_map(write_env, ns, session_as):
    session = session_as()
    session.execute(
        f"INSERT INTO experiments (namespace, name, kind, action, mode, selector, labels, annotations) "
        f"VALUES ('{ns}', 'l', 'PodChaos', 'pod-kill', 'one', '{sel(ns)}', MAP {{'a': '1', 'b': '2'}}, "
        f"MAP {{'note': 'x'}})"
    )
    result = session.execute(f"""UPDATE experiments SET labels = map_concat(map_from_entries(
                                   list_filter(map_entries(labels), lambda e: e.key <> 'b')), MAP {{'c': '3'}}),
                                 annotations = MAP {{'note': 'y'}}
                                 WHERE namespace = '{ns}' RETURNING labels, annotations""")
    assert result.status == "UPDATE 1"
    meta = chaos_objects(write_env, ns)["l"]["metadata"]
    assert meta["labels"] == {"a": "1", "c": "3"}
    assert meta["annotations"] == {"note": "y"}
    assert dict(result.rows()[0][0]) == {"a": "1", "c": "3"}


def test_spec_of_an_experiment_cannot_change_but_schedules_and_workflows_can(write_env, ns, session_as):
    session = session_as()
    session.execute(
        f"INSERT INTO experiments (namespace, name, kind, action, mode, selector) "
        f"VALUES ('{ns}', 'fixed', 'PodChaos', 'pod-kill', 'one', '{sel(ns)}')"
    )
    before = chaos_objects(write_env, ns)["fixed"]
    with pytest.raises(WriteRefused) as refused:
        session.execute(f"UPDATE experiments SET mode = 'all' WHERE namespace = '{ns}'")
    assert str(refused.value) == (
        "experiments: spec cannot change after creation (Chaos Mesh webhook: "
        '"Cannot update chaos spec"; SET mode); use DELETE, then INSERT'
    )
    assert chaos_objects(write_env, ns)["fixed"]["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]

    schedule_spec = {
        "podChaos": {"action": "pod-kill", "mode": "one", "selector": {"namespaces": [ns]}},
        "historyLimit": 2,
        "concurrencyPolicy": "Forbid",
    }
    session.execute(
        f"INSERT INTO schedules (namespace, name, schedule, type, spec) "
        f"VALUES ('{ns}', 'nightly', '@every 5m', 'PodChaos', '{json.dumps(schedule_spec)}')"
    )
    result = session.execute(
        f"UPDATE schedules SET schedule = '@every 10m', history_limit = 5, paused = true "
        f"WHERE namespace = '{ns}' RETURNING schedule, history_limit, paused"
    )
    assert result.rows() == [("@every 10m", 5, True)]
    stored = write_env.get(CHAOS_API_VERSION, "Schedule", "nightly", ns)
    assert stored["spec"]["schedule"] == "@every 10m" and stored["spec"]["historyLimit"] == 5
    assert stored["spec"]["podChaos"] == schedule_spec["podChaos"]
    assert stored["metadata"]["annotations"][PAUSE] == "true"

    workflow = {
        "entry": "entry",
        "templates": [
            {"name": "entry", "templateType": "Serial", "deadline": "5m", "children": ["kill"]},
            {
                "name": "kill",
                "templateType": "PodChaos",
                "deadline": "1m",
                "podChaos": {"action": "pod-kill", "mode": "one", "selector": {"namespaces": [ns]}},
            },
        ],
    }
    session.execute(f"INSERT INTO workflows (namespace, name, spec) VALUES ('{ns}', 'flow', '{json.dumps(workflow)}')")
    session.execute(
        f"UPDATE workflows SET spec = json_merge_patch(spec, '{{\"entry\": \"kill\"}}') WHERE namespace = '{ns}'"
    )
    assert write_env.get(CHAOS_API_VERSION, "Workflow", "flow", ns)["spec"]["entry"] == "kill"
    assert session.execute(f"DELETE FROM workflows WHERE namespace = '{ns}'").status == "DELETE 1"
    assert session.execute(f"DELETE FROM schedules WHERE namespace = '{ns}'").status == "DELETE 1"
    assert chaos_objects(write_env, ns, "Workflow") == {} and chaos_objects(write_env, ns, "Schedule") == {}


def test_delete_removes_the_selected_objects_only(write_env, ns, session_as):
    session = session_as()
    session.execute(
        "INSERT INTO experiments (namespace, name, kind, action, mode, selector) VALUES "
        + ", ".join(f"('{ns}', 'd{i}', 'PodChaos', 'pod-kill', 'one', '{sel(ns)}')" for i in range(4))
    )
    result = session.execute(
        f"DELETE FROM experiments WHERE namespace = '{ns}' AND name IN ('d1', 'd3') RETURNING name, uid"
    )
    assert result.status == "DELETE 2"
    assert sorted(r[0] for r in result.rows()) == ["d1", "d3"]
    assert sorted(chaos_objects(write_env, ns)) == ["d0", "d2"]


def test_forced_delete_only_when_asked(write_env, ns, session_as):
    write_env.create(
        {
            "apiVersion": CHAOS_API_VERSION,
            "kind": "PodChaos",
            "metadata": {"name": "held", "namespace": ns, "finalizers": ["chaos-mesh/records"]},
            "spec": {"action": "pod-kill", "mode": "one", "selector": {"namespaces": [ns]}},
        }
    )
    session = session_as()
    assert session.execute(f"DELETE FROM experiments WHERE namespace = '{ns}'").status == "DELETE 1"
    held = chaos_objects(write_env, ns)["held"]  # Chaos Mesh recovers first, then drops its finalizer
    assert held["metadata"]["deletionTimestamp"]
    assert session.execute(f"SELECT phase FROM experiments WHERE namespace = '{ns}'").scalar() == "deleting"
    explained = session.execute(f"EXPLAIN DELETE FROM experiments WHERE namespace = '{ns}'").rows()
    assert "forced" not in explained[0][2]
    session.execute("SET chaosql.force_delete = true")
    assert "forced" in session.execute(f"EXPLAIN DELETE FROM experiments WHERE namespace = '{ns}'").rows()[0][2]
    assert session.execute(f"DELETE FROM experiments WHERE namespace = '{ns}'").status == "DELETE 1"
    assert chaos_objects(write_env, ns) == {}


def test_schema_violation_is_refused_offline_and_the_api_refusal_names_the_row(write_env, ns, session_as):
    session = session_as()
    since = audit_offset(write_env)
    with pytest.raises(WriteRefused) as refused:
        session.execute(f"""INSERT INTO experiments (namespace, name, kind, action, mode, selector) VALUES
                            ('{ns}', 'good-1', 'PodChaos', 'pod-kill', 'one', '{sel(ns)}'),
                            ('{ns}', 'bad', 'PodChaos', 'pod-kill', 'sometimes', '{sel(ns)}'),
                            ('{ns}', 'good-2', 'PodChaos', 'pod-kill', 'one', '{sel(ns)}')""")
    message = str(refused.value)
    assert f"row 2 (PodChaos {ns}/bad): column mode: 'sometimes' is not allowed; one of: one, all, fixed" in message
    assert message.endswith("nothing was written")
    assert audit_writes(write_env, since) == []  # checked offline: not even a dry run was sent
    assert chaos_objects(write_env, ns) == {}
    # what only the server knows (a namespace that does not exist) comes back from its dry run
    with pytest.raises(WriteRefused) as refused:
        session.execute(f"""INSERT INTO experiments (namespace, name, kind, action, mode, selector) VALUES
                            ('{ns}', 'good-1', 'PodChaos', 'pod-kill', 'one', '{sel(ns)}'),
                            ('{ns}-gone', 'bad', 'PodChaos', 'pod-kill', 'one', '{sel(ns)}')""")
    message = str(refused.value)
    assert f"row 2 (PodChaos c1/{ns}-gone/bad)" in message and "not found" in message
    assert message.endswith("nothing was written")
    assert chaos_objects(write_env, ns) == {}


def test_a_failure_while_applying_rolls_back_what_the_statement_created(write_env, ns, session_as):
    session = session_as()
    write_env.create(
        {
            "apiVersion": CHAOS_API_VERSION,
            "kind": "PodChaos",
            "metadata": {"name": "keep", "namespace": ns},
            "spec": {"action": "pod-kill", "mode": "one", "selector": {"namespaces": [ns]}},
        }
    )
    before = chaos_objects(write_env, ns)

    def someone_else_creates_row_3(index, op):
        if index == 2:  # between validation and apply, another client takes the third name
            write_env.create(
                {
                    "apiVersion": CHAOS_API_VERSION,
                    "kind": "PodChaos",
                    "metadata": {"name": "r3", "namespace": ns},
                    "spec": {"action": "pod-kill", "mode": "all", "selector": {"namespaces": [ns]}},
                }
            )

    session.writer.before_apply = someone_else_creates_row_3
    with pytest.raises(WriteFailed) as failed:
        session.execute(
            "INSERT INTO experiments (namespace, name, kind, action, mode, selector) VALUES "
            + ", ".join(f"('{ns}', 'r{i}', 'PodChaos', 'pod-kill', 'one', '{sel(ns)}')" for i in range(1, 5))
        )
    message = str(failed.value)
    assert message.startswith(f"experiments: INSERT failed at row 3 of 4 (PodChaos c1/{ns}/r3): conflict (409)")
    assert f"rolled back: deleted c1/{ns}/r1 again, deleted c1/{ns}/r2 again" in message
    assert "the cluster is as before the statement; 1 later rows were not attempted" in message
    after = chaos_objects(write_env, ns)
    assert sorted(after) == ["keep", "r3"]  # r3 is the other client's object, untouched
    assert after["keep"]["metadata"]["resourceVersion"] == before["keep"]["metadata"]["resourceVersion"]
    assert after["r3"]["spec"]["mode"] == "all"


def test_a_concurrent_change_between_read_and_patch_is_not_lost(write_env, ns, session_as):
    session = session_as()
    session.execute(
        f"INSERT INTO experiments (namespace, name, kind, action, mode, selector, labels) "
        f"VALUES ('{ns}', 'counted', 'PodChaos', 'pod-kill', 'one', '{sel(ns)}', MAP {{'count': '1'}})"
    )

    def another_client_increments(index, op):
        obj = write_env.get(CHAOS_API_VERSION, "PodChaos", "counted", ns)
        if obj["metadata"]["labels"]["count"] == "1":
            obj["metadata"]["labels"]["count"] = "2"
            obj["metadata"]["labels"]["theirs"] = "yes"
            write_env.update(obj)

    session.writer.before_apply = another_client_increments
    result = session.execute(f"""UPDATE experiments
        SET labels = map_concat(labels, MAP {{'count': CAST(CAST(labels['count'] AS INTEGER) + 1 AS VARCHAR)}})
        WHERE namespace = '{ns}' RETURNING labels""")
    assert result.status == "UPDATE 1"
    labels = chaos_objects(write_env, ns)["counted"]["metadata"]["labels"]
    assert labels == {"count": "3", "theirs": "yes"}  # both increments counted, their label kept


def test_a_cancel_during_a_conflict_retry_is_not_lost(write_env, ns, session_as):
    """A patch that meets a concurrent change reads its row again; a Ctrl-C that came just before
    belongs to the same statement, so that read stops the write instead of clearing the cancel."""
    session = session_as()
    session.execute(
        "INSERT INTO experiments (namespace, name, kind, action, mode, selector) VALUES "
        + ", ".join(f"('{ns}', 'p{i}', 'PodChaos', 'pod-kill', 'one', '{sel(ns)}')" for i in range(3))
    )

    def another_client_then_ctrl_c(index, op):
        if index == 0:
            obj = write_env.get(CHAOS_API_VERSION, "PodChaos", op.ref.name, ns)
            obj["metadata"]["labels"] = {"theirs": "yes"}
            write_env.update(obj)  # our patch now meets 409 Conflict and reads the row again
            session.cancel()

    session.writer.before_apply = another_client_then_ctrl_c
    with pytest.raises(WriteCancelled) as stopped:
        session.execute(f"UPDATE experiments SET paused = true WHERE namespace = '{ns}'")
    assert "UPDATE stopped at row 1 of 3: query cancelled; nothing had been written" in str(stopped.value)
    after = chaos_objects(write_env, ns)
    assert all(PAUSE not in (o["metadata"].get("annotations") or {}) for o in after.values())


def test_the_calls_of_a_failed_write_include_its_rollback(write_env, ns, session_as):
    session = session_as()

    def fail_third(index, op):
        if index == 2:
            raise WriteRefused("injected")

    session.writer.before_apply = fail_third
    with pytest.raises(WriteFailed) as failed:
        session.execute(
            "INSERT INTO experiments (namespace, name, kind, action, mode, selector) VALUES "
            + ", ".join(f"('{ns}', 'f{i}', 'PodChaos', 'pod-kill', 'one', '{sel(ns)}')" for i in range(4))
        )
    path = f"/apis/chaos-mesh.org/v1alpha1/namespaces/{ns}/podchaos"
    crd = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/podchaos.chaos-mesh.org"
    assert [c.what for c in failed.value.calls] == [  # the cluster's CRD, for the offline checks
        f"GET {crd}"
    ] + [f"POST {path}?dryRun=All"] * 4 + [f"POST {path}"] * 2 + [
        f"DELETE {path}/f1",  # rolled back newest first
        f"DELETE {path}/f0",
    ]
    assert failed.value.details == [f"rolled back: deleted c1/{ns}/f0 again", f"rolled back: deleted c1/{ns}/f1 again"]
    assert chaos_objects(write_env, ns) == {}


def test_a_row_that_stops_matching_before_the_patch_is_left_alone(write_env, ns, session_as):
    session = session_as()
    session.execute(
        f"INSERT INTO experiments (namespace, name, kind, action, mode, selector, labels) "
        f"VALUES ('{ns}', 'moved', 'PodChaos', 'pod-kill', 'one', '{sel(ns)}', MAP {{'stage': 'test'}})"
    )

    def another_client_relabels(index, op):
        obj = write_env.get(CHAOS_API_VERSION, "PodChaos", "moved", ns)
        obj["metadata"]["labels"]["stage"] = "prod"
        write_env.update(obj)

    session.writer.before_apply = another_client_relabels
    result = session.execute(
        f"UPDATE experiments SET paused = true WHERE namespace = '{ns}' AND labels['stage'] = 'test'"
    )
    assert result.status == "UPDATE 0"
    assert any("no longer matches the WHERE" in w for w in result.warnings)
    assert PAUSE not in (chaos_objects(write_env, ns)["moved"]["metadata"].get("annotations") or {})


def test_explain_makes_no_write_calls_and_explain_analyze_only_dry_runs(write_env, ns, session_as):
    session = session_as()
    session.execute(
        f"INSERT INTO experiments (namespace, name, kind, action, mode, selector) "
        f"VALUES ('{ns}', 'e', 'PodChaos', 'pod-kill', 'one', '{sel(ns)}')"
    )
    start = audit_offset(write_env)
    statements = [
        f"INSERT INTO experiments (namespace, name, kind, action, mode, selector) VALUES ('{ns}', 'n', 'PodChaos', 'pod-kill', 'one', '{sel(ns)}')",
        f"UPDATE experiments SET paused = true WHERE namespace = '{ns}'",
        f"DELETE FROM experiments WHERE namespace = '{ns}'",
    ]
    plans = [session.execute("EXPLAIN " + sql) for sql in statements]
    assert [p.rows()[0][0] for p in plans] == ["POST", "PATCH", "DELETE"]
    assert plans[0].rows()[0][1] == f"/apis/chaos-mesh.org/v1alpha1/namespaces/{ns}/podchaos"
    assert plans[2].rows()[0][1] == f"/apis/chaos-mesh.org/v1alpha1/namespaces/{ns}/podchaos/e"
    assert audit_writes(write_env, start) == []
    analyzed = [session.execute("EXPLAIN ANALYZE " + sql).dicts() for sql in statements]
    assert [rows[0]["dry_run"] for rows in analyzed] == ["ok", "ok", "ok"]
    # after the plan, every call the statement made: the read that found the row, then the dry run
    update_calls = [r["path"] for r in analyzed[1] if r["method"] == "call"]
    assert any(c.startswith(f"GET /apis/chaos-mesh.org/v1alpha1/namespaces/{ns}/podchaos?") for c in update_calls)
    assert update_calls[-1] == f"PATCH /apis/chaos-mesh.org/v1alpha1/namespaces/{ns}/podchaos/e?dryRun=All"
    calls = audit_writes(write_env, start, at_least=3)
    assert len(calls) == 3 and all("dryRun=All" in c["requestURI"] for c in calls)
    assert sorted(chaos_objects(write_env, ns)) == ["e"]
    assert not (chaos_objects(write_env, ns)["e"]["metadata"].get("annotations"))


def test_the_read_only_user_gets_forbidden_and_nothing_changes(write_env, ns, session_as):
    session_as().execute(
        f"INSERT INTO experiments (namespace, name, kind, action, mode, selector) "
        f"VALUES ('{ns}', 'ro', 'PodChaos', 'pod-kill', 'one', '{sel(ns)}')"
    )
    before = chaos_objects(write_env, ns)
    reader = session_as("reader")
    for sql, verb in (
        (
            f"INSERT INTO experiments (namespace, name, kind, action, mode, selector) "
            f"VALUES ('{ns}', 'new', 'PodChaos', 'pod-kill', 'one', '{sel(ns)}')",
            "create",
        ),
        (f"UPDATE experiments SET paused = true WHERE namespace = '{ns}'", "patch"),
        (f"DELETE FROM experiments WHERE namespace = '{ns}'", "delete"),
    ):
        with pytest.raises(Forbidden) as refused:
            reader.execute(sql)
        assert f'User "chaosql-reader" cannot {verb} resource "podchaos"' in str(refused.value)
        assert refused.value.sqlstate == "42501"
        assert "nothing was written" in str(refused.value)
    assert chaos_objects(write_env, ns) == before


def test_big_writes_need_confirmation(write_env, ns, session_as):
    session = session_as(confirm_rows=2)
    sql = "INSERT INTO experiments (namespace, name, kind, action, mode, selector) VALUES " + ", ".join(
        f"('{ns}', 'c{i}', 'PodChaos', 'pod-kill', 'one', '{sel(ns)}')" for i in range(3)
    )
    with pytest.raises(WriteRefused, match="touches 3 rows, more than chaosql.confirm_rows = 2; pass --yes"):
        session.execute(sql)
    asked = []
    session.confirm = lambda question: asked.append(question) or False
    with pytest.raises(WriteRefused, match="not confirmed; nothing was written"):
        session.execute(sql)
    assert chaos_objects(write_env, ns) == {}
    session.confirm = lambda question: asked.append(question) or True
    assert session.execute(sql).status == "INSERT 0 3"
    assert asked[0] == "INSERT touches 3 experiments rows (more than chaosql.confirm_rows = 2). Go ahead?"
    with pytest.raises(WriteRefused, match="without WHERE"):
        session.execute("DELETE FROM experiments")
    assert len(chaos_objects(write_env, ns)) == 3


def test_a_failed_update_reverts_the_patches_already_made(write_env, ns, session_as):
    from chaosql.errors import Unavailable

    session = session_as()
    session.execute(
        "INSERT INTO experiments (namespace, name, kind, action, mode, selector, labels) VALUES "
        + ", ".join(f"('{ns}', 'u{i}', 'PodChaos', 'pod-kill', 'one', '{sel(ns)}', MAP {{'v': '1'}})" for i in (1, 2))
    )

    def the_apiserver_goes_away_at_row_2(index, op):
        if index == 1:
            raise Unavailable("injected: the apiserver went away")

    session.writer.before_apply = the_apiserver_goes_away_at_row_2
    with pytest.raises(WriteFailed) as failed:
        session.execute(f"UPDATE experiments SET labels = MAP {{'v': '2'}}, paused = true WHERE namespace = '{ns}'")
    message = str(failed.value)
    assert "UPDATE failed at row 2 of 2" in message and "injected: the apiserver went away" in message
    assert "rolled back: restored c1/" in message and "the cluster is as before the statement" in message
    for obj in chaos_objects(write_env, ns).values():
        assert obj["metadata"]["labels"] == {"v": "1"}
        assert PAUSE not in (obj["metadata"].get("annotations") or {})


def test_a_failed_delete_says_which_objects_are_gone(write_env, ns, session_as):
    from chaosql.errors import Unavailable

    session = session_as()
    session.execute(
        "INSERT INTO experiments (namespace, name, kind, action, mode, selector) VALUES "
        + ", ".join(f"('{ns}', 'd{i}', 'PodChaos', 'pod-kill', 'one', '{sel(ns)}')" for i in (1, 2, 3))
    )

    def fail_at_row_2(index, op):
        if index == 1:
            raise Unavailable("injected: the apiserver went away")

    session.writer.before_apply = fail_at_row_2
    with pytest.raises(WriteFailed) as failed:
        session.execute(f"DELETE FROM experiments WHERE namespace = '{ns}'")
    assert str(failed.value).endswith(f"still applied: deleted PodChaos c1/{ns}/d1; 1 later rows were not attempted")
    assert sorted(chaos_objects(write_env, ns)) == ["d2", "d3"]


def test_delete_retries_a_conflict_and_skips_what_someone_else_deleted(write_env, ns, session_as):
    session = session_as()
    session.execute(
        "INSERT INTO experiments (namespace, name, kind, action, mode, selector) VALUES "
        + ", ".join(f"('{ns}', 'x{i}', 'PodChaos', 'pod-kill', 'one', '{sel(ns)}')" for i in (1, 2))
    )

    def meanwhile(index, op):
        if op.ref.name == "x1":  # a controller rewrites x1: its resourceVersion changes
            obj = write_env.get(CHAOS_API_VERSION, "PodChaos", "x1", ns)
            obj["metadata"]["labels"] = {"touched": "yes"}
            write_env.update(obj)
        else:  # and someone deletes x2 first
            write_env.delete(CHAOS_API_VERSION, "PodChaos", "x2", ns)

    session.writer.before_apply = meanwhile
    result = session.execute(f"DELETE FROM experiments WHERE namespace = '{ns}'")
    assert result.status == "DELETE 1"
    assert result.warnings == [f"c1/{ns}/x2: was deleted concurrently"]
    assert chaos_objects(write_env, ns) == {}


def test_rows_go_to_the_cluster_they_name(write_env, ns, session_as):
    from chaosql.engine.session import Session
    from chaosql.sources.kube import KubeSource

    # two configured clusters (here: two contexts of one apiserver, admin and reader)
    first = KubeSource(context="admin", kubeconfig=write_env.kubeconfig, name="prod")
    second = KubeSource(context="reader", kubeconfig=write_env.kubeconfig, name="staging")
    session = Session([first, second])
    try:
        result = session.execute(
            f"INSERT INTO experiments (namespace, name, kind, action, mode, selector) "
            f"VALUES ('{ns}', 'default', 'PodChaos', 'pod-kill', 'one', '{sel(ns)}') RETURNING cluster"
        )
        assert result.rows() == [("prod",)]  # no cluster column: the first cluster
        with pytest.raises(Forbidden, match='staging.*User "chaosql-reader" cannot create'):
            session.execute(
                f"INSERT INTO experiments (cluster, namespace, name, kind, action, mode, selector) "
                f"VALUES ('staging', '{ns}', 'there', 'PodChaos', 'pod-kill', 'one', '{sel(ns)}')"
            )
        with pytest.raises(WriteRefused, match='no cluster "nope" among the sources; known: prod, staging'):
            session.execute(
                f"INSERT INTO experiments (cluster, namespace, name, kind, action, mode, selector) "
                f"VALUES ('nope', '{ns}', 'x', 'PodChaos', 'pod-kill', 'one', '{sel(ns)}')"
            )
        assert sorted(chaos_objects(write_env, ns)) == ["default"]
    finally:
        session.close()
        first.close()
        second.close()
