"""chaosql report: documents, checks and exit codes, failed sources, timeouts and atomic --out.

Every test runs the real CLI in a subprocess, as cron would.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import demo_truth as truth
import pytest

NOW = "2026-11-20T12:00:00Z"


def chaosql(
    *args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k not in ("CHAOSQL_CONFIG", "CHAOSQL_SOURCE")}
    full_env["XDG_CONFIG_HOME"] = str(cwd or "/nonexistent")
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "chaosql", *args], capture_output=True, text=True, cwd=cwd, env=full_env, timeout=timeout
    )


def write(tmp_path: Path, text: str, name: str = "report.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


PASSING = f"""
title = "Passing report"
[sources]
demo = "demo"
[params]
now = "{NOW}"
[[query]]
name = "phase-mix"
[[query]]
name = "stuck-injecting"
params = {{ minutes = 100000 }}
[[query]]
title = "Running experiments"
sql = "SELECT count(*) AS running FROM experiments WHERE phase = 'running'"
check = {{ column = "running", min = 1 }}
"""


def test_passing_report_is_quiet_and_exits_0(tmp_path):
    out = tmp_path / "nightly.md"
    proc = chaosql("report", str(write(tmp_path, PASSING)), "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and proc.stderr == ""  # cron mails nothing
    text = out.read_text()
    assert text.startswith("# Passing report\n")
    assert "## Phase mix" in text and "## Experiments stuck injecting" in text and "Check passed: no rows." in text
    assert "![Phase mix](data:image/png;base64," in text  # phase-mix prefers table and chart
    assert "**Summary:** 3 sections — all ok." in text
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file left
    verbose = chaosql("report", str(write(tmp_path, PASSING)), "--out", str(out), "-v", cwd=tmp_path)
    assert "section phase-mix: ok" in verbose.stderr and f"wrote {out}" in verbose.stderr


def test_failing_check_still_renders_marks_and_names_it_exit_3(tmp_path):
    report = write(tmp_path, PASSING.replace("minutes = 100000", "minutes = 10").replace("min = 1", "max = 2"))
    proc = chaosql("report", str(report), "--format", "markdown", cwd=tmp_path)
    assert proc.returncode == 3, proc.stderr
    stuck = {
        (c, o["metadata"]["name"])
        for c, o in truth.experiments()
        if truth.phase(o) == "injecting" and o["metadata"]["creationTimestamp"] <= "2026-11-20T11:50:00Z"
    }
    running = sum(1 for _, o in truth.experiments() if truth.phase(o) == "running")
    assert f"check stuck-injecting failed: {len(stuck)} rows, expected none" in proc.stderr
    assert f"check running-experiments failed: running = {running}, above the maximum 2" in proc.stderr
    assert f"> **CHECK FAILED**: {len(stuck)} rows, expected none" in proc.stdout
    assert all(name in proc.stdout for _, name in stuck)  # the failing rows are shown
    assert "2 check failed" in proc.stdout and "## Phase mix" in proc.stdout


def test_a_source_that_is_down_fails_only_its_sections_exit_4(tmp_path):
    report = write(
        tmp_path,
        f"""
title = "Two sources"
[sources]
demo = "demo"
lab = "snapshot:{tmp_path / "no-such-dir"}"
[[query]]
name = "phase-mix"
sources = ["demo"]
[[query]]
title = "Lab experiments"
sql = "SELECT count(*) AS n FROM experiments"
sources = ["lab"]
[[query]]
title = "Both"
sql = "SELECT count(*) AS n FROM experiments"
""",
    )
    out = tmp_path / "r.json"
    proc = chaosql("report", str(report), "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 4, proc.stderr
    doc = json.loads(out.read_text())
    status = {s["id"]: s["status"] for s in doc["sections"]}
    assert status == {"phase-mix": "ok", "lab-experiments": "source-failed", "both": "source-failed"}
    assert doc["summary"]["exit_code"] == 4
    lab = next(s for s in doc["sections"] if s["id"] == "lab-experiments")
    assert "no-such-dir does not exist" in lab["message"]
    assert "section lab-experiments failed (source-failed)" in proc.stderr and "no-such-dir" in proc.stderr
    mix = next(s for s in doc["sections"] if s["id"] == "phase-mix")
    assert sum(r["experiments"] for r in mix["rows"]) == len(truth.experiments())


def test_a_kube_cluster_on_a_closed_port_gives_a_partial_report(tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(f"""apiVersion: v1
kind: Config
clusters: [{{name: down, cluster: {{server: "https://127.0.0.1:{port}", insecure-skip-tls-verify: true}}}}]
users: [{{name: u, user: {{token: t}}}}]
contexts: [{{name: down, context: {{cluster: down, user: u}}}}]
current-context: down
""")
    report = write(
        tmp_path,
        """
