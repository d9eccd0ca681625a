"""Benchmark (not a test): how soon a source whose server is down is reported, and what the first
call of a process logs as its time.

    python bench/http_layer.py                         # this tree
    python bench/http_layer.py --chaosql /tmp/old      # another checkout's chaosql package (before/after)
    python bench/http_layer.py --repeat 5

1. *Down*: a kube, a Prometheus and a Chaosd source whose server refuses connections (a closed
   port). Reported: the seconds from ``session.execute`` to the error for the second statement of
   a process (the retries alone) and the first (module loading and client set-up too), median of
   ``--repeat`` fresh processes, and the wall time of ``chaosql query`` (process start included).
2. *First call*: ``chaosql query -v "SELECT count(*) FROM pods"`` against a real kube-apiserver
   (tests/kubeenv.py), fresh process each time: the ``call`` line's time (and the client set-up
   it shows apart, where the tree does that), next to the same list call made again in the same
   process (the steady-state time of that answer).
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests")]

from kubeenv import KubeTestEnv  # noqa: E402

DOWN_SNIPPET = """
import sys, time
from chaosql.engine.session import Session
from chaosql.sources import open_source
session = Session([open_source(sys.argv[1])])
for _ in range(2):  # the first statement also loads modules and sets the client up
    started = time.perf_counter()
    try:
        session.execute(sys.argv[2])
    except Exception as err:
        print(f"{time.perf_counter() - started:.3f} {type(err).__name__}: {err}")
"""

TWICE_SNIPPET = """
import sys, time
from chaosql.engine.session import Session
from chaosql.sources import open_source
session = Session([open_source(sys.argv[1])])
for _ in range(2):
    for call in session.execute("SELECT count(*) FROM pods").calls:
        print(f"call {call}")
"""


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(chaosql: Path, args: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    done = subprocess.run(  # not run from the repository: its chaosql would come first on sys.path
        [sys.executable, *args],
        capture_output=True,
        text=True,
        env={**env, "PYTHONPATH": str(chaosql)},
        timeout=120,
        cwd=tempfile.gettempdir(),
    )
    return time.perf_counter() - started, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chaosql", type=Path, default=REPO, help="directory holding the chaosql package to measure")
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    base_env = dict(os.environ)

    cluster = KubeTestEnv(crds=False)
    cluster.start("bench-http")
    try:
        cluster.create_namespace("shop")
        cluster.create(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "web", "namespace": "shop"},
                "spec": {"containers": [{"name": "web", "image": "nginx"}]},
            }
        )
        port = closed_port()
        gone = Path(tempfile.mkdtemp(prefix="chaosql-bench-")) / "gone.yaml"
        gone.write_text(Path(cluster.kubeconfig).read_text().replace(cluster.server, f"https://127.0.0.1:{port}"))
        down = {
            "kube": ("kube:admin", "SELECT count(*) FROM pods", {"KUBECONFIG": str(gone)}),
            "prometheus": (
                f"prometheus:http://127.0.0.1:{port}",
                "SELECT count(*) FROM metrics WHERE query = 'up'",
                {},
            ),
            "chaosd": (f"chaosd:http://127.0.0.1:{port}", "SELECT count(*) FROM experiments", {}),
        }
        print(f"chaosql from {options.chaosql}; median of {options.repeat} fresh processes")
        print("\n1. a server that is down (connection refused)")
        for name, (spec, sql, extra) in down.items():
            env = {**base_env, **extra}
            first, second, wall, message = [], [], [], ""
            for _ in range(options.repeat):
                _, done = run(options.chaosql, ["-c", DOWN_SNIPPET, spec, sql], env)
                lines = done.stdout.strip().splitlines()
                first.append(float(lines[0].split()[0]))
                second.append(float(lines[1].split()[0]))
                message = lines[1].partition(" ")[2]
                took, _ = run(options.chaosql, ["-m", "chaosql", "query", "--source", spec, sql], env)
                wall.append(took)
            print(
                f"  {name:<11} error after {statistics.median(second):.2f} s "
                f"(first statement of the process {statistics.median(first):.2f} s, "
                f"CLI wall {statistics.median(wall):.2f} s)\n              {message[:150]}"
            )

        print("\n2. the first call of a process: chaosql query -v 'SELECT count(*) FROM pods'")
        env = {**base_env, "KUBECONFIG": cluster.kubeconfig}
        for _ in range(options.repeat):
            _, done = run(
                options.chaosql,
                ["-m", "chaosql", "query", "-v", "--source", "kube:admin", "SELECT count(*) FROM pods"],
                env,
            )
            first = [line for line in done.stderr.splitlines() if line.startswith("call ")]
            _, twice = run(options.chaosql, ["-c", TWICE_SNIPPET, "kube:admin"], env)
            again = [line for line in twice.stdout.splitlines() if line.startswith("call ")][-1:]
            print(f"  first: {_ms(first)}   same call again in one process: {_ms(again)}")
    finally:
        cluster.cleanup()


def _ms(lines: list[str]) -> str:
    if not lines:
        return "(no call line)"
    found = re.search(r"in (\d+) ms( \(\+\d+ ms client set-up\))?", lines[0])
    return found.group(0) if found else lines[0]


if __name__ == "__main__":
    main()
