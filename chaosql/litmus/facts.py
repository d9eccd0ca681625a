"""Facts about LitmusChaos, each defined once: its API (group, version, kinds), the names and
values its controllers write, and how chaosql derives a run's phase and verdict from them.

They follow litmuschaos/chaos-operator (``api/litmuschaos/v1alpha1/chaosengine_types.go``,
``chaosresult_types.go``, ``controllers/chaosengine_controller.go``, 3.x) and the ChaosResult
litmus-go writes. One ChaosEngine runs a list of experiments (``spec.experiments[]``); chaosql calls
each of them a *run*: a row of ``experiments``. A run's outcome is in the ChaosResult litmus-go
writes for it, named ``<engine>-<experiment>`` (``-<instance id>`` appended when the experiment's
``INSTANCE_ID`` env is set), in the engine's namespace, labelled ``chaosUID: <engine uid>``.

How a run's phase is derived (``run_phase``), first match wins:

==============  ===================================================================================
phase           when
==============  ===================================================================================
deleting        the ChaosEngine has a deletionTimestamp (the operator is removing its pods)
failed          the run's ChaosResult phase or verdict is Error, or the engine reports the
                experiment as "ChaosExperiment Not Found" (the run could not happen)
finished        the ChaosResult phase is Completed, Completed_With_Error,
                Completed_With_Probe_Failure or Stopped; or the engine's status for the experiment
                is Completed, Forcefully Aborted or Skipped; or engineStatus is completed or stopped
paused          spec.engineState is stop but the engine has not stopped yet (an abort under way)
running         the ChaosResult phase or the engine's status for the experiment is Running
injecting       anything else: initialized, the runner not started or "Waiting for Job Creation"
==============  ===================================================================================

A ChaosResult whose ``chaosUID`` label names another uid was left by an earlier engine of the same
name: it says nothing about this run (its history counts still hold, in ``litmus_results``).
"""

from __future__ import annotations

from typing import Any

from chaosql.sources.groups import ApiGroup

GROUP = "litmuschaos.io"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
#: The value of the engine column for LitmusChaos's rows.
ENGINE = "litmus"
CHAOS_ENGINE, CHAOS_EXPERIMENT, CHAOS_RESULT = "ChaosEngine", "ChaosExperiment", "ChaosResult"
KINDS = frozenset({CHAOS_ENGINE, CHAOS_EXPERIMENT, CHAOS_RESULT})


def _shipped_crds() -> dict:
    from chaosql.crds import litmus_schemas

    return litmus_schemas()


API_GROUP = ApiGroup(GROUP, VERSION, engine=ENGINE, title="LitmusChaos", kinds=KINDS, shipped=_shipped_crds)

#: spec.engineState (EngineState): stop aborts a run; active (again) restarts it.
ACTIVE, STOP = "active", "stop"
#: status.engineStatus (EngineStatus).
INITIALIZED, COMPLETED, STOPPED = "initialized", "completed", "stopped"
#: status.experiments[].status (ExperimentStatus).
RUNNING = "Running"
EXPERIMENT_COMPLETED = "Completed"
WAITING = "Waiting for Job Creation"
NOT_FOUND = "ChaosExperiment Not Found"
ABORTED = "Forcefully Aborted"
SKIPPED = "Skipped"
#: ChaosResult status.experimentStatus.phase (ResultPhase) values that end a run.
ERROR = "Error"
FINISHED_RESULT_PHASES = frozenset({"Completed", "Completed_With_Error", "Completed_With_Probe_Failure", "Stopped"})
#: ChaosResult verdicts (ResultVerdict).
VERDICTS = ("Pass", "Fail", "Stopped", "Awaited", "Error")
#: status.history.targets[].chaosStatus: the target was picked, chaos injected, chaos reverted.
TARGETED, INJECTED, REVERTED = "targeted", "injected", "reverted"

#: Label litmus-go puts on a ChaosResult: the uid of the ChaosEngine whose run wrote it.
CHAOS_UID_LABEL = "chaosUID"
#: The finalizer the operator puts on a ChaosEngine while its chaos resources exist.
FINALIZER = "chaosengine.litmuschaos.io/finalizer"
#: Experiment env vars chaosql reads: the result name's instance id, the chaos duration (seconds).
INSTANCE_ID_ENV, DURATION_ENV = "INSTANCE_ID", "TOTAL_CHAOS_DURATION"


def experiments(engine: dict) -> list[dict]:
    """``spec.experiments[]`` of a ChaosEngine (entries that are not objects are left out)."""
    found = _dict(engine.get("spec")).get("experiments")
    return [e for e in found if isinstance(e, dict)] if isinstance(found, list) else []


def env(experiment: dict, name: str) -> str | None:
    """The value an engine's experiment entry gives env var ``name`` (spec.components.env)."""
    components = _dict(_dict(experiment.get("spec")).get("components"))
    for item in components.get("env") or ():
        if isinstance(item, dict) and item.get("name") == name and item.get("value") is not None:
            return str(item["value"])
    return None


