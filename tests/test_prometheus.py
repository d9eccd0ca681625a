"""The metrics, metric_series and impact tables against a real Prometheus.

History with known values at known times is loaded with ``promtool tsdb create-blocks-from
openmetrics``, aligned to the experiments of ``tests/fixtures/prometheus`` (see the comment at the
top of its ``lab/chaos.yaml``); live data comes from an exporter the test runs and Prometheus
scrapes every second. What Prometheus was asked is read back from its own query log.
"""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from promenv import Exporter, PrometheusEnv, free_port, prometheus_available

pytestmark = pytest.mark.skipif(
    not prometheus_available(), reason="needs prometheus and promtool (tests/setup.d/30-prometheus.sh)"
)

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "prometheus"
T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
FIRST, LAST = T0 - timedelta(minutes=30), T0 + timedelta(minutes=120)
INTERVAL = 15  # seconds between loaded samples
LATENCY = "checkout_latency_p99_seconds"
ERRORS = "http_requests_errors_total"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def latency(t: datetime) -> float:
    """The loaded p99 of the checkout service: up during net-delay-checkout, recovering after it."""
    if at(0) <= t < at(10):
        return 0.5
    if at(10) <= t < at(15):
        return 0.2
    return 0.1


def error_step(t: datetime) -> int:
    """Errors added per sample: 30 per 15 s (2/s) while cpu-stress-payments runs, else 1."""
    return 30 if at(40) <= t < at(45) else 1


def times() -> list[datetime]:
    count = int((LAST - FIRST).total_seconds()) // INTERVAL + 1
    return [FIRST + timedelta(seconds=INTERVAL * i) for i in range(count)]


def history() -> str:
    lines = [f"# TYPE {LATENCY} gauge", f"# HELP {LATENCY} p99 request latency."]
    for t in times():
        lines.append(f'{LATENCY}{{namespace="shop",service="checkout"}} {latency(t)} {int(t.timestamp())}')
    for t in times():
        lines.append(f'{LATENCY}{{namespace="search",service="search"}} 0.05 {int(t.timestamp())}')
    lines.append(f"# TYPE {ERRORS[:-6]} counter")
    total = 0
    for t in times():
        total += error_step(t)
        lines.append(f'{ERRORS}{{namespace="shop",code="500"}} {total} {int(t.timestamp())}')
    return "\n".join(lines + ["# EOF"]) + "\n"


@pytest.fixture(scope="module")
def exporter():
    with Exporter('# TYPE chaosql_live_value gauge\nchaosql_live_value{room="a"} 42\n') as running:
        yield running


@pytest.fixture(scope="module")
def prom(exporter):
    with PrometheusEnv(openmetrics=history(), targets=[exporter.address]) as env:
        yield env


@pytest.fixture
def session(prom):
    from chaosql.engine.session import Session
    from chaosql.sources.prometheus import PrometheusSource
    from chaosql.sources.snapshot import SnapshotSource

    opened = Session([SnapshotSource(FIXTURE, name="fx"), PrometheusSource(prom.url, name="prom")])
    yield opened
    opened.close()


def log_since(prom: PrometheusEnv, mark: int) -> list[dict]:
    return [entry["params"] for entry in prom.query_log()[mark:]]


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


# --- metrics ----------------------------------------------------------------------------------


def test_range_query_returns_the_loaded_samples_exactly(session, prom):
    mark = len(prom.query_log())
    result = session.execute(
        f"SELECT ts, metric, labels['service'] AS service, value, step, server FROM metrics "
        f"WHERE query = '{LATENCY}{{service=\"checkout\"}}' AND ts BETWEEN '{at(-1).isoformat()}' AND '{at(1).isoformat()}' "
        f"AND step = '15s' ORDER BY ts"
    )
    rows = result.dicts()
    expected_times = [at(-1) + timedelta(seconds=15 * i) for i in range(9)]
    assert [r["ts"] for r in rows] == expected_times
    assert [r["value"] for r in rows] == [latency(t) for t in expected_times] == [0.1] * 4 + [0.5] * 5
    assert {(r["metric"], r["service"], r["step"], r["server"]) for r in rows} == {(LATENCY, "checkout", "15s", "prom")}
    assert result.types[0] == "TIMESTAMP WITH TIME ZONE"
    # Prometheus itself received exactly this range and step
    assert log_since(prom, mark) == [
        {"query": f'{LATENCY}{{service="checkout"}}', "start": iso(at(-1)), "end": iso(at(1)), "step": 15}
    ]


