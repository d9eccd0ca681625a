"""A guard acting on LitmusChaos rows, on a real kube-apiserver with LitmusChaos's CRDs next to
Chaos Mesh's: its ``then`` pauses the selected ChaosEngines (``spec.engineState: stop``, the
operator's abort) and only those, and posts one Event per engine, about the ChaosEngine itself, so
``kubectl describe chaosengine`` shows why it stopped. The breach is a plain SQL condition (no
Prometheus needed to show the Litmus side; the metric side is tested in test_guard.py). A sweep
whose template is a ChaosEngine creates and deletes one engine per step and leaves none behind.
"""

from __future__ import annotations

import pytest
from chaos_service import wait_until
from kubeenv import CHAOS_API_VERSION, KubeTestEnv, start_for_tests

LITMUS = "litmuschaos.io/v1alpha1"
NS = "guard-litmus"


def engine(name: str, experiments: list[str]) -> dict:
    return {
        "apiVersion": LITMUS,
        "kind": "ChaosEngine",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "engineState": "active",
            "appinfo": {"appns": NS, "applabel": "app=checkout", "appkind": "deployment"},
            "chaosServiceAccount": "litmus-admin",
            "experiments": [{"name": e} for e in experiments],
        },
    }


@pytest.fixture(scope="module")
def litmus_kube():
    env = start_for_tests(KubeTestEnv(litmus=True), "guardlit")
    env.create_namespace(NS)
    env.create(engine("checkout-kill", ["pod-delete", "container-kill"]))  # two runs: two rows, one engine
    env.create(engine("search-kill", ["pod-delete"]))
    env.create(
        {
            "apiVersion": CHAOS_API_VERSION,
            "kind": "PodChaos",
            "metadata": {"name": "checkout-mesh", "namespace": NS},
            "spec": {"action": "pod-kill", "mode": "one", "selector": {"namespaces": [NS]}},
        }
    )
    yield env
    env.cleanup()


def states(env: KubeTestEnv) -> dict[str, str]:
    return {o["metadata"]["name"]: o["spec"]["engineState"] for o in env.list(LITMUS, "ChaosEngine", NS)["items"]}


def test_a_guard_pauses_the_litmus_engines_its_when_selects_and_says_so_in_their_events(
    litmus_kube, tmp_path, monkeypatch
):
    from guardenv import Log, RunningGuard

    from chaosql.daemon.log import EventLog
    from chaosql.guard.definition import load
    from chaosql.guard.process import GuardProcess
    from chaosql.sources.kube import KubeSource

    path = tmp_path / "guards.toml"
    path.write_text(
        f"""
[[guard]]
name = "checkout-litmus"
when = \"\"\"SELECT cluster, namespace, name, kind FROM experiments
WHERE namespace = '{NS}' AND name LIKE 'checkout-%' AND NOT paused\"\"\"
then = \"\"\"UPDATE experiments SET paused = true
WHERE (cluster, namespace, name, kind) IN (SELECT cluster, namespace, name, kind FROM breach)\"\"\"
every = "1s"
max_rows = 5
"""
    )
    source = KubeSource(context="admin", kubeconfig=litmus_kube.kubeconfig, name="c1")
    log = Log()
    guard = RunningGuard(GuardProcess(load(path), [source], {}, EventLog(log, fmt="json", verbose=True)), log)
    guard.thread.start()
    try:
        assert wait_until(lambda: states(litmus_kube)["checkout-kill"] == "stop", 60), log.lines[-20:]
        log.wait_for("event", 30)
        # only what the when selected: the other engine runs on; the PodChaos was paused its own way
        assert states(litmus_kube) == {"checkout-kill": "stop", "search-kill": "active"}
        mesh = litmus_kube.get(CHAOS_API_VERSION, "PodChaos", "checkout-mesh", NS)
        assert mesh["metadata"]["annotations"]["experiment.chaos-mesh.org/pause"] == "true"
        acted = log.records("acted")[0]
        assert {(r["kind"], r["name"]) for r in acted["changed"]} == {
            ("ChaosEngine", "checkout-kill"),
            ("PodChaos", "checkout-mesh"),
        }
    finally:
        assert guard.stop() == 0
        source.close()
    events = litmus_kube.request("GET", f"/api/v1/namespaces/{NS}/events")["items"]
    about = sorted(
        (e["involvedObject"]["apiVersion"], e["involvedObject"]["kind"], e["involvedObject"]["name"])
        for e in events
        if e["reason"] == "ChaosqlGuardPaused"
    )
    engine_uid = litmus_kube.get(LITMUS, "ChaosEngine", "checkout-kill", NS)["metadata"]["uid"]
    assert engine_uid in {e["involvedObject"].get("uid") for e in events}
    # one Event per object (the engine of two runs too), naming the ChaosEngine's own API
    assert about == [
        (CHAOS_API_VERSION, "PodChaos", "checkout-mesh"),
        (LITMUS, "ChaosEngine", "checkout-kill"),
    ]


SWEEP = f"""
title = "ChaosEngine duration"

[experiment]
namespace = "{NS}"
name = "eng"
kind = "ChaosEngine"
action = "pod-delete"
selector = {{ appns = "{NS}", applabel = "app=checkout", appkind = "deployment" }}
spec = {{ chaosServiceAccount = "litmus-admin" }}

[parameter]
path = "duration"
values = [10, 20, 30, 40, 50]
unit = "s"

[steady_state]
# fails while the step's ChaosEngine exists with 30 s or more: the sweep must create each one
# through the LitmusChaos writes and remove it again
sql = \"\"\"SELECT CASE WHEN count(*) > 0 THEN 1.0 ELSE 0.1 END AS p99 FROM experiments
WHERE namespace = $namespace AND name = $name AND kind = 'ChaosEngine' AND deleted_at IS NULL AND $value >= 30\"\"\"
check = {{ column = "p99", max = 0.3 }}

[timing]
settle = "1s"
recover = "30s"
poll = "1s"
"""


def test_a_sweep_of_chaos_engines_finds_the_threshold_and_leaves_no_engine(litmus_kube, tmp_path):
    import json

    from guardenv import config_file

    from chaosql.cli import main

    file, out = tmp_path / "sweep.toml", tmp_path / "sweep.json"
    file.write_text(SWEEP)
    assert main(["sweep", str(file), "--config", str(config_file(tmp_path, kube=litmus_kube)), "--out", str(out)]) == 0
    result = json.loads(out.read_text())["sections"][0]["rows"][0]
    assert (result["last_pass"], result["first_fail"], result["left_behind"]) == ("20s", "30s", None)
    left = [o["metadata"]["name"] for o in litmus_kube.list(LITMUS, "ChaosEngine", NS)["items"]]
    assert sorted(left) == ["checkout-kill", "search-kill"]  # the test's own engines, no step's
