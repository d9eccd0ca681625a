"""The watch cache's store as pure code: objects in (as an informer delivers them), Arrow rows out.

The informers, the watch protocol and the consistency contract are tested against a real
apiserver in tests/kube/test_kube_cache.py; here the store is fed events directly, to pin down
what it keeps: rows equal to shaping the objects afresh after any sequence of changes, patched
Arrow tables that stay compact, and joined rows shaped again when what they joined changes.
"""

from __future__ import annotations

import copy

import pytest

from chaosql.engine.session import Session
from chaosql.sources.cache import ClusterCache
from chaosql.sources.kube import KubeSource
from chaosql.sources.snapshot import SnapshotSource
from chaosql.sources.store import MAX_CHUNKS, Store
from chaosql.tables import registry

NS = "shop"


@pytest.fixture
def cache():
    source = KubeSource(context="unused", kubeconfig="/nonexistent", name="c1")  # never contacted
    cache = ClusterCache(source, idle=3600)
    yield cache
    cache.close()


def experiment(i: int, *, records: list[str] = (), label: str = "a", version: int = 1) -> dict:
    recs = [
        {"id": r, "phase": "Injected", "selectorKey": ".", "injectedCount": 1, "recoveredCount": 0} for r in records
    ]
    return {
        "apiVersion": "chaos-mesh.org/v1alpha1",
        "kind": "PodChaos",
        "metadata": {
            "name": f"kill-{i}",
            "namespace": NS,
            "uid": f"uid-{i}",
            "resourceVersion": str(version),
            "labels": {"team": label},
            "creationTimestamp": "2026-11-20T12:00:00Z",
        },
        "spec": {"action": "pod-kill", "mode": "one", "selector": {"namespaces": [NS]}},
        "status": {"experiment": {"desiredPhase": "Run", "containerRecords": recs}, "conditions": []},
    }


def pod(name: str, node: str, version: int = 1) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": NS, "uid": f"pod-{name}", "resourceVersion": str(version)},
        "spec": {"nodeName": node},
        "status": {"podIP": f"10.0.0.{len(name)}"},
    }


def deliver(store: Store, objects: list[dict], version: int, page: int = 7) -> None:
    """A complete list, in pages, as an informer delivers it."""
    store.listing()
    for start in range(0, len(objects), page):
        store.page(objects[start : start + page])
    store.listed(version)


def store_for(cache: ClusterCache, kind: str, table: str | None) -> Store:
    store = Store(cache, kind, None, ())
    cache.stores[(kind, None, ())] = store
    if table is not None:
        rows = store.add_view(registry()[table].feed_for("kube").view())
        for joined in rows.view.joined_kinds():
            cache.joined_by.setdefault(joined, set()).add(rows)
    return store


def fresh_rows(table: str, objects: list[dict], tmp_path) -> list[tuple]:
    """What a live list of ``objects`` answers: the same shapers over a snapshot of them."""
    path = tmp_path / "objects.json"
    import json

    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))
    session = Session([SnapshotSource(path, name="c1")])
    try:
        return sorted(session.execute(f"SELECT {', '.join(_columns(table))} FROM {table}").rows(), key=repr)
    finally:
        session.close()


def cached_rows(store: Store, table: str) -> list[tuple]:
    arrow = _rows_of(store, table).materialize()
    return sorted((tuple(r[n] for n in _columns(table)) for r in arrow.to_pylist()), key=repr)


def _rows_of(store: Store, table: str):
    return next(rows for view, rows in store.views.items() if view.key == table)


def _columns(table: str) -> list[str]:
    """Every column but ``source`` (kube here, snapshot there)."""
    return [c.name for c in registry()[table].columns if c.name != "source"]