def test_default_step_is_about_250_points_and_exclusive_bounds_are_reapplied(session, prom):
    mark = len(prom.query_log())
    result = session.execute(
        f"SELECT ts, value, step FROM metrics WHERE query = 'sum({LATENCY})' "
        f"AND ts > TIMESTAMPTZ '{at(0).isoformat()}' AND ts <= TIMESTAMPTZ '{at(0).isoformat()}' + INTERVAL 1 HOUR ORDER BY ts"
    )
    rows = result.dicts()
    # 3600 s / 250 points -> 15 s; the sample on the excluded lower bound is dropped by DuckDB
    assert log_since(prom, mark) == [{"query": f"sum({LATENCY})", "start": iso(at(0)), "end": iso(at(60)), "step": 15}]
    assert len(rows) == 240 and rows[0]["ts"] == at(0.25) and rows[-1]["ts"] == at(60)
    assert {r["step"] for r in rows} == {"15"}
    assert all(math.isclose(r["value"], latency(r["ts"]) + 0.05) for r in rows)


def test_instant_query_at_a_time(session, prom):
    mark = len(prom.query_log())
    rows = session.execute(
        f"SELECT ts, value, step FROM metrics WHERE query = '{LATENCY}{{service=\"checkout\"}}' AND ts = '{at(10).isoformat()}'"
    ).rows()
    assert rows == [(at(10), 0.2, None)]
    total = session.execute(
        f"SELECT value FROM metrics WHERE query = '{ERRORS}' AND ts = '{at(41).isoformat()}'"
    ).scalar()
    assert total == sum(error_step(t) for t in times() if t <= at(41))
    logged = log_since(prom, mark)
    assert [(p["query"], p["start"], p["end"], p["step"]) for p in logged] == [
        (f'{LATENCY}{{service="checkout"}}', iso(at(10)), iso(at(10)), 0),
        (ERRORS, iso(at(41)), iso(at(41)), 0),
    ]


def test_several_queries_in_one_statement_each_run_once(session, prom):
    mark = len(prom.query_log())
    result = session.execute(
        f"SELECT query, count(*) AS n, sum(value) AS total FROM metrics WHERE query IN ('sum({LATENCY})', 'count({LATENCY})') "
        f"AND ts BETWEEN '{at(-5).isoformat()}' AND '{at(-1).isoformat()}' AND step = '60' GROUP BY query ORDER BY query"
    )
    assert result.rows() == [(f"count({LATENCY})", 5, 10.0), (f"sum({LATENCY})", 5, pytest.approx(0.75))]
    assert sorted(p["query"] for p in log_since(prom, mark)) == [f"count({LATENCY})", f"sum({LATENCY})"]
    assert {p["step"] for p in log_since(prom, mark)} == {60}


def test_query_pushdown_through_a_cte_and_a_self_join(session, prom):
    sql = (
        f"WITH lat AS (SELECT ts, value FROM metrics WHERE query = 'sum({LATENCY})' AND step = '60' "
        f"  AND ts BETWEEN '{at(0).isoformat()}' AND '{at(3).isoformat()}'), "
        f"err AS (SELECT ts, value FROM metrics WHERE query = 'sum(rate({ERRORS}[1m]))' AND step = '60' "
        f"  AND ts BETWEEN '{at(0).isoformat()}' AND '{at(3).isoformat()}') "
        f"SELECT lat.ts, lat.value AS latency, err.value AS errors FROM lat JOIN err USING (ts) ORDER BY ts"
    )
    rows = session.execute(sql).rows()
    assert [(t, round(v, 3)) for t, v, _ in rows] == [(at(i), 0.55) for i in range(4)]
    assert all(math.isclose(e, 1 / 15) for _, _, e in rows)


