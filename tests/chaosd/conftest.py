"""Fixtures for chaosql's Chaosd tests: real ``chaosd server`` processes (tests/chaosdenv.py).

One server per mode (http, tls, mtls) for the whole module, on 127.0.0.1 with free ports. If the
binary cannot be built the tests are skipped; with ``CHAOSQL_REQUIRE_CHAOSD=1`` or ``CI`` set that
is a failure instead. Attacks are unprivileged only: ``user_defined`` touching and removing a temp
file, and ``process`` with signal 19 on a child ``sleep``, by PID.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
for path in (HERE, HERE.parent):  # --import-mode=importlib puts neither on sys.path
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from chaosdenv import ChaosdEnvError, ChaosdTestEnv, build_chaosd  # noqa: E402


@pytest.fixture(scope="session")
def chaosd_binary() -> Path:
    try:
        return build_chaosd()
    except ChaosdEnvError as exc:
        if os.environ.get("CHAOSQL_REQUIRE_CHAOSD") == "1" or os.environ.get("CI"):
            pytest.fail(f"no chaosd binary: {exc}", pytrace=False)
        pytest.skip(f"no chaosd binary: {exc}")


def _start(mode: str, binary: Path, factory: pytest.TempPathFactory) -> ChaosdTestEnv:
    env = ChaosdTestEnv(mode, binary=binary, workdir=factory.mktemp(f"chaosql-chaosd-{mode}"))
    return env.start()


@pytest.fixture(scope="module")
def chaosd(chaosd_binary, tmp_path_factory):
    env = _start("http", chaosd_binary, tmp_path_factory)
    yield env
    env.stop()


@pytest.fixture(scope="module")
def chaosd_tls(chaosd_binary, tmp_path_factory):
    env = _start("tls", chaosd_binary, tmp_path_factory)
    yield env
    env.stop()


@pytest.fixture(scope="module")
def chaosd_mtls(chaosd_binary, tmp_path_factory):
    env = _start("mtls", chaosd_binary, tmp_path_factory)
    yield env
    env.stop()


@pytest.fixture(autouse=True)
def _close_sources():
    import chaosd_support

    yield
    while chaosd_support.OPENED:
        chaosd_support.OPENED.pop().close()


@pytest.fixture
def sleeper():
    """A child ``sleep`` to stop and continue by PID."""
    proc = subprocess.Popen(["sleep", "300"], stdin=subprocess.DEVNULL)
    yield proc
    proc.kill()
    proc.wait()