title = "Live and demo"
[sources]
demo = "demo"
prod = "kube:down"
[[query]]
name = "experiments-per-team"
sources = ["demo"]
[[query]]
name = "running-by-namespace"
sources = ["prod"]
""",
    )
    started = time.monotonic()
    proc = chaosql("report", str(report), "--format", "html", cwd=tmp_path, env={"KUBECONFIG": str(kubeconfig)})
    assert proc.returncode == 4, proc.stderr
    assert time.monotonic() - started < 60
    assert 'id="running-by-namespace" class="source-failed"' in proc.stdout
    assert 'id="experiments-per-team" class="ok"' in proc.stdout
    assert "section running-by-namespace failed (source-failed)" in proc.stderr and str(port) in proc.stderr


def test_a_query_over_its_timeout_fails_its_section_exit_4(tmp_path):
    report = write(
        tmp_path,
        """
title = "Slow"
[[query]]
name = "phase-mix"
[[query]]
title = "Slow query"
sql = "SELECT count(*) AS n FROM range(2000000000) a, range(1000) b WHERE (a.range * b.range) % 7 = 3"
timeout = 1
""",
    )
    started = time.monotonic()
    proc = chaosql("report", str(report), "--format", "json", "--source", "demo", cwd=tmp_path)
    assert time.monotonic() - started < 30
    assert proc.returncode == 4, proc.stderr
    doc = json.loads(proc.stdout)
    slow = doc["sections"][1]
    assert slow["status"] == "source-failed" and "timed out after 1 s" in slow["message"]
    assert doc["sections"][0]["status"] == "ok"


def test_sql_error_in_one_section_exits_1_and_the_rest_renders(tmp_path):
    report = write(
        tmp_path,
        """
title = "Broken"
[[query]]
title = "Typo"
sql = "SELECT nam FROM experiments"
[[query]]
name = "phase-mix"
""",
    )
    proc = chaosql("report", str(report), "--format", "markdown", "--source", "demo", cwd=tmp_path)
    assert proc.returncode == 1
    assert "> **ERROR**:" in proc.stdout and "## Phase mix" in proc.stdout
    assert "section typo failed (error)" in proc.stderr


@pytest.mark.parametrize(
    "text, message",
    [
        ("title = 'x'\n[[query]]\nname = 'stuck-injectin'\n", "no saved query named 'stuck-injectin'"),
        (
            "title = 'x'\n[[query]]\nname = 'stuck-injecting'\nparams = { minutes = 'ten' }\n",
            "parameter minutes takes an integer",
        ),
        ("title = 'x'\n[[query]]\nname = 'phase-mix'\nformat = 'pie'\n", "format 'pie' is not one of"),
        ("title = 'x'\n[[query]]\nname = 'phase-mix'\ncheck = { most = 3 }\n", "unknown key 'most'"),
        ("title = 'x'\n[[query]]\nname = 'phase-mix'\nsources = ['nope']\n", "no source named 'nope'"),
        ("title = = 'x'\n", "invalid TOML"),
        (
            "title = 'x'\n[params]\nnwo = 'now'\n[[query]]\nname = 'warning-events'\n",
            "no query takes the parameter 'nwo'",
        ),
        ("title = 'x'\n", "no [[query]] sections"),
        ("params = 5\n[[query]]\nname = 'phase-mix'\n", "params takes a table, e.g. params = { minutes = 30 }"),
        ("sources = [5]\n[[query]]\nname = 'phase-mix'\n", 'sources must be a table of name = "spec"'),
        ("timeout = nan\n[[query]]\nname = 'phase-mix'\n", "timeout takes a number of seconds from 0 to"),
        ("timeout = inf\n[[query]]\nname = 'phase-mix'\n", "timeout takes a number of seconds from 0 to"),
        ("limit = 'ten'\n[[query]]\nname = 'phase-mix'\n", "limit takes a whole number >= 0, not 'ten'"),
        ("title = [1]\n[[query]]\nname = 'phase-mix'\n", "title takes a string (in quotes), not [1]"),
        ("[[query]]\nsql = 5\n", "query number 1: sql takes a string"),
        ("[[query]]\nname = 'phase-mix'\nparams = 5\n", "query phase-mix: params takes a table"),
        ("[[query]]\nname = 'phase-mix'\ntimeout = -inf\n", "query phase-mix: timeout takes a number"),
        ("[[query]]\nname = 'phase-mix'\nsources = [5]\n", "query phase-mix: sources must be a list of names"),
        ("x = " + "[" * 5000 + "]" * 5000 + "\n", "arrays or tables nested too deeply"),
    ],
)
def test_report_definition_mistakes_exit_2_and_write_nothing(tmp_path, text, message):
    out = tmp_path / "out.html"
    proc = chaosql("report", str(write(tmp_path, text)), "--out", str(out), "--source", "demo", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert not out.exists() and list(tmp_path.glob(".out.html*")) == []


def test_a_report_that_is_not_utf8_is_a_usage_error(tmp_path):
    report = tmp_path / "latin1.toml"
    report.write_bytes(b"title = 'caf\xe9'\n[[query]]\nname = 'phase-mix'\n")
    proc = chaosql("report", str(report), "--source", "demo", cwd=tmp_path)
    assert proc.returncode == 2 and "not UTF-8 text (byte 12)" in proc.stderr, proc.stderr
    assert "internal error" not in proc.stderr


def test_a_top_level_limit_is_every_sections_default(tmp_path):
    text = (
        "limit = 2\n[[query]]\nsql = 'SELECT * FROM range(5)'\n[[query]]\nsql = 'SELECT * FROM range(5)'\nlimit = 4\n"
    )
    proc = chaosql("report", str(write(tmp_path, text)), "--format", "json", "--source", "demo", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert [len(s["rows"]) for s in json.loads(proc.stdout)["sections"]] == [2, 4]


def test_report_killed_mid_write_leaves_the_old_file_untouched(tmp_path):
    out = tmp_path / "nightly.html"
    out.write_text("yesterday's report\n")
    report = write(
        tmp_path,
        """
