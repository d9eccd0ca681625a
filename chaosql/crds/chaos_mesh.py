"""What Chaos Mesh's Go types say about spec fields that its CRD schemas do not.

The CRD types many values as plain strings that Chaos Mesh's admission webhook then parses: each
such Go field carries a ``webhook:"<Type>"`` struct tag (``api/v1alpha1/*_types.go``) and the type's
``Validate`` method (``api/v1alpha1/*_webhook.go``) says what it accepts. chaosql reads those
fields as typed columns (a duration as INTERVAL, a float string as DOUBLE) and checks them before
writing (``chaosql.writers.webhook``). Paths are relative to the experiment's spec, so they hold
where a Schedule or a Workflow template embeds the same spec. Source: chaos-mesh/chaos-mesh at the
commit named in ``chaosql/crds/README.md``; update both together.
"""

from __future__ import annotations

#: A Go duration (``time.ParseDuration``): webhook types Duration, Delay and TimeOffset.
DURATION = "duration"
#: A number written as a string (webhook type FloatStr: ``strconv.ParseFloat``).
FLOAT_STRING = "float-string"
#: A number from 0 to 100 written as a string (PhysicalMachineChaos' ``CheckPercent``).
PERCENT_STRING = "percent-string"
#: An integer from 0 to 100 (webhook type Percent).
PERCENT = "percent"
#: A bandwidth such as ``1mbps`` (webhook type Rate: a number and a tc unit).
RATE = "rate"
#: A size such as ``256MB`` or ``50%`` (webhook type Bytes: go-units' FromHumanSize, or a percent).
BYTES = "bytes"

_NETWORK = {
    "delay.latency": DURATION,
    "delay.jitter": DURATION,
    "delay.correlation": FLOAT_STRING,
    "delay.reorder.reorder": FLOAT_STRING,
    "delay.reorder.correlation": FLOAT_STRING,
    "loss.loss": FLOAT_STRING,
    "loss.correlation": FLOAT_STRING,
    "duplicate.duplicate": FLOAT_STRING,
    "duplicate.correlation": FLOAT_STRING,
    "corrupt.corrupt": FLOAT_STRING,
    "corrupt.correlation": FLOAT_STRING,
    "bandwidth.rate": RATE,
    "rate.rate": RATE,
}

#: kind -> {dotted path in its spec: format}. ``duration`` (webhook:"Duration") is every
#: experiment kind's and is added by ``field_formats``.
FIELD_FORMATS: dict[str, dict[str, str]] = {
    "NetworkChaos": _NETWORK,
    "BlockChaos": {"delay.latency": DURATION, "delay.jitter": DURATION, "delay.correlation": FLOAT_STRING},
    "IOChaos": {"delay": DURATION, "percent": PERCENT},
    "HTTPChaos": {"delay": DURATION},
    "TimeChaos": {"timeOffset": DURATION},
    "StressChaos": {"stressors.memory.size": BYTES},
    # chaosd's own specs, checked by PhysicalMachineChaos' webhook or parsed by chaosd as durations
    "PhysicalMachineChaos": {
        "network-delay.latency": DURATION,
        "network-delay.jitter": DURATION,
        "network-delay.correlation": PERCENT_STRING,
        "network-loss.percent": PERCENT_STRING,
        "network-loss.correlation": PERCENT_STRING,
        "network-duplicate.percent": PERCENT_STRING,
        "network-duplicate.correlation": PERCENT_STRING,
        "network-corrupt.percent": PERCENT_STRING,
        "network-corrupt.correlation": PERCENT_STRING,
        "network-down.duration": DURATION,
    },
}

#: Kinds whose spec has no ``duration`` field tagged as a Go duration (not experiments).
_NO_DURATION = frozenset({"Schedule", "Workflow", "WorkflowNode", "PhysicalMachine", "RemoteCluster"})

#: Workflow template fields parsed as Go durations by the workflow controller.
TEMPLATE_FORMATS = {"deadline": DURATION}

#: ``spec.mode`` values and what ``spec.value`` must then be (webhook: PodSelector.Validate).
MODES_WITH_COUNT = frozenset({"fixed"})
MODES_WITH_PERCENT = frozenset({"fixed-percent", "random-max-percent"})


def field_formats(kind: str) -> dict[str, str]:
    """{dotted spec path: format} of ``kind`` (an experiment kind, or StatusCheck)."""
    formats = dict(FIELD_FORMATS.get(kind, {}))
    if kind not in _NO_DURATION:
        formats.setdefault("duration", DURATION)
    return formats


def embed_key(kind: str, properties: dict) -> str | None:
    """The property under which a Schedule or Workflow template embeds ``kind``'s spec
    (``networkChaos``, ``physicalmachineChaos``): the one whose name is the kind's, ignoring case.

    >>> embed_key("PhysicalMachineChaos", {"physicalmachineChaos": {}, "podChaos": {}})
    'physicalmachineChaos'
    """
    return next((key for key in properties if key.lower() == kind.lower()), None)
