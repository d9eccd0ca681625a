"""The typed chaos tables (network_chaos, pod_chaos, ..., *_schedules, *_templates): generated from the
CRD schemas chaosql ships, read like the JSON spec says, written back to the same objects, and every
write checked offline against the schema and Chaos Mesh's webhook rules.

The expectations here are written from the manifest itself (parsed with PyYAML, never through
chaosql's compact schema) and from the rules in docs/tables.md, not from the generator's code.
"""

from __future__ import annotations

import json
import re
import shutil
from functools import cache
from pathlib import Path

import pytest
import yaml

from chaosql.crds import MANIFESTS, chaos_mesh_crds, chaos_mesh_examples, schema_file, schemas
from chaosql.crds.chaos_mesh import DURATION, FLOAT_STRING, PERCENT_STRING, field_formats
from chaosql.errors import WriteRefused

GROUP = "chaos-mesh.org"
#: columns every typed experiment table has before the spec columns (the experiments table's own)
COMMON = {"cluster", "namespace", "name", "uid", "paused", "desired_phase", "phase", "created_at", "deleted_at"}
COMMON |= {"ends_at", "target_count", "injected_count", "recovered_count", "schedule", "workflow", "labels"}
COMMON |= {"annotations", "spec", "status"}
#: what a spec field's column is never called (it gets spec_ in front), in all three tables of a kind
RESERVED = COMMON | {"active_count", "last_scheduled_at", "template", "deadline"}
INTERNAL = {"PodNetworkChaos", "PodIOChaos", "PodHttpChaos"}  # the controller's bookkeeping, not experiments


