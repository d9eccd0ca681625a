"""chaosql export in-process over the demo data and small snapshots: the shipped families give the
SQL answers, a saved query becomes a family, a broken one breaks only itself, caps, counters that
survive deletions and restarts, the refresh interval, and the format the Accept header picks.

The real Prometheus scraping the exporter, promtool and the CLI are in test_export_prometheus.py;
a live apiserver (watch cache, restart, a stalled refresh) in kube/test_kube_export.py.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from chaosql.daemon.log import EventLog
from chaosql.errors import UsageError
from chaosql.export.catalog import families
from chaosql.export.counters import CounterState
from chaosql.export.exporter import Exporter
from chaosql.export.exposition import OPENMETRICS, TEXT, negotiate
from chaosql.export.family import ExportError, from_query
from chaosql.reports.saved import parse_text

SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text: str) -> dict[str, dict[frozenset, float]]:
    """Exposition text -> {sample name: {frozenset of (label, value): number}}."""
    out: dict[str, dict[frozenset, float]] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        name, labels, value = match.groups()
        key = frozenset(LABEL.findall(labels or ""))
        assert key not in out.setdefault(name, {}), f"duplicate series {name}{labels}"
        out[name][key] = float(value)
    return out


def exporter_over(session, specs=None, broken=None, **options):
    if specs is None:
        specs, broken = families()
    log_out = io.StringIO()
    exporter = Exporter(session, specs, broken=broken, log=EventLog(log_out, fmt="json"), **options)
    exporter.log_out = log_out  # type: ignore[attr-defined]
    return exporter


def family(text: str, name: str = "q"):
    return from_query(parse_text(text, name=name, path=Path(f"/teams/{name}.sql")))


@pytest.fixture(scope="module")
def demo_metrics(demo_source):
    """The shipped families over the demo data, refreshed once, as parsed samples."""
    from chaosql.engine.session import Session

    session = Session([demo_source], settings={"on_source_error": "warn"})
    exporter = exporter_over(session)
    collected = exporter.refresh_now()
    text = exporter.scrape(TEXT, wait=0)
    yield collected, parse(text), text
    exporter.close()
    session.close()


def test_every_shipped_family_works_on_the_demo(demo_metrics):
    collected, samples, _ = demo_metrics
    failed = {n: o.error for n, o in collected.outcomes.items() if not o.ok}
    assert failed == {}
    # the demo has no LitmusChaos objects: those families are tested on an apiserver (kube/test_kube_export.py)
    litmus = {"chaosql_experiment_verdict", "chaosql_litmus_result"}
    assert all(o.series > 0 for n, o in collected.outcomes.items() if n not in litmus), collected.outcomes
    assert all(collected.outcomes[n].series == 0 for n in litmus)
    assert samples["chaosql_export_family_up"] and set(samples["chaosql_export_family_up"].values()) == {1.0}


def test_experiments_by_phase_is_the_sql_count(demo_metrics, demo_session):
    _, samples, _ = demo_metrics
    by_phase: dict[str, float] = {}
    for labels, value in samples["chaosql_experiments"].items():
        phase = dict(labels)["phase"]
        by_phase[phase] = by_phase.get(phase, 0) + value
    sql = dict(demo_session.execute("SELECT phase, count(*) FROM experiments GROUP BY phase").rows())
    assert by_phase == {k: float(v) for k, v in sql.items()}
    per_experiment = samples["chaosql_experiment_phase"]
    assert len(per_experiment) == sum(sql.values())


def test_injected_parameters_are_the_typed_columns(demo_metrics, demo_session):
    _, samples, _ = demo_metrics
    rows = demo_session.execute(
        "SELECT cluster, namespace, name, epoch(delay_latency), loss_loss / 100 FROM network_chaos "
        "WHERE action IN ('delay', 'loss') ORDER BY ALL"
    ).rows()
    assert rows
    delay = samples["chaosql_injected_network_delay_seconds"]
    loss = samples["chaosql_injected_network_loss_ratio"]
    for cluster, namespace, name, seconds, ratio in rows:
        key = frozenset({"cluster": cluster, "namespace": namespace, "kind": "NetworkChaos", "name": name}.items())
        found = {k: v for k, v in (delay if seconds is not None else loss).items() if key <= k}
        assert list(found.values()) == [seconds if seconds is not None else ratio], name
    stress = samples["chaosql_injected_stress_cpu_workers"]
    (workers,) = demo_session.execute("SELECT sum(stressors_cpu_workers) FROM stress_chaos").rows()[0]
    assert sum(v for k, v in stress.items() if ("kind", "StressChaos") in k) == workers


def test_times_are_unix_seconds_and_booleans_numbers(demo_metrics, demo_session):
    _, samples, _ = demo_metrics
    (name, created, _) = demo_session.execute(
        "SELECT name, epoch(created_at), paused FROM experiments WHERE paused ORDER BY name LIMIT 1"
    ).rows()[0]
    starts = {dict(k)["name"]: v for k, v in samples["chaosql_experiment_start_time_seconds"].items()}
    assert starts[name] == created
    injected = demo_session.execute(
        "SELECT cluster, namespace, kind, experiment, epoch(max(last_event_at)) FROM targets "
        "WHERE phase = 'Injected' AND last_operation = 'Apply' AND last_event_type = 'Succeeded' GROUP BY ALL"
    ).rows()
    assert injected
    injection_times = {
        tuple(dict(k)[label] for label in ("cluster", "namespace", "kind", "name")): v
        for k, v in samples["chaosql_experiment_injection_time_seconds"].items()
    }
    assert injection_times == {tuple(row[:4]): row[4] for row in injected}
    per_target = demo_session.execute(
        "SELECT cluster, namespace, kind, experiment, count(*) FILTER (WHERE phase = 'Injected'), "
        "count(*) FILTER (WHERE phase <> 'Injected' AND recovered_count > 0) FROM targets GROUP BY ALL"
    ).rows()
    assert any(row[4] for row in per_target) and any(row[5] for row in per_target)
    for value, column in (("injected_targets", 4), ("recovered_targets", 5)):
        got = {
            tuple(dict(k)[label] for label in ("cluster", "namespace", "kind", "name")): v
            for k, v in samples[f"chaosql_experiment_{value}"].items()
        }
        assert {key: n for key, n in got.items() if n} == {tuple(r[:4]): r[column] for r in per_target if r[column]}
    paused_values = {dict(k)["name"]: v for k, v in samples["chaosql_experiment_paused"].items()}
    assert paused_values[name] == 1.0 and set(paused_values.values()) == {0.0, 1.0}


def test_schedules_and_workflows_are_the_sql_answers(demo_metrics, demo_session):
    _, samples, _ = demo_metrics
    states: dict[str, float] = {}
    for labels, value in samples["chaosql_workflow_state"].items():
        states[dict(labels)["state"]] = states.get(dict(labels)["state"], 0) + value
    sql = demo_session.execute("SELECT state, count(*) FROM workflows GROUP BY 1").rows()
    assert states == {state: float(n) for state, n in sql} and len(states) > 1
    paused = {
        (dict(k)["cluster"], dict(k)["namespace"], dict(k)["name"]): v
        for k, v in samples["chaosql_schedule_paused"].items()
    }
    sql = demo_session.execute("SELECT cluster, namespace, name, paused::INTEGER FROM schedules").rows()
    assert paused == {tuple(r[:3]): float(r[3]) for r in sql} and set(paused.values()) == {0.0, 1.0}
    active = sum(samples["chaosql_schedule_active_experiments"].values())
    assert active == demo_session.execute("SELECT sum(active_count) FROM schedules").rows()[0][0]


def test_openmetrics_names_counters_without_total_and_ends_with_eof(demo_metrics):
    collected, _, text = demo_metrics
    assert "# TYPE chaosql_experiments_created_total counter" in text
    om = collected.text(OPENMETRICS)
    assert "# TYPE chaosql_experiments_created counter" in om
    assert "\nchaosql_experiments_created_total{" in om


# --- a saved query becomes a family --------------------------------------------------------------

TEAM_QUERY = """\
-- name: team-delay
-- metric: team_network_delay_seconds
-- help: Longest delay each team injects.
SELECT cluster, labels['team'] AS team, max(epoch(delay_latency)) AS delay
FROM network_chaos WHERE action = 'delay' GROUP BY ALL
"""


def test_a_saved_query_in_the_queries_dir_becomes_a_family(tmp_path, demo_session):
    (tmp_path / "team-delay.sql").write_text(TEAM_QUERY)
    (tmp_path / "plain.sql").write_text("SELECT 1 AS x")  # an ordinary saved query: not a family
    specs, broken = families([tmp_path], defaults=False)
    assert [s.metric for s in specs] == ["team_network_delay_seconds"] and broken == {}
    exporter = exporter_over(demo_session, specs, broken)
    exporter.refresh_now()
    samples = parse(exporter.scrape(TEXT, wait=0))
    want = demo_session.execute(
        "SELECT cluster, labels['team'], max(epoch(delay_latency)) FROM network_chaos "
        "WHERE action = 'delay' GROUP BY ALL"
    ).rows()
    got = {(dict(k)["cluster"], dict(k).get("team")): v for k, v in samples["team_network_delay_seconds"].items()}
    assert got == {(c, t): v for c, t, v in want}
    exporter.close()


def test_a_user_query_replaces_the_shipped_one_of_its_name(tmp_path):
    (tmp_path / "mine.sql").write_text(
        "-- name: experiments\n-- metric: chaosql_experiments\nSELECT cluster, count(*) AS n FROM experiments GROUP BY ALL"
    )
    specs, _ = families([tmp_path])
    (spec,) = [s for s in specs if s.query.name == "experiments"]
    assert spec.query.path == tmp_path / "mine.sql"


def test_several_value_columns_make_one_family_each():
    spec = family("-- metric: team_chaos\n-- help: Chaos per team.\nSELECT 'a' AS team, 1 AS runs, 2.5 AS hours")
    import pyarrow as pa

    shaped = spec.shape(pa.table({"team": ["a", None], "runs": [1, None], "hours": [2.5, 3.0]}))
    assert [(s.name, s.help, s.samples) for s in shaped] == [
        ("team_chaos_runs", "Chaos per team. (runs)", [('{team="a"}', 1.0)]),  # NULL value: no sample
        ("team_chaos_hours", "Chaos per team. (hours)", [('{team="a"}', 2.5), ("", 3.0)]),  # NULL label: absent
    ]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("-- metric: 9lives\n", "not a metric name"),
        ("-- metric: x\n-- metric_type: histogram\n", "not one of gauge, counter"),
        ("-- metric: x\n-- key: uid\n", "key is for counters"),
        ("-- metric: x\n-- max_series: lots\n", "max_series takes a whole number"),
        ("-- metric_type: gauge\n", "no metric name"),
    ],
)
def test_a_wrong_family_header_says_what_is_wrong(header, message):
    with pytest.raises(UsageError, match=message):
        family(header + "SELECT 1 AS v")


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT 'a' AS team, 1 AS v UNION ALL SELECT 'a', 2", "two rows have the same labels"),
        ("SELECT [1, 2] AS targets, 1 AS v", "column 'targets' is list"),
        ("SELECT 'a' AS team", "no number column"),
        ("SELECT 'a' AS __name, 1 AS v", "not a label name"),
    ],
)
def test_a_result_that_makes_no_metrics_is_an_error_naming_the_column(sql, message, demo_session):
    spec = family("-- metric: x\n" + sql)
    with pytest.raises(ExportError, match=message):
        spec.shape(demo_session.execute(spec.query.sql).arrow())


# --- a broken family breaks only itself ----------------------------------------------------------


def test_a_broken_saved_query_breaks_only_its_own_family(tmp_path, demo_session):
    (tmp_path / "good.sql").write_text("-- metric: good_experiments\nSELECT count(*) AS n FROM experiments")
    (tmp_path / "typo.sql").write_text("-- metric: typo_experiments\nSELECT count(*) AS n FROM experimnets")
    (tmp_path / "header.sql").write_text("-- metric: header_x\n-- metric_type: summary\nSELECT 1 AS n")
    specs, broken = families([tmp_path], defaults=False)
    assert set(broken) == {"header"} and "summary" in broken["header"]
    exporter = exporter_over(demo_session, specs, broken)
    exporter.refresh_now()
    samples = parse(exporter.scrape(TEXT, wait=0))
    assert list(samples["good_experiments"].values()) == [360.0]
    assert "typo_experiments" not in samples
    up = {dict(k)["family"]: v for k, v in samples["chaosql_export_family_up"].items()}
    assert up == {"good_experiments": 1.0, "typo_experiments": 0.0, "header": 0.0}
    errors = {dict(k)["family"]: v for k, v in samples["chaosql_export_family_errors_total"].items()}
    assert errors == {"good_experiments": 0.0, "typo_experiments": 1.0, "header": 1.0}
    logged = [json.loads(line) for line in exporter.log_out.getvalue().splitlines()]
    failed = [r for r in logged if r["event"] == "family failed"]
    assert len(failed) == 1 and failed[0]["family"] == "typo_experiments"
    assert 'unknown table "experimnets"' in failed[0]["error"] and failed[0]["origin"].endswith("typo.sql")
    assert [r["family"] for r in logged if r["event"] == "family broken"] == ["header"]
    exporter.refresh_now()  # the same failure again is not logged again
    again = [json.loads(line) for line in exporter.log_out.getvalue().splitlines()]
    assert len([r for r in again if r["event"] == "family failed"]) == 1
    exporter.close()


def test_two_families_of_one_name_the_second_is_broken(tmp_path):
    (tmp_path / "a.sql").write_text("-- metric: chaosql_experiments\nSELECT 1 AS n")
    (tmp_path / "b.sql").write_text("-- metric: chaosql_export_mine\nSELECT 1 AS n")
    specs, broken = families([tmp_path])
    assert "already defined by built-in" in broken["a"]
    assert "the exporter's own" in broken["b"]
    assert sum(1 for s in specs if s.metric == "chaosql_experiments") == 1


def test_a_family_over_its_cap_is_left_out_and_said_so(tmp_path, demo_session):
    (tmp_path / "wide.sql").write_text(
        "-- metric: wide_experiments\n-- max_series: 50\nSELECT cluster, namespace, name, kind, 1 AS n FROM experiments"
    )
    (tmp_path / "narrow.sql").write_text("-- metric: narrow\nSELECT cluster, count(*) AS n FROM experiments GROUP BY 1")
    # two families of 360 series each: the cap is per family, not per query
    (tmp_path / "two.sql").write_text(
        "-- metric: two\n-- max_series: 400\nSELECT cluster, namespace, name, kind, 1 AS a, 2 AS b FROM experiments"
    )
    specs, broken = families([tmp_path], defaults=False)
    exporter = exporter_over(demo_session, specs, broken)
    collected = exporter.refresh_now()
    samples = parse(exporter.scrape(TEXT, wait=0))
    assert "wide_experiments" not in samples and len(samples["narrow"]) == 2
    assert len(samples["two_a"]) == len(samples["two_b"]) == 360 and collected.outcomes["two"].ok
    outcome = collected.outcomes["wide_experiments"]
    assert not outcome.ok and "360 series, more than its cap of 50" in outcome.error
    assert "cap of 50" in exporter.log_out.getvalue()
    exporter.close()


# --- counters that stay monotonic ----------------------------------------------------------------


def write_snapshot(directory: Path, names: list[str], *, failed: dict[str, int] | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    items = [
        {
            "apiVersion": "chaos-mesh.org/v1alpha1",
            "kind": "PodChaos",
            "metadata": {
                "name": n,
                "namespace": "shop",
                "uid": f"uid-{n}",
                "creationTimestamp": "2026-11-20T10:00:00Z",
            },
            "spec": {"action": "pod-failure", "mode": "one", "selector": {"namespaces": ["shop"]}},
        }
        for n in names
    ]
    items += [
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": f"ev-{n}", "namespace": "shop", "uid": f"ev-{n}"},
            "involvedObject": {"apiVersion": "chaos-mesh.org/v1alpha1", "kind": "PodChaos", "name": n},
            "reason": "Failed",
            "type": "Warning",
            "count": count,
            "lastTimestamp": "2026-11-20T10:00:00Z",
        }
        for n, count in (failed or {}).items()
    ]
    (directory / "objects.json").write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    return directory


def counter_values(tmp_path: Path, snapshot: Path, state: Path | None) -> dict[str, float]:
    from chaosql.engine.session import Session
    from chaosql.sources.snapshot import SnapshotSource

    session = Session([SnapshotSource(snapshot, name="lab")])
    specs = [s for s in families()[0] if s.type == "counter"]
    exporter = exporter_over(session, specs, counters=CounterState(state))
    exporter.refresh_now()
    samples = parse(exporter.scrape(TEXT, wait=0))
    exporter.close()
    session.close()
    return {
        name: sum(samples[name].values())
        for name in ("chaosql_experiments_created_total", "chaosql_injection_failures_total")
    }


def test_counters_keep_deleted_objects_and_restarts_with_a_state_file(tmp_path):
    state = tmp_path / "counters.json"
    first = write_snapshot(tmp_path / "t1", ["a", "b", "c"], failed={"a": 2})
    assert counter_values(tmp_path, first, state) == {
        "chaosql_experiments_created_total": 3.0,
        "chaosql_injection_failures_total": 2.0,
    }
    # restarted: c was deleted, d created, a's event counted 3 more failures, b got a new event
    second = write_snapshot(tmp_path / "t2", ["a", "b", "d"], failed={"a": 5, "b": 1})
    assert counter_values(tmp_path, second, state) == {
        "chaosql_experiments_created_total": 4.0,
        "chaosql_injection_failures_total": 6.0,
    }
    # without the state file the counters start again from what is there (a counter reset)
    assert counter_values(tmp_path, second, None)["chaosql_experiments_created_total"] == 3.0


def test_a_bad_state_file_is_refused_before_anything_runs(tmp_path):
    state = tmp_path / "counters.json"
    state.write_text("{not json")
    with pytest.raises(UsageError, match="cannot read the counter state"):
        CounterState(state)


# --- refreshes, staleness and formats ------------------------------------------------------------


def test_scrapes_refresh_at_most_every_min_interval(demo_session):
    specs = [s for s in families()[0] if s.metric == "chaosql_experiments"]
    exporter = exporter_over(demo_session, specs, min_interval=3600)
    for _ in range(3):
        good, stale = exporter.collect(wait=60)
        assert good is not None and stale == 0.0
    assert exporter.refreshes == 1 and exporter.scrapes == 3
    exporter.min_interval = 0
    exporter.collect(wait=60)
    assert exporter.refreshes == 2
    exporter.close()


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        # Prometheus 2.42's header
        (
            "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
            "text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        ),
        # Prometheus 3's, with escaping schemes
        (
            "application/openmetrics-text;version=1.0.0;escaping=allow-utf8;q=0.5,"
            "application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf8;q=0.3,"
            "text/plain;version=0.0.4;q=0.2,*/*;q=0.1",
            "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=allow-utf8",
        ),
        (
            "text/plain;version=0.0.4;q=0.9,application/openmetrics-text;q=0.5",
            "text/plain; version=0.0.4; charset=utf-8",
        ),
        ("application/openmetrics-text; version=0.0.1", "application/openmetrics-text; version=0.0.1; charset=utf-8"),
        (
            "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited",
            TEXT.content_type,
        ),
        ("application/openmetrics-text;version=9.9.9", TEXT.content_type),  # a version not served here
        ("application/openmetrics-text;q=0", TEXT.content_type),
        ("", TEXT.content_type),
        ("*/*", TEXT.content_type),
    ],
)
def test_the_accept_header_picks_the_format(accept, content_type):
    assert negotiate(accept).content_type == content_type
