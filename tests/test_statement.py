"""One statement, one state: the reads a write makes belong to it (one deadline, one cancel, one
call log), and a statement is classified once for every front end.

Writes go to a copy of the demo data (a snapshot directory: writes change its files), so these run
anywhere; the same behaviour against the real kube-apiserver is in tests/writers/.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from chaosql.engine.classify import Kind, classify
from chaosql.errors import QueryCancelled, SqlError, UnsupportedError, WriteCancelled, WriteFailed, WriteRefused

DEMO = Path(__file__).resolve().parent.parent / "chaosql" / "demo"
TABLES = {"experiments", "pods", "schedules"}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A writable copy of the demo data (two clusters of manifests)."""
    shutil.copytree(DEMO, tmp_path / "repo")
    return tmp_path / "repo"


def files(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(
    ("sql", "kind", "explain", "target"),
    [
        ("SELECT * FROM experiments", Kind.READ, None, None),
        ("select 1", Kind.READ, None, None),
        ("SELECT 'update' AS word FROM pods", Kind.READ, None, None),  # a write word that is not a write
        ("INSERT INTO mine VALUES (1)", Kind.READ, None, None),  # DuckDB's own table: not a chaos write
        ("-- pause\nUPDATE experiments SET paused = true WHERE name = 'x'", Kind.WRITE, None, "experiments"),
        ("delete from Schedules where name = 'n'", Kind.WRITE, None, "schedules"),
        ('INSERT INTO "public".experiments (name) VALUES (1)', Kind.WRITE, None, "experiments"),
        ("EXPLAIN ANALYZE DELETE FROM experiments WHERE true", Kind.WRITE, "analyze", "experiments"),
        ("EXPLAIN SELECT * FROM pods", Kind.READ, "plan", None),
        ("MERGE INTO experiments USING t ON true WHEN MATCHED THEN DELETE", Kind.WRITE, None, "experiments"),
        ("WITH gone AS (DELETE FROM experiments RETURNING *) SELECT 1", Kind.WRITE, None, "experiments"),
        ("SET chaosql.timeout = 5", Kind.OWN, None, None),
        ("SHOW chaosql.timeout", Kind.OWN, None, None),
        ("RESET chaosql.timeout", Kind.OWN, None, None),
        ("SHOW TABLES", Kind.OWN, None, None),
        ("DESCRIBE experiments", Kind.OWN, None, None),
        ("BEGIN", Kind.CHATTER, None, None),
        ("commit;", Kind.CHATTER, None, None),
        ("SET search_path TO public", Kind.CHATTER, None, None),
        ("SET SESSION statement_timeout = 1000", Kind.CHATTER, None, None),
        ("SHOW transaction isolation level", Kind.CHATTER, None, None),
        ("DISCARD ALL", Kind.CHATTER, None, None),
        ("  ;", Kind.CHATTER, None, None),
    ],
)
def test_a_statement_is_classified_once_for_every_front_end(sql, kind, explain, target):
    found = classify(sql, TABLES)
    assert (found.kind, found.explain, found.target) == (kind, explain, target)


def test_the_statement_timeout_covers_every_read_of_a_write(repo, snapshot_session):
    """An INSERT evaluates each VALUES row with a read of its own; the deadline is the statement's,
    so it is not re-armed for each of them (each takes 0.3 s here, the limit is 1 s)."""
    session = snapshot_session(repo, timeout=1)
    session.con.create_function("slow", lambda name: time.sleep(0.3) or name, ["VARCHAR"], "VARCHAR")
    before = files(repo)
    rows = ", ".join(
        f"('prod-eu', 'shop', slow('new-{i}'), 'PodChaos', 'pod-kill', 'one', '{{\"namespaces\": [\"shop\"]}}')"
        for i in range(8)
    )
    started = time.monotonic()
    with pytest.raises(QueryCancelled) as stopped:
        session.execute(
            f"INSERT INTO experiments (cluster, namespace, name, kind, action, mode, selector) VALUES {rows}"
        )
    assert "statement timeout: chaosql.timeout = 1 s" in str(stopped.value)
    assert time.monotonic() - started < 2.4  # stopped at the deadline, not after all 8 reads
    assert files(repo) == before  # nothing was written
    assert session.execute("SELECT count(*) FROM experiments").scalar() == 360  # the session goes on


def test_a_cancel_between_two_reads_of_a_write_stops_it(repo, snapshot_session):
    """Cancelled while the second of its reads runs, an INSERT reads no further row and writes
    nothing."""
    session = snapshot_session(repo)

    def second_read(name: str) -> str:
        if name == "new-1":
            session.cancel()
        return name

    session.con.create_function("watch", second_read, ["VARCHAR"], "VARCHAR")
    before = files(repo)
    rows = ", ".join(
        f"('prod-eu', 'shop', watch('new-{i}'), 'PodChaos', 'pod-kill', 'one', '{{\"namespaces\": [\"shop\"]}}')"
        for i in range(4)
    )
    with pytest.raises(QueryCancelled, match="query cancelled"):
        session.execute(
            f"INSERT INTO experiments (cluster, namespace, name, kind, action, mode, selector) VALUES {rows}"
        )
    assert files(repo) == before
    assert session.statement.cancelled and not session.cancel()  # it ended: nothing left to cancel


def test_result_calls_show_every_call_a_write_made(repo, snapshot_session):
    session = snapshot_session(repo)
    result = session.execute(
        "UPDATE experiments SET paused = true WHERE cluster = 'prod-eu' AND namespace = 'shop' AND kind = 'PodChaos'"
    )
    count = int(result.status.split()[-1])
    assert count > 1
    calls = [c.what for c in result.calls]
    assert calls[0] == "scan PodChaos where namespace in (shop)"  # the read that found the rows
    checked = [c for c in calls if c.startswith("PATCH ") and c.endswith("(checked, not written)")]
    written = [c for c in calls if c.startswith("PATCH ") and not c.endswith("(checked, not written)")]
    assert len(checked) == count and len(written) == count  # then each row's check, then each write


def test_a_failed_write_keeps_every_call_with_its_rollback(repo, snapshot_session):
    session = snapshot_session(repo)

    def fail_third(index, op):
        if index == 2:
            raise WriteRefused("injected failure")

    session.writer.before_apply = fail_third
    before = files(repo)
    with pytest.raises(WriteFailed) as failed:
        session.execute(
            "UPDATE experiments SET paused = true WHERE cluster = 'prod-eu' AND namespace = 'shop' AND kind = 'PodChaos'"
        )
    calls = [c.what for c in failed.value.calls]
    assert [c.split()[0] for c in calls if not c.startswith("scan")][-2:] == ["RESTORE", "RESTORE"]
    assert failed.value.details == [line for line in failed.value.details if line.startswith("rolled back: ")]
    assert len(failed.value.details) == 2
    assert files(repo) == before


def test_a_big_rollback_is_summarised_with_every_object_behind_verbose(repo, snapshot_session, capsys):
    """A statement timeout during a large write names the first few objects and counts the rest;
    -v lists them all (it used to be one 11 KB line)."""
    from chaosql.commands._context import report_error

    session = snapshot_session(repo, timeout=5, confirm_rows=1000)

    def wait_for_the_deadline(index, op):
        if index == 40:  # the time limit comes while the 41st object is written
            deadline = time.monotonic() + 30
            while not session.statement.cancelled and time.monotonic() < deadline:
                time.sleep(0.01)

    session.writer.before_apply = wait_for_the_deadline
    before = files(repo)
    with pytest.raises(WriteCancelled) as stopped:
        session.execute(
            "INSERT INTO experiments (cluster, namespace, name, kind, action, mode, selector) "
            "SELECT 'prod-eu', 'bulk', 'x-' || i, 'PodChaos', 'pod-kill', 'one', '{\"namespaces\": [\"bulk\"]}' "
            "FROM range(200) t(i)"
        )
    error = str(stopped.value)
    assert error.startswith("experiments: INSERT stopped at row 42 of 200: statement timeout: chaosql.timeout = 5 s")
    assert "rolled back 41: deleted prod-eu/bulk/x-0 again, deleted prod-eu/bulk/x-1 again," in error
    assert "and 36 more; the cluster is as before the statement; 158 later rows were not attempted" in error
    assert len(error) < 600
    assert (
        len(stopped.value.details) == 41 and stopped.value.details[-1] == "rolled back: deleted prod-eu/bulk/x-40 again"
    )
    assert files(repo) == before
    assert report_error(stopped.value, verbose=True) == 1
    printed = capsys.readouterr().err.splitlines()
    assert printed[0] == f"chaosql: {error}"
    assert sum(line.startswith("rolled back: deleted prod-eu/bulk/x-") for line in printed) == 41


def test_own_statements_are_answered_by_the_session(demo_session):
    assert demo_session.execute("SHOW chaosql.timeout").rows() == [("300.0",)]
    demo_session.execute("SET chaosql.timeout = 5")
    assert demo_session.execute("SHOW chaosql.timeout").rows() == [("5.0",)]
    assert demo_session.execute("RESET chaosql.timeout").status == "RESET"
    assert demo_session.execute("SHOW chaosql.timeout").rows() == [("300.0",)]
    with pytest.raises(SqlError, match='unrecognized configuration parameter "chaosql.nope"'):
        demo_session.execute("SHOW chaosql.nope")


def test_writes_that_are_not_insert_update_or_delete_are_refused(repo, snapshot_session):
    session = snapshot_session(repo)
    with pytest.raises(UnsupportedError, match="only INSERT, UPDATE and DELETE write to chaos tables"):
        session.execute("MERGE INTO experiments USING (SELECT 1 AS a) s ON true WHEN MATCHED THEN DELETE")
    session.refuse_writes("user ro may not write to {table} over this server")
    with pytest.raises(WriteRefused, match="user ro may not write to schedules"):
        session.execute("DELETE FROM schedules WHERE name = 'x'")
    assert session.execute("SELECT count(*) FROM schedules").scalar() > 0  # reads still work


def test_a_write_cancelled_before_it_applies_anything_says_so(repo, snapshot_session):
    session = snapshot_session(repo)
    session.writer.before_apply = lambda index, op: session.cancel() if index == 0 else None
    before = files(repo)
    with pytest.raises(WriteCancelled) as stopped:
        session.execute(
            "UPDATE experiments SET paused = true WHERE cluster = 'prod-eu' AND namespace = 'shop' AND kind = 'PodChaos'"
        )
    assert "stopped at row 2 of" in str(stopped.value) and "rolled back: restored " in str(stopped.value)
    assert files(repo) == before


def test_consecutive_statements_read_their_own_rows_and_leave_no_relations_behind(repo, snapshot_session):
    """The session keeps a chaos table's relations in DuckDB from one statement to the next (to
    reuse them): the next statement still answers from its own fetch, a write's change included,
    and a statement that reads no chaos table does not see them in DuckDB's catalog."""
    session = snapshot_session(repo)
    paused = "SELECT count(*) FROM experiments WHERE paused"
    before = session.execute(paused).rows()[0][0]
    assert session.execute("SELECT count(*) FROM experiments").rows()[0][0] > before
    updated = session.execute(
        "UPDATE experiments SET paused = true WHERE cluster = 'prod-eu' AND namespace = 'shop' AND kind = 'PodChaos'"
    )
    changed = int(updated.status.split()[-1])
    assert changed > 0
    assert session.execute(paused).rows()[0][0] == before + changed
    assert session.execute("SELECT count(*) FROM pods").rows()[0][0] > 0  # another table in between
    assert session.execute(paused).rows()[0][0] == before + changed
    leftovers = "SELECT count(*) FROM duckdb_views() WHERE view_name LIKE '__cq%'"
    assert session.execute(leftovers).rows() == [(0,)]
    assert session.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE '__cq%'").rows() == [(0,)]


def test_statements_taking_turns_reuse_their_registered_rows(repo, snapshot_session, monkeypatch):
    """A client going round a few queries over a snapshot (a dashboard) gets the same answers each
    round, and from the second round on no statement registers its rows in DuckDB again: the
    last few statements' relations stay registered (a bounded number), and a statement that reads
    no chaos table still sees none of them."""
    session = snapshot_session(repo)
    queries = [
        "SELECT count(*) FROM experiments WHERE kind = 'PodChaos'",
        "SELECT name FROM experiments ORDER BY cluster, namespace, name LIMIT 5",
        "SELECT e.kind, count(*) FROM experiments e JOIN targets t ON t.cluster = e.cluster "
        "AND t.namespace = e.namespace AND t.experiment = e.name GROUP BY e.kind ORDER BY e.kind",
        "SELECT count(*) FROM pods WHERE namespace = 'shop'",
    ]
    first = [session.execute(q).rows() for q in queries]  # the kept rows widen to the columns read
    assert [session.execute(q).rows() for q in queries] == first
    from chaosql.engine import session as engine_session

    registering = []  # each registration of rows in DuckDB prepares them (JSON columns typed) first
    typed = engine_session._json_typed
    monkeypatch.setattr(engine_session, "_json_typed", lambda *a: registering.append(a) or typed(*a))
    for _ in range(3):
        assert [session.execute(q).rows() for q in queries] == first
    assert registering == []
    assert len(session._arrows) <= engine_session.KEPT_REGISTRATIONS + 2
    leftovers = "SELECT count(*) FROM duckdb_views() WHERE view_name LIKE '__cq%'"
    assert session.execute(leftovers).rows() == [(0,)]
    assert session.execute(queries[0]).rows() == first[0]


def test_rows_kept_from_a_snapshot_follow_the_clock_and_the_files(tmp_path, session_for):
    """A snapshot's rows are shaped once and kept for the next statements (of any session), but an
    experiment whose duration runs out meanwhile is finished in the next answer, and a reload of
    the files (what a write does) is read afresh; -v still shows the scan each statement reads."""
    import json
    from datetime import UTC, datetime, timedelta

    from snapshot_support import ending_podchaos

    experiment, created = ending_podchaos()
    path = tmp_path / "snap"
    path.mkdir()
    (path / "podchaos.json").write_text(json.dumps(experiment))
    from chaosql.sources.snapshot import SnapshotSource

    source = SnapshotSource(path)
    first, second = session_for(source), session_for(source)
    sql = "SELECT phase FROM experiments WHERE name = 'short'"
    assert first.execute(sql).rows() == [("running",)]
    again = second.execute(sql)  # another session over the same source: the rows shaped before
    assert again.rows() == [("running",)]
    assert [c.what for c in again.calls] == ["scan PodChaos where name in (short)"]
    time.sleep(max(0.0, (created + timedelta(seconds=3.2) - datetime.now(UTC)).total_seconds()))
    assert first.execute(sql).rows() == [("finished",)]
    experiment["metadata"]["name"] = "renamed"
    (path / "podchaos.json").write_text(json.dumps(experiment))
    assert second.execute("SELECT name FROM experiments").rows() == [("short",)]  # files read once
    source.reload()
    assert second.execute("SELECT name FROM experiments").rows() == [("renamed",)]