def result_name(engine: str, experiment: str, instance_id: str | None = None) -> str:
    """The name litmus-go gives the ChaosResult of ``experiment`` run by ``engine``.

    >>> result_name("nginx-chaos", "pod-delete"), result_name("e", "pod-delete", "7")
    ('nginx-chaos-pod-delete', 'e-pod-delete-7')
    """
    return f"{engine}-{experiment}" + (f"-{instance_id}" if instance_id else "")


def result_of(engine: dict, experiment: dict, lookup: Any) -> dict | None:
    """The ChaosResult of this run: ``lookup(kind, namespace, name)`` finds it by its name; one
    left by an earlier engine of the same name (another ``chaosUID``) is not this run's."""
    meta = _dict(engine.get("metadata"))
    name = str(experiment.get("name") or "")
    found = lookup(
        CHAOS_RESULT,
        meta.get("namespace") or "",
        result_name(meta.get("name") or "", name, env(experiment, INSTANCE_ID_ENV)),
    )
    if not isinstance(found, dict):
        return None
    spec = _dict(found.get("spec"))
    if spec.get("experiment") not in (None, name) or spec.get("engine") not in (None, meta.get("name")):
        return None
    uid = (_dict(_dict(found.get("metadata")).get("labels"))).get(CHAOS_UID_LABEL)
    if uid and meta.get("uid") and uid != meta.get("uid"):
        return None
    return found


def status_entry(engine: dict, experiment: str) -> dict:
    """The engine's ``status.experiments[]`` entry for ``experiment`` ({} before the runner wrote it)."""
    for entry in _dict(engine.get("status")).get("experiments") or ():
        if isinstance(entry, dict) and entry.get("name") == experiment:
            return entry
    return {}


def result_status(result: dict | None) -> dict:
    """A ChaosResult's ``status.experimentStatus`` ({} when there is none)."""
    return _dict(_dict(_dict(result).get("status")).get("experimentStatus"))


def stop_asked(engine: dict) -> bool:
    """Whether someone asked the engine to stop: engineState stop, except the operator's own
    stop on completion (it sets engineState stop with engineStatus completed)."""
    spec, status = _dict(engine.get("spec")), _dict(engine.get("status"))
    return spec.get("engineState") == STOP and status.get("engineStatus") != COMPLETED


def run_phase(engine: dict, entry: dict, result: dict | None) -> str:
    """The phase of one run (see the module doc), from the engine, its status entry for the
    experiment and the run's ChaosResult.

    >>> run_phase({"spec": {"engineState": "active"}, "status": {"engineStatus": "initialized"}}, {}, None)
    'injecting'
    >>> run_phase({"status": {"engineStatus": "completed"}}, {"status": "Completed"}, {"status": {"experimentStatus": {"phase": "Completed"}}})
    'finished'
    >>> run_phase({"spec": {"engineState": "stop"}, "status": {"engineStatus": "initialized"}}, {"status": "Running"}, None)
    'paused'
    """
    if _dict(engine.get("metadata")).get("deletionTimestamp"):
        return "deleting"
    outcome = result_status(result)
    status = entry.get("status")
    if ERROR in (outcome.get("phase"), outcome.get("verdict")) or status == NOT_FOUND:
        return "failed"
    engine_status = _dict(engine.get("status")).get("engineStatus")
    if (
        outcome.get("phase") in FINISHED_RESULT_PHASES
        or status in (EXPERIMENT_COMPLETED, ABORTED, SKIPPED)
        or engine_status in (COMPLETED, STOPPED)
    ):
        return "finished"
    if stop_asked(engine):
        return "paused"
    if RUNNING in (outcome.get("phase"), status):
        return "running"
    return "injecting"


def run_verdict(entry: dict, result: dict | None) -> str | None:
    """The run's verdict: its ChaosResult's, else what the engine's status says (None before)."""
    return result_status(result).get("verdict") or entry.get("verdict") or None


def history(result: dict | None) -> dict:
    """A ChaosResult's ``status.history`` ({} when there is none)."""
    return _dict(_dict(_dict(result).get("status")).get("history"))


def targets(result: dict | None) -> list[dict]:
    """``status.history.targets[]`` ({name, kind, chaosStatus}) of a ChaosResult."""
    found = history(result).get("targets")
    return [t for t in found if isinstance(t, dict)] if isinstance(found, list) else []


def percent(value: Any) -> float | None:
    """probeSuccessPercentage as a number ("100", older "75%"); None for "Awaited" or nothing.

    >>> percent("100"), percent("75%"), percent("Awaited"), percent(None)
    (100.0, 75.0, None, None)
    """
    if value is None:
        return None
    try:
        return float(str(value).strip().removesuffix("%"))
    except ValueError:
        return None


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}
