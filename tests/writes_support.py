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


def audit_writes(env: KubeTestEnv, since: int) -> list[dict]:
    """chaosql's non-read calls in the audit log after byte offset ``since``."""
    time.sleep(0.3)  # the log backend writes each event when its response completes
    with open(env.audit_log, "rb") as fh:
        fh.seek(since)
        events = [json.loads(line) for line in fh.read().splitlines() if line.strip()]
    return [e for e in events if e.get("userAgent", "").startswith("chaosql")
            and e.get("verb") not in ("get", "list", "watch") and e.get("stage") == "ResponseComplete"]


def audit_offset(env: KubeTestEnv) -> int:
    return os.path.getsize(env.audit_log)
