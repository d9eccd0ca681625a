"""chaosql service and the one-shot CLI: a running chaosql with the same sources answers `chaosql
query` exactly as the CLI would answer itself, and nothing else does."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The environment of every chaosql process here: its own socket directory, no user config."""
    return {
        **os.environ,
        "XDG_RUNTIME_DIR": str(tmp_path / "run"),
        "CHAOSQL_CONFIG": "",
        "XDG_CONFIG_HOME": "/nonexistent",
        "CHAOSQL_SOURCE": "",
    }


def chaosql(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "chaosql", *args], capture_output=True, text=True, env=env, timeout=120
    )


def queries_answered(env: dict[str, str]) -> int:
    status = chaosql(env, "service", "status").stdout
    found = re.search(r"(\d+) queries", status)
    return int(found.group(1)) if found else -1


@pytest.fixture
def demo_service(env):
    started = chaosql(env, "service", "start", "--source", "demo")
    assert started.returncode == 0, started.stderr
    assert "running" in started.stderr
    yield
    chaosql(env, "service", "stop", "--source", "demo")


CASES = [
    ("query", "SELECT kind, count(*) AS n FROM experiments GROUP BY kind ORDER BY kind"),
    ("query", "SELECT name, labels, spec FROM experiments ORDER BY name LIMIT 3", "--format", "json"),
    ("-c", "SELECT cluster, count(*) FROM targets GROUP BY ALL ORDER BY ALL", "-F", "csv"),
    ("query", "SELEC * FROM experiments"),  # a syntax error: exit 1, one line
    ("query", "SELECT nmae FROM experiments"),  # an unknown column, with a hint
    ("query", "SELECT 1", "--set", "timeout=abc"),  # a bad setting: exit 2
]


@pytest.mark.parametrize("args", CASES, ids=lambda a: " ".join(a)[:40])
def test_the_service_answers_as_the_cli_would(env, demo_service, args):
    before = queries_answered(env)
    via = chaosql(env, *args, "--source", "demo")
    direct = chaosql(env, *args, "--source", "demo", "--no-service")
    assert (via.returncode, via.stdout, via.stderr) == (direct.returncode, direct.stdout, direct.stderr)
    assert queries_answered(env) == before + 1  # the service answered it, not the CLI


def test_a_service_for_other_sources_is_not_asked(env, demo_service, tmp_path):
    before = queries_answered(env)
    demo = Path(__file__).resolve().parent.parent / "chaosql" / "demo"
    other = chaosql(env, "query", "--source", f"snapshot:{demo}", "SELECT count(*) AS n FROM experiments")
    assert other.returncode == 0 and "360" in other.stdout
    assert queries_answered(env) == before


def test_stop_and_status(env, demo_service):
    status = chaosql(env, "service", "status").stdout
    assert "demo" in status and "pid " in status
    assert chaosql(env, "service", "start", "--source", "demo").stderr.startswith("chaosql: a service for demo is")
    stopped = chaosql(env, "service", "stop", "--source", "demo")
    assert stopped.returncode == 0 and "stopped the service for demo" in stopped.stderr
    deadline = time.monotonic() + 30
    while "no chaosql service is running" not in chaosql(env, "service", "status").stdout:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    after = chaosql(env, "query", "--source", "demo", "SELECT 1 AS one")  # the CLI answers itself again
    assert after.returncode == 0 and "1" in after.stdout
    assert chaosql(env, "service", "stop", "--source", "demo").returncode == 1


def test_serve_answers_the_cli_too(env, tmp_path):
    serve = subprocess.Popen(
        [sys.executable, "-m", "chaosql", "serve", "--source", "demo", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert "serving PostgreSQL protocol" in serve.stderr.readline()
        before = queries_answered(env)
        assert before >= 0, chaosql(env, "service", "status").stdout  # serve listens for the CLI
        run = chaosql(env, "query", "--source", "demo", "SELECT count(*) AS n FROM experiments")
        assert run.returncode == 0 and "360" in run.stdout
        assert queries_answered(env) == before + 1
    finally:
        serve.terminate()
        serve.wait(30)
