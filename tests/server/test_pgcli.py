"""pgcli in a real terminal against `chaosql serve`: its meta-commands (pgspecial's catalog
queries) and its completion, which a background refresh fills from pg_catalog on its own
connection: columns are offered after a table name only if that refresh succeeded."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pexpect
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

# the [test] extra installs it beside the Python running the tests, which need not be on PATH
# (scripts/test run with PYTHON=venv/bin/python, the venv not activated)
PGCLI = shutil.which("pgcli", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))

pytestmark = pytest.mark.skipif(PGCLI is None, reason="pgcli not installed (pyproject [test] extra)")

LEFT = "\x1b[D"
PROMPT = "chaosql>"


@pytest.fixture
def pgcli(pg_server, tmp_path):
    rc = tmp_path / "pgclirc"
    rc.write_text("[main]\nenable_pager = False\nkeyring = False\nsmart_completion = True\n")
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path), "HOME": str(tmp_path), "TERM": "xterm", "PAGER": "cat"}
    args = ["--pgclirc", str(rc), "--less-chatty", "-h", "127.0.0.1", "-p", str(pg_server.port), "-U", "tester"]
    child = pexpect.spawn(PGCLI, [*args, "chaosql"], env=env, encoding="utf-8", timeout=60, dimensions=(60, 200))
    child.expect(PROMPT)
    yield child
    child.send("\\q\r")
    child.expect(pexpect.EOF)
    log = tmp_path / "pgcli" / "log"
    assert "Traceback" not in (log.read_text() if log.exists() else "")


def test_meta_commands(pgcli):
    from chaosql.tables import registry

    pgcli.send("\\dt\r")
    pgcli.expect(r"public\s+\|\s+experiments\s+\|\s+table")
    pgcli.expect(rf"SELECT {len(registry())}\b")  # every chaos table, the typed ones too
    pgcli.expect(PROMPT)
    pgcli.send("CREATE VIEW running AS SELECT name, kind FROM experiments WHERE phase = 'running'\r")
    pgcli.expect("CREATE VIEW")
    pgcli.expect(PROMPT)
    pgcli.send("\\dv\r")
    pgcli.expect(r"public\s+\|\s+running\s+\|\s+view")
    pgcli.expect(PROMPT)
    pgcli.send("\\d experiments\r")
    pgcli.expect(r"created_at\s+\|\s+timestamp with time zone")
    pgcli.expect(PROMPT)
    assert "error" not in pgcli.before.lower()


def test_columns_complete_after_a_table_name(pgcli):
    """``SELECT inj| FROM experiments`` + Tab offers the table's injected_count: pgcli found the
    columns in pg_attribute (the refresh runs in the background, so try until it has)."""
    text = "SELECT inj FROM experiments"
    for _ in range(20):
        pgcli.send(text + LEFT * (len(text) - len("SELECT inj")) + "\t")
        found = pgcli.expect(["injected_count", pexpect.TIMEOUT], timeout=3)
        pgcli.send("\x03")  # Ctrl-C drops the line
        pgcli.expect(PROMPT)
        if found == 0:
            break
    else:
        pytest.fail("pgcli never offered experiments' columns")
    pgcli.send("SELECT  FROM targets" + LEFT * len(" FROM targets") + "\t")
    pgcli.expect("cluster")  # the first of the table's columns, in its menu
    pgcli.send("\x03")
    pgcli.expect(PROMPT)
