"""Shared fixtures: sessions over the bundled demo data and over the real Chaos Mesh examples."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("CHAOSQL_SHARED") or REPO.parent / "shared")
DEMO = REPO / "chaosql" / "demo"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return SHARED


@pytest.fixture
def demo_session():
    from chaosql.engine.session import Session
    from chaosql.sources.snapshot import SnapshotSource

    session = Session([SnapshotSource(DEMO, name="demo")])
    yield session
    session.close()


@pytest.fixture
def snapshot_session():
    """A Session factory over any snapshot path: ``snapshot_session(path, **settings)``."""
    from chaosql.engine.session import Session
    from chaosql.sources.snapshot import SnapshotSource

    opened = []

    def make(path, **settings):
        session = Session([SnapshotSource(path)], settings=settings)
        opened.append(session)
        return session

    yield make
    for session in opened:
        session.close()