@cache
def manifest_crds(path: Path | None = None) -> dict[str, dict]:
    """kind -> the CRD object, straight from the shipped YAML (Chaos Mesh's unless ``path``)."""
    path = path or chaos_mesh_crds()
    docs = yaml.load_all(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return {d["spec"]["names"]["kind"]: d for d in docs if d and d.get("kind") == "CustomResourceDefinition"}


def spec_schema(crd: dict) -> dict:
    version = next(v for v in crd["spec"]["versions"] if v.get("storage"))
    return version["schema"]["openAPIV3Schema"]["properties"]["spec"]


def experiment_kinds() -> list[str]:
    return sorted(k for k in manifest_crds() if k.endswith("Chaos") and k not in INTERNAL)


def column_name(path: tuple[str, ...]) -> str:
    """delay.latency -> delay_latency; selector.labelSelectors -> selector_label_selectors."""
    parts = []
    for part in path:
        part = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", part)
        part = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", part)
        parts.append(re.sub(r"[^a-zA-Z0-9]+", "_", part).lower())
    return "_".join(parts)


SCALAR = {"string": "VARCHAR", "integer": "BIGINT", "number": "DOUBLE", "boolean": "BOOLEAN"}


def expected_leaves(schema: dict, formats: dict[str, str], path: tuple[str, ...] = ()):
    """(path, DuckDB type) of every leaf, by the rules docs/tables.md states."""
    if schema.get("type") == "object" and schema.get("properties"):
        for key, child in schema["properties"].items():
            yield from expected_leaves(child, formats, (*path, key))
        return
    fmt = formats.get(".".join(path))
    kind = schema.get("type")
    if schema.get("x-kubernetes-int-or-string"):
        yield path, "VARCHAR"
    elif kind == "string" and (fmt == DURATION or "(ns|us|ms|s|m|h)" in (schema.get("pattern") or "")):
        yield path, "INTERVAL"
    elif kind == "string" and fmt in (FLOAT_STRING, PERCENT_STRING):
        yield path, "DOUBLE"
    elif kind in SCALAR:
        yield path, SCALAR[kind]
    elif kind == "array" and (schema.get("items") or {}).get("type") in SCALAR:
        yield path, SCALAR[schema["items"]["type"]] + "[]"
    elif kind == "object" and (schema.get("additionalProperties") or {}).get("type") == "string":
        yield path, "MAP(VARCHAR, VARCHAR)"
    elif kind == "object" and ((schema.get("additionalProperties") or {}).get("items") or {}).get("type") == "string":
        yield path, "MAP(VARCHAR, VARCHAR[])"
    else:
        yield path, "JSON"


def table_of(name: str):
    from chaosql.tables import registry

    return registry()[name]


# --- generated, not hand-written ------------------------------------------------------------------


def test_compact_schema_files_hold_exactly_the_manifests_spec_schemas():
    from chaosql.crds.__main__ import main

    for manifest in MANIFESTS:
        crds = manifest_crds(schema_file(manifest).parent / "crd.yaml")
        loaded = schemas(manifest)
        assert set(loaded) == set(crds)
        for kind, crd in crds.items():
            assert loaded[kind].spec == spec_schema(crd), kind
            assert loaded[kind].plural == crd["spec"]["names"]["plural"]
    assert main(["--check"]) == 0  # python -m chaosql.crds would change nothing


def test_every_spec_leaf_of_every_experiment_crd_has_a_column_of_the_right_type():
    kinds = experiment_kinds()
    assert len(kinds) == 14  # the kinds of Chaos Mesh 2.8, each with three tables
    for kind in kinds:
        leaves = list(expected_leaves(spec_schema(manifest_crds()[kind]), field_formats(kind)))
        assert leaves, kind
        snake = column_name((kind,))
        for table_name in (snake, f"{snake}_schedules", f"{snake}_templates"):
            table = table_of(table_name)
            for path, duck_type in leaves:
                name = column_name(path)
                if name in RESERVED:
                    name = "spec_" + name  # a spec field named like a common column (PhysicalMachineChaos' uid)
                col = table.column(name)
                assert col is not None, f"{table_name}: no column for spec.{'.'.join(path)}"
                assert col.type == duck_type, f"{table_name}.{name}: {col.type}, expected {duck_type}"
                described = spec_path_schema(manifest_crds()[kind], path).get("description")
                if described:
                    assert " ".join(described.split())[:40] in col.doc, f"{table_name}.{name}"
                for value in spec_path_schema(manifest_crds()[kind], path).get("enum") or []:
                    assert str(value) in col.doc
        typed = {c.name for c in table_of(snake).columns} - COMMON
        assert len(typed) == len(leaves), kind  # nothing but the spec's leaves


def spec_path_schema(crd: dict, path: tuple[str, ...]) -> dict:
    node = spec_schema(crd)
    for key in path:
        node = node["properties"][key]
    return node


def test_the_headline_question_runs_and_matches_the_json_path_answer(demo_session):
    typed = demo_session.execute("SELECT avg(delay_latency) FROM network_chaos WHERE phase = 'running'").scalar()
    raw = demo_session.execute(
        "SELECT spec->>'$.delay.latency' FROM experiments WHERE kind = 'NetworkChaos' AND phase = 'running'"
    ).rows()
    seconds = [go_seconds(r[0]) for r in raw if r[0] is not None]
    assert seconds
    assert interval_seconds(typed) == pytest.approx(sum(seconds) / len(seconds), abs=1e-6)


def interval_seconds(value) -> float:
    """An INTERVAL as a result holds it (Arrow's MonthDayNano) in seconds."""
    assert type(value).__name__ == "MonthDayNano" and value.months == 0, value
    return value.days * 86400 + value.nanoseconds / 1e9


def go_seconds(text: str) -> float:
    units = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)", text)
    assert "".join(a + b for a, b in parts) == text, text
    return sum(float(a) * units[b] for a, b in parts)


@pytest.mark.parametrize("kind", ["NetworkChaos", "StressChaos", "PodChaos", "IOChaos", "HTTPChaos", "JVMChaos"])
def test_typed_reads_equal_the_json_path_answers(demo_session, kind):
    table = column_name((kind,))
    leaves = list(expected_leaves(spec_schema(manifest_crds()[kind]), field_formats(kind)))
    typed = {
        (r["cluster"], r["namespace"], r["name"]): r for r in demo_session.execute(f"SELECT * FROM {table}").dicts()
    }
    raw = demo_session.execute(f"SELECT cluster, namespace, name, spec FROM experiments WHERE kind = '{kind}'").rows()
    assert typed and len(typed) == len(raw)
    checked = 0
    for cluster, namespace, name, spec in raw:
        row = typed[(cluster, namespace, name)]
        spec = json.loads(spec)
        for path, duck_type in leaves:
            value = spec
            for key in path:
                value = value.get(key) if isinstance(value, dict) else None
            column = column_name(path)
            got = row["spec_" + column if column in RESERVED else column]
            if value is None:
                assert got is None, (name, column)
                continue
            checked += 1
            if duck_type == "INTERVAL":
                assert interval_seconds(got) == pytest.approx(go_seconds(value)), (name, column)
            elif duck_type == "DOUBLE":
                assert got == float(value), (name, column)
            elif duck_type == "JSON":
                assert json.loads(got) == value, (name, column)
            elif duck_type.startswith("MAP"):
                assert dict(got) == value, (name, column)
            else:
                assert got == value, (name, column)
    assert checked > len(raw)  # every row had several parameters set


