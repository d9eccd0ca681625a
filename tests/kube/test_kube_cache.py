"""The watch cache (chaosql.sources.cache) against a real kube-apiserver: cached answers equal live
lists, after every kind of change; read-your-writes; namespace-limited readers; dropped
connections, a 410 after an apiserver restart, a server that is down; idle informers stop.

``cache_env`` is an apiserver of its own: these tests change objects, restart it and cut its
connections (through ``FaultProxy``, a TCP forwarder in front of it), which must not disturb the
counts other tests make on ``kube_env``. ``kube_env`` is only read here.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
import seed
import yaml
from faultproxy import FaultProxy
from kubeenv import CHAOS_API_VERSION, KubeTestEnv, experiment_status, record, start_for_tests

from chaosql.errors import Forbidden, SourceError
from chaosql.sources.kube import KubeSource

NS = "cache-eq"
WAIT = 30.0  # generous: the machine is shared; the staleness bound itself is measured in bench/


@pytest.fixture(scope="module")
def cache_env():
    env = start_for_tests(KubeTestEnv(), "cache")
    for ns in (NS, "cache-a", "cache-b", "cache-c"):
        env.create_namespace(ns)
    yield env
    env.cleanup()


@pytest.fixture
def cached():
    """``cached(env, context="admin", idle=600, kubeconfig=None)`` -> a KubeSource with a watch cache."""
    opened = []

    def make(env: KubeTestEnv, context: str = "admin", *, idle: float = 600.0, kubeconfig: str | None = None):
        source = KubeSource(context=context, kubeconfig=kubeconfig or env.kubeconfig, name="c1")
        source.enable_cache(idle=idle)
        opened.append(source)
        return source

    yield make
    for source in opened:
        source.close()


@pytest.fixture
def proxy(cache_env, tmp_path):
    proxy = FaultProxy(("127.0.0.1", cache_env.port))
    proxy.config = str(proxy.kubeconfig(cache_env.kubeconfig, tmp_path / "via-proxy.yaml"))
    yield proxy
    proxy.close()


# --- helpers ----------------------------------------------------------------------------------


def from_cache(result) -> bool:
    return bool(result.calls) and all(call.what.startswith("cache ") for call in result.calls)


def normalised(result) -> list[tuple]:
    json_cols = {i for i, t in enumerate(result.types) if t == "JSON"}
    rows = []
    for row in result.rows():
        rows.append(
            tuple(
                json.dumps(json.loads(v), sort_keys=True) if i in json_cols and v is not None else repr(v)
                for i, v in enumerate(row)
            )
        )
    return sorted(rows)


def same_soon(cached_session, live_session, sql: str, *, timeout: float = WAIT) -> list[tuple]:
    """Wait until the cached session answers ``sql`` from the cache exactly as a live list does."""
    deadline = time.monotonic() + timeout
    while True:
        got = cached_session.execute(sql)
        want = normalised(live_session.execute(sql))
        if from_cache(got) and normalised(got) == want:
            return want
        if time.monotonic() > deadline:
            assert normalised(got) == want, sql
            pytest.fail(f"not answered from the cache: {[str(c) for c in got.calls]}")
        time.sleep(0.05)


def experiment(name: str, namespace: str = NS, *, kind: str = "PodChaos", labels: dict | None = None) -> dict:
    return {
        "apiVersion": CHAOS_API_VERSION,
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
        "spec": seed.SPECS[kind],
    }


def pod(name: str, node: str, namespace: str = NS, labels: dict | None = None) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {"app": "web"}},
        "spec": {"nodeName": node, "containers": [{"name": "web", "image": "nginx"}]},
    }


def merge_patch(env: KubeTestEnv, path: str, patch: dict) -> None:
    answer = env.client().patch(
        path, content=json.dumps(patch), headers={"Content-Type": "application/merge-patch+json"}
    )
    assert answer.status_code == 200, answer.text


def informer(source, kind: str):
    return next(i for i in source.cache.informers() if i.resource.kind == kind and i.namespace is None)


# --- answers ----------------------------------------------------------------------------------

TABLES = [
    "experiments",
    "targets",
    "pods",
    "nodes",
    "events",
    "schedules",
    "workflows",
    "workflow_nodes",
    "network_chaos",
]


@pytest.mark.parametrize("table", TABLES)
def test_every_table_reads_the_same_from_the_cache_as_from_live_lists(
    table, kube_env, cached, kube_source, kube_session
):
    live = kube_session(kube_source(kube_env, name="c1"))
    warm = kube_session(cached(kube_env))
    sql = f"SELECT * FROM {table}"
    warm.execute(sql)  # cold: starts the informers
    # polled: demo experiments finish as their durations (counted from their creation here) run out,
    # and a phase may change between the cached and the live statement
    assert same_soon(warm, live, sql)
    plan = warm.execute(f"EXPLAIN ANALYZE {sql}").rows()
    assert any(step == "call" and detail.startswith("c1/c1: cache ") and "(age " in detail for step, detail in plan)


def test_json_columns_left_out_by_the_first_statement_are_there_when_a_later_one_reads_them(
    cache_env, cached, kube_source, kube_session
):
    # the first statement reads no JSON column, so the cache shapes none; the next one needs them
    cache_env.create(experiment("json-late"))
    warm, live = kube_session(cached(cache_env)), kube_session(kube_source(cache_env, name="c1"))
    count = f"SELECT count(*) FROM experiments WHERE namespace = '{NS}'"
    assert warm.execute(count).scalar() == live.execute(count).scalar()
    sql = f"SELECT name, selector, spec, status FROM experiments WHERE namespace = '{NS}'"
    rows = same_soon(warm, live, sql)
    assert all(spec != "None" for _, _, spec, _ in rows)
    merge_patch(
        cache_env,
        cache_env.path(CHAOS_API_VERSION, "PodChaos", NS, "json-late"),
        {"spec": {"duration": "7m"}},
    )  # from now on, every change is shaped with its JSON columns
    assert any('"7m"' in spec for _, _, spec, _ in same_soon(warm, live, sql))


def test_changes_reach_the_cache_and_joined_columns_follow(cache_env, cached, kube_source, kube_session):
    env = cache_env
    env.create(pod("web-0", "node-a"))
    env.create(pod("web-1", "node-a"))
    kill = env.create_with_status(
        experiment("kill", labels={"team": "a"}), experiment_status([record(f"{NS}/web-0"), record(f"{NS}/web-1")])
    )
    env.create_with_status(experiment("delay", kind="NetworkChaos"), experiment_status([record(f"{NS}/web-1")]))
    warm = kube_session(cached(env))
    live = kube_session(kube_source(env, name="c1"))
    queries = [
        f"SELECT name, kind, labels, phase, target_count, injected_count FROM experiments WHERE namespace = '{NS}'",
        f"SELECT experiment, pod, node, pod_ip, phase FROM targets WHERE namespace = '{NS}'",
        f"SELECT name, node, phase, labels FROM pods WHERE namespace = '{NS}'",
        "SELECT name, chaos_daemon, chaos_daemon_pod FROM nodes",
        f"SELECT object_name, reason, message FROM events WHERE namespace = '{NS}'",
        "SELECT count(*) FROM experiments",
    ]

    def check() -> None:
        for sql in queries:
            same_soon(warm, live, sql)

    check()
    env.create(experiment("new-one"))  # create
    check()
    merge_patch(env, env.path(CHAOS_API_VERSION, "PodChaos", NS, "kill"), {"metadata": {"labels": {"tier": "1"}}})
    check()
    kill = env.get(CHAOS_API_VERSION, "PodChaos", "kill", NS)  # a status change: recovered
    env.write_status(
        kill, experiment_status([record(f"{NS}/web-0", "Not Injected", recovered=1)], desired_phase="Stop")
    )
    check()
    web1 = env.get("v1", "Pod", "web-1", NS)  # the joined pod changes: targets.pod_ip follows
    env.request("PUT", env.path("v1", "Pod", NS, "web-1") + "/status", json={**web1, "status": {"podIP": "10.1.2.3"}})
    check()
    gone = env.client().delete(env.path("v1", "Pod", NS, "web-1"), params={"gracePeriodSeconds": "0"})
    assert gone.status_code == 200, gone.text  # ... and goes (no kubelet: at once), and comes back elsewhere
    check()
    env.create(pod("web-1", "node-b"))
    check()
    env.create({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-a"}})  # nodes join daemon pods
    check()
    env.create(pod("daemon-a", "node-a", labels={"app.kubernetes.io/component": "chaos-daemon"}))
    check()
    env.create(
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": "kill.1", "namespace": NS},
            "involvedObject": {"apiVersion": CHAOS_API_VERSION, "kind": "PodChaos", "name": "kill", "namespace": NS},
            "reason": "Applied",
            "message": "injected",
            "type": "Normal",
        }
    )
    check()
    env.delete(CHAOS_API_VERSION, "NetworkChaos", "delay", NS)  # delete
    check()
    assert all(i.relists == 0 for i in warm.sources[0].cache.informers())  # all of it came by the watch


def test_read_your_writes_for_every_kind_of_write(cache_env, cached, kube_session):
    source = cached(cache_env)
    writer, reader = kube_session(source), kube_session(source)
    assert reader.execute(f"SELECT count(*) FROM experiments WHERE namespace = '{NS}-none'").scalar() == 0  # warm
    selector = json.dumps({"namespaces": ["cache-a"]})

    def read(sql: str) -> list[tuple]:
        result = reader.execute(sql)
        assert from_cache(result), [str(c) for c in result.calls]
        return result.rows()

    for i in range(5):
        name = f"ryw-{i}"
        where = f"namespace = 'cache-a' AND name = '{name}'"
        writer.execute(
            f"INSERT INTO experiments (namespace, name, kind, action, mode, selector, labels) "
            f"VALUES ('cache-a', '{name}', 'PodChaos', 'pod-kill', 'one', '{selector}', MAP {{'n': '{i}'}})"
        )
        assert read(f"SELECT name, labels['n'] FROM experiments WHERE {where}") == [(name, str(i))]
        writer.execute(f"UPDATE experiments SET paused = true WHERE {where}")
        assert read(f"SELECT paused FROM experiments WHERE {where}") == [(True,)]
        writer.execute(f"UPDATE experiments SET labels = MAP {{'n': 'x{i}'}} WHERE {where}")
        assert read(f"SELECT labels['n'] FROM experiments WHERE {where}") == [(f"x{i}",)]
        writer.execute(f"DELETE FROM experiments WHERE {where}")
        assert read(f"SELECT name FROM experiments WHERE {where}") == []


# --- RBAC ---------------------------------------------------------------------------------------


def limited_user(env: KubeTestEnv, namespaces: list[str], verbs: list[str], path: Path) -> str:
    """A kubeconfig (written to ``path``) for a service account that may use ``verbs`` on chaos
    objects, pods and events in ``namespaces`` only; returns its context name."""
    name = "limited-" + "-".join(verbs)
    home = namespaces[0]
    env.create({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": home}})
    rules = [
        {"apiGroups": ["chaos-mesh.org"], "resources": ["*"], "verbs": verbs},
        {"apiGroups": [""], "resources": ["pods", "events"], "verbs": verbs},
    ]
    for ns in namespaces:
        meta = {"name": name, "namespace": ns}
        env.create({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta, "rules": rules})
        env.create(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": meta,
                "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": home}],
                "roleRef": {"kind": "Role", "name": name, "apiGroup": "rbac.authorization.k8s.io"},
            }
        )
    token = env.request(
        "POST",
        f"/api/v1/namespaces/{home}/serviceaccounts/{name}/token",
        json={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": 3600}},
    )["status"]["token"]
    config = yaml.safe_load(Path(env.kubeconfig).read_text())
    cluster = config["contexts"][0]["context"]["cluster"]
    config["users"].append({"name": name, "user": {"token": token}})
    config["contexts"].append({"name": name, "context": {"cluster": cluster, "user": name}})
    path.write_text(yaml.safe_dump(config))
    deadline = time.monotonic() + 10  # RBAC takes a moment to apply
    while env.client(token=token).get(f"/apis/chaos-mesh.org/v1alpha1/namespaces/{home}/podchaos").status_code != 200:
        assert time.monotonic() < deadline, "the Role did not take effect"
        time.sleep(0.1)
    return name


def test_a_reader_limited_to_namespaces_is_cached_per_namespace(cache_env, cached, kube_source, kube_session, tmp_path):
    env = cache_env
    for ns in ("cache-a", "cache-b", "cache-c"):
        env.create(experiment(f"in-{ns}", ns))
    config = tmp_path / "limited.yaml"
    context = limited_user(env, ["cache-a", "cache-b"], ["get", "list", "watch"], config)
    source = cached(env, context, kubeconfig=str(config))
    limited = kube_session(source)
    admin = kube_session(kube_source(env, name="c1"))
    sql = "SELECT namespace, name, kind FROM experiments WHERE namespace IN ('cache-a', 'cache-b')"
    rows = same_soon(limited, admin, sql)
    assert {r[1] for r in rows} >= {"'in-cache-a'", "'in-cache-b'"}
    scopes = {(i.resource.kind, i.namespace) for i in source.cache.informers()}
    assert ("PodChaos", "cache-a") in scopes and ("PodChaos", "cache-b") in scopes
    env.create(experiment("later", "cache-b"))  # the namespace watches see changes too
    same_soon(limited, admin, sql)
    with pytest.raises(Forbidden) as caught:  # what the user may not list: the same error as without the cache
        limited.execute("SELECT count(*) FROM experiments")
    plain = kube_session(KubeSource(context=context, kubeconfig=str(config), name="c1"))
    with pytest.raises(Forbidden) as without_cache:
        plain.execute("SELECT count(*) FROM experiments")
    assert str(caught.value) == str(without_cache.value)


def test_a_reader_who_may_list_but_not_watch_gets_live_lists(cache_env, cached, kube_source, kube_session, tmp_path):
    env = cache_env
    config = tmp_path / "nowatch.yaml"
    context = limited_user(env, ["cache-c"], ["get", "list"], config)
    limited = kube_session(cached(env, context, kubeconfig=str(config)))
    admin = kube_session(kube_source(env, name="c1"))
    sql = "SELECT name, kind FROM experiments WHERE namespace = 'cache-c'"
    # The informer lists (allowed), then its watch is refused: until that refusal arrives (slow on
    # a loaded machine) a read may come from the list just made, which is right too. Every answer
    # must equal a live one; once the watch is refused, every read lists live.
    deadline = time.monotonic() + WAIT
    while True:
        result = limited.execute(sql)
        assert normalised(result) == normalised(admin.execute(sql))
        if not from_cache(result):
            break
        assert time.monotonic() < deadline, f"still read from the cache: {[str(c) for c in result.calls]}"
        time.sleep(0.05)
    for _ in range(3):
        result = limited.execute(sql)
        assert normalised(result) == normalised(admin.execute(sql))
        assert not from_cache(result) and any(c.what.startswith("GET ") for c in result.calls)


# --- faults -------------------------------------------------------------------------------------


def test_a_dropped_connection_resumes_the_watch_without_a_list(cache_env, proxy, cached, kube_source, kube_session):
    source = cached(cache_env, kubeconfig=proxy.config)
    warm, live = kube_session(source), kube_session(kube_source(cache_env, name="c1"))
    sql = f"SELECT name, labels FROM experiments WHERE namespace = '{NS}'"
    same_soon(warm, live, sql)
    watch = informer(source, "PodChaos")
    for i in range(3):
        proxy.cut()
        cache_env.create(experiment(f"while-cut-{i}"))
        same_soon(warm, live, sql)
    assert watch.relists == 0 and watch.reconnects >= 1


def test_a_410_after_an_apiserver_restart_lists_again_and_misses_nothing(
    cache_env, proxy, cached, kube_source, kube_session
):
    env = cache_env
    env.create(experiment("doomed"))
    source = cached(env, kubeconfig=proxy.config)
    warm = kube_session(source)
    sql = f"SELECT name FROM experiments WHERE namespace = '{NS}' AND kind = 'PodChaos'"
    live = kube_session(kube_source(env, name="c1"))
    same_soon(warm, live, sql)
    watch = informer(source, "PodChaos")
    proxy.refuse()  # the watch breaks and cannot come back ...
    env.create(experiment("born-while-away"))  # ... while objects change ...
    env.delete(CHAOS_API_VERSION, "PodChaos", "doomed", NS)
    env.restart()  # ... and the restarted apiserver's watch cache starts after our resourceVersion
    proxy.allow()
    rows = same_soon(warm, live, sql, timeout=60)
    assert "'born-while-away'" in {r[0] for r in rows} and "'doomed'" not in {r[0] for r in rows}
    assert watch.relists >= 1  # the 410 led to a list, and its rows replaced the old ones


def test_while_the_server_is_unreachable_rows_are_refused_or_marked_stale(
    cache_env, proxy, cached, kube_source, kube_session
):
    source = cached(cache_env, kubeconfig=proxy.config)
    strict, lenient = kube_session(source), kube_session(source, on_source_error="warn")
    sql = f"SELECT name FROM experiments WHERE namespace = '{NS}' AND kind = 'PodChaos'"
    before = same_soon(strict, kube_session(kube_source(cache_env, name="c1")), sql)
    proxy.refuse()
    watch = informer(source, "PodChaos")
    assert watch.wait(lambda i: i.state == "broken", WAIT), watch  # it notices at once (EOF)
    with pytest.raises(SourceError, match="cannot reach"):
        strict.execute(sql)
    result = lenient.execute(sql)
    assert normalised(result) == before
    assert any("watch cache's" in w and "s old (stale)" in w and "cannot reach" in w for w in result.warnings), (
        result.warnings
    )
    proxy.allow()
    same_soon(strict, kube_session(kube_source(cache_env, name="c1")), sql)
    assert lenient.execute(sql).warnings == []


def test_the_watch_survives_an_apiserver_restart(cache_env, cached, kube_source, kube_session):
    source = cached(cache_env)
    warm, live = kube_session(source), kube_session(kube_source(cache_env, name="c1"))
    sql = f"SELECT name FROM experiments WHERE namespace = '{NS}'"
    same_soon(warm, live, sql)
    cache_env.restart()
    cache_env.create(experiment("after-restart"))
    rows = same_soon(warm, live, sql, timeout=60)
    assert "'after-restart'" in {r[0] for r in rows}
    assert informer(source, "PodChaos").state == "synced"


def test_the_clusters_of_one_statement_load_side_by_side(cache_env, kube_env, proxy, cached, kube_source, kube_session):
    """A statement over several clusters starts every cluster's lists before it waits for any: a
    cluster that answers slowly does not hold back the loading of the others."""
    slow = cached(cache_env, kubeconfig=proxy.config)
    other = kube_source(kube_env, name="c2")
    other.enable_cache()
    session = kube_session(slow, other)
    live = kube_session(kube_source(cache_env, name="c1"), kube_source(kube_env, name="c2"))
    sql = "SELECT cluster, kind, count(*) FROM experiments GROUP BY ALL"
    slow.chaos_kinds("c1")  # discovery is done: what follows needs only the lists
    proxy.hold()  # c1 takes connections and answers nothing
    answer: dict = {}
    reader = threading.Thread(target=lambda: answer.update(result=session.execute(sql)), daemon=True)
    reader.start()
    deadline = time.monotonic() + WAIT
    while not any(i.resource.kind == "PodChaos" and i.state == "synced" for i in other.cache.informers()):
        assert time.monotonic() < deadline, other.cache.status()
        time.sleep(0.05)
    assert reader.is_alive()  # c2 loaded while the statement still waits for c1
    proxy.allow()
    reader.join(WAIT * 4)
    assert not reader.is_alive()
    assert normalised(answer["result"]) == normalised(live.execute(sql))


def test_an_informer_watches_over_the_connection_its_list_opened(cache_env, proxy, cached, kube_session):
    # one TLS connection per informer, not one for its list and another for its watch (a cold
    # read of a cluster starts an informer per chaos kind, and every handshake costs CPU)
    source = cached(cache_env, kubeconfig=proxy.config)
    session = kube_session(source)
    session.execute("SELECT count(*) FROM experiments")
    informers = source.cache.informers()
    deadline = time.monotonic() + WAIT
    while not all(i._stream is not None for i in informers):  # every watch is open
        assert time.monotonic() < deadline, informers
        time.sleep(0.05)
    assert len(informers) >= 10
    assert proxy.accepted <= len(informers) + 2, (proxy.accepted, len(informers))  # + discovery


# --- several clusters: a read kept while nothing changed ------------------------------------------


@pytest.fixture
def five(cache_env, kube_env2, proxy, cached, kube_source, kube_session):
    """Five clusters with watch caches: c1 is ``cache_env`` (through ``proxy``), c2..c5 are
    ``kube_env2`` under four names. -> (the sources, a session over them, a session listing live)."""
    sources = [cached(cache_env, kubeconfig=proxy.config)]
    for i in range(2, 6):
        source = kube_source(kube_env2, name=f"c{i}")
        source.enable_cache()
        sources.append(source)
    live = kube_session(kube_source(cache_env, name="c1"), *(kube_source(kube_env2, name=f"c{i}") for i in range(2, 6)))
    return sources, kube_session(*sources), live


def settled(source, kind: str, version: int) -> None:
    """Wait until ``source``'s cache has seen ``version`` of ``kind`` (its event arrived)."""
    watch = informer(source, kind)
    assert watch.wait(lambda i: i.version >= version, WAIT), (watch, version)


