"""A small service of ours that Prometheus scrapes, and a stand-in for the part of Chaos Mesh no test
runs: the injection.

No Chaos Mesh controller (or network, or kernel) is there in the tests to add latency to anything,
so :class:`ChaosService` plays both sides, and says how:

* the **service** serves ``/metrics`` (``promenv.Exporter``) with two gauges about itself,
  ``service_p99_seconds{service="checkout"}`` and ``service_error_ratio{service="checkout"}``;
* the **controller stand-in** polls the real kube-apiserver every ``POLL`` seconds for NetworkChaos
  objects whose selector picks ``app=<service>``, that are not paused (Chaos Mesh's pause
  annotation) and not being deleted, and injects the largest ``spec.delay.latency`` among them;
  with a Chaosd server it also polls ``GET /api/experiments/`` and, while any attack there is
  applied (status ``success``), the service fails ``CHAOSD_ERROR_RATIO`` of its requests — except
  disk fills, which hurt only once the bytes they fill together pass ``fill_tolerance``.

The service is built with a breaking point: its p99 is ``base`` plus the injected delay while the
delay is at most ``tolerance``; past that its requests time out and the p99 is ``broken``. A test
may also move a gauge by hand (``override``) to make a breach, or a blip, of exactly known length.

Nothing here talks to chaosql: the guard and sweep code under test see only the real apiserver,
the real Chaosd and the real Prometheus.
"""

from __future__ import annotations

import math
import re
import threading
import time
from typing import Any

from promenv import Exporter

POLL = 0.1
CHAOSD_ERROR_RATIO = 0.5
PAUSE_ANNOTATION = "experiment.chaos-mesh.org/pause"
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def seconds(duration: str) -> float:
    """A Go duration as Chaos Mesh reads ``delay.latency``: ``"150ms"`` -> 0.15."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)", duration or "")
    return sum(float(n) * _UNITS[u] for n, u in parts)


class ChaosService:
    def __init__(
        self,
        *,
        service: str = "checkout",
        base: float = 0.05,
        tolerance: float = 10.0,
        broken: float = 2.0,
        kube: Any = None,
        chaosd_url: str | None = None,
        fill_tolerance: float = math.inf,
    ) -> None:
        self.service, self.base, self.tolerance, self.broken = service, base, tolerance, broken
        self.kube, self.chaosd_url, self.fill_tolerance = kube, chaosd_url, fill_tolerance
        self.injected = 0.0  # seconds of delay the stand-in injects now
        self.attacked = False  # a Chaosd attack that hurts is applied
        self.override: dict[str, float] = {}  # gauge name -> value set by the test
        self.exporter = Exporter()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._control, name="chaos-service", daemon=True)
        self._publish()

    # --- the service ------------------------------------------------------------------------

    @property
    def address(self) -> str:
        return self.exporter.address

    def p99(self) -> float:
        if "service_p99_seconds" in self.override:
            return self.override["service_p99_seconds"]
        if self.injected > self.tolerance:
            return self.broken
        return round(self.base + self.injected, 6)

    def error_ratio(self) -> float:
        if "service_error_ratio" in self.override:
            return self.override["service_error_ratio"]
        return CHAOSD_ERROR_RATIO if self.attacked else 0.0

    def set(self, gauge: str, value: float | None) -> None:
        """Move a gauge by hand (``None``: back to what the injection says)."""
        with self._lock:
            if value is None:
                self.override.pop(gauge, None)
            else:
                self.override[gauge] = value
        self._publish()

    def _publish(self) -> None:
        labels = f'{{service="{self.service}"}}'
        self.exporter.text = (
            "# TYPE service_p99_seconds gauge\n"
            f"service_p99_seconds{labels} {self.p99()}\n"
            "# TYPE service_error_ratio gauge\n"
            f"service_error_ratio{labels} {self.error_ratio()}\n"
        )

    # --- the controller stand-in --------------------------------------------------------------

    def _control(self) -> None:
        while not self._stop.wait(POLL):
            try:
                injected = self._network_delay() if self.kube is not None else 0.0
                attacked = self._chaosd_hurts() if self.chaosd_url else False
            except Exception:  # the apiserver restarting, chaosd busy: keep the last state
                continue
            if (injected, attacked) != (self.injected, self.attacked):
                self.injected, self.attacked = injected, attacked
                self._publish()

    def _network_delay(self) -> float:
        items = self.kube.request("GET", "/apis/chaos-mesh.org/v1alpha1/networkchaos")["items"]
        delays = [0.0]
        for obj in items:
            meta, spec = obj["metadata"], obj.get("spec") or {}
            if (meta.get("annotations") or {}).get(PAUSE_ANNOTATION) == "true" or meta.get("deletionTimestamp"):
                continue
            if ((spec.get("selector") or {}).get("labelSelectors") or {}).get("app") != self.service:
                continue
            delays.append(seconds((spec.get("delay") or {}).get("latency", "")))
        return max(delays)

    def _chaosd_hurts(self) -> bool:
        import json

        import httpx

        found = httpx.get(self.chaosd_url.rstrip("/") + "/api/experiments/", timeout=5).json()
        applied = [e for e in found or [] if e.get("status") == "success"]
        fills = [e for e in applied if e.get("kind") == "disk-server" and e.get("action") == "fill"]
        filled = sum(int(json.loads(e["recover_command"])["FAllocateOption"]["Length"]) for e in fills)
        return len(applied) > len(fills) or filled > self.fill_tolerance

    # --- life cycle ---------------------------------------------------------------------------

    def __enter__(self) -> ChaosService:
        self.exporter.__enter__()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self.exporter.__exit__(*exc)


def network_delay(kube: Any, ns: str, name: str, *, app: str = "checkout", latency: str = "100ms") -> dict:
    """Create a NetworkChaos delaying the pods of ``app`` in ``ns`` (the stand-in injects it)."""
    return kube.create(
        {
            "apiVersion": "chaos-mesh.org/v1alpha1",
            "kind": "NetworkChaos",
            "metadata": {"name": name, "namespace": ns},
            "spec": {
                "action": "delay",
                "mode": "all",
                "selector": {"namespaces": [ns], "labelSelectors": {"app": app}},
                "delay": {"latency": latency},
            },
        }
    )


def pause_guard(where: str, name: str = "checkout-p99", **tunables: Any) -> str:
    """A guard file pausing the experiments (those ``where`` selects, a condition on ``e``) whose
    target service's p99 is above 300 ms; ``tunables`` are its other keys (every, for, ...)."""
    import json

    lines = [f"{k} = {json.dumps(v)}" for k, v in tunables.items()]
    return "\n".join(
        [
            "[[guard]]",
            f'name = "{name}"',
            f'''when = """
SELECT e.cluster, e.namespace, e.name, e.kind, m.value AS p99
FROM experiments e JOIN metrics m ON m.labels['service'] = e.selector->>'$.labelSelectors.app'
WHERE {where} AND NOT e.paused
  AND m.query = 'service_p99_seconds' AND m.value > 0.3"""''',
            '''then = """
UPDATE experiments SET paused = true
WHERE (cluster, namespace, name, kind) IN (SELECT cluster, namespace, name, kind FROM breach)"""''',
            *lines,
        ]
    )


def wait_until(predicate: Any, timeout: float, interval: float = 0.05) -> Any:
    """Poll ``predicate`` until it returns something true; that value, or None after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)