def test_schedule_and_workflow_templates_read_as_typed_columns(demo_session):
    rows = demo_session.execute(
        "SELECT s.name, s.schedule, s.action, s.delay_latency, s.spec->>'$.networkChaos.delay.latency' AS raw "
        "FROM network_chaos_schedules s"
    ).rows()
    assert rows
    for _name, schedule, action, latency, raw in rows:
        assert schedule and action
        assert (latency is None) == (raw is None)
        if raw is not None:
            assert interval_seconds(latency) == pytest.approx(go_seconds(raw))
    every = demo_session.execute("SELECT count(*) FROM schedules WHERE type = 'NetworkChaos'").scalar()
    assert every == len(rows)
    templates = demo_session.execute(
        "SELECT workflow, template, deadline, action FROM network_chaos_templates ORDER BY ALL"
    ).rows()
    raw = demo_session.execute("SELECT name, spec FROM workflows").rows()
    expected = sorted(
        (name, t["name"], t.get("deadline"), t["networkChaos"].get("action"))
        for name, spec in raw
        for t in json.loads(spec)["templates"]
        if t.get("templateType") == "NetworkChaos"
    )
    assert templates and len(templates) == len(expected)
    for got, want in zip(templates, expected):
        assert got[:2] == want[:2] and got[3] == want[3]
        assert (got[2] is None and want[2] is None) or interval_seconds(got[2]) == go_seconds(want[2])


def test_pushdown_works_as_for_experiments(demo_session):
    result = demo_session.execute("SELECT name FROM network_chaos WHERE cluster = 'prod-eu' AND namespace = 'auth'")
    assert result.rows() and result.pushdown["network_chaos"]
    assert "namespace" in result.pushdown["network_chaos"] and "cluster" in result.pushdown["network_chaos"]
    assert all("NetworkChaos" in call.what for call in result.calls)  # one kind listed, no other


def test_describe_information_schema_and_completion_carry_the_schema_docs(demo_session):
    described = {r[0]: r for r in demo_session.execute("DESCRIBE network_chaos").rows()}
    assert described["delay_latency"][1] == "INTERVAL"
    assert "Go duration" in described["delay_latency"][3]
    assert "One of: netem, delay, loss, duplicate, corrupt, partition, bandwidth." in described["action"][3]
    assert described["selector_namespaces"][1] == "VARCHAR[]"
    assert described["loss_loss"][1] == "DOUBLE"
    types = dict(
        demo_session.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'stress_chaos'"
        ).rows()
    )
    assert types["stressors_cpu_workers"] == "BIGINT" and types["duration"] == "INTERVAL"
    from chaosql.repl.app import Repl

    repl = Repl(demo_session)
    from chaosql.repl.completion import matches

    found = dict(matches(repl.catalog, "SELECT delay_lat FROM network_chaos", cursor=16))
    assert found["delay_latency"] == "network_chaos"
    shown = repl.catalog.display("delay_latency", "network_chaos")
    assert shown.startswith("network_chaos · INTERVAL: spec.delay.latency")


def test_docs_cover_every_typed_table():
    text = (Path(__file__).resolve().parent.parent / "docs" / "tables.md").read_text()
    for kind in experiment_kinds():
        name = column_name((kind,))
        for table in (name, f"{name}_schedules", f"{name}_templates"):
            assert f"\n## {table}\n" in text
    assert "| `delay_latency` | INTERVAL |" in text


# --- round trips: row -> object -> row -----------------------------------------------------------


@pytest.fixture
def examples(tmp_path: Path) -> Path:
    """Chaos Mesh's shipped examples as a snapshot: cluster "orig", namespace default where unset."""
    root = tmp_path / "repo"
    (root / "orig").mkdir(parents=True)
    seen = set()
    for i, path in enumerate(sorted(chaos_mesh_examples().rglob("*.yaml"))):
        docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
        for doc in docs:
            meta = doc["metadata"]
            meta.setdefault("namespace", "default")
            if (doc["kind"], meta["namespace"], meta["name"]) in seen:  # two examples share a name
                meta["name"] += f"-{i}"
            seen.add((doc["kind"], meta["namespace"], meta["name"]))
        (root / "orig" / f"{i:02d}-{path.name}").write_text(yaml.safe_dump_all(docs))
    return root


