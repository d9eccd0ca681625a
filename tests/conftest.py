"""Shared fixtures: sessions over the bundled demo data and over the real Chaos Mesh examples.

Also the ``env`` marker, given automatically: ``pytest -m "not env"`` runs only the tests that
need nothing outside this Python process (engine, tables, snapshots, output, doctests).
"""

from __future__ import annotations

import atexit
import contextlib
import inspect
import os
import shutil
import subprocess
import tempfile
import types
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# Each test run has its own directory for chaosql's service sockets: a `chaosql serve` or service
# the user (or another run) left running must not answer this run's CLI queries.
_RUNTIME = tempfile.mkdtemp(prefix="chaosql-tests-run-")
os.environ["XDG_RUNTIME_DIR"] = _RUNTIME
atexit.register(shutil.rmtree, _RUNTIME, True)

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "chaosql" / "demo"
TESTS = REPO / "tests"

#: Directories whose every test talks to a real component: the apiserver, chaosd, Postgres clients.
ENV_DIRECTORIES = ("kube", "chaosd", "server", "guard")
#: Modules that start something outside the test process. A test (or a fixture it uses, or a helper
#: of its module either calls) that names one of them needs the environment.
ENV_MODULES = frozenset(
    {
        "kubeenv",
        "promenv",
        "chaosdenv",
        "pgwire_env",
        "realpg",
        "writes_support",
        "export_support",
        "subprocess",
        "pexpect",
    }
)


@pytest.fixture(scope="session")
def demo_source():
    """The demo snapshot, parsed once for the whole run (sources are read-only and thread-safe)."""
    from chaosql.sources.snapshot import SnapshotSource

    return SnapshotSource(DEMO, name="demo")


@pytest.fixture
def demo_session(demo_source):
    """A fresh Session (its own settings and DuckDB connection) over the shared demo source."""
    from chaosql.engine.session import Session

    session = Session([demo_source])
    yield session
    session.close()


@pytest.fixture
def session_for():
    """``session_for(*sources, **settings)``: a Session over those sources, closed after the test."""
    from chaosql.engine.session import Session

    opened = []

    def make(*sources, **settings):
        session = Session(list(sources), settings=settings)
        opened.append(session)
        return session

    yield make
    for session in opened:
        session.close()


@pytest.fixture
def snapshot_session(session_for):
    """``snapshot_session(path, **settings)``: a Session over a snapshot file or directory."""
    from chaosql.sources.snapshot import SnapshotSource

    return lambda path, **settings: session_for(SnapshotSource(path), **settings)


def _names_environment(func: Callable, seen: set[int]) -> bool:
    """Whether ``func``, or a function of its own module that it names, names an ENV_MODULES member."""
    func = inspect.unwrap(getattr(func, "__func__", func))
    code = getattr(func, "__code__", None)
    if code is None or id(func) in seen:
        return False
    seen.add(id(func))
    codes = [code]
    while codes:
        current = codes.pop()
        codes.extend(c for c in current.co_consts if isinstance(c, types.CodeType))
        for name in current.co_names:
            value = func.__globals__.get(name)
            if value is None:
                continue
            origin = value.__name__ if isinstance(value, types.ModuleType) else getattr(value, "__module__", None)
            if isinstance(origin, str) and origin.partition(".")[0] in ENV_MODULES:
                return True
            if getattr(value, "__module__", None) != func.__module__:
                continue
            helpers = (
                [value] if inspect.isfunction(value) else list(vars(value).values()) if inspect.isclass(value) else []
            )
            if any(_names_environment(h, seen) for h in helpers if callable(h) or isinstance(h, staticmethod)):
                return True
    return False


def _needs_environment(item: pytest.Item) -> bool:
    path = Path(str(item.fspath))
    if any(path.is_relative_to(TESTS / d) for d in ENV_DIRECTORIES):
        return True
    function = getattr(item, "function", None)
    if function is None:  # a doctest
        return False
    seen: set[int] = set()
    if _names_environment(function, seen):
        return True
    info = getattr(item, "_fixtureinfo", None)
    for defs in info.name2fixturedefs.values() if info else ():
        # this module's own fixtures start nothing (the guard below only names subprocess)
        if any(d.func.__globals__ is not globals() and _names_environment(d.func, seen) for d in defs):
            return True
    return False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("env") is None and _needs_environment(item):
            item.add_marker(pytest.mark.env)


def _refuse_to_start(what: str, nodeid: str) -> Callable:
    def refuse(*args, **kwargs):
        raise RuntimeError(f"{nodeid} starts a process ({what}) but is not marked env: add @pytest.mark.env")

    return refuse


@contextlib.contextmanager
def _processes_refused(item: pytest.Item) -> Iterator[None]:
    """A test without the ``env`` marker may not start a process, in its fixtures (of any scope)
    or its body, so ``-m "not env"`` stays fast and needs nothing built; this catches what the
    automatic marking above cannot see."""
    if item.get_closest_marker("env") is not None:
        yield
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(subprocess.Popen, "_execute_child", _refuse_to_start("subprocess", item.nodeid))
        for name in ("fork", "forkpty", "system", "posix_spawn", "posix_spawnp"):
            if hasattr(os, name):
                patch.setattr(os, name, _refuse_to_start(f"os.{name}", item.nodeid))
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    with _processes_refused(item):
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    with _processes_refused(item):
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI every real component must be there: a test that would skip (no Prometheus, no
    pgjdbc, no apiserver binary ...) fails instead, so a green run never hides a missing install."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under CI, which must run everything: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    """The same for a whole module skipped at import (``pytest.importorskip`` at the top)."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"skipped under CI, which must run everything: {report.longrepr}"
