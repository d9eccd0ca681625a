"""Benchmark (not a test): what ``chaosql export`` costs at scale, a scrape's time and the process's memory.

Runs the exporter as users do (``python -m chaosql export``, a subprocess, under ``nice``) over N
experiments of six kinds, with injection records and a Failed event for every tenth, spread over
clusters and namespaces, and scrapes it over HTTP:

- ``refresh``: ``--min-interval 0``, so every scrape runs every family's query (the worst case: a
  scraper that asks as often as it likes with no interval);
- ``cached``: the default interval, so scrapes between refreshes get the rendered set again (what
  Prometheus sees most of the time when it scrapes more often than --min-interval);

and reports per-scrape wall time (median and best), the exposition's size and series, the
exporter's own ``refresh_duration_seconds`` and slowest families, its resident memory now and at
its peak (VmRSS, VmHWM), the machine's cores and load average at the start and the end.

    python bench/export.py                             # 10,000 experiments in a snapshot, 2 clusters
    python bench/export.py --experiments 2000 --repeat 5
    python bench/export.py --kube                      # the same over a real kube-apiserver (watch cache)

The kube mode seeds a kube-testenv apiserver as bench/kube.py does (minutes for 10,000) and runs
the exporter against it with its watch cache, as it runs in a cluster.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "bench")]

from export_support import RunningExport  # noqa: E402
from kubeenv import CHAOS_API_VERSION, experiment_status, record  # noqa: E402

KINDS = {  # kind -> a minimal valid spec with something to inject
    "PodChaos": {"action": "pod-failure", "mode": "one", "duration": "5m"},
    "NetworkChaos": {"action": "delay", "mode": "all", "delay": {"latency": "50ms", "jitter": "5ms"}, "duration": "5m"},
    "StressChaos": {"mode": "one", "stressors": {"cpu": {"workers": 2, "load": 80}}, "duration": "5m"},
    "IOChaos": {"action": "latency", "mode": "one", "volumePath": "/data", "delay": "10ms", "percent": 50},
    "TimeChaos": {"mode": "one", "timeOffset": "-1h"},
    "HTTPChaos": {"mode": "all", "target": "Request", "port": 80, "abort": True},
}


def snapshot(directory: Path, experiments: int, clusters: int, namespaces: int) -> Path:
    """DIR/<cluster>/objects.json: ``experiments`` spread over clusters and namespaces."""
    per_cluster: list[list[dict]] = [[] for _ in range(clusters)]
    for i in range(experiments):
        kind = list(KINDS)[i % len(KINDS)]
        ns = f"bench-{i % namespaces:02d}"
        name = f"{kind.lower()}-{i:05d}"
        records = [record(f"{ns}/web-{(i + k) % 25}", "Injected") for k in range(i % 3)]
        items = per_cluster[i % clusters]
        items.append(
            {
                "apiVersion": CHAOS_API_VERSION,
                "kind": kind,
                "metadata": {
                    "name": name,
                    "namespace": ns,
                    "uid": f"uid-{i}",
                    "labels": {"team": f"t{i % 7}"},
                    "creationTimestamp": "2026-11-20T10:00:00Z",
                },
                "spec": {**KINDS[kind], "selector": {"namespaces": [ns], "labelSelectors": {"app": "web"}}},
                "status": experiment_status(records),
            }
        )
        if i % 10 == 0:
            items.append(
                {
                    "apiVersion": "v1",
                    "kind": "Event",
                    "metadata": {"name": f"ev-{i}", "namespace": ns, "uid": f"ev-{i}"},
                    "involvedObject": {"apiVersion": CHAOS_API_VERSION, "kind": kind, "name": name},
                    "reason": "Failed",
                    "type": "Warning",
                    "count": 1 + i % 4,
                    "lastTimestamp": "2026-11-20T10:05:00Z",
                }
            )
    for c, items in enumerate(per_cluster):
        cluster = directory / f"cluster-{c}"
        cluster.mkdir(parents=True, exist_ok=True)
        (cluster / "objects.json").write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    return directory


def memory(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of ``pid`` in MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def scrape(address: str) -> tuple[float, str]:
    started = time.perf_counter()
    with urllib.request.urlopen(f"http://{address}/metrics", timeout=600) as answer:
        body = answer.read().decode()
    return time.perf_counter() - started, body


def gzip_scrape(address: str) -> tuple[float, int]:
    """Seconds and bytes of a scrape as Prometheus asks for it (gzip, OpenMetrics)."""
    headers = {"Accept-Encoding": "gzip", "Accept": "application/openmetrics-text;version=1.0.0"}
    started = time.perf_counter()
    with urllib.request.urlopen(urllib.request.Request(f"http://{address}/metrics", headers=headers)) as answer:
        size = len(answer.read())
    return time.perf_counter() - started, size


def self_metric(body: str, name: str) -> dict[str, float]:
    out = {}
    for match in re.finditer(rf"^{name}(\{{[^}}]*\}})? (\S+)$", body, re.M):
        out[match.group(1) or ""] = float(match.group(2))
    return out


def run(label: str, args: list[str], env: dict[str, str], repeat: int, expected: int) -> None:
    export = RunningExport(*args, env=env)
    try:
        pid = export.proc.pid
        idle_rss, _ = memory(pid)
        first, body = scrape(export.address)  # the first refresh: parse, fill the cache, all families
        times = []
        for _ in range(repeat):
            elapsed, body = scrape(export.address)
            times.append(elapsed)
        zipped = [gzip_scrape(export.address) for _ in range(3)]
        rss, hwm = memory(pid)
        series = sum(1 for line in body.splitlines() if line and not line.startswith("#"))
        experiments = sum(self_metric(body, "chaosql_experiments").values())
        assert experiments == expected, f"the exporter counted {experiments} experiments, not {expected}"
        down = [k[9:-2] for k, v in self_metric(body, "chaosql_export_family_up").items() if v != 1]
        if down:
            print(f"{label:<8} families DOWN: {', '.join(down)} (see the exporter's log)")
        refresh = self_metric(body, "chaosql_export_refresh_duration_seconds").get("", float("nan"))
        families = self_metric(body, "chaosql_export_family_duration_seconds")
        slowest = sorted(families.items(), key=lambda kv: -kv[1])[:3]
        print(
            f"{label:<8} first scrape {first:6.2f} s; then median {statistics.median(times):6.3f} s, "
            f"best {min(times):6.3f} s over {repeat}; last refresh {refresh:.2f} s; "
            f"{len(body) / 1e6:.1f} MB, {series} samples"
        )
        print(
            f"{'':<8} as Prometheus asks (gzip, OpenMetrics): best {min(t for t, _ in zipped):.3f} s, "
            f"{zipped[0][1] / 1e6:.1f} MB on the wire"
        )
        print(f"{'':<8} memory: {idle_rss:.0f} MB before the first scrape, {rss:.0f} MB after, peak {hwm:.0f} MB")
        print(f"{'':<8} slowest families: " + ", ".join(f"{k[9:-2]} {v:.2f} s" for k, v in slowest))
    finally:
        export.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--experiments", type=int, default=10_000)
    parser.add_argument("--clusters", type=int, default=2, help="snapshot mode: clusters to spread them over")
    parser.add_argument("--namespaces", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--nice", type=int, default=10, help="niceness of the exporter process (default 10)")
    parser.add_argument("--kube", action="store_true", help="over a real kube-apiserver with the watch cache")
    args = parser.parse_args()

    os.nice(args.nice)  # the exporter subprocess inherits it
    load_start = os.getloadavg()
    env: dict[str, str] = {}
    print(
        f"{args.experiments} experiments, {os.cpu_count()} cores, nice {os.nice(0)}, "
        f"load average {load_start[0]:.2f} {load_start[1]:.2f} {load_start[2]:.2f} at the start"
    )
    with tempfile.TemporaryDirectory(prefix="chaosql-bench-export-") as tmp:
        kube_env = None
        if args.kube:
            from kube import seed  # bench/kube.py
            from kubeenv import KubeTestEnv

            kube_env = KubeTestEnv()
            kube_env.start("export-bench")
            t0 = time.perf_counter()
            seed(kube_env, args.experiments, args.namespaces)
            print(f"seeded the apiserver in {time.perf_counter() - t0:.0f} s")
            sources = ["--source", "kube:admin"]
            env["KUBECONFIG"] = str(kube_env.kubeconfig)
        else:
            directory = snapshot(Path(tmp) / "snap", args.experiments, args.clusters, args.namespaces)
            sources = ["--source", f"snapshot:{directory}"]
        try:
            run("refresh", [*sources, "--min-interval", "0"], env, args.repeat, args.experiments)
            run("cached", [*sources, "--min-interval", "3600"], env, args.repeat, args.experiments)
        finally:
            if kube_env is not None:
                kube_env.cleanup()
    load_end = os.getloadavg()
    print(f"load average {load_end[0]:.2f} {load_end[1]:.2f} {load_end[2]:.2f} at the end")


if __name__ == "__main__":
    main()
