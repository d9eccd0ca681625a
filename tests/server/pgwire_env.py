"""Constants and helpers shared by the Postgres-wire tests (imported by path: see conftest)."""

from __future__ import annotations

from pathlib import Path

QUERY = (
    "SELECT name, namespace, kind, phase, created_at, target_count, paused, duration_seconds "
    "FROM experiments ORDER BY cluster, namespace, name, uid LIMIT 50"
)
PASSWORD = "s3cret-pw"
REPO = Path(__file__).resolve().parents[2]


def dsn(port: int, user: str = "tester", password: str | None = None, **extra) -> str:
    auth = f"{user}:{password}@" if password else f"{user}@"
    query = "&".join(f"{k}={v}" for k, v in extra.items())
    return f"postgresql://{auth}127.0.0.1:{port}/chaosql" + (f"?{query}" if query else "")
