"""An experiment's phase as Chaos Mesh computes it (``pkg/status.GetChaosStatus`` and
``controllers/utils/controller.IsChaosFinished``), for every kind, its one-shot actions and the edge
cases chaosql documents; and scripts/gen_demo.py's phases are the table's.

The objects are shaped as the Chaos Mesh controllers write them (records, desiredPhase, the
conditions the condition controller derives from the records); ``phase`` is what the
``experiments`` table shows.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chaosql.sources.chaosmesh import ONE_SHOT_ACTIONS, go_duration, is_one_shot
from chaosql.tables.experiments import experiment_phase

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
#: Every experiment kind of Chaos Mesh v2.8 and an action it accepts (one-shot ones listed apart).
KINDS = {
    "AWSChaos": "ec2-stop",
    "AzureChaos": "vm-stop",
    "BlockChaos": "delay",
    "DNSChaos": "error",
    "GCPChaos": "node-stop",
    "HTTPChaos": None,
    "IOChaos": "latency",
    "JVMChaos": "latency",
    "KernelChaos": None,
    "NetworkChaos": "delay",
    "PhysicalMachineChaos": "stress-cpu",
    "PodChaos": "pod-failure",
    "StressChaos": None,
    "TimeChaos": None,
}
ONE_SHOT = [
    ("PodChaos", "pod-kill"),
    ("PodChaos", "container-kill"),
    ("AWSChaos", "ec2-restart"),
    ("AzureChaos", "vm-restart"),
    ("GCPChaos", "node-reset"),
]


def chaos(
    kind: str,
    action: str | None,
    records: list[str] | None,
    *,
    desired: str | None = "Run",
    duration: str | None = None,
    age: float = 3600,
    paused: bool = False,
    deleting: bool = False,
    conditions: bool = True,
) -> dict:
    """An experiment created ``age`` seconds before NOW whose records have the given phases."""
    spec = {"action": action} if action else {}
    if duration is not None:
        spec["duration"] = duration
    meta = {"name": "x", "namespace": "ns", "creationTimestamp": (NOW - timedelta(seconds=age)).isoformat()}
    if deleting:
        meta["deletionTimestamp"] = NOW.isoformat()
    status: dict = {}
    if desired is not None:
        status["experiment"] = {"desiredPhase": desired}
        if records:
            status["experiment"]["containerRecords"] = [{"id": f"ns/p{i}", "phase": p} for i, p in enumerate(records)]
    if conditions and records is not None:
        status["conditions"] = [
            {"type": "Selected", "status": "True"},
            {"type": "AllInjected", "status": str(all(p == "Injected" for p in records))},
            {"type": "AllRecovered", "status": str(all(p == "Not Injected" for p in records))},
            {"type": "Paused", "status": str(paused)},
        ]
    return {"kind": kind, "metadata": meta, "spec": spec, "status": status}


def test_the_one_shot_actions_are_chaos_meshs():
    assert sorted(ONE_SHOT_ACTIONS) == sorted(ONE_SHOT)
    assert not any(is_one_shot(kind, action) for kind, action in KINDS.items())


@pytest.mark.parametrize(("kind", "action"), ONE_SHOT)
def test_a_one_shot_action_is_finished_once_every_record_is_injected(kind, action):
    # its desiredPhase stays Run: the desiredphase controller never stops a one-shot experiment
    assert experiment_phase(chaos(kind, action, ["Injected", "Injected"]), NOW) == "finished"
    assert experiment_phase(chaos(kind, action, ["Injected", "Not Injected"]), NOW) == "injecting"
    assert experiment_phase(chaos(kind, action, ["Injected"], paused=True), NOW) == "paused"
    assert experiment_phase(chaos(kind, action, ["Injected"], deleting=True), NOW) == "deleting"


@pytest.mark.parametrize(("kind", "action"), ONE_SHOT)
def test_a_one_shot_action_without_records_is_not_finished(kind, action):
    """Edge case 1: nothing injected yet. Running when the condition controller set Selected and
    AllInjected (it does for an empty selection), else injecting; never finished."""
    assert experiment_phase(chaos(kind, action, []), NOW) == "running"
    assert experiment_phase(chaos(kind, action, None), NOW) == "injecting"


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_any_other_kind_is_finished_when_stopped_recovered_and_past_its_duration(kind):
    action = KINDS[kind]
    assert experiment_phase(chaos(kind, action, ["Not Injected"], desired="Stop", duration="30m"), NOW) == "finished"
    # the same object before its duration ran out, with a record left, or still desired to run
    assert experiment_phase(chaos(kind, action, ["Not Injected"], desired="Stop", duration="2h"), NOW) == "injecting"
    assert experiment_phase(chaos(kind, action, ["Injected"], desired="Stop", duration="30m"), NOW) == "running"
    assert experiment_phase(chaos(kind, action, ["Injected"], desired="Run", duration="30m"), NOW) == "running"
    # all records Injected is not the end of a kind that is not one-shot
    assert experiment_phase(chaos(kind, action, ["Injected"]), NOW) == "running"


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_an_experiment_without_a_duration_never_finishes(kind):
    """Edge case 2: desiredPhase Stop, no duration, nothing injected (a paused experiment, or one
    whose pause the controller has not mirrored yet): Chaos Mesh does not call it finished."""
    stopped = chaos(kind, KINDS[kind], ["Not Injected"], desired="Stop")
    assert experiment_phase(stopped, NOW) == "injecting"
    assert experiment_phase(chaos(kind, KINDS[kind], ["Not Injected"], desired="Stop", paused=True), NOW) == "paused"
    assert experiment_phase(chaos(kind, KINDS[kind], [], desired="Stop"), NOW) == "running"


def test_the_duration_is_read_as_go_reads_it():
    # Go's time.Duration.Before: the end instant itself is not yet past
    assert experiment_phase(chaos("NetworkChaos", "delay", ["Not Injected"], desired="Stop", duration="1h"), NOW) == (
        "injecting"
    )
    assert experiment_phase(
        chaos("NetworkChaos", "delay", ["Not Injected"], desired="Stop", duration="59m59.5s"), NOW
    ) == ("finished")
    # an unparsable duration is Chaos Mesh's error path: finished without looking at the time
    assert experiment_phase(
        chaos("NetworkChaos", "delay", ["Not Injected"], desired="Stop", duration="5 min"), NOW
    ) == ("finished")
    assert [go_duration(d) for d in ("1h30m", "1.5h", ".5s", "2us", "3µs", "4μs", "-1m", "+2s", "0")] == [
        5400.0,
        5400.0,
        0.5,
        2e-6,
        3e-6,
        4e-6,
        -60.0,
        2.0,
        0.0,
    ]
    for bad in ("", "30", "1d", "1h 30m", "s", ".s", "1.2.3s", "1hs"):
        with pytest.raises(ValueError):
            go_duration(bad)


def test_an_experiment_the_controller_has_not_seen_follows_the_same_rule():
    """No status at all: desiredPhase is empty, not Run, so IsChaosFinished looks at the records
    (none) and the duration; without a duration it is injecting."""
    assert experiment_phase(chaos("StressChaos", None, None, desired=None, duration="1m"), NOW) == "finished"
    assert experiment_phase(chaos("StressChaos", None, None, desired=None, duration="2h"), NOW) == "injecting"
    assert experiment_phase(chaos("StressChaos", None, None, desired=None), NOW) == "injecting"


def test_the_table_and_the_demo_generator_agree_with_chaos_mesh_on_every_demo_object(demo_session):
    """scripts/gen_demo.py writes its phase counts with chaosql.sources.chaosmesh.status; the
    experiments table uses the same function. Both are checked here against test_demo_data's own
    re-implementation of Chaos Mesh's rule, object by object, at the wall clock's now."""
    from test_demo_data import CLUSTERS, experiments
    from test_demo_data import phase as chaos_mesh_phase

    rows = demo_session.execute("SELECT cluster, kind, namespace, name, phase FROM experiments").rows()
    table = {(c, k, ns, n): phase for c, k, ns, n, phase in rows}
    now = datetime.now(UTC)
    expected = {
        (c, o["kind"], o["metadata"]["namespace"], o["metadata"]["name"]): chaos_mesh_phase(o, now)
        for c in CLUSTERS
        for o in experiments(c)
    }
    assert table == expected
    assert {"finished", "running", "injecting", "paused", "deleting"} == set(table.values())
