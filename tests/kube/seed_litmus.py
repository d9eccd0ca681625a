"""LitmusChaos objects the live tests seed, each in a state whose row the tests know by hand.

No chaos-operator or litmus-go runs, so the objects carry the status those write: a ChaosEngine's
``status.engineStatus`` and ``status.experiments[]`` (the operator and runner), and a ChaosResult
per run named ``<engine>-<experiment>``, labelled ``chaosUID: <engine uid>`` (litmus-go). The
expected phases below are written out here, not computed with chaosql's code.
"""

from __future__ import annotations

from typing import Any

from kubeenv import KubeTestEnv
from seed import put

LITMUS = "litmuschaos.io/v1alpha1"
NODE_A, NODE_B = "litmus-node-a", "litmus-node-b"
PODS = {"nginx-0": (NODE_A, "10.7.0.10"), "nginx-1": (NODE_B, "10.7.0.11")}
APPINFO = {"applabel": "app=nginx", "appkind": "deployment"}  # appns: the engine's namespace

#: engine name -> (engineState, engineStatus, [(experiment, status, verdict, result)]), where
#: result is None (no ChaosResult yet) or (phase, verdict, probe %, passed, failed, stopped, targets)
ENGINES: dict[str, tuple[str, str, list[tuple[str, str | None, str | None, tuple | None]]]] = {
    "nginx-delete": (
        "stop",  # the operator's own stop on completion
        "completed",
        [
            (
                "pod-delete",
                "Completed",
                "Pass",
                ("Completed", "Pass", "100", 2, 0, 0, [("nginx-0", "reverted"), ("nginx-1", "reverted")]),
            )
        ],
    ),
    "nginx-cpu": (
        "active",
        "initialized",
        [("pod-cpu-hog", "Running", "Awaited", ("Running", "Awaited", "Awaited", 0, 0, 0, [("nginx-0", "injected")]))],
    ),
    "nginx-net": ("active", "initialized", [("pod-network-latency", "Waiting for Job Creation", None, None)]),
    "nginx-stopped": (
        "stop",
        "stopped",
        [
            (
                "pod-delete",
                "Forcefully Aborted",
                "Stopped",
                ("Stopped", "Stopped", "0", 1, 0, 1, [("nginx-1", "reverted")]),
            )
        ],
    ),
    "nginx-aborting": ("stop", "initialized", [("pod-memory-hog", "Running", "Awaited", None)]),
    "nginx-error": (
        "stop",
        "completed",
        [("container-kill", "Completed", "Error", ("Error", "Error", "0", 0, 0, 0, []))],
    ),
    "nginx-probe": (
        "stop",
        "completed",
        [
            (
                "pod-delete",
                "Completed",
                "Fail",
                ("Completed_With_Probe_Failure", "Fail", "50", 3, 1, 0, [("nginx-0", "reverted")]),
            )
        ],
    ),
    "multi": (
        "active",
        "initialized",
        [
            ("pod-delete", "Completed", "Pass", ("Completed", "Pass", "100", 1, 0, 0, [("nginx-1", "reverted")])),
            ("container-kill", "Running", "Awaited", None),
        ],
    ),
    "nginx-gone": ("active", "initialized", [("pod-delete", "Running", "Awaited", None)]),  # then deleted
}

#: (engine, experiment) -> (phase, verdict) as the experiments table must show them (by hand)
EXPECTED: dict[tuple[str, str], tuple[str, str | None]] = {
    ("nginx-delete", "pod-delete"): ("finished", "Pass"),
    ("nginx-cpu", "pod-cpu-hog"): ("running", "Awaited"),
    ("nginx-net", "pod-network-latency"): ("injecting", None),  # the stale ChaosResult is not its
    ("nginx-stopped", "pod-delete"): ("finished", "Stopped"),
    ("nginx-aborting", "pod-memory-hog"): ("paused", "Awaited"),
    ("nginx-error", "container-kill"): ("failed", "Error"),
    ("nginx-probe", "pod-delete"): ("finished", "Fail"),
    ("multi", "pod-delete"): ("finished", "Pass"),
    ("multi", "container-kill"): ("running", "Awaited"),
    ("nginx-gone", "pod-delete"): ("deleting", "Awaited"),
}
#: engines a user stopped (paused = true): not the operator's stop on completion
STOPPED_BY_USER = {"nginx-stopped", "nginx-aborting"}

#: Chaos Mesh objects next to them: name -> (kind, phase)
CHAOS_MESH = {"mesh-kill": ("PodChaos", "finished"), "mesh-delay": ("NetworkChaos", "running")}


def seed_litmus(env: KubeTestEnv, namespace: str = "shop", *, chaos_mesh: bool = True) -> dict[str, dict]:
    """Pods, the ``ENGINES`` with their ChaosResults and Events, a stale ChaosResult, and (with
    ``chaos_mesh``) the ``CHAOS_MESH`` experiments; returns the engines as created."""
    env.create_namespace(namespace)
    for name, (node, ip) in PODS.items():
        put(
            env,
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": name, "namespace": namespace, "labels": {"app": "nginx"}},
                "spec": {"nodeName": node, "containers": [{"name": "nginx", "image": "nginx"}]},
                "status": {"phase": "Running", "podIP": ip},
            },
        )
    created = {}
    for name, (state, engine_status, runs) in ENGINES.items():
        created[name] = _engine(env, namespace, name, state, engine_status, runs)
    # a ChaosResult left by an earlier engine called nginx-net: another chaosUID
    put(
        env,
        result_object(
            namespace, "nginx-net", "pod-network-latency", "0000-old-uid", ("Completed", "Fail", "0", 0, 1, 0, [])
        ),
    )
    if chaos_mesh:
        _chaos_mesh(env, namespace)
    return created


