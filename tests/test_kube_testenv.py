"""The real kube-apiserver test environment (tests/kube-testenv + tests/kubeenv.py) itself.

These start a real kube-apiserver with embedded etcd (built from Go modules on
first use; a cold build takes minutes). If it can't be built or started the
tests are skipped, unless CHAOSQL_REQUIRE_KUBE=1 or CI is set.
"""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kubeenv import (
    CHAOS_API_VERSION,
    ApiError,
    KubeTestEnv,
    experiment_status,
    load_crds,
    record,
    start_for_tests,
)

pytestmark = pytest.mark.kube


@pytest.fixture(scope="module")
def env():
    e = start_for_tests(KubeTestEnv(), "testenv")
    yield e
    e.cleanup()


def pod_chaos(name: str, ns: str) -> dict:
    return {
        "apiVersion": CHAOS_API_VERSION,
        "kind": "PodChaos",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"action": "pod-kill", "mode": "one", "selector": {"namespaces": [ns]}},
    }


def test_apiserver_is_ready_and_real(env):
    assert env.running and env.server.startswith("https://127.0.0.1:")
    assert env.request("GET", "/readyz") == "ok"
    version = env.request("GET", "/version")
    assert version["gitVersion"] == env.version and version["gitVersion"].startswith("v1.")
    names = {n["metadata"]["name"] for n in env.list("v1", "Namespace")["items"]}
    assert {"default", "kube-system"} <= names
    kubeconfig = Path(env.kubeconfig).read_text()
    for ctx in ("admin", "reader", "noaccess"):
        assert f"name: {ctx}" in kubeconfig


def test_all_chaos_mesh_crds_are_established_and_served(env):
    crds = load_crds()
    assert len(crds) == 23
    items = env.list("apiextensions.k8s.io/v1", "CustomResourceDefinition")["items"]
    established = {
        i["metadata"]["name"]
        for i in items
        if any(c["type"] == "Established" and c["status"] == "True" for c in i["status"]["conditions"])
    }
    assert {c["metadata"]["name"] for c in crds} <= established
    served = {r["kind"] for r in env.request("GET", f"/apis/{CHAOS_API_VERSION}")["resources"]}
    assert {"PodChaos", "NetworkChaos", "Workflow", "Schedule", "PhysicalMachine"} <= served


def test_admin_creates_podchaos_and_reads_it_back(env):
    env.create_namespace("t-admin")
    created = env.create(pod_chaos("kill-web", "t-admin"))
    assert created["metadata"]["uid"]
    got = env.get(CHAOS_API_VERSION, "PodChaos", "kill-web", "t-admin")
    assert got["spec"]["action"] == "pod-kill" and got["metadata"]["uid"] == created["metadata"]["uid"]
    listed = env.list(CHAOS_API_VERSION, "PodChaos", "t-admin")["items"]
    assert [i["metadata"]["name"] for i in listed] == ["kill-web"]


def test_status_written_like_the_controller(env):
    env.create_namespace("t-status")
    # PodChaos: no status subresource -> full-object PUT keeps the status
    pc = env.create(pod_chaos("kill", "t-status"))
    assert env.resource(CHAOS_API_VERSION, "PodChaos")["_status"] is False
    env.write_status(pc, experiment_status([record("t-status/web-0", "Injected")]))
    got = env.get(CHAOS_API_VERSION, "PodChaos", "kill", "t-status")
    assert got["status"]["experiment"]["containerRecords"][0]["phase"] == "Injected"
    conds = {c["type"]: c["status"] for c in got["status"]["conditions"]}
    assert conds == {"Selected": "True", "AllInjected": "True", "AllRecovered": "False", "Paused": "False"}
    # a spec update that carries the status does not lose it (no subresource)
    got["spec"]["mode"] = "all"
    assert env.update(got)["status"]["experiment"]["desiredPhase"] == "Run"

    # Pod: has a status subresource -> PUT .../status
    assert env.resource("v1", "Pod")["_status"] is True
    pod = env.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "web-0", "namespace": "t-status"},
            "spec": {"containers": [{"name": "c", "image": "x"}]},
        }
    )
    pod = env.write_status(pod, {"phase": "Running", "podIP": "10.2.0.7"})
    assert env.get("v1", "Pod", "web-0", "t-status")["status"]["podIP"] == "10.2.0.7"


def test_reader_can_list_but_not_create(env):
    env.create_namespace("t-reader")
    env.create(pod_chaos("kill-db", "t-reader"))
    items = env.list(CHAOS_API_VERSION, "PodChaos", "t-reader", user="reader")["items"]
    assert [i["metadata"]["name"] for i in items] == ["kill-db"]
    assert env.list(CHAOS_API_VERSION, "PodChaos", user="reader")["items"]  # all namespaces
    with pytest.raises(ApiError) as exc:
        env.create(pod_chaos("nope", "t-reader"), user="reader")
    assert exc.value.status == 403
    assert exc.value.body["reason"] == "Forbidden"


def test_noaccess_and_bad_credentials(env):
    with pytest.raises(ApiError) as exc:
        env.list(CHAOS_API_VERSION, "PodChaos", user="noaccess")
    assert exc.value.status == 403
    # static tokens work too; a wrong token is 401
    assert env.request("GET", "/api/v1/namespaces", user="reader", auth="token")["items"]
    with pytest.raises(ApiError) as exc:
        env.request("GET", "/api/v1/namespaces", token="not-a-token")
    assert exc.value.status == 401


def test_stop_and_start_again_keeps_data(env):
    env.create_namespace("t-restart")
    env.create(pod_chaos("survivor", "t-restart"))
    port, kubeconfig = env.port, env.kubeconfig
    env.stop()
    assert not env.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(env.server + "/livez", verify=False, timeout=5)
    env.start_again()
    assert env.info["restarted"] is True
    assert (env.port, env.kubeconfig) == (port, kubeconfig)
    assert env.get(CHAOS_API_VERSION, "PodChaos", "survivor", "t-restart")["metadata"]["name"] == "survivor"