title = "Killed"
[[query]]
name = "phase-mix"
[[query]]
title = "Slow query"
sql = "SELECT count(*) AS n FROM range(2000000000) a, range(1000) b WHERE (a.range * b.range) % 7 = 3"
timeout = 60
""",
    )
    env = {k: v for k, v in os.environ.items() if k not in ("CHAOSQL_CONFIG", "CHAOSQL_SOURCE")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "chaosql", "report", str(report), "--out", str(out), "--source", "demo"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        partial: list[Path] = []
        while time.monotonic() < deadline:  # wait until the first section is in the temporary file
            partial = [p for p in tmp_path.glob(".nightly.html.*.tmp") if 'id="phase-mix"' in p.read_text()]
            if partial:
                break
            assert proc.poll() is None, proc.stderr.read()
            time.sleep(0.05)
        assert partial, "the report never started writing"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert out.read_text() == "yesterday's report\n"  # half a report never replaces the old one
    assert "<section" in partial[0].read_text() and "</html>" not in partial[0].read_text()


def test_json_document_has_every_row(tmp_path):
    report = write(
        tmp_path,
        f"""
title = "JSON"
[params]
now = "{NOW}"
[[query]]
name = "warning-events"
""",
    )
    proc = chaosql("report", str(report), "--format", "json", "--source", "demo", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    section = doc["sections"][0]
    assert section["row_count"] == len(section["rows"]) > 100  # JSON is not cut at the table limit
    assert section["rows"][0]["last_at"].endswith("Z")


def test_a_chart_that_does_not_fit_its_data_is_an_error_but_the_table_renders(tmp_path):
    report = write(
        tmp_path,
        """
title = "Chart typo"
[[query]]
title = "Kinds"
sql = "SELECT kind, count(*) AS n FROM experiments GROUP BY ALL ORDER BY n DESC"
chart = { type = "barh", x = "kind", y = "count" }
[[query]]
title = "Kinds by phase"
sql = "SELECT kind, count(*) FILTER (WHERE phase = 'running') AS running, count(*) FILTER (WHERE phase = 'finished') AS finished FROM experiments GROUP BY ALL"
chart = { type = "bar", x = "kind", y = "running,finished", stacked = false }
""",
    )
    proc = chaosql("report", str(report), "--format", "html", "--source", "demo", cwd=tmp_path)
    assert proc.returncode == 1
    assert "chart: no column 'count' in the result (columns: kind, n)" in proc.stderr
    kinds, by_phase = proc.stdout.split('<section id="kinds-by-phase"')
    assert 'class="error"' in kinds and "<table>" in kinds and "<svg" not in kinds
    assert 'class="ok"' in by_phase.split(">")[0] and "<svg" in by_phase  # several y columns: one series each


def test_csv_format_writes_one_file_per_query(tmp_path):
    report = write(tmp_path, PASSING)
    out = tmp_path / "csv"
    proc = chaosql("report", str(report), "--format", "csv", "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["phase-mix.csv", "running-experiments.csv", "stuck-injecting.csv"]
    running = sum(1 for _, o in truth.experiments() if truth.phase(o) == "running")
    assert (out / "running-experiments.csv").read_text() == f"running\n{running}\n"
    assert chaosql("report", str(report), "--format", "csv", cwd=tmp_path).returncode == 2  # needs --out DIR


def test_out_in_a_missing_directory_is_one_clear_error(tmp_path):
    proc = chaosql("report", str(write(tmp_path, PASSING)), "--out", str(tmp_path / "no" / "r.html"), cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"chaosql: cannot write {tmp_path / 'no' / 'r.html'}: No such file or directory"


def test_a_section_without_timeout_does_not_inherit_the_previous_one(tmp_path):
    report = write(
        tmp_path,
        """
title = "Timeouts"
[[query]]
title = "Quick"
sql = "SELECT 1 AS one"
timeout = 0.2
[[query]]
title = "Takes a second"
sql = "SELECT count(*) AS n FROM range(40000000) t WHERE hash(t.range * 3) % 7 = 3"
""",
    )
    proc = chaosql("report", str(report), "--format", "json", "--source", "demo", cwd=tmp_path)
    quick, long = json.loads(proc.stdout)["sections"]
    assert long["status"] == "ok", proc.stdout + proc.stderr  # it did not inherit the 0.2 s
    # on a busy machine even SELECT 1 may take 0.2 s (opening the session's catalog): that is not the point
    assert quick["status"] in ("ok", "source-failed") and proc.returncode in (0, 4), proc.stderr
