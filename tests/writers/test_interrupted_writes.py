"""A write interrupted part-way is rolled back, and says what is left: SIGINT and SIGTERM to the CLI,
the REPL, saved queries and reports; a Postgres client's cancel request, a client that drops its
connection, SIGTERM or Ctrl-C to ``chaosql serve`` itself, and SIGTERM to a ``chaosql service``
answering the CLI's write. Each test starts a 300-row INSERT
... SELECT against the real kube-apiserver, interrupts it once objects are being created, and
counts the objects afterwards straight from the API (not through chaosql)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pexpect
import pytest
from writes_support import chaos_objects

pytestmark = pytest.mark.kube

REPO = Path(__file__).resolve().parents[2]
ROWS = 300


def insert_sql(ns: str) -> str:
    selector = json.dumps({"namespaces": [ns]})
    return (
        "INSERT INTO experiments (namespace, name, kind, action, mode, selector) "
        f"SELECT '{ns}', 'x-' || i, 'PodChaos', 'pod-kill', 'one', '{selector}' FROM range({ROWS}) t(i)"
    )


def env_for(write_env, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "KUBECONFIG": write_env.kubeconfig,
        "CHAOSQL_CONFIG": "",
        "CHAOSQL_SERVICE": "off",
        "XDG_CONFIG_HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path),
        "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p),
        "PYTHONUNBUFFERED": "1",
        "TERM": "xterm",
    }


def wait_for_creates(write_env, ns: str, alive, *, at_least: int = 10, timeout: float = 120) -> int:
    """Wait until the statement has created ``at_least`` objects (so it is applying, after its dry
    runs) and return how many there are then; fail if it ended first."""
    from kubeenv import ApiError

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            made = len(chaos_objects(write_env, ns))
        except ApiError as err:  # a fresh apiserver's storage for the CRD is still initialising
            if err.status != 429:
                raise
            made = 0
        if made >= at_least:
            return made
        assert alive(), "the statement ended before it was interrupted"
        time.sleep(0.05)
    raise AssertionError(f"no objects created in {timeout} s")


def draining(child: pexpect.spawn):
    """``alive()`` for a shell on a terminal: reads what it printed meanwhile (a full terminal
    would block it), and says whether it still runs."""

    def alive() -> bool:
        try:
            child.expect(pexpect.TIMEOUT, timeout=0.05)
        except pexpect.EOF:
            return False
        return child.isalive()

    return alive


def assert_rolled_back(message: str, signal_name: str) -> None:
    assert "INSERT stopped at row " in message and f" of {ROWS}: interrupted ({signal_name})" in message, message
    assert "; rolled back " in message and "the cluster is as before the statement" in message, message


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_the_cli_rolls_back_a_write_it_is_signalled_in(write_env, ns, tmp_path, signum):
    proc = subprocess.Popen(
        [sys.executable, "-m", "chaosql", "query", "--source", "kube:admin", "--yes", "-v", insert_sql(ns)],
        env=env_for(write_env, tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        made = wait_for_creates(write_env, ns, lambda: proc.poll() is None)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signum, err
    error = next(line for line in err.splitlines() if line.startswith("chaosql: experiments: INSERT"))
    assert_rolled_back(error, signal.Signals(signum).name)
    rolled = [line for line in err.splitlines() if line.startswith("rolled back: deleted ")]
    assert len(rolled) >= made  # -v: every object it deleted again, one line each
    deletes = [line for line in err.splitlines() if line.startswith("call ") and ": DELETE /apis/" in line]
    assert len(deletes) == len(rolled)  # ... and each rollback call
    assert chaos_objects(write_env, ns) == {}


def test_the_repl_rolls_back_on_ctrl_c_and_says_what_is_left(write_env, ns, tmp_path):
    child = pexpect.spawn(
        sys.executable,
        ["-m", "chaosql", "repl", "--source", "kube:admin", "--set", "confirm_rows=1000"],
        env=env_for(write_env, tmp_path),
        encoding="utf-8",
        timeout=120,
        dimensions=(40, 400),
    )
    try:
        child.expect("chaosql>")
        child.send(insert_sql(ns) + ";\r")
        wait_for_creates(write_env, ns, draining(child))
        child.sendintr()  # Ctrl-C on the terminal: SIGINT to the shell
        child.expect(r"ERROR: experiments: INSERT stopped at row \d+ of 300: query cancelled \(Ctrl-C\); rolled back ")
        child.expect("the cluster is as before the statement")
        child.expect("chaosql>")
        assert chaos_objects(write_env, ns) == {}
        child.send("SELECT count(*) AS n FROM experiments WHERE namespace = '" + ns + "';\r")
        child.expect(r"\b0\b")  # the shell goes on
        child.expect("chaosql>")
        child.send("\\q\r")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)


def test_the_repl_rolls_back_on_sigterm_then_quits(write_env, ns, tmp_path):
    child = pexpect.spawn(
        sys.executable,
        ["-m", "chaosql", "repl", "--source", "kube:admin", "--set", "confirm_rows=1000"],
        env=env_for(write_env, tmp_path),
        encoding="utf-8",
        timeout=120,
        dimensions=(40, 400),
    )
    try:
        child.expect("chaosql>")
        child.send(insert_sql(ns) + ";\r")
        wait_for_creates(write_env, ns, draining(child))
        child.kill(signal.SIGTERM)
        child.expect(r"ERROR: experiments: INSERT stopped at row \d+ of 300: interrupted \(SIGTERM\); rolled back ")
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 128 + signal.SIGTERM
    finally:
        child.close(force=True)
    assert chaos_objects(write_env, ns) == {}


def test_a_report_stops_rolls_back_and_leaves_its_output_alone(write_env, ns, tmp_path):
    report = tmp_path / "report.toml"
    report.write_text(
        'title = "Game day setup"\n'
        "[[query]]\n"
        'title = "Create the experiments"\n'
        f"sql = {json.dumps(insert_sql(ns))}\n"
        "[[query]]\n"
        'title = "Never reached"\n'
        'sql = "SELECT 1"\n'
    )
    out = tmp_path / "report.html"
    proc = subprocess.Popen(
        [sys.executable, "-m", "chaosql", "report", str(report), "--source", "kube:admin", "--out", str(out)]
        + ["--set", "confirm_rows=1000"],
        env=env_for(write_env, tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_creates(write_env, ns, lambda: proc.poll() is None)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert_rolled_back(err, "SIGTERM")
    assert not out.exists()  # a report stopped part-way is not written
    assert chaos_objects(write_env, ns) == {}


def test_a_saved_write_run_by_cron_rolls_back_on_sigterm(write_env, ns, tmp_path):
    queries = tmp_path / "queries"
    queries.mkdir()
    (queries / "setup-game-day.sql").write_text("-- title: Game day setup\n" + insert_sql(ns) + "\n")
    config = tmp_path / "config.toml"
    config.write_text('[queries]\ndir = "queries"\n[settings]\nconfirm_rows = 1000\n')
    proc = subprocess.Popen(
        [sys.executable, "-m", "chaosql", "run", "setup-game-day", "--config", str(config), "--source", "kube:admin"],
        env=env_for(write_env, tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_creates(write_env, ns, lambda: proc.poll() is None)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert_rolled_back(err, "SIGTERM")
    assert chaos_objects(write_env, ns) == {}


# --- over the Postgres wire -------------------------------------------------------------------


@pytest.fixture
def served(write_env, tmp_path):
    """``chaosql serve`` over the write cluster, as its own process, user ``ops`` may write."""
    sys.path.insert(0, str(REPO / "tests" / "server"))
    from serve_process import Served

    config = tmp_path / "serve.toml"
    config.write_text(
        '[server.users.ops]\npassword = "ops-pw"\nwrites = true\n[settings]\nconfirm_rows = 1000\n'
        '[sources.c1]\ntype = "kube"\ncontext = "admin"\n'
    )
    served = Served("--config", str(config), env={"KUBECONFIG": write_env.kubeconfig, "CHAOSQL_SERVICE": "off"})
    served.start()
    yield served
    served.stop()


def dsn(served) -> str:
    return f"postgresql://ops:ops-pw@127.0.0.1:{served.port}/chaosql?sslmode=disable"


def test_a_service_stopped_while_it_answers_a_write_rolls_it_back(write_env, ns, tmp_path):
    """SIGTERM to ``chaosql service run`` while it answers a ``chaosql query`` INSERT: the write is
    rolled back, the CLI says what is left and exits 1, and the service ends cleanly."""
    env = {**env_for(write_env, tmp_path), "XDG_RUNTIME_DIR": str(tmp_path / "run")}
    del env["CHAOSQL_SERVICE"]
    service = subprocess.Popen(
        [sys.executable, "-m", "chaosql", "service", "run", "--source", "kube:admin"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    query = None
    try:
        assert service.stderr is not None
        line = service.stderr.readline()
        assert "listening on" in line, line + service.stderr.read()
        query = subprocess.Popen(
            [sys.executable, "-m", "chaosql", "query", "--source", "kube:admin", "--yes", insert_sql(ns)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        wait_for_creates(write_env, ns, lambda: query.poll() is None)
        service.send_signal(signal.SIGTERM)
        _, err = query.communicate(timeout=120)
        _, log = service.communicate(timeout=120)
    finally:
        for proc in (service, query):
            if proc is not None and proc.poll() is None:
                proc.kill()
    assert query.returncode == 1, err
    assert_rolled_back(err, "SIGTERM")
    assert chaos_objects(write_env, ns) == {}
    assert service.returncode == 0 and "Traceback" not in log, log


def insert_in_thread(con, ns: str) -> tuple[threading.Thread, dict]:
    """Run the INSERT on a psycopg connection in a thread; the dict gets its error as "err"."""
    import psycopg

    failure: dict = {}

    def run() -> None:
        try:
            con.execute(insert_sql(ns))
        except psycopg.Error as err:
            failure["err"] = err

    worker = threading.Thread(target=run)
    worker.start()
    return worker, failure


def test_a_client_cancel_request_rolls_the_write_back(write_env, ns, served):
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect(dsn(served), autocommit=True) as con:
        worker, failure = insert_in_thread(con, ns)
        wait_for_creates(write_env, ns, worker.is_alive)
        con.cancel()  # PostgreSQL's CancelRequest, on its own connection
        worker.join(120)
        err = failure["err"]
        assert isinstance(err, psycopg.errors.QueryCanceled)
        assert err.diag.message_primary == "canceling statement due to user request"
        detail = err.diag.message_detail or ""
        assert detail.startswith("experiments: INSERT stopped at row ") and "the cluster is as before" in detail
        assert detail.count("\nrolled back: deleted ") >= 10  # then every object, one per line
        assert con.execute("SELECT 1").fetchone() == (1,)  # the connection goes on
    assert chaos_objects(write_env, ns) == {}


def test_a_client_that_drops_its_connection_mid_write_leaves_nothing(write_env, ns, served):
    psql = subprocess.Popen(
        ["psql", dsn(served), "-c", insert_sql(ns)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_creates(write_env, ns, lambda: psql.poll() is None)
        psql.kill()  # SIGKILL: the client's socket is closed under the running statement
        psql.wait(10)
        deadline = time.monotonic() + 120
        while chaos_objects(write_env, ns) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        if psql.poll() is None:
            psql.kill()
    assert chaos_objects(write_env, ns) == {}
    assert served.alive()
    log = wait_for_log(served, "closed during a write: ")  # the server says what the write left
    assert "closed during a write: experiments: INSERT stopped at row " in log, log
    assert ": the client disconnected; rolled back " in log and "the cluster is as before the statement" in log


def wait_for_log(served, text: str, timeout: float = 60) -> str:
    import select

    deadline = time.monotonic() + timeout
    stderr = served.proc.stderr
    while time.monotonic() < deadline:
        if select.select([stderr], [], [], 0.5)[0]:
            line = stderr.readline()
            served.log.append(line)
            if text in line:
                return line
    return "".join(served.log)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_server_stopped_mid_write_rolls_it_back(write_env, ns, served, signum):
    """SIGTERM (or Ctrl-C) to ``chaosql serve`` while a client's INSERT runs: as PostgreSQL's fast
    shutdown, the write is rolled back, the client is told (57P01), the server says what the write
    left, prints no traceback and exits 0 (130 after Ctrl-C, as chaosql's other daemons)."""
    psycopg = pytest.importorskip("psycopg")
    con = psycopg.connect(dsn(served), autocommit=True)
    worker, failure = insert_in_thread(con, ns)
    try:
        wait_for_creates(write_env, ns, worker.is_alive)
        served.proc.send_signal(signum)
        _, err = served.proc.communicate(timeout=120)
        worker.join(120)
    finally:
        con.close()
    log = "".join(served.log) + err
    assert served.proc.returncode == (130 if signum == signal.SIGINT else 0), log
    assert chaos_objects(write_env, ns) == {}
    assert isinstance(failure.get("err"), psycopg.errors.AdminShutdown), failure
    name = signal.Signals(signum).name
    line = next(x for x in log.splitlines() if "closed during a write: " in x)
    assert "INSERT stopped at row " in line and f"interrupted ({name})" in line, log
    assert "; rolled back " in line and "the cluster is as before the statement" in line, log
    assert "Traceback" not in log and "Error" not in log.replace(line, ""), log
