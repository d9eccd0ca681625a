"""Big writes ask first: y/N in the REPL on a real terminal, --yes for the one-shot CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pexpect

INSERT_3 = "INSERT INTO experiments (cluster, namespace, name, kind, action, mode, selector) VALUES " + ", ".join(
    f"""('c1', 'shop', 'k{i}', 'PodChaos', 'pod-kill', 'one', '{{"namespaces": ["shop"]}}')""" for i in range(3)
)


def env_for(tmp_path: Path) -> dict:
    return {
        **os.environ,
        "XDG_DATA_HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path),
        "CHAOSQL_CONFIG": "",
        "TERM": "xterm",
        "PYTHONUNBUFFERED": "1",
    }


def test_the_repl_asks_before_a_big_write(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    child = pexpect.spawn(
        sys.executable,
        ["-m", "chaosql", "repl", "--source", f"snapshot:{repo}", "--set", "confirm_rows=2"],
        env=env_for(tmp_path),
        encoding="utf-8",
        timeout=60,
        dimensions=(40, 200),
    )
    child.expect("chaosql>")
    child.send(INSERT_3 + ";\r")
    child.expect(r"INSERT touches 3 experiments rows \(more than chaosql.confirm_rows = 2\)\. Go ahead\? \[y/N\]")
    child.send("n\r")
    child.expect("not confirmed; nothing was written")
    child.expect("chaosql>")
    assert not list(repo.rglob("*.yaml"))
    child.send(INSERT_3 + ";\r")
    child.expect(r"\[y/N\]")
    child.send("y\r")
    child.expect("INSERT 0 3")
    child.expect("chaosql>")
    child.send("\\q\r")
    child.expect(pexpect.EOF)
    assert len(list(repo.rglob("*.yaml"))) == 3


def test_the_cli_needs_yes_for_a_big_write(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    base = [sys.executable, "-m", "chaosql", "query", "--source", f"snapshot:{repo}", "--set", "confirm_rows=2"]
    refused = subprocess.run(base + [INSERT_3], env=env_for(tmp_path), capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1
    assert "touches 3 rows, more than chaosql.confirm_rows = 2; pass --yes" in refused.stderr
    assert not list(repo.rglob("*.yaml"))
    done = subprocess.run(base + ["--yes", INSERT_3], env=env_for(tmp_path), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "INSERT 0 3"
    assert len(list(repo.rglob("*.yaml"))) == 3
