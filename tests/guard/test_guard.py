"""chaosql guard against a real kube-apiserver and a real Prometheus scraping our test service.

The service's p99 comes from the NetworkChaos objects the controller stand-in sees (see
tests/chaos_service.py): up to 200 ms of delay it answers in base + delay, past that it breaks
(p99 2 s). A guard that pauses the offending experiments closes the loop: the stand-in stops
injecting, the p99 comes back.
"""

from __future__ import annotations

import json
import time
import urllib.request

import pytest
from chaos_service import network_delay, wait_until
from guardenv import P99, events_of, guard_toml, listed, paused, visible
from kubeenv import CHAOS_API_VERSION


def test_guard_pauses_the_experiments_of_the_suffering_service_within_every_plus_one_second(
    kube, prom, service, ns, run_guard
):
    every = 3.0
    for name in ("net-a", "net-b"):
        network_delay(kube, ns, name, latency="50ms")
    network_delay(kube, ns, "net-search", app="search", latency="500ms")  # another service: never touched
    kube.create(
        {
            "apiVersion": CHAOS_API_VERSION,
            "kind": "PodChaos",
            "metadata": {"name": "kill", "namespace": ns},
            "spec": {"action": "pod-kill", "mode": "one", "selector": {"labelSelectors": {"app": "checkout"}}},
        }
    )
    guard = run_guard(guard_toml(ns, every=f"{every:g}s"), prom=prom)
    guard.log.wait_for("evaluated", 60)
    assert not any(paused(kube, ns).values())  # 50 ms of delay: p99 0.1 s, within the SLO

    network_delay(kube, ns, "net-c", latency="250ms")  # past what the service tolerates: p99 2 s
    seen = visible(prom, P99, lambda v: v > 0.3)
    assert wait_until(
        lambda: paused(kube, ns) == {"net-a": True, "net-b": True, "net-c": True, "net-search": False}, 30
    )
    halted = time.monotonic()
    assert halted - seen <= every + 1.0, f"paused {halted - seen:.2f} s after the breach was visible"
    assert paused(kube, ns, "PodChaos") == {"kill": False}  # only NetworkChaos: what `when` names

    guard.log.wait_for("acted", 10)
    acted = guard.log.records("acted")
    assert len(acted) == 1 and acted[0]["status"] == "UPDATE 3"
    assert {c["name"] for c in acted[0]["changed"]} == {"net-a", "net-b", "net-c"}
    assert "name = 'net-c'" in acted[0]["statement"]  # the breach rows became literals (pushed down)
    act = guard.log.records("act")[0]
    assert {r["name"] for r in act["rows"]} == {"net-a", "net-b", "net-c"} and act["rows"][0]["p99"] == 2.0

    # each experiment got an Event naming the guard and the value, as kubectl describe shows it
    assert wait_until(lambda: len(guard.log.records("event")) == 3, 10)
    found = {e["involvedObject"]["name"]: e for e in events_of(kube, ns) if e["reason"] == "ChaosqlGuardPaused"}
    assert set(found) == {"net-a", "net-b", "net-c"}
    uids = {o["metadata"]["name"]: o["metadata"]["uid"] for o in listed(kube, "NetworkChaos", ns)}
    for name, event in found.items():
        assert event["involvedObject"]["uid"] == uids[name] and event["involvedObject"]["kind"] == "NetworkChaos"
        assert event["message"] == 'chaosql guard "checkout-p99": p99 = 2; paused'
        assert event["type"] == "Warning" and event["source"]["component"] == "chaosql-guard"

    # the loop closes: nothing injects any more, the p99 comes back, the breach ends
    visible(prom, P99, lambda v: v < 0.3)
    guard.log.wait_for("breach-ended", 30)
    assert guard.stop() == 0


def test_a_blip_shorter_than_for_causes_nothing_and_a_longer_breach_acts_after_for(kube, prom, service, ns, run_guard):
    network_delay(kube, ns, "net-a", latency="50ms")
    guard = run_guard(guard_toml(ns, every="1s", **{"for": "6s"}), prom=prom)
    guard.log.wait_for("evaluated", 60)

    service.set("service_p99_seconds", 0.5)  # a 2.5 s blip
    visible(prom, P99, lambda v: v > 0.3)
    time.sleep(2.5)
    service.set("service_p99_seconds", None)
    visible(prom, P99, lambda v: v < 0.3)
    ended = guard.log.wait_for("breach-ended", 15)
    assert ended["lasted"] < 6
    time.sleep(3)
    assert paused(kube, ns) == {"net-a": False}
    assert not guard.log.records("act")

    service.set("service_p99_seconds", 0.5)  # now a breach that lasts
    seen = visible(prom, P99, lambda v: v > 0.3)
    assert wait_until(lambda: paused(kube, ns) == {"net-a": True}, 30)
    waited = time.monotonic() - seen
    assert waited >= 6 - 1.5, f"acted {waited:.1f} s after the breach was visible, before for = 6 s"
    assert guard.log.records("act")[0]["rows"][0]["name"] == "net-a"


