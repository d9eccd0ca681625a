"""History: ``chaosql snapshot`` on two (simulated) days, read back through history:DIR for
week-over-week answers after Kubernetes forgot the old events, and with pyarrow alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path

import demo_truth as truth
import pytest

LAST_WEEK = "2026-11-13T12:00:00Z"
THIS_WEEK = "2026-11-20T12:00:00Z"


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _event_time(obj: dict) -> str:
    return obj.get("lastTimestamp") or obj.get("eventTime") or obj.get("firstTimestamp")


def _chaos_event(obj: dict) -> bool:
    return obj.get("kind") == "Event" and obj["involvedObject"]["apiVersion"].startswith("chaos-mesh.org/")


def _world(root: Path, keep) -> Path:
    """A copy of the demo snapshot holding only the objects ``keep(obj)`` accepts."""
    for file in sorted(truth.DEMO.glob("*/*.json")):
        doc = json.loads(file.read_text())
        doc["items"] = [o for o in doc["items"] if keep(o)]
        target = root / file.parent.name / file.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(doc))
    return root


def _chaosql(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("CHAOSQL_CONFIG", "CHAOSQL_SOURCE")}
    return subprocess.run(
        [sys.executable, "-m", "chaosql", *args], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> Path:
    """Last week's world (only what existed then, its events), then this week's (Kubernetes kept
    only the events of the last week), each snapshotted on its own day."""
    base = tmp_path_factory.mktemp("history")
    last = _t(LAST_WEEK)

    def then(o: dict) -> bool:
        if _chaos_event(o):
            return _t(_event_time(o)) <= last
        created = (o.get("metadata") or {}).get("creationTimestamp")
        return o.get("kind") == "Event" or not created or _t(created) <= last

    def now(o: dict) -> bool:
        return not _chaos_event(o) or _t(_event_time(o)) > last

    out = base / "dataset"
    for world, at in ((_world(base / "last-week", then), LAST_WEEK), (_world(base / "this-week", now), THIS_WEEK)):
        proc = _chaosql("snapshot", "--to", str(out), "--at", at, "--source", f"snapshot:{world}")
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == "" and proc.stderr == ""  # quiet for cron
    return out


@pytest.fixture
def session(history):
    from chaosql.engine.session import Session
    from chaosql.sources import open_source

    s = Session([open_source(f"history:{history}")])
    yield s
    s.close()


def test_layout_is_hive_partitioned_by_date_and_cluster(history):
    files = sorted(p.relative_to(history).as_posix() for p in history.rglob("*.parquet"))
    dirs = {f.rsplit("/", 1)[0] for f in files}
    assert dirs == {
        f"{t}/date={d}/cluster={c}"
        for t in ("experiments", "targets", "events")
        for d in ("2026-11-13", "2026-11-20")
        for c in ("prod-eu", "staging-us")
    }
    assert all(f.rsplit("/", 1)[1].startswith("part-") for f in files)
    assert not [p for p in history.rglob(".*")]  # no temporary files left


def test_week_over_week_new_experiments_per_kind(session):
    last = _t(LAST_WEEK)
    expected = Counter(o["kind"] for _, o in truth.experiments() if _t(o["metadata"]["creationTimestamp"]) > last)
    rows = session.execute(f"""
        SELECT kind,
               count(*) FILTER (WHERE snapshot_at = TIMESTAMPTZ '{THIS_WEEK}')
             - count(*) FILTER (WHERE snapshot_at = TIMESTAMPTZ '{LAST_WEEK}') AS new
        FROM history_experiments GROUP BY kind""").rows()
    assert {k: n for k, n in rows if n} == dict(expected)
    assert sum(expected.values()) > 0


def test_events_per_reason_this_week_vs_last_week_after_kubernetes_forgot(session):
    """The second snapshot no longer holds last week's events; the history still does."""
    last = _t(LAST_WEEK)
    by_week: Counter = Counter()
    for _, o in truth.objects():
        if _chaos_event(o):
            when = _t(_event_time(o))
            if when > last - (_t(THIS_WEEK) - last):
                by_week[(o["reason"], "this" if when > last else "last")] += 1
    rows = session.execute(f"""
        WITH events AS (  -- one row per event: the newest snapshot that saw it
            SELECT * FROM history_events
            QUALIFY row_number() OVER (PARTITION BY cluster, uid ORDER BY snapshot_at DESC) = 1)
        SELECT reason,
               count(*) FILTER (WHERE last_at > TIMESTAMPTZ '{LAST_WEEK}') AS this_week,
               count(*) FILTER (WHERE last_at <= TIMESTAMPTZ '{LAST_WEEK}'
                                  AND last_at > TIMESTAMPTZ '{LAST_WEEK}' - INTERVAL 7 DAY) AS last_week
        FROM events GROUP BY reason""").rows()
    got = Counter()
    for reason, this_week, last_week in rows:
        got[(reason, "this")] += this_week
        got[(reason, "last")] += last_week
    assert +got == +by_week
    assert any(k[1] == "last" for k in by_week) and any(k[1] == "this" for k in by_week)