def test_live_samples_from_a_scraped_exporter(session, prom, exporter):
    prom.wait_for("chaosql_live_value", lambda result: bool(result))
    rows = session.execute(
        "SELECT metric, labels['room'], labels['job'], value FROM metrics WHERE query = 'chaosql_live_value'"
    ).rows()
    assert rows == [("chaosql_live_value", "a", "exporter", 42.0)]
    exporter.text = exporter.text.replace(" 42", " 43")
    prom.wait_for("chaosql_live_value", lambda result: result and result[0]["value"][1] == "43")
    assert session.execute("SELECT value FROM metrics WHERE query = 'chaosql_live_value'").scalar() == 43.0
    up = session.execute(
        "SELECT ts, value FROM metrics WHERE query = 'up' AND ts > now() - INTERVAL 20 SECOND AND step = '1' ORDER BY ts"
    ).rows()
    # the exporter is up since it was first scraped, one evaluation per second from then on
    assert up and {value for _, value in up} == {1.0}
    assert all(b - a == timedelta(seconds=1) for (a, _), (b, _) in itertools.pairwise(up))


def test_bad_promql_gives_prometheus_own_message(session):
    from chaosql.errors import SqlError

    with pytest.raises(SqlError) as caught:
        session.execute("SELECT * FROM metrics WHERE query = 'sum(rate(x[1m])'")
    message = str(caught.value)
    assert message.startswith("metrics: ") and '"prom"' in message
    assert "parse error" in message and "unclosed left parenthesis" in message
    assert caught.value.sqlstate == "42601"
    session.execute("SET chaosql.on_source_error = 'warn'")  # a wrong query is not a source outage
    with pytest.raises(SqlError, match="unclosed left parenthesis"):
        session.execute("SELECT * FROM metrics WHERE query = 'sum(rate(x[1m])'")


def test_a_query_predicate_is_required_and_the_error_says_how(session):
    from chaosql.errors import SqlError

    with pytest.raises(SqlError) as caught:
        session.execute("SELECT * FROM metrics WHERE ts > now() - INTERVAL 1 HOUR")
    assert "WHERE query = 'rate(http_requests_total[1m])'" in str(caught.value)
    with pytest.raises(SqlError, match="needs a PromQL query"):
        session.execute("WITH m AS (SELECT * FROM metrics) SELECT * FROM m WHERE query = 'up'")


def test_explain_analyze_shows_the_calls(session):
    rows = session.execute(
        f"EXPLAIN ANALYZE SELECT * FROM metrics WHERE query = 'up' AND ts BETWEEN '{at(0).isoformat()}' AND '{at(10).isoformat()}'"
    ).rows()
    calls = [detail for step, detail in rows if step == "call"]
    assert len(calls) == 1 and "GET /api/v1/query_range?query=up" in calls[0] and "step=3" in calls[0]


def test_metric_series_discovers_series_and_labels(session, prom):
    prom.wait_for("chaosql_live_value", bool)  # the exporter's series exist once it was scraped
    rows = session.execute(
        f"SELECT metric, labels['namespace'] AS ns, server FROM metric_series WHERE metric = '{LATENCY}' ORDER BY ns"
    ).rows()
    assert rows == [(LATENCY, "search", "prom"), (LATENCY, "shop", "prom")]
    names = {r[0] for r in session.execute("SELECT DISTINCT metric FROM metric_series").rows()}
    assert {LATENCY, ERRORS, "chaosql_live_value", "up"} <= names
    keys = session.execute(
        "SELECT list_sort(list_distinct(flatten(list(map_keys(labels))))) FROM metric_series WHERE match = '{code=\"500\"}'"
    ).scalar()
    assert keys == ["code", "namespace"]


