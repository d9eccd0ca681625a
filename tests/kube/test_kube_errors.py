"""What users see when a cluster refuses, is missing something, or goes away: one clear message
naming the table, the cluster and the resource; or, with ``on_source_error = warn``, the rows of the
other clusters and a warning."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import seed
import yaml
from kubeenv import exec_plugin_kubeconfig

from chaosql.errors import Forbidden, SourceError, Unavailable

NOACCESS_USER = "chaosql-noaccess"


@pytest.fixture(scope="module")
def shop_only(kube_env):
    """The ``noaccess`` user may read chaos objects, pods and events in namespace shop only, and
    list nodes and PhysicalMachines cluster-wide (but no pods outside shop)."""
    rules = [
        {"apiGroups": ["chaos-mesh.org"], "resources": ["*"], "verbs": ["get", "list"]},
        {"apiGroups": [""], "resources": ["pods", "events"], "verbs": ["get", "list"]},
    ]
    kube_env.create(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": "shop-reader", "namespace": "shop"},
            "rules": rules,
        }
    )
    subject = [{"kind": "User", "name": NOACCESS_USER, "apiGroup": "rbac.authorization.k8s.io"}]
    kube_env.create(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "shop-reader", "namespace": "shop"},
            "subjects": subject,
            "roleRef": {"kind": "Role", "name": "shop-reader", "apiGroup": "rbac.authorization.k8s.io"},
        }
    )
    kube_env.create(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "node-reader"},
            "rules": [
                {"apiGroups": [""], "resources": ["nodes"], "verbs": ["list"]},
                {"apiGroups": ["chaos-mesh.org"], "resources": ["physicalmachines"], "verbs": ["list"]},
            ],
        }
    )
    kube_env.create(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "node-reader"},
            "subjects": subject,
            "roleRef": {"kind": "ClusterRole", "name": "node-reader", "apiGroup": "rbac.authorization.k8s.io"},
        }
    )
    # in namespace kinds, only two of the experiment kinds
    kube_env.create(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": "two-kinds", "namespace": seed.KINDS_NS},
            "rules": [{"apiGroups": ["chaos-mesh.org"], "resources": ["podchaos", "networkchaos"], "verbs": ["list"]}],
        }
    )
    kube_env.create(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "two-kinds", "namespace": seed.KINDS_NS},
            "subjects": subject,
            "roleRef": {"kind": "Role", "name": "two-kinds", "apiGroup": "rbac.authorization.k8s.io"},
        }
    )
    deadline = time.monotonic() + 10  # RBAC caches catch up within moments
    while kube_env.client("noaccess").get("/apis/chaos-mesh.org/v1alpha1/namespaces/shop/podchaos").status_code != 200:
        assert time.monotonic() < deadline, "RBAC for the noaccess user did not take effect"
        time.sleep(0.1)
    return kube_env


def test_the_read_only_user_sees_what_the_admin_sees(kube_env, kube_source, kube_session):
    admin = kube_session(kube_source(kube_env, "admin"))
    reader = kube_session(kube_source(kube_env, "reader"))
    for sql in (
        "SELECT kind, namespace, name, phase FROM experiments",
        "SELECT count(*) FROM events",
        "SELECT name, chaos_daemon FROM nodes",
        "SELECT count(*) FROM targets",
    ):
        # an experiment's phase follows the clock (a duration runs out between two reads): the
        # admin's answer is compared with the reader's when the reader saw the same before and after
        for _ in range(5):
            before = sorted(reader.execute(sql).rows(), key=repr)
            seen_by_admin = sorted(admin.execute(sql).rows(), key=repr)
            if sorted(reader.execute(sql).rows(), key=repr) == before:
                assert seen_by_admin == before, sql
                break
        else:
            pytest.fail(f"the answer to {sql!r} changed between every two reads")


def test_a_user_without_cluster_wide_access_gets_a_clear_error(shop_only, kube_source, kube_session):
    session = kube_session(kube_source(shop_only, "noaccess", name="c1"))
    with pytest.raises(Forbidden) as caught:
        session.execute("SELECT count(*) FROM experiments")
    message = str(caught.value)
    assert message.startswith('experiments: cluster "c1" (kube): forbidden to list ')
    assert ".chaos-mesh.org in all namespaces; ask for list on " in message
    assert "or filter on namespace = '...'" in message
    assert caught.value.sqlstate == "42501"


def test_the_namespace_a_user_may_read_works(shop_only, kube_source, kube_session):
    admin = kube_session(kube_source(shop_only, "admin"))
    scoped = kube_session(kube_source(shop_only, "noaccess", name="c1"))
    for sql in (
        "SELECT kind, name, phase FROM experiments WHERE namespace = 'shop'",
        "SELECT object_name, reason FROM events WHERE namespace = 'shop'",
    ):
        rows = scoped.execute(sql).rows()
        assert rows and sorted(rows, key=repr) == sorted(admin.execute(sql).rows(), key=repr)


def test_a_forbidden_namespace_is_named(shop_only, kube_source, kube_session):
    session = kube_session(kube_source(shop_only, "noaccess", name="c1"))
    with pytest.raises(Forbidden) as caught:
        session.execute("SELECT count(*) FROM events WHERE namespace IN ('shop', 'payments')")
    assert str(caught.value) == (
        'events: cluster "c1" (kube): forbidden to list events in "payments"; '
        "ask for list on events or pick another namespace"
    )


def test_one_failing_cluster_fails_the_query_or_warns(shop_only, kube_env2, kube_source, kube_session):
    sql = "SELECT cluster, count(*) FROM experiments GROUP BY cluster"
    failing = kube_session(kube_source(shop_only, "noaccess", name="c1"), kube_source(kube_env2))
    with pytest.raises(Forbidden, match='^experiments: cluster "c1" \\(kube\\): forbidden'):
        failing.execute(sql)
    warned = kube_session(kube_source(shop_only, "noaccess", name="c1"), kube_source(kube_env2), on_source_error="warn")
    result = warned.execute(sql)
    assert result.rows() == [("c2", 5)]
    assert len(result.warnings) == 1
    assert result.warnings[0].startswith('experiments: cluster "c1" (kube): forbidden to list ')
    assert result.warnings[0].endswith("its rows are missing from this result")


def test_kinds_a_user_may_read_give_a_partial_result_with_warn(shop_only, kube_source, kube_session):
    sql = "SELECT kind, count(*) FROM experiments WHERE namespace = 'kinds' GROUP BY kind ORDER BY kind"
    strict = kube_session(kube_source(shop_only, "noaccess", name="c1"))
    with pytest.raises(Forbidden, match='forbidden to list awschaos.chaos-mesh.org in "kinds"'):
        strict.execute(sql)
    lenient = kube_session(kube_source(shop_only, "noaccess", name="c1"), on_source_error="warn")
    result = lenient.execute(sql)
    assert result.rows() == [("NetworkChaos", 1), ("PodChaos", 1)]
    refused = [w for w in result.warnings if "its rows are missing" in w]
    assert refused == [
        'experiments: cluster "c1" (kube): forbidden to list awschaos.chaos-mesh.org in "kinds"; '
        "ask for list on awschaos.chaos-mesh.org or pick another namespace; "
        "its rows are missing from this result"
    ]
    assert all(w.startswith('experiments: cluster "c1" (kube): forbidden to list ') for w in result.warnings)


def test_chaos_daemon_is_null_when_pods_are_not_visible(shop_only, kube_source, kube_session):
    session = kube_session(kube_source(shop_only, "noaccess", name="c1"))
    result = session.execute(
        f"SELECT name, chaos_daemon, ready FROM nodes WHERE name IN ('{seed.NODE_A}', '{seed.NODE_B}') ORDER BY name"
    )
    assert result.rows() == [(seed.NODE_A, None, True), (seed.NODE_B, None, False)]
    assert any("forbidden to list pods in all namespaces" in w and "NULL" in w for w in result.warnings)


def _kubeconfig(env, path, *, server: str | None = None, token: str | None = None) -> str:
    """A copy of the env's kubeconfig pointing elsewhere or using another credential."""
    config = yaml.safe_load(Path(env.kubeconfig).read_text())
    if server:
        config["clusters"][0]["cluster"]["server"] = server
    if token:
        config["users"] = [{"name": "bad", "user": {"token": token}}]
        config["contexts"] = [{"name": "bad", "context": {"cluster": config["clusters"][0]["name"], "user": "bad"}}]
        config["current-context"] = "bad"
    path.write_text(yaml.safe_dump(config))
    return str(path)


