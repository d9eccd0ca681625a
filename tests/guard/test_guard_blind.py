"""A guard that cannot see: Prometheus goes down (the module's own Prometheus, stopped for real),
and each guard does what its on_blind says."""

from __future__ import annotations

import time

from chaos_service import network_delay, wait_until
from guardenv import clean, guard_toml, paused


def guard(name: str, ns: str, on_blind: str) -> str:
    blind = f"SELECT cluster, namespace, name, kind FROM experiments WHERE kind = 'NetworkChaos' AND namespace = '{ns}'"
    extra = {"blind": blind} if on_blind == "act" else {}
    return guard_toml(ns, name, every="1s", on_blind=on_blind, **{"for": "3s"}, **extra) + "\n"


def test_prometheus_down_holds_or_acts_as_each_guard_says(kube, prom, service, ns, run_guard):
    held, acted = ns + "-hold", ns + "-act"
    try:
        for namespace in (held, acted):
            kube.create_namespace(namespace)
            network_delay(kube, namespace, "net-a", latency="50ms")
            network_delay(kube, namespace, "net-b", latency="50ms")
        blind_guards_hold_or_act(kube, prom, held, acted, run_guard)
    finally:
        clean(kube, held)
        clean(kube, acted)


def blind_guards_hold_or_act(kube, prom, held: str, acted: str, run_guard) -> None:
    running = run_guard(guard("hold", held, "hold") + guard("act", acted, "act"), prom=prom)
    running.log.wait_for("evaluated", 60, guard="hold")
    running.log.wait_for("evaluated", 60, guard="act")
    time.sleep(2)
    assert not running.log.records("blind") and not running.log.records("act")  # seeing, no breach

    prom.stop()  # Prometheus is down: connection refused from now on
    down = time.monotonic()
    assert running.log.wait_for("blind", 20, guard="hold")["on_blind"] == "hold"
    assert running.log.wait_for("blind", 20, guard="act")["on_blind"] == "act"

    # act: once blind for `for` (3 s), the blind query's rows are acted on
    assert wait_until(lambda: paused(kube, acted) == {"net-a": True, "net-b": True}, 30)
    assert time.monotonic() - down >= 3
    act = running.log.records("act", guard="act")[0]
    assert act["why"] == "blind" and {r["name"] for r in act["rows"]} == {"net-a", "net-b"}

    # hold: blind far longer than `for`, and nothing was touched
    time.sleep(max(0.0, down + 8 - time.monotonic()))
    assert paused(kube, held) == {"net-a": False, "net-b": False}
    assert not running.log.records("act", guard="hold")
    assert "prometheus" in running.log.records("blind", guard="hold")[0]["error"]
    assert running.stop() == 0