def _engine(env: KubeTestEnv, namespace: str, name: str, state: str, engine_status: str, runs: list) -> dict:
    engine = engine_object(namespace, name, state, engine_status, [run[:3] for run in runs])
    if name == "nginx-gone":
        engine["metadata"]["finalizers"] = ["chaosengine.litmuschaos.io/finalizer"]
    stored = put(env, engine)
    uid = stored["metadata"]["uid"]
    for exp, _, _, result in runs:
        if result is not None:
            put(env, result_object(namespace, name, exp, uid, result))
    _events(env, namespace, name, uid, runs)
    if name == "nginx-gone":
        env.delete(LITMUS, "ChaosEngine", name, namespace)
    return stored


def engine_object(namespace: str, name: str, state: str, engine_status: str, runs: list) -> dict:
    """A ChaosEngine running ``runs`` ([(experiment, its status, its verdict)]) as the operator leaves it."""
    meta: dict[str, Any] = {"name": name, "namespace": namespace, "labels": {"team": "storefront", "engine": name}}
    return {
        "apiVersion": LITMUS,
        "kind": "ChaosEngine",
        "metadata": meta,
        "spec": {
            "engineState": state,
            "appinfo": {"appns": namespace, **APPINFO},
            "chaosServiceAccount": "litmus-admin",
            "jobCleanUpPolicy": "retain",
            "experiments": [
                {"name": exp, "spec": {"components": {"env": [{"name": "TOTAL_CHAOS_DURATION", "value": "60"}]}}}
                for exp, *_ in runs
            ],
        },
        "status": {
            "engineStatus": engine_status,
            "experiments": [
                {"name": exp, "runner": f"{name}-runner", "status": status, "verdict": verdict or ""}
                for exp, status, verdict in runs
                if status is not None
            ],
        },
    }


def result_object(namespace: str, engine: str, experiment: str, uid: str, result: tuple) -> dict:
    """The ChaosResult litmus-go writes for a run; ``result`` as in ``ENGINES``."""
    phase, verdict, percent, passed, failed, stopped, targets = result
    status: dict[str, Any] = {
        "experimentStatus": {"phase": phase, "verdict": verdict, "probeSuccessPercentage": percent},
        "probeStatuses": [
            {"name": "check-frontend", "type": "httpProbe", "mode": "Continuous", "status": {"verdict": "Passed"}},
            {
                "name": "check-latency",
                "type": "promProbe",
                "mode": "Edge",
                "status": {"verdict": "Failed" if verdict == "Fail" else "Passed"},
            },
        ],
        "history": {
            "passedRuns": passed,
            "failedRuns": failed,
            "stoppedRuns": stopped,
            "targets": [{"name": t, "kind": "pod", "chaosStatus": s} for t, s in targets],
        },
    }
    if phase == "Error":
        status["experimentStatus"]["errorOutput"] = {
            "errorCode": "TARGET_SELECTION_ERROR",
            "reason": "no target pods found with label app=nginx-typo",
        }
    return {
        "apiVersion": LITMUS,
        "kind": "ChaosResult",
        "metadata": {
            "name": f"{engine}-{experiment}",
            "namespace": namespace,
            "labels": {"chaosUID": uid, "name": f"{engine}-{experiment}"},
        },
        "spec": {"engine": engine, "experiment": experiment},
        "status": status,
    }


def _events(env: KubeTestEnv, namespace: str, name: str, uid: str, runs: list) -> None:
    involved = {"apiVersion": LITMUS, "kind": "ChaosEngine", "name": name, "namespace": namespace, "uid": uid}
    reasons = [("ChaosEngineInitialized", "Normal", f"Identifying app under test & launching {name}-runner")]
    for exp, _, verdict, _ in runs:
        if verdict in ("Pass", "Fail"):
            reasons.append(
                ("Summary", "Normal" if verdict == "Pass" else "Warning", f"{exp} experiment has been {verdict}ed")
            )
    for i, (reason, kind, message) in enumerate(reasons):
        env.create(
            {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"name": f"{name}.{i}", "namespace": namespace},
                "involvedObject": involved,
                "reason": reason,
                "type": kind,
                "message": message,
                "count": 1,
                "firstTimestamp": "2026-11-20T10:00:00Z",
                "lastTimestamp": "2026-11-20T10:00:00Z",
                "source": {"component": "chaos-operator" if i == 0 else f"{name}-runner"},
            }
        )


def _chaos_mesh(env: KubeTestEnv, namespace: str) -> None:
    from kubeenv import CHAOS_API_VERSION, experiment_status, record

    select = {"namespaces": [namespace], "labelSelectors": {"app": "nginx"}}
    put(
        env,
        {
            "apiVersion": CHAOS_API_VERSION,
            "kind": "PodChaos",
            "metadata": {"name": "mesh-kill", "namespace": namespace},
            "spec": {"action": "pod-kill", "mode": "one", "selector": select},
            "status": experiment_status([record(f"{namespace}/nginx-0", "Injected")]),
        },
    )
    put(
        env,
        {
            "apiVersion": CHAOS_API_VERSION,
            "kind": "NetworkChaos",
            "metadata": {"name": "mesh-delay", "namespace": namespace},
            "spec": {"action": "delay", "mode": "all", "selector": select, "delay": {"latency": "50ms"}},
            "status": experiment_status(
                [record(f"{namespace}/nginx-0", "Injected"), record(f"{namespace}/nginx-1", "Injected")]
            ),
        },
    )
