"""Chaosd writes as a user types them: INSERT/DELETE on experiments through a Session (real chaosd)."""

from __future__ import annotations

import json

import pytest
from chaosd_support import proc_state, source_for, wait_for

from chaosql.errors import WriteFailed, WriteRefused


def q(text: str) -> str:
    """A SQL string literal (writes take no bind parameters yet)."""
    return "'" + text.replace("'", "''") + "'"


def chaosd_uids(env):
    with env.httpx_client() as c:
        return {e["uid"] for e in c.get("/api/experiments/").json()}


def test_insert_attacks_and_delete_recovers(chaosd, session_for, tmp_path):
    marker = tmp_path / "touched"
    session = session_for(source_for(chaosd))
    spec = json.dumps({"attackCmd": f"touch {marker}", "recoverCmd": f"rm -f {marker}"})
    result = session.execute(
        f"INSERT INTO experiments (source, node, kind, action, spec) VALUES ('chaosd', {q(chaosd.base_url)}, "
        f"'user_defined', 'touch', {q(spec)}) RETURNING uid, kind, phase, node"
    )
    assert result.status == "INSERT 0 1"
    ((uid, kind, phase, node),) = result.rows()
    assert marker.exists()
    assert (kind, phase, node) == ("user_defined", "running", chaosd.base_url)
    assert uid in chaosd_uids(chaosd)

    rows = session.execute("SELECT phase, action FROM experiments WHERE uid = ?", [uid]).rows()
    assert rows == [("running", "touch")]
    result = session.execute(f"DELETE FROM experiments WHERE source = 'chaosd' AND uid = {q(uid)}")
    assert result.status == "DELETE 1"
    assert not marker.exists()
    assert session.execute("SELECT phase FROM experiments WHERE uid = ?", [uid]).rows() == [("finished",)]


def test_process_attack_stops_and_delete_resumes(chaosd, sleeper, session_for):
    session = session_for(source_for(chaosd))
    spec = json.dumps({"process": str(sleeper.pid), "signal": 19})
    (uid,) = session.execute(
        f"INSERT INTO experiments (source, node, kind, action, spec) VALUES ('chaosd', {q(chaosd.base_url)}, "
        f"'process', 'stop', {q(spec)}) RETURNING uid"
    ).rows()[0]
    assert wait_for(lambda: proc_state(sleeper.pid) == "T"), proc_state(sleeper.pid)
    session.execute(f"DELETE FROM experiments WHERE source = 'chaosd' AND kind = 'process' AND uid = '{uid}'")
    assert wait_for(lambda: proc_state(sleeper.pid) in "SR"), proc_state(sleeper.pid)


def test_explain_makes_no_call(chaosd, session_for, tmp_path):
    marker = tmp_path / "explained"
    session = session_for(source_for(chaosd))
    before = chaosd_uids(chaosd)
    result = session.execute(
        "EXPLAIN INSERT INTO experiments (source, node, kind, uid, spec) VALUES "
        f"('chaosd', '{chaosd.base_url}', 'user_defined', 'pinned-uid', "
        f'\'{{"attackCmd": "touch {marker}", "recoverCmd": "true"}}\')'
    )
    ((method, path, summary),) = result.rows()
    assert (method, path) == ("POST", f"{chaosd.base_url}/api/attack/user_defined")
    assert "uid=pinned-uid" in summary and "nothing was written" in result.warnings[0]
    assert not marker.exists() and chaosd_uids(chaosd) == before


def test_chaosd_error_comes_back_and_nothing_is_created(chaosd, session_for):
    session = session_for(source_for(chaosd))
    before = chaosd_uids(chaosd)
    spec = json.dumps({"addr": "127.0.0.1:1", "expiration": "1m", "option": "NX"})
    with pytest.raises(WriteFailed) as info:
        session.execute(
            "INSERT INTO experiments (source, node, kind, action, spec) "
            f"VALUES ('chaosd', {q(chaosd.base_url)}, 'redis', 'expiration', {q(spec)})"
        )
    assert "attack config validation failed, cause: option invalid" in str(info.value)
    assert "nothing had been written" in str(info.value)
    assert chaosd_uids(chaosd) == before