def test_prometheus_down_is_a_clear_error_and_other_tables_still_work(snapshot_session):
    from chaosql.engine.session import Session
    from chaosql.errors import Unavailable
    from chaosql.sources.prometheus import PrometheusSource
    from chaosql.sources.snapshot import SnapshotSource

    port = free_port()  # nothing listens there
    session = Session(
        [SnapshotSource(FIXTURE, name="fx"), PrometheusSource(f"http://127.0.0.1:{port}", name="gone", backoff=0.01)]
    )
    try:
        with pytest.raises(Unavailable) as caught:
            session.execute("SELECT * FROM metrics WHERE query = 'up'")
        assert str(caught.value).startswith(
            f'metrics: prometheus "gone": cannot reach http://127.0.0.1:{port}: connection refused'
        )
        assert caught.value.sqlstate == "08006"
        assert session.execute("SELECT count(*) FROM experiments").scalar() == 4
        with pytest.raises(Unavailable, match='^impact: prometheus "gone"'):
            session.execute("SELECT * FROM impact WHERE query = 'up' AND name = 'net-delay-checkout'")
        session.execute("SET chaosql.on_source_error = 'warn'")
        result = session.execute("SELECT count(*) FROM metrics WHERE query = 'up'")
        assert result.scalar() == 0 and any("cannot reach" in w for w in result.warnings)
    finally:
        session.close()


def test_impact_asks_only_the_servers_that_watch_the_cluster(prom):
    from chaosql.engine.session import Session
    from chaosql.sources.prometheus import PrometheusSource
    from chaosql.sources.snapshot import SnapshotSource

    sources = [
        SnapshotSource(FIXTURE, name="fx"),
        PrometheusSource(prom.url, name="lab-prom", clusters=["lab"]),
        PrometheusSource(prom.url, name="other-prom", clusters=["prod"]),
    ]
    session = Session(sources)
    try:
        rows = session.execute(
            "SELECT DISTINCT server FROM impact WHERE query = 'vector(1)' AND name = 'net-delay-checkout'"
        ).rows()
        assert rows == [("lab-prom",)]
    finally:
        session.close()


def test_source_spec_and_config_open_prometheus(tmp_path, prom):
    from chaosql.config import load_config, open_sources
    from chaosql.errors import UsageError
    from chaosql.sources import open_source

    source = open_source(f"prometheus:{prom.url}")
    assert (source.family, source.name, source.url) == ("prometheus", "prometheus", prom.url)
    config = tmp_path / "config.toml"
    config.write_text(f'[sources.eu]\ntype = "prometheus"\nurl = "{prom.url}"\ncluster = "lab"\ntimeout = 5\n')
    [named] = open_sources(["eu"], load_config(str(config)))
    assert (named.name, named.clusters, named.timeout) == ("eu", frozenset({"lab"}), 5.0)
    with pytest.raises(UsageError, match="needs an http"):
        open_source("prometheus:localhost:9090")


# --- no silent empty answers (issue 17, item 7) -----------------------------------------------


def test_a_numeric_step_is_seconds(session, prom):
    mark = len(prom.query_log())
    rows = session.execute(
        f"SELECT ts, value, step FROM metrics WHERE query = '{LATENCY}{{service=\"checkout\"}}' "
        f"AND ts BETWEEN '{at(-1).isoformat()}' AND '{at(1).isoformat()}' AND step = 15 ORDER BY ts"
    ).rows()
    assert [r[0] for r in rows] == [at(-1) + timedelta(seconds=15 * i) for i in range(9)]
    assert {r[2] for r in rows} == {"15"}
    assert [p["step"] for p in log_since(prom, mark)] == [15]
    # what the error for a bad step suggests works as written
    from chaosql.errors import SqlError

    with pytest.raises(SqlError) as caught:
        session.execute(f"SELECT * FROM metrics WHERE query = 'up' AND ts > '{at(0).isoformat()}' AND step = 'often'")
    assert "step = 30" in caught.value.hint
    rows = session.execute(
        f"SELECT count(*) FROM metrics WHERE query = '{LATENCY}{{service=\"checkout\"}}' "
        f"AND ts BETWEEN '{at(0).isoformat()}' AND '{at(10).isoformat()}' AND step = 30"
    ).scalar()
    assert rows == 21


