"""Chaos Mesh's admission webhook rules, checked offline before anything is written.

The CRD schema lets through values Chaos Mesh's webhook then refuses (or its controller fails on):
a ``duration: banana``, a ``fixed-percent`` mode with value 150, a ``container-kill`` without
container names. A snapshot directory (GitOps) has no webhook at all. The rules here follow the
``Validate`` methods in chaos-mesh/chaos-mesh ``api/v1alpha1/*_webhook.go`` (field formats come
from ``chaosql.crds.chaos_mesh``). Two rules are chaosql's own, marked so in their messages:

* a pod selector must name something: Chaos Mesh fills an empty selector with the object's own
  namespace, so ``{}`` silently means every pod there;
* a NetworkChaos (or BlockChaos) action needs its parameters (``delay`` needs ``delay.latency``):
  Chaos Mesh accepts the object and fails when injecting.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from chaosql.crds import chaos_mesh as facts
from chaosql.sources.chaosmesh import GROUP, SCHEDULE, WORKFLOW, go_duration_ns, is_experiment_kind
from chaosql.writers.validate import Path, Problem

Check = Callable[[dict, Path], Iterator[Problem]]


def problems(obj: dict) -> list[Problem]:
    """The webhook's objections to ``obj`` (empty for kinds that are not Chaos Mesh's)."""
    if str(obj.get("apiVersion") or "").split("/")[0] != GROUP:
        return []
    kind = str(obj.get("kind") or "")
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return []
    if kind == SCHEDULE:
        return list(schedule(spec, ("spec",)))
    if kind == WORKFLOW:
        return list(workflow(spec, ("spec",)))
    if is_experiment_kind(kind):
        return list(experiment(kind, spec, ("spec",)))
    return []


# --- every experiment kind -----------------------------------------------------------------------


def experiment(kind: str, spec: dict, at: Path) -> Iterator[Problem]:
    """The rules for an experiment spec of ``kind`` found at ``at`` (an object's spec, or the
    template a Schedule or Workflow embeds)."""
    for dotted, fmt in facts.field_formats(kind).items():
        path = tuple(dotted.split("."))
        value = _at(spec, path)
        if value is not None:
            message = FORMATS[fmt](value)
            if message:
                yield Problem(at + path, message)
    yield from _mode_value(spec, at)
    if isinstance(spec.get("target"), dict):
        yield from _mode_value(spec["target"], (*at, "target"))
    if kind != "PhysicalMachineChaos" and isinstance(spec.get("selector"), dict):
        yield from _selector(spec["selector"], (*at, "selector"))
    rule = KIND_RULES.get(kind)
    if rule is not None:
        yield from rule(spec, at)


def _mode_value(spec: dict, at: Path) -> Iterator[Problem]:
    """PodSelector.Validate: fixed needs a count above 0, the percent modes a percent in (0, 100]."""
    mode, value = spec.get("mode"), spec.get("value")
    if mode not in facts.MODES_WITH_COUNT | facts.MODES_WITH_PERCENT:
        return
    number = _int(value)
    if number is None:
        yield Problem((*at, "value"), f"mode {mode} needs value: a whole number, got {_show(value)}")
    elif mode in facts.MODES_WITH_COUNT and number <= 0:
        yield Problem((*at, "value"), f"mode {mode} needs a value above 0, got {number}")
    elif mode in facts.MODES_WITH_PERCENT and not 0 < number <= 100:
        yield Problem((*at, "value"), f"mode {mode} needs a percent in (0, 100], got {number}")


#: Selector fields that narrow what is selected (a phase alone does not: every running pod matches).
SELECTING: tuple[str, ...] = ("namespaces", "labelSelectors", "annotationSelectors", "fieldSelectors")
SELECTING += ("expressionSelectors", "nodeSelectors", "nodes", "pods", "physicalMachines")


def _selector(selector: dict, at: Path) -> Iterator[Problem]:
    if not any(selector.get(key) for key in SELECTING):
        yield Problem(
            at,
            "selects nothing explicitly, and Chaos Mesh would then target every pod of the object's "
            "namespace (chaosql's rule); name the targets, e.g. selector namespaces or label selectors",
        )


# --- field formats (webhook:"..." tags) ----------------------------------------------------------


def _duration(value: Any) -> str | None:
    if value == "":
        return None  # the webhook allows an empty duration (zero)
    if isinstance(value, str) and go_duration_ns(value) is not None:
        return None
    return f"{_show(value)} is not a duration: a number and a unit, e.g. 100ms, 1.5s, 2m30s (ns, us, ms, s, m, h)"


def _float_string(value: Any) -> str | None:
    if _float(value) is None:
        return f"{_show(value)} is not a number"
    return None


def _percent_string(value: Any) -> str | None:
    if value == "":
        return None
    number = _float(value)
    if number is None or not 0 <= number <= 100:
        return f"{_show(value)} is not a percent from 0 to 100"
    return None


def _percent(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool) and not 0 <= value <= 100:
        return f"{value} is not a percent from 0 to 100"
    return None


_RATE = re.compile(r"\s*\d+\s*(kbit|mbit|gbit|tbit|tbps|gbps|mbps|kbps|bps|bit)")


def _rate(value: Any) -> str | None:
    if isinstance(value, str) and _RATE.fullmatch(value.strip().lower()):
        return None
    return f"{_show(value)} is not a rate: a whole number and a unit (bit, kbit, mbit, gbit, tbit, bps, kbps, mbps, gbps, tbps)"


_SIZE = re.compile(r"\d+(\.\d+)* ?[kKmMgGtTpP]?[iI]?[bB]?")


def _bytes(value: Any) -> str | None:
    if value == "":
        return None
    if isinstance(value, str) and value.endswith("%"):
        number = _int(value[:-1])
        if number is not None and 0 <= number <= 100:
            return None
    elif isinstance(value, str) and _SIZE.fullmatch(value):
        return None
    return f"{_show(value)} is not a size: e.g. 256MB, 1GiB, or a percent of memory such as 50%"


FORMATS: dict[str, Callable[[Any], str | None]] = {
    facts.DURATION: _duration,
    facts.FLOAT_STRING: _float_string,
    facts.PERCENT_STRING: _percent_string,
    facts.PERCENT: _percent,
    facts.RATE: _rate,
    facts.BYTES: _bytes,
}


# --- rules of one kind ---------------------------------------------------------------------------


def _pod_chaos(spec: dict, at: Path) -> Iterator[Problem]:
    if spec.get("action") == "container-kill" and not spec.get("containerNames"):
        yield Problem((*at, "containerNames"), "action container-kill needs the names of the containers to kill")


#: NetworkChaos action -> the parameter it cannot do without (chaosql's rule: the controller fails without).
NETWORK_ACTION_NEEDS = {
    "delay": ("delay", "latency"),
    "loss": ("loss", "loss"),
    "duplicate": ("duplicate", "duplicate"),
    "corrupt": ("corrupt", "corrupt"),
    "bandwidth": ("bandwidth", "rate"),
}


def _network_chaos(spec: dict, at: Path) -> Iterator[Problem]:
    action = spec.get("action")
    needed = NETWORK_ACTION_NEEDS.get(str(action))
    if needed and not isinstance(spec.get(needed[0]), dict):
        yield Problem((*at, *needed), f"is required by action {action} (chaosql's rule: Chaos Mesh fails without it)")
    if action == "partition":
        return
    direction = spec.get("direction") or "to"
    if direction in ("from", "both"):
        if spec.get("externalTargets") is not None:
            yield Problem(
                (*at, "direction"), "external targets cannot be used with direction from or both in netem actions"
            )
        if spec.get("target") is None:
            yield Problem((*at, "direction"), "direction from or both needs a target (spec.target) in netem actions")


def _stress_chaos(spec: dict, at: Path) -> Iterator[Problem]:
    stressors = spec.get("stressors")
    if not spec.get("stressngStressors") and not stressors:
        yield Problem((*at, "stressors"), "missing stressors: set a cpu or memory stressor (or stressngStressors)")
        return
    if isinstance(stressors, dict):
        if not stressors.get("cpu") and not stressors.get("memory"):
            yield Problem((*at, "stressors"), "missing stressors: set a cpu or memory stressor")
        for name in ("cpu", "memory"):
            stressor = stressors.get(name)
            if isinstance(stressor, dict) and (_int(stressor.get("workers")) or 0) <= 0:
                yield Problem((*at, "stressors", name, "workers"), "workers should always be positive")


def _block_chaos(spec: dict, at: Path) -> Iterator[Problem]:
    if spec.get("action") == "delay" and not isinstance(spec.get("delay"), dict):
        yield Problem((*at, "delay", "latency"), "is required by action delay")


def _io_chaos(spec: dict, at: Path) -> Iterator[Problem]:
    if spec.get("action") == "fault" and not spec.get("errno"):
        yield Problem((*at, "errno"), "action fault needs an errno other than 0")


_HTTP_METHODS = {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "CONNECT"}


def _http_chaos(spec: dict, at: Path) -> Iterator[Problem]:
    port = spec.get("port")
    if isinstance(port, int) and not isinstance(port, bool) and port <= 0:
        yield Problem((*at, "port"), f"port {port} is not supported: it must be above 0")
    method = spec.get("method")
    if method is not None and spec.get("target") == "Request" and method not in _HTTP_METHODS:
        yield Problem((*at, "method"), f"method {method} is not supported; one of: {', '.join(sorted(_HTTP_METHODS))}")


def _jvm_chaos(spec: dict, at: Path) -> Iterator[Problem]:
    action = spec.get("action")
    if action == "stress":
        if not spec.get("cpuCount") and not spec.get("memType"):
            yield Problem(at, "action stress needs one of cpuCount and memType")
        elif spec.get("cpuCount") and spec.get("memType"):
            yield Problem(at, "action stress cannot stress both CPU and memory")
    elif action in ("exception", "return", "latency"):
        for key in ("class", "method"):
            if not spec.get(key):
                yield Problem((*at, key), f"action {action} needs {key}")
        needs = {"exception": "exception", "return": "value", "latency": "latency"}[action]
        if not spec.get(needs):
            yield Problem((*at, needs), f"action {action} needs {needs}")
    elif action == "ruleData" and not spec.get("ruleData"):
        yield Problem((*at, "ruleData"), "action ruleData needs ruleData")
    elif action == "mysql":
        if spec.get("mysqlConnectorVersion") not in ("5", "8"):
            yield Problem((*at, "mysqlConnectorVersion"), "the MySQL connector version must be 5 or 8")
        if not spec.get("exception") and not spec.get("latency"):
            yield Problem(at, "action mysql needs one of exception and latency")


def _needs_on(action: str, fields: tuple[str, ...], what: str) -> Check:
    def check(spec: dict, at: Path) -> Iterator[Problem]:
        if spec.get("action") == action:
            for key in fields:
                if spec.get(key) is None:
                    yield Problem((*at, key), f"action {action} needs {what}")

    return check


def _physical_machine_chaos(spec: dict, at: Path) -> Iterator[Problem]:
    action = spec.get("action")
    if action and spec.get(action) is None:
        yield Problem((*at, str(action)), f"action {action} needs its configuration (spec.{action})")
    selector = spec.get("selector")
    selects = isinstance(selector, dict) and any(selector.get(key) for key in SELECTING)
    if not spec.get("address") and not selects:
        yield Problem((*at, "address"), "one of address or selector should be specified")
    elif spec.get("address") and selects:
        yield Problem((*at, "address"), "only one of address or selector may be specified")


KIND_RULES: dict[str, Check] = {
    "PodChaos": _pod_chaos,
    "NetworkChaos": _network_chaos,
    "StressChaos": _stress_chaos,
    "BlockChaos": _block_chaos,
    "IOChaos": _io_chaos,
    "HTTPChaos": _http_chaos,
    "JVMChaos": _jvm_chaos,
    "AWSChaos": _needs_on("detach-volume", ("volumeID", "deviceName"), "the EBS volume ID and the device name"),
    "GCPChaos": _needs_on("disk-loss", ("deviceNames",), "at least one device name"),
    "AzureChaos": _needs_on("disk-detach", ("diskName", "lun"), "the data disk's name and LUN"),
    "PhysicalMachineChaos": _physical_machine_chaos,
}


# --- Schedule and Workflow -----------------------------------------------------------------------

_CRON_DESCRIPTORS = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
_CRON_FIELD = re.compile(r"[0-9A-Za-z*?/,\-]+")


def cron_problem(text: Any) -> str | None:
    """Why ``text`` is not a schedule Chaos Mesh's cron parser (robfig/cron, standard) reads.

    >>> cron_problem("@every 5m"), cron_problem("*/5 * * * *"), cron_problem("CRON_TZ=UTC 0 3 * * 1")
    (None, None, None)
    >>> cron_problem("every day")
    "'every day' is not a schedule: five cron fields (e.g. */5 * * * *), @hourly, @daily, ... or @every 5m"
    """
    if isinstance(text, str):
        body = re.sub(r"^(CRON_TZ|TZ)=\S+\s+", "", text.strip())
        if body in _CRON_DESCRIPTORS:
            return None
        if body.startswith("@every "):
            ns = go_duration_ns(body[7:].strip())
            if ns is not None and ns > 0:
                return None
        fields = body.split()
        if len(fields) == 5 and all(_CRON_FIELD.fullmatch(f) for f in fields):
            return None
    return f"{_show(text)} is not a schedule: five cron fields (e.g. */5 * * * *), @hourly, @daily, ... or @every 5m"


def schedule(spec: dict, at: Path) -> Iterator[Problem]:
    message = cron_problem(spec.get("schedule"))
    if message:
        yield Problem((*at, "schedule"), message)
    kind = spec.get("type")
    if not isinstance(kind, str) or kind == "Workflow":
        if kind == "Workflow" and isinstance(spec.get("workflow"), dict):
            yield from workflow(spec["workflow"], (*at, "workflow"))
        return
    key = _embed_key(kind, SCHEDULE)
    embedded = spec.get(key) if key else None
    if not isinstance(embedded, dict):
        yield Problem((*at, key or kind), f"type {kind} needs its template (spec.{key or kind})")
        return
    yield from experiment(kind, embedded, (*at, key))


def workflow(spec: dict, at: Path) -> Iterator[Problem]:
    templates = spec.get("templates") or []
    names = [t.get("name") for t in templates if isinstance(t, dict)]
    entry = spec.get("entry")
    if not templates:
        yield Problem((*at, "templates"), "a workflow needs at least one template")
    if not entry:
        yield Problem((*at, "entry"), "the entry of the workflow is required")
    elif entry not in names:
        yield Problem((*at, "entry"), f"no template is named {entry!r}")
    twice = sorted({n for n in names if names.count(n) > 1 and n})
    if twice:
        yield Problem((*at, "templates"), f"template names must be unique: {', '.join(twice)}")
    for i, template in enumerate(templates):
        if isinstance(template, dict):
            yield from _template(template, names, (*at, "templates", i))


def _template(template: dict, names: list, at: Path) -> Iterator[Problem]:
    deadline = template.get("deadline")
    message = _duration(deadline) if deadline is not None else None
    if message:
        yield Problem((*at, "deadline"), message)
    kind = template.get("templateType")
    if kind == "Suspend" and not deadline:
        yield Problem((*at, "deadline"), "a Suspend template needs a deadline")
    if kind in ("Serial", "Parallel"):
        for j, child in enumerate(template.get("children") or []):
            if child not in names:
                yield Problem((*at, "children", j), f"no template is named {child!r}")
    if isinstance(kind, str) and is_experiment_kind(kind):
        key = _embed_key(kind, WORKFLOW)
        embedded = template.get(key) if key else None
        if not isinstance(embedded, dict):
            yield Problem((*at, key or kind), f"a {kind} template needs its spec")
            return
        if embedded.get("duration") is not None:
            yield Problem(
                (*at, key, "duration"), "set no duration in a workflow's chaos template: use the template's deadline"
            )
        yield from experiment(kind, embedded, (*at, key))


# --- helpers -----------------------------------------------------------------------------------


def _embed_key(kind: str, parent: str) -> str | None:
    """Where a Schedule (or a Workflow template) holds a ``kind`` spec, from the shipped CRD."""
    from chaosql.crds import chaos_mesh_schemas

    crd = chaos_mesh_schemas().get(parent)
    props = (crd.spec.get("properties") or {}) if crd else {}
    if parent == WORKFLOW:
        props = ((props.get("templates") or {}).get("items") or {}).get("properties") or {}
    return facts.embed_key(kind, props)


def _at(obj: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _int(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value.strip()):
        return int(value)
    return None


def _float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value) if isinstance(value, (int, float, str)) else None
    except ValueError:
        return None


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)
