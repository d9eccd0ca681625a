"""Expected answers computed straight from the demo JSON files, without chaosql.

The tests compare chaosql's answers with these; nothing here imports chaosql.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

DEMO = Path(__file__).resolve().parent.parent / "chaosql" / "demo"
DEMO_NOW = datetime.fromisoformat("2026-11-20T12:00:00+00:00")
INTERNAL = {"PodNetworkChaos", "PodIOChaos", "PodHttpChaos"}


def objects() -> list[tuple[str, dict]]:
    """(cluster, object) for every object in the demo snapshot."""
    out = []
    for file in sorted(DEMO.glob("*/*.json")):
        for item in json.loads(file.read_text())["items"]:
            out.append((file.parent.name, item))
    return out


def experiments() -> list[tuple[str, dict]]:
    return [
        (c, o)
        for c, o in objects()
        if o["apiVersion"].startswith("chaos-mesh.org/") and o["kind"].endswith("Chaos") and o["kind"] not in INTERNAL
    ]


def _cond(obj: dict, ctype: str) -> bool:
    return any(c["type"] == ctype and c["status"] == "True" for c in obj.get("status", {}).get("conditions", []))


def _seconds(text: str | None) -> float | None:
    if not text:
        return None
    total, number = 0.0, ""
    units = {"h": 3600, "m": 60, "s": 1}
    for ch in text:
        if ch.isdigit() or ch == ".":
            number += ch
        else:
            total += float(number) * units[ch]
            number = ""
    return total


#: Chaos Mesh's one-shot actions (api/v1alpha1: the +chaos-mesh:oneshot markers).
ONE_SHOT = {
    ("PodChaos", "pod-kill"),
    ("PodChaos", "container-kill"),
    ("AWSChaos", "ec2-restart"),
    ("AzureChaos", "vm-restart"),
    ("GCPChaos", "node-reset"),
}


def phase(obj: dict) -> str:
    """Chaos Mesh's status rule (GetChaosStatus, IsChaosFinished), written independently of chaosql."""
    if obj["metadata"].get("deletionTimestamp"):
        return "deleting"
    if _cond(obj, "Paused"):
        return "paused"
    exp = obj.get("status", {}).get("experiment", {})
    records = exp.get("containerRecords") or []
    if (obj["kind"], obj["spec"].get("action")) in ONE_SHOT:
        if records and all(r["phase"] == "Injected" for r in records):
            return "finished"
    elif exp.get("desiredPhase") != "Run" and all(r["phase"] == "Not Injected" for r in records):
        seconds = _seconds(obj["spec"].get("duration"))  # no duration: never finished
        created = datetime.fromisoformat(obj["metadata"]["creationTimestamp"].replace("Z", "+00:00"))
        if seconds is not None and created + timedelta(seconds=seconds) < datetime.now(created.tzinfo):
            return "finished"
    if _cond(obj, "Selected") and _cond(obj, "AllInjected"):
        return "running"
    return "injecting"


def count_by(key) -> Counter:
    return Counter(key(c, o) for c, o in experiments())


def targets_per_experiment() -> Counter:
    return Counter(
        {
            (c, o["metadata"]["namespace"], o["metadata"]["name"]): len(
                o.get("status", {}).get("experiment", {}).get("containerRecords") or []
            )
            for c, o in experiments()
        }
    )


def events_per_experiment() -> Counter:
    return Counter(
        (c, o["involvedObject"]["namespace"], o["involvedObject"]["name"])
        for c, o in objects()
        if o["kind"] == "Event"
        and o["involvedObject"]["apiVersion"].startswith("chaos-mesh.org/")
        and o["involvedObject"]["kind"].endswith("Chaos")
    )


def injected_targets_per_node() -> Counter:
    """(cluster, node) -> records in phase Injected whose pod runs there."""
    pods = {
        (c, o["metadata"]["namespace"], o["metadata"]["name"]): o["spec"].get("nodeName")
        for c, o in objects()
        if o["kind"] == "Pod"
    }
    out: Counter = Counter()
    for c, o in experiments():
        if o["kind"] == "PhysicalMachineChaos":
            continue
        for r in o.get("status", {}).get("experiment", {}).get("containerRecords") or []:
            parts = r["id"].split("/")
            node = pods.get((c, parts[0], parts[1])) if len(parts) >= 2 else None
            if r["phase"] == "Injected" and node:
                out[(c, node)] += 1
    return out
