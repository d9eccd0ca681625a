"""Chaosd writes on a real chaosd: attacks that really run, recovers that really undo them.

The rows are what ``INSERT INTO experiments (source, node, kind, action, spec) VALUES ...`` and
``DELETE FROM experiments WHERE source = 'chaosd' AND uid = ...`` hand to ``chaosql.writers.chaosd``;
the plan runs them validate-first, all-or-nothing (``chaosql.writers.plan``).
"""

from __future__ import annotations

import json

import pytest
from chaosd_support import proc_state, source_for, wait_for

from chaosql.errors import WriteFailed, WriteRefused
from chaosql.writers.chaosd import plan_delete, plan_insert
from chaosql.writers.plan import Plan, WriteContext


def insert(rows, source, ctx=None):
    plan = Plan("experiments", "INSERT", plan_insert(rows, [source]))
    ctx = ctx or WriteContext()
    plan.validate(ctx)
    return plan.apply(ctx), ctx


def delete_where_uid(session, source, uid, ctx=None):
    """DELETE's read path: the rows WHERE finds, then one recover each."""
    rows = session.execute("SELECT * FROM experiments WHERE source = 'chaosd' AND uid = ?", [uid]).dicts()
    plan = Plan("experiments", "DELETE", plan_delete(rows, [source]))
    ctx = ctx or WriteContext()
    plan.validate(ctx)
    plan.apply(ctx)
    return plan, ctx


def chaosd_rows(env, uid):
    with env.httpx_client() as c:
        return [e for e in c.get("/api/experiments/").json() if e["uid"] == uid]


def test_insert_user_defined_runs_and_delete_recovers(chaosd, session_for, tmp_path):
    marker = tmp_path / "attacked"
    source = source_for(chaosd)
    row = {
        "source": "chaosd",
        "node": chaosd.base_url,
        "kind": "user_defined",
        "action": "touch",
        "spec": json.dumps({"attackCmd": f"touch {marker}", "recoverCmd": f"rm -f {marker}"}),
    }
    (op,), _ = insert([row], source)
    assert marker.exists()  # the attack ran on the node
    uid = op.uid
    assert len(uid) == 36  # client-made uuid4, sent as the body's uid
    session = session_for(source)
    (got,) = session.execute("SELECT kind, action, phase, node FROM experiments WHERE uid = ?", [uid]).dicts()
    assert got == {"kind": "userDefined", "action": "touch", "phase": "running", "node": chaosd.base_url}

    plan, ctx = delete_where_uid(session, source, uid)
    assert plan.explain() == [("DELETE", f"{chaosd.base_url}/api/attack/{uid}", f"recover chaosd userDefined {uid}")]
    assert not marker.exists()  # the recover command ran
    assert session.execute("SELECT phase FROM experiments WHERE uid = ?", [uid]).rows() == [("finished",)]
    # Deleting again is harmless: the row is destroyed, so there is nothing to recover.
    plan, ctx = delete_where_uid(session, source, uid)
    assert "nothing to recover" in plan.explain()[0][2] and ctx.warnings


def test_process_stop_by_pid_and_recover(chaosd, sleeper, session_for):
    source = source_for(chaosd)
    # A PID written as a number, no signal: chaosql sends "process" as a string and signal 19 for stop.
    (op,), _ = insert(
        [
            {
                "source": "chaosd",
                "node": chaosd.base_url,
                "kind": "process",
                "action": "stop",
                "spec": {"process": sleeper.pid},
            }
        ],
        source,
    )
    assert op.body["signal"] == 19 and op.body["process"] == str(sleeper.pid) and "kind" not in op.body
    assert wait_for(lambda: proc_state(sleeper.pid) == "T"), proc_state(sleeper.pid)
    session = session_for(source)
    spec = json.loads(session.execute("SELECT spec FROM experiments WHERE uid = ?", [op.uid]).scalar())
    assert spec["PIDs"] == [sleeper.pid]  # what chaosd found while attacking
    delete_where_uid(session, source, op.uid)
    assert wait_for(lambda: proc_state(sleeper.pid) in "SR"), proc_state(sleeper.pid)