def test_impact_takes_numbers_for_step_and_windows(session, prom):
    mark = len(prom.query_log())
    rows = session.execute(
        f"SELECT window, samples, avg, before, step FROM impact WHERE query = '{CHECKOUT_P99}' "
        f"AND name = 'net-delay-checkout' AND step = 15 AND before = 600 AND after = 120 ORDER BY ts_from"
    ).rows()
    assert rows == [
        ("before", 40, pytest.approx(0.1), "600", "15"),
        ("during", 40, pytest.approx(0.5), "600", "15"),
        ("after", 8, pytest.approx(0.2), "600", "15"),
    ]
    assert sorted((p["start"], p["end"], p["step"]) for p in log_since(prom, mark)) == [
        (iso(at(-10)), iso(at(0)), 15),
        (iso(at(0)), iso(at(10)), 15),
        (iso(at(10)), iso(at(12)), 15),
    ]


def test_exact_times_are_each_an_instant_query(session, prom):
    mark = len(prom.query_log())
    promql = f'{LATENCY}{{service="checkout"}}'
    rows = session.execute(
        f"SELECT ts, value FROM metrics WHERE query = '{promql}' "
        f"AND ts IN ('{at(-5).isoformat()}', TIMESTAMPTZ '{at(5).isoformat()}', DATE '2026-11-20') ORDER BY ts"
    ).rows()
    midnight = datetime(2026, 11, 20, tzinfo=UTC)  # no data then
    assert rows == [(at(-5), 0.1), (at(5), 0.5)]
    assert sorted((p["start"], p["step"]) for p in log_since(prom, mark)) == [
        (iso(midnight), 0),
        (iso(at(-5)), 0),
        (iso(at(5)), 0),
    ]
    rows = session.execute(
        f"SELECT ts, value FROM metrics WHERE query = '{promql}' "
        f"AND (ts = '{at(12).isoformat()}' OR ts = '{at(13).isoformat()}') ORDER BY ts"
    ).rows()
    assert rows == [(at(12), 0.2), (at(13), 0.2)]
    # a time without a zone is in the session's time zone, as DuckDB reads it
    session.execute("SET TimeZone = 'Asia/Tokyo'")
    assert session.execute(
        f"SELECT value FROM metrics WHERE query = '{promql}' AND ts = '2026-11-20 19:10'"
    ).rows() == [(0.2,)]


def test_ts_equals_now_returns_the_current_sample(session, prom, exporter):
    prom.wait_for("chaosql_live_value", bool)
    rows = session.execute(
        "SELECT ts = now(), value FROM metrics WHERE query = 'chaosql_live_value' AND ts = now()"
    ).rows()
    assert rows == [(True, 42.0)] or rows == [(True, 43.0)]  # the exporter's value (another test may bump it)


def test_a_time_finer_than_a_millisecond_is_refused_with_the_fix(session):
    from chaosql.errors import SqlError

    with pytest.raises(SqlError) as caught:
        session.execute("SELECT * FROM metrics WHERE query = 'up' AND ts = TIMESTAMPTZ '2026-11-20 10:00:00.0005+00'")
    assert "whole milliseconds" in str(caught.value)
    assert "ts = TIMESTAMPTZ '2026-11-20T10:00:00+00:00'" in caught.value.hint


def test_ts_compared_with_other_rows_needs_a_constant_range(session, prom):
    from chaosql.errors import SqlError

    join = (
        f"SELECT e.name, count(*) AS samples, max(m.value) AS peak FROM experiments e JOIN metrics m "
        f"ON m.ts >= e.created_at AND m.ts < e.ends_at WHERE m.query = 'max({LATENCY})' AND e.name = 'net-delay-checkout' "
        "{range}GROUP BY e.name"
    )
    with pytest.raises(SqlError) as caught:
        session.execute(join.format(range=""))
    assert "no constant range" in str(caught.value) and "m.ts BETWEEN" in caught.value.hint
    with pytest.raises(SqlError, match="no constant range"):
        session.execute("SELECT * FROM metrics WHERE query = 'up' AND ts = (SELECT max(created_at) FROM experiments)")
    with pytest.raises(SqlError, match="bind parameter"):
        session.execute("SELECT * FROM metrics WHERE query = 'up' AND ts > ?", [at(0)])
    with pytest.raises(SqlError, match="OR-ed with a range"):
        session.execute(
            f"SELECT * FROM metrics WHERE query = 'up' AND (ts = '{at(0).isoformat()}' OR ts > '{at(5).isoformat()}')"
        )
    # with a constant range the join is answered: the loaded p99 during net-delay-checkout
    ranged = join.format(
        range=f"AND m.ts BETWEEN '{at(-5).isoformat()}' AND '{at(15).isoformat()}' AND m.step = '15s' "
    )
    assert session.execute(ranged).rows() == [("net-delay-checkout", 40, 0.5)]


