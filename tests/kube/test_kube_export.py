"""``chaosql export`` against a real kube-apiserver: the metrics are the SQL answers over the
cluster, the exporter keeps serving through an apiserver restart (from its watch cache, with a
warning per family) and catches up after it; a refresh stalled on a hanging apiserver does not
hold a scrape past its timeout: the last complete set is served and
``chaosql_export_stale_seconds`` says how old it is; the first refresh starts with the exporter, and
a scrape that comes before it ends gets ``chaosql_export_up`` 0, not an empty set. LitmusChaos runs next to Chaos Mesh
experiments (``litmus_env``): verdicts, probe success and run totals are the SQL answers.

``export_env`` is an apiserver of its own: these tests create objects, stop it and hang it.
"""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest
import seed
import seed_litmus
from export_support import RunningExport
from faultproxy import FaultProxy
from kubeenv import CHAOS_API_VERSION, KubeTestEnv, start_for_tests
from test_export import parse

from chaosql.engine.session import Session
from chaosql.export.endpoint import ExportOptions, build
from chaosql.export.exposition import TEXT
from chaosql.sources.kube import KubeSource

NS = "export-shop"


def experiment(name: str, kind: str = "PodChaos") -> dict:
    return {
        "apiVersion": CHAOS_API_VERSION,
        "kind": kind,
        "metadata": {"name": name, "namespace": NS},
        "spec": seed.SPECS[kind],
    }


@pytest.fixture(scope="module")
def export_env():
    env = start_for_tests(KubeTestEnv(audit=True), "export")  # the audit log shows the calls it served
    env.create_namespace(NS)
    for i in range(3):
        env.create(experiment(f"kill-{i}"))
    env.create(experiment("slow-net", "NetworkChaos"))
    yield env
    env.cleanup()


def sql_counts(env: KubeTestEnv) -> dict[tuple[str, str], float]:
    """(kind, phase) -> experiments, as SQL over a fresh list of the cluster says."""
    source = KubeSource(context="admin", kubeconfig=env.kubeconfig, name="live")
    session = Session([source])
    try:
        rows = session.execute(
            f"SELECT kind, phase, count(*) FROM experiments WHERE namespace = '{NS}' GROUP BY ALL"
        ).rows()
    finally:
        session.close()
        source.close()
    return {(kind, phase): float(n) for kind, phase, n in rows}


def metric_counts(samples: dict) -> dict[tuple[str, str], float]:
    out: dict[tuple[str, str], float] = {}
    for labels, value in samples.get("chaosql_experiments", {}).items():
        label = dict(labels)
        if label["namespace"] == NS:
            key = (label["kind"], label["phase"])
            out[key] = out.get(key, 0.0) + value
    return out


def family_value(samples: dict, metric: str, family: str) -> float:
    return next(v for k, v in samples[metric].items() if ("family", family) in k)


def scrape_until(export: RunningExport, predicate, *, timeout: float = 90.0) -> dict:
    deadline = time.monotonic() + timeout
    samples: dict = {}
    while time.monotonic() < deadline:
        status, _, text = export.get("/metrics")
        assert status == 200, text
        samples = parse(text)
        if predicate(samples):
            return samples
        time.sleep(0.5)
    raise AssertionError(f"the metrics never got there; last chaosql_experiments: {samples.get('chaosql_experiments')}")


def api_reads(env: KubeTestEnv, since: int) -> list[str]:
    """The list and get calls chaosql made to ``env`` after byte ``since`` of its audit log."""
    time.sleep(1)  # an event is logged as its response completes
    with open(env.audit_log, "rb") as fh:
        fh.seek(since)
        events = [json.loads(line) for line in fh.read().splitlines() if line.strip()]
    return [
        f"{e['verb']} {e['requestURI']}"
        for e in events
        if e.get("userAgent", "").startswith("chaosql")
        and e.get("verb") in ("list", "get")
        and e.get("stage") == "ResponseComplete"
    ]


