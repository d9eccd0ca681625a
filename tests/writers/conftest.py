"""Fixtures for the SQL write tests.

``write_env`` is a real kube-apiserver with the Chaos Mesh CRDs and an audit log (tests/kubeenv.py),
separate from the read tests' ``kube_env`` so that objects created here never change what those
tests count. Each test gets its own namespace (``ns``). If the apiserver cannot be built or started
the live tests are skipped; with ``CHAOSQL_REQUIRE_KUBE=1`` or ``CI`` set that is a failure.
"""

from __future__ import annotations

import itertools
import os
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent.parent
if str(TESTS) not in sys.path:  # --import-mode=importlib puts nothing on sys.path
    sys.path.insert(0, str(TESTS))

from kubeenv import KubeTestEnv, start_for_tests  # noqa: E402

_names = itertools.count(1)


@pytest.fixture(scope="session")
def write_env():
    env = start_for_tests(KubeTestEnv(audit=True), "writes")
    yield env
    env.cleanup()


@pytest.fixture
def ns(write_env) -> str:
    """A fresh namespace for one test."""
    name = f"w{next(_names)}-{os.getpid() % 1000}"
    write_env.create_namespace(name)
    return name


@pytest.fixture
def session_as(write_env):
    """``session_as(user="admin", **settings)`` -> a Session over the write cluster as that user
    (``admin`` may write; ``reader`` may only get/list/watch)."""
    from chaosql.engine.session import Session
    from chaosql.sources.kube import KubeSource

    opened = []

    def make(user: str = "admin", **settings):
        source = KubeSource(context=user, kubeconfig=write_env.kubeconfig, name="c1")
        session = Session([source], settings=settings)
        opened.append((session, source))
        return session

    yield make
    for session, source in opened:
        session.close()
        source.close()
