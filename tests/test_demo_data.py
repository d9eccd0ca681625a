"""The demo data shipped in ``chaosql/demo``: valid, reproducible, big enough and consistent.

Everything here reads the JSON files directly (never through chaosql), so these tests also pin the
facts the table tests rely on. The phase rule is re-implemented from Chaos Mesh's
``pkg/status.GetChaosStatus`` and ``controllers/utils/controller.IsChaosFinished``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "chaosql" / "demo"
SCRIPT = REPO / "scripts" / "gen_demo.py"
CLUSTERS = ("prod-eu", "staging-us")
NOW = dt.datetime(2026, 11, 20, 12, 0, 0, tzinfo=dt.UTC)
GROUP = "chaos-mesh.org/v1alpha1"

EXPERIMENT_FILES = {
    "podchaos": "PodChaos",
    "networkchaos": "NetworkChaos",
    "stresschaos": "StressChaos",
    "iochaos": "IOChaos",
    "timechaos": "TimeChaos",
    "dnschaos": "DNSChaos",
    "httpchaos": "HTTPChaos",
    "jvmchaos": "JVMChaos",
    "physicalmachinechaos": "PhysicalMachineChaos",
    "blockchaos": "BlockChaos",
    "kernelchaos": "KernelChaos",
    "awschaos": "AWSChaos",
}
REQUIRED_KINDS = (
    "PodChaos",
    "NetworkChaos",
    "StressChaos",
    "IOChaos",
    "TimeChaos",
    "DNSChaos",
    "HTTPChaos",
    "JVMChaos",
    "PhysicalMachineChaos",
)
OTHER_FILES = {
    "schedules": "Schedule",
    "workflows": "Workflow",
    "workflownodes": "WorkflowNode",
    "physicalmachines": "PhysicalMachine",
    "nodes": "Node",
    "pods": "Pod",
    "events": "Event",
}
PHASES = ("deleting", "paused", "finished", "running", "injecting")
POD_LEVEL = {"NetworkChaos", "HTTPChaos", "KernelChaos"}
CONTAINER_LEVEL = {"StressChaos", "IOChaos", "TimeChaos", "DNSChaos", "JVMChaos"}


# ---------------------------------------------------------------------------------------------
# loading
# ---------------------------------------------------------------------------------------------


@cache
def load(cluster: str, resource: str) -> list[dict]:
    doc = json.loads((DEMO / cluster / f"{resource}.json").read_text(encoding="utf-8"))
    assert doc["apiVersion"] == "v1" and doc["kind"] == "List", resource
    return doc["items"]


def experiments(cluster: str) -> list[dict]:
    return [o for res in EXPERIMENT_FILES for o in load(cluster, res)]


def chaos_mesh_objects(cluster: str) -> list[dict]:
    extra = [o for res in ("schedules", "workflows", "workflownodes", "physicalmachines") for o in load(cluster, res)]
    return experiments(cluster) + extra


def parse_time(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)


_GO_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNIT = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def go_duration(text: str) -> dt.timedelta:
    parts = _GO_DURATION.findall(text)
    assert parts and "".join(a + b for a, b in parts) == text, f"not a Go duration: {text!r}"
    return dt.timedelta(seconds=sum(float(a) * _UNIT[b] for a, b in parts))


# ---------------------------------------------------------------------------------------------
# phase, re-derived from the object the way Chaos Mesh does it
# ---------------------------------------------------------------------------------------------


def is_one_shot(obj: dict) -> bool:
    kind, action = obj["kind"], obj["spec"].get("action")
    return (
        (kind == "PodChaos" and action in ("pod-kill", "container-kill"))
        or (kind == "AWSChaos" and action == "ec2-restart")
        or (kind == "AzureChaos" and action == "vm-restart")
        or (kind == "GCPChaos" and action == "node-reset")
    )


def is_finished(obj: dict, now: dt.datetime = NOW) -> bool:
    experiment = obj["status"]["experiment"]
    records = experiment.get("containerRecords") or []
    if is_one_shot(obj):
        return bool(records) and all(r["phase"] == "Injected" for r in records)
    if experiment.get("desiredPhase") == "Run":
        return False
    if any(r["phase"] != "Not Injected" for r in records):
        return False
    duration = obj["spec"].get("duration")
    if not duration:
        return False
    return parse_time(obj["metadata"]["creationTimestamp"]) + go_duration(duration) < now


def phase(obj: dict, now: dt.datetime = NOW) -> str:
    if obj["metadata"].get("deletionTimestamp"):
        return "deleting"
    true = {c["type"] for c in obj["status"].get("conditions", []) if c["status"] == "True"}
    if "Paused" in true:
        return "paused"
    if is_finished(obj, now):
        return "finished"
    if {"Selected", "AllInjected"} <= true:
        return "running"
    return "injecting"


# ---------------------------------------------------------------------------------------------
# (a) every chaos-mesh.org object validates against its CRD's openAPIV3Schema
# ---------------------------------------------------------------------------------------------


def openapi_to_jsonschema(node):
    """Turn a CRD's OpenAPI v3 (structural) schema into a strict JSON Schema (draft 7).

    - ``nullable: true`` also allows ``null``;
    - ``x-kubernetes-int-or-string`` accepts an integer or a string;
    - ``exclusiveMinimum``/``exclusiveMaximum`` are OpenAPI 3.0 booleans, draft 7 wants numbers;
    - ``x-kubernetes-list-type: set`` means unique items;
    - an object with ``properties`` but no ``additionalProperties`` and no
      ``x-kubernetes-preserve-unknown-fields`` rejects unknown fields (the apiserver would prune
      them silently, so generated data with such fields would not survive a round trip);
    - other ``x-kubernetes-*`` extensions, ``description`` and ``default`` are dropped.
    """
    if isinstance(node, list):
        return [openapi_to_jsonschema(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key in ("description", "default", "nullable") or key.startswith("x-kubernetes-"):
            continue
        if key == "properties":
            out[key] = {k: openapi_to_jsonschema(v) for k, v in value.items()}
        elif key in ("items", "additionalProperties", "not") or key in ("allOf", "anyOf", "oneOf"):
            out[key] = openapi_to_jsonschema(value)
        elif key in ("exclusiveMinimum", "exclusiveMaximum") and isinstance(value, bool):
            continue
        else:
            out[key] = value
    for excl, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if node.get(excl) is True and bound in node:
            out[excl] = out.pop(bound)
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if node.get("x-kubernetes-list-type") == "set":
        out["uniqueItems"] = True
    if (
        "properties" in node
        and "additionalProperties" not in node
        and not node.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    if node.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"] if isinstance(out["type"], str) else [*out["type"], "null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    return out


@cache
def crd_validators() -> dict:
    import jsonschema  # a test dependency (pip install -e '.[test]')
    import yaml

    from chaosql.crds import chaos_mesh_crds

    crd_path = chaos_mesh_crds()
    date_time = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
    checker = jsonschema.FormatChecker(formats=())
    checker.checks("date-time")(lambda v: not isinstance(v, str) or bool(date_time.match(v)))
    checker.checks("int32")(lambda v: not isinstance(v, int) or -(2**31) <= v < 2**31)
    checker.checks("int64")(lambda v: not isinstance(v, int) or -(2**63) <= v < 2**63)
    validators = {}
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: 3 MB of CRDs in 1 s, not 7
    with crd_path.open(encoding="utf-8") as fh:
        for crd in yaml.load_all(fh, Loader=loader):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            kind = crd["spec"]["names"]["kind"]
            for version in crd["spec"]["versions"]:
                schema = openapi_to_jsonschema(version["schema"]["openAPIV3Schema"])
                jsonschema.Draft7Validator.check_schema(schema)
                api = f"{crd['spec']['group']}/{version['name']}"
                validators[(api, kind)] = jsonschema.Draft7Validator(schema, format_checker=checker)
    return validators


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_chaos_objects_validate_against_crds(cluster):
    validators = crd_validators()
    problems = []
    objects = chaos_mesh_objects(cluster)
    assert objects
    for obj in objects:
        validator = validators.get((obj["apiVersion"], obj["kind"]))
        assert validator is not None, f"no CRD for {obj['apiVersion']} {obj['kind']}"
        for err in validator.iter_errors(obj):
            path = "/".join(str(p) for p in err.absolute_path)
            problems.append(
                f"{obj['kind']} {obj['metadata']['namespace']}/{obj['metadata']['name']}: {path}: {err.message}"
            )
    assert not problems, "\n".join(problems[:30])


def test_schema_conversion_is_strict():
    """The converted schema rejects what the apiserver would reject or prune."""
    validators = crd_validators()
    v = validators[(GROUP, "PodChaos")]
    good = {
        "apiVersion": GROUP,
        "kind": "PodChaos",
        "metadata": {"name": "x"},
        "spec": {"action": "pod-kill", "mode": "one", "selector": {"namespaces": ["a"]}},
    }
    assert not list(v.iter_errors(good))
    assert list(v.iter_errors({**good, "spec": {**good["spec"], "action": "pod-explode"}}))
    assert list(v.iter_errors({**good, "spec": {**good["spec"], "mdoe": "one"}}))
    assert list(v.iter_errors({**good, "spec": {"action": "pod-kill", "selector": {}}}))
    s = validators[(GROUP, "Schedule")]
    sched = {
        "apiVersion": GROUP,
        "kind": "Schedule",
        "metadata": {"name": "s"},
        "spec": {"schedule": "@every 1h", "type": "PodChaos"},
        "status": {"time": None},
    }
    assert not list(s.iter_errors(sched))
    assert list(s.iter_errors({**sched, "spec": {**sched["spec"], "startingDeadlineSeconds": 0}}))


# ---------------------------------------------------------------------------------------------
# (b) the shipped files are exactly what the script generates
# ---------------------------------------------------------------------------------------------


def test_shipped_files_match_generator(tmp_path):
    out = tmp_path / "demo"
    subprocess.run([sys.executable, str(SCRIPT), "--out", str(out), "--quiet"], check=True, cwd=REPO)
    shipped = sorted(
        p.relative_to(DEMO).as_posix() for p in DEMO.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    )
    generated = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert shipped == generated
    different = [f for f in generated if (DEMO / f).read_bytes() != (out / f).read_bytes()]
    assert not different, f"regenerate with `python scripts/gen_demo.py`: {different}"


def test_no_events_changes_nothing_else(tmp_path):
    out = tmp_path / "quiet"
    subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out), "--quiet", "--no-events", "--no-readme"], check=True, cwd=REPO
    )
    for cluster in CLUSTERS:
        for f in (out / cluster).iterdir():
            if f.name == "events.json":
                assert json.loads(f.read_text())["items"] == []
            else:
                assert f.read_bytes() == (DEMO / cluster / f.name).read_bytes(), f.name


def test_readme_states_fixed_now():
    text = (DEMO / "README.md").read_text(encoding="utf-8")
    assert "2026-11-20T12:00:00Z" in text


def test_generator_options(tmp_path):
    out = tmp_path / "big"
    subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--out",
            str(out),
            "--quiet",
            "--seed",
            "7",
            "--experiments",
            "1500",
            "--namespaces",
            "7",
            "--no-readme",
        ],
        check=True,
        cwd=REPO,
    )
    total = 0
    for cluster in CLUSTERS:
        for res in EXPERIMENT_FILES:
            total += len(json.loads((out / cluster / f"{res}.json").read_text())["items"])
        namespaces = {
            p["metadata"]["namespace"] for p in json.loads((out / cluster / "pods.json").read_text())["items"]
        }
        assert len(namespaces - {"chaos-mesh"}) == 7
    assert total == 1500
    assert not (out / "README.md").exists()


# ---------------------------------------------------------------------------------------------
# (c) sizes and phases
# ---------------------------------------------------------------------------------------------


def test_minimum_counts():
    totals = Counter()
    for cluster in CLUSTERS:
        exps = experiments(cluster)
        kinds = Counter(o["kind"] for o in exps)
        for kind in REQUIRED_KINDS:
            assert kinds[kind] >= 1, f"{cluster}: no {kind}"
        totals["experiments"] += len(exps)
        for res in OTHER_FILES:
            totals[res] += len(load(cluster, res))
        namespaces = {o["metadata"]["namespace"] for o in load(cluster, "pods")}
        assert len(namespaces) >= 6, namespaces  # 5 application namespaces + chaos-mesh
        assert len({o["metadata"]["namespace"] for o in exps}) >= 5
        serial = [
            w for w in load(cluster, "workflows") if any(t["templateType"] == "Serial" for t in w["spec"]["templates"])
        ]
        parallel = [
            w
            for w in load(cluster, "workflows")
            if any(t["templateType"] == "Parallel" for t in w["spec"]["templates"])
        ]
        assert serial and parallel
        assert load(cluster, "schedules") and load(cluster, "physicalmachines")
    assert totals["experiments"] >= 300
    assert totals["nodes"] >= 20
    assert totals["pods"] >= 200
    assert totals["events"] >= 1000
    total_bytes = sum(p.stat().st_size for p in DEMO.rglob("*.json"))
    assert total_bytes < 4_000_000, total_bytes


def test_time_window():
    start = NOW - dt.timedelta(days=15)
    for cluster in CLUSTERS:
        created = [parse_time(o["metadata"]["creationTimestamp"]) for o in experiments(cluster)]
        assert min(created) >= start and max(created) <= NOW
        assert max(created) - min(created) >= dt.timedelta(days=12)
        for ev in load(cluster, "events"):
            assert parse_time(ev["firstTimestamp"]) <= NOW
            assert ev["eventTime"] is None and ev["count"] >= 1


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_every_phase_in_every_cluster(cluster):
    phases = Counter(phase(o) for o in experiments(cluster))
    for p in PHASES:
        assert phases[p] >= 2, f"{cluster}: {dict(phases)}"


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_phases_do_not_age(cluster):
    """Evaluated with the wall clock (any time after the fixed now), every phase stays the same."""
    for obj in experiments(cluster):
        assert phase(obj, NOW + dt.timedelta(days=3650)) == phase(obj), obj["metadata"]["name"]


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_status_is_consistent(cluster):
    """Conditions follow the records the way controllers/common/condition derives them."""
    for obj in experiments(cluster):
        name = f"{obj['kind']} {obj['metadata']['namespace']}/{obj['metadata']['name']}"
        md, status = obj["metadata"], obj["status"]
        records = status["experiment"].get("containerRecords")
        cond = {c["type"]: c["status"] for c in status["conditions"]}
        assert set(cond) == {"Selected", "AllInjected", "AllRecovered", "Paused"}, name
        assert cond["Selected"] == ("True" if records else "False"), name
        assert cond["AllInjected"] == (
            "True" if records and all(r["phase"] == "Injected" for r in records) else "False"
        ), name
        assert cond["AllRecovered"] == (
            "True" if records and all(r["phase"] == "Not Injected" for r in records) else "False"
        ), name
        paused = md.get("annotations", {}).get("experiment.chaos-mesh.org/pause") == "true"
        assert cond["Paused"] == ("True" if paused else "False"), name
        assert md["finalizers"] == ["chaos-mesh/records"], name
        desired = status["experiment"]["desiredPhase"]
        if md.get("deletionTimestamp"):
            assert desired == "Stop", name
        elif is_one_shot(obj):
            assert desired == "Run", name  # the desiredphase controller never stops a one-shot
        for r in records or []:
            assert r["phase"] in ("Injected", "Not Injected"), name
            assert r["injectedCount"] >= r["recoveredCount"] >= 0, name
            for e in r.get("events", []):
                assert e["type"] in ("Succeeded", "Failed") and e["operation"] in ("Apply", "Recover"), name
                assert parse_time(e["timestamp"]) >= parse_time(md["creationTimestamp"]), name
        if phase(obj) == "running":
            assert desired == "Run", name
            if obj["spec"].get("duration"):
                assert parse_time(md["creationTimestamp"]) + go_duration(obj["spec"]["duration"]) > NOW, name


def test_injecting_has_both_flavours():
    for cluster in CLUSTERS:
        injecting = [o for o in experiments(cluster) if phase(o) == "injecting"]
        not_selected = [o for o in injecting if not o["status"]["experiment"].get("containerRecords")]
        failing = [
            o
            for o in injecting
            if any(
                e["type"] == "Failed"
                for r in o["status"]["experiment"].get("containerRecords", [])
                for e in r.get("events", [])
            )
        ]
        assert not_selected and failing, cluster


# ---------------------------------------------------------------------------------------------
# (d) references resolve: records, owners, events, pods on nodes
# ---------------------------------------------------------------------------------------------


def _pods(cluster):
    return {(p["metadata"]["namespace"], p["metadata"]["name"]): p for p in load(cluster, "pods")}


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_record_ids_point_at_targets(cluster):
    pods = _pods(cluster)
    machines = load(cluster, "physicalmachines")
    by_name = {(m["metadata"]["namespace"], m["metadata"]["name"]) for m in machines}
    addresses = {m["spec"]["address"] for m in machines}
    nodes = load(cluster, "nodes")
    instances = {n["spec"]["providerID"].rsplit("/", 1)[1] for n in nodes}
    seen = Counter()
    for obj in experiments(cluster):
        kind, spec = obj["kind"], obj["spec"]
        for r in obj["status"]["experiment"].get("containerRecords", []):
            rid = r["id"]
            where = f"{kind} {obj['metadata']['name']}: {rid}"
            if kind == "PhysicalMachineChaos":
                if spec.get("address"):
                    assert rid in addresses, where
                else:
                    ns, name = rid.split("/")
                    assert (ns, name) in by_name, where
                seen["machine"] += 1
                continue
            if kind == "AWSChaos":
                assert json.loads(rid)["ec2Instance"] in instances, where
                continue
            parts = rid.split("/")
            pod = pods.get((parts[0], parts[1]))
            assert pod is not None, where
            assert pod["metadata"]["namespace"] != "chaos-mesh", where
            containers = [c["name"] for c in pod["spec"]["containers"]]
            if kind in POD_LEVEL or (kind == "PodChaos" and spec["action"] != "container-kill"):
                assert len(parts) == 2, where
                seen["pod"] += 1
            elif kind == "BlockChaos":
                assert parts[2] in containers and "/".join(parts[3:]).startswith("/"), where
            else:
                assert kind in CONTAINER_LEVEL or spec["action"] == "container-kill", where
                assert len(parts) == 3 and parts[2] in containers, where
                if spec.get("containerNames"):
                    assert parts[2] in spec["containerNames"], where
                else:
                    assert parts[2] == containers[0], where
                seen["container"] += 1
            if r["selectorKey"] == ".":
                labels = pod["metadata"]["labels"]
                sel = spec["selector"]
                assert pod["metadata"]["namespace"] in sel.get("namespaces", [pod["metadata"]["namespace"]]), where
                assert all(labels.get(k) == v for k, v in sel.get("labelSelectors", {}).items()), where
            else:
                assert r["selectorKey"] == ".Target" and kind == "NetworkChaos", where
    assert seen["pod"] and seen["container"] and seen["machine"], seen


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_failed_applies_explain_themselves(cluster):
    """A record that cannot be injected because its node has no chaos-daemon says so."""
    pods = _pods(cluster)
    daemon_nodes = {
        p["spec"]["nodeName"]
        for p in load(cluster, "pods")
        if p["metadata"]["labels"].get("app.kubernetes.io/component") == "chaos-daemon"
    }
    hits = 0
    for obj in experiments(cluster):
        for r in obj["status"]["experiment"].get("containerRecords", []):
            for e in r.get("events", []):
                if e["type"] == "Failed" and e["message"].startswith("cannot find daemonIP on node "):
                    ns, name = r["id"].split("/")[:2]
                    node = pods[(ns, name)]["spec"]["nodeName"]
                    assert e["message"] == f"cannot find daemonIP on node {node}"
                    assert node not in daemon_nodes
                    hits += 1
    assert hits


def needs_daemon(obj: dict) -> bool:
    if obj["kind"] == "PodChaos":
        return obj["spec"]["action"] == "container-kill"
    return obj["kind"] not in ("PhysicalMachineChaos", "AWSChaos")


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_nothing_injected_without_chaos_daemon(cluster):
    """Chaos that goes through chaos-daemon never succeeds on a node that has none."""
    pods = _pods(cluster)
    daemon_nodes = {
        p["spec"]["nodeName"]
        for p in load(cluster, "pods")
        if p["metadata"]["labels"].get("app.kubernetes.io/component") == "chaos-daemon"
    }
    for obj in experiments(cluster):
        if not needs_daemon(obj):
            continue
        for r in obj["status"]["experiment"].get("containerRecords", []):
            ns, name = r["id"].split("/")[:2]
            if pods[(ns, name)]["spec"]["nodeName"] not in daemon_nodes:
                assert r["phase"] == "Not Injected" and r["injectedCount"] == 0, (obj["metadata"]["name"], r["id"])
                assert all(e["type"] == "Failed" for e in r.get("events", []))


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_pods_and_nodes(cluster):
    nodes = {n["metadata"]["name"]: n for n in load(cluster, "nodes")}
    for n in nodes.values():
        ready = [c for c in n["status"]["conditions"] if c["type"] == "Ready"]
        assert ready and ready[0]["status"] == "True"
        assert any(a["type"] == "InternalIP" for a in n["status"]["addresses"])
        assert {"cpu", "memory", "pods"} <= set(n["status"]["capacity"])
    daemons = Counter()
    for p in load(cluster, "pods"):
        assert p["spec"]["nodeName"] in nodes
        assert p["status"]["phase"] == "Running"
        labels = p["metadata"]["labels"]
        if labels.get("app.kubernetes.io/component") == "chaos-daemon":
            assert p["metadata"]["namespace"] == "chaos-mesh"
            daemons[p["spec"]["nodeName"]] += 1
        elif p["metadata"]["namespace"] != "chaos-mesh":
            assert "app" in labels
    assert all(v == 1 for v in daemons.values())
    assert len(nodes) // 2 < len(daemons) < len(nodes)  # most, but not all, nodes


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_uids_unique_and_owners_resolve(cluster):
    everything = [o for res in list(EXPERIMENT_FILES) + list(OTHER_FILES) for o in load(cluster, res)]
    uids = Counter(o["metadata"]["uid"] for o in everything)
    assert max(uids.values()) == 1
    names = Counter((o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in everything)
    assert max(names.values()) == 1
    by_uid = {o["metadata"]["uid"]: o for o in chaos_mesh_objects(cluster)}
    for obj in chaos_mesh_objects(cluster):
        for ref in obj["metadata"].get("ownerReferences", []):
            owner = by_uid.get(ref["uid"])
            assert owner is not None, obj["metadata"]["name"]
            assert (owner["kind"], owner["metadata"]["name"]) == (ref["kind"], ref["name"])
            assert owner["metadata"]["namespace"] == obj["metadata"]["namespace"]
            assert ref["controller"] is True
            labels = obj["metadata"].get("labels", {})
            if ref["kind"] == "Schedule" and obj["kind"] != "Schedule":
                assert labels == {"managed-by": ref["name"]}
                assert obj["kind"] == owner["spec"]["type"]
            elif ref["kind"] in ("Workflow", "WorkflowNode"):
                assert labels["chaos-mesh.org/controlled-by"] == ref["name"]
                assert "chaos-mesh.org/workflow" in labels


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_schedules_and_workflows(cluster):
    exps = experiments(cluster)
    children = Counter(o["metadata"]["ownerReferences"][0]["uid"] for o in exps if o["metadata"].get("ownerReferences"))
    for s in load(cluster, "schedules"):
        active = s["status"].get("active", [])
        assert len(active) == children[s["metadata"]["uid"]]
        assert len(active) <= s["spec"].get("historyLimit", 1)
    assert any(children[s["metadata"]["uid"]] for s in load(cluster, "schedules"))
    wf_nodes = load(cluster, "workflownodes")
    wf_children = [
        o for o in exps if any(r["kind"] == "WorkflowNode" for r in o["metadata"].get("ownerReferences", []))
    ]
    assert wf_children
    for wf in load(cluster, "workflows"):
        entry = wf["status"]["entryNode"]
        assert any(
            n["metadata"]["name"] == entry and n["spec"]["workflowName"] == wf["metadata"]["name"] for n in wf_nodes
        )
    for n in wf_nodes:
        res = n["status"].get("chaosResource")
        if res and any(c["type"] == "ChaosInjected" and c["status"] == "True" for c in n["status"]["conditions"]):
            files = (
                "schedules"
                if res["kind"] == "Schedule"
                else next(f for f, k in EXPERIMENT_FILES.items() if k == res["kind"])
            )
            assert any(o["metadata"]["name"] == res["name"] for o in load(cluster, files)), res


KNOWN_REASONS = {
    # controllers/utils/recorder (chaos-mesh v2.8)
    "FinalizerInited",
    "Started",
    "Applied",
    "Recovered",
    "Paused",
    "Updated",
    "Failed",
    "TimeUp",
    "Deleted",
    "Spawned",
    "EntryCreated",
    "NodesCreated",
    "ChaosCRCreated",
    "ChaosCRDeleted",
    "NodeDeadlineExceed",
    "NodeAccomplished",
    "WorkflowAccomplished",
}


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_events_point_at_chaos_objects(cluster):
    objects = {(o["kind"], o["metadata"]["namespace"], o["metadata"]["name"]): o for o in chaos_mesh_objects(cluster)}
    reasons = Counter()
    for ev in load(cluster, "events"):
        io = ev["involvedObject"]
        assert io["apiVersion"] == GROUP
        obj = objects.get((io["kind"], io["namespace"], io["name"]))
        assert obj is not None, io
        assert obj["metadata"]["uid"] == io["uid"]
        assert ev["metadata"]["namespace"] == io["namespace"]
        assert ev["type"] in ("Normal", "Warning")
        assert ev["reason"] in KNOWN_REASONS, ev["reason"]
        assert (ev["type"] == "Warning") == (ev["reason"] == "Failed")
        assert ev["firstTimestamp"] == ev["lastTimestamp"]
        assert parse_time(ev["firstTimestamp"]) >= parse_time(obj["metadata"]["creationTimestamp"])
        reasons[ev["reason"]] += 1
    for r in (
        "FinalizerInited",
        "Started",
        "Applied",
        "Recovered",
        "Paused",
        "Updated",
        "Failed",
        "TimeUp",
        "Deleted",
        "Spawned",
    ):
        assert reasons[r], f"{cluster}: no {r} event"


_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_metadata_is_what_the_apiserver_accepts(cluster):
    """CRD schemas leave metadata open; the apiserver still checks names and labels."""
    for res in list(EXPERIMENT_FILES) + list(OTHER_FILES):
        for obj in load(cluster, res):
            md = obj["metadata"]
            assert len(md["name"]) <= 253 and _DNS1123_SUBDOMAIN.match(md["name"]), md["name"]
            if res != "events":
                assert len(md["name"]) <= 63 or res == "nodes", md["name"]
            for key, value in md.get("labels", {}).items():
                assert len(value) <= 63 and _LABEL_VALUE.match(value), (md["name"], key, value)
            assert md["resourceVersion"].isdigit() and md["uid"]
            parse_time(md["creationTimestamp"])
