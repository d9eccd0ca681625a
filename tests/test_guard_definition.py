"""Guard files: what ``chaosql guard --check`` accepts and the one-line usage errors for the rest;
the rewrite of ``then`` over the breach rows; the breach bookkeeping. Nothing here starts a server."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from chaosql.cli import main
from chaosql.errors import UsageError
from chaosql.guard import action
from chaosql.guard.definition import load
from chaosql.guard.state import Tracker

REPO = Path(__file__).resolve().parent.parent

WHEN = "SELECT cluster, namespace, name, kind, 0.5 AS p99 FROM experiments WHERE kind = 'NetworkChaos'"
THEN = (
    "UPDATE experiments SET paused = true "
    "WHERE (cluster, namespace, name, kind) IN (SELECT cluster, namespace, name, kind FROM breach)"
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "guards.toml"
    path.write_text(text)
    return path


def guard(extra: str = "", *, when: str = WHEN, then: str = THEN, top: str = "") -> str:
    return f'{top}\n[[guard]]\nname = "g"\nwhen = """{when}"""\nthen = """{then}"""\n{extra}\n'


def test_a_guard_gets_defaults_and_the_file_level_values(tmp_path):
    found = load(write(tmp_path, guard('every = "5s"\nfor = "30s"', top='dry_run = true\ncooldown = "1m"')))
    (g,) = found.guards
    assert (g.every, g.for_, g.cooldown, g.max_rows, g.dry_run, g.on_blind) == (5.0, 30.0, 60.0, 20, True, "hold")
    assert (g.verb, g.target, g.event_reason) == ("UPDATE", "experiments", "ChaosqlGuardPaused")


def test_the_event_reason_follows_the_action_unless_given(tmp_path):
    delete = "DELETE FROM experiments WHERE uid IN (SELECT uid FROM breach)"
    assert load(write(tmp_path, guard(then=delete))).guards[0].event_reason == "ChaosqlGuardDeleted"
    named = load(write(tmp_path, guard('reason = "ChaosqlGuardHalted"', then=delete))).guards[0]
    assert named.event_reason == "ChaosqlGuardHalted"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (guard('evry = "5s"'), "guard g: unknown key 'evry'"),
        (guard('every = "5 minutes"'), 'guard g: every takes a duration such as "30s"'),
        (guard("every = 0"), "guard g: every takes a duration"),
        (guard('for = "-3s"'), "guard g: for takes a duration"),
        (guard("max_rows = 0"), "guard g: max_rows takes a whole number >= 1"),
        (guard('dry_run = "yes"'), "guard g: dry_run takes true or false"),
        (guard('on_blind = "panic"'), 'guard g: on_blind takes "hold" or "act"'),
        (guard('on_blind = "act"'), 'guard g: on_blind = "act" needs blind'),
        (guard(then="SELECT 1"), "guard g: then takes an INSERT, UPDATE or DELETE on a chaos table, not SELECT"),
        (guard(then="DELETE FROM pods WHERE name = 'x'"), "guard g: then may only change chaos tables"),
        (guard(then=THEN + " RETURNING name"), "guard g: then takes no RETURNING"),
        (guard(when="DELETE FROM experiments WHERE name = 'x'"), "guard g: when takes a SELECT"),
        (guard(when="SELECT * FROM experimnts"), "guard g: when reads an unknown table 'experimnts'"),
        (guard(when="SELECT (1"), "guard g: when is not valid SQL"),
        (guard('key = "name"'), "guard g: key takes a list of column names"),
        (guard('reason = "paused by guard"'), "guard g: reason takes one CamelCase word"),
        (guard() + guard(), "two guards are named 'g'"),
        ('title = "x"\n', "no [[guard]] sections"),
        ('[[guard]]\nname = "g"\nthen = "DELETE FROM experiments WHERE 1=1"\n', "guard g: when is required"),
        ("[[guard]\n", "invalid TOML"),
    ],
)
def test_mistakes_are_usage_errors_naming_the_guard_and_key(tmp_path, text, message):
    with pytest.raises(UsageError) as err:
        load(write(tmp_path, text))
    assert message in str(err.value)


def test_check_exits_0_for_a_good_file_and_2_naming_the_key_for_a_bad_one(tmp_path, capsys):
    good = write(tmp_path, guard())
    assert main(["guard", "--check", str(good)]) == 0
    assert "1 guards ok: g (UPDATE experiments)" in capsys.readouterr().out
    bad = tmp_path / "bad.toml"
    bad.write_text(guard('cooldown = "soon"'))
    assert main(["guard", "--check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("chaosql: ") and "cooldown takes a duration" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("address", ["nonsense", ":99999"])
def test_a_bad_health_address_is_a_usage_error_before_any_source_opens(tmp_path, capsys, address):
    good = write(tmp_path, guard())
    assert main(["guard", str(good), "--health", address, "--source", "kube:no-such-context"]) == 2
    err = capsys.readouterr().err
    assert f"--health {address}: expected PORT, :PORT or HOST:PORT" in err and len(err.splitlines()) <= 2


def test_the_shipped_example_is_valid(capsys):
    assert main(["guard", "--check", str(REPO / "examples" / "guards.toml")]) == 0


def test_then_over_breach_becomes_literals_that_push_down():
    breach = pa.table(
        {"cluster": ["c1", "c1"], "namespace": ["a", "b"], "name": ["x", "it's"], "kind": ["NetworkChaos"] * 2}
    )
    sql = action.statement(THEN, breach, ["cluster", "uid"])
    assert sql == (
        "UPDATE experiments SET paused = TRUE WHERE ((cluster = 'c1' AND namespace = 'a' AND name = 'x' "
        "AND kind = 'NetworkChaos') OR (cluster = 'c1' AND namespace = 'b' AND name = 'it''s' "
        "AND kind = 'NetworkChaos')) RETURNING cluster, uid"
    )
    one = action.statement("DELETE FROM experiments WHERE name IN (SELECT name FROM breach)", breach, ["uid"])
    assert one == "DELETE FROM experiments WHERE name IN ('it''s', 'x') RETURNING uid"


def test_then_keeps_subqueries_that_are_not_a_plain_list_of_the_breach_rows():
    breach = pa.table({"name": ["x"], "p99": [0.5]})
    for then in (
        "DELETE FROM experiments WHERE name IN (SELECT name FROM breach WHERE p99 > 1)",
        "DELETE FROM experiments WHERE name IN (SELECT DISTINCT name FROM breach)",
        "DELETE FROM experiments WHERE uid IN (SELECT uid FROM breach)",  # not a column of breach
    ):
        assert "FROM breach" in action.statement(then, breach, [])


def test_tracker_acts_after_for_and_not_again_within_cooldown():
    t = Tracker(for_=10, cooldown=60)
    row = {("c1", "shop", "x"): {}}
    assert t.observe(row, now=0).new == [("c1", "shop", "x")]
    assert t.observe(row, now=9).due == []
    assert t.observe(row, now=10).due == [("c1", "shop", "x")]
    t.acted([("c1", "shop", "x")], now=10)
    assert t.observe(row, now=30).cooling == [("c1", "shop", "x")]
    assert t.observe(row, now=71).due == [("c1", "shop", "x")]  # still breaching after the cooldown


def test_tracker_keeps_pending_breaches_while_blind():
    t = Tracker(for_=10, cooldown=60)
    t.observe({("x",): {}}, now=0)
    assert t.blind(now=4) == 0 and t.blind(now=8) == 4
    assert t.observe({("x",): {}}, now=12).due == [("x",)]  # pending since 0, not reset by blindness


def test_health_is_503_once_a_guard_stops_evaluating_on_time_or_its_when_cannot_run(tmp_path):
    import io
    import json

    from chaosql.daemon.log import EventLog
    from chaosql.engine.session import Session
    from chaosql.guard.health import health_route
    from chaosql.guard.runner import GuardLoop

    broken = guard(when="SELECT cluster, namespace, name, kind FROM experiments WHERE no_such_column = 1")
    guards = load(write(tmp_path, guard('every = "5s"\ntimeout = "2s"') + broken.replace('name = "g"', 'name = "b"')))
    now = [100.0]
    loops = [GuardLoop(g, Session([]), EventLog(io.StringIO()), clock=lambda: now[0]) for g in guards.guards]
    watching = health_route(loops[:1], clock=lambda: now[0])

    loops[0].evaluate()  # over no sources: no experiments, no breach
    now[0] += 15  # within every + 3 x timeout + 5 = 16 s of the last evaluation: alive
    assert watching(None).status == 200
    now[0] += 2  # the next evaluation should have started by now: stuck
    answer = watching(None)
    body = json.loads(answer.body)
    assert answer.status == 503 and body["status"] == "failing"
    assert body["guards"][0]["name"] == "g" and body["guards"][0]["seconds_since_evaluation"] == 17.0

    loops[1].evaluate()  # a when that cannot run at all: the process is not healthy either
    assert loops[1].fatal is not None and health_route(loops, clock=lambda: now[0])(None).status == 503
