"""Saved queries: every shipped one runs on the demo data, answers match the demo JSON read
directly, parameters are typed and bound safely, and ``chaosql run``/``queries`` behave for cron."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta

import demo_truth as truth
import pytest

from chaosql.errors import UsageError
from chaosql.reports.saved import catalog, find, parse_text

NOW = "2026-11-20T12:00:00Z"
QUERIES = catalog()


def chaosql(*args: str, env: dict | None = None, cwd=None) -> subprocess.CompletedProcess:
    import os

    full_env = {**os.environ, "CHAOSQL_SOURCE": "demo", **(env or {})}
    full_env.pop("CHAOSQL_CONFIG", None) if env is None or "CHAOSQL_CONFIG" not in env else None
    return subprocess.run(
        [sys.executable, "-m", "chaosql", *args], capture_output=True, text=True, env=full_env, cwd=cwd, timeout=120
    )


def run(session, name: str, **params):
    query = find(name, QUERIES)
    if query.param("now") and "now" not in params:
        params["now"] = NOW
    return session.execute(query.bind(params))


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_every_shipped_query_runs_on_the_demo_data(demo_session, name):
    result = run(demo_session, name)
    assert result.columns, name
    assert result.arrow().num_rows > 0, f"{name} returns no rows on the demo data"
    query = QUERIES[name]
    assert query.builtin and query.description and query.title
    if query.chart:  # the chart names columns the query really returns, and draws
        from chaosql.reports.charts import draw

        assert draw(query.chart, result.columns, result.rows()).startswith("<svg")


@pytest.mark.parametrize("minutes", [10, 180, 24 * 60])
def test_stuck_injecting_matches_the_demo_json(demo_session, minutes):
    now = _time(NOW)
    expected = {
        (c, o["metadata"]["namespace"], o["metadata"]["name"])
        for c, o in truth.experiments()
        if truth.phase(o) == "injecting"
        and _time(o["metadata"]["creationTimestamp"]) <= now - timedelta(minutes=minutes)
    }
    result = run(demo_session, "stuck-injecting", minutes=str(minutes))
    got = {(r["cluster"], r["namespace"], r["name"]) for r in result.dicts()}
    assert got == expected
    assert expected or minutes > 10, "the demo data has experiments stuck injecting"
    assert all(r["minutes_injecting"] >= minutes for r in result.dicts())


def test_never_injected_matches_the_demo_json(demo_session):
    expected = set()
    for c, o in truth.experiments():
        for record in o.get("status", {}).get("experiment", {}).get("containerRecords") or []:
            if not record.get("injectedCount"):
                expected.add((c, o["metadata"]["namespace"], o["metadata"]["name"], record["id"]))
    got = {
        (r["cluster"], r["namespace"], r["experiment"], r["target_id"])
        for r in run(demo_session, "never-injected").dicts()
    }
    assert got == expected and expected
    shop = {row for row in expected if row[1] == "shop"}
    got_shop = {
        (r["cluster"], r["namespace"], r["experiment"], r["target_id"])
        for r in run(demo_session, "never-injected", namespace="shop").dicts()
    }
    assert got_shop == shop


def test_warning_events_of_the_last_day_match_the_demo_json(demo_session):
    now = _time(NOW)
    expected = sorted(
        (c, o["involvedObject"]["name"], o["reason"], _time(o.get("lastTimestamp") or o["eventTime"]))
        for c, o in truth.objects()
        if o["kind"] == "Event"
        and o["type"] == "Warning"
        and o["involvedObject"]["apiVersion"].startswith("chaos-mesh.org/")
        and now - timedelta(days=1) < _time(o.get("lastTimestamp") or o["eventTime"]) <= now
    )
    got = sorted(
        (r["cluster"], r["object_name"], r["reason"], r["last_at"]) for r in run(demo_session, "warning-events").dicts()
    )
    assert got == expected and expected


def test_running_by_namespace_and_teams_match_the_demo_json(demo_session):
    running = truth.count_by(lambda c, o: (c, o["metadata"]["namespace"]) if truth.phase(o) == "running" else None)
    running.pop(None, None)
    got = {(r["cluster"], r["namespace"]): r["running"] for r in run(demo_session, "running-by-namespace").dicts()}
    assert got == dict(running)
    teams = truth.count_by(lambda c, o: (c, (o["metadata"].get("labels") or {}).get("team", "(no team label)")))
    got = {(r["cluster"], r["team"]): r["experiments"] for r in run(demo_session, "experiments-per-team").dicts()}
    assert got == dict(teams)


def test_parameters_are_bound_as_literals_not_pasted(demo_session):
    hostile = "shop' OR '1'='1"
    assert run(demo_session, "running-by-namespace", namespace=hostile).arrow().num_rows == 0
    sql = find("running-by-namespace", QUERIES).bind({"namespace": hostile})
    assert "'shop'' OR ''1''=''1'" in sql
    # a bound constant still pushes down to the source
    assert "namespace" in run(demo_session, "running-by-namespace", namespace="shop").pushdown["experiments"]


@pytest.mark.parametrize(
    "params, message",
    [
        ({"minutes": "ten"}, "parameter minutes takes an integer, not 'ten'"),
        ({"minutes": "1; DROP TABLE x"}, "parameter minutes takes an integer"),
        ({"now": "yesterday-ish"}, "parameter now takes a timestamp"),
        ({"mins": "5"}, "unknown parameter 'mins'"),
    ],
)
def test_bad_parameters_are_usage_errors(params, message):
    with pytest.raises(UsageError, match=message.replace("(", r"\(")):
        find("stuck-injecting", QUERIES).bind(params)


def test_header_errors_name_the_file_and_problem():
    with pytest.raises(UsageError, match=r"\$ns is not declared"):
        parse_text("SELECT * FROM experiments WHERE namespace = $ns", name="x")
    with pytest.raises(UsageError, match="unknown type 'string'"):
        parse_text("-- param: ns string = a\nSELECT $ns", name="x")
    with pytest.raises(UsageError, match="required"):
        parse_text("-- param: ns text\nSELECT $ns", name="x").bind({})


def test_cli_run_prints_the_result_and_exits_0():
    proc = chaosql("run", "stuck-injecting", "--param", f"now={NOW}", "--param", "minutes=100000", "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0].startswith("cluster,namespace,kind,name")
    assert len(proc.stdout.splitlines()) == 1  # nothing stuck that long: header only


def test_cli_failing_check_exits_3_and_names_the_check():
    proc = chaosql("run", "stuck-injecting", "--param", f"now={NOW}", "--quiet")
    assert proc.returncode == 3
    assert "check stuck-injecting failed" in proc.stderr and "rows, expected none" in proc.stderr
    assert proc.stdout == ""


def test_cli_unknown_query_and_bad_parameter_exit_2():
    proc = chaosql("run", "stuck-injectin")
    assert (
        proc.returncode == 2
        and "no saved query named 'stuck-injectin'" in proc.stderr
        and "did you mean stuck-injecting" in proc.stderr
    )
    proc = chaosql("run", "stuck-injecting", "--param", "minutes=soon")
    assert proc.returncode == 2 and "parameter minutes takes an integer, not 'soon'" in proc.stderr
    proc = chaosql("run", "stuck-injecting", "--param", "minutes")
    assert proc.returncode == 2 and "expected NAME=VALUE" in proc.stderr


def test_user_queries_from_the_config_directory(tmp_path):
    mine = tmp_path / "my-queries"
    mine.mkdir()
    (mine / "pod-kills.sql").write_text(
        "-- description: Pod kills in one namespace.\n"
        "-- param: ns text = shop\n"
        "SELECT count(*) AS n FROM experiments WHERE kind = 'PodChaos' AND action = 'pod-kill' AND namespace = $ns\n"
    )
    (mine / "phase-mix.sql").write_text("-- description: mine, not the built-in\nSELECT 1 AS one\n")
    config = tmp_path / "config.toml"
    config.write_text('[queries]\ndir = "my-queries"\n\n[sources.demo]\ntype = "demo"\n')
    env = {"CHAOSQL_CONFIG": str(config), "CHAOSQL_SOURCE": ""}
    listing = chaosql("queries", "--format", "csv", env=env)
    assert listing.returncode == 0, listing.stderr
    lines = {line.split(",")[0]: line for line in listing.stdout.splitlines()}
    assert "pod-kills" in lines and str(mine / "pod-kills.sql") in lines["pod-kills"]
    assert "mine, not the built-in" in lines["phase-mix"] and "stuck-injecting" in lines
    expected = sum(
        1
        for c, o in truth.experiments()
        if o["kind"] == "PodChaos"
        and o["spec"].get("action") == "pod-kill"
        and o["metadata"]["namespace"] == "payments"
    )
    proc = chaosql("run", "pod-kills", "--param", "ns=payments", "--format", "csv", env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["n", str(expected)]
    shown = chaosql("queries", "stuck-injecting", env=env)
    assert "--param minutes integer = 10" in shown.stdout and "SELECT" in shown.stdout


def test_a_broken_user_file_is_named_and_does_not_stop_the_others(tmp_path):
    mine = tmp_path / "q"
    mine.mkdir()
    (mine / "good.sql").write_text("SELECT 1 AS one\n")
    (mine / "bad.sql").write_text("-- param: n int = 1\nSELECT $n\n")
    config = tmp_path / "config.toml"
    config.write_text('[queries]\ndir = "q"\n')
    env = {"CHAOSQL_CONFIG": str(config), "CHAOSQL_SOURCE": "demo"}
    listing = chaosql("queries", "--format", "csv", env=env)
    assert listing.returncode == 2
    assert (
        "good," in listing.stdout
        and f"saved query {mine / 'bad.sql'} line 1: parameter n has unknown type 'int'" in listing.stderr
    )
    assert chaosql("run", "good", env=env).returncode == 0
    bad = chaosql("run", "bad", env=env)
    assert bad.returncode == 2 and "unknown type 'int'" in bad.stderr
