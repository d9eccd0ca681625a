"""The snapshot source reads what kubectl prints: YAML streams, Lists, typed Lists, JSON."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

POD_CHAOS = """\
apiVersion: chaos-mesh.org/v1alpha1
kind: PodChaos
metadata: {name: %s, namespace: shop}
spec: {action: pod-kill, mode: one, selector: {namespaces: [shop]}}
"""


def test_multi_document_yaml_lists_and_single_objects(tmp_path: Path, snapshot_session):
    (tmp_path / "stream.yaml").write_text("---\n".join(POD_CHAOS % n for n in ("a", "b")) + "---\n")
    (tmp_path / "list.json").write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "List",
                "items": [
                    {
                        "apiVersion": "chaos-mesh.org/v1alpha1",
                        "kind": "NetworkChaos",
                        "metadata": {"name": "c", "namespace": "auth"},
                        "spec": {"action": "delay"},
                    }
                ],
            }
        )
    )
    (tmp_path / "typed.yaml").write_text(
        "apiVersion: v1\nkind: PodList\nitems:\n- metadata: {name: web-1, namespace: shop}\n  spec: {nodeName: n1}\n"
    )
    (tmp_path / "single.yml").write_text(POD_CHAOS % "d")
    session = snapshot_session(tmp_path)
    rows = session.execute("SELECT cluster, namespace, kind, name FROM experiments ORDER BY name").rows()
    assert rows == [
        (tmp_path.name, "shop", "PodChaos", "a"),
        (tmp_path.name, "shop", "PodChaos", "b"),
        (tmp_path.name, "auth", "NetworkChaos", "c"),
        (tmp_path.name, "shop", "PodChaos", "d"),
    ]
    assert session.execute("SELECT name, node FROM pods").rows() == [("web-1", "n1")]


def test_unknown_kinds_are_skipped_with_one_warning(tmp_path: Path, snapshot_session):
    (tmp_path / "mixed.yaml").write_text(
        POD_CHAOS % "a" + "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n"
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: y}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: z}\n"
    )
    session = snapshot_session(tmp_path)
    result = session.execute("SELECT count(*) FROM experiments")
    assert result.scalar() == 1
    assert (
        len(result.warnings) == 1 and "skipped 3 objects" in result.warnings[0] and "2 Deployment" in result.warnings[0]
    )
    assert session.execute("SELECT count(*) FROM experiments").warnings == []  # said once


def test_subdirectories_are_clusters(tmp_path: Path, snapshot_session):
    for cluster in ("east", "west"):
        (tmp_path / cluster).mkdir()
        (tmp_path / cluster / "chaos.yaml").write_text(POD_CHAOS % f"{cluster}-x")
    rows = snapshot_session(tmp_path).execute("SELECT cluster, name FROM experiments ORDER BY 1").rows()
    assert rows == [("east", "east-x"), ("west", "west-x")]


def test_cluster_pushdown_skips_other_clusters(tmp_path: Path, snapshot_session):
    demo = Path(__file__).parent.parent / "chaosql" / "demo"
    shutil.copytree(demo, tmp_path / "demo")
    session = snapshot_session(tmp_path / "demo")
    result = session.execute("SELECT count(*) FROM experiments WHERE cluster = 'staging-us'")
    assert result.scalar() == 180
    assert {c.cluster for c in result.calls} == {"staging-us"}


def test_real_chaos_mesh_examples_load(snapshot_session):
    from chaosql.crds import chaos_mesh_examples

    session = snapshot_session(chaos_mesh_examples())
    kinds = {r[0] for r in session.execute("SELECT DISTINCT kind FROM experiments").rows()}
    assert {"PodChaos", "NetworkChaos", "StressChaos", "IOChaos", "TimeChaos", "DNSChaos", "JVMChaos"} <= kinds
    assert session.execute("SELECT count(*) FROM schedules").scalar() >= 1
    assert session.execute("SELECT count(*) FROM workflows").scalar() >= 2
