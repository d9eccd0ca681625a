"""The health report of ``chaosql guard --health ADDR``: ``GET /healthz`` answers 200 while every
guard's loop evaluates on time and 503 when one is stuck or could not start, with a JSON body
saying how each guard is doing (for a Kubernetes liveness probe, or a person with curl). The
endpoint itself is ``chaosql.daemon.http``'s, as for every long-running chaosql process.

A blind guard (its sources down) is alive and says so (``"state": "blind"``): restarting the
process would not bring Prometheus back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from chaosql.daemon.http import Request, Response, Route, json_response

if TYPE_CHECKING:
    from chaosql.guard.runner import GuardLoop


def health_route(loops: Sequence[GuardLoop], *, clock: Callable[[], float] = time.monotonic) -> Route:
    """The ``/healthz`` route over the guards' loops (uptime counted from now)."""
    started = clock()

    def report(request: Request) -> Response:
        now = clock()
        healthy = all(loop.healthy(now) for loop in loops)
        body = {
            "status": "ok" if healthy else "failing",
            "uptime_seconds": round(now - started, 1),
            "guards": [loop.status(now) for loop in loops],
        }
        return json_response(body, 200 if healthy else 503)

    return report