def test_each_reference_gets_its_own_times_and_step(session, prom):
    """An exact time in one SELECT and a range in another, and two ranges whose default steps
    differ: each reference is asked for on its own, so neither changes the other's samples."""
    mark = len(prom.query_log())
    rows = session.execute(
        f"SELECT 'at' AS part, ts, value FROM metrics WHERE query = 'sum({LATENCY})' AND ts = '{at(5).isoformat()}' "
        f"UNION ALL SELECT 'range', ts, value FROM metrics WHERE query = 'sum({LATENCY})' "
        f"AND ts BETWEEN '{at(-1).isoformat()}' AND '{at(1).isoformat()}' AND step = '15s' ORDER BY part, ts"
    ).rows()
    assert rows[0] == ("at", at(5), pytest.approx(0.55))
    assert [r[1] for r in rows[1:]] == [at(-1) + timedelta(seconds=15 * i) for i in range(9)]
    assert sorted((p["start"], p["end"], p["step"]) for p in log_since(prom, mark)) == [
        (iso(at(-1)), iso(at(1)), 15),
        (iso(at(5)), iso(at(5)), 0),
    ]
    mark = len(prom.query_log())
    counts = session.execute(
        f"WITH early AS (SELECT ts FROM metrics WHERE query = 'sum({LATENCY})' "
        f"  AND ts BETWEEN '{at(0).isoformat()}' AND '{at(10).isoformat()}'), "
        f"late AS (SELECT ts FROM metrics WHERE query = 'sum({LATENCY})' "
        f"  AND ts BETWEEN '{at(60).isoformat()}' AND '{at(120).isoformat()}') "
        f"SELECT (SELECT count(*) FROM early), (SELECT count(*) FROM late)"
    ).rows()
    assert counts == [(201, 241)]  # 10 minutes at 3 s, 60 minutes at 15 s: ~250 points each
    assert sorted((p["start"], p["step"]) for p in log_since(prom, mark)) == [(iso(at(0)), 3), (iso(at(60)), 15)]


# --- impact -----------------------------------------------------------------------------------

CHECKOUT_P99 = f'max({LATENCY}{{namespace="{{{{namespace}}}}",service="checkout"}})'


def test_impact_gives_before_during_after_of_each_experiment(session, prom):
    mark = len(prom.query_log())
    result = session.execute(
        f"SELECT name, window, ts_from, ts_to, samples, avg, min, max, p50, p99 FROM impact "
        f"WHERE query = '{CHECKOUT_P99}' AND namespace = 'shop' AND kind = 'NetworkChaos' ORDER BY name, ts_from"
    )
    got = {(r["name"], r["window"]): r for r in result.dicts()}
    expected_windows = {
        ("net-delay-checkout", "before"): (at(-5), at(0), 0.1),
        ("net-delay-checkout", "during"): (at(0), at(10), 0.5),
        ("net-delay-checkout", "after"): (at(10), at(15), 0.2),
        ("net-partition-early", "before"): (at(15), at(20), 0.1),
        ("net-partition-early", "during"): (at(20), at(25), 0.1),  # deleted after 5 of its 60 minutes
        ("net-partition-early", "after"): (at(25), at(30), 0.1),
    }
    assert set(got) == set(expected_windows)
    for key, (lo, hi, value) in expected_windows.items():
        row = got[key]
        assert (row["ts_from"], row["ts_to"]) == (lo, hi), key
        step = max(1, math.ceil((hi - lo).total_seconds() / 250))
        assert row["samples"] == (hi - lo).total_seconds() // step, key
        assert row["avg"] == pytest.approx(value) and row["min"] == row["max"] == row["p50"] == row["p99"] == value, key
    # one range query per window, the placeholder filled with the experiment's namespace
    logged = log_since(prom, mark)
    assert sorted((p["start"], p["end"], p["step"]) for p in logged) == sorted(
        (iso(lo), iso(hi), max(1, math.ceil((hi - lo).total_seconds() / 250)))
        for lo, hi, _ in expected_windows.values()
    )
    assert {p["query"] for p in logged} == {f'max({LATENCY}{{namespace="shop",service="checkout"}})'}