def test_refreshes_on_the_watch_cache_make_no_list_calls(export_env):
    """However often Prometheus scrapes, a watched cluster is listed once per kind, then watched."""
    source = KubeSource(context="admin", kubeconfig=export_env.kubeconfig, name="c1")
    exporter = build([source], {}, None, ExportOptions(min_interval=0))
    try:
        first = exporter.refresh_now()
        assert {n: o.error for n, o in first.outcomes.items() if not o.ok} == {}
        since = os.path.getsize(export_env.audit_log)
        for _ in range(5):
            exporter.refresh_now()
        assert exporter.refreshes == 6
        assert api_reads(export_env, since) == []
        assert metric_counts(parse(exporter.scrape(TEXT, wait=60))) == sql_counts(export_env)
    finally:
        exporter.close()
        exporter.session.close()
        source.close()
    # without the cache each refresh lists every kind its families read
    source = KubeSource(context="admin", kubeconfig=export_env.kubeconfig, name="c1")
    exporter = build([source], {}, None, ExportOptions(min_interval=0), watch=False)
    try:
        since = os.path.getsize(export_env.audit_log)
        exporter.refresh_now()
        assert any(call.startswith("list ") for call in api_reads(export_env, since))
    finally:
        exporter.close()
        exporter.session.close()
        source.close()


def test_the_exporter_serves_the_cluster_and_survives_an_apiserver_restart(export_env):
    env = export_env
    export = RunningExport("--source", "kube:admin", "--min-interval", "0", env={"KUBECONFIG": str(env.kubeconfig)})
    try:
        want = sql_counts(env)
        assert sum(want.values()) == 4
        samples = scrape_until(export, lambda s: metric_counts(s) == want)
        assert family_value(samples, "chaosql_export_family_up", "chaosql_experiments") == 1.0

        env.stop()
        # down: scrapes are still answered, from the watch cache's last rows, each family warning
        samples = scrape_until(
            export, lambda s: family_value(s, "chaosql_export_family_warnings", "chaosql_experiments") >= 1
        )
        assert metric_counts(samples) == want
        assert family_value(samples, "chaosql_export_family_up", "chaosql_experiments") == 1.0
        warned = export.wait_for(lambda r: r["event"] == "family warning" and r["family"] == "chaosql_experiments")
        assert "stale" in warned["warning"] or "cannot reach" in warned["warning"], warned

        env.start_again()
        env.create(experiment("after-restart"))
        want = sql_counts(env)
        assert sum(want.values()) == 5
        samples = scrape_until(
            export,
            lambda s: (
                metric_counts(s) == want
                and family_value(s, "chaosql_export_family_warnings", "chaosql_experiments") == 0
            ),
        )
        names = {dict(k)["name"] for k in samples["chaosql_experiment_phase"] if ("namespace", NS) in k}
        assert "after-restart" in names
        assert export.proc.poll() is None
        assert not [r for r in export.records if r["event"] in ("refresh failed", "request failed")]
    finally:
        if not env.running:
            env.start_again()
        assert export.stop() == 0


def test_a_refresh_stalled_on_a_hanging_apiserver_serves_the_last_set_marked_stale(export_env, tmp_path):
    proxy = FaultProxy(("127.0.0.1", export_env.port))
    config = proxy.kubeconfig(export_env.kubeconfig, tmp_path / "via-proxy.yaml")
    source = KubeSource(context="admin", kubeconfig=str(config), name="c1")
    # no watch cache: every refresh lists, so a hanging apiserver stalls it
    exporter = build([source], {"timeout": 120.0}, None, ExportOptions(min_interval=0), watch=False)
    try:
        first = parse(exporter.scrape(TEXT, wait=60))
        assert sum(metric_counts(first).values()) >= 4
        assert list(first["chaosql_export_stale_seconds"].values()) == [0.0]

        proxy.hold()
        time.sleep(2)
        began = time.monotonic()
        stale = parse(exporter.scrape(TEXT, wait=1.5))
        assert time.monotonic() - began < 10  # bounded by the scrape's wait, not the stalled list
        assert metric_counts(stale) == metric_counts(first)  # the last complete set ...
        (age,) = stale["chaosql_export_stale_seconds"].values()
        assert age >= 2  # ... and how old it is
        assert exporter.healthy()[1]["refresh_running_seconds"] > 0

        proxy.allow()  # the held connections drop; the next refreshes list again
        want = sql_counts(export_env)
        deadline = time.monotonic() + 120
        fresh = parse(exporter.scrape(TEXT, wait=60))
        while time.monotonic() < deadline and not (
            metric_counts(fresh) == want and list(fresh["chaosql_export_stale_seconds"].values()) == [0.0]
        ):
            time.sleep(0.5)
            fresh = parse(exporter.scrape(TEXT, wait=60))
        assert metric_counts(fresh) == want
        assert list(fresh["chaosql_export_stale_seconds"].values()) == [0.0]
    finally:
        proxy.allow()
        exporter.close()
        exporter.session.close()
        source.close()
        proxy.close()


