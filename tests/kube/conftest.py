"""Fixtures for the live-Kubernetes tests: real kube-apiservers (tests/kubeenv.py) with seeded objects.

``kube_env`` is one apiserver per pytest session with every Chaos Mesh CRD, the demo cluster
``prod-eu``, one object of every experiment kind and a namespace with more than a page of PodChaos.
``kube_env2`` is a second, smaller apiserver with fewer CRDs (multi-cluster tests; it is also the one
the stop/restart test stops). ``litmus_env`` has two Chaos Mesh kinds and LitmusChaos's CRDs, with
the engines of ``seed_litmus`` next to two Chaos Mesh experiments; ``litmus_only_env`` has only
LitmusChaos's CRDs. If an apiserver cannot be built or started, these tests are skipped;
with ``CHAOSQL_REQUIRE_KUBE=1`` or ``CI`` set that is a failure instead.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
for path in (HERE, HERE.parent):  # --import-mode=importlib puts neither on sys.path
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import seed  # noqa: E402
import seed_litmus  # noqa: E402
from kubeenv import KubeTestEnv, start_for_tests  # noqa: E402

#: Kinds installed in the second cluster: fewer than Chaos Mesh has.
C2_KINDS = ("PodChaos", "NetworkChaos", "StressChaos", "Schedule", "PhysicalMachine")


def pytest_collection_modifyitems(items):
    for item in items:
        if str(item.fspath).startswith(str(HERE)):
            item.add_marker(pytest.mark.kube)


@pytest.fixture(scope="session")
def kube_env(tmp_path_factory):
    env = start_for_tests(KubeTestEnv(), "c1")
    env.demo_snapshot = tmp_path_factory.mktemp("demo-loaded")
    env.demo, env.demo_rejected = seed.load_demo(env, env.demo_snapshot)
    env.kinds = seed.seed_kinds(env)
    env.seeded_at = time.time()
    seed.seed_bulk(env)
    yield env
    env.cleanup()


@pytest.fixture(scope="session")
def kube_env2(tmp_path_factory):
    crds = seed.write_crd_subset(C2_KINDS, tmp_path_factory.mktemp("crds") / "crd-subset.yaml")
    env = start_for_tests(KubeTestEnv(crds=crds, audit=True), "c2")  # the audit log shows the calls it served
    env.create_namespace("shop")
    for i in range(3):
        seed.put(
            env,
            {
                "apiVersion": seed.CHAOS_API_VERSION,
                "kind": "PodChaos",
                "metadata": {"name": f"c2-kill-{i}", "namespace": "shop", "labels": {"team": "storefront"}},
                "spec": seed.SPECS["PodChaos"],
            },
        )
    for i in range(2):
        seed.put(
            env,
            {
                "apiVersion": seed.CHAOS_API_VERSION,
                "kind": "NetworkChaos",
                "metadata": {"name": f"c2-delay-{i}", "namespace": "shop"},
                "spec": seed.SPECS["NetworkChaos"],
            },
        )
    yield env
    env.cleanup()


@pytest.fixture(scope="session")
def litmus_env(tmp_path_factory):
    crds = seed.write_crd_subset(("PodChaos", "NetworkChaos"), tmp_path_factory.mktemp("crds") / "crd-subset.yaml")
    env = start_for_tests(KubeTestEnv(crds=crds, litmus=True, audit=True), "lit")
    env.engines = seed_litmus.seed_litmus(env)
    yield env
    env.cleanup()


@pytest.fixture(scope="session")
def litmus_only_env():
    env = start_for_tests(KubeTestEnv(crds=False, litmus=True), "litonly")
    env.engines = seed_litmus.seed_litmus(env, "lab", chaos_mesh=False)
    yield env
    env.cleanup()


@pytest.fixture
def bare_env():
    """An apiserver without Chaos Mesh's CRDs."""
    env = start_for_tests(KubeTestEnv(crds=False), "bare")
    yield env
    env.cleanup()


@pytest.fixture
def kube_source():
    """``kube_source(env, context="admin", name=None, **options)`` -> a KubeSource, closed afterwards."""
    from chaosql.sources.kube import KubeSource

    opened = []

    def make(env: KubeTestEnv, context: str = "admin", name: str | None = None, **options):
        source = KubeSource(context=context, kubeconfig=env.kubeconfig, name=name or env.name, **options)
        opened.append(source)
        return source

    yield make
    for source in opened:
        source.close()


@pytest.fixture
def kube_session(session_for):
    """``kube_session(*sources, **settings)`` -> a Session, closed afterwards."""
    return session_for
