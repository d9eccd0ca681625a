"""The interactive shell: completion (pure), meta-commands, and the real terminal via pexpect."""

from __future__ import annotations

import io
import os
import sys

import pexpect
import pytest

from chaosql.repl.app import Repl
from chaosql.repl.completion import Catalog, matches, suggest


@pytest.fixture
def repl(demo_session):
    out, err = io.StringIO(), io.StringIO()
    return Repl(demo_session, out=out, err=err)


def catalog(demo_session) -> Catalog:
    return Catalog({n: t.column_names for n, t in demo_session.tables.items()}, meta_commands=["\\dt", "\\d", "\\x"])


def test_suggest_is_pure_and_contextual():
    assert [s.kind for s in suggest("SELECT * FROM ")] == ["table"]
    assert suggest("SELECT * FROM experiments e JOIN targets t ON t.")[0].tables == ("targets",)
    cols = suggest("SELECT  FROM targets t JOIN experiments e ON 1=1", cursor=7)[0]
    assert cols.kind == "column" and cols.tables == ("targets", "experiments")
    assert suggest("SELECT * FROM experiments WHERE namespace = 'sh")[0].column == "namespace"


def test_columns_of_tables_in_from_come_first(demo_session):
    found = matches(catalog(demo_session), "SELECT na FROM targets", cursor=9)
    assert found[0] == ("namespace", "targets")
    assert ("name", "experiments") in found  # other tables' columns still offered, later
    assert [c for c, _ in matches(catalog(demo_session), "SELECT * FROM exp")] == ["experiments"]
    assert {c for c, _ in matches(catalog(demo_session), "\\d")} == {"\\d", "\\dt"}


def test_live_values_complete_after_a_refresh(repl):
    repl.refresh_values(background=False)
    assert ("shop", "namespace") in matches(repl.catalog, "SELECT * FROM experiments WHERE namespace = 'sh")


def test_sql_and_meta_commands_share_one_output(repl):
    repl.handle("SELECT count(*) AS n FROM experiments WHERE cluster = 'prod-eu';")
    assert "180" in repl.out.getvalue()
    repl.handle("\\x")
    repl.handle("SELECT name, kind FROM experiments ORDER BY name LIMIT 1;")
    assert "-[ RECORD 1 ]" in repl.out.getvalue()
    repl.handle("\\format csv")
    repl.handle("\\x off")
    repl.handle("SELECT 1 AS one;")
    assert "one\n1\n" in repl.out.getvalue()
    repl.handle("\\d targets")
    assert "target_id" in repl.out.getvalue() and "Record id" in repl.out.getvalue()
    repl.handle("\\dt")
    assert "workflow_nodes" in repl.out.getvalue()
    repl.handle("\\?")
    assert "\\timing" in repl.out.getvalue() and "\\o [FILE]" in repl.out.getvalue()


def test_errors_keep_the_shell(repl):
    repl.handle("SELECT nmae FROM experiments;")
    repl.handle("\\nope")
    repl.handle("\\format xml")
    errors = repl.err.getvalue().splitlines()
    assert len(errors) == 3 and 'unknown column "nmae"' in errors[0] and "unknown command" in errors[1]
    repl.handle("SELECT 2 AS two;")
    assert "two" in repl.out.getvalue()


def test_output_to_file_and_include(repl, tmp_path):
    script = tmp_path / "q.sql"
    script.write_text("SELECT 'from-file' AS a;\n")
    target = tmp_path / "out.txt"
    repl.handle(f"\\o {target}")
    repl.handle(f"\\i {script}")
    repl.handle("\\o")
    repl.handle("\\timing on")
    repl.handle("SELECT 1;")
    assert "from-file" in target.read_text() and "from-file" not in repl.out.getvalue()
    assert "Time:" in repl.out.getvalue()


def spawn(tmp_path) -> pexpect.spawn:
    env = {
        **os.environ,
        "XDG_DATA_HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path),
        "CHAOSQL_CONFIG": "",
        "TERM": "xterm",
        "PYTHONUNBUFFERED": "1",
    }
    child = pexpect.spawn(
        sys.executable, ["-m", "chaosql"], env=env, encoding="utf-8", timeout=60, dimensions=(40, 200)
    )
    child.expect("chaosql>")
    return child


def test_terminal_session_end_to_end(tmp_path):
    child = spawn(tmp_path)
    child.send("SELECT kind, count(*) AS n\r")  # no ';' yet: the statement continues
    child.send("FROM experiments WHERE kind = 'DNSChaos' GROUP BY kind;\r")
    child.expect(r"DNSChaos\s+\|\s+\d+")
    child.expect("chaosql>")
    child.send("\\dt\r")
    child.expect("workflow_nodes")
    child.expect("chaosql>")
    child.send("\\q\r")
    child.expect(pexpect.EOF)
    assert "DNSChaos" in (tmp_path / "chaosql" / "history").read_text()


def test_ctrl_c_cancels_the_query_and_keeps_the_shell(tmp_path):
    child = spawn(tmp_path)
    child.send("SELECT count(*) FROM range(100000000000) a, range(10) b;\r")
    child.expect("fetching", timeout=30)  # the spinner: the statement is running, the terminal is cooked
    for _ in range(3):  # on a loaded machine the first ^C can land before the shell waits on the query
        child.sendintr()
        if child.expect(["cancelled", pexpect.TIMEOUT], timeout=15) == 0:
            break
    else:
        pytest.fail("Ctrl-C did not cancel the query: " + child.before[-300:])
    child.expect("chaosql>")
    child.send("SELECT 40 + 2 AS answer;\r")
    child.expect("42")
    child.send("\\q\r")
    child.expect(pexpect.EOF)


def test_run_saved_queries_from_the_shell(repl):
    repl.handle("\\run running-by-namespace")
    assert "namespace" in repl.out.getvalue()
    repl.handle("\\run stuck-injecting minutes=30")
    assert "CHECK FAILED: stuck-injecting" in repl.err.getvalue()  # the demo has stuck experiments
    repl.handle("\\run no-such-query")
    repl.handle("\\run stuck-injecting minutes=soon")
    errors = repl.err.getvalue().splitlines()
    assert any("no-such-query" in e for e in errors) and any("minutes" in e for e in errors[-1:])
