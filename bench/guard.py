"""Benchmark: how fast a guard halts chaos, and what an idle guard costs.

Both parts run ``chaosql guard`` as a real subprocess (``--log-format json``) against a real
kube-apiserver (tests/kubeenv.py) and a real Prometheus scraping the test service of
tests/chaos_service.py every second.

1. **Halt latency** (``--trials``, default 20, with ``every = 5s``, ``for = 0``): per trial a new
   NetworkChaos targets the service, then its p99 is pushed above the guard's 300 ms. Measured:
   from the moment Prometheus first answers the breach (polled every 20 ms) to the moment the
   experiment's pause annotation is set (polled every 20 ms on the apiserver). Trials start at a
   random point of the guard's 5 s cycle, so the spread is mostly that cycle.
2. **Idle cost** (``--experiments``, default 10,000, as bench/kube.py seeds them): the guard's
   ``when`` joins every experiment with a metric and never breaches. Measured over
   ``--idle-seconds``: resident memory (VmRSS, and the peak VmHWM) and CPU time of the guard
   process, with the watch cache (the default) and with ``--set cache=false`` (a live list of every
   experiment kind per evaluation).

    python3 bench/guard.py                          # both parts
    python3 bench/guard.py --trials 5 --skip-idle
    python3 bench/guard.py --skip-latency --experiments 2000 --idle-seconds 30

Numbers only: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "bench")]

from chaos_service import ChaosService, network_delay, pause_guard, wait_until  # noqa: E402
from kubeenv import CHAOS_API_VERSION, KubeTestEnv  # noqa: E402
from promenv import PrometheusEnv  # noqa: E402

PAUSE = "experiment.chaos-mesh.org/pause"
P99 = 'service_p99_seconds{service="checkout"}'
CLK_TCK = os.sysconf("SC_CLK_TCK")


def latency_guard(ns: str, every: float) -> str:
    return pause_guard(f"e.kind = 'NetworkChaos' AND e.namespace = '{ns}'", every=f"{every:g}s")


#: Joins every experiment with the service's metric, and never breaches (the seeded ones target app=web).
IDLE_GUARD = pause_guard("true", "every-experiment", every="5s")


class Guard:
    """``chaosql guard`` in a subprocess, its JSON log collected."""

    def __init__(self, workdir: Path, guards: str, env: KubeTestEnv, prom: PrometheusEnv, *extra: str) -> None:
        (workdir / "guards.toml").write_text(guards)
        (workdir / "config.toml").write_text(
            f'[sources.c1]\ntype = "kube"\ncontext = "admin"\nkubeconfig = "{env.kubeconfig}"\n\n'
            f'[sources.prom]\ntype = "prometheus"\nurl = "{prom.url}"\n'
        )
        environ = dict(os.environ, PYTHONPATH=str(REPO))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "chaosql", "guard", str(workdir / "guards.toml"), "--config",
             str(workdir / "config.toml"), "--log-format", "json", "-v", *extra],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=environ,
        )  # fmt: skip
        self.lines: list[str] = []
        threading.Thread(target=lambda: self.lines.extend(self.proc.stderr), daemon=True).start()

    def records(self, event: str) -> list[dict]:
        return [r for r in map(json.loads, list(self.lines)) if r["event"] == event]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(60)


def prom_value(prom: PrometheusEnv) -> float | None:
    result = prom.api("/api/v1/query?query=" + quote(P99))["data"]["result"]
    return float(result[0]["value"][1]) if result else None


def halt_latency(env: KubeTestEnv, prom: PrometheusEnv, service: ChaosService, trials: int, every: float) -> None:
    ns = "bench-latency"
    env.create_namespace(ns)
    with tempfile.TemporaryDirectory() as tmp:
        guard = Guard(Path(tmp), latency_guard(ns, every), env, prom)
        try:
            assert wait_until(lambda: guard.records("evaluated"), 120), "".join(guard.lines[-20:])
            samples = []
            for trial in range(trials):
                name = f"net-{trial:02d}"
                network_delay(env, ns, name, latency="50ms")
                time.sleep(random.uniform(0, every))  # land anywhere in the guard's cycle
                service.set("service_p99_seconds", 0.5)
                assert wait_until(lambda: (prom_value(prom) or 0) > 0.3, 30, interval=0.02)
                seen = time.monotonic()
                path = env.path(CHAOS_API_VERSION, "NetworkChaos", ns, name)

                def paused(path: str = path) -> bool:
                    obj = env.request("GET", path)
                    return (obj["metadata"].get("annotations") or {}).get(PAUSE) == "true"

                assert wait_until(paused, 60, interval=0.02), "".join(guard.lines[-20:])
                samples.append(time.monotonic() - seen)
                print(f"  trial {trial + 1:2d}: {samples[-1]:.2f} s", file=sys.stderr)
                service.set("service_p99_seconds", None)
                assert wait_until(lambda: (prom_value(prom) or 1) < 0.3, 30, interval=0.05)
                env.delete(CHAOS_API_VERSION, "NetworkChaos", name, ns)
        finally:
            guard.stop()
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    print(
        f"halt latency over {len(samples)} trials, every = {every:g} s: p50 {statistics.median(samples):.2f} s, "
        f"p99 {p99:.2f} s, min {ordered[0]:.2f} s, max {ordered[-1]:.2f} s"
    )


def proc_usage(pid: int) -> tuple[float, float, float]:
    """(RSS MiB, peak RSS MiB, CPU seconds) of a process."""
    status = Path(f"/proc/{pid}/status").read_text()
    fields = {line.split(":")[0]: line.split()[1] for line in status.splitlines() if line.startswith("Vm")}
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(stat[11]) + int(stat[12])) / CLK_TCK
    return int(fields["VmRSS"]) / 1024, int(fields["VmHWM"]) / 1024, cpu


def idle_cost(env: KubeTestEnv, prom: PrometheusEnv, experiments: int, seconds: float) -> None:
    from kube import seed

    print(f"seeding {experiments} experiments ...", file=sys.stderr)
    started = time.perf_counter()
    seed(env, experiments, 20)
    print(f"seeded in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    for label, extra in (("watch cache", ()), ("cache=false", ("--set", "cache=false"))):
        with tempfile.TemporaryDirectory() as tmp:
            guard = Guard(Path(tmp), IDLE_GUARD, env, prom, *extra)
            try:
                assert wait_until(lambda g=guard: len(g.records("evaluated")) >= 3, 300), "".join(guard.lines[-20:])
                rss0, _, cpu0 = proc_usage(guard.proc.pid)
                evaluations0 = len(guard.records("evaluated"))
                time.sleep(seconds)
                rss, peak, cpu = proc_usage(guard.proc.pid)
                done = guard.records("evaluated")[evaluations0:]
                elapsed = [r["elapsed_ms"] for r in done]
                assert not guard.records("act"), "the idle guard acted"
            finally:
                guard.stop()
        print(
            f"idle, {experiments} experiments, {label}: RSS {rss:.0f} MiB (peak {peak:.0f} MiB, {rss0:.0f} at start), "
            f"CPU {100 * (cpu - cpu0) / seconds:.1f} % of a core over {seconds:g} s, "
            f"{len(done)} evaluations, when took median {statistics.median(elapsed) if elapsed else float('nan'):.0f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--every", type=float, default=5.0)
    parser.add_argument("--experiments", type=int, default=10_000)
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--skip-idle", action="store_true")
    args = parser.parse_args()

    env = KubeTestEnv().start("bench-guard")
    try:
        with ChaosService(kube=env) as service, PrometheusEnv(targets=[service.address]) as prom:
            prom.wait_for(P99, bool)
            if not args.skip_latency:
                halt_latency(env, prom, service, args.trials, args.every)
            if not args.skip_idle:
                service.kube = None  # no injection to play: the stand-in's polls would compete for the CPU
                idle_cost(env, prom, args.experiments, args.idle_seconds)
    finally:
        env.cleanup()


if __name__ == "__main__":
    main()
