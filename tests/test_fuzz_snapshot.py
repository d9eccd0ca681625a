"""Fuzz run of the snapshot reader: generated hostile files, read by a real chaosql process.

Each case is a snapshot directory with one good experiment and one hostile file, generated from
a fixed seed: wrongly typed fields at the paths the row shapers read, YAML alias bombs of random
breadth and depth, deep YAML (flow and block) and JSON, truncated files, bytes that are not
UTF-8, FIFOs and links to devices. One child process reads every case through a Session (a
crash would end it; a hang, its timeout) and reports each outcome. What must hold:

- no internal error: each case is answered or refused with one chaosql error;
- no case takes longer than ``CASE_SECONDS``, and the child's peak memory stays under
  ``MEMORY_BOUND_MB`` (its VmHWM);
- the child exits normally (no SIGSEGV from libyaml, no MemoryError).

CI reads ``CHAOSQL_FUZZ_CASES`` (default 40) cases; ``CHAOSQL_FUZZ_LONG=1`` reads 1,000 and prints
the figures.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

LONG_MODE = os.environ.get("CHAOSQL_FUZZ_LONG") == "1"
CASES = int(os.environ.get("CHAOSQL_FUZZ_CASES", "1000" if LONG_MODE else "40"))
SEED = int(os.environ.get("CHAOSQL_FUZZ_SEED", "17"))
CASE_SECONDS = 20
MEMORY_BOUND_MB = 1000

GOOD = {
    "apiVersion": "chaos-mesh.org/v1alpha1",
    "kind": "PodChaos",
    "metadata": {
        "name": "good",
        "namespace": "shop",
        "uid": "u-1",
        "creationTimestamp": "2026-11-20T10:00:00Z",
        "labels": {"team": "sre"},
    },
    "spec": {"action": "pod-kill", "mode": "one", "duration": "30s", "selector": {"namespaces": ["shop"]}},
    "status": {
        "conditions": [{"type": "AllInjected", "status": "True"}],
        "experiment": {
            "desiredPhase": "Run",
            "containerRecords": [
                {
                    "id": "shop/web-1",
                    "phase": "Injected",
                    "injectedCount": 1,
                    "recoveredCount": 0,
                    "events": [{"operation": "Apply", "type": "Succeeded", "timestamp": "2026-11-20T10:00:01Z"}],
                }
            ],
        },
    },
}
EVENT = {
    "apiVersion": "v1",
    "kind": "Event",
    "metadata": {"name": "e1", "namespace": "shop", "creationTimestamp": "2026-11-20T10:00:02Z"},
    "involvedObject": {"apiVersion": "chaos-mesh.org/v1alpha1", "kind": "PodChaos", "name": "good"},
    "reason": "Applied",
    "type": "Normal",
    "count": 1,
    "firstTimestamp": "2026-11-20T10:00:02Z",
    "lastTimestamp": "2026-11-20T10:00:02Z",
}
PATHS = [
    ("kind",),
    ("apiVersion",),
    ("metadata",),
    ("metadata", "name"),
    ("metadata", "namespace"),
    ("metadata", "uid"),
    ("metadata", "labels"),
    ("metadata", "labels", "team"),
    ("metadata", "annotations"),
    ("metadata", "creationTimestamp"),
    ("metadata", "deletionTimestamp"),
    ("metadata", "ownerReferences"),
    ("metadata", "finalizers"),
    ("spec",),
    ("spec", "duration"),
    ("spec", "selector"),
    ("spec", "action"),
    ("status",),
    ("status", "conditions"),
    ("status", "experiment"),
    ("status", "experiment", "containerRecords"),
    ("status", "experiment", "containerRecords", 0),
    ("status", "experiment", "containerRecords", 0, "injectedCount"),
    ("status", "experiment", "containerRecords", 0, "events"),
    ("status", "experiment", "containerRecords", 0, "events", 0, "timestamp"),
]
EVENT_PATHS = [("count",), ("reason",), ("involvedObject",), ("lastTimestamp",), ("source",)]


def bad_value(rng: random.Random):
    return rng.choice(
        [
            5,
            -1.5,
            True,
            None,
            [],
            [1, "a"],
            {},
            {"a": 1},
            "yesterday",
            "",
            "x" * 10_000,
            "2026-13-45T99:99:99Z",
            [[[[[[1]]]]]],
            {"k": [1, {"v": None}]},
            float("nan") if rng.random() < 0.1 else 7,
        ]
    )


def mutated(rng: random.Random, base: dict, paths: list) -> dict:
    doc = json.loads(json.dumps(base))
    path = rng.choice(paths)
    holder = doc
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = bad_value(rng)
    return doc


def bomb(rng: random.Random) -> str:
    breadth, depth = rng.randint(2, 10), rng.randint(2, 10)
    lines = ["apiVersion: chaos-mesh.org/v1alpha1", "kind: PodChaos", "metadata: {name: b, namespace: shop}", "spec:"]
    lines.append("  l0: &l0 [" + ", ".join(["lol"] * breadth) + "]")
    for level in range(1, depth):
        lines.append(f"  l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * breadth) + "]")
    return "\n".join(lines) + "\n"


def deep_yaml(rng: random.Random) -> str:
    n = rng.choice([rng.randint(10, 500), rng.randint(900, 1100), rng.randint(5_000, 60_000)])
    head = "apiVersion: chaos-mesh.org/v1alpha1\nkind: PodChaos\nmetadata: {name: d}\n"
    if rng.random() < 0.5:
        return head + "spec: {a: " + "[" * n + "]" * n + "}\n"
    n = min(n, 3000)
    return head + "spec:\n" + "".join(" " * i + "-\n" for i in range(1, n))


def deep_json(rng: random.Random) -> str:
    n = rng.choice([rng.randint(10, 500), rng.randint(2_000, 10_000), rng.randint(20_000, 200_000)])
    head = '{"apiVersion": "chaos-mesh.org/v1alpha1", "kind": "PodChaos", "metadata": {"name": "dj"}, "spec": {"a": '
    return head + "[" * n + "]" * n + "}}"


def write_case(rng: random.Random, root: Path) -> str:
    lab = root / "lab"
    lab.mkdir(parents=True)
    (lab / "good.json").write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": [GOOD, EVENT]}))
    kind = rng.choice(["typed", "typed", "event", "bomb", "deep-yaml", "deep-json", "truncated", "bytes", "special"])
    if kind == "typed":
        doc = mutated(rng, {**GOOD, "metadata": {**GOOD["metadata"], "name": "t"}}, PATHS)
        name = "bad.json" if rng.random() < 0.5 else "bad.yaml"
        text = json.dumps(doc, allow_nan=True)  # JSON is YAML too
        (lab / name).write_text(text)
    elif kind == "event":
        (lab / "ev.json").write_text(json.dumps(mutated(rng, EVENT, EVENT_PATHS)))
    elif kind == "bomb":
        (lab / "bomb.yaml").write_text(bomb(rng))
    elif kind == "deep-yaml":
        (lab / "deep.yaml").write_text(deep_yaml(rng))
    elif kind == "deep-json":
        (lab / "deep.json").write_text(deep_json(rng))
    elif kind == "truncated":
        text = json.dumps(GOOD) if rng.random() < 0.5 else bomb(rng)
        (lab / ("cut.json" if text.startswith("{") else "cut.yaml")).write_text(text[: rng.randint(1, len(text) - 1)])
    elif kind == "bytes":
        data = bytes(rng.randrange(256) for _ in range(rng.randint(1, 2000)))
        (lab / rng.choice(["junk.yaml", "junk.json"])).write_bytes(data)
    else:
        which = rng.choice(["fifo", "zero", "urandom", "dir"])
        target = (root if rng.random() < 0.5 else lab) / f"{which}.{rng.choice(['yaml', 'json'])}"
        if which == "fifo":
            os.mkfifo(target)
        elif which == "dir":
            target.mkdir()
        else:
            os.symlink(f"/dev/{which}", target)
    return kind


DRIVER = r"""
import json, sys, time
from chaosql.engine.session import Session
from chaosql.errors import ChaosqlError
from chaosql.sources.snapshot import SnapshotSource
for line in sys.stdin:
    root = line.strip()
    started = time.monotonic()
    session = Session([SnapshotSource(root, name="fuzz")], settings={"timeout": 60})
    try:
        rows = session.execute(
            "SELECT count(*), max(length(spec::VARCHAR)), max(created_at) FROM experiments"
        ).rows()
        session.execute("SELECT count(*) FROM events").rows()
        session.execute("SELECT count(*) FROM targets").rows()
        outcome = {"ok": rows[0][0]}
    except ChaosqlError as err:
        outcome = {"error": str(err)}
    except BaseException as err:
        outcome = {"internal": f"{type(err).__name__}: {err}"[:300]}
    finally:
        session.close()
    outcome["seconds"] = time.monotonic() - started
    print(json.dumps(outcome), flush=True)