def test_shipped_examples_round_trip_through_their_typed_tables(examples, snapshot_session):
    session = snapshot_session(examples)
    kinds = {o["kind"] for p in (examples / "orig").iterdir() for o in yaml.safe_load_all(p.read_text()) if o}
    tables = [column_name((k,)) for k in sorted(kinds) if k.endswith("Chaos")] + ["pod_chaos_schedules"]
    copied = 0
    for table in tables:
        from chaosql.writers.objects import writes_of

        accepted = set(writes_of(table_of(table)).columns()) - {"cluster", "spec"}
        writable = [c.name for c in table_of(table).columns if c.name in accepted]
        cols = ", ".join(writable)
        inserted = session.execute(
            f"INSERT INTO {table} (cluster, {cols}) SELECT 'copy', {cols} FROM {table} WHERE cluster = 'orig'"
        )
        copied += int(inserted.status.split()[-1])
        different = session.execute(
            f"(SELECT {cols} FROM {table} WHERE cluster = 'orig' EXCEPT SELECT {cols} FROM {table} WHERE cluster = 'copy')"
            f" UNION ALL (SELECT {cols} FROM {table} WHERE cluster = 'copy' EXCEPT "
            f"SELECT {cols} FROM {table} WHERE cluster = 'orig')"
        ).rows()
        assert different == [], table  # row -> object -> row: the same row
    assert copied == 16  # the 15 experiments and the schedule (the workflows are read-only here)
    for path in (examples / "copy").rglob("*.yaml"):
        (new,) = yaml.safe_load_all(path.read_text())
        old = next(
            o
            for p in (examples / "orig").iterdir()
            for o in yaml.safe_load_all(p.read_text())
            if o and o["kind"] == new["kind"] and o["metadata"]["name"] == new["metadata"]["name"]
        )
        assert normalized(new["spec"]) == normalized(old["spec"]), path.name  # nothing lost or changed


def normalized(value):
    """Go durations as seconds and number strings as floats: the forms a typed column keeps. An
    INTERVAL counts microseconds, so a duration keeps that precision (TimeChaos' example has -10m100ns)."""
    if isinstance(value, dict):
        return {k: normalized(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalized(v) for v in value]
    if isinstance(value, str) and re.fullmatch(r"-?(\d+(\.\d+)?(ns|us|ms|s|m|h))+", value):
        return ("duration", round((-1 if value[0] == "-" else 1) * go_seconds(value.lstrip("-")), 6))
    if isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?", value):
        return ("number", float(value))
    return value


# --- writes on a snapshot directory (GitOps) --------------------------------------------------


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "c1").mkdir()
    return tmp_path