def test_an_unreachable_cluster_is_named(kube_env, tmp_path, kube_session):
    import socket

    from chaosql.sources.kube import KubeSource

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = _kubeconfig(kube_env, tmp_path / "gone.yaml", server=f"https://127.0.0.1:{port}")
    session = kube_session(KubeSource(kubeconfig=config, context="admin", name="gone"))
    with pytest.raises(Unavailable) as caught:
        session.execute("SELECT count(*) FROM experiments")
    assert str(caught.value).startswith(
        f'experiments: cluster "gone" (kube): cannot reach https://127.0.0.1:{port}: connection refused;'
    )
    assert caught.value.sqlstate == "08006"
    both = kube_session(
        KubeSource(kubeconfig=config, context="admin", name="gone"),
        KubeSource(kubeconfig=kube_env.kubeconfig, context="reader", name="c1"),
        on_source_error="warn",
    )
    result = both.execute("SELECT cluster, count(*) FROM experiments WHERE namespace = 'kinds' GROUP BY cluster")
    assert result.rows() == [("c1", 14)]
    assert [w.split(":")[0:2] for w in result.warnings] == [["experiments", ' cluster "gone" (kube)']]


def test_bad_credentials_are_named(kube_env, tmp_path, kube_session):
    from chaosql.sources.kube import KubeSource

    config = _kubeconfig(kube_env, tmp_path / "bad.yaml", token="not-a-valid-token")
    session = kube_session(KubeSource(kubeconfig=config, name="c1"))
    with pytest.raises(Forbidden) as caught:
        session.execute("SELECT count(*) FROM pods")
    assert str(caught.value).startswith('pods: cluster "c1" (kube): credentials rejected (401 Unauthorized)')
    assert 'renew the credentials of kubeconfig context "bad"' in str(caught.value)


