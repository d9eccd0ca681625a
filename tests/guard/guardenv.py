"""Helpers of the guard and sweep tests (their fixtures are in conftest.py): reading chaos objects
and Events straight from the API, the guard files the tests run, and a guard's decision log.

A module of its own, not conftest.py: test modules import these, and ``from conftest import``
would find whichever conftest.py (tests/kube's, ...) was imported first when several directories
are collected together.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from chaos_service import pause_guard, wait_until
from kubeenv import CHAOS_API_VERSION, ApiError, KubeTestEnv
from promenv import PrometheusEnv

P99 = 'service_p99_seconds{service="checkout"}'
REPO = Path(__file__).resolve().parents[2]
PAUSE = "experiment.chaos-mesh.org/pause"


def clean(kube: KubeTestEnv, ns: str) -> None:
    """Delete the chaos objects of ``ns``: no controller does it, and an unpaused NetworkChaos left
    behind would keep adding its delay to the test service for the tests after."""
    for kind in ("NetworkChaos", "PodChaos"):
        for obj in listed(kube, kind, ns):
            try:
                kube.delete(CHAOS_API_VERSION, kind, obj["metadata"]["name"], ns)
            except Exception:
                pass


def listed(kube: KubeTestEnv, kind: str, ns: str, timeout: float = 60.0) -> list[dict]:
    """The objects of a kind in ``ns``, read straight from the API; an apiserver that just started
    (again) answers 429 "storage is (re)initializing" for a moment, so that is waited out."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return kube.list(CHAOS_API_VERSION, kind, ns)["items"]
        except ApiError as err:
            if err.status not in (429, 500, 503) or time.monotonic() > deadline:
                raise
        time.sleep(0.2)


def guard_toml(ns: str, name: str = "checkout-p99", **tunables) -> str:
    """A guard pausing the NetworkChaos of ``ns`` whose target service's p99 is above 300 ms."""
    return pause_guard(f"e.kind = 'NetworkChaos' AND e.namespace = '{ns}'", name, **tunables)


def paused(kube: KubeTestEnv, ns: str, kind: str = "NetworkChaos") -> dict[str, bool]:
    """name -> paused, read straight from the API (not through chaosql)."""
    items = listed(kube, kind, ns)
    return {o["metadata"]["name"]: (o["metadata"].get("annotations") or {}).get(PAUSE) == "true" for o in items}


def events_of(kube: KubeTestEnv, ns: str) -> list[dict]:
    return kube.request("GET", f"/api/v1/namespaces/{ns}/events")["items"]


def visible(prom: PrometheusEnv, promql: str, predicate, timeout: float = 20.0) -> float:
    """The moment (monotonic) Prometheus first answers ``promql`` with a value ``predicate`` accepts."""
    from urllib.parse import quote

    def check():
        result = prom.api("/api/v1/query?query=" + quote(promql))["data"]["result"]
        return bool(result) and predicate(float(result[0]["value"][1]))

    assert wait_until(check, timeout, interval=0.02), f"{promql} never matched in Prometheus"
    return time.monotonic()


class Log(io.TextIOBase):
    """The decision log as JSON records, collected as they are written."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            self.lines.extend(line for line in text.splitlines() if line.strip())
        return len(text)

    def records(self, event: str | None = None, guard: str | None = None) -> list[dict]:
        with self._lock:
            found = [json.loads(line) for line in self.lines]
        return [
            r for r in found if (event is None or r["event"] == event) and (guard is None or r.get("guard") == guard)
        ]

    def wait_for(self, event: str, timeout: float, guard: str | None = None) -> dict:
        found = wait_until(lambda: self.records(event, guard), timeout)
        assert found, f"no {event!r} in the log within {timeout} s:\n" + "\n".join(self.lines[-30:])
        return found[0]


class RunningGuard:
    def __init__(self, process, log: Log) -> None:
        self.process, self.log = process, log
        self.exit_code: int | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        self.exit_code = self.process.run(install_signals=False)

    def stop(self) -> int | None:
        self.process.stop()
        self.thread.join(60)
        return self.exit_code


def config_file(tmp_path: Path, *, kube: KubeTestEnv | None = None, prom=None, chaosd: str | None = None) -> Path:
    """A chaosql config naming the test servers: the apiserver as ``c1``, Prometheus as ``prom``,
    a chaosd node (its URL) as ``lab``."""
    sections = []
    if kube is not None:
        sections.append(f'[sources.c1]\ntype = "kube"\ncontext = "admin"\nkubeconfig = "{kube.kubeconfig}"\n')
    if prom is not None:
        sections.append(f'[sources.prom]\ntype = "prometheus"\nurl = "{prom.url}"\n')
    if chaosd is not None:
        sections.append(f'[sources.lab]\ntype = "chaosd"\nnodes = ["{chaosd}"]\n')
    path = tmp_path / "config.toml"
    path.write_text("\n".join(sections))
    return path


def chaosql_process(*args: str) -> subprocess.Popen:
    """``python -m chaosql ARGS`` as a real process of this tree, its stderr (the log) a text pipe."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    return subprocess.Popen(
        [sys.executable, "-m", "chaosql", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