def test_bad_body_is_refused_before_anything_is_written(chaosd, tmp_path):
    source = source_for(chaosd)
    marker = tmp_path / "never"
    good = {
        "source": "chaosd",
        "node": chaosd.base_url,
        "kind": "user_defined",
        "spec": {"attackCmd": f"touch {marker}", "recoverCmd": "true"},
    }
    bad = {"source": "chaosd", "node": chaosd.base_url, "kind": "process", "spec": {"process": "1"}}
    before = len(chaosd_rows_all(chaosd))
    with pytest.raises(WriteRefused) as info:
        insert([good, bad], source)
    message = str(info.value)
    assert "row 2" in message and "process needs signal" in message and "nothing was written" in message
    assert not marker.exists() and len(chaosd_rows_all(chaosd)) == before


def test_chaosd_rejects_a_body_and_earlier_rows_are_rolled_back(chaosd, tmp_path):
    # chaosd v1.4.0 rejects every redis expiration option (API.md 2.4, a chaosd bug) in its own
    # validation: its message comes back, nothing of that row is created, row 1 is recovered.
    source = source_for(chaosd)
    marker = tmp_path / "rolled-back"
    rows = [
        {
            "source": "chaosd",
            "node": chaosd.base_url,
            "kind": "user_defined",
            "spec": {"attackCmd": f"touch {marker}", "recoverCmd": f"rm -f {marker}"},
        },
        {
            "source": "chaosd",
            "node": chaosd.base_url,
            "kind": "redis",
            "action": "expiration",
            "spec": {"addr": "127.0.0.1:1", "expiration": "1m", "option": "XX"},
        },
    ]
    plan = Plan("experiments", "INSERT", plan_insert(rows, [source]))
    ctx = WriteContext()
    plan.validate(ctx)
    with pytest.raises(WriteFailed) as info:
        plan.apply(ctx)
    message = str(info.value)
    assert "row 2 of 2" in message and "attack config validation failed, cause: option invalid" in message
    assert "rolled back: recovered chaosd user_defined attack" in message
    assert not marker.exists()
    assert chaosd_rows(chaosd, plan.operations[1].uid) == []
    assert [e["status"] for e in chaosd_rows(chaosd, plan.operations[0].uid)] == ["destroyed"]


def test_failing_attack_says_what_is_left(chaosd):
    source = source_for(chaosd)
    row = {
        "source": "chaosd",
        "node": chaosd.base_url,
        "kind": "user_defined",
        "spec": {"attackCmd": "echo boom; exit 3", "recoverCmd": "true"},
    }
    with pytest.raises(WriteFailed) as info:
        insert([row], source)
    message = str(info.value)
    assert "boom" in message and "exit status 3" in message and "status error" in message


@pytest.mark.parametrize(
    "row, expected",
    [
        ({"kind": "host", "spec": {}}, "chaosd has no attack kind 'host'"),
        (
            {
                "kind": "user_defined",
                "spec": {"attackCmd": "true", "recoverCmd": "true", "kind": "x"},
                "namespace": "default",
            },
            "namespace do not apply to Chaosd rows",
        ),
        ({"kind": "user_defined", "spec": "{not json"}, "spec is not JSON"),
    ],
)
def test_rows_chaosql_refuses_while_planning(chaosd, row, expected):
    source = source_for(chaosd)
    with pytest.raises(WriteRefused) as info:
        plan_insert([{"source": "chaosd", "node": chaosd.base_url, **row}], [source])
    assert expected in str(info.value)


@pytest.mark.parametrize(
    "kind, action, spec, expected",
    [
        ("user_defined", None, {"attackCmd": "true"}, "user_defined needs recoverCmd"),
        ("network", "delay", {"device": "lo"}, "network delay needs latency"),
        ("stress", None, {"load": 10}, "stress needs action, one of cpu, mem"),
        ("process", "stop", {"process": "1", "sig": 19}, "process has no field 'sig'"),
        ("process", "stop", {"process": "1", "signal": "x"}, "signal must be a whole number"),
        (
            "user_defined",
            None,
            {"attackCmd": "true", "recoverCmd": "true", "schedule": "@every 1m"},
            "a scheduled attack needs duration",
        ),
    ],
)
def test_body_rules_are_checked_before_apply(chaosd, kind, action, spec, expected):
    source = source_for(chaosd)
    plan = Plan(
        "experiments",
        "INSERT",
        plan_insert(
            [{"source": "chaosd", "node": chaosd.base_url, "kind": kind, "action": action, "spec": spec}], [source]
        ),
    )
    with pytest.raises(WriteRefused) as info:
        plan.validate(WriteContext())
    assert expected in str(info.value) and "nothing was written" in str(info.value)