def test_the_first_refresh_starts_with_the_exporter_and_a_scrape_before_it_ends_says_so(export_env, tmp_path):
    proxy = FaultProxy(("127.0.0.1", export_env.port))
    config = proxy.kubeconfig(export_env.kubeconfig, tmp_path / "via-proxy.yaml")
    source = KubeSource(context="admin", kubeconfig=str(config), name="c1")
    proxy.hold()  # a first refresh slower than the scrape's timeout (the lists of a big cluster)
    exporter = build([source], {"timeout": 120.0}, None, ExportOptions(min_interval=0), watch=False)
    try:
        time.sleep(1)
        # under way before anyone scraped: started by the exporter, not by its first scrape
        assert exporter.scrapes == 0
        assert exporter.healthy()[1]["refresh_running_seconds"] > 0

        began = time.monotonic()
        first = parse(exporter.scrape(TEXT, wait=1.5))
        assert time.monotonic() - began < 10  # bounded by the scrape's wait
        # not an empty set that reads as "no experiments": the exporter says it has none to serve yet
        assert list(first["chaosql_export_up"].values()) == [0.0]
        assert "chaosql_experiments" not in first
        (age,) = first["chaosql_export_stale_seconds"].values()
        assert age >= 1

        proxy.allow()
        want = sql_counts(export_env)
        deadline = time.monotonic() + 120
        later = parse(exporter.scrape(TEXT, wait=60))
        while time.monotonic() < deadline and metric_counts(later) != want:
            time.sleep(0.5)
            later = parse(exporter.scrape(TEXT, wait=60))
        assert metric_counts(later) == want
        assert list(later["chaosql_export_up"].values()) == [1.0]
    finally:
        proxy.allow()
        exporter.close()
        exporter.session.close()
        source.close()
        proxy.close()


def test_litmus_verdicts_probes_and_engines_are_the_sql_answers(litmus_env):
    source = KubeSource(context="admin", kubeconfig=litmus_env.kubeconfig, name="lit")
    exporter = build([source], {}, None, ExportOptions(), watch=False)
    try:
        exporter.refresh_now()
        text = exporter.scrape(TEXT, wait=0)
        samples = parse(text)
        session = exporter.session
        assert {n: o.error for n, o in exporter.good.outcomes.items() if not o.ok} == {}

        by_verdict: dict[str, float] = {}
        for labels, value in samples["chaosql_experiment_verdict"].items():
            label = dict(labels)
            assert label["engine"] == "litmus"
            by_verdict[label["verdict"]] = by_verdict.get(label["verdict"], 0) + value
        sql = session.execute("SELECT verdict, count(*) FROM experiments WHERE verdict IS NOT NULL GROUP BY 1")
        assert by_verdict == {verdict: float(n) for verdict, n in sql.rows()}
        by_hand: dict[str, float] = {}
        for _, verdict in seed_litmus.EXPECTED.values():
            if verdict is not None:
                by_hand[verdict] = by_hand.get(verdict, 0) + 1
        assert by_verdict == by_hand

        by_engine: dict[str, float] = {}
        for labels, value in samples["chaosql_experiments"].items():
            by_engine[dict(labels)["engine"]] = by_engine.get(dict(labels)["engine"], 0) + value
        assert by_engine == {"litmus": len(seed_litmus.EXPECTED), "chaos-mesh": len(seed_litmus.CHAOS_MESH)}

        ratio = {dict(k)["name"]: v for k, v in samples["chaosql_litmus_result_probe_success_ratio"].items()}
        want = session.execute(
            "SELECT name, probe_success_percentage / 100 FROM litmus_results WHERE probe_success_percentage IS NOT NULL"
        ).rows()
        assert ratio == dict(want) and ratio["nginx-probe-pod-delete"] == 0.5
        passed = {dict(k)["name"]: v for k, v in samples["chaosql_litmus_result_passed_runs"].items()}
        assert passed["nginx-probe-pod-delete"] == 3.0

        checked = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
        assert (checked.returncode, checked.stdout + checked.stderr) == (0, "")
    finally:
        exporter.close()
        exporter.session.close()
        source.close()