def files(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


def test_typed_insert_writes_the_same_object_as_the_json_spec_form(repo, snapshot_session):
    session = snapshot_session(repo)
    session.execute("""
        INSERT INTO network_chaos (cluster, namespace, name, action, mode, selector_namespaces,
                                   selector_label_selectors, delay_latency, delay_jitter, delay_correlation, duration)
        VALUES ('c1', 'shop', 'typed', 'delay', 'all', ['shop'], MAP {'app': 'db'}, '100ms',
                INTERVAL '5 milliseconds', 25, INTERVAL 5 MINUTE)""")
    session.execute("""
        INSERT INTO experiments (cluster, namespace, name, kind, spec) VALUES ('c1', 'shop', 'json', 'NetworkChaos',
          '{"action": "delay", "mode": "all", "selector": {"namespaces": ["shop"], "labelSelectors": {"app": "db"}},
            "delay": {"latency": "100ms", "jitter": "5ms", "correlation": "25"}, "duration": "5m"}')""")
    typed = yaml.safe_load((repo / "c1" / "shop" / "networkchaos-typed.yaml").read_text())
    plain = yaml.safe_load((repo / "c1" / "shop" / "networkchaos-json.yaml").read_text())
    assert typed["spec"] == plain["spec"]
    assert {k: v for k, v in typed.items() if k != "metadata"} == {k: v for k, v in plain.items() if k != "metadata"}
    rows = session.execute(
        "SELECT name, delay_latency, delay_correlation, duration, selector_label_selectors['app'] AS app "
        "FROM network_chaos ORDER BY name"
    ).rows()
    assert [(r[0], interval_seconds(r[1]), r[2], interval_seconds(r[3]), r[4]) for r in rows] == [
        ("json", 0.1, 25.0, 300.0, "db"),
        ("typed", 0.1, 25.0, 300.0, "db"),
    ]


REFUSED = {
    # bad types
    "INSERT INTO network_chaos (namespace, name, action, mode, selector_namespaces, delay_latency, delay_reorder_gap) "
    "VALUES ('shop', 'x', 'delay', 'all', ['shop'], '1ms', 'abc')": "column delay_reorder_gap: expected an integer, got 'abc'",
    "INSERT INTO stress_chaos (namespace, name, mode, selector_namespaces, stressors_cpu_workers) "
    "VALUES ('shop', 'x', 'one', ['shop'], true)": "column stressors_cpu_workers: expected an integer, got True",
    # enums, with the allowed values
    "INSERT INTO network_chaos (namespace, name, action, mode, selector_namespaces) VALUES ('shop', 'x', 'delay', "
    "'sometimes', ['shop'])": "column mode: 'sometimes' is not allowed; one of: one, all, fixed, fixed-percent, random-max-percent",
    "INSERT INTO pod_chaos (namespace, name, action, mode, selector_namespaces) VALUES ('shop', 'x', 'pod-explode', "
    "'one', ['shop'])": "column action: 'pod-explode' is not allowed; one of: pod-kill, pod-failure, container-kill",
    # durations (the webhook's rule, the schema's pattern)
    "INSERT INTO network_chaos (namespace, name, action, mode, selector_namespaces, delay_latency, duration) "
    "VALUES ('shop', 'x', 'delay', 'all', ['shop'], '1ms', 'banana')": "column duration: 'banana' is not a duration",
    "INSERT INTO experiments (namespace, name, kind, action, mode, selector, duration, spec) VALUES ('shop', 'x', "
    "'NetworkChaos', 'delay', 'all', '{\"namespaces\": [\"shop\"]}', 'banana', '{\"delay\": {\"latency\": \"1ms\"}}')": "column duration: 'banana' is not a duration",
    "INSERT INTO experiments (namespace, name, kind, spec) VALUES ('shop', 'x', 'NetworkChaos', '{\"action\": "
    '"delay", "mode": "all", "selector": {"namespaces": ["shop"]}, "delay": {"latency": "1m30s"}}\')': "column spec: '1m30s' does not match the pattern",
    # required fields, and what an action needs
    "INSERT INTO network_chaos (namespace, name, mode, selector_namespaces) VALUES ('shop', 'x', 'all', ['shop'])": "column action is required",
    "INSERT INTO network_chaos (namespace, name, action, mode, selector_namespaces) VALUES ('shop', 'x', 'delay', "
    "'all', ['shop'])": "column delay_latency is required by action delay",
    "INSERT INTO pod_chaos (namespace, name, action, mode, selector_namespaces) VALUES ('shop', 'x', "
    "'container-kill', 'one', ['shop'])": "column container_names: action container-kill needs the names",
    # percentages in range, selectors not empty, stressors positive
    "INSERT INTO pod_chaos (namespace, name, action, mode, value, selector_namespaces) VALUES ('shop', 'x', "
    "'pod-kill', 'fixed-percent', '150', ['shop'])": "column value: mode fixed-percent needs a percent in (0, 100], got 150",
    "INSERT INTO pod_chaos (namespace, name, action, mode) VALUES ('shop', 'x', 'pod-kill', 'all')": "column selector_",
    "INSERT INTO experiments (namespace, name, kind, action, mode, selector) VALUES ('shop', 'x', 'PodChaos', "
    "'pod-kill', 'all', '{}')": "column selector: selects nothing explicitly",
    "INSERT INTO stress_chaos (namespace, name, mode, selector_namespaces, stressors_cpu_workers) "
    "VALUES ('shop', 'x', 'one', ['shop'], 0)": "column stressors_cpu_workers: workers should always be positive",
    # a schedule's cron and its template
    "INSERT INTO network_chaos_schedules (namespace, name, schedule, action, mode, selector_namespaces, loss_loss) "
    "VALUES ('shop', 's', 'every day', 'loss', 'all', ['shop'], 10)": "column schedule: 'every day' is not a schedule",
    "INSERT INTO network_chaos_schedules (namespace, name, schedule, action, mode, selector_namespaces, loss_loss, "
    "duration) VALUES ('shop', 's', '@daily', 'loss', 'all', ['shop'], 10, 'soon')": "column duration: 'soon' is not a duration",
    # an unknown field in a JSON spec would be dropped by the server: refused
    "INSERT INTO experiments (namespace, name, kind, action, mode, selector, spec) VALUES ('shop', 'x', 'PodChaos', "
    "'pod-kill', 'one', '{\"namespaces\": [\"shop\"]}', '{\"mdoe\": \"one\"}')": "column spec is not a field here (known: action, containerNames",
    # read-only tables say where to write instead
    "INSERT INTO network_chaos_templates (namespace, workflow) VALUES ('shop', 'w')": "network_chaos_templates is read-only",
}


def test_offline_validation_names_the_column_and_writes_nothing(repo, snapshot_session):
    session = snapshot_session(repo)
    before = files(repo)
    for sql, expected in REFUSED.items():
        with pytest.raises(WriteRefused) as refused:
            session.execute(sql)
        assert expected in str(refused.value), (sql, str(refused.value))
        assert "read-only" in expected or "row 1" in str(refused.value)
    assert files(repo) == before


def test_update_through_typed_columns(repo, snapshot_session):
    session = snapshot_session(repo)
    session.execute("""INSERT INTO network_chaos_schedules (cluster, namespace, name, schedule, history_limit,
                                                            action, mode, selector_namespaces, loss_loss, duration)
                       VALUES ('c1', 'shop', 'lossy', '@every 1h', 2, 'loss', 'all', ['shop'], 10, '2m')""")
    session.execute("""INSERT INTO network_chaos (cluster, namespace, name, action, mode, selector_namespaces,
                                                  delay_latency) VALUES ('c1', 'shop', 'd', 'delay', 'one', ['shop'], '1ms')""")
    stored = yaml.safe_load((repo / "c1" / "shop" / "schedule-lossy.yaml").read_text())
    assert stored["spec"] == {
        "networkChaos": {"action": "loss", "duration": "2m", "loss": {"loss": "10"}, "mode": "all",
                         "selector": {"namespaces": ["shop"]}},
        "historyLimit": 2,
        "schedule": "@every 1h",
        "type": "NetworkChaos",
    }  # fmt: skip
    changed = session.execute(
        "UPDATE network_chaos_schedules SET loss_loss = 25.5, duration = NULL, paused = true, "
        "labels = MAP {'team': 'net'} WHERE name = 'lossy' RETURNING loss_loss, duration, paused, labels['team']"
    )
    assert changed.rows() == [(25.5, None, True, "net")]
    stored = yaml.safe_load((repo / "c1" / "shop" / "schedule-lossy.yaml").read_text())
    assert (
        stored["spec"]["networkChaos"]["loss"] == {"loss": "25.5"} and "duration" not in stored["spec"]["networkChaos"]
    )
    with pytest.raises(WriteRefused, match="spec cannot change after creation .*SET delay_latency"):
        session.execute("UPDATE network_chaos SET delay_latency = '2ms' WHERE name = 'd'")
    with pytest.raises(WriteRefused, match="column mode: 'never' is not allowed"):
        session.execute("UPDATE network_chaos_schedules SET mode = 'never' WHERE name = 'lossy'")
    assert session.execute("UPDATE network_chaos SET paused = true WHERE name = 'd' RETURNING paused").scalar() is True


def test_an_update_is_not_refused_for_problems_the_object_already_had(repo, snapshot_session):
    (repo / "c1" / "old.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "chaos-mesh.org/v1alpha1",
                "kind": "NetworkChaos",
                "metadata": {"name": "old", "namespace": "shop"},
                "spec": {"action": "delay", "mode": "all", "selector": {}, "delay": {"latency": "1ms"}},
            }
        )
    )
    session = snapshot_session(repo)
    assert session.execute("UPDATE network_chaos SET paused = true WHERE name = 'old'").status == "UPDATE 1"


def test_interval_and_list_columns_over_arrow_and_duckdb(demo_session):
    row = demo_session.execute(
        "SELECT delay_latency, epoch(delay_latency) AS s, selector_namespaces, typeof(selector_pods) AS t "
        "FROM network_chaos WHERE delay_latency IS NOT NULL ORDER BY delay_latency DESC LIMIT 1"
    ).dicts()[0]
    assert row["s"] == interval_seconds(row["delay_latency"]) > 0
    assert isinstance(row["selector_namespaces"], list) and row["t"] == "MAP(VARCHAR, VARCHAR[])"


def test_objects_without_a_namespace_are_read_too(tmp_path, snapshot_session):
    shutil.copytree(chaos_mesh_examples(), tmp_path / "x" / "c1")
    assert snapshot_session(tmp_path / "x").execute("SELECT count(*) FROM dns_chaos").scalar() == 1