def test_unknown_node_and_reused_uid_are_refused(chaosd, tmp_path):
    source = source_for(chaosd)
    with pytest.raises(WriteRefused) as info:
        plan_insert(
            [{"source": "chaosd", "node": "http://10.9.9.9:31767", "kind": "user_defined", "spec": {}}], [source]
        )
    assert "'http://10.9.9.9:31767' is not a node" in str(info.value) and chaosd.base_url in str(info.value)
    (op,), _ = insert(
        [
            {
                "source": "chaosd",
                "node": chaosd.base_url,
                "kind": "user_defined",
                "spec": {"attackCmd": "true", "recoverCmd": "true"},
            }
        ],
        source,
    )
    with pytest.raises(WriteRefused) as info:
        insert(
            [
                {
                    "source": "chaosd",
                    "node": chaosd.base_url,
                    "kind": "user_defined",
                    "uid": op.uid,
                    "spec": {"attackCmd": "true", "recoverCmd": "true"},
                }
            ],
            source,
        )
    assert f"uid {op.uid} is already used" in str(info.value)


def test_node_down_is_refused_with_the_node_named(chaosd_binary, tmp_path_factory):
    from chaosdenv import ChaosdTestEnv

    env = ChaosdTestEnv("http", binary=chaosd_binary, workdir=tmp_path_factory.mktemp("down-w")).start()
    source = source_for(env)
    url = env.base_url
    env.stop()
    plan = Plan(
        "experiments",
        "INSERT",
        plan_insert(
            [
                {
                    "source": "chaosd",
                    "node": url,
                    "kind": "user_defined",
                    "spec": {"attackCmd": "true", "recoverCmd": "true"},
                }
            ],
            [source],
        ),
    )
    with pytest.raises(WriteRefused) as info:
        plan.validate(WriteContext())
    assert f"cannot reach {url}: connection refused" in str(info.value)


def test_explain_shows_the_call_and_body(chaosd):
    source = source_for(chaosd)
    plan = Plan(
        "experiments",
        "INSERT",
        plan_insert(
            [
                {
                    "source": "chaosd",
                    "node": chaosd.base_url,
                    "kind": "kafka",
                    "action": "fill",
                    "spec": {"topic": "t", "kind": "kafka"},
                }
            ],
            [source],
        ),
    )
    ((method, path, summary),) = plan.explain()
    assert method == "POST" and path == f"{chaosd.base_url}/api/attack/kafka"
    body = json.loads(summary.split(" ", 4)[4])
    assert body == {"topic": "t", "action": "fill", "Action": "fill"}  # no kind; both action keys


def chaosd_rows_all(env):
    with env.httpx_client() as c:
        return c.get("/api/experiments/").json()


def test_attack_slower_than_the_timeout_says_it_may_be_applied(chaosd, session_for, tmp_path):
    # chaosd runs user_defined attacks inside the request; the client gives up, chaosd does not.
    marker = tmp_path / "slow"
    source = source_for(chaosd, timeout=0.5)
    row = {
        "source": "chaosd",
        "node": chaosd.base_url,
        "kind": "user_defined",
        "spec": {"attackCmd": f"sleep 1.5; touch {marker}", "recoverCmd": f"rm -f {marker}"},
    }
    plan = Plan("experiments", "INSERT", plan_insert([row], [source]))
    plan.validate(WriteContext())
    with pytest.raises(WriteFailed) as info:
        plan.apply(WriteContext())
    uid = plan.operations[0].uid
    assert f"attack {uid} may still be applied" in str(info.value)
    session = session_for(source_for(chaosd))
    # While the command runs, chaosd's row is "created": the phase is injecting.
    assert session.execute("SELECT phase FROM experiments WHERE uid = ?", [uid]).rows() == [("injecting",)]
    assert wait_for(
        lambda: session.execute("SELECT phase FROM experiments WHERE uid = ?", [uid]).rows() == [("running",)],
        timeout=10,
    )
    assert marker.exists()
    delete_where_uid(session, source_for(chaosd), uid)
    assert not marker.exists()
