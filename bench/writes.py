"""SQL writes benchmark (not a test): how long INSERT, UPDATE and DELETE of N experiments take.

Usage: python bench/writes.py [--rows 200] [--info /path/ready-line.json]

Starts a real kube-apiserver with the Chaos Mesh CRDs (tests/kubeenv.py), or attaches to one
started with ``scripts/kube-testenv up`` when ``--info`` names its ready line, then times each
statement on ``--rows`` PodChaos objects in a fresh namespace:

1. ``INSERT ... VALUES`` (N rows: N dry runs, then N creates);
2. ``INSERT ... SELECT`` copying them (read through the read path, then as above);
3. ``UPDATE ... SET paused = true`` (read with pushdown, N dry-run patches, N patches);
4. ``EXPLAIN UPDATE`` (the read and the plan only);
5. ``DELETE`` of all 2N.

Each line prints the wall time and the time per row.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--info", help="ready-line JSON of a running kube-testenv")
    args = parser.parse_args()

    from kubeenv import KubeTestEnv

    env = KubeTestEnv()
    if args.info:
        env.attach(json.loads(Path(args.info).read_text()))
    else:
        started = time.perf_counter()
        env.start("bench-writes")
        print(f"apiserver + CRDs ready in {time.perf_counter() - started:.1f} s")
    from chaosql.engine.session import Session
    from chaosql.sources.kube import KubeSource

    ns = f"bench-{int(time.time())}"
    env.create_namespace(ns)
    source = KubeSource(context="admin", kubeconfig=env.kubeconfig, name="bench")
    session = Session([source], settings={"confirm_rows": 10**9})
    selector = json.dumps({"namespaces": [ns]})
    values = ", ".join(f"('{ns}', 'k{i}', 'PodChaos', 'pod-kill', 'one', '{selector}')" for i in range(args.rows))
    statements = [
        ("INSERT VALUES", f"INSERT INTO experiments (namespace, name, kind, action, mode, selector) VALUES {values}"),
        (
            "INSERT SELECT",
            f"INSERT INTO experiments (namespace, name, kind, spec) "
            f"SELECT namespace, name || '-copy', kind, spec FROM experiments WHERE namespace = '{ns}'",
        ),
        ("UPDATE paused", f"UPDATE experiments SET paused = true WHERE namespace = '{ns}'"),
        ("EXPLAIN UPDATE", f"EXPLAIN UPDATE experiments SET paused = false WHERE namespace = '{ns}'"),
        ("DELETE", f"DELETE FROM experiments WHERE namespace = '{ns}'"),
    ]
    try:
        for label, sql in statements:
            started = time.perf_counter()
            result = session.execute(sql)
            seconds = time.perf_counter() - started
            count = int(result.status.split()[-1]) if result.status.split()[-1].isdigit() else args.rows * 2
            print(f"{label:15} {result.status:14} {seconds:7.2f} s  {seconds / max(count, 1) * 1000:6.1f} ms/row")
    finally:
        session.close()
        source.close()
        if not args.info:
            env.cleanup()


if __name__ == "__main__":
    main()