def test_bad_body_is_refused_with_the_row_named(chaosd, session_for):
    session = session_for(source_for(chaosd))
    before = chaosd_uids(chaosd)
    with pytest.raises(WriteRefused) as info:
        session.execute(
            "INSERT INTO experiments (source, node, kind, spec) VALUES "
            f"('chaosd', '{chaosd.base_url}', 'user_defined', '{{\"attackCmd\": \"true\", \"recoverCmd\": \"true\"}}'), "
            f"('chaosd', '{chaosd.base_url}', 'user_defined', '{{\"attackCmd\": \"true\"}}')"
        )
    assert "row 2" in str(info.value) and "user_defined needs recoverCmd" in str(info.value)
    assert info.value.sqlstate == "42501"
    assert chaosd_uids(chaosd) == before


def test_update_and_mixed_inserts_are_refused(chaosd, session_for, demo_source):
    session = session_for(source_for(chaosd), demo_source)
    (uid,) = session.execute(
        f"INSERT INTO experiments (source, node, kind, spec) VALUES ('chaosd', {q(chaosd.base_url)}, 'user_defined', "
        '\'{"attackCmd": "true", "recoverCmd": "true"}\') RETURNING uid'
    ).rows()[0]
    with pytest.raises(WriteRefused, match="Chaosd experiments cannot be updated"):
        session.execute(f"UPDATE experiments SET paused = true WHERE source = 'chaosd' AND uid = '{uid}'")
    with pytest.raises(WriteRefused, match="cannot mix Chaosd rows with Kubernetes rows"):
        session.execute(
            "INSERT INTO experiments (source, cluster, namespace, name, kind, node, spec) VALUES "
            f"('chaosd', 'lab', NULL, NULL, 'user_defined', '{chaosd.base_url}', '{{}}'), "
            "(NULL, 'prod-eu', 'default', 'x', 'PodChaos', NULL, '{}')"
        )
    session.execute(f"DELETE FROM experiments WHERE source = 'chaosd' AND uid = '{uid}'")


def test_delete_skips_rows_with_nothing_to_recover(chaosd, session_for):
    session = session_for(source_for(chaosd))
    with pytest.raises(WriteFailed):
        session.execute(
            f"INSERT INTO experiments (source, node, kind, spec) VALUES ('chaosd', {q(chaosd.base_url)}, "
            '\'user_defined\', \'{"attackCmd": "exit 7", "recoverCmd": "true"}\')'
        )
    failed = session.execute("SELECT uid FROM experiments WHERE phase = 'failed'").rows()
    assert failed
    result = session.execute("DELETE FROM experiments WHERE source = 'chaosd' AND phase = 'failed'")
    assert any("nothing to recover" in w for w in result.warnings)


def test_insert_select_runs_an_old_attack_again(chaosd, session_for, tmp_path):
    marker = tmp_path / "again"
    session = session_for(source_for(chaosd))
    spec = json.dumps({"attackCmd": f"touch {marker}", "recoverCmd": f"rm -f {marker}"})
    (first,) = session.execute(
        f"INSERT INTO experiments (source, node, kind, spec) VALUES ('chaosd', {q(chaosd.base_url)}, "
        f"'user_defined', {q(spec)}) RETURNING uid"
    ).rows()[0]
    session.execute(f"DELETE FROM experiments WHERE source = 'chaosd' AND uid = {q(first)}")
    assert not marker.exists()
    # The stored spec carries kind and the old uid: both are left out of the new body.
    (second,) = session.execute(
        "INSERT INTO experiments (source, node, kind, action, spec) "
        f"SELECT source, node, kind, action, spec FROM experiments WHERE uid = {q(first)} RETURNING uid"
    ).rows()[0]
    assert second != first and marker.exists()
    phases = dict(session.execute(f"SELECT uid, phase FROM experiments WHERE uid IN ({q(first)}, {q(second)})").rows())
    assert phases == {first: "finished", second: "running"}
    session.execute(f"DELETE FROM experiments WHERE source = 'chaosd' AND uid = {q(second)}")
    assert not marker.exists()
