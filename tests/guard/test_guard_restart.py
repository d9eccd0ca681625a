"""The guard keeps running while the kube-apiserver stops and starts again (same data, same port):
blind while it is gone, seeing again when it is back, and still acting on a breach after."""

from __future__ import annotations

import time

from chaos_service import network_delay, wait_until
from guardenv import guard_toml, paused


def test_guard_keeps_running_across_an_apiserver_restart(kube, prom, service, ns, run_guard):
    network_delay(kube, ns, "net-a", latency="50ms")
    guard = run_guard(guard_toml(ns, every="1s"), prom=prom)
    guard.log.wait_for("evaluated", 60)

    kube.stop()
    try:
        blind = guard.log.wait_for("blind", 30)
        assert "c1" in blind["error"] and blind["on_blind"] == "hold"
        time.sleep(3)  # a few evaluations while the cluster is gone
        assert guard.thread.is_alive()
    finally:
        kube.start_again()
    guard.log.wait_for("sight-restored", 90)

    service.set("service_p99_seconds", 0.5)
    assert wait_until(lambda: paused(kube, ns) == {"net-a": True}, 60)
    assert guard.log.wait_for("acted", 10)["status"] == "UPDATE 1"
    assert not guard.log.records("internal-error")
    assert guard.stop() == 0
