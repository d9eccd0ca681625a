"""chaosql.sources.http against a real kube-apiserver: what is tried again and what never is, how
soon a cluster that is down is reported, that a cancel ends a retry pause on the write path too,
that the logged time of a call leaves out the client's set-up, and that a watch streams.

The failures are the apiserver's own: an aggregated API whose service does not exist answers 503,
evicting a pod that a PodDisruptionBudget protects answers 429, and a stopped apiserver refuses
connections. The apiserver's audit log counts the requests that reached it.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
import seed
from kubeenv import exec_plugin_kubeconfig

from chaosql.errors import SourceTimeout, Unavailable, WriteFailed
from chaosql.sources.base import Call, CallLog
from chaosql.sources.http import RETRIES, status_error

DOWN_API = "/apis/down.example.com/v1/namespaces/default/things"
EVICTION = "/api/v1/namespaces/shop/pods/web/eviction"


@pytest.fixture(scope="module")
def http_env(tmp_path_factory):
    """An apiserver of its own (it is stopped and started again here) with an audit log."""
    from kubeenv import KubeTestEnv, start_for_tests

    crds = seed.write_crd_subset(("PodChaos",), tmp_path_factory.mktemp("crds") / "crd-subset.yaml")
    env = start_for_tests(KubeTestEnv(crds=crds, audit=True), "h1")
    env.create_namespace("shop")
    env.create(
        {
            "apiVersion": "apiregistration.k8s.io/v1",
            "kind": "APIService",
            "metadata": {"name": "v1.down.example.com"},
            "spec": {
                "group": "down.example.com",
                "version": "v1",
                "groupPriorityMinimum": 1000,
                "versionPriority": 15,
                "insecureSkipTLSVerify": True,
                "service": {"namespace": "default", "name": "nowhere", "port": 443},
            },
        }
    )
    pod = env.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "nginx"}]},
        }
    )
    env.write_status(pod, {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]})
    env.create(
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}},
        }
    )
    deadline = time.monotonic() + 30  # the aggregator answers 503 once it has seen the APIService
    while env.client().get(DOWN_API).status_code != 503:
        assert time.monotonic() < deadline, "the aggregated API did not become unavailable"
        time.sleep(0.1)
    yield env
    env.cleanup()


def served(env, verb: str, uri: str) -> list[int]:
    """The statuses of the requests ``verb uri`` that reached the apiserver (its audit log)."""
    time.sleep(0.3)  # the audit log is written asynchronously
    codes = []
    for line in Path(env.audit_log).read_text().splitlines():
        event = json.loads(line)
        if event["stage"] == "ResponseComplete" and event["verb"] == verb and event["requestURI"].startswith(uri):
            codes.append(event["responseStatus"]["code"])
    return codes


def test_a_503_is_tried_again_on_reads_then_named(http_env, kube_source):
    conn = kube_source(http_env).conn
    before = len(served(http_env, "list", DOWN_API))
    log = CallLog()
    response = conn.get(DOWN_API, log=log, call=Call("h1", "h1", f"GET {DOWN_API}"))
    assert response.status == 503
    assert served(http_env, "list", DOWN_API)[before:] == [503] * (1 + RETRIES)  # the first try and each retry
    assert [c.what for c in log.calls] == [f"GET {DOWN_API} (HTTP 503)"]  # one call, with its retries
    error = status_error(conn.label, response, "list things", source="h1")
    assert isinstance(error, Unavailable) and error.sqlstate == "08006"
    assert str(error).startswith("kube: cannot list things: HTTP 503 Service Unavailable")


def test_a_write_that_got_an_answer_is_never_sent_again(http_env, kube_source):
    conn = kube_source(http_env).conn
    posted = len(served(http_env, "create", DOWN_API))
    started = time.monotonic()
    assert conn.send("POST", DOWN_API, body={"kind": "Thing"}).status == 503
    assert served(http_env, "create", DOWN_API)[posted:] == [503]
    # 429 Too Many Requests with Retry-After: 10 (the budget forbids evicting the only ready pod):
    # a read would wait and ask again, a write returns at once, sent once
    evictions = len(served(http_env, "create", EVICTION))
    eviction = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "web", "namespace": "shop"}}
    response = conn.send("POST", EVICTION, body=eviction)
    assert response.status == 429 and response.headers.get("Retry-After") == "10"
    assert "disruption budget" in response.message
    assert served(http_env, "create", EVICTION)[evictions:] == [429]
    assert time.monotonic() - started < 5  # no pause was made


def test_a_stopped_apiserver_is_reported_soon_after_the_first_try(http_env, kube_source, kube_session):
    from chaosql.sources.http import READ

    session = kube_session(kube_source(http_env))
    assert session.execute("SELECT count(*) FROM pods").scalar() == 1
    http_env.stop()
    try:
        started = time.monotonic()
        with pytest.raises(Unavailable) as caught:
            session.execute("SELECT count(*) FROM pods")
        took = time.monotonic() - started
    finally:
        http_env.start_again()
    assert str(caught.value).startswith(
        f'pods: cluster "h1" (kube): cannot reach {http_env.server}: connection refused'
    )
    # the pauses are 0.1 + 0.2 + 0.4 s; before chaosql.sources.http they were 0.2 + 0.6 + 1.5 s
    assert sum(READ.pauses) <= took < sum(READ.pauses) + 2.0, took


def test_a_cancel_ends_a_retry_pause_of_a_write(http_env, kube_source, kube_session):
    """The apiserver goes away between the dry runs and the first create: the create is refused
    and would be tried again after 1, 2 and 4 s; a cancel during the first pause ends the write."""
    session = kube_session(kube_source(http_env, backoff=1.0))
    seen: dict[str, float] = {}

    def the_apiserver_stops(index, op):
        if index == 0:
            http_env.stop()
            seen["stopped"] = time.monotonic()
            threading.Timer(0.4, cancel).start()

    def cancel():
        seen["cancelled"] = time.monotonic()
        session.cancel()

    session.writer.before_apply = the_apiserver_stops
    selector = json.dumps({"namespaces": ["shop"]})
    try:
        with pytest.raises(WriteFailed) as caught:
            session.execute(
                "INSERT INTO experiments (namespace, name, kind, action, mode, selector) VALUES "
                f"('shop', 'c1', 'PodChaos', 'pod-kill', 'one', '{selector}'), "
                f"('shop', 'c2', 'PodChaos', 'pod-kill', 'one', '{selector}')"
            )
        ended = time.monotonic()
    finally:
        http_env.start_again()
    assert "cancelled" in str(caught.value) and "nothing had been written" in str(caught.value)
    assert ended - seen["cancelled"] < 1.5, ended - seen["cancelled"]  # not the 7 s of pauses
    assert _podchaos(http_env) == []


def _podchaos(env) -> list[dict]:
    """The PodChaos in namespace shop (once the restarted apiserver serves the CRD again)."""
    deadline = time.monotonic() + 30
    while (answer := env.client().get("/apis/chaos-mesh.org/v1alpha1/namespaces/shop/podchaos")).status_code != 200:
        assert time.monotonic() < deadline, answer.text  # 429 "storage is (re)initializing" meanwhile
        time.sleep(0.2)
    return answer.json()["items"]


def test_the_logged_time_of_a_call_leaves_out_the_client_set_up(http_env, kube_session, tmp_path):
    from chaosql.sources.kube import KubeSource

    session = kube_session(
        KubeSource(
            kubeconfig=exec_plugin_kubeconfig(http_env, tmp_path, [http_env.tokens["reader"]], delay=0.8), name="h1"
        )
    )
    first = session.execute("SELECT count(*) FROM pods")
    [call] = first.calls
    assert first.scalar() == 1 and call.setup >= 0.8  # the credential plugin ran during set-up ...
    assert call.seconds < call.setup, call  # ... and is not counted as the call's time
    assert str(call).endswith(" ms client set-up)"), str(call)
    [again] = session.execute("SELECT count(*) FROM pods").calls
    assert again.setup < 0.05 and "set-up" not in str(again), again


def test_a_watch_streams_events_and_a_quiet_one_times_out(http_env, kube_source):
    conn = kube_source(http_env).conn
    path = "/apis/chaos-mesh.org/v1alpha1/namespaces/shop/podchaos"
    listed = conn.get(path).body["metadata"]["resourceVersion"]
    manifest = {
        "apiVersion": seed.CHAOS_API_VERSION,
        "kind": "PodChaos",
        "metadata": {"name": "watched", "namespace": "shop"},
        "spec": seed.SPECS["PodChaos"],
    }
    with conn.stream(path, {"watch": "true", "resourceVersion": listed}, read_timeout=10) as stream:
        assert stream.status == 200 and stream.error is None
        threading.Timer(0.3, lambda: http_env.create(manifest)).start()
        event = next(stream.json_lines())
    assert (event["type"], event["object"]["metadata"]["name"]) == ("ADDED", "watched")
    http_env.request("DELETE", f"{path}/watched")
    started = time.monotonic()
    with pytest.raises(SourceTimeout, match=r"sent nothing for 1s"):
        with conn.stream(path, {"watch": "true", "resourceVersion": listed}, read_timeout=1) as stream:
            for event in stream.json_lines():  # the ADDED and DELETED of "watched", then silence
                assert event["type"] in ("ADDED", "DELETED")
    assert time.monotonic() - started < 5
    with conn.stream("/apis/chaos-mesh.org/v1alpha1/namespaces/shop/nothings", {"watch": "true"}, read_timeout=1) as s:
        assert s.status == 404 and s.error is not None and s.error.status == 404