def test_a_missing_crd_is_named_then_the_kinds_are_discovered_again(kube_env2, kube_source, kube_session):
    source = kube_source(kube_env2)
    session = kube_session(source)
    assert session.execute("SELECT count(*) FROM experiments").scalar() == 5
    crd = "networkchaos.chaos-mesh.org"
    kube_env2.request("DELETE", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{crd}")
    try:
        deadline = time.monotonic() + 60
        while kube_env2.client().get("/apis/chaos-mesh.org/v1alpha1/networkchaos").status_code != 404:
            assert time.monotonic() < deadline, "the CRD was not removed"
            time.sleep(0.2)
        with pytest.raises(SourceError) as caught:  # discovery (cached) still said NetworkChaos exists
            session.execute("SELECT count(*) FROM experiments")
        assert str(caught.value).startswith(
            'experiments: cluster "c2" (kube): networkchaos.chaos-mesh.org is not served (404 Not Found): its CRD is not installed'
        )
        assert session.execute("SELECT kind, count(*) FROM experiments GROUP BY kind").rows() == [("PodChaos", 3)]
    finally:
        kube_env2.apply_crds(kube_env2.crds)
        kube_env2.request(
            "POST",
            "/apis/chaos-mesh.org/v1alpha1/namespaces/shop/networkchaos",
            json={
                "apiVersion": "chaos-mesh.org/v1alpha1",
                "kind": "NetworkChaos",
                "metadata": {"name": "c2-delay-0", "namespace": "shop"},
                "spec": seed.SPECS["NetworkChaos"],
            },
            ok=(201, 409),
        )
        kube_env2.request(
            "POST",
            "/apis/chaos-mesh.org/v1alpha1/namespaces/shop/networkchaos",
            json={
                "apiVersion": "chaos-mesh.org/v1alpha1",
                "kind": "NetworkChaos",
                "metadata": {"name": "c2-delay-1", "namespace": "shop"},
                "spec": seed.SPECS["NetworkChaos"],
            },
            ok=(201, 409),
        )


def test_a_stopped_apiserver_fails_clearly_and_works_again_once_back(kube_env2, kube_source, kube_session):
    session = kube_session(kube_source(kube_env2))
    sql = "SELECT count(*) FROM experiments WHERE namespace = 'shop'"
    assert session.execute(sql).scalar() == 5
    kube_env2.stop()
    try:
        with pytest.raises(Unavailable) as caught:
            session.execute(sql)
        assert str(caught.value).startswith(f'experiments: cluster "c2" (kube): cannot reach {kube_env2.server}')
    finally:
        kube_env2.start_again()
    assert session.execute(sql).scalar() == 5


def test_exec_plugin_credentials_work_and_are_renewed_after_a_401(kube_env, tmp_path, kube_session):
    from chaosql.sources.kube import KubeSource

    reader_token = kube_env.tokens["reader"]
    config = exec_plugin_kubeconfig(kube_env, tmp_path, ["expired-token", reader_token])
    session = kube_session(KubeSource(kubeconfig=config, name="c1"))
    # the first token is refused (401): chaosql loads the kubeconfig again, the plugin runs again
    assert session.execute("SELECT count(*) FROM experiments WHERE namespace = 'kinds'").scalar() == 14
    assert int((tmp_path / "calls").read_text()) == 2


def test_a_server_that_does_not_answer_times_out(kube_env, tmp_path, kube_session):
    import socket

    from chaosql.errors import SourceTimeout
    from chaosql.sources.kube import KubeSource

    with socket.socket() as silent:  # accepts connections (the kernel does) but never speaks TLS
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        config = _kubeconfig(kube_env, tmp_path / "silent.yaml", server=f"https://127.0.0.1:{port}")
        session = kube_session(KubeSource(kubeconfig=config, context="admin", name="slow", timeout=1.0))
        started = time.monotonic()
        with pytest.raises(SourceTimeout) as caught:
            session.execute("SELECT count(*) FROM pods")
    assert time.monotonic() - started < 5
    assert str(caught.value).startswith(
        f'pods: cluster "slow" (kube): https://127.0.0.1:{port} did not answer within 1s'
    )
    assert caught.value.sqlstate == "57014"


def test_a_cluster_without_any_chaos_engine_has_empty_chaos_tables_and_a_warning(bare_env, kube_session):
    from chaosql.sources.kube import KubeSource

    bare_env.create_namespace("shop")
    seed.put(
        bare_env,
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"containers": [{"name": "web", "image": "nginx"}]},
        },
    )
    session = kube_session(KubeSource(kubeconfig=bare_env.kubeconfig, context="reader", name="bare"))
    result = session.execute("SELECT count(*) FROM experiments")
    assert result.scalar() == 0
    assert result.warnings == [
        'cluster "bare" (kube): no chaos engine is installed (no chaos-mesh.org/v1alpha1 or '
        "litmuschaos.io/v1alpha1 API); its chaos tables are empty"
    ]
    assert session.execute("SELECT name FROM pods WHERE namespace = 'shop'").rows() == [("web",)]
    assert session.execute("SELECT count(*) FROM schedules").scalar() == 0


