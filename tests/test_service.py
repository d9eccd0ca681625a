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


def test_the_quick_path_to_a_service_loads_no_engine(env, demo_service):
    """`chaosql query` with a service running starts only what asking it takes: no DuckDB, Arrow,
    sqlglot or httpx (each costs the one-shot CLI tenths of a second to import)."""
    probe = (
        "import sys\n"
        "from chaosql.cli import main\n"
        "code = main(['query', '--source', 'demo', 'SELECT 41 + 1 AS answer'])\n"
        "heavy = [m for m in ('duckdb', 'pyarrow', 'sqlglot', 'httpx', 'numpy') if m in sys.modules]\n"
        "print('exit', code, 'loaded', heavy)\n"
    )
    before = queries_answered(env)
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120)
    assert "42" in run.stdout and "exit 0 loaded []" in run.stdout, run.stdout + run.stderr
    assert queries_answered(env) == before + 1


def answer(server, sql: str, *settings: str) -> tuple[int, str, str]:
    import argparse
    import io

    from chaosql.server import local

    args = argparse.Namespace(source=["demo"], config=None, settings=list(settings), format="csv")
    out, err = io.StringIO(), io.StringIO()
    code = local.ask(args, sql, out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def local_server(env, monkeypatch):
    """A LocalServer over the demo data in this process, found by ``local.ask`` as the CLI finds one."""
    import argparse

    from chaosql.config import Config, open_sources
    from chaosql.server import local

    for name in ("XDG_RUNTIME_DIR", "CHAOSQL_CONFIG", "XDG_CONFIG_HOME", "CHAOSQL_SOURCE"):
        monkeypatch.setenv(name, env[name])
    key, described = local.identity(argparse.Namespace(source=["demo"], config=None))
    server = local.LocalServer(open_sources(["demo"], Config()), {}, local.socket_path(key), description=described)
    assert server.start()
    yield server
    server.stop()


def test_a_plain_query_leaves_its_session_for_the_next_client(local_server):
    assert answer(local_server, "SELECT count(*) AS n FROM experiments") == (0, "n\n360\n", "")
    (kept,) = local_server._idle[()]
    assert answer(local_server, "SELECT 1 AS one") == (0, "one\n1\n", "")
    assert local_server._idle[()] == [kept]  # the same Session answered again


def test_no_client_sees_what_another_changed(local_server):
    """A session that ran anything but one plain query is closed, not handed to the next client:
    settings, tables, views and --set stay with the client that made them."""
    default = answer(local_server, "SHOW chaosql.timeout")
    assert default[0] == 0
    assert answer(local_server, "SET chaosql.timeout = 7; SHOW chaosql.timeout")[1].strip().endswith("7.0")
    assert answer(local_server, "SHOW chaosql.timeout") == default
    assert answer(local_server, "SHOW chaosql.timeout", "timeout=9")[1].strip().endswith("9.0")
    assert answer(local_server, "SHOW chaosql.timeout") == default
    assert answer(local_server, "CREATE TABLE mine AS SELECT 1 AS a")[0] == 0
    code, out, err = answer(local_server, "SELECT * FROM mine")
    assert code == 1 and "mine" in err and out == ""
    assert answer(local_server, "CREATE VIEW running AS SELECT name FROM experiments")[0] == 0
    assert answer(local_server, "SELECT * FROM running")[0] == 1
    assert answer(local_server, "SELECT 1; CREATE TEMP TABLE t AS SELECT 2 AS b")[0] == 0  # a script: not kept
    assert answer(local_server, "SELECT * FROM t")[0] == 1


def test_ctrl_c_cancels_the_statement_in_the_service(env, demo_service):
    import signal

    slow = "SELECT sum(hash(i)) FROM range(20000000000) t(i)"  # minutes of DuckDB work
    client = subprocess.Popen(
        [sys.executable, "-m", "chaosql", "query", "--source", "demo", slow],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    deadline = time.monotonic() + 60
    while queries_answered(env) < 1:  # the service has the request (it counts it as it starts)
        assert time.monotonic() < deadline and client.poll() is None
        time.sleep(0.1)
    time.sleep(0.5)
    client.send_signal(signal.SIGINT)
    out, err = client.communicate(timeout=60)
    assert client.returncode == 130, err
    assert "interrupted (the chaosql command was stopped)" in err and out == ""  # said by the service
    after = chaosql(env, "query", "--source", "demo", "SELECT 1 AS one")  # the service answers on
    assert after.returncode == 0 and "1" in after.stdout


# --- a service that `chaosql query` starts by itself (CHAOSQL_SERVICE=auto, [service] auto = true) -----


def service_config(tmp_path: Path, body: str) -> str:
    path = tmp_path / "chaosql.toml"
    path.write_text(body)
    return str(path)


def wait_for(condition, what: str, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def running(env: dict[str, str]) -> bool:
    return "no chaosql service is running" not in chaosql(env, "service", "status").stdout


def test_with_auto_the_first_query_starts_a_service_that_answers_the_next(env, tmp_path):
    config = service_config(tmp_path, "[service]\nauto = true\nidle_exit = 120\n")
    sql = "SELECT kind, count(*) AS n FROM experiments GROUP BY kind ORDER BY kind"
    first = chaosql(env, "query", "--source", "demo", "--config", config, sql)
    direct = chaosql(env, "query", "--source", "demo", "--config", config, "--no-service", sql)
    assert (first.returncode, first.stdout, first.stderr) == (0, direct.stdout, direct.stderr)
    try:
        wait_for(lambda: queries_answered(env) == 0, "the started service")
        second = chaosql(env, "query", "--source", "demo", "--config", config, sql)
        assert (second.returncode, second.stdout, second.stderr) == (0, direct.stdout, direct.stderr)
        assert queries_answered(env) == 1  # the service answered the second query
        # other sources (here: no config file) are not answered by it
        other = chaosql(env, "query", "--source", "demo", "--no-service", "SELECT count(*) AS n FROM experiments")
        assert other.returncode == 0 and "360" in other.stdout
        other = chaosql(env, "query", "--source", "demo", "SELECT count(*) AS n FROM experiments")
        assert other.returncode == 0 and "360" in other.stdout
        assert queries_answered(env) == 1
    finally:
        chaosql(env, "service", "stop", "--source", "demo", "--config", config)
    wait_for(lambda: not running(env), "the service to stop")


def test_the_environment_turns_auto_on_and_the_started_service_stops_when_idle(env, tmp_path):
    config = service_config(tmp_path, "[service]\nidle_exit = 2\n")
    auto = {**env, "CHAOSQL_SERVICE": "auto"}
    run = chaosql(auto, "query", "--source", "demo", "--config", config, "-v", "SELECT 1 AS one")
    assert run.returncode == 0 and "1" in run.stdout
    assert "started a service for demo" in run.stderr and "stops after 2 s without a query" in run.stderr
    wait_for(lambda: running(env), "the started service")
    wait_for(lambda: not running(env), "the idle service to stop")
    log = next((tmp_path / "run" / "chaosql").glob("*.log")).read_text()
    assert "no query for" in log and "stopping" in log


def test_queries_side_by_side_start_one_service(env, tmp_path):
    config = service_config(tmp_path, "[service]\nauto = true\nidle_exit = 120\n")
    command = [sys.executable, "-m", "chaosql", "query", "--source", "demo", "--config", config, "SELECT 1 AS one"]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) for _ in range(3)]
    try:
        assert [run.wait(120) for run in runs] == [0, 0, 0]
        wait_for(lambda: queries_answered(env) == 0, "the started service")
        (log,) = (tmp_path / "run" / "chaosql").glob("*.log")
        time.sleep(1.0)  # a second service would have said by now that one is already running
        lines = log.read_text().splitlines()
        assert len(lines) == 1 and "listening on" in lines[0], lines
    finally:
        for run in runs:
            run.stdout.close()
            run.stderr.close()
        chaosql(env, "service", "stop", "--source", "demo", "--config", config)
    wait_for(lambda: not running(env), "the service to stop")


@pytest.mark.parametrize(
    ("body", "variables"),
    [
        ("", {}),  # the default: off
        ("[service]\nauto = false\n", {}),
        ("[service]\nauto = true\n", {"CHAOSQL_SERVICE": "off"}),  # the environment wins
        ("[service]\nauto = true\n", {"--no-service": ""}),
    ],
    ids=["default", "auto-false", "env-off", "no-service"],
)
def test_without_auto_a_query_starts_nothing(env, tmp_path, body, variables):
    config = service_config(tmp_path, body)
    flags = ["--no-service"] if "--no-service" in variables else []
    run_env = {**env, **{k: v for k, v in variables.items() if not k.startswith("-")}}
    run = chaosql(run_env, "query", "--source", "demo", "--config", config, *flags, "SELECT 1 AS one")
    assert run.returncode == 0 and "1" in run.stdout
    assert not list((tmp_path / "run").glob("chaosql/*.log"))  # spawning makes the log before it returns
    assert not running(env)


def test_a_bad_service_section_is_a_usage_error_before_the_query(env, tmp_path):
    config = service_config(tmp_path, '[service]\nauto = "yes"\n')
    run = chaosql(env, "query", "--source", "demo", "--config", config, "SELECT 1 AS one")
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.strip().splitlines() == [
        f"chaosql: config file {config}: [service] auto must be true or false, not 'yes'"
    ]
