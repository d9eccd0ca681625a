"""The poll cache of Chaosd sources in long-running processes (chaosql.sources.poll), against a
real chaosd: answers served while young, an attack made elsewhere seen within the interval, and a
write through chaosql seen by the very next statement."""

from __future__ import annotations

import json

from chaosd_support import source_for, wait_for

SQL = "SELECT uid, phase FROM experiments WHERE source = 'chaosd'"


def q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def from_cache(result) -> bool:
    return bool(result.calls) and all(c.what.startswith("cache GET ") and "(age " in c.what for c in result.calls)


def test_chaosd_answers_are_polled_and_writes_are_read_back(chaosd, session_for, tmp_path):
    source = source_for(chaosd)
    source.enable_cache(interval=1.0)
    session = session_for(source)
    session.execute(SQL)
    assert from_cache(session.execute(SQL))  # young: no call to the node
    spec = json.dumps({"attackCmd": f"touch {tmp_path / 'a'}", "recoverCmd": f"rm -f {tmp_path / 'a'}"})
    ((uid,),) = session.execute(
        f"INSERT INTO experiments (source, node, kind, action, spec) VALUES ('chaosd', {q(chaosd.base_url)}, "
        f"'user_defined', 'touch', {q(spec)}) RETURNING uid"
    ).rows()
    after = session.execute(SQL)  # read-your-writes: the write dropped the kept answer
    assert (uid, "running") in after.rows() and not from_cache(after)
    with chaosd.httpx_client() as client:  # an attack made straight through chaosd's API
        answer = client.post(
            "/api/attack/user_defined",
            json={"attackCmd": f"touch {tmp_path / 'b'}", "recoverCmd": f"rm -f {tmp_path / 'b'}"},
        )
        assert answer.status_code == 200, answer.text
        outside = answer.json()["uid"]
    seen = wait_for(lambda: outside in {r[0] for r in session.execute(SQL).rows()}, timeout=10)
    assert seen, "the polled answer never showed the attack made elsewhere"
    assert from_cache(session.execute(SQL))
    session.execute(f"DELETE FROM experiments WHERE source = 'chaosd' AND uid IN ({q(uid)}, {q(outside)})")
    assert {r for r in session.execute(SQL).rows() if r[0] in (uid, outside)} == {
        (uid, "finished"),
        (outside, "finished"),
    }
