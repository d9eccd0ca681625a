"""The chaosql command as a user runs it: output formats, inputs, errors and exit codes."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def chaosql(*args: str, stdin: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "CHAOSQL_CONFIG": "", "XDG_CONFIG_HOME": "/nonexistent", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "chaosql", *args], input=stdin, capture_output=True, text=True, env=full_env, timeout=120
    )


def test_demo_by_default_with_one_notice():
    run = chaosql("query", "SELECT count(*) AS n FROM experiments")
    assert run.returncode == 0, run.stderr
    assert "360" in run.stdout
    assert run.stderr.count("demo data") == 1


def test_formats():
    sql = "SELECT kind, count(*) AS n FROM experiments WHERE cluster = 'prod-eu' GROUP BY kind ORDER BY kind"
    as_csv = list(csv.DictReader(io.StringIO(chaosql("query", sql, "--format", "csv").stdout)))
    as_json = json.loads(chaosql("query", sql, "--format", "json").stdout)
    as_jsonl = [json.loads(line) for line in chaosql("query", sql, "--format", "jsonl").stdout.splitlines()]
    assert [r["kind"] for r in as_csv] == [r["kind"] for r in as_json] == [r["kind"] for r in as_jsonl]
    assert [int(r["n"]) for r in as_csv] == [r["n"] for r in as_json]
    markdown = chaosql("query", sql, "--format", "markdown").stdout.splitlines()
    assert markdown[0] == "| kind | n |" and markdown[1] == "|---|---|"
    table = chaosql("query", sql).stdout
    assert "PodChaos" in table and f"({len(as_csv)} rows)" in table


def test_json_columns_are_json_in_json_output():
    out = chaosql("query", "SELECT spec FROM experiments WHERE kind = 'NetworkChaos' LIMIT 1", "-F", "json").stdout
    assert isinstance(json.loads(out)[0]["spec"], dict)


def test_sql_from_c_file_and_stdin(tmp_path: Path):
    script = tmp_path / "q.sql"
    script.write_text("SELECT 1 AS a;\nSELECT 'x;y' AS b;\n")
    run = chaosql("-f", str(script), "--format", "csv")
    assert run.returncode == 0 and run.stdout.split() == ["a", "1", "b", "x;y"]
    assert chaosql("-c", "SELECT 42 AS answer", "-F", "csv").stdout.split() == ["answer", "42"]
    assert chaosql("--format", "csv", stdin="SELECT 7 AS seven").stdout.split() == ["seven", "7"]


@pytest.mark.parametrize(
    "sql,message,code",
    [
        ("SELEC * FROM experiments", 'syntax error at or near "SELEC"', 1),
        ("SELECT * FROM experimnts", 'unknown table "experimnts" (did you mean "experiments"?)', 1),
        ("SELECT nmae FROM experiments", 'unknown column "nmae" in table experiments (did you mean "name"?)', 1),
        ("SELECT name + 1 FROM experiments", "No function matches", 1),
        ("SELECT CAST(name AS INTEGER) FROM experiments", "invalid input syntax for type integer", 1),
        ("SET chaosql.nope = 1", "unknown setting chaosql.nope", 1),
    ],
)
def test_bad_sql_gets_one_clear_line(sql, message, code):
    run = chaosql("query", sql)
    assert run.returncode == code
    lines = [ln for ln in run.stderr.splitlines() if "demo data" not in ln]
    assert len(lines) == 1 and message in lines[0], run.stderr
    assert "Traceback" not in run.stderr and run.stdout == ""


def test_usage_errors_exit_2(tmp_path: Path):
    assert chaosql("query").returncode == 2
    assert chaosql("--format", "xml", "-c", "SELECT 1").returncode == 2
    assert chaosql("-f", str(tmp_path / "missing.sql")).returncode == 2
    run = chaosql("--source", "nosuch:thing", "-c", "SELECT 1")
    assert run.returncode == 2 and "unknown source 'nosuch:thing'" in run.stderr


def test_unreadable_and_malformed_snapshots(tmp_path: Path):
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("apiVersion: chaos-mesh.org/v1alpha1\nkind: PodChaos\nmetadata: {name: x\n")
    run = chaosql("--source", f"snapshot:{bad_yaml}", "-c", "SELECT * FROM experiments")
    assert run.returncode == 1 and "invalid YAML" in run.stderr and "bad.yaml" in run.stderr

    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"kind": "List", "items": [')
    run = chaosql("--source", f"snapshot:{bad_json}", "-c", "SELECT * FROM experiments")
    assert run.returncode == 1 and "invalid JSON" in run.stderr and "bad.json" in run.stderr

    locked = tmp_path / "locked.yaml"
    locked.write_text("kind: Pod\n")
    locked.chmod(0)
    if not os.access(locked, os.R_OK):  # root can read anything
        run = chaosql("--source", f"snapshot:{locked}", "-c", "SELECT * FROM pods")
        assert run.returncode == 1 and "cannot read" in run.stderr

    run = chaosql("--source", f"snapshot:{tmp_path / 'nope'}", "-c", "SELECT * FROM experiments")
    assert run.returncode == 1 and "does not exist" in run.stderr
    assert chaosql("--source", f"snapshot:{tmp_path / 'nope'}", "-c", "SELECT 1").returncode == 0


def test_verbose_shows_pushdown_and_calls():
    run = chaosql("-v", "-c", "SELECT count(*) FROM experiments WHERE namespace = 'shop' AND kind = 'PodChaos'")
    assert "pushdown experiments: kind = 'PodChaos' AND namespace = 'shop'" in run.stderr
    assert "scan PodChaos where namespace in (shop)" in run.stderr


def test_help_teaches():
    run = chaosql("--help")
    assert run.returncode == 0 and "demo data" in run.stdout and "exit codes" in run.stdout
    assert "query" in run.stdout and "repl" in run.stdout
    assert "examples:" in chaosql("query", "--help").stdout


def test_config_file_names_sources(tmp_path: Path):
    config = tmp_path / "chaosql.toml"
    config.write_text(
        f'[settings]\npushdown = false\n\n[sources.lab]\ntype = "snapshot"\npath = "{Path(__file__).parent.parent / "chaosql" / "demo"}"\n'
    )
    run = chaosql("--config", str(config), "-c", "SELECT DISTINCT cluster FROM experiments ORDER BY 1", "-F", "csv")
    assert run.returncode == 0 and run.stdout.split() == ["cluster", "prod-eu", "staging-us"]
    assert "demo data" not in run.stderr
    (tmp_path / "broken.toml").write_text("[sources.x]\npath = 1\n")
    run = chaosql("--config", str(tmp_path / "broken.toml"), "-c", "SELECT 1")
    assert run.returncode == 2 and "has no type" in run.stderr


def test_a_closed_pipe_is_not_an_error():
    proc = subprocess.Popen(
        [sys.executable, "-m", "chaosql", "query", "SELECT * FROM range(200000)"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "CHAOSQL_CONFIG": "", "XDG_CONFIG_HOME": "/nonexistent"},
    )
    proc.stdout.readline()
    proc.stdout.close()  # like `| head -1`
    assert proc.wait(timeout=120) == 0
    assert "Error" not in proc.stderr.read()


DEMO = Path(__file__).parent.parent / "chaosql" / "demo"


def test_global_options_work_before_and_after_the_command(tmp_path: Path):
    sql = "SELECT DISTINCT cluster FROM experiments ORDER BY 1"
    for args in (
        ("--source", f"snapshot:{DEMO / 'prod-eu'}", "query", sql, "-F", "csv"),
        ("query", "--source", f"snapshot:{DEMO / 'prod-eu'}", sql, "-F", "csv"),
    ):
        run = chaosql(*args)
        assert run.returncode == 0 and run.stdout.split() == ["cluster", "prod-eu"], (args, run.stderr)
        assert "demo data" not in run.stderr
    run = chaosql("--config", "/nonexistent.toml", "query", "SELECT 1")
    assert run.returncode == 2 and "config file /nonexistent.toml not found" in run.stderr
    run = chaosql("-v", "query", "SELECT count(*) FROM experiments WHERE kind = 'PodChaos'")
    assert "pushdown experiments: kind = 'PodChaos'" in run.stderr
    # --set before the command and --set after it both apply
    run = chaosql("--set", "pushdown=false", "query", "-v", "SELECT count(*) FROM experiments WHERE kind = 'PodChaos'")
    assert "pushdown experiments: (none)" in run.stderr
    run = chaosql("--set", "pushdown=false", "query", "--set", "nope=1", "SELECT 1")
    assert run.returncode == 2 and "unknown setting chaosql.nope" in run.stderr


def test_json_output_is_strict_json():
    run = chaosql(
        "query", "SELECT 'nan'::DOUBLE AS a, ['inf'::DOUBLE] AS b, {'x': '-inf'::FLOAT} AS c, 1.5 AS d", "-F", "json"
    )

    def refuse(name):
        raise ValueError(f"{name} is not JSON")

    assert json.loads(run.stdout, parse_constant=refuse) == [
        {"a": "NaN", "b": ["Infinity"], "c": {"x": "-Infinity"}, "d": 1.5}
    ]
    run = chaosql("query", "SELECT 'nan'::DOUBLE AS a", "-F", "jsonl")
    assert json.loads(run.stdout, parse_constant=refuse) == {"a": "NaN"}


def test_two_sources_with_one_name_are_refused():
    run = chaosql("--source", "demo", "--source", "demo", "-c", "SELECT count(*) FROM experiments")
    assert run.returncode == 2 and 'two sources are named "demo"' in run.stderr and run.stdout == ""
    # a snapshot directory named like one of the demo's clusters would double that cluster's rows
    run = chaosql(
        "--source", "demo", "--source", f"snapshot:{DEMO / 'prod-eu'}", "-c", "SELECT count(*) FROM experiments"
    )
    assert run.returncode == 2 and 'cluster "prod-eu" is served by two sources' in run.stderr and run.stdout == ""


def test_duckdb_syntax_sqlglot_reads_differently():
    sql = (
        "SELECT count(*) FROM experiments "
        "WHERE json_array_length(spec->'$.selector.namespaces') = 1 AND spec->'$.selector' IS NOT NULL"
    )
    run = chaosql("query", sql, "-F", "csv")
    expected = chaosql(
        "query",
        "SELECT count(*) FROM experiments WHERE json_array_length(json_extract(spec, '$.selector.namespaces')) = 1",
        "-F",
        "csv",
    )
    assert run.returncode == 0 and run.stdout == expected.stdout and int(run.stdout.split()[1]) > 0, run.stderr
    run = chaosql("query", "SUMMARIZE experiments", "-F", "csv")
    assert run.returncode == 0, run.stderr
    summary = {r["column_name"]: r for r in csv.DictReader(io.StringIO(run.stdout))}
    assert summary["kind"]["count"] == "360" and summary["cluster"]["approx_unique"] == "2"


def test_each_command_is_named_where_the_command_line_looks_it_up():
    import importlib

    from chaosql.commands import COMMANDS

    assert {name: importlib.import_module(path).NAME for name, path in COMMANDS.items()} == {n: n for n in COMMANDS}


def test_a_query_reads_its_arguments_as_the_full_command_line_does():
    """`chaosql query` is parsed by the query command's parser alone (quicker); what it cannot read
    goes to the full parser, so help and usage errors say the same as before."""
    from chaosql.cli import build_parser

    full = build_parser()
    assert chaosql("query", "--help").stdout == full._subparsers._group_actions[0].choices["query"].format_help()
    bad = chaosql("query", "--nosuch", "SELECT 1")
    assert bad.returncode == 2 and bad.stderr.splitlines()[-1] == "chaosql: unrecognized arguments: --nosuch"
    assert bad.stderr.startswith("usage: chaosql [-h]")
    run = chaosql("-s", "demo", "query", "-F", "csv", "--set", "timeout=5", "SELECT 1 AS one")
    assert (run.returncode, run.stdout) == (0, "one\n1\n")


def test_a_one_shot_query_does_without_numpy_pandas_trio_and_cloudpickle():
    """Imported by pyarrow and httpcore only to look around, they cost a one-shot query ~0.2 s."""
    probe = (
        "import sys\n"
        "from chaosql.cli import main\n"
        "code = main(['query', '--no-service', '--source', 'demo', '-F', 'csv', "
        "'SELECT kind, count(*) AS n, max(created_at) IS NOT NULL AS t FROM experiments GROUP BY kind ORDER BY kind LIMIT 1'])\n"
        "print('exit', code, [m for m in ('numpy', 'pandas', 'trio', 'cloudpickle') if m in sys.modules])\n"
    )
    env = {**os.environ, "CHAOSQL_CONFIG": "", "XDG_CONFIG_HOME": "/nonexistent"}
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120)
    assert run.stdout.endswith("exit 0 []\n") and "kind,n,t\n" in run.stdout, run.stdout + run.stderr
