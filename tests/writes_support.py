"""Helpers for the SQL write tests: read what chaosql wrote straight from the API and the audit log."""

from __future__ import annotations

import json
import os
import time

from kubeenv import CHAOS_API_VERSION, KubeTestEnv


def chaos_objects(env: KubeTestEnv, namespace: str, kind: str = "PodChaos") -> dict[str, dict]:
    """name -> object, read straight from the API (not through chaosql)."""
    items = env.list(CHAOS_API_VERSION, kind, namespace)["items"]
    return {o["metadata"]["name"]: o for o in items}


def audit_writes(env: KubeTestEnv, since: int, *, at_least: int = 0) -> list[dict]:
    """chaosql's non-read calls in the audit log after byte offset ``since``; waits (up to 10 s)
    for ``at_least`` of them, else a moment, since an event is logged as its response completes."""
    deadline = time.monotonic() + (10.0 if at_least else 0.5)
    while True:
        with open(env.audit_log, "rb") as fh:
            fh.seek(since)
            events = [json.loads(line) for line in fh.read().splitlines() if line.strip()]
        found = [
            e
            for e in events
            if e.get("userAgent", "").startswith("chaosql")
            and e.get("verb") not in ("get", "list", "watch")
            and e.get("stage") == "ResponseComplete"
        ]
        if time.monotonic() > deadline or (at_least and len(found) >= at_least):
            return found
        time.sleep(0.1)


def audit_offset(env: KubeTestEnv) -> int:
    return os.path.getsize(env.audit_log)
