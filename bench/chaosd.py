"""Chaosd benchmark (not a test): how fast a node's experiments and runs become rows.

Usage: python bench/chaosd.py [--experiments 500] [--nodes 2] [--runs 3]

Starts ``--nodes`` real chaosd servers (tests/chaosdenv.py), gives each ``--experiments``
``user_defined`` attacks (``true``; a tenth of them scheduled, so they have runs), then times,
best of ``--runs``:

1. ``GET /api/experiments/`` on one node with httpx and ``json`` only (the floor);
2. ``SELECT count(*) FROM experiments`` through chaosql over every node (concurrent fetch);
3. ``SELECT count(*) FROM events`` (the runs: one call per scheduled experiment);
4. INSERT of one attack and DELETE of it through SQL (validate, POST, recover).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))


def best(fn, runs: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(runs):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=500)
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from chaosdenv import ChaosdTestEnv

    from chaosql.engine.session import Session
    from chaosql.sources.chaosd import ChaosdSource

    envs = [ChaosdTestEnv("http", log_level="error").start() for _ in range(args.nodes)]
    try:
        start = time.perf_counter()
        for env in envs:
            with env.httpx_client() as c:
                for i in range(args.experiments):
                    body = {"uid": str(uuid.uuid4()), "attackCmd": "true", "recoverCmd": "true"}
                    if i % 10 == 0:
                        body.update(schedule="@every 1h", duration="1s")
                    c.post("/api/attack/user_defined", json=body).raise_for_status()
        print(
            f"seeded {args.experiments} experiments on each of {args.nodes} nodes in {time.perf_counter() - start:.1f} s"
        )

        with envs[0].httpx_client() as c:
            t, n = best(lambda: len(json.loads(c.get("/api/experiments/").content)), args.runs)
        print(f"1. raw GET /api/experiments/ on one node: {n} rows in {t * 1000:.0f} ms")

        session = Session([ChaosdSource([e.base_url for e in envs], name="bench")])
        t, n = best(lambda: session.execute("SELECT count(*) FROM experiments").scalar(), args.runs)
        print(f"2. SELECT count(*) FROM experiments over {args.nodes} nodes: {n} rows in {t * 1000:.0f} ms")
        t, n = best(lambda: session.execute("SELECT count(*) FROM events").scalar(), args.runs)
        print(
            f"3. SELECT count(*) FROM events (runs of {args.experiments // 10 * args.nodes} scheduled): "
            f"{n} rows in {t * 1000:.0f} ms"
        )

        node = envs[0].base_url

        def write() -> None:
            (uid,) = session.execute(
                f"INSERT INTO experiments (source, node, kind, spec) VALUES ('chaosd', '{node}', 'user_defined', "
                '\'{"attackCmd": "true", "recoverCmd": "true"}\') RETURNING uid'
            ).rows()[0]
            session.execute(f"DELETE FROM experiments WHERE source = 'chaosd' AND uid = '{uid}'")

        t, _ = best(write, args.runs)
        print(f"4. INSERT + DELETE of one attack through SQL: {t * 1000:.0f} ms")
        session.close()
    finally:
        for env in envs:
            env.stop()


if __name__ == "__main__":
    main()