def _warmed_up(source):
    """``source`` after ``warm_up`` has run to its end (the one-shot CLI's head start)."""
    import threading

    source.warm_up()
    for thread in threading.enumerate():
        if thread.name == "chaosql-kube-warm-up":
            thread.join(60)
    return source


def test_warming_up_changes_no_answer_and_no_warning(bare_env, kube_env, kube_session):
    """The one-shot CLI connects and discovers while it imports its engine: each statement then
    answers and warns exactly as without that head start (an empty discovery is not kept for it)."""
    from chaosql.sources.kube import KubeSource

    cases = [
        (bare_env, "SELECT count(*) FROM schedules"),  # reads Chaos Mesh's API group only
        (bare_env, "SELECT count(*) FROM experiments"),
        (kube_env, "SELECT kind, count(*) FROM experiments WHERE namespace = 'kinds' GROUP BY kind ORDER BY kind"),
    ]
    for env, sql in cases:
        warm = _warmed_up(KubeSource(kubeconfig=env.kubeconfig, context="reader", name="c"))
        cold = KubeSource(kubeconfig=env.kubeconfig, context="reader", name="c")
        answers = [kube_session(source).execute(sql) for source in (warm, cold)]
        assert (answers[0].rows(), answers[0].warnings) == (answers[1].rows(), answers[1].warnings), sql
        if env is bare_env:
            assert answers[0].warnings == [
                'cluster "c" (kube): no chaos engine is installed (no chaos-mesh.org/v1alpha1 or '
                "litmuschaos.io/v1alpha1 API); its chaos tables are empty"
            ]
        else:
            assert len(answers[0].rows()) > 1


def test_a_one_shot_query_does_not_wait_for_a_cluster_it_does_not_read(kube_env, tmp_path):
    """The CLI's head start connects to the cluster in the background; a statement that reads no
    table of it (``SELECT 1``) answers and exits without waiting for a cluster that does not answer."""
    import os
    import socket
    import subprocess
    import sys

    with socket.socket() as silent:  # accepts connections (the kernel does) but never speaks TLS
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        kubeconfig = _kubeconfig(kube_env, tmp_path / "silent.yaml", server=f"https://127.0.0.1:{port}")
        config = tmp_path / "chaosql.toml"  # the TLS handshake would wait 60 s for the silent server
        config.write_text(
            f'[sources.slow]\ntype = "kube"\nkubeconfig = "{kubeconfig}"\ncontext = "admin"\n'
            "timeout = 60\nconnect_timeout = 60\nretries = 0\n"
        )
        env = {**os.environ, "CHAOSQL_SERVICE": "off", "CHAOSQL_CONFIG": str(config)}
        started = time.monotonic()
        run = subprocess.run(
            [sys.executable, "-m", "chaosql", "query", "--source", "slow", "SELECT 41 + 1 AS answer"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        took = time.monotonic() - started
    assert run.returncode == 0 and "42" in run.stdout, run.stderr
    assert run.stderr == ""
    assert took < 40  # the request it started in the background would wait 60 s
