"""pgjdbc (Debian's libpostgresql-jdbc-java, a small Java program) and node-postgres against `chaosql serve`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from pgwire_env import QUERY, dsn  # noqa: E402

JDBC_JARS = ["/usr/share/java/postgresql.jar"]


@pytest.fixture(scope="module")
def jdbc_classes() -> str:
    jar = next((j for j in JDBC_JARS if Path(j).exists()), None)
    if not jar or not shutil.which("javac"):
        pytest.skip("pgjdbc or javac missing (tests/setup.d/40-pgwire.sh installs them)")
    out = HERE / "build" / "jdbc"
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(["javac", "-d", str(out), "-cp", jar, str(HERE / "jdbc" / "ChaosqlJdbc.java")], check=True)
    return f"{out}:{jar}"


def test_pgjdbc_metadata_prepared_and_cancel(pg_server, expected, jdbc_classes):
    from chaosql.tables import registry

    url = f"jdbc:postgresql://127.0.0.1:{pg_server.port}/chaosql"
    run = subprocess.run(
        ["java", "-cp", jdbc_classes, "ChaosqlJdbc", url, expected[0][2]], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr[-3000:]
    lines = [line.split("\t") for line in run.stdout.splitlines()]
    assert {row[1] for row in lines if row[0] == "table"} == set(registry())
    columns = [(row[1], row[2]) for row in lines if row[0] == "column"]
    assert [c for c, _ in columns] == [c.name for c in registry()["experiments"].columns]
    assert ("created_at", "timestamptz") in columns and ("target_count", "int8") in columns
    assert {row[1] for row in lines if row[0] == "schema"} >= {"public", "pg_catalog", "information_schema"}
    assert ["meta", "text", "timestamptz", "false", ""] in lines
    rows = [(row[1], int(row[2])) for row in lines if row[0] == "row"]
    assert rows == _session_rows(
        f"SELECT name, target_count FROM experiments WHERE kind = '{expected[0][2]}' "
        "ORDER BY cluster, namespace, name, uid LIMIT 5"
    )
    cancel = next(row for row in lines if row[0] == "cancel")
    assert cancel[1] == "57014", cancel
    assert ["after-cancel", "42"] in lines


def _session_rows(sql: str) -> list[tuple]:
    from chaosql.engine.session import Session
    from chaosql.sources import open_source

    session = Session([open_source("demo")])
    try:
        return session.execute(sql).rows()
    finally:
        session.close()


def test_node_postgres(pg_server, expected):
    node_modules = HERE / "node" / "node_modules"
    if not shutil.which("node") or not (node_modules / "pg").exists():
        pytest.skip("node or the npm package pg missing (tests/setup.d/40-pgwire.sh installs them)")
    sql = QUERY.replace("created_at, ", "").replace("duration_seconds", "duration_seconds::DOUBLE")
    run = subprocess.run(
        ["node", str(HERE / "nodejs" / "client.js"), dsn(pg_server.port), sql, expected[0][2]],
        capture_output=True,
        text=True,
        timeout=60,
        env={"NODE_PATH": str(node_modules), "PATH": "/usr/bin:/bin"},
    )
    assert run.returncode == 0, run.stderr
    out = {d["kind"]: d for d in map(json.loads, run.stdout.splitlines())}
    want = [[r[0], r[1], r[2], r[3], str(r[5]) if r[5] is not None else None, r[6], r[7]] for r in expected]
    assert out["simple"]["rows"] == want  # node-pg returns int8 as a string, as from PostgreSQL
    assert out["param"]["rows"][0][0] >= 1
    assert out["error"]["code"] == "42P01"