def test_dry_run_logs_the_validated_plan_and_changes_nothing(kube, prom, service, ns, run_guard):
    network_delay(kube, ns, "net-a", latency="50ms")
    network_delay(kube, ns, "net-b", latency="50ms")
    guard = run_guard(guard_toml(ns, every="1s", dry_run=True, cooldown="1m"), prom=prom)
    guard.log.wait_for("evaluated", 60)
    service.set("service_p99_seconds", 0.5)
    dry = guard.log.wait_for("dry-run", 30)
    assert sorted(step["method"] for step in dry["plan"]) == ["PATCH", "PATCH"]
    assert {step["dry_run"] for step in dry["plan"]} == {"ok"}  # the server's dry run accepted each
    assert sum(call.startswith("PATCH") and call.endswith("?dryRun=All") for call in dry["calls"]) == 2
    assert "would-act" in {r["event"] for r in guard.log.records()}
    time.sleep(3)  # more evaluations: still breaching, in cooldown, and still nothing written
    assert paused(kube, ns) == {"net-a": False, "net-b": False}
    assert not [e for e in events_of(kube, ns) if e["reason"].startswith("ChaosqlGuard")]
    assert not guard.log.records("acted") and len(guard.log.records("dry-run")) == 1


def test_an_action_over_max_rows_is_refused_whole(kube, prom, service, ns, run_guard):
    for name in ("net-a", "net-b", "net-c"):
        network_delay(kube, ns, name, latency="50ms")
    guard = run_guard(guard_toml(ns, every="1s", max_rows=2), prom=prom)
    guard.log.wait_for("evaluated", 60)
    service.set("service_p99_seconds", 0.5)
    failed = guard.log.wait_for("action-failed", 30)
    assert "more than max_rows = 2 rows; nothing was written" in failed["error"]
    assert paused(kube, ns) == {"net-a": False, "net-b": False, "net-c": False}
    assert not [e for e in events_of(kube, ns) if e["reason"].startswith("ChaosqlGuard")]


def test_health_endpoint_reports_each_guard(kube, prom, ns, run_guard):
    guard = run_guard(guard_toml(ns, every="1s"), prom=prom, health=True)
    guard.log.wait_for("evaluated", 60)
    address = guard.log.records("start")[0]["health"]
    with urllib.request.urlopen(f"http://{address}/healthz", timeout=10) as answer:
        assert answer.status == 200
        body = json.loads(answer.read())
    assert body["status"] == "ok"
    (only,) = body["guards"]
    assert only["name"] == "checkout-p99" and only["evaluations"] >= 1 and only["state"] == "watching"


def namespaced_lists(kube, resource: str) -> float:
    """How many namespaced LISTs of ``resource`` the apiserver has answered (its own metrics)."""
    total = 0.0
    for line in kube.request("GET", "/metrics").splitlines():
        if line.startswith("apiserver_request_total{") and 'verb="LIST"' in line and 'scope="namespace"' in line:
            if f'resource="{resource}"' in line:
                total += float(line.rsplit(" ", 1)[1])
    return total


@pytest.mark.parametrize("cache", [True, False])
def test_each_evaluation_reads_the_watch_cache_not_the_apiserver(kube, prom, service, ns, run_guard, cache):
    network_delay(kube, ns, "net-a", latency="50ms")
    guard = run_guard(guard_toml(ns, every="1s"), prom=prom, cache=cache)
    assert wait_until(lambda: len(guard.log.records("evaluated")) >= 2, 60)
    lists = namespaced_lists(kube, "networkchaos")
    seen = len(guard.log.records("evaluated"))
    assert wait_until(lambda: len(guard.log.records("evaluated")) >= seen + 4, 30)
    listed_since = namespaced_lists(kube, "networkchaos") - lists
    if cache:  # the informer's one cluster-wide list and its watch answer every evaluation
        assert listed_since == 0
        network_delay(kube, ns, "net-b", latency="500ms")  # seen through the watch, and acted on
        assert wait_until(lambda: paused(kube, ns) == {"net-a": True, "net-b": True}, 30)
    else:  # --set cache=false: each evaluation lists the namespace (pushed down) live
        assert listed_since >= 4
