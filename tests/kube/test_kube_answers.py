"""Kept answers (``chaosql.engine.answers``) over the watch cache of a real kube-apiserver, asked
over the wire with psycopg: an answer is reused while the cluster's objects are unchanged, and
the next statement after a change sees it — a change made straight through the API (the watch
brings it) or a chaosql write (read-your-writes)."""

from __future__ import annotations

import json
import re
import time

import psycopg
import pytest
import seed
from kubeenv import CHAOS_API_VERSION

from chaosql.sources.kube import KubeSource

NS = "answers"
WAIT = 30.0  # generous: the machine is shared


@pytest.fixture
def serving(kube_env, session_for):
    """(a psycopg connection to a server over a watch-cached source of ``kube_env``, a Session
    over the same source, the source)."""
    from chaosql.engine.session import Session
    from chaosql.server.auth import AuthConfig
    from chaosql.server.server import SESSION_DUCKDB, Server, ServerThread

    kube_env.create_namespace(NS)
    source = KubeSource(context="admin", kubeconfig=kube_env.kubeconfig, name=kube_env.name)
    source.enable_cache(idle=600)
    server = Server(lambda: Session([source], duckdb_config=SESSION_DUCKDB), auth=AuthConfig("trust"), port=0)
    try:
        with ServerThread(server) as running:
            url = dict(host="127.0.0.1", port=running.port, user="u", dbname="chaosql", autocommit=True)
            with psycopg.connect(**url) as conn:
                yield conn, session_for(source), source
    finally:
        source.close()
        # the cluster is shared by the session's kube tests: one comparing it with the demo
        # snapshot must not find this test's experiments
        for kind in ("PodChaos",):
            for item in kube_env.list(CHAOS_API_VERSION, kind, NS).get("items", []):
                kube_env.delete(CHAOS_API_VERSION, kind, item["metadata"]["name"], NS)


def reused_by(conn: psycopg.Connection, sql: str) -> tuple[list, int]:
    """The rows of ``sql`` and how many kept answers it reused (SHOW chaosql.answer_cache)."""

    def reused() -> int:
        text = conn.execute("SHOW chaosql.answer_cache").fetchone()[0]
        return int(re.search(r"(\d+) reused", text).group(1))

    before = reused()
    rows = conn.execute(sql).fetchall()
    return rows, reused() - before


def test_an_external_change_is_seen_by_the_next_identical_statement(kube_env, serving):
    conn, _, _ = serving
    seed.put(
        kube_env,
        {
            "apiVersion": CHAOS_API_VERSION,
            "kind": "PodChaos",
            "metadata": {"name": "watched", "namespace": NS, "labels": {"team": "a"}},
            "spec": seed.SPECS["PodChaos"],
        },
    )
    sql = f"SELECT name, labels['team'] FROM experiments WHERE namespace = '{NS}' ORDER BY name"
    deadline = time.monotonic() + WAIT
    # until the watch cache has it and the answer computed from its rows is kept and reused (the
    # first statements may list live while the cache loads: those answers are not kept)
    while (rows := reused_by(conn, sql)) != ([("watched", "a")], 1):
        assert rows[0] in ([], [("watched", "a")]) and time.monotonic() < deadline, rows
        time.sleep(0.05)
    answer = kube_env.client().patch(
        f"/apis/{CHAOS_API_VERSION}/namespaces/{NS}/podchaos/watched",
        content=json.dumps({"metadata": {"labels": {"team": "b"}}}),
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert answer.status_code == 200, answer.text
    while (rows := reused_by(conn, sql))[0] != [("watched", "b")]:  # the watch brings the patch
        assert rows[0] == [("watched", "a")] and time.monotonic() < deadline, rows
        time.sleep(0.05)
    assert reused_by(conn, sql) == ([("watched", "b")], 1)


def test_a_chaosql_write_is_seen_by_the_next_statement_of_any_session(serving):
    conn, writer, _ = serving
    sql = f"SELECT name, paused FROM experiments WHERE namespace = '{NS}' AND name LIKE 'ryw-%' ORDER BY name"
    deadline = time.monotonic() + WAIT
    while (rows := reused_by(conn, sql)) != ([], 1):  # warm: read from the watch cache, then kept
        assert rows[0] == [] and time.monotonic() < deadline, rows
        time.sleep(0.05)
    selector = json.dumps({"namespaces": [NS]})
    for i in range(3):
        name = f"ryw-{i}"
        writer.execute(
            "INSERT INTO experiments (namespace, name, kind, action, mode, selector) "
            f"VALUES ('{NS}', '{name}', 'PodChaos', 'pod-kill', 'one', '{selector}')"
        )
        rows, reused = reused_by(conn, sql)  # right after the write: no waiting, no old answer
        assert reused == 0 and (name, False) in rows, rows
        writer.execute(f"UPDATE experiments SET paused = true WHERE namespace = '{NS}' AND name = '{name}'")
        rows, reused = reused_by(conn, sql)
        assert reused == 0 and (name, True) in rows, rows
    writer.execute(f"DELETE FROM experiments WHERE namespace = '{NS}' AND name LIKE 'ryw-%'")
    assert reused_by(conn, sql) == ([], 0)
