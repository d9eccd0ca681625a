"""``chaosql guard`` as the process a Deployment runs: a real subprocess with JSON-lines logs on
stderr, stopped by a real SIGTERM in the middle of an action — which then completes whole."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from chaos_service import network_delay, wait_until
from guardenv import chaosql_process, config_file, guard_toml, paused

COUNT = 120  # experiments paused by one statement: long enough to be stopped in the middle


def start(tmp_path: Path, guards: str, kube, prom) -> tuple[subprocess.Popen, list[str]]:
    path = tmp_path / "guards.toml"
    path.write_text(guards)
    config = config_file(tmp_path, kube=kube, prom=prom)
    proc = chaosql_process("guard", str(path), "--config", str(config), "--log-format", "json", "-v")
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True).start()
    return proc, lines


def records(lines: list[str], *events: str) -> list[dict]:
    found = [json.loads(line) for line in list(lines)]
    return [r for r in found if not events or r["event"] in events]


def breach_mid_action(tmp_path: Path, kube, prom, service, ns: str, signals: int) -> tuple[int, list[str]]:
    """COUNT breaching experiments, one guard pausing all of them in one statement; ``signals``
    SIGTERMs are sent as soon as the first experiment is paused (the action is under way)."""
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: network_delay(kube, ns, f"net-{i:03d}", latency="50ms"), range(COUNT)))
    proc, lines = start(tmp_path, guard_toml(ns, every="1s", max_rows=COUNT + 10), kube, prom)
    try:
        assert wait_until(lambda: records(lines, "evaluated"), 90), "".join(lines)
        service.set("service_p99_seconds", 0.5)
        assert wait_until(lambda: any(paused(kube, ns).values()), 60, interval=0.02)
        for sent in range(1, signals + 1):
            proc.send_signal(signal.SIGTERM)
            # the next one only once this one was handled (two signals at once would count as one)
            handled = lambda n=sent: len(records(lines, "stopping", "abandoning-actions")) >= n  # noqa: E731
            assert wait_until(handled, 30, 0.005)
        code = proc.wait(120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return code, lines


def test_sigterm_mid_action_finishes_the_write_whole_and_exits_cleanly(tmp_path, kube, prom, service, ns):
    code, lines = breach_mid_action(tmp_path, kube, prom, service, ns, signals=1)
    assert code == 0
    state = paused(kube, ns)
    assert len(state) == COUNT and all(state.values()), f"{sum(state.values())} of {COUNT} paused"

    log = records(lines)
    assert all({"ts", "level", "event"} <= set(r) for r in log)  # every stderr line is a JSON record
    stopping = records(lines, "stopping")[0]
    assert stopping["signal"] == "SIGTERM" and stopping["finishing_actions"] == ["checkout-p99"]
    (acted,) = records(lines, "acted")
    assert acted["status"] == f"UPDATE {COUNT}"
    assert log[-1]["event"] == "stopped" and log[-1]["exit_code"] == 0
    events = [r["event"] for r in log]
    assert events.index("stopping") < events.index("acted")  # signalled before the write ended
    assert "evaluated" not in events[events.index("acted") :]  # and no evaluation after it


def test_a_second_sigterm_abandons_the_action_which_rolls_back_whole(tmp_path, kube, prom, service, ns):
    code, lines = breach_mid_action(tmp_path, kube, prom, service, ns, signals=2)
    assert code == 0, "".join(lines)
    abandoned = records(lines, "abandoning-actions")
    assert abandoned and abandoned[0]["rolling_back"] == ["checkout-p99"], "".join(lines)
    (failed,) = records(lines, "action-failed")
    assert "rolled back" in failed["error"] and not records(lines, "acted")
    state = paused(kube, ns)
    assert len(state) == COUNT and not any(state.values()), f"{sum(state.values())} of {COUNT} left paused"