import re
# VmHWM, not ru_maxrss: Linux carries ru_maxrss across execve from the (large) pytest process.
peak_kb = int(re.search(r"VmHWM:\s+(\d+)", open("/proc/self/status").read()).group(1))
print(json.dumps({"peak_kb": peak_kb}))
"""


def test_fuzz_the_snapshot_reader(tmp_path):
    rng = random.Random(SEED)
    kinds, roots = [], []
    for i in range(CASES):
        root = tmp_path / f"case{i}"
        kinds.append(write_case(rng, root))
        roots.append(str(root))
    env = {**os.environ, "CHAOSQL_CONFIG": "", "XDG_CONFIG_HOME": "/nonexistent"}
    started = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-c", DRIVER],
        input="\n".join(roots) + "\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=CASES * CASE_SECONDS,
    )
    elapsed = time.monotonic() - started
    assert run.returncode == 0, (run.returncode, run.stderr[-2000:])  # a crash (-11) or MemoryError fails here
    *outcomes, last = [json.loads(line) for line in run.stdout.splitlines()]
    peak_mb = last["peak_kb"] / 1024
    assert len(outcomes) == CASES, run.stderr[-2000:]
    tally: Counter[tuple[str, str]] = Counter()
    for i, (kind, outcome) in enumerate(zip(kinds, outcomes)):
        assert "internal" not in outcome, (i, kind, outcome)
        assert outcome["seconds"] < CASE_SECONDS, (i, kind, outcome)
        if "error" in outcome:
            assert "\n" not in outcome["error"], (i, kind, outcome)
        tally[(kind, "ok" if "ok" in outcome else "refused")] += 1
    assert peak_mb < MEMORY_BOUND_MB, peak_mb
    slowest = max(o["seconds"] for o in outcomes)
    print(
        f"\nsnapshot fuzz: {CASES} cases (seed {SEED}) in {elapsed:.0f} s, slowest {slowest:.1f} s, "
        f"reader peak RSS {peak_mb:.0f} MB (bound {MEMORY_BOUND_MB}); "
        + ", ".join(f"{k}/{r}={n}" for (k, r), n in sorted(tally.items()))
    )
