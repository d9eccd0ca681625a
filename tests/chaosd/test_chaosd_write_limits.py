"""Chaosd writes that chaosd's own behaviour makes dangerous, against a real chaosd (issue 17 #9).

- two rows with one uid on one node: chaosd keeps one record, so the first attack could never be
  recovered: refused before anything is sent;
- a process attack whose /proc scan fails after chaosd has signalled: the error says what chaosd
  recorded (the PIDs it signalled), never "nothing had been written";
- an attack that outlives the source's timeout: "may still be applied", not "nothing written";
- EXPLAIN ANALYZE says what was checked (Chaosd has no dry run);
- one node configured in two sources: refused, instead of every row read twice.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time

import pytest
from chaosd_support import proc_state, source_for, wait_for

from chaosql.errors import UsageError, WriteFailed, WriteRefused


def q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def chaosd_rows(env, uid):
    with env.httpx_client() as c:
        return [e for e in c.get("/api/experiments/").json() if e["uid"] == uid]


def test_two_rows_with_one_uid_on_one_node_are_refused(chaosd, session_for, tmp_path):
    session = session_for(source_for(chaosd))
    first, second = tmp_path / "first", tmp_path / "second"
    values = ", ".join(
        f"('chaosd', {q(chaosd.base_url)}, 'user_defined', 'same-uid-17', "
        f"{q(json.dumps({'attackCmd': f'touch {m}', 'recoverCmd': f'rm -f {m}'}))})"
        for m in (first, second)
    )
    with pytest.raises(WriteRefused) as info:
        session.execute(f"INSERT INTO experiments (source, node, kind, uid, spec) VALUES {values}")
    message = str(info.value)
    assert "rows 1 and 2 both attack" in message and "uid same-uid-17" in message
    assert "could never be recovered" in message
    assert not first.exists() and not second.exists() and chaosd_rows(chaosd, "same-uid-17") == []


class _Churn:
    """Short-lived processes started after the target, so their PIDs follow it: chaosd's /proc scan
    (PID order) meets one that has exited only after it has signalled the target."""

    def __init__(self, threads: int = 2) -> None:
        self.go, self.stop = threading.Event(), threading.Event()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def _run(self) -> None:
        while not self.stop.is_set():
            if not self.go.wait(0.05):
                continue
            for proc in [subprocess.Popen(["true"]) for _ in range(20)]:
                proc.wait()

    def __enter__(self) -> _Churn:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(10)


def test_a_kill_whose_scan_fails_after_signalling_says_what_chaosd_did(chaosd, session_for):
    """chaosd v1.4.0 fails a process attack when any process exits during its /proc scan, after
    having signalled the processes before it (observed 3-4 times in 12 under churn). For a kill
    chaosql must not retry (the process is gone: "not found") nor say nothing happened: it reads
    chaosd's row and names the PIDs chaosd signalled."""
    session = session_for(source_for(chaosd))
    seen_race = 0
    attempts = 0
    with _Churn() as churn:
        while seen_race < 2 and attempts < 60:
            attempts += 1
            churn.go.clear()
            time.sleep(0.3)  # the churn's older (lower) PIDs are gone
            target = subprocess.Popen(["sleep", "300"])
            try:
                churn.go.set()
                time.sleep(0.2)
                spec = json.dumps({"process": str(target.pid)})
                try:
                    session.execute(
                        f"INSERT INTO experiments (source, node, kind, action, spec) VALUES ('chaosd', "
                        f"{q(chaosd.base_url)}, 'process', 'kill', {q(spec)})"
                    )
                    assert wait_for(lambda pid=target.pid: proc_state(pid) == "Z")  # killed, not yet reaped
                    continue
                except WriteFailed as err:
                    message = str(err)
                if "no such file or directory" not in message:
                    raise AssertionError(message)
                if f"to PID {target.pid} before its process scan failed" not in message:
                    # the race hit a process before the target: nothing was signalled, and the
                    # retries (same uid) also met the race
                    assert "nothing had been written" in message and proc_state(target.pid) in "SR", message
                    continue
                seen_race += 1
                assert wait_for(lambda pid=target.pid: proc_state(pid) == "Z")  # chaosd really did kill it
                assert "nothing had been written" not in message and "no other row had been written" in message
                assert f"sent signal 9 to PID {target.pid}" in message and "may be killed" in message
                assert "status error and cannot recover it" in message
                uid = message.split("keeps experiment ")[1].split()[0]
                (row,) = chaosd_rows(chaosd, uid)  # one attempt: the signalled attack was not retried
                assert row["status"] == "error" and json.loads(row["recover_command"])["PIDs"] == [target.pid]
            finally:
                target.kill()
                target.wait()
    assert seen_race, f"chaosd's scan never failed after signalling in {attempts} attempts"


def test_an_attack_past_the_timeout_is_never_said_to_be_unwritten(chaosd, session_for, tmp_path):
    marker = tmp_path / "slow"
    session = session_for(source_for(chaosd, timeout=0.5))
    spec = json.dumps({"attackCmd": f"sleep 1.5; touch {marker}", "recoverCmd": f"rm -f {marker}"})
    with pytest.raises(WriteFailed) as info:
        session.execute(
            f"INSERT INTO experiments (source, node, kind, spec) VALUES ('chaosd', {q(chaosd.base_url)}, "
            f"'user_defined', {q(spec)})"
        )
    message = str(info.value)
    assert "may still be applied" in message and "nothing had been written" not in message, message
    uid = message.split("attack ")[-1].split()[0]
    assert wait_for(marker.exists, timeout=10)  # it was applied
    session_for(source_for(chaosd)).execute(f"DELETE FROM experiments WHERE source = 'chaosd' AND uid = {q(uid)}")
    assert not marker.exists()


def test_explain_analyze_says_what_was_checked(chaosd, session_for, tmp_path):
    session = session_for(source_for(chaosd))
    spec = json.dumps({"attackCmd": f"touch {tmp_path / 'x'}", "recoverCmd": "true"})
    result = session.execute(
        f"EXPLAIN ANALYZE INSERT INTO experiments (source, node, kind, spec) VALUES ('chaosd', "
        f"{q(chaosd.base_url)}, 'user_defined', {q(spec)})"
    )
    assert result.rows()[0][3] == "ok"
    (warning,) = result.warnings
    assert "dryRun" not in warning and "server-side" not in warning
    assert "as Chaosd has no dry run" in warning and "the node's health check" in warning
    assert not (tmp_path / "x").exists()


def test_one_node_in_two_sources_is_refused(chaosd, session_for):
    with pytest.raises(UsageError) as info:
        session_for(source_for(chaosd, name="a"), source_for(chaosd, name="b"))
    assert f"chaosd node {chaosd.base_url} is configured in two sources" in str(info.value)


def test_a_node_found_twice_is_recovered_once(chaosd):
    """The same experiment row read twice (e.g. a node discovered by one source and listed by
    another before this was refused) becomes one recover, not two."""
    from chaosql.writers.chaosd import plan_delete

    source = source_for(chaosd)
    row = {"cluster": source.name, "node": chaosd.base_url, "kind": "user_defined", "uid": "u", "status": "success"}
    assert len(plan_delete([row, dict(row)], [source])) == 1