def test_rows_after_many_changes_equal_shaping_afresh_and_stay_compact(cache, tmp_path):
    store = store_for(cache, "PodChaos", "experiments")
    live = {i: experiment(i) for i in range(50)}
    deliver(store, [copy.deepcopy(o) for o in live.values()], 100)
    for step in range(200):  # modify, delete and add, reading in between now and then
        i = step % 60
        if i in live and step % 7 == 0:
            store.apply("DELETED", copy.deepcopy(live.pop(i)), 200 + step)
        else:
            live[i] = experiment(i, label=f"v{step}", version=200 + step)
            store.apply("MODIFIED" if i in live else "ADDED", copy.deepcopy(live[i]), 200 + step)
        if step % 3 == 0:
            _rows_of(store, "experiments").materialize()
    assert cached_rows(store, "experiments") == fresh_rows("experiments", list(live.values()), tmp_path)
    assert _rows_of(store, "experiments").table.column(0).num_chunks <= MAX_CHUNKS + 1


def test_joined_rows_follow_the_objects_they_joined(cache, tmp_path):
    pods = store_for(cache, "Pod", None)
    pods.keep_parsed()
    deliver(pods, [pod("web-0", "node-a"), pod("web-1", "node-a")], 10)
    experiments = store_for(cache, "PodChaos", "targets")
    kill = experiment(1, records=[f"{NS}/web-0", f"{NS}/web-1"])
    deliver(experiments, [copy.deepcopy(kill)], 11)
    everything = lambda *more: [kill, pod("web-0", "node-a"), *more]  # noqa: E731
    assert cached_rows(experiments, "targets") == fresh_rows("targets", everything(pod("web-1", "node-a")), tmp_path)
    pods.apply("MODIFIED", pod("web-1", "node-b", version=12), 12)  # the pod moved: its target follows
    assert cached_rows(experiments, "targets") == fresh_rows("targets", everything(pod("web-1", "node-b")), tmp_path)
    pods.apply("DELETED", pod("web-1", "node-b", version=13), 13)  # and went: its columns are NULL
    assert cached_rows(experiments, "targets") == fresh_rows("targets", everything(), tmp_path)
    node = {(r[6], r[11]) for r in cached_rows(experiments, "targets")}  # target_id, node
    assert node == {(f"{NS}/web-0", "node-a"), (f"{NS}/web-1", None)}


def test_a_view_added_while_its_kind_is_still_listing_gets_the_pages_already_read(cache, tmp_path):
    # The informer starts listing before the statement that started it adds its view; on a busy
    # machine the first pages arrive first. Those objects must have rows too (they once went
    # missing: a page of 500 experiments, until the next list).
    store = Store(cache, "PodChaos", None, ())
    cache.stores[("PodChaos", None, ())] = store
    objects = [experiment(i) for i in range(20)]
    store.listing()
    store.page([copy.deepcopy(o) for o in objects[:7]])
    rows = store.add_view(registry()["experiments"].feed_for("kube").view())
    assert not rows.ready  # the list is not complete yet: a read waits or lists live
    store.page([copy.deepcopy(o) for o in objects[7:]])
    store.listed(30)
    assert rows.ready
    assert cached_rows(store, "experiments") == fresh_rows("experiments", objects, tmp_path)


def test_json_columns_are_shaped_once_a_read_needs_them(cache, tmp_path):
    # a cold read that needs no JSON column does not shape any; the first read that needs one
    # shapes every object again, and every later change comes with every column
    store = Store(cache, "PodChaos", None, ())
    cache.stores[("PodChaos", None, ())] = store
    rows = store.add_view(registry()["experiments"].feed_for("kube").view(), frozenset({"cluster", "kind", "name"}))
    objects = {i: experiment(i) for i in range(20)}
    deliver(store, [copy.deepcopy(o) for o in objects.values()], 30)
    table = rows.materialize()
    assert table.num_rows == 20 and table.column("spec").null_count == 20 and table.column("status").null_count == 20
    rows.widen()
    assert cached_rows(store, "experiments") == fresh_rows("experiments", list(objects.values()), tmp_path)
    objects[3] = experiment(3, label="changed", version=31)
    store.apply("MODIFIED", copy.deepcopy(objects[3]), 31)
    assert cached_rows(store, "experiments") == fresh_rows("experiments", list(objects.values()), tmp_path)
