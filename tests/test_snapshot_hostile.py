"""Snapshot files that would hang, exhaust or crash a reader: each is refused or skipped with one
line naming the file (and the field), quickly and in bounded memory, by the real command line."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

GOOD = """\
apiVersion: chaos-mesh.org/v1alpha1
kind: PodChaos
metadata: {name: good, namespace: shop, creationTimestamp: "2026-11-20T10:00:00Z"}
spec: {action: pod-kill, mode: one, selector: {namespaces: [shop]}}
"""
HEAD = "apiVersion: chaos-mesh.org/v1alpha1\nkind: PodChaos\n"
BOMB = (
    HEAD
    + "metadata: {name: bomb, namespace: shop}\nspec:\n  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    + "".join(f"  {b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi"))
)


# The peak is VmHWM, not ru_maxrss: Linux carries ru_maxrss across execve, so a child forked from a
# large pytest process would report pytest's size, not its own.
MEASURED = (
    "import re, sys\nfrom chaosql.cli import main\ncode = main(sys.argv[1:])\n"
    "peak = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)\n"
    "sys.stderr.write(f'peak_kb={peak}')\nsys.exit(code)"
)


def chaosql(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "CHAOSQL_CONFIG": "", "XDG_CONFIG_HOME": "/nonexistent"}
    return subprocess.run(
        [sys.executable, "-m", "chaosql", *args], capture_output=True, text=True, env=env, timeout=timeout
    )


def snapshot(tmp_path: Path, **files: str) -> Path:
    root = tmp_path / "snap"
    (root / "lab").mkdir(parents=True)
    (root / "lab" / "good.yaml").write_text(GOOD)
    for name, text in files.items():
        (root / "lab" / name.replace("__", ".")).write_text(text)
    return root


def query(root: Path, sql: str = "SELECT name, spec FROM experiments ORDER BY name", **kw):
    return chaosql("--source", f"snapshot:{root}", "--set", "timeout=60", "-c", sql, "-F", "csv", **kw)


@pytest.mark.parametrize(
    "text,message",
    [
        ("apiVersion: v1\nkind: 5\nmetadata: {name: x}\n", "kind must be a string, not 5"),
        ("apiVersion: v1\nkind: List\nitems: 5\n", "a List's items must be a list, not int"),
        (HEAD + "metadata: {name: x, namespace: [a, b]}\n", "PodChaos x: metadata.namespace must be a string"),
        (HEAD + "metadata: {name: 12, namespace: shop}\n", "metadata.name must be a non-empty string, not 12"),
        (HEAD + "metadata: {name: x, labels: {tier: 1}}\n", "metadata.labels must be a mapping of strings to strings"),
        (
            HEAD + "metadata: {name: x, creationTimestamp: yesterday}\n",
            "metadata.creationTimestamp must be an RFC 3339",
        ),
        (HEAD + "metadata: {name: x}\nspec: 5\n", "PodChaos x: spec must be a mapping, not 5"),
        (
            HEAD + "metadata: {name: x}\nstatus: {experiment: {containerRecords: [{injectedCount: '3'}]}}\n",
            "status.experiment.containerRecords[0].injectedCount must be an integer, not '3'",
        ),
        (
            HEAD + "metadata: {name: x}\nstatus: {experiment: {containerRecords: 5}}\n",
            "status.experiment.containerRecords must be a list of mappings, not 5",
        ),
        ("apiVersion: v1\nkind: Event\nmetadata: {name: e}\ncount: many\n", "Event e: count must be an integer"),
    ],
)
def test_wrongly_typed_fields_are_named_with_their_file(tmp_path, text, message):
    root = snapshot(tmp_path, bad__yaml=text)
    run = query(root)
    assert run.returncode == 1, run.stderr
    assert message in run.stderr and str(root / "lab" / "bad.yaml") in run.stderr, run.stderr
    assert "internal error" not in run.stderr and len(run.stderr.strip().splitlines()) == 1


def test_an_unquoted_yaml_time_is_read_as_the_api_writes_it(tmp_path):
    root = snapshot(
        tmp_path, t__yaml=HEAD + "metadata: {name: t, namespace: shop, creationTimestamp: 2026-11-20 10:00:00+02:00}\n"
    )
    run = query(root, "SELECT name, created_at FROM experiments ORDER BY name")
    assert run.returncode == 0 and "t,2026-11-20 08:00:00Z" in run.stdout, run.stderr


def test_fifo_and_device_files_are_skipped_not_read(tmp_path):
    root = snapshot(tmp_path)
    os.mkfifo(root / "top.yaml")  # at the top of the directory (the cluster named after the source)
    os.mkfifo(root / "lab" / "pipe.json")
    os.symlink("/dev/zero", root / "zero.json")
    os.symlink("/dev/zero", root / "lab" / "zero.yaml")
    started = time.monotonic()
    run = query(root, timeout=60)
    assert run.returncode == 0 and run.stdout.splitlines()[1].startswith("good,"), run.stderr
    assert time.monotonic() - started < 30
    assert "skipped 4 files that are not regular files" in run.stderr
    run = chaosql("--source", f"snapshot:{root / 'top.yaml'}", "-c", "SELECT * FROM experiments", timeout=60)
    assert run.returncode == 1 and "is not a regular file or a directory" in run.stderr


def test_an_alias_bomb_is_refused_quickly_in_bounded_memory(tmp_path):
    """1 KB of YAML that expands to 387 million strings: refused in seconds, not 104 s and 4.7 GB."""
    root = snapshot(tmp_path, bomb__yaml=BOMB)
    assert len(BOMB) < 1500
    started = time.monotonic()
    env = {**os.environ, "CHAOSQL_CONFIG": "", "XDG_CONFIG_HOME": "/nonexistent"}
    run = subprocess.run(  # the command line, reporting its own peak memory afterwards
        [sys.executable, "-c", MEASURED, "--source", f"snapshot:{root}", "-c", "SELECT name, spec FROM experiments"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    elapsed = time.monotonic() - started
    peak_mb = int(run.stderr.rsplit("peak_kb=", 1)[1]) / 1024
    assert run.returncode == 1 and "YAML aliases expand to more than 1000000 values" in run.stderr, run.stderr
    assert "bomb.yaml" in run.stderr
    assert elapsed < 30 and peak_mb < 600, (elapsed, peak_mb)


def test_anchors_and_aliases_in_moderation_are_fine(tmp_path):
    text = (
        HEAD + "metadata: {name: x, namespace: shop, labels: &l {team: sre}}\nspec: {selector: {labelSelectors: *l}}\n"
    )
    root = snapshot(tmp_path, alias__yaml=text)
    run = query(root, "SELECT name, spec->>'$.selector.labelSelectors.team' AS team FROM experiments ORDER BY name")
    assert run.returncode == 0 and "x,sre" in run.stdout, run.stderr


def test_a_self_referring_alias_is_refused(tmp_path):
    root = snapshot(tmp_path, loop__yaml=HEAD + "metadata: {name: x}\nspec: &s {self: *s}\n")
    run = query(root)
    assert run.returncode == 1 and "a YAML alias refers to the value that contains it" in run.stderr


@pytest.mark.parametrize("style", ["flow", "block"])
def test_deep_yaml_is_refused_before_libyaml_crashes(tmp_path, style):
    """libyaml's composer recurses in C: 40,000 levels used to kill the process (SIGSEGV)."""
    if style == "flow":
        spec = "spec: {a: " + "[" * 40_000 + "]" * 40_000 + "}\n"
    else:  # a sequence in a sequence ..., one more space of indentation each
        spec = "spec:\n" + "".join(" " * i + "-\n" for i in range(1, 1200))
    root = snapshot(tmp_path, deep__yaml=HEAD + "metadata: {name: x}\n" + spec)
    run = query(root)
    assert run.returncode == 1, (run.returncode, run.stderr[-300:])  # not -11
    assert "nested 1000 or more levels deep" in run.stderr and "deep.yaml" in run.stderr