def test_impact_joined_with_experiments_and_an_explicit_step(session, prom):
    mark = len(prom.query_log())
    rows = session.execute(
        f"SELECT e.name, e.action, i.window, i.samples, i.avg, i.started_at, i.ended_at "
        f"FROM experiments e JOIN impact i USING (cluster, namespace, name) "
        f"WHERE i.query = '{CHECKOUT_P99}' AND i.name = 'net-delay-checkout' AND i.step = '15s' "
        f"AND i.before = '1m' AND i.after = '2m' ORDER BY i.ts_from"
    ).rows()
    assert rows == [
        ("net-delay-checkout", "delay", "before", 4, pytest.approx(0.1), at(0), at(10)),
        ("net-delay-checkout", "delay", "during", 40, pytest.approx(0.5), at(0), at(10)),
        ("net-delay-checkout", "delay", "after", 8, pytest.approx(0.2), at(0), at(10)),
    ]
    assert sorted((p["start"], p["end"], p["step"]) for p in log_since(prom, mark)) == [
        (iso(at(-1)), iso(at(0)), 15),
        (iso(at(0)), iso(at(10)), 15),
        (iso(at(10)), iso(at(12)), 15),
    ]


def test_impact_window_without_data_still_has_a_row(session):
    rows = session.execute(
        "SELECT window, samples, avg, labels FROM impact WHERE query = 'absent_metric_xyz' AND name = 'net-loss-search' ORDER BY ts_from"
    ).rows()
    assert rows == [("before", 0, None, None), ("during", 0, None, None), ("after", 0, None, None)]


def _saved(name: str):
    from chaosql.reports.saved import BUILTIN_DIR, load_file

    return load_file(BUILTIN_DIR / f"{name}.sql", builtin=True)


def test_saved_query_network_chaos_p99_impact(session):
    sql = _saved("network-chaos-p99-impact").bind(
        {"latency": CHECKOUT_P99, "namespace": "shop", "now": at(180).isoformat()}
    )
    rows = {r["name"]: r for r in session.execute(sql).dicts()}
    assert set(rows) == {"net-delay-checkout", "net-partition-early"}
    delay = rows["net-delay-checkout"]
    assert (delay["p99_before"], delay["p99_during"], delay["p99_after"]) == pytest.approx((0.1, 0.5, 0.2))
    assert delay["raised_by"] == pytest.approx(0.4) and delay["raised_pct"] == pytest.approx(400.0)
    assert rows["net-partition-early"]["raised_by"] == pytest.approx(0.0)


def test_saved_query_experiments_during_error_rise(session):
    errors = f'sum(rate({ERRORS}{{namespace="{{{{namespace}}}}"}}[1m]))'
    sql = _saved("experiments-during-error-rise").bind({"errors": errors, "now": at(180).isoformat()})
    rows = session.execute(sql).dicts()
    assert [r["name"] for r in rows if r["rose"]] == ["cpu-stress-payments"]
    stress = next(r for r in rows if r["name"] == "cpu-stress-payments")
    assert stress["errors_before"] == pytest.approx(1 / 15)
    # rate() over 1m needs a minute to catch up with the step change, so the during mean sits below 2/s
    assert 1.0 < stress["errors_during"] <= 2.0
    assert {r["name"] for r in rows} == {
        "net-delay-checkout",
        "net-partition-early",
        "cpu-stress-payments",
        "net-loss-search",
    }