def test_cluster_and_snapshot_time_prune_partitions(session):
    # partitions are whole UTC days: after midnight of the 14th leaves only date=2026-11-20
    result = session.execute(
        "SELECT count(*) FROM history_targets WHERE cluster = 'prod-eu' "
        "AND snapshot_at >= TIMESTAMPTZ '2026-11-14 00:00:00Z'"
    )
    reads = [str(c) for c in result.calls]
    assert len(reads) == 1 and "prod-eu" in reads[0] and "date=2026-11-20" in reads[0], reads
    expected = sum(
        len(o.get("status", {}).get("experiment", {}).get("containerRecords") or [])
        for c, o in truth.experiments()
        if c == "prod-eu"
    )
    assert result.scalar() == expected


def test_parquet_reads_back_with_pyarrow_alone(history):
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    data = ds.dataset(history / "experiments", format="parquet", partitioning="hive").to_table()
    assert {"snapshot_at", "date", "cluster", "kind", "labels", "spec"} <= set(data.column_names)
    assert data.column_names.count("cluster") == 1
    this_week = data.filter(pc.equal(pc.cast(data.column("date"), "string"), "2026-11-20"))
    assert this_week.num_rows == len(truth.experiments())
    assert Counter(this_week.column("cluster").to_pylist()) == Counter(c for c, _ in truth.experiments())
    assert str(data.schema.field("snapshot_at").type) == "timestamp[us, tz=UTC]"


def test_missing_history_dir_is_a_partial_report(tmp_path):
    report = tmp_path / "weekly.toml"
    report.write_text(f"""
title = "Weekly"
[sources]
live = "demo"
history = "history:{tmp_path / "never-snapshotted"}"
[[query]]
name = "phase-mix"
sources = ["live"]
[[query]]
title = "Experiments per snapshot"
sql = "SELECT snapshot_at, count(*) AS n FROM history_experiments GROUP BY ALL"
sources = ["history"]
""")
    proc = _chaosql("report", str(report), "--format", "markdown")
    assert proc.returncode == 4
    assert "never-snapshotted does not exist" in proc.stdout and "## Phase mix" in proc.stdout
    assert "section experiments-per-snapshot failed (source-failed)" in proc.stderr


def test_a_file_from_an_older_snapshot_with_fewer_columns_reads_as_nulls(tmp_path):
    """Tables gain columns over releases; files written before still read, the new columns NULL."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from chaosql.engine.session import Session
    from chaosql.sources import open_source

    part = tmp_path / "experiments" / "date=2026-01-02" / "cluster=old%2Fone"
    part.mkdir(parents=True)
    pq.write_table(
        pa.table(
            {
                "snapshot_at": pa.array(
                    [datetime(2026, 1, 2, 3, 0, tzinfo=_t(LAST_WEEK).tzinfo)], pa.timestamp("us", tz="UTC")
                ),
                "name": ["pod-kill-1"],
                "kind": ["PodChaos"],
                "target_count": pa.array([3], pa.int32()),
            }
        ),
        part / "part-old.parquet",
    )
    session = Session([open_source(f"history:{tmp_path}")])
    try:
        row = session.execute(
            "SELECT cluster, name, kind, target_count, phase, labels FROM history_experiments"
        ).dicts()
    finally:
        session.close()
    assert row == [
        {
            "cluster": "old/one",
            "name": "pod-kill-1",
            "kind": "PodChaos",
            "target_count": 3,
            "phase": None,
            "labels": None,
        }
    ]


def test_snapshot_of_a_source_that_is_down_names_each_table_and_writes_nothing(tmp_path):
    proc = _chaosql("snapshot", "--to", str(tmp_path / "h"), "--source", f"snapshot:{tmp_path / 'gone'}")
    assert proc.returncode == 1
    assert [line.split(":")[1].strip() for line in proc.stderr.splitlines()] == [
        "snapshot of experiments failed",
        "snapshot of targets failed",
        "snapshot of events failed",
    ]
    assert not list(tmp_path.rglob("*.parquet"))


def test_a_table_that_fails_does_not_stop_the_others(tmp_path):
    from chaosql.engine.session import Session
    from chaosql.reports.snapshot import take
    from chaosql.sources import open_source

    session = Session([open_source("demo")])
    try:
        results = {w.table: w for w in take(session, tmp_path, tables=("experiments", "no_such_table"))}
    finally:
        session.close()
    assert results["experiments"].rows == len(truth.experiments()) and not results["experiments"].error
    assert "no_such_table" in results["no_such_table"].error
    bad = _chaosql("snapshot", "--to", str(tmp_path), "--tables", "experiments,nodez", "--source", "demo")
    assert bad.returncode == 2 and "cannot snapshot 'nodez'" in bad.stderr