def test_deep_json_is_read_or_refused_with_its_file(tmp_path):
    def deep(n: int) -> str:
        return (
            '{"apiVersion": "chaos-mesh.org/v1alpha1", "kind": "PodChaos", "metadata": {"name": "d"}, "spec": '
            + '{"a":' * n
            + "1"
            + "}" * n
            + "}"
        )

    root = snapshot(tmp_path, deep__json=deep(2000))
    run = query(root, "SELECT name, spec->>'$.a.a.a' IS NOT NULL AS nested FROM experiments ORDER BY name")
    assert run.returncode == 0 and "d,true" in run.stdout, run.stderr
    (root / "lab" / "deep.json").write_text(deep(200_000))
    run = query(root)
    assert run.returncode == 1 and "deep.json: JSON nested too deeply to read" in run.stderr, run.stderr


def test_files_over_the_size_bound_and_not_utf8_are_refused(tmp_path):
    from chaosql.errors import SourceError
    from chaosql.sources import manifests

    big = tmp_path / "big.yaml"
    big.write_text(GOOD + "# " + "x" * 4096 + "\n")
    with pytest.raises(SourceError) as info:
        manifests.read_text(big, "lab", max_bytes=1024)
    assert "more than the 1024 a snapshot file may have" in str(info.value) and "big.yaml" in str(info.value)
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"kind: Pod\nmetadata: {name: caf\xe9}\n")
    with pytest.raises(SourceError) as info:
        manifests.read_text(bad, "lab")
    assert "not UTF-8 text (byte 30)" in str(info.value)