def kept_reads(sources) -> bool:
    return all(source.cache.kept for source in sources)


def test_a_change_in_one_of_five_clusters_shows_in_the_next_statement(cache_env, five):
    """A statement over five clusters whose caches did not change gets the tables the last one
    got (kept, not read kind by kind again); a change in any one cluster, by anyone, shows in the
    very next statement once its event is in, and this process's writes at once."""
    sources, warm, live = five
    c1 = sources[0]
    sql = f"SELECT cluster, name, labels['n'] FROM experiments WHERE namespace = '{NS}' AND name LIKE 'five-%'"
    counts = "SELECT cluster, kind, count(*) FROM experiments GROUP BY ALL"
    cache_env.create(experiment("five-a", labels={"n": "0"}))
    same_soon(warm, live, counts)
    same_soon(warm, live, sql)
    assert kept_reads(sources)  # what follows reads kept tables, unless a change is noticed

    def next_read(query: str = sql) -> list[tuple]:
        result = warm.execute(query)
        assert from_cache(result), [str(c) for c in result.calls]
        return result.rows()

    assert next_read() == [("c1", "five-a", "0")]
    path = cache_env.path(CHAOS_API_VERSION, "PodChaos", NS, "five-a")
    patched = cache_env.client().patch(
        path,
        content=json.dumps({"metadata": {"labels": {"n": "1"}}}),
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert patched.status_code == 200, patched.text
    settled(c1, "PodChaos", int(patched.json()["metadata"]["resourceVersion"]))
    assert next_read() == [("c1", "five-a", "1")]
    created = cache_env.create(experiment("five-b", labels={"n": "0"}))
    settled(c1, "PodChaos", int(created["metadata"]["resourceVersion"]))
    assert next_read() == [("c1", "five-a", "1"), ("c1", "five-b", "0")]
    before = informer(c1, "PodChaos").version
    cache_env.delete(CHAOS_API_VERSION, "PodChaos", "five-a", NS)
    settled(c1, "PodChaos", before + 1)
    assert next_read() == [("c1", "five-b", "0")]
    assert normalised(warm.execute(counts)) == normalised(live.execute(counts))
    # this process's own write: the very next statement has it, without waiting for anything
    warm.execute("UPDATE experiments SET labels = MAP {'n': '2'} WHERE cluster = 'c1' AND name = 'five-b'")
    assert next_read() == [("c1", "five-b", "2")]
    assert next_read() == [("c1", "five-b", "2")]
    assert kept_reads(sources)


def test_a_broken_watch_in_one_of_five_clusters_is_not_hidden_by_a_kept_read(cache_env, proxy, five, kube_session):
    """Honesty holds for kept reads: once one cluster's watch breaks, the next statement is not
    given the tables kept from before: it fails as a live list does, or (``warn``) says the rows
    are stale."""
    sources, warm, live = five
    sql = "SELECT cluster, count(*) FROM experiments WHERE kind = 'PodChaos' GROUP BY cluster"
    before = same_soon(warm, live, sql)
    assert normalised(warm.execute(sql)) == before and kept_reads(sources)
    proxy.refuse()
    watch = informer(sources[0], "PodChaos")
    assert watch.wait(lambda i: i.state == "broken", WAIT), watch
    with pytest.raises(SourceError, match="cannot reach"):
        warm.execute(sql)
    result = kube_session(*sources, on_source_error="warn").execute(sql)
    assert normalised(result) == before
    assert any('cluster "c1"' in w and "s old (stale)" in w for w in result.warnings), result.warnings
    proxy.allow()
    assert same_soon(warm, live, sql) == before


def test_a_kept_read_follows_the_clock(cache_env, five):
    """Rows that change by themselves (an experiment whose duration runs out) are not kept past
    that moment: the next statement says finished, with no change to the object."""
    sources, warm, _ = five
    warm.execute("SELECT count(*) FROM experiments")  # the caches are warm before the clock starts
    sql = f"SELECT name, phase FROM experiments WHERE namespace = '{NS}' AND name = 'five-short'"
    manifest = experiment("five-short")
    manifest["spec"] = {**manifest["spec"], "action": "pod-failure", "duration": "5s"}
    created = cache_env.create_with_status(
        manifest, experiment_status([record(f"{NS}/p", "Not Injected", injected=1, recovered=1)], desired_phase="Stop")
    )
    settled(sources[0], "PodChaos", int(created["metadata"]["resourceVersion"]))
    ends = time.time() + 5
    assert warm.execute(sql).rows() == [("five-short", "injecting")]
    assert warm.execute(sql).rows() == [("five-short", "injecting")] and kept_reads(sources)
    assert time.time() < ends, "too slow to read the experiment before its end (the machine is overloaded?)"
    time.sleep(ends - time.time() + 1.2)
    result = warm.execute(sql)
    assert from_cache(result) and result.rows() == [("five-short", "finished")]


# --- lifecycle ----------------------------------------------------------------------------------


def test_informers_nobody_reads_stop_and_start_again_when_needed(cache_env, cached, kube_session):
    source = cached(cache_env, idle=3.0)
    session = kube_session(source)
    sql = f"SELECT count(*) FROM pods WHERE namespace = '{NS}'"
    first = session.execute(sql).scalar()
    deadline = time.monotonic() + WAIT
    while not source.cache.kept:  # once the kind is loaded, a read is kept for the next statement
        assert session.execute(sql).scalar() == first
        assert time.monotonic() < deadline, source.cache.status()
        time.sleep(0.05)
    assert source.cache.informers()
    while source.cache.informers():
        assert time.monotonic() < deadline, source.cache.status()
        time.sleep(0.1)
    assert not source.cache.kept  # nothing holds on to the rows of the stores let go
    cache_env.create(pod("after-idle", "node-a"))
    assert session.execute(sql).scalar() == first + 1


def test_the_cache_setting_turns_it_off_for_a_session(kube_env, cached, kube_session):
    session = kube_session(cached(kube_env), cache=False)
    result = session.execute("SELECT count(*) FROM experiments WHERE namespace = 'kinds'")
    assert result.scalar() == 14
    assert not from_cache(result) and all(c.what.startswith("GET ") for c in result.calls)


# --- the one-shot CLI and a running service ---------------------------------------------------


def test_the_one_shot_cli_reads_the_warm_cache_of_a_running_service(cache_env, tmp_path):
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "XDG_RUNTIME_DIR": str(tmp_path / "run"),
        "KUBECONFIG": cache_env.kubeconfig,
        "CHAOSQL_CONFIG": "",
        "XDG_CONFIG_HOME": "/nonexistent",
    }

    def chaosql(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "chaosql", *args], capture_output=True, text=True, env=env, timeout=120
        )

    started = chaosql("service", "start", "-s", "kube:admin")
    assert started.returncode == 0, started.stderr
    try:
        sql = f"SELECT name FROM experiments WHERE namespace = '{NS}' AND kind = 'PodChaos' ORDER BY name"
        direct = chaosql("query", "-s", "kube:admin", "--no-service", "-v", sql)
        assert direct.returncode == 0 and "call admin/admin: GET /apis/chaos-mesh.org" in direct.stderr
        deadline = time.monotonic() + WAIT
        while True:  # the service's first read of a namespace lists it live; then its watch answers
            via = chaosql("query", "-s", "kube:admin", "-v", sql)
            if "call admin/admin: cache podchaos.chaos-mesh.org (age " in via.stderr:
                break
            assert time.monotonic() < deadline, via.stderr
        assert via.returncode == 0 and via.stdout == direct.stdout
        selector = json.dumps({"namespaces": [NS]})
        wrote = chaosql(
            "query",
            "-s",
            "kube:admin",
            f"INSERT INTO experiments (namespace, name, kind, action, mode, selector) "
            f"VALUES ('{NS}', 'via-service', 'PodChaos', 'pod-kill', 'one', '{selector}')",
        )
        assert wrote.returncode == 0, wrote.stderr
        after = chaosql("query", "-s", "kube:admin", "-v", sql)  # the next one-shot query sees the write
        assert "via-service" in after.stdout and "cache podchaos" in after.stderr
    finally:
        chaosql("service", "stop", "-s", "kube:admin")
