"""The phase of experiments read live from a real kube-apiserver, for Chaos Mesh's one-shot actions of
every kind and the two edge cases (chaosql.sources.chaosmesh explains the rules). Each object is
created as a user would and gets the status the Chaos Mesh controllers would write; the apiserver
validates both against Chaos Mesh's CRDs."""

from __future__ import annotations

import time

import pytest
import seed
from kubeenv import experiment_status, record

NS = "phases"
POD = f"{NS}/web-0"
SELECT = {"namespaces": [NS], "labelSelectors": {"app": "web"}}
SPECS = {
    "pod-kill": ("PodChaos", {"action": "pod-kill", "mode": "one", "selector": SELECT}),
    "container-kill": (
        "PodChaos",
        {"action": "container-kill", "mode": "one", "selector": SELECT, "containerNames": ["web"]},
    ),
    "ec2-restart": ("AWSChaos", {"action": "ec2-restart", "awsRegion": "eu-west-1", "ec2Instance": "i-0abc"}),
    "ec2-stop": ("AWSChaos", {"action": "ec2-stop", "awsRegion": "eu-west-1", "ec2Instance": "i-0abc"}),
    "vm-restart": (
        "AzureChaos",
        {"action": "vm-restart", "subscriptionID": "sub-1", "resourceGroupName": "rg", "vmName": "vm-1"},
    ),
    "node-reset": ("GCPChaos", {"action": "node-reset", "project": "p", "zone": "europe-west1-b", "instance": "vm-1"}),
    "delay": ("NetworkChaos", {"action": "delay", "mode": "all", "selector": SELECT, "delay": {"latency": "50ms"}}),
}
INJECTED = experiment_status([record(POD, "Injected")])  # desiredPhase Run
RECOVERED = experiment_status([record(POD, "Not Injected", injected=1, recovered=1)], desired_phase="Stop")
#: name -> (spec key, extra spec, status, phase chaosql shows, as Chaos Mesh's dashboard would)
CASES = {
    "pod-kill-done": ("pod-kill", {}, INJECTED, "finished"),
    "container-kill-done": ("container-kill", {}, INJECTED, "finished"),
    "ec2-restart-done": ("ec2-restart", {}, INJECTED, "finished"),
    "vm-restart-done": ("vm-restart", {}, INJECTED, "finished"),
    "node-reset-done": ("node-reset", {}, INJECTED, "finished"),
    "ec2-stop-injected": ("ec2-stop", {}, INJECTED, "running"),  # not one-shot: injected is running
    # edge case 1: a one-shot without records is not finished
    "node-reset-nothing-yet": ("node-reset", {}, experiment_status([]), "injecting"),
    "pod-kill-empty-selection": (
        "pod-kill",
        {},
        experiment_status(
            [],
            conditions=[
                {"type": "Selected", "status": "True"},
                {"type": "AllInjected", "status": "True"},
                {"type": "AllRecovered", "status": "True"},
                {"type": "Paused", "status": "False"},
            ],
        ),
        "running",
    ),
    # edge case 2: stopped, nothing injected, no duration: never finished (paused shows paused)
    "delay-stopped-no-duration": ("delay", {}, RECOVERED, "injecting"),
    "delay-paused-no-duration": (
        "delay",
        {},
        experiment_status([record(POD, "Not Injected", injected=1, recovered=1)], desired_phase="Stop", paused=True),
        "paused",
    ),
    "delay-stopped-after-1s": ("delay", {"duration": "1s"}, RECOVERED, "finished"),
    "delay-stopped-before-1h": ("delay", {"duration": "1h"}, RECOVERED, "injecting"),
}


@pytest.fixture(scope="module")
def phase_env(tmp_path_factory):
    from kubeenv import KubeTestEnv, start_for_tests

    kinds = ("PodChaos", "AWSChaos", "AzureChaos", "GCPChaos", "NetworkChaos")
    crds = seed.write_crd_subset(kinds, tmp_path_factory.mktemp("crds") / "crd-subset.yaml")
    env = start_for_tests(KubeTestEnv(crds=crds), "phases")
    env.create_namespace(NS)
    for name, (key, extra, status, _) in CASES.items():
        kind, spec = SPECS[key]
        manifest = {
            "apiVersion": seed.CHAOS_API_VERSION,
            "kind": kind,
            "metadata": {"name": name, "namespace": NS},
            "spec": {**spec, **extra},
        }
        if name == "delay-paused-no-duration":
            manifest["metadata"]["annotations"] = {"experiment.chaos-mesh.org/pause": "true"}
        env.create_with_status(manifest, status)
    time.sleep(1.2)  # the 1s duration has run out
    yield env
    env.cleanup()


def test_one_shot_actions_and_the_edge_cases_have_chaos_meshs_phase(phase_env, kube_source, kube_session):
    session = kube_session(kube_source(phase_env))
    rows = session.execute(f"SELECT name, kind, action, phase FROM experiments WHERE namespace = '{NS}'").rows()
    shown = {name: phase for name, _, _, phase in rows}
    assert shown == {name: case[3] for name, case in CASES.items()}
    kinds = {name: (kind, action) for name, kind, action, _ in rows}
    assert kinds["vm-restart-done"] == ("AzureChaos", "vm-restart") and kinds["node-reset-done"] == (
        "GCPChaos",
        "node-reset",
    )
    # the targets table says the same of each record's experiment
    targets = session.execute(f"SELECT experiment, experiment_phase FROM targets WHERE namespace = '{NS}'").rows()
    assert targets and all(phase == shown[experiment] for experiment, phase in targets)
